"""Key echoes: every reply that shows a key (mg/ms/md/ma k, me) shows it in
the form the client must read back. A key stored by an ms with b is echoed
in base64 (plus " b" in a k flag) as memcached 1.6.18 does, compared byte
for byte against /usr/bin/memcached; a key whose bytes cannot stand in a
text key is never echoed raw, even where memcached would."""

import re
import unittest

import harness
import nodelib

# Pipelined requests whose replies both servers must give alike (me lines
# are cut to their key: their other fields are each server's own).
SAME = (
    b"ms Zm9v 2 b\r\nhi\r\n"
    b"mg Zm9v b k v\r\n"          # VA 2 kZm9v b
    b"mg foo k v\r\n"             # the item's mark, not the request's b
    b"mg foo k s f\r\n"
    b"me Zm9v b\r\n"
    b"me foo\r\n"
    b"ms AQID 3 b k\r\nabc\r\n"   # HD kAQID b
    b"mg AQID b k v\r\n"
    b"me AQID b\r\n"
    b"md AQID b k q\r\n"
    b"mg AQID b k O9\r\n"         # EN: the request's key, re-encoded
    b"ms bar 1 k\r\nx\r\n"
    b"mg bar k\r\n"
    b"mg YmFy b k\r\n"            # stored as text: echoed as text
    b"ma YmF6 b N0 J5 k v\r\n"    # vivified "baz": printable, raw
    b"md Zm9v b k\r\n"
    b"mn\r\n"
)

ME_FIELDS = re.compile(rb"^(ME \S+) [^\r\n]*\r$", re.M)


def normalise(reply):
    return ME_FIELDS.sub(rb"\1\r", reply)


def replies(port, data):
    return normalise(nodelib.exchange(port, data))


class KeyEchoVsMemcached(unittest.TestCase):

    def test_same_bytes_as_memcached(self):
        with nodelib.memcached() as mc, nodelib.node() as rc:
            want = replies(mc.port, SAME)
            got = replies(rc.port, SAME)
        self.assertIn(b"VA 2 kZm9v b\r\nhi\r\n", want)
        self.assertEqual(got, want)


class UnsafeKeys(unittest.TestCase):
    """Keys whose bytes cannot stand in a text key: memcached echoes an
    item vivified by mg/ma with b raw (a "\\r\\n" in it forges a reply
    line); ringcached echoes it in base64, and me never shows such bytes
    either."""

    def test_vivified_key_is_echoed_in_base64(self):
        # "a\r\nEN" and "x y"
        with nodelib.node() as rc:
            got = nodelib.exchange(
                rc.port,
                b"mg YQ0KRU4= b N30 k s\r\n"
                b"mg YQ0KRU4= b k\r\n"
                b"ma eCB5 b N0 J1 k\r\n"
                b"me YQ0KRU4= b\r\n"
                b"me eCB5 b\r\n")
        lines = got.split(b"\r\n")
        self.assertIn(b" kYQ0KRU4= b ", lines[0])
        self.assertEqual(lines[1], b"HD kYQ0KRU4= b Z")
        self.assertEqual(lines[2], b"HD keCB5 b")
        self.assertTrue(lines[3].startswith(b"ME YQ0KRU4= exp="), lines)
        self.assertTrue(lines[4].startswith(b"ME eCB5 exp="), lines)
        self.assertEqual(lines[5:], [b""])
        for line in lines:
            self.assertNotIn(b"\r", line)
            self.assertNotIn(b"\n", line)


if __name__ == "__main__":
    harness.main()
