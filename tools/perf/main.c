/*
 * main.c - warren-perf: options, setup, progress, verdict (see perf.h and
 * doc/perf.md).
 *
 * The main thread declares the queue on a connection of its own, starts
 * the consumers (each subscribed before anyone publishes) and then the
 * producers, and releases them all at once from a barrier: that instant is
 * t0.  Then it only watches: every 10 ms it decides whether to stop
 * publishing (duration, Ctrl-C) and whether the consumers have everything
 * (each producer finished, and every message it published has arrived or
 * was nacked, or nothing new arrived for --drain-timeout seconds); every
 * second it prints a line of rates from the counters, which it only reads.
 *
 * Exit status: 0 all good; 1 messages lost or duplicated; 2 usage error or
 * a failure (cannot connect, the server closed a connection, ...).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include "perf.h"

#define TICK_NS 10000000u
#define RPC_MS 15000

static perf_run *g_run;
static volatile sig_atomic_t g_interrupted;

static void usage(FILE *f)
{
    fprintf(f,
"usage: warren-perf [options]\n"
"An AMQP 0-9-1 load generator: producers publish to one queue, consumers\n"
"consume from it; every second a line of rates, at the end a summary and a\n"
"machine-readable line starting with RESULT.  Every message carries its\n"
"producer, sequence number and send time, so loss, duplicates, reordering and\n"
"end-to-end latency are measured exactly.  Ctrl-C stops publishing and\n"
"summarises; a second Ctrl-C quits at once.\n"
"\n"
"  --url URL            broker (default amqp://guest:guest@127.0.0.1:5672/); amqps:// for TLS\n"
"  --cacert FILE        amqps://: check the broker's certificate against this CA\n"
"                       (without it the certificate is not checked)\n"
"  --cert FILE, --key FILE  amqps://: a client certificate and its key\n"
"  --count N            messages per producer, then stop (default: no limit)\n"
"                       with no producers: messages to consume in total\n"
"  --duration S         stop publishing after S seconds (default: no limit)\n"
"  --producers N        publishing connections (default 1)\n"
"  --consumers N        consuming connections (default 1)\n"
"  --consumer-threads N spread the consumers over N threads (default 1: one\n"
"                       thread polls every consumer's connection)\n"
"  --size BYTES         body size, at least %d (default %d)\n"
"  --persistent         delivery mode 2 (default transient)\n"
"  --delay MS           an x-delay header of MS ms (a delayed-message exchange);\n"
"                       latencies are then lateness: end to end less MS\n"
"  --delay-spread MS    each message's x-delay is --delay plus 0..MS at random\n"
"                       (lateness is then not measured)\n"
"  --confirm WINDOW     publisher confirms, at most WINDOW unconfirmed\n"
"  --autoack            consume with no-ack (default: manual ack)\n"
"  --prefetch N         basic.qos prefetch count per consumer (default none)\n"
"  --multi-ack N        ack with multiple=true every N messages\n"
"  --rate R             publish at most R msg/s per producer\n"
"  --queue NAME         queue to use (default a fresh name, deleted at the end)\n"
"  --durable            declare the queue durable\n"
"  --predeclared        the queue must exist: passive declare only\n"
"  --no-declare         declare and bind nothing at all\n"
"  --exchange NAME      publish to this exchange (default \"\"); the queue is\n"
"                       bound to it with the routing key unless --no-declare\n"
"  --routing-key KEY    routing key (default the queue name)\n"
"  --drain-timeout S    after publishing ends, give up on missing messages or\n"
"                       confirms after S seconds without progress (default 10)\n"
"  --quiet              no per-second lines\n"
"  --help\n"
"\n"
"Exit status: 0 every message arrived once; 1 messages lost or duplicated;\n"
"2 usage error or failure (connection refused, closed by the server, ...).\n",
            PERF_HEAD, PERF_HEAD);
}

void perf_fail(perf_run *run, const char *who, int id, const pconn *c, int status)
{
    const char *why = c->err[0] ? c->err : perf_strerror(status);

    char name[64];

    if (id >= 0)
        snprintf(name, sizeof name, "%s %d", who, id);
    else
        snprintf(name, sizeof name, "%s", who);
    if (status != PERF_ESTOP)
        fprintf(stderr, "warren-perf: %s: %s\n", name, why);
    if (!atomic_flag_test_and_set(&run->error_claimed))
        snprintf(run->error, sizeof run->error, "%s: %s", name, why);
    atomic_store(&run->failed, true);
}

static void on_sigint(int sig)
{
    (void)sig;
    if (g_interrupted)
        _exit(130);
    g_interrupted = 1;
    if (g_run) {
        uint64_t one = 1;
        atomic_store(&g_run->stop_publish, true);
        if (write(g_run->pub_stopfd, &one, sizeof one) < 0) {
            /* nothing to do: the main loop polls the flag anyway */
        }
    }
}

static void signal_fd(int fd)
{
    uint64_t one = 1;

    if (write(fd, &one, sizeof one) < 0)
        perror("warren-perf: eventfd");
}

/* ---- options ------------------------------------------------------------- */

static bool num(const char *s, double lo, double hi, double *out)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (errno || end == s || *end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

static int parse_opts(int argc, char **argv, perf_opts *o)
{
    enum {
        O_URL = 256, O_COUNT, O_DURATION, O_PRODUCERS, O_CONSUMERS, O_CTHREADS, O_SIZE, O_PERSISTENT,
        O_CONFIRM, O_AUTOACK, O_PREFETCH, O_MULTI, O_RATE, O_QUEUE, O_DURABLE, O_PREDECLARED,
        O_NODECLARE, O_EXCHANGE, O_RKEY, O_DRAIN, O_QUIET, O_CACERT, O_CERT, O_KEY, O_DELAY, O_DELAY_SPREAD,
    };
    static const struct option longopts[] = {
        {"url", required_argument, 0, O_URL},
        {"count", required_argument, 0, O_COUNT},
        {"duration", required_argument, 0, O_DURATION},
        {"producers", required_argument, 0, O_PRODUCERS},
        {"consumers", required_argument, 0, O_CONSUMERS},
        {"consumer-threads", required_argument, 0, O_CTHREADS},
        {"size", required_argument, 0, O_SIZE},
        {"persistent", no_argument, 0, O_PERSISTENT},
        {"confirm", required_argument, 0, O_CONFIRM},
        {"autoack", no_argument, 0, O_AUTOACK},
        {"prefetch", required_argument, 0, O_PREFETCH},
        {"multi-ack", required_argument, 0, O_MULTI},
        {"rate", required_argument, 0, O_RATE},
        {"queue", required_argument, 0, O_QUEUE},
        {"durable", no_argument, 0, O_DURABLE},
        {"predeclared", no_argument, 0, O_PREDECLARED},
        {"no-declare", no_argument, 0, O_NODECLARE},
        {"exchange", required_argument, 0, O_EXCHANGE},
        {"routing-key", required_argument, 0, O_RKEY},
        {"drain-timeout", required_argument, 0, O_DRAIN},
        {"quiet", no_argument, 0, O_QUIET},
        {"cacert", required_argument, 0, O_CACERT},
        {"cert", required_argument, 0, O_CERT},
        {"key", required_argument, 0, O_KEY},
        {"delay", required_argument, 0, O_DELAY},
        {"delay-spread", required_argument, 0, O_DELAY_SPREAD},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    int ch;
    double v;

    *o = (perf_opts){
        .url = "amqp://guest:guest@127.0.0.1:5672/",
        .producers = 1,
        .consumers = 1,
        .size = PERF_HEAD,
        .exchange = "",
        .drain_timeout = 10,
    };
#define NUM(lo, hi, what)                                                                    \
    do {                                                                                     \
        if (!num(optarg, lo, hi, &v)) {                                                      \
            fprintf(stderr, "warren-perf: --%s wants %s, not '%s'\n", longopts[ch - O_URL].name, \
                    what, optarg);                                                           \
            return 2;                                                                        \
        }                                                                                    \
    } while (0)
    while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (ch) {
        case O_URL: o->url = optarg; break;
        case O_CACERT: o->cacert = optarg; break;
        case O_CERT: o->cert = optarg; break;
        case O_KEY: o->key = optarg; break;
        case O_COUNT: NUM(0, 1e15, "a message count"); o->count = (uint64_t)v; break;
        case O_DURATION: NUM(0, 1e7, "seconds"); o->duration = v; break;
        case O_PRODUCERS: NUM(0, PERF_MAX_PRODUCERS, "0..65535"); o->producers = (int)v; break;
        case O_CONSUMERS: NUM(0, 10000, "0..10000"); o->consumers = (int)v; break;
        case O_CTHREADS: NUM(1, 10000, "1..10000"); o->consumer_threads = (int)v; break;
        case O_SIZE: NUM(PERF_HEAD, 1 << 30, "a size of at least 16 bytes"); o->size = (uint32_t)v; break;
        case O_PERSISTENT: o->persistent = true; break;
        case O_DELAY: NUM(1, 4294967295.0, "ms"); o->delay_ms = (uint32_t)v; break;
        case O_DELAY_SPREAD: NUM(0, 4294967295.0, "ms"); o->delay_spread = (uint32_t)v; break;
        case O_CONFIRM: NUM(1, 1 << 24, "a window of 1 or more"); o->confirm = (uint32_t)v; break;
        case O_AUTOACK: o->autoack = true; break;
        case O_PREFETCH: NUM(0, 65535, "0..65535"); o->prefetch = (uint16_t)v; break;
        case O_MULTI: NUM(1, 1 << 24, "a count of 1 or more"); o->multi_ack = (uint32_t)v; break;
        case O_RATE: NUM(0, 1e9, "msg/s"); o->rate = v; break;
        case O_QUEUE: o->queue = optarg; break;
        case O_DURABLE: o->durable = true; break;
        case O_PREDECLARED: o->predeclared = true; break;
        case O_NODECLARE: o->no_declare = true; break;
        case O_EXCHANGE: o->exchange = optarg; break;
        case O_RKEY: o->routing_key = optarg; break;
        case O_DRAIN: NUM(0.01, 1e6, "seconds"); o->drain_timeout = v; break;
        case O_QUIET: o->quiet = true; break;
        case 'h': usage(stdout); exit(0);
        default: usage(stderr); return 2;
        }
    }
#undef NUM
    if (optind < argc) {
        fprintf(stderr, "warren-perf: unexpected argument '%s' (see --help)\n", argv[optind]);
        return 2;
    }
    if (!o->producers && !o->consumers) {
        fprintf(stderr, "warren-perf: nothing to do with no producers and no consumers\n");
        return 2;
    }
    if (o->autoack && o->multi_ack) {
        fprintf(stderr, "warren-perf: --multi-ack needs manual acks (drop --autoack)\n");
        return 2;
    }
    if (o->predeclared && o->no_declare) {
        fprintf(stderr, "warren-perf: choose --predeclared or --no-declare, not both\n");
        return 2;
    }
    if ((o->predeclared || o->no_declare) && !o->queue) {
        fprintf(stderr, "warren-perf: --predeclared and --no-declare need --queue\n");
        return 2;
    }
    if ((o->queue && strlen(o->queue) > 255) || strlen(o->exchange) > 255 ||
        (o->routing_key && strlen(o->routing_key) > 255)) {
        fprintf(stderr, "warren-perf: queue, exchange and routing key names are at most 255 bytes\n");
        return 2;
    }
    return 0;
}

/* ---- the setup connection --------------------------------------------- */

static int declare(perf_run *run, pconn *c, bool generated)
{
    const perf_opts *o = &run->o;
    amqp_method_args a;
    int r;

    if (o->no_declare)
        return PERF_OK;
    amqp_queue_declare qd = {
        .queue = amqp_cstr(run->queue),
        .passive = o->predeclared,
        .durable = o->durable,
        /* a fresh queue goes away with its last consumer even if we die */
        .auto_delete = generated && o->consumers > 0,
    };
    r = pconn_rpc(c, AMQP_QUEUE_DECLARE, &qd, AMQP_QUEUE_DECLARE_OK, &a, RPC_MS);
    if (r != PERF_OK)
        return r;
    if (a.queue_declare_ok.message_count)
        printf("note: queue %s already holds %" PRIu32 " messages%s\n", run->queue,
               a.queue_declare_ok.message_count,
               o->producers ? " (they will be counted as stale)" : "");
    if (o->exchange[0] && !o->predeclared) {
        amqp_queue_bind qb = {
            .queue = amqp_cstr(run->queue),
            .exchange = amqp_cstr(o->exchange),
            .routing_key = amqp_cstr(run->routing_key),
        };
        r = pconn_rpc(c, AMQP_QUEUE_BIND, &qb, AMQP_QUEUE_BIND_OK, &a, RPC_MS);
    }
    return r;
}

/* Delete the queue we declared under a fresh name, on a channel reopened
 * if an error closed it.  Best effort: the run's verdict does not hang on it. */
static void delete_queue(perf_run *run, pconn *c)
{
    amqp_method_args a;
    int r = PERF_OK;

    c->stopfd = -1;   /* the stop signal was for the run, not for the cleanup */
    if (c->fd < 0 || c->closed)
        return;
    if (c->channel_closed) {
        amqp_channel_open co = {{0}};
        r = pconn_rpc(c, AMQP_CHANNEL_OPEN, &co, AMQP_CHANNEL_OPEN_OK, &a, RPC_MS);
        c->channel_closed = r != PERF_OK;
    }
    if (r == PERF_OK) {
        amqp_queue_delete qd = {.queue = amqp_cstr(run->queue)};
        r = pconn_rpc(c, AMQP_QUEUE_DELETE, &qd, AMQP_QUEUE_DELETE_OK, &a, RPC_MS);
    }
    if (r != PERF_OK && c->reply_code != AMQP_NOT_FOUND)
        fprintf(stderr, "warren-perf: could not delete queue %s: %s\n", run->queue, c->err);
}

/* ---- measuring ---------------------------------------------------------- */

typedef struct totals {
    uint64_t published, confirmed, nacked, blocked_ns, blocked_count, pub_end, pub_cpu;
    uint64_t received, unique, dups, reordered, stale, foreign, con_end, con_cpu;
    int producers_done;
    bool blocked;
} totals;

static void sum_totals(const perf_run *run, totals *t)
{
    memset(t, 0, sizeof *t);
    for (int i = 0; i < run->o.producers; i++) {
        const producer *p = &run->prod[i];
        uint64_t e = perf_get(&p->t_end);
        t->published += perf_get(&p->published);
        t->confirmed += perf_get(&p->confirmed);
        t->nacked += perf_get(&p->nacked);
        t->blocked_ns += perf_get(&p->blocked_ns);
        t->blocked_count += perf_get(&p->blocked_count);
        t->pub_cpu += perf_get(&p->cpu_ns);
        t->pub_end = e > t->pub_end ? e : t->pub_end;
        t->producers_done += atomic_load(&p->finished);
        t->blocked |= p->c.blocked;   /* racy read of a bool: display only */
    }
    for (int i = 0; i < run->o.consumers; i++) {
        const consumer *k = &run->cons[i];
        uint64_t e = perf_get(&k->t_last);
        t->received += perf_get(&k->received);
        t->unique += perf_get(&k->unique);
        t->dups += perf_get(&k->dups);
        t->reordered += perf_get(&k->reordered);
        t->stale += perf_get(&k->stale);
        t->foreign += perf_get(&k->foreign);
        t->con_cpu += perf_get(&k->cpu_ns);
        t->con_end = e > t->con_end ? e : t->con_end;
    }
}

static void snap_latency(const perf_run *run, hist_snap *e2e, hist_snap *conf)
{
    memset(e2e, 0, sizeof *e2e);
    memset(conf, 0, sizeof *conf);
    for (int i = 0; i < run->o.consumers; i++)
        hist_snap_add(e2e, &run->cons[i].lat);
    for (int i = 0; i < run->o.producers; i++)
        hist_snap_add(conf, &run->prod[i].confirm_lat);
}

/* "812 ns", "41.3 us", "2.51 ms", "1.20 s" */
static const char *fmt_ns(char *buf, size_t n, uint64_t ns)
{
    if (ns < 1000)
        snprintf(buf, n, "%" PRIu64 " ns", ns);
    else if (ns < 1000000)
        snprintf(buf, n, "%.1f us", (double)ns / 1e3);
    else if (ns < 1000000000)
        snprintf(buf, n, "%.2f ms", (double)ns / 1e6);
    else
        snprintf(buf, n, "%.2f s", (double)ns / 1e9);
    return buf;
}

static double per_sec(uint64_t n, uint64_t ns)
{
    return ns ? (double)n * 1e9 / (double)ns : 0;
}

static void progress_line(const perf_run *run, uint64_t now, const totals *t, const totals *prev,
                          const hist_snap *e2e, hist_snap *prev_e2e, uint64_t dt)
{
    static hist_snap interval;
    char a[32], b[32];

    hist_snap_diff(&interval, e2e, prev_e2e);
    printf("%6.1fs", (double)(now - run->t0) / 1e9);
    if (run->o.producers)
        printf("  published %8.0f/s", per_sec(t->published - prev->published, dt));
    if (run->o.confirm)
        printf("  confirmed %8.0f/s", per_sec(t->confirmed - prev->confirmed, dt));
    if (run->o.consumers) {
        printf("  consumed %8.0f/s", per_sec(t->received - prev->received, dt));
        if (interval.count)
            printf("  latency p50 %s p99 %s", fmt_ns(a, sizeof a, hist_snap_quantile(&interval, 0.5)),
                   fmt_ns(b, sizeof b, hist_snap_quantile(&interval, 0.99)));
    }
    if (t->nacked != prev->nacked)
        printf("  NACKED %" PRIu64, t->nacked - prev->nacked);
    if (t->blocked)
        printf("  BLOCKED");
    printf("\n");
    fflush(stdout);
    *prev_e2e = *e2e;
}

/* ---- the verdict --------------------------------------------------------- */

typedef struct jbuf {
    char s[8192];
    size_t n;
} jbuf;

static void jput(jbuf *j, const char *fmt, ...)
{
    va_list ap;
    int r;

    if (j->n >= sizeof j->s)
        return;
    va_start(ap, fmt);
    r = vsnprintf(j->s + j->n, sizeof j->s - j->n, fmt, ap);
    va_end(ap);
    if (r > 0)
        j->n += (size_t)r;
}

static void jstr(jbuf *j, const char *key, const char *v)
{
    jput(j, "\"%s\":", key);
    if (!v) {
        jput(j, "null,");
        return;
    }
    jput(j, "\"");
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        if (*p == '"' || *p == '\\')
            jput(j, "\\%c", *p);
        else if (*p < 0x20)
            jput(j, "\\u%04x", *p);
        else
            jput(j, "%c", *p);
    }
    jput(j, "\",");
}

static void jlat(jbuf *j, const char *key, const hist_snap *h)
{
    if (!h->count) {
        jput(j, "\"%s\":null,", key);
        return;
    }
    jput(j, "\"%s\":{\"p50\":%.1f,\"p99\":%.1f,\"p999\":%.1f,\"max\":%.1f,\"mean\":%.1f},", key,
         hist_snap_quantile(h, 0.5) / 1e3, hist_snap_quantile(h, 0.99) / 1e3,
         hist_snap_quantile(h, 0.999) / 1e3, h->max / 1e3, (double)h->sum / (double)h->count / 1e3);
}

typedef struct verdict {
    uint64_t lost;
    bool verified, complete, timed_out, interrupted;
    const char *error;
} verdict;

static void summary(const perf_run *run, const totals *t, const hist_snap *e2e,
                    const hist_snap *conf, const verdict *v, uint64_t end)
{
    const perf_opts *o = &run->o;
    uint64_t pub_ns = t->pub_end > run->t0 ? t->pub_end - run->t0 : 0;
    uint64_t con_ns = t->con_end > run->t0 ? t->con_end - run->t0 : 0;
    double pub_rate = per_sec(t->published, pub_ns), con_rate = per_sec(t->received, con_ns);
    double pub_cpu = t->published ? (double)t->pub_cpu / 1e3 / (double)t->published : 0;
    double con_cpu = t->received ? (double)t->con_cpu / 1e3 / (double)t->received : 0;
    char a[32], b[32], c[32], d[32];
    jbuf j = {.n = 0};

    printf("--- summary: %s ---\n", run->queue);
    printf("time          %.2f s\n", (double)(end - run->t0) / 1e9);
    if (o->producers)
        printf("published     %" PRIu64 " msgs, %.0f msg/s\n", t->published, pub_rate);
    if (o->confirm) {
        printf("confirmed     %" PRIu64 " msgs, nacked %" PRIu64, t->confirmed, t->nacked);
        if (conf->count)
            printf(", confirm latency p50 %s p99 %s", fmt_ns(a, sizeof a, hist_snap_quantile(conf, 0.5)),
                   fmt_ns(b, sizeof b, hist_snap_quantile(conf, 0.99)));
        printf("\n");
    }
    if (o->consumers) {
        printf("consumed      %" PRIu64 " msgs, %.0f msg/s\n", t->received, con_rate);
        if (e2e->count)
            printf("latency       p50 %s  p99 %s  p99.9 %s  max %s\n",
                   fmt_ns(a, sizeof a, hist_snap_quantile(e2e, 0.5)),
                   fmt_ns(b, sizeof b, hist_snap_quantile(e2e, 0.99)),
                   fmt_ns(c, sizeof c, hist_snap_quantile(e2e, 0.999)), fmt_ns(d, sizeof d, e2e->max));
    }
    if (t->blocked_count)
        printf("blocked       %" PRIu64 " times by the server, %.2f s in all\n", t->blocked_count,
               (double)t->blocked_ns / 1e9);
    if (t->stale || t->foreign)
        printf("ignored       %" PRIu64 " stale (from before this run), %" PRIu64 " foreign\n",
               t->stale, t->foreign);
    if (v->verified) {
        if (v->complete)
            printf("check         all %" PRIu64 " messages arrived", t->published);
        else
            printf("check         %" PRIu64 " of %" PRIu64 " messages MISSING%s", v->lost, t->published,
                   v->timed_out ? " (gave up waiting)" : "");
        printf(", %" PRIu64 " duplicates, %" PRIu64 " reordered\n", t->dups, t->reordered);
    }
    /* CPU of our own threads: per message, and as a share of one core over
     * the run, which says at a glance whether we could be the bottleneck */
    double wall = (double)(end - run->t0);
    printf("cpu           ");
    if (o->producers)
        printf("producers %.3f us/msg (%.0f%% of a core each)%s", pub_cpu,
               100.0 * (double)t->pub_cpu / wall / o->producers, o->consumers ? ", " : "");
    if (o->consumers)
        printf("consumers %.3f us/msg (%.0f%% of a core each)", con_cpu,
               100.0 * (double)t->con_cpu / wall / o->consumers);
    printf("\n");
    if (v->error)
        printf("error         %s\n", v->error);

    jput(&j, "{");
    jstr(&j, "queue", run->queue);
    jput(&j, "\"producers\":%d,\"consumers\":%d,\"size\":%" PRIu32 ",\"persistent\":%s,"
         "\"confirm\":%" PRIu32 ",\"autoack\":%s,\"prefetch\":%u,\"multi_ack\":%" PRIu32 ","
         "\"rate\":%g,\"count\":%" PRIu64 ",\"duration\":%g,", o->producers, o->consumers, o->size,
         o->persistent ? "true" : "false", o->confirm, o->autoack ? "true" : "false",
         (unsigned)o->prefetch, o->multi_ack, o->rate, o->count, o->duration);
    jput(&j, "\"elapsed_s\":%.3f,\"published\":%" PRIu64 ",\"confirmed\":%" PRIu64 ","
         "\"nacked\":%" PRIu64 ",\"received\":%" PRIu64 ",\"unique\":%" PRIu64 ",\"lost\":%" PRIu64 ","
         "\"duplicates\":%" PRIu64 ",\"reordered\":%" PRIu64 ",\"stale\":%" PRIu64 ",\"foreign\":%" PRIu64 ",",
         (double)(end - run->t0) / 1e9, t->published, t->confirmed, t->nacked, t->received, t->unique,
         v->lost, t->dups, t->reordered, t->stale, t->foreign);
    jput(&j, "\"publish_rate\":%.0f,\"consume_rate\":%.0f,", pub_rate, con_rate);
    jlat(&j, "latency_us", e2e);
    jlat(&j, "confirm_latency_us", conf);
    jput(&j, "\"blocked_count\":%" PRIu64 ",\"blocked_s\":%.3f,", t->blocked_count,
         (double)t->blocked_ns / 1e9);
    jput(&j, "\"cpu_us_per_msg\":{\"producers\":%.4f,\"consumers\":%.4f},", pub_cpu, con_cpu);
    jput(&j, "\"verified\":%s,\"complete\":%s,\"timed_out\":%s,\"interrupted\":%s,",
         v->verified ? "true" : "false", v->complete ? "true" : "false",
         v->timed_out ? "true" : "false", v->interrupted ? "true" : "false");
    jstr(&j, "error", v->error);
    j.n--;   /* the last comma */
    jput(&j, "}");
    printf("RESULT %s\n", j.s);
    fflush(stdout);
}

/* ---- the run ------------------------------------------------------------- */

/* Deal the consumers out over the consumer threads, round-robin. */
static int make_groups(perf_run *run)
{
    int n = run->o.consumer_threads > 0 ? run->o.consumer_threads : 1;

    if (n > run->o.consumers)
        n = run->o.consumers;
    run->ngroups = n;
    if (n == 0)
        return 0;
    if (!(run->groups = calloc((size_t)n, sizeof *run->groups)))
        return -1;
    for (int g = 0; g < n; g++) {
        cgroup *grp = &run->groups[g];
        grp->run = run;
        if (!(grp->k = calloc((size_t)(run->o.consumers / n + 1), sizeof *grp->k)))
            return -1;
        for (int i = g; i < run->o.consumers; i += n)
            grp->k[grp->n++] = &run->cons[i];
    }
    return 0;
}

static int start_threads(perf_run *run)
{
    for (int i = 0; i < run->o.consumers; i++) {
        run->cons[i].run = run;
        run->cons[i].id = i;
    }
    for (int i = 0; i < run->ngroups; i++)
        if (pthread_create(&run->groups[i].thread, NULL, consumer_main, &run->groups[i]) != 0)
            return -1;
    for (int i = 0; i < run->o.producers; i++) {
        run->prod[i].run = run;
        run->prod[i].id = i;
        if (pthread_create(&run->prod[i].thread, NULL, producer_main, &run->prod[i]) != 0)
            return -1;
    }
    return 0;
}

/* Watch until the run is over; returns the verdict's timing facts. */
static void watch(perf_run *run, verdict *v)
{
    const perf_opts *o = &run->o;
    uint64_t next_report = run->t0 + 1000000000u, last_report = run->t0;
    uint64_t drain_mark = 0, last_unique = 0;
    static totals t, prev;
    static hist_snap e2e, conf, prev_e2e;

    memset(&prev, 0, sizeof prev);
    for (;;) {
        struct timespec ts = {0, TICK_NS};
        nanosleep(&ts, NULL);
        uint64_t now = perf_now();

        if (atomic_load(&run->failed))
            return;
        if (!atomic_load(&run->stop_publish) && o->duration > 0 &&
            now - run->t0 >= (uint64_t)(o->duration * 1e9)) {
            atomic_store(&run->stop_publish, true);
            signal_fd(run->pub_stopfd);
        }
        sum_totals(run, &t);
        bool stopped = atomic_load(&run->stop_publish);
        if (o->producers) {
            if (t.producers_done == o->producers) {
                if (!o->consumers || t.unique + t.nacked >= t.published)
                    return;
                /* waiting for the last messages: give up after drain_timeout
                 * without a new one */
                if (!drain_mark || t.unique != last_unique) {
                    drain_mark = now;
                    last_unique = t.unique;
                }
                if (now - drain_mark >= (uint64_t)(o->drain_timeout * 1e9)) {
                    v->timed_out = true;
                    return;
                }
            }
        } else {
            if (o->count && t.received >= o->count)
                return;
            if (stopped)
                return;
        }
        if (now >= next_report) {
            if (!o->quiet) {
                snap_latency(run, &e2e, &conf);
                progress_line(run, now, &t, &prev, &e2e, &prev_e2e, now - last_report);
            }
            prev = t;
            last_report = now;
            next_report += 1000000000u;
            if (next_report <= now)
                next_report = now + 1000000000u;
        }
    }
}

int main(int argc, char **argv)
{
    static perf_run run;
    pconn setup = {.fd = -1};
    bool generated;
    verdict v = {0};
    static totals t;
    static hist_snap e2e, conf;
    int r, rc;
    char err[512];

    if ((r = parse_opts(argc, argv, &run.o)) != 0)
        return r;
    const perf_opts *o = &run.o;
    if (perf_url_parse(o->url, &run.url, err, sizeof err) < 0) {
        fprintf(stderr, "warren-perf: %s\n", err);
        return 2;
    }
    if (run.url.tls && perf_tls_setup(o->cacert, o->cert, o->key, err, sizeof err) < 0) {
        fprintf(stderr, "warren-perf: %s\n", err);
        return 2;
    }
    if (!run.url.tls && (o->cacert || o->cert || o->key)) {
        fprintf(stderr, "warren-perf: --cacert, --cert and --key are for an amqps:// URL\n");
        return 2;
    }
    generated = !o->queue;
    if (generated)
        snprintf(run.queue, sizeof run.queue, "warren-perf-%d-%06" PRIx64, (int)getpid(),
                 perf_now() & 0xffffff);
    else
        snprintf(run.queue, sizeof run.queue, "%s", o->queue);
    snprintf(run.routing_key, sizeof run.routing_key, "%s", o->routing_key ? o->routing_key : run.queue);

    run.pub_stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    run.con_stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    run.prod = calloc((size_t)o->producers + 1, sizeof *run.prod);
    run.cons = calloc((size_t)o->consumers + 1, sizeof *run.cons);
    run.track = calloc((size_t)o->producers + 1, sizeof *run.track);
    if (run.pub_stopfd < 0 || run.con_stopfd < 0 || !run.prod || !run.cons || !run.track) {
        fprintf(stderr, "warren-perf: out of memory or file descriptors\n");
        return 2;
    }
    for (int i = 0; i < o->producers; i++)
        if (seqtrack_init(&run.track[i]) < 0) {
            fprintf(stderr, "warren-perf: out of memory\n");
            return 2;
        }
    g_run = &run;
    signal(SIGINT, on_sigint);
    signal(SIGPIPE, SIG_IGN);

    printf("warren-perf %s: %d producer%s, %d consumer%s, %" PRIu32 "-byte %s messages%s%s, "
           "queue %s on %s:%s\n", WARREN_VERSION, o->producers, o->producers == 1 ? "" : "s",
           o->consumers, o->consumers == 1 ? "" : "s", o->size,
           o->persistent ? "persistent" : "transient", o->confirm ? ", confirms" : "",
           o->consumers ? (o->autoack ? ", autoack" : ", manual ack") : "", run.queue,
           run.url.host, run.url.port);
    fflush(stdout);

    run.epoch = run.t0 = perf_now();
    r = pconn_open(&setup, &run.url, "warren-perf setup", run.pub_stopfd);
    if (r == PERF_OK)
        r = declare(&run, &setup, generated);
    if (r != PERF_OK) {
        /* still a summary and a RESULT line, for scripts */
        perf_fail(&run, "setup", -1, &setup, r);
        if (generated && !o->predeclared && !o->no_declare)
            delete_queue(&run, &setup);   /* declared, then the bind failed */
        pconn_close(&setup, 2000);
        v.error = run.error;
        summary(&run, &t, &e2e, &conf, &v, perf_now());
        return 2;
    }

    if (make_groups(&run) < 0) {
        fprintf(stderr, "warren-perf: out of memory\n");
        return 2;
    }
    pthread_barrier_init(&run.start, NULL, (unsigned)(o->producers + run.ngroups + 1));
    run.epoch = perf_now();
    if (start_threads(&run) < 0) {
        fprintf(stderr, "warren-perf: cannot start threads\n");
        return 2;
    }
    run.t0 = perf_now();           /* read by the threads after the barrier */
    pthread_barrier_wait(&run.start);
    if (!atomic_load(&run.failed))
        watch(&run, &v);

    /* stop everything, then read the counters once more */
    atomic_store(&run.stop_publish, true);
    signal_fd(run.pub_stopfd);
    for (int i = 0; i < o->producers; i++)
        pthread_join(run.prod[i].thread, NULL);
    atomic_store(&run.stop_consume, true);
    signal_fd(run.con_stopfd);
    for (int i = 0; i < run.ngroups; i++)
        pthread_join(run.groups[i].thread, NULL);
    uint64_t end = perf_now();

    if (generated)
        delete_queue(&run, &setup);
    pconn_close(&setup, 2000);

    sum_totals(&run, &t);
    snap_latency(&run, &e2e, &conf);
    v.verified = o->producers > 0 && o->consumers > 0 && !atomic_load(&run.failed);
    v.lost = v.verified && t.published > t.unique ? t.published - t.unique : 0;
    v.complete = v.verified && v.lost == 0;
    if (atomic_load(&run.failed))
        v.error = run.error;
    v.interrupted = g_interrupted;
    summary(&run, &t, &e2e, &conf, &v, end);

    rc = 0;
    if (v.verified && (v.lost || t.dups))
        rc = 1;
    if (atomic_load(&run.failed))
        rc = 2;
    for (int i = 0; i < o->producers; i++) {
        seqtrack_free(&run.track[i]);
        free(run.prod[i].tmpl);
        free(run.prod[i].ring);
    }
    for (int i = 0; i < o->consumers; i++)
        free(run.cons[i].last_seq);
    for (int i = 0; i < run.ngroups; i++)
        free(run.groups[i].k);
    free(run.groups);
    free(run.prod);
    free(run.cons);
    free(run.track);
    return rc;
}
