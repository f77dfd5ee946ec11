/*
 * store.h - the durable message store (see store.c for the design and
 * doc/store-format.md for the bytes on disk).
 */
#ifndef WARREN_STORE_H
#define WARREN_STORE_H

#include "warren.h"

/* Open (creating if need be) the store in dir and recover what it holds
 * into b's vhost.  *st may be NULL afterwards when persistence is off. */
int store_open(store **st, broker *b, const char *dir);
/* Write what this turn queued and hand it to the sync thread. */
void store_flush(store *st);
/* Once a second: disk space checks, compaction. */
void store_tick(store *st);
/* Write and sync everything, stop the sync thread, free. */
void store_close(store *st);
/* Queue a persistent message of durable queue `qid` for writing; its place
 * on disk is returned at once.  Written before the loop sleeps. */
int store_put(store *st, uint32_t qid, msg *m, uint64_t seq, uint32_t *seg, uint32_t *off);
/* The message at (seg, off) is done with in queue qid. */
void store_ack(store *st, uint32_t qid, uint32_t seg, uint32_t off, uint64_t seq);
/* Read a message back; NULL on failure (logged). */
msg *store_read(store *st, uint32_t seg, uint32_t off);
/* A durable queue was declared: give it an id and record it. */
int store_queue_declared(store *st, queue *q);
void store_queue_deleted(store *st, uint32_t qid);

#endif
