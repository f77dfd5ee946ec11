/*
 * json.h - replies of the HTTP API and the JSON they carry (jansson):
 * RabbitMQ's error bodies and status codes, request bodies, and the
 * `columns` filter of RabbitMQ's list endpoints.
 */
#ifndef WARREN_HTTP_JSON_H
#define WARREN_HTTP_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "http/routes.h"

/* RabbitMQ 3.10's limit on a request body (cowboy reads 8,000,000 bytes
 * at a time and RabbitMQ refuses a body that needs a second read):
 * longer is 400 "Exceeded HTTP request body size limit". */
#define HTTP_BODY_MAX 8000000

/* A body written a piece at a time on the loop, as the client takes it
 * (a list of every queue): next() writes up to max bytes into buf and
 * returns how many (at least one), 0 at the end, -1 to cut the response
 * short; done() frees it, whether it ran to the end or not. */
typedef struct http_stream http_stream;
struct http_stream {
    long (*next)(http_stream *s, char *buf, size_t max);
    void (*done)(http_stream *s);
};

/* What a handler answers: a status, and a JSON body or none. */
struct http_reply {
    int status;
    json_t *body;               /* owned; NULL: an empty body */
    char *raw;                  /* or a body that is not JSON (malloc'd, freed when sent), or NULL */
    size_t rawlen;
    const char *raw_type;       /* its Content-Type */
    char allow[64];             /* an Allow header, when not empty */
    bool challenge;             /* add WWW-Authenticate (401) */
    char *location;             /* a Location header (malloc'd, freed when sent), or NULL */
    bool columns_done;          /* the handler applied ?columns= itself (a paged list's items) */
    http_stream *stream;        /* instead of body: a JSON body written as it is sent (owned) */
};

/* status with body (the reference is taken over; NULL out of memory is a
 * 500). */
void http_reply_json(http_reply *r, int status, json_t *body);
/* RabbitMQ's error body {"error": error, "reason": reason}. */
void http_reply_error(http_reply *r, int status, const char *error, const char *reason);
/* The common ones, in RabbitMQ's words. */
/* A name as a JSON string: the vhost, user, queue, exchange names, keys and
 * tags a client gave (AMQP and the API take bytes that are not UTF-8, or
 * code points JSON has no room for, as RabbitMQ does), each byte that
 * begins no valid sequence shown as U+FFFD, as RabbitMQ's management
 * shows them.  NULL only out of memory.  Use them, never json_string or
 * a json_pack "s", for text a client chose: jansson refuses what is not
 * UTF-8, and the whole reply was lost to a 500 "out of memory". */
json_t *http_json_text(const char *s);
json_t *http_json_textn(const char *s, size_t n);
void http_reply_not_found(http_reply *r);       /* 404 {"error":"Object Not Found","reason":"Not Found"} */
void http_reply_login_failed(http_reply *r);    /* 401 {"error":"not_authorized","reason":"Login failed"} */
void http_reply_not_json(http_reply *r);        /* 400 {"error":"bad_request","reason":"not_json"} */
void http_reply_too_big(http_reply *r);         /* 400 ... "Exceeded HTTP request body size limit" */

/* A request body: a JSON object, or NULL (RabbitMQ's not_json) when it is
 * not one. */
json_t *http_json_body(const char *buf, size_t len);
/* RabbitMQ's ?columns=a,b.c: a copy of v (an object, or each object of an
 * array) holding only the named fields, a dotted name reaching into
 * nested objects; a new reference. */
json_t *http_json_columns(json_t *v, const http_str *columns);
/* The body's bytes (malloc'd, for the response), or NULL. */
char *http_json_dump(const json_t *v, size_t *len);

#endif
