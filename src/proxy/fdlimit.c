/*
 * Descriptors: how many the proxy may hold at once, and RLIMIT_NOFILE.
 * At start the soft limit is raised to cover client_limit clients, every
 * backend connection with room for a reload that replaces every node, the
 * health probes and the proxy's own descriptors; if the hard limit is too
 * low the proxy refuses to start (memcached does the same for -c). A
 * reload whose nodes would not fit is refused the same way. Clients can
 * therefore never take the descriptors backends and probes need: past
 * client_limit a client is refused at accept.
 */
#include "proxy/proxy_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

/* Per event loop (the acceptor and each worker): epoll, a wake-up
 * eventfd and libevent's signal pipe. */
#define FD_PER_LOOP 4
/* The three standard streams, sd_notify, DNS look-ups and the config file
 * during a reload, the socket of a client being refused, whatever the
 * parent left open. */
#define FD_SLACK 64

void
fd_need_compute(struct fd_need *d, uint32_t client_limit, unsigned threads,
    uint32_t conns_per_node, size_t nodes, size_t nlisten)
{
    d->clients = client_limit;
    d->backends = (uint64_t)threads * conns_per_node * nodes;
    d->probes = nodes;
    d->fixed = (uint64_t)FD_PER_LOOP * (threads + 1u) + nlisten + FD_SLACK;
    d->total = d->clients + d->backends + d->probes + d->fixed;
}

/*
 * NOTE(proxy): descriptors are reserved for twice the configured nodes,
 * so that a reload that replaces every node, whose old connections stay
 * open while they drain, fits in what was reserved at start; reload.c
 * checks (and raises) again for larger changes.
 */
void
fd_need_at_start(struct fd_need *d, const struct ring_config *c,
    unsigned threads)
{
    fd_need_compute(d, c->client_limit, threads, c->backend_connections,
        2 * c->nnodes, c->nlisten);
}

/* "N descriptors (C clients + B backend connections + P probes + F for
 * the proxy itself)" into buf. */
static void
describe(const struct fd_need *d, char *buf, size_t len)
{
    snprintf(buf, len, "%llu descriptors (%llu clients + %llu backend "
        "connections + %llu probes + %llu for the proxy itself)",
        (unsigned long long)d->total, (unsigned long long)d->clients,
        (unsigned long long)d->backends, (unsigned long long)d->probes,
        (unsigned long long)d->fixed);
}

enum fd_result
fd_reserve(const struct fd_need *d, bool apply, char *why, size_t len)
{
    struct rlimit rl;
    char need[256];

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        snprintf(why, len, "getrlimit(RLIMIT_NOFILE): %s", strerror(errno));
        return FD_TOO_FEW;
    }
    if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= d->total) {
        return FD_OK;
    }
    describe(d, need, sizeof(need));
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < d->total) {
        snprintf(why, len, "need %s, but the hard limit on open files "
            "(RLIMIT_NOFILE, ulimit -Hn) is %llu: raise it (LimitNOFILE= "
            "under systemd) or lower client_limit, threads, "
            "backend_connections or the number of nodes", need,
            (unsigned long long)rl.rlim_max);
        return FD_TOO_FEW;
    }
    if (!apply) {
        snprintf(why, len, "the soft limit on open files (%llu) will be "
            "raised to %s", (unsigned long long)rl.rlim_cur, need);
        return FD_RAISED;
    }
    rl.rlim_cur = d->total;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
        snprintf(why, len, "need %s; cannot raise the soft limit on open "
            "files to that: %s", need, strerror(errno));
        return FD_TOO_FEW;
    }
    snprintf(why, len, "raised the soft limit on open files to %s", need);
    return FD_RAISED;
}
