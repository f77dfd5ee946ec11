/*
 * proto/consumer_timeout.h - a channel's overdue deliveries
 * (consumer_timeout.c): x-consumer-timeout and --consumer-timeout.
 *
 * Embedded in the channel (channel.h); channel.c calls in when it
 * delivers, when an ack names a tag it no longer holds, and when it goes.
 */
#ifndef WARREN_PROTO_CONSUMER_TIMEOUT_H
#define WARREN_PROTO_CONSUMER_TIMEOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ev/loop.h"

typedef struct queue queue;

/* A delivery requeued for being overdue, remembered so its late ack is
 * ignored (and counted against its queue) rather than refused. */
typedef struct ct_late {
    uint64_t tag;
    queue *q;                   /* a reference held */
} ct_late;

typedef struct ct_state {
    struct channel *ch;         /* not the typedef: frame.h names a parameter `channel` */
    ev_timer timer;             /* armed for the earliest deadline */
    ct_late *late;              /* oldest first, at most CT_LATE_MAX */
    size_t nlate, caplate;
} ct_state;

/* Set up in channel_new. */
void ct_init(ct_state *ct, struct channel *ch);
/* A delivery needing an ack went out from q just now, to a consumer whose
 * own x-consumer-timeout is consumer_ms (-1: none, or basic.get). */
void ct_delivered(ct_state *ct, const queue *q, int64_t consumer_ms);
/* The client acked, nacked or rejected `tag` (multiple: every tag up to
 * it, 0 all), which the channel no longer holds: true when it is (or,
 * multiple, those are) a delivery requeued for being overdue, counted and
 * forgotten now; false when the tag was never delivered (the caller
 * refuses it as RabbitMQ does). */
bool ct_late_ack(ct_state *ct, uint64_t tag, bool multiple);
/* The channel goes: stop the timer, let go of what it remembers. */
void ct_release(ct_state *ct);

#endif
