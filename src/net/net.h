/*
 * net: the libevent glue, and the only module that knows libevent. It moves
 * bytes and calls callbacks; it knows nothing about memcached.
 *
 * Three users: the node (a server: listeners, N worker threads, accepted
 * connections), the proxy (the same server plus outbound connections, timers
 * and cross-thread calls) and the load generator (its own loops, outbound
 * connections, precise timers, bounded runs).
 *
 * Threads: a `struct net_loop` is one event_base driven by one thread. All
 * functions taking a loop, a connection or a timer must be called on that
 * loop's thread, except those marked "thread-safe". Connections never move
 * between loops.
 *
 * Server layout (STYLE.md section 7): the thread calling net_server_run() is
 * the acceptor; it owns the listeners, the signals and the "main" loop (for
 * maintenance timers). Accepted sockets are handed round-robin to the worker
 * loops through a queue and an eventfd (see net_loop_call()).
 *
 * NOTE(net): acceptor + queue rather than SO_REUSEPORT listeners per worker:
 * it works the same for unix sockets, spreads a handful of long-lived client
 * connections evenly (the kernel's reuseport hash does not), and keeps the
 * connection limit exact. Accepting is not the hot path for a cache whose
 * clients keep their connections open.
 */
#ifndef NET_NET_H
#define NET_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

struct buf;
struct net_conn;
struct net_loop;
struct net_server;
struct net_timer;

enum net_status {
    NET_OK = 0,
    NET_ENOMEM,     /* out of memory */
    NET_EADDR,      /* bad or unresolvable address */
    NET_ESOCKET,    /* socket/bind/listen/connect failed: see errno */
    NET_ETIMEDOUT,  /* outbound connect timed out */
    NET_ECLOSED,    /* the connection is closing or closed */
    NET_ESYS,       /* another system call failed: see errno */
};

/* Why a connection was closed, passed to on_close. */
enum net_close_why {
    NET_CLOSE_LOCAL = 0,    /* net_conn_close() or net_conn_close_flush() */
    NET_CLOSE_EOF,          /* the peer closed its side */
    NET_CLOSE_ERROR,        /* read/write error (reset, broken pipe, ...) */
    NET_CLOSE_IDLE,         /* the idle timeout passed */
    NET_CLOSE_CONNECT,      /* an outbound connect failed or timed out */
    NET_CLOSE_SHUTDOWN,     /* the server or loop is shutting down */
    NET_CLOSE_NOMEM,        /* out of memory growing a buffer */
};

/* Short lowercase name of a status / close reason ("ok", "eof", ...). */
const char *net_status_str(enum net_status st);
const char *net_close_str(enum net_close_why why);

/* ---- addresses ----------------------------------------------------------- */

struct net_addr {
    struct sockaddr_storage ss;
    socklen_t len;
};

/*
 * Resolve `host` (name, IPv4 or IPv6 literal, with or without [brackets])
 * and `port` into the first address getaddrinfo() returns. Blocks (DNS): for
 * startup and configuration only. NET_EADDR if it does not resolve.
 */
enum net_status net_addr_resolve(const char *host, uint16_t port,
    struct net_addr *out);
/* A unix-domain socket address; NET_EADDR if `path` is too long. */
enum net_status net_addr_unix(const char *path, struct net_addr *out);
/* Write "1.2.3.4:11211", "[::1]:11211" or "/path" into dst (NUL-terminated,
 * truncated to n). Never allocates. */
void net_addr_format(const struct net_addr *a, char *dst, size_t n);

/* ---- loops --------------------------------------------------------------- */

enum net_loop_flags {
    /* Timers with microsecond resolution (a timerfd per loop). Costs a
     * syscall per loop iteration: meant for load generators. */
    NET_LOOP_PRECISE_TIMERS = 1u << 0,
};

/*
 * Create a loop (an event_base without locks, and the cross-thread call
 * queue). The thread that runs it owns it. NULL if out of memory or if
 * libevent fails. Ignores SIGPIPE process-wide (writes report EPIPE instead).
 */
struct net_loop *net_loop_create(unsigned flags);
/*
 * Close every connection on the loop (on_close with NET_CLOSE_SHUTDOWN),
 * free every timer still attached, run and drop pending calls, and free the
 * loop. NULL is a no-op. Must not be called while the loop runs.
 */
void net_loop_destroy(struct net_loop *l);
/*
 * Run the loop until net_loop_stop(). With `timeout_ms` > 0 return at the
 * latest after that many milliseconds (a bounded run, for benchmarks and
 * tests). Returns NET_OK, or NET_ESYS if the backend failed.
 */
enum net_status net_loop_run(struct net_loop *l, uint64_t timeout_ms);
/* Make net_loop_run() return after the current callbacks. Thread-safe. */
void net_loop_stop(struct net_loop *l);

typedef void (*net_call_fn)(struct net_loop *l, void *arg);
/*
 * Queue fn(l, arg) to run on l's thread, in call order, and wake the loop.
 * Thread-safe; also fine from the loop's own thread (it then runs on the
 * next iteration). NET_ENOMEM if the queue entry cannot be allocated (fn is
 * then not called). Calls still queued at net_loop_destroy() run there.
 */
enum net_status net_loop_call(struct net_loop *l, net_call_fn fn, void *arg);

/* Opaque per-loop user pointer (e.g. a proxy worker's state). */
void net_loop_set_data(struct net_loop *l, void *data);
void *net_loop_data(const struct net_loop *l);
/* Number of open connections on this loop. */
size_t net_loop_conn_count(const struct net_loop *l);

typedef void (*net_signal_fn)(struct net_loop *l, int signo, void *arg);
/*
 * Call fn on l's thread whenever `signo` arrives (libevent signal event).
 * Only one loop in the process should watch a given signal. Allocates once.
 */
enum net_status net_loop_on_signal(struct net_loop *l, int signo,
    net_signal_fn fn, void *arg);

/* ---- timers -------------------------------------------------------------- */

typedef void (*net_timer_fn)(struct net_timer *t, void *arg);

/*
 * A one-shot timer on loop l, disarmed. Arm it with net_timer_arm(); it can
 * be re-armed from its own callback (periodic timers, backoff). Freed with
 * net_timer_destroy() or by net_loop_destroy(). NULL if out of memory.
 */
struct net_timer *net_timer_create(struct net_loop *l, net_timer_fn fn,
    void *arg);
/* (Re)arm to fire once after `us` microseconds, replacing any earlier arming.
 * Resolution is ~1 ms unless the loop has NET_LOOP_PRECISE_TIMERS. */
void net_timer_arm(struct net_timer *t, uint64_t us);
/* Disarm; a no-op if not armed. */
void net_timer_cancel(struct net_timer *t);
bool net_timer_armed(const struct net_timer *t);
/* Disarm and free; NULL is a no-op. Safe inside the timer's own callback. */
void net_timer_destroy(struct net_timer *t);

/* ---- connections --------------------------------------------------------- */

/*
 * Callbacks of a connection, all called on its loop's thread. Only on_read
 * is required. From any callback the user may write, close, pause, or
 * create other connections and timers.
 */
struct net_conn_ops {
    /*
     * New bytes were appended to `in` (the connection's input buffer).
     * Consume what was handled with buf_consume(); the rest stays for the
     * next call. To read a large block in one go, buf_reserve() on `in`.
     * Output written from here is flushed (one writev) when this returns.
     */
    void (*on_read)(struct net_conn *c, struct buf *in);
    /* Outbound only: the connect finished. On NET_OK the connection is
     * usable; otherwise on_close(NET_CLOSE_CONNECT) follows. Optional. */
    void (*on_connect)(struct net_conn *c, enum net_status st);
    /* The output queue drained to the low watermark after having passed
     * the high watermark (once per backpressure episode). Optional. */
    void (*on_drain)(struct net_conn *c);
    /* Last call: the socket is closed, queued output released. The conn is
     * freed when this returns; free user data here. Optional. */
    void (*on_close)(struct net_conn *c, enum net_close_why why);
};

/* Per-connection limits; zero fields take the defaults shown. */
struct net_conn_opts {
    size_t out_high;        /* stop reading past this much queued output
                             * (default 4 MiB), counted as its real cost:
                             * bytes plus each segment's header */
    size_t out_low;         /* resume at or below (default out_high / 4) */
    size_t read_size;       /* bytes reserved per read (default 16 KiB) */
    uint32_t idle_ms;       /* close after this long with no input (0 = off) */
};

typedef void (*net_release_fn)(void *arg);

/*
 * Queue a copy of `len` bytes for sending. Small writes are coalesced into
 * one segment. Output is flushed with writev when the current callback
 * returns (at the latest at the end of this loop iteration), never inside
 * this call. NET_ENOMEM (nothing queued) or NET_ECLOSED (dropped).
 */
enum net_status net_conn_write(struct net_conn *c, const void *p, size_t len);
/*
 * Queue `len` bytes at `p` by reference, without copying: the memory must
 * stay valid until release(arg) is called, which happens once, on the
 * loop's thread, when the bytes were written or the connection is closed.
 * On an error result release(arg) has already been called. `release` may be
 * NULL for static memory.
 */
enum net_status net_conn_write_ref(struct net_conn *c, const void *p,
    size_t len, net_release_fn release, void *arg);
/* Bytes queued and not yet written. */
size_t net_conn_out_pending(const struct net_conn *c);
/* What the queued output costs: its bytes plus a segment header per
 * queued segment (what the high watermark is compared with). */
size_t net_conn_out_cost(const struct net_conn *c);
/* True when that cost is over the high watermark: a user that executes
 * requests from buffered input should stop until on_drain. */
bool net_conn_out_full(const struct net_conn *c);
/* The connection's input buffer, for an on_drain that resumes work on
 * input left there. */
struct buf *net_conn_input(struct net_conn *c);
/* Write queued output now if the socket takes it (normally not needed). */
void net_conn_flush(struct net_conn *c);

/*
 * Close now: pending output is dropped (references released), then
 * on_close(NET_CLOSE_LOCAL) runs from the loop, not from inside this call,
 * so `c` stays valid until the current callback returns. Idempotent.
 */
void net_conn_close(struct net_conn *c);
/* Stop reading, send what is queued, then close (NET_CLOSE_LOCAL). For
 * "error reply then hang up". Gives up after 5 s or on a write error. */
void net_conn_close_flush(struct net_conn *c);
bool net_conn_closing(const struct net_conn *c);

/* Pause / resume reading (user backpressure, e.g. the proxy pausing a
 * client while its backend is slow). Independent of the automatic pause
 * at the high watermark: reading happens only when neither holds. */
void net_conn_pause_read(struct net_conn *c, bool pause);

/* Change limits of a live connection (zero fields: defaults). */
void net_conn_set_opts(struct net_conn *c, const struct net_conn_opts *o);

/*
 * Start a non-blocking connect to `addr` on loop l. Returns the connection
 * (queued writes are sent once connected) or NULL if out of memory or the
 * socket could not be created (errno set). The result arrives through
 * ops->on_connect; `timeout_ms` (0 = none) bounds the connect. TCP
 * connections get TCP_NODELAY. `o` may be NULL (defaults).
 */
struct net_conn *net_conn_connect(struct net_loop *l,
    const struct net_addr *addr, uint32_t timeout_ms,
    const struct net_conn_ops *ops, void *data,
    const struct net_conn_opts *o);

/* User data pointer of the connection. */
void net_conn_set_data(struct net_conn *c, void *data);
void *net_conn_data(const struct net_conn *c);
struct net_loop *net_conn_loop(const struct net_conn *c);
/* The socket (for logging and stats only; do not read or close it). */
int net_conn_fd(const struct net_conn *c);
/* Peer address as net_addr_format() writes it ("unix" for unix peers). */
void net_conn_peer(const struct net_conn *c, char *dst, size_t n);
/* Listener index the connection arrived on (-1 for outbound). */
int net_conn_listener(const struct net_conn *c);
/* True for a unix-domain socket. */
bool net_conn_is_unix(const struct net_conn *c);

/* ---- server -------------------------------------------------------------- */

struct net_server_config {
    unsigned nworkers;          /* worker threads (default 4) */
    size_t max_conns;           /* 0 = unlimited */
    /* Sent to a connection refused by max_conns before it is closed (may
     * be NULL). */
    const char *reject_msg;
    int backlog;                /* listen() backlog (default 1024) */
    uint32_t drain_ms;          /* shutdown: time to flush (default 5000) */
    struct net_conn_opts conn;  /* limits for accepted connections */
    const struct net_conn_ops *ops;     /* callbacks for accepted conns */
    void *arg;                  /* passed to the hooks below */
    /* On the worker thread, for each accepted connection before its first
     * read: set user data with net_conn_set_data(). Return false to close
     * it at once (on_close is not called). Optional. */
    bool (*on_open)(struct net_conn *c, void *arg);
    /* On each worker thread when it starts, and before it exits: by then
     * every connection on that loop is closed (its on_close ran); timers
     * still exist and are freed after. Optional. */
    void (*on_worker_start)(struct net_loop *l, unsigned idx, void *arg);
    void (*on_worker_stop)(struct net_loop *l, unsigned idx, void *arg);
    /* On the acceptor thread when shutdown begins (signal or
     * net_server_shutdown()), e.g. to send STOPPING=1. Optional. */
    void (*on_shutdown)(void *arg);
};

/* Counters, read with net_server_stats(); all thread-safe snapshots. */
struct net_server_stats {
    uint64_t curr_conns;        /* accepted connections open now */
    uint64_t total_conns;       /* accepted since start */
    uint64_t rejected_conns;    /* refused by max_conns */
    uint64_t listen_disabled;   /* times accept paused (EMFILE) */
};

/*
 * Create a server (no sockets, no threads yet). Copies `cfg`; cfg->ops must
 * outlive the server. Catches SIGTERM and SIGINT from now on (acted on
 * once net_server_run() runs). NULL if out of memory.
 */
struct net_server *net_server_create(const struct net_server_config *cfg);
/*
 * Listen on TCP `host` (NULL: every address) and `port` (0: pick one; the
 * port bound is stored in *bound if not NULL). Binds every address host
 * resolves to (IPv6 sockets are V6ONLY). NET_EADDR or NET_ESOCKET (errno
 * set; nothing left open) on failure. Call before net_server_run().
 */
enum net_status net_server_listen_tcp(struct net_server *s, const char *host,
    uint16_t port, uint16_t *bound);
/* Listen on a unix socket at `path`, replacing a stale socket file there,
 * with permissions `mode`. NET_EADDR or NET_ESOCKET. */
enum net_status net_server_listen_unix(struct net_server *s, const char *path,
    unsigned mode);
/* Listening sockets so far, and their fd and "addr" (net_addr_format). */
size_t net_server_listener_count(const struct net_server *s);
int net_server_listener_fd(const struct net_server *s, size_t i);
void net_server_listener_name(const struct net_server *s, size_t i,
    char *dst, size_t n);
/*
 * Start the workers (calling on_worker_start on each) and return; the
 * acceptor does not run yet. After this, net_server_worker() and
 * net_server_main_loop() are valid. NET_ESYS if a thread cannot start.
 */
enum net_status net_server_start(struct net_server *s);
/*
 * Run the acceptor in the calling thread until SIGTERM or SIGINT (or
 * net_server_shutdown()). Then: stop accepting, call on_shutdown, let every
 * connection flush its queued output and close (up to drain_ms), stop and
 * join the workers. Calls net_server_start() first if needed. Returns NET_OK
 * after a clean shutdown.
 */
enum net_status net_server_run(struct net_server *s);
/* Begin the shutdown net_server_run() performs on SIGTERM. Thread-safe. */
void net_server_shutdown(struct net_server *s);
/* Free the server (after net_server_run() returned); NULL is a no-op. */
void net_server_destroy(struct net_server *s);

unsigned net_server_worker_count(const struct net_server *s);
/* Worker loop `idx` (for outbound connections and timers there). */
struct net_loop *net_server_worker(const struct net_server *s, unsigned idx);
/* The acceptor's loop (maintenance timers, SIGHUP with net_loop_on_signal). */
struct net_loop *net_server_main_loop(const struct net_server *s);
void net_server_stats(const struct net_server *s, struct net_server_stats *st);

/* Version of the event library under net ("2.1.12-stable"), for stats. */
const char *net_backend_version(void);

/* ---- systemd readiness --------------------------------------------------- */

/*
 * Send `msg` ("READY=1", "STATUS=...", "STOPPING=1", "RELOADING=1", several
 * separated by newlines) as one datagram to $NOTIFY_SOCKET (a path, or an
 * abstract socket when it starts with '@'). NET_OK when sent or when
 * NOTIFY_SOCKET is unset (nothing to do); NET_EADDR for an unusable
 * variable, NET_ESOCKET if sending failed. Never blocks. Thread-safe.
 */
enum net_status net_sd_notify(const char *msg);
/* printf-style net_sd_notify(); messages longer than 1 KiB are cut. */
enum net_status net_sd_notifyf(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

#endif /* NET_NET_H */
