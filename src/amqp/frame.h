/*
 * frame.h - the sans-IO frame reader and writers.
 *
 * Bytes in, frames out: amqp_frame_parse() looks at a buffer the caller
 * filled however it likes and says how many bytes the next frame used, or
 * that more are needed, or why the bytes can never be a frame.  It makes no
 * syscalls and allocates nothing; the payload of a parsed frame points into
 * the caller's buffer.  Every length is checked against the bytes present
 * and against the negotiated frame_max before anyone could allocate for it.
 */
#ifndef WARREN_AMQP_FRAME_H
#define WARREN_AMQP_FRAME_H

#include "spec.h"

#define AMQP_FRAME_HEADER_SIZE 7  /* type, channel, payload size */
#define AMQP_FRAME_OVERHEAD 8     /* header + frame-end octet */
#define AMQP_PROTOCOL_HEADER "AMQP\x00\x00\x09\x01"
#define AMQP_PROTOCOL_HEADER_SIZE 8

typedef struct amqp_frame {
    uint8_t type;           /* AMQP_FRAME_METHOD, _HEADER, _BODY, _HEARTBEAT */
    uint16_t channel;
    uint32_t size;          /* payload size */
    const uint8_t *payload;
} amqp_frame;

/* Parse the frame at the start of [p, p+n).  frame_max bounds the payload
 * (0: no limit).  The spec counts the whole frame against frame_max, but
 * so many clients get that wrong by the 8 octets of header and end that
 * RabbitMQ allows them (its FRAME_SIZE_FUDGE): a payload of frame_max
 * octets is accepted, one more is AMQP_EFRAMESIZE.  (Frames we write keep
 * to the spec: header + payload + end <= frame_max.)  Returns the bytes
 * the frame used (> 0); 0 when the buffer holds only part of it, and then
 * f->size is set if the header was complete, so the caller knows how much
 * to wait for; or a negative status (AMQP_EFRAMESIZE, AMQP_EFRAMEEND,
 * AMQP_EFRAMETYPE: a type octet that is none of the four, refused from
 * the header alone). */
long amqp_frame_parse(const uint8_t *p, size_t n, uint32_t frame_max, amqp_frame *f);

/* The same, but a frame of any type octet is returned whole (never
 * AMQP_EFRAMETYPE): for a server that quotes the frame in its error, as
 * RabbitMQ does.  The caller judges f->type. */
long amqp_frame_parse_any(const uint8_t *p, size_t n, uint32_t frame_max, amqp_frame *f);

/* A method frame's payload: the method id and its decoded arguments.
 * *id is 0 when the payload is too short to hold one (AMQP_ETRUNC). */
int amqp_method_frame_decode(const amqp_frame *f, uint32_t *id, amqp_method_args *args);

/* A content header frame's payload, properties left encoded. */
typedef struct amqp_content_header {
    uint16_t class_id;
    uint64_t body_size;
    const uint8_t *props;   /* from the property-flags word on */
    uint32_t props_len;
} amqp_content_header;

int amqp_content_header_parse(const amqp_frame *f, amqp_content_header *h);

/* Writers.  Each returns the bytes written, or AMQP_ENOSPACE when `cap` is
 * too small (nothing useful is written then). */
size_t amqp_method_frame_size(uint32_t id, const void *args);
long amqp_write_method(uint8_t *out, size_t cap, uint16_t channel, uint32_t id, const void *args);
/* props: encoded properties from the flag word on (as amqp_content_header). */
long amqp_write_header(uint8_t *out, size_t cap, uint16_t channel, uint16_t class_id,
                       uint64_t body_size, const uint8_t *props, size_t props_len);
long amqp_write_heartbeat(uint8_t *out, size_t cap);

/* The 7-byte frame header; the caller writes the payload and the end octet. */
static inline uint8_t *amqp_put_frame_header(uint8_t *p, uint8_t type, uint16_t channel, uint32_t size)
{
    p = amqp_put8(p, type);
    p = amqp_put16(p, channel);
    return amqp_put32(p, size);
}

#endif
