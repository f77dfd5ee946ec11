/*
 * domain.c - the HTTP API's endpoints that change or fetch things
 * through the domain API (vhost.h) and publish.c, in RabbitMQ 3.10's
 * words: paths, bodies, statuses and error bodies as the reference
 * node's management answers them (doc/management.md lists where warren
 * differs).
 *
 * A domain refusal (an amqp_error) becomes what RabbitMQ's management
 * makes of the same AMQP error: 403 ACCESS_REFUSED is 401 "Access
 * refused.", a missing object 404, a precondition (an inequivalent
 * redeclare, "in use", "not empty") 400 with the text after "CODE - ",
 * and a failure to record on disk 500.  HTTP has no connection, so it
 * owns no exclusive queue (owner NULL): another's exclusive queue is
 * refused as RESOURCE_LOCKED.
 */
#include "http/domain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/body.h"
#include "http/limits.h"
#include "http/users.h"
#include "store/store.h"
#include "vhost.h"
#include "warren.h"

/* ------------------------------------------------------------ helpers */

static vhost *path_vhost(http_ctx *x)
{
    return broker_vhost(x->b, x->params[0].ptr, x->params[0].len);
}

static amqp_str param(http_ctx *x, int i)
{
    return (amqp_str){x->params[i].ptr, (uint32_t)x->params[i].len};
}

/* An exchange named in a path: "amq.default" is the default exchange. */
static amqp_str exchange_param(http_ctx *x, int i)
{
    amqp_str s = param(x, i);
    return amqp_str_eqc(s, "amq.default") ? (amqp_str){"", 0} : s;
}

static bool query_true(http_ctx *x, const char *key)
{
    const http_str *v = http_query(x->t, key);
    return v && !strcmp(v->ptr, "true");
}

/* The text of an amqp_error without its "CODE_NAME - " prefix. */
static const char *bare_text(const amqp_error *e)
{
    const char *p = strstr(e->text, " - ");
    return p ? p + 3 : e->text;
}

/* What RabbitMQ's management answers for an AMQP error of a declare,
 * delete or bind. */
static void domain_error(http_reply *r, const amqp_error *e)
{
    switch (e->code) {
    case AMQP_ACCESS_REFUSED:
        http_reply_error(r, 401, "not_authorised", "Access refused.");
        break;
    case AMQP_NOT_FOUND:
        http_reply_not_found(r);
        break;
    case AMQP_INTERNAL_ERROR:
        http_reply_error(r, 500, "internal_error", bare_text(e));
        break;
    default:
        http_reply_error(r, 400, "bad_request", bare_text(e));
        break;
    }
}

/* A publish (or get) refusal: RabbitMQ's "406 PRECONDITION_FAILED - ..." */
static void publish_error(http_reply *r, const amqp_error *e)
{
    char reason[300];
    snprintf(reason, sizeof reason, "%u %s", e->code, e->text);
    http_reply_error(r, e->code == AMQP_INTERNAL_ERROR ? 500 : 400,
                     e->code == AMQP_INTERNAL_ERROR ? "internal_error" : "bad_request", reason);
}

/* How RabbitMQ refuses a path's vhost that does not exist, by endpoint. */
enum { NO_VHOST_404, NO_VHOST_NOT_FOUND, NO_VHOST_401 };

/* The vhost of the path, or the refusal: "Object Not Found" (deletes),
 * {"not_found","vhost_not_found"} (a PUT of a queue or an exchange, a
 * binding POST), or 401 "Access refused." (a publish or a get: the
 * permission check comes first there). */
static vhost *need_vhost(http_ctx *x, http_reply *r, int how)
{
    vhost *vh = path_vhost(x);
    if (!vh) {
        if (how == NO_VHOST_NOT_FOUND)
            http_reply_error(r, 404, "not_found", "vhost_not_found");
        else if (how == NO_VHOST_401)
            http_reply_error(r, 401, "not_authorised", "Access refused.");
        else
            http_reply_not_found(r);
    }
    return vh;
}

/* May the logged-in user do perm to the queue or exchange named, in vh
 * (auth.h, as an AMQP client of it)?  0, or -1 with RabbitMQ's 401
 * "Access refused." in *r. */
static int permitted(http_ctx *x, http_reply *r, vhost *vh, enum auth_kind kind, amqp_str name, enum auth_perm perm)
{
    amqp_error err;

    if (auth_permitted(&x->b->auth, x->user, vh->name, kind, name, perm, &err) == 0)
        return 0;
    domain_error(r, &err);
    return -1;
}

/* ------------------------------------------------------------- queues */

void http_put_queue(http_ctx *x, http_reply *r)
{
    vhost *vh = need_vhost(x, r, NO_VHOST_NOT_FOUND);
    amqp_tbuf args = {0};
    amqp_error err;
    queue_spec s;
    bool existed;

    if (!vh || http_body_queue(r, x->body, param(x, 1), &s, &args) < 0 ||
        permitted(x, r, vh, AUTH_QUEUE, s.name, AUTH_CONFIGURE) < 0)
        goto out;
    existed = vhost_queue(vh, s.name) != NULL;
    if (vhost_declare_queue(vh, &s, NULL, false, NULL, &err) < 0)
        domain_error(r, &err);
    else
        r->status = existed ? 204 : 201;
out:
    amqp_tbuf_free(&args);
}

void http_delete_queue(http_ctx *x, http_reply *r)
{
    vhost *vh = need_vhost(x, r, NO_VHOST_404);
    amqp_error err;
    uint32_t n;

    if (!vh || permitted(x, r, vh, AUTH_QUEUE, param(x, 1), AUTH_CONFIGURE) < 0)
        return;
    if (!vhost_queue(vh, param(x, 1))) {
        http_reply_not_found(r);
        return;
    }
    if (vhost_delete_queue(vh, param(x, 1), NULL, query_true(x, "if-unused"), query_true(x, "if-empty"), &n,
                           &err) < 0)
        domain_error(r, &err);
    else
        r->status = 204;
}

void http_purge_queue(http_ctx *x, http_reply *r)
{
    vhost *vh = need_vhost(x, r, NO_VHOST_404);
    amqp_error err;
    uint32_t n;

    if (!vh || permitted(x, r, vh, AUTH_QUEUE, param(x, 1), AUTH_READ) < 0)
        return;
    if (!vhost_queue(vh, param(x, 1))) {
        http_reply_not_found(r);
        return;
    }
    if (vhost_purge_queue(vh, param(x, 1), NULL, &n, &err) < 0)
        domain_error(r, &err);
    else
        r->status = 204;
}

/* One got message as RabbitMQ's get reply has it. */
static json_t *got_json(const vhost_got *g, const http_get_req *req)
{
    const msg *m = g->m;
    json_t *o = json_pack("{s:I,s:b,s:o,s:o,s:I,s:o}", "payload_bytes", (json_int_t)m->body_len, "redelivered",
                          (g->e.flags & QE_REDELIVERED) != 0, "exchange", http_json_textn(msg_exchange(m), m->exlen),
                          "routing_key", http_json_textn(msg_rk(m), m->rklen), "message_count", (json_int_t)g->left,
                          "properties", http_props_json(msg_props(m), m->props_len));

    if (o && http_payload_json(o, msg_cbody(m), m->body_len, req->base64, req->truncate) < 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* RabbitMQ's get: basic.get count times on a channel of its own (no_ack
 * for ack_requeue_false), then the messages rejected (reject_*) or let
 * go with the channel (ack_requeue_true: requeued).  So a get of N takes
 * N distinct messages, and the requeued ones go back in their places,
 * redelivered. */
void http_get_messages(http_ctx *x, http_reply *r)
{
    vhost *vh = need_vhost(x, r, NO_VHOST_401);
    http_get_req req;
    vhost_got *held = NULL;
    json_t *list = NULL;
    amqp_error err;
    long n = 0, cap = 0, i;
    bool again = false;

    if (!vh || permitted(x, r, vh, AUTH_QUEUE, param(x, 1), AUTH_READ) < 0 || http_body_get(r, x->body, &req) < 0)
        return;
    list = json_array();
    while (n < req.count) {
        vhost_got *g;
        int rc;
        if (n == cap) {
            /* grown as messages come: a count of 100,000 on an empty
             * queue costs nothing */
            vhost_got *more = realloc(held, (cap ? 2 * cap : 16) * sizeof *held);
            if (!more) {
                http_reply_error(r, 500, "internal_error", "out of memory");
                break;
            }
            held = more;
            cap = cap ? 2 * cap : 16;
        }
        g = &held[n];
        rc = vhost_get(vh, param(x, 1), NULL, g, &err);
        if (rc < 0) {
            /* as RabbitMQ: "NOT_FOUND - ..." (404), "405 RESOURCE_LOCKED - ..." (400) */
            if (err.code == AMQP_NOT_FOUND)
                http_reply_error(r, 404, "not_found", err.text);
            else
                publish_error(r, &err);
            break;
        }
        if (rc == VHOST_GET_EMPTY)
            break;
        g->q->refs++;
        if (rc == VHOST_GET_AGAIN) {
            queue_unget(g->q, &g->e);
            queue_unref(g->q);
            again = true;
            break;
        }
        n++;
        g->m = queue_delivered_msg(g->q, &g->e, g->m); /* x-delivery-count, as AMQP's get */
        if (list && json_array_append_new(list, got_json(g, &req)) < 0) {
            json_decref(list);
            list = NULL;
        }
        msg_unref(g->m);
        g->m = NULL;
    }
    for (i = 0; i < n; i++) {
        vhost_got *g = &held[i];
        switch (req.ackmode) {
        case ACK_REQUEUE_FALSE:
            queue_settle(g->q, &g->e);
            break;
        case REJECT_REQUEUE_FALSE:
            queue_reject(g->q, &g->e);
            break;
        default:
            if ((g->e.flags & QE_STORED) && x->b->st)
                store_delivered(x->b->st, g->q->id, g->e.seg, g->e.off, g->e.returns);
            queue_requeue(g->q, &g->e);
            break;
        }
        queue_unref(g->q);
    }
    free(held);
    if (r->status) {
        json_decref(list);
        return;
    }
    if (again && n == 0) {
        json_decref(list);
        http_reply_error(r, 500, "internal_error", "cannot read a message from the store; it stays queued");
        return;
    }
    http_reply_json(r, 200, list);
}

/* ---------------------------------------------------------- exchanges */

void http_put_exchange(http_ctx *x, http_reply *r)
{
    vhost *vh = need_vhost(x, r, NO_VHOST_NOT_FOUND);
    amqp_tbuf args = {0};
    amqp_error err;
    exchange_spec s;
    bool existed;

    if (!vh || http_body_exchange(r, x->body, exchange_param(x, 1), &s, &args) < 0 ||
        permitted(x, r, vh, AUTH_EXCHANGE, s.name, AUTH_CONFIGURE) < 0)
        goto out;
    existed = vhost_exchange(vh, s.name) != NULL;
    if (vhost_declare_exchange(vh, &s, false, &err) < 0)
        domain_error(r, &err);
    else
        r->status = existed ? 204 : 201;
out:
    amqp_tbuf_free(&args);
}

void http_delete_exchange(http_ctx *x, http_reply *r)
{
    vhost *vh = need_vhost(x, r, NO_VHOST_404);
    amqp_str name = exchange_param(x, 1);
    amqp_error err;

    if (!vh || permitted(x, r, vh, AUTH_EXCHANGE, name, AUTH_CONFIGURE) < 0)
        return;
    /* the default and the amq. exchanges: refused before the lookup */
    if (name.len && !vhost_exchange(vh, name) && !(name.len >= 4 && !memcmp(name.ptr, "amq.", 4))) {
        http_reply_not_found(r);
        return;
    }
    if (vhost_delete_exchange(vh, name, query_true(x, "if-unused"), &err) < 0)
        domain_error(r, &err);
    else
        r->status = 204;
}

void http_publish_message(http_ctx *x, http_reply *r)
{
    vhost *vh = need_vhost(x, r, NO_VHOST_401);
    amqp_str xname = exchange_param(x, 1);
    http_publish_req p;
    amqp_error err;
    deliver_result res;
    route_set rs;
    exchange *ex;
    const char *why = NULL;
    msg *m;
    int rc;

    if (!vh || permitted(x, r, vh, AUTH_EXCHANGE, xname, AUTH_WRITE) < 0 || http_body_publish(r, x->body, &p) < 0)
        return;
    /* what basic.publish and its content header check, in that order */
    if (!(ex = vhost_exchange(vh, xname))) {
        amqp_fail(&err, AMQP_NOT_FOUND, "no exchange '%.*s' in vhost '%s'", (int)xname.len, xname.ptr, vh->name);
        goto refused;
    }
    if (ex->internal) {
        amqp_fail(&err, AMQP_ACCESS_REFUSED, "cannot publish to internal exchange '%.*s' in vhost '%s'",
                  (int)xname.len, xname.ptr, vh->name);
        goto refused;
    }
    if (p.has_user_id && !amqp_str_eqc(p.user_id, x->user)) {
        amqp_fail(&err, AMQP_PRECONDITION_FAILED, "user_id property set to '%.*s' but authenticated user was '%s'",
                  (int)p.user_id.len, p.user_id.ptr, x->user);
        goto refused;
    }
    if (p.payload_len > x->b->cfg.max_message_size) {
        amqp_fail(&err, AMQP_PRECONDITION_FAILED, "message size %zu is larger than configured max size %llu",
                  p.payload_len, (unsigned long long)x->b->cfg.max_message_size);
        goto refused;
    }
    if (!(m = msg_new(xname, p.routing_key, p.props, p.props_len, (uint32_t)p.payload_len))) {
        http_reply_error(r, 500, "internal_error", "out of memory");
        goto out;
    }
    memcpy(msg_body(m), p.payload, p.payload_len);
    m->body_have = m->body_len;
    if (msg_parse_props(m, &why) < 0) {
        amqp_basic_properties props;
        amqp_basic_properties_decode(p.props, p.props_len, &props);
        amqp_fail(&err, AMQP_PRECONDITION_FAILED, "invalid expiration '%.*s': %s", (int)props.expiration.len,
                  props.expiration.ptr, why);
        msg_unref(m);
        goto refused;
    }
    m->published = vhost_now_ms(vh);
    vhost_route(vh, m, true, &rs);
    if (m->exlen == 0)
        reply_to_route(vh, m); /* amq.rabbitmq.reply-to.*: to its channel, as basic.publish */
    rc = vhost_publish_routed(vh, m, &rs, &res);
    route_set_done(&rs);
    msg_unref(m);
    if (rc < 0)
        http_reply_error(r, 500, "internal_error",
                         "cannot store a persistent message (disk full or failing); see the broker log");
    else
        http_reply_json(r, 200, json_pack("{s:b}", "routed", res.routed > 0));
    goto out;
refused:
    publish_error(r, &err);
out:
    http_publish_req_free(&p);
}

/* ----------------------------------------------------------- bindings */

/* "dest/props", each percent-encoded again (RabbitMQ's Location). */
static char *binding_location(amqp_str dest, const char *props, size_t plen)
{
    static const char hex[] = "0123456789ABCDEF";
    char *out = malloc(3 * (dest.len + plen) + 2), *w = out;
    const char *parts[2] = {dest.ptr, props};
    size_t lens[2] = {dest.len, plen}, i, k;

    if (!out)
        return NULL;
    for (k = 0; k < 2; k++) {
        if (k)
            *w++ = '/';
        for (i = 0; i < lens[k]; i++) {
            unsigned char c = (unsigned char)parts[k][i];
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                c == '_' || c == '.' || c == '~') {
                *w++ = (char)c;
            } else {
                *w++ = '%';
                *w++ = hex[c >> 4];
                *w++ = hex[c & 15];
            }
        }
    }
    *w = 0;
    return out;
}

static void post_binding(http_ctx *x, http_reply *r, bool to_queue)
{
    vhost *vh = need_vhost(x, r, NO_VHOST_NOT_FOUND);
    binding_spec s = {.source = exchange_param(x, 1), .to_queue = to_queue};
    amqp_tbuf args = {0};
    char props[HTTP_PROPS_KEY_MAX];
    amqp_error err;
    size_t plen;

    s.destination = to_queue ? param(x, 2) : exchange_param(x, 2);
    if (!vh || http_body_binding(r, x->body, &s, &args) < 0 ||
        permitted(x, r, vh, to_queue ? AUTH_QUEUE : AUTH_EXCHANGE, s.destination, AUTH_WRITE) < 0 ||
        permitted(x, r, vh, AUTH_EXCHANGE, s.source, AUTH_READ) < 0)
        goto out;
    if (vhost_bind(vh, true, &s, NULL, &err) < 0) {
        /* a missing end: RabbitMQ names it */
        if (err.code == AMQP_NOT_FOUND)
            http_reply_error(r, 404, "not_found", bare_text(&err));
        else
            domain_error(r, &err);
        goto out;
    }
    plen = http_props_key(s.key, s.arguments, props);
    r->status = 201;
    r->location = binding_location(param(x, 2), props, plen);
out:
    amqp_tbuf_free(&args);
}

void http_post_binding_queue(http_ctx *x, http_reply *r)
{
    post_binding(x, r, true);
}

void http_post_binding_exchange(http_ctx *x, http_reply *r)
{
    post_binding(x, r, false);
}

static void delete_binding(http_ctx *x, http_reply *r, bool to_queue)
{
    vhost *vh = need_vhost(x, r, NO_VHOST_404);
    exchange *src = vh ? vhost_exchange(vh, exchange_param(x, 1)) : NULL;
    queue *q = NULL;
    exchange *dst = NULL;
    char props[HTTP_PROPS_KEY_MAX];
    binding *b;
    amqp_error err;

    if (!vh ||
        permitted(x, r, vh, to_queue ? AUTH_QUEUE : AUTH_EXCHANGE, to_queue ? param(x, 2) : exchange_param(x, 2),
                  AUTH_WRITE) < 0 ||
        permitted(x, r, vh, AUTH_EXCHANGE, exchange_param(x, 1), AUTH_READ) < 0)
        return;
    if (to_queue)
        q = vhost_queue(vh, param(x, 2));
    else
        dst = vhost_exchange(vh, exchange_param(x, 2));
    if (!src || (!q && !dst)) {
        http_reply_not_found(r);
        return;
    }
    for (b = src->bindings; b; b = b->src_next) {
        if (b->q != q || b->dst != dst)
            continue;
        http_props_key((amqp_str){b->key, b->keylen}, (amqp_table){b->args, b->argslen}, props);
        if (strlen(props) == x->params[3].len && !memcmp(props, x->params[3].ptr, x->params[3].len))
            break;
    }
    if (!b) {
        http_reply_not_found(r);
        return;
    }
    {
        binding_spec s = {
            .source = exchange_param(x, 1),
            .destination = to_queue ? param(x, 2) : exchange_param(x, 2),
            .to_queue = to_queue,
            .key = {b->key, b->keylen},
            .arguments = {b->args, b->argslen},
        };
        if (vhost_bind(vh, false, &s, NULL, &err) < 0)
            domain_error(r, &err);
        else
            r->status = 204;
    }
}

void http_delete_binding_queue(http_ctx *x, http_reply *r)
{
    delete_binding(x, r, true);
}

void http_delete_binding_exchange(http_ctx *x, http_reply *r)
{
    delete_binding(x, r, false);
}

/* ---------------------------------------------------------- aliveness */

/* RabbitMQ's aliveness test: declare the queue "aliveness-test", publish
 * "test_message" to it through the default exchange, get it back. */
void http_get_aliveness(http_ctx *x, http_reply *r)
{
    static const char body[] = "test_message";
    vhost *vh = need_vhost(x, r, NO_VHOST_404);
    queue_spec s = {.name = amqp_cstr("aliveness-test")};
    amqp_error err;
    deliver_result res;
    route_set rs;
    vhost_got g;
    msg *m;
    bool ok = false;
    int rc;

    if (!vh)
        return;
    if (vhost_declare_queue(vh, &s, NULL, false, NULL, &err) < 0) {
        http_reply_json(r, 503, json_pack("{s:s,s:o}", "status", "failed", "reason", http_json_text(err.text)));
        return;
    }
    if (!(m = msg_new(amqp_cstr(""), s.name, (const uint8_t *)"\0\0", 2, sizeof body - 1))) {
        http_reply_error(r, 500, "internal_error", "out of memory");
        return;
    }
    memcpy(msg_body(m), body, sizeof body - 1);
    m->body_have = m->body_len;
    m->published = vhost_now_ms(vh);
    vhost_route(vh, m, false, &rs);
    rc = vhost_publish_routed(vh, m, &rs, &res);
    route_set_done(&rs);
    msg_unref(m);
    /* the queue may hold older messages (a consumer of it, or a test
     * that failed half-way): take until ours comes, or the queue is empty */
    while (rc >= 0 && (rc = vhost_get(vh, s.name, NULL, &g, &err)) == VHOST_GET_OK) {
        ok = g.m->body_len == sizeof body - 1 && !memcmp(msg_cbody(g.m), body, sizeof body - 1);
        msg_unref(g.m);
        queue_settle(g.q, &g.e);
        if (ok)
            break;
    }
    if (rc == VHOST_GET_AGAIN)
        queue_unget(g.q, &g.e);
    if (ok)
        http_reply_json(r, 200, json_pack("{s:s}", "status", "ok"));
    else
        http_reply_json(r, 503, json_pack("{s:s,s:s}", "status", "failed", "reason",
                                          "the test message did not come back"));
}

/* -------------------------------------------------------- definitions */

static json_t *args_json(const uint8_t *p, uint32_t len)
{
    return http_table_json((amqp_table){p, len});
}

/* RabbitMQ's definitions: the whole broker's, or (per_vhost, GET
 * /api/definitions/{vhost}) one vhost's, whose items have no "vhost". */
static void vhost_items(vhost *vh, bool per_vhost, json_t *queues, json_t *exchanges, json_t *bindings)
{
    json_t *item;
    size_t i = 0;
    void *v;

    while (queues && map_next(&vh->queues, &i, NULL, NULL, &v)) {
        queue *q = v;
        if (q->exclusive)
            continue;
        item = json_pack("{s:o,s:o,s:b,s:b,s:o}", "name", http_json_text(q->name), "vhost", http_json_text(vh->name),
                         "durable", q->durable,
                         "auto_delete", q->auto_delete, "arguments", args_json(q->args, q->argslen));
        if (per_vhost)
            json_object_del(item, "vhost");
        json_array_append_new(queues, item);
    }
    i = 0;
    while (exchanges && map_next(&vh->exchanges, &i, NULL, NULL, &v)) {
        exchange *ex = v;
        if (ex->namelen == 0 || (ex->namelen >= 4 && !memcmp(ex->name, "amq.", 4)))
            continue;
        item = json_pack("{s:o,s:o,s:s,s:b,s:b,s:b,s:o}", "name", http_json_text(ex->name), "vhost",
                         http_json_text(vh->name), "type",
                         ex->type->name, "durable", ex->durable, "auto_delete", ex->auto_delete, "internal",
                         ex->internal, "arguments", args_json(ex->args, ex->argslen));
        if (per_vhost)
            json_object_del(item, "vhost");
        json_array_append_new(exchanges, item);
    }
    /* bindings from every exchange but the default (whose bindings are
     * implicit), as RabbitMQ exports them; exclusive queues' are left out
     * with their queues */
    i = 0;
    while (bindings && map_next(&vh->exchanges, &i, NULL, NULL, &v)) {
        exchange *ex = v;
        binding *b;
        if (ex->namelen == 0)
            continue;
        for (b = ex->bindings; b; b = b->src_next) {
            if (b->q && b->q->exclusive)
                continue;
            item = json_pack("{s:o,s:o,s:o,s:s,s:o,s:o}", "source", http_json_text(ex->name), "vhost",
                             http_json_text(vh->name), "destination", http_json_text(b->q ? b->q->name : b->dst->name),
                             "destination_type", b->q ? "queue" : "exchange", "routing_key",
                             http_json_textn(b->key, b->keylen), "arguments",
                             args_json(b->args, b->argslen));
            if (per_vhost)
                json_object_del(item, "vhost");
            json_array_append_new(bindings, item);
        }
    }
}

static json_t *definitions_json(http_ctx *x, vhost *vh, bool per_vhost)
{
    json_t *queues = json_array(), *exchanges = json_array(), *bindings = json_array(), *o;
    size_t i = 0;
    void *v;

    if (per_vhost) {
        vhost_items(vh, true, queues, exchanges, bindings);
        return json_pack("{s:s,s:o,s:[],s:o,s:o,s:o}", "rabbit_version", RABBITMQ_COMPAT_VERSION, "parameters",
                         http_limits_parameters(x, vh), "policies", "queues", queues, "exchanges", exchanges,
                         "bindings", bindings);
    }
    vhost_items(x->b->vh, false, queues, exchanges, bindings);
    while (map_next(&x->b->vhosts, &i, NULL, NULL, &v))
        if (v != x->b->vh)
            vhost_items(v, false, queues, exchanges, bindings);
    {
        json_t *perms, *users = http_users_export(x, &perms);
        o = json_pack("{s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:[],s:o,s:[],s:[],s:o,s:o,s:o}", "rabbit_version",
                      RABBITMQ_COMPAT_VERSION, "rabbitmq_version", RABBITMQ_COMPAT_VERSION, "product_name", "warren",
                      "product_version", WARREN_VERSION, "users", users, "vhosts", http_vhosts_export(x), "permissions",
                      perms, "topic_permissions", "parameters", http_limits_parameters(x, NULL), "global_parameters",
                      "policies", "queues", queues, "exchanges", exchanges, "bindings", bindings);
    }
    return o;
}

void http_get_definitions(http_ctx *x, http_reply *r)
{
    if (http_need_admin(x, r) < 0)
        return;
    http_reply_json(r, 200, definitions_json(x, x->b->vh, false));
}

void http_get_vhost_definitions(http_ctx *x, http_reply *r)
{
    vhost *vh = path_vhost(x);

    if (http_need_admin(x, r) < 0)
        return;
    if (!vh)
        http_bad(r, "vhost_not_found");
    else
        http_reply_json(r, 200, definitions_json(x, vh, true));
}

/* --- import */

typedef struct defs_item {
    json_t *o;
    const char *vhost;          /* its "vhost" (NULL: the path's, per-vhost import) */
    amqp_tbuf args;
    union {
        queue_spec q;
        exchange_spec x;
        binding_spec b;
    } s;
} defs_item;

typedef struct defs {
    defs_item *items;
    size_t nq, nx, nb;
} defs;

/* An array section (absent: empty); -1 with a 400 when not an array. */
static json_t *section(http_reply *r, json_t *body, const char *key)
{
    static json_t *none;
    json_t *v = json_object_get(body, key);

    if (!v) {
        if (!none)
            none = json_array();
        return none;
    }
    if (!json_is_array(v)) {
        http_bad(r, "definitions: %s must be a list", key);
        return NULL;
    }
    return v;
}

/* A name field of an item: a string of 1..255 bytes without NUL. */
static int item_name(http_reply *r, json_t *o, const char *what, const char *key, bool may_be_empty, amqp_str *out)
{
    json_t *v = json_object_get(o, key);

    if (!json_is_string(v) || (!may_be_empty && json_string_length(v) == 0) || json_string_length(v) > 255 ||
        strlen(json_string_value(v)) != json_string_length(v)) {
        http_bad(r, "definitions: a %s without a valid '%s' (a string of up to 255 bytes)", what, key);
        return -1;
    }
    *out = (amqp_str){json_string_value(v), (uint32_t)json_string_length(v)};
    return 0;
}

/* What warren cannot take: said, never dropped. */
static int check_unsupported(http_ctx *x, http_reply *r, json_t *body)
{
    static const char *sections[] = {"policies", "parameters", "topic_permissions"};
    char names[400] = "";
    json_t *v, *item;
    size_t i, k;

    for (k = 0; k < sizeof sections / sizeof *sections; k++) {
        size_t other = 0;
        if (!(v = section(r, body, sections[k])))
            return -1;
        /* of the runtime parameters, the vhost limits are taken (http/limits.c) */
        json_array_foreach(v, i, item)
            other += !(k == 1 && http_limits_is_parameter(item));
        if (other)
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", names[0] ? ", " : "", sections[k]);
    }
    if (!(v = section(r, body, "global_parameters")))
        return -1;
    json_array_foreach(v, i, item) {
        /* RabbitMQ's cluster id is in every export of it: meaningless here */
        if (!json_is_object(item) || !json_is_string(json_object_get(item, "name")) ||
            strcmp(json_string_value(json_object_get(item, "name")), "internal_cluster_id")) {
            snprintf(names + strlen(names), sizeof names - strlen(names), "%sglobal_parameters",
                     names[0] ? ", " : "");
            break;
        }
    }
    if (names[0]) {
        http_bad(r, "warren does not support %s: nothing was imported", names);
        return -1;
    }
    if (http_vhosts_import(x, r, body, false) < 0)
        return -1;
    return http_users_import(x, r, body, false);
}

/* The limits of an import (checked, then set): a per-vhost import's are
 * its path vhost's. */
static int import_limits(http_ctx *x, http_reply *r, vhost *path_vh, bool per_vhost, bool apply)
{
    return http_limits_import(x, r, x->body, per_vhost && path_vh ? path_vh->name : NULL, apply);
}

/* An item's vhost: one that exists or that the file makes (a per-vhost
 * import puts everything in the path's vhost, as RabbitMQ). */
static int item_vhost(http_ctx *x, http_reply *r, json_t *o, const char *what, bool per_vhost, defs_item *it)
{
    json_t *v = json_object_get(o, "vhost");
    if (per_vhost)
        return 0;
    if (!json_is_string(v) || !http_vhost_known(x, x->body, json_string_value(v))) {
        http_bad(r, "definitions: a %s in vhost '%s', which neither exists nor is in the definitions", what,
                 json_is_string(v) ? json_string_value(v) : "?");
        return -1;
    }
    it->vhost = json_string_value(v);
    return 0;
}

/* Decode every queue, exchange and binding first: a bad one refuses the
 * whole import before anything changes. */
static int not_object(http_reply *r, json_t *o, const char *what)
{
    if (json_is_object(o))
        return 0;
    http_bad(r, "definitions: each of %s must be a JSON object", what);
    return -1;
}

static int defs_parse(http_ctx *x, http_reply *r, json_t *body, bool per_vhost, defs *d)
{
    json_t *qs = section(r, body, "queues"), *xs, *bs, *o;
    size_t i, k = 0;

    xs = qs ? section(r, body, "exchanges") : NULL;
    bs = xs ? section(r, body, "bindings") : NULL;
    if (!bs)
        return -1;
    d->nq = json_array_size(qs), d->nx = json_array_size(xs), d->nb = json_array_size(bs);
    if (!(d->items = calloc(d->nq + d->nx + d->nb + 1, sizeof *d->items))) {
        http_reply_error(r, 500, "internal_error", "out of memory");
        return -1;
    }
    json_array_foreach(qs, i, o) {
        defs_item *it = &d->items[k++];
        amqp_str name;
        if (not_object(r, o, "queues") < 0 || item_name(r, o, "queue", "name", false, &name) < 0 ||
            item_vhost(x, r, o, "queue", per_vhost, it) < 0 || http_body_queue(r, o, name, &it->s.q, &it->args) < 0)
            return -1;
    }
    json_array_foreach(xs, i, o) {
        defs_item *it = &d->items[k++];
        amqp_str name;
        if (not_object(r, o, "exchanges") < 0 || item_name(r, o, "exchange", "name", false, &name) < 0 ||
            item_vhost(x, r, o, "exchange", per_vhost, it) < 0 || http_body_exchange(r, o, name, &it->s.x, &it->args) < 0)
            return -1;
    }
    json_array_foreach(bs, i, o) {
        defs_item *it = &d->items[k++];
        json_t *t = json_object_get(o, "destination_type");
        if (not_object(r, o, "bindings") < 0 || item_name(r, o, "binding", "source", true, &it->s.b.source) < 0 ||
            item_name(r, o, "binding", "destination", false, &it->s.b.destination) < 0 ||
            item_vhost(x, r, o, "binding", per_vhost, it) < 0)
            return -1;
        if (!json_is_string(t) || (strcmp(json_string_value(t), "queue") && strcmp(json_string_value(t), "exchange"))) {
            http_bad(r, "definitions: a binding's destination_type must be \"queue\" or \"exchange\"");
            return -1;
        }
        it->s.b.to_queue = !strcmp(json_string_value(t), "queue");
        if (http_body_binding(r, o, &it->s.b, &it->args) < 0)
            return -1;
    }
    return 0;
}

static void defs_free(defs *d)
{
    size_t i;
    for (i = 0; d->items && i < d->nq + d->nx + d->nb; i++)
        amqp_tbuf_free(&d->items[i].args);
    free(d->items);
}

/* Applied in RabbitMQ's order: queues, exchanges, bindings, each as a
 * client declares it.  One the domain refuses (an inequivalent queue, a
 * binding to a missing exchange) does not stop the rest; RabbitMQ logs
 * and skips it with a 204, warren names every one in a 400 after
 * importing the others. */
static void import_definitions(http_ctx *x, http_reply *r, vhost *path_vh, bool per_vhost)
{
    vhost *vh;
    char why[2048];
    size_t len = 0, i, refused = 0, total;
    defs d = {0};

    if (!x->body) {
        http_reply_not_json(r);
        return;
    }
    if (check_unsupported(x, r, x->body) < 0 || import_limits(x, r, path_vh, per_vhost, false) < 0 ||
        defs_parse(x, r, x->body, per_vhost, &d) < 0)
        goto out;
    /* vhosts, users and permissions first, as RabbitMQ's import; then
     * the limits (their vhosts and users exist now) */
    if (!per_vhost && (http_vhosts_import(x, r, x->body, true) < 0 || http_users_import(x, r, x->body, true) < 0))
        goto out;
    if (import_limits(x, r, path_vh, per_vhost, true) < 0)
        goto out;
    total = d.nq + d.nx + d.nb;
    why[0] = 0;
    for (i = 0; i < total; i++) {
        defs_item *it = &d.items[i];
        amqp_error err;
        char what[600];
        int rc;
        vh = it->vhost ? broker_vhost(x->b, it->vhost, strlen(it->vhost)) : path_vh;
        if (!vh) {
            /* made by this import a moment ago, so never; but never NULL */
            amqp_fail(&err, AMQP_NOT_FOUND, "no vhost '%s'", it->vhost);
            rc = -1;
            snprintf(what, sizeof what, "an item of vhost '%s'", it->vhost);
        } else if (i < d.nq) {
            rc = vhost_declare_queue(vh, &it->s.q, NULL, false, NULL, &err);
            snprintf(what, sizeof what, "queue '%.*s'", (int)it->s.q.name.len, it->s.q.name.ptr);
        } else if (i < d.nq + d.nx) {
            rc = vhost_declare_exchange(vh, &it->s.x, false, &err);
            snprintf(what, sizeof what, "exchange '%.*s'", (int)it->s.x.name.len, it->s.x.name.ptr);
        } else {
            rc = vhost_bind(vh, true, &it->s.b, NULL, &err);
            snprintf(what, sizeof what, "binding of '%.*s' to '%.*s'", (int)it->s.b.source.len, it->s.b.source.ptr,
                     (int)it->s.b.destination.len, it->s.b.destination.ptr);
        }
        if (rc == 0)
            continue;
        if (refused++ < 8 && len < sizeof why)
            len += (size_t)snprintf(why + len, sizeof why - len, "; %s: %s", what, bare_text(&err));
    }
    if (!refused) {
        r->status = 204;
        goto out;
    }
    if (refused > 8 && len < sizeof why)
        snprintf(why + len, sizeof why - len, "; and %zu more", refused - 8);
    http_bad(r, "%zu of %zu definitions refused, the others imported%s", refused, total, why);
out:
    defs_free(&d);
}

void http_post_definitions(http_ctx *x, http_reply *r)
{
    if (http_need_admin(x, r) < 0)
        return;
    import_definitions(x, r, x->b->vh, false);
}

void http_post_vhost_definitions(http_ctx *x, http_reply *r)
{
    vhost *vh = path_vhost(x);

    if (http_need_admin(x, r) < 0)
        return;
    if (!vh)
        http_bad(r, "vhost_not_found");
    else
        import_definitions(x, r, vh, true);
}
