/*
 * publish.c - a message into the queues it is routed to: the one way in
 * for basic.publish, tx.commit and dead-lettering (and for a front end
 * without a channel, such as an HTTP publish).
 *
 * Two steps, so that a caller may hold or filter the set between them:
 *
 *   vhost_route()           exchange, routing key, CC and BCC keys -> a
 *                           route_set, each queue once (exchange.c follows
 *                           exchange-to-exchange bindings and alternate
 *                           exchanges)
 *   vhost_publish_routed()  route_set -> queues: the BCC header taken off,
 *                           the message stored once for all its durable
 *                           queues when persistent, then appended to each;
 *                           the result tells how many it was routed to,
 *                           how many took it, and where it was stored
 *   route_set_done()        frees what the set allocated
 *
 * What belongs to a protocol stays with its caller, driven by the result:
 * a mandatory message routed nowhere comes back (basic.return), a confirm
 * waits for the store position or is a nack when a queue refused it
 * (channel.c).  Between the steps, tx.select holds the set until tx.commit
 * (channel.c) and dead-lettering drops the queues that would close a
 * fully automatic cycle (deadletter.c).  Direct reply-to delivers to a
 * channel, not a queue, so the channel routes it beside vhost_route
 * (reply_to.c).
 *
 * Each message takes the vhost's next publish sequence number, routed or
 * not: queues are ordered by it, and a requeued message finds its place
 * by it.
 */
#include "exchange.h"
#include "queue.h"
#include "vhost.h"

#include <stdlib.h>

#include "store/store.h"

exchange *vhost_route(vhost *vh, const msg *m, bool with_cc, route_set *rs)
{
    exchange *x = vhost_exchange(vh, (amqp_str){msg_exchange(m), m->exlen});
    amqp_str rk = {msg_rk(m), m->rklen};

    route_set_init(rs);
    if (!x)
        return NULL;
    if (with_cc)
        exchange_route_cc(x, rk, m, rs);
    else
        exchange_route(x, rk, m, rs);
    return x;
}

/* Hand m (its BCC header gone) to the queues of rs. */
static int deliver(vhost *vh, msg *m, const route_set *rs, deliver_result *res)
{
    store *st = vh->st;
    uint32_t qids_one[8], *qids = qids_one;
    uint32_t i, nq = 0;
    uint64_t seq = vh->next_seq++;
    store_pos pos = {0};

    if ((m->flags & MSG_PERSISTENT) && st && rs->n) {
        if (rs->n > 8 && !(qids = malloc(rs->n * sizeof *qids)))
            return -1;
        for (i = 0; i < rs->n; i++)
            if (rs->q[i]->durable)
                qids[nq++] = rs->q[i]->id;
        if (nq && store_put(st, m, seq, qids, nq, &pos) < 0) {
            if (qids != qids_one)
                free(qids);
            return -1;
        }
        res->stored = nq > 0;
        res->lsn = pos.lsn;
        if (qids != qids_one)
            free(qids);
    }
    for (i = 0; i < rs->n; i++) {
        queue *q = rs->q[i];
        int rc = queue_publish(q, msg_ref(m), seq, res->stored && q->durable ? &pos : NULL);
        if (rc == QUEUE_OK)
            res->queues++;
        else
            res->refused++;
    }
    return (int)res->queues;
}

int vhost_publish_routed(vhost *vh, msg *m, const route_set *rs, deliver_result *res)
{
    msg *clean;
    int rc;

    *res = (deliver_result){.routed = rs->n};
    if (rs->incomplete)
        return -1; /* out of memory while routing: refused, never half-taken */
    if (!rs->n || m->props_len < 2 || !(amqp_get16(msg_props(m)) & AMQP_BASIC_HEADERS_FLAG))
        return deliver(vh, m, rs, res);
    /* BCC keys route, but the header itself goes nowhere */
    if (!(clean = msg_without_header(m, "BCC")))
        return -1;
    rc = deliver(vh, clean, rs, res);
    msg_unref(clean);
    return rc;
}
