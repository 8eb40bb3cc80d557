/*
 * Client sessions: read and parse each request with proto (the node's
 * parser), answer what the proxy knows itself (version, stats, mn, the
 * "ringproxy" commands), hand the rest to route.c, and send replies
 * strictly in the order requests arrived, whatever backends they went
 * to. Every request is a `struct preq` in the client's FIFO; replies
 * leave from its head only (client_flush, called by reply.c), a
 * multi-get's values as their turn comes. Reading pauses while too much
 * is in flight or queued for the client (client_output_limit soft); past
 * the hard limit the client is disconnected.
 */
#include "proxy/proxy_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void process(struct client *cl);

/* An input buffer this big is freed once empty, not kept per client. */
#define CLIENT_KEEP_INPUT (64u << 10)

static struct preq *
preq_new(struct client *cl, enum preq_kind kind, enum proto_cmd cmd)
{
    struct preq *r = calloc(1, sizeof(*r));

    if (r == NULL) {
        return NULL;
    }
    r->cl = cl;
    r->w = cl->w;
    r->kind = kind;
    r->cmd = cmd;
    buf_init(&r->err);
    buf_init(&r->dump);
    if (cl->tail != NULL) {
        cl->tail->next = r;
    } else {
        cl->head = r;
    }
    cl->tail = r;
    cl->ninflight++;
    if (kind != PREQ_LOCAL && kind != PREQ_QUIT) {
        r->counted = true;
        CTR_ADD(&cl->w->st.inflight, 1);
    }
    return r;
}

void
preq_free(struct preq *r)
{
    buf_fini(&r->err);
    buf_fini(&r->dump);
    mget_destroy(r->mg);
    pblob_unref(r->val);
    pblob_unref(r->errline);
    free(r);
}

void
preq_account(struct preq *r)
{
    size_t now = 0;

    if (r->cl == NULL) {
        return;
    }
    if (r->mg != NULL) {
        now += mget_held(r->mg);
    }
    if (r->val != NULL) {
        now += r->val->len;
    }
    now += r->dump.len;
    r->cl->held = r->cl->held - r->held + now;
    r->held = now;
}

/* r leaves cl's FIFO (answered, or cl is going): freed now if no backend
 * still owes it a reply, else when the last one answers (reply.c). */
static void
preq_detach(struct client *cl, struct preq *r)
{
    cl->held -= r->held;
    r->held = 0;
    r->cl = NULL;
    if (r->done) {
        preq_free(r);
    }
}

/* Values of 4 KiB and more go by reference; smaller ones are copied and
 * coalesced by net into one write. */
#define CLIENT_REF_MIN 4096
/*
 * NOTE(proxy): a multi-get's values stream to the client once 16 KiB of
 * them are waiting; a smaller reply leaves in one piece when complete.
 * Sending each node's part as it comes costs a write per node per get
 * (measured: 12% more writev calls and 10% more proxy CPU on 10-key gets
 * over 3 nodes) for replies a client reads in one go anyway.
 */
#define CLIENT_STREAM_MIN (16u << 10)

static void
client_write(struct client *cl, const char *p, size_t len)
{
    CTR_ADD(&cl->w->st.bytes_written, len);
    (void)net_conn_write(cl->conn, p, len);
}

/* Send blob v and drop the caller's reference. */
static void
client_write_blob(struct client *cl, struct pblob *v)
{
    if (v->len < CLIENT_REF_MIN) {
        client_write(cl, v->data, v->len);
        pblob_unref(v);
        return;
    }
    CTR_ADD(&cl->w->st.bytes_written, v->len);
    (void)net_conn_write_ref(cl->conn, v->data, v->len, pblob_unref, v);
}

bool
client_send_now(struct preq *r, struct str raw)
{
    struct client *cl = r->cl;

    if (cl == NULL || cl->head != r || cl->flushing || r->failed ||
        (r->kind == PREQ_MULTI && !r->streaming && mget_nsubs(r->mg) > 1) ||
        cl->state == CLIENT_QUITTING || raw.len >= CLIENT_REF_MIN ||
        net_conn_out_pending(cl->conn) > cl->w->ring->set.out_soft) {
        return false;
    }
    client_write(cl, raw.ptr, raw.len);
    return true;
}

/* Bytes the client has not read yet: queued on its socket, and held for
 * replies whose turn has not come. */
static size_t
client_queued(const struct client *cl)
{
    return net_conn_out_pending(cl->conn) + cl->held;
}

/* Room for more output now? Past the soft limit net's high watermark is
 * crossed too, so on_drain (client_drain) brings us back. */
static bool
client_room(struct client *cl)
{
    if (net_conn_out_pending(cl->conn) <= cl->w->ring->set.out_soft) {
        return true;
    }
    net_conn_flush(cl->conn);
    return net_conn_out_pending(cl->conn) <= cl->w->ring->set.out_soft;
}

/* Resume reading once the backlog of waiting requests has shrunk. */
static void
maybe_resume(struct client *cl)
{
    if (cl->state == CLIENT_PAUSED &&
        cl->ninflight < PROXY_CLIENT_INFLIGHT / 2 && !cl->w->draining &&
        client_queued(cl) <= cl->w->ring->set.out_soft / 2) {
        cl->state = CLIENT_READING;
        net_conn_pause_read(cl->conn, false);
        if (cl->in != NULL) {
            process(cl);
        }
    }
}

static void
detach_all(struct client *cl)
{
    struct preq *r, *next;

    for (r = cl->head; r != NULL; r = next) {
        next = r->next;
        preq_detach(cl, r);
    }
    cl->head = cl->tail = NULL;
    cl->ninflight = 0;
}

/*
 * Past the hard client_output_limit: the client does not read what it
 * asked for. Hang up, and drop what was held for it at once.
 */
static void
client_overflow(struct client *cl)
{
    char peer[128];

    net_conn_peer(cl->conn, peer, sizeof(peer));
    log_warn("client %s: %zu reply bytes queued, over client_output_limit "
        "%zu: disconnecting", peer, client_queued(cl),
        cl->w->ring->set.out_hard);
    CTR_ADD(&cl->w->st.out_disconnects, 1);
    cl->state = CLIENT_QUITTING;
    detach_all(cl);
    net_conn_close(cl->conn);
}

/*
 * NOTE(proxy): head-of-line blocking. A backend connection is shared by
 * every client of the worker, so a client that does not read must never
 * make the proxy stop reading a backend: that would stall every other
 * client on the connection. Replies whose turn has not come (a later
 * request's, or a later key's of a multi-get) are held instead, counted
 * per client with the bytes on its socket (client_queued) and bounded by
 * client_output_limit: past soft, the client's requests are not read and
 * nothing more is queued on its socket (values wait as blobs, shared by
 * every occurrence of a key); past hard, it is disconnected and all that
 * was held for it dropped. One client thus costs at most its hard limit
 * plus what its in-flight backend replies bring, and no backend
 * connection is ever paused. A value is held whole (at most
 * item_size_max): it is assembled once in the backend's input buffer and
 * from there copied once, into a blob the client's socket references.
 *
 * Write what r has ready, in order. True when r's reply is complete (it
 * may leave the FIFO); false when it waits for a backend or for room.
 */
static bool
emit(struct client *cl, struct preq *r)
{
    struct pblob *v;

    if (r->kind != PREQ_MULTI || r->failed) {
        if (!r->done && !r->failed) {
            return false;
        }
        if (r->failed) {
            if (r->errline != NULL) {
                client_write_blob(cl, pblob_ref(r->errline));
            } else {
                client_write(cl, "SERVER_ERROR out of memory\r\n", 26);
            }
        } else if (r->val != NULL) {
            client_write_blob(cl, pblob_ref(r->val));
        }
        return true;
    }
    if (!r->done && !r->streaming && mget_held(r->mg) < CLIENT_STREAM_MIN) {
        return false;
    }
    r->streaming = true;
    for (;;) {
        if (!client_room(cl)) {
            return false;
        }
        switch (mget_next(r->mg, &v)) {
        case MGET_NEXT_VALUE:
            if (v != NULL) {
                client_write_blob(cl, v);
            }
            break;
        case MGET_NEXT_WAIT:
            return false;
        default:
            if (!r->done) {
                return false;
            }
            CTR_ADD(&cl->w->st.get_hits, mget_hits(r->mg));
            CTR_ADD(&cl->w->st.get_misses, r->nkeys - mget_hits(r->mg));
            client_write(cl, "END\r\n", 5);
            return true;
        }
    }
}

/* One pass over the head of the queue: send what is ready, in order. */
static void
flush_once(struct client *cl)
{
    struct preq *r;
    bool ok = true;

    while (ok && cl->state != CLIENT_QUITTING && (r = cl->head) != NULL) {
        if (r->kind == PREQ_QUIT) {
            /* Nothing after quit is answered; client_close frees it. */
            cl->state = CLIENT_QUITTING;
            net_conn_close_flush(cl->conn);
            return;
        }
        ok = emit(cl, r);
        preq_account(r);
        if (ok) {
            cl->head = r->next;
            if (cl->head == NULL) {
                cl->tail = NULL;
            }
            cl->ninflight--;
            preq_detach(cl, r);
        }
    }
    if (cl->state != CLIENT_QUITTING &&
        client_queued(cl) > cl->w->ring->set.out_hard) {
        client_overflow(cl);
    }
}

/*
 * NOTE(proxy): net_conn_flush() inside emit() may call on_drain, which
 * flushes again: a nested call only asks the running one to go round
 * once more, so a preq is never emitted or freed under its emitter.
 */
void
client_flush(struct client *cl)
{
    if (cl->flushing) {
        cl->flush_again = true;
        return;
    }
    cl->flushing = true;
    do {
        cl->flush_again = false;
        flush_once(cl);
    } while (cl->flush_again && cl->state != CLIENT_QUITTING);
    cl->flushing = false;
    if (cl->state != CLIENT_QUITTING) {
        maybe_resume(cl);
    }
}

/* A reply made by the proxy itself, in its place in the order. */
static void
client_local(struct client *cl, struct str text)
{
    struct preq *r;

    if (cl->head == NULL) {
        client_write(cl, text.ptr, text.len);
        return;
    }
    r = preq_new(cl, PREQ_LOCAL, PROTO_CMD_NONE);
    if (r != NULL) {
        r->done = true;
        r->val = pblob_create(text.ptr, text.len);
    }
    if (r == NULL || r->val == NULL) {
        /* Out of memory: the order cannot be kept, hang up. */
        net_conn_close(cl->conn);
        return;
    }
    preq_account(r);
}

static void
client_server_error(struct client *cl, const char *why)
{
    struct buf line;

    buf_init(&line);
    CTR_ADD(&cl->w->st.server_errors, 1);
    if (buf_printf(&line, "SERVER_ERROR %s\r\n", why)) {
        client_local(cl, (struct str){ buf_head(&line), line.len });
    } else {
        net_conn_close(cl->conn);
    }
    buf_fini(&line);
}

static void
answer_version(struct client *cl)
{
    char line[128];
    int n = snprintf(line, sizeof(line), "VERSION %s\r\n", proxy_version);

    client_local(cl, (struct str){ line, (size_t)n });
}

static void
answer_stats(struct client *cl, struct str args)
{
    struct buf out;

    buf_init(&out);
    if (admin_stats(cl->w, args, &out)) {
        client_local(cl, (struct str){ buf_head(&out), out.len });
    } else if (out.len == 0) {
        client_local(cl, proto_reply_str(PROTO_REPLY_ERROR));
    } else {
        client_server_error(cl, "out of memory");
    }
    buf_fini(&out);
}

/* A request for the backends: a place in the FIFO (none with noreply),
 * then route.c. */
static void
forward(struct client *cl, const struct proto_req *req)
{
    struct preq *r = NULL;

    if (!req->noreply) {
        r = preq_new(cl, PREQ_SINGLE, req->cmd);
        if (r == NULL) {
            client_server_error(cl, "out of memory");
            return;
        }
    }
    route_request(cl->w, cl->id, r, req);
}

static void
dispatch(struct client *cl, const struct proto_req *req)
{
    struct preq *r;

    switch (req->cmd) {
    case PROTO_CMD_STATS:
        if (req->args.len > 10 &&
            memcmp(req->args.ptr, "cachedump ", 10) == 0) {
            forward(cl, req);   /* every node's keys (route.c) */
        } else {
            answer_stats(cl, req->args);
        }
        break;
    case PROTO_CMD_VERSION:
        answer_version(cl);
        break;
    case PROTO_CMD_VERBOSITY:
        if (!req->noreply) {
            client_local(cl, proto_reply_str(PROTO_REPLY_OK));
        }
        break;
    case PROTO_CMD_QUIT:
        r = preq_new(cl, PREQ_QUIT, req->cmd);
        if (r == NULL) {
            net_conn_close(cl->conn);
            break;
        }
        r->done = true;
        client_flush(cl);
        break;
    case PROTO_CMD_MN:
        /* Replies leave in order: by now every earlier one has. */
        client_local(cl, proto_reply_str(PROTO_REPLY_MN));
        break;
    case PROTO_CMD_SHUTDOWN:
        /* Never forwarded: one client must not stop every node. */
        client_local(cl, proto_reply_str(PROTO_REPLY_SHUTDOWN_OFF));
        break;
    case PROTO_CMD_NONE:
    case PROTO_CMD_COUNT:
        client_local(cl, proto_reply_str(PROTO_REPLY_ERROR));
        break;
    default:
        forward(cl, req);
        break;
    }
}

/* ---- the session -------------------------------------------------------- */

static const char admin_prefix[] = "ringproxy";

/*
 * A proxy command line ("ringproxy ..."): no memcached command starts with
 * that word. Returns true if the front of `in` was one (and answered);
 * false to leave it to the parser. *again: wait for the rest of the line.
 */
static bool
try_admin(struct client *cl, struct buf *in, bool *again)
{
    size_t plen = sizeof(admin_prefix) - 1, scan, len;
    const char *p = buf_head(in), *nl;
    struct buf out;

    *again = false;
    if (in->len < plen + 1 || memcmp(p, admin_prefix, plen) != 0 ||
        (p[plen] != ' ' && p[plen] != '\r' && p[plen] != '\n')) {
        if (in->len <= plen && memcmp(p, admin_prefix, in->len) == 0) {
            *again = true;
        }
        return false;
    }
    scan = in->len < PROTO_DEFAULT_MAX_KEY_LINE ? in->len :
        PROTO_DEFAULT_MAX_KEY_LINE;
    nl = memchr(p, '\n', scan);
    if (nl == NULL) {
        *again = scan == in->len;
        return false;       /* too long: the parser refuses it */
    }
    len = (size_t)(nl - p);
    buf_init(&out);
    if (admin_command(cl->w, (struct str){ p, len > 0 && p[len - 1] == '\r' ?
        len - 1 : len }, &out)) {
        client_local(cl, (struct str){ buf_head(&out), out.len });
    } else {
        client_local(cl, proto_reply_str(PROTO_REPLY_ERROR));
    }
    buf_fini(&out);
    buf_consume(in, len + 1);
    return true;
}

/* A request the parser refused: answer as the node would, skip it. */
static void
refuse(struct client *cl, const struct proto_req *req, struct buf *in,
    size_t used)
{
    CTR_ADD(&cl->w->st.client_errors, 1);
    route_too_large(cl->w, cl->id, req);
    if (!req->noreply) {
        client_local(cl, proto_reply_str(req->err));
    }
    if (used > in->len) {
        cl->skip = used - in->len;
        buf_consume(in, in->len);
    } else {
        buf_consume(in, used);
    }
}

static void
fatal(struct client *cl, const struct proto_req *req, struct buf *in)
{
    struct preq *r;

    CTR_ADD(&cl->w->st.client_errors, 1);
    client_local(cl, proto_reply_str(req->err));
    buf_consume(in, in->len);
    r = preq_new(cl, PREQ_QUIT, PROTO_CMD_QUIT);
    if (r == NULL) {
        net_conn_close(cl->conn);
        return;
    }
    r->done = true;
    client_flush(cl);
}

static bool
can_read(struct client *cl)
{
    if (cl->state == CLIENT_QUITTING || net_conn_closing(cl->conn)) {
        return false;
    }
    /* Too many requests waiting for backends, replies the client does not
     * read, or shutting down: parse no more until that changes. */
    if (cl->ninflight >= PROXY_CLIENT_INFLIGHT || cl->w->draining ||
        client_queued(cl) > cl->w->ring->set.out_soft) {
        if (cl->state != CLIENT_PAUSED) {
            cl->state = CLIENT_PAUSED;
            CTR_ADD(&cl->w->st.paused, 1);
            net_conn_pause_read(cl->conn, true);
        }
        return false;
    }
    return true;
}

static void
process(struct client *cl)
{
    struct buf *in = cl->in;
    struct proto_req req;
    enum proto_status st;
    size_t used, n;
    bool again;

    if (cl->busy) {
        return;     /* the running loop sees the change */
    }
    cl->busy = true;
    if (cl->skip > 0) {
        n = cl->skip < in->len ? cl->skip : in->len;
        buf_consume(in, n);
        cl->skip -= n;
    }
    while (in->len > 0 && can_read(cl)) {
        if (try_admin(cl, in, &again) || again) {
            if (again) {
                break;
            }
            continue;
        }
        st = proto_parse_req(&cl->w->ring->lim, buf_head(in), in->len, &req,
            &used);
        if (st == PROTO_OK) {
            dispatch(cl, &req);
            buf_consume(in, used);
        } else if (st == PROTO_AGAIN) {
            if (req.need > in->len) {
                buf_reserve(in, req.need - in->len);
            }
            break;
        } else if (st == PROTO_CLIENT_ERROR) {
            refuse(cl, &req, in, used);
        } else {
            fatal(cl, &req, in);
        }
    }
    if (in->len == 0 && in->cap > CLIENT_KEEP_INPUT) {
        buf_fini(in);
    }
    cl->seen = in->len;
    cl->busy = false;
}

static void
client_read(struct net_conn *c, struct buf *in)
{
    struct client *cl = net_conn_data(c);

    /*
     * NOTE(proxy): the input buffer belongs to the connection and stays
     * put for its life; we keep its address so that a client paused for
     * having too many requests in flight can resume with what it already
     * sent (net only calls on_read when new bytes arrive).
     */
    cl->in = in;
    CTR_ADD(&cl->w->st.bytes_read, in->len - cl->seen);
    process(cl);
}

static void
client_close(struct net_conn *c, enum net_close_why why)
{
    struct client *cl = net_conn_data(c);
    struct worker *w = cl->w;

    (void)why;
    detach_all(cl);
    pthread_mutex_lock(&w->clients_mu);
    if (cl->prev != NULL) {
        cl->prev->next = cl->next;
    } else {
        w->clients = cl->next;
    }
    if (cl->next != NULL) {
        cl->next->prev = cl->prev;
    }
    pthread_mutex_unlock(&w->clients_mu);
    CTR_ADD(&w->st.curr_conns, -1);
    free(cl);
}

/* The client read most of what was queued: send more, read again. */
static void
client_drain(struct net_conn *c)
{
    client_flush(net_conn_data(c));
}

const struct net_conn_ops client_ops = {
    .on_read = client_read,
    .on_drain = client_drain,
    .on_close = client_close,
};

bool
client_open(struct net_conn *c, void *arg)
{
    struct worker *w = net_loop_data(net_conn_loop(c));
    struct net_conn_opts o;
    struct client *cl;

    (void)arg;
    cl = calloc(1, sizeof(*cl));
    if (cl == NULL) {
        return false;
    }
    cl->w = w;
    cl->conn = c;
    cl->id = w->next_client_id++;
    pthread_mutex_lock(&w->clients_mu);
    cl->next = w->clients;
    if (w->clients != NULL) {
        w->clients->prev = cl;
    }
    w->clients = cl;
    pthread_mutex_unlock(&w->clients_mu);
    net_conn_set_data(c, cl);
    memset(&o, 0, sizeof(o));
    o.out_high = w->ring->set.out_soft;
    o.idle_ms = w->ring->set.idle_ms;
    net_conn_set_opts(c, &o);
    CTR_ADD(&w->st.curr_conns, 1);
    CTR_ADD(&w->st.total_conns, 1);
    return true;
}

/* ---- shutdown ----------------------------------------------------------- */

void
worker_check_drained(struct worker *w)
{
    struct proxy *p = w->p;

    if (!w->draining || w->drain_reported ||
        CTR_GET(&w->st.inflight) != 0) {
        return;
    }
    w->drain_reported = true;
    pthread_mutex_lock(&p->mu);
    p->drained++;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

/* On a worker, at SIGTERM: read no more requests, finish those in flight. */
void
worker_quiesce(struct net_loop *l, void *arg)
{
    struct worker *w = net_loop_data(l);
    struct client *cl;

    (void)arg;
    w->draining = true;
    for (cl = w->clients; cl != NULL; cl = cl->next) {
        if (cl->state == CLIENT_READING) {
            cl->state = CLIENT_PAUSED;
            net_conn_pause_read(cl->conn, true);
        }
    }
    worker_check_drained(w);
}
