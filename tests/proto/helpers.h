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

/* Assert that `got` holds exactly the bytes of `want`. */
void assert_str(struct str got, const char *want);

#endif /* TESTS_PROTO_HELPERS_H */
