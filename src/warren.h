/*
 * warren.h - the broker's nouns and the functions of each.
 *
 * Like beanstalkd's dat.h: every core type is declared here, with the
 * functions of its module right under it; the message (message.h) has its
 * own header, so that the store, which knows nothing above it, can use
 * it.  Data flows one way:
 *
 *   socket bytes -> conn (frames, handshake) -> channel (methods, publish
 *   assembly, acks) -> exchange (routing) -> queue (ready list) -> store
 *   (disk) / consumer (dispatch, consumer.h) -> delivery into the consumer's
 *   conn output buffer, through the callbacks its channel set.
 *
 * Where something must flow back (a publisher confirm after an fsync, a
 * consumer cancelled because its queue went), it goes through a callback
 * or a flag that the upstream module polls, never a call upward.
 *
 * Errors are values (error.h): a module that fails fills an `amqp_error`
 * via amqp_fail() and returns -1; conn.c alone turns that into a
 * channel.close (soft codes) or a connection.close (hard codes).
 */
#ifndef WARREN_H
#define WARREN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "amqp/frame.h"
#include "alarm.h"
#include "amqp/table.h"
#include "auth.h"
#include "config.h"
#include "error.h"
#include "listener.h"
#include "ev/buf.h"
#include "ev/loop.h"
#include "map.h"
#include "queue_args.h"
#include "message.h"
#include "ring.h"
#include "stats.h"

typedef struct broker broker;
typedef struct conn conn;
typedef struct channel channel;
typedef struct consumer consumer;
typedef struct queue queue;
typedef struct exchange exchange;
typedef struct exchange_type exchange_type;
typedef struct binding binding;
typedef struct vhost vhost;
typedef struct msg msg;
typedef struct qentry qentry;
typedef struct store store;
typedef struct store_pos store_pos;


/* ----------------------------------------------------------------- qentry */

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
    uint16_t flags;
    uint8_t priority;
    uint8_t pad;
    int64_t expires;            /* wall clock ms it expires at, 0 never */
};

/* A deque of entries ordered by seq (ring.h). */
RING_DEFINE(qdeque, qentry)

/* ---------------------------------------------------------------- consumer */

/* struct consumer, its callbacks to its channel and dispatch: consumer.h */

/* ------------------------------------------------------------------ queue */

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

struct queue {
    vhost *vh;
    char *name;
    uint8_t namelen;
    uint32_t id;                /* store id of a durable queue, else 0 */
    bool durable, exclusive, auto_delete;
    bool deleted;
    bool dirty;                 /* on the vhost's dispatch list */
    bool had_consumer;          /* auto_delete applies only after one */
    bool expiring;              /* some entry may have an expiry */
    queue_owner *owner;         /* exclusive queues: who holds it */
    uint8_t *args;              /* declare arguments, encoded */
    uint32_t argslen;
    queue_settings set;         /* what the arguments set, read once (queue_args.c) */
    /* ready messages: one deque per priority level, highest served first */
    qdeque *levels;
    uint16_t nlevels;
    uint32_t nready;
    uint64_t ready_bytes;
    uint32_t unacked;
    uint64_t unacked_bytes;
    stats_qcounters ctr;        /* bumped where it happens (stats.h) */
    stats_qsample smp;          /* rates, sampled on the tick (stats.c) */
    consumer **cons;            /* in the order they came */
    uint32_t ncons, capcons, rr;
    uint32_t refs;              /* unacked entries and the vhost hold it */
    queue *dirty_next;
    binding *bindings;          /* where it is the destination */
    uint64_t route_mark;        /* the route set it was last added to */
    ev_timer ttl_timer;         /* when the head message expires */
    ev_timer unused_timer;      /* x-expires */
    /* dead-letterings waiting for the store to read their message back
     * (deadletter.c), oldest first, tried again on dl_timer */
    struct dl_wait *dl_head, *dl_tail;
    ev_timer dl_timer;
};

/* Create and register in the vhost (arguments already validated); NULL if
 * out of memory. */
queue *queue_new(vhost *vh, amqp_str name, bool durable, bool exclusive, bool auto_delete,
                 amqp_table args, queue_owner *owner);
/* Unregister: consumers are cancelled (with basic.cancel to those who asked
 * for it), ready messages dropped; returns the number dropped. */
uint32_t queue_delete(queue *q);
uint32_t queue_purge(queue *q);
void queue_unref(queue *q);
enum { QUEUE_OK = 0, QUEUE_REFUSED = 1 };
/* Take ownership of a reference to m and append it; pos is where the store
 * put it (NULL for a message not on disk).  QUEUE_REFUSED when the queue is
 * full and its overflow is reject-publish(-dlx); -1 out of memory. */
int queue_publish(queue *q, msg *m, uint64_t seq, const store_pos *pos);
/* A message recovered from the store, appended in order. */
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
/* Put an unacked entry back in its place (by seq), marked redelivered. */
int queue_requeue(queue *q, qentry *e);
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

/* deadletter.c: send e (taken out of q) to q's dead-letter exchange with
 * an x-death record of `reason`, or drop it when q has none. */
void queue_deadletter(queue *q, qentry *e, const char *reason);
/* For queue.c: set up q's dead-letter retries (at creation); let go of
 * those still waiting (at deletion, with `drop` their messages leave the
 * store; when q is freed without deletion, at shutdown, they stay there
 * for the next start). */
void queue_deadletter_init(queue *q);
void queue_deadletter_forget(queue *q, bool drop);

/* --------------------------------------------------------------- exchange */

/*
 * An exchange type is a table of functions (exchange_type): it keeps its
 * own index of the exchange's bindings (bind/unbind) and, given a message,
 * hands each matching binding to route_binding().  exchange.c holds what is
 * common (bindings, exchange-to-exchange routing, alternate exchanges,
 * auto-delete); each type lives in its own file, exchange_<type>.c.
 */
typedef struct route_set {
    queue **q;                  /* the queues, each once: `one` or the heap */
    uint32_t n, cap;
    uint64_t mark;              /* queues already in the set carry it */
    exchange *seen[16];         /* exchanges routed through, against cycles */
    uint32_t nseen;
    queue *one[8];              /* most messages go to a few queues */
} route_set;

/* An empty set (on the caller's stack: not to be copied); route_set_done()
 * it afterwards. */
void route_set_init(route_set *rs);
/* Add q unless it is in the set already (each queue gets one copy); -1 out
 * of memory. */
int route_set_add(route_set *rs, queue *q);
/* Frees what the set allocated (the queues are not its to free). */
void route_set_done(route_set *rs);

struct binding {
    exchange *src;
    queue *q;                   /* the destination: a queue, */
    exchange *dst;              /* or an exchange */
    char *key;
    uint8_t keylen;
    uint8_t *args;
    uint32_t argslen;
    binding *src_next;          /* the source's bindings */
    binding *dst_next;          /* the destination's bindings */
    binding **src_pprev;        /* what points at it in those lists, so */
    binding **dst_pprev;        /* it is taken out without a walk */
    binding *hash_next;         /* the vhost's index of all bindings */
    void *index;                /* the type's own use */
};

struct exchange_type {
    const char *name;
    /* Index a new binding / forget one; bind returns -1 out of memory. */
    int (*bind)(exchange *x, binding *b);
    void (*unbind)(exchange *x, binding *b);
    /* Call route_binding() for every binding the message matches. */
    void (*route)(exchange *x, amqp_str rk, const msg *m, route_set *out);
    void (*free)(exchange *x);
    /* Check a binding's arguments (headers: x-match); -1 with *err set. */
    int (*validate)(amqp_table args, amqp_error *err);
};

struct exchange {
    vhost *vh;
    char *name;
    uint8_t namelen;
    const exchange_type *type;
    bool durable, auto_delete, internal;
    bool deleted;
    uint8_t *args;
    uint32_t argslen;
    binding *bindings;          /* where it is the source */
    uint32_t nbindings;
    binding *dst_bindings;      /* where it is the destination */
    void *index;                /* the type's index of its bindings */
    stats_xcounters ctr;        /* publishes in and out (stats.h) */
};

extern const exchange_type exchange_default, exchange_direct, exchange_fanout, exchange_topic,
    exchange_headers;

const exchange_type *exchange_type_find(amqp_str name);
/* Is name, not a type, one of the words RabbitMQ answers "invalid exchange
 * type" for rather than "unknown exchange type" (an Erlang atom that every
 * node has, such as 'ok' or 'queue')? */
bool exchange_type_is_atom(amqp_str name);
exchange *exchange_new(vhost *vh, amqp_str name, const exchange_type *type, bool durable,
                       bool auto_delete, bool internal, amqp_table args);
/* Unregister and free, with its bindings both ways. */
void exchange_delete(exchange *x);
void exchange_free(exchange *x);
/* Route a message from x (through exchange-to-exchange bindings and
 * alternate exchanges) into rs. */
void exchange_route(exchange *x, amqp_str rk, const msg *m, route_set *rs);
/* Route by the routing key and by each key of the message's CC and BCC
 * headers (RabbitMQ's sender-selected distribution). */
void exchange_route_cc(exchange *x, amqp_str rk, const msg *m, route_set *rs);
/* For the types: a binding matched. */
void route_binding(binding *b, amqp_str rk, const msg *m, route_set *rs);
/* Find / add / remove a binding; dest is a queue or an exchange. */
binding *binding_find(exchange *src, queue *q, exchange *dst, amqp_str key, amqp_table args);
binding *binding_add(exchange *src, queue *q, exchange *dst, amqp_str key, amqp_table args);
/* Remove (and free) a binding; an auto-delete source with no bindings left
 * goes too. */
void binding_remove(binding *b);
/* A queue is going: drop its bindings. */
void exchange_unbind_queue(queue *q);
/* Durable, with a durable destination: then the store records it. */
bool binding_durable(const binding *b);

/* ------------------------------------------------------------------ vhost */

struct vhost {
    broker *b;
    char *name;
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
};

/* What a client may do to a vhost (declare, delete, bind, get) is the
 * domain API of vhost.h. */
vhost *vhost_new(broker *b, const char *name);
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
 * when a persistent message could not be stored (then no queue has it). */
int vhost_publish_routed(vhost *vh, msg *m, const route_set *rs, deliver_result *res);
/* Wall clock milliseconds, read once per loop turn. */
int64_t vhost_now_ms(const vhost *vh);

/* ---------------------------------------------------------------- channel */

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
    uint64_t seq, lsn;
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
    confirm_ring pc;            /* stored publishes waiting for a sync */
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

/* ------------------------------------------------------------------- conn */

enum conn_state {
    CONN_HEADER,        /* waiting for the protocol header */
    CONN_START,         /* connection.start sent, waiting for start-ok */
    CONN_TUNE,          /* tune sent, waiting for tune-ok */
    CONN_OPEN_WAIT,     /* tune-ok received, waiting for connection.open */
    CONN_OPEN,
    CONN_CLOSING,       /* connection.close sent or answered: input is read and
                         * dropped until the client's close-ok or hang-up, or
                         * a timeout (conn.c) */
    CONN_DEAD,          /* to be reaped */
};

struct conn {
    ev_io io;
    ev_timer timer;             /* handshake, heartbeats or close deadline */
    broker *b;
    conn *next, *prev;          /* the broker's connections */
    conn *reap_next;
    conn *flush_next;           /* on the broker's to-flush list */
    uint8_t state;
    bool flushing;              /* on the flush list */
    bool read_paused;           /* output backlog: stop reading */
    bool alarm_held;            /* published during a resource alarm: not read */
    bool blocked_sent;          /* sent connection.blocked, unblocked is due */
    bool loopback;
    bool discard_input;         /* after a framing error */
    uint16_t channel_max;
    uint32_t frame_max;
    uint16_t heartbeat;
    uint64_t last_recv, last_send;  /* loop ms */
    uint8_t *in;                /* partial frame left from the last read */
    uint32_t inlen, incap;
    obuf out;
    /* open channels sorted by number: any number 1..65535 may be used, and
     * an idle connection holds no table at all */
    struct conn_channel {
        channel *ch;
        uint16_t id;
    } *chans;
    uint32_t nchans, capchans;
    vhost *vh;
    char user[64];
    char peer[64];
    uint32_t cap_flags;         /* client capabilities */
    queue_owner exclusive;      /* what its exclusive queues know it by */
    bool sync_waiting;          /* on the broker's sync waiter list */
    conn *sync_next;
    stats_conncounters stats;   /* bytes, reads, writes, client properties (stats.h) */
};

enum {
    CAP_CONSUMER_CANCEL_NOTIFY = 1 << 0,
    CAP_CONNECTION_BLOCKED = 1 << 1,
    CAP_AUTH_FAILURE_CLOSE = 1 << 2,
    CAP_PUBLISHER_CONFIRMS = 1 << 3,
};

#define CONN_OUT_HIGH (4u << 20)   /* stop delivering/reading above this */

void conn_accept(broker *b, int fd, const struct sockaddr *sa, socklen_t salen);
/* Queue a method frame.  Output errors mark the connection dead. */
void conn_send_method(conn *c, uint16_t ch, uint32_t id, const void *args);
/* Queue a method with content: method frame, header frame, body frames. */
void conn_send_content(conn *c, uint16_t ch, uint32_t id, const void *args, const msg *m);
/* Close with connection.close (hard error) or drop the socket at once. */
void conn_close(conn *c, int code, const char *text, uint32_t method);
void conn_kill(conn *c, const char *why);
void conn_want_flush(conn *c);
void conn_flush(conn *c);
/* Output room left before backpressure: deliveries stop at CONN_OUT_HIGH. */
static inline bool conn_congested(const conn *c) { return c->out.bytes >= CONN_OUT_HIGH; }
void conn_free(conn *c);
/* The resource alarms are off (broker.c's alarm observer): a connection
 * held for publishing during one is read again (and hears
 * connection.unblocked if it heard blocked). */
void conn_unblock(conn *c);
/* The channel numbered id is gone (freed already): drop it from the table. */
void conn_forget_channel(conn *c, uint16_t id);
/* Wake this connection when the store next syncs (its confirms wait). */
void conn_wait_sync(conn *c);

/* ----------------------------------------------------------------- broker */

struct broker {
    config cfg;
    ev_loop *loop;
    listener_set amqp;          /* the AMQP port's sockets */
    conn *conns;                /* all connections */
    uint32_t nconns;
    conn *reap;                 /* dead, freed before sleep */
    conn *flush;                /* with output to write before sleep */
    vhost *vh;                  /* "/" */
    store *st;                  /* NULL when not persistent */
    ev_timer tick;              /* once a second: heartbeats */
    ev_timer shutdown_timer;    /* grace period for clients to close */
    int sigfd;
    ev_io sig_io;
    bool stopping;
    alarms alarms;              /* resource alarms (alarm.c); broker.c observes them */
    conn *sync_waiters;         /* connections with confirms awaiting a sync */
    auth_db auth;               /* who may log in (auth.c) */
    struct http_server *http;   /* the HTTP API (src/http/), NULL when off */
};

int broker_init(broker *b, const config *cfg);
int broker_run(broker *b);
void broker_free(broker *b);

/* A random string of n characters from [A-Za-z0-9_-] (for generated names). */
void random_name(char *out, size_t n);

#endif
