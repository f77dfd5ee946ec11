/*
 * exchange_delayed.c - the x-delayed-message type: the interface of the
 * rabbitmq-delayed-message-exchange plugin, durable and without a plugin.
 *
 * The exchange is declared with `x-delayed-type` naming the type it
 * routes as (direct, fanout, topic, headers); its bindings are that
 * type's, kept in that type's index.  A message whose `x-delay` header
 * asks for a delay (delay_header_ms: as the plugin reads it) is routed to
 * the exchange's *hold* instead: a queue in no vhost map, which no client
 * can name, consume or bind, whose every entry waits in the delay heap
 * (delay.c) until its time.  Then it is handed to fire() here, which
 * routes it from the exchange as the plugin does at that moment (the
 * x-delay header turned to minus the delay, so the delayed type routes
 * it and nothing delays it twice: e2e bindings and an alternate exchange
 * apply), publishes it to those queues, and settles it in the hold once
 * the new copy is on disk (at least once: a crash between the two can
 * deliver it twice, never lose it).
 *
 * Because the hold is a queue, a persistent message to a durable delayed
 * exchange goes through the store like any other: one record, a confirm
 * after the sync, recovered after a restart or kill -9 and held again
 * until its time (published + x-delay, both in the record).  The hold is
 * recorded in the definitions log as a durable queue named
 * "amq.delayed.<exchange>" at the first message that needs it (so its
 * record follows the exchange's), and recovery.c hands that record and
 * its messages back to the exchange (exchange_delayed_recover).  A hold
 * of a name longer than 243 bytes cannot be named so: it keeps its
 * messages in memory only.
 */
#include "delay.h"
#include "exchange.h"
#include "queue.h"
#include "vhost.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "recovery.h"
#include "store/store.h"

#define HOLD_PREFIX "amq.delayed."
#define HOLD_PREFIX_LEN 12

typedef struct pending {
    qentry e;                   /* the hold's entry, fired */
    uint64_t lsn;               /* settled when the new copy is synced */
} pending;

typedef struct delayed {
    exchange *x;
    const exchange_type *inner; /* x-delayed-type */
    void *inner_index;          /* the inner type's x->index */
    queue *hold;
    pending *pend;
    uint32_t npend, cappend;
    ev_timer pend_timer;
    bool firing;                /* fire() is routing: its x-delay is spent */
} delayed;

/* ------------------------------------------------------ the inner type */

/* The inner type works on x->index as its own: lend it for the call. */
#define WITH_INNER(x, d, call)                                                 \
    do {                                                                       \
        (x)->index = (d)->inner_index;                                         \
        call;                                                                  \
        (d)->inner_index = (x)->index;                                         \
        (x)->index = (d);                                                      \
    } while (0)

static const exchange_type *inner_of(amqp_table args)
{
    amqp_value v;
    const exchange_type *t;
    if (!amqp_table_get(args, "x-delayed-type", &v) || v.type != 'S' || !v.v.s.len)
        return NULL;
    t = exchange_type_find(v.v.s);
    return t == &exchange_delayed ? NULL : t;
}

int exchange_delayed_validate(amqp_table args, amqp_error *err)
{
    amqp_value v;
    if (!amqp_table_get(args, "x-delayed-type", &v) || v.type != 'S')
        return amqp_fail(err, AMQP_PRECONDITION_FAILED,
                         "Invalid argument, 'x-delayed-type' must be an existing exchange type");
    if (amqp_str_eqc(v.v.s, "x-delayed-message"))
        return amqp_fail(err, AMQP_PRECONDITION_FAILED,
                         "Invalid argument, 'x-delayed-message' can't be used for 'x-delayed-type'");
    /* as rabbit_exchange:check_type, which the plugin calls */
    if (!v.v.s.len)
        return amqp_fail(err, AMQP_COMMAND_INVALID, "invalid exchange type ''");
    if (!exchange_type_find(v.v.s))
        return amqp_fail(err, AMQP_COMMAND_INVALID, "%s exchange type '%.*s'",
                         exchange_type_is_atom(v.v.s) ? "invalid" : "unknown", (int)v.v.s.len, v.v.s.ptr);
    return 0;
}

/* --------------------------------------------------------------- firing */

static void settle_synced(ev_loop *loop, ev_timer *t)
{
    delayed *d = (delayed *)((char *)t - offsetof(delayed, pend_timer));
    store *st = d->x->vh->st;
    uint32_t i, keep = 0;
    (void)loop;

    for (i = 0; i < d->npend; i++) {
        pending *p = &d->pend[i];
        int state = st ? store_lsn_state(st, p->lsn) : STORE_SYNCED;
        if (state == STORE_PENDING) {
            d->pend[keep++] = *p;
        } else if (state == STORE_SYNCED) {
            queue_settle(d->hold, &p->e);
        } else {
            /* the new copy is lost: fire this one again in a second */
            delay_refire(d->hold, &p->e, vhost_now_ms(d->x->vh) + 1000);
        }
    }
    d->npend = keep;
    if (keep)
        ev_timer_start(d->x->vh->loop, &d->pend_timer, 1);
}

static void fire(void *ctx, queue *q, qentry *e)
{
    delayed *d = ctx;
    exchange *x = d->x;
    msg *m, *out;
    int64_t ms;
    route_set rs;
    deliver_result res;
    int why = queue_entry_msg(q, e, &m, "routed");

    if (why == STORE_READ_AGAIN) {
        delay_refire(q, e, vhost_now_ms(x->vh) + 1000);
        return;
    }
    if (why != STORE_READ_OK) {
        queue_settle(q, e); /* damaged on disk: logged, and let go */
        return;
    }
    /* as the plugin: x-delay becomes -delay (a signedint), so the
     * message is routed by the delayed type and never delayed again */
    ms = delay_header_ms(msg_props(m), m->props_len);
    out = msg_with_int_header(m, "x-delay", (int32_t)-ms);
    msg_unref(m);
    if (!out) {
        delay_refire(q, e, vhost_now_ms(x->vh) + 1000);
        return;
    }
    out->published = vhost_now_ms(x->vh); /* a TTL counts from now, as when the plugin publishes it */
    route_set_init(&rs);
    d->firing = true; /* x-delay is -delay now: route by the delayed type, no header to read again */
    exchange_route_cc(x, (amqp_str){msg_rk(out), out->rklen}, out, &rs);
    d->firing = false;
    if (vhost_publish_routed(x->vh, out, &rs, &res) < 0) {
        route_set_done(&rs);
        msg_unref(out);
        log_error("exchange '%s': a delayed message could not be stored; tried again in 1 s", x->name);
        delay_refire(q, e, vhost_now_ms(x->vh) + 1000);
        return;
    }
    x->ctr.publish_out += res.queues;
    route_set_done(&rs);
    msg_unref(out);
    if (!res.stored || !x->vh->st || store_lsn_state(x->vh->st, res.lsn) == STORE_SYNCED) {
        queue_settle(q, e);
        return;
    }
    if (d->npend == d->cappend) {
        uint32_t cap = d->cappend ? d->cappend * 2 : 64;
        pending *v = realloc(d->pend, cap * sizeof *v);
        if (!v) {
            queue_settle(q, e); /* settled a little early rather than leaked */
            return;
        }
        d->pend = v;
        d->cappend = cap;
    }
    d->pend[d->npend++] = (pending){.e = *e, .lsn = res.lsn};
    if (!ev_timer_active(&d->pend_timer))
        ev_timer_start(x->vh->loop, &d->pend_timer, 1);
}

/* -------------------------------------------------------------- the hold */

/* Record the hold of a durable exchange in the store, at its first
 * message (after the exchange's own record). */
static void hold_recorded(delayed *d)
{
    queue *h = d->hold;
    store *st = d->x->vh->st;
    if (!h->durable || h->id || !st)
        return; /* no store (tests), or recovering: recovery gives the id */
    if (store_queue_declared(st, queue_def(h, &(store_queue_def){0}), h, &h->id) < 0) {
        log_error("exchange '%s': cannot record its delayed messages' hold; they stay in memory", d->x->name);
        h->durable = false;
        h->id = 0;
    }
}

static int delayed_init(exchange *x)
{
    delayed *d = calloc(1, sizeof *d);
    char name[256];
    size_t n = HOLD_PREFIX_LEN + x->namelen;
    if (!d)
        return -1;
    d->x = x;
    d->inner = inner_of((amqp_table){x->args, x->argslen});
    if (!d->inner)
        d->inner = &exchange_direct; /* validated before: cannot be */
    memcpy(name, HOLD_PREFIX, HOLD_PREFIX_LEN);
    memcpy(name + HOLD_PREFIX_LEN, x->name, n > 255 ? 255 - HOLD_PREFIX_LEN : x->namelen);
    d->hold = queue_new(x->vh, (amqp_str){name, n > 255 ? 255 : (uint32_t)n}, x->durable && n <= 255, false, false,
                        (amqp_table){NULL, 0}, NULL);
    if (!d->hold) {
        free(d);
        return -1;
    }
    /* the hold is the exchange's alone: out of the vhost's map, and one
     * more reference so a replayed deletion of its record (before the
     * exchange's) leaves it allocated */
    map_del(&x->vh->queues, d->hold->name, d->hold->namelen);
    if (!queue_rare_of(d->hold)) {
        queue_unref(d->hold); /* nothing of it is on disk yet */
        free(d);
        return -1;
    }
    d->hold->refs++;
    d->hold->hold = true;
    d->hold->rare->fire = fire;
    d->hold->rare->fire_ctx = d;
    ev_timer_init(&d->pend_timer, settle_synced);
    x->index = d;
    return 0;
}

static void delayed_gone(exchange *x)
{
    delayed *d = x->index;
    uint32_t i;
    for (i = 0; i < d->npend; i++)
        queue_settle(d->hold, &d->pend[i].e);
    d->npend = 0;
    if (!d->hold->id)
        d->hold->durable = false; /* never recorded: nothing to record of its deletion */
    queue_delete(d->hold); /* its messages go with it (as the plugin's) */
}

static void delayed_free(exchange *x)
{
    delayed *d = x->index;
    if (!d)
        return;
    ev_timer_stop(x->vh->loop, &d->pend_timer);
    if (d->inner->free)
        WITH_INNER(x, d, d->inner->free(x));
    /* at shutdown the pending ones stay in the store, fired again at the
     * next start (at least once) */
    for (uint32_t i = 0; i < d->npend; i++)
        if (d->pend[i].e.m)
            msg_unref(d->pend[i].e.m);
    free(d->pend);
    if (!d->hold->deleted)
        queue_unref(d->hold); /* the vhost's reference, which it never had */
    queue_unref(d->hold);
    free(d);
    x->index = NULL;
}

/* --------------------------------------------------------- type functions */

static int delayed_bind(exchange *x, binding *b)
{
    delayed *d = x->index;
    int rc = 0;
    if (d->inner->bind)
        WITH_INNER(x, d, rc = d->inner->bind(x, b));
    return rc;
}

static void delayed_unbind(exchange *x, binding *b)
{
    delayed *d = x->index;
    if (d->inner->unbind)
        WITH_INNER(x, d, d->inner->unbind(x, b));
}

static void delayed_route(exchange *x, amqp_str rk, const msg *m, route_set *rs)
{
    delayed *d = x->index;
    if (!d->firing && !d->hold->deleted && delay_header_ms(msg_props(m), m->props_len) > 0) {
        hold_recorded(d); /* if it cannot be, the message is held in memory */
        route_set_add(rs, d->hold);
        return;
    }
    WITH_INNER(x, d, d->inner->route(x, rk, m, rs));
}

const exchange_type exchange_delayed = {
    .name = "x-delayed-message",
    .init = delayed_init,
    .gone = delayed_gone,
    .bind = delayed_bind,
    .unbind = delayed_unbind,
    .route = delayed_route,
    .free = delayed_free,
    /* a binding's arguments are the inner type's: vhost.c checks them
     * with exchange_delayed_inner */
};

/* ------------------------------------------------------- for the others */

const exchange_type *exchange_delayed_inner(const exchange *x)
{
    return x->type == &exchange_delayed && x->index ? ((const delayed *)x->index)->inner : x->type;
}

queue *exchange_delayed_hold(const exchange *x)
{
    return x->type == &exchange_delayed && x->index ? ((const delayed *)x->index)->hold : NULL;
}

uint32_t exchange_delayed_count(const exchange *x)
{
    const delayed *d;
    if (x->type != &exchange_delayed || !(d = x->index))
        return 0;
    return delay_held(d->hold); /* the fired ones waiting for their copy's sync are routed already */
}

queue *exchange_delayed_recover(vhost *vh, const store_queue_def *def)
{
    exchange *x;
    queue *h;
    if (def->name.len <= HOLD_PREFIX_LEN || memcmp(def->name.ptr, HOLD_PREFIX, HOLD_PREFIX_LEN) != 0)
        return NULL;
    x = vhost_exchange(vh, (amqp_str){def->name.ptr + HOLD_PREFIX_LEN, def->name.len - HOLD_PREFIX_LEN});
    if (!x || !(h = exchange_delayed_hold(x)) || h->id)
        return NULL;
    h->id = def->id;
    return h;
}
