/*
 * vhost.c - a virtual host: its queues and exchanges by name, the list of
 * queues with deliveries to attempt, and the publish sequence counter
 * (publish.c, which routes and publishes into the vhost, takes from it).
 * warren has one vhost, "/", as a fresh RabbitMQ does.
 *
 * And the domain API on it (vhost.h): declaring, deleting and purging
 * queues, declaring and deleting exchanges, binding and unbinding, and
 * getting a message, with RabbitMQ's rules and its wording for every
 * refusal (clients and their test suites match on these texts), for every
 * front end.  The AMQP handlers (proto/declare.c, basic.get in
 * proto/channel.c) decode a method, call in here and send the -ok.
 *
 * Equivalence: redeclaring an existing queue or exchange must match what
 * exists (durable, auto_delete, exclusive, type, and the arguments RabbitMQ
 * compares, by amqp_value_equiv: 5 as I, l or T alike, 5.0 not), else 406
 * PRECONDITION_FAILED and nothing changes.  For a queue the owner is
 * checked first (405 RESOURCE_LOCKED), as RabbitMQ's assert_equivalence
 * does; an exclusive queue is never durable.
 *
 * A queue's x- arguments (their checks, which of them a redeclare compares,
 * which queue types refuse which) are the table of queue_args.c; this file
 * only says when each check runs: equivalence on a redeclare, validation
 * then the type's refusals on a new queue.
 *
 * Persistence: a durable declaration or binding is recorded by the store
 * (as the plain record queue_def, exchange_def or binding_def of
 * recovery.c makes), which syncs it before the call returns, so the
 * front end's -ok follows it.
 */
#include "vhost.h"

#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "consumer.h"
#include "delay.h"
#include "log.h"
#include "queue_region.h"
#include "recovery.h"
#include "redrive.h"
#include "store/store.h"

static const struct {
    const char *name, *type;
    bool internal;
} predeclared[] = {
    {"", "", false},
    {"amq.direct", "direct", false},
    {"amq.fanout", "fanout", false},
    {"amq.topic", "topic", false},
    {"amq.headers", "headers", false},
    {"amq.match", "headers", false},
    /* RabbitMQ's firehose tracer publishes here when tracing is on; warren
     * has no tracer, but the exchange exists (and can be bound) as there */
    {"amq.rabbitmq.trace", "topic", true},
};

vhost *vhost_new(broker *b, const char *name)
{
    vhost *vh = calloc(1, sizeof *vh);
    size_t i;

    if (!vh || !(vh->name = strdup(name))) {
        free(vh);
        return NULL;
    }
    vh->b = b;
    vh->loop = b->loop;
    vh->paging_threshold = b->cfg.paging_threshold;
    vh->data_dir = b->cfg.data_dir;
    vh->drain = &b->drain;
    vh->next_seq = 1;
    limits_init(&vh->limits);
    map_init(&vh->queues);
    map_init(&vh->exchanges);
    for (i = 0; i < sizeof predeclared / sizeof *predeclared; i++) {
        const exchange_type *t = i == 0 ? &exchange_default : exchange_type_find(amqp_cstr(predeclared[i].type));
        if (!exchange_new(vh, amqp_cstr(predeclared[i].name), t, true, false, predeclared[i].internal,
                          (amqp_table){0})) {
            vhost_free(vh);
            return NULL;
        }
    }
    return vh;
}

void vhost_set_store(vhost *vh, store *st)
{
    size_t i = 0;
    void *v;
    vh->st = st;
    /* a queue recovered with nothing but a region (a checkpoint's runs)
     * that expires messages needs its head in RAM for the head timer */
    while (st && map_next(&vh->queues, &i, NULL, NULL, &v))
        if (((queue *)v)->expiring && queue_region_count(v))
            queue_region_page_in(v);
}

void vhost_free(vhost *vh)
{
    size_t i = 0;
    void *v;

    if (!vh)
        return;
    redrive_free_all(vh); /* first: its messages in flight go back to their queues */
    while (vh->dirty) {
        queue *q = vh->dirty;
        vh->dirty = q->dirty_next;
        q->dirty = false;
        queue_unref(q);
    }
    /* exchanges first: they take every binding with them */
    for (;;) {
        i = 0;
        if (!map_next(&vh->exchanges, &i, NULL, NULL, &v))
            break;
        exchange_delete(v);
    }
    i = 0;
    while (map_next(&vh->queues, &i, NULL, NULL, &v)) {
        queue *q = v;
        q->deleted = true; /* before the purge: no timer is armed again */
        queue_purge(q);
        queue_unref(q);
    }
    map_free(&vh->queues);
    map_free(&vh->exchanges);
    map_free(&vh->reply_to);
    free(vh->bindex);
    free(vh->name);
    free(vh);
}

queue *vhost_queue(vhost *vh, amqp_str name)
{
    return map_get(&vh->queues, name.ptr, name.len);
}

exchange *vhost_exchange(vhost *vh, amqp_str name)
{
    return map_get(&vh->exchanges, name.ptr, name.len);
}

bool vhost_dispatch(vhost *vh)
{
    queue *list = vh->dirty;
    vh->dirty = NULL;
    while (list) {
        queue *q = list;
        list = q->dirty_next;
        q->dirty = false;
        consumer_dispatch(q);
        queue_unref(q);
    }
    return vh->dirty != NULL;
}

int64_t vhost_now_ms(const vhost *vh)
{
    return ev_wall_ms(vh->loop);
}

/* ============================================================ the domain */

static const char *bool_str(bool b)
{
    return b ? "true" : "false";
}

static bool reserved_name(amqp_str name)
{
    return name.len >= 4 && memcmp(name.ptr, "amq.", 4) == 0;
}

/* A name or key longer than AMQP's shortstr cannot come over AMQP; a front
 * end that takes strings of any length (HTTP) is refused one here. */
static int too_long(const char *what, amqp_str s, amqp_error *err)
{
    return amqp_fail(err, AMQP_PRECONDITION_FAILED, "%s '%.*s...' is longer than 255 bytes", what, 32, s.ptr);
}

/* -------------------------------------------------------------- exchanges */

static int no_exchange(vhost *vh, amqp_str name, amqp_error *err)
{
    return amqp_fail(err, AMQP_NOT_FOUND, "no exchange '%.*s' in vhost '%s'", (int)name.len, name.ptr, vh->name);
}

int vhost_declare_exchange(vhost *vh, const exchange_spec *s, bool passive, amqp_error *err)
{
    exchange *x = vhost_exchange(vh, s->name);
    const exchange_type *t = NULL;

    /* as RabbitMQ: the type is checked first (not for a passive declare) */
    if (!passive) {
        if (s->type.len == 0)
            return amqp_fail(err, AMQP_COMMAND_INVALID, "invalid exchange type ''");
        t = exchange_type_find(s->type);
        if (!t)
            return amqp_fail(err, AMQP_COMMAND_INVALID, "%s exchange type '%.*s'",
                             exchange_type_is_atom(s->type) ? "invalid" : "unknown", (int)s->type.len, s->type.ptr);
    }
    if (s->name.len == 0)
        return amqp_fail(err, AMQP_ACCESS_REFUSED, "operation not permitted on the default exchange");
    if (passive)
        return x ? 0 : no_exchange(vh, s->name, err);
    if (s->name.len > 255)
        return too_long("exchange name", s->name, err);
    if (reserved_name(s->name) && !x)
        return amqp_fail(err, AMQP_ACCESS_REFUSED, "exchange name '%.*s' contains reserved prefix 'amq.*'",
                         (int)s->name.len, s->name.ptr);
    {
        amqp_value ae;
        if (!x && amqp_table_get(s->arguments, "alternate-exchange", &ae) && ae.type != 'S')
            return amqp_fail(err, AMQP_PRECONDITION_FAILED,
                             "invalid type '%s' for arg 'alternate-exchange' in exchange '%.*s' in vhost '%s'",
                             amqp_type_name(ae.type), (int)s->name.len, s->name.ptr, vh->name);
    }
    if (!x && t == &exchange_delayed && exchange_delayed_validate(s->arguments, err) < 0)
        return -1; /* as the plugin's validate, on a new exchange */
    if (!x && t->check && t->check(s->arguments, err) < 0)
        return -1;
    if (x) {
        if (x->type != t)
            return amqp_fail(err, AMQP_PRECONDITION_FAILED,
                             "inequivalent arg 'type' for exchange '%s' in vhost '%s': received '%.*s' but current is '%s'",
                             x->name, vh->name, (int)s->type.len, s->type.ptr, x->type->name);
        if (x->durable != s->durable)
            return amqp_fail(err, AMQP_PRECONDITION_FAILED,
                             "inequivalent arg 'durable' for exchange '%s' in vhost '%s': received '%s' but current is '%s'",
                             x->name, vh->name, bool_str(s->durable), bool_str(x->durable));
        if (x->auto_delete != s->auto_delete)
            return amqp_fail(err, AMQP_PRECONDITION_FAILED,
                             "inequivalent arg 'auto_delete' for exchange '%s' in vhost '%s': received '%s' but current is '%s'",
                             x->name, vh->name, bool_str(s->auto_delete), bool_str(x->auto_delete));
        if (x->internal != s->internal)
            return amqp_fail(err, AMQP_PRECONDITION_FAILED,
                             "inequivalent arg 'internal' for exchange '%s' in vhost '%s': received '%s' but current is '%s'",
                             x->name, vh->name, bool_str(s->internal), bool_str(x->internal));
        return queue_args_compare((amqp_table){x->args, x->argslen}, s->arguments, "alternate-exchange", NULL,
                                  "exchange", x->name, vh->name, err) < 0 ? -1 : 0;
    }
    if (!(x = exchange_new(vh, s->name, t, s->durable, s->auto_delete, s->internal, s->arguments)))
        return amqp_fail(err, AMQP_INTERNAL_ERROR, "out of memory");
    if (x->durable && vh->st &&
        store_exchange_declared(vh->st, exchange_def(x, &(store_exchange_def){0})) < 0) {
        x->durable = false; /* never recorded: nothing to record of its deletion */
        exchange_delete(x);
        return amqp_fail(err, AMQP_INTERNAL_ERROR, "cannot record exchange '%.*s' on disk", (int)s->name.len,
                         s->name.ptr);
    }
    return 0;
}

int vhost_delete_exchange(vhost *vh, amqp_str name, bool if_unused, amqp_error *err)
{
    exchange *x;

    if (name.len == 0)
        return amqp_fail(err, AMQP_ACCESS_REFUSED, "operation not permitted on the default exchange");
    if (reserved_name(name))
        return amqp_fail(err, AMQP_ACCESS_REFUSED, "deletion of system exchange '%.*s' in vhost '%s' not allowed",
                         (int)name.len, name.ptr, vh->name);
    x = vhost_exchange(vh, name);
    if (x) {
        if (if_unused && x->bindings)
            return amqp_fail(err, AMQP_PRECONDITION_FAILED, "exchange '%s' in vhost '%s' in use", x->name,
                             vh->name);
        exchange_delete(x);
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

static int no_queue(vhost *vh, amqp_str name, amqp_error *err)
{
    return amqp_fail(err, AMQP_NOT_FOUND, "no queue '%.*s' in vhost '%s'", (int)name.len, name.ptr, vh->name);
}

int vhost_queue_access(vhost *vh, amqp_str name, const queue_owner *owner, queue **out, amqp_error *err)
{
    queue *q = vhost_queue(vh, name);

    if (!q)
        return no_queue(vh, name, err);
    if (q->exclusive && q->owner != owner)
        return queue_locked(q, err);
    *out = q;
    return 0;
}

/* A new queue: its arguments validated, then the ones its type refuses
 * (RabbitMQ's order), created, and recorded when durable. */
static int create_queue(vhost *vh, const queue_spec *s, bool durable, queue_owner *owner, queue **out,
                        amqp_error *err)
{
    char qn[256];
    queue *q;

    memcpy(qn, s->name.ptr, s->name.len);
    qn[s->name.len] = 0;
    /* the type check sees the durable flag as asked (an exclusive queue
     * asked durable is refused what a durable one is) */
    if (queue_args_validate(s->arguments, qn, vh->name, err) < 0 ||
        queue_args_check_type(s->arguments, s->durable, s->exclusive, s->auto_delete, qn, vh->name, err) < 0)
        return -1;
    if (s->exclusive && !owner)
        return amqp_fail(err, AMQP_PRECONDITION_FAILED,
                         "exclusive queue '%s' in vhost '%s' needs a connection to own it", qn, vh->name);
    q = queue_new(vh, s->name, durable, s->exclusive, s->auto_delete, s->arguments, owner);
    if (!q)
        return amqp_fail(err, AMQP_INTERNAL_ERROR, "out of memory");
    if (q->durable && vh->st &&
        store_queue_declared(vh->st, queue_def(q, &(store_queue_def){0}), q, &q->id) < 0) {
        queue_delete(q);
        return amqp_fail(err, AMQP_INTERNAL_ERROR, "cannot record queue '%.*s' on disk", (int)s->name.len,
                         s->name.ptr);
    }
    log_debug("queue '%s' declared (durable=%d exclusive=%d auto_delete=%d)", q->name, q->durable, q->exclusive,
              q->auto_delete);
    *out = q;
    return 0;
}

int vhost_declare_queue(vhost *vh, const queue_spec *s, queue_owner *owner, bool passive, queue_info *out,
                        amqp_error *err)
{
    /* as RabbitMQ: an exclusive queue is never durable, whatever was asked
     * (it cannot outlive its connection, so it is never on disk) */
    bool durable = s->durable && !s->exclusive;
    queue *q = NULL;

    if (passive) {
        /* a lookup, of exactly the name given */
        if (vhost_queue_access(vh, s->name, owner, &q, err) < 0)
            return -1;
    } else if (s->name.len == 0 || s->name.len > 255) {
        return s->name.len ? too_long("queue name", s->name, err)
                           : amqp_fail(err, AMQP_PRECONDITION_FAILED, "a queue name cannot be empty");
    } else if (!s->server_named && reserved_name(s->name)) {
        /* checked before the lookup, as RabbitMQ's check_name: even an
         * existing amq.gen-... queue cannot be redeclared by name */
        return amqp_fail(err, AMQP_ACCESS_REFUSED, "queue name '%.*s' contains reserved prefix 'amq.*'",
                         (int)s->name.len, s->name.ptr);
    } else if ((q = vhost_queue(vh, s->name))) {
        /* RabbitMQ's assert_equivalence, in its order: the owner (strictly:
         * an exclusive declare needs our own exclusive queue, a plain one a
         * queue without owner), then durable, auto_delete, arguments */
        if (s->exclusive ? !(q->exclusive && q->owner == owner) : q->exclusive)
            return queue_locked(q, err);
        if (q->durable != durable)
            return amqp_fail(err, AMQP_PRECONDITION_FAILED,
                             "inequivalent arg 'durable' for queue '%s' in vhost '%s': received '%s' but current is '%s'",
                             q->name, vh->name, bool_str(durable), bool_str(q->durable));
        if (q->auto_delete != s->auto_delete)
            return amqp_fail(err, AMQP_PRECONDITION_FAILED,
                             "inequivalent arg 'auto_delete' for queue '%s' in vhost '%s': received '%s' but current is '%s'",
                             q->name, vh->name, bool_str(s->auto_delete), bool_str(q->auto_delete));
        if (queue_args_equivalent((amqp_table){q->args, q->argslen}, s->arguments, q->name, vh->name, err) < 0)
            return -1;
    } else if (limit_reached(vh->limits.v[LIMIT_MAX_QUEUES], map_count(&vh->queues))) {
        /* RabbitMQ's words (rabbit_vhost_limit), every queue counted */
        return amqp_fail(err, AMQP_PRECONDITION_FAILED, "cannot declare queue '%.*s': queue limit in vhost '%s' (%lld) is reached",
                         (int)s->name.len, s->name.ptr, vh->name, (long long)vh->limits.v[LIMIT_MAX_QUEUES]);
    } else if (create_queue(vh, s, durable, owner, &q, err) < 0) {
        return -1;
    } else {
        vh->stats.queues_created++;
    }
    vh->stats.queues_declared += !passive;
    if (out) {
        out->messages = queue_message_count(q);
        out->consumers = q->ncons;
        /* as RabbitMQ: reading the queue's counts for the declare-ok
         * counts as using it (x-expires starts over) */
        queue_touch(q);
    }
    return 0;
}

int vhost_delete_queue(vhost *vh, amqp_str name, const queue_owner *owner, bool if_unused, bool if_empty,
                       uint32_t *messages, amqp_error *err)
{
    queue *q = vhost_queue(vh, name);

    *messages = 0;
    if (!q)
        return 0;
    if (q->exclusive && q->owner != owner)
        return queue_locked(q, err);
    if (if_unused && q->ncons > 0)
        return amqp_fail(err, AMQP_PRECONDITION_FAILED, "queue '%s' in vhost '%s' in use", q->name, vh->name);
    if (if_empty && queue_message_count(q) > 0)
        return amqp_fail(err, AMQP_PRECONDITION_FAILED, "queue '%s' in vhost '%s' not empty", q->name, vh->name);
    *messages = queue_delete(q);
    return 0;
}

int vhost_purge_queue(vhost *vh, amqp_str name, const queue_owner *owner, uint32_t *messages, amqp_error *err)
{
    queue *q = NULL;

    if (vhost_queue_access(vh, name, owner, &q, err) < 0)
        return -1;
    *messages = queue_purge(q);
    return 0;
}

/* --------------------------------------------------------------- bindings */

/* Add or remove a binding from src to a queue or an exchange. */
static int do_bind(vhost *vh, bool add, exchange *src, queue *q, exchange *dst, const binding_spec *s,
                   amqp_error *err)
{
    store *st = vh->st;
    binding *b = binding_find(src, q, dst, s->key, s->arguments);

    if (add) {
        if (b)
            return 0;
        if (exchange_delayed_inner(src)->validate && exchange_delayed_inner(src)->validate(s->arguments, err) < 0)
            return -1;
        if (!(b = binding_add(src, q, dst, s->key, s->arguments)))
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

int vhost_bind(vhost *vh, bool add, const binding_spec *s, const queue_owner *owner, amqp_error *err)
{
    exchange *src, *dst = NULL;
    queue *q = NULL;

    if (s->source.len == 0 || (!s->to_queue && s->destination.len == 0))
        return amqp_fail(err, AMQP_ACCESS_REFUSED, "operation not permitted on the default exchange");
    if (s->key.len > 255)
        return too_long("routing key", s->key, err);
    src = vhost_exchange(vh, s->source);
    if (s->to_queue) {
        if (!add) {
            /* unbinding what does not exist is fine, as in RabbitMQ; only
             * an existing binding of another's exclusive queue is 405 */
            q = vhost_queue(vh, s->destination);
            if (!src || !q)
                return 0;
            if (q->exclusive && q->owner != owner && binding_find(src, q, NULL, s->key, s->arguments))
                return queue_locked(q, err);
            return do_bind(vh, false, src, q, NULL, s, err);
        }
        /* the source is named first when both ends are missing */
        if (!src)
            return no_exchange(vh, s->source, err);
        if (vhost_queue_access(vh, s->destination, owner, &q, err) < 0)
            return -1;
        return do_bind(vh, true, src, q, NULL, s, err);
    }
    dst = vhost_exchange(vh, s->destination);
    if (!add && (!src || !dst))
        return 0;
    if (!src)
        return no_exchange(vh, s->source, err);
    if (!dst)
        return no_exchange(vh, s->destination, err);
    return do_bind(vh, add, src, NULL, dst, s, err);
}

/* -------------------------------------------------------------------- get */

int vhost_get(vhost *vh, amqp_str name, const queue_owner *owner, vhost_got *out, amqp_error *err)
{
    queue *q = NULL;

    if (vhost_queue_access(vh, name, owner, &q, err) < 0)
        return -1;
    out->q = q;
    out->m = NULL;
    queue_touch(q);
    for (;;) {
        int why;
        if (!queue_take(q, &out->e))
            return VHOST_GET_EMPTY;
        q->unacked++;
        why = queue_entry_msg(q, &out->e, &out->m, "delivered");
        if (why == STORE_READ_OK)
            break;
        if (why == STORE_READ_AGAIN)
            return VHOST_GET_AGAIN;
        /* damaged: moved aside; the get goes on to the next message */
        queue_settle(q, &out->e);
    }
    out->left = queue_message_count(q);
    return VHOST_GET_OK;
}

/* --------------------------------------------------------------- browse */

/* A body as a browse may see it: in memory, or read from the store (a
 * failed read is reported as unreadable; nothing is moved aside). */
static msg *browse_msg(vhost *vh, const qentry *e)
{
    msg *m = NULL;
    if (e->m)
        return msg_ref(e->m);
    if (vh->st && (e->flags & QE_STORED) && store_read_msg(vh->st, e->seg, e->off, &m) != STORE_READ_OK)
        m = NULL;
    return m;
}

typedef struct browse_walk {
    vhost *vh;
    uint32_t left;
    int (*fn)(void *arg, const vhost_browsed *b);
    void *arg;
} browse_walk;

static int browse_unacked(void *arg, const stats_unacked *u)
{
    browse_walk *w = arg;
    msg *m;
    int rc;

    if (!w->left)
        return 1;
    w->left--;
    m = browse_msg(w->vh, u->e);
    rc = w->fn(w->arg, &(vhost_browsed){m, u->e->size, (u->e->flags & QE_REDELIVERED) != 0, -1, u, 0});
    if (m)
        msg_unref(m);
    return rc;
}

typedef struct browse_held {
    vhost *vh;
    int (*fn)(void *arg, const vhost_browsed *b);
    void *arg;
} browse_held;

static int browse_one_held(void *arg, const qentry *e, int64_t due)
{
    browse_held *w = arg;
    int64_t now = vhost_now_ms(w->vh), t = e->m ? e->m->published : stats_seq_time(w->vh, e->seq);
    msg *m = browse_msg(w->vh, e);
    int rc = w->fn(w->arg, &(vhost_browsed){m, e->size, (e->flags & QE_REDELIVERED) != 0,
                                            t < 0 ? -1 : (now > t ? now - t : 0), NULL, due});
    if (m)
        msg_unref(m);
    return rc;
}

int vhost_browse_delayed(vhost *vh, amqp_str name, bool of_exchange, uint32_t count,
                         int (*fn)(void *arg, const vhost_browsed *b), void *arg, amqp_error *err)
{
    browse_held w = {vh, fn, arg};
    queue *q;
    if (of_exchange) {
        exchange *x = vhost_exchange(vh, name);
        if (!x)
            return no_exchange(vh, name, err);
        q = exchange_delayed_hold(x);
    } else if (!(q = vhost_queue(vh, name))) {
        return no_queue(vh, name, err);
    }
    return q ? delay_each_held(q, count, browse_one_held, &w) : 0;
}

typedef struct browse_deep {
    browse_walk *w;
    int64_t now;
} browse_deep;

/* A message of the queue's region, beyond the window (queue_region.c). */
static int browse_region(void *arg, const qentry *e)
{
    browse_deep *b = arg;
    browse_walk *w = b->w;
    int64_t t = stats_seq_time(w->vh, e->seq);
    msg *m = browse_msg(w->vh, e);
    int rc;
    w->left--;
    rc = w->fn(w->arg, &(vhost_browsed){m, e->size, (e->flags & QE_REDELIVERED) != 0,
                                        t < 0 ? -1 : (b->now > t ? b->now - t : 0), NULL, 0});
    if (m)
        msg_unref(m);
    return rc;
}

int vhost_browse(vhost *vh, amqp_str name, bool unacked, uint32_t count,
                 int (*fn)(void *arg, const vhost_browsed *b), void *arg, amqp_error *err)
{
    queue *q = vhost_queue(vh, name);
    browse_walk w = {vh, count, fn, arg};
    int64_t now = vhost_now_ms(vh);
    int lv, rc = 0;

    if (!q)
        return no_queue(vh, name, err);
    if (unacked) {
        const stats_vhost *sv = &vh->stats;
        if (!sv->sessions || !sv->sessions->each_unacked || !q->unacked)
            return 0;
        rc = sv->sessions->each_unacked(sv->sessions_ctx, q, browse_unacked, &w);
        return rc > 0 && !w.left ? 0 : rc;
    }
    /* the order queue_take follows: the highest priority level first */
    for (lv = q->nlevels - 1; lv >= 0 && w.left && !rc; lv--) {
        size_t i;
        for (i = 0; i < q->levels[lv].len && w.left && !rc; i++) {
            const qentry *e = qdeque_at(&q->levels[lv], i);
            int64_t t = e->m ? e->m->published : stats_seq_time(vh, e->seq);
            msg *m = browse_msg(vh, e);
            w.left--;
            rc = fn(arg, &(vhost_browsed){m, e->size, (e->flags & QE_REDELIVERED) != 0,
                                          t < 0 ? -1 : (now > t ? now - t : 0), NULL, 0});
            if (m)
                msg_unref(m);
        }
    }
    if (!rc && w.left && q->region) {
        browse_deep b = {&w, now};
        rc = queue_region_each(q, w.left, browse_region, &b);
    }
    return rc;
}
