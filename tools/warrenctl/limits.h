/* warrenctl's limits verbs (limits.c): rabbitmqctl's set_vhost_limits,
 * clear_vhost_limits, list_vhost_limits, set_user_limits,
 * clear_user_limits and list_user_limits, over /api/vhost-limits and
 * /api/user-limits. */
#ifndef WARRENCTL_LIMITS_H
#define WARRENCTL_LIMITS_H

#include <stdbool.h>

void ctl_set_vhost_limits(const char *vhost, const char *definition);
void ctl_clear_vhost_limits(const char *vhost);
void ctl_list_vhost_limits(const char *vhost, bool global);
void ctl_set_user_limits(const char *user, const char *definition);
void ctl_clear_user_limits(const char *user, const char *name);
void ctl_list_user_limits(const char *user, bool global);

#endif
