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
 * oldest over them.  The body is built whole, on the loop thread: one
 * walk of the queues per scrape, a few hundred bytes a queue for
 * per-object.
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

/* Per object: the queues' lines of each family, collected in one walk
 * (one text per family, joined after). */
typedef struct per_queue {
    text fam[Q_N];
    text labels;                /* the queue's, escaped once for every family */
} per_queue;

static int add_queue_lines(void *ctx, const stats_queue *q)
{
    per_queue *pq = ctx;
    int m;

    pq->labels.len = 0;
    append(&pq->labels, "{vhost=\"", 8);
    put_label_value(&pq->labels, q->vhost);
    append(&pq->labels, "\",queue=\"", 9);
    put_label_value(&pq->labels, q->name);
    append(&pq->labels, "\"} ", 3);
    if (pq->labels.oom)
        return -1;
    for (m = 0; m < Q_N; m++) {
        text *t = &pq->fam[m];
        append(t, qmetrics[m].name, strlen(qmetrics[m].name));
        append(t, pq->labels.p, pq->labels.len);
        put_milli(t, qvalue_milli(q, (qmetric)m));
    }
    return 0;
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

/* Every vhost's queues: per object (each labelled with its vhost) or
 * summed. */
static void queue_metrics(text *t, broker *b, bool per_object)
{
    size_t i = 0;
    void *vh;
    int m;

    if (per_object) {
        per_queue pq;
        memset(&pq, 0, sizeof pq);
        while (map_next(&b->vhosts, &i, NULL, NULL, &vh))
            if (stats_each_queue(vh, add_queue_lines, &pq) != 0)
                t->oom = true;
        free(pq.labels.p);
        for (m = 0; m < Q_N; m++) {
            family(t, qmetrics[m].name, qmetrics[m].type, qmetrics[m].help);
            if (pq.fam[m].oom)
                t->oom = true;
            else
                append(t, pq.fam[m].p, pq.fam[m].len);
            free(pq.fam[m].p);
        }
    } else {
        sums s;
        memset(&s, 0, sizeof s);
        while (map_next(&b->vhosts, &i, NULL, NULL, &vh))
            stats_each_queue(vh, add_queue_sums, &s);
        for (m = 0; m < Q_N; m++) {
            family(t, qmetrics[m].name, qmetrics[m].type, qmetrics[m].help);
            put(t, "%s ", qmetrics[m].name);
            put_milli(t, s.v[m]);
        }
    }
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

static void metrics(http_ctx *x, http_reply *r, bool per_object)
{
    text t = {0};
    stats_totals tot;
    stats_node node;

    stats_totals_get(x->b, &tot);
    stats_node_get(x->b, &node);
    node_metrics(&t, &node, &tot);
    queue_metrics(&t, x->b, per_object);
    gauge(&t, "rabbitmq_connections", "Connections currently open", tot.connections);
    gauge(&t, "rabbitmq_channels", "Channels currently open", tot.channels);
    gauge(&t, "rabbitmq_consumers", "Consumers currently connected", tot.consumers);
    gauge(&t, "rabbitmq_queues", "Queues available", tot.queues);
    churn_metrics(&t, &tot);
    info_metrics(&t, http_server_node(x->srv));
    global_metrics(&t, &tot);
    warren_metrics(&t, &node);
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
