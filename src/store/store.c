/*
 * The store_* facade: memcached's item operations (get, gat, touch,
 * set/add/replace/append/prepend/cas, delete, incr/decr, flush_all) over
 * the slab allocator and the striped hash table, plus item accessors,
 * maintenance and stats.
 */
#include "config.h"

#include "store/store.h"

#include <stdlib.h>
#include <string.h>

#include "store/internal.h"

/* ---- configuration ---- */

void
store_config_init(struct store_config *c)
{
    c->mem_limit = (size_t)64 << 20;
    c->item_size_max = (size_t)1 << 20;
    c->slab_chunk_max = STORE_PAGE_SIZE / 2;
    c->no_evict = false;
    c->slab_automove = 1;
    c->growth_factor = 1.25;
    c->chunk_min = 48;
    c->hash_power = 16;
    c->lock_power = 10;
}

static bool
config_valid(const struct store_config *c)
{
    return c->item_size_max >= 1024 && c->item_size_max <= ((size_t)1 << 30)
        && c->slab_chunk_max >= 1024 && c->slab_chunk_max <= STORE_PAGE_SIZE
        && c->slab_chunk_max % 8 == 0 && c->growth_factor > 1.0
        && c->chunk_min <= c->slab_chunk_max / 4 && c->lock_power <= 16
        && c->hash_power >= c->lock_power && c->hash_power <= 30;
}

void
store_lock_init(pthread_mutex_t *m)
{
    pthread_mutexattr_t a;

    pthread_mutexattr_init(&a);
#ifdef PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ADAPTIVE_NP);
#endif
    pthread_mutex_init(m, &a);
    pthread_mutexattr_destroy(&a);
}

struct store *
store_create(const struct store_config *c)
{
    struct store *s;

    if (!config_valid(c)) {
        return NULL;
    }
    s = xcalloc(1, sizeof(*s));
    s->cfg = *c;
    if (!slab_init(s)) {
        free(s);
        return NULL;
    }
    hash_init(s);
    s->class_ops = xcalloc((size_t)CLASS_OP_SHARDS * MAX_CLASSES,
        sizeof(*s->class_ops));
    pthread_mutex_init(&s->move_lock, NULL);
    pthread_mutex_init(&s->maint_lock, NULL);
    return s;
}

void
store_destroy(struct store *s)
{
    if (s == NULL) {
        return;
    }
    hash_fini(s);
    slab_fini(s);
    pthread_mutex_destroy(&s->move_lock);
    pthread_mutex_destroy(&s->maint_lock);
    free(s->class_ops);
    free(s);
}

const char *
store_status_str(enum store_status st)
{
    switch (st) {
        case STORE_OK: return "ok";
        case STORE_NOT_FOUND: return "not found";
        case STORE_NOT_STORED: return "not stored";
        case STORE_EXISTS: return "exists";
        case STORE_NON_NUMERIC: return "non-numeric value";
        case STORE_TOO_LARGE: return "object too large for cache";
        case STORE_ENOMEM: return "out of memory";
        case STORE_EINVAL: return "invalid key";
    }
    return "unknown";
}

/* ---- time ---- */

uint32_t
exptime_abs(int64_t exptime, uint32_t now)
{
    int64_t t;

    if (exptime == 0) {
        return 0;
    }
    if (exptime < 0) {
        return 1;  /* long past, so expired at any real `now` */
    }
    t = exptime > STORE_REALTIME_MAXDELTA ? exptime : (int64_t)now + exptime;
    return t > (int64_t)UINT32_MAX ? UINT32_MAX : (uint32_t)t;
}

/*
 * A delayed flush_all takes effect at the first call that sees its time
 * come: everything with a CAS unique up to the counter then is flushed.
 */
static void
flush_catch_up(struct store *s, uint32_t now)
{
    uint32_t t = LOAD_RELAXED(&s->flush_pending);

    if (t != 0 && t <= now
        && __atomic_compare_exchange_n(&s->flush_pending, &t, 0, false,
            __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
        STORE(&s->flush_cas, LOAD(&s->cas_counter));
    }
}

bool
store_item_dead(const struct store *s, const struct item *it, uint32_t now)
{
    uint32_t e = LOAD_RELAXED(&it->exptime);

    if (e != 0 && e <= now) {
        return true;
    }
    return LOAD_RELAXED(&it->cas) <= LOAD_RELAXED(&s->flush_cas);
}

/* ---- lookup and link ---- */

void
op_begin(struct op *o, struct store *s, struct str key, uint32_t now)
{
    flush_catch_up(s, now);
    o->s = s;
    o->key = key;
    o->hv = item_hash(key.ptr, key.len);
    o->st = hash_stripe(s, o->hv);
    pthread_mutex_lock(&o->st->lock);
}

void
op_end(struct op *o)
{
    pthread_mutex_unlock(&o->st->lock);
}

void
unlink_locked(struct op *o, struct item *it)
{
    hash_remove_locked(o->s, o->hv, it);
    item_clear_flag(it, ITEM_LINKED);
    item_unref(o->s, it);
}

struct item *
find_live_locked(struct op *o, uint32_t now, bool bump)
{
    struct item *it = hash_find_locked(o->s, o->hv, o->key.ptr, o->key.len);
    uint32_t e;

    if (it == NULL) {
        return NULL;
    }
    e = LOAD_RELAXED(&it->exptime);
    if (e != 0 && e <= now) {
        o->st->c.get_expired++;
        if (!item_has(it, ITEM_FETCHED)) {
            o->st->c.expired_unfetched++;
        }
        unlink_locked(o, it);
        return NULL;
    }
    if (store_item_dead(o->s, it, now)) {
        o->st->c.get_flushed++;
        unlink_locked(o, it);
        return NULL;
    }
    if (bump) {
        item_set_flag(it, ITEM_ACTIVE);
    }
    return it;
}

uint64_t
link_locked(struct op *o, struct item *it, struct item *old)
{
    uint64_t cas = FETCH_ADD(&o->s->cas_counter, 1) + 1;

    STORE_RELAXED(&it->cas, cas);
    FETCH_ADD(&it->refcount, 1);
    item_set_flag(it, ITEM_LINKED);
    if (old != NULL) {
        hash_replace_locked(o->s, o->hv, old, it);
        item_clear_flag(old, ITEM_LINKED);
        item_unref(o->s, old);
    } else {
        hash_insert_locked(o->s, o->hv, it);
    }
    return cas;
}

enum walk_result
store_unlink_from_walk(struct store *s, struct item *it, bool require_idle,
    bool expired)
{
    uint64_t hv = item_hash(it->data, it->nkey);
    struct stripe *st = hash_stripe(s, hv);
    enum walk_result r;

    if (pthread_mutex_trylock(&st->lock) != 0) {
        return WALK_BUSY;
    }
    if (!item_has(it, ITEM_LINKED)
        || (require_idle && LOAD_RELAXED(&it->refcount) != 1)) {
        pthread_mutex_unlock(&st->lock);
        return WALK_BUSY;
    }
    if (expired && !item_has(it, ITEM_FETCHED)) {
        st->c.expired_unfetched++;
    }
    hash_remove_locked(s, hv, it);
    item_clear_flag(it, ITEM_LINKED);
    r = FETCH_SUB(&it->refcount, 1) == 1 ? WALK_IDLE : WALK_HELD;
    pthread_mutex_unlock(&st->lock);
    return r;
}

enum walk_result
store_move_from_walk(struct store *s, struct item *it, struct item *nw)
{
    uint64_t hv = item_hash(it->data, it->nkey);
    struct stripe *st = hash_stripe(s, hv);
    enum walk_result r;

    if (pthread_mutex_trylock(&st->lock) != 0) {
        return WALK_BUSY;
    }
    if (!item_has(it, ITEM_LINKED)) {
        pthread_mutex_unlock(&st->lock);
        return WALK_BUSY;
    }
    /* Field by field: readers may hold `it` and drop their references
     * meanwhile, so its refcount is not ours to copy. */
    STORE_RELAXED(&nw->cas, item_cas(it));
    STORE_RELAXED(&nw->exptime, item_exptime(it));
    nw->flags = it->flags;
    nw->nbytes = it->nbytes;
    nw->nkey = it->nkey;
    memcpy(nw->data, it->data, (size_t)it->nkey + it->nbytes);
    STORE_RELAXED(&nw->refcount, 1);
    STORE(&nw->iflags, LOAD_RELAXED(&it->iflags));
    hash_swap_locked(s, hv, it, nw);
    item_clear_flag(it, ITEM_LINKED);
    r = FETCH_SUB(&it->refcount, 1) == 1 ? WALK_IDLE : WALK_HELD;
    pthread_mutex_unlock(&st->lock);
    return r;
}

/* ---- allocation ---- */

enum store_status
alloc_item(struct store *s, struct str key, uint32_t flags, uint32_t exp,
    size_t nbytes, uint32_t now, struct item **itp)
{
    struct item *it;
    int cls;
    size_t n = 1;

    if (key.len == 0 || key.len > STORE_KEY_MAX) {
        return STORE_EINVAL;
    }
    if (nbytes > s->cfg.item_size_max
        || ITEM_HDR + key.len + nbytes > s->cfg.item_size_max) {
        return STORE_TOO_LARGE;
    }
    cls = slab_class_for(s, ITEM_HDR + key.len + nbytes);
    if (cls < 0) {
        if (!s->chain) {
            return STORE_TOO_LARGE;
        }
        cls = (int)s->nclasses - 1;
        n = chain_nchunks(s->classes[cls].size, key.len, nbytes);
    }
    it = slab_alloc(s, (unsigned)cls, n, key.len, nbytes, now);
    if (it == NULL) {
        return STORE_ENOMEM;
    }
    it->hnext = NULL;
    STORE_RELAXED(&it->cas, 0);
    STORE_RELAXED(&it->exptime, exp);
    it->flags = flags;
    memcpy(it->data, key.ptr, key.len);
    *itp = it;
    return STORE_OK;
}

enum store_status
store_alloc(struct store *s, struct str key, uint32_t flags, int64_t exptime,
    size_t nbytes, uint32_t now, struct item **itp)
{
    enum store_status rc = alloc_item(s, key, flags,
        exptime_abs(exptime, now), nbytes, now, itp);

    if (rc == STORE_OK) {
        class_op_count(s, *itp, CLASS_CMD_SET);
    }
    return rc;
}

/* ---- storage commands ---- */

/* Copy the value of `src` into `dst`'s value at `off`. */
static void
copy_value(struct item *dst, size_t off, const struct item *src)
{
    struct item_segs i;
    struct str seg;

    item_segs_begin(src, &i);
    while (item_segs_next(&i, &seg)) {
        item_value_write(dst, off, seg.ptr, seg.len);
        off += seg.len;
    }
}

/* old's bytes joined with it's (appended or prepended) in a new item. */
static enum store_status
join_locked(struct op *o, struct item *old, struct item *it, bool prepend,
    uint32_t now, struct item **nwp)
{
    struct item *nw;
    enum store_status rc;
    struct item *first = prepend ? it : old;
    struct item *second = prepend ? old : it;

    rc = alloc_item(o->s, o->key, old->flags, LOAD_RELAXED(&old->exptime),
        (size_t)old->nbytes + it->nbytes, now, &nw);
    if (rc != STORE_OK) {
        return rc;
    }
    copy_value(nw, 0, first);
    copy_value(nw, first->nbytes, second);
    *nwp = nw;
    return STORE_OK;
}

/* Apply mode's precondition to `old`; STORE_OK to go ahead. */
static enum store_status
check_mode_locked(struct op *o, struct item *old, enum store_mode mode,
    uint64_t cas)
{
    switch (mode) {
        case STORE_SET:
            return STORE_OK;
        case STORE_ADD:
            return old == NULL ? STORE_OK : STORE_NOT_STORED;
        case STORE_REPLACE:
            return old != NULL ? STORE_OK : STORE_NOT_STORED;
        case STORE_APPEND:
        case STORE_PREPEND:
            if (old == NULL) {
                return STORE_NOT_STORED;
            }
            return cas == 0 || cas == item_cas(old) ? STORE_OK
                                                    : STORE_EXISTS;
        case STORE_CAS:
            if (old == NULL) {
                o->st->c.cas_misses++;
                return STORE_NOT_FOUND;
            }
            if (cas != item_cas(old)) {
                o->st->c.cas_badval++;
                class_op_count(o->s, old, CLASS_CAS_BADVAL);
                return STORE_EXISTS;
            }
            o->st->c.cas_hits++;
            class_op_count(o->s, old, CLASS_CAS_HITS);
            return STORE_OK;
        case STORE_CAS_STALE:
            if (old != NULL && cas < item_cas(old)) {
                o->st->c.cas_hits++;
                class_op_count(o->s, old, CLASS_CAS_HITS);
                return STORE_OK;
            }
            return check_mode_locked(o, old, STORE_CAS, cas);
    }
    return STORE_EINVAL;
}

enum store_status
store_link(struct store *s, struct item *it, enum store_mode mode,
    uint64_t cas, uint32_t now, uint64_t *cas_out)
{
    struct op o;
    struct item *old;
    struct item *nw = NULL;
    enum store_status rc;
    bool inserted = false;

    op_begin(&o, s, item_key(it), now);
    old = find_live_locked(&o, now, true);
    rc = check_mode_locked(&o, old, mode, cas);
    if (rc == STORE_OK && (mode == STORE_APPEND || mode == STORE_PREPEND)) {
        rc = join_locked(&o, old, it, mode == STORE_PREPEND, now, &nw);
    }
    if (rc == STORE_OK && mode == STORE_CAS_STALE && cas != item_cas(old)) {
        /* An older writer's value: keep it, but as stale. */
        STORE_RELAXED(&it->exptime, item_exptime(old));
        item_set_flag(it, ITEM_STALE | (LOAD_RELAXED(&old->iflags)
            & ITEM_TOKEN));
    }
    if (rc == STORE_OK) {
        uint64_t c = link_locked(&o, nw != NULL ? nw : it, old);

        inserted = old == NULL;
        if (cas_out != NULL) {
            *cas_out = c;
        }
    }
    op_end(&o);
    item_unref(s, it);
    if (nw != NULL) {
        item_unref(s, nw);
    }
    if (inserted) {
        hash_after_insert(s);
    }
    return rc;
}

enum store_status
store_set(struct store *s, enum store_mode mode, struct str key,
    uint32_t flags, int64_t exptime, struct str val, uint64_t cas,
    uint32_t now, uint64_t *cas_out)
{
    struct item *it;
    enum store_status rc;

    rc = store_alloc(s, key, flags, exptime, val.len, now, &it);
    if (rc != STORE_OK) {
        return rc;
    }
    item_value_write(it, 0, val.ptr, val.len);
    return store_link(s, it, mode, cas, now, cas_out);
}

/* ---- retrieval, touch, delete ---- */

enum store_status
store_get(struct store *s, struct str key, uint32_t now, struct item **itp)
{
    struct op o;
    struct item *it;

    op_begin(&o, s, key, now);
    it = find_live_locked(&o, now, true);
    if (it != NULL) {
        item_ref(it);
        item_set_flag(it, ITEM_FETCHED);
        o.st->c.get_hits++;
        class_op_count(s, it, CLASS_GET_HITS);
        *itp = it;
    } else {
        o.st->c.get_misses++;
    }
    op_end(&o);
    return it != NULL ? STORE_OK : STORE_NOT_FOUND;
}

enum store_status
store_gat(struct store *s, struct str key, int64_t exptime, uint32_t now,
    struct item **itp)
{
    struct op o;
    struct item *it;

    op_begin(&o, s, key, now);
    it = find_live_locked(&o, now, true);
    if (it != NULL) {
        STORE_RELAXED(&it->exptime, exptime_abs(exptime, now));
        item_set_flag(it, ITEM_FETCHED);
        o.st->c.touch_hits++;
        class_op_count(s, it, CLASS_TOUCH_HITS);
        if (itp != NULL) {
            item_ref(it);
            *itp = it;
        }
    } else {
        o.st->c.touch_misses++;
    }
    op_end(&o);
    return it != NULL ? STORE_OK : STORE_NOT_FOUND;
}

/* touch is gat without the item: one body, one set of counters. */
enum store_status
store_touch(struct store *s, struct str key, int64_t exptime, uint32_t now)
{
    return store_gat(s, key, exptime, now, NULL);
}

/* Mark `it` stale (meta delete with I): see store_invalidate(). */
static void
invalidate_locked(struct op *o, struct item *it, bool set_ttl, int64_t ttl,
    uint32_t now)
{
    item_set_flag(it, ITEM_STALE);
    item_clear_flag(it, ITEM_TOKEN);
    STORE_RELAXED(&it->cas, FETCH_ADD(&o->s->cas_counter, 1) + 1);
    if (set_ttl) {
        STORE_RELAXED(&it->exptime, exptime_abs(ttl, now));
    }
}

/* delete, or with `invalidate` meta delete's mark-stale mode. */
static enum store_status
delete_or_invalidate(struct store *s, struct str key, uint64_t cas,
    bool invalidate, bool set_ttl, int64_t ttl, uint32_t now)
{
    struct op o;
    struct item *it;
    enum store_status rc = STORE_NOT_FOUND;

    op_begin(&o, s, key, now);
    it = find_live_locked(&o, now, !invalidate);
    if (it == NULL) {
        o.st->c.delete_misses++;
    } else if (cas != 0 && cas != item_cas(it)) {
        rc = STORE_EXISTS;
    } else {
        if (invalidate) {
            invalidate_locked(&o, it, set_ttl, ttl, now);
        } else {
            unlink_locked(&o, it);
        }
        o.st->c.delete_hits++;
        class_op_count(s, it, CLASS_DELETE_HITS);
        rc = STORE_OK;
    }
    op_end(&o);
    return rc;
}

enum store_status
store_delete(struct store *s, struct str key, uint64_t cas, uint32_t now)
{
    return delete_or_invalidate(s, key, cas, false, false, 0, now);
}

enum store_status
store_invalidate(struct store *s, struct str key, uint64_t cas, bool set_ttl,
    int64_t ttl, uint32_t now)
{
    return delete_or_invalidate(s, key, cas, true, set_ttl, ttl, now);
}

/* ---- incr/decr ---- */

static bool
is_space(char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/*
 * Parse a value as memcached's safe_strtoull() does: spaces, an optional
 * sign, digits without overflow, then the end, a space or a NUL. A '-'
 * is accepted only when the negated result still looks non-negative as a
 * signed number ("-0"), exactly like strtoull plus memcached's check.
 */
static bool
parse_number(const char *p, size_t n, uint64_t *out)
{
    size_t i = 0;
    bool neg = false;
    uint64_t v = 0;
    size_t start;

    while (i < n && is_space(p[i])) {
        i++;
    }
    if (i < n && (p[i] == '+' || p[i] == '-')) {
        neg = p[i] == '-';
        i++;
    }
    start = i;
    for (; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
        uint64_t d = (uint64_t)(p[i] - '0');

        if (v > (UINT64_MAX - d) / 10) {
            return false;
        }
        v = v * 10 + d;
    }
    if (i == start || (i < n && !is_space(p[i]) && p[i] != '\0')) {
        return false;
    }
    if (neg) {
        v = -v;
        if ((int64_t)v < 0) {
            return false;
        }
    }
    *out = v;
    return true;
}

/* Write `num` (len bytes) as the new value of live `it`: in place, padded
 * with spaces, when it fits and nobody else holds it; else a new item. */
static enum store_status
arith_store_locked(struct op *o, struct item *it, const char *num,
    size_t len, uint32_t now, uint64_t *cas_out)
{
    struct item *nw;
    enum store_status rc;

    if (len <= it->nbytes && LOAD_RELAXED(&it->refcount) == 1) {
        memcpy(item_value_mut(it), num, len);
        memset(item_value_mut(it) + len, ' ', it->nbytes - len);
        *cas_out = FETCH_ADD(&o->s->cas_counter, 1) + 1;
        STORE_RELAXED(&it->cas, *cas_out);
        return STORE_OK;
    }
    rc = alloc_item(o->s, o->key, it->flags, LOAD_RELAXED(&it->exptime), len,
        now, &nw);
    if (rc != STORE_OK) {
        return rc;
    }
    memcpy(item_value_mut(nw), num, len);
    *cas_out = link_locked(o, nw, it);
    item_unref(o->s, nw);
    return STORE_OK;
}

enum store_status
store_arith(struct store *s, struct str key, bool incr, uint64_t delta,
    uint64_t cas, uint32_t now, uint64_t *value, uint64_t *cas_out)
{
    struct op o;
    struct item *it;
    enum store_status rc;
    uint64_t v;
    uint64_t newcas;
    char num[24];

    op_begin(&o, s, key, now);
    it = find_live_locked(&o, now, true);
    if (it == NULL) {
        rc = STORE_NOT_FOUND;
        incr ? o.st->c.incr_misses++ : o.st->c.decr_misses++;
    } else if (it->nbytes == 0 || !item_contiguous(it)) {
        /* memcached refuses an empty value before it compares the CAS;
         * a chained value is far too long to be a number. */
        rc = STORE_NON_NUMERIC;
    } else if (cas != 0 && cas != item_cas(it)) {
        rc = STORE_EXISTS;
    } else if (!parse_number(item_value(it), it->nbytes, &v)) {
        rc = STORE_NON_NUMERIC;
    } else {
        /* NOTE(store): no fetched bit, as memcached's do_add_delta()
         * (DONT_UPDATE): meta `h` after an incr says 0. */
        v = incr ? v + delta : (delta > v ? 0 : v - delta);
        rc = arith_store_locked(&o, it, num, util_fmt_u64(num, v), now,
            &newcas);
        if (rc == STORE_OK) {
            incr ? o.st->c.incr_hits++ : o.st->c.decr_hits++;
            class_op_count(s, it, incr ? CLASS_INCR_HITS : CLASS_DECR_HITS);
            *value = v;
            if (cas_out != NULL) {
                *cas_out = newcas;
            }
        }
    }
    op_end(&o);
    return rc;
}

/* ---- flush, maintenance ---- */

void
store_flush(struct store *s, int64_t delay, uint32_t now)
{
    if (delay <= 0) {
        STORE(&s->flush_pending, 0);
        STORE(&s->flush_cas, LOAD(&s->cas_counter));
        return;
    }
    STORE(&s->flush_pending, exptime_abs(delay, now));
    flush_catch_up(s, now);
}

bool
store_maintain(struct store *s, uint32_t now, unsigned budget)
{
    bool pending = false;

    if (budget == 0) {
        budget = 1;
    }
    if (pthread_mutex_trylock(&s->maint_lock) != 0) {
        return true;
    }
    flush_catch_up(s, now);
    if (hash_expanding(s)) {
        pending |= hash_grow_step(s, budget);
    }
    pending |= slab_sweep(s, now, budget);
    pending |= slab_rebalance(s, now, budget);
    pthread_mutex_unlock(&s->maint_lock);
    return pending;
}
