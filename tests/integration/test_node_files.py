"""ringcached's shipped files: the systemd units pass `systemd-analyze
verify` (when systemd is installed) and ask for what they should; the man
page is lint-clean and documents every flag."""

import os
import re
import shutil
import subprocess
import tempfile
import unittest

import harness

UNITS = ("ringcached.service", "ringcached@.service")


def src(*parts):
    return os.path.join(harness.SRCDIR, *parts)


class UnitsTest(unittest.TestCase):
    def read(self, name):
        with open(src("tools", "systemd", name)) as f:
            return f.read()

    def test_units_are_notify_and_hardened(self):
        for name in UNITS:
            text = self.read(name)
            for line in ("Type=notify", "DynamicUser=yes",
                         "ProtectSystem=strict", "NoNewPrivileges=yes",
                         "PrivateDevices=yes", "CapabilityBoundingSet=",
                         "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX"):
                self.assertIn("\n" + line + "\n", text, name)
        self.assertIn("-p %i", self.read("ringcached@.service"))

    def test_systemd_analyze_verify(self):
        tool = shutil.which("systemd-analyze")
        if tool is None:
            raise unittest.SkipTest("systemd-analyze not installed")
        with tempfile.TemporaryDirectory() as d:
            paths = []
            for name in UNITS:
                # The installed path may not exist here: point ExecStart at
                # the binary we built.
                text = self.read(name).replace("/usr/local/bin/ringcached",
                                               harness.binary("ringcached"))
                out = name.replace("@.", "@11211.")
                with open(os.path.join(d, out), "w") as f:
                    f.write(text)
                paths.append(os.path.join(d, out))
            r = subprocess.run([tool, "verify", "--man=no"] + paths,
                               capture_output=True, timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr.decode())
            self.assertEqual(r.stderr.strip(), b"", r.stderr.decode())


class ManPageTest(unittest.TestCase):
    def test_lint_clean(self):
        mandoc = harness.system_binary("mandoc", "mandoc")
        r = subprocess.run([mandoc, "-Tlint", "-Wwarning",
                            src("man", "ringcached.8")], capture_output=True,
                           timeout=30)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_every_flag_documented(self):
        with open(src("man", "ringcached.8")) as f:
            man = f.read()
        r = subprocess.run([harness.binary("ringcached"), "-h"],
                           capture_output=True, timeout=10)
        flags = set(re.findall(r"^-(\w),", r.stdout.decode(), re.M))
        self.assertGreater(len(flags), 15)
        for flag in flags:
            self.assertRegex(man, r"\.It Fl %s " % flag, flag)


if __name__ == "__main__":
    harness.main()
