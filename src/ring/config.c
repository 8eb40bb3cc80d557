/*
 * The ringproxy.conf(5) parser: line-oriented directives into a struct
 * ring_config with every setting the proxy and ringtool need. Pure: it
 * parses a buffer the caller read, and reports the first error as
 * "file:line: what is wrong".
 */
#include "ring/ring.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ARGS 8
#define UNIX_PATH_MAX 107 /* sizeof(sun_path) - 1 on Linux */

/* One tokenised line: the directive and its arguments. */
struct line {
    unsigned no;
    size_t argc;
    struct str argv[MAX_ARGS + 1];
};

/* Parser state: the config being filled, the error, where each
 * once-only directive was seen. */
struct parser {
    struct ring_config *c;
    struct ring_error *err;
    const char *file;
    unsigned seen[32];
    bool listen_set;
};

static enum ring_status
fail(struct parser *ps, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum ring_status
fail(struct parser *ps, unsigned line, const char *fmt, ...)
{
    char msg[400];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    ps->err->line = line;
    if (line > 0) {
        snprintf(ps->err->text, sizeof(ps->err->text), "%s:%u: %s",
            ps->file, line, msg);
    } else {
        snprintf(ps->err->text, sizeof(ps->err->text), "%s: %s", ps->file,
            msg);
    }
    return RING_ESYNTAX;
}

/* ---- defaults and lifetime ----------------------------------------------- */

void
ring_config_init(struct ring_config *c)
{
    const char *why;

    memset(c, 0, sizeof(*c));
    c->listen = xcalloc(1, sizeof(*c->listen));
    (void)ring_addr_parse(STR_LIT("127.0.0.1:11311"), &c->listen[0], &why);
    c->nlisten = 1;
    c->threads = 4;
    ring_params_init(&c->ring);
    c->connect_timeout_ms = 1000;
    c->request_timeout_ms = 2000;
    c->failure_policy = RING_FAIL_FAST;
    c->failure_limit = 3;
    c->retry_timeout_ms = 1000;
    c->retry_max_ms = 30000;
    c->backend_connections = 1;
    c->client_limit = 4096;
    c->idle_timeout_ms = 0;
    c->backlog = 1024;
    c->item_size_max = 1024 * 1024;
    c->client_out_soft = 8u << 20;
    c->client_out_hard = 32u << 20;
}

void
ring_config_fini(struct ring_config *c)
{
    for (size_t i = 0; i < c->nlisten; i++) {
        ring_addr_fini(&c->listen[i]);
    }
    free(c->listen);
    for (size_t i = 0; i < c->nnodes; i++) {
        free(c->nodes[i].name);
        ring_addr_fini(&c->nodes[i].addr);
    }
    free(c->nodes);
    memset(c, 0, sizeof(*c));
}

/* ---- addresses and names ------------------------------------------------- */

void
ring_addr_fini(struct ring_addr *a)
{
    free(a->text);
    free(a->host);
    memset(a, 0, sizeof(*a));
}

static bool
parse_port(struct str s, uint16_t *port)
{
    uint32_t v;

    if (!util_parse_u32(s, &v) || v == 0 || v > 65535) {
        return false;
    }
    *port = (uint16_t)v;
    return true;
}

/* Split "host:port" or "[v6]:port" into host and port text. */
static bool
split_host_port(struct str s, struct str *host, struct str *port,
    const char **why)
{
    const char *colon;

    if (s.ptr[0] == '[') {
        const char *close = memchr(s.ptr, ']', s.len);
        if (close == NULL || close + 1 >= s.ptr + s.len || close[1] != ':') {
            *why = "expected [ipv6-address]:port";
            return false;
        }
        *host = (struct str){ s.ptr + 1, (size_t)(close - s.ptr - 1) };
        colon = close + 1;
    } else {
        colon = NULL;
        for (size_t i = s.len; i > 0 && colon == NULL; i--) {
            colon = s.ptr[i - 1] == ':' ? s.ptr + i - 1 : NULL;
        }
        if (colon == NULL) {
            *why = "expected host:port or an absolute unix socket path";
            return false;
        }
        *host = (struct str){ s.ptr, (size_t)(colon - s.ptr) };
        if (memchr(host->ptr, ':', host->len) != NULL) {
            *why = "an IPv6 address must be written in brackets: [addr]:port";
            return false;
        }
    }
    *port = (struct str){ colon + 1, (size_t)(s.ptr + s.len - colon - 1) };
    if (host->len == 0) {
        *why = "missing host before the port";
        return false;
    }
    return true;
}

bool
ring_addr_parse(struct str s, struct ring_addr *a, const char **why)
{
    struct str host, port;

    memset(a, 0, sizeof(*a));
    if (s.len == 0) {
        *why = "empty address";
        return false;
    }
    if (s.ptr[0] == '/') {
        if (s.len > UNIX_PATH_MAX) {
            *why = "unix socket path longer than 107 bytes";
            return false;
        }
        a->is_unix = true;
        a->host = xstrndup(s.ptr, s.len);
    } else {
        if (!split_host_port(s, &host, &port, why)) {
            return false;
        }
        if (!parse_port(port, &a->port)) {
            *why = "port must be a number from 1 to 65535";
            return false;
        }
        a->host = xstrndup(host.ptr, host.len);
    }
    a->text = xstrndup(s.ptr, s.len);
    return true;
}

char *
ring_default_name(enum ring_mode m, const struct ring_addr *a)
{
    /* NOTE(ring): twemproxy leaves the port out of the point strings when
     * it is 11211, for libmemcached compatibility; ketama mode keeps that,
     * ring v1 always names a node by the address as written. */
    if (m == RING_MODE_KETAMA && !a->is_unix && a->port == 11211) {
        const char *colon = strrchr(a->text, ':');
        return xstrndup(a->text, (size_t)(colon - a->text));
    }
    return xstrdup(a->text);
}

/* ---- tokens and values --------------------------------------------------- */

static bool
is_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r';
}

/* Split one line into tokens; '#' at the start of a token begins a
 * comment. False when there are more than MAX_ARGS arguments. */
static bool
tokenize(struct str text, struct line *ln)
{
    size_t i = 0;

    ln->argc = 0;
    while (i < text.len) {
        while (i < text.len && is_space(text.ptr[i])) {
            i++;
        }
        if (i == text.len || text.ptr[i] == '#') {
            break;
        }
        size_t start = i;
        while (i < text.len && !is_space(text.ptr[i])) {
            i++;
        }
        if (ln->argc == MAX_ARGS + 1) {
            return false;
        }
        ln->argv[ln->argc++] = (struct str){ text.ptr + start, i - start };
    }
    return true;
}

/* A number within [lo, hi]. */
static enum ring_status
get_u32(struct parser *ps, const struct line *ln, uint32_t lo, uint32_t hi,
    uint32_t *out)
{
    uint32_t v;

    if (!util_parse_u32(ln->argv[1], &v) || v < lo || v > hi) {
        return fail(ps, ln->no, "%.*s must be a number from %u to %u, "
            "not '%.*s'", (int)ln->argv[0].len, ln->argv[0].ptr, lo, hi,
            (int)ln->argv[1].len, ln->argv[1].ptr);
    }
    *out = v;
    return RING_OK;
}

/* Strip a unit suffix from `s`; true when it was there. */
static bool
strip_suffix(struct str *s, const char *suffix)
{
    size_t n = strlen(suffix);

    if (s->len > n && memcmp(s->ptr + s->len - n, suffix, n) == 0) {
        s->len -= n;
        return true;
    }
    return false;
}

/* A duration: "250ms", "2s", "1m" or a bare 0; at most one day. */
static enum ring_status
get_duration(struct parser *ps, const struct line *ln, uint32_t *ms)
{
    struct str s = ln->argv[1];
    uint64_t v, mult = 0;

    if (strip_suffix(&s, "ms")) {
        mult = 1;
    } else if (strip_suffix(&s, "s")) {
        mult = 1000;
    } else if (strip_suffix(&s, "m")) {
        mult = 60000;
    } else if (str_eq_cstr(s, "0")) {
        mult = 1;
    }
    if (mult == 0 || !util_parse_u64(s, &v) || v > 86400000 / mult) {
        return fail(ps, ln->no, "%.*s must be a duration such as 500ms, 2s "
            "or 1m (at most a day), not '%.*s'", (int)ln->argv[0].len,
            ln->argv[0].ptr, (int)ln->argv[1].len, ln->argv[1].ptr);
    }
    *ms = (uint32_t)(v * mult);
    return RING_OK;
}

/* A size in bytes: "1048576", "512k", "1m"; 1 KiB to 1 GiB. */
static enum ring_status
get_size(struct parser *ps, const struct line *ln, uint32_t *bytes)
{
    struct str s = ln->argv[1];
    uint64_t v, mult = 1;

    if (strip_suffix(&s, "k")) {
        mult = 1024;
    } else if (strip_suffix(&s, "m")) {
        mult = 1024 * 1024;
    }
    if (!util_parse_u64(s, &v) || v > (1u << 30) / mult ||
        v * mult < 1024) {
        return fail(ps, ln->no, "%.*s must be a size from 1k to 1024m, "
            "not '%.*s'", (int)ln->argv[0].len, ln->argv[0].ptr,
            (int)ln->argv[1].len, ln->argv[1].ptr);
    }
    *bytes = (uint32_t)(v * mult);
    return RING_OK;
}

/* ---- directives ---------------------------------------------------------- */

static enum ring_status
do_listen(struct parser *ps, const struct line *ln)
{
    struct ring_config *c = ps->c;
    struct ring_addr a;
    const char *why;

    if (!ring_addr_parse(ln->argv[1], &a, &why)) {
        return fail(ps, ln->no, "listen: %s: '%.*s'", why,
            (int)ln->argv[1].len, ln->argv[1].ptr);
    }
    if (!ps->listen_set) {
        /* The first listen line replaces the default address. */
        ring_addr_fini(&c->listen[0]);
        c->nlisten = 0;
        ps->listen_set = true;
    }
    for (size_t i = 0; i < c->nlisten; i++) {
        if (strcmp(c->listen[i].text, a.text) == 0) {
            ring_addr_fini(&a);
            return fail(ps, ln->no, "listen address '%.*s' given twice",
                (int)ln->argv[1].len, ln->argv[1].ptr);
        }
    }
    c->listen = xrealloc(c->listen, (c->nlisten + 1) * sizeof(*c->listen));
    c->listen[c->nlisten++] = a;
    return RING_OK;
}

static enum ring_status
do_ring(struct parser *ps, const struct line *ln)
{
    struct ring_params *p = &ps->c->ring;

    if (str_eq_cstr(ln->argv[1], "v1")) {
        if (ln->argc > 2) {
            return fail(ps, ln->no, "ring v1 takes no key hash (it always "
                "uses XXH3); key hashes are for 'ring ketama HASH'");
        }
        p->mode = RING_MODE_V1;
        return RING_OK;
    }
    if (!str_eq_cstr(ln->argv[1], "ketama")) {
        return fail(ps, ln->no, "ring must be 'v1' or 'ketama [HASH]', "
            "not '%.*s'", (int)ln->argv[1].len, ln->argv[1].ptr);
    }
    p->mode = RING_MODE_KETAMA;
    p->hash = RING_HASH_FNV1A_64;
    if (ln->argc > 2 && !ring_hash_parse(ln->argv[2], &p->hash)) {
        return fail(ps, ln->no, "unknown key hash '%.*s' (one of fnv1a_64, "
            "fnv1_64, fnv1a_32, fnv1_32, md5, crc16, crc32, crc32a, "
            "one_at_a_time, murmur, hsieh, jenkins)", (int)ln->argv[2].len,
            ln->argv[2].ptr);
    }
    return RING_OK;
}

static enum ring_status
do_hash_tag(struct parser *ps, const struct line *ln)
{
    struct ring_params *p = &ps->c->ring;

    if (ln->argv[1].len != 2) {
        return fail(ps, ln->no, "hash_tag must be exactly two characters, "
            "such as {}, not '%.*s'", (int)ln->argv[1].len, ln->argv[1].ptr);
    }
    memcpy(p->hash_tag, ln->argv[1].ptr, 2);
    p->has_hash_tag = true;
    return RING_OK;
}

static enum ring_status
do_failure_policy(struct parser *ps, const struct line *ln)
{
    if (str_eq_cstr(ln->argv[1], "fail-fast")) {
        ps->c->failure_policy = RING_FAIL_FAST;
    } else if (str_eq_cstr(ln->argv[1], "eject")) {
        ps->c->failure_policy = RING_FAIL_EJECT;
    } else {
        return fail(ps, ln->no, "failure_policy must be 'fail-fast' or "
            "'eject', not '%.*s'", (int)ln->argv[1].len, ln->argv[1].ptr);
    }
    return RING_OK;
}

static enum ring_status
do_node(struct parser *ps, const struct line *ln)
{
    struct ring_config *c = ps->c;
    struct ring_config_node *n;
    struct str name = ln->argv[1];
    uint32_t weight = 1;
    const char *why;

    if (name.len > RING_MAX_NAME) {
        return fail(ps, ln->no, "node name longer than %d bytes",
            RING_MAX_NAME);
    }
    if (ln->argc > 3 && (!util_parse_u32(ln->argv[3], &weight) ||
        weight > RING_MAX_WEIGHT)) {
        return fail(ps, ln->no, "node weight must be a number from 0 to %d, "
            "not '%.*s'", RING_MAX_WEIGHT, (int)ln->argv[3].len,
            ln->argv[3].ptr);
    }
    c->nodes = xrealloc(c->nodes, (c->nnodes + 1) * sizeof(*c->nodes));
    n = &c->nodes[c->nnodes];
    memset(n, 0, sizeof(*n));
    if (!ring_addr_parse(ln->argv[2], &n->addr, &why)) {
        return fail(ps, ln->no, "node address: %s: '%.*s'", why,
            (int)ln->argv[2].len, ln->argv[2].ptr);
    }
    c->nnodes++;
    n->name_given = !str_eq_cstr(name, "-");
    n->name = n->name_given ? xstrndup(name.ptr, name.len) : NULL;
    n->weight = weight;
    n->line = ln->no;
    return RING_OK;
}

static enum ring_status
do_number(struct parser *ps, const struct line *ln);
static enum ring_status
do_time(struct parser *ps, const struct line *ln);

static enum ring_status
do_item_size_max(struct parser *ps, const struct line *ln)
{
    return get_size(ps, ln, &ps->c->item_size_max);
}

/* "client_output_limit SOFT HARD": two sizes, soft <= hard. */
static enum ring_status
do_client_output_limit(struct parser *ps, const struct line *ln)
{
    struct line hard = *ln;
    enum ring_status st;

    hard.argv[1] = ln->argv[2];
    st = get_size(ps, ln, &ps->c->client_out_soft);
    if (st == RING_OK) {
        st = get_size(ps, &hard, &ps->c->client_out_hard);
    }
    if (st == RING_OK && ps->c->client_out_soft > ps->c->client_out_hard) {
        return fail(ps, ln->no, "client_output_limit: soft limit above the "
            "hard limit");
    }
    return st;
}

typedef enum ring_status (*directive_fn)(struct parser *,
    const struct line *);

/* Every directive: its arity, whether it may repeat, and its handler.
 * Numbers and durations name their field by offset and bounds. */
static const struct directive {
    const char *name;
    unsigned min_args, max_args;
    bool repeat;
    directive_fn fn;
    size_t field;
    uint32_t lo, hi;
} directives[] = {
    { "listen", 1, 1, true, do_listen, 0, 0, 0 },
    { "node", 2, 3, true, do_node, 0, 0, 0 },
    { "ring", 1, 2, false, do_ring, 0, 0, 0 },
    { "hash_tag", 1, 1, false, do_hash_tag, 0, 0, 0 },
    { "failure_policy", 1, 1, false, do_failure_policy, 0, 0, 0 },
    { "item_size_max", 1, 1, false, do_item_size_max, 0, 0, 0 },
    { "client_output_limit", 2, 2, false, do_client_output_limit, 0, 0, 0 },
    { "threads", 1, 1, false, do_number,
      offsetof(struct ring_config, threads), 1, 256 },
    { "vnodes", 1, 1, false, do_number,
      offsetof(struct ring_config, ring.vnodes), 1, RING_MAX_VNODES },
    { "failure_limit", 1, 1, false, do_number,
      offsetof(struct ring_config, failure_limit), 1, 1000 },
    { "backend_connections", 1, 1, false, do_number,
      offsetof(struct ring_config, backend_connections), 1, 64 },
    { "client_limit", 1, 1, false, do_number,
      offsetof(struct ring_config, client_limit), 1, 1000000 },
    { "backlog", 1, 1, false, do_number,
      offsetof(struct ring_config, backlog), 1, 65535 },
    { "connect_timeout", 1, 1, false, do_time,
      offsetof(struct ring_config, connect_timeout_ms), 1, 0 },
    { "request_timeout", 1, 1, false, do_time,
      offsetof(struct ring_config, request_timeout_ms), 1, 0 },
    { "retry_timeout", 1, 1, false, do_time,
      offsetof(struct ring_config, retry_timeout_ms), 1, 0 },
    { "retry_max", 1, 1, false, do_time,
      offsetof(struct ring_config, retry_max_ms), 1, 0 },
    { "idle_timeout", 1, 1, false, do_time,
      offsetof(struct ring_config, idle_timeout_ms), 0, 0 },
};

#define NDIRECTIVES (sizeof(directives) / sizeof(directives[0]))

static const struct directive *
find_directive(struct str name)
{
    for (size_t i = 0; i < NDIRECTIVES; i++) {
        if (str_eq_cstr(name, directives[i].name)) {
            return &directives[i];
        }
    }
    return NULL;
}

static uint32_t *
field_of(struct parser *ps, const struct line *ln)
{
    const struct directive *d = find_directive(ln->argv[0]);
    return (uint32_t *)((char *)ps->c + d->field);
}

static enum ring_status
do_number(struct parser *ps, const struct line *ln)
{
    const struct directive *d = find_directive(ln->argv[0]);
    return get_u32(ps, ln, d->lo, d->hi, field_of(ps, ln));
}

/* Durations; `lo` 1 means zero is not allowed. */
static enum ring_status
do_time(struct parser *ps, const struct line *ln)
{
    const struct directive *d = find_directive(ln->argv[0]);
    uint32_t ms = 0;

    if (get_duration(ps, ln, &ms) != RING_OK) {
        return RING_ESYNTAX;
    }
    if (ms < d->lo) {
        return fail(ps, ln->no, "%s must be more than 0", d->name);
    }
    *field_of(ps, ln) = ms;
    return RING_OK;
}

static enum ring_status
do_line(struct parser *ps, const struct line *ln)
{
    const struct directive *d = find_directive(ln->argv[0]);
    size_t slot, nargs = ln->argc - 1;

    if (d == NULL) {
        return fail(ps, ln->no, "unknown directive '%.*s'",
            (int)ln->argv[0].len, ln->argv[0].ptr);
    }
    if (nargs < d->min_args || nargs > d->max_args) {
        return fail(ps, ln->no, "%s takes %s%u argument%s, not %zu",
            d->name, d->min_args == d->max_args ? "" : "at most ",
            d->max_args, d->max_args == 1 ? "" : "s", nargs);
    }
    slot = (size_t)(d - directives);
    if (!d->repeat && ps->seen[slot] != 0) {
        return fail(ps, ln->no, "%s given twice (first on line %u)",
            d->name, ps->seen[slot]);
    }
    ps->seen[slot] = ln->no;
    return d->fn(ps, ln);
}

/* ---- whole-file checks --------------------------------------------------- */

static enum ring_status
check_nodes(struct parser *ps)
{
    struct ring_config *c = ps->c;
    bool any_weight = false;

    if (c->nnodes == 0) {
        return fail(ps, 0, "no node lines: a ring needs at least one node");
    }
    for (size_t i = 0; i < c->nnodes; i++) {
        struct ring_config_node *n = &c->nodes[i];
        if (n->name == NULL) {
            n->name = ring_default_name(c->ring.mode, &n->addr);
            if (strlen(n->name) > RING_MAX_NAME) {
                return fail(ps, n->line, "node name longer than %d bytes "
                    "(a node named '-' is named by its address): give it "
                    "a shorter name", RING_MAX_NAME);
            }
        }
        any_weight |= n->weight > 0;
        for (size_t j = 0; j < i; j++) {
            if (strcmp(c->nodes[j].name, n->name) == 0) {
                return fail(ps, n->line, "duplicate node name '%s' (first "
                    "on line %u)", n->name, c->nodes[j].line);
            }
            if (strcmp(c->nodes[j].addr.text, n->addr.text) == 0) {
                return fail(ps, n->line, "node address '%s' already used "
                    "by node '%s' on line %u", n->addr.text,
                    c->nodes[j].name, c->nodes[j].line);
            }
        }
    }
    if (!any_weight) {
        return fail(ps, 0, "every node has weight 0: no node would own keys");
    }
    return RING_OK;
}

static enum ring_status
check_all(struct parser *ps)
{
    struct ring_config *c = ps->c;
    size_t vn = (size_t)(find_directive(STR_LIT("vnodes")) - directives);
    uint64_t points = 0;

    if (c->ring.mode == RING_MODE_KETAMA && ps->seen[vn] != 0) {
        return fail(ps, ps->seen[vn], "vnodes has no effect with 'ring "
            "ketama' (twemproxy places 160 points per server)");
    }
    if (c->retry_max_ms < c->retry_timeout_ms) {
        return fail(ps, 0, "retry_max (%u ms) is less than retry_timeout "
            "(%u ms)", c->retry_max_ms, c->retry_timeout_ms);
    }
    if (check_nodes(ps) != RING_OK) {
        return RING_ESYNTAX;
    }
    if (c->nnodes > RING_MAX_NODES) {
        return fail(ps, 0, "more than %d nodes", RING_MAX_NODES);
    }
    for (size_t i = 0; i < c->nnodes && c->ring.mode == RING_MODE_V1; i++) {
        points += (uint64_t)c->ring.vnodes * c->nodes[i].weight;
    }
    if (points > RING_MAX_POINTS) {
        return fail(ps, 0, "the ring would have %llu points (vnodes times "
            "total weight), more than %u: lower vnodes or the weights",
            (unsigned long long)points, RING_MAX_POINTS);
    }
    return RING_OK;
}

enum ring_status
ring_config_parse(struct ring_config *c, const char *text, size_t len,
    const char *file, struct ring_error *err)
{
    struct parser ps = { c, err, file != NULL ? file : "-", {0}, false };
    enum ring_status st = RING_OK;
    size_t pos = 0;
    struct line ln = { 0, 0, {{0}} };

    ring_config_init(c);
    memset(err, 0, sizeof(*err));
    while (st == RING_OK && pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl != NULL ? (size_t)(nl - text) : len;
        struct str s = { text + pos, end - pos };

        ln.no++;
        pos = end + 1;
        if (memchr(s.ptr, '\0', s.len) != NULL) {
            st = fail(&ps, ln.no, "NUL byte in the line");
        } else if (!tokenize(s, &ln)) {
            st = fail(&ps, ln.no, "too many words on one line");
        } else if (ln.argc > 0) {
            st = do_line(&ps, &ln);
        }
    }
    if (st == RING_OK) {
        st = check_all(&ps);
    }
    if (st != RING_OK) {
        ring_config_fini(c);
    }
    return st;
}

enum ring_status
ring_config_build(const struct ring_config *c, struct ring **out)
{
    struct ring_node *nodes = xcalloc(c->nnodes, sizeof(*nodes));
    enum ring_status st;

    for (size_t i = 0; i < c->nnodes; i++) {
        nodes[i].name = str_from_cstr(c->nodes[i].name);
        nodes[i].addr = str_from_cstr(c->nodes[i].addr.text);
        nodes[i].weight = c->nodes[i].weight;
    }
    st = ring_build(&c->ring, nodes, c->nnodes, out);
    free(nodes);
    return st;
}
