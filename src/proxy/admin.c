/*
 * What the proxy answers itself: "stats" (the proxy's own counters, with
 * memcached's names where they mean the same, and per node), "stats ring",
 * and the proxy commands "ringproxy nodes" and "ringproxy locate KEY...",
 * which ringtool -s uses to show live placement.
 */
#include "proxy/proxy_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "config.h"

const char proxy_version[] = PROXY_MEMCACHED_COMPAT "-ringproxy-"
    PACKAGE_VERSION;

static bool
stat_u64(struct buf *b, const char *name, uint64_t v)
{
    return proto_compose_stat_u64(b, str_from_cstr(name), v);
}

static bool
stat_str(struct buf *b, const char *name, const char *v)
{
    return proto_compose_stat(b, str_from_cstr(name), str_from_cstr(v));
}

static bool
stat_fmt(struct buf *b, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool
stat_fmt(struct buf *b, const char *name, const char *fmt, ...)
{
    char v[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(v, sizeof(v), fmt, ap);
    va_end(ap);
    return stat_str(b, name, v);
}

static const char *
state_name(const struct pnode *n)
{
    return __atomic_load_n(&n->state, __ATOMIC_RELAXED) == PNODE_DOWN ?
        "down" : "up";
}

/* Sum of every worker's counters for the field at `off` of wstats. */
static uint64_t
sum_w(const struct proxy *p, size_t off)
{
    uint64_t t = 0;
    unsigned i;

    for (i = 0; i < p->nworkers; i++) {
        t += CTR_GET((const uint64_t *)((const char *)&p->workers[i].st +
            off));
    }
    return t;
}

#define SUM_W(p, f) sum_w((p), offsetof(struct wstats, f))

static bool
general_stats(struct worker *w, struct buf *b)
{
    struct proxy *p = w->p;
    struct rusage ru;
    uint64_t now = util_wall_sec();
    bool ok = true;

    getrusage(RUSAGE_SELF, &ru);
    ok &= stat_u64(b, "pid", (uint64_t)getpid());
    ok &= stat_u64(b, "uptime", now - p->started);
    ok &= stat_u64(b, "time", now);
    ok &= stat_str(b, "version", proxy_version);
    ok &= stat_str(b, "libevent", net_backend_version());
    ok &= stat_u64(b, "pointer_size", sizeof(void *) * 8);
    ok &= stat_fmt(b, "rusage_user", "%ld.%06ld", (long)ru.ru_utime.tv_sec,
        (long)ru.ru_utime.tv_usec);
    ok &= stat_fmt(b, "rusage_system", "%ld.%06ld",
        (long)ru.ru_stime.tv_sec, (long)ru.ru_stime.tv_usec);
    ok &= stat_u64(b, "curr_connections", SUM_W(p, curr_conns));
    ok &= stat_u64(b, "total_connections", SUM_W(p, total_conns));
    ok &= stat_u64(b, "threads", p->nworkers);
    ok &= stat_u64(b, "cmd_get", SUM_W(p, cmd_get));
    ok &= stat_u64(b, "cmd_set", SUM_W(p, cmd_set));
    ok &= stat_u64(b, "cmd_flush", SUM_W(p, cmd_flush));
    ok &= stat_u64(b, "cmd_touch", SUM_W(p, cmd_touch));
    ok &= stat_u64(b, "get_hits", SUM_W(p, get_hits));
    ok &= stat_u64(b, "get_misses", SUM_W(p, get_misses));
    ok &= stat_u64(b, "bytes_read", SUM_W(p, bytes_read));
    ok &= stat_u64(b, "bytes_written", SUM_W(p, bytes_written));
    ok &= stat_u64(b, "proxy_client_errors", SUM_W(p, client_errors));
    ok &= stat_u64(b, "proxy_server_errors", SUM_W(p, server_errors));
    ok &= stat_u64(b, "proxy_requests_in_flight", SUM_W(p, inflight));
    ok &= stat_u64(b, "proxy_client_pauses", SUM_W(p, paused));
    ok &= stat_u64(b, "client_output_limit_disconnects",
        SUM_W(p, out_disconnects));
    return ok;
}

static bool
reload_stats(struct worker *w, struct buf *b)
{
    struct proxy *p = w->p;
    struct reload_report r;
    bool ok = true;

    pthread_mutex_lock(&p->mu);
    r = p->report;
    pthread_mutex_unlock(&p->mu);
    ok &= stat_str(b, "ring_mode", ring_mode_name(ring_params(
        w->ring->conf)->mode));
    ok &= stat_u64(b, "ring_nodes", w->ring->n);
    ok &= stat_u64(b, "ring_generation", w->ring->gen);
    ok &= stat_str(b, "failure_policy", w->ring->set.policy ==
        RING_FAIL_EJECT ? "eject" : "fail-fast");
    ok &= stat_u64(b, "reloads", r.count);
    ok &= stat_u64(b, "reload_failures", r.failures);
    ok &= stat_u64(b, "reload_nodes_added", r.added);
    ok &= stat_u64(b, "reload_nodes_removed", r.removed);
    ok &= stat_u64(b, "reload_nodes_reweighted", r.reweighted);
    ok &= r.exact ? stat_fmt(b, "reload_keyspace_moved", "%.9f", r.moved) :
        stat_str(b, "reload_keyspace_moved", "all");
    if (r.last_error[0] != '\0') {
        ok &= stat_str(b, "reload_last_error", r.last_error);
    }
    return ok;
}

static bool
node_stats(struct worker *w, const struct pnode *n, struct buf *b)
{
    struct pnode_ctr t;
    char name[RING_MAX_NAME + 32];
    unsigned i, k;
    bool ok = true;
    static const double qs[] = { 0.5, 0.9, 0.99, 0.999 };
    static const char *qn[] = { "p50", "p90", "p99", "p999" };

    memset(&t, 0, sizeof(t));
    for (i = 0; i < w->p->nworkers; i++) {
        const struct pnode_ctr *c = &n->ctr[i];

        t.requests += CTR_GET(&c->requests);
        t.errors += CTR_GET(&c->errors);
        t.timeouts += CTR_GET(&c->timeouts);
        t.connects += CTR_GET(&c->connects);
        t.conn_failures += CTR_GET(&c->conn_failures);
        t.protocol_errors += CTR_GET(&c->protocol_errors);
        for (k = 0; k < PROXY_HIST_BUCKETS; k++) {
            t.hist[k] += CTR_GET(&c->hist[k]);
        }
    }
#define NODE_STAT(field, v) (snprintf(name, sizeof(name), "node:%s:%s", \
    n->name, field), stat_u64(b, name, (v)))
    snprintf(name, sizeof(name), "node:%s:addr", n->name);
    ok &= stat_str(b, name, n->addr_text);
    snprintf(name, sizeof(name), "node:%s:state", n->name);
    ok &= stat_str(b, name, state_name(n));
    ok &= NODE_STAT("requests", t.requests);
    ok &= NODE_STAT("errors", t.errors);
    ok &= NODE_STAT("timeouts", t.timeouts);
    ok &= NODE_STAT("connects", t.connects);
    ok &= NODE_STAT("connect_failures", t.conn_failures);
    ok &= NODE_STAT("backend_protocol_errors", t.protocol_errors);
    ok &= NODE_STAT("downs", __atomic_load_n(&n->downs, __ATOMIC_RELAXED));
    for (k = 0; k < 4; k++) {
        char f[32];

        snprintf(f, sizeof(f), "latency_%s_us", qn[k]);
        ok &= NODE_STAT(f, hist_quantile(t.hist, qs[k]));
    }
#undef NODE_STAT
    return ok;
}

static bool
ring_stats(struct worker *w, struct buf *b)
{
    const struct pring *r = w->ring;
    double *share = calloc(r->n, sizeof(*share));
    char name[RING_MAX_NAME + 32];
    bool ok = share != NULL;
    size_t i;

    if (!ok) {
        return false;
    }
    ring_ownership(r->ring, share);
    ok &= stat_str(b, "mode", ring_mode_name(ring_params(r->conf)->mode));
    ok &= stat_u64(b, "nodes", r->n);
    ok &= stat_u64(b, "generation", r->gen);
    for (i = 0; i < r->n; i++) {
        const struct pnode *n = r->nodes[i];

        snprintf(name, sizeof(name), "%s:addr", n->name);
        ok &= stat_str(b, name, n->addr_text);
        snprintf(name, sizeof(name), "%s:weight", n->name);
        ok &= stat_u64(b, name, r->weights[i]);
        snprintf(name, sizeof(name), "%s:state", n->name);
        ok &= stat_str(b, name, state_name(n));
        snprintf(name, sizeof(name), "%s:share", n->name);
        ok &= stat_fmt(b, name, "%.6f", share[i]);
    }
    free(share);
    return ok;
}

/* On each worker, its own counters: no other thread writes them. */
static void
reset_worker(struct net_loop *l, void *arg)
{
    struct worker *w = net_loop_data(l);
    struct proxy *p = w->p;
    uint32_t i, n = __atomic_load_n(&p->nslots, __ATOMIC_ACQUIRE);
    uint64_t *f = (uint64_t *)&w->st;   /* struct wstats: all uint64_t */

    (void)arg;
    for (i = 0; i < sizeof(w->st) / sizeof(*f); i++) {
        if (&f[i] != &w->st.curr_conns && &f[i] != &w->st.inflight) {
            __atomic_store_n(&f[i], 0, __ATOMIC_RELAXED);  /* gauges stay */
        }
    }
    for (i = 0; i < n; i++) {
        struct pnode_ctr *c = &p->slots[i]->ctr[w->idx];

        memset(c, 0, sizeof(*c));
    }
}

/* "stats reset", as memcached: every worker zeroes its counters on its
 * next loop turn (so right after RESET a few may still count). */
static bool
stats_reset(struct worker *w, struct buf *out)
{
    unsigned i;

    for (i = 0; i < w->p->nworkers; i++) {
        (void)net_loop_call(net_server_worker(w->p->srv, i), reset_worker,
            NULL);
    }
    return buf_append_str(out, proto_reply_str(PROTO_REPLY_RESET));
}

bool
admin_stats(struct worker *w, struct str args, struct buf *out)
{
    bool ok = true;
    size_t i;

    if (str_eq_cstr(args, "reset")) {
        if (stats_reset(w, out)) {
            return true;
        }
        (void)buf_append(out, "x", 1);  /* non-empty: out of memory */
        return false;
    }
    if (args.len == 0) {
        ok &= general_stats(w, out);
        ok &= reload_stats(w, out);
        for (i = 0; i < w->ring->n; i++) {
            ok &= node_stats(w, w->ring->nodes[i], out);
        }
    } else if (str_eq_cstr(args, "ring")) {
        ok &= ring_stats(w, out);
    } else {
        return false;
    }
    ok &= buf_append_str(out, proto_reply_str(PROTO_REPLY_END));
    if (!ok) {
        buf_clear(out);
        (void)buf_append(out, "x", 1);  /* non-empty: out of memory */
        return false;
    }
    return true;
}

/* "ringproxy nodes": NODE <name> <addr> <weight> <state> <share> ... END */
static bool
cmd_nodes(struct worker *w, struct buf *out)
{
    const struct pring *r = w->ring;
    double *share = calloc(r->n, sizeof(*share));
    bool ok = share != NULL;
    size_t i;

    if (!ok) {
        return false;
    }
    ring_ownership(r->ring, share);
    for (i = 0; i < r->n; i++) {
        ok &= buf_printf(out, "NODE %s %s %u %s %.6f\r\n", r->nodes[i]->name,
            r->nodes[i]->addr_text, r->weights[i], state_name(r->nodes[i]),
            share[i]);
    }
    free(share);
    return ok && buf_append_str(out, proto_reply_str(PROTO_REPLY_END));
}

/* "ringproxy locate K...": KEY <key> <node> <addr> <state> ... END */
static bool
cmd_locate(struct worker *w, struct str rest, struct buf *out)
{
    const struct pring *r = w->ring;
    const char *p = rest.ptr, *end = rest.ptr + rest.len;
    bool ok = true;

    while (p < end) {
        const char *q;
        struct str key;
        uint32_t idx;

        while (p < end && *p == ' ') {
            p++;
        }
        for (q = p; q < end && *q != ' '; q++) {
        }
        if (q == p) {
            break;
        }
        key = (struct str){ p, (size_t)(q - p) };
        if (key.len > PROTO_KEY_MAX) {
            return false;
        }
        idx = ring_lookup(r->ring, key);
        if (idx == RING_NO_NODE) {
            ok &= buf_printf(out, "KEY %.*s - - -\r\n", (int)key.len,
                key.ptr);
        } else {
            ok &= buf_printf(out, "KEY %.*s %s %s %s\r\n", (int)key.len,
                key.ptr, r->nodes[idx]->name, r->nodes[idx]->addr_text,
                state_name(r->nodes[idx]));
        }
        p = q;
    }
    return ok && buf_append_str(out, proto_reply_str(PROTO_REPLY_END));
}

bool
admin_command(struct worker *w, struct str line, struct buf *out)
{
    struct str rest;
    size_t plen = sizeof("ringproxy") - 1;

    if (line.len <= plen) {
        return false;
    }
    rest = (struct str){ line.ptr + plen + 1, line.len - plen - 1 };
    if (str_eq_cstr(rest, "nodes")) {
        return cmd_nodes(w, out);
    }
    if (rest.len > 7 && memcmp(rest.ptr, "locate ", 7) == 0) {
        return cmd_locate(w, (struct str){ rest.ptr + 7, rest.len - 7 }, out);
    }
    return false;
}
