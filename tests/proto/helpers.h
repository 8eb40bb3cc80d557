/* Shared by the proto tests: feed inputs whole and one byte at a time. */
#ifndef TESTS_PROTO_HELPERS_H
#define TESTS_PROTO_HELPERS_H

#include <stddef.h>

#include "proto/proto.h"

/* Default limits, and a view of a C string literal with embedded NULs. */
extern struct proto_limits test_lim;
#define S(lit) ((struct str){ (lit), sizeof(lit) - 1 })

/*
 * Parse in[0..len) as a request, once whole and once through every
 * prefix in[0..k) (each in its own exact-size heap copy, so a read past
 * the end trips ASan). Asserts that every prefix short of the element
 * gives PROTO_AGAIN with nothing used, and that the first prefix that
 * does not gives the whole parse's result, field for field. Returns the
 * whole parse's status; *req views point into `in`.
 */
enum proto_status parse_req_both(const char *in, size_t len,
    struct proto_req *req, size_t *used);
/* The same for responses. */
enum proto_status parse_rsp_both(const char *in, size_t len,
    struct proto_rsp *rsp, size_t *used);

/*
 * Request assertions over a literal, fed both ways. The including file
 * declares `static struct proto_req req;` and `static size_t used;`.
 *   PARSE_REQ(lit, st, n)  status `st` and `n` bytes used
 *   OK_REQ(lit)            PROTO_OK using the whole literal
 *   CERR_REQ(lit, e)       a client error with reply `e` that skips it all
 */
#define PARSE_REQ(lit, st, n) do { \
        cr_assert_eq(parse_req_both((lit), sizeof(lit) - 1, &req, &used), \
            (st), "status for '%s'", (lit)); \
        cr_assert_eq(used, (size_t)(n), "used %zu for '%s'", used, (lit)); \
    } while (0)
#define OK_REQ(lit) PARSE_REQ(lit, PROTO_OK, sizeof(lit) - 1)
#define CERR_REQ(lit, e) do { \
        PARSE_REQ(lit, PROTO_CLIENT_ERROR, sizeof(lit) - 1); \
        cr_assert_eq(req.err, (e), "reply %d for '%s'", req.err, (lit)); \
    } while (0)

/* Assert that `got` holds exactly the bytes of `want`. */
void assert_str(struct str got, const char *want);

#endif /* TESTS_PROTO_HELPERS_H */
