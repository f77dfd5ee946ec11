/*
 * queue.c - a queue: its ready messages and their lifecycle.
 *
 * Ready messages sit in ring buffers of 40-byte entries ordered by publish
 * seq, one ring per priority level (one level unless x-max-priority); a
 * body is either in memory (shared with the other queues it was routed to)
 * or only on disk, so a queue can hold a backlog far larger than RAM.  A
 * requeued message goes back to its seq's place, which is where RabbitMQ
 * puts it (at or near the head).  A durable queue's backlog past its first
 * 4,096 entries has no entries at all: it is a region of the store,
 * counted and paged in as the ring empties (queue_region.c).
 *
 * Its consumers and dispatch are consumer.c's: a queue marks itself dirty
 * when a consumer might take a message (queue_mark_dirty), and the vhost
 * runs consumer_dispatch on dirty queues before the loop sleeps.  Nothing
 * here calls up into the channel: a deleted queue's consumers hear of it
 * through their owner's callbacks (consumer_detach_all).
 *
 * The arguments are read once, at creation, into q->set (queue_args.c,
 * the one table of them); this file gives them their meaning: message TTL
 * (x-message-ttl and the per-message expiration: a timer takes the head
 * when it expires, even with no consumer, and delay.c's expiry index takes
 * a message that expires before one ahead of it, where it is), x-expires,
 * x-max-length(-bytes) with x-overflow, dead-lettering (deadletter.c),
 * x-max-priority, x-single-active-consumer, and back-off on requeue
 * (x-backoff-*: delay.c holds a returned message for its delay).
 */
#include "exchange.h"
#include "queue.h"
#include "queue_region.h"
#include "vhost.h"

#include <stdlib.h>
#include <string.h>

#include "consumer.h"
#include "delay.h"
#include "drain.h"
#include "log.h"
#include "queue_dedup.h"
#include "store/store.h"

#define MEMORY_HEAD 1024       /* stored messages kept in RAM at a queue's head */
#define PURGE_INLINE 4096      /* a purge of more messages is sealed and drained in slices */

/* ----------------------------------------------------------- ready levels */

static qdeque *level_of(queue *q, const qentry *e)
{
    return &q->levels[e->priority < q->nlevels ? e->priority : q->nlevels - 1];
}

/* The level the next message comes from, or NULL when empty. */
static qdeque *head_level(queue *q)
{
    int i;
    if (!q->nready)
        return NULL;
    for (i = q->nlevels - 1; i >= 0; i--)
        if (q->levels[i].len)
            return &q->levels[i];
    return NULL;
}

/* Publish order: where a requeued entry goes back. */
static int by_seq(const qentry *a, const qentry *b)
{
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static void count_in(queue *q, const qentry *e)
{
    q->ready_redelivered += (e->flags & QE_REDELIVERED) != 0;
    q->nready++;
    q->ready_bytes += e->size;
}

static void count_out(queue *q, const qentry *e)
{
    q->ready_redelivered -= (e->flags & QE_REDELIVERED) != 0;
    q->nready--;
    q->ready_bytes -= e->size;
}

static bool pop_head(queue *q, qentry *out)
{
    qdeque *d;
    if (q->region)
        queue_region_page_in(q); /* the window runs low: the next records from disk */
    d = head_level(q);
    if (!d || !qdeque_pop(d, out))
        return false;
    qdeque_shrink(d); /* a drained backlog gives its memory back */
    count_out(q, out);
    return true;
}

/* ----------------------------------------------------------------- timers */

static void arm_ttl(queue *q)
{
    qdeque *d;
    int64_t now, wait;
    if (!q->expiring || q->deleted)
        return;
    if (!(d = head_level(q)) || !qdeque_at(d, 0)->expires) {
        ev_timer_stop(q->vh->loop, &q->ttl_timer);
        return;
    }
    now = vhost_now_ms(q->vh);
    wait = qdeque_at(d, 0)->expires - now;
    ev_timer_start(q->vh->loop, &q->ttl_timer, wait > 0 ? (uint64_t)wait + 1 : 0);
}

/* Drop (or dead-letter) expired messages at the head. */
static void expire_head(queue *q)
{
    int64_t now = vhost_now_ms(q->vh);
    qdeque *d;
    qentry e;

    q->refs++;
    while (!q->deleted && (d = head_level(q)) && qdeque_at(d, 0)->expires && qdeque_at(d, 0)->expires < now) {
        pop_head(q, &e);
        queue_deadletter(q, &e, "expired");
    }
    arm_ttl(q);
    queue_unref(q);
}

static void on_ttl(ev_loop *loop, ev_timer *t)
{
    queue *q = (queue *)((char *)t - offsetof(queue, ttl_timer));
    (void)loop;
    expire_head(q);
}

static void on_unused(ev_loop *loop, ev_timer *t)
{
    queue *q = ((queue_rare *)((char *)t - offsetof(queue_rare, unused_timer)))->q;
    (void)loop;
    if (q->ncons == 0 && !q->deleted) {
        log_info("queue '%s' expired after %lld ms unused", q->name, (long long)q->set.expires);
        queue_delete(q);
    }
}

void queue_touch(queue *q)
{
    if (q->set.expires && q->rare && q->ncons == 0 && !q->deleted)
        ev_timer_start(q->vh->loop, &q->rare->unused_timer, (uint64_t)q->set.expires);
}

queue_rare *queue_rare_of(queue *q)
{
    queue_rare *r = q->rare;
    if (r)
        return r;
    if (!(r = calloc(1, sizeof *r)))
        return NULL;
    r->q = q;
    ev_timer_init(&r->unused_timer, on_unused);
    queue_args_read_backoff(&r->backoff, (amqp_table){q->args, q->argslen});
    queue_deadletter_init(r);
    q->rare = r;
    return r;
}

static void rare_free(queue *q)
{
    if (!q->rare)
        return;
    ev_timer_stop(q->vh->loop, &q->rare->unused_timer);
    ev_timer_stop(q->vh->loop, &q->rare->dl_timer);
    free(q->rare);
    q->rare = NULL;
}

/* ----------------------------------------------------------------- queue */

static uint8_t no_args[1];     /* the arguments of a queue declared without any */

/* What queue_new allocates besides the struct (levels and arguments may
 * be the struct's own, or a shared empty table). */
static void free_parts(queue *q)
{
    if (q->levels != &q->level0)
        free(q->levels);
    if (q->argslen)
        free(q->args);
}

queue *queue_new(vhost *vh, amqp_str name, bool durable, bool exclusive, bool auto_delete,
                 amqp_table args, queue_owner *owner)
{
    queue *q = calloc(1, sizeof *q + name.len + 1); /* its name in the same allocation */
    if (!q)
        return NULL;
    q->vh = vh;
    q->name = (char *)(q + 1);
    q->args = args.len ? malloc(args.len) : no_args; /* most queues have none */
    q->argslen = q->args ? args.len : 0;
    if (!q->name || !q->args)
        goto fail;
    memcpy(q->name, name.ptr, name.len);
    q->name[name.len] = 0;
    q->namelen = (uint8_t)name.len;
    if (args.len)
        memcpy(q->args, args.ptr, args.len);
    queue_args_read(&q->set, (amqp_table){q->args, q->argslen}); /* its strings point into q->args */
    if (q->set.dedup && !(q->dedup = queue_dedup_new()))
        goto fail;
    if ((q->set.expires || q->set.backoff) && !queue_rare_of(q))
        goto fail; /* its timer, its back-off values */
    q->expiring = q->set.msg_ttl >= 0;
    q->nlevels = (uint16_t)(q->set.max_priority + 1);
    if (q->nlevels == 1)
        q->levels = &q->level0;
    else if (!(q->levels = calloc(q->nlevels, sizeof *q->levels)))
        goto fail;
    q->durable = durable;
    q->exclusive = exclusive;
    q->auto_delete = auto_delete;
    q->owner = exclusive ? owner : NULL;
    q->refs = 1; /* the vhost's */
    ev_timer_init(&q->ttl_timer, on_ttl);
    if (map_put(&vh->queues, q->name, q->namelen, q) < 0)
        goto fail;
    if (q->owner)
        q->owner->nqueues++;
    queue_touch(q);
    return q;
fail:
    queue_dedup_free(q->dedup);
    free(q->rare);
    free_parts(q);
    free(q);
    return NULL;
}

void queue_entry_gone(queue *q, const qentry *e)
{
    if (q->dedup)
        queue_dedup_forget(q->dedup, e->seq);
}

void queue_entry_recovered(queue *q, const qentry *e, const uint8_t *props, uint32_t props_len)
{
    if (q->dedup)
        queue_dedup_check(q->dedup, props, props_len, e->seq);
}

/* The message leaves this queue for good. */
static void drop_entry(queue *q, qentry *e)
{
    queue_entry_gone(q, e);
    if ((e->flags & QE_STORED) && q->vh->st)
        store_ack(q->vh->st, q->id, e->seg, e->off, e->size);
    if (e->m)
        msg_unref(e->m);
    e->m = NULL;
}

int queue_entry_msg(queue *q, const qentry *e, msg **out, const char *use)
{
    store *st = q->vh->st;
    int why;

    *out = NULL;
    if (e->m) {
        *out = msg_ref(e->m);
        return STORE_READ_OK;
    }
    if (!st || !(e->flags & QE_STORED))
        return STORE_READ_GONE; /* cannot be: a body is in memory or on disk */
    why = store_read_msg(st, e->seg, e->off, out);
    if (why == STORE_READ_DAMAGED || why == STORE_READ_GONE) {
        log_error("queue '%s': message %llu (segment %u offset %u) is damaged on disk and cannot be %s; %s", q->name,
                  (unsigned long long)e->seq, e->seg, e->off, use,
                  why == STORE_READ_DAMAGED ? "moved aside, see warren-check-store" : "dropped");
        if (why == STORE_READ_DAMAGED)
            store_move_aside(st, e->seg, e->off);
    }
    return why;
}

/* The seqs of the stored ready entries that came back from a consumer
 * (they have a "delivered" mark on disk, which a purge mark must
 * overrule): they sit near the heads, so the walk stops when it has them
 * all.  NULL with *n 0 when there are none; -1 out of memory. */
static int redelivered_seqs(queue *q, uint64_t **out, uint32_t *n)
{
    uint32_t want = q->ready_redelivered, seen = 0, i;
    uint16_t l;

    *out = NULL;
    *n = 0;
    if (!want)
        return 0;
    if (!(*out = malloc((size_t)want * sizeof **out)))
        return -1;
    if (q->region) {
        int k = queue_region_redelivered(q, *out, want);
        seen += (uint32_t)k;
        *n += (uint32_t)k;
    }
    for (l = 0; l < q->nlevels && seen < want; l++) {
        qdeque *d = &q->levels[l];
        for (i = 0; i < d->len && seen < want; i++) {
            const qentry *e = qdeque_at(d, i);
            if (!(e->flags & QE_REDELIVERED))
                continue;
            seen++;
            if (e->flags & QE_STORED)
                (*out)[(*n)++] = e->seq;
        }
    }
    return 0;
}

/* Seal the purge of every ready entry on disk (a durable queue's purge
 * mark; a deleted queue's "queue gone" comes next; a non-durable queue
 * recovers nothing) and hand the entries to the drainer.  -1: not done
 * (the caller drops them one by one, now). */
static int purge_later(queue *q)
{
    vhost *vh = q->vh;
    uint64_t seq = 0, *also;
    uint32_t nalso;
    uint16_t l;
    int rc;

    if (!vh->st || !vh->drain)
        return -1; /* shutting down: nothing to write, nothing to spread */
    if (q->durable && q->id && !q->deleted) {
        for (l = 0; l < q->nlevels; l++)
            if (q->levels[l].len && qdeque_at(&q->levels[l], q->levels[l].len - 1)->seq > seq)
                seq = qdeque_at(&q->levels[l], q->levels[l].len - 1)->seq;
        if (queue_region_last_seq(q) > seq)
            seq = queue_region_last_seq(q);
        if (redelivered_seqs(q, &also, &nalso) < 0)
            return -1;
        rc = store_queue_purged(vh->st, q->id, seq, also, nalso);
        free(also);
        if (rc < 0)
            return -1;
    }
    if (queue_region_drain(q) < 0)
        return -1; /* the mark stays: the slow way acks them all anyway */
    if (drainer_add(vh->drain, vh->st, q->id, q->levels, q->nlevels, q->nready) < 0)
        return -1;
    q->nready = 0;
    q->ready_redelivered = 0;
    q->ready_bytes = 0;
    return 0;
}

uint32_t queue_purge(queue *q)
{
    uint32_t n = q->nready;
    qentry e;
    /* a big purge is sealed by one record and drained in slices; a queue
     * with de-duplication drops each entry here, so that its values leave
     * the window with it */
    if (n <= PURGE_INLINE || q->dedup || purge_later(q) < 0)
        while (pop_head(q, &e))
            drop_entry(q, &e);
    n += delay_purge(q, drop_entry); /* held back: ready, only later */
    arm_ttl(q);
    return n;
}

uint32_t queue_delete(queue *q)
{
    uint32_t n;
    if (q->deleted)
        return 0;
    q->deleted = true;
    if (map_get(&q->vh->queues, q->name, q->namelen) == q) /* a delayed exchange's hold is in none */
        map_del(&q->vh->queues, q->name, q->namelen);
    exchange_unbind_queue(q);
    ev_timer_stop(q->vh->loop, &q->ttl_timer);
    if (q->rare)
        ev_timer_stop(q->vh->loop, &q->rare->unused_timer);
    consumer_detach_all(q);
    n = queue_purge(q);
    queue_deadletter_forget(q, true);
    if (q->owner)
        q->owner->nqueues--;
    q->owner = NULL;
    if (q->durable && q->vh->st) {
        if (q->vh->dying)
            store_queue_forget(q->vh->st, q->id); /* the vhost's record says it */
        else
            store_queue_deleted(q->vh->st, q->id);
    }
    stats_queue_gone(q);
    if (!q->hold)
        q->vh->stats.queues_deleted++; /* a delayed exchange's hold was never a queue to its clients */
    log_debug("queue '%s' deleted", q->name);
    queue_unref(q);
    return n;
}

void queue_unref(queue *q)
{
    uint16_t i;
    if (--q->refs > 0)
        return;
    /* a queue freed without queue_delete (the vhost going at shutdown)
     * must not leave its timers in the loop's heap */
    ev_timer_stop(q->vh->loop, &q->ttl_timer);
    if (q->deleted)
        stats_queue_gone(q); /* acks of its messages that came after the deletion */
    queue_deadletter_forget(q, false);
    delay_free(q);
    rare_free(q);
    queue_region_free(q);
    for (i = 0; i < q->nlevels; i++)
        qdeque_free(&q->levels[i]);
    queue_dedup_free(q->dedup);
    consumer_ring_free(&q->turns);
    free(q->cons);
    free_parts(q);
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
    return q->nready;
}

static bool over_limit(const queue *q, uint32_t extra_msgs, uint64_t extra_bytes)
{
    return (q->set.max_length >= 0 && (int64_t)(q->nready + extra_msgs) > q->set.max_length) ||
           (q->set.max_bytes >= 0 && (int64_t)(q->ready_bytes + extra_bytes) > q->set.max_bytes);
}

static int64_t expiry(const queue *q, int64_t published, int64_t expiration)
{
    int64_t at = 0, t;
    /* a TTL past the end of time (2^63 ms) is no TTL */
    if (q->set.msg_ttl >= 0 && !__builtin_add_overflow(published, q->set.msg_ttl, &t))
        at = t;
    if (expiration >= 0 && !__builtin_add_overflow(published, expiration, &t) && (!at || t < at))
        at = t;
    return at;
}

void queue_entry_times(const queue *q, qentry *e, const uint8_t *props, uint32_t props_len, int64_t published)
{
    msg *m = msg_new((amqp_str){"", 0}, (amqp_str){"", 0}, props, props_len, 0);
    const char *why;
    if (!m)
        return;
    msg_parse_props(m, &why);
    e->priority = m->priority > q->set.max_priority ? q->set.max_priority : m->priority;
    e->expires = expiry(q, published, m->expiration);
    if (q->hold) /* a hold: when it fires, for queue_recover */
        e->expires = published + delay_header_ms(props, props_len);
    msg_unref(m);
}

int queue_publish(queue *q, msg *m, uint64_t seq, const store_pos *pos)
{
    qentry e = {.seq = seq, .m = m, .size = m->body_len};
    bool was_empty = q->nready == 0;

    e.priority = m->priority > q->set.max_priority ? q->set.max_priority : m->priority;
    e.expires = expiry(q, m->published, m->expiration);
    if (pos) {
        e.flags |= QE_STORED;
        e.seg = pos->seg;
        e.off = pos->off;
    }
    if (q->dedup && queue_dedup_check(q->dedup, msg_props(m), m->props_len, seq)) {
        /* its x-deduplication-header value is in the queue already: taken
         * (confirmed) and dropped, as the plugin does; the held value
         * belongs to the other message, not to this seq */
        e.seq = 0;
        drop_entry(q, &e);
        return QUEUE_OK;
    }
    if (q->hold) {
        /* a delayed exchange's hold: held until its time (delay.c) */
        e.expires = 0;
        if (delay_hold_until(q, &e, m->published + delay_header_ms(msg_props(m), m->props_len)) < 0) {
            drop_entry(q, &e);
            return -1;
        }
        return QUEUE_OK; /* counted by its exchange (messages_delayed), not as a queue's publish */
    }
    if (over_limit(q, 1, m->body_len) && q->set.overflow != OVERFLOW_DROP_HEAD) {
        /* full: refused, and for reject-publish-dlx dead-lettered */
        if (q->set.overflow == OVERFLOW_REJECT_DLX)
            queue_deadletter(q, &e, "maxlen");
        else
            drop_entry(q, &e);
        return QUEUE_REFUSED;
    }
    if (queue_region_wants(q, pos != NULL)) {
        /* past the window: it stays on disk, counted (queue_region.c) */
        store_pos page;
        if (!pos) {
            /* a transient message behind the region: paged out to join it */
            if (!q->vh->st || store_page(q->vh->st, m, seq, q->id, &page) < 0) {
                drop_entry(q, &e);
                return -1;
            }
            e.flags |= QE_STORED;
            e.seg = page.seg;
            e.off = page.off;
        }
        msg_unref(m);
        e.m = NULL;
        if (queue_region_join(q, &e, !pos) < 0) {
            drop_entry(q, &e);
            return -1;
        }
        q->ctr.publish++;
        if (was_empty)
            arm_ttl(q);
        goto pushed;
    }
    if (q->nready >= MEMORY_HEAD) {
        store *st = q->vh->st;
        store_pos page;
        if (pos) {
            /* deep in a backlog: the store has it, RAM need not */
            msg_unref(m);
            e.m = NULL;
        } else if (st && msg_live_bytes() > q->vh->paging_threshold &&
                   store_page(st, m, seq, q->id, &page) == 0) {
            /* memory is short: a transient message deep in a backlog
             * waits on disk too */
            e.flags |= QE_STORED;
            e.seg = page.seg;
            e.off = page.off;
            msg_unref(m);
            e.m = NULL;
        }
    }
    if (e.expires && !q->expiring && q->nready)
        delay_note_forever(q); /* those ahead never expire */
    if (qdeque_push(level_of(q, &e), &e) < 0) {
        drop_entry(q, &e);
        return -1;
    }
    count_in(q, &e);
    q->ctr.publish++;
    if (e.expires) {
        q->expiring = true;
        delay_note_expiry(q, &e, false);
        if (was_empty)
            arm_ttl(q);
    } else if (q->expiring) {
        delay_note_forever(q);
    }
pushed:
    if (over_limit(q, 0, 0) && q->ncons) {
        /* as RabbitMQ's deliver-or-enqueue: what a consumer can take now
         * is delivered, not pushed out (even with x-max-length 0) */
        consumer_dispatch(q);
    }
    while (over_limit(q, 0, 0) && q->nready > 0) {
        qentry old;
        if (!pop_head(q, &old))
            break; /* the region could not be read: it stays */
        queue_deadletter(q, &old, "maxlen");
    }
    if (q->ncons)
        queue_mark_dirty(q);
    return QUEUE_OK;
}

static int window_push(queue *q, const qentry *e, bool noted);

int queue_recover(queue *q, const qentry *e)
{
    if (q->hold) {
        qentry h = *e;
        h.expires = 0;
        return delay_hold_until(q, &h, e->expires);
    }
    if (e->returns && q->set.backoff) {
        /* came back before the restart: its back-off starts over */
        qentry h = *e;
        if (delay_hold(q, &h))
            return 0;
    }
    if (queue_region_wants(q, true))
        return queue_region_join(q, e, false) < 0 ? -1 : 1; /* past the window: left on disk */
    return window_push(q, e, false);
}

/* Append e to the ready ring it belongs to, its expiry noted (unless the
 * index has it already). */
static int window_push(queue *q, const qentry *e, bool noted)
{
    if (e->expires && !q->expiring && q->nready)
        delay_note_forever(q);
    if (qdeque_push(level_of(q, e), e) < 0)
        return -1;
    count_in(q, e);
    if (e->expires) {
        q->expiring = true;
        if (!noted)
            delay_note_expiry(q, e, false);
        arm_ttl(q);
    } else if (q->expiring) {
        delay_note_forever(q);
    }
    return 0;
}

int queue_window_push(queue *q, const qentry *e, bool noted)
{
    if (e->returns && q->set.backoff) {
        /* came back before a restart: its back-off starts over */
        qentry h = *e;
        if (delay_hold(q, &h))
            return 0;
    }
    return window_push(q, e, noted);
}

bool queue_take(queue *q, qentry *out)
{
    int64_t now = vhost_now_ms(q->vh);
    while (pop_head(q, out)) {
        if (out->expires && out->expires < now) {
            queue_deadletter(q, out, "expired");
            continue;
        }
        if (q->set.delivery_limit >= 0 && out->returns > q->set.delivery_limit) {
            /* came back past the limit with a restart (recovery.c) */
            queue_deadletter(q, out, "delivery_limit");
            continue;
        }
        if (q->expiring)
            arm_ttl(q);
        q->ctr.deliver_get++;
        q->ctr.redeliver += (out->flags & QE_REDELIVERED) != 0;
        q->unacked_bytes += out->size;
        return true;
    }
    return false;
}

static int ready_insert(queue *q, qentry *e);

static int put_back(queue *q, qentry *e, bool returned)
{
    q->unacked--;
    q->unacked_bytes -= e->size;
    if (q->deleted) {
        drop_entry(q, e);
        return 0;
    }
    e->flags |= QE_REDELIVERED;
    e->flags &= (uint8_t)~(QE_ACKED | QE_TXACK);
    if (returned && e->returns < UINT16_MAX)
        e->returns++;
    if (returned && q->set.delivery_limit >= 0 && e->returns > q->set.delivery_limit) {
        /* as a quorum queue: the return that passes the limit ends it */
        queue_deadletter(q, e, "delivery_limit");
        return 0;
    }
    if (returned && q->set.backoff && delay_hold(q, e))
        return 0; /* ready again after its back-off (delay.c) */
    return ready_insert(q, e);
}

static int ready_insert(queue *q, qentry *e)
{
    if (qdeque_insert_sorted(level_of(q, e), e, by_seq) < 0) {
        log_error("queue '%s': out of memory requeueing a message; it is dropped", q->name);
        drop_entry(q, e);
        return -1;
    }
    count_in(q, e);
    if (e->expires) {
        delay_note_expiry(q, e, true);
        arm_ttl(q);
    }
    queue_mark_dirty(q);
    return 0;
}

void queue_ready_insert(queue *q, qentry *e)
{
    if (q->deleted)
        drop_entry(q, e);
    else
        ready_insert(q, e);
}

bool queue_ready_remove(queue *q, uint8_t priority, uint64_t seq, qentry *out)
{
    qdeque *d = &q->levels[priority < q->nlevels ? priority : q->nlevels - 1];
    size_t lo = 0, hi = d->len;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (qdeque_at(d, mid)->seq < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == d->len || qdeque_at(d, lo)->seq != seq)
        return queue_region_take(q, seq, out); /* deeper, on disk? */
    *out = *qdeque_at(d, lo);
    qdeque_remove_at(d, lo);
    count_out(q, out);
    if (lo == 0)
        arm_ttl(q);
    return true;
}

int queue_requeue(queue *q, qentry *e)
{
    return put_back(q, e, true);
}

int queue_unget(queue *q, qentry *e)
{
    return put_back(q, e, false);
}

msg *queue_delivered_msg(const queue *q, const qentry *e, msg *m)
{
    msg *out;
    if (e->returns == 0 || (!q->set.quorum && q->set.delivery_limit < 0))
        return m;
    out = msg_with_long_header(m, "x-delivery-count", e->returns);
    if (!out)
        return m; /* out of memory: delivered without the header rather than not */
    msg_unref(m);
    return out;
}

void queue_settle(queue *q, qentry *e)
{
    q->unacked--;
    q->unacked_bytes -= e->size;
    drop_entry(q, e);
}

void queue_reject(queue *q, qentry *e)
{
    q->unacked--;
    q->unacked_bytes -= e->size;
    if (q->deleted)
        drop_entry(q, e);
    else
        queue_deadletter(q, e, "rejected");
}
