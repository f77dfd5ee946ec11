/* warrenctl redrive: a client of warren's redrive endpoints (the
 * broker's src/http/redrive_api.c; doc/work-queues.md).  The broker moves
 * the messages on its own loop; this polls the job twice a second and
 * prints what it did when it ends. */
#include "redrive.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"

static char *job_path(const ctl_redrive_req *req)
{
    char *v = ctl_escape(req->vhost), *q = ctl_escape(req->queue);
    char *p = ctl_fmt("/api/queues/%s/%s/redrive", v, q);
    free(v);
    free(q);
    return p;
}

static const char *str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

void ctl_redrive(const ctl_redrive_req *req)
{
    char *p = job_path(req);
    json_t *body = json_object(), *job = NULL;
    static const long ok[] = {400, 404, 405, 0};
    const char *state;
    char *text;

    if (req->to)
        json_object_set_new(body, "destination", json_string(req->to));
    if (req->count > 0)
        json_object_set_new(body, "count", json_integer(req->count));
    if (req->rate > 0)
        json_object_set_new(body, "rate", json_integer(req->rate));
    text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    ctl_banner("Redriving queue '%s' in vhost '%s' to %s%s%s ...", req->queue, req->vhost,
               req->to ? "queue '" : "the queues their x-death names", req->to ? req->to : "", req->to ? "'" : "");
    ctl_reply r = ctl_request("POST", p, text, "Content-Type: application/json");
    free(text);
    ctl_check(&r, "redrive", ok);
    if (r.status == 405) /* RabbitMQ's answer: the path is its queue route, without a POST */
        ctl_fail(EXIT_UNAVAILABLE, "this broker has no redrive endpoint (POST /api/queues/{vhost}/{name}/redrive): "
                                   "redrive needs warren");
    if (r.status == 400 || r.status == 404)
        ctl_fail(EXIT_DATAERR, "%s", ctl_reason(&r));
    ctl_reply_free(&r);
    for (;;) {
        r = ctl_request("GET", p, NULL, NULL);
        ctl_check(&r, "redrive", NULL);
        json_decref(job);
        job = ctl_json(&r, "redrive");
        ctl_reply_free(&r);
        state = str(job, "state");
        if (strcmp(state, "running") && json_integer_value(json_object_get(job, "in_flight")) == 0)
            break;
        nanosleep(&(struct timespec){0, 200 * 1000 * 1000}, NULL);
    }
    json_int_t moved = json_integer_value(json_object_get(job, "moved"));
    if (ctl.json) {
        char *s = json_dumps(job, JSON_COMPACT | JSON_PRESERVE_ORDER);
        printf("%s\n", s);
        free(s);
    } else {
        printf("Moved %" JSON_INTEGER_FORMAT " message%s from queue '%s' to %s%s%s\n", moved, moved == 1 ? "" : "s",
               req->queue, req->to ? "queue '" : "their x-death queues", req->to ? req->to : "", req->to ? "'" : "");
    }
    if (!strcmp(state, "stopped"))
        ctl_fail(EXIT_DATAERR, "redrive stopped after %" JSON_INTEGER_FORMAT " messages: %s", moved,
                 str(job, "reason"));
    if (!strcmp(state, "cancelled"))
        ctl_fail(EXIT_SOFTWARE, "redrive cancelled after %" JSON_INTEGER_FORMAT " messages", moved);
    json_decref(job);
    free(p);
}
