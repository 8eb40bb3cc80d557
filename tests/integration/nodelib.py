"""Helpers shared by the ringcached integration tests (test_node_*.py)."""

import os
import socket
import time

import harness


def node(*args, env=None, wait=True):
    """A ringcached on a free loopback port (2 threads unless overridden)."""
    argv = [harness.binary("ringcached"), "-p", "{port}", "-l", "127.0.0.1"]
    if "-t" not in args:
        argv += ["-t", "2"]
    return harness.Server(argv + list(args), env=env, wait=wait)


def memcached(*args):
    """The Debian memcached 1.6 on a free loopback port, UDP off."""
    path = harness.system_binary("memcached", "memcached")
    argv = [path, "-U", "0", "-p", "{port}", "-l", "127.0.0.1", "-t", "2"]
    if os.getuid() == 0:
        argv += ["-u", "nobody"]
    return harness.Server(argv + list(args))


def exchange(port, data, quiet=0.3, limit=10.0, first=5.0):
    """Send `data` on a fresh connection; return every byte received until
    the server is quiet for `quiet` seconds, plus b"<EOF>" if it closed
    (see drain)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(data)
        return drain(s, quiet, limit, first)


def drain(s, quiet=0.3, limit=10.0, first=5.0):
    """Read from socket `s` until it is quiet or closed. The first byte may
    take up to `first` seconds (a slow, sanitized build); after it, a
    pause of `quiet` seconds ends the reply. Pass first=quiet when no
    reply is expected."""
    out = b""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        s.settimeout(first if not out else quiet)
        try:
            chunk = s.recv(1 << 20)
        except socket.timeout:
            break
        except ConnectionResetError:
            return out + b"<EOF>"
        if not chunk:
            return out + b"<EOF>"
        out += chunk
    return out


def stats(port, group=""):
    """A dict of `stats [group]`."""
    with harness.Conn(port) as c:
        c.send("stats %s\r\n" % group if group else "stats\r\n")
        text = c.read_until_end().decode()
    out = {}
    for line in text.split("\r\n"):
        parts = line.split(" ", 2)
        if len(parts) == 3 and parts[0] == "STAT":
            out[parts[1]] = parts[2]
    return out


def wait_for(pred, timeout=5.0):
    """Poll pred() until it is true or `timeout` passes; return its value."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(0.02)
