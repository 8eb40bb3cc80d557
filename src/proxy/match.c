/*
 * Reply matching, pure: which response elements can answer which request,
 * and which one completes it. Backend replies are matched to requests by
 * order alone, so an element that cannot answer the request at the head
 * of the queue means the stream is out of step: the proxy then closes the
 * backend connection rather than hand a reply to the wrong client.
 *
 * Meta quiet mode (q) would break that: a quiet node sends nothing for
 * some outcomes. So the proxy sends meta requests without q and drops,
 * itself, the replies q hides (memcached 1.6.18's rules, as the node's).
 */
#include "proxy/proxy_int.h"

static bool
is_error(enum proto_rsp_type t)
{
    return t == PROTO_RSP_ERROR || t == PROTO_RSP_CLIENT_ERROR ||
        t == PROTO_RSP_SERVER_ERROR;
}

/* The single-element answers each non-retrieval command may get. */
static bool
single_ok(enum proto_cmd cmd, enum proto_rsp_type t)
{
    switch (cmd) {
    case PROTO_CMD_SET:
    case PROTO_CMD_ADD:
    case PROTO_CMD_REPLACE:
    case PROTO_CMD_APPEND:
    case PROTO_CMD_PREPEND:
        return t == PROTO_RSP_STORED || t == PROTO_RSP_NOT_STORED;
    case PROTO_CMD_CAS:
        return t == PROTO_RSP_STORED || t == PROTO_RSP_EXISTS ||
            t == PROTO_RSP_NOT_FOUND || t == PROTO_RSP_NOT_STORED;
    case PROTO_CMD_DELETE:
        return t == PROTO_RSP_DELETED || t == PROTO_RSP_NOT_FOUND;
    case PROTO_CMD_INCR:
    case PROTO_CMD_DECR:
        return t == PROTO_RSP_NUMBER || t == PROTO_RSP_NOT_FOUND;
    case PROTO_CMD_TOUCH:
        return t == PROTO_RSP_TOUCHED || t == PROTO_RSP_NOT_FOUND;
    case PROTO_CMD_FLUSH_ALL:
        return t == PROTO_RSP_OK;
    case PROTO_CMD_VERSION:
        return t == PROTO_RSP_VERSION;
    case PROTO_CMD_MG:
        return t == PROTO_RSP_VA || t == PROTO_RSP_HD || t == PROTO_RSP_EN;
    case PROTO_CMD_MS:
        return t == PROTO_RSP_HD || t == PROTO_RSP_NS ||
            t == PROTO_RSP_EX || t == PROTO_RSP_NF;
    case PROTO_CMD_MD:
        return t == PROTO_RSP_HD || t == PROTO_RSP_NF || t == PROTO_RSP_EX;
    case PROTO_CMD_MA:
        return t == PROTO_RSP_HD || t == PROTO_RSP_VA ||
            t == PROTO_RSP_NF || t == PROTO_RSP_NS || t == PROTO_RSP_EX ||
            t == PROTO_RSP_EN;
    case PROTO_CMD_ME:
        return t == PROTO_RSP_ME || t == PROTO_RSP_EN;
    default:
        return false;
    }
}

bool
proxy_quiet_hides(enum proto_cmd cmd, enum proto_rsp_type t)
{
    switch (cmd) {
    case PROTO_CMD_MG:
        return t == PROTO_RSP_EN;
    case PROTO_CMD_MS:
    case PROTO_CMD_MD:
        return t == PROTO_RSP_HD;
    case PROTO_CMD_MA:
        return t == PROTO_RSP_HD || t == PROTO_RSP_VA;
    default:
        return false;
    }
}

enum pmatch
proxy_match(enum proto_cmd cmd, enum proto_rsp_type t)
{
    if (proto_cmd_is_retrieval(cmd)) {
        if (t == PROTO_RSP_VALUE) {
            return PMATCH_MORE;
        }
        return t == PROTO_RSP_END || is_error(t) ? PMATCH_END : PMATCH_BAD;
    }
    if (cmd == PROTO_CMD_NONE || cmd >= PROTO_CMD_COUNT) {
        return PMATCH_BAD;
    }
    return single_ok(cmd, t) || is_error(t) ? PMATCH_END : PMATCH_BAD;
}
