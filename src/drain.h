/*
 * drain.h - letting go of a purged or deleted queue's messages in slices
 * (drain.c).
 */
#ifndef WARREN_DRAIN_H
#define WARREN_DRAIN_H

#include <stdbool.h>
#include <stdint.h>

#include "queue.h"
#include "store/store.h"

typedef struct store store;
typedef struct drain_job drain_job;

/* The process's jobs, oldest first; one per vhost-less process is enough
 * (the broker holds it and steps it every loop turn). */
typedef struct drainer {
    drain_job *head, *tail;
    uint64_t pending;           /* entries not yet let go of */
    uint64_t done;              /* entries let go of, since start */
} drainer;

/* Entries a turn lets go of, at most: about a millisecond of CPU (3 ms for 16,384 measured); and
 * message bytes (big messages: segments emptied and deleted per turn). */
#define DRAIN_SLICE 8192
#define DRAIN_SLICE_BYTES (64u << 20)

/* Take over the entries of levels[0..n) (each deque is left empty) of
 * the queue whose store id is qid (0: not durable), to be acked in the
 * store st (NULL: none) and freed in slices.  Their fate on disk must
 * already be sealed (a purge mark, "queue gone", a non-durable queue):
 * these acks only give the space back.  -1 out of memory (nothing taken). */
int drainer_add(drainer *d, store *st, uint32_t qid, qdeque *levels, uint16_t n, uint64_t count);
/* Take over a queue's region (queue_region.c): count records of queue
 * qid from the cursor *c on (taken over, left empty), up to the seq
 * last_seq, less those of skip[0..nskip) (seqs, taken over), to be acked
 * in the store st in slices, read as a page-in reads them.  -1 out of
 * memory (nothing taken). */
int drainer_add_region(drainer *d, store *st, uint32_t qid, store_cursor *c, uint64_t count, uint64_t last_seq,
                       uint64_t *skip, size_t nskip);
/* One slice (DRAIN_SLICE entries); true when more remain. */
bool drainer_step(drainer *d);
/* At shutdown: free what is left, writing nothing (what it would have
 * written is sealed already). */
void drainer_free(drainer *d);

#endif
