/*
 * lists.h - the HTTP API's listing endpoints with statistics (queues,
 * exchanges, bindings, connections, channels, consumers), closing a
 * connection, and warren's browse of a queue's messages (lists.c).
 * api.c lists them in its route table.
 */
#ifndef WARREN_HTTP_LISTS_H
#define WARREN_HTTP_LISTS_H

#include "http/api.h"
#include "stats.h"

http_handler http_list_queues, http_show_queue, http_browse_queue, http_browse_exchange;
http_handler http_list_exchanges, http_show_exchange;
http_handler http_list_bindings, http_exchange_bindings_source, http_exchange_bindings_destination;
http_handler http_queue_bindings, http_bindings_between_queue, http_bindings_between_exchange;
http_handler http_list_connections, http_show_connection, http_close_connection;
http_handler http_list_channels, http_show_channel, http_list_consumers;
/* Set /api/overview's message_stats, queue_totals and object_totals in o
 * from the stats API's totals (o is returned). */
json_t *http_overview_stats(http_ctx *x, json_t *o);
/* The totals the logged-in user may see (every vhost's, or a management
 * user's vhosts with only their own connections and channels). */
void http_seen_totals(http_ctx *x, stats_totals *t);
/* A vhost's counts with their rates, message_stats, and its connections'
 * recv_oct and send_oct, into o (GET /api/vhosts). */
void http_vhost_stats(http_ctx *x, const char *name, json_t *o);

#endif
