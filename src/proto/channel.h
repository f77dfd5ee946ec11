/*
 * proto/channel.h - an AMQP channel (channel.c): publish assembly, qos,
 * the unacked ring, publisher confirms, transactions; its declare, bind
 * and delete handlers (declare.c); direct reply-to (reply_to.c).
 *
 * Included by the protocol layer (src/proto/), the broker and, through
 * warren.h, the HTTP API; never by the domain (tests/test_layering.py),
 * which knows a channel only as the owner behind a consumer's callbacks
 * (consumer.h, stats_session_ops) and a connection as an exclusive
 * queue's queue_owner.
 */
#ifndef WARREN_PROTO_CHANNEL_H
#define WARREN_PROTO_CHANNEL_H

#include <stdbool.h>
#include <stdint.h>

#include "amqp/frame.h"
#include "amqp/spec.h"
#include "auth.h"
#include "error.h"
#include "proto/consumer_timeout.h"
#include "queue.h"
#include "ring.h"
#include "stats.h"

typedef struct conn conn;
typedef struct channel channel;
typedef struct consumer consumer;

enum channel_state { CH_OPEN, CH_CLOSING };

/* A channel's consumer of the pseudo-queue amq.rabbitmq.reply-to
 * (reply_to.c): at most one, always no-ack, and no queue behind it. */
#define REPLY_TO_QUEUE "amq.rabbitmq.reply-to"
#define REPLY_TO_TOKEN 32       /* random characters after "amq.rabbitmq.reply-to." */

typedef struct reply_consumer {
    uint64_t mark;              /* vh->reply_mark when last delivered to */
    uint8_t taglen, namelen;
    char tag[256];
    char name[sizeof REPLY_TO_QUEUE + REPLY_TO_TOKEN + 1]; /* amq.rabbitmq.reply-to.<token> */
} reply_consumer;

/* One delivered, not yet acknowledged message; tag = first_tag + index. */
typedef struct unacked {
    qentry e;
    queue *q;
    uint32_t consumer_id;       /* 0 for basic.get */
    uint32_t at;                /* loop ms it went out, mod 2^32 (stats: oldest unacked) */
} unacked;

RING_DEFINE(unacked_ring, unacked)

/* A stored publish waiting for the store to sync it. */
typedef struct pending_confirm {
    uint64_t seq, lsn;          /* lsn 0: nothing to wait for (not stored) */
    uint64_t at_us;             /* the loop's wake-up that read it (ev_now_us), for the confirm latency */
    bool failed;                /* could not be stored: nack it */
} pending_confirm;

RING_DEFINE(confirm_ring, pending_confirm)

struct channel {
    conn *c;
    uint16_t id;
    uint8_t state;
    bool flow_active;
    /* publish assembly: basic.publish, then a header, then body frames */
    uint8_t pub_state;
    bool pub_mandatory;
    uint8_t pub_exlen, pub_rklen;
    char pub_exchange[256], pub_rk[256];
    msg *pub_msg;               /* NULL in PUB_BODY: more body came than announced */
    /* the last exchange a publish was let write to, while the users'
     * permissions are as they were (auth_db.gen): one regexec per
     * change of exchange, not per message */
    char write_ok[256];
    int write_ok_len;           /* -1: none */
    unsigned write_ok_gen;
    /* the queue an empty queue name means (the last one declared) */
    char last_queue[256];
    uint8_t last_queue_len;
    /* consumers (consumer.h; their ops are channel.c's) and flow control */
    consumer *consumers;
    reply_consumer *reply;      /* direct reply-to, NULL when none */
    uint32_t next_consumer_id;
    uint16_t prefetch;          /* each consumer's limit (global=false: its consumers, now and later) */
    uint16_t global_prefetch;   /* for the whole channel (global=true) */
    /* RabbitMQ's limiter volume: what counts against global_prefetch, i.e.
     * the unacked messages when it was set, then consumer deliveries that
     * need an ack minus their acks (basic.get ones never count) */
    int64_t global_volume;
    uint32_t unacked_count;     /* every delivery waiting for its ack */
    /* the unacked ring, indexed by delivery tag */
    unacked_ring ua;
    uint64_t ua_first_tag;      /* tag of ua's head */
    uint64_t next_tag;
    /* publisher confirms: a publish is confirmed once it is routed and,
     * if it was stored, once the store has synced it */
    bool confirm;
    uint64_t pub_count;         /* confirm sequence numbers handed out */
    uint64_t pub_done;          /* the last publish fully handled */
    uint64_t confirmed_upto;    /* all seqs <= this told to the client */
    confirm_ring pc;            /* publishes not yet confirmed, each with when it came */
    /* transactions: publishes are routed as they come, and they and the
     * acks take effect at tx.commit */
    bool tx;
    bool commit_wait;           /* commit-ok waits for the store to sync */
    uint64_t commit_lsn;
    struct tx_pub {
        msg *m;
        queue **q;              /* where it was routed (a reference each) */
        uint32_t nq;
        bool mandatory;
    } *txp;
    size_t ntxp, captxp;
    struct tx_ack {
        uint64_t tag;
        bool multiple;
        uint8_t kind;
    } *txa;
    size_t ntxa, captxa;
    stats_chcounters ctr;       /* publishes, deliveries, acks (stats.h) */
    ct_state ct;                /* overdue deliveries (consumer_timeout.c) */
};

channel *channel_new(conn *c, uint16_t id);
/* Let go of everything: unacked messages go back to their queues,
 * consumers are cancelled, a half-published message is dropped. */
void channel_release(channel *ch);
void channel_free(channel *ch);
/* Handle one frame on an open channel; -1 with *err set on failure. */
int channel_frame(channel *ch, const amqp_frame *f, amqp_error *err);
/* Send m to the channel's direct reply-to consumer: a basic.deliver that
 * needs no ack (m stays the caller's). */
void channel_deliver_reply(channel *ch, const msg *m);
/* consumer_timeout.c: requeue an unacked delivery (a nack with requeue:
 * its slot becomes a tombstone), then trim the ring's head. */
void channel_requeue_unacked(channel *ch, unacked *u);
void channel_trim_unacked(channel *ch);
/* stats.c: when (ua->at) the oldest unsettled delivery from q on ch went
 * out; false when ch holds none.  Walks from the ring's head to the first. */
bool channel_oldest_unacked(channel *ch, const queue *q, uint32_t *at);

/* ---------------------------------------------------------- direct reply-to */

/* Is name the pseudo-queue, or a name made from it (amq.rabbitmq.reply-to.<token>)? */
bool reply_to_name(amqp_str name);
/* basic.consume of the pseudo-queue (the caller has checked the tag is not
 * one of the channel's consumers'); -1 with *err set. */
int reply_to_consume(channel *ch, const amqp_basic_consume *m, amqp_error *err);
/* The reply consumer goes (basic.cancel, or the channel closes); false when
 * the channel had none. */
bool reply_to_cancel(channel *ch);
/* A publish whose reply_to is the pseudo-queue: point it at the channel's
 * reply consumer (props->reply_to then names ch's storage); -1 with 406
 * when the channel has none. */
int reply_to_fill(channel *ch, amqp_basic_properties *props, amqp_error *err);
/* queue.declare of a reply_to_name(): -1 with 404 for a name that reaches
 * no consumer, else 0. */
int reply_to_declare(vhost *vh, amqp_str name, amqp_error *err);
/* A message published to the default exchange: deliver it to the reply
 * consumers its routing key (and CC/BCC keys) name; nothing else. */
void reply_to_route(vhost *vh, msg *m);
/* Before sleep: send pending confirms and commit-oks. */
void channel_flush_confirms(channel *ch);
static inline bool channel_has_pending(const channel *ch) { return ch->confirm || ch->commit_wait; }

/* -------------------------------------------------- declare.c (the handlers) */

/* A method of the queue and exchange classes (declare, delete, purge,
 * bind, unbind): decode, call the domain (vhost.h), send the -ok. */
int channel_declare_method(channel *ch, uint32_t id, amqp_method_args *a, amqp_error *err);
/* The queue named, if ch's connection may use it (404, 405). */
int channel_queue_access(channel *ch, amqp_str name, queue **out, amqp_error *err);
/* An empty name means the channel's last declared queue (530 when there
 * is none): *name is rewritten to it. */
int channel_queue_name(channel *ch, amqp_str *name, amqp_error *err);
/* May ch's user do perm to the queue or exchange named, in its vhost
 * (auth.h)?  0, or -1 with RabbitMQ's 403 ACCESS_REFUSED in *err. */
int channel_permitted(channel *ch, enum auth_kind kind, amqp_str name, enum auth_perm perm, amqp_error *err);

#endif
