/*
 * Unit tests of ringbench's report: derived figures and the JSON object
 * tools/bench/compare reads.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/report.h"

static struct bench_opts o;
static struct report r;

static char *mem_text;
static size_t mem_len;

/* The JSON report as a heap string. */
static char *
json_of(void)
{
    FILE *f = open_memstream(&mem_text, &mem_len);

    report_json(&r, f);
    fclose(f);
    return mem_text;
}

static void
setup(void)
{
    uint64_t i;

    opts_defaults(&o);
    memset(&r, 0, sizeof(r));
    r.opts = &o;
    session_stats_init(&r.stats);
    r.elapsed_s = 2.0;
    r.stats.requests = 1000;
    r.stats.gets = 900;
    r.stats.sets = 100;
    r.stats.keys_asked = 900;
    r.stats.hits = 450;
    for (i = 1; i <= 1000; i++) {
        hist_record(&r.stats.latency, i * 1000);    /* 1..1000 us */
    }
}

Test(bench_report, derived_figures)
{
    setup();
    cr_assert_float_eq(report_ops_per_sec(&r), 500.0, 1e-9);
    cr_assert_float_eq(report_hit_rate(&r), 0.5, 1e-9);
    cr_assert_eq(report_failures(&r), 0);
    r.stats.bad_values = 2;
    r.conn_failures = 1;
    cr_assert_eq(report_failures(&r), 3);
    r.elapsed_s = 0;
    cr_assert_eq(report_ops_per_sec(&r), 0);
}

Test(bench_report, json_has_the_fields_compare_reads)
{
    char *j;

    setup();
    r.stats.stale_values = 3;
    j = json_of();
    cr_assert(j[0] == '{' && j[strlen(j) - 2] == '}', "%s", j);
    cr_assert(strstr(j, "\"ops_per_sec\":500.0") != NULL, "%s", j);
    cr_assert(strstr(j, "\"hit_rate\":0.500000") != NULL, "%s", j);
    cr_assert(strstr(j, "\"stale_values\":3") != NULL, "%s", j);
    cr_assert(strstr(j, "\"failures\":3") != NULL, "%s", j);
    /* p50 of 1..1000 us is 500 us, reported within 1/64 above. */
    {
        const char *p = strstr(j, "\"p50\":");
        double v;

        cr_assert_not_null(p);
        v = strtod(p + 6, NULL);
        cr_assert(v >= 500.0 && v <= 500.0 * (1 + 1.0 / 64), "p50 %f", v);
    }
    free(j);
}

Test(bench_report, text_names_every_error_class)
{
    char *text;
    FILE *f = open_memstream(&mem_text, &mem_len);

    setup();
    r.stats.protocol_errors = 1;
    report_text(&r, f);
    fclose(f);
    text = mem_text;
    cr_assert(strstr(text, "throughput  500 req/s") != NULL, "%s", text);
    cr_assert(strstr(text, "protocol 1") != NULL, "%s", text);
    free(text);
}
