/*
 * store.h - the durable message store.  Design notes in store.c; the bytes
 * on disk in segment.h, defs.h and doc/store-format.md.
 */
#ifndef WARREN_STORE_H
#define WARREN_STORE_H

#include "warren.h"

/* Where a stored message is, and the log position that must be synced
 * before its publisher may be told. */
typedef struct store_pos {
    uint32_t seg, off;
    uint64_t lsn;
} store_pos;

typedef struct store_hooks {
    void *ctx;
    /* the synced log position advanced (confirms can go out) */
    void (*synced)(void *ctx);
    /* free disk space fell below / rose above the limit */
    void (*disk_alarm)(void *ctx, bool on);
} store_hooks;

/* Open (creating) the store in dir and recover its durable queues and
 * messages into vh.  Refuses (returns -1, with a log line naming the file
 * and offset) a store it cannot trust: an unknown format version or a
 * corrupt record anywhere but the torn tail of the newest segment. */
int store_open(store **st, vhost *vh, const char *dir, const config *cfg, store_hooks hooks);
/* Write and sync everything, stop the sync thread, free. */
void store_close(store *st);

/* Append a persistent message for the durable queues qids[0..nq) (any
 * number of them).  It is written before the loop sleeps and synced soon
 * after; pos says where.  -1: not stored (its publisher must be nacked). */
int store_put(store *st, msg *m, uint64_t seq, const uint32_t *qids, uint32_t nq, store_pos *pos);
/* Page a transient message of queue qid out of memory: written like a
 * persistent one (never synced for it, never recovered). */
int store_page(store *st, msg *m, uint64_t seq, uint32_t qid, store_pos *pos);
/* The message at (seg, off), body_len bytes of body, left queue qid for
 * good. */
void store_ack(store *st, uint32_t qid, uint32_t seg, uint32_t off, uint32_t body_len);
/* The message at (seg, off) was handed to a consumer of queue qid. */
void store_delivered(store *st, uint32_t qid, uint32_t seg, uint32_t off);
/* Read a message back (the caller owns the reference in *out), or say why
 * not: the read failed (EIO, EMFILE, out of memory:
 * may work later, the message must stay queued), the record is damaged
 * (fails its checksum or does not parse: it never will), or it is not
 * there at all.  Each failure is logged. */
enum { STORE_READ_OK = 0, STORE_READ_AGAIN = -1, STORE_READ_DAMAGED = -2, STORE_READ_GONE = -3 };
int store_read_msg(store *st, uint32_t seg, uint32_t off, msg **out);
/* A damaged record (STORE_READ_DAMAGED): keep its bytes in
 * DATA/corrupt/, pad over it in its segment, log and count it.  The caller
 * takes the message out of its queue. */
void store_move_aside(store *st, uint32_t seg, uint32_t off);

enum { STORE_PENDING, STORE_SYNCED, STORE_FAILED };
/* Is the log up to lsn on disk, still on its way, or lost to an error? */
int store_lsn_state(const store *st, uint64_t lsn);

/* A durable queue was declared (give it an id, record it) or deleted. */
int store_queue_declared(store *st, queue *q);
void store_queue_deleted(store *st, uint32_t qid);

/* Durable exchanges and bindings between durable ends: recorded and
 * synced before the client hears of them. */
int store_exchange_declared(store *st, const exchange *x);
void store_exchange_deleted(store *st, const exchange *x);
int store_binding(store *st, const binding *b, bool add);

/* Before sleep, first: write this turn's ack entries (acks and
 * "delivered" marks) with one write per ack file, so they are in the
 * kernel before any reply of the turn leaves. */
void store_write_acks(store *st);
/* Tests: the turn's output was written (WARREN_TEST_CRASH_AT=
 * after-ack-reply / after-delivery kill the broker there, in a turn that
 * made an ack / a "delivered" mark). */
void store_output_done(store *st);
/* Before sleep, after the output: write this turn's records (one pwrite),
 * request a sync, and take a bounded step of compaction.  True when there
 * is more work right away (the loop should not sleep). */
bool store_flush(store *st);
/* Once a second: free-space check, dead segments, compaction. */
void store_tick(store *st);

/* For tests and the benchmarks: bytes used by message segments. */
uint64_t store_disk_bytes(const store *st);

#endif
