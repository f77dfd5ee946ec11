/*
 * config_rabbit.c - the keys of RabbitMQ's rabbitmq.conf that mean the same
 * thing in warren, so that an operator's existing file works as it is.
 *
 * A config file line `key = value` (rabbitmq.conf's sysctl-like form) comes
 * here from config_load; `name value` lines stay warren's own.  Each key
 * below is turned into the warren option it means and goes through
 * config_apply like any other, so the checks and the words of a refusal
 * are the same.  What the table does not know:
 *
 *   - a warren option name in the `=` form (`port = 5673`) is taken as is;
 *   - any other key is reported with its line number and ignored, so a
 *     file full of RabbitMQ settings warren has no use for (clustering,
 *     plugins, statistics) still starts the broker, and a typo is seen;
 *   - a key whose value warren cannot honour without weakening what the
 *     operator asked for (another user restricted to loopback, TLS in a
 *     build without it) stops the start instead, saying why.
 *
 * Some keys only make sense together (default_user with default_pass,
 * ssl_options.verify with fail_if_no_peer_cert, the listeners' one port);
 * they are gathered in a rabbit_conf and settled by config_rabbit_finish at
 * the end of the file.
 *
 * The TLS keys map to --tls-cert, --tls-key, --tls-ca, --tls-verify,
 * --tls-bind, --tls-port and --management-tls-port.  They are looked up by name in config_options: in a build
 * that has no TLS, a file that asks for it is refused (a broker that
 * silently did not listen on 5671 would be worse).
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* How RabbitMQ's values map onto warren's options, key by key. */
enum kind {
    SAME,           /* the value as it is, to the warren option named */
    LISTENER,       /* [ADDR:]PORT: --bind ADDR (all addresses for a bare port) and --port */
    TLS_LISTENER,   /* the same for --tls-bind and --tls-port */
    RELATIVE_RAM,   /* a fraction of the RAM, in bytes */
    SIZE,           /* bytes, with RabbitMQ's units (kB, MB, GB decimal; KiB, MiB, GiB binary) */
    UNLIMITED0,     /* RabbitMQ's 0 means "no limit": warren's largest value */
    LOG_LEVEL,      /* RabbitMQ's levels (critical, none...) onto warren's four */
    LOG_FILE,       /* a path, or false (then stderr) */
    LOG_FORMATTER,  /* plaintext or json */
    DEFAULT_USER,
    DEFAULT_PASS,
    LOOPBACK_USERS,
    TLS_VERIFY,
    TLS_FAIL_NO_CERT,
};

static const struct rabbit_key {
    const char *key;        /* a trailing '*' matches any rest */
    enum kind kind;
    const char *option;     /* the warren option it sets */
} keys[] = {
    {"listeners.tcp.*", LISTENER, "port"},
    {"listeners.ssl.*", TLS_LISTENER, "tls-port"},
    {"vm_memory_high_watermark.relative", RELATIVE_RAM, "memory-limit"},
    {"vm_memory_high_watermark.absolute", SIZE, "memory-limit"},
    {"disk_free_limit.absolute", SIZE, "disk-free-limit"},
    {"disk_free_limit.relative", RELATIVE_RAM, "disk-free-limit"},
    {"heartbeat", SAME, "heartbeat"},
    {"frame_max", UNLIMITED0, "frame-max"},
    {"channel_max", UNLIMITED0, "channel-max"},
    {"max_message_size", SAME, "max-message-size"},
    {"default_user", DEFAULT_USER, "user"},
    {"default_pass", DEFAULT_PASS, "user"},
    {"loopback_users", LOOPBACK_USERS, "guest-remote"},
    {"loopback_users.*", LOOPBACK_USERS, "guest-remote"},
    {"management.tcp.port", SAME, "management-port"},
    {"management.tcp.ip", SAME, "management-bind"},
    {"management.ssl.port", SAME, "management-tls-port"},
    /* cowboy's timeouts, ms: one value for warren's HTTP ports together */
    {"management.tcp.request_timeout", SAME, "management-request-timeout"},
    {"management.ssl.request_timeout", SAME, "management-request-timeout"},
    {"management.tcp.idle_timeout", SAME, "management-idle-timeout"},
    {"management.ssl.idle_timeout", SAME, "management-idle-timeout"},
    {"prometheus.tcp.port", SAME, "prometheus-port"},
    {"prometheus.tcp.ip", SAME, "prometheus-bind"},
    {"log.console.level", LOG_LEVEL, "log-level"},
    {"log.file.level", LOG_LEVEL, "log-level"},
    {"log.file", LOG_FILE, "log-file"},
    {"log.console.formatter", LOG_FORMATTER, "log-format"},
    {"log.file.formatter", LOG_FORMATTER, "log-format"},
    {"ssl_options.certfile", SAME, "tls-cert"},
    {"ssl_options.keyfile", SAME, "tls-key"},
    {"ssl_options.cacertfile", SAME, "tls-ca"},
    {"ssl_options.verify", TLS_VERIFY, "tls-verify"},
    {"ssl_options.fail_if_no_peer_cert", TLS_FAIL_NO_CERT, "tls-verify"},
};

void config_rabbit_init(rabbit_conf *rc, const char *path)
{
    memset(rc, 0, sizeof *rc);
    rc->path = path;
}

static const struct option *find_option(const char *name)
{
    const struct option *o;
    for (o = config_options; o->name; o++)
        if (!strcmp(o->name, name))
            return o;
    return NULL;
}

/* Apply the warren option `name` with value v (copied, kept for good). */
static int set(rabbit_conf *rc, int lineno, const char *key, const char *name, const char *v)
{
    const struct option *o = find_option(name);
    char *copy;

    if (!o) {
        fprintf(stderr, "warren: %s:%d: '%s' needs warren's --%s, which this build does not have; not starting\n",
                rc->path, lineno, key, name);
        return -1;
    }
    if (!(copy = config_keep(strdup(v))))
        return -1;
    if (config_apply(rc->cfg, o->val, name, copy) < 0) {
        fprintf(stderr, "warren: %s:%d: bad value for '%s'\n", rc->path, lineno, key);
        return -1;
    }
    return 0;
}

static int bad(rabbit_conf *rc, int lineno, const char *key, const char *v, const char *want)
{
    fprintf(stderr, "warren: %s:%d: '%s': expected %s, got '%s'\n", rc->path, lineno, key, want, v);
    return -1;
}

static uint64_t ram_bytes(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGE_SIZE);
    return pages > 0 && size > 0 ? (uint64_t)pages * (uint64_t)size : 0;
}

/* RabbitMQ's memory sizes: a plain number of bytes, or with a unit: k K
 * KiB M MiB G GiB T TiB are powers of 1024, kB KB MB GB TB powers of 1000
 * (rabbitmq.conf's information unit rules).  -1 if not one. */
static int parse_size(const char *s, uint64_t *out)
{
    static const struct { const char *unit; uint64_t mult; } units[] = {
        {"", 1}, {"k", 1ull << 10}, {"K", 1ull << 10}, {"KiB", 1ull << 10}, {"kiB", 1ull << 10},
        {"M", 1ull << 20}, {"MiB", 1ull << 20}, {"G", 1ull << 30}, {"GiB", 1ull << 30},
        {"T", 1ull << 40}, {"TiB", 1ull << 40},
        {"kB", 1000}, {"KB", 1000}, {"MB", 1000000}, {"GB", 1000000000}, {"TB", 1000000000000ull},
    };
    char *end;
    unsigned long long v;
    size_t i;

    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno)
        return -1;
    for (i = 0; i < sizeof units / sizeof units[0]; i++)
        if (!strcmp(end, units[i].unit)) {
            if (v > UINT64_MAX / units[i].mult)
                return -1;
            *out = v * units[i].mult;
            return 0;
        }
    return -1;
}

static int parse_bool(const char *s)
{
    if (!strcmp(s, "true"))
        return 1;
    if (!strcmp(s, "false"))
        return 0;
    return -1;
}

/* [ADDR:]PORT, ADDR being an IPv4 address, a host name or an IPv6
 * address (the port is after the last colon, as rabbitmq.conf writes
 * `::1:5672`; [::1]:5672 is taken too).  addr is "" for a bare port. */
static int split_listener(const char *v, char *addr, size_t cap, const char **port)
{
    const char *colon = strrchr(v, ':');
    size_t n;

    if (!colon) {
        addr[0] = 0;
        *port = v;
        return 0;
    }
    n = (size_t)(colon - v);
    if (n >= 2 && v[0] == '[' && v[n - 1] == ']') {
        v++;
        n -= 2;
    }
    if (n == 0 || n >= cap)
        return -1;
    memcpy(addr, v, n);
    addr[n] = 0;
    *port = colon + 1;
    return 0;
}

static int listener(rabbit_conf *rc, int lineno, const char *key, const char *v, const char *option, int *port)
{
    char addr[256], *end;
    const char *p, *bind;
    long n;

    if (!strcmp(key, "listeners.tcp") || !strcmp(key, "listeners.ssl")) {
        /* `listeners.tcp = none`: TLS only, which warren cannot do yet */
        fprintf(stderr, "warren: %s:%d: '%s = %s': warren cannot turn its AMQP listener off; not starting\n",
                rc->path, lineno, key, v);
        return -1;
    }
    if (split_listener(v, addr, sizeof addr, &p) < 0)
        return bad(rc, lineno, key, v, "PORT or ADDRESS:PORT");
    errno = 0;
    n = strtol(p, &end, 10);
    if (errno || end == p || *end || n < 1 || n > 65535)
        return bad(rc, lineno, key, v, "PORT or ADDRESS:PORT");
    /* warren has one port per protocol, on every --bind address */
    if (*port && *port != n) {
        fprintf(stderr, "warren: %s:%d: '%s' is on port %ld, another listener on %d: warren listens on one port "
                        "(on each address); not starting\n", rc->path, lineno, key, n, *port);
        return -1;
    }
    *port = (int)n;
    if (set(rc, lineno, key, option, p) < 0)
        return -1;
    bind = !strcmp(option, "tls-port") ? "tls-bind" : "bind";
    if (!addr[0]) {
        /* RabbitMQ: a bare port listens on every interface */
        return set(rc, lineno, key, bind, "0.0.0.0") < 0 || set(rc, lineno, key, bind, "::") < 0 ? -1 : 0;
    }
    return set(rc, lineno, key, bind, addr);
}

/* `loopback_users.guest = false` or `loopback_users = none` let guest in
 * from anywhere (--guest-remote); warren restricts guest only, so any
 * other user named there is refused rather than left unrestricted. */
static int loopback(rabbit_conf *rc, int lineno, const char *key, const char *v)
{
    const char *user = key[strlen("loopback_users")] == '.' ? key + strlen("loopback_users.") : NULL;
    int on;

    if (!user) {
        if (!strcmp(v, "none"))
            return set(rc, lineno, key, "guest-remote", "true");
        if (!strcmp(v, "guest"))
            return 0;
        fprintf(stderr, "warren: %s:%d: 'loopback_users = %s': warren can restrict only guest to loopback "
                        "(none or guest); not starting\n", rc->path, lineno, v);
        return -1;
    }
    if ((on = parse_bool(v)) < 0)
        return bad(rc, lineno, key, v, "true or false");
    if (!strcmp(user, "guest"))
        return on ? 0 : set(rc, lineno, key, "guest-remote", "true");
    if (!on)
        return 0;
    fprintf(stderr, "warren: %s:%d: '%s = true': warren can restrict only guest to loopback; not starting\n",
            rc->path, lineno, key);
    return -1;
}

static int apply(rabbit_conf *rc, int lineno, const struct rabbit_key *k, const char *key, const char *v)
{
    char num[32];
    uint64_t bytes;
    double f;
    char *end;
    int b;

    switch (k->kind) {
    case SAME:
        return set(rc, lineno, key, k->option, v);
    case LISTENER:
        return listener(rc, lineno, key, v, k->option, &rc->tcp_port);
    case TLS_LISTENER:
        return listener(rc, lineno, key, v, k->option, &rc->tls_port);
    case RELATIVE_RAM:
        errno = 0;
        f = strtod(v, &end);
        if (errno || end == v || *end || !(f > 0) || f > 1000)
            return bad(rc, lineno, key, v, "a fraction of the RAM above 0");
        snprintf(num, sizeof num, "%llu", (unsigned long long)llround(f * (double)ram_bytes()));
        return set(rc, lineno, key, k->option, num);
    case SIZE:
        if (parse_size(v, &bytes) < 0)
            return bad(rc, lineno, key, v, "bytes (a number, or with a unit: kB MB GB, KiB MiB GiB)");
        snprintf(num, sizeof num, "%llu", (unsigned long long)bytes);
        return set(rc, lineno, key, k->option, num);
    case UNLIMITED0:
        if (!strcmp(v, "0"))
            return set(rc, lineno, key, k->option, !strcmp(k->option, "frame-max") ? "16777216" : "65535");
        return set(rc, lineno, key, k->option, v);
    case LOG_LEVEL:
        if (!strcmp(v, "critical") || !strcmp(v, "none"))
            v = "error";
        return set(rc, lineno, key, k->option, v);
    case LOG_FILE:
        if (!strcmp(v, "false"))
            return 0;
        return set(rc, lineno, key, k->option, v);
    case LOG_FORMATTER:
        return set(rc, lineno, key, k->option, !strcmp(v, "plaintext") ? "text" : v);
    case DEFAULT_USER:
    case DEFAULT_PASS:
        if (!*v || (k->kind == DEFAULT_USER && strchr(v, ':')))
            return bad(rc, lineno, key, v, "a user name without ':'");
        if (!(v = config_keep(strdup(v))))
            return -1;
        if (k->kind == DEFAULT_USER)
            rc->default_user = v;
        else
            rc->default_pass = v;
        rc->user_line = lineno;
        return 0;
    case LOOPBACK_USERS:
        return loopback(rc, lineno, key, v);
    case TLS_VERIFY:
        if (strcmp(v, "verify_peer") && strcmp(v, "verify_none"))
            return bad(rc, lineno, key, v, "verify_peer or verify_none");
        rc->verify = !strcmp(v, "verify_peer") ? 1 : 0;
        rc->verify_set = true;
        rc->verify_line = lineno;
        return 0;
    case TLS_FAIL_NO_CERT:
        if ((b = parse_bool(v)) < 0)
            return bad(rc, lineno, key, v, "true or false");
        rc->fail_no_cert = b;
        rc->verify_set = true;
        rc->verify_line = lineno;
        return 0;
    }
    return -1;
}

int config_rabbit_line(rabbit_conf *rc, config *cfg, int lineno, const char *key, const char *v)
{
    const struct rabbit_key *k;
    const struct option *o;
    size_t i;

    rc->cfg = cfg;
    for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        size_t n = strlen(keys[i].key);
        k = &keys[i];
        if (k->key[n - 1] == '*' ? !strncmp(key, k->key, n - 1) && key[n - 1] : !strcmp(key, k->key))
            return apply(rc, lineno, k, key, v);
    }
    /* `listeners.tcp = none` has no suffix: the '*' entries do not take it */
    if (!strcmp(key, "listeners.tcp") || !strcmp(key, "listeners.ssl"))
        return listener(rc, lineno, key, v, "port", &rc->tcp_port);
    if ((o = find_option(key)) && o->val != OPT_CONFIG && o->val != OPT_HELP)
        return set(rc, lineno, key, key, v);
    fprintf(stderr, "warren: %s:%d: warning: unknown setting '%s' (not one warren takes from rabbitmq.conf); "
                    "ignored\n", rc->path, lineno, key);
    rc->unknown++;
    return 0;
}

int config_rabbit_finish(rabbit_conf *rc, config *cfg)
{
    rc->cfg = cfg;
    if (rc->default_user || rc->default_pass) {
        /* RabbitMQ's defaults for the half not given */
        char user[600];
        snprintf(user, sizeof user, "%s:%s", rc->default_user ? rc->default_user : "guest",
                 rc->default_pass ? rc->default_pass : "guest");
        if (set(rc, rc->user_line, rc->default_user ? "default_user" : "default_pass", "user", user) < 0)
            return -1;
    }
    if (rc->verify_set) {
        /* --tls-verify none, peer (check a certificate if one is given) or
         * require (verify_peer with fail_if_no_peer_cert) */
        const char *mode = !rc->verify ? "none" : rc->fail_no_cert ? "require" : "peer";
        if (!rc->verify && rc->fail_no_cert) {
            fprintf(stderr, "warren: %s:%d: ssl_options.fail_if_no_peer_cert = true needs "
                            "ssl_options.verify = verify_peer; not starting\n", rc->path, rc->verify_line);
            return -1;
        }
        if (set(rc, rc->verify_line, "ssl_options.verify", "tls-verify", mode) < 0)
            return -1;
    }
    return 0;
}
