/*
 * Private to proto: the command and reply tables of table.c and the small
 * helpers the parsers and composers share.
 */
#ifndef PROTO_TABLE_H
#define PROTO_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/proto.h"

/* How the words after a command's name are read. */
enum proto_shape {
    PROTO_SHAPE_NONE = 0, /* version quit: the rest is ignored */
    PROTO_SHAPE_GET,      /* get gets: key... */
    PROTO_SHAPE_GAT,      /* gat gats: exptime key... */
    PROTO_SHAPE_STORE,    /* key flags exptime bytes [noreply] + data */
    PROTO_SHAPE_CAS,      /* key flags exptime bytes cas [noreply] + data */
    PROTO_SHAPE_DELETE,   /* key [0] [noreply] */
    PROTO_SHAPE_ARITH,    /* key delta [noreply] */
    PROTO_SHAPE_TOUCH,    /* key exptime [noreply] */
    PROTO_SHAPE_FLUSH,    /* [delay] [noreply] */
    PROTO_SHAPE_LEVEL,    /* level [noreply] */
    PROTO_SHAPE_ARGS,     /* stats shutdown: free text for the node */
    PROTO_SHAPE_META,     /* mg ms md ma mn me: key and flags (meta.c) */
};

/*
 * One command: its name, how its words parse, and how many words
 * (the name included) memcached accepts before it answers ERROR;
 * max_words 0 means any number.
 */
struct proto_cmd_info {
    const char *name;
    uint8_t len;
    uint8_t shape;
    uint8_t min_words;
    uint8_t max_words;
};

/* Indexed by enum proto_cmd. */
extern const struct proto_cmd_info proto_cmd_table[PROTO_CMD_COUNT];

/* The command named by the `len` bytes at `name`; PROTO_CMD_NONE if none. */
enum proto_cmd proto_cmd_lookup(const char *name, size_t len);

/* The response type whose whole line is `line` (END, STORED, ...), or
 * PROTO_RSP_NONE. Only the fixed status words. */
enum proto_rsp_type proto_rsp_word_lookup(struct str line);
/* The fixed status word of `type` without "\r\n" ("" if it has none). */
struct str proto_rsp_word(enum proto_rsp_type type);

/*
 * meta.c: parse the meta command req->cmd whose line is buf[0..line_used)
 * ('\n' included) and whose words after the name are `rest`. Results as
 * proto_parse_req().
 */
enum proto_status proto_parse_meta(const struct proto_limits *lim,
    const char *buf, size_t len, size_t line_used, struct str rest,
    struct proto_req *req, size_t *used);

/* Write `v` in decimal to dst (>= 21 bytes); return the length. */
size_t proto_fmt_i64(char *dst, int64_t v);

/* Write `v` in decimal to dst (>= 20 bytes, no NUL); return the length. */
size_t proto_fmt_u64(char *dst, uint64_t v);

/*
 * Find the line at the front of buf[0..len): *nl gets the index of its
 * '\n'. PROTO_OK; PROTO_AGAIN if no '\n' yet and at most `limit` bytes are
 * buffered; PROTO_FATAL if more than `limit` bytes precede any '\n'.
 * Scans at most limit + 1 bytes.
 */
enum proto_status proto_find_line(const char *buf, size_t len, size_t limit,
    size_t *nl);

/*
 * The small helpers below run for every word of every request, so they
 * are inline (NOTE(proto): as calls across files they cost bench_proto's
 * `get` case more than half its time).
 */

/* A byte memcached keys may not hold here: control characters, space and
 * DEL (NOTE(proto): memcached itself accepts control characters). */
static inline bool
proto_key_byte_bad(unsigned char c)
{
    return c <= ' ' || c == 0x7f;
}

/* A key: 1..PROTO_KEY_MAX bytes, none of them bad. */
static inline bool
proto_key_valid(struct str key)
{
    if (key.len == 0 || key.len > PROTO_KEY_MAX) {
        return false;
    }
    for (size_t i = 0; i < key.len; i++) {
        if (proto_key_byte_bad((unsigned char)key.ptr[i])) {
            return false;
        }
    }
    return true;
}

/* The line buf[0..nl) without one trailing '\r'. */
static inline struct str
proto_line(const char *buf, size_t nl)
{
    struct str line = { buf, nl };

    if (nl > 0 && buf[nl - 1] == '\r') {
        line.len--;
    }
    return line;
}

/* Take the next space-separated word off the front of *rest into *word;
 * false when only spaces (or nothing) are left. */
static inline bool
proto_next_word(struct str *rest, struct str *word)
{
    const char *p = rest->ptr;
    const char *end = rest->ptr + rest->len;
    const char *start;

    while (p < end && *p == ' ') {
        p++;
    }
    start = p;
    while (p < end && *p != ' ') {
        p++;
    }
    word->ptr = start;
    word->len = (size_t)(p - start);
    rest->ptr = p;
    rest->len = (size_t)(end - p);
    return word->len > 0;
}

/* *rest without leading and trailing spaces. */
static inline struct str
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

#endif /* PROTO_TABLE_H */
