/*
 * Key and value generation for ringbench: PRNG, key distributions, and
 * self-checking values (see keys.h).
 */
#include "bench/keys.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

static uint64_t
splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t
rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void
rng_seed(struct rng *r, uint64_t seed)
{
    int i;

    for (i = 0; i < 4; i++) {
        r->s[i] = splitmix64(&seed);
    }
}

uint64_t
rng_next(struct rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;

    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double
rng_double(struct rng *r)
{
    return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

uint64_t
rng_below(struct rng *r, uint64_t n)
{
    /* Lemire's multiply-shift; the bias for n << 2^64 is negligible. */
    return (uint64_t)(((unsigned __int128)rng_next(r) * n) >> 64);
}

/*
 * Zipf by rejection-inversion (W. Hormann, G. Derflinger, "Rejection-
 * inversion to generate variates from monotone discrete distributions",
 * 1996): exact for any exponent > 0, O(1) setup and O(1) expected time.
 * Ranks are 1-based here; keys_next() returns rank - 1.
 */
static double
helper1(double x)
{
    return fabs(x) > 1e-8 ? log1p(x) / x
        : 1.0 - x * (0.5 - x * (1.0 / 3.0 - 0.25 * x));
}

static double
helper2(double x)
{
    return fabs(x) > 1e-8 ? expm1(x) / x
        : 1.0 + x * 0.5 * (1.0 + x * (1.0 / 3.0) * (1.0 + 0.25 * x));
}

static double
zh(const struct keys *k, double x)
{
    return exp(-k->theta * log(x));
}

static double
zh_integral(const struct keys *k, double x)
{
    double lx = log(x);

    return helper2((1.0 - k->theta) * lx) * lx;
}

static double
zh_integral_inverse(const struct keys *k, double x)
{
    double t = x * (1.0 - k->theta);

    if (t < -1.0) {
        t = -1.0;       /* rounding near the lower end */
    }
    return exp(helper1(t) * x);
}

enum keys_status
keys_init(struct keys *k, enum keys_dist dist, uint64_t n, double theta,
    uint64_t seq_start)
{
    memset(k, 0, sizeof(*k));
    if (n == 0) {
        return KEYS_EINVAL;
    }
    k->dist = dist;
    k->n = n;
    k->next_seq = seq_start % n;
    if (dist != KEYS_ZIPF) {
        return KEYS_OK;
    }
    if (!(theta > 0.0 && theta <= 10.0)) {
        return KEYS_EINVAL;
    }
    k->theta = theta;
    k->h_x1 = zh_integral(k, 1.5) - 1.0;
    k->h_n = zh_integral(k, (double)n + 0.5);
    k->s = 2.0 - zh_integral_inverse(k, zh_integral(k, 2.5) - zh(k, 2.0));
    return KEYS_OK;
}

static uint64_t
zipf_next(struct keys *k, struct rng *r)
{
    for (;;) {
        double u = k->h_n + rng_double(r) * (k->h_x1 - k->h_n);
        double x = zh_integral_inverse(k, u);
        double kr = floor(x + 0.5);

        if (kr < 1.0) {
            kr = 1.0;
        } else if (kr > (double)k->n) {
            kr = (double)k->n;
        }
        if (kr - x <= k->s || u >= zh_integral(k, kr + 0.5) - zh(k, kr)) {
            return (uint64_t)kr - 1;
        }
    }
}

uint64_t
keys_next(struct keys *k, struct rng *r)
{
    uint64_t idx;

    switch (k->dist) {
    case KEYS_UNIFORM:
        return rng_below(r, k->n);
    case KEYS_ZIPF:
        return zipf_next(k, r);
    case KEYS_SEQ:
        idx = k->next_seq;
        k->next_seq = idx + 1 == k->n ? 0 : idx + 1;
        return idx;
    }
    return 0;
}

bool
keys_dist_parse(const char *s, enum keys_dist *out)
{
    if (strcmp(s, "uniform") == 0) {
        *out = KEYS_UNIFORM;
    } else if (strcmp(s, "zipf") == 0 || strcmp(s, "zipfian") == 0) {
        *out = KEYS_ZIPF;
    } else if (strcmp(s, "seq") == 0 || strcmp(s, "sequential") == 0) {
        *out = KEYS_SEQ;
    } else {
        return false;
    }
    return true;
}

const char *
keys_dist_name(enum keys_dist d)
{
    switch (d) {
    case KEYS_UNIFORM:
        return "uniform";
    case KEYS_ZIPF:
        return "zipf";
    case KEYS_SEQ:
        return "seq";
    }
    return "?";
}

size_t
keys_min_key_len(uint64_t n)
{
    char digits[24];

    /* The largest index is n - 1 (at least 0). */
    return 1 + util_fmt_u64(digits, n > 0 ? n - 1 : 0);
}

void
keys_format_key(char *dst, size_t len, uint64_t idx)
{
    char digits[24];
    size_t nd = util_fmt_u64(digits, idx);

    dst[0] = 'k';
    memset(dst + 1, '0', len - 1 - nd);
    memcpy(dst + len - nd, digits, nd);
}

bool
keys_parse_key(const char *p, size_t len, uint64_t *idx)
{
    if (len < 2 || p[0] != 'k') {
        return false;
    }
    return util_parse_u64((struct str){ p + 1, len - 1 }, idx);
}

/* ---- values ------------------------------------------------------------- */

static uint32_t
value_tag(uint64_t idx, uint32_t version, uint32_t run)
{
    uint64_t x = idx ^ ((uint64_t)version << 32) ^ ((uint64_t)run * 0x9e37U);

    return (uint32_t)(splitmix64(&x) >> 32);
}

static const char hexdigits[] = "0123456789abcdef";

static void
put_hex32(char *dst, uint32_t v)
{
    int i;

    for (i = 7; i >= 0; i--) {
        dst[i] = hexdigits[v & 0xf];
        v >>= 4;
    }
}

static bool
get_hex32(const char *p, uint32_t *out)
{
    uint32_t v = 0;
    int i;

    for (i = 0; i < 8; i++) {
        char c = p[i];

        if (c >= '0' && c <= '9') {
            v = (v << 4) | (uint32_t)(c - '0');
        } else if (c >= 'a' && c <= 'f') {
            v = (v << 4) | (uint32_t)(c - 'a' + 10);
        } else {
            return false;
        }
    }
    *out = v;
    return true;
}

void
values_init(struct values *v, uint32_t run, size_t max_len)
{
    uint64_t seed = run;
    size_t i;

    v->run = run;
    v->max_len = max_len;
    v->filler = xmalloc(max_len > 0 ? max_len : 1);
    for (i = 0; i < max_len; i++) {
        /* Printable, no spaces: easy to read in a packet dump. */
        v->filler[i] = (char)('!' + splitmix64(&seed) % 94);
    }
}

void
values_fini(struct values *v)
{
    free(v->filler);
    v->filler = NULL;
}

static void
make_header(const struct values *v, char *hdr, uint64_t idx, uint32_t version)
{
    /* Tag first: a short value's prefix still names its key. */
    put_hex32(hdr, value_tag(idx, version, v->run));
    put_hex32(hdr + 8, version);
}

void
values_format(const struct values *v, char *dst, size_t len, uint64_t idx,
    uint32_t version)
{
    char hdr[VALUES_HEADER_LEN];

    if (len < VALUES_HEADER_LEN) {
        version = 0;
    }
    make_header(v, hdr, idx, version);
    if (len <= VALUES_HEADER_LEN) {
        memcpy(dst, hdr, len);
        return;
    }
    memcpy(dst, hdr, VALUES_HEADER_LEN);
    memcpy(dst + VALUES_HEADER_LEN, v->filler + VALUES_HEADER_LEN,
        len - VALUES_HEADER_LEN);
}

enum values_check
values_check(const struct values *v, const char *p, size_t len,
    size_t want_len, uint64_t idx, uint32_t *version)
{
    char hdr[VALUES_HEADER_LEN];
    uint32_t ver = 0;

    if (len != want_len || len > v->max_len) {
        return VALUES_BAD;
    }
    if (len >= VALUES_HEADER_LEN && !get_hex32(p + 8, &ver)) {
        return VALUES_BAD;
    }
    make_header(v, hdr, idx, ver);
    if (len < VALUES_HEADER_LEN) {
        if (memcmp(p, hdr, len) != 0) {
            return VALUES_BAD;
        }
    } else if (memcmp(p, hdr, VALUES_HEADER_LEN) != 0
        || memcmp(p + VALUES_HEADER_LEN, v->filler + VALUES_HEADER_LEN,
            len - VALUES_HEADER_LEN) != 0) {
        return VALUES_BAD;
    }
    *version = ver;
    return VALUES_OK;
}
