/*
 * listener.h - listening TCP sockets that hand each accepted connection to
 * a callback.
 *
 * A protocol (AMQP today, the HTTP API next) owns one listener_set: it
 * binds the addresses it was given, later starts listening, and gets every
 * accepted socket through its own callback with its own user pointer.  Bind
 * and listen are two steps because the broker binds before it opens the
 * store (a port in use must fail the start before the store rewrites
 * anything) and listens after (a client that can connect finds the broker
 * ready); see broker_init.
 *
 * Out of descriptors (EMFILE, ENFILE), accept() fails and the waiting
 * connection stays in the backlog, so a level-triggered listener would
 * wake the loop again at once, forever.  The listener keeps one spare
 * descriptor (on /dev/null) for that moment: it lets go of it, accepts
 * the waiting connection, closes it at once (the client sees the
 * connection closed, not a hang) and takes the spare back.  When even
 * that fails, the listener stops accepting for LISTENER_PAUSE_MS.  A
 * warning is logged at most once a second, with the count.
 */
#ifndef WARREN_LISTENER_H
#define WARREN_LISTENER_H

#include <stdbool.h>
#include <sys/socket.h>

#include "ev/loop.h"

#define LISTENERS_MAX 16

/* One accepted connection: fd is non-blocking and close-on-exec, and the
 * callback owns it (conn_accept, or close it).  peer is the client's
 * address, valid during the call. */
typedef void listener_accept_cb(void *user, int fd, const struct sockaddr *peer, socklen_t peerlen);

typedef struct listener {
    ev_io io;                   /* io.fd: bound by listeners_bind, listening after listeners_listen */
    ev_timer pause;             /* out of descriptors: accepting again when it fires */
    struct listener_set *set;
    bool listening;
    char name[64];              /* the address, for the log: 127.0.0.1, [::1] */
} listener;

typedef struct listener_set {
    listener l[LISTENERS_MAX];
    int n;
    int port;
    listener_accept_cb *accept;
    void *user;
    const char *label;          /* for the log: "HTTP API on ADDR:PORT"; NULL: "listening on ADDR:PORT" */
    ev_loop *loop;              /* set by listeners_listen */
} listener_set;

/* Sockets refused because the process or the system was out of file
 * descriptors (EMFILE, ENFILE), since the start. */
extern uint64_t listeners_refused_nofile;

/* An empty set whose sockets will listen on port and give their
 * connections to accept(user, ...). */
void listeners_init(listener_set *ls, int port, listener_accept_cb *accept, void *user);
/* Bind a socket to every address addr stands for: an IPv4 or IPv6 address
 * ("[::1]" too) or a host name, resolved once (localhost: what /etc/hosts
 * says).  An IPv6 socket is IPv6 only, so "127.0.0.1" and "::1" can share
 * a port.  Logs why it cannot (an error, or a warning when !required) and
 * returns -1; 0 once every address is bound. */
int listeners_bind(listener_set *ls, const char *addr, bool required);
/* listen() on every bound socket and accept from the loop; -1 logged. */
int listeners_listen(listener_set *ls, ev_loop *loop);
/* Stop accepting and close every socket (the set is empty after). */
void listeners_close(listener_set *ls, ev_loop *loop);

#endif
