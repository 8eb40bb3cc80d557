/*
 * Helpers shared by the net tests (helpers.c): blocking loopback clients
 * that fail the test on a short write, a net_server run in its own thread,
 * and an echo protocol ("bye\n" answers "ciao\n" and closes after flush).
 */

#ifndef TESTS_NET_HELPERS_H
#define TESTS_NET_HELPERS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/net.h"

/* Connect to 127.0.0.1:port; rcvbuf > 0 shrinks the receive buffer first. */
int tcp_connect_rcvbuf(uint16_t port, int rcvbuf);
/* Connect to 127.0.0.1:port with default buffers. */
int tcp_connect(uint16_t port);
/* Read until `n` bytes or EOF/timeout; returns bytes read. */
size_t read_n(int fd, char *dst, size_t n, int timeout_ms);
/* True when the peer closed within timeout_ms (EOF or reset). */
bool sees_eof(int fd, int timeout_ms);
/* Write all `n` bytes in one write(2) or fail the test. */
void write_all(int fd, const void *p, size_t n);

/* A server run in its own thread. */
struct srv {
    struct net_server *s;
    pthread_t th;
    uint16_t port;
    enum net_status rc;
};

/* Thread body: run v->s until shutdown, result in v->rc. */
void *srv_main(void *arg);
/* Create a server from cfg, listen on 127.0.0.1:0, run it in a thread. */
void srv_start(struct srv *v, const struct net_server_config *cfg);
/* Shut the server down, join its thread, check it ran OK, destroy it. */
void srv_stop(struct srv *v);

/* The echo protocol and the number of its on_close calls so far. */
extern const struct net_conn_ops echo_ops;
extern atomic_int echo_closes;

#endif
