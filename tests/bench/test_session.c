/*
 * Unit tests of ringbench's reply tokenizer and per-connection protocol
 * engine: requests as composed on the wire, and verification of replies
 * (hits, misses, wrong values, stale values, errors, framing), fed whole
 * and one byte at a time.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "bench/session.h"
#include "util/util.h"

static struct values vals;
static struct session_cfg cfg;
static struct session s;
static struct buf out;
static uint32_t versions[16];

static void
setup(uint32_t set_w, uint32_t get_w, unsigned mget, bool verify)
{
    values_init(&vals, 77, 64);
    memset(&cfg, 0, sizeof(cfg));
    proto_limits_default(&cfg.limits);
    memset(versions, 0, sizeof(versions));
    cr_assert_eq(keys_init(&cfg.keys_proto, KEYS_UNIFORM, 16, 0, 0),
        KEYS_OK);
    cfg.values = &vals;
    cfg.key_len = 4;
    cfg.value_len = 32;
    cfg.set_weight = set_w;
    cfg.get_weight = get_w;
    cfg.mget = mget;
    cfg.check_values = true;
    cfg.verify = verify;
    cfg.versions = versions;
    cfg.version_base = 1000;
    cr_assert_eq(session_init(&s, &cfg, 8, 1, 0, 1), SESSION_OK);
    buf_init(&out);
}

static void
teardown(void)
{
    session_fini(&s);
    buf_fini(&out);
    values_fini(&vals);
}

/* The key index of key `i` of the request queued at position `pos`. */
static uint64_t
asked(size_t pos, unsigned i)
{
    return s.q_keys[((s.head + pos) % s.cap) * cfg.mget + i];
}

/* Append a VALUE block for key `idx` holding `value` to b. */
static void
put_value(struct buf *b, uint64_t idx, const char *value, size_t len)
{
    char key[8];

    keys_format_key(key, cfg.key_len, idx);
    cr_assert(buf_printf(b, "VALUE %.*s 0 %zu\r\n", (int)cfg.key_len, key,
        len));
    cr_assert(buf_append(b, value, len));
    cr_assert(buf_append(b, "\r\n", 2));
}

static void
put_good_value(struct buf *b, uint64_t idx, uint32_t ver)
{
    char v[32];

    values_format(&vals, v, sizeof(v), idx, ver);
    put_value(b, idx, v, sizeof(v));
}

static enum session_status
feed_all(const struct buf *b, uint64_t now)
{
    size_t used;
    enum session_status st = session_feed(&s, buf_head(b), b->len, now,
        &used);

    if (st == SESSION_OK) {
        cr_assert_eq(used, b->len, "left %zu of %zu bytes", b->len - used,
            b->len);
    }
    return st;
}

/* Feed one literal reply text whole. */
static enum session_status
feed_text(const char *text)
{
    size_t used;

    return session_feed(&s, text, strlen(text), 10, &used);
}

/* Feed `b` one more byte at a time, as a socket could deliver it. */
static enum session_status
feed_bytewise(const struct buf *b, uint64_t now)
{
    size_t have = 0;
    size_t done = 0;

    while (have < b->len) {
        size_t used;
        enum session_status st;

        have++;
        st = session_feed(&s, buf_head(b) + done, have - done, now, &used);
        if (st != SESSION_OK) {
            return st;
        }
        done += used;
    }
    cr_assert_eq(done, b->len);
    return SESSION_OK;
}

Test(bench_session, get_request_bytes_and_miss)
{
    struct buf r;
    char want[32];

    setup(0, 1, 1, false);
    cr_assert_eq(session_send(&s, &out, 100), SESSION_OK);
    snprintf(want, sizeof(want), "get k%03lu\r\n",
        (unsigned long)asked(0, 0));
    cr_assert_eq(out.len, strlen(want));
    cr_assert_arr_eq(buf_head(&out), want, out.len);
    buf_init(&r);
    buf_append(&r, "END\r\n", 5);
    cr_assert_eq(feed_all(&r, 350), SESSION_OK);
    cr_assert_eq(s.stats.requests, 1);
    cr_assert_eq(s.stats.gets, 1);
    cr_assert_eq(s.stats.hits, 0);
    cr_assert_eq(s.stats.keys_asked, 1);
    cr_assert_eq(s.stats.latency.count, 1);
    cr_assert_eq(hist_percentile(&s.stats.latency, 100), 250);
    cr_assert_eq(session_outstanding(&s), 0);
    buf_fini(&r);
    teardown();
}

Test(bench_session, set_request_carries_a_checkable_value)
{
    struct buf r;
    uint32_t ver;
    char line[64];
    int n;

    setup(1, 0, 1, false);
    cr_assert_eq(session_send(&s, &out, 0), SESSION_OK);
    n = snprintf(line, sizeof(line), "set k%03lu 0 0 32\r\n",
        (unsigned long)asked(0, 0));
    cr_assert_arr_eq(buf_head(&out), line, (size_t)n);
    cr_assert_eq(out.len, (size_t)n + 34);
    cr_assert_eq(values_check(&vals, buf_head(&out) + n, 32, 32, asked(0, 0),
        &ver), VALUES_OK);
    buf_init(&r);
    buf_append(&r, "STORED\r\n", 8);
    cr_assert_eq(feed_all(&r, 10), SESSION_OK);
    cr_assert_eq(s.stats.stored, 1);
    cr_assert_eq(s.stats.sets, 1);
    buf_fini(&r);
    teardown();
}

Test(bench_session, hit_with_good_value_fed_bytewise)
{
    struct buf r;

    setup(0, 1, 1, false);
    session_send(&s, &out, 0);
    session_send(&s, &out, 0);
    buf_init(&r);
    put_good_value(&r, asked(0, 0), 12);
    buf_append(&r, "END\r\n", 5);
    buf_append(&r, "END\r\n", 5);
    cr_assert_eq(feed_bytewise(&r, 10), SESSION_OK);
    cr_assert_eq(s.stats.requests, 2);
    cr_assert_eq(s.stats.hits, 1);
    cr_assert_eq(s.stats.bad_values, 0);
    buf_fini(&r);
    teardown();
}

Test(bench_session, wrong_value_is_counted)
{
    struct buf r;
    char v[32];

    setup(0, 1, 1, false);
    session_send(&s, &out, 0);
    session_send(&s, &out, 0);
    buf_init(&r);
    /* A value of another key, then a value of the wrong length. */
    values_format(&vals, v, sizeof(v), asked(0, 0) + 1, 3);
    put_value(&r, asked(0, 0), v, sizeof(v));
    buf_append(&r, "END\r\n", 5);
    values_format(&vals, v, sizeof(v), asked(1, 0), 3);
    put_value(&r, asked(1, 0), v, 31);
    buf_append(&r, "END\r\n", 5);
    cr_assert_eq(feed_all(&r, 10), SESSION_OK);
    cr_assert_eq(s.stats.hits, 2);
    cr_assert_eq(s.stats.bad_values, 2);
    buf_fini(&r);
    teardown();
}

Test(bench_session, length_only_check_for_the_null_responder)
{
    struct buf r;
    char v[32];

    setup(0, 1, 1, false);
    cfg.check_values = false;
    session_send(&s, &out, 0);
    buf_init(&r);
    memset(v, 'x', sizeof(v));
    put_value(&r, asked(0, 0), v, sizeof(v));
    buf_append(&r, "END\r\n", 5);
    cr_assert_eq(feed_all(&r, 10), SESSION_OK);
    cr_assert_eq(s.stats.bad_values, 0);
    cr_assert_eq(s.stats.hits, 1);
    buf_fini(&r);
    teardown();
}

Test(bench_session, value_for_a_key_not_asked_is_fatal)
{
    struct buf r;

    setup(0, 1, 1, false);
    session_send(&s, &out, 0);
    buf_init(&r);
    put_good_value(&r, (asked(0, 0) + 1) % 16, 1);
    buf_append(&r, "END\r\n", 5);
    cr_assert_eq(feed_all(&r, 10), SESSION_FATAL);
    cr_assert_eq(s.stats.protocol_errors, 1);
    buf_fini(&r);
    teardown();
}

Test(bench_session, unsolicited_and_garbage_replies_are_fatal)
{
    setup(0, 1, 1, false);
    cr_assert_eq(feed_text("END\r\n"), SESSION_FATAL);  /* nothing asked */
    session_send(&s, &out, 0);
    cr_assert_eq(feed_text("STORED\r\n"), SESSION_FATAL); /* get: no */
    cr_assert_eq(feed_text("HELLO\r\n"), SESSION_FATAL);
    cr_assert_eq(s.stats.protocol_errors, 3);
    teardown();
}

Test(bench_session, server_errors_complete_the_request)
{
    struct buf r;

    setup(1, 0, 1, false);
    session_send(&s, &out, 0);
    session_send(&s, &out, 0);
    session_send(&s, &out, 0);
    buf_init(&r);
    buf_append(&r, "SERVER_ERROR out of memory storing object\r\n", 43);
    buf_append(&r, "NOT_STORED\r\n", 12);
    buf_append(&r, "ERROR\r\n", 7);
    cr_assert_eq(feed_all(&r, 10), SESSION_OK);
    cr_assert_eq(s.stats.server_errors, 2);
    cr_assert_eq(s.stats.not_stored, 1);
    cr_assert_eq(s.stats.requests, 3);
    buf_fini(&r);
    teardown();
}

Test(bench_session, multiget_hits_in_order_with_misses_skipped)
{
    struct buf r;

    setup(0, 1, 3, false);
    session_send(&s, &out, 0);
    cr_assert_eq(out.len, strlen("get k000 k000 k000\r\n"));
    buf_init(&r);
    put_good_value(&r, asked(0, 0), 1);
    put_good_value(&r, asked(0, 2), 1);
    buf_append(&r, "END\r\n", 5);
    cr_assert_eq(feed_bytewise(&r, 10), SESSION_OK);
    cr_assert_eq(s.stats.requests, 1);
    cr_assert_eq(s.stats.keys_asked, 3);
    cr_assert_eq(s.stats.hits, 2);
    buf_fini(&r);
    teardown();
}

Test(bench_session, multiget_out_of_order_is_fatal)
{
    struct buf r;
    uint64_t k2;
    uint64_t seed = 1;

    setup(0, 1, 3, false);
    /* Find a request whose last key differs from the others. */
    for (;;) {
        session_send(&s, &out, 0);
        k2 = asked(0, 2);
        if (k2 != asked(0, 0) && k2 != asked(0, 1)) {
            break;
        }
        session_fini(&s);
        cr_assert_eq(session_init(&s, &cfg, 8, ++seed, 0, 1), SESSION_OK);
    }
    buf_init(&r);
    put_good_value(&r, k2, 1);
    put_good_value(&r, asked(0, 0), 1);
    buf_append(&r, "END\r\n", 5);
    cr_assert_eq(feed_all(&r, 10), SESSION_FATAL);
    buf_fini(&r);
    teardown();
}

Test(bench_session, verify_flags_a_stale_value)
{
    struct buf r;
    uint64_t k;

    setup(1, 0, 1, true);
    session_send(&s, &out, 0);              /* set k = version 1001 */
    k = asked(0, 0);
    cr_assert_eq(versions[k], 1001);
    buf_init(&r);
    buf_append(&r, "STORED\r\n", 8);
    cr_assert_eq(feed_all(&r, 10), SESSION_OK);
    /* Now two gets of the same key. */
    cfg.set_weight = 0;
    cfg.get_weight = 1;
    cr_assert_eq(keys_init(&s.keys, KEYS_SEQ, 16, 0, k), KEYS_OK);
    session_send(&s, &out, 0);
    s.keys.next_seq = k;
    session_send(&s, &out, 0);
    cr_assert_eq(asked(0, 0), k);
    cr_assert_eq(asked(1, 0), k);
    buf_clear(&r);
    put_good_value(&r, k, 1001);            /* current: fine */
    buf_append(&r, "END\r\n", 5);
    put_good_value(&r, k, 1000);            /* older version: stale */
    buf_append(&r, "END\r\n", 5);
    cr_assert_eq(feed_all(&r, 10), SESSION_OK);
    cr_assert_eq(s.stats.hits, 2);
    cr_assert_eq(s.stats.bad_values, 0);
    cr_assert_eq(s.stats.stale_values, 1);
    buf_fini(&r);
    teardown();
}

Test(bench_session, verify_partitions_keys_by_connection)
{
    unsigned i;

    setup(1, 1, 1, true);
    session_fini(&s);
    cr_assert_eq(session_init(&s, &cfg, 8, 9, 2, 5), SESSION_OK);
    for (i = 0; i < 200; i++) {
        size_t used;

        buf_clear(&out);
        cr_assert_eq(session_send(&s, &out, 0), SESSION_OK);
        cr_assert_eq(asked(0, 0) % 5, 2);
        /* Drain the request with a matching reply. */
        session_feed(&s, s.q[s.head].op == SESSION_SET ? "STORED\r\n"
            : "END\r\n", s.q[s.head].op == SESSION_SET ? 8 : 5, 0, &used);
    }
    teardown();
}

Test(bench_session, queue_is_bounded)
{
    unsigned i;

    setup(0, 1, 1, false);
    for (i = 0; i < 8; i++) {
        cr_assert_eq(session_send(&s, &out, 0), SESSION_OK);
    }
    cr_assert(session_full(&s));
    cr_assert_eq(session_send(&s, &out, 0), SESSION_AGAIN);
    teardown();
}

Test(bench_session, partial_value_waits_for_its_data_block)
{
    struct buf r;
    size_t used;

    setup(0, 1, 1, false);
    session_send(&s, &out, 0);
    buf_init(&r);
    put_good_value(&r, asked(0, 0), 1);
    buf_append(&r, "END\r\n", 5);
    /* Everything but the last byte of the data block's CRLF. */
    cr_assert_eq(session_feed(&s, buf_head(&r), r.len - 6, 10, &used),
        SESSION_OK);
    cr_assert_eq(used, 0);
    cr_assert_eq(s.stats.hits, 0);
    cr_assert_eq(session_feed(&s, buf_head(&r), r.len, 10, &used),
        SESSION_OK);
    cr_assert_eq(used, r.len);
    cr_assert_eq(s.stats.hits, 1);
    buf_fini(&r);
    teardown();
}

Test(bench_session, broken_framing_is_fatal)
{
    struct buf r;
    char key[8];

    setup(0, 1, 1, false);
    session_send(&s, &out, 0);
    keys_format_key(key, 4, asked(0, 0));
    buf_init(&r);
    /* 32 bytes announced, 34 sent: the block does not end in CRLF. */
    buf_printf(&r, "VALUE %.4s 0 32\r\n", key);
    buf_append(&r, "0123456789012345678901234567890123\r\nEND\r\n", 41);
    cr_assert_eq(feed_all(&r, 10), SESSION_FATAL);
    cr_assert_eq(feed_text("VALUE  0 32\r\n"), SESSION_FATAL);
    cr_assert_eq(s.stats.protocol_errors, 2);
    buf_fini(&r);
    teardown();
}

Test(bench_session, replies_to_other_commands_are_fatal)
{
    setup(1, 0, 1, false);
    session_send(&s, &out, 0);
    cr_assert_eq(feed_text("DELETED\r\n"), SESSION_FATAL);
    cr_assert_eq(feed_text("END\r\n"), SESSION_FATAL);   /* END to a set */
    cr_assert_eq(feed_text("1\r\n"), SESSION_FATAL);     /* incr reply */
    teardown();
}

Test(bench_session, meta_requests_and_replies)
{
    struct buf r;
    char want[64];
    char v[32];
    int n;

    setup(0, 1, 1, false);
    cfg.meta = true;
    session_send(&s, &out, 0);
    n = snprintf(want, sizeof(want), "mg k%03lu v\r\n",
        (unsigned long)asked(0, 0));
    cr_assert_eq(out.len, (size_t)n);
    cr_assert_arr_eq(buf_head(&out), want, out.len);
    session_send(&s, &out, 0);
    session_send(&s, &out, 0);
    buf_init(&r);
    values_format(&vals, v, sizeof(v), asked(0, 0), 4);
    buf_printf(&r, "VA 32\r\n%.32s\r\n", v);
    buf_append(&r, "EN\r\n", 4);
    values_format(&vals, v, sizeof(v), asked(2, 0) + 1, 4);  /* wrong key */
    buf_printf(&r, "VA 32\r\n%.32s\r\n", v);
    cr_assert_eq(feed_bytewise(&r, 10), SESSION_OK);
    cr_assert_eq(s.stats.requests, 3);
    cr_assert_eq(s.stats.hits, 2);
    cr_assert_eq(s.stats.bad_values, 1);
    /* A classic reply to a meta get breaks the stream. */
    session_send(&s, &out, 0);
    cr_assert_eq(feed_text("END\r\n"), SESSION_FATAL);
    buf_fini(&r);
    teardown();
}

Test(bench_session, meta_set_is_ms_and_takes_hd_or_ns)
{
    char want[64];
    int n;

    setup(1, 0, 1, false);
    cfg.meta = true;
    session_send(&s, &out, 0);
    n = snprintf(want, sizeof(want), "ms k%03lu 32\r\n",
        (unsigned long)asked(0, 0));
    cr_assert_arr_eq(buf_head(&out), want, (size_t)n);
    cr_assert_eq(out.len, (size_t)n + 34);
    session_send(&s, &out, 0);
    session_send(&s, &out, 0);
    cr_assert_eq(feed_text("HD\r\nNS\r\n"), SESSION_OK);
    cr_assert_eq(s.stats.stored, 1);
    cr_assert_eq(s.stats.not_stored, 1);
    cr_assert_eq(feed_text("EN\r\n"), SESSION_FATAL);  /* miss to a set */
    teardown();
}
