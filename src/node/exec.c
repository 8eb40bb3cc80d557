/*
 * Command execution: one parsed request becomes store calls and memcached's
 * exact reply. Values go out by reference to the item's memory; the item
 * reference is dropped when net has written them.
 */
#include "node/node_int.h"

#include <stdio.h>
#include <string.h>

#include "config.h"

#include "net/net.h"
#include "proto/proto.h"
#include "store/store.h"
#include "util/util.h"

const char node_version[] = NODE_MEMCACHED_COMPAT "-ringcached-"
    PACKAGE_VERSION;

/* NOTE(node): net's release callback takes one pointer; the store is one
 * per process, so it lives here rather than in every queued segment. */
static struct store *release_store;

void
node_exec_set_store(struct store *st)
{
    release_store = st;
}

static void
release_item(void *arg)
{
    item_unref(release_store, arg);
}

void
node_release_item(struct item *it)
{
    item_unref(release_store, it);
}

bool
node_send_item_value(struct session *s, struct item *it)
{
    size_t vlen = item_value_len(it);
    struct item_segs segs;
    struct str seg;
    struct str next;
    bool more;

    STAT_ADD(&s->w->ctr, bytes_written, vlen);
    if (item_contiguous(it)) {
        if (net_conn_write_ref(s->conn, item_value(it), vlen, release_item,
            it) != NET_OK) {
            return false;
        }
        return session_reply(s, proto_reply_str(PROTO_REPLY_CRLF));
    }
    /* A chained value: one segment per chunk, the last one releases. */
    item_segs_begin(it, &segs);
    more = item_segs_next(&segs, &seg);
    while (more) {
        more = item_segs_next(&segs, &next);
        if (net_conn_write_ref(s->conn, seg.ptr, seg.len,
            more ? NULL : release_item, it) != NET_OK) {
            if (more) {
                item_unref(release_store, it);
            }
            return false;
        }
        seg = next;
    }
    return session_reply(s, proto_reply_str(PROTO_REPLY_CRLF));
}

static bool
reply(struct session *s, const struct proto_req *req, enum proto_reply r)
{
    if (req->noreply) {
        return true;
    }
    return session_reply(s, proto_reply_str(r));
}

/* Queue "VALUE ...\r\n", the value bytes by reference, and "\r\n". Always
 * consumes the caller's reference to `it`. */
static bool
send_value(struct session *s, struct item *it, bool with_cas)
{
    char hdr[PROTO_VALUE_HDR_MAX];
    size_t hlen;

    hlen = proto_compose_value(hdr, item_key(it), item_flags(it),
        (uint32_t)item_value_len(it), with_cas,
        s->w->node->cfg->no_cas ? 0 : item_cas(it));
    if (!session_reply(s, (struct str){ hdr, hlen })) {
        item_unref(release_store, it);
        return false;
    }
    return node_send_item_value(s, it);
}

static bool
exec_retrieval(struct session *s, const struct proto_req *req, uint32_t now)
{
    struct node *n = s->w->node;
    struct proto_key_iter it;
    struct item *item;
    struct str key;
    bool touch = req->cmd == PROTO_CMD_GAT || req->cmd == PROTO_CMD_GATS;
    bool cas = req->cmd == PROTO_CMD_GETS || req->cmd == PROTO_CMD_GATS;
    enum store_status st;

    proto_keys_begin(req, &it);
    while (proto_keys_next(&it, &key)) {
        if (touch) {
            STAT_ADD(&s->w->ctr, cmd_touch, 1);
            st = store_gat(n->store, key, req->exptime, now, &item);
        } else {
            st = store_get(n->store, key, now, &item);
        }
        STAT_ADD(&s->w->ctr, cmd_get, 1);
        if (st == STORE_OK && !send_value(s, item, cas)) {
            return false;
        }
    }
    return session_reply(s, proto_reply_str(PROTO_REPLY_END));
}

static enum store_mode
storage_mode(enum proto_cmd cmd)
{
    switch (cmd) {
    case PROTO_CMD_ADD:
        return STORE_ADD;
    case PROTO_CMD_REPLACE:
        return STORE_REPLACE;
    case PROTO_CMD_APPEND:
        return STORE_APPEND;
    case PROTO_CMD_PREPEND:
        return STORE_PREPEND;
    case PROTO_CMD_CAS:
        return STORE_CAS;
    default:
        return STORE_SET;
    }
}

/* The reply to a store status (one table for every command). */
static enum proto_reply
status_reply(enum store_status st, enum proto_reply ok)
{
    switch (st) {
    case STORE_OK:
        return ok;
    case STORE_NOT_FOUND:
        return PROTO_REPLY_NOT_FOUND;
    case STORE_NOT_STORED:
        return PROTO_REPLY_NOT_STORED;
    case STORE_EXISTS:
        return PROTO_REPLY_EXISTS;
    case STORE_NON_NUMERIC:
        return PROTO_REPLY_NON_NUMERIC;
    case STORE_TOO_LARGE:
        return PROTO_REPLY_TOO_LARGE;
    case STORE_ENOMEM:
        return PROTO_REPLY_OUT_OF_MEMORY;
    case STORE_EINVAL:
        return PROTO_REPLY_BAD_FORMAT;
    }
    return PROTO_REPLY_ERROR;
}

/* A storage command whose item could not be allocated (`st`): drop the
 * old value of a set, count, reply. As node_exec(). */
static bool
storage_failed(struct session *s, const struct proto_req *req,
    enum store_status st, uint32_t now)
{
    struct node *n = s->w->node;

    if (req->cmd == PROTO_CMD_SET) {
        /* memcached: a set that cannot be stored drops the old value. */
        (void)store_delete(n->store, req->key, 0, now);
    }
    if (st == STORE_TOO_LARGE) {
        STAT_ADD(&s->w->ctr, store_too_large, 1);
    } else if (st == STORE_ENOMEM) {
        STAT_ADD(&s->w->ctr, store_no_memory, 1);
    }
    return reply(s, req, status_reply(st, PROTO_REPLY_STORED));
}

bool
node_storage_link(struct session *s, enum proto_cmd cmd, struct item *it,
    uint64_t cas, bool noreply, uint32_t now)
{
    struct node *n = s->w->node;
    enum store_status st;

    st = store_link(n->store, it, storage_mode(cmd), cas, now, NULL);
    if (st == STORE_TOO_LARGE) {
        STAT_ADD(&s->w->ctr, store_too_large, 1);
    } else if (st == STORE_ENOMEM) {
        STAT_ADD(&s->w->ctr, store_no_memory, 1);
    }
    if (noreply) {
        return true;
    }
    return session_reply(s,
        proto_reply_str(status_reply(st, PROTO_REPLY_STORED)));
}

struct item *
node_storage_alloc(struct session *s, const struct proto_req *req,
    uint32_t now, bool *alive)
{
    struct node *n = s->w->node;
    struct item *it;
    enum store_status st;

    STAT_ADD(&s->w->ctr, cmd_set, 1);
    st = store_alloc(n->store, req->key, req->flags, req->exptime,
        req->data.len, now, &it);
    if (st != STORE_OK) {
        *alive = storage_failed(s, req, st, now);
        return NULL;
    }
    *alive = true;
    return it;
}

static bool
exec_storage(struct session *s, const struct proto_req *req, uint32_t now)
{
    bool alive;
    struct item *it = node_storage_alloc(s, req, now, &alive);

    if (it == NULL) {
        return alive;
    }
    item_value_write(it, 0, req->data.ptr, req->data.len);
    return node_storage_link(s, req->cmd, it, req->cas, req->noreply, now);
}

static bool
exec_arith(struct session *s, const struct proto_req *req, uint32_t now)
{
    struct node *n = s->w->node;
    char num[PROTO_NUMBER_MAX];
    enum store_status st;
    uint64_t v;

    st = store_arith(n->store, req->key, req->cmd == PROTO_CMD_INCR,
        req->delta, 0, now, &v, NULL);
    if (st == STORE_OK) {
        if (req->noreply) {
            return true;
        }
        return session_reply(s,
            (struct str){ num, proto_compose_number(num, v) });
    }
    if (st == STORE_ENOMEM && !req->noreply) {
        return session_reply(s, STR_LIT("SERVER_ERROR out of memory\r\n"));
    }
    return reply(s, req, status_reply(st, PROTO_REPLY_NONE));
}

static bool
exec_flush(struct session *s, const struct proto_req *req, uint32_t now)
{
    struct node *n = s->w->node;

    STAT_ADD(&s->w->ctr, cmd_flush, 1);
    if (n->cfg->disable_flush) {
        return req->noreply || session_reply(s,
            STR_LIT("CLIENT_ERROR flush_all not allowed\r\n"));
    }
    store_flush(n->store, req->has_exptime ? req->exptime : 0, now);
    return reply(s, req, PROTO_REPLY_OK);
}

static bool
exec_stats(struct session *s, const struct proto_req *req, uint32_t now)
{
    struct node *n = s->w->node;
    struct buf b;
    bool ok;

    if (str_eq_cstr(req->args, "reset")) {
        node_stats_reset(n);
        return session_reply(s, proto_reply_str(PROTO_REPLY_RESET));
    }
    if (req->args.len >= 9 && memcmp(req->args.ptr, "cachedump", 9) == 0 &&
        (req->args.len == 9 || req->args.ptr[9] == ' ')) {
        return node_cachedump(s, req->args);
    }
    buf_init(&b);
    if (!node_stats(n, req->args, now, &b)) {
        buf_fini(&b);
        return session_reply(s, proto_reply_str(PROTO_REPLY_ERROR));
    }
    ok = b.len > 0 ? session_reply_buf(s, &b) :
        session_reply(s, STR_LIT("SERVER_ERROR out of memory writing stats "
        "response\r\n"));
    buf_fini(&b);
    return ok;
}

static bool
exec_version(struct session *s)
{
    char line[128];
    int n = snprintf(line, sizeof(line), "VERSION %s\r\n", node_version);

    return session_reply(s, (struct str){ line, (size_t)n });
}

static bool
exec_verbosity(struct session *s, const struct proto_req *req)
{
    struct node *n = s->w->node;
    unsigned level = req->level > 3 ? 3 : req->level;

    __atomic_store_n(&n->verbosity, level, __ATOMIC_RELAXED);
    util_log_set_level(level >= 2 ? LOG_LEVEL_DEBUG :
        level == 1 ? LOG_LEVEL_INFO : LOG_LEVEL_WARN);
    return reply(s, req, PROTO_REPLY_OK);
}

static bool
exec_shutdown(struct session *s, const struct proto_req *req)
{
    struct node *n = s->w->node;

    if (!n->cfg->enable_shutdown) {
        return session_reply(s, proto_reply_str(PROTO_REPLY_SHUTDOWN_OFF));
    }
    if (req->args.len > 0 && !str_eq_cstr(req->args, "graceful")) {
        return session_reply(s,
            STR_LIT("CLIENT_ERROR invalid shutdown mode\r\n"));
    }
    log_info("shutdown requested by a client");
    net_server_shutdown(n->srv);
    return false;
}

/* The first space-separated word of *rest, consumed; false if none. */
static bool
next_word(struct str *rest, struct str *w)
{
    size_t i = 0;

    while (i < rest->len && rest->ptr[i] == ' ') {
        i++;
    }
    w->ptr = rest->ptr + i;
    while (i < rest->len && rest->ptr[i] != ' ') {
        i++;
    }
    w->len = (size_t)(rest->ptr + i - w->ptr);
    rest->ptr += i;
    rest->len -= i;
    return w->len > 0;
}

static const char *const reassign_replies[] = {
    [STORE_REASSIGN_OK] = "OK\r\n",
    [STORE_REASSIGN_BUSY] = "BUSY currently processing reassign request\r\n",
    [STORE_REASSIGN_BADCLASS] = "BADCLASS invalid src or dst class id\r\n",
    [STORE_REASSIGN_NOSPARE] = "NOSPARE source class has no spare pages\r\n",
    [STORE_REASSIGN_SAME] = "SAME src and dst class are identical\r\n",
};

/* slabs reassign <src> <dst> | slabs automove <0|1|2>, with memcached's
 * replies (protocol.txt, "Slabs Reassign"). */
static bool
exec_slabs(struct session *s, const struct proto_req *req)
{
    struct node *n = s->w->node;
    struct str rest = req->args;
    struct str w[4];
    unsigned nw = 0;
    int64_t src;
    int64_t dst;
    uint32_t level;

    while (nw < 4 && next_word(&rest, &w[nw])) {
        nw++;
    }
    if (nw == 3 && str_eq_cstr(w[0], "reassign")) {
        if (!util_parse_i64(w[1], &src) || !util_parse_i64(w[2], &dst)
            || src < INT32_MIN || src > INT32_MAX || dst < INT32_MIN
            || dst > INT32_MAX) {
            return session_reply(s,
                proto_reply_str(PROTO_REPLY_BAD_FORMAT));
        }
        return session_reply(s, str_from_cstr(reassign_replies[
            store_reassign(n->store, (int)src, (int)dst)]));
    }
    if (nw >= 2 && str_eq_cstr(w[0], "automove")) {
        if (!util_parse_u32(w[1], &level)) {
            return session_reply(s,
                proto_reply_str(PROTO_REPLY_BAD_FORMAT));
        }
        if (level > 2) {
            return session_reply(s, proto_reply_str(PROTO_REPLY_ERROR));
        }
        store_set_automove(n->store, level);
        return session_reply(s, proto_reply_str(PROTO_REPLY_OK));
    }
    return session_reply(s, proto_reply_str(PROTO_REPLY_ERROR));
}

bool
node_exec(struct session *s, const struct proto_req *req, uint32_t now)
{
    struct node *n = s->w->node;
    enum store_status st;

    /* -vv (or "verbosity 2"): one line per command, as memcached. */
    if (__atomic_load_n(&n->verbosity, __ATOMIC_RELAXED) >= 2) {
        log_debug("<%d %s %.*s", s->fd, proto_cmd_name(req->cmd),
            (int)req->key.len, req->key.ptr);
    }
    switch (req->cmd) {
    case PROTO_CMD_GET:
    case PROTO_CMD_GETS:
    case PROTO_CMD_GAT:
    case PROTO_CMD_GATS:
        return exec_retrieval(s, req, now);
    case PROTO_CMD_SET:
    case PROTO_CMD_ADD:
    case PROTO_CMD_REPLACE:
    case PROTO_CMD_APPEND:
    case PROTO_CMD_PREPEND:
    case PROTO_CMD_CAS:
        return exec_storage(s, req, now);
    case PROTO_CMD_DELETE:
        st = store_delete(n->store, req->key, 0, now);
        return reply(s, req, status_reply(st, PROTO_REPLY_DELETED));
    case PROTO_CMD_INCR:
    case PROTO_CMD_DECR:
        return exec_arith(s, req, now);
    case PROTO_CMD_TOUCH:
        STAT_ADD(&s->w->ctr, cmd_touch, 1);
        st = store_touch(n->store, req->key, req->exptime, now);
        return reply(s, req, status_reply(st, PROTO_REPLY_TOUCHED));
    case PROTO_CMD_FLUSH_ALL:
        return exec_flush(s, req, now);
    case PROTO_CMD_STATS:
        return exec_stats(s, req, now);
    case PROTO_CMD_VERSION:
        return exec_version(s);
    case PROTO_CMD_VERBOSITY:
        return exec_verbosity(s, req);
    case PROTO_CMD_QUIT:
        return false;
    case PROTO_CMD_SHUTDOWN:
        return exec_shutdown(s, req);
    case PROTO_CMD_LRU_CRAWLER:
        return node_lru_crawler(s, req->args);
    case PROTO_CMD_SLABS:
        return exec_slabs(s, req);
    default:
        return node_exec_meta(s, req, now);
    }
}
