/*
 * defs.h - the definitions log: durable queues (and exchanges and bindings)
 * as an append-only file of checksummed records, synced before the client
 * hears declare-ok, and rewritten compactly at every start (when it can: a
 * full disk keeps the old file, which says the same).
 *
 * data/definitions
 *   header 16 bytes: "WDEF" | u32 version (1) | u32 0 | u32 0
 *   records: u32 payload length | u32 CRC-32C of payload | payload
 *   payload: u8 kind, then per kind (strings are u8 length + bytes,
 *   tables u32 length + bytes):
 *     1 queue      u32 id | name | u8 flags (1 durable, 2 auto_delete) | args
 *     2 queue gone u32 id
 *     3 exchange   name | type | u8 flags (1 durable, 2 auto_delete,
 *                  4 internal) | args
 *     4 exchange gone  name
 *     5 binding    source | u8 dest kind (0 queue, 1 exchange) | dest |
 *                  routing key | args
 *     6 unbinding  as 5
 *     7 next queue id  u32 (so ids are never reused)
 */
#ifndef WARREN_DEFS_H
#define WARREN_DEFS_H

#include <stddef.h>
#include <stdint.h>

enum {
    DEF_QUEUE = 1,
    DEF_QUEUE_GONE = 2,
    DEF_EXCHANGE = 3,
    DEF_EXCHANGE_GONE = 4,
    DEF_BIND = 5,
    DEF_UNBIND = 6,
    DEF_NEXT_QID = 7,
};

typedef struct defs defs;

/* Called for each record found, in order; return -1 to stop with an error. */
typedef int defs_replay_fn(void *ctx, const uint8_t *payload, uint32_t len);

/* Open DIR/definitions (creating it), replay it.  A torn last record (a
 * declaration that was never confirmed) is dropped; damage anywhere else
 * is an error naming the offset. */
int defs_open(defs **d, const char *dir, defs_replay_fn *fn, void *ctx);
/* Append a record and fdatasync it.  0 or -1 (logged). */
int defs_append(defs *d, const uint8_t *payload, size_t len);
/* Replace the file with these records (write new, fsync, rename, fsync
 * directory).  `next` yields payloads until it returns 0.  -1 (logged as a
 * warning) when it could not: the file in use is whole either way, the old
 * one if the rename did not happen, the new one if it did. */
typedef int defs_next_fn(void *ctx, const uint8_t **payload, uint32_t *len);
int defs_rewrite(defs *d, defs_next_fn *next, void *ctx);
void defs_close(defs *d);

#endif
