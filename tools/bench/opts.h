/*
 * ringbench's command line: parsed and checked into one struct, with the
 * usage text. Pure (no I/O except writing the usage to a stream given).
 */
#ifndef BENCH_OPTS_H
#define BENCH_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "bench/keys.h"
#include "bench/session.h"

struct bench_opts {
    char host[256];
    uint16_t port;
    unsigned conns;             /* total, spread over threads */
    unsigned threads;
    double duration_s;          /* measured time (after warm-up) */
    double warmup_s;
    uint64_t requests;          /* total; 0 = run for duration_s */
    uint64_t nkeys;
    enum keys_dist dist;
    double zipf_theta;
    size_t key_len;
    size_t value_len;
    uint32_t set_weight;
    uint32_t get_weight;
    unsigned mget;
    unsigned depth;             /* closed loop: outstanding per conn;
                                 * open loop: requests per send */
    double rate;                /* open loop: total requests/s; 0 = closed */
    unsigned max_outstanding;   /* open loop: per connection */
    bool verify;
    bool meta;                  /* mg/ms instead of get/set */
    bool check_values;
    bool json;
    uint64_t seed;
    uint32_t run_id;
    struct value_range mix[SESSION_MAX_MIX]; /* --value-mix (nmix > 0) */
    unsigned nmix;
    uint32_t ttl_pct;           /* --ttl PCT:SECS */
    int64_t ttl_secs;
    bool set_on_miss;           /* --set-on-miss */
};

enum opts_status {
    OPTS_OK = 0,
    OPTS_HELP,          /* --help: usage was asked for */
    OPTS_EINVAL,        /* bad option; *err says why */
};

/* Defaults: 127.0.0.1:11211, 50 conns, 1 thread, 10 s, 100000 uniform
 * keys of 16 bytes, 32-byte values, 1:10 set:get, no pipelining. */
void opts_defaults(struct bench_opts *o);

/*
 * Parse argv into *o (which holds the defaults) and check the combination.
 * On OPTS_EINVAL, `err` (of `errlen` bytes) says what is wrong. Uses
 * getopt_long (resets optind). Never allocates.
 */
enum opts_status opts_parse(struct bench_opts *o, int argc, char **argv,
    char *err, size_t errlen);

void opts_usage(FILE *f);

#endif /* BENCH_OPTS_H */
