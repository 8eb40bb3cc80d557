/* Tests for points.c: the linear-time build (one-pass and counted
 * placement, radix passes, packed words, index) against a plain reference
 * construction (every point hashed, qsort by hash then name), point for
 * point and lookup for lookup, on random node sets with weights 0..5. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "ring/hashkit.h"
#include "ring/points.h"
#include "ring/ring.h"

#define MAX_NODES 40

struct ref_point {
    uint64_t hash; /* 64-bit space (ketama: shifted into the top half) */
    uint32_t node;
};

/* A random node set: names share prefixes often, so name order matters. */
struct nodeset {
    struct ring_node nodes[MAX_NODES];
    char names[MAX_NODES][40];
    size_t n;
};

static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint64_t
rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void
random_nodes(struct nodeset *s, size_t n)
{
    static const char *const prefixes[] = { "10.0.0.1:", "cache-", "a", "",
        "\xc3\xa9t\xc3\xa9", "node#" };

    s->n = n;
    for (size_t i = 0; i < n; i++) {
        /* The index keeps names unique; the random part scrambles order. */
        int len = snprintf(s->names[i], sizeof(s->names[i]), "%s%u-%zu",
            prefixes[rng() % 6], (unsigned)(rng() % 1000), i);
        s->nodes[i] = (struct ring_node){
            { s->names[i], (size_t)len }, STR_LIT(""),
            (uint32_t)(rng() % 6) };
    }
}

static const struct nodeset *cmp_set;
static enum ring_mode cmp_mode;

/* Reference order: hash, then the owner's name (v1 bytewise; ketama as
 * twemproxy, by length first). */
static int
ref_cmp(const void *x, const void *y)
{
    const struct ref_point *a = x, *b = y;
    struct str na = cmp_set->nodes[a->node].name;
    struct str nb = cmp_set->nodes[b->node].name;

    if (a->hash != b->hash) {
        return a->hash < b->hash ? -1 : 1;
    }
    if (cmp_mode == RING_MODE_KETAMA && na.len != nb.len) {
        return na.len < nb.len ? -1 : 1;
    }
    return str_cmp(na, nb);
}

/* Every point of node i: "name#j" with snprintf, or twemproxy's MD5. */
static size_t
node_points(enum ring_mode mode, const struct ring_node *node,
    uint32_t npoints, uint64_t *out)
{
    char buf[300];

    if (mode == RING_MODE_KETAMA) {
        return ring_ketama_points(node, 0, npoints, out);
    }
    for (uint32_t j = 0; j < npoints; j++) {
        int len = snprintf(buf, sizeof(buf), "%.*s#%u",
            (int)node->name.len, node->name.ptr, j);
        out[j] = XXH3_64bits(buf, (size_t)len);
    }
    return npoints;
}

/* The reference ring: all points, sorted with qsort. *count gets the
 * number of points; per_node[i] the points of node i. */
static struct ref_point *
reference(enum ring_mode mode, uint32_t vnodes, const struct nodeset *s,
    uint32_t *per_node, size_t *count)
{
    uint32_t nlive = 0, total_weight = 0;
    size_t total = 0, at = 0;
    struct ref_point *ref;
    uint64_t *h;

    for (size_t i = 0; i < s->n; i++) {
        nlive += s->nodes[i].weight > 0;
        total_weight += s->nodes[i].weight;
    }
    for (size_t i = 0; i < s->n; i++) {
        uint32_t w = s->nodes[i].weight;
        per_node[i] = mode == RING_MODE_V1 ? vnodes * w : w == 0 ? 0 :
            ring_ketama_npoints(w, total_weight, nlive);
        total += per_node[i];
    }
    ref = malloc((total + 1) * sizeof(*ref));
    for (size_t i = 0; i < s->n; i++) {
        h = malloc((per_node[i] + 1) * sizeof(*h));
        cr_assert_eq(node_points(mode, &s->nodes[i], per_node[i], h),
            per_node[i]);
        for (uint32_t j = 0; j < per_node[i]; j++) {
            ref[at++] = (struct ref_point){ h[j], (uint32_t)i };
        }
        free(h);
    }
    cmp_set = s;
    cmp_mode = mode;
    qsort(ref, total, sizeof(*ref), ref_cmp);
    *count = total;
    return ref;
}

/* Owner of a key hash (64-bit space) on the reference ring. */
static uint32_t
ref_owner(const struct ref_point *ref, size_t n, uint64_t h)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ref[mid].hash < h) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return ref[lo < n ? lo : 0].node;
}

/* The ring agrees with the reference on every point and on random keys. */
static void
check_ring(const struct ring *r, const struct ref_point *ref, size_t n)
{
    unsigned sh = 64 - ring_hash_bits(r);

    cr_assert_eq(ring_point_count(r), n);
    for (size_t i = 0; i < n; i++) {
        uint32_t node;
        uint64_t p = ring_point(r, i, &node);
        cr_assert_eq(p, ref[i].hash >> sh, "point %zu of %zu", i, n);
        cr_assert_eq(node, ref[i].node, "owner of point %zu of %zu", i, n);
    }
    for (int k = 0; k < 2000; k++) {
        char key[24];
        int len = snprintf(key, sizeof(key), "k%llu",
            (unsigned long long)rng());
        struct str ks = { key, (size_t)len };
        uint32_t want = n == 0 ? RING_NO_NODE :
            ref_owner(ref, n, ring_key_hash(r, ks) << sh);
        cr_assert_eq(ring_lookup(r, ks), want, "key %s", key);
    }
}

/* `rounds` random rings of `mode` against their references. */
static void
check_random_rings(enum ring_mode mode, int rounds)
{
    static const uint32_t vnodes[] = { 1, 3, 17, 160, 1000, 4096 };
    struct nodeset *s = malloc(sizeof(*s));
    uint32_t per_node[MAX_NODES];

    for (int round = 0; round < rounds; round++) {
        struct ring_params p;
        struct ring *r = NULL;
        size_t n;

        random_nodes(s, 1 + rng() % MAX_NODES);
        ring_params_init(&p);
        p.mode = mode;
        p.vnodes = vnodes[rng() % 6];
        struct ref_point *ref = reference(mode, p.vnodes, s, per_node, &n);
        cr_assert_eq(ring_build(&p, s->nodes, s->n, &r), RING_OK);
        check_ring(r, ref, n);
        ring_destroy(r);
        free(ref);
    }
    free(s);
}

Test(ring_points, v1_matches_qsort_reference)
{
    check_random_rings(RING_MODE_V1, 40);
}

Test(ring_points, ketama_matches_qsort_reference)
{
    check_random_rings(RING_MODE_KETAMA, 20);
}

/* Name ranks as ring_build() computes them: position in bytewise order. */
static void
v1_ranks(const struct nodeset *s, uint32_t *rank)
{
    for (size_t i = 0; i < s->n; i++) {
        rank[i] = 0;
        for (size_t j = 0; j < s->n; j++) {
            rank[i] += str_cmp(s->nodes[j].name, s->nodes[i].name) < 0;
        }
    }
}

/* With no room to spare the one-pass placement overflows and the counted
 * placement takes over; with the default it fits. Same points. */
Test(ring_points, counted_and_one_pass_placement_agree)
{
    struct nodeset *s = malloc(sizeof(*s));
    uint32_t per_node[MAX_NODES], rank[MAX_NODES];
    int counted = 0, one_pass = 0;

    for (int round = 0; round < 30; round++) {
        size_t n;

        random_nodes(s, 1 + rng() % MAX_NODES);
        struct ref_point *ref = reference(RING_MODE_V1, 64 + rng() % 2000,
            s, per_node, &n);
        v1_ranks(s, rank);
        for (unsigned slack = 0; slack <= RING_POINTS_SLACK;
            slack += RING_POINTS_SLACK) {
            struct ring_points pts;
            struct ring_points_src src = { .mode = RING_MODE_V1,
                .nodes = s->nodes, .nnodes = s->n, .per_node = per_node,
                .rank = rank, .total = n, .bits = 64, .slack = slack };
            bool fit = ring_points_build(&pts, &src);
            counted += !fit;
            one_pass += fit;
            cr_assert_eq(pts.n, n);
            for (size_t i = 0; i < n; i++) {
                cr_assert_eq(ring_points_hash(&pts, i), ref[i].hash,
                    "slack %u point %zu", slack, i);
                cr_assert_eq(ring_points_owner(&pts, i), ref[i].node);
            }
            for (size_t i = 0; i < n; i++) {
                cr_assert_eq(ring_points_find(&pts, ref[i].hash), i);
                if (ref[i].hash > 0 && (i == 0 ||
                    ref[i - 1].hash < ref[i].hash - 1)) {
                    cr_assert_eq(ring_points_find(&pts, ref[i].hash - 1),
                        i);
                }
            }
            ring_points_fini(&pts);
        }
        free(ref);
    }
    cr_expect_gt(counted, 0);
    cr_expect_gt(one_pass, 0);
    free(s);
}

/* Bad input is rejected before any point is made; weight 0 everywhere is
 * a valid ring that owns nothing. */
Test(ring_points, all_weight_zero_owns_nothing)
{
    struct ring_node nodes[2] = {
        { STR_LIT("a"), STR_LIT(""), 0 },
        { STR_LIT("b"), STR_LIT(""), 0 },
    };
    struct ring_params p;
    struct ring *r = NULL;

    ring_params_init(&p);
    cr_assert_eq(ring_build(&p, nodes, 2, &r), RING_OK);
    cr_assert_eq(ring_point_count(r), 0);
    cr_assert_eq(ring_lookup(r, STR_LIT("k")), RING_NO_NODE);
    cr_assert_gt(ring_memory(r), 0);
    ring_destroy(r);
    nodes[1].name = STR_LIT("a");
    cr_assert_eq(ring_build(&p, nodes, 2, &r), RING_EINVAL);
}
