/*
 * proxy: the ringproxy daemon. Flags, the routing data path, health
 * checks, reload and the proxy's own commands. main.c is the program; the
 * rest is a library so that unit tests can reach the pure pieces (the
 * multi-get splitter and merger, the reply matcher, the flag parser).
 */
#ifndef PROXY_PROXY_H
#define PROXY_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The memcached release whose behaviour ringproxy follows. */
#define PROXY_MEMCACHED_COMPAT "1.6.18"

/* Settings from the command line; the rest comes from ringproxy.conf(5). */
struct proxy_opts {
    const char *conf_path;  /* -c FILE (default /etc/ringproxy.conf) */
    unsigned threads;       /* -t N, 0 = the config's "threads" */
    const char *listen;     /* -l ADDR, NULL = the config's "listen" */
    unsigned verbose;       /* -v count */
    bool check;             /* --check: validate the config and exit */
    bool miss_when_down;    /* --miss-when-down: get of a down node's key
                             * answers a miss instead of SERVER_ERROR */
};

enum proxy_parse {
    PROXY_PARSE_RUN = 0,    /* start the daemon */
    PROXY_PARSE_EXIT_OK,    /* -h or -V answered: exit 0 */
    PROXY_PARSE_EXIT_USAGE, /* bad usage, message written: exit 64 */
};

#define PROXY_DEFAULT_CONF "/etc/ringproxy.conf"

/*
 * Parse argv (short and long options, see ringproxy(8)). -h and -V write
 * to `out`; an error writes one line to `err`. Resets getopt. The strings
 * in *o point into argv.
 */
enum proxy_parse proxy_opts_parse(struct proxy_opts *o, int argc,
    char **argv, FILE *out, FILE *err);

/*
 * --check: read and validate the configuration, print a summary to `out`
 * or the error ("file:line: reason") to `err`. Returns the exit status:
 * 0 valid, 1 invalid.
 */
int proxy_check(const struct proxy_opts *o, FILE *out, FILE *err);

/*
 * Run the daemon until SIGTERM/SIGINT. Returns the exit status: 0 after a
 * clean shutdown, 1 when startup failed (the reason is logged).
 */
int proxy_run(const struct proxy_opts *o);

#endif /* PROXY_PROXY_H */
