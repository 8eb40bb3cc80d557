/*
 * Tests for net the listening server (server.c): an echo server over
 * loopback TCP and a unix socket, close-after-flush, the connection limit,
 * idle timeout, drain on shutdown and backpressure.
 */

#include <criterion/criterion.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "net/net.h"
#include "util/util.h"

#include "helpers.h"

Test(net_server, echo_tcp_many_clients)
{
    struct net_server_config cfg = { .nworkers = 2, .ops = &echo_ops };
    struct net_server_stats st;
    struct srv v;
    char out[64];
    int fds[6];
    int i;

    atomic_store(&echo_closes, 0);
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
    cr_assert_eq(atomic_load(&echo_closes), 6, "every on_close ran");
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
