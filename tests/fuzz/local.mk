# fuzz harnesses: see tests/fuzz/README.
#
# Always: the harness with a replay main() (tests/fuzz/replay.c) runs the
# seed corpus once as part of `make check`. With --enable-fuzz (CC=clang):
# also a real libFuzzer binary, tests/fuzz/fuzz_proto, whose proto sources
# are compiled with coverage instrumentation.
check_PROGRAMS += tests/fuzz/replay_proto
TESTS += tests/fuzz/replay_proto.sh
EXTRA_DIST += tests/fuzz/replay_proto.sh tests/fuzz/README \
    tests/fuzz/corpus/proto
tests_fuzz_replay_proto_SOURCES = tests/fuzz/fuzz_proto.c tests/fuzz/replay.c
tests_fuzz_replay_proto_LDADD = libproto.a libutil.a

if FUZZ
noinst_PROGRAMS += tests/fuzz/fuzz_proto
tests_fuzz_fuzz_proto_SOURCES = tests/fuzz/fuzz_proto.c \
    $(libproto_a_SOURCES)
tests_fuzz_fuzz_proto_CFLAGS = $(AM_CFLAGS) $(FUZZ_CFLAGS)
tests_fuzz_fuzz_proto_LDFLAGS = $(AM_LDFLAGS) \
    -fsanitize=fuzzer,address,undefined
tests_fuzz_fuzz_proto_LDADD = libutil.a
endif

# The proxy's request path (client, route, backend, reply) over a fake
# net layer: tests/fuzz/fuzz_proxy.c defines the net_* functions it uses,
# so src/net and its sockets are not linked.
FUZZ_PROXY_SOURCES = tests/fuzz/fuzz_proxy.c src/proxy/client.c \
    src/proxy/route.c src/proxy/backend.c src/proxy/reply.c \
    src/proxy/mget.c src/proxy/match.c src/proxy/hist.c
check_PROGRAMS += tests/fuzz/replay_proxy
TESTS += tests/fuzz/replay_proxy.sh
EXTRA_DIST += tests/fuzz/replay_proxy.sh tests/fuzz/corpus/proxy
tests_fuzz_replay_proxy_SOURCES = $(FUZZ_PROXY_SOURCES) tests/fuzz/replay.c
tests_fuzz_replay_proxy_LDADD = libproto.a libring.a libutil.a \
    $(XXHASH_LIBS) -lm

if FUZZ
noinst_PROGRAMS += tests/fuzz/fuzz_proxy
tests_fuzz_fuzz_proxy_SOURCES = $(FUZZ_PROXY_SOURCES) \
    $(libproto_a_SOURCES)
tests_fuzz_fuzz_proxy_CFLAGS = $(AM_CFLAGS) $(FUZZ_CFLAGS)
tests_fuzz_fuzz_proxy_LDFLAGS = $(AM_LDFLAGS) \
    -fsanitize=fuzzer,address,undefined
tests_fuzz_fuzz_proxy_LDADD = libring.a libutil.a $(XXHASH_LIBS) -lm
endif
