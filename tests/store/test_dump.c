/* The key dump (store_dump_*): every live key once, across table growth,
 * by class, and without dead items. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>

#include "helpers.h"

#define NKEYS 3000

struct seen {
    unsigned count[NKEYS];
    unsigned other;
    unsigned binary;
    unsigned cls;
};

static void
count_key(const struct store_dump_item *di, void *arg)
{
    struct seen *sn = arg;
    char buf[32];
    unsigned i;

    if (di->key.len < sizeof(buf) && di->key.len > 1 && di->key.ptr[0] == 'k') {
        memcpy(buf, di->key.ptr + 1, di->key.len - 1);
        buf[di->key.len - 1] = '\0';
        i = (unsigned)strtoul(buf, NULL, 10);
        if (i < NKEYS) {
            sn->count[i]++;
            sn->binary += di->key_binary;
            sn->cls = di->cls;
            return;
        }
    }
    sn->other++;
}

static void
put_keys(struct store *s, unsigned from, unsigned to, const char *prefix)
{
    char k[32];

    for (unsigned i = from; i < to; i++) {
        snprintf(k, sizeof(k), "%s%u", prefix, i);
        cr_assert_eq(put(s, k, "v", 0, T0), STORE_OK);
    }
}

static void
dump_all(struct store *s, unsigned cls, uint32_t now, struct seen *sn)
{
    struct store_dump d;
    unsigned steps = 0;

    store_dump_begin(s, &d, cls == 0 ? 0 : (uint64_t)1 << cls);
    while (store_dump_step(s, &d, now, 64, count_key, sn)) {
        cr_assert_lt(++steps, 1u << 20);
    }
}

Test(store_dump, every_key_once)
{
    struct store *s = mkstore(64u << 20, 1u << 20);
    struct seen sn;

    put_keys(s, 0, NKEYS, "k");
    memset(&sn, 0, sizeof(sn));
    dump_all(s, 0, T0, &sn);
    for (unsigned i = 0; i < NKEYS; i++) {
        cr_assert_eq(sn.count[i], 1, "key %u seen %u times", i, sn.count[i]);
    }
    cr_assert_eq(sn.other, 0);
    cr_assert_eq(sn.binary, 0);
    store_destroy(s);
}

/* The table grows (and migrates bucket by bucket) in the middle of the
 * walk: keys linked for the whole walk are still seen exactly once. */
Test(store_dump, survives_table_growth)
{
    struct store *s = mkstore(64u << 20, 1u << 20);
    struct store_dump d;
    struct seen sn;
    unsigned extra = 0;
    bool more = true;

    put_keys(s, 0, 1000, "k");
    memset(&sn, 0, sizeof(sn));
    store_dump_begin(s, &d, 0);
    while (more) {
        more = store_dump_step(s, &d, T0, 7, count_key, &sn);
        if (extra < 40) {
            /* 200 new keys a step: several doublings, mid-migration
             * states included. */
            put_keys(s, extra * 200, extra * 200 + 200, "x");
            extra++;
            (void)store_maintain(s, T0, 3);
        }
    }
    for (unsigned i = 0; i < 1000; i++) {
        cr_assert_eq(sn.count[i], 1, "key %u seen %u times", i, sn.count[i]);
    }
    store_destroy(s);
}

Test(store_dump, skips_dead_items_and_filters_by_class)
{
    struct store *s = mkstore(64u << 20, 1u << 20);
    struct seen sn;
    unsigned big_cls;
    char big[2000];

    put_keys(s, 0, 10, "k");
    cr_assert_eq(put(s, "k10", "v", 5, T0), STORE_OK);
    memset(big, 'b', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    cr_assert_eq(put(s, "k11", big, 0, T0), STORE_OK);
    memset(&sn, 0, sizeof(sn));
    dump_all(s, 0, T0 + 10, &sn);
    cr_assert_eq(sn.count[10], 0, "expired key dumped");
    cr_assert_eq(sn.count[0], 1);
    cr_assert_eq(sn.count[11], 1);
    /* The big item alone is in its class. */
    memset(&sn, 0, sizeof(sn));
    cr_assert_eq(put(s, "k11", big, 0, T0), STORE_OK);
    put_keys(s, 0, 1, "k");
    big_cls = 0;
    for (unsigned c = 1; c <= store_nclasses(s) && c <= 63 && big_cls == 0;
        c++) {
        memset(&sn, 0, sizeof(sn));
        dump_all(s, c, T0, &sn);
        if (sn.count[11] == 1) {
            big_cls = c;
            cr_assert_eq(sn.cls, c);
            cr_assert_eq(sn.count[0], 0, "small key in class %u", c);
        }
    }
    cr_assert_neq(big_cls, 0, "k11 in no class");
    store_destroy(s);
}

Test(store_dump, binary_mark)
{
    struct store *s = mkstore(64u << 20, 1u << 20);
    struct item *it;
    struct seen sn;

    cr_assert_eq(store_alloc(s, S("k1"), 0, 0, 1, T0, &it), STORE_OK);
    item_value_mut(it)[0] = 'x';
    item_mark_key_binary(it);
    cr_assert(item_key_binary(it));
    cr_assert_eq(store_link(s, it, STORE_SET, 0, T0, NULL), STORE_OK);
    memset(&sn, 0, sizeof(sn));
    dump_all(s, 0, T0, &sn);
    cr_assert_eq(sn.count[1], 1);
    cr_assert_eq(sn.binary, 1);
    store_destroy(s);
}
