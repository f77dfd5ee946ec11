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
 */
#include "stats.h"
#include "broker.h"
#include "exchange.h"
#include "proto/channel.h"
#include "proto/conn.h"
#include "queue.h"
#include "vhost.h"

#include "consumer.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"

static void copy_name(char *dst, size_t cap, const char *src, size_t len)
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

static void oldest_on(channel *ch, const queue *q, uint32_t now, int64_t *oldest)
{
    uint32_t at;
    if (channel_oldest_unacked(ch, q, &at) && (int64_t)(uint32_t)(now - at) > *oldest)
        *oldest = (uint32_t)(now - at);
}

static int64_t oldest_unacked(queue *q)
{
    uint32_t now = (uint32_t)ev_now(q->vh->b->loop), i;
    uint64_t held = 0;
    int64_t oldest = -1;

    if (!q->unacked)
        return -1;
    for (i = 0; i < q->ncons; i++) {
        consumer *c = q->cons[i];
        held += c->unacked;
        if (c->unacked)
            oldest_on(c->owner, q, now, &oldest); /* a queue's consumers are channels' */
    }
    if (held < q->unacked) {
        /* some are held by basic.get or by cancelled consumers: ask
         * every channel (rare; O(channels)) */
        conn *c;
        for (c = q->vh->b->conns; c; c = c->next)
            for (i = 0; i < c->nchans; i++)
                oldest_on(c->chans[i].ch, q, now, &oldest);
    }
    return oldest;
}

static void fill_queue(queue *q, stats_queue *s)
{
    vhost *vh = q->vh;

    memset(s, 0, sizeof *s);
    copy_name(s->name, sizeof s->name, q->name, q->namelen);
    copy_name(s->vhost, sizeof s->vhost, vh->name, strlen(vh->name));
    s->durable = q->durable;
    s->exclusive = q->exclusive;
    s->auto_delete = q->auto_delete;
    s->arguments = (amqp_table){q->args, q->argslen};
    s->ready = q->nready;
    s->unacked = q->unacked;
    s->ready_bytes = q->ready_bytes;
    s->unacked_bytes = q->unacked_bytes;
    s->consumers = q->ncons;
    msgstats_of(&q->ctr, &s->counters);
    rates_of(q->smp.rate, &s->rates);
    s->memory = queue_memory(q);
    if (q->ncons && q->set.single_active)
        copy_name(s->single_active_consumer_tag, sizeof s->single_active_consumer_tag, q->cons[0]->tag,
                  q->cons[0]->taglen);
    if (q->ncons == 1 && q->cons[0]->exclusive)
        copy_name(s->exclusive_consumer_tag, sizeof s->exclusive_consumer_tag, q->cons[0]->tag, q->cons[0]->taglen);
    s->oldest_ready_ms = oldest_ready(q, vhost_now_ms(vh));
    s->oldest_unacked_ms = oldest_unacked(q);
    s->idle_since = q->smp.idle_since;
    if (q->owner && q->owner->name)
        copy_name(s->owner, sizeof s->owner, q->owner->name, strlen(q->owner->name));
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
    copy_name(s->name, sizeof s->name, x->name, x->namelen);
    copy_name(s->vhost, sizeof s->vhost, x->vh->name, strlen(x->vh->name));
    copy_name(s->type, sizeof s->type, type, strlen(type));
    s->durable = x->durable;
    s->auto_delete = x->auto_delete;
    s->internal = x->internal;
    s->arguments = (amqp_table){x->args, x->argslen};
    s->publish_in = x->ctr.publish_in;
    s->publish_out = x->ctr.publish_out;
    s->rate_in = x->ctr.rate_in;
    s->rate_out = x->ctr.rate_out;
    s->bindings = x->nbindings;
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

/* ------------------------------------------------------------- connection */

static const char *conn_state_name(const conn *c)
{
    switch (c->state) {
    case CONN_HEADER:
    case CONN_START: return "starting";
    case CONN_TUNE: return "tuning";
    case CONN_OPEN_WAIT: return "opening";
    case CONN_OPEN: return c->alarm_held ? "blocked" : "running";
    case CONN_CLOSING: return "closing";
    default: return "closed";
    }
}

/* The server's end of the socket, as conn.c writes the peer's: asked of
 * the kernel once, at the first query. */
static const char *local_name(conn *c)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;

    if (c->stats.local[0] || getsockname(c->io.fd, (struct sockaddr *)&ss, &len) < 0)
        return c->stats.local;
    if (ss.ss_family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        port = ntohs(in->sin_port);
    } else if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        port = ntohs(in6->sin6_port);
    }
    snprintf(c->stats.local, sizeof c->stats.local, ss.ss_family == AF_INET6 ? "[%s]:%d" : "%s:%d", host, port);
    return c->stats.local;
}

static void fill_connection(conn *c, stats_connection *s)
{
    memset(s, 0, sizeof *s);
    copy_name(s->local, sizeof s->local, local_name(c), strlen(local_name(c)));
    copy_name(s->name, sizeof s->name, c->peer, strlen(c->peer));
    copy_name(s->user, sizeof s->user, c->user, strlen(c->user));
    if (c->vh)
        copy_name(s->vhost, sizeof s->vhost, c->vh->name, strlen(c->vh->name));
    s->state = conn_state_name(c);
    s->channels = c->nchans;
    s->channel_max = c->channel_max;
    s->frame_max = c->frame_max;
    s->heartbeat = c->heartbeat;
    s->recv_oct = c->stats.recv_oct;
    s->recv_cnt = c->stats.recv_cnt;
    s->send_oct = c->stats.send_oct;
    s->send_cnt = c->stats.send_cnt;
    s->recv_oct_rate = c->stats.recv_rate;
    s->send_oct_rate = c->stats.send_rate;
    s->connected_at = c->stats.connected_at;
    s->client_properties = (amqp_table){c->stats.client_props, c->stats.client_props_len};
}

int stats_connection_get(broker *b, const char *name, stats_connection *out)
{
    conn *c;
    for (c = b->conns; c; c = c->next)
        if (!strcmp(c->peer, name)) {
            fill_connection(c, out);
            return 0;
        }
    return -1;
}

int stats_each_connection(broker *b, int (*fn)(void *ctx, const stats_connection *s), void *ctx)
{
    stats_connection s;
    conn *c;
    int rc = 0;

    for (c = b->conns; c && !rc; c = c->next) {
        fill_connection(c, &s);
        rc = fn(ctx, &s);
    }
    return rc;
}

void stats_conn_props(stats_conncounters *cc, amqp_table client_props)
{
    static const char *const keep[] = {"product", "version", "platform", "capabilities", "connection_name"};
    amqp_tbuf tb = {0};
    amqp_value v;
    size_t i;

    free(cc->client_props);
    cc->client_props = NULL;
    cc->client_props_len = 0;
    for (i = 0; i < sizeof keep / sizeof *keep; i++)
        if (amqp_table_get(client_props, keep[i], &v))
            amqp_tbuf_value(&tb, keep[i], &v);
    if (tb.oom || !tb.len) {
        amqp_tbuf_free(&tb);
        return;
    }
    cc->client_props = tb.buf;
    cc->client_props_len = (uint32_t)tb.len;
}

/* ---------------------------------------------------- channel, consumer */

int stats_each_channel(broker *b, int (*fn)(void *ctx, const stats_channel *s), void *ctx)
{
    stats_channel s;
    conn *c;
    uint32_t i;
    int rc = 0;

    for (c = b->conns; c && !rc; c = c->next) {
        for (i = 0; i < c->nchans && !rc; i++) {
            channel *ch = c->chans[i].ch;
            consumer *k;
            memset(&s, 0, sizeof s);
            copy_name(s.connection, sizeof s.connection, c->peer, strlen(c->peer));
            copy_name(s.user, sizeof s.user, c->user, strlen(c->user));
            if (c->vh)
                copy_name(s.vhost, sizeof s.vhost, c->vh->name, strlen(c->vh->name));
            s.number = ch->id;
            for (k = ch->consumers; k; k = k->next)
                s.consumers++;
            s.prefetch = ch->prefetch;
            s.global_prefetch = ch->global_prefetch;
            s.unacked = ch->unacked_count;
            s.unconfirmed = ch->confirm ? (uint32_t)(ch->pub_count - ch->confirmed_upto) : 0;
            s.uncommitted = (uint32_t)ch->ntxp;
            s.acks_uncommitted = (uint32_t)ch->ntxa;
            s.confirm = ch->confirm;
            s.tx = ch->tx;
            s.state = ch->state == CH_CLOSING ? "closing" : !ch->flow_active ? "flow" : "running";
            s.counters = ch->ctr;
            rc = fn(ctx, &s);
        }
    }
    return rc;
}

int stats_each_consumer(broker *b, int (*fn)(void *ctx, const stats_consumer *s), void *ctx)
{
    stats_consumer *s = malloc(sizeof *s);
    conn *c;
    uint32_t i;
    int rc = 0;

    if (!s)
        return -1;
    for (c = b->conns; c && !rc; c = c->next) {
        for (i = 0; i < c->nchans && !rc; i++) {
            channel *ch = c->chans[i].ch;
            consumer *k;
            for (k = ch->consumers; k && !rc; k = k->next) {
                memset(s, 0, sizeof *s);
                copy_name(s->queue, sizeof s->queue, k->q->name, k->q->namelen);
                copy_name(s->vhost, sizeof s->vhost, k->q->vh->name, strlen(k->q->vh->name));
                copy_name(s->tag, sizeof s->tag, k->tag, k->taglen);
                copy_name(s->connection, sizeof s->connection, c->peer, strlen(c->peer));
                s->channel = ch->id;
                s->ack_required = !k->no_ack;
                s->exclusive = k->exclusive;
                s->prefetch = k->prefetch;
                s->active = !k->q->set.single_active || (k->q->ncons && k->q->cons[0] == k);
                s->priority = k->priority;
                s->unacked = k->unacked;
                rc = fn(ctx, s);
            }
        }
    }
    free(s);
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

void stats_totals_get(broker *b, stats_totals *out)
{
    vhost *vh = b->vh;
    const stats_vhost *sv = &vh->stats;
    size_t i = 0;
    void *v;
    conn *c;

    memset(out, 0, sizeof *out);
    for (c = b->conns; c; c = c->next) {
        uint32_t k;
        out->connections++;
        out->channels += c->nchans;
        for (k = 0; k < c->nchans; k++) {
            consumer *cons;
            for (cons = c->chans[k].ch->consumers; cons; cons = cons->next)
                out->consumers++;
        }
    }
    out->queues = (uint32_t)map_count(&vh->queues);
    out->exchanges = (uint32_t)map_count(&vh->exchanges);
    stats_qcounters sum = sv->gone;
    while (map_next(&vh->queues, &i, NULL, NULL, &v)) {
        queue *q = v;
        out->ready += q->nready;
        out->unacked += q->unacked;
        out->ready_bytes += q->ready_bytes;
        out->unacked_bytes += q->unacked_bytes;
        add_counters(&sum, &q->ctr);
    }
    msgstats_of(&sum, &out->counters);
    out->received = sv->received;
    out->routed = sv->routed;
    out->unroutable = sv->unroutable;
    out->returned = sv->returned;
    out->confirmed = sv->confirmed;
    out->memory_alarm = (b->alarms.on & ALARM_MEMORY) != 0;
    out->disk_alarm = (b->alarms.on & ALARM_DISK) != 0;
    if (sv->hist_len >= 2) {
        const stats_sample *a = &sv->hist[(sv->hist_head + sv->hist_len - 2) % STATS_HISTORY];
        const stats_sample *z = &sv->hist[(sv->hist_head + sv->hist_len - 1) % STATS_HISTORY];
        double dt = (double)(z->at - a->at) / 1000.0;
        float r[STATS_NRATES];
        int k;
        for (k = 0; k < STATS_NRATES && dt > 0; k++)
            r[k] = (float)((double)(rate_counter(&z->m, k) - rate_counter(&a->m, k)) / dt);
        if (dt > 0)
            rates_of(r, &out->rates);
    }
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
    conn *c;
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
    for (c = vh->b->conns; c; c = c->next) {
        stats_conncounters *cc = &c->stats;
        cc->recv_rate = dt > 0 ? (float)(uint32_t)((uint32_t)cc->recv_oct - cc->last_recv) / dt : 0;
        cc->send_rate = dt > 0 ? (float)(uint32_t)((uint32_t)cc->send_oct - cc->last_send) / dt : 0;
        cc->last_recv = (uint32_t)cc->recv_oct;
        cc->last_send = (uint32_t)cc->send_oct;
    }
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
    uint64_t now = ev_now(vh->b->loop);
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

/* ------------------------------------------------------------ debug dump */

static const char *product_of(const stats_connection *s, char *buf, size_t cap)
{
    amqp_value v;
    if (!amqp_table_get(s->client_properties, "product", &v) || (v.type != 'S' && v.type != 's'))
        return "-";
    copy_name(buf, cap, v.v.s.ptr, v.v.s.len);
    for (char *p = buf; *p; p++)
        if (*p == ' ' || *p == '=')
            *p = '_'; /* one word, for the key=value line */
    return buf;
}

static int log_queue(void *ctx, const stats_queue *s)
{
    (void)ctx;
    log_info("stats queue name=%s ready=%llu unacked=%llu consumers=%u ready_bytes=%llu unacked_bytes=%llu "
             "publish=%llu deliver_get=%llu deliver=%llu deliver_no_ack=%llu get=%llu get_no_ack=%llu "
             "get_empty=%llu ack=%llu redeliver=%llu oldest_ready_ms=%lld oldest_unacked_ms=%lld publish_rate=%.2f",
             s->name, (unsigned long long)s->ready, (unsigned long long)s->unacked, s->consumers,
             (unsigned long long)s->ready_bytes, (unsigned long long)s->unacked_bytes,
             (unsigned long long)s->counters.publish, (unsigned long long)s->counters.deliver_get,
             (unsigned long long)s->counters.deliver, (unsigned long long)s->counters.deliver_no_ack,
             (unsigned long long)s->counters.get, (unsigned long long)s->counters.get_no_ack,
             (unsigned long long)s->counters.get_empty, (unsigned long long)s->counters.ack,
             (unsigned long long)s->counters.redeliver, (long long)s->oldest_ready_ms,
             (long long)s->oldest_unacked_ms, s->rates.publish);
    return 0;
}

static int log_exchange(void *ctx, const stats_exchange *s)
{
    (void)ctx;
    if (s->publish_in)
        log_info("stats exchange name=%s type=%s publish_in=%llu publish_out=%llu", s->name[0] ? s->name : "-",
                 s->type, (unsigned long long)s->publish_in, (unsigned long long)s->publish_out);
    return 0;
}

static int log_connection(void *ctx, const stats_connection *s)
{
    char product[64];
    (void)ctx;
    log_info("stats connection name=%s local=%s user=%s state=%s channels=%u recv_oct=%llu recv_cnt=%llu "
             "send_oct=%llu send_cnt=%llu product=%s",
             s->name, s->local, s->user, s->state, s->channels, (unsigned long long)s->recv_oct,
             (unsigned long long)s->recv_cnt, (unsigned long long)s->send_oct, (unsigned long long)s->send_cnt,
             product_of(s, product, sizeof product));
    return 0;
}

static int log_channel(void *ctx, const stats_channel *s)
{
    (void)ctx;
    log_info("stats channel connection=%s number=%u consumers=%u prefetch=%u unacked=%u unconfirmed=%u "
             "confirm=%d tx=%d publish=%llu confirmed=%llu deliver=%llu get=%llu ack=%llu redeliver=%llu",
             s->connection, s->number, s->consumers, s->prefetch, s->unacked, s->unconfirmed, s->confirm, s->tx,
             (unsigned long long)s->counters.publish, (unsigned long long)s->counters.confirm,
             (unsigned long long)s->counters.deliver, (unsigned long long)s->counters.get,
             (unsigned long long)s->counters.ack, (unsigned long long)s->counters.redeliver);
    return 0;
}

static int log_consumer(void *ctx, const stats_consumer *s)
{
    (void)ctx;
    log_info("stats consumer queue=%s tag=%s channel=%u ack_required=%d prefetch=%u unacked=%u", s->queue, s->tag,
             s->channel, s->ack_required, s->prefetch, s->unacked);
    return 0;
}

void stats_log(broker *b)
{
    stats_totals t;

    stats_each_queue(b->vh, log_queue, NULL);
    stats_each_exchange(b->vh, log_exchange, NULL);
    stats_each_connection(b, log_connection, NULL);
    stats_each_channel(b, log_channel, NULL);
    stats_each_consumer(b, log_consumer, NULL);
    stats_totals_get(b, &t);
    log_info("stats totals connections=%u channels=%u queues=%u exchanges=%u consumers=%u ready=%llu unacked=%llu "
             "publish=%llu deliver_get=%llu ack=%llu redeliver=%llu received=%llu routed=%llu unroutable=%llu "
             "returned=%llu confirmed=%llu memory_alarm=%d disk_alarm=%d",
             t.connections, t.channels, t.queues, t.exchanges, t.consumers, (unsigned long long)t.ready,
             (unsigned long long)t.unacked, (unsigned long long)t.counters.publish,
             (unsigned long long)t.counters.deliver_get, (unsigned long long)t.counters.ack,
             (unsigned long long)t.counters.redeliver, (unsigned long long)t.received, (unsigned long long)t.routed,
             (unsigned long long)t.unroutable, (unsigned long long)t.returned, (unsigned long long)t.confirmed,
             t.memory_alarm, t.disk_alarm);
    log_info("stats end");
}
