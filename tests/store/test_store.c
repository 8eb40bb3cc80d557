/* Tests for the store_* operations: memcached's semantics for storage,
 * retrieval, expiry, CAS, incr/decr, touch, delete and flush_all. */
#include <criterion/criterion.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "store/store.h"

#include "helpers.h"

STORE_SUITE(store_store);

Test(store_store, set_get_roundtrip)
{
    struct item *it;
    uint64_t cas;

    cr_assert_eq(store_get(s, S("k"), T0, &it), STORE_NOT_FOUND);
    cr_assert_eq(store_set(s, STORE_SET, S("k"), 0xdeadbeef, 0, S("hello"),
        0, T0, &cas), STORE_OK);
    cr_assert_eq(store_get(s, S("k"), T0, &it), STORE_OK);
    cr_assert(str_eq(item_key(it), S("k")));
    cr_assert_eq(item_value_len(it), 5);
    cr_assert_eq(memcmp(item_value(it), "hello", 5), 0);
    cr_assert_eq(item_flags(it), 0xdeadbeef);
    cr_assert_eq(item_cas(it), cas);
    cr_assert_eq(item_exptime(it), 0);
    cr_assert(item_fetched(it));
    item_unref(s, it);
    struct store_stats st = stats_of(s);
    cr_assert_eq(st.get_hits, 1);
    cr_assert_eq(st.get_misses, 1);
    cr_assert_eq(st.curr_items, 1);
    cr_assert_eq(st.total_items, 1);
    cr_assert_eq(st.bytes, st.item_header_bytes + 1 + 5);
}

Test(store_store, empty_value_and_overwrite)
{
    cr_assert_eq(put(s, "k", "", 0, T0), STORE_OK);
    cr_assert(has(s, "k", "", T0));
    cr_assert_eq(put(s, "k", "second", 0, T0), STORE_OK);
    cr_assert(has(s, "k", "second", T0));
    cr_assert_eq(stats_of(s).curr_items, 1);
    cr_assert_eq(stats_of(s).total_items, 2);
}

Test(store_store, key_length_limits)
{
    char key[STORE_KEY_MAX + 2];

    memset(key, 'k', sizeof(key));
    key[STORE_KEY_MAX] = '\0';
    cr_assert_eq(put(s, key, "v", 0, T0), STORE_OK);
    cr_assert(has(s, key, "v", T0));
    key[STORE_KEY_MAX] = 'k';
    key[STORE_KEY_MAX + 1] = '\0';
    cr_assert_eq(put(s, key, "v", 0, T0), STORE_EINVAL);
    cr_assert_eq(put(s, "", "v", 0, T0), STORE_EINVAL);
}

Test(store_store, binary_keys_and_values)
{
    struct item *it;
    struct str k = { "a\0b", 3 };
    struct str v = { "\r\n\0x", 4 };

    cr_assert_eq(store_set(s, STORE_SET, k, 0, 0, v, 0, T0, NULL), STORE_OK);
    cr_assert_eq(store_get(s, (struct str){ "a\0c", 3 }, T0, &it),
        STORE_NOT_FOUND);
    cr_assert_eq(store_get(s, k, T0, &it), STORE_OK);
    cr_assert_eq(memcmp(item_value(it), v.ptr, 4), 0);
    item_unref(s, it);
}

/* ---- expiry ---- */

Test(store_store, relative_expiry_boundary)
{
    cr_assert_eq(put(s, "k", "v", 10, T0), STORE_OK);
    cr_assert(has(s, "k", "v", T0 + 9));
    cr_assert_not(has(s, "k", "v", T0 + 10), "expired once now >= exptime");
    struct store_stats st = stats_of(s);
    cr_assert_eq(st.get_expired, 1);
    cr_assert_eq(st.curr_items, 0, "lazy expiry unlinks the item");
}

Test(store_store, thirty_days_is_relative_beyond_is_absolute)
{
    struct item *it;

    cr_assert_eq(put(s, "rel", "v", STORE_REALTIME_MAXDELTA, T0), STORE_OK);
    cr_assert_eq(store_get(s, S("rel"), T0, &it), STORE_OK);
    cr_assert_eq(item_exptime(it), T0 + STORE_REALTIME_MAXDELTA);
    item_unref(s, it);
    /* One more second is an absolute unix time: 1970 + 30 days, long
     * past, so the item is dead on arrival. */
    cr_assert_eq(put(s, "abs", "v", STORE_REALTIME_MAXDELTA + 1, T0),
        STORE_OK);
    cr_assert_not(has(s, "abs", NULL, T0));
    cr_assert_eq(put(s, "abs2", "v", T0 + 100, T0), STORE_OK);
    cr_assert(has(s, "abs2", "v", T0 + 99));
    cr_assert_not(has(s, "abs2", "v", T0 + 100));
}

Test(store_store, negative_exptime_is_expired)
{
    cr_assert_eq(put(s, "k", "v", -1, T0), STORE_OK);
    cr_assert_not(has(s, "k", NULL, T0));
    cr_assert_eq(stats_of(s).expired_unfetched, 1);
}

Test(store_store, touch_and_gat_move_expiry)
{
    struct item *it;

    cr_assert_eq(put(s, "k", "v", 10, T0), STORE_OK);
    cr_assert_eq(store_touch(s, S("k"), 100, T0 + 5), STORE_OK);
    cr_assert(has(s, "k", "v", T0 + 50));
    cr_assert_eq(store_gat(s, S("k"), 0, T0 + 60, &it), STORE_OK);
    cr_assert_eq(item_exptime(it), 0);
    item_unref(s, it);
    cr_assert(has(s, "k", "v", T0 + 100000));
    cr_assert_eq(store_touch(s, S("nope"), 1, T0), STORE_NOT_FOUND);
    cr_assert_eq(store_gat(s, S("nope"), 1, T0, &it), STORE_NOT_FOUND);
    cr_assert_eq(store_touch(s, S("k"), -1, T0 + 100000), STORE_OK);
    cr_assert_not(has(s, "k", NULL, T0 + 100000));
    struct store_stats st = stats_of(s);
    cr_assert_eq(st.touch_hits, 3);
    cr_assert_eq(st.touch_misses, 2);
}

/* ---- storage modes ---- */

Test(store_store, add_replace_semantics)
{
    cr_assert_eq(put_mode(s, STORE_REPLACE, "k", "a", 0, T0),
        STORE_NOT_STORED);
    cr_assert_eq(put_mode(s, STORE_ADD, "k", "a", 0, T0), STORE_OK);
    cr_assert_eq(put_mode(s, STORE_ADD, "k", "b", 0, T0), STORE_NOT_STORED);
    cr_assert(has(s, "k", "a", T0));
    cr_assert_eq(put_mode(s, STORE_REPLACE, "k", "c", 0, T0), STORE_OK);
    cr_assert(has(s, "k", "c", T0));
    /* An expired key counts as absent. */
    cr_assert_eq(put(s, "e", "old", 5, T0), STORE_OK);
    cr_assert_eq(put_mode(s, STORE_ADD, "e", "new", 0, T0 + 5), STORE_OK);
    cr_assert(has(s, "e", "new", T0 + 5));
}

Test(store_store, append_prepend)
{
    struct item *it;

    cr_assert_eq(put_mode(s, STORE_APPEND, "k", "x", 0, T0),
        STORE_NOT_STORED, "append to a missing key");
    cr_assert_eq(put_mode(s, STORE_PREPEND, "k", "x", 0, T0),
        STORE_NOT_STORED);
    cr_assert_not(has(s, "k", NULL, T0));
    cr_assert_eq(store_set(s, STORE_SET, S("k"), 7, 100, S("mid"), 0, T0,
        NULL), STORE_OK);
    cr_assert_eq(store_set(s, STORE_APPEND, S("k"), 9, 0, S(">>"), 0, T0,
        NULL), STORE_OK);
    cr_assert_eq(put_mode(s, STORE_PREPEND, "k", "<<", 0, T0), STORE_OK);
    cr_assert_eq(store_get(s, S("k"), T0, &it), STORE_OK);
    cr_assert_eq(item_value_len(it), 7);
    cr_assert_eq(memcmp(item_value(it), "<<mid>>", 7), 0);
    cr_assert_eq(item_flags(it), 7, "append keeps the old flags");
    cr_assert_eq(item_exptime(it), T0 + 100, "and the old expiry");
    item_unref(s, it);
    cr_assert_eq(put_mode(s, STORE_APPEND, "k", "!", 1, T0), STORE_EXISTS,
        "a nonzero cas must match");
}

Test(store_store, append_past_the_size_limit)
{
    static char big[600 * 1024];

    memset(big, 'b', sizeof(big) - 1);
    cr_assert_eq(put(s, "k", big, 0, T0), STORE_OK);
    cr_assert_eq(put_mode(s, STORE_APPEND, "k", big, 0, T0),
        STORE_TOO_LARGE);
    cr_assert(has(s, "k", big, T0), "the old value stays");
}

/* ---- CAS ---- */

Test(store_store, cas_semantics)
{
    uint64_t c1;
    uint64_t c2;

    cr_assert_eq(put_mode(s, STORE_CAS, "k", "v", 1, T0), STORE_NOT_FOUND);
    cr_assert_eq(store_set(s, STORE_SET, S("k"), 0, 0, S("v1"), 0, T0, &c1),
        STORE_OK);
    cr_assert_eq(cas_of(s, "k", T0), c1);
    cr_assert_eq(put_mode(s, STORE_CAS, "k", "bad", c1 + 1, T0),
        STORE_EXISTS);
    cr_assert_eq(store_set(s, STORE_CAS, S("k"), 0, 0, S("v2"), c1, T0, &c2),
        STORE_OK);
    cr_assert_gt(c2, c1, "CAS uniques increase");
    cr_assert(has(s, "k", "v2", T0));
    cr_assert_eq(put_mode(s, STORE_CAS, "k", "v3", c1, T0), STORE_EXISTS,
        "the first unique is stale now");
    struct store_stats st = stats_of(s);
    cr_assert_eq(st.cas_misses, 1);
    cr_assert_eq(st.cas_badval, 2);
    cr_assert_eq(st.cas_hits, 1);
}

Test(store_store, cas_race_one_winner)
{
    uint64_t c = 0;

    cr_assert_eq(store_set(s, STORE_SET, S("k"), 0, 0, S("0"), 0, T0, &c),
        STORE_OK);
    /* Two clients read the same unique; only the first cas wins. */
    cr_assert_eq(put_mode(s, STORE_CAS, "k", "a", c, T0), STORE_OK);
    cr_assert_eq(put_mode(s, STORE_CAS, "k", "b", c, T0), STORE_EXISTS);
    cr_assert(has(s, "k", "a", T0));
}

struct cas_worker {
    int wins;
};

/* Increment a counter with gets + cas until 200 increments succeeded. */
static void *
cas_worker_run(void *arg)
{
    struct cas_worker *w = arg;
    char buf[32];

    while (w->wins < 200) {
        struct item *it;
        uint64_t v = 0;
        uint64_t cas;

        cr_assert_eq(store_get(s, S("ctr"), T0, &it), STORE_OK);
        memcpy(buf, item_value(it), item_value_len(it));
        buf[item_value_len(it)] = '\0';
        sscanf(buf, "%lu", &v);
        cas = item_cas(it);
        item_unref(s, it);
        snprintf(buf, sizeof(buf), "%lu", v + 1);
        if (put_mode(s, STORE_CAS, "ctr", buf, cas, T0) == STORE_OK) {
            w->wins++;
        }
    }
    return NULL;
}

Test(store_store, cas_race_threads_lose_no_update)
{
    pthread_t t[3];
    struct cas_worker w[3];

    memset(w, 0, sizeof(w));
    cr_assert_eq(put(s, "ctr", "0", 0, T0), STORE_OK);
    for (int i = 0; i < 3; i++) {
        pthread_create(&t[i], NULL, cas_worker_run, &w[i]);
    }
    for (int i = 0; i < 3; i++) {
        pthread_join(t[i], NULL);
    }
    cr_assert(has(s, "ctr", "600", T0), "every successful cas counted once");
}

/* ---- delete ---- */

Test(store_store, delete_semantics)
{
    uint64_t c;

    cr_assert_eq(store_delete(s, S("k"), 0, T0), STORE_NOT_FOUND);
    cr_assert_eq(store_set(s, STORE_SET, S("k"), 0, 0, S("v"), 0, T0, &c),
        STORE_OK);
    cr_assert_eq(store_delete(s, S("k"), c + 1, T0), STORE_EXISTS);
    cr_assert_eq(store_delete(s, S("k"), c, T0), STORE_OK);
    cr_assert_not(has(s, "k", NULL, T0));
    cr_assert_eq(store_delete(s, S("k"), 0, T0), STORE_NOT_FOUND);
    struct store_stats st = stats_of(s);
    cr_assert_eq(st.delete_hits, 1);
    cr_assert_eq(st.delete_misses, 2);
    cr_assert_eq(st.curr_items, 0);
    cr_assert_eq(st.bytes, 0);
}

/* ---- incr/decr ---- */

static enum store_status
arith(const char *k, bool incr, uint64_t d, uint64_t *v)
{
    return store_arith(s, S(k), incr, d, 0, T0, v, NULL);
}

Test(store_store, incr_decr_basics)
{
    uint64_t v;

    cr_assert_eq(arith("n", true, 1, &v), STORE_NOT_FOUND);
    cr_assert_eq(put(s, "n", "5", 0, T0), STORE_OK);
    cr_assert_eq(arith("n", true, 3, &v), STORE_OK);
    cr_assert_eq(v, 8);
    cr_assert(has(s, "n", "8", T0));
    cr_assert_eq(arith("n", false, 100, &v), STORE_OK);
    cr_assert_eq(v, 0, "decr stops at 0");
    cr_assert(has(s, "n", "0", T0));
    struct store_stats st = stats_of(s);
    cr_assert_eq(st.incr_hits, 1);
    cr_assert_eq(st.incr_misses, 1);
    cr_assert_eq(st.decr_hits, 1);
}

Test(store_store, incr_wraps_at_u64_max)
{
    uint64_t v;

    cr_assert_eq(put(s, "n", "18446744073709551615", 0, T0), STORE_OK);
    cr_assert_eq(arith("n", true, 1, &v), STORE_OK);
    cr_assert_eq(v, 0);
    cr_assert(has(s, "n", "0                   ", T0),
        "shorter result padded in place to the old length, as memcached");
    cr_assert_eq(put(s, "m", "18446744073709551614", 0, T0), STORE_OK);
    cr_assert_eq(arith("m", true, 1, &v), STORE_OK);
    cr_assert_eq(v, UINT64_MAX);
    cr_assert_eq(arith("m", false, UINT64_MAX, &v), STORE_OK);
    cr_assert_eq(v, 0);
}

Test(store_store, incr_length_changes)
{
    uint64_t v;
    uint64_t c0 = 0;
    uint64_t c1 = 0;
    struct item *it;

    cr_assert_eq(store_set(s, STORE_SET, S("n"), 3, 0, S("10"), 0, T0, &c0),
        STORE_OK);
    cr_assert_eq(store_arith(s, S("n"), false, 1, 0, T0, &v, &c1), STORE_OK);
    cr_assert(has(s, "n", "9 ", T0));
    cr_assert_gt(c1, c0, "an in-place update gets a new unique");
    cr_assert_eq(put(s, "n", "99", 0, T0), STORE_OK);
    cr_assert_eq(arith("n", true, 1, &v), STORE_OK);
    cr_assert(has(s, "n", "100", T0), "a longer result gets a new item");
    /* While a reader holds the item, incr must not write under it. */
    cr_assert_eq(store_get(s, S("n"), T0, &it), STORE_OK);
    cr_assert_eq(arith("n", false, 95, &v), STORE_OK);
    cr_assert_eq(memcmp(item_value(it), "100", 3), 0);
    item_unref(s, it);
    cr_assert(has(s, "n", "5", T0));
}

Test(store_store, incr_non_numeric)
{
    static const char *bad[] = {
        "", "abc", "12abc", "-1", "-", " ", "0x10",
        "18446744073709551616", "99999999999999999999999",
    };
    static const char *good[] = {
        " 12", "1 x", "-0", "+4", "7\n", "000000000000000000000000000000041",
    };
    uint64_t v;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cr_assert_eq(put(s, "n", bad[i], 0, T0), STORE_OK);
        cr_assert_eq(arith("n", true, 1, &v), STORE_NON_NUMERIC,
            "'%s' is not a number", bad[i]);
        cr_assert(has(s, "n", bad[i], T0), "value unchanged");
    }
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        cr_assert_eq(put(s, "n", good[i], 0, T0), STORE_OK);
        cr_assert_eq(arith("n", true, 1, &v), STORE_OK,
            "'%s' is a number to memcached", good[i]);
    }
    cr_assert_eq(v, 42);
}

Test(store_store, arith_with_cas)
{
    uint64_t c;
    uint64_t v;

    cr_assert_eq(store_set(s, STORE_SET, S("n"), 0, 0, S("1"), 0, T0, &c),
        STORE_OK);
    cr_assert_eq(store_arith(s, S("n"), true, 1, c + 1, T0, &v, NULL),
        STORE_EXISTS);
    cr_assert_eq(store_arith(s, S("n"), true, 1, c, T0, &v, NULL), STORE_OK);
    cr_assert_eq(v, 2);
}

/* ---- flush_all ---- */

Test(store_store, flush_all_now)
{
    cr_assert_eq(put(s, "a", "1", 0, T0), STORE_OK);
    cr_assert_eq(put(s, "b", "2", 0, T0), STORE_OK);
    store_flush(s, 0, T0);
    cr_assert_not(has(s, "a", NULL, T0));
    cr_assert_eq(put(s, "c", "3", 0, T0), STORE_OK);
    cr_assert(has(s, "c", "3", T0), "items stored after the flush live");
    cr_assert_not(has(s, "b", NULL, T0));
    cr_assert_eq(stats_of(s).get_flushed, 2);
}

Test(store_store, flush_all_with_delay)
{
    cr_assert_eq(put(s, "a", "1", 0, T0), STORE_OK);
    store_flush(s, 10, T0);
    cr_assert_eq(put(s, "b", "2", 0, T0 + 5), STORE_OK);
    cr_assert(has(s, "a", "1", T0 + 9), "not yet");
    cr_assert(has(s, "b", "2", T0 + 9));
    cr_assert_not(has(s, "a", NULL, T0 + 10), "stored before the flush time");
    cr_assert_not(has(s, "b", NULL, T0 + 10));
    cr_assert_eq(put(s, "c", "3", 0, T0 + 10), STORE_OK);
    cr_assert(has(s, "c", "3", T0 + 11), "stored at/after the flush time");
}

Test(store_store, later_flush_replaces_pending_one)
{
    cr_assert_eq(put(s, "a", "1", 0, T0), STORE_OK);
    store_flush(s, 100, T0);
    store_flush(s, 10, T0);
    cr_assert_not(has(s, "a", NULL, T0 + 10));
}

/* ---- item size ---- */

Test(store_store, item_exactly_at_size_limit)
{
    size_t hdr = stats_of(s).item_header_bytes;
    size_t vlen = ((size_t)1 << 20) - hdr - 3;
    char *v = malloc(vlen + 2);
    struct item *it;

    memset(v, 'x', vlen + 1);
    v[vlen] = '\0';
    cr_assert_eq(put(s, "big", v, 0, T0), STORE_OK);
    cr_assert(has(s, "big", v, T0));
    v[vlen] = 'x';
    v[vlen + 1] = '\0';
    cr_assert_eq(put(s, "big", v, 0, T0), STORE_TOO_LARGE,
        "one byte over the limit");
    cr_assert(has(s, "big", NULL, T0), "the old item stays");
    cr_assert_eq(store_alloc(s, S("k"), 0, 0, (size_t)1 << 40, T0, &it),
        STORE_TOO_LARGE);
    free(v);
}

/* ---- references ---- */

Test(store_store, reference_keeps_replaced_item_alive)
{
    struct item *old;
    char v[64];

    cr_assert_eq(put(s, "k", "original", 0, T0), STORE_OK);
    cr_assert_eq(store_get(s, S("k"), T0, &old), STORE_OK);
    cr_assert_eq(put(s, "k", "replaced", 0, T0), STORE_OK);
    cr_assert_eq(store_delete(s, S("k"), 0, T0), STORE_OK);
    /* Churn the same class so a freed chunk would be reused. */
    for (int i = 0; i < 2000; i++) {
        snprintf(v, sizeof(v), "value-%06d", i);
        cr_assert_eq(put(s, v, v, 0, T0), STORE_OK);
    }
    cr_assert_eq(memcmp(item_value(old), "original", 8), 0);
    cr_assert(str_eq(item_key(old), S("k")));
    item_unref(s, old);
    cr_assert_not(has(s, "k", NULL, T0));
}

Test(store_store, alloc_then_link_zero_copy)
{
    struct item *it;
    uint64_t cas;

    cr_assert_eq(store_alloc(s, S("k"), 5, 0, 3, T0, &it), STORE_OK);
    memcpy(item_value_mut(it), "abc", 3);
    cr_assert_not(has(s, "k", NULL, T0), "invisible until linked");
    cr_assert_eq(store_link(s, it, STORE_SET, 0, T0, &cas), STORE_OK);
    cr_assert(has(s, "k", "abc", T0));
    /* An item that is never linked is just dropped. */
    cr_assert_eq(store_alloc(s, S("j"), 5, 0, 3, T0, &it), STORE_OK);
    item_unref(s, it);
    cr_assert_not(has(s, "j", NULL, T0));
    cr_assert_eq(store_alloc(s, S("j"), 5, 0, 3, T0, &it), STORE_OK);
    memcpy(item_value_mut(it), "xyz", 3);
    cr_assert_eq(store_link(s, it, STORE_REPLACE, 0, T0, NULL),
        STORE_NOT_STORED);
}

Test(store_store, status_strings)
{
    cr_assert_str_eq(store_status_str(STORE_NOT_FOUND), "not found");
    cr_assert_str_eq(store_status_str(STORE_TOO_LARGE),
        "object too large for cache");
    cr_assert_str_eq(store_status_str(STORE_ENOMEM), "out of memory");
}

Test(store_store, bad_config_is_refused)
{
    struct store_config c;

    store_config_init(&c);
    c.growth_factor = 1.0;
    cr_assert_null(store_create(&c));
    store_config_init(&c);
    c.item_size_max = 100;
    cr_assert_null(store_create(&c));
    store_config_init(&c);
    c.lock_power = 12;
    c.hash_power = 8;
    cr_assert_null(store_create(&c));
    store_destroy(NULL);
}
