/*
 * The hash table: chained buckets of item pointers, xxh3 of the key,
 * striped locks, and incremental growth. When the table passes 1.5 items
 * per bucket a table twice as large is allocated and buckets move over a
 * few at a time (each insert moves some, store_maintain() moves more), so
 * no caller ever waits for a whole rehash.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <xxhash.h>

#include "store/internal.h"

/* Buckets each insert migrates while the table grows. */
#define GROW_STEP_PER_INSERT 4
/* The table never grows past 2^HASH_POWER_MAX buckets. */
#define HASH_POWER_MAX 32

/*
 * NOTE(store): bucket arrays come straight from mmap: the kernel zeroes
 * their pages on first touch, and a table left behind by growth goes back
 * at once (freed to the allocator it stayed resident for seconds: 4 bytes
 * an item at a million items).
 */
static struct item **
table_alloc(unsigned power)
{
    void *p = mmap(NULL, sizeof(struct item *) << power,
        PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    return p == MAP_FAILED ? NULL : p;
}

static void
table_free(struct item **t, unsigned power)
{
    if (t != NULL) {
        munmap(t, sizeof(struct item *) << power);
    }
}

uint64_t
item_hash(const char *key, size_t nkey)
{
    return XXH3_64bits(key, nkey);
}

void
hash_init(struct store *s)
{
    struct htab *ht = &s->ht;
    void *mem;

    s->nstripes = 1u << s->cfg.lock_power;
    if (posix_memalign(&mem, 64, s->nstripes * sizeof(struct stripe))
        != 0) {
        mem = NULL;
    }
    s->stripes = mem;
    if (s->stripes == NULL) {
        log_error("store: out of memory for %u lock stripes", s->nstripes);
        exit(1);
    }
    memset(s->stripes, 0, s->nstripes * sizeof(struct stripe));
    for (unsigned i = 0; i < s->nstripes; i++) {
        store_lock_init(&s->stripes[i].lock);
    }
    ht->power = s->cfg.hash_power;
    ht->tab = table_alloc(ht->power);
    if (ht->tab == NULL) {
        log_error("store: out of memory for the hash table");
        exit(1);
    }
    ht->next = NULL;
    ht->migrated = 0;
    ht->count = 0;
    pthread_mutex_init(&ht->grow_lock, NULL);
}

void
hash_fini(struct store *s)
{
    for (unsigned i = 0; i < s->nstripes; i++) {
        pthread_mutex_destroy(&s->stripes[i].lock);
    }
    free(s->stripes);
    table_free(s->ht.tab, s->ht.power);
    table_free(s->ht.next, s->ht.power + 1);
    pthread_mutex_destroy(&s->ht.grow_lock);
}

struct stripe *
hash_stripe(struct store *s, uint64_t hv)
{
    return &s->stripes[hv & (s->nstripes - 1)];
}

static size_t
mask(unsigned power)
{
    return ((size_t)1 << power) - 1;
}

/* The bucket of `hv`, in the new table once its old bucket has moved. */
static struct item **
bucket_locked(struct store *s, uint64_t hv)
{
    struct htab *ht = &s->ht;
    size_t ob = hv & mask(ht->power);

    if (ht->next != NULL && ob < LOAD_RELAXED(&ht->migrated)) {
        return &ht->next[hv & mask(ht->power + 1)];
    }
    return &ht->tab[ob];
}

struct item *
hash_find_locked(struct store *s, uint64_t hv, const char *key, size_t nkey)
{
    struct item *it = *bucket_locked(s, hv);

    while (it != NULL) {
        if (it->nkey == nkey && memcmp(it->data, key, nkey) == 0) {
            return it;
        }
        it = it->hnext;
    }
    return NULL;
}

/* The link that points at `it` in its bucket chain. */
static struct item **
link_of_locked(struct store *s, uint64_t hv, const struct item *it)
{
    struct item **pp = bucket_locked(s, hv);

    while (*pp != it) {
        pp = &(*pp)->hnext;
    }
    return pp;
}

void
hash_insert_locked(struct store *s, uint64_t hv, struct item *it)
{
    struct item **b = bucket_locked(s, hv);
    struct op_counters *c = &hash_stripe(s, hv)->c;

    it->hnext = *b;
    *b = it;
    FETCH_ADD(&s->ht.count, 1);
    c->curr_items++;
    c->total_items++;
    c->bytes += item_total(it);
}

void
hash_remove_locked(struct store *s, uint64_t hv, struct item *it)
{
    struct item **pp = link_of_locked(s, hv, it);
    struct op_counters *c = &hash_stripe(s, hv)->c;

    *pp = it->hnext;
    it->hnext = NULL;
    FETCH_SUB(&s->ht.count, 1);
    c->curr_items--;
    c->bytes -= item_total(it);
}

void
hash_replace_locked(struct store *s, uint64_t hv, struct item *old,
    struct item *nw)
{
    struct item **pp = link_of_locked(s, hv, old);
    struct op_counters *c = &hash_stripe(s, hv)->c;

    nw->hnext = old->hnext;
    *pp = nw;
    old->hnext = NULL;
    c->total_items++;
    c->bytes += item_total(nw);
    c->bytes -= item_total(old);
}

void
hash_swap_locked(struct store *s, uint64_t hv, struct item *old,
    struct item *nw)
{
    struct item **pp = link_of_locked(s, hv, old);

    nw->hnext = old->hnext;
    *pp = nw;
    old->hnext = NULL;
}

static void
lock_all(struct store *s)
{
    for (unsigned i = 0; i < s->nstripes; i++) {
        pthread_mutex_lock(&s->stripes[i].lock);
    }
}

static void
unlock_all(struct store *s)
{
    for (unsigned i = s->nstripes; i-- > 0;) {
        pthread_mutex_unlock(&s->stripes[i].lock);
    }
}

/* Start a growth if the table is too full; grow_lock held. */
static void
grow_start(struct store *s)
{
    struct htab *ht = &s->ht;
    size_t size = (size_t)1 << ht->power;
    struct item **nt;

    if (ht->power >= HASH_POWER_MAX
        || LOAD_RELAXED(&ht->count) <= size + size / 2) {
        return;
    }
    /* NOTE(store): never zeroed here: zeroing a recycled block of
     * megabytes was the worst insert pause (fresh mmap pages are zero
     * anyway). Old bucket b only ever moves to new buckets b and b + size,
     * so migrate_bucket() clears those two first, and nothing reads a new
     * bucket before that. If the allocation fails the chains just get
     * longer for a while. */
    nt = table_alloc(ht->power + 1);
    if (nt == NULL) {
        return;
    }
    lock_all(s);
    STORE_RELAXED(&ht->migrated, 0);
    STORE(&ht->next, nt);
    unlock_all(s);
}

/* Move old bucket `ob` to the new table; grow_lock held. */
static void
migrate_bucket(struct store *s, size_t ob)
{
    struct htab *ht = &s->ht;
    struct stripe *st = &s->stripes[ob & (s->nstripes - 1)];
    size_t nmask = mask(ht->power + 1);
    struct item *it;

    pthread_mutex_lock(&st->lock);
    ht->next[ob] = NULL;
    ht->next[ob + ((size_t)1 << ht->power)] = NULL;
    it = ht->tab[ob];
    while (it != NULL) {
        struct item *nx = it->hnext;
        size_t nb = item_hash(it->data, it->nkey) & nmask;

        it->hnext = ht->next[nb];
        ht->next[nb] = it;
        it = nx;
    }
    ht->tab[ob] = NULL;
    STORE_RELAXED(&ht->migrated, ob + 1);
    pthread_mutex_unlock(&st->lock);
}

/* All buckets moved: the new table becomes the table. */
static void
grow_finish(struct store *s)
{
    struct htab *ht = &s->ht;
    struct item **old;
    unsigned power = ht->power;

    lock_all(s);
    old = ht->tab;
    ht->tab = ht->next;
    STORE_RELAXED(&ht->power, ht->power + 1);
    STORE(&ht->next, NULL);
    STORE_RELAXED(&ht->migrated, 0);
    unlock_all(s);
    table_free(old, power);
}

bool
hash_grow_step(struct store *s, unsigned budget)
{
    struct htab *ht = &s->ht;
    bool growing;

    if (pthread_mutex_trylock(&ht->grow_lock) != 0) {
        return true;
    }
    if (ht->next == NULL) {
        grow_start(s);
    }
    if (ht->next != NULL) {
        size_t size = (size_t)1 << ht->power;
        size_t ob = LOAD_RELAXED(&ht->migrated);

        for (unsigned i = 0; i < budget && ob < size; i++, ob++) {
            migrate_bucket(s, ob);
        }
        if (ob == size) {
            grow_finish(s);
        }
    }
    growing = ht->next != NULL;
    pthread_mutex_unlock(&ht->grow_lock);
    return growing;
}

void
hash_after_insert(struct store *s)
{
    struct htab *ht = &s->ht;

    if (LOAD(&ht->next) != NULL) {
        hash_grow_step(s, GROW_STEP_PER_INSERT);
        return;
    }
    /* ht->power only changes with every stripe held; a stale read here
     * only delays the check to the next insert. */
    if (LOAD_RELAXED(&ht->count)
        > ((size_t)3 << LOAD_RELAXED(&ht->power)) / 2) {
        hash_grow_step(s, GROW_STEP_PER_INSERT);
    }
}

bool
hash_expanding(struct store *s)
{
    return LOAD(&s->ht.next) != NULL;
}

unsigned
hash_power(struct store *s)
{
    return LOAD_RELAXED(&s->ht.power);
}
