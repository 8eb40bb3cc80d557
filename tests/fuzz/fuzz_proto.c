/*
 * libFuzzer harness for the protocol module. The input is read as a
 * client's byte stream by the request parser and as a server's by the
 * response parser, each run like a connection would run them, and each
 * first element is also fed one byte at a time. Everything a parser
 * returns is checked against its contract, and every element it accepts
 * is composed again and must parse back to the same thing. A broken rule
 * aborts (a crash to libFuzzer and to the corpus replay).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { \
        if (!(cond)) { \
            fprintf(stderr, "fuzz_proto: %s:%d: %s\n", __FILE__, __LINE__, \
                #cond); \
            abort(); \
        } \
    } while (0)

/* Round trips re-parse with room to spare: a composed line may be a byte
 * longer than the one parsed ("\n" becomes "\r\n"). */
static const struct proto_limits roomy = { 1u << 20, 1u << 20, UINT32_MAX };

/* Prefixes tried one byte at a time (quadratic, so bounded). */
#define BYTEWISE_MAX 600

static bool
inside(struct str s, const char *buf, size_t len)
{
    return s.ptr == NULL ||
        (s.ptr >= buf && s.len <= len && s.ptr + s.len <= buf + len);
}

static bool
same_str(struct str a, const char *abase, struct str b, const char *bbase)
{
    if (a.ptr == NULL || b.ptr == NULL) {
        return a.ptr == b.ptr && a.len == b.len;
    }
    return a.len == b.len && a.ptr - abase == b.ptr - bbase;
}

static void
check_req(const void *out, enum proto_status st, size_t used,
    const char *buf, size_t len)
{
    const struct proto_req *r = out;

    CHECK(inside(r->key, buf, len) && inside(r->keys, buf, len));
    CHECK(inside(r->data, buf, len) && inside(r->args, buf, len));
    switch (st) {
    case PROTO_OK:
        CHECK(used > 0 && used <= len);
        CHECK(r->cmd > PROTO_CMD_NONE && r->cmd < PROTO_CMD_COUNT);
        CHECK(r->key.len <= PROTO_KEY_MAX);
        break;
    case PROTO_AGAIN:
        CHECK(used == 0);
        CHECK(r->need == 0 || r->need > len);
        break;
    case PROTO_CLIENT_ERROR:
        CHECK(used > 0);
        CHECK(r->err > PROTO_REPLY_RESET && r->err < PROTO_REPLY_COUNT);
        break;
    case PROTO_FATAL:
        CHECK(used == 0 && r->err == PROTO_REPLY_LINE_TOO_LONG);
        break;
    }
}

static bool
same_req(const void *ap, const char *abase, const void *bp,
    const char *bbase)
{
    const struct proto_req *a = ap, *b = bp;

    return a->cmd == b->cmd && a->noreply == b->noreply &&
        a->has_exptime == b->has_exptime && a->nkeys == b->nkeys &&
        a->flags == b->flags && a->level == b->level &&
        a->exptime == b->exptime && a->cas == b->cas &&
        a->delta == b->delta && a->err == b->err &&
        a->mflags == b->mflags && a->mode == b->mode &&
        a->vivify == b->vivify && a->recache == b->recache &&
        a->initial == b->initial &&
        same_str(a->key, abase, b->key, bbase) &&
        same_str(a->keys, abase, b->keys, bbase) &&
        same_str(a->data, abase, b->data, bbase) &&
        same_str(a->args, abase, b->args, bbase);
}

/* Compose a parsed request and parse it back: the same request. */
static void
req_round_trip(const struct proto_req *r)
{
    struct buf b;
    struct proto_req back;
    size_t used;

    buf_init(&b);
    CHECK(proto_compose_req(&b, r));
    CHECK(proto_parse_req(&roomy, buf_head(&b), b.len, &back, &used) ==
        PROTO_OK);
    CHECK(used == b.len && back.cmd == r->cmd && back.nkeys == r->nkeys);
    CHECK(str_eq(back.key, r->key) && str_eq(back.data, r->data));
    CHECK(str_eq(back.args, r->args) && back.noreply == r->noreply);
    CHECK(back.flags == r->flags && back.exptime == r->exptime);
    CHECK(back.cas == r->cas && back.delta == r->delta);
    CHECK(back.level == r->level && back.has_exptime == r->has_exptime);
    CHECK(back.mflags == r->mflags && back.mode == r->mode);
    CHECK(back.vivify == r->vivify && back.recache == r->recache);
    CHECK(back.initial == r->initial);
    buf_fini(&b);
}

/*
 * A parsed meta request: its key decodes, and every reply line composed
 * for it, hit or miss, at the widest values, fits its buffer and parses
 * back as a meta response echoing exactly its flag words.
 */
static void
meta_replies(const struct proto_req *r)
{
    static const enum proto_meta_code codes[] = {
        PROTO_META_HD, PROTO_META_VA, PROTO_META_EN, PROTO_META_NF,
    };
    char keybuf[PROTO_META_KEY_MAX];
    char line[PROTO_META_HDR_MAX + 2];
    struct proto_meta_info mi = {
        .size = 0, .flags = UINT32_MAX, .cas = UINT64_MAX,
        .ttl_before = INT64_MIN, .ttl_after = -1, .last_access = INT64_MAX,
        .fetched = true, .token_sent = true, .stale = true, .won = true,
    };

    if (r->cmd == PROTO_CMD_MN || r->cmd == PROTO_CMD_ME) {
        return;
    }
    mi.key = proto_meta_key(r, keybuf);
    mi.key_binary = proto_meta_has(r, 'b');
    CHECK(mi.key.len > 0 && mi.key.len <= PROTO_KEY_MAX);
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        struct proto_rsp rsp;
        size_t n;
        size_t used;

        mi.code = codes[i];
        mi.hit = i < 2;
        n = proto_compose_meta(line, r, &mi);
        CHECK(n <= PROTO_META_HDR_MAX);
        if (mi.code == PROTO_META_VA) {
            memcpy(line + n, "\r\n", 2);
            n += 2;
        }
        CHECK(proto_parse_rsp(&roomy, line, n, &rsp, &used) == PROTO_OK);
        CHECK(used == n);
    }
}

/* Run the stream through the request parser as a server would. */
static void
req_stream(const struct proto_limits *lim, const char *buf, size_t len)
{
    size_t off = 0;

    while (off < len) {
        struct proto_req r;
        size_t used;
        enum proto_status st = proto_parse_req(lim, buf + off, len - off, &r,
            &used);

        check_req(&r, st, used, buf + off, len - off);
        if (st == PROTO_OK) {
            req_round_trip(&r);
        }
        if (st == PROTO_OK && r.cmd >= PROTO_CMD_MG) {
            meta_replies(&r);
        }
        if (st == PROTO_AGAIN || st == PROTO_FATAL || used > len - off) {
            return;
        }
        off += used;
    }
}

static void
check_rsp(const void *out, enum proto_status st, size_t used,
    const char *buf, size_t len)
{
    const struct proto_rsp *r = out;

    CHECK(inside(r->key, buf, len) && inside(r->data, buf, len));
    CHECK(inside(r->name, buf, len) && inside(r->text, buf, len));
    CHECK(st != PROTO_CLIENT_ERROR);
    if (st == PROTO_OK) {
        CHECK(used > 0 && used <= len);
        CHECK(r->type > PROTO_RSP_NONE && r->type < PROTO_RSP_COUNT);
    } else {
        CHECK(used == 0);
    }
}

static bool
same_rsp(const void *ap, const char *abase, const void *bp,
    const char *bbase)
{
    const struct proto_rsp *a = ap, *b = bp;

    return a->type == b->type && a->has_cas == b->has_cas &&
        a->flags == b->flags && a->cas == b->cas && a->number == b->number &&
        same_str(a->key, abase, b->key, bbase) &&
        same_str(a->data, abase, b->data, bbase) &&
        same_str(a->name, abase, b->name, bbase) &&
        same_str(a->text, abase, b->text, bbase);
}

/* Compose a parsed response and parse it back: the same element. */
static void
rsp_round_trip(const struct proto_rsp *r)
{
    struct buf b;
    struct proto_rsp back;
    size_t used;

    buf_init(&b);
    CHECK(proto_compose_rsp(&b, r));
    CHECK(proto_parse_rsp(&roomy, buf_head(&b), b.len, &back, &used) ==
        PROTO_OK);
    CHECK(used == b.len && back.type == r->type);
    CHECK(back.has_cas == r->has_cas && back.cas == r->cas);
    CHECK(back.flags == r->flags && back.number == r->number);
    CHECK(str_eq(back.key, r->key) && str_eq(back.data, r->data));
    CHECK(str_eq(back.name, r->name) && str_eq(back.text, r->text));
    buf_fini(&b);
}

static void
rsp_stream(const struct proto_limits *lim, const char *buf, size_t len)
{
    size_t off = 0;

    while (off < len) {
        struct proto_rsp r;
        size_t used;
        enum proto_status st = proto_parse_rsp(lim, buf + off, len - off, &r,
            &used);

        check_rsp(&r, st, used, buf + off, len - off);
        if (st != PROTO_OK) {
            return;
        }
        rsp_round_trip(&r);
        off += used;
    }
}

/* One parser seen through void pointers, so one loop checks both. */
struct parser {
    enum proto_status (*parse)(const struct proto_limits *lim,
        const char *buf, size_t len, void *out, size_t *used);
    void (*check)(const void *out, enum proto_status st, size_t used,
        const char *buf, size_t len);
    bool (*same)(const void *a, const char *abase, const void *b,
        const char *bbase);
};

static enum proto_status
req_parse(const struct proto_limits *lim, const char *buf, size_t len,
    void *out, size_t *used)
{
    return proto_parse_req(lim, buf, len, out, used);
}

static enum proto_status
rsp_parse(const struct proto_limits *lim, const char *buf, size_t len,
    void *out, size_t *used)
{
    return proto_parse_rsp(lim, buf, len, out, used);
}

static const struct parser req_parser = { req_parse, check_req, same_req };
static const struct parser rsp_parser = { rsp_parse, check_rsp, same_rsp };

/* Every prefix of buf short of the first element says AGAIN; the first
 * that does not matches the whole parse. Each prefix gets an exact-size
 * copy, so a read past its end trips ASan. */
static void
bytewise(const struct parser *p, const struct proto_limits *lim,
    const char *buf, size_t len)
{
    union {
        struct proto_req req;
        struct proto_rsp rsp;
    } whole, part;
    size_t wused, pused;
    enum proto_status wst = p->parse(lim, buf, len, &whole, &wused);

    for (size_t k = 0; k <= len && k <= BYTEWISE_MAX; k++) {
        char *copy = malloc(k > 0 ? k : 1);
        enum proto_status st;

        CHECK(copy != NULL);
        memcpy(copy, buf, k);
        st = p->parse(lim, copy, k, &part, &pused);
        p->check(&part, st, pused, copy, k);
        if (st != PROTO_AGAIN) {
            CHECK(st == wst && pused == wused);
            CHECK(p->same(&part, copy, &whole, buf));
            free(copy);
            return;
        }
        free(copy);
    }
    CHECK(wst == PROTO_AGAIN || len > BYTEWISE_MAX);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The defaults, and limits small enough for short inputs to hit. */
    struct proto_limits lims[2];
    /* An exact-size copy: ASan sees any read past the end. */
    char *buf = malloc(size > 0 ? size : 1);

    if (buf == NULL) {
        return 0;
    }
    memcpy(buf, data, size);
    proto_limits_default(&lims[0]);
    lims[1].max_line = 40;
    lims[1].max_key_line = 120;
    lims[1].max_value = 16;
    for (size_t i = 0; i < 2; i++) {
        req_stream(&lims[i], buf, size);
        bytewise(&req_parser, &lims[i], buf, size);
        rsp_stream(&lims[i], buf, size);
        bytewise(&rsp_parser, &lims[i], buf, size);
    }
    free(buf);
    return 0;
}
