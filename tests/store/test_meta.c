/* Tests for the meta-command helpers: mg's vivify/recache/stale flags,
 * md's invalidate mode and ms's stale CAS mode. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include "store/store.h"

#include "helpers.h"

STORE_SUITE(store_meta);

static enum store_status
mg(const char *k, const struct store_mget_opts *o, uint32_t now,
    struct store_mget_res *r)
{
    struct item *it;
    enum store_status rc = store_mget(s, S(k), o, now, &it, r);

    if (rc == STORE_OK) {
        item_unref(s, it);
    }
    return rc;
}

Test(store_meta, plain_mget_and_hit_before)
{
    struct store_mget_opts o = { 0 };
    struct store_mget_res r;

    cr_assert_eq(mg("k", &o, T0, &r), STORE_NOT_FOUND);
    cr_assert_eq(put(s, "k", "v", 0, T0), STORE_OK);
    cr_assert_eq(mg("k", &o, T0, &r), STORE_OK);
    cr_assert_not(r.hit_before, "h shows the state before this fetch");
    cr_assert_not(r.win || r.stale || r.token_sent);
    cr_assert_eq(mg("k", &o, T0, &r), STORE_OK);
    cr_assert(r.hit_before);
}

Test(store_meta, no_bump_leaves_item_unfetched)
{
    struct store_mget_opts o = { .no_bump = true };
    struct store_mget_res r;

    cr_assert_eq(put(s, "k", "v", 0, T0), STORE_OK);
    cr_assert_eq(mg("k", &o, T0, &r), STORE_OK);
    cr_assert_eq(mg("k", &o, T0, &r), STORE_OK);
    cr_assert_not(r.hit_before);
}

Test(store_meta, touch_sets_ttl)
{
    struct store_mget_opts o = { .touch = true, .touch_ttl = 100 };
    struct store_mget_res r;
    struct item *it;

    cr_assert_eq(put(s, "k", "v", 10, T0), STORE_OK);
    cr_assert_eq(store_mget(s, S("k"), &o, T0, &it, &r), STORE_OK);
    cr_assert_eq(item_exptime(it), T0 + 100);
    item_unref(s, it);
    cr_assert(has(s, "k", "v", T0 + 50));
    cr_assert_eq(stats_of(s).touch_hits, 1);
}

Test(store_meta, vivify_on_miss_wins_once)
{
    struct store_mget_opts o = { .vivify = true, .vivify_ttl = 30 };
    struct store_mget_res r;
    struct item *it;

    cr_assert_eq(store_mget(s, S("k"), &o, T0, &it, &r), STORE_OK);
    cr_assert(r.win, "the first client wins");
    cr_assert(r.vivified);
    cr_assert_not(r.token_sent);
    cr_assert_eq(item_value_len(it), 0);
    cr_assert_eq(item_exptime(it), T0 + 30);
    item_unref(s, it);
    cr_assert_eq(mg("k", &o, T0, &r), STORE_OK);
    cr_assert_not(r.win);
    cr_assert_not(r.vivified);
    cr_assert(r.token_sent, "later clients see Z");
    /* The winner stores the real value: a fresh item, no token. */
    cr_assert_eq(put(s, "k", "real", 0, T0), STORE_OK);
    cr_assert_eq(mg("k", &o, T0, &r), STORE_OK);
    cr_assert_not(r.win || r.token_sent);
    cr_assert_eq(mg("gone", &o, T0 + 31, &r), STORE_OK);
    cr_assert_eq(mg("gone", &o, T0 + 61, &r), STORE_OK);
    cr_assert(r.win, "an expired stub is vivified again");
}

Test(store_meta, recache_wins_near_expiry)
{
    struct store_mget_opts o = { .recache = true, .recache_ttl = 30 };
    struct store_mget_res r;

    cr_assert_eq(put(s, "k", "v", 100, T0), STORE_OK);
    cr_assert_eq(mg("k", &o, T0, &r), STORE_OK);
    cr_assert_not(r.win, "100 s left is not below 30");
    cr_assert_eq(mg("k", &o, T0 + 71, &r), STORE_OK);
    cr_assert(r.win, "29 s left");
    cr_assert_eq(mg("k", &o, T0 + 72, &r), STORE_OK);
    cr_assert_not(r.win);
    cr_assert(r.token_sent);
    cr_assert_eq(put(s, "n", "v", 0, T0), STORE_OK);
    cr_assert_eq(mg("n", &o, T0, &r), STORE_OK);
    cr_assert_not(r.win, "no expiry, nothing to recache");
}

Test(store_meta, invalidate_marks_stale_and_next_fetch_wins)
{
    struct store_mget_opts o = { 0 };
    struct store_mget_res r;
    uint64_t c0 = 0;

    cr_assert_eq(store_invalidate(s, S("k"), 0, false, 0, T0),
        STORE_NOT_FOUND);
    cr_assert_eq(store_set(s, STORE_SET, S("k"), 0, 0, S("v"), 0, T0, &c0),
        STORE_OK);
    cr_assert_eq(store_invalidate(s, S("k"), c0 + 1, false, 0, T0),
        STORE_EXISTS);
    cr_assert_eq(store_invalidate(s, S("k"), c0, true, 30, T0), STORE_OK);
    cr_assert_gt(cas_of(s, "k", T0), c0, "invalidate bumps the CAS");
    cr_assert_eq(mg("k", &o, T0, &r), STORE_OK);
    cr_assert(r.stale);
    cr_assert(r.win, "first fetch of a stale item wins");
    cr_assert_eq(mg("k", &o, T0, &r), STORE_OK);
    cr_assert(r.stale && r.token_sent && !r.win);
    cr_assert_not(has(s, "k", NULL, T0 + 30), "the new TTL applies");
}

Test(store_meta, stale_cas_set_from_older_writer)
{
    struct store_mget_opts o = { 0 };
    struct store_mget_res r;
    uint64_t c1 = 0;
    uint64_t c2 = 0;

    cr_assert_eq(store_set(s, STORE_SET, S("k"), 0, 50, S("v1"), 0, T0,
        &c1), STORE_OK);
    cr_assert_eq(store_set(s, STORE_SET, S("k"), 0, 50, S("v2"), 0, T0,
        &c2), STORE_OK);
    cr_assert_eq(store_set(s, STORE_CAS_STALE, S("k"), 0, 0, S("old"), c2 + 5,
        T0, NULL), STORE_EXISTS, "a newer unique than the item's fails");
    cr_assert_eq(store_set(s, STORE_CAS_STALE, S("k"), 0, 0, S("old"), c1,
        T0, NULL), STORE_OK, "an older unique stores, as stale");
    cr_assert_eq(mg("k", &o, T0, &r), STORE_OK);
    cr_assert(r.stale);
    cr_assert(has(s, "k", "old", T0 + 49), "the old expiry is kept");
    cr_assert_not(has(s, "k", NULL, T0 + 50));
    cr_assert_eq(store_set(s, STORE_CAS_STALE, S("n"), 0, 0, S("x"), 1, T0,
        NULL), STORE_NOT_FOUND);
    cr_assert_eq(store_set(s, STORE_SET, S("n"), 0, 0, S("x"), 0, T0, &c1),
        STORE_OK);
    cr_assert_eq(store_set(s, STORE_CAS_STALE, S("n"), 0, 0, S("y"), c1, T0,
        NULL), STORE_OK);
    cr_assert_eq(mg("n", &o, T0, &r), STORE_OK);
    cr_assert_not(r.stale, "a matching unique is an ordinary cas");
}

Test(store_meta, vivify_out_of_memory_is_a_status)
{
    struct store_config c;
    struct store *t;
    struct store_mget_opts o = { .vivify = true, .vivify_ttl = 30 };
    struct store_mget_res r;
    struct store_class_stats cs;
    struct item *it;
    char k[16];

    /* -M and full: nothing may be evicted for the new item. */
    store_config_init(&c);
    c.mem_limit = (size_t)2 << 20;
    c.item_size_max = 1024;
    c.no_evict = true;
    t = store_create(&c);
    cr_assert_not_null(t);
    cr_assert(store_class_stats(t, 0, &cs));
    for (uint64_t i = 0; i < 2 * cs.chunks_per_page; i++) {
        snprintf(k, sizeof(k), "k%06d", (int)i);
        cr_assert_eq(put(t, k, "v", 0, T0), STORE_OK);
    }
    cr_assert_eq(store_mget(t, S("new"), &o, T0, &it, &r), STORE_ENOMEM);
    cr_assert_not(r.win);
    store_destroy(t);
}

Test(store_meta, vivified_item_counts_as_fetched)
{
    struct store_mget_opts o = { .vivify = true, .vivify_ttl = 30 };
    struct store_mget_opts peek = { .no_bump = true };
    struct store_mget_res r;

    cr_assert_eq(mg("a", &o, T0, &r), STORE_OK);
    cr_assert_eq(mg("a", &peek, T0, &r), STORE_OK);
    cr_assert(r.hit_before, "memcached bumps a vivified item");
    o.no_bump = true;
    cr_assert_eq(mg("b", &o, T0, &r), STORE_OK);
    cr_assert_eq(mg("b", &peek, T0, &r), STORE_OK);
    cr_assert_not(r.hit_before);
}

Test(store_meta, recache_sees_touch_only_when_it_came_first)
{
    struct store_mget_opts o = {
        .touch = true, .touch_ttl = 5, .recache = true, .recache_ttl = 30,
    };
    struct store_mget_res r;

    cr_assert_eq(put(s, "a", "v", 0, T0), STORE_OK);
    cr_assert_eq(mg("a", &o, T0, &r), STORE_OK);
    cr_assert_not(r.win, "R saw no expiry, then T set one");
    cr_assert_eq(put(s, "b", "v", 0, T0), STORE_OK);
    o.touch_first = true;
    cr_assert_eq(mg("b", &o, T0, &r), STORE_OK);
    cr_assert(r.win, "T then R: 5 s left is below 30");
}

Test(store_meta, peek_changes_nothing)
{
    struct store_mget_opts o = { .no_bump = true };
    struct store_mget_res r;
    uint32_t e = 1;

    cr_assert_eq(store_peek(s, S("k"), T0, &e), STORE_NOT_FOUND);
    cr_assert_eq(put(s, "k", "v", 100, T0), STORE_OK);
    cr_assert_eq(store_invalidate(s, S("k"), 0, false, 0, T0), STORE_OK);
    cr_assert_eq(store_peek(s, S("k"), T0, &e), STORE_OK);
    cr_assert_eq(e, T0 + 100);
    cr_assert_eq(mg("k", &o, T0, &r), STORE_OK);
    cr_assert(r.win, "the peek took no win token");
    cr_assert_not(r.hit_before, "nor bumped");
}

Test(store_meta, incr_does_not_count_as_a_fetch)
{
    struct store_mget_opts peek = { .no_bump = true };
    struct store_mget_res r;
    uint64_t v;

    cr_assert_eq(put(s, "n", "7", 0, T0), STORE_OK);
    cr_assert_eq(store_arith(s, S("n"), true, 1, 0, T0, &v, NULL), STORE_OK);
    cr_assert_eq(mg("n", &peek, T0, &r), STORE_OK);
    cr_assert_not(r.hit_before, "in place");
    cr_assert_eq(store_arith(s, S("n"), true, 100, 0, T0, &v, NULL),
        STORE_OK);
    cr_assert_eq(mg("n", &peek, T0, &r), STORE_OK);
    cr_assert_not(r.hit_before, "grown into a new item");
}

Test(store_meta, set_exptime_changes_only_the_expiry)
{
    struct store_mget_opts peek = { .no_bump = true };
    struct store_mget_res r;
    uint32_t e;

    cr_assert_eq(store_set_exptime(s, S("k"), 5, T0), STORE_NOT_FOUND);
    cr_assert_eq(put(s, "k", "v", 0, T0), STORE_OK);
    cr_assert_eq(store_set_exptime(s, S("k"), 5, T0), STORE_OK);
    cr_assert_eq(store_peek(s, S("k"), T0, &e), STORE_OK);
    cr_assert_eq(e, T0 + 5);
    cr_assert_eq(mg("k", &peek, T0, &r), STORE_OK);
    cr_assert_not(r.hit_before);
}

Test(store_meta, no_win_only_looks)
{
    struct store_mget_opts look = { .no_bump = true, .no_win = true };
    struct store_mget_opts o = { 0 };
    struct store_mget_res r;

    cr_assert_eq(put(s, "k", "v", 0, T0), STORE_OK);
    cr_assert_eq(store_invalidate(s, S("k"), 0, false, 0, T0), STORE_OK);
    cr_assert_eq(mg("k", &look, T0, &r), STORE_OK);
    cr_assert(r.stale);
    cr_assert_not(r.win);
    cr_assert_eq(mg("k", &o, T0, &r), STORE_OK);
    cr_assert(r.win, "still there for the next mg");
}

Test(store_meta, empty_value_is_non_numeric_before_cas)
{
    uint64_t v;

    cr_assert_eq(put(s, "e", "", 0, T0), STORE_OK);
    cr_assert_eq(store_arith(s, S("e"), true, 1, 12345, T0, &v, NULL),
        STORE_NON_NUMERIC);
    cr_assert_eq(put(s, "n", "1", 0, T0), STORE_OK);
    cr_assert_eq(store_arith(s, S("n"), true, 1, 12345, T0, &v, NULL),
        STORE_EXISTS);
}
