#!/usr/bin/env python3
"""Client matrix: pymemcache and pylibmc (see clientlib.py)."""

import importlib
import os
import sys

import clientlib
import harness


class PythonClient(clientlib.Matrix):
    module = package = script = None

    @classmethod
    def prepare(cls, tmp):
        try:
            importlib.import_module(cls.module)
        except ImportError:
            raise clientlib.unittest.SkipTest(
                "%s not installed (apt-get install %s)" % (cls.module,
                                                           cls.package))

    def command(self, servers, tmp):
        return [sys.executable, os.path.join(clientlib.CLIENTS, self.script),
                servers]


class Pymemcache(PythonClient):
    client = module = "pymemcache"
    package = "python3-pymemcache"
    script = "pymemcache_check.py"


class Pylibmc(PythonClient):
    client = module = "pylibmc"
    package = "python3-pylibmc"
    script = "pylibmc_check.py"


del PythonClient    # the base class names no client: not a test case


if __name__ == "__main__":
    harness.main()
