/*
 * Multi-get split and merge, pure: group the keys of one retrieval by
 * owner node, fetch each distinct key once, cut each owner's keys into
 * backend requests that fit a line limit (the sub-requests), match the
 * VALUE elements each backend returns, and hand the values back in the
 * order the keys were asked, one per occurrence, as soon as each one's
 * turn has come.
 *
 * Keys of a sub-request are kept in request order, so a backend answering
 * in order (as memcached does, skipping misses) is matched with one
 * forward scan: a VALUE for the key at position p means keys before p are
 * misses; a key not at or after the scan position cannot be attributed.
 * Values are refcounted blobs (struct pblob): a repeated key ("get a a")
 * holds one copy, released after its last occurrence has been handed out.
 */
#include "proxy/proxy_int.h"

#include <stdlib.h>
#include <string.h>

enum uslot_state {
    USLOT_PENDING = 0,
    USLOT_MISS,
    USLOT_VALUE,
};

struct mget_sub {
    uint32_t owner;
    uint32_t first;     /* index into grouped[] */
    uint32_t count;
    uint32_t pos;       /* next key of the sub-request to match */
};

struct mget_uslot {
    struct pblob *val;
    uint32_t left;      /* occurrences not yet handed out */
    uint32_t sub;       /* the sub-request asking for it */
    uint32_t pos;       /* its position there */
    uint8_t state;      /* enum uslot_state */
};

struct mget {
    size_t nkeys;       /* occurrences, in request order */
    size_t nuniq;
    size_t nsubs;
    size_t cursor;      /* next occurrence to hand out */
    size_t hits;
    size_t held;        /* bytes of values held */
    uint32_t *canon;    /* occurrence -> distinct key */
    struct str *ukeys;  /* distinct keys (views into text) */
    uint32_t *grouped;  /* sub-request order -> distinct key */
    struct mget_uslot *slots;
    struct mget_sub *subs;
    char *text;         /* copy of every distinct key */
};

/* ---- values ------------------------------------------------------------- */

struct pblob *
pblob_create(const void *data, size_t len)
{
    struct pblob *b = malloc(sizeof(*b) + len);

    if (b == NULL) {
        return NULL;
    }
    b->refs = 1;
    b->len = len;
    memcpy(b->data, data, len);
    return b;
}

struct pblob *
pblob_ref(struct pblob *b)
{
    b->refs++;
    return b;
}

void
pblob_unref(void *arg)
{
    struct pblob *b = arg;

    if (b != NULL && --b->refs == 0) {
        free(b);
    }
}

/* ---- the split ---------------------------------------------------------- */

static uint32_t
key_hash(struct str k)
{
    uint32_t h = 2166136261u;

    for (size_t i = 0; i < k.len; i++) {
        h = (h ^ (uint8_t)k.ptr[i]) * 16777619u;
    }
    return h;
}

/* Up to this many keys, a scan finds repeats faster than hashing. */
#define DEDUP_SCAN_MAX 16

static void
dedup_scan(struct mget *m, const struct str *keys)
{
    for (size_t i = 0; i < m->nkeys; i++) {
        size_t u = 0;

        while (u < m->nuniq && !str_eq(m->ukeys[u], keys[i])) {
            u++;
        }
        if (u == m->nuniq) {
            m->ukeys[m->nuniq++] = keys[i];
        }
        m->canon[i] = (uint32_t)u;
        m->slots[u].left++;
    }
}

/* Fill canon[] and ukeys[] (views into `keys`); `table` has tsize (a power
 * of two > n) entries of scratch, zeroed. */
static void
dedup(struct mget *m, const struct str *keys, uint32_t *table, size_t tsize)
{
    if (m->nkeys <= DEDUP_SCAN_MAX) {
        dedup_scan(m, keys);
        return;
    }
    for (size_t i = 0; i < m->nkeys; i++) {
        size_t at = key_hash(keys[i]) & (tsize - 1);

        while (table[at] != 0 && !str_eq(m->ukeys[table[at] - 1], keys[i])) {
            at = (at + 1) & (tsize - 1);
        }
        if (table[at] == 0) {
            m->ukeys[m->nuniq] = keys[i];
            table[at] = (uint32_t)++m->nuniq;
        }
        m->canon[i] = table[at] - 1;
        m->slots[table[at] - 1].left++;
    }
}

/* Order distinct keys by owner (owners in first-seen order, keys in
 * request order inside each), cutting a new sub-request whenever the next
 * key would make the line longer than line_max. */
static void
split(struct mget *m, const uint32_t *uowner, size_t head_len,
    size_t line_max, uint32_t *done)
{
    size_t at = 0;

    for (size_t u = 0; u < m->nuniq; u++) {
        size_t line = 0;

        if (done[u]) {
            continue;
        }
        for (size_t v = u; v < m->nuniq; v++) {
            size_t add = 1 + m->ukeys[v].len;

            if (done[v] || uowner[v] != uowner[u]) {
                continue;
            }
            if (line == 0 || line + add + 2 > line_max) {
                struct mget_sub *s = &m->subs[m->nsubs++];

                s->owner = uowner[u];
                s->first = (uint32_t)at;
                line = head_len;
            }
            line += add;
            m->slots[v].sub = (uint32_t)(m->nsubs - 1);
            m->slots[v].pos = m->subs[m->nsubs - 1].count++;
            m->grouped[at++] = (uint32_t)v;
            done[v] = 1;
        }
    }
}

struct mget *
mget_create(const struct str *keys, const uint32_t *owners, size_t n,
    size_t head_len, size_t line_max)
{
    size_t tsize = 16, textlen = 0, sz, at = 0, nscratch;
    uint32_t local[256], *scratch = local, *uowner;
    struct mget *m;
    char *p;

    while (tsize <= 2 * n) {
        tsize *= 2;
    }
    for (size_t i = 0; i < n; i++) {
        textlen += keys[i].len;
    }
    sz = sizeof(*m) + n * (sizeof(struct str) + sizeof(struct mget_uslot) +
        sizeof(struct mget_sub) + 2 * sizeof(uint32_t)) + textlen;
    m = calloc(1, sz);
    /* Scratch for the split: on the stack for the usual few keys. */
    nscratch = tsize + 2 * n + 1;
    if (nscratch > sizeof(local) / sizeof(local[0])) {
        scratch = calloc(nscratch, sizeof(uint32_t));
    } else {
        memset(local, 0, nscratch * sizeof(uint32_t));
    }
    if (m == NULL || scratch == NULL) {
        free(m);
        if (scratch != local) {
            free(scratch);
        }
        return NULL;
    }
    p = (char *)(m + 1);
    m->ukeys = (struct str *)p;
    p += n * sizeof(struct str);
    m->slots = (struct mget_uslot *)p;
    p += n * sizeof(struct mget_uslot);
    m->subs = (struct mget_sub *)p;
    p += n * sizeof(struct mget_sub);
    m->canon = (uint32_t *)p;
    p += n * sizeof(uint32_t);
    m->grouped = (uint32_t *)p;
    p += n * sizeof(uint32_t);
    m->text = p;
    m->nkeys = n;
    dedup(m, keys, scratch, tsize);
    uowner = scratch + tsize;
    for (size_t i = 0; i < n; i++) {
        uowner[m->canon[i]] = owners[i];
    }
    for (size_t u = 0; u < m->nuniq; u++) {
        memcpy(m->text + at, m->ukeys[u].ptr, m->ukeys[u].len);
        m->ukeys[u].ptr = m->text + at;
        at += m->ukeys[u].len;
    }
    split(m, uowner, head_len, line_max, uowner + n);
    if (scratch != local) {
        free(scratch);
    }
    return m;
}

void
mget_destroy(struct mget *m)
{
    if (m == NULL) {
        return;
    }
    for (size_t u = 0; u < m->nuniq; u++) {
        pblob_unref(m->slots[u].val);
    }
    free(m);
}

size_t
mget_nsubs(const struct mget *m)
{
    return m->nsubs;
}

uint32_t
mget_sub_owner(const struct mget *m, size_t sub)
{
    return m->subs[sub].owner;
}

size_t
mget_sub_keys(const struct mget *m, size_t sub, struct str *keys,
    size_t cap)
{
    const struct mget_sub *s = &m->subs[sub];
    size_t i;

    for (i = 0; i < s->count && i < cap; i++) {
        keys[i] = m->ukeys[m->grouped[s->first + i]];
    }
    return s->count;
}

/* ---- matching ----------------------------------------------------------- */

/* Keys of sub-request s before position `upto` got no value: misses. */
static void
misses_until(struct mget *m, struct mget_sub *s, uint32_t upto)
{
    for (; s->pos < upto; s->pos++) {
        m->slots[m->grouped[s->first + s->pos]].state = USLOT_MISS;
    }
}

/* Where `key` is in sub-request `sub`, at or after the keys answered;
 * the sub-request's count if nowhere. */
static uint32_t
find_in_sub(const struct mget *m, size_t sub, struct str key)
{
    const struct mget_sub *s = &m->subs[sub];
    uint32_t pos;

    for (pos = s->pos; pos < s->count; pos++) {
        if (str_eq(m->ukeys[m->grouped[s->first + pos]], key)) {
            break;
        }
    }
    return pos;
}

bool
mget_value_is_next(const struct mget *m, size_t sub, struct str key)
{
    uint32_t pos, u;

    if (sub >= m->nsubs || (pos = find_in_sub(m, sub, key)) ==
        m->subs[sub].count) {
        return false;
    }
    u = m->grouped[m->subs[sub].first + pos];
    if (m->slots[u].left != 1) {
        return false;
    }
    for (size_t c = m->cursor; c < m->nkeys; c++) {
        const struct mget_uslot *cs = &m->slots[m->canon[c]];

        if (m->canon[c] == u) {
            return true;
        }
        /* Before it only misses, or keys this value makes misses. */
        if (cs->state != USLOT_MISS && (cs->state != USLOT_PENDING ||
            cs->sub != sub || cs->pos >= pos)) {
            return false;
        }
    }
    return false;
}

enum mget_status
mget_value(struct mget *m, size_t sub, struct str key, struct pblob *val)
{
    struct mget_sub *s;
    struct mget_uslot *slot;
    uint32_t pos;

    if (sub >= m->nsubs) {
        return MGET_UNEXPECTED;
    }
    s = &m->subs[sub];
    pos = find_in_sub(m, sub, key);
    if (pos == s->count) {
        return MGET_UNEXPECTED;
    }
    misses_until(m, s, pos);
    slot = &m->slots[m->grouped[s->first + pos]];
    slot->state = USLOT_VALUE;
    if (val != NULL) {
        slot->val = pblob_ref(val);
        m->held += val->len;
    }
    s->pos = pos + 1;
    return MGET_OK;
}

enum mget_status
mget_value_sent(struct mget *m, size_t sub, struct str key)
{
    enum mget_status st = mget_value(m, sub, key, NULL);

    /* The misses before it, then itself: handed out. */
    while (st == MGET_OK && m->cursor < m->nkeys) {
        struct mget_uslot *slot = &m->slots[m->canon[m->cursor++]];

        slot->left--;
        if (slot->state == USLOT_VALUE) {
            m->hits++;
            break;
        }
    }
    return st;
}

void
mget_sub_done(struct mget *m, size_t sub)
{
    if (sub < m->nsubs) {
        misses_until(m, &m->subs[sub], m->subs[sub].count);
    }
}

enum mget_next
mget_next(struct mget *m, struct pblob **val)
{
    while (m->cursor < m->nkeys) {
        struct mget_uslot *slot = &m->slots[m->canon[m->cursor]];

        if (slot->state == USLOT_PENDING) {
            return MGET_NEXT_WAIT;
        }
        m->cursor++;
        slot->left--;
        if (slot->state == USLOT_MISS) {
            continue;
        }
        m->hits++;
        if (slot->val == NULL) {
            continue;       /* matched only: nobody reads this reply */
        }
        *val = pblob_ref(slot->val);
        if (slot->left == 0) {
            m->held -= slot->val->len;
            pblob_unref(slot->val);
            slot->val = NULL;
        }
        return MGET_NEXT_VALUE;
    }
    return MGET_NEXT_END;
}

size_t
mget_hits(const struct mget *m)
{
    return m->hits;
}

size_t
mget_held(const struct mget *m)
{
    return m->held;
}
