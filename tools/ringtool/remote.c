/*
 * ringtool -s HOST:PORT: ask a running ringproxy instead of reading a
 * file. "locate" sends "ringproxy locate KEY..." and "nodes" sends
 * "ringproxy nodes" (ringproxy(8), PROXY COMMANDS); the answers are one
 * line per key or node, then END.
 */
#include "tools/ringtool/ringtool.h"

#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#define REMOTE_BATCH 100        /* keys per request line */
#define REMOTE_TIMEOUT_S 5

static int
dial_tcp(const char *host, uint16_t port)
{
    struct addrinfo hints, *res, *ai;
    char service[8];
    int fd = -1;

    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    snprintf(service, sizeof(service), "%u", (unsigned)port);
    if (getaddrinfo(host, service, &hints, &res) != 0) {
        return -1;
    }
    for (ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    return fd;
}

static int
dial_unix(const char *path)
{
    struct sockaddr_un sa;
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);

    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/* Connect to -s; -1 (reported) on failure. */
static int
dial(const struct rt_opts *o)
{
    struct ring_addr a;
    const char *why = NULL;
    struct timeval tv = { REMOTE_TIMEOUT_S, 0 };
    char msg[600];
    int fd;

    if (!ring_addr_parse(str_from_cstr(o->server), &a, &why)) {
        snprintf(msg, sizeof(msg), "-s %s: %s", o->server, why);
        rt_error(o, msg, 0);
        return -1;
    }
    fd = a.is_unix ? dial_unix(a.host) : dial_tcp(a.host, a.port);
    ring_addr_fini(&a);
    if (fd < 0) {
        snprintf(msg, sizeof(msg), "cannot connect to ringproxy at %s",
            o->server);
        rt_error(o, msg, 0);
        return -1;
    }
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    return fd;
}

static bool
send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);

        if (k <= 0) {
            return false;
        }
        p += k;
        n -= (size_t)k;
    }
    return true;
}

/* One reply: the lines before END (NUL-separated in *out). False if the
 * proxy answered something else (ERROR: not a ringproxy) or hung up. */
static bool
read_reply(int fd, struct buf *in, struct buf *out)
{
    for (;;) {
        char *nl = in->len > 0 ? memchr(buf_head(in), '\n', in->len) : NULL;
        ssize_t k;

        if (nl != NULL) {
            size_t len = (size_t)(nl - buf_head(in));
            struct str line = { buf_head(in), len > 0 && nl[-1] == '\r' ?
                len - 1 : len };

            if (str_eq_cstr(line, "END")) {
                buf_consume(in, len + 1);
                return true;
            }
            if (!str_eq_cstr((struct str){ line.ptr, line.len < 4 ? 0 : 4 },
                "KEY ") && !str_eq_cstr((struct str){ line.ptr,
                line.len < 5 ? 0 : 5 }, "NODE ")) {
                return false;
            }
            buf_append_str(out, line);
            buf_append(out, "", 1);
            buf_consume(in, len + 1);
            continue;
        }
        buf_reserve(in, 4096);
        k = recv(fd, buf_tail(in), buf_space(in), 0);
        if (k <= 0) {
            return false;
        }
        buf_commit(in, (size_t)k);
    }
}

/* Split a reply line into at most `max` words (in place). */
static int
words(char *line, char **w, int max)
{
    int n = 0;
    char *save = NULL, *t;

    for (t = strtok_r(line, " ", &save); t != NULL && n < max;
        t = strtok_r(NULL, " ", &save)) {
        w[n++] = t;
    }
    return n;
}

static void
print_key(const struct rt_opts *o, char *line, bool first)
{
    char *w[5];

    if (words(line, w, 5) != 5) {
        return;
    }
    if (!o->json) {
        printf("%s\t%s\t%s\t%s\n", w[1], w[2], w[3], w[4]);
        return;
    }
    printf("%s{\"key\":", first ? "" : ",\n");
    rt_json_str(stdout, str_from_cstr(w[1]));
    printf(",\"node\":");
    rt_json_str(stdout, str_from_cstr(w[2]));
    printf(",\"address\":");
    rt_json_str(stdout, str_from_cstr(w[3]));
    printf(",\"state\":");
    rt_json_str(stdout, str_from_cstr(w[4]));
    printf("}");
}

static void
print_node(const struct rt_opts *o, char *line, bool first)
{
    char *w[6];

    if (words(line, w, 6) != 6) {
        return;
    }
    if (!o->json) {
        printf("%s\t%s\tweight %s\t%s\t%.4f%%\n", w[1], w[2], w[3], w[4],
            100 * atof(w[5]));
        return;
    }
    printf("%s{\"name\":", first ? "" : ",\n");
    rt_json_str(stdout, str_from_cstr(w[1]));
    printf(",\"address\":");
    rt_json_str(stdout, str_from_cstr(w[2]));
    printf(",\"weight\":%s,\"state\":", w[3]);
    rt_json_str(stdout, str_from_cstr(w[4]));
    printf(",\"share\":%s}", w[5]);
}

/* Send `req`, print each reply line with `print`. */
static bool
ask(const struct rt_opts *o, int fd, struct buf *in, struct buf *req,
    void (*print)(const struct rt_opts *, char *, bool), bool *first)
{
    struct buf out;
    size_t at;
    bool ok;

    buf_init(&out);
    ok = send_all(fd, buf_head(req), req->len) && read_reply(fd, in, &out);
    for (at = 0; ok && at < out.len; at += strlen(buf_head(&out) + at) + 1) {
        print(o, buf_head(&out) + at, *first);
        *first = false;
    }
    buf_fini(&out);
    return ok;
}

static int
finish(const struct rt_opts *o, int fd, bool ok, struct buf *in,
    struct buf *req)
{
    close(fd);
    buf_fini(in);
    buf_fini(req);
    if (!ok) {
        if (o->json) {
            printf("\n]}\n");
        }
        rt_error(o, "the server did not answer as a ringproxy does", 0);
        return RT_EXIT_CONFIG;
    }
    if (o->json) {
        printf("\n]}\n");
    }
    return RT_EXIT_OK;
}

int
rt_remote_locate(const struct rt_opts *o)
{
    struct buf in, req;
    bool first = true, ok = true;
    int fd, i;

    if (o->argc == 0) {
        fprintf(stderr, "ringtool: locate needs keys\n");
        return RT_EXIT_USAGE;
    }
    if ((fd = dial(o)) < 0) {
        return RT_EXIT_CONFIG;
    }
    buf_init(&in);
    buf_init(&req);
    if (o->json) {
        printf("{\"ok\":true,\"keys\":[\n");
    }
    for (i = 0; ok && i < o->argc; i += REMOTE_BATCH) {
        buf_clear(&req);
        buf_printf(&req, "ringproxy locate");
        for (int j = i; j < o->argc && j < i + REMOTE_BATCH; j++) {
            buf_printf(&req, " %s", o->argv[j]);
        }
        buf_printf(&req, "\r\n");
        ok = ask(o, fd, &in, &req, print_key, &first);
    }
    return finish(o, fd, ok, &in, &req);
}

int
rt_nodes(const struct rt_opts *o)
{
    struct buf in, req;
    bool first = true, ok;
    int fd;

    if (o->server == NULL) {
        fprintf(stderr, "ringtool: nodes needs -s HOST:PORT (a running "
            "ringproxy)\n");
        return RT_EXIT_USAGE;
    }
    if ((fd = dial(o)) < 0) {
        return RT_EXIT_CONFIG;
    }
    buf_init(&in);
    buf_init(&req);
    buf_printf(&req, "ringproxy nodes\r\n");
    if (o->json) {
        printf("{\"ok\":true,\"nodes\":[\n");
    }
    ok = ask(o, fd, &in, &req, print_node, &first);
    return finish(o, fd, ok, &in, &req);
}
