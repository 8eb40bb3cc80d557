/*
 * The reply tokenizer of ringbench (see reply.h).
 */
#include "bench/reply.h"

#include <string.h>

static bool
starts(struct str line, const char *word)
{
    size_t n = strlen(word);

    return line.len >= n && memcmp(line.ptr, word, n) == 0;
}

/* Split off the next space-separated token of *rest. */
static struct str
token(struct str *rest)
{
    struct str t;
    size_t i = 0;

    while (i < rest->len && rest->ptr[i] != ' ') {
        i++;
    }
    t.ptr = rest->ptr;
    t.len = i;
    rest->ptr += i < rest->len ? i + 1 : i;
    rest->len -= i < rest->len ? i + 1 : i;
    return t;
}

/* "VALUE <key> <flags> <bytes> [<cas>]" then the data block. */
static enum reply_status
parse_value(const char *p, size_t len, struct str line, struct reply *r,
    size_t *used)
{
    struct str rest = { line.ptr + 6, line.len - 6 };
    struct str bytes_tok;
    uint32_t bytes;
    uint64_t cas;
    size_t head = line.len + 2;

    r->kind = REPLY_VALUE;
    r->key = token(&rest);
    if (r->key.len == 0 || r->key.len > 250
        || !util_parse_u32(token(&rest), &r->flags)) {
        return REPLY_BAD;
    }
    bytes_tok = token(&rest);
    if (!util_parse_u32(bytes_tok, &bytes) || bytes > REPLY_MAX_DATA) {
        return REPLY_BAD;
    }
    if (rest.len > 0 && !util_parse_u64(token(&rest), &cas)) {
        return REPLY_BAD;
    }
    if (rest.len > 0) {
        return REPLY_BAD;
    }
    if (len - head < (size_t)bytes + 2) {
        return REPLY_AGAIN;
    }
    if (p[head + bytes] != '\r' || p[head + bytes + 1] != '\n') {
        return REPLY_BAD;
    }
    r->data.ptr = p + head;
    r->data.len = bytes;
    *used = head + bytes + 2;
    return REPLY_OK;
}

static bool
simple(struct str line, const char *word, enum reply_kind kind,
    struct reply *r)
{
    if (!str_eq_cstr(line, word)) {
        return false;
    }
    r->kind = kind;
    return true;
}

enum reply_status
reply_parse(const char *p, size_t len, struct reply *r, size_t *used)
{
    const char *nl = memchr(p, '\n', len < REPLY_MAX_LINE ? len
        : REPLY_MAX_LINE);
    struct str line;

    memset(r, 0, sizeof(*r));
    if (nl == NULL) {
        return len < REPLY_MAX_LINE ? REPLY_AGAIN : REPLY_BAD;
    }
    if (nl == p || nl[-1] != '\r') {
        return REPLY_BAD;
    }
    line.ptr = p;
    line.len = (size_t)(nl - p) - 1;
    *used = line.len + 2;
    if (starts(line, "VALUE ")) {
        return parse_value(p, len, line, r, used);
    }
    if (simple(line, "END", REPLY_END, r)
        || simple(line, "STORED", REPLY_STORED, r)
        || simple(line, "NOT_STORED", REPLY_NOT_STORED, r)
        || simple(line, "EXISTS", REPLY_NOT_STORED, r)
        || simple(line, "NOT_FOUND", REPLY_NOT_STORED, r)
        || simple(line, "ERROR", REPLY_ERROR, r)) {
        return REPLY_OK;
    }
    if (starts(line, "CLIENT_ERROR ") || starts(line, "SERVER_ERROR ")) {
        r->kind = REPLY_ERROR;
        r->data.ptr = line.ptr + 13;
        r->data.len = line.len - 13;
        return REPLY_OK;
    }
    return REPLY_BAD;
}
