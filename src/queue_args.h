/*
 * queue_args.h - the x- arguments of queue.declare, in one table.
 *
 * Each argument a queue knows is one row of queue_args.c: its name, the
 * check of its value (RabbitMQ's error terms), whether a redeclare must
 * match it, which queue types refuse it, and the field of queue_settings
 * its value is read into.  Declaring, redeclaring and creating a queue all
 * read this one table, so a new argument is one row (and, if its value
 * needs a check of its own, one check function).
 */
#ifndef WARREN_QUEUE_ARGS_H
#define WARREN_QUEUE_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "amqp/table.h"

typedef struct amqp_error amqp_error; /* error.h */

/* x-overflow */
enum { OVERFLOW_DROP_HEAD, OVERFLOW_REJECT, OVERFLOW_REJECT_DLX };

/* A shortstr argument's value (x-dead-letter-exchange, -routing-key):
 * its bytes in the table it was read from (a queue reads its own copy,
 * q->args, so they live as long as the queue; 16 bytes, not 258: a queue
 * is 500 bytes smaller, and 100,000 idle queues 50 MB). */
typedef struct queue_setting_str {
    bool set;                   /* the argument was given */
    uint8_t len;
    const char *s;
} queue_setting_str;

/* What a queue's arguments set, read once when it is created; without the
 * argument a field has its default (queue_args_read).  Every queue holds
 * one, so it keeps only what is read on the way of every message (issue
 * 16: 80 bytes, 128 before): the back-off's four values are in a
 * queue_backoff the few queues that have one allocate (queue_rare), and
 * the counts are 32 bits (a delivery limit past 2^31 never comes: the
 * count saturates at 65535). */
typedef struct queue_settings {
    int64_t msg_ttl;            /* x-message-ttl ms, -1 none */
    int64_t expires;            /* x-expires ms, 0 none */
    int64_t max_length;         /* x-max-length, -1 none */
    int64_t max_bytes;          /* x-max-length-bytes, -1 none */
    queue_setting_str dlx;      /* x-dead-letter-exchange */
    queue_setting_str dlrk;     /* x-dead-letter-routing-key */
    int32_t delivery_limit;     /* x-delivery-limit, -1 none (a larger one is INT32_MAX) */
    int32_t consumer_timeout;   /* x-consumer-timeout ms, 0 none, -1 the broker's (proto/consumer_timeout.c) */
    uint8_t max_priority;       /* x-max-priority; 0: not a priority queue */
    uint8_t overflow;           /* x-overflow: OVERFLOW_* */
    bool single_active;         /* x-single-active-consumer */
    bool quorum;                /* x-queue-type quorum: counts deliveries, limit 20 by default */
    bool dedup;                 /* x-message-deduplication (queue_dedup.c) */
    bool backoff;               /* x-backoff-initial > 0: queue_args_read_backoff has the rest */
} queue_settings;

/* Back-off on requeue (delay.c, doc/work-queues.md), read apart from
 * queue_settings (queue_args_read_backoff) by the queues that have it. */
typedef struct queue_backoff {
    int64_t initial;            /* x-backoff-initial ms, 0 none */
    double multiplier;          /* x-backoff-multiplier, 2 by default */
    int64_t max;                /* x-backoff-max ms, -1 no cap */
    double jitter;              /* x-backoff-jitter, 0..1 of the delay taken off at random */
} queue_backoff;

/* The longest x-consumer-timeout and --consumer-timeout, ms (24.8 days:
 * a delivery's time is kept mod 2^32 ms). */
#define CONSUMER_TIMEOUT_MAX 2147483647u

/* RabbitMQ 4's default x-delivery-limit of a quorum queue. */
#define QUORUM_DELIVERY_LIMIT 20

/* The queue types, as x-queue-type names them ("classic" when absent). */
enum { QUEUE_TYPE_CLASSIC, QUEUE_TYPE_QUORUM, QUEUE_TYPE_STREAM };
#define QT_CLASSIC (1u << QUEUE_TYPE_CLASSIC)
#define QT_QUORUM (1u << QUEUE_TYPE_QUORUM)
#define QT_STREAM (1u << QUEUE_TYPE_STREAM)

/* What a check says of a value. */
enum {
    ARG_OK = 0,
    ARG_INVALID = -1,           /* "invalid arg 'K' for queue ...: <why>" */
    ARG_WRONG_TYPE = -2,        /* "invalid type 'T' for arg 'K' in queue ..." */
};

typedef struct queue_arg {
    const char *name;
    /* Check a value: ARG_OK, or ARG_INVALID with RabbitMQ's term for it in
     * why ("{value_negative,-1}"), or ARG_WRONG_TYPE.  NULL: any value. */
    int (*check)(const amqp_value *v, char *why, size_t n);
    bool compared;              /* a redeclare must give an equivalent value */
    uint8_t refused_by;         /* QT_* of the queue types that refuse it */
    /* Read the value into the field at offset `field` of queue_settings
     * (of queue_backoff when `backoff`); NULL: the argument changes
     * nothing in a classic queue. */
    void (*apply)(void *field, const amqp_value *v);
    size_t field;
    bool backoff;
    /* compared: the string value that counts as no value at all
     * (x-queue-type "classic") */
    const char *absent_is;
    /* refused unless the argument `needs` is given too; needs_why is the
     * term of the refusal */
    const char *needs, *needs_why;
} queue_arg;

/* The row of an argument name; NULL for one warren does not know (any
 * value is accepted, and nothing is done with it, as RabbitMQ does). */
const queue_arg *queue_arg_find(amqp_str name);

/* The checks of a new queue's arguments, in the order the client sent
 * them (the first bad one is reported), then the arguments that need
 * another.  qname and vhname are for the text.  -1 with 406 in *err. */
int queue_args_validate(amqp_table args, const char *qname, const char *vhname, amqp_error *err);

/* A redeclare: every compared argument must be equivalent (amqp_value_equiv:
 * 5 as I, l or T alike, 5.0 not), absent on both sides, or absent_is on
 * both.  The first that is not, in the argument table's order (RabbitMQ's),
 * is 406 "inequivalent arg" with RabbitMQ's rendering of both values. */
int queue_args_equivalent(amqp_table cur, amqp_table got, const char *qname, const char *vhname, amqp_error *err);

/* One argument of that comparison, for what ("queue", "exchange") named
 * name: exchange.declare compares alternate-exchange with it. */
int queue_args_compare(amqp_table cur, amqp_table got, const char *key, const char *absent_is, const char *what,
                       const char *name, const char *vhname, amqp_error *err);

/* RabbitMQ's checks of a new queue's x-queue-type: the arguments the type
 * refuses (the first the client sent), then (quorum, stream) the
 * properties it must not have; warren makes classic and quorum queues,
 * so a valid stream queue is refused last.  -1 with 406 in *err. */
int queue_args_check_type(amqp_table args, bool durable, bool exclusive, bool auto_delete, const char *qname,
                          const char *vhname, amqp_error *err);

/* Fill s from validated arguments: the defaults, then each argument given. */
void queue_args_read(queue_settings *s, amqp_table args);
/* The same for the back-off arguments (s->backoff said there are). */
void queue_args_read_backoff(queue_backoff *b, amqp_table args);

#endif
