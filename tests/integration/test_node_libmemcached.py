"""ringcached with libmemcached's tools (Debian libmemcached-tools):
memccapable's ASCII suite, and memccp/memccat/memcrm/memcstat/memcflush."""

import os
import subprocess
import tempfile
import unittest

import harness
import nodelib


def tool(name):
    return harness.system_binary(name, "libmemcached-tools")


class LibmemcachedTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = nodelib.node()
        cls.servers = "--servers=127.0.0.1:%d" % cls.srv.port

    @classmethod
    def tearDownClass(cls):
        cls.srv.__exit__()

    def run_tool(self, *argv, timeout=60):
        return subprocess.run(list(argv), capture_output=True,
                              timeout=timeout)

    def test_memccapable_ascii(self):
        r = self.run_tool(tool("memccapable"), "-h", "127.0.0.1", "-p",
                          str(self.srv.port), "-a", "-t", "5", timeout=120)
        out = r.stdout.decode(errors="replace")
        self.assertEqual(r.returncode, 0, out + r.stderr.decode())
        self.assertIn("All tests passed", out)
        self.assertNotIn("[fail]", out)

    def test_copy_cat_remove(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "payload.bin")
            data = bytes(range(256)) * 512
            with open(path, "wb") as f:
                f.write(data)
            r = self.run_tool(tool("memccp"), self.servers, path)
            self.assertEqual(r.returncode, 0, r.stderr)
        r = self.run_tool(tool("memccat"), self.servers, "payload.bin")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, data + b"\n")   # memccat adds a newline
        r = self.run_tool(tool("memcrm"), self.servers, "payload.bin")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.run_tool(tool("memccat"), self.servers, "payload.bin")
        self.assertNotEqual(r.returncode, 0, "removed key is gone")

    def test_memcstat(self):
        r = self.run_tool(tool("memcstat"), self.servers)
        self.assertEqual(r.returncode, 0, r.stderr)
        out = r.stdout.decode()
        self.assertIn("Server: 127.0.0.1 (%d)" % self.srv.port, out)
        for name in ("pid:", "uptime:", "curr_connections:", "get_hits:",
                     "limit_maxbytes:", "threads:"):
            self.assertIn(name, out)

    def test_memcflush(self):
        nodelib.exchange(self.srv.port, b"set fl 0 0 1\r\nx\r\n")
        r = self.run_tool(tool("memcflush"), self.servers)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(nodelib.exchange(self.srv.port, b"get fl\r\n"),
                         b"END\r\n")


if __name__ == "__main__":
    harness.main()
