/*
 * http/https.c - https for the HTTP API: TLS ended with OpenSSL, the
 * plaintext handed to libmicrohttpd (MHD) through a socketpair.
 *
 * Why not MHD's own TLS: Debian's libmicrohttpd is built with GnuTLS, so
 * its https would take a second TLS library with its own certificate
 * loading, its own cipher and version policy and its own reload story,
 * differing from amqps in small ways an operator would trip on.  Here one
 * tls_server (tls.h) serves both ports: the same files, the same versions
 * and ciphers, the same SIGHUP reload.  The price is a socketpair and a
 * copy per connection, on a port that serves an operator's browser and
 * scripts, not the message path.
 *
 * One proxy per accepted connection: `net` is the client's TCP socket
 * (through the TLS session), `local` our end of a socketpair whose other
 * end MHD serves as if it were the client (http_server_add_connection,
 * with the client's real address, so the loopback rules still hold).
 * Bytes move in both directions through two 16 KiB buffers, and a
 * direction stops reading while its buffer is full: flow control comes
 * from the sockets.  Either side closing closes both; MHD's idle timeout
 * closes its end, which closes the client's.  The TLS handshake has the
 * AMQP port's limit (10 s).  A proxy is never freed inside one of its
 * own callbacks (another event of the same loop turn may name it): dead
 * ones wait on a list freed by a timer of the server's.
 *
 * The HTTP server's connection limits (http_server_limits) are checked
 * here first, on the proxies alone, before a connection costs a TLS
 * session and two buffers: past --management-max-connections proxies, or
 * --management-max-connections-per-address from the client's address, a
 * connection is closed at once.  MHD counts the same connections again
 * (with the plain port's) under the client's address, which the proxy
 * passes it, so the limits hold across both ports.
 */
#include "http/https.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http/server.h"
#include "listener.h"
#include "log.h"
#include "tls.h"
#include "util.h"

#define PROXY_BUF 16384
#define HANDSHAKE_TIMEOUT_MS 10000

typedef struct proxy proxy;

struct https_server {
    listener_set ls;
    struct http_server *api;
    tls_server *tls;
    ev_loop *loop;
    proxy *live;                /* open proxies */
    proxy *dead;                /* closed, freed by `reap` */
    ev_timer reap;
    unsigned nlive;
    uint64_t refused_logged;    /* loop ms of the last refusal's warning */
};

struct proxy {
    ev_io net;                  /* first: the client's socket (its ev_io is the proxy) */
    ev_io local;                /* our end of the socketpair */
    ev_timer timer;             /* the handshake's limit */
    https_server *s;
    tls_conn *tls;
    proxy *next, *prev;
    bool net_eof, local_eof, dead;
    char peer[64];
    uint8_t addr[16];           /* the client's address (IPv4-mapped as IPv4) */
    size_t addrlen;
    uint32_t in_off, in_len;    /* from the client, for MHD */
    uint32_t out_off, out_len;  /* from MHD, for the client */
    uint8_t in[PROXY_BUF], out[PROXY_BUF];
};

static void on_reap(ev_loop *loop, ev_timer *t)
{
    https_server *s = (https_server *)((char *)t - offsetof(https_server, reap));
    (void)loop;
    while (s->dead) {
        proxy *p = s->dead;
        s->dead = p->next;
        free(p);
    }
}

static void kill_proxy(proxy *p, const char *why)
{
    https_server *s = p->s;

    if (p->dead)
        return;
    log_debug("https connection %s closed: %s", p->peer, why);
    p->dead = true;
    ev_io_stop(s->loop, &p->net);
    ev_io_stop(s->loop, &p->local);
    ev_timer_stop(s->loop, &p->timer);
    tls_close_notify(p->tls);
    tls_conn_free(p->tls);
    p->tls = NULL;
    close(p->net.fd);
    close(p->local.fd);
    s->nlive--;
    if (p->prev)
        p->prev->next = p->next;
    else
        s->live = p->next;
    if (p->next)
        p->next->prev = p->prev;
    p->next = s->dead;
    s->dead = p;
    if (!ev_timer_active(&s->reap))
        ev_timer_start(s->loop, &s->reap, 0);
}

/* Move what can move, both ways, until nothing does; then watch for what
 * is waited on. */
static void pump(proxy *p)
{
    bool moved, net_out = false;
    ssize_t r;

    do {
        moved = false;
        net_out = false;
        /* client -> MHD */
        if (p->in_off == p->in_len && !p->net_eof) {
            r = tls_read(p->tls, p->in, sizeof p->in);
            net_out |= tls_wants_write(p->tls);
            if (r > 0) {
                p->in_off = 0;
                p->in_len = (uint32_t)r;
                moved = true;
            } else if (r == 0) {
                p->net_eof = true;
                shutdown(p->local.fd, SHUT_WR);
            } else if (errno != EAGAIN) {
                if (!tls_handshake_done(p->tls))
                    log_info("https connection from %s refused: %s", p->peer, tls_error(p->tls));
                return kill_proxy(p, tls_error(p->tls));
            }
        }
        if (p->in_off < p->in_len) {
            r = write(p->local.fd, p->in + p->in_off, p->in_len - p->in_off);
            if (r > 0) {
                p->in_off += (uint32_t)r;
                moved = true;
            } else if (r < 0 && errno != EAGAIN && errno != EINTR) {
                /* MHD closed its end with input still to come (it
                 * answered early): what the client sends is dropped from
                 * here, and the answer waiting on the socketpair still
                 * goes to the client before the proxy closes */
                p->in_off = p->in_len = 0;
                p->net_eof = true;
                moved = true;
            }
        }
        /* MHD -> client */
        if (p->out_off == p->out_len && !p->local_eof) {
            r = read(p->local.fd, p->out, sizeof p->out);
            if (r > 0) {
                p->out_off = 0;
                p->out_len = (uint32_t)r;
                moved = true;
            } else if (r == 0) {
                /* MHD is done with it (closed, or idle timeout) */
                return kill_proxy(p, "closed by the HTTP server");
            } else if (errno == ECONNRESET) {
                /* closed with input unread (read first, the answer came) */
                return kill_proxy(p, "closed by the HTTP server");
            } else if (errno != EAGAIN && errno != EINTR) {
                return kill_proxy(p, "the HTTP server's socket failed");
            }
        }
        if (p->out_off < p->out_len) {
            r = tls_write(p->tls, p->out + p->out_off, p->out_len - p->out_off);
            net_out |= tls_wants_write(p->tls);
            if (r > 0) {
                p->out_off += (uint32_t)r;
                moved = true;
            } else if (r < 0) {
                return kill_proxy(p, "client connection lost");
            }
        }
    } while (moved);
    if (p->net_eof && p->out_off == p->out_len && p->local_eof)
        return kill_proxy(p, "done");
    if (tls_handshake_done(p->tls) && ev_timer_active(&p->timer))
        ev_timer_stop(p->s->loop, &p->timer);
    ev_io_set(p->s->loop, &p->net,
              (p->in_off == p->in_len && !p->net_eof ? EPOLLIN : 0) | (net_out ? EPOLLOUT : 0));
    ev_io_set(p->s->loop, &p->local,
              (p->out_off == p->out_len && !p->local_eof ? EPOLLIN : 0) | (p->in_off < p->in_len ? EPOLLOUT : 0));
}

static void on_net(ev_loop *loop, ev_io *io, uint32_t events)
{
    proxy *p = (proxy *)io;
    (void)loop, (void)events;
    if (!p->dead)
        pump(p);
}

static void on_local(ev_loop *loop, ev_io *io, uint32_t events)
{
    proxy *p = (proxy *)((char *)io - offsetof(proxy, local));
    (void)loop, (void)events;
    if (!p->dead)
        pump(p);
}

static void on_timer(ev_loop *loop, ev_timer *t)
{
    proxy *p = (proxy *)((char *)t - offsetof(proxy, timer));
    (void)loop;
    if (!p->dead && !tls_handshake_done(p->tls))
        kill_proxy(p, "handshake timeout");
}

/* "127.0.0.1:5555", "[::1]:5555": for the log. */
static void peer_name(const struct sockaddr *sa, socklen_t len, char *out, size_t n)
{
    char host[NI_MAXHOST] = "?", port[NI_MAXSERV] = "?";
    getnameinfo(sa, len, host, sizeof host, port, sizeof port, NI_NUMERICHOST | NI_NUMERICSERV);
    snprintf(out, n, sa->sa_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, port);
}

/* Within the HTTP server's limits?  Else why not (for the log). */
static const char *over_limit(const https_server *s, const uint8_t *addr, size_t addrlen)
{
    unsigned max_conns, max_per_address, same = 0;
    const proxy *p;

    http_server_limits(s->api, &max_conns, &max_per_address);
    if (s->nlive >= max_conns)
        return "--management-max-connections";
    if (!max_per_address || !addrlen)
        return NULL;
    for (p = s->live; p; p = p->next)
        if (p->addrlen == addrlen && !memcmp(p->addr, addr, addrlen) && ++same >= max_per_address)
            return "--management-max-connections-per-address";
    return NULL;
}

static void on_accept(void *user, int fd, const struct sockaddr *peer, socklen_t peerlen)
{
    https_server *s = user;
    uint8_t addr[16];
    size_t addrlen = sockaddr_key(peer, addr);
    const char *over = over_limit(s, addr, addrlen);
    proxy *p;
    int sv[2];

    if (over) {
        if (ev_now(s->loop) >= s->refused_logged + 1000) {
            char who[64];
            s->refused_logged = ev_now(s->loop);
            peer_name(peer, peerlen, who, sizeof who);
            log_warn("https: refused a connection from %s: %s reached", who, over);
        }
        close(fd);
        return;
    }
    p = calloc(1, sizeof *p);
    if (!p || socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0) {
        log_warn("https: cannot take a connection: %s", p ? strerror(errno) : "out of memory");
        free(p);
        close(fd);
        return;
    }
    p->s = s;
    memcpy(p->addr, addr, addrlen);
    p->addrlen = addrlen;
    peer_name(peer, peerlen, p->peer, sizeof p->peer);
    if (!(p->tls = tls_conn_new(s->tls, fd))) {
        log_warn("https: out of memory for a TLS session");
        close(sv[0]);
        close(sv[1]);
        close(fd);
        free(p);
        return;
    }
    ev_timer_init(&p->timer, on_timer);
    if (ev_io_start(s->loop, &p->net, fd, EPOLLIN, on_net) < 0 ||
        ev_io_start(s->loop, &p->local, sv[0], EPOLLIN, on_local) < 0) {
        log_warn("https: cannot watch a connection: %s", strerror(errno));
        ev_io_stop(s->loop, &p->net);
        tls_conn_free(p->tls);
        close(sv[0]);
        close(sv[1]);
        close(fd);
        free(p);
        return;
    }
    ev_timer_start(s->loop, &p->timer, HANDSHAKE_TIMEOUT_MS);
    p->next = s->live;
    if (s->live)
        s->live->prev = p;
    s->live = p;
    s->nlive++;
    /* MHD owns sv[1] from here (and closes it if it cannot take it,
     * which closes this proxy at its next read) */
    http_server_add_connection(s->api, sv[1], peer, peerlen);
}

int https_init(https_server **out, struct http_server *api, tls_server *tls, int port, const char *const *binds,
               int nbinds)
{
    https_server *s;
    int i;

    *out = NULL;
    if (port == 0)
        return 0;
    if (!api || !tls) {
        log_error("--management-tls-port needs %s", !tls ? "--tls-cert" : "the HTTP API (--management-port)");
        return -1;
    }
    if (!(s = calloc(1, sizeof *s)))
        return log_error("out of memory"), -1;
    s->api = api;
    s->tls = tls;
    ev_timer_init(&s->reap, on_reap);
    listeners_init(&s->ls, port, on_accept, s);
    s->ls.label = "HTTP API (https)";
    if (nbinds == 0) {
        if (listeners_bind(&s->ls, "127.0.0.1", true) < 0)
            goto fail;
        listeners_bind(&s->ls, "::1", false);
    } else {
        for (i = 0; i < nbinds; i++)
            if (listeners_bind(&s->ls, binds[i], true) < 0)
                goto fail;
    }
    *out = s;
    return 0;
fail:
    listeners_close(&s->ls, NULL);
    free(s);
    return -1;
}

int https_listen(https_server *s, ev_loop *loop)
{
    s->loop = loop;
    return listeners_listen(&s->ls, loop);
}

void https_close_listeners(https_server *s)
{
    if (s)
        listeners_close(&s->ls, s->loop);
}

const listener_set *https_listeners(const https_server *s)
{
    return &s->ls;
}

void https_free(https_server *s)
{
    if (!s)
        return;
    listeners_close(&s->ls, s->loop);
    while (s->live)
        kill_proxy(s->live, "shutdown");
    if (s->loop)
        ev_timer_stop(s->loop, &s->reap);
    on_reap(s->loop, &s->reap);
    free(s);
}
