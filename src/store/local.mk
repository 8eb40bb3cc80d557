# store: util, jemalloc, xxHash. Under --enable-sanitizers the arena comes
# from the system allocator (ASan must see it), so jemalloc is not linked.
noinst_LIBRARIES += libstore.a
libstore_a_SOURCES = \
    src/store/store.h \
    src/store/internal.h \
    src/store/dump.c \
    src/store/hash.c \
    src/store/item.c \
    src/store/meta.c \
    src/store/slab.c \
    src/store/stats.c \
    src/store/store.c
libstore_a_CFLAGS = $(AM_CFLAGS) $(XXHASH_CFLAGS) $(JEMALLOC_CFLAGS)

# Programs that link libstore.a add $(STORE_EXT_LIBS) after it.
if SANITIZERS
STORE_EXT_LIBS = $(XXHASH_LIBS)
else
STORE_EXT_LIBS = $(XXHASH_LIBS) $(JEMALLOC_LIBS)
endif

check_PROGRAMS += tests/store/test_store
TESTS += tests/store/test_store
tests_store_test_store_SOURCES = tests/store/test_store.c \
    tests/store/test_slab.c tests/store/test_stress.c tests/store/test_meta.c tests/store/test_model.c \
    tests/store/test_dump.c \
    tests/store/stress.c tests/store/stress.h tests/store/helpers.h
tests_store_test_store_CFLAGS = $(TEST_CFLAGS)
tests_store_test_store_LDADD = libstore.a libutil.a $(STORE_EXT_LIBS) \
    $(TEST_LIBS)

EXTRA_PROGRAMS += bench_store
BENCH_BINS += bench_store
bench_store_SOURCES = tests/store/bench_store.c
bench_store_CPPFLAGS = $(AM_CPPFLAGS) -DBENCH_PYTHON3='"$(PYTHON3)"' \
    -DBENCH_SRCDIR='"$(abs_top_srcdir)"'
bench_store_LDADD = libstore.a libutil.a $(STORE_EXT_LIBS)
CLEANFILES += bench_store stress_store

# The stress run without Criterion, for ThreadSanitizer builds.
EXTRA_PROGRAMS += stress_store
stress_store_SOURCES = tests/store/stress_main.c tests/store/stress.c \
    tests/store/stress.h tests/store/helpers.h
stress_store_LDADD = libstore.a libutil.a $(STORE_EXT_LIBS)
EXTRA_DIST += tests/store/memcached_mem.py
