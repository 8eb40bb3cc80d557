/* Tests for memory management: slab classes, CLOCK eviction order, out of
 * memory as a status, the expiry sweep, page rebalancing after a workload
 * shift, and incremental hash table growth. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

#include "helpers.h"

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
    cr_assert_eq(cs.chunk_size, (uint64_t)512 << 10,
        "largest = slab_chunk_max, half a page");
    cr_assert_eq(cs.chunks_per_page, 2);
    cr_assert_not(store_class_stats(s, n, &cs));
    cr_assert_eq(stats_of(s).limit_maxbytes, (uint64_t)64 << 20);
    cr_assert_leq(stats_of(s).item_header_bytes, 56,
        "per-item overhead no more than memcached's 48 + 8");
    store_destroy(s);
}

/* Keys of the smallest class that fill a 2 MiB store (two pages). */
static int
two_pages(struct store *s)
{
    return (int)(2 * class_for_size(s, 40).chunks_per_page);
}

static char *
key_big(char *buf, int i)
{
    snprintf(buf, 32, "k%06d", i);
    return buf;
}

Test(store_slab, clock_eviction_order)
{
    struct store *s = mkstore((size_t)2 << 20, 1024);
    char k[32];
    int n = two_pages(s);

    for (int i = 0; i < n; i++) {
        cr_assert_eq(put(s, key_big(k, i), "v", 0, T0), STORE_OK);
    }
    cr_assert_eq(stats_of(s).evictions, 0);
    cr_assert(has(s, "k000000", "v", T0));
    cr_assert(has(s, "k000003", "v", T0));
    for (int i = n; i < n + 3; i++) {
        cr_assert_eq(put(s, key_big(k, i), "v", 0, T0), STORE_OK);
    }
    /* The recently read k0 and k3 got a second chance. */
    cr_assert(has(s, "k000000", "v", T0));
    cr_assert(has(s, "k000003", "v", T0));
    cr_assert_not(has(s, "k000001", NULL, T0));
    cr_assert_not(has(s, "k000002", NULL, T0));
    cr_assert_not(has(s, "k000004", NULL, T0));
    for (int i = 5; i < n + 3; i++) {
        cr_assert(has(s, key_big(k, i), "v", T0), "%s survives", k);
    }
    struct store_stats st = stats_of(s);
    cr_assert_eq(st.evictions, 3);
    cr_assert_eq(st.evicted_unfetched, 3);
    cr_assert_eq(st.curr_items, (uint64_t)n);
    struct store_class_stats cs = class_for_size(s, 40);
    cr_assert_eq(cs.evicted, 3);
    cr_assert_eq(cs.total_pages, 2);
    cr_assert_eq(cs.used_chunks, (uint64_t)n);
    cr_assert_eq(cs.free_chunks, 0);
    store_destroy(s);
}

Test(store_slab, expired_items_are_reused_first)
{
    struct store *s = mkstore((size_t)2 << 20, 1024);
    char k[32];
    int n = two_pages(s);

    for (int i = 0; i < n; i++) {
        cr_assert_eq(put(s, key_big(k, i), "v", i == 7 ? 5 : 0, T0),
            STORE_OK);
        cr_assert(has(s, k, "v", T0));  /* everyone's bit is set */
    }
    cr_assert_eq(put(s, "new", "v", 0, T0 + 5), STORE_OK);
    cr_assert_not(has(s, "k000007", NULL, T0 + 5));
    cr_assert_eq(stats_of(s).reclaimed, 1);
    cr_assert_eq(stats_of(s).evictions, 0);
    store_destroy(s);
}

Test(store_slab, out_of_memory_is_a_status)
{
    struct store *s = mkstore((size_t)2 << 20, 1024);
    int n = two_pages(s);
    struct item **held = calloc((size_t)n, sizeof(*held));
    char k[32];

    for (int i = 0; i < n; i++) {
        cr_assert_eq(put(s, key_big(k, i), "v", 0, T0), STORE_OK);
        cr_assert_eq(store_get(s, S(k), T0, &held[i]), STORE_OK);
    }
    /* Every item is held by a reader: nothing can be evicted, and no
     * page can be emptied for another class either. */
    cr_assert_eq(put(s, "more", "v", 0, T0), STORE_ENOMEM);
    cr_assert_geq(stats_of(s).outofmemory, 1);
    for (int i = 0; i < n; i++) {
        item_unref(s, held[i]);
    }
    free(held);
    cr_assert_eq(put(s, "more", "v", 0, T0), STORE_OK);
    store_destroy(s);
}

Test(store_slab, no_evict_fails_instead_of_evicting)
{
    struct store_config c;
    struct store *s;
    char k[32];
    int n;

    store_config_init(&c);
    c.mem_limit = (size_t)2 << 20;
    c.item_size_max = 1024;
    c.no_evict = true;
    s = store_create(&c);
    cr_assert_not_null(s);
    n = two_pages(s);
    for (int i = 0; i < n; i++) {
        cr_assert_eq(put(s, key_big(k, i), "v", i == 9 ? 5 : 0, T0),
            STORE_OK);
    }
    cr_assert_eq(put(s, "more", "v", 0, T0), STORE_ENOMEM, "-M: no eviction");
    cr_assert(has(s, "k000000", "v", T0));
    cr_assert_eq(put(s, "more", "v", 0, T0 + 5), STORE_OK,
        "an expired item is still reused");
    cr_assert_eq(stats_of(s).evictions, 0);
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
    /* The shift: only 50 KiB values from now on. The large class has
     * nothing to evict: it takes a page at once... */
    cr_assert_eq(put(s, "large-first", huge, 0, T0), STORE_OK);
    /* ...and more as its tail gets younger than the small class's (the
     * maintenance step is the node's timer tick, a second per round). */
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
    cr_assert(item_contiguous(held));
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
    store_maintain(s, T0, 1000);    /* the pressure window starts */
    /* The large class takes its first page within the request... */
    cr_assert_eq(put(s, "large", large, 0, T0), STORE_OK);
    store_maintain(s, T0, 1000);
    cr_assert_eq(stats_of(s).slabs_moved, 1);
    cr_assert_eq(stats_of(s).slabs_stolen, 1);
    /* ...then it only evicts: more pages come once per second. */
    for (int r = 0; r < 10; r++) {
        for (int i = 0; i < 20; i++) {
            snprintf(k, sizeof(k), "large-%d-%d", r, i);
            cr_assert_eq(put(s, k, large, 0, T0), STORE_OK);
        }
        store_maintain(s, T0, 1000);
    }
    cr_assert_eq(stats_of(s).slabs_moved, 1, "same second, no new move");
    for (int i = 0; i < 20 && stats_of(s).slabs_moved < 2; i++) {
        store_maintain(s, T0 + 1, 1000);  /* a page is 6898 items */
    }
    cr_assert_eq(stats_of(s).slabs_moved, 2);
    store_destroy(s);
}

Test(store_slab, free_page_moves_without_eviction)
{
    struct store *s = mkstore((size_t)4 << 20, (size_t)64 << 10);
    char k[32];
    int n = fill_small(s);

    for (int i = 0; i < n; i++) {
        snprintf(k, sizeof(k), "small-%09d", i);
        store_delete(s, S(k), 0, T0);
    }
    cr_assert_eq(put(s, "large", large, 0, T0), STORE_OK);
    cr_assert_eq(stats_of(s).slab_reassign_evictions, 0,
        "an empty page moves without evicting anything");
    store_destroy(s);
}

Test(store_slab, page_move_rescues_items_into_free_chunks)
{
    struct store *s = mkstore((size_t)4 << 20, (size_t)64 << 10);
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
    cr_assert_eq(put(s, "large", large, 0, T0), STORE_OK,
        "a page emptied within the request");
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

/* A value of `len` bytes that differs at every offset (for chain tests). */
static char *
pattern(size_t len, unsigned seed)
{
    char *v = malloc(len + 1);

    for (size_t i = 0; i < len; i++) {
        v[i] = (char)('a' + (i * 7 + seed + i / 4096) % 26);
    }
    v[len] = '\0';
    return v;
}

Test(store_slab, large_items_are_chained)
{
    struct store *s = mkstore((size_t)16 << 20, (size_t)4 << 20);
    size_t len = ((size_t)3 << 20) + 12345;
    char *v = pattern(len, 1);
    struct item *it;
    struct item_segs segs;
    struct str seg;
    size_t total = 0;
    unsigned n = 0;

    cr_assert_eq(put(s, "big", v, 0, T0), STORE_OK);
    cr_assert_eq(store_get(s, S("big"), T0, &it), STORE_OK);
    cr_assert_not(item_contiguous(it));
    item_segs_begin(it, &segs);
    while (item_segs_next(&segs, &seg)) {
        cr_assert_eq(memcmp(seg.ptr, v + total, seg.len), 0);
        total += seg.len;
        n++;
    }
    cr_assert_eq(total, len);
    cr_assert_geq(n, 7, "512 KiB chunks");
    item_unref(s, it);
    /* Append the item to itself, as a client may. */
    cr_assert_eq(put_mode(s, STORE_APPEND, "big", v, 0, T0), STORE_TOO_LARGE);
    v[len / 2] = '\0';
    cr_assert_eq(put(s, "half", v, 0, T0), STORE_OK);
    cr_assert_eq(store_get(s, S("half"), T0, &it), STORE_OK);
    {
        char *copy = malloc(len / 2);

        item_value_read(it, 0, copy, len / 2);
        item_unref(s, it);
        cr_assert_eq(store_set(s, STORE_APPEND, S("half"), 0, 0,
            (struct str){ copy, len / 2 }, 0, T0, NULL), STORE_OK);
        cr_assert_eq(store_get(s, S("half"), T0, &it), STORE_OK);
        cr_assert_eq(item_value_len(it), len / 2 * 2);
        for (size_t h = 0; h < 2; h++) {
            char *got = malloc(len / 2);

            item_value_read(it, h * (len / 2), got, len / 2);
            cr_assert_eq(memcmp(got, copy, len / 2), 0);
            free(got);
        }
        item_unref(s, it);
        free(copy);
    }
    free(v);
    store_destroy(s);
}

Test(store_slab, every_size_fits_at_the_smallest_memory)
{
    struct store_config c;
    struct store *s;
    char k[32];
    int i = 0;

    store_config_init(&c);
    c.item_size_max = (size_t)4 << 20;
    c.mem_limit = store_min_memory(&c);
    cr_assert_leq(c.mem_limit, (size_t)8 << 20);
    c.mem_limit -= (size_t)1 << 20;
    cr_assert_null(store_create(&c), "below the minimum: refused");
    c.mem_limit += (size_t)1 << 20;
    s = store_create(&c);
    cr_assert_not_null(s);
    /* Sizes x1.25 from 60 bytes to -I, twice over: every one is stored
     * (evicting whatever it must, from any class) and reads back. */
    for (int round = 0; round < 2; round++) {
        for (double sz = 60; sz < (double)c.item_size_max - 300;
            sz *= 1.25, i++) {
            size_t len = (size_t)sz;
            char *v = pattern(len, (unsigned)i);

            snprintf(k, sizeof(k), "size-%d", i);
            cr_assert_eq(put(s, k, v, 0, T0), STORE_OK, "%zu bytes", len);
            cr_assert(has(s, k, v, T0), "%zu bytes read back", len);
            free(v);
        }
    }
    cr_assert_eq(stats_of(s).outofmemory, 0);
    store_destroy(s);
}

Test(store_slab, a_chain_is_one_item_in_its_class)
{
    struct store *s = mkstore((size_t)8 << 20, (size_t)2 << 20);
    char *v = pattern((size_t)1500 << 10, 3);
    struct store_class_stats cs;

    cr_assert_eq(put(s, "chain", v, 0, T0), STORE_OK);
    cr_assert(store_class_stats(s, store_nclasses(s) - 1, &cs));
    cr_assert_eq(cs.number, 1);
    cr_assert_eq(cs.used_chunks, 3, "1.5 MB over 512 KiB chunks");
    cr_assert_eq(store_delete(s, S("chain"), 0, T0), STORE_OK);
    cr_assert(store_class_stats(s, store_nclasses(s) - 1, &cs));
    cr_assert_eq(cs.number, 0);
    cr_assert_eq(cs.used_chunks, 0);
    free(v);
    store_destroy(s);
}
