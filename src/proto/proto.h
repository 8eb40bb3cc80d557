/*
 * proto: the memcached text protocol, both directions, no I/O.
 *
 * Requests: proto_parse_req() turns the front of a byte buffer into one
 * struct proto_req (a server's view). Responses: proto_parse_rsp() turns
 * the front of a buffer into one response element (a client's or proxy's
 * view). Both are incremental and stateless: hand them whatever is
 * buffered; they either take a whole element, say PROTO_AGAIN (nothing
 * consumed), or name an error. Keys, values and texts in the results are
 * views into the caller's buffer: valid until the caller moves or frees
 * it (keep offsets, ptr - base, across a buffer move).
 *
 * The composers write replies and requests. Value bytes never pass
 * through them on the node's reply path: proto_compose_value() writes only
 * the "VALUE ..." header into a small array, so a reply is an iovec of
 * header, item bytes, and proto_reply_str(PROTO_REPLY_CRLF).
 *
 * Uses only util. Never allocates except through struct buf, never logs.
 */
#ifndef PROTO_PROTO_H
#define PROTO_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

/* ---- limits -------------------------------------------------------------- */

/* memcached's KEY_MAX_LENGTH. */
#define PROTO_KEY_MAX 250
/* memcached closes a connection whose command line passes 2048 bytes. */
#define PROTO_DEFAULT_MAX_LINE 2048
/* Retrieval lines (get/gets/gat/gats) carry many keys: memcached lets them
 * grow without bound; we stop at 256 KiB (over 1000 keys of 250 bytes). */
#define PROTO_DEFAULT_MAX_KEY_LINE (256 * 1024)
/* memcached's default item size limit (-I 1m). */
#define PROTO_DEFAULT_MAX_VALUE (1024 * 1024)

/*
 * Limits checked while parsing, before anything is read or allocated.
 * A line counts every byte before its '\n' (a trailing '\r' included).
 */
struct proto_limits {
    size_t max_line;     /* any command or response line */
    size_t max_key_line; /* get/gets/gat/gats lines (>= max_line) */
    uint32_t max_value;  /* data block bytes; more is "too large" */
};

/* Fill `lim` with the defaults above. */
void proto_limits_default(struct proto_limits *lim);

/* ---- results ------------------------------------------------------------- */

/*
 * What a parse call did. The size_t *used out-parameter means:
 *   PROTO_OK            bytes of the element; consume them.
 *   PROTO_AGAIN         0; nothing consumed, call again with more bytes.
 *   PROTO_CLIENT_ERROR  bytes to skip; MAY EXCEED the bytes given (an
 *                       oversized value is swallowed as it arrives). Send
 *                       the error reply (unless noreply), skip, carry on.
 *   PROTO_FATAL         0; framing is lost. Send the error reply (requests)
 *                       and close the connection.
 */
enum proto_status {
    PROTO_OK = 0,
    PROTO_AGAIN,
    PROTO_CLIENT_ERROR,
    PROTO_FATAL,
};

/*
 * Every fixed reply line a server sends, "\r\n" included. One table
 * (table.c) holds the text; proto_reply_str() returns it.
 */
enum proto_reply {
    PROTO_REPLY_NONE = 0,       /* "" */
    PROTO_REPLY_CRLF,           /* "\r\n" (ends a VALUE data block) */
    PROTO_REPLY_END,
    PROTO_REPLY_STORED,
    PROTO_REPLY_NOT_STORED,
    PROTO_REPLY_EXISTS,
    PROTO_REPLY_NOT_FOUND,
    PROTO_REPLY_DELETED,
    PROTO_REPLY_TOUCHED,
    PROTO_REPLY_OK,
    PROTO_REPLY_RESET,          /* "stats reset" */
    PROTO_REPLY_ERROR,          /* unknown command, wrong word count */
    PROTO_REPLY_BAD_FORMAT,     /* CLIENT_ERROR bad command line format */
    PROTO_REPLY_BAD_CHUNK,      /* CLIENT_ERROR bad data chunk */
    PROTO_REPLY_TOO_LARGE,      /* SERVER_ERROR object too large for cache */
    PROTO_REPLY_BAD_EXPTIME,    /* CLIENT_ERROR invalid exptime argument */
    PROTO_REPLY_BAD_DELTA,      /* CLIENT_ERROR invalid numeric delta ... */
    PROTO_REPLY_DELETE_USAGE,   /* CLIENT_ERROR ... Usage: delete <key> ... */
    PROTO_REPLY_LINE_TOO_LONG,  /* CLIENT_ERROR line too long (then close) */
    PROTO_REPLY_NON_NUMERIC,    /* CLIENT_ERROR cannot increment or ... */
    PROTO_REPLY_OUT_OF_MEMORY,  /* SERVER_ERROR out of memory storing object */
    PROTO_REPLY_SHUTDOWN_OFF,   /* ERROR: shutdown not enabled */
    /* Meta replies: status words (flags follow them; see
     * proto_compose_meta) and the meta errors of memcached 1.6.18. */
    PROTO_REPLY_MN,             /* "MN": the answer to mn */
    PROTO_REPLY_META_HD,        /* "HD" */
    PROTO_REPLY_META_EN,        /* "EN" */
    PROTO_REPLY_META_NF,        /* "NF" */
    PROTO_REPLY_META_NS,        /* "NS" */
    PROTO_REPLY_META_EX,        /* "EX" */
    PROTO_REPLY_BAD_TOKEN,      /* CLIENT_ERROR bad token in command ... */
    PROTO_REPLY_INVALID_FLAG,   /* CLIENT_ERROR invalid flag */
    PROTO_REPLY_DUP_FLAG,       /* CLIENT_ERROR duplicate flag */
    PROTO_REPLY_BAD_FLAG,       /* CLIENT_ERROR invalid or duplicate flag */
    PROTO_REPLY_MG_TOO_MANY,    /* CLIENT_ERROR options flags are too long */
    PROTO_REPLY_META_TOO_MANY,  /* CLIENT_ERROR options flags too long */
    PROTO_REPLY_OPAQUE_LONG,    /* CLIENT_ERROR opaque token too long */
    PROTO_REPLY_M_LENGTH,       /* CLIENT_ERROR incorrect length for M ... */
    PROTO_REPLY_MS_MODE,        /* CLIENT_ERROR invalid mode for ms M token */
    PROTO_REPLY_MA_MODE,        /* CLIENT_ERROR invalid mode for ma M token */
    PROTO_REPLY_BAD_INITIAL,    /* CLIENT_ERROR invalid numeric initial ... */
    PROTO_REPLY_BAD_DELTA_VALUE,/* CLIENT_ERROR invalid numeric delta value */
    PROTO_REPLY_KEY_DECODE,     /* CLIENT_ERROR error decoding key */
    PROTO_REPLY_ARITH_OOM,      /* SERVER_ERROR out of memory (incr/ma) */
    PROTO_REPLY_VIVIFY_OOM,     /* SERVER_ERROR Out of memory allocating ... */
    /* lru_crawler's replies (memcached 1.6.18). */
    PROTO_REPLY_BADCLASS,       /* BADCLASS invalid class id */
    PROTO_REPLY_CRAWLER_OFF,    /* CLIENT_ERROR lru crawler disabled */
    PROTO_REPLY_CRAWLER_SLEEP,  /* CLIENT_ERROR sleep must be one second ... */
    PROTO_REPLY_BAD_SLAB,       /* CLIENT_ERROR Illegal slab id */
    PROTO_REPLY_BAD_LINE,       /* CLIENT_ERROR bad command line */
    PROTO_REPLY_METADUMP_OFF,   /* ERROR metadump not allowed (-X) */
    PROTO_REPLY_CACHEDUMP_OFF,  /* CLIENT_ERROR stats cachedump not ... */
    PROTO_REPLY_COUNT
};

/* The bytes of `r`, "\r\n" included; static, never NULL. */
struct str proto_reply_str(enum proto_reply r);

/* ---- requests ------------------------------------------------------------ */

enum proto_cmd {
    PROTO_CMD_NONE = 0,
    PROTO_CMD_GET,
    PROTO_CMD_GETS,
    PROTO_CMD_GAT,
    PROTO_CMD_GATS,
    PROTO_CMD_SET,
    PROTO_CMD_ADD,
    PROTO_CMD_REPLACE,
    PROTO_CMD_APPEND,
    PROTO_CMD_PREPEND,
    PROTO_CMD_CAS,
    PROTO_CMD_DELETE,
    PROTO_CMD_INCR,
    PROTO_CMD_DECR,
    PROTO_CMD_TOUCH,
    PROTO_CMD_FLUSH_ALL,
    PROTO_CMD_STATS,
    PROTO_CMD_VERSION,
    PROTO_CMD_VERBOSITY,
    PROTO_CMD_QUIT,
    PROTO_CMD_SHUTDOWN,
    PROTO_CMD_LRU_CRAWLER,
    PROTO_CMD_SLABS,      /* slabs reassign|automove: args, as stats */
    /* Meta commands: see "meta commands" below. */
    PROTO_CMD_MG,
    PROTO_CMD_MS,
    PROTO_CMD_MD,
    PROTO_CMD_MA,
    PROTO_CMD_MN,
    PROTO_CMD_ME,
    PROTO_CMD_COUNT
};

/* The command's wire name ("get", "flush_all"; "" for NONE). */
const char *proto_cmd_name(enum proto_cmd cmd);
/* True for set add replace append prepend cas (a data block follows). */
bool proto_cmd_is_storage(enum proto_cmd cmd);
/* True for get gets gat gats (any number of keys). */
bool proto_cmd_is_retrieval(enum proto_cmd cmd);

/*
 * Why a request was PROTO_FATAL (proto_req.fatal), for the server's log.
 * NOTE(proto): memcached 1.6.18 closes without a word on an HTTP request
 * line (an unknown command whose last word starts with "HTTP/": a guard
 * against browsers and SSRF) and, when it does not speak the binary
 * protocol, on a first byte 0x80 (its magic); so does this parser, so that
 * node and proxy both close at once and binary clients fail over instead
 * of waiting for their timeout.
 */
enum proto_fatal {
    PROTO_FATAL_NONE = 0,
    PROTO_FATAL_LINE_TOO_LONG,  /* err: CLIENT_ERROR line too long */
    PROTO_FATAL_BINARY,         /* byte 0x80 where a command starts */
    PROTO_FATAL_HTTP,           /* an HTTP request line */
};

/*
 * One parsed request. Which fields mean something depends on `cmd`:
 *   get gets gat gats    keys/nkeys (key = first key); gat/gats: exptime.
 *                        gat/gats may have nkeys == 0 (memcached: "END").
 *   set add replace append prepend cas
 *                        key flags exptime data (cas: cas), noreply
 *   delete               key, noreply
 *   incr decr            key delta, noreply
 *   touch                key exptime, noreply
 *   flush_all            has_exptime/exptime (the delay), noreply
 *   verbosity            level, noreply
 *   stats shutdown lru_crawler slabs
 *                        args: the rest of the line, trimmed ("" if none;
 *                        e.g. "slabs", "metadump all", "automove 1").
 *                        The node decides.
 *   version quit         nothing
 *   mg ms md ma me mn    see "meta commands" below
 * Negative exptimes are legal (memcached: already expired).
 */
struct proto_req {
    enum proto_cmd cmd;
    bool noreply;         /* also set on a client error: stay silent */
    bool has_exptime;
    uint32_t nkeys;
    struct str key;
    struct str keys;      /* retrieval: the key list; see proto_keys_next */
    struct str data;      /* storage: value bytes, without the "\r\n" */
    struct str args;
    uint32_t flags;
    uint32_t level;
    int64_t exptime;
    uint64_t cas;
    uint64_t delta;
    uint64_t mflags;      /* meta: one bit per flag letter, PROTO_MFLAG */
    int64_t vivify;       /* meta N<ttl> */
    int64_t recache;      /* meta R<ttl> */
    uint64_t initial;     /* meta J<n> */
    char mode;            /* meta M<c>, 0 if none */
    enum proto_reply err; /* PROTO_CLIENT_ERROR/PROTO_FATAL: the reply
                           * (PROTO_REPLY_NONE: close without a word) */
    enum proto_fatal fatal; /* PROTO_FATAL: why */
    size_t need;          /* PROTO_AGAIN: bytes needed in all, if known
                           * (the data block's end), else 0. For set add
                           * replace append prepend cas ms the line is
                           * complete then: every field is filled, and
                           * data.len (data.ptr NULL) is the value's
                           * length, so the caller may take the line
                           * (need - data.len - 2 bytes) and read the
                           * value itself. */
};

/*
 * Parse one request from the front of buf[0..len). Checks every limit in
 * `lim` before it trusts a length; never allocates, never reads past len.
 * Results (see enum proto_status for *used):
 *   PROTO_OK            *req is filled; its views point into buf.
 *   PROTO_AGAIN         need more bytes; req->need may say how many.
 *   PROTO_CLIENT_ERROR  req->err is memcached's reply for this input;
 *                       req->noreply says whether to suppress it.
 *   PROTO_FATAL         req->fatal says why; send req->err (the line too
 *                       long reply, or nothing for binary and HTTP) and
 *                       close. A first byte 0x80 is fatal at once, before
 *                       any newline arrives.
 * Where this differs from memcached 1.6.18 on purpose, table.c says so.
 */
enum proto_status proto_parse_req(const struct proto_limits *lim,
    const char *buf, size_t len, struct proto_req *req, size_t *used);

/* Walks the keys of a retrieval request without allocating. */
struct proto_key_iter {
    const char *pos;
    const char *end;
};

/* Start at the first key of `req` (a retrieval request from the parser). */
void proto_keys_begin(const struct proto_req *req, struct proto_key_iter *it);
/* Put the next key in *key and return true; false when there is none. */
bool proto_keys_next(struct proto_key_iter *it, struct str *key);

/* ---- meta commands ------------------------------------------------------- */

/*
 * mg ms md ma me mn, as memcached 1.6.18 parses them. A meta request is
 * "<cmd> <key>[ <datalen>] <flag>*": each flag is one letter, some with a
 * token right after it ("T30", "Oabc"). The parser checks every flag and
 * fills, in struct proto_req:
 *   key      the key word as sent; with the b flag it is base64 (decode
 *            it with proto_meta_key())
 *   args     the flag words as sent, in order (walk them with
 *            proto_meta_begin/proto_keys_next); replies echo in this order
 *   mflags   one bit per flag letter present (PROTO_MFLAG('v'), ...)
 *   exptime  T (has_exptime), vivify N, recache R, flags F, cas C,
 *   delta    D (1 if absent), initial J, mode M (the letter)
 *   data     ms: the value bytes
 *   noreply  false: q suppresses only some replies (the node decides)
 * mn takes no key and ignores the rest of its line; me takes a key and an
 * optional "b" word. A flag letter counts once ("v" twice is an error);
 * only its first byte names it ("bad" is b).
 */

/* The bit of flag letter c in proto_req.mflags (0 for a non-letter). */
#define PROTO_MFLAG(c) \
    ((c) >= 'a' && (c) <= 'z' ? (uint64_t)1 << ((c) - 'a') : \
    (c) >= 'A' && (c) <= 'Z' ? (uint64_t)1 << (26 + (c) - 'A') : 0)
/* Longest opaque word, the 'O' included (memcached: 32). */
#define PROTO_META_OPAQUE_MAX 32
/* Most flag words after the key (ms: one fewer, after its datalen). */
#define PROTO_META_MAX_FLAGS 17
/* Room for a base64 key and the key it decodes to. */
#define PROTO_META_KEY_MAX (PROTO_KEY_MAX + 4)
/* Room for any meta reply line proto_compose_meta() writes. */
#define PROTO_META_HDR_MAX 640

/* True if `req` carries meta flag letter c. */
static inline bool
proto_meta_has(const struct proto_req *req, char c)
{
    return (req->mflags & PROTO_MFLAG(c)) != 0;
}

/* Start walking the flag words of meta request `req` (proto_keys_next). */
void proto_meta_begin(const struct proto_req *req, struct proto_key_iter *it);

/*
 * The key of meta request `req` as stored: the key word itself, or with
 * the b flag its base64 decoding written to dst (PROTO_META_KEY_MAX
 * bytes). The parser has checked that it decodes. Never allocates.
 */
struct str proto_meta_key(const struct proto_req *req, char *dst);

/*
 * Base64 as memcached 1.6 uses it for keys. Decode: bytes outside the
 * alphabet are skipped, the rest must come in groups of four, '=' ends
 * the data; false if it does not decode, or to nothing, or not into `cap`
 * bytes. Encode: standard alphabet with '=' padding, no line breaks;
 * returns the length, 0 if it does not fit in `cap`. No allocation.
 */
bool proto_b64_decode(struct str in, char *dst, size_t cap, size_t *n);
size_t proto_b64_encode(struct str in, char *dst, size_t cap);

/* The first word of a meta reply. */
enum proto_meta_code {
    PROTO_META_HD = 0,  /* success, no value */
    PROTO_META_VA,      /* "VA <size>": a value follows */
    PROTO_META_EN,      /* mg miss */
    PROTO_META_NF,      /* not found (md ma ms-with-C) */
    PROTO_META_NS,      /* not stored */
    PROTO_META_EX,      /* CAS mismatch */
};

/*
 * What a server found, for the flags a meta reply echoes. Which flags
 * echo depends on the command and on `hit` (an item was there):
 *   mg hit   s t c f l h O k in request order, then Z X W
 *   ms       O k c                  md, misses   O k
 *   ma hit   c t O k
 * t shows ttl_after once a T flag (or an N flag with `created`) came
 * before it in the request, else ttl_before; -1 means no expiry.
 * k shows `key`, base64-encoded plus " b" when key_binary (the item was
 * stored with b) or when its bytes could not stand in a text key.
 */
struct proto_meta_info {
    enum proto_meta_code code;
    bool hit;
    bool created;        /* N made the item just now */
    bool key_binary;
    bool fetched;        /* h: fetched before this request */
    bool token_sent;     /* Z: a win token was already handed out */
    bool stale;          /* X: invalidated by md I / ms I */
    bool won;            /* W: this client should recache */
    struct str key;
    uint32_t size;       /* VA size and s */
    uint32_t flags;
    int64_t last_access; /* l: seconds since last access; < 0: unknown,
                          * l is left out of the reply */
    uint64_t cas;
    int64_t ttl_before;
    int64_t ttl_after;
};

/*
 * Write the reply line for meta request `req` to dst (PROTO_META_HDR_MAX
 * bytes), "\r\n" included, and return its length. For VA the value and
 * "\r\n" follow on the wire.
 */
size_t proto_compose_meta(char *dst, const struct proto_req *req,
    const struct proto_meta_info *mi);

/*
 * Write an "me" reply line, "ME <key> exp=<exp> cas=<cas> fetch=yes|no
 * size=<size>\r\n", to dst (PROTO_META_HDR_MAX bytes); `exp` is printed
 * as given (memcached 1.6.18 prints now - expiry, or -1). memcached also
 * prints la= and cls= from its own item layout; a server without them
 * leaves them out. The key is in base64 (no marker, as memcached) when
 * key_binary or when its bytes could not stand in a text key.
 */
size_t proto_compose_me(char *dst, struct str key, bool key_binary,
    int64_t exp, uint64_t cas, bool fetched, uint64_t size);

/* ---- responses ----------------------------------------------------------- */

/* One element of a server's answer. */
enum proto_rsp_type {
    PROTO_RSP_NONE = 0,
    PROTO_RSP_VALUE,        /* key flags data [cas]: header + data block */
    PROTO_RSP_END,
    PROTO_RSP_STORED,
    PROTO_RSP_NOT_STORED,
    PROTO_RSP_EXISTS,
    PROTO_RSP_NOT_FOUND,
    PROTO_RSP_DELETED,
    PROTO_RSP_TOUCHED,
    PROTO_RSP_OK,
    PROTO_RSP_RESET,
    PROTO_RSP_NUMBER,       /* incr/decr result: number */
    PROTO_RSP_VERSION,      /* text */
    PROTO_RSP_STAT,         /* name value */
    PROTO_RSP_ERROR,        /* text: whatever followed "ERROR", verbatim */
    PROTO_RSP_CLIENT_ERROR, /* text: after "CLIENT_ERROR " */
    PROTO_RSP_SERVER_ERROR, /* text: after "SERVER_ERROR " */
    /* Meta replies; text: the flag words after the code ("" if none). */
    PROTO_RSP_HD,
    PROTO_RSP_VA,           /* data: the value; text: flags after size */
    PROTO_RSP_EN,
    PROTO_RSP_NF,
    PROTO_RSP_NS,
    PROTO_RSP_EX,
    PROTO_RSP_MN,
    PROTO_RSP_ME,           /* text: all after "ME " (key and fields) */
    PROTO_RSP_COUNT
};

struct proto_rsp {
    enum proto_rsp_type type;
    bool has_cas;
    uint32_t flags;
    uint64_t cas;
    uint64_t number;
    struct str key;
    struct str data;
    struct str name;
    struct str text;      /* VERSION, STAT value, errors */
    size_t need;          /* PROTO_AGAIN: bytes needed in all, if known */
};

/*
 * Parse one response element from the front of buf[0..len). PROTO_OK:
 * *rsp filled, *used bytes to consume. PROTO_AGAIN: nothing consumed.
 * PROTO_FATAL: not a memcached response, an oversized value or line, or
 * a data block not ending in "\r\n": the stream cannot be trusted, close
 * it. Never returns PROTO_CLIENT_ERROR. Never allocates.
 */
enum proto_status proto_parse_rsp(const struct proto_limits *lim,
    const char *buf, size_t len, struct proto_rsp *rsp, size_t *used);

/* ---- composing replies --------------------------------------------------- */

/* Room for "VALUE <250-byte key> <u32> <u32> <u64>\r\n". */
#define PROTO_VALUE_HDR_MAX (6 + PROTO_KEY_MAX + 3 + 10 + 10 + 20 + 2)
/* Room for "<u64>\r\n". */
#define PROTO_NUMBER_MAX (20 + 2)

/*
 * Write "VALUE <key> <flags> <bytes>[ <cas>]\r\n" to dst (which holds
 * PROTO_VALUE_HDR_MAX bytes; key.len <= PROTO_KEY_MAX) and return its
 * length. The data block and "\r\n" follow it on the wire.
 */
size_t proto_compose_value(char *dst, struct str key, uint32_t flags,
    uint32_t bytes, bool with_cas, uint64_t cas);

/* Room for one metadump line (every key byte URL-encoded). */
#define PROTO_DUMP_LINE_MAX (4 + 3 * PROTO_KEY_MAX + 160)

/*
 * Write one "lru_crawler metadump" line, as memcached 1.6.18 does:
 * "key=<key> exp=<exp> la=<la> cas=<cas> fetch=yes|no cls=<cls>
 * size=<size>\n" (one line, ended by "\n" alone; the dump ends with
 * "END\r\n"). The key is URL-encoded as memcached does: every byte but
 * ASCII letters, digits and "-._~" becomes %XX (upper case hex), so no
 * key byte can end the line. exp and la are absolute unix seconds (exp
 * -1: never). dst holds PROTO_DUMP_LINE_MAX bytes; returns the length.
 */
size_t proto_compose_dump_line(char *dst, struct str key, int64_t exp,
    int64_t la, uint64_t cas, bool fetched, unsigned cls, uint64_t size);

/*
 * Write one "stats cachedump" line, "ITEM <key> [<bytes> b; <exp> s]\r\n"
 * (exp: absolute unix seconds, 0 = never), to dst (PROTO_DUMP_LINE_MAX
 * bytes) and return its length; 0 if the key could not stand in a text
 * line (memcached leaves base64-stored keys out of cachedump too).
 */
size_t proto_compose_cachedump_line(char *dst, struct str key,
    uint64_t bytes, uint64_t exp);

/* Write "<v>\r\n" (an incr/decr reply) to dst[PROTO_NUMBER_MAX]; return
 * its length. */
size_t proto_compose_number(char *dst, uint64_t v);

/*
 * The following append to `b` and return false if out of memory or given
 * something they cannot write (then `b` is left as it was). They allocate
 * only through buf_append().
 */

/* "VERSION <version>\r\n" */
bool proto_compose_version(struct buf *b, struct str version);
/* "STAT <name> <value>\r\n" */
bool proto_compose_stat(struct buf *b, struct str name, struct str value);
bool proto_compose_stat_u64(struct buf *b, struct str name, uint64_t value);
/* memcached's name of an address in "stats conns" ("tcp:1.2.3.4:5",
 * "tcp6:[::1]:5", "unix:/path") from net_addr_format()'s text `addr`,
 * into dst[n] (truncated, always terminated when n > 0). */
void proto_conn_addr_name(const char *addr, char *dst, size_t n);
/* "CLIENT_ERROR <text>\r\n" or "SERVER_ERROR <text>\r\n" (type says which;
 * PROTO_RSP_ERROR gives "ERROR<text>\r\n", text verbatim). */
bool proto_compose_error(struct buf *b, enum proto_rsp_type type,
    struct str text);
/* Any response element as proto_parse_rsp() returns it, data included.
 * Round trip: parse(compose(r)) == r, byte for byte. */
bool proto_compose_rsp(struct buf *b, const struct proto_rsp *rsp);

/* ---- composing requests -------------------------------------------------- */

/*
 * Append the request `req` describes, as a client sends it (data block
 * included). For retrieval commands the keys come from req->keys (the
 * parser's key list, or any space-separated list of keys); req->key alone
 * is used when req->keys is empty. Only the fields the command uses are
 * read; a meta request is written from key, args (its flag words, as
 * the parser left them) and, for ms, data. False if out of memory or if
 * cmd is NONE.
 */
bool proto_compose_req(struct buf *b, const struct proto_req *req);

/* Append "<get|gets> k1 k2 ...\r\n" or "<gat|gats> <exptime> k1 ...\r\n"
 * from an array of keys (the proxy's split of a multi-get). */
bool proto_compose_retrieval(struct buf *b, enum proto_cmd cmd,
    int64_t exptime, const struct str *keys, size_t nkeys);

#endif /* PROTO_PROTO_H */
