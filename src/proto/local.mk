# proto: the memcached protocol, parse and compose. Uses util only.
noinst_LIBRARIES += libproto.a
libproto_a_SOURCES = \
    src/proto/proto.h \
    src/proto/table.h \
    src/proto/compose.c \
    src/proto/line.c \
    src/proto/meta.c \
    src/proto/req.c \
    src/proto/rsp.c \
    src/proto/table.c

check_PROGRAMS += tests/proto/test_proto
TESTS += tests/proto/test_proto
tests_proto_test_proto_SOURCES = \
    tests/proto/helpers.h \
    tests/proto/helpers.c \
    tests/proto/test_compose.c \
    tests/proto/test_meta.c \
    tests/proto/test_req.c \
    tests/proto/test_rsp.c \
    tests/proto/test_table.c
tests_proto_test_proto_CFLAGS = $(TEST_CFLAGS)
tests_proto_test_proto_LDADD = libproto.a libutil.a $(TEST_LIBS)

# The parser's replies next to a real memcached's (skipped without one).
check_PROGRAMS += tests/proto/replies
tests_proto_replies_SOURCES = tests/proto/replies.c
tests_proto_replies_LDADD = libproto.a libutil.a
TESTS += tests/proto/test_vs_memcached.py
EXTRA_DIST += tests/proto/test_vs_memcached.py

# `make bench`: parse rates (not a test).
EXTRA_PROGRAMS += bench_proto
BENCH_BINS += bench_proto
bench_proto_SOURCES = tests/proto/bench_proto.c
bench_proto_LDADD = libproto.a libutil.a
