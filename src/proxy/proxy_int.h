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
 *   struct client    one accepted connection (client.c): a FIFO of
 *                    requests (preq) answered strictly in order.
 *   struct bconn     one backend connection: a FIFO of sub-requests
 *                    (sreq) sent on it, matched to replies in order.
 *   struct preq      a client request (made by client.c, routed by
 *                    route.c, answered by reply.c); it waits for its
 *                    sub-requests (one per owner node for get, one per
 *                    node for flush_all, one otherwise).
 *   struct sreq      one request text sent to one backend (route.c),
 *                    queued on a bconn (backend.c) until its reply has
 *                    been handed to reply.c.
 *
 * Calls run one way: client.c → route.c → backend.c → reply.c, and
 * reply.c → client_flush(). backend.c calls nothing above it but reply.c.
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
/* client_output_limit defaults: past soft, stop reading the client (and
 * net's high watermark); past hard, disconnect it. */
#define PROXY_CLIENT_OUT_HIGH (8u << 20)
#define PROXY_CLIENT_OUT_HARD (32u << 20)
/* Room for "SERVER_ERROR backend <name> <why>" texts. */
#define PROXY_WHY_MAX (RING_MAX_NAME + 128)
/* Backend request lines stay within stock memcached's limit. */
#define PROXY_BACKEND_LINE_MAX 2048
#define PROXY_BACKEND_QUEUE 16384   /* per backend conn: refuse past it */
#define PROXY_BACKEND_OUT_MAX (16u << 20) /* bytes queued to one backend */
#define PROXY_HIST_BUCKETS 192
#define PROXY_FREE_SREQS 4096       /* recycled sub-requests per worker */
/* Longest line of a node's key listing ("key=..." or "ITEM ..."), CRLF
 * included: a URL-encoded 250-byte key and memcached's fields fit. */
#define PROXY_DUMP_LINE_MAX 2048

/* Relaxed counters: written by one thread, summed by any. */
#define CTR_ADD(p, n) __atomic_store_n((p), \
    __atomic_load_n((p), __ATOMIC_RELAXED) + (n), __ATOMIC_RELAXED)
#define CTR_GET(p) __atomic_load_n((p), __ATOMIC_RELAXED)

/* ---- pure pieces: values and the multi-get split (mget.c) -------------- */

/*
 * A reply element copied out of a backend's input, refcounted so that a
 * value asked for several times in one multi-get is held once and handed
 * to the client's output by reference (net_conn_write_ref with
 * pblob_unref as the release). Single-threaded: one worker's.
 */
struct pblob {
    uint32_t refs;
    size_t len;
    char data[];
};

/* A blob holding a copy of data[0..len), one reference; NULL if OOM. */
struct pblob *pblob_create(const void *data, size_t len);
/* One more reference; returns b. */
struct pblob *pblob_ref(struct pblob *b);
/* Drop one reference (void * so it can be a net release function);
 * the last frees. NULL is a no-op. */
void pblob_unref(void *b);

struct mget;

/*
 * A retrieval over `n` keys (owners[i]: key i's node index, or
 * RING_NO_NODE). Each distinct key is fetched once; keys are grouped by
 * owner (request order inside a group) and cut into sub-requests whose
 * line — `head_len` bytes of "gats <exptime>", then " <key>" per key and
 * "\r\n" — stays within line_max. The keys are copied. NULL if out of
 * memory. Pure: never logs, allocates only here.
 */
struct mget *mget_create(const struct str *keys, const uint32_t *owners,
    size_t n, size_t head_len, size_t line_max);
/* Drops every value still held. NULL is a no-op. */
void mget_destroy(struct mget *m);
/* Number of sub-requests; sub-request `sub`'s owner and its keys (up to
 * `cap` copied into keys[]; returns the count). */
size_t mget_nsubs(const struct mget *m);
uint32_t mget_sub_owner(const struct mget *m, size_t sub);
size_t mget_sub_keys(const struct mget *m, size_t sub, struct str *keys,
    size_t cap);

enum mget_status {
    MGET_OK = 0,
    MGET_UNEXPECTED,    /* not a key of sub-request `sub` at or after the
                         * keys already answered: cannot be attributed */
};
/*
 * A VALUE for `key` came back for sub-request `sub`: keys of `sub` before
 * it are misses, and `val` (its whole element; NULL: check only, keep
 * nothing) is held — one more reference — until its last occurrence has
 * been handed out.
 */
enum mget_status mget_value(struct mget *m, size_t sub, struct str key,
    struct pblob *val);
/* Would a VALUE for `key` from sub-request `sub` be the next (and only)
 * occurrence to hand out? Then the caller may send it at once and call
 * mget_value_sent() instead of mget_value(): it is handed out already. */
bool mget_value_is_next(const struct mget *m, size_t sub, struct str key);
enum mget_status mget_value_sent(struct mget *m, size_t sub, struct str key);
/* Sub-request `sub` ended (END, or its node is down with
 * --miss-when-down): its keys not answered are misses. */
void mget_sub_done(struct mget *m, size_t sub);

enum mget_next {
    MGET_NEXT_VALUE = 0,    /* *val: the next value (a reference) */
    MGET_NEXT_WAIT,         /* the next key's answer has not come yet */
    MGET_NEXT_END,          /* every occurrence handed out */
};
/* The next value in request order, skipping misses. */
enum mget_next mget_next(struct mget *m, struct pblob **val);
/* Occurrences handed out with a value so far. */
size_t mget_hits(const struct mget *m);
/* Bytes of values held and not yet handed out for their last time. */
size_t mget_held(const struct mget *m);

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
/*
 * True if meta reply `rsp` may answer a request for `key` (decoded) with
 * opaque word `opaque` ("O..."; empty if none): every k echo names the
 * key (base64 when the reply carries b, else as is), every O echo equals
 * the request's, an s flag equals a VA's data size, and an ME line names
 * the key. False: the reply cannot be attributed to that request.
 */
bool proxy_meta_echo_ok(const struct proto_rsp *rsp, struct str key,
    struct str opaque);
/*
 * The same check on a meta reply's first line alone (without "\r\n"),
 * before its data block is read: an echo can end the line early, and
 * what follows must then never be parsed as framing. True for lines
 * that are not meta replies (the parser judges those).
 */
bool proxy_meta_line_ok(struct str line, struct str key, struct str opaque);

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
    uint64_t protocol_errors;   /* replies that broke framing or could
                                 * not be attributed */
    uint64_t hist[PROXY_HIST_BUCKETS];
};

struct proxy;

/*
 * Probing of a node marked down. Main thread only; health.c owns it from
 * the first health_node_down() to health_stop(), which is the one place
 * that tears it down: it detaches the probe in flight (its connection's
 * data becomes NULL, so its callbacks, which run later, touch nothing)
 * and only then frees the timers.
 */
struct phealth {
    struct net_timer *retry;    /* fires the next probe */
    struct net_timer *deadline; /* bounds the probe in flight */
    struct net_conn *conn;      /* the probe in flight, or NULL */
    uint32_t backoff_ms;
    bool stopped;               /* removed or exiting: never probe again */
};

/*
 * NOTE(proxy): a pnode lives from pnode_create() until proxy_fini(), after
 * every thread stopped; removal by a reload only marks it (`removed`,
 * health_stop()). Workers keep plain pointers to it in sub-requests and
 * backend connections that outlive the ring that named it, so it must
 * never be freed earlier. Its slot (id) is reused only by itself: a
 * reload that adds back a removed node (same name and address) takes
 * the old pnode back (reload.c).
 */
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
    struct phealth health;      /* main thread only */
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
    size_t out_soft;            /* client_output_limit, bytes */
    size_t out_hard;
    uint32_t idle_ms;           /* idle_timeout, for client connections */
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
    int refs;                   /* atomic, pring_ref()/pring_unref() only:
                                 * the main thread's p->cur and each
                                 * worker's w->ring */
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
    PREQ_DUMP,                  /* key listing on every node: union */
    PREQ_QUIT,                  /* close after the replies before it */
};

struct preq {
    struct preq *next;
    struct client *cl;          /* NULL once off the client's FIFO */
    struct worker *w;
    enum preq_kind kind;
    enum proto_cmd cmd;
    uint32_t pending;           /* sub-requests not yet answered */
    bool done;                  /* every sub-request answered */
    bool failed;                /* errline replaces the rest of the reply */
    bool counted;               /* counted in the worker's inflight */
    bool quiet;                 /* meta q: drop what q hides */
    bool meta;                  /* meta: check echoes against mkey/opaque */
    bool streaming;             /* multi-get: values sent before the end */
    uint8_t mkey_len;
    uint8_t opaque_len;
    uint32_t nkeys;             /* retrieval: keys asked */
    size_t held;                /* bytes counted in cl->held */
    struct mget *mg;            /* retrieval: keys, values, order */
    struct pblob *val;          /* other kinds: the reply */
    struct pblob *errline;      /* with failed; NULL: out of memory */
    struct buf err;             /* flush_all, dump: nodes that failed */
    struct buf dump;            /* dump: the nodes' lines so far */
    uint32_t nfail;
    char mkey[PROTO_META_KEY_MAX];
    char opaque[PROTO_META_OPAQUE_MAX];
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
    uint64_t out_disconnects;   /* clients past client_output_limit hard */
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
    size_t held;                /* reply bytes waiting for their turn */
    size_t skip;                /* bytes of a refused value to swallow */
    size_t seen;
    enum client_state state;
    bool busy;                  /* inside process(): no re-entry */
    bool flushing;              /* inside client_flush(): no re-entry */
    bool flush_again;
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
    uint32_t client_limit;      /* as started (a reload does not change it) */
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
/* A node for config node `cn`: resolves its address (blocks on DNS) and
 * takes the next id. NULL (logged) if it does not resolve or no id is
 * left. Owned by p (p->all) until exit. */
struct pnode *pnode_create(struct proxy *p, const struct ring_config_node *cn);
/* A routing table over c's nodes (nodes[i] for c->nodes[i]); under policy
 * eject, down nodes get weight 0 on the routing ring. One reference, to
 * the caller. NULL if the ring cannot be built. Allocates (xmalloc). */
struct pring *pring_build(struct proxy *p, const struct ring_config *c,
    struct pnode **nodes);
/* Take one more reference to r (held by the caller); returns r. Any
 * thread. */
struct pring *pring_ref(struct pring *r);
/* Drop one reference; the last frees. Any thread; NULL is a no-op. */
void pring_unref(struct pring *r);
/* Make `r` current, taking over the caller's reference as p->cur: every
 * worker gets a reference of its own and switches to r on its next loop
 * iteration, draining nodes r no longer has; the previous p->cur is
 * dropped. */
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
/* Send every finished reply at the head of cl's FIFO, in order; resume
 * reading when the backlog has shrunk. Called by reply.c. */
void client_flush(struct client *cl);
/* Free a request that has left its client's FIFO (or whose client left). */
void preq_free(struct preq *r);
/* r's bytes held for its client changed: update the client's total. */
void preq_account(struct preq *r);
/* Send reply bytes `raw` of r now if r is at the head of its client's
 * FIFO and the client has room (true), instead of holding them. */
bool client_send_now(struct preq *r, struct str raw);
/* Shutdown: report to the main thread once nothing is in flight. */
void worker_check_drained(struct worker *w);
/* net_loop_call(): stop reading clients, finish what is in flight. */
void worker_quiesce(struct net_loop *l, void *arg);

/* ---- route.c: requests to backends (worker thread) ----------------------- */

/*
 * Send parsed request `req`, composed again, to the node(s) that answer
 * it, on the connections a client with `affinity` uses. Its
 * reply goes to r (NULL with noreply: replies are read and dropped). Any
 * failure is answered through reply.c; r may be finished on return.
 */
void route_request(struct worker *w, uint32_t affinity, struct preq *r,
    const struct proto_req *req);
/* A storage request the parser refused as too large: do to the stored
 * value what the node would (memcached drops it). */
void route_too_large(struct worker *w, uint32_t affinity,
    const struct proto_req *req);

/* ---- reply.c: replies back to requests (worker thread) ------------------- */

enum reply_status {
    REPLY_MORE = 0,     /* part of s's reply, more follows */
    REPLY_END,          /* s's reply is complete */
    REPLY_FOREIGN,      /* echoes another key or opaque: cannot be
                         * attributed (a client can provoke this) */
    REPLY_BAD,          /* cannot answer s at all: framing is lost */
};
/*
 * A backend's response element `raw` (parsed: rsp) for sub-request s,
 * the head of its connection's queue. Checks it against the request and,
 * when it fits, keeps it for the client (s->preq; none with noreply).
 * On FOREIGN and BAD nothing is kept: the caller closes the connection.
 */
enum reply_status reply_element(struct sreq *s, const struct proto_rsp *rsp,
    struct str raw);
/* For the head of a backend's queue: may the first line of p[0..len),
 * the next element, answer s? Checked before the element is parsed
 * whole (a meta echo can end its line early). False: a foreign echo
 * (as REPLY_FOREIGN); true too while the line is incomplete. */
bool reply_head_ok(const struct sreq *s, const char *p, size_t len);
/*
 * Key listings (lru_crawler metadump, stats cachedump): sub-request s is
 * one, so its reply is lines, not memcached response elements.
 */
bool reply_is_dump(const struct sreq *s);
/* One whole line `line` (CRLF included) of dump sub-request s's reply:
 * END, an error line (the node's part is missing: the whole reply
 * becomes SERVER_ERROR), or a key line of the expected shape, kept for
 * the client up to client_output_limit. REPLY_BAD: any other line. */
enum reply_status reply_dump_line(struct sreq *s, struct str line);
/* Sub-request s is complete; when it was the last, the reply is finished
 * and sent in its turn (r may be freed: do not touch it after). s may
 * be NULL except for flush_all. */
void reply_sub_end(struct preq *r, struct sreq *s);
/* Sub-request s failed (`why` goes into the SERVER_ERROR); then as
 * reply_sub_end(). s may be NULL except for flush_all. */
void reply_sub_fail(struct preq *r, struct sreq *s, const char *why);
/* Answer r, with no sub-request in flight, with "SERVER_ERROR why" or
 * with `text` (the proxy's own answer); r may be freed on return. */
void reply_fail(struct preq *r, const char *why);
void reply_text(struct preq *r, struct str text);

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

/* net_loop_call() from a worker: node `arg` was marked down; probe it
 * (nothing once health_stop() ran for it). */
void health_node_down(struct net_loop *l, void *arg);
/* Stop probing n for good (it left the configuration, or the proxy is
 * exiting): detach a probe in flight, then free the timers. Idempotent.
 * n itself stays valid (see struct pnode). */
void health_stop(struct pnode *n);
/* n, stopped by a reload that removed it, is back in the configuration:
 * it may be probed again. */
void health_start(struct pnode *n);

/* ---- fdlimit.c: descriptors (main thread) -------------------------------- */

/* Descriptors the proxy may hold at once, by kind (see ringproxy(8),
 * DESCRIPTORS). */
struct fd_need {
    uint64_t clients;           /* client_limit */
    uint64_t backends;          /* threads x conns per node x nodes */
    uint64_t probes;            /* one per node */
    uint64_t fixed;             /* event loops, listeners, slack */
    uint64_t total;
};

/* What `nodes` nodes with `conns_per_node` connections from each of
 * `threads` workers, `client_limit` clients and `nlisten` listeners need.
 * Pure. */
void fd_need_compute(struct fd_need *d, uint32_t client_limit,
    unsigned threads, uint32_t conns_per_node, size_t nodes, size_t nlisten);

enum fd_result {
    FD_OK = 0,                  /* the soft limit already covers it */
    FD_RAISED,                  /* raised the soft limit (why: a note) */
    FD_TOO_FEW,                 /* cannot: why names the numbers */
};

/* What configuration c needs at start with `threads` workers: room for
 * twice its nodes (a reload replacing them all). Pure. */
void fd_need_at_start(struct fd_need *d, const struct ring_config *c,
    unsigned threads);

/* Make the soft RLIMIT_NOFILE cover d->total, up to the hard limit (with
 * !apply, only say whether it could: FD_RAISED then means "would
 * raise"). The message (FD_RAISED, FD_TOO_FEW) goes into why[len]. Never
 * lowers it. */
enum fd_result fd_reserve(const struct fd_need *d, bool apply, char *why,
    size_t len);

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
