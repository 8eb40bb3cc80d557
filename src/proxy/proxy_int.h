/*
 * proxy internals shared by the module's files.
 *
 * Objects and threads:
 *   struct proxy     one per process; built and changed on the main
 *                    (acceptor) thread: config, nodes, health, reload.
 *   struct pnode     one per backend node ever configured; never freed
 *                    before exit. Health state and failure count are
 *                    atomics; counters are per worker (ctr[worker]).
 *   struct pring     an immutable routing table: the ring, its nodes and
 *                    the settings. Each worker reads its own pointer,
 *                    swapped by a cross-thread call; the last user frees.
 *   struct worker    one per worker thread: backend connections per node
 *                    (wnode[pnode id]) and client sessions.
 *   struct client    one accepted connection: a FIFO of requests (preq)
 *                    answered strictly in order.
 *   struct bconn     one backend connection: a FIFO of sub-requests
 *                    (sreq) sent on it, matched to replies in order.
 *   struct preq      a client request; it waits for its sub-requests
 *                    (one per owner node for get, one per node for
 *                    flush_all, one otherwise) and then holds its reply.
 */
#ifndef PROXY_PROXY_INT_H
#define PROXY_PROXY_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/net.h"
#include "proto/proto.h"
#include "proxy/proxy.h"
#include "ring/ring.h"
#include "util/util.h"

#define PROXY_MAX_SLOTS 4096        /* nodes configured since start */
#define PROXY_CLIENT_INFLIGHT 256   /* per client: pause reading past it */
#define PROXY_CLIENT_OUT_HIGH (4u << 20) /* replies queued to one client */
#define PROXY_BACKEND_QUEUE 16384   /* per backend conn: refuse past it */
#define PROXY_BACKEND_OUT_MAX (16u << 20) /* bytes queued to one backend */
#define PROXY_HIST_BUCKETS 192
#define PROXY_FREE_SREQS 4096       /* recycled sub-requests per worker */

/* Relaxed counters: written by one thread, summed by any. */
#define CTR_ADD(p, n) __atomic_store_n((p), \
    __atomic_load_n((p), __ATOMIC_RELAXED) + (n), __ATOMIC_RELAXED)
#define CTR_GET(p) __atomic_load_n((p), __ATOMIC_RELAXED)

/* ---- pure pieces: multi-get split and merge (mget.c) --------------------- */

struct mget;

/*
 * Group `n` keys by owner (owners[i] is key i's node index), keeping
 * request order inside each group, and copy the keys. NULL if out of
 * memory. Never logs.
 */
struct mget *mget_create(const struct str *keys, const uint32_t *owners,
    size_t n);
void mget_destroy(struct mget *m);
/* Number of owner groups (sub-requests), and group `sub`'s owner and keys
 * (*keys points into m, in request order; returns the count). */
size_t mget_nsubs(const struct mget *m);
uint32_t mget_sub_owner(const struct mget *m, size_t sub);
size_t mget_sub_keys(const struct mget *m, size_t sub,
    const struct str **keys);
/*
 * A VALUE element for `key` came back for group `sub`; `raw` is the whole
 * element (header, data, CRLF). Returns MGET_OK, MGET_UNEXPECTED when
 * that key is not (or no longer) expected from the group — the backend
 * is out of step — or MGET_ENOMEM.
 */
enum mget_status {
    MGET_OK = 0,
    MGET_UNEXPECTED,
    MGET_ENOMEM,
};
enum mget_status mget_value(struct mget *m, size_t sub, struct str key,
    struct str raw);
/* Values received so far. */
size_t mget_hits(const struct mget *m);
/* Append every value in the order the keys were asked, then "END\r\n".
 * False if out of memory. */
bool mget_finish(const struct mget *m, struct buf *out);

/* ---- pure pieces: reply matching (match.c) ------------------------------- */

enum pmatch {
    PMATCH_MORE = 0,    /* part of the reply, more follows (VALUE) */
    PMATCH_END,         /* the reply is complete with this element */
    PMATCH_BAD,         /* cannot answer this command: out of step */
};

/* How a backend's response element of type `t` fits a request `cmd`. */
enum pmatch proxy_match(enum proto_cmd cmd, enum proto_rsp_type t);
/* True if meta quiet mode (q) hides a reply of type `t` to `cmd`: mg's
 * EN, ms's and md's HD, ma's HD and VA. */
bool proxy_quiet_hides(enum proto_cmd cmd, enum proto_rsp_type t);

/* ---- latency histogram (hist.c) ------------------------------------------ */

/* Bucket of a latency in microseconds, and the upper bound of a bucket. */
unsigned hist_bucket(uint64_t us);
uint64_t hist_upper(unsigned bucket);
/* The value at quantile q (0..1) of `h` (upper bucket bound); 0 if empty. */
uint64_t hist_quantile(const uint64_t *h, double q);

/* ---- nodes and rings ----------------------------------------------------- */

enum pnode_state {
    PNODE_UP = 0,
    PNODE_DOWN,
};

struct pnode_ctr {
    uint64_t requests;
    uint64_t errors;        /* error replies and failed requests */
    uint64_t timeouts;
    uint64_t connects;
    uint64_t conn_failures;
    uint64_t hist[PROXY_HIST_BUCKETS];
};

struct proxy;

struct pnode {
    struct proxy *p;
    uint32_t id;                /* slot: index of the workers' wnode */
    char *name;
    char *addr_text;
    struct net_addr addr;
    int state;                  /* enum pnode_state, atomic */
    uint32_t fails;             /* consecutive failures, atomic */
    bool removed;               /* atomic: left the configuration */
    struct pnode_ctr *ctr;      /* [nworkers] */
    /* Main thread only: probing while down. */
    struct net_timer *probe_timer;
    struct net_timer *probe_deadline;
    struct net_conn *probe_conn;
    uint32_t backoff_ms;
    uint64_t downs;             /* atomic: times marked down */
    struct pnode *all_next;
};

/* Settings the workers read, copied from the configuration. */
struct psettings {
    uint32_t connect_timeout_ms;
    uint32_t request_timeout_ms;
    enum ring_failure_policy policy;
    uint32_t failure_limit;
    uint32_t retry_timeout_ms;
    uint32_t retry_max_ms;
    uint32_t backend_connections;
    uint32_t item_size_max;
};

struct pring {
    struct ring *ring;          /* routing: down nodes weight 0 (eject) */
    struct ring *conf;          /* as configured (shares, diffs) */
    struct pnode **nodes;       /* ring node index -> pnode */
    uint32_t *weights;          /* configured weights */
    size_t n;
    struct psettings set;
    struct proto_limits lim;
    uint64_t gen;
    int refs;                   /* atomic: holders (workers + main) */
};

/* ---- worker side --------------------------------------------------------- */

struct worker;
struct client;
struct preq;
struct bconn;

struct sreq {
    struct sreq *next;
    struct preq *preq;          /* NULL: the reply is dropped */
    struct pnode *node;
    enum proto_cmd cmd;
    uint32_t sub;               /* multi-get group / flush_all node */
    uint64_t sent_ns;
};

enum bconn_state {
    BCONN_CONNECTING = 0,
    BCONN_READY,
    BCONN_CLOSING,
};

struct bconn {
    struct worker *w;
    struct pnode *node;
    struct net_conn *conn;
    struct net_timer *timer;
    enum bconn_state state;
    struct sreq *head;
    struct sreq *tail;
    size_t nq;
    bool draining;              /* close once the queue is empty */
    const char *fail_why;       /* set before a close we caused */
    struct bconn **slotp;       /* where the wnode points at us */
};

struct wnode {
    struct bconn **conns;       /* [nconns] */
    uint32_t nconns;
};

enum preq_kind {
    PREQ_LOCAL = 0,             /* answered by the proxy */
    PREQ_SINGLE,                /* one node, reply passed through */
    PREQ_MULTI,                 /* get over several nodes: merge */
    PREQ_FLUSH,                 /* flush_all on every node */
    PREQ_QUIT,                  /* close after the replies before it */
};

struct preq {
    struct preq *next;
    struct client *cl;          /* NULL once the client is gone */
    struct worker *w;
    enum preq_kind kind;
    enum proto_cmd cmd;
    uint32_t pending;           /* sub-requests not yet answered */
    bool done;
    bool failed;                /* an error line replaces the reply */
    bool counted;               /* counted in the worker's inflight */
    bool quiet;                 /* meta q: drop what q hides */
    uint32_t nkeys;             /* retrieval: keys asked */
    uint32_t hits;              /* retrieval, single node: values seen */
    struct buf out;             /* the reply */
    struct mget *mg;
    struct buf err;             /* first error line, or flush failures */
    uint32_t nfail;
};

/* Only uint64_t fields: "stats reset" zeroes them as an array. */
struct wstats {
    uint64_t curr_conns;
    uint64_t total_conns;
    uint64_t cmd_get;
    uint64_t get_hits;
    uint64_t get_misses;
    uint64_t cmd_set;
    uint64_t cmd_touch;
    uint64_t cmd_flush;
    uint64_t bytes_read;
    uint64_t bytes_written;
    uint64_t client_errors;     /* requests the proxy refused */
    uint64_t server_errors;     /* SERVER_ERROR replies the proxy made */
    uint64_t inflight;          /* client requests waiting for backends */
    uint64_t paused;            /* times a client was paused */
    /* What the nodes answered, under memcached's names (admin.c). */
    uint64_t delete_hits;
    uint64_t delete_misses;
    uint64_t incr_hits;
    uint64_t incr_misses;
    uint64_t decr_hits;
    uint64_t decr_misses;
    uint64_t cas_hits;
    uint64_t cas_misses;
    uint64_t cas_badval;
    uint64_t touch_hits;
    uint64_t touch_misses;
};

enum client_state {
    CLIENT_READING = 0,         /* parsing requests as they come */
    CLIENT_PAUSED,              /* too much in flight, or shutting down */
    CLIENT_QUITTING,            /* quit or a fatal error: flush and close */
};

struct client {
    struct worker *w;
    struct net_conn *conn;
    struct buf *in;             /* the conn's input buffer (see client.c) */
    struct preq *head;
    struct preq *tail;
    uint32_t ninflight;
    uint32_t id;                /* picks its backend connection per node */
    size_t skip;                /* bytes of a refused value to swallow */
    size_t seen;
    enum client_state state;
    bool busy;                  /* inside process(): no re-entry */
    struct client *prev;
    struct client *next;
};

struct worker {
    struct proxy *p;
    unsigned idx;
    struct net_loop *loop;
    struct pring *ring;         /* current routing table */
    struct wnode *nodes;        /* [PROXY_MAX_SLOTS] by pnode id */
    struct client *clients;
    pthread_mutex_t clients_mu; /* guards the `clients` links: the worker
                                 * writes, "stats conns" reads */
    struct wstats st;
    struct buf scratch;
    uint32_t next_client_id;
    struct sreq *free_sreqs;    /* recycled sub-requests */
    uint32_t nfree_sreqs;
    uint32_t *owners;           /* multi-get scratch */
    struct str *keys;
    size_t keys_cap;
    bool draining;              /* shutdown: finish in-flight work */
    bool drain_reported;
};

/* ---- the process --------------------------------------------------------- */

struct reload_report {
    uint64_t count;             /* successful reloads */
    uint64_t failures;
    uint32_t added;
    uint32_t removed;
    uint32_t reweighted;
    double moved;               /* fraction of the key space */
    bool exact;                 /* false: hashing changed, all may move */
    char last_error[512];
};

struct proxy {
    const struct proxy_opts *opts;
    char *conf_path;
    unsigned nworkers;
    struct net_server *srv;
    struct worker *workers;
    struct pring *cur;          /* main thread's reference */
    struct pnode *slots[PROXY_MAX_SLOTS];
    uint32_t nslots;
    struct pnode *all;
    uint64_t started;
    uint64_t gen;
    struct ring_config cfg;     /* the running configuration */
    pthread_mutex_t mu;         /* guards `report` and shutdown state */
    pthread_cond_t cv;
    struct reload_report report;
    unsigned drained;           /* workers with nothing in flight */
};

extern const char proxy_version[];

/* ---- pring.c: routing tables (main thread unless said) ------------------- */

/* Copy the settings workers read from a configuration. */
void psettings_from(struct psettings *s, const struct ring_config *c);
/* True if `n` more nodes can be created (ids are never reused). */
bool pnode_slot_available(const struct proxy *p, size_t n);
/* A node for config node `cn`: resolves its address (blocks on DNS) and
 * takes the next id. NULL (logged) if it does not resolve or no id is
 * left. Owned by p (p->all) until exit. */
struct pnode *pnode_create(struct proxy *p, const struct ring_config_node *cn);
/* A routing table over c's nodes (nodes[i] for c->nodes[i]); under policy
 * eject, down nodes get weight 0 on the routing ring. One reference, to
 * the caller. NULL if the ring cannot be built. Allocates (xmalloc). */
struct pring *pring_build(struct proxy *p, const struct ring_config *c,
    struct pnode **nodes);
/* Drop one reference; the last frees. Any thread; NULL is a no-op. */
void pring_release(struct pring *r);
/* Make `r` (the caller's reference) current: every worker switches to it
 * on its next loop iteration and drains nodes r no longer has. */
void pring_publish(struct proxy *p, struct pring *r);

/* ---- backend.c: backend connections (worker thread) ---------------------- */

/* The connection to node n that a client with `affinity` (its id) uses,
 * connecting it if needed. NULL if out of memory or no socket. */
struct bconn *backend_pick(struct worker *w, struct pnode *n,
    uint32_t affinity);
/* Queue s (its reply goes to s->preq, or is dropped when NULL) and send
 * `data`. False, with nothing queued, when the connection is over its
 * limits or closed: the caller fails the request. */
bool backend_send(struct bconn *b, struct sreq *s, const void *data,
    size_t len);
/* A zeroed sub-request from w's free list (NULL if out of memory), and
 * back to the list (freed past PROXY_FREE_SREQS kept). */
struct sreq *sreq_new(struct worker *w);
void sreq_free(struct worker *w, struct sreq *s);
/* Close n's connections once their queues are empty (n left the ring). */
void backend_drain_node(struct worker *w, struct pnode *n);
/* Close every backend connection of w (worker exit). */
void backend_close_all(struct worker *w);
/* A reply came back: reset n's run of failures. Any worker. */
void node_success(struct pnode *n);
/* One more failure of n (`why` for the log); at failure_limit in a row
 * mark it down and ask the main thread to probe it. */
void node_failure(struct worker *w, struct pnode *n, const char *why);

/* ---- client.c: client sessions (worker thread) --------------------------- */

extern const struct net_conn_ops client_ops;
/* net's on_open: a session for an accepted connection; false if OOM. */
bool client_open(struct net_conn *c, void *arg);
/* A backend's response element `raw` (parsed: rsp) for sub-request s. */
void preq_sub_element(struct preq *r, struct sreq *s,
    const struct proto_rsp *rsp, struct str raw);
/* Sub-request s is complete; when it was the last, the reply is built
 * and sent in its turn (r may be freed: do not touch it after). */
void preq_sub_end(struct preq *r, struct sreq *s);
/* Sub-request s failed (`why` goes into the SERVER_ERROR); then as
 * preq_sub_end(). s may be NULL except for flush_all. */
void preq_sub_fail(struct preq *r, struct sreq *s, const char *why);
/* Shutdown: report to the main thread once nothing is in flight. */
void worker_check_drained(struct worker *w);
/* net_loop_call(): stop reading clients, finish what is in flight. */
void worker_quiesce(struct net_loop *l, void *arg);

/* ---- admin.c: what the proxy answers itself (worker thread) -------------- */

/* "stats [args]" into out ("...END\r\n"). False with out empty: unknown
 * args (answer ERROR); false with out non-empty: out of memory. */
bool admin_stats(struct worker *w, struct str args, struct buf *out);
/* A "ringproxy ..." line (without CRLF) into out; false: unknown or out
 * of memory (answer ERROR). */
bool admin_command(struct worker *w, struct str line, struct buf *out);
/* Count a node's reply of type t to a single-key `cmd` in w's stats
 * (delete_hits, cas_badval, ...). Never allocates. */
void admin_count_reply(struct worker *w, enum proto_cmd cmd,
    enum proto_rsp_type t);

/* ---- health.c: down nodes (main thread) ---------------------------------- */

/* net_loop_call() from a worker: node `arg` was marked down; probe it. */
void health_node_down(struct net_loop *l, void *arg);
/* Stop probing n (it left the configuration). */
void health_stop(struct pnode *n);

/* ---- reload.c: configuration (main thread) ------------------------------- */

/* Read and parse `path` into *c (not initialised by the caller). False
 * with err->text "file:line: reason" (or "file: reason"). */
bool reload_load(const char *path, struct ring_config *c,
    struct ring_error *err);
/* SIGHUP: re-read the configuration and switch to it, or keep the
 * running one and say why. Logs and updates p->report. */
void reload_run(struct proxy *p);
/* Apply -l and -t to a loaded configuration; false (logged) if -l is bad. */
bool config_apply_opts(const struct proxy_opts *o, struct ring_config *c);

#endif /* PROXY_PROXY_INT_H */
