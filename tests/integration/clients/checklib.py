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


# The checks of every client, in the order the driver expects them (the
# same list as clientlib.CHECKS).
ORDER = ("set_get", "add", "replace", "append_prepend", "cas", "delete",
         "incr_decr", "touch", "get_multi", "stats", "stats_settings",
         "stats_items", "stats_slabs", "stats_sizes", "stats_conns",
         "all_keys", "flush_all", "binary_fails_fast")
GROUPS = ("settings", "items", "slabs", "sizes", "conns")


def run_all(table, extra=()):
    """Run table[name] for every check of ORDER (and `extra`): a function
    is run, a string is the reason the client has no such call."""
    ck = Checks()
    for name in ORDER + tuple(extra):
        what = table[name]
        if isinstance(what, str):
            ck.skip(name, what)
        else:
            ck.run(name, what)


def stats_checks(stats):
    """{"stats": stats(), "stats_settings": stats("settings"), ...}"""
    t = {"stats": stats()}
    t.update({"stats_" + g: stats(g) for g in GROUPS})
    return t


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
