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

static void
session_read(struct net_conn *c, struct buf *in)
{
    struct session *s = net_conn_data(c);
    struct node *n = s->w->node;
    struct proto_req req;
    enum proto_status st;
    uint32_t now = (uint32_t)util_wall_sec();
    size_t used;
    size_t largest = 0;

    STAT_ADD(&s->w->ctr, bytes_read, in->len - s->seen);
    s->seen = in->len;
    s->in = in;
    if (s->dump != NULL) {
        return;         /* node_session_resume() runs these later */
    }
    __atomic_store_n(&s->last_cmd, now, __ATOMIC_RELAXED);
    if (s->skip > 0) {
        swallow(s, in);
    }
    while (in->len > 0 && !net_conn_closing(c) && s->dump == NULL) {
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
        set_state(s, s->skip > 0 ? SESSION_SWALLOW : SESSION_WAITING);
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
    s->seen = in->len;
}

void
node_session_resume(struct session *s)
{
    if (s->in != NULL && s->in->len > 0) {
        session_read(s->conn, s->in);
    }
}

static void
session_close(struct net_conn *c, enum net_close_why why)
{
    struct session *s = net_conn_data(c);
    struct node_worker *w = s->w;

    node_dump_cancel(s);
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
    free(s);
}

const struct net_conn_ops node_session_ops = {
    .on_read = session_read,
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
