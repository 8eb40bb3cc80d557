/*
 * Tests for net: an echo server over loopback (TCP port 0 and a unix
 * socket), outbound connects, backpressure, close-after-flush, the
 * connection limit, idle timeout, timers, cross-thread calls, bounded runs
 * and sd_notify to a socket the test binds.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "net/net.h"
#include "util/util.h"

/* ---- helpers ------------------------------------------------------------- */

/* Connect to 127.0.0.1:port; rcvbuf > 0 shrinks the receive buffer first. */
static int
tcp_connect_rcvbuf(uint16_t port, int rcvbuf)
{
    struct sockaddr_in sin;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    cr_assert(fd >= 0);
    if (rcvbuf > 0) {
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    }
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0,
        "connect: %s", strerror(errno));
    return fd;
}

static int
tcp_connect(uint16_t port)
{
    return tcp_connect_rcvbuf(port, 0);
}

/* Read until `n` bytes or EOF/timeout; returns bytes read. */
static size_t
read_n(int fd, char *dst, size_t n, int timeout_ms)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    size_t got = 0;
    ssize_t r;

    while (got < n) {
        if (poll(&p, 1, timeout_ms) <= 0) {
            break;
        }
        r = read(fd, dst + got, n - got);
        if (r <= 0) {
            break;
        }
        got += (size_t)r;
    }
    return got;
}

/* True when the peer closed within timeout_ms (EOF or reset). */
static bool
sees_eof(int fd, int timeout_ms)
{
    char c;
    struct pollfd p = { .fd = fd, .events = POLLIN };

    if (poll(&p, 1, timeout_ms) <= 0) {
        return false;
    }
    return read(fd, &c, 1) <= 0;
}

static void
write_all(int fd, const void *p, size_t n)
{
    cr_assert_eq(write(fd, p, n), (ssize_t)n);
}

/* A server run in its own thread. */
struct srv {
    struct net_server *s;
    pthread_t th;
    uint16_t port;
    enum net_status rc;
};

static void *
srv_main(void *arg)
{
    struct srv *v = arg;

    v->rc = net_server_run(v->s);
    return NULL;
}

static void
srv_start(struct srv *v, const struct net_server_config *cfg)
{
    memset(v, 0, sizeof(*v));
    v->s = net_server_create(cfg);
    cr_assert_not_null(v->s);
    cr_assert_eq(net_server_listen_tcp(v->s, "127.0.0.1", 0, &v->port),
        NET_OK);
    cr_assert_neq(v->port, 0);
    cr_assert_eq(pthread_create(&v->th, NULL, srv_main, v), 0);
}

static void
srv_stop(struct srv *v)
{
    net_server_shutdown(v->s);
    pthread_join(v->th, NULL);
    cr_assert_eq(v->rc, NET_OK);
    net_server_destroy(v->s);
}

/* ---- echo ---------------------------------------------------------------- */

static atomic_int closes;

static void
echo_read(struct net_conn *c, struct buf *in)
{
    /* "bye\n" anywhere: answer and hang up after the answer is sent. */
    if (in->len >= 4 && memmem(buf_head(in), in->len, "bye\n", 4) != NULL) {
        net_conn_write(c, "ciao\n", 5);
        net_conn_close_flush(c);
        buf_consume(in, in->len);
        return;
    }
    net_conn_write(c, buf_head(in), in->len);
    buf_consume(in, in->len);
}

static void
echo_close(struct net_conn *c, enum net_close_why why)
{
    (void)c;
    (void)why;
    atomic_fetch_add(&closes, 1);
}

static const struct net_conn_ops echo_ops = {
    .on_read = echo_read,
    .on_close = echo_close,
};

Test(net_server, echo_tcp_many_clients)
{
    struct net_server_config cfg = { .nworkers = 2, .ops = &echo_ops };
    struct net_server_stats st;
    struct srv v;
    char out[64];
    int fds[6];
    int i;

    atomic_store(&closes, 0);
    srv_start(&v, &cfg);
    for (i = 0; i < 6; i++) {
        fds[i] = tcp_connect(v.port);
    }
    for (i = 0; i < 6; i++) {
        char msg[16];
        int n = snprintf(msg, sizeof(msg), "hello %d\n", i);

        write_all(fds[i], msg, (size_t)n);
        cr_assert_eq(read_n(fds[i], out, (size_t)n, 2000), (size_t)n);
        cr_assert_eq(memcmp(out, msg, (size_t)n), 0);
    }
    net_server_stats(v.s, &st);
    cr_assert_eq(st.total_conns, 6);
    cr_assert_eq(st.curr_conns, 6);
    for (i = 0; i < 6; i++) {
        close(fds[i]);
    }
    srv_stop(&v);
    cr_assert_eq(atomic_load(&closes), 6, "every on_close ran");
}

Test(net_server, close_flush_sends_then_closes)
{
    struct net_server_config cfg = { .nworkers = 1, .ops = &echo_ops };
    struct srv v;
    char out[16];
    int fd;

    srv_start(&v, &cfg);
    fd = tcp_connect(v.port);
    write_all(fd, "bye\n", 4);
    cr_assert_eq(read_n(fd, out, 5, 2000), 5);
    cr_assert_eq(memcmp(out, "ciao\n", 5), 0);
    cr_assert(sees_eof(fd, 2000));
    close(fd);
    srv_stop(&v);
}

Test(net_server, connection_limit_rejects_with_message)
{
    struct net_server_config cfg = {
        .nworkers = 1, .ops = &echo_ops, .max_conns = 1,
        .reject_msg = "FULL\r\n",
    };
    struct net_server_stats st;
    struct srv v;
    char out[16];
    int a;
    int b;

    srv_start(&v, &cfg);
    a = tcp_connect(v.port);
    write_all(a, "x", 1);
    cr_assert_eq(read_n(a, out, 1, 2000), 1, "first conn is served");
    b = tcp_connect(v.port);
    cr_assert_eq(read_n(b, out, 6, 2000), 6);
    cr_assert_eq(memcmp(out, "FULL\r\n", 6), 0);
    cr_assert(sees_eof(b, 2000));
    write_all(a, "y", 1);
    cr_assert_eq(read_n(a, out, 1, 2000), 1, "first conn still served");
    net_server_stats(v.s, &st);
    cr_assert_eq(st.rejected_conns, 1);
    close(a);
    close(b);
    srv_stop(&v);
}

Test(net_server, idle_timeout_closes)
{
    struct net_server_config cfg = {
        .nworkers = 1, .ops = &echo_ops, .conn = { .idle_ms = 100 },
    };
    struct srv v;
    char out[4];
    int fd;

    srv_start(&v, &cfg);
    fd = tcp_connect(v.port);
    write_all(fd, "a", 1);
    cr_assert_eq(read_n(fd, out, 1, 2000), 1);
    cr_assert(sees_eof(fd, 3000), "idle connection closed");
    close(fd);
    srv_stop(&v);
}

Test(net_server, unix_socket_echo)
{
    struct net_server_config cfg = { .nworkers = 1, .ops = &echo_ops };
    struct sockaddr_un sun;
    struct net_server *s;
    struct srv v;
    char path[64];
    char out[8];
    int fd;

    snprintf(path, sizeof(path), "/tmp/net-test-%d.sock", (int)getpid());
    memset(&v, 0, sizeof(v));
    s = net_server_create(&cfg);
    cr_assert_not_null(s);
    cr_assert_eq(net_server_listen_unix(s, path, 0700), NET_OK);
    cr_assert_eq(net_server_listener_count(s), 1);
    v.s = s;
    cr_assert_eq(pthread_create(&v.th, NULL, srv_main, &v), 0);
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    strcpy(sun.sun_path, path);
    cr_assert_eq(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
    write_all(fd, "unix\n", 5);
    cr_assert_eq(read_n(fd, out, 5, 2000), 5);
    cr_assert_eq(memcmp(out, "unix\n", 5), 0);
    close(fd);
    srv_stop(&v);
    cr_assert_neq(access(path, F_OK), 0, "socket file removed at shutdown");
}

Test(net_server, shutdown_drains_and_closes_clients)
{
    struct net_server_config cfg = { .nworkers = 2, .ops = &echo_ops };
    struct srv v;
    char out[4];
    int fd;

    srv_start(&v, &cfg);
    fd = tcp_connect(v.port);
    write_all(fd, "z", 1);
    cr_assert_eq(read_n(fd, out, 1, 2000), 1);
    srv_stop(&v);
    cr_assert(sees_eof(fd, 2000), "client closed by the drain");
    close(fd);
}

/* ---- backpressure -------------------------------------------------------- */

#define BP_CHUNK (256u << 10)
#define BP_CHUNKS 64

static char bp_block[BP_CHUNK];
static atomic_size_t bp_in;
static atomic_int bp_released;
static atomic_int bp_drains;

static void
bp_release(void *arg)
{
    (void)arg;
    atomic_fetch_add(&bp_released, 1);
}

static void
bp_read(struct net_conn *c, struct buf *in)
{
    int i;

    /* The first byte asks for 16 MiB of output, by reference. */
    if (atomic_fetch_add(&bp_in, in->len) == 0) {
        for (i = 0; i < BP_CHUNKS; i++) {
            net_conn_write_ref(c, bp_block, BP_CHUNK, bp_release, NULL);
        }
    }
    buf_consume(in, in->len);
}

static void
bp_drain(struct net_conn *c)
{
    (void)c;
    atomic_fetch_add(&bp_drains, 1);
}

static const struct net_conn_ops bp_ops = {
    .on_read = bp_read,
    .on_drain = bp_drain,
};

Test(net_server, backpressure_stops_reading_until_drained)
{
    struct net_server_config cfg = {
        .nworkers = 1, .ops = &bp_ops,
        .conn = { .out_high = 1u << 20, .out_low = 64u << 10 },
    };
    static char sink[BP_CHUNK * BP_CHUNKS];
    char more[64 << 10];
    struct srv v;
    int rcv = 4096;
    size_t got;
    int fd;

    atomic_store(&bp_in, 0);
    atomic_store(&bp_released, 0);
    atomic_store(&bp_drains, 0);
    memset(bp_block, 'v', sizeof(bp_block));
    memset(more, 'm', sizeof(more));
    srv_start(&v, &cfg);
    fd = tcp_connect_rcvbuf(v.port, rcv);
    write_all(fd, "g", 1);
    /* Once "g" is read the server has queued 16 MiB and paused reading,
     * in the same callback. */
    for (int i = 0; i < 150 && atomic_load(&bp_in) == 0; i++) {
        usleep(20000);
    }
    cr_assert_eq(atomic_load(&bp_in), 1);
    /* The server cannot send 16 MiB into a client that does not read, so it
     * must have stopped reading: these bytes stay in the kernel. */
    write_all(fd, more, sizeof(more));
    usleep(200000);
    cr_assert_eq(atomic_load(&bp_in), 1, "read while over the watermark");
    cr_assert_lt(atomic_load(&bp_released), BP_CHUNKS);
    got = read_n(fd, sink, sizeof(sink), 3000);
    cr_assert_eq(got, sizeof(sink));
    for (int i = 0; i < 50 && atomic_load(&bp_in) < 1 + sizeof(more); i++) {
        usleep(20000);
    }
    cr_assert_eq(atomic_load(&bp_in), 1 + sizeof(more), "resumed reading");
    cr_assert_eq(atomic_load(&bp_released), BP_CHUNKS, "every ref released");
    cr_assert_geq(atomic_load(&bp_drains), 1);
    close(fd);
    srv_stop(&v);
}

/* ---- outbound connections ------------------------------------------------ */

struct client {
    enum net_status connected;
    bool connect_called;
    enum net_close_why why;
    bool closed;
    struct buf got;
    size_t want;
    struct net_loop *loop;
};

static void
cl_connect(struct net_conn *c, enum net_status st)
{
    struct client *k = net_conn_data(c);

    k->connect_called = true;
    k->connected = st;
}

static void
cl_read(struct net_conn *c, struct buf *in)
{
    struct client *k = net_conn_data(c);

    buf_append(&k->got, buf_head(in), in->len);
    buf_consume(in, in->len);
    if (k->got.len >= k->want) {
        net_conn_close(c);
    }
}

static void
cl_close(struct net_conn *c, enum net_close_why why)
{
    struct client *k = net_conn_data(c);

    k->closed = true;
    k->why = why;
    net_loop_stop(k->loop);
}

static const struct net_conn_ops cl_ops = {
    .on_read = cl_read,
    .on_connect = cl_connect,
    .on_close = cl_close,
};

Test(net_conn, outbound_connect_write_read)
{
    struct net_server_config cfg = { .nworkers = 1, .ops = &echo_ops };
    struct client k = { .want = 10 };
    struct net_addr a;
    struct net_loop *l;
    struct net_conn *c;
    struct srv v;

    srv_start(&v, &cfg);
    l = net_loop_create(0);
    cr_assert_not_null(l);
    k.loop = l;
    buf_init(&k.got);
    cr_assert_eq(net_addr_resolve("127.0.0.1", v.port, &a), NET_OK);
    c = net_conn_connect(l, &a, 1000, &cl_ops, &k, NULL);
    cr_assert_not_null(c);
    /* Written before the connect finished: sent once connected. */
    cr_assert_eq(net_conn_write(c, "0123", 4), NET_OK);
    cr_assert_eq(net_conn_write_ref(c, "456789", 6, NULL, NULL), NET_OK);
    cr_assert_eq(net_loop_run(l, 3000), NET_OK);
    cr_assert(k.connect_called);
    cr_assert_eq(k.connected, NET_OK);
    cr_assert(k.closed);
    cr_assert_eq(k.why, NET_CLOSE_LOCAL);
    cr_assert_eq(k.got.len, 10);
    cr_assert_eq(memcmp(buf_head(&k.got), "0123456789", 10), 0);
    buf_fini(&k.got);
    net_loop_destroy(l);
    srv_stop(&v);
}

Test(net_conn, outbound_connect_refused)
{
    struct client k = { .want = 1 };
    struct net_addr a;
    struct net_loop *l;
    int fd;
    struct sockaddr_in sin;
    socklen_t len = sizeof(sin);

    /* A port that was just free: nobody listens there. */
    fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    getsockname(fd, (struct sockaddr *)&sin, &len);
    close(fd);
    l = net_loop_create(0);
    k.loop = l;
    buf_init(&k.got);
    cr_assert_eq(net_addr_resolve("127.0.0.1", ntohs(sin.sin_port), &a),
        NET_OK);
    cr_assert_not_null(net_conn_connect(l, &a, 1000, &cl_ops, &k, NULL));
    cr_assert_eq(net_loop_run(l, 3000), NET_OK);
    cr_assert(k.connect_called);
    cr_assert_eq(k.connected, NET_ESOCKET);
    cr_assert(k.closed);
    cr_assert_eq(k.why, NET_CLOSE_CONNECT);
    buf_fini(&k.got);
    net_loop_destroy(l);
}

Test(net_conn, outbound_connect_timeout)
{
    struct client k = { .want = 1 };
    struct sockaddr_in sin;
    socklen_t len = sizeof(sin);
    struct net_addr a;
    struct net_loop *l;
    int fillers[8];
    int lfd;
    int i;
    uint64_t t0;

    /* A listener that never accepts, its queue filled: further SYNs are
     * dropped and a connect hangs until our timeout. */
    lfd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    cr_assert_eq(listen(lfd, 0), 0);
    getsockname(lfd, (struct sockaddr *)&sin, &len);
    for (i = 0; i < 8; i++) {
        fillers[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        connect(fillers[i], (struct sockaddr *)&sin, sizeof(sin));
    }
    usleep(50000);
    l = net_loop_create(0);
    k.loop = l;
    buf_init(&k.got);
    cr_assert_eq(net_addr_resolve("127.0.0.1", ntohs(sin.sin_port), &a),
        NET_OK);
    t0 = util_mono_ns();
    cr_assert_not_null(net_conn_connect(l, &a, 200, &cl_ops, &k, NULL));
    cr_assert_eq(net_loop_run(l, 5000), NET_OK);
    cr_assert(k.connect_called);
    cr_assert_eq(k.connected, NET_ETIMEDOUT, "status %s",
        net_status_str(k.connected));
    cr_assert_eq(k.why, NET_CLOSE_CONNECT);
    cr_assert_lt((util_mono_ns() - t0) / 1000000u, 2000);
    buf_fini(&k.got);
    net_loop_destroy(l);
    for (i = 0; i < 8; i++) {
        close(fillers[i]);
    }
    close(lfd);
}

static atomic_int ref_released;

static void
count_release(void *arg)
{
    (void)arg;
    atomic_fetch_add(&ref_released, 1);
}

Test(net_conn, close_releases_unsent_refs)
{
    struct client k = { .want = 1 };
    struct net_addr a;
    struct net_loop *l;
    struct net_conn *c;

    atomic_store(&ref_released, 0);
    l = net_loop_create(0);
    k.loop = l;
    buf_init(&k.got);
    cr_assert_eq(net_addr_resolve("127.0.0.1", 9, &a), NET_OK);
    c = net_conn_connect(l, &a, 1000, &cl_ops, &k, NULL);
    cr_assert_not_null(c);
    net_conn_write_ref(c, "abc", 3, count_release, NULL);
    net_conn_write_ref(c, "def", 3, count_release, NULL);
    cr_assert_eq(net_conn_out_pending(c), 6);
    net_conn_close(c);
    cr_assert_eq(atomic_load(&ref_released), 2);
    cr_assert_eq(net_conn_write_ref(c, "x", 1, count_release, NULL),
        NET_ECLOSED);
    cr_assert_eq(atomic_load(&ref_released), 3, "released on error too");
    net_loop_run(l, 1000);
    cr_assert(k.closed);
    buf_fini(&k.got);
    net_loop_destroy(l);
}

/* ---- timers and loops ---------------------------------------------------- */

struct tick {
    int fired;
    int limit;
    uint64_t first_ns;
    uint64_t last_ns;
    struct net_loop *loop;
};

static void
on_tick(struct net_timer *t, void *arg)
{
    struct tick *k = arg;

    k->last_ns = util_mono_ns();
    if (++k->fired < k->limit) {
        net_timer_arm(t, 10000);
    } else {
        net_timer_destroy(t);
        net_loop_stop(k->loop);
    }
}

static void
never(struct net_timer *t, void *arg)
{
    (void)t;
    *(int *)arg = 1;
}

Test(net_timer, periodic_rearm_cancel_and_precision)
{
    struct net_loop *l = net_loop_create(NET_LOOP_PRECISE_TIMERS);
    struct tick k = { .limit = 5 };
    struct net_timer *t;
    struct net_timer *dead;
    int dead_fired = 0;
    uint64_t ms;

    cr_assert_not_null(l);
    k.loop = l;
    t = net_timer_create(l, on_tick, &k);
    dead = net_timer_create(l, never, &dead_fired);
    cr_assert_not_null(t);
    net_timer_arm(dead, 5000);
    cr_assert(net_timer_armed(dead));
    net_timer_cancel(dead);
    cr_assert_not(net_timer_armed(dead));
    k.first_ns = util_mono_ns();
    net_timer_arm(t, 10000);
    cr_assert_eq(net_loop_run(l, 5000), NET_OK);
    ms = (k.last_ns - k.first_ns) / 1000000u;
    cr_assert_eq(k.fired, 5);
    cr_assert_geq(ms, 50, "5 x 10 ms took %llu ms", (unsigned long long)ms);
    cr_assert_lt(ms, 3000, "5 x 10 ms took %llu ms", (unsigned long long)ms);
    cr_assert_eq(dead_fired, 0);
    net_loop_destroy(l);
}

Test(net_loop, bounded_run_returns)
{
    struct net_loop *l = net_loop_create(0);
    uint64_t t0 = util_mono_ns();
    uint64_t ms;

    cr_assert_eq(net_loop_run(l, 50), NET_OK);
    ms = (util_mono_ns() - t0) / 1000000u;
    cr_assert_geq(ms, 45);
    cr_assert_lt(ms, 2000);
    /* A stop before the run is not lost: the run returns at once. */
    net_loop_stop(l);
    t0 = util_mono_ns();
    cr_assert_eq(net_loop_run(l, 2000), NET_OK);
    cr_assert_lt((util_mono_ns() - t0) / 1000000u, 1000);
    net_loop_destroy(l);
}

struct xcall {
    struct net_loop *loop;
    pthread_t loop_thread;
    int count;
    int order_ok;
    bool wrong_thread;
};

static void
xcall_fn(struct net_loop *l, void *arg)
{
    struct xcall *x = net_loop_data(l);
    intptr_t i = (intptr_t)arg;

    if (!pthread_equal(pthread_self(), x->loop_thread)) {
        x->wrong_thread = true;
    }
    if (i == x->count) {
        x->order_ok++;
    }
    x->count++;
}

static void *
loop_thread(void *arg)
{
    struct xcall *x = arg;

    net_loop_run(x->loop, 10000);
    return NULL;
}

Test(net_loop, cross_thread_calls_run_in_order_on_loop_thread)
{
    struct xcall x = { 0 };
    intptr_t i;

    x.loop = net_loop_create(0);
    net_loop_set_data(x.loop, &x);
    cr_assert_eq(pthread_create(&x.loop_thread, NULL, loop_thread, &x), 0);
    for (i = 0; i < 1000; i++) {
        cr_assert_eq(net_loop_call(x.loop, xcall_fn, (void *)i), NET_OK);
    }
    for (i = 0; i < 200 && __atomic_load_n(&x.count, __ATOMIC_SEQ_CST) <
        1000; i++) {
        usleep(10000);
    }
    net_loop_stop(x.loop);
    pthread_join(x.loop_thread, NULL);
    cr_assert_eq(x.count, 1000);
    cr_assert_eq(x.order_ok, 1000);
    cr_assert_not(x.wrong_thread);
    net_loop_destroy(x.loop);
}

/* ---- addresses ----------------------------------------------------------- */

Test(net_addr, resolve_and_format)
{
    struct net_addr a;
    char s[64];

    cr_assert_eq(net_addr_resolve("127.0.0.1", 11211, &a), NET_OK);
    net_addr_format(&a, s, sizeof(s));
    cr_assert_str_eq(s, "127.0.0.1:11211");
    cr_assert_eq(net_addr_resolve("[::1]", 80, &a), NET_OK);
    net_addr_format(&a, s, sizeof(s));
    cr_assert_str_eq(s, "[::1]:80");
    cr_assert_eq(net_addr_resolve("not a host!", 1, &a), NET_EADDR);
    cr_assert_eq(net_addr_unix("/tmp/x.sock", &a), NET_OK);
    net_addr_format(&a, s, sizeof(s));
    cr_assert_str_eq(s, "/tmp/x.sock");
    cr_assert_eq(net_addr_unix("", &a), NET_EADDR);
}

/* ---- sd_notify ----------------------------------------------------------- */

static int
bind_dgram(const char *name, bool abstract)
{
    struct sockaddr_un sun;
    socklen_t len;
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    strcpy(sun.sun_path, name);
    len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(name));
    if (abstract) {
        sun.sun_path[0] = '\0';
    } else {
        unlink(name);
    }
    cr_assert_eq(bind(fd, (struct sockaddr *)&sun, len), 0, "bind: %s",
        strerror(errno));
    return fd;
}

static void
expect_dgram(int fd, const char *want)
{
    char got[256];
    ssize_t n;
    struct pollfd p = { .fd = fd, .events = POLLIN };

    cr_assert_eq(poll(&p, 1, 2000), 1);
    n = recv(fd, got, sizeof(got) - 1, 0);
    cr_assert_geq(n, 0);
    got[n] = '\0';
    cr_assert_str_eq(got, want);
}

Test(net_notify, path_and_abstract_sockets)
{
    char path[64];
    char abs[64];
    int fd;

    snprintf(path, sizeof(path), "/tmp/net-notify-%d", (int)getpid());
    fd = bind_dgram(path, false);
    setenv("NOTIFY_SOCKET", path, 1);
    cr_assert_eq(net_sd_notify("READY=1"), NET_OK);
    expect_dgram(fd, "READY=1");
    cr_assert_eq(net_sd_notifyf("STATUS=serving %d", 42), NET_OK);
    expect_dgram(fd, "STATUS=serving 42");
    close(fd);
    unlink(path);

    snprintf(abs, sizeof(abs), "@net-notify-%d", (int)getpid());
    fd = bind_dgram(abs, true);
    setenv("NOTIFY_SOCKET", abs, 1);
    cr_assert_eq(net_sd_notify("STOPPING=1"), NET_OK);
    expect_dgram(fd, "STOPPING=1");
    close(fd);

    setenv("NOTIFY_SOCKET", "relative/path", 1);
    cr_assert_eq(net_sd_notify("READY=1"), NET_EADDR);
    setenv("NOTIFY_SOCKET", "/nonexistent/dir/sock", 1);
    cr_assert_eq(net_sd_notify("READY=1"), NET_ESOCKET);
    unsetenv("NOTIFY_SOCKET");
    cr_assert_eq(net_sd_notify("READY=1"), NET_OK, "unset: nothing to do");
}
