/*
 * recovery.c - the broker's side of the store.  The store (src/store/)
 * knows nothing above it: at start it reads its definitions log and its
 * segments and hands each definition and each message to the hooks here,
 * which build the vhost's queues, exchanges and bindings with the same
 * functions a client's declarations use, and append the messages to
 * their queues.  The store knows a queue by its id and by the handle
 * declare_queue returns (the queue itself).  Going the other way, the
 * store writes plain records, made here from the broker's structs
 * (queue_def, exchange_def, binding_def).
 *
 * Speed: every hook is one hash lookup or insertion (vhost_queue,
 * vhost_exchange, binding_find on the vhost's binding index), so recovery
 * stays linear in what it recovers (66,000 bindings to one exchange in
 * 0.1 s).  Nothing recovered is written back while it is replayed: the
 * broker's store pointer is not set until store_open returns, and what
 * replay deletes is made non-durable first.
 */
#include "recovery.h"

#include <string.h>

#include "log.h"
#include "queue_region.h"

/* ------------------------------------------------------------- records */

amqp_str recovery_vhost_name(const vhost *vh)
{
    return strcmp(vh->name, "/") ? amqp_cstr(vh->name) : (amqp_str){"", 0};
}

const store_queue_def *queue_def(const queue *q, store_queue_def *d)
{
    *d = (store_queue_def){
        .vhost = recovery_vhost_name(q->vh),
        .name = {q->name, q->namelen},
        .durable = q->durable,
        .auto_delete = q->auto_delete,
        .arguments = {q->args, q->argslen},
        .id = q->id,
    };
    return d;
}

const store_exchange_def *exchange_def(const exchange *x, store_exchange_def *d)
{
    *d = (store_exchange_def){
        .vhost = recovery_vhost_name(x->vh),
        .name = {x->name, x->namelen},
        .type = {x->type->name, (uint32_t)strlen(x->type->name)},
        .durable = x->durable,
        .auto_delete = x->auto_delete,
        .internal = x->internal,
        .arguments = {x->args, x->argslen},
    };
    return d;
}

const store_binding_def *binding_def(const binding *b, store_binding_def *d)
{
    *d = (store_binding_def){
        .vhost = recovery_vhost_name(b->src->vh),
        .source = {b->src->name, b->src->namelen},
        .destination = b->q ? (amqp_str){b->q->name, b->q->namelen} : (amqp_str){b->dst->name, b->dst->namelen},
        .destination_type = b->q ? DEF_DEST_QUEUE : DEF_DEST_EXCHANGE,
        .routing_key = {b->key, b->keylen},
        .arguments = {b->args, b->argslen},
    };
    return d;
}

/* --------------------------------------------------------------- hooks */

static void *declare_queue(void *ctx, const store_queue_def *d)
{
    vhost *vh = ctx;
    queue *q;

    if ((q = exchange_delayed_recover(vh, d)))
        return q; /* a delayed exchange's hold (exchange_delayed.c) */
    if (vhost_queue(vh, d->name))
        return NULL;
    /* durable whatever the record's flag says: the log holds durable
     * queues only, and one made transient here (a damaged or hand-made
     * record) would be left out of the rewrite that ends recovery, its
     * messages lost at the next start (found by tests/fuzz/fuzz_store.c) */
    q = queue_new(vh, d->name, true, false, d->auto_delete, d->arguments, NULL);
    if (!q)
        return NULL;
    q->id = d->id;
    return q;
}

static void delete_queue(void *ctx, void *handle)
{
    queue *q = handle;
    (void)ctx;
    q->durable = false; /* no store bookkeeping for it now */
    queue_delete(q);
}

/* The default exchange and the amq.* ones: made with every vhost, never
 * declared, deleted or written by a client (RabbitMQ refuses it). */
static bool predeclared_name(amqp_str name)
{
    return name.len == 0 || (name.len >= 4 && memcmp(name.ptr, "amq.", 4) == 0);
}

static int declare_exchange(void *ctx, const store_exchange_def *d)
{
    vhost *vh = ctx;
    const exchange_type *t;
    exchange *x;

    if (!(t = exchange_type_find(d->type)) || d->type.len == 0)
        return -1;
    if (predeclared_name(d->name)) {
        /* only a damaged file has one: the rewrite would not keep it, so
         * the next start would differ from this one */
        log_warn("recovery: ignored a record redeclaring the predeclared exchange '%.*s'", (int)d->name.len,
                 d->name.ptr);
        return 0;
    }
    if ((x = vhost_exchange(vh, d->name)))
        exchange_delete(x);
    /* durable, as a queue above: the rewrite keeps durable exchanges only */
    if (!exchange_new(vh, d->name, t, true, d->auto_delete, d->internal, d->arguments))
        return -1;
    return 0;
}

static void delete_exchange(void *ctx, amqp_str name)
{
    vhost *vh = ctx;
    exchange *x;
    if (predeclared_name(name)) {
        log_warn("recovery: ignored a record deleting the predeclared exchange '%.*s'", (int)name.len,
                 name.ptr);
        return;
    }
    if ((x = vhost_exchange(vh, name))) {
        x->durable = false; /* no store bookkeeping during replay */
        exchange_delete(x);
    }
}

static int bind_def(void *ctx, const store_binding_def *d, bool add)
{
    vhost *vh = ctx;
    exchange *sx, *dx = NULL;
    queue *dq = NULL;
    binding *b;

    sx = vhost_exchange(vh, d->source);
    if (d->destination_type == DEF_DEST_QUEUE)
        dq = vhost_queue(vh, d->destination);
    else
        dx = vhost_exchange(vh, d->destination);
    if (!sx || (!dq && !dx))
        return 0; /* an end that is gone took the binding with it */
    b = binding_find(sx, dq, dx, d->routing_key, d->arguments);
    if (add && !b && !binding_add(sx, dq, dx, d->routing_key, d->arguments))
        return -1;
    if (!add && b) {
        bool durable = sx->durable;
        sx->durable = false; /* an auto-delete cascade must not write */
        binding_remove(b);
        if (vhost_exchange(vh, d->source) == sx)
            sx->durable = durable;
    }
    return 0;
}

static int message(void *ctx, void *handle, const store_entry *se)
{
    queue *q = handle;
    qentry e;
    int rc;
    (void)ctx;

    queue_entry_from_store(q, se, &e); /* queue_region.c: as a page-in makes it */
    stats_seq_mark(q->vh, se->seq, se->published); /* its age, though its body stays on disk */
    if ((rc = queue_recover(q, &e)) < 0)
        return -1;
    queue_entry_recovered(q, &e, se->props, se->props_len);
    return rc;
}

static int region_run(void *ctx, void *handle, const store_region_run *run, const store_region_exp *exp, size_t nexp,
                      const uint64_t *red, size_t nred)
{
    (void)ctx;
    return queue_region_bulk(handle, run, exp, nexp, red, nred);
}

static void last_seq(void *ctx, uint64_t seq)
{
    vhost *vh = ctx;
    if (seq >= vh->next_seq)
        vh->next_seq = seq + 1;
}

static bool predeclared(const exchange *x)
{
    return predeclared_name((amqp_str){x->name, x->namelen});
}

/* Durable queues, durable exchanges but the predeclared ones, then the
 * durable bindings, exchange by exchange. */
static int each_def(void *ctx, int (*emit)(void *sink, const store_def *d), void *sink)
{
    vhost *vh = ctx;
    store_def d = {.vhost = recovery_vhost_name(vh)};
    size_t i = 0;
    void *v;

    while (map_next(&vh->queues, &i, NULL, NULL, &v)) {
        queue *q = v;
        if (!q->id)
            continue; /* not durable: the store has no number for it */
        d.kind = DEF_QUEUE;
        if (emit(sink, (queue_def(q, &d.queue), &d)) < 0)
            return -1;
    }
    for (i = 0; map_next(&vh->exchanges, &i, NULL, NULL, &v);) {
        exchange *x = v;
        if (!x->durable || predeclared(x))
            continue;
        d.kind = DEF_EXCHANGE;
        if (emit(sink, (exchange_def(x, &d.exchange), &d)) < 0)
            return -1;
        if (exchange_delayed_hold(x) && exchange_delayed_hold(x)->id) {
            /* its hold's record after it, for exchange_delayed_recover */
            d.kind = DEF_QUEUE;
            if (emit(sink, (queue_def(exchange_delayed_hold(x), &d.queue), &d)) < 0)
                return -1;
        }
    }
    for (i = 0; map_next(&vh->exchanges, &i, NULL, NULL, &v);) {
        binding *b;
        for (b = ((exchange *)v)->bindings; b; b = b->src_next) {
            if (!binding_durable(b))
                continue;
            d.kind = DEF_BIND;
            if (emit(sink, (binding_def(b, &d.binding), &d)) < 0)
                return -1;
        }
    }
    return 0;
}

store_recovery recovery_hooks(vhost *vh)
{
    return (store_recovery){
        .ctx = vh,
        .declare_queue = declare_queue,
        .delete_queue = delete_queue,
        .declare_exchange = declare_exchange,
        .delete_exchange = delete_exchange,
        .bind = bind_def,
        .message = message,
        .region_run = region_run,
        .last_seq = last_seq,
        .each_def = each_def,
    };
}
