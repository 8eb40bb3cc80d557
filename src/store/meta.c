/*
 * What the meta commands need beyond the classic ones: meta get with
 * vivify-on-miss, recache wins and stale items (memcached 1.6's
 * stale-while-revalidate). Meta delete's invalidate mode shares
 * store_delete()'s code in store.c.
 */
#include "store/store.h"

#include <string.h>

#include "store/internal.h"

/* Create, link and return an empty item that wins its recache. */
static enum store_status
vivify_locked(struct op *o, const struct store_mget_opts *m, uint32_t now,
    struct item **itp)
{
    struct item *it;
    enum store_status rc;

    rc = alloc_item(o->s, o->key, 0, exptime_abs(m->vivify_ttl, now), 0, now,
        &it);
    if (rc != STORE_OK) {
        return rc;
    }
    item_set_flag(it, ITEM_TOKEN);
    if (!m->no_bump) {
        /* memcached bumps the new item like a hit: `h` shows 1 later. */
        item_set_flag(it, ITEM_FETCHED);
    }
    link_locked(o, it, NULL);
    *itp = it;  /* the allocation's reference goes to the caller */
    return STORE_OK;
}

/* Should this fetch of `it` win its recache (R flag, or stale)? */
static bool
wants_win(const struct item *it, const struct store_mget_opts *m,
    uint32_t now)
{
    uint32_t e = item_exptime(it);

    if (item_has(it, ITEM_STALE)) {
        return true;
    }
    return m->recache && e != 0 && (int64_t)e - now < m->recache_ttl;
}

static void
touch_locked(struct op *o, struct item *it, const struct store_mget_opts *m,
    uint32_t now)
{
    STORE_RELAXED(&it->exptime, exptime_abs(m->touch_ttl, now));
    o->st->c.touch_hits++;
    class_op_count(o->s, it, CLASS_TOUCH_HITS);
}

/* The hit half of store_mget(): flags, touch, counters, reference. */
static void
mget_hit_locked(struct op *o, struct item *it,
    const struct store_mget_opts *m, uint32_t now, struct store_mget_res *r)
{
    r->hit_before = item_has(it, ITEM_FETCHED);
    r->stale = item_has(it, ITEM_STALE);
    r->token_sent = item_has(it, ITEM_TOKEN);
    /* memcached applies the flags in request order: R sees T's expiry
     * only when T came first. */
    if (m->touch && m->touch_first) {
        touch_locked(o, it, m, now);
    }
    if (!m->no_win && !r->token_sent && wants_win(it, m, now)) {
        item_set_flag(it, ITEM_TOKEN);
        r->win = true;
    }
    if (m->touch && !m->touch_first) {
        touch_locked(o, it, m, now);
    } else if (!m->touch) {
        o->st->c.get_hits++;
        class_op_count(o->s, it, CLASS_GET_HITS);
    }
    if (!m->no_bump) {
        item_set_flag(it, ITEM_FETCHED);
    }
    item_ref(it);
}

enum store_status
store_mget(struct store *s, struct str key, const struct store_mget_opts *m,
    uint32_t now, struct item **itp, struct store_mget_res *r)
{
    struct op o;
    struct item *it;
    enum store_status rc = STORE_OK;
    bool vivified = false;

    memset(r, 0, sizeof(*r));
    op_begin(&o, s, key, now);
    it = find_live_locked(&o, now, !m->no_bump);
    if (it != NULL) {
        mget_hit_locked(&o, it, m, now, r);
        *itp = it;
    } else {
        m->touch ? o.st->c.touch_misses++ : o.st->c.get_misses++;
        rc = STORE_NOT_FOUND;
        if (m->vivify) {
            rc = vivify_locked(&o, m, now, itp);
            vivified = rc == STORE_OK;
            r->win = vivified;
            r->vivified = vivified;
        }
    }
    op_end(&o);
    if (vivified) {
        hash_after_insert(s);
    }
    return rc;
}

enum store_status
store_peek(struct store *s, struct str key, uint32_t now, uint32_t *exptime)
{
    struct op o;
    struct item *it;

    op_begin(&o, s, key, now);
    it = find_live_locked(&o, now, false);
    if (it != NULL) {
        *exptime = item_exptime(it);
    }
    op_end(&o);
    return it != NULL ? STORE_OK : STORE_NOT_FOUND;
}

enum store_status
store_set_exptime(struct store *s, struct str key, int64_t exptime,
    uint32_t now)
{
    struct op o;
    struct item *it;

    op_begin(&o, s, key, now);
    it = find_live_locked(&o, now, false);
    if (it != NULL) {
        STORE_RELAXED(&it->exptime, exptime_abs(exptime, now));
    }
    op_end(&o);
    return it != NULL ? STORE_OK : STORE_NOT_FOUND;
}
