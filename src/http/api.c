/*
 * api.c - the endpoints of the HTTP API and its route table, in RabbitMQ
 * 3.10's words: each object has RabbitMQ's field names, in its order,
 * where warren has the value; fields warren cannot fill yet (message
 * rates, byte counters) are left out rather than made up (doc/management.md
 * lists them).
 *
 * The handlers read the broker as the AMQP side leaves it: the vhost's
 * maps of queues and exchanges, the connection list, the user database
 * and the alarms.  Every count is a walk done here, on the loop thread,
 * at the time of the request.
 */
#include "http/api.h"
#include "http/domain.h"
#include "http/lists.h"
#include "http/limits.h"
#include "http/redrive_api.h"
#include "http/users.h"
#include "http/history.h"
#include "http/https.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "memstat.h"
#include "warren.h"

/* ------------------------------------------------------------- helpers */

static json_t *exchange_types(void)
{
    /* the last two as the delayed-message and message-deduplication plugins
     * register them (exchange_delayed.c, exchange_dedup.c) */
    return json_pack("[{s:s,s:s,s:b},{s:s,s:s,s:b},{s:s,s:s,s:b},{s:s,s:s,s:b},{s:s,s:s,s:b},{s:s,s:s,s:b}]",
                     "name", "direct",
                     "description",
                     "AMQP direct exchange, as per the AMQP specification", "enabled", 1, "name", "fanout",
                     "description", "AMQP fanout exchange, as per the AMQP specification", "enabled", 1, "name",
                     "headers", "description", "AMQP headers exchange, as per the AMQP specification", "enabled", 1,
                     "name", "topic", "description", "AMQP topic exchange, as per the AMQP specification", "enabled",
                     1, "name", "x-delayed-message", "description", "Delayed Message Exchange.", "enabled", 1,
                     "name", "x-message-deduplication", "description", "Message Deduplication Exchange.",
                     "enabled", 1);
}

/* "127.0.0.1", "::1": a listener's address without the brackets. */
static void listener_ip(const listener *l, char *out, size_t n)
{
    size_t len = strlen(l->name);
    if (len >= 2 && l->name[0] == '[')
        snprintf(out, n, "%.*s", (int)(len - 2), l->name + 1);
    else
        snprintf(out, n, "%s", l->name);
}

static void add_listeners(json_t *arr, const char *node, const listener_set *ls, const char *protocol)
{
    int i;
    for (i = 0; i < ls->n; i++) {
        char ip[64];
        listener_ip(&ls->l[i], ip, sizeof ip);
        json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:i,s:{s:i}}", "node", node, "protocol", protocol,
                                             "ip_address", ip, "port", ls->port, "socket_opts", "backlog", 1024));
    }
}

static json_t *contexts(http_ctx *x)
{
    const listener_set *ls = http_server_listeners(x->srv);
    json_t *arr = json_array();
    char ip[64], port[8];
    int i;

    for (i = 0; arr && i < ls->n; i++) {
        listener_ip(&ls->l[i], ip, sizeof ip);
        snprintf(port, sizeof port, "%d", ls->port);
        json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:s,s:s}", "node", http_server_node(x->srv),
                                             "description", "warren management", "path", "/", "ip", ip, "port",
                                             port));
    }
    return arr;
}

/* -------------------------------------------------------------- whoami */

static void get_whoami(http_ctx *x, http_reply *r)
{
    const auth_user *u = auth_find(&x->b->auth, x->user);
    http_reply_json(r, 200, json_pack("{s:o,s:o}", "name", http_json_text(x->user), "tags", u ? http_user_tags(u) : json_array()));
}

/* -------------------------------------------------------------- alarms */

static void get_alarms(http_ctx *x, http_reply *r)
{
    unsigned on = x->b->alarms.on;
    json_t *list;

    if (!on) {
        http_reply_json(r, 200, json_pack("{s:s}", "status", "ok"));
        return;
    }
    /* RabbitMQ's rabbit_mgmt_wm_health_check_alarms, with
     * rabbit_alarm:format_as_maps's entries */
    list = json_array();
    if (list && (on & ALARM_MEMORY))
        json_array_append_new(list, json_pack("{s:s,s:s}", "resource", "memory", "node", http_server_node(x->srv)));
    if (list && (on & ALARM_DISK))
        json_array_append_new(list, json_pack("{s:s,s:s}", "resource", "disk", "node", http_server_node(x->srv)));
    http_reply_json(r, 503, json_pack("{s:s,s:s,s:o}", "status", "failed", "reason",
                                      "There are alarms in effect in the cluster", "alarms", list));
}

/* ------------------------------------------------------------ overview */

static void get_overview(http_ctx *x, http_reply *r)
{
    broker *b = x->b;
    const char *node = http_server_node(x->srv);
    json_t *o, *listeners;
    listeners = json_array();
    if (listeners) {
        add_listeners(listeners, node, &b->amqp, "amqp");
        add_listeners(listeners, node, http_server_listeners(x->srv), "http");
        if (b->metrics) /* as RabbitMQ lists its prometheus plugin's */
            add_listeners(listeners, node, http_server_listeners(b->metrics), "http/prometheus");
        /* TLS, in RabbitMQ's protocol names (doc/tls.md) */
        add_listeners(listeners, node, &b->amqps, "amqp/ssl");
        if (b->https)
            add_listeners(listeners, node, https_listeners(b->https), "https");
    }
    o = json_pack("{s:s,s:o,s:s,s:s,s:s,s:s,s:i,s:s,s:o,s:o}", "management_version", RABBITMQ_COMPAT_VERSION,
                  "exchange_types", exchange_types(), "product_version", WARREN_VERSION, "product_name", "warren",
                  "rabbitmq_version", RABBITMQ_COMPAT_VERSION, "cluster_name", node, "statistics_db_event_queue", 0,
                  "node", node, "listeners", listeners, "contexts", contexts(x));
    /* message_stats, queue_totals, object_totals: what the user may see
     * (lists.c) */
    o = o ? http_overview_stats(x, o) : NULL;
    /* the samples of the history asked for (history.c) */
    if (o && http_overview_history(x, o, r) < 0) {
        json_decref(o);
        return;
    }
    http_reply_json(r, 200, o);
}

/* --------------------------------------------------------------- nodes */

static json_t *node_json(http_ctx *x)
{
    broker *b = x->b;
    stats_node n;
    stats_totals t;
    json_int_t fd_total;
    char pid[16];

    stats_node_get(b, &n);
    stats_totals_get(b, &t);
    fd_total = n.max_fds > (uint64_t)1 << 31 ? (json_int_t)1 << 31 : (json_int_t)n.max_fds;
    snprintf(pid, sizeof pid, "%ld", (long)getpid());
    return json_pack("{s:[],s:s,s:I,s:I,s:I,s:b,s:I,s:b,s:I,s:i,s:o,s:[{s:s,s:s,s:b},{s:s,s:s,s:b}],s:o,s:s,"
                     "s:s,s:s,s:s,s:b,s:I,s:I,s:I,s:I}",
                     "partitions", "os_pid", pid, "fd_total", fd_total, "sockets_total", fd_total, "mem_limit",
                     (json_int_t)b->alarms.memory_limit, "mem_alarm", (b->alarms.on & ALARM_MEMORY) != 0,
                     "disk_free_limit", (json_int_t)b->cfg.disk_free_limit, "disk_free_alarm",
                     (b->alarms.on & ALARM_DISK) != 0, "uptime",
                     (json_int_t)(ev_wall_ms(b->loop) - http_server_started_ms(x->srv)), "processors",
                     (int)sysconf(_SC_NPROCESSORS_ONLN), "exchange_types", exchange_types(), "auth_mechanisms",
                     "name", "AMQPLAIN", "description", "QPid AMQPLAIN mechanism", "enabled", 1, "name", "PLAIN",
                     "description", "SASL PLAIN authentication mechanism", "enabled", 1, "contexts", contexts(x),
                     "db_dir", b->cfg.data_dir, "mem_calculation_strategy", "allocated", "name",
                     http_server_node(x->srv), "type", "disc", "running", 1, "mem_used",
                     (json_int_t)memstat_heap_in_use(), "fd_used", (json_int_t)n.open_fds, "sockets_used", (json_int_t)t.connections,
                     "disk_free", (json_int_t)n.disk_free);
}

static void get_nodes(http_ctx *x, http_reply *r)
{
    http_reply_json(r, 200, json_pack("[o]", node_json(x)));
}

static void get_node(http_ctx *x, http_reply *r)
{
    const char *node = http_server_node(x->srv);

    if (strlen(node) != x->params[0].len || memcmp(node, x->params[0].ptr, x->params[0].len))
        http_reply_not_found(r);
    else
        http_reply_json(r, 200, node_json(x));
}

/* --------------------------------------------------------------- table */

const http_route http_api_routes[] = {
    {HTTP_GET, "/api/overview", get_overview, false},
    {HTTP_GET, "/api/whoami", get_whoami, false},
    {HTTP_GET, "/api/nodes", get_nodes, false},
    {HTTP_GET, "/api/nodes/{node}", get_node, false},
    {HTTP_GET, "/api/health/checks/alarms", get_alarms, false},
    /* through the domain API (domain.c) */
    {HTTP_PUT, "/api/queues/{vhost}/{queue}", http_put_queue, true},
    {HTTP_DELETE, "/api/queues/{vhost}/{queue}", http_delete_queue, false},
    {HTTP_DELETE, "/api/queues/{vhost}/{queue}/contents", http_purge_queue, false},
    {HTTP_POST, "/api/queues/{vhost}/{queue}/get", http_get_messages, true},
    {HTTP_PUT, "/api/exchanges/{vhost}/{exchange}", http_put_exchange, true},
    {HTTP_DELETE, "/api/exchanges/{vhost}/{exchange}", http_delete_exchange, false},
    {HTTP_POST, "/api/exchanges/{vhost}/{exchange}/publish", http_publish_message, true},
    {HTTP_POST, "/api/bindings/{vhost}/e/{source}/q/{destination}", http_post_binding_queue, true},
    {HTTP_POST, "/api/bindings/{vhost}/e/{source}/e/{destination}", http_post_binding_exchange, true},
    {HTTP_DELETE, "/api/bindings/{vhost}/e/{source}/q/{destination}/{props}", http_delete_binding_queue, false},
    {HTTP_DELETE, "/api/bindings/{vhost}/e/{source}/e/{destination}/{props}", http_delete_binding_exchange, false},
    {HTTP_GET, "/api/aliveness-test/{vhost}", http_get_aliveness, false},
    {HTTP_GET, "/api/definitions", http_get_definitions, false},
    {HTTP_POST, "/api/definitions", http_post_definitions, true},
    {HTTP_GET, "/api/definitions/{vhost}", http_get_vhost_definitions, false},
    {HTTP_POST, "/api/definitions/{vhost}", http_post_vhost_definitions, true},
    /* listings with statistics, closing a connection, browse (lists.c) */
    {HTTP_GET, "/api/queues", http_list_queues, false},
    {HTTP_GET, "/api/queues/{vhost}", http_list_queues, false},
    {HTTP_GET, "/api/queues/{vhost}/{queue}", http_show_queue, false},
    {HTTP_GET, "/api/queues/{vhost}/{queue}/bindings", http_queue_bindings, false},
    {HTTP_GET, "/api/queues/{vhost}/{queue}/messages", http_browse_queue, false},
    /* warren's redrive of a queue's messages (redrive.c) */
    {HTTP_POST, "/api/queues/{vhost}/{queue}/redrive", http_post_redrive, true},
    {HTTP_GET, "/api/queues/{vhost}/{queue}/redrive", http_get_redrive, false},
    {HTTP_DELETE, "/api/queues/{vhost}/{queue}/redrive", http_delete_redrive, false},
    {HTTP_GET, "/api/exchanges/{vhost}/{exchange}/messages", http_browse_exchange, false},
    {HTTP_GET, "/api/exchanges", http_list_exchanges, false},
    {HTTP_GET, "/api/exchanges/{vhost}", http_list_exchanges, false},
    {HTTP_GET, "/api/exchanges/{vhost}/{exchange}", http_show_exchange, false},
    {HTTP_GET, "/api/exchanges/{vhost}/{exchange}/bindings/source", http_exchange_bindings_source, false},
    {HTTP_GET, "/api/exchanges/{vhost}/{exchange}/bindings/destination", http_exchange_bindings_destination, false},
    {HTTP_GET, "/api/bindings", http_list_bindings, false},
    {HTTP_GET, "/api/bindings/{vhost}", http_list_bindings, false},
    {HTTP_GET, "/api/bindings/{vhost}/e/{source}/q/{destination}", http_bindings_between_queue, false},
    {HTTP_GET, "/api/bindings/{vhost}/e/{source}/e/{destination}", http_bindings_between_exchange, false},
    {HTTP_GET, "/api/bindings/{vhost}/e/{source}/q/{destination}/{props}", http_bindings_between_queue, false},
    {HTTP_GET, "/api/bindings/{vhost}/e/{source}/e/{destination}/{props}", http_bindings_between_exchange, false},
    {HTTP_GET, "/api/connections", http_list_connections, false},
    {HTTP_GET, "/api/connections/{connection}", http_show_connection, false},
    {HTTP_DELETE, "/api/connections/{connection}", http_close_connection, false},
    {HTTP_GET, "/api/vhosts/{vhost}/connections", http_list_connections, false},
    {HTTP_GET, "/api/channels", http_list_channels, false},
    {HTTP_GET, "/api/channels/{channel}", http_show_channel, false},
    {HTTP_GET, "/api/vhosts/{vhost}/channels", http_list_channels, false},
    {HTTP_GET, "/api/consumers", http_list_consumers, false},
    {HTTP_GET, "/api/consumers/{vhost}", http_list_consumers, false},
    /* users, permissions and vhosts (users.c) */
    {HTTP_GET, "/api/users", http_get_users, false},
    {HTTP_GET, "/api/users/without-permissions", http_get_users_without_permissions, false},
    {HTTP_GET, "/api/users/{user}", http_get_user, false},
    {HTTP_PUT, "/api/users/{user}", http_put_user, true},
    {HTTP_DELETE, "/api/users/{user}", http_delete_user, false},
    {HTTP_GET, "/api/users/{user}/permissions", http_get_user_permissions, false},
    {HTTP_GET, "/api/permissions", http_get_permissions, false},
    {HTTP_GET, "/api/vhosts/{vhost}/permissions", http_get_vhost_permissions, false},
    {HTTP_GET, "/api/permissions/{vhost}/{user}", http_get_permission, false},
    {HTTP_PUT, "/api/permissions/{vhost}/{user}", http_put_permission, true},
    {HTTP_DELETE, "/api/permissions/{vhost}/{user}", http_delete_permission, false},
    {HTTP_GET, "/api/vhosts", http_get_vhosts, false},
    {HTTP_GET, "/api/vhosts/{vhost}", http_get_vhost, false},
    {HTTP_PUT, "/api/vhosts/{vhost}", http_put_vhost, true},
    {HTTP_DELETE, "/api/vhosts/{vhost}", http_delete_vhost, false},
    /* vhost and user limits (http/limits.c) */
    {HTTP_GET, "/api/vhost-limits", http_get_vhost_limits, false},
    {HTTP_GET, "/api/vhost-limits/{vhost}", http_get_vhost_limits, false},
    {HTTP_PUT, "/api/vhost-limits/{vhost}/{name}", http_put_vhost_limit, true},
    {HTTP_DELETE, "/api/vhost-limits/{vhost}/{name}", http_delete_vhost_limit, false},
    {HTTP_GET, "/api/user-limits", http_get_user_limits, false},
    {HTTP_GET, "/api/user-limits/{user}", http_get_user_limits, false},
    {HTTP_PUT, "/api/user-limits/{user}/{name}", http_put_user_limit, true},
    {HTTP_DELETE, "/api/user-limits/{user}/{name}", http_delete_user_limit, false},
};
const size_t http_api_nroutes = sizeof http_api_routes / sizeof *http_api_routes;
