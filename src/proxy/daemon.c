/*
 * The daemon's wiring: configuration, nodes and the first ring; the net
 * server with one worker per thread; SIGHUP reload; readiness, reload and
 * shutdown notifications to systemd; the SIGTERM drain (no new requests,
 * finish those in flight, then close).
 */
#include "proxy/proxy_int.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DRAIN_MS 5000

static const char reject_msg[] = "SERVER_ERROR Too many open connections\r\n";

static void
worker_start(struct net_loop *l, unsigned idx, void *arg)
{
    struct proxy *p = arg;

    p->workers[idx].loop = l;
    net_loop_set_data(l, &p->workers[idx]);
}

static void
worker_stop(struct net_loop *l, unsigned idx, void *arg)
{
    struct proxy *p = arg;
    struct worker *w = &p->workers[idx];

    (void)l;
    backend_close_all(w);
    pring_unref(w->ring);
    w->ring = NULL;
}

/* SIGTERM: every worker stops reading and finishes what is in flight. */
static void
on_shutdown(void *arg)
{
    struct proxy *p = arg;
    struct timespec until;
    unsigned i;

    net_sd_notify("STOPPING=1\nSTATUS=draining requests in flight");
    log_info("shutting down: finishing requests in flight");
    for (i = 0; i < p->nworkers; i++) {
        if (net_loop_call(net_server_worker(p->srv, i), worker_quiesce, p) !=
            NET_OK) {
            pthread_mutex_lock(&p->mu);
            p->drained++;
            pthread_mutex_unlock(&p->mu);
        }
    }
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += DRAIN_MS / 1000;
    pthread_mutex_lock(&p->mu);
    while (p->drained < p->nworkers) {
        if (pthread_cond_timedwait(&p->cv, &p->mu, &until) == ETIMEDOUT) {
            log_warn("shutdown: requests still in flight after %d ms",
                DRAIN_MS);
            break;
        }
    }
    pthread_mutex_unlock(&p->mu);
}

static void
on_hup(struct net_loop *l, int signo, void *arg)
{
    (void)l;
    (void)signo;
    reload_run(arg);
}

static bool
load_config(struct proxy *p)
{
    const struct proxy_opts *o = p->opts;
    struct ring_error err;

    if (!reload_load(p->conf_path, &p->cfg, &err)) {
        log_error("%s", err.text);
        ring_config_init(&p->cfg);
        return false;
    }
    return config_apply_opts(o, &p->cfg);
}

static bool
first_ring(struct proxy *p)
{
    struct pnode **nodes = xcalloc(p->cfg.nnodes, sizeof(*nodes));
    struct pring *r = NULL;
    size_t i;
    unsigned k;

    for (i = 0; i < p->cfg.nnodes; i++) {
        nodes[i] = pnode_create(p, &p->cfg.nodes[i]);
        if (nodes[i] == NULL) {
            goto out;
        }
    }
    r = pring_build(p, &p->cfg, nodes);
    if (r == NULL) {
        log_error("%s: cannot build the ring", p->conf_path);
        goto out;
    }
    p->cur = r;                     /* the reference pring_build gave */
    for (k = 0; k < p->nworkers; k++) {
        p->workers[k].ring = pring_ref(r);
    }
out:
    free(nodes);
    return r != NULL;
}

static bool
make_server(struct proxy *p)
{
    struct net_server_config sc;

    memset(&sc, 0, sizeof(sc));
    sc.nworkers = p->nworkers;
    sc.max_conns = p->cfg.client_limit;
    sc.reject_msg = reject_msg;
    sc.backlog = (int)p->cfg.backlog;
    sc.drain_ms = DRAIN_MS;
    sc.conn.idle_ms = p->cfg.idle_timeout_ms;
    sc.conn.out_high = PROXY_CLIENT_OUT_HIGH;   /* on_drain at a quarter */
    sc.ops = &client_ops;
    sc.arg = p;
    sc.on_open = client_open;
    sc.on_worker_start = worker_start;
    sc.on_worker_stop = worker_stop;
    sc.on_shutdown = on_shutdown;
    p->srv = net_server_create(&sc);
    return p->srv != NULL;
}

static bool
open_listeners(struct proxy *p)
{
    size_t i;

    for (i = 0; i < p->cfg.nlisten; i++) {
        const struct ring_addr *a = &p->cfg.listen[i];
        enum net_status st = a->is_unix ?
            net_server_listen_unix(p->srv, a->host, 0700) :
            net_server_listen_tcp(p->srv, a->host, a->port, NULL);

        if (st != NET_OK) {
            log_error("cannot listen on %s: %s", a->text, strerror(errno));
            return false;
        }
    }
    return true;
}

static void
make_workers(struct proxy *p)
{
    unsigned i;

    p->nworkers = p->cfg.threads > 0 ? p->cfg.threads : 1;
    p->workers = xcalloc(p->nworkers, sizeof(*p->workers));
    for (i = 0; i < p->nworkers; i++) {
        p->workers[i].p = p;
        p->workers[i].idx = i;
        p->workers[i].nodes = xcalloc(PROXY_MAX_SLOTS,
            sizeof(*p->workers[i].nodes));
        buf_init(&p->workers[i].scratch);
        pthread_mutex_init(&p->workers[i].clients_mu, NULL);
    }
}

static void
proxy_fini(struct proxy *p)
{
    struct pnode *n, *next;
    unsigned i;

    /* Teardown order: probes first (their callbacks may still run while
     * the main loop is destroyed, and must find nothing to do; so must a
     * queued health_node_down), then the server and its loops, then the
     * nodes, which nothing refers to any more. */
    for (n = p->all; n != NULL; n = n->all_next) {
        health_stop(n);
    }
    net_server_destroy(p->srv);
    for (n = p->all; n != NULL; n = next) {
        next = n->all_next;
        free(n->name);
        free(n->addr_text);
        free(n->ctr);
        free(n);
    }
    for (i = 0; p->workers != NULL && i < p->nworkers; i++) {
        struct worker *w = &p->workers[i];

        pring_unref(w->ring);       /* a swap queued at the end, or setup
                                     * failed before the threads ran */
        while (w->free_sreqs != NULL) {
            struct sreq *s = w->free_sreqs;

            w->free_sreqs = s->next;
            free(s);
        }
        free(w->nodes);
        free(w->keys);
        free(w->owners);
        buf_fini(&w->scratch);
        pthread_mutex_destroy(&w->clients_mu);
    }
    pring_unref(p->cur);
    free(p->workers);
    ring_config_fini(&p->cfg);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p);
}

static void
announce(struct proxy *p)
{
    char name[128];
    size_t i;

    for (i = 0; i < net_server_listener_count(p->srv); i++) {
        net_server_listener_name(p->srv, i, name, sizeof(name));
        log_info("listening on %s", name);
    }
    log_info("%zu node(s), ring %s, %u thread(s), policy %s", p->cur->n,
        ring_mode_name(p->cfg.ring.mode), p->nworkers,
        p->cfg.failure_policy == RING_FAIL_EJECT ? "eject" : "fail-fast");
    net_sd_notifyf("READY=1\nSTATUS=serving %zu node(s) with %u thread(s)",
        p->cur->n, p->nworkers);
}

static bool
reserve_descriptors(struct proxy *p)
{
    struct fd_need d;
    char why[512];

    p->client_limit = p->cfg.client_limit;
    fd_need_at_start(&d, &p->cfg, p->nworkers);
    switch (fd_reserve(&d, true, why, sizeof(why))) {
    case FD_TOO_FEW:
        log_error("cannot start: %s", why);
        return false;
    case FD_RAISED:
        log_info("%s", why);
        break;
    case FD_OK:
        break;
    }
    return true;
}

/*
 * NOTE(proxy): SIGHUP is watched before any socket listens. Its default
 * action kills the process, and whoever waits for the port to accept
 * (systemd, a test, an operator's script) may reload at once.
 */
static bool
setup(struct proxy *p)
{
    struct net_loop *main_loop;

    if (!load_config(p)) {
        return false;
    }
    make_workers(p);
    if (!reserve_descriptors(p) || !first_ring(p) || !make_server(p)) {
        return false;
    }
    if (net_server_start(p->srv) != NET_OK) {
        log_error("cannot start worker threads");
        return false;
    }
    main_loop = net_server_main_loop(p->srv);
    if (net_loop_on_signal(main_loop, SIGHUP, on_hup, p) != NET_OK) {
        log_error("cannot watch SIGHUP");
        return false;
    }
    return open_listeners(p);
}

int
proxy_run(const struct proxy_opts *o)
{
    struct proxy *p = xcalloc(1, sizeof(*p));
    int rc = 1;

    util_log_set_level(o->verbose > 0 ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
    p->opts = o;
    p->conf_path = (char *)o->conf_path;
    p->started = util_wall_sec();
    p->report.exact = true;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    if (setup(p)) {
        announce(p);
        if (net_server_run(p->srv) == NET_OK) {
            rc = 0;
        }
        log_info("stopped");
    }
    proxy_fini(p);
    return rc;
}

int
proxy_check(const struct proxy_opts *o, FILE *out, FILE *err)
{
    struct ring_config c;
    struct ring_error e;
    struct ring *r = NULL;
    struct fd_need d;
    char why[512];
    int rc = 0;

    if (!reload_load(o->conf_path, &c, &e)) {
        fprintf(err, "%s\n", e.text);
        return 1;
    }
    if (ring_config_build(&c, &r) != RING_OK) {
        fprintf(err, "%s: cannot build the ring\n", o->conf_path);
        ring_config_fini(&c);
        return 1;
    }
    /* The same descriptor check as at start, under this process's
     * limits (systemd's ExecStartPre runs with the unit's). */
    fd_need_at_start(&d, &c, o->threads > 0 ? o->threads : c.threads);
    if (fd_reserve(&d, false, why, sizeof(why)) == FD_TOO_FEW) {
        fprintf(err, "%s: %s\n", o->conf_path, why);
        rc = 1;
    } else {
        fprintf(out, "%s: ok: %zu node(s), ring %s, %u thread(s), policy "
            "%s, %llu descriptors\n", o->conf_path, c.nnodes,
            ring_mode_name(c.ring.mode),
            o->threads > 0 ? o->threads : c.threads,
            c.failure_policy == RING_FAIL_EJECT ? "eject" : "fail-fast",
            (unsigned long long)d.total);
    }
    ring_destroy(r);
    ring_config_fini(&c);
    return rc;
}
