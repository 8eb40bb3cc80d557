/*
 * store internals shared by item.c, slab.c, hash.c and store.c: the item
 * layout, slab classes and pages, the striped hash table and the lock
 * order. Private to src/store.
 *
 * Lock order: a stripe lock may be held while taking a class lock (an
 * unlink that frees an item). A class lock may be held while taking the
 * page pool lock, and while *trying* a stripe lock (eviction, sweep, page
 * moves), never while waiting for one. Only the grower holds more than one
 * stripe, always in index order, and it takes no other lock meanwhile.
 */
#ifndef STORE_INTERNAL_H
#define STORE_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* Item flags (struct item.iflags, accessed atomically). */
#define ITEM_LINKED  0x01u  /* in the hash table (holds one reference) */
#define ITEM_ACTIVE  0x02u  /* CLOCK reference bit: hit since the hand passed */
#define ITEM_FETCHED 0x04u  /* fetched at least once */
#define ITEM_FREE    0x08u  /* chunk is on its class's free list */
#define ITEM_STALE   0x10u  /* invalidated by meta delete/set with I */
#define ITEM_TOKEN   0x20u  /* a recache win token was handed out */
#define ITEM_CHAINED 0x40u  /* value continues in chunks (see struct chunk) */
#define ITEM_CHUNK   0x80u  /* a continuation chunk, not an item */
#define ITEM_KEY_BINARY 0x100u /* stored by a meta set with b (base64 key) */

/* Pages are one size whatever -I says (memcached's slab_page_size). */
#define STORE_PAGE_SIZE ((size_t)1 << 20)

/*
 * An item lives in one chunk: this header, then the key (no NUL), then the
 * value (no "\r\n"). 35 bytes of header against memcached 1.6's 56 (48 +
 * 8 of CAS): no LRU links (CLOCK walks the chunks instead), no access time
 * (flush_all compares CAS uniques), class found from the page.
 */
struct item {
    struct item *hnext;   /* hash chain, under the stripe lock */
    uint64_t cas;
    uint32_t exptime;     /* absolute unix seconds, 0 = never; atomic */
    uint32_t flags;       /* client flags */
    uint32_t nbytes;      /* value length */
    uint32_t refcount;    /* atomic; the hash table's link counts as one */
    uint16_t iflags;      /* ITEM_*; atomic */
    uint8_t nkey;
    char data[];
};

#define ITEM_HDR offsetof(struct item, data)

/*
 * NOTE(store): an item bigger than the largest class (slab_chunk_max) is
 * chained over chunks of that class: the head chunk holds the header, the
 * key, a pointer to the first continuation chunk and the first bytes of
 * the value; each continuation chunk holds its owner, the next chunk and
 * more bytes. All chunks of a chain live in the one largest class, so its
 * lock covers the whole chain (eviction, page moves and frees never need
 * two class locks). `iflags` sits where an item's does, so chunk walks can
 * tell a continuation chunk (ITEM_CHUNK) from an item.
 */
struct chunk {
    struct item *owner;   /* head of the chain */
    struct chunk *next;   /* next continuation chunk, or NULL */
    uint32_t len;         /* value bytes in this chunk */
    uint8_t pad[offsetof(struct item, iflags) - 2 * sizeof(void *) -
        sizeof(uint32_t)];
    uint16_t iflags;      /* ITEM_CHUNK (or ITEM_FREE on the free list) */
    char data[];
};

#define CHUNK_HDR offsetof(struct chunk, data)
_Static_assert(offsetof(struct chunk, iflags) == offsetof(struct item, iflags),
    "chunk and item flags must overlap");

/* A free chunk: links of its class's doubly linked free list. */
struct free_chunk {
    struct free_chunk *next;
    struct free_chunk *prev;
};

/* One page of the arena. Guarded by the owning class's lock. */
struct page {
    uint8_t cls;          /* owning class + 1; 0 = in the pool */
    bool draining;        /* being emptied for a move */
    uint32_t live;        /* carved chunks not on the free list */
    uint32_t carved;      /* chunks handed out at least once */
    uint32_t stamp;       /* `now` of the last allocation in it; atomic */
};

struct slab_class {
    pthread_mutex_t lock;
    uint32_t size;            /* chunk size */
    uint32_t perpage;         /* chunks per page */
    struct free_chunk *free;  /* free list head */
    uint64_t nfree;
    uint32_t *pages;          /* indexes of owned pages */
    uint32_t npages;
    uint32_t carve;           /* page being carved, or NO_PAGE */
    uint32_t hand_slot;       /* CLOCK hand: index into pages[] ... */
    uint32_t hand_chunk;      /* ... and chunk in that page */
    uint32_t sweep_slot;      /* expiry sweep position, same shape */
    uint32_t sweep_chunk;
    uint32_t tail_stamp;      /* stamp of the page under the hand; atomic */
    uint64_t used;            /* chunks allocated */
    uint64_t items;           /* items (heads of chains count once) */
    uint64_t mem_requested;
    uint64_t evicted;
    uint64_t evicted_unfetched;
    uint64_t reclaimed;
    uint64_t crawler_reclaimed;
    uint64_t outofmemory;
    uint64_t pages_in;
    uint64_t pages_out;
    uint64_t pressure;        /* bytes of unmet demand (evictions and
                               * failures) in this rebalancing window */
    uint64_t starved;         /* failed allocations in this window */
};

#define NO_PAGE UINT32_MAX
#define MAX_CLASSES 200

/* Per-stripe operation counters, summed by store_stats(). */
struct op_counters {
    uint64_t curr_items;
    uint64_t total_items;
    uint64_t bytes;
    uint64_t get_hits;
    uint64_t get_misses;
    uint64_t get_expired;
    uint64_t get_flushed;
    uint64_t expired_unfetched;
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
};

struct stripe {
    pthread_mutex_t lock;
    struct op_counters c;
} __attribute__((aligned(64)));

/*
 * The hash table. `tab` has 2^power buckets; while growing, `next` has
 * twice as many and buckets below `migrated` of `tab` have moved there.
 * A key's stripe is its hash's low lock_power bits, the same in both
 * tables, so one stripe lock covers a key's old and new bucket. `tab`,
 * `next` and `power` change only with every stripe held.
 */
struct htab {
    struct item **tab;
    struct item **next;
    unsigned power;
    size_t migrated;          /* atomic */
    uint64_t count;           /* atomic: linked items */
    pthread_mutex_t grow_lock;
};

/* Per-class command counters of "stats slabs" (memcached keeps them per
 * thread). Sharded by the item's address so threads rarely share a cache
 * line; relaxed atomic adds. */
enum class_op {
    CLASS_GET_HITS = 0,
    CLASS_CMD_SET,
    CLASS_DELETE_HITS,
    CLASS_INCR_HITS,
    CLASS_DECR_HITS,
    CLASS_CAS_HITS,
    CLASS_CAS_BADVAL,
    CLASS_TOUCH_HITS,
    CLASS_OPS
};
#define CLASS_OP_SHARDS 16
struct class_ops {
    uint64_t n[CLASS_OPS];
};

/* A page move in progress. Guarded by store.move_lock. A move waits for
 * readers of the page's items to let go, so several may run at once. */
#define MAX_MOVES 4
struct page_move {
    bool active;
    unsigned src;
    int dst;                  /* class that gets the page, -1 = pool */
    uint32_t page;
};

struct store {
    struct store_config cfg;
    size_t page_size;
    char *arena;
    uint32_t npages;          /* pages in the arena */
    struct page *pages;
    pthread_mutex_t pool_lock;
    uint32_t *pool;           /* free pages given back by moves */
    uint32_t npool;
    uint32_t fresh;           /* pages never used: fresh .. npages-1 */
    unsigned nclasses;
    struct slab_class classes[MAX_CLASSES];
    struct stripe *stripes;
    unsigned nstripes;
    struct htab ht;
    uint64_t cas_counter;     /* atomic */
    uint64_t flush_cas;       /* atomic: items with cas <= it are flushed */
    uint32_t flush_pending;   /* atomic: delayed flush time, 0 = none */
    pthread_mutex_t maint_lock; /* one store_maintain() at a time */
    pthread_mutex_t move_lock;
    struct page_move moves[MAX_MOVES];
    uint32_t window_start;    /* `now` when the pressure window began */
    uint32_t sweep_class;
    uint64_t slabs_moved;     /* atomic */
    uint64_t reassign_evictions; /* atomic */
    uint64_t reassign_busy;   /* atomic */
    uint64_t reassign_rescues; /* atomic */
    struct class_ops *class_ops; /* [CLASS_OP_SHARDS][MAX_CLASSES] */
    bool chain;               /* items may be chained (-I > chunk max) */
    unsigned automove;        /* atomic: slabs automove 0|1|2 */
    int coldest;              /* atomic: class with the oldest tail, -1 */
    uint32_t coldest_stamp;   /* atomic: its tail stamp */
    uint64_t steals;          /* atomic: pages taken within a request */
};

#define LOAD(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define LOAD_RELAXED(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define STORE_RELAXED(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define FETCH_ADD(p, v) __atomic_fetch_add((p), (v), __ATOMIC_ACQ_REL)
#define FETCH_SUB(p, v) __atomic_fetch_sub((p), (v), __ATOMIC_ACQ_REL)

/* Initialize a lock held for a few hundred nanoseconds at a time: it
 * spins briefly before sleeping (glibc's adaptive mutex), which is what
 * the class and stripe locks want under contention. */
void store_lock_init(pthread_mutex_t *m);

/* ---- stats.c ---- */
/* Count `op` for the class of `it` (any lock or none). */
void class_op_count(struct store *s, const struct item *it,
    enum class_op op);

/* ---- item.c ---- */
static inline size_t
item_total(const struct item *it)
{
    return ITEM_HDR + it->nkey + it->nbytes;
}
/* Value bytes a head chunk of `size` holds for a chained item. */
static inline size_t
chain_head_cap(size_t size, size_t nkey)
{
    return size - ITEM_HDR - nkey - sizeof(struct chunk *);
}
/* The first continuation chunk of a chained item. */
struct chunk *item_chain_first(const struct item *it);
void item_chain_set_first(struct item *it, struct chunk *ch);
/* Chunks an item of `nkey` and `nbytes` takes in class size `size`. */
size_t chain_nchunks(size_t size, size_t nkey, size_t nbytes);
bool item_has(const struct item *it, uint16_t flag);
void item_set_flag(struct item *it, uint16_t flag);
void item_clear_flag(struct item *it, uint16_t flag);
uint64_t item_hash(const char *key, size_t nkey);

/* ---- slab.c ---- */
bool slab_init(struct store *s);
void slab_fini(struct store *s);
/* Class for an item of `total` bytes, or -1 if it is too large. */
int slab_class_for(const struct store *s, size_t total);
/* `nchunks` chunks of class `cls` for a new item with `nkey` and `nbytes`
 * (set in it, with refcount 1; more than one chunk: chained), evicting or
 * taking a page from another class if needed; NULL if none. Takes the
 * class lock. */
struct item *slab_alloc(struct store *s, unsigned cls, size_t nchunks,
    size_t nkey, size_t nbytes, uint32_t now);
/* Give back the chunk of an item whose refcount reached 0. */
void slab_free(struct store *s, struct item *it);
void slab_free_locked(struct store *s, struct slab_class *c,
    struct item *it);
/* The class and page an item's chunk belongs to. */
struct slab_class *slab_class_of(struct store *s, const struct item *it);
struct page *slab_page_of(struct store *s, const struct item *it);
/* Background steps for store_maintain(); true while work is pending. */
bool slab_sweep(struct store *s, uint32_t now, unsigned budget);
bool slab_rebalance(struct store *s, uint32_t now, unsigned budget);
bool slab_move_running(struct store *s);
void slab_class_snapshot(struct store *s, unsigned i,
    struct store_class_stats *cs);

/* ---- hash.c ---- */
void hash_init(struct store *s);
void hash_fini(struct store *s);
struct stripe *hash_stripe(struct store *s, uint64_t hv);
/* Find `key` in its bucket; the stripe lock must be held. */
struct item *hash_find_locked(struct store *s, uint64_t hv, const char *key,
    size_t nkey);
/* Link or unlink an item; the stripe lock must be held. hash_replace
 * puts `nw` where `old` was. Counts curr_items/bytes in the stripe. */
void hash_insert_locked(struct store *s, uint64_t hv, struct item *it);
void hash_remove_locked(struct store *s, uint64_t hv, struct item *it);
void hash_replace_locked(struct store *s, uint64_t hv, struct item *old,
    struct item *nw);
/* Put `nw` where `old` is, counting nothing: a copy of the same item. */
void hash_swap_locked(struct store *s, uint64_t hv, struct item *old,
    struct item *nw);
/* After an insert, with no lock held: start or advance growth. */
void hash_after_insert(struct store *s);
/* Migrate up to `budget` buckets; true while a growth is in progress. */
bool hash_grow_step(struct store *s, unsigned budget);
bool hash_expanding(struct store *s);
unsigned hash_power(struct store *s);

/* ---- store.c ---- */

/* A key's hash and stripe, for one operation under the stripe lock. */
struct op {
    struct store *s;
    uint64_t hv;
    struct stripe *st;
    struct str key;
};

/* memcached's expiry rule, to absolute unix seconds (0 = never). */
uint32_t exptime_abs(int64_t exptime, uint32_t now);
/* Catch up on a due delayed flush, hash `key`, lock its stripe. */
void op_begin(struct op *o, struct store *s, struct str key, uint32_t now);
void op_end(struct op *o);
/* The live item for the op's key, unlinking an expired or flushed one;
 * with `bump`, mark it recently used. */
struct item *find_live_locked(struct op *o, uint32_t now, bool bump);
/* Take `it` out of the table and drop the table's reference. */
void unlink_locked(struct op *o, struct item *it);
/* Give `it` a new CAS unique and a table reference, and put it in the
 * table in place of `old` (or as new). Returns the CAS unique. */
uint64_t link_locked(struct op *o, struct item *it, struct item *old);
/* An unlinked item with absolute expiry `exp`; the caller holds it. */
enum store_status alloc_item(struct store *s, struct str key, uint32_t flags,
    uint32_t exp, size_t nbytes, uint32_t now, struct item **itp);
/* Is `it` expired or flushed at `now`? */
bool store_item_dead(const struct store *s, const struct item *it,
    uint32_t now);
enum walk_result {
    WALK_BUSY,  /* left alone: stripe busy, or no longer linked/idle */
    WALK_IDLE,  /* unlinked, refcount 0: the caller owns the chunk */
    WALK_HELD,  /* unlinked, a reader holds it: its last unref frees it */
};
/*
 * Unlink a linked item found by a chunk walk (class lock held) if its
 * stripe lock is free right now. With `require_idle` only when nobody else
 * holds it. `expired` counts it as expired (expired_unfetched).
 */
enum walk_result store_unlink_from_walk(struct store *s, struct item *it,
    bool require_idle, bool expired);
/*
 * Copy a linked item found by a chunk walk into chunk `nw` of the same
 * class and link the copy in its place (a page move's rescue), if its
 * stripe lock is free right now. WALK_IDLE/WALK_HELD as for an unlink of
 * the original; WALK_BUSY if nothing was done.
 */
enum walk_result store_move_from_walk(struct store *s, struct item *it,
    struct item *nw);

#endif /* STORE_INTERNAL_H */
