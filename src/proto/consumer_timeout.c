/*
 * proto/consumer_timeout.c - a delivery left unacked too long is taken
 * back, alone (x-consumer-timeout, --consumer-timeout).
 *
 * RabbitMQ's consumer_timeout closes the whole channel (406 "delivery
 * acknowledgement on channel N timed out"): every other delivery on it is
 * requeued, its consumers are gone, and the worker must reconnect.  Here
 * only the overdue delivery goes: it is requeued as a nack with requeue
 * would (its delivery count raised, so x-delivery-limit ends a message
 * that hangs every worker), the consumer's prefetch slot frees, and the
 * channel and its consumers stay.  The worker may still ack it when it
 * wakes: that ack names a tag the channel no longer holds, and instead of
 * RabbitMQ's 406 "unknown delivery tag" it is ignored and counted on the
 * queue (late_acks; consumer_timeouts counts the requeues).  So the
 * message may be handled twice; that is the price of at-least-once with a
 * timeout, as with RabbitMQ's (whose channel close requeues it too).
 *
 * The timeout of a delivery is its consumer's x-consumer-timeout (a
 * basic.consume argument, as RabbitMQ 3.12 reads it), else its queue's
 * x-consumer-timeout (ms; 0 none), else the broker's --consumer-timeout (0, off, by default:
 * the tutorial's "no timeout while processing" stands).  Deliveries by
 * basic.get that need an ack count too, as in RabbitMQ; one acked inside
 * an open transaction does not.
 *
 * One timer per channel, armed for its earliest deadline; when it fires
 * it walks the unacked ring (deliveries are in tag order, but deadlines
 * differ by queue), requeues what is overdue, and arms for the next.  The
 * tags requeued are remembered (at most CT_LATE_MAX a channel, the oldest
 * forgotten first: an ack of a forgotten one is refused as unknown).
 */
#include "proto/consumer_timeout.h"

#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "consumer.h"
#include "log.h"
#include "proto/channel.h"
#include "proto/conn.h"
#include "queue.h"

#define CT_LATE_MAX 4096

/* The timeout of a delivery from q to a consumer whose own is consumer_ms
 * (-1 none), ms; 0 none. */
static uint64_t timeout_of(const channel *ch, const queue *q, int64_t consumer_ms)
{
    if (consumer_ms >= 0)
        return (uint64_t)consumer_ms;
    return q->set.consumer_timeout >= 0 ? (uint64_t)q->set.consumer_timeout : ch->c->b->cfg.consumer_timeout;
}

/* The timeout of an unacked delivery: its consumer's (while it exists; a
 * cancelled consumer's deliveries fall back to their queue's). */
static uint64_t slot_timeout(const channel *ch, const unacked *u)
{
    consumer *c = u->consumer_id ? consumer_by_id(ch->consumers, u->consumer_id) : NULL;
    return timeout_of(ch, u->q, c ? c->timeout : -1);
}

static void forget(ct_state *ct, size_t i)
{
    queue_unref(ct->late[i].q);
    memmove(&ct->late[i], &ct->late[i + 1], (ct->nlate - i - 1) * sizeof *ct->late);
    ct->nlate--;
}

static void remember(ct_state *ct, uint64_t tag, queue *q)
{
    size_t i;

    if (ct->nlate == CT_LATE_MAX)
        forget(ct, 0);
    if (ct->nlate == ct->caplate) {
        size_t cap = ct->caplate ? 2 * ct->caplate : 16;
        ct_late *more = realloc(ct->late, cap * sizeof *more);
        if (!more)
            return; /* its late ack will be refused as unknown: no worse than RabbitMQ */
        ct->late = more;
        ct->caplate = cap;
    }
    /* kept sorted by tag (timeouts differ by queue, so they do not come
     * in tag order) */
    for (i = ct->nlate; i > 0 && ct->late[i - 1].tag > tag; i--)
        ;
    memmove(&ct->late[i + 1], &ct->late[i], (ct->nlate - i) * sizeof *ct->late);
    ct->late[i] = (ct_late){tag, q};
    q->refs++;
    ct->nlate++;
}

static void on_timer(ev_loop *loop, ev_timer *t)
{
    ct_state *ct = (ct_state *)((char *)t - offsetof(ct_state, timer));
    channel *ch = ct->ch;
    uint32_t now = (uint32_t)ev_now(loop);
    uint64_t next = UINT64_MAX;
    size_t i;

    for (i = 0; i < ch->ua.len; i++) {
        unacked *u = unacked_ring_at(&ch->ua, i);
        uint64_t limit, held;
        if (u->e.flags & (QE_ACKED | QE_TXACK))
            continue;
        if (!(limit = slot_timeout(ch, u)))
            continue;
        held = (uint32_t)(now - u->at);
        if (held < limit) {
            if (limit - held < next)
                next = limit - held;
            continue;
        }
        log_info("channel %u of %s: delivery %llu from queue '%s' unacked for %llu ms (timeout %llu ms): "
                 "requeued, the channel stays",
                 ch->id, ch->c->peer, (unsigned long long)(ch->ua_first_tag + i), u->q->name,
                 (unsigned long long)held, (unsigned long long)limit);
        if (queue_rare_of(u->q)) /* out of memory: not counted */
            u->q->rare->consumer_timeouts++;
        remember(ct, ch->ua_first_tag + i, u->q);
        channel_requeue_unacked(ch, u);
    }
    channel_trim_unacked(ch);
    if (next != UINT64_MAX)
        ev_timer_start(loop, &ct->timer, next);
}

void ct_init(ct_state *ct, channel *ch)
{
    memset(ct, 0, sizeof *ct);
    ct->ch = ch;
    ev_timer_init(&ct->timer, on_timer);
}

void ct_delivered(ct_state *ct, const queue *q, int64_t consumer_ms)
{
    ev_loop *loop = ct->ch->c->b->loop;
    uint64_t limit = timeout_of(ct->ch, q, consumer_ms);

    if (!limit)
        return;
    if (!ev_timer_active(&ct->timer) || ct->timer.when > ev_now(loop) + limit)
        ev_timer_start(loop, &ct->timer, limit);
}

bool ct_late_ack(ct_state *ct, uint64_t tag, bool multiple)
{
    bool found = false;
    size_t i = 0;

    while (i < ct->nlate) {
        ct_late *l = &ct->late[i];
        if (l->tag == tag || (multiple && (tag == 0 || l->tag < tag))) {
            if (l->tag == tag)
                found = true;
            if (queue_rare_of(l->q))
                l->q->rare->late_acks++;
            log_info("channel %u of %s: late ack of delivery %llu (requeued for its consumer timeout): ignored",
                     ct->ch->id, ct->ch->c->peer, (unsigned long long)l->tag);
            forget(ct, i);
            continue;
        }
        if (l->tag > tag && tag != 0)
            break;
        i++;
    }
    return found;
}

void ct_release(ct_state *ct)
{
    if (ct->ch)
        ev_timer_stop(ct->ch->c->b->loop, &ct->timer);
    while (ct->nlate)
        forget(ct, ct->nlate - 1);
    free(ct->late);
    ct->late = NULL;
    ct->caplate = 0;
}
