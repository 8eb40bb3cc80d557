"""ringproxy data path: every memcached command through the proxy, with
raw sockets and pymemcache, in front of stock memcached nodes (and
ringcached when built): multi-get split and merge in key order, pipelined
requests answered in order, noreply, flush_all, the proxy's own answers
(version, verbosity, quit, shutdown, stats, stats ring, ringproxy
commands) and bad input answered by the proxy without reaching a node.
"""

import socket
import unittest

import harness
import proxy_harness as ph


class ProxyCommands(ph.ClusterCase):
    def conn(self):
        return harness.Conn(self.cl.port)

    def test_storage_commands(self):
        with self.conn() as c:
            self.assertEqual(c.call("set k1 5 0 3\r\nabc\r\n"), b"STORED\r\n")
            self.assertEqual(c.call("add k1 0 0 1\r\nx\r\n"),
                             b"NOT_STORED\r\n")
            self.assertEqual(c.call("replace k1 7 0 2\r\nxy\r\n"),
                             b"STORED\r\n")
            self.assertEqual(c.call("append k1 0 0 1\r\nz\r\n"),
                             b"STORED\r\n")
            self.assertEqual(c.call("prepend k1 0 0 1\r\nw\r\n"),
                             b"STORED\r\n")
            c.send("gets k1\r\n")
            out = c.read_until_end()
            self.assertTrue(out.startswith(b"VALUE k1 7 4 "), out)
            self.assertTrue(out.endswith(b"\r\nwxyz\r\nEND\r\n"), out)
            cas = out.split(b"\r\n")[0].split()[4].decode()
            self.assertEqual(c.call("cas k1 0 0 1 %s\r\nq\r\n" % cas),
                             b"STORED\r\n")
            self.assertEqual(c.call("cas k1 0 0 1 %s\r\nq\r\n" % cas),
                             b"EXISTS\r\n")
            self.assertEqual(c.call("cas nope 0 0 1 1\r\nq\r\n"),
                             b"NOT_FOUND\r\n")
            self.assertEqual(c.call("add nope2 0 0 1\r\nq\r\n"),
                             b"STORED\r\n")

    def test_arith_touch_delete(self):
        with self.conn() as c:
            self.assertEqual(c.call("set n 0 0 2\r\n10\r\n"), b"STORED\r\n")
            self.assertEqual(c.call("incr n 5\r\n"), b"15\r\n")
            self.assertEqual(c.call("decr n 20\r\n"), b"0\r\n")
            self.assertEqual(c.call("incr missing 1\r\n"), b"NOT_FOUND\r\n")
            self.assertEqual(c.call("touch n 100\r\n"), b"TOUCHED\r\n")
            self.assertEqual(c.call("touch missing 100\r\n"),
                             b"NOT_FOUND\r\n")
            c.send("gat 100 n\r\n")
            # memcached pads a shrunk number with spaces ("0 ").
            self.assertTrue(c.read_until_end().startswith(b"VALUE n 0 "))
            self.assertEqual(c.call("delete n\r\n"), b"DELETED\r\n")
            self.assertEqual(c.call("delete n\r\n"), b"NOT_FOUND\r\n")
            self.assertEqual(c.call("set s 0 0 1\r\nx\r\n"), b"STORED\r\n")
            self.assertEqual(
                c.call("incr s 1\r\n"),
                b"CLIENT_ERROR cannot increment or decrement non-numeric "
                b"value\r\n")

    def test_multiget_spans_nodes_in_key_order(self):
        keys = ["mk%d" % i for i in range(60)]
        with self.conn() as c:
            for k in keys[::2]:
                self.assertEqual(c.call("set %s 3 0 %d\r\n%s\r\n"
                                        % (k, len(k), k)), b"STORED\r\n")
            # The keys really do span every node.
            owners = set()
            c.send("ringproxy locate %s\r\n" % " ".join(keys))
            for line in c.read_until_end().decode().splitlines()[:-1]:
                owners.add(line.split()[2])
            self.assertEqual(len(owners), 3)
            asked = keys + ["mk0", "nope", "mk2"]
            for cmd in ("get", "gets"):
                c.send("%s %s\r\n" % (cmd, " ".join(asked)))
                out = c.read_until_end().decode().split("\r\n")
                got = [line.split()[1] for line in out
                       if line.startswith("VALUE")]
                want = [k for k in asked if k in keys[::2]]
                self.assertEqual(got, want)
                self.assertEqual(out[-2:], ["END", ""])
            c.send("gat 0 %s\r\n" % " ".join(keys[:6]))
            out = c.read_until_end().decode()
            self.assertEqual([l.split()[1] for l in out.split("\r\n")
                              if l.startswith("VALUE")],
                             ["mk0", "mk2", "mk4"])
            # No keys: memcached answers END, and so does the proto parser.
            c.send("gat 0\r\n")
            self.assertEqual(c.readline(), b"END\r\n")

    def test_pipelined_requests_answered_in_order(self):
        keys = ["p%d" % i for i in range(200)]
        req = b"".join(b"set %s 0 0 %d\r\n%s\r\n" % (k.encode(), len(k),
                                                      k.encode())
                       for k in keys)
        req += b"".join(b"get %s\r\n" % k.encode() for k in keys)
        req += b"get " + " ".join(keys).encode() + b"\r\nversion\r\n"
        with self.conn() as c:
            c.send(req)
            for _ in keys:
                self.assertEqual(c.readline(), b"STORED\r\n")
            for k in keys:
                self.assertEqual(c.readline(), b"VALUE %s 0 %d\r\n"
                                 % (k.encode(), len(k)))
                self.assertEqual(c.readline(), k.encode() + b"\r\n")
                self.assertEqual(c.readline(), b"END\r\n")
            out = c.read_until_end().decode().split("\r\n")
            self.assertEqual([l.split()[1] for l in out
                              if l.startswith("VALUE")], keys)
            self.assertTrue(c.readline().startswith(b"VERSION "))

    def test_many_clients_share_backends(self):
        conns = [self.conn() for _ in range(20)]
        try:
            for i, c in enumerate(conns):
                c.send(b"".join(b"set c%d_%d 0 0 1\r\n%d\r\nget c%d_%d\r\n"
                                % (i, j, j % 10, i, j) for j in range(30)))
            for i, c in enumerate(conns):
                for j in range(30):
                    self.assertEqual(c.readline(), b"STORED\r\n")
                    self.assertEqual(c.readline(), b"VALUE c%d_%d 0 1\r\n"
                                     % (i, j))
                    self.assertEqual(c.readline(), b"%d\r\n" % (j % 10))
                    self.assertEqual(c.readline(), b"END\r\n")
        finally:
            for c in conns:
                c.close()

    def test_noreply_end_to_end(self):
        with self.conn() as c:
            c.send("set nr 0 0 1 noreply\r\n1\r\nincr nr 5 noreply\r\n"
                   "add nr 0 0 1 noreply\r\nx\r\ntouch nr 0 noreply\r\n"
                   "append nr 0 0 1 noreply\r\n9\r\nget nr\r\n")
            self.assertEqual(c.read_until_end(),
                             b"VALUE nr 0 2\r\n69\r\nEND\r\n")
            c.send("delete nr noreply\r\nget nr\r\n")
            self.assertEqual(c.readline(), b"END\r\n")
            c.send("verbosity 1 noreply\r\nversion\r\n")
            self.assertTrue(c.readline().startswith(b"VERSION "))

    def test_flush_all(self):
        with self.conn() as c:
            for i in range(20):
                c.call("set f%d 0 0 1\r\nx\r\n" % i)
            self.assertEqual(c.call("flush_all\r\n"), b"OK\r\n")
            c.send("get %s\r\n" % " ".join("f%d" % i for i in range(20)))
            self.assertEqual(c.read_until_end(), b"END\r\n")
            self.assertEqual(c.call("flush_all 0\r\n"), b"OK\r\n")
            c.send("flush_all noreply\r\nversion\r\n")
            self.assertTrue(c.readline().startswith(b"VERSION "))
        for p in self.cl.node_ports():
            with harness.Conn(p) as d:
                self.assertEqual(d.call("get f1\r\n"), b"END\r\n")

    def test_answered_by_the_proxy(self):
        with self.conn() as c:
            self.assertTrue(c.call("version\r\n").startswith(
                b"VERSION 1.6.18-ringproxy-"))
            self.assertEqual(c.call("verbosity 1\r\n"), b"OK\r\n")
            self.assertEqual(c.call("shutdown\r\n"),
                             b"ERROR: shutdown not enabled\r\n")
            self.assertEqual(c.call("stats nonsense\r\n"), b"ERROR\r\n")
            c.send("quit\r\n")
            self.assertTrue(c.is_closed())
        # shutdown never reached a node.
        for p in self.cl.node_ports():
            with harness.Conn(p) as d:
                self.assertTrue(d.call("version\r\n").startswith(b"VERSION"))

    def test_quit_after_pipelined_replies(self):
        with self.conn() as c:
            c.send("set qq 0 0 1\r\nx\r\nget qq\r\nquit\r\nget qq\r\n")
            self.assertEqual(c.readline(), b"STORED\r\n")
            self.assertEqual(c.read_until_end(),
                             b"VALUE qq 0 1\r\nx\r\nEND\r\n")
            self.assertTrue(c.is_closed())

    def test_stats(self):
        before = self.cl.stats()
        with self.conn() as c:
            c.call("set st 0 0 1\r\nx\r\n")
            c.send("get st nope\r\n")
            c.read_until_end()
            c.send("delete st\r\ndelete st\r\nincr nope 1\r\n"
                   "touch nope 0\r\n")
            for _ in range(4):
                c.readline()
        st = self.cl.stats()
        for k in ("pid", "uptime", "version", "curr_connections",
                  "total_connections", "cmd_get", "cmd_set", "get_hits",
                  "get_misses", "bytes_read", "bytes_written", "threads",
                  "cas_hits", "cas_misses", "cas_badval", "max_connections",
                  "proxy_backend_total", "reloads", "ring_mode"):
            self.assertIn(k, st)
        # memcached's names only: a colon breaks memcached's stats readers.
        self.assertEqual([k for k in st if ":" in k], [])
        self.assertGreaterEqual(int(st["get_hits"]), 1)
        self.assertGreaterEqual(int(st["get_misses"]), 1)
        for k in ("delete_hits", "delete_misses", "incr_misses",
                  "touch_misses"):
            # Other tests share the cluster: count what this one did.
            self.assertEqual(int(st[k]) - int(before[k]), 1, k)
        self.assertEqual(st["threads"], "2")
        self.assertEqual(st["proxy_backend_total"], "3")
        self.assertEqual(st["proxy_backend_failed"], "0")
        nodes = self.cl.stats("nodes")
        for name in self.cl.names:
            for f in ("addr", "weight", "requests", "errors", "timeouts",
                      "latency_p50_us", "latency_p99_us"):
                self.assertIn("%s:%s" % (name, f), nodes)
            self.assertEqual(nodes["%s:state" % name], "up")
        self.assertGreater(sum(int(nodes["%s:requests" % n])
                               for n in self.cl.names), 0)
        ring = self.cl.stats("ring")
        self.assertEqual(ring["nodes"], "3")
        share = sum(float(ring["%s:share" % n]) for n in self.cl.names)
        self.assertAlmostEqual(share, 1.0, places=4)

    def test_stats_groups(self):
        st = self.cl.stats("settings")
        self.assertEqual(st["tcpport"], str(self.cl.port))
        self.assertEqual(st["num_threads"], "2")
        for k in ("maxconns", "item_size_max", "idle_timeout",
                  "tcp_backlog", "request_timeout_ms", "failure_policy"):
            self.assertRegex(st[k], r"^[0-9a-z-]+$", k)
        with self.conn() as c, self.conn() as idle:
            idle.call("version\r\n")
            c.send("stats conns\r\n")
            lines = c.read_until_end().decode().splitlines()
            # Every line "STAT <fd>:<field> <value>", as memcached.
            for line in lines[:-1]:
                self.assertRegex(line, r"^STAT \d+:[a-z_]+ \S+$")
            addrs = [l.split()[2] for l in lines if ":addr " in l]
            self.assertIn("tcp:127.0.0.1:%d" % self.cl.port, addrs)
            self.assertGreaterEqual(len(addrs), 3)   # listener + 2 clients
            self.assertIn("conn_listening", "\n".join(lines))
            self.assertIn("conn_parse_cmd", "\n".join(lines))
            # The proxy stores nothing itself: empty lists, as a memcached
            # with no items, and the size histogram off (its default).
            self.assertEqual(c.call("stats items\r\n"), b"END\r\n")
            self.assertEqual(c.call("stats slabs\r\n"), b"END\r\n")
            c.send("stats sizes\r\n")
            self.assertEqual(c.read_until_end(),
                             b"STAT sizes_status disabled\r\nEND\r\n")

    def test_stats_reset(self):
        with self.conn() as c:
            c.call("set sr 0 0 1\r\nx\r\n")
            for _ in range(20):
                c.send("get sr\r\n")
                c.read_until_end()
            self.assertEqual(c.call("stats reset\r\n"), b"RESET\r\n")
        st = self.cl.wait_stat("cmd_get", lambda v: int(v) == 0)
        self.assertEqual(st, "0")
        st = self.cl.stats()
        self.assertGreaterEqual(int(st["curr_connections"]), 1)
        nodes = self.cl.stats("nodes")
        self.assertEqual(sum(int(nodes["%s:requests" % n])
                             for n in self.cl.names), 0)

    def test_ringproxy_commands(self):
        with self.conn() as c:
            c.send("ringproxy nodes\r\n")
            lines = c.read_until_end().decode().splitlines()
            self.assertEqual(len(lines), 4)
            for line, name, port in zip(lines, self.cl.names,
                                        self.cl.node_ports()):
                w = line.split()
                self.assertEqual(w[:5], ["NODE", name, "127.0.0.1:%d" % port,
                                         "1", "up"])
            c.send("ringproxy locate a bb\r\n")
            lines = c.read_until_end().decode().splitlines()
            self.assertEqual([l.split()[1] for l in lines[:-1]], ["a", "bb"])
            self.assertEqual(c.call("ringproxy bogus\r\n"), b"ERROR\r\n")
            self.assertEqual(c.call("ringproxyx\r\n"), b"ERROR\r\n")

    def test_bad_input_answered_by_proxy(self):
        before = [self.node_cmds(p) for p in self.cl.node_ports()]
        with self.conn() as c:
            self.assertEqual(c.call("bogus\r\n"), b"ERROR\r\n")
            self.assertEqual(c.call("set k 0 0\r\n"), b"ERROR\r\n")
            self.assertEqual(c.call("set k x 0 1\r\nz\r\n"),
                             b"CLIENT_ERROR bad command line format\r\n")
            self.assertEqual(c.call("set k 0 0 1\r\nzz\r\n"),
                             b"CLIENT_ERROR bad data chunk\r\n")
            # As memcached: the rest of the line is then a bad command.
            self.assertEqual(c.readline(), b"ERROR\r\n")
            # Key too long: whatever the shared parser says (the node's
            # answer), never a reply from a backend.
            self.assertIn(c.call("get " + "k" * 251 + "\r\n"),
                          (b"ERROR\r\n",
                           b"CLIENT_ERROR bad command line format\r\n"))
            self.assertTrue(c.call("incr k abc\r\n").startswith(
                b"CLIENT_ERROR "))
            big = 1024 * 1024 + 1
            c.send(b"set big 0 0 %d\r\n" % big + b"x" * big + b"\r\n")
            self.assertEqual(c.readline(),
                             b"SERVER_ERROR object too large for cache\r\n")
            # The connection survives all of that.
            self.assertTrue(c.call("version\r\n").startswith(b"VERSION"))
            c.send(b"get " + b"k" * 4000)
            c.send(b"\r\n")
            self.assertTrue(c.readline().startswith(b"CLIENT_ERROR"))
        after = [self.node_cmds(p) for p in self.cl.node_ports()]
        # No set reached a node (the too-large set became one delete).
        self.assertEqual([b[0] for b in before], [a[0] for a in after])
        self.assertEqual(sum(a[1] for a in after) - sum(b[1] for b in before),
                         0)

    BAD = [b"bogus\r\n", b"set k 0 0\r\n", b"set k x 0 1\r\nz\r\n",
           b"set k 0 0 1\r\nzz\r\n", b"get " + b"k" * 251 + b"\r\n",
           b"incr k abc\r\n", b"delete k 0 0\r\n", b"touch k\r\n",
           b"cas k 0 0 1\r\nx\r\n", b"verbosity\r\n", b"mg k v\r\n",
           b"get\r\n", b"flush_all x\r\n", b"set k 0 0 -1\r\n",
           b"set big 0 0 2000000\r\n" + b"x" * 2000000 + b"\r\n"]

    def test_bad_input_same_as_node(self):
        if not ph.have_ringcached():
            raise unittest.SkipTest("ringcached is not built")
        with harness.Server(ph.ringcached_argv()) as node, \
                self.conn() as c, harness.Conn(node.port) as d:
            for req in self.BAD:
                c.send(req + b"version\r\n")
                d.send(req + b"version\r\n")
                mine, theirs = [], []
                for conn, out in ((c, mine), (d, theirs)):
                    while True:
                        line = conn.readline()
                        if line.startswith(b"VERSION"):
                            break
                        out.append(line)
                self.assertEqual(mine, theirs, req[:60])

    def test_line_too_long_closes(self):
        with self.conn() as c:
            c.send(b"set " + b"x" * 3000 + b"\r\n")
            self.assertTrue(c.readline().startswith(b"CLIENT_ERROR"))
            self.assertTrue(c.is_closed())

    @staticmethod
    def node_cmds(port):
        with harness.Conn(port) as c:
            c.send("stats\r\n")
            out = c.read_until_end().decode()
        d = dict(l.split(" ", 2)[1:] for l in out.splitlines()
                 if l.startswith("STAT "))
        return int(d["cmd_set"]), int(d["cmd_get"])

    def test_pymemcache(self):
        try:
            from pymemcache.client.base import Client
        except ImportError:
            raise unittest.SkipTest("python3-pymemcache not installed")
        c = Client(("127.0.0.1", self.cl.port), timeout=5)
        try:
            self.assertTrue(c.set("py1", b"v1"))
            self.assertEqual(c.get("py1"), b"v1")
            self.assertTrue(c.add("py2", b"v2"))
            self.assertFalse(c.add("py2", b"v2", noreply=False))
            self.assertTrue(c.replace("py2", b"v3", noreply=False))
            self.assertTrue(c.append("py2", b"a", noreply=False))
            self.assertTrue(c.prepend("py2", b"p", noreply=False))
            self.assertEqual(c.get("py2"), b"pv3a")
            many = {"pm%d" % i: b"x%d" % i for i in range(100)}
            self.assertEqual(c.set_many(many, noreply=False), [])
            self.assertEqual(c.get_many(list(many)), many)
            val, cas = c.gets("py1")
            self.assertEqual(val, b"v1")
            self.assertTrue(c.cas("py1", b"v9", cas, noreply=False))
            self.assertFalse(c.cas("py1", b"v8", cas, noreply=False))
            self.assertEqual(c.set("cnt", b"1"), True)
            self.assertEqual(c.incr("cnt", 4), 5)
            self.assertEqual(c.decr("cnt", 2), 3)
            self.assertTrue(c.touch("cnt", 100, noreply=False))
            self.assertTrue(c.delete("cnt", noreply=False))
            self.assertIsNone(c.get("cnt"))
            self.assertTrue(c.delete_many(["pm1", "pm2"], noreply=False))
            self.assertTrue(c.version().startswith(b"1.6.18"))
            self.assertIn(b"curr_connections", c.stats())
            self.assertTrue(c.flush_all(noreply=False))
            self.assertIsNone(c.get("py1"))
        finally:
            c.close()


class SeveralBackendConnections(unittest.TestCase):
    def test_pipelined_writes_then_reads_see_each_other(self):
        # Four connections per node per worker: a client's set and the get
        # after it must still reach the node in that order.
        with ph.Cluster(3, conf_extra="backend_connections 4\n") as cl:
            conns = [harness.Conn(cl.port) for _ in range(8)]
            try:
                for i, c in enumerate(conns):
                    c.send(b"".join(b"set rw%d 0 0 %d\r\n%d\r\n"
                                    b"get rw%d\r\n"
                                    % (i, len(str(j)), j, i)
                                    for j in range(300)))
                for i, c in enumerate(conns):
                    for j in range(300):
                        self.assertEqual(c.readline(), b"STORED\r\n")
                        self.assertEqual(c.readline(), b"VALUE rw%d 0 %d\r\n"
                                         % (i, len(str(j))))
                        self.assertEqual(c.readline(), b"%d\r\n" % j)
                        self.assertEqual(c.readline(), b"END\r\n")
            finally:
                for c in conns:
                    c.close()
            st = cl.stats("nodes")
            self.assertGreater(sum(int(st["%s:connects" % n])
                                   for n in cl.names), 3)


class ProxyCommandsRingcached(ProxyCommands):
    kind = "ringcached"


if __name__ == "__main__":
    harness.main()
