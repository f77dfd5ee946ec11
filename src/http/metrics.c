/*
 * metrics.c - the Prometheus endpoint: GET /metrics (aggregated) and GET
 * /metrics/per-object (one sample per queue), in the text exposition
 * format 0.0.4, with the metric names, types, HELP texts and labels of
 * RabbitMQ 3.10's rabbitmq_prometheus plugin where warren has the value,
 * so that RabbitMQ's Grafana dashboards read warren unchanged; and
 * warren's own, prefixed warren_ (the oldest ready and unacked message
 * per queue, redeliveries, the store's size and fdatasync latency, the
 * publish-to-confirm latency).  doc/management.md lists every metric.
 *
 * Everything comes from the statistics API (stats.h): the totals, the
 * node, one walk of the queues.  Aggregated, a queue metric is the sum
 * over the queues (as RabbitMQ's), except the oldest ages, which are the
 * oldest over them.  /metrics is built whole, on the loop thread (one
 * walk of the queues, a few KB of text); /metrics/per-object is streamed
 * in slices as the client reads it (obj_stream below).
 */
#include "http/metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "http/api.h"
#include "stats.h"
#include "vhost.h"

#define CONTENT_TYPE "text/plain; version=0.0.4"

/* ------------------------------------------------------------- the text */

typedef struct text {
    char *p;
    size_t len, cap;
    bool oom;
} text;

static void put(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(text *t, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (t->oom)
        return;
    for (;;) {
        size_t room = t->cap - t->len;
        va_start(ap, fmt);
        n = vsnprintf(t->p ? t->p + t->len : NULL, room, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->oom = true;
            return;
        }
        if ((size_t)n < room) {
            t->len += (size_t)n;
            return;
        }
        {
            size_t cap = t->cap ? t->cap : 16384;
            char *np;
            while (cap - t->len <= (size_t)n)
                cap *= 2;
            if (!(np = realloc(t->p, cap))) {
                t->oom = true;
                return;
            }
            t->p = np;
            t->cap = cap;
        }
    }
}

static void append(text *t, const char *s, size_t n)
{
    if (t->oom || n == 0)
        return;
    if (t->cap - t->len <= n) {
        size_t cap = t->cap ? t->cap : 16384;
        char *np;
        while (cap - t->len <= n)
            cap *= 2;
        if (!(np = realloc(t->p, cap))) {
            t->oom = true;
            return;
        }
        t->p = np;
        t->cap = cap;
    }
    memcpy(t->p + t->len, s, n);
    t->len += n;
    t->p[t->len] = 0;
}

/* A label value, escaped as the format wants: \\, \" and \n. */
static void put_label_value(text *t, const char *s)
{
    for (;;) {
        size_t n = strcspn(s, "\\\"\n");
        append(t, s, n);
        s += n;
        if (!*s)
            return;
        append(t, *s == '\n' ? "\\n" : *s == '"' ? "\\\"" : "\\\\", 2);
        s++;
    }
}

/* TYPE before HELP, as rabbitmq_prometheus writes them. */
static void family(text *t, const char *name, const char *type, const char *help)
{
    put(t, "# TYPE %s %s\n# HELP %s %s\n", name, type, name, help);
}

static void sample(text *t, const char *name, uint64_t v)
{
    put(t, "%s %llu\n", name, (unsigned long long)v);
}

static void gauge(text *t, const char *name, const char *help, uint64_t v)
{
    family(t, name, "gauge", help);
    sample(t, name, v);
}

static void histogram(text *t, const char *name, const char *help, const stats_histogram *h)
{
    uint64_t cum = 0;
    uint32_t i;

    family(t, name, "histogram", help);
    for (i = 0; i < h->nbounds; i++) {
        cum += h->bucket[i];
        put(t, "%s_bucket{le=\"%g\"} %llu\n", name, h->bounds_us[i] / 1e6, (unsigned long long)cum);
    }
    put(t, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)h->count);
    put(t, "%s_sum %.6f\n", name, h->sum_us / 1e6);
    put(t, "%s_count %llu\n", name, (unsigned long long)h->count);
}

/* ------------------------------------------------------------ the queues */

/* The per-queue metrics: name, type, help, and the value of a snapshot. */
typedef enum {
    Q_READY, Q_UNACKED, Q_MESSAGES, Q_CONSUMERS, Q_BYTES, Q_READY_BYTES, Q_UNACKED_BYTES, Q_MEMORY, Q_PUBLISHED,
    Q_REDELIVERED, Q_OLDEST_READY, Q_OLDEST_UNACKED, Q_N
} qmetric;

static const struct {
    const char *name, *type, *help;
    bool max;                   /* aggregated: the largest, not the sum */
} qmetrics[Q_N] = {
    [Q_READY] = {"rabbitmq_queue_messages_ready", "gauge", "Messages ready to be delivered to consumers", false},
    [Q_UNACKED] = {"rabbitmq_queue_messages_unacked", "gauge",
                   "Messages delivered to consumers but not yet acknowledged", false},
    [Q_MESSAGES] = {"rabbitmq_queue_messages", "gauge",
                    "Sum of ready and unacknowledged messages - total queue depth", false},
    [Q_CONSUMERS] = {"rabbitmq_queue_consumers", "gauge", "Consumers on a queue", false},
    [Q_BYTES] = {"rabbitmq_queue_messages_bytes", "gauge", "Size in bytes of ready and unacknowledged messages",
                 false},
    [Q_READY_BYTES] = {"rabbitmq_queue_messages_ready_bytes", "gauge", "Size in bytes of ready messages", false},
    [Q_UNACKED_BYTES] = {"rabbitmq_queue_messages_unacked_bytes", "gauge",
                         "Size in bytes of all unacknowledged messages", false},
    [Q_MEMORY] = {"rabbitmq_queue_process_memory_bytes", "gauge",
                  "Memory in bytes used by the queue and its entries (message bodies, shared, not counted)", false},
    [Q_PUBLISHED] = {"rabbitmq_queue_messages_published_total", "counter",
                     "Total number of messages published to queues", false},
    [Q_REDELIVERED] = {"warren_queue_messages_redelivered_total", "counter",
                       "Total number of messages delivered again (redelivered flag set) from a queue", false},
    [Q_OLDEST_READY] = {"warren_queue_oldest_ready_seconds", "gauge",
                        "Age of the oldest ready message (0 when none; aggregated: the oldest of all queues)",
                        true},
    [Q_OLDEST_UNACKED] = {"warren_queue_oldest_unacked_seconds", "gauge",
                          "Time since the oldest unacknowledged delivery went out (0 when none; aggregated: the "
                          "oldest of all queues)",
                          true},
};

/* A value in thousandths (the ages are in ms), so the sums stay integers. */
static uint64_t qvalue_milli(const stats_queue *q, qmetric m)
{
    switch (m) {
    case Q_READY: return q->ready * 1000;
    case Q_UNACKED: return q->unacked * 1000;
    case Q_MESSAGES: return (q->ready + q->unacked) * 1000;
    case Q_CONSUMERS: return (uint64_t)q->consumers * 1000;
    case Q_BYTES: return (q->ready_bytes + q->unacked_bytes) * 1000;
    case Q_READY_BYTES: return q->ready_bytes * 1000;
    case Q_UNACKED_BYTES: return q->unacked_bytes * 1000;
    case Q_MEMORY: return q->memory * 1000;
    case Q_PUBLISHED: return q->counters.publish * 1000;
    case Q_REDELIVERED: return q->counters.redeliver * 1000;
    case Q_OLDEST_READY: return q->oldest_ready_ms > 0 ? (uint64_t)q->oldest_ready_ms : 0;
    case Q_OLDEST_UNACKED: return q->oldest_unacked_ms > 0 ? (uint64_t)q->oldest_unacked_ms : 0;
    default: return 0;
    }
}

static void put_milli(text *t, uint64_t v)
{
    if (v % 1000 == 0)
        put(t, "%llu\n", (unsigned long long)(v / 1000));
    else
        put(t, "%llu.%03llu\n", (unsigned long long)(v / 1000), (unsigned long long)(v % 1000));
}

typedef struct sums {
    uint64_t v[Q_N];
} sums;

static int add_queue_sums(void *ctx, const stats_queue *q)
{
    sums *s = ctx;
    int m;

    for (m = 0; m < Q_N; m++) {
        uint64_t v = qvalue_milli(q, (qmetric)m);
        if (qmetrics[m].max)
            s->v[m] = v > s->v[m] ? v : s->v[m];
        else
            s->v[m] += v;
    }
    return 0;
}

/* Every vhost's queues, summed. */
static void queue_sums(text *t, broker *b)
{
    size_t i = 0;
    void *vh;
    sums s;
    int m;

    memset(&s, 0, sizeof s);
    while (map_next(&b->vhosts, &i, NULL, NULL, &vh))
        stats_each_queue(vh, add_queue_sums, &s);
    for (m = 0; m < Q_N; m++) {
        family(t, qmetrics[m].name, qmetrics[m].type, qmetrics[m].help);
        put(t, "%s ", qmetrics[m].name);
        put_milli(t, s.v[m]);
    }
}

/* Per object, streamed: a family groups every queue's line, so the
 * queues' values are read once, in slices, as the first family is written
 * (a snapshot: a queue deleted meanwhile is left out of every family), and
 * the other families are written from the values kept, 64 KB a call, as
 * the client takes them.  A scrape of 100,000 queues holds the loop for a
 * slice at a time, never for the whole; it keeps the names and 12 values
 * a queue (about 150 bytes) until it is sent. */
#define ROWS_PER_PIECE 512

typedef struct qrow {
    char *name;                 /* owned */
    uint32_t vhost;             /* index in obj_stream.vhosts */
    bool gone;                  /* deleted before its values were read */
    uint64_t v[Q_N];
} qrow;

typedef struct obj_stream {
    http_stream s;
    broker *b;
    char **vhosts;              /* names, owned */
    size_t nvhosts;
    qrow *rows;
    size_t n, cap;
    text head, tail;            /* what comes before and after the queues */
    text pend;                  /* rendered, not yet handed over */
    size_t pendoff;
    int fam;                    /* -1 the head; 0..Q_N-1 a family; Q_N the tail; past it the end */
    size_t next;                /* the next row of the family */
    bool oom;
} obj_stream;

typedef struct name_walk {
    obj_stream *os;
    uint32_t vhost;
} name_walk;

static int add_row(void *ctx, const char *name, size_t len)
{
    name_walk *w = ctx;
    obj_stream *os = w->os;
    qrow *r;

    if (os->n == os->cap) {
        size_t cap = os->cap ? os->cap * 2 : 256;
        qrow *nr = realloc(os->rows, cap * sizeof *nr);
        if (!nr)
            return -1;
        os->rows = nr;
        os->cap = cap;
    }
    r = &os->rows[os->n];
    memset(r, 0, sizeof *r);
    if (!(r->name = strndup(name, len)))
        return -1;
    r->vhost = w->vhost;
    os->n++;
    return 0;
}

static void row_line(text *t, const obj_stream *os, const qrow *r, int m)
{
    append(t, qmetrics[m].name, strlen(qmetrics[m].name));
    append(t, "{vhost=\"", 8);
    put_label_value(t, os->vhosts[r->vhost]);
    append(t, "\",queue=\"", 9);
    put_label_value(t, r->name);
    append(t, "\"} ", 3);
    put_milli(t, r->v[m]);
}

/* Render the next piece into os->pend: false at the end. */
static bool obj_piece(obj_stream *os)
{
    size_t k;

    os->pend.len = 0;
    os->pendoff = 0;
    if (os->fam < 0) {
        append(&os->pend, os->head.p, os->head.len);
        os->fam = 0;
        os->next = 0;
    } else if (os->fam < Q_N) {
        int m = os->fam;
        if (os->next == 0)
            family(&os->pend, qmetrics[m].name, qmetrics[m].type, qmetrics[m].help);
        for (k = 0; k < ROWS_PER_PIECE && os->next < os->n; k++) {
            qrow *r = &os->rows[os->next++];
            if (m == 0) {
                const char *vname = os->vhosts[r->vhost];
                vhost *vh = broker_vhost(os->b, vname, strlen(vname));
                stats_queue q;
                int j;
                if (!vh || stats_queue_get(vh, (amqp_str){r->name, (uint32_t)strlen(r->name)}, &q) != 0) {
                    r->gone = true;
                    continue;
                }
                for (j = 0; j < Q_N; j++)
                    r->v[j] = qvalue_milli(&q, (qmetric)j);
            }
            if (!r->gone)
                row_line(&os->pend, os, r, m);
        }
        if (os->next == os->n) {
            os->fam++;
            os->next = 0;
        }
    } else if (os->fam == Q_N) {
        append(&os->pend, os->tail.p, os->tail.len);
        os->fam++;
    } else {
        return false;
    }
    if (os->pend.oom) {
        os->oom = true;
        return false;
    }
    return true;
}

static long obj_next(http_stream *st, char *buf, size_t max)
{
    obj_stream *os = (obj_stream *)st;
    size_t n = 0;

    while (n < max) {
        size_t k;
        if (os->pendoff == os->pend.len && !obj_piece(os))
            break;
        k = os->pend.len - os->pendoff < max - n ? os->pend.len - os->pendoff : max - n;
        memcpy(buf + n, os->pend.p + os->pendoff, k);
        os->pendoff += k;
        n += k;
    }
    if (!n && os->oom)
        return -1;
    return (long)n;
}

static void obj_done(http_stream *st)
{
    obj_stream *os = (obj_stream *)st;
    size_t i;

    for (i = 0; i < os->nvhosts; i++)
        free(os->vhosts[i]);
    free(os->vhosts);
    for (i = 0; i < os->n; i++)
        free(os->rows[i].name);
    free(os->rows);
    free(os->head.p);
    free(os->tail.p);
    free(os->pend.p);
    free(os);
}

/* The names of every vhost's queues, taken now; their values are read as
 * the stream reaches them. */
static obj_stream *obj_stream_new(broker *b)
{
    obj_stream *os = calloc(1, sizeof *os);
    size_t i = 0, nv = map_count(&b->vhosts);
    const char *key;
    size_t klen;
    void *vh;

    if (!os)
        return NULL;
    os->s.next = obj_next;
    os->s.done = obj_done;
    os->b = b;
    os->fam = -1;
    if (!(os->vhosts = calloc(nv + 1, sizeof *os->vhosts)))
        goto fail;
    while (map_next(&b->vhosts, &i, &key, &klen, &vh)) {
        name_walk w = {os, (uint32_t)os->nvhosts};
        if (os->nvhosts == nv || !(os->vhosts[os->nvhosts] = strndup(key, klen)))
            goto fail;
        os->nvhosts++;
        if (stats_each_queue_name(vh, add_row, &w) != 0)
            goto fail;
    }
    return os;
fail:
    obj_done(&os->s);
    return NULL;
}

/* -------------------------------------------------------------- the rest */

/* The global counters: RabbitMQ's protocol label, and queue_type for the
 * queue-side ones (warren's queues are all classic queues). */
#define AMQP_LABELS "{protocol=\"amqp091\"}"
#define QUEUE_LABELS "{protocol=\"amqp091\",queue_type=\"rabbit_classic_queue\"}"

static void global_counter(text *t, const char *name, const char *help, const char *labels, uint64_t v)
{
    family(t, name, "counter", help);
    put(t, "%s%s %llu\n", name, labels, (unsigned long long)v);
}

static void global_metrics(text *t, const stats_totals *tot)
{
    const stats_msgstats *c = &tot->counters;

    family(t, "rabbitmq_global_consumers", "gauge", "Current number of consumers");
    put(t, "rabbitmq_global_consumers" AMQP_LABELS " %u\n", tot->consumers);
    global_counter(t, "rabbitmq_global_messages_received_total", "Total number of messages received from publishers",
                   AMQP_LABELS, tot->received);
    global_counter(t, "rabbitmq_global_messages_received_confirm_total",
                   "Total number of messages received from publishers expecting confirmations", AMQP_LABELS,
                   tot->received_confirm);
    global_counter(t, "rabbitmq_global_messages_routed_total", "Total number of messages routed to queues or streams",
                   AMQP_LABELS, tot->routed);
    global_counter(t, "rabbitmq_global_messages_unroutable_dropped_total",
                   "Total number of messages published as non-mandatory into an exchange and dropped as unroutable",
                   AMQP_LABELS, tot->unroutable - tot->returned);
    global_counter(t, "rabbitmq_global_messages_unroutable_returned_total",
                   "Total number of messages published as mandatory into an exchange and returned to the publisher "
                   "as unroutable",
                   AMQP_LABELS, tot->returned);
    global_counter(t, "rabbitmq_global_messages_confirmed_total", "Total number of messages confirmed to publishers",
                   AMQP_LABELS, tot->confirmed);
    global_counter(t, "rabbitmq_global_messages_delivered_total", "Total number of messages delivered to consumers",
                   QUEUE_LABELS, c->deliver_get);
    global_counter(t, "rabbitmq_global_messages_delivered_consume_manual_ack_total",
                   "Total number of messages delivered to consumers using basic.consume with manual acknowledgment",
                   QUEUE_LABELS, c->deliver);
    global_counter(t, "rabbitmq_global_messages_delivered_consume_auto_ack_total",
                   "Total number of messages delivered to consumers using basic.consume with automatic "
                   "acknowledgment",
                   QUEUE_LABELS, c->deliver_no_ack);
    global_counter(t, "rabbitmq_global_messages_delivered_get_manual_ack_total",
                   "Total number of messages delivered to consumers using basic.get with manual acknowledgment",
                   QUEUE_LABELS, c->get);
    global_counter(t, "rabbitmq_global_messages_delivered_get_auto_ack_total",
                   "Total number of messages delivered to consumers using basic.get with automatic acknowledgment",
                   QUEUE_LABELS, c->get_no_ack);
    global_counter(t, "rabbitmq_global_messages_get_empty_total",
                   "Total number of times basic.get operations fetched no message", QUEUE_LABELS, c->get_empty);
    global_counter(t, "rabbitmq_global_messages_redelivered_total",
                   "Total number of messages redelivered to consumers", QUEUE_LABELS, c->redeliver);
    global_counter(t, "rabbitmq_global_messages_acknowledged_total",
                   "Total number of messages acknowledged by consumers", QUEUE_LABELS, c->ack);
}

static void counter(text *t, const char *name, const char *help, uint64_t v)
{
    family(t, name, "counter", help);
    sample(t, name, v);
}

/* The dashboards' churn panels. */
static void churn_metrics(text *t, const stats_totals *tot)
{
    counter(t, "rabbitmq_connections_opened_total", "Total number of connections opened", tot->connections_opened);
    counter(t, "rabbitmq_connections_closed_total", "Total number of connections closed or terminated",
            tot->connections_closed);
    counter(t, "rabbitmq_channels_opened_total", "Total number of channels opened", tot->channels_opened);
    counter(t, "rabbitmq_channels_closed_total", "Total number of channels closed", tot->channels_closed);
    counter(t, "rabbitmq_queues_declared_total", "Total number of queues declared", tot->queues_declared);
    counter(t, "rabbitmq_queues_created_total", "Total number of queues created", tot->queues_created);
    counter(t, "rabbitmq_queues_deleted_total", "Total number of queues deleted", tot->queues_deleted);
}

static void node_metrics(text *t, const stats_node *n, const stats_totals *tot)
{
    family(t, "rabbitmq_alarms_file_descriptor_limit", "untyped",
           "is 1 if file descriptor limit alarm is in effect");
    sample(t, "rabbitmq_alarms_file_descriptor_limit", 0); /* warren has no such alarm */
    family(t, "rabbitmq_alarms_free_disk_space_watermark", "untyped",
           "is 1 if free disk space watermark alarm is in effect");
    sample(t, "rabbitmq_alarms_free_disk_space_watermark", n->disk_alarm);
    family(t, "rabbitmq_alarms_memory_used_watermark", "untyped", "is 1 if VM memory watermark alarm is in effect");
    sample(t, "rabbitmq_alarms_memory_used_watermark", n->memory_alarm);
    gauge(t, "rabbitmq_process_resident_memory_bytes", "Memory used in bytes", n->resident_bytes);
    gauge(t, "rabbitmq_disk_space_available_bytes", "Disk space available in bytes", n->disk_free);
    gauge(t, "rabbitmq_resident_memory_limit_bytes", "Memory high watermark in bytes", n->memory_limit);
    gauge(t, "rabbitmq_disk_space_available_limit_bytes", "Free disk space low watermark in bytes",
          n->disk_free_limit);
    gauge(t, "rabbitmq_process_open_fds", "Open file descriptors", n->open_fds);
    gauge(t, "rabbitmq_process_max_fds", "Open file descriptors limit", n->max_fds);
    /* the AMQP connections' sockets, as RabbitMQ counts them; every
     * descriptor may be one (warren reserves none for files) */
    gauge(t, "rabbitmq_process_open_tcp_sockets", "Open TCP sockets", tot->connections);
    gauge(t, "rabbitmq_process_max_tcp_sockets", "Open TCP sockets limit", n->max_fds);
}

static void warren_metrics(text *t, const stats_node *n)
{
    gauge(t, "warren_store_bytes", "Bytes of message segments the store holds on disk", n->store_bytes);
    histogram(t, "warren_store_fdatasync_seconds",
              "Time each fdatasync of the store's sync thread took (segments, ack files, compaction output)",
              &n->fdatasync);
    histogram(t, "warren_confirm_latency_seconds",
              "Time from the loop turn that read a publish to its confirm (basic.ack or basic.nack) sent",
              &n->confirm);
}

static void info_metrics(text *t, const char *node)
{
    family(t, "rabbitmq_build_info", "untyped", "RabbitMQ & Erlang/OTP version info");
    put(t, "rabbitmq_build_info{rabbitmq_version=\"%s\",prometheus_plugin_version=\"%s\",product=\"warren\","
           "product_version=\"%s\"} 1\n",
        RABBITMQ_COMPAT_VERSION, RABBITMQ_COMPAT_VERSION, WARREN_VERSION);
    family(t, "rabbitmq_identity_info", "untyped", "RabbitMQ node & cluster identity info");
    put(t, "rabbitmq_identity_info{rabbitmq_node=\"");
    put_label_value(t, node);
    put(t, "\",rabbitmq_cluster=\"");
    put_label_value(t, node);
    put(t, "\",rabbitmq_cluster_permanent_id=\"");
    put_label_value(t, node);
    put(t, "\"} 1\n");
}

/* What follows the queues' families. */
static void after_queues(text *t, http_ctx *x, const stats_totals *tot, const stats_node *node)
{
    gauge(t, "rabbitmq_connections", "Connections currently open", tot->connections);
    gauge(t, "rabbitmq_channels", "Channels currently open", tot->channels);
    gauge(t, "rabbitmq_consumers", "Consumers currently connected", tot->consumers);
    gauge(t, "rabbitmq_queues", "Queues available", tot->queues);
    churn_metrics(t, tot);
    info_metrics(t, http_server_node(x->srv));
    global_metrics(t, tot);
    warren_metrics(t, node);
}

static void metrics(http_ctx *x, http_reply *r, bool per_object)
{
    text t = {0};
    stats_totals tot;
    stats_node node;
    obj_stream *os = NULL;

    stats_totals_get(x->b, &tot);
    stats_node_get(x->b, &node);
    if (per_object) {
        if (!(os = obj_stream_new(x->b))) {
            r->status = 500;
            return;
        }
        node_metrics(&os->head, &node, &tot);
        after_queues(&os->tail, x, &tot, &node);
        if (os->head.oom || os->tail.oom) {
            obj_done(&os->s);
            r->status = 500;
            return;
        }
        r->status = 200;
        r->stream = &os->s;
        r->raw_type = CONTENT_TYPE;
        return;
    }
    node_metrics(&t, &node, &tot);
    queue_sums(&t, x->b);
    after_queues(&t, x, &tot, &node);
    if (t.oom) {
        free(t.p);
        r->status = 500;
        return;
    }
    r->status = 200;
    r->raw = t.p;
    r->rawlen = t.len;
    r->raw_type = CONTENT_TYPE;
}

static void get_metrics(http_ctx *x, http_reply *r)
{
    metrics(x, r, false);
}

static void get_metrics_per_object(http_ctx *x, http_reply *r)
{
    metrics(x, r, true);
}

const http_route http_metrics_routes[] = {
    {HTTP_GET, "/metrics", get_metrics, false},
    {HTTP_GET, "/metrics/per-object", get_metrics_per_object, false},
};
const size_t http_metrics_nroutes = sizeof http_metrics_routes / sizeof *http_metrics_routes;
