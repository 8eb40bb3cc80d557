/*
 * A bounded multi-threaded stress run: writers, readers, deleters, incr
 * and a maintenance thread (sweep, page moves, hash growth, flush_all)
 * hammer a small store with an injected clock. Halfway the values grow
 * from ~100 bytes to ~2 KiB, so pages move while readers hold items.
 * Every value read must be the one its key implies, and at the end every
 * chunk must be free again. Used by test_stress.c (Criterion, ASan) and by
 * stress_store (a plain program, for ThreadSanitizer builds).
 */
#include "stress.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "store/store.h"
#include "util/util.h"

#include "helpers.h"

#define NKEYS 8000

struct shared {
    struct store *s;
    uint32_t now;          /* atomic: the injected clock */
    bool stop;             /* atomic */
    uint64_t bad;          /* atomic: values that did not match their key */
    uint64_t ops;          /* atomic */
    bool large;            /* atomic: second half, large values only */
};

static uint64_t
rnd(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* Value for key `k`: "<k>|" then a fill byte derived from k, `len` long. */
static size_t
make_value(char *buf, unsigned k, size_t len)
{
    int n = snprintf(buf, len + 1, "%u|", k);

    for (size_t i = (size_t)n; i < len; i++) {
        buf[i] = (char)('a' + (k + i) % 26);
    }
    return len;
}

static bool
value_ok(const struct item *it, unsigned k)
{
    char want[4096];
    char got[4096];
    size_t len = item_value_len(it);

    if (len < 8 || len > sizeof(want) - 1) {
        return false;
    }
    make_value(want, k, len);
    item_value_read(it, 0, got, len);
    return memcmp(got, want, len) == 0;
}

static uint32_t
now_of(struct shared *sh)
{
    return __atomic_load_n(&sh->now, __ATOMIC_RELAXED);
}

static void *
mixed_worker(void *arg)
{
    struct shared *sh = arg;
    uint64_t x = (uint64_t)(uintptr_t)&x | 1;
    char key[32];
    char val[4096];

    while (!__atomic_load_n(&sh->stop, __ATOMIC_RELAXED)) {
        unsigned k = (unsigned)(rnd(&x) % NKEYS);
        unsigned op = (unsigned)(rnd(&x) % 10);
        struct str ks;
        struct item *it;

        snprintf(key, sizeof(key), "key:%u", k);
        ks = S(key);
        if (op < 4) {
            size_t len = __atomic_load_n(&sh->large, __ATOMIC_RELAXED)
                ? 1000 + rnd(&x) % 3000 : 8 + rnd(&x) % 200;

            make_value(val, k, len);
            store_set(sh->s, STORE_SET, ks, k, (int64_t)(rnd(&x) % 4),
                (struct str){ val, len }, 0, now_of(sh), NULL);
        } else if (op < 8) {
            if (store_get(sh->s, ks, now_of(sh), &it) == STORE_OK) {
                if (!value_ok(it, k) || item_flags(it) != k) {
                    __atomic_fetch_add(&sh->bad, 1, __ATOMIC_RELAXED);
                }
                item_unref(sh->s, it);
            }
        } else if (op < 9) {
            store_delete(sh->s, ks, 0, now_of(sh));
        } else {
            uint64_t v;

            snprintf(key, sizeof(key), "ctr:%u", k % 16);
            if (store_arith(sh->s, S(key), true, 1, 0, now_of(sh), &v, NULL)
                == STORE_NOT_FOUND) {
                store_set(sh->s, STORE_ADD, S(key), 0, 0, S("0"), 0,
                    now_of(sh), NULL);
            }
        }
        __atomic_fetch_add(&sh->ops, 1, __ATOMIC_RELAXED);
    }
    return NULL;
}

static void *
maintainer(void *arg)
{
    struct shared *sh = arg;
    unsigned tick = 0;

    while (!__atomic_load_n(&sh->stop, __ATOMIC_RELAXED)) {
        store_maintain(sh->s, now_of(sh), 500);
        if (++tick % 20 == 0) {
            __atomic_fetch_add(&sh->now, 1, __ATOMIC_RELAXED);
        }
        if (tick % 400 == 0) {
            store_flush(sh->s, tick % 800 == 0 ? 0 : 2, now_of(sh));
        }
        struct store_stats st;

        store_stats(sh->s, &st);
    }
    return NULL;
}

bool
store_stress_run(uint64_t run_ns, struct stress_result *r)
{
    struct store_config c;
    struct shared sh;
    pthread_t t[4];
    uint64_t t0 = util_mono_ns();
    char key[32];
    struct store_stats st;

    memset(r, 0, sizeof(*r));
    store_config_init(&c);
    /* Four pages; values over 2 KiB are chained over 2 KiB chunks. */
    c.mem_limit = (size_t)4 << 20;
    c.item_size_max = (size_t)64 << 10;
    c.slab_chunk_max = (size_t)2 << 10;
    c.hash_power = 6;
    c.lock_power = 3;
    memset(&sh, 0, sizeof(sh));
    sh.s = store_create(&c);
    sh.now = T0;
    if (sh.s == NULL) {
        return false;
    }
    for (int i = 0; i < 3; i++) {
        pthread_create(&t[i], NULL, mixed_worker, &sh);
    }
    pthread_create(&t[3], NULL, maintainer, &sh);
    /*
     * Run for run_ns, and on a machine so busy that the store saw no
     * pressure by then, go on (up to 8 times as long) until it does: the
     * run is for evictions and page moves under load, not for a count.
     */
    for (;;) {
        struct timespec ts = { 0, 10000000 };
        uint64_t spent = util_mono_ns() - t0;

        if (spent >= run_ns) {
            store_stats(sh.s, &st);
            if (st.evictions > 0 || spent >= 8 * run_ns) {
                break;
            }
        }
        nanosleep(&ts, NULL);
        /* Halfway, shift to large values: pages must move under load. */
        if (util_mono_ns() - t0 > run_ns / 2) {
            __atomic_store_n(&sh.large, true, __ATOMIC_RELAXED);
        }
    }
    __atomic_store_n(&sh.stop, true, __ATOMIC_RELAXED);
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
    }
    store_stats(sh.s, &st);
    r->ops = sh.ops;
    r->bad = sh.bad;
    r->evictions = st.evictions;
    r->pages_moved = st.slabs_moved;
    r->rescues = st.slab_reassign_rescues;
    r->expired = st.get_expired;
    r->flushed = st.get_flushed;
    r->hash_power = st.hash_power_level;
    /* Delete everything: then no chunk may still be in use. */
    for (unsigned k = 0; k < NKEYS; k++) {
        snprintf(key, sizeof(key), "key:%u", k);
        store_delete(sh.s, S(key), 0, sh.now);
    }
    for (unsigned k = 0; k < 16; k++) {
        snprintf(key, sizeof(key), "ctr:%u", k);
        store_delete(sh.s, S(key), 0, sh.now);
    }
    store_stats(sh.s, &st);
    r->clean = st.curr_items == 0 && st.bytes == 0;
    for (unsigned i = 0; i < store_nclasses(sh.s); i++) {
        struct store_class_stats cs;

        store_class_stats(sh.s, i, &cs);
        r->clean &= cs.used_chunks == 0 && cs.mem_requested == 0;
    }
    store_destroy(sh.s);
    return true;
}
