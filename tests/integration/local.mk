# integration tests: Python scripts that print TAP (see harness.py).
EXTRA_DIST += tests/integration/harness.py

# ringcached (src/node): real clients, bad input, operations, libmemcached's
# tools, a differential test against memcached, and a torture test.
NODE_IT = \
    tests/integration/test_node_commands.py \
    tests/integration/test_node_badinput.py \
    tests/integration/test_node_ops.py \
    tests/integration/test_node_libmemcached.py \
    tests/integration/test_node_differential.py \
    tests/integration/test_node_torture.py \
    tests/integration/test_node_files.py \
    tests/integration/test_store_shift.py \
    tests/integration/test_store_memory.py
TESTS += $(NODE_IT)
EXTRA_DIST += $(NODE_IT) tests/integration/nodelib.py

# Meta commands on ringcached: cases, a differential test against
# memcached (it reuses test_node_differential.py's generator), and the
# lease lock of tools/examples/meta_lock.py.
META_IT = \
    tests/integration/test_meta_node.py \
    tests/integration/test_meta_differential.py \
    tests/integration/test_meta_lock.py
TESTS += $(META_IT)
EXTRA_DIST += $(META_IT) tools/examples/meta_lock.py

# The client matrix: each client library's small program in
# tests/integration/clients/ runs against ringcached and against ringproxy
# over three nodes (clientlib.py drives them; tools/deps installs them);
# and stats read as Prometheus' memcached_exporter reads them.
CLIENTS_IT = \
    tests/integration/test_clients_python.py \
    tests/integration/test_clients_php.py \
    tests/integration/test_clients_perl.py \
    tests/integration/test_clients_java.py \
    tests/integration/test_clients_go.py \
    tests/integration/test_clients_ruby.py \
    tests/integration/test_clients_libmemcached.py
TESTS += $(CLIENTS_IT) tests/integration/test_exporter_parse.py
EXTRA_DIST += $(CLIENTS_IT) tests/integration/clientlib.py \
    tests/integration/test_exporter_parse.py \
    tests/integration/clients/checklib.py \
    tests/integration/clients/pymemcache_check.py \
    tests/integration/clients/pylibmc_check.py \
    tests/integration/clients/php_check.php \
    tests/integration/clients/perl_check.pl \
    tests/integration/clients/SpyCheck.java \
    tests/integration/clients/gomemcache_check.go \
    tests/integration/clients/dalli_check.rb \
    tests/integration/clients/libmemcached_check.py

# memcached 1.6.18 compatibility of ringcached (issue 13): key echoes,
# stats groups, lru_crawler metadump, protocol detection, memcached's
# flags and Debian's memcached.conf.
COMPAT_IT = \
    tests/integration/test_compat_keys.py \
    tests/integration/test_compat_detect.py \
    tests/integration/test_compat_dump.py \
    tests/integration/test_compat_stats.py \
    tests/integration/test_compat_flags.py
TESTS += $(COMPAT_IT)
EXTRA_DIST += $(COMPAT_IT)
