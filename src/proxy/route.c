/*
 * Routing: a parsed client request to the node (or nodes) that must answer
 * it. Key → node on the worker's ring, a multi-get split by owner, the
 * request text each backend gets, and the sub-requests (struct sreq) that
 * backend.c queues. Failures found here (no owner, node down, out of
 * memory) are answered through reply.c, never by writing to the client.
 *
 * NOTE(proxy): no client bytes are forwarded as they came. Every request
 * is composed again from its parsed form with proto's composers (one
 * space between tokens, no leading spaces, noreply and meta q stripped),
 * and a retrieval's keys are cut into requests of at most
 * PROXY_BACKEND_LINE_MAX bytes per line, stock memcached's limit for
 * non-get lines (it closes the connection past it): so whatever the
 * proxy accepts, every supported backend accepts too.
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
send_sub(struct worker *w, uint32_t affinity, struct pnode *n,
    struct preq *r, enum proto_cmd cmd, uint32_t sub, const void *data,
    size_t len)
{
    struct sreq *s = sreq_new(w);
    struct bconn *b;
    char why[PROXY_WHY_MAX];

    if (s == NULL) {
        if (r != NULL) {
            struct sreq tmp = { .node = n, .cmd = cmd, .sub = sub };

            reply_sub_fail(r, &tmp, "out of memory");
        }
        return;
    }
    s->preq = r;
    s->node = n;
    s->cmd = cmd;
    s->sub = sub;
    b = backend_pick(w, n, affinity);
    if (b != NULL && backend_send(b, s, data, len)) {
        return;
    }
    snprintf(why, sizeof(why), "backend %s %s", n->name, b == NULL ?
        "cannot be reached" : "is overloaded");
    CTR_ADD(&n->ctr[w->idx].errors, 1);
    if (r != NULL) {
        reply_sub_fail(r, s, why);
    }
    sreq_free(w, s);
}

/* The request as the backend must see it: composed, without noreply. */
static struct str
compose(struct worker *w, const struct proto_req *req)
{
    struct proto_req copy = *req;

    copy.noreply = false;
    buf_clear(&w->scratch);
    if (!proto_compose_req(&w->scratch, &copy)) {
        return (struct str){ NULL, 0 };
    }
    return (struct str){ buf_head(&w->scratch), w->scratch.len };
}

static void
route_key(struct worker *w, uint32_t affinity, struct preq *r,
    const struct proto_req *req)
{
    struct pnode *n;
    struct str out;
    uint32_t idx;
    char why[PROXY_WHY_MAX];
    bool down;

    n = owner_of(w, req->key, &idx, why, sizeof(why), &down);
    if (n == NULL) {
        if (r != NULL) {
            reply_fail(r, why);
        }
        return;
    }
    out = compose(w, req);
    if (out.ptr == NULL) {
        if (r != NULL) {
            reply_fail(r, "out of memory");
        }
        return;
    }
    if (r != NULL) {
        r->pending = 1;
    }
    send_sub(w, affinity, n, r, req->cmd, 0, out.ptr, out.len);
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
 * RING_NO_NODE instead: their keys are misses).
 */
static bool
collect_owners(struct worker *w, const struct proto_req *req, char *why,
    size_t whylen)
{
    struct proto_key_iter it;
    struct str key;
    uint32_t i = 0, idx;
    bool down;

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
        i++;
    }
    return true;
}

/* The length of "<cmd>[ <exptime>]", the head of every backend line. */
static size_t
retrieval_head(struct worker *w, const struct proto_req *req)
{
    buf_clear(&w->scratch);
    if (!proto_compose_retrieval(&w->scratch, req->cmd, req->exptime, NULL,
        0)) {
        return 0;
    }
    return w->scratch.len - 2;
}

static void
send_multi(struct worker *w, uint32_t affinity, struct preq *r,
    const struct proto_req *req)
{
    size_t i, nsubs = mget_nsubs(r->mg);

    r->pending = (uint32_t)nsubs;
    for (i = 0; i < nsubs; i++) {
        size_t nk = mget_sub_keys(r->mg, i, w->keys, w->keys_cap);
        uint32_t owner = mget_sub_owner(r->mg, i);
        struct sreq tmp = { .sub = (uint32_t)i, .cmd = req->cmd };

        if (owner == RING_NO_NODE) {
            mget_sub_done(r->mg, i);    /* down, --miss-when-down */
            reply_sub_end(r, &tmp);
            continue;
        }
        buf_clear(&w->scratch);
        if (!proto_compose_retrieval(&w->scratch, req->cmd, req->exptime,
            w->keys, nk)) {
            reply_sub_fail(r, &tmp, "out of memory");
            continue;
        }
        send_sub(w, affinity, w->ring->nodes[owner], r, req->cmd,
            (uint32_t)i, buf_head(&w->scratch), w->scratch.len);
    }
}

/*
 * get gets gat gats: every key to its owner, each distinct key once, in
 * lines a stock memcached accepts; the values come back in key order,
 * one per occurrence, as memcached answers "get a a".
 */
static void
route_get(struct worker *w, uint32_t affinity, struct preq *r,
    const struct proto_req *req)
{
    char why[PROXY_WHY_MAX];
    size_t head;

    CTR_ADD(&w->st.cmd_get, req->nkeys);
    if (req->cmd == PROTO_CMD_GAT || req->cmd == PROTO_CMD_GATS) {
        CTR_ADD(&w->st.cmd_touch, req->nkeys);
    }
    r->nkeys = req->nkeys;
    if (req->nkeys == 0) {
        reply_text(r, proto_reply_str(PROTO_REPLY_END));
        return;
    }
    if (!grow_keys(w, req->nkeys)) {
        reply_fail(r, "out of memory");
        return;
    }
    if (!collect_owners(w, req, why, sizeof(why))) {
        reply_fail(r, why);
        return;
    }
    head = retrieval_head(w, req);
    r->kind = PREQ_MULTI;
    r->mg = head == 0 ? NULL : mget_create(w->keys, w->owners, req->nkeys,
        head, PROXY_BACKEND_LINE_MAX);
    if (r->mg == NULL) {
        reply_fail(r, "out of memory");
        return;
    }
    send_multi(w, affinity, r, req);
}

/* The request text in w->scratch to every node of the ring, as one
 * sub-request each; r (NULL with noreply) waits for all. A down node
 * fails its part at once. */
static void
send_every(struct worker *w, uint32_t affinity, struct preq *r,
    enum preq_kind kind, enum proto_cmd cmd)
{
    const struct pring *ring = w->ring;
    size_t i;

    if (r != NULL) {
        r->kind = kind;
        r->pending = (uint32_t)ring->n;
    }
    for (i = 0; i < ring->n; i++) {
        struct pnode *n = ring->nodes[i];

        if (__atomic_load_n(&n->state, __ATOMIC_RELAXED) == PNODE_DOWN) {
            struct sreq tmp = { .node = n, .cmd = cmd };

            if (r != NULL) {
                reply_sub_fail(r, &tmp, "down");
            }
            continue;
        }
        send_sub(w, affinity, n, r, cmd, (uint32_t)i,
            buf_head(&w->scratch), w->scratch.len);
    }
}

static void
route_flush(struct worker *w, uint32_t affinity, struct preq *r,
    const struct proto_req *req)
{
    struct proto_req copy = *req;

    CTR_ADD(&w->st.cmd_flush, 1);
    copy.noreply = false;
    buf_clear(&w->scratch);
    if (!proto_compose_req(&w->scratch, &copy)) {
        if (r != NULL) {
            reply_fail(r, "out of memory");
        }
        return;
    }
    send_every(w, affinity, r, PREQ_FLUSH, req->cmd);
}

/* "lru_crawler metadump ..." or "stats cachedump ...": the union of
 * every node's listing (reply.c). Other lru_crawler commands steer one
 * node's crawler: the proxy does not forward them. */
static void
route_dump(struct worker *w, uint32_t affinity, struct preq *r,
    const struct proto_req *req)
{
    if (r == NULL) {
        return;
    }
    if (req->cmd == PROTO_CMD_LRU_CRAWLER &&
        (req->args.len < 9 || memcmp(req->args.ptr, "metadump ", 9) != 0)) {
        reply_text(r, proto_reply_str(PROTO_REPLY_ERROR));
        return;
    }
    if (req->args.len + 32 > PROXY_BACKEND_LINE_MAX) {
        reply_text(r, proto_reply_str(PROTO_REPLY_BAD_LINE));
        return;
    }
    buf_clear(&w->scratch);
    if (!buf_printf(&w->scratch, "%s %.*s\r\n", proto_cmd_name(req->cmd),
        (int)req->args.len, req->args.ptr)) {
        reply_fail(r, "out of memory");
        return;
    }
    send_every(w, affinity, r, PREQ_DUMP, req->cmd);
}

void
route_too_large(struct worker *w, uint32_t affinity,
    const struct proto_req *req)
{
    char kbuf[PROTO_META_KEY_MAX], why[PROXY_WHY_MAX];
    struct pnode *n;
    uint32_t idx;
    bool down, ok;

    if (req->err != PROTO_REPLY_TOO_LARGE || req->key.len == 0 ||
        (req->cmd != PROTO_CMD_SET && req->cmd != PROTO_CMD_MS)) {
        return;
    }
    n = owner_of(w, req->cmd == PROTO_CMD_MS ? proto_meta_key(req, kbuf) :
        req->key, &idx, why, sizeof(why), &down);
    if (n == NULL) {
        return;
    }
    buf_clear(&w->scratch);
    if (req->cmd == PROTO_CMD_SET) {
        ok = buf_printf(&w->scratch, "delete %.*s\r\n", (int)req->key.len,
            req->key.ptr);
    } else {
        ok = buf_printf(&w->scratch, "md %.*s%s\r\n", (int)req->key.len,
            req->key.ptr, proto_meta_has(req, 'b') ? " b" : "");
    }
    if (ok) {
        send_sub(w, affinity, n, NULL, req->cmd == PROTO_CMD_SET ?
            PROTO_CMD_DELETE : PROTO_CMD_MD, 0, buf_head(&w->scratch),
            w->scratch.len);
    }
}

/* A meta request composed from its parsed form, without its q flag word
 * (the proxy applies q itself). */
static struct str
compose_meta(struct worker *w, const struct proto_req *req)
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
route_meta(struct worker *w, uint32_t affinity, struct preq *r,
    const struct proto_req *req)
{
    char kbuf[PROTO_META_KEY_MAX], why[PROXY_WHY_MAX];
    struct str key = proto_meta_key(req, kbuf), out, word;
    struct proto_key_iter it;
    struct pnode *n;
    uint32_t idx;
    bool down;

    if (req->cmd == PROTO_CMD_MG) {
        CTR_ADD(&w->st.cmd_get, 1);
    } else if (req->cmd == PROTO_CMD_MS) {
        CTR_ADD(&w->st.cmd_set, 1);
    }
    n = owner_of(w, key, &idx, why, sizeof(why), &down);
    if (n == NULL) {
        reply_fail(r, why);
        return;
    }
    out = compose_meta(w, req);
    if (out.ptr == NULL) {
        reply_fail(r, "out of memory");
        return;
    }
    r->quiet = proto_meta_has(req, 'q');
    r->meta = true;
    memcpy(r->mkey, key.ptr, key.len);
    r->mkey_len = (uint8_t)key.len;
    proto_meta_begin(req, &it);
    while (proto_keys_next(&it, &word)) {
        if (word.ptr[0] == 'O' && word.len <= sizeof(r->opaque)) {
            memcpy(r->opaque, word.ptr, word.len);
            r->opaque_len = (uint8_t)word.len;
        }
    }
    r->pending = 1;
    send_sub(w, affinity, n, r, req->cmd, 0, out.ptr, out.len);
}

void
route_request(struct worker *w, uint32_t affinity, struct preq *r,
    const struct proto_req *req)
{
    if (proto_cmd_is_retrieval(req->cmd)) {
        route_get(w, affinity, r, req);
        return;
    }
    if (proto_cmd_is_storage(req->cmd)) {
        CTR_ADD(&w->st.cmd_set, 1);
        route_key(w, affinity, r, req);
        return;
    }
    switch (req->cmd) {
    case PROTO_CMD_TOUCH:
        CTR_ADD(&w->st.cmd_touch, 1);
        route_key(w, affinity, r, req);
        break;
    case PROTO_CMD_DELETE:
    case PROTO_CMD_INCR:
    case PROTO_CMD_DECR:
        route_key(w, affinity, r, req);
        break;
    case PROTO_CMD_FLUSH_ALL:
        route_flush(w, affinity, r, req);
        break;
    case PROTO_CMD_LRU_CRAWLER:
    case PROTO_CMD_STATS:
        route_dump(w, affinity, r, req);
        break;
    default:
        route_meta(w, affinity, r, req);
        break;
    }
}
