/* warrenctl's shared helper: the HTTP client (libcurl), the settings
 * (flags, ~/.warrenctl), the output (rabbitmqctl's tab-separated table or
 * --formatter json) and the exit codes.  main.c holds the verbs.
 *
 * Every failure ends in ctl_fail(), which prints "Error: ..." on stderr and
 * exits with a sysexits code, as rabbitmqctl does:
 *   64 usage, 65 bad data / no such object, 67 no such user,
 *   69 broker unavailable (connection refused, no such endpoint),
 *   70 the broker failed or the object exists already, 75 timeout,
 *   77 credentials refused (rabbitmqctl has no HTTP login; see doc/tools.md),
 *   78 configuration file unreadable or wrong.
 */
#ifndef WARRENCTL_CTL_H
#define WARRENCTL_CTL_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

enum {
    EXIT_USAGE = 64,
    EXIT_DATAERR = 65,
    EXIT_NOINPUT = 66,
    EXIT_NOUSER = 67,
    EXIT_UNAVAILABLE = 69,
    EXIT_SOFTWARE = 70,
    EXIT_IOERR = 74,
    EXIT_TEMPFAIL = 75,
    EXIT_NOPERM = 77,
    EXIT_CONFIG = 78,
};

/* What the command line and the config file set. */
typedef struct ctl_settings {
    const char *url;        /* base URL, no trailing slash needed */
    const char *username;
    const char *password;
    const char *config;     /* --config FILE, else $HOME/.warrenctl */
    long timeout;           /* seconds, per request */
    bool json;              /* --formatter json */
    bool quiet;             /* -q: no banner lines */
    bool silent;            /* -s: no banner, no table header */
    bool no_headers;        /* --no-table-headers */
    /* https (doc/tls.md): the CA to check the broker's certificate with,
     * and a client certificate and key to show it */
    const char *cacert, *cert, *key;
} ctl_settings;

extern ctl_settings ctl;

/* Reads the config file into ctl's fields still unset (flags win). */
void ctl_load_config(void);

/* One request's outcome: HTTP status and the body (NUL-terminated). */
typedef struct ctl_reply {
    long status;
    char *body;
    size_t len;
} ctl_reply;

/* Sends METHOD to ctl.url + PATH (already percent-encoded) with BODY (or
 * NULL) and an optional extra header.  Connection-level failures (refused,
 * timeout, bad URL) end the program; any HTTP status comes back.  The
 * caller frees with ctl_reply_free(). */
ctl_reply ctl_request(const char *method, const char *path, const char *body, const char *header);
void ctl_reply_free(ctl_reply *r);

/* Ends the program on 401/403 (77), 5xx (70) and other unexpected
 * statuses; returns for 2xx and for the statuses in OK (a 0-terminated
 * list, e.g. {404, 0}) so the verb can word them itself. */
void ctl_check(const ctl_reply *r, const char *what, const long *ok);

/* The reply's body as JSON; ends the program (70) when it is not. */
json_t *ctl_json(const ctl_reply *r, const char *what);

/* GET PATH, checked, as JSON (a 404 ends with NOTFOUND_MSG, code NOTFOUND_CODE). */
json_t *ctl_get_json(const char *path, const char *what, const char *notfound_msg, int notfound_code);

/* The "reason" of an error body, or the body itself (static or owned by r). */
const char *ctl_reason(const ctl_reply *r);

/* Percent-encodes one path segment (the vhost "/" is %2F); malloc'd. */
char *ctl_escape(const char *segment);

/* printf into a malloc'd string. */
char *ctl_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

_Noreturn void ctl_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* An informational line ("Listing queues for vhost / ..."): on stdout, as
 * rabbitmqctl writes it, unless -q or -s, and never with --formatter json. */
void ctl_banner(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A column of a listing: its rabbitmqctl name and where its value is in
 * the API's object: a dotted path ("queue.name"), or "=text" for a
 * constant. */
typedef struct ctl_column {
    const char *name;
    const char *path;
} ctl_column;

/* Prints ROWS (a JSON array of API objects) with the columns NAMES (n of
 * them): a header line and tab-separated values, or with --formatter json
 * an array of objects, one per line, as rabbitmqctl prints it. */
void ctl_print_rows(json_t *rows, const ctl_column *const *cols, size_t n);

/* The same, a page at a time: begin, add each page's rows, end. */
void ctl_rows_begin(void);
void ctl_rows_add(json_t *rows, const ctl_column *const *cols, size_t n);
void ctl_rows_end(void);

/* A JSON value as rabbitmqctl shows it in a table cell: strings bare,
 * lists as [a, b], tables as [{"k",v}]; malloc'd. */
char *ctl_cell(const json_t *v);

/* The value at a dotted PATH in OBJ, or NULL. */
json_t *ctl_lookup(json_t *obj, const char *path);

/* Reads a whole file ("-": stdin); ends the program on failure. */
char *ctl_read_file(const char *path, size_t *len);

/* shovel.c: move COUNT messages (0: the backlog at start) from SRC_QUEUE at
 * the AMQP URL SRC_URL to DST_QUEUE at DST_URL, at least once, with WINDOW
 * unconfirmed at most; ends the program on failure. */
void shovel_run(const char *src_url, const char *src_queue, const char *dst_url,
                const char *dst_queue, long count, long window);

#endif
