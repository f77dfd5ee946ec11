/*
 * routes.h - the request target and the route table of the HTTP API:
 * bytes in, decoded path segments, query parameters and the matching
 * route out.  No I/O and nothing of the broker (the fuzz target
 * tests/fuzz/fuzz_http_route.c links this file alone).
 *
 * Paths are RabbitMQ's: each segment is percent-decoded on its own, so a
 * vhost named "/" travels as %2F and stays one segment ("/api/vhosts/%2F"
 * is three segments, the last one "/").  '+' in a path is a '+'; in the
 * query string it is a space (form encoding, as cowboy's parse_qs).  One
 * trailing '/' is ignored, as cowboy's router does; an empty segment
 * elsewhere ("//") matches no route.
 */
#ifndef WARREN_HTTP_ROUTES_H
#define WARREN_HTTP_ROUTES_H

#include <stdbool.h>
#include <stddef.h>

#define HTTP_SEGS_MAX 16        /* deeper paths match no route (404) */
#define HTTP_QUERY_MAX 32       /* parameters past this many are ignored */
#define HTTP_PARAMS_MAX 4       /* {name} placeholders in one pattern */

enum http_method {
    HTTP_HEAD = 1 << 0,
    HTTP_GET = 1 << 1,
    HTTP_PUT = 1 << 2,
    HTTP_POST = 1 << 3,
    HTTP_DELETE = 1 << 4,
    HTTP_OPTIONS = 1 << 5,
    HTTP_OTHER = 1 << 6,        /* any other method: never routed (405) */
};

typedef struct http_str {
    const char *ptr;            /* NUL-terminated too */
    size_t len;
} http_str;

typedef struct http_target {
    char *buf;                  /* the decoded bytes every http_str points into */
    http_str seg[HTTP_SEGS_MAX];
    int nseg;
    bool too_deep;              /* more than HTTP_SEGS_MAX segments */
    struct http_param {
        http_str key, value;
    } query[HTTP_QUERY_MAX];
    int nquery;
} http_target;

/* Split and decode a request target ("/api/vhosts/%2F?columns=name").
 * 0, or -1 when it is malformed (no leading '/', a bad or NUL %-escape:
 * RabbitMQ answers 400) or out of memory (errno ENOMEM); t owns a buffer
 * either way: http_target_free. */
int http_target_parse(http_target *t, const char *uri, size_t len);
void http_target_free(http_target *t);
/* The first query parameter named key, or NULL. */
const http_str *http_query(const http_target *t, const char *key);
/* Percent-decode in[0..len) into out (room for len bytes): the number of
 * bytes written, or -1 for a malformed escape or one that decodes to NUL.
 * plus_space: '+' is a space (query strings). */
long http_percent_decode(char *out, const char *in, size_t len, bool plus_space);
/* The method's bit; HTTP_OTHER for any other. */
unsigned http_method_parse(const char *method);

typedef struct http_ctx http_ctx;
typedef struct http_reply http_reply;
typedef void http_handler(http_ctx *x, http_reply *r);

/* One row: a method (HTTP_GET also answers HEAD) and a pattern of
 * '/'-separated literal segments and "{name}" placeholders, each of which
 * matches one whole decoded segment. */
typedef struct http_route {
    unsigned method;
    const char *pattern;
    http_handler *handler;
    bool body;                  /* takes a JSON body (PUT, POST) */
} http_route;

typedef struct http_match {
    const http_route *route;    /* NULL: no row for this method */
    unsigned allowed;           /* the methods of every row the path matches; 0: none (404) */
    http_str params[HTTP_PARAMS_MAX]; /* the placeholders' segments, in order */
    int nparams;
} http_match;

/* Find the row for method and t's path in table[0..n).  m->route is the
 * row (and m->params its placeholders) or NULL; m->allowed tells a path
 * no row has (404) from a method no row of the path has (405). */
void http_route_match(const http_route *table, size_t n, const http_target *t, unsigned method, http_match *m);
/* The Allow header for a set of methods, in RabbitMQ's order ("HEAD, GET,
 * OPTIONS"): HEAD with GET, OPTIONS always. */
void http_allow_header(unsigned allowed, char *out, size_t n);

#endif
