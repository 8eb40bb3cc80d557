/*
 * bench_ring: the ring's numbers. Lookups per second (100 nodes, default
 * vnodes, one core), build times, and the balance table:
 * exact max/mean ownership for 3, 10 and 100 equal nodes over several
 * random name sets, ring v1 beside ketama. `bench_ring --sweep` also
 * prints the vnodes sweep the default was chosen from.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ring/ring.h"
#include "util/util.h"

#define TABLE_SETS 10 /* balance table of `make bench` */
#define SWEEP_SETS 30 /* bench_ring --sweep */

/* CPU time of this thread: on a shared machine the wall clock also counts
 * time spent waiting for a core. */
static uint64_t
cpu_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t
rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* `n` random "10.a.b.c:port" names, weight 1, in `buf`. */
static void
random_nodes(struct ring_node *nodes, char (*buf)[32], size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t r = rng();
        int len = snprintf(buf[i], 32, "10.%u.%u.%u:%u",
            (unsigned)(r & 255), (unsigned)((r >> 8) & 255),
            (unsigned)((r >> 16) & 255), 1024 + (unsigned)((r >> 24) % 60000));
        nodes[i] = (struct ring_node){ { buf[i], (size_t)len },
            { buf[i], (size_t)len }, 1 };
    }
}

/* max/mean of exact ownership for one ring. */
static double
max_over_mean(const struct ring *r)
{
    size_t n = ring_node_count(r);
    double *share = xcalloc(n, sizeof(*share)), max = 0.0;

    ring_ownership(r, share);
    for (size_t i = 0; i < n; i++) {
        max = share[i] > max ? share[i] : max;
    }
    free(share);
    return max * (double)n;
}

/* Worst and mean max/mean over NSETS random name sets of `n` nodes. */
static void
balance(enum ring_mode mode, uint32_t vnodes, size_t n, int sets,
    double *worst, double *avg)
{
    struct ring_node *nodes = xcalloc(n, sizeof(*nodes));
    char (*buf)[32] = xcalloc(n, 32);
    struct ring_params p;

    ring_params_init(&p);
    p.mode = mode;
    p.vnodes = vnodes;
    *worst = 0.0;
    *avg = 0.0;
    for (int s = 0; s < sets; s++) {
        struct ring *r;
        random_nodes(nodes, buf, n);
        if (ring_build(&p, nodes, n, &r) != RING_OK) {
            fprintf(stderr, "bench_ring: ring_build failed\n");
            exit(1);
        }
        double m = max_over_mean(r);
        *worst = m > *worst ? m : *worst;
        *avg += m / sets;
        ring_destroy(r);
    }
    free(nodes);
    free(buf);
}

static void
balance_table(void)
{
    static const size_t sizes[] = { 3, 10, 100 };

    printf("balance: exact max/mean ownership, equal weights, worst (mean) "
        "of %d random name sets\n", TABLE_SETS);
    printf("  %-6s %-22s %-22s\n", "nodes", "ring v1 (vnodes " 
        "default)", "ketama (160/server)");
    for (size_t i = 0; i < 3; i++) {
        double vw, va, kw, ka;
        balance(RING_MODE_V1, RING_DEFAULT_VNODES, sizes[i], TABLE_SETS,
            &vw, &va);
        balance(RING_MODE_KETAMA, 0, sizes[i], TABLE_SETS, &kw, &ka);
        printf("  %-6zu %.4f (%.4f)        %.4f (%.4f)\n", sizes[i], vw, va,
            kw, ka);
    }
}

static void
sweep(void)
{
    static const uint32_t vn[] = { 160, 1024, 2048, 4096, 6144, 8192,
        12288, 16384 };

    printf("vnodes sweep (ring v1): worst (mean) max/mean over %d sets\n",
        SWEEP_SETS);
    printf("  %-7s %-18s %-18s %-18s\n", "vnodes", "3 nodes", "10 nodes",
        "100 nodes");
    for (size_t i = 0; i < sizeof(vn) / sizeof(vn[0]); i++) {
        double w3, a3, w10, a10, w100, a100;
        balance(RING_MODE_V1, vn[i], 3, SWEEP_SETS, &w3, &a3);
        balance(RING_MODE_V1, vn[i], 10, SWEEP_SETS, &w10, &a10);
        balance(RING_MODE_V1, vn[i], 100, SWEEP_SETS, &w100, &a100);
        printf("  %-7u %.4f (%.4f)    %.4f (%.4f)    %.4f (%.4f)\n", vn[i],
            w3, a3, w10, a10, w100, a100);
    }
}

/* Lookups per second over `nkeys` pregenerated keys, for ~1 second. */
static void
lookup_rate(enum ring_mode mode)
{
    enum { NKEYS = 1 << 20, NNODES = 100 };
    struct ring_node nodes[NNODES];
    char (*buf)[32] = xcalloc(NNODES, 32);
    char (*keys)[24] = xmalloc((size_t)NKEYS * 24);
    struct str *kv = xmalloc(NKEYS * sizeof(*kv));
    struct ring_params p;
    struct ring *r;
    uint64_t t0, t1, c0, n = 0, sink = 0;

    ring_params_init(&p);
    p.mode = mode;
    random_nodes(nodes, buf, NNODES);
    if (ring_build(&p, nodes, NNODES, &r) != RING_OK) {
        exit(1);
    }
    for (size_t i = 0; i < NKEYS; i++) {
        int len = snprintf(keys[i], 24, "user:%llu",
            (unsigned long long)(rng() % 100000000));
        kv[i] = (struct str){ keys[i], (size_t)len };
    }
    t0 = util_mono_ns();
    c0 = cpu_ns();
    do {
        for (size_t i = 0; i < NKEYS; i++) {
            sink += ring_lookup(r, kv[i]);
        }
        n += NKEYS;
        t1 = util_mono_ns();
    } while (t1 - t0 < 1000000000ull);
    printf("lookup: %s, %d nodes, %zu points: %.1f million lookups per "
        "CPU second (%.1f M/s wall clock; keys of 9-13 bytes; checksum "
        "%llu)\n", mode == RING_MODE_V1 ? "ring v1" : "ketama fnv1a_64",
        NNODES, ring_point_count(r), (double)n / ((double)(cpu_ns() - c0) /
        1e9) / 1e6, (double)n / ((double)(t1 - t0) / 1e9) / 1e6,
        (unsigned long long)(sink & 0xff));
    ring_destroy(r);
    free(buf);
    free(keys);
    free(kv);
}

static void
build_time(enum ring_mode mode, size_t n, uint32_t vnodes)
{
    struct ring_node *nodes = xcalloc(n, sizeof(*nodes));
    char (*buf)[32] = xcalloc(n, 32);
    struct ring_params p;
    uint64_t best = UINT64_MAX;
    size_t npoints = 0, bytes = 0;

    ring_params_init(&p);
    p.mode = mode;
    p.vnodes = vnodes;
    random_nodes(nodes, buf, n);
    for (int rep = 0; rep < 5; rep++) {
        struct ring *r;
        uint64_t t0 = cpu_ns();
        if (ring_build(&p, nodes, n, &r) != RING_OK) {
            exit(1);
        }
        uint64_t dt = cpu_ns() - t0;
        best = dt < best ? dt : best;
        npoints = ring_point_count(r);
        bytes = ring_memory(r);
        ring_destroy(r);
    }
    printf("build: %s, %zu nodes, vnodes %u, %zu points: %.1f ms CPU "
        "(best of 5), %.1f MiB\n", mode == RING_MODE_V1 ? "ring v1" :
        "ketama", n, mode == RING_MODE_V1 ? p.vnodes : RING_KETAMA_POINTS,
        npoints, (double)best / 1e6, (double)bytes / (1024.0 * 1024.0));
    free(nodes);
    free(buf);
}

int
main(int argc, char **argv)
{
    printf("bench_ring (vnodes default %d; shared machine, numbers are "
        "indicative)\n", RING_DEFAULT_VNODES);
    if (argc > 1 && strcmp(argv[1], "--sweep") == 0) {
        sweep();
        return 0;
    }
    lookup_rate(RING_MODE_V1);
    lookup_rate(RING_MODE_KETAMA);
    build_time(RING_MODE_V1, 10, RING_DEFAULT_VNODES);
    build_time(RING_MODE_V1, 100, RING_DEFAULT_VNODES);
    build_time(RING_MODE_V1, 1000, RING_DEFAULT_VNODES);
    build_time(RING_MODE_V1, 1000, 2048);
    build_time(RING_MODE_KETAMA, 1000, 0);
    balance_table();
    return 0;
}
