/*
 * Item accessors, item flag bits and reference counting. An item's bytes
 * stay valid while the caller holds a reference, whatever other threads
 * do to its key meanwhile.
 */
#include "store/store.h"

#include <string.h>

#include "store/internal.h"

bool
item_has(const struct item *it, uint16_t flag)
{
    return (LOAD_RELAXED(&it->iflags) & flag) != 0;
}

void
item_set_flag(struct item *it, uint16_t flag)
{
    /* Read first: a hot item's flags are set already, and a plain load
     * keeps its cache line shared between threads. */
    if ((LOAD_RELAXED(&it->iflags) & flag) != flag) {
        __atomic_fetch_or(&it->iflags, flag, __ATOMIC_RELEASE);
    }
}

void
item_clear_flag(struct item *it, uint16_t flag)
{
    __atomic_fetch_and(&it->iflags, (uint16_t)~flag, __ATOMIC_RELEASE);
}

void
item_mark_key_binary(struct item *it)
{
    item_set_flag(it, ITEM_KEY_BINARY);
}

bool
item_key_binary(const struct item *it)
{
    return item_has(it, ITEM_KEY_BINARY);
}

struct str
item_key(const struct item *it)
{
    return (struct str){ it->data, it->nkey };
}

/* Where the head chunk's value bytes start. */
static size_t
value_off(const struct item *it)
{
    return it->nkey + (item_has(it, ITEM_CHAINED) ? sizeof(struct chunk *)
        : 0);
}

const char *
item_value(const struct item *it)
{
    return it->data + value_off(it);
}

char *
item_value_mut(struct item *it)
{
    return it->data + value_off(it);
}

bool
item_contiguous(const struct item *it)
{
    return !item_has(it, ITEM_CHAINED);
}

struct chunk *
item_chain_first(const struct item *it)
{
    struct chunk *ch;

    memcpy(&ch, it->data + it->nkey, sizeof(ch));
    return ch;
}

void
item_chain_set_first(struct item *it, struct chunk *ch)
{
    memcpy(it->data + it->nkey, &ch, sizeof(ch));
}

size_t
chain_nchunks(size_t size, size_t nkey, size_t nbytes)
{
    size_t head = chain_head_cap(size, nkey);
    size_t cont = size - CHUNK_HDR;

    if (ITEM_HDR + nkey + nbytes <= size) {
        return 1;
    }
    return 1 + (nbytes - head + cont - 1) / cont;
}

/* Bytes of the value held by the head chunk. */
static size_t
head_len(const struct item *it)
{
    struct chunk *ch;
    size_t n = it->nbytes;

    if (!item_has(it, ITEM_CHAINED)) {
        return n;
    }
    for (ch = item_chain_first(it); ch != NULL; ch = ch->next) {
        n -= ch->len;
    }
    return n;
}

void
item_segs_begin(const struct item *it, struct item_segs *i)
{
    i->it = it;
    i->next = NULL;
    i->started = false;
}

bool
item_segs_next(struct item_segs *i, struct str *seg)
{
    const struct chunk *ch;

    if (!i->started) {
        i->started = true;
        if (item_has(i->it, ITEM_CHAINED)) {
            i->next = item_chain_first(i->it);
        }
        *seg = (struct str){ item_value(i->it), head_len(i->it) };
        return true;
    }
    if (i->next == NULL) {
        return false;
    }
    ch = i->next;
    i->next = ch->next;
    *seg = (struct str){ ch->data, ch->len };
    return true;
}

/* Copy between the value's bytes [off, off+len) and `buf`. */
static void
value_copy(const struct item *it, size_t off, char *buf, size_t len,
    bool out)
{
    struct item_segs i;
    struct str seg;

    item_segs_begin(it, &i);
    while (len > 0 && item_segs_next(&i, &seg)) {
        size_t n;

        if (off >= seg.len) {
            off -= seg.len;
            continue;
        }
        n = seg.len - off < len ? seg.len - off : len;
        if (out) {
            memcpy(buf, seg.ptr + off, n);
        } else {
            memcpy((char *)(uintptr_t)seg.ptr + off, buf, n);
        }
        buf += n;
        len -= n;
        off = 0;
    }
}

void
item_value_read(const struct item *it, size_t off, char *dst, size_t len)
{
    value_copy(it, off, dst, len, true);
}

void
item_value_write(struct item *it, size_t off, const char *src, size_t len)
{
    value_copy(it, off, (char *)(uintptr_t)src, len, false);
}

size_t
item_value_len(const struct item *it)
{
    return it->nbytes;
}

uint32_t
item_flags(const struct item *it)
{
    return it->flags;
}

uint64_t
item_cas(const struct item *it)
{
    return LOAD_RELAXED(&it->cas);
}

uint32_t
item_exptime(const struct item *it)
{
    return LOAD_RELAXED(&it->exptime);
}

bool
item_fetched(const struct item *it)
{
    return item_has(it, ITEM_FETCHED);
}

void
item_ref(struct item *it)
{
    FETCH_ADD(&it->refcount, 1);
}

void
item_unref(struct store *s, struct item *it)
{
    if (FETCH_SUB(&it->refcount, 1) == 1) {
        slab_free(s, it);
    }
}
