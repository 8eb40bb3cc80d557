#!/usr/bin/env python3
"""Read stats as Prometheus' memcached_exporter does, node and proxy.

memcached_exporter (github.com/prometheus/memcached_exporter) reads a
server with grobie/gomemcache's Stats() and StatsSettings() and turns the
maps into metrics; any error sets memcached_up to 0 and the scrape is lost.
This file re-implements both, rule for rule (the comments name the Go
functions), and checks that

- the installed memcached 1.6.18 scrapes cleanly (so the re-implementation
  is right), and the parser fails on what breaks the real one;
- ringcached scrapes cleanly and yields every metric memcached yields;
- ringproxy scrapes cleanly and yields every metric a proxy can know (its
  own traffic; node-side values such as curr_items are read from the nodes,
  see ringproxy(8)).
"""

import socket
import threading
import unittest

import harness
import proxy_harness as ph

TIMEOUT = 2.0   # the exporter's default --memcached.timeout is 1 s


class ScrapeError(Exception):
    pass


class Reader:
    """bufio.Reader.ReadSlice('\\n') over a socket with a deadline."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port),
                                             timeout=TIMEOUT)
        self.buf = b""

    def write_read_line(self, cmd):     # gomemcache writeReadLine
        self.sock.sendall(cmd)
        return self.read_line()

    def read_line(self):
        while b"\n" not in self.buf:
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                # An answer that never ends with END: the exporter waits
                # for its deadline and fails the scrape.
                raise ScrapeError("i/o timeout")
            if not chunk:
                raise ScrapeError("EOF")
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return line + b"\n"

    def close(self):
        self.sock.close()


def parse_int(b):                       # strconv.ParseInt(s, 10, 64)
    s = b.decode("latin-1")
    body = s[1:] if s[:1] in ("+", "-") else s
    if not body.isdigit() or not body.isascii():
        raise ScrapeError("strconv.ParseInt: parsing %r: invalid syntax" % s)
    return int(s)


def stats(port):
    """gomemcache statsFromAddr: stats, stats slabs, stats items on one
    connection into Stats, Slabs[int] and Items[int]."""
    st, slabs, items = {}, {}, {}
    r = Reader(port)
    try:
        for cmd in (b"stats\r\n", b"stats slabs\r\n", b"stats items\r\n"):
            line = r.write_read_line(cmd)
            if line.startswith(b"CLIENT_ERROR "):
                raise ScrapeError("client error: %r" % line)
            while line != b"END\r\n":
                s = line.split(b" ")
                if len(s) == 3 and s[0].startswith(b"STAT"):
                    f = s[1].split(b":")
                    v = s[2].strip().decode("latin-1")
                    if len(f) == 1:
                        st[s[1].decode("latin-1")] = v
                    elif len(f) == 2:
                        slabs.setdefault(parse_int(f[0]), {})[
                            f[1].decode("latin-1")] = v
                    elif len(f) == 3:
                        items.setdefault(parse_int(f[1]), {})[
                            f[2].decode("latin-1")] = v
                line = r.read_line()
    finally:
        r.close()
    return st, slabs, items


def stats_settings(port):
    """gomemcache statsSettingsFromAddr."""
    out = {}
    r = Reader(port)
    try:
        line = r.write_read_line(b"stats settings\r\n")
        if line.startswith(b"CLIENT_ERROR "):
            raise ScrapeError("client error: %r" % line)
        while line != b"END\r\n":
            s = line.split(b" ")
            if len(s) == 3:
                out[s[1].decode("latin-1")] = s[2].strip().decode("latin-1")
            elif len(s) == 4:
                out[s[1].decode("latin-1")] = "%s-%s" % (
                    s[2].strip().decode("latin-1"),
                    s[2].strip().decode("latin-1"))
            else:
                raise ScrapeError("unexpected stats line format %r" % line)
            line = r.read_line()
    finally:
        r.close()
    return out


def go_float(v):                        # strconv.ParseFloat(v, 64)
    # Python's float() also takes spaces and "1_0"; Go's does not.
    if v != v.strip() or "_" in v:
        raise ValueError(v)
    return float(v)


# Exporter.parseStats: what it reads, by map.
OPS = ("get", "delete", "incr", "decr", "cas", "touch")
GENERAL = ["uptime", "time", "cas_badval", "cmd_flush", "bytes",
           "limit_maxbytes", "curr_items", "total_items", "bytes_read",
           "bytes_written", "curr_connections", "total_connections",
           "rejected_connections", "conn_yields", "listen_disabled_num",
           "evictions", "reclaimed", "store_too_large", "store_no_memory",
           "lru_crawler_starts", "direct_reclaims", "crawler_items_checked",
           "crawler_reclaimed", "moves_to_cold", "moves_to_warm",
           "moves_within_lru", "total_malloced", "accepting_conns"] + \
    ["%s_%s" % (op, hm) for op in OPS for hm in ("hits", "misses")]
TIMEVAL = ("rusage_user", "rusage_system")
PROXY = ("proxy_conn_requests", "proxy_conn_errors", "proxy_conn_oom",
         "proxy_req_active", "proxy_config_reloads",
         "proxy_config_reload_fails", "proxy_config_cron_runs",
         "proxy_config_cron_fails", "proxy_backend_total",
         "proxy_backend_marked_bad", "proxy_backend_failed",
         "proxy_request_failed_depth", "round_robin_fallback",
         "unexpected_napi_ids")
ITEMS = ("number", "age", "hits_to_hot", "hits_to_warm", "hits_to_cold",
         "hits_to_temp", "crawler_reclaimed", "evicted", "evicted_nonzero",
         "evicted_time", "evicted_unfetched", "expired_unfetched",
         "outofmemory", "reclaimed", "store_too_large", "store_no_memory",
         "tailrepairs", "mem_requested", "moves_to_cold", "moves_to_warm",
         "moves_within_lru", "number_hot", "number_warm", "number_cold",
         "number_temp", "age_hot", "age_warm")
SLABS = ["%s_hits" % op for op in OPS] + [
    "cas_badval", "chunk_size", "chunks_per_page", "total_pages",
    "total_chunks", "used_chunks", "free_chunks", "free_chunks_end",
    "mem_requested"]
SETTINGS_LRU = ("lru_crawler_sleep", "lru_crawler_tocrawl", "hot_lru_pct",
                "warm_lru_pct", "hot_max_factor", "warm_max_factor")
SETTINGS_LRU_BOOL = ("lru_crawler", "lru_maintainer_thread")


class Scrape:
    """One Exporter.Collect() with the slab collector on: `up`, the
    metrics it emitted (by source name) and why it failed."""

    def __init__(self, port):
        self.errors = []
        self.metrics = set()
        try:
            st, slabs, items = stats(port)
        except ScrapeError as e:
            self.errors.append("Stats(): %s" % e)
            st, slabs, items = {}, {}, {}
        try:
            settings = stats_settings(port)
        except ScrapeError as e:
            self.errors.append("StatsSettings(): %s" % e)
            settings = {}
        self.stats, self.slabs, self.items = st, slabs, items
        self.settings = settings
        self.parse_stats()
        self.parse_settings()
        self.up = not self.errors

    def value(self, where, m, key, kind="float", required=False):
        """parseAndNewMetric & co: a missing key is skipped (unless the
        exporter needs it), a present one must parse."""
        if key not in m:
            if required:
                self.errors.append("%s: %s missing" % (where, key))
            return None
        v = m[key]
        try:
            if kind == "bool":
                if v not in ("yes", "no"):
                    raise ValueError(v)
                x = 1.0 if v == "yes" else 0.0
            elif kind == "timeval":
                parts = v.split(".")
                if len(parts) != 2:
                    raise ValueError(v)
                x = go_float(parts[0]) + go_float(parts[1]) / 1e6
            else:
                x = go_float(v)
        except ValueError:
            self.errors.append("%s: %s=%r does not parse" % (where, key, v))
            return None
        self.metrics.add("%s:%s" % (where, key))
        return x

    def parse_stats(self):
        s = self.stats
        if "version" in s:
            self.metrics.add("stats:version")
        for k in GENERAL:
            self.value("stats", s, k)
        for k in TIMEVAL:
            self.value("stats", s, k, "timeval")
        # cmd_set minus cas_*: all four must be there.
        self.value("stats", s, "cmd_set", required=True)
        for k in ("cas_misses", "cas_hits", "cas_badval"):
            self.value("stats", s, k, required=True)
        if "extstore_limit_maxbytes" in s:
            self.errors.append("extstore stats are not checked here")
        if "proxy_backend_total" in s:
            for k in PROXY:
                self.value("stats", s, k)
        for cls, u in self.items.items():
            for k in ITEMS:
                self.value("items:%d" % cls, u, k)
        for cls, v in self.slabs.items():
            for k in SLABS:
                self.value("slabs:%d" % cls, v, k)
            self.value("slabs:%d" % cls, v, "cmd_set", required=True)
            for k in ("cas_hits", "cas_badval"):
                self.value("slabs:%d" % cls, v, k, required=True)

    def parse_settings(self):
        t = self.settings
        self.value("settings", t, "maxconns")
        if t.get("lru_crawler") == "yes":
            for k in SETTINGS_LRU_BOOL:
                self.value("settings", t, k, "bool")
            for k in SETTINGS_LRU:
                self.value("settings", t, k)

    def names(self):
        """Metric sources without the slab class (classes differ)."""
        return {m.split(":")[0] + ":" + m.split(":")[-1]
                for m in self.metrics}


def fill(port, n=40):
    """Items in a few size classes, hits, misses, a cas, a touch."""
    with harness.Conn(port) as c:
        for i in range(n):
            v = "v" * (10 + 37 * i)
            c.call("set ex%d 0 0 %d\r\n%s\r\n" % (i, len(v), v))
        c.send("get ex1 ex2 nope\r\n")
        c.read_until_end()
        c.send("gets ex3\r\n")
        cas = int(c.read_until_end().split(b"\r\n")[0].split()[4])
        c.call("cas ex3 0 0 1 %d\r\nx\r\n" % cas)
        c.call("cas ex3 0 0 1 %d\r\nx\r\n" % cas)
        c.call("touch ex4 100\r\n")
        c.call("delete ex5\r\n")
        c.call("incr nope 1\r\n")


def node_argv(kind):
    return ph.ringcached_argv() if kind == "ringcached" else \
        ph.memcached_argv()


class ParserRules(unittest.TestCase):
    """The re-implementation fails where the exporter's parser does."""

    def fake(self, replies):
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(4)

        def serve():
            for _ in range(2):
                try:
                    c, _ = srv.accept()
                except OSError:
                    return
                with c:
                    f = c.makefile("rb")
                    for line in f:
                        # "stats" is b"", "stats slabs" b"slabs".
                        word = line.split()[1] if len(line.split()) > 1 \
                            else b""
                        c.sendall(replies.get(word, b"END\r\n"))
        t = threading.Thread(target=serve, daemon=True)
        t.start()
        return srv

    def scrape(self, replies):
        srv = self.fake(replies)
        try:
            return Scrape(srv.getsockname()[1])
        finally:
            srv.close()

    def test_three_part_name_outside_items_fails(self):
        sc = self.scrape({b"": b"STAT node:n1:addr 1\r\nEND\r\n"})
        self.assertFalse(sc.up)
        self.assertIn("ParseInt", " ".join(sc.errors))

    def test_error_reply_hangs_and_fails(self):
        sc = self.scrape({b"slabs": b"ERROR\r\n"})
        self.assertFalse(sc.up)
        self.assertIn("timeout", " ".join(sc.errors))

    def test_missing_cas_counters_fail(self):
        sc = self.scrape({b"": b"STAT cmd_set 1\r\nEND\r\n"})
        self.assertFalse(sc.up)

    def test_settings_value_with_spaces_fails(self):
        sc = self.scrape({
            b"": b"STAT cmd_set 1\r\nSTAT cas_hits 0\r\n"
                      b"STAT cas_misses 0\r\nSTAT cas_badval 0\r\nEND\r\n",
            b"settings": b"STAT inter a b c\r\nEND\r\n"})
        self.assertFalse(sc.up)


class Exporter(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        with harness.Server(node_argv("memcached")) as mc:
            fill(mc.port)
            cls.reference = Scrape(mc.port)

    def check_up(self, sc):
        self.assertTrue(sc.up, "memcached_up would be 0: %s" % sc.errors)

    def test_memcached_itself(self):
        sc = self.reference
        self.check_up(sc)
        self.assertIn("stats:curr_items", sc.metrics)
        self.assertTrue(sc.items and sc.slabs)

    def test_ringcached(self):
        if not ph.have_ringcached():
            self.skipTest("ringcached is not built")
        with harness.Server(node_argv("ringcached")) as node:
            fill(node.port)
            sc = Scrape(node.port)
        self.check_up(sc)
        self.assertTrue(sc.items and sc.slabs)
        missing = sorted(self.reference.names() - sc.names())
        self.assertEqual(missing, [], "metrics memcached gives and "
                         "ringcached does not")
        self.assertEqual(sc.settings["maxconns"],
                         self.reference.settings["maxconns"])

    def test_ringproxy(self):
        kinds = ["memcached"] + (["ringcached"] if ph.have_ringcached()
                                 else [])
        for kind in kinds:
            with self.subTest(kind=kind), ph.Cluster(3, kind=kind) as cl:
                fill(cl.port)
                sc = Scrape(cl.port)
                self.check_up(sc)
                want = {"stats:" + k for k in (
                    "version", "uptime", "time", "rusage_user",
                    "rusage_system", "bytes_read", "bytes_written",
                    "curr_connections", "total_connections",
                    "rejected_connections", "listen_disabled_num",
                    "accepting_conns", "cmd_set", "cmd_flush",
                    "cas_badval", "proxy_req_active",
                    "proxy_config_reloads", "proxy_config_reload_fails",
                    "proxy_backend_total", "proxy_backend_marked_bad",
                    "proxy_backend_failed")}
                want |= {"stats:%s_%s" % (op, hm) for op in OPS
                         for hm in ("hits", "misses")}
                want.add("settings:maxconns")
                self.assertEqual(sorted(want - sc.metrics), [])
                # What the proxy counted is what it saw.
                self.assertEqual(sc.stats["cas_hits"], "1")
                self.assertEqual(sc.stats["cas_badval"], "1")
                self.assertEqual(sc.stats["incr_misses"], "1")
                self.assertEqual(sc.stats["touch_hits"], "1")
                self.assertEqual(sc.stats["proxy_backend_total"], "3")


if __name__ == "__main__":
    harness.main()
