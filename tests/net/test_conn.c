/*
 * Tests for net connections (conn.c): outbound connects, refused and
 * timed-out connects, and release of unsent references on close.
 */

#include <criterion/criterion.h>

#include <netinet/in.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/net.h"
#include "util/util.h"

#include "helpers.h"

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
