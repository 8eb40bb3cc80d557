"""ringtool end to end: sample configs, bad configs (exit status and
file:line messages), --json on every command, and the twemproxy import."""

import json
import os
import shutil
import subprocess
import tempfile
import unittest

import harness

EXAMPLES = os.path.join(harness.SRCDIR, "tools", "ringtool", "examples")


def ex(name):
    return os.path.join(EXAMPLES, name)


def run(*args, stdin=None):
    return subprocess.run([harness.binary("ringtool")] + list(args),
                          input=stdin, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=60, check=False)


class Ringtool(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ringtool.")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_check_ok_and_json(self):
        for name in ("three.conf", "four.conf", "ketama.conf"):
            r = run("check", "-c", ex(name))
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn(b"test is successful", r.stdout)
        r = run("--json", "check", "-c", ex("ketama.conf"))
        doc = json.loads(r.stdout)
        self.assertTrue(doc["ok"])
        self.assertEqual(doc["mode"], "ketama")
        self.assertEqual(doc["points"], 4 * 160 // 4 * 3)

    def test_check_bad_config(self):
        bad = self.write("bad.conf", "# x\nnode a 10.0.0.1:1\nthreads lots\n")
        r = run("check", "-c", bad)
        self.assertEqual(r.returncode, 1)
        self.assertIn(("%s:3: threads must be a number from 1 to 256, not "
                       "'lots'" % bad).encode(), r.stderr)
        self.assertIn(b"test failed", r.stderr)
        r = run("--json", "check", "-c", bad)
        self.assertEqual(r.returncode, 1)
        doc = json.loads(r.stdout)
        self.assertFalse(doc["ok"])
        self.assertEqual(doc["line"], 3)
        r = run("check", "-c", os.path.join(self.tmp, "missing.conf"))
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"No such file", r.stderr)
        dup = self.write("dup.conf", "node a h:1\nnode a h:2\n")
        r = run("locate", "-c", dup, "k")
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"dup.conf:2: duplicate node name 'a'", r.stderr)

    def test_usage_errors(self):
        self.assertEqual(run().returncode, 2)
        self.assertEqual(run("frobnicate").returncode, 2)
        self.assertEqual(run("locate", "k").returncode, 2)
        self.assertEqual(run("check", "-x").returncode, 2)
        self.assertEqual(run("diff", ex("three.conf")).returncode, 2)
        r = run("--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn(b"import-twemproxy", r.stdout)

    def test_locate_args_stdin_json(self):
        r = run("locate", "-c", ex("three.conf"), "foo", "bar")
        lines = r.stdout.decode().splitlines()
        self.assertEqual([l.split("\t")[:3] for l in lines],
                         [["foo", "cache-a", "10.0.0.1:11211"],
                          ["bar", "cache-c", "10.0.0.3:11211"]])
        keys = [b"k%d" % i for i in range(20000)] + ["é".encode()]
        r = run("locate", "-c", ex("three.conf"), "-",
                stdin=b"\r\n".join(keys) + b"\n")
        out = r.stdout.split(b"\n")[:-1]
        self.assertEqual(len(out), len(keys))
        self.assertEqual([l.split(b"\t")[0] for l in out], keys)
        r = run("--json", "locate", "-c", ex("three.conf"), "foo", "a\"b")
        doc = json.loads(r.stdout)
        self.assertEqual(doc["keys"][0]["node"], "cache-a")
        self.assertEqual(doc["keys"][1]["key"], "a\"b")
        self.assertEqual(len(doc["keys"][0]["hash"]), 16)

    def test_balance(self):
        r = run("balance", "-c", ex("three.conf"))
        self.assertEqual(r.returncode, 0)
        self.assertIn(b"max/mean", r.stdout)
        doc = json.loads(run("--json", "balance", "-c",
                             ex("three.conf")).stdout)
        self.assertAlmostEqual(sum(n["share"] for n in doc["nodes"]), 1.0, 6)
        self.assertEqual([n["weight"] for n in doc["nodes"]], [1, 2, 1])
        self.assertLess(doc["max_over_mean"], 1.05)

    def test_diff(self):
        r = run("diff", ex("three.conf"), ex("four.conf"))
        self.assertEqual(r.returncode, 0)
        self.assertIn(b"between unchanged nodes: none", r.stdout)
        doc = json.loads(run("--json", "diff", ex("three.conf"),
                             ex("four.conf")).stdout)
        self.assertEqual(doc["moved_between_unchanged"], 0)
        self.assertTrue(all(f["to"] == "cache-d" for f in doc["flows"]))
        self.assertGreater(doc["moved"], 0.15)
        self.assertLess(doc["moved"], 0.25)
        # ketama rescales every server: keys move between unchanged nodes.
        k2 = self.write("k2.conf", open(ex("ketama.conf")).read() +
                        "node - 10.0.0.4:11211 1\n")
        doc = json.loads(run("--json", "diff", ex("ketama.conf"), k2).stdout)
        self.assertGreater(doc["moved_between_unchanged"], 0)
        r = run("diff", ex("three.conf"), ex("ketama.conf"))
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"hash keys differently", r.stderr)

    def test_plot(self):
        out = os.path.join(self.tmp, "ring.svg")
        r = run("plot", "-c", ex("three.conf"), "-o", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        svg = open(out).read()
        self.assertTrue(svg.startswith("<?xml"))
        self.assertIn("cache-b", svg)
        self.assertGreater(svg.count("<path"), 3)
        self.assertTrue(svg.rstrip().endswith("</svg>"))
        self.assertEqual(run("plot", "-c", ex("three.conf")).returncode, 2)

    def test_import_twemproxy(self):
        out = os.path.join(self.tmp, "imported.conf")
        r = run("import-twemproxy", "-o", out, ex("nutcracker.yml"))
        self.assertEqual(r.returncode, 0, r.stderr)
        text = open(out).read()
        self.assertIn("ring ketama fnv1a_64\n", text)
        self.assertIn("hash_tag {}\n", text)
        self.assertIn("node cache-c 10.0.0.3:11211 1\n", text)
        self.assertEqual(run("check", "-c", out).returncode, 0)
        doc = json.loads(run("--json", "import-twemproxy",
                             ex("nutcracker.yml")).stdout)
        self.assertEqual(doc["config"], text)
        multi = self.write("multi.yml", "a:\n  servers:\n   - h:1:1\n"
                           "b:\n  distribution: modula\n  servers:\n"
                           "   - h:2:1\n")
        r = run("import-twemproxy", multi)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"2 pools in the file", r.stderr)
        r = run("import-twemproxy", "-p", "b", multi)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"distribution 'modula' cannot be kept", r.stderr)
        r = run("import-twemproxy", "-p", "a", multi)
        self.assertEqual(r.returncode, 0)
        bad = self.write("bad.yml", "a: [unclosed\n")
        self.assertEqual(run("import-twemproxy", bad).returncode, 1)
        noport = self.write("noport.yml", "a:\n  servers:\n   - hostonly\n")
        r = run("import-twemproxy", noport)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"is not host:port:weight", r.stderr)


if __name__ == "__main__":
    harness.main()
