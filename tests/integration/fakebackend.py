"""A scriptable fake memcached backend for the proxy's hostile tests.

`FakeBackend` listens on a free loopback port and speaks enough of the
text protocol to be a healthy node (version, get/gets/gat/gats, set and
the other storage commands, delete, touch, mn, mg, ms, md) over an
in-memory dict, until a script says otherwise. A script is a function
called with each parsed request; it returns None (behave normally) or a
list of actions, run in order on that connection:

    b"bytes"            send them
    ("sleep", secs)     wait
    ("drip", data, s)   send data one byte at a time, s seconds apart
    ("close",)          close the connection (mid-reply if bytes went out)
    ("never",)          never answer this request nor read another one

Helpers build the usual misbehaviours: forged(key, data) answers a
retrieval with a VALUE for another key, wrong_size(...) lies about a
value's length, close_mid_value(...) hangs up inside a data block.
Everything runs on daemon threads; close() stops them.
"""

import socket
import threading
import time


class Request:
    """One request: its command, keys, the raw line and the data block
    (storage commands)."""

    def __init__(self, line, data=None):
        self.line = line
        self.words = line.split()
        self.cmd = self.words[0].decode("latin-1") if self.words else ""
        self.data = data

    @property
    def keys(self):
        if self.cmd in ("get", "gets"):
            return self.words[1:]
        if self.cmd in ("gat", "gats"):
            return self.words[2:]
        return self.words[1:2]

    def __repr__(self):
        return "Request(%r)" % self.line


STORAGE = ("set", "add", "replace", "append", "prepend", "cas")


class FakeBackend:
    def __init__(self, script=None):
        self.script = script
        self.store = {}
        self.requests = []          # every Request seen, in order
        self.lock = threading.Lock()
        self.conns = []
        self.stopping = False
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    # ---- serving ---------------------------------------------------------

    def _accept(self):
        while not self.stopping:
            try:
                c, _ = self.sock.accept()
            except OSError:
                continue
            with self.lock:
                self.conns.append(c)
            threading.Thread(target=self._serve, args=(c,),
                             daemon=True).start()

    def _serve(self, c):
        c.settimeout(0.2)
        buf = b""
        try:
            while not self.stopping:
                req, buf = self._next(c, buf)
                if req is None:
                    return
                with self.lock:
                    self.requests.append(req)
                actions = self.script(req) if self.script else None
                if actions is None:
                    actions = [self.normal(req)]
                for a in actions:
                    if not self._act(c, a):
                        return
        except OSError:
            return
        finally:
            try:
                c.close()
            except OSError:
                pass

    def _recv(self, c, buf):
        while not self.stopping:
            try:
                d = c.recv(65536)
            except socket.timeout:
                continue
            if not d:
                return None
            return buf + d
        return None

    def _next(self, c, buf):
        """The next request on c, or (None, _) at EOF or stop."""
        while b"\r\n" not in buf:
            buf = self._recv(c, buf)
            if buf is None:
                return None, b""
        line, buf = buf.split(b"\r\n", 1)
        req = Request(line)
        n = None
        if req.cmd in STORAGE and len(req.words) >= 5:
            n = int(req.words[4])
        elif req.cmd == "ms" and len(req.words) >= 3:
            n = int(req.words[2])
        if n is not None:
            while len(buf) < n + 2:
                buf = self._recv(c, buf)
                if buf is None:
                    return None, b""
            req.data, buf = buf[:n], buf[n + 2:]
        return req, buf

    def _act(self, c, a):
        if isinstance(a, bytes):
            c.sendall(a)
            return True
        if a[0] == "sleep":
            time.sleep(a[1])
            return True
        if a[0] == "drip":
            for i in range(len(a[1])):
                c.sendall(a[1][i:i + 1])
                time.sleep(a[2])
            return True
        if a[0] == "close":
            return False
        if a[0] == "never":
            while not self.stopping:
                time.sleep(0.05)
            return False
        raise ValueError(a)

    # ---- a well-behaved node ---------------------------------------------

    def normal(self, req):
        """The reply a memcached would give (the subset we need)."""
        cmd, w = req.cmd, req.words
        if cmd == "version":
            return b"VERSION 1.6.18-fake\r\n"
        if cmd in ("get", "gets", "gat", "gats"):
            out = b""
            for k in req.keys:
                if k in self.store:
                    v = self.store[k]
                    out += b"VALUE %s 0 %d%s\r\n%s\r\n" % (
                        k, len(v), b" 1" if cmd in ("gets", "gats") else b"",
                        v)
            return out + b"END\r\n"
        if cmd in STORAGE:
            self.store[w[1]] = req.data
            return b"" if w[-1] == b"noreply" else b"STORED\r\n"
        if cmd == "delete":
            return b"DELETED\r\n" if self.store.pop(w[1], None) is not None \
                else b"NOT_FOUND\r\n"
        if cmd == "touch":
            return b"TOUCHED\r\n" if w[1] in self.store else \
                b"NOT_FOUND\r\n"
        if cmd == "mn":
            return b"MN\r\n"
        if cmd == "ms":
            self.store[w[1]] = req.data
            return b"HD\r\n"
        if cmd == "mg":
            if w[1] not in self.store:
                return b"EN\r\n"
            v = self.store[w[1]]
            if b"v" in w[2:]:
                return b"VA %d\r\n%s\r\n" % (len(v), v)
            return b"HD\r\n"
        if cmd == "md":
            return b"HD\r\n" if self.store.pop(w[1], None) is not None \
                else b"NF\r\n"
        return b"ERROR\r\n"

    # ---- bookkeeping -----------------------------------------------------

    def seen(self, cmd=None):
        with self.lock:
            return [r for r in self.requests if cmd is None or r.cmd == cmd]

    def close(self):
        self.stopping = True
        self.thread.join(2)
        with self.lock:
            conns = list(self.conns)
        for c in conns:
            try:
                c.close()
            except OSError:
                pass
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ---- misbehaviours, for scripts --------------------------------------------

def forged(key, data):
    """A VALUE element for `key` (not the one asked for), then END."""
    return [b"VALUE %s 0 %d\r\n%s\r\nEND\r\n" % (key, len(data), data)]


def wrong_size(key, claimed, data):
    """A VALUE for the right key whose data block is not `claimed`
    bytes long."""
    return [b"VALUE %s 0 %d\r\n%s\r\nEND\r\n" % (key, claimed, data)]


def close_mid_value(key, size):
    """Announce `size` bytes, send half of them, hang up."""
    return [b"VALUE %s 0 %d\r\n%s" % (key, size, b"x" * (size // 2)),
            ("close",)]
