/*
 * Private to src/ring: MD5 (RFC 1321) and twemproxy's key hashes. The
 * public entry point is ring_twem_hash() in ring.h.
 */
#ifndef RING_HASHKIT_H
#define RING_HASHKIT_H

#include <stddef.h>
#include <stdint.h>

/* The 16-byte MD5 digest of `len` bytes at `p`. */
void ring_md5(const void *p, size_t len, unsigned char digest[16]);

#endif /* RING_HASHKIT_H */
