/*
 * Item accessors, item flag bits and reference counting. An item's bytes
 * stay valid while the caller holds a reference, whatever other threads
 * do to its key meanwhile.
 */
#include "store/store.h"

#include "store/internal.h"

bool
item_has(const struct item *it, uint8_t flag)
{
    return (LOAD_RELAXED(&it->iflags) & flag) != 0;
}

void
item_set_flag(struct item *it, uint8_t flag)
{
    /* Read first: a hot item's flags are set already, and a plain load
     * keeps its cache line shared between threads. */
    if ((LOAD_RELAXED(&it->iflags) & flag) != flag) {
        __atomic_fetch_or(&it->iflags, flag, __ATOMIC_RELEASE);
    }
}

void
item_clear_flag(struct item *it, uint8_t flag)
{
    __atomic_fetch_and(&it->iflags, (uint8_t)~flag, __ATOMIC_RELEASE);
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

const char *
item_value(const struct item *it)
{
    return it->data + it->nkey;
}

char *
item_value_mut(struct item *it)
{
    return it->data + it->nkey;
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
