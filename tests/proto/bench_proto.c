/*
 * Micro-benchmark of the protocol module (not a test): parse rate for the
 * requests a node sees most, a response, and the VALUE header composer.
 * Each case runs for about half a second; `make bench` runs it.
 */
#include <stdio.h>
#include <string.h>

#include "proto/proto.h"
#include "util/util.h"

#define RUN_NS 500000000ull
#define BATCH 4096

/* Keeps the compiler from dropping the work. */
static volatile uint64_t sink;

typedef uint64_t (*bench_fn)(const struct proto_limits *lim, const char *in,
    size_t len);

static uint64_t
one_req(const struct proto_limits *lim, const char *in, size_t len)
{
    struct proto_req req;
    size_t used;

    if (proto_parse_req(lim, in, len, &req, &used) != PROTO_OK) {
        return 0;
    }
    return used + req.key.len + req.nkeys;
}

static uint64_t
one_rsp(const struct proto_limits *lim, const char *in, size_t len)
{
    struct proto_rsp rsp;
    size_t used;
    uint64_t n = 0;
    size_t off = 0;

    /* A whole get reply: VALUE + END, two elements. */
    while (off < len) {
        if (proto_parse_rsp(lim, in + off, len - off, &rsp, &used) !=
            PROTO_OK) {
            return 0;
        }
        off += used;
        n += rsp.data.len + 1;
    }
    return n;
}

static uint64_t
one_value_hdr(const struct proto_limits *lim, const char *in, size_t len)
{
    char hdr[PROTO_VALUE_HDR_MAX];

    return proto_compose_value(hdr, (struct str){ in, len }, 0, 100, true,
        123456789);
}

/* Run fn on `in` until RUN_NS pass; print the rate per call. */
static int
bench(const char *name, bench_fn fn, const char *in, size_t len)
{
    struct proto_limits lim;
    uint64_t start, elapsed, calls = 0, acc = 0;

    proto_limits_default(&lim);
    if (fn(&lim, in, len) == 0) {
        fprintf(stderr, "bench_proto: %s: input does not parse\n", name);
        return 1;
    }
    start = util_mono_ns();
    do {
        for (int i = 0; i < BATCH; i++) {
            acc += fn(&lim, in, len);
        }
        calls += BATCH;
        elapsed = util_mono_ns() - start;
    } while (elapsed < RUN_NS);
    sink = acc;
    printf("%-34s %12.0f /s %8.1f ns\n", name,
        (double)calls * 1e9 / (double)elapsed, (double)elapsed /
        (double)calls);
    return 0;
}

int
main(void)
{
    static const char get[] = "get user:1234567:profile\r\n";
    static const char get10[] = "get user:1:a user:2:b user:3:c user:4:d "
        "user:5:e user:6:f user:7:g user:8:h user:9:i user:10:j\r\n";
    char set[256];
    char rsp[256];
    int n, m;
    int rc = 0;

    n = snprintf(set, sizeof(set), "set user:1234567:profile 0 3600 100\r\n"
        "%0100d\r\n", 0);
    m = snprintf(rsp, sizeof(rsp), "VALUE user:1234567:profile 0 100\r\n"
        "%0100d\r\nEND\r\n", 0);
    printf("proto parse/compose rates (one thread):\n");
    rc |= bench("parse get (1 key)", one_req, get, sizeof(get) - 1);
    rc |= bench("parse set (100-byte value)", one_req, set, (size_t)n);
    rc |= bench("parse get (10 keys)", one_req, get10, sizeof(get10) - 1);
    rc |= bench("parse get reply (VALUE 100 + END)", one_rsp, rsp,
        (size_t)m);
    rc |= bench("compose VALUE header", one_value_hdr, "user:1234567:profile",
        20);
    return rc;
}
