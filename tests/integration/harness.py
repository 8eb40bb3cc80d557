"""Shared helpers for integration tests.

Each integration test is a Python script run by `make check`. It defines
unittest.TestCase classes and ends with `harness.main()`, which runs them and
prints TAP (one line per test case) for automake's tap-driver.

Servers are spawned on free loopback ports with `Server`, which always kills
its process (by PID) when the test ends, even when the test fails.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import unittest

# The Server class has a signal() method, which hides the module inside the
# class body; default arguments there use this name instead.
SIGTERM = signal.SIGTERM

BUILDDIR = os.environ.get("RINGCACHE_BUILDDIR",
                          os.path.abspath(os.path.join(
                              os.path.dirname(__file__), "..", "..")))
SRCDIR = os.environ.get("RINGCACHE_SRCDIR",
                        os.path.abspath(os.path.join(
                            os.path.dirname(__file__), "..", "..")))


def binary(name):
    """Path of a program built by this tree (ringcached, ringproxy, ...)."""
    for cand in (os.path.join(BUILDDIR, name),
                 os.path.join(BUILDDIR, "tools", name, name),
                 os.path.join(BUILDDIR, "tools", "bench", name)):
        if os.path.exists(cand):
            return cand
    raise FileNotFoundError(name + " is not built in " + BUILDDIR)


def system_binary(name, package):
    """Path of a Debian-packaged program; skips the test when it is absent."""
    for d in ("/usr/bin", "/usr/sbin", "/usr/local/bin"):
        p = os.path.join(d, name)
        if os.path.exists(p):
            return p
    found = shutil.which(name)
    if found:
        return found
    raise unittest.SkipTest("%s not installed (apt-get install %s)"
                            % (name, package))


_given_ports = set()


def free_port():
    """A loopback TCP port that was free a moment ago, and never handed
    out before by this process: the kernel may give a just-closed port
    again, and a test that asks for several (nutcracker's pools) must not
    get one twice."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _given_ports:
            _given_ports.add(port)
            return port
    raise RuntimeError("no fresh loopback port in 100 tries")


def wait_port(port, timeout=10.0, host="127.0.0.1"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.02)
    return False


def root_user_args(argv):
    """ringcached refuses to run as root without -u, as memcached does;
    tests run as root in CI, so they name root itself (as memcached
    allows) unless the test gives its own -u."""
    if os.geteuid() != 0 or os.path.basename(argv[0]) != "ringcached":
        return []
    if "-u" in argv or any(a.startswith("--user") for a in argv):
        return []
    return ["-u", "root"]


class Server:
    """A spawned server process; use as a context manager or call stop().

    `argv` may contain "{port}", replaced by a free port. stderr goes to a
    log file that is printed (as TAP comments) if the test fails.
    """

    def __init__(self, argv, port=None, wait=True, env=None, timeout=10.0):
        self.port = port or free_port()
        self.argv = [a.replace("{port}", str(self.port)) for a in argv]
        self.argv += root_user_args(self.argv)
        self.log_path = "%s/%s.%d.log" % (
            os.environ.get("TMPDIR", "/tmp"),
            os.path.basename(self.argv[0]), self.port)
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.argv, stdout=self.log,
                                     stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=env)
        if wait and not wait_port(self.port, timeout):
            out = self.output()
            self.stop()
            raise RuntimeError("%s did not listen on %d:\n%s"
                               % (self.argv, self.port, out))

    def output(self):
        self.log.flush()
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def signal(self, sig):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)

    def stop(self, sig=SIGTERM, timeout=10.0):
        """Stop the server; return its exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        try:
            os.unlink(self.log_path)
        except OSError:
            pass


class Conn:
    """A raw text-protocol connection: send bytes, read exact replies."""

    def __init__(self, port, host="127.0.0.1", timeout=5.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def readline(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed; partial: %r" % self.buf)
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line + b"\r\n"

    def read_exact(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def call(self, data):
        """Send a request and return its first reply line."""
        self.send(data)
        return self.readline()

    def read_until_end(self, end=b"END\r\n"):
        out = b""
        while not out.endswith(end):
            out += self.readline()
        return out

    def is_closed(self, timeout=2.0):
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(1) == b""
        except socket.timeout:
            return False
        except ConnectionResetError:
            return True

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class TapResult(unittest.TestResult):
    """Prints one TAP line per test as it finishes."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.n = 0

    def _line(self, ok, test, extra=""):
        self.n += 1
        name = test.id().split(".", 1)[-1]
        print("%s %d - %s%s" % ("ok" if ok else "not ok", self.n, name, extra))
        sys.stdout.flush()

    def addSuccess(self, test):
        super().addSuccess(test)
        self._line(True, test)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._line(False, test)
        self._diag(self.failures[-1][1])

    def addError(self, test, err):
        super().addError(test, err)
        self._line(False, test)
        self._diag(self.errors[-1][1])

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._line(True, test, " # SKIP " + reason)

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self._line(True, test, " # TODO expected failure")

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._line(False, test, " # unexpected success")

    @staticmethod
    def _diag(text):
        for line in text.rstrip().splitlines():
            print("# " + line)


def main():
    """Run every TestCase of the calling script and print TAP."""
    module = sys.modules["__main__"]
    suite = unittest.defaultTestLoader.loadTestsFromModule(module)
    print("1..%d" % suite.countTestCases())
    result = TapResult()
    try:
        suite.run(result)
    except KeyboardInterrupt:
        pass
    sys.exit(0 if result.wasSuccessful() else 1)
