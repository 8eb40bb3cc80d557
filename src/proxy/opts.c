/* ringproxy's command line: short and long options, see ringproxy(8). */
#include "proxy/proxy.h"

#include <getopt.h>
#include <string.h>

#include "config.h"
#include "util/util.h"

enum {
    OPT_CHECK = 256,
    OPT_MISS_WHEN_DOWN,
};

static const char usage_text[] =
    "usage: ringproxy [-vVh] [-c FILE] [-t THREADS] [-l ADDRESS] [--check]\n"
    "  -c, --config FILE    configuration, ringproxy.conf(5) (default "
    PROXY_DEFAULT_CONF ")\n"
    "  -t, --threads N      worker threads (overrides \"threads\")\n"
    "  -l, --listen ADDR    listen on host:port or /unix/path (overrides\n"
    "                       every \"listen\" line)\n"
    "  -v, --verbose        log more (debug)\n"
    "      --check          validate the configuration and exit\n"
    "      --miss-when-down a get of a down node's keys answers a miss\n"
    "                       instead of SERVER_ERROR (policy fail-fast)\n"
    "  -V, --version        print the version and exit\n"
    "  -h, --help           print this help and exit\n"
    "signals: SIGHUP reloads the configuration, SIGTERM drains and exits\n";

static const struct option long_opts[] = {
    { "config", required_argument, NULL, 'c' },
    { "threads", required_argument, NULL, 't' },
    { "listen", required_argument, NULL, 'l' },
    { "verbose", no_argument, NULL, 'v' },
    { "version", no_argument, NULL, 'V' },
    { "help", no_argument, NULL, 'h' },
    { "check", no_argument, NULL, OPT_CHECK },
    { "miss-when-down", no_argument, NULL, OPT_MISS_WHEN_DOWN },
    { NULL, 0, NULL, 0 },
};

static bool
parse_threads(const char *s, unsigned *out)
{
    uint32_t v;

    if (!util_parse_u32(str_from_cstr(s), &v) || v == 0 || v > 256) {
        return false;
    }
    *out = v;
    return true;
}

enum proxy_parse
proxy_opts_parse(struct proxy_opts *o, int argc, char **argv, FILE *out,
    FILE *err)
{
    int c;

    memset(o, 0, sizeof(*o));
    o->conf_path = PROXY_DEFAULT_CONF;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":c:t:l:vVh", long_opts, NULL)) !=
        -1) {
        switch (c) {
        case 'c':
            o->conf_path = optarg;
            break;
        case 't':
            if (!parse_threads(optarg, &o->threads)) {
                fprintf(err, "ringproxy: -t: expected 1 to 256 threads, not "
                    "'%s'\n", optarg);
                return PROXY_PARSE_EXIT_USAGE;
            }
            break;
        case 'l':
            o->listen = optarg;
            break;
        case 'v':
            o->verbose++;
            break;
        case 'V':
            fprintf(out, "ringproxy %s (memcached %s protocol)\n",
                PACKAGE_VERSION, PROXY_MEMCACHED_COMPAT);
            return PROXY_PARSE_EXIT_OK;
        case 'h':
            fputs(usage_text, out);
            return PROXY_PARSE_EXIT_OK;
        case OPT_CHECK:
            o->check = true;
            break;
        case OPT_MISS_WHEN_DOWN:
            o->miss_when_down = true;
            break;
        case ':':
            fprintf(err, "ringproxy: option %s needs a value\n",
                argv[optind - 1]);
            return PROXY_PARSE_EXIT_USAGE;
        default:
            fprintf(err, "ringproxy: unknown option %s (see ringproxy -h)\n",
                argv[optind - 1]);
            return PROXY_PARSE_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(err, "ringproxy: unexpected argument '%s'\n", argv[optind]);
        return PROXY_PARSE_EXIT_USAGE;
    }
    return PROXY_PARSE_RUN;
}
