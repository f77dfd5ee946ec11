/*
 * exchange.c - exchanges and the table of exchange types.
 *
 * An exchange type is a struct of functions (exchange_type); routing calls
 * type->route, which adds the destination queues to a route_set.  The
 * default exchange ("") routes to the queue named by the routing key.
 */
#include "warren.h"

#include <stdlib.h>
#include <string.h>

int route_set_add(route_set *rs, queue *q)
{
    if (rs->n == rs->cap) {
        uint32_t cap = rs->cap * 2;
        queue **v;
        if (rs->cap <= 8) {
            /* the first set lives on the caller's stack */
            v = malloc(cap * sizeof *v);
            if (v)
                memcpy(v, rs->q, rs->n * sizeof *v);
        } else {
            v = realloc(rs->q, cap * sizeof *v);
        }
        if (!v)
            return -1;
        rs->q = v;
        rs->cap = cap;
    }
    rs->q[rs->n++] = q;
    return 0;
}

static void route_default(exchange *x, amqp_str rk, const msg *m, route_set *out)
{
    queue *q = vhost_queue(x->vh, rk);
    (void)m;
    if (q)
        route_set_add(out, q);
}

static void route_none(exchange *x, amqp_str rk, const msg *m, route_set *out)
{
    (void)x, (void)rk, (void)m, (void)out;
}

static const exchange_type type_default = {"", route_default};
static const exchange_type types[] = {
    {"direct", route_none},
    {"fanout", route_none},
    {"topic", route_none},
    {"headers", route_none},
};

const exchange_type *exchange_type_find(amqp_str name)
{
    size_t i;
    if (name.len == 0)
        return &type_default;
    for (i = 0; i < sizeof types / sizeof *types; i++)
        if (amqp_str_eqc(name, types[i].name))
            return &types[i];
    return NULL;
}

exchange *exchange_new(vhost *vh, amqp_str name, const exchange_type *type, bool durable,
                       bool auto_delete, bool internal, amqp_table args)
{
    exchange *x = calloc(1, sizeof *x);
    if (!x)
        return NULL;
    x->vh = vh;
    x->name = malloc(name.len + 1);
    x->args = malloc(args.len ? args.len : 1);
    if (!x->name || !x->args) {
        exchange_free(x);
        return NULL;
    }
    memcpy(x->name, name.ptr, name.len);
    x->name[name.len] = 0;
    x->namelen = (uint8_t)name.len;
    if (args.len)
        memcpy(x->args, args.ptr, args.len);
    x->argslen = args.len;
    x->type = type;
    x->durable = durable;
    x->auto_delete = auto_delete;
    x->internal = internal;
    if (map_put(&vh->exchanges, x->name, x->namelen, x) < 0) {
        exchange_free(x);
        return NULL;
    }
    return x;
}

void exchange_free(exchange *x)
{
    if (!x)
        return;
    free(x->name);
    free(x->args);
    free(x);
}
