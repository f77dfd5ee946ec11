/*
 * consumer.h - a consumer of a queue, and dispatch: which consumer gets the
 * queue's next message.
 *
 * A consumer belongs to an owner (an AMQP channel today) that it knows only
 * through a table of callbacks, consumer_ops, which the owner sets: so
 * dispatch neither calls into the protocol layer nor needs a connection,
 * and tests/unit/test_consumer.c drives it with fake ops.  See consumer.c.
 */
#ifndef WARREN_CONSUMER_H
#define WARREN_CONSUMER_H

#include <stdbool.h>
#include <stdint.h>

#include "amqp/wire.h"

typedef struct consumer consumer;
typedef struct queue queue;
typedef struct qentry qentry;

/* What dispatch asks of a consumer's owner; `owner` is consumer->owner. */
typedef struct consumer_ops {
    /* May the owner take one more delivery for c now?  Only what is the
     * owner's: its state, flow, output congestion, a limit shared by all
     * its consumers (the channel-wide prefetch).  c's own prefetch is
     * checked by dispatch before this is asked. */
    bool (*can_deliver)(void *owner, consumer *c);
    /* Deliver e, taken out of q (q->unacked counts it already); the owner
     * takes over e's message reference, and settles, requeues or keeps e. */
    void (*deliver)(void *owner, consumer *c, queue *q, qentry *e);
    /* q was deleted under c: the owner tells its client and forgets c (takes
     * it out of its list); consumer.c frees c after the call. */
    void (*gone)(void *owner, consumer *c);
} consumer_ops;

struct consumer {
    const consumer_ops *ops;
    void *owner;                /* the channel */
    queue *q;
    char *tag;
    uint8_t taglen;
    uint32_t id;                /* per owner, for its unacked bookkeeping */
    bool no_ack, exclusive;
    uint16_t prefetch;          /* 0: unlimited */
    uint32_t unacked;           /* deliveries waiting for their ack */
    int32_t priority;           /* x-priority: higher is served first */
    bool in_turns;              /* in its queue's turns ring */
    int64_t timeout;            /* basic.consume's x-consumer-timeout ms, -1 none (proto/consumer_timeout.c) */
    consumer *next;             /* the owner's consumers */
};

/* A consumer not yet on any queue; NULL out of memory.  The tag is copied. */
consumer *consumer_new(const consumer_ops *ops, void *owner, amqp_str tag, uint32_t id, bool no_ack,
                       bool exclusive, uint16_t prefetch, int32_t priority);
void consumer_free(consumer *c);
/* A server-named consumer tag: prefix and 22 random characters, into out
 * (room for strlen(prefix) + 23). */
void consumer_gen_tag(char *out, const char *prefix);

/* --- on a queue */

/* Would a consumer (exclusive or not) be refused by q's current ones?
 * (RabbitMQ's "in exclusive use".) */
bool consumer_excluded(const queue *q, bool exclusive);
/* Add c to q's consumers; -1 out of memory.  The caller marks q dirty. */
int consumer_attach(queue *q, consumer *c);
/* Take c off q; with x-single-active-consumer a new active one is chosen.
 * c is not freed. */
void consumer_detach(queue *q, consumer *c);
/* q is being deleted: each consumer's owner hears `gone`, and each is
 * freed. */
void consumer_detach_all(queue *q);
/* The consumer whose turn it is, or NULL when none can take a message:
 * round-robin among those of the highest priority that can; with
 * x-single-active-consumer, the active one or none. */
consumer *consumer_next(queue *q);
/* Deliver what can be delivered now, at most a budget per call (then q is
 * marked dirty again); called on the vhost's dirty list before sleep. */
void consumer_dispatch(queue *q);

/* --- in an owner's list (its `next` chain) */

consumer *consumer_by_id(consumer *list, uint32_t id);
consumer *consumer_by_tag(consumer *list, amqp_str tag);
/* basic.cancel, or the owner going: take c out of *list and off its queue,
 * free it; an auto-delete queue left with no consumer is deleted. */
void consumer_cancel(consumer **list, consumer *c);
/* Take c out of *list (the owner's side of `gone`). */
void consumer_unlink(consumer **list, consumer *c);
/* A global=false basic.qos: every consumer of the list gets the new limit
 * (see basic_qos in channel.c for why the existing ones too). */
void consumer_set_prefetch(consumer *list, uint16_t prefetch);
/* Something the owner held back on changed (an ack under a channel-wide
 * limit, a qos, a drained socket): every consumer's queue tries again. */
void consumer_wake_all(consumer *list);

/* The owner's bookkeeping of c's unacked deliveries, which its prefetch
 * counts: one more kept for an ack; one settled (acked, rejected,
 * requeued), so c's queue may deliver again. */
static inline void consumer_took(consumer *c) { c->unacked++; }
void consumer_settled(consumer *c);

#endif
