/* Tests for the multi-get splitter and merger (src/proxy/mget.c). */
#include <criterion/criterion.h>

#include <string.h>

#include "proxy/proxy_int.h"

static struct str
S(const char *s)
{
    return str_from_cstr(s);
}

/* A VALUE element as a backend sends it. */
static void
value(char *dst, size_t n, const char *key, const char *data)
{
    snprintf(dst, n, "VALUE %s 0 %zu\r\n%s\r\n", key, strlen(data), data);
}

static void
feed(struct mget *m, size_t sub, const char *key, const char *data)
{
    char raw[256];

    value(raw, sizeof(raw), key, data);
    cr_assert_eq(mget_value(m, sub, S(key), S(raw)), MGET_OK, "key %s", key);
}

static size_t
sub_of(const struct mget *m, uint32_t owner)
{
    for (size_t i = 0; i < mget_nsubs(m); i++) {
        if (mget_sub_owner(m, i) == owner) {
            return i;
        }
    }
    cr_assert_fail("no group for owner %u", owner);
    return 0;
}

Test(proxy_mget, groups_keys_by_owner_in_request_order)
{
    struct str keys[] = { S("a"), S("b"), S("c"), S("d"), S("e") };
    uint32_t owners[] = { 2, 0, 2, 1, 0 };
    struct mget *m = mget_create(keys, owners, 5);
    const struct str *k;

    cr_assert_not_null(m);
    cr_assert_eq(mget_nsubs(m), 3);
    /* Groups come in first-seen order: owner 2, 0, 1. */
    cr_assert_eq(mget_sub_owner(m, 0), 2);
    cr_assert_eq(mget_sub_owner(m, 1), 0);
    cr_assert_eq(mget_sub_owner(m, 2), 1);
    cr_assert_eq(mget_sub_keys(m, 0, &k), 2);
    cr_assert(str_eq(k[0], S("a")) && str_eq(k[1], S("c")));
    cr_assert_eq(mget_sub_keys(m, 1, &k), 2);
    cr_assert(str_eq(k[0], S("b")) && str_eq(k[1], S("e")));
    cr_assert_eq(mget_sub_keys(m, 2, &k), 1);
    cr_assert(str_eq(k[0], S("d")));
    mget_destroy(m);
}

Test(proxy_mget, merges_in_key_order_whatever_order_replies_arrive)
{
    struct str keys[] = { S("k1"), S("k2"), S("k3"), S("k4") };
    uint32_t owners[] = { 1, 0, 1, 0 };
    struct mget *m = mget_create(keys, owners, 4);
    struct buf out;
    const char *want = "VALUE k1 0 2\r\nv1\r\nVALUE k2 0 2\r\nv2\r\n"
        "VALUE k4 0 2\r\nv4\r\nEND\r\n";

    /* Owner 0 answers first; k3 is a miss. */
    feed(m, sub_of(m, 0), "k2", "v2");
    feed(m, sub_of(m, 0), "k4", "v4");
    feed(m, sub_of(m, 1), "k1", "v1");
    buf_init(&out);
    cr_assert(mget_finish(m, &out));
    cr_assert_eq(out.len, strlen(want));
    cr_assert(memcmp(buf_head(&out), want, out.len) == 0, "%.*s",
        (int)out.len, buf_head(&out));
    cr_assert_eq(mget_hits(m), 3);
    buf_fini(&out);
    mget_destroy(m);
}

Test(proxy_mget, repeated_key_matched_once_per_occurrence)
{
    struct str keys[] = { S("a"), S("b"), S("a") };
    uint32_t owners[] = { 0, 1, 0 };
    struct mget *m = mget_create(keys, owners, 3);
    struct buf out;
    const char *want = "VALUE a 0 1\r\nx\r\nVALUE b 0 1\r\ny\r\n"
        "VALUE a 0 1\r\nx\r\nEND\r\n";

    feed(m, sub_of(m, 0), "a", "x");
    feed(m, sub_of(m, 0), "a", "x");
    feed(m, sub_of(m, 1), "b", "y");
    /* A third "a" was not asked for. */
    cr_assert_eq(mget_value(m, sub_of(m, 0), S("a"), S("VALUE a 0 1\r\nx\r\n")),
        MGET_UNEXPECTED);
    buf_init(&out);
    cr_assert(mget_finish(m, &out));
    cr_assert(out.len == strlen(want) && memcmp(buf_head(&out), want,
        out.len) == 0, "%.*s", (int)out.len, buf_head(&out));
    buf_fini(&out);
    mget_destroy(m);
}

Test(proxy_mget, key_from_the_wrong_owner_or_out_of_order_is_unexpected)
{
    struct str keys[] = { S("a"), S("b"), S("c") };
    uint32_t owners[] = { 0, 0, 1 };
    struct mget *m = mget_create(keys, owners, 3);
    size_t s0 = sub_of(m, 0), s1 = sub_of(m, 1);

    cr_assert_eq(mget_value(m, s1, S("a"), S("VALUE a 0 0\r\n\r\n")),
        MGET_UNEXPECTED);
    cr_assert_eq(mget_value(m, s0, S("b"), S("VALUE b 0 0\r\n\r\n")),
        MGET_OK);
    /* "a" came after "b": memcached answers in order, so this is junk. */
    cr_assert_eq(mget_value(m, s0, S("a"), S("VALUE a 0 0\r\n\r\n")),
        MGET_UNEXPECTED);
    cr_assert_eq(mget_value(m, 7, S("c"), S("VALUE c 0 0\r\n\r\n")),
        MGET_UNEXPECTED);
    mget_destroy(m);
}

Test(proxy_mget, all_misses_give_end_only)
{
    struct str keys[] = { S("a"), S("b") };
    uint32_t owners[] = { 0, 1 };
    struct mget *m = mget_create(keys, owners, 2);
    struct buf out;

    buf_init(&out);
    cr_assert(mget_finish(m, &out));
    cr_assert(out.len == 5 && memcmp(buf_head(&out), "END\r\n", 5) == 0);
    cr_assert_eq(mget_hits(m), 0);
    buf_fini(&out);
    mget_destroy(m);
}

Test(proxy_mget, keys_are_copied)
{
    char text[] = "alpha beta";
    struct str keys[] = { { text, 5 }, { text + 6, 4 } };
    uint32_t owners[] = { 3, 4 };
    struct mget *m = mget_create(keys, owners, 2);
    const struct str *k;

    memset(text, 'z', sizeof(text) - 1);
    mget_sub_keys(m, sub_of(m, 4), &k);
    cr_assert(str_eq(k[0], S("beta")));
    mget_destroy(m);
}

Test(proxy_mget, many_keys_round_trip)
{
    enum { N = 1000 };
    static struct str keys[N];
    static uint32_t owners[N];
    static char names[N][8];
    struct mget *m;
    struct buf out, want;

    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof(names[i]), "k%d", i);
        keys[i] = S(names[i]);
        owners[i] = (uint32_t)((i * 7) % 5);
    }
    m = mget_create(keys, owners, N);
    cr_assert_eq(mget_nsubs(m), 5);
    buf_init(&want);
    /* Each owner answers its keys in order, every third a miss. */
    for (size_t s = 0; s < mget_nsubs(m); s++) {
        const struct str *k;
        size_t n = mget_sub_keys(m, s, &k);

        for (size_t j = 0; j < n; j++) {
            char key[8];

            snprintf(key, sizeof(key), "%.*s", (int)k[j].len, k[j].ptr);
            if (atoi(key + 1) % 3 != 0) {
                feed(m, s, key, key);
            }
        }
    }
    for (int i = 0; i < N; i++) {
        if (i % 3 != 0) {
            buf_printf(&want, "VALUE %s 0 %zu\r\n%s\r\n", names[i],
                strlen(names[i]), names[i]);
        }
    }
    buf_printf(&want, "END\r\n");
    buf_init(&out);
    cr_assert(mget_finish(m, &out));
    cr_assert(out.len == want.len && memcmp(buf_head(&out), buf_head(&want),
        out.len) == 0);
    buf_fini(&out);
    buf_fini(&want);
    mget_destroy(m);
}
