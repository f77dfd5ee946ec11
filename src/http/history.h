/*
 * history.h - the overview's samples of the 10-minute history, in
 * RabbitMQ's *_details, when the request asks with msg_rates_age /
 * lengths_age: history.c.
 */
#ifndef WARREN_HTTP_HISTORY_H
#define WARREN_HTTP_HISTORY_H

#include "http/api.h"

/* Add the samples a GET /api/overview asks for (msg_rates_age,
 * lengths_age) to the *_details of overview's "message_stats" and
 * "queue_totals" (made when not there).  0 (nothing asked: nothing
 * done), or -1 with a 400 in *r for a malformed age or incr. */
int http_overview_history(http_ctx *x, json_t *overview, http_reply *r);

#endif
