"""memcached's command line on ringcached: Debian's /etc/memcached.conf
started exactly as the memcached package's systemd wrapper builds it, -d
with -P (double fork, pid file written once listening and removed at
exit), -k, -r, the -o options memcached users set, the refusals (UDP,
TLS), and root without -u refused with memcached's message."""

import os
import pwd
import re
import shlex
import signal
import subprocess
import tempfile
import time
import unittest

import harness
import nodelib

DEBIAN_CONF = "/etc/memcached.conf"
WRAPPER = "/usr/share/memcached/scripts/systemd-memcached-wrapper"


def wrapper_args(text):
    """The flags Debian's systemd-memcached-wrapper passes to memcached for
    a memcached.conf (its Perl, line for line): comments and blank lines
    dropped, -d and -h lines dropped, "directive value" lines (logfile)
    dropped, "-u root" added when no -u; joined and split by the shell."""
    params = []
    for line in text.splitlines():
        line = re.sub(r"(?<!\\)#[^#]*", "", line).strip()
        if not line or re.match(r"^-[dh]", line):
            continue
        if not line.startswith("-"):
            continue
        params.append(line)
    if not any("-u" in p for p in params):
        params.append("-u root")
    return shlex.split(" ".join(params))


def retarget(args, port, pid_file):
    """Replace -p's port and -P's path (the rest stays as the file says)."""
    out = list(args)
    for i, a in enumerate(out[:-1]):
        if a == "-p":
            out[i + 1] = str(port)
        elif a == "-P":
            out[i + 1] = pid_file
    return out


def read_pid(path, timeout=5.0):
    def get():
        try:
            with open(path) as f:
                return int(f.read().strip() or 0)
        except (OSError, ValueError):
            return 0
    return nodelib.wait_for(get, timeout)


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def owned_tmpdir(user):
    """A temporary directory the user -u names may write its pid file in
    (Debian's /run/memcached belongs to memcache)."""
    d = tempfile.TemporaryDirectory(prefix="ringcached-flags-")
    if os.geteuid() == 0:
        pw = pwd.getpwnam(user)
        os.chown(d.name, pw.pw_uid, pw.pw_gid)
    return d


class DebianConf(unittest.TestCase):

    def setUp(self):
        if not os.path.exists(DEBIAN_CONF):
            raise unittest.SkipTest("no %s (apt-get install memcached)"
                                    % DEBIAN_CONF)
        with open(DEBIAN_CONF) as f:
            self.conf = f.read()
        try:
            pwd.getpwnam("memcache")
        except KeyError:
            raise unittest.SkipTest("no memcache user")

    def test_wrapper_argv_of_the_installed_conf(self):
        args = wrapper_args(self.conf)
        # What Debian 12's file gives; the test keeps working if an
        # operator changed it, as long as it starts memcached.
        if os.path.exists(WRAPPER):
            self.assertIn("-P", args)
        self.start_and_check(args)

    def test_every_option_the_conf_mentions(self):
        # Uncomment every option line of the file (-v, -vv, -c, -k, -M,
        # -r): each must be accepted. -M only where the store has it.
        lines = [re.sub(r"^# (-\w+( \S+)?)$", r"\1", ln)
                 for ln in self.conf.splitlines()]
        args = wrapper_args("\n".join(lines))
        help_text = subprocess.run([harness.binary("ringcached"), "-h"],
                                   capture_output=True).stdout
        if b"-M," not in help_text:
            args = [a for a in args if a != "-M"]
        self.start_and_check(args)

    def start_and_check(self, args):
        port = harness.free_port()
        with owned_tmpdir("memcache") as d:
            pid_file = os.path.join(d, "memcached.pid")
            argv = [harness.binary("ringcached")] + \
                retarget(args, port, pid_file)
            with harness.Server(argv, port=port) as srv:
                self.assertEqual(read_pid(pid_file), srv.proc.pid,
                                 srv.output())
                st = nodelib.stats(port, "settings")
                self.assertEqual(st["maxbytes"], str(64 << 20))
                self.assertEqual(st["tcpport"], str(port))
                self.assertEqual(st["inter"], "127.0.0.1")
                with harness.Conn(port) as c:
                    self.assertEqual(c.call("set k 0 0 1\r\nv\r\n"),
                                     b"STORED\r\n")
                log = srv.output()
                self.assertEqual(srv.stop(), 0, log)
            self.assertFalse(os.path.exists(pid_file), "pid file left")


class Daemonize(unittest.TestCase):

    def test_d_forks_writes_the_pid_file_and_removes_it(self):
        port = harness.free_port()
        with tempfile.TemporaryDirectory() as d:
            pid_file = os.path.join(d, "rc.pid")
            argv = [harness.binary("ringcached"), "-d", "-P", pid_file,
                    "-p", str(port), "-l", "127.0.0.1", "-t", "1"]
            argv += harness.root_user_args(argv)
            r = subprocess.run(argv, capture_output=True, timeout=10)
            self.assertEqual(r.returncode, 0, r.stderr)
            pid = read_pid(pid_file)
            self.assertTrue(pid, "no pid file")
            try:
                self.assertTrue(harness.wait_port(port))
                # A new session, not a session leader, cwd /.
                with open("/proc/%d/stat" % pid) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                self.assertNotEqual(int(fields[3]), pid)     # sid
                self.assertEqual(os.readlink("/proc/%d/cwd" % pid), "/")
                self.assertEqual(os.readlink("/proc/%d/fd/0" % pid),
                                 "/dev/null")
                with harness.Conn(port) as c:
                    self.assertTrue(c.call("version\r\n").startswith(
                        b"VERSION "))
            finally:
                os.kill(pid, signal.SIGTERM)
            self.assertTrue(nodelib.wait_for(lambda: not alive(pid), 10))
            self.assertTrue(nodelib.wait_for(
                lambda: not os.path.exists(pid_file)), "pid file left")


class Flags(unittest.TestCase):

    def run_node(self, *args, root_ok=True):
        argv = [harness.binary("ringcached")] + list(args)
        if root_ok:
            argv += harness.root_user_args(argv)
        return subprocess.run(argv, capture_output=True, timeout=10)

    def test_root_without_u_is_refused_like_memcached(self):
        if os.geteuid() != 0:
            raise unittest.SkipTest("not root")
        r = self.run_node("-p", "0", "-s", "/nonexistent/x", root_ok=False)
        self.assertEqual(r.returncode, 64)
        self.assertEqual(r.stderr, b"can't run as root without the -u "
                         b"switch\n")
        mc = harness.system_binary("memcached", "memcached")
        m = subprocess.run([mc, "-p", "0", "-U", "0"], capture_output=True,
                           timeout=10)
        self.assertEqual(m.returncode, 64)
        self.assertEqual(m.stderr, r.stderr)

    def test_refusals(self):
        for args, why in ((["-U", "11211"], b"UDP"),
                          (["-o", "ssl_chain_cert=/x"], b"TLS"),
                          (["-o", "bogus"], b"unknown")):
            r = self.run_node(*args)
            self.assertEqual(r.returncode, 64, args)
            self.assertIn(why, r.stderr)

    def test_extended_options_memcached_users_set(self):
        opts = ["modern", "hash_algorithm=murmur3", "lru_crawler",
                "idle_timeout=30", "lru_crawler_sleep=100",
                "lru_maintainer", "temporary_ttl=61"]
        help_text = self.run_node("-h").stdout
        if b"slab_automove" in help_text:
            opts += ["slab_reassign", "slab_automove=1"]
        with nodelib.node("-o", ",".join(opts), "-L", "-v") as srv:
            st = nodelib.stats(srv.port, "settings")
            self.assertEqual(st["idle_timeout"], "30")
            self.assertEqual(st["hash_algorithm"], "xxh3")
            self.assertEqual(st["lru_crawler"], "yes")
            out = srv.output()
        self.assertIn("accepted without effect", out)
        self.assertIn("-o hash_algorithm", out)
        self.assertIn("-L", out)

    def test_no_lru_crawler_and_X(self):
        with nodelib.node("-o", "no_lru_crawler", "-X") as srv:
            st = nodelib.stats(srv.port, "settings")
            self.assertEqual(st["lru_crawler"], "no")
            self.assertEqual(st["dump_enabled"], "no")
            got = nodelib.exchange(srv.port, b"lru_crawler metadump all\r\n"
                                   b"stats cachedump 1 0\r\n"
                                   b"lru_crawler enable\r\n"
                                   b"lru_crawler crawl all\r\n")
        self.assertEqual(got, b"CLIENT_ERROR lru crawler disabled\r\n"
                         b"CLIENT_ERROR stats cachedump not allowed\r\n"
                         b"OK\r\nOK\r\n")

    def test_k_and_r(self):
        with open(harness.binary("ringcached"), "rb") as f:
            if b"__asan_init" in f.read():
                # -k would lock (fault in) ASan's terabytes of shadow.
                raise unittest.SkipTest("sanitizer build")
        with nodelib.node("-k", "-r", "-m", "8") as srv:
            with harness.Conn(srv.port) as c:
                self.assertEqual(c.call("set k 0 0 1\r\nv\r\n"),
                                 b"STORED\r\n")
            with open("/proc/%d/limits" % srv.proc.pid) as f:
                core = [ln for ln in f if ln.startswith("Max core")][0]
            self.assertNotRegex(core, r"core file size\s+0\s")
            # mlockall() runs once the threads started, after the port
            # opened: wait for it to lock memory or to say it could not.
            def locked_or_warned():
                if "mlockall() failed" in srv.output():
                    return True
                with open("/proc/%d/status" % srv.proc.pid) as f:
                    vm = [ln for ln in f if ln.startswith("VmLck")][0]
                return vm.split()[1] != "0"
            self.assertTrue(nodelib.wait_for(locked_or_warned, 20),
                            srv.output())


if __name__ == "__main__":
    harness.main()
