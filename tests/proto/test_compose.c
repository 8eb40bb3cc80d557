/* Tests for the composers: exact bytes, and round trips through the
 * parsers. */
#include <criterion/criterion.h>
#include <string.h>

#include "helpers.h"
#include "proto/proto.h"

static struct buf b;

static void
setup(void)
{
    buf_init(&b);
}

static void
teardown(void)
{
    buf_fini(&b);
}

static struct str
out(void)
{
    return (struct str){ buf_head(&b), b.len };
}

TestSuite(proto_compose, .init = setup, .fini = teardown);

Test(proto_compose, value_header)
{
    char hdr[PROTO_VALUE_HDR_MAX];
    size_t n = proto_compose_value(hdr, S("foo"), 7, 3, false, 0);

    assert_str((struct str){ hdr, n }, "VALUE foo 7 3\r\n");
    n = proto_compose_value(hdr, S("foo"), 0, 0, true, 42);
    assert_str((struct str){ hdr, n }, "VALUE foo 0 0 42\r\n");
}

Test(proto_compose, value_header_at_its_widest)
{
    char key[PROTO_KEY_MAX];
    char hdr[PROTO_VALUE_HDR_MAX + 1];
    size_t n;

    memset(key, 'k', sizeof(key));
    memset(hdr, '#', sizeof(hdr));
    n = proto_compose_value(hdr, (struct str){ key, sizeof(key) }, UINT32_MAX,
        UINT32_MAX, true, UINT64_MAX);
    cr_assert_eq(n, PROTO_VALUE_HDR_MAX);
    cr_assert_eq(hdr[PROTO_VALUE_HDR_MAX], '#', "wrote past the maximum");
}

Test(proto_compose, number)
{
    char d[PROTO_NUMBER_MAX];
    size_t n = proto_compose_number(d, UINT64_MAX);

    cr_assert_eq(n, PROTO_NUMBER_MAX);
    assert_str((struct str){ d, n }, "18446744073709551615\r\n");
    n = proto_compose_number(d, 0);
    assert_str((struct str){ d, n }, "0\r\n");
}

Test(proto_compose, lines_into_a_buf)
{
    cr_assert(proto_compose_version(&b, S("1.6.18")));
    cr_assert(proto_compose_stat(&b, S("version"), S("ringcache 0.1")));
    cr_assert(proto_compose_stat_u64(&b, S("curr_items"), 12));
    cr_assert(proto_compose_error(&b, PROTO_RSP_CLIENT_ERROR, S("bad")));
    cr_assert(proto_compose_error(&b, PROTO_RSP_SERVER_ERROR, S("oom")));
    cr_assert(proto_compose_error(&b, PROTO_RSP_ERROR, S("")));
    assert_str(out(), "VERSION 1.6.18\r\nSTAT version ringcache 0.1\r\n"
        "STAT curr_items 12\r\nCLIENT_ERROR bad\r\nSERVER_ERROR oom\r\n"
        "ERROR\r\n");
    cr_assert_not(proto_compose_error(&b, PROTO_RSP_END, S("x")));
}

Test(proto_compose, conn_addr_names_as_memcached)
{
    char d[32];

    proto_conn_addr_name("127.0.0.1:11211", d, sizeof(d));
    cr_assert_str_eq(d, "tcp:127.0.0.1:11211");
    proto_conn_addr_name("[::1]:5", d, sizeof(d));
    cr_assert_str_eq(d, "tcp6:[::1]:5");
    proto_conn_addr_name("/run/mc.sock", d, sizeof(d));
    cr_assert_str_eq(d, "unix:/run/mc.sock");
    proto_conn_addr_name("/a/very/long/path/that/does/not/fit", d, 8);
    cr_assert_str_eq(d, "unix:/a");
}

/* Compose `r` as a request, check the bytes, and parse them back. */
static void
req_round_trip(const struct proto_req *r, const char *want)
{
    struct proto_req back;
    size_t used;

    buf_clear(&b);
    cr_assert(proto_compose_req(&b, r), "compose %s", want);
    assert_str(out(), want);
    cr_assert_eq(parse_req_both(buf_head(&b), b.len, &back, &used),
        PROTO_OK, "%s", want);
    cr_assert_eq(used, b.len);
    cr_assert_eq(back.cmd, r->cmd);
    cr_assert_eq(back.noreply, r->noreply);
    cr_assert(str_eq(back.key, r->key), "%s", want);
    cr_assert(str_eq(back.data, r->data), "%s", want);
    cr_assert(str_eq(back.args, r->args), "%s", want);
    cr_assert_eq(back.flags, r->flags);
    cr_assert_eq(back.exptime, r->exptime);
    cr_assert_eq(back.cas, r->cas);
    cr_assert_eq(back.delta, r->delta);
    cr_assert_eq(back.level, r->level);
    cr_assert_eq(back.has_exptime, r->has_exptime);
}

Test(proto_compose, requests_round_trip)
{
    struct proto_req r;

    memset(&r, 0, sizeof(r));
    r.cmd = PROTO_CMD_GET;
    r.key = S("k");
    req_round_trip(&r, "get k\r\n");
    r.cmd = PROTO_CMD_GATS;
    r.exptime = -5;
    r.has_exptime = true;
    req_round_trip(&r, "gats -5 k\r\n");

    memset(&r, 0, sizeof(r));
    r.cmd = PROTO_CMD_SET;
    r.key = S("key");
    r.flags = 3;
    r.exptime = 60;
    r.has_exptime = true;
    r.data = S("a\r\nb");
    req_round_trip(&r, "set key 3 60 4\r\na\r\nb\r\n");
    r.cmd = PROTO_CMD_CAS;
    r.cas = 99;
    r.noreply = true;
    req_round_trip(&r, "cas key 3 60 4 99 noreply\r\na\r\nb\r\n");
    r.cmd = PROTO_CMD_APPEND;
    r.cas = 0;
    r.data = S("");
    req_round_trip(&r, "append key 3 60 0 noreply\r\n\r\n");

    memset(&r, 0, sizeof(r));
    r.cmd = PROTO_CMD_DELETE;
    r.key = S("d");
    req_round_trip(&r, "delete d\r\n");
    r.cmd = PROTO_CMD_INCR;
    r.delta = UINT64_MAX;
    r.noreply = true;
    req_round_trip(&r, "incr d 18446744073709551615 noreply\r\n");
    r.cmd = PROTO_CMD_DECR;
    r.delta = 2;
    r.noreply = false;
    req_round_trip(&r, "decr d 2\r\n");
    r.cmd = PROTO_CMD_TOUCH;
    r.delta = 0;
    r.exptime = INT64_MIN;
    r.has_exptime = true;
    req_round_trip(&r, "touch d -9223372036854775808\r\n");
}

Test(proto_compose, admin_requests_round_trip)
{
    struct proto_req r;

    memset(&r, 0, sizeof(r));
    r.cmd = PROTO_CMD_FLUSH_ALL;
    req_round_trip(&r, "flush_all\r\n");
    r.has_exptime = true;
    r.exptime = 10;
    r.noreply = true;
    req_round_trip(&r, "flush_all 10 noreply\r\n");
    memset(&r, 0, sizeof(r));
    r.cmd = PROTO_CMD_VERBOSITY;
    r.level = 3;
    req_round_trip(&r, "verbosity 3\r\n");
    r.level = 0;
    r.cmd = PROTO_CMD_STATS;
    req_round_trip(&r, "stats\r\n");
    r.args = S("detail on");
    req_round_trip(&r, "stats detail on\r\n");
    r.cmd = PROTO_CMD_SHUTDOWN;
    r.args = S("");
    req_round_trip(&r, "shutdown\r\n");
    r.cmd = PROTO_CMD_VERSION;
    req_round_trip(&r, "version\r\n");
    r.cmd = PROTO_CMD_QUIT;
    req_round_trip(&r, "quit\r\n");
}

Test(proto_compose, parsed_multiget_recomposes)
{
    static const char in[] = "gat 7  a b  c\r\n";
    struct proto_req r;
    size_t used;

    cr_assert_eq(proto_parse_req(&test_lim, in, sizeof(in) - 1, &r, &used),
        PROTO_OK);
    cr_assert(proto_compose_req(&b, &r));
    assert_str(out(), "gat 7 a b  c\r\n");
}

Test(proto_compose, retrieval_from_key_array)
{
    struct str keys[] = { S("k1"), S("k22"), S("k3") };

    cr_assert(proto_compose_retrieval(&b, PROTO_CMD_GETS, 0, keys, 3));
    cr_assert(proto_compose_retrieval(&b, PROTO_CMD_GAT, 30, keys, 1));
    assert_str(out(), "gets k1 k22 k3\r\ngat 30 k1\r\n");
    cr_assert_not(proto_compose_retrieval(&b, PROTO_CMD_SET, 0, keys, 1));
    cr_assert_eq(b.len, 27, "a refused compose leaves the buffer alone");
}

Test(proto_compose, refuses_what_it_cannot_write)
{
    struct proto_req r;

    memset(&r, 0, sizeof(r));
    cr_assert_not(proto_compose_req(&b, &r));
    r.cmd = PROTO_CMD_MG;
    cr_assert_not(proto_compose_req(&b, &r));
    r.cmd = PROTO_CMD_COUNT;
    cr_assert_not(proto_compose_req(&b, &r));
    cr_assert_eq(b.len, 0);
}

/* Compose `r`, check the bytes, parse back, compose again: same bytes. */
static void
rsp_round_trip(const struct proto_rsp *r, const char *want)
{
    struct proto_rsp back;
    size_t used;
    size_t n;

    buf_clear(&b);
    cr_assert(proto_compose_rsp(&b, r), "compose %s", want);
    assert_str(out(), want);
    n = b.len;
    cr_assert_eq(parse_rsp_both(buf_head(&b), n, &back, &used), PROTO_OK,
        "%s", want);
    cr_assert_eq(used, n);
    cr_assert_eq(back.type, r->type);
    cr_assert(proto_compose_rsp(&b, &back));
    cr_assert_eq(b.len, 2 * n);
    cr_assert(memcmp(buf_head(&b), buf_head(&b) + n, n) == 0, "%s", want);
}

Test(proto_compose, responses_round_trip)
{
    static const struct {
        enum proto_rsp_type type;
        const char *want;
    } words[] = {
        { PROTO_RSP_END, "END\r\n" },
        { PROTO_RSP_STORED, "STORED\r\n" },
        { PROTO_RSP_NOT_STORED, "NOT_STORED\r\n" },
        { PROTO_RSP_EXISTS, "EXISTS\r\n" },
        { PROTO_RSP_NOT_FOUND, "NOT_FOUND\r\n" },
        { PROTO_RSP_DELETED, "DELETED\r\n" },
        { PROTO_RSP_TOUCHED, "TOUCHED\r\n" },
        { PROTO_RSP_OK, "OK\r\n" },
        { PROTO_RSP_RESET, "RESET\r\n" },
    };
    struct proto_rsp r;

    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        memset(&r, 0, sizeof(r));
        r.type = words[i].type;
        rsp_round_trip(&r, words[i].want);
    }
    memset(&r, 0, sizeof(r));
    r.type = PROTO_RSP_VALUE;
    r.key = S("k");
    r.flags = 1;
    r.data = S("v\r\nv");
    rsp_round_trip(&r, "VALUE k 1 4\r\nv\r\nv\r\n");
    r.has_cas = true;
    r.cas = 5;
    rsp_round_trip(&r, "VALUE k 1 4 5\r\nv\r\nv\r\n");
    memset(&r, 0, sizeof(r));
    r.type = PROTO_RSP_NUMBER;
    r.number = 1234;
    rsp_round_trip(&r, "1234\r\n");
    r.type = PROTO_RSP_VERSION;
    r.text = S("1.6.18");
    rsp_round_trip(&r, "VERSION 1.6.18\r\n");
    r.type = PROTO_RSP_STAT;
    r.name = S("pid");
    r.text = S("42 x");
    rsp_round_trip(&r, "STAT pid 42 x\r\n");
    r.type = PROTO_RSP_ERROR;
    r.text = S(": shutdown not enabled");
    rsp_round_trip(&r, "ERROR: shutdown not enabled\r\n");
    r.type = PROTO_RSP_CLIENT_ERROR;
    r.text = S("bad data chunk");
    rsp_round_trip(&r, "CLIENT_ERROR bad data chunk\r\n");
    r.type = PROTO_RSP_SERVER_ERROR;
    r.text = S("out of memory");
    rsp_round_trip(&r, "SERVER_ERROR out of memory\r\n");
}

Test(proto_compose, reply_iovec_matches_memcached)
{
    char hdr[PROTO_VALUE_HDR_MAX];
    size_t n = proto_compose_value(hdr, S("a"), 0, 1, true, 18);

    /* What memcached 1.6.18 sent for "gets a" with value "1", cas 18. */
    cr_assert(buf_append(&b, hdr, n));
    cr_assert(buf_append(&b, "1", 1));
    cr_assert(buf_append_str(&b, proto_reply_str(PROTO_REPLY_CRLF)));
    cr_assert(buf_append_str(&b, proto_reply_str(PROTO_REPLY_END)));
    assert_str(out(), "VALUE a 0 1 18\r\n1\r\nEND\r\n");
}

/* memcached 1.6.18's metadump line (probed: "set a%20b~" then metadump
 * shows key=a%2520b~), every other byte %XX in upper case. */
Test(proto_compose, dump_line)
{
    char line[PROTO_DUMP_LINE_MAX];
    char key[PROTO_KEY_MAX];
    size_t n;

    n = proto_compose_dump_line(line, S("a%20b~"), 1796416325, 1796416225,
        1, false, 1, 66);
    assert_str((struct str){ line, n }, "key=a%2520b~ exp=1796416325 "
        "la=1796416225 cas=1 fetch=no cls=1 size=66\n");
    n = proto_compose_dump_line(line, S("\x01\x02\r\n -_.Zz9"), -1, 0,
        UINT64_MAX, true, 63, 64);
    assert_str((struct str){ line, n }, "key=%01%02%0D%0A%20-_.Zz9 exp=-1 "
        "la=0 cas=18446744073709551615 fetch=yes cls=63 size=64\n");
    /* The widest line fits. */
    memset(key, 0xff, sizeof(key));
    n = proto_compose_dump_line(line, (struct str){ key, sizeof(key) },
        INT64_MIN, INT64_MIN, UINT64_MAX, true, UINT32_MAX, UINT64_MAX);
    cr_assert_leq(n, PROTO_DUMP_LINE_MAX);
    cr_assert_eq(memchr(line, '\n', n), line + n - 1);
}

Test(proto_compose, cachedump_line)
{
    char line[PROTO_DUMP_LINE_MAX];
    size_t n;

    n = proto_compose_cachedump_line(line, S("a%20b~"), 1, 1796416545);
    assert_str((struct str){ line, n }, "ITEM a%20b~ [1 b; 1796416545 s]\r\n");
    n = proto_compose_cachedump_line(line, S("foo"), 3, 0);
    assert_str((struct str){ line, n }, "ITEM foo [3 b; 0 s]\r\n");
    cr_assert_eq(proto_compose_cachedump_line(line, S("a\r\nb"), 1, 0), 0);
    cr_assert_eq(proto_compose_cachedump_line(line, S("a b"), 1, 0), 0);
}
