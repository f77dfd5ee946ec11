/*
 * conn.c - the smallest AMQP 0-9-1 client that a load generator needs.
 *
 * All encoding and decoding is warren's sans-IO codec (src/amqp); this file
 * adds a non-blocking socket and two buffers.  Input is read in large
 * chunks into `in` and parsed frame by frame in place; output is appended
 * to `out` and written when the caller says so, so a loop can put hundreds
 * of frames into one write().  The blocking helpers (handshake, synchronous
 * methods, close) are built from the same non-blocking pieces plus poll(),
 * with a timeout, and they give up early when the run's stop fd fires.
 *
 * Heartbeats are switched off in tune-ok (a benchmark keeps its
 * connections busy, and a heartbeat thread would be one more thing to
 * measure); a heartbeat the server sends anyway is answered.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "perf.h"

#define PCONN_FRAME_MAX 131072u      /* what we ask for in tune-ok at most */
#define PCONN_IN_CAP (256u * 1024 + PCONN_FRAME_MAX)
#define PCONN_OUT_CAP (256u * 1024)
#define PCONN_READ_MIN (64u * 1024)  /* compact the input before reading less */
#define HANDSHAKE_MS 15000

const char *perf_strerror(int status)
{
    switch (status) {
    case PERF_OK: return "ok";
    case PERF_EIO: return "socket error";
    case PERF_EEOF: return "server closed the socket";
    case PERF_ECLOSED: return "closed by the server";
    case PERF_EPROTO: return "protocol error";
    case PERF_ESTOP: return "interrupted";
    case PERF_ETIMEOUT: return "timed out";
    case PERF_ENOMEM: return "out of memory";
    case PERF_ECONNECT: return "cannot connect";
    default: return "unknown error";
    }
}

/* ---- URL ---------------------------------------------------------------- */

static int unhex(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Copy [s, s+n) percent-decoded into dst (size cap).  -1 if it does not fit
 * or has a bad escape. */
static int decode_part(char *dst, size_t cap, const char *s, size_t n)
{
    size_t j = 0;

    for (size_t i = 0; i < n; i++) {
        int ch = (unsigned char)s[i];
        if (ch == '%') {
            int hi, lo;
            if (i + 2 >= n)
                return -1;
            hi = unhex(s[i + 1]);
            lo = unhex(s[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            ch = hi * 16 + lo;
            i += 2;
        }
        if (j + 1 >= cap)
            return -1;
        dst[j++] = (char)ch;
    }
    dst[j] = '\0';
    return 0;
}

int perf_url_parse(const char *s, perf_url *u, char *err, size_t errlen)
{
    const char *p, *at, *slash, *hend, *colon;

    snprintf(u->host, sizeof u->host, "localhost");
    snprintf(u->port, sizeof u->port, "5672");
    snprintf(u->user, sizeof u->user, "guest");
    snprintf(u->pass, sizeof u->pass, "guest");
    snprintf(u->vhost, sizeof u->vhost, "/");
    u->tls = strncmp(s, "amqps://", 8) == 0;
    if (u->tls)
        snprintf(u->port, sizeof u->port, "5671");
    if (!u->tls && strncmp(s, "amqp://", 7) != 0) {
        snprintf(err, errlen, "URL must start with amqp:// or amqps://: %s", s);
        return -1;
    }
    p = s + (u->tls ? 8 : 7);
    slash = strchr(p, '/');
    if (!slash)
        slash = p + strlen(p);
    at = memchr(p, '@', (size_t)(slash - p));
    if (at) {
        const char *c = memchr(p, ':', (size_t)(at - p));
        if (c) {
            if (decode_part(u->user, sizeof u->user, p, (size_t)(c - p)) < 0 ||
                decode_part(u->pass, sizeof u->pass, c + 1, (size_t)(at - c - 1)) < 0)
                goto bad;
        } else if (decode_part(u->user, sizeof u->user, p, (size_t)(at - p)) < 0) {
            goto bad;
        }
        p = at + 1;
    }
    if (*p == '[') {                            /* [v6 address] */
        hend = memchr(p, ']', (size_t)(slash - p));
        if (!hend)
            goto bad;
        if (decode_part(u->host, sizeof u->host, p + 1, (size_t)(hend - p - 1)) < 0)
            goto bad;
        colon = hend + 1 < slash && hend[1] == ':' ? hend + 1 : NULL;
        if (hend + 1 < slash && !colon)
            goto bad;
    } else {
        colon = memchr(p, ':', (size_t)(slash - p));
        hend = colon ? colon : slash;
        if (hend > p && decode_part(u->host, sizeof u->host, p, (size_t)(hend - p)) < 0)
            goto bad;
    }
    if (colon) {
        size_t n = (size_t)(slash - colon - 1);
        if (n == 0 || n >= sizeof u->port || strspn(colon + 1, "0123456789") < n)
            goto bad;
        memcpy(u->port, colon + 1, n);
        u->port[n] = '\0';
    }
    if (*slash == '/' && slash[1] != '\0') {
        if (decode_part(u->vhost, sizeof u->vhost, slash + 1, strlen(slash + 1)) < 0)
            goto bad;
    }
    return 0;
bad:
    snprintf(err, errlen, "cannot parse URL %s (expected amqp://user:pass@host:port/vhost)", s);
    return -1;
}

/* ---- buffers and the socket --------------------------------------------- */

uint8_t *pconn_reserve(pconn *c, size_t n)
{
    if (c->out_cap - c->out_len >= n)
        return c->out + c->out_len;
    if (c->out_off) {
        memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
        c->out_len -= c->out_off;
        c->out_off = 0;
    }
    if (c->out_cap - c->out_len < n) {
        size_t cap = c->out_cap * 2;
        uint8_t *nb;
        while (cap - c->out_len < n)
            cap *= 2;
        nb = realloc(c->out, cap);
        if (!nb)
            return NULL;
        c->out = nb;
        c->out_cap = cap;
    }
    return c->out + c->out_len;
}

int pconn_send_method(pconn *c, uint16_t channel, uint32_t id, const void *args)
{
    size_t n = amqp_method_frame_size(id, args);
    uint8_t *p = pconn_reserve(c, n);
    long r;

    if (!p)
        return PERF_ENOMEM;
    r = amqp_write_method(p, n, channel, id, args);
    if (r < 0) {
        snprintf(c->err, sizeof c->err, "cannot encode %s: %s", amqp_method_name(id),
                 amqp_strerror((int)r));
        return PERF_EPROTO;
    }
    c->out_len += (size_t)r;
    return PERF_OK;
}

static int io_error(pconn *c, const char *what)
{
    snprintf(c->err, sizeof c->err, "%s: %s", what, strerror(errno));
    return PERF_EIO;
}

/* OpenSSL's reason for the last failure, into c->err. */
static int tls_fail(pconn *c, const char *what)
{
    unsigned long e = ERR_get_error();
    char buf[256];

    if (e) {
        ERR_error_string_n(e, buf, sizeof buf);
        snprintf(c->err, sizeof c->err, "%s: %s", what, buf);
    } else {
        snprintf(c->err, sizeof c->err, "%s: %s", what, errno ? strerror(errno) : "connection closed");
    }
    ERR_clear_error();
    return PERF_EIO;
}

static long tls_flush(pconn *c)
{
    long total = 0;

    while (c->out_off < c->out_len) {
        size_t len = c->out_len - c->out_off;
        int n;
        ERR_clear_error();
        n = SSL_write(c->ssl, c->out + c->out_off, len > INT32_MAX ? INT32_MAX : (int)len);
        if (n > 0) {
            c->out_off += (size_t)n;
            total += n;
            continue;
        }
        int e = SSL_get_error(c->ssl, n);
        if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ)
            break;
        return tls_fail(c, "write");
    }
    if (c->out_off == c->out_len)
        c->out_off = c->out_len = 0;
    return total;
}

long pconn_flush(pconn *c)
{
    long total = 0;

    if (c->ssl)
        return tls_flush(c);
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            c->out_off += (size_t)n;
            total += n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            break;
        } else {
            return io_error(c, "write");
        }
    }
    if (c->out_off == c->out_len)
        c->out_off = c->out_len = 0;
    return total;
}

/* A TLS read: as fill, over the session.  wait: poll for up to
 * read_wait_ns first when nothing is decrypted and the socket is empty. */
static long tls_fill(pconn *c, bool wait)
{
    for (;;) {
        size_t room = c->in_cap - c->in_end;
        int n;
        ERR_clear_error();
        errno = 0;
        n = SSL_read(c->ssl, c->in + c->in_end, room > INT32_MAX ? INT32_MAX : (int)room);
        if (n > 0) {
            c->in_end += (size_t)n;
            /* decrypted bytes left inside are not the socket's to signal */
            c->drained = (size_t)n < room && !SSL_has_pending(c->ssl);
            return n;
        }
        int e = SSL_get_error(c->ssl, n);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            c->drained = true;
            if (!wait)
                return 0;
            struct pollfd pfd = {.fd = c->fd, .events = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT};
            int r = poll(&pfd, 1, (int)(c->read_wait_ns / 1000000));
            if (r < 0 && errno != EINTR)
                return io_error(c, "poll");
            if (r <= 0)
                return 0;
            wait = false;
            continue;
        }
        if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && errno == 0)) {
            snprintf(c->err, sizeof c->err, "the server closed the socket");
            return PERF_EEOF;
        }
        return tls_fail(c, "read");
    }
}

static long fill(pconn *c, int flags)
{
    ssize_t n;

    if (c->in_start == c->in_end) {
        c->in_start = c->in_end = 0;
    } else if (c->in_cap - c->in_end < PCONN_READ_MIN && c->in_start) {
        memmove(c->in, c->in + c->in_start, c->in_end - c->in_start);
        c->in_end -= c->in_start;
        c->in_start = 0;
    }
    if (c->ssl)
        return tls_fill(c, flags == 0);
    for (;;) {
        size_t room = c->in_cap - c->in_end;
        n = recv(c->fd, c->in + c->in_end, room, flags);
        if (n > 0) {
            c->in_end += (size_t)n;
            c->drained = (size_t)n < room;
            return n;
        }
        if (n == 0) {
            snprintf(c->err, sizeof c->err, "the server closed the socket");
            return PERF_EEOF;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            c->drained = true;
            return 0;
        }
        return io_error(c, "read");
    }
}

long pconn_fill(pconn *c)
{
    return fill(c, MSG_DONTWAIT);
}

int pconn_set_blocking_reads(pconn *c, int64_t timeout_ns)
{
    struct timeval tv = {.tv_sec = (time_t)(timeout_ns / 1000000000), .tv_usec = (long)(timeout_ns % 1000000000) / 1000};
    int fl = fcntl(c->fd, F_GETFL);
    /* TLS: the socket stays non-blocking (a blocked SSL_write would hold
     * the reader too); pconn_fill_wait polls instead */
    c->read_wait_ns = timeout_ns;
    if (c->ssl)
        return PERF_OK;
    if (fl < 0 || fcntl(c->fd, F_SETFL, fl & ~O_NONBLOCK) < 0 ||
        setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0)
        return io_error(c, "fcntl");
    return PERF_OK;
}

long pconn_fill_wait(pconn *c)
{
    return fill(c, 0);
}

int pconn_frame(pconn *c, amqp_frame *f)
{
    long r = amqp_frame_parse(c->in + c->in_start, c->in_end - c->in_start, c->frame_max, f);

    if (r > 0) {
        c->in_start += (size_t)r;
        return 1;
    }
    if (r == 0)
        return 0;
    snprintf(c->err, sizeof c->err, "bad frame from the server: %s", amqp_strerror((int)r));
    return PERF_EPROTO;
}

int pconn_wait(pconn *c, int events, int64_t timeout_ns)
{
    struct pollfd pfd[2];
    struct timespec ts, *tsp = NULL;
    nfds_t n = 1;
    int r, got = 0;

    /* decrypted input waits inside the session: no need to ask the socket */
    if ((events & PCONN_IN) && c->ssl && SSL_has_pending(c->ssl))
        return PCONN_IN;
    pfd[0].fd = c->fd;
    pfd[0].events = (short)(((events & PCONN_IN) ? POLLIN : 0) | ((events & PCONN_OUT) ? POLLOUT : 0));
    pfd[0].revents = 0;
    if ((events & PCONN_STOP) && c->stopfd >= 0) {
        pfd[1].fd = c->stopfd;
        pfd[1].events = POLLIN;
        pfd[1].revents = 0;
        n = 2;
    }
    if (timeout_ns >= 0) {
        ts.tv_sec = (time_t)(timeout_ns / 1000000000);
        ts.tv_nsec = (long)(timeout_ns % 1000000000);
        tsp = &ts;
    }
    r = ppoll(pfd, n, tsp, NULL);
    if (r < 0)
        return errno == EINTR ? 0 : io_error(c, "poll");
    if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR))
        got |= PCONN_IN;       /* a read will tell what happened */
    if (pfd[0].revents & POLLOUT)
        got |= PCONN_OUT;
    if (n == 2 && (pfd[1].revents & POLLIN))
        got |= PCONN_STOP;
    return got;
}

/* Write everything pending, waiting at most until deadline (perf_now). */
static int flush_all(pconn *c, uint64_t deadline, bool stoppable)
{
    while (pconn_pending(c)) {
        long r = pconn_flush(c);
        uint64_t now;
        int w;
        if (r < 0)
            return (int)r;
        if (!pconn_pending(c))
            break;
        now = perf_now();
        if (now >= deadline) {
            snprintf(c->err, sizeof c->err, "timed out writing to the server");
            return PERF_ETIMEOUT;
        }
        w = pconn_wait(c, PCONN_OUT | (stoppable ? PCONN_STOP : 0), (int64_t)(deadline - now));
        if (w < 0)
            return w;
        if (w & PCONN_STOP)
            return PERF_ESTOP;
    }
    return PERF_OK;
}

/* ---- methods every loop handles alike ---------------------------------- */

static void describe_close(pconn *c, const char *what, uint16_t code, amqp_str text,
                           uint16_t class_id, uint16_t method_id)
{
    const char *name = amqp_reply_name(code);
    const char *on = class_id ? amqp_method_name((uint32_t)class_id << 16 | method_id) : NULL;

    c->reply_code = code;
    /* RabbitMQ's texts start with the code's name already */
    if (name && text.len >= strlen(name) && memcmp(text.ptr, name, strlen(name)) == 0)
        name = NULL;
    snprintf(c->err, sizeof c->err, "the server closed the %s: %u %s%s%.*s%s%s%s", what, code,
             name ? name : "", name ? " - " : "", (int)text.len, text.ptr, on ? " (on " : "",
             on ? on : "", on ? ")" : "");
}

int pconn_common(pconn *c, const amqp_frame *f, uint32_t id, const amqp_method_args *a)
{
    uint8_t *p;

    if (f->type == AMQP_FRAME_HEARTBEAT) {
        if (!(p = pconn_reserve(c, AMQP_FRAME_OVERHEAD)))
            return PERF_ENOMEM;
        c->out_len += (size_t)amqp_write_heartbeat(p, AMQP_FRAME_OVERHEAD);
        return 1;
    }
    if (f->type != AMQP_FRAME_METHOD)
        return 0;
    switch (id) {
    case AMQP_CONNECTION_CLOSE: {
        amqp_connection_close_ok ok = {0};
        const amqp_connection_close *m = &a->connection_close;
        describe_close(c, "connection", m->reply_code, m->reply_text, m->class_id, m->method_id);
        c->out_off = c->out_len = 0;   /* anything unsent is moot now */
        if (pconn_send_method(c, 0, AMQP_CONNECTION_CLOSE_OK, &ok) == PERF_OK)
            flush_all(c, perf_now() + 1000000000u, false);
        c->closed = true;
        return PERF_ECLOSED;
    }
    case AMQP_CHANNEL_CLOSE: {
        amqp_channel_close_ok ok = {0};
        const amqp_channel_close *m = &a->channel_close;
        describe_close(c, "channel", m->reply_code, m->reply_text, m->class_id, m->method_id);
        pconn_send_method(c, f->channel, AMQP_CHANNEL_CLOSE_OK, &ok);
        c->channel_closed = true;
        return PERF_ECLOSED;
    }
    case AMQP_CONNECTION_BLOCKED:
        if (!c->blocked) {
            c->blocked = true;
            c->blocked_since = perf_now();
            c->blocked_count++;
        }
        return 1;
    case AMQP_CONNECTION_UNBLOCKED:
        if (c->blocked) {
            c->blocked = false;
            c->blocked_ns += perf_now() - c->blocked_since;
        }
        return 1;
    default:
        return 0;
    }
}

/* Read frames until method `want` arrives on `channel`. */
static int wait_method(pconn *c, uint16_t channel, uint32_t want, amqp_method_args *out,
                       int timeout_ms)
{
    uint64_t deadline = perf_now() + (uint64_t)timeout_ms * 1000000u;
    amqp_frame f;
    int r;

    for (;;) {
        while ((r = pconn_frame(c, &f)) > 0) {
            uint32_t id = 0;
            if (f.type == AMQP_FRAME_METHOD) {
                int d = amqp_method_frame_decode(&f, &id, out);
                if (d < 0) {
                    snprintf(c->err, sizeof c->err, "cannot decode a method from the server: %s",
                             amqp_strerror(d));
                    return PERF_EPROTO;
                }
            }
            r = pconn_common(c, &f, id, out);
            if (r < 0)
                return r;
            if (r > 0)
                continue;
            if (f.type == AMQP_FRAME_METHOD && id == want && f.channel == channel)
                return PERF_OK;
            snprintf(c->err, sizeof c->err, "unexpected %s (frame type %u) while waiting for %s",
                     f.type == AMQP_FRAME_METHOD ? amqp_method_name(id) : "frame", f.type,
                     amqp_method_name(want));
            return PERF_EPROTO;
        }
        if (r < 0)
            return r;
        if (pconn_pending(c) && pconn_flush(c) < 0)
            return PERF_EIO;
        long n = pconn_fill(c);
        if (n < 0)
            return (int)n;
        if (n > 0)
            continue;
        uint64_t now = perf_now();
        if (now >= deadline) {
            snprintf(c->err, sizeof c->err, "no %s from the server within %d ms",
                     amqp_method_name(want), timeout_ms);
            return PERF_ETIMEOUT;
        }
        int w = pconn_wait(c, PCONN_IN | PCONN_STOP | (pconn_pending(c) ? PCONN_OUT : 0),
                           (int64_t)(deadline - now));
        if (w < 0)
            return w;
        if (w & PCONN_STOP) {
            snprintf(c->err, sizeof c->err, "interrupted");
            return PERF_ESTOP;
        }
    }
}

int pconn_rpc(pconn *c, uint32_t id, const void *args, uint32_t reply, amqp_method_args *out,
              int timeout_ms)
{
    uint16_t ch = (id >> 16) == AMQP_CONNECTION_CLASS ? 0 : PCONN_CHANNEL;
    int r = pconn_send_method(c, ch, id, args);

    if (r == PERF_OK)
        r = flush_all(c, perf_now() + (uint64_t)timeout_ms * 1000000u, true);
    if (r == PERF_OK)
        r = wait_method(c, ch, reply, out, timeout_ms);
    return r;
}

/* ---- open and close ------------------------------------------------------ */

static int tcp_connect(pconn *c, const perf_url *u)
{
    struct addrinfo hints = {0}, *res, *ai;
    int r, fd = -1, one = 1;

    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    r = getaddrinfo(u->host, u->port, &hints, &res);
    if (r != 0) {
        snprintf(c->err, sizeof c->err, "cannot resolve %s: %s", u->host, gai_strerror(r));
        return PERF_ECONNECT;
    }
    snprintf(c->err, sizeof c->err, "cannot connect to %s:%s", u->host, u->port);
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0)
            continue;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 || errno == EINPROGRESS) {
            struct pollfd pfd = {.fd = fd, .events = POLLOUT};
            int soerr = 0;
            socklen_t len = sizeof soerr;
            if (poll(&pfd, 1, 10000) == 1 &&
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 && soerr == 0)
                break;
            snprintf(c->err, sizeof c->err, "cannot connect to %s:%s: %s", u->host, u->port,
                     soerr ? strerror(soerr) : "timed out");
        } else {
            snprintf(c->err, sizeof c->err, "cannot connect to %s:%s: %s", u->host, u->port,
                     strerror(errno));
        }
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        return PERF_ECONNECT;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->fd = fd;
    return PERF_OK;
}

/* ---- TLS ------------------------------------------------------------------ */

static SSL_CTX *tls_ctx;
static bool tls_verify;

int perf_tls_setup(const char *cacert, const char *cert, const char *key, char *err, size_t errlen)
{
    tls_ctx = SSL_CTX_new(TLS_client_method());
    if (!tls_ctx) {
        snprintf(err, errlen, "cannot make a TLS context");
        return -1;
    }
    SSL_CTX_set_min_proto_version(tls_ctx, TLS1_2_VERSION);
    SSL_CTX_set_mode(tls_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    tls_verify = cacert != NULL;
    if (cacert && SSL_CTX_load_verify_locations(tls_ctx, cacert, NULL) != 1) {
        snprintf(err, errlen, "cannot read the CA certificate %s", cacert);
        return -1;
    }
    SSL_CTX_set_verify(tls_ctx, cacert ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
    if (cert && (SSL_CTX_use_certificate_chain_file(tls_ctx, cert) != 1 ||
                 SSL_CTX_use_PrivateKey_file(tls_ctx, key ? key : cert, SSL_FILETYPE_PEM) != 1)) {
        snprintf(err, errlen, "cannot read the client certificate %s or its key %s", cert, key ? key : cert);
        return -1;
    }
    return 0;
}

/* The TLS handshake on the connected socket, within HANDSHAKE_MS. */
static int tls_connect(pconn *c, const perf_url *u)
{
    uint64_t deadline = perf_now() + HANDSHAKE_MS * 1000000ull;
    SSL *s;

    if (!tls_ctx) {
        snprintf(c->err, sizeof c->err, "amqps:// without perf_tls_setup");
        return PERF_EPROTO;
    }
    if (!(s = SSL_new(tls_ctx)) || SSL_set_fd(s, c->fd) != 1) {
        SSL_free(s);
        return tls_fail(c, "TLS session");
    }
    c->ssl = s;
    SSL_set_tlsext_host_name(s, u->host);
    if (tls_verify)
        SSL_set1_host(s, u->host);
    for (;;) {
        ERR_clear_error();
        int r = SSL_connect(s);
        if (r == 1)
            return PERF_OK;
        int e = SSL_get_error(s, r);
        uint64_t now = perf_now();
        if ((e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) || now >= deadline)
            return now >= deadline ? (snprintf(c->err, sizeof c->err, "TLS handshake timed out"), PERF_ETIMEOUT)
                                   : tls_fail(c, "TLS handshake");
        struct pollfd pfd = {.fd = c->fd, .events = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT};
        poll(&pfd, 1, (int)((deadline - now) / 1000000) + 1);
    }
}

static void client_properties(amqp_tbuf *props, amqp_tbuf *caps, const char *name)
{
    amqp_tbuf_bool(caps, "publisher_confirms", true);
    amqp_tbuf_bool(caps, "basic.nack", true);
    amqp_tbuf_bool(caps, "consumer_cancel_notify", true);
    amqp_tbuf_bool(caps, "connection.blocked", true);
    amqp_tbuf_bool(caps, "authentication_failure_close", true);
    amqp_tbuf_str(props, "product", amqp_cstr("warren-perf"));
    amqp_tbuf_str(props, "version", amqp_cstr(WARREN_VERSION));
    amqp_tbuf_str(props, "platform", amqp_cstr("C"));
    amqp_tbuf_str(props, "information", amqp_cstr("AMQP load generator of warren"));
    amqp_tbuf_str(props, "connection_name", amqp_cstr(name));
    amqp_tbuf_table(props, "capabilities", amqp_tbuf_done(caps));
}

static int handshake(pconn *c, const perf_url *u, const char *name)
{
    amqp_method_args a;
    amqp_tbuf props = {0}, caps = {0};
    char resp[520];
    size_t ul = strlen(u->user), pl = strlen(u->pass);
    uint8_t *p;
    int r;

    if (!(p = pconn_reserve(c, AMQP_PROTOCOL_HEADER_SIZE)))
        return PERF_ENOMEM;
    memcpy(p, AMQP_PROTOCOL_HEADER, AMQP_PROTOCOL_HEADER_SIZE);
    c->out_len += AMQP_PROTOCOL_HEADER_SIZE;
    r = flush_all(c, perf_now() + HANDSHAKE_MS * 1000000ull, true);
    if (r == PERF_OK)
        r = wait_method(c, 0, AMQP_CONNECTION_START, &a, HANDSHAKE_MS);
    if (r == PERF_EEOF)
        snprintf(c->err, sizeof c->err, "the server closed the socket instead of connection.start "
                 "(not an AMQP 0-9-1 server?)");
    if (r != PERF_OK)
        return r;
    if (!memmem(a.connection_start.mechanisms.ptr, a.connection_start.mechanisms.len, "PLAIN", 5)) {
        snprintf(c->err, sizeof c->err, "the server does not offer PLAIN authentication (%.*s)",
                 (int)a.connection_start.mechanisms.len, a.connection_start.mechanisms.ptr);
        return PERF_EPROTO;
    }

    /* PLAIN: authzid \0 user \0 password */
    resp[0] = '\0';
    memcpy(resp + 1, u->user, ul);
    resp[1 + ul] = '\0';
    memcpy(resp + 2 + ul, u->pass, pl);
    client_properties(&props, &caps, name);
    if (props.oom || caps.oom) {
        amqp_tbuf_free(&props);
        amqp_tbuf_free(&caps);
        return PERF_ENOMEM;
    }
    amqp_connection_start_ok so = {
        .client_properties = amqp_tbuf_done(&props),
        .mechanism = amqp_cstr("PLAIN"),
        .response = {resp, (uint32_t)(2 + ul + pl)},
        .locale = amqp_cstr("en_US"),
    };
    r = pconn_rpc(c, AMQP_CONNECTION_START_OK, &so, AMQP_CONNECTION_TUNE, &a, HANDSHAKE_MS);
    amqp_tbuf_free(&props);
    amqp_tbuf_free(&caps);
    if (r == PERF_EEOF)
        snprintf(c->err, sizeof c->err, "the server closed the socket after start-ok "
                 "(wrong user or password for %s?)", u->user);
    if (r != PERF_OK)
        return r;

    amqp_connection_tune_ok to = {
        .channel_max = a.connection_tune.channel_max,
        .frame_max = a.connection_tune.frame_max && a.connection_tune.frame_max < PCONN_FRAME_MAX
                         ? a.connection_tune.frame_max : PCONN_FRAME_MAX,
        .heartbeat = 0,
    };
    c->frame_max = to.frame_max;
    r = pconn_send_method(c, 0, AMQP_CONNECTION_TUNE_OK, &to);
    if (r != PERF_OK)
        return r;
    amqp_connection_open op = {.virtual_host = amqp_cstr(u->vhost)};
    r = pconn_rpc(c, AMQP_CONNECTION_OPEN, &op, AMQP_CONNECTION_OPEN_OK, &a, HANDSHAKE_MS);
    if (r != PERF_OK)
        return r;
    amqp_channel_open co = {{0}};
    return pconn_rpc(c, AMQP_CHANNEL_OPEN, &co, AMQP_CHANNEL_OPEN_OK, &a, HANDSHAKE_MS);
}

int pconn_open(pconn *c, const perf_url *u, const char *name, int stopfd)
{
    int r;

    memset(c, 0, sizeof *c);
    c->fd = -1;
    c->stopfd = stopfd;
    c->frame_max = PCONN_FRAME_MAX;
    c->in_cap = PCONN_IN_CAP;
    c->out_cap = PCONN_OUT_CAP;
    c->in = malloc(c->in_cap);
    c->out = malloc(c->out_cap);
    if (!c->in || !c->out) {
        snprintf(c->err, sizeof c->err, "out of memory");
        return PERF_ENOMEM;
    }
    r = tcp_connect(c, u);
    if (r == PERF_OK && u->tls)
        r = tls_connect(c, u);
    if (r == PERF_OK)
        r = handshake(c, u, name);
    return r;
}

int pconn_close(pconn *c, int timeout_ms)
{
    uint64_t deadline = perf_now() + (uint64_t)timeout_ms * 1000000u;
    amqp_connection_close cl = {.reply_code = AMQP_REPLY_SUCCESS, .reply_text = amqp_cstr("bye")};
    amqp_frame f;
    int status = PERF_OK;

    if (c->fd >= 0 && !c->closed && pconn_send_method(c, 0, AMQP_CONNECTION_CLOSE, &cl) == PERF_OK &&
        (status = flush_all(c, deadline, false)) == PERF_OK) {
        status = PERF_ETIMEOUT;
        /* Wait for close-ok: it also tells us the server has dealt with
         * everything we sent before.  Deliveries still in flight are
         * dropped; a connection.close crossing ours counts as the answer. */
        for (bool done = false; !done;) {
            int r = 0;
            while (!done && (r = pconn_frame(c, &f)) > 0) {
                if (f.type == AMQP_FRAME_METHOD && f.size >= 4) {
                    uint32_t id = amqp_get32(f.payload);
                    done = id == AMQP_CONNECTION_CLOSE_OK || id == AMQP_CONNECTION_CLOSE;
                }
            }
            if (done)
                status = PERF_OK;
            if (done || r < 0)
                break;
            long n = pconn_fill(c);
            if (n < 0) {
                status = (int)n;
                break;
            }
            if (n > 0)
                continue;
            uint64_t now = perf_now();
            if (now >= deadline || pconn_wait(c, PCONN_IN, (int64_t)(deadline - now)) < 0)
                break;
        }
    }
    if (status == PERF_ETIMEOUT)
        snprintf(c->err, sizeof c->err, "no connection.close-ok within %d ms", timeout_ms);
    if (c->ssl)
        SSL_free(c->ssl);
    c->ssl = NULL;
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    free(c->in);
    free(c->out);
    c->in = c->out = NULL;
    return status;
}
