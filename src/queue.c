/*
 * queue.c - a queue: its ready messages, its consumers, and dispatch.
 *
 * Ready messages sit in a ring buffer of 32-byte entries ordered by publish
 * seq; a body is either in memory (shared with the other queues it was
 * routed to) or only on disk, so a queue can hold a backlog far larger than
 * RAM.  A requeued message goes back to its seq's place, which is where
 * RabbitMQ puts it (at or near the head).
 *
 * Dispatch is deferred: anything that might let a consumer take a message
 * (a publish, an ack, a new consumer, a qos change, a drained socket) marks
 * the queue dirty, and the vhost runs dirty queues before the loop sleeps.
 * So one turn's worth of publishes goes out as one batch of deliveries.
 * Consumers are served round-robin, skipping those at their prefetch limit.
 */
#include "warren.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store/store.h"

#define DISPATCH_BUDGET 2048   /* deliveries per queue per turn, for fairness */
#define MEMORY_HEAD 1024       /* stored messages kept in RAM at a queue's head */

/* ----------------------------------------------------------------- deque */

static int qdeque_grow(qdeque *d)
{
    size_t cap = d->cap ? d->cap * 2 : 16, i;
    qentry *v = malloc(cap * sizeof *v);
    if (!v)
        return -1;
    for (i = 0; i < d->len; i++)
        v[i] = *qdeque_at(d, i);
    free(d->v);
    d->v = v;
    d->cap = cap;
    d->head = 0;
    return 0;
}

int qdeque_push(qdeque *d, const qentry *e)
{
    if (d->len == d->cap && qdeque_grow(d) < 0)
        return -1;
    d->v[(d->head + d->len) & (d->cap - 1)] = *e;
    d->len++;
    return 0;
}

int qdeque_insert_sorted(qdeque *d, const qentry *e)
{
    size_t lo = 0, hi = d->len, i;

    if (d->len == d->cap && qdeque_grow(d) < 0)
        return -1;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (qdeque_at(d, mid)->seq < e->seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo <= d->len / 2) {
        /* shift the front part one slot towards the head */
        d->head = (d->head - 1) & (d->cap - 1);
        for (i = 0; i < lo; i++)
            *qdeque_at(d, i) = *qdeque_at(d, i + 1);
    } else {
        for (i = d->len; i > lo; i--)
            *qdeque_at(d, i) = *qdeque_at(d, i - 1);
    }
    d->len++;
    *qdeque_at(d, lo) = *e;
    return 0;
}

bool qdeque_pop(qdeque *d, qentry *out)
{
    if (!d->len)
        return false;
    *out = d->v[d->head];
    d->head = (d->head + 1) & (d->cap - 1);
    d->len--;
    if (d->len == 0)
        d->head = 0;
    return true;
}

void qdeque_free(qdeque *d)
{
    free(d->v);
    memset(d, 0, sizeof *d);
}

/* ----------------------------------------------------------------- queue */

queue *queue_new(vhost *vh, amqp_str name, bool durable, bool exclusive, bool auto_delete,
                 amqp_table args, conn *owner)
{
    queue *q = calloc(1, sizeof *q);
    if (!q)
        return NULL;
    q->vh = vh;
    q->name = malloc(name.len + 1);
    q->args = malloc(args.len ? args.len : 1);
    if (!q->name || !q->args) {
        free(q->name);
        free(q->args);
        free(q);
        return NULL;
    }
    memcpy(q->name, name.ptr, name.len);
    q->name[name.len] = 0;
    q->namelen = (uint8_t)name.len;
    if (args.len)
        memcpy(q->args, args.ptr, args.len);
    q->argslen = args.len;
    q->durable = durable;
    q->exclusive = exclusive;
    q->auto_delete = auto_delete;
    q->owner = exclusive ? owner : NULL;
    q->refs = 1; /* the vhost's */
    if (map_put(&vh->queues, q->name, q->namelen, q) < 0) {
        free(q->name);
        free(q->args);
        free(q);
        return NULL;
    }
    if (q->owner)
        q->owner->nexclusive++;
    return q;
}

static void drop_entry(queue *q, qentry *e)
{
    if ((e->flags & QE_PERSISTENT) && q->vh->b->st)
        store_ack(q->vh->b->st, q->id, e->seg, e->off);
    if (e->m)
        msg_unref(e->m);
    e->m = NULL;
}

uint32_t queue_purge(queue *q)
{
    uint32_t n = (uint32_t)q->ready.len;
    qentry e;
    while (qdeque_pop(&q->ready, &e))
        drop_entry(q, &e);
    q->ready_bytes = 0;
    return n;
}

uint32_t queue_delete(queue *q)
{
    uint32_t n;
    if (q->deleted)
        return 0;
    q->deleted = true;
    map_del(&q->vh->queues, q->name, q->namelen);
    exchange_unbind_queue(q);
    while (q->ncons > 0) {
        consumer *cons = q->cons[--q->ncons];
        channel_consumer_gone(cons->ch, cons);
    }
    n = queue_purge(q);
    if (q->owner)
        q->owner->nexclusive--;
    q->owner = NULL;
    if (q->durable && q->vh->b->st)
        store_queue_deleted(q->vh->b->st, q->id);
    log_debug("queue '%s' deleted", q->name);
    queue_unref(q);
    return n;
}

void queue_unref(queue *q)
{
    if (--q->refs > 0)
        return;
    qdeque_free(&q->ready);
    free(q->cons);
    free(q->args);
    free(q->name);
    free(q);
}

void queue_mark_dirty(queue *q)
{
    if (q->dirty || q->deleted)
        return;
    q->dirty = true;
    q->refs++;
    q->dirty_next = q->vh->dirty;
    q->vh->dirty = q;
}

uint32_t queue_message_count(const queue *q)
{
    return (uint32_t)q->ready.len;
}

int queue_publish(queue *q, msg *m, uint64_t seq, const store_pos *pos)
{
    qentry e = {.seq = seq, .m = m, .size = m->body_len, .priority = m->priority};

    if (pos) {
        e.flags |= QE_PERSISTENT;
        e.seg = pos->seg;
        e.off = pos->off;
        if (q->ready.len >= MEMORY_HEAD) {
            /* deep in a backlog: the store has it, RAM need not */
            msg_unref(m);
            e.m = NULL;
        }
    }
    if (qdeque_push(&q->ready, &e) < 0) {
        if (e.m)
            msg_unref(e.m);
        if (pos && q->vh->b->st)
            store_ack(q->vh->b->st, q->id, pos->seg, pos->off);
        return -1;
    }
    q->ready_bytes += e.size;
    if (q->ncons)
        queue_mark_dirty(q);
    return 0;
}

int queue_requeue(queue *q, qentry *e)
{
    q->unacked--;
    if (q->deleted) {
        drop_entry(q, e);
        return 0;
    }
    e->flags |= QE_REDELIVERED;
    e->flags &= (uint16_t)~QE_ACKED;
    if (qdeque_insert_sorted(&q->ready, e) < 0) {
        log_error("queue '%s': out of memory requeueing a message; it is dropped", q->name);
        drop_entry(q, e);
        return -1;
    }
    q->ready_bytes += e->size;
    queue_mark_dirty(q);
    return 0;
}

void queue_settle(queue *q, qentry *e)
{
    q->unacked--;
    drop_entry(q, e);
}

int queue_add_consumer(queue *q, consumer *c)
{
    if (q->ncons == q->capcons) {
        uint32_t cap = q->capcons ? q->capcons * 2 : 4;
        consumer **v = realloc(q->cons, cap * sizeof *v);
        if (!v)
            return -1;
        q->cons = v;
        q->capcons = cap;
    }
    q->cons[q->ncons++] = c;
    q->had_consumer = true;
    return 0;
}

void queue_remove_consumer(queue *q, consumer *c)
{
    uint32_t i;
    for (i = 0; i < q->ncons; i++) {
        if (q->cons[i] == c) {
            memmove(q->cons + i, q->cons + i + 1, (q->ncons - i - 1) * sizeof *q->cons);
            q->ncons--;
            if (q->rr > i)
                q->rr--;
            break;
        }
    }
    if (q->rr >= q->ncons)
        q->rr = 0;
}

/* The next consumer, in turn, that can take a message now. */
static consumer *next_consumer(queue *q)
{
    uint32_t i;
    for (i = 0; i < q->ncons; i++) {
        uint32_t k = (q->rr + i) % q->ncons;
        consumer *c = q->cons[k];
        if (channel_can_deliver(c->ch, c)) {
            q->rr = (k + 1) % q->ncons;
            return c;
        }
    }
    return NULL;
}

void queue_dispatch(queue *q)
{
    int budget = DISPATCH_BUDGET;
    qentry e;

    while (q->ready.len > 0 && q->ncons > 0 && !q->deleted) {
        consumer *c = next_consumer(q);
        if (!c)
            return;
        if (budget-- == 0) {
            queue_mark_dirty(q);
            return;
        }
        qdeque_pop(&q->ready, &e);
        q->ready_bytes -= e.size;
        q->unacked++;
        channel_deliver(c->ch, c, q, &e);
    }
}
