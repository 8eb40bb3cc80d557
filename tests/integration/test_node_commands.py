"""ringcached with real clients: pymemcache through every command, and the
raw text protocol for exact replies, pipelining and large values."""

import socket
import unittest

import harness
import nodelib

try:
    from pymemcache.client.base import Client
except ImportError:  # pragma: no cover - the Debian package is missing
    Client = None


def need_pymemcache():
    if Client is None:
        raise unittest.SkipTest("apt-get install python3-pymemcache")


class PymemcacheTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        need_pymemcache()
        cls.srv = nodelib.node()
        cls.mc = Client(("127.0.0.1", cls.srv.port), timeout=5,
                        connect_timeout=5)

    @classmethod
    def tearDownClass(cls):
        cls.mc.close()
        rc = cls.srv.stop()
        cls.srv.__exit__()
        if rc != 0:
            raise AssertionError("ringcached exited %d" % rc)

    def setUp(self):
        self.mc.flush_all()

    def test_set_get_delete(self):
        self.assertTrue(self.mc.set("a", b"1"))
        self.assertEqual(self.mc.get("a"), b"1")
        self.assertTrue(self.mc.delete("a"))
        self.assertIsNone(self.mc.get("a"))
        self.assertFalse(self.mc.delete("a", noreply=False))

    def test_flags_roundtrip(self):
        self.mc.set("f", b"v", flags=12345, noreply=False)
        got = nodelib.exchange(self.srv.port, b"get f\r\n")
        self.assertEqual(got, b"VALUE f 12345 1\r\nv\r\nEND\r\n")
        res = self.mc.gets_many(["f"])
        self.assertEqual(res["f"][0], b"v")

    def test_add_replace(self):
        self.assertTrue(self.mc.add("k", b"1", noreply=False))
        self.assertFalse(self.mc.add("k", b"2", noreply=False))
        self.assertTrue(self.mc.replace("k", b"3", noreply=False))
        self.assertFalse(self.mc.replace("missing", b"3", noreply=False))
        self.assertEqual(self.mc.get("k"), b"3")

    def test_append_prepend(self):
        self.mc.set("s", b"mid")
        self.assertTrue(self.mc.append("s", b"-end", noreply=False))
        self.assertTrue(self.mc.prepend("s", b"start-", noreply=False))
        self.assertEqual(self.mc.get("s"), b"start-mid-end")
        self.assertFalse(self.mc.append("none", b"x", noreply=False))

    def test_gets_cas(self):
        self.mc.set("c", b"1")
        value, cas = self.mc.gets("c")
        self.assertEqual(value, b"1")
        self.assertTrue(self.mc.cas("c", b"2", cas, noreply=False))
        self.assertFalse(self.mc.cas("c", b"3", cas, noreply=False))
        self.assertIsNone(self.mc.cas("absent", b"3", cas, noreply=False))
        self.assertEqual(self.mc.get("c"), b"2")

    def test_incr_decr(self):
        self.mc.set("n", b"10")
        self.assertEqual(self.mc.incr("n", 5, noreply=False), 15)
        self.assertEqual(self.mc.decr("n", 100, noreply=False), 0)
        self.assertIsNone(self.mc.incr("absent", 1, noreply=False))
        self.mc.set("big", b"18446744073709551615")
        self.assertEqual(self.mc.incr("big", 1, noreply=False), 0)

    def test_touch_gat(self):
        self.mc.set("t", b"v", expire=100)
        self.assertTrue(self.mc.touch("t", 200, noreply=False))
        self.assertFalse(self.mc.touch("absent", 200, noreply=False))
        # This pymemcache has no gat/gats: the raw protocol does it.
        got = nodelib.exchange(self.srv.port, b"gat 300 t\r\ngats 300 t\r\n")
        self.assertRegex(got, rb"\AVALUE t 0 1\r\nv\r\nEND\r\n"
                         rb"VALUE t 0 1 \d+\r\nv\r\nEND\r\n\Z")
        self.assertEqual(self.mc.gets("t")[0], b"v")

    def test_many(self):
        data = {"m%d" % i: b"value-%d" % i for i in range(50)}
        self.assertEqual(self.mc.set_many(data, noreply=False), [])
        got = self.mc.get_many(list(data) + ["absent"])
        self.assertEqual(got, data)
        self.mc.delete_many(list(data))
        self.assertEqual(self.mc.get_many(list(data)), {})

    def test_noreply_set_many(self):
        data = {"q%d" % i: b"x" * i for i in range(1, 40)}
        self.mc.set_many(data, noreply=True)
        self.assertEqual(self.mc.get("q39"), b"x" * 39)

    def test_flush_stats_version_verbosity(self):
        self.mc.set("x", b"1")
        self.assertTrue(self.mc.flush_all(noreply=False))
        self.assertIsNone(self.mc.get("x"))
        st = self.mc.stats()
        for name in (b"pid", b"uptime", b"curr_connections", b"cmd_get",
                     b"get_hits", b"curr_items", b"limit_maxbytes",
                     b"threads"):
            self.assertIn(name, st)
        self.assertEqual(st[b"threads"], 2)
        self.assertTrue(self.mc.version().startswith(b"1.6.18"))
        self.assertEqual(nodelib.exchange(self.srv.port, b"verbosity 0\r\n"),
                         b"OK\r\n")
        settings = self.mc.stats("settings")
        self.assertEqual(settings[b"maxconns"], 1024)
        self.assertIn(b"item_size_max", settings)
        self.assertIsInstance(self.mc.stats("items"), dict)
        self.assertIn(b"total_malloced", self.mc.stats("slabs"))

    def test_large_value(self):
        v = bytes(range(256)) * 4000  # 1,024,000 bytes
        self.assertTrue(self.mc.set("big", v, noreply=False))
        self.assertEqual(self.mc.get("big"), v)


class RawProtocolTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = nodelib.node()

    @classmethod
    def tearDownClass(cls):
        # A clean drain exits 0 (under ASan, also: nothing leaked).
        rc = cls.srv.stop()
        cls.srv.__exit__()
        if rc != 0:
            raise AssertionError("ringcached exited %d" % rc)

    def ex(self, data):
        return nodelib.exchange(self.srv.port, data)

    def test_exact_replies(self):
        self.ex(b"flush_all\r\n")
        cases = [
            (b"set k 5 0 3\r\nabc\r\n", b"STORED\r\n"),
            (b"get k\r\n", b"VALUE k 5 3\r\nabc\r\nEND\r\n"),
            (b"add k 0 0 1\r\nx\r\n", b"NOT_STORED\r\n"),
            (b"replace nope 0 0 1\r\nx\r\n", b"NOT_STORED\r\n"),
            (b"delete nope\r\n", b"NOT_FOUND\r\n"),
            (b"incr nope 1\r\n", b"NOT_FOUND\r\n"),
            (b"touch k 10\r\n", b"TOUCHED\r\n"),
            (b"touch nope 10\r\n", b"NOT_FOUND\r\n"),
            (b"gat 0 k nope\r\n", b"VALUE k 5 3\r\nabc\r\nEND\r\n"),
            (b"flush_all 0\r\n", b"OK\r\n"),
            (b"verbosity 1\r\n", b"OK\r\n"),
            (b"verbosity 0 noreply\r\nget k\r\n", b"END\r\n"),
            (b"version\r\n", None),
            (b"get a\r\nquit\r\n", b"END\r\n<EOF>"),
        ]
        for req, want in cases:
            got = self.ex(req)
            if want is None:
                self.assertTrue(got.startswith(b"VERSION 1.6.18"), got)
            else:
                self.assertEqual(got, want, req)

    def test_pipelined_batch(self):
        reqs = b"".join(b"set p%d 0 0 2\r\n%02d\r\n" % (i, i)
                        for i in range(100))
        reqs += b"".join(b"get p%d\r\n" % i for i in range(100))
        reqs += b"get " + b" ".join(b"p%d" % i for i in range(100)) + b"\r\n"
        got = self.ex(reqs)
        want = b"STORED\r\n" * 100
        want += b"".join(b"VALUE p%d 0 2\r\n%02d\r\nEND\r\n" % (i, i)
                         for i in range(100))
        want += b"".join(b"VALUE p%d 0 2\r\n%02d\r\n" % (i, i)
                         for i in range(100)) + b"END\r\n"
        self.assertEqual(got, want)

    def test_byte_at_a_time(self):
        with socket.create_connection(("127.0.0.1", self.srv.port)) as s:
            for b in b"set slow 0 0 5\r\nhello\r\nget slow\r\n":
                s.sendall(bytes([b]))
            got = nodelib.drain(s)
        self.assertEqual(got, b"STORED\r\nVALUE slow 0 5\r\nhello\r\nEND\r\n")

    def test_value_split_across_reads(self):
        v = b"z" * 300000
        with socket.create_connection(("127.0.0.1", self.srv.port)) as s:
            s.sendall(b"set split 0 0 %d\r\n" % len(v))
            for i in range(0, len(v), 65536):
                s.sendall(v[i:i + 65536])
            s.sendall(b"\r\nget split\r\n")
            got = nodelib.drain(s)
        self.assertEqual(got, b"STORED\r\nVALUE split 0 %d\r\n%s\r\nEND\r\n"
                         % (len(v), v))

    def test_many_values_one_get(self):
        n = 400  # more values than one writev carries
        body = b"".join(b"set v%d 0 0 10\r\n%010d\r\n" % (i, i)
                        for i in range(n))
        self.assertEqual(self.ex(body), b"STORED\r\n" * n)
        got = self.ex(b"get " + b" ".join(b"v%d" % i for i in range(n))
                      + b"\r\n")
        want = b"".join(b"VALUE v%d 0 10\r\n%010d\r\n" % (i, i)
                        for i in range(n)) + b"END\r\n"
        self.assertEqual(got, want)


if __name__ == "__main__":
    harness.main()
