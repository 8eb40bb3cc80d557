/*
 * ringbench's per-connection protocol engine: compose requests, match and
 * verify replies (see session.h).
 */
#include "bench/session.h"

#include <stdlib.h>
#include <string.h>

#include "proto/proto.h"
#include "util/util.h"

void
session_stats_init(struct session_stats *st)
{
    memset(st, 0, sizeof(*st));
    hist_init(&st->latency);
}

void
session_stats_merge(struct session_stats *dst,
    const struct session_stats *src)
{
    dst->requests += src->requests;
    dst->gets += src->gets;
    dst->sets += src->sets;
    dst->keys_asked += src->keys_asked;
    dst->hits += src->hits;
    dst->stored += src->stored;
    dst->not_stored += src->not_stored;
    dst->server_errors += src->server_errors;
    dst->bad_values += src->bad_values;
    dst->stale_values += src->stale_values;
    dst->protocol_errors += src->protocol_errors;
    hist_merge(&dst->latency, &src->latency);
}

enum session_status
session_init(struct session *s, const struct session_cfg *cfg,
    size_t max_outstanding, uint64_t seed, unsigned conn_index,
    unsigned nconns)
{
    size_t slots = max_outstanding * cfg->mget;

    memset(s, 0, sizeof(*s));
    s->cfg = cfg;
    s->keys = cfg->keys_proto;
    rng_seed(&s->rng, seed);
    s->conn_index = conn_index;
    s->nconns = nconns > 0 ? nconns : 1;
    s->cap = max_outstanding > 0 ? max_outstanding : 1;
    s->q = calloc(s->cap, sizeof(*s->q));
    s->q_keys = calloc(slots > 0 ? slots : 1, sizeof(*s->q_keys));
    s->q_vers = calloc(slots > 0 ? slots : 1, sizeof(*s->q_vers));
    s->scratch = malloc(cfg->value_len > 0 ? cfg->value_len : 1);
    s->key_text = malloc(cfg->mget * cfg->key_len + 1);
    s->key_views = calloc(cfg->mget, sizeof(*s->key_views));
    s->recording = true;
    session_stats_init(&s->stats);
    if (s->q == NULL || s->q_keys == NULL || s->q_vers == NULL
        || s->scratch == NULL || s->key_text == NULL
        || s->key_views == NULL) {
        session_fini(s);
        return SESSION_ENOMEM;
    }
    return SESSION_OK;
}

void
session_fini(struct session *s)
{
    free(s->q);
    free(s->q_keys);
    free(s->q_vers);
    free(s->scratch);
    free(s->key_text);
    free(s->key_views);
    s->key_text = NULL;
    s->key_views = NULL;
    s->q = NULL;
    s->q_keys = NULL;
    s->q_vers = NULL;
    s->scratch = NULL;
}

size_t
session_outstanding(const struct session *s)
{
    return s->count;
}

bool
session_full(const struct session *s)
{
    return s->count == s->cap;
}

/* A 64-bit mixer (splitmix64's finalizer): per-key sizes and TTLs. */
static uint64_t
mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

size_t
session_value_len(const struct session_cfg *cfg, uint64_t idx)
{
    uint64_t h = mix64(idx + 1);
    uint32_t p = (uint32_t)(h % 100);
    uint32_t acc = 0;

    for (unsigned i = 0; i < cfg->nmix; i++) {
        const struct value_range *r = &cfg->mix[i];

        acc += r->pct;
        if (p < acc || i + 1 == cfg->nmix) {
            return r->min + (size_t)((h >> 32) % (r->max - r->min + 1));
        }
    }
    return cfg->value_len;
}

/* Does key `idx` get the TTL? */
static bool
key_has_ttl(const struct session_cfg *cfg, uint64_t idx)
{
    return cfg->ttl_pct > 0
        && mix64(idx ^ 0x5bd1e995ull) % 100 < cfg->ttl_pct;
}

/* set_on_miss: remember a missed key (dropped if the queue is full). */
static void
note_miss(struct session *s, uint64_t idx)
{
    if (s->cfg->set_on_miss
        && s->nmiss < sizeof(s->miss) / sizeof(s->miss[0])) {
        s->miss[s->nmiss++] = idx;
    }
}

/* Draw a key; under verify, move it into this session's partition. */
static uint64_t
draw_key(struct session *s)
{
    uint64_t idx = keys_next(&s->keys, &s->rng);
    uint64_t n = s->keys.n;

    if (!s->cfg->verify || s->nconns == 1) {
        return idx;
    }
    idx = idx - idx % s->nconns + s->conn_index;
    if (idx >= n) {
        /* The last, partial stripe: wrap to the first one. */
        idx = s->conn_index % n;
    }
    return idx;
}

/* The text of key `idx` in slot `i` of the session's key scratch. */
static struct str
key_at(struct session *s, unsigned i, uint64_t idx)
{
    char *p = s->key_text + (size_t)i * s->cfg->key_len;

    keys_format_key(p, s->cfg->key_len, idx);
    s->key_views[i] = (struct str){ p, s->cfg->key_len };
    return s->key_views[i];
}

static bool
compose_get(struct session *s, struct buf *out, struct pending *pd,
    size_t slot)
{
    unsigned i;

    pd->op = SESSION_GET;
    pd->nkeys = (uint8_t)s->cfg->mget;
    for (i = 0; i < s->cfg->mget; i++) {
        uint64_t idx = draw_key(s);

        s->q_keys[slot + i] = idx;
        s->q_vers[slot + i] = s->cfg->verify ? s->cfg->versions[idx] : 0;
        key_at(s, i, idx);
    }
    if (s->cfg->meta) {
        struct proto_req req;

        /* One key per mg (opts enforce mget 1); "v": return the value. */
        memset(&req, 0, sizeof(req));
        req.cmd = PROTO_CMD_MG;
        req.key = s->key_views[0];
        req.args = STR_LIT("v");
        return proto_compose_req(out, &req);
    }
    return proto_compose_retrieval(out, PROTO_CMD_GET, 0, s->key_views,
        s->cfg->mget);
}

static bool
compose_set(struct session *s, struct buf *out, struct pending *pd,
    size_t slot, uint64_t idx)
{
    const struct session_cfg *cfg = s->cfg;
    struct proto_req req;
    uint32_t ver;
    size_t len = session_value_len(cfg, idx);

    if (cfg->verify) {
        ver = cfg->versions[idx] == 0 ? cfg->version_base + 1
            : cfg->versions[idx] + 1;
        if (ver == 0) {
            ver = 1;        /* 0 means "never written" */
        }
        cfg->versions[idx] = ver;
    } else {
        ver = ++s->next_version;
    }
    pd->op = SESSION_SET;
    pd->nkeys = 1;
    s->q_keys[slot] = idx;
    s->q_vers[slot] = ver;
    values_format(cfg->values, s->scratch, len, idx, ver);
    memset(&req, 0, sizeof(req));
    req.cmd = cfg->meta ? PROTO_CMD_MS : PROTO_CMD_SET;
    req.key = key_at(s, 0, idx);
    req.data = (struct str){ s->scratch, len };
    if (key_has_ttl(cfg, idx)) {
        req.exptime = cfg->ttl_secs;
    }
    return proto_compose_req(out, &req);
}

enum session_status
session_send(struct session *s, struct buf *out, uint64_t t0)
{
    size_t at;
    struct pending *pd;
    uint64_t total = (uint64_t)s->cfg->set_weight + s->cfg->get_weight;
    bool ok;

    if (session_full(s)) {
        return SESSION_AGAIN;
    }
    at = (s->head + s->count) % s->cap;
    pd = &s->q[at];
    memset(pd, 0, sizeof(*pd));
    pd->t0 = t0;
    if (s->nmiss > 0) {
        ok = compose_set(s, out, pd, at * s->cfg->mget, s->miss[--s->nmiss]);
    } else if (rng_below(&s->rng, total) < s->cfg->set_weight) {
        ok = compose_set(s, out, pd, at * s->cfg->mget, draw_key(s));
    } else {
        ok = compose_get(s, out, pd, at * s->cfg->mget);
    }
    if (!ok) {
        return SESSION_ENOMEM;  /* proto left `out` as it was */
    }
    s->count++;
    return SESSION_OK;
}

/* ---- replies ------------------------------------------------------------ */

static void
finish(struct session *s, struct pending *pd, uint64_t now)
{
    if (s->recording) {
        s->stats.requests++;
        if (pd->op == SESSION_GET) {
            s->stats.gets++;
            s->stats.keys_asked += pd->nkeys;
        } else {
            s->stats.sets++;
        }
        hist_record(&s->stats.latency, now > pd->t0 ? now - pd->t0 : 0);
    }
    s->head = (s->head + 1) % s->cap;
    s->count--;
}

static void
count(struct session *s, uint64_t *counter)
{
    if (s->recording) {
        (*counter)++;
    }
}

/* A VALUE for the oldest get: find its key among those not yet answered
 * (hits come back in request order, misses are skipped), check the value. */
/* Check the value `data` of the key in queue slot `slot`: a hit. */
static void
check_hit(struct session *s, size_t slot, struct str data)
{
    uint32_t ver;
    size_t want = session_value_len(s->cfg, s->q_keys[slot]);

    count(s, &s->stats.hits);
    if (!s->cfg->check_values) {
        if (data.len != want) {
            count(s, &s->stats.bad_values);
        }
    } else if (values_check(s->cfg->values, data.ptr, data.len,
            want, s->q_keys[slot], &ver) != VALUES_OK) {
        count(s, &s->stats.bad_values);
    } else if (s->cfg->verify && s->q_vers[slot] != 0
        && ver != s->q_vers[slot]) {
        count(s, &s->stats.stale_values);
    }
}

/* A VALUE for the oldest get: find its key among those not yet answered
 * (hits come back in request order, misses are skipped), check the value. */
static enum session_status
on_value(struct session *s, struct pending *pd, const struct proto_rsp *r)
{
    size_t slot = s->head * s->cfg->mget;
    uint64_t idx;

    if (!keys_parse_key(r->key.ptr, r->key.len, &idx)) {
        return SESSION_FATAL;
    }
    while (pd->done < pd->nkeys && s->q_keys[slot + pd->done] != idx) {
        note_miss(s, s->q_keys[slot + pd->done]);
        pd->done++;
    }
    if (pd->done == pd->nkeys || r->key.len != s->cfg->key_len) {
        return SESSION_FATAL;   /* a key we did not ask for */
    }
    check_hit(s, slot + pd->done, r->data);
    pd->done++;
    return SESSION_OK;
}

/* Replies to mg (one key, no key echo: the queue says which) and ms. */
static enum session_status
on_meta_reply(struct session *s, struct pending *pd,
    const struct proto_rsp *r)
{
    switch (r->type) {
    case PROTO_RSP_VA:
        if (pd->op != SESSION_GET) {
            return SESSION_FATAL;
        }
        check_hit(s, s->head * s->cfg->mget, r->data);
        break;
    case PROTO_RSP_EN:
        if (pd->op != SESSION_GET) {
            return SESSION_FATAL;
        }
        note_miss(s, s->q_keys[s->head * s->cfg->mget]);
        break;
    case PROTO_RSP_HD:
        if (pd->op != SESSION_SET) {
            return SESSION_FATAL;
        }
        count(s, &s->stats.stored);
        break;
    case PROTO_RSP_NS:
    case PROTO_RSP_EX:
    case PROTO_RSP_NF:
        if (pd->op != SESSION_SET) {
            return SESSION_FATAL;
        }
        count(s, &s->stats.not_stored);
        break;
    default:
        return SESSION_FATAL;
    }
    return SESSION_OK;
}

static enum session_status
on_reply(struct session *s, const struct proto_rsp *r, uint64_t now)
{
    struct pending *pd = &s->q[s->head];

    switch (r->type) {
    case PROTO_RSP_ERROR:
    case PROTO_RSP_CLIENT_ERROR:
    case PROTO_RSP_SERVER_ERROR:
        count(s, &s->stats.server_errors);
        break;
    case PROTO_RSP_VA:
    case PROTO_RSP_EN:
    case PROTO_RSP_HD:
    case PROTO_RSP_NS:
    case PROTO_RSP_EX:
    case PROTO_RSP_NF:
        if (!s->cfg->meta || on_meta_reply(s, pd, r) != SESSION_OK) {
            return SESSION_FATAL;
        }
        break;
    case PROTO_RSP_VALUE:
        return pd->op == SESSION_GET && !s->cfg->meta ? on_value(s, pd, r)
            : SESSION_FATAL;
    case PROTO_RSP_END:
        if (pd->op != SESSION_GET || s->cfg->meta) {
            return SESSION_FATAL;
        }
        for (; pd->done < pd->nkeys; pd->done++) {
            note_miss(s, s->q_keys[s->head * s->cfg->mget + pd->done]);
        }
        break;
    case PROTO_RSP_STORED:
        if (pd->op != SESSION_SET || s->cfg->meta) {
            return SESSION_FATAL;
        }
        count(s, &s->stats.stored);
        break;
    case PROTO_RSP_NOT_STORED:
    case PROTO_RSP_EXISTS:
    case PROTO_RSP_NOT_FOUND:
        if (pd->op != SESSION_SET || s->cfg->meta) {
            return SESSION_FATAL;
        }
        count(s, &s->stats.not_stored);
        break;
    default:
        return SESSION_FATAL;   /* not an answer to get or set */
    }
    finish(s, pd, now);
    return SESSION_OK;
}

enum session_status
session_feed(struct session *s, const char *p, size_t len, uint64_t now,
    size_t *used)
{
    size_t off = 0;

    *used = 0;
    while (off < len) {
        struct proto_rsp r;
        size_t n;
        enum proto_status ps = proto_parse_rsp(&s->cfg->limits, p + off,
            len - off, &r, &n);

        if (ps == PROTO_AGAIN) {
            break;
        }
        if (ps != PROTO_OK || s->count == 0
            || on_reply(s, &r, now) != SESSION_OK) {
            s->stats.protocol_errors++;
            *used = off;
            return SESSION_FATAL;
        }
        off += n;
    }
    *used = off;
    return SESSION_OK;
}
