/* Tests for memory management: slab classes, CLOCK eviction order, out of
 * memory as a status, the expiry sweep, page rebalancing after a workload
 * shift, and incremental hash table growth. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

#include "helpers.h"

static char *
key_n(char *buf, int i)
{
    snprintf(buf, 32, "k%02d", i);
    return buf;
}

Test(store_slab, ladder_follows_memcached)
{
    struct store *s = mkstore((size_t)64 << 20, (size_t)1 << 20);
    struct store_class_stats cs;
    static const uint64_t want[] = { 96, 120, 152, 192, 240, 304, 384 };
    unsigned n = store_nclasses(s);

    for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        cr_assert(store_class_stats(s, i, &cs));
        cr_assert_eq(cs.chunk_size, want[i]);
        cr_assert_eq(cs.chunks_per_page, ((uint64_t)1 << 20) / want[i]);
        cr_assert_eq(cs.id, i + 1);
    }
    cr_assert(store_class_stats(s, n - 1, &cs));
    cr_assert_eq(cs.chunk_size, (uint64_t)1 << 20, "largest = page");
    cr_assert_not(store_class_stats(s, n, &cs));
    cr_assert_eq(stats_of(s).limit_maxbytes, (uint64_t)64 << 20);
    cr_assert_leq(stats_of(s).item_header_bytes, 56,
        "per-item overhead no more than memcached's 48 + 8");
    store_destroy(s);
}

Test(store_slab, clock_eviction_order)
{
    /* One 1 KiB page: 10 chunks of 96 bytes. */
    struct store *s = mkstore(1024, 1024);
    char k[32];

    for (int i = 0; i < 10; i++) {
        cr_assert_eq(put(s, key_n(k, i), "v", 0, T0), STORE_OK);
    }
    cr_assert_eq(stats_of(s).evictions, 0);
    cr_assert(has(s, "k00", "v", T0));
    cr_assert(has(s, "k03", "v", T0));
    for (int i = 10; i < 13; i++) {
        cr_assert_eq(put(s, key_n(k, i), "v", 0, T0), STORE_OK);
    }
    /* The recently read k00 and k03 got a second chance. */
    cr_assert(has(s, "k00", "v", T0));
    cr_assert(has(s, "k03", "v", T0));
    cr_assert_not(has(s, "k01", NULL, T0));
    cr_assert_not(has(s, "k02", NULL, T0));
    cr_assert_not(has(s, "k04", NULL, T0));
    for (int i = 5; i < 13; i++) {
        cr_assert(has(s, key_n(k, i), "v", T0), "%s survives", k);
    }
    struct store_stats st = stats_of(s);
    cr_assert_eq(st.evictions, 3);
    cr_assert_eq(st.evicted_unfetched, 3);
    cr_assert_eq(st.curr_items, 10);
    struct store_class_stats cs = class_for_size(s, 40);
    cr_assert_eq(cs.evicted, 3);
    cr_assert_eq(cs.total_pages, 1);
    cr_assert_eq(cs.used_chunks, 10);
    cr_assert_eq(cs.free_chunks, 0);
    store_destroy(s);
}

Test(store_slab, expired_items_are_reused_first)
{
    struct store *s = mkstore(1024, 1024);
    char k[32];

    for (int i = 0; i < 10; i++) {
        cr_assert_eq(put(s, key_n(k, i), "v", i == 7 ? 5 : 0, T0), STORE_OK);
        cr_assert(has(s, k, "v", T0));  /* everyone's bit is set */
    }
    cr_assert_eq(put(s, "new", "v", 0, T0 + 5), STORE_OK);
    cr_assert_not(has(s, "k07", NULL, T0 + 5));
    cr_assert_eq(stats_of(s).reclaimed, 1);
    cr_assert_eq(stats_of(s).evictions, 0);
    store_destroy(s);
}

Test(store_slab, out_of_memory_is_a_status)
{
    struct store *s = mkstore(1024, 1024);
    struct item *held[10];
    char k[32];
    char big[300];

    for (int i = 0; i < 10; i++) {
        cr_assert_eq(put(s, key_n(k, i), "v", 0, T0), STORE_OK);
        cr_assert_eq(store_get(s, S(k), T0, &held[i]), STORE_OK);
    }
    /* Every item is held by a reader: nothing can be evicted. */
    cr_assert_eq(put(s, "more", "v", 0, T0), STORE_ENOMEM);
    memset(big, 'b', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    cr_assert_eq(put(s, "big", big, 0, T0), STORE_ENOMEM,
        "a class without pages, and no page left");
    cr_assert_geq(stats_of(s).outofmemory, 2);
    for (int i = 0; i < 10; i++) {
        item_unref(s, held[i]);
    }
    cr_assert_eq(put(s, "more", "v", 0, T0), STORE_OK);
    store_destroy(s);
}

Test(store_slab, sweep_reclaims_expired_without_traffic)
{
    struct store *s = mkstore((size_t)4 << 20, (size_t)1 << 20);
    char k[32];

    for (int i = 0; i < 1000; i++) {
        snprintf(k, sizeof(k), "key-%d", i);
        cr_assert_eq(put(s, k, "some value", i < 600 ? 10 : 0, T0),
            STORE_OK);
    }
    cr_assert_eq(stats_of(s).curr_items, 1000);
    store_maintain(s, T0 + 9, 100000);
    cr_assert_eq(stats_of(s).curr_items, 1000, "nothing expired yet");
    for (int i = 0; i < 100 && store_maintain(s, T0 + 10, 100); i++) {
    }
    store_maintain(s, T0 + 10, 100000);
    struct store_stats st = stats_of(s);
    cr_assert_eq(st.curr_items, 400);
    cr_assert_eq(st.crawler_reclaimed, 600);
    cr_assert_eq(st.expired_unfetched, 600);
    struct store_class_stats cs = class_for_size(s, 60);
    cr_assert_eq(cs.used_chunks, 400);
    store_destroy(s);
}

static char small[101];   /* a 100-byte value */
static char large[10241]; /* a 10 KiB value */

/* Make the values; fill `s` with small-%09d keys until the first
 * eviction. Returns the number of keys stored. */
static int
fill_small(struct store *s)
{
    char k[32];
    int n;

    memset(small, 's', 100);
    memset(large, 'L', 10240);
    for (n = 0; stats_of(s).evictions == 0; n++) {
        snprintf(k, sizeof(k), "small-%09d", n);
        cr_assert_eq(put(s, k, small, 0, T0), STORE_OK);
    }
    return n;
}

/* Pages of one class, found by chunk size. */
static uint64_t
pages_of(struct store *s, size_t total)
{
    return class_for_size(s, total).total_pages;
}

Test(store_slab, rebalancing_after_workload_shift)
{
    /* 8 pages of 1 MiB, filled with 100-byte values. */
    struct store *s = mkstore((size_t)8 << 20, (size_t)1 << 20);
    static char huge[50 * 1024 + 1];
    char k[32];
    struct item *held;
    int ok = 0;
    int n = fill_small(s);

    memset(huge, 'H', sizeof(huge) - 1);
    snprintf(k, sizeof(k), "small-%09d", n - 1);
    cr_assert_eq(pages_of(s, 150), 8, "all memory in the small class");
    cr_assert_eq(store_get(s, S(k), T0, &held), STORE_OK);
    /* The shift: only 50 KiB values from now on. Without a page the
     * large class cannot store anything... */
    cr_assert_eq(put(s, "large-first", huge, 0, T0), STORE_ENOMEM);
    /* ...until the maintenance step moves pages over: one round is the
     * node's timer tick with a second passing. */
    for (int r = 0; r < 20; r++) {
        ok = 0;
        for (int i = 0; i < 40; i++) {
            snprintf(k, sizeof(k), "large-%d-%d", r, i);
            ok += put(s, k, huge, 0, T0 + r) == STORE_OK;
        }
        store_maintain(s, T0 + r, 1000);
        store_maintain(s, T0 + r, 1000);
    }
    cr_assert_eq(ok, 40, "the cache accepts large values after the shift");
    cr_assert_geq(pages_of(s, 51300), 6);
    cr_assert_leq(pages_of(s, 150), 2);
    struct store_stats st = stats_of(s);
    cr_assert_geq(st.slabs_moved, 6);
    cr_assert_gt(st.slab_reassign_evictions, 0);
    cr_assert_eq(memcmp(item_value(held), small, 100), 0,
        "a held item outlives the page move");
    item_unref(s, held);
    store_destroy(s);
}

Test(store_slab, evicting_moves_are_paced)
{
    struct store *s = mkstore((size_t)4 << 20, (size_t)64 << 10);
    char k[32];

    fill_small(s);
    /* Give the large class its first page (it was starved)... */
    cr_assert_eq(put(s, "large", large, 0, T0), STORE_ENOMEM);
    store_maintain(s, T0, 1000);
    cr_assert_eq(stats_of(s).slabs_moved, 1);
    /* ...then it only evicts: more pages come once per second. */
    for (int r = 0; r < 10; r++) {
        for (int i = 0; i < 20; i++) {
            snprintf(k, sizeof(k), "large-%d-%d", r, i);
            cr_assert_eq(put(s, k, large, 0, T0), STORE_OK);
        }
        store_maintain(s, T0, 1000);
    }
    cr_assert_eq(stats_of(s).slabs_moved, 1, "same second, no new move");
    store_maintain(s, T0 + 1, 1000);
    cr_assert_eq(stats_of(s).slabs_moved, 2);
    store_destroy(s);
}

Test(store_slab, free_page_moves_without_eviction)
{
    struct store *s = mkstore((size_t)256 << 10, (size_t)64 << 10);
    char k[32];
    int n = fill_small(s);

    for (int i = 0; i < n; i++) {
        snprintf(k, sizeof(k), "small-%09d", i);
        store_delete(s, S(k), 0, T0);
    }
    cr_assert_eq(put(s, "large", large, 0, T0), STORE_ENOMEM);
    store_maintain(s, T0, 1000);
    cr_assert_eq(put(s, "large", large, 0, T0), STORE_OK);
    cr_assert_eq(stats_of(s).slab_reassign_evictions, 0,
        "an empty page moves without evicting anything");
    store_destroy(s);
}

Test(store_slab, page_move_rescues_items_into_free_chunks)
{
    struct store *s = mkstore((size_t)256 << 10, (size_t)64 << 10);
    char k[32];
    int kept = 0;
    int n = fill_small(s);

    /* Free 60% of the chunks, spread over every page. */
    for (int i = 0; i < n; i++) {
        snprintf(k, sizeof(k), "small-%09d", i);
        if (i % 5 < 3) {
            store_delete(s, S(k), 0, T0);
        } else {
            kept += has(s, k, small, T0);
        }
    }
    cr_assert_eq(put(s, "large", large, 0, T0), STORE_ENOMEM);
    for (int r = 0; r < 4; r++) {
        store_maintain(s, T0 + r, 100000);
    }
    cr_assert_eq(put(s, "large", large, 0, T0), STORE_OK);
    struct store_stats st = stats_of(s);
    cr_assert_gt(st.slab_reassign_rescues, 0);
    cr_assert_eq(st.slab_reassign_evictions, 0, "nothing lost");
    for (int i = 0; i < n; i++) {
        snprintf(k, sizeof(k), "small-%09d", i);
        if (i % 5 >= 3) {
            kept -= has(s, k, small, T0);
        }
    }
    cr_assert_eq(kept, 0, "every kept item is still there after the move");
    store_destroy(s);
}

Test(store_slab, hash_grows_incrementally)
{
    struct store_config c;
    struct store *s;
    char k[32];
    bool saw_expanding = false;

    store_config_init(&c);
    c.hash_power = 4;
    c.lock_power = 2;
    s = store_create(&c);
    cr_assert_not_null(s);
    for (int i = 0; i < 20000; i++) {
        snprintf(k, sizeof(k), "key-%d", i);
        cr_assert_eq(put(s, k, k, 0, T0), STORE_OK);
        saw_expanding |= stats_of(s).hash_is_expanding;
        snprintf(k, sizeof(k), "key-%d", i / 2);
        cr_assert(has(s, k, k, T0), "%s findable while growing", k);
    }
    for (int i = 0; i < 20000; i++) {
        snprintf(k, sizeof(k), "key-%d", i);
        cr_assert(has(s, k, k, T0));
    }
    cr_assert(saw_expanding);
    while (store_maintain(s, T0, 1000)) {
    }
    struct store_stats st = stats_of(s);
    cr_assert_geq(st.hash_power_level, 14);
    cr_assert_not(st.hash_is_expanding);
    cr_assert_eq(st.curr_items, 20000);
    store_destroy(s);
}
