/*
 * libFuzzer harness for the proxy's request path: client.c, route.c,
 * backend.c, reply.c, mget.c and match.c run as in a worker thread, over
 * a fake net layer (the net_* functions below, linked instead of
 * src/net) so that no socket is involved. One client talks to a ring of
 * three nodes; the input is a list of steps, each "<op> <len> <bytes>":
 *   op % 4 == 0   the client sends the bytes
 *   op % 4 == 1   backend connection (op / 4) % n sends them (in order
 *                 of creation; nothing if none is open yet)
 *   op % 4 == 2   the client reads everything queued to it
 *   op % 4 == 3   backend connection (op / 4) % n closes
 * The first byte also picks --miss-when-down (bit 0) and the client
 * output limits (small, so that pausing and disconnecting are reached).
 *
 * Checked: everything the client receives parses as memcached replies
 * (or key listing lines, which reply.c checked the shape of),
 * and every VALUE key it receives is one it sent (a reply the proxy cannot
 * attribute never reaches the client); with ASan/UBSan, no memory error
 * and no leak once every connection is closed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/proxy_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { \
        if (!(cond)) { \
            fprintf(stderr, "fuzz_proxy: %s:%d: %s\n", __FILE__, \
                __LINE__, #cond); \
            abort(); \
        } \
    } while (0)

/* ---- a fake net layer ---------------------------------------------------- */

struct net_conn {
    const struct net_conn_ops *ops;
    void *data;
    struct buf in;
    bool closing;
    bool closed;
    bool is_client;
    enum net_close_why why;
    size_t pending;
    size_t out_high;
    bool over_high;
};

struct net_timer {
    int unused;
};

#define MAX_CONNS 64

static struct net_conn *conns[MAX_CONNS];
static size_t nconns;
static struct buf client_out;   /* what the client received */
static struct worker *cur_worker;
static int fake_loop;

static struct net_conn *
conn_new(const struct net_conn_ops *ops, void *data, bool is_client)
{
    struct net_conn *c;

    if (nconns == MAX_CONNS) {
        return NULL;
    }
    c = calloc(1, sizeof(*c));
    CHECK(c != NULL);
    c->ops = ops;
    c->data = data;
    c->is_client = is_client;
    c->why = NET_CLOSE_LOCAL;
    c->out_high = 4u << 20;
    buf_init(&c->in);
    conns[nconns++] = c;
    return c;
}

enum net_status
net_conn_write(struct net_conn *c, const void *p, size_t len)
{
    if (c->closing) {
        return NET_ECLOSED;
    }
    if (c->is_client) {
        CHECK(buf_append(&client_out, p, len));
    }
    c->pending += len;
    if (c->pending > c->out_high) {
        c->over_high = true;
    }
    return NET_OK;
}

enum net_status
net_conn_write_ref(struct net_conn *c, const void *p, size_t len,
    net_release_fn release, void *arg)
{
    enum net_status st = net_conn_write(c, p, len);

    if (release != NULL) {
        release(arg);
    }
    return st;
}

size_t
net_conn_out_pending(const struct net_conn *c)
{
    return c->pending;
}

void
net_conn_flush(struct net_conn *c)
{
    (void)c;    /* the peer reads only when the input says so */
}

void
net_conn_close(struct net_conn *c)
{
    c->closing = true;
}

void
net_conn_close_flush(struct net_conn *c)
{
    c->closing = true;
}

bool
net_conn_closing(const struct net_conn *c)
{
    return c->closing;
}

void
net_conn_pause_read(struct net_conn *c, bool pause)
{
    (void)c;
    (void)pause;
}

void
net_conn_set_opts(struct net_conn *c, const struct net_conn_opts *o)
{
    c->out_high = o->out_high > 0 ? o->out_high : 4u << 20;
}

struct net_conn *
net_conn_connect(struct net_loop *l, const struct net_addr *addr,
    uint32_t timeout_ms, const struct net_conn_ops *ops, void *data,
    const struct net_conn_opts *o)
{
    (void)l;
    (void)addr;
    (void)timeout_ms;
    (void)o;
    return conn_new(ops, data, false);
}

void *
net_conn_data(const struct net_conn *c)
{
    return c->data;
}

void
net_conn_set_data(struct net_conn *c, void *data)
{
    c->data = data;
}

struct net_loop *
net_conn_loop(const struct net_conn *c)
{
    (void)c;
    return (struct net_loop *)&fake_loop;
}

void
net_conn_peer(const struct net_conn *c, char *dst, size_t n)
{
    (void)c;
    snprintf(dst, n, "fuzz");
}

void *
net_loop_data(const struct net_loop *l)
{
    (void)l;
    return cur_worker;
}

enum net_status
net_loop_call(struct net_loop *l, net_call_fn fn, void *arg)
{
    (void)l;
    (void)fn;
    (void)arg;
    return NET_ECLOSED;     /* no main thread: the node goes up again */
}

struct net_loop *
net_server_main_loop(const struct net_server *s)
{
    (void)s;
    return NULL;
}

struct net_timer *
net_timer_create(struct net_loop *l, net_timer_fn fn, void *arg)
{
    (void)l;
    (void)fn;
    (void)arg;
    return calloc(1, sizeof(struct net_timer));
}

void
net_timer_arm(struct net_timer *t, uint64_t us)
{
    (void)t;
    (void)us;
}

void
net_timer_cancel(struct net_timer *t)
{
    (void)t;
}

void
net_timer_destroy(struct net_timer *t)
{
    free(t);
}

/* ---- what the rest of the proxy would provide ---------------------------- */

const char proxy_version[] = "1.6.18-fuzz";

bool
admin_stats(struct worker *w, struct str args, struct buf *out)
{
    (void)w;
    (void)args;
    return buf_append(out, "STAT fuzz 1\r\nEND\r\n", 18);
}

bool
admin_command(struct worker *w, struct str line, struct buf *out)
{
    (void)w;
    (void)line;
    (void)out;
    return false;
}

void
admin_count_reply(struct worker *w, enum proto_cmd cmd,
    enum proto_rsp_type t)
{
    (void)w;
    (void)cmd;
    (void)t;
}

void
health_node_down(struct net_loop *l, void *arg)
{
    (void)l;
    (void)arg;
}

/* ---- the worker ---------------------------------------------------------- */

#define NNODES 3

static struct ring *ring;
static struct pnode nodes[NNODES];
static struct pnode_ctr ctrs[NNODES];
static struct pnode *node_ptrs[NNODES];
static struct pring pring;
static struct proxy proxy;
static struct proxy_opts opts;

static void
setup_once(void)
{
    static const char conf[] = "node a 127.0.0.1:1\nnode b 127.0.0.1:2\n"
        "node c 127.0.0.1:3\n";
    static const char *names[NNODES] = { "a", "b", "c" };
    struct ring_config c;
    struct ring_error err;

    if (ring != NULL) {
        return;
    }
    util_log_set_level(LOG_LEVEL_ERROR);
    CHECK(ring_config_parse(&c, conf, sizeof(conf) - 1, "fuzz", &err) ==
        RING_OK);
    CHECK(ring_config_build(&c, &ring) == RING_OK);
    for (size_t i = 0; i < NNODES; i++) {
        nodes[i].id = (uint32_t)i;
        nodes[i].name = (char *)names[i];
        nodes[i].addr_text = (char *)names[i];
        nodes[i].ctr = &ctrs[i];
        node_ptrs[i] = &nodes[i];
    }
    pring.ring = ring;
    pring.conf = ring;
    pring.nodes = node_ptrs;
    pring.n = NNODES;
    pring.set.connect_timeout_ms = 1000;
    pring.set.request_timeout_ms = 2000;
    pring.set.failure_limit = 3;
    pring.set.item_size_max = 64 * 1024;
    proto_limits_default(&pring.lim);
    pring.lim.max_value = 64 * 1024;
    ring_config_fini(&c);
    proxy.opts = &opts;
    proxy.nworkers = 1;
}

static struct worker *
worker_new(uint8_t mode)
{
    struct worker *w = calloc(1, sizeof(*w));

    CHECK(w != NULL);
    w->p = &proxy;
    w->loop = (struct net_loop *)&fake_loop;
    w->ring = &pring;
    w->nodes = calloc(PROXY_MAX_SLOTS, sizeof(*w->nodes));
    CHECK(w->nodes != NULL);
    buf_init(&w->scratch);
    pthread_mutex_init(&w->clients_mu, NULL);
    opts.miss_when_down = (mode & 1) != 0;
    pring.set.out_soft = (mode & 2) ? 2048 : 64 * 1024;
    pring.set.out_hard = (mode & 4) ? 8192 : 256 * 1024;
    pring.set.backend_connections = (mode & 8) ? 2 : 1;
    for (size_t i = 0; i < NNODES; i++) {
        nodes[i].state = PNODE_UP;
        nodes[i].fails = 0;
    }
    return w;
}

static void
worker_free(struct worker *w)
{
    struct sreq *s;

    for (uint32_t id = 0; id < NNODES; id++) {
        free(w->nodes[id].conns);
    }
    free(w->nodes);
    while ((s = w->free_sreqs) != NULL) {
        w->free_sreqs = s->next;
        free(s);
    }
    free(w->keys);
    free(w->owners);
    buf_fini(&w->scratch);
    pthread_mutex_destroy(&w->clients_mu);
    free(w);
}

/* Run the close callbacks of connections closed meanwhile. */
static void
reap(void)
{
    for (size_t i = 0; i < nconns; i++) {
        struct net_conn *c = conns[i];

        if (c->closing && !c->closed) {
            c->closed = true;
            if (c->ops->on_close != NULL) {
                c->ops->on_close(c, c->why);
            }
        }
    }
}

static void
deliver(struct net_conn *c, const uint8_t *p, size_t len)
{
    if (c == NULL || c->closing || len == 0) {
        return;
    }
    CHECK(buf_append(&c->in, p, len));
    c->ops->on_read(c, &c->in);
}

/* The n-th backend connection still open, in order of creation. */
static struct net_conn *
backend(unsigned n)
{
    size_t open = 0;

    for (size_t i = 1; i < nconns; i++) {
        open += !conns[i]->closing;
    }
    if (open == 0) {
        return NULL;
    }
    n %= (unsigned)open;
    for (size_t i = 1; i < nconns; i++) {
        if (!conns[i]->closing && n-- == 0) {
            return conns[i];
        }
    }
    return NULL;
}

/* The client read everything: what net does when its socket drains. */
static void
client_reads(struct net_conn *c)
{
    bool drained = c->over_high;

    c->pending = 0;
    c->over_high = false;
    if (drained && !c->closing && c->ops->on_drain != NULL) {
        c->ops->on_drain(c);
    }
}

static bool
has_bytes(const uint8_t *in, size_t n, struct str s)
{
    for (size_t i = 0; i + s.len <= n; i++) {
        if (memcmp(in + i, s.ptr, s.len) == 0) {
            return true;
        }
    }
    return false;
}

/* A key listing's line (reply.c's shape: key= or ITEM, printable, ending
 * in LF or CRLF, within PROXY_DUMP_LINE_MAX): its length, else 0. */
static size_t
dump_line_len(const char *p, size_t left)
{
    const char *nl = memchr(p, '\n', left);
    size_t n;

    if (nl == NULL || (left < 5 || (memcmp(p, "key=", 4) != 0 &&
        memcmp(p, "ITEM ", 5) != 0))) {
        return 0;
    }
    n = (size_t)(nl - p) + 1;
    CHECK(n <= PROXY_DUMP_LINE_MAX);
    for (size_t i = 0; i + 1 < n; i++) {
        CHECK((unsigned char)p[i] >= 0x20 || (p[i] == '\r' && i + 2 == n));
    }
    return n;
}

/* What the client got is replies, whole, with keys it asked for. */
static void
check_output(const uint8_t *data, size_t size)
{
    static const struct proto_limits roomy = { 1u << 20, 1u << 20,
        UINT32_MAX };
    const char *p = buf_head(&client_out);
    size_t left = client_out.len, used;
    struct proto_rsp rsp;

    while (left > 0) {
        enum proto_status st = proto_parse_rsp(&roomy, p, left, &rsp,
            &used);

        if (st != PROTO_OK && (used = dump_line_len(p, left)) > 0) {
            p += used;      /* key listing lines (lru_crawler metadump) */
            left -= used;
            continue;
        }
        CHECK(st == PROTO_OK);
        if (rsp.type == PROTO_RSP_VALUE) {
            CHECK(has_bytes(data, size, rsp.key));
        }
        p += used;
        left -= used;
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct net_conn *client;
    size_t at = 1;

    if (size < 1) {
        return 0;
    }
    setup_once();
    cur_worker = worker_new(data[0]);
    buf_init(&client_out);
    nconns = 0;
    client = conn_new(&client_ops, NULL, true);
    CHECK(client_open(client, NULL));
    while (at + 2 <= size) {
        uint8_t op = data[at];
        size_t len = data[at + 1];

        at += 2;
        len = len < size - at ? len : size - at;
        switch (op % 4) {
        case 0:
            deliver(client, data + at, len);
            break;
        case 1:
            deliver(backend(op / 4u), data + at, len);
            break;
        case 2:
            client_reads(client);
            break;
        default:
            if (backend(op / 4u) != NULL) {
                backend(op / 4u)->why = NET_CLOSE_EOF;
                backend(op / 4u)->closing = true;
            }
            break;
        }
        at += len;
        reap();
    }
    /* The client leaves, then every backend closes. */
    client->closing = true;
    reap();
    for (size_t i = 1; i < nconns; i++) {
        conns[i]->closing = true;
    }
    reap();
    check_output(data, size);
    for (size_t i = 0; i < nconns; i++) {
        buf_fini(&conns[i]->in);
        free(conns[i]);
    }
    worker_free(cur_worker);
    buf_fini(&client_out);
    return 0;
}
