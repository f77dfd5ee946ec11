/*
 * exchange.c - exchanges, bindings and routing, whatever the type.
 *
 * A binding joins a source exchange to a destination queue or exchange and
 * sits on two lists: its source's (for routing) and its destination's (so
 * it goes when the destination goes), doubly linked so it leaves either in
 * O(1), and in the vhost's hash of bindings by (source, destination, key),
 * so finding one (each queue.bind, each binding replayed at start) does
 * not walk a list: 66,000 queues bound to one fanout exchange once took
 * 5 s to recover, quadratic in the bindings.  The type keeps its own index of the
 * source's bindings (a map for direct, a trie for topic, ...) and routes
 * through it; exchange-to-exchange bindings are followed here, each
 * exchange at most once per message, and an exchange whose routing found
 * nothing passes the message to its alternate exchange.
 *
 * Routing fills a route set (each queue once, by a mark the set stamps on
 * the queues it holds); publish.c builds one per message and hands the
 * message to its queues.
 *
 * An auto-delete exchange goes when its last binding as a source goes.
 * Durable exchanges, and bindings whose both ends are durable, are
 * recorded by the store as plain records (src/store/defs.h, made by
 * exchange_def and binding_def in recovery.c), and rebuilt at start
 * through recovery.c's hooks.
 */
#include "exchange.h"
#include "queue.h"
#include "vhost.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "recovery.h"
#include "store/store.h"

void route_set_init(route_set *rs)
{
    static uint64_t marks;
    rs->q = rs->one;
    rs->n = 0;
    rs->incomplete = false;
    rs->cap = sizeof rs->one / sizeof *rs->one;
    rs->mark = ++marks;
    rs->nseen = 0;
}

void route_set_done(route_set *rs)
{
    if (rs->q != rs->one)
        free(rs->q);
    rs->q = rs->one;
    rs->n = 0;
}

int route_set_add(route_set *rs, queue *q)
{
    if (q->route_mark == rs->mark)
        return 0; /* one copy per queue, however many bindings lead there */
    if (rs->n == rs->cap) {
        uint32_t cap = rs->cap * 2;
        queue **v;
        if (rs->q == rs->one) {
            /* the first queues live in the set itself */
            v = malloc(cap * sizeof *v);
            if (v)
                memcpy(v, rs->q, rs->n * sizeof *v);
        } else {
            v = realloc(rs->q, cap * sizeof *v);
        }
        if (!v) {
            rs->incomplete = true;
            return -1;
        }
        rs->q = v;
        rs->cap = cap;
    }
    rs->q[rs->n++] = q;
    q->route_mark = rs->mark;
    return 0;
}

static const exchange_type *types[] = {
    &exchange_direct, &exchange_fanout, &exchange_topic, &exchange_headers, &exchange_delayed,
    &exchange_dedup,
};

const exchange_type *exchange_type_find(amqp_str name)
{
    size_t i;
    if (name.len == 0)
        return &exchange_default;
    for (i = 0; i < sizeof types / sizeof *types; i++)
        if (amqp_str_eqc(name, types[i]->name))
            return types[i];
    return NULL;
}

/* RabbitMQ looks a type up with binary_to_existing_atom: a name that is an
 * atom of the node but no exchange type is "invalid", any other "unknown".
 * These are atoms every RabbitMQ 3.10 node has (checked one by one); the
 * full set is the node's whole atom table, which no list can follow. */
static const char *const atoms[] = {
    "ok", "queue", "error", "true", "false", "undefined", "none", "exchange", "classic", "quorum", "stream",
    "local", "random", "binding", "infinity", "default", "lazy", "nodes", "node", "all", "any", "amqqueue",
    "durable", "transient", "normal", "shutdown", "stop", "start", "name", "type", "value", "key", "match",
    "internal", "rabbit", "basic", "message", "publish", "deliver", "ack", "reject", "delete", "auto_delete",
    "exclusive", "passive", "info", "debug", "warning",
};

bool exchange_type_is_atom(amqp_str name)
{
    size_t i;
    for (i = 0; i < sizeof atoms / sizeof *atoms; i++)
        if (amqp_str_eqc(name, atoms[i]))
            return true;
    return false;
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
    if (type->init && type->init(x) < 0) {
        x->type = NULL; /* nothing of the type's to free */
        exchange_free(x);
        return NULL;
    }
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
    if (x->type && x->type->free)
        x->type->free(x);
    free(x->name);
    free(x->args);
    free(x);
}

/* ---------------------------------------------------------------- routing */

void route_binding(binding *b, amqp_str rk, const msg *m, route_set *rs)
{
    if (b->q)
        route_set_add(rs, b->q);
    else if (b->dst)
        exchange_route(b->dst, rk, m, rs);
}

void exchange_route(exchange *x, amqp_str rk, const msg *m, route_set *rs)
{
    uint32_t i, before = rs->n;
    amqp_value ae;

    for (i = 0; i < rs->nseen; i++)
        if (rs->seen[i] == x)
            return;
    if (rs->nseen == sizeof rs->seen / sizeof *rs->seen)
        return; /* deeper than any sane topology */
    rs->seen[rs->nseen++] = x;
    x->type->route(x, rk, m, rs);
    if (rs->n == before && x->argslen &&
        amqp_table_get((amqp_table){x->args, x->argslen}, "alternate-exchange", &ae) && ae.type == 'S') {
        exchange *alt = vhost_exchange(x->vh, ae.v.s);
        if (alt)
            exchange_route(alt, rk, m, rs);
    }
}

static void route_header_keys(exchange *x, const msg *m, amqp_table headers, const char *name, route_set *rs)
{
    amqp_value v, k;
    amqp_array_iter it;
    if (!amqp_table_get(headers, name, &v) || v.type != 'A')
        return;
    amqp_array_iter_init(&it, v.v.a);
    while (amqp_array_next(&it, &k)) {
        if (k.type != 'S' || k.v.s.len > 255)
            continue;
        rs->nseen = 0;
        exchange_route(x, k.v.s, m, rs);
    }
}

void exchange_route_cc(exchange *x, amqp_str rk, const msg *m, route_set *rs)
{
    amqp_basic_properties p;

    exchange_route(x, rk, m, rs);
    if (m->props_len < 2 || !(amqp_get16(msg_props(m)) & AMQP_BASIC_HEADERS_FLAG) ||
        amqp_basic_properties_decode(msg_props(m), m->props_len, &p) < 0)
        return;
    route_header_keys(x, m, p.headers, "CC", rs);
    route_header_keys(x, m, p.headers, "BCC", rs);
}

/* --------------------------------------------------------------- bindings */

bool binding_durable(const binding *b)
{
    return b->src->durable && (b->q ? b->q->durable : b->dst->durable);
}

/* The vhost's index of bindings: chained buckets by (source, destination,
 * key); bindings that differ only in their arguments share a chain. */
static size_t binding_hash(const exchange *src, const void *dest, amqp_str key)
{
    uint64_t h = map_hash(key.ptr, key.len);
    h ^= (uint64_t)(uintptr_t)src * 0x9E3779B97F4A7C15ull;
    h ^= (uint64_t)(uintptr_t)dest * 0xC2B2AE3D27D4EB4Full;
    return (size_t)(h ^ h >> 29);
}

static binding **bucket(vhost *vh, const binding *b)
{
    return &vh->bindex[binding_hash(b->src, b->q ? (const void *)b->q : (const void *)b->dst,
                                    (amqp_str){b->key, b->keylen}) & (vh->bindex_cap - 1)];
}

static int index_add(vhost *vh, binding *b)
{
    binding **head;
    if (vh->nbindings >= vh->bindex_cap) {
        size_t cap = vh->bindex_cap ? vh->bindex_cap * 2 : 64, i;
        binding **old = vh->bindex, **v = calloc(cap, sizeof *v);
        size_t oldcap = vh->bindex_cap;
        if (!v)
            return -1;
        vh->bindex = v;
        vh->bindex_cap = cap;
        for (i = 0; i < oldcap; i++) {
            while (old[i]) {
                binding *o = old[i];
                old[i] = o->hash_next;
                head = bucket(vh, o);
                o->hash_next = *head;
                *head = o;
            }
        }
        free(old);
    }
    head = bucket(vh, b);
    b->hash_next = *head;
    *head = b;
    vh->nbindings++;
    return 0;
}

static void index_del(vhost *vh, binding *b)
{
    binding **pp;
    for (pp = bucket(vh, b); *pp; pp = &(*pp)->hash_next) {
        if (*pp == b) {
            *pp = b->hash_next;
            vh->nbindings--;
            return;
        }
    }
}

binding *binding_find(exchange *src, queue *q, exchange *dst, amqp_str key, amqp_table args)
{
    vhost *vh = src->vh;
    binding *b;
    if (!vh->bindex_cap)
        return NULL;
    for (b = vh->bindex[binding_hash(src, q ? (const void *)q : (const void *)dst, key) & (vh->bindex_cap - 1)];
         b; b = b->hash_next)
        if (b->src == src && b->q == q && b->dst == dst && amqp_str_eq((amqp_str){b->key, b->keylen}, key) &&
            amqp_table_equiv((amqp_table){b->args, b->argslen}, args))
            return b;
    return NULL;
}

static void push_src(binding **head, binding *b)
{
    b->src_next = *head;
    if (*head)
        (*head)->src_pprev = &b->src_next;
    b->src_pprev = head;
    *head = b;
}

static void push_dst(binding **head, binding *b)
{
    b->dst_next = *head;
    if (*head)
        (*head)->dst_pprev = &b->dst_next;
    b->dst_pprev = head;
    *head = b;
}

static uint8_t no_args[1];     /* the arguments of a binding made without any */

static void binding_free(binding *b)
{
    if (b->argslen)
        free(b->args);
    free(b); /* its key is in the same allocation */
}

binding *binding_add(exchange *src, queue *q, exchange *dst, amqp_str key, amqp_table args)
{
    /* one allocation for the binding and its key, none for no arguments
     * (the usual binding): 100,000 bound queues are 6 MB smaller */
    binding *b = calloc(1, sizeof *b + key.len + 1);
    if (!b)
        return NULL;
    b->key = (char *)(b + 1);
    b->args = args.len ? malloc(args.len) : no_args;
    b->argslen = b->args ? args.len : 0;
    if (!b->args)
        goto fail;
    memcpy(b->key, key.ptr, key.len);
    b->key[key.len] = 0;
    b->keylen = (uint8_t)key.len;
    if (args.len)
        memcpy(b->args, args.ptr, args.len);
    b->src = src;
    b->q = q;
    b->dst = dst;
    if (index_add(src->vh, b) < 0)
        goto fail;
    if (src->type->bind && src->type->bind(src, b) < 0) {
        index_del(src->vh, b);
        goto fail;
    }
    push_src(&src->bindings, b);
    src->nbindings++;
    push_dst(q ? &q->bindings : &dst->dst_bindings, b);
    return b;
fail:
    binding_free(b);
    return NULL;
}

static void unlink_binding(binding *b)
{
    *b->src_pprev = b->src_next;
    if (b->src_next)
        b->src_next->src_pprev = b->src_pprev;
    *b->dst_pprev = b->dst_next;
    if (b->dst_next)
        b->dst_next->dst_pprev = b->dst_pprev;
}

/* Take b out of both lists and the index, and free it; returns its source. */
static exchange *drop_binding(binding *b)
{
    exchange *src = b->src;
    if (src->type->unbind)
        src->type->unbind(src, b);
    unlink_binding(b);
    index_del(src->vh, b);
    src->nbindings--;
    binding_free(b);
    return src;
}

static void maybe_auto_delete(exchange *x)
{
    if (x->auto_delete && x->nbindings == 0 && !x->deleted) {
        log_debug("exchange '%s' auto-deleted", x->name);
        exchange_delete(x);
    }
}

void binding_remove(binding *b)
{
    maybe_auto_delete(drop_binding(b));
}

void exchange_unbind_queue(queue *q)
{
    while (q->bindings)
        binding_remove(q->bindings);
}

void exchange_delete(exchange *x)
{
    store *st = x->vh->st;

    if (x->deleted)
        return;
    x->deleted = true;
    map_del(&x->vh->exchanges, x->name, x->namelen);
    while (x->bindings)
        drop_binding(x->bindings);
    /* exchanges it was bound to may now have nothing left */
    while (x->dst_bindings)
        binding_remove(x->dst_bindings);
    if (x->type->gone)
        x->type->gone(x);
    /* in a deleted vhost (its queues going a slice a turn, an auto-delete
     * exchange losing its last binding with them) the vhost's own record
     * says it: a record naming the vhost after that one stopped the next
     * start (the TLS protocol walk found it) */
    if (x->durable && st && !x->vh->dying)
        store_exchange_deleted(st, recovery_vhost_name(x->vh), (amqp_str){x->name, x->namelen});
    exchange_free(x);
}
