/*
 * warren.h - the whole broker in one include, for the front ends and the
 * tests: every module's header.  Nothing in the domain includes it (it
 * holds the protocol layer's proto/conn.h and proto/channel.h, which the
 * domain must not see: tests/test_layering.py checks).
 *
 * Each noun has its own header, its struct with its functions right under
 * it:
 *
 *   message.h      a message (the store uses it too)
 *   queue.h        a queue, its entries, dead-lettering
 *   consumer.h     a consumer and dispatch, owned through callbacks
 *   exchange.h     exchanges, bindings, route sets
 *   vhost.h        a vhost, publishing, and the domain API on it
 *   broker.h       the process: loop, listeners, connections, store
 *   proto/conn.h   an AMQP connection
 *   proto/channel.h  an AMQP channel, its handlers, direct reply-to
 *   util.h         random names
 *
 * Data flows one way: socket bytes -> proto/ (conn, channel) -> the
 * domain (vhost_route, exchange, queue, consumer dispatch) -> store; what
 * flows back (confirms after a sync, deliveries, a cancelled consumer)
 * goes through callbacks and flags (doc/architecture.md).
 */
#ifndef WARREN_H
#define WARREN_H

#include "alarm.h"
#include "amqp/frame.h"
#include "amqp/table.h"
#include "auth.h"
#include "broker.h"
#include "config.h"
#include "consumer.h"
#include "delay.h"
#include "error.h"
#include "ev/buf.h"
#include "ev/loop.h"
#include "exchange.h"
#include "quota.h"
#include "listener.h"
#include "map.h"
#include "message.h"
#include "proto/channel.h"
#include "proto/conn.h"
#include "proto/limits.h"
#include "queue.h"
#include "queue_args.h"
#include "ring.h"
#include "stats.h"
#include "util.h"
#include "vhost.h"

#endif
