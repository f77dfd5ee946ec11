/*
 * server.h - the HTTP API's server, for the broker: libmicrohttpd run
 * inside warren's own event loop, on the loop thread.
 *
 * The broker creates it at start (binding its addresses before the store
 * is opened, as the AMQP listeners are), lets it listen once the store is
 * open, stops its listeners at shutdown and frees it last.
 */
#ifndef WARREN_HTTP_SERVER_H
#define WARREN_HTTP_SERVER_H

#include <stdint.h>

#include "config.h"
#include "ev/loop.h"
#include "listener.h"

typedef struct broker broker;
typedef struct http_server http_server;

/* Bind the management addresses of cfg (--management-port,
 * --management-bind).  *out is NULL when the API is off (port 0), or
 * when the default port could not be bound (a warning: warren still
 * serves AMQP); -1 when an address the user asked for cannot be bound
 * (logged). */
int http_server_init(http_server **out, broker *b, const config *cfg);
/* The same for the Prometheus endpoint (--prometheus-port,
 * --prometheus-bind): its own listeners and libmicrohttpd daemon, its own
 * routes (http/metrics.c), no login. */
int http_server_init_metrics(http_server **out, broker *b, const config *cfg);
/* Listen and serve from the loop; -1 logged. */
int http_server_listen(http_server *s, ev_loop *loop);
/* Serve a connection accepted elsewhere (the https proxy's plaintext end,
 * http/https.c): the server owns fd from here; peer is the client's
 * address (the loopback rules read it). */
void http_server_add_connection(http_server *s, int fd, const struct sockaddr *peer, socklen_t peerlen);
/* Its connection limits (0 per address: none), for the https proxy,
 * which refuses past them before it spends a TLS session. */
void http_server_limits(const http_server *s, unsigned *max_conns, unsigned *max_per_address);
/* Accept no more connections (shutdown). */
void http_server_close_listeners(http_server *s);
/* Close every connection and free (NULL is fine). */
void http_server_free(http_server *s);

/* For the handlers (api.c): where the API listens, the node's name, and
 * when the broker started (wall clock ms). */
const listener_set *http_server_listeners(const http_server *s);
/* Serve a connected socket as if accepted from peer (the server owns fd
 * afterwards): tests/fuzz/fuzz_http_request.c hands it one end of a
 * socketpair. */
void http_server_adopt(http_server *s, int fd, const struct sockaddr *peer, socklen_t peerlen);
const char *http_server_node(const http_server *s);
int64_t http_server_started_ms(const http_server *s);

#endif
