/*
 * Building a ring's points (see points.h for the layout) in linear time.
 * The hashes are uniform, so two radix passes on their top bits leave
 * runs of a point or two for an insertion sort:
 *
 *   1. (only when step 2 in one pass fails) count: hash every point,
 *      count how many fall in each of 2^r1 groups (the top r1 bits);
 *   2. place: hash every point and write it straight into its group in
 *      the final array, as hash << r1 | rank (the group holds the top r1
 *      bits, the freed low bits the owner's name rank for ties). Counts
 *      are near Poisson, so each group first gets room for its mean plus
 *      a margin (RING_POINTS_SLACK standard deviations); if one group
 *      overflows anyway, step 1 counts and step 2 runs again, exactly;
 *   3. per group, in cache: spread it over its index buckets (the next
 *      bits), insertion-sort it, and rewrite each word as hash << ibits |
 *      owner, compacted to its final place, filling the index on the way.
 *
 * NOTE(ring2): no array of hashes besides the ring's own: the memory is
 * the cost (first-touch page faults and bandwidth), more than XXH3 on
 * strings of ~20 bytes.
 */
#include "ring/points.h"

#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "ring/hashkit.h"

/* Bits of the first radix pass: the third step then works on about
 * n / 2^PASS1_BITS points at a time, which stay in the L2 cache. */
#define PASS1_BITS 10
/* Ring v1 strings hashed together, so the CPU overlaps their hashes. */
#define V1_BATCH 8
/* Extra bits step 3 spreads each group by, beyond the index bits. */
#define FINE_BITS 2
/* Points generated at a time: a multiple of V1_BATCH and of 4 (ketama). */
#define CHUNK 512

/* ---- point generation ---------------------------------------------------- */

/* Add `add` (0..9) to the decimal number in d[0..*len) in place. */
static inline void
decimal_add(char *d, size_t *len, unsigned add)
{
    size_t i = *len - 1;

    if (d[i] + (int)add <= '9') {
        d[i] = (char)(d[i] + (int)add);
        return;
    }
    d[i] = (char)(d[i] + (int)add - 10);
    while (i > 0) {
        if (d[--i] != '9') {
            d[i]++;
            return;
        }
        d[i] = '0';
    }
    memmove(d + 1, d, *len);
    d[0] = '1';
    (*len)++;
}

struct v1_slot {
    char buf[RING_MAX_NAME + 16];
    size_t len; /* of "<name>#<j>" */
};

/* One node's points, a chunk at a time, in order of point number. */
struct gen {
    const struct ring_node *node;
    enum ring_mode mode;
    size_t n;    /* points of this node */
    size_t done; /* points generated so far */
    /* Ring v1: slot k holds the string of point done + k. */
    struct v1_slot s[V1_BATCH];
};

static void
gen_start(struct gen *g, enum ring_mode mode, const struct ring_node *node,
    size_t n)
{
    size_t prefix = node->name.len + 1;

    g->node = node;
    g->mode = mode;
    g->n = n;
    g->done = 0;
    if (mode != RING_MODE_V1) {
        return;
    }
    for (unsigned k = 0; k < V1_BATCH; k++) {
        size_t dlen = 1;
        memcpy(g->s[k].buf, node->name.ptr, node->name.len);
        g->s[k].buf[node->name.len] = '#';
        g->s[k].buf[prefix] = '0';
        decimal_add(g->s[k].buf + prefix, &dlen, k);
        g->s[k].len = prefix + dlen;
    }
}

/*
 * Ring v1: point j of a node is XXH3_64bits("<name>#<j>"). NOTE(ring2):
 * V1_BATCH strings are written before any of them is hashed, so a hash
 * does not wait for the byte stores just made to its input (a
 * store-forwarding stall that serialised the hashes), and the batch's
 * hashes overlap.
 */
static void
v1_chunk(struct gen *g, uint64_t *out, size_t k)
{
    size_t prefix = g->node->name.len + 1, j = 0;

    for (; j + V1_BATCH <= k; j += V1_BATCH) {
        for (unsigned b = 0; b < V1_BATCH; b++) {
            out[j + b] = XXH3_64bits(g->s[b].buf, g->s[b].len);
        }
        for (unsigned b = 0; b < V1_BATCH; b++) {
            size_t dlen = g->s[b].len - prefix;
            decimal_add(g->s[b].buf + prefix, &dlen, V1_BATCH);
            g->s[b].len = prefix + dlen;
        }
    }
    /* Only the node's last chunk ends inside a batch. */
    for (unsigned b = 0; j < k; j++, b++) {
        out[j] = XXH3_64bits(g->s[b].buf, g->s[b].len);
    }
}

/* The next up to CHUNK hashes into `out`; returns how many, 0 at the end. */
static size_t
gen_chunk(struct gen *g, uint64_t *out)
{
    size_t k = g->n - g->done < CHUNK ? g->n - g->done : CHUNK;

    if (g->mode == RING_MODE_V1) {
        v1_chunk(g, out, k);
    } else {
        k = ring_ketama_points(g->node, (uint32_t)g->done, (uint32_t)k,
            out);
    }
    g->done += k;
    return k;
}

/* ---- the three steps ----------------------------------------------------- */

/* Bits to number x values 0..x-1. */
static unsigned
bits_for(size_t x)
{
    unsigned b = 0;

    while (((size_t)1 << b) < x) {
        b++;
    }
    return b;
}

/* Index bits: about two points per bucket, at most 22 bits (16 MiB), at
 * least enough for a node index in the low bits of a word. */
static unsigned
index_bits(size_t npoints, size_t nnodes, unsigned bits)
{
    unsigned b = 1, ob = bits_for(nnodes);

    while (b < 22 && ((size_t)2 << b) < npoints) {
        b++;
    }
    b = b > ob ? b : ob;
    return b < bits ? b : bits;
}

/* What the steps share. */
struct build {
    const struct ring_points_src *src;
    uint32_t *node_of;  /* node_of[rank]: the node of that rank */
    size_t *first;      /* 2^r1: where step 2 puts each group's points */
    size_t *next;       /* 2^r1 + 1: the next free slot of each group */
    size_t *end;        /* 2^r1: where each group's room ends (one pass) */
    uint64_t *scratch;  /* one group, for step 3 */
    uint32_t *count;    /* counters of step 3 */
    unsigned r1, r2;    /* r1 + r2 == ibits */
};

/* Step 1: count[g] += the points whose top r1 bits are g. */
static void
count_groups(const struct build *b, size_t *count)
{
    const struct ring_points_src *src = b->src;
    uint64_t h[CHUNK];
    struct gen g;
    size_t k;

    for (size_t i = 0; i < src->nnodes; i++) {
        gen_start(&g, src->mode, &src->nodes[i], src->per_node[i]);
        while ((k = gen_chunk(&g, h)) > 0) {
            for (size_t j = 0; j < k; j++) {
                count[h[j] >> (64 - b->r1)]++;
            }
        }
    }
}

/*
 * Step 2: each point to the next free slot of its group, next[g]. With
 * `end`, a group's room ends at end[g]: false as soon as a point does not
 * fit (w is then garbage). Without, the rooms are exact (counted).
 */
static bool
place(const struct build *b, uint64_t *w, const size_t *end)
{
    const struct ring_points_src *src = b->src;
    uint64_t h[CHUNK];
    struct gen g;
    size_t k;

    for (size_t i = 0; i < src->nnodes; i++) {
        uint64_t rk = src->rank[i];
        gen_start(&g, src->mode, &src->nodes[i], src->per_node[i]);
        while ((k = gen_chunk(&g, h)) > 0) {
            for (size_t j = 0; j < k; j++) {
                size_t c = (size_t)(h[j] >> (64 - b->r1));
                if (end != NULL && b->next[c] == end[c]) {
                    return false;
                }
                w[b->next[c]++] = h[j] << b->r1 | rk;
            }
        }
    }
    return true;
}

/* Insertion sort of a short run of words: by hash, then rank. */
static void
insertion_sort(uint64_t *w, size_t lo, size_t hi)
{
    for (size_t i = lo + 1; i < hi; i++) {
        uint64_t v = w[i];
        size_t j = i;
        while (j > lo && w[j - 1] > v) {
            w[j] = w[j - 1];
            j--;
        }
        w[j] = v;
    }
}

/*
 * Step 3 for group g, the hi - lo points at w[from] (from >= lo), sorted
 * into w[lo, hi) (no later group's points lie below hi): spread it over
 * 2^FINE_BITS sub-buckets per index bucket (the next r2 + FINE_BITS
 * bits), whose starts give the index; sort; and turn each hash << r1 |
 * rank into hash << ibits | owner.
 * NOTE(ring2): the finer spread leaves ~1/2^FINE_BITS as many points out
 * of order for the insertion sort, whose mispredicted branches cost more
 * than the larger count array.
 */
static void
sort_group(struct ring_points *pts, const struct build *b, size_t g,
    size_t from, size_t lo, size_t hi)
{
    unsigned fbits = b->r2 + FINE_BITS, fshift = 64 - fbits;
    size_t nsub = (size_t)1 << fbits, n = hi - lo;
    uint64_t r1mask = (UINT64_C(1) << b->r1) - 1, *w = pts->word;
    uint32_t *c = b->count;

    memset(c, 0, (nsub + 1) * sizeof(*c));
    for (size_t i = 0; i < n; i++) {
        c[(w[from + i] >> fshift) + 1]++;
    }
    for (size_t s = 0; s < nsub; s++) {
        c[s + 1] += c[s];
    }
    for (size_t s = 0; s < nsub; s += (size_t)1 << FINE_BITS) {
        pts->index[g << b->r2 | s >> FINE_BITS] = (uint32_t)(lo + c[s]);
    }
    /* Sorted in the scratch buffer, in cache; the array is only read and
     * written in sequence. */
    for (size_t i = 0; i < n; i++) {
        uint64_t x = w[from + i];
        b->scratch[c[x >> fshift]++] = x;
    }
    /* Nearly sorted now: only points in the same sub-bucket can be out of
     * order, so one insertion sort over the group is linear. */
    insertion_sort(b->scratch, 0, n);
    for (size_t i = 0; i < n; i++) {
        uint64_t x = b->scratch[i];
        w[lo + i] = (x >> b->r1) << pts->ibits | b->node_of[x & r1mask];
    }
}

/* block[k]: the bucket of point k << RING_BLOCK_SHIFT. */
static void
fill_blocks(struct ring_points *pts)
{
    size_t nblocks = (pts->n >> RING_BLOCK_SHIFT) + 1, b = 0;

    pts->block = xcalloc(nblocks, sizeof(*pts->block));
    for (size_t k = 0; k < nblocks; k++) {
        size_t i = k << RING_BLOCK_SHIFT;
        if (i >= pts->n) {
            break;
        }
        while (pts->index[b + 1] <= i) {
            b++;
        }
        pts->block[k] = (uint32_t)b;
    }
}

/*
 * Step 2 in one pass, without step 1: group g gets room for `room` points
 * from g * room. False when a group overflows (w is then garbage).
 */
static bool
place_one_pass(struct build *b, uint64_t *w, size_t room)
{
    for (size_t g = 0; g < (size_t)1 << b->r1; g++) {
        b->first[g] = b->next[g] = g * room;
        b->end[g] = (g + 1) * room;
    }
    return place(b, w, b->end);
}

/* Steps 1 and 2: count, then place into exact rooms. */
static void
place_counted(struct build *b, uint64_t *w)
{
    size_t ngroups = (size_t)1 << b->r1;

    memset(b->next, 0, (ngroups + 1) * sizeof(*b->next));
    count_groups(b, b->next + 1);
    for (size_t g = 0; g < ngroups; g++) {
        b->next[g + 1] += b->next[g];
        b->first[g] = b->next[g];
    }
    (void)place(b, w, NULL);
}

/* Step 3 over every group, which step 2 left at w[first[g], next[g]). */
static void
sort_groups(struct ring_points *pts, struct build *b)
{
    size_t ngroups = (size_t)1 << b->r1, largest = 1, lo = 0;

    for (size_t g = 0; g < ngroups; g++) {
        size_t n = b->next[g] - b->first[g];
        largest = n > largest ? n : largest;
    }
    pts->index = xmalloc((((size_t)1 << pts->ibits) + 1) *
        sizeof(*pts->index));
    b->scratch = xmalloc(largest * sizeof(*b->scratch));
    b->count = xmalloc((((size_t)1 << (b->r2 + FINE_BITS)) + 1) *
        sizeof(*b->count));
    for (size_t g = 0; g < ngroups; g++) {
        size_t n = b->next[g] - b->first[g];
        sort_group(pts, b, g, b->first[g], lo, lo + n);
        lo += n;
    }
    pts->index[(size_t)1 << pts->ibits] = (uint32_t)pts->n;
    free(b->scratch);
    free(b->count);
}

/* Room per group for the one-pass placement: a group's count is about
 * Poisson with mean m, so m + slack standard deviations (and a little). */
static size_t
group_room(size_t total, unsigned r1, unsigned slack)
{
    size_t mean = total >> r1, sd = 1;

    while (sd * sd < mean) {
        sd++;
    }
    return mean + slack * (sd + 1);
}

bool
ring_points_build(struct ring_points *pts, const struct ring_points_src *src)
{
    struct build b = { .src = src };
    unsigned ob = bits_for(src->nnodes);
    size_t ngroups, room, cap;
    bool one_pass;

    pts->n = src->total;
    pts->ibits = index_bits(src->total, src->nnodes, src->bits);
    /* The group holds the top r1 bits: the freed low bits carry the rank,
     * so r1 >= ob (and r1 <= ibits, which is >= ob). */
    b.r1 = pts->ibits < PASS1_BITS ? pts->ibits : PASS1_BITS;
    b.r1 = b.r1 > ob ? b.r1 : ob;
    b.r2 = pts->ibits - b.r1;
    ngroups = (size_t)1 << b.r1;
    b.node_of = xmalloc(src->nnodes * sizeof(*b.node_of));
    for (size_t i = 0; i < src->nnodes; i++) {
        b.node_of[src->rank[i]] = (uint32_t)i;
    }
    b.next = xcalloc(ngroups + 1, sizeof(*b.next));
    b.first = xmalloc(ngroups * sizeof(*b.first));
    b.end = xmalloc(ngroups * sizeof(*b.end));
    room = group_room(src->total, b.r1, src->slack);
    cap = room * ngroups > src->total ? room * ngroups : src->total;
    pts->word = xmalloc((cap > 0 ? cap : 1) * sizeof(*pts->word));
    one_pass = place_one_pass(&b, pts->word, room);
    if (!one_pass) {
        place_counted(&b, pts->word);
    }
    sort_groups(pts, &b);
    pts->word = xrealloc(pts->word, (pts->n > 0 ? pts->n : 1) *
        sizeof(*pts->word));
    fill_blocks(pts);
    free(b.next);
    free(b.first);
    free(b.end);
    free(b.node_of);
    return one_pass;
}

void
ring_points_fini(struct ring_points *pts)
{
    free(pts->word);
    free(pts->index);
    free(pts->block);
    memset(pts, 0, sizeof(*pts));
}

size_t
ring_points_memory(const struct ring_points *pts)
{
    return pts->n * sizeof(*pts->word) +
        (((size_t)1 << pts->ibits) + 1) * sizeof(*pts->index) +
        ((pts->n >> RING_BLOCK_SHIFT) + 1) * sizeof(*pts->block);
}

uint64_t
ring_points_hash(const struct ring_points *pts, size_t i)
{
    struct ring_points_walk w = { pts->block[i >> RING_BLOCK_SHIFT] };

    return ring_points_walk_hash(pts, &w, i);
}
