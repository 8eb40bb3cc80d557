/*
 * The meta commands (mg ms md ma me mn): their request lines as memcached
 * 1.6.18 parses them, with its exact error replies, the base64 keys of the
 * b flag, and the reply lines with their flag echoes. Bounded and
 * allocation-free like the rest of proto: flags are checked in place and
 * stay views into the caller's buffer.
 */
#include "proto/proto.h"

#include <string.h>

#include "proto/table.h"

/* ---- base64 -------------------------------------------------------------- */

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* The 6-bit value of base64 byte c, 0 for '=', -1 outside the alphabet. */
static int
b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '+') {
        return 62;
    }
    if (c == '/') {
        return 63;
    }
    return c == '=' ? 0 : -1;
}

bool
proto_b64_decode(struct str in, char *dst, size_t cap, size_t *n)
{
    size_t count = 0;
    size_t pos = 0;
    unsigned char block[4];
    unsigned pad = 0;

    /* NOTE(meta): memcached's decoder (after Jouni Malinen's) skips bytes
     * outside the alphabet and stops after the first group with '='. */
    for (size_t i = 0; i < in.len; i++) {
        count += b64_value((unsigned char)in.ptr[i]) >= 0;
    }
    if (count == 0 || count % 4 != 0 || count / 4 * 3 > cap) {
        return false;
    }
    count = 0;
    for (size_t i = 0; i < in.len; i++) {
        int v = b64_value((unsigned char)in.ptr[i]);

        if (v < 0) {
            continue;
        }
        pad += in.ptr[i] == '=';
        block[count++] = (unsigned char)v;
        if (count < 4) {
            continue;
        }
        dst[pos++] = (char)((block[0] << 2) | (block[1] >> 4));
        dst[pos++] = (char)((block[1] << 4) | (block[2] >> 2));
        dst[pos++] = (char)((block[2] << 6) | block[3]);
        count = 0;
        if (pad > 2) {
            return false;
        }
        if (pad > 0) {
            pos -= pad;
            break;
        }
    }
    *n = pos;
    return pos > 0;
}

size_t
proto_b64_encode(struct str in, char *dst, size_t cap)
{
    const unsigned char *p = (const unsigned char *)in.ptr;
    size_t n = 0;

    if ((in.len + 2) / 3 * 4 > cap) {
        return 0;
    }
    for (size_t i = 0; i < in.len; i += 3) {
        size_t left = in.len - i;
        unsigned v = (unsigned)p[i] << 16;

        v |= left > 1 ? (unsigned)p[i + 1] << 8 : 0;
        v |= left > 2 ? p[i + 2] : 0;
        dst[n++] = b64_alphabet[(v >> 18) & 63];
        dst[n++] = b64_alphabet[(v >> 12) & 63];
        dst[n++] = left > 1 ? b64_alphabet[(v >> 6) & 63] : '=';
        dst[n++] = left > 2 ? b64_alphabet[v & 63] : '=';
    }
    return n;
}

/* ---- requests ------------------------------------------------------------ */

static enum proto_status
meta_error(struct proto_req *req, enum proto_reply err, size_t skip,
    size_t *used)
{
    req->err = err;
    req->noreply = false; /* meta errors are always sent, even with q */
    *used = skip;
    return PROTO_CLIENT_ERROR;
}

/* A signed 32-bit number (memcached's safe_strtol for T N R). */
static bool
parse_i32(struct str s, int64_t *out)
{
    return util_parse_i64(s, out) && *out >= INT32_MIN && *out <= INT32_MAX;
}

static bool
key_decodes(struct str key)
{
    char tmp[PROTO_META_KEY_MAX];
    size_t n;

    return proto_b64_decode(key, tmp, sizeof(tmp), &n);
}

/* One flag word with a token: store it, or say which error it is. */
static enum proto_reply
flag_token(struct proto_req *req, char c, struct str tok)
{
    uint64_t u;

    switch (c) {
    case 'b':
        return key_decodes(req->key) ? PROTO_REPLY_NONE
                                     : PROTO_REPLY_KEY_DECODE;
    case 'N':
        return parse_i32(tok, &req->vivify) ? PROTO_REPLY_NONE
                                            : PROTO_REPLY_BAD_TOKEN;
    case 'T':
        req->has_exptime = parse_i32(tok, &req->exptime);
        return req->has_exptime ? PROTO_REPLY_NONE : PROTO_REPLY_BAD_TOKEN;
    case 'R':
        return parse_i32(tok, &req->recache) ? PROTO_REPLY_NONE
                                             : PROTO_REPLY_BAD_TOKEN;
    case 'F':
        /* memcached keeps whatever error text it had (see preparse). */
        return util_parse_u32(tok, &req->flags) ? PROTO_REPLY_NONE
                                                : PROTO_REPLY_BAD_FORMAT;
    case 'C':
        return util_parse_u64(tok, &req->cas) ? PROTO_REPLY_NONE
                                              : PROTO_REPLY_BAD_TOKEN;
    case 'J':
        return util_parse_u64(tok, &req->initial) ? PROTO_REPLY_NONE
                                                  : PROTO_REPLY_BAD_INITIAL;
    case 'D':
        if (!util_parse_u64(tok, &u)) {
            return PROTO_REPLY_BAD_DELTA_VALUE;
        }
        req->delta = u;
        return PROTO_REPLY_NONE;
    case 'M':
        if (tok.len != 1) {
            return PROTO_REPLY_M_LENGTH;
        }
        req->mode = tok.ptr[0];
        return PROTO_REPLY_NONE;
    default:
        return PROTO_REPLY_NONE;
    }
}

/* Flag letters that take no token (any bytes after them are ignored). */
static const char plain_flags[] = "lOPLkstcfvhuqI";
/* Flag letters whose token flag_token() reads. */
static const char token_flags[] = "bNTRFCJDM";

/*
 * memcached's _meta_flag_preparse(): every flag word in order. A repeated
 * letter (or a byte >= 127) and an unknown letter stop at once; a bad
 * token is remembered and the walk goes on, a later bad token replacing
 * the error (but an F error never replaces another one).
 */
static enum proto_reply
preparse(struct proto_req *req, struct str rest)
{
    enum proto_reply err = PROTO_REPLY_NONE;
    struct str w;

    req->delta = 1;
    while (proto_next_word(&rest, &w)) {
        unsigned char c = (unsigned char)w.ptr[0];
        uint64_t bit = PROTO_MFLAG(c);
        enum proto_reply e;

        if (c >= 127 || (req->mflags & bit) != 0) {
            return PROTO_REPLY_DUP_FLAG;
        }
        if (bit == 0 || (strchr(plain_flags, c) == NULL &&
            strchr(token_flags, c) == NULL)) {
            return PROTO_REPLY_INVALID_FLAG;
        }
        req->mflags |= bit;
        e = flag_token(req, (char)c, (struct str){ w.ptr + 1, w.len - 1 });
        if (e != PROTO_REPLY_NONE &&
            (e != PROTO_REPLY_BAD_FORMAT || err == PROTO_REPLY_NONE)) {
            err = e;
        }
    }
    return err;
}

/* The mode letter check of ms and ma; mg and md ignore M. */
static enum proto_reply
check_mode(const struct proto_req *req)
{
    if (req->mode == 0) {
        return PROTO_REPLY_NONE;
    }
    if (req->cmd == PROTO_CMD_MS) {
        return strchr("EAPRS", req->mode) != NULL ? PROTO_REPLY_NONE
                                                  : PROTO_REPLY_MS_MODE;
    }
    if (req->cmd == PROTO_CMD_MA) {
        return strchr("I+D-", req->mode) != NULL ? PROTO_REPLY_NONE
                                                 : PROTO_REPLY_MA_MODE;
    }
    return PROTO_REPLY_NONE;
}

static bool
opaque_ok(struct str rest)
{
    struct str w;

    while (proto_next_word(&rest, &w)) {
        if (w.ptr[0] == 'O' && w.len > PROTO_META_OPAQUE_MAX) {
            return false;
        }
    }
    return true;
}

static size_t
count_words(struct str rest)
{
    struct str w;
    size_t n = 0;

    while (proto_next_word(&rest, &w)) {
        n++;
    }
    return n;
}

/* me <key> [b]: the other words are ignored. */
static enum proto_status
parse_me(struct proto_req *req, struct str rest, size_t line_used,
    size_t *used)
{
    struct str w;

    req->args = proto_trim(rest);
    if (req->key.len > PROTO_KEY_MAX) {
        return meta_error(req, PROTO_REPLY_BAD_FORMAT, line_used, used);
    }
    if (proto_next_word(&rest, &w) && w.len == 1 && w.ptr[0] == 'b') {
        if (!key_decodes(req->key)) {
            return meta_error(req, PROTO_REPLY_BAD_FORMAT, line_used, used);
        }
        req->mflags |= PROTO_MFLAG('b');
    } else if (!proto_key_valid(req->key)) {
        return meta_error(req, PROTO_REPLY_BAD_FORMAT, line_used, used);
    }
    *used = line_used;
    return PROTO_OK;
}

/* ms: the <datalen> word. False if absent or not a length. */
static bool
parse_datalen(struct str *rest, uint32_t *bytes)
{
    struct str w;

    return proto_next_word(rest, &w) && util_parse_u32(w, bytes) &&
        *bytes <= INT32_MAX - 2;
}

/* ms: the data block after the line (line_used bytes). */
static enum proto_status
parse_block(const struct proto_limits *lim, const char *buf, size_t len,
    size_t line_used, uint32_t bytes, struct proto_req *req, size_t *used)
{
    size_t total = line_used + bytes + 2;
    const char *end;

    if (bytes > lim->max_value) {
        return meta_error(req, PROTO_REPLY_TOO_LARGE, total, used);
    }
    if (len < total) {
        req->need = total;
        req->data.ptr = NULL;
        req->data.len = bytes;  /* as for set: see proto_req.need */
        return PROTO_AGAIN;
    }
    end = buf + line_used + bytes;
    if (end[0] != '\r' || end[1] != '\n') {
        return meta_error(req, PROTO_REPLY_BAD_CHUNK, total, used);
    }
    req->data.ptr = buf + line_used;
    req->data.len = bytes;
    *used = total;
    return PROTO_OK;
}

/* Checks in memcached's order once key (and ms datalen) are known;
 * PROTO_REPLY_NONE if the line is good. */
static enum proto_reply
check_flags(struct proto_req *req, struct str rest)
{
    bool ms = req->cmd == PROTO_CMD_MS;
    enum proto_reply err;

    if (req->key.len > PROTO_KEY_MAX) {
        return PROTO_REPLY_BAD_FORMAT;
    }
    if (count_words(rest) > (size_t)PROTO_META_MAX_FLAGS - ms) {
        return req->cmd == PROTO_CMD_MG ? PROTO_REPLY_MG_TOO_MANY
                                        : PROTO_REPLY_META_TOO_MANY;
    }
    err = preparse(req, rest);
    if (err != PROTO_REPLY_NONE) {
        /* md and ma answer every flag error with one text. */
        return req->cmd == PROTO_CMD_MD || req->cmd == PROTO_CMD_MA ?
            PROTO_REPLY_BAD_FLAG : err;
    }
    if (!proto_meta_has(req, 'b') && !proto_key_valid(req->key)) {
        return PROTO_REPLY_BAD_FORMAT;
    }
    err = check_mode(req);
    if (err == PROTO_REPLY_NONE && !opaque_ok(rest)) {
        err = PROTO_REPLY_OPAQUE_LONG;
    }
    return err;
}

enum proto_status
proto_parse_meta(const struct proto_limits *lim, const char *buf, size_t len,
    size_t line_used, struct str rest, struct proto_req *req, size_t *used)
{
    uint32_t bytes = 0;
    size_t skip = line_used;
    enum proto_reply err;

    if (req->cmd == PROTO_CMD_MN) {
        *used = line_used;
        return PROTO_OK;
    }
    if (!proto_next_word(&rest, &req->key)) {
        return meta_error(req, req->cmd == PROTO_CMD_ME ?
            PROTO_REPLY_BAD_FORMAT : PROTO_REPLY_ERROR, line_used, used);
    }
    if (req->cmd == PROTO_CMD_ME) {
        return parse_me(req, rest, line_used, used);
    }
    if (req->cmd == PROTO_CMD_MS) {
        /* No trusted length: only the line can be skipped. */
        if (!parse_datalen(&rest, &bytes)) {
            return meta_error(req, PROTO_REPLY_BAD_FORMAT, line_used, used);
        }
        skip = line_used + bytes + 2;
    }
    req->args = proto_trim(rest);
    err = check_flags(req, rest);
    if (err != PROTO_REPLY_NONE) {
        return meta_error(req, err, skip, used);
    }
    if (req->cmd == PROTO_CMD_MS) {
        return parse_block(lim, buf, len, line_used, bytes, req, used);
    }
    *used = line_used;
    return PROTO_OK;
}

void
proto_meta_begin(const struct proto_req *req, struct proto_key_iter *it)
{
    it->pos = req->args.ptr;
    it->end = req->args.ptr + req->args.len;
}

struct str
proto_meta_key(const struct proto_req *req, char *dst)
{
    size_t n;

    if (!proto_meta_has(req, 'b') ||
        !proto_b64_decode(req->key, dst, PROTO_META_KEY_MAX, &n)) {
        return req->key;
    }
    return (struct str){ dst, n };
}

/* ---- replies ------------------------------------------------------------- */

static void
put_bytes(char *dst, size_t *n, const char *p, size_t len)
{
    memcpy(dst + *n, p, len);
    *n += len;
}

/* " <c><v>" */
static void
put_flag_u64(char *dst, size_t *n, char c, uint64_t v)
{
    dst[(*n)++] = ' ';
    dst[(*n)++] = c;
    *n += proto_fmt_u64(dst + *n, v);
}

static void
put_flag_i64(char *dst, size_t *n, char c, int64_t v)
{
    dst[(*n)++] = ' ';
    dst[(*n)++] = c;
    *n += proto_fmt_i64(dst + *n, v);
}

/*
 * NOTE(proto): a key is echoed as the client must read it back: in base64
 * when it was stored with b (memcached's rule), and also whenever its
 * bytes could not stand in a text key (an item vivified by an mg/ma with
 * b, which memcached echoes raw: a space or "\r\n" there would forge
 * reply text).
 */
static bool
key_echo_binary(struct str key, bool binary)
{
    return binary || !proto_key_valid(key);
}

/* " k<key>", or " k<base64> b" for a binary key. */
static void
put_key(char *dst, size_t *n, struct str key, bool binary)
{
    put_bytes(dst, n, " k", 2);
    if (!key_echo_binary(key, binary)) {
        put_bytes(dst, n, key.ptr, key.len);
        return;
    }
    *n += proto_b64_encode(key, dst + *n, PROTO_META_KEY_MAX);
    put_bytes(dst, n, " b", 2);
}

static const char meta_codes[][3] = {
    [PROTO_META_HD] = "HD",
    [PROTO_META_VA] = "VA",
    [PROTO_META_EN] = "EN",
    [PROTO_META_NF] = "NF",
    [PROTO_META_NS] = "NS",
    [PROTO_META_EX] = "EX",
};

/* The flag letters a reply echoes, by command and hit (see proto.h). */
static const char *
echoed_flags(enum proto_cmd cmd, bool hit)
{
    switch (cmd) {
    case PROTO_CMD_MG:
        return hit ? "stcflhOk" : "Ok";
    case PROTO_CMD_MS:
        return "Okc";
    case PROTO_CMD_MA:
        return hit ? "ctOk" : "Ok";
    default:
        return "Ok";
    }
}

/* One flag word of the request, echoed as the reply wants it. */
static void
put_echo(char *dst, size_t *n, struct str w, bool ttl_new,
    const struct proto_meta_info *mi)
{
    switch (w.ptr[0]) {
    case 'O':
        dst[(*n)++] = ' ';
        put_bytes(dst, n, w.ptr, w.len);
        break;
    case 'k':
        put_key(dst, n, mi->key, mi->key_binary);
        break;
    case 'c':
        put_flag_u64(dst, n, 'c', mi->cas);
        break;
    case 's':
        put_flag_u64(dst, n, 's', mi->size);
        break;
    case 't':
        put_flag_i64(dst, n, 't', ttl_new ? mi->ttl_after : mi->ttl_before);
        break;
    case 'f':
        put_flag_u64(dst, n, 'f', mi->flags);
        break;
    case 'l':
        if (mi->last_access >= 0) {
            put_flag_i64(dst, n, 'l', mi->last_access);
        }
        break;
    case 'h':
        put_flag_u64(dst, n, 'h', mi->fetched);
        break;
    default:
        break;
    }
}

size_t
proto_compose_meta(char *dst, const struct proto_req *req,
    const struct proto_meta_info *mi)
{
    const char *echo = echoed_flags(req->cmd, mi->hit);
    struct proto_key_iter it;
    struct str w;
    bool ttl_new = false;
    size_t n = 0;

    put_bytes(dst, &n, meta_codes[mi->code], 2);
    if (mi->code == PROTO_META_VA) {
        dst[n++] = ' ';
        n += proto_fmt_u64(dst + n, mi->size);
    }
    proto_meta_begin(req, &it);
    while (proto_keys_next(&it, &w)) {
        /* memcached applies T (and N on a new item) where it meets them,
         * so a t before them shows the old TTL. */
        if (w.ptr[0] == 'T' || (w.ptr[0] == 'N' && mi->created)) {
            ttl_new = true;
        } else if (strchr(echo, w.ptr[0]) != NULL) {
            put_echo(dst, &n, w, ttl_new, mi);
        }
    }
    if (req->cmd == PROTO_CMD_MG && mi->hit) {
        if (mi->token_sent) {
            put_bytes(dst, &n, " Z", 2);
        }
        if (mi->stale) {
            put_bytes(dst, &n, " X", 2);
        }
        if (mi->won) {
            put_bytes(dst, &n, " W", 2);
        }
    }
    put_bytes(dst, &n, "\r\n", 2);
    return n;
}

size_t
proto_compose_me(char *dst, struct str key, bool key_binary, int64_t exp,
    uint64_t cas, bool fetched, uint64_t size)
{
    size_t n = 0;

    put_bytes(dst, &n, "ME ", 3);
    if (key_echo_binary(key, key_binary)) {
        n += proto_b64_encode(key, dst + n, PROTO_META_KEY_MAX);
    } else {
        put_bytes(dst, &n, key.ptr, key.len);
    }
    put_bytes(dst, &n, " exp=", 5);
    n += proto_fmt_i64(dst + n, exp);
    put_bytes(dst, &n, " cas=", 5);
    n += proto_fmt_u64(dst + n, cas);
    put_bytes(dst, &n, fetched ? " fetch=yes" : " fetch=no", fetched ? 10 : 9);
    put_bytes(dst, &n, " size=", 6);
    n += proto_fmt_u64(dst + n, size);
    put_bytes(dst, &n, "\r\n", 2);
    return n;
}
