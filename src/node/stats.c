/*
 * "stats", "stats settings", "stats items", "stats slabs", "stats conns"
 * with memcached's names, in memcached's order, where the meaning is the
 * same; a counter memcached has and ringcached cannot mean the same way is
 * left out rather than faked. "stats reset" keeps a baseline and reports
 * cumulative counters relative to it.
 */
#include "node/node_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "config.h"
#include "net/net.h"
#include "store/store.h"
#include "util/util.h"

/* Baseline of cumulative counters at the last "stats reset". */
static pthread_mutex_t base_mu = PTHREAD_MUTEX_INITIALIZER;
static struct store_stats base_ss;
static struct node_counters base_nc;
static struct net_server_stats base_ns;

static void
stat_u64(struct buf *b, const char *name, uint64_t v)
{
    buf_printf(b, "STAT %s %" PRIu64 "\r\n", name, v);
}

static void
stat_str(struct buf *b, const char *name, const char *v)
{
    buf_printf(b, "STAT %s %s\r\n", name, v);
}

static void
sum_counters(struct node *n, struct node_counters *t)
{
    unsigned i;

    memset(t, 0, sizeof(*t));
    for (i = 0; i < n->nworkers; i++) {
        struct node_counters *c = &n->workers[i].ctr;

        t->cmd_get += STAT_GET(c, cmd_get);
        t->cmd_set += STAT_GET(c, cmd_set);
        t->cmd_flush += STAT_GET(c, cmd_flush);
        t->cmd_touch += STAT_GET(c, cmd_touch);
        t->cmd_meta += STAT_GET(c, cmd_meta);
        t->store_too_large += STAT_GET(c, store_too_large);
        t->store_no_memory += STAT_GET(c, store_no_memory);
        t->bytes_read += STAT_GET(c, bytes_read);
        t->bytes_written += STAT_GET(c, bytes_written);
    }
}

void
node_stats_reset(struct node *n)
{
    pthread_mutex_lock(&base_mu);
    store_stats(n->store, &base_ss);
    sum_counters(n, &base_nc);
    net_server_stats(n->srv, &base_ns);
    pthread_mutex_unlock(&base_mu);
}

/* Counters since the last reset. */
static void
snapshot(struct node *n, struct store_stats *ss, struct node_counters *nc,
    struct net_server_stats *ns)
{
    store_stats(n->store, ss);
    sum_counters(n, nc);
    net_server_stats(n->srv, ns);
    pthread_mutex_lock(&base_mu);
#define SUB(x, f) ((x)->f -= base_##x.f)
    SUB(ss, total_items);
    SUB(ss, evictions);
    SUB(ss, reclaimed);
    SUB(ss, expired_unfetched);
    SUB(ss, evicted_unfetched);
    SUB(ss, crawler_reclaimed);
    SUB(ss, get_hits);
    SUB(ss, get_misses);
    SUB(ss, get_expired);
    SUB(ss, get_flushed);
    SUB(ss, cas_hits);
    SUB(ss, cas_misses);
    SUB(ss, cas_badval);
    SUB(ss, incr_hits);
    SUB(ss, incr_misses);
    SUB(ss, decr_hits);
    SUB(ss, decr_misses);
    SUB(ss, delete_hits);
    SUB(ss, delete_misses);
    SUB(ss, touch_hits);
    SUB(ss, touch_misses);
    SUB(ss, slabs_moved);
    SUB(ss, outofmemory);
    SUB(nc, cmd_get);
    SUB(nc, cmd_set);
    SUB(nc, cmd_flush);
    SUB(nc, cmd_touch);
    SUB(nc, cmd_meta);
    SUB(nc, store_too_large);
    SUB(nc, store_no_memory);
    SUB(nc, bytes_read);
    SUB(nc, bytes_written);
    SUB(ns, total_conns);
    SUB(ns, rejected_conns);
    SUB(ns, listen_disabled);
#undef SUB
    pthread_mutex_unlock(&base_mu);
}

/* Names memcached 1.6.18 prints for mechanisms ringcached does not have
 * (response object and read buffer pools, SASL, the LRU maintainer and
 * its segments, log watchers, NAPI): always 0 here (ringcached(8)). */
static void
stat_zeros(struct buf *b, const char *const *names)
{
    for (; *names != NULL; names++) {
        stat_u64(b, *names, 0);
    }
}

static void
process_stats(struct node *n, uint32_t now,
    const struct net_server_stats *ns, struct buf *b)
{
    static const char *const buffers[] = {
        "response_obj_oom", "response_obj_count", "response_obj_bytes",
        "read_buf_count", "read_buf_bytes", "read_buf_bytes_free",
        "read_buf_oom", "reserved_fds", NULL,
    };
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    stat_u64(b, "pid", (uint64_t)getpid());
    stat_u64(b, "uptime", now - n->started);
    stat_u64(b, "time", now);
    stat_str(b, "version", node_version);
    stat_str(b, "libevent", net_backend_version());
    stat_u64(b, "pointer_size", sizeof(void *) * 8);
    buf_printf(b, "STAT rusage_user %ld.%06ld\r\n", (long)ru.ru_utime.tv_sec,
        (long)ru.ru_utime.tv_usec);
    buf_printf(b, "STAT rusage_system %ld.%06ld\r\n",
        (long)ru.ru_stime.tv_sec, (long)ru.ru_stime.tv_usec);
    stat_u64(b, "max_connections", n->cfg->max_conns);
    stat_u64(b, "curr_connections", ns->curr_conns);
    stat_u64(b, "total_connections", ns->total_conns);
    stat_u64(b, "rejected_connections", ns->rejected_conns);
    stat_u64(b, "connection_structures", ns->curr_conns);
    stat_zeros(b, buffers);
}

static void
command_stats(const struct store_stats *ss, const struct node_counters *nc,
    struct buf *b)
{
    stat_u64(b, "cmd_get", nc->cmd_get);
    stat_u64(b, "cmd_set", nc->cmd_set);
    stat_u64(b, "cmd_flush", nc->cmd_flush);
    stat_u64(b, "cmd_touch", nc->cmd_touch);
    stat_u64(b, "cmd_meta", nc->cmd_meta);
    stat_u64(b, "get_hits", ss->get_hits);
    stat_u64(b, "get_misses", ss->get_misses);
    stat_u64(b, "get_expired", ss->get_expired);
    stat_u64(b, "get_flushed", ss->get_flushed);
    stat_u64(b, "delete_misses", ss->delete_misses);
    stat_u64(b, "delete_hits", ss->delete_hits);
    stat_u64(b, "incr_misses", ss->incr_misses);
    stat_u64(b, "incr_hits", ss->incr_hits);
    stat_u64(b, "decr_misses", ss->decr_misses);
    stat_u64(b, "decr_hits", ss->decr_hits);
    stat_u64(b, "cas_misses", ss->cas_misses);
    stat_u64(b, "cas_hits", ss->cas_hits);
    stat_u64(b, "cas_badval", ss->cas_badval);
    stat_u64(b, "touch_hits", ss->touch_hits);
    stat_u64(b, "touch_misses", ss->touch_misses);
    stat_u64(b, "store_too_large", nc->store_too_large);
    stat_u64(b, "store_no_memory", nc->store_no_memory);
    stat_u64(b, "auth_cmds", 0);
    stat_u64(b, "auth_errors", 0);
    stat_u64(b, "bytes_read", nc->bytes_read);
    stat_u64(b, "bytes_written", nc->bytes_written);
}

static void
server_stats(struct node *n, const struct store_stats *ss,
    const struct net_server_stats *ns, struct buf *b)
{
    stat_u64(b, "limit_maxbytes", ss->limit_maxbytes);
    stat_u64(b, "accepting_conns", 1);
    stat_u64(b, "listen_disabled_num", ns->listen_disabled);
    stat_u64(b, "time_in_listen_disabled_us", 0);
    stat_u64(b, "threads", n->nworkers);
    stat_u64(b, "conn_yields", 0);
    stat_u64(b, "hash_power_level", ss->hash_power_level);
    stat_u64(b, "hash_bytes", ss->hash_bytes);
    stat_u64(b, "hash_is_expanding", ss->hash_is_expanding);
    stat_u64(b, "slab_reassign_rescues", ss->slab_reassign_rescues);
    stat_u64(b, "slab_reassign_chunk_rescues", 0);
    stat_u64(b, "slab_reassign_evictions_nomem", ss->slab_reassign_evictions);
    stat_u64(b, "slab_reassign_inline_reclaim", 0);
    stat_u64(b, "slab_reassign_busy_items", ss->slab_reassign_busy_items);
    stat_u64(b, "slab_reassign_busy_deletes", 0);
    stat_u64(b, "slab_reassign_running", ss->slab_reassign_running);
    stat_u64(b, "slabs_moved", ss->slabs_moved);
    stat_u64(b, "lru_crawler_running",
        __atomic_load_n(&n->dumps_running, __ATOMIC_RELAXED) > 0);
    stat_u64(b, "lru_crawler_starts",
        __atomic_load_n(&n->dumps_started, __ATOMIC_RELAXED));
    stat_u64(b, "lru_maintainer_juggles", 0);
    stat_u64(b, "malloc_fails", ss->outofmemory);
}

static void
item_totals(const struct store_stats *ss, struct buf *b)
{
    static const char *const logging[] = {
        "log_worker_dropped", "log_worker_written", "log_watcher_skipped",
        "log_watcher_sent", "log_watchers", "unexpected_napi_ids",
        "round_robin_fallback", NULL,
    };
    static const char *const lru[] = {
        "crawler_items_checked", "lrutail_reflocked", "moves_to_cold",
        "moves_to_warm", "moves_within_lru", "direct_reclaims",
        "lru_bumps_dropped", NULL,
    };

    stat_zeros(b, logging);
    stat_u64(b, "bytes", ss->bytes);
    stat_u64(b, "curr_items", ss->curr_items);
    stat_u64(b, "total_items", ss->total_items);
    stat_u64(b, "slab_global_page_pool", ss->global_page_pool);
    stat_u64(b, "expired_unfetched", ss->expired_unfetched);
    stat_u64(b, "evicted_unfetched", ss->evicted_unfetched);
    stat_u64(b, "evicted_active", 0);
    stat_u64(b, "evictions", ss->evictions);
    stat_u64(b, "reclaimed", ss->reclaimed);
    stat_u64(b, "crawler_reclaimed", ss->crawler_reclaimed);
    stat_zeros(b, lru);
}

/* "stats": memcached 1.6.18's names in its order. */
static void
general_stats(struct node *n, uint32_t now, struct buf *b)
{
    struct store_stats ss;
    struct node_counters nc;
    struct net_server_stats ns;

    snapshot(n, &ss, &nc, &ns);
    process_stats(n, now, &ns, b);
    command_stats(&ss, &nc, b);
    server_stats(n, &ss, &ns, b);
    item_totals(&ss, b);
}

/* A name and a fixed value: settings of mechanisms ringcached does not
 * have, printed so that what they say is true here (0, no, NULL). */
struct fixed_stat {
    const char *name;
    const char *value;
};

static void
stat_fixed(struct buf *b, const struct fixed_stat *f)
{
    for (; f->name != NULL; f++) {
        stat_str(b, f->name, f->value);
    }
}

/* "stats settings" up to reqs_per_event: memory, listeners, threads. */
static void
listen_settings_stats(struct node *n, struct buf *b)
{
    const struct node_config *c = n->cfg;
    char inter[256] = "NULL";
    size_t i;
    size_t off = 0;

    for (i = 0; i < c->nlisten && c->unix_path == NULL; i++) {
        off += (size_t)snprintf(inter + off, sizeof(inter) - off, "%s%s",
            i > 0 ? "," : "", c->listen[i]);
        if (off >= sizeof(inter)) {
            break;
        }
    }
    stat_u64(b, "maxbytes", c->mem_limit);
    stat_u64(b, "maxconns", c->max_conns);
    stat_u64(b, "tcpport", c->unix_path != NULL ? 0 : c->port);
    stat_u64(b, "udpport", 0);
    stat_str(b, "inter", inter);
    stat_u64(b, "verbosity", __atomic_load_n(&n->verbosity,
        __ATOMIC_RELAXED));
    stat_u64(b, "oldest", 0);
    stat_str(b, "evictions", c->no_evict ? "off" : "on");
    stat_str(b, "domain_socket", c->unix_path != NULL ? c->unix_path :
        "NULL");
    buf_printf(b, "STAT umask %o\r\n", c->unix_mask);
    stat_str(b, "shutdown_command", c->enable_shutdown ? "yes" : "no");
    buf_printf(b, "STAT growth_factor %.2f\r\n", c->growth_factor);
    stat_u64(b, "chunk_size", c->chunk_min);
    stat_u64(b, "num_threads", c->threads);
    stat_u64(b, "num_threads_per_udp", c->threads);
    stat_str(b, "stat_key_prefix", ":");
    stat_str(b, "detail_enabled", "no");
    stat_u64(b, "reqs_per_event", c->reqs_per_event);
}

/* "stats settings": memcached 1.6.18's names in its order, with what is
 * in effect here. */
static void
settings_stats(struct node *n, struct buf *b)
{
    static const struct fixed_stat automove[] = {
        { "slab_automove_ratio", "0.00" }, { "slab_automove_window", "0" },
        { NULL, NULL },
    };
    static const struct fixed_stat crawler[] = {
        { "lru_crawler_sleep", "0" }, { "lru_crawler_tocrawl", "0" },
        { "tail_repair_time", "0" }, { NULL, NULL },
    };
    static const struct fixed_stat lru[] = {
        { "lru_maintainer_thread", "no" }, { "lru_segmented", "no" },
        { "hot_lru_pct", "0" }, { "warm_lru_pct", "0" },
        { "hot_max_factor", "0.00" }, { "warm_max_factor", "0.00" },
        { "temp_lru", "no" }, { "temporary_ttl", "0" }, { NULL, NULL },
    };
    static const struct fixed_stat rest[] = {
        { "watcher_logbuf_size", "0" }, { "worker_logbuf_size", "0" },
        { "read_buf_mem_limit", "0" }, { "track_sizes", "no" },
        { "inline_ascii_response", "no" }, { "ext_item_size", "0" },
        { "ext_item_age", "0" }, { "ext_low_ttl", "0" },
        { "ext_recache_rate", "0" }, { "ext_wbuf_size", "0" },
        { "ext_compact_under", "0" }, { "ext_drop_under", "0" },
        { "ext_max_sleep", "0" }, { "ext_max_frag", "0.00" },
        { "slab_automove_freeratio", "0.000" }, { "ext_drop_unread", "no" },
        { "ssl_enabled", "no" }, { "ssl_chain_cert", "(null)" },
        { "ssl_key", "(null)" }, { "ssl_verify_mode", "0" },
        { "ssl_keyformat", "0" }, { "ssl_ciphers", "NULL" },
        { "ssl_ca_cert", "NULL" }, { "ssl_wbuf_size", "0" },
        { "ssl_session_cache", "no" }, { "ssl_kernel_tls", "no" },
        { "ssl_min_version", "NULL" }, { "num_napi_ids", "(null)" },
        { "memory_file", "(null)" }, { NULL, NULL },
    };
    const struct node_config *c = n->cfg;

    listen_settings_stats(n, b);
    stat_str(b, "cas_enabled", c->no_cas ? "no" : "yes");
    stat_u64(b, "tcp_backlog", (uint64_t)c->backlog);
    stat_str(b, "binding_protocol", "ascii");
    stat_str(b, "auth_enabled_sasl", "no");
    stat_str(b, "auth_enabled_ascii", "no");
    stat_u64(b, "item_size_max", c->item_size_max);
    stat_str(b, "maxconns_fast", "yes");
    stat_u64(b, "hashpower_init", c->hash_power);
    stat_str(b, "slab_reassign", "yes");
    stat_u64(b, "slab_automove", store_automove(n->store));
    stat_fixed(b, automove);
    stat_u64(b, "slab_chunk_max", c->slab_chunk_max);
    stat_str(b, "lru_crawler", __atomic_load_n(&n->crawler_enabled,
        __ATOMIC_RELAXED) ? "yes" : "no");
    stat_fixed(b, crawler);
    stat_str(b, "flush_enabled", c->disable_flush ? "no" : "yes");
    stat_str(b, "dump_enabled", c->dump_disabled ? "no" : "yes");
    stat_str(b, "hash_algorithm", "xxh3");
    stat_fixed(b, lru);
    stat_u64(b, "idle_timeout", c->idle_timeout);
    stat_fixed(b, rest);
}

/* "stats items" of one class, memcached 1.6.18's names in its order.
 * NOTE(node): one CLOCK list per class, no access times: the segmented
 * LRU's names (hot, warm, temp) are 0 and number_cold is every item;
 * age and evicted_time need access times and are 0; evicted_nonzero and
 * expired_unfetched are not counted per class (0; "stats" has the
 * total expired_unfetched). */
static void
class_items_stats(const struct store_class_stats *cs, struct buf *b)
{
    static const char *const lru_tail[] = {
        "evicted_active", NULL,
    };
    static const char *const lru_moves[] = {
        "crawler_items_checked", "lrutail_reflocked", "moves_to_cold",
        "moves_to_warm", "moves_within_lru", "direct_reclaims",
        "hits_to_hot", "hits_to_warm", "hits_to_cold", "hits_to_temp", NULL,
    };

#define ITEM(name, v) buf_printf(b, "STAT items:%u:%s %" PRIu64 "\r\n", \
    cs->id, name, (uint64_t)(v))
#define ITEMS_ZERO(names) do { \
        for (const char *const *z = (names); *z != NULL; z++) { \
            ITEM(*z, 0); \
        } \
    } while (0)
    ITEM("number", cs->number);
    ITEM("number_hot", 0);
    ITEM("number_warm", 0);
    ITEM("number_cold", cs->number);
    ITEM("age_hot", 0);
    ITEM("age_warm", 0);
    ITEM("age", 0);
    ITEM("mem_requested", cs->mem_requested);
    ITEM("evicted", cs->evicted);
    ITEM("evicted_nonzero", 0);
    ITEM("evicted_time", 0);
    ITEM("outofmemory", cs->outofmemory);
    ITEM("tailrepairs", 0);
    ITEM("reclaimed", cs->reclaimed);
    ITEM("expired_unfetched", 0);
    ITEM("evicted_unfetched", cs->evicted_unfetched);
    ITEMS_ZERO(lru_tail);
    ITEM("crawler_reclaimed", cs->crawler_reclaimed);
    ITEMS_ZERO(lru_moves);
#undef ITEMS_ZERO
#undef ITEM
}

static void
items_stats(struct node *n, struct buf *b)
{
    struct store_class_stats cs;
    unsigned i;

    for (i = 0; i < store_nclasses(n->store); i++) {
        if (store_class_stats(n->store, i, &cs) && cs.number > 0) {
            class_items_stats(&cs, b);
        }
    }
}

/* "stats slabs" of one class, memcached 1.6.18's names in its order. */
static void
class_slabs_stats(const struct store_class_stats *cs, struct buf *b)
{
#define SLAB(name, v) buf_printf(b, "STAT %u:%s %" PRIu64 "\r\n", cs->id, \
    name, (uint64_t)(v))
    SLAB("chunk_size", cs->chunk_size);
    SLAB("chunks_per_page", cs->chunks_per_page);
    SLAB("total_pages", cs->total_pages);
    SLAB("total_chunks", cs->total_chunks);
    SLAB("used_chunks", cs->used_chunks);
    SLAB("free_chunks", cs->free_chunks);
    SLAB("free_chunks_end", 0);
    SLAB("get_hits", cs->get_hits);
    SLAB("cmd_set", cs->cmd_set);
    SLAB("delete_hits", cs->delete_hits);
    SLAB("incr_hits", cs->incr_hits);
    SLAB("decr_hits", cs->decr_hits);
    SLAB("cas_hits", cs->cas_hits);
    SLAB("cas_badval", cs->cas_badval);
    SLAB("touch_hits", cs->touch_hits);
#undef SLAB
}

static void
slabs_stats(struct node *n, struct buf *b)
{
    struct store_class_stats cs;
    struct store_stats ss;
    unsigned active = 0;
    unsigned i;

    for (i = 0; i < store_nclasses(n->store); i++) {
        if (store_class_stats(n->store, i, &cs) && cs.total_pages > 0) {
            active++;
            class_slabs_stats(&cs, b);
        }
    }
    store_stats(n->store, &ss);
    stat_u64(b, "active_slabs", active);
    stat_u64(b, "total_malloced", ss.total_malloced);
}

static const char *const state_names[] = {
    [SESSION_WAITING] = "conn_waiting",
    [SESSION_PARSING] = "conn_parse_cmd",
    [SESSION_NREAD] = "conn_nread",
    [SESSION_SWALLOW] = "conn_swallow",
    [SESSION_CLOSING] = "conn_closing",
};

static void
conns_stats(struct node *n, uint32_t now, struct buf *b)
{
    char name[160];
    char listen[160] = "";
    struct session *s;
    size_t i;
    unsigned w;
    int fd;

    for (i = 0; i < net_server_listener_count(n->srv); i++) {
        fd = net_server_listener_fd(n->srv, i);
        net_server_listener_name(n->srv, i, listen, sizeof(listen));
        proto_conn_addr_name(listen, name, sizeof(name));
        buf_printf(b, "STAT %d:addr %s\r\n", fd, name);
        buf_printf(b, "STAT %d:state conn_listening\r\n", fd);
        buf_printf(b, "STAT %d:secs_since_last_cmd 0\r\n", fd);
    }
    for (w = 0; w < n->nworkers; w++) {
        pthread_mutex_lock(&n->workers[w].mu);
        for (s = n->workers[w].sessions; s != NULL; s = s->next) {
            uint32_t last = __atomic_load_n(&s->last_cmd, __ATOMIC_RELAXED);
            enum session_state st = __atomic_load_n(&s->state,
                __ATOMIC_RELAXED);

            if (s->listener >= 0) {
                net_server_listener_name(n->srv, (size_t)s->listener,
                    listen, sizeof(listen));
            }
            if (listen[0] == '/') {
                proto_conn_addr_name(listen, name, sizeof(name));
            } else {
                proto_conn_addr_name(s->peer, name, sizeof(name));
            }
            buf_printf(b, "STAT %d:addr %s\r\n", s->fd, name);
            proto_conn_addr_name(listen, name, sizeof(name));
            buf_printf(b, "STAT %d:listen_addr %s\r\n", s->fd, name);
            buf_printf(b, "STAT %d:state %s\r\n", s->fd, state_names[st]);
            buf_printf(b, "STAT %d:secs_since_last_cmd %u\r\n", s->fd,
                now >= last ? now - last : 0);
        }
        pthread_mutex_unlock(&n->workers[w].mu);
    }
}

bool
node_stats(struct node *n, struct str args, uint32_t now, struct buf *b)
{
    if (args.len == 0) {
        general_stats(n, now, b);
    } else if (str_eq_cstr(args, "settings")) {
        settings_stats(n, b);
    } else if (str_eq_cstr(args, "items")) {
        items_stats(n, b);
    } else if (str_eq_cstr(args, "slabs")) {
        slabs_stats(n, b);
    } else if (str_eq_cstr(args, "conns")) {
        conns_stats(n, now, b);
    } else if (str_eq_cstr(args, "sizes")) {
        stat_str(b, "sizes_status", "disabled");
    } else {
        return false;
    }
    if (!buf_append_str(b, proto_reply_str(PROTO_REPLY_END))) {
        buf_clear(b);
    }
    return true;
}
