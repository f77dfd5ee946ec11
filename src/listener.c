/*
 * listener.c - bind, listen, accept; the accepted sockets go to the set's
 * callback, so the listener knows nothing of the protocol spoken on them.
 *
 * Up to 64 connections are accepted per wake-up, so that a burst of
 * connects does not cost a loop turn each and one listener cannot starve
 * the rest of the loop either.
 */
#include "listener.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stddef.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

#define ACCEPTS_PER_WAKE 64
#define LISTENER_PAUSE_MS 100
#define WARN_EVERY_MS 1000

uint64_t listeners_refused_nofile;
static int spare_fd = -1;       /* the reserve descriptor, one for every listener */
static uint64_t last_warn;

static void take_spare(void)
{
    if (spare_fd < 0)
        spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static void on_resume(ev_loop *loop, ev_timer *t)
{
    listener *l = (listener *)((char *)t - offsetof(listener, pause));
    take_spare();
    ev_io_set(loop, &l->io, EPOLLIN);
}

/* accept() failed with EMFILE or ENFILE (errno e): refuse the waiting
 * connection with the spare descriptor, or pause; false when paused. */
static bool out_of_fds(ev_loop *loop, listener *l, int e)
{
    uint64_t now = ev_now(loop);
    bool refused = false;

    if (spare_fd >= 0) {
        int fd;
        close(spare_fd);
        spare_fd = -1;
        fd = accept4(l->io.fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd >= 0) {
            close(fd);
            refused = true;
            listeners_refused_nofile++;
        }
        take_spare();
    }
    if (!last_warn || now - last_warn >= WARN_EVERY_MS) {
        log_warn("out of file descriptors (%s): refusing connections on %s port %d (%llu refused so far)",
                 strerror(e), l->name, l->set->port, (unsigned long long)listeners_refused_nofile);
        last_warn = now;
    }
    if (refused && spare_fd >= 0)
        return true;
    /* no spare to be had: leave the backlog alone for a moment */
    ev_io_set(loop, &l->io, 0);
    ev_timer_start(loop, &l->pause, LISTENER_PAUSE_MS);
    return false;
}

void listeners_init(listener_set *ls, int port, listener_accept_cb *accept, void *user)
{
    memset(ls, 0, sizeof *ls);
    ls->port = port;
    ls->accept = accept;
    ls->user = user;
}

static void on_readable(ev_loop *loop, ev_io *io, uint32_t events)
{
    listener_set *ls = ((listener *)io)->set;
    int i;
    (void)events;
    for (i = 0; i < ACCEPTS_PER_WAKE; i++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int fd = accept4(io->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE) {
                if (out_of_fds(loop, (listener *)io, errno))
                    continue;
                return;
            }
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                log_warn("accept: %s", strerror(errno));
            return;
        }
        ls->accept(ls->user, fd, (struct sockaddr *)&ss, sl);
    }
}

/* Bind a socket to one address (listen() comes later). */
static int bind_addr(listener_set *ls, const struct sockaddr *sa, socklen_t sl, const char *name)
{
    listener *l = &ls->l[ls->n];
    int fd, one = 1;

    fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (sa->sa_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(fd, sa, sl) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    memset(l, 0, sizeof *l);
    l->set = ls;
    l->io.fd = fd;
    snprintf(l->name, sizeof l->name, "%s%s%s", sa->sa_family == AF_INET6 ? "[" : "", name,
             sa->sa_family == AF_INET6 ? "]" : "");
    ls->n++;
    return 0;
}

int listeners_bind(listener_set *ls, const char *addr, bool required)
{
    struct addrinfo hints, *res, *ai, *prev;
    char host[256], port[8], num[INET6_ADDRSTRLEN];
    size_t len = strlen(addr);
    int rc;

    if (len >= 2 && len < sizeof host && addr[0] == '[' && addr[len - 1] == ']')
        snprintf(host, sizeof host, "%.*s", (int)(len - 2), addr + 1);
    else
        snprintf(host, sizeof host, "%s", addr);
    snprintf(port, sizeof port, "%d", ls->port);
    memset(&hints, 0, sizeof hints);
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    hints.ai_socktype = SOCK_STREAM;
    if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
        log_msg(required ? LOG_ERROR : LOG_WARN, "cannot listen on %s port %d: %s", addr, ls->port,
                rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
        return -1;
    }
    for (ai = res; ai; ai = ai->ai_next) {
        /* a name may list the same address twice */
        for (prev = res; prev != ai; prev = prev->ai_next)
            if (prev->ai_addrlen == ai->ai_addrlen && !memcmp(prev->ai_addr, ai->ai_addr, ai->ai_addrlen))
                break;
        if (prev != ai)
            continue;
        if (getnameinfo(ai->ai_addr, ai->ai_addrlen, num, sizeof num, NULL, 0, NI_NUMERICHOST) != 0)
            snprintf(num, sizeof num, "?");
        if (ls->n == LISTENERS_MAX) {
            log_error("cannot listen on %s: more than %d listening addresses", num, ls->n);
            freeaddrinfo(res);
            return -1;
        }
        if (bind_addr(ls, ai->ai_addr, ai->ai_addrlen, num) < 0) {
            log_msg(required ? LOG_ERROR : LOG_WARN, "cannot listen on %s%s%s port %d: %s", addr,
                    strcmp(addr, num) ? " = " : "", strcmp(addr, num) ? num : "", ls->port, strerror(errno));
            freeaddrinfo(res);
            return -1;
        }
    }
    freeaddrinfo(res);
    return 0;
}

int listeners_listen(listener_set *ls, ev_loop *loop)
{
    int i;
    take_spare();
    ls->loop = loop;
    for (i = 0; i < ls->n; i++) {
        listener *l = &ls->l[i];
        int fd = l->io.fd;
        if (l->listening)
            continue;
        ev_timer_init(&l->pause, on_resume);
        if (listen(fd, 1024) < 0 || ev_io_start(loop, &l->io, fd, EPOLLIN, on_readable) < 0) {
            log_error("cannot listen on %s port %d: %s", l->name, ls->port, strerror(errno));
            return -1;
        }
        l->listening = true;
        log_info("%s on %s:%d", ls->label ? ls->label : "listening", l->name, ls->port);
    }
    return 0;
}

void listeners_close(listener_set *ls, ev_loop *loop)
{
    int i;
    for (i = 0; i < ls->n; i++) {
        if (ls->l[i].listening) {
            ev_io_stop(loop, &ls->l[i].io);
            ev_timer_stop(loop, &ls->l[i].pause);
        }
        close(ls->l[i].io.fd);
    }
    ls->n = 0;
}
