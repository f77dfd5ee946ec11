/*
 * store_int.h - the store's insides, shared by its files: store.c (writing,
 * syncing, reading, acks), compact.c (rewriting sparse old segments),
 * defs_log.c (the definitions log: ids, appends, replay, rewrite; its
 * bytes are defs.c's) and recover.c (reading the messages back at start).
 * Nothing outside src/store/ includes this, but the unit tests.
 */
#ifndef WARREN_STORE_INT_H
#define WARREN_STORE_INT_H

#include <pthread.h>
#include <string.h>
#include <sys/types.h>

#include "store/defs.h"
#include "store/io.h"
#include "store/segment.h"
#include "log.h"
#include "map.h"
#include "store/store.h"

#define SEG_SOFT_MAX (16u << 20)    /* a record that would take a segment past this starts a new one */
#define PREALLOC (4u << 20)         /* space reserved ahead of the writes */
#define READ_AHEAD (1u << 20)
#define ACK_SYNC_MS 1000
#define LIVE_OVERHEAD 64            /* what a record holds besides its body, roughly */

typedef struct compaction compaction;

typedef struct segment {
    uint32_t id;
    uint32_t gen;               /* generation: how often it was compacted */
    int fd;
    int ackfd;                  /* -1 until the first ack entry */
    uint64_t size;              /* bytes written */
    uint64_t alloc;             /* bytes reserved with fallocate */
    uint64_t live;              /* unacked (queue, record) references */
    uint64_t live_bytes;        /* their size, roughly: body + LIVE_OVERHEAD each */
    uint64_t region_refs;       /* of live, members of a queue's region (cold when all are) */
    uint64_t first_lsn;         /* its records have lsns in (first_lsn, end_lsn] */
    uint64_t end_lsn;           /* set when it stops being the current segment */
    /* Compacted in this run: the records moved.  Pairs (offset the rest of
     * the broker knows, offset in the file now), ascending in both; the
     * offsets of records not in it are gone.  NULL: offsets are as known. */
    uint32_t *remap;
    size_t nremap;
    bool broken;                /* a write or sync failed on it */
    bool no_compact;            /* a compaction of it failed: leave it be */
    uint64_t cmp_retry_live;    /* compaction gave up at this live count: wait for fewer */
    bool cold;                  /* in the checkpoint being made (checkpoint.c) */
    uint64_t ckpt_members;      /* the queues' runs in it, as they say */
    uint64_t cmp_retry_at;      /* or gave up for now: not before this (ms) */
    uint64_t live_at_tick;      /* live at the last compaction tick */
    bool quiet;                 /* no ack between the last two ticks */
    bool acks_unsynced;
    /* The ack file's entries are written into a shared mapping of it, not
     * with write(2): the same page cache, without a system call a turn. */
    uint8_t *ackmap;
    size_t ackmap_len;          /* mapped = reserved on disk with fallocate */
    uint64_t ack_size;          /* bytes of header and entries; 0: not known yet */
    uint8_t *ackbuf;            /* this turn's ack entries */
    size_t acklen, ackcap;
    bool on_ack_list;
    struct segment *ack_next;
} segment;

typedef struct range {
    uint64_t lo, hi;            /* lsns in (lo, hi] */
} range;

/* What the sync thread is asked to sync. */
enum { SYNC_SEG, SYNC_ACK, SYNC_CMP, SYNC_DIR };
typedef struct sync_item {
    int fd;                     /* a dup, closed by the thread */
    int ofd;                    /* the fd it is a dup of (to ask only once) */
    uint32_t seg;
    uint8_t kind;
} sync_item;

#define MAX_FAILED_SEGS 16

/* Queue id -> handle (qidmap.c). */
typedef struct qidmap_slot {
    uint32_t id;                /* 0: empty */
    void *handle;               /* NULL with an id: deleted */
} qidmap_slot;
typedef struct qidmap {
    qidmap_slot *slots;
    size_t cap, used, live;     /* used counts the deleted too */
} qidmap;
void *qidmap_get(const qidmap *m, uint32_t id);
int qidmap_put(qidmap *m, uint32_t id, void *handle);
void *qidmap_del(qidmap *m, uint32_t id);
void qidmap_free(qidmap *m);

struct store {
    store_hooks hooks;
    const store_recovery *rec; /* during store_open only, else NULL */
    char dir[4096];
    char msgdir[4200];
    uint64_t disk_free_limit;
    bool alarm;
    segment **segs;             /* by id, ascending */
    size_t nsegs, capsegs;
    segment *cur;               /* being written; NULL until needed */
    uint32_t next_seg_id;
    /* the turn's records */
    uint8_t *wbuf;
    size_t wlen, wcap;
    uint64_t lsn;               /* bytes appended since start */
    uint64_t written_lsn;
    uint64_t synced_lsn;
    range failed[32];           /* lsns whose write or sync failed */
    int nfailed;
    segment *ack_list;
    uint64_t last_ack_sync;
    uint64_t create_failed;     /* when a failure to make a segment was last logged */
    uint64_t create_failures;   /* failures since then */
    uint64_t ack_failed;        /* the same for writing ack files */
    uint64_t ack_failures;
    uint64_t moved_aside;       /* damaged records met while running */
    uint64_t read_failures;     /* reads of a record that failed (and may work later) */
    /* sync thread */
    pthread_t thread;
    bool thread_started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int efd;
    ev_io efd_io;
    sync_item *job;             /* the next job: grows, never drops */
    size_t njob, capjob;
    /* The list the thread works through: it swaps it with job under mu.
     * Kept here, not in the thread's locals, so that the two lists are
     * always reachable from the store (LeakSanitizer saw one as leaked
     * while the thread held it); both are freed by store_close. */
    sync_item *t_job;
    size_t t_capjob;
    uint64_t job_lsn;
    uint64_t job_cmp;           /* a compaction's sync ticket in it, or 0 */
    bool job_ready, stop;
    /* written by the thread, read by the loop in on_synced */
    uint64_t t_done_lsn;
    uint64_t t_fail_lo;         /* a segment failed: what was synced before */
    uint32_t t_fail_segs[MAX_FAILED_SEGS];
    int t_nfail_segs;           /* -1: more than fit (treat every segment as failed) */
    int t_errno;
    int t_ack_errno;            /* an ack file or the directory failed */
    uint32_t t_ack_seg;
    uint64_t t_cmp_done;        /* the last compaction ticket synced */
    int t_cmp_errno;
    store_latency t_latency;    /* every fdatasync the thread made (store_sync_latency) */
    /* disk space: checked once a second, and after this many bytes */
    uint64_t written_since_check;
    /* compaction (compact.c) */
    compaction *cmp;
    uint64_t next_cmp_ticket;
    /* test hooks, from the environment at open (see store_crash_point) */
    const char *test_crash_at;
    const char *test_hold_file;
    uint32_t turn_acks, turn_delivered;     /* ack entries made this turn */
    /* definitions */
    defs *defs;
    uint32_t next_qid;
    qidmap qids;                /* queue id -> the broker's handle for the queue (qidmap.c) */
    map purges;                 /* "qid" -> its purge mark (purge.c) */
    map replay_vq;              /* while the definitions replay: vhost name -> its queue ids */
    /* read-ahead */
    uint8_t *rbuf;
    uint32_t rseg;
    uint64_t roff;
    size_t rlen;
    /* store_scan's reading buffer (scan.c), apart from the read-ahead */
    uint8_t *sbuf;
    /* the first segment this run wrote: a paged (transient) record in an
     * older one is from before this start, and nobody's any more */
    uint32_t boot_seg;
    /* checkpoints (checkpoint.c) */
    struct checkpoint *ckpt;
    uint64_t ckpt_interval_ms;  /* 0: none */
    uint64_t ckpt_last;         /* when the last one was started (ms) */
    uint64_t ckpt_lsn, ckpt_acks;   /* what the last one saw: nothing new, no new one */
    uint64_t acks_made;         /* ack entries made since start */
    uint64_t max_seq;           /* the highest seq in the log */
    bool ckpt_soon;
};

static inline uint64_t now_ms(void)
{
    return ev_clock_ns() / 1000000u;
}

static inline void qid_key(char key[4], uint32_t qid)
{
    memcpy(key, &qid, 4);
}

/* store.c */
/* The broker's handle for durable queue qid; NULL: no such queue (any
 * more).  After recovery the store only asks whether it exists. */
void *store_queue_by_id(store *st, uint32_t qid);
int store_seg_add(store *st, segment *s);
/* Open s's ack file if it exists (and is not open) and find where its
 * entries end (s->ack_size); a torn last entry is blanked.  0 or -1. */
int store_ack_attach(store *st, segment *s);
/* Unmap and close s's ack file (after a clean stop, cut to its entries). */
void store_ack_detach(segment *s);
void store_seg_free(segment *s);
segment *store_seg_find(store *st, uint32_t id);
/* Where the first segment with an id at or above id is in st->segs
 * (st->nsegs: none). */
size_t store_seg_index(const store *st, uint32_t id);
/* The first pair of s->remap whose column col (REMAP_KNOWN: the offset the
 * broker knows; REMAP_FILE: the offset in the file) is at or past v. */
enum { REMAP_KNOWN = 0, REMAP_FILE = 1 };
size_t store_remap_index(const segment *s, int col, uint64_t v);
/* Where the record the broker knows as (s, off) is in s's file now;
 * false if it is gone (compacted away). */
bool store_seg_off(const segment *s, uint32_t off, uint32_t *file_off);
/* Tests: WARREN_TEST_CRASH_AT=name kills the broker (SIGKILL, as a
 * crash) when it reaches the point of that name. */
void store_crash_point(const store *st, const char *name);
/* Hand fd (dup'ed) of kind SYNC_* to the sync thread; 0 or -1. */
int store_request_sync(store *st, int fd, uint32_t seg, uint8_t kind, uint64_t lsn, uint64_t cmp_ticket);

/* compact.c: rewriting old segments that are mostly acked */
/* Once a second: start a compaction if a segment deserves one. */
void store_compact_tick(store *st);
/* Every turn, after the ack entries were written: a bounded step of the
 * running compaction; true if it has work to do right away. */
bool store_compact_step(store *st);
/* An ack entry of kind for (qid, file offset) of s, while s is compacted. */
void store_compact_note(store *st, segment *s, uint32_t qid, uint32_t file_off, uint8_t kind, uint32_t returns);
/* The sync thread finished ticket (err: its errno, or 0). */
void store_compact_synced(store *st, uint64_t ticket, int err);
/* Is s being compacted? */
bool store_compacting(const store *st, const segment *s);
/* s is going away (deleted, or the store closes): drop its compaction. */
void store_compact_abort(store *st, segment *s);

/* defs_log.c: the definitions log, replayed through st->rec */
int store_replay_def(void *ctx, const store_def *d);
/* The replay is over: let go of what it kept. */
void store_replay_done(store *st);
int store_rewrite_defs(store *st);

/* store.c: fdatasync every ack file with entries not yet synced, now, on
 * the loop thread (a purge mark needs them on disk); 0 or -1 (logged). */
int store_sync_acks_now(store *st);

/* purge.c: purge marks */
int store_purge_replay(store *st, const store_def *d);
void store_purge_forget(store *st, uint32_t qid);
/* Is the message seq of queue qid (with a "delivered" mark or not) gone
 * by a purge? */
bool store_purge_covers(const store *st, uint32_t qid, uint64_t seq, bool delivered);
/* For the rewrite: the mark of each queue that still exists. */
int store_purge_emit(store *st, int (*emit)(void *sink, const store_def *d), void *sink);
void store_purge_free(store *st);

/* store.c: write the turn's ack entries, then its records, now (the
 * end of the turn would): store_scan reads what the turn wrote so far. */
void store_write_early(store *st);

/* scan.c: the file offset of the first record at or after the broker-known
 * offset off of s (s->size: none). */
uint64_t store_file_pos(const segment *s, uint32_t off);

/* checkpoint.c */
/* At a turn's end, after its acks and records were written: write a
 * checkpoint when one is due (on a thread of its own). */
void store_checkpoint_tick(store *st);
/* At open, before the segments are read: load DATA/checkpoint and check
 * it against the files (a mismatch: not used, logged). */
void store_checkpoint_load(store *st);
/* Recovery: is segment id cold in the checkpoint?  Then its messages are
 * handed on from the checkpoint, with the ack entries written since, and
 * s (its fields set) is not read: 1.  0: read it.  -1: failed. */
int store_checkpoint_recover(store *st, segment *s);
/* Is segment id cold in the checkpoint loaded (if valid)? */
bool store_checkpoint_cold(const store *st, uint32_t id);
/* The highest seq the checkpoint knows (0: none). */
uint64_t store_checkpoint_max_seq(const store *st);
void store_checkpoint_free(store *st);

/* recover.c */
int store_recover_messages(store *st);
/* The store_entry of record r, at offset off (as the broker knows it) of
 * segment seg, for a queue whose ack entries for it say kind (ACK_KIND_*)
 * and returns. */
store_entry store_entry_of(const seg_record *r, uint32_t seg, uint32_t off, uint8_t kind, uint32_t returns);

/* A set of (queue id << 32 | record offset) -> ack kinds seen (recover.c). */
typedef struct ackset {
    uint64_t *keys;
    uint8_t *kinds;
    uint32_t *returns;          /* the highest returns of its kind-2 entries */
    size_t cap, n;
} ackset;
int store_ackset_add(ackset *a, uint64_t key, uint8_t kind, uint32_t returns);
uint8_t store_ackset_get(const ackset *a, uint64_t key, uint32_t *returns);
void store_ackset_free(ackset *a);

#endif
