/* Allocation for startup and configuration: out of memory there is fatal. */
#include "util/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
oom(size_t n)
{
    log_error("out of memory allocating %zu bytes", n);
    exit(1);
}

void *
xmalloc(size_t n)
{
    void *p = malloc(n > 0 ? n : 1);

    if (p == NULL) {
        oom(n);
    }
    return p;
}

void *
xcalloc(size_t nmemb, size_t size)
{
    void *p = calloc(nmemb > 0 ? nmemb : 1, size > 0 ? size : 1);

    if (p == NULL) {
        oom(nmemb * size);
    }
    return p;
}

void *
xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n > 0 ? n : 1);

    if (q == NULL) {
        oom(n);
    }
    return q;
}

char *
xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
    char *p = xmalloc(n + 1);

    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *
util_read_file(const char *path, size_t *lenp)
{
    FILE *f = fopen(path, "rb");
    struct buf b;
    size_t n;

    if (f == NULL) {
        return NULL;
    }
    buf_init(&b);
    for (;;) {
        if (!buf_reserve(&b, 4096)) {
            goto fail;
        }
        n = fread(buf_tail(&b), 1, buf_space(&b), f);
        buf_commit(&b, n);
        if (n == 0) {
            break;
        }
    }
    if (ferror(f) || !buf_append(&b, "", 1)) {
        goto fail;
    }
    fclose(f);
    if (lenp != NULL) {
        *lenp = b.len - 1;
    }
    return b.data;
fail:
    n = (size_t)errno;
    fclose(f);
    buf_fini(&b);
    errno = (int)n;
    return NULL;
}
