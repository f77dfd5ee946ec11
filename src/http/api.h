/*
 * api.h - what a handler of the HTTP API is given (api.c holds the
 * handlers and the route table; server.c calls them).
 *
 * A handler runs on the loop thread, after the route matched and the
 * user logged in, and fills the reply (json.h): it may read and change
 * the broker through the domain's functions, and must not block.
 */
#ifndef WARREN_HTTP_API_H
#define WARREN_HTTP_API_H

#include <jansson.h>

#include "http/json.h"
#include "http/routes.h"
#include "http/server.h"

/* The RabbitMQ release whose management API this one follows: tools
 * that look at the version to pick what to call see the dialect spoken
 * (product_name and product_version say what runs). */
#define RABBITMQ_COMPAT_VERSION "3.10.8"

struct http_ctx {
    broker *b;
    http_server *srv;
    const char *user;           /* logged in */
    const http_target *t;       /* path segments and query */
    const http_str *params;     /* the route's {placeholders}, decoded */
    int nparams;
    json_t *body;               /* a route with a body: the JSON object, NULL when it was empty */
    /* a request header's value, or NULL (server.c) */
    const char *(*header)(const http_ctx *x, const char *name);
    void *mhd;                  /* server.c's, for header */
};

extern const http_route http_api_routes[];
extern const size_t http_api_nroutes;

#endif
