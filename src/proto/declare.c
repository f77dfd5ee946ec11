/*
 * proto/declare.c - the declaring methods of a channel, exchange.* and
 * queue.*: each decodes its method, calls the domain API (vhost.h, which
 * holds RabbitMQ's rules and its wording for every refusal, and records
 * durable declarations before it returns) and sends the -ok unless
 * nowait.  What is AMQP's alone stays here:
 *
 *  - an empty queue name means the channel's most recently declared queue
 *    (RabbitMQ's expand_queue_name_shortcut), and a queue.declare without
 *    a name gets a server-made amq.gen- name;
 *  - direct reply-to's pseudo-queues (reply_to.c) are declared here;
 *  - the channel's connection is the owner of the exclusive queues it
 *    declares (its queue_owner, conn.c deletes them when it closes).
 */
#include "proto/channel.h"
#include "broker.h"
#include "proto/conn.h"
#include "util.h"
#include "vhost.h"

#include <string.h>

/* -------------------------------------------------------------- exchanges */

int channel_permitted(channel *ch, enum auth_kind kind, amqp_str name, enum auth_perm perm, amqp_error *err)
{
    return auth_permitted(&ch->c->b->auth, ch->c->user, ch->c->vh->name, kind, name, perm, err);
}

static int exchange_declare(channel *ch, const amqp_exchange_declare *m, amqp_error *err)
{
    exchange_spec s = {
        .name = m->exchange,
        .type = m->type,
        .durable = m->durable,
        .auto_delete = m->auto_delete,
        .internal = m->internal,
        .arguments = m->arguments,
    };

    if (!m->passive && channel_permitted(ch, AUTH_EXCHANGE, m->exchange, AUTH_CONFIGURE, err) < 0)
        return -1;
    if (vhost_declare_exchange(ch->c->vh, &s, m->passive, err) < 0)
        return -1;
    if (!m->nowait) {
        amqp_exchange_declare_ok ok = {0};
        conn_send_method(ch->c, ch->id, AMQP_EXCHANGE_DECLARE_OK, &ok);
    }
    return 0;
}

static int exchange_delete_method(channel *ch, const amqp_exchange_delete *m, amqp_error *err)
{
    if (channel_permitted(ch, AUTH_EXCHANGE, m->exchange, AUTH_CONFIGURE, err) < 0 ||
        vhost_delete_exchange(ch->c->vh, m->exchange, m->if_unused, err) < 0)
        return -1;
    if (!m->nowait) {
        amqp_exchange_delete_ok ok = {0};
        conn_send_method(ch->c, ch->id, AMQP_EXCHANGE_DELETE_OK, &ok);
    }
    return 0;
}

/* ----------------------------------------------------------------- queues */

/* RabbitMQ's expand_queue_name_shortcut: an empty queue name means the
 * channel's most recently declared queue, and is 404 before anything else
 * is looked at when there is none. */
int channel_queue_name(channel *ch, amqp_str *name, amqp_error *err)
{
    if (name->len)
        return 0;
    if (ch->last_queue_len == 0)
        return amqp_fail(err, AMQP_NOT_FOUND, "no previously declared queue");
    *name = (amqp_str){ch->last_queue, ch->last_queue_len};
    return 0;
}

int channel_queue_access(channel *ch, amqp_str name, queue **out, amqp_error *err)
{
    if (channel_queue_name(ch, &name, err) < 0)
        return -1;
    return vhost_queue_access(ch->c->vh, name, &ch->c->exclusive, out, err);
}

static void remember_queue(channel *ch, amqp_str name)
{
    memcpy(ch->last_queue, name.ptr, name.len);
    ch->last_queue_len = (uint8_t)name.len;
}

static int queue_declare(channel *ch, const amqp_queue_declare *m, amqp_error *err)
{
    vhost *vh = ch->c->vh;
    queue_spec s = {
        .name = m->queue,
        .durable = m->durable,
        .exclusive = m->exclusive,
        .auto_delete = m->auto_delete,
        .arguments = m->arguments,
    };
    queue_info info;
    char genname[64];

    if (reply_to_name(s.name)) {
        /* direct reply-to (reply_to.c): the pseudo-queue, passive or not,
         * is always there with its one consumer; a name made from it is
         * there while its consumer is (RPC servers check with a passive
         * declare that the client still waits) */
        if (reply_to_declare(vh, s.name, err) < 0)
            return -1;
        remember_queue(ch, s.name);
        if (!m->nowait) {
            amqp_queue_declare_ok ok = {.queue = s.name, .message_count = 0, .consumer_count = 1};
            conn_send_method(ch->c, ch->id, AMQP_QUEUE_DECLARE_OK, &ok);
        }
        return 0;
    }
    /* a passive declare looks up exactly the name given ("" is not the
     * last queue); a new one without a name gets one */
    if (!m->passive && s.name.len == 0) {
        memcpy(genname, "amq.gen-", 8);
        random_name(genname + 8, 22);
        genname[30] = 0;
        s.name = amqp_cstr(genname);
        s.server_named = true;
    }
    if (!m->passive && channel_permitted(ch, AUTH_QUEUE, s.name, AUTH_CONFIGURE, err) < 0)
        return -1;
    if (vhost_declare_queue(vh, &s, &ch->c->exclusive, m->passive, m->nowait ? NULL : &info, err) < 0)
        return -1;
    remember_queue(ch, s.name);
    if (!m->nowait) {
        amqp_queue_declare_ok ok = {
            .queue = s.name,
            .message_count = info.messages,
            .consumer_count = info.consumers,
        };
        conn_send_method(ch->c, ch->id, AMQP_QUEUE_DECLARE_OK, &ok);
    }
    return 0;
}

static int queue_delete_method(channel *ch, const amqp_queue_delete *m, amqp_error *err)
{
    amqp_str name = m->queue;
    uint32_t n;

    if (channel_queue_name(ch, &name, err) < 0 || channel_permitted(ch, AUTH_QUEUE, name, AUTH_CONFIGURE, err) < 0 ||
        vhost_delete_queue(ch->c->vh, name, &ch->c->exclusive, m->if_unused, m->if_empty, &n, err) < 0)
        return -1;
    if (!m->nowait) {
        amqp_queue_delete_ok ok = {.message_count = n};
        conn_send_method(ch->c, ch->id, AMQP_QUEUE_DELETE_OK, &ok);
    }
    return 0;
}

static int queue_purge_method(channel *ch, const amqp_queue_purge *m, amqp_error *err)
{
    amqp_str name = m->queue;
    uint32_t n;

    if (channel_queue_name(ch, &name, err) < 0 || channel_permitted(ch, AUTH_QUEUE, name, AUTH_READ, err) < 0 ||
        vhost_purge_queue(ch->c->vh, name, &ch->c->exclusive, &n, err) < 0)
        return -1;
    if (!m->nowait) {
        amqp_queue_purge_ok ok = {.message_count = n};
        conn_send_method(ch->c, ch->id, AMQP_QUEUE_PURGE_OK, &ok);
    }
    return 0;
}

static int queue_bind_method(channel *ch, bool bind, amqp_str qname, amqp_str xname, amqp_str key,
                             amqp_table args, amqp_error *err)
{
    binding_spec s = {.source = xname, .to_queue = true, .key = key, .arguments = args};

    /* as RabbitMQ: the empty-name shortcuts first (an empty key with an
     * empty queue name is the queue's name), then the default exchange */
    if (qname.len == 0 && key.len == 0 && channel_queue_name(ch, &s.key, err) < 0)
        return -1;
    if (channel_queue_name(ch, &qname, err) < 0)
        return -1;
    s.destination = qname;
    /* as RabbitMQ's binding_action: write on the destination, then (the
     * default exchange is refused by the domain before) read on the
     * source */
    if (channel_permitted(ch, AUTH_QUEUE, qname, AUTH_WRITE, err) < 0 ||
        (xname.len && channel_permitted(ch, AUTH_EXCHANGE, xname, AUTH_READ, err) < 0))
        return -1;
    return vhost_bind(ch->c->vh, bind, &s, &ch->c->exclusive, err);
}

static int exchange_bind_method(channel *ch, bool bind, amqp_str dname, amqp_str sname, amqp_str key,
                                amqp_table args, amqp_error *err)
{
    binding_spec s = {.source = sname, .destination = dname, .key = key, .arguments = args};
    if (channel_permitted(ch, AUTH_EXCHANGE, dname, AUTH_WRITE, err) < 0 ||
        (dname.len && sname.len && channel_permitted(ch, AUTH_EXCHANGE, sname, AUTH_READ, err) < 0))
        return -1;
    return vhost_bind(ch->c->vh, bind, &s, &ch->c->exclusive, err);
}

int channel_declare_method(channel *ch, uint32_t id, amqp_method_args *a, amqp_error *err)
{
    switch (id) {
    case AMQP_EXCHANGE_DECLARE:
        return exchange_declare(ch, &a->exchange_declare, err);
    case AMQP_EXCHANGE_DELETE:
        return exchange_delete_method(ch, &a->exchange_delete, err);
    case AMQP_EXCHANGE_BIND: {
        amqp_exchange_bind *m = &a->exchange_bind;
        if (exchange_bind_method(ch, true, m->destination, m->source, m->routing_key, m->arguments, err) < 0)
            return -1;
        if (!m->nowait) {
            amqp_exchange_bind_ok ok = {0};
            conn_send_method(ch->c, ch->id, AMQP_EXCHANGE_BIND_OK, &ok);
        }
        return 0;
    }
    case AMQP_EXCHANGE_UNBIND: {
        amqp_exchange_unbind *m = &a->exchange_unbind;
        if (exchange_bind_method(ch, false, m->destination, m->source, m->routing_key, m->arguments, err) < 0)
            return -1;
        if (!m->nowait) {
            amqp_exchange_unbind_ok ok = {0};
            conn_send_method(ch->c, ch->id, AMQP_EXCHANGE_UNBIND_OK, &ok);
        }
        return 0;
    }
    case AMQP_QUEUE_DECLARE:
        return queue_declare(ch, &a->queue_declare, err);
    case AMQP_QUEUE_DELETE:
        return queue_delete_method(ch, &a->queue_delete, err);
    case AMQP_QUEUE_PURGE:
        return queue_purge_method(ch, &a->queue_purge, err);
    case AMQP_QUEUE_BIND: {
        amqp_queue_bind *m = &a->queue_bind;
        if (queue_bind_method(ch, true, m->queue, m->exchange, m->routing_key, m->arguments, err) < 0)
            return -1;
        if (!m->nowait) {
            amqp_queue_bind_ok ok = {0};
            conn_send_method(ch->c, ch->id, AMQP_QUEUE_BIND_OK, &ok);
        }
        return 0;
    }
    case AMQP_QUEUE_UNBIND: {
        amqp_queue_unbind *m = &a->queue_unbind;
        amqp_queue_unbind_ok ok = {0};
        if (queue_bind_method(ch, false, m->queue, m->exchange, m->routing_key, m->arguments, err) < 0)
            return -1;
        conn_send_method(ch->c, ch->id, AMQP_QUEUE_UNBIND_OK, &ok);
        return 0;
    }
    default:
        return amqp_fail(err, AMQP_COMMAND_INVALID, "unexpected method %s on a channel", amqp_method_name(id));
    }
}
