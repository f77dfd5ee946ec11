/*
 * common.c - connection set-up and error reporting for the tutorial tools.
 *
 * rabbitmq-c reports failures three ways: a negative amqp_status_enum from
 * socket-level calls, an amqp_rpc_reply_t from RPCs (library exception or
 * a server channel.close / connection.close), and method frames the broker
 * sends on its own (a close, a consumer cancel).  Everything here folds
 * those into one struct tut_err, so the programs have a single place that
 * decides "exit with this code" or "reconnect and carry on".
 *
 * A server-initiated close is always answered with close-ok before the
 * connection is given up, as the protocol asks.
 */
#include "common.h"

#include <amqp_ssl_socket.h>
#include <amqp_tcp_socket.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

int tut_fail(struct tut_err *err, int exit, bool retry, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    err->exit = exit;
    err->retry = retry;
    return exit;
}

double tut_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int tut_parse_double(const char *s, double min, double max, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end != '\0' || !isfinite(v) || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int tut_parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/* ---- URL ---------------------------------------------------------------- */

int tut_target_parse(struct tut_target *t, const char *url, struct tut_err *err)
{
    memset(t, 0, sizeof *t);
    t->buf = strdup(url);
    if (!t->buf)
        return tut_fail(err, TUT_EXIT_ERROR, false, "out of memory");
    amqp_default_connection_info(&t->info);
    int st = amqp_parse_url(t->buf, &t->info);
    if (st != AMQP_STATUS_OK) {
        tut_target_free(t);
        return tut_fail(err, TUT_EXIT_USAGE, false,
                        "bad URL '%s': expected amqp://user:password@host:port/vhost", url);
    }
    /* "amqp://host:5672/" names the default vhost, as in pika and the
     * tutorial's examples; rabbitmq-c would read it as the empty vhost. */
    if (t->info.vhost[0] == '\0')
        t->info.vhost = "/";
    bool v6 = strchr(t->info.host, ':') != NULL;
    snprintf(t->shown, sizeof t->shown, "%s://%s@%s%s%s:%d/%s", t->info.ssl ? "amqps" : "amqp", t->info.user,
             v6 ? "[" : "", t->info.host, v6 ? "]" : "", t->info.port,
             strcmp(t->info.vhost, "/") == 0 ? "" : t->info.vhost);
    return 0;
}

int tut_tls_option(struct tut_tls *tls, int opt, const char *arg)
{
    switch (opt) {
    case 0x100: tls->cacert = arg; return 1;
    case 0x101: tls->cert = arg; return 1;
    case 0x102: tls->key = arg; return 1;
    default: return 0;
    }
}

int tut_target_tls(struct tut_target *t, const struct tut_tls *tls, struct tut_err *err)
{
    if ((tls->cacert || tls->cert || tls->key) && !t->info.ssl)
        return tut_fail(err, TUT_EXIT_USAGE, false, "--cacert, --cert and --key are for an amqps:// URL");
    if (t->info.ssl && !tls->cacert)
        return tut_fail(err, TUT_EXIT_USAGE, false,
                        "an amqps:// URL needs --cacert (the CA that signed the broker's certificate)");
    if (!tls->cert != !tls->key)
        return tut_fail(err, TUT_EXIT_USAGE, false, "--cert and --key go together");
    t->cacert = tls->cacert;
    t->cert = tls->cert;
    t->key = tls->key;
    return 0;
}

void tut_target_free(struct tut_target *t)
{
    free(t->buf);
    t->buf = NULL;
}

int tut_targets_add(struct tut_targets *ts, const char *urls, struct tut_err *err)
{
    char *copy = strdup(urls);
    if (!copy)
        return tut_fail(err, TUT_EXIT_ERROR, false, "out of memory");
    int rc = 0;
    char *save = NULL;
    bool any = false;
    for (char *u = strtok_r(copy, ",", &save); u && !rc; u = strtok_r(NULL, ",", &save)) {
        if (ts->n == TUT_MAX_TARGETS) {
            rc = tut_fail(err, TUT_EXIT_USAGE, false, "at most %d URLs", TUT_MAX_TARGETS);
            break;
        }
        rc = tut_target_parse(&ts->t[ts->n], u, err);
        if (!rc)
            ts->n++;
        any = true;
    }
    if (!rc && !any)
        rc = tut_fail(err, TUT_EXIT_USAGE, false, "bad URL '%s': no URL in it", urls);
    free(copy);
    return rc;
}

void tut_targets_free(struct tut_targets *ts)
{
    for (int i = 0; i < ts->n; i++)
        tut_target_free(&ts->t[i]);
    ts->n = 0;
}

/* ---- replies and errors ------------------------------------------------- */

static const char *status_text(int status)
{
    return amqp_error_string2(status);
}

int tut_status_err(int status, const char *what, struct tut_err *err)
{
    return tut_fail(err, TUT_EXIT_LOST, true, "connection lost during %s: %s", what,
                    status_text(status));
}

/* Codes after which reconnecting makes sense: the broker is shutting down
 * or restarting (320 CONNECTION_FORCED) or had an internal error (541). */
static bool close_code_retryable(int code)
{
    return code == AMQP_CONNECTION_FORCED || code == AMQP_INTERNAL_ERROR;
}

static int server_close(struct tut_conn *c, const amqp_method_t *m, const char *what,
                        struct tut_err *err)
{
    if (m->id == AMQP_CONNECTION_CLOSE_METHOD) {
        const amqp_connection_close_t *cl = m->decoded;
        amqp_connection_close_ok_t ok = {0};
        amqp_send_method(c->state, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok);
        c->conn_ok = false;
        c->chan_ok = false;
        int code = cl->reply_code;
        bool retry = close_code_retryable(code);
        return tut_fail(err, retry ? TUT_EXIT_LOST : TUT_EXIT_REFUSED, retry,
                        "broker closed the connection%s%s: %d %.*s", what ? " during " : "",
                        what ? what : "", code, (int)cl->reply_text.len,
                        (const char *)cl->reply_text.bytes);
    }
    if (m->id == AMQP_CHANNEL_CLOSE_METHOD) {
        const amqp_channel_close_t *cl = m->decoded;
        amqp_channel_close_ok_t ok = {0};
        amqp_send_method(c->state, TUT_CHANNEL, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok);
        c->chan_ok = false;
        int code = cl->reply_code;
        bool retry = close_code_retryable(code);
        return tut_fail(err, retry ? TUT_EXIT_LOST : TUT_EXIT_REFUSED, retry,
                        "broker refused %s: %d %.*s", what ? what : "the channel", code,
                        (int)cl->reply_text.len, (const char *)cl->reply_text.bytes);
    }
    return tut_fail(err, TUT_EXIT_ERROR, false, "unexpected method 0x%08x during %s",
                    (unsigned)m->id, what ? what : "a wait");
}

int tut_check_reply(struct tut_conn *c, amqp_rpc_reply_t r, const char *what,
                    struct tut_err *err)
{
    switch (r.reply_type) {
    case AMQP_RESPONSE_NORMAL:
        return 0;
    case AMQP_RESPONSE_NONE:
        c->conn_ok = false;
        return tut_fail(err, TUT_EXIT_ERROR, false, "no reply to %s", what);
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
        c->conn_ok = false;
        return tut_status_err(r.library_error, what, err);
    case AMQP_RESPONSE_SERVER_EXCEPTION:
        return server_close(c, &r.reply, what, err);
    }
    return tut_fail(err, TUT_EXIT_ERROR, false, "unknown reply type to %s", what);
}

int tut_async_method(struct tut_conn *c, const amqp_frame_t *frame, struct tut_err *err)
{
    if (frame->frame_type != AMQP_FRAME_METHOD)
        return 0;
    switch (frame->payload.method.id) {
    case AMQP_CONNECTION_CLOSE_METHOD:
    case AMQP_CHANNEL_CLOSE_METHOD:
        return server_close(c, &frame->payload.method, NULL, err);
    case AMQP_BASIC_CANCEL_METHOD:
        /* The queue was deleted under us: start over (declare, consume). */
        return tut_fail(err, TUT_EXIT_LOST, true,
                        "the broker cancelled the consumer (queue deleted?)");
    default:
        return 0;
    }
}

/* ---- connection --------------------------------------------------------- */

static struct timeval to_timeval(double s)
{
    struct timeval tv;
    tv.tv_sec = (time_t)s;
    tv.tv_usec = (suseconds_t)((s - (double)tv.tv_sec) * 1e6);
    return tv;
}

static int login_failed(struct tut_conn *c, amqp_rpc_reply_t r, const struct tut_target *t,
                        struct tut_err *err)
{
    if (r.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION &&
        r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
        const amqp_connection_close_t *cl = r.reply.decoded;
        amqp_connection_close_ok_t ok = {0};
        amqp_send_method(c->state, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok);
        return tut_fail(err, TUT_EXIT_LOGIN, true, "login to %s refused: %d %.*s", t->shown,
                        cl->reply_code, (int)cl->reply_text.len,
                        (const char *)cl->reply_text.bytes);
    }
    if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION) {
        int st = r.library_error;
        if (st == AMQP_STATUS_CONNECTION_CLOSED || st == AMQP_STATUS_SOCKET_CLOSED ||
            st == AMQP_STATUS_SOCKET_ERROR)
            return tut_fail(err, TUT_EXIT_LOGIN, true,
                            "login to %s refused: the broker closed the connection "
                            "(wrong user name or password, or no access to vhost '%s'?)",
                            t->shown, t->info.vhost);
        return tut_fail(err, TUT_EXIT_CONNECT, true,
                        "no AMQP 0-9-1 handshake with %s: %s", t->shown, status_text(st));
    }
    return tut_fail(err, TUT_EXIT_LOGIN, true, "login to %s failed", t->shown);
}

int tut_connect(struct tut_conn *c, const struct tut_target *t,
                const struct tut_conn_opts *o, struct tut_err *err)
{
    memset(c, 0, sizeof *c);
    c->state = amqp_new_connection();
    if (!c->state)
        return tut_fail(err, TUT_EXIT_ERROR, false, "out of memory");
    amqp_socket_t *sock = t->info.ssl ? amqp_ssl_socket_new(c->state) : amqp_tcp_socket_new(c->state);
    if (!sock) {
        tut_drop(c);
        return tut_fail(err, TUT_EXIT_ERROR, false, "out of memory");
    }
    if (t->info.ssl) {
        /* the broker's certificate and host name are checked (rabbitmq-c's
         * defaults), TLS 1.2 at least */
        amqp_ssl_socket_set_verify_peer(sock, 1);
        amqp_ssl_socket_set_verify_hostname(sock, 1);
        amqp_ssl_socket_set_ssl_versions(sock, AMQP_TLSv1_2, AMQP_TLSvLATEST);
        if (amqp_ssl_socket_set_cacert(sock, t->cacert) != AMQP_STATUS_OK) {
            tut_drop(c);
            return tut_fail(err, TUT_EXIT_USAGE, false, "cannot read the CA certificate %s", t->cacert);
        }
        if (t->cert && amqp_ssl_socket_set_key(sock, t->cert, t->key) != AMQP_STATUS_OK) {
            tut_drop(c);
            return tut_fail(err, TUT_EXIT_USAGE, false, "cannot read the client certificate %s or key %s",
                            t->cert, t->key);
        }
    }

    struct timeval tv = to_timeval(o->connect_timeout);
    int st = amqp_socket_open_noblock(sock, t->info.host, t->info.port, &tv);
    if (st != AMQP_STATUS_OK) {
        tut_drop(c);
        /* rabbitmq-c keeps no errno; refused is by far the usual cause. */
        return tut_fail(err, TUT_EXIT_CONNECT, true, "cannot connect to %s: %s%s", t->shown,
                        status_text(st),
                        st == AMQP_STATUS_SOCKET_ERROR
                            ? " (connection refused? is the broker running there?)" : "");
    }
    /* A command the worker runs must not inherit the socket: it would keep
     * the connection open after the worker died, and the broker would not
     * requeue the task in hand. */
    int fd = amqp_socket_get_sockfd(sock);
    if (fd >= 0)
        fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) | FD_CLOEXEC);

    amqp_set_handshake_timeout(c->state, &tv);
    struct timeval rpc = {30, 0};
    amqp_set_rpc_timeout(c->state, &rpc);

    /* Ask to be told (basic.cancel) when our queue is deleted under the
     * consumer; rabbitmq-c merges these with its own client properties. */
    amqp_table_entry_t cap;
    cap.key = amqp_cstring_bytes("consumer_cancel_notify");
    cap.value.kind = AMQP_FIELD_KIND_BOOLEAN;
    cap.value.value.boolean = 1;
    amqp_table_entry_t prop[2];
    prop[0].key = amqp_cstring_bytes("connection_name");
    prop[0].value.kind = AMQP_FIELD_KIND_UTF8;
    prop[0].value.value.bytes = amqp_cstring_bytes(o->name);
    prop[1].key = amqp_cstring_bytes("capabilities");
    prop[1].value.kind = AMQP_FIELD_KIND_TABLE;
    prop[1].value.value.table = (amqp_table_t){1, &cap};
    amqp_table_t props = {2, prop};
    amqp_rpc_reply_t r = amqp_login_with_properties(
        c->state, t->info.vhost, 0, AMQP_DEFAULT_FRAME_SIZE, o->heartbeat, &props,
        AMQP_SASL_METHOD_PLAIN, t->info.user, t->info.password);
    if (r.reply_type != AMQP_RESPONSE_NORMAL) {
        int rc = login_failed(c, r, t, err);
        tut_drop(c);
        return rc;
    }
    c->conn_ok = true;
    c->heartbeat = amqp_get_heartbeat(c->state);
    c->last_beat = tut_now();

    amqp_channel_open(c->state, TUT_CHANNEL);
    if (tut_check_reply(c, amqp_get_rpc_reply(c->state), "channel.open", err)) {
        tut_close(c);
        return err->exit;
    }
    c->chan_ok = true;
    return 0;
}

int tut_connect_any(struct tut_conn *c, struct tut_targets *ts, bool start_next,
                    const struct tut_conn_opts *o, const char *prog, struct tut_err *err)
{
    int first = start_next ? (ts->cur + 1) % ts->n : ts->cur;
    int rc = 0;
    for (int k = 0; k < ts->n; k++) {
        int i = (first + k) % ts->n;
        rc = tut_connect(c, &ts->t[i], o, err);
        if (!rc) {
            ts->cur = i;
            return 0;
        }
        /* A refused login or vhost is the same everywhere in a cluster,
         * but not necessarily across brokers: go on with the others. */
        if (k + 1 < ts->n)
            fprintf(stderr, "%s: %s; trying %s\n", prog, err->msg,
                    ts->t[(i + 1) % ts->n].shown);
    }
    return rc;
}

void tut_drop(struct tut_conn *c)
{
    if (c->state)
        amqp_destroy_connection(c->state);
    c->state = NULL;
    c->conn_ok = false;
    c->chan_ok = false;
}

void tut_close(struct tut_conn *c)
{
    if (!c->state)
        return;
    if (c->conn_ok && c->chan_ok)
        amqp_channel_close(c->state, TUT_CHANNEL, AMQP_REPLY_SUCCESS);
    if (c->conn_ok)
        amqp_connection_close(c->state, AMQP_REPLY_SUCCESS);
    tut_drop(c);
}

const char *tut_queue_check(const struct tut_queue *q)
{
    if (strlen(q->name) > 255)
        return "--queue: a queue name has at most 255 bytes";
    if (q->passive && (q->dlx || q->dlrk))
        return "--passive uses the queue as it is: it takes no --dead-letter-exchange "
               "or --dead-letter-routing-key";
    if (q->dlrk && !q->dlx)
        return "--dead-letter-routing-key needs --dead-letter-exchange";
    if ((q->dlx && strlen(q->dlx) > 255) || (q->dlrk && strlen(q->dlrk) > 255))
        return "an exchange name or routing key has at most 255 bytes";
    if (q->type && strcmp(q->type, "classic") != 0 && strcmp(q->type, "quorum") != 0)
        return "--queue-type wants classic or quorum";
    if (q->passive && q->type)
        return "--passive uses the queue as it is: it takes no --queue-type";
    return NULL;
}

int tut_declare_queue(struct tut_conn *c, const struct tut_queue *q, struct tut_err *err)
{
    amqp_table_entry_t arg[4];
    int n = 0;
    const char *key[3], *val[3];
    if (!q->passive && q->dlx) {
        key[n] = "x-dead-letter-exchange";
        val[n++] = q->dlx;
        if (q->dlrk) {
            key[n] = "x-dead-letter-routing-key";
            val[n++] = q->dlrk;
        }
    }
    if (!q->passive && q->type) {
        key[n] = "x-queue-type";
        val[n++] = q->type;
    }
    for (int i = 0; i < n; i++) {
        arg[i].key = amqp_cstring_bytes(key[i]);
        arg[i].value.kind = AMQP_FIELD_KIND_UTF8;
        arg[i].value.value.bytes = amqp_cstring_bytes(val[i]);
    }
    if (!q->passive && q->has_limit) {
        arg[n].key = amqp_cstring_bytes("x-delivery-limit");
        arg[n].value.kind = AMQP_FIELD_KIND_I64;
        arg[n].value.value.i64 = q->limit;
        n++;
    }
    amqp_table_t args = {n, arg};
    amqp_queue_declare(c->state, TUT_CHANNEL, amqp_cstring_bytes(q->name), q->passive,
                       /*durable*/ 1, /*exclusive*/ 0, /*auto_delete*/ 0, args);
    char what[300];
    snprintf(what, sizeof what, "%squeue.declare of '%s'", q->passive ? "passive " : "",
             q->name);
    return tut_check_reply(c, amqp_get_rpc_reply(c->state), what, err);
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Walk the frames peeked at the head of the socket: heartbeats are
 * skipped; 1 = a connection.close or channel.close comes next, 0 =
 * something else (a delivery) or not enough bytes to tell. */
static int close_waiting(const unsigned char *b, size_t n)
{
    size_t pos = 0;
    while (n - pos >= 7) {
        unsigned type = b[pos];
        uint32_t size = get32(b + pos + 3);
        if (type == AMQP_FRAME_HEARTBEAT) {
            if (size > n - pos - 7)
                return 0;
            pos += 8 + (size_t)size;
            continue;
        }
        if (type != AMQP_FRAME_METHOD || n - pos < 11)
            return 0;
        uint32_t id = get32(b + pos + 7);
        return id == AMQP_CONNECTION_CLOSE_METHOD || id == AMQP_CHANNEL_CLOSE_METHOD;
    }
    return 0;
}

bool tut_peer_closed(struct tut_conn *c, struct tut_err *err)
{
    if (!c->state || !c->conn_ok) {
        tut_fail(err, TUT_EXIT_LOST, true, "connection lost");
        return true;
    }
    int fd = amqp_get_sockfd(c->state);
    struct pollfd p = {.fd = fd, .events = POLLIN | POLLRDHUP};
    if (fd < 0 || poll(&p, 1, 0) < 0)
        return false;
    if (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) {
        c->conn_ok = false;
        tut_fail(err, TUT_EXIT_LOST, true, "the broker closed the connection");
        return true;
    }
    /* Bytes rabbitmq-c has buffered come before the socket's: with any,
     * the head of the socket is not the next frame, and we cannot tell. */
    if (!(p.revents & POLLIN) || amqp_data_in_buffer(c->state) || amqp_frames_enqueued(c->state))
        return false;
    unsigned char buf[4096];
    ssize_t n = recv(fd, buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        c->conn_ok = false;
        tut_fail(err, TUT_EXIT_LOST, true, "the broker closed the connection");
        return true;
    }
    /* (over TLS the bytes are records, never a readable frame: "cannot
     * tell", and the ack goes out as it would without this check) */
    if (n < 0 || !close_waiting(buf, (size_t)n))
        return false;
    /* Read the close and answer it, as the protocol asks. */
    for (;;) {
        amqp_frame_t frame;
        struct timeval tv = {1, 0};
        int st = amqp_simple_wait_frame_noblock(c->state, &frame, &tv);
        if (st != AMQP_STATUS_OK) {
            c->conn_ok = false;
            tut_status_err(st, "the read of the broker's close", err);
            return true;
        }
        if (frame.frame_type == AMQP_FRAME_METHOD && tut_async_method(c, &frame, err))
            return true;
    }
}

int tut_keepalive(struct tut_conn *c)
{
    if (!c->state || !c->conn_ok || c->heartbeat <= 0)
        return 0;
    double now = tut_now();
    if (now - c->last_beat < c->heartbeat / 2.0)
        return 0;
    amqp_frame_t beat;
    memset(&beat, 0, sizeof beat);
    beat.frame_type = AMQP_FRAME_HEARTBEAT;
    beat.channel = 0;
    int st = amqp_send_frame(c->state, &beat);
    if (st != AMQP_STATUS_OK) {
        c->conn_ok = false;
        return st;
    }
    c->last_beat = now;
    return 0;
}
