/*
 * stats.c - the read-only statistics API (stats.h): snapshots of queues,
 * exchanges, connections, channels and consumers, totals, and their rates.
 *
 * Counters cost one increment where the event happens (queue.c:
 * queue_publish, queue_take, the unacked bytes; channel.c: publish, ack,
 * basic.get; conn.c: bytes and reads/writes).  Everything else is here and
 * runs off the hot path:
 *
 * - Rates.  Every STATS_INTERVAL_MS (5 s) the tick walks the vhost's queues
 *   and exchanges once: each keeps its counters as of the last sample and
 *   the rates over the interval that ended there (stats_qsample, 72 bytes
 *   a queue), and the vhost keeps the totals of the last 10 minutes
 *   (STATS_HISTORY samples) for the dashboard's charts.  The walk costs
 *   about 10 ns a queue: 1 ms every 5 s with 100,000 queues.  Counters of
 *   deleted queues are folded into the vhost's (stats_queue_gone), so the
 *   totals never go back.
 *
 * - The oldest ready message.  Each priority level of a queue is ordered
 *   by publish seq, so the oldest is at a head.  A head entry whose body is
 *   in memory has its publish time (msg.published, exact); one whose body
 *   is only on disk (deep in a backlog, or recovered) has none, and a
 *   timestamp in every 40-byte entry is 8 more bytes a message.  Instead the
 *   vhost keeps a seq clock: a fixed table of (seq, wall ms) marks, one per
 *   second with publishes (and one per second of publish time during
 *   recovery); when the table is full, the mark whose loss widens a gap
 *   least for its age goes, so the spacing grows with the age.  Such a
 *   message's age is then the age of the last mark at or before its seq:
 *   never younger than the truth, and too old by at most the spacing of
 *   the marks around it: 1 s for the youngest, about a 16th of the age
 *   further back (test_stats.c checks the bound over 10,000 marks).
 *
 * - The oldest unacked delivery.  Each unacked slot of a channel records
 *   when it went out (loop ms, 32 bits: ages up to 49 days), and the ring
 *   is in delivery order, so a channel's oldest delivery from a queue is
 *   the first live slot of that queue (channel_oldest_unacked).  A query
 *   asks the channels of the queue's consumers (O(consumers), each walk
 *   stopping at the first slot of the queue); only when the queue has
 *   unacked messages its consumers do not account for (basic.get, a
 *   cancelled consumer's) are all channels asked.
 *
 * Connections and channels are the protocol layer's: what is asked of
 * them goes through the stats_session_ops it registers on the vhost
 * (proto/stats_conn.c, which also has their snapshots), so this file
 * includes nothing of src/proto/.
 */
#include "stats.h"

#include "delay.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "consumer.h"
#include "exchange.h"
#include "queue.h"
#include "vhost.h"

void stats_copy_name(char *dst, size_t cap, const char *src, size_t len)
{
    if (len >= cap)
        len = cap - 1;
    memcpy(dst, src, len);
    dst[len] = 0;
}

/* ------------------------------------------------------------- seq clock */

#define STATS_SEQCLOCK_EXACT_MS 10000  /* about the age below which marks stay 1 s apart */

void stats_seq_mark(vhost *vh, uint64_t seq, int64_t ms)
{
    stats_seqclock *c = &vh->stats.clock;

    if (c->n) {
        struct stats_seqmark *last = &c->s[c->n - 1];
        if (seq <= last->seq)
            return;
        if (ms < last->ms)
            ms = last->ms;
        if (ms / 1000 == last->ms / 1000)
            return; /* one mark a second is the resolution */
    }
    if (c->n == STATS_SEQCLOCK) {
        /* Full: drop the mark whose loss widens a gap least compared
         * with the age there, so the spacing grows with the age. */
        uint32_t i, drop = 1;
        double best = -1;
        for (i = 1; i + 1 < c->n; i++) {
            double gap = (double)(c->s[i + 1].ms - c->s[i - 1].ms);
            double cost = gap / (double)(ms - c->s[i + 1].ms + STATS_SEQCLOCK_EXACT_MS);
            if (best < 0 || cost < best) {
                best = cost;
                drop = i;
            }
        }
        memmove(c->s + drop, c->s + drop + 1, (c->n - drop - 1) * sizeof *c->s);
        c->n--;
    }
    c->s[c->n++] = (struct stats_seqmark){seq, ms};
}

int64_t stats_seq_time(const vhost *vh, uint64_t seq)
{
    const stats_seqclock *c = &vh->stats.clock;
    uint32_t lo = 0, hi = c->n;

    if (!c->n)
        return -1;
    /* the last mark with s.seq <= seq */
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (c->s[mid].seq <= seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return c->s[lo ? lo - 1 : 0].ms;
}

/* ------------------------------------------------------------------ queue */

/* The counters as RabbitMQ names them: deliver and get without no-ack. */
static void msgstats_of(const stats_qcounters *k, stats_msgstats *m)
{
    m->publish = k->publish;
    m->deliver_get = k->deliver_get;
    m->deliver_no_ack = k->deliver_no_ack;
    m->get_no_ack = k->get_no_ack;
    m->get = k->get - k->get_no_ack;
    m->deliver = k->deliver_get - k->get - k->deliver_no_ack;
    m->get_empty = k->get_empty;
    m->ack = k->ack;
    m->redeliver = k->redeliver;
}

static uint64_t rate_counter(const stats_msgstats *m, int which)
{
    switch (which) {
    case STATS_PUBLISH: return m->publish;
    case STATS_DELIVER: return m->deliver;
    case STATS_DELIVER_NO_ACK: return m->deliver_no_ack;
    case STATS_GET: return m->get;
    case STATS_GET_NO_ACK: return m->get_no_ack;
    case STATS_DELIVER_GET: return m->deliver_get;
    case STATS_ACK: return m->ack;
    default: return m->redeliver;
    }
}

static void rates_of(const float *r, stats_rates *out)
{
    out->publish = r[STATS_PUBLISH];
    out->deliver = r[STATS_DELIVER];
    out->deliver_no_ack = r[STATS_DELIVER_NO_ACK];
    out->get = r[STATS_GET];
    out->get_no_ack = r[STATS_GET_NO_ACK];
    out->deliver_get = r[STATS_DELIVER_GET];
    out->ack = r[STATS_ACK];
    out->redeliver = r[STATS_REDELIVER];
}

static uint64_t queue_memory(const queue *q)
{
    uint64_t n = sizeof *q + q->namelen + 1 + q->argslen + q->capcons * sizeof *q->cons;
    uint16_t i;
    for (i = 0; i < q->nlevels; i++)
        n += sizeof q->levels[i] + q->levels[i].cap * sizeof(qentry);
    return n;
}

static int64_t oldest_ready(queue *q, int64_t now)
{
    int64_t oldest = -1;
    uint16_t i;

    for (i = 0; i < q->nlevels; i++) {
        qentry *e;
        int64_t t;
        if (!q->levels[i].len)
            continue;
        e = qdeque_at(&q->levels[i], 0);
        t = e->m ? e->m->published : stats_seq_time(q->vh, e->seq);
        if (t < 0)
            continue;
        if (now - t > oldest)
            oldest = now - t > 0 ? now - t : 0;
    }
    return oldest;
}

typedef struct oldest_walk {
    const stats_session_ops *ops;
    const queue *q;
    uint32_t now;
    int64_t oldest;
} oldest_walk;

static void oldest_on(void *arg, void *owner)
{
    oldest_walk *w = arg;
    uint32_t at;
    if (w->ops->oldest_unacked(owner, w->q, &at) && (int64_t)(uint32_t)(w->now - at) > w->oldest)
        w->oldest = (uint32_t)(w->now - at);
}

static int64_t oldest_unacked(queue *q)
{
    const stats_vhost *sv = &q->vh->stats;
    oldest_walk w = {sv->sessions, q, (uint32_t)ev_now(q->vh->loop), -1};
    uint64_t held = 0;
    uint32_t i;

    if (!q->unacked || !w.ops)
        return -1;
    for (i = 0; i < q->ncons; i++) {
        consumer *c = q->cons[i];
        held += c->unacked;
        if (c->unacked)
            oldest_on(&w, c->owner);
    }
    if (held < q->unacked) {
        /* some are held by basic.get or by cancelled consumers: ask
         * every owner (rare; O(channels)) */
        w.ops->each_owner(sv->sessions_ctx, oldest_on, &w);
    }
    return w.oldest;
}

static void fill_queue(queue *q, stats_queue *s)
{
    vhost *vh = q->vh;

    /* every field is set below: no memset of the 1.9 KB snapshot, which
     * was most of the cost of a walk over 100,000 queues (a field added
     * to stats_queue must be set here) */
    s->owner[0] = s->single_active_consumer_tag[0] = s->exclusive_consumer_tag[0] = 0;
    stats_copy_name(s->name, sizeof s->name, q->name, q->namelen);
    stats_copy_name(s->vhost, sizeof s->vhost, vh->name, strlen(vh->name));
    s->durable = q->durable;
    s->exclusive = q->exclusive;
    s->auto_delete = q->auto_delete;
    s->arguments = (amqp_table){q->args, q->argslen};
    s->ready = q->nready;
    s->delayed = delay_held(q);
    s->unacked = q->unacked;
    s->ready_bytes = q->ready_bytes;
    s->unacked_bytes = q->unacked_bytes;
    s->consumers = q->ncons;
    s->consumer_timeouts = q->rare ? q->rare->consumer_timeouts : 0;
    s->late_acks = q->rare ? q->rare->late_acks : 0;
    msgstats_of(&q->ctr, &s->counters);
    rates_of(q->smp.rate, &s->rates);
    s->memory = queue_memory(q);
    if (q->ncons && q->set.single_active)
        stats_copy_name(s->single_active_consumer_tag, sizeof s->single_active_consumer_tag, q->cons[0]->tag,
                  q->cons[0]->taglen);
    if (q->ncons == 1 && q->cons[0]->exclusive)
        stats_copy_name(s->exclusive_consumer_tag, sizeof s->exclusive_consumer_tag, q->cons[0]->tag, q->cons[0]->taglen);
    s->oldest_ready_ms = oldest_ready(q, vhost_now_ms(vh));
    s->oldest_unacked_ms = oldest_unacked(q);
    s->idle_since = q->smp.idle_since;
    if (q->owner && q->owner->name)
        stats_copy_name(s->owner, sizeof s->owner, q->owner->name, strlen(q->owner->name));
}

int stats_queue_get(vhost *vh, amqp_str name, stats_queue *out)
{
    queue *q = vhost_queue(vh, name);
    if (!q)
        return -1;
    fill_queue(q, out);
    return 0;
}

int stats_each_queue(vhost *vh, int (*fn)(void *ctx, const stats_queue *s), void *ctx)
{
    stats_queue *s = malloc(sizeof *s);
    size_t i = 0;
    void *v;
    int rc = 0;

    if (!s)
        return -1;
    while (!rc && map_next(&vh->queues, &i, NULL, NULL, &v)) {
        fill_queue(v, s);
        rc = fn(ctx, s);
    }
    free(s);
    return rc;
}

int stats_each_queue_name(vhost *vh, int (*fn)(void *ctx, const char *name, size_t len), void *ctx)
{
    size_t i = 0;
    void *v;
    int rc = 0;

    while (!rc && map_next(&vh->queues, &i, NULL, NULL, &v))
        rc = fn(ctx, ((queue *)v)->name, ((queue *)v)->namelen);
    return rc;
}

void stats_queue_gone(queue *q)
{
    stats_qcounters *g = &q->vh->stats.gone;
    g->publish += q->ctr.publish;
    g->deliver_get += q->ctr.deliver_get;
    g->get += q->ctr.get;
    g->deliver_no_ack += q->ctr.deliver_no_ack;
    g->get_no_ack += q->ctr.get_no_ack;
    g->get_empty += q->ctr.get_empty;
    g->ack += q->ctr.ack;
    g->redeliver += q->ctr.redeliver;
    memset(&q->ctr, 0, sizeof q->ctr);
}

/* --------------------------------------------------------------- exchange */

static void fill_exchange(exchange *x, stats_exchange *s)
{
    /* the default exchange's type is direct, as RabbitMQ lists it */
    const char *type = x->type->name[0] ? x->type->name : "direct";

    memset(s, 0, sizeof *s);
    stats_copy_name(s->name, sizeof s->name, x->name, x->namelen);
    stats_copy_name(s->vhost, sizeof s->vhost, x->vh->name, strlen(x->vh->name));
    stats_copy_name(s->type, sizeof s->type, type, strlen(type));
    s->durable = x->durable;
    s->auto_delete = x->auto_delete;
    s->internal = x->internal;
    s->arguments = (amqp_table){x->args, x->argslen};
    s->publish_in = x->ctr.publish_in;
    s->publish_out = x->ctr.publish_out;
    s->rate_in = x->ctr.rate_in;
    s->rate_out = x->ctr.rate_out;
    s->bindings = x->nbindings;
    s->delayed = exchange_delayed_count(x);
}

int stats_exchange_get(vhost *vh, amqp_str name, stats_exchange *out)
{
    exchange *x = vhost_exchange(vh, name);
    if (!x)
        return -1;
    fill_exchange(x, out);
    return 0;
}

int stats_each_exchange(vhost *vh, int (*fn)(void *ctx, const stats_exchange *s), void *ctx)
{
    stats_exchange s;
    size_t i = 0;
    void *v;
    int rc = 0;

    while (!rc && map_next(&vh->exchanges, &i, NULL, NULL, &v)) {
        fill_exchange(v, &s);
        rc = fn(ctx, &s);
    }
    return rc;
}

/* --------------------------------------------------------------- bindings */

static int binding_out(binding *b, int (*fn)(void *ctx, const stats_binding *s), void *ctx)
{
    stats_binding s = {
        .source = {b->src->name, b->src->namelen},
        .destination = b->q ? (amqp_str){b->q->name, b->q->namelen} : (amqp_str){b->dst->name, b->dst->namelen},
        .key = {b->key, b->keylen},
        .to_queue = b->q != NULL,
        .arguments = {b->args, b->argslen},
    };
    return fn(ctx, &s);
}

static int default_binding(queue *q, int (*fn)(void *ctx, const stats_binding *s), void *ctx)
{
    stats_binding s = {
        .source = {"", 0},
        .destination = {q->name, q->namelen},
        .key = {q->name, q->namelen},
        .to_queue = true,
    };
    return fn(ctx, &s);
}

int stats_each_binding(vhost *vh, const amqp_str *source, const amqp_str *destination, bool to_queue,
                       int (*fn)(void *ctx, const stats_binding *s), void *ctx)
{
    size_t i = 0;
    void *v;
    binding *b;
    int rc = 0;

    if (destination) {
        queue *q = to_queue ? vhost_queue(vh, *destination) : NULL;
        exchange *x = to_queue ? NULL : vhost_exchange(vh, *destination);
        if (!q && !x)
            return 0;
        if (q && (!source || !source->len))
            rc = default_binding(q, fn, ctx);
        for (b = q ? q->bindings : x->dst_bindings; b && !rc; b = b->dst_next)
            if (b->src->namelen && (!source || amqp_str_eq(*source, (amqp_str){b->src->name, b->src->namelen})))
                rc = binding_out(b, fn, ctx);
        return rc;
    }
    if (!source || !source->len) {
        while (!rc && map_next(&vh->queues, &i, NULL, NULL, &v))
            rc = default_binding(v, fn, ctx);
        if (source)
            return rc;
    }
    if (source) {
        exchange *x = vhost_exchange(vh, *source);
        for (b = x ? x->bindings : NULL; b && !rc; b = b->src_next)
            rc = binding_out(b, fn, ctx);
        return rc;
    }
    i = 0;
    while (!rc && map_next(&vh->exchanges, &i, NULL, NULL, &v)) {
        exchange *x = v;
        if (!x->namelen)
            continue;
        for (b = x->bindings; b && !rc; b = b->src_next)
            rc = binding_out(b, fn, ctx);
    }
    return rc;
}

/* ----------------------------------------------------------------- totals */

static void add_counters(stats_qcounters *t, const stats_qcounters *k)
{
    t->publish += k->publish;
    t->deliver_get += k->deliver_get;
    t->get += k->get;
    t->deliver_no_ack += k->deliver_no_ack;
    t->get_no_ack += k->get_no_ack;
    t->get_empty += k->get_empty;
    t->ack += k->ack;
    t->redeliver += k->redeliver;
}

/* One vhost's queues, exchanges and counters added into out; its rates
 * (from its own last two samples) into r. */
static void vhost_totals_add(vhost *vh, stats_totals *out, stats_qcounters *sum, float *r)
{
    const stats_vhost *sv = &vh->stats;
    size_t i = 0;
    void *v;

    out->queues += (uint32_t)map_count(&vh->queues);
    out->exchanges += (uint32_t)map_count(&vh->exchanges);
    add_counters(sum, &sv->gone);
    while (map_next(&vh->queues, &i, NULL, NULL, &v)) {
        queue *q = v;
        out->ready += q->nready;
        out->unacked += q->unacked;
        out->ready_bytes += q->ready_bytes;
        out->unacked_bytes += q->unacked_bytes;
        add_counters(sum, &q->ctr);
    }
    out->received += sv->received;
    out->received_confirm += sv->received_confirm;
    out->queues_declared += sv->queues_declared;
    out->queues_created += sv->queues_created;
    out->queues_deleted += sv->queues_deleted;
    out->routed += sv->routed;
    out->unroutable += sv->unroutable;
    out->returned += sv->returned;
    out->confirmed += sv->confirmed;
    if (sv->hist_len >= 2) {
        const stats_sample *a = &sv->hist[(sv->hist_head + sv->hist_len - 2) % STATS_HISTORY];
        const stats_sample *z = &sv->hist[(sv->hist_head + sv->hist_len - 1) % STATS_HISTORY];
        double dt = (double)(z->at - a->at) / 1000.0;
        int k;
        for (k = 0; k < STATS_NRATES && dt > 0; k++)
            r[k] += (float)((double)(rate_counter(&z->m, k) - rate_counter(&a->m, k)) / dt);
    }
}

/* The whole broker's: every vhost's summed (the sessions are the
 * broker's, counted once). */
void stats_totals_get(broker *b, stats_totals *out)
{
    stats_totals_some(b, NULL, NULL, out);
}

/* Only the vhosts `want` takes (NULL: every one); the sessions' counts
 * (connections, channels, consumers) are still the whole broker's. */
void stats_totals_some(broker *b, bool (*want)(void *ctx, const char *vhost_name), void *ctx, stats_totals *out)
{
    const stats_vhost *sv = &b->vh->stats;
    stats_qcounters sum;
    float r[STATS_NRATES] = {0};
    size_t i = 0;
    void *v;

    memset(out, 0, sizeof *out);
    memset(&sum, 0, sizeof sum);
    if (sv->sessions)
        sv->sessions->count(sv->sessions_ctx, out);
    while (map_next(&b->vhosts, &i, NULL, NULL, &v))
        if (!want || want(ctx, ((vhost *)v)->name))
            vhost_totals_add(v, out, &sum, r);
    msgstats_of(&sum, &out->counters);
    rates_of(r, &out->rates);
    out->memory_alarm = (b->alarms.on & ALARM_MEMORY) != 0;
    out->disk_alarm = (b->alarms.on & ALARM_DISK) != 0;
}

int stats_connection_close(broker *b, const char *name, const char *reason)
{
    const stats_vhost *sv = &b->vh->stats;
    char text[256];

    if (!sv->sessions || !sv->sessions->close)
        return -1;
    snprintf(text, sizeof text, "CONNECTION_FORCED - %s", reason);
    return sv->sessions->close(sv->sessions_ctx, name, text);
}

size_t stats_history(vhost *vh, stats_sample *out, size_t cap)
{
    const stats_vhost *sv = &vh->stats;
    size_t i, n = sv->hist_len < cap ? sv->hist_len : cap;
    /* the newest n */
    for (i = 0; i < n; i++)
        out[i] = sv->hist[(sv->hist_head + sv->hist_len - n + i) % STATS_HISTORY];
    return n;
}

/* --------------------------------------------------------------- sampling */

void stats_sample_at(vhost *vh, int64_t now)
{
    stats_vhost *sv = &vh->stats;
    stats_sample t = {.at = now};
    stats_qcounters sum = sv->gone;
    int64_t prev = sv->hist_len ? sv->hist[(sv->hist_head + sv->hist_len - 1) % STATS_HISTORY].at : 0;
    float dt = prev && now > prev ? (float)(now - prev) / 1000.0f : 0;
    size_t i = 0;
    void *v;
    int k;

    while (map_next(&vh->queues, &i, NULL, NULL, &v)) {
        queue *q = v;
        stats_msgstats m;
        bool active = false;
        msgstats_of(&q->ctr, &m);
        for (k = 0; k < STATS_NRATES; k++) {
            uint32_t cur = (uint32_t)rate_counter(&m, k), d = cur - q->smp.last[k];
            q->smp.rate[k] = dt > 0 ? (float)d / dt : 0;
            active |= d != 0;
            q->smp.last[k] = cur;
        }
        if (active || !q->smp.idle_since)
            q->smp.idle_since = now;
        t.ready += q->nready;
        t.unacked += q->unacked;
        add_counters(&sum, &q->ctr);
    }
    i = 0;
    while (map_next(&vh->exchanges, &i, NULL, NULL, &v)) {
        stats_xcounters *x = &((exchange *)v)->ctr;
        x->rate_in = dt > 0 ? (float)(x->publish_in - x->last_in) / dt : 0;
        x->rate_out = dt > 0 ? (float)(x->publish_out - x->last_out) / dt : 0;
        x->last_in = x->publish_in;
        x->last_out = x->publish_out;
    }
    if (sv->sessions)
        sv->sessions->sample(sv->sessions_ctx, dt);
    msgstats_of(&sum, &t.m);
    if (sv->hist_len == STATS_HISTORY) {
        sv->hist_head = (sv->hist_head + 1) % STATS_HISTORY;
        sv->hist_len--;
    }
    sv->hist[(sv->hist_head + sv->hist_len) % STATS_HISTORY] = t;
    sv->hist_len++;
}

void stats_sample_now(vhost *vh)
{
    stats_sample_at(vh, vhost_now_ms(vh));
}

void stats_tick(vhost *vh)
{
    stats_vhost *sv = &vh->stats;
    stats_seqclock *c = &sv->clock;
    uint64_t now = ev_now(vh->loop);
    int64_t wall = vhost_now_ms(vh);

    /* Nothing published since the last mark: it still holds, now, for
     * whatever comes next, so it moves forward (an idle hour must not
     * make the next message look an hour old). */
    if (c->n && c->s[c->n - 1].seq == vh->next_seq && c->s[c->n - 1].ms < wall)
        c->s[c->n - 1].ms = wall;
    else
        stats_seq_mark(vh, vh->next_seq, wall);
    if ((int64_t)now >= sv->next_sample) {
        stats_sample_now(vh);
        sv->next_sample = (int64_t)now + STATS_INTERVAL_MS;
    }
}
