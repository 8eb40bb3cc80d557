/*
 * ringbench's report: the summed counters of a run, as text for people or
 * as one JSON object for scripts (tools/bench/compare reads it).
 */
#ifndef BENCH_REPORT_H
#define BENCH_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "bench/opts.h"
#include "bench/session.h"

struct report {
    const struct bench_opts *opts;
    struct session_stats stats;     /* all connections, measured part */
    double elapsed_s;               /* measured wall time */
    uint64_t conn_failures;         /* connects failed or closed early */
};

/* Requests per second over the measured time (0 if no time passed). */
double report_ops_per_sec(const struct report *r);

/* Hits / keys asked for (0 if no get finished). */
double report_hit_rate(const struct report *r);

/* Correctness failures: bad or stale values, protocol errors, connections
 * lost. A run with any is not a valid measurement. */
uint64_t report_failures(const struct report *r);

/* Write the report as aligned text / as one JSON object and a newline. */
void report_text(const struct report *r, FILE *f);
void report_json(const struct report *r, FILE *f);

#endif /* BENCH_REPORT_H */
