/*
 * message.c - messages: one allocation holding exchange, routing key,
 * encoded properties and body, reference-counted so that a message routed
 * to several queues exists once.
 */
#include "warren.h"

#include <stdlib.h>
#include <string.h>

msg *msg_new(amqp_str xname, amqp_str rk, const uint8_t *props, uint32_t props_len, uint32_t body_len)
{
    size_t n = sizeof(msg) + xname.len + rk.len + props_len + (size_t)body_len;
    msg *m;

    if (xname.len > 255 || rk.len > 255)
        return NULL;
    if (!(m = malloc(n)))
        return NULL;
    m->refs = 1;
    m->flags = 0;
    m->priority = 0;
    m->exlen = (uint8_t)xname.len;
    m->rklen = (uint8_t)rk.len;
    m->props_len = props_len;
    m->body_len = body_len;
    m->body_have = 0;
    memcpy(m->data, xname.ptr, xname.len);
    memcpy(m->data + xname.len, rk.ptr, rk.len);
    if (props_len)
        memcpy(m->data + xname.len + rk.len, props, props_len);
    return m;
}

void msg_unref(msg *m)
{
    if (m && --m->refs == 0)
        free(m);
}

size_t msg_mem_size(const msg *m)
{
    return sizeof *m + m->exlen + m->rklen + m->props_len + m->body_len;
}
