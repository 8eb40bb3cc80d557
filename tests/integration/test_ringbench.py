"""ringbench end to end: short, bounded runs against memcached, the null
responder and a deliberately wrong server. Checks the counts ringbench
reports and that wrong replies are caught, never ignored."""

import json
import os
import socket
import subprocess
import sys
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def ringbench(port, *args, timeout=30):
    """Run ringbench --json; return (exit status, report or None, stderr)."""
    argv = [harness.binary("ringbench"), "-s", "127.0.0.1:%d" % port,
            "--json", "-c", "4"] + list(args)
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout)
    out = r.stdout.decode()
    return r.returncode, (json.loads(out) if out.strip() else None), \
        r.stderr.decode()


def memcached():
    mc = harness.system_binary("memcached", "memcached")
    argv = [mc, "-U", "0", "-l", "127.0.0.1", "-p", "{port}", "-t", "1",
            "-m", "64"]
    if os.geteuid() == 0:
        argv += ["-u", "root"]
    return harness.Server(argv)


class FakeServer:
    """Answers every request line with `reply` (a function of the line)."""

    def __init__(self, reply):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.reply = reply
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(c,),
                             daemon=True).start()

    def serve(self, c):
        f = c.makefile("rb")
        try:
            for line in f:
                words = line.split()
                if words and words[0] == b"set":
                    f.read(int(words[4]) + 2)
                c.sendall(self.reply(words))
        except OSError:
            pass
        finally:
            c.close()

    def close(self):
        self.sock.close()


class RingbenchTest(unittest.TestCase):

    def test_mixed_load_on_memcached_is_clean(self):
        with memcached() as s:
            rc, rep, err = ringbench(s.port, "-d", "0.5", "-k", "1000")
        self.assertEqual(rc, 0, err)
        self.assertEqual(rep["failures"], 0)
        self.assertGreater(rep["requests"], 100)
        self.assertEqual(rep["requests"], rep["gets"] + rep["sets"])
        self.assertGreater(rep["gets"], rep["sets"])     # 1:10
        self.assertGreater(rep["latency_us"]["p50"], 0)
        self.assertLessEqual(rep["latency_us"]["p50"],
                             rep["latency_us"]["p99"])

    def test_request_count_and_preload_give_full_hits(self):
        with memcached() as s:
            rc, rep, err = ringbench(s.port, "-n", "1000", "-k", "1000",
                                     "--dist", "seq", "--ratio", "1:0",
                                     "-p", "4")
            self.assertEqual(rc, 0, err)
            self.assertEqual(rep["requests"], 1000)
            self.assertEqual(rep["sets"], 1000)
            rc, rep, err = ringbench(s.port, "-n", "500", "-k", "1000",
                                     "--ratio", "0:1", "--mget", "10")
        self.assertEqual(rc, 0, err)
        self.assertEqual(rep["requests"], 500)
        self.assertEqual(rep["keys_asked"], 5000)
        self.assertEqual(rep["hit_rate"], 1.0)

    def test_verify_mode_reads_back_what_it_wrote(self):
        with memcached() as s:
            rc, rep, err = ringbench(s.port, "-d", "0.5", "-k", "200",
                                     "--verify", "--ratio", "1:1", "-p", "8")
        self.assertEqual(rc, 0, err)
        self.assertEqual(rep["errors"]["stale_values"], 0)
        self.assertEqual(rep["errors"]["bad_values"], 0)
        self.assertGreater(rep["hits"], 0)

    def test_threads_split_connections_and_merge_counts(self):
        with memcached() as s:
            rc, rep, err = ringbench(s.port, "-t", "2", "-c", "6", "-n",
                                     "3000", "-k", "500", "--zipf", "0.9",
                                     "--verify", "--ratio", "1:2", "-p", "4")
        self.assertEqual(rc, 0, err)
        self.assertEqual(rep["threads"], 2)
        self.assertEqual(rep["requests"], 3000)
        self.assertEqual(rep["dist"], "zipf")
        self.assertEqual(rep["failures"], 0)

    def test_meta_commands_on_memcached(self):
        with memcached() as s:
            rc, rep, err = ringbench(s.port, "-d", "0.5", "-k", "200",
                                     "--meta", "--verify", "--ratio", "1:1",
                                     "-p", "4")
        self.assertEqual(rc, 0, err)
        self.assertTrue(rep["meta"])
        self.assertEqual(rep["failures"], 0)
        self.assertGreater(rep["hits"], 0)
        self.assertGreater(rep["errors"]["not_stored"] + rep["sets"], 0)

    def test_value_mix_ttl_and_set_on_miss(self):
        # Only gets: every set is one after a miss, so the second of two
        # runs over a small key space hits (values checked, sizes by key).
        with memcached() as s:
            args = ["-n", "2000", "-k", "100", "--ratio", "0:1",
                    "--value-mix", "50:10-20,50:1000-3000", "--ttl", "50:60",
                    "--set-on-miss"]
            rc, rep, err = ringbench(s.port, *args)
            self.assertEqual(rc, 0, err)
            self.assertGreater(rep["sets"], 0, "sets after misses")
            rc, rep, err = ringbench(s.port, *args)
        self.assertEqual(rc, 0, err)
        self.assertEqual(rep["failures"], 0)
        self.assertEqual(rep["errors"]["bad_values"], 0)
        self.assertEqual(rep["hit_rate"], 1.0)
        rc, _, err = ringbench(1, "--value-mix", "50:10-20")
        self.assertNotEqual(rc, 0, "percentages must add up to 100")

    def test_open_loop_holds_the_offered_rate(self):
        with memcached() as s:
            rc, rep, err = ringbench(s.port, "-d", "1", "--rate", "2000")
        self.assertEqual(rc, 0, err)
        self.assertAlmostEqual(rep["ops_per_sec"], 2000, delta=200)

    def test_null_responder_values_are_caught_unless_told(self):
        ns = harness.binary("nullserver")
        with harness.Server([ns, "-p", "{port}", "-s", "32"]) as s:
            rc, rep, _ = ringbench(s.port, "-n", "200")
            self.assertEqual(rc, 1)
            self.assertGreater(rep["errors"]["bad_values"], 0)
            rc, rep, err = ringbench(s.port, "-n", "200", "--no-value-check")
            self.assertEqual(rc, 0, err)
            self.assertEqual(rep["failures"], 0)
            # A value of the wrong length is wrong even then.
            rc, rep, _ = ringbench(s.port, "-n", "200", "--no-value-check",
                                   "--value-size", "33", "--ratio", "0:1")
            self.assertEqual(rc, 1)
            self.assertEqual(rep["errors"]["bad_values"], 200)

    def test_garbage_reply_is_a_protocol_error(self):
        fake = FakeServer(lambda words: b"HELLO\r\n")
        try:
            rc, rep, _ = ringbench(fake.port, "-d", "1")
        finally:
            fake.close()
        self.assertEqual(rc, 1)
        self.assertGreater(rep["errors"]["protocol"], 0)

    def test_value_for_another_key_is_caught(self):
        def reply(words):
            if words[0] == b"get":
                # Answer with a value whose key tag is not the key's.
                return (b"VALUE " + words[1] + b" 0 32\r\n" + b"0" * 32
                        + b"\r\nEND\r\n")
            return b"STORED\r\n"
        fake = FakeServer(reply)
        try:
            rc, rep, _ = ringbench(fake.port, "-n", "100", "--ratio", "0:1")
        finally:
            fake.close()
        self.assertEqual(rc, 1)
        self.assertEqual(rep["errors"]["bad_values"], 100)

    def test_bad_option_exits_2(self):
        r = subprocess.run([harness.binary("ringbench"), "--ratio", "x"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"ratio", r.stderr)

    def test_unreachable_server_is_a_failure(self):
        port = harness.free_port()
        rc, rep, _ = ringbench(port, "-d", "0.3")
        self.assertEqual(rc, 1)
        self.assertGreater(rep["errors"]["connections"], 0)


if __name__ == "__main__":
    harness.main()
