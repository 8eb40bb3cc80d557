/*
 * Log-linear histogram for ringbench latencies; see hist.h for the layout.
 */
#include "bench/hist.h"

#include <string.h>

void
hist_init(struct hist *h)
{
    memset(h, 0, sizeof(*h));
    h->min = UINT64_MAX;
}

unsigned
hist_bucket(uint64_t v)
{
    unsigned msb;
    unsigned shift;

    if (v < 2 * HIST_SUB) {
        return (unsigned)v;
    }
    msb = 63u - (unsigned)__builtin_clzll(v);
    shift = msb - HIST_SUB_BITS;
    /* (v >> shift) lies in [HIST_SUB, 2 * HIST_SUB). */
    return 2 * HIST_SUB + (msb - HIST_SUB_BITS - 1) * HIST_SUB
        + (unsigned)((v >> shift) - HIST_SUB);
}

void
hist_bucket_range(unsigned i, uint64_t *lo, uint64_t *hi)
{
    unsigned k;
    unsigned shift;
    uint64_t sub;

    if (i < 2 * HIST_SUB) {
        *lo = i;
        *hi = i;
        return;
    }
    k = i - 2 * HIST_SUB;
    shift = k / HIST_SUB + 1;
    sub = HIST_SUB + k % HIST_SUB;
    *lo = sub << shift;
    *hi = *lo + ((uint64_t)1 << shift) - 1;
}

void
hist_record(struct hist *h, uint64_t v)
{
    h->buckets[hist_bucket(v)]++;
    h->count++;
    h->sum += v;
    if (v < h->min) {
        h->min = v;
    }
    if (v > h->max) {
        h->max = v;
    }
}

void
hist_merge(struct hist *dst, const struct hist *src)
{
    unsigned i;

    for (i = 0; i < HIST_BUCKETS; i++) {
        dst->buckets[i] += src->buckets[i];
    }
    dst->count += src->count;
    dst->sum += src->sum;
    if (src->min < dst->min) {
        dst->min = src->min;
    }
    if (src->max > dst->max) {
        dst->max = src->max;
    }
}

uint64_t
hist_percentile(const struct hist *h, double p)
{
    uint64_t rank;
    uint64_t seen = 0;
    uint64_t lo;
    uint64_t hi;
    unsigned i;

    if (h->count == 0) {
        return 0;
    }
    if (p >= 100.0) {
        return h->max;
    }
    /* The rank-th smallest value, rank = ceil(p% of count), at least 1. */
    rank = (uint64_t)((long double)p / 100.0L * h->count);
    if ((long double)rank < (long double)p / 100.0L * h->count) {
        rank++;
    }
    if (rank == 0) {
        rank = 1;
    }
    for (i = 0; i < HIST_BUCKETS; i++) {
        seen += h->buckets[i];
        if (seen >= rank) {
            break;
        }
    }
    hist_bucket_range(i, &lo, &hi);
    if (hi > h->max) {
        hi = h->max;
    }
    if (hi < h->min) {
        hi = h->min;
    }
    return hi;
}

double
hist_mean(const struct hist *h)
{
    if (h->count == 0) {
        return 0.0;
    }
    return (double)(h->sum / h->count);
}
