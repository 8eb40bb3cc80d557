/*
 * Routing tables: the nodes of the configuration, the ring over them and
 * the settings workers need, as one immutable value. The main thread
 * builds one at startup, on reload and (policy eject) when a node goes
 * down or comes back, and hands it to every worker with a cross-thread
 * call; the last holder frees it. In-flight requests keep the node they
 * were routed to, so nothing waits for the swap.
 */
#include "proxy/proxy_int.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

void
psettings_from(struct psettings *s, const struct ring_config *c)
{
    s->connect_timeout_ms = c->connect_timeout_ms;
    s->request_timeout_ms = c->request_timeout_ms;
    s->policy = c->failure_policy;
    s->failure_limit = c->failure_limit > 0 ? c->failure_limit : 1;
    s->retry_timeout_ms = c->retry_timeout_ms > 0 ? c->retry_timeout_ms : 1;
    s->retry_max_ms = c->retry_max_ms >= s->retry_timeout_ms ?
        c->retry_max_ms : s->retry_timeout_ms;
    s->backend_connections = c->backend_connections > 0 ?
        c->backend_connections : 1;
    s->item_size_max = c->item_size_max;
    s->out_soft = c->client_out_soft;
    s->out_hard = c->client_out_hard;
    s->idle_ms = c->idle_timeout_ms;
}

/* Resolve a node address; NULL (with a log line) if it does not resolve.
 * Blocks on DNS: main thread, startup and reload only. */
struct pnode *
pnode_create(struct proxy *p, const struct ring_config_node *cn)
{
    struct pnode *n;
    enum net_status st;

    if (p->nslots >= PROXY_MAX_SLOTS) {
        log_error("node %s: more than %d nodes configured since start",
            cn->name, PROXY_MAX_SLOTS);
        return NULL;
    }
    n = xcalloc(1, sizeof(*n));
    if (cn->addr.is_unix) {
        st = net_addr_unix(cn->addr.host, &n->addr);
    } else {
        st = net_addr_resolve(cn->addr.host, cn->addr.port, &n->addr);
    }
    if (st != NET_OK) {
        log_error("node %s: cannot resolve address %s", cn->name,
            cn->addr.text);
        free(n);
        return NULL;
    }
    n->p = p;
    n->id = p->nslots;
    n->name = xstrdup(cn->name);
    n->addr_text = xstrdup(cn->addr.text);
    n->ctr = xcalloc(p->nworkers, sizeof(*n->ctr));
    n->all_next = p->all;
    p->all = n;
    p->slots[n->id] = n;
    /* Workers read slots[0 .. nslots) ("stats reset"): publish after. */
    __atomic_store_n(&p->nslots, n->id + 1, __ATOMIC_RELEASE);
    return n;
}

static enum ring_status
build_rings(const struct ring_config *c, struct pring *r)
{
    struct ring_node *rn;
    enum ring_status st;
    bool any_down = false;
    size_t i;

    st = ring_config_build(c, &r->conf);
    if (st != RING_OK) {
        return st;
    }
    rn = xcalloc(c->nnodes, sizeof(*rn));
    for (i = 0; i < c->nnodes; i++) {
        rn[i].name = str_from_cstr(c->nodes[i].name);
        rn[i].addr = str_from_cstr(c->nodes[i].addr.text);
        rn[i].weight = c->nodes[i].weight;
        if (c->failure_policy == RING_FAIL_EJECT &&
            __atomic_load_n(&r->nodes[i]->state, __ATOMIC_ACQUIRE) ==
            PNODE_DOWN) {
            rn[i].weight = 0;
            any_down = true;
        }
    }
    if (any_down) {
        st = ring_build(&c->ring, rn, c->nnodes, &r->ring);
    } else {
        r->ring = r->conf;
    }
    free(rn);
    return st;
}

struct pring *
pring_build(struct proxy *p, const struct ring_config *c,
    struct pnode **nodes)
{
    struct pring *r = xcalloc(1, sizeof(*r));
    size_t i;

    r->n = c->nnodes;
    r->nodes = xcalloc(r->n, sizeof(*r->nodes));
    r->weights = xcalloc(r->n, sizeof(*r->weights));
    for (i = 0; i < r->n; i++) {
        r->nodes[i] = nodes[i];
        r->weights[i] = c->nodes[i].weight;
    }
    __atomic_store_n(&r->refs, 1, __ATOMIC_RELEASE);
    if (build_rings(c, r) != RING_OK) {
        pring_unref(r);
        return NULL;
    }
    psettings_from(&r->set, c);
    proto_limits_default(&r->lim);
    r->lim.max_value = c->item_size_max;
    r->gen = ++p->gen;
    return r;
}

struct pring *
pring_ref(struct pring *r)
{
    int before = __atomic_fetch_add(&r->refs, 1, __ATOMIC_RELAXED);

    /* Only a holder may take another reference: from 0 it is freed. */
    assert(before > 0);
    (void)before;
    return r;
}

void
pring_unref(struct pring *r)
{
    int left;

    if (r == NULL) {
        return;
    }
    left = __atomic_sub_fetch(&r->refs, 1, __ATOMIC_ACQ_REL);
    assert(left >= 0);
    if (left > 0) {
        return;
    }
    if (r->ring != r->conf) {
        ring_destroy(r->ring);
    }
    ring_destroy(r->conf);
    free(r->nodes);
    free(r->weights);
    free(r);
}

static bool
ring_has(const struct pring *r, const struct pnode *n)
{
    size_t i;

    for (i = 0; i < r->n; i++) {
        if (r->nodes[i] == n) {
            return true;
        }
    }
    return false;
}

/*
 * On a worker: start routing with `arg`; connect to nodes that joined (so
 * the first requests do not wait for a connect), drain nodes that left.
 */
static void
swap_ring(struct net_loop *l, void *arg)
{
    struct worker *w = net_loop_data(l);
    struct pring *r = arg, *old = w->ring;
    uint32_t k;
    size_t i;

    w->ring = r;
    for (i = 0; old != NULL && i < r->n; i++) {
        for (k = 0; !ring_has(old, r->nodes[i]) &&
            k < r->set.backend_connections; k++) {
            (void)backend_pick(w, r->nodes[i], k);
        }
    }
    for (i = 0; old != NULL && i < old->n; i++) {
        if (!ring_has(r, old->nodes[i])) {
            backend_drain_node(w, old->nodes[i]);
        }
    }
    pring_unref(old);
}

void
pring_publish(struct proxy *p, struct pring *r)
{
    struct pring *old = p->cur;
    unsigned i;

    p->cur = r;
    for (i = 0; i < p->nworkers; i++) {
        struct net_loop *l = net_server_worker(p->srv, i);

        /* The worker's reference, taken before it can run swap_ring. */
        pring_ref(r);
        if (l == NULL || net_loop_call(l, swap_ring, r) != NET_OK) {
            log_error("worker %u: cannot hand over the new ring (out of "
                "memory); it keeps routing with the previous one", i);
            pring_unref(r);
        }
    }
    pring_unref(old);
}
