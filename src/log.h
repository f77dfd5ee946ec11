/*
 * log.h - timestamped log lines, on stderr (journald takes them from there
 * under systemd) or in a file (--log-file) reopened on SIGUSR1 for
 * logrotate.
 *
 * One global level, set once at start-up.  Lines look like
 *   2026-11-26 15:40:40.123 info  accepted 127.0.0.1:51234
 * or, with --log-format json, one JSON object per line:
 *   {"time":"2026-11-26T15:40:40.123+01:00","level":"info","msg":"accepted 127.0.0.1:51234"}
 */
#ifndef WARREN_LOG_H
#define WARREN_LOG_H

#include <stddef.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

extern enum log_level log_level;

/* "debug" "info" "warning"/"warn" "error"; returns -1 for anything else. */
int log_parse_level(const char *name);

enum log_format { LOG_FORMAT_TEXT, LOG_FORMAT_JSON };
/* "text" or "json"; -1 for anything else. */
int log_parse_format(const char *name);
void log_set_format(enum log_format f);

/* Send the lines to path (opened for appending, created 0640) instead of
 * stderr; NULL goes back to stderr.  0, or -1 with errno (the output is
 * unchanged then). */
int log_open_file(const char *path);
/* Open the file again by its name, for logrotate: lines written after
 * this go to the new file.  A failure keeps the old descriptor (nothing
 * is lost) and is logged there.  Nothing to do when logging to stderr.
 * Safe against other threads logging meanwhile (the descriptor is
 * replaced with dup2). */
void log_reopen(void);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Copy s into out (cap bytes, NUL included) with control characters
 * escaped as log_msg writes them: \n \r \t, other bytes below 0x20 and
 * DEL as \xNN.  Stops before an escape that would not fit; returns the
 * length written. */
size_t log_escape(char *out, size_t cap, const char *s);

#define log_debug(...) do { if (log_level <= LOG_DEBUG) log_msg(LOG_DEBUG, __VA_ARGS__); } while (0)
#define log_info(...)  do { if (log_level <= LOG_INFO) log_msg(LOG_INFO, __VA_ARGS__); } while (0)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
