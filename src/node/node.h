/*
 * node: the ringcached daemon. Flags (memcached's), wiring of store, proto
 * and net, command execution and stats. main.c is the program; the rest is
 * a library so that the unit tests can reach the flag parser.
 */
#ifndef NODE_NODE_H
#define NODE_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The memcached release whose behaviour ringcached follows. */
#define NODE_MEMCACHED_COMPAT "1.6.18"

/* Settings from the command line, named after memcached's flags. */
struct node_config {
    uint16_t port;              /* -p: TCP port (11211); 0 = no TCP */
    char **listen;              /* -l: addresses ("127.0.0.1"), each may
                                 * carry its own ":port" */
    size_t nlisten;
    char *unix_path;            /* -s: unix socket (disables TCP) */
    unsigned unix_mask;         /* -a: octal permissions (0700) */
    size_t mem_limit;           /* -m: item memory, bytes (64 MiB) */
    size_t max_conns;           /* -c: simultaneous connections (1024) */
    unsigned threads;           /* -t: worker threads (4) */
    size_t item_size_max;       /* -I: largest item, bytes (1 MiB) */
    double growth_factor;       /* -f: slab class factor (1.25) */
    size_t chunk_min;           /* -n: smallest chunk payload (48) */
    size_t slab_chunk_max;      /* -o slab_chunk_max: largest chunk (512k) */
    unsigned slab_automove;     /* -o slab_automove=0|1|2 (1) */
    bool no_evict;              /* -M: errors instead of evictions */
    bool no_cas;                /* -C: no CAS uniques */
    int backlog;                /* -b: listen backlog (1024) */
    unsigned reqs_per_event;    /* -R: accepted, see the man page (20) */
    unsigned verbose;           /* -v: 0, 1 (-v), 2 (-vv), 3 (-vvv) */
    bool enable_shutdown;       /* -A: allow the "shutdown" command */
    bool disable_flush;         /* -F: refuse "flush_all" */
    uint32_t idle_timeout;      /* -o idle_timeout=N: seconds, 0 = off */
    unsigned hash_power;        /* -o hashpower=N (0: store default) */
    char *user;                 /* -u: drop root to this user */
    /* memcached's operational flags (Debian's memcached.conf uses them) */
    bool daemonize;             /* -d: fork into the background */
    char *pid_file;             /* -P: write the pid here once listening */
    bool lock_memory;           /* -k: mlockall() */
    bool max_core;              /* -r: raise the core file limit */
    bool dump_disabled;         /* -X: no cachedump / metadump */
    bool no_lru_crawler;        /* -o no_lru_crawler: lru_crawler disabled */
    char *ignored;              /* memcached options accepted without
                                 * effect, comma separated, for one log
                                 * line at startup (NULL: none) */
};

enum node_parse {
    NODE_PARSE_RUN = 0,     /* start the daemon */
    NODE_PARSE_EXIT_OK,     /* -h or -V was answered: exit 0 */
    NODE_PARSE_EXIT_USAGE,  /* bad usage, message written: exit 64 */
};

/* Fill `c` with the defaults listed above. */
void node_config_init(struct node_config *c);
/* Free what node_config_parse() allocated. */
void node_config_fini(struct node_config *c);
/*
 * Parse argv (memcached's short and long options; see ringcached(8)).
 * -h and -V write to `out`; errors write one line to `err`, naming the
 * flag and why. Resets getopt, so it may be called more than once.
 * Allocates (xmalloc) the listen list.
 */
enum node_parse node_config_parse(struct node_config *c, int argc,
    char **argv, FILE *out, FILE *err);

/*
 * Split one -l entry into host and port: "h", "h:p", "[v6]", "[v6]:p",
 * and a bare IPv6 literal (more than one ':') is all host. `host` gets a
 * NUL-terminated copy (at most hostlen-1 bytes). *port is `defport` when
 * the entry names none. False if malformed.
 */
bool node_split_listen(const char *entry, uint16_t defport, char *host,
    size_t hostlen, uint16_t *port);

/*
 * Run the daemon with `c` until SIGTERM/SIGINT or "shutdown" (-A).
 * Returns the process exit status: 0 after a clean shutdown, 1 when
 * startup failed (the reason is logged).
 */
int node_run(const struct node_config *c);

#endif /* NODE_NODE_H */
