/*
 * Slab allocator: the arena of pages, the class ladder, chunk allocation
 * with CLOCK eviction, the expiry sweep and page rebalancing.
 *
 * NOTE(store): the arena is reserved once (mem_limit rounded down to whole
 * pages) from jemalloc and handed out page by page, so a chunk's page is an
 * index computation and nothing can grow past the limit. Untouched pages
 * cost address space only. Pages are 1 MiB whatever -I says; items larger
 * than the largest class (slab_chunk_max) are chained over its chunks
 * (internal.h, struct chunk).
 *
 * NOTE(store): when a class cannot allocate, memory comes from another
 * class within the request (steal_page): a whole page of the class whose
 * tail is oldest is emptied (its items rescued into free chunks of their
 * class or evicted) and handed over. It happens when the class has
 * nothing of its own to evict, or (automove on) when another class's
 * tail is clearly older than its own (STEAL_AGE): then evicting our own
 * young items would throw away what was just written.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#ifndef RINGCACHE_SANITIZERS
#include <jemalloc/jemalloc.h>
#endif

#include "store/internal.h"

/* How far the CLOCK hand may clear reference bits before it evicts the
 * next idle item regardless: bounds the latency of one allocation. */
#define CLOCK_ACTIVE_MAX 4096
#define CLOCK_SCAN_MAX 16384
/* A request takes a page from the class with the oldest tail rather than
 * evicting its own items when that tail is older than twice its own age
 * plus this many seconds. */
#define STEAL_AGE 1

/* ---- arena and pool ---- */

static void *
arena_reserve(size_t bytes)
{
#ifdef RINGCACHE_SANITIZERS
    /* NOTE(store): ASan must see the memory, and jemalloc and ASan do not
     * mix; the system allocator's large blocks are lazily mapped too. */
    void *p;

    return posix_memalign(&p, 4096, bytes) == 0 ? p : NULL;
#else
    return mallocx(bytes, MALLOCX_ALIGN(4096));
#endif
}

static void
arena_release(void *p)
{
#ifdef RINGCACHE_SANITIZERS
    free(p);
#else
    if (p != NULL) {
        dallocx(p, 0);
    }
#endif
}

static uint32_t
pool_take(struct store *s, bool *moved)
{
    uint32_t p = NO_PAGE;

    pthread_mutex_lock(&s->pool_lock);
    *moved = false;
    if (s->npool > 0) {
        p = s->pool[--s->npool];
        *moved = true;
    } else if (s->fresh < s->npages) {
        p = s->fresh++;
    }
    pthread_mutex_unlock(&s->pool_lock);
    return p;
}

static void
pool_put(struct store *s, uint32_t p)
{
    pthread_mutex_lock(&s->pool_lock);
    s->pool[s->npool++] = p;
    pthread_mutex_unlock(&s->pool_lock);
}

static bool
pool_empty(struct store *s)
{
    bool empty;

    pthread_mutex_lock(&s->pool_lock);
    empty = s->npool == 0 && s->fresh == s->npages;
    pthread_mutex_unlock(&s->pool_lock);
    return empty;
}

static char *
page_base(const struct store *s, uint32_t p)
{
    return s->arena + (size_t)p * s->page_size;
}

static struct item *
chunk_at(const struct store *s, const struct slab_class *c, uint32_t p,
    uint32_t i)
{
    return (struct item *)(void *)(page_base(s, p) + (size_t)i * c->size);
}

struct page *
slab_page_of(struct store *s, const struct item *it)
{
    size_t off = (size_t)((const char *)it - s->arena);

    return &s->pages[off / s->page_size];
}

struct slab_class *
slab_class_of(struct store *s, const struct item *it)
{
    struct page *pg = slab_page_of(s, it);

    return &s->classes[LOAD_RELAXED(&pg->cls) - 1];
}

/* ---- setup ---- */

/* The largest chunk: slab_chunk_max, or -I when that is smaller. */
static size_t
top_chunk(const struct store_config *cfg)
{
    size_t top = cfg->slab_chunk_max;

    if (cfg->item_size_max < top) {
        top = (cfg->item_size_max + 7) & ~(size_t)7;
    }
    return top;
}

static bool
build_ladder(struct store *s)
{
    const struct store_config *cfg = &s->cfg;
    double size = 48.0 + (double)cfg->chunk_min;
    size_t top = top_chunk(cfg);
    unsigned n = 0;

    while (n < MAX_CLASSES - 1
        && size < (double)top / cfg->growth_factor) {
        uint32_t sz = ((uint32_t)size + 7u) & ~7u;

        s->classes[n].size = sz;
        s->classes[n].perpage = (uint32_t)(s->page_size / sz);
        n++;
        size = (double)sz * cfg->growth_factor;
    }
    if (n == MAX_CLASSES - 1) {
        return false;
    }
    s->classes[n].size = (uint32_t)top;
    s->classes[n].perpage = (uint32_t)(s->page_size / top);
    s->nclasses = n + 1;
    s->chain = cfg->item_size_max > top;
    return true;
}

size_t
store_min_memory(const struct store_config *cfg)
{
    size_t top = top_chunk(cfg);
    size_t n = chain_nchunks(top, STORE_KEY_MAX, cfg->item_size_max);
    size_t perpage = STORE_PAGE_SIZE / top;

    /* The largest item's chunks, and one page for everything else. */
    return ((n + perpage - 1) / perpage + 1) * STORE_PAGE_SIZE;
}

bool
slab_init(struct store *s)
{
    s->page_size = STORE_PAGE_SIZE;
    s->npages = (uint32_t)(s->cfg.mem_limit / s->page_size);
    if (s->cfg.mem_limit < store_min_memory(&s->cfg)) {
        return false;
    }
    s->coldest = -1;
    s->automove = s->cfg.slab_automove;
    if (!build_ladder(s)) {
        return false;
    }
    s->arena = arena_reserve((size_t)s->npages * s->page_size);
    if (s->arena == NULL) {
        return false;
    }
    s->pages = xcalloc(s->npages, sizeof(*s->pages));
    s->pool = xcalloc(s->npages, sizeof(*s->pool));
    store_lock_init(&s->pool_lock);
    for (unsigned i = 0; i < s->nclasses; i++) {
        struct slab_class *c = &s->classes[i];

        store_lock_init(&c->lock);
        c->pages = xcalloc(s->npages, sizeof(*c->pages));
        c->carve = NO_PAGE;
    }
    return true;
}

void
slab_fini(struct store *s)
{
    for (unsigned i = 0; i < s->nclasses; i++) {
        pthread_mutex_destroy(&s->classes[i].lock);
        free(s->classes[i].pages);
    }
    pthread_mutex_destroy(&s->pool_lock);
    free(s->pool);
    free(s->pages);
    arena_release(s->arena);
}

int
slab_class_for(const struct store *s, size_t total)
{
    unsigned lo = 0;
    unsigned hi = s->nclasses;

    if (total > s->classes[s->nclasses - 1].size) {
        return -1;
    }
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;

        if (s->classes[mid].size < total) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return (int)lo;
}

/* ---- free list ---- */

static void
freelist_push(struct slab_class *c, struct item *it)
{
    struct free_chunk *f = (struct free_chunk *)(void *)it;

    f->prev = NULL;
    f->next = c->free;
    if (c->free != NULL) {
        c->free->prev = f;
    }
    c->free = f;
    c->nfree++;
    STORE_RELAXED(&it->iflags, ITEM_FREE);
}

static void
freelist_remove(struct slab_class *c, struct item *it)
{
    struct free_chunk *f = (struct free_chunk *)(void *)it;

    if (f->prev != NULL) {
        f->prev->next = f->next;
    } else {
        c->free = f->next;
    }
    if (f->next != NULL) {
        f->next->prev = f->prev;
    }
    c->nfree--;
    STORE_RELAXED(&it->iflags, 0);
}

/* ---- allocation ---- */

static void
class_add_page(struct store *s, struct slab_class *c, uint32_t p)
{
    struct page *pg = &s->pages[p];

    STORE_RELAXED(&pg->cls, (uint8_t)(c - s->classes + 1));
    pg->draining = false;
    pg->live = 0;
    pg->carved = 0;
    c->pages[c->npages++] = p;
    c->carve = p;
}

/* A chunk from the free list, the page being carved, or a new page. Its
 * flags are cleared at once: page walks look at every carved chunk. */
static struct item *
take_chunk_locked(struct store *s, struct slab_class *c)
{
    struct item *it;
    struct page *pg;

    if (c->free != NULL) {
        it = (struct item *)(void *)c->free;
        freelist_remove(c, it);
        slab_page_of(s, it)->live++;
        return it;
    }
    if (c->carve == NO_PAGE) {
        bool moved;
        uint32_t p = pool_take(s, &moved);

        if (p == NO_PAGE) {
            return NULL;
        }
        class_add_page(s, c, p);
        if (moved) {
            c->pages_in++;
        }
    }
    pg = &s->pages[c->carve];
    it = chunk_at(s, c, c->carve, pg->carved++);
    STORE_RELAXED(&it->iflags, 0);
    pg->live++;
    if (pg->carved == c->perpage) {
        c->carve = NO_PAGE;
    }
    return it;
}

/*
 * Next carved chunk at a walk position (*slot, *chunk) over the class's
 * pages, advancing it; NULL if the class has no carved chunk. Draining
 * pages are skipped when `skip_draining`.
 */
static struct item *
walk_next(struct store *s, struct slab_class *c, uint32_t *slot,
    uint32_t *chunk, bool skip_draining)
{
    for (uint32_t tries = 0; tries <= c->npages; tries++) {
        struct page *pg;

        if (*slot >= c->npages) {
            *slot = 0;
            *chunk = 0;
            if (c->npages == 0) {
                return NULL;
            }
        }
        pg = &s->pages[c->pages[*slot]];
        if (*chunk < pg->carved && !(skip_draining && pg->draining)) {
            return chunk_at(s, c, c->pages[*slot], (*chunk)++);
        }
        (*slot)++;
        *chunk = 0;
    }
    return NULL;
}

/* Stamp of the page under the CLOCK hand: roughly when the items about to
 * be evicted were written (`now` if the class has no page). */
static uint32_t
hand_stamp_locked(const struct store *s, const struct slab_class *c,
    uint32_t now)
{
    uint32_t slot = c->hand_slot < c->npages ? c->hand_slot : 0;

    if (c->npages == 0) {
        return now;
    }
    return LOAD_RELAXED(&s->pages[c->pages[slot]].stamp);
}

/* Bytes a used chunk counts in mem_requested. */
static size_t
chunk_requested(const struct slab_class *c, const struct item *it)
{
    if (LOAD_RELAXED(&it->iflags) & (ITEM_CHAINED | ITEM_CHUNK)) {
        return c->size;
    }
    return item_total(it);
}

/* Give one chunk back: to the free list, or, on a draining page, to
 * nobody (the page is being emptied). */
static void
free_one_locked(struct store *s, struct slab_class *c, struct item *it)
{
    struct page *pg = slab_page_of(s, it);

    c->used--;
    c->mem_requested -= chunk_requested(c, it);
    if (!(LOAD_RELAXED(&it->iflags) & ITEM_CHUNK)) {
        c->items--;
    }
    pg->live--;
    if (pg->draining) {
        STORE_RELAXED(&it->iflags, 0);
        return;
    }
    freelist_push(c, it);
}

/*
 * CLOCK: walk the hand over the class's chunks; an idle item whose
 * reference bit is clear (or that is expired or flushed) is unlinked and
 * its chunks freed. Items held by readers are skipped; with `dead_only`
 * (-M) only expired and flushed items go. True if one went.
 */
static bool
evict_locked(struct store *s, struct slab_class *c, uint32_t now,
    bool dead_only)
{
    for (unsigned n = 0; n < CLOCK_SCAN_MAX; n++) {
        struct item *it = walk_next(s, c, &c->hand_slot, &c->hand_chunk,
            true);
        uint8_t fl;
        bool dead;

        if (it == NULL) {
            return false;
        }
        fl = LOAD(&it->iflags);
        if (!(fl & ITEM_LINKED) || LOAD_RELAXED(&it->refcount) != 1) {
            continue;
        }
        dead = store_item_dead(s, it, now);
        if (!dead && dead_only) {
            continue;
        }
        if (!dead && (fl & ITEM_ACTIVE) && n < CLOCK_ACTIVE_MAX) {
            item_clear_flag(it, ITEM_ACTIVE);
            continue;
        }
        if (store_unlink_from_walk(s, it, true, dead) != WALK_IDLE) {
            continue;
        }
        if (dead) {
            c->reclaimed++;
        } else {
            c->evicted++;
            if (!(fl & ITEM_FETCHED)) {
                c->evicted_unfetched++;
            }
        }
        slab_free_locked(s, c, it);
        return true;
    }
    return false;
}

/* Should class `ci`, out of chunks, take a page from the coldest class
 * instead of evicting its own (younger) items? */
static bool
want_steal_locked(struct store *s, unsigned ci, uint32_t now)
{
    int v = LOAD_RELAXED(&s->coldest);
    uint32_t own;
    uint32_t cold;

    if (LOAD_RELAXED(&s->automove) == 0 || s->cfg.no_evict || v < 0
        || (unsigned)v == ci) {
        return false;
    }
    own = now - hand_stamp_locked(s, &s->classes[ci], now);
    cold = now - LOAD_RELAXED(&s->coldest_stamp);
    /* Only a clear difference: classes whose tails are about as old
     * would otherwise trade pages back and forth. */
    return now >= LOAD_RELAXED(&s->coldest_stamp)
        && cold >= 2 * own + STEAL_AGE;
}

static bool steal_page(struct store *s, unsigned dst, uint32_t now,
    bool forced);
static void update_coldest(struct store *s, uint32_t now);

/* Return chunks gathered by an allocation that could not finish. */
static void
give_back_locked(struct store *s, struct slab_class *c,
    struct free_chunk *got)
{
    while (got != NULL) {
        struct item *it = (struct item *)(void *)got;
        struct page *pg = slab_page_of(s, it);

        got = got->next;
        pg->live--;
        if (pg->draining) {
            STORE_RELAXED(&it->iflags, 0);
        } else {
            freelist_push(c, it);
        }
    }
}

/* Make an item of the `n` gathered chunks: the first is the head, the
 * others (if any) its chain. */
static struct item *
assemble_locked(struct slab_class *c, struct free_chunk *got, size_t n,
    size_t nkey, size_t nbytes)
{
    struct item *it = (struct item *)(void *)got;
    struct chunk **link;
    size_t left;

    got = got->next;
    it->nkey = (uint8_t)nkey;
    it->nbytes = (uint32_t)nbytes;
    STORE_RELAXED(&it->refcount, 1);
    STORE_RELAXED(&it->iflags, n > 1 ? ITEM_CHAINED : 0);
    c->used += n;
    c->items++;
    c->mem_requested += n > 1 ? n * c->size : ITEM_HDR + nkey + nbytes;
    if (n == 1) {
        return it;
    }
    left = nbytes - chain_head_cap(c->size, nkey);
    item_chain_set_first(it, NULL);
    link = NULL;
    while (got != NULL) {
        struct chunk *ch = (struct chunk *)(void *)got;
        size_t cap = c->size - CHUNK_HDR;

        got = got->next;
        ch->owner = it;
        ch->next = NULL;
        ch->len = (uint32_t)(left < cap ? left : cap);
        left -= ch->len;
        STORE_RELAXED(&ch->iflags, ITEM_CHUNK);
        if (link == NULL) {
            item_chain_set_first(it, ch);
        } else {
            *link = ch;
        }
        link = &ch->next;
    }
    return it;
}

/*
 * One more chunk for an allocation of class `ci`: free, carved, by a page
 * from a colder class, by eviction, or by a page from any class. May drop
 * and retake the class lock (steals); *steals counts them against `max`.
 */
static struct item *
next_chunk_locked(struct store *s, unsigned ci, uint32_t now,
    unsigned *steals, unsigned max)
{
    struct slab_class *c = &s->classes[ci];
    struct item *it;
    bool got;

    for (;;) {
        it = take_chunk_locked(s, c);
        if (it != NULL) {
            return it;
        }
        if (*steals < max && want_steal_locked(s, ci, now)) {
            bool ok;

            (*steals)++;
            pthread_mutex_unlock(&c->lock);
            ok = steal_page(s, ci, now, false);
            pthread_mutex_lock(&c->lock);
            if (ok) {
                continue;
            }
        }
        c->pressure += c->size;
        if (evict_locked(s, c, now, s->cfg.no_evict)) {
            continue;
        }
        got = false;
        while (!got && *steals < max && !s->cfg.no_evict) {
            /* A page that cannot be emptied at once (readers hold some
             * of its items) keeps draining in the background: try
             * another. */
            (*steals)++;
            pthread_mutex_unlock(&c->lock);
            got = steal_page(s, ci, now, true);
            pthread_mutex_lock(&c->lock);
        }
        if (!got) {
            return NULL;
        }
    }
}

struct item *
slab_alloc(struct store *s, unsigned ci, size_t nchunks, size_t nkey,
    size_t nbytes, uint32_t now)
{
    struct slab_class *c = &s->classes[ci];
    struct free_chunk *got = NULL;
    struct free_chunk **tail = &got;
    unsigned steals = 0;
    unsigned max = (unsigned)(nchunks / c->perpage) + 4;
    struct item *it = NULL;
    size_t n;

    pthread_mutex_lock(&c->lock);
    for (n = 0; n < nchunks; n++) {
        struct free_chunk *f;

        it = next_chunk_locked(s, ci, now, &steals, max);
        if (it == NULL) {
            break;
        }
        STORE_RELAXED(&slab_page_of(s, it)->stamp, now);
        f = (struct free_chunk *)(void *)it;
        f->next = NULL;
        *tail = f;
        tail = &f->next;
    }
    if (n == nchunks) {
        it = assemble_locked(c, got, nchunks, nkey, nbytes);
    } else {
        give_back_locked(s, c, got);
        c->outofmemory++;
        c->starved++;
        it = NULL;
    }
    pthread_mutex_unlock(&c->lock);
    return it;
}

void
slab_free_locked(struct store *s, struct slab_class *c, struct item *it)
{
    if (LOAD_RELAXED(&it->iflags) & ITEM_CHAINED) {
        struct chunk *ch = item_chain_first(it);

        while (ch != NULL) {
            struct chunk *next = ch->next;

            free_one_locked(s, c, (struct item *)(void *)ch);
            ch = next;
        }
    }
    free_one_locked(s, c, it);
}

void
slab_free(struct store *s, struct item *it)
{
    struct slab_class *c = slab_class_of(s, it);

    pthread_mutex_lock(&c->lock);
    slab_free_locked(s, c, it);
    pthread_mutex_unlock(&c->lock);
}

/* ---- expiry sweep ---- */

/* Walk up to `budget` chunks of one class (at most all of them once),
 * freeing dead items; *walked gets the number looked at. */
static unsigned
sweep_class(struct store *s, struct slab_class *c, uint32_t now,
    unsigned budget, unsigned *walked_out)
{
    unsigned found = 0;
    unsigned walked = 0;
    uint64_t total;

    pthread_mutex_lock(&c->lock);
    total = (uint64_t)c->npages * c->perpage;
    while (walked < budget && walked < total) {
        struct item *it = walk_next(s, c, &c->sweep_slot, &c->sweep_chunk,
            false);

        walked++;
        if (it == NULL) {
            break;
        }
        if (!(LOAD(&it->iflags) & ITEM_LINKED)
            || !store_item_dead(s, it, now)) {
            continue;
        }
        switch (store_unlink_from_walk(s, it, false, true)) {
            case WALK_IDLE:
                slab_free_locked(s, c, it);
                /* fall through */
            case WALK_HELD:
                c->crawler_reclaimed++;
                found++;
                break;
            case WALK_BUSY:
                break;
        }
    }
    pthread_mutex_unlock(&c->lock);
    *walked_out = walked;
    return found;
}

bool
slab_sweep(struct store *s, uint32_t now, unsigned budget)
{
    unsigned found = 0;

    for (unsigned n = 0; n < s->nclasses && budget > 0; n++) {
        struct slab_class *c = &s->classes[s->sweep_class];
        unsigned walked;

        found += sweep_class(s, c, now, budget, &walked);
        budget -= walked;
        s->sweep_class = (s->sweep_class + 1) % s->nclasses;
    }
    return found > 0;
}

/* ---- page rebalancing ---- */

/* Free chunks a class could give up without evicting anything. */
static uint64_t
class_spare_locked(const struct store *s, const struct slab_class *c)
{
    uint64_t spare = c->nfree;

    if (c->carve != NO_PAGE) {
        spare += c->perpage - s->pages[c->carve].carved;
    }
    return spare;
}

/* A class other than `dst` with a page's worth of free chunks (the most
 * pages' worth), so a move costs no eviction; -1 if none. */
static int
pick_spare_source(struct store *s, unsigned dst, const uint64_t *spare,
    const uint32_t *npages)
{
    int best = -1;

    for (unsigned i = 0; i < s->nclasses; i++) {
        if (i != dst && npages[i] > 0 && spare[i] >= s->classes[i].perpage
            && (best < 0 || spare[i] / s->classes[i].perpage
                > spare[best] / s->classes[best].perpage)) {
            best = (int)i;
        }
    }
    return best;
}

/* The class under the least pressure, at most a quarter of dst's, that
 * keeps at least one page after giving one; -1 if none. */
static int
pick_idle_source(struct store *s, unsigned dst, const uint64_t *pressure,
    const uint32_t *npages)
{
    int best = -1;

    for (unsigned i = 0; i < s->nclasses; i++) {
        if (i == dst || npages[i] < 2 || pressure[i] * 4 >= pressure[dst]) {
            continue;
        }
        if (best < 0 || pressure[i] < pressure[best]
            || (pressure[i] == pressure[best]
                && npages[i] > npages[best])) {
            best = (int)i;
        }
    }
    return best;
}

/* Pages of class `c` not being emptied already. */
static uint32_t
class_givable_locked(const struct store *s, const struct slab_class *c)
{
    uint32_t n = 0;

    for (uint32_t i = 0; i < c->npages; i++) {
        n += !s->pages[c->pages[i]].draining;
    }
    return n;
}

/* Start emptying src's page with the fewest live chunks into move `m`,
 * for class `dst` (-1: the pool), if src keeps `keep` pages besides.
 * False if it has no page to give. */
static bool
start_move(struct store *s, unsigned src, int dst, uint32_t keep,
    struct page_move *m)
{
    struct slab_class *c = &s->classes[src];
    uint32_t best = NO_PAGE;
    uint32_t givable;

    pthread_mutex_lock(&c->lock);
    givable = class_givable_locked(s, c);
    for (uint32_t i = 0; i < c->npages && givable > keep; i++) {
        uint32_t p = c->pages[i];

        if (!s->pages[p].draining
            && (best == NO_PAGE || s->pages[p].live < s->pages[best].live)) {
            best = p;
        }
    }
    if (best != NO_PAGE) {
        struct page *pg = &s->pages[best];

        pg->draining = true;
        if (c->carve == best) {
            c->carve = NO_PAGE;
        }
        /* Its free chunks leave the free list now; chunks freed later
         * stay off it (slab_free_locked). */
        for (uint32_t i = 0; i < pg->carved; i++) {
            struct item *it = chunk_at(s, c, best, i);

            if (LOAD_RELAXED(&it->iflags) & ITEM_FREE) {
                freelist_remove(c, it);
            }
        }
        m->active = true;
        m->src = src;
        m->dst = dst;
        m->page = best;
    }
    pthread_mutex_unlock(&c->lock);
    return best != NO_PAGE;
}

/* Start a new pressure window. */
static void
reset_pressure(struct store *s, uint32_t now)
{
    for (unsigned i = 0; i < s->nclasses; i++) {
        struct slab_class *c = &s->classes[i];

        pthread_mutex_lock(&c->lock);
        c->pressure = 0;
        c->starved = 0;
        pthread_mutex_unlock(&c->lock);
    }
    s->window_start = now;
}

/*
 * Decide whether a page should move to the class under the most pressure
 * in this window, and start moving it into the free slot `m`. A page's
 * worth of free chunks may move at once (rescues lose nothing). Evicting
 * a page of a quiet class happens at most once per second of `now`,
 * unless the needy class could not allocate at all: decisions on a
 * window shorter than that would chase noise.
 */
static void
decide(struct store *s, uint32_t now, struct page_move *m)
{
    uint64_t pressure[MAX_CLASSES];
    uint64_t spare[MAX_CLASSES];
    uint32_t npages[MAX_CLASSES];
    uint64_t starved = 0;
    int dst = -1;
    int src;

    for (unsigned i = 0; i < s->nclasses; i++) {
        struct slab_class *c = &s->classes[i];

        pthread_mutex_lock(&c->lock);
        pressure[i] = c->pressure;
        spare[i] = class_spare_locked(s, c);
        npages[i] = c->npages;
        if (pressure[i] > 0 && (dst < 0 || pressure[i] > pressure[dst])) {
            dst = (int)i;
            starved = c->starved;
        }
        pthread_mutex_unlock(&c->lock);
    }
    if (dst < 0 || !pool_empty(s)) {
        reset_pressure(s, now);
        return;
    }
    src = pick_spare_source(s, (unsigned)dst, spare, npages);
    if (src < 0 && (starved > 0 || now != s->window_start
        || LOAD_RELAXED(&s->automove) == 2)) {
        src = pick_idle_source(s, (unsigned)dst, pressure, npages);
    }
    if (src >= 0) {
        (void)start_move(s, (unsigned)src, dst, 0, m);
    }
    if (src >= 0 || now != s->window_start) {
        reset_pressure(s, now);
    }
}

/*
 * Copy a linked item of a draining page into a free chunk of its class
 * elsewhere, if there is one (memcached's "rescue"). True if the item
 * moved (the old chunk then is freed now or by its last reader).
 */
static bool
rescue_locked(struct store *s, struct slab_class *c, struct item *it)
{
    struct item *nw;

    if ((c->free == NULL && c->carve == NO_PAGE)
        || (LOAD_RELAXED(&it->iflags) & ITEM_CHAINED)) {
        return false;  /* no room without taking a page; or a chain */
    }
    nw = take_chunk_locked(s, c);
    switch (store_move_from_walk(s, it, nw)) {
        case WALK_BUSY:
            slab_page_of(s, nw)->live--;
            freelist_push(c, nw);
            return false;
        case WALK_IDLE:
            c->used++;
            c->items++;
            c->mem_requested += item_total(nw);
            slab_free_locked(s, c, it);
            break;
        case WALK_HELD:
            c->used++;
            c->items++;
            c->mem_requested += item_total(nw);
            break;
    }
    FETCH_ADD(&s->reassign_rescues, 1);
    return true;
}

/* An emptied page goes to class `dst` if it can start carving it now,
 * else to the pool. */
static void
give_page(struct store *s, int dst, uint32_t p)
{
    bool given = false;

    if (dst >= 0) {
        struct slab_class *c = &s->classes[dst];

        pthread_mutex_lock(&c->lock);
        if (c->carve == NO_PAGE) {
            class_add_page(s, c, p);
            c->pages_in++;
            given = true;
        }
        pthread_mutex_unlock(&c->lock);
    }
    if (!given) {
        pool_put(s, p);
    }
}

/*
 * Rescue or evict the rest of the draining page; give it to the pool once
 * empty. True while there is work to do now; false when done or when only
 * waiting for readers to let go of unlinked items.
 */
static bool
drain_step(struct store *s, struct page_move *m, unsigned budget)
{
    struct slab_class *c = &s->classes[m->src];
    struct page *pg = &s->pages[m->page];
    bool done;
    bool busy = false;

    pthread_mutex_lock(&c->lock);
    for (uint32_t i = 0; i < pg->carved && budget > 0 && pg->live > 0;
        i++) {
        struct item *it = chunk_at(s, c, m->page, i);

        if (LOAD(&it->iflags) & ITEM_CHUNK) {
            /* Part of a chain: its head (same class, so held by our
             * lock) goes, and with it the chunk. */
            it = ((struct chunk *)(void *)it)->owner;
        }
        if (!(LOAD(&it->iflags) & ITEM_LINKED)) {
            continue;
        }
        budget--;
        busy = true;
        if (rescue_locked(s, c, it)) {
            continue;
        }
        switch (store_unlink_from_walk(s, it, false, false)) {
            case WALK_IDLE:
                slab_free_locked(s, c, it);
                FETCH_ADD(&s->reassign_evictions, 1);
                break;
            case WALK_HELD:
                FETCH_ADD(&s->reassign_busy, 1);
                break;
            case WALK_BUSY:
                break;
        }
    }
    done = pg->live == 0;
    if (done) {
        for (uint32_t i = 0; i < c->npages; i++) {
            if (c->pages[i] == m->page) {
                c->pages[i] = c->pages[--c->npages];
                break;
            }
        }
        STORE_RELAXED(&pg->cls, 0);
        pg->draining = false;
        pg->carved = 0;
        c->pages_out++;
    }
    pthread_mutex_unlock(&c->lock);
    if (done) {
        give_page(s, m->dst, m->page);
        FETCH_ADD(&s->slabs_moved, 1);
        m->active = false;
    }
    return !done && busy;
}

bool
slab_rebalance(struct store *s, uint32_t now, unsigned budget)
{
    struct page_move *idle = NULL;
    bool pending = false;

    pthread_mutex_lock(&s->move_lock);
    for (unsigned i = 0; i < MAX_MOVES; i++) {
        struct page_move *m = &s->moves[i];

        if (m->active) {
            pending |= drain_step(s, m, budget);
        }
        if (!m->active && idle == NULL) {
            idle = m;
        }
    }
    if (idle != NULL && LOAD_RELAXED(&s->automove) > 0) {
        decide(s, now, idle);
        pending |= idle->active && drain_step(s, idle, budget);
    }
    pthread_mutex_unlock(&s->move_lock);
    update_coldest(s, now);
    return pending;
}

/* A free move slot, or NULL; move_lock held. */
static struct page_move *
free_move_locked(struct store *s)
{
    for (unsigned i = 0; i < MAX_MOVES; i++) {
        if (!s->moves[i].active) {
            return &s->moves[i];
        }
    }
    return NULL;
}

/* The class other than `dst` whose tail is oldest among those with a page
 * to give (`keep` pages besides, not counting pages being emptied); -1 if
 * none. */
static int
oldest_tail(struct store *s, int dst, uint32_t keep, uint32_t now,
    uint32_t *stamp)
{
    int best = -1;
    uint32_t most = 0;

    for (unsigned i = 0; i < s->nclasses; i++) {
        struct slab_class *c = &s->classes[i];
        uint32_t st;
        uint32_t n;

        if ((int)i == dst) {
            continue;
        }
        pthread_mutex_lock(&c->lock);
        n = class_givable_locked(s, c);
        st = hand_stamp_locked(s, c, now);
        pthread_mutex_unlock(&c->lock);
        /* Ties (same second) go to the class with the most pages: one
         * page is the smallest part of it. */
        if (n > keep && (best < 0 || st < *stamp
            || (st == *stamp && n > most))) {
            best = (int)i;
            *stamp = st;
            most = n;
        }
    }
    return best;
}

static void
update_coldest(struct store *s, uint32_t now)
{
    uint32_t stamp = 0;
    int best = oldest_tail(s, -1, 1, now, &stamp);

    STORE_RELAXED(&s->coldest_stamp, stamp);
    STORE_RELAXED(&s->coldest, best);
}

/*
 * Within a request of class `dst`: empty one page of the class with the
 * oldest tail (the cached coldest class, keeping two pages, or with
 * `forced` any class with a page) and hand it to dst. Bounded work: one
 * page's items. False if no page could be emptied at once (a started
 * move then finishes in the background).
 */
static bool
steal_page(struct store *s, unsigned dst, uint32_t now, bool forced)
{
    struct page_move *m;
    uint32_t stamp = 0;
    int src;
    bool done = false;

    pthread_mutex_lock(&s->move_lock);
    m = free_move_locked(s);
    src = forced ? oldest_tail(s, (int)dst, 0, now, &stamp)
        : LOAD_RELAXED(&s->coldest);
    if (m != NULL && src >= 0 && (unsigned)src != dst
        && start_move(s, (unsigned)src, (int)dst, forced ? 0 : 1, m)) {
        (void)drain_step(s, m, UINT32_MAX);
        done = !m->active;
    }
    pthread_mutex_unlock(&s->move_lock);
    if (done) {
        FETCH_ADD(&s->steals, 1);
    }
    return done;
}

enum store_reassign
store_reassign(struct store *s, int src, int dst)
{
    struct page_move *m;
    uint32_t stamp = 0;
    enum store_reassign r = STORE_REASSIGN_OK;

    if (src == dst) {
        return STORE_REASSIGN_SAME;
    }
    if (dst < 1 || dst > (int)s->nclasses || src == 0 || src < -1
        || src > (int)s->nclasses) {
        return STORE_REASSIGN_BADCLASS;
    }
    pthread_mutex_lock(&s->move_lock);
    m = free_move_locked(s);
    if (src == -1) {
        src = oldest_tail(s, dst - 1, 1, 0, &stamp) + 1;
    }
    if (m == NULL) {
        r = STORE_REASSIGN_BUSY;
    } else if (src == 0
        || !start_move(s, (unsigned)src - 1, dst - 1, 1, m)) {
        r = STORE_REASSIGN_NOSPARE;
    }
    pthread_mutex_unlock(&s->move_lock);
    return r;
}

void
store_set_automove(struct store *s, unsigned mode)
{
    STORE_RELAXED(&s->automove, mode > 2 ? 2 : mode);
}

unsigned
store_automove(const struct store *s)
{
    return LOAD_RELAXED(&s->automove);
}

bool
slab_move_running(struct store *s)
{
    bool r = false;

    pthread_mutex_lock(&s->move_lock);
    for (unsigned i = 0; i < MAX_MOVES; i++) {
        r |= s->moves[i].active;
    }
    pthread_mutex_unlock(&s->move_lock);
    return r;
}

void
slab_class_snapshot(struct store *s, unsigned i,
    struct store_class_stats *cs)
{
    struct slab_class *c = &s->classes[i];

    pthread_mutex_lock(&c->lock);
    cs->id = i + 1;
    cs->chunk_size = c->size;
    cs->chunks_per_page = c->perpage;
    cs->total_pages = c->npages;
    cs->total_chunks = (uint64_t)c->npages * c->perpage;
    cs->used_chunks = c->used;
    cs->number = c->items;
    cs->free_chunks = class_spare_locked(s, c);
    cs->mem_requested = c->mem_requested;
    cs->evicted = c->evicted;
    cs->evicted_unfetched = c->evicted_unfetched;
    cs->reclaimed = c->reclaimed;
    cs->crawler_reclaimed = c->crawler_reclaimed;
    cs->outofmemory = c->outofmemory;
    cs->pages_in = c->pages_in;
    cs->pages_out = c->pages_out;
    pthread_mutex_unlock(&c->lock);
}
