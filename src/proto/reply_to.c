/*
 * proto/reply_to.c - direct reply-to: RabbitMQ's pseudo-queue amq.rabbitmq.reply-to.
 *
 * An RPC client consumes from "amq.rabbitmq.reply-to" (no-ack) and publishes
 * its requests with reply_to set to that name; the server answers to the
 * default exchange with the reply_to it was given as routing key.  No queue
 * is declared and nothing is stored: the reply goes straight from the
 * server's publish to the client's consumer, or nowhere.
 *
 * How it is held:
 *   - a channel has at most one reply consumer (ch->reply): its consumer tag
 *     and its name, "amq.rabbitmq.reply-to." followed by REPLY_TO_TOKEN
 *     random characters (getrandom: ~190 bits, so a name cannot be guessed;
 *     RabbitMQ's are as secret);
 *   - the vhost maps each name to its channel (vh->reply_to); the entry goes
 *     with the consumer (basic.cancel, channel close, connection gone), so a
 *     reply to a name whose channel is gone finds nothing and is dropped;
 *   - a publish with reply_to = the pseudo-queue gets the channel's name
 *     written into its properties (content_header in channel.c);
 *   - a publish to the default exchange whose routing key, or a CC or BCC
 *     key, is such a name is delivered to that channel at once, when it is
 *     routed (in a transaction too: at the publish, not the commit); it is
 *     routed to no queue, so a mandatory reply comes back with basic.return
 *     as well, and a confirm acks it at once.
 *
 * All of it is RabbitMQ 3.10's behaviour, texts included (rabbit_channel's
 * reply_consumer, maybe_set_fast_reply_to, deliver_reply and
 * declare_fast_reply_to), checked against a 3.10 node.
 */
#include "proto/channel.h"
#include "proto/conn.h"
#include "util.h"
#include "vhost.h"

#include <stdlib.h>
#include <string.h>

#include "consumer.h"
#include "log.h"

#define PREFIX REPLY_TO_QUEUE "."
#define PREFIX_LEN (sizeof PREFIX - 1)

static bool is_pseudo(amqp_str name)
{
    return amqp_str_eqc(name, REPLY_TO_QUEUE);
}

static bool has_prefix(amqp_str name)
{
    return name.len >= PREFIX_LEN && memcmp(name.ptr, PREFIX, PREFIX_LEN) == 0;
}

bool reply_to_name(amqp_str name)
{
    return is_pseudo(name) || has_prefix(name);
}

/* The channel whose reply consumer a name reaches, or NULL. */
static channel *lookup(vhost *vh, amqp_str name)
{
    if (!has_prefix(name))
        return NULL;
    return map_get(&vh->reply_to, name.ptr, name.len);
}

int reply_to_consume(channel *ch, const amqp_basic_consume *m, amqp_error *err)
{
    vhost *vh = ch->c->vh;
    reply_consumer *r;
    amqp_str tag = m->consumer_tag;

    /* rabbit_channel's order: an ack-mode consumer is refused even when
     * one is already set */
    if (!m->no_ack)
        return amqp_fail(err, AMQP_PRECONDITION_FAILED, "reply consumer cannot acknowledge");
    if (ch->reply)
        return amqp_fail(err, AMQP_PRECONDITION_FAILED, "reply consumer already set");
    if (!(r = calloc(1, sizeof *r)))
        return amqp_fail(err, AMQP_INTERNAL_ERROR, "out of memory");
    if (tag.len) {
        memcpy(r->tag, tag.ptr, tag.len);
        r->taglen = (uint8_t)tag.len;
    } else {
        consumer_gen_tag(r->tag, "amq.ctag-");
        r->taglen = (uint8_t)strlen(r->tag);
    }
    memcpy(r->name, PREFIX, PREFIX_LEN);
    random_name(r->name + PREFIX_LEN, REPLY_TO_TOKEN);
    r->namelen = (uint8_t)(PREFIX_LEN + REPLY_TO_TOKEN);
    if (map_put(&vh->reply_to, r->name, r->namelen, ch) < 0) {
        free(r);
        return amqp_fail(err, AMQP_INTERNAL_ERROR, "out of memory");
    }
    ch->reply = r;
    if (!m->nowait) {
        amqp_basic_consume_ok ok = {.consumer_tag = {r->tag, r->taglen}};
        conn_send_method(ch->c, ch->id, AMQP_BASIC_CONSUME_OK, &ok);
    }
    return 0;
}

bool reply_to_cancel(channel *ch)
{
    vhost *vh = ch->c->vh;
    reply_consumer *r = ch->reply;

    if (!r)
        return false;
    map_del(&vh->reply_to, r->name, r->namelen);
    if (map_count(&vh->reply_to) == 0)
        map_free(&vh->reply_to);
    free(r);
    ch->reply = NULL;
    return true;
}

int reply_to_fill(channel *ch, amqp_basic_properties *props, amqp_error *err)
{
    if (!ch->reply)
        return amqp_fail(err, AMQP_PRECONDITION_FAILED, "fast reply consumer does not exist");
    props->reply_to = (amqp_str){ch->reply->name, ch->reply->namelen};
    return 0;
}

int reply_to_declare(vhost *vh, amqp_str name, amqp_error *err)
{
    if (is_pseudo(name) || lookup(vh, name))
        return 0;
    return amqp_fail(err, AMQP_NOT_FOUND, "no queue '%.*s' in vhost '%s'", (int)name.len, name.ptr, vh->name);
}

/* Deliver m to the reply consumer name reaches, once per publish. */
static void deliver_to(vhost *vh, amqp_str name, msg *m, msg **clean)
{
    channel *ch = lookup(vh, name);

    if (!ch || ch->state != CH_OPEN || ch->reply->mark == vh->reply_mark)
        return;
    ch->reply->mark = vh->reply_mark;
    if (!*clean && !(*clean = msg_without_header(m, "BCC"))) {
        log_warn("direct reply-to: out of memory, a reply to '%.*s' is dropped", (int)name.len, name.ptr);
        return;
    }
    channel_deliver_reply(ch, *clean);
}

static void deliver_header_keys(vhost *vh, amqp_table headers, const char *key, msg *m, msg **clean)
{
    amqp_value v, k;
    amqp_array_iter it;

    if (!amqp_table_get(headers, key, &v) || v.type != 'A')
        return;
    amqp_array_iter_init(&it, v.v.a);
    while (amqp_array_next(&it, &k))
        if (k.type == 'S')
            deliver_to(vh, k.v.s, m, clean);
}

void reply_to_route(vhost *vh, msg *m)
{
    amqp_basic_properties p;
    msg *clean = NULL;

    if (map_count(&vh->reply_to) == 0)
        return;
    vh->reply_mark++;
    deliver_to(vh, (amqp_str){msg_rk(m), m->rklen}, m, &clean);
    if (m->props_len >= 2 && (amqp_get16(msg_props(m)) & AMQP_BASIC_HEADERS_FLAG) &&
        amqp_basic_properties_decode(msg_props(m), m->props_len, &p) == 0) {
        deliver_header_keys(vh, p.headers, "CC", m, &clean);
        deliver_header_keys(vh, p.headers, "BCC", m, &clean);
    }
    if (clean)
        msg_unref(clean);
}
