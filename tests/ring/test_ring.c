/* Tests for ring v1: pinned placements, the spec against a brute-force
 * reference, movement, weight 0, one node, 1000 nodes, ring_diff. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "ring/ring.h"

static struct ring *
build(enum ring_mode mode, uint32_t vnodes, const struct ring_node *n,
    size_t count)
{
    struct ring_params p;
    struct ring *r = NULL;

    ring_params_init(&p);
    p.mode = mode;
    p.vnodes = vnodes;
    cr_assert_eq(ring_build(&p, n, count, &r), RING_OK);
    return r;
}

static const struct ring_node abc[3] = {
    { STR_LIT("alpha"), STR_LIT("10.0.0.1:11211"), 1 },
    { STR_LIT("beta"), STR_LIT("10.0.0.2:11211"), 2 },
    { STR_LIT("gamma"), STR_LIT("10.0.0.3:11211"), 1 },
};

/* The spec must never change by accident: these placements are public. */
Test(ring_ring, v1_pinned_vectors)
{
    static const struct {
        const char *key;
        uint64_t hash;
        uint32_t node;
        uint64_t point;
    } v[] = {
        { "foo", 0xab6e5f64077e7d8aull, 0, 0xac1a4be7804aa7c3ull },
        { "bar", 0xd463c860a032d362ull, 2, 0xd46bcca862c3fe78ull },
        { "hello", 0x9555e8555c62dcfdull, 1, 0x968075845a6107b6ull },
        { "user:1", 0x3b577afd7fed9501ull, 1, 0x3bcb9aee9e9d364eull },
        { "user:2", 0x69a0366b760b5c02ull, 2, 0x6a0ed16da463a5e1ull },
        { "a", 0xe6c632b61e964e1full, 2, 0xe6c7c723f2db5515ull },
        { "", 0x2d06800538d394c2ull, 0, 0x2e6c3c8f99edd726ull },
        { "\xc3\xa9t\xc3\xa9", 0x4527085b35eb8255ull, 0,
          0x45ba0ae9112242d8ull },
    };
    struct ring *r = build(RING_MODE_V1, 160, abc, 3);

    cr_assert_eq(ring_point_count(r), 160 * 4);
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        struct ring_hit h;
        ring_locate(r, str_from_cstr(v[i].key), &h);
        cr_expect_eq(h.key_hash, v[i].hash, "key %s", v[i].key);
        cr_expect_eq(h.node, v[i].node, "key %s", v[i].key);
        cr_expect_eq(h.point, v[i].point, "key %s", v[i].key);
        cr_expect_eq(ring_lookup(r, str_from_cstr(v[i].key)), v[i].node);
    }
    ring_destroy(r);
}

/* A direct reading of the spec: hash every "<name>#<i>", take the first
 * point >= the key hash (else the lowest), ties to the smaller name. */
static uint32_t
reference_owner(const struct ring_node *n, size_t count, uint32_t vnodes,
    uint64_t kh)
{
    uint64_t best = 0, lowest = 0;
    uint32_t best_node = RING_NO_NODE, low_node = RING_NO_NODE;
    char buf[300];

    for (size_t j = 0; j < count; j++) {
        for (uint32_t i = 0; i < vnodes * n[j].weight; i++) {
            int len = snprintf(buf, sizeof(buf), "%.*s#%u",
                (int)n[j].name.len, n[j].name.ptr, i);
            uint64_t h = XXH3_64bits(buf, (size_t)len);
            bool tie_wins_best = best_node != RING_NO_NODE && h == best &&
                str_cmp(n[j].name, n[best_node].name) < 0;
            bool tie_wins_low = low_node != RING_NO_NODE && h == lowest &&
                str_cmp(n[j].name, n[low_node].name) < 0;
            if (h >= kh && (best_node == RING_NO_NODE || h < best ||
                tie_wins_best)) {
                best = h;
                best_node = (uint32_t)j;
            }
            if (low_node == RING_NO_NODE || h < lowest || tie_wins_low) {
                lowest = h;
                low_node = (uint32_t)j;
            }
        }
    }
    return best_node != RING_NO_NODE ? best_node : low_node;
}

Test(ring_ring, v1_matches_spec_reference)
{
    struct ring_node n[5] = {
        { STR_LIT("n1"), STR_LIT(""), 1 }, { STR_LIT("n2"), STR_LIT(""), 3 },
        { STR_LIT("n3"), STR_LIT(""), 0 }, { STR_LIT("n4"), STR_LIT(""), 2 },
        { STR_LIT("10.0.0.9:11211"), STR_LIT(""), 1 },
    };
    struct ring *r = build(RING_MODE_V1, 40, n, 5);

    for (int k = 0; k < 300; k++) {
        char key[32];
        int len = snprintf(key, sizeof(key), "key-%d", k * 7919);
        struct str s = { key, (size_t)len };
        uint64_t kh = XXH3_64bits(key, (size_t)len);
        cr_assert_eq(ring_lookup(r, s), reference_owner(n, 5, 40, kh),
            "key %s", key);
    }
    /* The wrap-around: a hash above every point goes to the lowest. */
    uint32_t low;
    (void)ring_point(r, 0, &low);
    cr_assert_eq(reference_owner(n, 5, 40, UINT64_MAX), low);
    ring_destroy(r);
}

Test(ring_ring, input_order_does_not_matter)
{
    struct ring_node rev[3] = { abc[2], abc[1], abc[0] };
    struct ring *a = build(RING_MODE_V1, 100, abc, 3);
    struct ring *b = build(RING_MODE_V1, 100, rev, 3);

    cr_assert_eq(ring_point_count(a), ring_point_count(b));
    for (size_t i = 0; i < ring_point_count(a); i++) {
        uint32_t na, nb;
        cr_assert_eq(ring_point(a, i, &na), ring_point(b, i, &nb));
        cr_assert(str_eq(ring_node_name(a, na), ring_node_name(b, nb)));
    }
    ring_destroy(a);
    ring_destroy(b);
}

Test(ring_ring, weight_zero_owns_nothing)
{
    struct ring_node n[3] = { abc[0], abc[1], abc[2] };
    double share[3];

    n[1].weight = 0;
    struct ring *r = build(RING_MODE_V1, 64, n, 3);
    ring_ownership(r, share);
    cr_assert_eq(share[1], 0.0);
    cr_assert_float_eq(share[0] + share[2], 1.0, 1e-12);
    for (int k = 0; k < 2000; k++) {
        char key[16];
        int len = snprintf(key, sizeof(key), "k%d", k);
        cr_assert_neq(ring_lookup(r, (struct str){ key, (size_t)len }), 1);
    }
    ring_destroy(r);

    n[0].weight = n[2].weight = 0;
    r = build(RING_MODE_V1, 64, n, 3);
    cr_assert_eq(ring_point_count(r), 0);
    cr_assert_eq(ring_lookup(r, STR_LIT("x")), RING_NO_NODE);
    ring_ownership(r, share);
    cr_assert_eq(share[0] + share[1] + share[2], 0.0);
    ring_destroy(r);
}

Test(ring_ring, one_node_owns_everything)
{
    double share[1];
    struct ring *r = build(RING_MODE_V1, 0, abc, 1);

    cr_assert_eq(ring_point_count(r), RING_DEFAULT_VNODES);
    ring_ownership(r, share);
    cr_assert_float_eq(share[0], 1.0, 1e-12);
    cr_assert_eq(ring_lookup(r, STR_LIT("anything")), 0);
    ring_destroy(r);
}

/* The fraction of keys whose owner name differs, by ring_diff. */
static void
check_only_changed_moves(const struct ring *a, const struct ring *b,
    struct str changed)
{
    size_t na = ring_node_count(a), nb = ring_node_count(b);
    double *m = calloc(na * nb, sizeof(*m)), total = 0.0;

    cr_assert_eq(ring_diff(a, b, m), RING_OK);
    for (size_t i = 0; i < na; i++) {
        for (size_t j = 0; j < nb; j++) {
            struct str from = ring_node_name(a, (uint32_t)i);
            struct str to = ring_node_name(b, (uint32_t)j);
            total += m[i * nb + j];
            if (!str_eq(from, to) && m[i * nb + j] > 0.0) {
                cr_assert(str_eq(from, changed) || str_eq(to, changed),
                    "%.*s -> %.*s moved %g", (int)from.len, from.ptr,
                    (int)to.len, to.ptr, m[i * nb + j]);
            }
        }
    }
    cr_assert_float_eq(total, 1.0, 1e-9);
    free(m);
}

static struct ring_node *
numbered_nodes(size_t n, char (*buf)[16])
{
    struct ring_node *nodes = calloc(n, sizeof(*nodes));
    for (size_t i = 0; i < n; i++) {
        int len = snprintf(buf[i], 16, "node%zu", i);
        nodes[i] = (struct ring_node){ { buf[i], (size_t)len },
            STR_LIT(""), 1 };
    }
    return nodes;
}

Test(ring_ring, add_remove_reweight_move_only_the_changed_node)
{
    char buf[11][16];
    struct ring_node *n = numbered_nodes(11, buf);
    struct ring *ten = build(RING_MODE_V1, 256, n, 10);
    struct ring *eleven = build(RING_MODE_V1, 256, n, 11);
    double *m = calloc(10 * 11, sizeof(*m)), moved = 0.0;

    check_only_changed_moves(ten, eleven, n[10].name);   /* add */
    check_only_changed_moves(eleven, ten, n[10].name);   /* remove */
    n[3].weight = 3;
    struct ring *heavy = build(RING_MODE_V1, 256, n, 10);
    check_only_changed_moves(ten, heavy, n[3].name);     /* reweight */
    check_only_changed_moves(heavy, ten, n[3].name);

    /* Adding one node to ten moves about 1/11 of the key space. */
    cr_assert_eq(ring_diff(ten, eleven, m), RING_OK);
    for (size_t i = 0; i < 10; i++) {
        moved += m[i * 11 + 10];
    }
    cr_assert(moved > 0.07 && moved < 0.11, "moved %g", moved);

    /* And keys agree: none moves between two unchanged nodes. */
    for (int k = 0; k < 20000; k++) {
        char key[16];
        int len = snprintf(key, sizeof(key), "k%d", k);
        struct str s = { key, (size_t)len };
        uint32_t before = ring_lookup(ten, s), after = ring_lookup(eleven, s);
        cr_assert(before == after || after == 10);
    }
    ring_destroy(ten);
    ring_destroy(eleven);
    ring_destroy(heavy);
    free(m);
    free(n);
}

Test(ring_ring, thousand_nodes)
{
    static char buf[1000][16];
    struct ring_node *n = numbered_nodes(1000, buf);
    struct ring *r = build(RING_MODE_V1, 1024, n, 1000);
    double *share = calloc(1000, sizeof(*share)), sum = 0.0, max = 0.0;

    cr_assert_eq(ring_point_count(r), 1000u * 1024);
    ring_ownership(r, share);
    for (size_t i = 0; i < 1000; i++) {
        sum += share[i];
        max = share[i] > max ? share[i] : max;
    }
    cr_assert_float_eq(sum, 1.0, 1e-9);
    cr_assert(max * 1000 < 1.2, "max/mean %g", max * 1000);
    /* Points are sorted, and lookups land on the first point >= hash. */
    for (size_t i = 1; i < ring_point_count(r); i += 997) {
        cr_assert(ring_point(r, i - 1, NULL) <= ring_point(r, i, NULL));
    }
    for (int k = 0; k < 1000; k++) {
        char key[16];
        int len = snprintf(key, sizeof(key), "k%d", k);
        struct ring_hit h;
        ring_locate(r, (struct str){ key, (size_t)len }, &h);
        cr_assert(h.point >= h.key_hash || h.point_idx == 0);
        cr_assert(h.point_idx == 0 ||
            ring_point(r, h.point_idx - 1, NULL) < h.key_hash);
    }
    ring_destroy(r);
    free(share);
    free(n);
}

Test(ring_ring, build_rejects_bad_node_lists)
{
    struct ring_params p;
    struct ring *r = NULL;
    struct ring_node dup[2] = { abc[0], abc[0] };
    struct ring_node empty[1] = { { STR_LIT(""), STR_LIT(""), 1 } };
    struct ring_node heavy[1] = { { STR_LIT("x"), STR_LIT(""),
        RING_MAX_WEIGHT + 1 } };
    char longname[RING_MAX_NAME + 2];
    memset(longname, 'n', sizeof(longname));
    struct ring_node toolong[1] = { { { longname, sizeof(longname) },
        STR_LIT(""), 1 } };

    ring_params_init(&p);
    cr_assert_eq(ring_build(&p, abc, 0, &r), RING_EINVAL);
    cr_assert_eq(ring_build(&p, dup, 2, &r), RING_EINVAL);
    cr_assert_eq(ring_build(&p, empty, 1, &r), RING_EINVAL);
    cr_assert_eq(ring_build(&p, heavy, 1, &r), RING_EINVAL);
    cr_assert_eq(ring_build(&p, toolong, 1, &r), RING_EINVAL);
    p.vnodes = RING_MAX_VNODES;
    struct ring_node big[1] = { { STR_LIT("x"), STR_LIT(""),
        RING_MAX_WEIGHT } };
    cr_assert_eq(ring_build(&p, big, 1, &r), RING_ETOOBIG);
    cr_assert_null(r);
}

Test(ring_ring, diff_of_identical_rings_is_the_diagonal)
{
    struct ring *a = build(RING_MODE_V1, 50, abc, 3);
    struct ring *b = build(RING_MODE_V1, 50, abc, 3);
    double m[9], share[3];

    cr_assert_eq(ring_diff(a, b, m), RING_OK);
    ring_ownership(a, share);
    for (int i = 0; i < 3; i++) {
        for (int j = 0; j < 3; j++) {
            if (i == j) {
                cr_assert_float_eq(m[i * 3 + j], share[i], 1e-12);
            } else {
                cr_assert_eq(m[i * 3 + j], 0.0);
            }
        }
    }
    struct ring *k = build(RING_MODE_KETAMA, 0, abc, 3);
    cr_assert_eq(ring_diff(a, k, m), RING_EMISMATCH);
    ring_destroy(a);
    ring_destroy(b);
    ring_destroy(k);
}

Test(ring_ring, hash_tag)
{
    struct ring_params p;

    ring_params_init(&p);
    cr_assert(str_eq_cstr(ring_hash_tag_apply(&p, STR_LIT("{a}b")), "{a}b"));
    p.has_hash_tag = true;
    memcpy(p.hash_tag, "{}", 2);
    cr_assert(str_eq_cstr(ring_hash_tag_apply(&p, STR_LIT("x{user1}.y")),
        "user1"));
    cr_assert(str_eq_cstr(ring_hash_tag_apply(&p, STR_LIT("{}x")), "{}x"));
    cr_assert(str_eq_cstr(ring_hash_tag_apply(&p, STR_LIT("{abc")), "{abc"));
    cr_assert(str_eq_cstr(ring_hash_tag_apply(&p, STR_LIT("a}b{c}")), "c"));
    cr_assert(str_eq_cstr(ring_hash_tag_apply(&p, STR_LIT("{a}{b}")), "a"));
    cr_assert(str_eq_cstr(ring_hash_tag_apply(&p, STR_LIT("")), ""));

    struct ring *r;
    cr_assert_eq(ring_build(&p, abc, 3, &r), RING_OK);
    cr_assert_eq(ring_key_hash(r, STR_LIT("pre{tag}1")),
        ring_key_hash(r, STR_LIT("tag")));
    cr_assert_eq(ring_lookup(r, STR_LIT("{user:7}a")),
        ring_lookup(r, STR_LIT("{user:7}b")));
    ring_destroy(r);
}

Test(ring_ring, names)
{
    enum ring_hash h;

    for (int i = 0; i < RING_HASH_COUNT; i++) {
        cr_assert(ring_hash_parse(str_from_cstr(ring_hash_name(i)), &h));
        cr_assert_eq((int)h, i);
    }
    cr_assert_not(ring_hash_parse(STR_LIT("sha1"), &h));
    cr_assert_str_eq(ring_mode_name(RING_MODE_V1), "v1");
    cr_assert_str_eq(ring_mode_name(RING_MODE_KETAMA), "ketama");
}
