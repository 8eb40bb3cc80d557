# ringtool: util, ring (+ libyaml for the twemproxy import).
bin_PROGRAMS += ringtool
ringtool_SOURCES = \
    tools/ringtool/ringtool.h \
    tools/ringtool/ringtool.c \
    tools/ringtool/diff.c \
    tools/ringtool/import.c \
    tools/ringtool/plot.c \
    tools/ringtool/remote.c
ringtool_CFLAGS = $(AM_CFLAGS) $(YAML_CFLAGS)
ringtool_LDADD = libring.a libutil.a $(XXHASH_LIBS) $(YAML_LIBS) -lm
EXTRA_DIST += tools/ringtool/examples

# End-to-end tests of ringtool, and ketama against the real nutcracker.
TESTS += tests/integration/test_ringtool.py \
    tests/integration/test_ketama_nutcracker.py
EXTRA_DIST += tests/integration/test_ringtool.py \
    tests/integration/test_ketama_nutcracker.py

dist_man_MANS += man/ringtool.1 man/ringproxy.conf.5
