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
