/*
 * queue.h - a queue and the entries it holds (queue.c), and dead-lettering
 * out of it (deadletter.c).
 *
 * A queue is a domain noun: it knows its vhost, its consumers (through
 * consumer.h, whose callbacks lead to their owners) and the store, and
 * nothing of the protocol that declared it.
 */
#ifndef WARREN_QUEUE_H
#define WARREN_QUEUE_H

#include <stdbool.h>
#include <stdint.h>

#include "amqp/table.h"
#include "ev/loop.h"
#include "message.h"
#include "queue_args.h"
#include "ring.h"
#include "stats.h"

typedef struct vhost vhost;
typedef struct queue queue;
typedef struct consumer consumer;
typedef struct binding binding;
typedef struct qentry qentry;
typedef struct store_pos store_pos;

/* ---------------------------------------------------------------- qentry */

/*
 * One message's place in one queue.  The body is either in memory (`m`) or
 * only on disk (`loc`), so a long backlog costs ~32 bytes a message.
 */
enum {
    QE_REDELIVERED = 1 << 0,
    QE_STORED = 1 << 1,         /* has a place in the store (persistent, or paged out) */
    QE_ACKED = 1 << 2,          /* tombstone in a channel's unacked ring */
    QE_TXACK = 1 << 3,          /* acked inside an open transaction */
};

struct qentry {
    uint64_t seq;               /* global publish order: where a requeue goes */
    msg *m;                     /* NULL when the body lives only on disk */
    uint32_t seg, off;          /* store location when QE_STORED */
    uint32_t size;              /* body bytes */
    uint8_t flags;
    uint8_t priority;
    uint16_t returns;           /* times it came back unacked: x-delivery-count (saturates) */
    int64_t expires;            /* wall clock ms it expires at, 0 never */
};

/* A deque of entries ordered by seq (ring.h). */
RING_DEFINE(qdeque, qentry)

/* The consumers whose turn may come, in turn order (consumer.c). */
typedef consumer *consumer_ref;
RING_DEFINE(consumer_ring, consumer_ref)

/* ----------------------------------------------------------------- queue */

/*
 * Who an exclusive queue belongs to (the AMQP connection that declared it
 * embeds one).  The domain only compares owners and keeps the count of the
 * queues each holds, at creation and at deletion whoever deletes, so the
 * connection, when it closes, knows whether it has any to delete.
 */
typedef struct queue_owner {
    uint32_t nqueues;           /* exclusive queues it holds */
    const char *name;           /* how statistics name it (the peer address) */
} queue_owner;

/*
 * What only some queues use, allocated on first use (queue_rare_of) and
 * freed with the queue: an idle queue carries one pointer instead
 * (issue 16: 100,000 idle queues).  A queue with x-expires or a back-off
 * has it from its creation, a delayed exchange's hold from its start.
 */
typedef struct queue_rare {
    queue *q;
    ev_timer unused_timer;      /* x-expires */
    queue_backoff backoff;      /* x-backoff-* (q->set.backoff) */
    /* dead-letterings waiting for the store to read their message back
     * (deadletter.c), oldest first, tried again on dl_timer */
    struct dl_wait *dl_head, *dl_tail;
    ev_timer dl_timer;
    /* deliveries requeued for their consumer timeout, and the acks that
     * came for them too late, ignored (proto/consumer_timeout.c) */
    uint64_t consumer_timeouts, late_acks;
    /* A delayed exchange's hold (exchange_delayed.c; q->hold): every
     * message is held until its x-delay has passed, then handed to fire
     * as a delivery (unacked, to be settled), not to consumers. */
    void (*fire)(void *ctx, queue *q, qentry *e);
    void *fire_ctx;
} queue_rare;

struct queue {
    vhost *vh;
    char *name;
    queue_owner *owner;         /* exclusive queues: who holds it */
    uint8_t *args;              /* declare arguments, encoded */
    uint32_t argslen;
    uint32_t id;                /* store id of a durable queue, else 0 */
    uint8_t namelen;
    bool durable, exclusive, auto_delete;
    bool deleted;
    bool dirty;                 /* on the vhost's dispatch list */
    bool had_consumer;          /* auto_delete applies only after one */
    bool expiring;              /* some entry may have an expiry */
    bool hold;                  /* a delayed exchange's hold, in no vhost map (rare->fire) */
    bool cons_mixed;            /* not all of one x-priority: turns by a walk of cons */
    uint16_t nlevels;
    uint32_t refs;              /* unacked entries and the vhost hold it */
    queue_settings set;         /* what the arguments set, read once (queue_args.c) */
    /* ready messages: one deque per priority level, highest served first */
    qdeque *levels;
    qdeque level0;              /* levels, when there is one (no x-max-priority) */
    uint32_t nready;
    uint32_t ready_redelivered;  /* of nready, back from a consumer (a purge lists them) */
    uint64_t ready_bytes;
    uint64_t unacked_bytes;
    stats_qcounters ctr;        /* bumped where it happens (stats.h) */
    struct queue_dedup *dedup;  /* x-message-deduplication: the values held (queue_dedup.c) */
    stats_qsample smp;          /* rates, sampled on the tick (stats.c) */
    consumer **cons;            /* in the order they came */
    uint32_t ncons, capcons, rr;
    uint32_t unacked;
    consumer_ring turns;        /* else whose turn, those that may take (consumer.c) */
    queue *dirty_next;
    binding *bindings;          /* where it is the destination */
    uint64_t route_mark;        /* the route set it was last added to */
    ev_timer ttl_timer;         /* when the head message expires */
    struct qdelay *delay;       /* back-off holds, expiry index (delay.c); NULL until used */
    queue_rare *rare;           /* NULL until used (queue_rare_of) */
    struct qregion *region;     /* the backlog past the window, on disk (queue_region.c); NULL until used */
};

/* q's rare part, allocated (zeroed, timers ready) on first use; NULL out
 * of memory. */
queue_rare *queue_rare_of(queue *q);

/* Create and register in the vhost (arguments already validated); NULL if
 * out of memory. */
queue *queue_new(vhost *vh, amqp_str name, bool durable, bool exclusive, bool auto_delete,
                 amqp_table args, queue_owner *owner);
/* Unregister: consumers are cancelled (with basic.cancel to those who asked
 * for it), ready messages dropped; returns the number dropped.  A purge
 * or deletion of many messages is sealed on disk at once (a purge mark,
 * "queue gone") and the queue is empty when it returns; the acks and
 * frees are left to the vhost's drainer, in slices (drain.c). */
uint32_t queue_delete(queue *q);
uint32_t queue_purge(queue *q);
void queue_unref(queue *q);
enum { QUEUE_OK = 0, QUEUE_REFUSED = 1 };
/* Take ownership of a reference to m and append it; pos is where the store
 * put it (NULL for a message not on disk).  QUEUE_REFUSED when the queue is
 * full and its overflow is reject-publish(-dlx); -1 out of memory. */
int queue_publish(queue *q, msg *m, uint64_t seq, const store_pos *pos);
/* A message recovered from the store, appended in order; 1 when it went
 * to the region (queue_region.c). */
int queue_recover(queue *q, const qentry *e);
/* Set e's priority and expiry from encoded properties and publish time. */
void queue_entry_times(const queue *q, qentry *e, const uint8_t *props, uint32_t props_len, int64_t published);
/* The next ready message (after dropping or dead-lettering expired ones);
 * false when there is none.  The caller owns the entry's reference. */
bool queue_take(queue *q, qentry *out);
/* The message of e, for a delivery or a dead-lettering (`use` says which,
 * for the log): its own, or read back from the store; the caller unrefs
 * *out.  STORE_READ_OK, or why not (store/store.h): STORE_READ_AGAIN, the
 * read failed and may work later (logged and counted by the store), so the
 * message must stay; STORE_READ_DAMAGED or _GONE, it never will be read:
 * logged, a damaged record already moved aside, and the caller lets the
 * message go (settle or drop it). */
int queue_entry_msg(queue *q, const qentry *e, msg **out, const char *use);
/* Put an unacked entry back in its place (by seq), marked redelivered,
 * its delivery count raised; past the queue's x-delivery-limit it is
 * dead-lettered (reason delivery_limit) or dropped instead. */
int queue_requeue(queue *q, qentry *e);
/* Put back an entry taken but never delivered (its message could not be
 * read): as queue_requeue, without counting a return. */
int queue_unget(queue *q, qentry *e);
/* m (whose reference the caller gives) as delivered from e: with an
 * x-delivery-count header when q counts deliveries (a quorum queue, or one
 * with x-delivery-limit) and e came back before (m itself out of memory). */
msg *queue_delivered_msg(const queue *q, const qentry *e, msg *m);
/* An unacked entry is done with: acked. */
void queue_settle(queue *q, qentry *e);
/* Rejected or nacked without requeue: dead-lettered, or dropped. */
void queue_reject(queue *q, qentry *e);
/* The queue was used (declared, got from): x-expires starts over. */
void queue_touch(queue *q);
/* A consumer may take a message now: put q on the vhost's list, whose
 * queues run consumer_dispatch before the loop sleeps. */
void queue_mark_dirty(queue *q);
uint32_t queue_message_count(const queue *q);

/* For delay.c: put an entry back among the ready ones at its seq's place
 * (a held one whose time came); take the ready entry (priority, seq) out,
 * false when it is not there. */
void queue_ready_insert(queue *q, qentry *e);
bool queue_ready_remove(queue *q, uint8_t priority, uint64_t seq, qentry *out);
/* e's message left q for good (acked, dropped, dead-lettered): what
 * q keeps of it beside the entry goes (its x-deduplication-header). */
void queue_entry_gone(queue *q, const qentry *e);
/* recovery.c: a recovered message's properties, for what q keeps of it
 * beside the entry (its x-deduplication-header). */
void queue_entry_recovered(queue *q, const qentry *e, const uint8_t *props, uint32_t props_len);

/* deadletter.c: send e (taken out of q) to q's dead-letter exchange with
 * an x-death record of `reason`, or drop it when q has none. */
void queue_deadletter(queue *q, qentry *e, const char *reason);
/* For queue.c: set up q's dead-letter retries (when its rare part is
 * allocated, queue_rare_of); let go of
 * those still waiting (at deletion, with `drop` their messages leave the
 * store; when q is freed without deletion, at shutdown, they stay there
 * for the next start). */
void queue_deadletter_init(queue_rare *r);
void queue_deadletter_forget(queue *q, bool drop);

#endif
