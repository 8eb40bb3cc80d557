/*
 * A stand-in server for tests/proto/test_vs_memcached.py: run stdin
 * through the request parser as a memcached connection would and print
 * what a server holding no data answers. Errors come from the parser;
 * good requests get the reply an empty memcached gives them (END,
 * STORED, NOT_FOUND, OK, "VERSION ..."), unless noreply. A fatal error
 * prints its reply and stops, like the closed connection; so does quit.
 */
#include <stdio.h>
#include <stdlib.h>

#include "proto/proto.h"

static enum proto_reply
empty_server_reply(const struct proto_req *req)
{
    switch (req->cmd) {
    case PROTO_CMD_GET:
    case PROTO_CMD_GETS:
    case PROTO_CMD_GAT:
    case PROTO_CMD_GATS:
        return PROTO_REPLY_END;
    case PROTO_CMD_SET:
        return PROTO_REPLY_STORED;
    case PROTO_CMD_ADD:
        return PROTO_REPLY_STORED;
    case PROTO_CMD_REPLACE:
    case PROTO_CMD_APPEND:
    case PROTO_CMD_PREPEND:
        return PROTO_REPLY_NOT_STORED;
    case PROTO_CMD_FLUSH_ALL:
    case PROTO_CMD_VERBOSITY:
        return PROTO_REPLY_OK;
    default:
        return PROTO_REPLY_NOT_FOUND; /* cas delete incr decr touch */
    }
}

static void
put(struct str s)
{
    fwrite(s.ptr, 1, s.len, stdout);
}

/* A meta request's reply from an empty memcached: mg misses (quietly
 * with q), ms stores (set, add) or does not (replace, append, prepend,
 * CAS), md and ma find nothing, me misses, mn answers MN. */
static void
put_meta(const struct proto_req *req)
{
    struct proto_meta_info mi = { .code = PROTO_META_NF };
    char keybuf[PROTO_META_KEY_MAX];
    char line[PROTO_META_HDR_MAX];
    bool quiet = proto_meta_has(req, 'q');

    switch (req->cmd) {
    case PROTO_CMD_MN:
        put(proto_reply_str(PROTO_REPLY_MN));
        return;
    case PROTO_CMD_ME:
        put(proto_reply_str(PROTO_REPLY_META_EN));
        return;
    case PROTO_CMD_MG:
        mi.code = PROTO_META_EN;
        break;
    case PROTO_CMD_MS:
        mi.code = proto_meta_has(req, 'C') ? PROTO_META_NF :
            req->mode == 0 || req->mode == 'S' || req->mode == 'E' ?
            PROTO_META_HD : PROTO_META_NS;
        quiet = quiet && mi.code == PROTO_META_HD;
        break;
    default:
        quiet = false;
        break;
    }
    if (quiet) {
        return;
    }
    mi.key = proto_meta_key(req, keybuf);
    mi.key_binary = proto_meta_has(req, 'b');
    put((struct str){ line, proto_compose_meta(line, req, &mi) });
}

int
main(void)
{
    struct proto_limits lim;
    struct buf in;
    size_t n;

    proto_limits_default(&lim);
    buf_init(&in);
    do {
        if (!buf_reserve(&in, 65536)) {
            return 2;
        }
        n = fread(buf_tail(&in), 1, buf_space(&in), stdin);
        buf_commit(&in, n);
    } while (n > 0);
    while (in.len > 0) {
        struct proto_req req;
        size_t used;
        enum proto_status st = proto_parse_req(&lim, buf_head(&in), in.len,
            &req, &used);

        if (st == PROTO_AGAIN) {
            break;
        }
        if (st == PROTO_FATAL) {
            put(proto_reply_str(req.err));
            break;
        }
        if (st == PROTO_OK && req.cmd == PROTO_CMD_QUIT) {
            break;
        }
        if (st == PROTO_OK && req.cmd >= PROTO_CMD_MG) {
            put_meta(&req);
        } else if (st == PROTO_OK && req.cmd == PROTO_CMD_VERSION) {
            fputs("VERSION stand-in\r\n", stdout);
        } else if (!req.noreply) {
            put(proto_reply_str(st == PROTO_OK ? empty_server_reply(&req) :
                req.err));
        }
        buf_consume(&in, used < in.len ? used : in.len);
    }
    buf_fini(&in);
    return 0;
}
