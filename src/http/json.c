/*
 * json.c - replies, RabbitMQ's error bodies, request bodies and the
 * columns filter (json.h), on jansson.
 *
 * jansson keeps an object's keys in insertion order, so a reply lists
 * its fields in the order the handler added them (RabbitMQ's order where
 * the handlers follow it); numbers are integers where RabbitMQ's are.
 */
#include "http/json.h"

#include <stdlib.h>
#include <string.h>

#include "amqp/wire.h"

void http_reply_json(http_reply *r, int status, json_t *body)
{
    json_decref(r->body);
    if (!body) {
        r->status = 500;
        r->body = json_pack("{s:s,s:s}", "error", "internal_error", "reason", "out of memory");
        return;
    }
    r->status = status;
    r->body = body;
}

/* s as UTF-8: each byte that begins no valid sequence becomes U+FFFD,
 * as RabbitMQ's management writes a name that is not UTF-8 into a
 * reason; malloc'd (NULL: out of memory). */
static char *utf8_repaired(const char *s)
{
    size_t n = strlen(s), i = 0, o = 0, k;
    char *out = malloc(3 * n + 1);

    if (!out)
        return NULL;
    while (i < n) {
        for (k = 1; k <= 4 && i + k <= n; k++)
            if (amqp_utf8_ok(s + i, k))
                break;
        if (k <= 4 && i + k <= n) {
            memcpy(out + o, s + i, k);
            o += k;
            i += k;
        } else {
            memcpy(out + o, "\xef\xbf\xbd", 3);
            o += 3;
            i++;
        }
    }
    out[o] = 0;
    return out;
}

void http_reply_error(http_reply *r, int status, const char *error, const char *reason)
{
    char *fixed;

    /* a reason quotes what the client named, which may not be UTF-8
     * (a path's %F4): jansson refuses such a string */
    if (amqp_utf8_ok(reason, strlen(reason)) || !(fixed = utf8_repaired(reason))) {
        http_reply_json(r, status, json_pack("{s:s,s:s}", "error", error, "reason", reason));
        return;
    }
    http_reply_json(r, status, json_pack("{s:s,s:s}", "error", error, "reason", fixed));
    free(fixed);
}

void http_reply_not_found(http_reply *r)
{
    http_reply_error(r, 404, "Object Not Found", "Not Found");
}

void http_reply_login_failed(http_reply *r)
{
    http_reply_error(r, 401, "not_authorized", "Login failed");
    r->challenge = true;
}

void http_reply_not_json(http_reply *r)
{
    http_reply_error(r, 400, "bad_request", "not_json");
}

void http_reply_too_big(http_reply *r)
{
    http_reply_error(r, 400, "bad_request", "Exceeded HTTP request body size limit");
}

json_t *http_json_body(const char *buf, size_t len)
{
    json_error_t e;
    json_t *v = json_loadb(buf, len, JSON_ALLOW_NUL, &e);

    if (v && !json_is_object(v)) {
        json_decref(v);
        return NULL;
    }
    return v;
}

/* Copy the field at a dotted path of src into dst, making the
 * intermediate objects. */
static void copy_path(json_t *dst, json_t *src, const char *path, size_t len)
{
    const char *dot = memchr(path, '.', len);
    size_t klen = dot ? (size_t)(dot - path) : len;
    char key[256];
    json_t *v;

    if (klen >= sizeof key || !json_is_object(src))
        return;
    memcpy(key, path, klen);
    key[klen] = 0;
    if (!(v = json_object_get(src, key)))
        return;
    if (!dot) {
        json_object_set(dst, key, v);
        return;
    }
    if (!json_is_object(v))
        return;
    {
        json_t *sub = json_object_get(dst, key);
        if (!sub) {
            sub = json_object();
            if (!sub || json_object_set_new(dst, key, sub) < 0)
                return;
        }
        copy_path(sub, v, dot + 1, len - klen - 1);
    }
}

static json_t *columns_of(json_t *obj, const http_str *columns)
{
    json_t *out;
    const char *p = columns->ptr, *end = columns->ptr + columns->len;

    if (!json_is_object(obj))
        return json_incref(obj);
    if (!(out = json_object()))
        return NULL;
    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma ? comma : end;
        if (stop > p)
            copy_path(out, obj, p, (size_t)(stop - p));
        p = comma ? comma + 1 : end;
    }
    return out;
}

json_t *http_json_columns(json_t *v, const http_str *columns)
{
    json_t *out, *item;
    size_t i;

    if (!json_is_array(v))
        return columns_of(v, columns);
    if (!(out = json_array()))
        return NULL;
    json_array_foreach(v, i, item) {
        if (json_array_append_new(out, columns_of(item, columns)) < 0) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

char *http_json_dump(const json_t *v, size_t *len)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

    *len = s ? strlen(s) : 0;
    return s;
}
