#!/usr/bin/env python3
"""Client matrix: Dalli (ruby-dalli; clientlib.py). Debian 12's Dalli
3.0.6 speaks only the binary protocol: the matrix checks that it fails at
once, and lists its other calls as skipped."""

import os

import clientlib
import harness


class Dalli(clientlib.Matrix):
    client = "dalli"

    @classmethod
    def prepare(cls, tmp):
        cls.ruby = clientlib.tool("ruby", "ruby")
        rc, _, _ = clientlib.run([cls.ruby, "-e", "require 'dalli'"])
        if rc != 0:
            raise clientlib.unittest.SkipTest(
                "Dalli is missing (apt-get install ruby-dalli)")

    def command(self, servers, tmp):
        return [self.ruby, os.path.join(clientlib.CLIENTS, "dalli_check.rb"),
                servers]


if __name__ == "__main__":
    harness.main()
