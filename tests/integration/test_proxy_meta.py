"""Meta commands through ringproxy: each goes to its key's node (the
base64-decoded key with b), quiet mode (q) hides exactly what memcached
hides, mn ends a quiet batch in order, opaque and key flags are echoed.
A script of meta requests gets byte-identical answers through a proxy in
front of 3 nodes and from one node directly, for ringcached and stock
memcached nodes alike."""

import base64
import unittest

import harness
import proxy_harness as ph

# No c (CAS) flags and no me: CAS uniques count per node, so they differ
# between one node and three.
SCRIPT = [
    b"ms mk1 2 T0 F5\r\nhi\r\n",
    b"mg mk1 v f k s t\r\n",
    b"mg nokey v\r\n",
    b"mg nokey v q\r\n",
    b"mg mk1 v q Oabc\r\n",
    b"mn\r\n",
    b"ms mk2 1 q\r\nx\r\n",
    b"ms mk2 1 q MA\r\ny\r\n",
    b"mg mk2 v\r\n",
    b"md mk2 q\r\n",
    b"md mk2 q\r\n",
    b"md mk2 O77\r\n",
    b"ma cnt N0 J5 v\r\n",
    b"ma cnt q\r\n",
    b"ma cnt v D10\r\n",
    b"ma cnt q MD D100 v\r\n",
    b"ma nocnt q\r\n",
    b"mn\r\n",
    b"ms " + base64.b64encode(b"bin key") + b" 3 b\r\nabc\r\n",
    b"mg " + base64.b64encode(b"bin key") + b" b v k\r\n",
    b"ms mk3 2 I\r\nzz\r\n",
    b"mg\r\n",
    b"mg mk1 v zz\r\n",
    b"ms mk4 S1\r\nx\r\n",
    b"mn\r\n",
]


def run_script(port):
    out = []
    with harness.Conn(port) as c:
        c.send(b"".join(SCRIPT) + b"version\r\n")
        while True:
            line = c.readline()
            if line.startswith(b"VERSION"):
                return out
            out.append(line)


class MetaThroughProxy(unittest.TestCase):
    kind = "memcached"

    def argv(self):
        return ph.ringcached_argv() if self.kind == "ringcached" else \
            ph.memcached_argv()

    def setUp(self):
        if self.kind == "ringcached" and not ph.have_ringcached():
            raise unittest.SkipTest("ringcached is not built")

    def test_same_answers_as_one_node(self):
        with ph.Cluster(3, kind=self.kind) as cl, \
                harness.Server(self.argv()) as node:
            via_proxy = run_script(cl.port)
            direct = run_script(node.port)
            self.assertEqual(via_proxy, direct)
            self.assertIn(b"MN\r\n", via_proxy)
            # The keys really are spread over the nodes.
            owners = ph.locate(cl.port, ["mk1", "mk2", "cnt", "mk3", "mk4"])
            self.assertGreater(len(set(owners.values())), 1)

    def test_routing_uses_the_decoded_key(self):
        with ph.Cluster(3, kind=self.kind) as cl:
            key = "user:%d" % 42
            b64 = base64.b64encode(key.encode()).decode()
            with harness.Conn(cl.port) as c:
                self.assertEqual(c.call("ms %s 2 b\r\nhi\r\n" % b64),
                                 b"HD\r\n")
                # A classic get of the plain key finds it: same node.
                self.assertEqual(c.call("get %s\r\n" % key),
                                 b"VALUE %s 0 2\r\n" % key.encode())
                c.readline()
                c.readline()
                # (memcached shows a key stored with b in base64.)
                self.assertIn(c.call("me %s\r\n" % key).split()[:2],
                              ([b"ME", key.encode()], [b"ME", b64.encode()]))
            owner = ph.locate(cl.port, [key])[key]
            port = cl.node_ports()[cl.names.index(owner)]
            self.assertTrue(ph.node_has(port, key))

    def test_quiet_batch_through_a_down_node(self):
        with ph.Cluster(3, kind=self.kind,
                        conf_extra="failure_limit 1\n") as cl:
            ks = ["q%d" % i for i in range(30)]
            owner = ph.locate(cl.port, ks)
            cl.nodes[0].stop()
            with harness.Conn(cl.port) as c:
                c.send("".join("ms %s 1 q\r\nv\r\n" % k for k in ks) +
                       "mn\r\n")
                lines = []
                while True:
                    line = c.readline()
                    if line == b"MN\r\n":
                        break
                    lines.append(line)
            # Only the down node's keys answered (with errors), in order.
            down = [k for k in ks if owner[k] == "n0"]
            self.assertEqual(len(lines), len(down))
            for line in lines:
                self.assertTrue(line.startswith(b"SERVER_ERROR backend n0"),
                                line)


class MetaThroughProxyRingcached(MetaThroughProxy):
    kind = "ringcached"


if __name__ == "__main__":
    harness.main()
