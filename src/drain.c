/*
 * drain.c - a huge purge or delete, let go of in slices.
 *
 * A purge or a deletion takes a queue's ready entries away at once: the
 * queue is empty (or gone) for every client the moment the call returns,
 * and its fate on disk is sealed by one record (a purge mark, store/purge.c;
 * "queue gone"; nothing for a non-durable queue).  What is left is work
 * that no client waits for: an ack entry per stored message, so that the
 * segments empty and their disk space comes back, and the bodies held in
 * memory freed.  For 100 M messages that is seconds, so it is done here,
 * DRAIN_SLICE entries per loop turn (about a millisecond of CPU), and the other
 * clients' round trips go on between the slices.
 *
 * The jobs hold their entries in the deques they were in (one per
 * priority level), taken whole from the queue, and the store by pointer:
 * a job does not need its queue any more, which may be freed meanwhile.
 */
#include "drain.h"

#include <stdlib.h>

#include "store/store.h"

struct drain_job {
    drain_job *next;
    store *st;
    uint32_t qid;
    uint16_t nlevels, cur;
    qdeque *levels;
};

int drainer_add(drainer *d, store *st, uint32_t qid, qdeque *levels, uint16_t n, uint64_t count)
{
    drain_job *j = calloc(1, sizeof *j);
    uint16_t i;

    if (!j || !(j->levels = calloc(n, sizeof *j->levels))) {
        free(j);
        return -1;
    }
    for (i = 0; i < n; i++) {
        j->levels[i] = levels[i];
        levels[i] = (qdeque){0};
    }
    j->st = st;
    j->qid = qid;
    j->nlevels = n;
    if (d->tail)
        d->tail->next = j;
    else
        d->head = j;
    d->tail = j;
    d->pending += count;
    return 0;
}

static void job_free(drain_job *j)
{
    uint16_t i;
    for (i = 0; i < j->nlevels; i++) {
        qentry e;
        while (qdeque_pop(&j->levels[i], &e))
            if (e.m)
                msg_unref(e.m);
        qdeque_free(&j->levels[i]);
    }
    free(j->levels);
    free(j);
}

bool drainer_step(drainer *d)
{
    uint32_t budget = DRAIN_SLICE;
    uint64_t bytes = 0;

    while (d->head && budget) {
        drain_job *j = d->head;
        qentry e;
        while (budget && j->cur < j->nlevels) {
            qdeque *q = &j->levels[j->cur];
            if (!qdeque_pop(q, &e)) {
                qdeque_free(q);
                j->cur++;
                continue;
            }
            if ((e.flags & QE_STORED) && j->st)
                store_ack(j->st, j->qid, e.seg, e.off, e.size);
            if (e.m)
                msg_unref(e.m);
            budget--;
            bytes += e.size;
            if (bytes >= DRAIN_SLICE_BYTES)
                budget = 0;
            d->pending--;
            d->done++;
        }
        if (j->cur < j->nlevels) {
            qdeque_shrink(&j->levels[j->cur]); /* the memory comes back as it goes */
            break;
        }
        d->head = j->next;
        if (!d->head)
            d->tail = NULL;
        job_free(j);
    }
    return d->head != NULL;
}

void drainer_free(drainer *d)
{
    while (d->head) {
        drain_job *j = d->head;
        d->head = j->next;
        job_free(j);
    }
    d->tail = NULL;
    d->pending = 0;
}
