/*
 * Reply matching, pure: which response elements can answer which request,
 * and which one completes it. Backend replies are matched to requests by
 * order alone, so an element that cannot answer the request at the head
 * of the queue means the stream is out of step: the proxy then closes the
 * backend connection rather than hand a reply to the wrong client.
 *
 * Order alone is not enough: a backend can echo bytes a client chose (a
 * meta k flag returns the key, memcached 1.6.18 even a binary key raw),
 * so meta echoes are checked against the request too.
 *
 * Meta quiet mode (q) would break that: a quiet node sends nothing for
 * some outcomes. So the proxy sends meta requests without q and drops,
 * itself, the replies q hides (memcached 1.6.18's rules, as the node's).
 */
#include "proxy/proxy_int.h"

#include <string.h>

static bool
is_error(enum proto_rsp_type t)
{
    return t == PROTO_RSP_ERROR || t == PROTO_RSP_CLIENT_ERROR ||
        t == PROTO_RSP_SERVER_ERROR;
}

/* The single-element answers each non-retrieval command may get. */
static bool
single_ok(enum proto_cmd cmd, enum proto_rsp_type t)
{
    switch (cmd) {
    case PROTO_CMD_SET:
    case PROTO_CMD_ADD:
    case PROTO_CMD_REPLACE:
    case PROTO_CMD_APPEND:
    case PROTO_CMD_PREPEND:
        return t == PROTO_RSP_STORED || t == PROTO_RSP_NOT_STORED;
    case PROTO_CMD_CAS:
        return t == PROTO_RSP_STORED || t == PROTO_RSP_EXISTS ||
            t == PROTO_RSP_NOT_FOUND || t == PROTO_RSP_NOT_STORED;
    case PROTO_CMD_DELETE:
        return t == PROTO_RSP_DELETED || t == PROTO_RSP_NOT_FOUND;
    case PROTO_CMD_INCR:
    case PROTO_CMD_DECR:
        return t == PROTO_RSP_NUMBER || t == PROTO_RSP_NOT_FOUND;
    case PROTO_CMD_TOUCH:
        return t == PROTO_RSP_TOUCHED || t == PROTO_RSP_NOT_FOUND;
    case PROTO_CMD_FLUSH_ALL:
        return t == PROTO_RSP_OK;
    case PROTO_CMD_VERSION:
        return t == PROTO_RSP_VERSION;
    case PROTO_CMD_MG:
        return t == PROTO_RSP_VA || t == PROTO_RSP_HD || t == PROTO_RSP_EN;
    case PROTO_CMD_MS:
        return t == PROTO_RSP_HD || t == PROTO_RSP_NS ||
            t == PROTO_RSP_EX || t == PROTO_RSP_NF;
    case PROTO_CMD_MD:
        return t == PROTO_RSP_HD || t == PROTO_RSP_NF || t == PROTO_RSP_EX;
    case PROTO_CMD_MA:
        return t == PROTO_RSP_HD || t == PROTO_RSP_VA ||
            t == PROTO_RSP_NF || t == PROTO_RSP_NS || t == PROTO_RSP_EX ||
            t == PROTO_RSP_EN;
    case PROTO_CMD_ME:
        return t == PROTO_RSP_ME || t == PROTO_RSP_EN;
    default:
        return false;
    }
}

bool
proxy_quiet_hides(enum proto_cmd cmd, enum proto_rsp_type t)
{
    switch (cmd) {
    case PROTO_CMD_MG:
        return t == PROTO_RSP_EN;
    case PROTO_CMD_MS:
    case PROTO_CMD_MD:
        return t == PROTO_RSP_HD;
    case PROTO_CMD_MA:
        return t == PROTO_RSP_HD || t == PROTO_RSP_VA;
    default:
        return false;
    }
}

enum pmatch
proxy_match(enum proto_cmd cmd, enum proto_rsp_type t)
{
    if (proto_cmd_is_retrieval(cmd)) {
        if (t == PROTO_RSP_VALUE) {
            return PMATCH_MORE;
        }
        return t == PROTO_RSP_END || is_error(t) ? PMATCH_END : PMATCH_BAD;
    }
    if (cmd == PROTO_CMD_NONE || cmd >= PROTO_CMD_COUNT) {
        return PMATCH_BAD;
    }
    return single_ok(cmd, t) || is_error(t) ? PMATCH_END : PMATCH_BAD;
}

/* The flag word starting with `c` in meta reply flags `text`, if any. */
static bool
find_flag(struct str text, char c, struct str *word)
{
    struct proto_key_iter it = { text.ptr, text.ptr + text.len };

    while (proto_keys_next(&it, word)) {
        if (word->len > 0 && word->ptr[0] == c) {
            return true;
        }
    }
    return false;
}

/* Does echoed key `echo` name `key`? With b it is base64 of the key. */
static bool
key_echo_ok(struct str echo, bool b64, struct str key)
{
    char dec[PROTO_META_KEY_MAX];
    size_t n;

    if (!b64) {
        return str_eq(echo, key);
    }
    return proto_b64_decode(echo, dec, sizeof(dec), &n) &&
        str_eq((struct str){ dec, n }, key);
}

/*
 * memcached 1.6.18 echoes a binary key raw, spaces and all: does the
 * reply line hold the whole key right after this 'k' (and then a space
 * or the end of the line)? Then walk on after it. A key with a '\n' in
 * it never fits: the line ended at that byte.
 */
static bool
raw_key_at(struct proto_key_iter *it, struct str word, struct str key)
{
    const char *k = word.ptr + 1;

    if ((size_t)(it->end - k) < key.len || memcmp(k, key.ptr, key.len) != 0 ||
        (k + key.len < it->end && k[key.len] != ' ')) {
        return false;
    }
    it->pos = k + key.len;
    return true;
}

bool
proxy_meta_echo_ok(const struct proto_rsp *rsp, struct str key,
    struct str opaque)
{
    struct proto_key_iter it = { rsp->text.ptr,
        rsp->text.ptr + rsp->text.len };
    struct str word, b;
    bool b64 = find_flag(rsp->text, 'b', &b) && b.len == 1;
    uint64_t size;

    if (rsp->type == PROTO_RSP_ME) {
        /* "ME <key> ...": the key as sent (base64 or not) or decoded. */
        return proto_keys_next(&it, &word) &&
            (str_eq(word, key) || key_echo_ok(word, true, key));
    }
    while (proto_keys_next(&it, &word)) {
        switch (word.ptr[0]) {
        case 'k':
            if (raw_key_at(&it, word, key)) {
                break;
            }
            if (!key_echo_ok((struct str){ word.ptr + 1, word.len - 1 },
                b64, key)) {
                return false;
            }
            break;
        case 'O':
            if (!str_eq(word, opaque)) {
                return false;
            }
            break;
        case 's':
            if (rsp->type == PROTO_RSP_VA && (!util_parse_u64((struct str){
                word.ptr + 1, word.len - 1 }, &size) ||
                size != rsp->data.len)) {
                return false;
            }
            break;
        default:
            break;
        }
    }
    return true;
}

bool
proxy_meta_line_ok(struct str line, struct str key, struct str opaque)
{
    struct proto_key_iter it = { line.ptr, line.ptr + line.len };
    struct proto_rsp rsp;
    struct str code, size;
    uint64_t n = 0;

    memset(&rsp, 0, sizeof(rsp));
    if (!proto_keys_next(&it, &code) || code.len != 2) {
        return true;    /* not a meta reply line: the parser decides */
    }
    rsp.type = PROTO_RSP_HD;
    if (memcmp(code.ptr, "VA", 2) == 0) {
        if (!proto_keys_next(&it, &size) || !util_parse_u64(size, &n)) {
            return true;
        }
        rsp.type = PROTO_RSP_VA;
        rsp.data.len = (size_t)n;
    } else if (memcmp(code.ptr, "ME", 2) == 0) {
        rsp.type = PROTO_RSP_ME;
    }
    rsp.text.ptr = it.pos;
    rsp.text.len = (size_t)(it.end - it.pos);
    return proxy_meta_echo_ok(&rsp, key, opaque);
}
