"""ketama mode against the real twemproxy (Debian's nutcracker 0.5.0).

One nutcracker process serves one pool per key hash (plus named-server and
hash_tag pools) in front of several memcached instances with unequal
weights. Thousands of keys (short, long, non-ASCII, raw high bytes) are
stored through it; each backend is then asked directly which keys it holds,
and `ringtool locate` must name that backend for every single key, both
with a hand-written ringproxy.conf and with the `import-twemproxy`
conversion of the same YAML.
"""

import os
import random
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

import harness

HASHES = ["fnv1a_64", "fnv1_64", "fnv1a_32", "fnv1_32", "md5", "crc16",
          "crc32", "crc32a", "one_at_a_time", "murmur", "hsieh", "jenkins"]
KEYS_PER_POOL = 1500
WEIGHTS = [1, 2, 3, 5]
# Two server names whose ketama points collide: md5("t307-30") and
# md5("t570-31") share the 32-bit point 0xe0c1e7ab (found by search).
TIE_NAMES = ("t307", "t570")
TIE_POINT = "e0c1e7ab"


def memcached_argv(host, port):
    argv = [harness.system_binary("memcached", "memcached"), "-U", "0",
            "-l", host, "-p", str(port), "-m", "64", "-t", "1"]
    if os.geteuid() == 0:
        argv += ["-u", "root"]
    return argv


def make_keys(prefix, n, tagged, rnd):
    keys = []
    for i in range(n):
        kind = i % 5
        if kind == 0:
            k = "%s%d" % (prefix, i)
        elif kind == 1:
            k = "%s:long:%d:" % (prefix, i) + "x" * rnd.randint(100, 200)
        elif kind == 2:
            k = "%s:ключ:キー:%d" % (prefix, i)
        elif kind == 3:
            k = "%s:%d:" % (prefix, i) + "".join(
                chr(rnd.randint(0x21, 0x7e)) for _ in range(rnd.randint(1, 40)))
        else:
            k = None
        if tagged and i % 3 == 0:
            k = "%s:{tag%d}:%d" % (prefix, i % 17, i)
        b = k.encode("utf-8") if k is not None else (
            prefix.encode() + b":" + bytes(rnd.randint(0x80, 0xff)
                                           for _ in range(rnd.randint(1, 30))))
        keys.append(b[:250])
    return list(dict.fromkeys(keys))


def set_all(port, keys):
    with harness.Conn(port, timeout=10) as c:
        for start in range(0, len(keys), 100):
            batch = keys[start:start + 100]
            c.send(b"".join(b"set " + k + b" 0 0 1\r\nv\r\n" for k in batch))
            for k in batch:
                line = c.readline()
                if line != b"STORED\r\n":
                    raise AssertionError("set %r: %r" % (k, line))


def held_by(port, keys):
    found = set()
    with harness.Conn(port, timeout=10) as c:
        for start in range(0, len(keys), 100):
            batch = keys[start:start + 100]
            c.send(b"get " + b" ".join(batch) + b"\r\n")
            while True:
                line = c.readline()
                if line == b"END\r\n":
                    break
                parts = line.split(b" ")
                c.read_exact(int(parts[3]) + 2)
                found.add(parts[1])
    return found


def locate(conf, keys):
    out = subprocess.run([harness.binary("ringtool"), "locate", "-c", conf,
                          "-"], input=b"\n".join(keys) + b"\n",
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         timeout=60, check=False)
    if out.returncode != 0:
        raise AssertionError("ringtool: %s" % out.stderr.decode())
    owners = {}
    for line in out.stdout.split(b"\n"):
        if line:
            f = line.split(b"\t")
            owners[f[0]] = f[2].decode()
    return owners


class NutcrackerKetama(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.procs = []
        cls.tmp = tempfile.mkdtemp(prefix="ringketama.")
        try:
            cls._start()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def _start(cls):
        nutcracker = harness.system_binary("nutcracker", "nutcracker")
        cls.backends = []
        for w in WEIGHTS:
            port = harness.free_port()
            cls.procs.append(harness.Server(memcached_argv("127.0.0.1", port),
                                            port=port))
            cls.backends.append(("127.0.0.1:%d" % port, w, port))
        # One backend on port 11211 of another loopback address, so the
        # "host alone when the port is 11211" naming rule is exercised.
        host = "127.0.%d.%d" % (random.randint(1, 254), random.randint(2, 254))
        # harness.Server waits on 127.0.0.1; wait on the real address here.
        cls.procs.append(harness.Server(memcached_argv(host, 11211),
                                        port=11211, wait=False))
        if cls._listening(host, 11211):
            cls.backends.append(("%s:11211" % host, 2, (host, 11211)))
        cls.pools = {}
        yaml = []
        for i, h in enumerate(HASHES + ["named", "tagged", "tie"]):
            port = harness.free_port()
            name = "p_" + h
            hashname = {"named": "murmur", "tagged": "md5",
                        "tie": "fnv1a_64"}.get(h, h)
            yaml += ["%s:" % name, "  listen: 127.0.0.1:%d" % port,
                     "  hash: %s" % hashname, "  distribution: ketama",
                     "  auto_eject_hosts: false", "  timeout: 2000"]
            if h == "tagged":
                yaml.append('  hash_tag: "{}"')
            yaml.append("  servers:")
            for j, (addr, w, _) in enumerate(cls.pool_backends(h)):
                suffix = " srv-%d" % j if h == "named" else ""
                if h == "tie":
                    suffix, w = " " + TIE_NAMES[j], 1
                yaml.append("   - %s:%d%s" % (addr, w, suffix))
            cls.pools[name] = (port, hashname, h)
        cls.yml = os.path.join(cls.tmp, "nutcracker.yml")
        with open(cls.yml, "w") as f:
            f.write("\n".join(yaml) + "\n")
        first = cls.pools["p_" + HASHES[0]][0]
        stats = harness.free_port()
        cls.procs.append(harness.Server(
            [nutcracker, "-c", cls.yml, "-s", str(stats), "-a", "127.0.0.1",
             "-o", os.path.join(cls.tmp, "nutcracker.log")], port=first))
        for port, _, _ in cls.pools.values():
            if not harness.wait_port(port):
                raise RuntimeError("nutcracker pool port %d" % port)

    @classmethod
    def pool_backends(cls, kind):
        return cls.backends[:2] if kind == "tie" else cls.backends

    @staticmethod
    def _listening(host, port):
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            try:
                socket.create_connection((host, port), timeout=0.5).close()
                return True
            except OSError:
                time.sleep(0.05)
        return False

    @classmethod
    def tearDownClass(cls):
        for p in reversed(cls.procs):
            p.stop()
        shutil.rmtree(cls.tmp, True)

    def _conf(self, pool):
        """A hand-written ringproxy.conf equivalent to the pool."""
        _, hashname, kind = self.pools[pool]
        lines = ["ring ketama %s" % hashname]
        if kind == "tagged":
            lines.append("hash_tag {}")
        for j, (addr, w, _) in enumerate(self.pool_backends(kind)):
            name = "srv-%d" % j if kind == "named" else "-"
            if kind == "tie":
                name, w = TIE_NAMES[j], 1
            lines.append("node %s %s %d" % (name, addr, w))
        path = os.path.join(self.tmp, pool + ".conf")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path

    def _import(self, pool):
        path = os.path.join(self.tmp, pool + ".imported.conf")
        subprocess.run([harness.binary("ringtool"), "import-twemproxy", "-p",
                        pool, "-o", path, self.yml], check=True, timeout=30)
        return path

    def _truth(self, pool, keys):
        set_all(self.pools[pool][0], keys)
        truth = {}
        for addr, _, port in self.pool_backends(self.pools[pool][2]):
            if isinstance(port, tuple):
                with socket.create_connection(port):
                    pass
                held = self._held_remote(port, keys)
            else:
                held = held_by(port, keys)
            for k in held:
                self.assertNotIn(k, truth, "key on two backends")
                truth[k] = addr
        self.assertEqual(len(truth), len(keys), "keys lost in %s" % pool)
        return truth

    @staticmethod
    def _held_remote(hostport, keys):
        # harness.Conn connects to 127.0.0.1 only; same protocol here.
        class C(harness.Conn):
            def __init__(self, host, port):
                self.sock = socket.create_connection((host, port), timeout=10)
                self.buf = b""
        found = set()
        c = C(*hostport)
        try:
            for start in range(0, len(keys), 100):
                batch = keys[start:start + 100]
                c.send(b"get " + b" ".join(batch) + b"\r\n")
                while True:
                    line = c.readline()
                    if line == b"END\r\n":
                        break
                    c.read_exact(int(line.split(b" ")[3]) + 2)
                    found.add(line.split(b" ")[1])
        finally:
            c.close()
        return found

    def _check_pool(self, pool):
        rnd = random.Random(pool)
        keys = make_keys(pool, KEYS_PER_POOL, self.pools[pool][2] == "tagged",
                         rnd)
        self._check_keys(pool, keys, self._truth(pool, keys))

    def _check_keys(self, pool, keys, truth):
        for conf in (self._conf(pool), self._import(pool)):
            owners = locate(conf, keys)
            wrong = [k for k in keys if owners.get(k) != truth[k]]
            self.assertEqual(wrong[:5], [], "%s: %d of %d keys disagree"
                             % (conf, len(wrong), len(keys)))
        print("# %s: ringtool agrees with nutcracker on %d of %d keys "
              "(hand-written and imported config)" % (pool, len(keys),
                                                       len(keys)))

    def test_every_key_hash(self):
        failed = []
        for h in HASHES:
            try:
                self._check_pool("p_" + h)
            except AssertionError as e:
                failed.append("%s: %s" % (h, e))
        self.assertEqual(failed, [])

    def test_named_servers(self):
        self._check_pool("p_named")

    def test_hash_tag(self):
        self._check_pool("p_tagged")

    def test_tied_points_go_to_the_first_name(self):
        """Keys that land on the tied point: twemproxy gives them to the
        server whose name sorts first, and so must ringtool."""
        candidates = [b"tie-%d" % i for i in range(30000)]
        out = subprocess.run([harness.binary("ringtool"), "locate", "-c",
                              self._conf("p_tie"), "-"],
                             input=b"\n".join(candidates) + b"\n",
                             stdout=subprocess.PIPE, check=True, timeout=60)
        keys = [l.split(b"\t")[0] for l in out.stdout.split(b"\n")
                if l.endswith(b"\t" + TIE_POINT.encode())]
        self.assertGreater(len(keys), 5)
        self.assertTrue(all(l.split(b"\t")[1] == TIE_NAMES[0].encode()
                            for l in out.stdout.split(b"\n")
                            if l.endswith(b"\t" + TIE_POINT.encode())))
        truth = self._truth("p_tie", keys)
        self.assertEqual(set(truth.values()), {self.backends[0][0]})
        self._check_keys("p_tie", keys, truth)

    def test_port_11211_naming_rule_was_exercised(self):
        if len(self.backends) == len(WEIGHTS):
            self.skipTest("could not bind a second loopback address on 11211")
        self.assertTrue(self.backends[-1][0].endswith(":11211"))


if __name__ == "__main__":
    harness.main()
