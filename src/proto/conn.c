/*
 * proto/conn.c - one AMQP client connection: bytes, frames, handshake,
 * heartbeats, channel table, and the one place errors become closes.
 *
 * src/proto/ is the AMQP front end: it decodes, calls the domain (vhost.h,
 * publish, consumer.h) and sends replies; the domain never calls it, and
 * reaches a channel only through the callbacks the channel set
 * (consumer_ops, stats_session_ops).  The broker (broker.c) accepts the
 * socket and hands it to conn_accept.
 *
 * Reading: the loop's shared read buffer takes what the socket has; whole
 * frames are handled straight from it, and only a trailing partial frame is
 * copied into the connection's own `in` buffer, so an idle connection holds
 * no buffer at all.  Writing: everything is appended to `out` and written
 * with writev before the loop sleeps (conn_flush); EPOLLOUT is armed only
 * after a short write.  A connection whose output backs up past
 * CONN_OUT_HIGH stops being read until it drains.
 *
 * Lifecycle, as RabbitMQ: protocol header -> start/start-ok (PLAIN or
 * AMQPLAIN) -> tune/tune-ok -> open/open-ok -> channels -> close/close-ok
 * in either direction.  Until tune-ok frames are limited to 4096 octets.
 * After a close in either direction the socket is not closed at once: as
 * RabbitMQ's "closed" state, input is read and dropped (the spec: frames
 * after close are discarded) until the client's close-ok or hang-up, or
 * a timeout, so a client still writing what it queued before its close
 * (amqplib's muxer does) does not meet a reset socket.
 * A failure anywhere is an amqp_error: soft codes close the channel, hard
 * codes close the connection, and before tune-ok the socket is just closed
 * (conn_error below).  Frames are judged in RabbitMQ's order and its errors
 * quote them as it does.  A closed connection is marked dead and freed
 * before the loop sleeps, never inside its own callback.
 *
 * TLS (amqps, tls.h): the same connection with `tls` set; every read and
 * write goes through the session (sock_read, sock_flush), the handshake
 * happens inside the first reads under the same 10 s handshake timer, and
 * plaintext the session decrypted but did not hand over yet (epoll cannot
 * see it) is read on a zero-delay timer (tls_again).  EXTERNAL logs in
 * the verified client certificate's name.
 *
 * Channels: a table of the open ones sorted by number, so any number
 * 1..65535 can be used and an idle connection holds none; channel_max
 * limits how many are open, as in RabbitMQ.
 */
#include "proto/conn.h"

#include "broker.h"
#include "proto/channel.h"
#include "proto/limits.h"
#include "proto/sasl.h"
#include "vhost.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "consumer.h"
#include "log.h"
#include "tls.h"

/* How long a closed connection waits for the client to hang up: RabbitMQ's
 * rabbit_reader:close_connection waits the connection's timeout_sec (3 s,
 * ?NORMAL_TIMEOUT, until tune-ok; then the negotiated heartbeat) but no
 * longer than ?CLOSING_TIMEOUT, 30 s, which is also the wait when the
 * heartbeat is off.  After a framing error it waits 3 s (frame_error). */
#define CLOSE_NORMAL_TIMEOUT_S 3
#define CLOSE_MAX_TIMEOUT_S 30

/* How long one connection's input may hold the loop per turn: a client
 * that pipelines thousands of cheap frames (channel.open floods) leaves
 * the rest in its `in` buffer, is not read meanwhile, and goes on in the
 * next turn, after everyone else has been served (doc/limits.md). */
#define INPUT_BUDGET_NS 1000000
/* How often a connection slowed for opening channels too fast is looked
 * at again (proto/limits.h, LIMITS_CHANNEL_OPEN_RATE). */
#define THROTTLE_MS 10

static void on_io(ev_loop *loop, ev_io *io, uint32_t events);
static void on_timer(ev_loop *loop, ev_timer *t);
static void on_tls_again(ev_loop *loop, ev_timer *t);
static void defer_input(conn *c);
static void throttle_input(conn *c);
static void forget_backlog(conn *c);

static void accept_conn(broker *b, tls_server *ts, int fd, const struct sockaddr *sa, socklen_t salen)
{
    conn *c = calloc(1, sizeof *c);
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0, one = 1;

    if (!c) {
        close(fd);
        return;
    }
    /* TLS: the handshake happens inside the first reads (conn_read), and
     * the handshake timer below bounds it, as every later step */
    if (ts && !(c->tls = tls_conn_new(ts, fd))) {
        log_warn("out of memory for a TLS session");
        close(fd);
        free(c);
        return;
    }
    ev_timer_init(&c->tls_again, on_tls_again);
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const void *)sa;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        port = ntohs(in->sin_port);
        c->loopback = (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const void *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        port = ntohs(in6->sin6_port);
        c->loopback = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr) ||
                      (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) && in6->sin6_addr.s6_addr[12] == 127);
    }
    (void)salen;
    snprintf(c->peer, sizeof c->peer, sa->sa_family == AF_INET6 ? "[%s]:%d" : "%s:%d", host, port);
    c->exclusive.name = c->peer;
    c->stats.connected_at = ev_wall_ms(b->loop);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->b = b;
    c->state = CONN_HEADER;
    /* until tune-ok, frames are held to the protocol's minimum frame_max
     * (RabbitMQ's initial_frame_max): an unauthenticated client cannot
     * make us buffer more than 4 KiB */
    c->frame_max = AMQP_FRAME_MIN_SIZE;
    c->channel_max = b->cfg.channel_max;
    c->last_recv = c->last_send = c->accepted = ev_now(b->loop);
    if (!conn_limits_accept(c, sa) || ev_io_start(b->loop, &c->io, fd, EPOLLIN, on_io) < 0) {
        conn_limits_release(c);
        tls_conn_free(c->tls);
        close(fd);
        free(c);
        return;
    }
    ev_timer_init(&c->timer, on_timer);
    ev_timer_start(b->loop, &c->timer, b->cfg.handshake_timeout);
    c->next = b->conns;
    if (b->conns)
        b->conns->prev = c;
    b->conns = c;
    b->nconns++;
    log_debug("accepted %sconnection from %s", c->tls ? "TLS " : "", c->peer);
}

void conn_accept(broker *b, int fd, const struct sockaddr *sa, socklen_t salen)
{
    accept_conn(b, NULL, fd, sa, salen);
}

void conn_accept_tls(broker *b, tls_server *ts, int fd, const struct sockaddr *sa, socklen_t salen)
{
    accept_conn(b, ts, fd, sa, salen);
}

/* The socket's bytes, through the TLS session when there is one. */
static ssize_t sock_read(conn *c, void *buf, size_t n)
{
    return c->tls ? tls_read(c->tls, buf, n) : read(c->io.fd, buf, n);
}

static ssize_t tls_writer(void *ctx, const void *p, size_t n)
{
    return tls_write(ctx, p, n);
}

static ssize_t sock_flush(conn *c)
{
    return c->tls ? obuf_flush_with(&c->out, tls_writer, c->tls) : obuf_flush(&c->out, c->io.fd);
}

/* ------------------------------------------------------------------ output */

void conn_want_flush(conn *c)
{
    if (!c->flushing && c->state != CONN_DEAD) {
        c->flushing = true;
        c->flush_next = c->b->flush;
        c->b->flush = c;
    }
}

static void out_of_memory(conn *c)
{
    conn_kill(c, "out of memory for output");
}

void conn_send_method(conn *c, uint16_t ch, uint32_t id, const void *args)
{
    size_t n = amqp_method_frame_size(id, args);
    uint8_t *p;
    long w;

    if (c->state == CONN_DEAD)
        return;
    if (!(p = obuf_reserve(&c->out, n)))
        return out_of_memory(c);
    w = amqp_write_method(p, n, ch, id, args);
    if (w < 0)
        return out_of_memory(c);
    obuf_commit(&c->out, (size_t)w);
    conn_want_flush(c);
    log_debug("%s ch %u <- %s", c->peer, ch, amqp_method_name(id));
}

void conn_send_content(conn *c, uint16_t ch, uint32_t id, const void *args, const msg *m)
{
    size_t mlen = amqp_method_frame_size(id, args);
    size_t hlen = AMQP_FRAME_OVERHEAD + 12 + m->props_len;
    size_t chunk = c->frame_max - AMQP_FRAME_OVERHEAD;
    size_t nbody = m->body_len ? (m->body_len + chunk - 1) / chunk : 0;
    size_t total = mlen + hlen + m->body_len + nbody * AMQP_FRAME_OVERHEAD;
    const uint8_t *body = msg_cbody(m);
    uint8_t *p;
    size_t left = m->body_len;

    if (c->state == CONN_DEAD)
        return;
    /* small deliveries go in one piece; big bodies frame by frame so one
     * message never needs a contiguous buffer of its own size */
    if (total <= OBUF_CHUNK) {
        if (!(p = obuf_reserve(&c->out, total)))
            return out_of_memory(c);
        p += amqp_write_method(p, mlen, ch, id, args);
        p += amqp_write_header(p, hlen, ch, AMQP_BASIC_CLASS, m->body_len, msg_props(m), m->props_len);
        while (left > 0) {
            size_t n = left < chunk ? left : chunk;
            p = amqp_put_frame_header(p, AMQP_FRAME_BODY, ch, (uint32_t)n);
            memcpy(p, body, n);
            p += n;
            *p++ = AMQP_FRAME_END;
            body += n;
            left -= n;
        }
        obuf_commit(&c->out, total);
    } else {
        if (!(p = obuf_reserve(&c->out, mlen + hlen)))
            return out_of_memory(c);
        p += amqp_write_method(p, mlen, ch, id, args);
        amqp_write_header(p, hlen, ch, AMQP_BASIC_CLASS, m->body_len, msg_props(m), m->props_len);
        obuf_commit(&c->out, mlen + hlen);
        while (left > 0) {
            size_t n = left < chunk ? left : chunk;
            if (!(p = obuf_reserve(&c->out, n + AMQP_FRAME_OVERHEAD)))
                return out_of_memory(c);
            p = amqp_put_frame_header(p, AMQP_FRAME_BODY, ch, (uint32_t)n);
            memcpy(p, body, n);
            p[n] = AMQP_FRAME_END;
            obuf_commit(&c->out, n + AMQP_FRAME_OVERHEAD);
            body += n;
            left -= n;
        }
    }
    conn_want_flush(c);
}

static void send_heartbeat(conn *c)
{
    uint8_t *p = obuf_reserve(&c->out, AMQP_FRAME_OVERHEAD);
    if (!p)
        return out_of_memory(c);
    obuf_commit(&c->out, (size_t)amqp_write_heartbeat(p, AMQP_FRAME_OVERHEAD));
    conn_want_flush(c);
}

/* A connection that publishes while a resource alarm (memory or disk,
 * alarm.c) is on is not read until the alarms are off, as RabbitMQ blocks
 * publishers; consumers go on draining. */
static bool held(const conn *c)
{
    return c->alarm_held && c->state == CONN_OPEN;
}

static void update_events(conn *c)
{
    uint32_t ev = 0;
    if (c->state == CONN_DEAD)
        return;
    if (!c->read_paused && !held(c) && !c->input_backlog && !c->throttled)
        ev |= EPOLLIN;
    if (c->out.bytes > 0)
        ev |= EPOLLOUT;
    if (c->tls) {
        /* the session waits to write (a handshake message), or holds
         * plaintext that epoll will not announce: read it next turn */
        if (tls_wants_write(c->tls))
            ev |= EPOLLOUT;
        if ((ev & EPOLLIN) && tls_pending(c->tls) && !ev_timer_active(&c->tls_again))
            ev_timer_start(c->b->loop, &c->tls_again, 0);
    }
    ev_io_set(c->b->loop, &c->io, ev);
}

static void resume_consumers(conn *c)
{
    uint32_t i;
    for (i = 0; i < c->nchans; i++) {
        consumer_wake_all(c->chans[i].ch->consumers);
    }
}

void conn_flush(conn *c)
{
    bool was_congested = conn_congested(c);
    uint32_t i;

    if (c->state == CONN_DEAD)
        return;
    if (c->state == CONN_OPEN)
        for (i = 0; i < c->nchans; i++)
            if (channel_has_pending(c->chans[i].ch))
                channel_flush_confirms(c->chans[i].ch);
    if (c->out.bytes > 0) {
        ssize_t w = sock_flush(c);
        if (w < 0) {
            conn_kill(c, errno == EPIPE || errno == ECONNRESET ? "connection reset by peer" : "socket write error");
            return;
        }
        if (w > 0) {
            c->last_send = ev_now(c->b->loop);
            c->stats.send_oct += (uint64_t)w;
            c->stats.send_cnt++;
        }
    }
    c->read_paused = conn_congested(c);
    update_events(c);
    if (was_congested && !conn_congested(c))
        resume_consumers(c);
}

/* --------------------------------------------------------------- closing */

static void release_channels(conn *c)
{
    struct conn_channel *v = c->chans;
    uint32_t i, n = c->nchans;

    /* the table is detached first: nothing freed below can be found */
    c->chans = NULL;
    c->nchans = c->capchans = 0;
    c->b->chans_closed += n;
    conn_limits_channels(c, -(int)n);
    for (i = 0; i < n; i++)
        channel_free(v[i].ch);
    free(v);
}

/* Exclusive queues go with their connection. */
static void release_exclusive(conn *c)
{
    size_t i = 0;
    void *v;
    queue *doomed[64];
    int n;

    while (c->exclusive.nqueues > 0 && c->vh) {
        n = 0;
        i = 0;
        while (n < 64 && map_next(&c->vh->queues, &i, NULL, NULL, &v)) {
            queue *q = v;
            if (q->owner == &c->exclusive)
                doomed[n++] = q;
        }
        if (n == 0)
            break;
        while (n > 0)
            queue_delete(doomed[--n]);
    }
}

void conn_kill(conn *c, const char *why)
{
    broker *b = c->b;
    if (c->state == CONN_DEAD)
        return;
    /* a closed connection's close was logged when it began */
    if (c->state == CONN_HEADER || c->state == CONN_CLOSING)
        log_debug("closing connection %s: %s", c->peer, why);
    else
        log_info("closing connection %s: %s", c->peer, why);
    /* what could still be written goes now (e.g. close-ok, an error frame),
     * after the definitions it may answer for are on disk (they are
     * synced once a turn, before the turn's output: this is early) */
    if (c->out.bytes > 0 && broker_sync_defs(b) == 0)
        sock_flush(c);
    if (c->tls)
        tls_close_notify(c->tls);
    release_channels(c);
    release_exclusive(c);
    c->state = CONN_DEAD;
    ev_io_stop(b->loop, &c->io);
    ev_timer_stop(b->loop, &c->timer);
    ev_timer_stop(b->loop, &c->tls_again);
    c->reap_next = b->reap;
    b->reap = c;
}

void conn_wait_sync(conn *c)
{
    if (c->sync_waiting || c->state == CONN_DEAD)
        return;
    c->sync_waiting = true;
    c->sync_next = c->b->sync_waiters;
    c->b->sync_waiters = c;
}

void conn_free(conn *c)
{
    broker *b = c->b;
    if (c->sync_waiting) {
        conn **pp;
        for (pp = &b->sync_waiters; *pp; pp = &(*pp)->sync_next)
            if (*pp == c) {
                *pp = c->sync_next;
                break;
            }
    }
    if (c->prev)
        c->prev->next = c->next;
    else
        b->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    b->nconns--;
    b->conns_closed++;
    conn_limits_release(c);
    forget_backlog(c);
    ev_timer_stop(b->loop, &c->timer);
    ev_timer_stop(b->loop, &c->tls_again);
    tls_conn_free(c->tls);
    if (c->io.fd >= 0)
        close(c->io.fd);
    obuf_clear(&c->out);
    free(c->in);
    free(c->chans);
    free(c->stats.client_props);
    free(c);
}

/* The connection is closed at the AMQP level, from either side: its
 * channels and exclusive queues go now; the socket stays until the
 * client's close-ok or hang-up, or RabbitMQ's timeout (see
 * CLOSE_MAX_TIMEOUT_S): the client may still be writing what it queued
 * before it saw the close. */
static void begin_closing(conn *c)
{
    unsigned t = c->state < CONN_OPEN_WAIT ? CLOSE_NORMAL_TIMEOUT_S : c->heartbeat;

    if (t == 0 || t > CLOSE_MAX_TIMEOUT_S)
        t = CLOSE_MAX_TIMEOUT_S;
    release_channels(c);
    release_exclusive(c);
    c->state = CONN_CLOSING;
    ev_timer_start(c->b->loop, &c->timer, (uint64_t)t * 1000);
}

void conn_close(conn *c, int code, const char *text, uint32_t method)
{
    amqp_connection_close m = {
        .reply_code = (uint16_t)code,
        .reply_text = amqp_cstr(text),
        .class_id = (uint16_t)(method >> 16),
        .method_id = (uint16_t)method,
    };
    if (c->state == CONN_DEAD || c->state == CONN_CLOSING)
        return;
    if (m.reply_text.len > 255)
        m.reply_text.len = 255;
    log_info("closing connection %s: %s", c->peer, text);
    begin_closing(c);
    conn_send_method(c, 0, AMQP_CONNECTION_CLOSE, &m);
}

/* The one place an error becomes a close, as RabbitMQ decides it: soft
 * codes close the channel, hard codes the connection with
 * connection.close; but a client that has not finished tune-ok is not
 * answered at all, its socket is just closed (a refused login is the one
 * exception, and on_start_ok sends that close itself). */
static void conn_error(conn *c, channel *ch, amqp_error *err)
{
    if (!amqp_reply_is_hard(err->code) && ch && ch->state == CH_OPEN && c->state == CONN_OPEN) {
        amqp_channel_close m = {
            .reply_code = err->code,
            .reply_text = amqp_cstr(err->text),
            .class_id = (uint16_t)(err->method >> 16),
            .method_id = (uint16_t)err->method,
        };
        log_info("channel %u of %s closed: %s", ch->id, c->peer, err->text);
        conn_send_method(c, ch->id, AMQP_CHANNEL_CLOSE, &m);
        /* like RabbitMQ, the channel lets go of its messages and consumers
         * now, and only waits for close-ok to free its number */
        channel_release(ch);
        ch->state = CH_CLOSING;
        return;
    }
    if ((c->state == CONN_START && err->code != AMQP_ACCESS_REFUSED) || c->state == CONN_TUNE) {
        conn_kill(c, err->text);
        return;
    }
    conn_close(c, err->code, err->text, err->method);
}

/* A content frame arrived while a resource alarm is on: the connection is
 * not read from now on, and a client that announced the capability hears
 * connection.blocked with the alarms' reason.  This is RabbitMQ 3.10's
 * rabbit_reader (publish_received): a connection is blocked at its first
 * publish during an alarm, not when the alarm goes on, so a connection
 * that only consumes is never told, and one that published before the
 * alarm is read (its acks too) until it publishes again. */
static void hold_publisher(conn *c)
{
    if (c->alarm_held || c->state != CONN_OPEN)
        return;
    c->alarm_held = true;
    if (c->cap_flags & CAP_CONNECTION_BLOCKED) {
        amqp_connection_blocked m = {.reason = amqp_cstr(alarm_block_reason(&c->b->alarms))};
        conn_send_method(c, 0, AMQP_CONNECTION_BLOCKED, &m);
        c->blocked_sent = true;
    }
}

static void conn_resume(conn *c);

void conn_unblock(conn *c)
{
    if (!c->alarm_held)
        return;
    c->alarm_held = false;
    if (c->blocked_sent && c->state == CONN_OPEN) {
        amqp_connection_unblocked m = {0};
        conn_send_method(c, 0, AMQP_CONNECTION_UNBLOCKED, &m);
    }
    c->blocked_sent = false;
    conn_resume(c);
}

/* ------------------------------------------------------------- handshake */

static bool external_ok(const conn *c)
{
    return c->tls && tls_peer_verified(c->tls);
}

static void send_start(conn *c)
{
    amqp_tbuf caps = {0}, props = {0};
    amqp_connection_start m = {0};
    static const char *capnames[] = {
        "publisher_confirms", "exchange_exchange_bindings", "basic.nack",
        "consumer_cancel_notify", "connection.blocked", "consumer_priorities",
        "authentication_failure_close", "per_consumer_qos", "direct_reply_to",
    };
    size_t i;

    for (i = 0; i < sizeof capnames / sizeof *capnames; i++)
        amqp_tbuf_bool(&caps, capnames[i], true);
    amqp_tbuf_table(&props, "capabilities", amqp_tbuf_done(&caps));
    amqp_tbuf_str(&props, "cluster_name", amqp_cstr("warren"));
    amqp_tbuf_str(&props, "copyright", amqp_cstr("Copyright (c) the warren developers"));
    amqp_tbuf_str(&props, "information", amqp_cstr("warren, a small fast AMQP 0-9-1 broker for work queues"));
    amqp_tbuf_str(&props, "platform", amqp_cstr("Linux, C11"));
    amqp_tbuf_str(&props, "product", amqp_cstr("warren"));
    amqp_tbuf_str(&props, "version", amqp_cstr(WARREN_VERSION));
    if (caps.oom || props.oom) {
        amqp_tbuf_free(&caps);
        amqp_tbuf_free(&props);
        return conn_kill(c, "out of memory");
    }
    m.version_major = 0;
    m.version_minor = 9;
    m.server_properties = amqp_tbuf_done(&props);
    /* EXTERNAL (the client certificate's name) only where there is a
     * verified one, as RabbitMQ's rabbit_auth_mechanism_ssl offers it */
    m.mechanisms = amqp_cstr(external_ok(c) ? "EXTERNAL PLAIN AMQPLAIN" : "PLAIN AMQPLAIN");
    m.locales = amqp_cstr("en_US");
    conn_send_method(c, 0, AMQP_CONNECTION_START, &m);
    amqp_tbuf_free(&caps);
    amqp_tbuf_free(&props);
    c->state = CONN_START;
}

static void read_capabilities(conn *c, amqp_table client_props)
{
    amqp_value caps, v;
    if (!amqp_table_get(client_props, "capabilities", &caps) || caps.type != 'F')
        return;
    if (amqp_table_get(caps.v.t, "consumer_cancel_notify", &v) && v.type == 't' && v.v.b)
        c->cap_flags |= CAP_CONSUMER_CANCEL_NOTIFY;
    if (amqp_table_get(caps.v.t, "connection.blocked", &v) && v.type == 't' && v.v.b)
        c->cap_flags |= CAP_CONNECTION_BLOCKED;
    if (amqp_table_get(caps.v.t, "authentication_failure_close", &v) && v.type == 't' && v.v.b)
        c->cap_flags |= CAP_AUTH_FAILURE_CLOSE;
    if (amqp_table_get(caps.v.t, "publisher_confirms", &v) && v.type == 't' && v.v.b)
        c->cap_flags |= CAP_PUBLISHER_CONFIRMS;
}

/* EXTERNAL: the user is the certificate's (--tls-login-from); the
 * response is ignored, as RabbitMQ's. */
static int external_user(conn *c, char *user, size_t usize, amqp_error *err)
{
    if (tls_peer_name(c->tls, c->b->cfg.tls_login_dn, user, usize) < 0)
        return amqp_fail(err, AMQP_ACCESS_REFUSED, "no %s in the client certificate, or it is too long",
                         c->b->cfg.tls_login_dn ? "subject" : "common name (CN)");
    return 0;
}

/* EXTERNAL: the certificate was verified, so the user needs only to
 * exist (no password), and guest stays on loopback (RabbitMQ's
 * rabbit_access_control:check_user_login with no password). */
static int check_external(conn *c, amqp_error *err)
{
    const auth_user *u = auth_find(&c->b->auth, c->user);

    if (!u)
        return amqp_fail(err, AMQP_ACCESS_REFUSED, "user '%s' - invalid credentials", c->user);
    if (u->loopback_only && !c->loopback)
        return amqp_fail(err, AMQP_ACCESS_REFUSED, "user '%s' can only connect via localhost", c->user);
    return 0;
}

static int on_start_ok(conn *c, const amqp_connection_start_ok *m, amqp_error *err)
{
    amqp_str pass = {0};
    amqp_connection_tune tune = {
        .channel_max = c->b->cfg.channel_max,
        .frame_max = c->b->cfg.frame_max,
        .heartbeat = c->b->cfg.heartbeat,
    };
    int rc;

    read_capabilities(c, m->client_properties);
    stats_conn_props(&c->stats, m->client_properties);
    /* PLAIN and AMQPLAIN are proto/sasl.c's (fuzzed); EXTERNAL only on a
     * TLS connection with a verified client certificate */
    if (amqp_str_eqc(m->mechanism, "EXTERNAL") && external_ok(c))
        rc = external_user(c, c->user, sizeof c->user, err);
    else
        rc = sasl_credentials(m->mechanism, m->response, c->user, sizeof c->user, &pass, err);
    if (rc < 0 && err->code != AMQP_ACCESS_REFUSED)
        return -1;
    if (rc == 0 && amqp_str_eqc(m->mechanism, "EXTERNAL"))
        rc = check_external(c, err);
    else if (rc == 0)
        rc = auth_check(&c->b->auth, c->user, pass, c->loopback, err);
    if (rc < 0) {
        log_warn("authentication failed for user '%s' from %s: %s", c->user, c->peer, err->text);
        if (!(c->cap_flags & CAP_AUTH_FAILURE_CLOSE)) {
            /* old clients get the socket closed, as RabbitMQ does */
            conn_kill(c, "authentication failed");
            return 0;
        }
        /* the client learns only that it failed; the log says why */
        err->method = 0;
        return amqp_fail(err, AMQP_ACCESS_REFUSED,
                         "Login was refused using authentication mechanism %.*s. For details see the broker logfile.",
                         (int)m->mechanism.len, m->mechanism.ptr);
    }
    c->auth_mechanism = amqp_str_eqc(m->mechanism, "EXTERNAL") ? "EXTERNAL"
                        : amqp_str_eqc(m->mechanism, "AMQPLAIN") ? "AMQPLAIN" : "PLAIN";
    conn_send_method(c, 0, AMQP_CONNECTION_TUNE, &tune);
    c->state = CONN_TUNE;
    conn_limits_logged_in(c);
    return 0;
}

/* RabbitMQ's rule for a tune-ok value: 0 means "no limit", so it is too
 * high for a server that has one. */
static int negotiate(amqp_error *err, const char *field, uint32_t client, uint32_t min, uint32_t server)
{
    if (client != 0 && client < min)
        return amqp_fail(err, AMQP_NOT_ALLOWED, "negotiated %s = %u is lower than the minimum allowed value (%u)",
                         field, client, min);
    if (server != 0 && (client == 0 || client > server))
        return amqp_fail(err, AMQP_NOT_ALLOWED, "negotiated %s = %u is higher than the maximum allowed value (%u)",
                         field, client, server);
    return 0;
}

static int on_tune_ok(conn *c, const amqp_connection_tune_ok *m, amqp_error *err)
{
    const config *cfg = &c->b->cfg;

    err->method = AMQP_CONNECTION_TUNE;
    if (negotiate(err, "frame_max", m->frame_max, AMQP_FRAME_MIN_SIZE, cfg->frame_max) < 0 ||
        negotiate(err, "channel_max", m->channel_max, 1, cfg->channel_max) < 0)
        return -1;
    c->frame_max = m->frame_max;
    c->channel_max = m->channel_max;
    c->heartbeat = m->heartbeat;
    c->state = CONN_OPEN_WAIT;
    return 0;
}

static int on_open(conn *c, const amqp_connection_open *m, amqp_error *err)
{
    amqp_connection_open_ok ok = {.known_hosts = amqp_cstr("")};
    vhost *vh = broker_vhost(c->b, m->virtual_host.ptr, m->virtual_host.len);

    if (!vh)
        return amqp_fail(err, AMQP_NOT_ALLOWED, "vhost %.*s not found", (int)m->virtual_host.len,
                         m->virtual_host.ptr);
    /* the limits first, as RabbitMQ's rabbit_reader; they count c from here */
    if (conn_limits_open(c, vh, err) < 0)
        return -1;
    if (auth_vhost_access(&c->b->auth, c->user, vh->name, err) < 0) {
        conn_limits_unopen(c, vh);
        return -1;
    }
    c->vh = vh;
    c->state = CONN_OPEN;
    conn_send_method(c, 0, AMQP_CONNECTION_OPEN_OK, &ok);
    c->b->conns_opened++; /* as RabbitMQ: opened once open, closed whenever it ends */
    /* the handshake timer becomes the heartbeat timer */
    if (c->heartbeat)
        ev_timer_start(c->b->loop, &c->timer, (uint64_t)c->heartbeat * 500);
    else
        ev_timer_stop(c->b->loop, &c->timer);
    log_info("connection %s opened by user '%s'", c->peer, c->user);
    return 0;
}

/* The connection's state as RabbitMQ names it in its errors. */
static const char *state_name(const conn *c)
{
    switch (c->state) {
    case CONN_HEADER:
        return "pre_init";
    case CONN_START:
        return "starting";
    case CONN_TUNE:
        return "tuning";
    case CONN_OPEN_WAIT:
        return "opening";
    case CONN_OPEN:
        return "running";
    default:
        return "closing";
    }
}

/* Methods on channel 0 (the connection is not CONN_CLOSING: conn_frame
 * handles that state itself).  Any method in a state that does not expect
 * it, a channel-level one included, is 504 as in RabbitMQ. */
static int conn_method(conn *c, uint32_t id, amqp_method_args *a, amqp_error *err)
{
    switch (id) {
    case AMQP_CONNECTION_START_OK:
        if (c->state == CONN_START)
            return on_start_ok(c, &a->connection_start_ok, err);
        break;
    case AMQP_CONNECTION_TUNE_OK:
        if (c->state == CONN_TUNE)
            return on_tune_ok(c, &a->connection_tune_ok, err);
        break;
    case AMQP_CONNECTION_OPEN:
        if (c->state == CONN_OPEN_WAIT)
            return on_open(c, &a->connection_open, err);
        break;
    case AMQP_CONNECTION_CLOSE:
        if (c->state == CONN_OPEN) {
            amqp_connection_close_ok ok = {0};
            log_info("closing connection %s: client closed the connection", c->peer);
            begin_closing(c);
            conn_send_method(c, 0, AMQP_CONNECTION_CLOSE_OK, &ok);
            return 0;
        }
        break;
    case AMQP_CONNECTION_UPDATE_SECRET:
        if (c->state == CONN_OPEN) {
            /* PLAIN credentials carry no expiring secret: accept, as
             * RabbitMQ's internal backend does, and keep the session */
            amqp_connection_update_secret_ok ok = {0};
            log_info("connection %s updated its secret (%.*s)", c->peer,
                     (int)a->connection_update_secret.reason.len, a->connection_update_secret.reason.ptr);
            conn_send_method(c, 0, AMQP_CONNECTION_UPDATE_SECRET_OK, &ok);
            return 0;
        }
        break;
    default:
        break;
    }
    return amqp_fail(err, AMQP_CHANNEL_ERROR, "unexpected method in connection state %s", state_name(c));
}

/* --------------------------------------------------------------- channels */

/* The index of channel `id` in the sorted table, or where it would go. */
static uint32_t chan_index(const conn *c, uint16_t id)
{
    uint32_t lo = 0, hi = c->nchans;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (c->chans[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static channel *get_channel(const conn *c, uint16_t id)
{
    uint32_t i = chan_index(c, id);
    return i < c->nchans && c->chans[i].id == id ? c->chans[i].ch : NULL;
}

void conn_forget_channel(conn *c, uint16_t id)
{
    uint32_t i = chan_index(c, id);
    if (i >= c->nchans || c->chans[i].id != id)
        return;
    memmove(c->chans + i, c->chans + i + 1, (c->nchans - i - 1) * sizeof *c->chans);
    c->b->chans_closed++;
    conn_limits_channels(c, -1);
    if (--c->nchans == 0) {
        free(c->chans);
        c->chans = NULL;
        c->capchans = 0;
    }
}

static int open_channel(conn *c, uint16_t id, amqp_error *err)
{
    amqp_channel_open_ok ok = {.channel_id = amqp_cstr("")};
    uint32_t i = chan_index(c, id);
    channel *ch;

    if (c->nchans == c->capchans) {
        uint32_t n = c->capchans ? c->capchans * 2 : 4;
        struct conn_channel *v = realloc(c->chans, n * sizeof *v);
        if (!v)
            return amqp_fail(err, AMQP_INTERNAL_ERROR, "out of memory");
        c->chans = v;
        c->capchans = n;
    }
    if (!(ch = channel_new(c, id)))
        return amqp_fail(err, AMQP_INTERNAL_ERROR, "out of memory");
    memmove(c->chans + i + 1, c->chans + i, (c->nchans - i) * sizeof *c->chans);
    c->chans[i].ch = ch;
    c->chans[i].id = id;
    c->nchans++;
    c->b->chans_opened++;
    conn_limits_channels(c, 1);
    conn_send_method(c, id, AMQP_CHANNEL_OPEN_OK, &ok);
    return 0;
}

/* ---------------------------------------------------------------- frames */

/* How RabbitMQ quotes a frame's payload in an error: as Erlang prints a
 * binary, "all octets = <<0,10>>", or <<"abc">> when every octet is
 * printable Latin-1; of a longer payload only "first 16 octets". */
static const char *quote_octets(char *out, size_t cap, const uint8_t *p, uint32_t n)
{
    static const char escapes[] = "\n\r\t\v\b\f\033\"\\", letters[] = "nrtvbfe\"\\";
    size_t k = n > 16 ? 16 : n, i, len;
    bool text = k > 0;

    for (i = 0; i < k && text; i++)
        text = (p[i] >= 32 && p[i] < 127) || p[i] >= 160 || (p[i] && memchr(escapes, p[i], 7));
    len = (size_t)snprintf(out, cap, "%s octets = <<%s", n > 16 ? "first 16" : "all", text ? "\"" : "");
    for (i = 0; i < k && len < cap; i++) {
        const char *e = p[i] ? memchr(escapes, p[i], sizeof escapes - 1) : NULL;
        if (!text)
            len += (size_t)snprintf(out + len, cap - len, "%s%u", i ? "," : "", p[i]);
        else if (e)
            len += (size_t)snprintf(out + len, cap - len, "\\%c", letters[e - escapes]);
        else
            len += (size_t)snprintf(out + len, cap - len, "%c", p[i]);
    }
    if (len < cap)
        snprintf(out + len, cap - len, "%s>>", text ? "\"" : "");
    return out;
}

static int unexpected_frame(const amqp_frame *f, amqp_error *err)
{
    char q[128];
    return amqp_fail(err, AMQP_UNEXPECTED_FRAME, "type %u, %s", f->type, quote_octets(q, sizeof q, f->payload, f->size));
}

/* What RabbitMQ's frame analysis calls unknown_frame: a type that is none
 * of the four, a method frame without a method id, a heartbeat with a
 * payload, a content header shorter than its fixed part. */
static bool malformed(const amqp_frame *f)
{
    switch (f->type) {
    case AMQP_FRAME_METHOD:
        return f->size < 4;
    case AMQP_FRAME_HEADER:
        return f->size < 12;
    case AMQP_FRAME_BODY:
        return false;
    case AMQP_FRAME_HEARTBEAT:
        return f->size > 0;
    default:
        return true;
    }
}

/* A frame on channel > 0 of an open connection (not malformed). */
static int frame_on_channel(conn *c, const amqp_frame *f, amqp_error *err, channel **errch)
{
    channel *ch = get_channel(c, f->channel);
    uint32_t id = f->type == AMQP_FRAME_METHOD ? amqp_get32(f->payload) : 0;
    amqp_method_args a;
    int rc;

    if (!ch) {
        /* RabbitMQ counts open channels (closing ones too, until their
         * close-ok); any number may be used */
        if (c->nchans >= c->channel_max)
            return amqp_fail(err, AMQP_NOT_ALLOWED,
                             "number of channels opened (%u) has reached the negotiated channel_max (%u)", c->nchans,
                             c->channel_max);
        if (f->type != AMQP_FRAME_METHOD)
            return amqp_fail(err, AMQP_UNEXPECTED_FRAME, "expected method frame, got non method frame instead");
        err->method = id;
        rc = amqp_method_frame_decode(f, &id, &a);
        if (rc == AMQP_EUTF8) /* RabbitMQ decodes before its channel looks */
            return amqp_fail_utf8(err);
        if (id != AMQP_CHANNEL_OPEN)
            return amqp_fail(err, AMQP_CHANNEL_ERROR, "expected 'channel.open'");
        if (rc < 0)
            return amqp_fail(err, AMQP_FRAME_ERROR, "cannot decode channel.open: %s", amqp_strerror(rc));
        if (conn_limits_channel(c, err) < 0)
            return -1;
        if (!conn_limits_channel_token(c)) {
            c->throttled = true; /* this frame waits (process() leaves it unread) */
            return 0;
        }
        return open_channel(c, f->channel, err);
    }
    err->method = id;
    if (ch->state == CH_CLOSING) {
        /* only the close handshake matters now; everything else is dropped */
        if (id == AMQP_CHANNEL_CLOSE_OK) {
            channel_free(ch);
            conn_forget_channel(c, f->channel);
        } else if (id == AMQP_CHANNEL_CLOSE) {
            amqp_channel_close_ok ok = {0};
            conn_send_method(c, f->channel, AMQP_CHANNEL_CLOSE_OK, &ok);
        }
        return 0;
    }
    if (id == AMQP_CHANNEL_OPEN)
        return amqp_fail(err, AMQP_CHANNEL_ERROR, "second 'channel.open' seen");
    *errch = ch;
    return channel_frame(ch, f, err);
}

/* A method id the codec does not know: RabbitMQ's reader cannot name it
 * and its connection process exits, so the socket is dropped without a
 * connection.close (not the spec's 540 or 503), in any state. */
static int unknown_method(conn *c, uint32_t id)
{
    char why[64];
    snprintf(why, sizeof why, "unknown method %u.%u", id >> 16, id & 0xffff);
    conn_kill(c, why);
    return -1;
}

/* Handle one frame, judged in RabbitMQ's order.  Returns -1 when the
 * connection can take no more input. */
static int conn_frame(conn *c, const amqp_frame *f)
{
    amqp_error err = {0};
    channel *errch = NULL;
    amqp_method_args a;
    uint32_t id;
    int rc;

    if (c->state == CONN_CLOSING) {
        /* closed: only the close handshake on channel 0 counts (close-ok
         * ends it, a close crossing ours or a second one is answered), as
         * in RabbitMQ's "closed" state; everything else is dropped */
        if (f->type == AMQP_FRAME_METHOD && f->channel == 0 && f->size >= 4) {
            id = amqp_get32(f->payload);
            if (!amqp_method_known(id))
                return unknown_method(c, id);
            if (id == AMQP_CONNECTION_CLOSE_OK) {
                conn_kill(c, "close-ok from client");
                return -1;
            }
            if (id == AMQP_CONNECTION_CLOSE) {
                amqp_connection_close_ok ok = {0};
                conn_send_method(c, 0, AMQP_CONNECTION_CLOSE_OK, &ok);
            }
        }
        return 0;
    }
    if (f->channel != 0 && c->state != CONN_OPEN) {
        unexpected_frame(f, &err);
        goto fail;
    }
    if (malformed(f)) {
        char q[128];
        amqp_fail(&err, AMQP_FRAME_ERROR, "type %u, %s: unknown_frame", f->type,
                  quote_octets(q, sizeof q, f->payload, f->size));
        goto fail;
    }
    if (f->type == AMQP_FRAME_METHOD && !amqp_method_known(amqp_get32(f->payload)))
        return unknown_method(c, amqp_get32(f->payload));
    if (f->type == AMQP_FRAME_HEARTBEAT) {
        if (f->channel != 0) {
            unexpected_frame(f, &err);
            goto fail;
        }
        return 0;
    }
    if (f->channel == 0) {
        if (f->type != AMQP_FRAME_METHOD) {
            unexpected_frame(f, &err);
            goto fail;
        }
        if ((rc = amqp_method_frame_decode(f, &id, &a)) < 0) {
            err.method = id;
            if (rc == AMQP_EUTF8)
                amqp_fail(&err, AMQP_FRAME_ERROR, "%s", amqp_strerror(rc)); /* names the method, as RabbitMQ */
            else
                amqp_fail(&err, AMQP_FRAME_ERROR, "cannot decode %s: %s", amqp_method_name(id),
                          amqp_strerror(rc));
            goto fail;
        }
        log_debug("%s ch 0 -> %s", c->peer, amqp_method_name(id));
        err.method = id;
        if (conn_method(c, id, &a, &err) < 0)
            goto fail;
        return c->state == CONN_DEAD ? -1 : 0;
    }
    if (frame_on_channel(c, f, &err, &errch) < 0)
        goto fail;
    if ((f->type == AMQP_FRAME_HEADER || f->type == AMQP_FRAME_BODY) && alarm_blocked(&c->b->alarms))
        hold_publisher(c);
    return c->state == CONN_DEAD ? -1 : 0;
fail:
    conn_error(c, errch, &err);
    return c->state == CONN_DEAD ? -1 : 0;
}

/* The byte stream broke (a frame too big for frame_max, a bad frame-end
 * octet): RabbitMQ's words, then no more input is trusted. */
static void frame_error(conn *c, long rc, const uint8_t *p)
{
    amqp_error err = {0};
    uint32_t size = amqp_get32(p + 3);
    char q[128];

    if (rc == AMQP_EFRAMESIZE)
        amqp_fail(&err, AMQP_FRAME_ERROR, "type %u, all octets = <<>>: {frame_too_large,%u,%u}", p[0], size,
                  c->frame_max - AMQP_FRAME_OVERHEAD);
    else
        amqp_fail(&err, AMQP_FRAME_ERROR, "type %u, %s: {invalid_frame_end_marker,%u}", p[0],
                  quote_octets(q, sizeof q, p + AMQP_FRAME_HEADER_SIZE, size), p[AMQP_FRAME_HEADER_SIZE + size]);
    if (c->state == CONN_START || c->state == CONN_TUNE) {
        conn_kill(c, err.text);
        return;
    }
    conn_close(c, err.code, err.text, 0);
    /* what comes next is read and dropped unparsed (closing with unread
     * input would reset the connection and could lose our close frame)
     * until the client hangs up or, as RabbitMQ's fatal_frame_error waits
     * ?SILENT_CLOSE_DELAY whatever the client says, 3 s have passed */
    c->discard_input = true;
    ev_timer_start(c->b->loop, &c->timer, CLOSE_NORMAL_TIMEOUT_S * 1000);
}

/* RabbitMQ takes AMQP 0-9's header for 0-9-1 (the two are that close). */
#define AMQP_0_9_HEADER "AMQP\x01\x01\x00\x09"

/* Consume whole frames from p[0..n); returns bytes used, or -1 to stop. */
static long process(conn *c, const uint8_t *p, size_t n)
{
    size_t used = 0;
    uint64_t t0 = ev_clock_ns();
    unsigned frames = 0;

    if (c->state == CONN_HEADER) {
        size_t k = n < AMQP_PROTOCOL_HEADER_SIZE ? n : AMQP_PROTOCOL_HEADER_SIZE;
        if (memcmp(p, AMQP_PROTOCOL_HEADER, k) != 0 && memcmp(p, AMQP_0_9_HEADER, k) != 0)
            goto bad_header;
        if (n < AMQP_PROTOCOL_HEADER_SIZE)
            return 0;
        used = AMQP_PROTOCOL_HEADER_SIZE;
        send_start(c);
    }
    while (used < n && c->state != CONN_DEAD) {
        amqp_frame f;
        long rc = amqp_frame_parse_any(p + used, n - used, c->frame_max, &f);
        if (rc == 0)
            break;
        if (rc < 0) {
            frame_error(c, rc, p + used);
            return -1;
        }
        if (conn_frame(c, &f) < 0)
            return -1;
        if (c->throttled)
            break;
        used += (size_t)rc;
        if (c->read_paused || held(c))
            break;
        if (++frames % 64 == 0 && used < n && ev_clock_ns() - t0 > INPUT_BUDGET_NS) {
            c->input_backlog = true;
            break;
        }
    }
    return (long)used;
bad_header:
    /* a wrong header gets ours back and the socket closed, as the spec says */
    obuf_append(&c->out, AMQP_PROTOCOL_HEADER, AMQP_PROTOCOL_HEADER_SIZE);
    conn_kill(c, "bad protocol header");
    return -1;
}

/* The loop's read buffer: big enough for two maximal frames. */
static uint8_t *rbuf;
static size_t rbuf_size;

static void keep_rest(conn *c, size_t have, size_t used);

static void conn_read(conn *c)
{
    size_t need = (size_t)c->b->cfg.frame_max * 2 + 65536, have = c->inlen;
    ssize_t n;
    long used;

    if (rbuf_size < need) {
        uint8_t *nb = realloc(rbuf, need);
        if (!nb)
            return conn_kill(c, "out of memory for input");
        rbuf = nb;
        rbuf_size = need;
    }
    if (c->discard_input) {
        c->inlen = 0;
        have = 0;
    }
    if (have)
        memcpy(rbuf, c->in, have);
    n = sock_read(c, rbuf + have, rbuf_size - have);
    if (n == 0)
        return conn_kill(c, c->state == CONN_OPEN ? "client closed TCP connection" : "client closed socket");
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
            if (c->tls)
                update_events(c); /* the handshake may wait to write */
            return;
        }
        if (c->tls && errno != ECONNRESET && errno != EPIPE) {
            /* a refused certificate, a protocol version or cipher we do
             * not speak, garbage: the reason, as RabbitMQ logs it */
            log_info("TLS connection from %s refused: %s", c->peer, tls_error(c->tls));
            return conn_kill(c, tls_error(c->tls));
        }
        return conn_kill(c, "socket read error");
    }
    if (c->discard_input)
        return;
    c->last_recv = ev_now(c->b->loop);
    c->stats.recv_oct += (uint64_t)n;
    c->stats.recv_cnt++;
    alarm_note_input(&c->b->alarms, (size_t)n);
    have += (size_t)n;
    used = process(c, rbuf, have);
    if (used < 0 || c->state == CONN_DEAD) {
        c->inlen = 0;
        return;
    }
    keep_rest(c, have, (size_t)used);
    if (c->throttled)
        throttle_input(c);
    else if (c->input_backlog)
        defer_input(c);
    else if (held(c) || c->tls)
        update_events(c);
}

/* Keep the unprocessed bytes of rbuf[0..have) after `used` for later. */
static void keep_rest(conn *c, size_t have, size_t used)
{
    have -= used;
    if (have > c->incap) {
        uint8_t *nb = realloc(c->in, have);
        if (!nb)
            return conn_kill(c, "out of memory for input");
        c->in = nb;
        c->incap = (uint32_t)have;
    }
    if (have)
        memmove(c->in, rbuf + used, have);
    c->inlen = (uint32_t)have;
    if (!have && c->incap > 4096) {
        free(c->in);
        c->in = NULL;
        c->incap = 0;
    }
}

/* Read again what was held back while the connection was held. */
static void conn_resume(conn *c)
{
    size_t have = c->inlen;
    long used;

    if (c->state == CONN_DEAD)
        return;
    if (have && !held(c) && !c->read_paused) {
        memcpy(rbuf, c->in, have);
        used = process(c, rbuf, have);
        if (used < 0 || c->state == CONN_DEAD) {
            c->inlen = 0;
            return;
        }
        keep_rest(c, have, (size_t)used);
        if (c->throttled && c->state != CONN_DEAD)
            throttle_input(c);
        else if (c->input_backlog && c->state != CONN_DEAD)
            defer_input(c);
    }
    update_events(c);
}

/* Connections with input left over from their budget, resumed by a 0 ms
 * timer: after this turn's other events, before the next epoll_wait. */
static conn *backlog;
static ev_timer backlog_timer;

static void on_backlog(ev_loop *loop, ev_timer *t)
{
    conn *c = backlog, *wait = NULL, **tail = &wait;
    (void)t;
    backlog = NULL;
    while (c) {
        conn *next = c->backlog_next;
        c->backlog_next = NULL;
        if (c->throttled && ev_now(loop) < c->chan_tokens_at + THROTTLE_MS) {
            *tail = c; /* not yet */
            tail = &c->backlog_next;
        } else {
            c->input_backlog = false;
            c->throttled = false;
            conn_resume(c);
        }
        c = next;
    }
    if (wait) {
        *tail = backlog;
        backlog = wait;
    }
    if (backlog && !ev_timer_active(&backlog_timer)) {
        bool now = false;
        for (c = backlog; c && !now; c = c->backlog_next)
            now = !c->throttled;
        ev_timer_start(loop, &backlog_timer, now ? 0 : THROTTLE_MS);
    }
}

static void add_backlog(conn *c, uint64_t ms)
{
    conn **pp;

    for (pp = &backlog; *pp; pp = &(*pp)->backlog_next)
        if (*pp == c)
            break;
    if (!*pp)
        *pp = c;
    update_events(c);
    if (!backlog_timer.cb)
        ev_timer_init(&backlog_timer, on_backlog);
    if (!ev_timer_active(&backlog_timer) || (ms == 0 && backlog_timer.when > ev_now(c->b->loop)))
        ev_timer_start(c->b->loop, &backlog_timer, ms);
}

static void defer_input(conn *c)
{
    log_debug("%s: input budget used; the rest waits for the next turn", c->peer);
    add_backlog(c, 0);
}

/* Opening channels faster than the allowance: its input waits until the
 * allowance has grown (THROTTLE_MS), unread; nothing is refused. */
static void throttle_input(conn *c)
{
    log_debug("%s: opens channels faster than %d a second; slowed", c->peer, LIMITS_CHANNEL_OPEN_RATE);
    add_backlog(c, THROTTLE_MS);
}

/* c is freed: off the backlog. */
static void forget_backlog(conn *c)
{
    conn **pp;
    for (pp = &backlog; *pp; pp = &(*pp)->backlog_next)
        if (*pp == c) {
            *pp = c->backlog_next;
            break;
        }
}

static void on_io(ev_loop *loop, ev_io *io, uint32_t events)
{
    conn *c = (conn *)io;
    (void)loop;
    if (c->state == CONN_DEAD)
        return;
    if (events & EPOLLOUT)
        conn_flush(c);
    /* a TLS read may have been waiting for the socket to take a write */
    if (((events & (EPOLLIN | EPOLLERR | EPOLLHUP)) || (c->tls && (events & EPOLLOUT) && !held(c))) &&
        !c->read_paused && c->state != CONN_DEAD)
        conn_read(c);
}

/* Plaintext was left inside the TLS session (the read buffer was full, or
 * reading paused): epoll has nothing to say about it, so read it now. */
static void on_tls_again(ev_loop *loop, ev_timer *t)
{
    conn *c = (conn *)((char *)t - offsetof(conn, tls_again));
    (void)loop;
    if (c->state != CONN_DEAD && !c->read_paused && !held(c))
        conn_read(c);
}

/* Heartbeats, as RabbitMQ's rabbit_heartbeat: every half interval a
 * heartbeat goes out if nothing else did since the last look (heartbeat=1:
 * every 0.5 s to an idle client), and a client silent for two intervals is
 * dropped without a connection.close (RabbitMQ looks once an interval, so
 * it drops after two to three).  A held connection is not read, so its
 * heartbeats wait in the socket: as RabbitMQ pauses its heartbeat monitor
 * while a connection is blocked, the silence does not count. */
static void heartbeat(conn *c, uint64_t now)
{
    uint64_t hb = (uint64_t)c->heartbeat * 1000;

    if (held(c))
        c->last_recv = now;
    if (now - c->last_recv >= 2 * hb) {
        char why[80];
        snprintf(why, sizeof why, "missed heartbeats from client, timeout: %us", c->heartbeat);
        conn_kill(c, why);
        return;
    }
    if (now - c->last_send >= hb / 2 && c->out.bytes == 0)
        send_heartbeat(c);
    ev_timer_start(c->b->loop, &c->timer, hb / 2);
}

/* The connection's one timer: the handshake's deadline (RabbitMQ's
 * handshake_timeout, 10 s from accept to connection.open however busy
 * the client is), then the heartbeat, then the wait of a closed
 * connection. */
static void on_timer(ev_loop *loop, ev_timer *t)
{
    conn *c = (conn *)((char *)t - offsetof(conn, timer));
    uint64_t now = ev_now(loop), age = now - c->accepted, limit = c->b->cfg.handshake_timeout;

    switch (c->state) {
    case CONN_DEAD:
        return;
    case CONN_OPEN:
        heartbeat(c, now);
        return;
    case CONN_CLOSING:
        log_info("closing connection %s: the client did not close the socket after connection.close", c->peer);
        conn_kill(c, "close timeout");
        return;
    default:
        if (age >= limit)
            conn_kill(c, "handshake timeout");
        else
            ev_timer_start(loop, t, limit - age);
        return;
    }
}
