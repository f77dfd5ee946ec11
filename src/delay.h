/*
 * delay.h - a queue's "not before" side structure (delay.c): messages
 * held back after a requeue (back-off), and the index of expiry times
 * that lets a message's TTL fire wherever it is in the queue.
 *
 * It is a layer beside the queue's ready rings, not inside them: queue.c
 * calls it at the few places an entry enters the ready rings or leaves
 * the queue, and it hands entries back through queue_ready_insert /
 * queue_ready_remove.  A queue that uses neither feature never allocates
 * it (q->delay stays NULL) and pays one pointer test per requeue.
 */
#ifndef WARREN_DELAY_H
#define WARREN_DELAY_H

#include <stdbool.h>
#include <stdint.h>

#include "queue.h"

/* The back-off delay of an entry that came back for the n-th time
 * (n >= 1) on a queue with back-off s: initial * multiplier^(n-1), capped
 * at max, less a random part of up to jitter of it.  0: no back-off. */
int64_t delay_backoff_ms(const queue_backoff *s, uint32_t n, uint64_t rnd);

/* A returned entry of q (taken out of the ready rings, counted out of
 * unacked): held back for its back-off delay when q has one, then put
 * back in its place by queue_ready_insert.  False when q has no back-off
 * (the caller puts it back at once); true when held (or, out of memory,
 * put back at once). */
bool delay_hold(queue *q, qentry *e);

/* Hold e back until the wall-clock ms due, then hand it to rare->fire (a
 * delayed exchange's hold) or back to the ready rings.  -1 out of
 * memory (nothing done). */
int delay_hold_until(queue *q, qentry *e, int64_t due);

/* A hold's entry handed to rare->fire that could not go out (a read that
 * failed, its new copy lost): held again until due. */
void delay_refire(queue *q, qentry *e, int64_t due);

/* The longest x-delay the plugin takes (Erlang's longest timer); a
 * longer one, zero, negative or not a number routes at once, as there. */
#define DELAY_MAX_MS 4294967295ll
/* The delay a message asks for in its x-delay header (properties as
 * encoded), as the rabbitmq-delayed-message-exchange plugin reads it:
 * an integer of any type but the timestamp, a string of digits, a float
 * or decimal truncated; 0 for none (route at once). */
int64_t delay_header_ms(const uint8_t *props, uint32_t props_len);

/* e entered q's ready rings with an expiry: noted in the expiry index
 * when a message ahead of it could expire later (so the head timer alone
 * would find it late), or wherever it went (anywhere: a requeue puts it
 * back among older entries).  Out of memory it is left to the head
 * timer. */
void delay_note_expiry(queue *q, const qentry *e, bool anywhere);
/* An entry that never expires (or, on a queue that had none expiring, an
 * entry of any kind) is ahead of those to come: each of them with an
 * expiry needs the index. */
void delay_note_forever(queue *q);

/* For a browse: fn on the first `count` held entries in the order they
 * come due (O(count^2), nothing moved); 0, fn's non-zero to stop, -1 out
 * of memory. */
int delay_each_held(const queue *q, uint32_t count, int (*fn)(void *arg, const qentry *e, int64_t due), void *arg);

/* Messages held back (back-off), and their bytes. */
uint32_t delay_held(const queue *q);
uint64_t delay_held_bytes(const queue *q);

/* q is purged or deleted: its held messages are dropped through drop
 * (which acks them in the store); returns how many.  The expiry index is
 * emptied. */
uint32_t delay_purge(queue *q, void (*drop)(queue *q, qentry *e));

/* q is freed (deleted, or at shutdown without deletion: then its held
 * messages stay in the store for the next start). */
void delay_free(queue *q);

#endif
