/*
 * users.h - the HTTP API's users and permissions (users.c): RabbitMQ
 * 3.10's /api/users, /api/permissions and the users and permissions of
 * the definitions export and import, over the user database (auth.h).
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

/* Definitions: the "users" and "permissions" sections of an export (new
 * references), and of an import: checked whole first (check: -1 with a
 * 400 in *r, nothing changed), then applied (users before permissions). */
json_t *http_users_export(http_ctx *x, json_t **perms);
int http_users_import(http_ctx *x, http_reply *r, json_t *body, bool apply);

#endif
