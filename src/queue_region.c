/*
 * queue_region.c - the deep part of a durable queue's backlog, kept on
 * disk instead of in RAM: its *region*.
 *
 * Segments hold records in publish order, each naming the queues it was
 * routed to, so past a window of entries in RAM a durable queue need not
 * hold an entry per message at all: its backlog beyond the window is
 * "every record naming the queue from the cursor on" (store_scan), and
 * the queue keeps only how many there are, their bytes, and where the
 * first one is.  So 10 M queued messages cost their count, not 40 bytes
 * each.
 *
 * The rule: a durable queue (no x-max-priority, no de-duplication, not a
 * delayed exchange's hold) keeps its entries in its ready ring as before,
 * the *window*, until the window holds queue_window() entries; past that,
 * each new stored message joins the region instead (a transient one is
 * paged out under the queue's id to do so), and while the region is not
 * empty every new message does (publish order).  The window is a prefix
 * of the queue in publish order: a requeue goes back into it at its seq's
 * place, as ever.  When the window falls under half of its size, the
 * region's next records are paged in (entries with the body on disk, as
 * recovery makes them).  Counts (nready, ready_bytes) include the region.
 *
 * What the files say settles a record: acked for the queue (a refused or
 * dropped publish, an ack before a restart) it is passed over; "delivered"
 * (before a restart) it comes back redelivered with its count; covered by
 * a purge mark, passed over.  The one thing only RAM knows is a member
 * taken out early: a message whose own expiration comes before that of
 * one ahead of it is noted in delay.c's expiry index, as any, and kept in
 * a small list here (seq, place); when it is due, queue_ready_remove finds
 * it here, it is marked taken and dead-lettered (read from the store), and
 * the page-in passes over it.  Recovery rebuilds the same region with the
 * same rule (queue_recover), from records it reads anyway.
 *
 * A purge or a deletion drops the region at once (the purge mark or the
 * "queue gone" record already seals it on disk); the drainer writes the
 * acks of its records in slices (drain.c), scanning as a page-in does.
 */
#include "queue.h"
#include "queue_region.h"
#include "vhost.h"

#include <stdlib.h>
#include <string.h>

#include "delay.h"
#include "drain.h"
#include "log.h"
#include "store/store.h"

#define WINDOW_DEFAULT 4096

typedef struct region_exp {
    uint64_t seq;
    int64_t expires;
    uint32_t seg, off, size;
    bool taken;                 /* taken out early: passed over at page-in */
    bool paged;                 /* a transient one, paged out */
} region_exp;

struct qregion {
    uint64_t count, bytes;      /* members not paged in yet */
    uint64_t last_seq;          /* the newest member's */
    uint32_t redelivered;       /* of count: with a "delivered" mark (recovered) */
    store_cursor cur;           /* the next record to look at */
    int64_t hi;                 /* the latest expiry ahead (INT64_MAX: one never expires) */
    region_exp *exp;            /* members that expire before one ahead of them, by seq */
    size_t expfirst, nexp, capexp;
    uint64_t *redeliv;          /* seqs of the redelivered members (a purge mark lists them) */
    size_t redfirst, nred, capred;
    store_region_run *runs;     /* the members per segment, in order (checkpoints) */
    size_t runfirst, nruns, capruns;
};

uint32_t queue_window(void)
{
    static uint32_t w;
    if (!w) {
        const char *s = getenv("WARREN_QUEUE_WINDOW");
        long v = s ? strtol(s, NULL, 10) : 0;
        w = v >= 4 && v <= (1 << 24) ? (uint32_t)v : WINDOW_DEFAULT;
    }
    return w;
}

uint64_t queue_region_count(const queue *q)
{
    return q->region ? q->region->count : 0;
}

static bool eligible(const queue *q)
{
    return q->id && q->durable && !q->hold && !q->dedup && q->nlevels == 1 && !q->deleted;
}

bool queue_region_wants(const queue *q, bool stored)
{
    if (!eligible(q))
        return false;
    if (q->region && q->region->count)
        return true; /* publish order: behind the region, whatever it is */
    return stored && q->levels[0].len >= queue_window();
}

static int grow(void **p, size_t *cap, size_t n, size_t size)
{
    void *v;
    size_t c;
    if (n < *cap)
        return 0;
    c = *cap ? *cap * 2 : 16;
    if (!(v = realloc(*p, c * size)))
        return -1;
    *p = v;
    *cap = c;
    return 0;
}

/* Let go of lists' consumed fronts when they are most of them. */
static void trim(region_exp **exp, size_t *first, size_t *n)
{
    if (*first > 64 && *first * 2 > *n) {
        memmove(*exp, *exp + *first, (*n - *first) * sizeof **exp);
        *n -= *first;
        *first = 0;
    }
}

static void trim_seqs(uint64_t *v, size_t *first, size_t *n)
{
    if (*first > 64 && *first * 2 > *n) {
        memmove(v, v + *first, (*n - *first) * sizeof *v);
        *n -= *first;
        *first = 0;
    }
}

/* A new region starts at e: its expiry horizon is the latest of the window
 * (a window entry that never expires hides everything behind it from the
 * head timer). */
static int64_t window_hi(const queue *q)
{
    const qdeque *d = &q->levels[0];
    int64_t hi = 0;
    size_t i;
    if (!q->expiring)
        return d->len ? INT64_MAX : 0;
    for (i = 0; i < d->len; i++) {
        int64_t x = qdeque_at((qdeque *)d, i)->expires;
        if (!x)
            return INT64_MAX;
        if (x > hi)
            hi = x;
    }
    return hi;
}

/* The run of segment seg (NULL: none). */
static store_region_run *run_of(struct qregion *r, uint32_t seg)
{
    size_t i;
    for (i = r->runfirst; i < r->nruns; i++)
        if (r->runs[i].seg == seg)
            return &r->runs[i];
    return NULL;
}

static void run_out(queue *q, uint32_t seg, uint32_t size, bool paged)
{
    struct qregion *r = q->region;
    store_region_run *run = run_of(r, seg);
    if (run) {
        run->count--;
        run->bytes -= size;
        while (r->runfirst < r->nruns && !r->runs[r->runfirst].count)
            r->runfirst++;
    }
    if (!paged && q->vh->st)
        store_region_ref(q->vh->st, seg, -1);
}

static void reset(struct qregion *r)
{
    r->expfirst = r->nexp = 0;
    r->redfirst = r->nred = 0;
    r->runfirst = r->nruns = 0;
}

int queue_region_join(queue *q, const qentry *e, bool paged)
{
    struct qregion *r = q->region;
    store_region_run *run;

    if (!r && !(r = q->region = calloc(1, sizeof *r)))
        return -1;
    if (!r->count) {
        /* a new region: its first record is here */
        r->cur.seg = e->seg;
        r->cur.off = e->off;
        store_cursor_free(&r->cur);
        r->hi = window_hi(q);
        reset(r);
    }
    run = r->nruns > r->runfirst ? &r->runs[r->nruns - 1] : NULL;
    if (!run || run->seg != e->seg) {
        if (grow((void **)&r->runs, &r->capruns, r->nruns, sizeof *r->runs) < 0)
            return -1;
        run = &r->runs[r->nruns++];
        *run = (store_region_run){e->seg, e->off, 0, 0, e->seq, e->seq, false};
    }
    run->expiring |= e->expires != 0;
    if (e->expires && e->expires < r->hi) {
        /* it may expire while still on disk: noted where the expiry
         * index's timer finds it (queue_region_take) */
        if (grow((void **)&r->exp, &r->capexp, r->nexp, sizeof *r->exp) < 0)
            return -1;
        r->exp[r->nexp++] = (region_exp){e->seq, e->expires, e->seg, e->off, e->size, false, paged};
    }
    if ((e->flags & QE_REDELIVERED)) {
        if (grow((void **)&r->redeliv, &r->capred, r->nred, sizeof *r->redeliv) < 0)
            return -1;
        r->redeliv[r->nred++] = e->seq;
        r->redelivered++;
        q->ready_redelivered++;
    }
    if (e->expires && !q->expiring && q->nready)
        delay_note_forever(q); /* those ahead never expire */
    r->count++;
    r->bytes += e->size;
    r->last_seq = e->seq;
    run->count++;
    run->bytes += e->size;
    run->last_seq = e->seq;
    if (!paged && q->vh->st)
        store_region_ref(q->vh->st, e->seg, 1); /* in recovery, the store counts it */
    q->nready++;
    q->ready_bytes += e->size;
    if (e->expires) {
        q->expiring = true;
        if (e->expires < r->hi)
            delay_note_expiry(q, e, true);
        else
            r->hi = e->expires;
    } else {
        r->hi = INT64_MAX;
        if (q->expiring)
            delay_note_forever(q);
    }
    return 0;
}

/* A member leaves the region's counts (paged in, taken out). */
static void count_out(queue *q, uint32_t size, bool redelivered)
{
    struct qregion *r = q->region;
    r->count--;
    r->bytes -= size;
    q->nready--;
    q->ready_bytes -= size;
    if (redelivered && r->redelivered) {
        r->redelivered--;
        q->ready_redelivered--;
    }
}

static region_exp *find_exp(struct qregion *r, uint64_t seq)
{
    size_t lo = r->expfirst, hi = r->nexp;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (r->exp[mid].seq < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < r->nexp && r->exp[lo].seq == seq ? &r->exp[lo] : NULL;
}

bool queue_region_take(queue *q, uint64_t seq, qentry *out)
{
    struct qregion *r = q->region;
    region_exp *x;
    if (!r || !r->count || !(x = find_exp(r, seq)) || x->taken)
        return false;
    x->taken = true;
    count_out(q, x->size, false);
    run_out(q, x->seg, x->size, x->paged);
    *out = (qentry){.seq = seq, .seg = x->seg, .off = x->off, .size = x->size, .flags = QE_STORED,
                    .expires = x->expires};
    return true;
}

void queue_entry_from_store(const queue *q, const store_entry *se, qentry *e)
{
    memset(e, 0, sizeof *e);
    e->seq = se->seq;
    e->seg = se->seg;
    e->off = se->off;
    e->size = se->body_len;
    e->flags = QE_STORED | (se->redelivered ? QE_REDELIVERED : 0);
    /* delivered and not acked when the broker stopped: that delivery came
     * back too, as a consumer's channel closing brings it back */
    if (se->redelivered)
        e->returns = se->returns >= UINT16_MAX ? UINT16_MAX : (uint16_t)(se->returns + 1);
    /* reading the properties costs an allocation: only when they or the
     * queue can set a priority or an expiry */
    if (q->set.msg_ttl >= 0 || q->set.max_priority || q->hold ||
        (se->props_len >= 2 && (amqp_get16(se->props) & (AMQP_BASIC_EXPIRATION_FLAG | AMQP_BASIC_PRIORITY_FLAG))))
        queue_entry_times(q, e, se->props, se->props_len, se->published);
}

/* Is the member seq one taken out early (pass over it), and was it noted
 * in the expiry index already? */
static bool passed_over(struct qregion *r, uint64_t seq, bool *noted)
{
    *noted = false;
    while (r->expfirst < r->nexp && r->exp[r->expfirst].seq < seq)
        r->expfirst++; /* cannot be: one the scan did not meet */
    if (r->expfirst < r->nexp && r->exp[r->expfirst].seq == seq) {
        bool taken = r->exp[r->expfirst++].taken;
        *noted = true;
        return taken;
    }
    return false;
}

typedef struct page_in {
    queue *q;
    int64_t now;
} page_in;

static int page_one(void *arg, const store_entry *se)
{
    page_in *p = arg;
    queue *q = p->q;
    struct qregion *r = q->region;
    bool noted;
    qentry e;

    if (se->seq > r->last_seq)
        return -1; /* past the region: cannot be, the count stops first */
    if (passed_over(r, se->seq, &noted))
        return 1;
    while (r->redfirst < r->nred && r->redeliv[r->redfirst] <= se->seq)
        r->redfirst++;
    queue_entry_from_store(q, se, &e);
    count_out(q, e.size, se->redelivered);
    run_out(q, se->seg, e.size, se->paged);
    if (queue_window_push(q, &e, noted) < 0) {
        log_error("queue '%s': out of memory paging a message in; it stays on disk until a restart", q->name);
        return 1;
    }
    return 0;
}

void queue_region_page_in(queue *q)
{
    struct qregion *r = q->region;
    uint32_t w = queue_window(), want;
    page_in p = {q, 0};
    int n;

    if (!r || !r->count || !q->vh->st || q->levels[0].len >= w / 2)
        return;
    want = w - (uint32_t)q->levels[0].len;
    if (want > r->count)
        want = (uint32_t)r->count;
    n = store_scan(q->vh->st, q->id, &r->cur, want, STORE_SCAN_PURGED, page_one, &p);
    if (n == 0 && q->levels[0].len == 0 && r->count) {
        /* the log ends and the region is not empty: its records are gone
         * (a damaged one moved aside); what the counts said is no more */
        log_error("queue '%s': %llu messages counted on disk were not found there; dropped from its counts",
                  q->name, (unsigned long long)r->count);
        q->nready -= (uint32_t)r->count;
        q->ready_bytes -= r->bytes;
        q->ready_redelivered -= r->redelivered;
        r->count = r->bytes = r->redelivered = 0;
    }
    trim(&r->exp, &r->expfirst, &r->nexp);
    trim_seqs(r->redeliv, &r->redfirst, &r->nred);
    if (r->runfirst > 16 && r->runfirst * 2 > r->nruns) {
        memmove(r->runs, r->runs + r->runfirst, (r->nruns - r->runfirst) * sizeof *r->runs);
        r->nruns -= r->runfirst;
        r->runfirst = 0;
    }
    if (!r->count) {
        store_cursor_free(&r->cur);
        reset(r);
    }
}

uint64_t queue_region_last_seq(const queue *q)
{
    return q->region && q->region->count ? q->region->last_seq : 0;
}

int queue_region_redelivered(const queue *q, uint64_t *out, uint32_t max)
{
    struct qregion *r = q->region;
    uint32_t n = 0;
    size_t i;
    if (!r || !r->count)
        return 0;
    for (i = r->redfirst; i < r->nred && n < max; i++)
        out[n++] = r->redeliv[i];
    return (int)n;
}

int queue_region_drain(queue *q)
{
    struct qregion *r = q->region;
    vhost *vh = q->vh;
    uint64_t *skip = NULL;
    size_t nskip = 0, i;

    if (!r || !r->count)
        return 0;
    for (i = r->expfirst; i < r->nexp; i++)
        nskip += r->exp[i].taken;
    if (nskip && !(skip = malloc(nskip * sizeof *skip)))
        return -1;
    nskip = 0;
    for (i = r->expfirst; i < r->nexp; i++)
        if (r->exp[i].taken)
            skip[nskip++] = r->exp[i].seq;
    if (drainer_add_region(vh->drain, vh->st, q->id, &r->cur, r->count, r->last_seq, skip, nskip) < 0) {
        free(skip);
        return -1;
    }
    q->nready -= (uint32_t)r->count;
    q->ready_bytes -= r->bytes;
    q->ready_redelivered -= r->redelivered;
    r->count = r->bytes = r->redelivered = 0;
    r->cur = (store_cursor){0};
    reset(r);
    return 0;
}

typedef struct region_walk {
    queue *q;
    int (*fn)(void *arg, const qentry *e);
    void *arg;
    int rc;
} region_walk;

static int walk_one(void *arg, const store_entry *se)
{
    region_walk *w = arg;
    struct qregion *r = w->q->region;
    region_exp *x = find_exp(r, se->seq);
    qentry e;
    if (se->seq > r->last_seq)
        return -1;
    if (x && x->taken)
        return 1;
    queue_entry_from_store(w->q, se, &e);
    if ((w->rc = w->fn(w->arg, &e)) != 0)
        return -1;
    return 0;
}

int queue_region_each(queue *q, uint32_t max, int (*fn)(void *arg, const qentry *e), void *arg)
{
    struct qregion *r = q->region;
    region_walk w = {q, fn, arg, 0};
    store_cursor c;
    int n;

    if (!r || !r->count || !q->vh->st)
        return 0;
    if (max > r->count)
        max = (uint32_t)r->count;
    c = (store_cursor){r->cur.seg, r->cur.off, NULL};
    n = store_scan(q->vh->st, q->id, &c, max, STORE_SCAN_PURGED, walk_one, &w);
    store_cursor_free(&c);
    return w.rc ? w.rc : n < 0 ? -1 : 0;
}

void queue_region_free(queue *q)
{
    struct qregion *r = q->region;
    if (!r)
        return;
    store_cursor_free(&r->cur);
    free(r->exp);
    free(r->redeliv);
    free(r->runs);
    free(r);
    q->region = NULL;
}

int queue_region_bulk(queue *q, const store_region_run *run, const store_region_exp *exp, size_t nexp,
                      const uint64_t *red, size_t nred)
{
    struct qregion *r = q->region;
    size_t i;

    if (!run->count)
        return 0;
    if (!r && !(r = q->region = calloc(1, sizeof *r)))
        return -1;
    if (grow((void **)&r->runs, &r->capruns, r->nruns, sizeof *r->runs) < 0)
        return -1;
    while (r->capexp < r->nexp + nexp)
        if (grow((void **)&r->exp, &r->capexp, r->capexp, sizeof *r->exp) < 0)
            return -1;
    while (r->capred < r->nred + nred)
        if (grow((void **)&r->redeliv, &r->capred, r->capred, sizeof *r->redeliv) < 0)
            return -1;
    if (!r->count) {
        r->cur.seg = run->seg;
        r->cur.off = run->off;
        store_cursor_free(&r->cur);
        reset(r);
    }
    /* what the members expire at is not known without reading them: any
     * expiring one behind may come before one of them */
    r->hi = INT64_MAX;
    r->runs[r->nruns++] = *run;
    r->count += run->count;
    r->bytes += run->bytes;
    r->last_seq = run->last_seq;
    q->nready += (uint32_t)run->count;
    q->ready_bytes += run->bytes;
    if (run->expiring)
        q->expiring = true; /* vhost_set_store pages its head in, for the head timer */
    for (i = 0; i < nexp; i++) {
        qentry e = {.seq = exp[i].seq, .seg = exp[i].seg, .off = exp[i].off, .size = exp[i].size,
                    .flags = QE_STORED, .expires = exp[i].expires};
        r->exp[r->nexp++] = (region_exp){exp[i].seq, exp[i].expires, exp[i].seg, exp[i].off, exp[i].size, false,
                                         false};
        q->expiring = true;
        delay_note_expiry(q, &e, true);
    }
    for (i = 0; i < nred; i++)
        r->redeliv[r->nred++] = red[i];
    r->redelivered += (uint32_t)nred;
    q->ready_redelivered += (uint32_t)nred;
    return 0;
}

void queue_region_checkpoint(const queue *q, store_region_sink *k)
{
    struct qregion *r = q->region;
    size_t i;
    if (!r || !r->count)
        return;
    for (i = r->runfirst; i < r->nruns; i++) {
        store_region_run run = r->runs[i];
        if (!run.count)
            continue;
        if (i == r->runfirst && r->cur.seg == run.seg && r->cur.off > run.off)
            run.off = r->cur.off; /* paged in up to the cursor */
        store_sink_run(k, &run);
    }
    for (i = r->expfirst; i < r->nexp; i++)
        if (!r->exp[i].taken && !r->exp[i].paged)
            store_sink_exp(k, &(store_region_exp){r->exp[i].seq, r->exp[i].expires, r->exp[i].seg,
                                                   r->exp[i].off, r->exp[i].size});
    for (i = r->redfirst; i < r->nred; i++)
        store_sink_redelivered(k, r->redeliv[i]);
}
