# ringbench and the comparison harness: util, proto, net.
# libbench.a is ringbench's own I/O-free code (histogram, keys and values,
# per-connection protocol engine on proto, options, report), so the unit
# tests can link it without libevent.
noinst_LIBRARIES += libbench.a
libbench_a_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/tools
libbench_a_SOURCES = \
    tools/bench/hist.c tools/bench/hist.h \
    tools/bench/keys.c tools/bench/keys.h \
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
tests_bench_test_bench_LDADD = libbench.a libproto.a libutil.a $(TEST_LIBS) -lm

EXTRA_DIST += tools/bench/compare

# The load generator: util, proto, net (and pthreads for its load threads).
bin_PROGRAMS += tools/bench/ringbench
tools_bench_ringbench_SOURCES = tools/bench/ringbench.c
tools_bench_ringbench_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/tools
tools_bench_ringbench_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS)
tools_bench_ringbench_LDADD = libbench.a libproto.a libnet.a libutil.a \
    $(LIBEVENT_LIBS) -lm

# Short, bounded ringbench runs against memcached, nullserver and fakes.
TESTS += tests/integration/test_ringbench.py
EXTRA_DIST += tests/integration/test_ringbench.py

# `make bench` runs tools/bench/compare: build what it runs first, so the
# ringcached and ringproxy rows measure the current sources.
bench: $(bin_PROGRAMS) tools/bench/nullserver$(EXEEXT)
dist_man_MANS += man/ringbench.1
