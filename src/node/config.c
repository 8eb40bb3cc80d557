/*
 * ringcached's command line: memcached's flags with the same meaning, long
 * options included. Accepts memcached's tunables of mechanisms it does not
 * have without effect (listed in one log line at startup); refuses what
 * would be unsafe to ignore (UDP, TLS) or what it does not speak (the
 * binary protocol) with a message that says so.
 */
#include "node/node.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "store/store.h"
#include "util/util.h"

#define NODE_DEFAULT_PORT 11211

static const char short_opts[] =
    "p:U:s:a:Al:du:m:c:vhVf:n:t:R:b:B:I:Fo:P:krLXWMC";

static const struct option long_opts[] = {
    { "port", required_argument, NULL, 'p' },
    { "udp-port", required_argument, NULL, 'U' },
    { "unix-socket", required_argument, NULL, 's' },
    { "unix-mask", required_argument, NULL, 'a' },
    { "enable-shutdown", no_argument, NULL, 'A' },
    { "listen", required_argument, NULL, 'l' },
    { "daemon", no_argument, NULL, 'd' },
    { "user", required_argument, NULL, 'u' },
    { "memory-limit", required_argument, NULL, 'm' },
    { "conn-limit", required_argument, NULL, 'c' },
    { "verbose", optional_argument, NULL, 'v' },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'V' },
    { "slab-growth-factor", required_argument, NULL, 'f' },
    { "slab-min-size", required_argument, NULL, 'n' },
    { "threads", required_argument, NULL, 't' },
    { "max-reqs-per-event", required_argument, NULL, 'R' },
    { "listen-backlog", required_argument, NULL, 'b' },
    { "protocol", required_argument, NULL, 'B' },
    { "max-item-size", required_argument, NULL, 'I' },
    { "disable-flush-all", no_argument, NULL, 'F' },
    { "extended", required_argument, NULL, 'o' },
    { "pidfile", required_argument, NULL, 'P' },
    { "lock-memory", no_argument, NULL, 'k' },
    { "enable-coredumps", no_argument, NULL, 'r' },
    { "enable-largepages", no_argument, NULL, 'L' },
    { "disable-dumping", no_argument, NULL, 'X' },
    { "disable-watch", no_argument, NULL, 'W' },
    { "disable-evictions", no_argument, NULL, 'M' },
    { "disable-cas", no_argument, NULL, 'C' },
    { "idle-timeout", required_argument, NULL, 1000 },
    { NULL, 0, NULL, 0 },
};

static const char usage_text[] =
    "Usage: ringcached [options]\n"
    "A memcached-compatible cache node (text protocol; memcached "
    NODE_MEMCACHED_COMPAT " flags).\n"
    "\n"
    "-p, --port=<num>          TCP port to listen on (default: 11211)\n"
    "-l, --listen=<addr>       interfaces to listen on, comma separated,\n"
    "                          each addr[:port] (default: 127.0.0.1)\n"
    "-s, --unix-socket=<file>  UNIX socket to listen on (disables TCP)\n"
    "-a, --unix-mask=<mask>    access mask for the UNIX socket, octal "
    "(default: 700)\n"
    "-U, --udp-port=0          UDP is not supported; only 0 is accepted\n"
    "-m, --memory-limit=<num>  item memory in megabytes (default: 64)\n"
    "-c, --conn-limit=<num>    max simultaneous connections (default: 1024)\n"
    "-t, --threads=<num>       worker threads (default: 4)\n"
    "-I, --max-item-size=<num> largest item, k/m suffix (default: 1m,\n"
    "                          min: 1k, max: 1024m)\n"
    "-f, --slab-growth-factor=<num> chunk size growth factor "
    "(default: 1.25)\n"
    "-n, --slab-min-size=<bytes> min space for key+value+flags "
    "(default: 48)\n"
    "-b, --listen-backlog=<num> listen backlog (default: 1024)\n"
    "-R, --max-reqs-per-event=<num> accepted for compatibility\n"
    "-B, --protocol=<name>     ascii or auto (binary is not supported)\n"
    "-A, --enable-shutdown     enable the ascii \"shutdown\" command\n"
    "-F, --disable-flush-all   disable the flush_all command\n"
    "-X, --disable-dumping     disable stats cachedump and lru_crawler "
    "metadump\n"
    "-d, --daemon              run as a daemon (fork, setsid, chdir /)\n"
    "-P, --pidfile=<file>      write the pid to <file> once listening,\n"
    "                          removed at exit\n"
    "-k, --lock-memory         lock down all paged memory (mlockall)\n"
    "-r, --enable-coredumps    maximize core file limit\n"
    "-L, --enable-largepages   accepted, no effect\n"
    "-W, --disable-watch       accepted, no effect (there is no watch)\n"
    "-M, --disable-evictions   return errors on memory exhausted instead "
    "of evicting\n"
    "-C, --disable-cas         report 0 as every CAS unique\n"
    "-o, --extended=<opts>     comma separated: idle_timeout=<secs>,\n"
    "                          hashpower=<num>, slab_chunk_max=<bytes>\n"
    "                          (default: 524288), slab_automove=<0|1|2>\n"
    "                          (default: 1), slab_reassign, lru_crawler,\n"
    "                          no_lru_crawler; accepted without effect:\n"
    "                          modern, hash_algorithm, lru_maintainer,\n"
    "                          lru_crawler_sleep and the other LRU\n"
    "                          tunables (see ringcached(8)); ssl_* refused\n"
    "    --idle-timeout=<secs> close connections idle this long "
    "(default: 0, off)\n"
    "-u, --user=<user>         run as <user>; required when started as "
    "root\n"
    "-v, --verbose             log warnings and connections; -vv also "
    "commands\n"
    "-h, --help                print this help and exit\n"
    "-V, --version             print version and exit\n";

void
node_config_init(struct node_config *c)
{
    memset(c, 0, sizeof(*c));
    c->port = NODE_DEFAULT_PORT;
    c->unix_mask = 0700;
    c->mem_limit = (size_t)64 << 20;
    c->max_conns = 1024;
    c->threads = 4;
    c->item_size_max = (size_t)1 << 20;
    c->growth_factor = 1.25;
    c->chunk_min = 48;
    c->slab_chunk_max = (size_t)512 << 10;
    c->slab_automove = 1;
    c->backlog = 1024;
    c->reqs_per_event = 20;
}

void
node_config_fini(struct node_config *c)
{
    size_t i;

    for (i = 0; i < c->nlisten; i++) {
        free(c->listen[i]);
    }
    free(c->listen);
    free(c->unix_path);
    free(c->user);
    free(c->pid_file);
    free(c->ignored);
    c->pid_file = NULL;
    c->ignored = NULL;
    c->listen = NULL;
    c->nlisten = 0;
    c->unix_path = NULL;
    c->user = NULL;
}

/* Parse a whole decimal u32 in [lo, hi]. */
static bool
parse_range(const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
    uint32_t v;

    if (!util_parse_u32(str_from_cstr(s), &v) || v < lo || v > hi) {
        return false;
    }
    *out = v;
    return true;
}

/* -I: bytes with an optional k/m suffix (either case), 1k .. 1024m. */
static bool
parse_item_size(const char *s, size_t *out)
{
    struct str v = str_from_cstr(s);
    uint64_t n;
    uint64_t mult = 1;

    if (v.len > 0 && (v.ptr[v.len - 1] == 'k' || v.ptr[v.len - 1] == 'K')) {
        mult = 1024;
        v.len--;
    } else if (v.len > 0 &&
        (v.ptr[v.len - 1] == 'm' || v.ptr[v.len - 1] == 'M')) {
        mult = 1024 * 1024;
        v.len--;
    }
    if (!util_parse_u64(v, &n) || n > (UINT64_C(1) << 30) / mult) {
        return false;
    }
    n *= mult;
    if (n < 1024) {
        return false;
    }
    *out = (size_t)n;
    return true;
}

/* -a: octal permission bits. */
static bool
parse_mask(const char *s, unsigned *out)
{
    char *end;
    unsigned long v;

    if (*s == '\0' || strspn(s, "01234567") != strlen(s)) {
        return false;
    }
    v = strtoul(s, &end, 8);
    if (*end != '\0' || v > 0777) {
        return false;
    }
    *out = (unsigned)v;
    return true;
}

static bool
parse_factor(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);

    if (*s == '\0' || *end != '\0' || !(v > 1.0) || v > 100.0) {
        return false;
    }
    *out = v;
    return true;
}

static void
add_listen(struct node_config *c, const char *list)
{
    const char *p = list;
    const char *comma;
    size_t len;

    while (*p != '\0') {
        comma = strchr(p, ',');
        len = comma != NULL ? (size_t)(comma - p) : strlen(p);
        if (len > 0) {
            c->listen = xrealloc(c->listen,
                (c->nlisten + 1) * sizeof(*c->listen));
            c->listen[c->nlisten++] = xstrndup(p, len);
        }
        p += len;
        if (*p == ',') {
            p++;
        }
    }
}

bool
node_split_listen(const char *entry, uint16_t defport, char *host,
    size_t hostlen, uint16_t *port)
{
    const char *colon;
    const char *close;
    size_t hl;
    uint32_t p = defport;

    if (entry[0] == '[') {
        close = strchr(entry, ']');
        if (close == NULL || (close[1] != '\0' && close[1] != ':')) {
            return false;
        }
        hl = (size_t)(close - entry - 1);
        entry++;
        colon = close[1] == ':' ? close + 1 : NULL;
    } else {
        colon = strchr(entry, ':');
        if (colon != NULL && strchr(colon + 1, ':') != NULL) {
            colon = NULL;       /* a bare IPv6 literal */
        }
        hl = colon != NULL ? (size_t)(colon - entry) : strlen(entry);
    }
    if (hl == 0 || hl >= hostlen) {
        return false;
    }
    if (colon != NULL && !parse_range(colon + 1, 0, 65535, &p)) {
        return false;
    }
    memcpy(host, entry, hl);
    host[hl] = '\0';
    *port = (uint16_t)p;
    return true;
}

/* Note a memcached option that means nothing here (see node.h). */
static void
add_ignored(struct node_config *c, const char *what)
{
    size_t old = c->ignored != NULL ? strlen(c->ignored) : 0;
    size_t add = strlen(what);

    c->ignored = xrealloc(c->ignored, old + add + 3);
    if (old > 0) {
        memcpy(c->ignored + old, ", ", 2);
        old += 2;
    }
    memcpy(c->ignored + old, what, add + 1);
}

/* memcached 1.6.18's -o options that tune mechanisms ringcached does not
 * have (its LRU, extstore, logging buffers): accepted, no effect. */
static const char *const ignored_extended[] = {
    "modern", "no_modern", "hash_algorithm", "lru_maintainer",
    "no_lru_maintainer", "lru_crawler_sleep", "lru_crawler_tocrawl",
    "tail_repair_time", "temporary_ttl", "hot_lru_pct", "warm_lru_pct",
    "hot_max_factor", "warm_max_factor", "watcher_logbuf_size",
    "worker_logbuf_size", "track_sizes", "no_hashexpand",
    "read_buf_mem_limit", "slab_automove_ratio", "slab_automove_window",
    "slab_automove_freeratio", "no_maxconns_fast", "sock_cookie_id",
    "resp_obj_mem_limit", "no_inline_ascii_resp", "inline_ascii_resp",
    "drop_privileges", "no_drop_privileges", "ext_", NULL,
};

/*
 * -o options for compatibility with memcached: true if `opt` was one (and
 * its value fits). NOTE(node): TLS options are refused rather than
 * ignored: a client told to expect TLS must not get plain text.
 */
static bool
parse_compat_option(struct node_config *c, const char *opt,
    const char *val)
{
    size_t i;
    size_t len;

    if (strcmp(opt, "lru_crawler") == 0 && val == NULL) {
        c->no_lru_crawler = false;
        return true;
    }
    if (strcmp(opt, "no_lru_crawler") == 0 && val == NULL) {
        c->no_lru_crawler = true;
        return true;
    }
    for (i = 0; ignored_extended[i] != NULL; i++) {
        len = strlen(ignored_extended[i]);
        if (strncmp(opt, ignored_extended[i], len) == 0 &&
            (opt[len] == '\0' || ignored_extended[i][len - 1] == '_')) {
            char what[64];

            snprintf(what, sizeof(what), "-o %s", opt);
            add_ignored(c, what);
            return true;
        }
    }
    return false;
}

/* -o options of the item store (slab_*); false if `opt` is none of them
 * or its value is bad. */
static bool
parse_store_option(struct node_config *c, const char *opt, const char *val)
{
    uint32_t v;

    if (strcmp(opt, "slab_reassign") == 0 && val == NULL) {
        return true;    /* always on */
    }
    if (strcmp(opt, "slab_automove") == 0 && val != NULL
        && parse_range(val, 0, 2, &v)) {
        c->slab_automove = v;
        return true;
    }
    if (strcmp(opt, "slab_chunk_max") == 0 && val != NULL
        && parse_item_size(val, &c->slab_chunk_max)
        && c->slab_chunk_max <= ((size_t)1 << 20)
        && c->slab_chunk_max % 8 == 0) {
        return true;
    }
    return false;
}

/* -o a=b,c=d: the extended options ringcached knows. */
static bool
parse_extended(struct node_config *c, const char *list, FILE *err)
{
    char *copy = xstrdup(list);
    char *save = NULL;
    char *opt;
    char *val;
    uint32_t v;
    bool ok = true;

    for (opt = strtok_r(copy, ",", &save); opt != NULL && ok;
        opt = strtok_r(NULL, ",", &save)) {
        val = strchr(opt, '=');
        if (val != NULL) {
            *val++ = '\0';
        }
        if (strcmp(opt, "idle_timeout") == 0 && val != NULL &&
            parse_range(val, 0, UINT32_MAX / 1000, &v)) {
            c->idle_timeout = v;
        } else if (strcmp(opt, "hashpower") == 0 && val != NULL &&
            parse_range(val, 12, 32, &v)) {
            c->hash_power = v;
        } else if (parse_store_option(c, opt, val)) {
            /* slab_chunk_max, slab_automove, slab_reassign */
        } else if (strcmp(opt, "maxconns_fast") == 0 && val == NULL) {
            /* memcached's default, and ours: nothing to do. */
        } else if (parse_compat_option(c, opt, val)) {
            /* lru_crawler, and memcached's tunables without effect */
        } else if (strncmp(opt, "ssl_", 4) == 0) {
            fprintf(err, "ringcached: -o %s: TLS is not supported; "
                "refusing to serve plain text where TLS was asked for\n",
                opt);
            ok = false;
        } else {
            fprintf(err, "ringcached: -o %s%s%s: unknown or invalid "
                "extended option (known: idle_timeout=<secs>, "
                "hashpower=<12..32>, slab_chunk_max=<1k..1m>, "
                "slab_automove=<0..2>, slab_reassign)\n", opt, val != NULL ? "=" : "",
                val != NULL ? val : "");
            ok = false;
        }
    }
    free(copy);
    return ok;
}

static enum node_parse
bad(FILE *err, int opt, const char *arg, const char *why)
{
    fprintf(err, "ringcached: -%c %s: %s\n", opt, arg != NULL ? arg : "",
        why);
    return NODE_PARSE_EXIT_USAGE;
}

/* One option; NODE_PARSE_RUN to go on. Flat dispatch (STYLE.md 5). */
static enum node_parse
parse_one(struct node_config *c, int opt, const char *arg, FILE *out,
    FILE *err)
{
    uint32_t v;

    switch (opt) {
    case 'p':
        if (!parse_range(arg, 0, 65535, &v)) {
            return bad(err, opt, arg, "not a port number (0..65535)");
        }
        c->port = (uint16_t)v;
        break;
    case 'U':
        if (strcmp(arg, "0") != 0) {
            return bad(err, opt, arg, "UDP is not supported (it is an "
                "amplification risk); only -U 0 is accepted");
        }
        break;
    case 's':
        free(c->unix_path);
        c->unix_path = xstrdup(arg);
        break;
    case 'a':
        if (!parse_mask(arg, &c->unix_mask)) {
            return bad(err, opt, arg, "not an octal mask (e.g. 700)");
        }
        break;
    case 'A':
        c->enable_shutdown = true;
        break;
    case 'l':
        add_listen(c, arg);
        break;
    case 'd':
        c->daemonize = true;
        break;
    case 'P':
        free(c->pid_file);
        c->pid_file = xstrdup(arg);
        break;
    case 'k':
        c->lock_memory = true;
        break;
    case 'r':
        c->max_core = true;
        break;
    case 'X':
        c->dump_disabled = true;
        break;
    case 'L':
        add_ignored(c, "-L");
        break;
    case 'W':
        add_ignored(c, "-W");
        break;
    case 'u':
        free(c->user);
        c->user = xstrdup(arg);
        break;
    case 'm':
        if (!parse_range(arg, 1, 1024 * 1024, &v)) {
            return bad(err, opt, arg, "not a size in megabytes");
        }
        c->mem_limit = (size_t)v << 20;
        break;
    case 'c':
        if (!parse_range(arg, 1, 1000000, &v)) {
            return bad(err, opt, arg, "not a connection count");
        }
        c->max_conns = v;
        break;
    case 'v':
        /* --verbose=N sets the level; each -v adds one. */
        if (arg != NULL && !parse_range(arg, 0, 3, &c->verbose)) {
            return bad(err, opt, arg, "not a verbosity (0..3)");
        }
        if (arg == NULL && c->verbose < 3) {
            c->verbose++;
        }
        break;
    case 'h':
        fputs(usage_text, out);
        return NODE_PARSE_EXIT_OK;
    case 'V':
        fprintf(out, "ringcached %s (memcached %s compatible)\n",
            PACKAGE_VERSION, NODE_MEMCACHED_COMPAT);
        return NODE_PARSE_EXIT_OK;
    case 'f':
        if (!parse_factor(arg, &c->growth_factor)) {
            return bad(err, opt, arg, "not a factor above 1.0");
        }
        break;
    case 'n':
        if (!parse_range(arg, 1, 1024 * 1024, &v)) {
            return bad(err, opt, arg, "not a size in bytes");
        }
        c->chunk_min = v;
        break;
    case 't':
        if (!parse_range(arg, 1, 256, &v)) {
            return bad(err, opt, arg, "not a thread count (1..256)");
        }
        c->threads = v;
        break;
    case 'R':
        if (!parse_range(arg, 1, UINT32_MAX, &c->reqs_per_event)) {
            return bad(err, opt, arg, "not a request count");
        }
        break;
    case 'b':
        if (!parse_range(arg, 1, 65535, &v)) {
            return bad(err, opt, arg, "not a backlog length");
        }
        c->backlog = (int)v;
        break;
    case 'B':
        if (strcmp(arg, "ascii") != 0 && strcmp(arg, "auto") != 0) {
            return bad(err, opt, arg, "only the ascii protocol is "
                "supported (ascii, auto)");
        }
        break;
    case 'I':
        if (!parse_item_size(arg, &c->item_size_max)) {
            return bad(err, opt, arg, "not an item size between 1k and "
                "1024m");
        }
        break;
    case 'F':
        c->disable_flush = true;
        break;
    case 'M':
        c->no_evict = true;
        break;
    case 'C':
        c->no_cas = true;
        break;
    case 'o':
        if (!parse_extended(c, arg, err)) {
            return NODE_PARSE_EXIT_USAGE;
        }
        break;
    case 1000:
        if (!parse_range(arg, 0, UINT32_MAX / 1000, &c->idle_timeout)) {
            return bad(err, 'o', arg, "not an idle timeout in seconds");
        }
        break;
    default:
        fprintf(err, "ringcached: try 'ringcached --help'\n");
        return NODE_PARSE_EXIT_USAGE;
    }
    return NODE_PARSE_RUN;
}

/* -m must hold the pages of the largest item (-I) and one more. */
static bool
check_memory(const struct node_config *c, FILE *err)
{
    struct store_config sc;
    size_t min;

    store_config_init(&sc);
    sc.item_size_max = c->item_size_max;
    sc.slab_chunk_max = c->slab_chunk_max;
    min = store_min_memory(&sc);
    if (c->mem_limit < min) {
        fprintf(err, "ringcached: -m %zu is too small for -I %zu: at least "
            "-m %zu is needed\n", c->mem_limit >> 20, c->item_size_max,
            (min + ((size_t)1 << 20) - 1) >> 20);
        return false;
    }
    return true;
}

/* Checks that need every flag: memcached's -I against -m rule. */
static enum node_parse
check_config(struct node_config *c, FILE *err)
{
    char host[256];
    uint16_t port;
    size_t i;

    if (!check_memory(c, err)) {
        return NODE_PARSE_EXIT_USAGE;
    }
    for (i = 0; i < c->nlisten; i++) {
        if (!node_split_listen(c->listen[i], c->port, host, sizeof(host),
            &port)) {
            fprintf(err, "ringcached: -l %s: not an address[:port]\n",
                c->listen[i]);
            return NODE_PARSE_EXIT_USAGE;
        }
    }
    if (c->nlisten == 0) {
        add_listen(c, "127.0.0.1");
    }
    return NODE_PARSE_RUN;
}

enum node_parse
node_config_parse(struct node_config *c, int argc, char **argv, FILE *out,
    FILE *err)
{
    enum node_parse r;
    int opt;

    optind = 0;         /* glibc: full reset, so tests may parse again */
    opterr = 0;
    while ((opt = getopt_long(argc, argv, short_opts, long_opts, NULL))
        != -1) {
        if (opt == '?') {
            fprintf(err, "ringcached: unknown option or missing argument: "
                "%s\n", argv[optind - 1]);
            fprintf(err, "ringcached: try 'ringcached --help'\n");
            return NODE_PARSE_EXIT_USAGE;
        }
        r = parse_one(c, opt, optarg, out, err);
        if (r != NODE_PARSE_RUN) {
            return r;
        }
    }
    if (optind < argc) {
        fprintf(err, "ringcached: unexpected argument: %s\n", argv[optind]);
        return NODE_PARSE_EXIT_USAGE;
    }
    return check_config(c, err);
}
