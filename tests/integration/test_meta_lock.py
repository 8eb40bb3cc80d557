"""The lease lock of tools/examples/meta_lock.py on ringcached, through
ringproxy, and on memcached 1.6 (which must behave the same): contenders never both hold
it, renewal and release need the holder's CAS, and a holder whose lease
expired can neither renew nor release the next holder's lock. Bounded:
a few seconds of contention, TTLs of one second."""

import os
import sys
import threading
import time
import unittest

import harness
import nodelib
import proxy_harness

sys.path.insert(0, os.path.join(
    os.environ.get("RINGCACHE_SRCDIR",
                   os.path.join(os.path.dirname(__file__), "..", "..")),
    "tools", "examples"))
from meta_lock import MetaLock  # noqa: E402

CONTENDERS = 4
CONTEND_SECONDS = 2.0


class LockCases:
    """Run against self.port (set by the subclasses)."""

    def lock(self, key, ttl=5):
        lk = MetaLock("127.0.0.1", self.port, key, ttl)
        self.addCleanup(lk.close)
        return lk

    def test_one_holder_at_a_time(self):
        holder = []
        overlaps = []
        wins = [0] * CONTENDERS
        mu = threading.Lock()
        deadline = time.monotonic() + CONTEND_SECONDS
        locks = [self.lock("contended") for _ in range(CONTENDERS)]

        def run(i):
            lk = locks[i]
            while time.monotonic() < deadline:
                if not lk.acquire():
                    time.sleep(0.001)
                    continue
                with mu:
                    if holder:
                        overlaps.append((holder[0], i))
                    holder.append(i)
                time.sleep(0.002)
                renewed = lk.renew()
                with mu:
                    holder.remove(i)
                released = lk.release()
                if not (renewed and released):
                    overlaps.append(("lost", i, renewed, released))
                wins[i] += 1

        threads = [threading.Thread(target=run, args=(i,))
                   for i in range(CONTENDERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(CONTEND_SECONDS + 10)
        self.assertEqual(overlaps, [])
        self.assertGreater(sum(wins), CONTENDERS, wins)

    def test_second_acquire_fails_while_held(self):
        a, b = self.lock("held"), self.lock("held")
        self.assertTrue(a.acquire())
        self.assertFalse(b.acquire())
        self.assertFalse(b.renew(), "b never held it")
        self.assertFalse(b.release())
        self.assertTrue(a.renew())
        self.assertFalse(b.acquire())
        self.assertTrue(a.release())
        self.assertTrue(b.acquire())
        self.assertTrue(b.release())

    def test_expired_holder_cannot_release_the_new_holders_lock(self):
        a, b = self.lock("lease", ttl=1), self.lock("lease", ttl=30)
        self.assertTrue(a.acquire())
        time.sleep(2.1)  # a's one-second lease runs out
        self.assertTrue(b.acquire(), "the lease expired")
        self.assertFalse(a.release(), "a must not delete b's lock")
        self.assertFalse(a.renew())
        # b still holds it: the key still has b's token.
        with harness.Conn(self.port) as c:
            self.assertEqual(c.call(b"mg lease v\r\n"),
                             b"VA 32\r\n")
            self.assertEqual(c.readline(), b.token + b"\r\n")
        self.assertTrue(b.release())

    def test_release_after_expiry_without_a_new_holder(self):
        a = self.lock("gone", ttl=1)
        self.assertTrue(a.acquire())
        time.sleep(2.1)
        self.assertFalse(a.release())


class OnRingcached(LockCases, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = nodelib.node()
        cls.port = cls.srv.port

    @classmethod
    def tearDownClass(cls):
        cls.srv.__exit__()


class ThroughRingproxy(LockCases, unittest.TestCase):
    """The recipe through ringproxy in front of three ringcached nodes: the
    lock keys live on different nodes, and ms/md/mg are routed by key."""

    @classmethod
    def setUpClass(cls):
        cls.cluster = proxy_harness.Cluster(n=3, kind="ringcached")
        cls.port = cls.cluster.port

    @classmethod
    def tearDownClass(cls):
        cls.cluster.close()


class OnMemcached(LockCases, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        try:
            cls.srv = nodelib.memcached()
        except unittest.SkipTest:
            raise
        cls.port = cls.srv.port

    @classmethod
    def tearDownClass(cls):
        cls.srv.__exit__()


if __name__ == "__main__":
    harness.main()
