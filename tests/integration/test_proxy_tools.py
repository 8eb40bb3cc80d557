"""libmemcached's command-line tools through ringproxy: memccapable -a (the
ASCII protocol conformance suite), memccp, memccat and memcstat, in front
of stock memcached nodes (and ringcached when built)."""

import os
import subprocess
import tempfile
import unittest

import harness
import proxy_harness as ph


class Tools(ph.ClusterCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.servers = "--servers=127.0.0.1:%d" % cls.cl.port

    def run_tool(self, argv, timeout=60):
        return subprocess.run(argv, capture_output=True, timeout=timeout)

    def test_memccapable_ascii(self):
        tool = harness.system_binary("memccapable", "libmemcached-tools")
        r = self.run_tool([tool, "-a", "-h", "127.0.0.1", "-p",
                           str(self.cl.port), "-t", "5"])
        out = r.stdout.decode(errors="replace")
        self.assertEqual(r.returncode, 0, out + r.stderr.decode())
        self.assertIn("All tests passed", out)
        self.assertNotIn("[FAIL]", out)

    def test_memccp_memccat(self):
        cp = harness.system_binary("memccp", "libmemcached-tools")
        cat = harness.system_binary("memccat", "libmemcached-tools")
        with tempfile.TemporaryDirectory() as d:
            files = []
            for i in range(12):
                p = os.path.join(d, "file%d.txt" % i)
                with open(p, "wb") as f:
                    f.write(os.urandom(100 + i * 997).hex().encode())
                files.append(p)
            r = self.run_tool([cp, self.servers] + files)
            self.assertEqual(r.returncode, 0, r.stderr)
            for p in files:
                r = self.run_tool([cat, self.servers, os.path.basename(p)])
                self.assertEqual(r.returncode, 0, r.stderr)
                with open(p, "rb") as f:
                    # memccat ends what it prints with a newline.
                    self.assertEqual(r.stdout, f.read() + b"\n")
            # The files landed on more than one node.
            holders = {port for port in self.cl.node_ports()
                       for p in files
                       if ph.node_has(port, os.path.basename(p))}
            self.assertGreater(len(holders), 1)

    def test_memcstat(self):
        tool = harness.system_binary("memcstat", "libmemcached-tools")
        r = self.run_tool([tool, self.servers])
        out = r.stdout.decode()
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("version: 1.6.18-ringproxy-", out)
        self.assertIn("curr_connections:", out)
        self.assertIn("cmd_get:", out)
        # Per-node stats live in "stats nodes", not in "stats".
        self.assertNotIn("node:", out)


class ToolsRingcached(Tools):
    kind = "ringcached"


if __name__ == "__main__":
    harness.main()
