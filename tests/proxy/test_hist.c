/* Tests for the latency histogram (src/proxy/hist.c). */
#include <criterion/criterion.h>

#include "proxy/proxy_int.h"

Test(proxy_hist, buckets_are_monotonic_and_bound_their_values)
{
    unsigned prev = 0;

    for (uint64_t us = 0; us < 5000000; us = us < 100 ? us + 1 : us * 11 / 10) {
        unsigned b = hist_bucket(us);

        cr_assert_geq(b, prev);
        cr_assert_geq(hist_upper(b), us, "us %lu bucket %u upper %lu",
            (unsigned long)us, b, (unsigned long)hist_upper(b));
        /* At most 25% above the value (exact below 16). */
        cr_assert_leq(hist_upper(b), us < 16 ? us : us + us / 4 + 1);
        prev = b;
    }
    cr_assert_lt(hist_bucket(UINT64_MAX), PROXY_HIST_BUCKETS);
}

Test(proxy_hist, quantiles)
{
    uint64_t h[PROXY_HIST_BUCKETS] = { 0 };

    cr_assert_eq(hist_quantile(h, 0.5), 0);
    h[hist_bucket(10)] = 90;
    h[hist_bucket(1000)] = 10;
    cr_assert_eq(hist_quantile(h, 0.5), 10);
    cr_assert_eq(hist_quantile(h, 0.89), 10);
    cr_assert_eq(hist_quantile(h, 0.95), hist_upper(hist_bucket(1000)));
    cr_assert_eq(hist_quantile(h, 1.0), hist_upper(hist_bucket(1000)));
}
