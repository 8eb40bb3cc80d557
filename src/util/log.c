/* Line-at-a-time logging to stderr, for daemons run under systemd. */
#include "util/util.h"

#include <stdio.h>
#include <unistd.h>

static enum util_log_level log_level = LOG_LEVEL_WARN;
static const char *log_program = "ringcache";

static const char *const level_names[] = {
    [LOG_LEVEL_ERROR] = "error",
    [LOG_LEVEL_WARN] = "warning",
    [LOG_LEVEL_INFO] = "info",
    [LOG_LEVEL_DEBUG] = "debug",
    [LOG_LEVEL_TRACE] = "trace",
};

void
util_log_set_level(enum util_log_level level)
{
    log_level = level;
}

enum util_log_level
util_log_get_level(void)
{
    return log_level;
}

void
util_log_set_program(const char *name)
{
    log_program = name;
}

void
util_log(enum util_log_level level, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    int n;

    if (level > log_level) {
        return;
    }
    n = snprintf(line, sizeof(line), "%s: %s: ", log_program,
        level_names[level]);
    va_start(ap, fmt);
    n += vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof(line) - 2) {
        n = (int)sizeof(line) - 2;
    }
    line[n++] = '\n';
    /* NOTE(util): one write() per line keeps lines from threads whole. */
    if (write(STDERR_FILENO, line, (size_t)n) < 0) {
        /* Nowhere left to report it. */
    }
}
