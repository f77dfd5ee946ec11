/*
 * channel_declare.c - the declaring methods of a channel: exchange.* and
 * queue.*, with RabbitMQ's rules and its wording for every refusal
 * (clients and their test suites match on these texts).
 *
 * Equivalence: redeclaring an existing queue or exchange must match what
 * exists (durable, auto_delete, exclusive, type, and the arguments RabbitMQ
 * compares, by amqp_value_equiv: 5 as I, l or T alike, 5.0 not), else 406
 * PRECONDITION_FAILED and nothing changes.  For a queue
 * the owner is checked first (405 RESOURCE_LOCKED), as RabbitMQ's
 * assert_equivalence does; an exclusive queue is never durable.
 *
 * A queue's x- arguments (their checks, which of them a redeclare compares,
 * which queue types refuse which) are the table of queue_args.c; this file
 * only says when each check runs: equivalence on a redeclare, validation
 * then the type's refusals on a new queue.
 *
 * Persistence: a durable declaration or binding is recorded by the store
 * (as the plain record queue_def, exchange_def or binding_def of
 * recovery.c makes) and synced before the -ok goes out.
 */
#include "warren.h"

#include <stdio.h>
#include <string.h>

#include "log.h"
#include "recovery.h"
#include "store/store.h"

int channel_declare_method(channel *ch, uint32_t id, amqp_method_args *a, amqp_error *err);
int channel_queue_access(channel *ch, amqp_str name, queue **out, amqp_error *err);

static const char *bool_str(bool b)
{
    return b ? "true" : "false";
}

static bool reserved_name(amqp_str name)
{
    return name.len >= 4 && memcmp(name.ptr, "amq.", 4) == 0;
}

/* -------------------------------------------------------------- exchanges */

static int no_exchange(vhost *vh, amqp_str name, amqp_error *err)
{
    return amqp_fail(err, AMQP_NOT_FOUND, "no exchange '%.*s' in vhost '%s'", (int)name.len, name.ptr, vh->name);
}

static int exchange_declare(channel *ch, const amqp_exchange_declare *m, amqp_error *err)
{
    vhost *vh = ch->c->vh;
    exchange *x = vhost_exchange(vh, m->exchange);
    const exchange_type *t = NULL;

    /* as RabbitMQ: the type is checked first (not for a passive declare) */
    if (!m->passive) {
        if (m->type.len == 0)
            return amqp_fail(err, AMQP_COMMAND_INVALID, "invalid exchange type ''");
        t = exchange_type_find(m->type);
        if (!t)
            return amqp_fail(err, AMQP_COMMAND_INVALID, "%s exchange type '%.*s'",
                             exchange_type_is_atom(m->type) ? "invalid" : "unknown", (int)m->type.len, m->type.ptr);
    }
    if (m->exchange.len == 0)
        return amqp_fail(err, AMQP_ACCESS_REFUSED, "operation not permitted on the default exchange");
    if (m->passive) {
        if (!x)
            return no_exchange(vh, m->exchange, err);
        goto ok;
    }
    if (reserved_name(m->exchange) && !x)
        return amqp_fail(err, AMQP_ACCESS_REFUSED, "exchange name '%.*s' contains reserved prefix 'amq.*'",
                         (int)m->exchange.len, m->exchange.ptr);
    {
        amqp_value ae;
        if (!x && amqp_table_get(m->arguments, "alternate-exchange", &ae) && ae.type != 'S')
            return amqp_fail(err, AMQP_PRECONDITION_FAILED,
                             "invalid type '%s' for arg 'alternate-exchange' in exchange '%.*s' in vhost '%s'",
                             amqp_type_name(ae.type), (int)m->exchange.len, m->exchange.ptr, vh->name);
    }
    if (x) {
        if (x->type != t)
            return amqp_fail(err, AMQP_PRECONDITION_FAILED,
                             "inequivalent arg 'type' for exchange '%s' in vhost '%s': received '%.*s' but current is '%s'",
                             x->name, vh->name, (int)m->type.len, m->type.ptr, x->type->name);
        if (x->durable != m->durable)
            return amqp_fail(err, AMQP_PRECONDITION_FAILED,
                             "inequivalent arg 'durable' for exchange '%s' in vhost '%s': received '%s' but current is '%s'",
                             x->name, vh->name, bool_str(m->durable), bool_str(x->durable));
        if (x->auto_delete != m->auto_delete)
            return amqp_fail(err, AMQP_PRECONDITION_FAILED,
                             "inequivalent arg 'auto_delete' for exchange '%s' in vhost '%s': received '%s' but current is '%s'",
                             x->name, vh->name, bool_str(m->auto_delete), bool_str(x->auto_delete));
        if (x->internal != m->internal)
            return amqp_fail(err, AMQP_PRECONDITION_FAILED,
                             "inequivalent arg 'internal' for exchange '%s' in vhost '%s': received '%s' but current is '%s'",
                             x->name, vh->name, bool_str(m->internal), bool_str(x->internal));
        if (queue_args_compare((amqp_table){x->args, x->argslen}, m->arguments, "alternate-exchange", NULL,
                               "exchange", x->name, vh->name, err) < 0)
            return -1;
        goto ok;
    }
    if (!(x = exchange_new(vh, m->exchange, t, m->durable, m->auto_delete, m->internal, m->arguments)))
        return amqp_fail(err, AMQP_INTERNAL_ERROR, "out of memory");
    if (x->durable && vh->b->st &&
        store_exchange_declared(vh->b->st, exchange_def(x, &(store_exchange_def){0})) < 0) {
        x->durable = false;
        exchange_delete(x);
        return amqp_fail(err, AMQP_INTERNAL_ERROR, "cannot record exchange '%.*s' on disk", (int)m->exchange.len,
                         m->exchange.ptr);
    }
ok:
    if (!m->nowait) {
        amqp_exchange_declare_ok ok = {0};
        conn_send_method(ch->c, ch->id, AMQP_EXCHANGE_DECLARE_OK, &ok);
    }
    return 0;
}

static int exchange_delete_method(channel *ch, const amqp_exchange_delete *m, amqp_error *err)
{
    vhost *vh = ch->c->vh;
    exchange *x;

    if (m->exchange.len == 0)
        return amqp_fail(err, AMQP_ACCESS_REFUSED, "operation not permitted on the default exchange");
    if (reserved_name(m->exchange))
        return amqp_fail(err, AMQP_ACCESS_REFUSED, "deletion of system exchange '%.*s' in vhost '%s' not allowed",
                         (int)m->exchange.len, m->exchange.ptr, vh->name);
    x = vhost_exchange(vh, m->exchange);
    if (x) {
        if (m->if_unused && x->bindings)
            return amqp_fail(err, AMQP_PRECONDITION_FAILED, "exchange '%s' in vhost '%s' in use", x->name,
                             vh->name);
        exchange_delete(x);
    }
    if (!m->nowait) {
        amqp_exchange_delete_ok ok = {0};
        conn_send_method(ch->c, ch->id, AMQP_EXCHANGE_DELETE_OK, &ok);
    }
    return 0;
}

/* ----------------------------------------------------------------- queues */

static int queue_locked(const queue *q, amqp_error *err)
{
    return amqp_fail(err, AMQP_RESOURCE_LOCKED,
                     "cannot obtain exclusive access to locked queue '%s' in vhost '%s'. It could be originally "
                     "declared on another connection or the exclusive property value does not match that of "
                     "the original declaration.",
                     q->name, q->vh->name);
}

/* RabbitMQ's expand_queue_name_shortcut: an empty queue name means the
 * channel's most recently declared queue, and is 404 before anything else
 * is looked at when there is none. */
static int expand_name(channel *ch, amqp_str *name, amqp_error *err)
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
    vhost *vh = ch->c->vh;
    queue *q;

    if (expand_name(ch, &name, err) < 0)
        return -1;
    q = vhost_queue(vh, name);
    if (!q)
        return amqp_fail(err, AMQP_NOT_FOUND, "no queue '%.*s' in vhost '%s'", (int)name.len, name.ptr, vh->name);
    if (q->exclusive && q->owner != ch->c)
        return queue_locked(q, err);
    *out = q;
    return 0;
}

static void remember_queue(channel *ch, amqp_str name)
{
    memcpy(ch->last_queue, name.ptr, name.len);
    ch->last_queue_len = (uint8_t)name.len;
}

static int queue_declare(channel *ch, const amqp_queue_declare *m, amqp_error *err)
{
    vhost *vh = ch->c->vh;
    amqp_str name = m->queue;
    /* as RabbitMQ: an exclusive queue is never durable, whatever was asked
     * (it cannot outlive its connection, so it is never on disk) */
    bool durable = m->durable && !m->exclusive;
    char genname[64];
    queue *q;
    int rc;

    if (reply_to_name(name)) {
        /* direct reply-to (reply_to.c): the pseudo-queue, passive or not,
         * is always there with its one consumer; a name made from it is
         * there while its consumer is (RPC servers check with a passive
         * declare that the client still waits) */
        if (reply_to_declare(vh, name, err) < 0)
            return -1;
        remember_queue(ch, name);
        if (!m->nowait) {
            amqp_queue_declare_ok ok = {.queue = name, .message_count = 0, .consumer_count = 1};
            conn_send_method(ch->c, ch->id, AMQP_QUEUE_DECLARE_OK, &ok);
        }
        return 0;
    }
    if (m->passive) {
        /* a lookup, of exactly the name given ("" is not the last queue) */
        q = vhost_queue(vh, name);
        if (!q)
            return amqp_fail(err, AMQP_NOT_FOUND, "no queue '%.*s' in vhost '%s'", (int)name.len, name.ptr,
                             vh->name);
        if (q->exclusive && q->owner != ch->c)
            return queue_locked(q, err);
        goto ok;
    }
    if (name.len == 0) {
        memcpy(genname, "amq.gen-", 8);
        random_name(genname + 8, 22);
        genname[30] = 0;
        name = amqp_cstr(genname);
    } else if (reserved_name(name)) {
        /* checked before the lookup, as RabbitMQ's check_name: even an
         * existing amq.gen-... queue cannot be redeclared by name */
        return amqp_fail(err, AMQP_ACCESS_REFUSED, "queue name '%.*s' contains reserved prefix 'amq.*'",
                         (int)name.len, name.ptr);
    }
    q = vhost_queue(vh, name);
    if (q) {
        /* RabbitMQ's assert_equivalence, in its order: the owner (strictly:
         * an exclusive declare needs our own exclusive queue, a plain one a
         * queue without owner), then durable, auto_delete, arguments */
        if (m->exclusive ? !(q->exclusive && q->owner == ch->c) : q->exclusive)
            return queue_locked(q, err);
        if (q->durable != durable)
            return amqp_fail(err, AMQP_PRECONDITION_FAILED,
                             "inequivalent arg 'durable' for queue '%s' in vhost '%s': received '%s' but current is '%s'",
                             q->name, vh->name, bool_str(durable), bool_str(q->durable));
        if (q->auto_delete != m->auto_delete)
            return amqp_fail(err, AMQP_PRECONDITION_FAILED,
                             "inequivalent arg 'auto_delete' for queue '%s' in vhost '%s': received '%s' but current is '%s'",
                             q->name, vh->name, bool_str(m->auto_delete), bool_str(q->auto_delete));
        if (queue_args_equivalent((amqp_table){q->args, q->argslen}, m->arguments, q->name, vh->name, err) < 0)
            return -1;
        goto ok;
    }
    {
        char qn[256];
        memcpy(qn, name.ptr, name.len);
        qn[name.len] = 0;
        if (queue_args_validate(m->arguments, qn, vh->name, err) < 0 ||
            queue_args_check_type(m->arguments, m->durable, m->exclusive, m->auto_delete, qn, vh->name, err) < 0)
            return -1;
    }
    q = queue_new(vh, name, durable, m->exclusive, m->auto_delete, m->arguments, ch->c);
    if (!q)
        return amqp_fail(err, AMQP_INTERNAL_ERROR, "out of memory");
    if (q->durable && vh->b->st &&
        (rc = store_queue_declared(vh->b->st, queue_def(q, &(store_queue_def){0}), q, &q->id)) < 0) {
        queue_delete(q);
        return amqp_fail(err, AMQP_INTERNAL_ERROR, "cannot record queue '%.*s' on disk", (int)name.len, name.ptr);
    }
    log_debug("queue '%s' declared (durable=%d exclusive=%d auto_delete=%d)", q->name, q->durable, q->exclusive,
              q->auto_delete);
ok:
    remember_queue(ch, name);
    if (!m->nowait) {
        amqp_queue_declare_ok ok = {
            .queue = name,
            .message_count = queue_message_count(q),
            .consumer_count = q->ncons,
        };
        conn_send_method(ch->c, ch->id, AMQP_QUEUE_DECLARE_OK, &ok);
        /* as RabbitMQ: reading the queue's counts for the declare-ok counts
         * as using it (x-expires starts over); a nowait declare does not */
        queue_touch(q);
    }
    return 0;
}

static int queue_delete_method(channel *ch, const amqp_queue_delete *m, amqp_error *err)
{
    vhost *vh = ch->c->vh;
    amqp_str name = m->queue;
    uint32_t n = 0;
    queue *q;

    if (expand_name(ch, &name, err) < 0)
        return -1;
    q = vhost_queue(vh, name); /* a missing one is delete-ok 0 */
    if (q) {
        if (q->exclusive && q->owner != ch->c)
            return queue_locked(q, err);
        if (m->if_unused && q->ncons > 0)
            return amqp_fail(err, AMQP_PRECONDITION_FAILED, "queue '%s' in vhost '%s' in use", q->name, vh->name);
        if (m->if_empty && queue_message_count(q) > 0)
            return amqp_fail(err, AMQP_PRECONDITION_FAILED, "queue '%s' in vhost '%s' not empty", q->name,
                             vh->name);
        n = queue_delete(q);
    }
    if (!m->nowait) {
        amqp_queue_delete_ok ok = {.message_count = n};
        conn_send_method(ch->c, ch->id, AMQP_QUEUE_DELETE_OK, &ok);
    }
    return 0;
}

static int queue_purge_method(channel *ch, const amqp_queue_purge *m, amqp_error *err)
{
    queue *q;
    uint32_t n;

    if (channel_queue_access(ch, m->queue, &q, err) < 0)
        return -1;
    n = queue_purge(q);
    if (!m->nowait) {
        amqp_queue_purge_ok ok = {.message_count = n};
        conn_send_method(ch->c, ch->id, AMQP_QUEUE_PURGE_OK, &ok);
    }
    return 0;
}

/* Add (bind) or remove a binding from src to a queue or an exchange. */
static int do_bind(channel *ch, bool bind, exchange *src, queue *q, exchange *dst, amqp_str key, amqp_table args,
                   amqp_error *err)
{
    store *st = ch->c->vh->b->st;
    binding *b = binding_find(src, q, dst, key, args);

    if (bind) {
        if (b)
            return 0;
        if (src->type->validate && src->type->validate(args, err) < 0)
            return -1;
        if (!(b = binding_add(src, q, dst, key, args)))
            return amqp_fail(err, AMQP_INTERNAL_ERROR, "out of memory");
        if (binding_durable(b) && st && store_binding(st, binding_def(b, &(store_binding_def){0}), true) < 0) {
            binding_remove(b);
            return amqp_fail(err, AMQP_INTERNAL_ERROR, "cannot record the binding on disk");
        }
        return 0;
    }
    if (b) {
        if (binding_durable(b) && st)
            store_binding(st, binding_def(b, &(store_binding_def){0}), false);
        binding_remove(b);
    }
    return 0;
}

static int queue_bind_method(channel *ch, bool bind, amqp_str qname, amqp_str xname, amqp_str key,
                             amqp_table args, amqp_error *err)
{
    queue *q;
    exchange *x;
    vhost *vh = ch->c->vh;

    /* as RabbitMQ: the empty-name shortcuts first (an empty key with an
     * empty queue name is the queue's name), then the default exchange */
    if (qname.len == 0 && key.len == 0 && expand_name(ch, &key, err) < 0)
        return -1;
    if (expand_name(ch, &qname, err) < 0)
        return -1;
    if (xname.len == 0)
        return amqp_fail(err, AMQP_ACCESS_REFUSED, "operation not permitted on the default exchange");
    if (!bind) {
        /* unbinding what does not exist is fine, as in RabbitMQ; only an
         * existing binding of another connection's exclusive queue is 405 */
        x = vhost_exchange(vh, xname);
        q = vhost_queue(vh, qname);
        if (!x || !q)
            return 0;
        if (q->exclusive && q->owner != ch->c && binding_find(x, q, NULL, key, args))
            return queue_locked(q, err);
        return do_bind(ch, false, x, q, NULL, key, args, err);
    }
    /* the source is named first when both ends are missing */
    if (!(x = vhost_exchange(vh, xname)))
        return no_exchange(vh, xname, err);
    if (channel_queue_access(ch, qname, &q, err) < 0)
        return -1;
    return do_bind(ch, true, x, q, NULL, key, args, err);
}

static int exchange_bind_method(channel *ch, bool bind, amqp_str dname, amqp_str sname, amqp_str key,
                                amqp_table args, amqp_error *err)
{
    vhost *vh = ch->c->vh;
    exchange *src, *dst;

    if (dname.len == 0 || sname.len == 0)
        return amqp_fail(err, AMQP_ACCESS_REFUSED, "operation not permitted on the default exchange");
    src = vhost_exchange(vh, sname);
    dst = vhost_exchange(vh, dname);
    if (!bind && (!src || !dst))
        return 0;
    if (!src)
        return no_exchange(vh, sname, err);
    if (!dst)
        return no_exchange(vh, dname, err);
    return do_bind(ch, bind, src, NULL, dst, key, args, err);
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
