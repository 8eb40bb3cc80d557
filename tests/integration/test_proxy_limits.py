"""ringproxy's operational limits.

Descriptors: at start the proxy raises its soft RLIMIT_NOFILE to cover
client_limit, the backend connections (twice the nodes, for reloads), the
probes and its own descriptors, or refuses to start naming the numbers;
with every client slot taken, backend reconnects and health probes still
get descriptors. Names: a node name over 128 bytes is refused with
file:line by ringproxy (at start and on reload) and by `ringtool check`.
"""

import os
import re
import resource
import signal
import subprocess
import tempfile
import time
import unittest

import harness
import proxy_harness as ph


def prlimit_argv(soft, hard, argv=()):
    """argv under RLIMIT_NOFILE soft:hard (hard None: the current one, as
    raising it needs privileges)."""
    if hard is None:
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    return [harness.system_binary("prlimit", "util-linux"),
            "--nofile=%d:%d" % (soft, hard), "--"] + list(argv)


def run_to_exit(argv):
    """Start a server that should refuse to start: (exit status, log)."""
    srv = harness.Server(argv, wait=False)
    try:
        rc = srv.proc.wait(10)
        return rc, srv.output()
    finally:
        srv.stop()


def soft_nofile(pid):
    with open("/proc/%d/limits" % pid) as f:
        for line in f:
            if line.startswith("Max open files"):
                return int(line.split()[3])
    raise AssertionError("no open files limit")


NEED_RE = re.compile(r"need (\d+) descriptors \((\d+) clients \+ (\d+) "
                     r"backend connections \+ (\d+) probes \+ (\d+) for the "
                     r"proxy itself\)")
RAISED_RE = re.compile(r"raised the soft limit on open files to (\d+) "
                       r"descriptors \((\d+) clients \+ (\d+) backend "
                       r"connections \+ (\d+) probes \+ (\d+) for the proxy "
                       r"itself\)")


class Descriptors(unittest.TestCase):
    def conf(self, d, extra, nodes=((("n0", 1),))):
        path = os.path.join(d, "ringproxy.conf")
        with open(path, "w") as f:
            f.write("listen 127.0.0.1:1\n" + extra)
            for name, port in nodes:
                f.write("node %s 127.0.0.1:%d 1\n" % (name, port))
        return path

    def test_refuses_to_start_when_the_hard_limit_is_too_low(self):
        with tempfile.TemporaryDirectory() as d:
            path = self.conf(d, "threads 2\nclient_limit 1000\n"
                             "backend_connections 2\n",
                             [("n0", 1), ("n1", 2), ("n2", 3)])
            rc, out = run_to_exit(prlimit_argv(64, 300, [
                harness.binary("ringproxy"), "-c", path, "-l",
                "127.0.0.1:{port}"]))
            self.assertEqual(rc, 1, out)
            m = NEED_RE.search(out)
            self.assertIsNotNone(m, out)
            total, clients, backends, probes, fixed = map(int, m.groups())
            # 2 threads x 2 connections x (3 nodes, twice for reloads).
            self.assertEqual((clients, backends, probes), (1000, 24, 6))
            self.assertEqual(total, clients + backends + probes + fixed)
            self.assertIn("hard limit on open files (RLIMIT_NOFILE, ulimit "
                          "-Hn) is 300", out)
            # --check says the same (systemd runs it in ExecStartPre).
            r = subprocess.run(prlimit_argv(64, 300, [
                harness.binary("ringproxy"), "--check", "-c", path]),
                capture_output=True, timeout=30)
            self.assertEqual(r.returncode, 1)
            self.assertIn(m.group(0), r.stderr.decode())
            r = subprocess.run(prlimit_argv(64, total, [
                harness.binary("ringproxy"), "--check", "-c", path]),
                capture_output=True, timeout=30)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn(b", %d descriptors" % total, r.stdout)

    def test_raises_the_soft_limit(self):
        with tempfile.TemporaryDirectory() as d:
            path = self.conf(d, "threads 2\nclient_limit 1000\n",
                             [("n0", 1), ("n1", 2)])
            with harness.Server(prlimit_argv(64, None, [
                    harness.binary("ringproxy"), "-c", path, "-l",
                    "127.0.0.1:{port}"])) as srv:
                m = RAISED_RE.search(srv.output())
                self.assertIsNotNone(m, srv.output())
                total = int(m.group(1))
                self.assertEqual(soft_nofile(srv.proc.pid), total)
                self.assertGreater(total, 1000 + 2 * 2)

    def test_reload_that_would_not_fit_is_refused(self):
        # Start needs about 100 + 2 + 2 + 73 descriptors (one node, room
        # for two); 30 more nodes would need ~60 more than the hard 200.
        with ph.Cluster(1, conf_extra="client_limit 100\n",
                        threads=1, wrap=prlimit_argv(200, 200)) as cl:
            text = cl.conf_text()
            for i in range(30):
                text += "node x%d 127.0.0.1:%d 1\n" % (i, 40000 + i)
            cl.write_conf(text)
            cl.reload()
            cl.wait_stat("reload_failures", lambda v: v == "1")
            st = cl.stats()
            self.assertRegex(st["reload_last_error"], NEED_RE)
            self.assertIn("is 200", st["reload_last_error"])
            self.assertEqual(st["ring_nodes"], "1")

    def test_backends_keep_descriptors_when_clients_take_every_slot(self):
        # Started with a soft limit far below client_limit: without the
        # raise, the clients alone would exhaust it.
        limit = 120
        with ph.Cluster(2, conf_extra="client_limit %d\nfailure_limit 1\n"
                        "retry_timeout 50ms\nretry_max 200ms\n" % limit,
                        wrap=prlimit_argv(40, None)) as cl:
            owner = ph.locate(cl.port, ["dk%d" % i for i in range(40)])
            k1 = [k for k, n in owner.items() if n == "n1"][0]
            cl.wait_stat("curr_connections", lambda v: v == "1")
            conns = []
            try:
                while len(conns) < limit:
                    c = harness.Conn(cl.port)
                    conns.append(c)
                    # Every client is really served (not stuck in the
                    # backlog): it gets an answer.
                    self.assertEqual(c.call("version\r\n")[:8], b"VERSION ")
                # One more is refused at accept, with memcached's line.
                with harness.Conn(cl.port) as extra:
                    self.assertEqual(extra.readline(),
                                     b"SERVER_ERROR Too many open "
                                     b"connections\r\n")
                c = conns[0]
                self.assertEqual(c.call("set %s 0 0 1\r\na\r\n" % k1),
                                 b"STORED\r\n")
                # n1 dies: marked down; it comes back on the same port.
                port = cl.nodes[1].port
                cl.nodes[1].stop(signal.SIGKILL)
                self.assertTrue(c.call("get %s\r\n" % k1).startswith(
                    b"SERVER_ERROR"))
                cl.nodes[1] = cl.start_node(port)
                # The probe (a new descriptor) finds it up again ...
                deadline = time.monotonic() + 10
                state = None
                while time.monotonic() < deadline and state != "up":
                    c.send("stats nodes\r\n")
                    for line in c.read_until_end().decode().splitlines():
                        if line.startswith("STAT n1:state "):
                            state = line.split()[2]
                    time.sleep(0.05)
                self.assertEqual(state, "up", cl.proxy.output()[-2000:])
                # ... and the worker reconnects (another new descriptor).
                for c in conns[:8]:
                    self.assertEqual(c.call("set %s 0 0 1\r\nb\r\n" % k1),
                                     b"STORED\r\n")
                    self.assertEqual(c.call("get %s\r\n" % k1),
                                     b"VALUE %s 0 1\r\n" % k1.encode())
                    self.assertEqual(c.readline(), b"b\r\n")
                    self.assertEqual(c.readline(), b"END\r\n")
                self.assertNotIn("Too many open files", cl.proxy.output())
            finally:
                for c in conns:
                    c.close()


class Names(unittest.TestCase):
    LONG = "n" * 129

    def test_long_name_refused_at_start_and_by_ringtool(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "ringproxy.conf")
            with open(path, "w") as f:
                f.write("# cluster\nnode ok 127.0.0.1:1 1\n"
                        "node %s 127.0.0.1:2 1\n" % self.LONG)
            want = "%s:3: node name longer than 128 bytes" % path
            r = subprocess.run([harness.binary("ringtool"), "check", "-c",
                                path], capture_output=True, timeout=30)
            self.assertEqual(r.returncode, 1)
            self.assertIn(want, r.stderr.decode())
            r = subprocess.run([harness.binary("ringproxy"), "--check", "-c",
                                path], capture_output=True, timeout=30)
            self.assertEqual(r.returncode, 1)
            self.assertIn(want, r.stderr.decode())
            rc, out = run_to_exit([harness.binary("ringproxy"), "-c", path,
                                   "-l", "127.0.0.1:{port}"])
            self.assertEqual(rc, 1)
            self.assertIn(want, out)

    def test_long_name_refused_on_reload(self):
        with ph.Cluster(2) as cl:
            names = cl.names[:]
            cl.write_conf(cl.conf_text(names=[names[0], self.LONG]))
            cl.reload()
            cl.wait_stat("reload_failures", lambda v: v == "1")
            st = cl.stats()
            self.assertRegex(st["reload_last_error"],
                             r"ringproxy\.conf:\d+: node name longer than "
                             r"128 bytes")
            self.assertEqual(st["ring_nodes"], "2")
            with harness.Conn(cl.port) as c:
                self.assertEqual(c.call("set a 0 0 1\r\nx\r\n"),
                                 b"STORED\r\n")


if __name__ == "__main__":
    harness.main()
