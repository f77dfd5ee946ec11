/*
 * broker.h - the process: settings, the loop, the AMQP listeners and the
 * connection list, the store, the resource alarms, the users, the HTTP
 * API; one of it, made by main.c (broker.c).
 *
 * The domain does not reach into it: a vhost is given the loop and the
 * settings it needs (vhost_new) and the store once it is open
 * (vhost_set_store).  Only vhost.c and stats.c (the totals, which answer
 * for the whole broker) include this.
 */
#ifndef WARREN_BROKER_H
#define WARREN_BROKER_H

#include <stdbool.h>
#include <stdint.h>

#include "alarm.h"
#include "auth.h"
#include "config.h"
#include "drain.h"
#include "stats.h"
#include "ev/loop.h"
#include "listener.h"
#include "map.h"

typedef struct broker broker;
typedef struct conn conn;
typedef struct vhost vhost;
typedef struct store store;

struct broker {
    config cfg;
    ev_loop *loop;
    listener_set amqp;          /* the AMQP port's sockets */
    listener_set amqps;         /* the amqps port's (--tls-port), when TLS is on */
    struct tls_server *tls;     /* the certificate, for amqps and https (tls.h); NULL: no TLS */
    conn *conns;                /* all connections */
    uint32_t nconns;
    conn *reap;                 /* dead, freed before sleep */
    conn *flush;                /* with output to write before sleep */
    vhost *vh;                  /* "/", the default */
    map vhosts;                 /* name -> vhost, "/" among them */
    vhost **dead_vhosts;        /* deleted, freed once no connection holds them */
    size_t ndead_vhosts;
    store *st;                  /* NULL when not persistent */
    drainer drain;              /* huge purges and deletions, a slice a turn (drain.c) */
    ev_timer tick;              /* once a second: heartbeats */
    ev_timer shutdown_timer;    /* grace period for clients to close */
    int sigfd;
    ev_io sig_io;
    bool stopping;
    alarms alarms;              /* resource alarms (alarm.c); broker.c observes them */
    conn *sync_waiters;         /* connections with confirms awaiting a sync */
    auth_db auth;               /* who may log in (auth.c) */
    struct http_server *http;   /* the HTTP API (src/http/), NULL when off */
    struct https_server *https;     /* https for the HTTP API (http/https.c), NULL when off */
    struct http_server *metrics;    /* the Prometheus endpoint (src/http/metrics.c), NULL when off */
    stats_histogram confirm_latency;    /* publish to confirm, every channel's (proto/channel.c) */
    uint64_t conns_opened, conns_closed;    /* since the start (proto/conn.c): opened = reached connection.open, */
                                            /* closed = every socket that ended, as RabbitMQ counts them */
    uint64_t chans_opened, chans_closed;
    struct conn_limits *limits; /* the AMQP connections' counts for the limits (proto/limits.c) */
};

int broker_init(broker *b, const config *cfg);

/* The vhosts.  By name (NULL: none such). */
vhost *broker_vhost(broker *b, const char *name, size_t len);
/* Make one (recorded in the data directory): 0, 1 when it exists already,
 * -1 with *why (out of memory, a write that failed). */
int broker_add_vhost(broker *b, const char *name, const char **why);
/* Delete one with everything in it, as RabbitMQ: its connections closed
 * (320 CONNECTION_FORCED), its queues deleted with their messages, its
 * exchanges and bindings, every user's permissions on it.  0; -1 with
 * errno ENOENT (none such) or EPERM ("/", which warren keeps). */
int broker_delete_vhost(broker *b, const char *name);
/* Set every limit of a vhost (RabbitMQ's vhost limits; limits.h),
 * recorded in the data directory: 0, or -1 with *why. */
int broker_set_vhost_limits(broker *b, vhost *vh, const limits *l, const char **why);
/* Close (320 CONNECTION_FORCED, text) every AMQP connection of a user:
 * RabbitMQ's answer to the user's deletion. */
void broker_close_user_connections(broker *b, const char *user, const char *text);
/* What was declared or deleted this turn on disk now (group commit: the
 * loop syncs once a turn; the HTTP API before its reply): 0, or -1 when
 * the sync failed. */
int broker_sync_defs(broker *b);
int broker_run(broker *b);
void broker_free(broker *b);

#endif
