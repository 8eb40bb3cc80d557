/*
 * A log-linear latency histogram (HdrHistogram-style): values below 128 are
 * counted exactly, above that each power of two is split into 64 equal
 * buckets, so any reported value is within 1/64 (1.6%) of a recorded one.
 * Fixed size, no allocation; histograms of different threads merge by
 * adding counts. Values are unsigned 64-bit (ringbench records nanoseconds).
 */
#ifndef BENCH_HIST_H
#define BENCH_HIST_H

#include <stdint.h>

#define HIST_SUB_BITS 6
#define HIST_SUB (1u << HIST_SUB_BITS)
/* Exact buckets [0, 2*HIST_SUB), then HIST_SUB per octave up to 2^63. */
#define HIST_BUCKETS (2 * HIST_SUB + (63 - HIST_SUB_BITS) * HIST_SUB)

struct hist {
    uint64_t count;
    uint64_t min;
    uint64_t max;
    long double sum;
    uint64_t buckets[HIST_BUCKETS];
};

/* Empty `h`. Never allocates. */
void hist_init(struct hist *h);

/* Count one occurrence of `v`. O(1), never allocates. */
void hist_record(struct hist *h, uint64_t v);

/* Add every count of `src` into `dst` (both initialized). */
void hist_merge(struct hist *dst, const struct hist *src);

/*
 * The value at percentile `p` (0 < p <= 100): the smallest recorded value v
 * such that at least p% of all values are <= v, reported as the highest
 * value of its bucket clamped to [min, max], so it is never below the true
 * percentile and at most 1/64 above it. 0 for an empty histogram; p >= 100
 * gives the exact maximum.
 */
uint64_t hist_percentile(const struct hist *h, double p);

/* Mean of recorded values; 0 for an empty histogram. */
double hist_mean(const struct hist *h);

/* Bucket index of `v`, and the inclusive value range of bucket `i`.
 * Exposed for the unit tests. */
unsigned hist_bucket(uint64_t v);
void hist_bucket_range(unsigned i, uint64_t *lo, uint64_t *hi);

#endif /* BENCH_HIST_H */
