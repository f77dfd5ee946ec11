/*
 * http/https.h - https for the HTTP API (--management-tls-port): TLS is
 * ended here, with OpenSSL (tls.h), and the plaintext handed to the HTTP
 * API's libmicrohttpd through a socketpair (https.c says why).
 */
#ifndef WARREN_HTTP_HTTPS_H
#define WARREN_HTTP_HTTPS_H

#include "ev/loop.h"

typedef struct https_server https_server;
struct http_server;
struct tls_server;

/* Bind the https addresses (the HTTP API's: --management-bind, else the
 * loopback pair) on port; *out stays NULL when port is 0 or there is no
 * API.  -1 logged. */
int https_init(https_server **out, struct http_server *api, struct tls_server *tls, int port,
               const char *const *binds, int nbinds);
int https_listen(https_server *s, ev_loop *loop);
/* Accept no more (shutdown); open connections finish. */
void https_close_listeners(https_server *s);
/* Close every connection and free (NULL is fine). */
void https_free(https_server *s);
/* Its listening addresses (the overview's listeners). */
struct listener_set;
const struct listener_set *https_listeners(const https_server *s);

#endif
