/*
 * Private to src/ring: a ring's sorted points and the index over them
 * (points.c builds them; ring.c looks keys up and walks them).
 *
 * Points are sorted by (hash, name rank of the owner) in a 64-bit space
 * (ketama's 32-bit points sit in its top half). index[b] is the first
 * point whose top `ibits` bits are >= b, so the bucket a point lies in
 * gives its top ibits bits and the point itself keeps only the rest:
 *
 *     word = hash << ibits | owner        (owner < 2^ibits)
 *
 * Eight bytes per point hold the exact hash and the owner, and within a
 * bucket `word >= key_hash << ibits` holds exactly when the point's hash
 * is >= the key's, so a lookup compares words and nothing else.
 */
#ifndef RING_POINTS_H
#define RING_POINTS_H

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ring/ring.h"

/* block[k] is the bucket of point k << RING_BLOCK_SHIFT. */
#define RING_BLOCK_SHIFT 5

struct ring_points {
    size_t n;        /* number of points */
    uint64_t *word;  /* n words, sorted */
    uint32_t *index; /* 2^ibits + 1 entries; index[2^ibits] == n */
    uint32_t *block; /* (n >> RING_BLOCK_SHIFT) + 1 entries */
    unsigned ibits;  /* 1..32, and 2^ibits >= the number of nodes */
};

/* Default of ring_points_src.slack. */
#define RING_POINTS_SLACK 8

/* What ring_points_build() makes points of. */
struct ring_points_src {
    enum ring_mode mode;           /* v1: "<name>#<j>"; ketama: MD5 */
    const struct ring_node *nodes;
    size_t nnodes;
    const uint32_t *per_node;      /* points of node i */
    const uint32_t *rank;          /* node i's place in name order */
    size_t total;                  /* sum of per_node */
    unsigned bits;                 /* width of the hash space: 64 or 32 */
    /* Room per group of the one-pass placement, in standard deviations
     * beyond the mean: RING_POINTS_SLACK (tests use 0 to force the
     * counted placement; the points are the same either way). */
    unsigned slack;
};

/*
 * Generate, sort and index the points of src->nnodes nodes: per_node[i]
 * for node i, ties won by the lower rank[i]. Returns true when they were
 * placed in one pass, false when they had to be counted first (same
 * result). Allocates with xmalloc; free with ring_points_fini().
 */
bool ring_points_build(struct ring_points *pts,
    const struct ring_points_src *src);
void ring_points_fini(struct ring_points *pts);
/* Bytes the points and their index take. */
size_t ring_points_memory(const struct ring_points *pts);
/* The full 64-bit hash of point i (i < n); finds its bucket in O(1). */
uint64_t ring_points_hash(const struct ring_points *pts, size_t i);

/* The owner (node index) of point i (i < n). */
static inline uint32_t
ring_points_owner(const struct ring_points *pts, size_t i)
{
    assert(i < pts->n);
    return (uint32_t)(pts->word[i] & ((UINT64_C(1) << pts->ibits) - 1));
}

/* Index of the first point >= h (64-bit space), wrapping to 0; n > 0. */
static inline size_t
ring_points_find(const struct ring_points *pts, uint64_t h)
{
    size_t b = (size_t)(h >> (64 - pts->ibits));
    size_t i = pts->index[b], end = pts->index[b + 1];
    uint64_t key = h << pts->ibits;

    /* Callers answer RING_NO_NODE for an empty ring before looking. */
    assert(pts->n > 0);
    while (i < end && pts->word[i] < key) {
        i++;
    }
    return i < pts->n ? i : 0;
}

/* A forward walk over the points that yields each hash in O(1): call
 * ring_points_walk_hash() with non-decreasing i, from b = 0. */
struct ring_points_walk {
    size_t b; /* bucket of the last point asked for */
};

static inline uint64_t
ring_points_walk_hash(const struct ring_points *pts,
    struct ring_points_walk *w, size_t i)
{
    while (pts->index[w->b + 1] <= i) {
        w->b++;
    }
    return (uint64_t)w->b << (64 - pts->ibits) | pts->word[i] >> pts->ibits;
}

#endif /* RING_POINTS_H */
