/*
 * config.c - the broker's settings: defaults, the config file, and the one
 * check of each value.
 *
 * Every option can also be given in a config file (--config FILE) as
 * `name value` lines with the option's long name, e.g. `port 5673`; '#'
 * starts a comment line, an option without a value (guest-remote) takes
 * none or "true"/"yes".  config_apply() checks a value the same way from
 * either source, so the file and the command line refuse the same things
 * with the same words.  Which source wins is main.c's business: it reads
 * the files first and applies the command line over them.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "alarm.h"
#include "log.h"
#include "queue_args.h"

const struct option config_options[] = {
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
    {"management-port", required_argument, NULL, OPT_MGMT_PORT},
    {"management-bind", required_argument, NULL, OPT_MGMT_BIND},
    {"prometheus-port", required_argument, NULL, OPT_PROM_PORT},
    {"prometheus-bind", required_argument, NULL, OPT_PROM_BIND},
    {"help", no_argument, NULL, OPT_HELP},
    {"consumer-timeout", required_argument, NULL, OPT_CONSUMER_TIMEOUT},
    {NULL, 0, NULL, 0},
};

/* The strings the settings point into (user names cut out of --user,
 * values read from a file) live as long as the process: kept here, they
 * stay reachable (LeakSanitizer counts them as held, not lost). */
static char **kept;
static size_t nkept, capkept;

static char *keep(char *s)
{
    if (s && nkept == capkept) {
        size_t cap = capkept ? capkept * 2 : 16;
        char **v = realloc(kept, cap * sizeof *v);
        if (!v) {
            free(s);
            return NULL;
        }
        kept = v;
        capkept = cap;
    }
    if (s)
        kept[nkept++] = s;
    return s;
}

void config_defaults(config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->port = 5672;
    cfg->data_dir = "./data";
    cfg->log_level = LOG_INFO;
    cfg->channel_max = 2047;
    cfg->frame_max = 131072;
    cfg->heartbeat = 60;
    cfg->max_message_size = 128u << 20;
    cfg->disk_free_limit = 50000000; /* RabbitMQ's disk_free_limit default, 50MB */
    cfg->memory_limit = alarm_default_memory_limit();
    cfg->paging_threshold = 256u << 20;
    cfg->mgmt_port = 15672;
    cfg->prom_port = 15692; /* rabbitmq_prometheus's */
}

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

int config_apply(config *cfg, int opt, const char *name, const char *arg)
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
        user = keep(strndup(arg, (size_t)(colon - arg)));
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
    case OPT_CONSUMER_TIMEOUT:
        if (number(name, arg, 0, CONSUMER_TIMEOUT_MAX, &v) < 0)
            return -1;
        cfg->consumer_timeout = v;
        return 0;
    case OPT_PAGING:
        if (number(name, arg, 0, ~0ull, &v) < 0)
            return -1;
        cfg->paging_threshold = v;
        return 0;
    case OPT_MGMT_PORT:
        if (number(name, arg, 0, 65535, &v) < 0)
            return -1;
        cfg->mgmt_port = (int)v;
        cfg->mgmt_explicit = true;
        return 0;
    case OPT_MGMT_BIND:
        if (cfg->nmgmt_binds == MAX_BINDS) {
            fprintf(stderr, "warren: at most %d --management-bind addresses\n", MAX_BINDS);
            return -1;
        }
        cfg->mgmt_binds[cfg->nmgmt_binds++] = arg;
        cfg->mgmt_explicit = true;
        return 0;
    case OPT_PROM_PORT:
        if (number(name, arg, 0, 65535, &v) < 0)
            return -1;
        cfg->prom_port = (int)v;
        cfg->prom_explicit = true;
        return 0;
    case OPT_PROM_BIND:
        if (cfg->nprom_binds == MAX_BINDS) {
            fprintf(stderr, "warren: at most %d --prometheus-bind addresses\n", MAX_BINDS);
            return -1;
        }
        cfg->prom_binds[cfg->nprom_binds++] = arg;
        cfg->prom_explicit = true;
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
        for (o = config_options; o->name; o++)
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
        if (!(val = keep(strdup(val))) || config_apply(cfg, o->val, key, val) < 0) {
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

void config_finish(config *cfg)
{
    if (cfg->nusers == 0) {
        cfg->users[0][0] = "guest";
        cfg->users[0][1] = "guest";
        cfg->nusers = 1;
    }
}
