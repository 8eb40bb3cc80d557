/*
 * Private to src/ring: what twemproxy compatibility needs. MD5 (RFC 1321),
 * and the ketama continuum (ketama.c); the key hashes are public through
 * ring_twem_hash() in ring.h.
 */
#ifndef RING_HASHKIT_H
#define RING_HASHKIT_H

#include <stddef.h>
#include <stdint.h>

#include "ring/ring.h"

/* The 16-byte MD5 digest of `len` bytes at `p`. */
void ring_md5(const void *p, size_t len, unsigned char digest[16]);

/* Points twemproxy gives a server of `weight` out of `total_weight` among
 * `nlive` servers of weight > 0 (a multiple of 4). */
uint32_t ring_ketama_npoints(uint32_t weight, uint32_t total_weight,
    uint32_t nlive);

/* Write points [from, from + npoints) of a server (point 4j + x is word
 * x of the MD5 digest of "<name>-<j>", little-endian, shifted into the
 * top 32 bits) to `hash`; `from` and `npoints` are multiples of 4. Returns
 * how many were written. */
size_t ring_ketama_points(const struct ring_node *node, uint32_t from,
    uint32_t npoints, uint64_t *hash);

#endif /* RING_HASHKIT_H */
