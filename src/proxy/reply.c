/*
 * Replies: each response element backend.c reads is checked against the
 * request it answers (its type, for retrievals the key and cas form, for
 * meta the k/O/s echoes) and kept for the client request (struct preq)
 * it belongs to: a multi-get's values by key (mget.c), anything else as
 * one element. What cannot be attributed is never kept: backend.c closes
 * that stream. client_flush() then sends what is ready, in order; values
 * go by reference, so a value is copied once, out of the backend's input.
 *
 * This is the only file backend.c calls up into, and with client_flush()
 * and preq_account() the only one that calls the client.
 */
#include "proxy/proxy_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A formatted line in a blob of its own size (no fixed buffer: a node
 * name of any configured length fits). NULL if out of memory. */
static struct pblob *
blob_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static struct pblob *
blob_printf(const char *fmt, ...)
{
    struct pblob *b;
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || (b = malloc(sizeof(*b) + (size_t)n + 1)) == NULL) {
        return NULL;
    }
    va_start(ap, fmt);
    vsnprintf(b->data, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->refs = 1;
    b->len = (size_t)n;
    return b;
}

/* The rest of r's reply is `line` (the first error wins). */
static void
set_error(struct preq *r, struct pblob *line)
{
    if (r->failed) {
        pblob_unref(line);
        return;
    }
    r->failed = true;
    r->errline = line;      /* NULL: client.c says out of memory */
}

static void
set_error_why(struct preq *r, const char *why)
{
    set_error(r, blob_printf("SERVER_ERROR %s\r\n", why));
}

static void
flush_failed(struct preq *r, const struct pnode *n)
{
    r->nfail++;
    (void)buf_printf(&r->err, "%s%s", r->nfail > 1 ? ", " : "", n->name);
}

/* A copy of `raw` for r's client, or NULL when nobody will read it. */
static struct pblob *
keep(struct preq *r, struct str raw, bool *oom)
{
    struct pblob *b;

    *oom = false;
    if (r->cl == NULL) {
        return NULL;
    }
    b = pblob_create(raw.ptr, raw.len);
    *oom = b == NULL;
    return b;
}

static bool
is_error(enum proto_rsp_type t)
{
    return t == PROTO_RSP_ERROR || t == PROTO_RSP_CLIENT_ERROR ||
        t == PROTO_RSP_SERVER_ERROR;
}

/* A VALUE, END or error line for retrieval sub-request s. */
static enum reply_status
multi_element(struct preq *r, struct sreq *s, const struct proto_rsp *rsp,
    struct str raw)
{
    bool want_cas = r->cmd == PROTO_CMD_GETS || r->cmd == PROTO_CMD_GATS;
    struct pblob *v;
    enum mget_status st;
    bool oom;

    if (is_error(rsp->type)) {
        set_error(r, pblob_create(raw.ptr, raw.len));
        return REPLY_END;
    }
    if (rsp->type == PROTO_RSP_END) {
        mget_sub_done(r->mg, s->sub);
        return REPLY_END;
    }
    if (rsp->has_cas != want_cas) {
        return REPLY_BAD;
    }
    /* Its turn has come: straight to the client, nothing to hold. */
    if (mget_value_is_next(r->mg, s->sub, rsp->key) &&
        client_send_now(r, raw)) {
        (void)mget_value_sent(r->mg, s->sub, rsp->key);
        return REPLY_MORE;
    }
    v = keep(r, raw, &oom);
    st = mget_value(r->mg, s->sub, rsp->key, v);
    pblob_unref(v);
    if (st != MGET_OK) {
        return REPLY_BAD;
    }
    if (oom) {
        set_error_why(r, "out of memory");
    }
    return REPLY_MORE;
}

/* Any other element: the whole reply of a single-node request. */
static enum reply_status
single_element(struct preq *r, const struct proto_rsp *rsp, struct str raw)
{
    bool oom;

    if (r->meta && !is_error(rsp->type) && !proxy_meta_echo_ok(rsp,
        (struct str){ r->mkey, r->mkey_len },
        (struct str){ r->opaque, r->opaque_len })) {
        return REPLY_FOREIGN;
    }
    admin_count_reply(r->w, r->cmd, rsp->type);
    if (r->quiet && proxy_quiet_hides(r->cmd, rsp->type)) {
        return REPLY_END;
    }
    pblob_unref(r->val);
    r->val = NULL;
    if (r->kind == PREQ_SINGLE && client_send_now(r, raw)) {
        return REPLY_END;
    }
    r->val = keep(r, raw, &oom);
    if (oom) {
        set_error_why(r, "out of memory");
    }
    return REPLY_END;
}

bool
reply_head_ok(const struct sreq *s, const char *p, size_t len)
{
    const struct preq *r = s->preq;
    const char *nl;
    size_t n;

    if (r == NULL || !r->meta || (nl = memchr(p, '\n', len)) == NULL) {
        return true;    /* not meta, or the parser waits for the line */
    }
    n = (size_t)(nl - p);
    if (n > 0 && p[n - 1] == '\r') {
        n--;
    }
    return proxy_meta_line_ok((struct str){ p, n },
        (struct str){ r->mkey, r->mkey_len },
        (struct str){ r->opaque, r->opaque_len });
}

enum reply_status
reply_element(struct sreq *s, const struct proto_rsp *rsp, struct str raw)
{
    struct preq *r = s->preq;
    enum reply_status st;

    if (proxy_match(s->cmd, rsp->type) == PMATCH_BAD) {
        return REPLY_BAD;
    }
    if (r == NULL) {
        /* noreply: nobody reads it, but it must still fit. */
        return rsp->type == PROTO_RSP_VALUE ? REPLY_BAD : REPLY_END;
    }
    switch (r->kind) {
    case PREQ_MULTI:
        st = multi_element(r, s, rsp, raw);
        break;
    case PREQ_FLUSH:
        if (rsp->type != PROTO_RSP_OK) {
            flush_failed(r, s->node);
        }
        st = REPLY_END;
        break;
    default:
        st = single_element(r, rsp, raw);
        break;
    }
    if (st == REPLY_MORE && r->cl != NULL) {
        /* A value may be the client's next bytes: send it now. */
        preq_account(r);
        client_flush(r->cl);
    }
    return st;
}

bool
reply_is_dump(const struct sreq *s)
{
    return s->cmd == PROTO_CMD_LRU_CRAWLER || s->cmd == PROTO_CMD_STATS;
}

static bool
has_prefix(struct str line, const char *pre)
{
    size_t n = strlen(pre);

    return line.len >= n && memcmp(line.ptr, pre, n) == 0;
}

/* Printable bytes only, then the line's end: CRLF, or LF alone (memcached
 * ends metadump's key lines so). */
static bool
dump_line_clean(struct str line)
{
    size_t i, end;

    if (line.len < 1 || line.len > PROXY_DUMP_LINE_MAX ||
        line.ptr[line.len - 1] != '\n') {
        return false;
    }
    end = line.len >= 2 && line.ptr[line.len - 2] == '\r' ? 2 : 1;
    for (i = 0; i + end < line.len; i++) {
        unsigned char c = (unsigned char)line.ptr[i];

        if (c < 0x20 || c == 0x7f) {
            return false;
        }
    }
    return true;
}

enum reply_status
reply_dump_line(struct sreq *s, struct str line)
{
    struct preq *r = s->preq;
    const char *pre = s->cmd == PROTO_CMD_STATS ? "ITEM " : "key=";

    if (!dump_line_clean(line)) {
        return REPLY_BAD;
    }
    if (line.len == 5 && memcmp(line.ptr, "END\r\n", 5) == 0) {
        return REPLY_END;
    }
    if ((line.len == 7 && memcmp(line.ptr, "ERROR\r\n", 7) == 0) ||
        has_prefix(line, "ERROR ") || has_prefix(line, "CLIENT_ERROR ") ||
        has_prefix(line, "SERVER_ERROR ") || has_prefix(line, "BUSY ") ||
        has_prefix(line, "BADCLASS ")) {
        /* The node's part is missing: the whole reply fails. */
        if (r != NULL) {
            flush_failed(r, s->node);
        }
        return REPLY_END;
    }
    if (!has_prefix(line, pre) || line.len <= strlen(pre) + 2) {
        return REPLY_BAD;
    }
    if (r == NULL || r->cl == NULL || r->nfail > 0 || r->failed) {
        return REPLY_MORE;  /* nobody will read it */
    }
    /* Held bytes of every reply of this client, this one's lines
     * included (preq_account), stay within client_output_limit hard. */
    if (r->cl->held + line.len + 5 > r->w->ring->set.out_hard) {
        set_error_why(r, "key listing larger than client_output_limit");
        buf_fini(&r->dump);
        buf_init(&r->dump);
        preq_account(r);
        return REPLY_MORE;
    }
    if (!buf_append(&r->dump, line.ptr, line.len)) {
        set_error_why(r, "out of memory");
    }
    preq_account(r);
    return REPLY_MORE;
}

/* The union of the nodes' listings, or which nodes failed it. */
static void
finish_dump(struct preq *r)
{
    const char *what = r->cmd == PROTO_CMD_STATS ? "stats cachedump" :
        "lru_crawler metadump";

    pblob_unref(r->val);
    r->val = NULL;
    if (r->nfail > 0) {
        r->val = blob_printf("SERVER_ERROR %s failed on %.*s\r\n", what,
            (int)r->err.len, buf_head(&r->err));
    } else if (buf_append(&r->dump, "END\r\n", 5)) {
        r->val = pblob_create(buf_head(&r->dump), r->dump.len);
    }
    buf_fini(&r->dump);
    buf_init(&r->dump);
    if (r->val == NULL) {
        set_error_why(r, "out of memory");
    }
}

/* Every sub-request answered. */
static void
finish(struct worker *w, struct preq *r)
{
    if (r->kind == PREQ_FLUSH) {
        pblob_unref(r->val);
        r->val = r->nfail == 0 ?
            pblob_create("OK\r\n", 4) :
            blob_printf("SERVER_ERROR flush_all failed on %.*s\r\n",
            (int)r->err.len, buf_head(&r->err));
        if (r->val == NULL) {
            set_error_why(r, "out of memory");
        }
    } else if (r->kind == PREQ_DUMP) {
        finish_dump(r);
    }
    if (r->failed) {
        CTR_ADD(&w->st.server_errors, 1);
    }
    r->done = true;
    if (r->counted) {
        CTR_ADD(&w->st.inflight, -1);
        r->counted = false;
    }
}

void
reply_sub_end(struct preq *r, struct sreq *s)
{
    struct client *cl = r->cl;
    struct worker *w = r->w;

    (void)s;
    if (--r->pending > 0) {
        if (cl != NULL && r->failed) {
            client_flush(cl);   /* the error goes out in its turn */
        }
        return;
    }
    finish(w, r);
    if (cl == NULL) {
        /* The client left, or has its answer already. */
        preq_free(r);
    } else {
        preq_account(r);
        client_flush(cl);
    }
    worker_check_drained(w);
}

void
reply_sub_fail(struct preq *r, struct sreq *s, const char *why)
{
    if (r->kind == PREQ_FLUSH || r->kind == PREQ_DUMP) {
        flush_failed(r, s->node);
    } else {
        set_error_why(r, why);
    }
    reply_sub_end(r, s);
}

void
reply_fail(struct preq *r, const char *why)
{
    r->pending = 1;
    set_error_why(r, why);
    reply_sub_end(r, NULL);
}

void
reply_text(struct preq *r, struct str text)
{
    r->pending = 1;
    r->val = pblob_create(text.ptr, text.len);
    if (r->val == NULL) {
        set_error_why(r, "out of memory");
    }
    reply_sub_end(r, NULL);
}
