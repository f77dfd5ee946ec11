/*
 * message.c - messages: one allocation holding exchange, routing key,
 * encoded properties and body, reference-counted so that a message routed
 * to several queues exists once.  It needs nothing but the codec
 * (message.h), so the store may build the messages it reads back.
 */
#include "message.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bytes of messages alive, for paging decisions (one thread: no atomics). */
static uint64_t live_bytes;

uint64_t msg_live_bytes(void)
{
    return live_bytes;
}

msg *msg_new(amqp_str xname, amqp_str rk, const uint8_t *props, uint32_t props_len, uint32_t body_len)
{
    return msg_new_partial(xname, rk, props, props_len, body_len, body_len);
}

msg *msg_new_partial(amqp_str xname, amqp_str rk, const uint8_t *props, uint32_t props_len, uint32_t body_len,
                     uint32_t cap)
{
    size_t n = sizeof(msg) + xname.len + rk.len + props_len + (size_t)cap;
    msg *m;

    if (xname.len > 255 || rk.len > 255)
        return NULL;
    if (!(m = malloc(n)))
        return NULL;
    live_bytes += n;
    m->refs = 1;
    m->flags = 0;
    m->priority = 0;
    m->exlen = (uint8_t)xname.len;
    m->rklen = (uint8_t)rk.len;
    m->props_len = props_len;
    m->body_len = body_len;
    m->body_have = 0;
    m->body_cap = cap;
    m->published = 0;
    m->expiration = -1;
    memcpy(m->data, xname.ptr, xname.len);
    memcpy(m->data + xname.len, rk.ptr, rk.len);
    if (props_len)
        memcpy(m->data + xname.len + rk.len, props, props_len);
    return m;
}

msg *msg_grow(msg *m, uint32_t more)
{
    uint64_t want = (uint64_t)m->body_have + more, cap = m->body_cap ? m->body_cap : 4096;
    msg *n;
    if (want <= m->body_cap)
        return m;
    while (cap < want)
        cap *= 2;
    if (cap > m->body_len)
        cap = m->body_len;
    n = realloc(m, sizeof(msg) + m->exlen + m->rklen + m->props_len + cap);
    if (!n)
        return NULL;
    live_bytes += cap - n->body_cap;
    n->body_cap = (uint32_t)cap;
    return n;
}

void msg_unref(msg *m)
{
    if (m && --m->refs == 0) {
        live_bytes -= sizeof(msg) + m->exlen + m->rklen + m->props_len + m->body_cap;
        free(m);
    }
}

size_t msg_mem_size(const msg *m)
{
    return sizeof *m + m->exlen + m->rklen + m->props_len + m->body_len;
}

/* A copy of m whose headers lack `key`, then have it as *val when val is
 * given (NULL out of memory). */
static msg *with_header(msg *m, const char *key, const amqp_value *val)
{
    amqp_basic_properties p;
    amqp_value v;
    amqp_table_iter it;
    amqp_str k;
    amqp_tbuf hb = {0};
    uint8_t *enc;
    msg *out = NULL;

    if (amqp_basic_properties_decode(msg_props(m), m->props_len, &p) < 0)
        return NULL;
    if (!(p.flags & AMQP_BASIC_HEADERS_FLAG))
        p.headers = (amqp_table){0};
    amqp_table_iter_init(&it, p.headers);
    while (amqp_table_next(&it, &k, &v)) {
        char name[256];
        if (amqp_str_eqc(k, key))
            continue;
        memcpy(name, k.ptr, k.len);
        name[k.len] = 0;
        amqp_tbuf_value(&hb, name, &v);
    }
    if (val)
        amqp_tbuf_value(&hb, key, val);
    p.headers = amqp_tbuf_done(&hb);
    if (val)
        p.flags |= AMQP_BASIC_HEADERS_FLAG;
    if (!hb.oom && (enc = malloc(amqp_basic_properties_size(&p)))) {
        size_t plen = (size_t)(amqp_basic_properties_encode(enc, &p) - enc);
        out = msg_new((amqp_str){msg_exchange(m), m->exlen}, (amqp_str){msg_rk(m), m->rklen}, enc, (uint32_t)plen,
                      m->body_len);
        if (out) {
            memcpy(msg_body(out), msg_cbody(m), m->body_len);
            out->body_have = m->body_len;
            out->flags = m->flags;
            out->priority = m->priority;
            out->published = m->published;
            out->expiration = m->expiration;
        }
        free(enc);
    }
    amqp_tbuf_free(&hb);
    return out;
}

msg *msg_without_header(msg *m, const char *key)
{
    amqp_basic_properties p;
    amqp_value v;

    if (amqp_basic_properties_decode(msg_props(m), m->props_len, &p) < 0 || !(p.flags & AMQP_BASIC_HEADERS_FLAG) ||
        !amqp_table_get(p.headers, key, &v))
        return msg_ref(m);
    return with_header(m, key, NULL);
}

msg *msg_with_long_header(msg *m, const char *key, int64_t value)
{
    amqp_value v = {.type = 'l', .v.i = value};
    return with_header(m, key, &v);
}

msg *msg_with_int_header(msg *m, const char *key, int32_t value)
{
    amqp_value v = {.type = 'I', .v.i = value};
    return with_header(m, key, &v);
}

int msg_parse_props(msg *m, const char **why)
{
    amqp_basic_properties p;
    uint64_t v = 0;
    uint32_t i;

    m->expiration = -1;
    if (amqp_basic_properties_decode(msg_props(m), m->props_len, &p) < 0) {
        *why = "malformed properties";
        return -1;
    }
    if (p.flags & AMQP_BASIC_PRIORITY_FLAG)
        m->priority = p.priority;
    if (p.flags & AMQP_BASIC_DELIVERY_MODE_FLAG && p.delivery_mode == 2)
        m->flags |= MSG_PERSISTENT;
    if (!(p.flags & AMQP_BASIC_EXPIRATION_FLAG))
        return 0;
    /* RabbitMQ reads it with string:to_integer and says so when it fails */
    {
        static char buf[96];
        const char *s = p.expiration.ptr;
        uint32_t n = p.expiration.len;
        bool neg = false;
        i = 0;
        if (n > 0 && (s[0] == '-' || s[0] == '+')) {
            neg = s[0] == '-';
            i = 1;
        }
        if (i == n || s[i] < '0' || s[i] > '9') {
            *why = "no_integer";
            return -1;
        }
        for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
            if (v > 1000000000000ull) {
                *why = "{value_too_big}";
                return -1;
            }
            v = v * 10 + (uint64_t)(s[i] - '0');
        }
        if (i < n) {
            snprintf(buf, sizeof buf, "{leftover_string,\"%.*s\"}", (int)(n - i > 60 ? 60 : n - i), s + i);
            *why = buf;
            return -1;
        }
        if (neg && v) {
            snprintf(buf, sizeof buf, "{value_negative,-%llu}", (unsigned long long)v);
            *why = buf;
            return -1;
        }
    }
    m->expiration = (int64_t)v;
    return 0;
}
