/*
 * Multi-get split and merge, pure: group the keys of one get by owner
 * node (one sub-request per owner), collect the VALUE elements each owner
 * returns, and write them back in the order the keys were asked.
 *
 * Keys of a group are kept in request order, so a backend answering in
 * order (as memcached does, skipping misses) is matched with one forward
 * scan; a repeated key ("get a a") is matched once per occurrence.
 */
#include "proxy/proxy_int.h"

#include <stdlib.h>
#include <string.h>

struct mget_sub {
    uint32_t owner;
    uint32_t first;     /* index into order[] */
    uint32_t count;
    uint32_t pos;       /* next key of the group to match */
};

struct mget_slot {
    size_t off;
    size_t len;
    bool set;
};

struct mget {
    size_t nkeys;
    size_t nsubs;
    size_t hits;
    struct str *grouped;    /* keys grouped by owner (views into text) */
    uint32_t *order;        /* grouped position -> request index */
    struct mget_sub *subs;
    struct mget_slot *slots; /* by request index */
    struct buf vals;
    char *text;             /* copy of every key */
};

static size_t
find_sub(const struct mget *m, uint32_t owner)
{
    size_t i;

    for (i = 0; i < m->nsubs; i++) {
        if (m->subs[i].owner == owner) {
            return i;
        }
    }
    return m->nsubs;
}

/* Count keys per owner, giving each owner a group in first-seen order. */
static void
count_groups(struct mget *m, const uint32_t *owners, uint32_t *group)
{
    size_t i, g;

    for (i = 0; i < m->nkeys; i++) {
        g = find_sub(m, owners[i]);
        if (g == m->nsubs) {
            m->subs[g].owner = owners[i];
            m->nsubs++;
        }
        m->subs[g].count++;
        group[i] = (uint32_t)g;
    }
}

/*
 * One allocation per multi-get: the struct, then its arrays (most aligned
 * first) and the copy of the keys. `group` is scratch for the split.
 */
static struct mget *
alloc_all(size_t n, size_t textlen, uint32_t **group)
{
    size_t sz = sizeof(struct mget) + n * (sizeof(struct str) +
        sizeof(struct mget_slot) + sizeof(struct mget_sub) +
        2 * sizeof(uint32_t)) + textlen;
    struct mget *m = calloc(1, sz);
    char *p;

    if (m == NULL) {
        return NULL;
    }
    p = (char *)(m + 1);
    m->grouped = (struct str *)p;
    p += n * sizeof(struct str);
    m->slots = (struct mget_slot *)p;
    p += n * sizeof(struct mget_slot);
    m->subs = (struct mget_sub *)p;
    p += n * sizeof(struct mget_sub);
    m->order = (uint32_t *)p;
    p += n * sizeof(uint32_t);
    *group = (uint32_t *)p;
    p += n * sizeof(uint32_t);
    m->text = p;
    return m;
}

struct mget *
mget_create(const struct str *keys, const uint32_t *owners, size_t n)
{
    struct mget *m;
    uint32_t *group;
    size_t i, textlen = 0, at, g;

    for (i = 0; i < n; i++) {
        textlen += keys[i].len;
    }
    m = alloc_all(n, textlen, &group);
    if (m == NULL) {
        return NULL;
    }
    buf_init(&m->vals);
    m->nkeys = n;
    count_groups(m, owners, group);
    for (g = 0, at = 0; g < m->nsubs; g++) {
        m->subs[g].first = (uint32_t)at;
        at += m->subs[g].count;
        m->subs[g].count = 0;
    }
    for (i = 0, at = 0; i < n; i++) {
        struct mget_sub *sub = &m->subs[group[i]];
        uint32_t pos = sub->first + sub->count++;

        memcpy(m->text + at, keys[i].ptr, keys[i].len);
        m->grouped[pos] = (struct str){ m->text + at, keys[i].len };
        m->order[pos] = (uint32_t)i;
        at += keys[i].len;
    }
    return m;
}

void
mget_destroy(struct mget *m)
{
    if (m == NULL) {
        return;
    }
    buf_fini(&m->vals);
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
mget_sub_keys(const struct mget *m, size_t sub, const struct str **keys)
{
    *keys = m->grouped + m->subs[sub].first;
    return m->subs[sub].count;
}

enum mget_status
mget_value(struct mget *m, size_t sub, struct str key, struct str raw)
{
    struct mget_sub *s;
    struct mget_slot *slot;
    uint32_t pos;

    if (sub >= m->nsubs) {
        return MGET_UNEXPECTED;
    }
    s = &m->subs[sub];
    for (pos = s->pos; pos < s->count; pos++) {
        if (str_eq(m->grouped[s->first + pos], key)) {
            break;
        }
    }
    if (pos == s->count) {
        return MGET_UNEXPECTED;
    }
    slot = &m->slots[m->order[s->first + pos]];
    slot->off = m->vals.len;
    slot->len = raw.len;
    if (!buf_append(&m->vals, raw.ptr, raw.len)) {
        return MGET_ENOMEM;
    }
    slot->set = true;
    s->pos = pos + 1;
    m->hits++;
    return MGET_OK;
}

size_t
mget_hits(const struct mget *m)
{
    return m->hits;
}

bool
mget_finish(const struct mget *m, struct buf *out)
{
    size_t i;
    struct str end = proto_reply_str(PROTO_REPLY_END);

    for (i = 0; i < m->nkeys; i++) {
        const struct mget_slot *s = &m->slots[i];

        if (s->set && !buf_append(out, buf_head(&m->vals) + s->off,
            s->len)) {
            return false;
        }
    }
    return buf_append_str(out, end);
}
