"""ringcached's memory under pressure (issue 12): a workload shift from
small to large values, memcached test-suite cases that must evict and
never fail or corrupt, -M, the -m minimum for -I, and the slabs
commands."""

import random
import socket
import subprocess
import time
import unittest

import harness
import nodelib


def get(c, key):
    """The value of `key`, or None."""
    c.send("get %s\r\n" % key)
    line = c.readline()
    if line == b"END\r\n":
        return None
    assert line.startswith(b"VALUE "), line
    n = int(line.split()[3])
    data = c.read_exact(n + 2)[:-2]
    assert c.readline() == b"END\r\n"
    return data


def store(c, cmd, key, value):
    c.send(b"%s %s 0 0 %d\r\n%s\r\n" % (cmd.encode(), key.encode(),
                                         len(value), value))
    return c.readline()


class ShiftTest(unittest.TestCase):
    def test_large_values_after_small_ones(self):
        """-m 64 filled with 100-byte values (~200 MB written), then 400
        values of 50 KiB per round, a second apart: >= 90% readable after
        the first round, >= 95% after the fifth."""
        with nodelib.node("-m", "64") as srv, harness.Conn(srv.port) as c:
            small = b"s" * 100
            batch = []
            for i in range(2000000):
                batch.append(b"set small%d 0 0 100 noreply\r\n%s\r\n"
                             % (i, small))
                if len(batch) == 20000:
                    c.send(b"".join(batch) + b"mn\r\n")
                    self.assertEqual(c.readline(), b"MN\r\n")
                    batch = []
            time.sleep(1)
            large = b"L" * (50 * 1024)
            rates = []
            for r in range(5):
                keys = ["large%d-%d" % (r, i) for i in range(400)]
                c.send(b"".join(b"set %s 0 0 %d\r\n%s\r\n"
                                % (k.encode(), len(large), large)
                                for k in keys))
                for _ in keys:
                    self.assertEqual(c.readline(), b"STORED\r\n")
                ok = 0
                for k in keys:
                    v = get(c, k)
                    self.assertIn(v, (None, large), "never corrupt")
                    ok += v is not None
                rates.append(ok / 400.0)
                time.sleep(1)
            harness.TapResult._diag("readable per round: %s" % rates)
            self.assertGreaterEqual(rates[0], 0.90)
            self.assertGreaterEqual(rates[4], 0.95)


class SuiteTest(unittest.TestCase):
    """Cases after memcached's own test suite."""

    def test_big_values_evict_never_fail(self):
        rnd = random.Random(12)
        with nodelib.node("-m", "48") as srv, harness.Conn(srv.port) as c:
            vals = {}
            for i in range(100):
                n = rnd.randrange(200 * 1000, 1000 * 1000)
                vals["big%d" % i] = bytes([65 + i % 26]) * n
                self.assertEqual(store(c, "set", "big%d" % i,
                                       vals["big%d" % i]), b"STORED\r\n")
            hits = 0
            for k, v in vals.items():
                got = get(c, k)
                self.assertIn(got, (None, v), "never corrupt: %s" % k)
                hits += got is not None
            self.assertGreater(hits, 20)
            # Appends and prepends, checked against a model.
            model = b"x"
            self.assertEqual(store(c, "set", "ap", model), b"STORED\r\n")
            for i in range(8000):
                piece = b"%d," % i
                if i % 2:
                    self.assertEqual(store(c, "append", "ap", piece),
                                     b"STORED\r\n")
                    model += piece
                else:
                    self.assertEqual(store(c, "prepend", "ap", piece),
                                     b"STORED\r\n")
                    model = piece + model
            self.assertEqual(get(c, "ap"), model)
            # An item of ~100 KB appended to itself.
            v = bytes(rnd.randrange(97, 123) for _ in range(100 * 1000))
            self.assertEqual(store(c, "set", "self", v), b"STORED\r\n")
            self.assertEqual(store(c, "append", "self", get(c, "self")),
                             b"STORED\r\n")
            self.assertEqual(get(c, "self"), v + v)

    def test_values_arriving_in_pieces(self):
        """set and ms whose values trickle in are read into their items."""
        with nodelib.node() as srv, harness.Conn(srv.port) as c:
            v = bytes(range(256)) * 2400          # 600 KB: chained
            for head in (b"set slow 3 0 %d\r\n" % len(v),
                         b"ms slow %d F3 O77 c\r\n" % len(v)):
                c.send(head)
                for i in range(0, len(v), 100000):
                    c.send(v[i:i + 100000])
                    time.sleep(0.02)
                c.send(b"\r\n")
                reply = c.readline()
                self.assertTrue(reply in (b"STORED\r\n",) or
                                (reply.startswith(b"HD ") and
                                 b" O77" in reply and b" c" in reply), reply)
                self.assertEqual(get(c, "slow"), v)
            c.send(b"ms quiet 3 q\r\nab")
            time.sleep(0.05)
            c.send(b"c\r\nmn\r\n")
            self.assertEqual(c.readline(), b"MN\r\n")
            self.assertEqual(get(c, "quiet"), b"abc")
            c.send(b"set bad 0 0 3\r\nab")
            time.sleep(0.05)
            c.send(b"cde\r\n")
            self.assertEqual(c.readline(),
                             b"CLIENT_ERROR bad data chunk\r\n")
        # A client that leaves mid-value frees its item: the node stays
        # healthy and the key is not there.
        with nodelib.node("-m", "8") as srv:
            for i in range(20):
                s = socket.create_connection(("127.0.0.1", srv.port))
                s.sendall(b"set gone%d 0 0 1000000\r\n" % i + b"x" * 500000)
                time.sleep(0.02)
                s.close()
            with harness.Conn(srv.port) as c:
                self.assertIsNone(get(c, "gone0"))
                self.assertEqual(store(c, "set", "after", b"y" * 1000000),
                                 b"STORED\r\n")

    def test_growing_sizes(self):
        """690 sets of sizes growing x1.2 from 2 bytes to ~600 KB."""
        with nodelib.node("-m", "64") as srv, harness.Conn(srv.port) as c:
            n = 0
            for r in range(10):
                size = 2.0
                while size < 600 * 1000:
                    v = bytes([97 + n % 26]) * int(size)
                    key = "grow%d" % n
                    self.assertEqual(store(c, "set", key, v), b"STORED\r\n",
                                     "%d bytes" % len(v))
                    self.assertEqual(get(c, key), v)
                    size *= 1.2
                    n += 1
            self.assertGreaterEqual(n, 690)

    def test_every_size_up_to_4m_at_m_8(self):
        with nodelib.node("-m", "8", "-I", "4m") as srv, \
                harness.Conn(srv.port) as c:
            size = 60.0
            while size < 4 * 1024 * 1024 - 400:
                v = b"z" * int(size)
                self.assertEqual(store(c, "set", "k", v), b"STORED\r\n",
                                 "%d bytes" % len(v))
                self.assertEqual(get(c, "k"), v)
                size *= 1.25


class FlagsTest(unittest.TestCase):
    def test_m_too_small_for_I_names_the_minimum(self):
        p = subprocess.run([harness.binary("ringcached"), "-p", "0",
                            "-m", "2", "-I", "1m"],
                           capture_output=True, timeout=10)
        self.assertEqual(p.returncode, 64)
        self.assertIn(b"at least -m 3", p.stderr)

    def test_M_errors_instead_of_evicting(self):
        with nodelib.node("-m", "3", "-M") as srv, \
                harness.Conn(srv.port) as c:
            v = b"v" * 100
            replies = set()
            for i in range(40000):
                r = store(c, "set", "k%d" % i, v)
                replies.add(r)
                if r != b"STORED\r\n":
                    break
            self.assertIn(b"SERVER_ERROR out of memory storing object\r\n",
                          replies)
            self.assertEqual(get(c, "k0"), v, "nothing was evicted")
            self.assertEqual(nodelib.stats(srv.port, "settings")[
                "evictions"], "off")

    def test_C_reports_zero_cas(self):
        with nodelib.node("-C") as srv, harness.Conn(srv.port) as c:
            self.assertEqual(store(c, "set", "k", b"v"), b"STORED\r\n")
            c.send("gets k\r\n")
            self.assertEqual(c.readline(), b"VALUE k 0 1 0\r\n")


class SlabsTest(unittest.TestCase):
    def test_slabs_commands(self):
        with nodelib.node() as srv, harness.Conn(srv.port) as c:
            self.assertEqual(store(c, "set", "k", b"v" * 10), b"STORED\r\n")
            for cmd, want in [
                    ("slabs automove 0", b"OK"),
                    ("slabs automove 2", b"OK"),
                    ("slabs automove 1", b"OK"),
                    ("slabs automove 3", b"ERROR"),
                    ("slabs automove x", b"CLIENT_ERROR bad command line "
                                         b"format"),
                    ("slabs reassign 1 x", b"CLIENT_ERROR bad command line "
                                           b"format"),
                    ("slabs reassign 2 2", b"SAME src and dst class are "
                                           b"identical"),
                    ("slabs reassign 1 999", b"BADCLASS invalid src or dst "
                                             b"class id"),
                    ("slabs reassign 5 1", b"NOSPARE source class has no "
                                           b"spare pages"),
                    ("slabs bogus", b"ERROR")]:
                self.assertEqual(c.call(cmd + "\r\n"), want + b"\r\n", cmd)
            self.assertEqual(c.call("slabs automove 2\r\n"), b"OK\r\n")
            self.assertEqual(nodelib.stats(srv.port, "settings")[
                "slab_automove"], "2")


if __name__ == "__main__":
    harness.main()
