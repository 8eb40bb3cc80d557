/* Tests for the response parser: every element a server sends, fed whole
 * and one byte at a time, and everything that means a lost stream. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "proto/proto.h"

static struct proto_rsp rsp;
static size_t used;

#define PARSE(lit, st, n) do { \
        cr_assert_eq(parse_rsp_both((lit), sizeof(lit) - 1, &rsp, &used), \
            (st), "status for '%s'", (lit)); \
        cr_assert_eq(used, (size_t)(n), "used %zu for '%s'", used, (lit)); \
    } while (0)
#define OK(lit) PARSE(lit, PROTO_OK, sizeof(lit) - 1)
#define FATAL(lit) PARSE(lit, PROTO_FATAL, 0)

Test(proto_rsp, value_without_cas)
{
    OK("VALUE foo 7 3\r\nbar\r\n");
    cr_assert_eq(rsp.type, PROTO_RSP_VALUE);
    assert_str(rsp.key, "foo");
    cr_assert_eq(rsp.flags, 7);
    assert_str(rsp.data, "bar");
    cr_assert_not(rsp.has_cas);
}

Test(proto_rsp, value_with_cas_and_binary_data)
{
    static const char in[] = "VALUE k 4294967295 4 18446744073709551615\r\n"
        "\r\n\0x\r\n";

    OK(in);
    cr_assert(rsp.has_cas);
    cr_assert_eq(rsp.cas, UINT64_MAX);
    cr_assert_eq(rsp.flags, UINT32_MAX);
    cr_assert(memcmp(rsp.data.ptr, "\r\n\0x", 4) == 0);
}

Test(proto_rsp, value_needs_its_block)
{
    PARSE("VALUE k 0 3\r\nab", PROTO_AGAIN, 0);
    cr_assert_eq(rsp.need, 18);
}

Test(proto_rsp, status_words)
{
    static const struct {
        const char *line;
        enum proto_rsp_type type;
    } cases[] = {
        { "END\r\n", PROTO_RSP_END },
        { "STORED\r\n", PROTO_RSP_STORED },
        { "NOT_STORED\r\n", PROTO_RSP_NOT_STORED },
        { "EXISTS\r\n", PROTO_RSP_EXISTS },
        { "NOT_FOUND\r\n", PROTO_RSP_NOT_FOUND },
        { "DELETED\r\n", PROTO_RSP_DELETED },
        { "TOUCHED\r\n", PROTO_RSP_TOUCHED },
        { "OK\r\n", PROTO_RSP_OK },
        { "RESET\r\n", PROTO_RSP_RESET },
        { "END\n", PROTO_RSP_END },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t n = strlen(cases[i].line);
        cr_assert_eq(parse_rsp_both(cases[i].line, n, &rsp, &used),
            PROTO_OK, "%s", cases[i].line);
        cr_assert_eq(used, n);
        cr_assert_eq(rsp.type, cases[i].type, "%s", cases[i].line);
    }
}

Test(proto_rsp, numbers)
{
    OK("0\r\n");
    cr_assert_eq(rsp.type, PROTO_RSP_NUMBER);
    cr_assert_eq(rsp.number, 0);
    OK("18446744073709551615\r\n");
    cr_assert_eq(rsp.number, UINT64_MAX);
    FATAL("18446744073709551616\r\n");
    FATAL("12a\r\n");
}

Test(proto_rsp, text_lines)
{
    OK("VERSION 1.6.18\r\n");
    cr_assert_eq(rsp.type, PROTO_RSP_VERSION);
    assert_str(rsp.text, "1.6.18");
    OK("STAT curr_items 10\r\n");
    cr_assert_eq(rsp.type, PROTO_RSP_STAT);
    assert_str(rsp.name, "curr_items");
    assert_str(rsp.text, "10");
    OK("STAT version 1.6.18 extra words\r\n");
    assert_str(rsp.text, "1.6.18 extra words");
}

Test(proto_rsp, errors_carry_text)
{
    OK("ERROR\r\n");
    cr_assert_eq(rsp.type, PROTO_RSP_ERROR);
    assert_str(rsp.text, "");
    OK("ERROR: shutdown not enabled\r\n");
    assert_str(rsp.text, ": shutdown not enabled");
    OK("CLIENT_ERROR bad data chunk\r\n");
    cr_assert_eq(rsp.type, PROTO_RSP_CLIENT_ERROR);
    assert_str(rsp.text, "bad data chunk");
    OK("SERVER_ERROR object too large for cache\r\n");
    cr_assert_eq(rsp.type, PROTO_RSP_SERVER_ERROR);
    assert_str(rsp.text, "object too large for cache");
}

Test(proto_rsp, garbage_is_fatal)
{
    FATAL("\r\n");
    FATAL("ENDX\r\n");
    FATAL("end\r\n");
    FATAL("STORED \r\n");
    FATAL("CLIENT_ERRORx\r\n");
    FATAL("VERSIONX\r\n");
    FATAL("STAT\r\n");
    FATAL("STAT name\r\n");
    FATAL("HDX\r\n");
    FATAL("hd\r\n");
}

Test(proto_rsp, bad_value_lines_are_fatal)
{
    FATAL("VALUE\r\n");
    FATAL("VALUE k\r\n");
    FATAL("VALUE k 0\r\n");
    FATAL("VALUE k x 1\r\nx\r\n");
    FATAL("VALUE k 0 x\r\n");
    FATAL("VALUE k 0 -1\r\n");
    FATAL("VALUE k 0 1 x\r\nx\r\n");
    FATAL("VALUE k 0 1 1 1\r\nx\r\n");
    FATAL("VALUE k\x01 0 1\r\nx\r\n");
    FATAL("VALUE k 0 1048577\r\n");
    FATAL("VALUE k 0 1\r\nxy\r\n");
}

Test(proto_rsp, long_line_is_fatal)
{
    char *p = malloc(PROTO_DEFAULT_MAX_LINE + 1);

    memset(p, 'S', PROTO_DEFAULT_MAX_LINE + 1);
    cr_assert_eq(parse_rsp_both(p, PROTO_DEFAULT_MAX_LINE, &rsp, &used),
        PROTO_AGAIN);
    cr_assert_eq(parse_rsp_both(p, PROTO_DEFAULT_MAX_LINE + 1, &rsp, &used),
        PROTO_FATAL);
    free(p);
}

Test(proto_rsp, a_whole_multiget_reply)
{
    static const char in[] = "VALUE a 0 1 5\r\n1\r\nVALUE b 2 0 6\r\n\r\n"
        "END\r\nSTORED\r\n";
    enum proto_rsp_type want[] = {
        PROTO_RSP_VALUE, PROTO_RSP_VALUE, PROTO_RSP_END, PROTO_RSP_STORED,
    };
    size_t off = 0;

    for (size_t i = 0; i < 4; i++) {
        cr_assert_eq(proto_parse_rsp(&test_lim, in + off,
            sizeof(in) - 1 - off, &rsp, &used), PROTO_OK);
        cr_assert_eq(rsp.type, want[i]);
        off += used;
    }
    cr_assert_eq(off, sizeof(in) - 1);
    cr_assert_eq(proto_parse_rsp(&test_lim, in + off, 0, &rsp, &used),
        PROTO_AGAIN);
}
