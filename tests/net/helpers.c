/*
 * Helpers shared by the net tests: blocking loopback clients with
 * deadlines, a server run in its own thread, and an echo protocol.
 */

#include <criterion/criterion.h>

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/net.h"
#include "util/util.h"

#include "helpers.h"

/* Connect to 127.0.0.1:port; rcvbuf > 0 shrinks the receive buffer first. */
int
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

int
tcp_connect(uint16_t port)
{
    return tcp_connect_rcvbuf(port, 0);
}

/* Read until `n` bytes or EOF/timeout; returns bytes read. */
size_t
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
bool
sees_eof(int fd, int timeout_ms)
{
    char c;
    struct pollfd p = { .fd = fd, .events = POLLIN };

    if (poll(&p, 1, timeout_ms) <= 0) {
        return false;
    }
    return read(fd, &c, 1) <= 0;
}

void
write_all(int fd, const void *p, size_t n)
{
    cr_assert_eq(write(fd, p, n), (ssize_t)n);
}

void *
srv_main(void *arg)
{
    struct srv *v = arg;

    v->rc = net_server_run(v->s);
    return NULL;
}

void
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

void
srv_stop(struct srv *v)
{
    net_server_shutdown(v->s);
    pthread_join(v->th, NULL);
    cr_assert_eq(v->rc, NET_OK);
    net_server_destroy(v->s);
}

atomic_int echo_closes;

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
    atomic_fetch_add(&echo_closes, 1);
}

const struct net_conn_ops echo_ops = {
    .on_read = echo_read,
    .on_close = echo_close,
};
