/* warrenctl: rabbitmqctl's everyday verbs, over warren's HTTP API
 * (RabbitMQ's management API, so it works against RabbitMQ too).
 *
 *   warrenctl [--url URL] [-u USER] [--password PASS] VERB [-p VHOST] [ARGS]
 *
 * A verb is a row of the table at the bottom: its name, its usage, its
 * help, and a function.  The listings share one function driven by a
 * list_spec (endpoint, banner, rabbitmqctl's column names and where each
 * is in the API's JSON).  Output, requests and exit codes: ctl.c.
 */
#include "ctl.h"
#include "limits.h"
#include "redrive.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* What the verb's options set. */
typedef struct args {
    const char *vhost;
    bool if_empty, if_unused;
    bool unacked;
    long count;
    bool count_set;
    const char *to;  /* redrive --to */
    long rate;       /* redrive --rate */
    long window;
    const char *description, *tags;
    bool global;     /* list_vhost_limits, list_user_limits: every vhost / user */
    const char *limits_user;    /* list_user_limits --user */
    int argc;        /* positional arguments after the verb */
    char **argv;
} args;

typedef struct verb {
    const char *name;
    const char *usage;
    const char *help;
    int min_args, max_args; /* -1: any number */
    void (*run)(const struct verb *v, args *a);
    const void *spec;
} verb;

static const verb *find_verb(const char *name);

static _Noreturn void usage_fail(const verb *v, const char *fmt, const char *arg)
{
    fflush(stdout);
    fprintf(stderr, "Error (argument validation): ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nUsage: warrenctl [--url URL] [-u USER] [--password PASS] %s\n", v ? v->usage : "VERB ...");
    exit(EXIT_USAGE);
}

static char *vhost_path(const char *fmt, const char *vhost)
{
    char *e = ctl_escape(vhost);
    char *p = ctl_fmt(fmt, e);
    free(e);
    return p;
}

/* A 404 on something inside VHOST: say whether the vhost or the object is
 * missing (RabbitMQ answers both with the same 404). */
static _Noreturn void not_found(const char *vhost, const char *what)
{
    if (vhost) {
        char *p = vhost_path("/api/vhosts/%s", vhost);
        ctl_reply r = ctl_request("GET", p, NULL, NULL);
        if (r.status == 404)
            ctl_fail(EXIT_DATAERR, "Virtual host '%s' does not exist", vhost);
    }
    ctl_fail(EXIT_DATAERR, "%s", what);
}

/* ---- listings ---- */

typedef struct list_spec {
    const char *path;      /* printf format; %s is the escaped vhost (or user) */
    bool vhost;            /* takes -p (else the %s is the first argument) */
    const char *banner;    /* printf format with the vhost / argument */
    const char *defaults;  /* default columns, space-separated */
    bool fixed;            /* no column arguments */
    bool target;           /* the first argument is the %s (list_user_permissions) */
    ctl_column cols[48];
    bool paged;            /* the API pages it (?page=N&page_size=500, RabbitMQ's largest) */
} list_spec;

static const ctl_column *find_column(const list_spec *s, const char *name)
{
    for (const ctl_column *c = s->cols; c->name; c++)
        if (!strcmp(c->name, name))
            return c;
    return NULL;
}

/* The columns to print: ARGV's (each may be "a,b"), or DEFAULTS.  A name
 * with a dot that is not one of the spec's is a path into the API's JSON
 * (warren's extension); any other unknown name ends with rabbitmqctl's
 * "Info key(s) ... are not supported" (64).  Returns how many. */
static size_t pick_columns(const list_spec *s, char **argv, int argc, const char *defaults,
                           const ctl_column **cols, size_t max)
{
    size_t n = 0;
    if (argc == 0) {
        char *copy = strdup(defaults), *save = NULL;
        for (char *t = strtok_r(copy, " ", &save); t && n < max; t = strtok_r(NULL, " ", &save))
            cols[n++] = find_column(s, t);
        return n;
    }
    char *bad = NULL;
    for (int i = 0; i < argc; i++) {
        char *copy = strdup(argv[i]), *save = NULL;
        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            const ctl_column *c = find_column(s, t);
            if (!c && strchr(t, '.')) {
                ctl_column *e = calloc(1, sizeof *e);
                e->name = e->path = t;
                c = e;
            }
            if (!c)
                bad = bad ? ctl_fmt("%s, %s", bad, t) : strdup(t);
            else if (n < max)
                cols[n++] = c;
        }
    }
    if (bad) {
        fflush(stdout);
        fprintf(stderr, "Error (argument validation): Info key(s) %s are not supported\nmust be one of", bad);
        for (const ctl_column *c = s->cols; c->name; c++)
            fprintf(stderr, "%s %s", c == s->cols ? "" : ",", c->name);
        fprintf(stderr, "\n");
        exit(EXIT_USAGE);
    }
    return n;
}

/* A 404 on a listing: a missing vhost or user, or a broker without the endpoint. */
static _Noreturn void list_not_found(const verb *v, const char *target, const char *path)
{
    const list_spec *s = v->spec;
    if (s->vhost || s->target) {
        char *op = vhost_path(s->target ? "/api/users/%s" : "/api/vhosts/%s", target);
        ctl_reply o = ctl_request("GET", op, NULL, NULL);
        if (o.status == 404 && s->target)
            ctl_fail(EXIT_NOUSER, "User \"%s\" does not exist", target);
        if (o.status == 404)
            ctl_fail(EXIT_DATAERR, "Virtual host '%s' does not exist", target);
    }
    ctl_fail(EXIT_UNAVAILABLE, "this broker does not serve GET %s (HTTP 404), which %s needs", path, v->name);
}

static void run_list(const verb *v, args *a)
{
    const list_spec *s = v->spec;
    const char *target = s->target ? a->argv[0] : a->vhost;
    int first_col = s->target ? 1 : 0;
    if (s->fixed && a->argc > first_col)
        usage_fail(v, "too many arguments: %s", a->argv[first_col]);
    const ctl_column *cols[64];
    size_t n = pick_columns(s, a->argv + first_col, a->argc - first_col, s->defaults, cols, 64);

    char *path = vhost_path(s->path, target);
    if (!strcmp(v->name, "list_queues")) /* rabbitmqctl says it for this one */
        ctl_banner("Timeout: %ld.0 seconds ...", ctl.timeout);
    ctl_banner(s->banner, target);
    ctl_rows_begin();
    /* a page at a time where the API pages (100,000 queues are not one
     * answer); a broker that answers a plain list has given everything */
    for (long page = 1;; page++) {
        char *url = s->paged ? ctl_fmt("%s?page=%ld&page_size=500", path, page) : strdup(path);
        static const long nf[] = {404, 0};
        ctl_reply r = ctl_request("GET", url, NULL, NULL);
        ctl_check(&r, v->name, nf);
        if (r.status == 404)
            list_not_found(v, target, path);
        json_t *body = ctl_json(&r, v->name);
        ctl_reply_free(&r);
        free(url);
        json_t *rows = body;
        long page_count = 0;
        if (json_is_object(body) && json_is_array(json_object_get(body, "items"))) {
            rows = json_object_get(body, "items");
            page_count = (long)json_integer_value(json_object_get(body, "page_count"));
        }
        if (!json_is_array(rows))
            ctl_fail(EXIT_SOFTWARE, "%s: the broker's answer is not a list", v->name);
        ctl_rows_add(rows, cols, n);
        bool more = rows != body && page < page_count && json_array_size(rows) > 0;
        json_decref(body);
        if (!more)
            break;
    }
    ctl_rows_end();
    free(path);
}

/* rabbitmqctl's info keys, and where the management API has each. */
static const list_spec list_queues_spec = {
    "/api/queues/%s", true, "Listing queues for vhost %s ...", "name messages", false,
    false, {{"name", "name"}, {"durable", "durable"}, {"auto_delete", "auto_delete"}, {"arguments", "arguments"},
     {"policy", "policy"}, {"pid", "node"}, {"owner_pid", "owner_pid_details.name"}, {"exclusive", "exclusive"},
     {"exclusive_consumer_pid", "exclusive_consumer_details.channel_details.name"},
     {"exclusive_consumer_tag", "exclusive_consumer_tag"}, {"messages_ready", "messages_ready"},
     {"messages_unacknowledged", "messages_unacknowledged"}, {"messages", "messages"},
     {"messages_ready_ram", "messages_ready_ram"}, {"messages_unacknowledged_ram", "messages_unacknowledged_ram"},
     {"messages_ram", "messages_ram"}, {"messages_persistent", "messages_persistent"},
     {"message_bytes", "message_bytes"}, {"message_bytes_ready", "message_bytes_ready"},
     {"message_bytes_unacknowledged", "message_bytes_unacknowledged"}, {"message_bytes_ram", "message_bytes_ram"},
     {"message_bytes_persistent", "message_bytes_persistent"}, {"head_message_timestamp", "head_message_timestamp"},
     {"disk_reads", "disk_reads"}, {"disk_writes", "disk_writes"}, {"consumers", "consumers"},
     {"consumer_utilisation", "consumer_utilisation"}, {"consumer_capacity", "consumer_capacity"},
     {"memory", "memory"}, {"slave_pids", "slave_nodes"}, {"synchronised_slave_pids", "synchronised_slave_nodes"},
     {"state", "state"}, {"type", "type"}, {"leader", "leader"}, {"members", "members"}, {"online", "online"},
     {"idle_since", "idle_since"}, {NULL, NULL}}, true};

static const list_spec list_exchanges_spec = {
    "/api/exchanges/%s", true, "Listing exchanges for vhost %s ...", "name type", false,
    false, {{"name", "name"}, {"type", "type"}, {"durable", "durable"}, {"auto_delete", "auto_delete"},
     {"internal", "internal"}, {"arguments", "arguments"}, {"policy", "policy"}, {NULL, NULL}}, true};

static const list_spec list_bindings_spec = {
    "/api/bindings/%s", true, "Listing bindings for vhost %s...",
    "source_name source_kind destination_name destination_kind routing_key arguments", false,
    false, {{"source_name", "source"}, {"source_kind", "=exchange"}, {"destination_name", "destination"},
     {"destination_kind", "destination_type"}, {"routing_key", "routing_key"}, {"arguments", "arguments"},
     {"properties_key", "properties_key"}, {NULL, NULL}}, false};

static const list_spec list_connections_spec = {
    "/api/connections", false, "Listing connections ...", "user peer_host peer_port state", false,
    false, {{"pid", "name"}, {"name", "name"}, {"port", "port"}, {"host", "host"}, {"peer_port", "peer_port"},
     {"peer_host", "peer_host"}, {"ssl", "ssl"}, {"ssl_protocol", "ssl_protocol"},
     {"ssl_key_exchange", "ssl_key_exchange"}, {"ssl_cipher", "ssl_cipher"}, {"ssl_hash", "ssl_hash"},
     {"peer_cert_subject", "peer_cert_subject"}, {"peer_cert_issuer", "peer_cert_issuer"},
     {"peer_cert_validity", "peer_cert_validity"}, {"state", "state"}, {"channels", "channels"},
     {"protocol", "protocol"}, {"auth_mechanism", "auth_mechanism"}, {"user", "user"}, {"vhost", "vhost"},
     {"timeout", "timeout"}, {"frame_max", "frame_max"}, {"channel_max", "channel_max"},
     {"client_properties", "client_properties"}, {"connected_at", "connected_at"}, {"recv_oct", "recv_oct"},
     {"recv_cnt", "recv_cnt"}, {"send_oct", "send_oct"}, {"send_cnt", "send_cnt"}, {"send_pend", "send_pend"},
     {"type", "type"}, {"node", "node"}, {NULL, NULL}}, true};

static const list_spec list_channels_spec = {
    "/api/channels", false, "Listing channels ...", "pid user consumer_count messages_unacknowledged", false,
    false, {{"pid", "name"}, {"connection", "connection_details.name"}, {"name", "name"}, {"number", "number"},
     {"user", "user"}, {"vhost", "vhost"}, {"transactional", "transactional"}, {"confirm", "confirm"},
     {"consumer_count", "consumer_count"}, {"messages_unacknowledged", "messages_unacknowledged"},
     {"messages_uncommitted", "messages_uncommitted"}, {"acks_uncommitted", "acks_uncommitted"},
     {"messages_unconfirmed", "messages_unconfirmed"}, {"prefetch_count", "prefetch_count"},
     {"global_prefetch_count", "global_prefetch_count"}, {"state", "state"}, {NULL, NULL}}, true};

static const list_spec list_consumers_spec = {
    "/api/consumers/%s", true, "Listing consumers in vhost %s ...",
    "queue_name channel_pid consumer_tag ack_required prefetch_count active arguments", false,
    false, {{"queue_name", "queue.name"}, {"channel_pid", "channel_details.name"}, {"consumer_tag", "consumer_tag"},
     {"ack_required", "ack_required"}, {"prefetch_count", "prefetch_count"}, {"active", "active"},
     {"activity_status", "activity_status"}, {"arguments", "arguments"}, {"exclusive", "exclusive"},
     {NULL, NULL}}, false};

static const list_spec list_users_spec = {
    "/api/users", false, "Listing users ...", "user tags", true, false, {{"user", "name"}, {"tags", "tags"}, {NULL, NULL}}, false};

static const list_spec list_vhosts_spec = {
    "/api/vhosts", false, "Listing vhosts ...", "name", false,
    false, {{"name", "name"}, {"description", "description"}, {"tags", "tags"},
     {"default_queue_type", "default_queue_type"}, {"metadata", "metadata"}, {"tracing", "tracing"},
     {"cluster_state", "cluster_state"}, {"messages", "messages"}, {NULL, NULL}}, true};

static const list_spec list_permissions_spec = {
    "/api/vhosts/%s/permissions", true, "Listing permissions for vhost \"%s\" ...", "user configure write read",
    true, false, {{"user", "user"}, {"configure", "configure"}, {"write", "write"}, {"read", "read"}, {NULL, NULL}}, false};

static const list_spec list_user_permissions_spec = {
    "/api/users/%s/permissions", false, "Listing permissions for user \"%s\" ...", "vhost configure write read",
    true, true, {{"vhost", "vhost"}, {"configure", "configure"}, {"write", "write"}, {"read", "read"}, {NULL, NULL}}, false};

/* ---- queues, connections ---- */

static char *queue_path(const args *a, const char *queue, const char *tail)
{
    char *v = ctl_escape(a->vhost), *q = ctl_escape(queue);
    char *p = ctl_fmt("/api/queues/%s/%s%s", v, q, tail);
    free(v);
    free(q);
    return p;
}

static void run_purge_queue(const verb *v, args *a)
{
    const char *q = a->argv[0];
    ctl_banner("Purging queue '%s' in vhost '%s' ...", q, a->vhost);
    char *p = queue_path(a, q, "/contents");
    static const long nf[] = {404, 0};
    ctl_reply r = ctl_request("DELETE", p, NULL, NULL);
    ctl_check(&r, "purge_queue", nf);
    if (r.status == 404)
        not_found(a->vhost, ctl_fmt("Queue '%s' in vhost '%s' does not exist", q, a->vhost));
    ctl_reply_free(&r);
}

static void run_delete_queue(const verb *v, args *a)
{
    const char *q = a->argv[0];
    ctl_banner("Deleting queue '%s' on vhost '%s'%s ...", q, a->vhost,
               a->if_empty && a->if_unused ? " if queue is empty and if queue is unused"
               : a->if_empty               ? " if queue is empty"
               : a->if_unused              ? " if queue is unused"
                                           : "");
    char *p = queue_path(a, q, "");
    /* the DELETE does not say how many messages went with it: ask first
     * (a broker without GET for one queue answers 405: then it is not said) */
    static const long nf[] = {404, 405, 0};
    ctl_reply r = ctl_request("GET", p, NULL, NULL);
    ctl_check(&r, "delete_queue", nf);
    if (r.status == 404)
        not_found(a->vhost, ctl_fmt("Queue '%s' in vhost '%s' does not exist", q, a->vhost));
    json_t *info = r.status == 200 ? ctl_json(&r, "delete_queue") : NULL;
    json_t *ready = info ? json_object_get(info, "messages_ready") : NULL;
    ctl_reply_free(&r);

    char *dp = ctl_fmt("%s%s%s%s", p, a->if_empty || a->if_unused ? "?" : "", a->if_empty ? "if-empty=true" : "",
                       a->if_unused ? (a->if_empty ? "&if-unused=true" : "if-unused=true") : "");
    r = ctl_request("DELETE", dp, NULL, NULL);
    ctl_check(&r, "delete_queue", nf);
    if (r.status == 404)
        ctl_fail(EXIT_DATAERR, "Queue '%s' in vhost '%s' does not exist", q, a->vhost);
    ctl_reply_free(&r);
    if (!ctl.json && !ctl.silent && json_is_integer(ready))
        printf("Queue was successfully deleted with %" JSON_INTEGER_FORMAT " ready messages\n",
               json_integer_value(ready));
    else if (!ctl.json && !ctl.silent)
        printf("Queue was successfully deleted\n");
    json_decref(info);
}

static void run_close_connection(const verb *v, args *a)
{
    const char *name = a->argv[0];
    const char *reason = a->argc > 1 ? a->argv[1] : "Closed via warrenctl";
    ctl_banner("Closing connection %s, reason: %s...", name, reason);
    char *e = ctl_escape(name);
    char *p = ctl_fmt("/api/connections/%s", e);
    /* the header must be one line: control characters would end it */
    char *hdr = ctl_fmt("X-Reason: %s", reason);
    for (char *c = hdr; *c; c++)
        if ((unsigned char)*c < 0x20)
            *c = ' ';
    static const long nf[] = {404, 0};
    ctl_reply r = ctl_request("DELETE", p, NULL, hdr);
    ctl_check(&r, "close_connection", nf);
    if (r.status == 404)
        ctl_fail(EXIT_DATAERR, "Connection '%s' does not exist (list_connections name shows the names)", name);
    ctl_reply_free(&r);
}

/* ---- users ---- */

static char *user_path(const char *name)
{
    char *e = ctl_escape(name);
    char *p = ctl_fmt("/api/users/%s", e);
    free(e);
    return p;
}

static json_t *get_user(const char *name)
{
    char *p = user_path(name);
    json_t *u = ctl_get_json(p, "the user lookup", ctl_fmt("User \"%s\" does not exist", name), EXIT_NOUSER);
    free(p);
    return u;
}

/* The user's tags as the API's PUT takes them: "a,b". */
static char *tags_string(json_t *tags)
{
    if (json_is_string(tags))
        return strdup(json_string_value(tags));
    char *s = strdup("");
    size_t i;
    json_t *t;
    json_array_foreach(tags, i, t)
    {
        char *n = ctl_fmt("%s%s%s", s, i ? "," : "", json_string_value(t) ? json_string_value(t) : "");
        free(s);
        s = n;
    }
    return s;
}

static void put_user(const char *name, json_t *body, const char *what)
{
    char *p = user_path(name);
    char *b = json_dumps(body, JSON_COMPACT);
    ctl_reply r = ctl_request("PUT", p, b, NULL);
    ctl_check(&r, what, NULL);
    ctl_reply_free(&r);
    free(b);
    free(p);
}

static char *read_password(const char *name)
{
    /* rabbitmqctl reads it from standard input when it is not given */
    if (isatty(STDIN_FILENO))
        fprintf(stderr, "Password for user \"%s\": ", name);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, stdin);
    if (n < 0)
        ctl_fail(EXIT_USAGE, "no password given (as an argument or on standard input)");
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    return line;
}

static void run_add_user(const verb *v, args *a)
{
    const char *name = a->argv[0];
    char *pass = a->argc > 1 ? a->argv[1] : read_password(name);
    ctl_banner("Adding user \"%s\" ...", name);
    /* PUT /api/users/{name} would overwrite an existing user: refuse, as rabbitmqctl does */
    char *p = user_path(name);
    static const long nf[] = {404, 0};
    ctl_reply r = ctl_request("GET", p, NULL, NULL);
    ctl_check(&r, "add_user", nf);
    if (r.status != 404)
        ctl_fail(EXIT_SOFTWARE, "User \"%s\" already exists", name);
    ctl_reply_free(&r);
    json_t *body = json_pack("{s:s, s:s}", "password", pass, "tags", "");
    put_user(name, body, "add_user");
    json_decref(body);
    ctl_banner("Done. Don't forget to grant the user permissions to some virtual hosts! "
               "See 'warrenctl help set_permissions' to learn more.");
}

static void run_delete_user(const verb *v, args *a)
{
    const char *name = a->argv[0];
    ctl_banner("Deleting user \"%s\" ...", name);
    char *p = user_path(name);
    static const long nf[] = {404, 0};
    ctl_reply r = ctl_request("DELETE", p, NULL, NULL);
    ctl_check(&r, "delete_user", nf);
    if (r.status == 404)
        ctl_fail(EXIT_NOUSER, "User \"%s\" does not exist", name);
    ctl_reply_free(&r);
}

static void run_change_password(const verb *v, args *a)
{
    const char *name = a->argv[0];
    char *pass = a->argc > 1 ? a->argv[1] : read_password(name);
    ctl_banner("Changing password for user \"%s\" ...", name);
    /* a PUT sets the tags too: keep the user's */
    json_t *u = get_user(name);
    char *tags = tags_string(json_object_get(u, "tags"));
    json_t *body = json_pack("{s:s, s:s}", "password", pass, "tags", tags);
    put_user(name, body, "change_password");
    json_decref(body);
    json_decref(u);
    free(tags);
}

static void run_set_user_tags(const verb *v, args *a)
{
    const char *name = a->argv[0];
    char *tags = strdup(""), *shown = strdup("");
    for (int i = 1; i < a->argc; i++) {
        char *t = ctl_fmt("%s%s%s", tags, i > 1 ? "," : "", a->argv[i]);
        char *s = ctl_fmt("%s%s%s", shown, i > 1 ? ", " : "", a->argv[i]);
        free(tags);
        free(shown);
        tags = t;
        shown = s;
    }
    ctl_banner("Setting tags for user \"%s\" to [%s] ...", name, shown);
    /* a PUT sets the password too (RabbitMQ clears it when the body has
     * none): keep the user's, by sending its hash back */
    json_t *u = get_user(name);
    json_t *body = json_pack("{s:s}", "tags", tags);
    json_t *hash = json_object_get(u, "password_hash");
    if (!json_is_string(hash))
        ctl_fail(EXIT_UNAVAILABLE,
                 "cannot set the tags of user \"%s\" without losing its password: the broker does not show "
                 "its password_hash (GET /api/users/%s)", name, name);
    json_object_set(body, "password_hash", hash);
    json_t *alg = json_object_get(u, "hashing_algorithm");
    if (json_is_string(alg))
        json_object_set(body, "hashing_algorithm", alg);
    put_user(name, body, "set_user_tags");
    json_decref(body);
    json_decref(u);
}

/* ---- vhosts, permissions ---- */

static void run_add_vhost(const verb *v, args *a)
{
    const char *name = a->argv[0];
    ctl_banner("Adding vhost \"%s\" ...", name);
    json_t *body = json_object();
    if (a->description)
        json_object_set_new(body, "description", json_string(a->description));
    if (a->tags)
        json_object_set_new(body, "tags", json_string(a->tags));
    char *p = vhost_path("/api/vhosts/%s", name);
    char *b = json_dumps(body, JSON_COMPACT);
    ctl_reply r = ctl_request("PUT", p, b, NULL);
    ctl_check(&r, "add_vhost", NULL);
    ctl_reply_free(&r);
    json_decref(body);
}

static void run_delete_vhost(const verb *v, args *a)
{
    const char *name = a->argv[0];
    ctl_banner("Deleting vhost \"%s\" ...", name);
    char *p = vhost_path("/api/vhosts/%s", name);
    static const long nf[] = {404, 0};
    ctl_reply r = ctl_request("DELETE", p, NULL, NULL);
    ctl_check(&r, "delete_vhost", nf);
    if (r.status == 404)
        ctl_fail(EXIT_DATAERR, "Virtual host '%s' does not exist", name);
    ctl_reply_free(&r);
}

static char *permission_path(const char *vhost, const char *user)
{
    char *ev = ctl_escape(vhost), *eu = ctl_escape(user);
    char *p = ctl_fmt("/api/permissions/%s/%s", ev, eu);
    free(ev);
    free(eu);
    return p;
}

/* RabbitMQ answers a permission on a missing user or vhost with 400
 * "vhost_or_user_not_found": say which. */
static _Noreturn void permission_target_missing(const char *vhost, const char *user)
{
    char *p = vhost_path("/api/vhosts/%s", vhost);
    ctl_reply r = ctl_request("GET", p, NULL, NULL);
    if (r.status == 404)
        ctl_fail(EXIT_DATAERR, "Virtual host '%s' does not exist", vhost);
    char *u = user_path(user);
    r = ctl_request("GET", u, NULL, NULL);
    if (r.status == 404)
        ctl_fail(EXIT_NOUSER, "User \"%s\" does not exist", user);
    ctl_fail(EXIT_DATAERR, "the vhost '%s' or the user \"%s\" does not exist", vhost, user);
}

static void run_set_permissions(const verb *v, args *a)
{
    const char *user = a->argv[0];
    ctl_banner("Setting permissions for user \"%s\" in vhost \"%s\" ...", user, a->vhost);
    json_t *body =
        json_pack("{s:s, s:s, s:s}", "configure", a->argv[1], "write", a->argv[2], "read", a->argv[3]);
    char *b = json_dumps(body, JSON_COMPACT);
    char *p = permission_path(a->vhost, user);
    static const long nf[] = {400, 404, 0};
    ctl_reply r = ctl_request("PUT", p, b, NULL);
    ctl_check(&r, "set_permissions", nf);
    if (r.status == 404 || (r.status == 400 && strstr(r.body, "not_found")))
        permission_target_missing(a->vhost, user);
    if (r.status == 400)
        ctl_fail(EXIT_DATAERR, "%s", ctl_reason(&r));
    ctl_reply_free(&r);
    json_decref(body);
}

static void run_clear_permissions(const verb *v, args *a)
{
    const char *user = a->argv[0];
    ctl_banner("Clearing permissions for user \"%s\" in vhost \"%s\" ...", user, a->vhost);
    char *p = permission_path(a->vhost, user);
    static const long nf[] = {404, 0};
    ctl_reply r = ctl_request("DELETE", p, NULL, NULL);
    ctl_check(&r, "clear_permissions", nf);
    /* RabbitMQ: 404 when the user has none there; rabbitmqctl says nothing then */
    ctl_reply_free(&r);
}

/* ---- limits (limits.c) ---- */

static void run_set_vhost_limits(const verb *v, args *a) { ctl_set_vhost_limits(a->vhost, a->argv[0]); }
static void run_clear_vhost_limits(const verb *v, args *a) { ctl_clear_vhost_limits(a->vhost); }
static void run_list_vhost_limits(const verb *v, args *a) { ctl_list_vhost_limits(a->vhost, a->global); }
static void run_set_user_limits(const verb *v, args *a) { ctl_set_user_limits(a->argv[0], a->argv[1]); }
static void run_clear_user_limits(const verb *v, args *a) { ctl_clear_user_limits(a->argv[0], a->argv[1]); }
static void run_list_user_limits(const verb *v, args *a)
{
    /* rabbitmqctl's default user is guest */
    ctl_list_user_limits(a->limits_user ? a->limits_user : "guest", a->global);
}

/* ---- definitions ---- */

static void run_export_definitions(const verb *v, args *a)
{
    const char *file = a->argv[0];
    bool to_stdout = !strcmp(file, "-");
    if (!to_stdout)
        ctl_banner("Exporting definitions in JSON to a file at \"%s\" ...", file);
    ctl_reply r = ctl_request("GET", "/api/definitions", NULL, NULL);
    ctl_check(&r, "export_definitions", NULL);
    json_decref(ctl_json(&r, "export_definitions")); /* whole and JSON, or nothing is written */
    if (to_stdout) {
        fwrite(r.body, 1, r.len, stdout);
        if (r.len && r.body[r.len - 1] != '\n')
            putchar('\n');
    } else {
        /* a temporary file renamed over the target: a failure leaves the old file */
        char *tmp = ctl_fmt("%s.tmp.%ld", file, (long)getpid());
        FILE *f = fopen(tmp, "wb");
        if (!f)
            ctl_fail(EXIT_IOERR, "cannot write %s: %m", file);
        if (fwrite(r.body, 1, r.len, f) != r.len || fclose(f) != 0) {
            unlink(tmp);
            ctl_fail(EXIT_IOERR, "cannot write %s: %m", file);
        }
        if (rename(tmp, file) != 0) {
            unlink(tmp);
            ctl_fail(EXIT_IOERR, "cannot write %s: %m", file);
        }
        free(tmp);
    }
    ctl_reply_free(&r);
}

static void run_import_definitions(const verb *v, args *a)
{
    const char *file = a->argv[0];
    if (strcmp(file, "-"))
        ctl_banner("Importing definitions in JSON from a file at \"%s\" ...", file);
    else
        ctl_banner("Importing definitions in JSON from standard input ...");
    size_t len;
    char *body = ctl_read_file(file, &len);
    /* checked here first: a file that is not JSON says where, and the broker is not asked */
    json_error_t err;
    json_t *j = json_loadb(body, len, 0, &err);
    if (!j)
        ctl_fail(EXIT_DATAERR, "%s is not JSON: %s (line %d, column %d)", file, err.text, err.line, err.column);
    if (!json_is_object(j))
        ctl_fail(EXIT_DATAERR, "%s is not a definitions file (a JSON object)", file);
    json_decref(j);
    if (memchr(body, '\0', len))
        ctl_fail(EXIT_DATAERR, "%s holds a NUL byte", file);
    ctl_reply r = ctl_request("POST", "/api/definitions", body, NULL);
    ctl_check(&r, "import_definitions", NULL);
    ctl_reply_free(&r);
    ctl_banner("Successfully started definition import. This process is asynchronous and can take some time.");
    free(body);
}

/* ---- status ---- */

static void print_pair(const char *label, json_t *v)
{
    char *s = ctl_cell(v);
    printf("%s: %s\n", label, s);
    free(s);
}

static void run_status(const verb *v, args *a)
{
    json_t *o = ctl_get_json("/api/overview", "status", "no /api/overview on this broker", EXIT_UNAVAILABLE);
    const char *node = json_string_value(json_object_get(o, "node"));
    json_t *n = NULL;
    if (node) {
        char *p = vhost_path("/api/nodes/%s", node);
        static const long nf[] = {404, 0};
        ctl_reply r = ctl_request("GET", p, NULL, NULL);
        ctl_check(&r, "status", nf);
        if (r.status != 404)
            n = ctl_json(&r, "status");
        ctl_reply_free(&r);
        free(p);
    }
    if (ctl.json) {
        json_t *all = json_pack("{s:O, s:o}", "overview", o, "node", n ? n : json_null());
        char *s = json_dumps(all, JSON_COMPACT | JSON_PRESERVE_ORDER);
        printf("%s\n", s);
        free(s);
        json_decref(all);
        json_decref(o);
        return;
    }
    ctl_banner("Status of node %s ...", node ? node : "?");
    printf("Runtime\n\n");
    print_pair("Product name", json_object_get(o, "product_name"));
    print_pair("Product version", json_object_get(o, "product_version"));
    print_pair("RabbitMQ version", json_object_get(o, "rabbitmq_version"));
    print_pair("Node name", json_object_get(o, "node"));
    print_pair("Cluster name", json_object_get(o, "cluster_name"));
    if (n) {
        print_pair("OS PID", json_object_get(n, "os_pid"));
        json_t *up = json_object_get(n, "uptime");
        if (json_is_integer(up))
            printf("Uptime (seconds): %" JSON_INTEGER_FORMAT "\n", json_integer_value(up) / 1000);
        printf("\nResource usage\n\n");
        print_pair("Memory used (bytes)", json_object_get(n, "mem_used"));
        print_pair("Memory high watermark (bytes)", json_object_get(n, "mem_limit"));
        print_pair("Memory alarm", json_object_get(n, "mem_alarm"));
        print_pair("Free disk space (bytes)", json_object_get(n, "disk_free"));
        print_pair("Free disk space low watermark (bytes)", json_object_get(n, "disk_free_limit"));
        print_pair("Disk alarm", json_object_get(n, "disk_free_alarm"));
        print_pair("File descriptors used", json_object_get(n, "fd_used"));
        print_pair("File descriptors limit", json_object_get(n, "fd_total"));
    }
    printf("\nListeners\n\n");
    size_t i;
    json_t *l;
    json_array_foreach(json_object_get(o, "listeners"), i, l)
    {
        char *ip = ctl_cell(json_object_get(l, "ip_address"));
        char *port = ctl_cell(json_object_get(l, "port"));
        char *proto = ctl_cell(json_object_get(l, "protocol"));
        printf("Interface: %s, port: %s, protocol: %s\n", ip, port, proto);
        free(ip);
        free(port);
        free(proto);
    }
    printf("\nTotals\n\n");
    json_t *qt = json_object_get(o, "queue_totals"), *ot = json_object_get(o, "object_totals");
    static const char *const qkeys[] = {"messages", "messages_ready", "messages_unacknowledged"};
    static const char *const okeys[] = {"queues", "exchanges", "connections", "channels", "consumers"};
    for (size_t k = 0; k < 3; k++)
        print_pair(qkeys[k], json_object_get(qt, qkeys[k]) ? json_object_get(qt, qkeys[k]) : json_integer(0));
    for (size_t k = 0; k < 5; k++)
        print_pair(okeys[k], json_object_get(ot, okeys[k]));
    json_decref(o);
    json_decref(n);
}

/* ---- browse ---- */

static const list_spec browse_ready_spec = {
    NULL, true, NULL, "redelivered exchange routing_key payload_bytes payload", false,
    false, {{"payload", "payload"}, {"payload_bytes", "payload_bytes"}, {"payload_encoding", "payload_encoding"},
     {"redelivered", "redelivered"}, {"exchange", "exchange"}, {"routing_key", "routing_key"},
     {"properties", "properties"}, {"message_id", "properties.message_id"},
     {"content_type", "properties.content_type"}, {"headers", "properties.headers"},
     {"connection", "connection"}, {"channel", "channel"}, {"consumer_tag", "consumer_tag"},
     {"delivery_tag", "delivery_tag"}, {"since", "since"}, {NULL, NULL}}, false};

static void run_browse(const verb *v, args *a)
{
    const char *q = a->argv[0];
    const char *state = a->unacked ? "unacked" : "ready";
    const ctl_column *cols[64];
    const char *defaults =
        a->unacked ? "redelivered routing_key payload_bytes connection channel consumer_tag delivery_tag since payload"
                   : browse_ready_spec.defaults;
    size_t n = pick_columns(&browse_ready_spec, a->argv + 1, a->argc - 1, defaults, cols, 64);

    ctl_banner("Listing %s messages of queue '%s' in vhost '%s' ...", state, q, a->vhost);
    char *tail = ctl_fmt("/messages?state=%s&count=%ld", state, a->count);
    char *p = queue_path(a, q, tail);
    static const long nf[] = {400, 404, 405, 0};
    ctl_reply r = ctl_request("GET", p, NULL, NULL);
    ctl_check(&r, "browse", nf);
    if (r.status == 400 && r.len > 0)
        ctl_fail(EXIT_DATAERR, "%s", ctl_reason(&r));
    if (r.status == 400 || r.status == 404 || r.status == 405) {
        /* the queue missing, or a broker without the endpoint (RabbitMQ
         * answers an empty 400: its route takes "messages" for a name) */
        char *qp = queue_path(a, q, "");
        ctl_reply qr = ctl_request("GET", qp, NULL, NULL);
        if (qr.status == 404)
            not_found(a->vhost, ctl_fmt("Queue '%s' in vhost '%s' does not exist", q, a->vhost));
        ctl_fail(EXIT_UNAVAILABLE,
                 "this broker has no message browse endpoint (GET /api/queues/{vhost}/{name}/messages): "
                 "browse needs warren");
    }
    json_t *body = ctl_json(&r, "browse");
    json_t *rows = body;
    /* a bare list, or one inside an object ("messages" or "items") */
    if (json_is_object(body))
        rows = json_is_array(json_object_get(body, "messages")) ? json_object_get(body, "messages")
                                                                : json_object_get(body, "items");
    if (!json_is_array(rows))
        ctl_fail(EXIT_SOFTWARE, "browse: the broker's answer is not a list");
    ctl_print_rows(rows, cols, n);
    json_decref(body);
    ctl_reply_free(&r);
}

/* ---- redrive (redrive.c) ---- */

static void run_redrive(const verb *v, args *a)
{
    ctl_redrive_req req = {a->vhost, a->argv[0], a->to, a->count_set ? a->count : 0, a->rate};
    ctl_redrive(&req);
}

/* ---- the verbs ---- */

static void run_help(const verb *v, args *a);

static void run_shovel(const verb *v, args *a)
{
    (void)v;
    shovel_run(a->argv[0], a->argv[1], a->argv[2], a->argv[3], a->count_set ? a->count : 0,
               a->window);
}

static const verb verbs[] = {
    {"status", "status", "Shows the broker's version, node, memory, disk, listeners and totals.", 0, 0, run_status,
     NULL},
    {"list_queues", "list_queues [-p VHOST] [--no-table-headers] [COLUMN ...]",
     "Lists queues (default columns: name messages).", 0, -1, run_list, &list_queues_spec},
    {"list_exchanges", "list_exchanges [-p VHOST] [COLUMN ...]", "Lists exchanges (default columns: name type).", 0,
     -1, run_list, &list_exchanges_spec},
    {"list_bindings", "list_bindings [-p VHOST] [COLUMN ...]",
     "Lists bindings (default columns: source_name source_kind destination_name destination_kind routing_key "
     "arguments).",
     0, -1, run_list, &list_bindings_spec},
    {"list_connections", "list_connections [COLUMN ...]",
     "Lists AMQP connections (default columns: user peer_host peer_port state; the name column is what "
     "close_connection takes).",
     0, -1, run_list, &list_connections_spec},
    {"list_channels", "list_channels [COLUMN ...]",
     "Lists channels (default columns: pid user consumer_count messages_unacknowledged; pid is the channel's name).",
     0, -1, run_list, &list_channels_spec},
    {"list_consumers", "list_consumers [-p VHOST] [COLUMN ...]",
     "Lists consumers (default columns: queue_name channel_pid consumer_tag ack_required prefetch_count active "
     "arguments).",
     0, -1, run_list, &list_consumers_spec},
    {"purge_queue", "purge_queue [-p VHOST] QUEUE", "Removes every ready message of a queue.", 1, 1,
     run_purge_queue, NULL},
    {"delete_queue", "delete_queue [-p VHOST] QUEUE [--if-empty|-e] [--if-unused|-u]",
     "Deletes a queue (only if it is empty / has no consumers, with the options).", 1, 1, run_delete_queue, NULL},
    {"close_connection", "close_connection CONNECTION_NAME [REASON]",
     "Closes a connection (its name as list_connections name shows it), telling the client REASON.", 1, 2,
     run_close_connection, NULL},
    {"add_user", "add_user USER [PASSWORD]",
     "Adds a user with no tags and no permissions (the password is read from standard input when not given).", 1, 2,
     run_add_user, NULL},
    {"delete_user", "delete_user USER", "Deletes a user.", 1, 1, run_delete_user, NULL},
    {"change_password", "change_password USER [PASSWORD]", "Changes a user's password (keeping its tags).", 1, 2,
     run_change_password, NULL},
    {"set_user_tags", "set_user_tags USER [TAG ...]",
     "Sets a user's tags (administrator, monitoring, management, policymaker; none clears them).", 1, -1,
     run_set_user_tags, NULL},
    {"list_users", "list_users", "Lists users and their tags.", 0, 0, run_list, &list_users_spec},
    {"add_vhost", "add_vhost VHOST [--description TEXT] [--tags T1,T2]", "Creates a virtual host.", 1, 1,
     run_add_vhost, NULL},
    {"delete_vhost", "delete_vhost VHOST", "Deletes a virtual host and everything in it.", 1, 1, run_delete_vhost,
     NULL},
    {"list_vhosts", "list_vhosts [COLUMN ...]", "Lists virtual hosts (default column: name).", 0, -1, run_list,
     &list_vhosts_spec},
    {"set_permissions", "set_permissions [-p VHOST] USER CONFIGURE WRITE READ",
     "Sets a user's permissions in a vhost (three regular expressions).", 4, 4, run_set_permissions, NULL},
    {"clear_permissions", "clear_permissions [-p VHOST] USER", "Removes a user's permissions in a vhost.", 1, 1,
     run_clear_permissions, NULL},
    {"list_permissions", "list_permissions [-p VHOST]", "Lists the users' permissions in a vhost.", 0, 0, run_list,
     &list_permissions_spec},
    {"list_user_permissions", "list_user_permissions USER", "Lists a user's permissions in every vhost.", 1, 1,
     run_list, &list_user_permissions_spec},
    {"set_vhost_limits", "set_vhost_limits [-p VHOST] DEFINITION",
     "Sets a vhost's limits, e.g. '{\"max-connections\": 64, \"max-queues\": 256}' (the ones it does not name "
     "are cleared; a negative value: no limit).", 1, 1, run_set_vhost_limits, NULL},
    {"clear_vhost_limits", "clear_vhost_limits [-p VHOST]", "Clears a vhost's limits.", 0, 0, run_clear_vhost_limits,
     NULL},
    {"list_vhost_limits", "list_vhost_limits [-p VHOST] [--global]",
     "Shows a vhost's limits (--global: every vhost's).", 0, 0, run_list_vhost_limits, NULL},
    {"set_user_limits", "set_user_limits USER DEFINITION",
     "Sets a user's limits, e.g. '{\"max-connections\": 10, \"max-channels\": 100}' (the others stay).", 2, 2,
     run_set_user_limits, NULL},
    {"clear_user_limits", "clear_user_limits USER LIMIT|all", "Clears one of a user's limits, or all of them.", 2, 2,
     run_clear_user_limits, NULL},
    {"list_user_limits", "list_user_limits [--user USER] [--global]",
     "Shows a user's limits (default user guest; --global: every user's).", 0, 0, run_list_user_limits, NULL},
    {"export_definitions", "export_definitions FILE|-",
     "Writes the broker's definitions (users, vhosts, permissions, queues, exchanges, bindings) as JSON.", 1, 1,
     run_export_definitions, NULL},
    {"import_definitions", "import_definitions FILE|-", "Loads definitions from a JSON file (or standard input).", 1,
     1, run_import_definitions, NULL},
    {"browse", "browse [-p VHOST] QUEUE [--unacked] [--count N] [COLUMN ...]",
     "Shows a queue's ready (or unacked) messages without taking them (warren only).", 1, -1, run_browse, NULL},
    {"redrive", "redrive [-p VHOST] QUEUE [--to QUEUE] [--rate N] [--count N]",
     "Moves a queue's messages (a dead-letter queue's) back to the queue each came from (its x-death), or to "
     "--to QUEUE; at most N a second, N messages (warren only).",
     1, 1, run_redrive, NULL},
    {"shovel", "shovel SRC_URL SRC_QUEUE DST_URL DST_QUEUE [--count N] [--window N]",
     "Moves a queue's messages to another broker over AMQP (amqp://user:pass@host:port/vhost URLs), acking each "
     "at the source only once the destination confirmed it: the backlog at start, or N messages.", 4, 4,
     run_shovel, NULL},
    {"help", "help [VERB]", "Lists the verbs, or shows one verb's usage.", 0, 1, run_help, NULL},
};

static const verb *find_verb(const char *name)
{
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        if (!strcmp(verbs[i].name, name))
            return &verbs[i];
    return NULL;
}

static const char global_help[] =
    "Global options (before or after the verb):\n"
    "  --url URL            the broker's HTTP API (default http://127.0.0.1:15672)\n"
    "  -u, --username USER  (default guest)\n"
    "  --password PASS      (default guest)\n"
    "  --config FILE        settings file (default ~/.warrenctl: url, username, password lines)\n"
    "  --formatter json     JSON output instead of tab-separated columns\n"
    "  -q, --quiet          no informational lines\n"
    "  -s, --silent         no informational lines and no table header\n"
    "  --no-table-headers   no table header\n"
    "  -t, --timeout N      seconds to wait for each answer (default 60)\n"
    "  -p, --vhost VHOST    the virtual host (default /)\n"
    "  --cacert FILE        https: the CA that signed the broker's certificate (default: the system's)\n"
    "  --cert FILE, --key FILE  https: a client certificate and its key\n"
    "Precedence: command line, then the config file, then the defaults.\n"
    "Exit codes: 0 ok, 64 usage, 65 bad data or no such object, 66 unreadable input file, 67 no such user,\n"
    "  69 broker unreachable or without the endpoint, 70 broker error or already exists, 74 cannot write file,\n"
    "  75 timeout, 77 credentials refused, 78 bad config file.\n";

static void print_verb_help(const verb *v)
{
    printf("Usage: warrenctl [global options] %s\n\n%s\n\n%s", v->usage, v->help, global_help);
}

static void run_help(const verb *v, args *a)
{
    if (a->argc == 1) {
        const verb *w = find_verb(a->argv[0]);
        if (!w)
            usage_fail(NULL, "unknown verb '%s' (warrenctl help lists them)", a->argv[0]);
        print_verb_help(w);
        return;
    }
    printf("Usage: warrenctl [global options] VERB [ARGS]\n\n"
           "rabbitmqctl's everyday verbs, over warren's (or RabbitMQ's) HTTP management API.\n\nVerbs:\n");
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        printf("  %s\n", verbs[i].usage);
    printf("\n%s\nwarrenctl VERB --help shows one verb.\n", global_help);
}

enum {
    OPT_URL = 256,
    OPT_PASSWORD,
    OPT_CONFIG,
    OPT_FORMATTER,
    OPT_NO_HEADERS,
    OPT_IF_EMPTY,
    OPT_IF_UNUSED,
    OPT_UNACKED,
    OPT_COUNT,
    OPT_DESCRIPTION,
    OPT_TAGS,
    OPT_CACERT,
    OPT_CERT,
    OPT_KEY,
    OPT_GLOBAL,
    OPT_LIMITS_USER,
    OPT_TO,
    OPT_RATE,
    OPT_WINDOW,
};

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"url", required_argument, NULL, OPT_URL},
        {"username", required_argument, NULL, 'u'},
        {"password", required_argument, NULL, OPT_PASSWORD},
        {"config", required_argument, NULL, OPT_CONFIG},
        {"formatter", required_argument, NULL, OPT_FORMATTER},
        {"quiet", no_argument, NULL, 'q'},
        {"silent", no_argument, NULL, 's'},
        {"no-table-headers", no_argument, NULL, OPT_NO_HEADERS},
        {"timeout", required_argument, NULL, 't'},
        {"vhost", required_argument, NULL, 'p'},
        {"if-empty", no_argument, NULL, OPT_IF_EMPTY},
        {"if-unused", no_argument, NULL, OPT_IF_UNUSED},
        {"unacked", no_argument, NULL, OPT_UNACKED},
        {"count", required_argument, NULL, OPT_COUNT},
        {"description", required_argument, NULL, OPT_DESCRIPTION},
        {"tags", required_argument, NULL, OPT_TAGS},
        {"cacert", required_argument, NULL, OPT_CACERT},
        {"cert", required_argument, NULL, OPT_CERT},
        {"key", required_argument, NULL, OPT_KEY},
        {"global", no_argument, NULL, OPT_GLOBAL},
        /* list_user_limits --user USER; elsewhere --user is --username, as it always was */
        {"user", required_argument, NULL, OPT_LIMITS_USER},
        {"to", required_argument, NULL, OPT_TO},
        {"rate", required_argument, NULL, OPT_RATE},
        {"window", required_argument, NULL, OPT_WINDOW},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    args a = {.vhost = "/", .count = 10, .window = 1000};
    ctl.timeout = 60;
    bool help = false;

    /* The verb is the first argument that is not an option; rabbitmqctl's
     * options come before or after it.  delete_queue's -u is --if-unused
     * (rabbitmqctl's), elsewhere -u is --username: so find the verb first. */
    const char *verb_name = NULL;
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] != '-' || !strcmp(argv[i], "-")) {
            verb_name = argv[i];
            break;
        }
        if (!strcmp(argv[i], "--"))
            break;
        /* skip an option's separate value */
        static const char *const with_value[] = {"--url", "-u", "--username", "--password", "--config",
                                                 "--formatter", "-t", "--timeout", "-p", "--vhost", "--count",
                                                 "--description", "--tags", "--cacert", "--cert", "--key", "--user",
                                                 "--to", "--rate", "--window", NULL};
        for (const char *const *w = with_value; *w; w++)
            if (!strcmp(argv[i], *w)) {
                i++;
                break;
            }
    }
    static char if_unused[] = "--if-unused";
    if (verb_name && !strcmp(verb_name, "delete_queue")) {
        bool after = false;
        for (int i = 1; i < argc; i++) {
            if (argv[i] == verb_name)
                after = true;
            else if (after && !strcmp(argv[i], "-u"))
                argv[i] = if_unused;
        }
    }

    /* GNU getopt's permuting: options anywhere, the rest in order after
     * optind; "--" ends the options (a queue named "-x") */
    int c;
    while ((c = getopt_long(argc, argv, "u:qst:p:eh", opts, NULL)) != -1) {
        switch (c) {
        case OPT_URL: ctl.url = optarg; break;
        case OPT_CACERT: ctl.cacert = optarg; break;
        case OPT_CERT: ctl.cert = optarg; break;
        case OPT_KEY: ctl.key = optarg; break;
        case 'u': ctl.username = optarg; break;
        case OPT_PASSWORD: ctl.password = optarg; break;
        case OPT_CONFIG: ctl.config = optarg; break;
        case OPT_FORMATTER:
            if (!strcmp(optarg, "json"))
                ctl.json = true;
            else if (!strcmp(optarg, "table") || !strcmp(optarg, "tsv"))
                ctl.json = false;
            else
                usage_fail(NULL, "unknown formatter '%s' (json or table)", optarg);
            break;
        case 'q': ctl.quiet = true; break;
        case 's': ctl.silent = true; break;
        case OPT_NO_HEADERS: ctl.no_headers = true; break;
        case 't': {
            char *end;
            ctl.timeout = strtol(optarg, &end, 10);
            if (*end || ctl.timeout <= 0)
                usage_fail(NULL, "bad --timeout '%s' (seconds, > 0)", optarg);
            break;
        }
        case 'p': a.vhost = optarg; break;
        case 'e':
        case OPT_IF_EMPTY: a.if_empty = true; break;
        case OPT_IF_UNUSED: a.if_unused = true; break;
        case OPT_UNACKED: a.unacked = true; break;
        case OPT_COUNT: {
            char *end;
            a.count = strtol(optarg, &end, 10);
            if (*end || a.count <= 0)
                usage_fail(NULL, "bad --count '%s' (a number > 0)", optarg);
            a.count_set = true;
            break;
        }
        case OPT_TO: a.to = optarg; break;
        case OPT_RATE: {
            char *end;
            a.rate = strtol(optarg, &end, 10);
            if (*end || a.rate <= 0 || a.rate > 1000000)
                usage_fail(NULL, "bad --rate '%s' (messages a second, 1 to 1000000)", optarg);
            break;
        }
        case OPT_WINDOW: {
            char *end;
            a.window = strtol(optarg, &end, 10);
            if (*end || a.window <= 0 || a.window > 65535)
                usage_fail(NULL, "bad --window '%s' (1 to 65535)", optarg);
            break;
        }
        case OPT_DESCRIPTION: a.description = optarg; break;
        case OPT_TAGS: a.tags = optarg; break;
        case OPT_GLOBAL: a.global = true; break;
        case OPT_LIMITS_USER:
            if (verb_name && !strcmp(verb_name, "list_user_limits"))
                a.limits_user = optarg;
            else
                ctl.username = optarg;
            break;
        case 'h': help = true; break;
        default: usage_fail(NULL, "%s", "unknown option (warrenctl help lists them)");
        }
    }
    a.argv = argv + optind;
    a.argc = argc - optind;
    if (a.argc == 0) {
        if (help) {
            args none = {0};
            run_help(NULL, &none);
            return 0;
        }
        usage_fail(NULL, "%s", "no verb given (warrenctl help lists them)");
    }
    const verb *v = find_verb(a.argv[0]);
    if (!v)
        usage_fail(NULL, "unknown verb '%s' (warrenctl help lists them)", a.argv[0]);
    a.argc--;
    a.argv++;
    if (help) {
        print_verb_help(v);
        return 0;
    }
    if (a.argc < v->min_args)
        usage_fail(v, "%s", "not enough arguments");
    if (v->max_args >= 0 && a.argc > v->max_args)
        usage_fail(v, "too many arguments: %s", a.argv[v->max_args]);
    if (v->run == run_help) {
        run_help(v, &a);
        return 0;
    }

    ctl_load_config();
    if (!ctl.url)
        ctl.url = "http://127.0.0.1:15672";
    if (!ctl.username)
        ctl.username = "guest";
    if (!ctl.password)
        ctl.password = "guest";
    v->run(v, &a);
    return 0;
}
