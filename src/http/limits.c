/*
 * http/limits.c - the limits of vhosts and users over the HTTP API, in
 * RabbitMQ 3.10's paths, bodies and refusals:
 *
 *   GET    /api/vhost-limits, /api/vhost-limits/{vhost}
 *          [{"vhost": "v", "value": {"max-connections": 5}}], the vhosts
 *          with limits only
 *   PUT    /api/vhost-limits/{vhost}/{name}   {"value": N}   204
 *   DELETE /api/vhost-limits/{vhost}/{name}                  204
 *   GET    /api/user-limits, /api/user-limits/{user}
 *   PUT    /api/user-limits/{user}/{name}     {"value": N}   204
 *   DELETE /api/user-limits/{user}/{name}                    204
 *
 * A vhost's names are max-connections and max-queues, a user's
 * max-connections and max-channels; a value is an integer (negative: no
 * limit).  Changing them is for administrators; the lists show what the
 * user may see.  Every change is recorded before it is answered
 * (broker_set_vhost_limits, auth_set_limits).
 *
 * In definitions they are where RabbitMQ puts them: a vhost's as a
 * runtime parameter {"component": "vhost-limits", "name": "limits",
 * "vhost": v, "value": {...}}, a user's as the user's "limits" object.
 */
#include "http/limits.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/body.h"
#include "http/users.h"
#include "warren.h"

json_t *http_limits_json(const limits *l)
{
    /* by name, as rabbitmqctl and the user's "limits" show them */
    static const int order[LIMIT_N] = {LIMIT_MAX_CHANNELS, LIMIT_MAX_CONNECTIONS, LIMIT_MAX_QUEUES};
    json_t *o = json_object();
    int i;

    for (i = 0; o && i < LIMIT_N; i++)
        if (l->v[order[i]] != LIMIT_UNSET)
            json_object_set_new(o, limit_name(order[i]), json_integer((json_int_t)l->v[order[i]]));
    return o;
}

/* A JSON value as Erlang prints the term RabbitMQ decoded it into, for
 * its "should be a number, actually was ..." */
static void erlang_term(json_t *v, char *out, size_t n)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        snprintf(out, n, "<<\"%s\">>", json_string_value(v));
        break;
    case JSON_REAL:
        snprintf(out, n, "%g", json_real_value(v));
        break;
    case JSON_TRUE:
        snprintf(out, n, "true");
        break;
    case JSON_FALSE:
        snprintf(out, n, "false");
        break;
    case JSON_NULL:
        snprintf(out, n, "null");
        break;
    case JSON_ARRAY:
        snprintf(out, n, "[...]");
        break;
    default:
        snprintf(out, n, "#{...}");
        break;
    }
}

/* A limit's value from a body's "value" (or an import's map): 0, or -1
 * with RabbitMQ's 400 (a vhost's starts "Validation failed\n\n", a user's
 * does not, as in RabbitMQ). */
static int limit_value(http_reply *r, const char *name, json_t *v, bool of_vhost, int64_t *out)
{
    char term[300];

    if (!v) {
        http_bad(r, "[{key_missing,value}]");
        return -1;
    }
    if (!json_is_integer(v) || json_integer_value(v) == (json_int_t)LIMIT_UNSET) {
        erlang_term(v, term, sizeof term);
        if (of_vhost)
            http_bad(r, "Validation failed\n\n%s should be a number, actually was %s\n", name, term);
        else
            http_bad(r, "%s should be a number, actually was %s", name, term);
        return -1;
    }
    *out = (int64_t)json_integer_value(v);
    return 0;
}

/* A limit's kind from its name, if the vhost (or the user) may have it. */
static int limit_kind(http_reply *r, const char *name, json_t *v, bool of_vhost)
{
    int k = limit_parse(name, strlen(name));
    char term[300] = "";

    if (k >= 0 && ((of_vhost ? LIMITS_OF_VHOST : LIMITS_OF_USER) & (1u << k)))
        return k;
    if (v && json_is_integer(v))
        snprintf(term, sizeof term, "%lld", (long long)json_integer_value(v));
    else if (v)
        erlang_term(v, term, sizeof term);
    if (of_vhost)
        http_bad(r, "Validation failed\n\nUnrecognised terms [{<<\"%s\">>,%s}] in limits\n", name, term);
    else
        http_bad(r, "Unrecognised terms [{<<\"%s\">>,%s}] in user-limits", name, term);
    return -1;
}

/* The lists come sorted by vhost or user name, as RabbitMQ's. */
static const char *sort_key;

static int by_name(const void *a, const void *b)
{
    return strcmp(json_string_value(json_object_get(*(json_t *const *)a, sort_key)),
                  json_string_value(json_object_get(*(json_t *const *)b, sort_key)));
}

static json_t *sorted(json_t *arr, const char *key)
{
    size_t n = json_array_size(arr), i;
    json_t **v;

    if (n < 2 || !(v = malloc(n * sizeof *v)))
        return arr;
    for (i = 0; i < n; i++)
        v[i] = json_incref(json_array_get(arr, i));
    sort_key = key;
    qsort(v, n, sizeof *v, by_name);
    json_array_clear(arr);
    for (i = 0; i < n; i++)
        json_array_append_new(arr, v[i]);
    free(v);
    return arr;
}

/* ------------------------------------------------------------- vhosts */

static json_t *vhost_item(const vhost *vh, bool with_vhost)
{
    json_t *o = json_object();
    if (with_vhost)
        json_object_set_new(o, "vhost", http_json_text(vh->name));
    json_object_set_new(o, "value", http_limits_json(&vh->limits));
    return o;
}

void http_get_vhost_limits(http_ctx *x, http_reply *r)
{
    json_t *arr = json_array();
    size_t i = 0;
    void *v;

    if (x->nparams == 1) {
        vhost *vh = broker_vhost(x->b, x->params[0].ptr, x->params[0].len);
        if (!vh || !http_sees_vhost(x, vh->name)) {
            json_decref(arr);
            http_reply_not_found(r);
            return;
        }
        if (limits_any(&vh->limits))
            json_array_append_new(arr, vhost_item(vh, true));
        http_reply_json(r, 200, arr);
        return;
    }
    while (arr && map_next(&x->b->vhosts, &i, NULL, NULL, &v))
        if (limits_any(&((vhost *)v)->limits) && http_sees_vhost(x, ((vhost *)v)->name))
            json_array_append_new(arr, vhost_item(v, true));
    http_reply_json(r, 200, sorted(arr, "vhost"));
}

static void change_vhost_limit(http_ctx *x, http_reply *r, bool set)
{
    vhost *vh;
    limits l;
    int64_t value = LIMIT_UNSET;
    int k;
    const char *why;

    if (http_need_admin(x, r) < 0)
        return;
    if (!(vh = broker_vhost(x->b, x->params[0].ptr, x->params[0].len))) {
        http_reply_error(r, 404, "not_found", "vhost_not_found");
        return;
    }
    if (set && !x->body) {
        http_reply_not_json(r);
        return;
    }
    if (!set && limit_parse(x->params[1].ptr, x->params[1].len) < 0) {
        r->status = 204; /* nothing of that name to clear */
        return;
    }
    if ((k = limit_kind(r, x->params[1].ptr, set ? json_object_get(x->body, "value") : NULL, true)) < 0)
        return;
    if (set && limit_value(r, x->params[1].ptr, json_object_get(x->body, "value"), true, &value) < 0)
        return;
    l = vh->limits;
    l.v[k] = value;
    if (broker_set_vhost_limits(x->b, vh, &l, &why) < 0) {
        http_reply_error(r, 500, "internal_error", why);
        return;
    }
    r->status = 204;
}

void http_put_vhost_limit(http_ctx *x, http_reply *r)
{
    change_vhost_limit(x, r, true);
}

void http_delete_vhost_limit(http_ctx *x, http_reply *r)
{
    change_vhost_limit(x, r, false);
}

/* -------------------------------------------------------------- users */

static json_t *user_item(const auth_user *u)
{
    return json_pack("{s:o,s:o}", "user", http_json_text(u->name), "value", http_limits_json(&u->limits));
}

void http_get_user_limits(http_ctx *x, http_reply *r)
{
    json_t *arr;
    size_t i;

    if (http_need_admin(x, r) < 0)
        return;
    arr = json_array();
    if (x->nparams == 1) {
        const auth_user *u = auth_find(&x->b->auth, x->params[0].ptr);
        if (!u) {
            json_decref(arr);
            http_reply_not_found(r);
            return;
        }
        if (limits_any(&u->limits))
            json_array_append_new(arr, user_item(u));
        http_reply_json(r, 200, arr);
        return;
    }
    for (i = 0; arr && i < x->b->auth.nusers; i++)
        if (limits_any(&x->b->auth.users[i].limits))
            json_array_append_new(arr, user_item(&x->b->auth.users[i]));
    http_reply_json(r, 200, sorted(arr, "user"));
}

static void change_user_limit(http_ctx *x, http_reply *r, bool set)
{
    const auth_user *u;
    limits l;
    int64_t value = LIMIT_UNSET;
    int k;
    const char *why;

    if (http_need_admin(x, r) < 0)
        return;
    if (set && !x->body) {
        http_reply_not_json(r);
        return;
    }
    if (set && (k = limit_kind(r, x->params[1].ptr, json_object_get(x->body, "value"), false)) < 0)
        return;
    if (set && limit_value(r, x->params[1].ptr, json_object_get(x->body, "value"), false, &value) < 0)
        return;
    if (!(u = auth_find(&x->b->auth, x->params[0].ptr))) {
        /* RabbitMQ: {"error":"bad_request","reason":["no_such_user","bob"]} */
        http_reply_json(r, 400, json_pack("{s:s,s:[s,o]}", "error", "bad_request", "reason", "no_such_user",
                                          http_json_text(x->params[0].ptr)));
        return;
    }
    if (!set && (k = limit_parse(x->params[1].ptr, x->params[1].len)) < 0) {
        r->status = 204; /* nothing of that name to clear */
        return;
    }
    l = u->limits;
    l.v[k] = value;
    if (auth_set_limits(&x->b->auth, u->name, &l, &why) < 0) {
        http_reply_error(r, 500, "internal_error", why);
        return;
    }
    r->status = 204;
}

void http_put_user_limit(http_ctx *x, http_reply *r)
{
    change_user_limit(x, r, true);
}

void http_delete_user_limit(http_ctx *x, http_reply *r)
{
    change_user_limit(x, r, false);
}

/* -------------------------------------------------------- definitions */

json_t *http_limits_parameters(http_ctx *x, const vhost *only)
{
    json_t *arr = json_array();
    size_t i = 0;
    void *v;

    while (arr && map_next(&x->b->vhosts, &i, NULL, NULL, &v)) {
        const vhost *vh = v;
        if ((only && vh != only) || !limits_any(&vh->limits))
            continue;
        json_array_append_new(arr, json_pack("{s:o,s:o,s:s,s:s}", "value", http_limits_json(&vh->limits), "vhost",
                                             http_json_text(vh->name), "component", "vhost-limits", "name", "limits"));
    }
    return sorted(arr, "vhost");
}

bool http_limits_is_parameter(json_t *item)
{
    json_t *c = json_object_get(item, "component");
    return json_is_string(c) && !strcmp(json_string_value(c), "vhost-limits");
}

/* A {"max-connections": N, ...} object into l (over what it holds). */
static int limits_object(http_reply *r, json_t *o, bool of_vhost, limits *l)
{
    const char *key;
    json_t *v;

    if (!json_is_object(o)) {
        http_bad(r, "definitions: limits must be a JSON object");
        return -1;
    }
    json_object_foreach(o, key, v) {
        int k = limit_kind(r, key, v, of_vhost);
        if (k < 0 || limit_value(r, key, v, of_vhost, &l->v[k]) < 0)
            return -1;
    }
    return 0;
}

int http_limits_import(http_ctx *x, http_reply *r, json_t *body, const char *path_vhost, bool apply)
{
    json_t *o;
    size_t i;
    const char *why;

    json_array_foreach(json_object_get(body, "parameters"), i, o) {
        json_t *vj = json_object_get(o, "vhost");
        const char *name = json_is_string(vj) ? json_string_value(vj) : path_vhost;
        limits l;
        vhost *vh;
        limits_init(&l);
        if (!name || (!path_vhost && !http_vhost_known(x, body, name))) {
            http_bad(r, "definitions: vhost-limits of vhost '%s', which neither exists nor is in the definitions",
                     name ? name : "?");
            return -1;
        }
        if (path_vhost)
            name = path_vhost;
        if (limits_object(r, json_object_get(o, "value"), true, &l) < 0)
            return -1;
        if (!apply)
            continue;
        if (!(vh = broker_vhost(x->b, name, strlen(name)))) {
            http_bad(r, "definitions: no vhost '%s'", name);
            return -1;
        }
        if (broker_set_vhost_limits(x->b, vh, &l, &why) < 0) {
            http_reply_error(r, 500, "internal_error", why);
            return -1;
        }
    }
    if (path_vhost)
        return 0;
    json_array_foreach(json_object_get(body, "users"), i, o) {
        json_t *lj = json_object_get(o, "limits"), *nj = json_object_get(o, "name");
        limits l;
        limits_init(&l);
        if (!lj || !json_is_string(nj))
            continue;
        if (limits_object(r, lj, false, &l) < 0)
            return -1;
        if (!limits_any(&l)) {
            /* "limits": {} is every export's: a change only for a user who has some */
            const auth_user *u = auth_find(&x->b->auth, json_string_value(nj));
            if (!u || !limits_any(&u->limits))
                continue;
        }
        if (apply && auth_set_limits(&x->b->auth, json_string_value(nj), &l, &why) < 0) {
            http_reply_error(r, 500, "internal_error", why);
            return -1;
        }
    }
    return 0;
}
