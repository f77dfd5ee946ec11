/*
 * message.h - a message as published: exchange, routing key, encoded
 * properties and body in one reference-counted allocation (message.c).
 * It depends on the codec alone, so the store (src/store/), which writes
 * and reads messages, includes it without knowing the rest of the broker.
 */
#ifndef WARREN_MESSAGE_H
#define WARREN_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

#include "amqp/spec.h"
#include "amqp/table.h"

typedef struct msg msg;

enum {
    MSG_PERSISTENT = 1 << 0,    /* delivery_mode 2 */
};

struct msg {
    uint32_t refs;
    uint16_t flags;
    uint8_t exlen, rklen;
    uint8_t priority;
    uint32_t props_len;
    uint32_t body_len;
    uint32_t body_have;         /* while assembling from body frames */
    uint32_t body_cap;          /* room allocated for the body so far */
    int64_t published;          /* wall clock ms when it arrived */
    int64_t expiration;         /* its `expiration` property in ms, -1 none */
    uint8_t data[];             /* exchange, routing key, properties, body */
};

msg *msg_new(amqp_str exchange, amqp_str rk, const uint8_t *props, uint32_t props_len, uint32_t body_len);
/* A message whose body will arrive in pieces: room for `cap` bytes now,
 * more with msg_grow (so a header announcing a huge body costs nothing
 * until the body comes). */
msg *msg_new_partial(amqp_str exchange, amqp_str rk, const uint8_t *props, uint32_t props_len,
                     uint32_t body_len, uint32_t cap);
/* Make room for `more` body bytes; may move the message (returns it, or
 * NULL with the old one untouched). */
msg *msg_grow(msg *m, uint32_t more);
static inline const char *msg_exchange(const msg *m) { return (const char *)m->data; }
static inline const char *msg_rk(const msg *m) { return (const char *)m->data + m->exlen; }
static inline const uint8_t *msg_props(const msg *m) { return m->data + m->exlen + m->rklen; }
static inline uint8_t *msg_body(msg *m) { return m->data + m->exlen + m->rklen + m->props_len; }
static inline const uint8_t *msg_cbody(const msg *m) { return m->data + m->exlen + m->rklen + m->props_len; }
static inline msg *msg_ref(msg *m) { m->refs++; return m; }
void msg_unref(msg *m);
size_t msg_mem_size(const msg *m);
/* A copy of m without the header `key` in its headers table (NULL if out of
 * memory; m itself, with a new reference, if it has no such header). */
msg *msg_without_header(msg *m, const char *key);
/* A copy of m with the header `key` set to a long (signed 64-bit) value,
 * replacing one of that name (NULL if out of memory). */
msg *msg_with_long_header(msg *m, const char *key, int64_t value);
/* The same with a signedint ('I') value (the delayed exchange's x-delay). */
msg *msg_with_int_header(msg *m, const char *key, int32_t value);
/* Bytes held by all messages in memory now. */
uint64_t msg_live_bytes(void);
/* Read priority and expiration from the properties into m; -1 when the
 * expiration is not a valid number of milliseconds (*why says how). */
int msg_parse_props(msg *m, const char **why);

#endif
