"""Output of the client matrix programs written in Python: one line per
check, "ok NAME", "fail NAME why" or "skip NAME why" (see clientlib.py)."""

import sys
import time
import traceback


class Checks:
    def __init__(self):
        self.failed = False

    def run(self, name, fn):
        """Run fn(); it returns None (ok), or raises."""
        try:
            fn()
        except Skip as e:
            self.line("skip", name, str(e))
        except Exception as e:  # noqa: BLE001 - any error is a failure
            tb = traceback.extract_tb(e.__traceback__)[-1]
            self.line("fail", name, "%s: %r (line %d)" % (
                type(e).__name__, e, tb.lineno))
        else:
            self.line("ok", name)

    def skip(self, name, why):
        self.line("skip", name, why)

    @staticmethod
    def line(st, name, detail=""):
        print(("%s %s %s" % (st, name, detail)).rstrip())
        sys.stdout.flush()


class Skip(Exception):
    pass


def expect(cond, what):
    if not cond:
        raise AssertionError(what)


def timed_failure(fn, limit):
    """fn() must raise (the server refused the binary protocol) within
    `limit` seconds."""
    t0 = time.monotonic()
    try:
        fn()
    except Exception as e:  # noqa: BLE001
        took = time.monotonic() - t0
        expect(took < limit, "the error came after %.2f s: %r" % (took, e))
        return
    raise AssertionError("a binary request succeeded")
