/*
 * spymemcached (libspymemcached-java) against SERVER: every call it has.
 * Prints "ok|fail|skip NAME [why]" lines (clientlib.py). Compiled by
 * test_clients_java.py with javac at test time.
 */
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import net.spy.memcached.AddrUtil;
import net.spy.memcached.CASResponse;
import net.spy.memcached.CASValue;
import net.spy.memcached.ConnectionFactoryBuilder;
import net.spy.memcached.ConnectionFactoryBuilder.Protocol;
import net.spy.memcached.FailureMode;
import net.spy.memcached.MemcachedClient;

public class SpyCheck {
    interface Check {
        void run() throws Exception;
    }

    static final String P = "spy:";
    static MemcachedClient m;

    static void expect(boolean cond, String what) {
        if (!cond) {
            throw new AssertionError(what);
        }
    }

    static void check(String name, Check c) {
        try {
            c.run();
            System.out.println("ok " + name);
        } catch (Throwable e) {
            System.out.println("fail " + name + " " +
                String.valueOf(e).replace('\n', ' '));
        }
        System.out.flush();
    }

    static MemcachedClient client(String server, Protocol p)
            throws Exception {
        return new MemcachedClient(new ConnectionFactoryBuilder()
            .setProtocol(p).setOpTimeout(3000)
            .setFailureMode(FailureMode.Cancel).build(),
            AddrUtil.getAddresses(server));
    }

    static void stats(String group) {
        Map<SocketAddress, Map<String, String>> s = group == null ?
            m.getStats() : m.getStats(group);
        expect(s.size() == 1, "getStats: " + s);
        Map<String, String> one = s.values().iterator().next();
        if (group == null) {
            expect(one.containsKey("version"), "version: " + one);
            expect(m.getVersions().size() == 1, "getVersions");
        } else if (!group.equals("items") && !group.equals("slabs")) {
            expect(!one.isEmpty(), "stats " + group + " empty");
        }
    }

    public static void main(String[] args) throws Exception {
        String server = args[0];
        m = client(server, Protocol.TEXT);
        check("set_get", () -> {
            expect(m.set(P + "k1", 0, "v1").get(), "set");
            expect("v1".equals(m.get(P + "k1")), "get");
            expect(m.get(P + "absent") == null, "miss");
        });
        check("add", () -> {
            expect(!m.add(P + "k1", 0, "x").get(), "add existing");
            expect(m.add(P + "k2", 0, "x").get(), "add new");
        });
        check("replace", () -> {
            expect(m.replace(P + "k2", 0, "y").get(), "replace");
            expect(!m.replace(P + "nope", 0, "y").get(), "replace missing");
        });
        check("append_prepend", () -> {
            m.set(P + "ap", 0, "v").get();
            expect(m.append(P + "ap", "x").get(), "append");
            expect(m.prepend(P + "ap", "p").get(), "prepend");
            expect("pvx".equals(m.get(P + "ap")), "value");
        });
        check("cas", () -> {
            m.set(P + "c", 0, "1").get();
            CASValue<Object> v = m.gets(P + "c");
            expect(v != null && "1".equals(v.getValue()), "gets");
            expect(m.cas(P + "c", v.getCas(), "2") == CASResponse.OK,
                "cas");
            expect(m.cas(P + "c", v.getCas(), "3") == CASResponse.EXISTS,
                "cas stale");
            expect(m.cas(P + "nope", v.getCas(), "3") ==
                CASResponse.NOT_FOUND, "cas missing");
        });
        check("delete", () -> {
            m.set(P + "d", 0, "1").get();
            expect(m.delete(P + "d").get(), "delete");
            expect(!m.delete(P + "d").get(), "delete missing");
        });
        check("incr_decr", () -> {
            m.set(P + "n", 0, "10").get();
            expect(m.incr(P + "n", 5) == 15, "incr");
            expect(m.decr(P + "n", 3) == 12, "decr");
            expect(m.incr(P + "nope", 1) == -1, "incr missing");
            expect(m.incr(P + "dflt", 1, 7) == 7, "incr with default");
        });
        check("touch", () -> {
            expect(m.touch(P + "n", 100).get(), "touch");
            expect(!m.touch(P + "nope", 100).get(), "touch missing");
            /* getAndTouch is binary-only in spymemcached. */
        });
        check("get_multi", () -> {
            Map<String, Object> kv = new HashMap<>();
            List<String> keys = new ArrayList<>();
            for (int i = 0; i < 30; i++) {
                kv.put(P + "m" + i, "v" + i);
                keys.add(P + "m" + i);
                m.set(P + "m" + i, 0, "v" + i);
            }
            keys.add(P + "absent");
            Map<String, Object> got = m.getBulk(keys);
            expect(got.equals(kv), "getBulk: " + got.size() + " of 30");
        });
        check("stats", () -> stats(null));
        for (String g : new String[] {"settings", "items", "slabs", "sizes",
                                      "conns"}) {
            check("stats_" + g, () -> stats(g));
        }
        System.out.println("skip all_keys spymemcached has no call that " +
            "lists keys");
        check("flush_all", () -> {
            m.set(P + "f", 0, "1").get();
            expect(m.flush().get(), "flush");
            expect(m.get(P + "f") == null, "flushed");
        });
        m.shutdown(1, TimeUnit.SECONDS);
        check("binary_fails_fast", () -> {
            MemcachedClient b = client(server, Protocol.BINARY);
            long t0 = System.nanoTime();
            Throwable err = null;
            try {
                b.set(P + "bin", 0, "1").get(3, TimeUnit.SECONDS);
            } catch (Exception e) {
                err = e;
            }
            double took = (System.nanoTime() - t0) / 1e9;
            b.shutdown(0, TimeUnit.SECONDS);
            expect(err != null, "a binary set succeeded");
            expect(took < 1.0, String.format(
                "the error came after %.2f s: %s", took, err));
        });
        System.exit(0);
    }
}
