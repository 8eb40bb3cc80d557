/*
 * Private to src/net: the structures behind the opaque types of net.h and
 * the calls between the module's files.
 */
#ifndef NET_NET_INT_H
#define NET_NET_INT_H

#include "net/net.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

struct event;
struct event_base;
struct net_call;
struct net_sig;

struct net_loop {
    struct event_base *base;
    int wake_fd;                    /* eventfd: calls queued or stop */
    struct event *wake_ev;
    pthread_mutex_t mu;             /* guards the call queue */
    struct net_call *calls_head;
    struct net_call *calls_tail;
    atomic_bool stop_req;
    struct event *defer_ev;         /* flushes and closes, end of iteration */
    struct event *run_ev;           /* bounds net_loop_run() */
    struct net_conn *dirty;         /* conns waiting for defer_ev */
    struct net_conn *conns;         /* every live conn, doubly linked */
    size_t nconns;
    size_t naccepted;               /* conns that came from a server */
    struct net_timer *timers;       /* every timer, doubly linked */
    struct net_sig *sigs;
    void *data;
    /* Server worker bookkeeping (NULL/false for a plain loop). */
    struct net_server *srv;
    bool draining;
    struct net_timer *drain_timer;
};

enum net_conn_state {
    NET_CONN_CONNECTING = 0,    /* outbound connect in progress */
    NET_CONN_OPEN,              /* reading and writing */
    NET_CONN_DRAINING,          /* not reading; closes when output is sent */
    NET_CONN_CLOSED,            /* socket closed; freed by the loop soon */
};

/* One output segment: a copy in the conn's obuf (ptr NULL, at offset off)
 * or a reference to user memory released after sending. */
struct net_seg {
    const char *ptr;
    size_t off;
    size_t len;
    net_release_fn release;
    void *arg;
};

struct net_conn {
    struct net_loop *loop;
    int fd;
    enum net_conn_state state;
    enum net_close_why why;
    bool is_unix;
    bool user_paused;
    bool bp_paused;                 /* over the high watermark */
    bool reading;                   /* read event added */
    bool writing;                   /* write event added */
    bool dirty;                     /* on loop->dirty */
    bool in_read;                   /* inside on_read */
    int listener;
    int connect_err;                /* connect() failed at once */
    struct event *rev;
    struct event *wev;
    struct event *tev;              /* idle / drain deadline */
    uint64_t last_in_ns;
    const struct net_conn_ops *ops;
    void *data;
    struct net_conn_opts opts;
    struct buf in;
    /* Output: segments [shead, nseg) over obuf[ohead, olen) and refs. */
    struct net_seg *segs;
    size_t shead;
    size_t nseg;
    size_t segcap;
    char *obuf;
    size_t ohead;
    size_t olen;
    size_t ocap;
    size_t pending;                 /* bytes queued, all segments */
    struct net_addr peer;
    struct net_server *srv;         /* accepted from; NULL if outbound */
    struct net_conn *prev;
    struct net_conn *next;
    struct net_conn *next_dirty;
};

/* loop.c */
void net_loop_mark_dirty(struct net_loop *l, struct net_conn *c);
/* Close every conn (NET_CLOSE_SHUTDOWN) and run their on_close now. */
void net_loop_close_all(struct net_loop *l);

/* conn.c */
struct net_conn *net_conn_adopt(struct net_loop *l, int fd,
    const struct net_addr *peer, const struct net_conn_ops *ops,
    const struct net_conn_opts *o);
void net_conn_start_reading(struct net_conn *c);
/* Called by the loop for a dirty conn: flush it, or free it if closed. */
void net_conn_process_dirty(struct net_conn *c);
void net_conn_close_why(struct net_conn *c, enum net_close_why why);

/* server.c */
void net_server_conn_gone(struct net_server *s, struct net_loop *l);

#endif /* NET_NET_INT_H */
