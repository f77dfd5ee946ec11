/*
 * exchange_direct.c - the default exchange and the direct type.
 *
 * Direct: a map from binding key to the bindings with that key, so routing
 * is one lookup.  Default (""): every queue is implicitly bound by its
 * name; it has no bindings of its own, routing is a queue lookup.
 */
#include "exchange.h"
#include "map.h"
#include "vhost.h"

#include <stdlib.h>
#include <string.h>

typedef struct keyset {
    binding **v;
    uint32_t n, cap;
} keyset;

static map *index_of(exchange *x)
{
    if (!x->index) {
        map *m = calloc(1, sizeof *m);
        if (!m)
            return NULL;
        map_init(m);
        x->index = m;
    }
    return x->index;
}

static int direct_bind(exchange *x, binding *b)
{
    map *m = index_of(x);
    keyset *ks;
    if (!m)
        return -1;
    ks = map_get(m, b->key, b->keylen);
    if (!ks) {
        if (!(ks = calloc(1, sizeof *ks)) || map_put(m, b->key, b->keylen, ks) < 0) {
            free(ks);
            return -1;
        }
    }
    if (ks->n == ks->cap) {
        uint32_t cap = ks->cap ? ks->cap * 2 : 1; /* a key has one binding, mostly */
        binding **v = realloc(ks->v, cap * sizeof *v);
        if (!v)
            return -1;
        ks->v = v;
        ks->cap = cap;
    }
    ks->v[ks->n++] = b;
    return 0;
}

static void direct_unbind(exchange *x, binding *b)
{
    map *m = x->index;
    keyset *ks = m ? map_get(m, b->key, b->keylen) : NULL;
    uint32_t i;
    if (!ks)
        return;
    for (i = 0; i < ks->n; i++) {
        if (ks->v[i] == b) {
            ks->v[i] = ks->v[--ks->n];
            break;
        }
    }
    if (ks->n == 0) {
        map_del(m, b->key, b->keylen);
        free(ks->v);
        free(ks);
    }
}

static void direct_route(exchange *x, amqp_str rk, const msg *m, route_set *rs)
{
    keyset *ks = x->index ? map_get(x->index, rk.ptr, rk.len) : NULL;
    uint32_t i;
    if (!ks)
        return;
    for (i = 0; i < ks->n; i++)
        route_binding(ks->v[i], rk, m, rs);
}

static void direct_free(exchange *x)
{
    map *m = x->index;
    size_t i = 0;
    void *v;
    if (!m)
        return;
    while (map_next(m, &i, NULL, NULL, &v)) {
        keyset *ks = v;
        free(ks->v);
        free(ks);
    }
    map_free(m);
    free(m);
    x->index = NULL;
}

const exchange_type exchange_direct = {
    .name = "direct",
    .bind = direct_bind,
    .unbind = direct_unbind,
    .route = direct_route,
    .free = direct_free,
};

static void default_route(exchange *x, amqp_str rk, const msg *m, route_set *rs)
{
    queue *q = vhost_queue(x->vh, rk);
    (void)m;
    if (q)
        route_set_add(rs, q);
}

const exchange_type exchange_default = {
    .name = "direct",   /* what RabbitMQ reports for "" */
    .route = default_route,
};
