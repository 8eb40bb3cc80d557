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
    if (r->kind == PREQ_FLUSH) {
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
