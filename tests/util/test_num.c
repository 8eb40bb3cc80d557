/* Tests for strict number parsing: every rejection strtoull() would miss. */
#include <criterion/criterion.h>

#include "util/util.h"

static struct str
S(const char *s)
{
    return str_from_cstr(s);
}

Test(util_num, parses_u64_range)
{
    uint64_t v = 7;

    cr_assert(util_parse_u64(S("0"), &v));
    cr_assert_eq(v, 0);
    cr_assert(util_parse_u64(S("18446744073709551615"), &v));
    cr_assert_eq(v, UINT64_MAX);
    cr_assert_not(util_parse_u64(S("18446744073709551616"), &v));
    cr_assert_not(util_parse_u64(S("99999999999999999999"), &v));
    cr_assert_eq(v, UINT64_MAX, "failure must leave *out alone");
}

Test(util_num, rejects_junk)
{
    uint64_t v;
    const char *bad[] = { "", "-1", "+1", " 1", "1 ", "1a", "0x10", "1.0" };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cr_assert_not(util_parse_u64(S(bad[i]), &v), "accepted '%s'", bad[i]);
    }
}

Test(util_num, u32_overflow)
{
    uint32_t v;

    cr_assert(util_parse_u32(S("4294967295"), &v));
    cr_assert_eq(v, UINT32_MAX);
    cr_assert_not(util_parse_u32(S("4294967296"), &v));
}

Test(util_num, i64_signs)
{
    int64_t v;

    cr_assert(util_parse_i64(S("-1"), &v));
    cr_assert_eq(v, -1);
    cr_assert(util_parse_i64(S("-9223372036854775808"), &v));
    cr_assert_eq(v, INT64_MIN);
    cr_assert_not(util_parse_i64(S("9223372036854775808"), &v));
    cr_assert_not(util_parse_i64(S("-9223372036854775809"), &v));
    cr_assert_not(util_parse_i64(S("-"), &v));
    cr_assert_not(util_parse_i64(S("--1"), &v));
}

Test(util_num, formats_u64)
{
    char out[21];

    cr_assert_eq(util_fmt_u64(out, 0), 1);
    cr_assert_str_eq(out, "0");
    cr_assert_eq(util_fmt_u64(out, UINT64_MAX), 20);
    cr_assert_str_eq(out, "18446744073709551615");
}
