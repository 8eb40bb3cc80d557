/*
 * twemproxy's ketama continuum: how many points a server gets for its
 * weight, and the points themselves, operation for operation as
 * nutcracker 0.5.0's ketama_update() computes them.
 */
#include "ring/hashkit.h"

#include <math.h>
#include <stdio.h>

/*
 * twemproxy's points per server for a weight: four times the floor of
 * pct*160/4*nlive, in single precision with its double-precision epsilon
 * (the expression is twemproxy's, operation for operation).
 */
uint32_t
ring_ketama_npoints(uint32_t weight, uint32_t total_weight, uint32_t nlive)
{
    float pct = (float)weight / (float)total_weight;

    return (uint32_t)(floorf((float)(pct * RING_KETAMA_POINTS / 4 *
        (float)nlive + 0.0000000001)) * 4);
}

/* Ketama: each "<name>-<j>" MD5 digest gives four little-endian points. */
size_t
ring_ketama_points(const struct ring_node *node, uint32_t from,
    uint32_t npoints, uint64_t *hash)
{
    char buf[RING_MAX_NAME + 16];
    unsigned char d[16];
    size_t n = 0;

    for (uint32_t j = from / 4; j < (from + npoints) / 4; j++) {
        int len = snprintf(buf, sizeof(buf), "%.*s-%u", (int)node->name.len,
            node->name.ptr, j);
        ring_md5(buf, (size_t)len, d);
        for (int x = 0; x < 4; x++) {
            uint32_t v = (uint32_t)d[3 + x * 4] << 24 |
                (uint32_t)d[2 + x * 4] << 16 | (uint32_t)d[1 + x * 4] << 8 |
                d[x * 4];
            hash[n++] = (uint64_t)v << 32;
        }
    }
    return n;
}
