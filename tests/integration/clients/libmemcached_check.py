"""libmemcached's command-line tools (libmemcached-tools: memccp, memccat,
memcrm, memcstat, memcdump, memcflush, memctouch, memcexist, memcping,
memccapable) against SERVER. Prints "ok|fail|skip NAME [why]" lines
(clientlib.py)."""

import os
import shutil
import subprocess
import sys
import tempfile
import time

from checklib import Skip, expect, run_all, stats_checks

servers = sys.argv[1]
host, port = servers.rsplit(":", 1)
tmp = tempfile.mkdtemp(prefix="libmemcached-check-")


def tool(name, *args, timeout=30):
    path = shutil.which(name)
    if path is None:
        raise Skip("%s not installed (libmemcached-tools)" % name)
    p = subprocess.run([path, "--servers=" + servers] + list(args),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout, cwd=tmp)
    return p.returncode, p.stdout.decode("utf-8", "replace"), \
        p.stderr.decode("utf-8", "replace")


def put(name, data, *flags):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(data)
    return tool("memccp", *(list(flags) + [path]))[0]


def cat(*keys):
    rc, out, _ = tool("memccat", *keys)
    return rc, out


def set_get():
    expect(put("lm-k1", "v1") == 0, "memccp")
    expect(cat("lm-k1") == (0, "v1\n"), "memccat: %r" % (cat("lm-k1"),))
    expect(cat("lm-absent")[0] != 0, "memccat of a missing key")


def add():
    expect(put("lm-k1", "x", "--add") != 0, "memccp --add existing")
    expect(put("lm-k2", "x", "--add") == 0, "memccp --add new")


def replace():
    expect(put("lm-k2", "y", "--replace") == 0, "memccp --replace")
    expect(put("lm-nope", "y", "--replace") != 0,
           "memccp --replace missing")
    expect(cat("lm-k2") == (0, "y\n"), "value")


def delete():
    put("lm-d", "1")
    expect(tool("memcexist", "lm-d")[0] == 0, "memcexist")
    expect(tool("memcrm", "lm-d")[0] == 0, "memcrm")
    expect(tool("memcexist", "lm-d")[0] != 0, "memcexist after memcrm")
    expect(tool("memcrm", "lm-d")[0] != 0, "memcrm missing")


def touch():
    put("lm-t", "1")
    expect(tool("memctouch", "--expire=100", "lm-t")[0] == 0, "memctouch")
    expect(tool("memctouch", "--expire=100", "lm-nope")[0] != 0,
           "memctouch missing")


def get_multi():
    keys = ["lm-m%d" % i for i in range(20)]
    for k in keys:
        put(k, k.upper())
    rc, out = cat(*keys)
    expect(rc == 0 and out.split() == [k.upper() for k in keys],
           "memccat of 20 keys: %r" % out[:200])


def stats(*group):
    def fn():
        rc, out, err = tool("memcstat", *group)
        expect(rc == 0, "memcstat %s: %s" % (group, err.strip()))
        # memcstat prints nothing for a group with no lines (items, slabs
        # of an empty memcached, and always through ringproxy).
        expect(out.startswith("Server: ") or group in (("items",),
                                                       ("slabs",)),
               "memcstat %s: %r" % (group, out))
        if not group:
            expect("version:" in out, "version")
            rc, out, err = tool("memcstat", "--server-version")
            expect(rc == 0 and (out + err).startswith(host),
                   "--server-version: %r" % (out + err))
            expect(tool("memcping")[0] == 0, "memcping")
            rc, out, _ = tool("memcstat", "--analyze")
            expect(rc == 0 and "Analysis Report" in out, "--analyze")
    return fn


def all_keys():
    put("lm-dump", "1")
    rc, out, err = tool("memcdump")
    expect(rc == 0, "memcdump: %s" % err.strip())
    expect("lm-dump" in out.split(), "memcdump lacks the key")


def flush_all():
    put("lm-f", "1")
    expect(tool("memcflush")[0] == 0, "memcflush")
    expect(cat("lm-f")[0] != 0, "flushed")


def capable():
    path = shutil.which("memccapable")
    if path is None:
        raise Skip("memccapable not installed (libmemcached-tools)")
    p = subprocess.run([path, "-a", "-h", host, "-p", port],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=60)
    out = p.stdout.decode("utf-8", "replace")
    expect(p.returncode == 0, "memccapable -a: %s" % " ".join(
        l for l in out.splitlines() if "pass" not in l)[:300])


def binary():
    t0 = time.monotonic()
    rc, out, err = tool("memcstat", "--binary", timeout=30)
    took = time.monotonic() - t0
    expect(rc != 0, "memcstat --binary succeeded")
    expect(took < 1.0, "the error came after %.2f s: %s" % (
        took, err.strip()[:200]))


try:
    run_all(dict(
        stats_checks(stats), set_get=set_get, add=add, replace=replace,
        append_prepend="no tool appends or prepends",
        cas="no tool does gets/cas", delete=delete,
        incr_decr="no tool increments", touch=touch, get_multi=get_multi,
        all_keys=all_keys, flush_all=flush_all, binary_fails_fast=binary,
        memccapable=capable), extra=("memccapable",))
finally:
    shutil.rmtree(tmp, ignore_errors=True)
