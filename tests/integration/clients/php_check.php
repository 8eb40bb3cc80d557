<?php
/* PHP memcached (php-memcached, over libmemcached) against SERVER: every
 * call it has. Prints "ok|fail|skip NAME [why]" lines (clientlib.py). */

list($host, $port) = explode(":", $argv[1]);
$P = "php:";

function client($host, $port, $binary)
{
    $m = new Memcached();
    $m->setOption(Memcached::OPT_COMPRESSION, false);
    $m->setOption(Memcached::OPT_CONNECT_TIMEOUT, 3000);
    $m->setOption(Memcached::OPT_POLL_TIMEOUT, 3000);
    $m->setOption(Memcached::OPT_RECV_TIMEOUT, 3000000);
    $m->setOption(Memcached::OPT_SEND_TIMEOUT, 3000000);
    $m->setOption(Memcached::OPT_BINARY_PROTOCOL, $binary);
    $m->addServer($host, (int)$port);
    return $m;
}

function expect($cond, $what)
{
    if (!$cond) {
        throw new Exception($what);
    }
}

function check($name, $fn)
{
    try {
        $fn();
        echo "ok $name\n";
    } catch (Exception $e) {
        echo "fail $name " . str_replace("\n", " ", $e->getMessage()) .
            "\n";
    }
}

$m = client($host, $port, false);

check("set_get", function () use ($m, $P) {
    expect($m->set($P . "k1", "v1") === true, "set");
    expect($m->get($P . "k1") === "v1", "get");
    expect($m->get($P . "absent") === false &&
        $m->getResultCode() === Memcached::RES_NOTFOUND, "miss");
});
check("add", function () use ($m, $P) {
    expect($m->add($P . "k1", "x") === false, "add existing");
    expect($m->add($P . "k2", "x") === true, "add new");
});
check("replace", function () use ($m, $P) {
    expect($m->replace($P . "k2", "y") === true, "replace");
    expect($m->replace($P . "nope", "y") === false, "replace missing");
});
check("append_prepend", function () use ($m, $P) {
    $m->set($P . "ap", "v");
    expect($m->append($P . "ap", "x") === true, "append");
    expect($m->prepend($P . "ap", "p") === true, "prepend");
    expect($m->get($P . "ap") === "pvx", "value");
});
check("cas", function () use ($m, $P) {
    $m->set($P . "c", "1");
    $r = $m->get($P . "c", null, Memcached::GET_EXTENDED);
    expect($r["value"] === "1" && $r["cas"] > 0, "get extended");
    expect($m->cas($r["cas"], $P . "c", "2") === true, "cas");
    expect($m->cas($r["cas"], $P . "c", "3") === false &&
        $m->getResultCode() === Memcached::RES_DATA_EXISTS, "cas stale");
});
check("delete", function () use ($m, $P) {
    $m->set($P . "d", "1");
    expect($m->delete($P . "d") === true, "delete");
    expect($m->delete($P . "d") === false, "delete missing");
    $m->setMulti([$P . "d1" => "1", $P . "d2" => "2"]);
    $r = $m->deleteMulti([$P . "d1", $P . "d2"]);
    expect($r[$P . "d1"] === true && $r[$P . "d2"] === true,
        "deleteMulti");
});
check("incr_decr", function () use ($m, $P) {
    $m->set($P . "n", "10");
    expect($m->increment($P . "n", 5) === 15, "increment");
    expect($m->decrement($P . "n", 3) === 12, "decrement");
    expect($m->increment($P . "nope", 1) === false, "increment missing");
});
check("touch", function () use ($m, $P) {
    expect($m->touch($P . "n", 100) === true, "touch");
    expect($m->touch($P . "nope", 100) === false, "touch missing");
});
check("get_multi", function () use ($m, $P) {
    $kv = [];
    for ($i = 0; $i < 30; $i++) {
        $kv[$P . "m$i"] = "v$i";
    }
    expect($m->setMulti($kv) === true, "setMulti");
    $got = $m->getMulti(array_merge(array_keys($kv), [$P . "absent"]));
    ksort($got);
    ksort($kv);
    expect($got === $kv, "getMulti: " . count($got) . " of 30");
    expect($m->getDelayed(array_keys($kv)) === true, "getDelayed");
    expect(count($m->fetchAll()) === 30, "fetchAll");
});
$stats = function ($type) use ($m) {
    return function () use ($m, $type) {
        $s = $type === null ? $m->getStats() : $m->getStats($type);
        /* A group with no lines (items, slabs of an empty memcached, and
         * always through ringproxy) gives an empty array. */
        expect(is_array($s) && count($s) <= 1, "getStats($type): " .
            $m->getResultMessage());
        expect(count($s) === 1 || $type === "items" || $type === "slabs",
            "getStats($type) is empty");
        if ($type === null) {
            expect(isset(array_values($s)[0]["version"]), "version");
            expect(count($m->getVersion()) === 1, "getVersion");
        }
    };
};
check("stats", $stats(null));
foreach (["settings", "items", "slabs", "sizes", "conns"] as $g) {
    check("stats_$g", $stats($g));
}
check("all_keys", function () use ($m, $P) {
    $m->set($P . "ak", "1");
    $keys = $m->getAllKeys();
    expect(is_array($keys), "getAllKeys: " . $m->getResultMessage());
    expect(in_array($P . "ak", $keys), "getAllKeys lacks the key");
});
check("flush_all", function () use ($m, $P) {
    $m->set($P . "f", "1");
    expect($m->flush() === true, "flush");
    expect($m->get($P . "f") === false, "flushed");
});
check("binary_fails_fast", function () use ($host, $port, $P) {
    $b = client($host, $port, true);
    $t0 = microtime(true);
    $ok = $b->set($P . "bin", "1");
    $took = microtime(true) - $t0;
    expect($ok === false, "a binary set succeeded");
    expect($took < 1.0, sprintf("the error came after %.2f s: %s", $took,
        $b->getResultMessage()));
});
