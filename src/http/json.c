/*
 * json.c - replies, RabbitMQ's error bodies, request bodies and the
 * columns filter (json.h), on jansson.
 *
 * jansson keeps an object's keys in insertion order, so a reply lists
 * its fields in the order the handler added them (RabbitMQ's order where
 * the handlers follow it); numbers are integers where RabbitMQ's are.
 */
#include "http/json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>


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

/* The length of the UTF-8 sequence at p (at most n bytes) if it is a
 * Unicode scalar value as jansson takes it (no overlong form, no
 * surrogate, nothing past U+10FFFF), else 0. */
static size_t scalar_len(const unsigned char *p, size_t n)
{
    size_t len, i;
    uint32_t cp;

    if (p[0] < 0x80)
        return 1;
    if (p[0] >= 0xC2 && p[0] <= 0xDF)
        len = 2, cp = p[0] & 0x1F;
    else if (p[0] >= 0xE0 && p[0] <= 0xEF)
        len = 3, cp = p[0] & 0x0F;
    else if (p[0] >= 0xF0 && p[0] <= 0xF4)
        len = 4, cp = p[0] & 0x07;
    else
        return 0;
    if (n < len)
        return 0;
    for (i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

/* s as UTF-8 that jansson takes: each byte that begins no valid sequence
 * becomes U+FFFD, as RabbitMQ's management writes a name that is not
 * UTF-8 into a reason; malloc'd (NULL: out of memory). */
static char *utf8_repaired(const char *s)
{
    size_t n = strlen(s), i = 0, o = 0, k;
    char *out = malloc(3 * n + 1);

    if (!out)
        return NULL;
    while (i < n) {
        if ((k = scalar_len((const unsigned char *)s + i, n - i))) {
            memcpy(out + o, s + i, k);
            o += k;
            i += k;
        } else {
            /* one U+FFFD for a lead byte and the continuation bytes it
             * would take (RabbitMQ's), one for each stray continuation */
            unsigned char c = (unsigned char)s[i];
            size_t want = c >= 0xF0 && c <= 0xF7 ? 4 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xC0 && c <= 0xDF ? 2 : 1;
            memcpy(out + o, "\xef\xbf\xbd", 3);
            o += 3;
            i++;
            while (--want && i < n && ((unsigned char)s[i] & 0xC0) == 0x80)
                i++;
        }
    }
    out[o] = 0;
    return out;
}

json_t *http_json_textn(const char *s, size_t n)
{
    json_t *v = json_stringn(s, n);
    char *copy, *fixed;

    if (v || !(copy = malloc(n + 1)))
        return v;
    /* a NUL inside is cut there, as the names that hold one are */
    memcpy(copy, s, n);
    copy[n] = 0;
    fixed = utf8_repaired(copy);
    free(copy);
    v = fixed ? json_string(fixed) : NULL;
    free(fixed);
    return v;
}

json_t *http_json_text(const char *s)
{
    return http_json_textn(s, strlen(s));
}

void http_reply_error(http_reply *r, int status, const char *error, const char *reason)
{
    /* a reason quotes what the client named, which may not be UTF-8 (a
     * path's %F4) or hold what AMQP's check lets through but JSON does
     * not (a surrogate, a code point past U+10FFFF): jansson refuses it */
    http_reply_json(r, status, json_pack("{s:s,s:o}", "error", error, "reason", http_json_text(reason)));
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
