/* Shared by the proto tests: feed inputs whole and one byte at a time. */
#include "helpers.h"

#include <criterion/criterion.h>
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
rebase_req(struct proto_req *r, const char *from, const char *to)
{
    rebase(&r->key, from, to);
    rebase(&r->keys, from, to);
    rebase(&r->data, from, to);
    rebase(&r->args, from, to);
}

static void
rebase_rsp(struct proto_rsp *r, const char *from, const char *to)
{
    rebase(&r->key, from, to);
    rebase(&r->data, from, to);
    rebase(&r->name, from, to);
    rebase(&r->text, from, to);
}

enum proto_status
parse_req_both(const char *in, size_t len, struct proto_req *req,
    size_t *used)
{
    enum proto_status whole = proto_parse_req(&test_lim, in, len, req, used);

    for (size_t k = 0; k <= len; k++) {
        char *copy = malloc(k > 0 ? k : 1);
        struct proto_req r;
        size_t u = 12345;
        enum proto_status st;

        cr_assert_not_null(copy);
        memcpy(copy, in, k);
        st = proto_parse_req(&test_lim, copy, k, &r, &u);
        if (st == PROTO_AGAIN) {
            cr_assert_eq(u, 0, "PROTO_AGAIN used %zu bytes at %zu", u, k);
            free(copy);
            continue;
        }
        rebase_req(&r, copy, in);
        free(copy);
        cr_assert_eq(st, whole, "prefix %zu: status %d, whole %d", k, st,
            whole);
        cr_assert_eq(u, *used, "prefix %zu: used %zu, whole %zu", k, u,
            *used);
        r.need = req->need;
        cr_assert(memcmp(&r, req, sizeof(r)) == 0,
            "prefix %zu parses differently from the whole input", k);
        return whole;
    }
    cr_assert_eq(whole, PROTO_AGAIN, "no prefix matched a whole result");
    return whole;
}

enum proto_status
parse_rsp_both(const char *in, size_t len, struct proto_rsp *rsp,
    size_t *used)
{
    enum proto_status whole = proto_parse_rsp(&test_lim, in, len, rsp, used);

    for (size_t k = 0; k <= len; k++) {
        char *copy = malloc(k > 0 ? k : 1);
        struct proto_rsp r;
        size_t u = 12345;
        enum proto_status st;

        cr_assert_not_null(copy);
        memcpy(copy, in, k);
        st = proto_parse_rsp(&test_lim, copy, k, &r, &u);
        if (st == PROTO_AGAIN) {
            cr_assert_eq(u, 0, "PROTO_AGAIN used %zu bytes at %zu", u, k);
            free(copy);
            continue;
        }
        rebase_rsp(&r, copy, in);
        free(copy);
        cr_assert_eq(st, whole, "prefix %zu: status %d, whole %d", k, st,
            whole);
        cr_assert_eq(u, *used, "prefix %zu: used %zu, whole %zu", k, u,
            *used);
        r.need = rsp->need;
        cr_assert(memcmp(&r, rsp, sizeof(r)) == 0,
            "prefix %zu parses differently from the whole input", k);
        return whole;
    }
    cr_assert_eq(whole, PROTO_AGAIN, "no prefix matched a whole result");
    return whole;
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
