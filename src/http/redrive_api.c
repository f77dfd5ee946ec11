/*
 * redrive_api.c - warren's redrive endpoints (no RabbitMQ equivalent; the
 * domain's job is src/redrive.c, doc/work-queues.md the user's guide):
 *
 *   POST   /api/queues/{vhost}/{queue}/redrive  {"destination"?, "count"?, "rate"?}
 *          starts moving the queue's messages: 201 and the job
 *   GET    /api/queues/{vhost}/{queue}/redrive  the last job: state, moved
 *   DELETE /api/queues/{vhost}/{queue}/redrive  cancels a running job: 204
 *
 * The move runs on the loop after the reply (a handler must be quick);
 * a client polls the GET until the state is no longer "running".  The
 * user needs read on the source and write on each destination (checked
 * at the start for a named one, at each message for an x-death one).
 */
#include "http/redrive_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "redrive.h"
#include "vhost.h"
#include "warren.h"

/* The starter, for the job's per-message permission check. */
typedef struct starter {
    const auth_db *db;
    char user[];
} starter;

static int may_write(void *ctx, vhost *vh, amqp_str name, amqp_error *err)
{
    const starter *s = ctx;
    return auth_permitted(s->db, s->user, vh->name, AUTH_QUEUE, name, AUTH_WRITE, err);
}

static amqp_str param(http_ctx *x, int i)
{
    return (amqp_str){x->params[i].ptr, (uint32_t)x->params[i].len};
}

static vhost *path_vhost(http_ctx *x, http_reply *r)
{
    vhost *vh = broker_vhost(x->b, x->params[0].ptr, x->params[0].len);
    char why[300];

    if (!vh) {
        snprintf(why, sizeof why, "no vhost '%.*s'", (int)x->params[0].len, x->params[0].ptr);
        http_reply_error(r, 404, "not_found", why);
    }
    return vh;
}

static const char *bare_text(const amqp_error *e)
{
    const char *p = strstr(e->text, " - ");
    return p ? p + 3 : e->text;
}

static void refused(http_reply *r, const amqp_error *e)
{
    if (e->code == AMQP_ACCESS_REFUSED)
        http_reply_error(r, 401, "not_authorised", "Access refused.");
    else if (e->code == AMQP_NOT_FOUND)
        http_reply_error(r, 404, "not_found", bare_text(e));
    else if (e->code == AMQP_INTERNAL_ERROR)
        http_reply_error(r, 500, "internal_error", bare_text(e));
    else
        http_reply_error(r, 400, "bad_request", bare_text(e));
}

static json_t *status_json(const redrive_status *s)
{
    static const char *const states[] = {"running", "done", "stopped", "cancelled"};
    return json_pack("{s:o,s:o,s:s,s:I,s:o,s:I,s:I,s:I,s:o,s:o}", "source", http_json_text(s->source),
                     "destination", s->destination ? http_json_text(s->destination) : json_null(), "state", states[s->state], "count", (json_int_t)s->count, "rate",
                     s->rate ? json_integer(s->rate) : json_null(), "moved", (json_int_t)s->moved, "in_flight",
                     (json_int_t)s->in_flight, "started", (json_int_t)s->started, "ended",
                     s->ended ? json_integer(s->ended) : json_null(), "reason", http_json_text(s->reason));
}

/* A member that must be a positive integer when present. */
static int positive(http_reply *r, json_t *body, const char *key, int64_t max, int64_t *out)
{
    json_t *v = body ? json_object_get(body, key) : NULL;

    if (!v || json_is_null(v))
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > max) {
        char why[120];
        snprintf(why, sizeof why, "%s must be an integer from 1 to %lld", key, (long long)max);
        http_reply_error(r, 400, "bad_request", why);
        return -1;
    }
    *out = json_integer_value(v);
    return 0;
}

void http_post_redrive(http_ctx *x, http_reply *r)
{
    vhost *vh = path_vhost(x, r);
    json_t *dv = x->body ? json_object_get(x->body, "destination") : NULL;
    redrive_spec spec = {.count = -1, .may_write = may_write};
    int64_t count = -1, rate = 0;
    redrive_status st;
    amqp_error err;
    size_t ulen;
    starter *s;

    if (!vh)
        return;
    if (x->body && !json_is_object(x->body)) {
        http_reply_error(r, 400, "bad_request", "the body must be a JSON object");
        return;
    }
    if (dv && !json_is_null(dv)) {
        if (!json_is_string(dv) || !json_string_length(dv) || json_string_length(dv) > 255) {
            http_reply_error(r, 400, "bad_request", "destination must be a queue name (a string of 1 to 255 bytes)");
            return;
        }
        spec.destination = (amqp_str){json_string_value(dv), (uint32_t)json_string_length(dv)};
    }
    if (positive(r, x->body, "count", INT64_MAX, &count) < 0 || positive(r, x->body, "rate", 1000000, &rate) < 0)
        return;
    spec.count = count;
    spec.rate = (uint32_t)rate;
    if (auth_permitted(&x->b->auth, x->user, vh->name, AUTH_QUEUE, param(x, 1), AUTH_READ, &err) < 0 ||
        (spec.destination.len &&
         auth_permitted(&x->b->auth, x->user, vh->name, AUTH_QUEUE, spec.destination, AUTH_WRITE, &err) < 0)) {
        refused(r, &err);
        return;
    }
    ulen = strlen(x->user);
    if (!(s = malloc(sizeof *s + ulen + 1))) {
        http_reply_error(r, 500, "internal_error", "out of memory");
        return;
    }
    s->db = &x->b->auth;
    memcpy(s->user, x->user, ulen + 1);
    spec.ctx = s;
    if (redrive_start(vh, param(x, 1), &spec, &err) < 0) {
        refused(r, &err);
        return;
    }
    redrive_get(vh, param(x, 1), &st);
    http_reply_json(r, 201, status_json(&st));
}

void http_get_redrive(http_ctx *x, http_reply *r)
{
    vhost *vh = path_vhost(x, r);
    redrive_status st;
    amqp_error err;

    if (!vh)
        return;
    if (auth_permitted(&x->b->auth, x->user, vh->name, AUTH_QUEUE, param(x, 1), AUTH_READ, &err) < 0) {
        refused(r, &err);
        return;
    }
    if (!redrive_get(vh, param(x, 1), &st)) {
        http_reply_not_found(r);
        return;
    }
    http_reply_json(r, 200, status_json(&st));
}

void http_delete_redrive(http_ctx *x, http_reply *r)
{
    vhost *vh = path_vhost(x, r);
    amqp_error err;

    if (!vh)
        return;
    if (auth_permitted(&x->b->auth, x->user, vh->name, AUTH_QUEUE, param(x, 1), AUTH_READ, &err) < 0) {
        refused(r, &err);
        return;
    }
    if (!redrive_cancel(vh, param(x, 1))) {
        http_reply_not_found(r);
        return;
    }
    r->status = 204;
}
