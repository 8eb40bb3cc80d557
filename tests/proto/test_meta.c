/* Tests for the meta commands (src/proto/meta.c): requests and their
 * errors fed whole and one byte at a time, base64 keys, reply lines with
 * their flag echoes, meta responses, and round trips. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "proto/proto.h"

static struct proto_req req;
static struct proto_rsp rsp;
static size_t used;

#define PARSE PARSE_REQ
#define OK OK_REQ
/* Meta errors are never silenced, unlike a classic noreply error. */
#define CERR(lit, e) do { \
        CERR_REQ(lit, e); \
        cr_assert_not(req.noreply, "meta errors are always sent"); \
    } while (0)
#define RSP_OK(lit) do { \
        cr_assert_eq(parse_rsp_both((lit), sizeof(lit) - 1, &rsp, &used), \
            PROTO_OK, "status for '%s'", (lit)); \
        cr_assert_eq(used, sizeof(lit) - 1); \
    } while (0)

/* The flag words of req, joined by single spaces. */
static void
assert_flags(const char *want)
{
    struct proto_key_iter it;
    struct str w;
    char got[256];
    size_t n = 0;

    proto_meta_begin(&req, &it);
    while (proto_keys_next(&it, &w)) {
        if (n > 0) {
            got[n++] = ' ';
        }
        memcpy(got + n, w.ptr, w.len);
        n += w.len;
    }
    assert_str((struct str){ got, n }, want);
}

Test(proto_meta, mn_takes_nothing)
{
    OK("mn\r\n");
    cr_assert_eq(req.cmd, PROTO_CMD_MN);
    OK("mn whatever 1 2\r\n");
    cr_assert_eq(req.cmd, PROTO_CMD_MN);
}

Test(proto_meta, mg_flags_in_order)
{
    OK("mg foo v k  O123 t c f s h l u q P L\r\n");
    cr_assert_eq(req.cmd, PROTO_CMD_MG);
    assert_str(req.key, "foo");
    assert_flags("v k O123 t c f s h l u q P L");
    cr_assert(proto_meta_has(&req, 'v'));
    cr_assert(proto_meta_has(&req, 'q'));
    cr_assert(proto_meta_has(&req, 'O'));
    cr_assert_not(proto_meta_has(&req, 'T'));
    cr_assert_not(proto_meta_has(&req, 'N'));
    cr_assert_not(req.noreply, "q is the node's business");
    cr_assert_not(req.has_exptime);
}

Test(proto_meta, mg_tokens)
{
    OK("mg foo T30 N-5 R7 F9 C12 J3 D4 MD I\r\n");
    cr_assert(req.has_exptime);
    cr_assert_eq(req.exptime, 30);
    cr_assert_eq(req.vivify, -5);
    cr_assert_eq(req.recache, 7);
    cr_assert_eq(req.flags, 9);
    cr_assert_eq(req.cas, 12);
    cr_assert_eq(req.initial, 3);
    cr_assert_eq(req.delta, 4);
    cr_assert_eq(req.mode, 'D');
    cr_assert(proto_meta_has(&req, 'I'));
}

Test(proto_meta, only_the_first_byte_names_a_flag)
{
    /* memcached: "vx" is v, "Oabc" is O with token "abc". */
    OK("mg foo vx kk\r\n");
    cr_assert(proto_meta_has(&req, 'v'));
    cr_assert(proto_meta_has(&req, 'k'));
}

Test(proto_meta, ma_delta_defaults_to_one)
{
    OK("ma n\r\n");
    cr_assert_eq(req.cmd, PROTO_CMD_MA);
    cr_assert_eq(req.delta, 1);
    cr_assert_eq(req.mode, 0);
    OK("ma n M- D18446744073709551615 J0 N0\r\n");
    cr_assert_eq(req.delta, UINT64_MAX);
    cr_assert_eq(req.mode, '-');
}

Test(proto_meta, ms_with_data)
{
    static const char in[] = "ms foo 5 T60 F7 c MA\r\na\r\nbc\r\n";

    OK(in);
    cr_assert_eq(req.cmd, PROTO_CMD_MS);
    assert_str(req.key, "foo");
    assert_str(req.data, "a\r\nbc");
    cr_assert_eq(req.exptime, 60);
    cr_assert_eq(req.flags, 7);
    cr_assert_eq(req.mode, 'A');
    assert_flags("T60 F7 c MA");
    OK("ms e 0\r\n\r\n");
    cr_assert_eq(req.data.len, 0);
}

Test(proto_meta, ms_waits_for_its_block)
{
    cr_assert_eq(proto_parse_req(&test_lim, "ms k 10\r\nabc", 12, &req,
        &used), PROTO_AGAIN);
    cr_assert_eq(used, 0);
    cr_assert_eq(req.need, 9 + 10 + 2);
}

Test(proto_meta, md_flags)
{
    OK("md foo q C5 I T3 k\r\n");
    cr_assert_eq(req.cmd, PROTO_CMD_MD);
    cr_assert_eq(req.cas, 5);
    cr_assert(proto_meta_has(&req, 'C'));
    cr_assert(proto_meta_has(&req, 'I'));
    cr_assert_eq(req.exptime, 3);
    OK("md foo C0\r\n");
    cr_assert(proto_meta_has(&req, 'C'), "C0 is still a compare");
}

Test(proto_meta, me_key_and_b)
{
    OK("me foo\r\n");
    cr_assert_eq(req.cmd, PROTO_CMD_ME);
    assert_str(req.key, "foo");
    OK("me foo bar baz\r\n");
    OK("me Zm9v b\r\n");
    cr_assert(proto_meta_has(&req, 'b'));
    CERR("me\r\n", PROTO_REPLY_BAD_FORMAT);
    CERR("me ==== b\r\n", PROTO_REPLY_BAD_FORMAT);
}

Test(proto_meta, arity)
{
    CERR("mg\r\n", PROTO_REPLY_ERROR);
    CERR("mg \r\n", PROTO_REPLY_ERROR);
    CERR("ms\r\n", PROTO_REPLY_ERROR);
    CERR("md\r\n", PROTO_REPLY_ERROR);
    CERR("ma\r\n", PROTO_REPLY_ERROR);
    CERR("ms foo\r\n", PROTO_REPLY_BAD_FORMAT);
    CERR("ms foo x\r\n", PROTO_REPLY_BAD_FORMAT);
    CERR("ms foo -1\r\n", PROTO_REPLY_BAD_FORMAT);
    CERR("ms foo 2147483646\r\n", PROTO_REPLY_BAD_FORMAT);
}

Test(proto_meta, flag_errors)
{
    CERR("mg k v v\r\n", PROTO_REPLY_DUP_FLAG);
    CERR("mg k \xff\r\n", PROTO_REPLY_DUP_FLAG);
    CERR("mg k zz\r\n", PROTO_REPLY_INVALID_FLAG);
    CERR("mg k 1\r\n", PROTO_REPLY_INVALID_FLAG);
    CERR("mg k E5\r\n", PROTO_REPLY_INVALID_FLAG);
    CERR("mg k Tx\r\n", PROTO_REPLY_BAD_TOKEN);
    CERR("mg k T\r\n", PROTO_REPLY_BAD_TOKEN);
    CERR("mg k T+5\r\n", PROTO_REPLY_BAD_TOKEN);
    CERR("mg k T2147483648\r\n", PROTO_REPLY_BAD_TOKEN);
    CERR("mg k N1x\r\n", PROTO_REPLY_BAD_TOKEN);
    CERR("mg k R\r\n", PROTO_REPLY_BAD_TOKEN);
    CERR("mg k C-1\r\n", PROTO_REPLY_BAD_TOKEN);
    CERR("mg k Fx\r\n", PROTO_REPLY_BAD_FORMAT);
    CERR("mg k F4294967296\r\n", PROTO_REPLY_BAD_FORMAT);
    CERR("mg k Jx\r\n", PROTO_REPLY_BAD_INITIAL);
    CERR("mg k D\r\n", PROTO_REPLY_BAD_DELTA_VALUE);
    CERR("mg k MEE\r\n", PROTO_REPLY_M_LENGTH);
    CERR("mg YQ b\r\n", PROTO_REPLY_KEY_DECODE);
}

Test(proto_meta, later_token_errors_win_but_not_f)
{
    CERR("mg k Fx Tx\r\n", PROTO_REPLY_BAD_TOKEN);
    CERR("mg k Tx Fx\r\n", PROTO_REPLY_BAD_TOKEN);
    CERR("mg k Jx Tx\r\n", PROTO_REPLY_BAD_TOKEN);
    CERR("mg k Tx Jx\r\n", PROTO_REPLY_BAD_INITIAL);
    CERR("mg k Tx zz\r\n", PROTO_REPLY_INVALID_FLAG);
    CERR("mg k T1 t T2\r\n", PROTO_REPLY_DUP_FLAG);
}

Test(proto_meta, md_ma_say_invalid_or_duplicate)
{
    CERR("md k v v\r\n", PROTO_REPLY_BAD_FLAG);
    CERR("md k x\r\n", PROTO_REPLY_BAD_FLAG);
    CERR("ma k Dx\r\n", PROTO_REPLY_BAD_FLAG);
    CERR("ma k Jx\r\n", PROTO_REPLY_BAD_FLAG);
}

Test(proto_meta, modes)
{
    CERR("ma k MX\r\n", PROTO_REPLY_MA_MODE);
    OK("ma k MI\r\n");
    OK("ma k M+\r\n");
    OK("mg k MX\r\n");
    OK("md k MX\r\n");
    CERR("ms k 1 MX\r\nx\r\n", PROTO_REPLY_MS_MODE);
    OK("ms k 1 MS\r\nx\r\n");
    OK("ms k 1 ME\r\nx\r\n");
    OK("ms k 1 MR\r\nx\r\n");
    OK("ms k 1 MP\r\nx\r\n");
    OK("ms k 1 MA\r\nx\r\n");
}

Test(proto_meta, too_many_flags)
{
    OK("mg k c f h k l O s t u v P L I R1 T1 q F1\r\n");
    CERR("mg k c f h k l O s t u v P L I R1 T1 q F1 C1\r\n",
        PROTO_REPLY_MG_TOO_MANY);
    CERR("md k c f h k l O s t u v P L I R1 T1 q F1 C1\r\n",
        PROTO_REPLY_META_TOO_MANY);
    CERR("ma k c f h k l O s t u v P L I R1 T1 q F1 C1\r\n",
        PROTO_REPLY_META_TOO_MANY);
    OK("ms k 1 c f h k l O s t u v P L I R1 T1 q\r\nx\r\n");
    CERR("ms k 1 c f h k l O s t u v P L I R1 T1 q F1\r\nx\r\n",
        PROTO_REPLY_META_TOO_MANY);
}

Test(proto_meta, opaque_length)
{
    OK("mg k O1234567890123456789012345678901\r\n");
    CERR("mg k O12345678901234567890123456789012\r\n",
        PROTO_REPLY_OPAQUE_LONG);
    CERR("md k O12345678901234567890123456789012\r\n",
        PROTO_REPLY_OPAQUE_LONG);
    /* The mode is checked first, as memcached does. */
    CERR("ms k 1 O12345678901234567890123456789012 MX\r\nx\r\n",
        PROTO_REPLY_MS_MODE);
}

Test(proto_meta, keys)
{
    static char longkey[300];

    memset(longkey, 0, sizeof(longkey));
    memcpy(longkey, "mg ", 3);
    memset(longkey + 3, 'k', 251);
    memcpy(longkey + 254, " v\r\n", 4);
    cr_assert_eq(proto_parse_req(&test_lim, longkey, 258, &req, &used),
        PROTO_CLIENT_ERROR);
    cr_assert_eq(req.err, PROTO_REPLY_BAD_FORMAT);
    cr_assert_eq(used, 258);
    CERR("mg a\x01 v\r\n", PROTO_REPLY_BAD_FORMAT);
    CERR("md a\x7f\r\n", PROTO_REPLY_BAD_FORMAT);
}

Test(proto_meta, ms_errors_swallow_the_block)
{
    CERR("ms k 2 Tx\r\nhi\r\n", PROTO_REPLY_BAD_TOKEN);
    CERR("ms k 2 bad\r\nhi\r\n", PROTO_REPLY_KEY_DECODE);
    /* The "\n" after a bad chunk is left, as in memcached. */
    PARSE("ms k 2\r\nhix\r\n", PROTO_CLIENT_ERROR, 12);
    cr_assert_eq(req.err, PROTO_REPLY_BAD_CHUNK);
    PARSE("ms k 2 q\r\nhix\r\n", PROTO_CLIENT_ERROR, 14);
    cr_assert_eq(req.err, PROTO_REPLY_BAD_CHUNK);
}

Test(proto_meta, ms_too_large_skips_what_is_not_there_yet)
{
    cr_assert_eq(proto_parse_req(&test_lim, "ms k 2000000\r\n", 14, &req,
        &used), PROTO_CLIENT_ERROR);
    cr_assert_eq(req.err, PROTO_REPLY_TOO_LARGE);
    cr_assert_eq(used, 14 + 2000000 + 2);
}

Test(proto_meta, base64)
{
    char dst[PROTO_META_KEY_MAX];
    size_t n;
    struct str k;

    cr_assert(proto_b64_decode(S("Zm9v"), dst, sizeof(dst), &n));
    assert_str((struct str){ dst, n }, "foo");
    cr_assert(proto_b64_decode(S("Zm9v!"), dst, sizeof(dst), &n));
    assert_str((struct str){ dst, n }, "foo");
    cr_assert(proto_b64_decode(S("YQ=="), dst, sizeof(dst), &n));
    assert_str((struct str){ dst, n }, "a");
    cr_assert(proto_b64_decode(S("YWI="), dst, sizeof(dst), &n));
    assert_str((struct str){ dst, n }, "ab");
    cr_assert(proto_b64_decode(S("Zm=v"), dst, sizeof(dst), &n));
    assert_str((struct str){ dst, n }, "f`");
    cr_assert_not(proto_b64_decode(S("YQ"), dst, sizeof(dst), &n));
    cr_assert_not(proto_b64_decode(S("===="), dst, sizeof(dst), &n));
    cr_assert_not(proto_b64_decode(S("!!!!"), dst, sizeof(dst), &n));
    cr_assert_not(proto_b64_decode(S("Zm9vYmFy"), dst, 5, &n));
    cr_assert_eq(proto_b64_encode(S("foo"), dst, sizeof(dst)), 4);
    cr_assert(memcmp(dst, "Zm9v", 4) == 0);
    cr_assert_eq(proto_b64_encode(S("a"), dst, sizeof(dst)), 4);
    cr_assert(memcmp(dst, "YQ==", 4) == 0);
    cr_assert_eq(proto_b64_encode(S("\0\xff"), dst, sizeof(dst)), 4);
    cr_assert(memcmp(dst, "AP8=", 4) == 0);
    cr_assert_eq(proto_b64_encode(S("abcd"), dst, 7), 0);
    OK("mg AP8g b v\r\n");
    k = proto_meta_key(&req, dst);
    cr_assert_eq(k.len, 3);
    cr_assert(memcmp(k.ptr, "\0\xff ", 3) == 0);
    OK("mg plain v\r\n");
    k = proto_meta_key(&req, dst);
    cr_assert_eq(k.ptr, req.key.ptr, "no copy without b");
}

Test(proto_meta, base64_round_trips_every_length)
{
    char raw[200];
    char enc[PROTO_META_KEY_MAX];
    char dec[PROTO_META_KEY_MAX];
    size_t n;
    size_t m;

    for (size_t i = 0; i < sizeof(raw); i++) {
        raw[i] = (char)(i * 37 + 11);
    }
    for (size_t len = 1; len <= 187; len++) {
        n = proto_b64_encode((struct str){ raw, len }, enc, sizeof(enc));
        cr_assert_eq(n, (len + 2) / 3 * 4);
        cr_assert(proto_b64_decode((struct str){ enc, n }, dec, sizeof(dec),
            &m));
        cr_assert_eq(m, len);
        cr_assert(memcmp(dec, raw, len) == 0);
    }
}

/* ---- replies ------------------------------------------------------------ */

static char line[PROTO_META_HDR_MAX];

static void
assert_reply(const struct proto_meta_info *mi, const char *want)
{
    size_t n = proto_compose_meta(line, &req, mi);

    assert_str((struct str){ line, n }, want);
}

Test(proto_meta, mg_hit_echoes_in_order)
{
    struct proto_meta_info mi = {
        .code = PROTO_META_VA, .hit = true, .key = S("foo"), .size = 2,
        .flags = 7, .cas = 99, .ttl_before = -1, .ttl_after = 30,
        .last_access = 4, .fetched = true,
    };

    OK("mg foo v f t s c k h l O12 q u\r\n");
    assert_reply(&mi, "VA 2 f7 t-1 s2 c99 kfoo h1 l4 O12\r\n");
    OK("mg foo l h\r\n");
    mi.last_access = -1;
    mi.code = PROTO_META_HD;
    assert_reply(&mi, "HD h1\r\n");
    OK("mg foo c T30 t\r\n");
    mi.code = PROTO_META_HD;
    assert_reply(&mi, "HD c99 t30\r\n");
    OK("mg foo t N30\r\n");
    mi.created = true;
    mi.won = true;
    assert_reply(&mi, "HD t-1 W\r\n");
    mi.token_sent = true;
    mi.stale = true;
    mi.won = false;
    OK("mg foo\r\n");
    assert_reply(&mi, "HD Z X\r\n");
}

Test(proto_meta, misses_echo_only_opaque_and_key)
{
    struct proto_meta_info mi = { .code = PROTO_META_EN, .key = S("foo") };

    OK("mg foo v c t s f O1 k\r\n");
    assert_reply(&mi, "EN O1 kfoo\r\n");
    OK("md foo k O2 c\r\n");
    mi.code = PROTO_META_NF;
    assert_reply(&mi, "NF kfoo O2\r\n");
    OK("ma foo c t v O3\r\n");
    mi.code = PROTO_META_EX;
    assert_reply(&mi, "EX O3\r\n");
}

Test(proto_meta, ms_echoes_cas_and_binary_key)
{
    struct proto_meta_info mi = {
        .code = PROTO_META_NS, .key = S("foo"), .key_binary = true,
    };

    OK("ms Zm9v 1 b k c O5 t s\r\nx\r\n");
    assert_reply(&mi, "NS kZm9v b c0 O5\r\n");
    mi.code = PROTO_META_HD;
    mi.cas = 12;
    mi.key_binary = false;
    assert_reply(&mi, "HD kfoo c12 O5\r\n");
}

/* A key whose bytes cannot stand in a text key (an item vivified by an
 * mg/ma with b) is echoed in base64 even without the binary mark: raw,
 * its "\r\n" or space would forge reply text. */
Test(proto_meta, unsafe_key_bytes_echo_in_base64)
{
    struct proto_meta_info mi = {
        .code = PROTO_META_HD, .hit = true, .key = S("a\r\nb"),
    };
    size_t n;

    OK("mg YQ0KYg== b k\r\n");
    assert_reply(&mi, "HD kYQ0KYg== b\r\n");
    mi.key = S("a b");
    assert_reply(&mi, "HD kYSBi b\r\n");
    mi.key = S("a\x01");
    assert_reply(&mi, "HD kYQE= b\r\n");
    mi.key = S("ab");
    assert_reply(&mi, "HD kab\r\n");
    n = proto_compose_me(line, S("a\r\n"), false, -1, 1, false, 3);
    assert_str((struct str){ line, n },
        "ME YQ0K exp=-1 cas=1 fetch=no size=3\r\n");
}

Test(proto_meta, ma_hit)
{
    struct proto_meta_info mi = {
        .code = PROTO_META_VA, .hit = true, .key = S("n"), .size = 2,
        .cas = 3, .ttl_before = -1, .ttl_after = 9,
    };

    OK("ma n v N9 t c k s f\r\n");
    assert_reply(&mi, "VA 2 t-1 c3 kn\r\n");
    mi.created = true;
    assert_reply(&mi, "VA 2 t9 c3 kn\r\n");
    OK("ma n t N9\r\n");
    mi.code = PROTO_META_HD;
    assert_reply(&mi, "HD t-1\r\n");
}

Test(proto_meta, widest_reply_fits)
{
    struct proto_meta_info mi = {
        .code = PROTO_META_VA, .hit = true, .size = UINT32_MAX,
        .flags = UINT32_MAX, .cas = UINT64_MAX, .ttl_before = INT64_MIN,
        .last_access = INT64_MAX, .fetched = true, .token_sent = true,
        .stale = true, .won = true, .key_binary = true,
    };
    char key[187];
    char in[400];
    int n;

    memset(key, 0xff, sizeof(key));
    mi.key = (struct str){ key, sizeof(key) };
    n = snprintf(in, sizeof(in), "mg %.*s b v s t c f l h k "
        "O1234567890123456789012345678901 q u\r\n", 248,
        "////////////////////////////////////////////////////////////////"
        "////////////////////////////////////////////////////////////////"
        "////////////////////////////////////////////////////////////////"
        "//////////////////////////////////////////////////////////");
    cr_assert_eq(proto_parse_req(&test_lim, in, (size_t)n, &req, &used),
        PROTO_OK);
    cr_assert_lt(proto_compose_meta(line, &req, &mi), PROTO_META_HDR_MAX);
}

Test(proto_meta, me_reply)
{
    size_t n = proto_compose_me(line, S("foo"), false, -1, 7, true, 65);

    assert_str((struct str){ line, n },
        "ME foo exp=-1 cas=7 fetch=yes size=65\r\n");
    n = proto_compose_me(line, S("foo"), true, -99, 1, false, 70);
    assert_str((struct str){ line, n },
        "ME Zm9v exp=-99 cas=1 fetch=no size=70\r\n");
}

/* ---- responses and requests ---------------------------------------------- */

Test(proto_meta, responses)
{
    RSP_OK("HD\r\n");
    cr_assert_eq(rsp.type, PROTO_RSP_HD);
    cr_assert_eq(rsp.text.len, 0);
    RSP_OK("HD c5 Oab kfoo\r\n");
    assert_str(rsp.text, "c5 Oab kfoo");
    RSP_OK("EN\r\n");
    cr_assert_eq(rsp.type, PROTO_RSP_EN);
    RSP_OK("END\r\n");
    cr_assert_eq(rsp.type, PROTO_RSP_END);
    RSP_OK("NF O1\r\n");
    cr_assert_eq(rsp.type, PROTO_RSP_NF);
    RSP_OK("NS\r\n");
    cr_assert_eq(rsp.type, PROTO_RSP_NS);
    RSP_OK("EX c0\r\n");
    cr_assert_eq(rsp.type, PROTO_RSP_EX);
    RSP_OK("EXISTS\r\n");
    cr_assert_eq(rsp.type, PROTO_RSP_EXISTS);
    RSP_OK("MN\r\n");
    cr_assert_eq(rsp.type, PROTO_RSP_MN);
    RSP_OK("ME foo exp=-1 la=0 cas=1 fetch=no cls=1 size=63\r\n");
    cr_assert_eq(rsp.type, PROTO_RSP_ME);
    assert_str(rsp.text, "foo exp=-1 la=0 cas=1 fetch=no cls=1 size=63");
    RSP_OK("VA 5 f3 c9\r\na\r\nbc\r\n");
    cr_assert_eq(rsp.type, PROTO_RSP_VA);
    assert_str(rsp.data, "a\r\nbc");
    assert_str(rsp.text, "f3 c9");
    RSP_OK("VA 0\r\n\r\n");
    cr_assert_eq(rsp.data.len, 0);
    cr_assert_eq(rsp.text.len, 0);
}

Test(proto_meta, bad_responses_are_fatal)
{
    static const char *bad[] = {
        "HDX\r\n", "ENX\r\n", "ME\r\n", "VA\r\n", "VA x\r\n", "VA  1\r\nx\r\n",
        "VA 1\r\nxy\r\n", "VA 2000000\r\n", "VA -1\r\n\r\n",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cr_assert_eq(parse_rsp_both(bad[i], strlen(bad[i]), &rsp, &used),
            PROTO_FATAL, "'%s'", bad[i]);
    }
}

Test(proto_meta, responses_round_trip)
{
    static const char *in[] = {
        "HD\r\n", "HD c5 Oab\r\n", "VA 3 f1 t-1\r\nabc\r\n", "VA 0\r\n\r\n",
        "EN\r\n", "NF kfoo\r\n", "NS c0\r\n", "EX O9\r\n", "MN\r\n",
        "ME k exp=-1 la=0 cas=1 fetch=no cls=1 size=63\r\n",
    };
    struct buf b;

    buf_init(&b);
    for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
        b.len = 0;
        cr_assert_eq(parse_rsp_both(in[i], strlen(in[i]), &rsp, &used),
            PROTO_OK, "'%s'", in[i]);
        cr_assert(proto_compose_rsp(&b, &rsp));
        assert_str((struct str){ buf_head(&b), b.len }, in[i]);
    }
    buf_fini(&b);
}

Test(proto_meta, requests_round_trip)
{
    static const char *in[] = {
        "mn\r\n", "mg foo v k O1 t\r\n", "mg foo\r\n", "md Zm9v b q C5\r\n",
        "ma n MD D5 N0 J10 v\r\n", "me foo\r\n", "me Zm9v b\r\n",
        "ms foo 3 T60 F1 c\r\nabc\r\n", "ms foo 0\r\n\r\n",
    };
    struct buf b;
    struct proto_req again;
    size_t n;

    buf_init(&b);
    for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
        b.len = 0;
        cr_assert_eq(parse_req_both(in[i], strlen(in[i]), &req, &used),
            PROTO_OK, "'%s'", in[i]);
        cr_assert(proto_compose_req(&b, &req), "'%s'", in[i]);
        assert_str((struct str){ buf_head(&b), b.len }, in[i]);
        cr_assert_eq(proto_parse_req(&test_lim, buf_head(&b), b.len, &again,
            &n), PROTO_OK);
        cr_assert_eq(again.mflags, req.mflags);
        cr_assert_eq(again.cmd, req.cmd);
    }
    /* Spaces around words go; the flag words are forwarded as sent. */
    b.len = 0;
    cr_assert_eq(parse_req_both("mg  foo   v  k \r\n", 17, &req, &used),
        PROTO_OK);
    cr_assert(proto_compose_req(&b, &req));
    assert_str((struct str){ buf_head(&b), b.len }, "mg foo v  k\r\n");
    buf_fini(&b);
}
