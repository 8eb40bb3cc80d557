#!/usr/bin/env python3
"""Client matrix: PHP memcached (php-cli, php-memcached; clientlib.py)."""

import os

import clientlib
import harness


class PhpMemcached(clientlib.Matrix):
    client = "php-memcached"

    @classmethod
    def prepare(cls, tmp):
        php = clientlib.tool("php", "php-cli")
        rc, out, _ = clientlib.run([php, "-r", "echo class_exists("
                                    "'Memcached') ? 'yes' : 'no';"])
        if out != "yes":
            raise clientlib.unittest.SkipTest(
                "PHP's Memcached class is missing (apt-get install "
                "php-memcached)")
        cls.php = php

    def command(self, servers, tmp):
        return [self.php, os.path.join(clientlib.CLIENTS, "php_check.php"),
                servers]


if __name__ == "__main__":
    harness.main()
