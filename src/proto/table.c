/*
 * The protocol's one table: command names with their shapes and word
 * counts, every fixed reply line, and the response status words. Parsers
 * and composers read these; nothing else spells a command or reply.
 *
 * Replies were checked against memcached 1.6.18 (probed over a socket).
 * NOTE(proto): where ringcache deliberately differs from memcached 1.6.18:
 *  - Numbers are strict: no '+', no trailing "\r" inside a word, and
 *    values that overflow their width (flags and bytes: 32 bits, cas and
 *    delta: 64, exptime: signed 64) are "CLIENT_ERROR bad command line
 *    format"; memcached truncates flags 4294967296 to 0 and bytes
 *    4294967297 to 1. Verbosity levels past 32 bits are likewise errors.
 *  - Keys with control characters (including tab and DEL) are rejected;
 *    memcached stores them.
 *  - When a storage line is bad but its <bytes> word is a valid length
 *    (bad key, flags, exptime or cas), the data block is swallowed along
 *    with the line; memcached skips only the line and then runs the data
 *    as a command (one extra "ERROR" per bad request, and a way to smuggle
 *    commands inside values).
 *  - A line longer than the limit gets "CLIENT_ERROR line too long" before
 *    the close; memcached closes without a word, and only when 2048 bytes
 *    sit in its buffer without a newline (a longer line that arrives in
 *    one read is run). Here the verdict never depends on how bytes were
 *    split into reads. gat/gats lines get the same long-line allowance as
 *    get/gets, and that allowance is bounded (proto_limits.max_key_line)
 *    where memcached's is not.
 *  - Every bad get is answered; memcached 1.6.18 drops the reply to the
 *    second of two bad retrieval lines in a row (a client then waits).
 *  - Meta commands (meta.c) follow the same rules: strict numbers (T+5,
 *    T99999999999 and F4294967296 are errors; memcached takes the first
 *    two and truncates the third), keys without control characters, and
 *    an ms whose <datalen> is valid has its data block swallowed with any
 *    error (memcached runs it as a command after a too-long key or too
 *    many flags). An over-long opaque is refused before anything is done;
 *    memcached's mg and ma first run the command (N, T take effect) and
 *    then answer the error. E (explicit CAS) and md x are refused with
 *    "invalid flag" as 1.6.18 does (they came in later releases).
 */
#include "proto/table.h"

#include <string.h>

#define CMD(n, shape, lo, hi) { n, sizeof(n) - 1, PROTO_SHAPE_##shape, lo, hi }

const struct proto_cmd_info proto_cmd_table[PROTO_CMD_COUNT] = {
    [PROTO_CMD_NONE] = CMD("", NONE, 1, 0),
    [PROTO_CMD_GET] = CMD("get", GET, 2, 0),
    [PROTO_CMD_GETS] = CMD("gets", GET, 2, 0),
    [PROTO_CMD_GAT] = CMD("gat", GAT, 2, 0),
    [PROTO_CMD_GATS] = CMD("gats", GAT, 2, 0),
    [PROTO_CMD_SET] = CMD("set", STORE, 5, 6),
    [PROTO_CMD_ADD] = CMD("add", STORE, 5, 6),
    [PROTO_CMD_REPLACE] = CMD("replace", STORE, 5, 6),
    [PROTO_CMD_APPEND] = CMD("append", STORE, 5, 6),
    [PROTO_CMD_PREPEND] = CMD("prepend", STORE, 5, 6),
    [PROTO_CMD_CAS] = CMD("cas", CAS, 6, 7),
    [PROTO_CMD_DELETE] = CMD("delete", DELETE, 2, 4),
    [PROTO_CMD_INCR] = CMD("incr", ARITH, 3, 4),
    [PROTO_CMD_DECR] = CMD("decr", ARITH, 3, 4),
    [PROTO_CMD_TOUCH] = CMD("touch", TOUCH, 3, 4),
    [PROTO_CMD_FLUSH_ALL] = CMD("flush_all", FLUSH, 1, 3),
    [PROTO_CMD_STATS] = CMD("stats", ARGS, 1, 0),
    [PROTO_CMD_VERSION] = CMD("version", NONE, 1, 0),
    [PROTO_CMD_VERBOSITY] = CMD("verbosity", LEVEL, 2, 3),
    [PROTO_CMD_QUIT] = CMD("quit", NONE, 1, 0),
    [PROTO_CMD_SHUTDOWN] = CMD("shutdown", ARGS, 1, 0),
    [PROTO_CMD_LRU_CRAWLER] = CMD("lru_crawler", ARGS, 1, 0),
    [PROTO_CMD_SLABS] = CMD("slabs", ARGS, 1, 0),
    [PROTO_CMD_MG] = CMD("mg", META, 1, 0),
    [PROTO_CMD_MS] = CMD("ms", META, 1, 0),
    [PROTO_CMD_MD] = CMD("md", META, 1, 0),
    [PROTO_CMD_MA] = CMD("ma", META, 1, 0),
    [PROTO_CMD_MN] = CMD("mn", META, 1, 0),
    [PROTO_CMD_ME] = CMD("me", META, 1, 0),
};

#define REPLY(s) { s "\r\n", sizeof(s "\r\n") - 1 }

static const struct str reply_table[PROTO_REPLY_COUNT] = {
    [PROTO_REPLY_NONE] = { "", 0 },
    [PROTO_REPLY_CRLF] = REPLY(""),
    [PROTO_REPLY_END] = REPLY("END"),
    [PROTO_REPLY_STORED] = REPLY("STORED"),
    [PROTO_REPLY_NOT_STORED] = REPLY("NOT_STORED"),
    [PROTO_REPLY_EXISTS] = REPLY("EXISTS"),
    [PROTO_REPLY_NOT_FOUND] = REPLY("NOT_FOUND"),
    [PROTO_REPLY_DELETED] = REPLY("DELETED"),
    [PROTO_REPLY_TOUCHED] = REPLY("TOUCHED"),
    [PROTO_REPLY_OK] = REPLY("OK"),
    [PROTO_REPLY_RESET] = REPLY("RESET"),
    [PROTO_REPLY_ERROR] = REPLY("ERROR"),
    [PROTO_REPLY_BAD_FORMAT] = REPLY("CLIENT_ERROR bad command line format"),
    [PROTO_REPLY_BAD_CHUNK] = REPLY("CLIENT_ERROR bad data chunk"),
    [PROTO_REPLY_TOO_LARGE] = REPLY("SERVER_ERROR object too large for cache"),
    [PROTO_REPLY_BAD_EXPTIME] = REPLY("CLIENT_ERROR invalid exptime argument"),
    [PROTO_REPLY_BAD_DELTA] =
        REPLY("CLIENT_ERROR invalid numeric delta argument"),
    [PROTO_REPLY_DELETE_USAGE] = REPLY("CLIENT_ERROR bad command line format."
        "  Usage: delete <key> [noreply]"),
    [PROTO_REPLY_LINE_TOO_LONG] = REPLY("CLIENT_ERROR line too long"),
    [PROTO_REPLY_NON_NUMERIC] = REPLY("CLIENT_ERROR cannot increment or "
        "decrement non-numeric value"),
    [PROTO_REPLY_OUT_OF_MEMORY] =
        REPLY("SERVER_ERROR out of memory storing object"),
    [PROTO_REPLY_SHUTDOWN_OFF] = REPLY("ERROR: shutdown not enabled"),
    [PROTO_REPLY_MN] = REPLY("MN"),
    [PROTO_REPLY_META_HD] = REPLY("HD"),
    [PROTO_REPLY_META_EN] = REPLY("EN"),
    [PROTO_REPLY_META_NF] = REPLY("NF"),
    [PROTO_REPLY_META_NS] = REPLY("NS"),
    [PROTO_REPLY_META_EX] = REPLY("EX"),
    [PROTO_REPLY_BAD_TOKEN] =
        REPLY("CLIENT_ERROR bad token in command line format"),
    [PROTO_REPLY_INVALID_FLAG] = REPLY("CLIENT_ERROR invalid flag"),
    [PROTO_REPLY_DUP_FLAG] = REPLY("CLIENT_ERROR duplicate flag"),
    [PROTO_REPLY_BAD_FLAG] = REPLY("CLIENT_ERROR invalid or duplicate flag"),
    [PROTO_REPLY_MG_TOO_MANY] =
        REPLY("CLIENT_ERROR options flags are too long"),
    [PROTO_REPLY_META_TOO_MANY] = REPLY("CLIENT_ERROR options flags too long"),
    [PROTO_REPLY_OPAQUE_LONG] = REPLY("CLIENT_ERROR opaque token too long"),
    [PROTO_REPLY_M_LENGTH] = REPLY("CLIENT_ERROR incorrect length for M token"),
    [PROTO_REPLY_MS_MODE] = REPLY("CLIENT_ERROR invalid mode for ms M token"),
    [PROTO_REPLY_MA_MODE] = REPLY("CLIENT_ERROR invalid mode for ma M token"),
    [PROTO_REPLY_BAD_INITIAL] =
        REPLY("CLIENT_ERROR invalid numeric initial value"),
    [PROTO_REPLY_BAD_DELTA_VALUE] =
        REPLY("CLIENT_ERROR invalid numeric delta value"),
    [PROTO_REPLY_KEY_DECODE] = REPLY("CLIENT_ERROR error decoding key"),
    [PROTO_REPLY_ARITH_OOM] = REPLY("SERVER_ERROR out of memory"),
    [PROTO_REPLY_VIVIFY_OOM] =
        REPLY("SERVER_ERROR Out of memory allocating new item"),
    [PROTO_REPLY_BADCLASS] = REPLY("BADCLASS invalid class id"),
    [PROTO_REPLY_CRAWLER_OFF] = REPLY("CLIENT_ERROR lru crawler disabled"),
    [PROTO_REPLY_CRAWLER_SLEEP] =
        REPLY("CLIENT_ERROR sleep must be one second or less"),
    [PROTO_REPLY_BAD_SLAB] = REPLY("CLIENT_ERROR Illegal slab id"),
    [PROTO_REPLY_BAD_LINE] = REPLY("CLIENT_ERROR bad command line"),
    [PROTO_REPLY_METADUMP_OFF] = REPLY("ERROR metadump not allowed"),
    [PROTO_REPLY_CACHEDUMP_OFF] =
        REPLY("CLIENT_ERROR stats cachedump not allowed"),
};

#define WORD(s) { s, sizeof(s) - 1 }

/* The status words a response line may consist of, by response type. */
static const struct str rsp_word_table[PROTO_RSP_COUNT] = {
    [PROTO_RSP_END] = WORD("END"),
    [PROTO_RSP_STORED] = WORD("STORED"),
    [PROTO_RSP_NOT_STORED] = WORD("NOT_STORED"),
    [PROTO_RSP_EXISTS] = WORD("EXISTS"),
    [PROTO_RSP_NOT_FOUND] = WORD("NOT_FOUND"),
    [PROTO_RSP_DELETED] = WORD("DELETED"),
    [PROTO_RSP_TOUCHED] = WORD("TOUCHED"),
    [PROTO_RSP_OK] = WORD("OK"),
    [PROTO_RSP_RESET] = WORD("RESET"),
    [PROTO_RSP_MN] = WORD("MN"),
};

void
proto_limits_default(struct proto_limits *lim)
{
    lim->max_line = PROTO_DEFAULT_MAX_LINE;
    lim->max_key_line = PROTO_DEFAULT_MAX_KEY_LINE;
    lim->max_value = PROTO_DEFAULT_MAX_VALUE;
}

struct str
proto_reply_str(enum proto_reply r)
{
    if ((unsigned)r >= PROTO_REPLY_COUNT) {
        return reply_table[PROTO_REPLY_NONE];
    }
    return reply_table[r];
}

const char *
proto_cmd_name(enum proto_cmd cmd)
{
    if ((unsigned)cmd >= PROTO_CMD_COUNT) {
        return "";
    }
    return proto_cmd_table[cmd].name;
}

bool
proto_cmd_is_storage(enum proto_cmd cmd)
{
    return (unsigned)cmd < PROTO_CMD_COUNT &&
        (proto_cmd_table[cmd].shape == PROTO_SHAPE_STORE ||
        proto_cmd_table[cmd].shape == PROTO_SHAPE_CAS);
}

bool
proto_cmd_is_retrieval(enum proto_cmd cmd)
{
    return (unsigned)cmd < PROTO_CMD_COUNT &&
        (proto_cmd_table[cmd].shape == PROTO_SHAPE_GET ||
        proto_cmd_table[cmd].shape == PROTO_SHAPE_GAT);
}

enum proto_cmd
proto_cmd_lookup(const char *name, size_t len)
{
    /* NOTE(proto): a linear walk that first compares the length and first
     * byte; with 27 entries it beats hashing, and `get` is found first. */
    if (len < 2 || len > 11) {
        return PROTO_CMD_NONE;
    }
    for (unsigned c = PROTO_CMD_NONE + 1; c < PROTO_CMD_COUNT; c++) {
        const struct proto_cmd_info *ci = &proto_cmd_table[c];
        if (ci->len == len && ci->name[0] == name[0] &&
            memcmp(ci->name, name, len) == 0) {
            return (enum proto_cmd)c;
        }
    }
    return PROTO_CMD_NONE;
}

enum proto_rsp_type
proto_rsp_word_lookup(struct str line)
{
    for (unsigned t = PROTO_RSP_NONE + 1; t < PROTO_RSP_COUNT; t++) {
        if (rsp_word_table[t].len > 0 && str_eq(rsp_word_table[t], line)) {
            return (enum proto_rsp_type)t;
        }
    }
    return PROTO_RSP_NONE;
}

struct str
proto_rsp_word(enum proto_rsp_type type)
{
    static const struct str empty = { "", 0 };

    if ((unsigned)type >= PROTO_RSP_COUNT || rsp_word_table[type].len == 0) {
        return empty;
    }
    return rsp_word_table[type];
}

size_t
proto_fmt_u64(char *dst, uint64_t v)
{
    size_t n = 1;

    /* Count the digits, then write them from the right: no reversal. */
    for (uint64_t t = v; t >= 10; t /= 10) {
        n++;
    }
    for (size_t i = n; i > 0; i--) {
        dst[i - 1] = (char)('0' + v % 10);
        v /= 10;
    }
    return n;
}

size_t
proto_fmt_i64(char *dst, int64_t v)
{
    if (v >= 0) {
        return proto_fmt_u64(dst, (uint64_t)v);
    }
    dst[0] = '-';
    /* NOTE(proto): negate in unsigned arithmetic so INT64_MIN is fine. */
    return 1 + proto_fmt_u64(dst + 1, (uint64_t)0 - (uint64_t)v);
}
