/*
 * ringtool: inspect a ringproxy.conf(5) ring. Option parsing, command
 * dispatch, loading, and the small commands: locate, balance, check.
 */
#include "tools/ringtool/ringtool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
    "usage: ringtool [--json] COMMAND [options] [args]\n"
    "\n"
    "commands:\n"
    "  locate -c FILE KEY...     owner of each key (KEY '-': one per line "
    "on stdin)\n"
    "  locate -s HOST:PORT KEY...  owner and state, asked of a running "
    "ringproxy\n"
    "  nodes -s HOST:PORT        nodes of a running ringproxy: weight, "
    "state, share\n"
    "  balance -c FILE           weight, ideal and exact share of each node\n"
    "  diff OLD NEW              what fraction of keys moves, from which "
    "node to which\n"
    "  check -c FILE             validate a configuration (like nginx -t)\n"
    "  plot -c FILE -o FILE.svg  draw the ring and share vs weight\n"
    "  import-twemproxy [-p POOL] [-o FILE] nutcracker.yml\n"
    "                            convert a twemproxy pool, same placement\n"
    "\n"
    "options:\n"
    "  -c FILE    the ringproxy.conf(5) file\n"
    "  -s ADDR    a running ringproxy (host:port or /unix/path)\n"
    "  -o FILE    output file (plot, import-twemproxy)\n"
    "  -p POOL    the twemproxy pool to import (default: the only one)\n"
    "  --json     machine-readable output on every command\n"
    "  -h, --help this text\n"
    "\n"
    "exit status: 0 ok, 1 invalid configuration or failed command, 2 usage\n";

void
rt_json_str(FILE *f, struct str s)
{
    fputc('"', f);
    for (size_t i = 0; i < s.len; i++) {
        unsigned char ch = (unsigned char)s.ptr[i];
        if (ch == '"' || ch == '\\') {
            fputc('\\', f);
            fputc(ch, f);
        } else if (ch < 0x20 || ch == 0x7f) {
            fprintf(f, "\\u%04x", ch);
        } else {
            fputc(ch, f);
        }
    }
    fputc('"', f);
}

void
rt_error(const struct rt_opts *o, const char *msg, unsigned line)
{
    if (o->json) {
        printf("{\"ok\":false,\"error\":");
        rt_json_str(stdout, str_from_cstr(msg));
        printf(",\"line\":%u}\n", line);
    } else {
        fprintf(stderr, "ringtool: %s\n", msg);
    }
}

bool
rt_load(const struct rt_opts *o, const char *path, struct rt_ring *out)
{
    struct ring_error err;
    enum ring_status st;
    size_t len;
    char *text, msg[600];

    memset(out, 0, sizeof(*out));
    text = util_read_file(path, &len);
    if (text == NULL) {
        snprintf(msg, sizeof(msg), "%s: %s", path, strerror(errno));
        rt_error(o, msg, 0);
        return false;
    }
    st = ring_config_parse(&out->cfg, text, len, path, &err);
    free(text);
    if (st != RING_OK) {
        rt_error(o, err.text, err.line);
        return false;
    }
    st = ring_config_build(&out->cfg, &out->ring);
    if (st != RING_OK) {
        snprintf(msg, sizeof(msg), "%s: %s", path, ring_strerror(st));
        rt_error(o, msg, 0);
        ring_config_fini(&out->cfg);
        return false;
    }
    return true;
}

void
rt_unload(struct rt_ring *r)
{
    ring_destroy(r->ring);
    ring_config_fini(&r->cfg);
}

static bool
need_config(const struct rt_opts *o, const char *cmd)
{
    if (o->config == NULL) {
        fprintf(stderr, "ringtool: %s needs -c FILE\n", cmd);
        return false;
    }
    return true;
}

/* ---- locate -------------------------------------------------------------- */

static void
print_hit(const struct rt_opts *o, const struct ring *r, struct str key,
    bool first)
{
    struct ring_hit h;
    int w = ring_hash_bits(r) / 4;

    ring_locate(r, key, &h);
    if (h.node == RING_NO_NODE) {
        /* Unreachable for a loaded config: it has a node of weight > 0. */
        return;
    }
    struct str name = ring_node_name(r, h.node);
    struct str addr = ring_node_addr(r, h.node);
    if (!o->json) {
        fwrite(key.ptr, 1, key.len, stdout);
        printf("\t%.*s\t%.*s\t%0*llx\t%0*llx\n", (int)name.len, name.ptr,
            (int)addr.len, addr.ptr, w, (unsigned long long)h.key_hash, w,
            (unsigned long long)h.point);
        return;
    }
    printf("%s{\"key\":", first ? "" : ",\n");
    rt_json_str(stdout, key);
    printf(",\"node\":");
    rt_json_str(stdout, name);
    printf(",\"address\":");
    rt_json_str(stdout, addr);
    printf(",\"hash\":\"%0*llx\",\"point\":\"%0*llx\",\"point_index\":%u}",
        w, (unsigned long long)h.key_hash, w, (unsigned long long)h.point,
        h.point_idx);
}

/* Keys from stdin, one per line (a trailing CR is dropped). */
static void
locate_stdin(const struct rt_opts *o, const struct ring *r, bool *first)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;

    while ((n = getline(&line, &cap, stdin)) > 0) {
        size_t len = (size_t)n;
        if (len > 0 && line[len - 1] == '\n') {
            len--;
        }
        if (len > 0 && line[len - 1] == '\r') {
            len--;
        }
        print_hit(o, r, (struct str){ line, len }, *first);
        *first = false;
    }
    free(line);
}

int
rt_locate(const struct rt_opts *o)
{
    struct rt_ring rr;
    bool first = true;
    static char outbuf[1 << 16];

    if (o->server != NULL) {
        return rt_remote_locate(o);
    }
    if (!need_config(o, "locate")) {
        return RT_EXIT_USAGE;
    }
    if (o->argc == 0) {
        fprintf(stderr, "ringtool: locate needs keys, or - to read them "
            "from stdin\n");
        return RT_EXIT_USAGE;
    }
    if (!rt_load(o, o->config, &rr)) {
        return RT_EXIT_CONFIG;
    }
    setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
    if (o->json) {
        printf("{\"ok\":true,\"keys\":[\n");
    }
    for (int i = 0; i < o->argc; i++) {
        if (strcmp(o->argv[i], "-") == 0) {
            locate_stdin(o, rr.ring, &first);
        } else {
            print_hit(o, rr.ring, str_from_cstr(o->argv[i]), first);
            first = false;
        }
    }
    if (o->json) {
        printf("\n]}\n");
    }
    fflush(stdout);
    rt_unload(&rr);
    return RT_EXIT_OK;
}

/* ---- balance ------------------------------------------------------------- */

double
rt_max_ratio(const struct ring *r, const double *share, uint32_t *worst)
{
    double total = 0.0, max = 0.0;

    for (size_t i = 0; i < ring_node_count(r); i++) {
        total += ring_node_weight(r, (uint32_t)i);
    }
    for (size_t i = 0; i < ring_node_count(r); i++) {
        double ideal = ring_node_weight(r, (uint32_t)i) / total;
        if (ideal > 0 && share[i] / ideal > max) {
            max = share[i] / ideal;
            if (worst != NULL) {
                *worst = (uint32_t)i;
            }
        }
    }
    return max;
}

int
rt_balance(const struct rt_opts *o)
{
    struct rt_ring rr;
    double *share, total_w = 0.0, worst;
    uint32_t worst_i = 0;
    size_t n;

    if (!need_config(o, "balance")) {
        return RT_EXIT_USAGE;
    }
    if (!rt_load(o, o->config, &rr)) {
        return RT_EXIT_CONFIG;
    }
    n = ring_node_count(rr.ring);
    share = xcalloc(n, sizeof(*share));
    ring_ownership(rr.ring, share);
    for (size_t i = 0; i < n; i++) {
        total_w += ring_node_weight(rr.ring, (uint32_t)i);
    }
    worst = rt_max_ratio(rr.ring, share, &worst_i);
    if (o->json) {
        printf("{\"ok\":true,\"mode\":\"%s\",\"points\":%zu,\"nodes\":[",
            ring_mode_name(ring_params(rr.ring)->mode),
            ring_point_count(rr.ring));
    } else {
        printf("%-24s %-22s %6s %9s %9s %7s\n", "node", "address", "weight",
            "ideal", "share", "ratio");
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t w = ring_node_weight(rr.ring, (uint32_t)i);
        struct str name = ring_node_name(rr.ring, (uint32_t)i);
        struct str addr = ring_node_addr(rr.ring, (uint32_t)i);
        double ideal = w / total_w, ratio = ideal > 0 ? share[i] / ideal : 0;
        if (o->json) {
            printf("%s{\"name\":", i ? "," : "");
            rt_json_str(stdout, name);
            printf(",\"address\":");
            rt_json_str(stdout, addr);
            printf(",\"weight\":%u,\"ideal\":%.9f,\"share\":%.9f,"
                "\"ratio\":%.6f}", w, ideal, share[i], ratio);
        } else {
            printf("%-24.*s %-22.*s %6u %8.4f%% %8.4f%% %7.4f\n",
                (int)name.len, name.ptr, (int)addr.len, addr.ptr, w,
                100 * ideal, 100 * share[i], ratio);
        }
    }
    struct str wn = ring_node_name(rr.ring, worst_i);
    if (o->json) {
        printf("],\"max_over_mean\":%.6f,\"worst\":", worst);
        rt_json_str(stdout, wn);
        printf("}\n");
    } else {
        printf("max/mean %.4f (share over ideal), worst node %.*s; ring %s, "
            "%zu points\n", worst, (int)wn.len, wn.ptr,
            ring_mode_name(ring_params(rr.ring)->mode),
            ring_point_count(rr.ring));
    }
    free(share);
    rt_unload(&rr);
    return RT_EXIT_OK;
}

/* ---- check --------------------------------------------------------------- */

int
rt_check(const struct rt_opts *o)
{
    struct rt_ring rr;
    const struct ring_params *p;

    if (!need_config(o, "check")) {
        return RT_EXIT_USAGE;
    }
    if (!rt_load(o, o->config, &rr)) {
        if (!o->json) {
            fprintf(stderr, "ringtool: configuration file %s test failed\n",
                o->config);
        }
        return RT_EXIT_CONFIG;
    }
    p = ring_params(rr.ring);
    if (o->json) {
        printf("{\"ok\":true,\"file\":");
        rt_json_str(stdout, str_from_cstr(o->config));
        printf(",\"nodes\":%zu,\"mode\":\"%s\",\"hash\":\"%s\","
            "\"vnodes\":%u,\"points\":%zu,\"listen\":%zu}\n",
            ring_node_count(rr.ring), ring_mode_name(p->mode),
            p->mode == RING_MODE_KETAMA ? ring_hash_name(p->hash) : "xxh3",
            p->mode == RING_MODE_V1 ? p->vnodes : RING_KETAMA_POINTS,
            ring_point_count(rr.ring), rr.cfg.nlisten);
    } else {
        printf("ringtool: configuration file %s syntax is ok: %zu nodes, "
            "ring %s, %zu points\n", o->config, ring_node_count(rr.ring),
            ring_mode_name(p->mode), ring_point_count(rr.ring));
        printf("ringtool: configuration file %s test is successful\n",
            o->config);
    }
    rt_unload(&rr);
    return RT_EXIT_OK;
}

/* ---- main ---------------------------------------------------------------- */

static const struct command {
    const char *name;
    int (*fn)(const struct rt_opts *);
} commands[] = {
    { "locate", rt_locate },
    { "balance", rt_balance },
    { "diff", rt_diff },
    { "check", rt_check },
    { "plot", rt_plot },
    { "import-twemproxy", rt_import_twemproxy },
    { "nodes", rt_nodes },
};

/* Options may come before or after the command; the rest are arguments.
 * A lone "-" is an argument (stdin keys). */
static bool
parse_args(int argc, char **argv, struct rt_opts *o, const char **cmd)
{
    char **rest = xcalloc((size_t)argc + 1, sizeof(*rest));

    o->argv = rest;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **val = NULL;
        if (strcmp(a, "--json") == 0) {
            o->json = true;
            continue;
        }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage_text, stdout);
            exit(RT_EXIT_OK);
        }
        val = strcmp(a, "-c") == 0 ? &o->config :
            strcmp(a, "-o") == 0 ? &o->output :
            strcmp(a, "-p") == 0 ? &o->pool :
            strcmp(a, "-s") == 0 ? &o->server : NULL;
        if (val != NULL) {
            if (i + 1 == argc) {
                fprintf(stderr, "ringtool: %s needs a value\n", a);
                return false;
            }
            *val = argv[++i];
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "ringtool: unknown option %s\n", a);
            return false;
        } else if (*cmd == NULL) {
            *cmd = a;
        } else {
            rest[o->argc++] = argv[i];
        }
    }
    return *cmd != NULL || (fputs(usage_text, stderr), false);
}

int
main(int argc, char **argv)
{
    struct rt_opts o;
    const char *cmd = NULL;
    int rc = RT_EXIT_USAGE;

    memset(&o, 0, sizeof(o));
    util_log_set_program("ringtool");
    if (!parse_args(argc, argv, &o, &cmd)) {
        free(o.argv);
        return RT_EXIT_USAGE;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(cmd, commands[i].name) == 0) {
            rc = commands[i].fn(&o);
            free(o.argv);
            return rc;
        }
    }
    fprintf(stderr, "ringtool: unknown command '%s' (try --help)\n", cmd);
    free(o.argv);
    return rc;
}
