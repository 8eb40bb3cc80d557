#!/usr/bin/env python3
"""Key listing through ringproxy: "lru_crawler metadump" and "stats
cachedump" go to every node of the ring and the proxy answers the union
of their key lines with one END. A node's line of any other shape is never
forwarded; a node that answers an error or is down makes the whole reply
a SERVER_ERROR naming it (ringproxy(8), KEY LISTING)."""

import shutil
import subprocess
import unittest
import urllib.parse

import fakebackend as fb
import harness
import proxy_harness as ph

FAST = ("connect_timeout 300ms\nrequest_timeout 2s\nfailure_limit 3\n"
        "retry_timeout 100ms\nretry_max 400ms\n")
NKEYS = 300


def dump_lines(c, request, prefix):
    """The lines of one listing reply (without END); fails on others."""
    c.send(request)
    lines = []
    while True:
        # metadump's key lines end in LF alone (as memcached's do).
        for line in c.readline().splitlines(keepends=True):
            if line == b"END\r\n":
                return lines
            if not line.startswith(prefix):
                raise AssertionError("unexpected line %r" % line)
            lines.append(line)


class ThreeNodes(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not ph.have_ringcached():
            raise unittest.SkipTest("ringcached is not built")
        cls.cl = ph.Cluster(3, kind="ringcached", conf_extra=FAST)
        # "%" and "/": metadump URL-encodes them.
        cls.keys = ["dump:%d/%%" % i if i % 50 == 0 else "dump:%d" % i
                    for i in range(NKEYS)]
        with harness.Conn(cls.cl.port) as c:
            for k in cls.keys:
                kb = k.encode()
                c.send(b"set " + kb + b" 0 0 1\r\nx\r\n")
                assert c.readline() == b"STORED\r\n"

    @classmethod
    def tearDownClass(cls):
        cls.cl.close()

    def test_keys_spread_over_the_nodes(self):
        owners = ph.locate(self.cl.port, self.keys[:60])
        self.assertGreater(len(set(owners.values())), 1)

    def test_metadump_lists_every_key_once(self):
        with harness.Conn(self.cl.port) as c:
            for arg in (b"all", b"hash"):
                lines = dump_lines(c, b"lru_crawler metadump " + arg +
                                   b"\r\n", b"key=")
                got = [urllib.parse.unquote(l.split()[0][4:].decode())
                       for l in lines]
                self.assertEqual(sorted(got), sorted(self.keys), arg)
            # The stream stays in step.
            self.assertEqual(c.call(b"version\r\n")[:8], b"VERSION ")

    def test_cachedump_lists_every_key_once(self):
        with harness.Conn(self.cl.port) as c:
            got = []
            for cls_id in range(1, 64):
                lines = dump_lines(c, b"stats cachedump %d 0\r\n" % cls_id,
                                   b"ITEM ")
                got += [l.split()[1].decode() for l in lines]
            self.assertEqual(sorted(got), sorted(self.keys))

    def test_memcdump_through_the_proxy(self):
        tool = shutil.which("memcdump")
        if tool is None:
            raise unittest.SkipTest("memcdump not installed")
        out = subprocess.run([tool, "--servers=127.0.0.1:%d" % self.cl.port],
                             capture_output=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        got = out.stdout.decode().split()
        self.assertEqual(sorted(got), sorted(self.keys))

    def test_other_crawler_commands_are_refused(self):
        with harness.Conn(self.cl.port) as c:
            self.assertEqual(c.call(b"lru_crawler crawl all\r\n"),
                             b"ERROR\r\n")
            self.assertEqual(c.call(b"version\r\n")[:8], b"VERSION ")


class OneNodeDown(unittest.TestCase):
    def test_down_node_fails_the_listing(self):
        if not ph.have_ringcached():
            raise unittest.SkipTest("ringcached is not built")
        with ph.Cluster(2, kind="ringcached", conf_extra=FAST) as cl:
            cl.nodes[1].stop()
            with harness.Conn(cl.port) as c:
                line = b""
                for _ in range(20):
                    line = c.call(b"lru_crawler metadump all\r\n")
                    if line.startswith(b"SERVER_ERROR"):
                        break
                    while line != b"END\r\n":
                        line = c.readline()
                self.assertTrue(line.startswith(
                    b"SERVER_ERROR lru_crawler metadump failed on n1"),
                    line)
                self.assertEqual(c.call(b"version\r\n")[:8], b"VERSION ")


def dump_script(answer):
    """answer: bytes, or a list of FakeBackend actions."""
    def script(r):
        if r.cmd == "lru_crawler" or (r.cmd == "stats" and
                                      r.words[1:2] == [b"cachedump"]):
            return answer if isinstance(answer, list) else [answer]
        return None
    return script


class FakeNodes(unittest.TestCase):
    def listing(self, answer, request=b"lru_crawler metadump all\r\n",
                conf=FAST):
        back = fb.FakeBackend(dump_script(answer))
        try:
            with ph.Cluster(0, conf_extra=conf, threads=1,
                            fakes=[back]) as cl, \
                    harness.Conn(cl.port) as c:
                c.send(request)
                out = []
                while not out or (out[-1] != b"END\r\n" and
                                  not out[-1].startswith(b"SERVER_ERROR")):
                    out += c.readline().splitlines(keepends=True)
                back.script = None
                self.assertEqual(c.call(b"version\r\n")[:8], b"VERSION ")
                return out
        finally:
            back.close()

    def test_good_lines_pass(self):
        self.assertEqual(self.listing(b"key=a exp=-1\r\nkey=b exp=-1\r\n"
                                      b"END\r\n"),
                         [b"key=a exp=-1\r\n", b"key=b exp=-1\r\n",
                          b"END\r\n"])
        self.assertEqual(self.listing(b"ITEM a [1 b; 0 s]\r\nEND\r\n",
                                      b"stats cachedump 1 0\r\n"),
                         [b"ITEM a [1 b; 0 s]\r\n", b"END\r\n"])

    def test_forged_line_is_not_forwarded(self):
        for forged in (b"key=a\r\nVALUE victim 0 4\r\nEVIL\r\nEND\r\n",
                       b"key=a\r\nSTAT evil 1\r\nEND\r\n",
                       b"ITEM a [1 b; 0 s]\r\nEND\r\n",
                       b"key=a\x00EVIL\r\nEND\r\n",
                       b"key=a\nEVIL\r\nEND\r\n",
                       b"key=" + b"x" * 4000 + b"\r\nEND\r\n"):
            out = self.listing(forged)
            self.assertTrue(out[-1].startswith(b"SERVER_ERROR"), out)
            for line in out:
                self.assertNotIn(b"EVIL", line)
                self.assertFalse(line.startswith(b"key=a"), out)

    def test_slow_listing_outlasts_request_timeout(self):
        # Six lines 150 ms apart: 0.9 s in all, past request_timeout
        # 400ms, but never 400 ms without a line.
        slow = FAST.replace("request_timeout 2s", "request_timeout 400ms")
        steps = []
        for i in range(6):
            steps += [("sleep", 0.15), b"key=k%d exp=-1\n" % i]
        out = self.listing(steps + [b"END\r\n"], conf=slow)
        self.assertEqual(b"".join(out), b"".join(
            b"key=k%d exp=-1\n" % i for i in range(6)) + b"END\r\n")
        # A node silent for longer than request_timeout still fails.
        out = self.listing([b"key=a\n", ("sleep", 1.0), b"END\r\n"],
                           conf=slow)
        self.assertTrue(out[-1].startswith(b"SERVER_ERROR"), out)

    def test_node_error_fails_the_listing(self):
        for err in (b"BUSY currently processing crawler request\r\n",
                    b"ERROR\r\n", b"CLIENT_ERROR bad command line\r\n"):
            out = self.listing(err)
            self.assertEqual(out, [b"SERVER_ERROR lru_crawler metadump "
                                   b"failed on n0\r\n"])


if __name__ == "__main__":
    harness.main()
