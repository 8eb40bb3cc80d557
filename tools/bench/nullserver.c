/*
 * nullserver: the benchmark floor. A memcached text-protocol responder with
 * no store: every `get` key is a hit with a constant value, every `set` (its
 * data block read and dropped) answers STORED, anything else ERROR. Plain
 * epoll, one listener per thread (SO_REUSEPORT), pipelining-aware: all
 * complete requests of a read are answered with one write. It shows what
 * the syscalls and the loopback alone cost; it is not part of the product
 * and uses no project module.
 *
 * Usage: nullserver [-l addr] [-p port] [-t threads] [-s value_size]
 */
#define _GNU_SOURCE 1  /* accept4 */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define IN_CAP (4u << 20)       /* one request line or set block must fit */

struct conn {
    int fd;
    size_t in_len;
    size_t skip;                /* bytes of a set's data block still due */
    char *in;
    char *out;
    size_t out_len;
    size_t out_cap;
};

static struct sockaddr_in listen_addr;
static char *value_line;        /* " 0 <size>\r\n<value>\r\n" */
static size_t value_line_len;

static int
out_put(struct conn *c, const char *p, size_t n)
{
    if (c->out_len + n > c->out_cap) {
        size_t cap = (c->out_len + n) * 2;
        char *o = realloc(c->out, cap);

        if (o == NULL) {
            return -1;
        }
        c->out = o;
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, p, n);
    c->out_len += n;
    return 0;
}

/* Answer "get k1 k2 ...": one VALUE per key, then END. */
static int
do_get(struct conn *c, char *args, char *end)
{
    while (args < end) {
        char *k = args;

        while (k < end && *k == ' ') {
            k++;
        }
        args = k;
        while (args < end && *args != ' ') {
            args++;
        }
        if (args > k && (out_put(c, "VALUE ", 6) < 0
            || out_put(c, k, (size_t)(args - k)) < 0
            || out_put(c, value_line, value_line_len) < 0)) {
            return -1;
        }
    }
    return out_put(c, "END\r\n", 5);
}

/* Handle one command line; return -1 to close the connection. */
static int
do_line(struct conn *c, char *line, char *end)
{
    unsigned long bytes;
    char *last;

    if (end - line >= 4 && memcmp(line, "get ", 4) == 0) {
        return do_get(c, line + 4, end);
    }
    if (end - line >= 4 && memcmp(line, "set ", 4) == 0) {
        /* set <key> <flags> <exptime> <bytes> [noreply] */
        *end = '\0';
        last = strstr(line, " noreply");
        if (sscanf(line, "set %*s %*u %*d %lu", &bytes) != 1) {
            return out_put(c, "CLIENT_ERROR bad command line format\r\n", 38);
        }
        c->skip = bytes + 2;
        return last != NULL ? 0 : out_put(c, "STORED\r\n", 8);
    }
    return out_put(c, "ERROR\r\n", 7);
}

/* Consume every complete request in c->in; keep the partial tail. */
static int
process(struct conn *c)
{
    size_t off = 0;

    for (;;) {
        char *nl;

        if (c->skip > 0) {
            size_t n = c->in_len - off < c->skip ? c->in_len - off : c->skip;

            off += n;
            c->skip -= n;
            if (c->skip > 0) {
                break;
            }
        }
        nl = memchr(c->in + off, '\n', c->in_len - off);
        if (nl == NULL) {
            break;
        }
        if (do_line(c, c->in + off, nl > c->in + off && nl[-1] == '\r'
                ? nl - 1 : nl) < 0) {
            return -1;
        }
        off = (size_t)(nl - c->in) + 1;
    }
    memmove(c->in, c->in + off, c->in_len - off);
    c->in_len -= off;
    return c->in_len == IN_CAP ? -1 : 0;
}

static int
flush_out(struct conn *c)
{
    size_t done = 0;

    while (done < c->out_len) {
        ssize_t n = write(c->fd, c->out + done, c->out_len - done);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            /* NOTE(bench): a blocking-style flush keeps this small; clients
             * of a benchmark read their replies, so EAGAIN means wait a
             * bit. */
            if (n < 0 && errno == EAGAIN) {
                usleep(50);
                continue;
            }
            return -1;
        }
        done += (size_t)n;
    }
    c->out_len = 0;
    return 0;
}

static int
on_readable(struct conn *c)
{
    for (;;) {
        size_t room = IN_CAP - c->in_len;
        ssize_t n = read(c->fd, c->in + c->in_len, room);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && errno == EAGAIN) {
            return 0;
        }
        if (n <= 0) {
            return -1;
        }
        c->in_len += (size_t)n;
        if (process(c) < 0 || flush_out(c) < 0) {
            return -1;
        }
        if ((size_t)n < room) {
            return 0;       /* drained; level-triggered epoll says if not */
        }
    }
}

static int
make_listener(void)
{
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
            sizeof(one)) < 0
        || setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0
        || bind(fd, (struct sockaddr *)&listen_addr, sizeof(listen_addr)) < 0
        || listen(fd, 1024) < 0) {
        perror("nullserver: listen");
        exit(1);
    }
    return fd;
}

static void
accept_all(int ep, int lfd)
{
    for (;;) {
        int one = 1;
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
        struct conn *c;
        struct epoll_event ev;

        if (fd < 0) {
            return;
        }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        c = calloc(1, sizeof(*c));
        if (c == NULL || (c->in = malloc(IN_CAP)) == NULL) {
            free(c);
            close(fd);
            continue;
        }
        c->fd = fd;
        ev.events = EPOLLIN;
        ev.data.ptr = c;
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    }
}

static void *
serve(void *arg)
{
    int lfd = make_listener();
    int ep = epoll_create1(0);
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
    struct epoll_event evs[64];

    (void)arg;
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    for (;;) {
        int i;
        int n = epoll_wait(ep, evs, 64, -1);

        for (i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;

            if (c == NULL) {
                accept_all(ep, lfd);
            } else if (on_readable(c) < 0) {
                close(c->fd);   /* also leaves the epoll set */
                free(c->in);
                free(c->out);
                free(c);
            }
        }
    }
    return NULL;
}

int
main(int argc, char **argv)
{
    const char *addr = "127.0.0.1";
    int port = 11211;
    int threads = 1;
    size_t vsize = 32;
    int opt;
    int i;

    while ((opt = getopt(argc, argv, "l:p:t:s:")) != -1) {
        switch (opt) {
        case 'l':
            addr = optarg;
            break;
        case 'p':
            port = atoi(optarg);
            break;
        case 't':
            threads = atoi(optarg);
            break;
        case 's':
            vsize = strtoul(optarg, NULL, 10);
            break;
        default:
            fprintf(stderr, "usage: nullserver [-l addr] [-p port] "
                "[-t threads] [-s value_size]\n");
            return 2;
        }
    }
    if (threads < 1 || port <= 0 || port > 65535 || vsize > (64u << 20)) {
        fprintf(stderr, "nullserver: bad -p, -t or -s\n");
        return 2;
    }
    listen_addr.sin_family = AF_INET;
    listen_addr.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, addr, &listen_addr.sin_addr) != 1) {
        fprintf(stderr, "nullserver: bad address %s\n", addr);
        return 2;
    }
    value_line = malloc(vsize + 64);
    value_line_len = (size_t)sprintf(value_line, " 0 %zu\r\n", vsize);
    memset(value_line + value_line_len, 'x', vsize);
    memcpy(value_line + value_line_len + vsize, "\r\n", 2);
    value_line_len += vsize + 2;
    signal(SIGPIPE, SIG_IGN);
    for (i = 1; i < threads; i++) {
        pthread_t t;

        pthread_create(&t, NULL, serve, NULL);
    }
    serve(NULL);
    return 0;
}
