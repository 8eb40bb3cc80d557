/*
 * Unit tests of ringbench's key distributions, key text and
 * self-describing values.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench/keys.h"

static double
zeta_n(uint64_t n, double theta)
{
    double s = 0;
    uint64_t i;

    for (i = 1; i <= n; i++) {
        s += pow((double)i, -theta);
    }
    return s;
}

Test(bench_keys, zipf_follows_power_law)
{
    enum { N = 1000, DRAWS = 2000000 };
    static uint32_t freq[N];
    struct keys k;
    struct rng r;
    double theta = 0.99;
    double z = zeta_n(N, theta);
    unsigned i;

    cr_assert_eq(keys_init(&k, KEYS_ZIPF, N, theta, 0), KEYS_OK);
    rng_seed(&r, 7);
    for (i = 0; i < DRAWS; i++) {
        uint64_t idx = keys_next(&k, &r);

        cr_assert_lt(idx, N);
        freq[idx]++;
    }
    /* The head ranks match 1/(i+1)^theta / zeta within 3%. */
    for (i = 0; i < 10; i++) {
        double want = DRAWS * pow(i + 1.0, -theta) / z;

        cr_assert(fabs(freq[i] - want) < 0.03 * want,
            "rank %u: %u draws, expected %.0f", i, freq[i], want);
    }
    /* And a band in the tail: ranks 100..199 within 3%. */
    {
        double want = 0;
        double got = 0;

        for (i = 100; i < 200; i++) {
            want += DRAWS * pow(i + 1.0, -theta) / z;
            got += freq[i];
        }
        cr_assert(fabs(got - want) < 0.03 * want, "tail %.0f vs %.0f",
            got, want);
    }
    /* Popularity decreases: the top decile holds most of the draws. */
    {
        uint64_t top = 0;

        for (i = 0; i < N / 10; i++) {
            top += freq[i];
        }
        cr_assert_gt(top, DRAWS / 2);
    }
}

Test(bench_keys, zipf_rejects_bad_theta)
{
    struct keys k;

    cr_assert_eq(keys_init(&k, KEYS_ZIPF, 100, 0.0, 0), KEYS_EINVAL);
    cr_assert_eq(keys_init(&k, KEYS_ZIPF, 100, -1.0, 0), KEYS_EINVAL);
    cr_assert_eq(keys_init(&k, KEYS_ZIPF, 100, 11.0, 0), KEYS_EINVAL);
    cr_assert_eq(keys_init(&k, KEYS_ZIPF, 100, 0.0 / 0.0, 0), KEYS_EINVAL);
    cr_assert_eq(keys_init(&k, KEYS_ZIPF, 100, 1.0, 0), KEYS_OK);
    cr_assert_eq(keys_init(&k, KEYS_UNIFORM, 0, 0.0, 0), KEYS_EINVAL);
}

Test(bench_keys, uniform_is_flat)
{
    enum { N = 100, DRAWS = 1000000 };
    static uint32_t freq[N];
    struct keys k;
    struct rng r;
    unsigned i;

    cr_assert_eq(keys_init(&k, KEYS_UNIFORM, N, 0.0, 0), KEYS_OK);
    rng_seed(&r, 1);
    for (i = 0; i < DRAWS; i++) {
        freq[keys_next(&k, &r)]++;
    }
    for (i = 0; i < N; i++) {
        /* Mean 10000, sd 100: 5 sd. */
        cr_assert(freq[i] > 9500 && freq[i] < 10500, "key %u: %u", i,
            freq[i]);
    }
}

Test(bench_keys, seq_walks_and_wraps)
{
    struct keys k;
    struct rng r;

    rng_seed(&r, 1);
    cr_assert_eq(keys_init(&k, KEYS_SEQ, 3, 0.0, 2), KEYS_OK);
    cr_assert_eq(keys_next(&k, &r), 2);
    cr_assert_eq(keys_next(&k, &r), 0);
    cr_assert_eq(keys_next(&k, &r), 1);
    cr_assert_eq(keys_next(&k, &r), 2);
}

Test(bench_keys, dist_names_round_trip)
{
    enum keys_dist d;

    cr_assert(keys_dist_parse("zipf", &d) && d == KEYS_ZIPF);
    cr_assert(keys_dist_parse("uniform", &d) && d == KEYS_UNIFORM);
    cr_assert(keys_dist_parse("seq", &d) && d == KEYS_SEQ);
    cr_assert_str_eq(keys_dist_name(KEYS_ZIPF), "zipf");
    cr_assert_not(keys_dist_parse("gauss", &d));
}

Test(bench_keys, key_text_is_fixed_length_and_parses_back)
{
    char key[32];
    uint64_t idx;

    cr_assert_eq(keys_min_key_len(100000), 6);      /* k99999 */
    cr_assert_eq(keys_min_key_len(1), 2);           /* k0 */
    keys_format_key(key, 16, 99999);
    cr_assert_arr_eq(key, "k000000000099999", 16);
    cr_assert(keys_parse_key(key, 16, &idx));
    cr_assert_eq(idx, 99999);
    keys_format_key(key, 2, 7);
    cr_assert_arr_eq(key, "k7", 2);
    cr_assert_not(keys_parse_key("x123", 4, &idx));
    cr_assert_not(keys_parse_key("k", 1, &idx));
    cr_assert_not(keys_parse_key("k12a", 4, &idx));
}

Test(bench_keys, values_check_key_version_and_bytes)
{
    struct values v;
    char buf[1000];
    char other[1000];
    uint32_t ver = 0;

    values_init(&v, 5, sizeof(buf));
    values_format(&v, buf, 100, 42, 7);
    cr_assert_eq(values_check(&v, buf, 100, 100, 42, &ver), VALUES_OK);
    cr_assert_eq(ver, 7);
    /* The same bytes are not a value of another key. */
    cr_assert_eq(values_check(&v, buf, 100, 100, 43, &ver), VALUES_BAD);
    /* Wrong length. */
    cr_assert_eq(values_check(&v, buf, 99, 100, 42, &ver), VALUES_BAD);
    /* One flipped byte in the header or in the filler. */
    memcpy(other, buf, 100);
    other[90] ^= 1;
    cr_assert_eq(values_check(&v, other, 100, 100, 42, &ver), VALUES_BAD);
    memcpy(other, buf, 100);
    other[3] = other[3] == '0' ? '1' : '0';
    cr_assert_eq(values_check(&v, other, 100, 100, 42, &ver), VALUES_BAD);
    /* Another run's value of the same key and version. */
    {
        struct values w;

        values_init(&w, 6, sizeof(buf));
        values_format(&w, other, 100, 42, 7);
        cr_assert_eq(values_check(&v, other, 100, 100, 42, &ver),
            VALUES_BAD);
        values_fini(&w);
    }
    values_fini(&v);
}

Test(bench_keys, short_values_carry_a_key_tag)
{
    struct values v;
    char a[8];
    char b[8];
    uint32_t ver = 9;

    values_init(&v, 1, 64);
    values_format(&v, a, 8, 1, 3);
    values_format(&v, b, 8, 2, 3);
    cr_assert(memcmp(a, b, 8) != 0);
    cr_assert_eq(values_check(&v, a, 8, 8, 1, &ver), VALUES_OK);
    cr_assert_eq(ver, 0);
    cr_assert_eq(values_check(&v, a, 8, 8, 2, &ver), VALUES_BAD);
    values_fini(&v);
}
