/*
 * Unit tests of ringbench's command line: good combinations parse into the
 * right fields, bad values and conflicts are refused with a reason.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "bench/opts.h"

static struct bench_opts o;
static char err[256];

#define PARSE(...) \
    parse((char *[]){ "ringbench", __VA_ARGS__, NULL }, \
        (int)(sizeof((char *[]){ "ringbench", __VA_ARGS__ }) \
            / sizeof(char *)))

static enum opts_status
parse(char **argv, int argc)
{
    opts_defaults(&o);
    err[0] = '\0';
    return opts_parse(&o, argc, argv, err, sizeof(err));
}

Test(bench_opts, defaults_match_the_node_scenario)
{
    cr_assert_eq(parse((char *[]){ "ringbench", NULL }, 1), OPTS_OK);
    cr_assert_str_eq(o.host, "127.0.0.1");
    cr_assert_eq(o.port, 11211);
    cr_assert_eq(o.conns, 50);
    cr_assert_eq(o.nkeys, 100000);
    cr_assert_eq(o.value_len, 32);
    cr_assert_eq(o.set_weight, 1);
    cr_assert_eq(o.get_weight, 10);
    cr_assert_eq(o.depth, 1);
    cr_assert_eq(o.rate, 0);
}

Test(bench_opts, every_option_lands_in_its_field)
{
    cr_assert_eq(PARSE("-s", "[::1]:2000", "-c", "8", "-t", "2", "-d", "1.5",
        "--warmup", "0.5", "-k", "1000", "--zipf", "0.8", "--key-size", "10",
        "--value-size", "100", "--ratio", "3:7", "--mget", "10", "-p", "16",
        "--rate", "5000", "--max-outstanding", "64", "--verify", "--json",
        "--seed", "9", "--run-id", "4"), OPTS_OK, "%s", err);
    cr_assert_str_eq(o.host, "::1");
    cr_assert_eq(o.port, 2000);
    cr_assert_eq(o.conns, 8);
    cr_assert_eq(o.threads, 2);
    cr_assert_float_eq(o.duration_s, 1.5, 1e-9);
    cr_assert_float_eq(o.warmup_s, 0.5, 1e-9);
    cr_assert_eq(o.nkeys, 1000);
    cr_assert_eq(o.dist, KEYS_ZIPF);
    cr_assert_float_eq(o.zipf_theta, 0.8, 1e-9);
    cr_assert_eq(o.key_len, 10);
    cr_assert_eq(o.value_len, 100);
    cr_assert_eq(o.set_weight, 3);
    cr_assert_eq(o.get_weight, 7);
    cr_assert_eq(o.mget, 10);
    cr_assert_eq(o.depth, 16);
    cr_assert_float_eq(o.rate, 5000, 1e-9);
    cr_assert_eq(o.max_outstanding, 64);
    cr_assert(o.verify && o.json);
    cr_assert_eq(o.seed, 9);
    cr_assert_eq(o.run_id, 4);
}

Test(bench_opts, bad_values_are_refused)
{
    cr_assert_eq(PARSE("-s", "localhost"), OPTS_EINVAL);
    cr_assert_eq(PARSE("-s", "h:0"), OPTS_EINVAL);
    cr_assert_eq(PARSE("-s", "h:65536"), OPTS_EINVAL);
    cr_assert_eq(PARSE("-c", "0"), OPTS_EINVAL);
    cr_assert_eq(PARSE("-c", "-3"), OPTS_EINVAL);
    cr_assert_eq(PARSE("-d", "abc"), OPTS_EINVAL);
    cr_assert_eq(PARSE("-d", "0"), OPTS_EINVAL);
    cr_assert_eq(PARSE("--ratio", "1-10"), OPTS_EINVAL);
    cr_assert_eq(PARSE("--ratio", "0:0"), OPTS_EINVAL);
    cr_assert_eq(PARSE("--mget", "101"), OPTS_EINVAL);
    cr_assert_eq(PARSE("--dist", "normal"), OPTS_EINVAL);
    cr_assert_eq(PARSE("--zipf", "0"), OPTS_EINVAL);
    cr_assert_eq(PARSE("--key-size", "251"), OPTS_EINVAL);
    cr_assert_eq(PARSE("--bogus"), OPTS_EINVAL);
    cr_assert_eq(PARSE("extra"), OPTS_EINVAL);
    cr_assert_neq(err[0], '\0');
    cr_assert_eq(PARSE("-h"), OPTS_HELP);
}

Test(bench_opts, conflicting_combinations_are_refused)
{
    cr_assert_eq(PARSE("-k", "1000000", "--key-size", "5"), OPTS_EINVAL);
    cr_assert(strstr(err, "key-size") != NULL, "%s", err);
    cr_assert_eq(PARSE("-c", "2", "-t", "3"), OPTS_EINVAL);
    cr_assert_eq(PARSE("--verify", "--value-size", "8"), OPTS_EINVAL);
    cr_assert_eq(PARSE("--verify", "--no-value-check"), OPTS_EINVAL);
    cr_assert_eq(PARSE("--verify", "-k", "10"), OPTS_EINVAL);
    cr_assert_eq(PARSE("--meta", "--mget", "2"), OPTS_EINVAL);
    cr_assert_eq(PARSE("--meta"), OPTS_OK, "%s", err);
    cr_assert(o.meta);
    cr_assert_eq(PARSE("-k", "1000000", "--key-size", "7"), OPTS_OK, "%s",
        err);
}
