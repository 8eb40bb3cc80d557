/*
 * Client sessions: parse each request with proto (the node's parser),
 * route it, and answer strictly in the order requests arrived, whatever
 * backends they went to. Every request that waits for a backend is a
 * `struct preq` in the client's FIFO; replies leave from its head only.
 *
 * NOTE(proxy): noreply is stripped before a request goes to a backend and
 * the backend's reply is read and dropped (a sub-request without a preq).
 * Forwarding noreply as-is would save those bytes, but then the reply
 * matching would rest on every backend staying silent in every case, and
 * memcached does not (some errors are sent despite noreply): one stray
 * line would shift every later reply on that connection to the wrong
 * client. Stripping keeps one reply per request on every backend stream.
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
    buf_init(&r->out);
    buf_init(&r->err);
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

static void
preq_free(struct preq *r)
{
    buf_fini(&r->out);
    buf_fini(&r->err);
    mget_destroy(r->mg);
    free(r);
}

static void
client_write(struct client *cl, const char *p, size_t len)
{
    CTR_ADD(&cl->w->st.bytes_written, len);
    (void)net_conn_write(cl->conn, p, len);
}

/* Resume reading once the backlog of waiting requests has shrunk. */
static void
maybe_resume(struct client *cl)
{
    if (cl->state == CLIENT_PAUSED &&
        cl->ninflight < PROXY_CLIENT_INFLIGHT / 2 && !cl->w->draining &&
        net_conn_out_pending(cl->conn) <= PROXY_CLIENT_OUT_HIGH / 4) {
        cl->state = CLIENT_READING;
        net_conn_pause_read(cl->conn, false);
        if (cl->in != NULL) {
            process(cl);
        }
    }
}

/* Send every finished reply at the head of the queue, in order. */
static void
client_flush(struct client *cl)
{
    struct preq *r;

    while (cl->state != CLIENT_QUITTING && (r = cl->head) != NULL &&
        r->done) {
        cl->head = r->next;
        if (cl->head == NULL) {
            cl->tail = NULL;
        }
        cl->ninflight--;
        if (r->kind == PREQ_QUIT) {
            /* Nothing after quit is answered; client_close frees it. */
            cl->state = CLIENT_QUITTING;
            net_conn_close_flush(cl->conn);
            preq_free(r);
            return;
        }
        if (r->out.len > 0) {
            client_write(cl, buf_head(&r->out), r->out.len);
        }
        preq_free(r);
    }
    maybe_resume(cl);
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
    if (r == NULL || !buf_append_str(&r->out, text)) {
        /* Out of memory: the order cannot be kept, hang up. */
        if (r != NULL) {
            r->done = true;
        }
        net_conn_close(cl->conn);
        return;
    }
    r->done = true;
}

static void
client_server_error(struct client *cl, const char *why)
{
    char line[320];
    int n = snprintf(line, sizeof(line), "SERVER_ERROR %s\r\n", why);

    CTR_ADD(&cl->w->st.server_errors, 1);
    client_local(cl, (struct str){ line, n > 0 && (size_t)n < sizeof(line) ?
        (size_t)n : 0 });
}

/* ---- completion of sub-requests ---------------------------------------- */

static void
set_error(struct preq *r, struct str line)
{
    if (r->failed) {
        return;
    }
    r->failed = true;
    buf_clear(&r->err);
    if (!buf_append_str(&r->err, line)) {
        buf_clear(&r->err);
    }
}

static void
set_error_why(struct preq *r, const char *why)
{
    char line[320];
    int n = snprintf(line, sizeof(line), "SERVER_ERROR %s\r\n", why);

    if (n > 0 && (size_t)n < sizeof(line)) {
        set_error(r, (struct str){ line, (size_t)n });
    }
}

static void
flush_failed(struct preq *r, const struct pnode *n)
{
    r->nfail++;
    (void)buf_printf(&r->err, "%s%s", r->nfail > 1 ? ", " : "", n->name);
}

void
preq_sub_element(struct preq *r, struct sreq *s, const struct proto_rsp *rsp,
    struct str raw)
{
    bool err = rsp->type == PROTO_RSP_ERROR ||
        rsp->type == PROTO_RSP_CLIENT_ERROR ||
        rsp->type == PROTO_RSP_SERVER_ERROR;

    switch (r->kind) {
    case PREQ_SINGLE:
        if (rsp->type == PROTO_RSP_VALUE) {
            r->hits++;
        }
        admin_count_reply(r->w, r->cmd, rsp->type);
        if (r->quiet && proxy_quiet_hides(r->cmd, rsp->type)) {
            break;
        }
        if (!r->failed && !buf_append_str(&r->out, raw)) {
            set_error_why(r, "out of memory");
        }
        break;
    case PREQ_MULTI:
        if (err) {
            set_error(r, raw);
        } else if (rsp->type == PROTO_RSP_VALUE) {
            enum mget_status st = mget_value(r->mg, s->sub, rsp->key, raw);

            if (st == MGET_UNEXPECTED) {
                set_error_why(r, "backend sent a key it was not asked for");
            } else if (st == MGET_ENOMEM) {
                set_error_why(r, "out of memory");
            }
        }
        break;
    case PREQ_FLUSH:
        if (rsp->type != PROTO_RSP_OK) {
            flush_failed(r, s->node);
        }
        break;
    default:
        break;
    }
}

static void
count_retrieval(struct worker *w, struct preq *r)
{
    uint32_t hits = r->kind == PREQ_MULTI ? (uint32_t)mget_hits(r->mg) :
        r->hits;

    if (r->failed || !proto_cmd_is_retrieval(r->cmd)) {
        return;
    }
    CTR_ADD(&w->st.get_hits, hits);
    CTR_ADD(&w->st.get_misses, r->nkeys > hits ? r->nkeys - hits : 0);
}

/* Every sub-request answered: build the reply. */
static void
finish(struct worker *w, struct preq *r)
{
    if (r->kind == PREQ_MULTI && !r->failed &&
        !mget_finish(r->mg, &r->out)) {
        set_error_why(r, "out of memory");
    }
    if (r->kind == PREQ_FLUSH) {
        buf_clear(&r->out);
        if (r->nfail == 0) {
            (void)buf_append_str(&r->out, proto_reply_str(PROTO_REPLY_OK));
        } else {
            (void)buf_printf(&r->out, "SERVER_ERROR flush_all failed on "
                "%.*s\r\n", (int)r->err.len, buf_head(&r->err));
        }
    } else if (r->failed) {
        buf_clear(&r->out);
        (void)buf_append(&r->out, buf_head(&r->err), r->err.len);
        CTR_ADD(&w->st.server_errors, 1);
    }
    count_retrieval(w, r);
    r->done = true;
    if (r->counted) {
        CTR_ADD(&w->st.inflight, -1);
        r->counted = false;
    }
}

void
preq_sub_end(struct preq *r, struct sreq *s)
{
    struct client *cl = r->cl;
    struct worker *w = r->w;

    (void)s;
    if (--r->pending > 0) {
        return;
    }
    finish(w, r);
    if (cl == NULL) {
        /* The client left: nobody waits for the reply. */
        preq_free(r);
    } else {
        client_flush(cl);
    }
    worker_check_drained(w);
}

void
preq_sub_fail(struct preq *r, struct sreq *s, const char *why)
{
    if (r->kind == PREQ_FLUSH) {
        flush_failed(r, s->node);
    } else {
        set_error_why(r, why);
    }
    preq_sub_end(r, s);
}

/* ---- routing ------------------------------------------------------------ */

/*
 * The node that owns `key` on the worker's ring. NULL when no node can
 * take it; then *why says so ("backend X is down", ...) and *down whether
 * that is because its node is down.
 */
static struct pnode *
owner_of(struct worker *w, struct str key, uint32_t *idx, char *why,
    size_t whylen, bool *down)
{
    const struct pring *r = w->ring;
    struct pnode *n;

    *down = false;
    *idx = ring_lookup(r->ring, key);
    if (*idx == RING_NO_NODE) {
        snprintf(why, whylen, "no backend available");
        return NULL;
    }
    n = r->nodes[*idx];
    if (__atomic_load_n(&n->state, __ATOMIC_RELAXED) == PNODE_DOWN) {
        snprintf(why, whylen, "backend %s is down", n->name);
        *down = true;
        return NULL;
    }
    return n;
}

/*
 * Send `data` to node n as sub-request `sub` of r (NULL: reply dropped).
 * On failure the sub-request fails at once (r is then possibly finished).
 */
static void
send_sub(struct client *cl, struct pnode *n, struct preq *r,
    enum proto_cmd cmd, uint32_t sub, const void *data, size_t len)
{
    struct worker *w = cl->w;
    struct sreq *s = sreq_new(w);
    struct bconn *b;
    char why[320];

    if (s == NULL) {
        if (r != NULL) {
            struct sreq tmp = { .node = n, .cmd = cmd, .sub = sub };

            preq_sub_fail(r, &tmp, "out of memory");
        }
        return;
    }
    s->preq = r;
    s->node = n;
    s->cmd = cmd;
    s->sub = sub;
    b = backend_pick(w, n, cl->id);
    if (b != NULL && backend_send(b, s, data, len)) {
        return;
    }
    snprintf(why, sizeof(why), "backend %s %s", n->name, b == NULL ?
        "cannot be reached" : "is overloaded");
    CTR_ADD(&n->ctr[w->idx].errors, 1);
    if (r != NULL) {
        preq_sub_fail(r, s, why);
    }
    sreq_free(w, s);
}

/* A request without noreply, as the backend must see it. */
static struct str
strip_noreply(struct worker *w, const struct proto_req *req, struct str raw)
{
    struct proto_req copy;

    if (!req->noreply) {
        return raw;
    }
    copy = *req;
    copy.noreply = false;
    buf_clear(&w->scratch);
    if (!proto_compose_req(&w->scratch, &copy)) {
        return (struct str){ NULL, 0 };
    }
    return (struct str){ buf_head(&w->scratch), w->scratch.len };
}

static void
route_key(struct client *cl, const struct proto_req *req, struct str raw)
{
    struct worker *w = cl->w;
    struct pnode *n;
    struct preq *r = NULL;
    struct str out;
    uint32_t idx;
    char why[320];
    bool down;

    n = owner_of(w, req->key, &idx, why, sizeof(why), &down);
    if (n == NULL) {
        if (!req->noreply) {
            client_server_error(cl, why);
        }
        return;
    }
    out = strip_noreply(w, req, raw);
    if (out.ptr == NULL) {
        if (!req->noreply) {
            client_server_error(cl, "out of memory");
        }
        return;
    }
    if (!req->noreply) {
        r = preq_new(cl, PREQ_SINGLE, req->cmd);
        if (r == NULL) {
            client_server_error(cl, "out of memory");
            return;
        }
        r->pending = 1;
    }
    send_sub(cl, n, r, req->cmd, 0, out.ptr, out.len);
}

static bool
grow_keys(struct worker *w, size_t n)
{
    struct str *k;
    uint32_t *o;

    if (n <= w->keys_cap) {
        return true;
    }
    k = realloc(w->keys, n * sizeof(*k));
    if (k != NULL) {
        w->keys = k;
    }
    o = realloc(w->owners, n * sizeof(*o));
    if (o != NULL) {
        w->owners = o;
    }
    if (k == NULL || o == NULL) {
        return false;
    }
    w->keys_cap = n;
    return true;
}

/*
 * Fill w->keys and w->owners; returns false with *why set if a key has no
 * usable owner (and, with --miss-when-down, marks down owners as
 * RING_NO_NODE instead: their keys are misses). *same: one owner for all.
 */
static bool
collect_owners(struct worker *w, const struct proto_req *req, char *why,
    size_t whylen, bool *same)
{
    struct proto_key_iter it;
    struct str key;
    uint32_t i = 0, idx;
    bool down;

    *same = true;
    proto_keys_begin(req, &it);
    while (proto_keys_next(&it, &key)) {
        if (owner_of(w, key, &idx, why, whylen, &down) == NULL) {
            if (!down || !w->p->opts->miss_when_down) {
                return false;
            }
            idx = RING_NO_NODE;
        }
        w->keys[i] = key;
        w->owners[i] = idx;
        if (i > 0 && idx != w->owners[0]) {
            *same = false;
        }
        i++;
    }
    return true;
}

static void
route_multi(struct client *cl, const struct proto_req *req)
{
    struct worker *w = cl->w;
    struct preq *r;
    size_t i, nsubs;

    r = preq_new(cl, PREQ_MULTI, req->cmd);
    if (r == NULL) {
        client_server_error(cl, "out of memory");
        return;
    }
    r->nkeys = req->nkeys;
    r->mg = mget_create(w->keys, w->owners, req->nkeys);
    if (r->mg == NULL) {
        r->pending = 1;
        preq_sub_fail(r, NULL, "out of memory");
        return;
    }
    nsubs = mget_nsubs(r->mg);
    r->pending = (uint32_t)nsubs;
    for (i = 0; i < nsubs; i++) {
        const struct str *keys;
        size_t nk = mget_sub_keys(r->mg, i, &keys);
        uint32_t owner = mget_sub_owner(r->mg, i);
        struct sreq tmp = { .sub = (uint32_t)i };

        if (owner == RING_NO_NODE) {
            preq_sub_end(r, &tmp);      /* down, --miss-when-down */
            continue;
        }
        buf_clear(&w->scratch);
        if (!proto_compose_retrieval(&w->scratch, req->cmd, req->exptime,
            keys, nk)) {
            preq_sub_fail(r, &tmp, "out of memory");
            continue;
        }
        send_sub(cl, w->ring->nodes[owner], r, req->cmd, (uint32_t)i,
            buf_head(&w->scratch), w->scratch.len);
    }
}

static void
route_get(struct client *cl, const struct proto_req *req, struct str raw)
{
    struct worker *w = cl->w;
    struct preq *r;
    char why[320];
    bool same;

    CTR_ADD(&w->st.cmd_get, req->nkeys);
    if (req->cmd == PROTO_CMD_GAT || req->cmd == PROTO_CMD_GATS) {
        CTR_ADD(&w->st.cmd_touch, req->nkeys);
    }
    if (req->nkeys == 0) {
        client_local(cl, proto_reply_str(PROTO_REPLY_END));
        return;
    }
    if (!grow_keys(w, req->nkeys)) {
        client_server_error(cl, "out of memory");
        return;
    }
    if (!collect_owners(w, req, why, sizeof(why), &same)) {
        client_server_error(cl, why);
        return;
    }
    if (!same) {
        route_multi(cl, req);
        return;
    }
    if (w->owners[0] == RING_NO_NODE) {
        CTR_ADD(&w->st.get_misses, req->nkeys);
        client_local(cl, proto_reply_str(PROTO_REPLY_END));
        return;
    }
    /* One owner: the request goes as it came, the reply comes back as is. */
    r = preq_new(cl, PREQ_SINGLE, req->cmd);
    if (r == NULL) {
        client_server_error(cl, "out of memory");
        return;
    }
    r->nkeys = req->nkeys;
    r->pending = 1;
    send_sub(cl, w->ring->nodes[w->owners[0]], r, req->cmd, 0, raw.ptr,
        raw.len);
}

static void
route_flush(struct client *cl, const struct proto_req *req)
{
    struct worker *w = cl->w;
    const struct pring *ring = w->ring;
    struct proto_req copy = *req;
    struct preq *r = NULL;
    size_t i;

    CTR_ADD(&w->st.cmd_flush, 1);
    copy.noreply = false;
    buf_clear(&w->scratch);
    if (!proto_compose_req(&w->scratch, &copy)) {
        if (!req->noreply) {
            client_server_error(cl, "out of memory");
        }
        return;
    }
    if (!req->noreply) {
        r = preq_new(cl, PREQ_FLUSH, req->cmd);
        if (r == NULL) {
            client_server_error(cl, "out of memory");
            return;
        }
        r->pending = (uint32_t)ring->n;
    }
    for (i = 0; i < ring->n; i++) {
        struct pnode *n = ring->nodes[i];

        if (__atomic_load_n(&n->state, __ATOMIC_RELAXED) == PNODE_DOWN) {
            struct sreq tmp = { .node = n, .cmd = req->cmd };

            if (r != NULL) {
                preq_sub_fail(r, &tmp, "down");
            }
            continue;
        }
        send_sub(cl, n, r, req->cmd, (uint32_t)i, buf_head(&w->scratch),
            w->scratch.len);
    }
}

/* memcached drops the old value when a set is too large to store: so do
 * we, with a delete whose reply nobody waits for. The value goes nowhere. */
static void
drop_too_large(struct client *cl, const struct proto_req *req)
{
    struct worker *w = cl->w;
    struct pnode *n;
    uint32_t idx;
    char why[320];
    bool down;

    if (req->err != PROTO_REPLY_TOO_LARGE || req->cmd != PROTO_CMD_SET ||
        req->key.len == 0) {
        return;
    }
    n = owner_of(w, req->key, &idx, why, sizeof(why), &down);
    buf_clear(&w->scratch);
    if (n != NULL && buf_printf(&w->scratch, "delete %.*s\r\n",
        (int)req->key.len, req->key.ptr)) {
        send_sub(cl, n, NULL, PROTO_CMD_DELETE, 0, buf_head(&w->scratch),
            w->scratch.len);
    }
}

/* A meta request without its q flag word (the proxy applies q itself). */
static struct str
strip_quiet(struct worker *w, const struct proto_req *req)
{
    struct proto_key_iter it;
    struct str word;
    bool ok;

    buf_clear(&w->scratch);
    ok = buf_printf(&w->scratch, "%s %.*s", proto_cmd_name(req->cmd),
        (int)req->key.len, req->key.ptr);
    if (req->cmd == PROTO_CMD_MS) {
        ok = ok && buf_printf(&w->scratch, " %zu", req->data.len);
    }
    proto_meta_begin(req, &it);
    while (ok && proto_keys_next(&it, &word)) {
        if (word.ptr[0] != 'q') {
            ok = buf_printf(&w->scratch, " %.*s", (int)word.len, word.ptr);
        }
    }
    ok = ok && buf_append(&w->scratch, "\r\n", 2);
    if (req->cmd == PROTO_CMD_MS) {
        ok = ok && buf_append_str(&w->scratch, req->data) &&
            buf_append(&w->scratch, "\r\n", 2);
    }
    return ok ? (struct str){ buf_head(&w->scratch), w->scratch.len } :
        (struct str){ NULL, 0 };
}

/* mg ms md ma me: to the node of the key (base64-decoded with b). */
static void
route_meta(struct client *cl, const struct proto_req *req, struct str raw)
{
    struct worker *w = cl->w;
    char kbuf[PROTO_META_KEY_MAX], why[320];
    struct str key = proto_meta_key(req, kbuf), out = raw;
    struct pnode *n;
    struct preq *r;
    uint32_t idx;
    bool down;

    if (req->cmd == PROTO_CMD_MG) {
        CTR_ADD(&w->st.cmd_get, 1);
    } else if (req->cmd == PROTO_CMD_MS) {
        CTR_ADD(&w->st.cmd_set, 1);
    }
    n = owner_of(w, key, &idx, why, sizeof(why), &down);
    if (n == NULL) {
        client_server_error(cl, why);
        return;
    }
    if (proto_meta_has(req, 'q')) {
        out = strip_quiet(w, req);
    }
    r = out.ptr != NULL ? preq_new(cl, PREQ_SINGLE, req->cmd) : NULL;
    if (r == NULL) {
        client_server_error(cl, "out of memory");
        return;
    }
    r->quiet = proto_meta_has(req, 'q');
    r->pending = 1;
    send_sub(cl, n, r, req->cmd, 0, out.ptr, out.len);
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

static void
dispatch(struct client *cl, const struct proto_req *req, struct str raw)
{
    struct preq *r;

    if (proto_cmd_is_retrieval(req->cmd)) {
        route_get(cl, req, raw);
        return;
    }
    if (proto_cmd_is_storage(req->cmd)) {
        CTR_ADD(&cl->w->st.cmd_set, 1);
        route_key(cl, req, raw);
        return;
    }
    switch (req->cmd) {
    case PROTO_CMD_TOUCH:
        CTR_ADD(&cl->w->st.cmd_touch, 1);
        route_key(cl, req, raw);
        break;
    case PROTO_CMD_DELETE:
    case PROTO_CMD_INCR:
    case PROTO_CMD_DECR:
        route_key(cl, req, raw);
        break;
    case PROTO_CMD_FLUSH_ALL:
        route_flush(cl, req);
        break;
    case PROTO_CMD_STATS:
        answer_stats(cl, req->args);
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
    case PROTO_CMD_MG:
    case PROTO_CMD_MS:
    case PROTO_CMD_MD:
    case PROTO_CMD_MA:
    case PROTO_CMD_ME:
        route_meta(cl, req, raw);
        break;
    case PROTO_CMD_MN:
        /* Replies leave in order: by now every earlier one has. */
        client_local(cl, proto_reply_str(PROTO_REPLY_MN));
        break;
    case PROTO_CMD_SHUTDOWN:
        /* Never forwarded: one client must not stop every node. */
        client_local(cl, proto_reply_str(PROTO_REPLY_SHUTDOWN_OFF));
        break;
    default:
        client_local(cl, proto_reply_str(PROTO_REPLY_ERROR));
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
    drop_too_large(cl, req);
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
        net_conn_out_pending(cl->conn) > PROXY_CLIENT_OUT_HIGH) {
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
            dispatch(cl, &req, (struct str){ buf_head(in), used });
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
    struct preq *r, *next;

    (void)why;
    for (r = cl->head; r != NULL; r = next) {
        next = r->next;
        if (r->done) {
            preq_free(r);
        } else {
            r->cl = NULL;       /* freed when its backends answer */
        }
    }
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

/* The client read most of its replies: take its requests again. */
static void
client_drain(struct net_conn *c)
{
    maybe_resume(net_conn_data(c));
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
