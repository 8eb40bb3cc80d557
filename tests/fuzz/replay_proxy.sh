#!/bin/sh
# Replay the proxy fuzzer's seed corpus (tests/fuzz/corpus/proxy) through
# the harness, without libFuzzer; prints TAP, one line per corpus file.
exec "${RINGCACHE_BUILDDIR:-.}/tests/fuzz/replay_proxy" \
    "${RINGCACHE_SRCDIR:-.}/tests/fuzz/corpus/proxy"
