/* Growable byte buffer with a consumable front, for reads and replies. */
#include "util/util.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
buf_init(struct buf *b)
{
    b->data = NULL;
    b->off = 0;
    b->len = 0;
    b->cap = 0;
}

void
buf_fini(struct buf *b)
{
    free(b->data);
    buf_init(b);
}

bool
buf_reserve(struct buf *b, size_t n)
{
    size_t need;
    size_t cap;
    char *p;

    if (b->cap - b->off - b->len >= n) {
        return true;
    }
    /* NOTE(util): sliding down is cheaper than growing when the front is
     * spent. */
    if (b->off > 0 && b->cap - b->len >= n && b->off >= b->len) {
        buf_compact(b);
        return true;
    }
    if (n > SIZE_MAX - b->len - b->off) {
        return false;
    }
    need = b->off + b->len + n;
    cap = b->cap > 0 ? b->cap : 256;
    while (cap < need) {
        if (cap > SIZE_MAX / 2) {
            cap = need;
            break;
        }
        cap *= 2;
    }
    p = realloc(b->data, cap);
    if (p == NULL) {
        return false;
    }
    b->data = p;
    b->cap = cap;
    return true;
}

bool
buf_append(struct buf *b, const void *p, size_t n)
{
    if (n == 0) {
        return true;
    }
    if (!buf_reserve(b, n)) {
        return false;
    }
    memcpy(b->data + b->off + b->len, p, n);
    b->len += n;
    return true;
}

bool
buf_append_str(struct buf *b, struct str s)
{
    return buf_append(b, s.ptr, s.len);
}

bool
buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !buf_reserve(b, (size_t)n + 1)) {
        return false;
    }
    va_start(ap, fmt);
    vsnprintf(buf_tail(b), (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return true;
}

char *
buf_head(const struct buf *b)
{
    return b->data + b->off;
}

char *
buf_tail(const struct buf *b)
{
    return b->data + b->off + b->len;
}

size_t
buf_space(const struct buf *b)
{
    return b->cap - b->off - b->len;
}

void
buf_commit(struct buf *b, size_t n)
{
    assert(n <= buf_space(b));
    b->len += n;
}

void
buf_consume(struct buf *b, size_t n)
{
    assert(n <= b->len);
    b->off += n;
    b->len -= n;
    if (b->len == 0) {
        b->off = 0;
    }
}

void
buf_compact(struct buf *b)
{
    if (b->off > 0) {
        memmove(b->data, b->data + b->off, b->len);
        b->off = 0;
    }
}

void
buf_clear(struct buf *b)
{
    b->off = 0;
    b->len = 0;
}
