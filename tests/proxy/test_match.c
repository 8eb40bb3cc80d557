/* Tests for reply matching (src/proxy/match.c) and the latency histogram
 * (src/proxy/hist.c). */
#include <criterion/criterion.h>

#include "proxy/proxy_int.h"

Test(proxy_match, retrieval_takes_values_until_end)
{
    enum proto_cmd cmds[] = { PROTO_CMD_GET, PROTO_CMD_GETS, PROTO_CMD_GAT,
        PROTO_CMD_GATS };

    for (size_t i = 0; i < 4; i++) {
        cr_assert_eq(proxy_match(cmds[i], PROTO_RSP_VALUE), PMATCH_MORE);
        cr_assert_eq(proxy_match(cmds[i], PROTO_RSP_END), PMATCH_END);
        cr_assert_eq(proxy_match(cmds[i], PROTO_RSP_SERVER_ERROR),
            PMATCH_END);
        cr_assert_eq(proxy_match(cmds[i], PROTO_RSP_STORED), PMATCH_BAD);
        cr_assert_eq(proxy_match(cmds[i], PROTO_RSP_NUMBER), PMATCH_BAD);
    }
}

Test(proxy_match, single_element_replies_fit_their_command)
{
    cr_assert_eq(proxy_match(PROTO_CMD_SET, PROTO_RSP_STORED), PMATCH_END);
    cr_assert_eq(proxy_match(PROTO_CMD_ADD, PROTO_RSP_NOT_STORED), PMATCH_END);
    cr_assert_eq(proxy_match(PROTO_CMD_SET, PROTO_RSP_END), PMATCH_BAD);
    cr_assert_eq(proxy_match(PROTO_CMD_SET, PROTO_RSP_VALUE), PMATCH_BAD);
    cr_assert_eq(proxy_match(PROTO_CMD_CAS, PROTO_RSP_EXISTS), PMATCH_END);
    cr_assert_eq(proxy_match(PROTO_CMD_CAS, PROTO_RSP_NOT_FOUND), PMATCH_END);
    cr_assert_eq(proxy_match(PROTO_CMD_DELETE, PROTO_RSP_DELETED), PMATCH_END);
    cr_assert_eq(proxy_match(PROTO_CMD_DELETE, PROTO_RSP_STORED), PMATCH_BAD);
    cr_assert_eq(proxy_match(PROTO_CMD_INCR, PROTO_RSP_NUMBER), PMATCH_END);
    cr_assert_eq(proxy_match(PROTO_CMD_DECR, PROTO_RSP_NOT_FOUND), PMATCH_END);
    cr_assert_eq(proxy_match(PROTO_CMD_INCR, PROTO_RSP_OK), PMATCH_BAD);
    cr_assert_eq(proxy_match(PROTO_CMD_TOUCH, PROTO_RSP_TOUCHED), PMATCH_END);
    cr_assert_eq(proxy_match(PROTO_CMD_FLUSH_ALL, PROTO_RSP_OK), PMATCH_END);
    cr_assert_eq(proxy_match(PROTO_CMD_FLUSH_ALL, PROTO_RSP_END), PMATCH_BAD);
    cr_assert_eq(proxy_match(PROTO_CMD_VERSION, PROTO_RSP_VERSION),
        PMATCH_END);
    cr_assert_eq(proxy_match(PROTO_CMD_VERSION, PROTO_RSP_STAT), PMATCH_BAD);
}

Test(proxy_match, errors_end_any_request)
{
    enum proto_rsp_type errs[] = { PROTO_RSP_ERROR, PROTO_RSP_CLIENT_ERROR,
        PROTO_RSP_SERVER_ERROR };

    for (size_t i = 0; i < 3; i++) {
        cr_assert_eq(proxy_match(PROTO_CMD_SET, errs[i]), PMATCH_END);
        cr_assert_eq(proxy_match(PROTO_CMD_INCR, errs[i]), PMATCH_END);
        cr_assert_eq(proxy_match(PROTO_CMD_NONE, errs[i]), PMATCH_BAD);
    }
}

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

Test(proxy_match, meta_replies_fit_their_command)
{
    cr_assert_eq(proxy_match(PROTO_CMD_MG, PROTO_RSP_VA), PMATCH_END);
    cr_assert_eq(proxy_match(PROTO_CMD_MG, PROTO_RSP_EN), PMATCH_END);
    cr_assert_eq(proxy_match(PROTO_CMD_MG, PROTO_RSP_HD), PMATCH_END);
    cr_assert_eq(proxy_match(PROTO_CMD_MG, PROTO_RSP_NS), PMATCH_BAD);
    cr_assert_eq(proxy_match(PROTO_CMD_MG, PROTO_RSP_VALUE), PMATCH_BAD);
    cr_assert_eq(proxy_match(PROTO_CMD_MS, PROTO_RSP_NS), PMATCH_END);
    cr_assert_eq(proxy_match(PROTO_CMD_MS, PROTO_RSP_VA), PMATCH_BAD);
    cr_assert_eq(proxy_match(PROTO_CMD_MD, PROTO_RSP_NF), PMATCH_END);
    cr_assert_eq(proxy_match(PROTO_CMD_MD, PROTO_RSP_EN), PMATCH_BAD);
    cr_assert_eq(proxy_match(PROTO_CMD_MA, PROTO_RSP_VA), PMATCH_END);
    cr_assert_eq(proxy_match(PROTO_CMD_ME, PROTO_RSP_ME), PMATCH_END);
    cr_assert_eq(proxy_match(PROTO_CMD_ME, PROTO_RSP_HD), PMATCH_BAD);
    cr_assert_eq(proxy_match(PROTO_CMD_MN, PROTO_RSP_MN), PMATCH_BAD);
    cr_assert_eq(proxy_match(PROTO_CMD_MS, PROTO_RSP_SERVER_ERROR),
        PMATCH_END);
}

Test(proxy_match, quiet_mode_hides_what_memcached_hides)
{
    cr_assert(proxy_quiet_hides(PROTO_CMD_MG, PROTO_RSP_EN));
    cr_assert(!proxy_quiet_hides(PROTO_CMD_MG, PROTO_RSP_VA));
    cr_assert(!proxy_quiet_hides(PROTO_CMD_MG, PROTO_RSP_HD));
    cr_assert(proxy_quiet_hides(PROTO_CMD_MS, PROTO_RSP_HD));
    cr_assert(!proxy_quiet_hides(PROTO_CMD_MS, PROTO_RSP_NS));
    cr_assert(proxy_quiet_hides(PROTO_CMD_MD, PROTO_RSP_HD));
    cr_assert(!proxy_quiet_hides(PROTO_CMD_MD, PROTO_RSP_NF));
    cr_assert(proxy_quiet_hides(PROTO_CMD_MA, PROTO_RSP_HD));
    cr_assert(proxy_quiet_hides(PROTO_CMD_MA, PROTO_RSP_VA));
    cr_assert(!proxy_quiet_hides(PROTO_CMD_MA, PROTO_RSP_NF));
    cr_assert(!proxy_quiet_hides(PROTO_CMD_MS, PROTO_RSP_SERVER_ERROR));
    cr_assert(!proxy_quiet_hides(PROTO_CMD_SET, PROTO_RSP_STORED));
}

static bool
line_ok(const char *line, const char *key, const char *opaque)
{
    return proxy_meta_line_ok(str_from_cstr(line), str_from_cstr(key),
        str_from_cstr(opaque));
}

Test(proxy_match, meta_echoes_must_name_the_request)
{
    /* k: the key as is, base64 with b, or raw (memcached 1.6.18). */
    cr_assert(line_ok("VA 1 kfoo Oab s1", "foo", "Oab"));
    cr_assert(line_ok("HD kZm9v b", "foo", ""));
    cr_assert(line_ok("EN kfoo", "foo", ""));
    cr_assert(line_ok("VA 3 ka b Oz", "a b", "Oz"));
    cr_assert(line_ok("HD", "foo", "Oab"));
    cr_assert(line_ok("ME foo exp=-1 la=1 cas=2 fetch=no", "foo", ""));
    cr_assert(line_ok("ME Zm9v exp=-1", "foo", ""));
    /* Another key, a key cut short by a line break, another opaque. */
    cr_assert_not(line_ok("VA 1 kbar", "foo", ""));
    cr_assert_not(line_ok("VA 1 kx", "x\r\nVALUE victim 0 4", ""));
    cr_assert_not(line_ok("HD kfoo Oxy", "foo", "Oab"));
    cr_assert_not(line_ok("HD kfoo Oab", "foo", ""));
    cr_assert_not(line_ok("HD kYmFy b", "foo", ""));
    cr_assert_not(line_ok("ME bar exp=-1", "foo", ""));
    /* s must be the size of the VA data block. */
    cr_assert_not(line_ok("VA 4 s9", "foo", ""));
    cr_assert(line_ok("VA 4 s4", "foo", ""));
    /* Not meta reply lines: the parser judges those. */
    cr_assert(line_ok("VALUE foo 0 1", "bar", ""));
    cr_assert(line_ok("SERVER_ERROR x", "bar", ""));
}
