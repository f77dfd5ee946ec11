/*
 * proto/limits.h - the AMQP front end's side of the limits (limits.c):
 * counting connections and channels and refusing the one too many, in
 * RabbitMQ's words where RabbitMQ has the limit.
 *
 *   at accept          --max-unauthenticated (sockets that have not logged
 *                      in), --max-connections-per-address: the socket is
 *                      closed unread, and a warning logged (at most one a
 *                      second, with the count since the last one)
 *   connection.open    --max-connections (the node's), the vhost's
 *                      max-connections, the user's max-connections:
 *                      530 NOT_ALLOWED
 *   channel.open       the user's max-channels: 530 NOT_ALLOWED
 *
 * The counts live in the broker's conn_limits (b->limits) and in the
 * vhost (vh->nconns); a connection gives back what it took when it is
 * freed.  Made by broker_init (stats_conn_register's neighbour).
 */
#ifndef WARREN_PROTO_LIMITS_H
#define WARREN_PROTO_LIMITS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "error.h"
#include "map.h"

typedef struct broker broker;
typedef struct conn conn;
typedef struct vhost vhost;

/* What one user, or one source address, holds now. */
typedef struct limits_use {
    uint32_t conns;             /* a user's: open connections; an address's: sockets */
    uint32_t chans;             /* a user's open channels */
    char key[];                 /* the map's key (a user name, an address's bytes) */
} limits_use;

typedef struct conn_limits {
    map users;                  /* user name -> limits_use */
    map addrs;                  /* source address bytes -> limits_use (only with a per-address limit) */
    uint32_t unauth;            /* sockets before their login */
    uint32_t open;              /* connections past connection.open */
    uint64_t refused;           /* sockets refused at accept, since the start */
    uint64_t last_warn;         /* loop ms of the last warning */
    uint32_t refused_quiet;     /* refused since it, not logged */
} conn_limits;

int conn_limits_init(broker *b);
void conn_limits_free(broker *b);
/* A socket just accepted (c->peer set): may it stay?  false: refused,
 * counted and logged; the caller closes it and frees c. */
bool conn_limits_accept(conn *c, const struct sockaddr *sa);
/* The login succeeded (start-ok): no longer unauthenticated. */
void conn_limits_logged_in(conn *c);
/* connection.open into vh: 0 and counted, or -1 with 530 in *err. */
int conn_limits_open(conn *c, vhost *vh, amqp_error *err);
/* Undo conn_limits_open (the open was refused after it, vh's). */
void conn_limits_unopen(conn *c, vhost *vh);
/* channel.open: may the user open one more?  0, or -1 with 530. */
int conn_limits_channel(conn *c, amqp_error *err);
/* The rate of channel.open on one connection: LIMITS_CHANNEL_OPEN_BURST
 * at once, then LIMITS_CHANNEL_OPEN_RATE a second.  A connection past it
 * is not refused but slowed: the channel.open waits in its input (conn.c
 * stops reading it) until the allowance has grown again.  true: go on
 * (one taken); false: wait. */
#define LIMITS_CHANNEL_OPEN_RATE 1000
#define LIMITS_CHANNEL_OPEN_BURST 2048
bool conn_limits_channel_token(conn *c);
/* n channels of c opened (n > 0) or closed (n < 0). */
void conn_limits_channels(conn *c, int n);
/* c is being freed: give back its counts. */
void conn_limits_release(conn *c);

#endif
