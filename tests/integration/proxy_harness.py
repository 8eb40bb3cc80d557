"""Helpers for the ringproxy integration tests (test_proxy_*.py).

`Cluster` starts N backend nodes (stock memcached, or ringcached when it is
built and asked for) and a ringproxy in front of them, on free loopback
ports, and stops every process by PID when the test ends, even on failure.
Fake backends (`FakeNode`) accept and never answer, or answer garbage.
"""

import os
import signal
import socket
import tempfile
import threading
import time
import unittest

import harness


def memcached_argv():
    argv = [harness.system_binary("memcached", "memcached"), "-U", "0",
            "-l", "127.0.0.1", "-p", "{port}", "-m", "32", "-t", "1"]
    if os.geteuid() == 0:
        argv += ["-u", "root"]
    return argv


def ringcached_argv():
    return [harness.binary("ringcached"), "-U", "0", "-l", "127.0.0.1",
            "-p", "{port}", "-m", "32", "-t", "1"]


def have_ringcached():
    try:
        harness.binary("ringcached")
        return True
    except FileNotFoundError:
        return False


class FakeNode:
    """A TCP listener that accepts and then stays silent ("blackhole") or
    answers every read with junk ("garbage")."""

    def __init__(self, mode):
        self.mode = mode
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        self.stop_flag = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        self.sock.settimeout(0.1)
        while not self.stop_flag:
            try:
                c, _ = self.sock.accept()
            except OSError:
                continue
            self.conns.append(c)
            # A subclass serves its own mode with a method named after it.
            serve = getattr(self, "_" + self.mode, None)
            if serve is not None:
                threading.Thread(target=serve, args=(c,),
                                 daemon=True).start()

    def reads(self, c):
        """Yield what peer `c` sends until it closes or the node stops."""
        c.settimeout(0.1)
        while not self.stop_flag:
            try:
                d = c.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            if not d:
                return
            yield d

    def _garbage(self, c):
        for _ in self.reads(c):
            try:
                c.sendall(b"HELLO THERE\r\n\x00\xff junk\r\n")
            except OSError:
                return

    def close(self):
        self.stop_flag = True
        self.thread.join(2)
        for c in self.conns:
            try:
                c.close()
            except OSError:
                pass
        self.sock.close()


def rss_kb(pid):
    """Resident memory of process `pid`, in KiB (VmRSS)."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Cluster:
    """Backends plus a ringproxy. Use as a context manager."""

    def __init__(self, n=3, kind="memcached", conf_extra="", threads=2,
                 weights=None, ports=None, fakes=(), proxy_args=(),
                 mode="v1", wrap=()):
        self.tmp = tempfile.TemporaryDirectory(prefix="ringproxy-test-")
        self.nodes = []
        self.fakes = []
        self.proxy = None
        self.kind = kind
        self.mode = mode
        try:
            for i in range(n):
                self.nodes.append(self.start_node(
                    ports[i] if ports else None))
            # A fake is a FakeNode mode, or a server object of its own
            # (fakebackend.FakeBackend): anything with .port and .close().
            for f in fakes:
                self.fakes.append(f if hasattr(f, "port") else FakeNode(f))
            self.weights = weights or [1] * (n + len(fakes))
            # ketama: unnamed nodes, as twemproxy names them (host:port).
            self.names = ["n%d" % i for i in range(n + len(fakes))] \
                if mode != "ketama" else \
                ["127.0.0.1:%d" % p for p in self.node_ports()]
            self.conf = os.path.join(self.tmp.name, "ringproxy.conf")
            self.conf_extra = conf_extra
            self.write_conf()
            # `wrap`: a command line prefix (prlimit ... --).
            self.proxy = harness.Server(list(wrap) +
                [harness.binary("ringproxy"), "-c", self.conf, "-t",
                 str(threads), "-l", "127.0.0.1:{port}"] + list(proxy_args))
        except BaseException:
            self.close()
            raise

    def start_node(self, port=None):
        argv = ringcached_argv() if self.kind == "ringcached" else \
            memcached_argv()
        return harness.Server(argv, port=port)

    def node_ports(self):
        return [s.port for s in self.nodes] + [f.port for f in self.fakes]

    def conf_text(self, names=None, ports=None, weights=None, extra=None):
        names = names or self.names
        ports = ports or self.node_ports()
        weights = weights or self.weights
        lines = ["listen 127.0.0.1:1", "threads 2"]
        if self.mode == "ketama":
            lines.append("ring ketama fnv1a_64")
        lines.append(self.conf_extra if extra is None else extra)
        for name, port, w in zip(names, ports, weights):
            lines.append("node %s 127.0.0.1:%d %d" % (
                "-" if self.mode == "ketama" else name, port, w))
        return "\n".join(lines) + "\n"

    def write_conf(self, text=None):
        with open(self.conf, "w") as f:
            f.write(text if text is not None else self.conf_text())

    @property
    def port(self):
        return self.proxy.port

    def reload(self):
        self.proxy.signal(signal.SIGHUP)

    def stats(self, args=""):
        with harness.Conn(self.port) as c:
            c.send("stats%s\r\n" % (" " + args if args else ""))
            out = c.read_until_end()
        d = {}
        for line in out.decode().splitlines():
            if line.startswith("STAT "):
                _, k, v = line.split(" ", 2)
                d[k] = v
        return d

    def wait_stat(self, key, pred, timeout=10.0, args=""):
        deadline = time.monotonic() + timeout
        v = None
        while time.monotonic() < deadline:
            v = self.stats(args).get(key)
            if v is not None and pred(v):
                return v
            time.sleep(0.05)
        raise AssertionError("stat %s never satisfied the condition (last "
                             "%r)" % (key, v))

    def close(self):
        if self.proxy is not None:
            self.proxy.stop()
        for s in self.nodes:
            s.stop(signal.SIGKILL)
        for f in self.fakes:
            f.close()
        self.tmp.cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class ClusterCase(unittest.TestCase):
    """Test cases sharing one Cluster of 3 `kind` nodes (self.cl)."""
    kind = "memcached"

    @classmethod
    def setUpClass(cls):
        if cls.kind == "ringcached" and not have_ringcached():
            raise unittest.SkipTest("ringcached is not built")
        cls.cl = Cluster(3, kind=cls.kind)

    @classmethod
    def tearDownClass(cls):
        cls.cl.close()


def node_has(port, key):
    """True if the backend on `port` holds `key` (asked directly)."""
    with harness.Conn(port) as c:
        c.send(b"get " + (key if isinstance(key, bytes) else key.encode())
               + b"\r\n")
        return c.read_until_end().startswith(b"VALUE ")


def locate(port, ks):
    """key -> node name, asked of the proxy ("ringproxy locate")."""
    out = {}
    with harness.Conn(port) as c:
        for i in range(0, len(ks), 200):
            c.send("ringproxy locate %s\r\n" % " ".join(ks[i:i + 200]))
            for line in c.read_until_end().decode().splitlines()[:-1]:
                w = line.split()
                out[w[1]] = w[2]
    return out


class Load:
    """Bounded load: `nthreads` clients, each looping set+get over its own
    keys until stop() or `seconds` pass or `max_ops` ops are done. Records
    per key the successes, the error lines and the slowest operation."""

    def __init__(self, port, ks, nthreads=4, seconds=20.0, max_ops=200000,
                 timeout=5.0):
        self.port = port
        self.ks = ks
        self.ok = {k: 0 for k in ks}
        self.errors = {k: [] for k in ks}
        self.slowest = 0.0
        self.ops = 0
        self.max_ops = max_ops
        self.deadline = time.monotonic() + seconds
        self.timeout = timeout
        self.stopping = False
        self.lock = threading.Lock()
        self.phase = 0
        self.threads = [threading.Thread(target=self._run,
                                         args=(ks[i::nthreads],),
                                         daemon=True)
                        for i in range(nthreads)]
        for t in self.threads:
            t.start()

    def _one(self, c, k, n):
        v = "%s-%d" % (k, n)
        t0 = time.monotonic()
        line = c.call("set %s 0 0 %d\r\n%s\r\n" % (k, len(v), v))
        if line != b"STORED\r\n":
            return line
        c.send("get %s\r\n" % k)
        line = c.readline()
        if not line.startswith(b"VALUE"):
            return line
        data = c.readline()
        end = c.readline()
        if data != v.encode() + b"\r\n" or end != b"END\r\n":
            return b"wrong value: " + data
        self.slowest = max(self.slowest, time.monotonic() - t0)
        return None

    def _run(self, ks):
        c = None
        n = 0
        while not self.stopping and time.monotonic() < self.deadline \
                and self.ops < self.max_ops:
            for k in ks:
                if self.stopping:
                    break
                n += 1
                try:
                    if c is None:
                        c = harness.Conn(self.port, timeout=self.timeout)
                    err = self._one(c, k, n)
                except (OSError, ConnectionError) as e:
                    err = ("exception: %r" % e).encode()
                    c = None
                with self.lock:
                    self.ops += 1
                    if err is None:
                        self.ok[k] += 1
                    else:
                        self.errors[k].append((self.phase, err))
        if c is not None:
            c.close()

    def mark(self, phase):
        """Errors recorded from now on are tagged with `phase`."""
        with self.lock:
            self.phase = phase

    def snapshot(self):
        with self.lock:
            return dict(self.ok), {k: list(v) for k, v in
                                   self.errors.items()}

    def stop(self):
        self.stopping = True
        for t in self.threads:
            t.join(30)
