/* Tests for the command and reply tables. */
#include <criterion/criterion.h>
#include <string.h>

#include "helpers.h"
#include "proto/proto.h"

Test(proto_table, every_reply_is_one_line)
{
    for (int r = PROTO_REPLY_CRLF; r < PROTO_REPLY_COUNT; r++) {
        struct str s = proto_reply_str((enum proto_reply)r);
        cr_assert_geq(s.len, 2, "reply %d", r);
        cr_assert(memcmp(s.ptr + s.len - 2, "\r\n", 2) == 0, "reply %d", r);
        cr_assert_null(memchr(s.ptr, '\n', s.len - 1), "reply %d", r);
    }
    assert_str(proto_reply_str(PROTO_REPLY_NONE), "");
    assert_str(proto_reply_str(PROTO_REPLY_COUNT), "");
}

Test(proto_table, memcached_reply_texts)
{
    assert_str(proto_reply_str(PROTO_REPLY_END), "END\r\n");
    assert_str(proto_reply_str(PROTO_REPLY_BAD_FORMAT),
        "CLIENT_ERROR bad command line format\r\n");
    assert_str(proto_reply_str(PROTO_REPLY_TOO_LARGE),
        "SERVER_ERROR object too large for cache\r\n");
    assert_str(proto_reply_str(PROTO_REPLY_DELETE_USAGE),
        "CLIENT_ERROR bad command line format.  "
        "Usage: delete <key> [noreply]\r\n");
    assert_str(proto_reply_str(PROTO_REPLY_NON_NUMERIC),
        "CLIENT_ERROR cannot increment or decrement non-numeric value\r\n");
}

Test(proto_table, command_names)
{
    cr_assert_str_eq(proto_cmd_name(PROTO_CMD_FLUSH_ALL), "flush_all");
    cr_assert_str_eq(proto_cmd_name(PROTO_CMD_GATS), "gats");
    cr_assert_str_eq(proto_cmd_name(PROTO_CMD_NONE), "");
    cr_assert_str_eq(proto_cmd_name(PROTO_CMD_COUNT), "");
    for (int c = PROTO_CMD_NONE + 1; c < PROTO_CMD_COUNT; c++) {
        cr_assert_gt(strlen(proto_cmd_name((enum proto_cmd)c)), 1);
    }
}

Test(proto_table, command_kinds)
{
    cr_assert(proto_cmd_is_storage(PROTO_CMD_CAS));
    cr_assert(proto_cmd_is_storage(PROTO_CMD_PREPEND));
    cr_assert_not(proto_cmd_is_storage(PROTO_CMD_GET));
    cr_assert_not(proto_cmd_is_storage(PROTO_CMD_COUNT));
    cr_assert(proto_cmd_is_retrieval(PROTO_CMD_GAT));
    cr_assert_not(proto_cmd_is_retrieval(PROTO_CMD_TOUCH));
    cr_assert_not(proto_cmd_is_retrieval(PROTO_CMD_COUNT));
}

Test(proto_table, default_limits)
{
    struct proto_limits lim;

    proto_limits_default(&lim);
    cr_assert_eq(lim.max_line, 2048);
    cr_assert_eq(lim.max_value, 1024 * 1024);
    cr_assert_geq(lim.max_key_line, lim.max_line);
}
