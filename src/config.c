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
 *
 * A `key = value` line is rabbitmq.conf's form: config_rabbit.c takes the
 * RabbitMQ keys that mean the same thing (and warren's names written so).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "alarm.h"
#include "log.h"
#include "tls.h"
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
    {"tls-port", required_argument, NULL, OPT_TLS_PORT},
    {"tls-bind", required_argument, NULL, OPT_TLS_BIND},
    {"tls-cert", required_argument, NULL, OPT_TLS_CERT},
    {"tls-key", required_argument, NULL, OPT_TLS_KEY},
    {"tls-ca", required_argument, NULL, OPT_TLS_CA},
    {"tls-verify", required_argument, NULL, OPT_TLS_VERIFY},
    {"tls-login-from", required_argument, NULL, OPT_TLS_LOGIN_FROM},
    {"management-tls-port", required_argument, NULL, OPT_MGMT_TLS_PORT},
    {"max-connections", required_argument, NULL, OPT_MAX_CONNECTIONS},
    {"max-unauthenticated", required_argument, NULL, OPT_MAX_UNAUTH},
    {"max-connections-per-address", required_argument, NULL, OPT_MAX_PER_ADDRESS},
    {"handshake-timeout", required_argument, NULL, OPT_HANDSHAKE_TIMEOUT},
    {"log-file", required_argument, NULL, OPT_LOG_FILE},
    {"log-format", required_argument, NULL, OPT_LOG_FORMAT},
    {"help", no_argument, NULL, OPT_HELP},
    {"consumer-timeout", required_argument, NULL, OPT_CONSUMER_TIMEOUT},
    {"management-max-connections", required_argument, NULL, OPT_HTTP_MAX_CONNECTIONS},
    {"management-max-connections-per-address", required_argument, NULL, OPT_HTTP_MAX_PER_ADDRESS},
    {"management-request-timeout", required_argument, NULL, OPT_HTTP_REQUEST_TIMEOUT},
    {"management-idle-timeout", required_argument, NULL, OPT_HTTP_IDLE_TIMEOUT},
    {NULL, 0, NULL, 0},
};

/* The strings the settings point into (user names cut out of --user,
 * values read from a file) live as long as the process: kept here, they
 * stay reachable (LeakSanitizer counts them as held, not lost). */
static char **kept;
static size_t nkept, capkept;

char *config_keep(char *s)
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
    cfg->tls_port = 5671;
    cfg->handshake_timeout = 10000; /* RabbitMQ's handshake_timeout */
    cfg->http_max_connections = 1024;   /* ranch's max_connections, RabbitMQ's management listener */
    cfg->http_max_per_address = 64;
    cfg->http_request_timeout = 5000;   /* cowboy's request_timeout, as RabbitMQ 3.10's */
    cfg->http_idle_timeout = 60000;     /* cowboy's idle_timeout, as RabbitMQ 3.10's */
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

/* The TLS options (tls.h; doc/tls.md). */
static int config_apply_tls(config *cfg, int opt, const char *name, const char *arg)
{
    unsigned long long v;

    switch (opt) {
    case OPT_TLS_PORT:
    case OPT_MGMT_TLS_PORT:
        if (number(name, arg, opt == OPT_TLS_PORT ? 1 : 0, 65535, &v) < 0)
            return -1;
        *(opt == OPT_TLS_PORT ? &cfg->tls_port : &cfg->mgmt_tls_port) = (int)v;
        return 0;
    case OPT_TLS_BIND:
        if (cfg->ntls_binds == MAX_BINDS) {
            fprintf(stderr, "warren: at most %d --tls-bind addresses\n", MAX_BINDS);
            return -1;
        }
        cfg->tls_binds[cfg->ntls_binds++] = arg;
        return 0;
    case OPT_TLS_CERT:
        cfg->tls_cert = arg;
        return 0;
    case OPT_TLS_KEY:
        cfg->tls_key = arg;
        return 0;
    case OPT_TLS_CA:
        cfg->tls_ca = arg;
        return 0;
    case OPT_TLS_VERIFY:
        if (!strcmp(arg, "none"))
            cfg->tls_verify = TLS_VERIFY_NONE;
        else if (!strcmp(arg, "peer"))
            cfg->tls_verify = TLS_VERIFY_PEER;
        else if (!strcmp(arg, "require"))
            cfg->tls_verify = TLS_VERIFY_REQUIRE;
        else {
            fprintf(stderr, "warren: --tls-verify: expected none, peer or require, got '%s'\n", arg);
            return -1;
        }
        return 0;
    case OPT_TLS_LOGIN_FROM:
        /* RabbitMQ's ssl_cert_login_from values */
        if (!strcmp(arg, "common_name"))
            cfg->tls_login_dn = false;
        else if (!strcmp(arg, "distinguished_name"))
            cfg->tls_login_dn = true;
        else {
            fprintf(stderr, "warren: --tls-login-from: expected common_name or distinguished_name, got '%s'\n",
                    arg);
            return -1;
        }
        return 0;
    default:
        return -1;
    }
}

int config_check_tls(const config *cfg)
{
    if (!cfg->tls_cert && (cfg->tls_key || cfg->tls_ca || cfg->ntls_binds || cfg->mgmt_tls_port)) {
        fprintf(stderr, "warren: the TLS options need --tls-cert (the server's certificate)\n");
        return -1;
    }
    if (cfg->tls_verify != TLS_VERIFY_NONE && !cfg->tls_ca) {
        fprintf(stderr, "warren: --tls-verify %s needs --tls-ca (the CA that signs client certificates)\n",
                cfg->tls_verify == TLS_VERIFY_PEER ? "peer" : "require");
        return -1;
    }
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
        user = config_keep(strndup(arg, (size_t)(colon - arg)));
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
    case OPT_LOG_FILE:
        cfg->log_file = *arg ? arg : NULL;
        return 0;
    case OPT_LOG_FORMAT:
        if ((lvl = log_parse_format(arg)) < 0) {
            fprintf(stderr, "warren: --log-format: expected text or json, got '%s'\n", arg);
            return -1;
        }
        cfg->log_format = lvl;
        return 0;
    case OPT_PROM_BIND:
        if (cfg->nprom_binds == MAX_BINDS) {
            fprintf(stderr, "warren: at most %d --prometheus-bind addresses\n", MAX_BINDS);
            return -1;
        }
        cfg->prom_binds[cfg->nprom_binds++] = arg;
        cfg->prom_explicit = true;
        return 0;
    case OPT_TLS_PORT:
    case OPT_TLS_BIND:
    case OPT_TLS_CERT:
    case OPT_TLS_KEY:
    case OPT_TLS_CA:
    case OPT_TLS_VERIFY:
    case OPT_TLS_LOGIN_FROM:
    case OPT_MGMT_TLS_PORT:
        return config_apply_tls(cfg, opt, name, arg);
    case OPT_MAX_CONNECTIONS:
    case OPT_MAX_UNAUTH:
    case OPT_MAX_PER_ADDRESS:
        if (number(name, arg, 0, UINT32_MAX, &v) < 0)
            return -1;
        *(opt == OPT_MAX_CONNECTIONS ? &cfg->max_connections
          : opt == OPT_MAX_UNAUTH    ? &cfg->max_unauthenticated
                                     : &cfg->max_per_address) = (uint32_t)v;
        return 0;
    case OPT_HANDSHAKE_TIMEOUT:
        if (number(name, arg, 100, 3600000, &v) < 0)
            return -1;
        cfg->handshake_timeout = (uint32_t)v;
        return 0;
    case OPT_HTTP_MAX_CONNECTIONS:
        if (number(name, arg, 1, 1000000, &v) < 0)
            return -1;
        cfg->http_max_connections = (uint32_t)v;
        return 0;
    case OPT_HTTP_MAX_PER_ADDRESS:
        if (number(name, arg, 0, 1000000, &v) < 0)
            return -1;
        cfg->http_max_per_address = (uint32_t)v;
        return 0;
    case OPT_HTTP_REQUEST_TIMEOUT:
    case OPT_HTTP_IDLE_TIMEOUT:
        if (number(name, arg, 100, 3600000, &v) < 0)
            return -1;
        *(opt == OPT_HTTP_REQUEST_TIMEOUT ? &cfg->http_request_timeout : &cfg->http_idle_timeout) = (uint32_t)v;
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
    rabbit_conf rc;

    config_rabbit_init(&rc, path);
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
        bool rabbit;
        size_t n = strlen(line);
        lineno++;
        /* a longer line would be read as two: its tail as an option of its own */
        if (n == sizeof line - 1 && line[n - 1] != '\n' && !feof(f)) {
            fprintf(stderr, "warren: %s:%d: line longer than %zu bytes\n", path, lineno, sizeof line - 2);
            fclose(f);
            return -1;
        }
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '#' || *p == '\n' || *p == 0)
            continue;
        key = p;
        while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '=')
            p++;
        rabbit = *p == '=';
        if (*p)
            *p++ = 0;
        while (*p == ' ' || *p == '\t')
            p++;
        if (!rabbit && *p == '=') {
            rabbit = true;
            p++;
        }
        while (rabbit && (*p == ' ' || *p == '\t'))
            p++;
        val = p;
        end = val + strlen(val);
        while (end > val && (end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
            *--end = 0;
        if (rabbit) {
            /* rabbitmq.conf's `key = value` */
            if (config_rabbit_line(&rc, cfg, lineno, key, val) < 0) {
                fclose(f);
                return -1;
            }
            continue;
        }
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
        if (!(val = config_keep(strdup(val))) || config_apply(cfg, o->val, key, val) < 0) {
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
    return config_rabbit_finish(&rc, cfg);
}

void config_finish(config *cfg)
{
    if (cfg->nusers == 0) {
        cfg->users[0][0] = "guest";
        cfg->users[0][1] = "guest";
        cfg->nusers = 1;
    }
}
