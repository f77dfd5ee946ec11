/*
 * lists.c - the HTTP API's listing endpoints with their statistics, in
 * RabbitMQ 3.10's JSON: queues, exchanges, bindings, connections,
 * channels, consumers; closing a connection; and warren's non-destructive
 * browse of a queue's ready and unacked messages.  Everything is read
 * through the stats API (stats.h) and the domain API (vhost.h): nothing
 * here reaches into a queue, an exchange or a connection.
 *
 * Paging (page.h) never renders a row it does not return: a list of
 * queues or exchanges is first walked into an index of lightweight rows
 * (the name and the one sort key asked for), sorted, cut to the page, and
 * only the page's objects are snapshotted again and written as JSON.  So
 * GET /api/queues?page=1&page_size=100 over 100,000 queues costs one walk
 * and a sort, and answers ~100 objects.  Connections, channels and
 * consumers are few: their lists are built whole and paged as JSON.
 *
 * A list without a vhost in its path covers every vhost the user sees
 * (administrator and monitoring users all of them, management users those
 * they have permissions on, as RabbitMQ); the index's rows remember their
 * vhost (http_row.extra, an index into the request's sorted vhosts).
 */
#include "http/lists.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http/body.h"
#include "http/page.h"
#include "http/users.h"
#include "stats.h"
#include "vhost.h"
#include "warren.h"

/* ------------------------------------------------------------ helpers */

/* The path's vhost, or NULL with RabbitMQ's refusal in r: 404 "Object
 * Not Found" when there is none such, 401 "Access refused." when the user
 * may not see it. */
static vhost *path_vhost(http_ctx *x, http_reply *r)
{
    vhost *vh = broker_vhost(x->b, x->params[0].ptr, x->params[0].len);

    if (!vh) {
        http_reply_not_found(r);
        return NULL;
    }
    if (!http_sees_vhost(x, vh->name)) {
        http_reply_error(r, 401, "not_authorised", "Access refused.");
        return NULL;
    }
    return vh;
}

/* The vhosts a list covers, sorted by name. */
typedef struct vhost_list {
    vhost **v;
    size_t n;
} vhost_list;

static int by_vhost_name(const void *a, const void *b)
{
    return strcmp((*(vhost *const *)a)->name, (*(vhost *const *)b)->name);
}

/* The path's vhost, or without one every vhost the user sees: 0, or -1
 * with the refusal in r. */
static int list_vhosts(http_ctx *x, http_reply *r, vhost_list *vl)
{
    size_t i = 0;
    void *v;

    vl->n = 0;
    vl->v = malloc((map_count(&x->b->vhosts) + 1) * sizeof *vl->v);
    if (!vl->v) {
        http_reply_json(r, 500, NULL);
        return -1;
    }
    if (x->nparams) {
        if (!(vl->v[0] = path_vhost(x, r))) {
            free(vl->v);
            vl->v = NULL;
            return -1;
        }
        vl->n = 1;
        return 0;
    }
    while (map_next(&x->b->vhosts, &i, NULL, NULL, &v))
        if (http_sees_vhost(x, ((vhost *)v)->name))
            vl->v[vl->n++] = v;
    qsort(vl->v, vl->n, sizeof *vl->v, by_vhost_name);
    return 0;
}

static amqp_str param(http_ctx *x, int i)
{
    return (amqp_str){x->params[i].ptr, (uint32_t)x->params[i].len};
}

static amqp_str exchange_param(http_ctx *x, int i)
{
    amqp_str s = param(x, i);
    return amqp_str_eqc(s, "amq.default") ? (amqp_str){"", 0} : s;
}

static json_t *rate(double r)
{
    return json_pack("{s:f}", "rate", r);
}

static void add_count(json_t *o, const char *name, uint64_t n, double r)
{
    char details[64];
    snprintf(details, sizeof details, "%s_details", name);
    json_object_set_new(o, name, json_integer((json_int_t)n));
    json_object_set_new(o, details, rate(r));
}

/* RabbitMQ's timestamps of idle_since: "2026-12-07T05:46:00.966+00:00". */
static json_t *iso_time(int64_t ms)
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    char buf[64];
    gmtime_r(&s, &tm);
    snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03d+00:00", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
    return json_string(buf);
}

/* "127.0.0.1:5672" or "[::1]:5672" into host and port. */
static void split_hostport(const char *hp, char *host, size_t cap, int *port)
{
    const char *colon = strrchr(hp, ':');
    size_t n = colon ? (size_t)(colon - hp) : strlen(hp);
    if (n >= 2 && hp[0] == '[' && hp[n - 1] == ']') {
        hp++;
        n -= 2;
    }
    stats_copy_name(host, cap, hp, n);
    *port = colon ? atoi(colon + 1) : 0;
}

/* RabbitMQ's connection name: "peer -> local". */
static void conn_name(const stats_connection *s, char *out, size_t cap)
{
    snprintf(out, cap, "%s -> %s", s->name, s->local);
}

/* The last connection looked up by peer: channels and consumers come
 * connection by connection, so a list of them asks the stats API once a
 * connection, not once a row (O(rows), not O(rows x connections)). */
typedef struct conn_cache {
    bool have;
    stats_connection c;
} conn_cache;

static const stats_connection *conn_lookup(http_ctx *x, conn_cache *cc, const char *peer)
{
    if (cc->have && !strcmp(cc->c.name, peer))
        return &cc->c;
    cc->have = stats_connection_get(x->b, peer, &cc->c) == 0;
    return cc->have ? &cc->c : NULL;
}

static bool want_vhost(http_ctx *x, const char *name)
{
    if (x->nparams)
        return strlen(name) == x->params[0].len && !memcmp(name, x->params[0].ptr, x->params[0].len);
    return http_sees_vhost(x, name);
}

/* Administrator and monitoring users see every session (connection,
 * channel) of the vhosts they see; management users only their own, as
 * RabbitMQ (its filter_user). */
static bool sees_all_sessions(http_ctx *x)
{
    const auth_user *u = auth_find(&x->b->auth, x->user);
    return u && (u->tagbits & (AUTH_TAG_ADMINISTRATOR | AUTH_TAG_MONITORING));
}

static bool sees_session(http_ctx *x, const char *user)
{
    return sees_all_sessions(x) || !strcmp(user, x->user);
}

/* RabbitMQ's answer for another user's session, asked for by name. */
static void reply_not_yours(http_reply *r)
{
    http_reply_error(r, 401, "not_authorised", "User not authorised to access object");
}

/* The page plan of the query, or a 400 already in r. */
static int page_plan(http_ctx *x, http_reply *r, http_page *p)
{
    const char *error = NULL;
    char reason[200];
    if (http_page_parse(p, x->t, &error, reason, sizeof reason) < 0) {
        http_reply_error(r, 400, error, reason);
        http_page_free(p);
        return -1;
    }
    return 0;
}

/* The reply for a list: a plain array, or RabbitMQ's paged object, the
 * columns filter applied to the items only. */
static void reply_list(http_ctx *x, http_reply *r, const http_page *p, json_t *items, size_t total,
                       size_t filtered)
{
    const http_str *cols = http_query(x->t, "columns");
    json_t *o;

    if (cols && items) {
        json_t *shown = http_json_columns(items, cols);
        json_decref(items);
        items = shown;
    }
    r->columns_done = true;
    if (!p->paged) {
        http_reply_json(r, 200, items);
        return;
    }
    o = json_pack("{s:I,s:I,s:o,s:I,s:I,s:I,s:I}", "filtered_count", (json_int_t)filtered, "item_count",
                  (json_int_t)json_array_size(items), "items", items, "page", (json_int_t)p->page, "page_count",
                  (json_int_t)((filtered + (size_t)p->page_size - 1) / (size_t)p->page_size), "page_size",
                  (json_int_t)p->page_size, "total_count", (json_int_t)total);
    http_reply_json(r, 200, o);
}

typedef struct rows {
    http_row *v;
    size_t n, cap;
    size_t total;
    bool oom;
    bool borrow;                /* names point into the broker (valid for this request), not copied */
} rows;

static http_row *rows_add(rows *rs, const char *name, size_t len)
{
    http_row *row;
    if (rs->n == rs->cap) {
        size_t cap = rs->cap ? rs->cap * 2 : 256;
        http_row *v = realloc(rs->v, cap * sizeof *v);
        if (!v) {
            rs->oom = true;
            return NULL;
        }
        rs->v = v;
        rs->cap = cap;
    }
    row = &rs->v[rs->n];
    memset(row, 0, sizeof *row);
    if (rs->borrow) {
        row->name = (char *)name;
        row->namelen = len;
        rs->n++;
        return row;
    }
    if (!(row->name = malloc(len + 1))) {
        rs->oom = true;
        return NULL;
    }
    memcpy(row->name, name, len);
    row->name[len] = 0;
    row->namelen = len;
    rs->n++;
    return row;
}

static void rows_free(rows *rs)
{
    size_t i;
    for (i = 0; i < rs->n; i++) {
        if (!rs->borrow)
            free(rs->v[i].name);
        free((char *)rs->v[i].str);
    }
    free(rs->v);
}

/* A JSON list (connections, channels, consumers) paged as a rows index:
 * the sort key read at a dotted path of each item. */
static json_t *json_path(json_t *o, const char *path)
{
    char key[128];
    while (o && *path) {
        const char *dot = strchr(path, '.');
        size_t n = dot ? (size_t)(dot - path) : strlen(path);
        if (n >= sizeof key)
            return NULL;
        memcpy(key, path, n);
        key[n] = 0;
        o = json_is_object(o) ? json_object_get(o, key) : NULL;
        path += n + (dot ? 1 : 0);
    }
    return o;
}

static void reply_json_list(http_ctx *x, http_reply *r, const http_page *p, json_t *all)
{
    rows rs = {0};
    json_t *items, *it;
    size_t i, first, end;
    char reason[200];

    for (i = 0; i < json_array_size(all); i++) {
        json_t *item = json_array_get(all, i), *k;
        const char *name = json_string_value(json_object_get(item, "name"));
        http_row *row;
        if (!name)
            name = json_string_value(json_object_get(item, "consumer_tag"));
        if (!name)
            name = "";
        if (!http_page_match(p, name, strlen(name)))
            continue;
        if (!(row = rows_add(&rs, name, strlen(name))))
            break;
        row->extra = (uint32_t)i;
        k = p->sort ? json_path(item, p->sort) : NULL;
        if (json_is_string(k))
            row->str = strdup(json_string_value(k));
        else if (json_is_number(k))
            row->num = json_number_value(k);
        else if (json_is_true(k))
            row->num = 1;
    }
    if (rs.oom) {
        rows_free(&rs);
        json_decref(all);
        http_reply_json(r, 500, NULL);
        return;
    }
    http_rows_select(p, rs.v, rs.n, http_page_upto(p, rs.n));
    if (http_page_bounds(p, rs.n, &first, &end, reason, sizeof reason) < 0) {
        http_reply_error(r, 400, "page_out_of_range", reason);
    } else {
        items = json_array();
        for (i = first; items && i < end; i++)
            if ((it = json_array_get(all, rs.v[i].extra)))
                json_array_append(items, it);
        reply_list(x, r, p, items, json_array_size(all), rs.n);
    }
    rows_free(&rs);
    json_decref(all);
}

/* ------------------------------------------------------------- queues */

static json_t *msgstats_json(const stats_msgstats *m, const stats_rates *r)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    add_count(o, "ack", m->ack, r->ack);
    add_count(o, "deliver", m->deliver, r->deliver);
    add_count(o, "deliver_get", m->deliver_get, r->deliver_get);
    add_count(o, "deliver_no_ack", m->deliver_no_ack, r->deliver_no_ack);
    add_count(o, "get", m->get, r->get);
    add_count(o, "get_empty", m->get_empty, 0);
    add_count(o, "get_no_ack", m->get_no_ack, r->get_no_ack);
    add_count(o, "publish", m->publish, r->publish);
    add_count(o, "redeliver", m->redeliver, r->redeliver);
    return o;
}

static bool msgstats_any(const stats_msgstats *m)
{
    return m->publish || m->deliver_get || m->get_empty || m->ack || m->redeliver;
}

static json_t *owner_details(broker *b, const char *owner)
{
    stats_connection c;
    char name[160], host[64];
    int port;

    if (!owner[0] || stats_connection_get(b, owner, &c) < 0)
        return NULL;
    conn_name(&c, name, sizeof name);
    split_hostport(c.name, host, sizeof host, &port);
    return json_pack("{s:o,s:s,s:i}", "name", http_json_text(name), "peer_host", host, "peer_port", port);
}

static json_t *age(int64_t ms)
{
    return ms < 0 ? json_null() : json_integer((json_int_t)ms);
}

/* A queue's type as the management API names it: "quorum" when it was
 * declared so (warren makes such a queue durable, with a delivery limit). */
static const char *queue_type_of(amqp_table args)
{
    amqp_value v;
    return amqp_table_get(args, "x-queue-type", &v) && v.type == 'S' && amqp_str_eqc(v.v.s, "quorum") ? "quorum"
                                                                                                     : "classic";
}

static json_t *queue_json(broker *b, const char *node, const stats_queue *s)
{
    json_t *o = json_object(), *owner;
    bool idle = s->rates.publish == 0 && s->rates.deliver_get == 0 && s->rates.ack == 0;

    if (!o)
        return NULL;
    json_object_set_new(o, "arguments", http_table_json(s->arguments));
    json_object_set_new(o, "auto_delete", json_boolean(s->auto_delete));
    json_object_set_new(o, "consumers", json_integer(s->consumers));
    json_object_set_new(o, "durable", json_boolean(s->durable));
    json_object_set_new(o, "effective_policy_definition", json_object());
    json_object_set_new(o, "exclusive", json_boolean(s->exclusive));
    json_object_set_new(o, "exclusive_consumer_tag",
                        s->exclusive_consumer_tag[0] ? http_json_text(s->exclusive_consumer_tag) : json_null());
    json_object_set_new(o, "head_message_timestamp", json_null());
    if (idle && s->idle_since > 0)
        json_object_set_new(o, "idle_since", iso_time(s->idle_since));
    json_object_set_new(o, "memory", json_integer((json_int_t)s->memory));
    json_object_set_new(o, "message_bytes", json_integer((json_int_t)(s->ready_bytes + s->unacked_bytes)));
    json_object_set_new(o, "message_bytes_ready", json_integer((json_int_t)s->ready_bytes));
    json_object_set_new(o, "message_bytes_unacknowledged", json_integer((json_int_t)s->unacked_bytes));
    if (msgstats_any(&s->counters))
        json_object_set_new(o, "message_stats", msgstats_json(&s->counters, &s->rates));
    json_object_set_new(o, "messages", json_integer((json_int_t)(s->ready + s->unacked)));
    json_object_set_new(o, "messages_ready", json_integer((json_int_t)s->ready));
    json_object_set_new(o, "messages_unacknowledged", json_integer((json_int_t)s->unacked));
    {
        amqp_value v;
        if (amqp_table_get(s->arguments, "x-backoff-initial", &v)) /* warren's: held back (work-queues.md) */
            json_object_set_new(o, "messages_delayed", json_integer((json_int_t)s->delayed));
    }
    json_object_set_new(o, "name", http_json_text(s->name));
    json_object_set_new(o, "node", json_string(node));
    /* warren's own: the age of the oldest ready message and of the
     * oldest unacked delivery, in ms (null: none) */
    json_object_set_new(o, "oldest_ready_age_ms", age(s->oldest_ready_ms));
    json_object_set_new(o, "oldest_unacked_age_ms", age(s->oldest_unacked_ms));
    /* warren's own: deliveries requeued for their consumer timeout, and
     * the acks that came for them too late (ignored) */
    json_object_set_new(o, "consumer_timeouts", json_integer((json_int_t)s->consumer_timeouts));
    json_object_set_new(o, "late_acks", json_integer((json_int_t)s->late_acks));
    json_object_set_new(o, "operator_policy", json_null());
    if (s->exclusive && (owner = owner_details(b, s->owner)))
        json_object_set_new(o, "owner_pid_details", owner);
    json_object_set_new(o, "policy", json_null());
    json_object_set_new(o, "single_active_consumer_tag",
                        s->single_active_consumer_tag[0] ? http_json_text(s->single_active_consumer_tag)
                                                         : json_null());
    json_object_set_new(o, "state", json_string("running"));
    json_object_set_new(o, "type", json_string(queue_type_of(s->arguments)));
    json_object_set_new(o, "vhost", http_json_text(s->vhost));
    return o;
}

/* The sort key of a queue for `sort` (a number; name, vhost and state
 * sort as the name does). */
static double stat_key(const char *k, const stats_msgstats *m, const stats_rates *r)
{
    static const char *const names[] = {"publish", "deliver", "deliver_no_ack", "get", "get_no_ack",
                                        "deliver_get", "ack", "redeliver", "get_empty"};
    const uint64_t counts[] = {m->publish, m->deliver, m->deliver_no_ack, m->get, m->get_no_ack,
                               m->deliver_get, m->ack, m->redeliver, m->get_empty};
    const double rates[] = {r->publish, r->deliver, r->deliver_no_ack, r->get, r->get_no_ack, r->deliver_get,
                            r->ack, r->redeliver, 0};
    size_t i;
    for (i = 0; i < sizeof names / sizeof *names; i++) {
        size_t n = strlen(names[i]);
        if (strncmp(k, names[i], n))
            continue;
        if (!k[n])
            return (double)counts[i];
        if (!strcmp(k + n, "_details.rate"))
            return rates[i];
    }
    return 0;
}

static double queue_key(const char *k, const stats_queue *s)
{
    if (!strcmp(k, "messages"))
        return (double)(s->ready + s->unacked);
    if (!strcmp(k, "messages_ready"))
        return (double)s->ready;
    if (!strcmp(k, "messages_unacknowledged"))
        return (double)s->unacked;
    if (!strcmp(k, "consumers"))
        return s->consumers;
    if (!strcmp(k, "memory"))
        return (double)s->memory;
    if (!strcmp(k, "message_bytes"))
        return (double)(s->ready_bytes + s->unacked_bytes);
    if (!strcmp(k, "message_bytes_ready"))
        return (double)s->ready_bytes;
    if (!strcmp(k, "message_bytes_unacknowledged"))
        return (double)s->unacked_bytes;
    if (!strcmp(k, "durable"))
        return s->durable;
    if (!strcmp(k, "exclusive"))
        return s->exclusive;
    if (!strcmp(k, "auto_delete"))
        return s->auto_delete;
    if (!strcmp(k, "idle_since"))
        return (double)s->idle_since;
    if (!strcmp(k, "oldest_ready_age_ms"))
        return (double)s->oldest_ready_ms;
    if (!strcmp(k, "oldest_unacked_age_ms"))
        return (double)s->oldest_unacked_ms;
    if (!strncmp(k, "message_stats.", 14))
        return stat_key(k + 14, &s->counters, &s->rates);
    return 0;
}

typedef struct queue_walk {
    http_ctx *x;
    const http_page *p;
    rows rs;
    uint32_t vi;                /* the vhost walked: its index in the request's list */
} queue_walk;

/* A row of the vhost walked: ties of the sort key go by vhost, and with
 * no sort (RabbitMQ's default, vhost then name) or sort=vhost the vhost
 * is the key. */
static void row_vhost(queue_walk *w, http_row *row)
{
    row->extra = w->vi;
    if (!w->p->sort || !strcmp(w->p->sort, "vhost"))
        row->num = w->vi;
}

static int index_queue(void *ctx, const stats_queue *s)
{
    queue_walk *w = ctx;
    size_t len = strlen(s->name);
    http_row *row;

    w->rs.total++;
    if (!http_page_match(w->p, s->name, len))
        return 0;
    if (!(row = rows_add(&w->rs, s->name, len)))
        return 1;
    row_vhost(w, row);
    if (w->p->sort && strcmp(w->p->sort, "vhost"))
        row->num = queue_key(w->p->sort, s);
    return 0;
}

/* Sorted by name (the default): the names alone, borrowed, no snapshot. */
static int index_queue_name(void *ctx, const char *name, size_t len)
{
    queue_walk *w = ctx;
    http_row *row;

    w->rs.total++;
    if (!http_page_match(w->p, name, len))
        return 0;
    if (!(row = rows_add(&w->rs, name, len)))
        return 1;
    row_vhost(w, row);
    return 0;
}

/* Every queue (no `page`: RabbitMQ's plain array), written as the client
 * takes it: each call renders queues until the buffer is full, so 100,000
 * queues are sent over many loop turns, never held in memory as JSON.  A
 * queue deleted meanwhile is left out. */
typedef struct queue_stream {
    http_stream s;
    broker *b;
    char node[128];
    rows rs;                    /* the names, owned, in order */
    char **vhosts;              /* the rows' vhosts by name (one may go meanwhile) */
    size_t nvhosts;
    size_t next;                /* the next row to render */
    char *cols;                 /* ?columns=, copied; NULL none */
    size_t colslen;
    char *pend;                 /* rendered, not yet handed over */
    size_t pendlen, pendoff;
    int stage;                  /* 0 "[", 1 the items, 2 "]" sent */
    bool any;
} queue_stream;

/* Render the next piece into qs->pend: false at the end. */
static bool stream_piece(queue_stream *qs)
{
    free(qs->pend);
    qs->pend = NULL;
    qs->pendlen = qs->pendoff = 0;
    if (qs->stage == 0) {
        qs->stage = 1;
        qs->pend = strdup("[");
    } else if (qs->stage == 1) {
        stats_queue s;
        json_t *o = NULL;
        while (!o && qs->next < qs->rs.n) {
            http_row *row = &qs->rs.v[qs->next++];
            const char *vname = qs->vhosts[row->extra];
            vhost *vh = broker_vhost(qs->b, vname, strlen(vname));
            if (vh && stats_queue_get(vh, (amqp_str){row->name, (uint32_t)row->namelen}, &s) == 0)
                o = queue_json(qs->b, qs->node, &s);
        }
        if (o) {
            size_t len;
            char *text;
            if (qs->cols) {
                json_t *shown = http_json_columns(o, &(http_str){qs->cols, qs->colslen});
                json_decref(o);
                o = shown;
            }
            text = o ? http_json_dump(o, &len) : NULL;
            json_decref(o);
            if (!text)
                return false;
            qs->pend = malloc(len + 2);
            if (qs->pend) {
                size_t at = 0;
                if (qs->any)
                    qs->pend[at++] = ',';
                memcpy(qs->pend + at, text, len + 1);
            }
            free(text);
            qs->any = true;
        } else {
            qs->stage = 2;
            qs->pend = strdup("]");
        }
    } else {
        return false;
    }
    if (!qs->pend)
        return false;
    qs->pendlen = strlen(qs->pend);
    return true;
}

static long stream_next(http_stream *st, char *buf, size_t max)
{
    queue_stream *qs = (queue_stream *)st;
    size_t n = 0;

    while (n < max) {
        size_t k;
        if (qs->pendoff == qs->pendlen && !stream_piece(qs))
            break;
        k = qs->pendlen - qs->pendoff < max - n ? qs->pendlen - qs->pendoff : max - n;
        memcpy(buf + n, qs->pend + qs->pendoff, k);
        qs->pendoff += k;
        n += k;
    }
    if (!n && qs->stage != 2)
        return -1; /* out of memory before the end */
    return (long)n;
}

static void stream_done(http_stream *st)
{
    queue_stream *qs = (queue_stream *)st;
    size_t i;
    for (i = 0; i < qs->nvhosts; i++)
        free(qs->vhosts[i]);
    free(qs->vhosts);
    rows_free(&qs->rs);
    free(qs->cols);
    free(qs->pend);
    free(qs);
}

/* Hand rs (owned names, sorted) to a stream of every queue. */
static void reply_queue_stream(http_ctx *x, http_reply *r, rows *rs, const vhost_list *vl)
{
    queue_stream *qs = calloc(1, sizeof *qs);
    const http_str *cols = http_query(x->t, "columns");
    size_t i;

    if (qs && (qs->vhosts = calloc(vl->n + 1, sizeof *qs->vhosts)))
        for (qs->nvhosts = 0; qs->nvhosts < vl->n; qs->nvhosts++)
            if (!(qs->vhosts[qs->nvhosts] = strdup(vl->v[qs->nvhosts]->name)))
                break;
    if (!qs || !qs->vhosts || qs->nvhosts < vl->n || (cols && !(qs->cols = strndup(cols->ptr, cols->len)))) {
        if (qs) {
            for (i = 0; i < qs->nvhosts; i++)
                free(qs->vhosts[i]);
            free(qs->vhosts);
        }
        free(qs);
        http_reply_json(r, 500, NULL);
        return;
    }
    qs->colslen = cols ? cols->len : 0;
    qs->s.next = stream_next;
    qs->s.done = stream_done;
    qs->b = x->b;
    snprintf(qs->node, sizeof qs->node, "%s", http_server_node(x->srv));
    qs->rs = *rs;
    memset(rs, 0, sizeof *rs);
    r->status = 200;
    r->stream = &qs->s;
}

void http_list_queues(http_ctx *x, http_reply *r)
{
    queue_walk w = {x, NULL, {0}, 0};
    vhost_list vl;
    http_page p;
    json_t *items;
    size_t i, first, end;
    char reason[200];

    if (list_vhosts(x, r, &vl) < 0)
        return;
    if (page_plan(x, r, &p) < 0) {
        free(vl.v);
        return;
    }
    w.p = &p;
    w.rs.borrow = p.paged; /* a stream outlives this call: it owns its names */
    for (w.vi = 0; w.vi < vl.n && !w.rs.oom; w.vi++) {
        if (!p.sort || !strcmp(p.sort, "name") || !strcmp(p.sort, "vhost")) {
            stats_each_queue_name(vl.v[w.vi], index_queue_name, &w);
        } else {
            w.rs.borrow = false; /* snapshots' names: copied */
            stats_each_queue(vl.v[w.vi], index_queue, &w);
        }
    }
    if (w.rs.oom) {
        http_reply_json(r, 500, NULL);
        goto out;
    }
    http_rows_select(&p, w.rs.v, w.rs.n, http_page_upto(&p, w.rs.n));
    if (!p.paged) {
        reply_queue_stream(x, r, &w.rs, &vl);
        goto out;
    }
    if (http_page_bounds(&p, w.rs.n, &first, &end, reason, sizeof reason) < 0) {
        http_reply_error(r, 400, "page_out_of_range", reason);
        goto out;
    }
    items = json_array();
    for (i = first; items && i < end; i++) {
        stats_queue s;
        if (stats_queue_get(vl.v[w.rs.v[i].extra], (amqp_str){w.rs.v[i].name, (uint32_t)w.rs.v[i].namelen},
                            &s) == 0)
            json_array_append_new(items, queue_json(x->b, http_server_node(x->srv), &s));
    }
    reply_list(x, r, &p, items, w.rs.total, w.rs.n);
out:
    rows_free(&w.rs);
    http_page_free(&p);
    free(vl.v);
}

static json_t *consumer_json(http_ctx *x, conn_cache *cc, const stats_consumer *s);

typedef struct consumers_walk {
    http_ctx *x;
    json_t *arr;
    const char *queue;          /* only this queue's, or NULL */
    conn_cache cc;
} consumers_walk;

static int add_consumer(void *ctx, const stats_consumer *s)
{
    consumers_walk *w = ctx;
    if ((w->queue && strcmp(w->queue, s->queue)) || !want_vhost(w->x, s->vhost))
        return 0;
    json_array_append_new(w->arr, consumer_json(w->x, &w->cc, s));
    return 0;
}

void http_show_queue(http_ctx *x, http_reply *r)
{
    stats_queue *s;
    vhost *vh = path_vhost(x, r);
    json_t *o;

    if (!vh)
        return;
    if (!(s = malloc(sizeof *s)) || stats_queue_get(vh, param(x, 1), s) < 0) {
        free(s);
        http_reply_not_found(r);
        return;
    }
    o = queue_json(x->b, http_server_node(x->srv), s);
    if (o) {
        consumers_walk w = {.x = x, .arr = json_array(), .queue = s->name};
        stats_each_consumer(x->b, add_consumer, &w);
        json_object_set_new(o, "consumer_details", w.arr);
        json_object_set_new(o, "deliveries", json_array());
        json_object_set_new(o, "incoming", json_array());
    }
    free(s);
    http_reply_json(r, 200, o);
}

/* ---------------------------------------------------------- exchanges */

static json_t *exchange_json(const stats_exchange *s)
{
    json_t *o = json_pack("{s:o,s:b,s:b,s:b,s:o,s:s,s:s,s:o}", "arguments", http_table_json(s->arguments),
                          "auto_delete", s->auto_delete, "durable", s->durable, "internal", s->internal, "name",
                          http_json_text(s->name), "type", s->type, "user_who_performed_action", "rmq-internal",
                          "vhost", http_json_text(s->vhost));
    if (o && (s->publish_in || s->publish_out)) {
        json_t *m = json_object();
        add_count(m, "publish_in", s->publish_in, s->rate_in);
        add_count(m, "publish_out", s->publish_out, s->rate_out);
        json_object_set_new(o, "message_stats", m);
    }
    if (o && !strcmp(s->type, "x-delayed-message")) /* as the plugin's exchange info */
        json_object_set_new(o, "messages_delayed", json_integer((json_int_t)s->delayed));
    return o;
}

static int index_exchange(void *ctx, const stats_exchange *s)
{
    queue_walk *w = ctx;
    size_t len = strlen(s->name);
    const char *k = w->p->sort;
    http_row *row;

    w->rs.total++;
    if (!http_page_match(w->p, s->name, len))
        return 0;
    if (!(row = rows_add(&w->rs, s->name, len)))
        return 1;
    row_vhost(w, row);
    if (!k)
        return 0;
    if (!strcmp(k, "type"))
        row->str = strdup(s->type);
    else if (!strcmp(k, "durable"))
        row->num = s->durable;
    else if (!strcmp(k, "auto_delete"))
        row->num = s->auto_delete;
    else if (!strcmp(k, "internal"))
        row->num = s->internal;
    else if (!strcmp(k, "message_stats.publish_in"))
        row->num = (double)s->publish_in;
    else if (!strcmp(k, "message_stats.publish_out"))
        row->num = (double)s->publish_out;
    else if (!strcmp(k, "message_stats.publish_in_details.rate"))
        row->num = s->rate_in;
    else if (!strcmp(k, "message_stats.publish_out_details.rate"))
        row->num = s->rate_out;
    return 0;
}

void http_list_exchanges(http_ctx *x, http_reply *r)
{
    queue_walk w = {x, NULL, {0}, 0};
    vhost_list vl;
    http_page p;
    json_t *items;
    size_t i, first, end;
    char reason[200];

    if (list_vhosts(x, r, &vl) < 0)
        return;
    if (page_plan(x, r, &p) < 0) {
        free(vl.v);
        return;
    }
    w.p = &p;
    for (w.vi = 0; w.vi < vl.n && !w.rs.oom; w.vi++)
        stats_each_exchange(vl.v[w.vi], index_exchange, &w);
    if (w.rs.oom) {
        http_reply_json(r, 500, NULL);
        goto out;
    }
    http_rows_select(&p, w.rs.v, w.rs.n, http_page_upto(&p, w.rs.n));
    if (http_page_bounds(&p, w.rs.n, &first, &end, reason, sizeof reason) < 0) {
        http_reply_error(r, 400, "page_out_of_range", reason);
        goto out;
    }
    items = json_array();
    for (i = first; items && i < end; i++) {
        stats_exchange s;
        if (stats_exchange_get(vl.v[w.rs.v[i].extra], (amqp_str){w.rs.v[i].name, (uint32_t)w.rs.v[i].namelen},
                               &s) == 0)
            json_array_append_new(items, exchange_json(&s));
    }
    reply_list(x, r, &p, items, w.rs.total, w.rs.n);
out:
    rows_free(&w.rs);
    http_page_free(&p);
    free(vl.v);
}

void http_show_exchange(http_ctx *x, http_reply *r)
{
    stats_exchange s;
    vhost *vh = path_vhost(x, r);
    json_t *o;

    if (!vh)
        return;
    if (stats_exchange_get(vh, exchange_param(x, 1), &s) < 0) {
        http_reply_not_found(r);
        return;
    }
    o = exchange_json(&s);
    if (o) {
        json_object_set_new(o, "incoming", json_array());
        json_object_set_new(o, "outgoing", json_array());
    }
    http_reply_json(r, 200, o);
}

/* ----------------------------------------------------------- bindings */

typedef struct binding_walk {
    const char *vhost;
    json_t *arr;
    const amqp_str *key;        /* only bindings with this properties_key */
} binding_walk;

static int add_binding(void *ctx, const stats_binding *s)
{
    binding_walk *w = ctx;
    char props[HTTP_PROPS_KEY_MAX];
    size_t plen = http_props_key(s->key, s->arguments, props);

    if (w->key && (w->key->len != plen || memcmp(w->key->ptr, props, plen)))
        return 0;
    json_array_append_new(w->arr, json_pack("{s:o,s:o,s:o,s:s,s:o,s:o,s:o}", "source",
                                            http_json_textn(s->source.ptr, s->source.len), "vhost",
                                            http_json_text(w->vhost), "destination",
                                            http_json_textn(s->destination.ptr, s->destination.len),
                                            "destination_type", s->to_queue ? "queue" : "exchange", "routing_key",
                                            http_json_textn(s->key.ptr, s->key.len), "arguments",
                                            http_table_json(s->arguments), "properties_key",
                                            http_json_textn(props, plen)));
    return 0;
}

/* RabbitMQ lists bindings sorted by vhost, source, destination type and
 * name, routing key and properties key. */
static int by_binding(const void *pa, const void *pb)
{
    static const char *const keys[] = {"vhost", "source", "destination_type", "destination", "routing_key",
                                       "properties_key"};
    json_t *a = *(json_t *const *)pa, *b = *(json_t *const *)pb;
    size_t i;
    for (i = 0; i < sizeof keys / sizeof *keys; i++) {
        json_t *va = json_object_get(a, keys[i]), *vb = json_object_get(b, keys[i]);
        size_t la = json_string_length(va), lb = json_string_length(vb);
        int c = memcmp(json_string_value(va), json_string_value(vb), la < lb ? la : lb);
        if (c)
            return c;
        if (la != lb)
            return la < lb ? -1 : 1;
    }
    return 0;
}

static void sort_bindings(json_t *arr)
{
    size_t i, n = json_array_size(arr);
    json_t **v = n ? malloc(n * sizeof *v) : NULL;

    if (!v)
        return;
    for (i = 0; i < n; i++)
        v[i] = json_incref(json_array_get(arr, i));
    qsort(v, n, sizeof *v, by_binding);
    json_array_clear(arr);
    for (i = 0; i < n; i++)
        json_array_append_new(arr, v[i]);
    free(v);
}

/* The bindings of the vhosts in vl (NULL: the path's vh alone). */
static void list_bindings(http_ctx *x, http_reply *r, const vhost_list *vl, vhost *vh, const amqp_str *src,
                          const amqp_str *dst, bool to_queue, const amqp_str *key)
{
    vhost_list one = {&vh, 1};
    binding_walk w = {NULL, json_array(), key};
    size_t i;

    if (!vl)
        vl = &one;
    if (w.arr) {
        for (i = 0; i < vl->n; i++) {
            w.vhost = vl->v[i]->name;
            stats_each_binding(vl->v[i], src, dst, to_queue, add_binding, &w);
        }
        sort_bindings(w.arr);
    }
    if (key && json_array_size(w.arr) == 0) {
        json_decref(w.arr);
        http_reply_not_found(r);
        return;
    }
    http_reply_json(r, 200, key ? json_incref(json_array_get(w.arr, 0)) : w.arr);
    if (key)
        json_decref(w.arr);
}

void http_list_bindings(http_ctx *x, http_reply *r)
{
    vhost_list vl;

    if (list_vhosts(x, r, &vl) < 0)
        return;
    list_bindings(x, r, &vl, NULL, NULL, NULL, false, NULL);
    free(vl.v);
}

void http_exchange_bindings_source(http_ctx *x, http_reply *r)
{
    amqp_str name = exchange_param(x, 1);
    vhost *vh = path_vhost(x, r);
    if (!vh)
        return;
    if (!vhost_exchange(vh, name))
        http_reply_not_found(r);
    else
        list_bindings(x, r, NULL, vh, &name, NULL, false, NULL);
}

void http_exchange_bindings_destination(http_ctx *x, http_reply *r)
{
    amqp_str name = exchange_param(x, 1);
    vhost *vh = path_vhost(x, r);
    if (!vh)
        return;
    if (!vhost_exchange(vh, name))
        http_reply_not_found(r);
    else
        list_bindings(x, r, NULL, vh, NULL, &name, false, NULL);
}

void http_queue_bindings(http_ctx *x, http_reply *r)
{
    amqp_str name = param(x, 1);
    vhost *vh = path_vhost(x, r);
    if (!vh)
        return;
    if (!vhost_queue(vh, name))
        http_reply_not_found(r);
    else
        list_bindings(x, r, NULL, vh, NULL, &name, true, NULL);
}

static void between(http_ctx *x, http_reply *r, bool to_queue)
{
    amqp_str src = exchange_param(x, 1), dst = param(x, 2);
    amqp_str key;
    vhost *vh = path_vhost(x, r);
    /* missing ends are no bindings ([]), as RabbitMQ answers */
    if (!vh)
        return;
    if (x->nparams > 3) {
        key = param(x, 3);
        list_bindings(x, r, NULL, vh, &src, &dst, to_queue, &key);
    } else {
        list_bindings(x, r, NULL, vh, &src, &dst, to_queue, NULL);
    }
}

void http_bindings_between_queue(http_ctx *x, http_reply *r)
{
    between(x, r, true);
}

void http_bindings_between_exchange(http_ctx *x, http_reply *r)
{
    between(x, r, false);
}

/* -------------------------------------------------------- connections */

static json_t *connection_json(http_ctx *x, const stats_connection *s)
{
    char name[160], host[64], lhost[64];
    int port, lport;
    json_t *o;

    conn_name(s, name, sizeof name);
    split_hostport(s->name, host, sizeof host, &port);
    split_hostport(s->local, lhost, sizeof lhost, &lport);
    o = json_pack("{s:s,s:i,s:i,s:o,s:I,s:I,s:s,s:s,s:s,s:s,s:i,s:i,s:s,s:I,s:I,s:o,s:I,s:I,s:o,s:i,s:b,s:s,s:i,"
                  "s:s,s:o,s:o,s:o}",
                  "auth_mechanism", "PLAIN", "channel_max", (int)s->channel_max, "channels", (int)s->channels,
                  "client_properties", http_table_json(s->client_properties), "connected_at",
                  (json_int_t)s->connected_at, "frame_max", (json_int_t)s->frame_max, "host", lhost, "name", name,
                  "node", http_server_node(x->srv), "peer_host", host, "peer_port", port, "port", lport,
                  "protocol", "AMQP 0-9-1", "recv_cnt", (json_int_t)s->recv_cnt, "recv_oct",
                  (json_int_t)s->recv_oct, "recv_oct_details", rate(s->recv_oct_rate), "send_cnt",
                  (json_int_t)s->send_cnt, "send_oct", (json_int_t)s->send_oct, "send_oct_details",
                  rate(s->send_oct_rate), "send_pend", 0, "ssl", 0, "state", s->state, "timeout",
                  (int)s->heartbeat, "type", "network", "user", http_json_text(s->user), "user_who_performed_action",
                  http_json_text(s->user), "vhost", http_json_text(s->vhost));
    if (o) { /* the client's connection_name, as RabbitMQ shows it */
        json_t *named = json_object_get(json_object_get(o, "client_properties"), "connection_name");
        if (json_is_string(named))
            json_object_set(o, "user_provided_name", named);
    }
    /* TLS, in RabbitMQ's field names (the cipher in OpenSSL's words) */
    if (o) {
        json_object_set_new(o, "auth_mechanism", json_string(s->auth_mechanism ? s->auth_mechanism : "PLAIN"));
        json_object_set_new(o, "ssl", json_boolean(s->ssl));
        json_object_set_new(o, "ssl_protocol", s->ssl ? json_string(s->ssl_protocol) : json_null());
        json_object_set_new(o, "ssl_cipher", s->ssl && s->ssl_cipher ? json_string(s->ssl_cipher) : json_null());
        json_object_set_new(o, "peer_cert_subject",
                            s->peer_cert_subject[0] ? json_string(s->peer_cert_subject) : json_null());
        json_object_set_new(o, "peer_cert_issuer", json_null());
        json_object_set_new(o, "peer_cert_validity", json_null());
        json_object_set_new(o, "ssl_hash", json_null());
        json_object_set_new(o, "ssl_key_exchange", json_null());
    }
    return o;
}

/* What a list of sessions checks first: the vhost the path names, if any,
 * and the page asked for.  false: refused, the reply is made. */
static bool session_list_begin(http_ctx *x, http_reply *r, http_page *p)
{
    if (x->nparams && !path_vhost(x, r))
        return false;
    return page_plan(x, r, p) == 0;
}

typedef struct conn_walk {
    http_ctx *x;
    json_t *arr;
    const http_str *name;       /* find this one */
    stats_connection found;
    bool hit;
    bool denied;                /* found, but another user's (management users) */
} conn_walk;

static int add_connection(void *ctx, const stats_connection *s)
{
    conn_walk *w = ctx;
    char name[160];

    if (w->name) {
        conn_name(s, name, sizeof name);
        if (strlen(name) == w->name->len && !memcmp(name, w->name->ptr, w->name->len)) {
            if (!sees_session(w->x, s->user)) {
                w->denied = true;
                return 1;
            }
            w->found = *s;
            w->hit = true;
            w->arr = connection_json(w->x, s);
            return 1;
        }
        return 0;
    }
    if (want_vhost(w->x, s->vhost) && sees_session(w->x, s->user))
        json_array_append_new(w->arr, connection_json(w->x, s));
    return 0;
}

void http_list_connections(http_ctx *x, http_reply *r)
{
    conn_walk w = {.x = x};
    http_page p;

    if (!session_list_begin(x, r, &p))
        return;
    w.arr = json_array();
    stats_each_connection(x->b, add_connection, &w);
    reply_json_list(x, r, &p, w.arr);
    http_page_free(&p);
}

void http_show_connection(http_ctx *x, http_reply *r)
{
    conn_walk w = {.x = x, .name = &x->params[0]};

    stats_each_connection(x->b, add_connection, &w);
    if (w.denied)
        reply_not_yours(r);
    else if (!w.hit)
        http_reply_not_found(r);
    else
        http_reply_json(r, 200, w.arr);
}

/* RabbitMQ's DELETE: connection.close 320 "CONNECTION_FORCED - " and the
 * X-Reason header's text, "Closed via management plugin" without one. */
void http_close_connection(http_ctx *x, http_reply *r)
{
    conn_walk w = {.x = x, .name = &x->params[0]};
    const char *reason = x->header ? x->header(x, "X-Reason") : NULL;

    stats_each_connection(x->b, add_connection, &w);
    json_decref(w.arr);
    if (w.denied)
        reply_not_yours(r);
    else if (!w.hit || stats_connection_close(x->b, w.found.name, reason ? reason : "Closed via management plugin") < 0)
        http_reply_not_found(r);
    else
        r->status = 204;
}

/* ----------------------------------------------------------- channels */

static json_t *chstats_json(const stats_chcounters *c)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "ack", json_integer((json_int_t)c->ack));
    json_object_set_new(o, "confirm", json_integer((json_int_t)c->confirm));
    json_object_set_new(o, "deliver", json_integer((json_int_t)c->deliver));
    json_object_set_new(o, "get", json_integer((json_int_t)c->get));
    json_object_set_new(o, "publish", json_integer((json_int_t)c->publish));
    json_object_set_new(o, "redeliver", json_integer((json_int_t)c->redeliver));
    json_object_set_new(o, "return_unroutable", json_integer((json_int_t)c->return_unroutable));
    return o;
}

typedef struct chan_walk {
    http_ctx *x;
    json_t *arr;
    const http_str *name;
    conn_cache cc;
    bool denied;                /* found, but another user's */
} chan_walk;

static int add_channel(void *ctx, const stats_channel *s)
{
    chan_walk *w = ctx;
    const stats_connection *found = conn_lookup(w->x, &w->cc, s->connection);
    char cname[160], name[180], host[64];
    int port = 0;
    json_t *o;

    if (!found)
        return 0;
    conn_name(found, cname, sizeof cname);
    snprintf(name, sizeof name, "%s (%u)", cname, s->number);
    if (w->name && (strlen(name) != w->name->len || memcmp(name, w->name->ptr, w->name->len)))
        return 0;
    if (!w->name && (!want_vhost(w->x, s->vhost) || !sees_session(w->x, s->user)))
        return 0;
    if (w->name && !sees_session(w->x, s->user)) {
        w->denied = true;
        return 1;
    }
    split_hostport(found->name, host, sizeof host, &port);
    o = json_pack("{s:i,s:b,s:{s:s,s:s,s:i},s:i,s:i,s:o,s:i,s:i,s:i,s:s,s:s,s:i,s:i,s:s,s:b,s:o,s:o,s:o}",
                  "acks_uncommitted", (int)s->acks_uncommitted, "confirm", s->confirm, "connection_details",
                  "name", cname, "peer_host", host, "peer_port", port, "consumer_count", (int)s->consumers,
                  "global_prefetch_count", (int)s->global_prefetch, "message_stats", chstats_json(&s->counters),
                  "messages_unacknowledged", (int)s->unacked, "messages_uncommitted", (int)s->uncommitted,
                  "messages_unconfirmed", (int)s->unconfirmed, "name", name, "node", http_server_node(w->x->srv),
                  "number", (int)s->number, "prefetch_count", (int)s->prefetch, "state", s->state,
                  "transactional", s->tx, "user", http_json_text(s->user), "user_who_performed_action",
                  http_json_text(s->user), "vhost", http_json_text(s->vhost));
    if (w->name) {
        w->arr = o;
        return 1;
    }
    json_array_append_new(w->arr, o);
    return 0;
}

void http_list_channels(http_ctx *x, http_reply *r)
{
    chan_walk w = {.x = x};
    http_page p;

    if (!session_list_begin(x, r, &p))
        return;
    w.arr = json_array();
    stats_each_channel(x->b, add_channel, &w);
    reply_json_list(x, r, &p, w.arr);
    http_page_free(&p);
}

void http_show_channel(http_ctx *x, http_reply *r)
{
    chan_walk w = {.x = x, .name = &x->params[0]};

    stats_each_channel(x->b, add_channel, &w);
    if (w.denied)
        reply_not_yours(r);
    else if (!w.arr)
        http_reply_not_found(r);
    else
        http_reply_json(r, 200, w.arr);
}

/* ---------------------------------------------------------- consumers */

static json_t *consumer_json(http_ctx *x, conn_cache *cc, const stats_consumer *s)
{
    static const stats_connection none;
    const stats_connection *found = conn_lookup(x, cc, s->connection);
    const stats_connection c = found ? *found : none;
    char cname[160], name[180], host[64];
    int port = 0;

    conn_name(&c, cname, sizeof cname);
    snprintf(name, sizeof name, "%s (%u)", cname, s->channel);
    split_hostport(s->connection, host, sizeof host, &port);
    /* x-priority is the one consumer argument warren keeps: RabbitMQ
     * shows it in arguments */
    return json_pack("{s:o,s:b,s:b,s:s,s:{s:s,s:s,s:s,s:i,s:s,s:i,s:o},s:o,s:b,s:i,s:{s:o,s:o}}", "arguments",
                     s->priority ? json_pack("{s:i}", "x-priority", (int)s->priority) : json_object(),
                     "ack_required", s->ack_required, "active", s->active, "activity_status",
                     s->active ? "up" : "waiting", "channel_details", "connection_name", cname, "name", name,
                     "node", http_server_node(x->srv), "number", (int)s->channel, "peer_host", host, "peer_port",
                     port, "user", http_json_text(c.user), "consumer_tag", http_json_text(s->tag), "exclusive",
                     s->exclusive, "prefetch_count", (int)s->prefetch, "queue", "name", http_json_text(s->queue),
                     "vhost", http_json_text(s->vhost));
}

void http_list_consumers(http_ctx *x, http_reply *r)
{
    consumers_walk w = {.x = x, .arr = json_array()};

    if (x->nparams && !path_vhost(x, r)) {
        json_decref(w.arr);
        return;
    }
    stats_each_consumer(x->b, add_consumer, &w);
    http_reply_json(r, 200, w.arr);
}

/* ------------------------------------------------------------- browse */

#define HTTP_BROWSE_MAX 1000        /* messages one browse may return */
#define HTTP_BROWSE_TRUNCATE 65536  /* payload bytes shown by default */

typedef struct browse_out {
    http_ctx *x;
    json_t *arr;
    long truncate;
    uint32_t now;               /* loop ms mod 2^32 */
    int64_t wall;               /* wall clock ms */
} browse_out;

static int browsed(void *arg, const vhost_browsed *b)
{
    browse_out *w = arg;
    json_t *o = json_pack("{s:I,s:b}", "payload_bytes", (json_int_t)b->size, "redelivered", b->redelivered);

    if (!o)
        return -1;
    if (b->m) {
        const msg *m = b->m;
        json_object_set_new(o, "exchange", http_json_textn(msg_exchange(m), m->exlen));
        json_object_set_new(o, "routing_key", http_json_textn(msg_rk(m), m->rklen));
        json_object_set_new(o, "properties", http_props_json(msg_props(m), m->props_len));
        http_payload_json(o, msg_cbody(m), m->body_len, false, w->truncate);
    } else {
        json_object_set_new(o, "payload", json_null());
        json_object_set_new(o, "payload_encoding", json_string("unreadable"));
    }
    if (b->held) {
        const stats_unacked *u = b->held;
        uint32_t held;
        stats_connection c;
        char cname[160];
        memset(&c, 0, sizeof c);
        stats_copy_name(c.name, sizeof c.name, u->connection, strlen(u->connection));
        stats_connection_get(w->x->b, u->connection, &c);
        conn_name(&c, cname, sizeof cname);
        json_object_set_new(o, "connection", json_string(cname));
        json_object_set_new(o, "channel", json_integer(u->channel));
        json_object_set_new(o, "consumer_tag",
                            u->consumer_tag ? http_json_textn(u->consumer_tag, u->taglen) : json_null());
        json_object_set_new(o, "delivery_tag", json_integer((json_int_t)u->delivery_tag));
        held = (uint32_t)(w->now - u->at);
        json_object_set_new(o, "since", json_integer((json_int_t)(w->wall - held)));
        json_object_set_new(o, "unacked_for_ms", json_integer((json_int_t)held));
    } else {
        json_object_set_new(o, "age_ms", age(b->age_ms));
    }
    if (b->due) {
        /* held back (back-off) or delayed (x-delayed-message): when it
         * is ready again / fires */
        json_object_set_new(o, "due", json_integer((json_int_t)b->due));
        json_object_set_new(o, "due_in_ms", json_integer((json_int_t)(b->due > w->wall ? b->due - w->wall : 0)));
    }
    json_array_append_new(w->arr, o);
    return 0;
}

static bool query_long(http_ctx *x, const char *key, long lo, long hi, long *out)
{
    const http_str *v = http_query(x->t, key);
    char *end;
    long n;

    if (!v)
        return true;
    n = strtol(v->ptr, &end, 10);
    if (!v->len || *end || n < lo || n > hi)
        return false;
    *out = n;
    return true;
}

/* A browse of a queue (ready, unacked, or delayed: its back-off holds) or
 * of an x-delayed-message exchange (its delayed messages). */
static void browse(http_ctx *x, http_reply *r, bool of_exchange)
{
    const http_str *state = http_query(x->t, "state");
    vhost *vh = path_vhost(x, r);
    browse_out w = {x, NULL, HTTP_BROWSE_TRUNCATE, (uint32_t)ev_now(x->b->loop), 0};
    long count = 10;
    bool want_unacked, want_delayed;
    amqp_error err;
    int rc;

    if (!vh)
        return;
    w.wall = vhost_now_ms(vh);
    if (of_exchange && state && strcmp(state->ptr, "delayed")) {
        http_reply_error(r, 400, "bad_request", "state must be delayed");
        return;
    }
    if (state && strcmp(state->ptr, "ready") && strcmp(state->ptr, "unacked") && strcmp(state->ptr, "delayed")) {
        http_reply_error(r, 400, "bad_request", "state must be ready, unacked or delayed");
        return;
    }
    if (!query_long(x, "count", 1, HTTP_BROWSE_MAX, &count)) {
        http_reply_error(r, 400, "bad_request", "count must be an integer from 1 to 1000");
        return;
    }
    if (!query_long(x, "truncate", 0, 1L << 30, &w.truncate)) {
        http_reply_error(r, 400, "bad_request", "truncate must be a non-negative integer");
        return;
    }
    want_unacked = state && !strcmp(state->ptr, "unacked");
    want_delayed = of_exchange || (state && !strcmp(state->ptr, "delayed"));
    w.arr = json_array();
    if (!w.arr) {
        http_reply_json(r, 500, NULL);
        return;
    }
    if (want_delayed)
        rc = vhost_browse_delayed(vh, param(x, 1), of_exchange, (uint32_t)count, browsed, &w, &err);
    else
        rc = vhost_browse(vh, param(x, 1), want_unacked, (uint32_t)count, browsed, &w, &err);
    if (rc < 0) {
        json_decref(w.arr);
        http_reply_not_found(r);
        return;
    }
    http_reply_json(r, 200, w.arr);
}

void http_browse_queue(http_ctx *x, http_reply *r)
{
    browse(x, r, false);
}

void http_browse_exchange(http_ctx *x, http_reply *r)
{
    browse(x, r, true);
}

/* ----------------------------------------------------------- overview */

static bool sees_vhost_cb(void *ctx, const char *name)
{
    return http_sees_vhost(ctx, name);
}

typedef struct own_count {
    const char *user;
    uint32_t n;
} own_count;

static int count_own_connection(void *ctx, const stats_connection *s)
{
    own_count *c = ctx;
    c->n += !strcmp(s->user, c->user);
    return 0;
}

static int count_own_channel(void *ctx, const stats_channel *s)
{
    own_count *c = ctx;
    c->n += !strcmp(s->user, c->user);
    return 0;
}

/* The totals the user may see: the whole broker's for administrator and
 * monitoring users; for management users, those of the vhosts they see,
 * with their own connections and channels only (RabbitMQ's overview). */
void http_seen_totals(http_ctx *x, stats_totals *t)
{
    own_count conns = {x->user, 0}, chans = {x->user, 0};

    if (sees_all_sessions(x)) {
        stats_totals_get(x->b, t);
        return;
    }
    stats_totals_some(x->b, sees_vhost_cb, x, t);
    stats_each_connection(x->b, count_own_connection, &conns);
    stats_each_channel(x->b, count_own_channel, &chans);
    t->connections = conns.n;
    t->channels = chans.n;
}

/* The counts' rates of change (messages ready and unacknowledged) over
 * the last interval, summed over the vhosts want takes. */
static void length_rates(broker *b, bool (*want)(void *ctx, const char *name), void *ctx, double *ready_rate,
                         double *unacked_rate)
{
    stats_sample h[2];
    size_t i = 0;
    void *vh;

    *ready_rate = *unacked_rate = 0;
    while (map_next(&b->vhosts, &i, NULL, NULL, &vh))
        if (want(ctx, ((vhost *)vh)->name) && stats_history(vh, h, 2) == 2 && h[1].at > h[0].at) {
            double dt = (double)(h[1].at - h[0].at) / 1000.0;
            *ready_rate += ((double)h[1].ready - (double)h[0].ready) / dt;
            *unacked_rate += ((double)h[1].unacked - (double)h[0].unacked) / dt;
        }
}

/* message_stats of totals, as the overview and a vhost show them. */
static json_t *totals_message_stats(const stats_totals *t)
{
    json_t *m = json_object();
    if (!m)
        return NULL;
    add_count(m, "ack", t->counters.ack, t->rates.ack);
    add_count(m, "confirm", t->confirmed, 0);
    add_count(m, "deliver", t->counters.deliver, t->rates.deliver);
    add_count(m, "deliver_get", t->counters.deliver_get, t->rates.deliver_get);
    add_count(m, "deliver_no_ack", t->counters.deliver_no_ack, t->rates.deliver_no_ack);
    add_count(m, "drop_unroutable", t->unroutable - t->returned, 0);
    add_count(m, "get", t->counters.get, t->rates.get);
    add_count(m, "get_empty", t->counters.get_empty, 0);
    add_count(m, "get_no_ack", t->counters.get_no_ack, t->rates.get_no_ack);
    add_count(m, "publish", t->counters.publish, t->rates.publish);
    add_count(m, "redeliver", t->counters.redeliver, t->rates.redeliver);
    add_count(m, "return_unroutable", t->returned, 0);
    return m;
}

/* messages, messages_ready, messages_unacknowledged and their rates into o. */
static void add_lengths(json_t *o, const stats_totals *t, double ready_rate, double unacked_rate)
{
    add_count(o, "messages", t->ready + t->unacked, ready_rate + unacked_rate);
    add_count(o, "messages_ready", t->ready, ready_rate);
    add_count(o, "messages_unacknowledged", t->unacked, unacked_rate);
}

static bool is_vhost(void *ctx, const char *name)
{
    return !strcmp(ctx, name);
}

typedef struct vhost_octets {
    const char *vhost;
    uint64_t recv, send;
    double recv_rate, send_rate;
} vhost_octets;

static int add_octets(void *ctx, const stats_connection *s)
{
    vhost_octets *o = ctx;
    if (!strcmp(s->vhost, o->vhost)) {
        o->recv += s->recv_oct;
        o->send += s->send_oct;
        o->recv_rate += s->recv_oct_rate;
        o->send_rate += s->send_oct_rate;
    }
    return 0;
}

void http_vhost_stats(http_ctx *x, const char *name, json_t *o)
{
    stats_totals t;
    double ready_rate, unacked_rate;
    vhost_octets oct = {name, 0, 0, 0, 0};

    stats_totals_some(x->b, is_vhost, (void *)name, &t);
    length_rates(x->b, is_vhost, (void *)name, &ready_rate, &unacked_rate);
    add_lengths(o, &t, ready_rate, unacked_rate);
    json_object_set_new(o, "message_stats", totals_message_stats(&t));
    stats_each_connection(x->b, add_octets, &oct);
    add_count(o, "recv_oct", oct.recv, oct.recv_rate);
    add_count(o, "send_oct", oct.send, oct.send_rate);
}

json_t *http_overview_stats(http_ctx *x, json_t *o)
{
    stats_totals t;
    double ready_rate, unacked_rate;
    json_t *q, *ot;

    http_seen_totals(x, &t);
    length_rates(x->b, sees_vhost_cb, x, &ready_rate, &unacked_rate);
    q = json_object();
    if (q)
        add_lengths(q, &t, ready_rate, unacked_rate);
    ot = json_pack("{s:i,s:i,s:i,s:i}", "channels", (int)t.channels, "connections", (int)t.connections,
                   "exchanges", (int)t.exchanges, "queues", (int)t.queues);
    if (ot && sees_all_sessions(x)) /* RabbitMQ leaves it out for management users */
        json_object_set_new(ot, "consumers", json_integer((json_int_t)t.consumers));
    json_object_set_new(o, "message_stats", totals_message_stats(&t));
    json_object_set_new(o, "queue_totals", q);
    json_object_set_new(o, "object_totals", ot);
    return o;
}
