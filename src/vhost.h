/*
 * vhost.h - the domain API: what a client may do to a vhost's queues,
 * exchanges and bindings, the same for every front end (the AMQP channel
 * today, the HTTP API and warrenctl next).  Implemented in vhost.c.
 *
 * Each call takes plain values (a name, a spec of flags and arguments),
 * applies RabbitMQ's rules in RabbitMQ's order, and returns 0, or -1 with
 * an amqp_error (error.h) holding RabbitMQ's reply code and exact text.
 * The caller decides what a refusal becomes: conn.c turns it into a
 * channel.close or a connection.close, the HTTP API into a status.
 * Nothing here sends anything, or knows a channel or a connection.
 *
 * What stays with the protocol: AMQP's shortcuts (an empty queue name
 * meaning the channel's last declared queue, the amq.gen- name of a
 * server-named queue), direct reply-to's pseudo-queues (reply_to.c), the
 * -ok replies and nowait.
 *
 * Exclusive queues: `owner` says who asks.  The AMQP connection passes its
 * queue_owner (queue.h); a front end without connections (HTTP) passes
 * NULL.  An exclusive queue belongs to the owner that declared it; any
 * other that names it is refused with RabbitMQ's 405 RESOURCE_LOCKED.  The
 * owner holds the count of its queues, kept here at creation and by
 * queue.c at deletion (whoever deletes), so a closing connection knows it
 * has queues to delete.
 *
 * Durability: a durable declaration (a queue, an exchange, a binding
 * between durable ends) is appended to the store's definitions log and
 * synced (fdatasync, store/defs.c) before the call returns: a return of 0
 * means it is on disk, so the caller sends its -ok at once and waits for
 * nothing.  One that cannot be recorded is undone and refused (541
 * INTERNAL_ERROR).  Deletions are recorded by queue.c and exchange.c
 * themselves, whoever deletes (a client, x-expires, auto-delete).
 */
#ifndef WARREN_VHOST_H
#define WARREN_VHOST_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "exchange.h"
#include "quota.h"
#include "map.h"
#include "message.h"
#include "queue.h"
#include "stats.h"

typedef struct broker broker;
typedef struct vhost vhost;
typedef struct store store;

/* ----------------------------------------------------------------- vhost */

struct vhost {
    broker *b;                  /* its process, for the front ends: the domain
                                 * reads nothing through it (tests/test_layering.py) */
    char *name;
    /* what the domain needs of the process, given to it */
    ev_loop *loop;              /* timers, the wall clock */
    store *st;                  /* NULL when not persistent (vhost_set_store) */
    uint64_t paging_threshold;  /* message bytes in RAM before backlogs page out */
    const char *data_dir;       /* its delay/ holds delayed exchanges' indexes (delay_index.c); NULL none */
    struct drainer *drain;      /* the process's slices of huge purges (drain.c) */
    bool dying;                 /* deleted, its deletion recorded: its queues go
                                 * a slice a turn, with no record of their own */
    map queues;
    map exchanges;
    map reply_to;               /* direct reply-to names -> their channel (reply_to.c) */
    uint64_t reply_mark;        /* the reply publish being routed (reply_to.c) */
    queue *dirty;               /* queues with deliveries to try */
    uint64_t next_seq;          /* message publish order */
    /* every binding by (source, destination, key): binding_find is one
     * hash, not a walk of a list that may hold 100,000 (exchange.c) */
    binding **bindex;
    size_t bindex_cap, nbindings;
    stats_vhost stats;          /* totals, their history, the seq clock (stats.c) */
    /* RabbitMQ's vhost limits (limits.h): max-queues is the domain's
     * (vhost_declare_queue); max-connections the front end's, which keeps
     * nconns, the connections open in the vhost (proto/limits.c) */
    limits limits;
    uint32_t nconns;
    struct redrive *redrives;   /* redrive jobs, running or ended (redrive.c) */
};

/* What a client may do to a vhost (declare, delete, bind, get) is the
 * domain API further down. */
/* A vhost of b's, on b's loop and with its settings; no store yet. */
vhost *vhost_new(broker *b, const char *name);
/* The store its durable things are written to, once it is open (its
 * recovery ran without one, as nothing recovered is written again); NULL
 * before the vhost is freed, so that freeing queues does not look like
 * acks. */
void vhost_set_store(vhost *vh, store *st);
void vhost_free(vhost *vh);
queue *vhost_queue(vhost *vh, amqp_str name);
exchange *vhost_exchange(vhost *vh, amqp_str name);
/* Run the dispatch list; returns true if work remains. */
bool vhost_dispatch(vhost *vh);

/* Publishing, in two steps (publish.c): route, then hand to the queues.
 * Used by basic.publish, tx.commit and dead-lettering; needs no channel. */
typedef struct deliver_result {
    uint32_t routed;            /* queues it was routed to */
    uint32_t queues;            /* of those, queues that took it */
    uint32_t refused;           /* queues that refused it (full) */
    bool stored;                /* written for its durable queues, */
    uint64_t lsn;               /* in the store's log up to here */
} deliver_result;

/* Route m by the exchange and routing key it names and, with_cc, the keys
 * of its CC and BCC headers, into rs (set up here, each queue once; none
 * when the exchange does not exist).  route_set_done(rs) afterwards.
 * Returns the exchange, for its counters; NULL when there is none. */
exchange *vhost_route(vhost *vh, const msg *m, bool with_cc, route_set *rs);
/* Hand m to the queues of rs: without its BCC header, stored once for all
 * the durable ones when persistent, appended to each (each takes its own
 * reference; the caller keeps its own).  Returns how many took it, or -1
 * when a persistent message could not be stored or the set is incomplete
 * (routing ran out of memory): then no queue has it. */
int vhost_publish_routed(vhost *vh, msg *m, const route_set *rs, deliver_result *res);
/* Wall clock milliseconds, read once per loop turn. */
int64_t vhost_now_ms(const vhost *vh);

/* ---------------------------------------------------------------- queues */

typedef struct queue_spec {
    amqp_str name;              /* 1..255 bytes */
    bool durable;               /* ignored for an exclusive queue: never durable */
    bool exclusive, auto_delete;
    bool server_named;          /* the front end made the name (amq.gen-...):
                                 * its reserved prefix is allowed */
    amqp_table arguments;       /* the x- arguments, encoded (queue_args.c) */
} queue_spec;

/* What a declare tells of the queue (queue.declare-ok's counts). */
typedef struct queue_info {
    uint32_t messages;          /* ready */
    uint32_t consumers;
} queue_info;

/* Declare a queue, or check that it exists (passive: only s->name is
 * read, the exact name).  A redeclare must be equivalent (the owner, then
 * durable, auto_delete and the compared arguments), else 405 or 406 and
 * nothing changes; a new queue's arguments are validated first.  With
 * out, its counts are read, which counts as using the queue (x-expires
 * starts over); NULL (AMQP's nowait) reads nothing. */
int vhost_declare_queue(vhost *vh, const queue_spec *s, queue_owner *owner, bool passive, queue_info *out,
                        amqp_error *err);
/* Delete a queue: its consumers are cancelled, its ready messages dropped
 * (*messages says how many).  One that does not exist is deleted already:
 * 0 with *messages = 0.  if_unused refuses one with consumers, if_empty
 * one with ready messages (406). */
int vhost_delete_queue(vhost *vh, amqp_str name, const queue_owner *owner, bool if_unused, bool if_empty,
                       uint32_t *messages, amqp_error *err);
/* Drop a queue's ready messages (*messages says how many; unacked ones
 * stay with their consumers). */
int vhost_purge_queue(vhost *vh, amqp_str name, const queue_owner *owner, uint32_t *messages, amqp_error *err);
/* The queue named, if owner may use it: 404 when there is none, 405 when
 * it is another's exclusive queue.  *out stays valid until the queue is
 * deleted (take a reference, q->refs, to keep it longer). */
int vhost_queue_access(vhost *vh, amqp_str name, const queue_owner *owner, queue **out, amqp_error *err);

/* ------------------------------------------------------------- exchanges */

typedef struct exchange_spec {
    amqp_str name;
    amqp_str type;              /* "direct", "fanout", "topic", "headers" */
    bool durable, auto_delete, internal;
    amqp_table arguments;       /* alternate-exchange */
} exchange_spec;

/* Declare an exchange, or check that it exists (passive: only s->name is
 * read).  A redeclare must be equivalent (type, durable, auto_delete,
 * internal, alternate-exchange), else 406 and nothing changes.  The
 * default exchange ("") and new names under amq. are refused (403). */
int vhost_declare_exchange(vhost *vh, const exchange_spec *s, bool passive, amqp_error *err);
/* Delete an exchange and its bindings both ways; one that does not exist
 * is deleted already (0).  if_unused refuses one that is the source of a
 * binding (406); the default and the amq. exchanges are refused (403). */
int vhost_delete_exchange(vhost *vh, amqp_str name, bool if_unused, amqp_error *err);

/* ------------------------------------------------------------- bindings */

typedef struct binding_spec {
    amqp_str source;            /* an exchange */
    amqp_str destination;       /* a queue (to_queue) or an exchange */
    bool to_queue;
    amqp_str key;
    amqp_table arguments;       /* headers exchanges: x-match and the headers */
} binding_spec;

/* Add (add) or remove a binding.  Adding one that exists, or removing one
 * that does not (or whose ends do not exist), does nothing and succeeds.
 * Adding names the missing end (404, the source first), refuses another's
 * exclusive queue (405) and arguments the source's type refuses (headers:
 * x-match); removing refuses only an existing binding of another's
 * exclusive queue (405).  The default exchange can be neither end (403). */
int vhost_bind(vhost *vh, bool add, const binding_spec *s, const queue_owner *owner, amqp_error *err);

/* ----------------------------------------------------------------- get */

enum {
    VHOST_GET_OK = 0,           /* out holds a message */
    VHOST_GET_EMPTY = 1,        /* the queue has no ready message */
    VHOST_GET_AGAIN = 2,        /* the store cannot read the head message now */
};

/* One message taken out of a queue by a get, held by the caller. */
typedef struct vhost_got {
    queue *q;                   /* the queue it came from */
    qentry e;                   /* its entry, counted as unacked (q->unacked) */
    msg *m;                     /* its message, a reference the caller drops */
    uint32_t left;              /* ready messages still in the queue */
} vhost_got;

/* Take the next ready message of a queue, as basic.get does (the queue is
 * used: x-expires starts over).  VHOST_GET_OK: out->e is the caller's, to
 * settle (queue_settle), keep until an ack, or put back (queue_requeue).
 * VHOST_GET_AGAIN: the message could not be read now; out->e is held as
 * for OK (out->m is NULL) and must be put back with queue_requeue.  A
 * message damaged on disk is moved aside and skipped.  -1 with *err set
 * when the queue cannot be used (404, 405). */
int vhost_get(vhost *vh, amqp_str name, const queue_owner *owner, vhost_got *out, amqp_error *err);

/* --------------------------------------------------------------- browse */

/* One message seen by a browse, borrowed for the callback. */
typedef struct vhost_browsed {
    const msg *m;               /* NULL: its body is on disk and could not be read now */
    uint32_t size;              /* body bytes */
    bool redelivered;
    int64_t age_ms;             /* ready: since it was published (-1 unknown) */
    const stats_unacked *held;  /* unacked: who holds it and since when; NULL for ready */
    int64_t due;                /* delayed: wall ms it is ready again / fires; 0 otherwise */
} vhost_browsed;

/* Look at a queue's messages without touching it: the first `count` ready
 * ones in the order a consumer would get them (unacked: the unsettled
 * deliveries, asked of the sessions), fn called once each; a body only on
 * disk is read from the store and let go again.  Nothing changes: no
 * message moves, no counter, no x-expires.  Read-only, so another's
 * exclusive queue may be browsed too.  0 (or what fn returned, non-zero,
 * to stop), -1 with *err 404 when there is no such queue. */
int vhost_browse(vhost *vh, amqp_str name, bool unacked, uint32_t count,
                 int (*fn)(void *arg, const vhost_browsed *b), void *arg, amqp_error *err);
/* The same for the messages held back (delay.c): a queue's back-off holds,
 * or (of_exchange) an x-delayed-message exchange's delayed messages, in
 * the order they come due, each with its due time.  -1 with *err 404 when
 * there is no such queue or exchange (an exchange of another type has
 * none: 0). */
int vhost_browse_delayed(vhost *vh, amqp_str name, bool of_exchange, uint32_t count,
                         int (*fn)(void *arg, const vhost_browsed *b), void *arg, amqp_error *err);

#endif
