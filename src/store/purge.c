/*
 * purge.c - purge marks: a big purge made atomic on disk in one record.
 *
 * Purging a queue of millions of messages one ack entry at a time would
 * hold the loop for seconds, and a crash half-way would bring half of the
 * messages back.  Instead the purge appends one definitions record
 * (DEF_QUEUE_PURGED, synced before purge-ok): "every message of queue Q
 * up to seq S is gone", and the broker then writes the ack entries in
 * bounded slices (src/drain.c), only to give the disk space back.
 * Recovery drops what a mark covers whatever the ack files say, so after
 * a crash at any point the purged messages stay purged.
 *
 * What a mark does not cover: the queue's unacked messages at the purge
 * (a purge takes only ready ones; they may have a smaller seq).  Those
 * all carry a "delivered" mark in their ack file (written every turn, and
 * the turn's own entries are written before the mark), so a message with
 * one is kept - unless its seq is listed in the mark's `also` list: ready
 * messages that had come back from a consumer, and so have a "delivered"
 * mark too, are listed one by one (rare: a requeued message sits near the
 * head, and the list is found by walking the queue's head).
 *
 * A queue keeps one mark, the latest (its seq is the highest; `also`
 * accumulates, since an older list's acks may not be synced yet); the
 * rewrite of the definitions at start carries it for as long as the queue
 * exists, and "queue gone" forgets it.  Format in doc/store-format.md.
 */
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"

typedef struct purge_mark {
    uint64_t seq;
    uint32_t nalso;
    uint64_t *also;             /* sorted */
} purge_mark;

static int by_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void mark_free(purge_mark *m)
{
    if (m) {
        free(m->also);
        free(m);
    }
}

/* Set qid's mark to (seq, also[0..n) merged with the old mark's). */
static int set_mark(store *st, uint32_t qid, uint64_t seq, const uint64_t *also, uint32_t n)
{
    char k[4];
    purge_mark *old, *m = calloc(1, sizeof *m);
    uint32_t nold;

    qid_key(k, qid);
    old = map_get(&st->purges, k, 4);
    nold = old ? old->nalso : 0;
    if (!m || (nold + n && !(m->also = malloc(((size_t)nold + n) * sizeof *m->also)))) {
        mark_free(m);
        return -1;
    }
    if (nold)
        memcpy(m->also, old->also, nold * sizeof *m->also);
    if (n)
        memcpy(m->also + nold, also, n * sizeof *m->also);
    m->nalso = nold + n;
    if (m->nalso)
        qsort(m->also, m->nalso, sizeof *m->also, by_u64);
    m->seq = old && old->seq > seq ? old->seq : seq; /* a record of seq 0 and no mark before: 0 */
    if (map_put(&st->purges, k, 4, m) < 0) {
        mark_free(m);
        return -1;
    }
    mark_free(old);
    return 0;
}

static store_def mark_def(uint32_t qid, const purge_mark *m, uint8_t *buf)
{
    uint32_t i;
    for (i = 0; i < m->nalso; i++)
        amqp_put64(buf + 8 * i, m->also[i]);
    return (store_def){.kind = DEF_QUEUE_PURGED, .purge = {qid, m->seq, m->nalso, buf}};
}

int store_queue_purged(store *st, uint32_t qid, uint64_t seq, const uint64_t *also, uint32_t nalso)
{
    char k[4];
    purge_mark *m;
    uint8_t *buf;
    store_def d;
    int rc;

    /* the "delivered" marks of this turn's deliveries first: a message
     * delivered and still unacked must have one on disk before a mark
     * that would otherwise cover it */
    store_write_acks(st);
    /* and synced: after a power cut a lost "delivered" entry would let
     * the mark take an unacked message (ack files are otherwise synced
     * once a second) */
    if (store_sync_acks_now(st) < 0)
        return -1;
    if (set_mark(st, qid, seq, also, nalso) < 0)
        return -1;
    qid_key(k, qid);
    m = map_get(&st->purges, k, 4);
    if (!(buf = malloc(m->nalso ? (size_t)m->nalso * 8 : 1)))
        return -1;
    d = mark_def(qid, m, buf);
    rc = defs_append(st->defs, &d);
    if (rc == 0)
        rc = defs_sync(st->defs); /* before any of its acks can be written */
    free(buf);
    if (rc < 0) {
        /* not on disk: forget it, the caller purges the old way */
        store_purge_forget(st, qid);
        return -1;
    }
    store_crash_point(st, "after-purge-mark"); /* tests: no ack of the purge written yet */
    return 0;
}

int store_purge_replay(store *st, const store_def *d)
{
    uint64_t *also = NULL;
    uint32_t i;
    int rc;

    if (d->purge.nalso && !(also = malloc((size_t)d->purge.nalso * sizeof *also)))
        return -1;
    for (i = 0; i < d->purge.nalso; i++)
        also[i] = amqp_get64(d->purge.also + 8 * i);
    store_purge_forget(st, d->purge.qid); /* a record replaces the last */
    rc = set_mark(st, d->purge.qid, d->purge.seq, also, d->purge.nalso);
    free(also);
    return rc;
}

void store_purge_forget(store *st, uint32_t qid)
{
    char k[4];
    qid_key(k, qid);
    mark_free(map_del(&st->purges, k, 4));
}

bool store_purge_covers(const store *st, uint32_t qid, uint64_t seq, bool delivered)
{
    char k[4];
    const purge_mark *m;

    if (!map_count(&st->purges))
        return false;
    qid_key(k, qid);
    if (!(m = map_get(&st->purges, k, 4)) || seq > m->seq)
        return false;
    return !delivered || (m->nalso && bsearch(&seq, m->also, m->nalso, sizeof seq, by_u64) != NULL);
}

int store_purge_emit(store *st, int (*emit)(void *sink, const store_def *d), void *sink)
{
    size_t i = 0;
    const char *k;
    size_t kl;
    void *v;

    while (map_next(&st->purges, &i, &k, &kl, &v)) {
        purge_mark *m = v;
        uint32_t qid;
        uint8_t *buf;
        store_def d;
        int rc;
        memcpy(&qid, k, 4);
        if (!store_queue_by_id(st, qid))
            continue;
        if (!(buf = malloc(m->nalso ? (size_t)m->nalso * 8 : 1)))
            return -1;
        d = mark_def(qid, m, buf);
        rc = emit(sink, &d);
        free(buf);
        if (rc < 0)
            return -1;
    }
    return 0;
}

void store_purge_free(store *st)
{
    size_t i = 0;
    void *v;
    while (map_next(&st->purges, &i, NULL, NULL, &v))
        mark_free(v);
    map_free(&st->purges);
}
