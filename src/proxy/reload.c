/*
 * Configuration: load and validate ringproxy.conf(5), and reload it on
 * SIGHUP. An invalid file is rejected ("file:line: reason", logged) and the
 * running configuration stays. A valid one keeps the node objects of nodes
 * whose name and address did not change (their connections and counters
 * carry on), creates the new ones, builds the ring and hands it to the
 * workers; connections to removed nodes close once their in-flight
 * requests are answered. The log and "stats" say what changed and what
 * fraction of the key space moved, computed exactly as "ringtool diff".
 */
#include "proxy/proxy_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

bool
reload_load(const char *path, struct ring_config *c, struct ring_error *err)
{
    size_t len;
    char *text = util_read_file(path, &len);
    enum ring_status st;

    if (text == NULL) {
        err->line = 0;
        snprintf(err->text, sizeof(err->text), "%s: %s", path,
            strerror(errno));
        return false;
    }
    st = ring_config_parse(c, text, len, path, err);
    free(text);
    return st == RING_OK;
}

static bool
override_listen(struct ring_config *c, const char *text)
{
    struct ring_addr a;
    const char *why = NULL;
    size_t i;

    if (!ring_addr_parse(str_from_cstr(text), &a, &why)) {
        log_error("-l %s: %s", text, why);
        return false;
    }
    for (i = 0; i < c->nlisten; i++) {
        ring_addr_fini(&c->listen[i]);
    }
    c->listen = xrealloc(c->listen, sizeof(*c->listen));
    c->listen[0] = a;
    c->nlisten = 1;
    return true;
}

bool
config_apply_opts(const struct proxy_opts *o, struct ring_config *c)
{
    if (o->listen != NULL && !override_listen(c, o->listen)) {
        return false;
    }
    if (o->threads > 0) {
        c->threads = o->threads;
    }
    return true;
}

static struct pnode *
find_live(const struct pring *r, const struct ring_config_node *cn)
{
    size_t i;

    for (i = 0; i < r->n; i++) {
        if (strcmp(r->nodes[i]->name, cn->name) == 0 &&
            strcmp(r->nodes[i]->addr_text, cn->addr.text) == 0) {
            return r->nodes[i];
        }
    }
    return NULL;
}

static size_t
find_name(const struct pring *r, struct str name)
{
    size_t i;

    for (i = 0; i < r->n; i++) {
        if (str_eq_cstr(name, r->nodes[i]->name)) {
            return i;
        }
    }
    return r->n;
}

/* Nodes added, removed, reweighted; and the exact fraction moved. */
static void
compare(const struct pring *a, const struct pring *b,
    struct reload_report *rep)
{
    size_t i, j, na = a->n, nb = b->n;
    double *m;

    rep->added = rep->removed = rep->reweighted = 0;
    for (j = 0; j < nb; j++) {
        i = find_name(a, str_from_cstr(b->nodes[j]->name));
        if (i == na) {
            rep->added++;
        } else if (a->weights[i] != b->weights[j]) {
            rep->reweighted++;
        }
    }
    for (i = 0; i < na; i++) {
        if (find_name(b, str_from_cstr(a->nodes[i]->name)) == nb) {
            rep->removed++;
        }
    }
    m = xcalloc(na * nb, sizeof(*m));
    rep->moved = 0;
    rep->exact = ring_diff(a->conf, b->conf, m) == RING_OK;
    for (i = 0; rep->exact && i < na; i++) {
        for (j = 0; j < nb; j++) {
            if (strcmp(a->nodes[i]->name, b->nodes[j]->name) != 0) {
                rep->moved += m[i * nb + j];
            }
        }
    }
    free(m);
}

/* Nodes of the new ring that an earlier reload had removed: back in
 * service (the ring that names them is built). */
static void
rejoin(const struct pring *new)
{
    size_t i;

    for (i = 0; i < new->n; i++) {
        if (__atomic_load_n(&new->nodes[i]->removed, __ATOMIC_ACQUIRE)) {
            __atomic_store_n(&new->nodes[i]->removed, false,
                __ATOMIC_RELEASE);
            health_start(new->nodes[i]);
        }
    }
}

/* Nodes of the running ring that the new one no longer has. */
static void
retire(const struct pring *old, const struct pring *new)
{
    size_t i, j;

    for (i = 0; i < old->n; i++) {
        for (j = 0; j < new->n && new->nodes[j] != old->nodes[i]; j++) {
        }
        if (j == new->n) {
            __atomic_store_n(&old->nodes[i]->removed, true,
                __ATOMIC_RELEASE);
            health_stop(old->nodes[i]);
        }
    }
}

static void
warn_restart_only(const struct proxy *p, const struct ring_config *c)
{
    size_t i;
    bool same = c->nlisten == p->cfg.nlisten;

    for (i = 0; same && i < c->nlisten; i++) {
        same = strcmp(c->listen[i].text, p->cfg.listen[i].text) == 0;
    }
    /* threads and client_limit against what runs, not the last file:
     * a second reload must still say the first one's change waits. */
    if (!same || c->threads != p->nworkers ||
        c->client_limit != p->client_limit ||
        c->backlog != p->cfg.backlog) {
        log_warn("reload: listen, threads, client_limit and backlog take "
            "effect at the next restart");
    }
}

static void
reject(struct proxy *p, const char *text)
{
    log_error("reload rejected, the running configuration stays: %s", text);
    pthread_mutex_lock(&p->mu);
    p->report.failures++;
    snprintf(p->report.last_error, sizeof(p->report.last_error), "%s", text);
    pthread_mutex_unlock(&p->mu);
}

/*
 * A node an earlier reload removed, with this name and address, or NULL.
 * NOTE(proxy): it is taken back (its slot, its counters) rather than
 * created anew, so that nodes that come and go (autoscaling, etcd) never
 * use up PROXY_MAX_SLOTS; what it did before it left (down, failures) is
 * forgotten, as for a new node.
 */
static struct pnode *
find_retired(const struct proxy *p, const struct ring_config_node *cn)
{
    struct pnode *n;

    for (n = p->all; n != NULL; n = n->all_next) {
        if (__atomic_load_n(&n->removed, __ATOMIC_ACQUIRE) &&
            strcmp(n->name, cn->name) == 0 &&
            strcmp(n->addr_text, cn->addr.text) == 0) {
            __atomic_store_n(&n->fails, 0, __ATOMIC_RELAXED);
            __atomic_store_n(&n->state, PNODE_UP, __ATOMIC_RELEASE);
            return n;
        }
    }
    return NULL;
}

/* Nodes for the new configuration: kept ones reused, removed ones taken
 * back, new ones created. */
static struct pnode **
map_nodes(struct proxy *p, const struct ring_config *c)
{
    struct pnode **nodes = xcalloc(c->nnodes, sizeof(*nodes));
    size_t i;

    for (i = 0; i < c->nnodes; i++) {
        nodes[i] = find_live(p->cur, &c->nodes[i]);
        if (nodes[i] == NULL) {
            nodes[i] = find_retired(p, &c->nodes[i]);
        }
        if (nodes[i] == NULL) {
            nodes[i] = pnode_create(p, &c->nodes[i]);
        }
        if (nodes[i] == NULL) {
            free(nodes);
            return NULL;
        }
    }
    return nodes;
}

static void
report(struct proxy *p, const struct reload_report *rep)
{
    pthread_mutex_lock(&p->mu);
    p->report.count++;
    p->report.added = rep->added;
    p->report.removed = rep->removed;
    p->report.reweighted = rep->reweighted;
    p->report.moved = rep->moved;
    p->report.exact = rep->exact;
    p->report.last_error[0] = '\0';
    pthread_mutex_unlock(&p->mu);
    if (rep->exact) {
        log_info("reloaded %s: %u node(s) added, %u removed, %u reweighted; "
            "%.4f%% of the key space changes owner", p->conf_path,
            rep->added, rep->removed, rep->reweighted, 100 * rep->moved);
    } else {
        log_info("reloaded %s: %u node(s) added, %u removed, %u reweighted; "
            "the key hashing changed, so any key may move", p->conf_path,
            rep->added, rep->removed, rep->reweighted);
    }
}

/* Descriptors while both configurations' connections may be open: the
 * old nodes' until they drain, and the new ones'. */
static bool
reserve_descriptors(struct proxy *p, const struct ring_config *c)
{
    struct fd_need d;
    uint32_t conns = p->cur->set.backend_connections;
    char why[512];

    if (c->backend_connections > conns) {
        conns = c->backend_connections;
    }
    fd_need_compute(&d, p->client_limit, p->nworkers, conns,
        p->cur->n + c->nnodes, p->cfg.nlisten);
    switch (fd_reserve(&d, true, why, sizeof(why))) {
    case FD_TOO_FEW:
        reject(p, why);
        return false;
    case FD_RAISED:
        log_info("reload: %s", why);
        break;
    case FD_OK:
        break;
    }
    return true;
}

void
reload_run(struct proxy *p)
{
    struct ring_config c;
    struct ring_error err;
    struct reload_report rep;
    struct pnode **nodes;
    struct pring *r;

    net_sd_notifyf("RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading %s",
        (unsigned long long)(util_mono_ns() / 1000u), p->conf_path);
    if (!reload_load(p->conf_path, &c, &err)) {
        reject(p, err.text);
        goto ready;
    }
    (void)config_apply_opts(p->opts, &c);   /* -l was checked at start */
    if (!reserve_descriptors(p, &c)) {
        ring_config_fini(&c);
        goto ready;
    }
    if ((nodes = map_nodes(p, &c)) == NULL) {
        reject(p, "cannot set up the new nodes (see above)");
        ring_config_fini(&c);
        goto ready;
    }
    r = pring_build(p, &c, nodes);
    free(nodes);
    if (r == NULL) {
        reject(p, "cannot build the ring");
        ring_config_fini(&c);
        goto ready;
    }
    warn_restart_only(p, &c);
    memset(&rep, 0, sizeof(rep));
    compare(p->cur, r, &rep);
    retire(p->cur, r);
    rejoin(r);
    pthread_mutex_lock(&p->mu);     /* "stats settings" reads it */
    ring_config_fini(&p->cfg);
    p->cfg = c;
    pthread_mutex_unlock(&p->mu);
    pring_publish(p, r);
    report(p, &rep);
ready:
    net_sd_notifyf("READY=1\nSTATUS=serving %zu node(s)", p->cur->n);
}
