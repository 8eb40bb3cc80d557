"""Wrong protocols on the first line, node and proxy alike (the rule lives in
src/proto): an HTTP request line closes the connection without a reply, as
memcached 1.6.18 does, and a binary-protocol request (first byte 0x80)
closes it at once, so binary clients (memcstat --binary, pylibmc
binary=True) get their error in well under a second instead of waiting
for their timeout."""

import os
import socket
import subprocess
import time
import unittest

import harness
import nodelib
import proxy_harness

HTTP_LINES = (b"GET / HTTP/1.0\r\n", b"PUT /x HTTP/1.1\r\nHost: a\r\n\r\n",
              b"DELETE HTTP/1.1\r\n", b"POST /api HTTP/1.1\r\n")
# A binary "get foo" header (24 bytes) and its key.
BINARY_GET = bytes([0x80, 0x00, 0x00, 0x03]) + bytes(4) + \
    (3).to_bytes(4, "big") + bytes(12) + b"foo"


def closed_within(port, data, seconds=1.0):
    """Send data; return (bytes received, seconds until EOF or None)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        t0 = time.monotonic()
        s.sendall(data)
        out = b""
        s.settimeout(seconds)
        try:
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    return out, time.monotonic() - t0
                out += chunk
        except socket.timeout:
            return out, None
        except ConnectionResetError:
            return out, time.monotonic() - t0


class Detect:
    """Cases shared by node and proxy; self.port is the server's."""

    def test_http_lines_close_without_reply(self):
        for line in HTTP_LINES:
            out, t = closed_within(self.port, line, 5.0)
            self.assertEqual(out, b"", line)
            self.assertIsNotNone(t, line)

    def test_replies_before_the_http_line_are_sent(self):
        out, t = closed_within(
            self.port, b"version\r\nGET / HTTP/1.0\r\nversion\r\n", 5.0)
        self.assertIsNotNone(t)
        self.assertTrue(out.startswith(b"VERSION "), out)
        self.assertEqual(out.count(b"\r\n"), 1, out)

    def test_known_commands_and_near_misses_still_answer(self):
        out = nodelib.exchange(self.port, b"get foo HTTP/1.1\r\nGET /\r\n"
                               b"x HTTP/1.0 y\r\n")
        self.assertEqual(out, b"END\r\nERROR\r\nERROR\r\n")

    def test_binary_magic_closes_at_once(self):
        out, t = closed_within(self.port, BINARY_GET, 1.0)
        self.assertEqual(out, b"")
        self.assertIsNotNone(t, "still open after 1 s")
        # Even a lone magic byte, with no header after it.
        out, t = closed_within(self.port, b"\x80", 1.0)
        self.assertIsNotNone(t)

    def test_memcstat_binary_fails_fast(self):
        memcstat = harness.system_binary("memcstat", "libmemcached-tools")
        t0 = time.monotonic()
        r = subprocess.run([memcstat, "--binary",
                            "--servers=127.0.0.1:%d" % self.port],
                           capture_output=True, timeout=30)
        took = time.monotonic() - t0
        self.assertLess(took, 1.0, r)
        self.assertNotIn(b"pid", r.stdout)

    def test_pylibmc_binary_fails_fast(self):
        try:
            import pylibmc
        except ImportError:
            raise unittest.SkipTest("python3-pylibmc not installed")
        mc = pylibmc.Client(["127.0.0.1:%d" % self.port], binary=True,
                            behaviors={"connect_timeout": 5000,
                                       "receive_timeout": 5000000,
                                       "send_timeout": 5000000})
        t0 = time.monotonic()
        with self.assertRaises(pylibmc.Error):
            mc.set("foo", "bar")
        self.assertLess(time.monotonic() - t0, 1.0)
        mc.disconnect_all()
        # The text protocol still works on the same server.
        mc = pylibmc.Client(["127.0.0.1:%d" % self.port])
        self.assertTrue(mc.set("foo", "bar"))
        self.assertEqual(mc.get("foo"), "bar")
        mc.disconnect_all()


class NodeDetect(Detect, unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.srv = nodelib.node()
        cls.port = cls.srv.port

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def test_binary_is_logged(self):
        closed_within(self.port, BINARY_GET, 1.0)
        self.assertTrue(nodelib.wait_for(
            lambda: "binary protocol" in self.srv.output()),
            self.srv.output())


class ProxyDetect(Detect, unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        if not proxy_harness.have_ringcached():
            raise unittest.SkipTest("ringcached is not built")
        cls.cl = proxy_harness.Cluster(2, kind="ringcached")
        cls.port = cls.cl.port

    @classmethod
    def tearDownClass(cls):
        cls.cl.close()


if __name__ == "__main__":
    os.environ.setdefault("LC_ALL", "C")
    harness.main()
