/*
 * log.c - see log.h.  A line is formatted whole and written with one
 * write(2), so lines from the store's sync thread never interleave.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

enum log_level log_level = LOG_INFO;

int log_parse_level(const char *name)
{
    if (!strcasecmp(name, "debug")) return LOG_DEBUG;
    if (!strcasecmp(name, "info")) return LOG_INFO;
    if (!strcasecmp(name, "warning") || !strcasecmp(name, "warn")) return LOG_WARN;
    if (!strcasecmp(name, "error")) return LOG_ERROR;
    return -1;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    static const char *names[] = {"debug", "info ", "warn ", "error"};
    char line[2048];
    struct timeval tv;
    struct tm tm;
    size_t n;
    va_list ap;

    gettimeofday(&tv, NULL);
    localtime_r(&tv.tv_sec, &tm);
    n = strftime(line, sizeof line, "%Y-%m-%d %H:%M:%S", &tm);
    n += (size_t)snprintf(line + n, sizeof line - n, ".%03d %s ", (int)(tv.tv_usec / 1000), names[level]);
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof line - n, fmt, ap);
    va_end(ap);
    n = strlen(line);
    if (n > sizeof line - 2)
        n = sizeof line - 2;
    line[n++] = '\n';
    if (write(STDERR_FILENO, line, n) < 0) {
        /* nowhere left to report it */
    }
}
