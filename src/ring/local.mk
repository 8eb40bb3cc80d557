# ring: util, xxHash. Pure: no I/O, no clock, no threads.
noinst_LIBRARIES += libring.a
libring_a_SOURCES = \
    src/ring/ring.h \
    src/ring/hashkit.h \
    src/ring/config.c \
    src/ring/hashkit.c \
    src/ring/ketama.c \
    src/ring/md5.c \
    src/ring/points.h \
    src/ring/points.c \
    src/ring/ring.c
libring_a_CFLAGS = $(AM_CFLAGS) $(XXHASH_CFLAGS)

# Unit tests link ring, util and xxHash only.
check_PROGRAMS += tests/ring/test_ring
TESTS += tests/ring/test_ring
tests_ring_test_ring_SOURCES = tests/ring/test_ring.c \
    tests/ring/test_ketama.c tests/ring/test_config.c \
    tests/ring/test_points.c
tests_ring_test_ring_CFLAGS = $(TEST_CFLAGS) $(XXHASH_CFLAGS)
tests_ring_test_ring_LDADD = libring.a libutil.a $(XXHASH_LIBS) -lm $(TEST_LIBS)

# `make bench`: lookup rate, build time and the balance table.
EXTRA_PROGRAMS += bench_ring
BENCH_BINS += bench_ring
bench_ring_SOURCES = tools/bench/bench_ring.c
bench_ring_CFLAGS = $(AM_CFLAGS) $(XXHASH_CFLAGS)
bench_ring_LDADD = libring.a libutil.a $(XXHASH_LIBS) -lm
