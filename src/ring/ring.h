/*
 * ring: weighted consistent hashing, pure. Maps a key to a node on an
 * immutable ring value built from a node list, in one of two modes:
 *
 *   ring v1  (default) each node of weight w gets vnodes*w points; point i
 *            of node "name" is XXH3_64bits("name#i"), a key's hash is
 *            XXH3_64bits(key); the owner is the node of the first point
 *            >= the key hash, wrapping to the lowest point; equal point
 *            hashes go to the node whose name sorts first bytewise. The
 *            spec is public and stable (ringproxy.conf(5)).
 *   ketama   places keys exactly as twemproxy 0.5.0 ("distribution:
 *            ketama") does, with twemproxy's key hashes.
 *
 * Also here: the ringproxy.conf(5) parser (the proxy and ringtool share
 * it), exact ownership (arc lengths) and exact movement between two rings.
 *
 * Nothing here does I/O, reads a clock, locks or logs. A ring is never
 * mutated after ring_build(): readers on any thread may share it freely;
 * a membership change builds a new ring.
 */
#ifndef RING_RING_H
#define RING_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

struct ring;

enum ring_status {
    RING_OK = 0,
    RING_EINVAL,    /* bad argument: empty/long/duplicate name, bad weight */
    RING_ETOOBIG,   /* more points than RING_MAX_POINTS */
    RING_EMISMATCH, /* two rings hash keys differently (ring_diff) */
    RING_ESYNTAX,   /* configuration error, see struct ring_error */
};

enum ring_mode {
    RING_MODE_V1 = 0,
    RING_MODE_KETAMA,
};

/* twemproxy's key hashes (ketama mode), named as in nutcracker.yml. */
enum ring_hash {
    RING_HASH_FNV1A_64 = 0, /* twemproxy's default */
    RING_HASH_FNV1_64,
    RING_HASH_FNV1A_32,
    RING_HASH_FNV1_32,
    RING_HASH_MD5,
    RING_HASH_CRC16,
    RING_HASH_CRC32,
    RING_HASH_CRC32A,
    RING_HASH_ONE_AT_A_TIME,
    RING_HASH_MURMUR,
    RING_HASH_HSIEH,
    RING_HASH_JENKINS,
    RING_HASH_COUNT
};

/* The default vnodes (points per unit of weight) of ring v1, chosen by
 * measuring exact ownership (see README and tools/bench/bench_ring.c). */
#define RING_DEFAULT_VNODES 8192
#define RING_MAX_VNODES 65536
#define RING_MAX_WEIGHT 10000
/* Bytes in a node name. NOTE(ring): 128 keeps every line that names a
 * node (the proxy's "SERVER_ERROR backend NAME ..." replies, its stats)
 * far below the 256 bytes short reply buffers of clients hold, and the
 * config parser refuses longer names with file:line. */
#define RING_MAX_NAME 128
#define RING_MAX_NODES 65535
#define RING_MAX_POINTS (64u << 20) /* points in one ring */
#define RING_KETAMA_POINTS 160     /* twemproxy's points per server */
#define RING_NO_NODE UINT32_MAX    /* lookup on a ring that owns nothing */

/* How a ring is built and how it hashes keys. */
struct ring_params {
    enum ring_mode mode;
    uint32_t vnodes;       /* ring v1 only; 0 means RING_DEFAULT_VNODES */
    enum ring_hash hash;   /* ketama only */
    char hash_tag[2];      /* both modes; used when has_hash_tag */
    bool has_hash_tag;
};

/* One node handed to ring_build(). The ring copies what it keeps. */
struct ring_node {
    struct str name; /* placement identity, 1..RING_MAX_NAME bytes */
    struct str addr; /* address text, for display only; may be empty */
    uint32_t weight; /* 0..RING_MAX_WEIGHT; 0 owns no keys */
};

/* Where a key landed (ring_locate). */
struct ring_hit {
    uint32_t node;      /* node index, or RING_NO_NODE */
    uint64_t key_hash;  /* v1: 64-bit; ketama: the 32-bit key hash */
    uint64_t point;     /* hash of the point that owns it (same width) */
    uint32_t point_idx; /* index among the ring's sorted points */
};

/* Fill `p` with the defaults: ring v1, default vnodes, fnv1a_64, no tag. */
void ring_params_init(struct ring_params *p);

/*
 * Build a ring over `n` nodes. Node indices in every result are indices
 * into `nodes`. Ring v1: a node of weight w gets vnodes*w points. Ketama:
 * twemproxy's arithmetic over the nodes of weight > 0 (a weight-0 node is
 * treated as twemproxy treats an ejected server: absent, but its index
 * stays valid, so a proxy ejects a node by rebuilding with weight 0).
 * On RING_OK *out owns a new ring (free with ring_destroy()). RING_EINVAL
 * for n == 0, n > RING_MAX_NODES, an empty, too long or duplicate name, a
 * weight above RING_MAX_WEIGHT or vnodes above RING_MAX_VNODES;
 * RING_ETOOBIG past RING_MAX_POINTS. Allocates with xmalloc (exits on OOM:
 * call it at startup or config load, never on the request path).
 */
enum ring_status ring_build(const struct ring_params *p,
    const struct ring_node *nodes, size_t n, struct ring **out);
/* Free a ring; NULL is a no-op. */
void ring_destroy(struct ring *r);

/*
 * The node that owns `key`, or RING_NO_NODE when no node has weight > 0.
 * Applies the hash tag. Never allocates, never locks, never fails.
 */
uint32_t ring_lookup(const struct ring *r, struct str key);
/* Like ring_lookup(), also reporting the key hash and the owning point. */
void ring_locate(const struct ring *r, struct str key, struct ring_hit *hit);
/* The key hash ring_lookup() uses (hash tag applied); ketama: 32 bits. */
uint64_t ring_key_hash(const struct ring *r, struct str key);

/* The part of `key` that is hashed: between the first tag[0] and the next
 * tag[1] when that span is non-empty, else the whole key (twemproxy's
 * rule). */
struct str ring_hash_tag_apply(const struct ring_params *p, struct str key);

/* Accessors. Names and addresses point into the ring and live as long. */
const struct ring_params *ring_params(const struct ring *r);
size_t ring_node_count(const struct ring *r);
struct str ring_node_name(const struct ring *r, uint32_t node);
struct str ring_node_addr(const struct ring *r, uint32_t node);
uint32_t ring_node_weight(const struct ring *r, uint32_t node);
/* Number of points on the ring, and point `i` (sorted) with its owner. */
size_t ring_point_count(const struct ring *r);
uint64_t ring_point(const struct ring *r, size_t i, uint32_t *node);
/* Width of the hash space in bits: 64 (v1) or 32 (ketama). */
unsigned ring_hash_bits(const struct ring *r);
/* Bytes the ring holds on the heap: 8 per point, its lookup index (about
 * 2 per point) and the node table. */
size_t ring_memory(const struct ring *r);

/*
 * Exact ownership: share[i] (an array of ring_node_count() doubles the
 * caller provides) gets the fraction of the hash space node i owns,
 * computed from arc lengths, not by sampling. All zero when the ring owns
 * nothing. Does not allocate.
 */
void ring_ownership(const struct ring *r, double *share);

/*
 * Exact movement from ring `a` to ring `b`: moved[i * nb + j] (na*nb
 * doubles the caller provides) gets the fraction of the key space owned by
 * a's node i before and b's node j after. Both rings must hash keys the
 * same way (same mode, key hash and hash tag), else RING_EMISMATCH. Keys
 * owned by nobody on one side are not counted. Does not allocate.
 */
enum ring_status ring_diff(const struct ring *a, const struct ring *b,
    double *moved);

/* Names of modes and hashes as written in configuration files, and back.
 * The _parse functions return false for an unknown name. */
const char *ring_mode_name(enum ring_mode m);
const char *ring_hash_name(enum ring_hash h);
bool ring_hash_parse(struct str s, enum ring_hash *out);
/* A one-line description of a status, for messages. */
const char *ring_strerror(enum ring_status st);

/*
 * twemproxy's key hash `h` over `key` (bit-exact, including its
 * sign-extension of bytes >= 0x80 where twemproxy has it).
 */
uint32_t ring_twem_hash(enum ring_hash h, struct str key);

/* ---- ringproxy.conf(5) ------------------------------------------------ */

/* A listen or node address: "host:port", "[v6]:port" or "/unix/path". */
struct ring_addr {
    char *text;   /* as written */
    char *host;   /* host without brackets, or the unix path */
    uint16_t port; /* 0 for a unix path */
    bool is_unix;
};

enum ring_failure_policy {
    RING_FAIL_FAST = 0, /* a down node's keys fail (SERVER_ERROR) */
    RING_FAIL_EJECT,    /* after failure_limit failures, rebuild without it */
};

struct ring_config_node {
    char *name;          /* effective name (defaulted when not given) */
    bool name_given;     /* false when written as "-" */
    struct ring_addr addr;
    uint32_t weight;
    unsigned line;       /* where it was defined */
};

/*
 * Everything ringproxy.conf(5) can say. Defaults (ring_config_init):
 * listen 127.0.0.1:11311, threads 4, ring v1, vnodes RING_DEFAULT_VNODES,
 * no hash tag, connect_timeout 1000 ms, request_timeout 2000 ms,
 * failure_policy fail-fast, failure_limit 3, retry_timeout 1000 ms,
 * retry_max 30000 ms, backend_connections 1, client_limit 4096,
 * idle_timeout 0 (none), backlog 1024, item_size_max 1 MiB,
 * client_output_limit 8 MiB 32 MiB.
 */
struct ring_config {
    struct ring_addr *listen;
    size_t nlisten;
    uint32_t threads;
    struct ring_params ring;
    uint32_t connect_timeout_ms;
    uint32_t request_timeout_ms;
    enum ring_failure_policy failure_policy;
    uint32_t failure_limit;       /* consecutive failures before eject */
    uint32_t retry_timeout_ms;    /* first retry of an ejected node */
    uint32_t retry_max_ms;        /* backoff doubles up to this */
    uint32_t backend_connections; /* per node per worker thread */
    uint32_t client_limit;        /* max client connections */
    uint32_t idle_timeout_ms;     /* close idle clients; 0 = never */
    uint32_t backlog;             /* listen(2) backlog */
    uint32_t item_size_max;       /* largest value accepted, bytes */
    uint32_t client_out_soft;     /* reply bytes queued to one client: */
    uint32_t client_out_hard;     /* stop reading it / disconnect it */
    struct ring_config_node *nodes;
    size_t nnodes;
};

/* A configuration error. `text` is "file:line: what is wrong" (or
 * "file: what is wrong" when no one line is at fault, line == 0). */
struct ring_error {
    unsigned line;
    char text[512];
};

/* Set every default; no nodes, one default listen address. */
void ring_config_init(struct ring_config *c);
/* Free what a config owns; safe on an initialised or parsed config. */
void ring_config_fini(struct ring_config *c);

/*
 * Parse a whole ringproxy.conf(5) text of `len` bytes (need not be
 * NUL-terminated); `file` names it in messages. On RING_OK *c (which the
 * caller must not have initialised) holds every setting and the node list,
 * validated (names unique, addresses unique, at least one node, at least
 * one weight > 0, the ring buildable). On RING_ESYNTAX, *err says where
 * and what, and *c is left empty (fini'd). Uses xmalloc; no I/O (callers
 * read the file, e.g. util_read_file()).
 */
enum ring_status ring_config_parse(struct ring_config *c, const char *text,
    size_t len, const char *file, struct ring_error *err);

/* Build the ring the configuration describes (node i = c->nodes[i]). */
enum ring_status ring_config_build(const struct ring_config *c,
    struct ring **out);

/*
 * Parse an address as a listen or node line does. On false, *why says
 * what is wrong. On true the caller frees with ring_addr_fini().
 */
bool ring_addr_parse(struct str s, struct ring_addr *a, const char **why);
void ring_addr_fini(struct ring_addr *a);

/* The name a node gets when written as "-": ring v1 "host:port" (as
 * written) or the path; ketama twemproxy's rule, the host alone when the
 * port is 11211. Returns a heap string (xmalloc). */
char *ring_default_name(enum ring_mode m, const struct ring_addr *a);

#endif /* RING_RING_H */
