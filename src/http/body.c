/*
 * body.c - request bodies into the domain's specs, and the domain's
 * values back into RabbitMQ's JSON (body.h).  The reasons of the 400s
 * were taken from RabbitMQ 3.10.8's management with curl.
 */
#include "http/body.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void http_bad(http_reply *r, const char *fmt, ...)
{
    char reason[2600];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    http_reply_error(r, 400, "bad_request", reason);
}

/* RabbitMQ's [Atom, Value] reasons: ["not_boolean","yes"]. */
static int bad_pair(http_reply *r, const char *atom, json_t *v)
{
    http_reply_json(r, 400, json_pack("{s:s,s:[s,O]}", "error", "bad_request", "reason", atom, v));
    return -1;
}

/* [Atom, "name"]: ["not_int","delivery_mode"] */
static int bad_name(http_reply *r, const char *atom, const char *name)
{
    http_reply_json(r, 400, json_pack("{s:s,s:[s,s]}", "error", "bad_request", "reason", atom, name));
    return -1;
}

static int key_missing(http_reply *r, const char *key)
{
    http_bad(r, "[{key_missing,%s}]", key);
    return -1;
}

/* ---------------------------------------------------------- fields */

/* RabbitMQ's parse_bool: true, false, "true", "false"; absent: false. */
static int get_bool(http_reply *r, json_t *body, const char *key, bool *out)
{
    json_t *v = json_object_get(body, key);

    *out = false;
    if (!v)
        return 0;
    if (json_is_boolean(v)) {
        *out = json_is_true(v);
        return 0;
    }
    if (json_is_string(v) && (!strcmp(json_string_value(v), "true") || !strcmp(json_string_value(v), "false"))) {
        *out = !strcmp(json_string_value(v), "true");
        return 0;
    }
    return bad_pair(r, "not_boolean", v);
}

/* A string field (required or not): *out points into the body. */
static int get_str(http_reply *r, json_t *body, const char *key, bool required, amqp_str *out)
{
    json_t *v = json_object_get(body, key);

    *out = (amqp_str){"", 0};
    if (!v)
        return required ? key_missing(r, key) : 0;
    if (!json_is_string(v))
        return bad_name(r, "not_string", key);
    *out = (amqp_str){json_string_value(v), (uint32_t)json_string_length(v)};
    return 0;
}

/* An integer field, also as a decimal string (RabbitMQ's parse_int). */
static int get_int(http_reply *r, json_t *body, const char *key, bool required, long *out)
{
    json_t *v = json_object_get(body, key);
    char *end;

    if (!v)
        return required ? key_missing(r, key) : 0;
    if (json_is_integer(v)) {
        *out = (long)json_integer_value(v);
        return 0;
    }
    if (json_is_string(v) && json_string_length(v) > 0) {
        *out = strtol(json_string_value(v), &end, 10);
        if (*end == 0)
            return 0;
    }
    return bad_pair(r, "not_integer", v);
}

/* ------------------------------------------------------------ tables */

static int put_value(http_reply *r, const char *what, json_t *v, amqp_tbuf *out, int depth);

static int table_of(http_reply *r, const char *what, json_t *obj, amqp_tbuf *out, int depth)
{
    const char *key;
    size_t klen;
    json_t *v;

    json_object_keylen_foreach(obj, key, klen, v) {
        uint8_t n = (uint8_t)klen;
        if (klen > 255 || strlen(key) != klen) {
            http_bad(r, "%s: a key longer than 255 bytes or holding a NUL ('%.32s')", what, key);
            return -1;
        }
        amqp_tbuf_raw(out, &n, 1);
        amqp_tbuf_raw(out, key, klen);
        if (put_value(r, what, v, out, depth) < 0)
            return -1;
    }
    return 0;
}

static int put_value(http_reply *r, const char *what, json_t *v, amqp_tbuf *out, int depth)
{
    amqp_value a = {0};
    amqp_tbuf sub = {0};
    size_t i;
    json_t *item;
    int rc = 0;

    if (depth >= AMQP_TABLE_DEPTH) {
        http_bad(r, "%s: nested deeper than %d", what, AMQP_TABLE_DEPTH);
        return -1;
    }
    switch (json_typeof(v)) {
    case JSON_STRING:
        a.type = 'S';
        a.v.s = (amqp_str){json_string_value(v), (uint32_t)json_string_length(v)};
        break;
    case JSON_INTEGER:
        a.type = 'l';
        a.v.i = json_integer_value(v);
        break;
    case JSON_REAL:
        a.type = 'd';
        a.v.d = json_real_value(v);
        break;
    case JSON_TRUE:
    case JSON_FALSE:
        a.type = 't';
        a.v.b = json_is_true(v);
        break;
    case JSON_OBJECT:
        rc = table_of(r, what, v, &sub, depth + 1);
        a.type = 'F';
        a.v.t = amqp_tbuf_done(&sub);
        break;
    case JSON_ARRAY:
        json_array_foreach(v, i, item) {
            if ((rc = put_value(r, what, item, &sub, depth + 1)) < 0)
                break;
        }
        a.type = 'A';
        a.v.a = (amqp_array){sub.buf, (uint32_t)sub.len};
        break;
    case JSON_NULL:
        http_bad(r, "null_not_allowed");
        return -1;
    }
    if (rc == 0)
        amqp_tbuf_put_value(out, &a);
    amqp_tbuf_free(&sub);
    return rc;
}

int http_json_table(http_reply *r, const char *what, json_t *v, amqp_tbuf *out)
{
    if (!v || (json_is_array(v) && json_array_size(v) == 0))
        return 0;
    if (!json_is_object(v)) {
        http_bad(r, "%s must be a JSON object", what);
        return -1;
    }
    if (table_of(r, what, v, out, 0) < 0)
        return -1;
    if (out->oom || out->len > UINT32_MAX / 2) {
        http_bad(r, "%s: out of memory", what);
        return -1;
    }
    return 0;
}

static json_t *str_json(amqp_str s)
{
    json_t *v = json_stringn(s.ptr, s.len);
    char *b64;

    if (v || !s.len)
        return v;
    /* not UTF-8: RabbitMQ's words, then its bytes in base64 */
    if (!(b64 = malloc(4 * ((s.len + 2) / 3) + 32)))
        return NULL;
    memcpy(b64, "Not UTF-8, base64 is: ", 22);
    http_base64_encode(b64 + 22, (const uint8_t *)s.ptr, s.len);
    v = json_string(b64);
    free(b64);
    return v;
}

static json_t *value_json(const amqp_value *a);

static json_t *array_json(amqp_array arr)
{
    json_t *out = json_array();
    amqp_array_iter it;
    amqp_value v;

    amqp_array_iter_init(&it, arr);
    while (out && amqp_array_next(&it, &v) == 1)
        json_array_append_new(out, value_json(&v));
    return out;
}

static json_t *value_json(const amqp_value *a)
{
    int64_t i;

    if (amqp_value_int(a, &i))
        return a->type == 'T' || a->type == 'i' ? json_integer((json_int_t)a->v.u) : json_integer(i);
    switch (a->type) {
    case 't':
        return json_boolean(a->v.b);
    case 'f':
        return json_real(a->v.f);
    case 'd':
        return json_real(a->v.d);
    case 'D': {
        double d = a->v.dec.value;
        for (int k = 0; k < a->v.dec.scale; k++)
            d /= 10;
        return json_real(d);
    }
    case 'S':
    case 'x':
        return str_json(a->v.s);
    case 'F':
        return http_table_json(a->v.t);
    case 'A':
        return array_json(a->v.a);
    default:
        return json_string("undefined"); /* void, as RabbitMQ shows it */
    }
}

typedef struct entry {
    amqp_str key;
    amqp_value v;
    size_t at;                  /* its place in the table: the first of a name wins */
} entry;

static int by_key(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    int c = memcmp(x->key.ptr, y->key.ptr, x->key.len < y->key.len ? x->key.len : y->key.len);
    if (c)
        return c;
    if (x->key.len != y->key.len)
        return x->key.len < y->key.len ? -1 : 1;
    return (x->at > y->at) - (x->at < y->at);
}

/* Keys in byte order, as RabbitMQ lists a table (its maps are sorted). */
json_t *http_table_json(amqp_table t)
{
    json_t *out = json_object();
    amqp_table_iter it;
    entry *es;
    size_t n = 0, i;

    if (!out || !(es = malloc((amqp_table_count(t) + 1) * sizeof *es))) {
        json_decref(out);
        return NULL;
    }
    amqp_table_iter_init(&it, t);
    while (amqp_table_next(&it, &es[n].key, &es[n].v) == 1) {
        es[n].at = n;
        n++;
    }
    qsort(es, n, sizeof *es, by_key);
    for (i = 0; i < n; i++) {
        char k[256];
        if (i && amqp_str_eq(es[i - 1].key, es[i].key))
            continue;
        memcpy(k, es[i].key.ptr, es[i].key.len);
        k[es[i].key.len] = 0;
        json_object_set_new(out, k, value_json(&es[i].v));
    }
    free(es);
    return out;
}

/* ------------------------------------------------------------- specs */

static int check_object(http_reply *r, json_t *body)
{
    if (body && !json_is_object(body)) {
        http_reply_not_json(r);
        return -1;
    }
    return 0;
}

int http_body_queue(http_reply *r, json_t *body, amqp_str name, queue_spec *s, amqp_tbuf *args)
{
    json_t *empty = NULL;
    int rc;

    memset(s, 0, sizeof *s);
    s->name = name;
    if (check_object(r, body) < 0)
        return -1;
    if (!body)
        body = empty = json_object();
    rc = get_bool(r, body, "durable", &s->durable) < 0 || get_bool(r, body, "auto_delete", &s->auto_delete) < 0 ||
                 http_json_table(r, "arguments", json_object_get(body, "arguments"), args) < 0
             ? -1
             : 0;
    json_decref(empty);
    s->arguments = amqp_tbuf_done(args);
    return rc;
}

int http_body_exchange(http_reply *r, json_t *body, amqp_str name, exchange_spec *s, amqp_tbuf *args)
{
    json_t *empty = NULL;
    int rc;

    memset(s, 0, sizeof *s);
    s->name = name;
    if (check_object(r, body) < 0)
        return -1;
    if (!body)
        body = empty = json_object();
    rc = get_str(r, body, "type", false, &s->type) < 0 || get_bool(r, body, "durable", &s->durable) < 0 ||
                 get_bool(r, body, "auto_delete", &s->auto_delete) < 0 ||
                 get_bool(r, body, "internal", &s->internal) < 0 ||
                 http_json_table(r, "arguments", json_object_get(body, "arguments"), args) < 0
             ? -1
             : 0;
    /* RabbitMQ's exchange.declare record defaults to "direct" */
    if (!json_object_get(body, "type"))
        s->type = amqp_cstr("direct");
    json_decref(empty);
    s->arguments = amqp_tbuf_done(args);
    return rc;
}

int http_body_binding(http_reply *r, json_t *body, binding_spec *s, amqp_tbuf *args)
{
    json_t *empty = NULL;
    int rc;

    if (check_object(r, body) < 0)
        return -1;
    if (!body)
        body = empty = json_object();
    rc = get_str(r, body, "routing_key", false, &s->key) < 0 ||
                 http_json_table(r, "arguments", json_object_get(body, "arguments"), args) < 0
             ? -1
             : 0;
    json_decref(empty);
    s->arguments = amqp_tbuf_done(args);
    return rc;
}

/* --------------------------------------------------------------- get */

int http_body_get(http_reply *r, json_t *body, http_get_req *g)
{
    static const char *modes[] = {"ack_requeue_true", "ack_requeue_false", "reject_requeue_true",
                                  "reject_requeue_false"};
    amqp_str mode, enc;
    size_t i;

    memset(g, 0, sizeof *g);
    g->truncate = -1;
    if (check_object(r, body) < 0)
        return -1;
    if (!body)
        return key_missing(r, "count");
    if (get_int(r, body, "count", true, &g->count) < 0 || get_str(r, body, "ackmode", true, &mode) < 0 ||
        get_str(r, body, "encoding", true, &enc) < 0 || get_int(r, body, "truncate", false, &g->truncate) < 0)
        return -1;
    if (g->count < 0 || g->count > HTTP_GET_MAX) {
        http_bad(r, "count must be from 0 to %d", HTTP_GET_MAX);
        return -1;
    }
    for (i = 0; i < 4; i++)
        if (amqp_str_eqc(mode, modes[i]))
            break;
    if (i == 4) {
        http_bad(r, "Unsupported ackmode. Please use ack_requeue_true, ack_requeue_false, reject_requeue_true or "
                    "reject_requeue_false.");
        return -1;
    }
    g->ackmode = (enum http_ackmode)i;
    if (amqp_str_eqc(enc, "base64"))
        g->base64 = true;
    else if (!amqp_str_eqc(enc, "auto")) {
        http_bad(r, "Unsupported encoding. Please use auto or base64.");
        return -1;
    }
    if (json_object_get(body, "truncate") && g->truncate < 0) {
        http_bad(r, "truncate must be a number of bytes, 0 or more");
        return -1;
    }
    return 0;
}

/* ----------------------------------------------------------- publish */

/* The string properties (shortstr), by field. */
static const struct {
    const char *name;
    size_t off;
    uint16_t flag;
} str_props[] = {
    {"content_type", offsetof(amqp_basic_properties, content_type), AMQP_BASIC_CONTENT_TYPE_FLAG},
    {"content_encoding", offsetof(amqp_basic_properties, content_encoding), AMQP_BASIC_CONTENT_ENCODING_FLAG},
    {"correlation_id", offsetof(amqp_basic_properties, correlation_id), AMQP_BASIC_CORRELATION_ID_FLAG},
    {"reply_to", offsetof(amqp_basic_properties, reply_to), AMQP_BASIC_REPLY_TO_FLAG},
    {"expiration", offsetof(amqp_basic_properties, expiration), AMQP_BASIC_EXPIRATION_FLAG},
    {"message_id", offsetof(amqp_basic_properties, message_id), AMQP_BASIC_MESSAGE_ID_FLAG},
    {"type", offsetof(amqp_basic_properties, type), AMQP_BASIC_TYPE_FLAG},
    {"user_id", offsetof(amqp_basic_properties, user_id), AMQP_BASIC_USER_ID_FLAG},
    {"app_id", offsetof(amqp_basic_properties, app_id), AMQP_BASIC_APP_ID_FLAG},
    {"cluster_id", offsetof(amqp_basic_properties, cluster_id), AMQP_BASIC_CLUSTER_ID_FLAG},
};

static int props_of(http_reply *r, json_t *o, amqp_basic_properties *p, amqp_tbuf *headers)
{
    static const struct {
        const char *name;
        uint16_t flag;
        long max;
    } ints[] = {
        {"delivery_mode", AMQP_BASIC_DELIVERY_MODE_FLAG, 255},
        {"priority", AMQP_BASIC_PRIORITY_FLAG, 255},
        {"timestamp", AMQP_BASIC_TIMESTAMP_FLAG, -1},
    };
    size_t i;
    json_t *v;

    memset(p, 0, sizeof *p);
    if (!json_is_object(o)) {
        http_bad(r, "properties must be a JSON object");
        return -1;
    }
    for (i = 0; i < sizeof str_props / sizeof *str_props; i++) {
        if (!(v = json_object_get(o, str_props[i].name)))
            continue;
        if (!json_is_string(v))
            return bad_name(r, "not_string", str_props[i].name);
        if (json_string_length(v) > 255) {
            http_bad(r, "property %s is longer than 255 bytes", str_props[i].name);
            return -1;
        }
        *(amqp_str *)((char *)p + str_props[i].off) =
            (amqp_str){json_string_value(v), (uint32_t)json_string_length(v)};
        p->flags |= str_props[i].flag;
    }
    for (i = 0; i < sizeof ints / sizeof *ints; i++) {
        if (!(v = json_object_get(o, ints[i].name)))
            continue;
        if (!json_is_integer(v))
            return bad_name(r, "not_int", ints[i].name);
        if (json_integer_value(v) < 0 || (ints[i].max >= 0 && json_integer_value(v) > ints[i].max)) {
            http_bad(r, "property %s out of range", ints[i].name);
            return -1;
        }
        p->flags |= ints[i].flag;
        if (ints[i].flag == AMQP_BASIC_DELIVERY_MODE_FLAG)
            p->delivery_mode = (uint8_t)json_integer_value(v);
        else if (ints[i].flag == AMQP_BASIC_PRIORITY_FLAG)
            p->priority = (uint8_t)json_integer_value(v);
        else
            p->timestamp = (uint64_t)json_integer_value(v);
    }
    if ((v = json_object_get(o, "headers"))) {
        if (http_json_table(r, "headers", v, headers) < 0)
            return -1;
        p->headers = amqp_tbuf_done(headers);
        p->flags |= AMQP_BASIC_HEADERS_FLAG;
    }
    return 0;
}

int http_body_publish(http_reply *r, json_t *body, http_publish_req *p)
{
    amqp_basic_properties props;
    amqp_tbuf headers = {0};
    amqp_str payload, enc;
    json_t *pv;
    int rc = -1;

    memset(p, 0, sizeof *p);
    if (check_object(r, body) < 0)
        return -1;
    if (!body)
        return key_missing(r, "routing_key");
    if (!json_object_get(body, "routing_key"))
        return key_missing(r, "routing_key");
    if (!json_object_get(body, "payload"))
        return key_missing(r, "payload");
    if (!json_object_get(body, "payload_encoding"))
        return key_missing(r, "payload_encoding");
    if (!(pv = json_object_get(body, "properties")))
        return key_missing(r, "properties");
    if (get_str(r, body, "routing_key", true, &p->routing_key) < 0)
        return -1;
    if (p->routing_key.len > 255) {
        http_bad(r, "routing_key is longer than 255 bytes");
        return -1;
    }
    if (!json_is_string(json_object_get(body, "payload"))) {
        http_bad(r, "payload_not_string");
        return -1;
    }
    get_str(r, body, "payload", true, &payload);
    if (get_str(r, body, "payload_encoding", true, &enc) < 0)
        return -1;
    if (!amqp_str_eqc(enc, "string") && !amqp_str_eqc(enc, "base64"))
        return bad_pair(r, "unsupported_encoding", json_object_get(body, "payload_encoding"));
    if (props_of(r, pv, &props, &headers) < 0)
        goto out;
    if (!(p->payload = malloc(payload.len + 3)))
        goto oom;
    if (amqp_str_eqc(enc, "string")) {
        memcpy(p->payload, payload.ptr, payload.len);
        p->payload_len = payload.len;
    } else {
        long n = http_base64_decode(p->payload, payload.ptr, payload.len);
        if (n < 0) {
            bad_pair(r, "not_base64", json_object_get(body, "payload"));
            goto out;
        }
        p->payload_len = (size_t)n;
    }
    p->props_len = (uint32_t)amqp_basic_properties_size(&props);
    if (!(p->props = malloc(p->props_len)))
        goto oom;
    amqp_basic_properties_encode(p->props, &props);
    if (props.flags & AMQP_BASIC_USER_ID_FLAG) {
        p->has_user_id = true;
        p->user_id = props.user_id; /* points into the body, which outlives the request */
    }
    rc = 0;
    goto out;
oom:
    http_reply_error(r, 500, "internal_error", "out of memory");
out:
    amqp_tbuf_free(&headers);
    if (rc < 0)
        http_publish_req_free(p);
    return rc;
}

void http_publish_req_free(http_publish_req *p)
{
    free(p->props);
    free(p->payload);
    p->props = p->payload = NULL;
}

/* ------------------------------------------------------ get replies */

json_t *http_props_json(const uint8_t *props, uint32_t len)
{
    amqp_basic_properties p;
    json_t *o;
    int i;

    if (len < 2 || amqp_basic_properties_decode(props, len, &p) < 0 || p.flags == 0)
        return json_array();
    if (!(o = json_object()))
        return NULL;
    for (i = (int)(sizeof str_props / sizeof *str_props) - 1; i >= 0; i--) {
        const char *name = str_props[i].name;
        if (!(p.flags & str_props[i].flag))
            continue;
        json_object_set_new(o, name, str_json(*(amqp_str *)((char *)&p + str_props[i].off)));
    }
    /* then the others, and all of them in RabbitMQ's order */
    {
        static const char *order[] = {"cluster_id", "app_id", "user_id", "type", "timestamp", "message_id",
                                      "expiration", "reply_to", "correlation_id", "priority", "delivery_mode",
                                      "headers", "content_encoding", "content_type"};
        json_t *out = json_object();
        size_t k;
        if (p.flags & AMQP_BASIC_TIMESTAMP_FLAG)
            json_object_set_new(o, "timestamp", json_integer((json_int_t)p.timestamp));
        if (p.flags & AMQP_BASIC_PRIORITY_FLAG)
            json_object_set_new(o, "priority", json_integer(p.priority));
        if (p.flags & AMQP_BASIC_DELIVERY_MODE_FLAG)
            json_object_set_new(o, "delivery_mode", json_integer(p.delivery_mode));
        if (p.flags & AMQP_BASIC_HEADERS_FLAG)
            json_object_set_new(o, "headers", http_table_json(p.headers));
        for (k = 0; out && k < sizeof order / sizeof *order; k++) {
            json_t *v = json_object_get(o, order[k]);
            if (v)
                json_object_set(out, order[k], v);
        }
        json_decref(o);
        return out;
    }
}

int http_payload_json(json_t *o, const uint8_t *p, size_t len, bool base64, long truncate)
{
    json_t *v = NULL;
    char *b64;

    if (truncate >= 0 && (size_t)truncate < len)
        len = (size_t)truncate;
    if (!base64 && (v = json_stringn((const char *)p, len))) {
        json_object_set_new(o, "payload", v);
        return json_object_set_new(o, "payload_encoding", json_string("string"));
    }
    if (!(b64 = malloc(4 * ((len + 2) / 3) + 1)))
        return -1;
    http_base64_encode(b64, p, len);
    json_object_set_new(o, "payload", json_string(b64));
    free(b64);
    return json_object_set_new(o, "payload_encoding", json_string("base64"));
}

/* ------------------------------------------------------------ base64 */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t http_base64_encode(char *out, const uint8_t *in, size_t n)
{
    size_t i, o = 0;

    for (i = 0; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = b64[v >> 18];
        out[o++] = b64[(v >> 12) & 63];
        out[o++] = b64[(v >> 6) & 63];
        out[o++] = b64[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0);
        out[o++] = b64[v >> 18];
        out[o++] = b64[(v >> 12) & 63];
        out[o++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
        out[o++] = '=';
    }
    out[o] = 0;
    return o;
}

static int b64_val(char c)
{
    const char *p = c ? strchr(b64, c) : NULL;
    return p ? (int)(p - b64) : -1;
}

long http_base64_decode(uint8_t *out, const char *in, size_t n)
{
    size_t i, o = 0;
    uint32_t acc = 0;
    int bits = 0, pad = 0;

    for (i = 0; i < n; i++) {
        int v;
        if (in[i] == '=') {
            pad++;
            continue;
        }
        if (pad || (v = b64_val(in[i])) < 0)
            return -1;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    /* a whole number of quads, or the padding left off */
    if (pad > 2 || (pad && (n % 4) != 0) || ((n - (size_t)pad) % 4) == 1)
        return -1;
    return (long)o;
}

/* ----------------------------------------------------- properties key */

/* RabbitMQ's quote_plus: unreserved bytes as they are, space as '+',
 * everything else %XX; then '~' as %7E. */
static size_t quote_plus(char *out, amqp_str s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t i, o = 0;

    for (i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
            c == '.') {
            out[o++] = (char)c;
        } else if (c == ' ') {
            out[o++] = '+';
        } else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    return o;
}

size_t http_props_key(amqp_str key, amqp_table args, char *out)
{
    static const char url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    uint32_t h = 2166136261u;
    size_t o, i;

    if (key.len == 0 && args.len == 0) {
        memcpy(out, "~", 2);
        return 1;
    }
    o = quote_plus(out, key);
    if (args.len) {
        /* RabbitMQ hashes the Erlang term (erlang:phash2); warren the
         * encoded table (FNV-1a), in the same shape: 32 bits, base64url */
        uint8_t b[4];
        for (i = 0; i < args.len; i++)
            h = (h ^ args.ptr[i]) * 16777619u;
        b[0] = (uint8_t)(h >> 24), b[1] = (uint8_t)(h >> 16), b[2] = (uint8_t)(h >> 8), b[3] = (uint8_t)h;
        out[o++] = '~';
        out[o++] = url[b[0] >> 2];
        out[o++] = url[(b[0] & 3) << 4 | b[1] >> 4];
        out[o++] = url[(b[1] & 15) << 2 | b[2] >> 6];
        out[o++] = url[b[2] & 63];
        out[o++] = url[b[3] >> 2];
        out[o++] = url[(b[3] & 3) << 4];
    }
    out[o] = 0;
    return o;
}
