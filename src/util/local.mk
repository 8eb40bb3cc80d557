# util: libc only.
noinst_LIBRARIES += libutil.a
libutil_a_SOURCES = \
    src/util/util.h \
    src/util/buf.c \
    src/util/clock.c \
    src/util/log.c \
    src/util/num.c \
    src/util/str.c \
    src/util/xmalloc.c

check_PROGRAMS += tests/util/test_util
TESTS += tests/util/test_util
tests_util_test_util_SOURCES = tests/util/test_num.c tests/util/test_buf.c \
    tests/util/test_str.c
tests_util_test_util_CFLAGS = $(TEST_CFLAGS)
tests_util_test_util_LDADD = libutil.a $(TEST_LIBS)
