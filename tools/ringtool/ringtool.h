/*
 * ringtool internals: the shared option block, loading a ring, JSON and
 * number output helpers, and one function per command.
 */
#ifndef RINGTOOL_RINGTOOL_H
#define RINGTOOL_RINGTOOL_H

#include <stdbool.h>
#include <stdio.h>

#include "ring/ring.h"

/* Exit statuses: like nginx -t, a bad configuration is 1, bad usage 2. */
#define RT_EXIT_OK 0
#define RT_EXIT_CONFIG 1
#define RT_EXIT_USAGE 2

struct rt_opts {
    bool json;
    const char *config;  /* -c FILE */
    const char *output;  /* -o FILE */
    const char *pool;    /* import-twemproxy -p POOL */
    const char *server;  /* -s HOST:PORT: a running ringproxy */
    int argc;            /* command arguments after the options */
    char **argv;
};

/* A configuration read from a file and the ring it describes. */
struct rt_ring {
    struct ring_config cfg;
    struct ring *ring;
};

/*
 * Read, parse and build `path`. On failure print "file:line: what" (or a
 * JSON error object with --json) and return false.
 * NOTE(ring): this is the one place a ring comes from; a later `-s
 * host:port` (ask a running ringproxy for its ring) plugs in here.
 */
bool rt_load(const struct rt_opts *o, const char *path, struct rt_ring *out);
void rt_unload(struct rt_ring *r);

/* Write `s` as a JSON string literal (quotes included). */
void rt_json_str(FILE *f, struct str s);
/* Report an error: text on stderr, or {"ok":false,"error":...} on stdout. */
void rt_error(const struct rt_opts *o, const char *msg, unsigned line);

/* The largest exact share over ideal (weight) share among nodes of weight
 * > 0: max/mean for equal weights. *worst (if not NULL) gets that node. */
double rt_max_ratio(const struct ring *r, const double *share,
    uint32_t *worst);

/* The commands: each runs with the parsed options and returns the exit
 * status (RT_EXIT_*); errors are reported through rt_error(). */
int rt_locate(const struct rt_opts *o);
int rt_balance(const struct rt_opts *o);
int rt_check(const struct rt_opts *o);
int rt_diff(const struct rt_opts *o);
int rt_plot(const struct rt_opts *o);
int rt_import_twemproxy(const struct rt_opts *o);
/* remote.c: -s, ask a running ringproxy ("ringproxy locate", "... nodes"). */
int rt_remote_locate(const struct rt_opts *o);
int rt_nodes(const struct rt_opts *o);

#endif /* RINGTOOL_RINGTOOL_H */
