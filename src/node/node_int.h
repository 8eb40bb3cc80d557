/*
 * Private to src/node: the daemon's state shared by its files (daemon.c
 * wires, session.c reads and dispatches, exec.c runs commands, stats.c
 * answers "stats").
 */
#ifndef NODE_NODE_INT_H
#define NODE_NODE_INT_H

#include "node/node.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "net/net.h"
#include "proto/proto.h"
#include "store/store.h"
#include "util/util.h"

/* Counters a worker keeps for "stats" (memcached's per-thread stats).
 * Written only by the worker, read by any: see STAT_ADD. */
struct node_counters {
    uint64_t cmd_get;
    uint64_t cmd_set;
    uint64_t cmd_flush;
    uint64_t cmd_touch;
    uint64_t cmd_meta;
    uint64_t store_too_large;
    uint64_t store_no_memory;
    uint64_t bytes_read;
    uint64_t bytes_written;
};

/* NOTE(node): one writer per counter, so a relaxed load + store is enough
 * (no locked add on the request path); readers may see a slightly old
 * value, as with memcached's per-thread stats. */
#define STAT_ADD(ctr, field, n) \
    __atomic_store_n(&(ctr)->field, \
        __atomic_load_n(&(ctr)->field, __ATOMIC_RELAXED) + (n), \
        __ATOMIC_RELAXED)
#define STAT_GET(ctr, field) __atomic_load_n(&(ctr)->field, __ATOMIC_RELAXED)

/*
 * NOTE(node): a client stops being served once the replies queued for it
 * cost this much (bytes plus segment headers) and its socket takes no
 * more; it is served again at a quarter. Values go out by reference, so
 * most of a big reply is item memory inside -m; the limit bounds what a
 * client that pipelines and never reads costs outside it.
 */
#define NODE_OUT_HIGH ((size_t)64 << 10)

struct session;
struct node_dump;

struct node_worker {
    struct node *node;
    unsigned idx;
    struct node_counters ctr;
    pthread_mutex_t mu;             /* guards the session list (stats conns) */
    struct session *sessions;
};

struct node {
    const struct node_config *cfg;
    struct store *store;
    struct net_server *srv;
    struct proto_limits lim;
    struct node_worker *workers;
    unsigned nworkers;
    uint64_t started;               /* wall seconds at startup */
    struct net_timer *maint;
    unsigned verbosity;             /* "verbosity" command; relaxed atomic */
    bool crawler_enabled;           /* "lru_crawler enable"; relaxed atomic */
    uint64_t dumps_running;         /* metadumps streaming; atomic */
    uint64_t dumps_started;         /* lru_crawler crawl/metadump; atomic */
};

/* What a session is doing, for "stats conns" (memcached's state names). */
enum session_state {
    SESSION_WAITING = 0,    /* conn_waiting: nothing buffered */
    SESSION_PARSING,        /* conn_parse_cmd: executing requests */
    SESSION_NREAD,          /* conn_nread: a data block is arriving */
    SESSION_SWALLOW,        /* conn_swallow: skipping a refused block */
    SESSION_CLOSING,        /* conn_closing */
};

struct session {
    struct node_worker *w;
    struct net_conn *conn;
    enum session_state state;       /* relaxed atomic for stats conns */
    size_t skip;                    /* bytes still to swallow */
    size_t seen;                    /* input bytes already counted */
    /* A storage command whose value is read straight into its item. */
    struct item *fill;              /* NULL when none */
    size_t fill_off;                /* value bytes read so far */
    enum proto_cmd fill_cmd;
    uint64_t fill_cas;
    bool fill_noreply;
    char *fill_line;                /* ms: a copy of its line ... */
    struct proto_req fill_req;      /* ... and the request parsed from it */
    bool busy;                      /* inside session_process */
    bool stalled;                   /* stopped on a full output queue */
    uint32_t small_batches;         /* batches since the last large one */
    uint32_t last_cmd;              /* wall seconds; relaxed atomic */
    int fd;
    int listener;                   /* index for stats conns */
    char peer[64];
    struct buf *in;                 /* the connection's input buffer */
    struct node_dump *dump;         /* a metadump in progress, or NULL */
    struct session *prev;
    struct session *next;
};

/* session.c: the callbacks of accepted connections. */
extern const struct net_conn_ops node_session_ops;
bool node_session_open(struct net_conn *c, void *arg);
/* Queue reply bytes (copied); false when the connection must close. */
bool session_reply(struct session *s, struct str text);
bool session_reply_buf(struct session *s, const struct buf *b);

/* Run the requests buffered while a metadump streamed (dump.c). */
void node_session_resume(struct session *s);

/* dump.c: "lru_crawler <args>"; as node_exec(). A metadump streams from
 * a timer; the session reads no requests until it ends. */
bool node_lru_crawler(struct session *s, struct str args);
/* dump.c: "stats cachedump <class> <limit>", streamed the same way. */
bool node_cachedump(struct session *s, struct str args);
/* Stop a session's metadump, if any, and free it. */
void node_dump_cancel(struct session *s);

/* exec.c: run one parsed request; false when the connection must close
 * (after quit, or when output could not be queued). */
bool node_exec(struct session *s, const struct proto_req *req, uint32_t now);
/* Count a storage command and allocate its item (value not filled). If
 * that fails, reply as memcached does (a failed set also drops the old
 * value) and return NULL; *alive is false when the connection must
 * close. */
struct item *node_storage_alloc(struct session *s,
    const struct proto_req *req, uint32_t now, bool *alive);
/* Commit a filled item under storage command `cmd` and reply; consumes
 * the reference to `it`. As node_exec(). */
bool node_storage_link(struct session *s, enum proto_cmd cmd,
    struct item *it, uint64_t cas, bool noreply, uint32_t now);
/* The release callback for item values queued by reference. */
void node_exec_set_store(struct store *st);
/* Drop a reference to an item of the node's store. */
void node_release_item(struct item *it);
/* Queue an item's value by reference and "\r\n"; consumes the reference
 * to `it`. False when the connection must close. */
bool node_send_item_value(struct session *s, struct item *it);

/* meta.c: run a meta command (mg ms md ma me mn); as node_exec(). */
bool node_exec_meta(struct session *s, const struct proto_req *req,
    uint32_t now);
/* ms in two halves, for a value read straight into its item: allocate
 * (as node_storage_alloc()), then commit and reply (consumes `it`). */
struct item *node_meta_ms_alloc(struct session *s,
    const struct proto_req *req, uint32_t now, bool *alive);
bool node_meta_ms_link(struct session *s, const struct proto_req *req,
    struct item *it, uint32_t now);
/* A meta request the parser refused: an ms too large to store drops the
 * key's old value, as memcached does. */
void node_meta_refused(struct session *s, const struct proto_req *req,
    uint32_t now);

/* stats.c: append the reply to "stats <args>" to `b`; false if `args` is
 * not a stats group (the caller answers ERROR). */
bool node_stats(struct node *n, struct str args, uint32_t now,
    struct buf *b);
void node_stats_reset(struct node *n);

/* The "VERSION" / "STAT version" string. */
extern const char node_version[];

#endif /* NODE_NODE_INT_H */
