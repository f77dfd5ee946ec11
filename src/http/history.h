/*
 * history.h - the overview's message_stats and queue_totals, with
 * RabbitMQ's *_details (rate, and samples of the 10-minute history when
 * the request asks with msg_rates_age / lengths_age): history.c.
 */
#ifndef WARREN_HTTP_HISTORY_H
#define WARREN_HTTP_HISTORY_H

#include "http/api.h"

/* Set "message_stats" and "queue_totals" of overview (a GET
 * /api/overview reply being built).  0, or -1 with a 400 in *r for a
 * malformed age or incr. */
int http_overview_stats(http_ctx *x, json_t *overview, http_reply *r);

#endif
