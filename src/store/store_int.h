/*
 * store_int.h - the store's insides, shared by its files: store.c (writing,
 * syncing, reading, acks), store_defs.c (the definitions log's records) and
 * recover.c (reading it all back at start).  Nothing outside src/store/
 * includes this.
 */
#ifndef WARREN_STORE_INT_H
#define WARREN_STORE_INT_H

#include <pthread.h>
#include <string.h>
#include <sys/types.h>

#include "store/defs.h"
#include "store/segment.h"
#include "store/store.h"

#define SEG_SOFT_MAX (16u << 20)    /* a new segment starts past this size */
#define PREALLOC (4u << 20)         /* space reserved ahead of the writes */
#define READ_AHEAD (1u << 20)
#define ACK_SYNC_MS 1000

typedef struct segment {
    uint32_t id;
    int fd;
    int ackfd;                  /* -1 until the first ack entry */
    uint64_t size;              /* bytes written */
    uint64_t alloc;             /* bytes reserved with fallocate */
    uint64_t live;              /* unacked (queue, record) references */
    bool broken;                /* a write or sync failed on it */
    bool acks_unsynced;
    uint8_t *ackbuf;            /* this turn's ack entries */
    size_t acklen, ackcap;
    bool on_ack_list;
    struct segment *ack_next;
} segment;

typedef struct range {
    uint64_t lo, hi;            /* lsns in (lo, hi] */
} range;

struct store {
    vhost *vh;
    store_hooks hooks;
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
    /* sync thread */
    pthread_t thread;
    bool thread_started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int efd;
    ev_io efd_io;
    int job_fds[64];
    int job_nfds;
    uint64_t job_lsn;
    bool job_ready, stop;
    uint64_t t_done_lsn;        /* written by the thread */
    uint64_t t_fail_lo, t_fail_hi;
    int t_errno;
    /* definitions */
    defs *defs;
    uint32_t next_qid;
    map qids;                   /* "qid" (4 bytes) -> queue */
    /* read-ahead */
    uint8_t *rbuf;
    uint32_t rseg;
    uint64_t roff;
    size_t rlen;
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
ssize_t store_pread_full(int fd, void *p, size_t n, uint64_t off);
queue *store_queue_by_id(store *st, uint32_t qid);
int store_seg_add(store *st, segment *s);
void store_seg_free(segment *s);

/* store_defs.c: the definitions log's records */
int store_replay_def(void *ctx, const uint8_t *payload, uint32_t len);
int store_rewrite_defs(store *st);

/* recover.c */
int store_recover_messages(store *st);

#endif
