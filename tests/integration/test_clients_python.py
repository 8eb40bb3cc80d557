#!/usr/bin/env python3
"""Client matrix: pymemcache and pylibmc (see clientlib.py)."""

import os
import sys

import clientlib
import harness


class Pymemcache(clientlib.Matrix):
    client = "pymemcache"

    @classmethod
    def prepare(cls, tmp):
        try:
            import pymemcache  # noqa: F401
        except ImportError:
            raise clientlib.unittest.SkipTest(
                "pymemcache not installed (apt-get install "
                "python3-pymemcache)")

    def command(self, servers, tmp):
        return [sys.executable, os.path.join(clientlib.CLIENTS,
                                             "pymemcache_check.py"), servers]


class Pylibmc(clientlib.Matrix):
    client = "pylibmc"

    @classmethod
    def prepare(cls, tmp):
        try:
            import pylibmc  # noqa: F401
        except ImportError:
            raise clientlib.unittest.SkipTest(
                "pylibmc not installed (apt-get install python3-pylibmc)")

    def command(self, servers, tmp):
        return [sys.executable, os.path.join(clientlib.CLIENTS,
                                             "pylibmc_check.py"), servers]


if __name__ == "__main__":
    harness.main()
