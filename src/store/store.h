/*
 * store.h - the durable message store.  Design notes in store.c; the bytes
 * on disk in segment.h, defs.h and doc/store-format.md.
 *
 * The store sits under the broker and knows nothing above it: it includes
 * only the codec, the event loop, message.h and its own headers, and calls
 * nothing of the broker's.  What it must tell the broker goes through
 * tables of functions the broker hands it: store_hooks while it runs (a
 * sync done, the disk alarm), store_recovery while it opens (what it
 * finds on disk, declared through the broker's own functions, in
 * src/recovery.c).  Queues are known to it by number (store_queue_def.id)
 * and, during recovery, by the opaque handle the broker returned for each.
 */
#ifndef WARREN_STORE_H
#define WARREN_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "ev/loop.h"
#include "message.h"
#include "store/defs.h"

typedef struct store store;

/* Where a stored message is, and the log position that must be synced
 * before its publisher may be told. */
typedef struct store_pos {
    uint32_t seg, off;
    uint64_t lsn;
} store_pos;

/* A queue's region (queue_region.c) in one segment: its members there,
 * from the one at off on; and the members that may expire while on disk.
 * Checkpoints hold them (checkpoint.c). */
typedef struct store_region_run {
    uint32_t seg, off;          /* the first member (the offset as the broker knows it) */
    uint64_t count, bytes;      /* members, their body bytes */
    uint64_t first_seq, last_seq;
    bool expiring;              /* some of them have an expiry */
} store_region_run;
typedef struct store_region_exp {
    uint64_t seq;
    int64_t expires;
    uint32_t seg, off, size;
} store_region_exp;
/* What a queue tells a checkpoint of its region (store_hooks.region). */
typedef struct store_region_sink store_region_sink;
void store_sink_run(store_region_sink *k, const store_region_run *r);
void store_sink_exp(store_region_sink *k, const store_region_exp *x);
void store_sink_redelivered(store_region_sink *k, uint64_t seq);

typedef struct store_hooks {
    void *ctx;
    /* A checkpoint is being made: tell k the region of the durable queue
     * `queue` (the handle given at store_queue_declared), if it has one. */
    void (*region)(void *ctx, void *queue, store_region_sink *k);
    /* the synced log position advanced (confirms can go out) */
    void (*synced)(void *ctx);
    /* free disk space fell below / rose above the limit */
    void (*disk_alarm)(void *ctx, bool on);
} store_hooks;

typedef struct store_options {
    uint64_t disk_free_limit;   /* below this many free bytes, the disk alarm is on */
} store_options;

/* One stored message of one queue, as recovery finds it. */
typedef struct store_entry {
    uint64_t seq;               /* publish order */
    uint32_t seg, off;          /* where it is (store_pos without the lsn) */
    uint32_t body_len;
    bool redelivered;           /* it had been handed to a consumer */
    uint32_t returns;           /* when redelivered: the times it had come back
                                 * before its last delivery (that one not counted) */
    const uint8_t *props;       /* the properties as published (valid */
    uint32_t props_len;         /* during the call only) */
    int64_t published;          /* wall clock ms when it arrived */
    bool paged;                 /* a transient message paged out (store_scan only) */
} store_entry;

/*
 * What recovery finds, in the order it finds it, handed to the broker,
 * which builds its queues, exchanges and bindings from it.  The
 * definitions come first, in log order (so a name can be declared,
 * deleted and declared again), then each queue's messages in publish
 * order, then the last sequence number.  Used during store_open only.
 * A hook that returns -1 (NULL for declare_queue) stops the start: the
 * record it refused is logged with its offset.
 */
typedef struct store_recovery {
    void *ctx;
    /* A durable queue; returns the handle the store gives back for it. */
    void *(*declare_queue)(void *ctx, const store_queue_def *d);
    /* A queue declared earlier in the log was deleted. */
    void (*delete_queue)(void *ctx, void *queue);
    /* A durable exchange (replacing one of the same name, if any). */
    int (*declare_exchange)(void *ctx, const store_exchange_def *d);
    void (*delete_exchange)(void *ctx, amqp_str name);
    /* A binding added (add) or removed; one whose ends are gone is
     * ignored (0). */
    int (*bind)(void *ctx, const store_binding_def *d, bool add);
    /* An unacked message of a queue, appended to it; 1 when it went to
     * the queue's region (queue_region.c), not into RAM. */
    int (*message)(void *ctx, void *queue, const store_entry *e);
    /* From a checkpoint: the queue's members in a segment not read (cold):
     * they join its region as they are, with those among them that may
     * expire while there (exp) and that come back redelivered (red, seqs
     * ascending).  -1 out of memory. */
    int (*region_run)(void *ctx, void *queue, const store_region_run *run, const store_region_exp *exp,
                      size_t nexp, const uint64_t *red, size_t nred);
    /* The highest sequence number in the log: new messages come after it. */
    void (*last_seq)(void *ctx, uint64_t seq);
    /* For the compact rewrite of the definitions that ends recovery:
     * emit every durable queue, exchange and binding there is now,
     * queues and exchanges before the bindings between them; -1 when
     * emit fails (the old log is kept). */
    int (*each_def)(void *ctx, int (*emit)(void *sink, const store_def *d), void *sink);
    /* The users and their permissions (auth_ctx, not ctx: they belong to
     * no vhost): a user made or changed (add) or deleted, permissions set
     * (add) or cleared; and, for the rewrite, every stored user, then the
     * permissions. */
    void *auth_ctx;
    int (*user)(void *ctx, const store_user_def *d, bool add);
    int (*permission)(void *ctx, const store_perm_def *d, bool add);
    int (*each_auth_def)(void *ctx, int (*emit)(void *sink, const store_def *d), void *sink);
    /* Vhosts beyond "/" (vhosts_ctx): one made (add) or deleted; the ctx
     * the hooks above take for the records of one (NULL: there is none);
     * and each of them in turn with its ctx, for the rewrite (each_def
     * is then called with it and emits records with their vhost set). */
    void *vhosts_ctx;
    int (*vhost)(void *vhosts_ctx, amqp_str name, bool add);
    void *(*ctx_of_vhost)(void *vhosts_ctx, amqp_str name);
    int (*each_vhost)(void *vhosts_ctx, int (*fn)(void *arg, amqp_str name, void *vctx), void *arg);
    /* The limits of vhosts and users (limits_ctx): a record replayed
     * (after the vhost's or user's own); and, for the rewrite, every
     * vhost's and user's that has any (emitted after the vhosts and
     * users). */
    void *limits_ctx;
    int (*limits)(void *limits_ctx, const store_limits_def *d);
    int (*each_limits)(void *limits_ctx, int (*emit)(void *sink, const store_def *d), void *sink);
} store_recovery;

/* Open (creating) the store in dir, on loop, and recover its durable
 * queues and messages through rec.  Refuses (returns -1, with a log line
 * naming the file and offset) a store it cannot trust: an unknown format
 * version or a corrupt record anywhere but the torn tail of the newest
 * segment. */
int store_open(store **st, ev_loop *loop, const char *dir, const store_options *opt, store_hooks hooks,
               const store_recovery *rec);
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
/* The message at (seg, off) was handed to a consumer of queue qid,
 * having come back unacked `returns` times before (its delivery count). */
void store_delivered(store *st, uint32_t qid, uint32_t seg, uint32_t off, uint32_t returns);
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

/*
 * Reading one queue's records forward from a place in the log (scan.c): a
 * durable queue's backlog beyond its window in RAM is paged in this way
 * (queue_region.c).  The cursor is the caller's: the segment and the
 * offset (as the broker knows offsets, whatever a compaction moved) of
 * the next record to look at, and what the scan keeps of the ack entries
 * there (store_cursor_free lets go of it).
 */
typedef struct store_cursor {
    uint32_t seg, off;
    struct store_scan_acks *acks;
} store_cursor;
void store_cursor_free(store_cursor *c);
/* Called for each record of the queue from the cursor on that the files
 * do not say left it (acked; with STORE_SCAN_PURGED, covered by a purge
 * mark), in log order, e->props valid during the call.  Returns 0 (taken:
 * counts towards max), 1 (passed over: not counted) or -1 (stop here: the
 * cursor stays on it).  The callback must not ack, write or read with the
 * store (it may read messages with store_read_msg). */
typedef int (*store_scan_fn)(void *arg, const store_entry *e);
enum { STORE_SCAN_PURGED = 1 };
/* Up to max records taken; the cursor is moved past what was looked at.
 * The turn's records not yet written are written first (never past them:
 * the scan stops at the end of the log).  Returns how many were taken, or
 * -1 (a read failed, logged; the cursor is where it failed). */
int store_scan(store *st, uint32_t qid, store_cursor *c, uint32_t max, int flags, store_scan_fn fn, void *arg);

/* Members of a region in segment seg came (+1) or went (-1): a segment
 * whose every live message is a region member is *cold*, and a
 * checkpoint lets recovery skip reading it (checkpoint.c). */
void store_region_ref(store *st, uint32_t seg, int delta);
/* Tests and the crash loop: write a checkpoint at the next turn's end. */
void store_checkpoint_soon(store *st);

enum { STORE_PENDING, STORE_SYNCED, STORE_FAILED };
/* Is the log up to lsn on disk, still on its way, or lost to an error? */
int store_lsn_state(const store *st, uint64_t lsn);

/* A durable queue was declared: give it an id (*id, set even when the
 * record could not be written), record d (its id aside) and know the
 * queue as handle; or deleted. */
int store_queue_declared(store *st, const store_queue_def *d, void *handle, uint32_t *id);
void store_queue_deleted(store *st, uint32_t qid);
/* A queue of a vhost whose deletion is recorded (store_vhost(false)
 * first): forgotten, no record of its own. */
void store_queue_forget(store *st, uint32_t qid);
/* Queue qid was purged: its messages up to seq are gone, except those
 * unacked (that have a "delivered" mark), and those among them that are
 * the ready also[0..nalso) (seqs) are gone too.  Recorded and synced in
 * one record before it returns (0), so a crash brings none of them back
 * whatever of their acks were written; the caller then acks them at its
 * pace, for the disk space.  -1: not recorded (ack them all now). */
int store_queue_purged(store *st, uint32_t qid, uint64_t seq, const uint64_t *also, uint32_t nalso);

/* Durable exchanges and bindings between durable ends: recorded and
 * synced before the client hears of them. */
int store_exchange_declared(store *st, const store_exchange_def *d);
void store_exchange_deleted(store *st, amqp_str vhost, amqp_str name);
int store_binding(store *st, const store_binding_def *d, bool add);
/* Users and their permissions per vhost (add false: deleted, cleared):
 * recorded and synced; 0 or -1 (logged). */
int store_user(store *st, const store_user_def *d, bool add);
int store_permission(store *st, const store_perm_def *d, bool add);
/* A vhost beyond "/" made (add) or deleted: the deletion takes every
 * queue of the vhost still recorded (store_queue_forget them). */
int store_vhost(store *st, amqp_str name, bool add);
/* Every limit of a vhost or a user, replacing the ones recorded before
 * (d->n 0: none any more): recorded and synced; 0 or -1 (logged). */
int store_limits(store *st, const store_limits_def *d);

/* Definitions are written when declared and synced once per loop turn
 * (group commit, store_sync_defs), not each with an fdatasync of its own:
 * a client that pipelines 500 declares waits for one sync, not 500.  The
 * caller must sync before any reply that depends on them leaves. */
void store_defs_group_commit(store *st, bool on);
/* Sync the definitions written since the last call: before the turn's
 * replies go out.  -1 (logged) when the sync failed. */
int store_sync_defs(store *st);

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

/* The data directory the store was opened in (files of the broker's own
 * beside the store's, such as de-duplication windows: DATA/dedup/). */
const char *store_dir(const store *st);

/* For tests and the benchmarks: bytes used by message segments. */
uint64_t store_disk_bytes(const store *st);

/* How long the sync thread's fdatasync calls took (segments, ack files,
 * compaction output; not the directory fsyncs): a histogram over
 * store_latency_bounds_us, counts per bucket (not cumulative), the last
 * bucket above every bound.  Read under the thread's mutex, so the copy
 * is consistent; costs the thread two clock reads per call. */
#define STORE_LATENCY_NBOUNDS 16
extern const uint32_t store_latency_bounds_us[STORE_LATENCY_NBOUNDS];
typedef struct store_latency {
    uint64_t bucket[STORE_LATENCY_NBOUNDS + 1];
    uint64_t count;
    uint64_t sum_us;
} store_latency;
void store_sync_latency(store *st, store_latency *out);

#endif
