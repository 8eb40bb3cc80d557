/*
 * Servers: listeners and the acceptor on the calling thread's loop, N
 * worker threads with a loop each, round-robin hand-off of accepted sockets
 * through net_loop_call(), the connection limit, and the SIGTERM drain.
 */
#include "net/net.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "net/net_int.h"
#include "util/util.h"

#define NET_ACCEPT_BATCH 64
#define NET_ACCEPT_PAUSE_US 100000u

struct net_listener {
    int fd;
    struct event *ev;
    struct net_addr addr;
    char *unix_path;            /* unlinked at shutdown */
    size_t idx;
    struct net_server *srv;
};

struct net_worker {
    struct net_server *srv;
    struct net_loop *loop;
    pthread_t thread;
    unsigned idx;
};

struct net_server {
    struct net_server_config cfg;
    struct net_listener **ls;
    size_t nls;
    struct net_loop *main;
    struct net_worker *workers;
    unsigned rr;
    bool started;
    bool joined;
    bool shutting;
    bool accepting;
    struct net_timer *resume;
    atomic_uint_fast64_t curr;
    atomic_uint_fast64_t total;
    atomic_uint_fast64_t rejected;
    atomic_uint_fast64_t disabled;
};

struct net_handoff {
    struct net_server *srv;
    int fd;
    int listener;
    struct net_addr peer;
};

static const struct net_conn_ops refused_ops = { 0 };

static void on_term(struct net_loop *l, int signo, void *arg);

struct net_server *
net_server_create(const struct net_server_config *cfg)
{
    struct net_server *s;

    s = calloc(1, sizeof(*s));
    if (s == NULL) {
        return NULL;
    }
    s->cfg = *cfg;
    if (s->cfg.nworkers == 0) {
        s->cfg.nworkers = 4;
    }
    if (s->cfg.backlog <= 0) {
        s->cfg.backlog = 1024;
    }
    if (s->cfg.drain_ms == 0) {
        s->cfg.drain_ms = 5000;
    }
    s->main = net_loop_create(0);
    /* NOTE(net): signals are caught from here on, before any socket
     * listens: a SIGTERM that arrives once clients can connect must
     * drain, not kill (it is acted on when net_server_run() starts). */
    if (s->main == NULL ||
        net_loop_on_signal(s->main, SIGTERM, on_term, s) != NET_OK ||
        net_loop_on_signal(s->main, SIGINT, on_term, s) != NET_OK) {
        net_loop_destroy(s->main);
        free(s);
        return NULL;
    }
    atomic_init(&s->curr, 0);
    atomic_init(&s->total, 0);
    atomic_init(&s->rejected, 0);
    atomic_init(&s->disabled, 0);
    return s;
}

/* ---- listeners ----------------------------------------------------------- */

static enum net_status
add_listener(struct net_server *s, int fd, const char *unix_path)
{
    struct net_listener **ls;
    struct net_listener *l;

    ls = realloc(s->ls, (s->nls + 1) * sizeof(*ls));
    l = calloc(1, sizeof(*l));
    if (ls == NULL || l == NULL) {
        free(l);
        if (ls != NULL) {
            s->ls = ls;
        }
        return NET_ENOMEM;
    }
    s->ls = ls;
    l->fd = fd;
    l->srv = s;
    l->idx = s->nls;
    l->addr.len = sizeof(l->addr.ss);
    getsockname(fd, (struct sockaddr *)&l->addr.ss, &l->addr.len);
    if (unix_path != NULL) {
        l->unix_path = strdup(unix_path);
    }
    s->ls[s->nls++] = l;
    return NET_OK;
}

/* socket + options + bind + listen; -1 with errno set on failure. */
static int
open_listen(struct net_server *s, const struct sockaddr *sa, socklen_t len)
{
    int one = 1;
    int fd;
    int err;

    fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
        0);
    if (fd < 0) {
        return -1;
    }
    if (sa->sa_family != AF_UNIX) {
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    }
    if (sa->sa_family == AF_INET6) {
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    }
    if (bind(fd, sa, len) < 0 || listen(fd, s->cfg.backlog) < 0) {
        err = errno;
        close(fd);
        errno = err;
        return -1;
    }
    return fd;
}

static void
drop_listeners_from(struct net_server *s, size_t first)
{
    while (s->nls > first) {
        struct net_listener *l = s->ls[--s->nls];

        close(l->fd);
        free(l->unix_path);
        free(l);
    }
}

static uint16_t
addr_port(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET) {
        return ntohs(((const struct sockaddr_in *)ss)->sin_port);
    }
    if (ss->ss_family == AF_INET6) {
        return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
    }
    return 0;
}

static void
set_port(struct sockaddr *sa, uint16_t port)
{
    if (sa->sa_family == AF_INET) {
        ((struct sockaddr_in *)sa)->sin_port = htons(port);
    } else if (sa->sa_family == AF_INET6) {
        ((struct sockaddr_in6 *)sa)->sin6_port = htons(port);
    }
}

enum net_status
net_server_listen_tcp(struct net_server *s, const char *host, uint16_t port,
    uint16_t *bound)
{
    struct addrinfo hints;
    struct addrinfo *res = NULL;
    struct addrinfo *ai;
    size_t first = s->nls;
    char serv[8];
    char name[256];
    size_t hl;
    int fd;
    int err;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    snprintf(serv, sizeof(serv), "%u", (unsigned)port);
    if (host != NULL) {
        hl = strlen(host);
        if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
            snprintf(name, sizeof(name), "%.*s", (int)(hl - 2), host + 1);
            host = name;
        }
    }
    if (getaddrinfo(host, serv, &hints, &res) != 0 || res == NULL) {
        return NET_EADDR;
    }
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        /* With port 0, every address shares the port the first one got. */
        if (port == 0 && s->nls > first) {
            set_port(ai->ai_addr, addr_port(&s->ls[first]->addr.ss));
        }
        fd = open_listen(s, ai->ai_addr, ai->ai_addrlen);
        if (fd < 0 || add_listener(s, fd, NULL) != NET_OK) {
            err = fd < 0 ? errno : ENOMEM;
            if (fd >= 0) {
                close(fd);
            }
            freeaddrinfo(res);
            drop_listeners_from(s, first);
            errno = err;
            return NET_ESOCKET;
        }
    }
    freeaddrinfo(res);
    if (bound != NULL) {
        *bound = addr_port(&s->ls[first]->addr.ss);
    }
    return NET_OK;
}

enum net_status
net_server_listen_unix(struct net_server *s, const char *path, unsigned mode)
{
    struct net_addr a;
    struct stat st;
    int fd;
    int err;

    if (net_addr_unix(path, &a) != NET_OK) {
        return NET_EADDR;
    }
    /* A socket file left by an earlier run would make bind() fail. */
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
        unlink(path);
    }
    fd = open_listen(s, (const struct sockaddr *)&a.ss, a.len);
    if (fd < 0) {
        return NET_ESOCKET;
    }
    if (chmod(path, (mode_t)mode) < 0 || add_listener(s, fd, path) != NET_OK) {
        err = errno;
        close(fd);
        unlink(path);
        errno = err;
        return NET_ESOCKET;
    }
    return NET_OK;
}

size_t
net_server_listener_count(const struct net_server *s)
{
    return s->nls;
}

int
net_server_listener_fd(const struct net_server *s, size_t i)
{
    return i < s->nls ? s->ls[i]->fd : -1;
}

void
net_server_listener_name(const struct net_server *s, size_t i, char *dst,
    size_t n)
{
    if (i >= s->nls) {
        snprintf(dst, n, "?");
        return;
    }
    net_addr_format(&s->ls[i]->addr, dst, n);
}

/* ---- workers ------------------------------------------------------------- */

static void
worker_drained(struct net_timer *t, void *arg)
{
    struct net_loop *l = arg;

    (void)t;
    net_loop_stop(l);
}

static void *
worker_main(void *arg)
{
    struct net_worker *w = arg;
    struct net_server *s = w->srv;
    struct net_loop *l = w->loop;

    if (s->cfg.on_worker_start != NULL) {
        s->cfg.on_worker_start(l, w->idx, s->cfg.arg);
    }
    net_loop_run(l, 0);
    /* Every conn closes (on_close runs) before on_worker_stop. */
    net_loop_close_all(l);
    if (s->cfg.on_worker_stop != NULL) {
        s->cfg.on_worker_stop(l, w->idx, s->cfg.arg);
    }
    net_loop_destroy(l);
    return NULL;
}

/* On a worker: stop reading accepted conns, let them flush, then stop. */
static void
worker_drain(struct net_loop *l, void *arg)
{
    struct net_server *s = arg;
    struct net_conn *c;

    l->draining = true;
    for (c = l->conns; c != NULL; c = c->next) {
        if (c->srv != NULL) {
            net_conn_close_flush(c);
        }
    }
    if (l->naccepted == 0) {
        net_loop_stop(l);
        return;
    }
    l->drain_timer = net_timer_create(l, worker_drained, l);
    if (l->drain_timer == NULL) {
        net_loop_stop(l);
        return;
    }
    net_timer_arm(l->drain_timer, (uint64_t)s->cfg.drain_ms * 1000u);
}

void
net_server_conn_gone(struct net_server *s, struct net_loop *l)
{
    atomic_fetch_sub(&s->curr, 1);
    l->naccepted--;
    if (l->draining && l->naccepted == 0) {
        net_loop_stop(l);
    }
}

static void
adopt(struct net_loop *l, void *arg)
{
    struct net_handoff *h = arg;
    struct net_server *s = h->srv;
    struct net_conn *c = NULL;

    if (!l->draining) {
        c = net_conn_adopt(l, h->fd, &h->peer, s->cfg.ops, &s->cfg.conn);
    }
    if (c == NULL) {
        close(h->fd);
        atomic_fetch_sub(&s->curr, 1);
        free(h);
        return;
    }
    c->srv = s;
    c->listener = h->listener;
    l->naccepted++;
    free(h);
    if (s->cfg.on_open != NULL && !s->cfg.on_open(c, s->cfg.arg)) {
        c->ops = &refused_ops;
        net_conn_close(c);
        return;
    }
    net_conn_start_reading(c);
}

enum net_status
net_server_start(struct net_server *s)
{
    unsigned i;

    if (s->started) {
        return NET_OK;
    }
    s->workers = calloc(s->cfg.nworkers, sizeof(*s->workers));
    if (s->workers == NULL) {
        return NET_ENOMEM;
    }
    for (i = 0; i < s->cfg.nworkers; i++) {
        s->workers[i].srv = s;
        s->workers[i].idx = i;
        s->workers[i].loop = net_loop_create(0);
        if (s->workers[i].loop == NULL) {
            goto fail;
        }
        s->workers[i].loop->srv = s;
    }
    for (i = 0; i < s->cfg.nworkers; i++) {
        if (pthread_create(&s->workers[i].thread, NULL, worker_main,
            &s->workers[i]) != 0) {
            /* Threads already running are stopped and joined here. */
            while (i-- > 0) {
                net_loop_stop(s->workers[i].loop);
                pthread_join(s->workers[i].thread, NULL);
            }
            i = 0;
            goto fail_created;
        }
    }
    s->started = true;
    return NET_OK;
fail:
    i = 0;
fail_created:
    for (; i < s->cfg.nworkers; i++) {
        net_loop_destroy(s->workers[i].loop);
    }
    free(s->workers);
    s->workers = NULL;
    return NET_ESYS;
}

/* ---- acceptor ------------------------------------------------------------ */

static void
set_accepting(struct net_server *s, bool on)
{
    size_t i;

    for (i = 0; i < s->nls; i++) {
        if (s->ls[i]->ev == NULL) {
            continue;
        }
        if (on) {
            event_add(s->ls[i]->ev, NULL);
        } else {
            event_del(s->ls[i]->ev);
        }
    }
    s->accepting = on;
}

static void
resume_accepting(struct net_timer *t, void *arg)
{
    struct net_server *s = arg;

    (void)t;
    if (!s->shutting) {
        set_accepting(s, true);
    }
}

static void
reject(struct net_server *s, int fd)
{
    /* Counted before the peer can see the close. */
    atomic_fetch_add(&s->rejected, 1);
    if (s->cfg.reject_msg != NULL) {
        /* Best effort: a fresh socket has room for one short line. */
        ssize_t n = send(fd, s->cfg.reject_msg, strlen(s->cfg.reject_msg),
            MSG_DONTWAIT | MSG_NOSIGNAL);
        (void)n;
    }
    close(fd);
}

static void
hand_off(struct net_server *s, int fd, const struct net_addr *peer,
    size_t listener)
{
    struct net_handoff *h;
    struct net_worker *w;

    if (s->cfg.max_conns > 0 && atomic_load(&s->curr) >= s->cfg.max_conns) {
        reject(s, fd);
        return;
    }
    h = malloc(sizeof(*h));
    w = &s->workers[s->rr++ % s->cfg.nworkers];
    if (h == NULL) {
        close(fd);
        return;
    }
    h->srv = s;
    h->fd = fd;
    h->listener = (int)listener;
    h->peer = *peer;
    atomic_fetch_add(&s->curr, 1);
    atomic_fetch_add(&s->total, 1);
    if (net_loop_call(w->loop, adopt, h) != NET_OK) {
        atomic_fetch_sub(&s->curr, 1);
        close(fd);
        free(h);
    }
}

static void
on_accept(evutil_socket_t lfd, short what, void *arg)
{
    struct net_listener *ls = arg;
    struct net_server *s = ls->srv;
    struct net_addr peer;
    int i;
    int fd;

    (void)what;
    for (i = 0; i < NET_ACCEPT_BATCH && s->accepting; i++) {
        peer.len = sizeof(peer.ss);
        fd = accept4(lfd, (struct sockaddr *)&peer.ss, &peer.len,
            SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            if (ls->addr.ss.ss_family == AF_UNIX) {
                peer.ss.ss_family = AF_UNIX;
            }
            hand_off(s, fd, &peer, ls->idx);
            continue;
        }
        if (errno == EINTR || errno == ECONNABORTED) {
            continue;
        }
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
            errno == ENOMEM) {
            /* Out of descriptors: stop accepting for a moment rather than
             * spinning on a listener that stays readable. */
            log_warn("net: accept: %s; pausing", strerror(errno));
            atomic_fetch_add(&s->disabled, 1);
            set_accepting(s, false);
            net_timer_arm(s->resume, NET_ACCEPT_PAUSE_US);
        }
        break;
    }
}

static void
begin_shutdown(struct net_server *s)
{
    size_t i;
    unsigned w;

    if (s->shutting) {
        return;
    }
    s->shutting = true;
    set_accepting(s, false);
    for (i = 0; i < s->nls; i++) {
        if (s->ls[i]->ev != NULL) {
            event_free(s->ls[i]->ev);
            s->ls[i]->ev = NULL;
        }
        close(s->ls[i]->fd);
        s->ls[i]->fd = -1;
        if (s->ls[i]->unix_path != NULL) {
            unlink(s->ls[i]->unix_path);
        }
    }
    if (s->cfg.on_shutdown != NULL) {
        s->cfg.on_shutdown(s->cfg.arg);
    }
    for (w = 0; s->started && w < s->cfg.nworkers; w++) {
        if (net_loop_call(s->workers[w].loop, worker_drain, s) != NET_OK) {
            net_loop_stop(s->workers[w].loop);
        }
    }
    net_loop_stop(s->main);
}

static void
on_term(struct net_loop *l, int signo, void *arg)
{
    (void)l;
    log_info("net: signal %d: shutting down", signo);
    begin_shutdown(arg);
}

static void
shutdown_call(struct net_loop *l, void *arg)
{
    (void)l;
    begin_shutdown(arg);
}

void
net_server_shutdown(struct net_server *s)
{
    if (net_loop_call(s->main, shutdown_call, s) != NET_OK) {
        net_loop_stop(s->main);
    }
}

static enum net_status
arm_acceptor(struct net_server *s)
{
    size_t i;

    s->resume = net_timer_create(s->main, resume_accepting, s);
    if (s->resume == NULL) {
        return NET_ENOMEM;
    }
    for (i = 0; i < s->nls; i++) {
        s->ls[i]->ev = event_new(s->main->base, s->ls[i]->fd,
            EV_READ | EV_PERSIST, on_accept, s->ls[i]);
        if (s->ls[i]->ev == NULL) {
            return NET_ENOMEM;
        }
    }
    set_accepting(s, true);
    return NET_OK;
}

static void
join_workers(struct net_server *s)
{
    unsigned i;

    if (!s->started || s->joined) {
        return;
    }
    for (i = 0; i < s->cfg.nworkers; i++) {
        pthread_join(s->workers[i].thread, NULL);
    }
    s->joined = true;
}

enum net_status
net_server_run(struct net_server *s)
{
    enum net_status st;

    st = net_server_start(s);
    if (st != NET_OK) {
        return st;
    }
    st = arm_acceptor(s);
    if (st == NET_OK) {
        st = net_loop_run(s->main, 0);
    }
    begin_shutdown(s);
    join_workers(s);
    return st;
}

void
net_server_destroy(struct net_server *s)
{
    unsigned i;

    if (s == NULL) {
        return;
    }
    if (s->started && !s->joined) {
        for (i = 0; i < s->cfg.nworkers; i++) {
            net_loop_stop(s->workers[i].loop);
        }
        join_workers(s);
    }
    for (i = 0; i < s->nls; i++) {
        if (s->ls[i]->ev != NULL) {
            event_free(s->ls[i]->ev);
        }
        if (s->ls[i]->fd >= 0) {
            close(s->ls[i]->fd);
        }
        free(s->ls[i]->unix_path);
        free(s->ls[i]);
    }
    free(s->ls);
    free(s->workers);
    net_loop_destroy(s->main);
    free(s);
}

unsigned
net_server_worker_count(const struct net_server *s)
{
    return s->cfg.nworkers;
}

struct net_loop *
net_server_worker(const struct net_server *s, unsigned idx)
{
    if (!s->started || s->joined || idx >= s->cfg.nworkers) {
        return NULL;
    }
    return s->workers[idx].loop;
}

struct net_loop *
net_server_main_loop(const struct net_server *s)
{
    return s->main;
}

void
net_server_stats(const struct net_server *s, struct net_server_stats *st)
{
    st->curr_conns = atomic_load(&s->curr);
    st->total_conns = atomic_load(&s->total);
    st->rejected_conns = atomic_load(&s->rejected);
    st->listen_disabled = atomic_load(&s->disabled);
}
