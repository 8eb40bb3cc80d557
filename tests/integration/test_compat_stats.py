"""Every stats group of memcached 1.6.18 (stats, settings, items, slabs,
conns, sizes) names a subset of what ringcached prints: both servers get
the same data (several item sizes, so several slab classes exist) and the
name sets are compared group by group, class and fd numbers folded. The
per-class command counters of `stats slabs` are real: they add up to the
global counters."""

import re
import unittest

import harness
import nodelib

GROUPS = ("", "settings", "items", "slabs", "conns", "sizes")


def load(port):
    data = b""
    for i, size in enumerate((1, 100, 1000, 5000, 50000)):
        for j in range(5):
            data += b"set k%d_%d 0 0 %d\r\n%s\r\n" % (i, j, size,
                                                      b"7" * size)
    data += b"get k0_0 k1_0 nope\r\ngets k2_0\r\nincr k0_1 1\r\n" \
        b"decr k0_2 1\r\ndelete k3_0\r\ntouch k4_0 100\r\n" \
        b"cas k1_1 0 0 1 1\r\nx\r\nmn\r\n"
    out = nodelib.exchange(port, data)
    assert out.endswith(b"MN\r\n"), out


def names(port, group):
    out = []
    for name in nodelib.stats(port, group):
        name = re.sub(r"^items:\d+:", "items:N:", name)
        out.append(re.sub(r"^\d+:", "N:", name))
    return set(out)


class StatsSuperset(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.mc = nodelib.memcached()
        cls.rc = nodelib.node()
        load(cls.mc.port)
        load(cls.rc.port)

    @classmethod
    def tearDownClass(cls):
        cls.mc.stop()
        cls.rc.stop()

    def test_every_group_is_a_superset(self):
        for group in GROUPS:
            want = names(self.mc.port, group)
            got = names(self.rc.port, group)
            self.assertTrue(want, group)
            self.assertEqual(want - got, set(), "stats %s" % group)

    def test_groups_keep_memcached_order(self):
        # Tools that read the first lines of a group (or diff them) see
        # the same sequence of names.
        for group in ("", "settings"):
            want = list(nodelib.stats(self.mc.port, group))
            got = [n for n in nodelib.stats(self.rc.port, group)
                   if n in set(want)]
            self.assertEqual(got, want, group)

    def test_per_class_counters_add_up(self):
        slabs = nodelib.stats(self.rc.port, "slabs")
        total = nodelib.stats(self.rc.port)
        for field, glob in (("get_hits", "get_hits"),
                            ("cmd_set", None),
                            ("delete_hits", "delete_hits"),
                            ("incr_hits", "incr_hits"),
                            ("decr_hits", "decr_hits"),
                            ("cas_badval", "cas_badval"),
                            ("touch_hits", "touch_hits")):
            per = sum(int(v) for k, v in slabs.items()
                      if re.match(r"^\d+:%s$" % field, k))
            if glob is None:
                # 25 sets, 1 cas (refused: its item was allocated), and
                # the new items incr and decr wrote.
                self.assertGreaterEqual(per, 26, field)
            else:
                self.assertEqual(per, int(total[glob]), field)
                self.assertGreater(per, 0, field)
        self.assertGreaterEqual(int(slabs["active_slabs"]), 3)

    def test_items_fields_have_values(self):
        items = nodelib.stats(self.rc.port, "items")
        numbers = [int(v) for k, v in items.items()
                   if k.endswith(":number")]
        self.assertEqual(sum(numbers), int(
            nodelib.stats(self.rc.port)["curr_items"]))
        for k, v in items.items():
            if k.endswith(":number"):
                self.assertEqual(items[k[:-len("number")] + "number_cold"],
                                 v)

    def test_settings_report_what_is_in_effect(self):
        st = nodelib.stats(self.rc.port, "settings")
        self.assertEqual(st["hash_algorithm"], "xxh3")
        self.assertEqual(st["binding_protocol"], "ascii")
        self.assertEqual(st["lru_crawler"], "yes")
        self.assertEqual(st["dump_enabled"], "yes")
        self.assertEqual(st["lru_segmented"], "no")
        self.assertEqual(st["ssl_enabled"], "no")
        with harness.Conn(self.rc.port) as c:
            self.assertEqual(c.call("lru_crawler disable\r\n"), b"OK\r\n")
            self.assertEqual(nodelib.stats(self.rc.port, "settings")
                             ["lru_crawler"], "no")
            self.assertEqual(c.call("lru_crawler enable\r\n"), b"OK\r\n")


if __name__ == "__main__":
    harness.main()
