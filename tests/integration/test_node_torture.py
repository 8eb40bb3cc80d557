"""Bounded randomized torture test: several clients at once issue random
commands, pipelined, against one ringcached, and every reply is checked
against a reference model kept by the test. Each client owns its keys, so
its model is exact while the server handles all clients concurrently;
shared keys are only ever set to values from a known set and must read
back as one of them."""

import random
import re
import socket
import threading
import unittest

import harness
import nodelib

CLIENTS = 4
ROUNDS = 1500         # pipelined batches per client
SHARED = ["shared%d" % i for i in range(4)]
NUMERIC = re.compile(rb"[ \t\n\v\f\r]*\+?(\d+)(?:[ \t\n\v\f\r]|\Z)")
SHARED_VALUES = [b"alpha", b"bravo" * 100, b"charlie" * 1000, b"d"]


class Num:
    """A number written back by incr/decr: memcached (and ringcached) may
    pad it with spaces to the old length when rewriting in place."""

    def __init__(self, n, old_len):
        self.n = n
        self.old_len = old_len

    def matches(self, data):
        digits = b"%d" % self.n
        return data.rstrip(b" ") == digits and len(data) <= max(
            self.old_len, len(digits))


UNKNOWN = object()     # after append/prepend to a Num: padding unknown


class Model:
    """What one client's keys must hold: key -> (flags, value), where value
    is bytes, a Num, or UNKNOWN (any value; the next read resyncs)."""

    def __init__(self):
        self.items = {}
        self.cas = {}          # key -> last CAS the server reported


class Client:
    def __init__(self, port, idx, seed):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""
        self.rng = random.Random(seed)
        self.keys = ["c%d_k%d" % (idx, i) for i in range(12)]
        self.model = Model()
        self.errors = []

    # ---- reading ---------------------------------------------------------
    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise ConnectionError("closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def exact(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise ConnectionError("closed")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def values(self):
        """Read VALUE blocks up to END: {key: (flags, data, cas)}."""
        out = {}
        while True:
            line = self.line().split(b" ")
            if line == [b"END"]:
                return out
            if line[0] != b"VALUE":
                raise AssertionError("expected VALUE, got %r" % line)
            data = self.exact(int(line[3]) + 2)[:-2]
            cas = int(line[4]) if len(line) > 4 else None
            out[line[1].decode()] = (int(line[2]), data, cas)

    # ---- operations: (request bytes, checker) ------------------------------
    def op(self):
        r = self.rng.random()
        m = self.model
        k = self.rng.choice(self.keys)
        if r < 0.25:
            v = bytes(self.rng.choice(b"xyz") for _ in
                      range(self.rng.choice([0, 1, 10, 500, 5000])))
            f = self.rng.randrange(1 << 16)
            def check():
                self.expect(self.line(), b"STORED")
                m.items[k] = (f, v)
            return b"set %s %d 0 %d\r\n%s\r\n" % (k.encode(), f, len(v), v), \
                check
        if r < 0.33:
            def check():
                live = k in m.items
                self.expect(self.line(), b"NOT_STORED" if live else b"STORED")
                if not live:
                    m.items[k] = (3, b"added")
            return b"add %s 3 0 5\r\nadded\r\n" % k.encode(), check
        if r < 0.41:
            cmd = self.rng.choice([b"append", b"prepend"])
            def check():
                if k not in m.items:
                    self.expect(self.line(), b"NOT_STORED")
                    return
                self.expect(self.line(), b"STORED")
                f, old = m.items[k]
                if not isinstance(old, bytes):
                    m.items[k] = (f, UNKNOWN)
                else:
                    m.items[k] = (f, old + b"+" if cmd == b"append" else
                                  b"+" + old)
            return b"%s %s 0 0 1\r\n+\r\n" % (cmd, k.encode()), check
        if r < 0.48:
            def check():
                self.expect(self.line(), b"DELETED" if m.items.pop(k, None)
                            is not None else b"NOT_FOUND")
            return b"delete %s\r\n" % k.encode(), check
        if r < 0.56:
            incr = self.rng.random() < 0.5
            d = self.rng.choice([1, 7, 1000])
            def check():
                got = self.line()
                if k not in m.items:
                    self.expect(got, b"NOT_FOUND")
                    return
                f, old = m.items[k]
                if old is UNKNOWN:
                    m.items[k] = (f, UNKNOWN)
                    return
                old_len = len(old) if isinstance(old, bytes) else old.old_len
                if isinstance(old, Num):
                    old = b"%d" % old.n
                # memcached's rule (strtoull): spaces, an optional '+',
                # digits, then the end or a space.
                num = NUMERIC.match(old)
                if num is None or int(num.group(1)) >= 2 ** 64:
                    self.expect(got, b"CLIENT_ERROR cannot increment or "
                                b"decrement non-numeric value")
                    return
                v = int(num.group(1))
                n = (v + d) % 2 ** 64 if incr else max(0, v - d)
                self.expect(got, b"%d" % n)
                m.items[k] = (f, Num(n, max(old_len, len(b"%d" % n))))
            return b"%s %s %d\r\n" % (b"incr" if incr else b"decr",
                                      k.encode(), d), check
        if r < 0.60:
            def check():
                m.items[k] = (0, b"100")
                self.expect(self.line(), b"STORED")
            return b"set %s 0 0 3\r\n100\r\n" % k.encode(), check
        if r < 0.68:
            def check():
                got = self.line()
                if k not in m.items:
                    self.expect(got, b"NOT_FOUND")
                elif got == b"STORED":
                    m.items[k] = (9, b"cas")
                else:
                    self.expect(got, b"EXISTS")
            c = m.cas.get(k, 1)
            return b"cas %s 9 0 3 %d\r\ncas\r\n" % (k.encode(), c), check
        if r < 0.75:
            s = self.rng.choice(SHARED)
            v = self.rng.choice(SHARED_VALUES)
            def check():
                self.expect(self.line(), b"STORED")
            return b"set %s 0 0 %d\r\n%s\r\n" % (s.encode(), len(v), v), check
        if r < 0.80:
            def check():
                for key, (f, data, cas) in self.values().items():
                    if data not in SHARED_VALUES:
                        self.errors.append("shared %s = %r" % (key, data[:40]))
            return b"get " + " ".join(SHARED).encode() + b"\r\n", check
        keys = self.rng.sample(self.keys, self.rng.randint(1, 6))
        def check():
            got = self.values()
            for key in keys:
                want = m.items.get(key)
                have = got.get(key)
                if want is None:
                    if have is not None:
                        self.errors.append("%s: got %r, want miss"
                                           % (key, have[1][:40]))
                    continue
                if have is not None and want[1] is UNKNOWN:
                    m.items[key] = (have[0], have[1])
                    want = m.items[key]
                if have is None or have[0] != want[0] or not (
                        have[1] == want[1] or (isinstance(want[1], Num) and
                                               want[1].matches(have[1]))):
                    self.errors.append("%s: got %r, want %r"
                                       % (key, have and have[:2], want))
                    continue
                m.cas[key] = have[2]
        return b"gets " + " ".join(keys).encode() + b"\r\n", check

    def expect(self, got, want):
        if got != want:
            self.errors.append("got %r, want %r" % (got, want))

    def run(self):
        try:
            for _ in range(ROUNDS):
                ops = [self.op() for _ in range(self.rng.randint(1, 10))]
                self.sock.sendall(b"".join(req for req, _ in ops))
                for _, check in ops:
                    check()
                if len(self.errors) > 5:
                    break
        except Exception as e:      # reported by the main thread
            self.errors.append("exception: %r" % e)
        finally:
            self.sock.close()


class TortureTest(unittest.TestCase):
    def test_concurrent_clients_against_model(self):
        with nodelib.node("-t", "2", "-m", "64") as srv:
            clients = [Client(srv.port, i, 1000 + i) for i in range(CLIENTS)]
            threads = [threading.Thread(target=c.run) for c in clients]
            for t in threads:
                t.start()
            for t in threads:
                t.join(120)
            errors = [e for c in clients for e in c.errors]
            self.assertEqual(errors, [])
            self.assertFalse(any(t.is_alive() for t in threads))
            # Only the stats connection remains once the node has noticed
            # every client's close.
            self.assertTrue(nodelib.wait_for(lambda: nodelib.stats(
                srv.port)["curr_connections"] == "1", timeout=20))
            self.assertEqual(srv.stop(), 0)


if __name__ == "__main__":
    harness.main()
