/*
 * queue_dedup.h - x-message-deduplication on a queue (queue_dedup.c): the
 * x-deduplication-header values of the messages the queue holds, ready or
 * unacked, so that a message whose value is already there is not enqueued
 * (the rabbitmq-message-deduplication plugin's queue-level mode).
 */
#ifndef WARREN_QUEUE_DEDUP_H
#define WARREN_QUEUE_DEDUP_H

#include <stdbool.h>
#include <stdint.h>

typedef struct queue_dedup queue_dedup;

queue_dedup *queue_dedup_new(void);
void queue_dedup_free(queue_dedup *d);
/* Is the header of these encoded properties held already?  When it is
 * not (and there is one), it is held from now on for the message of
 * publish sequence number seq: false.  Without the header: false. */
bool queue_dedup_check(queue_dedup *d, const uint8_t *props, uint32_t props_len, uint64_t seq);
/* The message of seq left the queue (acked, dropped, dead-lettered,
 * purged): its value may come again. */
void queue_dedup_forget(queue_dedup *d, uint64_t seq);
/* Values held. */
uint32_t queue_dedup_count(const queue_dedup *d);

#endif
