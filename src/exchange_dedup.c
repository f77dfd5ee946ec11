/*
 * exchange_dedup.c - the x-message-deduplication type, as the
 * rabbitmq-message-deduplication plugin defines it: a fanout exchange
 * that routes a message whose x-deduplication-header value it has seen
 * (within the window) nowhere.
 *
 * Arguments, checked at declare with the plugin's words (406):
 *   x-cache-size         required, an integer > 0 (or a string of one):
 *                        the most keys the window holds
 *   x-cache-ttl          optional, ms > 0: how long a key is kept
 *   x-cache-persistence  optional, "disk" or "memory"
 * A message's own x-cache-ttl header (ms) overrides the exchange's.
 *
 * Persistence: the plugin keeps its cache in memory unless told "disk".
 * warren keeps the window of a durable exchange on disk unless told
 * "memory" (store/dedup_log.c), so the window survives a restart; a
 * transient exchange's lives in memory.  The file is opened at the first
 * publish (the store is not open yet while exchanges are recovered), and
 * emptied when the exchange is declared anew, deleted when it is deleted.
 */
#include "exchange.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dedup.h"
#include "recovery.h"
#include "store/store.h"
#include "vhost.h"

typedef struct dedup_state {
    dedup_window *w;
    bool persist;               /* durable, and not x-cache-persistence "memory" */
    bool attached;              /* the file was tried */
    bool fresh;                 /* declared now (not recovered): any old file is stale */
} dedup_state;

/* An argument as the plugin reads it: an integer, or a string of digits. */
static bool positive(amqp_table args, const char *key, int64_t *out)
{
    amqp_value v;
    char buf[32], *end;

    if (!amqp_table_get(args, key, &v))
        return false;
    if (amqp_value_int(&v, out) && v.type != 'T')
        return *out > 0;
    if (amqp_type_class(v.type) != AMQP_CLASS_STRING || !v.v.s.len || v.v.s.len >= sizeof buf)
        return false;
    memcpy(buf, v.v.s.ptr, v.v.s.len);
    buf[v.v.s.len] = 0;
    *out = strtoll(buf, &end, 10);
    return !*end && *out > 0;
}

static int dedup_check(amqp_table args, amqp_error *err)
{
    amqp_value v;
    int64_t n;

    if (!positive(args, "x-cache-size", &n) || n > UINT32_MAX)
        return amqp_fail(err, AMQP_PRECONDITION_FAILED,
                         "Missing or invalid argument, 'x-cache-size' must be an integer greater than 0");
    if (amqp_table_get(args, "x-cache-ttl", &v) && !positive(args, "x-cache-ttl", &n))
        return amqp_fail(err, AMQP_PRECONDITION_FAILED,
                         "Invalid argument, 'x-cache-ttl' must be an integer greater than 0");
    if (amqp_table_get(args, "x-cache-persistence", &v) &&
        (v.type != 'S' || !(amqp_str_eqc(v.v.s, "disk") || amqp_str_eqc(v.v.s, "memory"))))
        return amqp_fail(err, AMQP_PRECONDITION_FAILED,
                         "Invalid argument, 'x-cache-persistence' must be either 'disk' or 'memory'");
    return 0;
}

static int dedup_init(exchange *x)
{
    amqp_table args = {x->args, x->argslen};
    dedup_state *s = calloc(1, sizeof *s);
    int64_t size = 1, ttl = 0;
    amqp_value v;

    if (!s)
        return -1;
    positive(args, "x-cache-size", &size);
    positive(args, "x-cache-ttl", &ttl);
    if (size > UINT32_MAX)
        size = UINT32_MAX;
    s->persist = x->durable && !(amqp_table_get(args, "x-cache-persistence", &v) && v.type == 'S' &&
                                 amqp_str_eqc(v.v.s, "memory"));
    s->fresh = x->vh->st != NULL;
    if (!(s->w = dedup_new((uint32_t)size, ttl))) {
        free(s);
        return -1;
    }
    x->index = s;
    return 0;
}

static void dedup_route(exchange *x, amqp_str rk, const msg *m, route_set *rs)
{
    dedup_state *s = x->index;
    int64_t now = vhost_now_ms(x->vh);
    binding *b;

    if (s->persist && !s->attached && x->vh->st) {
        /* fresh: a window left by an exchange of this name deleted while
         * the store was detached (its vhost deleted) is not this one's */
        s->attached = true;
        dedup_attach(s->w, store_dir(x->vh->st), recovery_vhost_name(x->vh), (amqp_str){x->name, x->namelen},
                     s->fresh, now);
    }
    if (dedup_seen(s->w, m, now))
        return;
    for (b = x->bindings; b; b = b->src_next)
        route_binding(b, rk, m, rs);
}

static void dedup_release(exchange *x)
{
    dedup_state *s = x->index;
    if (!s)
        return;
    /* deleted while the store is open: by a client, so the window goes */
    dedup_free(s->w, x->deleted && x->vh->st != NULL);
    free(s);
    x->index = NULL;
}

const exchange_type exchange_dedup = {
    .name = "x-message-deduplication",
    .route = dedup_route,
    .free = dedup_release,
    .check = dedup_check,
    .init = dedup_init,
};
