/*
 * body.h - the request bodies of the HTTP API's domain endpoints, decoded
 * into the domain's specs (vhost.h), and the domain's values encoded back
 * into RabbitMQ's JSON (body.c).
 *
 * Nothing here reads or changes the broker: JSON in, specs, AMQP tables
 * and encoded properties out (and back), so the fuzz target
 * tests/fuzz/fuzz_http_body.c links this file, json.c and src/amqp alone.
 *
 * Each decoder returns 0, or -1 with a 400 in *r whose reason is
 * RabbitMQ's where RabbitMQ has one (["not_boolean","yes"], "[{key_missing,
 * count}]", "null_not_allowed") and a sentence naming the field where
 * RabbitMQ crashes (a 500 there).
 */
#ifndef WARREN_HTTP_BODY_H
#define WARREN_HTTP_BODY_H

#include <jansson.h>

#include "http/json.h"
#include "vhost.h"

/* A 400 {"error":"bad_request","reason":reason}. */
void http_bad(http_reply *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Arguments (an object of x- arguments, or headers) as an AMQP table, as
 * RabbitMQ converts them: a string is a longstr, an integer a long, a
 * real a double, true/false a boolean, an object a table, an array an
 * array; null is refused.  An empty array is an empty table (RabbitMQ's
 * empty proplist).  out is the caller's, to amqp_tbuf_free. */
int http_json_table(http_reply *r, const char *what, json_t *v, amqp_tbuf *out);
/* Back: a table as RabbitMQ's JSON (a new reference, NULL out of memory). */
json_t *http_table_json(amqp_table t);

/* PUT /api/queues: durable, auto_delete, arguments (exclusive is ignored,
 * as RabbitMQ does: an exclusive queue needs a connection).  s->arguments
 * points into *args. */
int http_body_queue(http_reply *r, json_t *body, amqp_str name, queue_spec *s, amqp_tbuf *args);
/* PUT /api/exchanges: type (default "direct"), durable, auto_delete,
 * internal, arguments. */
int http_body_exchange(http_reply *r, json_t *body, amqp_str name, exchange_spec *s, amqp_tbuf *args);
/* POST /api/bindings: routing_key (default ""), arguments. */
int http_body_binding(http_reply *r, json_t *body, binding_spec *s, amqp_tbuf *args);

/* POST /api/queues/{vhost}/{name}/get */
enum http_ackmode { ACK_REQUEUE_TRUE, ACK_REQUEUE_FALSE, REJECT_REQUEUE_TRUE, REJECT_REQUEUE_FALSE };
#define HTTP_GET_MAX 100000     /* messages one get may return */
typedef struct http_get_req {
    long count;
    enum http_ackmode ackmode;
    bool base64;                /* encoding "base64"; else "auto" */
    long truncate;              /* bytes of payload to return; -1 all */
} http_get_req;
int http_body_get(http_reply *r, json_t *body, http_get_req *g);

/* POST /api/exchanges/{vhost}/{name}/publish: routing_key, properties,
 * payload, payload_encoding ("string" or "base64").  props and payload
 * are malloc'd: http_publish_req_free. */
typedef struct http_publish_req {
    amqp_str routing_key;       /* points into the body */
    uint8_t *props;             /* encoded basic properties */
    uint32_t props_len;
    uint8_t *payload;
    size_t payload_len;
    amqp_str user_id;           /* the user_id property, when set (points into props) */
    bool has_user_id;
} http_publish_req;
int http_body_publish(http_reply *r, json_t *body, http_publish_req *p);
void http_publish_req_free(http_publish_req *p);

/* Encoded basic properties as RabbitMQ's JSON: [] when none is set (an
 * empty Erlang proplist), else an object in RabbitMQ's order. */
json_t *http_props_json(const uint8_t *props, uint32_t len);
/* A payload for a get reply: "payload" and "payload_encoding" added to o
 * ("string" when auto and it is UTF-8, else "base64"), truncated to
 * truncate bytes first (-1: whole). */
int http_payload_json(json_t *o, const uint8_t *p, size_t len, bool base64, long truncate);

/* base64 (RFC 4648, with padding): encoded length written; decode
 * returns the length or -1 for bad input.  out has room for
 * 4*((n+2)/3)+1 / n*3/4+3 bytes. */
size_t http_base64_encode(char *out, const uint8_t *in, size_t n);
long http_base64_decode(uint8_t *out, const char *in, size_t n);

/* RabbitMQ's properties_key of a binding: "~" for an empty key and no
 * arguments, else the key form-encoded ('~' as %7E) and, with arguments,
 * "~" and a hash of them (6 characters of base64url).  out has room for
 * HTTP_PROPS_KEY_MAX bytes; its length is returned. */
#define HTTP_PROPS_KEY_MAX (3 * 255 + 16)
size_t http_props_key(amqp_str key, amqp_table args, char *out);

#endif
