/* String views: comparisons over bytes that carry no terminator. */
#include "util/util.h"

#include <string.h>

struct str
str_from_cstr(const char *s)
{
    struct str r = { s != NULL ? s : "", s != NULL ? strlen(s) : 0 };
    return r;
}

bool
str_eq(struct str a, struct str b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

bool
str_eq_cstr(struct str a, const char *s)
{
    return str_eq(a, str_from_cstr(s));
}

int
str_cmp(struct str a, struct str b)
{
    size_t n = a.len < b.len ? a.len : b.len;
    int c = n > 0 ? memcmp(a.ptr, b.ptr, n) : 0;

    if (c != 0) {
        return c;
    }
    return (a.len > b.len) - (a.len < b.len);
}
