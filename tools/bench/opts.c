/*
 * ringbench command-line parsing and checking (see opts.h).
 */
#include "bench/opts.h"

#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "bench/session.h"
#include "util/util.h"

enum {
    OPT_DIST = 256,
    OPT_ZIPF,
    OPT_KEY_SIZE,
    OPT_VALUE_SIZE,
    OPT_RATIO,
    OPT_MGET,
    OPT_RATE,
    OPT_MAX_OUT,
    OPT_VERIFY,
    OPT_NO_CHECK,
    OPT_JSON,
    OPT_SEED,
    OPT_RUN_ID,
    OPT_WARMUP,
    OPT_META,
    OPT_VALUE_MIX,
    OPT_TTL,
    OPT_SET_ON_MISS,
};

static const struct option long_opts[] = {
    { "server", required_argument, NULL, 's' },
    { "conns", required_argument, NULL, 'c' },
    { "threads", required_argument, NULL, 't' },
    { "duration", required_argument, NULL, 'd' },
    { "requests", required_argument, NULL, 'n' },
    { "keys", required_argument, NULL, 'k' },
    { "depth", required_argument, NULL, 'p' },
    { "pipeline", required_argument, NULL, 'p' },
    { "warmup", required_argument, NULL, OPT_WARMUP },
    { "dist", required_argument, NULL, OPT_DIST },
    { "zipf", required_argument, NULL, OPT_ZIPF },
    { "key-size", required_argument, NULL, OPT_KEY_SIZE },
    { "value-size", required_argument, NULL, OPT_VALUE_SIZE },
    { "ratio", required_argument, NULL, OPT_RATIO },
    { "mget", required_argument, NULL, OPT_MGET },
    { "rate", required_argument, NULL, OPT_RATE },
    { "max-outstanding", required_argument, NULL, OPT_MAX_OUT },
    { "verify", no_argument, NULL, OPT_VERIFY },
    { "meta", no_argument, NULL, OPT_META },
    { "value-mix", required_argument, NULL, OPT_VALUE_MIX },
    { "ttl", required_argument, NULL, OPT_TTL },
    { "set-on-miss", no_argument, NULL, OPT_SET_ON_MISS },
    { "no-value-check", no_argument, NULL, OPT_NO_CHECK },
    { "json", no_argument, NULL, OPT_JSON },
    { "seed", required_argument, NULL, OPT_SEED },
    { "run-id", required_argument, NULL, OPT_RUN_ID },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
};

void
opts_defaults(struct bench_opts *o)
{
    memset(o, 0, sizeof(*o));
    strcpy(o->host, "127.0.0.1");
    o->port = 11211;
    o->conns = 50;
    o->threads = 1;
    o->duration_s = 10.0;
    o->nkeys = 100000;
    o->dist = KEYS_UNIFORM;
    o->zipf_theta = 0.99;
    o->key_len = 16;
    o->value_len = 32;
    o->set_weight = 1;
    o->get_weight = 10;
    o->mget = 1;
    o->depth = 1;
    o->max_outstanding = 1024;
    o->check_values = true;
    o->seed = 1;
    o->run_id = 1;
}

void
opts_usage(FILE *f)
{
    fputs(
"usage: ringbench [options]\n"
"  -s, --server HOST:PORT   server to load (127.0.0.1:11211)\n"
"  -c, --conns N            connections in total (50)\n"
"  -t, --threads N          load-generator threads (1)\n"
"  -d, --duration SEC       measured time (10)\n"
"  -n, --requests N         stop after N requests in total instead\n"
"      --warmup SEC         run this long before measuring (0)\n"
"  -k, --keys N             key space size (100000)\n"
"      --dist D             uniform | zipf | seq (uniform)\n"
"      --zipf THETA         zipfian with exponent THETA (0.99)\n"
"      --key-size N         key length in bytes (16)\n"
"      --value-size N       value length in bytes (32)\n"
"      --value-mix SPEC     value sizes by key instead: PCT:MIN-MAX,...\n"
"                           (e.g. 80:50-500,20:1024-102400; up to 4)\n"
"      --ttl PCT:SECS       set PCT percent of the keys with expiry SECS\n"
"      --set-on-miss        after a miss, set that key (a cache's client)\n"
"      --ratio S:G          set:get mix (1:10)\n"
"      --mget N             keys per get (1)\n"
"  -p, --depth N            pipeline depth: requests in flight per\n"
"                           connection; with --rate, requests per send (1)\n"
"      --rate R             open loop: R requests/s in total, latency from\n"
"                           each request's intended send time\n"
"      --max-outstanding N  open loop: unanswered requests per connection\n"
"                           before sending waits (1024)\n"
"      --verify             read back what was written: every value must be\n"
"                           the last version this run set (keys are split\n"
"                           between connections)\n"
"      --meta               meta commands: mg <key> v / ms (one key each)\n"
"      --no-value-check     check value lengths only (null responder)\n"
"      --json               print the report as JSON\n"
"      --seed N             PRNG seed (1)\n"
"      --run-id N           tag of the values written (1)\n"
"  -h, --help\n", f);
}

static enum opts_status
fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return OPTS_EINVAL;
}

static bool
parse_u64(const char *s, uint64_t *out)
{
    return util_parse_u64(str_from_cstr(s), out);
}

static bool
parse_uint(const char *s, unsigned lo, unsigned hi, unsigned *out)
{
    uint64_t v;

    if (!parse_u64(s, &v) || v < lo || v > hi) {
        return false;
    }
    *out = (unsigned)v;
    return true;
}

static bool
parse_double(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);

    if (*s == '\0' || *end != '\0' || !isfinite(v) || v < 0) {
        return false;
    }
    *out = v;
    return true;
}

static bool
parse_server(const char *s, struct bench_opts *o)
{
    const char *colon = strrchr(s, ':');
    uint64_t port;
    size_t hlen;

    if (colon == NULL || !parse_u64(colon + 1, &port) || port == 0
        || port > 65535) {
        return false;
    }
    hlen = (size_t)(colon - s);
    if (hlen >= 2 && s[0] == '[' && s[hlen - 1] == ']') {
        s++;
        hlen -= 2;
    }
    if (hlen == 0 || hlen >= sizeof(o->host)) {
        return false;
    }
    memcpy(o->host, s, hlen);
    o->host[hlen] = '\0';
    o->port = (uint16_t)port;
    return true;
}

/* --value-mix PCT:MIN-MAX[,...]: percentages adding up to 100. */
static bool
parse_mix(const char *s, struct bench_opts *o)
{
    uint32_t total = 0;

    o->nmix = 0;
    while (*s != '\0') {
        struct value_range *r;
        unsigned pct;
        unsigned lo;
        unsigned hi;
        int n = 0;

        if (o->nmix == SESSION_MAX_MIX
            || sscanf(s, "%u:%u-%u%n", &pct, &lo, &hi, &n) != 3
            || lo == 0 || hi < lo || hi > (1u << 30) || pct > 100) {
            return false;
        }
        r = &o->mix[o->nmix++];
        r->pct = pct;
        r->min = lo;
        r->max = hi;
        total += pct;
        s += n;
        if (*s == ',') {
            s++;
        } else if (*s != '\0') {
            return false;
        }
    }
    return o->nmix > 0 && total == 100;
}

/* --ttl PCT:SECS */
static bool
parse_ttl(const char *s, struct bench_opts *o)
{
    unsigned pct;
    unsigned secs;
    int n = 0;

    if (sscanf(s, "%u:%u%n", &pct, &secs, &n) != 2 || s[n] != '\0'
        || pct > 100 || secs == 0) {
        return false;
    }
    o->ttl_pct = pct;
    o->ttl_secs = secs;
    return true;
}

static bool
parse_ratio(const char *s, struct bench_opts *o)
{
    const char *colon = strchr(s, ':');
    uint64_t a;
    uint64_t b;

    if (colon == NULL
        || !util_parse_u64((struct str){ s, (size_t)(colon - s) }, &a)
        || !parse_u64(colon + 1, &b) || a + b == 0 || a > 1000000
        || b > 1000000) {
        return false;
    }
    o->set_weight = (uint32_t)a;
    o->get_weight = (uint32_t)b;
    return true;
}

/* One option; false with a message in err when its argument is bad. */
static bool
apply(struct bench_opts *o, int c, const char *arg)
{
    uint64_t v;
    unsigned u;

    switch (c) {
    case 's':
        return parse_server(arg, o);
    case 'c':
        return parse_uint(arg, 1, 100000, &o->conns);
    case 't':
        return parse_uint(arg, 1, 256, &o->threads);
    case 'd':
        return parse_double(arg, &o->duration_s) && o->duration_s > 0;
    case OPT_WARMUP:
        return parse_double(arg, &o->warmup_s);
    case 'n':
        return parse_u64(arg, &o->requests) && o->requests > 0;
    case 'k':
        return parse_u64(arg, &o->nkeys) && o->nkeys > 0
            && o->nkeys <= (1ULL << 40);
    case 'p':
        return parse_uint(arg, 1, 65536, &o->depth);
    case OPT_DIST:
        return keys_dist_parse(arg, &o->dist);
    case OPT_ZIPF:
        o->dist = KEYS_ZIPF;
        return parse_double(arg, &o->zipf_theta);
    case OPT_KEY_SIZE:
        return parse_u64(arg, &v) && v <= 250 && (o->key_len = v) > 0;
    case OPT_VALUE_SIZE:
        return parse_u64(arg, &v) && v <= (64u << 20)
            && ((o->value_len = v), true);
    case OPT_RATIO:
        return parse_ratio(arg, o);
    case OPT_MGET:
        return parse_uint(arg, 1, SESSION_MAX_MGET, &o->mget);
    case OPT_RATE:
        return parse_double(arg, &o->rate) && o->rate > 0;
    case OPT_MAX_OUT:
        return parse_uint(arg, 1, 1u << 20, &o->max_outstanding);
    case OPT_VERIFY:
        o->verify = true;
        return true;
    case OPT_META:
        o->meta = true;
        return true;
    case OPT_VALUE_MIX:
        return parse_mix(arg, o);
    case OPT_TTL:
        return parse_ttl(arg, o);
    case OPT_SET_ON_MISS:
        o->set_on_miss = true;
        return true;
    case OPT_NO_CHECK:
        o->check_values = false;
        return true;
    case OPT_JSON:
        o->json = true;
        return true;
    case OPT_SEED:
        return parse_u64(arg, &o->seed);
    case OPT_RUN_ID:
        return parse_uint(arg, 0, UINT32_MAX, &u) && ((o->run_id = u), true);
    }
    return false;
}

static const char *
option_name(int c)
{
    const struct option *lo;

    for (lo = long_opts; lo->name != NULL; lo++) {
        if (lo->val == c) {
            return lo->name;
        }
    }
    return "?";
}

/* Combinations that cannot work. */
static enum opts_status
check(const struct bench_opts *o, char *err, size_t errlen)
{
    struct keys k;

    if (keys_init(&k, o->dist, o->nkeys, o->zipf_theta, 0) != KEYS_OK) {
        return fail(err, errlen, "--zipf wants 0 < THETA <= 10");
    }
    if (o->key_len < keys_min_key_len(o->nkeys)) {
        return fail(err, errlen, "--key-size %zu cannot hold %llu keys "
            "(need %zu)", o->key_len, (unsigned long long)o->nkeys,
            keys_min_key_len(o->nkeys));
    }
    if (o->threads > o->conns) {
        return fail(err, errlen, "more threads (%u) than connections (%u)",
            o->threads, o->conns);
    }
    if (o->verify && o->value_len < VALUES_HEADER_LEN) {
        return fail(err, errlen, "--verify needs --value-size >= %d",
            VALUES_HEADER_LEN);
    }
    if (o->verify && !o->check_values) {
        return fail(err, errlen, "--verify and --no-value-check conflict");
    }
    if (o->verify && o->nkeys < o->conns) {
        return fail(err, errlen, "--verify needs at least one key per "
            "connection");
    }
    if (o->meta && o->mget > 1) {
        return fail(err, errlen, "--meta sends one key per mg: no --mget");
    }
    if (o->requests > 0 && o->warmup_s > 0) {
        return fail(err, errlen, "--warmup needs a --duration run");
    }
    if (o->rate > 0 && o->depth > o->max_outstanding) {
        return fail(err, errlen, "--depth exceeds --max-outstanding");
    }
    return OPTS_OK;
}

enum opts_status
opts_parse(struct bench_opts *o, int argc, char **argv, char *err,
    size_t errlen)
{
    int c;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "s:c:t:d:n:k:p:h", long_opts,
            NULL)) != -1) {
        if (c == 'h') {
            return OPTS_HELP;
        }
        if (c == '?' || c == ':') {
            return fail(err, errlen, "unknown option or missing argument: "
                "%s", argv[optind - 1]);
        }
        if (!apply(o, c, optarg)) {
            return fail(err, errlen, "bad value for --%s: '%s'",
                option_name(c), optarg != NULL ? optarg : "");
        }
    }
    if (optind < argc) {
        return fail(err, errlen, "unexpected argument: %s", argv[optind]);
    }
    return check(o, err, errlen);
}
