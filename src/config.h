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
    /* the consumer timeout of every queue without x-consumer-timeout
     * (proto/consumer_timeout.c): ms, 0 off (the default) */
    uint64_t consumer_timeout;
} config;

/* The options, as getopt_long's table: the config file takes the same long
 * names.  OPT_CONFIG and OPT_HELP are command-line only. */
enum {
    OPT_BIND = 256, OPT_PORT, OPT_DATA, OPT_LOG, OPT_CONFIG, OPT_USER, OPT_GUEST_REMOTE, OPT_HEARTBEAT,
    OPT_FRAME_MAX, OPT_CHANNEL_MAX, OPT_MAX_MSG, OPT_DISK_FREE, OPT_MEMORY, OPT_PAGING, OPT_MGMT_PORT,
    OPT_MGMT_BIND, OPT_PROM_PORT, OPT_PROM_BIND, OPT_HELP, OPT_CONSUMER_TIMEOUT,
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

#endif
