/*
 * users.h - the HTTP API's users and permissions (users.c): RabbitMQ
 * 3.10's /api/users, /api/permissions, /api/vhosts and the users,
 * permissions and vhosts of the definitions export and import, over the
 * user database (auth.h) and the broker's vhosts (broker_vhost).
 */
#ifndef WARREN_HTTP_USERS_H
#define WARREN_HTTP_USERS_H

#include "auth.h"
#include "http/api.h"

/* A user's tags as RabbitMQ shows them: a list of strings. */
json_t *http_user_tags(const auth_user *u);
/* 0 when the logged-in user is an administrator; else -1 with RabbitMQ's
 * 401 "Not administrator user" in *r. */
int http_need_admin(http_ctx *x, http_reply *r);
/* Does the logged-in user see the vhost: administrator and monitoring
 * users every one, the others (management) those they have permissions
 * on, as RabbitMQ. */
bool http_sees_vhost(http_ctx *x, const char *name);

void http_get_users(http_ctx *x, http_reply *r);
void http_get_users_without_permissions(http_ctx *x, http_reply *r);
void http_get_user(http_ctx *x, http_reply *r);
void http_put_user(http_ctx *x, http_reply *r);
void http_delete_user(http_ctx *x, http_reply *r);
void http_get_user_permissions(http_ctx *x, http_reply *r);
void http_get_permissions(http_ctx *x, http_reply *r);
void http_get_vhost_permissions(http_ctx *x, http_reply *r);
void http_get_permission(http_ctx *x, http_reply *r);
void http_put_permission(http_ctx *x, http_reply *r);
void http_delete_permission(http_ctx *x, http_reply *r);
void http_get_vhosts(http_ctx *x, http_reply *r);
void http_get_vhost(http_ctx *x, http_reply *r);
void http_put_vhost(http_ctx *x, http_reply *r);
void http_delete_vhost(http_ctx *x, http_reply *r);

/* Definitions: the "users" and "permissions" sections of an export (new
 * references), and of an import: checked whole first (check: -1 with a
 * 400 in *r, nothing changed), then applied (users before permissions). */
json_t *http_users_export(http_ctx *x, json_t **perms);
int http_users_import(http_ctx *x, http_reply *r, json_t *body, bool apply);
/* The "vhosts" section: exported ({"name"} each, "/" first), imported
 * (created when missing; checked first as above, then applied before the
 * users).  http_vhost_known: a vhost that exists or that body makes. */
json_t *http_vhosts_export(http_ctx *x);
int http_vhosts_import(http_ctx *x, http_reply *r, json_t *body, bool apply);
bool http_vhost_known(http_ctx *x, json_t *body, const char *name);

#endif
