/*
 * quota.h - RabbitMQ's per-vhost and per-user limits as values: which
 * names there are, which a vhost or a user may have, and their record in
 * the store (quota.c).  A leaf: the vhost (max-queues, checked by the
 * domain at queue.declare) and auth.c's users hold a `limits` each; the
 * AMQP front end enforces the connection and channel ones
 * (proto/limits.c); the HTTP API and the definitions set and show them
 * (http/limits.c).  See doc/limits.md.
 *
 * As in RabbitMQ, a limit is an integer: a negative one means "no
 * limit" (shown as given), 0 refuses everything, and a limit that is not
 * set at all is not shown.
 */
#ifndef WARREN_LIMITS_H
#define WARREN_LIMITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/defs.h"

enum limit_kind { LIMIT_MAX_CONNECTIONS, LIMIT_MAX_QUEUES, LIMIT_MAX_CHANNELS, LIMIT_N };
#define LIMIT_UNSET INT64_MIN

/* Which kinds a vhost and a user may have (bits of 1 << enum limit_kind). */
#define LIMITS_OF_VHOST ((1u << LIMIT_MAX_CONNECTIONS) | (1u << LIMIT_MAX_QUEUES))
#define LIMITS_OF_USER ((1u << LIMIT_MAX_CONNECTIONS) | (1u << LIMIT_MAX_CHANNELS))

typedef struct limits {
    int64_t v[LIMIT_N];         /* LIMIT_UNSET: not set */
} limits;

/* None set. */
void limits_init(limits *l);
bool limits_any(const limits *l);
/* "max-connections", ... */
const char *limit_name(int kind);
/* The kind named name[0..len), or -1. */
int limit_parse(const char *name, size_t len);
/* Is a limit in force that count has reached (one more is refused)? */
static inline bool limit_reached(int64_t limit, uint64_t count)
{
    return limit >= 0 && count >= (uint64_t)limit;
}

/* The record of l for a vhost or a user named name (pointing into l's
 * and name's memory). */
void limits_def(const limits *l, uint8_t scope, const char *name, store_limits_def *d);
/* A record's values into l (names this version does not know are
 * skipped, with their count in the return value). */
int limits_from_def(limits *l, const store_limits_def *d);

#endif
