"""ringcached and bad input: every malformed request gets memcached's error
reply, and the connection carries on where the framing allows (checked by
a request after the bad one). Deliberate differences from memcached are
marked and listed in ringcached(8)."""

import socket
import time
import unittest

import harness
import nodelib

BAD_FORMAT = b"CLIENT_ERROR bad command line format\r\n"
ALIVE = b"get alive\r\n"       # appended: proves the connection survived
ALIVE_REPLY = b"END\r\n"


class BadInputTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = nodelib.node("-I", "1m")

    @classmethod
    def tearDownClass(cls):
        # A clean drain exits 0 (under ASan, also: nothing leaked).
        rc = cls.srv.stop()
        cls.srv.__exit__()
        if rc != 0:
            raise AssertionError("ringcached exited %d" % rc)

    def ex(self, data):
        return nodelib.exchange(self.srv.port, data)

    def check(self, req, want):
        self.assertEqual(self.ex(req + ALIVE), want + ALIVE_REPLY, req[:80])

    def test_oversized_key(self):
        key = b"k" * 251
        # memcached also runs the data block as a command (an extra ERROR);
        # ringcached skips it with the line (deliberate, see the man page).
        self.check(b"set " + key + b" 0 0 1\r\nx\r\n", BAD_FORMAT)
        self.check(b"get " + key + b"\r\n", BAD_FORMAT)
        self.check(b"get ok " + key + b"\r\n", BAD_FORMAT)
        self.check(b"delete " + key + b"\r\n", BAD_FORMAT)
        self.check(b"incr " + key + b" 1\r\n", BAD_FORMAT)
        self.check(b"touch " + key + b" 1\r\n", BAD_FORMAT)
        # 250 bytes is still a key.
        k250 = b"k" * 250
        self.check(b"set " + k250 + b" 0 0 1\r\nx\r\nget " + k250 + b"\r\n",
                   b"STORED\r\nVALUE " + k250 + b" 0 1\r\nx\r\nEND\r\n")

    def test_bad_numbers(self):
        self.check(b"set k abc 0 1\r\nx\r\n", BAD_FORMAT)
        self.check(b"set k 0 abc 1\r\nx\r\n", BAD_FORMAT)
        self.check(b"set k 0 0 abc\r\nx\r\n", BAD_FORMAT + b"ERROR\r\n")
        self.check(b"incr k abc\r\n",
                   b"CLIENT_ERROR invalid numeric delta argument\r\n")
        self.check(b"incr k -1\r\n",
                   b"CLIENT_ERROR invalid numeric delta argument\r\n")
        self.check(b"touch k abc\r\n",
                   b"CLIENT_ERROR invalid exptime argument\r\n")
        self.check(b"flush_all abc\r\n",
                   b"CLIENT_ERROR invalid exptime argument\r\n")
        self.check(b"cas k 0 0 1 abc\r\nx\r\n", BAD_FORMAT)

    def test_negative_and_huge_lengths(self):
        # No trusted length: only the line is skipped, "x" is a command.
        self.check(b"set k 0 0 -1\r\nx\r\n", BAD_FORMAT + b"ERROR\r\n")
        # memcached truncates 2^32 to 0 ("bad data chunk"); we refuse it.
        self.check(b"set k 0 0 4294967296\r\nx\r\n", BAD_FORMAT + b"ERROR\r\n")
        self.check(b"set k 0 0 99999999999999999999\r\n",
                   BAD_FORMAT)

    def test_too_large_value_is_swallowed_and_drops_old(self):
        big = b"x" * (2 * 1024 * 1024)
        self.assertEqual(self.ex(b"set old 0 0 1\r\no\r\n"), b"STORED\r\n")
        self.check(b"set old 0 0 %d\r\n%s\r\nget old\r\n" % (len(big), big),
                   b"SERVER_ERROR object too large for cache\r\nEND\r\n")

    def test_data_block_longer_than_declared(self):
        self.check(b"set k 0 0 3\r\nabcdef\r\n",
                   b"CLIENT_ERROR bad data chunk\r\nERROR\r\n")

    def test_data_block_shorter_than_declared(self):
        with socket.create_connection(("127.0.0.1", self.srv.port)) as s:
            s.sendall(b"set short 0 0 5\r\nab\r\n")
            self.assertEqual(nodelib.drain(s, first=0.5), b"",
                             "waits for the rest")
            s.sendall(b"c\r\nget short\r\n")
            self.assertEqual(nodelib.drain(s),
                             b"STORED\r\nVALUE short 0 5\r\nab\r\nc\r\nEND\r\n")

    def test_unknown_commands_and_garbage(self):
        self.check(b"bogus\r\n", b"ERROR\r\n")
        self.check(b"GET k\r\n", b"ERROR\r\n")
        self.check(b"\r\n", b"ERROR\r\n")
        self.check(b"\x00\x01\x02\xff\xfe\r\n", b"ERROR\r\n")
        self.check(b"get\r\n", b"ERROR\r\n")
        self.check(b"verbosity\r\n", b"ERROR\r\n")
        self.check(b"touch k\r\n", b"ERROR\r\n")
        self.check(b"cas k 0 0 1\r\nx\r\n", b"ERROR\r\nERROR\r\n")
        self.check(b"delete k 5\r\n", b"CLIENT_ERROR bad command line format."
                   b"  Usage: delete <key> [noreply]\r\n")
        self.check(b"stats bogus\r\n", b"ERROR\r\n")
        self.check(b"shutdown\r\n", b"ERROR: shutdown not enabled\r\n")

    def test_noreply_errors_are_silent_where_memcached_is(self):
        self.check(b"set k 0 0 1 noreply\r\nx\r\nget k\r\n",
                   b"VALUE k 0 1\r\nx\r\nEND\r\n")
        self.check(b"delete nothing noreply\r\n", b"")
        self.check(b"incr nothing 1 noreply\r\n", b"")

    def test_line_too_long_closes(self):
        got = self.ex(b"x" * 3000)
        self.assertEqual(got, b"CLIENT_ERROR line too long\r\n<EOF>")
        got = self.ex(b"\xff" * 5000 + b"\r\n")
        self.assertEqual(got, b"CLIENT_ERROR line too long\r\n<EOF>")
        # The server is fine afterwards.
        self.assertEqual(self.ex(b"get x\r\n"), b"END\r\n")

    def test_long_multiget_line_is_allowed(self):
        keys = [b"key%0200d" % i for i in range(100)]   # ~20 KB line
        self.check(b"get " + b" ".join(keys) + b"\r\n", b"END\r\n")

    def test_client_disconnects_mid_value(self):
        for _ in range(20):
            s = socket.create_connection(("127.0.0.1", self.srv.port))
            s.sendall(b"set half 0 0 500000\r\n" + b"y" * 200000)
            s.close()
        # Every client of this server is closed by now: only the stats
        # connection itself may remain (closes are noticed asynchronously).
        ok = nodelib.wait_for(lambda: nodelib.stats(
            self.srv.port)["curr_connections"] == "1", timeout=20)
        self.assertTrue(ok, "connections released")
        self.assertEqual(self.ex(b"get half\r\n"), b"END\r\n")


if __name__ == "__main__":
    harness.main()
