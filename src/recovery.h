/*
 * recovery.h - the broker's side of the store (recovery.c): the hooks
 * through which the store's recovery declares what it finds, and the
 * plain records (store/defs.h) the store writes, made from queues,
 * exchanges and bindings.  The store calls nothing above it; this is
 * where the broker meets it.
 */
#ifndef WARREN_RECOVERY_H
#define WARREN_RECOVERY_H

#include "store/store.h"
#include "vhost.h"

/* The hooks that rebuild vh from the store, for store_open. */
store_recovery recovery_hooks(vhost *vh);

/* The records of a durable queue, exchange or binding (pointing into its
 * struct, so valid while it lives); d is returned. */
/* How a record names vh: empty for "/" (records older than vhosts are
 * all in "/" and say nothing), else its name. */
amqp_str recovery_vhost_name(const vhost *vh);
const store_queue_def *queue_def(const queue *q, store_queue_def *d);
const store_exchange_def *exchange_def(const exchange *x, store_exchange_def *d);
const store_binding_def *binding_def(const binding *b, store_binding_def *d);

#endif
