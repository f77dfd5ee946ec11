/*
 * queue_region.h - a durable queue's backlog beyond its window in RAM,
 * left on disk (its region) and paged in as the window empties
 * (queue_region.c); what checkpoints and recovery hand to it.
 */
#ifndef WARREN_QUEUE_REGION_H
#define WARREN_QUEUE_REGION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "queue.h"

typedef struct store_entry store_entry;
/* Entries a window holds before new messages stay on disk
 * (WARREN_QUEUE_WINDOW, for tests; 4,096). */
uint32_t queue_window(void);
/* Does a new message of q go to its region (stored: it has a record)? */
bool queue_region_wants(const queue *q, bool stored);
/* e (stored, its body not in memory) joins the region: counted in q's
 * ready counts, its expiry noted.  -1 out of memory. */
int queue_region_join(queue *q, const qentry *e, bool paged);
/* From a checkpoint: run's members (in a segment recovery did not read)
 * join the region, with those that may expire and those redelivered. */
typedef struct store_region_run store_region_run;
typedef struct store_region_exp store_region_exp;
typedef struct store_region_sink store_region_sink;
int queue_region_bulk(queue *q, const store_region_run *run, const store_region_exp *exp, size_t nexp,
                      const uint64_t *red, size_t nred);
/* For a checkpoint: the region's runs, expiring and redelivered members. */
void queue_region_checkpoint(const queue *q, store_region_sink *k);
/* Page in the region's next records when the window is under half full. */
void queue_region_page_in(queue *q);
/* The region's member seq, taken out (its expiry came): *out is it. */
bool queue_region_take(queue *q, uint64_t seq, qentry *out);
/* Messages in the region, the newest one's seq (0: none). */
uint64_t queue_region_count(const queue *q);
uint64_t queue_region_last_seq(const queue *q);
/* Up to max seqs of redelivered members into out; how many. */
int queue_region_redelivered(const queue *q, uint64_t *out, uint32_t max);
/* Hand the region over to the vhost's drainer (its fate on disk sealed
 * already) and empty it; -1 out of memory (nothing done). */
int queue_region_drain(queue *q);
/* fn for each member, in order, up to max (browse); fn's non-zero stops. */
int queue_region_each(queue *q, uint32_t max, int (*fn)(void *arg, const qentry *e), void *arg);
void queue_region_free(queue *q);
/* The entry of a stored message, as recovery and a page-in make it. */
void queue_entry_from_store(const queue *q, const store_entry *se, qentry *e);
/* For queue_region.c: append a paged-in entry to the window (noted: its
 * expiry is in the index already). */
int queue_window_push(queue *q, const qentry *e, bool noted);

#endif
