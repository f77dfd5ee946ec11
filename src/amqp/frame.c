/*
 * frame.c - frame parsing and writing; see frame.h.
 */
#include "frame.h"

static bool known_type(uint8_t type)
{
    return type == AMQP_FRAME_METHOD || type == AMQP_FRAME_HEADER || type == AMQP_FRAME_BODY ||
           type == AMQP_FRAME_HEARTBEAT;
}

static long parse(const uint8_t *p, size_t n, uint32_t frame_max, amqp_frame *f, bool any_type)
{
    uint32_t size;

    f->size = 0;
    if (n < AMQP_FRAME_HEADER_SIZE)
        return 0;
    f->type = p[0];
    if (!any_type && !known_type(f->type))
        return AMQP_EFRAMETYPE;
    f->channel = amqp_get16(p + 1);
    size = amqp_get32(p + 3);
    /* the payload may be as big as frame_max itself (see frame.h) */
    if (frame_max && size > frame_max)
        return AMQP_EFRAMESIZE;
    if (size > UINT32_MAX - AMQP_FRAME_OVERHEAD)
        return AMQP_EFRAMESIZE;
    f->size = size;
    if (n - AMQP_FRAME_HEADER_SIZE < (size_t)size + 1)
        return 0;
    if (p[AMQP_FRAME_HEADER_SIZE + size] != AMQP_FRAME_END)
        return AMQP_EFRAMEEND;
    f->payload = p + AMQP_FRAME_HEADER_SIZE;
    return (long)size + AMQP_FRAME_OVERHEAD;
}

long amqp_frame_parse(const uint8_t *p, size_t n, uint32_t frame_max, amqp_frame *f)
{
    return parse(p, n, frame_max, f, false);
}

long amqp_frame_parse_any(const uint8_t *p, size_t n, uint32_t frame_max, amqp_frame *f)
{
    return parse(p, n, frame_max, f, true);
}

int amqp_method_frame_decode(const amqp_frame *f, uint32_t *id, amqp_method_args *args)
{
    *id = 0;
    if (f->size < 4)
        return AMQP_ETRUNC;
    *id = amqp_get32(f->payload);
    return amqp_method_decode(*id, f->payload + 4, f->size - 4, args);
}

int amqp_content_header_parse(const amqp_frame *f, amqp_content_header *h)
{
    if (f->size < 14)
        return AMQP_ETRUNC;
    h->class_id = amqp_get16(f->payload);
    if (h->class_id != AMQP_BASIC_CLASS)
        return AMQP_ECLASS;
    /* weight (2 octets) must be zero; RabbitMQ ignores it and so do we */
    h->body_size = amqp_get64(f->payload + 4);
    h->props = f->payload + 12;
    h->props_len = f->size - 12;
    return AMQP_OK;
}

size_t amqp_method_frame_size(uint32_t id, const void *args)
{
    return AMQP_FRAME_OVERHEAD + 4 + amqp_method_size(id, args);
}

long amqp_write_method(uint8_t *out, size_t cap, uint16_t channel, uint32_t id, const void *args)
{
    size_t size = amqp_method_size(id, args) + 4;
    uint8_t *p;

    if (cap < size + AMQP_FRAME_OVERHEAD || size > UINT32_MAX)
        return AMQP_ENOSPACE;
    p = amqp_put_frame_header(out, AMQP_FRAME_METHOD, channel, (uint32_t)size);
    p = amqp_put32(p, id);
    p = amqp_method_encode(id, args, p);
    *p++ = AMQP_FRAME_END;
    return (long)(p - out);
}

long amqp_write_header(uint8_t *out, size_t cap, uint16_t channel, uint16_t class_id,
                       uint64_t body_size, const uint8_t *props, size_t props_len)
{
    size_t size = 12 + props_len;
    uint8_t *p;

    if (cap < size + AMQP_FRAME_OVERHEAD || size > UINT32_MAX)
        return AMQP_ENOSPACE;
    p = amqp_put_frame_header(out, AMQP_FRAME_HEADER, channel, (uint32_t)size);
    p = amqp_put16(p, class_id);
    p = amqp_put16(p, 0);
    p = amqp_put64(p, body_size);
    if (props_len)
        memcpy(p, props, props_len);
    p += props_len;
    *p++ = AMQP_FRAME_END;
    return (long)(p - out);
}

long amqp_write_heartbeat(uint8_t *out, size_t cap)
{
    uint8_t *p;

    if (cap < AMQP_FRAME_OVERHEAD)
        return AMQP_ENOSPACE;
    p = amqp_put_frame_header(out, AMQP_FRAME_HEARTBEAT, 0, 0);
    *p++ = AMQP_FRAME_END;
    return (long)(p - out);
}
