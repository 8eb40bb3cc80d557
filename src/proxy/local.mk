# proxy: util, proto, ring, net (+ libevent through net). Nothing else.
noinst_LIBRARIES += libproxy.a
libproxy_a_SOURCES = \
    src/proxy/proxy.h \
    src/proxy/proxy_int.h \
    src/proxy/admin.c \
    src/proxy/backend.c \
    src/proxy/client.c \
    src/proxy/daemon.c \
    src/proxy/health.c \
    src/proxy/hist.c \
    src/proxy/match.c \
    src/proxy/mget.c \
    src/proxy/opts.c \
    src/proxy/pring.c \
    src/proxy/reload.c

bin_PROGRAMS += ringproxy
ringproxy_SOURCES = src/proxy/main.c
ringproxy_LDADD = libproxy.a libproto.a libring.a libnet.a libutil.a \
    $(LIBEVENT_LIBS) $(XXHASH_LIBS) -lm
