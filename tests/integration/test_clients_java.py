#!/usr/bin/env python3
"""Client matrix: spymemcached (libspymemcached-java, default-jdk-headless;
clientlib.py). SpyCheck.java is compiled once per run into a temp dir."""

import os

import clientlib
import harness

JAR = "/usr/share/java/spymemcached.jar"


class Spymemcached(clientlib.Matrix):
    client = "spymemcached"

    @classmethod
    def prepare(cls, tmp):
        javac = clientlib.tool("javac", "default-jdk-headless")
        cls.java = clientlib.tool("java", "default-jdk-headless")
        if not os.path.exists(JAR):
            raise clientlib.unittest.SkipTest(
                "%s is missing (apt-get install libspymemcached-java)" % JAR)
        rc, out, err = clientlib.run(
            [javac, "-d", tmp, "-cp", JAR,
             os.path.join(clientlib.CLIENTS, "SpyCheck.java")])
        if rc != 0:
            raise AssertionError("javac failed:\n" + out + err)

    def command(self, servers, tmp):
        return [self.java, "-cp", tmp + os.pathsep + JAR, "SpyCheck",
                servers]


if __name__ == "__main__":
    harness.main()
