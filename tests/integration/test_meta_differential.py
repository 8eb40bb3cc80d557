"""Differential test for the meta commands: randomized, pipelined sequences
of mg ms md ma mn me mixed with classic commands go to memcached 1.6.18
(Debian package, -U 0) and to ringcached; the replies must be
byte-identical after three normalisations: CAS numbers (VALUE lines and
meta c flags) are renamed in order of first appearance, so they are
compared by their equalities; a positive t (remaining TTL) becomes "t+",
since the two servers may read the clock on either side of a second; and
an me line keeps only its key (its other fields are each server's own).

Not generated, because ringcached differs on purpose (README "Meta
protocol and locks"): the l flag, negative or overflowing TTL tokens,
mg with both N and T. The n* keys take incr/decr: memcached rewrites a
number in place or as a new item depending on whether an earlier reply in
the same batch still holds it, so their s, h and win/stale flags are not
deterministic and are not asked for. Bounded: fixed seeds and batches."""

import re

import harness
import test_node_differential as classic
from test_node_differential import Gen as ClassicGen
from test_node_differential import Side as ClassicSide

SEEDS = (11, 12, 13, 14, 15)
KEYS = ["k%d" % i for i in range(6)] + ["n%d" % i for i in range(3)]
META_LINE = re.compile(rb"^(?:HD|VA|EN|NF|NS|EX)(?: [^\r\n]*)?\r$", re.M)
ME_LINE = re.compile(rb"^(ME \S+) [^\r\n]*\r$", re.M)
VA_PADDED = re.compile(rb"^(VA )(\d+)((?: [^\r\n]*)?\r\n)(\d+)( +)\r$", re.M)
B64 = {"k0": "azA=", "k1": "azE=", "n0": "bjA=", "k5": "azU="}


class MetaGen(ClassicGen):
    """The classic generator's commands plus meta ones; {cas:KEY} is the
    last CAS a server reported for KEY (from gets or a meta c flag)."""

    def meta_key(self, allow_b=True):
        k = self.rng.choice(KEYS)
        if allow_b and k in B64 and self.rng.random() < 0.15:
            return B64[k], ["b"]
        return k, []

    def opaque(self):
        if self.rng.random() < 0.3:
            return ["O%d" % self.rng.randrange(1000)]
        return []

    def ttl(self):
        # Far from each other and from R's choices, and none short enough
        # to expire during the run: the two servers' clocks tick apart.
        return str(self.rng.choice([0, 30, 100, 1000, 2592000]))

    def recache(self):
        return "R%d" % self.rng.choice([15, 60, 400])

    def pick(self, letters, p=0.3):
        return [c for c in letters if self.rng.random() < p]

    def cas_flags(self, k):
        r = self.rng.random()
        if r < 0.15:
            return ["C{cas:%s}" % k]
        if r < 0.2:
            return ["C%d" % self.rng.choice([0, 1, 99999999])]
        return []

    def mg(self):
        k, flags = self.meta_key()
        # The n* keys take incr/decr, which memcached does in place or on
        # a new item depending on whether a reply still holds the item:
        # their s, h, W, X, Z are not deterministic (see the classic test).
        num = k[0] in "nb"
        flags += self.pick("vtcfkqu" if num else "vstcfhkqu")
        if "c" in flags and "k" not in flags:
            flags.append("k")
        r = self.rng.random()
        if r < 0.2 and not num:
            flags.append("N" + self.ttl())
        elif r < 0.35:
            flags.append("T" + self.ttl())
        if self.rng.random() < 0.15 and not num:
            flags.append(self.recache())
        return self.line("mg", k, None, flags + self.opaque())

    def ms(self):
        k, flags = self.meta_key(allow_b=True)
        v = self.value() if self.rng.random() < 0.9 else "x" * 1100000
        if k.startswith("n"):
            v = str(self.rng.choice([0, 7, 100, 2 ** 64 - 1]))
        flags += self.pick("ckq", 0.35)
        if "c" in flags and "k" not in flags:
            flags.append("k")
        if self.rng.random() < 0.4:
            # No append/prepend to a number: memcached's padding of a
            # shortened number would be carried into the value.
            modes = "SER" if k.startswith("n") else "SEARP"
            flags.append("M" + self.rng.choice(modes))
        if self.rng.random() < 0.4:
            flags.append("T" + self.ttl())
        if self.rng.random() < 0.3:
            flags.append("F%d" % self.rng.choice([0, 1, 4294967295]))
        flags += self.cas_flags(k)
        if self.rng.random() < 0.1 and not k.startswith("n"):
            flags.append("I")
        return self.line("ms", k, v, flags + self.opaque())

    def md(self):
        k, flags = self.meta_key()
        flags += self.pick("qk", 0.3) + self.cas_flags(k)
        if self.rng.random() < 0.3 and k[0] not in "nb":
            flags.append("I")
            if self.rng.random() < 0.5:
                flags.append("T" + self.ttl())
        return self.line("md", k, None, flags + self.opaque())

    def ma(self):
        # Only the n* keys (see the classic test: in-place padding).
        k, flags = self.rng.choice([("n0", []), ("n1", []), ("n2", []),
                                    ("bjA=", ["b"])])
        flags += self.pick("vtckq", 0.3)
        if "c" in flags and "k" not in flags:
            flags.append("k")
        if self.rng.random() < 0.4:
            flags.append("M" + self.rng.choice("I+D-"))
        if self.rng.random() < 0.5:
            flags.append("D%d" % self.rng.choice([1, 5, 2 ** 64 - 1]))
        if self.rng.random() < 0.3:
            flags += ["N" + self.ttl(), "J%d" % self.rng.randrange(100)]
        # No T: memcached sets it on the replaced item when the number is
        # rewritten as a new one (above), so it may be lost.
        flags += self.cas_flags(k)
        self.rng.shuffle(flags)
        return self.line("ma", k, None, flags + self.opaque())

    def meta_bad(self):
        k = self.rng.choice(KEYS)
        return self.rng.choice([
            "mg\r\n", "mg %s v v\r\n" % k, "mg %s zz\r\n" % k,
            "mg %s Tx\r\n" % k, "md %s Cx\r\n" % k, "ma %s MX\r\n" % k,
            "ma %s Dx\r\n" % k, "ms %s\r\n" % k, "ms %s 2 MX\r\nhi\r\n" % k,
            "ms %s 2\r\nhix\r\n" % k, "mg YQ b\r\n",
            # (never a key in use: memcached fetches before it refuses)
            "mg unused O123456789012345678901234567890123\r\n",
            "me\r\n", "ms %s 2 Fx q\r\nhi\r\n" % k,
        ])

    def line(self, cmd, k, value, flags):
        self.rng.shuffle(flags)
        words = [cmd, k] + ([str(len(value))] if value is not None else [])
        out = " ".join(words + flags) + "\r\n"
        if value is not None:
            out += value + "\r\n"
        return out

    def command(self):
        r = self.rng.random()
        if r < 0.25:
            return self.mg()
        if r < 0.45:
            return self.ms()
        if r < 0.55:
            return self.md()
        if r < 0.65:
            return self.ma()
        if r < 0.70:
            return self.rng.choice(["mn\r\n", "me %s\r\n" % self.rng.choice(
                KEYS)])
        if r < 0.75:
            return self.meta_bad()
        return super().command()


class Side(ClassicSide):
    """One server under test: the classic test's connection and CAS
    substitution, with meta replies normalised too."""

    def name(self, cas):
        return b"cas#%d" % self.names.setdefault(cas, len(self.names))

    def meta_line(self, m):
        words = m.group(0)[:-1].split(b" ")
        key = next((w[1:] for w in words if w.startswith(b"k")), None)
        for i, w in enumerate(words):
            if i == 0 or len(w) < 2:
                continue
            if w[:1] == b"c" and w[1:].isdigit():
                if key is not None and w != b"c0":
                    self.last_cas[key.decode()] = w[1:].decode()
                words[i] = b"c" + self.name(w[1:])
            elif w[:1] == b"t" and w[1:].isdigit() and w != b"t0":
                words[i] = b"t+"
        return b" ".join(words) + b"\r"

    def rename(self, out):
        def unpad(m):
            return b"%s%d%s%s\r" % (m.group(1), len(m.group(4)), m.group(3),
                                    m.group(4))
        # VALUE lines (CAS names, padding) as the classic test does.
        out = ClassicSide.rename(self, VA_PADDED.sub(unpad, out))
        out = META_LINE.sub(self.meta_line, out)
        return ME_LINE.sub(lambda m: m.group(1) + b"\r", out)


class MetaDifferentialTest(classic.DifferentialTest):
    """The classic test's servers and loop (and its seeds, test_seed_1..4)
    with the meta generator, plus seeds of its own."""
    GEN = MetaGen
    SIDE = Side


for _seed in SEEDS:
    setattr(MetaDifferentialTest, "test_seed_%d" % _seed,
            lambda self, s=_seed: self.run_seed(s))

if __name__ == "__main__":
    harness.main()
