/*
 * Composers: the bytes of replies (for the node and the proxy) and of
 * requests (for the proxy's backends and the load generator). Fixed reply
 * lines come from table.c; value bytes stay out of the reply composers so
 * a node can send them straight from the item.
 */
#include "proto/proto.h"

#include <stdio.h>
#include <string.h>

#include "proto/table.h"

/* Append " <v>" to dst at *n. */
static void
put_u64(char *dst, size_t *n, uint64_t v)
{
    dst[(*n)++] = ' ';
    *n += proto_fmt_u64(dst + *n, v);
}

/* memcached's uriencode(): letters, digits and "-._~" pass. */
static bool
uri_plain(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
        c == '~';
}

/* Append " <name>=" to dst at *n. */
static void
put_field(char *dst, size_t *n, const char *name)
{
    size_t len = strlen(name);

    dst[(*n)++] = ' ';
    memcpy(dst + *n, name, len);
    *n += len;
    dst[(*n)++] = '=';
}

size_t
proto_compose_dump_line(char *dst, struct str key, int64_t exp, int64_t la,
    uint64_t cas, bool fetched, unsigned cls, uint64_t size)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 4;
    size_t i;

    memcpy(dst, "key=", 4);
    for (i = 0; i < key.len && i < PROTO_KEY_MAX; i++) {
        unsigned char c = (unsigned char)key.ptr[i];

        if (uri_plain(c)) {
            dst[n++] = (char)c;
        } else {
            dst[n++] = '%';
            dst[n++] = hex[c >> 4];
            dst[n++] = hex[c & 15];
        }
    }
    put_field(dst, &n, "exp");
    n += proto_fmt_i64(dst + n, exp);
    put_field(dst, &n, "la");
    n += proto_fmt_i64(dst + n, la);
    put_field(dst, &n, "cas");
    n += proto_fmt_u64(dst + n, cas);
    put_field(dst, &n, "fetch");
    memcpy(dst + n, fetched ? "yes" : "no", fetched ? 3 : 2);
    n += fetched ? 3 : 2;
    put_field(dst, &n, "cls");
    n += proto_fmt_u64(dst + n, cls);
    put_field(dst, &n, "size");
    n += proto_fmt_u64(dst + n, size);
    dst[n++] = '\n';
    return n;
}

size_t
proto_compose_cachedump_line(char *dst, struct str key, uint64_t bytes,
    uint64_t exp)
{
    size_t n = 5;

    if (!proto_key_valid(key)) {
        return 0;
    }
    memcpy(dst, "ITEM ", 5);
    memcpy(dst + n, key.ptr, key.len);
    n += key.len;
    memcpy(dst + n, " [", 2);
    n += 2;
    n += proto_fmt_u64(dst + n, bytes);
    memcpy(dst + n, " b; ", 4);
    n += 4;
    n += proto_fmt_u64(dst + n, exp);
    memcpy(dst + n, " s]\r\n", 5);
    return n + 5;
}

size_t
proto_compose_value(char *dst, struct str key, uint32_t flags,
    uint32_t bytes, bool with_cas, uint64_t cas)
{
    size_t n = 6;

    memcpy(dst, "VALUE ", 6);
    memcpy(dst + n, key.ptr, key.len);
    n += key.len;
    put_u64(dst, &n, flags);
    put_u64(dst, &n, bytes);
    if (with_cas) {
        put_u64(dst, &n, cas);
    }
    dst[n++] = '\r';
    dst[n++] = '\n';
    return n;
}

size_t
proto_compose_number(char *dst, uint64_t v)
{
    size_t n = proto_fmt_u64(dst, v);

    dst[n++] = '\r';
    dst[n++] = '\n';
    return n;
}

/* Keep `b` as it was when composing failed half way. */
static bool
keep_or_undo(struct buf *b, size_t mark, bool ok)
{
    if (!ok) {
        b->len = mark;
    }
    return ok;
}

static bool
append_crlf(struct buf *b)
{
    return buf_append(b, "\r\n", 2);
}

static bool
append_u64(struct buf *b, bool space, uint64_t v)
{
    char tmp[22];
    size_t n = 0;

    if (space) {
        tmp[n++] = ' ';
    }
    n += proto_fmt_u64(tmp + n, v);
    return buf_append(b, tmp, n);
}

static bool
append_i64(struct buf *b, int64_t v)
{
    char tmp[22];

    tmp[0] = ' ';
    return buf_append(b, tmp, 1 + proto_fmt_i64(tmp + 1, v));
}

static bool
append_word(struct buf *b, struct str w)
{
    return buf_append(b, " ", 1) && buf_append_str(b, w);
}

/* Append "<head>[ <text>]\r\n": the text only when non-empty. */
static bool
append_line(struct buf *b, const char *head, struct str text)
{
    return buf_append(b, head, strlen(head)) &&
        (text.len == 0 || append_word(b, text)) && append_crlf(b);
}

bool
proto_compose_version(struct buf *b, struct str version)
{
    size_t mark = b->len;

    return keep_or_undo(b, mark, append_line(b, "VERSION", version));
}

bool
proto_compose_stat(struct buf *b, struct str name, struct str value)
{
    size_t mark = b->len;

    return keep_or_undo(b, mark, buf_append(b, "STAT", 4) &&
        append_word(b, name) && append_word(b, value) && append_crlf(b));
}

bool
proto_compose_stat_u64(struct buf *b, struct str name, uint64_t value)
{
    size_t mark = b->len;

    return keep_or_undo(b, mark, buf_append(b, "STAT", 4) &&
        append_word(b, name) && append_u64(b, true, value) &&
        append_crlf(b));
}

void
proto_conn_addr_name(const char *addr, char *dst, size_t n)
{
    if (addr[0] == '/') {
        snprintf(dst, n, "unix:%s", addr);
    } else {
        snprintf(dst, n, "%s:%s", addr[0] == '[' ? "tcp6" : "tcp", addr);
    }
}

static bool
compose_error(struct buf *b, enum proto_rsp_type type, struct str text)
{
    switch (type) {
    case PROTO_RSP_ERROR:
        return buf_append(b, "ERROR", 5) && buf_append_str(b, text) &&
            append_crlf(b);
    case PROTO_RSP_CLIENT_ERROR:
        return append_line(b, "CLIENT_ERROR", text);
    case PROTO_RSP_SERVER_ERROR:
        return append_line(b, "SERVER_ERROR", text);
    default:
        return false;
    }
}

static bool
compose_value_rsp(struct buf *b, const struct proto_rsp *rsp)
{
    char hdr[PROTO_VALUE_HDR_MAX];
    size_t n;

    if (rsp->key.len > PROTO_KEY_MAX || rsp->data.len > UINT32_MAX) {
        return false;
    }
    n = proto_compose_value(hdr, rsp->key, rsp->flags,
        (uint32_t)rsp->data.len, rsp->has_cas, rsp->cas);
    return buf_append(b, hdr, n) && buf_append_str(b, rsp->data) &&
        append_crlf(b);
}

bool
proto_compose_error(struct buf *b, enum proto_rsp_type type, struct str text)
{
    size_t mark = b->len;

    return keep_or_undo(b, mark, compose_error(b, type, text));
}

static const char *
meta_rsp_code(enum proto_rsp_type type)
{
    switch (type) {
    case PROTO_RSP_HD:
        return "HD";
    case PROTO_RSP_EN:
        return "EN";
    case PROTO_RSP_NF:
        return "NF";
    case PROTO_RSP_NS:
        return "NS";
    case PROTO_RSP_EX:
        return "EX";
    default:
        return "ME";
    }
}

static bool
compose_rsp(struct buf *b, const struct proto_rsp *rsp)
{
    struct str word = proto_rsp_word(rsp->type);

    if (word.len > 0) {
        return buf_append_str(b, word) && append_crlf(b);
    }
    switch (rsp->type) {
    case PROTO_RSP_VALUE:
        return compose_value_rsp(b, rsp);
    case PROTO_RSP_VA:
        if (rsp->data.len > UINT32_MAX) {
            return false;
        }
        return buf_append(b, "VA", 2) && append_u64(b, true, rsp->data.len) &&
            (rsp->text.len == 0 || append_word(b, rsp->text)) &&
            append_crlf(b) && buf_append_str(b, rsp->data) && append_crlf(b);
    case PROTO_RSP_HD:
    case PROTO_RSP_EN:
    case PROTO_RSP_NF:
    case PROTO_RSP_NS:
    case PROTO_RSP_EX:
    case PROTO_RSP_ME:
        return append_line(b, meta_rsp_code(rsp->type), rsp->text);
    case PROTO_RSP_NUMBER:
        return append_u64(b, false, rsp->number) && append_crlf(b);
    case PROTO_RSP_VERSION:
        return append_line(b, "VERSION", rsp->text);
    case PROTO_RSP_STAT:
        return buf_append(b, "STAT", 4) && append_word(b, rsp->name) &&
            append_word(b, rsp->text) && append_crlf(b);
    default:
        return compose_error(b, rsp->type, rsp->text);
    }
}

bool
proto_compose_rsp(struct buf *b, const struct proto_rsp *rsp)
{
    size_t mark = b->len;

    return keep_or_undo(b, mark, compose_rsp(b, rsp));
}

/* ---- requests ------------------------------------------------------------ */

static bool
append_name(struct buf *b, enum proto_cmd cmd)
{
    const struct proto_cmd_info *ci = &proto_cmd_table[cmd];

    return buf_append(b, ci->name, ci->len);
}

static bool
append_noreply_crlf(struct buf *b, bool noreply)
{
    return (!noreply || buf_append(b, " noreply", 8)) && append_crlf(b);
}

static bool
compose_storage(struct buf *b, const struct proto_req *req)
{
    if (req->data.len > UINT32_MAX) {
        return false;
    }
    return append_name(b, req->cmd) && append_word(b, req->key) &&
        append_u64(b, true, req->flags) && append_i64(b, req->exptime) &&
        append_u64(b, true, req->data.len) &&
        (req->cmd != PROTO_CMD_CAS || append_u64(b, true, req->cas)) &&
        append_noreply_crlf(b, req->noreply) &&
        buf_append_str(b, req->data) && append_crlf(b);
}

static bool
compose_retrieval_req(struct buf *b, const struct proto_req *req)
{
    struct str keys = req->keys.len > 0 ? req->keys : req->key;

    return append_name(b, req->cmd) &&
        (proto_cmd_table[req->cmd].shape != PROTO_SHAPE_GAT ||
        append_i64(b, req->exptime)) &&
        (keys.len == 0 || append_word(b, keys)) && append_crlf(b);
}

bool
proto_compose_retrieval(struct buf *b, enum proto_cmd cmd, int64_t exptime,
    const struct str *keys, size_t nkeys)
{
    size_t mark = b->len;
    bool ok = proto_cmd_is_retrieval(cmd) && append_name(b, cmd) &&
        (proto_cmd_table[cmd].shape != PROTO_SHAPE_GAT ||
        append_i64(b, exptime));

    for (size_t i = 0; ok && i < nkeys; i++) {
        ok = append_word(b, keys[i]);
    }
    return keep_or_undo(b, mark, ok && append_crlf(b));
}

/* Commands after the name take: key, then a number, then noreply. */
static bool
compose_keyed(struct buf *b, const struct proto_req *req)
{
    bool ok = append_name(b, req->cmd) && append_word(b, req->key);

    switch (proto_cmd_table[req->cmd].shape) {
    case PROTO_SHAPE_ARITH:
        ok = ok && append_u64(b, true, req->delta);
        break;
    case PROTO_SHAPE_TOUCH:
        ok = ok && append_i64(b, req->exptime);
        break;
    default:
        break;
    }
    return ok && append_noreply_crlf(b, req->noreply);
}

/* "<cmd> <key>[ <datalen>][ <flags>]\r\n" and ms's data block; "mn\r\n". */
static bool
compose_meta_req(struct buf *b, const struct proto_req *req)
{
    bool ms = req->cmd == PROTO_CMD_MS;

    if (req->cmd == PROTO_CMD_MN) {
        return append_name(b, req->cmd) && append_crlf(b);
    }
    if (req->key.len == 0 || (ms && req->data.len > UINT32_MAX)) {
        return false;
    }
    return append_name(b, req->cmd) && append_word(b, req->key) &&
        (!ms || append_u64(b, true, req->data.len)) &&
        (req->args.len == 0 || append_word(b, req->args)) &&
        append_crlf(b) &&
        (!ms || (buf_append_str(b, req->data) && append_crlf(b)));
}

static bool
compose_req(struct buf *b, const struct proto_req *req)
{
    if ((unsigned)req->cmd >= PROTO_CMD_COUNT) {
        return false;
    }
    switch (proto_cmd_table[req->cmd].shape) {
    case PROTO_SHAPE_GET:
    case PROTO_SHAPE_GAT:
        return compose_retrieval_req(b, req);
    case PROTO_SHAPE_STORE:
    case PROTO_SHAPE_CAS:
        return compose_storage(b, req);
    case PROTO_SHAPE_DELETE:
    case PROTO_SHAPE_ARITH:
    case PROTO_SHAPE_TOUCH:
        return compose_keyed(b, req);
    case PROTO_SHAPE_FLUSH:
        return append_name(b, req->cmd) &&
            (!req->has_exptime || append_i64(b, req->exptime)) &&
            append_noreply_crlf(b, req->noreply);
    case PROTO_SHAPE_LEVEL:
        return append_name(b, req->cmd) && append_u64(b, true, req->level) &&
            append_noreply_crlf(b, req->noreply);
    case PROTO_SHAPE_ARGS:
        return append_name(b, req->cmd) &&
            (req->args.len == 0 || append_word(b, req->args)) &&
            append_crlf(b);
    case PROTO_SHAPE_NONE:
        return req->cmd != PROTO_CMD_NONE && append_name(b, req->cmd) &&
            append_crlf(b);
    case PROTO_SHAPE_META:
        return compose_meta_req(b, req);
    default:
        return false;
    }
}

bool
proto_compose_req(struct buf *b, const struct proto_req *req)
{
    size_t mark = b->len;

    return keep_or_undo(b, mark, compose_req(b, req));
}
