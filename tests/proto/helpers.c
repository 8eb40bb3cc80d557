/* Shared by the proto tests: feed inputs whole and one byte at a time. */
#include "helpers.h"

#include <criterion/criterion.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

struct proto_limits test_lim = {
    PROTO_DEFAULT_MAX_LINE, PROTO_DEFAULT_MAX_KEY_LINE,
    PROTO_DEFAULT_MAX_VALUE,
};

/* Move a view from one copy of the input to the same bytes in another. */
static void
rebase(struct str *s, const char *from, const char *to)
{
    if (s->ptr != NULL) {
        s->ptr = to + (s->ptr - from);
    }
}

static void
rebase_req(void *out, const char *from, const char *to)
{
    struct proto_req *r = out;

    rebase(&r->key, from, to);
    rebase(&r->keys, from, to);
    rebase(&r->data, from, to);
    rebase(&r->args, from, to);
}

static void
rebase_rsp(void *out, const char *from, const char *to)
{
    struct proto_rsp *r = out;

    rebase(&r->key, from, to);
    rebase(&r->data, from, to);
    rebase(&r->name, from, to);
    rebase(&r->text, from, to);
}

/* One parser seen through void pointers, so one loop tests both. */
struct parser {
    size_t size;
    size_t need_at; /* offsetof `need`: a hint that differs by prefix */
    enum proto_status (*parse)(const char *in, size_t len, void *out,
        size_t *used);
    void (*rebase)(void *out, const char *from, const char *to);
};

static enum proto_status
req_parse(const char *in, size_t len, void *out, size_t *used)
{
    return proto_parse_req(&test_lim, in, len, out, used);
}

static enum proto_status
rsp_parse(const char *in, size_t len, void *out, size_t *used)
{
    return proto_parse_rsp(&test_lim, in, len, out, used);
}

static const struct parser req_parser = {
    sizeof(struct proto_req), offsetof(struct proto_req, need), req_parse,
    rebase_req,
};
static const struct parser rsp_parser = {
    sizeof(struct proto_rsp), offsetof(struct proto_rsp, need), rsp_parse,
    rebase_rsp,
};

static enum proto_status
parse_both(const struct parser *p, const char *in, size_t len, void *whole_out,
    size_t *used)
{
    enum proto_status whole = p->parse(in, len, whole_out, used);
    void *r = malloc(p->size);

    cr_assert_not_null(r);
    for (size_t k = 0; k <= len; k++) {
        char *copy = malloc(k > 0 ? k : 1);
        size_t u = 12345;
        enum proto_status st;

        cr_assert_not_null(copy);
        memcpy(copy, in, k);
        st = p->parse(copy, k, r, &u);
        if (st == PROTO_AGAIN) {
            cr_assert_eq(u, 0, "PROTO_AGAIN used %zu bytes at %zu", u, k);
            free(copy);
            continue;
        }
        p->rebase(r, copy, in);
        free(copy);
        cr_assert_eq(st, whole, "prefix %zu: status %d, whole %d", k, st,
            whole);
        cr_assert_eq(u, *used, "prefix %zu: used %zu, whole %zu", k, u,
            *used);
        memcpy((char *)r + p->need_at, (char *)whole_out + p->need_at,
            sizeof(size_t));
        cr_assert(memcmp(r, whole_out, p->size) == 0,
            "prefix %zu parses differently from the whole input", k);
        free(r);
        return whole;
    }
    free(r);
    cr_assert_eq(whole, PROTO_AGAIN, "no prefix matched a whole result");
    return whole;
}

enum proto_status
parse_req_both(const char *in, size_t len, struct proto_req *req,
    size_t *used)
{
    return parse_both(&req_parser, in, len, req, used);
}

enum proto_status
parse_rsp_both(const char *in, size_t len, struct proto_rsp *rsp,
    size_t *used)
{
    return parse_both(&rsp_parser, in, len, rsp, used);
}

void
assert_str(struct str got, const char *want)
{
    size_t n = strlen(want);

    cr_assert_eq(got.len, n, "length %zu, want %zu ('%.*s' vs '%s')",
        got.len, n, (int)got.len, got.ptr != NULL ? got.ptr : "", want);
    cr_assert(n == 0 || memcmp(got.ptr, want, n) == 0,
        "got '%.*s', want '%s'", (int)got.len, got.ptr, want);
}
