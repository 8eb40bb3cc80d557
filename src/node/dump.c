/*
 * "lru_crawler ..." on the node, as memcached 1.6.18 answers it. metadump
 * streams every key in memcached's format without stopping anyone: the
 * walk runs in steps of DUMP_BUDGET hash residues from a timer on the
 * session's own loop, each holding one store lock stripe at a time, and
 * waits while the client has more than DUMP_OUT_HIGH bytes unread. The
 * session reads no further requests until the dump ends with "END".
 *
 * crawl, tocrawl, sleep, enable and disable are accepted with memcached's
 * replies: ringcached has no crawler thread to steer (the store's
 * maintenance sweep reclaims expired items all the time), so they change
 * nothing but the enabled flag that metadump and crawl obey.
 */
#include "node/node_int.h"

#include <stdlib.h>
#include <string.h>

#include "net/net.h"
#include "proto/proto.h"
#include "store/store.h"
#include "util/util.h"

/* Hash residues per step: about 400 items at most, ~50 KB of lines. */
#define DUMP_BUDGET 256u
/* Pause the walk while the client has this much output unread. */
#define DUMP_OUT_HIGH (256u << 10)
/* How often a paused walk looks at the client's output again. */
#define DUMP_WAIT_US 2000u
/* memcached's class ids for crawler commands: 1 .. 63. */
#define DUMP_CLASS_MAX 63u

/* What a dump prints per item. */
enum dump_format {
    DUMP_METADUMP = 0,  /* lru_crawler metadump: "key=... size=...\n" */
    DUMP_CACHEDUMP,     /* stats cachedump: "ITEM <key> [<n> b; <t> s]" */
};

struct node_dump {
    struct session *s;
    struct net_timer *timer;
    struct store_dump walk;
    struct buf out;             /* the lines of one step */
    enum dump_format format;
    uint32_t left;              /* cachedump: items still wanted (0: all) */
    bool limited;
    uint32_t now;
};

/* "all", "hash" (every class) or a comma list of class ids ("1,3"). */
static bool
parse_classes(struct str arg, uint64_t *mask)
{
    struct str rest = arg;
    struct str id;
    const char *comma;
    uint32_t v;

    *mask = 0;
    if (str_eq_cstr(arg, "all") || str_eq_cstr(arg, "hash")) {
        return true;
    }
    while (rest.len > 0) {
        comma = memchr(rest.ptr, ',', rest.len);
        id = (struct str){ rest.ptr, comma != NULL ?
            (size_t)(comma - rest.ptr) : rest.len };
        if (!util_parse_u32(id, &v) || v < 1 || v > DUMP_CLASS_MAX) {
            return false;
        }
        *mask |= (uint64_t)1 << v;
        rest.ptr += id.len;
        rest.len -= id.len;
        if (comma != NULL) {
            rest.ptr++;
            rest.len--;
        }
    }
    return *mask != 0;
}

/* One item's line (store callback: under a store lock, so only copies). */
static void
add_line(const struct store_dump_item *di, void *arg)
{
    struct node_dump *d = arg;
    char line[PROTO_DUMP_LINE_MAX];
    size_t n;

    if (d->format == DUMP_CACHEDUMP) {
        if (d->limited && d->left == 0) {
            return;
        }
        /* Base64-stored keys are left out, as memcached does. */
        n = di->key_binary ? 0 : proto_compose_cachedump_line(line, di->key,
            di->nbytes, di->exptime);
        if (n > 0 && d->limited) {
            d->left--;
        }
    } else {
        /* NOTE(node): the store keeps no access time; la= is the time of
         * the dump (the key looks just used rather than idle since 1970). */
        n = proto_compose_dump_line(line, di->key,
            di->exptime == 0 ? -1 : (int64_t)di->exptime, d->now, di->cas,
            di->fetched, di->cls, di->size);
    }
    (void)buf_append(&d->out, line, n);
}

static void
dump_free(struct node_dump *d)
{
    net_timer_destroy(d->timer);
    buf_fini(&d->out);
    free(d);
}

void
node_dump_cancel(struct session *s)
{
    if (s->dump != NULL) {
        dump_free(s->dump);
        s->dump = NULL;
        __atomic_fetch_sub(&s->w->node->dumps_running, 1, __ATOMIC_RELAXED);
    }
}

static void
dump_step(struct net_timer *t, void *arg)
{
    struct node_dump *d = arg;
    struct session *s = d->s;
    bool more;

    if (net_conn_closing(s->conn)) {
        return;     /* on_close frees the dump */
    }
    if (net_conn_out_pending(s->conn) > DUMP_OUT_HIGH) {
        net_timer_arm(t, DUMP_WAIT_US);
        return;
    }
    d->now = (uint32_t)util_wall_sec();
    more = store_dump_step(s->w->node->store, &d->walk, d->now, DUMP_BUDGET,
        add_line, d);
    if (!session_reply_buf(s, &d->out)) {
        net_conn_close(s->conn);
        return;
    }
    buf_clear(&d->out);
    if (more && !(d->limited && d->left == 0)) {
        net_timer_arm(t, 0);
        return;
    }
    (void)session_reply(s, proto_reply_str(PROTO_REPLY_END));
    node_dump_cancel(s);
    net_conn_pause_read(s->conn, false);
    node_session_resume(s);
}

/* Start streaming the keys of `classes`; false if the session must close.
 * A cachedump stops after `limit` items (0: all). */
static bool
dump_start(struct session *s, uint64_t classes, enum dump_format format,
    uint32_t limit)
{
    struct node_dump *d = calloc(1, sizeof(*d));

    if (d == NULL) {
        return session_reply(s, proto_reply_str(PROTO_REPLY_ARITH_OOM));
    }
    d->s = s;
    d->format = format;
    d->left = limit;
    d->limited = limit > 0;
    buf_init(&d->out);
    d->timer = net_timer_create(net_conn_loop(s->conn), dump_step, d);
    if (d->timer == NULL) {
        dump_free(d);
        return session_reply(s, proto_reply_str(PROTO_REPLY_ARITH_OOM));
    }
    store_dump_begin(s->w->node->store, &d->walk, classes);
    s->dump = d;
    __atomic_fetch_add(&s->w->node->dumps_running, 1, __ATOMIC_RELAXED);
    /* Requests sent meanwhile wait in the socket, not in our memory. */
    net_conn_pause_read(s->conn, true);
    net_timer_arm(d->timer, 0);
    return true;
}

/* "crawl <classes>" and "metadump <classes>". */
static bool
crawler_walk(struct session *s, struct str what, struct str arg)
{
    struct node *n = s->w->node;
    uint64_t classes;

    if (!__atomic_load_n(&n->crawler_enabled, __ATOMIC_RELAXED)) {
        return session_reply(s, proto_reply_str(PROTO_REPLY_CRAWLER_OFF));
    }
    if (str_eq_cstr(what, "metadump") && n->cfg->dump_disabled) {
        return session_reply(s, proto_reply_str(PROTO_REPLY_METADUMP_OFF));
    }
    if (!parse_classes(arg, &classes)) {
        return session_reply(s, proto_reply_str(PROTO_REPLY_BADCLASS));
    }
    __atomic_fetch_add(&n->dumps_started, 1, __ATOMIC_RELAXED);
    if (str_eq_cstr(what, "crawl")) {
        return session_reply(s, proto_reply_str(PROTO_REPLY_OK));
    }
    return dump_start(s, classes, DUMP_METADUMP, 0);
}

/* "tocrawl <n>" and "sleep <usec>": checked, then ignored. */
static bool
crawler_number(struct session *s, struct str what, struct str arg)
{
    uint32_t v;

    if (!util_parse_u32(arg, &v)) {
        return session_reply(s, proto_reply_str(PROTO_REPLY_BAD_FORMAT));
    }
    if (str_eq_cstr(what, "sleep") && v > 1000000) {
        return session_reply(s, proto_reply_str(PROTO_REPLY_CRAWLER_SLEEP));
    }
    return session_reply(s, proto_reply_str(PROTO_REPLY_OK));
}

bool
node_lru_crawler(struct session *s, struct str args)
{
    struct node *n = s->w->node;
    struct proto_key_iter it = { args.ptr, args.ptr + args.len };
    struct str what = { "", 0 };
    struct str arg;
    struct str extra;
    bool has_arg;

    (void)proto_keys_next(&it, &what);
    has_arg = proto_keys_next(&it, &arg);
    if (proto_keys_next(&it, &extra)) {
        return session_reply(s, proto_reply_str(PROTO_REPLY_ERROR));
    }
    if (has_arg && (str_eq_cstr(what, "metadump") ||
        str_eq_cstr(what, "crawl"))) {
        return crawler_walk(s, what, arg);
    }
    if (has_arg && (str_eq_cstr(what, "tocrawl") ||
        str_eq_cstr(what, "sleep"))) {
        return crawler_number(s, what, arg);
    }
    if (!has_arg && (str_eq_cstr(what, "enable") ||
        str_eq_cstr(what, "disable"))) {
        __atomic_store_n(&n->crawler_enabled, str_eq_cstr(what, "enable"),
            __ATOMIC_RELAXED);
        return session_reply(s, proto_reply_str(PROTO_REPLY_OK));
    }
    return session_reply(s, proto_reply_str(PROTO_REPLY_ERROR));
}

bool
node_cachedump(struct session *s, struct str args)
{
    struct proto_key_iter it = { args.ptr, args.ptr + args.len };
    struct str word;
    struct str id;
    struct str limit;
    uint32_t cls;
    uint32_t n;

    if (s->w->node->cfg->dump_disabled) {
        return session_reply(s, proto_reply_str(PROTO_REPLY_CACHEDUMP_OFF));
    }
    (void)proto_keys_next(&it, &word);      /* "cachedump" */
    if (!proto_keys_next(&it, &id) || !proto_keys_next(&it, &limit)) {
        return session_reply(s, proto_reply_str(PROTO_REPLY_BAD_LINE));
    }
    if (!util_parse_u32(id, &cls) || !util_parse_u32(limit, &n)) {
        return session_reply(s, proto_reply_str(PROTO_REPLY_BAD_FORMAT));
    }
    if (cls > DUMP_CLASS_MAX) {
        return session_reply(s, proto_reply_str(PROTO_REPLY_BAD_SLAB));
    }
    if (cls == 0) {
        return session_reply(s, proto_reply_str(PROTO_REPLY_END));
    }
    return dump_start(s, (uint64_t)1 << cls, DUMP_CACHEDUMP, n);
}
