# net: util + libevent (core + pthreads); nothing about memcached.
noinst_LIBRARIES += libnet.a
libnet_a_SOURCES = \
    src/net/net.h \
    src/net/net_int.h \
    src/net/addr.c \
    src/net/conn.c \
    src/net/loop.c \
    src/net/notify.c \
    src/net/server.c
# accept4(): a GNU extension.
libnet_a_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) -D_GNU_SOURCE

check_PROGRAMS += tests/net/test_net
TESTS += tests/net/test_net
tests_net_test_net_SOURCES = tests/net/helpers.c tests/net/helpers.h \
    tests/net/test_addr.c tests/net/test_conn.c tests/net/test_loop.c \
    tests/net/test_notify.c tests/net/test_server.c
tests_net_test_net_CFLAGS = $(TEST_CFLAGS) -D_GNU_SOURCE
tests_net_test_net_LDADD = libnet.a libutil.a $(LIBEVENT_LIBS) $(TEST_LIBS)
