/* Small helpers shared by the store tests: C-string wrappers around the
 * store API and a fixed injected clock. */
#ifndef TESTS_STORE_HELPERS_H
#define TESTS_STORE_HELPERS_H

#include <stdlib.h>
#include <string.h>

#include "store/store.h"

/* An arbitrary "now": the clock is injected, tests never sleep. */
#define T0 1700000000u

static inline struct str
S(const char *s)
{
    return str_from_cstr(s);
}

static inline struct store *
mkstore(size_t limit, size_t item_max)
{
    struct store_config c;

    store_config_init(&c);
    c.mem_limit = limit;
    c.item_size_max = item_max;
    c.hash_power = 10;
    c.lock_power = 4;
    return store_create(&c);
}

static inline enum store_status
put(struct store *s, const char *k, const char *v, int64_t exp, uint32_t now)
{
    return store_set(s, STORE_SET, S(k), 0, exp, S(v), 0, now, NULL);
}

static inline enum store_status
put_mode(struct store *s, enum store_mode m, const char *k, const char *v,
    uint64_t cas, uint32_t now)
{
    return store_set(s, m, S(k), 0, 0, S(v), cas, now, NULL);
}

/* True if `k` is live at `now` with exactly value `v` ("" for any). */
static inline bool
has(struct store *s, const char *k, const char *v, uint32_t now)
{
    struct item *it;
    bool ok;

    if (store_get(s, S(k), now, &it) != STORE_OK) {
        return false;
    }
    ok = v == NULL || item_value_len(it) == strlen(v);
    if (ok && v != NULL) {
        char *got = malloc(strlen(v) + 1);

        item_value_read(it, 0, got, strlen(v));
        ok = memcmp(got, v, strlen(v)) == 0;
        free(got);
    }
    item_unref(s, it);
    return ok;
}

static inline uint64_t
cas_of(struct store *s, const char *k, uint32_t now)
{
    struct item *it;
    uint64_t c = 0;

    if (store_get(s, S(k), now, &it) == STORE_OK) {
        c = item_cas(it);
        item_unref(s, it);
    }
    return c;
}

static inline struct store_stats
stats_of(struct store *s)
{
    struct store_stats st;

    store_stats(s, &st);
    return st;
}

static inline struct store_class_stats
class_for_size(struct store *s, size_t total)
{
    struct store_class_stats cs;

    memset(&cs, 0, sizeof(cs));
    for (unsigned i = 0; store_class_stats(s, i, &cs); i++) {
        if (cs.chunk_size >= total) {
            break;
        }
    }
    return cs;
}

/* A suite whose tests share a fresh 4 MiB store `s`. */
#define STORE_SUITE(name)                                                   \
    static struct store *s;                                                 \
    static void                                                             \
    name##_setup(void)                                                      \
    {                                                                       \
        s = mkstore((size_t)4 << 20, (size_t)1 << 20);                      \
        cr_assert_not_null(s);                                              \
    }                                                                       \
    static void                                                             \
    name##_teardown(void)                                                   \
    {                                                                       \
        store_destroy(s);                                                   \
    }                                                                       \
    TestSuite(name, .init = name##_setup, .fini = name##_teardown)

#endif /* TESTS_STORE_HELPERS_H */
