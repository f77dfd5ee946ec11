/*
 * main.c - the command line, then run the broker: lock the data
 * directory, start, run, stop.
 *
 * The settings themselves (defaults, the config file, the check of each
 * value) are config.c's.  Here: the config files named by --config are
 * read first and the command line is applied over them, whatever the order
 * of the options: a value given on the command line wins, and a repeatable
 * option (--bind, --user) given there replaces the file's list instead of
 * adding to it (--management-bind too).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "store/dirlock.h"
#include "warren.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: warren [options]\n"
            "\n"
            "An AMQP 0-9-1 message broker for work queues.\n"
            "\n"
            "  --bind ADDR              listen on ADDR (repeatable; default 127.0.0.1 and ::1)\n"
            "  --port N                 TCP port (default 5672)\n"
            "  --data-dir DIR           where durable queues and messages live (default ./data)\n"
            "  --log-level LEVEL        debug, info, warning or error (default info)\n"
            "  --log-file FILE          log to FILE (appended; reopened on SIGUSR1) instead of stderr\n"
            "  --log-format FORMAT      text (default) or json (one object per line)\n"
            "  --config FILE            read options from FILE (`name value` per line, or\n"
            "                           rabbitmq.conf's `key = value`)\n"
            "  --user NAME:PASSWORD     add a user (repeatable; default guest:guest)\n"
            "  --guest-remote           let guest log in from other hosts (off, as RabbitMQ)\n"
            "  --heartbeat SECONDS      heartbeat offered to clients (default 60, 0 = off)\n"
            "  --frame-max BYTES        largest frame offered (default 131072, min 4096)\n"
            "  --channel-max N          most channels per connection (default 2047)\n"
            "  --max-message-size BYTES largest message body accepted (default 134217728)\n"
            "  --disk-free-limit BYTES  block publishers below this much free disk (default 50000000)\n"
            "  --memory-limit BYTES     block publishers above this much heap in use (default 0.4 of\n"
            "                           the RAM, as RabbitMQ's vm_memory_high_watermark; 0 = off)\n"
            "  --paging-threshold BYTES above this much message data in RAM, messages deep in a\n"
            "                           backlog wait on disk, transient ones too (default 268435456)\n"
            "  --management-port N      the HTTP API (RabbitMQ's management API; default 15672, 0 = off)\n"
            "  --management-bind ADDR   its address (repeatable; default 127.0.0.1 and ::1)\n"
            "  --prometheus-port N      Prometheus metrics, /metrics (default 15692, 0 = off)\n"
            "  --prometheus-bind ADDR   its address (repeatable; default 127.0.0.1 and ::1)\n"
            "  --tls-cert FILE          PEM certificate (chain): turns on amqps (doc/tls.md)\n"
            "  --tls-key FILE           its private key (default: in the --tls-cert file)\n"
            "  --tls-ca FILE            CAs that sign client certificates\n"
            "  --tls-verify MODE        none, peer or require a client certificate (default none)\n"
            "  --tls-port N             amqps port (default 5671)\n"
            "  --tls-bind ADDR          its address (repeatable; default --bind's)\n"
            "  --tls-login-from WHAT    EXTERNAL's user: common_name (default) or distinguished_name\n"
            "  --management-tls-port N  https for the HTTP API (0 = off, the default)\n"
            "  --max-connections N      open AMQP connections at most (default 0 = no limit)\n"
            "  --max-unauthenticated N  connections still in their handshake at most (0 = no limit)\n"
            "  --max-connections-per-address N  sockets from one client address (0 = no limit)\n"
            "  --handshake-timeout MS   from accept to connection.open at most (default 10000)\n"
            "  --management-max-connections N  HTTP connections per HTTP port (default 1024)\n"
            "  --management-max-connections-per-address N  from one address (default 64, 0 = no limit)\n"
            "  --management-request-timeout MS  for a request's head (default 5000)\n"
            "  --management-idle-timeout MS  silence inside a request (default 60000)\n"
            "  --consumer-timeout MS    requeue a delivery unacked this long (queues without\n"
            "                           x-consumer-timeout; default 0 = never, as RabbitMQ's tutorial says)\n"
            "  --help                   this text\n");
}



int main(int argc, char **argv)
{
    config cfg;
    broker b;
    int opt, idx, rc, lockfd;
    pid_t holder;
    bool cli_binds = false, cli_users = false, cli_mgmt_binds = false, cli_prom_binds = false;
    bool cli_tls_binds = false;

    config_defaults(&cfg);
    /* pass 1: --help and the config files */
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "h", config_options, &idx)) != -1) {
        if (opt == OPT_HELP || opt == 'h') {
            usage(stdout);
            return 0;
        }
        if (opt == OPT_CONFIG && config_load(&cfg, optarg) < 0)
            return 2;
    }
    /* pass 2: the command line over them */
    opterr = 1;
    optind = 0;
    while ((opt = getopt_long(argc, argv, "h", config_options, &idx)) != -1) {
        if (opt == '?') {
            usage(stderr);
            return 2;
        }
        if (opt == OPT_CONFIG)
            continue;
        if (opt == OPT_BIND && !cli_binds) {
            cfg.nbinds = 0;
            cli_binds = true;
        }
        if (opt == OPT_MGMT_BIND && !cli_mgmt_binds) {
            cfg.nmgmt_binds = 0;
            cli_mgmt_binds = true;
        }
        if (opt == OPT_PROM_BIND && !cli_prom_binds) {
            cfg.nprom_binds = 0;
            cli_prom_binds = true;
        }
        if (opt == OPT_TLS_BIND && !cli_tls_binds) {
            cfg.ntls_binds = 0;
            cli_tls_binds = true;
        }
        if (opt == OPT_USER && !cli_users) {
            cfg.nusers = 0;
            cli_users = true;
        }
        if (config_apply(&cfg, opt, config_options[idx].name, optarg) < 0)
            return 2;
    }
    if (optind < argc) {
        fprintf(stderr, "warren: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    config_finish(&cfg);
    if (config_check_tls(&cfg) < 0)
        return 2;
    log_level = cfg.log_level;
    log_set_format(cfg.log_format);
    if (cfg.log_file && log_open_file(cfg.log_file) < 0) {
        fprintf(stderr, "warren: cannot open log file %s: %s\n", cfg.log_file, strerror(errno));
        return 1;
    }
    {
        /* every connection is a descriptor: take all the system allows */
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
            rlim_t was = rl.rlim_cur;
            if (rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max;
                if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
                    rl.rlim_cur = was;
            }
            /* the store, the listeners and the HTTP API keep a few dozen */
            log_info("file descriptor limit %llu (was %llu): room for about %llu connections",
                     (unsigned long long)rl.rlim_cur, (unsigned long long)was,
                     rl.rlim_cur > 64 ? (unsigned long long)(rl.rlim_cur - 64) : 0ull);
        }
    }
    if (mkdir(cfg.data_dir, 0700) < 0 && errno != EEXIST) {
        log_error("cannot create data directory %s: %s", cfg.data_dir, strerror(errno));
        return 1;
    }
    {
        /* made 0700 with its files 0600 (doc/security.md); one made by
         * someone else is left as it is, but said */
        struct stat sb;
        if (stat(cfg.data_dir, &sb) == 0 && (sb.st_mode & 077))
            log_warn("data directory %s can be read by other users (mode %03o): the messages and the password "
                     "hashes are in it; chmod 700 it", cfg.data_dir, (unsigned)(sb.st_mode & 0777));
    }
    /* before anything in it is read: a second warren on the same
     * directory would rewrite the first one's files under it.  Held until
     * the process exits. */
    if ((lockfd = dirlock_take(cfg.data_dir, true, &holder)) < 0) {
        if (errno == EAGAIN && holder > 0)
            log_error("data directory %s is in use by another process (pid %ld, holding %s/%s); not starting",
                      cfg.data_dir, (long)holder, cfg.data_dir, DIRLOCK_NAME);
        else if (errno == EAGAIN)
            log_error("data directory %s is in use by another process (holding %s/%s); not starting",
                      cfg.data_dir, cfg.data_dir, DIRLOCK_NAME);
        else
            log_error("cannot lock data directory %s (%s/%s): %s", cfg.data_dir, cfg.data_dir, DIRLOCK_NAME,
                      strerror(errno));
        return 1;
    }
    if (broker_init(&b, &cfg) < 0) {
        broker_free(&b);
        return 1;
    }
    rc = broker_run(&b);
    broker_free(&b);
    close(lockfd);
    return rc < 0 ? 1 : 0;
}
