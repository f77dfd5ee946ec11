/*
 * rabbitmq_c_load.c - a plain rabbitmq-c client as a load generator, to
 * compare warren-perf with (doc/benchmarks.md, "warren-perf against a
 * rabbitmq-c client").
 *
 *   warren-bench-rabbitmq-c [--url URL] [--count N] [--size BYTES]
 *                           [--autoack | --prefetch N [--multi-ack N]]
 *
 * One publisher thread and one consumer thread, each on its own connection
 * and written the way an ordinary rabbitmq-c program is: amqp_basic_publish
 * per message, amqp_consume_message per delivery, amqp_basic_ack per
 * message (or every --multi-ack messages with multiple=1).  Nothing is
 * batched or tuned beyond what the library does by itself, because the
 * point is to measure what a typical C client costs, next to warren-perf,
 * which speaks the protocol through warren's own codec and batches writes.
 *
 * The queue is fresh (a unique name, auto-delete, so it goes away with the
 * consumer's connection even if this program dies).  The consumer connection
 * declares it and subscribes before the publisher starts; the clock t0
 * starts then.  Rates are counted as warren-perf counts them: messages over
 * the time from t0 to the last publish (publish rate) or to the last
 * delivery (consume rate).  CPU is each thread's own CPU time
 * (CLOCK_THREAD_CPUTIME_ID) over its loop, per message, and as a share of
 * one core over the run: a share near 100 % means this client, not the
 * broker, set the rate.
 *
 * Each body carries its sequence number in the first 8 bytes; the consumer
 * checks that every message arrived once and in order.
 *
 * Exit status: 0 every message arrived in order; 1 messages missing or out
 * of order; 2 usage error or failure (cannot connect, refused, ...).
 */
#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static const char usage_text[] =
    "usage: warren-bench-rabbitmq-c [--url URL] [--count N] [--size BYTES]\n"
    "                               [--autoack | --prefetch N [--multi-ack N]]\n"
    "\n"
    "A plain rabbitmq-c client as a load generator: one publisher thread and one\n"
    "consumer thread on a fresh queue, transient messages, no confirms.  Prints\n"
    "the publish and consume rates and each thread's CPU per message, then a\n"
    "machine-readable line starting with RESULT.\n"
    "\n"
    "  --url URL        broker (default amqp://guest:guest@127.0.0.1:5672/)\n"
    "  --count N        messages to publish (default 200000)\n"
    "  --size BYTES     body size, at least 8 (default 16)\n"
    "  --autoack        consume with no-ack (default)\n"
    "  --prefetch N     manual acks, basic.qos prefetch N (0 = no limit)\n"
    "  --multi-ack N    with --prefetch: ack with multiple=1 every N messages\n"
    "                   (default 1: one ack per message)\n"
    "  --timeout S      give up when no message arrives for S seconds (default 10)\n"
    "  -h, --help       this text\n"
    "\n"
    "Exit status: 0 every message arrived in order; 1 messages missing or out of\n"
    "order; 2 usage error or failure.\n";

struct options {
    const char *url;
    long count;
    long size;
    bool autoack;
    long prefetch;
    long multi_ack;
    double timeout;
};

static struct options g_opt = {
    .url = "amqp://guest:guest@127.0.0.1:5672/",
    .count = 200000,
    .size = 16,
    .autoack = true,
    .prefetch = 0,
    .multi_ack = 1,
    .timeout = 10,
};

static struct amqp_connection_info g_info;
static char g_queue[80];

/* What each thread reports; written by that thread only, read after join. */
struct side {
    long done;                /* messages published / received */
    long out_of_order;        /* consumer: sequence numbers not the next one */
    double end;               /* monotonic time of the last message */
    double cpu;               /* thread CPU seconds in its loop */
    const char *error;        /* NULL, or what failed */
};

/* The consumer thread's side and the connection it consumes on. */
struct consumer_arg {
    struct side s;
    amqp_connection_state_t c;
};

static double now_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now_thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool reply_ok(amqp_connection_state_t c, const char *what)
{
    amqp_rpc_reply_t r = amqp_get_rpc_reply(c);
    if (r.reply_type == AMQP_RESPONSE_NORMAL)
        return true;
    if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION)
        fprintf(stderr, "warren-bench-rabbitmq-c: %s: %s\n", what,
                amqp_error_string2(r.library_error));
    else if (r.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION &&
             r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
        const amqp_channel_close_t *m = r.reply.decoded;
        fprintf(stderr, "warren-bench-rabbitmq-c: %s: %d %.*s\n", what, m->reply_code,
                (int)m->reply_text.len, (const char *)m->reply_text.bytes);
    } else if (r.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION &&
               r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
        const amqp_connection_close_t *m = r.reply.decoded;
        fprintf(stderr, "warren-bench-rabbitmq-c: %s: %d %.*s\n", what, m->reply_code,
                (int)m->reply_text.len, (const char *)m->reply_text.bytes);
    } else {
        fprintf(stderr, "warren-bench-rabbitmq-c: %s failed\n", what);
    }
    return false;
}

/* A logged-in connection with channel 1 open, or NULL (reported). */
static amqp_connection_state_t open_connection(void)
{
    amqp_connection_state_t c = amqp_new_connection();
    amqp_socket_t *s = c ? amqp_tcp_socket_new(c) : NULL;
    if (!s) {
        fprintf(stderr, "warren-bench-rabbitmq-c: out of memory\n");
        if (c)
            amqp_destroy_connection(c);
        return NULL;
    }
    int st = amqp_socket_open(s, g_info.host, g_info.port);
    if (st != AMQP_STATUS_OK) {
        fprintf(stderr, "warren-bench-rabbitmq-c: cannot connect to %s:%d: %s\n", g_info.host,
                g_info.port, amqp_error_string2(st));
        amqp_destroy_connection(c);
        return NULL;
    }
    amqp_rpc_reply_t r = amqp_login(c, g_info.vhost, 0, AMQP_DEFAULT_FRAME_SIZE, 0,
                                    AMQP_SASL_METHOD_PLAIN, g_info.user, g_info.password);
    if (r.reply_type != AMQP_RESPONSE_NORMAL) {
        fprintf(stderr, "warren-bench-rabbitmq-c: login to %s:%d refused\n", g_info.host,
                g_info.port);
        amqp_destroy_connection(c);
        return NULL;
    }
    amqp_channel_open(c, 1);
    if (!reply_ok(c, "channel.open")) {
        amqp_destroy_connection(c);
        return NULL;
    }
    return c;
}

static void close_connection(amqp_connection_state_t c)
{
    amqp_channel_close(c, 1, AMQP_REPLY_SUCCESS);
    amqp_connection_close(c, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(c);
}

static void *publisher(void *arg)
{
    struct side *p = arg;
    amqp_connection_state_t c = open_connection();
    if (!c) {
        p->error = "publisher connection failed";
        return NULL;
    }
    char *body = calloc(1, (size_t)g_opt.size);
    if (!body) {
        p->error = "out of memory";
        amqp_destroy_connection(c);
        return NULL;
    }
    amqp_bytes_t b = {(size_t)g_opt.size, body};
    amqp_bytes_t key = amqp_cstring_bytes(g_queue);
    double cpu0 = now_thread_cpu();
    for (uint64_t i = 0; i < (uint64_t)g_opt.count; i++) {
        memcpy(body, &i, sizeof i);
        int st = amqp_basic_publish(c, 1, amqp_empty_bytes, key, 0, 0, NULL, b);
        if (st != AMQP_STATUS_OK) {
            fprintf(stderr, "warren-bench-rabbitmq-c: basic.publish: %s\n", amqp_error_string2(st));
            p->error = "publish failed";
            break;
        }
        p->done++;
    }
    p->end = now_mono();
    p->cpu = now_thread_cpu() - cpu0;
    free(body);
    close_connection(c);
    return NULL;
}

static void *consumer(void *arg)
{
    struct consumer_arg *a = arg;
    struct side *s = &a->s;
    amqp_connection_state_t c = a->c;
    uint64_t expect = 0;
    long unacked = 0;
    double cpu0 = now_thread_cpu();
    struct timeval tv = {(time_t)g_opt.timeout,
                         (suseconds_t)((g_opt.timeout - (double)(time_t)g_opt.timeout) * 1e6)};
    while (s->done < g_opt.count) {
        amqp_envelope_t env;
        amqp_maybe_release_buffers(c);
        amqp_rpc_reply_t r = amqp_consume_message(c, &env, &tv, 0);
        if (r.reply_type != AMQP_RESPONSE_NORMAL) {
            if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
                r.library_error == AMQP_STATUS_TIMEOUT)
                s->error = "timed out waiting for messages";
            else
                s->error = "consume failed (connection closed?)";
            break;
        }
        uint64_t seq = UINT64_MAX;
        if (env.message.body.len >= sizeof seq)
            memcpy(&seq, env.message.body.bytes, sizeof seq);
        if (seq != expect)
            s->out_of_order++;
        expect = seq + 1;
        s->done++;
        if (!g_opt.autoack) {
            bool last = s->done == g_opt.count;
            if (++unacked >= g_opt.multi_ack || last) {
                int st = amqp_basic_ack(c, 1, env.delivery_tag, g_opt.multi_ack > 1);
                unacked = 0;
                if (st != AMQP_STATUS_OK) {
                    s->error = "ack failed";
                    amqp_destroy_envelope(&env);
                    break;
                }
            }
        }
        amqp_destroy_envelope(&env);
    }
    s->end = now_mono();
    s->cpu = now_thread_cpu() - cpu0;
    return NULL;
}

static int usage_error(const char *what, const char *arg)
{
    fprintf(stderr, "warren-bench-rabbitmq-c: %s '%s'\nTry 'warren-bench-rabbitmq-c --help'.\n",
            what, arg);
    return 2;
}

static int parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static double cpu_process(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"url", required_argument, NULL, 'u'},     {"count", required_argument, NULL, 'n'},
        {"size", required_argument, NULL, 's'},    {"autoack", no_argument, NULL, 'a'},
        {"prefetch", required_argument, NULL, 'p'}, {"multi-ack", required_argument, NULL, 'm'},
        {"timeout", required_argument, NULL, 't'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool autoack_given = false, prefetch_given = false, multi_given = false;
    long timeout = 10;
    int opt;
    while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'u': g_opt.url = optarg; break;
        case 'a': autoack_given = true; break;
        case 'n':
            if (parse_long(optarg, 1, 1000000000, &g_opt.count))
                return usage_error("--count wants a positive count, not", optarg);
            break;
        case 's':
            if (parse_long(optarg, 8, 128 * 1024, &g_opt.size))
                return usage_error("--size wants 8 to 131072 bytes, not", optarg);
            break;
        case 'p':
            if (parse_long(optarg, 0, 65535, &g_opt.prefetch))
                return usage_error("--prefetch wants 0 to 65535, not", optarg);
            prefetch_given = true;
            break;
        case 'm':
            if (parse_long(optarg, 1, 65535, &g_opt.multi_ack))
                return usage_error("--multi-ack wants 1 to 65535, not", optarg);
            multi_given = true;
            break;
        case 't':
            if (parse_long(optarg, 1, 3600, &timeout))
                return usage_error("--timeout wants whole seconds, not", optarg);
            g_opt.timeout = (double)timeout;
            break;
        case 'h': fputs(usage_text, stdout); return 0;
        default: fputs("Try 'warren-bench-rabbitmq-c --help'.\n", stderr); return 2;
        }
    }
    if (optind < argc)
        return usage_error("unexpected argument", argv[optind]);
    if (autoack_given && (prefetch_given || multi_given))
        return usage_error("--autoack takes no --prefetch or --multi-ack:", "--autoack");
    if (multi_given && !prefetch_given)
        return usage_error("--multi-ack needs --prefetch:", "--multi-ack");
    g_opt.autoack = !prefetch_given;

    char *urlbuf = strdup(g_opt.url);
    amqp_default_connection_info(&g_info);
    if (!urlbuf || amqp_parse_url(urlbuf, &g_info) != AMQP_STATUS_OK || g_info.ssl)
        return usage_error("bad URL (want amqp://user:password@host:port/vhost):", g_opt.url);
    if (g_info.vhost[0] == '\0')
        g_info.vhost = "/";
    srand((unsigned)(getpid() ^ (unsigned)time(NULL)));
    snprintf(g_queue, sizeof g_queue, "warren-bench-c-%d-%06x", (int)getpid(), rand() & 0xffffff);

    /* The consumer's connection declares the queue and subscribes before
     * anything is published. */
    amqp_connection_state_t cc = open_connection();
    if (!cc)
        return 2;
    amqp_queue_declare(cc, 1, amqp_cstring_bytes(g_queue), /*passive*/ 0, /*durable*/ 0,
                       /*exclusive*/ 0, /*auto_delete*/ 1, amqp_empty_table);
    if (!reply_ok(cc, "queue.declare"))
        return 2;
    if (!g_opt.autoack) {
        amqp_basic_qos(cc, 1, 0, (uint16_t)g_opt.prefetch, 0);
        if (!reply_ok(cc, "basic.qos"))
            return 2;
    }
    amqp_basic_consume(cc, 1, amqp_cstring_bytes(g_queue), amqp_empty_bytes, 0,
                       g_opt.autoack, 0, amqp_empty_table);
    if (!reply_ok(cc, "basic.consume"))
        return 2;

    char mode[64];
    if (g_opt.autoack)
        snprintf(mode, sizeof mode, "autoack");
    else
        snprintf(mode, sizeof mode, "manual ack, prefetch %ld, ack every %ld", g_opt.prefetch,
                 g_opt.multi_ack);
    printf("warren-bench-rabbitmq-c (rabbitmq-c %s): 1 publisher, 1 consumer, %ld-byte transient "
           "messages, %s, queue %s on %s:%d\n",
           amqp_version(), g_opt.size, mode, g_queue, g_info.host, g_info.port);
    fflush(stdout);

    struct consumer_arg con = {.c = cc};
    struct side pub = {0};
    double cpu_before = cpu_process();
    double t0 = now_mono();
    pthread_t tp, tc;
    if (pthread_create(&tc, NULL, consumer, &con) ||
        pthread_create(&tp, NULL, publisher, &pub)) {
        fprintf(stderr, "warren-bench-rabbitmq-c: cannot start threads\n");
        return 2;
    }
    pthread_join(tp, NULL);
    pthread_join(tc, NULL);
    double cpu_all = cpu_process() - cpu_before;
    double wall = (con.s.end > pub.end ? con.s.end : pub.end) - t0;

    double pub_rate = pub.done && pub.end > t0 ? (double)pub.done / (pub.end - t0) : 0;
    double con_rate = con.s.done && con.s.end > t0 ? (double)con.s.done / (con.s.end - t0) : 0;
    double pub_us = pub.done ? pub.cpu / (double)pub.done * 1e6 : 0;
    double con_us = con.s.done ? con.s.cpu / (double)con.s.done * 1e6 : 0;
    long lost = pub.done - con.s.done;
    bool ok = !pub.error && !con.s.error && lost == 0 && con.s.out_of_order == 0;

    printf("time          %.2f s\n", wall);
    printf("published     %ld msgs, %.0f msg/s\n", pub.done, pub_rate);
    printf("consumed      %ld msgs, %.0f msg/s\n", con.s.done, con_rate);
    if (ok)
        printf("check         all %ld messages arrived in order\n", pub.done);
    else
        printf("check         %ld of %ld messages MISSING, %ld out of order%s%s%s%s\n",
               lost > 0 ? lost : 0, pub.done, con.s.out_of_order, pub.error ? "; " : "",
               pub.error ? pub.error : "", con.s.error ? "; " : "",
               con.s.error ? con.s.error : "");
    printf("cpu           publisher %.3f us/msg (%.0f%% of a core), consumer %.3f us/msg "
           "(%.0f%% of a core), process %.3f us/msg\n",
           pub_us, wall > 0 ? 100 * pub.cpu / wall : 0, con_us,
           wall > 0 ? 100 * con.s.cpu / wall : 0, pub.done ? cpu_all / (double)pub.done * 1e6 : 0);
    printf("RESULT {\"client\":\"rabbitmq-c\",\"size\":%ld,\"autoack\":%s,\"prefetch\":%ld,"
           "\"multi_ack\":%ld,\"count\":%ld,\"published\":%ld,\"received\":%ld,\"lost\":%ld,"
           "\"out_of_order\":%ld,\"elapsed_s\":%.3f,\"publish_rate\":%.0f,\"consume_rate\":%.0f,"
           "\"cpu_us_per_msg\":{\"publisher\":%.4f,\"consumer\":%.4f,\"process\":%.4f},"
           "\"complete\":%s}\n",
           g_opt.size, g_opt.autoack ? "true" : "false", g_opt.autoack ? 0 : g_opt.prefetch,
           g_opt.autoack ? 0 : g_opt.multi_ack, g_opt.count, pub.done, con.s.done,
           lost > 0 ? lost : 0, con.s.out_of_order, wall, pub_rate, con_rate, pub_us, con_us,
           pub.done ? cpu_all / (double)pub.done * 1e6 : 0, ok ? "true" : "false");
    fflush(stdout);

    /* Closing the consumer's connection cancels its consumer, and the
     * auto-delete queue goes with it. */
    if (!con.s.error)
        close_connection(cc);
    else
        amqp_destroy_connection(cc);
    free(urlbuf);
    if (pub.error || (con.s.error && con.s.done == 0))
        return 2;
    return ok ? 0 : 1;
}
