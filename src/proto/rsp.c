/*
 * The response parser: one element of a memcached server's answer (a
 * VALUE with its data block, a status line, a number, a STAT line, an
 * error) from the front of a buffer, for the proxy reading its backends
 * and the load generator checking replies. Anything else means the stream
 * is out of step: PROTO_FATAL.
 */
#include "proto/proto.h"

#include <string.h>

#include "proto/table.h"

static bool
has_prefix(struct str line, const char *p, size_t n)
{
    return line.len >= n && memcmp(line.ptr, p, n) == 0;
}

/* The text after `head` (n bytes): "" when the line is just the head,
 * else what follows one space; false for anything else ("ENDX"). */
static bool
after_head(struct str line, size_t n, struct str *text)
{
    if (line.len == n) {
        text->ptr = line.ptr + n;
        text->len = 0;
        return true;
    }
    if (line.ptr[n] != ' ') {
        return false;
    }
    text->ptr = line.ptr + n + 1;
    text->len = line.len - n - 1;
    return true;
}

/* A data block of `bytes` after the line_used bytes of its line. */
static enum proto_status
parse_block(const char *buf, size_t len, size_t line_used, uint32_t bytes,
    struct proto_rsp *rsp, size_t *used)
{
    size_t total = line_used + bytes + 2;
    const char *end;

    if (len < total) {
        rsp->need = total;
        return PROTO_AGAIN;
    }
    end = buf + line_used + bytes;
    if (end[0] != '\r' || end[1] != '\n') {
        return PROTO_FATAL;
    }
    rsp->data.ptr = buf + line_used;
    rsp->data.len = bytes;
    *used = total;
    return PROTO_OK;
}

/* "VALUE <key> <flags> <bytes>[ <cas>]" and the data block after it. */
static enum proto_status
parse_value(const struct proto_limits *lim, const char *buf, size_t len,
    size_t line_used, struct str rest, struct proto_rsp *rsp, size_t *used)
{
    struct str w[5];
    size_t nw = 0;
    uint32_t bytes;

    while (nw < 5 && proto_next_word(&rest, &w[nw])) {
        nw++;
    }
    if (nw < 3 || nw == 5 || !proto_key_valid(w[0]) ||
        !util_parse_u32(w[1], &rsp->flags) ||
        !util_parse_u32(w[2], &bytes) || bytes > lim->max_value ||
        (nw == 4 && !util_parse_u64(w[3], &rsp->cas))) {
        return PROTO_FATAL;
    }
    rsp->key = w[0];
    rsp->has_cas = nw == 4;
    return parse_block(buf, len, line_used, bytes, rsp, used);
}

/* "STAT <name> <value>": the value is the rest of the line, verbatim. */
static bool
parse_stat(struct str text, struct proto_rsp *rsp)
{
    const char *sp = memchr(text.ptr, ' ', text.len);

    if (sp == NULL || sp == text.ptr) {
        return false;
    }
    rsp->name.ptr = text.ptr;
    rsp->name.len = (size_t)(sp - text.ptr);
    rsp->text.ptr = sp + 1;
    rsp->text.len = text.len - rsp->name.len - 1;
    return true;
}

/* The meta reply codes without a data block that may carry flags, and
 * their response types ("MN" is a plain status word). */
static const struct {
    char code[3];
    enum proto_rsp_type type;
} meta_codes[] = {
    { "HD", PROTO_RSP_HD }, { "EN", PROTO_RSP_EN }, { "NF", PROTO_RSP_NF },
    { "NS", PROTO_RSP_NS }, { "EX", PROTO_RSP_EX }, { "ME", PROTO_RSP_ME },
};

/* "HD[ <flags>]" and the like: text gets the flags. */
static bool
parse_meta_line(struct str line, struct proto_rsp *rsp)
{
    for (size_t i = 0; i < sizeof(meta_codes) / sizeof(meta_codes[0]); i++) {
        if (has_prefix(line, meta_codes[i].code, 2)) {
            rsp->type = meta_codes[i].type;
            return after_head(line, 2, &rsp->text) &&
                (rsp->type != PROTO_RSP_ME || rsp->text.len > 0);
        }
    }
    return false;
}

/* A line with no data block after it. */
static bool
parse_status_line(struct str line, struct proto_rsp *rsp)
{
    rsp->type = proto_rsp_word_lookup(line);
    if (rsp->type != PROTO_RSP_NONE) {
        return true;
    }
    if (parse_meta_line(line, rsp)) {
        return true;
    }
    rsp->type = PROTO_RSP_NONE;
    if (line.len > 0 && line.ptr[0] >= '0' && line.ptr[0] <= '9') {
        rsp->type = PROTO_RSP_NUMBER;
        return util_parse_u64(line, &rsp->number);
    }
    if (has_prefix(line, "ERROR", 5)) {
        /* Verbatim: memcached also sends "ERROR: shutdown not enabled". */
        rsp->type = PROTO_RSP_ERROR;
        rsp->text.ptr = line.ptr + 5;
        rsp->text.len = line.len - 5;
        return true;
    }
    if (has_prefix(line, "CLIENT_ERROR", 12)) {
        rsp->type = PROTO_RSP_CLIENT_ERROR;
        return after_head(line, 12, &rsp->text);
    }
    if (has_prefix(line, "SERVER_ERROR", 12)) {
        rsp->type = PROTO_RSP_SERVER_ERROR;
        return after_head(line, 12, &rsp->text);
    }
    if (has_prefix(line, "VERSION", 7)) {
        rsp->type = PROTO_RSP_VERSION;
        return after_head(line, 7, &rsp->text);
    }
    if (has_prefix(line, "STAT ", 5)) {
        rsp->type = PROTO_RSP_STAT;
        return parse_stat((struct str){ line.ptr + 5, line.len - 5 }, rsp);
    }
    return false;
}

/* "VA <size>[ <flags>]" and its data block. */
static enum proto_status
parse_va(const struct proto_limits *lim, const char *buf, size_t len,
    size_t line_used, struct str rest, struct proto_rsp *rsp, size_t *used)
{
    struct str w;
    uint32_t bytes;

    if (rest.len == 0 || rest.ptr[0] == ' ' ||
        !proto_next_word(&rest, &w) || !util_parse_u32(w, &bytes) ||
        bytes > lim->max_value) {
        return PROTO_FATAL;
    }
    rsp->text = proto_trim(rest);
    return parse_block(buf, len, line_used, bytes, rsp, used);
}

enum proto_status
proto_parse_rsp(const struct proto_limits *lim, const char *buf, size_t len,
    struct proto_rsp *rsp, size_t *used)
{
    struct str line;
    size_t nl;
    enum proto_status st;

    memset(rsp, 0, sizeof(*rsp));
    *used = 0;
    st = proto_find_line(buf, len, lim->max_line, &nl);
    if (st != PROTO_OK) {
        return st;
    }
    line = proto_line(buf, nl);
    if (has_prefix(line, "VALUE ", 6)) {
        rsp->type = PROTO_RSP_VALUE;
        st = parse_value(lim, buf, len, nl + 1,
            (struct str){ line.ptr + 6, line.len - 6 }, rsp, used);
        return st;
    }
    if (has_prefix(line, "VA ", 3)) {
        rsp->type = PROTO_RSP_VA;
        return parse_va(lim, buf, len, nl + 1,
            (struct str){ line.ptr + 3, line.len - 3 }, rsp, used);
    }
    if (!parse_status_line(line, rsp)) {
        return PROTO_FATAL;
    }
    *used = nl + 1;
    return PROTO_OK;
}
