/*
 * store/dedup_log.h - the file that keeps a de-duplication exchange's
 * window across restarts (dedup_log.c; the bytes in doc/store-format.md).
 *
 * One file per durable x-message-deduplication exchange, in DATA/dedup/:
 * an append-only log of (key, expiry) records, replayed at open (the
 * caller keeps what is still live), rewritten whole when it holds mostly
 * dead records.  Like the rest of the store it knows nothing of the
 * broker: keys are opaque bytes, the owner gives its vhost and name.
 */
#ifndef WARREN_STORE_DEDUP_LOG_H
#define WARREN_STORE_DEDUP_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "amqp/wire.h"

typedef struct dedup_log dedup_log;

/* A key with the wall clock ms it expires at (0: never). */
typedef int (*dedup_log_fn)(void *arg, const uint8_t *key, size_t klen, int64_t expires);

/* Open (creating; with fresh, emptying) the log of exchange `name` in
 * `vhost` under dir/dedup/,
 * calling fn for each record in order (later records of a key replace
 * earlier ones; the caller drops the expired).  A torn or damaged tail is
 * cut off (logged).  NULL when the file cannot be opened or written
 * (logged: the window is then kept in memory only). */
dedup_log *dedup_log_open(const char *dir, amqp_str vhost, amqp_str name, bool fresh, dedup_log_fn fn,
                          void *arg);
/* Append one key (written before the call returns: it survives a kill -9;
 * synced with the next rewrite or close, so a power cut may lose the
 * last records).  -1 on a write error (logged). */
int dedup_log_append(dedup_log *l, const uint8_t *key, size_t klen, int64_t expires);
/* Records appended since the last rewrite (or open). */
uint64_t dedup_log_records(const dedup_log *l);
/* Rewrite the file with only what each() emits (to a temporary file,
 * synced, renamed over the log); -1 (logged) leaves the old log. */
int dedup_log_rewrite(dedup_log *l, int (*each)(void *arg, dedup_log_fn emit, void *sink), void *arg);
/* Close; with remove, the file is deleted (the exchange was). */
void dedup_log_close(dedup_log *l, bool remove);

#endif
