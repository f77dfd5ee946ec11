/*
 * dedup.h - a de-duplication window (dedup.c): the keys seen lately, each
 * until its expiry or until newer keys push it out, for the
 * x-message-deduplication exchange (exchange_dedup.c).
 *
 * Keys are the x-deduplication-header values of messages.  A window may
 * be backed by a file (store/dedup_log.h) so that it survives a restart.
 */
#ifndef WARREN_DEDUP_H
#define WARREN_DEDUP_H

#include <stdbool.h>
#include <stdint.h>

#include "amqp/table.h"
#include "message.h"

typedef struct dedup_window dedup_window;

/* A window of at most `size` keys, each kept `ttl_ms` (0: until pushed
 * out).  NULL out of memory. */
dedup_window *dedup_new(uint32_t size, int64_t ttl_ms);
/* Back w by the file of exchange `name` in `vhost` under dir (loading
 * what it holds that has not expired at now_ms; with fresh, emptying it
 * first: the exchange is new); false when the file
 * cannot be used (logged: the window stays in memory). */
bool dedup_attach(dedup_window *w, const char *dir, amqp_str vhost, amqp_str name, bool fresh, int64_t now_ms);
/* Has m's x-deduplication-header value been seen (and not expired)?  A
 * message without the header is never a duplicate.  A new key is
 * remembered (for m's x-cache-ttl header's ms when it has one, else the
 * window's ttl) and written to the file first. */
bool dedup_seen(dedup_window *w, const msg *m, int64_t now_ms);
/* Keys held now (expired ones not yet pushed out included). */
uint32_t dedup_count(const dedup_window *w);
/* Free; with remove, the file goes too (the exchange was deleted). */
void dedup_free(dedup_window *w, bool remove);

/* The key of the x-deduplication-header in encoded basic properties;
 * 0 when there is none. */
size_t dedup_header_key(const uint8_t *props, uint32_t props_len, uint8_t out[255]);

/* The key of a header value: values equal as RabbitMQ compares them
 * (5 as a short or a long, 'a' as S or x) give the same key.  Returns its
 * length (at most 255, long values are hashed), 0 for a type that
 * cannot be a key. */
size_t dedup_key(const amqp_value *v, uint8_t out[255]);

#endif
