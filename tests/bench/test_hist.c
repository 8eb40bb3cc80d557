/*
 * Unit tests of ringbench's log-linear histogram: bucket layout, percentile
 * accuracy against exact order statistics, merging.
 */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "bench/hist.h"
#include "bench/keys.h"

static struct hist h;

static int
cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a;
    uint64_t y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/* The exact p-th percentile of sorted v (nearest rank). */
static uint64_t
exact(const uint64_t *v, size_t n, double p)
{
    size_t rank = (size_t)(p / 100.0 * (double)n + 0.999999999);

    if (rank == 0) {
        rank = 1;
    }
    return v[rank - 1];
}

Test(bench_hist, buckets_are_contiguous_and_exact_below_128)
{
    uint64_t lo;
    uint64_t hi;
    uint64_t prev_hi = 0;
    unsigned i;

    for (i = 0; i < 128; i++) {
        cr_assert_eq(hist_bucket(i), i);
    }
    for (i = 1; i < HIST_BUCKETS; i++) {
        hist_bucket_range(i, &lo, &hi);
        cr_assert_eq(lo, prev_hi + 1, "bucket %u starts at %lu", i,
            (unsigned long)lo);
        cr_assert_eq(hist_bucket(lo), i);
        cr_assert_eq(hist_bucket(hi), i);
        /* Width at most 1/64 of the bucket's low end. */
        cr_assert(i < 128 || (hi - lo + 1) * 64 <= lo);
        prev_hi = hi;
    }
    cr_assert_eq(prev_hi, UINT64_MAX);
    cr_assert_eq(hist_bucket(UINT64_MAX), HIST_BUCKETS - 1);
}

Test(bench_hist, empty_reports_zero)
{
    hist_init(&h);
    cr_assert_eq(hist_percentile(&h, 50), 0);
    cr_assert_eq(hist_percentile(&h, 100), 0);
    cr_assert_eq(hist_mean(&h), 0.0);
}

Test(bench_hist, percentiles_within_one_64th)
{
    static uint64_t v[200000];
    static const double ps[] = { 1, 50, 90, 99, 99.9, 99.99 };
    struct rng r;
    size_t i;
    size_t n = sizeof(v) / sizeof(v[0]);

    rng_seed(&r, 42);
    hist_init(&h);
    for (i = 0; i < n; i++) {
        /* Log-uniform over 1 ns .. ~1 s: every octave gets used. */
        v[i] = (uint64_t)1 << rng_below(&r, 30);
        v[i] += rng_below(&r, v[i]);
        hist_record(&h, v[i]);
    }
    qsort(v, n, sizeof(v[0]), cmp_u64);
    for (i = 0; i < sizeof(ps) / sizeof(ps[0]); i++) {
        uint64_t want = exact(v, n, ps[i]);
        uint64_t got = hist_percentile(&h, ps[i]);

        cr_assert(got >= want && got - want <= want / 64,
            "p%g: got %lu want %lu", ps[i], (unsigned long)got,
            (unsigned long)want);
    }
    cr_assert_eq(hist_percentile(&h, 100), v[n - 1]);
    cr_assert_eq(h.min, v[0]);
    cr_assert_eq(h.count, n);
}

Test(bench_hist, small_exact_set)
{
    uint64_t i;

    hist_init(&h);
    for (i = 1; i <= 100; i++) {
        hist_record(&h, i);
    }
    cr_assert_eq(hist_percentile(&h, 50), 50);
    cr_assert_eq(hist_percentile(&h, 90), 90);
    cr_assert_eq(hist_percentile(&h, 99), 99);
    cr_assert_eq(hist_percentile(&h, 99.9), 100);
    cr_assert_eq(hist_percentile(&h, 0.001), 1);
    cr_assert_float_eq(hist_mean(&h), 50.5, 1e-9);
}

Test(bench_hist, merge_equals_recording_everything_in_one)
{
    static struct hist a;
    static struct hist b;
    static struct hist all;
    uint64_t i;

    hist_init(&a);
    hist_init(&b);
    hist_init(&all);
    for (i = 0; i < 10000; i++) {
        uint64_t x = i * i * 7 + 3;

        hist_record(i % 3 == 0 ? &a : &b, x);
        hist_record(&all, x);
    }
    hist_merge(&a, &b);
    cr_assert_eq(a.count, all.count);
    cr_assert_eq(a.min, all.min);
    cr_assert_eq(a.max, all.max);
    cr_assert_arr_eq(a.buckets, all.buckets, sizeof(a.buckets));
    cr_assert_eq(hist_percentile(&a, 99), hist_percentile(&all, 99));
}

Test(bench_hist, single_huge_value)
{
    hist_init(&h);
    hist_record(&h, UINT64_MAX - 5);
    cr_assert_eq(hist_percentile(&h, 50), UINT64_MAX - 5);
    cr_assert_eq(hist_percentile(&h, 100), UINT64_MAX - 5);
}
