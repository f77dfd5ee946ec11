/*
 * track.c - which sequence numbers of a producer have arrived.
 *
 * One bit per message.  The bits live in 2^20-bit (128 KiB) chunks that are
 * allocated the first time a sequence number inside them arrives, and
 * installed with a compare-and-swap so that several consumers of one queue
 * can share the map without a lock.  The directory of chunk pointers is
 * allocated whole but zero-filled by the kernel only where touched, so its
 * size (2^36 messages per producer) costs nothing until used.
 */
#include <stdlib.h>

#include "perf.h"

#define CHUNK_BITS 20
#define CHUNK_WORDS ((size_t)1 << (CHUNK_BITS - 6))
#define DIR_SIZE ((size_t)1 << 16)

int seqtrack_init(seqtrack *t)
{
    t->nchunks = DIR_SIZE;
    t->chunk = calloc(DIR_SIZE, sizeof *t->chunk);
    return t->chunk ? 0 : PERF_ENOMEM;
}

void seqtrack_free(seqtrack *t)
{
    if (!t->chunk)
        return;
    for (size_t i = 0; i < t->nchunks; i++)
        free(atomic_load_explicit(&t->chunk[i], memory_order_relaxed));
    free(t->chunk);
    t->chunk = NULL;
}

int seqtrack_mark(seqtrack *t, uint64_t seq)
{
    size_t ci = (size_t)(seq >> CHUNK_BITS);
    _Atomic uint64_t *words, *fresh = NULL;
    uint64_t bit, old;

    if (ci >= t->nchunks)
        return -1;
    words = atomic_load_explicit(&t->chunk[ci], memory_order_acquire);
    if (!words) {
        fresh = calloc(CHUNK_WORDS, sizeof *fresh);
        if (!fresh)
            return -1;
        if (atomic_compare_exchange_strong_explicit(&t->chunk[ci], &words, fresh,
                                                    memory_order_acq_rel, memory_order_acquire))
            words = fresh;
        else
            free(fresh);   /* another consumer installed one first: words is it */
    }
    seq &= ((uint64_t)1 << CHUNK_BITS) - 1;
    bit = (uint64_t)1 << (seq & 63);
    old = atomic_fetch_or_explicit(&words[seq >> 6], bit, memory_order_relaxed);
    return (old & bit) ? 0 : 1;
}
