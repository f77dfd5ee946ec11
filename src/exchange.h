/*
 * exchange.h - exchanges, their bindings and routing into a route set
 * (exchange.c, one file per type: exchange_<type>.c).
 */
#ifndef WARREN_EXCHANGE_H
#define WARREN_EXCHANGE_H

#include <stdbool.h>
#include <stdint.h>

#include "amqp/table.h"
#include "error.h"
#include "message.h"
#include "stats.h"

typedef struct vhost vhost;
typedef struct queue queue;
typedef struct exchange exchange;
typedef struct exchange_type exchange_type;
typedef struct binding binding;

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
    bool incomplete;            /* a queue could not be added (out of memory) */
} route_set;

/* An empty set (on the caller's stack: not to be copied); route_set_done()
 * it afterwards. */
void route_set_init(route_set *rs);
/* Add q unless it is in the set already (each queue gets one copy); -1 out
 * of memory, and the set is marked incomplete: publishing it would confirm
 * a message some of its queues never got. */
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
    /* Optional: set up x->index at creation (-1 out of memory); the
     * exchange is being deleted (before its deletion is recorded). */
    int (*init)(exchange *x);
    void (*gone)(exchange *x);
    /* Index a new binding / forget one; bind returns -1 out of memory. */
    int (*bind)(exchange *x, binding *b);
    void (*unbind)(exchange *x, binding *b);
    /* Call route_binding() for every binding the message matches. */
    void (*route)(exchange *x, amqp_str rk, const msg *m, route_set *out);
    void (*free)(exchange *x);
    /* Check a binding's arguments (headers: x-match); -1 with *err set. */
    int (*validate)(amqp_table args, amqp_error *err);
    /* Check a new exchange's arguments (NULL: any); -1 with *err set. */
    int (*check)(amqp_table args, amqp_error *err);
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
    exchange_headers, exchange_delayed;

/* exchange_delayed.c: x-delayed-message.  Check a new one's arguments
 * (x-delayed-type, with the plugin's texts); the type its bindings and
 * routing are (x->type for any other exchange); its hold (NULL for any
 * other); how many messages it holds (RabbitMQ's messages_delayed);
 * recovery: the hold a durable queue record names ("amq.delayed.<x>"),
 * given its store id, or NULL when it names none. */
int exchange_delayed_validate(amqp_table args, amqp_error *err);
const exchange_type *exchange_delayed_inner(const exchange *x);
queue *exchange_delayed_hold(const exchange *x);
uint32_t exchange_delayed_count(const exchange *x);
struct store_queue_def;
queue *exchange_delayed_recover(vhost *vh, const struct store_queue_def *def);
extern const exchange_type exchange_dedup; /* x-message-deduplication (exchange_dedup.c) */

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

#endif
