# proxy: util, proto, ring, net (+ libevent through net). Nothing else.
noinst_LIBRARIES += libproxy.a
libproxy_a_SOURCES = \
    src/proxy/proxy.h \
    src/proxy/proxy_int.h \
    src/proxy/admin.c \
    src/proxy/backend.c \
    src/proxy/client.c \
    src/proxy/daemon.c \
    src/proxy/fdlimit.c \
    src/proxy/health.c \
    src/proxy/hist.c \
    src/proxy/match.c \
    src/proxy/mget.c \
    src/proxy/opts.c \
    src/proxy/pring.c \
    src/proxy/reply.c \
    src/proxy/route.c \
    src/proxy/reload.c

bin_PROGRAMS += ringproxy
ringproxy_SOURCES = src/proxy/main.c
ringproxy_LDADD = libproxy.a libproto.a libring.a libnet.a libutil.a \
    $(LIBEVENT_LIBS) $(XXHASH_LIBS) -lm

# Unit tests of the pure pieces: splitter/merger, reply matching, latency
# histogram, flags.
check_PROGRAMS += tests/proxy/test_proxy
TESTS += tests/proxy/test_proxy
tests_proxy_test_proxy_SOURCES = tests/proxy/test_mget.c \
    tests/proxy/test_match.c tests/proxy/test_hist.c \
    tests/proxy/test_opts.c tests/proxy/test_fdlimit.c
tests_proxy_test_proxy_CFLAGS = $(TEST_CFLAGS)
tests_proxy_test_proxy_LDADD = libproxy.a libproto.a libring.a libnet.a \
    libutil.a $(LIBEVENT_LIBS) $(XXHASH_LIBS) -lm $(TEST_LIBS)

# End-to-end tests: real clients, stock memcached and ringcached nodes,
# faults, reload, placement.
PROXY_PY_TESTS = \
    tests/integration/test_proxy_basic.py \
    tests/integration/test_proxy_tools.py \
    tests/integration/test_proxy_placement.py \
    tests/integration/test_proxy_faults.py \
    tests/integration/test_proxy_reload.py \
    tests/integration/test_proxy_meta.py \
    tests/integration/test_proxy_isolation.py \
    tests/integration/test_proxy_reload_storm.py \
    tests/integration/test_proxy_limits.py \
    tests/integration/test_proxy_hostile.py \
    tests/integration/test_proxy_dump.py
TESTS += $(PROXY_PY_TESTS)
EXTRA_DIST += $(PROXY_PY_TESTS) tests/integration/proxy_harness.py \
    tests/integration/fakebackend.py

dist_man_MANS += man/ringproxy.8
EXTRA_DIST += tools/systemd/ringproxy.service
