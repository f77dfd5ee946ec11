/*
 * redrive.h - moving a queue's messages (a dead-letter queue's, usually)
 * back to the queue each came from, or to a named one: at-least-once and
 * rate-limited, as a job that runs on the loop (redrive.c).
 *
 * A domain noun: it knows vhosts, queues and the store, and nothing of the
 * front end that started it (the HTTP API, src/http/redrive.c).  What the
 * front end must decide per message (may this user write to that queue?)
 * it hands in as a callback.
 */
#ifndef WARREN_REDRIVE_H
#define WARREN_REDRIVE_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "queue.h"

typedef struct vhost vhost;
typedef struct redrive redrive;

enum redrive_state {
    REDRIVE_RUNNING,
    REDRIVE_DONE,               /* moved what it was asked to (or the source ran empty) */
    REDRIVE_STOPPED,            /* a message could not be moved: see reason */
    REDRIVE_CANCELLED,          /* redrive_cancel */
};

typedef struct redrive_spec {
    amqp_str destination;       /* len 0: each message's queue, from its x-death */
    int64_t count;              /* messages to move; -1: those ready at the start */
    uint32_t rate;              /* messages a second; 0: as fast as the store syncs */
    /* may the starter publish to queue `name`?  0, or -1 with *err (an
     * x-death destination is checked at each message); NULL: anyone */
    int (*may_write)(void *ctx, vhost *vh, amqp_str name, amqp_error *err);
    void *ctx;                  /* for may_write; freed with free() when the job goes */
} redrive_spec;

/* What a job did so far (or finally: a job stays readable after it ends,
 * until the next one on the same queue replaces it). */
typedef struct redrive_status {
    enum redrive_state state;
    const char *source, *destination; /* destination NULL: x-death */
    int64_t count;              /* the messages it set out to move */
    uint32_t rate;
    uint64_t moved;             /* in the destination and gone from the source */
    uint64_t in_flight;         /* published to the destination, waiting for its sync */
    int64_t started, ended;     /* wall clock ms; ended 0 while running */
    const char *reason;         /* why it stopped ("" unless stopped) */
} redrive_status;

/* Start moving messages out of queue `source`.  -1 with *err: no such
 * queue (404), another's exclusive queue (405), the destination missing
 * (404) or the source itself (406), or a job running on the source
 * already (406).  spec->ctx is the job's from then on (even on -1). */
int redrive_start(vhost *vh, amqp_str source, const redrive_spec *spec, amqp_error *err);
/* The last job on queue `source` (running or ended); false when none. */
bool redrive_get(vhost *vh, amqp_str source, redrive_status *out);
/* Stop taking messages; those in flight finish.  false when no job runs. */
bool redrive_cancel(vhost *vh, amqp_str source);
/* The vhost goes (shutdown): every job stops, messages in flight stay in
 * their source (for the next start: they were never acked there). */
void redrive_free_all(vhost *vh);

#endif
