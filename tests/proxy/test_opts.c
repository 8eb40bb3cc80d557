/* Tests for ringproxy's command line (src/proxy/opts.c). */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include "proxy/proxy.h"

static enum proxy_parse
parse(struct proxy_opts *o, char *out, size_t n, int argc, char **argv)
{
    FILE *f = fmemopen(out, n, "w");
    enum proxy_parse r = proxy_opts_parse(o, argc, argv, f, f);

    fclose(f);
    return r;
}

Test(proxy_opts, defaults)
{
    struct proxy_opts o;
    char out[512] = "";
    char *argv[] = { "ringproxy", NULL };

    cr_assert_eq(parse(&o, out, sizeof(out), 1, argv), PROXY_PARSE_RUN);
    cr_assert_str_eq(o.conf_path, PROXY_DEFAULT_CONF);
    cr_assert_eq(o.threads, 0);
    cr_assert_null(o.listen);
    cr_assert(!o.check && !o.miss_when_down);
}

Test(proxy_opts, short_and_long)
{
    struct proxy_opts o;
    char out[512] = "";
    char *argv[] = { "ringproxy", "-c", "x.conf", "-t", "3", "-vv",
        "--listen", "127.0.0.1:9", "--check", "--miss-when-down", NULL };

    cr_assert_eq(parse(&o, out, sizeof(out), 10, argv), PROXY_PARSE_RUN);
    cr_assert_str_eq(o.conf_path, "x.conf");
    cr_assert_eq(o.threads, 3);
    cr_assert_eq(o.verbose, 2);
    cr_assert_str_eq(o.listen, "127.0.0.1:9");
    cr_assert(o.check && o.miss_when_down);
}

Test(proxy_opts, help_and_version_exit_ok)
{
    struct proxy_opts o;
    char out[2048] = "";
    char *h[] = { "ringproxy", "-h", NULL };
    char *v[] = { "ringproxy", "--version", NULL };

    cr_assert_eq(parse(&o, out, sizeof(out), 2, h), PROXY_PARSE_EXIT_OK);
    cr_assert(strstr(out, "usage: ringproxy") != NULL);
    cr_assert_eq(parse(&o, out, sizeof(out), 2, v), PROXY_PARSE_EXIT_OK);
    cr_assert(strncmp(out, "ringproxy ", 10) == 0);
}

Test(proxy_opts, bad_usage)
{
    struct proxy_opts o;
    char out[512];
    char *a[] = { "ringproxy", "-t", "0", NULL };
    char *b[] = { "ringproxy", "-t", "x", NULL };
    char *c[] = { "ringproxy", "--bogus", NULL };
    char *d[] = { "ringproxy", "-c", NULL };
    char *e[] = { "ringproxy", "extra", NULL };

    cr_assert_eq(parse(&o, out, sizeof(out), 3, a), PROXY_PARSE_EXIT_USAGE);
    cr_assert_eq(parse(&o, out, sizeof(out), 3, b), PROXY_PARSE_EXIT_USAGE);
    cr_assert(strstr(out, "-t") != NULL);
    cr_assert_eq(parse(&o, out, sizeof(out), 2, c), PROXY_PARSE_EXIT_USAGE);
    cr_assert(strstr(out, "--bogus") != NULL);
    cr_assert_eq(parse(&o, out, sizeof(out), 2, d), PROXY_PARSE_EXIT_USAGE);
    cr_assert(strstr(out, "needs a value") != NULL);
    cr_assert_eq(parse(&o, out, sizeof(out), 2, e), PROXY_PARSE_EXIT_USAGE);
}
