/*
 * Latency histogram buckets, pure: exact below 16 us, then four buckets
 * per power of two (at most 25% wide), up to 2^51 us.
 */
#include "proxy/proxy_int.h"

unsigned
hist_bucket(uint64_t us)
{
    unsigned b, idx;

    if (us < 16) {
        return (unsigned)us;
    }
    b = 63u - (unsigned)__builtin_clzll(us);   /* >= 4 */
    idx = 16u + (b - 4u) * 4u + (unsigned)((us >> (b - 2u)) & 3u);
    return idx < PROXY_HIST_BUCKETS ? idx : PROXY_HIST_BUCKETS - 1;
}

uint64_t
hist_upper(unsigned bucket)
{
    unsigned b, sub;

    if (bucket < 16) {
        return bucket;
    }
    b = (bucket - 16u) / 4u + 4u;
    sub = (bucket - 16u) % 4u;
    /* Bucket covers [2^b + sub*2^(b-2), 2^b + (sub+1)*2^(b-2)). */
    return (1ull << b) + ((uint64_t)(sub + 1) << (b - 2u)) - 1u;
}

uint64_t
hist_quantile(const uint64_t *h, double q)
{
    uint64_t total = 0, seen = 0, want;
    unsigned i;

    for (i = 0; i < PROXY_HIST_BUCKETS; i++) {
        total += h[i];
    }
    if (total == 0) {
        return 0;
    }
    want = (uint64_t)(q * (double)total);
    if (want >= total) {
        want = total - 1;
    }
    for (i = 0; i < PROXY_HIST_BUCKETS; i++) {
        seen += h[i];
        if (seen > want) {
            return hist_upper(i);
        }
    }
    return hist_upper(PROXY_HIST_BUCKETS - 1);
}
