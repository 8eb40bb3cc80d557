/* Event loops: one event_base per thread, cross-thread calls, timers. */
#include "net/net.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <event2/event.h>

#include "net/net_int.h"
#include "util/util.h"

struct net_call {
    net_call_fn fn;
    void *arg;
    struct net_call *next;
};

struct net_sig {
    struct event *ev;
    net_signal_fn fn;
    void *arg;
    struct net_loop *loop;
    int signo;
    struct net_sig *next;
};

struct net_timer {
    struct net_loop *loop;
    struct event *ev;
    net_timer_fn fn;
    void *arg;
    struct net_timer *prev;
    struct net_timer *next;
};

static const char *const status_names[] = {
    [NET_OK] = "ok",
    [NET_ENOMEM] = "out of memory",
    [NET_EADDR] = "bad address",
    [NET_ESOCKET] = "socket error",
    [NET_ETIMEDOUT] = "timed out",
    [NET_ECLOSED] = "closed",
    [NET_ESYS] = "system error",
};

static const char *const close_names[] = {
    [NET_CLOSE_LOCAL] = "local",
    [NET_CLOSE_EOF] = "eof",
    [NET_CLOSE_ERROR] = "error",
    [NET_CLOSE_IDLE] = "idle",
    [NET_CLOSE_CONNECT] = "connect",
    [NET_CLOSE_SHUTDOWN] = "shutdown",
    [NET_CLOSE_NOMEM] = "nomem",
};

const char *
net_status_str(enum net_status st)
{
    if ((size_t)st >= sizeof(status_names) / sizeof(status_names[0])) {
        return "unknown";
    }
    return status_names[st];
}

const char *
net_close_str(enum net_close_why why)
{
    if ((size_t)why >= sizeof(close_names) / sizeof(close_names[0])) {
        return "unknown";
    }
    return close_names[why];
}

const char *
net_backend_version(void)
{
    return event_get_version();
}

/* Run every queued call (they may queue more; those run next time). */
static void
run_calls(struct net_loop *l)
{
    struct net_call *list;
    struct net_call *next;

    pthread_mutex_lock(&l->mu);
    list = l->calls_head;
    l->calls_head = NULL;
    l->calls_tail = NULL;
    pthread_mutex_unlock(&l->mu);
    for (; list != NULL; list = next) {
        next = list->next;
        list->fn(l, list->arg);
        free(list);
    }
}

static void
on_wake(evutil_socket_t fd, short what, void *arg)
{
    struct net_loop *l = arg;
    uint64_t v;

    (void)what;
    /* NOTE(net): one read resets the eventfd counter; calls queued after
     * it write again, so nothing is lost. */
    if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN) {
        log_warn("net: eventfd read: %d", errno);
    }
    run_calls(l);
    if (atomic_exchange(&l->stop_req, false)) {
        event_base_loopbreak(l->base);
    }
}

static void
wake(struct net_loop *l)
{
    uint64_t one = 1;

    /* EAGAIN means the counter is already nonzero: the loop will wake. */
    while (write(l->wake_fd, &one, sizeof(one)) < 0 && errno == EINTR) {
    }
}

/* Flush or free every connection marked during this iteration. */
static void
on_defer(evutil_socket_t fd, short what, void *arg)
{
    struct net_loop *l = arg;
    struct net_conn *c;

    (void)fd;
    (void)what;
    while ((c = l->dirty) != NULL) {
        l->dirty = c->next_dirty;
        c->next_dirty = NULL;
        c->dirty = false;
        net_conn_process_dirty(c);
    }
}

void
net_loop_mark_dirty(struct net_loop *l, struct net_conn *c)
{
    if (c->dirty) {
        return;
    }
    c->dirty = true;
    c->next_dirty = l->dirty;
    l->dirty = c;
    event_active(l->defer_ev, EV_READ, 0);
}

static void on_run_timeout(evutil_socket_t fd, short what, void *arg);

struct net_loop *
net_loop_create(unsigned flags)
{
    struct event_config *cfg;
    struct net_loop *l;

    signal(SIGPIPE, SIG_IGN);
    l = calloc(1, sizeof(*l));
    if (l == NULL) {
        return NULL;
    }
    l->wake_fd = -1;
    pthread_mutex_init(&l->mu, NULL);
    atomic_init(&l->stop_req, false);
    cfg = event_config_new();
    if (cfg == NULL) {
        goto fail;
    }
    event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK);
    if (flags & NET_LOOP_PRECISE_TIMERS) {
        event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
    }
    l->base = event_base_new_with_config(cfg);
    event_config_free(cfg);
    if (l->base == NULL) {
        goto fail;
    }
    l->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (l->wake_fd < 0) {
        goto fail;
    }
    l->wake_ev = event_new(l->base, l->wake_fd, EV_READ | EV_PERSIST,
        on_wake, l);
    l->defer_ev = event_new(l->base, -1, 0, on_defer, l);
    l->run_ev = evtimer_new(l->base, on_run_timeout, l);
    if (l->wake_ev == NULL || l->defer_ev == NULL || l->run_ev == NULL ||
        event_add(l->wake_ev, NULL) != 0) {
        goto fail;
    }
    return l;
fail:
    net_loop_destroy(l);
    return NULL;
}

void
net_loop_close_all(struct net_loop *l)
{
    while (l->conns != NULL) {
        net_conn_close_why(l->conns, NET_CLOSE_SHUTDOWN);
        /* A closed conn is unlinked when processed: do it now. */
        on_defer(-1, 0, l);
    }
    on_defer(-1, 0, l);
}

void
net_loop_destroy(struct net_loop *l)
{
    struct net_sig *sg;

    if (l == NULL) {
        return;
    }
    net_loop_close_all(l);
    while (l->calls_head != NULL) {
        run_calls(l);
        on_defer(-1, 0, l);
    }
    while (l->timers != NULL) {
        net_timer_destroy(l->timers);
    }
    while ((sg = l->sigs) != NULL) {
        l->sigs = sg->next;
        event_free(sg->ev);
        free(sg);
    }
    if (l->wake_ev != NULL) {
        event_free(l->wake_ev);
    }
    if (l->defer_ev != NULL) {
        event_free(l->defer_ev);
    }
    if (l->run_ev != NULL) {
        event_free(l->run_ev);
    }
    if (l->wake_fd >= 0) {
        close(l->wake_fd);
    }
    if (l->base != NULL) {
        event_base_free(l->base);
    }
    pthread_mutex_destroy(&l->mu);
    free(l);
}

static void
on_run_timeout(evutil_socket_t fd, short what, void *arg)
{
    struct net_loop *l = arg;

    (void)fd;
    (void)what;
    event_base_loopbreak(l->base);
}

enum net_status
net_loop_run(struct net_loop *l, uint64_t timeout_ms)
{
    struct timeval tv;
    int rc;

    if (timeout_ms > 0) {
        tv.tv_sec = (time_t)(timeout_ms / 1000);
        tv.tv_usec = (suseconds_t)(timeout_ms % 1000) * 1000;
        evtimer_add(l->run_ev, &tv);
    }
    rc = event_base_loop(l->base, EVLOOP_NO_EXIT_ON_EMPTY);
    /* NOTE(net): our own timer, not event_base_loopexit(), so that a run
     * ended early by net_loop_stop() leaves nothing to end the next. */
    evtimer_del(l->run_ev);
    return rc < 0 ? NET_ESYS : NET_OK;
}

void
net_loop_stop(struct net_loop *l)
{
    atomic_store(&l->stop_req, true);
    wake(l);
}

enum net_status
net_loop_call(struct net_loop *l, net_call_fn fn, void *arg)
{
    struct net_call *call;

    call = malloc(sizeof(*call));
    if (call == NULL) {
        return NET_ENOMEM;
    }
    call->fn = fn;
    call->arg = arg;
    call->next = NULL;
    pthread_mutex_lock(&l->mu);
    if (l->calls_tail != NULL) {
        l->calls_tail->next = call;
    } else {
        l->calls_head = call;
    }
    l->calls_tail = call;
    pthread_mutex_unlock(&l->mu);
    wake(l);
    return NET_OK;
}

void
net_loop_set_data(struct net_loop *l, void *data)
{
    l->data = data;
}

void *
net_loop_data(const struct net_loop *l)
{
    return l->data;
}

size_t
net_loop_conn_count(const struct net_loop *l)
{
    return l->nconns;
}

static void
on_signal(evutil_socket_t signo, short what, void *arg)
{
    struct net_sig *sg = arg;

    (void)what;
    sg->fn(sg->loop, (int)signo, sg->arg);
}

enum net_status
net_loop_on_signal(struct net_loop *l, int signo, net_signal_fn fn,
    void *arg)
{
    struct net_sig *sg;

    sg = calloc(1, sizeof(*sg));
    if (sg == NULL) {
        return NET_ENOMEM;
    }
    sg->fn = fn;
    sg->arg = arg;
    sg->loop = l;
    sg->signo = signo;
    sg->ev = evsignal_new(l->base, signo, on_signal, sg);
    if (sg->ev == NULL || event_add(sg->ev, NULL) != 0) {
        if (sg->ev != NULL) {
            event_free(sg->ev);
        }
        free(sg);
        return NET_ESYS;
    }
    sg->next = l->sigs;
    l->sigs = sg;
    return NET_OK;
}

/* ---- timers ------------------------------------------------------------ */

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct net_timer *t = arg;

    (void)fd;
    (void)what;
    t->fn(t, t->arg);
}

struct net_timer *
net_timer_create(struct net_loop *l, net_timer_fn fn, void *arg)
{
    struct net_timer *t;

    t = calloc(1, sizeof(*t));
    if (t == NULL) {
        return NULL;
    }
    t->ev = evtimer_new(l->base, on_timer, t);
    if (t->ev == NULL) {
        free(t);
        return NULL;
    }
    t->loop = l;
    t->fn = fn;
    t->arg = arg;
    t->next = l->timers;
    if (l->timers != NULL) {
        l->timers->prev = t;
    }
    l->timers = t;
    return t;
}

void
net_timer_arm(struct net_timer *t, uint64_t us)
{
    struct timeval tv;

    tv.tv_sec = (time_t)(us / 1000000);
    tv.tv_usec = (suseconds_t)(us % 1000000);
    evtimer_add(t->ev, &tv);
}

void
net_timer_cancel(struct net_timer *t)
{
    evtimer_del(t->ev);
}

bool
net_timer_armed(const struct net_timer *t)
{
    return evtimer_pending(t->ev, NULL) != 0;
}

void
net_timer_destroy(struct net_timer *t)
{
    if (t == NULL) {
        return;
    }
    event_free(t->ev);
    if (t->prev != NULL) {
        t->prev->next = t->next;
    } else {
        t->loop->timers = t->next;
    }
    if (t->next != NULL) {
        t->next->prev = t->prev;
    }
    free(t);
}
