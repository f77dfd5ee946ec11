/*
 * history.c - the overview's message_stats and queue_totals with their
 * rates and, when asked, the 10-minute history of the stats API
 * (stats_history) as RabbitMQ's samples: what the dashboard's charts
 * draw.
 *
 * RabbitMQ's query parameters: ?msg_rates_age=600&msg_rates_incr=5 adds
 * "samples" (newest first, one every incr seconds over the last age
 * seconds, each the counter's value at that instant) with "avg_rate" and
 * "avg" to each message_stats *_details; ?lengths_age=&lengths_incr= does
 * the same for queue_totals.  The counts and rates themselves are the
 * overview's (a count or rate not there is filled in from the totals
 * and the last two samples); this adds the history.  warren keeps one sample every
 * STATS_INTERVAL_MS for 10 minutes: an instant's value is interpolated
 * between the samples around it, the newest instant is the newest one
 * the samples cover, an age past 600 s gets the 600 there are, and
 * instants older than the first sample are left out.
 */
#include "http/history.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/lists.h"
#include "http/users.h"
#include "stats.h"
#include "warren.h"

#define AGE_MAX_S (STATS_HISTORY * STATS_INTERVAL_MS / 1000)
#define SAMPLES_MAX 1000

typedef struct window {
    bool on;
    int64_t age_ms, incr_ms;
} window;

/* ?<prefix>_age=&<prefix>_incr=: 0, or -1 for a value that is not a
 * positive integer. */
static int window_of(http_ctx *x, const char *prefix, window *w)
{
    char key[32];
    const http_str *age, *incr;
    char *end;
    long a, i = STATS_INTERVAL_MS / 1000;

    memset(w, 0, sizeof *w);
    snprintf(key, sizeof key, "%s_age", prefix);
    if (!(age = http_query(x->t, key)))
        return 0;
    a = strtol(age->ptr, &end, 10);
    if (end == age->ptr || *end || a <= 0)
        return -1;
    snprintf(key, sizeof key, "%s_incr", prefix);
    if ((incr = http_query(x->t, key))) {
        i = strtol(incr->ptr, &end, 10);
        if (end == incr->ptr || *end || i <= 0)
            return -1;
    }
    if (a > AGE_MAX_S)
        a = AGE_MAX_S;
    if (a / i > SAMPLES_MAX)
        i = a / SAMPLES_MAX + 1;
    w->on = true;
    w->age_ms = (int64_t)a * 1000;
    w->incr_ms = (int64_t)i * 1000;
    return 0;
}

typedef uint64_t value_fn(const stats_sample *s);

/* {"rate": r} and, for a window, "samples", "avg_rate", "avg". */
static json_t *details(const stats_sample *h, size_t n, int64_t now, const window *w, value_fn *value, double rate)
{
    json_t *d = json_pack("{s:f}", "rate", rate), *arr;
    int64_t t, first_t = 0, last_t = 0;
    uint64_t first = 0, last = 0;
    double sum = 0;
    size_t k = n, count = 0;

    if (!d || !w->on)
        return d;
    if (!(arr = json_array()))
        return d;
    /* from the newest instant the history covers, so that every instant
     * lies between two samples */
    for (t = n ? h[n - 1].at / w->incr_ms * w->incr_ms : 0; n && t >= now - w->age_ms; t -= w->incr_ms) {
        uint64_t v;
        /* the newest sample at or before t (the history is oldest first) */
        while (k > 0 && h[k - 1].at > t)
            k--;
        if (k == 0)
            break;
        v = value(&h[k - 1]);
        /* the ticks that take samples drift (5 s apart, give or take the
         * 1 s tick), so the value at t is interpolated between the two
         * samples around it: a fixed grid of instants then never shows a
         * sample twice (a false 0/s) or skips one (a false double rate) */
        if (k < n && h[k].at > h[k - 1].at) {
            double a = (double)v, b = (double)value(&h[k]);
            v = (uint64_t)(a + (b - a) * (double)(t - h[k - 1].at) / (double)(h[k].at - h[k - 1].at) + 0.5);
        }
        json_array_append_new(arr, json_pack("{s:I,s:I}", "sample", (json_int_t)v, "timestamp", (json_int_t)t));
        if (!count++) {
            first = v;
            first_t = t;
        }
        last = v;
        last_t = t;
        sum += (double)v;
    }
    json_object_set_new(d, "samples", arr);
    json_object_set_new(d, "avg_rate",
                        json_real(first_t > last_t ? ((double)first - (double)last) * 1000.0 / (double)(first_t - last_t) : 0.0));
    json_object_set_new(d, "avg", json_real(count ? sum / (double)count : 0.0));
    return d;
}

#define FIELD(f) \
    static uint64_t v_##f(const stats_sample *s) { return s->m.f; }
FIELD(ack)
FIELD(deliver)
FIELD(deliver_get)
FIELD(deliver_no_ack)
FIELD(get)
FIELD(get_empty)
FIELD(get_no_ack)
FIELD(publish)
FIELD(redeliver)
static uint64_t v_messages(const stats_sample *s) { return s->ready + s->unacked; }
static uint64_t v_ready(const stats_sample *s) { return s->ready; }
static uint64_t v_unacked(const stats_sample *s) { return s->unacked; }

/* The change per second of value between the last two samples. */
static double last_rate(const stats_sample *h, size_t n, value_fn *value)
{
    if (n < 2 || h[n - 1].at <= h[n - 2].at)
        return 0.0;
    return ((double)value(&h[n - 1]) - (double)value(&h[n - 2])) * 1000.0 / (double)(h[n - 1].at - h[n - 2].at);
}

/* o[name] as an object, made when it is not there; NULL out of memory. */
static json_t *object_at(json_t *o, const char *name)
{
    json_t *v = json_object_get(o, name);

    if (json_is_object(v))
        return v;
    if (!(v = json_object()) || json_object_set_new(o, name, v) < 0)
        return NULL;
    return v;
}

typedef struct series {
    const char *name;
    value_fn *value;
} series;

/* Each series' "<name>_details" in obj gets the window's samples; a
 * count or a rate that is not there yet is filled in too. */
static void add_series(json_t *obj, const series *sv, size_t ns, const stats_sample *h, size_t n,
                       const stats_sample *now_s, int64_t now, const window *w)
{
    char key[64];
    size_t i;

    for (i = 0; obj && i < ns; i++) {
        json_t *d, *more;
        if (!json_object_get(obj, sv[i].name))
            json_object_set_new(obj, sv[i].name, json_integer((json_int_t)sv[i].value(now_s)));
        snprintf(key, sizeof key, "%s_details", sv[i].name);
        if (!(d = object_at(obj, key)) || !(more = details(h, n, now, w, sv[i].value, last_rate(h, n, sv[i].value))))
            continue;
        if (json_object_get(d, "rate"))
            json_object_del(more, "rate");
        json_object_update(d, more);
        json_decref(more);
    }
}

static void add_sample(stats_sample *d, const stats_sample *s)
{
    d->at = s->at > d->at ? s->at : d->at;
    d->m.publish += s->m.publish;
    d->m.deliver += s->m.deliver;
    d->m.deliver_no_ack += s->m.deliver_no_ack;
    d->m.get += s->m.get;
    d->m.get_no_ack += s->m.get_no_ack;
    d->m.get_empty += s->m.get_empty;
    d->m.deliver_get += s->m.deliver_get;
    d->m.ack += s->m.ack;
    d->m.redeliver += s->m.redeliver;
    d->ready += s->ready;
    d->unacked += s->unacked;
}

/* The history of the vhosts the user sees (every one for administrator
 * and monitoring users), summed sample by sample.  Every vhost is sampled
 * on the same tick, so their histories line up from the newest; a younger
 * vhost has fewer samples. */
static size_t seen_history(http_ctx *x, stats_sample *h)
{
    static stats_sample one[STATS_HISTORY]; /* the loop thread's alone */
    size_t n = 0, i = 0, k, j;
    void *vh;

    while (map_next(&x->b->vhosts, &i, NULL, NULL, &vh)) {
        if (!http_sees_vhost(x, ((vhost *)vh)->name))
            continue;
        k = stats_history(vh, one, STATS_HISTORY);
        if (k > n) {
            memmove(h + (k - n), h, n * sizeof *h);
            memset(h, 0, (k - n) * sizeof *h);
            n = k;
        }
        for (j = 0; j < k; j++)
            add_sample(&h[n - k + j], &one[j]);
    }
    return n;
}

int http_overview_history(http_ctx *x, json_t *overview, http_reply *r)
{
    static const series rates[] = {
        {"ack", v_ack},         {"deliver", v_deliver},       {"deliver_get", v_deliver_get},
        {"deliver_no_ack", v_deliver_no_ack}, {"get", v_get}, {"get_empty", v_get_empty},
        {"get_no_ack", v_get_no_ack}, {"publish", v_publish}, {"redeliver", v_redeliver},
    };
    static const series lengths[] = {
        {"messages", v_messages}, {"messages_ready", v_ready}, {"messages_unacknowledged", v_unacked}};
    stats_sample h[STATS_HISTORY];
    window mw, lw;
    stats_totals t;
    stats_sample now_s;
    int64_t now = vhost_now_ms(x->b->vh);
    size_t n;

    if (window_of(x, "msg_rates", &mw) < 0 || window_of(x, "lengths", &lw) < 0) {
        http_reply_error(r, 400, "bad_request", "msg_rates_age, msg_rates_incr, lengths_age and lengths_incr are "
                                                "positive integers (seconds)");
        return -1;
    }
    if (!mw.on && !lw.on)
        return 0;
    http_seen_totals(x, &t);
    n = seen_history(x, h);
    memset(&now_s, 0, sizeof now_s);
    now_s.m = t.counters;
    now_s.ready = t.ready;
    now_s.unacked = t.unacked;
    if (mw.on)
        add_series(object_at(overview, "message_stats"), rates, sizeof rates / sizeof *rates, h, n, &now_s, now, &mw);
    if (lw.on)
        add_series(object_at(overview, "queue_totals"), lengths, sizeof lengths / sizeof *lengths, h, n, &now_s, now,
                   &lw);
    return 0;
}
