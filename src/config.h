/*
 * config.h - the broker's settings: their defaults, the config file, and
 * the checks every value goes through whether it comes from the file or
 * the command line (config.c).  main.c parses argv with the same option
 * table; the broker reads the finished struct and nothing else.
 */
#ifndef WARREN_CONFIG_H
#define WARREN_CONFIG_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>

#define MAX_BINDS 8

typedef struct config {
    const char *binds[MAX_BINDS];
    int nbinds;
    int port;
    const char *data_dir;
    int log_level;
    uint16_t channel_max;       /* offered in tune; default 2047 */
    uint32_t frame_max;         /* offered in tune; default 131072 */
    uint16_t heartbeat;         /* offered in tune; default 60 s */
    uint64_t max_message_size;  /* default 128 MiB, as RabbitMQ */
    uint64_t disk_free_limit;   /* bytes; publishers blocked below it */
    uint64_t memory_limit;      /* bytes of heap; publishers blocked above it, 0 never */
    uint64_t paging_threshold;  /* message bytes in RAM before backlogs page out */
    const char *users[16][2];   /* name, password */
    int nusers;
    bool guest_remote;          /* allow guest from non-loopback peers */
    /* the HTTP API (src/http/): its port (0: off) and addresses (none
     * given: 127.0.0.1 and ::1, as --bind's default) */
    int mgmt_port;              /* default 15672, RabbitMQ's */
    const char *mgmt_binds[MAX_BINDS];
    int nmgmt_binds;
    bool mgmt_explicit;         /* port or address given: failing to bind stops the start */
    /* the Prometheus endpoint (src/http/metrics.c): the same, default 15692 */
    int prom_port;
    const char *prom_binds[MAX_BINDS];
    int nprom_binds;
    bool prom_explicit;
    /* TLS (tls.h, doc/tls.md): amqps on tls_port and https for the API on
     * mgmt_tls_port, both with the one certificate; on when tls_cert is
     * given (amqps) and mgmt_tls_port is not 0 */
    int tls_port;               /* default 5671, RabbitMQ's */
    const char *tls_binds[MAX_BINDS];   /* none: --bind's addresses */
    int ntls_binds;
    const char *tls_cert, *tls_key, *tls_ca;
    int tls_verify;             /* enum tls_verify; default none, as RabbitMQ */
    bool tls_login_dn;          /* EXTERNAL takes the subject DN, not the CN */
    int mgmt_tls_port;          /* 0: off (RabbitMQ's is 15671) */
    /* connection limits (doc/limits.md; proto/limits.c): 0 is off */
    uint32_t max_connections;   /* open AMQP connections, RabbitMQ's connection_max */
    uint32_t max_unauthenticated;   /* sockets that have not logged in yet */
    uint32_t max_per_address;   /* sockets from one source address */
    uint32_t handshake_timeout; /* ms from accept to connection.open, RabbitMQ's 10000 */
    /* the HTTP API's own limits (http/server.c, doc/limits.md): every
     * HTTP port (plain, https, Prometheus's) */
    uint32_t http_max_connections;  /* open at once, per port; ranch's 1024 */
    uint32_t http_max_per_address;  /* open at once from one address (0: off) */
    uint32_t http_request_timeout;  /* ms for a whole request head, cowboy's 5000 */
    uint32_t http_idle_timeout;     /* ms without a byte inside a request, cowboy's 60000 */
    /* logging (log.c): a file instead of stderr (NULL: stderr), text or json */
    const char *log_file;
    int log_format;             /* enum log_format */
    /* the consumer timeout of every queue without x-consumer-timeout
     * (proto/consumer_timeout.c): ms, 0 off (the default) */
    uint64_t consumer_timeout;
} config;

/* The options, as getopt_long's table: the config file takes the same long
 * names.  OPT_CONFIG and OPT_HELP are command-line only. */
enum {
    OPT_BIND = 256, OPT_PORT, OPT_DATA, OPT_LOG, OPT_CONFIG, OPT_USER, OPT_GUEST_REMOTE, OPT_HEARTBEAT,
    OPT_FRAME_MAX, OPT_CHANNEL_MAX, OPT_MAX_MSG, OPT_DISK_FREE, OPT_MEMORY, OPT_PAGING, OPT_MGMT_PORT,
    OPT_MGMT_BIND, OPT_PROM_PORT, OPT_PROM_BIND, OPT_HELP,
    OPT_TLS_PORT, OPT_TLS_BIND, OPT_TLS_CERT, OPT_TLS_KEY, OPT_TLS_CA, OPT_TLS_VERIFY, OPT_TLS_LOGIN_FROM,
    OPT_MGMT_TLS_PORT,
    OPT_MAX_CONNECTIONS, OPT_MAX_UNAUTH, OPT_MAX_PER_ADDRESS, OPT_HANDSHAKE_TIMEOUT,
    OPT_LOG_FILE, OPT_LOG_FORMAT, OPT_CONSUMER_TIMEOUT,
    OPT_HTTP_MAX_CONNECTIONS, OPT_HTTP_MAX_PER_ADDRESS, OPT_HTTP_REQUEST_TIMEOUT, OPT_HTTP_IDLE_TIMEOUT,
};
extern const struct option config_options[];

void config_defaults(config *cfg);
/* Check and apply one option (name: its long name, for the messages); arg
 * must outlive the broker (argv or strdup).  0, or -1 with a message on
 * stderr. */
int config_apply(config *cfg, int opt, const char *name, const char *arg);
/* Read a `name value` file; returns 0 or -1 with a message on stderr. */
int config_load(config *cfg, const char *path);
/* After every source is applied: the defaults that depend on them (no
 * --user at all means guest:guest). */
void config_finish(config *cfg);
/* The TLS options hang together (a key needs a certificate...): 0, or -1
 * with a message on stderr. */
int config_check_tls(const config *cfg);
/* Keep s (malloc'd) for the life of the process and return it (NULL if s
 * is NULL or out of memory): the settings point into such strings. */
char *config_keep(char *s);

/* rabbitmq.conf's `key = value` lines (config_rabbit.c): the keys that
 * mean the same thing in warren, applied as the options they mean.  The
 * state gathers the keys that only make sense together, for one file. */
typedef struct rabbit_conf {
    const char *path;
    config *cfg;
    const char *default_user, *default_pass;
    int user_line;
    bool verify_set;
    int verify, fail_no_cert, verify_line;
    int tcp_port, tls_port;     /* the listeners' port, to check they agree */
    int unknown;                /* keys reported and ignored */
} rabbit_conf;
void config_rabbit_init(rabbit_conf *rc, const char *path);
/* One `key = value` line: 0 (applied, or an unknown key reported on
 * stderr with its line and ignored), or -1 with a message on stderr. */
int config_rabbit_line(rabbit_conf *rc, config *cfg, int lineno, const char *key, const char *value);
/* At the end of the file: default_user/default_pass, ssl_options.verify. */
int config_rabbit_finish(rabbit_conf *rc, config *cfg);

#endif
