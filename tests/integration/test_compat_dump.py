"""Key dumps as memcached 1.6.18 gives them: `lru_crawler metadump
all|<classes>|hash` (keys URL-encoded, one "\\n"-ended line per item, then
END) and `stats cachedump <class> <limit>` (what memcdump reads), compared
with /usr/bin/memcached holding the same data; memcdump lists every key;
a dump streams in steps, so other clients are served while a client that
does not read its dump holds one open."""

import re
import socket
import subprocess
import time
import unittest

import harness
import nodelib

# Keys with every kind of byte URL encoding must escape.
ODD_KEYS = ["a%20b~", "plain", "x.y-z_~", "k:1/2?&=#", "\xe9t\xe9"]
DUMP_LINE = re.compile(rb"^key=(\S+) exp=(-?\d+) la=(\d+) cas=(\d+) "
                       rb"fetch=(yes|no) cls=(\d+) size=(\d+)$")


def load(port, keys, binary=()):
    data = b"".join(b"set %s 0 0 1 noreply\r\nv\r\n" % k.encode()
                    for k in keys)
    data += b"".join(b"ms %s 2 b q\r\nhi\r\n" % k for k in binary)
    data += b"get plain\r\nmn\r\n"
    out = nodelib.exchange(port, data)
    assert out.endswith(b"MN\r\n"), out


def metadump(port, what=b"all"):
    """Lines of one metadump (without END), and what followed END."""
    with harness.Conn(port, timeout=30) as c:
        c.send(b"lru_crawler metadump " + what + b"\r\n")
        out = b""
        while not out.endswith(b"END\r\n"):
            chunk = c.sock.recv(1 << 20)
            if not chunk:
                raise ConnectionError("closed after %r" % out[-200:])
            out += chunk
    body = out[:-len(b"END\r\n")]
    return [ln for ln in body.split(b"\n") if ln]


def fields(line):
    m = DUMP_LINE.match(line)
    assert m, line
    return m.groups()


class DumpVsMemcached(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.mc = nodelib.memcached()
        cls.rc = nodelib.node()
        for srv in (cls.mc, cls.rc):
            load(srv.port, ODD_KEYS + ["k%d" % i for i in range(50)],
                 binary=[b"AQID", b"YQ0KYg=="])

    @classmethod
    def tearDownClass(cls):
        cls.mc.stop()
        cls.rc.stop()

    def dumped(self, port, what=b"all"):
        return {fields(ln)[0]: fields(ln)[4] for ln in metadump(port, what)}

    def test_same_keys_and_fetch_marks(self):
        want = self.dumped(self.mc.port)
        got = self.dumped(self.rc.port)
        self.assertIn(b"a%2520b~", want)
        self.assertIn(b"%01%02%03", want)
        self.assertIn(b"a%0D%0Ab", want)
        self.assertEqual(want[b"plain"], b"yes")
        self.assertEqual(got, want)

    def test_hash_and_class_lists(self):
        everything = self.dumped(self.rc.port)
        self.assertEqual(self.dumped(self.rc.port, b"hash"), everything)
        classes = {fields(ln)[5] for ln in metadump(self.rc.port)}
        union = {}
        for c in classes:
            union.update(self.dumped(self.rc.port, c))
        self.assertEqual(union, everything)
        self.assertEqual(self.dumped(self.rc.port, b",".join(classes)),
                         everything)

    def test_lines_have_memcached_fields(self):
        now = time.time()
        for ln in metadump(self.rc.port):
            key, exp, la, cas, fetch, cls, size = fields(ln)
            self.assertEqual(exp, b"-1")
            self.assertLess(abs(int(la) - now), 60)
            self.assertGreater(int(cas), 0)
            self.assertTrue(1 <= int(cls) <= 63)

    def test_same_replies_to_crawler_commands(self):
        cmds = [b"lru_crawler metadump 64", b"lru_crawler metadump x",
                b"lru_crawler metadump 0", b"lru_crawler metadump",
                b"lru_crawler crawl all", b"lru_crawler crawl 0",
                b"lru_crawler crawl 1,2", b"lru_crawler tocrawl x",
                b"lru_crawler tocrawl 5", b"lru_crawler sleep 2000000",
                b"lru_crawler sleep 10", b"lru_crawler foo",
                b"lru_crawler disable", b"lru_crawler metadump all",
                b"lru_crawler crawl all", b"lru_crawler enable",
                b"stats cachedump 64 0", b"stats cachedump x 0",
                b"stats cachedump 1", b"stats cachedump 0 0",
                b"stats cachedump 1 x", b"verbosity invalid",
                b"verbosity 1 2"]
        for cmd in cmds:
            want = nodelib.exchange(self.mc.port, cmd + b"\r\n")
            got = nodelib.exchange(self.rc.port, cmd + b"\r\n")
            if cmd == b"lru_crawler enable":
                # memcached: "ERROR failed to start lru crawler thread"
                # while its thread is still stopping; ringcached: OK.
                self.assertEqual(got, b"OK\r\n")
                continue
            self.assertEqual(got, want, cmd)

    def test_cachedump_lists_the_same_text_keys(self):
        def keys(port):
            out = set()
            for c in range(1, 64):
                text = nodelib.exchange(
                    port, b"stats cachedump %d 0\r\n" % c)
                for ln in text.split(b"\r\n"):
                    m = re.match(rb"^ITEM (\S+) \[(\d+) b; (\d+) s\]$", ln)
                    if m:
                        out.add(m.group(1))
                    else:
                        self.assertIn(ln, (b"END", b""))
            return out
        # memcached 1.6.18 walks only one of its segmented LRUs, so it
        # misses keys; ringcached lists every text key (base64-stored ones
        # are left out by both).
        want = keys(self.mc.port)
        got = keys(self.rc.port)
        self.assertIn(b"a%20b~", want)
        self.assertLessEqual(want, got)
        self.assertEqual(got, {k.encode() for k in ODD_KEYS} |
                         {b"k%d" % i for i in range(50)})


class Memcdump(unittest.TestCase):

    def test_memcdump_lists_every_key(self):
        memcdump = harness.system_binary("memcdump", "libmemcached-tools")
        keys = ["key:%d:%s" % (i, "x" * (i % 200)) for i in range(5000)]
        with nodelib.node() as rc:
            load(rc.port, keys)
            r = subprocess.run([memcdump, "--servers=127.0.0.1:%d" % rc.port],
                               capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(set(r.stdout.decode().split()), set(keys))


class Streaming(unittest.TestCase):

    def test_other_clients_are_served_during_a_dump(self):
        keys = ["k%05d-%s" % (i, "y" * 150) for i in range(20000)]
        with nodelib.node("-t", "1") as rc:
            load(rc.port, keys)
            # One worker thread: the dump and the other client share it.
            slow = socket.create_connection(("127.0.0.1", rc.port))
            slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            slow.sendall(b"lru_crawler metadump all\r\nversion\r\n")
            time.sleep(0.2)
            # The dump (~4 MB) cannot all be written to a client that does
            # not read; the other client is answered all the same.
            with harness.Conn(rc.port) as c:
                for _ in range(20):
                    self.assertTrue(c.call(b"version\r\n").startswith(
                        b"VERSION"))
                    c.send(b"get plain\r\n")
                    self.assertEqual(c.readline(), b"END\r\n")
            slow.settimeout(30)
            out = b""
            while not out.endswith(b"END\r\nVERSION 1.6.18-ringcached-"):
                chunk = slow.recv(1 << 20)
                self.assertTrue(chunk, "closed early")
                out += chunk
                if b"VERSION" in out:
                    break
            while not out.endswith(b"\r\n"):
                out += slow.recv(1 << 16)
            slow.close()
        body, _, tail = out.partition(b"END\r\n")
        self.assertTrue(tail.startswith(b"VERSION "), tail)
        got = {fields(ln)[0].decode() for ln in body.split(b"\n") if ln}
        self.assertEqual(got, set(keys))

    def test_unsafe_keys_are_url_encoded(self):
        with nodelib.node() as rc:
            nodelib.exchange(rc.port, b"mg YQ0KRU4= b N30\r\n"
                             b"ma eCB5 b N0 J1\r\n")
            lines = metadump(rc.port)
        self.assertEqual(sorted(fields(ln)[0] for ln in lines),
                         [b"a%0D%0AEN", b"x%20y"])


if __name__ == "__main__":
    harness.main()
