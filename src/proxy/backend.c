/*
 * Backend connections: per worker, per node, `backend_connections` of
 * them, shared by every client of the worker. Requests are pipelined and
 * replies are matched to them by order (a FIFO of sub-requests per
 * connection); each response element goes up to reply.c, the only file
 * this one calls into, which checks it against the request. A connection
 * that times out, sends something that cannot answer the request at the
 * head of its queue (a protocol error), or closes with requests queued
 * fails every queued request; timeouts, connect failures, resets and
 * most protocol errors (see on_element) count one failure for the node,
 * and failure_limit failures in a row mark it down (health.c).
 */
#include "proxy/proxy_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct net_conn_ops bconn_ops;

struct sreq *
sreq_new(struct worker *w)
{
    struct sreq *s = w->free_sreqs;

    if (s == NULL) {
        return calloc(1, sizeof(*s));
    }
    w->free_sreqs = s->next;
    w->nfree_sreqs--;
    memset(s, 0, sizeof(*s));
    return s;
}

void
sreq_free(struct worker *w, struct sreq *s)
{
    if (w->nfree_sreqs >= PROXY_FREE_SREQS) {
        free(s);
        return;
    }
    s->next = w->free_sreqs;
    w->free_sreqs = s;
    w->nfree_sreqs++;
}

static uint64_t
request_timeout_ns(const struct bconn *b)
{
    return (uint64_t)b->w->ring->set.request_timeout_ms * 1000000u;
}

/* Arm the timer for the request at the head of the queue. */
static void
arm_timer(struct bconn *b)
{
    uint64_t now, deadline;

    if (b->head == NULL) {
        net_timer_cancel(b->timer);
        return;
    }
    now = util_mono_ns();
    deadline = b->head->sent_ns + request_timeout_ns(b);
    net_timer_arm(b->timer, deadline > now ? (deadline - now) / 1000u + 1 :
        1);
}

void
node_success(struct pnode *n)
{
    if (__atomic_load_n(&n->fails, __ATOMIC_RELAXED) != 0) {
        __atomic_store_n(&n->fails, 0, __ATOMIC_RELAXED);
    }
}

void
node_failure(struct worker *w, struct pnode *n, const char *why)
{
    uint32_t f = __atomic_add_fetch(&n->fails, 1, __ATOMIC_RELAXED);
    int up = PNODE_UP;

    CTR_ADD(&n->ctr[w->idx].errors, 1);
    if (f < w->ring->set.failure_limit || __atomic_load_n(&n->removed,
        __ATOMIC_RELAXED)) {
        return;
    }
    if (__atomic_compare_exchange_n(&n->state, &up, PNODE_DOWN, false,
        __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
        log_warn("node %s (%s) is down after %u failures in a row (last: "
            "%s)", n->name, n->addr_text, f, why);
        __atomic_add_fetch(&n->downs, 1, __ATOMIC_RELAXED);
        if (net_loop_call(net_server_main_loop(w->p->srv), health_node_down,
            n) != NET_OK) {
            /* Without a prober it would stay down: let it retry. */
            __atomic_store_n(&n->state, PNODE_UP, __ATOMIC_RELEASE);
        }
    }
}

static void
on_timer(struct net_timer *t, void *arg)
{
    struct bconn *b = arg;

    (void)t;
    if (b->head == NULL) {
        return;
    }
    if (util_mono_ns() < b->head->sent_ns + request_timeout_ns(b)) {
        arm_timer(b);
        return;
    }
    CTR_ADD(&b->node->ctr[b->w->idx].timeouts, 1);
    b->fail_why = "timed out";
    node_failure(b->w, b->node, b->fail_why);
    b->state = BCONN_CLOSING;
    net_conn_close(b->conn);
}

static struct bconn *
bconn_open(struct worker *w, struct pnode *n, struct bconn **slotp)
{
    struct bconn *b = calloc(1, sizeof(*b));
    struct net_conn_opts o;

    if (b == NULL) {
        return NULL;
    }
    memset(&o, 0, sizeof(o));
    o.out_high = PROXY_BACKEND_OUT_MAX;
    b->w = w;
    b->node = n;
    b->slotp = slotp;
    b->timer = net_timer_create(w->loop, on_timer, b);
    if (b->timer == NULL) {
        free(b);
        return NULL;
    }
    b->conn = net_conn_connect(w->loop, &n->addr,
        w->ring->set.connect_timeout_ms, &bconn_ops, b, &o);
    if (b->conn == NULL) {
        net_timer_destroy(b->timer);
        free(b);
        return NULL;
    }
    CTR_ADD(&n->ctr[w->idx].connects, 1);
    *slotp = b;
    return b;
}

/*
 * NOTE(proxy): a client's requests to one node always take the same
 * connection (`affinity`, the client's id), never round-robin: memcached
 * runs each connection's requests in order but different connections in
 * parallel, so spreading "set k" and "get k" of one client over two
 * connections could answer the get before the set is done.
 */
struct bconn *
backend_pick(struct worker *w, struct pnode *n, uint32_t affinity)
{
    struct wnode *wn = &w->nodes[n->id];
    struct bconn **slotp;

    if (wn->conns == NULL) {
        uint32_t k = w->ring->set.backend_connections;

        wn->conns = calloc(k, sizeof(*wn->conns));
        if (wn->conns == NULL) {
            return NULL;
        }
        wn->nconns = k;
    }
    slotp = &wn->conns[affinity % wn->nconns];
    if (*slotp != NULL && (*slotp)->state != BCONN_CLOSING) {
        return *slotp;
    }
    if (*slotp != NULL) {
        /* Closing: its on_close will clear the slot; use a fresh one. */
        (*slotp)->slotp = NULL;
    }
    return bconn_open(w, n, slotp);
}

bool
backend_send(struct bconn *b, struct sreq *s, const void *data, size_t len)
{
    if (b->nq >= PROXY_BACKEND_QUEUE ||
        net_conn_out_pending(b->conn) > PROXY_BACKEND_OUT_MAX ||
        net_conn_write(b->conn, data, len) != NET_OK) {
        return false;
    }
    s->next = NULL;
    s->node = b->node;
    s->sent_ns = util_mono_ns();
    if (b->tail != NULL) {
        b->tail->next = s;
    } else {
        b->head = s;
        arm_timer(b);
    }
    b->tail = s;
    b->nq++;
    CTR_ADD(&b->node->ctr[b->w->idx].requests, 1);
    return true;
}

/* The head request got its whole reply. */
static void
pop_done(struct bconn *b)
{
    struct sreq *s = b->head;
    uint64_t us = (util_mono_ns() - s->sent_ns) / 1000u;

    b->head = s->next;
    if (b->head == NULL) {
        b->tail = NULL;
    }
    b->nq--;
    CTR_ADD(&b->node->ctr[b->w->idx].hist[hist_bucket(us)], 1);
    if (s->preq != NULL) {
        reply_sub_end(s->preq, s);
    }
    sreq_free(b->w, s);
}

/* At most one log line a second per worker: a client that provokes
 * foreign echoes must not flood the log (the stat counts them all). */
static void
log_protocol_error(const struct bconn *b, const char *why)
{
    static __thread uint64_t last_ns;
    static __thread uint64_t quiet;
    uint64_t now = util_mono_ns();

    if (last_ns != 0 && now - last_ns < 1000000000u) {
        quiet++;
        return;
    }
    log_warn("backend %s (%s) %s: closing the connection (%" PRIu64
        " more protocol errors not logged)", b->node->name,
        b->node->addr_text, why, quiet);
    last_ns = now;
    quiet = 0;
}

/*
 * The stream cannot be trusted: close it; bconn_close fails what is in
 * flight. Counted as a protocol error, and as a node failure only when
 * `counts` (see the NOTE below).
 */
static void
protocol_error(struct bconn *b, const char *why, bool counts)
{
    if (b->state == BCONN_CLOSING) {
        return;
    }
    CTR_ADD(&b->node->ctr[b->w->idx].protocol_errors, 1);
    log_protocol_error(b, why);
    b->fail_why = why;
    if (counts) {
        node_failure(b->w, b->node, why);
    }
    b->state = BCONN_CLOSING;
    net_conn_close(b->conn);
}

/*
 * Handle one parsed element; false if the connection was given up.
 *
 * NOTE(proxy): which protocol errors count towards failure_limit. Once a
 * request is composed by the proxy, the only bytes of a reply a client
 * chooses are values (inside a length-framed block) and meta echoes (k,
 * O, the ME key) — memcached 1.6.18 echoes a base64 (b) key decoded, raw,
 * so a key can carry "\r\nVALUE ...". Echoes are checked first, on the
 * first element they appear in, so such bytes are caught as a foreign
 * echo before anything after them is read: that (REPLY_FOREIGN) never
 * counts, or a client could take a healthy node down. Anything else that
 * breaks framing (an unparsable element, a type or key that cannot answer
 * the request, data nobody asked for) no client can provoke: it counts
 * as one failure, like a timeout, so a node that answers junk is ejected.
 */
static bool
on_element(struct bconn *b, const struct proto_rsp *rsp, struct str raw)
{
    struct sreq *s = b->head;

    if (s == NULL) {
        protocol_error(b, "sent data nobody asked for", true);
        return false;
    }
    switch (reply_element(s, rsp, raw)) {
    case REPLY_FOREIGN:
        protocol_error(b, "echoed a key or opaque it was not sent", false);
        return false;
    case REPLY_BAD:
        protocol_error(b, "sent a reply that does not fit the request",
            true);
        return false;
    case REPLY_END:
        if (rsp->type == PROTO_RSP_SERVER_ERROR ||
            rsp->type == PROTO_RSP_CLIENT_ERROR ||
            rsp->type == PROTO_RSP_ERROR) {
            CTR_ADD(&b->node->ctr[b->w->idx].errors, 1);
        }
        node_success(b->node);
        pop_done(b);
        return true;
    default:
        return true;
    }
}

/*
 * A key listing's reply is lines (reply_dump_line() checks their shape):
 * one whole line, at most PROXY_DUMP_LINE_MAX bytes, as an element.
 * PROTO_AGAIN while the line is incomplete; PROTO_FATAL past the bound.
 */
static enum proto_status
dump_line(struct sreq *s, const char *p, size_t len, struct str *line,
    enum reply_status *rs)
{
    size_t scan = len < PROXY_DUMP_LINE_MAX ? len : PROXY_DUMP_LINE_MAX;
    const char *nl = memchr(p, '\n', scan);

    if (nl == NULL) {
        return scan == len ? PROTO_AGAIN : PROTO_FATAL;
    }
    *line = (struct str){ p, (size_t)(nl - p) + 1 };
    *rs = reply_dump_line(s, *line);
    return PROTO_OK;
}

/* One line of a key listing; false if the connection was given up. A
 * listing may take longer than request_timeout: each line it sends
 * restarts its clock, so the timeout bounds the wait between lines (and
 * its latency sample is the time since its last line). */
static bool
on_dump_line(struct bconn *b, enum reply_status rs)
{
    switch (rs) {
    case REPLY_MORE:
        b->head->sent_ns = util_mono_ns();
        return true;
    case REPLY_END:
        node_success(b->node);
        pop_done(b);
        return true;
    default:
        protocol_error(b, "sent a reply that does not fit the request",
            true);
        return false;
    }
}

static void
bconn_read(struct net_conn *c, struct buf *in)
{
    struct bconn *b = net_conn_data(c);
    const struct proto_limits *lim = &b->w->ring->lim;
    struct proto_rsp rsp;
    enum proto_status st;
    size_t used;

    while (in->len > 0 && b->state != BCONN_CLOSING) {
        if (b->head != NULL && !reply_head_ok(b->head, buf_head(in),
            in->len)) {
            protocol_error(b, "echoed a key or opaque it was not sent",
                false);
            return;
        }
        if (b->head != NULL && reply_is_dump(b->head)) {
            struct str line;
            enum reply_status rs;

            st = dump_line(b->head, buf_head(in), in->len, &line, &rs);
            if (st == PROTO_AGAIN) {
                break;
            }
            if (st != PROTO_OK) {
                protocol_error(b, "sent an invalid reply", true);
                return;
            }
            if (!on_dump_line(b, rs)) {
                return;
            }
            buf_consume(in, line.len);
            continue;
        }
        st = proto_parse_rsp(lim, buf_head(in), in->len, &rsp, &used);
        if (st == PROTO_AGAIN) {
            if (rsp.need > in->len) {
                buf_reserve(in, rsp.need - in->len);
            }
            break;
        }
        if (st != PROTO_OK) {
            protocol_error(b, "sent an invalid reply", true);
            return;
        }
        if (!on_element(b, &rsp, (struct str){ buf_head(in), used })) {
            return;
        }
        buf_consume(in, used);
    }
    if (b->state == BCONN_CLOSING) {
        return;
    }
    arm_timer(b);
    if (b->head == NULL && b->draining) {
        b->state = BCONN_CLOSING;
        net_conn_close(c);
    }
}

static void
bconn_connect(struct net_conn *c, enum net_status st)
{
    struct bconn *b = net_conn_data(c);

    if (st == NET_OK && b->state == BCONN_CONNECTING) {
        b->state = BCONN_READY;
    }
}

static const char *
close_reason(const struct bconn *b, enum net_close_why why)
{
    if (b->fail_why != NULL) {
        return b->fail_why;
    }
    switch (why) {
    case NET_CLOSE_CONNECT:
        return "connect failed";
    case NET_CLOSE_EOF:
        return "closed the connection";
    case NET_CLOSE_SHUTDOWN:
        return "proxy shutting down";
    default:
        return "connection error";
    }
}

static void
bconn_close(struct net_conn *c, enum net_close_why why)
{
    struct bconn *b = net_conn_data(c);
    const char *reason = close_reason(b, why);
    struct sreq *s;
    char msg[PROXY_WHY_MAX];

    if (b->fail_why == NULL && why != NET_CLOSE_SHUTDOWN &&
        why != NET_CLOSE_LOCAL && (b->head != NULL ||
        why == NET_CLOSE_CONNECT)) {
        if (why == NET_CLOSE_CONNECT) {
            CTR_ADD(&b->node->ctr[b->w->idx].conn_failures, 1);
        }
        node_failure(b->w, b->node, reason);
    }
    snprintf(msg, sizeof(msg), "backend %s %s", b->node->name, reason);
    while ((s = b->head) != NULL) {
        b->head = s->next;
        if (s->preq != NULL) {
            reply_sub_fail(s->preq, s, msg);
        }
        sreq_free(b->w, s);
    }
    if (b->slotp != NULL) {
        *b->slotp = NULL;
    }
    net_timer_destroy(b->timer);
    free(b);
}

void
backend_drain_node(struct worker *w, struct pnode *n)
{
    struct wnode *wn = &w->nodes[n->id];
    uint32_t i;

    for (i = 0; i < wn->nconns; i++) {
        struct bconn *b = wn->conns[i];

        if (b == NULL || b->state == BCONN_CLOSING) {
            continue;
        }
        b->draining = true;
        if (b->head == NULL) {
            b->state = BCONN_CLOSING;
            net_conn_close(b->conn);
        }
    }
}

void
backend_close_all(struct worker *w)
{
    uint32_t id, i;

    for (id = 0; id < PROXY_MAX_SLOTS; id++) {
        struct wnode *wn = &w->nodes[id];

        for (i = 0; i < wn->nconns; i++) {
            if (wn->conns[i] != NULL) {
                wn->conns[i]->slotp = NULL;
                net_conn_close(wn->conns[i]->conn);
            }
        }
        free(wn->conns);
        wn->conns = NULL;
        wn->nconns = 0;
    }
}

static const struct net_conn_ops bconn_ops = {
    .on_read = bconn_read,
    .on_connect = bconn_connect,
    .on_close = bconn_close,
};
