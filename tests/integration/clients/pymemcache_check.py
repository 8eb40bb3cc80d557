"""pymemcache (python3-pymemcache) against SERVER: every call it has."""

import sys

from pymemcache.client.base import Client

from checklib import expect, run_all, stats_checks

host, port = sys.argv[1].rsplit(":", 1)
c = Client((host, int(port)), connect_timeout=3, timeout=3)
P = "pm:"


def set_get():
    expect(c.set(P + "k1", b"v1") is True, "set")
    expect(c.get(P + "k1") == b"v1", "get")
    expect(c.get(P + "absent") is None, "miss")


def add():
    expect(c.add(P + "k1", b"x", noreply=False) is False, "add existing")
    expect(c.add(P + "k2", b"x", noreply=False) is True, "add new")


def replace():
    expect(c.replace(P + "k2", b"y", noreply=False) is True, "replace")
    expect(c.replace(P + "nope", b"y", noreply=False) is False,
           "replace missing")


def append_prepend():
    c.set(P + "ap", b"v")
    expect(c.append(P + "ap", b"x", noreply=False) is True, "append")
    expect(c.prepend(P + "ap", b"p", noreply=False) is True, "prepend")
    expect(c.get(P + "ap") == b"pvx", "value")


def cas():
    c.set(P + "c", b"1")
    v, token = c.gets(P + "c")
    expect(v == b"1" and token, "gets")
    expect(c.cas(P + "c", b"2", token) is True, "cas")
    expect(c.cas(P + "c", b"3", token) is False, "cas stale")
    expect(c.cas(P + "nope", b"3", token) is None, "cas missing")
    many = c.gets_many([P + "c", P + "k1"])
    expect(set(many) == {P + "c", P + "k1"}, "gets_many")


def delete():
    c.set(P + "d", b"1")
    expect(c.delete(P + "d", noreply=False) is True, "delete")
    expect(c.delete(P + "d", noreply=False) is False, "delete missing")
    c.set_many({P + "d1": b"1", P + "d2": b"2"})
    expect(c.delete_many([P + "d1", P + "d2"]) is True, "delete_many")
    expect(c.get_many([P + "d1", P + "d2"]) == {}, "gone")


def incr_decr():
    c.set(P + "n", b"10")
    expect(c.incr(P + "n", 5) == 15, "incr")
    expect(c.decr(P + "n", 3) == 12, "decr")
    expect(c.incr(P + "nope", 1) is None, "incr missing")


def touch():
    expect(c.touch(P + "n", 100, noreply=False) is True, "touch")
    expect(c.touch(P + "nope", 100, noreply=False) is False, "touch missing")


def get_multi():
    kv = {P + "m%d" % i: b"v%d" % i for i in range(30)}
    expect(c.set_many(kv) == [], "set_many")
    got = c.get_many(list(kv) + [P + "absent"])
    expect(got == kv, "get_many: %d of %d" % (len(got), len(kv)))


def stats(*group):
    def fn():
        st = c.stats(*group)
        expect(isinstance(st, dict), "stats %s" % (group,))
        if not group:
            expect(b"version" in st or "version" in st, "version")
    return fn


def flush_all():
    c.set(P + "f", b"1")
    expect(c.flush_all(noreply=False) is True, "flush_all")
    expect(c.get(P + "f") is None, "flushed")


run_all(dict(
    stats_checks(stats), set_get=set_get, add=add, replace=replace,
    append_prepend=append_prepend, cas=cas, delete=delete,
    incr_decr=incr_decr, touch=touch, get_multi=get_multi,
    flush_all=flush_all, all_keys="pymemcache has no call that lists keys",
    binary_fails_fast="pymemcache speaks the text protocol only"))
