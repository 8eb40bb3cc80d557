"""ringproxy against hostile clients and misbehaving backends.

Written from issue 11's "What must hold" list:

- Isolation: no bytes from one client can make another client receive
  anything but the replies to its own requests, nor make a healthy node
  count as down (key bytes that spell a reply, stored with `ms ... b` and
  echoed with `mg ... b k`; pipelined garbage; huge multi-gets).
- Every backend reply is checked against its request: a forged VALUE, a
  wrong size, a stray line, a hang-up mid-value, a node that never answers
  (a scriptable fake backend, fakebackend.py) never reach the client as
  data; the request fails with SERVER_ERROR and the stream is counted as a
  protocol error.
- Requests are re-composed: stock memcached (which hangs up on a non-get
  line over 2048 bytes, and on a get with over 100 leading spaces) answers
  `gat` with thousands of keys and such `get` lines.
- Bounded memory: clients that pipeline gets of a 1 MB value and never
  read, and a multi-get naming it 1,500 times, leave the proxy's peak RSS
  under 256 MB.
- Error lines are whole, also with a 128-byte node name, and oversized
  stores have the node's reply and effect.
"""

import base64
import os
import random
import threading
import time
import unittest

import fakebackend as fb
import harness
import proxy_harness as ph

RSS_LIMIT_KB = 256 * 1024
# Under ASan (tools/check's second run) freed memory waits in a 256 MB
# quarantine and stays resident; a small one keeps the RSS bound a real
# check there too. Inherited by the proxies the tests start.
if "ASAN_OPTIONS" in os.environ:
    os.environ["ASAN_OPTIONS"] += ":quarantine_size_mb=8"
BIG = 1000 * 1000           # fits memcached's default 1 MB item limit
FAST = ("connect_timeout 300ms\nrequest_timeout 500ms\nfailure_limit 3\n"
        "retry_timeout 100ms\nretry_max 400ms\n")


def peak_rss_kb(pid):
    """Peak resident set (VmHWM) of `pid`, in KiB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM for %d" % pid)


def read_reply(c):
    """One retrieval reply: (list of (key, data), final line)."""
    values = []
    while True:
        line = c.readline()
        if not line.startswith(b"VALUE "):
            return values, line
        w = line.split()
        data = c.read_exact(int(w[3]) + 2)[:-2]
        values.append((w[1], data))


def node_states(cl):
    """name -> (state, downs) for every node of the proxy."""
    st = cl.stats("nodes")
    return {n: (st.get("%s:state" % n), st.get("%s:downs" % n))
            for n in cl.names}


def protocol_errors(cl, name):
    return int(cl.stats("nodes").get("%s:backend_protocol_errors" % name,
                                 -1))


class IsolationCases:
    """Hostile clients against real nodes of `kind` (subclasses below;
    no subTest: harness.TapResult reports whole tests)."""

    kind = None

    def setUp(self):
        if self.kind == "ringcached" and not ph.have_ringcached():
            raise unittest.SkipTest("ringcached is not built")

    def test_key_bytes_that_spell_a_reply_reach_nobody(self):
        # One node, one worker, one backend connection: attacker and
        # victim share the stream the forged bytes would travel on.
        evil = b"\r\nVALUE victim 0 4\r\nEVIL\r\nEND"
        b64 = base64.b64encode(evil)
        with ph.Cluster(1, kind=self.kind, threads=1) as cl:
            stop = time.monotonic() + 3.0
            bad = []

            def attacker():
                # The key is stored once; then each mg goes alone, so
                # the victims' gets queue right behind it on the shared
                # backend connection. Without v the node's reply is one
                # line ("HD k<key>") and the rest of an echoed raw key
                # would be taken for the next reply in the queue.
                with harness.Conn(cl.port) as c:
                    c.send(b"ms " + b64 + b" 4 b\r\nEVIL\r\n")
                    c.readline()
                    while time.monotonic() < stop:
                        for req in (b"mg " + b64 + b" b k\r\n",
                                    b"mg " + b64 + b" b k s f t O123\r\n",
                                    b"mg " + b64 + b" b k v\r\n",
                                    b"mg " + b64 + b" b k q\r\nmn\r\n"):
                            c.send(req)
                            time.sleep(0.001)
                            try:
                                c.sock.setblocking(False)
                                while c.sock.recv(65536):
                                    pass
                            except (BlockingIOError, ConnectionError):
                                pass
                            finally:
                                c.sock.setblocking(True)

            def victim(i):
                mine = b"mine%d" % i
                with harness.Conn(cl.port) as c:
                    while time.monotonic() < stop:
                        c.send(b"set victim%d 0 0 %d\r\n%s\r\n" % (
                            i, len(mine), mine))
                        line = c.readline()
                        if line != b"STORED\r\n" and \
                                not line.startswith(b"SERVER_ERROR"):
                            bad.append(line)
                        c.send(b"get victim%d victim\r\n" % i)
                        values, end = read_reply(c)
                        if end.startswith(b"SERVER_ERROR"):
                            continue
                        if end != b"END\r\n" or any(
                                k != b"victim%d" % i or v != mine
                                for k, v in values):
                            bad.append((values, end))

            ts = [threading.Thread(target=attacker, daemon=True)] + [
                threading.Thread(target=victim, args=(i,), daemon=True)
                for i in range(3)]
            for t in ts:
                t.start()
            for t in ts:
                t.join(20)
            self.assertEqual(bad[:3], [], "a victim got bytes that are "
                             "not its own reply")
            self.assertEqual(node_states(cl), {"n0": ("up", "0")})
            self.assertIsNone(cl.proxy.proc.poll())

    def test_pipelined_garbage_hurts_nobody_else(self):
        rnd = random.Random(5)
        with ph.Cluster(3, kind=self.kind) as cl:
            ks = ["gk%d" % i for i in range(30)]
            load = ph.Load(cl.port, ks, nthreads=3, seconds=20,
                           max_ops=3000)
            try:
                for _ in range(20):
                    junk = bytes(rnd.getrandbits(8)
                                 for _ in range(rnd.randint(1, 3000)))
                    valid = b"get junk1\r\nset junk2 0 0 1\r\nx\r\n"
                    try:
                        with harness.Conn(cl.port, timeout=2) as c:
                            c.send(valid + junk + b"\r\n" + valid +
                                   b"get " + b"k" * 300 + b"\r\n" +
                                   b"set a 0 0 -1\r\n" +
                                   b"\r\n" * 50 + b"\x00" * 100)
                            c.is_closed(0.05)
                    except OSError:
                        pass
                time.sleep(0.3)
            finally:
                load.stop()
            ok, errors = load.snapshot()
            self.assertEqual({k: e for k, e in errors.items() if e}, {})
            self.assertTrue(all(ok[k] > 0 for k in ks))
            self.assertEqual(set(node_states(cl).values()),
                             {("up", "0")})

    def big_cluster(self, kind):
        cl = ph.Cluster(2, kind=kind, threads=2)
        with harness.Conn(cl.port) as c:
            self.assertEqual(c.call(b"set big 0 0 %d\r\n%s\r\n" % (
                BIG, b"b" * BIG)), b"STORED\r\n")
        return cl

    def test_clients_that_never_read_stay_bounded(self):
        with self.big_cluster(self.kind) as cl:
            hogs = [harness.Conn(cl.port) for _ in range(4)]
            try:
                for h in hogs:
                    # 2,000 replies of 1 MB each: 2 GB per client.
                    h.send(b"get big\r\n" * 2000)
                deadline = time.monotonic() + 3.0
                with harness.Conn(cl.port) as c:
                    while time.monotonic() < deadline:
                        self.assertEqual(c.call("set s 0 0 1\r\n1\r\n"),
                                         b"STORED\r\n")
                        values, end = read_reply_after(c, "get big\r\n")
                        self.assertEqual(end, b"END\r\n")
                        self.assertEqual(values[0][1], b"b" * BIG)
                peak = peak_rss_kb(cl.proxy.proc.pid)
            finally:
                for h in hogs:
                    h.close()
            self.assertLess(peak, RSS_LIMIT_KB, "peak RSS %d KiB" % peak)
            self.assertEqual(set(node_states(cl).values()),
                             {("up", "0")})

    def test_huge_multiget_stays_bounded(self):
        # 6 KB of request naming a 1 MB value 1,500 times: 1.5 GB of reply
        # for a client that does not read it.
        with self.big_cluster(self.kind) as cl:
            with harness.Conn(cl.port) as hog:
                hog.send(b"get" + b" big" * 1500 + b"\r\n")
                time.sleep(2.0)
                with harness.Conn(cl.port) as c:
                    values, end = read_reply_after(c, "get big\r\n")
                    self.assertEqual(end, b"END\r\n")
                peak = peak_rss_kb(cl.proxy.proc.pid)
            self.assertLess(peak, RSS_LIMIT_KB, "peak RSS %d KiB" % peak)
            # A reader gets every copy, in order.
            with harness.Conn(cl.port, timeout=30) as c:
                c.send(b"get" + b" big" * 40 + b" nosuch\r\n")
                values, end = read_reply(c)
                self.assertEqual(end, b"END\r\n")
                self.assertEqual(len(values), 40)
                self.assertTrue(all(v == (b"big", b"b" * BIG)
                                    for v in values))
            self.assertEqual(set(node_states(cl).values()),
                             {("up", "0")})


class IsolationMemcached(IsolationCases, unittest.TestCase):
    kind = "memcached"


class IsolationRingcached(IsolationCases, unittest.TestCase):
    kind = "ringcached"


def read_reply_after(c, request):
    c.send(request)
    return read_reply(c)


class StockMemcachedLines(unittest.TestCase):
    """memcached closes a connection on a non-get line over 2048 bytes
    and on a get with more than 100 leading spaces: the proxy must never
    send it one."""

    def test_gat_with_thousands_of_keys(self):
        with ph.Cluster(2) as cl:
            ks = ["gatkey-%05d" % i for i in range(3000)]
            with harness.Conn(cl.port, timeout=30) as c:
                for i in range(0, len(ks), 100):
                    c.send("".join("set %s 0 0 %d\r\n%s\r\n" % (k, len(k), k)
                                   for k in ks[i:i + 100]))
                    for _ in ks[i:i + 100]:
                        self.assertEqual(c.readline(), b"STORED\r\n")
                c.send("gat 100 %s\r\n" % " ".join(ks))
                values, end = read_reply(c)
                self.assertEqual(end, b"END\r\n")
                self.assertEqual([k for k, _ in values],
                                 [k.encode() for k in ks])
                self.assertTrue(all(k == v for k, v in values))
                c.send("gats 100 %s\r\n" % " ".join(ks[:2000]))
                values, end = read_reply(c)
                self.assertEqual((len(values), end), (2000, b"END\r\n"))
            self.assertEqual(set(node_states(cl).values()), {("up", "0")})
            for n in cl.names:
                self.assertEqual(cl.stats("nodes")["%s:errors" % n], "0")

    def test_get_with_many_leading_spaces(self):
        with ph.Cluster(2) as cl:
            with harness.Conn(cl.port) as c:
                self.assertEqual(c.call("set sp 0 0 2\r\nhi\r\n"),
                                 b"STORED\r\n")
                # memcached hangs up on a line over 2048 bytes that has
                # over 100 spaces before its get: the proxy must send it
                # neither (nor a 2048-byte non-get line).
                many = " ".join("nosuch%04d" % i for i in range(400))
                for req in ("get" + " " * 150 + "sp\r\n",
                            "get sp" + " " * 150 + "sp\r\n",
                            "gets" + " " * 300 + "sp\r\n",
                            " " * 150 + "get " + many + " sp\r\n",
                            " " * 150 + "get" + " " * 2000 + "sp\r\n",
                            "gets " + many + " " * 150 + "sp\r\n"):
                    values, end = read_reply_after(c, req)
                    self.assertEqual(end, b"END\r\n", req)
                    self.assertTrue(values and all(v == b"hi"
                                                   for _, v in values))
            self.assertEqual(set(node_states(cl).values()), {("up", "0")})
            for n in cl.names:
                self.assertEqual(cl.stats("nodes")["%s:errors" % n], "0")


class FakeBackends(unittest.TestCase):
    """Replies that cannot answer the request never reach the client."""

    def expect_server_error(self, script, request, forbidden,
                            asked=(), framing=True):
        """`request` gets SERVER_ERROR; values are streamed, so some may
        come first, but only of keys in `asked`, in that order, and never
        holding `forbidden`. framing: the stream broke framing, so it
        counts as a backend protocol error (a hang-up or a wait does
        not)."""
        back = fb.FakeBackend(script)
        try:
            with FakeCluster(back) as cl, harness.Conn(cl.port) as c:
                c.send(request)
                values, end = read_reply(c)
                self.assertTrue(end.startswith(b"SERVER_ERROR "), end)
                self.assertNotIn(forbidden, end)
                keys = [k for k, _ in values]
                self.assertEqual(keys, [k for k in asked if k in keys])
                for _, v in values:
                    self.assertNotIn(forbidden, v)
                # The client's stream is in step: its next request is
                # answered, by a fresh backend connection.
                back.script = None
                back.store[b"ok"] = b"fine"
                values, end = read_reply_after(c, "get ok\r\n")
                self.assertEqual((values, end), ([(b"ok", b"fine")],
                                                 b"END\r\n"))
                if framing:
                    self.assertGreaterEqual(protocol_errors(cl, "n0"), 1)
                return cl
        finally:
            back.close()

    def test_forged_value_for_another_key(self):
        self.expect_server_error(
            lambda r: fb.forged(b"victim", b"EVIL") if r.cmd == "get"
            else None, b"get mine\r\n", b"EVIL")

    def test_forged_value_in_a_multiget(self):
        # Right keys, wrong order, then one that was never asked for.
        self.expect_server_error(
            lambda r: [b"VALUE b 0 1\r\nB\r\nVALUE a 0 1\r\nA\r\n"
                       b"VALUE zz 0 4\r\nEVIL\r\nEND\r\n"]
            if r.cmd == "get" else None, b"get a b\r\n", b"EVIL",
            asked=[b"a", b"b"])

    def test_wrong_size(self):
        # Shorter than the data: the terminator is missing at once.
        self.expect_server_error(
            lambda r: fb.wrong_size(r.keys[0], 2, b"EVIL")
            if r.cmd == "get" else None, b"get k\r\n", b"EVIL")

    def test_wrong_size_longer(self):
        # Longer than the data: indistinguishable from a slow node until
        # request_timeout; then the same SERVER_ERROR, never the bytes.
        self.expect_server_error(
            lambda r: fb.wrong_size(r.keys[0], 10, b"EVIL")
            if r.cmd == "get" else None, b"get k\r\n", b"EVIL",
            framing=False)

    def test_stray_line_before_the_reply(self):
        # STORED cannot answer a get: the stream is out of step, and the
        # value after it must not be taken for the reply either.
        self.expect_server_error(
            lambda r: [b"STORED\r\nVALUE k 0 4\r\nEVIL\r\nEND\r\n"]
            if r.cmd == "get" else None, b"get k\r\n", b"EVIL")

    def test_close_mid_value(self):
        self.expect_server_error(
            lambda r: fb.close_mid_value(r.keys[0], 1000)
            if r.cmd == "get" else None, b"get k\r\n", b"xxxx",
            framing=False)

    def test_slow_drip_within_the_timeout(self):
        reply = b"VALUE k 0 5\r\nhello\r\nEND\r\n"
        back = fb.FakeBackend(lambda r: [("drip", reply, 0.01)]
                              if r.cmd == "get" else None)
        try:
            with FakeCluster(back) as cl, harness.Conn(cl.port) as c:
                values, end = read_reply_after(c, "get k\r\n")
                self.assertEqual((values, end), ([(b"k", b"hello")],
                                                 b"END\r\n"))
                self.assertEqual(protocol_errors(cl, "n0"), 0)
                self.assertEqual(node_states(cl), {"n0": ("up", "0")})
        finally:
            back.close()

    def test_never_answers(self):
        back = fb.FakeBackend(lambda r: [("never",)]
                              if r.cmd == "get" else None)
        try:
            with FakeCluster(back) as cl, harness.Conn(cl.port) as c:
                t0 = time.monotonic()
                values, end = read_reply_after(c, "get k\r\n")
                self.assertEqual(values, [])
                self.assertTrue(end.startswith(b"SERVER_ERROR "), end)
                self.assertLess(time.monotonic() - t0, 5)
                self.assertEqual(cl.stats("nodes")["n0:timeouts"], "1")
        finally:
            back.close()


def FakeCluster(back):
    """A proxy (one worker) in front of FakeBackend `back`, named n0."""
    return ph.Cluster(0, conf_extra=FAST, threads=1, fakes=[back])


class ErrorLines(unittest.TestCase):
    def test_error_lines_whole_with_a_128_byte_name(self):
        name = "n" * 128
        with ph.Cluster(2, conf_extra=FAST) as cl:
            cl.names = [cl.names[0], name]
            cl.write_conf()
            cl.reload()
            cl.wait_stat("reloads", lambda v: v == "1")
            owner = ph.locate(cl.port, ["ek%d" % i for i in range(40)])
            k = [x for x, n in owner.items() if n == name][0]
            cl.nodes[1].stop()
            with harness.Conn(cl.port) as c:
                for _ in range(6):
                    c.send("get %s\r\nset %s 0 0 1\r\nx\r\nversion\r\n" % (
                        k, k))
                    for _ in range(2):
                        line = c.readline()
                        self.assertTrue(line.startswith(b"SERVER_ERROR ")
                                        and name.encode() in line, line)
                    self.assertTrue(c.readline().startswith(b"VERSION "))


class OversizedStores(unittest.TestCase):
    """set/ms over the item limit: the proxy's reply and the stored value
    afterwards are the node's."""

    def test_same_reply_and_effect_as_the_node(self):
        big = 2 * 1024 * 1024
        kinds = ["memcached"] + (["ringcached"] if ph.have_ringcached()
                                 else [])
        for kind in kinds:
            with ph.Cluster(1, kind=kind) as cl:
                for cmd in ("set", "ms"):
                    got = []
                    for port in (cl.nodes[0].port, cl.port):
                        with harness.Conn(port) as c:
                            self.assertEqual(c.call(
                                "set old 0 0 3\r\nold\r\n"), b"STORED\r\n")
                            if cmd == "set":
                                c.send(b"set old 0 0 %d\r\n%s\r\n" % (
                                    big, b"x" * big))
                            else:
                                c.send(b"ms old %d T0\r\n%s\r\n" % (
                                    big, b"x" * big))
                            reply = c.readline()
                            after = read_reply_after(c, "get old\r\n")
                            got.append((reply, after))
                    self.assertEqual(got[1], got[0], (kind, cmd))


if __name__ == "__main__":
    harness.main()
