/*
 * Tokenizer for the replies ringbench expects from a memcached text-protocol
 * server: VALUE blocks, END, storage results and errors. Pure; never
 * allocates; views point into the input.
 */
#ifndef BENCH_REPLY_H
#define BENCH_REPLY_H

#include <stddef.h>

#include "util/util.h"

/* Longest reply line accepted (a VALUE line with a 250-byte key is ~300). */
#define REPLY_MAX_LINE 2048
/* Largest data block accepted in a VALUE (memcached's -I maximum). */
#define REPLY_MAX_DATA (1024u * 1024u * 1024u)

enum reply_kind {
    REPLY_VALUE = 0,    /* key, flags, data */
    REPLY_END,
    REPLY_STORED,
    REPLY_NOT_STORED,   /* NOT_STORED, EXISTS, NOT_FOUND */
    REPLY_ERROR,        /* ERROR, CLIENT_ERROR ..., SERVER_ERROR ... */
};

struct reply {
    enum reply_kind kind;
    struct str key;     /* VALUE only */
    struct str data;    /* VALUE: the data block; errors: the message */
    uint32_t flags;
};

enum reply_status {
    REPLY_OK = 0,
    REPLY_AGAIN,        /* incomplete: nothing consumed */
    REPLY_BAD,          /* not a reply we understand: framing lost */
};

/*
 * Parse one reply at the start of `p` (`len` bytes). On REPLY_OK, *r
 * describes it and *used is its length including the final "\r\n".
 * REPLY_AGAIN when more bytes are needed, REPLY_BAD for a malformed reply
 * or one longer than the limits above.
 */
enum reply_status reply_parse(const char *p, size_t len, struct reply *r,
    size_t *used);

#endif /* BENCH_REPLY_H */
