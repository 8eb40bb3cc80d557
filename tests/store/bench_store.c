/*
 * Store micro-benchmark (`make bench`): memory per item after 1,000,000
 * items of 16-byte keys and 100-byte values (process RSS delta and the
 * store's own accounting), the worst insert latency while the hash table
 * grows, get and set operations per second with 1 and 2 threads, a
 * workload shift from 100-byte to 50 KiB values on a full cache, and the
 * same memory figure for memcached 1.6 (tests/store/memcached_mem.py).
 * Bounded: a few seconds per section.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef RINGCACHE_SANITIZERS
#include <jemalloc/jemalloc.h>
#endif

#include "store/store.h"
#include "util/util.h"

#define NITEMS 1000000u
#define VLEN 100
#define RUN_NS 1000000000ull
#define T0 1700000000u
#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)

static char value[VLEN];

static size_t
rss_bytes(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    size_t kb = 0;

    if (f == NULL) {
        return 0;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        if (sscanf(line, "VmRSS: %zu kB", &kb) == 1) {
            break;
        }
    }
    fclose(f);
    return kb * 1024;
}

/* The 16-byte keys, formatted once ("key:000000000042"). */
static char *keys;

static struct str
key_of(unsigned i)
{
    return (struct str){ keys + (size_t)i * 16, 16 };
}

static uint64_t
cpu_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int
cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a;
    uint64_t y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/* Give freed memory back to the system before reading RSS: the old hash
 * tables of each growth are freed, and jemalloc only purges them after a
 * decay time. */
static void
purge(void)
{
#ifndef RINGCACHE_SANITIZERS
    mallctl("arena." STRINGIFY(MALLCTL_ARENAS_ALL) ".purge", NULL, NULL,
        NULL, 0);
#endif
}

struct fill_lat {
    uint64_t wall[NITEMS];
    uint64_t cpu[NITEMS];
    bool growing[NITEMS / 1024 + 1];  /* per block of 1024 inserts */
};

static void
print_latency(struct fill_lat *l, unsigned long power)
{
    uint64_t gw = 0;
    uint64_t gc = 0;
    uint64_t qc = 0;
    unsigned ng = 0;

    for (unsigned i = 0; i < NITEMS; i++) {
        if (l->growing[i / 1024]) {
            gw = l->wall[i] > gw ? l->wall[i] : gw;
            gc = l->cpu[i] > gc ? l->cpu[i] : gc;
            ng++;
        } else {
            qc = l->cpu[i] > qc ? l->cpu[i] : qc;
        }
    }
    qsort(l->wall, NITEMS, sizeof(l->wall[0]), cmp_u64);
    printf("insert latency (hash grew 2^16 -> 2^%lu buckets meanwhile): "
        "p50 %.2f us, p99.9 %.2f us, worst %.1f us wall clock\n", power,
        l->wall[NITEMS / 2] / 1e3, l->wall[NITEMS - NITEMS / 1000] / 1e3,
        l->wall[NITEMS - 1] / 1e3);
    printf("worst insert while the table grew (%u inserts): %.1f us wall, "
        "%.1f us thread CPU; worst while it did not grow: %.1f us CPU "
        "(wall includes preemption on this busy machine)\n", ng, gw / 1e3,
        gc / 1e3, qc / 1e3);
}

/* Fill the store; print memory per item and insert latency. */
static void
fill(struct store *s)
{
    struct fill_lat *l = malloc(sizeof(*l));
    size_t base;
    struct store_stats st;
    uint64_t t0;

    /* Make it resident before the baseline (not with zeros: the compiler
     * may turn malloc + zero memset into a lazily mapped calloc). */
    memset(l, 1, sizeof(*l));
    memset(l->growing, 0, sizeof(l->growing));
    base = rss_bytes();
    t0 = util_mono_ns();
    for (unsigned i = 0; i < NITEMS; i++) {
        uint64_t a = util_mono_ns();
        uint64_t ac = cpu_ns();

        if (store_set(s, STORE_SET, key_of(i), 0, 0,
            (struct str){ value, VLEN }, 0, T0, NULL) != STORE_OK) {
            fprintf(stderr, "bench_store: set failed at %u\n", i);
            exit(1);
        }
        l->cpu[i] = cpu_ns() - ac;
        l->wall[i] = util_mono_ns() - a;
        if (i % 1024 == 1023 || i == NITEMS - 1) {
            store_stats(s, &st);
            l->growing[i / 1024] |= st.hash_is_expanding;
            if (i / 1024 + 1 <= NITEMS / 1024) {
                l->growing[i / 1024 + 1] = st.hash_is_expanding;
            }
        }
    }
    uint64_t el = util_mono_ns() - t0;
    size_t rss;

    purge();
    rss = rss_bytes();
    store_stats(s, &st);
    printf("fill: %u items (16-byte keys, 100-byte values) in %.2f s\n",
        NITEMS, (double)el / 1e9);
    printf("memory: ringcache store: %.1f bytes/item RSS (delta %zu bytes),"
        " %.1f bytes/item accounted (pages %lu + hash %lu),"
        " item header %lu bytes, %lu bytes/item stored\n",
        (double)(rss - base) / NITEMS, rss - base,
        (double)(st.total_malloced + st.hash_bytes) / NITEMS,
        (unsigned long)st.total_malloced, (unsigned long)st.hash_bytes,
        (unsigned long)st.item_header_bytes,
        (unsigned long)(st.bytes / NITEMS));
    print_latency(l, (unsigned long)st.hash_power_level);
    free(l);
}

struct worker {
    struct store *s;
    bool set;
    unsigned seed;
    uint64_t ops;
    uint64_t hits;
    uint64_t cpu;     /* thread CPU time spent, ns */
};

static void *
worker_run(void *arg)
{
    struct worker *w = arg;
    uint64_t x = w->seed * 2654435761u + 1;
    uint64_t t0 = util_mono_ns();
    uint64_t c0 = cpu_ns();

    while (util_mono_ns() - t0 < RUN_NS) {
        for (int n = 0; n < 1000; n++) {
            struct item *it;

            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            struct str k = key_of((unsigned)(x % NITEMS));

            if (w->set) {
                store_set(w->s, STORE_SET, k, 0, 0,
                    (struct str){ value, VLEN }, 0, T0, NULL);
            } else if (store_get(w->s, k, T0, &it) == STORE_OK) {
                w->hits++;
                item_unref(w->s, it);
            }
        }
        w->ops += 1000;
    }
    w->cpu = cpu_ns() - c0;
    return NULL;
}

static void
throughput(struct store *s, bool set, unsigned nthreads)
{
    pthread_t t[2];
    struct worker w[2];
    uint64_t t0 = util_mono_ns();
    uint64_t ops = 0;
    uint64_t cpu = 0;

    for (unsigned i = 0; i < nthreads; i++) {
        w[i] = (struct worker){ s, set, i + 1, 0, 0, 0 };
        pthread_create(&t[i], NULL, worker_run, &w[i]);
    }
    for (unsigned i = 0; i < nthreads; i++) {
        pthread_join(t[i], NULL);
        ops += w[i].ops;
        cpu += w[i].cpu;
    }
    /* Per CPU-second too: on a shared machine the wall-clock rate mostly
     * says how much CPU the threads got. */
    printf("%s: %u thread%s: %.2f M ops/s (%.2f M ops per thread CPU "
        "second)\n", set ? "set" : "get", nthreads, nthreads > 1 ? "s" : "",
        (double)ops / ((util_mono_ns() - t0) / 1e9) / 1e6,
        (double)ops / (cpu / 1e9) / 1e6);
}

/* Pages of the smallest class holding `total` bytes. */
static uint64_t
pages_for(struct store *s, size_t total)
{
    struct store_class_stats cs;

    for (unsigned i = 0; store_class_stats(s, i, &cs); i++) {
        if (cs.chunk_size >= total) {
            return cs.total_pages;
        }
    }
    return 0;
}

/*
 * A full 64 MiB cache of 100-byte values, then only 50 KiB values: one
 * round is 100 sets then one store_maintain() (the node's 100 ms tick).
 */
static void
shift(void)
{
    struct store_config c;
    struct store *s;
    static char big[50 * 1024];
    char k[32];
    unsigned i;

    store_config_init(&c);
    s = store_create(&c);
    memset(big, 'L', sizeof(big));
    for (i = 0; ; i++) {
        struct store_stats st;

        store_set(s, STORE_SET, key_of(i), 0, 0,
            (struct str){ value, VLEN }, 0, T0, NULL);
        if (i % 1000 == 999) {
            store_stats(s, &st);
            if (st.evictions > 0) {
                break;
            }
        }
    }
    printf("shift: -m 64 full of 100-byte values (%u items): "
        "small-class pages %lu, 50KiB-class pages %lu\n", i,
        (unsigned long)pages_for(s, 150), (unsigned long)pages_for(s, 51300));
    for (unsigned r = 0; r < 80; r++) {
        unsigned ok = 0;
        struct store_stats st;

        for (unsigned n = 0; n < 100; n++) {
            snprintf(k, sizeof(k), "big:%u:%u", r, n);
            ok += store_set(s, STORE_SET, str_from_cstr(k), 0, 0,
                (struct str){ big, sizeof(big) }, 0, T0 + r, NULL)
                == STORE_OK;
        }
        store_maintain(s, T0 + r, 10000);
        store_stats(s, &st);
        if (r < 3 || r % 10 == 9) {
            printf("shift: round %2u: %3u/100 large sets stored; pages "
                "small %2lu large %2lu; pages moved %lu\n", r + 1, ok,
                (unsigned long)pages_for(s, 150),
                (unsigned long)pages_for(s, 51300),
                (unsigned long)st.slabs_moved);
        }
    }
    store_destroy(s);
}

static void
compare_memcached(void)
{
    char cmd[1024];

    snprintf(cmd, sizeof(cmd), "%s %s/tests/store/memcached_mem.py %u",
        BENCH_PYTHON3, BENCH_SRCDIR, NITEMS);
    fflush(stdout);
    if (system(cmd) != 0) {
        printf("memory: memcached comparison did not run (%s)\n", cmd);
    }
}

int
main(void)
{
    struct store_config c;
    struct store *s;

    memset(value, 'v', sizeof(value));
    keys = malloc((size_t)NITEMS * 16 + 1);
    for (unsigned i = 0; i < NITEMS; i++) {
        snprintf(keys + (size_t)i * 16, 17, "key:%012u", i);
    }
    printf("bench_store: numbers from a shared, busy 2-core machine\n");
    store_config_init(&c);
    c.mem_limit = (size_t)1024 << 20;  /* like memcached -m 1024 */
    s = store_create(&c);
    if (s == NULL) {
        fprintf(stderr, "bench_store: store_create failed\n");
        return 1;
    }
    fill(s);
    compare_memcached();
    throughput(s, false, 1);
    throughput(s, false, 2);
    throughput(s, true, 1);
    throughput(s, true, 2);
    store_destroy(s);
    shift();
    free(keys);
    return 0;
}
