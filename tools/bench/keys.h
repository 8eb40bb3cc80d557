/*
 * Key and value generation for ringbench: a small fast PRNG, key-index
 * distributions (uniform, zipfian, sequential), and the text of keys and
 * values. A value is self-describing: it starts with the key index and a
 * version, and the rest is derived from both, so any value read back can be
 * checked against the key it was read for. Pure; no I/O, no globals.
 */
#ifndef BENCH_KEYS_H
#define BENCH_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* xoshiro256** state. */
struct rng {
    uint64_t s[4];
};

/* Seed `r` from one 64-bit number (via splitmix64). */
void rng_seed(struct rng *r, uint64_t seed);
/* Next 64 random bits. */
uint64_t rng_next(struct rng *r);
/* Uniform double in [0, 1). */
double rng_double(struct rng *r);
/* Uniform integer in [0, n); n > 0. */
uint64_t rng_below(struct rng *r, uint64_t n);

enum keys_dist {
    KEYS_UNIFORM = 0,
    KEYS_ZIPF,
    KEYS_SEQ,
};

/*
 * A key-index generator over [0, n). Zipfian: index i has probability
 * proportional to 1/(i+1)^theta (exactly, by rejection-inversion), for
 * 0 < theta <= 10; index 0 is the most popular (YCSB's default theta is
 * 0.99). Sequential walks 0, 1, ... n-1 and wraps, from `seq_start`.
 */
struct keys {
    enum keys_dist dist;
    uint64_t n;
    uint64_t next_seq;
    double theta;
    double h_x1;            /* zipf: H(1.5) - 1 */
    double h_n;             /* zipf: H(n + 0.5) */
    double s;               /* zipf: the squeeze constant */
};

enum keys_status {
    KEYS_OK = 0,
    KEYS_EINVAL,
};

/*
 * Set up `k` for `n` keys. KEYS_EINVAL when n is 0 or, for KEYS_ZIPF, theta
 * is not in (0, 10]. O(1); never allocates.
 */
enum keys_status keys_init(struct keys *k, enum keys_dist dist, uint64_t n,
    double theta, uint64_t seq_start);

/* Next key index in [0, n). */
uint64_t keys_next(struct keys *k, struct rng *r);

/* Parse "uniform", "zipf" or "seq"; false if none. */
bool keys_dist_parse(const char *s, enum keys_dist *out);
const char *keys_dist_name(enum keys_dist d);

/* Smallest key length that can hold every index below n ("k" + digits). */
size_t keys_min_key_len(uint64_t n);

/*
 * Write the key of index `idx`, exactly `len` bytes: "k", zero padding,
 * the decimal index. `len` must be >= keys_min_key_len(idx + 1) and <= 250.
 */
void keys_format_key(char *dst, size_t len, uint64_t idx);

/*
 * Parse a key written by keys_format_key; false if `p` is not one.
 */
bool keys_parse_key(const char *p, size_t len, uint64_t *idx);

/*
 * Values. A value of key `idx` at `version` is `len` bytes: 8 hex digits of
 * a tag hashed from (idx, version, run), 8 hex digits of the version, then
 * bytes of a filler that is fixed for the run. Writing one is a memcpy, and
 * checking one is a parse and a memcmp, so 100 KiB values stay cheap for the
 * load generator. Values shorter than VALUES_HEADER_LEN hold a prefix of the
 * header of version 0 (only the tag's prefix can be checked).
 */
#define VALUES_HEADER_LEN 16

struct values {
    uint32_t run;
    size_t max_len;
    char *filler;           /* max_len printable bytes */
};

/* Set up values up to `max_len` bytes for run `run`. Allocates (xmalloc:
 * startup only); values_fini() frees. */
void values_init(struct values *v, uint32_t run, size_t max_len);
void values_fini(struct values *v);

/* Write the value of key `idx` at `version`, exactly `len` bytes
 * (len <= v->max_len). Versions are forced to 0 when len is below
 * VALUES_HEADER_LEN. */
void values_format(const struct values *v, char *dst, size_t len,
    uint64_t idx, uint32_t version);

enum values_check {
    VALUES_OK = 0,
    VALUES_BAD,     /* not a value this run could have written for the key */
};

/*
 * Check that `p` (`len` bytes) is a value values_format could have written
 * for key `idx` at some version of this run; on VALUES_OK, *version holds
 * that version. `len` must equal `want_len`.
 */
enum values_check values_check(const struct values *v, const char *p,
    size_t len, size_t want_len, uint64_t idx, uint32_t *version);

#endif /* BENCH_KEYS_H */
