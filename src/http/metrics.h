/*
 * metrics.h - the Prometheus endpoint's routes (metrics.c), served by a
 * second http_server (server.c) on --prometheus-port, without a login.
 */
#ifndef WARREN_HTTP_METRICS_H
#define WARREN_HTTP_METRICS_H

#include <stddef.h>

#include "http/routes.h"

extern const http_route http_metrics_routes[];
extern const size_t http_metrics_nroutes;

#endif
