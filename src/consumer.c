/*
 * consumer.c - consumers and dispatch: which consumer of a queue gets its
 * next ready message.
 *
 * A queue keeps its consumers in an array in the order they came
 * (q->cons); a channel keeps its own in a list (consumer->next).  A
 * consumer knows its channel only as an opaque owner with a table of
 * callbacks (consumer_ops, consumer.h): whether the owner can take a
 * delivery now, the delivery itself, and the news that the queue went.  So
 * nothing here, nor in queue.c, calls up into the protocol layer, and
 * dispatch is unit-tested with fake owners (tests/unit/test_consumer.c).
 *
 * Dispatch is deferred: anything that might let a consumer take a message
 * (a publish, an ack, a new consumer, a qos change, a drained socket) marks
 * the queue dirty, and the vhost runs dirty queues before the loop sleeps,
 * so one turn's worth of publishes goes out as one batch of deliveries, at
 * most DISPATCH_BUDGET per queue per turn.
 *
 * Whose turn: round-robin among the consumers of the highest x-priority
 * that can take a message now: under their own prefetch (here) and allowed
 * by their owner (can_deliver: channel state, flow, output congestion, the
 * channel-wide prefetch).  When all of a queue's consumers have one
 * priority (the usual case), whose turn it is costs O(1) however many
 * there are: the queue keeps a ring of the consumers that may take
 * (q->turns); the one at its front that can take gets the message and goes
 * to the back, one that cannot leaves it, and comes back at the end when
 * something may let it take again (an ack of its, consumer_settled; its
 * owner's wake, consumer_wake_all: a qos, a channel-wide ack, a drained
 * socket).  With 10,000 consumers a walk of them all per message cost 14 us
 * (doc/benchmarks.md).  Mixed priorities walk q->cons from q->rr.  With x-single-active-consumer
 * only cons[0] is served; when it goes, the oldest of the highest priority
 * takes over, as RabbitMQ's rabbit_queue_consumers:get_consumer picks it.
 */
#include "consumer.h"

#include <stdlib.h>
#include <string.h>

#include "queue.h"
#include "util.h"
#include "vhost.h"

#define DISPATCH_BUDGET 2048   /* deliveries per queue per turn, for fairness */

consumer *consumer_new(const consumer_ops *ops, void *owner, amqp_str tag, uint32_t id, bool no_ack,
                       bool exclusive, uint16_t prefetch, int32_t priority)
{
    consumer *c = calloc(1, sizeof *c);
    if (!c || !(c->tag = malloc(tag.len ? tag.len : 1))) {
        free(c);
        return NULL;
    }
    memcpy(c->tag, tag.ptr, tag.len);
    c->taglen = (uint8_t)tag.len;
    c->ops = ops;
    c->owner = owner;
    c->id = id;
    c->no_ack = no_ack;
    c->exclusive = exclusive;
    c->prefetch = prefetch;
    c->priority = priority;
    c->timeout = -1;
    return c;
}

void consumer_free(consumer *c)
{
    free(c->tag);
    free(c);
}

void consumer_gen_tag(char *out, const char *prefix)
{
    size_t n = strlen(prefix);
    memcpy(out, prefix, n);
    random_name(out + n, 22);
    out[n + 22] = 0;
}

/* ------------------------------------------------------------- on a queue */

bool consumer_excluded(const queue *q, bool exclusive)
{
    uint32_t i;
    for (i = 0; i < q->ncons; i++)
        if (q->cons[i]->exclusive || exclusive)
            return true;
    return false;
}

/* ------------------------------------------------------------ the turns */

/* c may take again: to the back of the turns, unless it is in them.  Out
 * of memory the queue falls back to the walk, which needs no ring. */
static void turn_add(queue *q, consumer *c)
{
    consumer_ref r = c;
    if (c->in_turns)
        return;
    if (consumer_ring_push(&q->turns, &r) < 0) {
        q->cons_mixed = true;
        return;
    }
    c->in_turns = true;
}

static void turn_remove(queue *q, consumer *c)
{
    size_t n = q->turns.len, i;
    consumer_ref r = NULL;
    if (!c->in_turns)
        return;
    for (i = 0; i < n; i++) {
        consumer_ring_pop(&q->turns, &r);
        if (r != c)
            consumer_ring_push(&q->turns, &r); /* room: one was just taken */
    }
    c->in_turns = false;
}

/* Every consumer in the turns again, in the order they came (after the
 * last consumer of another priority went). */
static void turns_rebuild(queue *q)
{
    uint32_t i;
    consumer_ref r;
    while (consumer_ring_pop(&q->turns, &r))
        r->in_turns = false;
    q->cons_mixed = false;
    for (i = 0; i < q->ncons; i++)
        turn_add(q, q->cons[i]);
}

int consumer_attach(queue *q, consumer *c)
{
    if (q->ncons == q->capcons) {
        uint32_t cap = q->capcons ? q->capcons * 2 : 4;
        consumer **v = realloc(q->cons, cap * sizeof *v);
        if (!v)
            return -1;
        q->cons = v;
        q->capcons = cap;
    }
    q->cons[q->ncons++] = c;
    c->q = q;
    if (c->priority != q->cons[0]->priority)
        q->cons_mixed = true;
    turn_add(q, c);
    q->had_consumer = true;
    if (q->rare)
        ev_timer_stop(q->vh->loop, &q->rare->unused_timer);
    return 0;
}

/* x-single-active-consumer: the active one went, so the one of the
 * highest priority (the oldest of those) takes over; it is moved to
 * cons[0]. */
static void promote_single_active(queue *q)
{
    uint32_t i, best = 0;
    consumer *c;
    for (i = 1; i < q->ncons; i++)
        if (q->cons[i]->priority > q->cons[best]->priority)
            best = i;
    c = q->cons[best];
    memmove(q->cons + 1, q->cons, best * sizeof *q->cons);
    q->cons[0] = c;
}

void consumer_detach(queue *q, consumer *c)
{
    uint32_t i;
    turn_remove(q, c);
    for (i = 0; i < q->ncons; i++) {
        if (q->cons[i] == c) {
            memmove(q->cons + i, q->cons + i + 1, (q->ncons - i - 1) * sizeof *q->cons);
            q->ncons--;
            if (q->rr > i)
                q->rr--;
            if (i == 0 && q->set.single_active && q->ncons)
                promote_single_active(q);
            break;
        }
    }
    if (q->rr >= q->ncons)
        q->rr = 0;
    if (q->cons_mixed) {
        for (i = 1; i < q->ncons && q->cons[i]->priority == q->cons[0]->priority; i++)
            ;
        if (i >= q->ncons)
            turns_rebuild(q);
    }
    /* No dispatch now, as in RabbitMQ: a new single active consumer gets
     * its first message at the next event that can deliver (a publish, a
     * requeue), so when the old one's channel closes right after its
     * basic.cancel, the messages it held come back first and go first. */
    if (q->ncons == 0)
        queue_touch(q);
}

void consumer_detach_all(queue *q)
{
    consumer_ref r;
    while (consumer_ring_pop(&q->turns, &r))
        r->in_turns = false;
    while (q->ncons > 0) {
        consumer *c = q->cons[--q->ncons];
        c->ops->gone(c->owner, c);
        consumer_free(c);
    }
}

/* Can c take one more message now?  Its own prefetch first (a no-ack
 * consumer has none), then its owner's say. */
static bool can_take(consumer *c)
{
    if (!c->no_ack && c->prefetch && c->unacked >= c->prefetch)
        return false;
    return c->ops->can_deliver(c->owner, c);
}

consumer *consumer_next(queue *q)
{
    consumer *best = NULL;
    uint32_t i, bestk = 0;

    if (q->ncons == 0)
        return NULL;
    if (q->set.single_active)
        return can_take(q->cons[0]) ? q->cons[0] : NULL;
    if (!q->cons_mixed) {
        consumer_ref c;
        while (consumer_ring_pop(&q->turns, &c)) {
            c->in_turns = false;
            if (can_take(c)) {
                turn_add(q, c); /* its next turn is after every other's */
                return c;
            }
        }
        return NULL;
    }
    for (i = 0; i < q->ncons; i++) {
        uint32_t k = (q->rr + i) % q->ncons;
        consumer *c = q->cons[k];
        if ((!best || c->priority > best->priority) && can_take(c)) {
            best = c;
            bestk = k;
        }
    }
    if (best)
        q->rr = (bestk + 1) % q->ncons;
    return best;
}

void consumer_dispatch(queue *q)
{
    int budget = DISPATCH_BUDGET;
    qentry e;

    while (q->nready > 0 && q->ncons > 0 && !q->deleted) {
        consumer *c;
        if (budget-- == 0) {
            queue_mark_dirty(q);
            return;
        }
        if (!(c = consumer_next(q)))
            return;
        if (!queue_take(q, &e))
            return;
        q->unacked++;
        c->ops->deliver(c->owner, c, q, &e);
    }
}

/* ------------------------------------------------------ in an owner's list */

consumer *consumer_by_id(consumer *list, uint32_t id)
{
    consumer *c;
    for (c = list; c; c = c->next)
        if (c->id == id)
            return c;
    return NULL;
}

consumer *consumer_by_tag(consumer *list, amqp_str tag)
{
    consumer *c;
    for (c = list; c; c = c->next)
        if (c->taglen == tag.len && memcmp(c->tag, tag.ptr, tag.len) == 0)
            return c;
    return NULL;
}

void consumer_unlink(consumer **list, consumer *c)
{
    consumer **pp;
    for (pp = list; *pp; pp = &(*pp)->next) {
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    }
}

void consumer_cancel(consumer **list, consumer *c)
{
    queue *q = c->q;
    consumer_unlink(list, c);
    consumer_detach(q, c);
    consumer_free(c);
    if (q->auto_delete && q->ncons == 0 && q->had_consumer && !q->deleted)
        queue_delete(q);
}

void consumer_set_prefetch(consumer *list, uint16_t prefetch)
{
    consumer *c;
    for (c = list; c; c = c->next)
        c->prefetch = prefetch;
}

void consumer_wake_all(consumer *list)
{
    consumer *c;
    for (c = list; c; c = c->next) {
        turn_add(c->q, c);
        queue_mark_dirty(c->q);
    }
}

void consumer_settled(consumer *c)
{
    c->unacked--;
    if (c->q)
        turn_add(c->q, c);
    queue_mark_dirty(c->q);
}
