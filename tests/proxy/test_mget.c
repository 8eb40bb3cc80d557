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
    struct pblob *b;

    value(raw, sizeof(raw), key, data);
    b = pblob_create(raw, strlen(raw));
    cr_assert_eq(mget_value(m, sub, S(key), b), MGET_OK, "key %s", key);
    pblob_unref(b);
}

/* Every value handed out so far, then END if all were. */
static bool
drain(struct mget *m, struct buf *out)
{
    struct pblob *v;
    enum mget_next st;

    while ((st = mget_next(m, &v)) == MGET_NEXT_VALUE) {
        buf_append(out, v->data, v->len);
        pblob_unref(v);
    }
    if (st == MGET_NEXT_END) {
        buf_append(out, "END\r\n", 5);
        return true;
    }
    return false;
}

static struct mget *
mk(const struct str *keys, const uint32_t *owners, size_t n)
{
    return mget_create(keys, owners, n, 3, 2048);
}

/* Sub-requests end: the keys they did not answer are misses. */
static void
end_all(struct mget *m)
{
    for (size_t i = 0; i < mget_nsubs(m); i++) {
        mget_sub_done(m, i);
    }
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
    struct mget *m = mk(keys, owners, 5);
    struct str k[16];

    cr_assert_not_null(m);
    cr_assert_eq(mget_nsubs(m), 3);
    /* Groups come in first-seen order: owner 2, 0, 1. */
    cr_assert_eq(mget_sub_owner(m, 0), 2);
    cr_assert_eq(mget_sub_owner(m, 1), 0);
    cr_assert_eq(mget_sub_owner(m, 2), 1);
    cr_assert_eq(mget_sub_keys(m, 0, k, 16), 2);
    cr_assert(str_eq(k[0], S("a")) && str_eq(k[1], S("c")));
    cr_assert_eq(mget_sub_keys(m, 1, k, 16), 2);
    cr_assert(str_eq(k[0], S("b")) && str_eq(k[1], S("e")));
    cr_assert_eq(mget_sub_keys(m, 2, k, 16), 1);
    cr_assert(str_eq(k[0], S("d")));
    mget_destroy(m);
}

Test(proxy_mget, merges_in_key_order_whatever_order_replies_arrive)
{
    struct str keys[] = { S("k1"), S("k2"), S("k3"), S("k4") };
    uint32_t owners[] = { 1, 0, 1, 0 };
    struct mget *m = mk(keys, owners, 4);
    struct buf out;
    const char *want = "VALUE k1 0 2\r\nv1\r\nVALUE k2 0 2\r\nv2\r\n"
        "VALUE k4 0 2\r\nv4\r\nEND\r\n";

    /* Owner 0 answers first; k3 is a miss. */
    feed(m, sub_of(m, 0), "k2", "v2");
    feed(m, sub_of(m, 0), "k4", "v4");
    feed(m, sub_of(m, 1), "k1", "v1");
    buf_init(&out);
    end_all(m);
    cr_assert(drain(m, &out));
    cr_assert_eq(out.len, strlen(want));
    cr_assert(memcmp(buf_head(&out), want, out.len) == 0, "%.*s",
        (int)out.len, buf_head(&out));
    cr_assert_eq(mget_hits(m), 3);
    buf_fini(&out);
    mget_destroy(m);
}

Test(proxy_mget, repeated_key_fetched_once_answered_per_occurrence)
{
    struct str keys[] = { S("a"), S("b"), S("a") };
    uint32_t owners[] = { 0, 1, 0 };
    struct mget *m = mk(keys, owners, 3);
    struct buf out;
    struct str k[4];
    const char *want = "VALUE a 0 1\r\nx\r\nVALUE b 0 1\r\ny\r\n"
        "VALUE a 0 1\r\nx\r\nEND\r\n";

    /* "a" is asked of its node once. */
    cr_assert_eq(mget_sub_keys(m, sub_of(m, 0), k, 4), 1);
    feed(m, sub_of(m, 0), "a", "x");
    /* A second "a" was not asked for. */
    cr_assert_eq(mget_value(m, sub_of(m, 0), S("a"), NULL), MGET_UNEXPECTED);
    feed(m, sub_of(m, 1), "b", "y");
    buf_init(&out);
    end_all(m);
    cr_assert(drain(m, &out));
    cr_assert(out.len == strlen(want) && memcmp(buf_head(&out), want,
        out.len) == 0, "%.*s", (int)out.len, buf_head(&out));
    cr_assert_eq(mget_hits(m), 3);
    cr_assert_eq(mget_held(m), 0);
    buf_fini(&out);
    mget_destroy(m);
}

Test(proxy_mget, values_wait_only_for_their_turn)
{
    struct str keys[] = { S("a"), S("b"), S("c") };
    uint32_t owners[] = { 0, 1, 0 };
    struct mget *m = mk(keys, owners, 3);
    struct buf out;

    buf_init(&out);
    /* b arrives first: held until a is settled. */
    feed(m, sub_of(m, 1), "b", "2");
    cr_assert_not(drain(m, &out));
    cr_assert_eq(out.len, 0);
    cr_assert_gt(mget_held(m), 0);
    /* c answered: a was a miss (the node skips misses, in order), and
     * every key is settled. */
    feed(m, sub_of(m, 0), "c", "3");
    cr_assert(drain(m, &out));
    cr_assert_eq(mget_held(m), 0);
    cr_assert(out.len == 37 && memcmp(buf_head(&out), "VALUE b 0 1\r\n2\r\n"
        "VALUE c 0 1\r\n3\r\nEND\r\n", 37) == 0, "%.*s", (int)out.len,
        buf_head(&out));
    buf_fini(&out);
    mget_destroy(m);
}

Test(proxy_mget, sub_requests_fit_the_line_limit)
{
    enum { N = 300 };
    static char names[N][40];
    static struct str keys[N];
    static uint32_t owners[N];
    struct mget *m;
    size_t total = 0;

    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof(names[i]), "key-%030d", i);
        keys[i] = S(names[i]);
        owners[i] = (uint32_t)(i % 2);
    }
    /* "gat 100": 7 bytes of head; 35 bytes per key. */
    m = mget_create(keys, owners, N, 7, 2048);
    for (size_t s = 0; s < mget_nsubs(m); s++) {
        struct str k[N];
        size_t n = mget_sub_keys(m, s, k, N), line = 7 + 2;

        for (size_t j = 0; j < n; j++) {
            line += 1 + k[j].len;
        }
        cr_assert_leq(line, 2048);
        total += n;
    }
    cr_assert_eq(total, N);
    cr_assert_gt(mget_nsubs(m), 2);
    mget_destroy(m);
}

Test(proxy_mget, key_from_the_wrong_owner_or_out_of_order_is_unexpected)
{
    struct str keys[] = { S("a"), S("b"), S("c") };
    uint32_t owners[] = { 0, 0, 1 };
    struct mget *m = mk(keys, owners, 3);
    size_t s0 = sub_of(m, 0), s1 = sub_of(m, 1);

    cr_assert_eq(mget_value(m, s1, S("a"), NULL),
        MGET_UNEXPECTED);
    cr_assert_eq(mget_value(m, s0, S("b"), NULL),
        MGET_OK);
    /* "a" came after "b": memcached answers in order, so this is junk. */
    cr_assert_eq(mget_value(m, s0, S("a"), NULL),
        MGET_UNEXPECTED);
    cr_assert_eq(mget_value(m, 7, S("c"), NULL),
        MGET_UNEXPECTED);
    mget_destroy(m);
}

Test(proxy_mget, all_misses_give_end_only)
{
    struct str keys[] = { S("a"), S("b") };
    uint32_t owners[] = { 0, 1 };
    struct mget *m = mk(keys, owners, 2);
    struct buf out;

    buf_init(&out);
    end_all(m);
    cr_assert(drain(m, &out));
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
    struct mget *m = mk(keys, owners, 2);
    struct str k[16];

    memset(text, 'z', sizeof(text) - 1);
    mget_sub_keys(m, sub_of(m, 4), k, 16);
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
    m = mk(keys, owners, N);
    cr_assert_eq(mget_nsubs(m), 5);
    buf_init(&want);
    /* Each owner answers its keys in order, every third a miss. */
    for (size_t s = 0; s < mget_nsubs(m); s++) {
        static struct str k[N];
        size_t n = mget_sub_keys(m, s, k, N);

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
    end_all(m);
    cr_assert(drain(m, &out));
    cr_assert(out.len == want.len && memcmp(buf_head(&out), buf_head(&want),
        out.len) == 0);
    buf_fini(&out);
    buf_fini(&want);
    mget_destroy(m);
}

Test(proxy_mget, a_value_is_next_only_when_its_turn_has_come)
{
    struct str keys[] = { S("a"), S("c"), S("b"), S("b") };
    uint32_t owners[] = { 0, 0, 1, 1 };
    struct mget *m = mk(keys, owners, 4);
    size_t s0 = sub_of(m, 0), s1 = sub_of(m, 1);

    /* b waits for a and c; c would make a a miss, so c is next. */
    cr_assert_not(mget_value_is_next(m, s1, S("b")));
    cr_assert(mget_value_is_next(m, s0, S("c")));
    cr_assert(mget_value_is_next(m, s0, S("a")));
    cr_assert_not(mget_value_is_next(m, s0, S("zz")));
    cr_assert_eq(mget_value_sent(m, s0, S("a")), MGET_OK);
    cr_assert(mget_value_is_next(m, s0, S("c")));
    cr_assert_eq(mget_value_sent(m, s0, S("c")), MGET_OK);
    cr_assert_eq(mget_hits(m), 2);
    /* b is asked twice: it must be held, never passed by. */
    cr_assert_not(mget_value_is_next(m, s1, S("b")));
    mget_destroy(m);
}
