/*
 * Lines and words: the framing both parsers share. A line ends at '\n'
 * (one '\r' before it is dropped, as memcached does); words are separated
 * by runs of spaces, and only spaces.
 */
#include "proto/table.h"

#include <string.h>

enum proto_status
proto_find_line(const char *buf, size_t len, size_t limit, size_t *nl)
{
    size_t scan = len <= limit ? len : limit + 1;
    const char *p = memchr(buf, '\n', scan);

    if (p != NULL) {
        *nl = (size_t)(p - buf);
        return PROTO_OK;
    }
    return len > limit ? PROTO_FATAL : PROTO_AGAIN;
}

struct str
proto_line(const char *buf, size_t nl)
{
    struct str line = { buf, nl };

    if (nl > 0 && buf[nl - 1] == '\r') {
        line.len--;
    }
    return line;
}

bool
proto_next_word(struct str *rest, struct str *word)
{
    const char *p = rest->ptr;
    const char *end = rest->ptr + rest->len;
    const char *start;

    while (p < end && *p == ' ') {
        p++;
    }
    if (p == end) {
        rest->ptr = end;
        rest->len = 0;
        return false;
    }
    start = p;
    while (p < end && *p != ' ') {
        p++;
    }
    word->ptr = start;
    word->len = (size_t)(p - start);
    rest->ptr = p;
    rest->len = (size_t)(end - p);
    return true;
}

struct str
proto_trim(struct str rest)
{
    while (rest.len > 0 && rest.ptr[0] == ' ') {
        rest.ptr++;
        rest.len--;
    }
    while (rest.len > 0 && rest.ptr[rest.len - 1] == ' ') {
        rest.len--;
    }
    return rest;
}
