/*
 * Connections: read into a struct buf and call on_read; queue output as
 * segments (copies and released references) and send them with writev;
 * backpressure, idle timeout, outbound connect, orderly close.
 */
#include "net/net.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <event2/event.h>

#include "net/net_int.h"
#include "util/util.h"

#define NET_DEFAULT_OUT_HIGH (4u << 20)
#define NET_DEFAULT_READ_SIZE (16u << 10)
#define NET_DRAIN_MS 5000u
#define NET_MAX_IOV 128

static void on_readable(evutil_socket_t fd, short what, void *arg);
static void on_writable(evutil_socket_t fd, short what, void *arg);
static void on_deadline(evutil_socket_t fd, short what, void *arg);

static void
apply_opts(struct net_conn *c, const struct net_conn_opts *o)
{
    struct net_conn_opts d = { 0 };

    if (o != NULL) {
        d = *o;
    }
    if (d.out_high == 0) {
        d.out_high = NET_DEFAULT_OUT_HIGH;
    }
    if (d.out_low == 0 || d.out_low > d.out_high) {
        d.out_low = d.out_high / 4;
    }
    if (d.read_size == 0) {
        d.read_size = NET_DEFAULT_READ_SIZE;
    }
    c->opts = d;
}

static void
arm_deadline(struct net_conn *c, uint64_t ms)
{
    struct timeval tv;

    tv.tv_sec = (time_t)(ms / 1000);
    tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
    event_add(c->tev, &tv);
}

/* Add or remove the read event to match the conn's state and flags. */
static void
update_reading(struct net_conn *c)
{
    bool want = c->state == NET_CONN_OPEN && !c->user_paused &&
        !c->bp_paused;

    if (want && !c->reading) {
        event_add(c->rev, NULL);
    } else if (!want && c->reading) {
        event_del(c->rev);
    }
    c->reading = want;
}

static void
set_writing(struct net_conn *c, bool want)
{
    if (want && !c->writing) {
        event_add(c->wev, NULL);
    } else if (!want && c->writing) {
        event_del(c->wev);
    }
    c->writing = want;
}

static struct net_conn *
conn_new(struct net_loop *l, int fd, const struct net_conn_ops *ops,
    const struct net_conn_opts *o)
{
    struct net_conn *c;

    c = calloc(1, sizeof(*c));
    if (c == NULL) {
        return NULL;
    }
    c->loop = l;
    c->fd = fd;
    c->ops = ops;
    c->listener = -1;
    buf_init(&c->in);
    apply_opts(c, o);
    c->rev = event_new(l->base, fd, EV_READ | EV_PERSIST, on_readable, c);
    c->wev = event_new(l->base, fd, EV_WRITE | EV_PERSIST, on_writable, c);
    c->tev = evtimer_new(l->base, on_deadline, c);
    if (c->rev == NULL || c->wev == NULL || c->tev == NULL) {
        if (c->rev != NULL) {
            event_free(c->rev);
        }
        if (c->wev != NULL) {
            event_free(c->wev);
        }
        if (c->tev != NULL) {
            event_free(c->tev);
        }
        free(c);
        return NULL;
    }
    c->next = l->conns;
    if (l->conns != NULL) {
        l->conns->prev = c;
    }
    l->conns = c;
    l->nconns++;
    c->last_in_ns = util_mono_ns();
    return c;
}

static void
set_nodelay(int fd, int family)
{
    int one = 1;

    if (family == AF_INET || family == AF_INET6) {
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
}

struct net_conn *
net_conn_adopt(struct net_loop *l, int fd, const struct net_addr *peer,
    const struct net_conn_ops *ops, const struct net_conn_opts *o)
{
    struct net_conn *c;

    c = conn_new(l, fd, ops, o);
    if (c == NULL) {
        return NULL;
    }
    c->peer = *peer;
    c->is_unix = peer->ss.ss_family == AF_UNIX;
    set_nodelay(fd, peer->ss.ss_family);
    c->state = NET_CONN_OPEN;
    return c;
}

void
net_conn_start_reading(struct net_conn *c)
{
    update_reading(c);
    if (c->opts.idle_ms > 0) {
        arm_deadline(c, c->opts.idle_ms);
    }
}

/* ---- output queue -------------------------------------------------------- */

static void
release_seg(struct net_seg *s)
{
    if (s->release != NULL) {
        net_release_fn fn = s->release;

        s->release = NULL;
        fn(s->arg);
    }
}

static void
drop_output(struct net_conn *c)
{
    size_t i;

    for (i = c->shead; i < c->nseg; i++) {
        release_seg(&c->segs[i]);
    }
    c->shead = 0;
    c->nseg = 0;
    c->ohead = 0;
    c->olen = 0;
    c->pending = 0;
}

/* Room for one more segment; false if out of memory. */
static bool
seg_room(struct net_conn *c)
{
    struct net_seg *p;
    size_t cap;

    if (c->nseg < c->segcap) {
        return true;
    }
    if (c->shead > 0) {
        memmove(c->segs, c->segs + c->shead,
            (c->nseg - c->shead) * sizeof(*c->segs));
        c->nseg -= c->shead;
        c->shead = 0;
        if (c->nseg < c->segcap) {
            return true;
        }
    }
    cap = c->segcap > 0 ? c->segcap * 2 : 16;
    p = realloc(c->segs, cap * sizeof(*p));
    if (p == NULL) {
        return false;
    }
    c->segs = p;
    c->segcap = cap;
    return true;
}

/* Room for `len` more copied bytes in obuf; false if out of memory. */
static bool
obuf_room(struct net_conn *c, size_t len)
{
    size_t i;
    size_t cap;
    char *p;

    if (c->ocap - c->olen >= len) {
        return true;
    }
    if (c->ohead > 0) {
        /* Slide live bytes down; copy segments hold offsets, fix them. */
        memmove(c->obuf, c->obuf + c->ohead, c->olen - c->ohead);
        for (i = c->shead; i < c->nseg; i++) {
            if (c->segs[i].ptr == NULL) {
                c->segs[i].off -= c->ohead;
            }
        }
        c->olen -= c->ohead;
        c->ohead = 0;
        if (c->ocap - c->olen >= len) {
            return true;
        }
    }
    cap = c->ocap > 0 ? c->ocap : 1024;
    while (cap - c->olen < len) {
        if (cap > SIZE_MAX / 2) {
            return false;
        }
        cap *= 2;
    }
    p = realloc(c->obuf, cap);
    if (p == NULL) {
        return false;
    }
    c->obuf = p;
    c->ocap = cap;
    return true;
}

static bool
can_write(const struct net_conn *c)
{
    return c->state == NET_CONN_OPEN || c->state == NET_CONN_CONNECTING ||
        c->state == NET_CONN_DRAINING;
}

/* Output was queued: have the loop flush it at the end of this iteration,
 * unless we are inside on_read, which flushes when it returns. */
static void
schedule_flush(struct net_conn *c)
{
    if (!c->in_read) {
        net_loop_mark_dirty(c->loop, c);
    }
}

enum net_status
net_conn_write(struct net_conn *c, const void *p, size_t len)
{
    struct net_seg *last;

    if (!can_write(c)) {
        return NET_ECLOSED;
    }
    if (len == 0) {
        return NET_OK;
    }
    if (!obuf_room(c, len)) {
        return NET_ENOMEM;
    }
    last = c->nseg > c->shead ? &c->segs[c->nseg - 1] : NULL;
    if (last == NULL || last->ptr != NULL ||
        last->off + last->len != c->olen) {
        if (!seg_room(c)) {
            return NET_ENOMEM;
        }
        last = &c->segs[c->nseg++];
        last->ptr = NULL;
        last->off = c->olen;
        last->len = 0;
        last->release = NULL;
        last->arg = NULL;
    }
    memcpy(c->obuf + c->olen, p, len);
    c->olen += len;
    last->len += len;
    c->pending += len;
    schedule_flush(c);
    return NET_OK;
}

enum net_status
net_conn_write_ref(struct net_conn *c, const void *p, size_t len,
    net_release_fn release, void *arg)
{
    struct net_seg *s;

    if (!can_write(c) || !seg_room(c)) {
        if (release != NULL) {
            release(arg);
        }
        return can_write(c) ? NET_ENOMEM : NET_ECLOSED;
    }
    s = &c->segs[c->nseg++];
    s->ptr = p;
    s->off = 0;
    s->len = len;
    s->release = release;
    s->arg = arg;
    c->pending += len;
    schedule_flush(c);
    return NET_OK;
}

size_t
net_conn_out_pending(const struct net_conn *c)
{
    return c->pending;
}

size_t
net_conn_out_cost(const struct net_conn *c)
{
    return c->pending + (c->nseg - c->shead) * sizeof(*c->segs);
}

bool
net_conn_out_full(const struct net_conn *c)
{
    return net_conn_out_cost(c) > c->opts.out_high;
}

struct buf *
net_conn_input(struct net_conn *c)
{
    return &c->in;
}

/* Account for `n` bytes written: pop finished segments. */
static void
advance(struct net_conn *c, size_t n)
{
    struct net_seg *s;
    size_t k;

    c->pending -= n;
    while (n > 0 && c->shead < c->nseg) {
        s = &c->segs[c->shead];
        k = n < s->len ? n : s->len;
        s->len -= k;
        n -= k;
        if (s->ptr != NULL) {
            s->ptr += k;
        } else {
            s->off += k;
            c->ohead = s->off;
        }
        if (s->len > 0) {
            break;
        }
        release_seg(s);
        c->shead++;
    }
    /* Zero-length reference segments left at the head are done too. */
    while (c->shead < c->nseg && c->segs[c->shead].len == 0) {
        release_seg(&c->segs[c->shead]);
        c->shead++;
    }
    if (c->shead == c->nseg) {
        c->shead = 0;
        c->nseg = 0;
        c->ohead = 0;
        c->olen = 0;
    }
}

/* One writev over the head of the queue. Returns bytes written, 0 when the
 * socket is full, -1 on a fatal error (errno set). */
static ssize_t
write_some(struct net_conn *c, size_t *attempted)
{
    struct iovec iov[NET_MAX_IOV];
    struct net_seg *s;
    size_t i;
    int n = 0;
    ssize_t w;

    *attempted = 0;
    for (i = c->shead; i < c->nseg && n < NET_MAX_IOV; i++) {
        s = &c->segs[i];
        if (s->len == 0) {
            continue;
        }
        iov[n].iov_base = (void *)(s->ptr != NULL ? s->ptr : c->obuf + s->off);
        iov[n].iov_len = s->len;
        *attempted += s->len;
        n++;
    }
    if (n == 0) {
        return 0;
    }
    do {
        w = writev(c->fd, iov, n);
    } while (w < 0 && errno == EINTR);
    if (w < 0) {
        return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
    }
    return w;
}

static void
after_flush(struct net_conn *c)
{
    if (!c->bp_paused && net_conn_out_cost(c) > c->opts.out_high) {
        c->bp_paused = true;
        update_reading(c);
    } else if (c->bp_paused && net_conn_out_cost(c) <= c->opts.out_low) {
        c->bp_paused = false;
        update_reading(c);
        if (c->ops->on_drain != NULL && c->state != NET_CONN_CLOSED) {
            c->ops->on_drain(c);
        }
    }
    if (c->state == NET_CONN_DRAINING && c->pending == 0) {
        net_conn_close_why(c, c->why);
    }
}

void
net_conn_flush(struct net_conn *c)
{
    size_t attempted;
    ssize_t w;

    if (c->state == NET_CONN_CONNECTING || c->state == NET_CONN_CLOSED) {
        return;
    }
    while (c->pending > 0) {
        w = write_some(c, &attempted);
        if (w < 0) {
            net_conn_close_why(c, NET_CLOSE_ERROR);
            return;
        }
        advance(c, (size_t)w);
        if ((size_t)w < attempted) {
            break;      /* the socket is full: wait for EV_WRITE */
        }
    }
    set_writing(c, c->pending > 0);
    after_flush(c);
}

/* ---- events -------------------------------------------------------------- */

static void
on_readable(evutil_socket_t fd, short what, void *arg)
{
    struct net_conn *c = arg;
    ssize_t n;

    (void)what;
    if (!buf_reserve(&c->in, c->opts.read_size)) {
        net_conn_close_why(c, NET_CLOSE_NOMEM);
        return;
    }
    do {
        n = read(fd, buf_tail(&c->in), buf_space(&c->in));
    } while (n < 0 && errno == EINTR);
    if (n == 0) {
        net_conn_close_why(c, NET_CLOSE_EOF);
        return;
    }
    if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            net_conn_close_why(c, NET_CLOSE_ERROR);
        }
        return;
    }
    buf_commit(&c->in, (size_t)n);
    if (c->opts.idle_ms > 0) {
        c->last_in_ns = util_mono_ns();
    }
    c->in_read = true;
    c->ops->on_read(c, &c->in);
    c->in_read = false;
    if (c->state != NET_CONN_CLOSED && c->pending > 0) {
        net_conn_flush(c);
    }
}

static void
finish_connect(struct net_conn *c, enum net_status st)
{
    set_writing(c, false);
    event_del(c->tev);
    if (st != NET_OK) {
        if (c->ops->on_connect != NULL) {
            c->ops->on_connect(c, st);
        }
        net_conn_close_why(c, NET_CLOSE_CONNECT);
        return;
    }
    c->state = NET_CONN_OPEN;
    update_reading(c);
    if (c->opts.idle_ms > 0) {
        arm_deadline(c, c->opts.idle_ms);
    }
    if (c->ops->on_connect != NULL) {
        c->ops->on_connect(c, NET_OK);
    }
    if (c->state != NET_CONN_CLOSED && c->pending > 0) {
        net_conn_flush(c);
    }
}

static void
on_writable(evutil_socket_t fd, short what, void *arg)
{
    struct net_conn *c = arg;
    int err = 0;
    socklen_t len = sizeof(err);

    (void)what;
    if (c->state == NET_CONN_CONNECTING) {
        if (c->connect_err != 0) {
            err = c->connect_err;
        } else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) {
            err = errno;
        }
        if (err != 0) {
            errno = err;
        }
        finish_connect(c, err == 0 ? NET_OK : NET_ESOCKET);
        return;
    }
    net_conn_flush(c);
}

static void
on_deadline(evutil_socket_t fd, short what, void *arg)
{
    struct net_conn *c = arg;
    uint64_t idle_ns;
    uint64_t now;

    (void)fd;
    (void)what;
    switch (c->state) {
    case NET_CONN_CONNECTING:
        finish_connect(c, NET_ETIMEDOUT);
        return;
    case NET_CONN_DRAINING:
        net_conn_close_why(c, c->why);
        return;
    case NET_CONN_OPEN:
        break;
    case NET_CONN_CLOSED:
        return;
    }
    if (c->opts.idle_ms == 0) {
        return;
    }
    /* NOTE(net): reads only stamp the time; the timer re-arms itself for
     * the remainder instead of being reset on every read. */
    idle_ns = (uint64_t)c->opts.idle_ms * 1000000u;
    now = util_mono_ns();
    if (now - c->last_in_ns >= idle_ns) {
        net_conn_close_why(c, NET_CLOSE_IDLE);
        return;
    }
    arm_deadline(c, (idle_ns - (now - c->last_in_ns)) / 1000000u + 1);
}

/* ---- closing ------------------------------------------------------------- */

void
net_conn_close_why(struct net_conn *c, enum net_close_why why)
{
    if (c->state == NET_CONN_CLOSED) {
        return;
    }
    c->state = NET_CONN_CLOSED;
    c->why = why;
    update_reading(c);
    set_writing(c, false);
    event_del(c->tev);
    drop_output(c);
    close(c->fd);
    c->fd = -1;
    net_loop_mark_dirty(c->loop, c);
}

void
net_conn_close(struct net_conn *c)
{
    net_conn_close_why(c, NET_CLOSE_LOCAL);
}

void
net_conn_close_flush(struct net_conn *c)
{
    if (c->state == NET_CONN_CLOSED || c->state == NET_CONN_DRAINING) {
        return;
    }
    if (c->state == NET_CONN_CONNECTING) {
        net_conn_close(c);
        return;
    }
    c->state = NET_CONN_DRAINING;
    c->why = NET_CLOSE_LOCAL;
    update_reading(c);
    arm_deadline(c, NET_DRAIN_MS);
    /* Let the loop flush (and close if nothing is queued). */
    net_loop_mark_dirty(c->loop, c);
}

bool
net_conn_closing(const struct net_conn *c)
{
    return c->state == NET_CONN_CLOSED || c->state == NET_CONN_DRAINING;
}

static void
conn_free(struct net_conn *c)
{
    struct net_loop *l = c->loop;

    if (c->prev != NULL) {
        c->prev->next = c->next;
    } else {
        l->conns = c->next;
    }
    if (c->next != NULL) {
        c->next->prev = c->prev;
    }
    l->nconns--;
    event_free(c->rev);
    event_free(c->wev);
    event_free(c->tev);
    buf_fini(&c->in);
    free(c->segs);
    free(c->obuf);
    free(c);
}

void
net_conn_process_dirty(struct net_conn *c)
{
    struct net_server *srv;
    struct net_loop *l;

    if (c->state != NET_CONN_CLOSED) {
        net_conn_flush(c);
        if (c->state != NET_CONN_CLOSED || c->dirty) {
            return;
        }
    }
    if (c->ops->on_close != NULL) {
        c->ops->on_close(c, c->why);
    }
    srv = c->srv;
    l = c->loop;
    conn_free(c);
    if (srv != NULL) {
        net_server_conn_gone(srv, l);
    }
}

void
net_conn_pause_read(struct net_conn *c, bool pause)
{
    c->user_paused = pause;
    update_reading(c);
}

void
net_conn_set_opts(struct net_conn *c, const struct net_conn_opts *o)
{
    apply_opts(c, o);
    if (c->state == NET_CONN_OPEN && c->opts.idle_ms > 0) {
        arm_deadline(c, c->opts.idle_ms);
    }
}

/* ---- outbound ------------------------------------------------------------ */

struct net_conn *
net_conn_connect(struct net_loop *l, const struct net_addr *addr,
    uint32_t timeout_ms, const struct net_conn_ops *ops, void *data,
    const struct net_conn_opts *o)
{
    struct net_conn *c;
    int fd;
    int rc;

    fd = socket(addr->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
        SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return NULL;
    }
    set_nodelay(fd, addr->ss.ss_family);
    do {
        rc = connect(fd, (const struct sockaddr *)&addr->ss, addr->len);
    } while (rc < 0 && errno == EINTR);
    c = conn_new(l, fd, ops, o);
    if (c == NULL) {
        close(fd);
        return NULL;
    }
    c->data = data;
    c->peer = *addr;
    c->is_unix = addr->ss.ss_family == AF_UNIX;
    c->state = NET_CONN_CONNECTING;
    if (rc < 0 && errno != EINPROGRESS) {
        /* Report the failure from the loop, like an asynchronous one. */
        c->connect_err = errno;
        set_writing(c, true);
        event_active(c->wev, EV_WRITE, 0);
        return c;
    }
    set_writing(c, true);
    if (timeout_ms > 0) {
        arm_deadline(c, timeout_ms);
    }
    return c;
}

/* ---- accessors ----------------------------------------------------------- */

void
net_conn_set_data(struct net_conn *c, void *data)
{
    c->data = data;
}

void *
net_conn_data(const struct net_conn *c)
{
    return c->data;
}

struct net_loop *
net_conn_loop(const struct net_conn *c)
{
    return c->loop;
}

int
net_conn_fd(const struct net_conn *c)
{
    return c->fd;
}

void
net_conn_peer(const struct net_conn *c, char *dst, size_t n)
{
    if (c->is_unix && c->srv != NULL) {
        snprintf(dst, n, "unix");
        return;
    }
    net_addr_format(&c->peer, dst, n);
}

int
net_conn_listener(const struct net_conn *c)
{
    return c->listener;
}

bool
net_conn_is_unix(const struct net_conn *c)
{
    return c->is_unix;
}
