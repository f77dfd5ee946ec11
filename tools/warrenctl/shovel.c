/* warrenctl shovel: move a queue's backlog from one broker to another
 * over AMQP (rabbitmq-c), at least once.
 *
 *   warrenctl shovel SRC_URL SRC_QUEUE DST_URL DST_QUEUE [--count N] [--window N]
 *
 * The one verb that speaks AMQP rather than the HTTP API: what it moves are
 * messages, which the HTTP API only peeks at.  Both queues must exist (the
 * destination is declared passively: a message published to a missing
 * queue would be confirmed and dropped); definitions go first
 * (export_definitions / import_definitions).
 *
 * At-least-once, as RabbitMQ's shovel with ack-mode on-confirm: the source
 * consumes with manual acks and a prefetch of --window; each message is
 * published to the destination's default exchange (routing key DST_QUEUE,
 * mandatory, properties, headers and body as they came) on a channel in
 * confirm mode; a source message is acked only once the destination has
 * confirmed its copy.  Deliveries and publishes are in the same order on
 * one channel each, so destination tag k is source delivery k: a confirm
 * of k (multiple or not, taken up to the lowest still unconfirmed) acks
 * the source up to k with one basic.ack multiple.  If anything fails, the
 * unacked source messages go back to the source queue when the connection
 * closes; those already published may then arrive twice, never not at all.
 *
 * It moves the backlog the source queue holds at start (or --count
 * messages) and stops, printing the count, the time and the rate.
 */
#include "ctl.h"

#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct end {
    const char *what;            /* "source" or "destination" */
    char *url_copy;
    struct amqp_connection_info info;
    amqp_connection_state_t conn;
} end;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static _Noreturn void reply_fail(const end *e, amqp_rpc_reply_t r, const char *op)
{
    if (r.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION &&
        (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD || r.reply.id == AMQP_CONNECTION_CLOSE_METHOD)) {
        const amqp_channel_close_t *c = r.reply.decoded; /* same layout for both closes */
        int code = c->reply_code == 404 ? EXIT_DATAERR
                 : c->reply_code == 403 ? EXIT_NOPERM : EXIT_SOFTWARE;
        ctl_fail(code, "%s broker refused %s: %d %.*s", e->what, op, c->reply_code,
                 (int)c->reply_text.len, (const char *)c->reply_text.bytes);
    }
    if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION)
        ctl_fail(EXIT_UNAVAILABLE, "%s broker: %s failed: %s", e->what, op,
                 amqp_error_string2(r.library_error));
    ctl_fail(EXIT_SOFTWARE, "%s broker: %s failed", e->what, op);
}

static void check(const end *e, const char *op)
{
    amqp_rpc_reply_t r = amqp_get_rpc_reply(e->conn);
    if (r.reply_type != AMQP_RESPONSE_NORMAL)
        reply_fail(e, r, op);
}

static void open_end(end *e, const char *what, const char *url)
{
    e->what = what;
    e->url_copy = strdup(url);
    if (!e->url_copy)
        ctl_fail(EXIT_SOFTWARE, "out of memory");
    amqp_default_connection_info(&e->info);
    if (amqp_parse_url(e->url_copy, &e->info) != AMQP_STATUS_OK || e->info.ssl)
        ctl_fail(EXIT_USAGE, "bad %s URL '%s': expected amqp://user:password@host:port/vhost",
                 what, url);
    if (e->info.vhost[0] == '\0')
        e->info.vhost = "/";
    e->conn = amqp_new_connection();
    amqp_socket_t *s = e->conn ? amqp_tcp_socket_new(e->conn) : NULL;
    if (!s)
        ctl_fail(EXIT_SOFTWARE, "out of memory");
    struct timeval tv = {ctl.timeout, 0};
    int st = amqp_socket_open_noblock(s, e->info.host, e->info.port, &tv);
    if (st != AMQP_STATUS_OK)
        ctl_fail(EXIT_UNAVAILABLE, "cannot connect to the %s broker at %s:%d: %s", what,
                 e->info.host, e->info.port, amqp_error_string2(st));
    amqp_set_rpc_timeout(e->conn, &tv);
    amqp_rpc_reply_t r = amqp_login(e->conn, e->info.vhost, 0, 131072, 0,
                                    AMQP_SASL_METHOD_PLAIN, e->info.user, e->info.password);
    if (r.reply_type != AMQP_RESPONSE_NORMAL)
        ctl_fail(EXIT_NOPERM, "the %s broker at %s:%d refused the login of '%s' to vhost '%s'",
                 what, e->info.host, e->info.port, e->info.user, e->info.vhost);
    amqp_channel_open(e->conn, 1);
    check(e, "channel.open");
}

static void close_end(end *e)
{
    amqp_channel_close(e->conn, 1, AMQP_REPLY_SUCCESS);
    amqp_connection_close(e->conn, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(e->conn);
    free(e->url_copy);
}

/* Messages the queue holds (ready), from a passive declare. */
static uint32_t queue_count(end *e, const char *queue)
{
    amqp_queue_declare_ok_t *ok = amqp_queue_declare(e->conn, 1, amqp_cstring_bytes(queue), 1, 0,
                                                     0, 0, amqp_empty_table);
    char op[300];
    snprintf(op, sizeof op, "the passive declare of queue '%s'", queue);
    check(e, op);
    return ok->message_count;
}

/* Settle the destination's confirms that have arrived (waiting up to
 * `wait` seconds for the first); acks the source up to the highest tag
 * below which everything is confirmed.  confirmed[] is a ring of the
 * window's tags. */
typedef struct flight {
    long window;
    unsigned char *done;   /* done[tag % window] */
    uint64_t low;          /* every tag below it is confirmed and acked at the source */
    uint64_t next;         /* the next tag to publish */
} flight;

static void take_confirms(end *src, end *dst, flight *f, double wait)
{
    for (;;) {
        struct timeval tv = {(time_t)wait, (suseconds_t)((wait - (double)(time_t)wait) * 1e6)};
        amqp_frame_t fr;
        int st = amqp_simple_wait_frame_noblock(dst->conn, &fr, &tv);
        if (st == AMQP_STATUS_TIMEOUT)
            break;
        if (st != AMQP_STATUS_OK)
            ctl_fail(EXIT_UNAVAILABLE, "lost the destination broker: %s; the unconfirmed "
                     "messages stay in the source queue", amqp_error_string2(st));
        wait = 0;
        if (fr.frame_type != AMQP_FRAME_METHOD)
            continue;
        amqp_method_number_t id = fr.payload.method.id;
        if (id == AMQP_BASIC_ACK_METHOD) {
            const amqp_basic_ack_t *a = fr.payload.method.decoded;
            uint64_t from = a->multiple ? f->low : a->delivery_tag;
            for (uint64_t t = from; t <= a->delivery_tag && t < f->next; t++)
                f->done[t % (uint64_t)f->window] = 1;
        } else if (id == AMQP_BASIC_NACK_METHOD) {
            ctl_fail(EXIT_SOFTWARE, "the destination broker refused (nacked) a message; "
                     "it and the unconfirmed ones stay in the source queue");
        } else if (id == AMQP_BASIC_RETURN_METHOD) {
            ctl_fail(EXIT_DATAERR, "the destination broker returned a message (no queue to "
                     "route it to); it stays in the source queue");
        } else if (id == AMQP_CHANNEL_CLOSE_METHOD || id == AMQP_CONNECTION_CLOSE_METHOD) {
            amqp_rpc_reply_t r = {.reply_type = AMQP_RESPONSE_SERVER_EXCEPTION,
                                  .reply = fr.payload.method};
            reply_fail(dst, r, "a publish");
        }
    }
    uint64_t acked = f->low;
    while (f->low < f->next && f->done[f->low % (uint64_t)f->window]) {
        f->done[f->low % (uint64_t)f->window] = 0;
        f->low++;
    }
    if (f->low > acked && amqp_basic_ack(src->conn, 1, f->low - 1, 1) != AMQP_STATUS_OK)
        ctl_fail(EXIT_UNAVAILABLE, "lost the source broker while acking");
}

void shovel_run(const char *src_url, const char *src_queue, const char *dst_url,
                const char *dst_queue, long count, long window)
{
    end src = {0}, dst = {0};
    open_end(&src, "source", src_url);
    open_end(&dst, "destination", dst_url);
    uint32_t backlog = queue_count(&src, src_queue);
    queue_count(&dst, dst_queue);
    uint64_t want = count > 0 ? (uint64_t)count : backlog;
    ctl_banner("Shovelling %llu message(s) from queue '%s' to queue '%s' ...",
               (unsigned long long)want, src_queue, dst_queue);

    amqp_confirm_select(dst.conn, 1);
    check(&dst, "confirm.select");
    amqp_basic_qos(src.conn, 1, 0, (uint16_t)window, 0);
    check(&src, "basic.qos");
    amqp_basic_consume(src.conn, 1, amqp_cstring_bytes(src_queue), amqp_empty_bytes, 0, 0, 0,
                       amqp_empty_table);
    check(&src, "basic.consume");

    flight f = {.window = window + 1, .low = 1, .next = 1};
    f.done = calloc((size_t)f.window, 1);
    if (!f.done)
        ctl_fail(EXIT_SOFTWARE, "out of memory");
    double t0 = now(), last_progress = t0;
    while (f.low <= want) {
        bool moved = false;
        if (f.next <= want && f.next - f.low < (uint64_t)window) {
            amqp_envelope_t env;
            struct timeval zero = {0, 0};
            amqp_maybe_release_buffers(src.conn);
            amqp_rpc_reply_t r = amqp_consume_message(src.conn, &env, &zero, 0);
            if (r.reply_type == AMQP_RESPONSE_NORMAL) {
                if (env.delivery_tag != f.next)
                    ctl_fail(EXIT_SOFTWARE, "source delivery tag %llu, expected %llu",
                             (unsigned long long)env.delivery_tag, (unsigned long long)f.next);
                int st = amqp_basic_publish(dst.conn, 1, amqp_empty_bytes,
                                            amqp_cstring_bytes(dst_queue), /*mandatory*/ 1, 0,
                                            &env.message.properties, env.message.body);
                amqp_destroy_envelope(&env);
                if (st != AMQP_STATUS_OK)
                    ctl_fail(EXIT_UNAVAILABLE, "lost the destination broker: %s",
                             amqp_error_string2(st));
                f.next++;
                moved = true;
            } else if (!(r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
                         r.library_error == AMQP_STATUS_TIMEOUT)) {
                if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
                    r.library_error == AMQP_STATUS_UNEXPECTED_STATE) {
                    amqp_frame_t fr;
                    if (amqp_simple_wait_frame(src.conn, &fr) == AMQP_STATUS_OK &&
                        fr.frame_type == AMQP_FRAME_METHOD &&
                        (fr.payload.method.id == AMQP_CHANNEL_CLOSE_METHOD ||
                         fr.payload.method.id == AMQP_CONNECTION_CLOSE_METHOD)) {
                        amqp_rpc_reply_t sr = {.reply_type = AMQP_RESPONSE_SERVER_EXCEPTION,
                                               .reply = fr.payload.method};
                        reply_fail(&src, sr, "the consume");
                    }
                    continue;   /* a basic.cancel or something to ignore */
                }
                reply_fail(&src, r, "the consume");
            }
        }
        take_confirms(&src, &dst, &f, 0);
        if (moved || f.low > want) {
            last_progress = now();
            continue;
        }
        /* nothing to do now: wait for either socket */
        struct pollfd p[2] = {{.fd = amqp_get_sockfd(src.conn), .events = POLLIN},
                              {.fd = amqp_get_sockfd(dst.conn), .events = POLLIN}};
        if (!amqp_data_in_buffer(src.conn) && !amqp_frames_enqueued(src.conn) &&
            !amqp_data_in_buffer(dst.conn) && !amqp_frames_enqueued(dst.conn))
            poll(p, 2, 100);
        if (now() - last_progress > (double)ctl.timeout)
            ctl_fail(EXIT_TEMPFAIL, "nothing moved for %ld s: %llu of %llu message(s) moved "
                     "(the source queue has fewer than that?)", ctl.timeout,
                     (unsigned long long)(f.low - 1), (unsigned long long)want);
    }
    double took = now() - t0;
    free(f.done);
    close_end(&src);
    close_end(&dst);
    printf("Moved %llu message(s) from '%s' to '%s' in %.2f s (%.0f msg/s)\n",
           (unsigned long long)want, src_queue, dst_queue, took,
           took > 0 ? (double)want / took : 0.0);
}
