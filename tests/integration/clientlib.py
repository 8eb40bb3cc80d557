"""The client matrix driver (tests/integration/test_clients_*.py).

Each client library gets a small program in tests/integration/clients/
that takes a server list and a mode, exercises every call the library
exposes, and prints one line per check:

    ok NAME
    fail NAME what went wrong
    skip NAME why (the library has no such call)

`Matrix` runs the program against one ringcached and against a ringproxy
over three ringcached nodes, and fails the test case when a check fails
or an expected check is missing. Checks that are known not to work yet
are listed in `PENDING` with the reason, and reported as skipped; one that
passes anyway counts as passed and is named in the output (a binary request
can happen to contain a newline, so a server without binary detection may
answer it with ERROR: not a failure to hide, not a pass to count on).

Every test case prints "# matrix CLIENT TARGET: P passed, F failed,
S skipped" (TAP comments), the numbers README.md quotes.
"""

import os
import subprocess
import tempfile
import unittest

import harness
import proxy_harness as ph

HERE = os.path.dirname(os.path.abspath(__file__))
CLIENTS = os.path.join(HERE, "clients")

# The calls every client is asked for; a library without one prints skip.
CHECKS = ("set_get", "add", "replace", "append_prepend", "cas", "delete",
          "incr_decr", "touch", "get_multi", "stats", "stats_settings",
          "stats_items", "stats_slabs", "stats_sizes", "stats_conns",
          "all_keys", "flush_all", "binary_fails_fast")

# binary_fails_fast: each program gives a binary-protocol client 1 s to get
# its error. The point is "at once" instead of the client's whole timeout
# (PHP: 60 s); the programs set their timeouts to 3 s so that a hang fails
# in bounded time.

# Known gaps, by (target, check): reported as skipped with the reason.
PENDING = {
}


def tool(name, package):
    """A client program from a Debian package, or SkipTest naming it."""
    return harness.system_binary(name, package)


def run(argv, timeout=120, env=None, cwd=None):
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout, env=env, cwd=cwd)
    return p.returncode, p.stdout.decode("utf-8", "replace"), \
        p.stderr.decode("utf-8", "replace")


def parse(out):
    """{check: (status, detail)} from a program's output."""
    res = {}
    for line in out.splitlines():
        word, _, rest = line.partition(" ")
        if word in ("ok", "fail", "skip"):
            name, _, detail = rest.partition(" ")
            res[name] = (word, detail)
    return res


class Matrix(unittest.TestCase):
    """Subclasses set `client` and define command(servers, tmp)."""
    client = None
    checks = CHECKS

    @classmethod
    def setUpClass(cls):
        if not ph.have_ringcached():
            raise unittest.SkipTest("ringcached is not built")
        cls.tmp = tempfile.TemporaryDirectory(prefix="clients-")
        cls.prepare(cls.tmp.name)   # may raise SkipTest
        cls.node = harness.Server(ph.ringcached_argv())
        try:
            cls.cluster = ph.Cluster(3, kind="ringcached")
        except BaseException:
            cls.node.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.cluster.close()
        cls.node.stop()
        cls.tmp.cleanup()

    @classmethod
    def prepare(cls, tmp):
        """Compile what needs compiling, once for both targets."""

    def command(self, servers, tmp):
        raise NotImplementedError

    def servers(self, target):
        port = self.node.port if target == "node" else self.cluster.port
        return "127.0.0.1:%d" % port

    def matrix(self, target):
        rc, out, err = run(self.command(self.servers(target),
                                        self.tmp.name))
        res = parse(out)
        failed, skipped, passed, stale = [], [], [], []
        for check in self.checks:
            st, detail = res.get(check, ("fail", "no result (exit %d): %s"
                                         % (rc, err.strip()[-400:])))
            why = PENDING.get((target, check))
            if why is not None:
                if st == "ok":
                    stale.append(check)
                    passed.append(check)
                else:
                    skipped.append((check, why))
                continue
            if st == "ok":
                passed.append(check)
            elif st == "skip":
                skipped.append((check, detail))
            else:
                failed.append((check, detail))
        print("# matrix %s %s: %d passed, %d failed, %d skipped"
              % (self.client, target, len(passed), len(failed),
                 len(skipped)))
        for check, why in skipped:
            print("#   skip %s: %s" % (check, why))
        for check, why in failed:
            print("#   FAIL %s: %s" % (check, why))
        for check in stale:
            print("#   pending check %s passes: drop it from PENDING" % check)
        self.assertEqual(failed, [], "%s against the %s" % (self.client,
                                                           target))

    def test_node(self):
        self.matrix("node")

    def test_proxy(self):
        self.matrix("proxy")
