/*
 * What the proxy answers itself: "stats" (the proxy's own counters under
 * memcached's names, never a name with a colon, so that memcached's stats
 * readers parse it), "stats nodes" (per node), "stats settings", "stats
 * conns", "stats items|slabs|sizes" (empty, as the proxy stores nothing),
 * "stats ring", "stats reset", and the proxy commands "ringproxy nodes"
 * and "ringproxy locate KEY...", which ringtool -s uses to show live
 * placement.
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

/* The settings fixed at start (a reload may not change them), copied
 * under p->mu because a reload swaps the configuration they live in. */
struct fixed {
    uint32_t maxconns;
    uint32_t backlog;
    uint32_t idle_timeout_ms;
    char listen[256];           /* first listen address as written */
    char host[256];             /* its host ("" when it is a unix path) */
    uint16_t port;
    bool is_unix;
};

static void
fixed_settings(struct proxy *p, struct fixed *f)
{
    const struct ring_addr *a;

    pthread_mutex_lock(&p->mu);
    f->maxconns = p->cfg.client_limit;
    f->backlog = p->cfg.backlog;
    f->idle_timeout_ms = p->cfg.idle_timeout_ms;
    a = p->cfg.nlisten > 0 ? &p->cfg.listen[0] : NULL;
    snprintf(f->listen, sizeof(f->listen), "%s", a != NULL ? a->text : "");
    snprintf(f->host, sizeof(f->host), "%s",
        a != NULL && !a->is_unix ? a->host : "");
    f->port = a != NULL ? a->port : 0;
    f->is_unix = a != NULL && a->is_unix;
    pthread_mutex_unlock(&p->mu);
}

/* Nodes of the current ring that are down, and times any was marked
 * down since start. */
static void
node_health(const struct pring *r, uint64_t *down, uint64_t *downs)
{
    size_t i;

    *down = 0;
    *downs = 0;
    for (i = 0; i < r->n; i++) {
        *down += __atomic_load_n(&r->nodes[i]->state, __ATOMIC_RELAXED) ==
            PNODE_DOWN;
        *downs += __atomic_load_n(&r->nodes[i]->downs, __ATOMIC_RELAXED);
    }
}

/* memcached's "stats" names, from the proxy's own counters: what its
 * clients asked and what the nodes answered them. */
static bool
general_stats(struct worker *w, struct buf *b)
{
    struct proxy *p = w->p;
    struct net_server_stats ns;
    struct rusage ru;
    struct fixed f;
    uint64_t now = util_wall_sec(), curr = SUM_W(p, curr_conns);
    bool ok = true;

    getrusage(RUSAGE_SELF, &ru);
    net_server_stats(p->srv, &ns);
    fixed_settings(p, &f);
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
    ok &= stat_u64(b, "max_connections", f.maxconns);
    ok &= stat_u64(b, "curr_connections", curr);
    ok &= stat_u64(b, "total_connections", SUM_W(p, total_conns));
    ok &= stat_u64(b, "rejected_connections", ns.rejected_conns);
    ok &= stat_u64(b, "cmd_get", SUM_W(p, cmd_get));
    ok &= stat_u64(b, "cmd_set", SUM_W(p, cmd_set));
    ok &= stat_u64(b, "cmd_flush", SUM_W(p, cmd_flush));
    ok &= stat_u64(b, "cmd_touch", SUM_W(p, cmd_touch));
    ok &= stat_u64(b, "get_hits", SUM_W(p, get_hits));
    ok &= stat_u64(b, "get_misses", SUM_W(p, get_misses));
    ok &= stat_u64(b, "delete_misses", SUM_W(p, delete_misses));
    ok &= stat_u64(b, "delete_hits", SUM_W(p, delete_hits));
    ok &= stat_u64(b, "incr_misses", SUM_W(p, incr_misses));
    ok &= stat_u64(b, "incr_hits", SUM_W(p, incr_hits));
    ok &= stat_u64(b, "decr_misses", SUM_W(p, decr_misses));
    ok &= stat_u64(b, "decr_hits", SUM_W(p, decr_hits));
    ok &= stat_u64(b, "cas_misses", SUM_W(p, cas_misses));
    ok &= stat_u64(b, "cas_hits", SUM_W(p, cas_hits));
    ok &= stat_u64(b, "cas_badval", SUM_W(p, cas_badval));
    ok &= stat_u64(b, "touch_hits", SUM_W(p, touch_hits));
    ok &= stat_u64(b, "touch_misses", SUM_W(p, touch_misses));
    ok &= stat_u64(b, "bytes_read", SUM_W(p, bytes_read));
    ok &= stat_u64(b, "bytes_written", SUM_W(p, bytes_written));
    ok &= stat_u64(b, "accepting_conns", f.maxconns == 0 ||
        curr < f.maxconns);
    ok &= stat_u64(b, "listen_disabled_num", ns.listen_disabled);
    ok &= stat_u64(b, "threads", p->nworkers);
    return ok;
}

/* memcached's proxy names (its "proxy_*" stats) where the meaning is the
 * same, then ringproxy's own. */
static bool
proxy_stats(struct worker *w, struct buf *b)
{
    struct proxy *p = w->p;
    struct reload_report r;
    uint64_t down, downs;
    bool ok = true;

    pthread_mutex_lock(&p->mu);
    r = p->report;
    pthread_mutex_unlock(&p->mu);
    node_health(w->ring, &down, &downs);
    ok &= stat_u64(b, "proxy_req_active", SUM_W(p, inflight));
    ok &= stat_u64(b, "proxy_config_reloads", r.count);
    ok &= stat_u64(b, "proxy_config_reload_fails", r.failures);
    ok &= stat_u64(b, "proxy_backend_total", w->ring->n);
    ok &= stat_u64(b, "proxy_backend_marked_bad", downs);
    ok &= stat_u64(b, "proxy_backend_failed", down);
    ok &= stat_u64(b, "proxy_client_errors", SUM_W(p, client_errors));
    ok &= stat_u64(b, "proxy_server_errors", SUM_W(p, server_errors));
    ok &= stat_u64(b, "proxy_requests_in_flight", SUM_W(p, inflight));
    ok &= stat_u64(b, "proxy_client_pauses", SUM_W(p, paused));
    ok &= stat_u64(b, "client_output_limit_disconnects",
        SUM_W(p, out_disconnects));
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

/* "stats nodes": one block of "<name>:<field>" per node of the ring. */
static bool
node_stats(struct worker *w, size_t idx, struct buf *b)
{
    const struct pnode *n = w->ring->nodes[idx];
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
#define NODE_NAME(field) snprintf(name, sizeof(name), "%s:%s", n->name, field)
#define NODE_STAT(field, v) (NODE_NAME(field), stat_u64(b, name, (v)))
    NODE_NAME("addr");
    ok &= stat_str(b, name, n->addr_text);
    NODE_NAME("state");
    ok &= stat_str(b, name, state_name(n));
    ok &= NODE_STAT("weight", w->ring->weights[idx]);
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
#undef NODE_NAME
    return ok;
}

static bool
nodes_stats(struct worker *w, struct buf *b)
{
    bool ok = true;
    size_t i;

    for (i = 0; i < w->ring->n; i++) {
        ok &= node_stats(w, i, b);
    }
    return ok;
}

/* "stats settings": memcached's names for what means the same, then the
 * proxy's own settings (ringproxy.conf(5) names). */
static bool
settings_stats(struct worker *w, struct buf *b)
{
    const struct psettings *s = &w->ring->set;
    const struct ring_params *rp = ring_params(w->ring->conf);
    struct fixed f;
    bool ok = true;

    fixed_settings(w->p, &f);
    ok &= stat_u64(b, "maxconns", f.maxconns);
    ok &= stat_u64(b, "tcpport", f.port);
    ok &= stat_str(b, "udpport", "0");
    ok &= stat_str(b, "inter", f.host[0] != '\0' ? f.host : "NULL");
    ok &= stat_u64(b, "verbosity", w->p->opts->verbose);
    ok &= stat_str(b, "domain_socket", f.is_unix ? f.listen : "NULL");
    ok &= stat_u64(b, "num_threads", w->p->nworkers);
    ok &= stat_u64(b, "tcp_backlog", f.backlog);
    ok &= stat_str(b, "binding_protocol", "ascii");
    ok &= stat_u64(b, "item_size_max", s->item_size_max);
    ok &= stat_u64(b, "idle_timeout", (f.idle_timeout_ms + 999) / 1000);
    ok &= stat_str(b, "ring_mode", ring_mode_name(rp->mode));
    if (rp->mode == RING_MODE_KETAMA) {
        ok &= stat_str(b, "hash", ring_hash_name(rp->hash));
    } else {
        ok &= stat_u64(b, "vnodes", rp->vnodes != 0 ? rp->vnodes :
            RING_DEFAULT_VNODES);
    }
    ok &= stat_u64(b, "connect_timeout_ms", s->connect_timeout_ms);
    ok &= stat_u64(b, "request_timeout_ms", s->request_timeout_ms);
    ok &= stat_str(b, "failure_policy", s->policy == RING_FAIL_EJECT ?
        "eject" : "fail-fast");
    ok &= stat_u64(b, "failure_limit", s->failure_limit);
    ok &= stat_u64(b, "retry_timeout_ms", s->retry_timeout_ms);
    ok &= stat_u64(b, "retry_max_ms", s->retry_max_ms);
    ok &= stat_u64(b, "backend_connections", s->backend_connections);
    ok &= stat_str(b, "miss_when_down", w->p->opts->miss_when_down ?
        "yes" : "no");
    return ok;
}

static const char *
client_state_name(const struct worker *w, const struct client *cl)
{
    if (cl->w == w && cl->busy) {
        return "conn_parse_cmd";        /* the one asking */
    }
    switch (__atomic_load_n(&cl->state, __ATOMIC_RELAXED)) {
    case CLIENT_PAUSED:
        return "conn_mwrite";
    case CLIENT_QUITTING:
        return "conn_closing";
    default:
        return "conn_waiting";
    }
}

/* "stats conns", as memcached: the listeners, then every client of every
 * worker (each worker's list is read under its clients_mu). */
static bool
conns_stats(struct worker *w, struct buf *b)
{
    struct proxy *p = w->p;
    char addr[160], name[176];
    const struct client *cl;
    bool ok = true;
    size_t i;
    int fd;

    for (i = 0; i < net_server_listener_count(p->srv); i++) {
        fd = net_server_listener_fd(p->srv, i);
        net_server_listener_name(p->srv, i, addr, sizeof(addr));
        proto_conn_addr_name(addr, name, sizeof(name));
        ok &= buf_printf(b, "STAT %d:addr %s\r\n", fd, name);
        ok &= buf_printf(b, "STAT %d:state conn_listening\r\n", fd);
    }
    for (i = 0; i < p->nworkers; i++) {
        pthread_mutex_lock(&p->workers[i].clients_mu);
        for (cl = p->workers[i].clients; cl != NULL; cl = cl->next) {
            int l = net_conn_listener(cl->conn);

            fd = net_conn_fd(cl->conn);
            addr[0] = '\0';
            if (l >= 0) {
                net_server_listener_name(p->srv, (size_t)l, addr,
                    sizeof(addr));
            }
            if (addr[0] != '/') {
                net_conn_peer(cl->conn, addr, sizeof(addr));
            }
            proto_conn_addr_name(addr, name, sizeof(name));
            ok &= buf_printf(b, "STAT %d:addr %s\r\n", fd, name);
            if (l >= 0) {
                net_server_listener_name(p->srv, (size_t)l, addr,
                    sizeof(addr));
                proto_conn_addr_name(addr, name, sizeof(name));
                ok &= buf_printf(b, "STAT %d:listen_addr %s\r\n", fd, name);
            }
            ok &= buf_printf(b, "STAT %d:state %s\r\n", fd,
                client_state_name(w, cl));
        }
        pthread_mutex_unlock(&p->workers[i].clients_mu);
    }
    return ok;
}

/*
 * Count what a node answered a single-key command, under memcached's
 * names (delete_hits, cas_badval, ...). Worker thread.
 */
void
admin_count_reply(struct worker *w, enum proto_cmd cmd,
    enum proto_rsp_type t)
{
    struct wstats *st = &w->st;
    uint64_t *c = NULL;

    switch (cmd) {
    case PROTO_CMD_DELETE:
        c = t == PROTO_RSP_DELETED ? &st->delete_hits :
            t == PROTO_RSP_NOT_FOUND ? &st->delete_misses : NULL;
        break;
    case PROTO_CMD_INCR:
        c = t == PROTO_RSP_NUMBER ? &st->incr_hits :
            t == PROTO_RSP_NOT_FOUND ? &st->incr_misses : NULL;
        break;
    case PROTO_CMD_DECR:
        c = t == PROTO_RSP_NUMBER ? &st->decr_hits :
            t == PROTO_RSP_NOT_FOUND ? &st->decr_misses : NULL;
        break;
    case PROTO_CMD_CAS:
        c = t == PROTO_RSP_STORED ? &st->cas_hits :
            t == PROTO_RSP_EXISTS ? &st->cas_badval :
            t == PROTO_RSP_NOT_FOUND ? &st->cas_misses : NULL;
        break;
    case PROTO_CMD_TOUCH:
        c = t == PROTO_RSP_TOUCHED ? &st->touch_hits :
            t == PROTO_RSP_NOT_FOUND ? &st->touch_misses : NULL;
        break;
    default:
        break;
    }
    if (c != NULL) {
        CTR_ADD(c, 1);
    }
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

    if (str_eq_cstr(args, "reset")) {
        if (stats_reset(w, out)) {
            return true;
        }
        (void)buf_append(out, "x", 1);  /* non-empty: out of memory */
        return false;
    }
    if (args.len == 0) {
        ok &= general_stats(w, out);
        ok &= proxy_stats(w, out);
    } else if (str_eq_cstr(args, "nodes")) {
        ok &= nodes_stats(w, out);
    } else if (str_eq_cstr(args, "ring")) {
        ok &= ring_stats(w, out);
    } else if (str_eq_cstr(args, "settings")) {
        ok &= settings_stats(w, out);
    } else if (str_eq_cstr(args, "conns")) {
        ok &= conns_stats(w, out);
    } else if (str_eq_cstr(args, "sizes")) {
        /* As memcached with its size histogram off (the default). */
        ok &= stat_str(out, "sizes_status", "disabled");
    } else if (!str_eq_cstr(args, "items") && !str_eq_cstr(args, "slabs")) {
        return false;
    }
    /* "items" and "slabs": the proxy stores nothing, so its own answer is
     * an empty list; per-class numbers are each node's (stats nodes gives
     * their addresses). */
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
