/*
 * The request parser: one memcached text command (and its data block) from
 * the front of a buffer, as a server receives it. Stateless and
 * incremental: until a whole request is buffered it answers PROTO_AGAIN
 * and consumes nothing. Every error reply is the one memcached 1.6.18
 * sends; table.c lists the few deliberate differences.
 */
#include "proto/proto.h"

#include <string.h>

#include "proto/table.h"

/* The most words any non-retrieval command accepts (cas ... noreply). */
#define MAX_WORDS 7

/* What a shape parser needs besides the request. */
struct line_ctx {
    const struct proto_limits *lim;
    const char *buf;
    size_t len;
    size_t line_used;      /* bytes of the line, '\n' included */
    struct str rest;       /* the line after the command's name */
    struct str w[MAX_WORDS];
    size_t nw;             /* words, the name included */
};

static enum proto_status
client_error(struct proto_req *req, enum proto_reply err, size_t skip,
    size_t *used)
{
    req->err = err;
    *used = skip;
    return PROTO_CLIENT_ERROR;
}

static bool
is_noreply(struct str w)
{
    return w.len == 7 && memcmp(w.ptr, "noreply", 7) == 0;
}

/* Set req->noreply when the last word says so (memcached's
 * set_noreply_maybe), for commands whose word count allows it. */
static void
last_word_noreply(const struct line_ctx *c, struct proto_req *req)
{
    req->noreply = c->nw >= 2 && is_noreply(c->w[c->nw - 1]);
}

/* get gets gat gats: [exptime] key... */
static enum proto_status
parse_retrieval(struct line_ctx *c, struct proto_req *req, size_t *used)
{
    struct str rest = c->rest;
    struct str word;

    if (proto_cmd_table[req->cmd].shape == PROTO_SHAPE_GAT) {
        if (!proto_next_word(&rest, &word)) {
            return client_error(req, PROTO_REPLY_ERROR, c->line_used, used);
        }
        if (!util_parse_i64(word, &req->exptime)) {
            return client_error(req, PROTO_REPLY_BAD_EXPTIME, c->line_used,
                used);
        }
        req->has_exptime = true;
    }
    rest = proto_trim(rest);
    req->keys = rest;
    while (proto_next_word(&rest, &word)) {
        if (!proto_key_valid(word)) {
            return client_error(req, PROTO_REPLY_BAD_FORMAT, c->line_used,
                used);
        }
        if (req->nkeys == 0) {
            req->key = word;
        }
        req->nkeys++;
    }
    /* memcached: "get" alone is ERROR, "gat 10" alone is an empty END. */
    if (req->nkeys == 0 && !req->has_exptime) {
        return client_error(req, PROTO_REPLY_ERROR, c->line_used, used);
    }
    *used = c->line_used;
    return PROTO_OK;
}

/* set add replace append prepend cas, and the data block after the line. */
static enum proto_status
parse_storage(struct line_ctx *c, struct proto_req *req, size_t *used)
{
    size_t base = req->cmd == PROTO_CMD_CAS ? 6 : 5;
    uint32_t bytes;
    size_t total;
    const char *end;

    /* memcached ignores any other word in the noreply position. */
    req->noreply = c->nw > base && is_noreply(c->w[base]);
    if (!util_parse_u32(c->w[4], &bytes) || bytes > INT32_MAX - 2) {
        /* No trusted length: only the line can be skipped. */
        return client_error(req, PROTO_REPLY_BAD_FORMAT, c->line_used, used);
    }
    total = c->line_used + bytes + 2;
    if (!proto_key_valid(c->w[1]) || !util_parse_u32(c->w[2], &req->flags) ||
        !util_parse_i64(c->w[3], &req->exptime) ||
        (base == 6 && !util_parse_u64(c->w[5], &req->cas))) {
        return client_error(req, PROTO_REPLY_BAD_FORMAT, total, used);
    }
    req->key = c->w[1];
    req->has_exptime = true;
    if (bytes > c->lim->max_value) {
        return client_error(req, PROTO_REPLY_TOO_LARGE, total, used);
    }
    if (c->len < total) {
        req->need = total;
        req->data.ptr = NULL;
        req->data.len = bytes;  /* the line is need - bytes - 2 long */
        *used = 0;
        return PROTO_AGAIN;
    }
    end = c->buf + c->line_used + bytes;
    if (end[0] != '\r' || end[1] != '\n') {
        return client_error(req, PROTO_REPLY_BAD_CHUNK, total, used);
    }
    req->data.ptr = c->buf + c->line_used;
    req->data.len = bytes;
    *used = total;
    return PROTO_OK;
}

/* delete <key> [0] [noreply]: memcached allows a hold time of 0 only. */
static enum proto_status
parse_delete(struct line_ctx *c, struct proto_req *req, size_t *used)
{
    bool zero = c->nw >= 3 && c->w[2].len == 1 && c->w[2].ptr[0] == '0';

    last_word_noreply(c, req);
    if ((c->nw == 3 && !zero && !req->noreply) ||
        (c->nw == 4 && !(zero && req->noreply))) {
        return client_error(req, PROTO_REPLY_DELETE_USAGE, c->line_used,
            used);
    }
    if (!proto_key_valid(c->w[1])) {
        return client_error(req, PROTO_REPLY_BAD_FORMAT, c->line_used, used);
    }
    req->key = c->w[1];
    *used = c->line_used;
    return PROTO_OK;
}

/* incr/decr <key> <delta>, touch <key> <exptime>; [noreply] */
static enum proto_status
parse_keyed(struct line_ctx *c, struct proto_req *req, size_t *used)
{
    bool arith = proto_cmd_table[req->cmd].shape == PROTO_SHAPE_ARITH;

    req->noreply = c->nw == 4 && is_noreply(c->w[3]);
    if (!proto_key_valid(c->w[1])) {
        return client_error(req, PROTO_REPLY_BAD_FORMAT, c->line_used, used);
    }
    req->key = c->w[1];
    if (arith && !util_parse_u64(c->w[2], &req->delta)) {
        return client_error(req, PROTO_REPLY_BAD_DELTA, c->line_used, used);
    }
    if (!arith) {
        if (!util_parse_i64(c->w[2], &req->exptime)) {
            return client_error(req, PROTO_REPLY_BAD_EXPTIME, c->line_used,
                used);
        }
        req->has_exptime = true;
    }
    *used = c->line_used;
    return PROTO_OK;
}

/* flush_all [delay] [noreply], verbosity <level> [noreply] */
static enum proto_status
parse_flush_level(struct line_ctx *c, struct proto_req *req, size_t *used)
{
    last_word_noreply(c, req);
    if (req->cmd == PROTO_CMD_VERBOSITY) {
        if (!util_parse_u32(c->w[1], &req->level)) {
            return client_error(req, PROTO_REPLY_BAD_FORMAT, c->line_used,
                used);
        }
    } else if (c->nw > (req->noreply ? 2u : 1u)) {
        if (!util_parse_i64(c->w[1], &req->exptime)) {
            return client_error(req, PROTO_REPLY_BAD_EXPTIME, c->line_used,
                used);
        }
        req->has_exptime = true;
    }
    *used = c->line_used;
    return PROTO_OK;
}

/* Split the rest of the line into c->w[1..]; false if there are more words
 * than the command accepts (or fewer). */
static bool
split_words(struct line_ctx *c, const struct proto_cmd_info *ci)
{
    struct str rest = c->rest;
    struct str word;

    while (proto_next_word(&rest, &word)) {
        if (c->nw == ci->max_words) {
            return false;
        }
        c->w[c->nw++] = word;
    }
    return c->nw >= ci->min_words;
}

static enum proto_status
parse_line(struct line_ctx *c, struct proto_req *req, size_t *used)
{
    const struct proto_cmd_info *ci = &proto_cmd_table[req->cmd];

    switch (ci->shape) {
    case PROTO_SHAPE_GET:
    case PROTO_SHAPE_GAT:
        return parse_retrieval(c, req, used);
    case PROTO_SHAPE_NONE:
        *used = c->line_used;
        return PROTO_OK;
    case PROTO_SHAPE_ARGS:
        req->args = proto_trim(c->rest);
        *used = c->line_used;
        return PROTO_OK;
    case PROTO_SHAPE_META:
        return proto_parse_meta(c->lim, c->buf, c->len, c->line_used,
            c->rest, req, used);
    default:
        break;
    }
    if (!split_words(c, ci)) {
        return client_error(req, PROTO_REPLY_ERROR, c->line_used, used);
    }
    switch (ci->shape) {
    case PROTO_SHAPE_STORE:
    case PROTO_SHAPE_CAS:
        return parse_storage(c, req, used);
    case PROTO_SHAPE_DELETE:
        return parse_delete(c, req, used);
    case PROTO_SHAPE_ARITH:
    case PROTO_SHAPE_TOUCH:
        return parse_keyed(c, req, used);
    default:
        return parse_flush_level(c, req, used);
    }
}

/* True when the bytes so far start a get/gets/gat/gats line (leading
 * spaces allowed), which may run up to max_key_line. */
static bool
starts_retrieval(const char *buf, size_t len)
{
    struct str rest = { buf, len };
    struct str word;
    enum proto_cmd cmd;

    if (!proto_next_word(&rest, &word) || rest.len == 0) {
        return false;
    }
    cmd = proto_cmd_lookup(word.ptr, word.len);
    return proto_cmd_is_retrieval(cmd);
}

static enum proto_status
find_request_line(const struct proto_limits *lim, const char *buf, size_t len,
    size_t *nl)
{
    enum proto_status st = proto_find_line(buf, len, lim->max_line, nl);

    if (st == PROTO_FATAL && lim->max_key_line > lim->max_line &&
        starts_retrieval(buf, lim->max_line)) {
        st = proto_find_line(buf, len, lim->max_key_line, nl);
    }
    return st;
}

/* The binary protocol's request magic. */
#define PROTO_BINARY_MAGIC 0x80

/* memcached's rule: an unknown command whose last word starts with
 * "HTTP/" is an HTTP request line ("GET / HTTP/1.0"). */
static bool
http_line(struct str rest)
{
    struct str w;
    struct str last = { NULL, 0 };

    while (proto_next_word(&rest, &w)) {
        last = w;
    }
    return last.len >= 5 && memcmp(last.ptr, "HTTP/", 5) == 0;
}

static enum proto_status
fatal(struct proto_req *req, enum proto_fatal why, enum proto_reply err)
{
    req->fatal = why;
    req->err = err;
    return PROTO_FATAL;
}

enum proto_status
proto_parse_req(const struct proto_limits *lim, const char *buf, size_t len,
    struct proto_req *req, size_t *used)
{
    struct line_ctx c;
    struct str name;
    size_t nl;
    enum proto_status st;

    memset(req, 0, sizeof(*req));
    *used = 0;
    if (len > 0 && (unsigned char)buf[0] == PROTO_BINARY_MAGIC) {
        return fatal(req, PROTO_FATAL_BINARY, PROTO_REPLY_NONE);
    }
    st = find_request_line(lim, buf, len, &nl);
    if (st == PROTO_AGAIN) {
        return PROTO_AGAIN;
    }
    if (st == PROTO_FATAL) {
        return fatal(req, PROTO_FATAL_LINE_TOO_LONG,
            PROTO_REPLY_LINE_TOO_LONG);
    }
    c.lim = lim;
    c.buf = buf;
    c.len = len;
    c.line_used = nl + 1;
    c.rest = proto_line(buf, nl);
    c.nw = 1;
    if (!proto_next_word(&c.rest, &name)) {
        return client_error(req, PROTO_REPLY_ERROR, c.line_used, used);
    }
    c.w[0] = name;
    req->cmd = proto_cmd_lookup(name.ptr, name.len);
    if (req->cmd == PROTO_CMD_NONE) {
        if (http_line(proto_line(buf, nl))) {
            return fatal(req, PROTO_FATAL_HTTP, PROTO_REPLY_NONE);
        }
        return client_error(req, PROTO_REPLY_ERROR, c.line_used, used);
    }
    return parse_line(&c, req, used);
}

void
proto_keys_begin(const struct proto_req *req, struct proto_key_iter *it)
{
    it->pos = req->keys.ptr;
    it->end = req->keys.ptr + req->keys.len;
}

bool
proto_keys_next(struct proto_key_iter *it, struct str *key)
{
    struct str rest = { it->pos, (size_t)(it->end - it->pos) };
    bool found;

    if (it->pos == NULL) {
        return false;
    }
    found = proto_next_word(&rest, key);
    it->pos = rest.ptr;
    return found;
}
