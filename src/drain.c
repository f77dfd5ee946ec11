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
    /* or a region: records read from the log (queue_region.c) */
    bool region;
    store_cursor rc;
    uint64_t left, last_seq;
    uint64_t *skip;
    size_t nskip;
};

/* j (of queue qid, count messages) goes last in d's queue of jobs. */
static int enqueue(drainer *d, drain_job *j, store *st, uint32_t qid, uint64_t count)
{
    j->st = st;
    j->qid = qid;
    if (d->tail)
        d->tail->next = j;
    else
        d->head = j;
    d->tail = j;
    d->pending += count;
    return 0;
}

int drainer_add_region(drainer *d, store *st, uint32_t qid, store_cursor *c, uint64_t count, uint64_t last_seq,
                       uint64_t *skip, size_t nskip)
{
    drain_job *j = calloc(1, sizeof *j);
    if (!j)
        return -1;
    j->region = true;
    j->rc = *c;
    *c = (store_cursor){0};
    j->left = count;
    j->last_seq = last_seq;
    j->skip = skip;
    j->nskip = nskip;
    return enqueue(d, j, st, qid, count);
}

/* What a slice of a region read, to be acked once the scan is done (an
 * ack may delete the segment the scan is in). */
typedef struct region_slice {
    drain_job *j;
    struct { uint32_t seg, off, size; bool paged; } *got;
    uint32_t n, max;
} region_slice;

static int region_one(void *arg, const store_entry *e)
{
    region_slice *sl = arg;
    drain_job *j = sl->j;
    size_t i;
    if (e->seq > j->last_seq)
        return -1;
    for (i = 0; i < j->nskip; i++)
        if (j->skip[i] == e->seq)
            return 1; /* taken out before: its own way acks it */
    sl->got[sl->n].seg = e->seg;
    sl->got[sl->n].off = e->off;
    sl->got[sl->n].size = e->body_len;
    sl->got[sl->n].paged = e->paged;
    sl->n++;
    return 0;
}

/* A slice of region job j, up to budget records; how many were acked.
 * The job is over when it returns less than asked (j->left 0). */
static uint32_t region_step(drain_job *j, uint32_t budget)
{
    region_slice sl = {j, NULL, 0, budget};
    uint32_t i;
    int n;
    if (budget > j->left)
        budget = (uint32_t)j->left;
    if (!budget || !j->st || !(sl.got = malloc((size_t)budget * sizeof *sl.got))) {
        j->left = 0;
        return 0;
    }
    n = store_scan(j->st, j->qid, &j->rc, budget, 0, region_one, &sl);
    for (i = 0; i < sl.n; i++) {
        if (!sl.got[i].paged)
            store_region_ref(j->st, sl.got[i].seg, -1); /* no longer a region member: gone */
        store_ack(j->st, j->qid, sl.got[i].seg, sl.got[i].off, sl.got[i].size);
    }
    free(sl.got);
    if (n <= 0 || (uint32_t)n < budget)
        j->left = 0; /* the end of the log, or a read that failed: the rest waits for a restart's acks */
    else
        j->left -= (uint32_t)n;
    return sl.n;
}

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
    j->nlevels = n;
    return enqueue(d, j, st, qid, count);
}

static void job_free(drain_job *j)
{
    uint16_t i;
    store_cursor_free(&j->rc);
    free(j->skip);
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
        if (j->region) {
            uint64_t before = j->left;
            uint32_t n = region_step(j, budget);
            budget -= n < budget ? n : budget;
            d->pending -= before - j->left < d->pending ? before - j->left : d->pending;
            d->done += n;
            if (j->left)
                break;
            d->head = j->next;
            if (!d->head)
                d->tail = NULL;
            job_free(j);
            continue;
        }
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
