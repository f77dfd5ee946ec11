/*
 * proto/conn.h - an AMQP connection (conn.c): the socket, the handshake,
 * heartbeats, the channel table, output and backpressure, closing.
 *
 * Included by the protocol layer (src/proto/), the broker and, through
 * warren.h, the HTTP API; never by the domain (tests/test_layering.py).
 */
#ifndef WARREN_PROTO_CONN_H
#define WARREN_PROTO_CONN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "amqp/frame.h"
#include "ev/buf.h"
#include "ev/loop.h"
#include "message.h"
#include "queue.h"
#include "stats.h"

typedef struct broker broker;
typedef struct conn conn;
typedef struct channel channel;
typedef struct vhost vhost;

enum conn_state {
    CONN_HEADER,        /* waiting for the protocol header */
    CONN_START,         /* connection.start sent, waiting for start-ok */
    CONN_TUNE,          /* tune sent, waiting for tune-ok */
    CONN_OPEN_WAIT,     /* tune-ok received, waiting for connection.open */
    CONN_OPEN,
    CONN_CLOSING,       /* connection.close sent or answered: input is read and
                         * dropped until the client's close-ok or hang-up, or
                         * a timeout (conn.c) */
    CONN_DEAD,          /* to be reaped */
};

struct conn {
    ev_io io;
    ev_timer timer;             /* handshake, heartbeats or close deadline */
    broker *b;
    conn *next, *prev;          /* the broker's connections */
    conn *reap_next;
    conn *flush_next;           /* on the broker's to-flush list */
    uint8_t state;
    bool flushing;              /* on the flush list */
    bool read_paused;           /* output backlog: stop reading */
    bool alarm_held;            /* published during a resource alarm: not read */
    bool blocked_sent;          /* sent connection.blocked, unblocked is due */
    bool loopback;
    bool discard_input;         /* after a framing error */
    uint16_t channel_max;
    uint32_t frame_max;
    uint16_t heartbeat;
    uint64_t last_recv, last_send;  /* loop ms */
    uint8_t *in;                /* partial frame left from the last read */
    uint32_t inlen, incap;
    obuf out;
    /* open channels sorted by number: any number 1..65535 may be used, and
     * an idle connection holds no table at all */
    struct conn_channel {
        channel *ch;
        uint16_t id;
    } *chans;
    uint32_t nchans, capchans;
    vhost *vh;
    char user[64];
    char peer[64];
    uint32_t cap_flags;         /* client capabilities */
    queue_owner exclusive;      /* what its exclusive queues know it by */
    bool sync_waiting;          /* on the broker's sync waiter list */
    conn *sync_next;
    stats_conncounters stats;   /* bytes, reads, writes, client properties (stats.h) */
    /* amqps (tls.h): the session, NULL on a plain socket; the timer reads
     * again at once when plaintext is left decrypted inside the session,
     * which epoll cannot signal */
    struct tls_conn *tls;
    ev_timer tls_again;
    /* what it holds of the limits' counts (proto/limits.c) */
    struct limits_use *user_use, *addr_use;
    uint8_t addr_len;
    bool unauth_counted, open_counted;
    uint64_t accepted;          /* loop ms: the handshake's deadline counts from here */
    bool input_backlog;         /* used its input budget: the rest of `in` waits for the next turn */
    bool throttled;             /* opens channels faster than proto/limits.c allows: `in` waits */
    conn *backlog_next;
    uint32_t chan_tokens;       /* channel.open allowance (proto/limits.c) */
    uint64_t chan_tokens_at;    /* loop ms of its last refill; 0: never */
    const char *auth_mechanism; /* how the user logged in (static), for the lists */
};

enum {
    CAP_CONSUMER_CANCEL_NOTIFY = 1 << 0,
    CAP_CONNECTION_BLOCKED = 1 << 1,
    CAP_AUTH_FAILURE_CLOSE = 1 << 2,
    CAP_PUBLISHER_CONFIRMS = 1 << 3,
};

#define CONN_OUT_HIGH (4u << 20)   /* stop delivering/reading above this */

void conn_accept(broker *b, int fd, const struct sockaddr *sa, socklen_t salen);
/* The same on the amqps port: TLS first (tls.h), with the broker's
 * tls_server. */
struct tls_server;
void conn_accept_tls(broker *b, struct tls_server *ts, int fd, const struct sockaddr *sa, socklen_t salen);
/* Queue a method frame.  Output errors mark the connection dead. */
void conn_send_method(conn *c, uint16_t ch, uint32_t id, const void *args);
/* Queue a method with content: method frame, header frame, body frames. */
void conn_send_content(conn *c, uint16_t ch, uint32_t id, const void *args, const msg *m);
/* Close with connection.close (hard error) or drop the socket at once. */
void conn_close(conn *c, int code, const char *text, uint32_t method);
void conn_kill(conn *c, const char *why);
void conn_want_flush(conn *c);
void conn_flush(conn *c);
/* Output room left before backpressure: deliveries stop at CONN_OUT_HIGH. */
static inline bool conn_congested(const conn *c) { return c->out.bytes >= CONN_OUT_HIGH; }
void conn_free(conn *c);
/* The resource alarms are off (broker.c's alarm observer): a connection
 * held for publishing during one is read again (and hears
 * connection.unblocked if it heard blocked). */
void conn_unblock(conn *c);
/* The channel numbered id is gone (freed already): drop it from the table. */
void conn_forget_channel(conn *c, uint16_t id);
/* Wake this connection when the store next syncs (its confirms wait). */
void conn_wait_sync(conn *c);

/* Let the vhost's statistics ask the sessions (stats.h's
 * stats_session_ops; proto/stats_conn.c).  Once, after vhost_new. */
void stats_conn_register(broker *b);

#endif
