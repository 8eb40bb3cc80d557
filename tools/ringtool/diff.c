/*
 * ringtool diff OLD NEW: exactly what fraction of the key space changes
 * owner between two configurations, as a from -> to matrix, and whether
 * any of it moves between two nodes that did not change.
 */
#include "tools/ringtool/ringtool.h"

#include <stdlib.h>
#include <string.h>

#define MATRIX_MAX 12 /* print the full matrix up to this many nodes */

/* Index of the node called `name` in `r`, or RING_NO_NODE. */
static uint32_t
find_node(const struct ring *r, struct str name)
{
    for (size_t i = 0; i < ring_node_count(r); i++) {
        if (str_eq(ring_node_name(r, (uint32_t)i), name)) {
            return (uint32_t)i;
        }
    }
    return RING_NO_NODE;
}

/* A node is unchanged when the other ring has it with the same weight. */
static bool
unchanged(const struct ring *a, uint32_t i, const struct ring *b)
{
    uint32_t j = find_node(b, ring_node_name(a, i));
    return j != RING_NO_NODE &&
        ring_node_weight(b, j) == ring_node_weight(a, i);
}

struct diff_sums {
    double moved;       /* owner name changed */
    double between;     /* ... between two unchanged nodes */
    size_t nflows;
};

static void
sum_moves(const struct ring *a, const struct ring *b, const double *m,
    struct diff_sums *s)
{
    size_t na = ring_node_count(a), nb = ring_node_count(b);

    memset(s, 0, sizeof(*s));
    for (size_t i = 0; i < na; i++) {
        for (size_t j = 0; j < nb; j++) {
            double f = m[i * nb + j];
            if (f <= 0 || str_eq(ring_node_name(a, (uint32_t)i),
                ring_node_name(b, (uint32_t)j))) {
                continue;
            }
            s->moved += f;
            s->nflows++;
            if (unchanged(a, (uint32_t)i, b) &&
                unchanged(b, (uint32_t)j, a)) {
                s->between += f;
            }
        }
    }
}

static void
print_json(const struct ring *a, const struct ring *b, const double *m,
    const struct diff_sums *s)
{
    size_t na = ring_node_count(a), nb = ring_node_count(b);
    bool first = true;

    printf("{\"ok\":true,\"moved\":%.9f,\"moved_between_unchanged\":%.9f,"
        "\"flows\":[", s->moved, s->between);
    for (size_t i = 0; i < na; i++) {
        for (size_t j = 0; j < nb; j++) {
            struct str from = ring_node_name(a, (uint32_t)i);
            struct str to = ring_node_name(b, (uint32_t)j);
            if (m[i * nb + j] <= 0 || str_eq(from, to)) {
                continue;
            }
            printf("%s{\"from\":", first ? "" : ",");
            rt_json_str(stdout, from);
            printf(",\"to\":");
            rt_json_str(stdout, to);
            printf(",\"fraction\":%.9f}", m[i * nb + j]);
            first = false;
        }
    }
    printf("]}\n");
}

static void
print_matrix(const struct ring *a, const struct ring *b, const double *m)
{
    size_t na = ring_node_count(a), nb = ring_node_count(b);

    printf("\n%% of keys, rows: old owner, columns: new owner\n%-16s",
        "old \\ new");
    for (size_t j = 0; j < nb; j++) {
        struct str n = ring_node_name(b, (uint32_t)j);
        printf(" %9.9s", n.len > 9 ? n.ptr + n.len - 9 : n.ptr);
    }
    printf("\n");
    for (size_t i = 0; i < na; i++) {
        struct str n = ring_node_name(a, (uint32_t)i);
        printf("%-16.*s", (int)(n.len > 16 ? 16 : n.len), n.ptr);
        for (size_t j = 0; j < nb; j++) {
            printf(" %9.4f", 100 * m[i * nb + j]);
        }
        printf("\n");
    }
}

static void
print_text(const struct ring *a, const struct ring *b, const double *m,
    const struct diff_sums *s)
{
    size_t na = ring_node_count(a), nb = ring_node_count(b);

    printf("moved: %.4f%% of the key space changes owner\n", 100 * s->moved);
    for (size_t i = 0; i < na; i++) {
        for (size_t j = 0; j < nb; j++) {
            struct str from = ring_node_name(a, (uint32_t)i);
            struct str to = ring_node_name(b, (uint32_t)j);
            if (m[i * nb + j] > 0 && !str_eq(from, to)) {
                printf("  %.*s -> %.*s: %.4f%%\n", (int)from.len, from.ptr,
                    (int)to.len, to.ptr, 100 * m[i * nb + j]);
            }
        }
    }
    if (na <= MATRIX_MAX && nb <= MATRIX_MAX) {
        print_matrix(a, b, m);
    }
    if (s->between > 0) {
        printf("\nbetween unchanged nodes: %.4f%% of the key space moves "
            "between nodes whose weight did not change\n", 100 * s->between);
    } else {
        printf("\nbetween unchanged nodes: none (only keys of added, "
            "removed or reweighted nodes move)\n");
    }
}

int
rt_diff(const struct rt_opts *o)
{
    struct rt_ring old, new;
    struct diff_sums s;
    double *m;
    int rc = RT_EXIT_OK;

    if (o->argc != 2) {
        fprintf(stderr, "ringtool: diff needs two files: OLD NEW\n");
        return RT_EXIT_USAGE;
    }
    if (!rt_load(o, o->argv[0], &old)) {
        return RT_EXIT_CONFIG;
    }
    if (!rt_load(o, o->argv[1], &new)) {
        rt_unload(&old);
        return RT_EXIT_CONFIG;
    }
    m = xcalloc(ring_node_count(old.ring) * ring_node_count(new.ring),
        sizeof(*m));
    if (ring_diff(old.ring, new.ring, m) != RING_OK) {
        rt_error(o, "the two rings hash keys differently (ring mode, key "
            "hash or hash_tag differ): every key may move, and no exact "
            "comparison exists", 0);
        rc = RT_EXIT_CONFIG;
    } else {
        sum_moves(old.ring, new.ring, m, &s);
        if (o->json) {
            print_json(old.ring, new.ring, m, &s);
        } else {
            print_text(old.ring, new.ring, m, &s);
        }
    }
    free(m);
    rt_unload(&old);
    rt_unload(&new);
    return rc;
}
