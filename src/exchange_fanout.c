/*
 * exchange_fanout.c - the fanout type: every binding gets every message.
 */
#include "exchange.h"

static void fanout_route(exchange *x, amqp_str rk, const msg *m, route_set *rs)
{
    binding *b;
    for (b = x->bindings; b; b = b->src_next)
        route_binding(b, rk, m, rs);
}

const exchange_type exchange_fanout = {
    .name = "fanout",
    .route = fanout_route,
};
