/*
 * log.c - see log.h.  A line is formatted whole and written with one
 * write(2), so lines from the store's sync thread never interleave.
 *
 * Messages quote what clients chose (queue and exchange names, consumer
 * tags, reply texts), so control characters in the formatted message are
 * escaped: "\n" "\r" "\t" as such, any other below 0x20 and DEL as \xNN.
 * A name cannot end a log line and forge the next one, nor send escape
 * sequences to a terminal.  Every line is exactly one line.
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

size_t log_escape(char *out, size_t cap, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;

    if (cap == 0)
        return 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char e[4];
        size_t k = 0;

        if (c == '\n' || c == '\r' || c == '\t') {
            e[k++] = '\\';
            e[k++] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
        } else if (c < 0x20 || c == 0x7f) {
            e[k++] = '\\';
            e[k++] = 'x';
            e[k++] = hex[c >> 4];
            e[k++] = hex[c & 15];
        } else {
            e[k++] = (char)c;
        }
        if (n + k >= cap)
            break; /* an escape is never cut in half */
        memcpy(out + n, e, k);
        n += k;
    }
    out[n] = '\0';
    return n;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    static const char *names[] = {"debug", "info ", "warn ", "error"};
    char line[2048], msg[2048];
    struct timeval tv;
    struct tm tm;
    size_t n;
    va_list ap;

    gettimeofday(&tv, NULL);
    localtime_r(&tv.tv_sec, &tm);
    n = strftime(line, sizeof line, "%Y-%m-%d %H:%M:%S", &tm);
    n += (size_t)snprintf(line + n, sizeof line - n, ".%03d %s ", (int)(tv.tv_usec / 1000), names[level]);
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    n += log_escape(line + n, sizeof line - 1 - n, msg); /* room for the newline */
    line[n++] = '\n';
    if (write(STDERR_FILENO, line, n) < 0) {
        /* nowhere left to report it */
    }
}
