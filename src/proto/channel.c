/*
 * proto/channel.c - an AMQP channel: publish assembly, consumers, qos, delivery
 * tags and the unacked ring, acks/nacks/rejects, publisher confirms.
 *
 * The channel owns its consumers (consumer.h) through consumer_ops: dispatch
 * in consumer.c asks can_deliver (channel state, flow, output congestion,
 * the channel-wide prefetch; each consumer's own prefetch is consumer.c's),
 * calls deliver (basic.deliver, the unacked ring), and gone when a queue is
 * deleted under a consumer.  basic.consume/cancel/qos decode and call
 * consumer.c; the channel keeps only the list head and the qos settings.
 *
 * The unacked ring holds one slot per delivery tag (tag = ua_first_tag +
 * index), so an ack finds its message in O(1); acked slots become
 * tombstones and are trimmed from the head.  When a channel goes, its
 * unacked messages are requeued in delivery order and each lands back at
 * its original place in its queue (queues are ordered by publish seq).
 *
 * A whole message is routed and handed to its queues by publish.c (as
 * tx.commit's held messages are); what is AMQP's stays here, driven by
 * what publish.c answers: basic.return for a mandatory message routed
 * nowhere, the confirm (a nack when a queue refused it), and direct
 * reply-to, which goes to a channel, not a queue (reply_to.c).
 *
 * Declarations (exchange.*, queue.*) are in declare.c; this file routes
 * to them.  They, and basic.get's taking of a message, are the
 * domain API's (vhost.h), which every front end calls.
 */
#include "proto/channel.h"

#include "broker.h"
#include "proto/conn.h"
#include "util.h"
#include "vhost.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consumer.h"
#include "log.h"
#include "store/store.h"

enum { PUB_NONE, PUB_HEADER, PUB_BODY };

channel *channel_new(conn *c, uint16_t id)
{
    channel *ch = calloc(1, sizeof *ch);
    if (!ch)
        return NULL;
    ch->c = c;
    ch->id = id;
    ch->write_ok_len = -1;
    ch->state = CH_OPEN;
    ch->flow_active = true;
    ch->next_tag = 1;
    ch->ua_first_tag = 1;
    ch->next_consumer_id = 1;
    ct_init(&ch->ct, ch);
    return ch;
}

/* ------------------------------------------------------------ unacked ring */

/* Drop settled slots from the head. */
static void ua_trim(channel *ch)
{
    while (ch->ua.len > 0 && (unacked_ring_at(&ch->ua, 0)->e.flags & QE_ACKED)) {
        unacked_ring_drop_front(&ch->ua, 1);
        ch->ua_first_tag++;
    }
    if (ch->ua.len == 0) {
        ch->ua_first_tag = ch->next_tag;
        if (ch->ua.cap > 1024)
            unacked_ring_free(&ch->ua);
    }
}

bool channel_oldest_unacked(channel *ch, const queue *q, uint32_t *at)
{
    size_t i;
    for (i = 0; i < ch->ua.len; i++) {
        const unacked *u = unacked_ring_at(&ch->ua, i);
        if (u->q == q && !(u->e.flags & QE_ACKED)) {
            *at = u->at;
            return true;
        }
    }
    return false;
}

/* Bookkeeping when an unacked message leaves the channel. */
static void ua_done(channel *ch, unacked *u)
{
    consumer *cons = u->consumer_id ? consumer_by_id(ch->consumers, u->consumer_id) : NULL;
    u->e.flags |= QE_ACKED;
    ch->unacked_count--;
    /* rabbit_limiter:ack: only while limited, only consumer deliveries,
     * and a volume of 0 stays 0 */
    if (ch->global_prefetch && u->consumer_id && ch->global_volume != 0)
        ch->global_volume--;
    if (cons)
        consumer_settled(cons);
    if (ch->global_prefetch)
        consumer_wake_all(ch->consumers);
}

/* Both take the entry out of its slot first: the slot stays behind as a
 * tombstone, the entry goes on to its queue. */
static void settle(channel *ch, unacked *u)
{
    queue *q = u->q;
    qentry e = u->e;
    q->ctr.ack++;
    ch->ctr.ack++;
    ua_done(ch, u);
    queue_settle(q, &e);
    queue_unref(q);
}

static void reject(channel *ch, unacked *u)
{
    queue *q = u->q;
    qentry e = u->e;
    ua_done(ch, u);
    queue_reject(q, &e);
    queue_unref(q);
}

static void requeue(channel *ch, unacked *u)
{
    queue *q = u->q;
    qentry e = u->e;
    ua_done(ch, u);
    queue_requeue(q, &e);
    queue_unref(q);
}

/* Requeue every unacked message, in delivery order.  Each one goes back to
 * its own place by seq, so walking from the newest keeps insertions at the
 * queue heads O(1). */
static void requeue_all(channel *ch)
{
    size_t i;
    for (i = ch->ua.len; i-- > 0;) {
        unacked *u = unacked_ring_at(&ch->ua, i);
        if (!(u->e.flags & QE_ACKED))
            requeue(ch, u);
    }
    ua_trim(ch);
}

void channel_requeue_unacked(channel *ch, unacked *u)
{
    requeue(ch, u);
}

void channel_trim_unacked(channel *ch)
{
    ua_trim(ch);
}

static void tx_forget(channel *ch);

void channel_release(channel *ch)
{
    ct_release(&ch->ct);
    reply_to_cancel(ch);
    while (ch->consumers)
        consumer_cancel(&ch->consumers, ch->consumers);
    requeue_all(ch);
    unacked_ring_free(&ch->ua);
    if (ch->pub_msg) {
        msg_unref(ch->pub_msg);
        ch->pub_msg = NULL;
    }
    ch->pub_state = PUB_NONE;
    confirm_ring_free(&ch->pc);
    tx_forget(ch);
    free(ch->txp);
    free(ch->txa);
    ch->txp = NULL;
    ch->txa = NULL;
    ch->captxp = ch->captxa = 0;
    ch->commit_wait = false;
}

void channel_free(channel *ch)
{
    channel_release(ch);
    free(ch);
}

/* ---------------------------------------------------------------- delivery */

/*
 * The channel's side of its consumers (consumer_ops, consumer.h): dispatch
 * in consumer.c checks each consumer's own prefetch and asks the channel
 * for the rest (can_deliver), hands it the message (deliver), and tells it
 * when a queue is deleted under a consumer (gone).
 */

/* consumer_ops.can_deliver: what holds back all of the channel's
 * consumers, whatever their own prefetch. */
static bool can_deliver(void *owner, consumer *cons)
{
    channel *ch = owner;
    (void)cons;
    if (ch->state != CH_OPEN || !ch->flow_active || conn_congested(ch->c))
        return false;
    /* as RabbitMQ's limiter: a full channel-wide limit holds back no-ack
     * consumers too, though their deliveries do not count against it */
    if (ch->global_prefetch && ch->global_volume >= ch->global_prefetch)
        return false;
    return true;
}

/* consumer_ops.gone: the queue was deleted; tell the client if it asked to
 * hear of it.  consumer.c frees cons afterwards. */
static void gone(void *owner, consumer *cons)
{
    channel *ch = owner;
    if ((ch->c->cap_flags & CAP_CONSUMER_CANCEL_NOTIFY) && ch->state == CH_OPEN) {
        amqp_basic_cancel m = {.consumer_tag = {cons->tag, cons->taglen}, .nowait = true};
        conn_send_method(ch->c, ch->id, AMQP_BASIC_CANCEL, &m);
    }
    consumer_unlink(&ch->consumers, cons);
}

/* The store could not read e's body back, and may later (EIO, EMFILE, out
 * of memory: queue_entry_msg said STORE_READ_AGAIN): the message goes back
 * to its place in the queue, nothing lost, and the channel is closed with
 * 541 INTERNAL_ERROR, so the client hears of it and its consumers (or its
 * basic.get loop) do not spin on it.  A consumer's delivery and a
 * basic.get end here alike. */
static void read_failed(channel *ch, queue *q, qentry *e)
{
    amqp_channel_close m = {
        .reply_code = AMQP_INTERNAL_ERROR,
        .reply_text = amqp_cstr("INTERNAL_ERROR - cannot read a message from the store; it stays queued"),
    };

    log_error("queue '%s': cannot read message %llu from the store; it stays queued, and channel %u of %s is "
              "closed", q->name, (unsigned long long)e->seq, ch->id, ch->c->peer);
    queue_unget(q, e);
    conn_send_method(ch->c, ch->id, AMQP_CHANNEL_CLOSE, &m);
    /* No more deliveries to it; its consumers and unacked messages are let
     * go at close-ok (channel_free), not here: this may run inside a
     * queue's dispatch, or a publish, that must not see consumers (or an
     * auto-delete queue) vanish under it. */
    ch->state = CH_CLOSING;
}

/* consumer_ops.deliver: send basic.deliver for e (taking over its message
 * reference) and keep it in the unacked ring. */
static void deliver(void *owner, consumer *cons, queue *q, qentry *e)
{
    channel *ch = owner;
    uint64_t tag;
    msg *m = NULL;
    amqp_basic_deliver d;
    int why = queue_entry_msg(q, e, &m, "delivered");

    if (why == STORE_READ_AGAIN) {
        read_failed(ch, q, e);
        return;
    }
    if (why != STORE_READ_OK) {
        /* damaged: moved aside, and it leaves the queue */
        queue_settle(q, e);
        return;
    }
    m = queue_delivered_msg(q, e, m);
    tag = ch->next_tag++;
    d.consumer_tag = (amqp_str){cons->tag, cons->taglen};
    d.delivery_tag = tag;
    d.redelivered = (e->flags & QE_REDELIVERED) != 0;
    d.exchange = (amqp_str){msg_exchange(m), m->exlen};
    d.routing_key = (amqp_str){msg_rk(m), m->rklen};
    conn_send_content(ch->c, ch->id, AMQP_BASIC_DELIVER, &d, m);
    msg_unref(m);
    ch->ctr.deliver++;
    ch->ctr.redeliver += d.redelivered;
    if (cons->no_ack) {
        q->ctr.deliver_no_ack++;
        queue_settle(q, e);
        if (ch->ua.len == 0)
            ch->ua_first_tag = ch->next_tag;
        else {
            unacked u = {.e = *e, .q = q};
            u.e.flags |= QE_ACKED;
            u.e.m = NULL;
            if (unacked_ring_push(&ch->ua, &u) < 0)
                conn_kill(ch->c, "out of memory");
        }
        return;
    }
    {
        unacked u = {.e = *e, .q = q, .consumer_id = cons->id, .at = (uint32_t)ev_now(ch->c->b->loop)};
        if (unacked_ring_push(&ch->ua, &u) < 0) {
            queue_requeue(q, e);
            conn_kill(ch->c, "out of memory");
            return;
        }
        q->refs++;
        consumer_took(cons);
        ch->unacked_count++;
        if (ch->global_prefetch)
            ch->global_volume++;
        if (e->flags & QE_STORED)
            store_delivered(ch->c->b->st, q->id, e->seg, e->off, e->returns);
        ct_delivered(&ch->ct, q, cons->timeout);
    }
}

void channel_deliver_reply(channel *ch, const msg *m)
{
    amqp_basic_deliver d = {
        .consumer_tag = {ch->reply->tag, ch->reply->taglen},
        .delivery_tag = ch->next_tag++,
        .exchange = {msg_exchange(m), m->exlen},
        .routing_key = {msg_rk(m), m->rklen},
    };

    conn_send_content(ch->c, ch->id, AMQP_BASIC_DELIVER, &d, m);
    /* its tag is settled at once, as a no-ack delivery's */
    if (ch->ua.len == 0) {
        ch->ua_first_tag = ch->next_tag;
    } else {
        unacked u = {.e = {.flags = QE_ACKED}};
        if (unacked_ring_push(&ch->ua, &u) < 0)
            conn_kill(ch->c, "out of memory");
    }
}

/* --------------------------------------------------------------- publish */

static int publish_start(channel *ch, const amqp_basic_publish *m, amqp_error *err)
{
    exchange *x;

    if (m->immediate)
        return amqp_fail(err, AMQP_NOT_IMPLEMENTED, "immediate=true");
    /* write on the exchange, before looking it up (as RabbitMQ) */
    if (ch->write_ok_len != (int)m->exchange.len || ch->write_ok_gen != ch->c->b->auth.gen ||
        memcmp(ch->write_ok, m->exchange.ptr, m->exchange.len)) {
        if (channel_permitted(ch, AUTH_EXCHANGE, m->exchange, AUTH_WRITE, err) < 0)
            return -1;
        memcpy(ch->write_ok, m->exchange.ptr, m->exchange.len);
        ch->write_ok_len = (int)m->exchange.len;
        ch->write_ok_gen = ch->c->b->auth.gen;
    }
    x = vhost_exchange(ch->c->vh, m->exchange);
    if (!x)
        return amqp_fail(err, AMQP_NOT_FOUND, "no exchange '%.*s' in vhost '%s'", (int)m->exchange.len,
                         m->exchange.ptr, ch->c->vh->name);
    if (x->internal)
        return amqp_fail(err, AMQP_ACCESS_REFUSED, "cannot publish to internal exchange '%.*s' in vhost '%s'",
                         (int)m->exchange.len, m->exchange.ptr, ch->c->vh->name);
    ch->pub_mandatory = m->mandatory;
    ch->pub_exlen = (uint8_t)m->exchange.len;
    memcpy(ch->pub_exchange, m->exchange.ptr, m->exchange.len);
    ch->pub_rklen = (uint8_t)m->routing_key.len;
    memcpy(ch->pub_rk, m->routing_key.ptr, m->routing_key.len);
    ch->pub_state = PUB_HEADER;
    alarm_note_publish(&ch->c->b->alarms);
    if (ch->confirm)
        ch->pub_count++;
    return 0;
}

/* A publish of a confirm channel waits for its confirm: one that needs
 * nothing more (lsn 0, not failed) goes at the end of the turn, the
 * others when the store has synced (or failed) it.  Out of memory, a
 * publish that needs nothing more is only missing from the confirm
 * latency (confirm_upto covers it); the others must be kept. */
static int pc_push(channel *ch, uint64_t seq, uint64_t lsn, bool failed, uint64_t at_us)
{
    pending_confirm p = {.seq = seq, .lsn = lsn, .at_us = at_us, .failed = failed};
    if (confirm_ring_push(&ch->pc, &p) < 0)
        return -1;
    if (lsn || failed)
        conn_wait_sync(ch->c);
    return 0;
}

static void send_return(channel *ch, msg *m, int code, const char *text)
{
    amqp_basic_return r = {
        .reply_code = (uint16_t)code,
        .reply_text = amqp_cstr(text),
        .exchange = {msg_exchange(m), m->exlen},
        .routing_key = {msg_rk(m), m->rklen},
    };
    conn_send_content(ch->c, ch->id, AMQP_BASIC_RETURN, &r, m);
}

/* Route m by the exchange and keys it names into rs (set up here;
 * route_set_done it afterwards).  A reply to amq.rabbitmq.reply-to.<token>
 * goes to its channel at once: it is no queue's. */
static void route(channel *ch, msg *m, route_set *rs)
{
    vhost *vh = ch->c->vh;
    exchange *x = vhost_route(vh, m, true, rs);
    if (x) {
        x->ctr.publish_in++;
        x->ctr.publish_out += rs->n != 0;
        vh->stats.received++;
        vh->stats.received_confirm += ch->confirm;
        vh->stats.routed += rs->n != 0;
        vh->stats.unroutable += rs->n == 0;
    }
    if (m->exlen == 0)
        reply_to_route(ch->c->vh, m);
}

/* Hand m to the queues of rs (publish.c); a mandatory message routed to
 * none comes back.  -1 when it could not be stored. */
static int publish_routed(channel *ch, msg *m, const route_set *rs, bool mandatory, deliver_result *res)
{
    if (vhost_publish_routed(ch->c->vh, m, rs, res) < 0)
        return -1;
    if (res->routed == 0 && mandatory) {
        /* back without its BCC header, which RabbitMQ strips before
         * routing (m itself, with a new reference, when it has none) */
        msg *clean = msg_without_header(m, "BCC");
        send_return(ch, clean ? clean : m, AMQP_NO_ROUTE, "NO_ROUTE");
        if (clean)
            msg_unref(clean);
        ch->ctr.return_unroutable++;
        ch->c->vh->stats.returned++;
    }
    return 0;
}

static int tx_publish(channel *ch, msg *m);

static int publish_finish(channel *ch, amqp_error *err)
{
    msg *m = ch->pub_msg;
    route_set rs;
    deliver_result res;
    bool failed;
    int rc = 0;

    /* when the loop woke up to read it: no clock read per publish */
    uint64_t at_us = ev_now_us(ch->c->b->loop);

    ch->pub_msg = NULL;
    ch->pub_state = PUB_NONE;
    ch->ctr.publish++;
    /* its TTL counts from now, when it is whole (a TTL of 0 means: to a
     * consumer in this very turn, or nowhere) */
    m->published = vhost_now_ms(ch->c->vh);
    if (ch->tx) {
        if (tx_publish(ch, m) < 0)
            return amqp_fail(err, AMQP_INTERNAL_ERROR, "out of memory");
        return 0;
    }
    route(ch, m, &rs);
    failed = publish_routed(ch, m, &rs, ch->pub_mandatory, &res) < 0;
    route_set_done(&rs);
    if (failed) {
        /* not stored, so not taken at all: the publisher must learn it */
        if (ch->confirm)
            pc_push(ch, ch->pub_count, 0, true, at_us);
        else
            rc = amqp_fail(err, AMQP_RESOURCE_ERROR, "cannot take the message (out of memory, or the "
                                                     "disk full or failing); see the broker log");
    } else if (ch->confirm) {
        if (res.refused)
            pc_push(ch, ch->pub_count, 0, true, at_us); /* a full queue refused it */
        else if (res.stored)
            pc_push(ch, ch->pub_count, res.lsn, false, at_us);
        else
            pc_push(ch, ch->pub_count, 0, false, at_us);
    }
    if (ch->confirm) {
        ch->pub_done = ch->pub_count;
        conn_want_flush(ch->c);
    }
    msg_unref(m);
    return rc;
}

static int content_header(channel *ch, const amqp_frame *f, amqp_error *err)
{
    amqp_content_header h;
    amqp_basic_properties props;
    uint64_t max = ch->c->b->cfg.max_message_size;
    uint8_t *rewritten = NULL;
    bool rewrite = false;
    int rc;

    if (f->size >= 4 && (amqp_get16(f->payload) != AMQP_BASIC_CLASS || amqp_get16(f->payload + 2) != 0)) {
        /* as RabbitMQ's command assembler (a weight other than 0 is not
         * taken as a content header at all) */
        if (amqp_get16(f->payload + 2) != 0)
            return amqp_fail(err, AMQP_UNEXPECTED_FRAME, "expected content header for class %u, got non content "
                             "header frame instead", AMQP_BASIC_CLASS);
        return amqp_fail(err, AMQP_UNEXPECTED_FRAME, "expected content header for class %u, got one for class %u "
                         "instead", AMQP_BASIC_CLASS, amqp_get16(f->payload));
    }
    if (amqp_content_header_parse(f, &h) < 0)
        return amqp_fail(err, AMQP_FRAME_ERROR, "content header frame too short");
    if ((rc = amqp_basic_properties_decode(h.props, h.props_len, &props)) < 0)
        return amqp_fail(err, AMQP_FRAME_ERROR, "cannot decode content properties: %s", amqp_strerror(rc));
    /* direct reply-to: reply_to names this channel's reply consumer (checked
     * before user_id, as RabbitMQ's maybe_set_fast_reply_to) */
    if ((props.flags & AMQP_BASIC_REPLY_TO_FLAG) && amqp_str_eqc(props.reply_to, REPLY_TO_QUEUE)) {
        if (reply_to_fill(ch, &props, err) < 0)
            return -1;
        rewrite = true;
    }
    if ((props.flags & AMQP_BASIC_USER_ID_FLAG) && !amqp_str_eqc(props.user_id, ch->c->user))
        return amqp_fail(err, AMQP_PRECONDITION_FAILED, "user_id property set to '%.*s' but authenticated user was '%s'",
                         (int)props.user_id.len, props.user_id.ptr, ch->c->user);
    if (h.body_size > max)
        return amqp_fail(err, AMQP_PRECONDITION_FAILED, "message size %llu is larger than configured max size %llu",
                         (unsigned long long)h.body_size, (unsigned long long)max);
    if (rewrite) {
        h.props_len = amqp_basic_properties_size(&props);
        if (!(rewritten = malloc(h.props_len)))
            return amqp_fail(err, AMQP_INTERNAL_ERROR, "out of memory");
        amqp_basic_properties_encode(rewritten, &props);
        h.props = rewritten;
    }
    ch->pub_msg = msg_new_partial((amqp_str){ch->pub_exchange, ch->pub_exlen}, (amqp_str){ch->pub_rk, ch->pub_rklen},
                                  h.props, h.props_len, (uint32_t)h.body_size,
                                  h.body_size < (1u << 20) ? (uint32_t)h.body_size : (1u << 20));
    free(rewritten);
    if (!ch->pub_msg)
        return amqp_fail(err, AMQP_INTERNAL_ERROR, "out of memory for a message of %llu bytes",
                         (unsigned long long)h.body_size);
    {
        const char *why = NULL;
        if (msg_parse_props(ch->pub_msg, &why) < 0) {
            msg_unref(ch->pub_msg);
            ch->pub_msg = NULL;
            ch->pub_state = PUB_NONE;
            return amqp_fail(err, AMQP_PRECONDITION_FAILED, "invalid expiration '%.*s': %s",
                             (int)props.expiration.len, props.expiration.ptr, why);
        }
    }
    if (h.body_size == 0)
        return publish_finish(ch, err);
    ch->pub_state = PUB_BODY;
    return 0;
}

static int content_body(channel *ch, const amqp_frame *f, amqp_error *err)
{
    msg *m = ch->pub_msg;
    if (!m)
        return 0; /* past the announced size: swallowed, see below */
    if (f->size > m->body_len - m->body_have) {
        /* as RabbitMQ's command assembler: more body than the header said
         * is no error by itself, but the content can never complete; it is
         * dropped, further body frames are swallowed, and the next other
         * frame on the channel is 505 "expected content body" */
        msg_unref(m);
        ch->pub_msg = NULL;
        return 0;
    }
    if (f->size > m->body_cap - m->body_have) {
        if (!(m = msg_grow(m, f->size)))
            return amqp_fail(err, AMQP_INTERNAL_ERROR, "out of memory for a message of %u bytes",
                             ch->pub_msg->body_len);
        ch->pub_msg = m;
    }
    memcpy(msg_body(m) + m->body_have, f->payload, f->size);
    m->body_have += f->size;
    if (m->body_have == m->body_len)
        return publish_finish(ch, err);
    return 0;
}

/* ----------------------------------------------------------------- basic */

static const consumer_ops channel_consumer_ops = {
    .can_deliver = can_deliver,
    .deliver = deliver,
    .gone = gone,
};

static int basic_consume(channel *ch, const amqp_basic_consume *m, amqp_error *err)
{
    char tagbuf[64];
    amqp_str tag = m->consumer_tag;
    consumer *cons;
    queue *q;
    int32_t priority = 0;

    if (amqp_str_eqc(m->queue, REPLY_TO_QUEUE)) {
        if (tag.len && consumer_by_tag(ch->consumers, tag))
            return amqp_fail(err, AMQP_NOT_ALLOWED, "attempt to reuse consumer tag '%.*s'", (int)tag.len, tag.ptr);
        return reply_to_consume(ch, m, err);
    }
    {
        amqp_str name = m->queue;
        if (channel_queue_name(ch, &name, err) < 0 || channel_permitted(ch, AUTH_QUEUE, name, AUTH_READ, err) < 0)
            return -1;
    }
    if (channel_queue_access(ch, m->queue, &q, err) < 0)
        return -1;
    if (tag.len == 0) {
        consumer_gen_tag(tagbuf, "amq.ctag-");
        tag = amqp_cstr(tagbuf);
    } else if (consumer_by_tag(ch->consumers, tag)) {
        return amqp_fail(err, AMQP_NOT_ALLOWED, "attempt to reuse consumer tag '%.*s'", (int)tag.len, tag.ptr);
    }
    {
        amqp_value v;
        int64_t prio;
        if (amqp_table_get(m->arguments, "x-priority", &v) && (!amqp_value_int(&v, &prio) || v.type == 'T'))
            return amqp_fail(err, AMQP_PRECONDITION_FAILED,
                             "invalid arg 'x-priority' for queue '%s' in vhost '%s': \"expected integer, got %s\"",
                             q->name, q->vh->name, amqp_type_name(v.type));
        if (amqp_table_get(m->arguments, "x-consumer-timeout", &v)) {
            /* as the queue argument of that name (queue_args.c) */
            if (!amqp_value_int(&v, &prio) || v.type == 'T')
                return amqp_fail(err, AMQP_PRECONDITION_FAILED,
                                 "invalid arg 'x-consumer-timeout' for queue '%s' in vhost '%s': "
                                 "\"expected integer, got %s\"", q->name, q->vh->name, amqp_type_name(v.type));
            if (prio < 0 || prio > CONSUMER_TIMEOUT_MAX)
                return amqp_fail(err, AMQP_PRECONDITION_FAILED,
                                 "invalid arg 'x-consumer-timeout' for queue '%s' in vhost '%s': {%s,%lld}", q->name,
                                 q->vh->name, prio < 0 ? "value_negative" : "value_too_large", (long long)prio);
        }
        if (amqp_table_get(m->arguments, "x-cancel-on-ha-failover", &v) && v.type != 't')
            return amqp_fail(err, AMQP_PRECONDITION_FAILED,
                             "invalid arg 'x-cancel-on-ha-failover' for queue '%s' in vhost '%s': "
                             "{unacceptable_type,%s}",
                             q->name, q->vh->name, amqp_type_name(v.type));
    }
    if (consumer_excluded(q, m->exclusive))
        return amqp_fail(err, AMQP_ACCESS_REFUSED, "queue '%s' in vhost '%s' in exclusive use", q->name,
                         q->vh->name);
    {
        amqp_value v;
        int64_t prio;
        if (amqp_table_get(m->arguments, "x-priority", &v) && amqp_value_int(&v, &prio))
            priority = (int32_t)(prio > INT32_MAX ? INT32_MAX : prio < INT32_MIN ? INT32_MIN : prio);
    }
    cons = consumer_new(&channel_consumer_ops, ch, tag, ch->next_consumer_id, m->no_ack, m->exclusive,
                        ch->prefetch, priority);
    if (!cons)
        return amqp_fail(err, AMQP_INTERNAL_ERROR, "out of memory");
    {
        amqp_value v;
        int64_t ms;
        if (amqp_table_get(m->arguments, "x-consumer-timeout", &v) && amqp_value_int(&v, &ms))
            cons->timeout = ms; /* checked above */
    }
    if (consumer_attach(q, cons) < 0) {
        consumer_free(cons);
        return amqp_fail(err, AMQP_INTERNAL_ERROR, "out of memory");
    }
    ch->next_consumer_id++;
    cons->next = ch->consumers;
    ch->consumers = cons;
    if (!m->nowait) {
        amqp_basic_consume_ok ok = {.consumer_tag = tag};
        conn_send_method(ch->c, ch->id, AMQP_BASIC_CONSUME_OK, &ok);
    }
    queue_mark_dirty(q);
    return 0;
}

static int basic_cancel(channel *ch, const amqp_basic_cancel *m, amqp_error *err)
{
    consumer *cons;
    (void)err;
    /* the reply consumer first, as RabbitMQ matches it */
    if (ch->reply && amqp_str_eq(m->consumer_tag, (amqp_str){ch->reply->tag, ch->reply->taglen}))
        reply_to_cancel(ch);
    else if ((cons = consumer_by_tag(ch->consumers, m->consumer_tag)))
        consumer_cancel(&ch->consumers, cons);
    if (!m->nowait) {
        amqp_basic_cancel_ok ok = {.consumer_tag = m->consumer_tag};
        conn_send_method(ch->c, ch->id, AMQP_BASIC_CANCEL_OK, &ok);
    }
    return 0;
}

static int basic_qos(channel *ch, const amqp_basic_qos *m, amqp_error *err)
{
    amqp_basic_qos_ok ok = {0};

    if (m->prefetch_size != 0)
        return amqp_fail(err, AMQP_NOT_IMPLEMENTED, "prefetch_size!=0 (%u)", m->prefetch_size);
    /* rabbit_channel's basic.qos clauses: global=false sets the limit of
     * consumers made from now on and lifts the channel-wide limit
     * (unlimit_prefetch); global=true with 0 lifts it too; global=true
     * with N limits the channel, its volume starting from every unacked
     * message (basic.get ones included) unless a limit was already set.
     *
     * One difference, LavinMQ's: global=false also sets the limit of the
     * channel's existing consumers (RabbitMQ leaves them as they were).
     * kombu reads the spec's meaning into any server that is not RabbitMQ
     * and raises the prefetch with global=false while Celery holds ETA
     * tasks; with RabbitMQ's reading the raised limit never reaches the
     * worker's one consumer, which stalls until the countdowns run out. */
    if (m->global && m->prefetch_count) {
        if (!ch->global_prefetch)
            ch->global_volume = ch->unacked_count;
        ch->global_prefetch = m->prefetch_count;
    } else {
        if (!m->global) {
            ch->prefetch = m->prefetch_count;
            consumer_set_prefetch(ch->consumers, m->prefetch_count);
        }
        ch->global_prefetch = 0;
        ch->global_volume = 0;
    }
    consumer_wake_all(ch->consumers);
    conn_send_method(ch->c, ch->id, AMQP_BASIC_QOS_OK, &ok);
    return 0;
}

static int basic_get(channel *ch, const amqp_basic_get *m, amqp_error *err)
{
    amqp_str name = m->queue;
    vhost_got got;
    queue *q;
    qentry e;
    msg *mm;
    int rc;

    if (channel_queue_name(ch, &name, err) < 0 || channel_permitted(ch, AUTH_QUEUE, name, AUTH_READ, err) < 0)
        return -1;
    if ((rc = vhost_get(ch->c->vh, name, &ch->c->exclusive, &got, err)) < 0)
        return -1;
    if (rc == VHOST_GET_EMPTY) {
        amqp_basic_get_empty empty = {.cluster_id = amqp_cstr("")};
        conn_send_method(ch->c, ch->id, AMQP_BASIC_GET_EMPTY, &empty);
        got.q->ctr.get_empty++;
        return 0;
    }
    q = got.q;
    e = got.e;
    if (rc == VHOST_GET_AGAIN) {
        /* as a consumer's delivery: it stays, the channel closes */
        read_failed(ch, q, &e);
        return 0;
    }
    mm = queue_delivered_msg(q, &e, got.m);
    {
        uint64_t tag = ch->next_tag++;
        amqp_basic_get_ok ok = {
            .delivery_tag = tag,
            .redelivered = (e.flags & QE_REDELIVERED) != 0,
            .exchange = {msg_exchange(mm), mm->exlen},
            .routing_key = {msg_rk(mm), mm->rklen},
            .message_count = got.left,
        };
        conn_send_content(ch->c, ch->id, AMQP_BASIC_GET_OK, &ok, mm);
        msg_unref(mm);
        q->ctr.get++;
        ch->ctr.get++;
        ch->ctr.redeliver += ok.redelivered;
        if (m->no_ack) {
            q->ctr.get_no_ack++;
            queue_settle(q, &e);
            if (ch->ua.len == 0)
                ch->ua_first_tag = ch->next_tag;
            else {
                unacked u = {.e = e, .q = q};
                u.e.flags |= QE_ACKED;
                u.e.m = NULL;
                unacked_ring_push(&ch->ua, &u);
            }
        } else {
            unacked u = {.e = e, .q = q, .consumer_id = 0, .at = (uint32_t)ev_now(ch->c->b->loop)};
            if (unacked_ring_push(&ch->ua, &u) < 0) {
                queue_requeue(q, &e);
                return amqp_fail(err, AMQP_INTERNAL_ERROR, "out of memory");
            }
            q->refs++;
            ch->unacked_count++;
            if (e.flags & QE_STORED)
                store_delivered(ch->c->b->st, q->id, e.seg, e.off, e.returns);
            ct_delivered(&ch->ct, q, -1);
        }
    }
    return 0;
}

/* Find the slot of a delivery tag; NULL if unknown or already settled. */
static unacked *ua_find(channel *ch, uint64_t tag)
{
    unacked *u;
    if (tag < ch->ua_first_tag || tag - ch->ua_first_tag >= ch->ua.len)
        return NULL;
    u = unacked_ring_at(&ch->ua, (size_t)(tag - ch->ua_first_tag));
    return (u->e.flags & QE_ACKED) ? NULL : u;
}

enum ack_kind { ACK, NACK_REQUEUE, NACK_DROP };

static void ack_one(channel *ch, unacked *u, enum ack_kind kind)
{
    if (kind == ACK)
        settle(ch, u);
    else if (kind == NACK_DROP)
        reject(ch, u);
    else
        requeue(ch, u);
}

static int tx_ack(channel *ch, uint64_t tag, bool multiple, enum ack_kind kind, amqp_error *err);

static int basic_ack(channel *ch, uint64_t tag, bool multiple, enum ack_kind kind, amqp_error *err)
{
    size_t i, n;

    if (ch->tx)
        return tx_ack(ch, tag, multiple, kind, err);
    if (multiple) {
        if (tag == 0) {
            n = ch->ua.len;
        } else if (ua_find(ch, tag)) {
            n = (size_t)(tag - ch->ua_first_tag) + 1;
        } else {
            /* up to a delivery requeued for its consumer timeout: ignored
             * (consumer_timeout.c), the live ones before it acked */
            if (!ct_late_ack(&ch->ct, tag, true))
                return amqp_fail(err, AMQP_PRECONDITION_FAILED, "unknown delivery tag %llu", (unsigned long long)tag);
            n = tag < ch->ua_first_tag ? 0 : (size_t)(tag - ch->ua_first_tag) + 1;
            if (n > ch->ua.len)
                n = ch->ua.len;
        }
        ct_late_ack(&ch->ct, tag, true);
        if (kind == NACK_REQUEUE) {
            for (i = n; i-- > 0;)
                if (!(unacked_ring_at(&ch->ua, i)->e.flags & QE_ACKED))
                    requeue(ch, unacked_ring_at(&ch->ua, i));
        } else {
            for (i = 0; i < n; i++)
                if (!(unacked_ring_at(&ch->ua, i)->e.flags & QE_ACKED))
                    ack_one(ch, unacked_ring_at(&ch->ua, i), kind);
        }
    } else {
        unacked *u = ua_find(ch, tag);
        if (!u && ct_late_ack(&ch->ct, tag, false))
            return 0; /* requeued for its consumer timeout: a late ack, ignored */
        if (!u)
            return amqp_fail(err, AMQP_PRECONDITION_FAILED, "unknown delivery tag %llu", (unsigned long long)tag);
        ack_one(ch, u, kind);
    }
    ua_trim(ch);
    return 0;
}

static int basic_recover(channel *ch, bool requeue_flag, bool async, amqp_error *err)
{
    if (!requeue_flag)
        return amqp_fail(err, AMQP_NOT_IMPLEMENTED, "requeue=false");
    requeue_all(ch);
    if (!async) {
        amqp_basic_recover_ok ok = {0};
        conn_send_method(ch->c, ch->id, AMQP_BASIC_RECOVER_OK, &ok);
    }
    return 0;
}

/* ----------------------------------------------------------- transactions */

/*
 * As RabbitMQ: inside a transaction a publish is routed when it arrives
 * (so bindings made or removed before tx.commit do not change where it
 * goes), and held with the queues it was routed to; at tx.commit each goes
 * to those of its queues that still exist (a queue deleted since and
 * declared again under its name gets it), in the order they came, and a
 * mandatory one that reaches none comes back then.  Acks (rejects, nacks)
 * are held too and applied after the publishes.  Persistent publishes are
 * on disk before commit-ok is sent.  tx.rollback forgets them all (acked
 * messages stay unacked).
 */
static int tx_publish(channel *ch, msg *m)
{
    route_set rs;
    struct tx_pub p = {.m = m, .mandatory = ch->pub_mandatory};
    uint32_t i;

    if (ch->ntxp == ch->captxp) {
        size_t cap = ch->captxp ? ch->captxp * 2 : 16;
        struct tx_pub *v = realloc(ch->txp, cap * sizeof *v);
        if (!v) {
            msg_unref(m);
            return -1;
        }
        ch->txp = v;
        ch->captxp = cap;
    }
    route(ch, m, &rs);
    if (rs.n && !(p.q = malloc(rs.n * sizeof *p.q))) {
        route_set_done(&rs);
        msg_unref(m);
        return -1;
    }
    for (i = 0; i < rs.n; i++) {
        p.q[i] = rs.q[i];
        p.q[i]->refs++;
    }
    p.nq = rs.n;
    route_set_done(&rs);
    ch->txp[ch->ntxp++] = p;
    return 0;
}

static void tx_pub_free(struct tx_pub *p)
{
    uint32_t i;
    for (i = 0; i < p->nq; i++)
        queue_unref(p->q[i]);
    free(p->q);
    msg_unref(p->m);
}

/* tx.commit: hand a held publish to its queues. */
static int tx_deliver(channel *ch, struct tx_pub *p, deliver_result *res)
{
    vhost *vh = ch->c->vh;
    route_set rs;
    uint32_t i;
    int rc = 0;

    route_set_init(&rs);
    for (i = 0; i < p->nq && rc == 0; i++) {
        queue *q = p->q[i];
        if (q->deleted)
            q = vhost_queue(vh, (amqp_str){q->name, q->namelen});
        if (q && route_set_add(&rs, q) < 0)
            rc = -1;
    }
    if (rc == 0) {
        /* its TTL counts from now, when its queues get it */
        p->m->published = vhost_now_ms(vh);
        rc = publish_routed(ch, p->m, &rs, p->mandatory, res);
    }
    route_set_done(&rs);
    return rc;
}

/* Mark the slots an ack inside the transaction covers, so a second ack of
 * the same tag is refused at once, as RabbitMQ does. */
static void tx_mark(channel *ch, uint64_t tag, bool multiple, bool on)
{
    size_t i, n = multiple ? (tag == 0 ? ch->ua.len : (size_t)(tag - ch->ua_first_tag) + 1) : 0;
    if (!multiple) {
        unacked *u = ua_find(ch, tag);
        if (u)
            u->e.flags = on ? u->e.flags | QE_TXACK : u->e.flags & (uint8_t)~QE_TXACK;
        return;
    }
    for (i = 0; i < n && i < ch->ua.len; i++) {
        unacked *u = unacked_ring_at(&ch->ua, i);
        u->e.flags = on ? u->e.flags | QE_TXACK : u->e.flags & (uint8_t)~QE_TXACK;
    }
}

static int tx_ack(channel *ch, uint64_t tag, bool multiple, enum ack_kind kind, amqp_error *err)
{
    unacked *u = ua_find(ch, tag);
    if (!u && tag && ct_late_ack(&ch->ct, tag, multiple)) {
        /* a delivery requeued for its consumer timeout: ignored; a
         * multiple one still covers the live deliveries before it */
        uint64_t live = tag < ch->ua_first_tag ? 0 : tag - ch->ua_first_tag;
        if (live > ch->ua.len)
            live = ch->ua.len;
        while (live > 0 && (unacked_ring_at(&ch->ua, (size_t)live - 1)->e.flags & (QE_ACKED | QE_TXACK)))
            live--;
        if (!multiple || live == 0)
            return 0;
        tag = ch->ua_first_tag + live - 1;
        u = ua_find(ch, tag);
    }
    if (!(multiple && tag == 0) && (!u || (u->e.flags & QE_TXACK)))
        return amqp_fail(err, AMQP_PRECONDITION_FAILED, "unknown delivery tag %llu", (unsigned long long)tag);
    if (ch->ntxa == ch->captxa) {
        size_t cap = ch->captxa ? ch->captxa * 2 : 16;
        struct tx_ack *v = realloc(ch->txa, cap * sizeof *v);
        if (!v)
            return amqp_fail(err, AMQP_INTERNAL_ERROR, "out of memory");
        ch->txa = v;
        ch->captxa = cap;
    }
    ch->txa[ch->ntxa++] = (struct tx_ack){tag, multiple, (uint8_t)kind};
    tx_mark(ch, tag, multiple, true);
    return 0;
}

static void tx_forget(channel *ch)
{
    size_t i;
    for (i = 0; i < ch->ntxp; i++)
        tx_pub_free(&ch->txp[i]);
    for (i = 0; i < ch->ntxa; i++)
        tx_mark(ch, ch->txa[i].tag, ch->txa[i].multiple, false);
    ch->ntxp = ch->ntxa = 0;
}

static int tx_commit(channel *ch, amqp_error *err)
{
    size_t i;
    int rc = 0;

    ch->tx = false; /* apply for real */
    ch->commit_lsn = 0;
    for (i = 0; i < ch->ntxp; i++) {
        deliver_result res;
        if (tx_deliver(ch, &ch->txp[i], &res) < 0) {
            rc = amqp_fail(err, AMQP_RESOURCE_ERROR, "cannot store a persistent message (disk full or failing)");
            break;
        }
        if (res.stored && res.lsn > ch->commit_lsn)
            ch->commit_lsn = res.lsn;
    }
    for (i = 0; i < ch->ntxa; i++)
        tx_mark(ch, ch->txa[i].tag, ch->txa[i].multiple, false);
    for (i = 0; rc == 0 && i < ch->ntxa; i++) {
        struct tx_ack *a = &ch->txa[i];
        if (a->multiple || ua_find(ch, a->tag))
            rc = basic_ack(ch, a->tag, a->multiple, (enum ack_kind)a->kind, err);
    }
    ch->ntxa = 0;
    ch->tx = true;
    tx_forget(ch);
    if (rc < 0)
        return rc;
    if (ch->commit_lsn && store_lsn_state(ch->c->b->st, ch->commit_lsn) == STORE_PENDING) {
        ch->commit_wait = true;
        conn_wait_sync(ch->c);
        return 0;
    }
    {
        amqp_tx_commit_ok ok = {0};
        conn_send_method(ch->c, ch->id, AMQP_TX_COMMIT_OK, &ok);
    }
    return 0;
}

static int tx_method(channel *ch, uint32_t id, amqp_error *err)
{
    switch (id) {
    case AMQP_TX_SELECT: {
        amqp_tx_select_ok ok = {0};
        if (ch->confirm)
            return amqp_fail(err, AMQP_PRECONDITION_FAILED, "cannot switch from confirm to tx mode");
        ch->tx = true;
        conn_send_method(ch->c, ch->id, AMQP_TX_SELECT_OK, &ok);
        return 0;
    }
    case AMQP_TX_COMMIT:
        if (!ch->tx)
            return amqp_fail(err, AMQP_PRECONDITION_FAILED, "channel is not transactional");
        return tx_commit(ch, err);
    case AMQP_TX_ROLLBACK: {
        amqp_tx_rollback_ok ok = {0};
        if (!ch->tx)
            return amqp_fail(err, AMQP_PRECONDITION_FAILED, "channel is not transactional");
        tx_forget(ch);
        conn_send_method(ch->c, ch->id, AMQP_TX_ROLLBACK_OK, &ok);
        return 0;
    }
    default:
        return amqp_fail(err, AMQP_COMMAND_INVALID, "unimplemented method");
    }
}

/* --------------------------------------------------------------- confirms */

static void confirm_upto(channel *ch, uint64_t upto)
{
    amqp_basic_ack m = {.delivery_tag = upto, .multiple = upto > ch->confirmed_upto + 1};
    if (upto <= ch->confirmed_upto)
        return;
    ch->ctr.confirm += upto - ch->confirmed_upto;
    ch->c->vh->stats.confirmed += upto - ch->confirmed_upto;
    conn_send_method(ch->c, ch->id, AMQP_BASIC_ACK, &m);
    ch->confirmed_upto = upto;
}

/* Send what can be confirmed now: everything handled, except stored
 * messages not yet synced; a message whose write or sync failed gets a
 * basic.nack, never an ack. */
void channel_flush_confirms(channel *ch)
{
    store *st = ch->c->b->st;
    uint64_t now_us;

    if (ch->state != CH_OPEN)
        return;
    if (ch->commit_wait) {
        int state = store_lsn_state(st, ch->commit_lsn);
        if (state == STORE_PENDING) {
            conn_wait_sync(ch->c);
        } else {
            amqp_tx_commit_ok ok = {0};
            ch->commit_wait = false;
            if (state == STORE_FAILED) {
                amqp_error err = {0};
                amqp_fail(&err, AMQP_INTERNAL_ERROR, "tx.commit: the store could not write the messages");
                conn_close(ch->c, err.code, err.text, AMQP_TX_COMMIT);
                return;
            }
            conn_send_method(ch->c, ch->id, AMQP_TX_COMMIT_OK, &ok);
        }
    }
    if (!ch->confirm)
        return;
    now_us = ch->pc.len > 0 ? ev_clock_ns() / 1000u : 0;
    while (ch->pc.len > 0) {
        pending_confirm *p = confirm_ring_at(&ch->pc, 0);
        int state = p->failed ? STORE_FAILED : p->lsn == 0 ? STORE_SYNCED : store_lsn_state(st, p->lsn);
        if (state == STORE_PENDING)
            break;
        /* its ack or nack goes in this call */
        stats_histogram_observe(&ch->c->b->confirm_latency, now_us > p->at_us ? now_us - p->at_us : 0);
        if (state == STORE_FAILED) {
            amqp_basic_nack n = {.delivery_tag = p->seq, .multiple = false, .requeue = false};
            confirm_upto(ch, p->seq - 1);
            conn_send_method(ch->c, ch->id, AMQP_BASIC_NACK, &n);
            ch->confirmed_upto = p->seq;
        }
        confirm_ring_drop_front(&ch->pc, 1);
    }
    if (ch->pc.len > 0) {
        confirm_upto(ch, confirm_ring_at(&ch->pc, 0)->seq - 1);
        conn_wait_sync(ch->c);
    } else {
        confirm_upto(ch, ch->pub_done);
    }
}

/* ------------------------------------------------------------------ frames */

static int channel_method(channel *ch, uint32_t id, amqp_method_args *a, amqp_error *err)
{
    conn *c = ch->c;

    switch (id) {
    case AMQP_CHANNEL_CLOSE: {
        amqp_channel_close_ok ok = {0};
        uint16_t chid = ch->id;
        channel_free(ch);
        conn_forget_channel(c, chid);
        conn_send_method(c, chid, AMQP_CHANNEL_CLOSE_OK, &ok);
        return 0;
    }
    case AMQP_CHANNEL_CLOSE_OK: /* on an open channel: nothing asked for it */
        return amqp_fail(err, AMQP_COMMAND_INVALID, "unimplemented method");
    case AMQP_CHANNEL_FLOW: {
        amqp_channel_flow_ok ok = {.active = true};
        if (!a->channel_flow.active)
            return amqp_fail(err, AMQP_NOT_IMPLEMENTED, "active=false");
        conn_send_method(c, ch->id, AMQP_CHANNEL_FLOW_OK, &ok);
        return 0;
    }
    case AMQP_CHANNEL_FLOW_OK: /* we never send channel.flow */
        return amqp_fail(err, AMQP_COMMAND_INVALID, "unimplemented method");
    case AMQP_ACCESS_REQUEST: {
        amqp_access_request_ok ok = {.ticket = 1};
        conn_send_method(c, ch->id, AMQP_ACCESS_REQUEST_OK, &ok);
        return 0;
    }
    case AMQP_BASIC_QOS:
        return basic_qos(ch, &a->basic_qos, err);
    case AMQP_BASIC_CONSUME:
        return basic_consume(ch, &a->basic_consume, err);
    case AMQP_BASIC_CANCEL:
        return basic_cancel(ch, &a->basic_cancel, err);
    case AMQP_BASIC_PUBLISH:
        return publish_start(ch, &a->basic_publish, err);
    case AMQP_BASIC_GET:
        return basic_get(ch, &a->basic_get, err);
    case AMQP_BASIC_ACK:
        return basic_ack(ch, a->basic_ack.delivery_tag, a->basic_ack.multiple, ACK, err);
    case AMQP_BASIC_REJECT:
        return basic_ack(ch, a->basic_reject.delivery_tag, false,
                         a->basic_reject.requeue ? NACK_REQUEUE : NACK_DROP, err);
    case AMQP_BASIC_NACK:
        return basic_ack(ch, a->basic_nack.delivery_tag, a->basic_nack.multiple,
                         a->basic_nack.requeue ? NACK_REQUEUE : NACK_DROP, err);
    case AMQP_BASIC_RECOVER_ASYNC:
        return basic_recover(ch, a->basic_recover_async.requeue, true, err);
    case AMQP_BASIC_RECOVER:
        return basic_recover(ch, a->basic_recover.requeue, false, err);
    case AMQP_CONFIRM_SELECT:
        if (ch->tx)
            return amqp_fail(err, AMQP_PRECONDITION_FAILED, "cannot switch from tx to confirm mode");
        ch->confirm = true;
        if (!a->confirm_select.nowait) {
            amqp_confirm_select_ok ok = {0};
            conn_send_method(c, ch->id, AMQP_CONFIRM_SELECT_OK, &ok);
        }
        return 0;
    default:
        if ((id >> 16) == AMQP_EXCHANGE_CLASS || (id >> 16) == AMQP_QUEUE_CLASS)
            return channel_declare_method(ch, id, a, err);
        if ((id >> 16) == AMQP_TX_CLASS)
            return tx_method(ch, id, err);
        return amqp_fail(err, AMQP_COMMAND_INVALID, "unimplemented method");
    }
}

int channel_frame(channel *ch, const amqp_frame *f, amqp_error *err)
{
    amqp_method_args a;
    uint32_t id;
    int rc;

    switch (f->type) {
    case AMQP_FRAME_METHOD:
        if (ch->pub_state != PUB_NONE) {
            err->method = AMQP_BASIC_PUBLISH; /* the method whose content this was */
            return amqp_fail(err, AMQP_UNEXPECTED_FRAME, "expected content %s, got non content %s frame instead",
                             ch->pub_state == PUB_HEADER ? "header for class 60" : "body",
                             ch->pub_state == PUB_HEADER ? "header" : "body");
        }
        if ((rc = amqp_method_frame_decode(f, &id, &a)) < 0) {
            if (rc == AMQP_EMETHOD)
                return amqp_fail(err, AMQP_NOT_IMPLEMENTED, "unknown method %u.%u", id >> 16, id & 0xffff);
            if (rc == AMQP_EUTF8)
                return amqp_fail_utf8(err);
            return amqp_fail(err, AMQP_FRAME_ERROR, "cannot decode %s: %s",
                             amqp_method_name(id) ? amqp_method_name(id) : "method", amqp_strerror(rc));
        }
        err->method = id;
        if (log_level <= LOG_DEBUG && id != AMQP_BASIC_PUBLISH && id != AMQP_BASIC_ACK)
            log_debug("%s ch %u -> %s", ch->c->peer, ch->id, amqp_method_name(id));
        return channel_method(ch, id, &a, err);
    case AMQP_FRAME_HEADER:
    case AMQP_FRAME_BODY:
        /* RabbitMQ's command assembler: each state names what it expected */
        if (ch->pub_state == PUB_NONE)
            return amqp_fail(err, AMQP_UNEXPECTED_FRAME, "expected method frame, got non method frame instead");
        err->method = AMQP_BASIC_PUBLISH;
        if (f->type == AMQP_FRAME_HEADER && ch->pub_state == PUB_HEADER)
            return content_header(ch, f, err);
        if (f->type == AMQP_FRAME_BODY && ch->pub_state == PUB_BODY)
            return content_body(ch, f, err);
        if (ch->pub_state == PUB_HEADER)
            return amqp_fail(err, AMQP_UNEXPECTED_FRAME, "expected content header for class %u, got non content "
                             "header frame instead", AMQP_BASIC_CLASS);
        return amqp_fail(err, AMQP_UNEXPECTED_FRAME, "expected content body, got non content body frame instead");
    default:
        return amqp_fail(err, AMQP_FRAME_ERROR, "unexpected frame type %u", f->type);
    }
}
