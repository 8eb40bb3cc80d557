/*
 * Strict decimal parsing. strtoull() accepts leading spaces, signs and
 * partial input and wraps "-1" to 2^64-1; a cache must reject all of those,
 * so these parsers check every byte and every overflow themselves.
 */
#include "util/util.h"

bool
util_parse_u64(struct str s, uint64_t *out)
{
    uint64_t v = 0;

    if (s.len == 0) {
        return false;
    }
    for (size_t i = 0; i < s.len; i++) {
        unsigned d = (unsigned char)s.ptr[i] - '0';
        if (d > 9) {
            return false;
        }
        if (v > (UINT64_MAX - d) / 10) {
            return false;
        }
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

bool
util_parse_u32(struct str s, uint32_t *out)
{
    uint64_t v;

    if (!util_parse_u64(s, &v) || v > UINT32_MAX) {
        return false;
    }
    *out = (uint32_t)v;
    return true;
}

bool
util_parse_i64(struct str s, int64_t *out)
{
    uint64_t mag;
    bool neg = s.len > 0 && s.ptr[0] == '-';
    struct str digits = neg ? (struct str){ s.ptr + 1, s.len - 1 } : s;

    if (!util_parse_u64(digits, &mag)) {
        return false;
    }
    if (neg) {
        if (mag > (uint64_t)INT64_MAX + 1) {
            return false;
        }
        *out = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
    } else {
        if (mag > INT64_MAX) {
            return false;
        }
        *out = (int64_t)mag;
    }
    return true;
}

size_t
util_fmt_u64(char *dst, uint64_t v)
{
    char tmp[20];
    size_t n = 0;

    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    for (size_t i = 0; i < n; i++) {
        dst[i] = tmp[n - 1 - i];
    }
    dst[n] = '\0';
    return n;
}
