#!/usr/bin/python3
"""Bytes of memory per item in stock memcached, for the store benchmark.

Starts /usr/bin/memcached on a free loopback port with -m 1024, stores N
items with 16-byte keys and 100-byte values over the text protocol
(pipelined, noreply), then reads the process RSS from /proc and prints

    memcached <version>: N items, RSS delta D bytes, R bytes/item RSS,
        A bytes/item accounted (slab pages + hash table)

The RSS baseline is taken after startup, before any item is stored.
Usage: memcached_mem.py [N]   (default 1000000). Bounded: 60 s at most.
"""
import os
import socket
import subprocess
import sys
import time

MEMCACHED = "/usr/bin/memcached"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_bytes(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS for pid %d" % pid)


def connect(port, deadline):
    while True:
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=10)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def request(sock, line, end):
    sock.sendall(line)
    buf = b""
    while not buf.endswith(end):
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError("memcached closed the connection")
        buf += chunk
    return buf


def stats(sock, what=b""):
    out = {}
    cmd = b"stats " + what + b"\r\n" if what else b"stats\r\n"
    for line in request(sock, cmd, b"END\r\n").split(b"\r\n"):
        parts = line.split()
        if len(parts) == 3 and parts[0] == b"STAT":
            out[parts[1].decode()] = parts[2].decode()
    return out


def fill(sock, n):
    value = b"v" * 100
    batch = []
    for i in range(n):
        batch.append(b"set key:%012d 0 0 100 noreply\r\n%s\r\n" % (i, value))
        if len(batch) == 5000:
            sock.sendall(b"".join(batch))
            batch = []
    if batch:
        sock.sendall(b"".join(batch))
    # A reply to a request sent after the last set means all were handled.
    request(sock, b"version\r\n", b"\r\n")


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000000
    port = free_port()
    cmd = [MEMCACHED, "-U", "0", "-l", "127.0.0.1", "-p", str(port),
           "-m", "1024"]
    if os.geteuid() == 0:
        cmd += ["-u", "nobody"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        sock = connect(port, deadline)
        version = request(sock, b"version\r\n", b"\r\n").split()[1].decode()
        time.sleep(0.2)
        base = rss_bytes(proc.pid)
        fill(sock, n)
        rss = rss_bytes(proc.pid)
        st = stats(sock)
        items = int(st["curr_items"])
        slabs = stats(sock, b"slabs")
        accounted = int(slabs["total_malloced"]) + int(st["hash_bytes"])
        print("memcached %s: %d items, RSS delta %d bytes, %.1f bytes/item RSS,"
              " %.1f bytes/item accounted (slab pages + hash table)"
              % (version, items, rss - base, (rss - base) / max(items, 1),
                 accounted / max(items, 1)))
        sock.close()
        return 0 if items == n else 1
    finally:
        proc.kill()
        proc.wait()


if __name__ == "__main__":
    sys.exit(main())
