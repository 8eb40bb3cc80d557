/*
 * The ring value: validating and copying the node list, building it (the
 * points themselves: points.c), looking keys up through the index on the
 * top bits of the hash, and exact ownership and movement from arc
 * lengths. See ring.h for the placement rules.
 */
#include "ring/ring.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "ring/hashkit.h"
#include "ring/points.h"

struct ring {
    struct ring_params params;
    size_t nnodes;
    struct ring_node *nodes; /* name/addr point into `arena` */
    char *arena;
    /* Sorted by (hash, name rank) in a 64-bit space: ketama's 32-bit
     * points and key hashes are shifted into the top half. */
    struct ring_points pts;
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

/* ---- building ------------------------------------------------------------ */

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
    copy_nodes(r, nodes, n);
    (void)ring_points_build(&r->pts, &(struct ring_points_src){
        .mode = params.mode, .nodes = r->nodes, .nnodes = n,
        .per_node = per_node, .rank = rank, .total = total, .bits = r->bits,
        .slack = RING_POINTS_SLACK });
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
    ring_points_fini(&r->pts);
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

uint32_t
ring_lookup(const struct ring *r, struct str key)
{
    uint64_t h = ring_key_hash(r, key);

    if (r->pts.n == 0) {
        return RING_NO_NODE;
    }
    return ring_points_owner(&r->pts,
        ring_points_find(&r->pts, h << (64 - r->bits)));
}

void
ring_locate(const struct ring *r, struct str key, struct ring_hit *hit)
{
    size_t i;

    hit->key_hash = ring_key_hash(r, key);
    if (r->pts.n == 0) {
        hit->node = RING_NO_NODE;
        hit->point = 0;
        hit->point_idx = 0;
        return;
    }
    i = ring_points_find(&r->pts, hit->key_hash << (64 - r->bits));
    hit->node = ring_points_owner(&r->pts, i);
    hit->point = ring_points_hash(&r->pts, i) >> (64 - r->bits);
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
    return r->pts.n;
}

uint64_t
ring_point(const struct ring *r, size_t i, uint32_t *node)
{
    if (node != NULL) {
        *node = ring_points_owner(&r->pts, i);
    }
    return ring_points_hash(&r->pts, i) >> (64 - r->bits);
}

unsigned
ring_hash_bits(const struct ring *r)
{
    return r->bits;
}

size_t
ring_memory(const struct ring *r)
{
    size_t arena = 0;

    for (size_t i = 0; i < r->nnodes; i++) {
        arena += r->nodes[i].name.len + r->nodes[i].addr.len + 2;
    }
    return sizeof(*r) + r->nnodes * sizeof(*r->nodes) + arena +
        ring_points_memory(&r->pts);
}

/* ---- exact ownership and movement ---------------------------------------- */

void
ring_ownership(const struct ring *r, double *share)
{
    const struct ring_points *pts = &r->pts;
    struct ring_points_walk w = { 0 };
    unsigned sh = 64 - r->bits;
    double space = ldexp(1.0, (int)r->bits);
    uint64_t first, prev;

    for (size_t i = 0; i < r->nnodes; i++) {
        share[i] = 0.0;
    }
    if (pts->n == 0) {
        return;
    }
    /* Point i owns (p[i-1], p[i]]; point 0 also owns the wrap-around. */
    first = prev = ring_points_walk_hash(pts, &w, 0) >> sh;
    for (size_t i = 1; i < pts->n; i++) {
        uint64_t cur = ring_points_walk_hash(pts, &w, i) >> sh;
        share[ring_points_owner(pts, i)] += (double)(cur - prev) / space;
        prev = cur;
    }
    share[ring_points_owner(pts, 0)] += ((double)first + space -
        (double)prev) / space;
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
    const struct ring_points *ap = &a->pts, *bp = &b->pts;
    struct ring_points_walk aw = { 0 }, bw = { 0 };
    unsigned sh = 64 - a->bits;
    double space = ldexp(1.0, (int)a->bits), prev = -1.0;
    size_t i = 0, j = 0, na = a->nnodes, nb = b->nnodes;

    if (!same_hashing(a, b)) {
        return RING_EMISMATCH;
    }
    for (size_t k = 0; k < na * nb; k++) {
        moved[k] = 0.0;
    }
    if (ap->n == 0 || bp->n == 0) {
        return RING_OK;
    }
    /* Walk the union of both rings' points; between two consecutive
     * breakpoints each ring has one owner: the next point of each. */
    while (i < ap->n || j < bp->n) {
        uint64_t pa = i < ap->n ?
            ring_points_walk_hash(ap, &aw, i) >> sh : UINT64_MAX;
        uint64_t pb = j < bp->n ?
            ring_points_walk_hash(bp, &bw, j) >> sh : UINT64_MAX;
        uint64_t cur = pa < pb ? pa : pb;
        uint32_t oa = ring_points_owner(ap, i < ap->n ? i : 0);
        uint32_t ob = ring_points_owner(bp, j < bp->n ? j : 0);
        moved[(size_t)oa * nb + ob] += ((double)cur - prev) / space;
        prev = (double)cur;
        i += pa == cur;
        j += pb == cur;
    }
    moved[(size_t)ring_points_owner(ap, 0) * nb +
        ring_points_owner(bp, 0)] +=
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
