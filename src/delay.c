/*
 * delay.c - a queue's "not before" side structure: back-off holds and the
 * expiry index (delay.h).
 *
 * Both are binary min-heaps on a time, each with one timer armed for its
 * earliest item, so a message waiting for its time never blocks the ones
 * behind it: they stay in the ready rings and flow at full speed.
 *
 * Held (back-off): a requeued entry leaves the ready rings for `held`,
 * keyed by the wall-clock ms it may be delivered again; when that comes,
 * queue_ready_insert puts it back at its seq's place (near the head, as
 * any requeue).  It keeps its store record (a persistent message survives
 * a restart; recovery holds it again for its delay, counted from the
 * start) but not its body: a held persistent message is read back when
 * delivered, so a storm of failing messages does not pin RAM.
 *
 * Expiry index: the ready rings are in publish order and a timer watches
 * the head, which is enough while expiries grow along the queue (one
 * x-message-ttl).  An entry that expires before one ahead of it (a short
 * per-message expiration behind a long one, or a queue with priorities)
 * is noted here as (expires, seq, priority); when its time comes, the
 * entry is looked up by seq (a binary search: the rings are sorted) and,
 * if it is still there and expired, taken out and dead-lettered with
 * reason expired.  An item whose entry left meanwhile (delivered, purged)
 * finds nothing and is dropped; a requeued entry is noted again.
 *
 * A delayed exchange's hold keeps in the heap only what comes due before
 * its index's horizon; a stored entry due later goes to the on-disk time
 * buckets of delay_index.c (48 bytes of RAM a message become 32 bytes of
 * disk), read back into the heap a slice a turn (load_timer) as their
 * time comes near.  Transient messages to a delayed exchange stay in the
 * heap with their bodies.
 */
#include "delay.h"

#include <stdlib.h>

#include "delay_index.h"

#include "amqp/spec.h"
#include "amqp/wire.h"
#include "ev/loop.h"
#include "log.h"
#include "vhost.h"

typedef struct held_item {
    int64_t due;                /* wall ms it may be delivered again */
    qentry e;
} held_item;

typedef struct exp_item {
    int64_t expires;
    uint64_t seq;
    uint8_t priority;
} exp_item;

struct qdelay {
    queue *q;
    held_item *held;
    uint32_t nheld, capheld;
    uint64_t held_bytes;
    exp_item *exp;
    uint32_t nexp, capexp;
    int64_t exp_hi;             /* the latest expiry entered (INT64_MAX: one never expires) */
    ev_timer held_timer, exp_timer;
    /* a hold's entries past the horizon, on disk (delay_index.c) */
    delay_index *ix;
    bool ix_failed;             /* could not be opened: all in RAM */
    int64_t load_at;            /* load_timer's wall time, INT64_MAX not armed */
    ev_timer flush_timer, load_timer;
};

#define FLUSH_MS 100            /* buffered index entries are written within this */
#define LOAD_SLICE 16384        /* index entries read back a turn */

/* ------------------------------------------------------------ the heaps */

/* One sift-up / sift-down per heap type, ordered by BEFORE(a, b).  Four
 * children a node: half the levels of a binary heap, and a node's
 * children side by side, so a pop from a million touches fewer cache
 * lines (firing is pop after pop). */
#define HEAP_D 4
#define HELD_BEFORE(a, b) ((a).due < (b).due || ((a).due == (b).due && (a).e.seq < (b).e.seq))
#define EXP_BEFORE(a, b) ((a).expires < (b).expires || ((a).expires == (b).expires && (a).seq < (b).seq))
#define HEAP_FNS(T, BEFORE)                                                    \
    static void T##_up(T *v, uint32_t i)                                       \
    {                                                                          \
        T x = v[i];                                                            \
        while (i > 0) {                                                        \
            uint32_t p = (i - 1) / HEAP_D;                                     \
            if (!BEFORE(x, v[p]))                                              \
                break;                                                         \
            v[i] = v[p];                                                       \
            i = p;                                                             \
        }                                                                      \
        v[i] = x;                                                              \
    }                                                                          \
    static void T##_down(T *v, uint32_t n, uint32_t i)                         \
    {                                                                          \
        T x = v[i];                                                            \
        for (;;) {                                                             \
            uint64_t c = (uint64_t)HEAP_D * i + 1, k, end;                     \
            if (c >= n)                                                        \
                break;                                                         \
            end = c + HEAP_D < n ? c + HEAP_D : n;                             \
            for (k = c + 1; k < end; k++)                                      \
                if (BEFORE(v[k], v[c]))                                        \
                    c = k;                                                     \
            if (!BEFORE(v[c], x))                                              \
                break;                                                         \
            v[i] = v[c];                                                       \
            i = (uint32_t)c;                                                   \
        }                                                                      \
        v[i] = x;                                                              \
    }

HEAP_FNS(held_item, HELD_BEFORE)
HEAP_FNS(exp_item, EXP_BEFORE)

/* A heap drained after a burst gives its memory back (a quarter used:
 * halved; on failure it keeps it). */
static void shrink(void **v, uint32_t *cap, uint32_t n, size_t size)
{
    void *nv;
    if (*cap <= 1024 || n >= *cap / 4 || !(nv = realloc(*v, (size_t)(*cap / 2) * size)))
        return;
    *v = nv;
    *cap /= 2;
}

static int grow(void **v, uint32_t *cap, uint32_t n, size_t size)
{
    uint32_t c;
    void *nv;
    if (n < *cap)
        return 0;
    c = *cap ? *cap * 2 : 16;
    if (!(nv = realloc(*v, (size_t)c * size)))
        return -1;
    *v = nv;
    *cap = c;
    return 0;
}

/* --------------------------------------------------------------- timers */

static void arm(queue *q, ev_timer *t, int64_t when)
{
    int64_t wait = when - vhost_now_ms(q->vh);
    ev_timer_start(q->vh->loop, t, wait > 0 ? (uint64_t)wait : 0);
}

static void arm_load(queue *q, struct qdelay *d);

static void on_held(ev_loop *loop, ev_timer *t)
{
    struct qdelay *d = (struct qdelay *)((char *)t - offsetof(struct qdelay, held_timer));
    queue *q = d->q;
    int64_t now = vhost_now_ms(q->vh);
    (void)loop;

    q->refs++;
    while (!q->deleted && d->nheld && d->held[0].due <= now) {
        qentry e = d->held[0].e;
        d->held[0] = d->held[--d->nheld];
        if (d->nheld)
            held_item_down(d->held, d->nheld, 0);
        d->held_bytes -= e.size;
        if (q->hold) {
            /* a delayed exchange's hold: handed out as a delivery is */
            q->unacked++;
            q->unacked_bytes += e.size;
            q->rare->fire(q->rare->fire_ctx, q, &e);
        } else {
            queue_ready_insert(q, &e);
        }
    }
    if (!q->deleted && d->nheld)
        arm(q, &d->held_timer, d->held[0].due);
    shrink((void **)&d->held, &d->capheld, d->nheld, sizeof *d->held);
    if (!q->deleted && d->ix)
        arm_load(q, d); /* fewer in RAM: the next bucket may come in earlier */
    queue_unref(q);
}

static void on_exp(ev_loop *loop, ev_timer *t)
{
    struct qdelay *d = (struct qdelay *)((char *)t - offsetof(struct qdelay, exp_timer));
    queue *q = d->q;
    int64_t now = vhost_now_ms(q->vh);
    (void)loop;

    q->refs++;
    /* strictly past, as the head's expiry (queue.c expire_head) */
    while (!q->deleted && d->nexp && d->exp[0].expires < now) {
        exp_item it = d->exp[0];
        qentry e;
        d->exp[0] = d->exp[--d->nexp];
        if (d->nexp)
            exp_item_down(d->exp, d->nexp, 0);
        if (queue_ready_remove(q, it.priority, it.seq, &e)) {
            if (e.expires && e.expires < now)
                queue_deadletter(q, &e, "expired");
            else
                queue_ready_insert(q, &e); /* not this one's time: cannot be, but lose nothing */
        }
    }
    if (!q->deleted && d->nexp)
        arm(q, &d->exp_timer, d->exp[0].expires + 1);
    shrink((void **)&d->exp, &d->capexp, d->nexp, sizeof *d->exp);
    queue_unref(q);
}

static void on_flush(ev_loop *loop, ev_timer *t);
static void on_load(ev_loop *loop, ev_timer *t);

static struct qdelay *side_of(queue *q)
{
    struct qdelay *d = q->delay;
    if (d)
        return d;
    if (!(d = calloc(1, sizeof *d)))
        return NULL;
    d->q = q;
    d->load_at = INT64_MAX;
    ev_timer_init(&d->held_timer, on_held);
    ev_timer_init(&d->exp_timer, on_exp);
    ev_timer_init(&d->flush_timer, on_flush);
    ev_timer_init(&d->load_timer, on_load);
    q->delay = d;
    return d;
}

/* ------------------------------------------------- the index on disk */

/* e into the heap, due at due; -1 out of memory. */
static int ram_hold(queue *q, struct qdelay *d, const qentry *e, int64_t due)
{
    held_item *it;
    if (grow((void **)&d->held, &d->capheld, d->nheld, sizeof *d->held) < 0)
        return -1;
    it = &d->held[d->nheld];
    it->due = due;
    it->e = *e;
    held_item_up(d->held, d->nheld++);
    d->held_bytes += e->size;
    if (d->held[0].due == due || !ev_timer_active(&d->held_timer))
        arm(q, &d->held_timer, d->held[0].due);
    return 0;
}

/* An entry the index gives to RAM (read back, or not written). */
static void from_index(void *arg, int64_t due, qentry *e)
{
    queue *q = arg;
    if (ram_hold(q, q->delay, e, due) < 0)
        log_error("queue '%s': out of memory taking a delayed message back from disk; it stays in the store and is "
                  "held again at the next start",
                  q->name);
}

static void arm_load(queue *q, struct qdelay *d)
{
    int64_t at = delay_index_next_load(d->ix, d->nheld);
    if (at == INT64_MAX) {
        ev_timer_stop(q->vh->loop, &d->load_timer);
        d->load_at = INT64_MAX;
    } else if (at == INT64_MIN) {
        ev_timer_start(q->vh->loop, &d->load_timer, 0); /* the rest of a bucket, next turn */
        d->load_at = INT64_MIN;
    } else if (at < d->load_at || !ev_timer_active(&d->load_timer)) {
        arm(q, &d->load_timer, at);
        d->load_at = at;
    }
}

static void on_flush(ev_loop *loop, ev_timer *t)
{
    struct qdelay *d = (struct qdelay *)((char *)t - offsetof(struct qdelay, flush_timer));
    (void)loop;
    if (d->ix)
        delay_index_flush(d->ix, from_index, d->q);
}

static void on_load(ev_loop *loop, ev_timer *t)
{
    struct qdelay *d = (struct qdelay *)((char *)t - offsetof(struct qdelay, load_timer));
    queue *q = d->q;
    int64_t at;
    (void)loop;

    d->load_at = INT64_MAX;
    if (q->deleted || !d->ix)
        return;
    at = delay_index_next_load(d->ix, d->nheld);
    if (at != INT64_MAX && at <= vhost_now_ms(q->vh))
        delay_index_load(d->ix, LOAD_SLICE, from_index, q);
    arm_load(q, d);
}

/* A hold's stored entry due past the horizon: to the index (true), or
 * false (the caller keeps it in the heap). */
static bool to_index(queue *q, struct qdelay *d, const qentry *e, int64_t due)
{
    int64_t now;
    if (!q->hold || e->m || !(e->flags & QE_STORED) || !q->id || !q->vh->data_dir || d->ix_failed)
        return false;
    now = vhost_now_ms(q->vh);
    if (!d->ix && !(d->ix = delay_index_open(q->vh->data_dir, q->id, now))) {
        d->ix_failed = true;
        return false;
    }
    delay_index_advance(d->ix, now);
    if (due < delay_index_loaded(d->ix) || delay_index_add(d->ix, due, e, from_index, q) < 0)
        return false;
    if (!ev_timer_active(&d->flush_timer))
        ev_timer_start(q->vh->loop, &d->flush_timer, FLUSH_MS);
    arm_load(q, d);
    return true;
}

/* -------------------------------------------------------------- back-off */

int64_t delay_backoff_ms(const queue_backoff *s, uint32_t n, uint64_t rnd)
{
    double ms;
    uint32_t i;
    if (s->initial <= 0 || n == 0)
        return 0;
    ms = (double)s->initial;
    for (i = 1; i < n && (s->max < 0 || ms < (double)s->max) && ms < 1e15; i++)
        ms *= s->multiplier;
    if (s->max >= 0 && ms > (double)s->max)
        ms = (double)s->max;
    if (ms > 1e15)
        ms = 1e15;
    if (s->jitter > 0)
        ms -= ms * s->jitter * ((double)(rnd >> 11) / (double)(1ull << 53));
    return (int64_t)ms;
}

static uint64_t next_random(void)
{
    static uint64_t x;
    if (!x)
        x = ev_clock_ns() | 1;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
}

bool delay_hold(queue *q, qentry *e)
{
    int64_t ms = q->set.backoff && q->rare ? delay_backoff_ms(&q->rare->backoff, e->returns, next_random()) : 0;
    if (ms <= 0)
        return false;
    if (delay_hold_until(q, e, vhost_now_ms(q->vh) + ms) < 0) {
        log_error("queue '%s': out of memory holding a requeued message back; it is requeued at once", q->name);
        return false;
    }
    return true;
}

int delay_hold_until(queue *q, qentry *e, int64_t due)
{
    struct qdelay *d;

    if (!(d = side_of(q)))
        return -1;
    if (e->m && (e->flags & QE_STORED) && q->vh->st) {
        msg_unref(e->m); /* the store has it: read back when its time comes */
        e->m = NULL;
    }
    if (to_index(q, d, e, due))
        return 0;
    return ram_hold(q, d, e, due);
}

void delay_refire(queue *q, qentry *e, int64_t due)
{
    q->unacked--;
    q->unacked_bytes -= e->size;
    if (q->deleted || delay_hold_until(q, e, due) < 0) {
        q->unacked++;
        q->unacked_bytes += e->size;
        log_error("queue '%s': a message to fire again is dropped (out of memory, or the queue is gone)", q->name);
        queue_settle(q, e);
    }
}

/* binary_to_integer: an optional sign and digits, nothing else. */
static bool parse_int(amqp_str s, int64_t *out)
{
    uint32_t i = 0;
    bool neg = false;
    int64_t v = 0;
    if (s.len && (s.ptr[0] == '-' || s.ptr[0] == '+'))
        neg = s.ptr[i++] == '-';
    if (i == s.len)
        return false;
    for (; i < s.len; i++) {
        if (s.ptr[i] < '0' || s.ptr[i] > '9' || v > INT64_MAX / 10 - 10)
            return false;
        v = v * 10 + (s.ptr[i] - '0');
    }
    *out = neg ? -v : v;
    return true;
}

int64_t delay_header_ms(const uint8_t *props, uint32_t props_len)
{
    amqp_basic_properties p;
    amqp_value v;
    int64_t ms = 0;
    double f;

    if (props_len < 2 || !(amqp_get16(props) & AMQP_BASIC_HEADERS_FLAG) ||
        amqp_basic_properties_decode(props, props_len, &p) < 0 || !amqp_table_get(p.headers, "x-delay", &v))
        return 0;
    switch (v.type) {
    case 'S':
        if (!parse_int(v.v.s, &ms))
            return 0;
        break;
    case 'd':
    case 'f':
    case 'D':
        f = v.type == 'd' ? v.v.d : v.type == 'f' ? (double)v.v.f : (double)(int32_t)v.v.dec.value;
        if (v.type == 'D')
            for (int i = 0; i < v.v.dec.scale; i++)
                f /= 10;
        if (!(f > 0 && f < 9e18))
            return 0;
        ms = (int64_t)f;
        break;
    default:
        if (v.type == 'T' || !amqp_value_int(&v, &ms))
            return 0;
    }
    return ms > 0 && ms <= DELAY_MAX_MS ? ms : 0;
}

typedef struct browse_walk {
    uint32_t left;
    int (*fn)(void *arg, const qentry *e, int64_t due);
    void *arg;
} browse_walk;

static int browse_next(void *arg, const qentry *e, int64_t due)
{
    browse_walk *w = arg;
    int rc = w->fn(w->arg, e, due);
    if (!rc && --w->left == 0)
        rc = 1; /* enough: stop (not an error) */
    return rc;
}

static int browse_index(struct qdelay *d, uint32_t count, int (*fn)(void *arg, const qentry *e, int64_t due),
                        void *arg)
{
    browse_walk w = {.left = count, .fn = fn, .arg = arg};
    int rc = delay_index_each(d->ix, browse_next, &w);
    if (rc == 1 && w.left == 0)
        return 0;
    return rc;
}

int delay_each_held(const queue *q, uint32_t count, int (*fn)(void *arg, const qentry *e, int64_t due), void *arg)
{
    struct qdelay *d = q->delay;
    uint32_t *cand, n = 0, got = 0;
    int rc = 0;

    if (!d || !count)
        return 0;
    if (d->ix)
        delay_index_load_all(d->ix, from_index, (queue *)q); /* a bucket half read: the rest is due first */
    if (!d->nheld)
        return d->ix ? browse_index(d, count, fn, arg) : 0;
    /* the k earliest of the heap: candidates (heap indices), seeded with
     * the root; each one taken adds its children */
    if (!(cand = malloc(((size_t)count * HEAP_D + 1) * sizeof *cand)))
        return -1;
    cand[n++] = 0;
    while (n && got < count && !rc) {
        uint32_t best = 0, i, top, c;
        for (i = 1; i < n; i++) /* count is at most a thousand: a scan will do */
            if (HELD_BEFORE(d->held[cand[i]], d->held[cand[best]]))
                best = i;
        top = cand[best];
        cand[best] = cand[--n];
        rc = fn(arg, &d->held[top].e, d->held[top].due);
        got++;
        for (c = HEAP_D * top + 1; c <= HEAP_D * top + HEAP_D; c++)
            if (c < d->nheld)
                cand[n++] = c;
    }
    free(cand);
    if (!rc && got < count && d->ix)
        rc = browse_index(d, count - got, fn, arg); /* all due after those in RAM */
    return rc;
}

uint32_t delay_held(const queue *q)
{
    const struct qdelay *d = q->delay;
    return d ? d->nheld + (d->ix ? (uint32_t)delay_index_count(d->ix) : 0) : 0;
}

uint64_t delay_held_bytes(const queue *q)
{
    const struct qdelay *d = q->delay;
    return d ? d->held_bytes + (d->ix ? delay_index_bytes(d->ix) : 0) : 0;
}

/* ---------------------------------------------------------- expiry index */

void delay_note_expiry(queue *q, const qentry *e, bool anywhere)
{
    struct qdelay *d = q->delay;
    int64_t hi = d ? d->exp_hi : 0;
    if (!e->expires)
        return;
    if (!anywhere && q->nlevels == 1 && (e->expires >= hi || q->nready <= 1)) {
        /* as late as everything ahead of it, or nothing is: the head
         * timer finds it (a requeued one is noted anywhere) */
        if (d)
            d->exp_hi = e->expires;
        else if ((d = side_of(q)))
            d->exp_hi = e->expires;
        return;
    }
    if (!(d = side_of(q)) || grow((void **)&d->exp, &d->capexp, d->nexp, sizeof *d->exp) < 0)
        return; /* the head timer still takes it, late */
    d->exp[d->nexp] = (exp_item){.expires = e->expires, .seq = e->seq, .priority = e->priority};
    exp_item_up(d->exp, d->nexp++);
    if (d->exp[0].expires == e->expires || !ev_timer_active(&d->exp_timer))
        arm(q, &d->exp_timer, d->exp[0].expires + 1);
}

void delay_note_forever(queue *q)
{
    struct qdelay *d = side_of(q);
    if (d)
        d->exp_hi = INT64_MAX;
}

/* ------------------------------------------------------------- lifecycle */

typedef struct purge_walk {
    queue *q;
    void (*drop)(queue *q, qentry *e);
} purge_walk;

static void purge_one(void *arg, qentry *e)
{
    purge_walk *w = arg;
    w->drop(w->q, e);
}

uint32_t delay_purge(queue *q, void (*drop)(queue *q, qentry *e))
{
    struct qdelay *d = q->delay;
    uint32_t n, i;
    if (!d)
        return 0;
    n = 0;
    if (d->ix) {
        /* on disk: dropped (acked in the store), their files deleted; at
         * shutdown (no store) there is nothing to ack, and the files are
         * left for the next start to wipe */
        if (q->vh->st)
            n += (uint32_t)delay_index_drop_all(d->ix, purge_one, &(purge_walk){q, drop});
        else
            n += (uint32_t)delay_index_count(d->ix);
        delay_index_close(d->ix, q->vh->st != NULL);
        d->ix = NULL;
        ev_timer_stop(q->vh->loop, &d->flush_timer);
        ev_timer_stop(q->vh->loop, &d->load_timer);
        d->load_at = INT64_MAX;
    }
    n += d->nheld;
    for (i = 0; i < d->nheld; i++)
        drop(q, &d->held[i].e);
    d->nheld = 0;
    d->held_bytes = 0;
    d->nexp = 0;
    d->exp_hi = 0;
    free(d->held); /* its memory back at once */
    free(d->exp);
    d->held = NULL;
    d->exp = NULL;
    d->capheld = d->capexp = 0;
    ev_timer_stop(q->vh->loop, &d->held_timer);
    ev_timer_stop(q->vh->loop, &d->exp_timer);
    return n;
}

void delay_free(queue *q)
{
    struct qdelay *d = q->delay;
    uint32_t i;
    if (!d)
        return;
    ev_timer_stop(q->vh->loop, &d->held_timer);
    ev_timer_stop(q->vh->loop, &d->exp_timer);
    ev_timer_stop(q->vh->loop, &d->flush_timer);
    ev_timer_stop(q->vh->loop, &d->load_timer);
    delay_index_close(d->ix, q->deleted); /* at shutdown its files stay: wiped at the next start */
    for (i = 0; i < d->nheld; i++)
        if (d->held[i].e.m)
            msg_unref(d->held[i].e.m);
    free(d->held);
    free(d->exp);
    free(d);
    q->delay = NULL;
}
