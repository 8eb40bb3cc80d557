/*
 * store: the item store of ringcached. Slab classes on pages of one
 * reserved arena, a hash table (xxh3 of the key) with striped locks that
 * grows incrementally, CLOCK eviction per class, lazy and swept expiry,
 * 64-bit CAS, flush_all, and automatic page rebalancing between classes.
 *
 * Pure: no sockets, no protocol text, no threads of its own, no wall
 * clock. Every call that needs the time takes `now`: unix seconds, as the
 * node reads them from util_wall_sec() (one reading per event-loop turn
 * is enough). Expiry times from clients follow memcached: 0 = never,
 * 1..2592000 (30 days) = seconds from now, larger = absolute unix time,
 * negative = already expired. An item is expired once now >= its expiry.
 *
 * Thread-safe: any number of threads may call any function concurrently.
 * Hash-striped locks are held for the length of one operation on one key;
 * hits take no global lock. The node calls store_maintain() periodically
 * (say every 100 ms) from one thread or timer for the background work.
 *
 * Items are reference counted: an item returned to the caller keeps its
 * bytes valid (key, value, flags, CAS) until item_unref(), even if another
 * thread replaces or deletes the key meanwhile, so values can be sent
 * straight from item memory.
 */
#ifndef STORE_STORE_H
#define STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

struct item;
struct store;

/* Longest key memcached accepts, and so do we. */
#define STORE_KEY_MAX 250
/* Relative expiry times above this many seconds are absolute unix times. */
#define STORE_REALTIME_MAXDELTA (60 * 60 * 24 * 30)

enum store_status {
    STORE_OK = 0,
    STORE_NOT_FOUND,   /* key absent, expired or flushed */
    STORE_NOT_STORED,  /* add on a live key; replace/append/prepend on none */
    STORE_EXISTS,      /* CAS unique given and different from the item's */
    STORE_NON_NUMERIC, /* incr/decr on a value that is not a decimal u64 */
    STORE_TOO_LARGE,   /* failure: item larger than item_size_max */
    STORE_ENOMEM,      /* failure: no memory and nothing evictable now */
    STORE_EINVAL,      /* failure: key empty or longer than STORE_KEY_MAX */
};

/* How store_link() commits an item; memcached's storage commands. */
enum store_mode {
    STORE_SET = 0,
    STORE_ADD,
    STORE_REPLACE,
    STORE_APPEND,
    STORE_PREPEND,
    STORE_CAS,
    STORE_CAS_STALE,  /* meta ms C+I: like CAS, but a CAS unique older than
                       * the item's also stores, marked stale, keeping the
                       * old expiry (and win token) */
};

/* Settings, named after memcached's flags. Fill with store_config_init(). */
struct store_config {
    size_t mem_limit;      /* -m: bytes of item memory (default 64 MiB) */
    size_t item_size_max;  /* -I: largest item, header and key included
                            * (1 MiB; 1 KiB .. 1 GiB). Pages are 1 MiB
                            * whatever it is. */
    size_t slab_chunk_max; /* -o slab_chunk_max: largest chunk; larger
                            * items are chained over chunks of this size
                            * (512 KiB; 1 KiB .. 1 MiB) */
    bool no_evict;         /* -M: fail (STORE_ENOMEM) instead of evicting
                            * live items; expired ones are still reused */
    unsigned slab_automove; /* -o slab_automove: 0 never moves pages on its
                            * own, 1 (default) by pressure and tail age,
                            * 2 at once on any eviction */
    double growth_factor;  /* -f: chunk size factor between classes (1.25) */
    size_t chunk_min;      /* -n: key+value+flags room of the smallest chunk
                            * beyond a 48-byte header, as memcached (48) */
    unsigned hash_power;   /* log2 of the initial hash table size (16) */
    unsigned lock_power;   /* log2 of the number of lock stripes (10) */
};

/* Fill `c` with memcached's defaults: -m 64 -I 1m -f 1.25 -n 48. */
void store_config_init(struct store_config *c);

/* The smallest mem_limit store_create() accepts for `c`'s item_size_max
 * and slab_chunk_max: the pages of one largest item, plus one. */
size_t store_min_memory(const struct store_config *c);

/*
 * Create a store. Reserves the arena (mem_limit rounded down to whole
 * pages) as address space only: pages become resident when first used.
 * Returns NULL if the configuration is invalid (item_size_max outside
 * 1 KiB..1 GiB, mem_limit below store_min_memory(), factor <= 1, too many
 * classes, lock_power > hash_power) or the arena cannot be reserved.
 * Startup only:
 * exits via xmalloc on a small allocation failure.
 */
struct store *store_create(const struct store_config *c);
/* Free everything. No item may still be referenced. NULL is a no-op. */
void store_destroy(struct store *s);

/* ---- items -------------------------------------------------------------- */

/* Key, value, client flags, CAS unique and expiry of an item the caller
 * holds a reference to. item_exptime() is absolute unix seconds, 0 = never. */
struct str item_key(const struct item *it);
const char *item_value(const struct item *it);
size_t item_value_len(const struct item *it);
uint32_t item_flags(const struct item *it);
uint64_t item_cas(const struct item *it);
uint32_t item_exptime(const struct item *it);
/* True if some get/gat/touch fetched the item before (meta `h` flag; an
 * incr/decr does not count, as in memcached). */
bool item_fetched(const struct item *it);
/*
 * Mark an unlinked item from store_alloc() as stored under a base64 key
 * (meta "b"): replies then echo its key in base64, as memcached does.
 */
void item_mark_key_binary(struct item *it);
/* True if item_mark_key_binary() was called on the item. */
bool item_key_binary(const struct item *it);
/*
 * Writable value bytes of an item from store_alloc() that is not linked
 * yet: the node reads the value from the socket straight into it.
 * item_value() and item_value_mut() give the whole value only when
 * item_contiguous(); a large item (over slab_chunk_max) is chained over
 * chunks: walk its pieces with item_segs_*, or copy with
 * item_value_read()/item_value_write().
 */
char *item_value_mut(struct item *it);
bool item_contiguous(const struct item *it);
/* Iterate over the pieces of an item's value, in order (one for a
 * contiguous item). Valid while the caller holds its reference. */
struct item_segs {
    const struct item *it;
    const void *next;
    bool started;
};
void item_segs_begin(const struct item *it, struct item_segs *i);
/* The next piece in *seg; false after the last. */
bool item_segs_next(struct item_segs *i, struct str *seg);
/* Copy value bytes [off, off + len) out of / into an item; the range must
 * be inside the value. Writing is for unlinked items from store_alloc(). */
void item_value_read(const struct item *it, size_t off, char *dst,
    size_t len);
void item_value_write(struct item *it, size_t off, const char *src,
    size_t len);
/* Take another reference to an item the caller already holds. */
void item_ref(struct item *it);
/* Drop a reference; the last one frees the item's memory. Never blocks
 * for long (it may take the item's class lock). */
void item_unref(struct store *s, struct item *it);

/* ---- operations ---------------------------------------------------------- */

/*
 * Allocate an unlinked item for `key` with room for `nbytes` of value,
 * client `flags` and client expiry `exptime` (see top of file). Evicts from
 * the item's class if needed. On STORE_OK *itp holds the only reference;
 * fill item_value_mut() and pass it to store_link(), or item_unref() it.
 * Failures: STORE_EINVAL (key length), STORE_TOO_LARGE, STORE_ENOMEM
 * (node replies "SERVER_ERROR out of memory storing object").
 */
enum store_status store_alloc(struct store *s, struct str key,
    uint32_t flags, int64_t exptime, size_t nbytes, uint32_t now,
    struct item **itp);

/*
 * Commit an item from store_alloc() under `mode` with memcached's rules:
 * SET always; ADD only if the key is not live (else STORE_NOT_STORED);
 * REPLACE, APPEND, PREPEND only if it is (else STORE_NOT_STORED); APPEND and
 * PREPEND keep the old item's flags and expiry; CAS only if the live item's
 * CAS unique equals `cas` (STORE_EXISTS if not, STORE_NOT_FOUND if absent).
 * For APPEND/PREPEND a nonzero `cas` must match too. On STORE_OK the item
 * gets a new CAS unique, stored in *cas_out if not NULL. Always consumes the
 * caller's reference to `it`. APPEND/PREPEND may fail with STORE_ENOMEM or
 * STORE_TOO_LARGE (the joined item does not fit).
 */
enum store_status store_link(struct store *s, struct item *it,
    enum store_mode mode, uint64_t cas, uint32_t now, uint64_t *cas_out);

/*
 * store_alloc() + copy `val` + store_link() in one call, for callers that
 * already have the value in memory (tests, meta commands, the benchmark).
 */
enum store_status store_set(struct store *s, enum store_mode mode,
    struct str key, uint32_t flags, int64_t exptime, struct str val,
    uint64_t cas, uint32_t now, uint64_t *cas_out);

/*
 * Look up `key`. On STORE_OK *itp holds a reference the caller drops with
 * item_unref(). STORE_NOT_FOUND if absent, expired or flushed at `now`
 * (expired and flushed items are unlinked on the way). Never allocates.
 */
enum store_status store_get(struct store *s, struct str key, uint32_t now,
    struct item **itp);

/* Get and touch (gat/gats): like store_get(), and set the expiry to
 * client `exptime`; itp may be NULL (touch). Counted as touch_hits/
 * touch_misses as in memcached. */
enum store_status store_gat(struct store *s, struct str key, int64_t exptime,
    uint32_t now, struct item **itp);

/* Set the expiry of a live key to client `exptime`. STORE_NOT_FOUND if
 * there is none. */
enum store_status store_touch(struct store *s, struct str key,
    int64_t exptime, uint32_t now);

/* Delete a live key; with a nonzero `cas` only if it matches (else
 * STORE_EXISTS). STORE_NOT_FOUND if there is none. */
enum store_status store_delete(struct store *s, struct str key, uint64_t cas,
    uint32_t now);

/*
 * incr (`incr` true) or decr by `delta`, as memcached 1.6: the value must
 * parse as a decimal u64 (leading spaces, then digits, then the end or a
 * space; else STORE_NON_NUMERIC), incr wraps at 2^64, decr stops at 0.
 * The result is written back in decimal; when it is shorter than the old
 * value and nobody else holds the item it is rewritten in place, padded
 * with spaces to the old length (memcached does exactly this). A nonzero
 * `cas` must match (else STORE_EXISTS). On STORE_OK *value is the new number
 * and *cas_out (if not NULL) the new CAS unique. May fail with STORE_ENOMEM
 * when the number grows longer than the old value.
 */
enum store_status store_arith(struct store *s, struct str key, bool incr,
    uint64_t delta, uint64_t cas, uint32_t now, uint64_t *value,
    uint64_t *cas_out);

/*
 * flush_all: with `delay` <= 0, every item stored so far is invalid now;
 * else items stored before time `delay` (client expiry rules) become
 * invalid then. A later flush replaces a pending delayed one. Never fails.
 */
void store_flush(struct store *s, int64_t delay, uint32_t now);

/*
 * Background work, in steps bounded by `budget` (chunks or buckets looked
 * at per kind of work; 1000 is a few tens of microseconds): incremental
 * hash table growth, the sweep that reclaims expired and flushed items,
 * and page rebalancing: when no free page is left, a page moves to the
 * class that evicted or failed most since the last decision, from a class
 * with a page's worth of free chunks (its items are copied, not lost), or
 * else, at most once per second of `now` (at once if the needy class has
 * no memory at all), from a class under a quarter of that pressure that
 * keeps a page. Call it periodically, e.g. every 100 ms; it never blocks
 * on other threads for long. Returns true while work is pending (the
 * caller may call again soon). Calls from several threads are serialized
 * (a concurrent call returns true at once).
 */
bool store_maintain(struct store *s, uint32_t now, unsigned budget);

/* memcached's answers to "slabs reassign". */
enum store_reassign {
    STORE_REASSIGN_OK = 0,
    STORE_REASSIGN_BUSY,      /* every move slot is in use */
    STORE_REASSIGN_BADCLASS,  /* src or dst is not a class */
    STORE_REASSIGN_NOSPARE,   /* src has no page to give (keeps one) */
    STORE_REASSIGN_SAME,      /* src == dst */
};

/*
 * slabs reassign: start moving a page of class `src` (memcached's
 * numbering, from 1; -1 = the class with the oldest tail) to class `dst`.
 * Its items are rescued or evicted by store_maintain(); never blocks.
 */
enum store_reassign store_reassign(struct store *s, int src, int dst);

/* slabs automove: 0 = pages move only within requests that would fail
 * otherwise and by store_reassign(); 1 = also by pressure and tail age
 * (the default); 2 = as 1, without waiting a second between moves. */
void store_set_automove(struct store *s, unsigned mode);
/* The current slabs automove mode. */
unsigned store_automove(const struct store *s);

/* Short English name of a status, for logs ("not found"). */
const char *store_status_str(enum store_status st);

/* ---- meta commands ------------------------------------------------------- */

/* What a meta get (mg) may do besides fetching. */
struct store_mget_opts {
    bool no_bump;        /* u: do not mark the item hit or recently used */
    bool no_win;         /* me: only look, never hand out a win token */
    bool touch;          /* T: set the expiry to client `touch_ttl` */
    int64_t touch_ttl;
    bool touch_first;    /* T came before R: R sees the new expiry */
    bool vivify;         /* N: on a miss, create an empty item with client
                          * expiry `vivify_ttl` and win its recache */
    int64_t vivify_ttl;
    bool recache;        /* R: win the recache if the remaining TTL is
                          * below `recache_ttl` seconds */
    int64_t recache_ttl;
};

/* What a meta get found, for its response flags. */
struct store_mget_res {
    bool hit_before;     /* h: fetched before this command */
    bool win;            /* W: this client should recache the item */
    bool stale;          /* X: the item was invalidated (md I / ms I) */
    bool token_sent;     /* Z: another client already won the recache */
    bool vivified;       /* N created the item just now */
};

/*
 * Meta get: store_get() (or store_gat() with `touch`) plus the
 * stale-while-revalidate rules of memcached 1.6. With `vivify`, a miss
 * creates and links an empty item and returns it (STORE_OK, res->win);
 * STORE_ENOMEM if that fails. On STORE_OK *itp holds a reference.
 * Remaining TTL for the `t` flag is item_exptime() - now (or -1 if 0).
 * The last access time (`l`) is not tracked.
 */
enum store_status store_mget(struct store *s, struct str key,
    const struct store_mget_opts *o, uint32_t now, struct item **itp,
    struct store_mget_res *res);

/*
 * Look at a live key without any side effect (no bump, no win, no
 * counters): STORE_OK with its absolute expiry (0 = never) in *exptime,
 * or STORE_NOT_FOUND. For meta flags that show the TTL around a change.
 */
enum store_status store_peek(struct store *s, struct str key, uint32_t now,
    uint32_t *exptime);

/*
 * Set a live key's expiry to client `exptime` and nothing else (no bump,
 * no win, no counters): meta ma's T. STORE_NOT_FOUND if there is none.
 */
enum store_status store_set_exptime(struct store *s, struct str key,
    int64_t exptime, uint32_t now);

/*
 * Meta delete with I: mark a live key stale instead of removing it, give
 * it a new CAS unique, clear its win token so the next mg wins, and when
 * `set_ttl` set its expiry to client `ttl`. A nonzero `cas` must match
 * (else STORE_EXISTS). STORE_NOT_FOUND if there is no live key.
 */
enum store_status store_invalidate(struct store *s, struct str key,
    uint64_t cas, bool set_ttl, int64_t ttl, uint32_t now);

/* ---- key dump (lru_crawler metadump) ------------------------------------ */

/* What a key dump shows of one live item (memcached's metadump fields). */
struct store_dump_item {
    struct str key;       /* valid only during the callback */
    bool key_binary;      /* item_key_binary() */
    bool fetched;
    uint32_t exptime;     /* absolute unix seconds, 0 = never */
    uint64_t cas;
    unsigned cls;         /* slab class, from 1 (stats slabs numbering) */
    uint64_t size;        /* bytes of the item (header, key and value) */
    uint64_t nbytes;      /* bytes of the value */
};

/* Called for each live item; runs under a store lock, so it must be short
 * and must not call the store. */
typedef void (*store_dump_fn)(const struct store_dump_item *di, void *arg);

/*
 * A walk over every key, in bounded steps that each hold one lock stripe
 * at a time (memcached's crawler does not stop the cache either). Every
 * item linked for the whole walk is visited exactly once, also across
 * hash table growth; items linked or unlinked meanwhile may or may not
 * be. Plain value: no resources to free.
 */
struct store_dump {
    unsigned power;       /* the walk visits 2^power hash residues */
    uint64_t next;        /* the next residue */
    uint64_t classes;     /* bit c: class c (1..63); 0: every class */
};

/* Start a walk of the classes in mask `classes` (bit c for class c;
 * 0: all classes). */
void store_dump_begin(struct store *s, struct store_dump *d,
    uint64_t classes);
/*
 * Visit up to `budget` hash residues (about budget * 1.5 items at most
 * load), calling fn(item, arg) for each live item at `now`. True while
 * more remain. Never allocates, takes each stripe lock briefly.
 */
bool store_dump_step(struct store *s, struct store_dump *d, uint32_t now,
    unsigned budget, store_dump_fn fn, void *arg);

/* ---- stats -------------------------------------------------------------- */

/* memcached's `stats` counters this store keeps (names as memcached's). */
struct store_stats {
    uint64_t curr_items;
    uint64_t total_items;
    uint64_t bytes;              /* bytes of linked items (header+key+value) */
    uint64_t limit_maxbytes;
    uint64_t evictions;
    uint64_t reclaimed;          /* stores that reused an expired item */
    uint64_t expired_unfetched;
    uint64_t evicted_unfetched;
    uint64_t crawler_reclaimed;  /* expired items freed by the sweep */
    uint64_t get_hits;
    uint64_t get_misses;
    uint64_t get_expired;
    uint64_t get_flushed;
    uint64_t cas_hits;
    uint64_t cas_misses;
    uint64_t cas_badval;
    uint64_t incr_hits;
    uint64_t incr_misses;
    uint64_t decr_hits;
    uint64_t decr_misses;
    uint64_t delete_hits;
    uint64_t delete_misses;
    uint64_t touch_hits;
    uint64_t touch_misses;
    uint64_t total_malloced;        /* bytes of pages in use by classes */
    uint64_t slabs_moved;           /* pages moved between classes */
    uint64_t slab_reassign_evictions; /* items evicted to free a page */
    uint64_t slab_reassign_busy_items; /* held items a move had to wait on */
    uint64_t slab_reassign_rescues; /* items a move copied, not evicted */
    uint64_t slabs_stolen;          /* pages moved within a request */
    uint64_t outofmemory;           /* allocations that failed */
    uint64_t hash_power_level;
    uint64_t hash_bytes;
    bool hash_is_expanding;
    bool slab_reassign_running;
    uint64_t item_header_bytes;     /* per-item overhead of this store */
    uint64_t global_page_pool;      /* pages not given to any class */
};

/* `stats slabs` / `stats items` of one slab class (memcached's names). */
struct store_class_stats {
    unsigned id;                 /* memcached-style class number, from 1 */
    uint64_t chunk_size;
    uint64_t chunks_per_page;
    uint64_t total_pages;
    uint64_t total_chunks;
    uint64_t used_chunks;
    uint64_t free_chunks;
    uint64_t mem_requested;      /* bytes the used chunks' items need */
    uint64_t number;             /* items in use, a chain counting once
                                  * (stats items: number) */
    uint64_t evicted;
    uint64_t evicted_unfetched;
    uint64_t reclaimed;
    uint64_t crawler_reclaimed;
    uint64_t outofmemory;
    uint64_t pages_in;           /* pages this class received by moves */
    uint64_t pages_out;          /* pages moved away from this class */
    /* Commands that found (or, cmd_set, allocated) an item of this class,
     * as memcached's per-class "stats slabs" counters. */
    uint64_t get_hits;           /* get/gets/mg hits */
    uint64_t cmd_set;            /* items allocated by storage commands */
    uint64_t delete_hits;
    uint64_t incr_hits;
    uint64_t decr_hits;
    uint64_t cas_hits;
    uint64_t cas_badval;
    uint64_t touch_hits;         /* touch/gat/mg T hits */
};

/* Snapshot of the global counters. Takes each lock briefly. */
void store_stats(struct store *s, struct store_stats *st);
/* Number of slab classes (valid indexes are 0 .. n-1). */
unsigned store_nclasses(const struct store *s);
/* Snapshot of class `i`; false if `i` is out of range. */
bool store_class_stats(struct store *s, unsigned i,
    struct store_class_stats *cs);

#endif /* STORE_STORE_H */
