/*
 * ringbench: a memcached text-protocol load generator. Each thread runs a
 * net loop with its share of the connections; each connection runs a
 * session (session.h) that composes requests and verifies every reply.
 * Closed loop keeps `depth` requests in flight per connection; open loop
 * (--rate) sends on a fixed schedule and measures latency from each
 * request's intended send time, so a stalled server shows up as latency
 * instead of as a quietly lower request rate (coordinated omission).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/opts.h"
#include "bench/report.h"
#include "bench/session.h"
#include "net/net.h"
#include "proto/proto.h"
#include "util/util.h"

struct worker;

/* One connection. */
struct client {
    struct worker *w;
    struct net_conn *conn;
    struct session sess;
    struct buf out;
    uint64_t quota;         /* requests still to send */
    uint64_t next_t;        /* open loop: intended time of the next send */
    bool closed;
    bool done;              /* quota sent and answered */
    bool settled;           /* done, or lost before it was */
};

enum phase {
    PHASE_IDLE = 0,     /* connecting; nothing sent before t0 */
    PHASE_WARMUP,
    PHASE_MEASURE,
    PHASE_DONE,
};

struct bench {
    struct bench_opts opts;
    struct session_cfg cfg;
    struct values values;
    struct net_addr addr;
    uint64_t t0;            /* common start, monotonic ns */
    uint64_t interval_ns;   /* open loop: between sends of one connection */
};

struct worker {
    struct bench *b;
    pthread_t tid;
    struct net_loop *loop;
    struct client *clients;
    unsigned first;         /* global index of clients[0] */
    unsigned n;
    unsigned alive;         /* connections open */
    unsigned settled;       /* clients done or lost: all settled = stop */
    bool logged_proto;
    enum phase phase;
    struct net_timer *phase_timer;
    struct net_timer *tick;
    uint64_t measure_from;
    uint64_t measure_until;
    uint64_t conn_failures;
    bool failed;            /* loop could not be set up */
    struct session_stats stats;
};

static void stop_worker(struct worker *w, uint64_t now);

static bool
client_active(const struct client *cl)
{
    return !cl->closed && !cl->done && (cl->w->phase == PHASE_WARMUP
        || cl->w->phase == PHASE_MEASURE);
}

/* Hand composed requests to net (flushed when the callback returns). */
static void
client_flush(struct client *cl)
{
    if (cl->out.len == 0) {
        return;
    }
    if (net_conn_write(cl->conn, buf_head(&cl->out), cl->out.len)
        != NET_OK) {
        net_conn_close(cl->conn);
    }
    buf_clear(&cl->out);
}

static bool
send_one(struct client *cl, uint64_t t0)
{
    if (cl->quota == 0 || session_send(&cl->sess, &cl->out, t0)
        != SESSION_OK) {
        return false;
    }
    cl->quota--;
    return true;
}

/* Closed loop: top up to `depth` requests in flight. */
static void
fill_closed(struct client *cl, uint64_t now)
{
    unsigned depth = cl->w->b->opts.depth;

    while (session_outstanding(&cl->sess) < depth && send_one(cl, now)) {
    }
}

/* Open loop: send every batch whose intended time has come. Requests that
 * must wait for room keep their intended time, so the wait is counted. */
static void
fill_open(struct client *cl, uint64_t now)
{
    const struct bench *b = cl->w->b;
    unsigned i;

    while (cl->next_t <= now && cl->quota > 0) {
        if (session_outstanding(&cl->sess) + b->opts.depth
            > cl->sess.cap) {
            break;
        }
        for (i = 0; i < b->opts.depth; i++) {
            send_one(cl, cl->next_t);
        }
        cl->next_t += b->interval_ns;
    }
}

static void
client_fill(struct client *cl, uint64_t now)
{
    if (!client_active(cl)) {
        return;
    }
    if (cl->w->b->opts.rate > 0) {
        fill_open(cl, now);
    } else {
        fill_closed(cl, now);
    }
    client_flush(cl);
}

/* A client has nothing left to do (finished, lost, or never started);
 * the worker stops when all of its clients have. */
static void
settle(struct worker *w, struct client *cl)
{
    if (cl->settled) {
        return;
    }
    cl->settled = true;
    if (++w->settled == w->n) {
        stop_worker(w, util_mono_ns());
    }
}

static void
check_done(struct client *cl)
{
    if (cl->done || cl->quota > 0 || session_outstanding(&cl->sess) > 0) {
        return;
    }
    cl->done = true;
    settle(cl->w, cl);
}

static void
on_read(struct net_conn *c, struct buf *in)
{
    struct client *cl = net_conn_data(c);
    uint64_t now = util_mono_ns();
    size_t used;

    if (cl->w->phase == PHASE_DONE) {
        buf_consume(in, in->len);
        return;
    }
    if (session_feed(&cl->sess, buf_head(in), in->len, now, &used)
        != SESSION_OK) {
        if (!cl->w->logged_proto) {
            cl->w->logged_proto = true;
            log_error("protocol error from the server; closing connection");
        }
        buf_consume(in, in->len);
        net_conn_close(c);
        return;
    }
    buf_consume(in, used);
    client_fill(cl, now);
    check_done(cl);
}

static void
on_close(struct net_conn *c, enum net_close_why why)
{
    struct client *cl = net_conn_data(c);
    struct worker *w = cl->w;

    cl->closed = true;
    w->alive--;
    if (w->phase == PHASE_DONE || cl->done) {
        return;
    }
    /* One message per thread; the report has the count. */
    if (w->conn_failures++ == 0 && why != NET_CLOSE_LOCAL) {
        log_error("connection lost: %s", net_close_str(why));
    }
    settle(w, cl);
}

static const struct net_conn_ops client_ops = {
    .on_read = on_read,
    .on_close = on_close,
};

static void
set_recording(struct worker *w, bool on)
{
    unsigned i;

    for (i = 0; i < w->n; i++) {
        w->clients[i].sess.recording = on;
    }
}

static void
stop_worker(struct worker *w, uint64_t now)
{
    if (w->phase == PHASE_DONE) {
        return;
    }
    if (w->phase != PHASE_MEASURE) {
        w->measure_from = now;      /* stopped before measuring: 0 s */
    }
    w->phase = PHASE_DONE;
    w->measure_until = now;
    net_loop_stop(w->loop);
}

static uint64_t
us_until(uint64_t t, uint64_t now)
{
    return t > now ? (t - now + 999) / 1000 : 0;
}

static void
start_measuring(struct worker *w, struct net_timer *t, uint64_t now)
{
    const struct bench_opts *o = &w->b->opts;

    w->phase = PHASE_MEASURE;
    w->measure_from = now;
    set_recording(w, true);
    if (o->requests == 0) {
        net_timer_arm(t, (uint64_t)(o->duration_s * 1e6));
    }
}

/* The phases, all on one timer: t0 starts the load (and the warm-up, if
 * any), the warm-up's end starts counting, the duration's end stops. */
static void
on_phase(struct net_timer *t, void *arg)
{
    struct worker *w = arg;
    const struct bench_opts *o = &w->b->opts;
    uint64_t now = util_mono_ns();
    unsigned i;

    switch (w->phase) {
    case PHASE_IDLE:
        w->phase = PHASE_WARMUP;
        if (o->warmup_s > 0) {
            net_timer_arm(t, (uint64_t)(o->warmup_s * 1e6));
        } else {
            start_measuring(w, t, now);
        }
        for (i = 0; i < w->n; i++) {
            client_fill(&w->clients[i], now);
        }
        if (o->rate > 0) {
            net_timer_arm(w->tick, 0);
        }
        break;
    case PHASE_WARMUP:
        start_measuring(w, t, now);
        break;
    case PHASE_MEASURE:
    case PHASE_DONE:
        stop_worker(w, now);
        break;
    }
}

/* Open loop: send what is due, sleep until the next intended time. */
static void
on_tick(struct net_timer *t, void *arg)
{
    struct worker *w = arg;
    uint64_t now = util_mono_ns();
    uint64_t next = UINT64_MAX;
    unsigned i;

    for (i = 0; i < w->n; i++) {
        struct client *cl = &w->clients[i];

        client_fill(cl, now);
        if (client_active(cl) && cl->quota > 0 && cl->next_t < next) {
            next = cl->next_t;
        }
    }
    if (w->phase != PHASE_DONE) {
        /* Overdue (waiting for room): retry soon; replies also retry. */
        net_timer_arm(t, next == UINT64_MAX ? 1000
            : next <= now ? 50 : us_until(next, now));
    }
}

/* Connection idx's share of n: floor(n(i+1)/C) - floor(ni/C), the same
 * split as its stretch of sequential keys, so -n equal to -k under
 * --dist seq writes every key exactly once. */
static uint64_t
share_of(uint64_t n, unsigned idx, unsigned conns)
{
    return (uint64_t)((unsigned __int128)n * (idx + 1) / conns
        - (unsigned __int128)n * idx / conns);
}

static uint64_t
quota_of(const struct bench_opts *o, unsigned idx)
{
    return o->requests == 0 ? UINT64_MAX : share_of(o->requests, idx,
        o->conns);
}

static bool
client_start(struct worker *w, unsigned i)
{
    struct bench *b = w->b;
    struct client *cl = &w->clients[i];
    unsigned idx = w->first + i;
    size_t cap = b->opts.rate > 0 ? b->opts.max_outstanding : b->opts.depth;

    cl->w = w;
    buf_init(&cl->out);
    if (session_init(&cl->sess, &b->cfg, cap,
            b->opts.seed * 1000003u + idx, idx, b->opts.conns)
        != SESSION_OK) {
        return false;
    }
    /* Sequential keys: each connection walks its own stretch. */
    cl->sess.keys.next_seq = (uint64_t)((unsigned __int128)b->opts.nkeys
        * idx / b->opts.conns);
    cl->sess.recording = false;     /* until the measured part */
    cl->quota = quota_of(&b->opts, idx);
    cl->next_t = b->t0 + b->interval_ns * idx / b->opts.conns;
    cl->conn = net_conn_connect(w->loop, &b->addr, 5000, &client_ops, cl,
        NULL);
    if (cl->conn == NULL) {
        session_fini(&cl->sess);
        return false;
    }
    w->alive++;
    return true;
}

static bool
worker_setup(struct worker *w)
{
    const struct bench_opts *o = &w->b->opts;
    uint64_t now;
    unsigned i;

    w->loop = net_loop_create(o->rate > 0 ? NET_LOOP_PRECISE_TIMERS : 0);
    w->clients = calloc(w->n, sizeof(*w->clients));
    if (w->loop == NULL || w->clients == NULL) {
        return false;
    }
    w->phase_timer = net_timer_create(w->loop, on_phase, w);
    w->tick = net_timer_create(w->loop, on_tick, w);
    if (w->phase_timer == NULL || w->tick == NULL) {
        return false;
    }
    w->phase = PHASE_IDLE;
    now = util_mono_ns();
    /* Every worker starts sending at t0, once its connections had time to
     * open; requests written before the connect completes are queued. */
    net_timer_arm(w->phase_timer, us_until(w->b->t0, now));
    for (i = 0; i < w->n; i++) {
        if (!client_start(w, i)) {
            log_error("cannot open connection %u", w->first + i);
            w->conn_failures++;
            w->clients[i].w = w;
            settle(w, &w->clients[i]);
        } else {
            check_done(&w->clients[i]);     /* a zero quota */
        }
    }
    return true;
}

static void *
worker_main(void *arg)
{
    struct worker *w = arg;
    const struct bench_opts *o = &w->b->opts;
    uint64_t limit_ms = 0;
    unsigned i;

    session_stats_init(&w->stats);
    if (!worker_setup(w)) {
        log_error("cannot set up a load thread (out of memory?)");
        w->failed = true;
    } else {
        if (o->requests == 0) {
            /* A safety bound: the phase timer stops the loop normally. */
            limit_ms = (uint64_t)((o->warmup_s + o->duration_s) * 1e3)
                + 30000;
        }
        if (w->alive > 0 && net_loop_run(w->loop, limit_ms) != NET_OK) {
            w->failed = true;
        }
        if (w->phase != PHASE_DONE) {
            stop_worker(w, util_mono_ns());
        }
    }
    for (i = 0; w->clients != NULL && i < w->n; i++) {
        session_stats_merge(&w->stats, &w->clients[i].sess.stats);
    }
    net_loop_destroy(w->loop);      /* closes what is still open */
    for (i = 0; w->clients != NULL && i < w->n; i++) {
        session_fini(&w->clients[i].sess);
        buf_fini(&w->clients[i].out);
    }
    free(w->clients);
    return NULL;
}

static int
setup_bench(struct bench *b)
{
    struct bench_opts *o = &b->opts;
    char addr[128];
    size_t vmax = o->value_len;

    if (net_addr_resolve(o->host, o->port, &b->addr) != NET_OK) {
        log_error("cannot resolve %s", o->host);
        return -1;
    }
    net_addr_format(&b->addr, addr, sizeof(addr));
    log_info("loading %s", addr);
    for (unsigned i = 0; i < o->nmix; i++) {
        /* With a mix, value_len is the largest value (buffers). */
        vmax = o->mix[i].max > vmax ? o->mix[i].max : vmax;
    }
    values_init(&b->values, o->run_id, vmax);
    proto_limits_default(&b->cfg.limits);
    if (vmax > b->cfg.limits.max_value) {
        b->cfg.limits.max_value = (uint32_t)vmax;
    }
    b->cfg.values = &b->values;
    keys_init(&b->cfg.keys_proto, o->dist, o->nkeys, o->zipf_theta, 0);
    b->cfg.key_len = o->key_len;
    b->cfg.value_len = vmax;
    b->cfg.set_weight = o->set_weight;
    b->cfg.get_weight = o->get_weight;
    b->cfg.mget = o->mget;
    b->cfg.check_values = o->check_values;
    b->cfg.verify = o->verify;
    b->cfg.meta = o->meta;
    memcpy(b->cfg.mix, o->mix, sizeof(o->mix));
    b->cfg.nmix = o->nmix;
    b->cfg.ttl_pct = o->ttl_pct;
    b->cfg.ttl_secs = o->ttl_secs;
    b->cfg.set_on_miss = o->set_on_miss;
    if (o->verify) {
        b->cfg.versions = xcalloc(o->nkeys, sizeof(uint32_t));
        /* Versions of an earlier run are not this run's versions. */
        b->cfg.version_base = (uint32_t)(util_mono_ns() ^ (o->seed << 20));
    }
    if (o->rate > 0) {
        b->interval_ns = (uint64_t)(1e9 * o->conns * o->depth / o->rate);
    }
    return 0;
}

/* Sum the workers into one report; the measured time is the longest. */
static void
collect(struct bench *b, struct worker *ws, struct report *r)
{
    unsigned i;

    memset(r, 0, sizeof(*r));
    r->opts = &b->opts;
    session_stats_init(&r->stats);
    for (i = 0; i < b->opts.threads; i++) {
        double s = ws[i].measure_until > ws[i].measure_from
            ? (double)(ws[i].measure_until - ws[i].measure_from) / 1e9 : 0;

        session_stats_merge(&r->stats, &ws[i].stats);
        r->conn_failures += ws[i].conn_failures + (ws[i].failed ? 1 : 0);
        if (s > r->elapsed_s) {
            r->elapsed_s = s;
        }
    }
}

static int
run(struct bench *b)
{
    const struct bench_opts *o = &b->opts;
    struct worker *ws = xcalloc(o->threads, sizeof(*ws));
    struct report r;
    unsigned i;

    b->t0 = util_mono_ns() + 50 * 1000000ULL;
    for (i = 0; i < o->threads; i++) {
        ws[i].b = b;
        ws[i].first = (unsigned)((uint64_t)o->conns * i / o->threads);
        ws[i].n = (unsigned)((uint64_t)o->conns * (i + 1) / o->threads)
            - ws[i].first;
        if (pthread_create(&ws[i].tid, NULL, worker_main, &ws[i]) != 0) {
            log_error("cannot start thread %u", i);
            exit(1);
        }
    }
    for (i = 0; i < o->threads; i++) {
        pthread_join(ws[i].tid, NULL);
    }
    collect(b, ws, &r);
    if (o->json) {
        report_json(&r, stdout);
    } else {
        report_text(&r, stdout);
    }
    fflush(stdout);
    free(ws);
    return report_failures(&r) > 0 ? 1 : 0;
}

int
main(int argc, char **argv)
{
    struct bench b;
    char err[256];
    int rc;

    util_log_set_program("ringbench");
    memset(&b, 0, sizeof(b));
    opts_defaults(&b.opts);
    switch (opts_parse(&b.opts, argc, argv, err, sizeof(err))) {
    case OPTS_OK:
        break;
    case OPTS_HELP:
        opts_usage(stdout);
        return 0;
    case OPTS_EINVAL:
        fprintf(stderr, "ringbench: %s\n", err);
        opts_usage(stderr);
        return 2;
    }
    if (setup_bench(&b) < 0) {
        return 2;
    }
    rc = run(&b);
    values_fini(&b.values);
    free(b.cfg.versions);
    return rc;
}
