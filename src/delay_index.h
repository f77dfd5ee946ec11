/*
 * delay_index.h - the on-disk part of a delayed exchange's hold
 * (delay_index.c): the held entries due past a horizon, in time buckets
 * under DATA/delay/<queue id>/, so that ten million delayed messages do
 * not sit in RAM (issue 15 point 3).
 *
 * It is derived state, a cache: delay.c fills it from the entries it is
 * given (published, or handed over by recovery at each start), so it is
 * wiped when opened and never trusted across a restart.  delay.c keeps
 * the entries due before `loaded` in its heap, gives the later ones here,
 * and asks for the next bucket (delay_index_load) as its time comes
 * near; the index never calls back except through the callbacks passed.
 */
#ifndef WARREN_DELAY_INDEX_H
#define WARREN_DELAY_INDEX_H

#include <stdbool.h>
#include <stdint.h>

#include "queue.h"

typedef struct delay_index delay_index;

/* What the index is told to do (set once per process from the
 * environment, WARREN_DELAY_HORIZON_MS, WARREN_DELAY_BUCKET_MS,
 * WARREN_DELAY_RAM_ENTRIES: tests make them tiny). */
typedef struct delay_index_params {
    int64_t horizon_ms;         /* a bucket is loaded this long before it starts (60 s) */
    int64_t bucket_ms;          /* a bucket's width (60 s) */
    uint32_t ram_entries;       /* past this many in RAM, load at the last moment (65,536) */
    int64_t lead_ms;            /* the last moment: this long before (1 s) */
} delay_index_params;

const delay_index_params *delay_index_params_get(void);

/* Open a fresh index for queue qid under data_dir/delay/<qid>/ (files
 * left there from before are deleted); NULL when it cannot (logged: the
 * caller keeps everything in RAM). */
delay_index *delay_index_open(const char *data_dir, uint32_t qid, int64_t now);
/* Close it; with remove, its files and directory go (the hold was
 * deleted; at shutdown they stay, wiped at the next start). */
void delay_index_close(delay_index *ix, bool remove);
/* Remove data_dir/delay/ and all in it: at start, before recovery, so
 * the index of a hold that is gone does not linger. */
void delay_index_reset(const char *data_dir);

/* Entries due before this are the caller's (in RAM); the others may be
 * given here. */
int64_t delay_index_loaded(const delay_index *ix);
/* Move loaded up to the horizon from now when no bucket is in the way
 * (so that what comes due soon is not written only to be read back). */
void delay_index_advance(delay_index *ix, int64_t now);
/* What cannot be written is given back (the caller holds it in RAM), and
 * is no longer counted here. */
typedef void delay_index_back(void *arg, int64_t due, qentry *e);
/* Take e (its body on disk only), due at due >= loaded: buffered, and
 * written when its bucket's buffer fills (through back if that fails) or
 * at the next delay_index_flush.  -1 out of memory: not taken. */
int delay_index_add(delay_index *ix, int64_t due, const qentry *e, delay_index_back *back, void *arg);
/* Write every buffered entry (delay.c: within 100 ms of an add). */
void delay_index_flush(delay_index *ix, delay_index_back *back, void *arg);
/* Is anything buffered, not written yet? */
bool delay_index_buffered(const delay_index *ix);

/* The wall time the next load should start at (INT64_MAX: nothing is on
 * disk); nheld is how many the caller holds in RAM. */
int64_t delay_index_next_load(const delay_index *ix, uint32_t nheld);
/* Move up to max entries of the earliest bucket to the caller through
 * push (starting it when none is being read: loaded moves past it, so
 * from then on the caller keeps what falls in it).  1: more of it to
 * read; 0: it is done (file deleted); entries that cannot be read are
 * logged and left in the store (the next start finds them). */
int delay_index_load(delay_index *ix, uint32_t max, delay_index_back *push, void *arg);
/* Read the rest of a bucket being loaded (a browse needs them in RAM). */
void delay_index_load_all(delay_index *ix, delay_index_back *push, void *arg);

/* Entries on disk (and buffered), and their bytes. */
uint64_t delay_index_count(const delay_index *ix);
uint64_t delay_index_bytes(const delay_index *ix);

/* fn on each entry in the order they come due (buckets are read and
 * sorted one at a time); fn's non-zero stops and is returned; -1 when a
 * bucket cannot be read. */
int delay_index_each(delay_index *ix, int (*fn)(void *arg, const qentry *e, int64_t due), void *arg);
/* Every entry to drop (the hold is purged or deleted), then the files
 * are deleted; returns how many. */
uint64_t delay_index_drop_all(delay_index *ix, void (*drop)(void *arg, qentry *e), void *arg);

#endif
