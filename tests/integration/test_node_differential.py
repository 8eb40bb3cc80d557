"""Differential test: the same randomized, pipelined command sequences go to
memcached 1.6 (Debian package, -U 0) and to ringcached, and the replies
must be byte-identical, except CAS values, which are compared by their
equalities (each server's CAS numbers are renamed in order of first
appearance). Inputs where ringcached differs on purpose (see the man page)
are not generated, nor is a get with a key over 250 bytes: memcached then
drops the replies to the requests before it in the same batch (tested in
test_node_badinput.py instead), nor a number of 2^63 or more where incr or
decr would read it (see NUMBER_LIMIT). Bounded: a fixed number of seeds and
batches."""

import random
import re
import socket
import unittest

import harness
import nodelib

SEEDS = (1, 2, 3, 4)
BATCHES = 300
# incr/decr only touch the n* keys and append/prepend only the k* keys:
# memcached's in-place padding of a shortened number is nondeterministic,
# and appending to it would carry that into the value.
KEYS = ["k%d" % i for i in range(8)] + ["n%d" % i for i in range(3)]
TEXT_KEYS = [k for k in KEYS if k.startswith("k")]
NUM_KEYS = [k for k in KEYS if k.startswith("n")]
# memcached 1.6.18 checks a number of 2^63 or more for a '-' with
# strchr() from the start of the value, which runs past the value's
# "\r\n" into whatever the slab chunk and the next one hold (stale bytes
# of older items, pointers of its neighbours) up to the first NUL: whether
# incr/decr (and ma) call such a number "non-numeric" depends on the heap
# layout of that process. So no stored number may reach 2^63: stored
# numbers are below 2^62 and incr deltas (classic and meta) are at most
# 2^32, far too few to add up to 2^63 in one seed (NumberRangeTest checks
# it); decr may still take 2^64-1 (it clamps to 0). ringcached's handling
# of 20-digit numbers is tested with fixed answers (WideNumberTest,
# test_node_commands.py, test_node_torture.py).
NUMBER_LIMIT = 2 ** 63
BIG_NUMBERS = [2 ** 62, 10 ** 18 - 1]
INCR_DELTAS = ["1", "5", "4294967296", "0"]
DECR_DELTAS = ["1", "5", "18446744073709551615", "0"]
VERSION_END = re.compile(rb"VERSION [^\r\n]*\r\n\Z")
VALUE_CAS = re.compile(rb"^(VALUE \S+ \d+ \d+) (\d+)\r$", re.M)
# After a decr shortens a number, memcached pads it with spaces in place
# only when no other thread holds the item: nondeterministic even between
# two memcacheds, so "0   " and "0" are one class.
PADDED = re.compile(rb"^(VALUE \S+ \d+ )(\d+)((?: \S+)?\r\n)(\d+)( +)\r$",
                    re.M)


def word(rng, n=None):
    n = rng.randint(0, 40) if n is None else n
    return "".join(rng.choice("abcdefghij") for _ in range(n))


class Gen:
    """Random commands; {cas:KEY} is replaced per server by the last CAS
    that server reported for KEY (or a number no item has)."""

    def __init__(self, seed):
        self.rng = random.Random(seed)

    def key(self):
        return self.rng.choice(KEYS)

    def value(self):
        r = self.rng.random()
        if r < 0.3:
            return str(self.rng.choice([0, 1, 9, 10, 99, 12345678]
                                       + BIG_NUMBERS))
        if r < 0.33:
            return " 42"          # leading space: memcached's incr takes it
        if r < 0.36:
            return word(self.rng, self.rng.randint(1000, 70000))
        return word(self.rng)

    def exptime(self):
        return self.rng.choice(["0", "0", "0", "1000", "-1", "2592000"])

    def noreply(self):
        return " noreply" if self.rng.random() < 0.15 else ""

    def storage(self):
        cmd = self.rng.choice(["set", "set", "add", "replace", "append",
                               "prepend", "cas"])
        k = self.key()
        if cmd in ("append", "prepend"):
            k = self.rng.choice(TEXT_KEYS)
        v = self.value()
        flags = self.rng.choice([0, 0, 1, 4294967295, 77])
        line = "%s %s %d %s %d" % (cmd, k, flags, self.exptime(), len(v))
        if cmd == "cas":
            line += " {cas:%s}" % k
        return "%s%s\r\n%s\r\n" % (line, self.noreply(), v)

    def retrieval(self):
        cmd = self.rng.choice(["get", "gets", "gets", "gat", "gats"])
        keys = " ".join(self.rng.choice(KEYS)
                        for _ in range(self.rng.randint(1, 5)))
        if cmd.startswith("gat"):
            return "%s %s %s\r\n" % (cmd, self.exptime(), keys)
        return "%s %s\r\n" % (cmd, keys)

    def other(self):
        r = self.rng.randrange(7)
        k = self.key()
        if r == 0:
            return "delete %s%s\r\n" % (k, self.noreply())
        if r in (1, 2):
            cmd = self.rng.choice(["incr", "decr"])
            delta = self.rng.choice(INCR_DELTAS if cmd == "incr"
                                    else DECR_DELTAS)
            return "%s %s %s%s\r\n" % (cmd, self.rng.choice(NUM_KEYS), delta,
                                       self.noreply())
        if r == 3:
            return "touch %s %s%s\r\n" % (k, self.exptime(), self.noreply())
        if r == 4:
            return "flush_all%s\r\n" % self.noreply()
        if r == 5:
            return "verbosity 0%s\r\n" % self.noreply()
        return "get %s\r\n" % k

    def bad(self):
        k = self.key()
        return self.rng.choice([
            "bogus\r\n",
            "\r\n",
            "get\r\n",
            "GET %s\r\n" % k,
            "delete %s 10\r\n" % k,
            "incr %s -1\r\n" % k,
            "incr %s abc\r\n" % k,
            "touch %s\r\n" % k,
            "set %s 0 0 -1\r\nxx\r\n" % k,
            "set %s 0 0 3\r\nabcdef\r\n" % k,
            "set %s 0 0 1 noreply\r\nxyz\r\n" % k,
            "set %s 0 0 %d\r\n%s\r\n" % (k, 1100000, "y" * 1100000),
            "gat 10\r\n",
            "flush_all abc\r\n",
            "verbosity\r\n",
            "cas %s 0 0 1\r\nx\r\n" % k,
        ])

    def command(self):
        r = self.rng.random()
        if r < 0.40:
            return self.storage()
        if r < 0.70:
            return self.retrieval()
        if r < 0.92:
            return self.other()
        return self.bad()

    def batch(self):
        return [self.command() for _ in range(self.rng.randint(1, 8))]


class Side:
    """One server under test: a connection and the CAS renaming."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.last_cas = {}
        self.names = {}

    def run(self, batch):
        data = "".join(self.subst(c) for c in batch).encode()
        self.sock.sendall(data + b"version\r\n")
        out = b""
        while not VERSION_END.search(out):
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise ConnectionError("closed after %r" % batch)
            out += chunk
        out = VERSION_END.sub(b"", out)
        return self.rename(out)

    def subst(self, cmd):
        def cas(m):
            return self.last_cas.get(m.group(1), "99999999")
        return re.sub(r"\{cas:(\w+)\}", cas, cmd)

    def rename(self, out):
        def unpad(m):
            return b"%s%d%s%s\r" % (m.group(1), len(m.group(4)), m.group(3),
                                    m.group(4))
        out = PADDED.sub(unpad, out)

        def one(m):
            key = m.group(1).split(b" ")[1].decode()
            self.last_cas[key] = m.group(2).decode()
            name = self.names.setdefault(m.group(2), len(self.names))
            return m.group(1) + b" cas#%d\r" % name
        return VALUE_CAS.sub(one, out)


def number_bounds(gen, batches):
    """Yield (command, bound) for each command `gen` makes in `batches`
    batches, where bound is an upper bound of the number each n* key may
    hold after it: a store of a number may set it, an incr (or ma in an
    incr mode, or its N auto-create with J) may add to it, nothing lowers
    it."""
    bound = {}
    b64 = {"bjA=": "n0"}
    for _ in range(batches):
        for cmd in gen.batch():
            lines = cmd.split("\r\n")
            words = lines[0].split(" ")
            key = b64.get(words[1], words[1]) if len(words) > 1 else ""
            if key in NUM_KEYS:
                old = bound.get(key, 0)
                bound[key] = max(old, number_after(words, lines, old))
            yield cmd, max(bound.values(), default=0)


def number_after(words, lines, old):
    """The largest number one command can leave in its key, given the
    bound `old` before it (see number_bounds)."""
    def num(text, default=0):
        text = text.strip()
        return int(text) if text.isdigit() else default
    if words[0] in ("set", "add", "replace", "cas", "ms"):
        return num(lines[1]) if len(lines) > 1 else 0
    if words[0] == "incr" and len(words) > 2:
        return old + num(words[2])
    if words[0] == "ma":
        flags = {w[:1]: w[1:] for w in words[2:] if w}
        if flags.get("M", "I") not in ("I", "i", "+"):
            return num(flags.get("J", "0"))
        return max(old + num(flags.get("D", "1"), 1),
                   num(flags.get("J", "0")))
    return 0


class NumberRangeTest(unittest.TestCase):
    """The generator never lets a number reach NUMBER_LIMIT, where
    memcached's answer depends on its heap (see NUMBER_LIMIT)."""
    GEN = Gen
    SEEDS = SEEDS

    def test_numbers_stay_below_limit(self):
        for seed in self.SEEDS:
            for cmd, bound in number_bounds(self.GEN(seed), BATCHES):
                self.assertLess(bound, NUMBER_LIMIT,
                                "seed %d: %r" % (seed, cmd[:120]))


class WideNumberTest(unittest.TestCase):
    """Numbers of 2^63 and more, which the differential test leaves out:
    ringcached answers by arithmetic whatever lies next to the value in
    memory. (memcached 1.6.18 says "non-numeric" after this setup: the
    deleted item's "--" is still behind the number in the reused chunk.)"""

    def test_incr_decr_next_to_stale_dashes(self):
        with nodelib.node("-m", "64") as rc:
            got = nodelib.exchange(rc.port, (
                b"set x 0 0 34\r\n" + b"a" * 32 + b"--\r\ndelete x\r\n"
                b"set n 0 0 20\r\n18446744073709551615\r\n"
                b"incr n 0\r\ndecr n 1\r\nincr n 2\r\n"
                b"set m 0 0 20\r\n18446744073709551615\r\n"
                b"ma m v D5\r\nma m v MD D4\r\n"))
        self.assertEqual(got, b"STORED\r\nDELETED\r\nSTORED\r\n"
                         b"18446744073709551615\r\n"
                         b"18446744073709551614\r\n0\r\nSTORED\r\n"
                         b"VA 1\r\n4\r\nVA 1\r\n0\r\n")


class DifferentialTest(unittest.TestCase):
    # test_meta_differential.py runs this with its own generator and side.
    GEN = Gen
    SIDE = Side

    @classmethod
    def setUpClass(cls):
        cls.mc = nodelib.memcached("-m", "64", "-I", "1m")
        try:
            cls.rc = nodelib.node("-m", "64", "-I", "1m")
        except Exception:
            cls.mc.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.rc.__exit__()
        cls.mc.__exit__()

    def run_seed(self, seed):
        # NOTE: memcached itself is not deterministic here: whether an
        # incr rewrites a number in place or as a new item depends on who
        # else holds the item at that instant (its LRU maintainer and
        # crawler threads too), and two memcached processes fed the same
        # sequence have been seen to diverge about once in 20 seeds. A
        # seed that differs is therefore run once more from a flush; a
        # real difference in ringcached is deterministic for a seed and
        # fails both times.
        first = self.compare_seed(seed)
        if first is None:
            return
        second = self.compare_seed(seed)
        if second is not None:
            self.fail(second)
        print("# seed %d: passed on the second run; first run: %s"
              % (seed, first.splitlines()[0]))

    def compare_seed(self, seed):
        """Run one seed; None if every batch matched, else the failure."""
        gen = self.GEN(seed)
        a = self.SIDE(self.mc.port)
        b = self.SIDE(self.rc.port)
        for side in (a, b):
            side.run(["flush_all\r\n"])
        try:
            for i in range(BATCHES):
                batch = gen.batch()
                want = a.run(batch)
                got = b.run(batch)
                if want != got:
                    return ("seed %d batch %d differs\nsent: %r\n"
                            "memcached:  %r\nringcached: %r"
                            % (seed, i, [c[:120] for c in batch],
                               want[:600], got[:600]))
        finally:
            a.sock.close()
            b.sock.close()
        return None

    def test_seed_1(self):
        self.run_seed(SEEDS[0])

    def test_seed_2(self):
        self.run_seed(SEEDS[1])

    def test_seed_3(self):
        self.run_seed(SEEDS[2])

    def test_seed_4(self):
        self.run_seed(SEEDS[3])


if __name__ == "__main__":
    harness.main()
