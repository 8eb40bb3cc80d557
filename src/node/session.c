/*
 * Sessions: one per accepted connection. Parse every complete request in
 * the input buffer, execute each, and let net send the whole batch of
 * replies with one writev when the read callback returns.
 */
#include "node/node_int.h"

#include <stdlib.h>
#include <string.h>

#include "net/net.h"
#include "proto/proto.h"
#include "store/store.h"
#include "util/util.h"

/* An input buffer bigger than this is not kept per connection for long. */
#define SESSION_KEEP_INPUT (64u << 10)
/* Batches of small requests after which a big input buffer is freed. */
#define SESSION_SHRINK_AFTER 64

static void
set_state(struct session *s, enum session_state st)
{
    __atomic_store_n(&s->state, st, __ATOMIC_RELAXED);
}

bool
session_reply(struct session *s, struct str text)
{
    STAT_ADD(&s->w->ctr, bytes_written, text.len);
    return net_conn_write(s->conn, text.ptr, text.len) == NET_OK;
}

bool
session_reply_buf(struct session *s, const struct buf *b)
{
    struct str t = { buf_head(b), b->len };

    return session_reply(s, t);
}

/* Swallow what is left of a refused data block. */
static void
swallow(struct session *s, struct buf *in)
{
    size_t n = s->skip < in->len ? s->skip : in->len;

    buf_consume(in, n);
    s->skip -= n;
}

/* A request the parser refused: reply (unless noreply) and skip it. */
static void
refuse(struct session *s, const struct proto_req *req, struct buf *in,
    size_t used, uint32_t now)
{
    struct node *n = s->w->node;

    /* memcached drops the old value when a set is too large to store. */
    if (req->err == PROTO_REPLY_TOO_LARGE && req->cmd == PROTO_CMD_SET &&
        req->key.len > 0) {
        (void)store_delete(n->store, req->key, 0, now);
        STAT_ADD(&s->w->ctr, store_too_large, 1);
    }
    node_meta_refused(s, req, now);
    if (!req->noreply) {
        session_reply(s, proto_reply_str(req->err));
    }
    if (used > in->len) {
        s->skip = used - in->len;
        buf_consume(in, in->len);
        set_state(s, SESSION_SWALLOW);
    } else {
        buf_consume(in, used);
    }
}

/* Wall second of the last binary-protocol log line (relaxed atomic). */
static uint32_t binary_logged;

/* Framing is lost: reply if there is a reply, and log a wrong protocol
 * (binary at warning level, at most once a second: a misconfigured
 * client, which now fails over at once). */
static void
node_session_fatal(struct session *s, const struct proto_req *req,
    uint32_t now)
{
    if (req->fatal == PROTO_FATAL_BINARY &&
        __atomic_exchange_n(&binary_logged, now, __ATOMIC_RELAXED) != now) {
        log_warn("<%d %s: binary protocol request (first byte 0x80): "
            "closed; ringcached speaks the text and meta protocols", s->fd,
            s->peer);
    } else if (req->fatal == PROTO_FATAL_HTTP &&
        s->w->node->cfg->verbose > 0) {
        log_info("<%d %s: HTTP request line: closed", s->fd, s->peer);
    }
    session_reply(s, proto_reply_str(req->err));
}

/* Forget the line copy of a streamed ms. */
static void
drop_line(struct session *s)
{
    free(s->fill_line);
    s->fill_line = NULL;
}

/*
 * A storage command line whose value has not all arrived: allocate the
 * item now and read the value straight into it (fill_step), so value
 * bytes wait inside -m, not in the input buffer. If the item cannot be
 * allocated, reply now and swallow the value. The line is consumed.
 */
static void
start_fill(struct session *s, const struct proto_req *req, struct buf *in,
    uint32_t now)
{
    size_t line = req->need - req->data.len - 2;
    bool alive;
    struct item *it;

    if (req->cmd == PROTO_CMD_MS) {
        /* Its flags are views into the line: keep a copy to answer from
         * once the value is in. */
        struct node *n = s->w->node;
        size_t used;

        s->fill_line = xmalloc(line);
        memcpy(s->fill_line, buf_head(in), line);
        (void)proto_parse_req(&n->lim, s->fill_line, line, &s->fill_req,
            &used);
        it = node_meta_ms_alloc(s, &s->fill_req, now, &alive);
    } else {
        it = node_storage_alloc(s, req, now, &alive);
    }
    if (it == NULL) {
        drop_line(s);
        if (!alive) {
            net_conn_close_flush(s->conn);
        }
        s->skip = req->need;
        swallow(s, in);
        set_state(s, SESSION_SWALLOW);
        return;
    }
    s->fill = it;
    s->fill_off = 0;
    s->fill_cmd = req->cmd;
    s->fill_cas = req->cas;
    s->fill_noreply = req->noreply;
    buf_consume(in, line);
    set_state(s, SESSION_NREAD);
}

/* Move arrived value bytes into the item being filled; once the value and
 * its "\r\n" are in, store it. False while more bytes are needed. */
static bool
fill_step(struct session *s, struct buf *in, uint32_t now)
{
    struct item *it = s->fill;
    size_t want = item_value_len(it) - s->fill_off;
    size_t n = in->len < want ? in->len : want;

    item_value_write(it, s->fill_off, buf_head(in), n);
    buf_consume(in, n);
    s->fill_off += n;
    if (s->fill_off < item_value_len(it) || in->len < 2) {
        return false;
    }
    s->fill = NULL;
    if (buf_head(in)[0] != '\r' || buf_head(in)[1] != '\n') {
        node_release_item(it);
        session_reply(s, proto_reply_str(PROTO_REPLY_BAD_CHUNK));
    } else if (s->fill_cmd == PROTO_CMD_MS
        ? !node_meta_ms_link(s, &s->fill_req, it, now)
        : !node_storage_link(s, s->fill_cmd, it, s->fill_cas,
            s->fill_noreply, now)) {
        net_conn_close_flush(s->conn);
    }
    drop_line(s);
    buf_consume(in, 2);
    return true;
}

/*
 * Execute every complete request in `in`, until the replies queued for
 * this client cost more than net's high watermark and the socket does not
 * take them: then stop (`stalled`) until on_drain, so a client that does
 * not read costs at most about one watermark.
 */
static void
session_process(struct session *s, struct buf *in, uint32_t now)
{
    struct net_conn *c = s->conn;
    struct node *n = s->w->node;
    struct proto_req req;
    enum proto_status st;
    size_t used;
    size_t largest = 0;

    s->busy = true;
    if (s->skip > 0) {
        swallow(s, in);
    }
    if (s->fill != NULL && !fill_step(s, in, now)) {
        s->busy = false;
        return;
    }
    while (in->len > 0 && !net_conn_closing(c) && s->dump == NULL) {
        if (net_conn_out_full(c)) {
            net_conn_flush(c);
            if (net_conn_out_full(c)) {
                s->stalled = true;
                break;
            }
        }
        set_state(s, SESSION_PARSING);
        st = proto_parse_req(&n->lim, buf_head(in), in->len, &req, &used);
        if (st == PROTO_OK) {
            /* The request's views point into `in`: consume after. */
            if (!node_exec(s, &req, now)) {
                net_conn_close_flush(c);
            }
            buf_consume(in, used);
            largest = used > largest ? used : largest;
        } else if (st == PROTO_AGAIN) {
            if (req.need > in->len && (proto_cmd_is_storage(req.cmd)
                || req.cmd == PROTO_CMD_MS)) {
                start_fill(s, &req, in, now);
                if (s->fill != NULL && fill_step(s, in, now)) {
                    continue;
                }
                if (s->fill == NULL && s->skip == 0) {
                    continue;
                }
                break;
            }
            if (req.need > in->len) {
                /* Room for the whole data block: one read can finish it. */
                buf_reserve(in, req.need - in->len);
                set_state(s, SESSION_NREAD);
            }
            break;
        } else if (st == PROTO_CLIENT_ERROR) {
            refuse(s, &req, in, used, now);
        } else {
            node_session_fatal(s, &req, now);
            net_conn_close_flush(c);
            buf_consume(in, in->len);
        }
    }
    if (in->len == 0) {
        set_state(s, s->fill != NULL ? SESSION_NREAD
            : s->skip > 0 ? SESSION_SWALLOW : SESSION_WAITING);
        /*
         * NOTE: a client that sends large values now and then keeps its
         * big buffer (allocating ~128 KiB again per set cost ~3% CPU at
         * 100 KiB values); SESSION_SHRINK_AFTER batches of small requests
         * in a row give it back.
         */
        if (largest > SESSION_KEEP_INPUT) {
            s->small_batches = 0;
        } else if (s->small_batches < SESSION_SHRINK_AFTER) {
            s->small_batches++;
        }
        if (in->cap > SESSION_KEEP_INPUT &&
            s->small_batches >= SESSION_SHRINK_AFTER) {
            buf_fini(in);
        }
    }
    s->busy = false;
}

static void
session_read(struct net_conn *c, struct buf *in)
{
    struct session *s = net_conn_data(c);
    uint32_t now = (uint32_t)util_wall_sec();

    STAT_ADD(&s->w->ctr, bytes_read, in->len - s->seen);
    s->seen = in->len;
    s->in = in;
    if (s->dump != NULL) {
        return;         /* node_session_resume() runs these later */
    }
    __atomic_store_n(&s->last_cmd, now, __ATOMIC_RELAXED);
    session_process(s, in, now);
    s->seen = in->len;
}

/* The replies drained: go on with requests left in the input. */
static void
session_drain(struct net_conn *c)
{
    struct session *s = net_conn_data(c);
    struct buf *in = net_conn_input(c);

    if (s->busy || !s->stalled || s->dump != NULL) {
        return;
    }
    s->stalled = false;
    session_process(s, in, (uint32_t)util_wall_sec());
    s->seen = in->len;
}

void
node_session_resume(struct session *s)
{
    if (s->in != NULL && s->in->len > 0 && !s->busy) {
        session_process(s, s->in, (uint32_t)util_wall_sec());
        s->seen = s->in->len;
    }
}

static void
session_close(struct net_conn *c, enum net_close_why why)
{
    struct session *s = net_conn_data(c);
    struct node_worker *w = s->w;

    if (w->node->cfg->verbose > 0) {
        log_info("<%d connection closed (%s)", s->fd, net_close_str(why));
    }
    pthread_mutex_lock(&w->mu);
    if (s->prev != NULL) {
        s->prev->next = s->next;
    } else {
        w->sessions = s->next;
    }
    if (s->next != NULL) {
        s->next->prev = s->prev;
    }
    pthread_mutex_unlock(&w->mu);
    node_dump_cancel(s);
    if (s->fill != NULL) {
        node_release_item(s->fill);    /* the client left mid-value */
    }
    drop_line(s);
    free(s);
}

const struct net_conn_ops node_session_ops = {
    .on_read = session_read,
    .on_drain = session_drain,
    .on_close = session_close,
};

bool
node_session_open(struct net_conn *c, void *arg)
{
    struct node_worker *w = net_loop_data(net_conn_loop(c));
    struct session *s;

    (void)arg;
    s = calloc(1, sizeof(*s));
    if (s == NULL) {
        return false;
    }
    s->w = w;
    s->conn = c;
    s->fd = net_conn_fd(c);
    s->listener = net_conn_listener(c);
    s->last_cmd = (uint32_t)util_wall_sec();
    net_conn_peer(c, s->peer, sizeof(s->peer));
    net_conn_set_data(c, s);
    pthread_mutex_lock(&w->mu);
    s->next = w->sessions;
    if (w->sessions != NULL) {
        w->sessions->prev = s;
    }
    w->sessions = s;
    pthread_mutex_unlock(&w->mu);
    if (w->node->cfg->verbose > 0) {
        log_info("<%d new client connection from %s", s->fd, s->peer);
    }
    return true;
}
