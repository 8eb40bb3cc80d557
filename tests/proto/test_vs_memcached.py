"""The request parser's replies, side by side with memcached's.

Each case is sent to a real memcached (the Debian package, 1.6.18) and fed
to tests/proto/replies, a stand-in server built on proto_parse_req() that
answers errors from the parser and good requests as an empty memcached
would. Both must answer byte for byte the same, and close the connection
in the same places. The deliberate differences listed in src/proto/table.c
are pinned separately, on both sides.
"""

import os
import re
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(
    os.environ.get("RINGCACHE_SRCDIR",
                   os.path.join(os.path.dirname(__file__), "..", "..")),
    "tests", "integration"))
import harness  # noqa: E402

SENTINEL = b"version\r\n"
VERSION_RE = re.compile(rb"VERSION [^\r\n]*\r\n")

# (name, bytes). Every key is used by one case only.
SAME = [
    ("get_missing", b"get a1 a2 a3\r\ngets a4\r\n"),
    ("gat_gats", b"gat 10 a5\r\ngats -1 a6 a7\r\ngat 10\r\n"),
    ("set_add_replace", b"set b1 1 0 3\r\nabc\r\nadd b2 0 0 1\r\nx\r\n"
     b"replace b3 0 0 1\r\nx\r\nappend b4 0 0 1\r\nx\r\n"
     b"prepend b5 0 0 1\r\nx\r\n"),
    ("cas_missing", b"cas b6 0 0 1 5\r\nx\r\n"),
    ("storage_noreply", b"set b7 0 0 1 noreply\r\nx\r\n"
     b"add b8 0 0 1 noreply\r\nx\r\ncas b9 0 0 1 1 noreply\r\nx\r\n"),
    ("noreply_word_ignored", b"set b10 0 0 1 foo\r\nx\r\n"),
    ("binary_value", b"set b11 0 0 5\r\na\r\n\x00b\r\n"),
    ("keyed_missing", b"delete c1\r\ndelete c1 0\r\nincr c2 1\r\n"
     b"decr c3 5\r\ntouch c4 10\r\nincr c5 1 foo\r\n"),
    ("keyed_noreply", b"delete c6 noreply\r\ndelete c7 0 noreply\r\n"
     b"incr c8 1 noreply\r\ntouch c9 1 noreply\r\n"),
    ("flush_verbosity", b"flush_all 0\r\nflush_all noreply\r\n"
     b"flush_all -1\r\nflush_all 0 foo\r\nverbosity 1\r\n"
     b"verbosity 1 noreply\r\nflush_all\r\n"),
    ("unknown", b"bogus\r\nGET d1\r\nx\r\n\x00\r\nflush_allx\r\n"),
    ("empty_lines", b"\r\n   \r\n\n"),
    ("framing_slack", b"  get   d2  \r\nget d3\nset d4 0 0 1\nx\r\n"
     b"set  d5  0  0  1 \r\nx\r\n"),
    ("get_arity", b"get\r\nget \r\ngat\r\n"),
    ("storage_arity", b"set e1 0 0\r\nx\r\nset e2 0 0 1 2 3\r\nx\r\n"
     b"cas e3 0 0 1\r\nx\r\n"),
    ("keyed_arity", b"delete\r\ndelete e4 0 noreply x\r\nincr\r\n"
     b"incr e5\r\nincr e6 1 2 3\r\ntouch e7\r\ntouch e8 1 2 3\r\n"
     b"flush_all 1 2 3\r\nverbosity\r\nverbosity 1 2 3\r\n"),
    ("bad_length", b"set f1 0 0 -1\r\nx\r\nset f2 0 0 2147483646\r\nx\r\n"
     b"set f3 0 0 x\r\nx\r\nset f4 0 0 4294967295\r\nx\r\n"),
    ("bad_data_chunk", b"set f5 0 0 2\r\nxyz\r\nset f6 0 0 2\r\nxy\n\r\n"
     b"set f7 0 0 2\r\nxyzw\r\nget f7\r\n"),
    ("bad_data_chunk_noreply", b"set f8 0 0 1 noreply\r\nxyz\r\n"),
    ("too_large", b"set f9 0 0 2000000\r\n" + b"x" * 2000000 +
     b"\r\nget f9\r\n"),
    ("too_large_noreply", b"set f10 0 0 1048576 noreply\r\n" +
     b"x" * 1048576 + b"\r\n"),
    # (memcached drops the reply to a second bad get in a row; see below)
    ("key_too_long", b"get " + b"k" * 251 + b"\r\nget g0\r\nget g1 " +
     b"k" * 251 + b"\r\ndelete " + b"k" * 251 + b"\r\nincr " + b"k" * 251 +
     b" 1\r\ntouch " + b"k" * 251 + b" 1\r\nget g00\r\ngat 1 " +
     b"k" * 251 + b"\r\n"),
    ("key_of_250", b"get " + b"k" * 250 + b"\r\n"),
    ("delete_usage", b"delete g2 5\r\ndelete g3 0 foo\r\n"
     b"delete g4 5 noreply\r\n"),
    ("delta", b"incr g5 x\r\nincr g6 -1\r\n"
     b"decr g7 18446744073709551616\r\nincr g8 x noreply\r\n"),
    ("exptime", b"touch g9 x\r\ngat g10\r\ngat x g11\r\nflush_all x\r\n"
     b"touch g12 x noreply\r\nflush_all x noreply\r\n"),
    ("verbosity_format", b"verbosity x\r\nverbosity noreply\r\n"),
    ("long_get_line", b"get " + b" ".join(b"h%03d" % i for i in range(700))
     + b"\r\n"),
    ("quit", b"get h1\r\nquit\r\nget h2\r\n"),
    ("quit_words", b"quit now\r\n"),
]

# (name, bytes, memcached 1.6.18's answer, ours, whether a sentinel may
# follow): see src/proto/table.c.
DIFFERENT = [
    ("flags_overflow", b"set i1 4294967296 0 1\r\nx\r\n",
     b"STORED\r\n", b"CLIENT_ERROR bad command line format\r\n", True),
    ("bad_line_swallows_data", b"set i2 x 0 1\r\nx\r\n",
     b"CLIENT_ERROR bad command line format\r\nERROR\r\n",
     b"CLIENT_ERROR bad command line format\r\n", True),
    ("control_char_key", b"set i\x013 0 0 1\r\nx\r\n",
     b"STORED\r\n", b"CLIENT_ERROR bad command line format\r\n", True),
    ("plus_sign", b"set i4 0 0 +1\r\nx\r\n", b"STORED\r\n",
     b"CLIENT_ERROR bad command line format\r\nERROR\r\n", True),
    ("verbosity_overflow", b"verbosity 99999999999\r\n", b"OK\r\n",
     b"CLIENT_ERROR bad command line format\r\n", True),
    ("meta_not_yet", b"mn\r\n", b"MN\r\n", b"ERROR\r\n", True),
    ("two_bad_gets_in_a_row", b"get " + b"k" * 251 + b"\r\nget " +
     b"k" * 251 + b"\r\n", b"CLIENT_ERROR bad command line format\r\n",
     b"CLIENT_ERROR bad command line format\r\n" * 2, True),
    # memcached closes without a word once 2048 bytes hold no newline.
    ("line_too_long", b"x" * 2100, b"", b"CLIENT_ERROR line too long\r\n",
     False),
]


def ours(data):
    """The stand-in's answer, with any VERSION line normalised."""
    prog = os.path.join(harness.BUILDDIR, "tests", "proto", "replies")
    out = subprocess.run([prog], input=data, stdout=subprocess.PIPE,
                         timeout=30, check=True).stdout
    return VERSION_RE.sub(b"VERSION\r\n", out)


def memcached(port, data):
    """memcached's answer up to the sentinel's VERSION line, or up to the
    close; with the VERSION line normalised."""
    with harness.Conn(port, timeout=5.0) as c:
        c.send(data)
        out = b""
        while not VERSION_RE.search(out):
            chunk = c.sock.recv(65536)
            if not chunk:
                break
            out += chunk
    return VERSION_RE.sub(b"VERSION\r\n", out)


class VsMemcached(unittest.TestCase):
    server = None
    error = None

    @classmethod
    def setUpClass(cls):
        try:
            mc = harness.system_binary("memcached", "memcached")
        except unittest.SkipTest as e:
            cls.error = str(e)
            return
        argv = [mc, "-U", "0", "-l", "127.0.0.1", "-p", "{port}"]
        if os.geteuid() == 0:
            argv += ["-u", "nobody"]
        cls.server = harness.Server(argv)

    @classmethod
    def tearDownClass(cls):
        if cls.server is not None:
            cls.server.stop()

    def setUp(self):
        if self.server is None:
            self.skipTest(self.error or "memcached did not start")


def make_same(data):
    def test(self):
        want = memcached(self.server.port, data + SENTINEL)
        self.assertEqual(ours(data + SENTINEL), want)
    return test


def make_different(data, theirs, mine, sentinel):
    tail = SENTINEL if sentinel else b""
    version = b"VERSION\r\n" if sentinel else b""

    def test(self):
        self.assertEqual(memcached(self.server.port, data + tail),
                         theirs + version)
        self.assertEqual(ours(data + tail), mine + version)
    return test


for i, (name, data) in enumerate(SAME):
    setattr(VsMemcached, "test_same_%02d_%s" % (i, name), make_same(data))
for i, (name, data, theirs, mine, sentinel) in enumerate(DIFFERENT):
    setattr(VsMemcached, "test_differs_%02d_%s" % (i, name),
            make_different(data, theirs, mine, sentinel))

if __name__ == "__main__":
    harness.main()
