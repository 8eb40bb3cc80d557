#!/bin/sh
# Replay the protocol fuzzer's seed corpus (tests/fuzz/corpus/proto) through
# the harness, without libFuzzer; prints TAP, one line per corpus file.
exec "${RINGCACHE_BUILDDIR:-.}/tests/fuzz/replay_proto" \
    "${RINGCACHE_SRCDIR:-.}/tests/fuzz/corpus/proto"
