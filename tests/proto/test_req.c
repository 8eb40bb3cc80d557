/* Tests for the request parser: every command, every error memcached
 * answers, each input fed whole and one byte at a time. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "proto/proto.h"

static struct proto_req req;
static size_t used;

#define PARSE PARSE_REQ
#define OK OK_REQ
#define CERR CERR_REQ

Test(proto_req, get_one_key)
{
    OK("get foo\r\n");
    cr_assert_eq(req.cmd, PROTO_CMD_GET);
    cr_assert_eq(req.nkeys, 1);
    assert_str(req.key, "foo");
    assert_str(req.keys, "foo");
    cr_assert_not(req.has_exptime);
}

Test(proto_req, get_many_keys_in_order)
{
    struct proto_key_iter it;
    struct str k;
    const char *want[] = { "a", "bb", "c:1", "d" };
    size_t n = 0;

    OK("get  a bb   c:1 d  \r\n");
    cr_assert_eq(req.nkeys, 4);
    assert_str(req.key, "a");
    proto_keys_begin(&req, &it);
    while (proto_keys_next(&it, &k)) {
        cr_assert_lt(n, 4);
        assert_str(k, want[n++]);
    }
    cr_assert_eq(n, 4);
    cr_assert_not(proto_keys_next(&it, &k), "iterator stays finished");
}

Test(proto_req, gets_gat_gats)
{
    OK("gets k1 k2\r\n");
    cr_assert_eq(req.cmd, PROTO_CMD_GETS);
    cr_assert_eq(req.nkeys, 2);
    OK("gat 100 k\r\n");
    cr_assert_eq(req.cmd, PROTO_CMD_GAT);
    cr_assert(req.has_exptime);
    cr_assert_eq(req.exptime, 100);
    assert_str(req.key, "k");
    OK("gats -1 k j\r\n");
    cr_assert_eq(req.cmd, PROTO_CMD_GATS);
    cr_assert_eq(req.exptime, -1);
    cr_assert_eq(req.nkeys, 2);
}

Test(proto_req, gat_without_keys_is_empty)
{
    struct proto_key_iter it;
    struct str k;

    /* memcached answers "gat 10" with a bare END. */
    OK("gat 10\r\n");
    cr_assert_eq(req.nkeys, 0);
    proto_keys_begin(&req, &it);
    cr_assert_not(proto_keys_next(&it, &k));
}

Test(proto_req, retrieval_errors)
{
    CERR("get\r\n", PROTO_REPLY_ERROR);
    CERR("get \r\n", PROTO_REPLY_ERROR);
    CERR("gat\r\n", PROTO_REPLY_ERROR);
    CERR("gat a\r\n", PROTO_REPLY_BAD_EXPTIME);
    CERR("gats 1x k\r\n", PROTO_REPLY_BAD_EXPTIME);
    CERR("get a b\x01 c\r\n", PROTO_REPLY_BAD_FORMAT);
    CERR("gets a\tb\r\n", PROTO_REPLY_BAD_FORMAT);
    CERR("get a\x7f\r\n", PROTO_REPLY_BAD_FORMAT);
}

Test(proto_req, key_length_limit)
{
    char line[300];
    size_t n;

    memset(line, 'k', sizeof(line));
    memcpy(line, "get ", 4);
    memcpy(line + 4 + PROTO_KEY_MAX, "\r\n", 2);
    n = 4 + PROTO_KEY_MAX + 2;
    cr_assert_eq(parse_req_both(line, n, &req, &used), PROTO_OK);
    cr_assert_eq(req.key.len, PROTO_KEY_MAX);
    memset(line + 4 + PROTO_KEY_MAX, 'k', 1);
    memcpy(line + 4 + PROTO_KEY_MAX + 1, "\r\n", 2);
    cr_assert_eq(parse_req_both(line, n + 1, &req, &used),
        PROTO_CLIENT_ERROR);
    cr_assert_eq(req.err, PROTO_REPLY_BAD_FORMAT);
    cr_assert_eq(used, n + 1);
}

Test(proto_req, set_family)
{
    static const struct {
        const char *line;
        enum proto_cmd cmd;
    } cases[] = {
        { "set k 5 -3 3\r\nabc\r\n", PROTO_CMD_SET },
        { "add k 5 -3 3\r\nabc\r\n", PROTO_CMD_ADD },
        { "replace k 5 -3 3\r\nabc\r\n", PROTO_CMD_REPLACE },
        { "append k 5 -3 3\r\nabc\r\n", PROTO_CMD_APPEND },
        { "prepend k 5 -3 3\r\nabc\r\n", PROTO_CMD_PREPEND },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t n = strlen(cases[i].line);
        cr_assert_eq(parse_req_both(cases[i].line, n, &req, &used), PROTO_OK);
        cr_assert_eq(used, n);
        cr_assert_eq(req.cmd, cases[i].cmd);
        assert_str(req.key, "k");
        cr_assert_eq(req.flags, 5);
        cr_assert_eq(req.exptime, -3);
        assert_str(req.data, "abc");
        cr_assert_not(req.noreply);
        cr_assert(proto_cmd_is_storage(req.cmd));
    }
}

Test(proto_req, set_data_may_hold_anything)
{
    static const char in[] = "set k 0 0 6\r\na\r\nb\0c\r\n";

    OK(in);
    cr_assert_eq(req.data.len, 6);
    cr_assert(memcmp(req.data.ptr, "a\r\nb\0c", 6) == 0);
}

Test(proto_req, set_empty_value_and_max_numbers)
{
    OK("set k 4294967295 9223372036854775807 0\r\n\r\n");
    cr_assert_eq(req.flags, UINT32_MAX);
    cr_assert_eq(req.exptime, INT64_MAX);
    cr_assert_eq(req.data.len, 0);
    OK("set k 0 -9223372036854775808 0\r\n\r\n");
    cr_assert_eq(req.exptime, INT64_MIN);
}

Test(proto_req, set_noreply)
{
    OK("set k 0 0 1 noreply\r\nx\r\n");
    cr_assert(req.noreply);
    /* memcached ignores any other word in that place. */
    OK("set k 0 0 1 norepl\r\nx\r\n");
    cr_assert_not(req.noreply);
}

Test(proto_req, cas)
{
    OK("cas k 1 2 3 18446744073709551615\r\nxyz\r\n");
    cr_assert_eq(req.cmd, PROTO_CMD_CAS);
    cr_assert_eq(req.cas, UINT64_MAX);
    assert_str(req.data, "xyz");
    OK("cas k 1 2 1 7 noreply\r\nx\r\n");
    cr_assert(req.noreply);
    cr_assert_eq(req.cas, 7);
}

Test(proto_req, lf_only_and_spaces)
{
    OK("set k 0 0 1\nx\r\n");
    assert_str(req.data, "x");
    OK("  set   k 0  0 1  \r\nx\r\n");
    assert_str(req.key, "k");
    OK("get k\n");
    assert_str(req.key, "k");
}

Test(proto_req, storage_wrong_word_count_is_error)
{
    /* Only the line goes: memcached then reads the data as a command. */
    PARSE("set k 0 0\r\nx\r\n", PROTO_CLIENT_ERROR, 11);
    cr_assert_eq(req.err, PROTO_REPLY_ERROR);
    PARSE("set k 0 0 1 2 3\r\nx\r\n", PROTO_CLIENT_ERROR, 17);
    cr_assert_eq(req.err, PROTO_REPLY_ERROR);
    PARSE("cas k 0 0 1\r\nx\r\n", PROTO_CLIENT_ERROR, 13);
    cr_assert_eq(req.err, PROTO_REPLY_ERROR);
}

Test(proto_req, storage_bad_length_skips_line_only)
{
    static const char *bad[] = {
        "set k 0 0 -1\r\n", "set k 0 0 x\r\n", "set k 0 0 +1\r\n",
        "set k 0 0 2147483646\r\n", "set k 0 0 4294967296\r\n",
        "set k 0 0 1\r\r\n",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t n = strlen(bad[i]);
        cr_assert_eq(parse_req_both(bad[i], n, &req, &used),
            PROTO_CLIENT_ERROR, "%s", bad[i]);
        cr_assert_eq(req.err, PROTO_REPLY_BAD_FORMAT);
        cr_assert_eq(used, n, "%s", bad[i]);
    }
}

Test(proto_req, storage_bad_fields_swallow_data)
{
    static const char *bad[] = {
        "set k x 0 3\r\n", "set k -1 0 3\r\n", "set k 4294967296 0 3\r\n",
        "set k 0 x 3\r\n", "set k 0 99999999999999999999 3\r\n",
        "set k\x01 0 0 3\r\n", "cas k 0 0 3 x\r\n",
        "cas k 0 0 3 18446744073709551616\r\n",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t n = strlen(bad[i]);
        /* The verdict comes with the line: the data need not be here,
         * and the skip covers it. */
        cr_assert_eq(parse_req_both(bad[i], n, &req, &used),
            PROTO_CLIENT_ERROR, "%s", bad[i]);
        cr_assert_eq(req.err, PROTO_REPLY_BAD_FORMAT, "%s", bad[i]);
        cr_assert_eq(used, n + 5, "%s", bad[i]);
    }
}

Test(proto_req, storage_key_too_long)
{
    char line[400];
    int n = snprintf(line, sizeof(line), "set %0251d 0 0 1\r\nx\r\n", 0);

    cr_assert_eq(parse_req_both(line, (size_t)n, &req, &used),
        PROTO_CLIENT_ERROR);
    cr_assert_eq(req.err, PROTO_REPLY_BAD_FORMAT);
    cr_assert_eq(used, (size_t)n);
}

Test(proto_req, too_large_is_swallowed)
{
    static const char in[] = "set k 0 0 1048577 noreply\r\nabc";

    PARSE(in, PROTO_CLIENT_ERROR, 27 + 1048577 + 2);
    cr_assert_eq(req.err, PROTO_REPLY_TOO_LARGE);
    cr_assert(req.noreply, "the node must stay silent");
    OK("set k 0 0 0\r\n\r\n");
}

Test(proto_req, max_value_is_allowed)
{
    size_t n = 20 + PROTO_DEFAULT_MAX_VALUE + 2;
    char *in = malloc(n);
    int h = snprintf(in, 24, "set k 0 0 %u\r\n", PROTO_DEFAULT_MAX_VALUE);

    memset(in + h, 'v', PROTO_DEFAULT_MAX_VALUE);
    memcpy(in + h + PROTO_DEFAULT_MAX_VALUE, "\r\n", 2);
    n = (size_t)h + PROTO_DEFAULT_MAX_VALUE + 2;
    cr_assert_eq(proto_parse_req(&test_lim, in, n - 1, &req, &used),
        PROTO_AGAIN);
    cr_assert_eq(req.need, n, "need %zu, want %zu", req.need, n);
    cr_assert_eq(proto_parse_req(&test_lim, in, n, &req, &used), PROTO_OK);
    cr_assert_eq(used, n);
    cr_assert_eq(req.data.len, PROTO_DEFAULT_MAX_VALUE);
    free(in);
}

Test(proto_req, bad_data_chunk)
{
    CERR("set k 0 0 2\r\nxyz\r", PROTO_REPLY_BAD_CHUNK);
    CERR("set k 0 0 2\r\nxy\n\r", PROTO_REPLY_BAD_CHUNK);
    CERR("set k 0 0 1 noreply\r\nxy\n", PROTO_REPLY_BAD_CHUNK);
    cr_assert(req.noreply);
    PARSE("set k 0 0 1\r\nx\r", PROTO_AGAIN, 0);
    cr_assert_eq(req.need, 16);
}

Test(proto_req, delete)
{
    OK("delete k\r\n");
    cr_assert_eq(req.cmd, PROTO_CMD_DELETE);
    assert_str(req.key, "k");
    cr_assert_not(req.noreply);
    OK("delete k 0\r\n");
    cr_assert_not(req.noreply);
    OK("delete k noreply\r\n");
    cr_assert(req.noreply);
    OK("delete k 0 noreply\r\n");
    cr_assert(req.noreply);
}

Test(proto_req, delete_errors)
{
    CERR("delete\r\n", PROTO_REPLY_ERROR);
    CERR("delete k 0 noreply x\r\n", PROTO_REPLY_ERROR);
    CERR("delete k 5\r\n", PROTO_REPLY_DELETE_USAGE);
    CERR("delete k 0 foo\r\n", PROTO_REPLY_DELETE_USAGE);
    CERR("delete k 5 noreply\r\n", PROTO_REPLY_DELETE_USAGE);
    cr_assert(req.noreply);
    CERR("delete k\x02\r\n", PROTO_REPLY_BAD_FORMAT);
}

Test(proto_req, incr_decr)
{
    OK("incr k 18446744073709551615\r\n");
    cr_assert_eq(req.cmd, PROTO_CMD_INCR);
    cr_assert_eq(req.delta, UINT64_MAX);
    OK("decr k 01 noreply\r\n");
    cr_assert_eq(req.cmd, PROTO_CMD_DECR);
    cr_assert_eq(req.delta, 1);
    cr_assert(req.noreply);
    OK("incr k 1 foo\r\n");
    cr_assert_not(req.noreply);
}

Test(proto_req, incr_errors)
{
    CERR("incr\r\n", PROTO_REPLY_ERROR);
    CERR("incr k\r\n", PROTO_REPLY_ERROR);
    CERR("incr k 1 2 3\r\n", PROTO_REPLY_ERROR);
    CERR("incr k x\r\n", PROTO_REPLY_BAD_DELTA);
    CERR("incr k -1\r\n", PROTO_REPLY_BAD_DELTA);
    CERR("decr k 18446744073709551616\r\n", PROTO_REPLY_BAD_DELTA);
    CERR("incr k x noreply\r\n", PROTO_REPLY_BAD_DELTA);
    cr_assert(req.noreply);
    CERR("incr \x01 1\r\n", PROTO_REPLY_BAD_FORMAT);
}

Test(proto_req, touch)
{
    OK("touch k 10\r\n");
    cr_assert_eq(req.cmd, PROTO_CMD_TOUCH);
    cr_assert_eq(req.exptime, 10);
    cr_assert(req.has_exptime);
    OK("touch k -1 noreply\r\n");
    cr_assert_eq(req.exptime, -1);
    cr_assert(req.noreply);
    CERR("touch k\r\n", PROTO_REPLY_ERROR);
    CERR("touch k x\r\n", PROTO_REPLY_BAD_EXPTIME);
    CERR("touch k 1 2 3\r\n", PROTO_REPLY_ERROR);
}

Test(proto_req, flush_all)
{
    OK("flush_all\r\n");
    cr_assert_eq(req.cmd, PROTO_CMD_FLUSH_ALL);
    cr_assert_not(req.has_exptime);
    cr_assert_not(req.noreply);
    OK("flush_all 0\r\n");
    cr_assert(req.has_exptime);
    cr_assert_eq(req.exptime, 0);
    OK("flush_all noreply\r\n");
    cr_assert(req.noreply);
    cr_assert_not(req.has_exptime);
    OK("flush_all -1 noreply\r\n");
    cr_assert(req.noreply);
    cr_assert_eq(req.exptime, -1);
    OK("flush_all 5 foo\r\n");
    cr_assert_eq(req.exptime, 5);
    CERR("flush_all x\r\n", PROTO_REPLY_BAD_EXPTIME);
    CERR("flush_all 1 2 3\r\n", PROTO_REPLY_ERROR);
}

Test(proto_req, verbosity)
{
    OK("verbosity 1\r\n");
    cr_assert_eq(req.cmd, PROTO_CMD_VERBOSITY);
    cr_assert_eq(req.level, 1);
    OK("verbosity 2 noreply\r\n");
    cr_assert(req.noreply);
    CERR("verbosity\r\n", PROTO_REPLY_ERROR);
    CERR("verbosity x\r\n", PROTO_REPLY_BAD_FORMAT);
    CERR("verbosity noreply\r\n", PROTO_REPLY_BAD_FORMAT);
    cr_assert(req.noreply);
    CERR("verbosity 1 2 3\r\n", PROTO_REPLY_ERROR);
}

Test(proto_req, stats_and_shutdown_args)
{
    OK("stats\r\n");
    cr_assert_eq(req.cmd, PROTO_CMD_STATS);
    assert_str(req.args, "");
    OK("stats slabs\r\n");
    assert_str(req.args, "slabs");
    OK("stats  detail on \r\n");
    assert_str(req.args, "detail on");
    OK("shutdown\r\n");
    cr_assert_eq(req.cmd, PROTO_CMD_SHUTDOWN);
    OK("shutdown graceful\r\n");
    assert_str(req.args, "graceful");
}

Test(proto_req, version_quit_ignore_words)
{
    OK("version\r\n");
    cr_assert_eq(req.cmd, PROTO_CMD_VERSION);
    OK("version x y\r\n");
    cr_assert_eq(req.cmd, PROTO_CMD_VERSION);
    OK("quit\r\n");
    cr_assert_eq(req.cmd, PROTO_CMD_QUIT);
}

Test(proto_req, unknown_commands_are_error)
{
    CERR("bogus\r\n", PROTO_REPLY_ERROR);
    CERR("\r\n", PROTO_REPLY_ERROR);
    CERR("   \n", PROTO_REPLY_ERROR);
    CERR("GET k\r\n", PROTO_REPLY_ERROR);
    CERR("g\r\n", PROTO_REPLY_ERROR);
    CERR("\0\r\n", PROTO_REPLY_ERROR);
    CERR("get\0 k\r\n", PROTO_REPLY_ERROR);
    CERR("flush_allx\r\n", PROTO_REPLY_ERROR);
}


Test(proto_req, incomplete_line_is_again)
{
    PARSE("get k", PROTO_AGAIN, 0);
    cr_assert_eq(req.need, 0);
    PARSE("set k 0 0 1\r", PROTO_AGAIN, 0);
    PARSE("", PROTO_AGAIN, 0);
}

Test(proto_req, pipelined_requests)
{
    static const char in[] = "get a\r\nset b 0 0 1\r\nx\r\ndelete c\r\nge";
    size_t off = 0;
    enum proto_cmd want[] = { PROTO_CMD_GET, PROTO_CMD_SET, PROTO_CMD_DELETE };

    for (size_t i = 0; i < 3; i++) {
        cr_assert_eq(proto_parse_req(&test_lim, in + off,
            sizeof(in) - 1 - off, &req, &used), PROTO_OK);
        cr_assert_eq(req.cmd, want[i]);
        off += used;
    }
    cr_assert_eq(proto_parse_req(&test_lim, in + off, sizeof(in) - 1 - off,
        &req, &used), PROTO_AGAIN);
}

/* A line of `n` bytes before "\r\n": `head` then 'k' padding. */
static char *
long_line(const char *head, size_t n, bool newline, size_t *len)
{
    char *p = malloc(n + 2);

    memset(p, 'k', n);
    memcpy(p, head, strlen(head));
    memcpy(p + n, "\r\n", 2);
    *len = newline ? n + 2 : n;
    return p;
}

Test(proto_req, line_too_long_is_fatal)
{
    size_t len;
    char *p = long_line("set ", PROTO_DEFAULT_MAX_LINE + 1, false, &len);

    /* No newline within the limit: nothing to resync on. */
    cr_assert_eq(parse_req_both(p, len, &req, &used), PROTO_FATAL);
    cr_assert_eq(req.err, PROTO_REPLY_LINE_TOO_LONG);
    cr_assert_eq(req.fatal, PROTO_FATAL_LINE_TOO_LONG);
    cr_assert_eq(used, 0);
    free(p);
    /* Even when the newline is already buffered. */
    p = long_line("set ", PROTO_DEFAULT_MAX_LINE, true, &len);
    cr_assert_eq(parse_req_both(p, len, &req, &used), PROTO_FATAL);
    free(p);
    /* Exactly at the limit ("\r" counts) is fine: an ERROR. */
    p = long_line("sex ", PROTO_DEFAULT_MAX_LINE - 1, true, &len);
    cr_assert_eq(parse_req_both(p, len, &req, &used), PROTO_CLIENT_ERROR);
    cr_assert_eq(used, len);
    free(p);
}

/* memcached 1.6.18 (probed): an unknown command whose last word starts
 * with "HTTP/" closes without a reply; a known command runs as usual. */
Test(proto_req, http_request_lines_are_fatal_and_silent)
{
    static const char *const http[] = {
        "GET / HTTP/1.0\r\n", "PUT /x HTTP/1.1\r\n", "DELETE HTTP/1.1\n",
        "HTTP/1.0\r\n", "GET / HTTP/1.0 \r\n", "FOO bar HTTP/2\r\n",
    };

    for (size_t i = 0; i < sizeof(http) / sizeof(http[0]); i++) {
        cr_assert_eq(parse_req_both(http[i], strlen(http[i]), &req, &used),
            PROTO_FATAL, "'%s'", http[i]);
        cr_assert_eq(req.fatal, PROTO_FATAL_HTTP);
        cr_assert_eq(req.err, PROTO_REPLY_NONE);
        cr_assert_eq(used, 0);
    }
    CERR_REQ("GET /\r\n", PROTO_REPLY_ERROR);
    CERR_REQ("GET / http/1.0\r\n", PROTO_REPLY_ERROR);
    CERR_REQ("x HTTP/1.0 extra\r\n", PROTO_REPLY_ERROR);
    CERR_REQ("touch HTTP/1.1\r\n", PROTO_REPLY_ERROR);
    OK_REQ("get foo HTTP/1.1\r\n");
    cr_assert_eq(req.nkeys, 2);
    cr_assert_eq(parse_req_both("GET / HTTP/1.0", 14, &req, &used),
        PROTO_AGAIN);
}

/* A binary-protocol request (magic 0x80) is fatal at its first byte: the
 * client waits for a 24-byte header's answer and never sends a newline. */
Test(proto_req, binary_magic_is_fatal_at_once)
{
    static const char bin[24] = { (char)0x80, 0x0a };

    cr_assert_eq(proto_parse_req(&test_lim, bin, 1, &req, &used),
        PROTO_FATAL);
    cr_assert_eq(req.fatal, PROTO_FATAL_BINARY);
    cr_assert_eq(req.err, PROTO_REPLY_NONE);
    cr_assert_eq(proto_parse_req(&test_lim, bin, sizeof(bin), &req, &used),
        PROTO_FATAL);
    cr_assert_eq(req.fatal, PROTO_FATAL_BINARY);
    cr_assert_eq(used, 0);
    /* 0x80 inside a line is a key byte like any other. */
    OK_REQ("get \x80\r\n");
}

Test(proto_req, long_get_lines_have_more_room)
{
    size_t n = 10000, len;
    char *p = long_line("get ", n, true, &len);

    for (size_t i = 100; i < n; i += 100) {
        p[i] = ' ';
    }
    cr_assert_eq(proto_parse_req(&test_lim, p, len, &req, &used), PROTO_OK);
    cr_assert_eq(req.nkeys, n / 100);
    cr_assert_eq(proto_parse_req(&test_lim, p, len - 3, &req, &used),
        PROTO_AGAIN);
    free(p);
    p = long_line("gets ", PROTO_DEFAULT_MAX_KEY_LINE + 1, false, &len);
    cr_assert_eq(proto_parse_req(&test_lim, p, len, &req, &used),
        PROTO_FATAL);
    cr_assert_eq(req.err, PROTO_REPLY_LINE_TOO_LONG);
    free(p);
}

Test(proto_req, configured_limits_apply)
{
    struct proto_limits lim = { 16, 16, 4 };

    cr_assert_eq(proto_parse_req(&lim, "set k 0 0 5\r\n", 13, &req, &used),
        PROTO_CLIENT_ERROR);
    cr_assert_eq(req.err, PROTO_REPLY_TOO_LARGE);
    cr_assert_eq(used, 13 + 7);
    cr_assert_eq(proto_parse_req(&lim, "get aaaaaaaaaaaaaaaa", 20, &req,
        &used), PROTO_FATAL);
}
