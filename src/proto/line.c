/*
 * Line framing both parsers share: a line ends at '\n' (one '\r' before
 * it is dropped, as memcached does), and no line may run past a limit.
 * The per-word helpers are inline in table.h.
 */
#include "proto/table.h"

#include <string.h>

enum proto_status
proto_find_line(const char *buf, size_t len, size_t limit, size_t *nl)
{
    size_t scan = len <= limit ? len : limit + 1;
    const char *p = memchr(buf, '\n', scan);

    if (p != NULL) {
        *nl = (size_t)(p - buf);
        return PROTO_OK;
    }
    return len > limit ? PROTO_FATAL : PROTO_AGAIN;
}
