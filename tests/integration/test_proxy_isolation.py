"""ringproxy keeps clients apart (issue 11).

- A fake backend that reflects what clients send (a raw key echo, as
  memcached 1.6.18 does for `mg <base64> b k`), forges VALUE lines and
  lies about sizes: another client sharing the backend connection only
  ever gets its own reply or a SERVER_ERROR, never the forged bytes, and
  echoes a client provoked never mark the node down.
- The same attack against real ringcached and memcached nodes.
- Requests are composed again: leading spaces, extra spaces, a `gat`
  with thousands of keys work against stock memcached (which closes the
  connection on a non-get line over 2048 bytes).
- Repeated keys are answered per occurrence, as memcached does.
- Oversized set/ms/cas/append: same reply and same stored value through
  the proxy as on the node itself.
- Error lines with a 128-byte node name (the longest the configuration
  accepts) arrive whole and in order.
"""

import base64
import os
import socket
import tempfile
import threading
import time
import unittest

import harness
import proxy_harness as ph

GOOD = b"VALUE victim 0 4\r\nGOOD\r\nEND\r\n"
FORGED = b"\r\nVALUE victim 0 4\r\nEVIL\r\nEND\r\n"


class EchoNode(ph.FakeNode):
    """A memcached-like backend (set, get, mg, delete, md) that echoes a
    base64 key decoded and raw, as memcached 1.6.18 does, and misbehaves
    on request: `get forge*` answers with a VALUE for a key it was not
    asked, `get size*` declares a size its data does not have, `mg
    sizelie*` sends an s flag that is not the value's size."""

    def __init__(self):
        self.data = {}
        super().__init__("echo")

    def _echo(self, c):
        buf = b""
        for d in self.reads(c):
            buf += d
            while b"\r\n" in buf:
                line, rest = buf.split(b"\r\n", 1)
                w = line.split(b" ")
                if w[0] in (b"set", b"ms"):
                    n = int(w[4] if w[0] == b"set" else w[2])
                    if len(rest) < n + 2:
                        break
                    key = w[1]
                    if w[0] == b"ms" and b"b" in w[3:]:
                        key = base64.b64decode(key)
                    self.data[key] = rest[:n]
                    buf = rest[n + 2:]
                    out = b"STORED\r\n" if w[0] == b"set" else b"HD\r\n"
                else:
                    buf = rest
                    out = self._answer(w)
                try:
                    c.sendall(out)
                except OSError:
                    return

    def _answer(self, w):
        if w[0] == b"get":
            if w[1].startswith(b"forge"):
                return b"VALUE victim 0 4\r\nEVIL\r\nEND\r\n"
            if w[1].startswith(b"size"):
                return b"VALUE %s 0 10\r\nabc\r\nEND" % w[1] + FORGED
            out = b""
            for k in w[1:]:
                if k in self.data:
                    out += b"VALUE %s 0 %d\r\n%s\r\n" % (
                        k, len(self.data[k]), self.data[k])
            return out + b"END\r\n"
        if w[0] == b"mg":
            key = w[1]
            if b"b" in w[2:]:
                key = base64.b64decode(key)
            if key not in self.data:
                return b"EN\r\n"
            v = self.data[key]
            flags = b""
            for f in w[2:]:
                if f == b"k":
                    flags += b" k" + key        # raw, as 1.6.18 does
                elif f == b"s":
                    flags += b" s%d" % (len(v) + (key.startswith(
                        b"sizelie") and 5))
                elif f.startswith(b"O"):
                    flags += b" " + f
            return b"VA %d%s\r\n%s\r\n" % (len(v), flags, v)
        if w[0] == b"version":
            return b"VERSION fake\r\n"
        return b"ERROR\r\n"


def start_proxy(tmp, nodes, extra=""):
    """A one-worker ringproxy (so every client shares one backend
    connection) over `nodes`, a list of (name, port)."""
    conf = os.path.join(tmp, "ringproxy.conf")
    with open(conf, "w") as f:
        f.write("listen 127.0.0.1:1\nthreads 1\nbackend_connections 1\n"
                "failure_limit 3\nretry_timeout 100ms\nretry_max 200ms\n" +
                extra)
        for name, port in nodes:
            f.write("node %s 127.0.0.1:%d\n" % (name, port))
    return harness.Server([harness.binary("ringproxy"), "-c", conf, "-t",
                           "1", "-l", "127.0.0.1:{port}"])


def stats(port, group=""):
    with harness.Conn(port) as c:
        c.send("stats%s\r\n" % (" " + group if group else ""))
        out = c.read_until_end().decode()
    return dict(l.split(" ", 2)[1:] for l in out.splitlines()
                if l.startswith("STAT "))


class Victim:
    """A client that sets `victim` once, then gets it in a loop and keeps
    every reply that is neither the right value nor a SERVER_ERROR."""

    def __init__(self, port, value=b"GOOD", rounds=3000):
        self.port = port
        self.want = b"VALUE victim 0 %d\r\n%s\r\nEND\r\n" % (len(value),
                                                           value)
        self.value = value
        self.rounds = rounds
        self.bad = []
        self.good = 0
        self.errors = 0
        self.stop_flag = False
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        self.ready.wait(5)

    def _run(self):
        c = harness.Conn(self.port)
        try:
            c.call(b"set victim 0 0 %d\r\n%s\r\n" % (len(self.value),
                                                     self.value))
            self.ready.set()
            deadline = time.monotonic() + 20
            for _ in range(self.rounds):
                if self.stop_flag or time.monotonic() > deadline:
                    break
                c.send(b"get victim\r\n")
                line = c.readline()
                if line.startswith(b"SERVER_ERROR"):
                    self.errors += 1
                    continue
                out = line
                while line != b"END\r\n" and len(out) < 4096:
                    line = c.readline()
                    out += line
                if out == self.want:
                    self.good += 1
                else:
                    self.bad.append(out)
        finally:
            self.ready.set()
            c.sock.close()

    def stop(self):
        self.stop_flag = True
        self.thread.join(30)


def attack(port, requests, rounds=40):
    """Send each request `rounds` times on fresh connections; read what
    comes back (anything) until the proxy answers a version after it."""
    for _ in range(rounds):
        for req in requests:
            with harness.Conn(port, timeout=3) as c:
                c.send(req + b"version\r\n")
                while True:
                    line = c.readline()
                    if line.startswith(b"VERSION"):
                        break


def b64(s):
    return base64.b64encode(s).decode().encode()


class FakeBackend(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="ringproxy-iso-")
        self.node = EchoNode()
        try:
            self.proxy = start_proxy(self.tmp.name,
                                     [("evil", self.node.port)])
        except BaseException:
            self.node.close()
            raise

    def tearDown(self):
        self.proxy.stop()
        self.node.close()
        self.tmp.cleanup()

    def test_reflected_key_never_reaches_another_client(self):
        key = b"x" + FORGED + b"VALUE victim 0 4\r\nEVIL"
        with harness.Conn(self.proxy.port) as c:
            self.assertEqual(c.call(b"ms %s 1 b\r\nz\r\n" % b64(key)),
                             b"HD\r\n")
        v = Victim(self.proxy.port)
        try:
            attack(self.proxy.port, [b"mg %s b k v\r\n" % b64(key)])
        finally:
            v.stop()
        self.assertEqual(v.bad, [])
        self.assertGreater(v.good, 0)
        st = stats(self.proxy.port, "nodes")
        self.assertGreater(int(st["evil:backend_protocol_errors"]), 0)
        # Echoes a client chose never count: the node stays up.
        self.assertEqual(st["evil:state"], "up")
        self.assertEqual(st["evil:downs"], "0")
        with harness.Conn(self.proxy.port) as c:
            self.assertEqual(c.call(b"mg %s b k v\r\n" % b64(key)),
                             b"SERVER_ERROR backend evil echoed a key or "
                             b"opaque it was not sent\r\n")
            # A binary key with a space but no line break is echoed whole.
            self.assertEqual(c.call(b"ms %s 1 b\r\nq\r\n" % b64(b"a b")),
                             b"HD\r\n")
            self.assertEqual(c.call(b"mg %s b k v Oz\r\n" % b64(b"a b")),
                             b"VA 1 ka b Oz\r\n")
            self.assertEqual(c.readline(), b"q\r\n")

    def test_forged_values_and_wrong_sizes_are_never_forwarded(self):
        v = Victim(self.proxy.port)
        try:
            attack(self.proxy.port, [b"get forge1\r\n", b"get size1\r\n",
                                     b"mg victim s v\r\n",
                                     b"ms sizelie 1\r\nq\r\n"
                                     b"mg sizelie s v\r\n"], rounds=15)
        finally:
            v.stop()
        self.assertEqual(v.bad, [])
        with harness.Conn(self.proxy.port) as c:
            self.assertEqual(c.call(b"mg victim s v\r\n"), b"VA 4 s4\r\n")
            self.assertEqual(c.readline(), b"GOOD\r\n")
            # Forged key, broken size, a lying s flag: a SERVER_ERROR
            # each (or "down" once the node has been ejected for them).
            for req in (b"get forge2\r\n", b"get size2\r\n",
                        b"mg sizelie s v\r\n"):
                self.assertTrue(c.call(req).startswith(
                    b"SERVER_ERROR backend evil "), req)
        st = stats(self.proxy.port, "nodes")
        self.assertGreater(int(st["evil:backend_protocol_errors"]), 3)


class RealNodes(unittest.TestCase):
    """The reflected-key attack against ringcached and stock memcached."""

    def attack_kind(self, kind):
        with ph.Cluster(1, kind=kind, threads=1,
                        conf_extra="backend_connections 1\n") as cl:
            key = b"x" + FORGED + b"VALUE victim 0 4\r\nEVIL"
            with harness.Conn(cl.port) as c:
                self.assertEqual(c.call(b"ms %s 1 b\r\nz\r\n" % b64(key)),
                                 b"HD\r\n")
            v = Victim(cl.port)
            try:
                attack(cl.port, [b"mg %s b k v\r\n" % b64(key),
                                 b"mg %s b k v q\r\nmn\r\n" % b64(key)])
            finally:
                v.stop()
            self.assertEqual(v.bad, [])
            self.assertGreater(v.good, 0)
            st = cl.stats("nodes")
            self.assertEqual(st["n0:state"], "up")
            self.assertEqual(st["n0:downs"], "0")

    def test_memcached(self):
        self.attack_kind("memcached")

    @unittest.skipUnless(ph.have_ringcached(), "ringcached not built")
    def test_ringcached(self):
        self.attack_kind("ringcached")


class Recomposed(ph.ClusterCase):
    """Against stock memcached: what a client may send, memcached gets
    in a form it accepts."""
    kind = "memcached"

    def test_spaces_and_long_key_lists(self):
        with harness.Conn(self.cl.port) as c:
            self.assertEqual(c.call(b"set  sp1   0  0  1 \r\na\r\n"),
                             b"STORED\r\n")
            c.send(b" " * 150 + b"get sp1\r\n")
            self.assertEqual(c.read_until_end(), b"VALUE sp1 0 1\r\na\r\n"
                             b"END\r\n")
            keys = [b"long-key-%04d-" % i + b"z" * 40 for i in range(3000)]
            for k in keys[:20]:
                self.assertEqual(c.call(b"set %s 0 0 2\r\nvv\r\n" % k),
                                 b"STORED\r\n")
            # 170 KB lines: memcached refuses gat lines over 2048 bytes.
            for cmd in (b"gat 100", b"get", b"gats 0"):
                c.send(cmd + b" " + b" ".join(keys) + b"\r\n")
                out = c.read_until_end()
                got = [l.split()[1] for l in out.split(b"\r\n")
                       if l.startswith(b"VALUE")]
                self.assertEqual(got, keys[:20], cmd)
        st = self.cl.stats("nodes")
        for i in range(3):
            self.assertEqual(st["n%d:state" % i], "up")
            self.assertEqual(st["n%d:errors" % i], "0")

    def test_repeated_keys_as_memcached(self):
        node = self.cl.nodes[0].port
        with harness.Conn(self.cl.port) as p, harness.Conn(node) as n:
            for c in (p, n):
                self.assertEqual(c.call(b"set rk 0 0 1\r\nx\r\n"),
                                 b"STORED\r\n")
            # Through the proxy rk may live on another node: compare the
            # shape of the answer, one value per occurrence.
            for req in (b"get rk rk nope rk\r\n", b"gets rk rk\r\n"):
                p.send(req)
                n.send(req)
                a, b = p.read_until_end(), n.read_until_end()
                self.assertEqual(a.count(b"VALUE rk 0 1"),
                                 b.count(b"VALUE rk 0 1"), req)
                self.assertEqual(a.count(b"VALUE"), req.count(b"rk"))


def oversized_script(v):
    big = b"b" * (2 * 1024 * 1024)
    return [
        b"set ov 0 0 3\r\nold\r\n",
        b"set ov 0 0 %d\r\n%s\r\n" % (len(big), big),
        b"get ov\r\n",
        b"set ov 0 0 3\r\nold\r\n",
        b"ms ov %d T0\r\n%s\r\n" % (len(big), big),
        b"get ov\r\n",
        b"set ov 0 0 3\r\nold\r\n",
        b"gets ov\r\n",
        b"cas ov 0 0 %d 1\r\n%s\r\n" % (len(big), big),
        b"get ov\r\n",
        b"append ov 0 0 %d\r\n%s\r\n" % (len(big), big),
        b"get ov\r\n",
        b"prepend ov 0 0 %d noreply\r\n%s\r\n" % (len(big), big),
        b"add ov2 0 0 %d\r\n%s\r\n" % (len(big), big),
        b"get ov ov2\r\n",
    ]


class Oversized(unittest.TestCase):
    """Too-large storage requests: what the node replies and keeps is
    what a client of the proxy sees."""

    def run_script(self, port):
        out = []
        with harness.Conn(port) as c:
            for req in oversized_script(port):
                c.send(req)
                if b"noreply" in req:
                    continue
                line = c.readline()
                if line.startswith(b"VALUE"):
                    line += c.read_until_end()
                # the cas unique differs between nodes
                out.append(line if not req.startswith(b"gets") else
                           line.split(b"\r\n")[0].rsplit(b" ", 1)[0])
        return out

    def compare(self, kind):
        with ph.Cluster(1, kind=kind) as cl:
            direct = self.run_script(cl.nodes[0].port)
            proxied = self.run_script(cl.port)
        self.assertEqual(proxied, direct)
        self.assertIn(b"SERVER_ERROR object too large for cache\r\n", direct)

    def test_memcached(self):
        self.compare("memcached")

    @unittest.skipUnless(ph.have_ringcached(), "ringcached not built")
    def test_ringcached(self):
        self.compare("ringcached")


class RssWatch:
    """Samples a process's RSS every 20 ms until stopped; keeps the max."""

    def __init__(self, pid):
        self.pid = pid
        self.max_kb = ph.rss_kb(pid)
        self.stop_flag = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop_flag:
            self.max_kb = max(self.max_kb, ph.rss_kb(self.pid))
            time.sleep(0.02)

    def stop(self):
        self.stop_flag = True
        self.thread.join(2)
        return self.max_kb


# Under ASan freed memory stays resident (quarantine): no RSS bound then.
CHECK_RSS = "ASAN_OPTIONS" not in os.environ
RSS_LIMIT_KB = 256 * 1024
BIG = 1000 * 1000


class Memory(unittest.TestCase):
    """Proxy RSS stays under 256 MB whatever clients ask for."""

    def setUp(self):
        self.cl = ph.Cluster(1)
        with harness.Conn(self.cl.port) as c:
            self.assertEqual(c.call(b"set big 0 0 %d\r\n" % BIG +
                                    b"v" * BIG + b"\r\n"), b"STORED\r\n")

    def tearDown(self):
        self.cl.close()

    def test_one_get_naming_a_big_value_1500_times(self):
        req = b"get" + b" big" * 1500 + b"\r\n"
        one = len(b"VALUE big 0 %d\r\n" % BIG) + BIG + 2
        want = 1500 * one + 5
        watch = RssWatch(self.cl.proxy.proc.pid)
        got = 0
        tail = b""
        try:
            with harness.Conn(self.cl.port, timeout=20) as c:
                c.send(req)
                time.sleep(1.0)     # not reading: the proxy must wait
                deadline = time.monotonic() + 60
                while got < want and time.monotonic() < deadline:
                    chunk = c.sock.recv(1 << 20)
                    if not chunk:
                        break
                    got += len(chunk)
                    tail = (tail + chunk)[-64:]
        finally:
            max_kb = watch.stop()
        self.assertEqual(got, want)
        self.assertTrue(tail.endswith(b"v\r\nEND\r\n"))
        if CHECK_RSS:
            self.assertLess(max_kb, RSS_LIMIT_KB)

    def test_four_clients_pipelining_big_gets_without_reading(self):
        watch = RssWatch(self.cl.proxy.proc.pid)
        socks = []
        try:
            for _ in range(4):
                s = socket.create_connection(("127.0.0.1", self.cl.port))
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                s.settimeout(0.2)
                socks.append(s)
            req = b"get big\r\n" * 3000
            deadline = time.monotonic() + 3
            sent = [0] * 4
            while time.monotonic() < deadline and min(sent) < len(req):
                for i, s in enumerate(socks):
                    try:
                        sent[i] += s.send(req[sent[i]:])
                    except (socket.timeout, BlockingIOError):
                        pass
                    except OSError:
                        sent[i] = len(req)     # disconnected
            time.sleep(1.0)
            # Others are served meanwhile.
            with harness.Conn(self.cl.port) as c:
                c.send(b"get big\r\n")
                self.assertTrue(c.readline().startswith(b"VALUE big 0"))
                c.read_exact(BIG + 2)
                self.assertEqual(c.readline(), b"END\r\n")
            st = self.cl.stats()
        finally:
            max_kb = watch.stop()
            for s in socks:
                s.close()
        # Past the hard client_output_limit (32 MiB) they were dropped.
        self.assertGreaterEqual(int(st["client_output_limit_disconnects"]),
                                1)
        self.assertGreaterEqual(int(st["proxy_client_pauses"]), 1)
        if CHECK_RSS:
            self.assertLess(max_kb, RSS_LIMIT_KB)


class LongNames(unittest.TestCase):
    def test_error_lines_whole_with_the_longest_names(self):
        name = "n" * 128        # RING_MAX_NAME: longer ones are refused
        with tempfile.TemporaryDirectory(prefix="ringproxy-iso-") as tmp:
            dead = harness.free_port()
            proxy = start_proxy(tmp, [(name, dead)],
                                "connect_timeout 200ms\n")
            try:
                with harness.Conn(proxy.port) as c:
                    for _ in range(5):
                        c.send(b"get k\r\nset k 0 0 1\r\nv\r\nversion\r\n")
                        for _ in range(2):
                            line = c.readline()
                            self.assertTrue(line.startswith(
                                b"SERVER_ERROR backend " + name.encode() +
                                b" "), line)
                        self.assertTrue(c.readline().startswith(b"VERSION"))
            finally:
                proxy.stop()


if __name__ == "__main__":
    harness.main()
