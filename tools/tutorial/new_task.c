/*
 * new_task.c - the work-queue tutorial's producer, in C on rabbitmq-c.
 *
 *   new_task [--url URL] [--queue NAME] [WORDS...]     one task: the words
 *   new_task [--url URL] [--queue NAME] --file F|-     one task per line
 *
 * Declares the durable queue (exactly as the Python tutorial does, so the
 * two interoperate; --passive only checks that it exists, and
 * --dead-letter-exchange adds that argument), publishes persistent
 * messages (delivery_mode 2) to the default exchange, and does not report
 * success before the broker has confirmed them (publisher confirms).  From a file it keeps up to
 * --window messages unconfirmed at once: the broker confirms in batches
 * (basic.ack with multiple=1), so thousands of lines go out in one round
 * trip per window rather than one per line.
 *
 * Confirm tracking: delivery tags are 1, 2, 3... in publish order.  Tags
 * not yet confirmed live in a ring of --window slots indexed by
 * tag % window, each remembering its line number for error messages and
 * a copy of its body.
 *
 * Failover.  Given several URLs (the nodes of a cluster), a connection
 * lost mid-run is not the end: new_task connects to the next node that
 * answers, declares the queue again, and publishes again every task not
 * yet confirmed, in order (delivery tags start again at 1 on the new
 * channel).  A task whose confirm was lost with the connection may so be
 * queued twice: at-least-once, as the worker's side is; none is lost.
 * With one URL a lost connection still ends the run (exit 7), saying how
 * many tasks were confirmed.
 *
 * Nacks.  A cluster nacks what it cannot take for a moment (a quorum
 * queue electing a new leader after its node died), so with several URLs
 * the nacked tasks are kept and published again, NACK_ROUNDS times at most
 * (0.5 s, 1 s, 2 s... apart), before the run ends with exit 6.  Each time
 * on a new connection: RabbitMQ 3.10 keeps nacking, for as long as it
 * lives, a channel that published to a quorum queue while its leader was
 * down, even once a new leader is elected (seen here after kill -9 of the
 * leader's node).  With one
 * URL a nack is final at once (a full queue with x-overflow reject-publish
 * will not make room by itself), as before.
 */
#include "common.h"

#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

static const char usage_text[] =
    "usage: new_task [--url URL]... [--queue NAME] [WORDS...]\n"
    "       new_task [--url URL]... [--queue NAME] --file FILE|-\n"
    "\n"
    "Put a task on a durable work queue as a persistent message and wait for\n"
    "the broker's publisher confirm.  The task is WORDS joined by spaces\n"
    "(default 'Hello World!'); each '.' in it is a second of work for worker.\n"
    "\n"
    "  --url URL            broker (default amqp://guest:guest@localhost:5672/);\n"
    "                       repeat it (or give URL,URL,...) for the nodes of a\n"
    "                       cluster: a lost connection moves on to the next one\n"
    "                       and the unconfirmed tasks are published again\n"
    "  --queue NAME         queue (default task_queue)\n"
    "  --queue-type T       declare the queue with x-queue-type T: classic or\n"
    "                       quorum (a replicated queue on a RabbitMQ cluster)\n"
    "  --passive            use the queue as it exists (passive declare); fail if\n"
    "                       it does not\n"
    "  --dead-letter-exchange X\n"
    "                       declare the queue with x-dead-letter-exchange X\n"
    "                       (give worker the same options)\n"
    "  --dead-letter-routing-key K\n"
    "                       with it: x-dead-letter-routing-key K\n"
    "  --delivery-limit N   declare the queue with x-delivery-limit N (warren; give\n"
    "                       worker the same option)\n"
    "  --file FILE          one task per non-empty line of FILE ('-': stdin)\n"
    "  --window N           unconfirmed messages in flight with --file (default 1000)\n"
    "  --confirm-timeout S  give up waiting for a confirm after S seconds (default 30)\n"
    "  --heartbeat S        AMQP heartbeat interval, 0 = off (default 10)\n"
    TUT_TLS_USAGE
    "  -h, --help           this text\n"
    "\n"
    "Exit status: 0 sent and confirmed; 1 other error (e.g. cannot read FILE);\n"
    "2 usage; 3 cannot connect; 4 login refused; 5 broker refused an operation;\n"
    "6 a message was nacked; 7 connection lost or no confirm in time.\n";

struct options {
    struct tut_targets targets;
    struct tut_tls tls;          /* --cacert, --cert, --key (amqps://) */
    struct tut_queue queue;
    const char *file;
    long window;
    double confirm_timeout;
    long heartbeat;
};

/* Unconfirmed messages. */
struct pending {
    long window;
    unsigned char *used;      /* used[tag % window]: still unconfirmed */
    long *line;               /* line[tag % window]: its line number */
    amqp_bytes_t *body;       /* body[tag % window]: a copy of it, to publish again */
    uint64_t next_tag;        /* tag of the next publish */
    uint64_t low;             /* every tag below this is confirmed */
    long outstanding;
    long nacked;
    long first_nacked_line;
    struct nacked *retry;     /* NULL: a nack is final; else where nacked tasks wait */
};

/* Nacked tasks to publish again: their line numbers and bodies (owned). */
struct nacked {
    size_t n, cap;
    long *line;
    amqp_bytes_t *body;
};

static void nacked_free(struct nacked *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->body[i].bytes);
    free(r->line);
    free(r->body);
    memset(r, 0, sizeof *r);
}

/* Take over `body`; -1 when out of memory (body is then freed). */
static int nacked_push(struct nacked *r, long line, amqp_bytes_t body)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 64;
        long *l = realloc(r->line, cap * sizeof *l);
        if (l)
            r->line = l;
        amqp_bytes_t *b = l ? realloc(r->body, cap * sizeof *b) : NULL;
        if (!b) {
            free(body.bytes);
            return -1;
        }
        r->body = b;
        r->cap = cap;
    }
    r->line[r->n] = line;
    r->body[r->n] = body;
    r->n++;
    return 0;
}

static int pending_init(struct pending *p, long window)
{
    memset(p, 0, sizeof *p);
    p->window = window;
    p->used = calloc((size_t)window, 1);
    p->line = calloc((size_t)window, sizeof *p->line);
    p->body = calloc((size_t)window, sizeof *p->body);
    p->next_tag = 1;
    p->low = 1;
    return p->used && p->line && p->body ? 0 : -1;
}

static void pending_free(struct pending *p)
{
    for (long i = 0; p->body && i < p->window; i++)
        free(p->body[i].bytes);
    free(p->used);
    free(p->line);
    free(p->body);
}

static int pending_add(struct pending *p, long line, const char *body, size_t len)
{
    size_t i = (size_t)(p->next_tag % (uint64_t)p->window);
    free(p->body[i].bytes);
    p->body[i].bytes = malloc(len ? len : 1);
    if (!p->body[i].bytes)
        return -1;
    memcpy(p->body[i].bytes, body, len);
    p->body[i].len = len;
    p->used[i] = 1;
    p->line[i] = line;
    p->next_tag++;
    p->outstanding++;
    return 0;
}

static void settle_one(struct pending *p, uint64_t tag, bool nack)
{
    if (tag < p->low || tag >= p->next_tag)
        return;
    size_t i = (size_t)(tag % (uint64_t)p->window);
    if (!p->used[i])
        return;
    p->used[i] = 0;
    p->outstanding--;
    if (nack && p->retry && nacked_push(p->retry, p->line[i], p->body[i]) == 0) {
        p->body[i] = amqp_empty_bytes;   /* the retry list has it now */
        return;
    }
    free(p->body[i].bytes);
    p->body[i] = amqp_empty_bytes;
    if (nack) {
        if (p->nacked++ == 0)
            p->first_nacked_line = p->line[i];
    }
}

/* basic.ack / basic.nack with delivery_tag and multiple. */
static void pending_settle(struct pending *p, uint64_t tag, bool multiple, bool nack)
{
    if (multiple) {
        for (uint64_t t = p->low; t <= tag && t < p->next_tag; t++)
            settle_one(p, t, nack);
    } else {
        settle_one(p, tag, nack);
    }
    while (p->low < p->next_tag && !p->used[p->low % (uint64_t)p->window])
        p->low++;
}

/* Tags from p->low up to the next publish: the ring needs this below
 * p->window before it may take one more. */
static uint64_t span(const struct pending *p)
{
    return p->next_tag - p->low;
}

/* Read frames until the unconfirmed span is at most `limit` (0: all
 * confirmed).  A zero timeout only takes what has already arrived. */
static int await_confirms(struct tut_conn *c, struct pending *p, long limit, double timeout,
                          struct tut_err *err)
{
    double deadline = tut_now() + timeout;
    while (span(p) > (uint64_t)limit) {
        double left = deadline - tut_now();
        if (left < 0)
            left = 0;
        struct timeval tv = {(time_t)left, (suseconds_t)((left - (double)(time_t)left) * 1e6)};
        amqp_frame_t frame;
        int st = amqp_simple_wait_frame_noblock(c->state, &frame, &tv);
        if (st == AMQP_STATUS_TIMEOUT) {
            if (timeout == 0)
                return 0;
            return tut_fail(err, TUT_EXIT_LOST, false,
                            "no publisher confirm for %ld message(s) within %g s", p->outstanding,
                            timeout);
        }
        if (st != AMQP_STATUS_OK) {
            c->conn_ok = false;
            return tut_status_err(st, "the wait for publisher confirms", err);
        }
        if (frame.frame_type != AMQP_FRAME_METHOD)
            continue;
        if (frame.payload.method.id == AMQP_BASIC_ACK_METHOD) {
            const amqp_basic_ack_t *a = frame.payload.method.decoded;
            pending_settle(p, a->delivery_tag, a->multiple, false);
        } else if (frame.payload.method.id == AMQP_BASIC_NACK_METHOD) {
            const amqp_basic_nack_t *n = frame.payload.method.decoded;
            pending_settle(p, n->delivery_tag, n->multiple, true);
        } else if (tut_async_method(c, &frame, err)) {
            return err->exit;
        }
    }
    return 0;
}

static int publish_bytes(struct tut_conn *c, const struct options *o, amqp_bytes_t b,
                         struct tut_err *err)
{
    amqp_basic_properties_t props;
    memset(&props, 0, sizeof props);
    props._flags = AMQP_BASIC_DELIVERY_MODE_FLAG;
    props.delivery_mode = 2;   /* persistent */
    int st = amqp_basic_publish(c->state, TUT_CHANNEL, amqp_empty_bytes,
                                amqp_cstring_bytes(o->queue.name), 0, 0, &props, b);
    if (st != AMQP_STATUS_OK) {
        c->conn_ok = false;
        return tut_status_err(st, "basic.publish", err);
    }
    return 0;
}

/* Connect to a broker of the list, declare the queue, select confirms. */
static int prepare(struct tut_conn *c, const struct options *o, struct tut_targets *ts,
                   bool start_next, struct tut_err *err)
{
    struct tut_conn_opts co = {.name = "new_task", .heartbeat = (int)o->heartbeat,
                               .connect_timeout = 10};
    int rc = tut_connect_any(c, ts, start_next, &co, "new_task", err);
    if (!rc)
        rc = tut_declare_queue(c, &o->queue, err);
    if (!rc) {
        amqp_confirm_select(c->state, TUT_CHANNEL);
        rc = tut_check_reply(c, amqp_get_rpc_reply(c->state), "confirm.select", err);
    }
    return rc;
}

#define FAILOVER_ROUNDS 6

/* After `err` (a lost connection), move to another broker of the list and
 * publish the unconfirmed tasks of p there again, in order, under new
 * delivery tags.  Returns 0 when all of them are out again, else the
 * error (err) to end with: no list to fail over in, or no broker of it
 * answered in FAILOVER_ROUNDS rounds (0.5 s, 1 s, 2 s... apart). */
static int failover(struct tut_conn *c, const struct options *o, struct tut_targets *ts,
                    struct pending *p, struct tut_err *err)
{
    if (ts->n < 2 || !err->retry)
        return err->exit;
    double delay = 0.5;
    for (int round = 0; round < FAILOVER_ROUNDS; round++) {
        fprintf(stderr, "new_task: %s; failing over (%ld unconfirmed task(s) to publish again)\n",
                err->msg, p->outstanding);
        if (c->conn_ok)
            tut_close(c);
        else
            tut_drop(c);
        if (round > 0) {
            struct timespec ts_wait = {(time_t)delay, (long)((delay - (double)(time_t)delay) * 1e9)};
            nanosleep(&ts_wait, NULL);
            delay *= 2;
        }
        if (prepare(c, o, ts, round == 0, err)) {
            if (!err->retry)
                return err->exit;
            continue;
        }
        /* Take the unconfirmed ones out of the ring, oldest first, and
         * publish them again as tags 1, 2, ... of the new channel. */
        struct pending old = *p;
        struct pending fresh;
        if (pending_init(&fresh, p->window))
            return tut_fail(err, TUT_EXIT_ERROR, false, "out of memory");
        int rc = 0;
        for (uint64_t t = old.low; t < old.next_tag && !rc; t++) {
            size_t i = (size_t)(t % (uint64_t)old.window);
            if (!old.used[i])
                continue;
            rc = publish_bytes(c, o, old.body[i], err);
            if (!rc && pending_add(&fresh, old.line[i], old.body[i].bytes, old.body[i].len))
                rc = tut_fail(err, TUT_EXIT_ERROR, false, "out of memory");
        }
        fresh.nacked = old.nacked;
        fresh.first_nacked_line = old.first_nacked_line;
        fresh.retry = old.retry;
        if (rc) {
            pending_free(&fresh);   /* old still holds them all */
            if (!err->retry)
                return err->exit;
            continue;
        }
        pending_free(&old);
        *p = fresh;
        fprintf(stderr, "new_task: failed over to %s\n", ts->t[ts->cur].shown);
        return 0;
    }
    return err->exit;
}

/* Publish a task already added to p as its newest; after a failure,
 * fail over (which publishes it again with the other unconfirmed ones). */
static int publish_newest(struct tut_conn *c, const struct options *o, struct tut_targets *ts,
                          struct pending *p, struct tut_err *err)
{
    size_t i = (size_t)((p->next_tag - 1) % (uint64_t)p->window);
    int rc = publish_bytes(c, o, p->body[i], err);
    return rc ? failover(c, o, ts, p, err) : 0;
}

/* Wait until at most `limit` tasks are unconfirmed, failing over as often
 * as a connection is lost meanwhile. */
static int settle(struct tut_conn *c, const struct options *o, struct tut_targets *ts,
                  struct pending *p, long limit, double timeout, struct tut_err *err)
{
    int rc;
    while ((rc = await_confirms(c, p, limit, timeout, err)) &&
           !(rc = failover(c, o, ts, p, err)))
        ;
    return rc;
}

#define NACK_ROUNDS 6

/* Publish the nacked tasks again until none is nacked or NACK_ROUNDS
 * rounds are over; what is still nacked then counts in p->nacked. */
static int resend_nacked(struct tut_conn *c, const struct options *o, struct tut_targets *ts,
                         struct pending *p, struct tut_err *err)
{
    double delay = 0.5;
    for (int round = 0; p->retry && p->retry->n && round < NACK_ROUNDS; round++) {
        struct nacked batch = *p->retry;
        memset(p->retry, 0, sizeof *p->retry);
        fprintf(stderr, "new_task: the broker nacked %zu task(s) (the queue unavailable for a "
                        "moment?); publishing them again in %.1f s on a new connection\n",
                batch.n, delay);
        struct timespec ts_wait = {(time_t)delay, (long)((delay - (double)(time_t)delay) * 1e9)};
        nanosleep(&ts_wait, NULL);
        delay *= 2;
        /* everything else is settled: the new channel's tags start at 1 */
        tut_close(c);
        p->low = p->next_tag = 1;
        int rc = prepare(c, o, ts, false, err);
        if (rc && err->retry)
            rc = failover(c, o, ts, p, err);
        for (size_t k = 0; k < batch.n && !rc; k++) {
            if (span(p) >= (uint64_t)p->window &&
                (rc = settle(c, o, ts, p, p->window - 1, o->confirm_timeout, err)))
                break;
            if (pending_add(p, batch.line[k], batch.body[k].bytes, batch.body[k].len))
                rc = tut_fail(err, TUT_EXIT_ERROR, false, "out of memory");
            else
                rc = publish_newest(c, o, ts, p, err);
        }
        nacked_free(&batch);
        if (!rc)
            rc = settle(c, o, ts, p, 0, o->confirm_timeout, err);
        if (rc)
            return rc;
    }
    if (p->retry && p->retry->n) {
        if (p->nacked == 0)
            p->first_nacked_line = p->retry->line[0];
        p->nacked += (long)p->retry->n;
        nacked_free(p->retry);
    }
    return 0;
}

/* One task per non-empty line ("\n" or "\r\n" ended) of `in`. */
static int send_lines(struct tut_conn *c, const struct options *o, struct tut_targets *ts,
                      FILE *in, struct tut_err *err)
{
    struct pending p;
    struct nacked retry = {0};
    if (pending_init(&p, o->window))
        return tut_fail(err, TUT_EXIT_ERROR, false, "out of memory");
    if (ts->n > 1)
        p.retry = &retry;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long lineno = 0, sent = 0;
    int rc = 0;
    while ((n = getline(&line, &cap, in)) >= 0) {
        lineno++;
        if (n > 0 && line[n - 1] == '\n')
            n--;
        if (n > 0 && line[n - 1] == '\r')
            n--;
        if (n == 0)
            continue;
        if (span(&p) >= (uint64_t)p.window &&
            (rc = settle(c, o, ts, &p, p.window - 1, o->confirm_timeout, err)))
            break;
        if (pending_add(&p, lineno, line, (size_t)n)) {
            rc = tut_fail(err, TUT_EXIT_ERROR, false, "out of memory");
            break;
        }
        sent++;
        if ((rc = publish_newest(c, o, ts, &p, err)))
            break;
        /* Take the confirms already here now and then, so they do not
         * pile up in the socket while we write. */
        if (sent % 256 == 0 && (rc = settle(c, o, ts, &p, 0, 0, err)))
            break;
    }
    if (!rc && ferror(in))
        rc = tut_fail(err, TUT_EXIT_ERROR, false, "cannot read %s: %s",
                      strcmp(o->file, "-") == 0 ? "stdin" : o->file, strerror(errno));
    if (!rc)
        rc = settle(c, o, ts, &p, 0, o->confirm_timeout, err);
    if (!rc)
        rc = resend_nacked(c, o, ts, &p, err);
    if (rc && sent > 0)
        fprintf(stderr, "new_task: %ld of %ld task(s) were confirmed before the error; "
                        "the rest may or may not be queued\n",
                sent - p.outstanding - p.nacked - (long)retry.n, sent);
    if (!rc && p.nacked)
        rc = tut_fail(err, TUT_EXIT_NACKED, false,
                      "the broker refused (nacked) %ld of %ld task(s), the first from line %ld",
                      p.nacked, sent, p.first_nacked_line);
    if (!rc) {
        printf(" [x] Sent %ld task%s\n", sent, sent == 1 ? "" : "s");
        fflush(stdout);
    }
    free(line);
    pending_free(&p);
    nacked_free(&retry);
    return rc;
}

static int send_words(struct tut_conn *c, const struct options *o, struct tut_targets *ts,
                      const char *message, struct tut_err *err)
{
    struct pending p;
    struct nacked retry = {0};
    if (pending_init(&p, 1) || pending_add(&p, 0, message, strlen(message))) {
        pending_free(&p);
        return tut_fail(err, TUT_EXIT_ERROR, false, "out of memory");
    }
    if (ts->n > 1)
        p.retry = &retry;
    int rc = publish_newest(c, o, ts, &p, err);
    if (!rc)
        rc = settle(c, o, ts, &p, 0, o->confirm_timeout, err);
    if (!rc)
        rc = resend_nacked(c, o, ts, &p, err);
    nacked_free(&retry);
    if (!rc && p.nacked)
        rc = tut_fail(err, TUT_EXIT_NACKED, false,
                      "the broker refused (nacked) the message; it is not queued");
    if (!rc) {
        printf(" [x] Sent '%s'\n", message);
        fflush(stdout);
    }
    pending_free(&p);
    return rc;
}

static char *join_words(int argc, char **argv)
{
    if (argc == 0)
        return strdup("Hello World!");
    size_t len = 0;
    for (int i = 0; i < argc; i++)
        len += strlen(argv[i]) + 1;
    char *s = malloc(len);
    if (!s)
        return NULL;
    s[0] = '\0';
    for (int i = 0; i < argc; i++) {
        if (i)
            strcat(s, " ");
        strcat(s, argv[i]);
    }
    return s;
}

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "new_task: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry 'new_task --help'.\n");
    return TUT_EXIT_USAGE;
}

int main(int argc, char **argv)
{
    struct options o = {
        .queue = {.name = "task_queue"},
        .window = 1000,
        .confirm_timeout = 30,
        .heartbeat = 10,
    };
    static const struct option longopts[] = {
        {"url", required_argument, NULL, 'u'},
        {"queue", required_argument, NULL, 'q'},
        {"passive", no_argument, NULL, 'P'},
        {"queue-type", required_argument, NULL, 'T'},
        {"dead-letter-exchange", required_argument, NULL, 'x'},
        {"dead-letter-routing-key", required_argument, NULL, 'k'},
        {"delivery-limit", required_argument, NULL, 'l'},
        {"file", required_argument, NULL, 'f'},
        {"window", required_argument, NULL, 'w'},
        {"confirm-timeout", required_argument, NULL, 't'},
        {"heartbeat", required_argument, NULL, 'b'},
        TUT_TLS_LONGOPTS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct tut_err err = {0};
    int opt;
    /* '+': stop at the first word, so a task may contain "-x". */
    while ((opt = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'u':
            if (tut_targets_add(&o.targets, optarg, &err))
                return usage_error("%s", err.msg);
            break;
        case 'T': o.queue.type = optarg; break;
        case 'q': o.queue.name = optarg; break;
        case 'P': o.queue.passive = true; break;
        case 'x': o.queue.dlx = optarg; break;
        case 'k': o.queue.dlrk = optarg; break;
        case 'f': o.file = optarg; break;
        case 'l':
            if (tut_parse_long(optarg, 0, 1000000, &o.queue.limit))
                return usage_error("--delivery-limit wants a count from 0 to 1000000, not '%s'", optarg);
            o.queue.has_limit = true;
            break;
        case 'w':
            if (tut_parse_long(optarg, 1, 1000000, &o.window))
                return usage_error("--window wants a count from 1 to 1000000, not '%s'", optarg);
            break;
        case 't':
            if (tut_parse_double(optarg, 0.001, 86400, &o.confirm_timeout))
                return usage_error("--confirm-timeout wants seconds, not '%s'", optarg);
            break;
        case 'b':
            if (tut_parse_long(optarg, 0, 65535, &o.heartbeat))
                return usage_error("--heartbeat wants seconds (0 = off), not '%s'", optarg);
            break;
        case 0x100: case 0x101: case 0x102:
            tut_tls_option(&o.tls, opt, optarg);
            break;
        case 'h':
            fputs(usage_text, stdout);
            return TUT_EXIT_OK;
        default:
            fprintf(stderr, "Try 'new_task --help'.\n");
            return TUT_EXIT_USAGE;
        }
    }
    if (o.file && optind < argc)
        return usage_error("%s", "give either --file or WORDS, not both");
    const char *bad = tut_queue_check(&o.queue);
    if (bad)
        return usage_error("%s", bad);

    if (o.targets.n == 0 && tut_targets_add(&o.targets, "amqp://guest:guest@localhost:5672/", &err))
        return usage_error("%s", err.msg);
    for (int i = 0; i < o.targets.n; i++)
        if (tut_target_tls(&o.targets.t[i], &o.tls, &err)) {
            fprintf(stderr, "new_task: %s\n", err.msg);
            tut_targets_free(&o.targets);
            return err.exit;
        }

    FILE *in = NULL;
    char *message = NULL;
    if (o.file) {
        in = strcmp(o.file, "-") == 0 ? stdin : fopen(o.file, "r");
        if (!in) {
            fprintf(stderr, "new_task: cannot open %s: %s\n", o.file, strerror(errno));
            tut_targets_free(&o.targets);
            return TUT_EXIT_ERROR;
        }
    } else if (!(message = join_words(argc - optind, argv + optind))) {
        fprintf(stderr, "new_task: out of memory\n");
        tut_targets_free(&o.targets);
        return TUT_EXIT_ERROR;
    }

    struct tut_conn c;
    int rc = prepare(&c, &o, &o.targets, false, &err);
    if (!rc)
        rc = in ? send_lines(&c, &o, &o.targets, in, &err)
                : send_words(&c, &o, &o.targets, message, &err);
    if (rc)
        fprintf(stderr, "new_task: %s\n", err.msg);
    tut_close(&c);

    if (in && in != stdin)
        fclose(in);
    free(message);
    tut_targets_free(&o.targets);
    return rc;
}
