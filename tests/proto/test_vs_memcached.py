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
    # Meta commands (parser errors; mg/md/ma/me on missing keys).
    ("meta_mn", b"mn\r\nmn x y\r\n"),
    ("meta_arity", b"mg\r\nms\r\nmd\r\nma\r\nme\r\nmg \r\nms m0\r\n"
     b"ms m0 x\r\nms m0 -1\r\nms m0 2x\r\n"),
    ("meta_mg_miss", b"mg m1\r\nmg m1 v\r\nmg m1 k O123 v t\r\n"
     b"mg m1 s t c f l h u P L\r\nmg m1 T30 N30x R5 F3 C9 J1 D1 ME I\r\n"),
    ("meta_quiet", b"mg m2 v q k\r\nmd m2 q\r\nma m2 q\r\nmd m2 q O1\r\n"
     b"mg m2 q Tx\r\nmn\r\n"),
    ("meta_others_miss", b"md m3\r\nmd m3 k O9 C5 I T3\r\nma m3\r\n"
     b"ma m3 k O1 v t c D5 MD\r\nme m3\r\nme m3 x y\r\n"),
    ("meta_flag_errors", b"mg m4 v v\r\nmg m4 zz\r\nmg m4 1\r\nmg m4 !\r\n"
     b"mg m4 \xff\r\nmg m4 S1\r\nmg m4 E5\r\nmg m4 Tx\r\nmg m4 T\r\n"
     b"mg m4 Nx\r\nmg m4 Rx\r\nmg m4 Fx\r\nmg m4 Cx\r\nmg m4 C-1\r\n"
     b"mg m4 Jx\r\nmg m4 Dx\r\nmg m4 MEE\r\nmg m4 M\r\nmg m4 Fx Tx\r\n"
     b"mg m4 Tx Fx\r\nmg m4 Tx zz\r\nmg m4 Jx Tx\r\nmg m4 Tx Jx\r\n"
     b"mg m4 T1 t T2\r\nmg m4 Dx Fx\r\nmg m4 Fx Dx\r\n"),
    ("meta_md_ma_flag_errors", b"md m5 v v\r\nmd m5 Tx\r\nmd m5 zz\r\n"
     b"md m5 x\r\nma m5 Dx\r\nma m5 Jx\r\nma m5 MX\r\nma m5 MII\r\n"
     b"ma m5 q q\r\nmd m5 MX\r\nmg m5 MX\r\n"),
    ("meta_too_many_flags", b"mg m6 c f h k l O s t u v P L I R1 T1 q\r\n"
     b"mg m6 c f h k l O s t u v P L I R1 T1 q b\r\n"
     b"md m6 c f h k l O s t u v P L I R1 T1 q\r\n"
     b"md m6 c f h k l O s t u v P L I R1 T1 q F1\r\n"
     b"ma m6 c f h k l O s t u v P L I R1 T1 q F1\r\n"),
    ("meta_opaque", b"mg m7 O1234567890123456789012345678901\r\n"
     b"mg m7 O12345678901234567890123456789012\r\n"
     b"md m7 O12345678901234567890123456789012\r\n"
     b"ma m7 O12345678901234567890123456789012\r\n"
     b"ma m7 MX O12345678901234567890123456789012\r\n"),
    ("meta_key_too_long", b"mg " + b"k" * 251 + b" v\r\nmd " + b"k" * 251 +
     b"\r\nma " + b"k" * 251 + b"\r\nme " + b"k" * 251 + b"\r\nmg " +
     b"k" * 250 + b" v\r\nme " + b"k" * 250 + b"\r\n"),
    ("meta_base64", b"mg Zm9vbTg= b k\r\nmg Zm9vbTg=! b k v\r\n"
     b"mg ==== b\r\nmg YQ b\r\nmg bTg= b k O1 q\r\nmg Zm=v b k\r\n"
     b"md YQ b\r\nma YQ b\r\nme YQ b\r\nme bTg= b\r\nmg bTg bad\r\n"
     b"md bTg5 b k\r\n"),
    ("meta_ms", b"ms n1 2\r\nhi\r\nms n2 2 q\r\nhi\r\nms n3 2 MR k\r\nhi\r\n"
     b"ms n4 2 MA O5\r\nhi\r\nms n5 2 MP q\r\nhi\r\nms n6 2 ME T9 F3\r\nhi\r\n"
     b"ms n7 2 C5 q\r\nhi\r\nms n8 2 MS I\r\nhi\r\nms bjk= 1 b k O7\r\nx\r\n"
     b"ms n10 0\r\n\r\n"),
    ("meta_ms_errors", b"ms n11 2 MX\r\nhi\r\nms n12 2 MEE\r\nhi\r\n"
     b"ms n13 2 Tx\r\nhi\r\nms n14 2 Fx\r\nhi\r\nms n15 2 v v\r\nhi\r\n"
     b"ms n16 2 zz\r\nhi\r\nms n17 2 bad\r\nhi\r\n"
     b"ms n18 2 O12345678901234567890123456789012\r\nhi\r\n"
     b"ms n19 2 O12345678901234567890123456789012 MX\r\nhi\r\n"
     b"ms n20 2\r\nhix\r\nms n21 2 q\r\nhix\r\nms n22 2 Jx\r\nhi\r\n"),
    ("meta_ms_too_large", b"ms n23 2000000 T1\r\n" + b"x" * 2000000 +
     b"\r\nmg n23 v\r\n"),
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
    ("meta_key_too_long_swallows_data", b"ms " + b"k" * 251 + b" 1\r\nx\r\n",
     b"CLIENT_ERROR bad command line format\r\nERROR\r\n",
     b"CLIENT_ERROR bad command line format\r\n", True),
    ("meta_too_many_flags_swallows_data",
     b"ms o1 1 c f h k l O s t u v P L N1 R1 T1 q b\r\nx\r\n",
     b"CLIENT_ERROR options flags too long\r\nERROR\r\n",
     b"CLIENT_ERROR options flags too long\r\n", True),
    ("meta_plus_sign", b"mg o2 T+5\r\n", b"EN\r\n",
     b"CLIENT_ERROR bad token in command line format\r\n", True),
    ("meta_ttl_overflow", b"mg o3 T99999999999\r\n", b"EN\r\n",
     b"CLIENT_ERROR bad token in command line format\r\n", True),
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
