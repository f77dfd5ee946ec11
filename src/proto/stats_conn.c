/*
 * proto/stats_conn.c - the statistics of the AMQP sessions: snapshots of
 * connections, channels and their consumers (the stats.h queries that
 * take the broker), and what the domain's statistics (stats.c) ask of the
 * sessions through the stats_session_ops registered here: the oldest
 * unacked delivery a channel holds, the counts for the totals, the
 * connections' byte rates at each sample.  stats.c knows no connection
 * or channel; this file is where the two meet.  Also the SIGUSR1 debug
 * dump of everything (stats_log).
 *
 * Counters cost one increment where the event happens (conn.c: bytes and
 * reads/writes; channel.c: publishes, acks, basic.get); the walks here run
 * only when asked.
 */
#include "proto/conn.h"
#include "tls.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "broker.h"
#include "consumer.h"
#include "log.h"
#include "proto/channel.h"
#include "stats.h"
#include "vhost.h"

/* ------------------------------------------------ what the domain asks */

static bool owner_oldest_unacked(void *owner, const queue *q, uint32_t *at)
{
    return channel_oldest_unacked(owner, q, at); /* a consumer's owner is a channel */
}

static void each_owner(void *ctx, void (*fn)(void *arg, void *owner), void *arg)
{
    broker *b = ctx;
    conn *c;
    uint32_t i;

    for (c = b->conns; c; c = c->next)
        for (i = 0; i < c->nchans; i++)
            fn(arg, c->chans[i].ch);
}

static void count_sessions(void *ctx, stats_totals *out)
{
    broker *b = ctx;
    conn *c;

    out->connections_opened = b->conns_opened;
    out->connections_closed = b->conns_closed;
    out->channels_opened = b->chans_opened;
    out->channels_closed = b->chans_closed;
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
}

/* Measured by channel_flush_confirms, into the broker's one histogram. */
static void confirm_latency(void *ctx, stats_histogram *out)
{
    const broker *b = ctx;
    *out = b->confirm_latency;
}

static void sample_sessions(void *ctx, float dt)
{
    broker *b = ctx;
    conn *c;

    for (c = b->conns; c; c = c->next) {
        stats_conncounters *cc = &c->stats;
        cc->recv_rate = dt > 0 ? (float)(uint32_t)((uint32_t)cc->recv_oct - cc->last_recv) / dt : 0;
        cc->send_rate = dt > 0 ? (float)(uint32_t)((uint32_t)cc->send_oct - cc->last_send) / dt : 0;
        cc->last_recv = (uint32_t)cc->recv_oct;
        cc->last_send = (uint32_t)cc->send_oct;
    }
}

static int each_unacked(void *ctx, const queue *q, int (*fn)(void *arg, const stats_unacked *u), void *arg)
{
    broker *b = ctx;
    conn *c;
    uint32_t k;
    size_t i;
    int rc = 0;

    for (c = b->conns; c && !rc; c = c->next)
        for (k = 0; k < c->nchans && !rc; k++) {
            channel *ch = c->chans[k].ch;
            for (i = 0; i < ch->ua.len && !rc; i++) {
                const unacked *u = unacked_ring_at(&ch->ua, i);
                consumer *cons;
                stats_unacked s;
                if (u->q != q || (u->e.flags & QE_ACKED))
                    continue;
                cons = u->consumer_id ? consumer_by_id(ch->consumers, u->consumer_id) : NULL;
                s = (stats_unacked){
                    .e = &u->e,
                    .connection = c->peer,
                    .channel = ch->id,
                    .consumer_tag = cons ? cons->tag : NULL,
                    .taglen = cons ? cons->taglen : 0,
                    .delivery_tag = ch->ua_first_tag + i,
                    .at = u->at,
                };
                rc = fn(arg, &s);
            }
        }
    return rc;
}

static int close_connection(void *ctx, const char *name, const char *text)
{
    broker *b = ctx;
    conn *c;

    for (c = b->conns; c; c = c->next)
        if (c->state != CONN_DEAD && !strcmp(c->peer, name)) {
            if (c->state == CONN_OPEN)
                conn_close(c, AMQP_CONNECTION_FORCED, text, 0);
            else
                conn_kill(c, text); /* not yet open: nothing to tell it */
            return 0;
        }
    return -1;
}

static const stats_session_ops session_ops = {
    .each_unacked = each_unacked,
    .close = close_connection,
    .oldest_unacked = owner_oldest_unacked,
    .each_owner = each_owner,
    .count = count_sessions,
    .sample = sample_sessions,
    .confirm_latency = confirm_latency,
};

void stats_conn_register(broker *b)
{
    b->vh->stats.sessions = &session_ops;
    b->vh->stats.sessions_ctx = b;
    stats_histogram_init(&b->confirm_latency);
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
    stats_copy_name(s->local, sizeof s->local, local_name(c), strlen(local_name(c)));
    stats_copy_name(s->name, sizeof s->name, c->peer, strlen(c->peer));
    stats_copy_name(s->user, sizeof s->user, c->user, strlen(c->user));
    if (c->vh)
        stats_copy_name(s->vhost, sizeof s->vhost, c->vh->name, strlen(c->vh->name));
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
    s->auth_mechanism = c->auth_mechanism ? c->auth_mechanism : "PLAIN";
    if (c->tls && tls_handshake_done(c->tls)) {
        const char *p = tls_protocol(c->tls);
        size_t i;
        s->ssl = true;
        for (i = 0; p[i] && i + 1 < sizeof s->ssl_protocol; i++)
            s->ssl_protocol[i] = (char)tolower((unsigned char)p[i]);
        s->ssl_cipher = tls_cipher(c->tls);
        tls_peer_name(c->tls, true, s->peer_cert_subject, sizeof s->peer_cert_subject);
    }
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
    static const char *const keep[] = {"product", "version", "platform", "capabilities", "connection_name",
                                       "information"};
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
            stats_copy_name(s.connection, sizeof s.connection, c->peer, strlen(c->peer));
            stats_copy_name(s.user, sizeof s.user, c->user, strlen(c->user));
            if (c->vh)
                stats_copy_name(s.vhost, sizeof s.vhost, c->vh->name, strlen(c->vh->name));
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
                stats_copy_name(s->queue, sizeof s->queue, k->q->name, k->q->namelen);
                stats_copy_name(s->vhost, sizeof s->vhost, k->q->vh->name, strlen(k->q->vh->name));
                stats_copy_name(s->tag, sizeof s->tag, k->tag, k->taglen);
                stats_copy_name(s->connection, sizeof s->connection, c->peer, strlen(c->peer));
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

/* ------------------------------------------------------------ debug dump */

static const char *product_of(const stats_connection *s, char *buf, size_t cap)
{
    amqp_value v;
    if (!amqp_table_get(s->client_properties, "product", &v) || (v.type != 'S' && v.type != 's'))
        return "-";
    stats_copy_name(buf, cap, v.v.s.ptr, v.v.s.len);
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
