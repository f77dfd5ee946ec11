/*
 * http/limits.h - RabbitMQ's /api/vhost-limits and /api/user-limits, and
 * the limits in a definitions export and import (limits.c).
 */
#ifndef WARREN_HTTP_LIMITS_H
#define WARREN_HTTP_LIMITS_H

#include <jansson.h>
#include <stdbool.h>

#include "http/api.h"
#include "vhost.h" /* and through it src/quota.h */

/* {"max-connections": 5, ...}: the limits that are set. */
json_t *http_limits_json(const limits *l);

void http_get_vhost_limits(http_ctx *x, http_reply *r);       /* /api/vhost-limits[/{vhost}] */
void http_put_vhost_limit(http_ctx *x, http_reply *r);        /* /api/vhost-limits/{vhost}/{name} */
void http_delete_vhost_limit(http_ctx *x, http_reply *r);
void http_get_user_limits(http_ctx *x, http_reply *r);        /* /api/user-limits[/{user}] */
void http_put_user_limit(http_ctx *x, http_reply *r);         /* /api/user-limits/{user}/{name} */
void http_delete_user_limit(http_ctx *x, http_reply *r);

/* Definitions: the vhosts' limits as RabbitMQ exports them, runtime
 * parameters of component "vhost-limits" named "limits" (vh: that vhost's
 * only, for a per-vhost export, whose items have no "vhost"). */
json_t *http_limits_parameters(http_ctx *x, const vhost *vh);
/* Is this "parameters" item a vhost-limits one (the only kind warren takes)? */
bool http_limits_is_parameter(json_t *item);
/* Check (apply false) or set (apply true) the limits of an import: the
 * "vhost-limits" parameters (path_vhost: a per-vhost import's vhost, whose
 * items may lack "vhost") and, for a whole import, each user's "limits".
 * 0, or -1 with the refusal in *r. */
int http_limits_import(http_ctx *x, http_reply *r, json_t *body, const char *path_vhost, bool apply);

#endif
