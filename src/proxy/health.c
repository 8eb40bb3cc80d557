/*
 * Health: a node marked down (failure_limit failures in a row, counted by
 * the workers) is probed from the main thread with "version" on an
 * exponential backoff (retry_timeout doubling up to retry_max) and comes
 * back up when it answers. Under policy eject the ring is rebuilt without
 * it while it is down, and with it when it is back.
 *
 * NOTE(proxy): fail-fast is the default policy because ejection serves
 * stale data when a node flaps: while node A is out, its keys are written
 * on their next owner B; when A returns it still holds the old values, and
 * the clients read those until they expire or are overwritten. A cache
 * that answers "SERVER_ERROR" for a moment is safer than one that answers
 * with yesterday's value; eject is there for pools where that is fine
 * (twemproxy's auto_eject_hosts).
 */
#include "proxy/proxy_int.h"

#include <string.h>

static const struct net_conn_ops probe_ops;

static void probe(struct net_timer *t, void *arg);

/* Rebuild the routing ring after a state change (policy eject). */
static void
republish(struct proxy *p)
{
    struct pring *r;

    if (p->cfg.failure_policy != RING_FAIL_EJECT) {
        return;
    }
    r = pring_build(p, &p->cfg, p->cur->nodes);
    if (r == NULL) {
        log_error("cannot rebuild the ring after a node state change");
        return;
    }
    pring_publish(p, r);
}

static void
schedule(struct pnode *n, uint32_t ms)
{
    net_timer_arm(n->health.retry, (uint64_t)ms * 1000u);
}

static void
probe_deadline(struct net_timer *t, void *arg)
{
    struct pnode *n = arg;

    (void)t;
    if (n->health.conn != NULL) {
        net_conn_close(n->health.conn);
    }
}

/* Both timers, or neither (false). */
static bool
make_timers(struct net_loop *l, struct pnode *n)
{
    struct phealth *h = &n->health;

    if (h->retry == NULL) {
        h->retry = net_timer_create(l, probe, n);
    }
    if (h->deadline == NULL) {
        h->deadline = net_timer_create(l, probe_deadline, n);
    }
    if (h->retry == NULL || h->deadline == NULL) {
        net_timer_destroy(h->retry);
        net_timer_destroy(h->deadline);
        h->retry = h->deadline = NULL;
        return false;
    }
    return true;
}

void
health_node_down(struct net_loop *l, void *arg)
{
    struct pnode *n = arg;
    struct proxy *p = n->p;

    if (n->health.stopped ||
        __atomic_load_n(&n->removed, __ATOMIC_ACQUIRE)) {
        return;
    }
    if (!make_timers(l, n)) {
        /* Without a prober it would stay down: let it fail again. */
        __atomic_store_n(&n->state, PNODE_UP, __ATOMIC_RELEASE);
        return;
    }
    n->health.backoff_ms = p->cur->set.retry_timeout_ms;
    if (n->health.conn == NULL) {
        schedule(n, n->health.backoff_ms);
    }
    if (p->cfg.failure_policy == RING_FAIL_EJECT) {
        log_warn("node %s ejected from the ring while down", n->name);
    }
    republish(p);
}

static void
node_up(struct pnode *n)
{
    __atomic_store_n(&n->fails, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&n->state, PNODE_UP, __ATOMIC_RELEASE);
    log_warn("node %s (%s) is up again", n->name, n->addr_text);
    republish(n->p);
}

static void
probe(struct net_timer *t, void *arg)
{
    struct pnode *n = arg;
    struct phealth *h = &n->health;
    struct proxy *p = n->p;
    const struct psettings *s = &p->cur->set;
    static const char req[] = "version\r\n";

    (void)t;
    if (h->stopped || h->conn != NULL ||
        __atomic_load_n(&n->state, __ATOMIC_ACQUIRE) == PNODE_UP) {
        return;
    }
    h->conn = net_conn_connect(net_server_main_loop(p->srv), &n->addr,
        s->connect_timeout_ms, &probe_ops, n, NULL);
    if (h->conn == NULL) {
        schedule(n, h->backoff_ms);
        return;
    }
    (void)net_conn_write(h->conn, req, sizeof(req) - 1);
    net_timer_arm(h->deadline, ((uint64_t)s->connect_timeout_ms +
        s->request_timeout_ms) * 1000u);
}

static void
probe_read(struct net_conn *c, struct buf *in)
{
    struct pnode *n = net_conn_data(c);
    struct proto_rsp rsp;
    struct proto_limits lim;
    size_t used;
    enum proto_status st;

    if (n == NULL) {                /* detached by health_stop() */
        buf_consume(in, in->len);
        return;
    }
    proto_limits_default(&lim);
    st = proto_parse_rsp(&lim, buf_head(in), in->len, &rsp, &used);
    if (st == PROTO_AGAIN) {
        return;
    }
    if (st == PROTO_OK && rsp.type == PROTO_RSP_VERSION) {
        node_up(n);
    }
    buf_consume(in, in->len);
    net_conn_close(c);
}

static void
probe_close(struct net_conn *c, enum net_close_why why)
{
    struct pnode *n = net_conn_data(c);
    struct phealth *h;
    const struct psettings *s;

    (void)why;
    if (n == NULL) {                /* detached by health_stop() */
        return;
    }
    h = &n->health;
    s = &n->p->cur->set;
    h->conn = NULL;
    net_timer_cancel(h->deadline);
    if (h->stopped ||
        __atomic_load_n(&n->state, __ATOMIC_ACQUIRE) == PNODE_UP) {
        return;
    }
    h->backoff_ms = h->backoff_ms >= s->retry_max_ms / 2 ? s->retry_max_ms :
        h->backoff_ms * 2;
    log_info("node %s still down; next probe in %u ms", n->name,
        h->backoff_ms);
    schedule(n, h->backoff_ms);
}

/*
 * NOTE(proxy): the order matters. A probe's close handler runs from the
 * loop after net_conn_close() returns, so it would find freed timers if
 * they went first (the SIGHUP crash of issue 11). Detaching the
 * connection makes that handler a no-op; then nothing refers to the
 * timers and they can go.
 */
void
health_stop(struct pnode *n)
{
    struct phealth *h = &n->health;

    h->stopped = true;
    if (h->conn != NULL) {
        net_conn_set_data(h->conn, NULL);
        net_conn_close(h->conn);
        h->conn = NULL;
    }
    net_timer_destroy(h->retry);
    net_timer_destroy(h->deadline);
    h->retry = h->deadline = NULL;
}

void
health_start(struct pnode *n)
{
    n->health.stopped = false;
}

static const struct net_conn_ops probe_ops = {
    .on_read = probe_read,
    .on_close = probe_close,
};
