/*
 * Replies: what backend.c hands up for each response element, matched to
 * the client request (struct preq) it answers, and the proxy's own
 * answers to a routed request (a node that is down, out of memory). A
 * finished reply is sent in its turn by client_flush(); this is the only
 * file backend.c calls up into, and the only one that calls the client.
 */
#include "proxy/proxy_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
set_error(struct preq *r, struct str line)
{
    if (r->failed) {
        return;
    }
    r->failed = true;
    buf_clear(&r->err);
    if (!buf_append_str(&r->err, line)) {
        buf_clear(&r->err);
    }
}

static void
set_error_why(struct preq *r, const char *why)
{
    char line[320];
    int n = snprintf(line, sizeof(line), "SERVER_ERROR %s\r\n", why);

    if (n > 0 && (size_t)n < sizeof(line)) {
        set_error(r, (struct str){ line, (size_t)n });
    }
}

static void
flush_failed(struct preq *r, const struct pnode *n)
{
    r->nfail++;
    (void)buf_printf(&r->err, "%s%s", r->nfail > 1 ? ", " : "", n->name);
}

void
reply_element(struct preq *r, struct sreq *s, const struct proto_rsp *rsp,
    struct str raw)
{
    bool err = rsp->type == PROTO_RSP_ERROR ||
        rsp->type == PROTO_RSP_CLIENT_ERROR ||
        rsp->type == PROTO_RSP_SERVER_ERROR;

    switch (r->kind) {
    case PREQ_SINGLE:
        if (rsp->type == PROTO_RSP_VALUE) {
            r->hits++;
        }
        if (r->quiet && proxy_quiet_hides(r->cmd, rsp->type)) {
            break;
        }
        if (!r->failed && !buf_append_str(&r->out, raw)) {
            set_error_why(r, "out of memory");
        }
        break;
    case PREQ_MULTI:
        if (err) {
            set_error(r, raw);
        } else if (rsp->type == PROTO_RSP_VALUE) {
            enum mget_status st = mget_value(r->mg, s->sub, rsp->key, raw);

            if (st == MGET_UNEXPECTED) {
                set_error_why(r, "backend sent a key it was not asked for");
            } else if (st == MGET_ENOMEM) {
                set_error_why(r, "out of memory");
            }
        }
        break;
    case PREQ_FLUSH:
        if (rsp->type != PROTO_RSP_OK) {
            flush_failed(r, s->node);
        }
        break;
    default:
        break;
    }
}

static void
count_retrieval(struct worker *w, struct preq *r)
{
    uint32_t hits = r->kind == PREQ_MULTI ? (uint32_t)mget_hits(r->mg) :
        r->hits;

    if (r->failed || !proto_cmd_is_retrieval(r->cmd)) {
        return;
    }
    CTR_ADD(&w->st.get_hits, hits);
    CTR_ADD(&w->st.get_misses, r->nkeys > hits ? r->nkeys - hits : 0);
}

/* Every sub-request answered: build the reply. */
static void
finish(struct worker *w, struct preq *r)
{
    if (r->kind == PREQ_MULTI && !r->failed &&
        !mget_finish(r->mg, &r->out)) {
        set_error_why(r, "out of memory");
    }
    if (r->kind == PREQ_FLUSH) {
        buf_clear(&r->out);
        if (r->nfail == 0) {
            (void)buf_append_str(&r->out, proto_reply_str(PROTO_REPLY_OK));
        } else {
            (void)buf_printf(&r->out, "SERVER_ERROR flush_all failed on "
                "%.*s\r\n", (int)r->err.len, buf_head(&r->err));
        }
    } else if (r->failed) {
        buf_clear(&r->out);
        (void)buf_append(&r->out, buf_head(&r->err), r->err.len);
        CTR_ADD(&w->st.server_errors, 1);
    }
    count_retrieval(w, r);
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
        return;
    }
    finish(w, r);
    if (cl == NULL) {
        /* The client left: nobody waits for the reply. */
        preq_free(r);
    } else {
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
    if (!buf_append_str(&r->out, text)) {
        set_error_why(r, "out of memory");
    }
    reply_sub_end(r, NULL);
}
