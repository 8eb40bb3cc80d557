# ringbench and the comparison harness: util, proto, net.
# libbench.a is ringbench's own I/O-free code (histogram, keys and values,
# reply tokenizer, per-connection protocol engine, options, report), so the
# unit tests can link it without libevent.
noinst_LIBRARIES += libbench.a
libbench_a_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/tools
libbench_a_SOURCES = \
    tools/bench/hist.c tools/bench/hist.h \
    tools/bench/keys.c tools/bench/keys.h \
    tools/bench/reply.c tools/bench/reply.h \
    tools/bench/session.c tools/bench/session.h \
    tools/bench/opts.c tools/bench/opts.h \
    tools/bench/report.c tools/bench/report.h

# The floor of every comparison: plain epoll, no project module.
noinst_PROGRAMS += tools/bench/nullserver
tools_bench_nullserver_SOURCES = tools/bench/nullserver.c
tools_bench_nullserver_CPPFLAGS = $(AM_CPPFLAGS)

check_PROGRAMS += tests/bench/test_bench
TESTS += tests/bench/test_bench
tests_bench_test_bench_SOURCES = tests/bench/test_hist.c \
    tests/bench/test_keys.c tests/bench/test_session.c \
    tests/bench/test_opts.c tests/bench/test_report.c
tests_bench_test_bench_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/tools
tests_bench_test_bench_CFLAGS = $(TEST_CFLAGS)
tests_bench_test_bench_LDADD = libbench.a libutil.a $(TEST_LIBS) -lm

EXTRA_DIST += tools/bench/compare tools/bench/README.md
