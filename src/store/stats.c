/*
 * Stats snapshots with memcached's names: per-stripe operation counters
 * and per-class slab counters are summed under their own locks.
 */
#include "store/store.h"

#include <string.h>

#include "store/internal.h"

static void
add_counters(struct op_counters *sum, const struct op_counters *c)
{
    const uint64_t *src = (const uint64_t *)(const void *)c;
    uint64_t *dst = (uint64_t *)(void *)sum;

    for (size_t i = 0; i < sizeof(*c) / sizeof(uint64_t); i++) {
        dst[i] += src[i];
    }
}

void
store_stats(struct store *s, struct store_stats *st)
{
    struct op_counters c;

    memset(&c, 0, sizeof(c));
    memset(st, 0, sizeof(*st));
    for (unsigned i = 0; i < s->nstripes; i++) {
        pthread_mutex_lock(&s->stripes[i].lock);
        add_counters(&c, &s->stripes[i].c);
        pthread_mutex_unlock(&s->stripes[i].lock);
    }
    for (unsigned i = 0; i < s->nclasses; i++) {
        struct store_class_stats cs;

        slab_class_snapshot(s, i, &cs);
        st->evictions += cs.evicted;
        st->evicted_unfetched += cs.evicted_unfetched;
        st->reclaimed += cs.reclaimed;
        st->crawler_reclaimed += cs.crawler_reclaimed;
        st->outofmemory += cs.outofmemory;
        st->total_malloced += cs.total_pages * s->page_size;
    }
    st->curr_items = c.curr_items;
    st->total_items = c.total_items;
    st->bytes = c.bytes;
    st->limit_maxbytes = (uint64_t)s->npages * s->page_size;
    st->expired_unfetched = c.expired_unfetched;
    st->get_hits = c.get_hits;
    st->get_misses = c.get_misses;
    st->get_expired = c.get_expired;
    st->get_flushed = c.get_flushed;
    st->cas_hits = c.cas_hits;
    st->cas_misses = c.cas_misses;
    st->cas_badval = c.cas_badval;
    st->incr_hits = c.incr_hits;
    st->incr_misses = c.incr_misses;
    st->decr_hits = c.decr_hits;
    st->decr_misses = c.decr_misses;
    st->delete_hits = c.delete_hits;
    st->delete_misses = c.delete_misses;
    st->touch_hits = c.touch_hits;
    st->touch_misses = c.touch_misses;
    st->slabs_moved = LOAD_RELAXED(&s->slabs_moved);
    st->slab_reassign_evictions = LOAD_RELAXED(&s->reassign_evictions);
    st->slab_reassign_busy_items = LOAD_RELAXED(&s->reassign_busy);
    st->slab_reassign_rescues = LOAD_RELAXED(&s->reassign_rescues);
    st->slabs_stolen = LOAD_RELAXED(&s->steals);
    st->slab_reassign_running = slab_move_running(s);
    st->hash_power_level = hash_power(s);
    st->hash_bytes = (sizeof(struct item *) << st->hash_power_level);
    st->hash_is_expanding = hash_expanding(s);
    st->item_header_bytes = ITEM_HDR;
    pthread_mutex_lock(&s->pool_lock);
    st->global_page_pool = s->npool + (s->npages - s->fresh);
    pthread_mutex_unlock(&s->pool_lock);
}

void
class_op_count(struct store *s, const struct item *it, enum class_op op)
{
    size_t cls = (size_t)(slab_class_of(s, it) - s->classes);
    size_t shard = ((uintptr_t)it >> 6) & (CLASS_OP_SHARDS - 1);

    __atomic_fetch_add(&s->class_ops[shard * MAX_CLASSES + cls].n[op], 1,
        __ATOMIC_RELAXED);
}

/* The per-class command counters of class i, summed over the shards. */
static void
class_ops_snapshot(struct store *s, unsigned i, struct store_class_stats *cs)
{
    uint64_t n[CLASS_OPS] = { 0 };

    for (unsigned sh = 0; sh < CLASS_OP_SHARDS; sh++) {
        for (unsigned op = 0; op < CLASS_OPS; op++) {
            n[op] += LOAD_RELAXED(&s->class_ops[sh * MAX_CLASSES + i].n[op]);
        }
    }
    cs->get_hits = n[CLASS_GET_HITS];
    cs->cmd_set = n[CLASS_CMD_SET];
    cs->delete_hits = n[CLASS_DELETE_HITS];
    cs->incr_hits = n[CLASS_INCR_HITS];
    cs->decr_hits = n[CLASS_DECR_HITS];
    cs->cas_hits = n[CLASS_CAS_HITS];
    cs->cas_badval = n[CLASS_CAS_BADVAL];
    cs->touch_hits = n[CLASS_TOUCH_HITS];
}

unsigned
store_nclasses(const struct store *s)
{
    return s->nclasses;
}

bool
store_class_stats(struct store *s, unsigned i, struct store_class_stats *cs)
{
    if (i >= s->nclasses) {
        return false;
    }
    slab_class_snapshot(s, i, cs);
    class_ops_snapshot(s, i, cs);
    return true;
}
