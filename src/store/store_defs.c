/*
 * store_defs.c - durable queues, exchanges and bindings as records of the
 * definitions log (format in defs.h and doc/store-format.md): building
 * them when something is declared, replaying them at start, and the
 * compact rewrite that follows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store/store_int.h"


static size_t put_str(uint8_t *p, const char *s, uint8_t n)
{
    p[0] = n;
    memcpy(p + 1, s, n);
    return 1u + n;
}

/* The definition record of a queue; caller frees. */
static uint8_t *queue_record(const queue *q, size_t *len)
{
    uint8_t *p = malloc(1 + 4 + 256 + 1 + 4 + q->argslen), *w;
    if (!p)
        return NULL;
    w = p;
    *w++ = DEF_QUEUE;
    w = amqp_put32(w, q->id);
    w += put_str(w, q->name, q->namelen);
    *w++ = (uint8_t)((q->durable ? 1 : 0) | (q->auto_delete ? 2 : 0));
    w = amqp_put32(w, q->argslen);
    memcpy(w, q->args, q->argslen);
    w += q->argslen;
    *len = (size_t)(w - p);
    return p;
}

static bool predeclared(const exchange *x)
{
    return x->namelen == 0 || (x->namelen >= 4 && memcmp(x->name, "amq.", 4) == 0);
}

static uint8_t *exchange_record(const exchange *x, size_t *len)
{
    size_t tl = strlen(x->type->name);
    uint8_t *p = malloc(1 + 256 + 256 + 1 + 4 + x->argslen), *w;
    if (!p)
        return NULL;
    w = p;
    *w++ = DEF_EXCHANGE;
    w += put_str(w, x->name, x->namelen);
    w += put_str(w, x->type->name, (uint8_t)tl);
    *w++ = (uint8_t)((x->durable ? 1 : 0) | (x->auto_delete ? 2 : 0) | (x->internal ? 4 : 0));
    w = amqp_put32(w, x->argslen);
    memcpy(w, x->args, x->argslen);
    w += x->argslen;
    *len = (size_t)(w - p);
    return p;
}

static uint8_t *binding_record(const binding *b, uint8_t kind, size_t *len)
{
    uint8_t *p = malloc(1 + 256 + 1 + 256 + 256 + 4 + b->argslen), *w;
    if (!p)
        return NULL;
    w = p;
    *w++ = kind;
    w += put_str(w, b->src->name, b->src->namelen);
    *w++ = b->q ? 0 : 1;
    if (b->q)
        w += put_str(w, b->q->name, b->q->namelen);
    else
        w += put_str(w, b->dst->name, b->dst->namelen);
    w += put_str(w, b->key, b->keylen);
    w = amqp_put32(w, b->argslen);
    memcpy(w, b->args, b->argslen);
    w += b->argslen;
    *len = (size_t)(w - p);
    return p;
}

int store_exchange_declared(store *st, const exchange *x)
{
    size_t len;
    uint8_t *rec = exchange_record(x, &len);
    int rc;
    if (!rec)
        return -1;
    rc = defs_append(st->defs, rec, len);
    free(rec);
    return rc;
}

void store_exchange_deleted(store *st, const exchange *x)
{
    uint8_t rec[1 + 256];
    size_t len = 1 + put_str(rec + 1, x->name, x->namelen);
    rec[0] = DEF_EXCHANGE_GONE;
    if (defs_append(st->defs, rec, len) < 0)
        log_error("store: could not record the deletion of exchange '%s'; it will come back after a restart",
                  x->name);
}

int store_binding(store *st, const binding *b, bool add)
{
    size_t len;
    uint8_t *rec = binding_record(b, add ? DEF_BIND : DEF_UNBIND, &len);
    int rc;
    if (!rec)
        return -1;
    rc = defs_append(st->defs, rec, len);
    free(rec);
    if (rc < 0 && !add)
        log_error("store: could not record an unbinding; the binding will come back after a restart");
    return rc;
}

int store_queue_declared(store *st, queue *q)
{
    size_t len;
    uint8_t *rec;
    char k[4];
    int rc;

    q->id = st->next_qid++;
    if (!(rec = queue_record(q, &len)))
        return -1;
    rc = defs_append(st->defs, rec, len);
    free(rec);
    if (rc < 0)
        return -1;
    qid_key(k, q->id);
    return map_put(&st->qids, k, 4, q);
}

void store_queue_deleted(store *st, uint32_t qid)
{
    uint8_t rec[5];
    char k[4];
    rec[0] = DEF_QUEUE_GONE;
    amqp_put32(rec + 1, qid);
    qid_key(k, qid);
    map_del(&st->qids, k, 4);
    if (defs_append(st->defs, rec, sizeof rec) < 0)
        log_error("store: could not record the deletion of queue %u; it will come back after a restart", qid);
}

static int get_str(const uint8_t **p, const uint8_t *end, amqp_str *out)
{
    if (end - *p < 1 || (size_t)(end - *p - 1) < (*p)[0])
        return -1;
    out->len = (*p)[0];
    out->ptr = (const char *)*p + 1;
    *p += 1 + out->len;
    return 0;
}

int store_replay_def(void *ctx, const uint8_t *p, uint32_t len)
{
    store *st = ctx;
    const uint8_t *end = p + len;
    char k[4];

    switch (p[0]) {
    case DEF_QUEUE: {
        uint32_t id, argslen;
        uint8_t nlen, flags;
        const char *name;
        queue *q;
        if (len < 1 + 4 + 1)
            return -1;
        id = amqp_get32(p + 1);
        nlen = p[5];
        if ((size_t)(end - p) < 6u + nlen + 1 + 4)
            return -1;
        name = (const char *)p + 6;
        flags = p[6 + nlen];
        argslen = amqp_get32(p + 7 + nlen);
        if ((size_t)(end - p) != 11u + nlen + argslen ||
            amqp_table_validate(p + 11 + nlen, argslen, 0) < 0)
            return -1;
        if (vhost_queue(st->vh, (amqp_str){name, nlen}))
            return -1;
        q = queue_new(st->vh, (amqp_str){name, nlen}, (flags & 1) != 0, false, (flags & 2) != 0,
                      (amqp_table){p + 11 + nlen, argslen}, NULL);
        if (!q)
            return -1;
        q->id = id;
        qid_key(k, id);
        if (map_put(&st->qids, k, 4, q) < 0)
            return -1;
        if (id >= st->next_qid)
            st->next_qid = id + 1;
        return 0;
    }
    case DEF_QUEUE_GONE: {
        queue *q;
        if (len != 5)
            return -1;
        qid_key(k, amqp_get32(p + 1));
        q = map_del(&st->qids, k, 4);
        if (q) {
            q->durable = false; /* no store bookkeeping for it now */
            queue_delete(q);
        }
        return 0;
    }
    case DEF_EXCHANGE: {
        amqp_str name, type;
        const uint8_t *q = p + 1;
        uint8_t flags;
        uint32_t argslen;
        const exchange_type *t;
        exchange *x;
        if (get_str(&q, end, &name) < 0 || get_str(&q, end, &type) < 0 || end - q < 5)
            return -1;
        flags = *q++;
        argslen = amqp_get32(q);
        q += 4;
        if ((size_t)(end - q) != argslen || amqp_table_validate(q, argslen, 0) < 0)
            return -1;
        if (!(t = exchange_type_find(type)) || type.len == 0)
            return -1;
        if ((x = vhost_exchange(st->vh, name)))
            exchange_delete(x);
        if (!exchange_new(st->vh, name, t, flags & 1, (flags & 2) != 0, (flags & 4) != 0, (amqp_table){q, argslen}))
            return -1;
        return 0;
    }
    case DEF_EXCHANGE_GONE: {
        amqp_str name;
        const uint8_t *q = p + 1;
        exchange *x;
        if (get_str(&q, end, &name) < 0 || q != end)
            return -1;
        if ((x = vhost_exchange(st->vh, name))) {
            x->durable = false; /* no store bookkeeping during replay */
            exchange_delete(x);
        }
        return 0;
    }
    case DEF_BIND:
    case DEF_UNBIND: {
        amqp_str src, dst, key;
        const uint8_t *q = p + 1;
        uint8_t dkind;
        uint32_t argslen;
        exchange *sx, *dx = NULL;
        queue *dq = NULL;
        binding *b;
        if (get_str(&q, end, &src) < 0 || end - q < 1)
            return -1;
        dkind = *q++;
        if (get_str(&q, end, &dst) < 0 || get_str(&q, end, &key) < 0 || end - q < 4)
            return -1;
        argslen = amqp_get32(q);
        q += 4;
        if ((size_t)(end - q) != argslen || amqp_table_validate(q, argslen, 0) < 0)
            return -1;
        sx = vhost_exchange(st->vh, src);
        if (dkind == 0)
            dq = vhost_queue(st->vh, dst);
        else
            dx = vhost_exchange(st->vh, dst);
        if (!sx || (!dq && !dx))
            return 0; /* an end that is gone took the binding with it */
        b = binding_find(sx, dq, dx, key, (amqp_table){q, argslen});
        if (p[0] == DEF_BIND && !b && !binding_add(sx, dq, dx, key, (amqp_table){q, argslen}))
            return -1;
        if (p[0] == DEF_UNBIND && b) {
            bool durable = sx->durable;
            sx->durable = false; /* an auto-delete cascade must not write */
            binding_remove(b);
            if (vhost_exchange(st->vh, src) == sx)
                sx->durable = durable;
        }
        return 0;
    }
    case DEF_NEXT_QID:
        if (len != 5)
            return -1;
        if (amqp_get32(p + 1) > st->next_qid)
            st->next_qid = amqp_get32(p + 1);
        return 0;
    default:
        /* kinds this version does not use yet are kept by ignoring them */
        return 0;
    }
}

typedef struct rewrite_ctx {
    store *st;
    size_t i;
    int stage;
    uint8_t *cur;
    uint8_t nextq[5];
    exchange *x;                /* stage 3: the exchange whose bindings go out */
    binding *b;
} rewrite_ctx;

/* The current definitions, in an order replay can follow: the next queue
 * id, queues, exchanges, then the bindings between them. */
static int rewrite_next(void *ctx, const uint8_t **payload, uint32_t *len)
{
    rewrite_ctx *rc = ctx;
    void *v;
    size_t n;

    free(rc->cur);
    rc->cur = NULL;
    if (rc->stage == 0) {
        rc->stage = 1;
        rc->nextq[0] = DEF_NEXT_QID;
        amqp_put32(rc->nextq + 1, rc->st->next_qid);
        *payload = rc->nextq;
        *len = 5;
        return 1;
    }
    if (rc->stage == 1) {
        while (map_next(&rc->st->qids, &rc->i, NULL, NULL, &v)) {
            if (!(rc->cur = queue_record(v, &n)))
                return 0;
            goto out;
        }
        rc->stage = 2;
        rc->i = 0;
    }
    if (rc->stage == 2) {
        while (map_next(&rc->st->vh->exchanges, &rc->i, NULL, NULL, &v)) {
            exchange *x = v;
            if (!x->durable || predeclared(x))
                continue;
            if (!(rc->cur = exchange_record(x, &n)))
                return 0;
            goto out;
        }
        rc->stage = 3;
        rc->i = 0;
        rc->x = NULL;
    }
    for (;;) {
        while (rc->b) {
            binding *b = rc->b;
            rc->b = b->src_next;
            if (!binding_durable(b))
                continue;
            if (!(rc->cur = binding_record(b, DEF_BIND, &n)))
                return 0;
            goto out;
        }
        if (!map_next(&rc->st->vh->exchanges, &rc->i, NULL, NULL, &v))
            return 0;
        rc->x = v;
        rc->b = rc->x->bindings;
    }
out:
    *payload = rc->cur;
    *len = (uint32_t)n;
    return 1;
}

int store_rewrite_defs(store *st)
{
    rewrite_ctx wctx = {0};
    int rc;
    wctx.st = st;
    rc = defs_rewrite(st->defs, rewrite_next, &wctx);
    free(wctx.cur);
    return rc;
}
