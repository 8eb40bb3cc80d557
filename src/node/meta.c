/*
 * The meta commands on the node: mg ms md ma me mn over the store API
 * with memcached 1.6.18's replies, quiet mode (q), opaque and key echoes,
 * CAS on every command, vivify (N), recache (R), invalidation (I) and the
 * stale-while-revalidate win/stale flags (W X Z).
 *
 * Quiet mode as memcached 1.6.18: q hides mg's EN, ms's HD, md's HD and
 * a successful ma (HD or VA); every other reply and every error is sent.
 * mn is answered in order like any command, so it ends a quiet batch.
 */
#include "node/node_int.h"

#include <string.h>

#include "net/net.h"
#include "proto/proto.h"
#include "store/store.h"
#include "util/util.h"

/* A request's key as stored: decoded into the caller's buffer for b. */
struct meta_key {
    char buf[PROTO_META_KEY_MAX];
    struct str key;
    bool binary;
};

static void
meta_key_init(struct meta_key *k, const struct proto_req *req)
{
    k->key = proto_meta_key(req, k->buf);
    k->binary = proto_meta_has(req, 'b');
}

static bool
quiet(const struct proto_req *req)
{
    return proto_meta_has(req, 'q');
}

/* Compose and queue the reply line for `req` and `mi`. */
static bool
send_line(struct session *s, const struct proto_req *req,
    const struct proto_meta_info *mi)
{
    char line[PROTO_META_HDR_MAX];

    return session_reply(s,
        (struct str){ line, proto_compose_meta(line, req, mi) });
}

/* A reply that echoes only O and k (misses, ms, md). */
static bool
send_status(struct session *s, const struct proto_req *req,
    const struct meta_key *k, enum proto_meta_code code, uint64_t cas)
{
    struct proto_meta_info mi = {
        .code = code, .key = k->key, .key_binary = k->binary, .cas = cas,
    };

    return send_line(s, req, &mi);
}

/* Remaining TTL as the t flag shows it: -1 for none. */
static int64_t
ttl_of(uint32_t exptime, uint32_t now)
{
    return exptime == 0 ? -1 : (int64_t)exptime - (int64_t)now;
}

/* True if flag `a` comes after flag `b` in the request (both present). */
static bool
flag_after(const struct proto_req *req, char a, char b)
{
    struct proto_key_iter it;
    struct str w;
    bool seen_b = false;

    proto_meta_begin(req, &it);
    while (proto_keys_next(&it, &w)) {
        if (w.ptr[0] == b) {
            seen_b = true;
        } else if (w.ptr[0] == a) {
            return seen_b;
        }
    }
    return false;
}

/* An item's expiry without touching it (0 if none, or no item). */
static uint32_t
peek_exptime(struct store *st, struct str key, uint32_t now)
{
    uint32_t e = 0;

    (void)store_peek(st, key, now, &e);
    return e;
}

/* Is there a live item for `key`? (Nothing about it changes.) */
static bool
key_is_live(struct store *st, struct str key, uint32_t now)
{
    uint32_t e;

    return store_peek(st, key, now, &e) == STORE_OK;
}

/* ---- mg ------------------------------------------------------------------ */

static void
mget_opts(const struct proto_req *req, struct store_mget_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->no_bump = proto_meta_has(req, 'u');
    o->touch = proto_meta_has(req, 'T');
    o->touch_ttl = req->exptime;
    o->touch_first = o->touch && !flag_after(req, 'T', 'R');
    o->vivify = proto_meta_has(req, 'N');
    o->vivify_ttl = req->vivify;
    o->recache = proto_meta_has(req, 'R');
    o->recache_ttl = req->recache;
}

/* The hit's reply line and, with v, the value by reference. Consumes the
 * reference to `it`. As memcached, a hit's k comes from the item: base64
 * if an ms with b stored it, whatever the request's b. */
static bool
send_hit(struct session *s, const struct proto_req *req, struct item *it,
    const struct store_mget_res *r, uint32_t exptime_before, uint32_t now)
{
    struct proto_meta_info mi = {
        .code = proto_meta_has(req, 'v') ? PROTO_META_VA : PROTO_META_HD,
        .hit = true, .created = r->vivified,
        .fetched = r->hit_before, .token_sent = r->token_sent,
        .stale = r->stale, .won = r->win, .key = item_key(it),
        .key_binary = item_key_binary(it),
        .size = (uint32_t)item_value_len(it), .flags = item_flags(it),
        .last_access = -1, .cas = item_cas(it),
        .ttl_before = ttl_of(exptime_before, now),
        .ttl_after = ttl_of(item_exptime(it), now),
    };

    if (!send_line(s, req, &mi)) {
        node_release_item(it);
        return false;
    }
    if (mi.code == PROTO_META_HD) {
        node_release_item(it);
        return true;
    }
    return node_send_item_value(s, it);
}

static bool
exec_mg(struct session *s, const struct proto_req *req, uint32_t now)
{
    struct store *st = s->w->node->store;
    struct store_mget_opts o;
    struct store_mget_res r;
    struct meta_key k;
    struct item *it;
    uint32_t before = 0;

    meta_key_init(&k, req);
    mget_opts(req, &o);
    /* memcached counts an mg with T as a touch, else as a get. */
    if (o.touch) {
        STAT_ADD(&s->w->ctr, cmd_touch, 1);
    } else {
        STAT_ADD(&s->w->ctr, cmd_get, 1);
    }
    /* NOTE(meta): a t before T shows the old TTL; only then is it read
     * first (a second lookup, without a bump). */
    if (o.touch && flag_after(req, 'T', 't')) {
        before = peek_exptime(st, k.key, now);
    }
    if (store_mget(st, k.key, &o, now, &it, &r) != STORE_OK) {
        return quiet(req) || send_status(s, req, &k, PROTO_META_EN, 0);
    }
    if (!(o.touch && flag_after(req, 'T', 't'))) {
        before = r.vivified ? 0 : item_exptime(it);
    }
    return send_hit(s, req, it, &r, before, now);
}

/* ---- ms ------------------------------------------------------------------ */

/* memcached's mode letters; C turns set and replace into a CAS (with I,
 * one that may store stale under an older CAS). */
static enum store_mode
ms_mode(const struct proto_req *req)
{
    bool cas = proto_meta_has(req, 'C');

    switch (req->mode) {
    case 'E':
        return STORE_ADD;
    case 'A':
        return STORE_APPEND;
    case 'P':
        return STORE_PREPEND;
    case 'R':
        if (!cas) {
            return STORE_REPLACE;
        }
        break;
    default:
        if (!cas) {
            return STORE_SET;
        }
        break;
    }
    /* NOTE(meta): memcached 1.6.18 answers C0 I with EX: no stale store
     * without a real CAS. */
    return proto_meta_has(req, 'I') && req->cas != 0 ? STORE_CAS_STALE :
        STORE_CAS;
}

static enum proto_meta_code
ms_code(enum store_status st)
{
    switch (st) {
    case STORE_OK:
        return PROTO_META_HD;
    case STORE_EXISTS:
        return PROTO_META_EX;
    case STORE_NOT_FOUND:
        return PROTO_META_NF;
    default:
        return PROTO_META_NS;
    }
}

struct item *
node_meta_ms_alloc(struct session *s, const struct proto_req *req,
    uint32_t now, bool *alive)
{
    struct store *st = s->w->node->store;
    struct meta_key k;
    struct item *it;
    enum store_status rc;

    meta_key_init(&k, req);
    STAT_ADD(&s->w->ctr, cmd_set, 1);
    rc = store_alloc(st, k.key, req->flags, req->has_exptime ? req->exptime :
        0, req->data.len, now, &it);
    if (rc == STORE_OK) {
        if (k.binary) {
            item_mark_key_binary(it);
        }
        *alive = true;
        return it;
    }
    /* memcached: a value that cannot be stored drops the old one. */
    (void)store_delete(st, k.key, 0, now);
    if (rc == STORE_TOO_LARGE) {
        STAT_ADD(&s->w->ctr, store_too_large, 1);
        *alive = session_reply(s, proto_reply_str(PROTO_REPLY_TOO_LARGE));
        return NULL;
    }
    STAT_ADD(&s->w->ctr, store_no_memory, 1);
    *alive = session_reply(s, proto_reply_str(PROTO_REPLY_OUT_OF_MEMORY));
    return NULL;
}

bool
node_meta_ms_link(struct session *s, const struct proto_req *req,
    struct item *it, uint32_t now)
{
    struct store *st = s->w->node->store;
    struct meta_key k;
    enum store_status rc;
    uint64_t cas = 0;

    meta_key_init(&k, req);
    /* An append that cannot be joined is "NS", as in memcached. */
    rc = store_link(st, it, ms_mode(req), req->cas, now, &cas);
    if (rc == STORE_OK && quiet(req)) {
        return true;
    }
    return send_status(s, req, &k, ms_code(rc), rc == STORE_OK ? cas : 0);
}

static bool
exec_ms(struct session *s, const struct proto_req *req, uint32_t now)
{
    bool alive;
    struct item *it = node_meta_ms_alloc(s, req, now, &alive);

    if (it == NULL) {
        return alive;
    }
    item_value_write(it, 0, req->data.ptr, req->data.len);
    return node_meta_ms_link(s, req, it, now);
}

void
node_meta_refused(struct session *s, const struct proto_req *req,
    uint32_t now)
{
    struct meta_key k;

    if (req->cmd == PROTO_CMD_MS && req->err == PROTO_REPLY_TOO_LARGE) {
        meta_key_init(&k, req);
        (void)store_delete(s->w->node->store, k.key, 0, now);
        STAT_ADD(&s->w->ctr, store_too_large, 1);
    }
}

/* ---- md ------------------------------------------------------------------ */

static bool
exec_md(struct session *s, const struct proto_req *req, uint32_t now)
{
    struct store *st = s->w->node->store;
    struct meta_key k;
    enum store_status rc;
    uint64_t cas = proto_meta_has(req, 'C') ? req->cas : 0;

    meta_key_init(&k, req);
    if (proto_meta_has(req, 'C') && cas == 0) {
        /* memcached compares C0 too (no item has CAS 0): never a match. */
        rc = key_is_live(st, k.key, now) ? STORE_EXISTS :
            STORE_NOT_FOUND;
    } else if (proto_meta_has(req, 'I')) {
        rc = store_invalidate(st, k.key, cas, req->has_exptime, req->exptime,
            now);
    } else {
        rc = store_delete(st, k.key, cas, now);
    }
    if (rc == STORE_OK && quiet(req)) {
        return true;
    }
    return send_status(s, req, &k, rc == STORE_OK ? PROTO_META_HD :
        rc == STORE_EXISTS ? PROTO_META_EX : PROTO_META_NF, 0);
}

/* ---- ma ------------------------------------------------------------------ */

/* ma on a miss with N: add the initial value (flags 0). STORE_OK with the
 * new CAS, or why not. The expiry is N's, or T's if T comes later. */
static enum store_status
ma_vivify(struct store *st, const struct proto_req *req, struct str key,
    uint32_t now, uint64_t *cas)
{
    char num[24];
    size_t n = util_fmt_u64(num, req->initial);
    int64_t exp = proto_meta_has(req, 'T') && flag_after(req, 'T', 'N') ?
        req->exptime : req->vivify;

    return store_set(st, STORE_ADD, key, 0, exp, (struct str){ num, n }, 0,
        now, cas);
}

/* ma's reply after a change: "HD"/"VA <len>" with c t O k, the number. */
static bool
send_number(struct session *s, const struct proto_req *req,
    const struct meta_key *k, struct proto_meta_info *mi, uint64_t v)
{
    char num[24];
    size_t n = util_fmt_u64(num, v);

    mi->code = proto_meta_has(req, 'v') ? PROTO_META_VA : PROTO_META_HD;
    mi->hit = true;
    mi->key = k->key;
    mi->key_binary = k->binary;
    mi->size = (uint32_t)n;
    if (!send_line(s, req, mi)) {
        return false;
    }
    return mi->code == PROTO_META_HD || (session_reply(s,
        (struct str){ num, n }) && session_reply(s,
        proto_reply_str(PROTO_REPLY_CRLF)));
}

/* ma that found its item: T, and the TTLs its t flags show. */
static void
ma_ttl(struct store *st, const struct proto_req *req, struct str key,
    uint32_t now, struct proto_meta_info *mi)
{
    bool t = proto_meta_has(req, 't');

    mi->ttl_before = t ? ttl_of(peek_exptime(st, key, now), now) : -1;
    if (proto_meta_has(req, 'T')) {
        (void)store_set_exptime(st, key, req->exptime, now);
        mi->ttl_after = t ? ttl_of(peek_exptime(st, key, now), now) : -1;
    }
}

static bool
exec_ma(struct session *s, const struct proto_req *req, uint32_t now)
{
    struct store *st = s->w->node->store;
    struct proto_meta_info mi = { .ttl_before = -1, .ttl_after = -1 };
    struct meta_key k;
    enum store_status rc;
    uint64_t v = req->initial;

    meta_key_init(&k, req);
    rc = store_arith(st, k.key, req->mode != 'D' && req->mode != '-',
        req->delta, proto_meta_has(req, 'C') ? req->cas : 0, now, &v,
        &mi.cas);
    if (rc == STORE_OK) {
        ma_ttl(st, req, k.key, now, &mi);
        return quiet(req) || send_number(s, req, &k, &mi, v);
    }
    if (rc == STORE_NOT_FOUND && proto_meta_has(req, 'N')) {
        /* NOTE(meta): memcached answers a vivified ma even with q. */
        rc = ma_vivify(st, req, k.key, now, &mi.cas);
        if (rc == STORE_OK) {
            mi.created = true;
            mi.ttl_after = ttl_of(peek_exptime(st, k.key, now), now);
            return send_number(s, req, &k, &mi, req->initial);
        }
        if (rc == STORE_ENOMEM || rc == STORE_TOO_LARGE) {
            return session_reply(s, proto_reply_str(PROTO_REPLY_VIVIFY_OOM));
        }
    }
    switch (rc) {
    case STORE_NON_NUMERIC:
        return session_reply(s, proto_reply_str(PROTO_REPLY_NON_NUMERIC));
    case STORE_ENOMEM:
        return session_reply(s, proto_reply_str(PROTO_REPLY_ARITH_OOM));
    default:
        return send_status(s, req, &k, rc == STORE_EXISTS ? PROTO_META_EX :
            rc == STORE_NOT_STORED ? PROTO_META_NS : PROTO_META_NF, 0);
    }
}

/* ---- me ------------------------------------------------------------------ */

static bool
exec_me(struct session *s, const struct proto_req *req, uint32_t now)
{
    struct store *st = s->w->node->store;
    struct store_mget_opts o = { .no_bump = true, .no_win = true };
    struct store_mget_res r;
    struct meta_key k;
    struct item *it;
    char line[PROTO_META_HDR_MAX];
    size_t n;
    uint32_t e;

    meta_key_init(&k, req);
    if (store_mget(st, k.key, &o, now, &it, &r) != STORE_OK) {
        return session_reply(s, proto_reply_str(PROTO_REPLY_META_EN));
    }
    e = item_exptime(it);
    /* NOTE(meta): memcached 1.6.18 prints now - expiry (negative for a
     * live item), as here; its la= and cls= come from an access time and
     * a slab layout this store does not have, so they are left out, and
     * size= is the key and value bytes. A key stored with b is shown in
     * base64 without a " b" marker, as memcached does. */
    n = proto_compose_me(line, item_key(it), item_key_binary(it),
        e == 0 ? -1 : (int64_t)now - (int64_t)e, item_cas(it), r.hit_before,
        item_key(it).len + item_value_len(it));
    node_release_item(it);
    return session_reply(s, (struct str){ line, n });
}

bool
node_exec_meta(struct session *s, const struct proto_req *req, uint32_t now)
{
    STAT_ADD(&s->w->ctr, cmd_meta, 1);
    switch (req->cmd) {
    case PROTO_CMD_MG:
        return exec_mg(s, req, now);
    case PROTO_CMD_MS:
        return exec_ms(s, req, now);
    case PROTO_CMD_MD:
        return exec_md(s, req, now);
    case PROTO_CMD_MA:
        return exec_ma(s, req, now);
    case PROTO_CMD_ME:
        return exec_me(s, req, now);
    case PROTO_CMD_MN:
        return session_reply(s, proto_reply_str(PROTO_REPLY_MN));
    default:
        return session_reply(s, proto_reply_str(PROTO_REPLY_ERROR));
    }
}
