# node: ringcached. util, proto, store, net only (DESIGN.md).
noinst_LIBRARIES += libnode.a
libnode_a_SOURCES = \
    src/node/node.h \
    src/node/node_int.h \
    src/node/config.c \
    src/node/daemon.c \
    src/node/dump.c \
    src/node/exec.c \
    src/node/meta.c \
    src/node/session.c \
    src/node/stats.c

bin_PROGRAMS += ringcached
ringcached_SOURCES = src/node/main.c
ringcached_LDADD = libnode.a libproto.a libstore.a libnet.a libutil.a \
    $(STORE_EXT_LIBS) $(LIBEVENT_LIBS)

check_PROGRAMS += tests/node/test_node
TESTS += tests/node/test_node
tests_node_test_node_SOURCES = tests/node/test_config.c
tests_node_test_node_CFLAGS = $(TEST_CFLAGS)
tests_node_test_node_LDADD = libnode.a libproto.a libstore.a libnet.a \
    libutil.a $(STORE_EXT_LIBS) $(LIBEVENT_LIBS) $(TEST_LIBS)

dist_man_MANS += man/ringcached.8
EXTRA_DIST += tools/systemd/ringcached.service tools/systemd/ringcached@.service
