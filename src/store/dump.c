/*
 * The key dump behind "lru_crawler metadump": a walk over the hash table
 * in steps, one lock stripe at a time, that survives table growth.
 *
 * NOTE(store): the walk fixes its own residue space at start, 2^p0 with p0
 * the table's power then (>= lock_power). Items whose hash has residue r
 * modulo 2^p0 all share one stripe (r's low lock_power bits), and the
 * table only ever doubles, so at any later power they sit in exactly the
 * buckets congruent to r (in `tab`, or in `next` for buckets already
 * migrated), and those buckets hold nothing else; under that one stripe
 * lock they cannot move. So each item is visited once, without hashing
 * its key again.
 */
#include "store/store.h"

#include "store/internal.h"

static size_t
pow2(unsigned p)
{
    return (size_t)1 << p;
}

struct dump_ctx {
    struct store *s;
    const struct store_dump *d;
    uint64_t residue;
    uint32_t now;
    store_dump_fn fn;
    void *arg;
};

/* Report the live items of one chain (of the walk's classes). */
static void
dump_chain(const struct dump_ctx *x, const struct item *it)
{
    struct store_dump_item di;
    unsigned cls;

    for (; it != NULL; it = it->hnext) {
        cls = (unsigned)(slab_class_of(x->s, it) - x->s->classes) + 1;
        if (x->d->classes != 0 &&
            (cls > 63 || (x->d->classes & ((uint64_t)1 << cls)) == 0)) {
            continue;
        }
        if (store_item_dead(x->s, it, x->now)) {
            continue;
        }
        di.key = item_key(it);
        di.key_binary = item_has(it, ITEM_KEY_BINARY);
        di.fetched = item_has(it, ITEM_FETCHED);
        di.exptime = LOAD_RELAXED(&it->exptime);
        di.cas = LOAD_RELAXED(&it->cas);
        di.cls = cls;
        di.size = item_total(it);
        di.nbytes = it->nbytes;
        x->fn(&di, x->arg);
    }
}

/* Every bucket of table `tab` (2^tp buckets, tp >= the walk's power)
 * congruent to the residue. During a growth, `is_next` says which table
 * this is: a bucket counts in `next` once migrated, in `tab` until then. */
static void
dump_table(const struct dump_ctx *x, struct item **tab, unsigned tp,
    bool is_next)
{
    const struct htab *ht = &x->s->ht;
    size_t step = pow2(x->d->power);
    size_t b;
    size_t old;
    bool moved;

    for (b = x->residue & (pow2(tp) - 1); b < pow2(tp); b += step) {
        if (ht->next != NULL) {
            old = b & (pow2(ht->power) - 1);
            moved = old < LOAD_RELAXED(&ht->migrated);
            if (moved != is_next) {
                continue;
            }
        }
        dump_chain(x, tab[b]);
    }
}

void
store_dump_begin(struct store *s, struct store_dump *d, uint64_t classes)
{
    struct stripe *st = &s->stripes[0];

    /* power changes only with every stripe held: read it under one. */
    pthread_mutex_lock(&st->lock);
    d->power = s->ht.power;
    pthread_mutex_unlock(&st->lock);
    d->next = 0;
    d->classes = classes;
}

bool
store_dump_step(struct store *s, struct store_dump *d, uint32_t now,
    unsigned budget, store_dump_fn fn, void *arg)
{
    struct dump_ctx x = { .s = s, .d = d, .now = now, .fn = fn, .arg = arg };
    struct stripe *st;

    for (; budget > 0 && d->next < pow2(d->power); budget--, d->next++) {
        x.residue = d->next;
        st = &s->stripes[d->next & (s->nstripes - 1)];
        pthread_mutex_lock(&st->lock);
        dump_table(&x, s->ht.tab, s->ht.power, false);
        if (s->ht.next != NULL) {
            dump_table(&x, s->ht.next, s->ht.power + 1, true);
        }
        pthread_mutex_unlock(&st->lock);
    }
    return d->next < pow2(d->power);
}
