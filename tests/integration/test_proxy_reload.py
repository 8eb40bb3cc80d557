"""ringproxy reload (SIGHUP) and lifecycle: a reload under load adds,
removes and reweights nodes with zero errors for keys whose owner did not
change and no client connection dropped, and reports exactly the fraction
of the key space `ringtool diff` computes; an invalid file is rejected
with file:line and the old configuration keeps serving; sd_notify READY,
RELOADING, STOPPING; SIGTERM drains and exits 0; --check, -V, -h."""

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

import harness
import proxy_harness as ph

KEYS = ["rk%d" % i for i in range(64)]


def wait_log(server, text, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in server.output():
            return True
        time.sleep(0.05)
    return False


class Reload(unittest.TestCase):
    def test_reload_under_load(self):
        with ph.Cluster(3) as cl, harness.Server(ph.memcached_argv()) as n3:
            old_conf = cl.conf + ".old"
            shutil.copy(cl.conf, old_conf)
            before = ph.locate(cl.port, KEYS)
            load = ph.Load(cl.port, KEYS, nthreads=4, seconds=30)
            try:
                time.sleep(0.7)
                # n0 reweighted, n2 removed, n3 added.
                cl.write_conf(cl.conf_text(
                    names=["n0", "n1", "n3"],
                    ports=[cl.nodes[0].port, cl.nodes[1].port, n3.port],
                    weights=[2, 1, 1]))
                load.mark(1)
                cl.reload()
                cl.wait_stat("reloads", lambda v: v == "1")
                time.sleep(1.0)
                after = ph.locate(cl.port, KEYS)
                st = cl.stats()
            finally:
                load.stop()
            ok, errors = load.snapshot()
            stay = [k for k in KEYS if before[k] == after[k]]
            self.assertGreater(len(stay), 10)
            self.assertEqual({k: errors[k] for k in stay if errors[k]}, {})
            for k, es in errors.items():
                for _, e in es:
                    self.assertFalse(e.startswith(b"exception"), e)
            self.assertTrue(all(ok[k] > 0 for k in KEYS))
            self.assertNotIn("n2", after.values())
            self.assertIn("n3", after.values())
            self.assertEqual(st["reload_nodes_added"], "1")
            self.assertEqual(st["reload_nodes_removed"], "1")
            self.assertEqual(st["reload_nodes_reweighted"], "1")
            # No client connection was dropped: a load client that loses
            # its connection records an "exception" error (checked above).
            self.assertGreaterEqual(int(st["curr_connections"]), 5)
            r = subprocess.run([harness.binary("ringtool"), "--json", "diff",
                                old_conf, cl.conf], capture_output=True,
                               timeout=30)
            self.assertEqual(r.returncode, 0, r.stderr)
            moved = json.loads(r.stdout)["moved"]
            self.assertEqual(st["reload_keyspace_moved"], "%.9f" % moved)
            self.assertTrue(wait_log(cl.proxy, "1 node(s) added, 1 removed, "
                                     "1 reweighted; %.4f%%" % (100 * moved)))
            # The removed node's connections were closed once drained.
            with harness.Conn(cl.nodes[2].port) as c:
                c.send("stats\r\n")
                out = c.read_until_end().decode()
            curr = [l for l in out.splitlines()
                    if l.startswith("STAT curr_connections")][0]
            self.assertEqual(curr.split()[2], "1")  # only this one

    def test_invalid_reload_keeps_running(self):
        with ph.Cluster(3) as cl:
            gen = cl.stats()["ring_generation"]
            with harness.Conn(cl.port) as c:
                self.assertEqual(c.call("set a 0 0 1\r\nx\r\n"),
                                 b"STORED\r\n")
                cl.write_conf(cl.conf_text() + "node bad 127.0.0.1:99999 1\n")
                cl.reload()
                cl.wait_stat("reload_failures", lambda v: v == "1")
                st = cl.stats()
                self.assertEqual(st["ring_generation"], gen)
                self.assertRegex(st["reload_last_error"],
                                 r"ringproxy\.conf:\d+: ")
                self.assertTrue(wait_log(cl.proxy, "reload rejected"))
                # The same connection still works, with the old ring.
                self.assertEqual(c.call("get a\r\n"), b"VALUE a 0 1\r\n")
                c.readline()
                c.readline()
            cl.write_conf("nonsense\n")
            cl.reload()
            cl.wait_stat("reload_failures", lambda v: v == "2")
            self.assertEqual(cl.stats()["ring_nodes"], "3")


class Lifecycle(unittest.TestCase):
    def test_sd_notify_reload_and_sigterm_drain(self):
        with ph.Cluster(2) as cl, tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "notify")
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            sock.bind(path)
            sock.settimeout(5)
            env = dict(os.environ, NOTIFY_SOCKET=path)
            srv = harness.Server([harness.binary("ringproxy"), "-c", cl.conf,
                                  "-l", "127.0.0.1:{port}"], env=env)
            try:
                msgs = [sock.recv(4096).decode()]
                self.assertIn("READY=1", msgs[0])
                srv.signal(signal.SIGHUP)
                msgs.append(sock.recv(4096).decode())
                msgs.append(sock.recv(4096).decode())
                self.assertIn("RELOADING=1", msgs[1])
                self.assertIn("MONOTONIC_USEC=", msgs[1])
                self.assertIn("READY=1", msgs[2])
                # A request waiting for a (stopped) node when SIGTERM
                # arrives is still answered before the proxy exits.
                c = harness.Conn(srv.port)
                self.assertEqual(c.call("set x 0 0 1\r\nv\r\n"),
                                 b"STORED\r\n")
                for n in cl.nodes:
                    n.signal(signal.SIGSTOP)
                try:
                    c.send("get x\r\n")
                    time.sleep(0.3)
                    srv.signal(signal.SIGTERM)
                    time.sleep(0.3)
                finally:
                    for n in cl.nodes:
                        n.signal(signal.SIGCONT)
                self.assertEqual(c.read_until_end(),
                                 b"VALUE x 0 1\r\nv\r\nEND\r\n")
                self.assertIn("STOPPING=1", sock.recv(4096).decode())
                self.assertEqual(srv.proc.wait(10), 0)
                c.close()
            finally:
                srv.stop()
                sock.close()

    def test_flags(self):
        rp = harness.binary("ringproxy")
        r = subprocess.run([rp, "-V"], capture_output=True, timeout=10)
        self.assertEqual(r.returncode, 0)
        self.assertTrue(r.stdout.startswith(b"ringproxy "))
        r = subprocess.run([rp, "--help"], capture_output=True, timeout=10)
        self.assertEqual(r.returncode, 0)
        self.assertIn(b"--check", r.stdout)
        r = subprocess.run([rp, "--bogus"], capture_output=True, timeout=10)
        self.assertEqual(r.returncode, 64)
        with tempfile.TemporaryDirectory() as d:
            good = os.path.join(d, "good.conf")
            bad = os.path.join(d, "bad.conf")
            with open(good, "w") as f:
                f.write("node a 127.0.0.1:11211 1\nnode b 127.0.0.1:11212 "
                        "1\n")
            with open(bad, "w") as f:
                f.write("node a 127.0.0.1:11211 1\nfailure_policy maybe\n")
            r = subprocess.run([rp, "--check", "-c", good],
                               capture_output=True, timeout=10)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn(b"ok: 2 node(s)", r.stdout)
            r = subprocess.run([rp, "--check", "-c", bad],
                               capture_output=True, timeout=10)
            self.assertEqual(r.returncode, 1)
            self.assertIn(("%s:2: failure_policy" % bad).encode(), r.stderr)
            r = subprocess.run([rp, "-c", bad], capture_output=True,
                               timeout=10)
            self.assertEqual(r.returncode, 1)
            self.assertIn(b"bad.conf:2:", r.stderr)
            r = subprocess.run([rp, "-c", os.path.join(d, "missing")],
                               capture_output=True, timeout=10)
            self.assertEqual(r.returncode, 1)


if __name__ == "__main__":
    harness.main()
