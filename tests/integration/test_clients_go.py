#!/usr/bin/env python3
"""Client matrix: gomemcache (golang-go,
golang-github-bradfitz-gomemcache-dev; clientlib.py). The program is built
once per run, offline, in GOPATH mode from /usr/share/gocode."""

import os

import clientlib
import harness

GOPATH = "/usr/share/gocode"


class Gomemcache(clientlib.Matrix):
    client = "gomemcache"

    @classmethod
    def prepare(cls, tmp):
        go = clientlib.tool("go", "golang-go")
        if not os.path.isdir(os.path.join(
                GOPATH, "src/github.com/bradfitz/gomemcache/memcache")):
            raise clientlib.unittest.SkipTest(
                "gomemcache is missing (apt-get install "
                "golang-github-bradfitz-gomemcache-dev)")
        env = dict(os.environ, GO111MODULE="off", GOPATH=GOPATH,
                   GOFLAGS="", GOPROXY="off", GOCACHE=os.path.join(
                       tmp, "gocache"), HOME=tmp)
        cls.prog = os.path.join(tmp, "gomemcache_check")
        rc, out, err = clientlib.run(
            [go, "build", "-o", cls.prog,
             os.path.join(clientlib.CLIENTS, "gomemcache_check.go")],
            env=env, cwd=tmp, timeout=300)
        if rc != 0:
            raise AssertionError("go build failed:\n" + out + err)

    def command(self, servers, tmp):
        return [self.prog, servers]


if __name__ == "__main__":
    harness.main()
