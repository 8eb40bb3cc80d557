/*
 * One ringbench connection's protocol engine, without I/O: it composes
 * requests (get, multi-get, set) into a buffer with proto's composers,
 * remembers what it sent, and checks every reply (parsed by proto) against
 * what was asked, in order. Every reply
 * is verified: framing, the key of each VALUE, the value's length and
 * contents (values are self-describing, see keys.h) and, with `verify`, that
 * a value read back is the last one this connection wrote for that key.
 * The I/O layer (ringbench.c) moves the bytes; the unit tests feed replies
 * directly.
 */
#ifndef BENCH_SESSION_H
#define BENCH_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bench/hist.h"
#include "bench/keys.h"
#include "proto/proto.h"

#define SESSION_MAX_MGET 100

/* What every connection of a run shares (read-only while running, except
 * `versions`, whose entries each belong to one connection). */
/* One range of a value-size mix: `pct` percent of keys have values of
 * min..max bytes (a key's size is fixed: a hash of its index). */
#define SESSION_MAX_MIX 4
struct value_range {
    uint32_t pct;
    uint32_t min;
    uint32_t max;
};

struct session_cfg {
    struct proto_limits limits; /* for parsing replies */
    struct keys keys_proto;     /* key distribution (copied per session) */
    const struct values *values;
    size_t key_len;
    size_t value_len;
    uint32_t set_weight;        /* ratio set:get, e.g. 1:10 */
    uint32_t get_weight;
    unsigned mget;              /* keys per get, 1..SESSION_MAX_MGET */
    bool check_values;          /* false: length only (null responder) */
    bool verify;                /* read-your-writes; keys partitioned */
    bool meta;                  /* mg/ms instead of get/set (mget 1) */
    uint32_t *versions;         /* verify only: last version set per key */
    uint32_t version_base;      /* verify only: first version is base + 1 */
    struct value_range mix[SESSION_MAX_MIX]; /* nmix > 0: value sizes by
                                 * key instead of value_len (the largest) */
    unsigned nmix;
    uint32_t ttl_pct;           /* this percent of keys is set with ... */
    int64_t ttl_secs;           /* ... this expiry (the others never) */
    bool set_on_miss;           /* a miss is followed by a set of its key */
};

/* The value length of key `idx` under `cfg`. */
size_t session_value_len(const struct session_cfg *cfg, uint64_t idx);

/* Counters of one session; summed across sessions for the report. */
struct session_stats {
    uint64_t requests;          /* completed requests (a multi-get is one) */
    uint64_t gets;
    uint64_t sets;
    uint64_t keys_asked;        /* keys in completed gets */
    uint64_t hits;
    uint64_t stored;
    uint64_t not_stored;        /* NOT_STORED / EXISTS / NOT_FOUND on set */
    uint64_t server_errors;     /* ERROR, CLIENT_ERROR, SERVER_ERROR */
    uint64_t bad_values;        /* wrong length, bytes or key */
    uint64_t stale_values;      /* verify: not the last version written */
    uint64_t protocol_errors;   /* unparseable or unexpected reply: fatal */
    struct hist latency;        /* ns, from (intended) send to last byte */
};

/* Add `src` into `dst`. */
void session_stats_merge(struct session_stats *dst,
    const struct session_stats *src);
void session_stats_init(struct session_stats *st);

enum session_status {
    SESSION_OK = 0,
    SESSION_AGAIN,      /* need more bytes */
    SESSION_FATAL,      /* framing lost: the connection must be closed */
    SESSION_ENOMEM,
};

enum session_op {
    SESSION_GET = 0,
    SESSION_SET,
};

struct pending {
    uint64_t t0;            /* send time (intended time, open loop) */
    uint8_t op;             /* enum session_op */
    uint8_t nkeys;
    uint8_t done;           /* keys of a multi-get answered so far */
};

struct session {
    const struct session_cfg *cfg;
    struct keys keys;
    struct rng rng;
    unsigned conn_index;    /* verify: this session owns keys with */
    unsigned nconns;        /*   idx % nconns == conn_index */
    uint32_t next_version;  /* non-verify sets */
    /* FIFO of sent, unanswered requests; key indexes and expected
     * versions live in parallel arrays of cap * mget entries. */
    struct pending *q;
    uint64_t *q_keys;
    uint32_t *q_vers;
    size_t cap;
    size_t head;
    size_t count;
    uint64_t miss[16];      /* set_on_miss: keys to set next */
    unsigned nmiss;
    char *scratch;          /* one value, for composing sets */
    char *key_text;         /* mget keys' text, for composing */
    struct str *key_views;  /* views of key_text */
    struct session_stats stats;
    bool recording;         /* false during warm-up: count nothing */
};

/*
 * Set up a session with room for `max_outstanding` unanswered requests.
 * `seed` seeds its PRNG. Allocates (startup); SESSION_ENOMEM if that fails.
 */
enum session_status session_init(struct session *s,
    const struct session_cfg *cfg, size_t max_outstanding, uint64_t seed,
    unsigned conn_index, unsigned nconns);
void session_fini(struct session *s);

/* Requests sent and not yet answered. */
size_t session_outstanding(const struct session *s);
bool session_full(const struct session *s);

/*
 * Compose the next request (op and keys drawn from the configuration) at
 * the end of `out` and remember it with send time `t0`. SESSION_AGAIN when
 * max_outstanding requests are already unanswered (nothing written),
 * SESSION_ENOMEM if `out` cannot grow.
 */
enum session_status session_send(struct session *s, struct buf *out,
    uint64_t t0);

/*
 * Consume as many complete replies from `p` as there are, verifying each
 * against the oldest unanswered request; a finished request's latency
 * (now - t0) is recorded. *used gets the bytes consumed (whole replies
 * only). SESSION_OK when everything complete was consumed, SESSION_FATAL on
 * a reply that cannot be matched (counted in protocol_errors).
 */
enum session_status session_feed(struct session *s, const char *p,
    size_t len, uint64_t now, size_t *used);

#endif /* BENCH_SESSION_H */
