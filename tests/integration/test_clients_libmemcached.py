#!/usr/bin/env python3
"""Client matrix: libmemcached's tools (libmemcached-tools; clientlib.py)."""

import os
import sys

import clientlib
import harness


class LibmemcachedTools(clientlib.Matrix):
    client = "libmemcached-tools"
    checks = clientlib.CHECKS + ("memccapable",)

    @classmethod
    def prepare(cls, tmp):
        clientlib.tool("memccp", "libmemcached-tools")

    def command(self, servers, tmp):
        return [sys.executable, os.path.join(
            clientlib.CLIENTS, "libmemcached_check.py"), servers]


if __name__ == "__main__":
    harness.main()
