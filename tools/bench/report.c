/*
 * ringbench's text and JSON reports (see report.h).
 */
#include "bench/report.h"

double
report_ops_per_sec(const struct report *r)
{
    return r->elapsed_s > 0 ? (double)r->stats.requests / r->elapsed_s : 0;
}

double
report_hit_rate(const struct report *r)
{
    return r->stats.keys_asked > 0
        ? (double)r->stats.hits / (double)r->stats.keys_asked : 0;
}

uint64_t
report_failures(const struct report *r)
{
    return r->stats.bad_values + r->stats.stale_values
        + r->stats.protocol_errors + r->conn_failures;
}

static const double pcts[] = { 50, 90, 99, 99.9 };
static const char *const pct_names[] = { "p50", "p90", "p99", "p99.9" };

static double
us(uint64_t ns)
{
    return (double)ns / 1000.0;
}

void
report_text(const struct report *r, FILE *f)
{
    const struct bench_opts *o = r->opts;
    const struct session_stats *st = &r->stats;
    const struct hist *h = &st->latency;
    unsigned i;

    fprintf(f, "server      %s:%u\n", o->host, o->port);
    fprintf(f, "load        %u conns, %u threads, depth %u, %s",
        o->conns, o->threads, o->depth, o->rate > 0 ? "open loop" :
        "closed loop");
    if (o->rate > 0) {
        fprintf(f, " at %.0f req/s", o->rate);
    }
    fprintf(f, "\nkeys        %llu %s, key %zu B, value %zu B, set:get "
        "%u:%u, mget %u%s%s\n", (unsigned long long)o->nkeys,
        keys_dist_name(o->dist), o->key_len, o->value_len, o->set_weight,
        o->get_weight, o->mget, o->verify ? ", verify" : "",
        o->meta ? ", meta commands" : "");
    fprintf(f, "elapsed     %.3f s\n", r->elapsed_s);
    fprintf(f, "requests    %llu (%llu gets, %llu sets)\n",
        (unsigned long long)st->requests, (unsigned long long)st->gets,
        (unsigned long long)st->sets);
    fprintf(f, "throughput  %.0f req/s\n", report_ops_per_sec(r));
    fprintf(f, "hit rate    %.4f (%llu of %llu keys)\n", report_hit_rate(r),
        (unsigned long long)st->hits, (unsigned long long)st->keys_asked);
    fprintf(f, "latency us ");
    for (i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++) {
        fprintf(f, " %s %.1f", pct_names[i],
            us(hist_percentile(h, pcts[i])));
    }
    fprintf(f, " max %.1f mean %.1f\n", us(h->count ? h->max : 0),
        hist_mean(h) / 1000.0);
    fprintf(f, "errors      server %llu, not stored %llu, bad values %llu, "
        "stale %llu, protocol %llu, connections %llu\n",
        (unsigned long long)st->server_errors,
        (unsigned long long)st->not_stored,
        (unsigned long long)st->bad_values,
        (unsigned long long)st->stale_values,
        (unsigned long long)st->protocol_errors,
        (unsigned long long)r->conn_failures);
}

void
report_json(const struct report *r, FILE *f)
{
    const struct bench_opts *o = r->opts;
    const struct session_stats *st = &r->stats;
    const struct hist *h = &st->latency;
    unsigned i;

    fprintf(f, "{\"server\":\"%s:%u\",\"conns\":%u,\"threads\":%u,"
        "\"depth\":%u,\"rate\":%.1f,\"keys\":%llu,\"dist\":\"%s\","
        "\"key_size\":%zu,\"value_size\":%zu,\"set_weight\":%u,"
        "\"get_weight\":%u,\"mget\":%u,\"verify\":%s,\"meta\":%s,",
        o->host, o->port,
        o->conns, o->threads, o->depth, o->rate,
        (unsigned long long)o->nkeys, keys_dist_name(o->dist), o->key_len,
        o->value_len, o->set_weight, o->get_weight, o->mget,
        o->verify ? "true" : "false", o->meta ? "true" : "false");
    fprintf(f, "\"elapsed_s\":%.6f,\"requests\":%llu,\"gets\":%llu,"
        "\"sets\":%llu,\"ops_per_sec\":%.1f,\"keys_asked\":%llu,"
        "\"hits\":%llu,\"hit_rate\":%.6f,", r->elapsed_s,
        (unsigned long long)st->requests, (unsigned long long)st->gets,
        (unsigned long long)st->sets, report_ops_per_sec(r),
        (unsigned long long)st->keys_asked, (unsigned long long)st->hits,
        report_hit_rate(r));
    fprintf(f, "\"errors\":{\"server\":%llu,\"not_stored\":%llu,"
        "\"bad_values\":%llu,\"stale_values\":%llu,\"protocol\":%llu,"
        "\"connections\":%llu},\"failures\":%llu,",
        (unsigned long long)st->server_errors,
        (unsigned long long)st->not_stored,
        (unsigned long long)st->bad_values,
        (unsigned long long)st->stale_values,
        (unsigned long long)st->protocol_errors,
        (unsigned long long)r->conn_failures,
        (unsigned long long)report_failures(r));
    fprintf(f, "\"latency_us\":{");
    for (i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++) {
        fprintf(f, "\"%s\":%.3f,", pct_names[i],
            us(hist_percentile(h, pcts[i])));
    }
    fprintf(f, "\"max\":%.3f,\"mean\":%.3f}}\n", us(h->count ? h->max : 0),
        hist_mean(h) / 1000.0);
}
