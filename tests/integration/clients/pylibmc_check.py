"""pylibmc (python3-pylibmc, over libmemcached) against SERVER."""

import sys

import pylibmc

from checklib import expect, run_all, stats_checks, timed_failure

TIMEOUTS = {"connect_timeout": 3000, "_poll_timeout": 3000,
            "receive_timeout": 3000000, "send_timeout": 3000000}
servers = [sys.argv[1]]
c = pylibmc.Client(servers, binary=False, behaviors=dict(TIMEOUTS))
P = "pl:"


def set_get():
    expect(c.set(P + "k1", "v1") is True, "set")
    expect(c.get(P + "k1") == "v1", "get")
    expect(c.get(P + "absent") is None, "miss")


def add():
    expect(c.add(P + "k1", "x") is False, "add existing")
    expect(c.add(P + "k2", "x") is True, "add new")
    expect(c.add_multi({P + "k2": "x", P + "k3": "y"}) == [P + "k2"],
           "add_multi")


def replace():
    expect(c.replace(P + "k2", "y") is True, "replace")
    expect(c.replace(P + "nope", "y") is False, "replace missing")


def append_prepend():
    c.set(P + "ap", "v")
    expect(c.append(P + "ap", "x") is True, "append")
    expect(c.prepend(P + "ap", "p") is True, "prepend")
    expect(c.get(P + "ap") == "pvx", "value")


def cas():
    cc = pylibmc.Client(servers, behaviors=dict(TIMEOUTS, cas=True))
    cc.set(P + "c", "1")
    v, token = cc.gets(P + "c")
    expect(v == "1" and token, "gets")
    expect(cc.cas(P + "c", "2", token) is True, "cas")
    expect(cc.cas(P + "c", "3", token) is False, "cas stale")


def delete():
    c.set(P + "d", "1")
    expect(c.delete(P + "d") is True, "delete")
    expect(c.delete(P + "d") is False, "delete missing")
    c.set_multi({P + "d1": "1", P + "d2": "2"})
    expect(c.delete_multi([P + "d1", P + "d2"]) is True, "delete_multi")


def incr_decr():
    c.set(P + "n", "10")
    expect(c.incr(P + "n", 5) == 15, "incr")
    expect(c.decr(P + "n", 3) == 12, "decr")
    c.incr_multi([P + "n"], delta=2)
    expect(c.get(P + "n") == "14", "incr_multi")
    try:
        c.incr(P + "nope", 1)
    except pylibmc.NotFound:
        return
    raise AssertionError("incr of a missing key did not raise NotFound")


def touch():
    expect(c.touch(P + "n", 100) is True, "touch")
    expect(c.touch(P + "nope", 100) is False, "touch missing")


def get_multi():
    kv = {P + "m%d" % i: "v%d" % i for i in range(30)}
    expect(c.set_multi(kv) == [], "set_multi")
    got = c.get_multi(list(kv) + [P + "absent"])
    expect(got == kv, "get_multi: %d of %d" % (len(got), len(kv)))


def stats(*group):
    def fn():
        st = c.get_stats(*group)
        expect(len(st) == 1 and isinstance(st[0][1], dict),
               "get_stats %s: %r" % (group, st))
        if not group:
            expect(st[0][1].get("version"), "version")
    return fn


def flush_all():
    c.set(P + "f", "1")
    expect(c.flush_all() is True, "flush_all")
    expect(c.get(P + "f") is None, "flushed")


def binary():
    b = pylibmc.Client(servers, binary=True, behaviors=dict(TIMEOUTS))
    timed_failure(lambda: b.set(P + "bin", "1"), 1.0)


run_all(dict(
    stats_checks(stats), set_get=set_get, add=add, replace=replace,
    append_prepend=append_prepend, cas=cas, delete=delete,
    incr_decr=incr_decr, touch=touch, get_multi=get_multi,
    flush_all=flush_all, all_keys="pylibmc has no call that lists keys",
    binary_fails_fast=binary))
