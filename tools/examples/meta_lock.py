#!/usr/bin/python3
"""A lease lock on ringcached (or memcached 1.6) with meta commands.

    acquire  ms <key> <len> T<ttl> ME c    add-only; the value is a unique
                                           owner token; HD c<cas> = ours
    renew    ms <key> <len> T<ttl> C<cas> c
                                           compare-and-set on our CAS
    release  md <key> C<cas>               deletes only if still ours;
                                           EX (or NF) if not

What it is for: keeping several workers from doing the same work at once
(a cron job on many hosts, rebuilding one cache entry). It is a lease on a
cache, so it is lost when the node restarts, evicts the key or is
unreachable, and a holder that stalls past its TTL loses it without
knowing. It is not for correctness-critical mutual exclusion: use a
consensus store (ZooKeeper, etcd) with fencing tokens for that.

As a program:  meta_lock.py HOST:PORT KEY TTL SECONDS
takes the lock, holds it SECONDS (renewing every TTL/3), releases it, and
exits 0; exits 1 if someone else holds it.
"""

import os
import socket
import sys
import time


class LockError(Exception):
    """The server answered something a lock client does not expect."""


class MetaLock:
    """One lock key on one server; one instance per contender."""

    def __init__(self, host, port, key, ttl, timeout=5.0):
        if not key or len(key) > 250 or any(c in key for c in " \r\n"):
            raise ValueError("bad key")
        self.key = key.encode()
        self.ttl = int(ttl)
        self.token = os.urandom(16).hex().encode()
        self.cas = None
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.rfile = self.sock.makefile("rb")

    def close(self):
        self.rfile.close()
        self.sock.close()

    def _call(self, line, data=None):
        out = line + b"\r\n"
        if data is not None:
            out += data + b"\r\n"
        self.sock.sendall(out)
        reply = self.rfile.readline()
        if not reply.endswith(b"\r\n"):
            raise LockError("connection closed")
        words = reply.split()
        if not words or words[0] not in (b"HD", b"NS", b"EX", b"NF"):
            raise LockError(reply.decode(errors="replace").strip())
        return words

    @staticmethod
    def _cas(words):
        for w in words[1:]:
            if w.startswith(b"c"):
                return int(w[1:])
        raise LockError("no CAS in reply")

    def acquire(self):
        """True if we now hold the lock (for ttl seconds)."""
        words = self._call(b"ms %s %d T%d ME c" % (
            self.key, len(self.token), self.ttl), self.token)
        if words[0] != b"HD":
            return False
        self.cas = self._cas(words)
        return True

    def renew(self):
        """Extend our lease by ttl; False if it is no longer ours."""
        if self.cas is None:
            return False
        words = self._call(b"ms %s %d T%d C%d c" % (
            self.key, len(self.token), self.ttl, self.cas), self.token)
        if words[0] != b"HD":
            self.cas = None
            return False
        self.cas = self._cas(words)
        return True

    def release(self):
        """Delete the lock if it is still ours; False if it was not."""
        if self.cas is None:
            return False
        words = self._call(b"md %s C%d" % (self.key, self.cas))
        self.cas = None
        return words[0] == b"HD"


def main(argv):
    if len(argv) != 5:
        sys.stderr.write(__doc__)
        return 2
    host, port = argv[1].rsplit(":", 1)
    lock = MetaLock(host, int(port), argv[2], int(argv[3]))
    try:
        if not lock.acquire():
            print("held by someone else")
            return 1
        print("acquired")
        deadline = time.monotonic() + float(argv[4])
        while time.monotonic() < deadline:
            time.sleep(min(lock.ttl / 3.0, deadline - time.monotonic()))
            if not lock.renew():
                print("lost the lock")
                return 1
        print("released" if lock.release() else "lost the lock")
        return 0
    finally:
        lock.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
