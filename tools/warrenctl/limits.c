/* warrenctl's limits verbs; see limits.h.
 *
 * rabbitmqctl's forms and words: a definition is a JSON object of limit
 * names and integers.  set_vhost_limits replaces the vhost's limits with
 * the definition (what it does not name is cleared); set_user_limits
 * changes only the limits it names; clear_user_limits takes one name or
 * "all".  The API sets one limit per request (PUT .../{name}), so a
 * definition is checked whole first (a JSON object) and the broker's
 * refusal of a name or a value ends the verb with its words.
 */
#include "limits.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

static char *limits_path(const char *kind, const char *target, const char *name)
{
    char *t = ctl_escape(target), *n = name ? ctl_escape(name) : NULL;
    char *p = n ? ctl_fmt("/api/%s/%s/%s", kind, t, n) : ctl_fmt("/api/%s/%s", kind, t);
    free(t);
    free(n);
    return p;
}

static json_t *parse_definition(const char *definition)
{
    json_error_t e;
    json_t *d = json_loads(definition, JSON_DECODE_ANY, &e);
    if (!json_is_object(d))
        ctl_fail(EXIT_DATAERR, "JSON decoding error: the definition must be a JSON object, such as "
                               "'{\"max-connections\": 10}'");
    return d;
}

/* The value of a list answer's one item (or an empty object). */
static json_t *current(const char *kind, const char *target, const char *missing, int code)
{
    char *p = limits_path(kind, target, NULL);
    json_t *arr = ctl_get_json(p, kind, missing, code);
    json_t *v = json_object_get(json_array_get(arr, 0), "value");
    json_t *out = json_is_object(v) ? json_deep_copy(v) : json_object();
    json_decref(arr);
    free(p);
    return out;
}

/* PUT (value) or DELETE (NULL) one limit; 400 and 404 end with the broker's words. */
static void change(const char *kind, const char *target, const char *name, json_t *value, const char *what,
                   const char *missing, int missing_code)
{
    static const long ok[] = {400, 404, 0};
    char *p = limits_path(kind, target, name);
    char *body = value ? json_dumps(json_pack("{s:O}", "value", value), JSON_COMPACT) : NULL;
    ctl_reply r = ctl_request(value ? "PUT" : "DELETE", p, body, NULL);

    ctl_check(&r, what, ok);
    if (r.status == 404 || (r.status == 400 && strstr(r.body, "no_such_user")))
        ctl_fail(missing_code, "%s", missing);
    if (r.status == 400)
        ctl_fail(EXIT_DATAERR, "%s", ctl_reason(&r));
    ctl_reply_free(&r);
    free(body);
    free(p);
}

static char *vhost_missing(const char *vhost)
{
    return ctl_fmt("Virtual host '%s' does not exist", vhost);
}

static char *user_missing(const char *user)
{
    return ctl_fmt("User \"%s\" does not exist", user);
}

void ctl_set_vhost_limits(const char *vhost, const char *definition)
{
    json_t *d, *now, *v;
    const char *key;
    char *missing = vhost_missing(vhost);

    ctl_banner("Setting vhost limits to \"%s\" for vhost \"%s\" ...", definition, vhost);
    d = parse_definition(definition);
    now = current("vhost-limits", vhost, missing, EXIT_DATAERR);
    json_object_foreach(d, key, v)
        change("vhost-limits", vhost, key, v, "set_vhost_limits", missing, EXIT_DATAERR);
    /* the definition is the whole set, as rabbitmqctl's */
    json_object_foreach(now, key, v)
        if (!json_object_get(d, key))
            change("vhost-limits", vhost, key, NULL, "set_vhost_limits", missing, EXIT_DATAERR);
    json_decref(d);
    json_decref(now);
    free(missing);
}

void ctl_clear_vhost_limits(const char *vhost)
{
    json_t *now, *v;
    const char *key;
    char *missing = vhost_missing(vhost);

    ctl_banner("Clearing vhost \"%s\" limits ...", vhost);
    now = current("vhost-limits", vhost, missing, EXIT_DATAERR);
    json_object_foreach(now, key, v)
        change("vhost-limits", vhost, key, NULL, "clear_vhost_limits", missing, EXIT_DATAERR);
    json_decref(now);
    free(missing);
}

/* --global: every item of the list, as rabbitmqctl's table (the limits a
 * JSON string in one column). */
static void list_all(const char *kind, const char *label)
{
    char *p = ctl_fmt("/api/%s", kind);
    json_t *arr = ctl_get_json(p, kind, "this broker has no limits API", EXIT_UNAVAILABLE), *rows = json_array(), *o;
    size_t i;
    ctl_column target = {label, label}, lim = {"limits", "limits"};
    const ctl_column *cols[2] = {&target, &lim};

    json_array_foreach(arr, i, o) {
        char *s = json_dumps(json_object_get(o, "value"), JSON_COMPACT | JSON_SORT_KEYS);
        json_array_append_new(rows, json_pack("{s:O,s:s}", label, json_object_get(o, label), "limits", s ? s : "{}"));
        free(s);
    }
    ctl_print_rows(rows, cols, 2);
    json_decref(rows);
    json_decref(arr);
    free(p);
}

static void print_one(json_t *v, bool empty_line)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
    /* rabbitmqctl prints nothing but a newline for a vhost without limits */
    printf("%s\n", empty_line && json_object_size(v) == 0 ? "" : s);
    free(s);
}

void ctl_list_vhost_limits(const char *vhost, bool global)
{
    char *missing;
    json_t *now;

    if (global) {
        ctl_banner("Listing limits for all vhosts ...");
        list_all("vhost-limits", "vhost");
        return;
    }
    ctl_banner("Listing limits for vhost \"%s\" ...", vhost);
    missing = vhost_missing(vhost);
    now = current("vhost-limits", vhost, missing, EXIT_DATAERR);
    print_one(now, true);
    json_decref(now);
    free(missing);
}

void ctl_set_user_limits(const char *user, const char *definition)
{
    json_t *d, *v;
    const char *key;
    char *missing = user_missing(user);

    ctl_banner("Setting user limits to \"%s\" for user \"%s\" ...", definition, user);
    d = parse_definition(definition);
    json_object_foreach(d, key, v)
        change("user-limits", user, key, v, "set_user_limits", missing, EXIT_NOUSER);
    json_decref(d);
    free(missing);
}

void ctl_clear_user_limits(const char *user, const char *name)
{
    char *missing = user_missing(user);

    if (strcmp(name, "all")) {
        ctl_banner("Clearing \"%s\" limit for user \"%s\" ...", name, user);
        change("user-limits", user, name, NULL, "clear_user_limits", missing, EXIT_NOUSER);
    } else {
        json_t *now, *v;
        const char *key;
        ctl_banner("Clearing all limits for user \"%s\" ...", user);
        now = current("user-limits", user, missing, EXIT_NOUSER);
        json_object_foreach(now, key, v)
            change("user-limits", user, key, NULL, "clear_user_limits", missing, EXIT_NOUSER);
        json_decref(now);
    }
    free(missing);
}

void ctl_list_user_limits(const char *user, bool global)
{
    char *missing;
    json_t *now;

    if (global) {
        ctl_banner("Listing limits for all users ...");
        list_all("user-limits", "user");
        return;
    }
    ctl_banner("Listing limits for user \"%s\" ...", user);
    missing = user_missing(user);
    now = current("user-limits", user, missing, EXIT_NOUSER);
    print_one(now, false);
    json_decref(now);
    free(missing);
}
