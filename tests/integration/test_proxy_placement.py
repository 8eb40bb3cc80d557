"""Keys set through ringproxy land where `ringtool locate` says (ring v1,
weighted), and in ketama mode exactly where nutcracker (twemproxy) puts
them: keys set through one proxy are all hits through the other, and are
found directly on the same backend."""

import json
import os
import subprocess
import tempfile
import unittest

import harness
import proxy_harness as ph

NKEYS = 600


def keys(prefix):
    return ["%s:%d:%s" % (prefix, i, "x" * (i % 37)) for i in range(NKEYS)]


def set_all(port, ks):
    with harness.Conn(port) as c:
        c.send("".join("set %s 0 0 %d\r\n%s\r\n" % (k, len(k), k)
                       for k in ks))
        for _ in ks:
            assert c.readline() == b"STORED\r\n"


def hits(port, ks):
    got = set()
    with harness.Conn(port) as c:
        for i in range(0, len(ks), 100):
            c.send("get %s\r\n" % " ".join(ks[i:i + 100]))
            for line in c.read_until_end().decode().split("\r\n"):
                if line.startswith("VALUE "):
                    got.add(line.split()[1])
    return got


def holders(cl, ks):
    """Map key -> port of the backend that holds it (asked directly)."""
    where = {}
    for port in cl.node_ports():
        for k in hits(port, ks):
            where[k] = port
    return where


class Placement(unittest.TestCase):
    def test_ringtool_locate_names_the_node(self):
        with ph.Cluster(3, weights=[1, 2, 1]) as cl:
            ks = keys("rt")
            set_all(cl.port, ks)
            where = holders(cl, ks)
            self.assertEqual(len(where), NKEYS)
            r = subprocess.run([harness.binary("ringtool"), "--json",
                                "locate", "-c", cl.conf] + ks,
                               capture_output=True, timeout=30)
            self.assertEqual(r.returncode, 0, r.stderr)
            located = json.loads(r.stdout)["keys"]
            by_name = dict(zip(cl.names, cl.node_ports()))
            for item in located:
                self.assertEqual(where[item["key"]], by_name[item["node"]],
                                 item["key"])
            # The heavier node holds about half of the keys.
            n1 = sum(1 for p in where.values() if p == by_name["n1"])
            self.assertGreater(n1, NKEYS * 0.4)
            self.assertLess(n1, NKEYS * 0.6)

    def test_ringtool_asks_a_running_proxy(self):
        rt = harness.binary("ringtool")
        with ph.Cluster(3, weights=[1, 2, 1],
                        conf_extra="failure_limit 1\n") as cl:
            ks = keys("live")[:150]
            r = subprocess.run([rt, "--json", "locate", "-c", cl.conf] + ks,
                               capture_output=True, timeout=30)
            offline = {i["key"]: i["node"] for i in
                       json.loads(r.stdout)["keys"]}
            server = "127.0.0.1:%d" % cl.port
            r = subprocess.run([rt, "--json", "-s", server, "locate"] + ks,
                               capture_output=True, timeout=30)
            self.assertEqual(r.returncode, 0, r.stderr)
            live = json.loads(r.stdout)["keys"]
            self.assertEqual({i["key"]: i["node"] for i in live}, offline)
            self.assertEqual({i["state"] for i in live}, {"up"})
            # A node goes down: `nodes` says so.
            cl.nodes[2].stop()
            with harness.Conn(cl.port) as c:
                k = [k for k in ks if offline[k] == "n2"][0]
                self.assertTrue(c.call("get %s\r\n" % k).startswith(
                    b"SERVER_ERROR"))
            r = subprocess.run([rt, "-s", server, "nodes"],
                               capture_output=True, timeout=30)
            self.assertEqual(r.returncode, 0, r.stderr)
            lines = r.stdout.decode().splitlines()
            self.assertEqual([l.split("\t")[0] for l in lines], cl.names)
            self.assertEqual([l.split("\t")[3] for l in lines],
                             ["up", "up", "down"])
            self.assertIn("weight 2", lines[1])
            # Something that is not a ringproxy is refused.
            r = subprocess.run([rt, "-s", "127.0.0.1:%d" % cl.nodes[0].port,
                                "nodes"], capture_output=True, timeout=30)
            self.assertEqual(r.returncode, 1)
            r = subprocess.run([rt, "nodes"], capture_output=True,
                               timeout=30)
            self.assertEqual(r.returncode, 2)

    def test_ketama_agrees_with_nutcracker(self):
        nutcracker = harness.system_binary("nutcracker", "nutcracker")
        with ph.Cluster(3, mode="ketama", weights=[1, 1, 2]) as cl, \
                tempfile.TemporaryDirectory() as d:
            nport = harness.free_port()
            yml = os.path.join(d, "nutcracker.yml")
            with open(yml, "w") as f:
                f.write("pool:\n  listen: 127.0.0.1:%d\n  hash: fnv1a_64\n"
                        "  distribution: ketama\n  timeout: 2000\n"
                        "  servers:\n" % nport)
                for p, w in zip(cl.node_ports(), cl.weights):
                    f.write("    - 127.0.0.1:%d:%d\n" % (p, w))
            with harness.Server([nutcracker, "-c", yml, "-s",
                                 str(harness.free_port()), "-o",
                                 os.path.join(d, "nc.log")], port=nport):
                a, b = keys("via-nutcracker"), keys("via-ringproxy")
                set_all(nport, a)
                set_all(cl.port, b)
                self.assertEqual(hits(cl.port, a), set(a))
                self.assertEqual(hits(nport, b), set(b))
            # And every key is on exactly one backend.
            where = holders(cl, a + b)
            self.assertEqual(len(where), 2 * NKEYS)
            self.assertEqual(len(set(where.values())), 3)


if __name__ == "__main__":
    harness.main()
