/*
 * redrive.c - a job that moves a queue's messages to the queue each came
 * from (the latest entry of its x-death header) or to one named queue.
 *
 * At-least-once.  A message is taken from the source as a consumer takes
 * one (it counts as unacked there, and a stored one gets its "delivered"
 * mark, so a copy left behind by a crash comes back redelivered), then
 * published to the destination through publish.c, as any publish.  It is
 * acked in the source only once the destination's copy is synced
 * (store_lsn_state): a kill -9 or a power cut at any point leaves it in the
 * destination, in the source, or in both (the source's copy redelivered),
 * never in neither.  A message not stored for its destination (transient,
 * or a non-durable destination) is settled at once: its destination never
 * promised to keep it.
 *
 * Rate.  The job runs on a 10 ms timer; with a rate it takes from a token
 * bucket (a tenth of a second's burst), without one up to 1,024 messages a
 * tick, and never more than 65,536 in flight (published, not yet synced).
 * It moves at most the messages ready when it started (or `count`), so a
 * destination that dead-letters back into the source cannot make it loop.
 *
 * Stopping.  A message it cannot move (no x-death to name its queue, the
 * destination gone, full, or not the user's) goes back to its place in the
 * source, and the job stops with the reason; those in flight finish.  The
 * job stays readable after it ends, until the next one on that queue.
 */
#include "redrive.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exchange.h"
#include "log.h"
#include "store/store.h"
#include "vhost.h"

#define TICK_MS 10
#define BATCH_UNLIMITED 1024
#define MAX_IN_FLIGHT 65536

typedef struct pending {
    qentry e;                   /* taken from the source, unacked there */
    uint64_t lsn;               /* the destination's copy is on disk at this lsn; 0: not stored */
} pending;

struct redrive {
    redrive *next;
    vhost *vh;
    queue *src;                 /* a reference held */
    char *source;
    char *dest;                 /* NULL: x-death */
    int64_t count;              /* the messages to move */
    uint32_t rate;
    uint64_t taken, moved;
    enum redrive_state state;
    char reason[300];
    int64_t started, ended;
    double tokens;
    uint64_t last_ms;
    pending *pend;              /* in flight, oldest first, from phead */
    size_t phead, pn, pcap;
    int (*may_write)(void *ctx, vhost *vh, amqp_str name, amqp_error *err);
    void *ctx;
    ev_timer timer;
};

static redrive *find(vhost *vh, amqp_str source)
{
    for (redrive *j = vh->redrives; j; j = j->next)
        if (strlen(j->source) == source.len && !memcmp(j->source, source.ptr, source.len))
            return j;
    return NULL;
}

static void job_free(redrive *j)
{
    ev_timer_stop(j->vh->loop, &j->timer);
    queue_unref(j->src);
    free(j->pend);
    free(j->source);
    free(j->dest);
    free(j->ctx);
    free(j);
}

static void unlink_job(vhost *vh, redrive *j)
{
    for (redrive **p = &vh->redrives; *p; p = &(*p)->next)
        if (*p == j) {
            *p = j->next;
            return;
        }
}

static void end(redrive *j, enum redrive_state state, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void end(redrive *j, enum redrive_state state, const char *fmt, ...)
{
    va_list ap;

    if (j->state != REDRIVE_RUNNING)
        return;
    j->state = state;
    j->ended = vhost_now_ms(j->vh);
    if (fmt) {
        va_start(ap, fmt);
        vsnprintf(j->reason, sizeof j->reason, fmt, ap);
        va_end(ap);
    }
    log_info("redrive of queue '%s': %s after %llu messages%s%s", j->source,
             state == REDRIVE_DONE ? "done" : state == REDRIVE_CANCELLED ? "cancelled" : "stopped",
             (unsigned long long)j->moved + (j->pn - j->phead), j->reason[0] ? ": " : "", j->reason);
}

/* The queue m was dead-lettered from last: the first table of its x-death
 * array (RabbitMQ puts the latest event first).  Points into m. */
static bool origin(const msg *m, amqp_str *out)
{
    amqp_basic_properties p;
    amqp_value deaths, d, qv;
    amqp_array_iter it;

    if (amqp_basic_properties_decode(msg_props(m), m->props_len, &p) < 0 || !(p.flags & AMQP_BASIC_HEADERS_FLAG))
        return false;
    if (!amqp_table_get(p.headers, "x-death", &deaths) || deaths.type != 'A')
        return false;
    amqp_array_iter_init(&it, deaths.v.a);
    while (amqp_array_next(&it, &d) > 0) {
        if (d.type != 'F')
            continue;
        if (!amqp_table_get(d.v.t, "queue", &qv) || qv.type != 'S' || !qv.v.s.len)
            return false;
        *out = qv.v.s;
        return true;
    }
    return false;
}

/* The queue m goes to, or NULL with the job ended (the reason said). */
static queue *destination(redrive *j, const msg *m)
{
    amqp_str name = j->dest ? amqp_cstr(j->dest) : (amqp_str){0};
    amqp_error err;
    queue *q;

    if (!j->dest && !origin(m, &name)) {
        end(j, REDRIVE_STOPPED, "a message has no x-death header naming the queue it came from; "
                                "give a destination to move it");
        return NULL;
    }
    if (vhost_queue_access(j->vh, name, NULL, &q, &err) < 0) {
        end(j, REDRIVE_STOPPED, "cannot move a message to queue '%.*s': %s", (int)name.len, name.ptr, err.text);
        return NULL;
    }
    if (q == j->src) {
        end(j, REDRIVE_STOPPED, "a message's x-death names queue '%s' itself", j->source);
        return NULL;
    }
    if (!j->dest && j->may_write && j->may_write(j->ctx, j->vh, name, &err) < 0) {
        end(j, REDRIVE_STOPPED, "not allowed to publish to queue '%.*s': %s", (int)name.len, name.ptr, err.text);
        return NULL;
    }
    return q;
}

/* m as it arrives in its destination: the same bytes, arrived now (as a
 * shovel republishes it), so the destination's x-message-ttl counts from
 * the move and not from the first publish; NULL out of memory. */
static msg *arrived_now(vhost *vh, const msg *m)
{
    msg *c = msg_new((amqp_str){msg_exchange(m), m->exlen}, (amqp_str){msg_rk(m), m->rklen}, msg_props(m),
                     m->props_len, m->body_len);
    if (!c)
        return NULL;
    memcpy(msg_body(c), msg_cbody(m), m->body_len);
    c->body_have = m->body_len;
    c->flags = m->flags;
    c->priority = m->priority;
    c->expiration = m->expiration;
    c->published = vhost_now_ms(vh);
    return c;
}

static int push(redrive *j, const qentry *e, uint64_t lsn)
{
    if (j->pn == j->pcap) {
        size_t cap = j->pcap ? 2 * j->pcap : 64;
        pending *more = realloc(j->pend, cap * sizeof *more);
        if (!more)
            return -1;
        j->pend = more;
        j->pcap = cap;
    }
    j->pend[j->pn++] = (pending){*e, lsn};
    return 0;
}

/* Ack in the source what its destination holds on disk now. */
static void settle_synced(redrive *j)
{
    store *st = j->vh->st;

    while (j->phead < j->pn) {
        pending *p = &j->pend[j->phead];
        int state = p->lsn && st ? store_lsn_state(st, p->lsn) : STORE_SYNCED;
        if (state == STORE_PENDING)
            break;
        if (state == STORE_FAILED) {
            /* the destination may keep an unsynced copy: at least once */
            queue_unget(j->src, &p->e);
            end(j, REDRIVE_STOPPED, "the store could not write a message to its destination; it stays in '%s'",
                j->source);
        } else {
            queue_settle(j->src, &p->e);
            j->moved++;
        }
        j->phead++;
    }
    if (j->phead == j->pn)
        j->phead = j->pn = 0;
}

/* Move one message out of the source: 1 moved (or in flight), 0 stop for
 * this tick, -1 the job ended. */
static int move_one(redrive *j)
{
    vhost *vh = j->vh;
    queue *src = j->src, *dq;
    qentry e;
    msg *m, *fresh;
    route_set rs;
    deliver_result res;
    int why, rc;

    if (!queue_take(src, &e)) {
        end(j, REDRIVE_DONE, NULL);
        return -1;
    }
    src->unacked++;
    why = queue_entry_msg(src, &e, &m, "redriven");
    if (why == STORE_READ_AGAIN) {
        queue_unget(src, &e);
        return 0;
    }
    if (why != STORE_READ_OK) {
        queue_settle(src, &e); /* damaged: moved aside and logged */
        return 1;
    }
    if (!(dq = destination(j, m))) {
        msg_unref(m);
        queue_unget(src, &e);
        return -1;
    }
    if (!(fresh = arrived_now(vh, m))) {
        msg_unref(m);
        queue_unget(src, &e);
        return 0; /* out of memory: again on the next tick */
    }
    msg_unref(m);
    if ((e.flags & QE_STORED) && vh->st)
        store_delivered(vh->st, src->id, e.seg, e.off, e.returns);
    route_set_init(&rs);
    rc = route_set_add(&rs, dq);
    if (rc == 0)
        rc = vhost_publish_routed(vh, fresh, &rs, &res);
    route_set_done(&rs);
    msg_unref(fresh);
    if (rc < 0 || res.queues == 0) {
        queue_unget(src, &e);
        if (rc < 0)
            end(j, REDRIVE_STOPPED, "a message could not be stored for queue '%s'; it stays in '%s'", dq->name,
                j->source);
        else
            end(j, REDRIVE_STOPPED, "queue '%s' refused a message (x-max-length with reject-publish); it stays "
                "in '%s'", dq->name, j->source);
        return -1;
    }
    j->taken++;
    if (push(j, &e, res.stored ? res.lsn : 0) < 0) {
        /* out of memory to remember it: it is in the destination already,
         * so settle it now rather than lose track of it */
        queue_settle(src, &e);
        j->moved++;
    }
    return 1;
}

static void on_tick(ev_loop *loop, ev_timer *t)
{
    redrive *j = (redrive *)((char *)t - offsetof(redrive, timer));
    uint64_t now = ev_now(loop);
    long budget;

    settle_synced(j);
    if (j->state == REDRIVE_RUNNING && j->src->deleted)
        end(j, REDRIVE_STOPPED, "queue '%s' was deleted", j->source);
    if (j->state == REDRIVE_RUNNING) {
        if (j->rate) {
            double burst = j->rate / 10.0 > 1 ? j->rate / 10.0 : 1;
            j->tokens += (double)j->rate * (double)(now - j->last_ms) / 1000.0;
            if (j->tokens > burst)
                j->tokens = burst;
            budget = (long)j->tokens;
        } else {
            budget = BATCH_UNLIMITED;
        }
        j->last_ms = now;
        while (budget > 0 && (int64_t)j->taken < j->count && j->pn - j->phead < MAX_IN_FLIGHT) {
            int rc = move_one(j);
            if (rc <= 0)
                break;
            budget--;
            if (j->rate)
                j->tokens -= 1;
        }
        if (j->state == REDRIVE_RUNNING && (int64_t)j->taken >= j->count)
            end(j, REDRIVE_DONE, NULL);
    }
    /* what was published this tick is synced on a later one */
    if (j->state == REDRIVE_RUNNING || j->phead < j->pn)
        ev_timer_start(loop, &j->timer, TICK_MS);
}

int redrive_start(vhost *vh, amqp_str source, const redrive_spec *spec, amqp_error *err)
{
    redrive *j, *old = find(vh, source);
    queue *src, *dq;

    if (vhost_queue_access(vh, source, NULL, &src, err) < 0)
        goto refused;
    if (old && (old->state == REDRIVE_RUNNING || old->phead < old->pn)) {
        amqp_fail(err, AMQP_PRECONDITION_FAILED, "a redrive of queue '%.*s' in vhost '%s' is running",
                  (int)source.len, source.ptr, vh->name);
        goto refused;
    }
    if (spec->destination.len) {
        if (vhost_queue_access(vh, spec->destination, NULL, &dq, err) < 0)
            goto refused;
        if (dq == src) {
            amqp_fail(err, AMQP_PRECONDITION_FAILED, "cannot redrive queue '%.*s' into itself", (int)source.len,
                      source.ptr);
            goto refused;
        }
    }
    if (!(j = calloc(1, sizeof *j)) || !(j->source = strndup(source.ptr, source.len)) ||
        (spec->destination.len && !(j->dest = strndup(spec->destination.ptr, spec->destination.len)))) {
        if (j) {
            free(j->source);
            free(j);
        }
        amqp_fail(err, AMQP_INTERNAL_ERROR, "out of memory");
        goto refused;
    }
    if (old) {
        unlink_job(vh, old);
        job_free(old);
    }
    j->vh = vh;
    j->src = src;
    src->refs++;
    j->count = spec->count >= 0 && spec->count < (int64_t)src->nready ? spec->count : (int64_t)src->nready;
    j->rate = spec->rate;
    j->state = REDRIVE_RUNNING;
    j->started = vhost_now_ms(vh);
    j->last_ms = ev_now(vh->loop);
    j->tokens = 1; /* the first message goes at once */
    j->may_write = spec->may_write;
    j->ctx = spec->ctx;
    ev_timer_init(&j->timer, on_tick);
    j->next = vh->redrives;
    vh->redrives = j;
    log_info("redrive of queue '%s' to %s%s%s: %lld messages, %s%u a second", j->source, j->dest ? "queue '" : "",
             j->dest ? j->dest : "their x-death queues", j->dest ? "'" : "", (long long)j->count,
             j->rate ? "" : "unlimited, ", j->rate);
    ev_timer_start(vh->loop, &j->timer, 0);
    return 0;
refused:
    free(spec->ctx);
    return -1;
}

bool redrive_get(vhost *vh, amqp_str source, redrive_status *out)
{
    redrive *j = find(vh, source);

    if (!j)
        return false;
    *out = (redrive_status){
        .state = j->state,
        .source = j->source,
        .destination = j->dest,
        .count = j->count,
        .rate = j->rate,
        .moved = j->moved,
        .in_flight = j->pn - j->phead,
        .started = j->started,
        .ended = j->ended,
        .reason = j->reason,
    };
    return true;
}

bool redrive_cancel(vhost *vh, amqp_str source)
{
    redrive *j = find(vh, source);

    if (!j || j->state != REDRIVE_RUNNING)
        return false;
    end(j, REDRIVE_CANCELLED, NULL);
    return true;
}

void redrive_free_all(vhost *vh)
{
    while (vh->redrives) {
        redrive *j = vh->redrives;
        vh->redrives = j->next;
        /* back to their places: never acked in the source, they are there
         * on disk for the next start too */
        for (size_t i = j->phead; i < j->pn; i++)
            queue_unget(j->src, &j->pend[i].e);
        job_free(j);
    }
}
