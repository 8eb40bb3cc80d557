"""ringcached operations: signals, sd_notify, the connection limit, idle
timeout, unix sockets, shutdown, backpressure, flag refusals, stats."""

import os
import signal
import socket
import subprocess
import tempfile
import time
import unittest

import harness
import nodelib


class LifecycleTest(unittest.TestCase):
    def test_sigterm_exits_zero(self):
        srv = nodelib.node()
        c = harness.Conn(srv.port)
        self.assertEqual(c.call("set k 0 0 1\r\nx\r\n"), b"STORED\r\n")
        self.assertEqual(srv.stop(signal.SIGTERM), 0)
        self.assertTrue(c.is_closed(), "clients are closed by the drain")
        c.close()

    def test_sigint_exits_zero(self):
        srv = nodelib.node()
        self.assertEqual(srv.stop(signal.SIGINT), 0)

    def test_sd_notify(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "notify")
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            sock.bind(path)
            sock.settimeout(5)
            env = dict(os.environ, NOTIFY_SOCKET=path)
            srv = nodelib.node(env=env)
            try:
                ready = sock.recv(4096).decode()
                self.assertIn("READY=1", ready.split("\n"))
                self.assertTrue(any(x.startswith("STATUS=")
                                    for x in ready.split("\n")), ready)
                self.assertEqual(srv.stop(), 0)
                stopping = sock.recv(4096).decode()
                self.assertIn("STOPPING=1", stopping.split("\n"))
            finally:
                srv.stop()
                sock.close()

    def test_sd_notify_abstract(self):
        name = "\0ringcached-test-%d" % os.getpid()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(name)
        sock.settimeout(5)
        env = dict(os.environ, NOTIFY_SOCKET="@" + name[1:])
        srv = nodelib.node(env=env)
        try:
            self.assertIn("READY=1", sock.recv(4096).decode().split("\n"))
        finally:
            srv.stop()
            sock.close()

    def test_shutdown_command_needs_A(self):
        srv = nodelib.node("-A")
        got = nodelib.exchange(srv.port, b"shutdown\r\n")
        self.assertEqual(got, b"<EOF>")
        srv.proc.wait(10)
        self.assertEqual(srv.stop(), 0)


class FlagsTest(unittest.TestCase):
    def run_node(self, *args):
        argv = [harness.binary("ringcached")] + list(args)
        return subprocess.run(argv + harness.root_user_args(argv),
                              capture_output=True, timeout=10)

    def test_udp_refused(self):
        r = self.run_node("-U", "11211")
        self.assertEqual(r.returncode, 64)
        self.assertIn(b"UDP is not supported", r.stderr)

    def test_version_and_help(self):
        r = self.run_node("-V")
        self.assertEqual(r.returncode, 0)
        self.assertTrue(r.stdout.startswith(b"ringcached "))
        r = self.run_node("--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn(b"--max-item-size", r.stdout)

    def test_port_in_use_fails(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen()
            r = self.run_node("-p", str(s.getsockname()[1]),
                              "-l", "127.0.0.1")
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"cannot listen", r.stderr)


class LimitsTest(unittest.TestCase):
    def test_connection_limit(self):
        refused = 0

        def admitted(port):
            # A connection counts until the node notices its close, so a
            # probe that just closed may still hold a slot: retry.
            nonlocal refused
            for _ in range(100):
                c = harness.Conn(port)
                try:
                    reply = c.call("get x\r\n")
                except ConnectionError:
                    reply = None    # refused, and reset before we read
                if reply == b"END\r\n":
                    return c
                if reply is not None:
                    self.assertEqual(reply, b"SERVER_ERROR Too many open "
                                     b"connections\r\n")
                refused += 1
                c.close()
                time.sleep(0.05)
            self.fail("no slot")

        with nodelib.node("-c", "3") as srv:
            conns = [admitted(srv.port) for _ in range(3)]
            over = socket.create_connection(("127.0.0.1", srv.port))
            self.assertEqual(nodelib.drain(over),
                             b"SERVER_ERROR Too many open connections\r\n"
                             b"<EOF>")
            refused += 1
            over.close()
            for c in conns:
                self.assertEqual(c.call("get x\r\n"), b"END\r\n")
            conns[0].close()
            stats = admitted(srv.port)
            stats.send("stats\r\n")
            text = stats.read_until_end().decode()
            self.assertIn("STAT rejected_connections %d\r\n" % refused, text)
            self.assertIn("STAT max_connections 3\r\n", text)
            for c in conns[1:] + [stats]:
                c.close()

    def test_idle_timeout(self):
        with nodelib.node("-o", "idle_timeout=1") as srv:
            c = harness.Conn(srv.port)
            self.assertEqual(c.call("get x\r\n"), b"END\r\n")
            self.assertTrue(c.is_closed(timeout=4), "idle conn closed")
            c.close()

    def test_backpressure_bounds_memory(self):
        # A client that pipelines gets of a 512 KiB value and never reads:
        # the node must stop reading it rather than queue without bound.
        with nodelib.node("-m", "64") as srv:
            v = b"b" * (512 * 1024)
            self.assertEqual(nodelib.exchange(srv.port, b"set bp 0 0 %d\r\n"
                                              b"%s\r\n" % (len(v), v)),
                             b"STORED\r\n")
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.connect(("127.0.0.1", srv.port))
            s.setblocking(False)
            sent = 0
            req = b"get bp\r\n" * 8192
            deadline = time.monotonic() + 2
            while time.monotonic() < deadline and sent < (32 << 20):
                try:
                    sent += s.send(req)
                except BlockingIOError:
                    time.sleep(0.01)
            time.sleep(0.2)
            read = int(nodelib.stats(srv.port)["bytes_read"])
            # The node stopped reading once its replies to this client
            # passed the high watermark: what we sent since waits in the
            # kernel, so the node read far less than we sent.
            self.assertLess(read, 2 << 20, "node kept reading")
            self.assertGreater(sent, read + (1 << 20))
            with harness.Conn(srv.port) as c:
                self.assertEqual(c.call("get none\r\n"), b"END\r\n")
            s.close()
            self.assertTrue(nodelib.wait_for(lambda: nodelib.stats(
                srv.port)["curr_connections"] == "1", timeout=20))


class ListenTest(unittest.TestCase):
    def test_ipv6_and_several_addresses(self):
        try:
            with socket.socket(socket.AF_INET6) as probe:
                probe.bind(("::1", 0))
        except OSError:
            raise unittest.SkipTest("no IPv6 loopback here")
        port = harness.free_port()
        extra = harness.free_port()
        argv = [harness.binary("ringcached"), "-p", str(port), "-t", "1",
                "-l", "127.0.0.1,[::1],127.0.0.1:%d" % extra]
        with harness.Server(argv, port=port):
            for family, addr in ((socket.AF_INET, ("127.0.0.1", port)),
                                 (socket.AF_INET6, ("::1", port)),
                                 (socket.AF_INET, ("127.0.0.1", extra))):
                with socket.socket(family) as s:
                    s.settimeout(5)
                    s.connect(addr)
                    s.sendall(b"get x\r\n")
                    self.assertEqual(nodelib.drain(s), b"END\r\n", addr)


class UnixSocketTest(unittest.TestCase):
    def test_unix_socket(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "rc.sock")
            argv = [harness.binary("ringcached"), "-s", path, "-a", "600",
                    "-t", "1"]
            srv = harness.Server(argv, wait=False)
            try:
                ok = nodelib.wait_for(lambda: os.path.exists(path))
                self.assertTrue(ok, srv.output())
                self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
                s = socket.socket(socket.AF_UNIX)
                s.connect(path)
                s.sendall(b"set u 0 0 1\r\nx\r\nget u\r\nstats conns\r\n")
                got = nodelib.drain(s)
                self.assertTrue(got.startswith(
                    b"STORED\r\nVALUE u 0 1\r\nx\r\nEND\r\n"), got)
                self.assertIn(b":addr unix:" + path.encode(), got)
                s.close()
                self.assertEqual(srv.stop(), 0)
                self.assertFalse(os.path.exists(path), "socket removed")
            finally:
                srv.stop()


class StatsTest(unittest.TestCase):
    def test_counters_and_reset(self):
        with nodelib.node() as srv:
            nodelib.exchange(srv.port, b"set a 0 0 1\r\n1\r\nget a\r\n"
                             b"get b\r\ndelete a\r\ntouch b 1\r\n")
            st = nodelib.stats(srv.port)
            self.assertEqual(st["cmd_set"], "1")
            self.assertEqual(st["cmd_get"], "2")
            self.assertEqual(st["get_hits"], "1")
            self.assertEqual(st["get_misses"], "1")
            self.assertEqual(st["delete_hits"], "1")
            self.assertEqual(st["touch_misses"], "1")
            self.assertEqual(st["cmd_touch"], "1")
            self.assertEqual(st["curr_items"], "0")
            self.assertGreater(int(st["bytes_read"]), 50)
            self.assertGreater(int(st["bytes_written"]), 20)
            self.assertEqual(nodelib.exchange(srv.port, b"stats reset\r\n"),
                             b"RESET\r\n")
            st = nodelib.stats(srv.port)
            self.assertEqual(st["cmd_get"], "0")
            self.assertEqual(st["get_hits"], "0")

    def test_groups(self):
        with nodelib.node("-m", "32", "-c", "77") as srv:
            nodelib.exchange(srv.port, b"set a 0 0 1\r\n1\r\n")
            st = nodelib.stats(srv.port, "settings")
            self.assertEqual(st["maxbytes"], str(32 << 20))
            self.assertEqual(st["maxconns"], "77")
            self.assertEqual(st["tcpport"], str(srv.port))
            self.assertEqual(st["udpport"], "0")
            items = nodelib.stats(srv.port, "items")
            numbers = [v for k, v in items.items() if k.endswith(":number")]
            self.assertEqual(numbers, ["1"], items)
            slabs = nodelib.stats(srv.port, "slabs")
            self.assertEqual(slabs["active_slabs"], "1")
            conns = nodelib.stats(srv.port, "conns")
            states = [v for k, v in conns.items() if k.endswith(":state")]
            self.assertIn("conn_listening", states)
            self.assertIn("conn_parse_cmd", states)
            addrs = [v for k, v in conns.items() if k.endswith(":addr")]
            self.assertIn("tcp:127.0.0.1:%d" % srv.port, addrs)


if __name__ == "__main__":
    harness.main()
