/*
 * main.c - command line and config file, then run the broker.
 *
 * Every option can also be given in a config file (--config FILE) as
 * `name value` lines with the option's long name, e.g. `port 5673`.
 * The files are read first and the command line is applied over them,
 * whatever the order of the options: a value given on the command line
 * wins, and a repeatable option (--bind, --user) given there replaces the
 * file's list instead of adding to it.
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
            "  --config FILE            read options from FILE (`name value` per line)\n"
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
            "  --help                   this text\n");
}

enum {
    OPT_BIND = 256, OPT_PORT, OPT_DATA, OPT_LOG, OPT_CONFIG, OPT_USER, OPT_GUEST_REMOTE, OPT_HEARTBEAT,
    OPT_FRAME_MAX, OPT_CHANNEL_MAX, OPT_MAX_MSG, OPT_DISK_FREE, OPT_MEMORY, OPT_PAGING, OPT_HELP,
};

static const struct option options[] = {
    {"bind", required_argument, NULL, OPT_BIND},
    {"port", required_argument, NULL, OPT_PORT},
    {"data-dir", required_argument, NULL, OPT_DATA},
    {"log-level", required_argument, NULL, OPT_LOG},
    {"config", required_argument, NULL, OPT_CONFIG},
    {"user", required_argument, NULL, OPT_USER},
    {"guest-remote", no_argument, NULL, OPT_GUEST_REMOTE},
    {"heartbeat", required_argument, NULL, OPT_HEARTBEAT},
    {"frame-max", required_argument, NULL, OPT_FRAME_MAX},
    {"channel-max", required_argument, NULL, OPT_CHANNEL_MAX},
    {"max-message-size", required_argument, NULL, OPT_MAX_MSG},
    {"disk-free-limit", required_argument, NULL, OPT_DISK_FREE},
    {"memory-limit", required_argument, NULL, OPT_MEMORY},
    {"paging-threshold", required_argument, NULL, OPT_PAGING},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

static int number(const char *name, const char *s, unsigned long long lo, unsigned long long hi,
                  unsigned long long *out)
{
    char *end;
    unsigned long long v;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v < lo || v > hi) {
        fprintf(stderr, "warren: --%s: expected a number from %llu to %llu, got '%s'\n", name, lo, hi, s);
        return -1;
    }
    *out = v;
    return 0;
}

/* Apply one option; strings must outlive the broker (argv or strdup). */
static int apply(config *cfg, int opt, const char *name, const char *arg)
{
    unsigned long long v;
    int lvl;

    switch (opt) {
    case OPT_BIND:
        if (cfg->nbinds == MAX_BINDS) {
            fprintf(stderr, "warren: at most %d --bind addresses\n", MAX_BINDS);
            return -1;
        }
        cfg->binds[cfg->nbinds++] = arg;
        return 0;
    case OPT_PORT:
        if (number(name, arg, 1, 65535, &v) < 0)
            return -1;
        cfg->port = (int)v;
        return 0;
    case OPT_DATA:
        cfg->data_dir = arg;
        return 0;
    case OPT_LOG:
        if ((lvl = log_parse_level(arg)) < 0) {
            fprintf(stderr, "warren: --log-level: expected debug, info, warning or error, got '%s'\n", arg);
            return -1;
        }
        cfg->log_level = lvl;
        return 0;
    case OPT_USER: {
        const char *colon = strchr(arg, ':');
        char *user;
        if (!colon || colon == arg || cfg->nusers == 16) {
            fprintf(stderr, "warren: --user: expected NAME:PASSWORD\n");
            return -1;
        }
        user = strndup(arg, (size_t)(colon - arg));
        if (!user)
            return -1;
        cfg->users[cfg->nusers][0] = user;
        cfg->users[cfg->nusers][1] = colon + 1;
        cfg->nusers++;
        return 0;
    }
    case OPT_GUEST_REMOTE:
        cfg->guest_remote = true;
        return 0;
    case OPT_HEARTBEAT:
        if (number(name, arg, 0, 65535, &v) < 0)
            return -1;
        cfg->heartbeat = (uint16_t)v;
        return 0;
    case OPT_FRAME_MAX:
        if (number(name, arg, 4096, 16u << 20, &v) < 0)
            return -1;
        cfg->frame_max = (uint32_t)v;
        return 0;
    case OPT_CHANNEL_MAX:
        if (number(name, arg, 1, 65535, &v) < 0)
            return -1;
        cfg->channel_max = (uint16_t)v;
        return 0;
    case OPT_MAX_MSG:
        if (number(name, arg, 1, 512u << 20, &v) < 0)
            return -1;
        cfg->max_message_size = v;
        return 0;
    case OPT_DISK_FREE:
        if (number(name, arg, 0, ~0ull, &v) < 0)
            return -1;
        cfg->disk_free_limit = v;
        return 0;
    case OPT_MEMORY:
        if (number(name, arg, 0, ~0ull, &v) < 0)
            return -1;
        cfg->memory_limit = v;
        return 0;
    case OPT_PAGING:
        if (number(name, arg, 0, ~0ull, &v) < 0)
            return -1;
        cfg->paging_threshold = v;
        return 0;
    default:
        return -1;
    }
}

int config_load(config *cfg, const char *path)
{
    FILE *f = fopen(path, "r");
    char line[1024];
    int lineno = 0;
    struct stat sb;

    if (!f) {
        fprintf(stderr, "warren: cannot read config %s: %s\n", path, strerror(errno));
        return -1;
    }
    /* fopen opens a directory for reading, and the first read fails */
    if (fstat(fileno(f), &sb) == 0 && S_ISDIR(sb.st_mode)) {
        fprintf(stderr, "warren: cannot read config %s: it is a directory, not a file\n", path);
        fclose(f);
        return -1;
    }
    while (fgets(line, sizeof line, f)) {
        char *p = line, *key, *val, *end;
        const struct option *o;
        lineno++;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '#' || *p == '\n' || *p == 0)
            continue;
        key = p;
        while (*p && *p != ' ' && *p != '\t' && *p != '\n')
            p++;
        if (*p)
            *p++ = 0;
        while (*p == ' ' || *p == '\t')
            p++;
        val = p;
        end = val + strlen(val);
        while (end > val && (end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
            *--end = 0;
        for (o = options; o->name; o++)
            if (!strcmp(o->name, key))
                break;
        if (!o->name || o->val == OPT_CONFIG || o->val == OPT_HELP) {
            fprintf(stderr, "warren: %s:%d: unknown option '%s'\n", path, lineno, key);
            fclose(f);
            return -1;
        }
        if (o->has_arg == no_argument && *val && strcmp(val, "true") != 0 && strcmp(val, "yes") != 0) {
            fclose(f);
            fprintf(stderr, "warren: %s:%d: '%s' takes no value\n", path, lineno, key);
            return -1;
        }
        if (!(val = strdup(val)) || apply(cfg, o->val, key, val) < 0) {
            fprintf(stderr, "warren: %s:%d: bad value for '%s'\n", path, lineno, key);
            fclose(f);
            return -1;
        }
    }
    if (ferror(f)) {
        fprintf(stderr, "warren: cannot read config %s: %s\n", path, strerror(errno));
        fclose(f);
        return -1;
    }
    fclose(f);
    return 0;
}

int main(int argc, char **argv)
{
    config cfg;
    broker b;
    int opt, idx, rc, lockfd;
    pid_t holder;
    bool cli_binds = false, cli_users = false;

    config_defaults(&cfg);
    /* pass 1: --help and the config files */
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "h", options, &idx)) != -1) {
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
    while ((opt = getopt_long(argc, argv, "h", options, &idx)) != -1) {
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
        if (opt == OPT_USER && !cli_users) {
            cfg.nusers = 0;
            cli_users = true;
        }
        if (apply(&cfg, opt, options[idx].name, optarg) < 0)
            return 2;
    }
    if (optind < argc) {
        fprintf(stderr, "warren: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    if (cfg.nusers == 0) {
        cfg.users[0][0] = "guest";
        cfg.users[0][1] = "guest";
        cfg.nusers = 1;
    }
    log_level = cfg.log_level;
    {
        /* every connection is a descriptor: take all the system allows */
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
            rl.rlim_cur = rl.rlim_max;
            setrlimit(RLIMIT_NOFILE, &rl);
        }
    }
    if (mkdir(cfg.data_dir, 0755) < 0 && errno != EEXIST) {
        log_error("cannot create data directory %s: %s", cfg.data_dir, strerror(errno));
        return 1;
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
