/*
 * stats.h - the read-only statistics API: what a management front end
 * (the HTTP API, Prometheus, warrenctl) may know of the broker, as plain
 * values.
 *
 * A query fills a snapshot struct the caller owns (stats_queue,
 * stats_connection, ...); nothing in it points into the broker, except the
 * two encoded tables (a queue's arguments, a connection's client
 * properties), which are borrowed views valid only until the callback
 * returns (copy them to keep them).  Iterators call fn once per object
 * and stop early when fn returns non-zero (which they return).
 *
 * Counters are bumped where the events happen (one increment each, in the
 * structs below, embedded in queue, exchange, channel and conn); rates and
 * the 10-minute history come from samples taken on the broker's tick every
 * STATS_INTERVAL_MS (stats.c), so no query walks more than what it reports,
 * except stats_totals, which sums every queue (O(queues)).
 */
#ifndef WARREN_STATS_H
#define WARREN_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "amqp/table.h"

typedef struct broker broker;
typedef struct vhost vhost;
typedef struct queue queue;

#define STATS_INTERVAL_MS 5000  /* a sample every 5 s, as RabbitMQ's collect_statistics_interval */
#define STATS_HISTORY 120       /* 10 minutes of totals at that interval */

/* --------------------------------------------- counters (bumped in place) */

/* What happened to a queue's messages since it was declared, as counted
 * (stats_msgstats below gives them RabbitMQ's meanings). */
typedef struct stats_qcounters {
    uint64_t publish;           /* accepted by the queue (queue_publish) */
    uint64_t deliver_get;       /* taken for a consumer or basic.get (queue_take) */
    uint64_t get;               /* of those, by basic.get */
    uint64_t deliver_no_ack;    /* of those, by a no-ack consumer */
    uint64_t get_no_ack;        /* by a no-ack basic.get */
    uint64_t get_empty;         /* basic.get found nothing */
    uint64_t ack;               /* acknowledged by a client */
    uint64_t redeliver;         /* taken with the redelivered flag */
} stats_qcounters;

/* RabbitMQ's message_stats (struct stats_msgstats, in stats_sample
 * below): deliver and get are the manual-ack ones, deliver_get all four
 * kinds. */

enum {
    STATS_PUBLISH, STATS_DELIVER, STATS_DELIVER_NO_ACK, STATS_GET, STATS_GET_NO_ACK, STATS_DELIVER_GET, STATS_ACK,
    STATS_REDELIVER, STATS_NRATES
};

/* A queue's last sample: its counters at the last tick (mod 2^32: a
 * difference over 5 s is all that is needed), the rates over the interval
 * that ended there, and since when nothing happened; the only per-queue
 * history, 72 bytes, so 100,000 queues cost 7 MB. */
typedef struct stats_qsample {
    uint32_t last[STATS_NRATES];
    float rate[STATS_NRATES];
    int64_t idle_since;         /* wall ms of the last tick that saw activity */
} stats_qsample;

typedef struct stats_xcounters {
    uint64_t publish_in;        /* published to it by a client */
    uint64_t publish_out;       /* of those, routed to at least one queue */
    uint64_t last_in, last_out;
    float rate_in, rate_out;
} stats_xcounters;

typedef struct stats_chcounters {
    uint64_t publish, deliver, get, ack, redeliver;
    uint64_t confirm;           /* publishes confirmed (basic.ack to the publisher) */
    uint64_t return_unroutable; /* mandatory publishes returned */
} stats_chcounters;

typedef struct stats_conncounters {
    uint64_t recv_oct, recv_cnt;    /* bytes read, reads */
    uint64_t send_oct, send_cnt;    /* bytes written, writes */
    uint32_t last_recv, last_send;  /* the octets at the last sample, mod 2^32 */
    float recv_rate, send_rate;     /* octets a second over the last interval */
    int64_t connected_at;           /* wall ms */
    char local[64];                 /* the server's end, host:port, found at the first query */
    uint8_t *client_props;          /* product, version, platform, capabilities: an encoded table */
    uint32_t client_props_len;
} stats_conncounters;

/* The publish sequence number -> wall clock map of a vhost (stats.c): the
 * age of a ready message whose body is only on disk, where the queue
 * entry has no timestamp.  Fixed size; thinned from the old end. */
#define STATS_SEQCLOCK 128
typedef struct stats_seqclock {
    uint32_t n;
    struct stats_seqmark {
        uint64_t seq;
        int64_t ms;
    } s[STATS_SEQCLOCK];
} stats_seqclock;

/* The totals of one instant, one slot of the history. */
typedef struct stats_msgstats stats_msgstats;
typedef struct stats_sample {
    int64_t at;                 /* wall ms */
    struct stats_msgstats {
        uint64_t publish, deliver, deliver_no_ack, get, get_no_ack, get_empty, deliver_get, ack, redeliver;
    } m;                        /* cumulative, over every queue, deleted ones included */
    uint64_t ready, unacked;
} stats_sample;

/* A latency histogram: counts per bucket (not cumulative) of the upper
 * bounds bounds_us[0..nbounds), bucket[nbounds] above them all, and the
 * count and sum of every observation (Prometheus's _bucket, _count and
 * _sum, once made cumulative). */
#define STATS_HISTOGRAM_MAX 16
typedef struct stats_histogram {
    const uint32_t *bounds_us;  /* ascending */
    uint32_t nbounds;           /* <= STATS_HISTOGRAM_MAX */
    uint64_t bucket[STATS_HISTOGRAM_MAX + 1];
    uint64_t count, sum_us;
} stats_histogram;

/* What the statistics ask of the protocol layer, which alone knows its
 * sessions (AMQP connections and channels): registered on the vhost by
 * proto/stats_conn.c (stats_conn_register); a vhost without any (the
 * domain's unit tests) counts no sessions and no unacked ages. */
typedef struct stats_totals stats_totals;
typedef struct qentry qentry;

/* One unsettled delivery of a queue as a session holds it (browse). */
typedef struct stats_unacked {
    const qentry *e;            /* borrowed: its entry (body in memory, or only on disk) */
    const char *connection;     /* the holding connection's peer (stats_connection.name) */
    uint16_t channel;
    const char *consumer_tag;   /* NULL: taken by basic.get */
    size_t taglen;
    uint64_t delivery_tag;
    uint32_t at;                /* loop ms it went out, mod 2^32 */
} stats_unacked;

typedef struct stats_session_ops {
    /* When (loop ms mod 2^32) the oldest unsettled delivery from q that
     * `owner` (a consumer's owner) holds went out; false when none. */
    bool (*oldest_unacked)(void *owner, const queue *q, uint32_t *at);
    /* Call fn with every owner there is (every channel). */
    void (*each_owner)(void *ctx, void (*fn)(void *arg, void *owner), void *arg);
    /* Add the sessions to the totals: connections, channels, consumers. */
    void (*count)(void *ctx, stats_totals *out);
    /* The publish-to-confirm latency of every confirmed publish so far
     * (NULL: none measured). */
    void (*confirm_latency)(void *ctx, stats_histogram *out);
    /* A sample is taken: the sessions' own rates over the last dt s. */
    void (*sample)(void *ctx, float dt);
    /* Call fn with every unsettled delivery from q, each channel's in
     * delivery order; stops when fn returns non-zero (returned). */
    int (*each_unacked)(void *ctx, const queue *q, int (*fn)(void *arg, const stats_unacked *u), void *arg);
    /* Close the connection whose peer is `name` with 320
     * CONNECTION_FORCED and text; -1 when there is none. */
    int (*close)(void *ctx, const char *name, const char *text);
} stats_session_ops;

/* A vhost's own statistics (embedded in struct vhost). */
typedef struct stats_vhost {
    stats_qcounters gone;       /* counters of the queues deleted so far */
    uint64_t received;          /* client publishes that reached an exchange */
    uint64_t received_confirm;  /* of those, on a channel in confirm mode */
    uint64_t routed;            /* of those, routed to at least one queue */
    uint64_t unroutable;        /* routed nowhere (dropped or returned) */
    uint64_t returned;          /* of those, mandatory: returned */
    uint64_t confirmed;         /* publishes confirmed */
    uint64_t queues_declared;   /* queue.declare (not passive) answered, new queue or not */
    uint64_t queues_created, queues_deleted;
    stats_seqclock clock;
    stats_sample hist[STATS_HISTORY];
    uint32_t hist_head, hist_len;
    int64_t next_sample;        /* loop ms of the next sample */
    const stats_session_ops *sessions;  /* NULL: none */
    void *sessions_ctx;
} stats_vhost;

/* ------------------------------------------------------------- snapshots */

/* Per second, over the last interval; the fields of stats_msgstats. */
typedef struct stats_rates {
    double publish, deliver, deliver_no_ack, get, get_no_ack, deliver_get, ack, redeliver;
} stats_rates;

typedef struct stats_queue {
    char name[256];
    char vhost[256];
    bool durable, exclusive, auto_delete;
    amqp_table arguments;       /* borrowed: valid during the callback */
    uint64_t ready, unacked;    /* messages */
    uint64_t ready_bytes, unacked_bytes;
    uint32_t consumers;
    stats_msgstats counters;
    stats_rates rates;
    int64_t oldest_ready_ms;    /* age of the oldest ready message, -1 none */
    int64_t oldest_unacked_ms;  /* since the oldest unacked delivery went out, -1 none */
    uint64_t consumer_timeouts, late_acks; /* proto/consumer_timeout.c's counts */
    int64_t idle_since;         /* wall ms of the last sample that saw activity (or its first) */
    uint64_t memory;            /* bytes of the queue and its entries (bodies, shared, not counted) */
    char owner[64];             /* exclusive queues: the owner's name */
    char single_active_consumer_tag[256];  /* x-single-active-consumer: the active one, "" none */
    char exclusive_consumer_tag[256];      /* an exclusive consumer's, "" none */
    uint32_t delayed;           /* held back by x-backoff-* (delay.c), ready when their time comes */
} stats_queue;

typedef struct stats_exchange {
    char name[256];
    char vhost[256];
    char type[32];              /* "x-delayed-message" takes 18 */
    bool durable, auto_delete, internal;
    uint32_t delayed;           /* x-delayed-message: messages held (the plugin's messages_delayed) */
    amqp_table arguments;       /* borrowed */
    uint64_t publish_in, publish_out;
    double rate_in, rate_out;
    uint32_t bindings;          /* where it is the source */
} stats_exchange;

/* A binding (the default exchange's implicit ones included: source "",
 * key the queue's name). */
typedef struct stats_binding {
    amqp_str source, destination, key;  /* borrowed */
    bool to_queue;
    amqp_table arguments;       /* borrowed */
} stats_binding;

typedef struct stats_connection {
    char name[64];              /* the peer, host:port */
    char local[64];             /* the server's end, host:port (RabbitMQ's name is "peer -> local") */
    char user[64];
    char vhost[256];
    const char *state;          /* RabbitMQ's: starting, tuning, opening, running, blocked, closing */
    uint32_t channels;
    uint16_t channel_max, heartbeat;
    uint32_t frame_max;
    uint64_t recv_oct, recv_cnt, send_oct, send_cnt;
    double recv_oct_rate, send_oct_rate;    /* per second, over the last interval */
    int64_t connected_at;       /* wall ms */
    amqp_table client_properties;   /* borrowed: product, version, platform, capabilities */
    const char *auth_mechanism;     /* PLAIN, AMQPLAIN, EXTERNAL (static) */
    bool ssl;                       /* amqps (doc/tls.md) */
    char ssl_protocol[16];          /* RabbitMQ's form: "tlsv1.3" */
    const char *ssl_cipher;         /* OpenSSL's name, borrowed for the call */
    char peer_cert_subject[256];    /* a verified client certificate's DN, else "" */
} stats_connection;

typedef struct stats_channel {
    char connection[64];        /* its connection's name */
    uint16_t number;
    char user[64];
    char vhost[256];
    uint32_t consumers;
    uint16_t prefetch, global_prefetch;
    uint32_t unacked;
    uint32_t unconfirmed;       /* publishes not yet confirmed */
    uint32_t uncommitted, acks_uncommitted;     /* held by an open transaction */
    bool confirm, tx;
    const char *state;          /* RabbitMQ's: running, flow, closing */
    stats_chcounters counters;
} stats_channel;

typedef struct stats_consumer {
    char queue[256];
    char vhost[256];
    char tag[256];
    char connection[64];
    uint16_t channel;
    bool ack_required, exclusive;
    bool active;                /* served now (false: waiting behind a single active consumer) */
    uint16_t prefetch;
    int32_t priority;
    uint32_t unacked;
} stats_consumer;

typedef struct stats_totals {
    uint32_t connections, channels, queues, exchanges, consumers;
    uint64_t ready, unacked, ready_bytes, unacked_bytes;
    stats_msgstats counters;    /* over every queue, deleted ones included */
    stats_rates rates;          /* publish, deliver, get, deliver_get, ack, redeliver: over the last interval */
    uint64_t received, routed, unroutable, returned, confirmed;
    uint64_t received_confirm;  /* publishes received on channels in confirm mode */
    uint64_t connections_opened, connections_closed;    /* since the start (the sessions') */
    uint64_t channels_opened, channels_closed;
    uint64_t queues_declared, queues_created, queues_deleted;
    bool memory_alarm, disk_alarm;
} stats_totals;

/* The process as a whole (Prometheus's node metrics). */
typedef struct stats_node {
    uint64_t resident_bytes;    /* the process's RSS (/proc/self/statm) */
    uint64_t memory_limit;      /* the memory alarm's limit, 0 none */
    uint64_t disk_free;         /* bytes available to warren on the data directory's file system */
    uint64_t disk_free_limit;   /* the disk alarm's limit */
    uint64_t open_fds;          /* descriptors open now (/proc/self/fd) */
    uint64_t max_fds;           /* RLIMIT_NOFILE */
    bool memory_alarm, disk_alarm;
    bool store;                 /* a store is open: the next two mean something */
    uint64_t store_bytes;       /* message segments on disk */
    stats_histogram fdatasync;  /* the store's sync thread, each fdatasync */
    stats_histogram confirm;    /* publish read to confirm sent (the sessions') */
} stats_node;

/* ---------------------------------------------------------------- queries */

int stats_queue_get(vhost *vh, amqp_str name, stats_queue *out);   /* 0, or -1 no such queue */
int stats_each_queue(vhost *vh, int (*fn)(void *ctx, const stats_queue *s), void *ctx);
/* Only the names, borrowed (valid until the queue is deleted): what a
 * paged list sorted by name needs, without a snapshot each (O(queues),
 * a few ns a queue). */
int stats_each_queue_name(vhost *vh, int (*fn)(void *ctx, const char *name, size_t len), void *ctx);
int stats_exchange_get(vhost *vh, amqp_str name, stats_exchange *out);
int stats_each_exchange(vhost *vh, int (*fn)(void *ctx, const stats_exchange *s), void *ctx);
/* Every binding: the default exchange's first (one per queue), then each
 * exchange's; with source (or destination, and to_queue) given, only
 * those of that end (O(its bindings)), else all (O(bindings + queues)). */
int stats_each_binding(vhost *vh, const amqp_str *source, const amqp_str *destination, bool to_queue,
                       int (*fn)(void *ctx, const stats_binding *s), void *ctx);
/* The sessions' snapshots (proto/stats_conn.c). */
int stats_connection_get(broker *b, const char *name, stats_connection *out);
int stats_each_connection(broker *b, int (*fn)(void *ctx, const stats_connection *s), void *ctx);
int stats_each_channel(broker *b, int (*fn)(void *ctx, const stats_channel *s), void *ctx);
int stats_each_consumer(broker *b, int (*fn)(void *ctx, const stats_consumer *s), void *ctx);
void stats_totals_get(broker *b, stats_totals *out);
/* The same over the vhosts `want` takes (a management user's), the
 * sessions' counts still the whole broker's. */
void stats_totals_some(broker *b, bool (*want)(void *ctx, const char *vhost_name), void *ctx, stats_totals *out);
/* Close a connection (by its peer, stats_connection.name) as an operator
 * does: connection.close 320 "CONNECTION_FORCED - " and reason.  0, or -1
 * when there is no such connection. */
int stats_connection_close(broker *b, const char *name, const char *reason);
/* The totals history, oldest first, into out[0..cap); returns how many
 * (at most STATS_HISTORY: 10 minutes at one per STATS_INTERVAL_MS). */
size_t stats_history(vhost *vh, stats_sample *out, size_t cap);
/* The process: memory, disk, descriptors, alarms, the store's size and
 * latencies (stats_node.c). */
void stats_node_get(broker *b, stats_node *out);

/* ---------------------------------------------------- for the broker only */

/* Once a second (the broker's tick): marks the seq clock and, every
 * STATS_INTERVAL_MS, samples every queue and exchange and the totals. */
void stats_tick(vhost *vh);
/* Take one sample now (the tick's work), or as of wall ms `now` (tests). */
void stats_sample_now(vhost *vh);
void stats_sample_at(vhost *vh, int64_t now);
/* A message of seq was published at ms (recovery, the tick). */
void stats_seq_mark(vhost *vh, uint64_t seq, int64_t ms);
/* The wall ms a ready message of seq was published at, or before (the
 * seq clock's bound); -1 when the clock knows nothing. */
int64_t stats_seq_time(const vhost *vh, uint64_t seq);
/* A queue is deleted (and again when it is freed, for the acks that came
 * in between): its counters go into the vhost's totals. */
void stats_queue_gone(queue *q);
/* Count one observation of us microseconds into h, whose bounds are
 * stats_latency_bounds_us (stats_histogram_init). */
void stats_histogram_init(stats_histogram *h);
void stats_histogram_observe(stats_histogram *h, uint64_t us);
/* Copy a name into a snapshot's fixed field, cut to fit, NUL-terminated. */
void stats_copy_name(char *dst, size_t cap, const char *src, size_t len);
/* SIGUSR1 (proto/stats_conn.c): every object's statistics into the log, one "stats ..." line
 * each, ending with "stats end" (a debug dump until the HTTP API). */
void stats_log(broker *b);
/* Keep the client properties' product/version/platform/capabilities
 * (proto/stats_conn.c, for conn.c). */
void stats_conn_props(stats_conncounters *cc, amqp_table client_props);

#endif
