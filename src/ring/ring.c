/*
 * The ring value: building it (ring v1 and ketama points, sorted with a
 * bucket sort on the top bits of the hash), looking keys up through an
 * index on those same top bits, and exact ownership and movement from arc
 * lengths. See ring.h for the placement rules.
 */
#include "ring/ring.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "ring/hashkit.h"

struct ring {
    struct ring_params params;
    size_t nnodes;
    struct ring_node *nodes; /* name/addr point into `arena` */
    char *arena;
    size_t npoints;
    uint64_t *points; /* sorted; ketama values are shifted left by 32 */
    uint16_t *owner;  /* while building: owner[i] owns points[i] */
    /* For lookups, one word per point: the top 48 bits of its hash and
     * its owner in the low 16, so a lookup touches one array. */
    uint64_t *packed;
    uint32_t *index;  /* index[b]: first point whose top bits are >= b */
    unsigned ishift;  /* 64 - index bits */
    unsigned bits;    /* width of the hash space: 64 or 32 */
};

void
ring_params_init(struct ring_params *p)
{
    memset(p, 0, sizeof(*p));
    p->mode = RING_MODE_V1;
    p->vnodes = RING_DEFAULT_VNODES;
    p->hash = RING_HASH_FNV1A_64;
}

/* ---- validation and node copies ------------------------------------------ */

/* Order of names for ties: ring v1 sorts bytewise; ketama reproduces
 * twemproxy, whose server array is sorted by (length, bytes). */
static int
name_cmp(enum ring_mode m, struct str a, struct str b)
{
    if (m == RING_MODE_KETAMA && a.len != b.len) {
        return a.len < b.len ? -1 : 1;
    }
    return str_cmp(a, b);
}

struct name_ref {
    struct str name;
    uint32_t idx;
};

static int
v1_order_cmp(const void *x, const void *y)
{
    const struct name_ref *a = x, *b = y;
    return name_cmp(RING_MODE_V1, a->name, b->name);
}

static int
ketama_order_cmp(const void *x, const void *y)
{
    const struct name_ref *a = x, *b = y;
    return name_cmp(RING_MODE_KETAMA, a->name, b->name);
}

/*
 * Fill rank[i] with node i's position in name order (the order ties are
 * won in). RING_EINVAL on a duplicate name.
 */
static enum ring_status
rank_nodes(enum ring_mode m, const struct ring_node *nodes, size_t n,
    uint32_t *rank)
{
    struct name_ref *refs = xmalloc(n * sizeof(*refs));
    enum ring_status st = RING_OK;

    for (size_t i = 0; i < n; i++) {
        refs[i] = (struct name_ref){ nodes[i].name, (uint32_t)i };
    }
    qsort(refs, n, sizeof(*refs),
        m == RING_MODE_KETAMA ? ketama_order_cmp : v1_order_cmp);
    for (size_t i = 0; i < n; i++) {
        rank[refs[i].idx] = (uint32_t)i;
        if (i > 0 && str_eq(refs[i].name, refs[i - 1].name)) {
            st = RING_EINVAL;
        }
    }
    free(refs);
    return st;
}

static enum ring_status
check_nodes(const struct ring_params *p, const struct ring_node *nodes,
    size_t n)
{
    if (n == 0 || n > RING_MAX_NODES || p->vnodes > RING_MAX_VNODES ||
        (p->mode != RING_MODE_V1 && p->mode != RING_MODE_KETAMA) ||
        (unsigned)p->hash >= RING_HASH_COUNT) {
        return RING_EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        if (nodes[i].name.len == 0 || nodes[i].name.len > RING_MAX_NAME ||
            nodes[i].weight > RING_MAX_WEIGHT) {
            return RING_EINVAL;
        }
    }
    return RING_OK;
}

/* Copy names and addresses into one arena owned by the ring. */
static void
copy_nodes(struct ring *r, const struct ring_node *nodes, size_t n)
{
    size_t total = 0, off = 0;

    for (size_t i = 0; i < n; i++) {
        total += nodes[i].name.len + nodes[i].addr.len + 2;
    }
    r->arena = xmalloc(total);
    r->nodes = xcalloc(n, sizeof(*r->nodes));
    r->nnodes = n;
    for (size_t i = 0; i < n; i++) {
        struct str parts[2] = { nodes[i].name, nodes[i].addr };
        struct str *dst[2] = { &r->nodes[i].name, &r->nodes[i].addr };
        for (int k = 0; k < 2; k++) {
            if (parts[k].len > 0) {
                memcpy(r->arena + off, parts[k].ptr, parts[k].len);
            }
            r->arena[off + parts[k].len] = '\0';
            *dst[k] = (struct str){ r->arena + off, parts[k].len };
            off += parts[k].len + 1;
        }
        r->nodes[i].weight = nodes[i].weight;
    }
}

/* ---- point generation ---------------------------------------------------- */

/* Add one to the decimal number in buf[0..*len) in place. */
static void
decimal_incr(char *buf, size_t *len)
{
    size_t i = *len;

    while (i > 0) {
        i--;
        if (buf[i] != '9') {
            buf[i]++;
            return;
        }
        buf[i] = '0';
    }
    memmove(buf + 1, buf, *len);
    buf[0] = '1';
    (*len)++;
}

/* Ring v1: point i of a node is XXH3_64bits("<name>#<i>"). */
static size_t
v1_points(const struct ring_node *node, uint16_t idx, uint32_t vnodes,
    uint64_t *hash, uint16_t *owner)
{
    char buf[RING_MAX_NAME + 16];
    size_t n = (size_t)vnodes * node->weight, prefix = node->name.len + 1;
    size_t dlen = 1;

    memcpy(buf, node->name.ptr, node->name.len);
    buf[node->name.len] = '#';
    buf[prefix] = '0';
    for (size_t i = 0; i < n; i++) {
        hash[i] = XXH3_64bits(buf, prefix + dlen);
        owner[i] = idx;
        decimal_incr(buf + prefix, &dlen);
    }
    return n;
}

/* Points each node gets; false when the total passes RING_MAX_POINTS. */
static bool
count_points(const struct ring_params *p, const struct ring_node *nodes,
    size_t n, uint32_t *per_node, size_t *total)
{
    uint32_t nlive = 0, total_weight = 0;
    uint64_t sum = 0;

    for (size_t i = 0; i < n; i++) {
        if (nodes[i].weight > 0) {
            nlive++;
            total_weight += nodes[i].weight;
        }
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t k;
        if (p->mode == RING_MODE_V1) {
            k = (uint64_t)p->vnodes * nodes[i].weight;
        } else {
            k = nodes[i].weight == 0 ? 0 :
                ring_ketama_npoints(nodes[i].weight, total_weight, nlive);
        }
        if (k > RING_MAX_POINTS) {
            return false;
        }
        per_node[i] = (uint32_t)k;
        sum += k;
    }
    *total = (size_t)sum;
    return sum <= RING_MAX_POINTS;
}

/* ---- sorting and the index ----------------------------------------------- */

#define RADIX_BITS 11
#define PACK_MASK UINT64_C(0xffff) /* owner bits of a packed point */

static uint32_t
owner_at(const struct ring *r, size_t i)
{
    return (uint32_t)(r->packed[i] & PACK_MASK);
}
#define RADIX (1u << RADIX_BITS)

/* Index bits: about two points per bucket, at most 22 bits (16 MiB),
 * the bits the sort already groups by. */
static unsigned
index_bits(size_t npoints, unsigned bits)
{
    unsigned b = 1;

    while (b < 22 && ((size_t)2 << b) < npoints) {
        b++;
    }
    return b < bits ? b : bits;
}

static unsigned
top_bucket(uint64_t h)
{
    return (unsigned)(h >> (64 - RADIX_BITS));
}

/* Insertion sort of a short run by (hash, name rank of the owner). */
static void
insertion_sort(uint64_t *h, uint16_t *o, size_t lo, size_t hi,
    const uint32_t *rank)
{
    for (size_t i = lo + 1; i < hi; i++) {
        uint64_t vh = h[i];
        uint16_t vo = o[i];
        size_t j = i;
        while (j > lo && (h[j - 1] > vh ||
            (h[j - 1] == vh && rank[o[j - 1]] > rank[vo]))) {
            h[j] = h[j - 1];
            o[j] = o[j - 1];
            j--;
        }
        h[j] = vh;
        o[j] = vo;
    }
}

/*
 * Sort [lo, hi) of `h`/`o`, whose points share their top RADIX_BITS bits:
 * scatter them from the buffer `th`/`to` by the next RADIX_BITS bits,
 * then insertion-sort the tiny runs.
 */
static void
sort_bucket(struct ring *r, size_t b, size_t lo, size_t hi,
    const uint64_t *th, const uint16_t *to, const uint32_t *rank)
{
    size_t count[RADIX + 1];
    unsigned shift = 64 - 2 * RADIX_BITS, ibits = 64 - r->ishift;
    uint64_t *h = r->points;
    uint16_t *o = r->owner;

    memset(count, 0, sizeof(count));
    for (size_t i = lo; i < hi; i++) {
        count[((th[i] >> shift) & (RADIX - 1)) + 1]++;
    }
    count[0] = lo;
    for (size_t s = 0; s < RADIX; s++) {
        count[s + 1] += count[s];
    }
    for (size_t i = lo; i < hi; i++) {
        size_t at = count[(th[i] >> shift) & (RADIX - 1)]++;
        h[at] = th[i];
        o[at] = to[i];
    }
    /* Each count[s] now ends sub-bucket s, whose points share their top
     * 22 bits: its start is the lookup index entry when those bits begin
     * a bucket of the (at most 22-bit) index. */
    for (size_t s = 0, from = lo; s < RADIX; from = count[s], s++) {
        size_t top22 = b << RADIX_BITS | s;
        if ((top22 & (((size_t)1 << (2 * RADIX_BITS - ibits)) - 1)) == 0) {
            r->index[top22 >> (2 * RADIX_BITS - ibits)] = (uint32_t)from;
        }
        if (count[s] - from > 1) {
            insertion_sort(h, o, from, count[s], rank);
        }
    }
}

/*
 * Sort the points by (hash, name rank): the first of equal hashes is the
 * winner. Hashes are uniform, so two radix passes on the top 22 bits (the
 * first into a buffer, the second back, one cache-sized bucket at a time)
 * leave runs of a point or two for an insertion sort: linear time.
 */
static void
sort_points(struct ring *r, const uint32_t *rank, size_t *start)
{
    size_t n = r->npoints, next[RADIX];
    uint64_t *th = xmalloc((n > 0 ? n : 1) * sizeof(*th));
    uint16_t *to = xmalloc((n > 0 ? n : 1) * sizeof(*to));

    r->index = xmalloc((((size_t)1 << (64 - r->ishift)) + 1) *
        sizeof(*r->index));
    for (size_t b = 0; b < RADIX; b++) {
        start[b + 1] += start[b];
        next[b] = start[b];
    }
    for (size_t i = 0; i < n; i++) {
        size_t at = next[top_bucket(r->points[i])]++;
        th[at] = r->points[i];
        to[at] = r->owner[i];
    }
    for (size_t b = 0; b < RADIX; b++) {
        sort_bucket(r, b, start[b], start[b + 1], th, to, rank);
    }
    r->index[(size_t)1 << (64 - r->ishift)] = (uint32_t)n;
    free(th);
    free(to);
}

/* Generate every node's points, then sort and index them. */
static void
place_points(struct ring *r, const uint32_t *rank, const uint32_t *per_node)
{
    size_t at = 0, cap = r->npoints > 0 ? r->npoints : 1, start[RADIX + 1];

    r->points = xmalloc(cap * sizeof(*r->points));
    r->owner = xmalloc(cap * sizeof(*r->owner));
    for (size_t i = 0; i < r->nnodes; i++) {
        if (r->params.mode == RING_MODE_V1) {
            at += v1_points(&r->nodes[i], (uint16_t)i, r->params.vnodes,
                r->points + at, r->owner + at);
        } else {
            at += ring_ketama_points(&r->nodes[i], (uint16_t)i, per_node[i],
                r->points + at, r->owner + at);
        }
    }
    /* The top-bucket histogram for the sort. */
    memset(start, 0, sizeof(start));
    for (size_t i = 0; i < r->npoints; i++) {
        start[top_bucket(r->points[i]) + 1]++;
    }
    r->ishift = 64 - index_bits(r->npoints, r->bits);
    sort_points(r, rank, start);
    r->packed = xmalloc(cap * sizeof(*r->packed));
    for (size_t i = 0; i < r->npoints; i++) {
        r->packed[i] = (r->points[i] & ~PACK_MASK) | r->owner[i];
    }
    free(r->owner);
    r->owner = NULL;
}

enum ring_status
ring_build(const struct ring_params *p, const struct ring_node *nodes,
    size_t n, struct ring **out)
{
    struct ring_params params = *p;
    enum ring_status st;
    uint32_t *rank, *per_node;
    struct ring *r;
    size_t total;

    if (params.mode == RING_MODE_V1 && params.vnodes == 0) {
        params.vnodes = RING_DEFAULT_VNODES;
    }
    st = check_nodes(&params, nodes, n);
    if (st != RING_OK) {
        return st;
    }
    rank = xmalloc(n * sizeof(*rank));
    per_node = xmalloc(n * sizeof(*per_node));
    st = rank_nodes(params.mode, nodes, n, rank);
    if (st == RING_OK && !count_points(&params, nodes, n, per_node, &total)) {
        st = RING_ETOOBIG;
    }
    if (st != RING_OK) {
        goto fail;
    }
    r = xcalloc(1, sizeof(*r));
    r->params = params;
    r->bits = params.mode == RING_MODE_V1 ? 64 : 32;
    r->npoints = total;
    copy_nodes(r, nodes, n);
    place_points(r, rank, per_node);
    *out = r;
fail:
    free(rank);
    free(per_node);
    return st;
}

void
ring_destroy(struct ring *r)
{
    if (r == NULL) {
        return;
    }
    free(r->points);
    free(r->packed);
    free(r->index);
    free(r->nodes);
    free(r->arena);
    free(r);
}

/* ---- lookup -------------------------------------------------------------- */

struct str
ring_hash_tag_apply(const struct ring_params *p, struct str key)
{
    const char *end = key.ptr + key.len, *s, *e;

    if (!p->has_hash_tag || key.len == 0) {
        return key;
    }
    s = memchr(key.ptr, p->hash_tag[0], key.len);
    if (s == NULL) {
        return key;
    }
    e = memchr(s + 1, p->hash_tag[1], (size_t)(end - (s + 1)));
    if (e == NULL || e - s <= 1) {
        return key;
    }
    return (struct str){ s + 1, (size_t)(e - (s + 1)) };
}

uint64_t
ring_key_hash(const struct ring *r, struct str key)
{
    key = ring_hash_tag_apply(&r->params, key);
    if (r->params.mode == RING_MODE_V1) {
        return XXH3_64bits(key.ptr, key.len);
    }
    /* twemproxy hashes an empty key to 0 without calling the hash. */
    return key.len == 0 ? 0 : ring_twem_hash(r->params.hash, key);
}

/*
 * Index of the first point >= h (in the 64-bit space), wrapping to 0.
 * Compares the packed top 48 bits; only when those equal the key's does
 * it read the full hash, so a lookup stays exact.
 */
static size_t
find_point(const struct ring *r, uint64_t h)
{
    size_t b = (size_t)(h >> r->ishift);
    size_t i = r->index[b], end = r->index[b + 1];
    uint64_t top = h & ~PACK_MASK;

    while (i < end) {
        uint64_t p = r->packed[i] & ~PACK_MASK;
        if (p > top || (p == top && r->points[i] >= h)) {
            break;
        }
        i++;
    }
    return i < r->npoints ? i : 0;
}

uint32_t
ring_lookup(const struct ring *r, struct str key)
{
    uint64_t h = ring_key_hash(r, key);

    if (r->npoints == 0) {
        return RING_NO_NODE;
    }
    return owner_at(r, find_point(r, h << (64 - r->bits)));
}

void
ring_locate(const struct ring *r, struct str key, struct ring_hit *hit)
{
    size_t i;

    hit->key_hash = ring_key_hash(r, key);
    if (r->npoints == 0) {
        hit->node = RING_NO_NODE;
        hit->point = 0;
        hit->point_idx = 0;
        return;
    }
    i = find_point(r, hit->key_hash << (64 - r->bits));
    hit->node = owner_at(r, i);
    hit->point = r->points[i] >> (64 - r->bits);
    hit->point_idx = (uint32_t)i;
}

/* ---- accessors ----------------------------------------------------------- */

const struct ring_params *
ring_params(const struct ring *r)
{
    return &r->params;
}

size_t
ring_node_count(const struct ring *r)
{
    return r->nnodes;
}

struct str
ring_node_name(const struct ring *r, uint32_t node)
{
    return r->nodes[node].name;
}

struct str
ring_node_addr(const struct ring *r, uint32_t node)
{
    return r->nodes[node].addr;
}

uint32_t
ring_node_weight(const struct ring *r, uint32_t node)
{
    return r->nodes[node].weight;
}

size_t
ring_point_count(const struct ring *r)
{
    return r->npoints;
}

uint64_t
ring_point(const struct ring *r, size_t i, uint32_t *node)
{
    if (node != NULL) {
        *node = owner_at(r, i);
    }
    return r->points[i] >> (64 - r->bits);
}

unsigned
ring_hash_bits(const struct ring *r)
{
    return r->bits;
}

/* ---- exact ownership and movement ---------------------------------------- */

void
ring_ownership(const struct ring *r, double *share)
{
    unsigned sh = 64 - r->bits;
    double space = ldexp(1.0, (int)r->bits);

    for (size_t i = 0; i < r->nnodes; i++) {
        share[i] = 0.0;
    }
    if (r->npoints == 0) {
        return;
    }
    /* Point i owns (p[i-1], p[i]]; point 0 also owns the wrap-around. */
    for (size_t i = 1; i < r->npoints; i++) {
        uint64_t arc = (r->points[i] >> sh) - (r->points[i - 1] >> sh);
        share[owner_at(r, i)] += (double)arc / space;
    }
    share[owner_at(r, 0)] += ((double)(r->points[0] >> sh) + space -
        (double)(r->points[r->npoints - 1] >> sh)) / space;
}

static bool
same_hashing(const struct ring *a, const struct ring *b)
{
    const struct ring_params *p = &a->params, *q = &b->params;

    if (p->mode != q->mode || p->has_hash_tag != q->has_hash_tag) {
        return false;
    }
    if (p->has_hash_tag && memcmp(p->hash_tag, q->hash_tag, 2) != 0) {
        return false;
    }
    return p->mode == RING_MODE_V1 || p->hash == q->hash;
}

enum ring_status
ring_diff(const struct ring *a, const struct ring *b, double *moved)
{
    unsigned sh = 64 - a->bits;
    double space = ldexp(1.0, (int)a->bits), prev = -1.0;
    size_t i = 0, j = 0, na = a->nnodes, nb = b->nnodes;

    if (!same_hashing(a, b)) {
        return RING_EMISMATCH;
    }
    for (size_t k = 0; k < na * nb; k++) {
        moved[k] = 0.0;
    }
    if (a->npoints == 0 || b->npoints == 0) {
        return RING_OK;
    }
    /* Walk the union of both rings' points; between two consecutive
     * breakpoints each ring has one owner: the next point of each. */
    while (i < a->npoints || j < b->npoints) {
        uint64_t pa = i < a->npoints ? a->points[i] >> sh : UINT64_MAX;
        uint64_t pb = j < b->npoints ? b->points[j] >> sh : UINT64_MAX;
        uint64_t cur = pa < pb ? pa : pb;
        uint32_t oa = owner_at(a, i < a->npoints ? i : 0);
        uint32_t ob = owner_at(b, j < b->npoints ? j : 0);
        moved[(size_t)oa * nb + ob] += ((double)cur - prev) / space;
        prev = (double)cur;
        i += pa == cur;
        j += pb == cur;
    }
    moved[(size_t)owner_at(a, 0) * nb + owner_at(b, 0)] +=
        (space - 1.0 - prev) / space;
    return RING_OK;
}

/* ---- names --------------------------------------------------------------- */

static const char *const hash_names[RING_HASH_COUNT] = {
    [RING_HASH_FNV1A_64] = "fnv1a_64",
    [RING_HASH_FNV1_64] = "fnv1_64",
    [RING_HASH_FNV1A_32] = "fnv1a_32",
    [RING_HASH_FNV1_32] = "fnv1_32",
    [RING_HASH_MD5] = "md5",
    [RING_HASH_CRC16] = "crc16",
    [RING_HASH_CRC32] = "crc32",
    [RING_HASH_CRC32A] = "crc32a",
    [RING_HASH_ONE_AT_A_TIME] = "one_at_a_time",
    [RING_HASH_MURMUR] = "murmur",
    [RING_HASH_HSIEH] = "hsieh",
    [RING_HASH_JENKINS] = "jenkins",
};

const char *
ring_mode_name(enum ring_mode m)
{
    return m == RING_MODE_KETAMA ? "ketama" : "v1";
}

const char *
ring_hash_name(enum ring_hash h)
{
    return (unsigned)h < RING_HASH_COUNT ? hash_names[h] : "?";
}

bool
ring_hash_parse(struct str s, enum ring_hash *out)
{
    for (int h = 0; h < RING_HASH_COUNT; h++) {
        if (str_eq_cstr(s, hash_names[h])) {
            *out = (enum ring_hash)h;
            return true;
        }
    }
    return false;
}

const char *
ring_strerror(enum ring_status st)
{
    switch (st) {
    case RING_OK:
        return "ok";
    case RING_EINVAL:
        return "invalid node list (empty, too long or duplicate name, "
            "or weight/vnodes out of range)";
    case RING_ETOOBIG:
        return "too many points on the ring";
    case RING_EMISMATCH:
        return "the rings hash keys differently (mode, hash or hash_tag)";
    case RING_ESYNTAX:
        return "configuration error";
    }
    return "unknown error";
}
