/*
 * log.c - see log.h.  A line is formatted whole and written with one
 * write(2), so lines from the store's sync thread never interleave.
 *
 * Messages quote what clients chose (queue and exchange names, consumer
 * tags, reply texts), so control characters in the formatted message are
 * escaped: "\n" "\r" "\t" as such, any other below 0x20 and DEL as \xNN.
 * A name cannot end a log line and forge the next one, nor send escape
 * sequences to a terminal.  Every line is exactly one line.
 *
 * With --log-format json a line is one JSON object (time, level, msg):
 * the message is escaped as JSON strings are, control characters as
 * \u00XX and bytes that are not UTF-8 as U+FFFD, so every line parses.
 *
 * The output is a descriptor, stderr or --log-file's (O_APPEND, so
 * logrotate's copytruncate works too).  log_reopen() opens the file again
 * by name and dup2()s it over the old descriptor: a thread writing at
 * that moment writes whole to one file or the other, never to a closed
 * descriptor.
 */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

enum log_level log_level = LOG_INFO;

static int out_fd = STDERR_FILENO;
static enum log_format format = LOG_FORMAT_TEXT;
static char *file_path; /* --log-file, for log_reopen */

int log_parse_level(const char *name)
{
    if (!strcasecmp(name, "debug")) return LOG_DEBUG;
    if (!strcasecmp(name, "info")) return LOG_INFO;
    if (!strcasecmp(name, "warning") || !strcasecmp(name, "warn")) return LOG_WARN;
    if (!strcasecmp(name, "error")) return LOG_ERROR;
    return -1;
}

int log_parse_format(const char *name)
{
    if (!strcasecmp(name, "text")) return LOG_FORMAT_TEXT;
    if (!strcasecmp(name, "json")) return LOG_FORMAT_JSON;
    return -1;
}

void log_set_format(enum log_format f)
{
    format = f;
}

static int open_log(const char *path)
{
    return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}

int log_open_file(const char *path)
{
    int fd;
    char *copy;

    if (!path) {
        if (out_fd != STDERR_FILENO)
            close(out_fd);
        out_fd = STDERR_FILENO;
        free(file_path);
        file_path = NULL;
        return 0;
    }
    if (!(copy = strdup(path)))
        return -1;
    if ((fd = open_log(path)) < 0) {
        int e = errno;
        free(copy);
        errno = e;
        return -1;
    }
    if (out_fd != STDERR_FILENO)
        close(out_fd);
    out_fd = fd;
    free(file_path);
    file_path = copy;
    return 0;
}

void log_reopen(void)
{
    int fd;

    if (!file_path)
        return;
    if ((fd = open_log(file_path)) < 0) {
        log_error("cannot reopen log file %s: %s; still writing to the old one", file_path, strerror(errno));
        return;
    }
    if (dup2(fd, out_fd) < 0)
        log_error("cannot reopen log file %s: dup2: %s; still writing to the old one", file_path, strerror(errno));
    close(fd);
    log_info("log file %s reopened", file_path);
}

/* msg as the inside of a JSON string; stops before an escape that would
 * not fit in cap (NUL included).  Returns the length written. */
static size_t json_escape(char *out, size_t cap, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;

    if (cap == 0)
        return 0;
    while (*s) {
        const unsigned char *u = (const unsigned char *)s;
        char e[8];
        size_t k = 0, take = 1;

        if (u[0] == '"' || u[0] == '\\') {
            e[k++] = '\\';
            e[k++] = (char)u[0];
        } else if (u[0] == '\n' || u[0] == '\r' || u[0] == '\t') {
            e[k++] = '\\';
            e[k++] = u[0] == '\n' ? 'n' : u[0] == '\r' ? 'r' : 't';
        } else if (u[0] < 0x20 || u[0] == 0x7f) {
            memcpy(e, "\\u00", 4);
            k = 4;
            e[k++] = hex[u[0] >> 4];
            e[k++] = hex[u[0] & 15];
        } else if (u[0] < 0x80) {
            e[k++] = (char)u[0];
        } else {
            /* a whole UTF-8 sequence, or U+FFFD for a byte that starts none */
            size_t len = u[0] >= 0xc2 && u[0] <= 0xdf ? 2 : u[0] >= 0xe0 && u[0] <= 0xef ? 3
                       : u[0] >= 0xf0 && u[0] <= 0xf4 ? 4 : 0;
            size_t i;
            for (i = 1; i < len; i++)
                if ((u[i] & 0xc0) != 0x80)
                    break;
            if (len && i == len) {
                memcpy(e, s, len);
                k = take = len;
            } else {
                memcpy(e, "\xef\xbf\xbd", 3);
                k = 3;
            }
        }
        if (n + k >= cap)
            break;
        memcpy(out + n, e, k);
        n += k;
        s += take;
    }
    out[n] = '\0';
    return n;
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
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (format == LOG_FORMAT_JSON) {
        static const char *json_names[] = {"debug", "info", "warning", "error"};
        char zone[8];
        strftime(zone, sizeof zone, "%z", &tm); /* +0100 */
        n = strftime(line, sizeof line, "{\"time\":\"%Y-%m-%dT%H:%M:%S", &tm);
        n += (size_t)snprintf(line + n, sizeof line - n, ".%03d%.3s:%.2s\",\"level\":\"%s\",\"msg\":\"",
                              (int)(tv.tv_usec / 1000), zone, zone + 3, json_names[level]);
        n += json_escape(line + n, sizeof line - 3 - n, msg); /* room for "}\n */
        memcpy(line + n, "\"}\n", 3);
        n += 3;
    } else {
        n = strftime(line, sizeof line, "%Y-%m-%d %H:%M:%S", &tm);
        n += (size_t)snprintf(line + n, sizeof line - n, ".%03d %s ", (int)(tv.tv_usec / 1000), names[level]);
        n += log_escape(line + n, sizeof line - 1 - n, msg); /* room for the newline */
        line[n++] = '\n';
    }
    if (write(out_fd, line, n) < 0) {
        /* nowhere left to report it */
    }
}
