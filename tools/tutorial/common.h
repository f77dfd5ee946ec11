/*
 * common.h - what new_task and worker share: exit codes, the broker URL,
 * one connection with one channel, and turning rabbitmq-c's replies into
 * a message a person can act on.
 *
 * The two tutorial programs are clients of the broker, written on
 * rabbitmq-c (the library other C programs use) and not on warren's own
 * codec, so that they test warren the way a user's program would.
 *
 * Errors are values: every call that can fail fills a struct tut_err with
 * the exit code the program should end with, a one-line message, and
 * whether trying again later (after a reconnect) could help.
 */
#ifndef TUTORIAL_COMMON_H
#define TUTORIAL_COMMON_H

#include <amqp.h>
#include <amqp_framing.h>
#include <stdbool.h>
#include <stddef.h>

/* Exit codes of both programs (documented in doc/tools.md). */
enum tut_exit {
    TUT_EXIT_OK = 0,
    TUT_EXIT_ERROR = 1,       /* anything else: I/O error, out of memory */
    TUT_EXIT_USAGE = 2,       /* bad option or URL */
    TUT_EXIT_CONNECT = 3,     /* TCP connection failed (refused, no such host, timeout) */
    TUT_EXIT_LOGIN = 4,       /* broker refused the login or the vhost */
    TUT_EXIT_REFUSED = 5,     /* broker refused an operation (channel error) */
    TUT_EXIT_NACKED = 6,      /* new_task: broker nacked a message */
    TUT_EXIT_LOST = 7,        /* connection lost, or no confirm in time */
    TUT_EXIT_ABORTED = 130,   /* worker: a second Ctrl-C abandoned the task in hand */
};

struct tut_err {
    int exit;                 /* an enum tut_exit value */
    bool retry;               /* a later reconnect may succeed */
    char msg[512];
};

/* Fill err; returns err->exit so callers can `return tut_fail(...)`. */
int tut_fail(struct tut_err *err, int exit, bool retry, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Where to connect: a parsed amqp:// URL.  Owns its strings. */
struct tut_target {
    char *buf;                /* the URL copy amqp_parse_url cut up */
    struct amqp_connection_info info;
    char shown[300];          /* amqp://user@host:port/vhost, no password */
    /* amqps:// (doc/tls.md): the CA to check the broker with, and a
     * client certificate and its key (all NULL: none) */
    const char *cacert, *cert, *key;
};

/* Parse an amqp:// URL ("amqp://user:pass@host:port/vhost").  An empty
 * path is the default vhost "/", as pika and the tutorial take it. */
int tut_target_parse(struct tut_target *t, const char *url, struct tut_err *err);

/* The TLS options both programs take (--cacert, --cert, --key), for
 * their getopt tables, and where they go.  An amqps:// URL needs --cacert
 * (rabbitmq-c checks the broker's certificate and host name against it);
 * --cert and --key go together. */
#define TUT_TLS_LONGOPTS \
    {"cacert", required_argument, NULL, 0x100}, {"cert", required_argument, NULL, 0x101}, \
    {"key", required_argument, NULL, 0x102}
#define TUT_TLS_USAGE \
    "  --cacert FILE        amqps://: the CA that signed the broker's certificate\n" \
    "  --cert FILE          amqps://: a client certificate (with --key FILE, its key)\n"
struct tut_tls {
    const char *cacert, *cert, *key;
};
/* 1 when opt was a TLS option (stored), else 0. */
int tut_tls_option(struct tut_tls *tls, int opt, const char *arg);
/* Hand the options to the target after tut_target_parse: 0, or a usage
 * error in err. */
int tut_target_tls(struct tut_target *t, const struct tut_tls *tls, struct tut_err *err);
void tut_target_free(struct tut_target *t);

/* The brokers to fail over between: every --url given (each may also be a
 * comma-separated list), tried in order.  `cur` is the one connected to
 * last; a reconnect starts with the one after it, so a program whose node
 * died moves on to a surviving node of the cluster rather than knocking at
 * the dead one first. */
#define TUT_MAX_TARGETS 16

struct tut_targets {
    struct tut_target t[TUT_MAX_TARGETS];
    int n;
    int cur;
};

/* Add the URL(s) in `urls` ("amqp://a,amqp://b" or one URL). */
int tut_targets_add(struct tut_targets *ts, const char *urls, struct tut_err *err);
void tut_targets_free(struct tut_targets *ts);

struct tut_conn_opts {
    const char *name;         /* connection_name client property */
    int heartbeat;            /* seconds, 0 = off */
    double connect_timeout;   /* seconds */
};

/* One connection and its channel 1. */
struct tut_conn {
    amqp_connection_state_t state;   /* NULL when not connected */
    bool conn_ok;                    /* the connection is still usable */
    bool chan_ok;                    /* channel TUT_CHANNEL is open */
    int heartbeat;                   /* as negotiated, seconds */
    double last_beat;                /* tut_now() of our last heartbeat */
};

#define TUT_CHANNEL 1

/* Connect, log in, open channel 1.  On failure c->state is NULL and err
 * says which of TUT_EXIT_CONNECT / _LOGIN / _LOST it was. */
int tut_connect(struct tut_conn *c, const struct tut_target *t,
                const struct tut_conn_opts *o, struct tut_err *err);

/* Connect to the first of the targets that answers, starting with
 * ts->cur (start_next: with the one after it), each tried once; on
 * success ts->cur is the one connected to.  `prog` prefixes the line
 * printed to stderr for each one that failed before another is tried.
 * On failure, err is the last target's error. */
int tut_connect_any(struct tut_conn *c, struct tut_targets *ts, bool start_next,
                    const struct tut_conn_opts *o, const char *prog, struct tut_err *err);

/* Close politely (channel, connection) when the connection still works,
 * then free it.  Safe to call on a closed or never-opened tut_conn. */
void tut_close(struct tut_conn *c);

/* Drop the connection without a word: the broker requeues what it had
 * delivered to us and not seen acked. */
void tut_drop(struct tut_conn *c);

/* Turn an RPC reply into 0 or an error; `what` names the operation
 * ("queue.declare").  Server channel/connection closes are answered
 * with close-ok so the broker is not left waiting. */
int tut_check_reply(struct tut_conn *c, amqp_rpc_reply_t r, const char *what,
                    struct tut_err *err);

/* A rabbitmq-c status (negative amqp_status_enum) as a lost connection. */
int tut_status_err(int status, const char *what, struct tut_err *err);

/* A method frame the broker sent on its own (channel.close,
 * connection.close, basic.cancel): answer it and describe it in err. */
int tut_async_method(struct tut_conn *c, const amqp_frame_t *frame, struct tut_err *err);

/* How the programs declare their queue.  By default exactly like the
 * Python tutorial: durable, not exclusive, not auto-delete, no arguments.
 * `passive` only checks that the queue exists and uses it as it is (with
 * whatever arguments or policies it was made with); `dlx`/`dlrk` add
 * x-dead-letter-exchange / x-dead-letter-routing-key to the declaration,
 * so a rejected task is dead-lettered even on a broker without policies;
 * `type` adds x-queue-type ("quorum": a replicated queue on a RabbitMQ
 * cluster, which warren accepts as a durable queue).
 * new_task and worker must be given the same ones, or the second
 * declaration is refused (406 PRECONDITION_FAILED). */
struct tut_queue {
    const char *name;
    bool passive;
    const char *dlx;          /* NULL: no x-dead-letter-exchange */
    const char *dlrk;         /* NULL: no x-dead-letter-routing-key */
    bool has_limit;           /* x-delivery-limit `limit` (with passive: what */
    long limit;               /* the queue has, for the worker's messages) */
    const char *type;         /* NULL: no x-queue-type; "classic" or "quorum" */
};

int tut_declare_queue(struct tut_conn *c, const struct tut_queue *q, struct tut_err *err);

/* NULL when the queue options make sense together, else what is wrong
 * (a usage error). */
const char *tut_queue_check(const struct tut_queue *q);

/* Has the broker closed this connection, as far as can be told without
 * blocking?  True when the socket reached end of file or failed, or when
 * what waits at the head of the socket is a connection.close or
 * channel.close (which is then read and answered).  err says which.  A
 * program about to ack after a long task asks this first: an ack written
 * to a connection the broker has already given up is lost, and the broker
 * delivers the task again. */
bool tut_peer_closed(struct tut_conn *c, struct tut_err *err);

/* Send a heartbeat frame if half the heartbeat interval has passed since
 * the last one.  rabbitmq-c only sends heartbeats inside its own calls, so
 * a program busy elsewhere (the worker running a task) calls this. */
int tut_keepalive(struct tut_conn *c);

/* Monotonic seconds. */
double tut_now(void);

/* Option values: 0 on success, -1 when s is not a number in [min, max]. */
int tut_parse_double(const char *s, double min, double max, double *out);
int tut_parse_long(const char *s, long min, long max, long *out);

#endif
