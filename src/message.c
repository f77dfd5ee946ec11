/*
 * message.c - messages: one allocation holding exchange, routing key,
 * encoded properties and body, reference-counted so that a message routed
 * to several queues exists once.
 */
#include "warren.h"

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
    /* RabbitMQ: a non-negative integer of milliseconds, as a string */
    if (p.expiration.len == 0 || p.expiration.len > 10) {
        *why = "not a number of milliseconds";
        return -1;
    }
    for (i = 0; i < p.expiration.len; i++) {
        char c = p.expiration.ptr[i];
        if (c == '-' && i == 0) {
            *why = "value_negative";
            return -1;
        }
        if (c < '0' || c > '9') {
            *why = "not a number of milliseconds";
            return -1;
        }
        v = v * 10 + (uint64_t)(c - '0');
    }
    m->expiration = (int64_t)v;
    return 0;
}
