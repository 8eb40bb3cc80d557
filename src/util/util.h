/*
 * util: the bottom module. String views, a growable byte buffer, strict
 * number parsing, logging, clocks and allocation that exits on failure.
 * Uses libc only; every other module may use it.
 */
#ifndef UTIL_UTIL_H
#define UTIL_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- string views ------------------------------------------------------ */

/* A view of `len` bytes at `ptr`; not NUL-terminated, never owns memory. */
struct str {
    const char *ptr;
    size_t len;
};

#define STR_LIT(s) ((struct str){ (s), sizeof(s) - 1 })

/* View of a NUL-terminated C string (NULL gives the empty view). */
struct str str_from_cstr(const char *s);
/* True when both views hold the same bytes. */
bool str_eq(struct str a, struct str b);
/* True when `a` equals the C string `s`. */
bool str_eq_cstr(struct str a, const char *s);
/* Bytewise comparison, shorter-prefix first: <0, 0, >0 like memcmp. */
int str_cmp(struct str a, struct str b);

/* ---- strict number parsing ---------------------------------------------- */

/*
 * Parse all of `s` as a decimal number. Strict: no sign (except a leading
 * '-' for util_parse_i64), no spaces, no empty input, no trailing bytes, and
 * a value that does not fit is an error. Return true and set *out on success;
 * on failure *out is untouched.
 */
bool util_parse_u32(struct str s, uint32_t *out);
bool util_parse_u64(struct str s, uint64_t *out);
bool util_parse_i64(struct str s, int64_t *out);

/* Write `v` in decimal to `dst` (at least 21 bytes); return the length. */
size_t util_fmt_u64(char *dst, uint64_t v);

/* ---- byte buffer -------------------------------------------------------- */

/*
 * A growable byte buffer. Bytes live in data[off .. off+len); consuming
 * from the front only moves `off`, and buf_compact() slides the rest down.
 */
struct buf {
    char *data;
    size_t off;
    size_t len;
    size_t cap;
};

void buf_init(struct buf *b);
void buf_fini(struct buf *b);
/* Make room for at least `n` more bytes at the end. False if out of memory
 * (the buffer is unchanged). May move data: offsets stay valid, pointers not. */
bool buf_reserve(struct buf *b, size_t n);
/* Append `n` bytes; false if out of memory. */
bool buf_append(struct buf *b, const void *p, size_t n);
bool buf_append_str(struct buf *b, struct str s);
/* Append printf-formatted text; false if out of memory. */
bool buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Pointer to the first unconsumed byte, and to the free space at the end. */
char *buf_head(const struct buf *b);
char *buf_tail(const struct buf *b);
size_t buf_space(const struct buf *b);
/* Mark `n` bytes written at buf_tail() / consumed at buf_head();
 * n <= buf_space() / n <= len. */
void buf_commit(struct buf *b, size_t n);
void buf_consume(struct buf *b, size_t n);
/* Move unconsumed bytes to the start of the allocation. */
void buf_compact(struct buf *b);
void buf_clear(struct buf *b);

/* ---- logging ------------------------------------------------------------ */

enum util_log_level {
    LOG_LEVEL_ERROR = 0,
    LOG_LEVEL_WARN,
    LOG_LEVEL_INFO,
    LOG_LEVEL_DEBUG,
    LOG_LEVEL_TRACE,
};

/* Messages above `level` are dropped. Default LOG_LEVEL_WARN. */
void util_log_set_level(enum util_log_level level);
enum util_log_level util_log_get_level(void);
/* Write one line to stderr: "<program>: <level>: message". Thread-safe. */
void util_log(enum util_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void util_log_set_program(const char *name);

#define log_error(...) util_log(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...) util_log(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...) util_log(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) util_log(LOG_LEVEL_DEBUG, __VA_ARGS__)

/* ---- clocks ------------------------------------------------------------- */

/* Monotonic time in nanoseconds; for intervals and latency. */
uint64_t util_mono_ns(void);
/* Wall-clock seconds since the epoch. */
uint64_t util_wall_sec(void);

/* ---- allocation --------------------------------------------------------- */

/*
 * Allocate or exit(1) with a message. For startup and configuration only:
 * the request path returns an error instead (STYLE.md, section 6).
 */
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* Read a whole file into a NUL-terminated heap string; NULL and errno set on
 * failure. *lenp (if not NULL) gets the length without the NUL. */
char *util_read_file(const char *path, size_t *lenp);

#endif /* UTIL_UTIL_H */
