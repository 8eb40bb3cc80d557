#!/usr/bin/env python3
"""Client matrix: Perl Cache::Memcached and Cache::Memcached::Fast
(libcache-memcached-perl, libcache-memcached-fast-perl; clientlib.py)."""

import os

import clientlib
import harness


class PerlClient(clientlib.Matrix):
    module = None
    package = None

    @classmethod
    def prepare(cls, tmp):
        cls.perl = clientlib.tool("perl", "perl")
        rc, _, _ = clientlib.run([cls.perl, "-M" + cls.module, "-e", "1"])
        if rc != 0:
            raise clientlib.unittest.SkipTest(
                "%s is missing (apt-get install %s)" % (cls.module,
                                                        cls.package))

    def command(self, servers, tmp):
        return [self.perl, os.path.join(clientlib.CLIENTS, "perl_check.pl"),
                self.module, servers]


class CacheMemcached(PerlClient):
    client = "Cache::Memcached"
    module = "Cache::Memcached"
    package = "libcache-memcached-perl"


class CacheMemcachedFast(PerlClient):
    client = "Cache::Memcached::Fast"
    module = "Cache::Memcached::Fast"
    package = "libcache-memcached-fast-perl"


del PerlClient      # the base class has no module: not a test case


if __name__ == "__main__":
    harness.main()
