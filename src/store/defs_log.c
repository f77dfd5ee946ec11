/*
 * defs_log.c - the store's definitions log (its bytes are defs.c's):
 * durable queues, exchanges and bindings recorded as they are declared
 * and deleted, replayed at start, and rewritten compactly after that.
 *
 * The store owns the queue ids (a message record names its queues by id)
 * and nothing else of a definition: the writers take plain records
 * (store_queue_def, ...) that the broker fills from its structs, replay
 * hands each record to the broker's store_recovery hooks, which declare
 * it through the broker's own functions, and the rewrite asks the broker
 * (each_def) for what exists now.  So nothing here knows what a queue or
 * an exchange is beyond its record.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store/store_int.h"

int store_exchange_declared(store *st, const store_exchange_def *d)
{
    store_def def = {.kind = DEF_EXCHANGE, .vhost = d->vhost, .exchange = *d};
    return defs_append(st->defs, &def);
}

void store_exchange_deleted(store *st, amqp_str vhost, amqp_str name)
{
    store_def def = {.kind = DEF_EXCHANGE_GONE, .vhost = vhost, .name = name};
    if (defs_append(st->defs, &def) < 0)
        log_error("store: could not record the deletion of exchange '%.*s'; it will come back after a restart",
                  (int)name.len, name.ptr);
}

int store_binding(store *st, const store_binding_def *d, bool add)
{
    store_def def = {.kind = add ? DEF_BIND : DEF_UNBIND, .vhost = d->vhost, .binding = *d};
    int rc = defs_append(st->defs, &def);
    if (rc < 0 && !add)
        log_error("store: could not record an unbinding; the binding will come back after a restart");
    return rc;
}

int store_queue_declared(store *st, const store_queue_def *d, void *handle, uint32_t *id)
{
    store_def def = {.kind = DEF_QUEUE, .vhost = d->vhost, .queue = *d};

    *id = def.queue.id = st->next_qid++;
    if (defs_append(st->defs, &def) < 0)
        return -1;
    return qidmap_put(&st->qids, *id, handle);
}

void store_defs_group_commit(store *st, bool on)
{
    defs_group_commit(st->defs, on);
}

int store_sync_defs(store *st)
{
    return defs_sync(st->defs);
}

void store_queue_forget(store *st, uint32_t qid)
{
    qidmap_del(&st->qids, qid);
    store_purge_forget(st, qid);
}

void store_queue_deleted(store *st, uint32_t qid)
{
    store_def def = {.kind = DEF_QUEUE_GONE, .qid = qid};
    qidmap_del(&st->qids, qid);
    store_purge_forget(st, qid);
    if (defs_append(st->defs, &def) < 0)
        log_error("store: could not record the deletion of queue %u; it will come back after a restart", qid);
}

int store_user(store *st, const store_user_def *d, bool add)
{
    store_def def = {.kind = add ? DEF_USER : DEF_USER_GONE, .user = *d};
    return defs_append(st->defs, &def);
}

int store_vhost(store *st, amqp_str name, bool add)
{
    store_def def = {.kind = add ? DEF_VHOST : DEF_VHOST_GONE, .name = name};
    return defs_append(st->defs, &def);
}

int store_permission(store *st, const store_perm_def *d, bool add)
{
    store_def def = {.kind = add ? DEF_PERMISSION : DEF_PERMISSION_GONE, .perm = *d};
    return defs_append(st->defs, &def);
}

int store_limits(store *st, const store_limits_def *d)
{
    store_def def = {.kind = DEF_LIMITS, .limits = *d};
    return defs_append(st->defs, &def);
}

/* The queue ids of each vhost beyond "/" while the log replays: a vhost's
 * deletion is one record (DEF_VHOST_GONE) that takes all its queues, and
 * those the store must forget with them. */
typedef struct vhost_qids {
    uint32_t *ids;
    size_t n, cap;
} vhost_qids;

static int note_vhost_queue(store *st, amqp_str vhost, uint32_t qid)
{
    vhost_qids *v = map_get(&st->replay_vq, (const char *)vhost.ptr, vhost.len);
    if (!v) {
        if (!(v = calloc(1, sizeof *v)) || map_put(&st->replay_vq, (const char *)vhost.ptr, vhost.len, v) < 0) {
            free(v);
            return -1;
        }
    }
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 16;
        uint32_t *ids = realloc(v->ids, cap * sizeof *ids);
        if (!ids)
            return -1;
        v->ids = ids;
        v->cap = cap;
    }
    v->ids[v->n++] = qid;
    return 0;
}

/* Vhost `name` was deleted: every queue it still has goes with it. */
static void drop_vhost_queues(store *st, amqp_str name)
{
    const store_recovery *r = st->rec;
    vhost_qids *v = map_del(&st->replay_vq, (const char *)name.ptr, name.len);
    size_t i;

    if (!v)
        return;
    for (i = 0; i < v->n; i++) {
        void *q;
        if ((q = qidmap_del(&st->qids, v->ids[i]))) {
            store_purge_forget(st, v->ids[i]);
            if (r->delete_queue)
                r->delete_queue(r->ctx, q);
        }
    }
    free(v->ids);
    free(v);
}

void store_replay_done(store *st)
{
    size_t i = 0;
    void *v;
    while (map_next(&st->replay_vq, &i, NULL, NULL, &v)) {
        free(((vhost_qids *)v)->ids);
        free(v);
    }
    map_free(&st->replay_vq);
}

/* One record of the log at start, in order. */
int store_replay_def(void *ctx, const store_def *d)
{
    store *st = ctx;
    const store_recovery *r = st->rec;
    void *vctx = r->ctx;

    if (d->vhost.len && (!r->ctx_of_vhost || !(vctx = r->ctx_of_vhost(r->vhosts_ctx, d->vhost)))) {
        log_error("store: a definition in vhost '%.*s', which the log never created", (int)d->vhost.len,
                  d->vhost.ptr);
        return -1;
    }
    switch (d->kind) {
    case DEF_QUEUE: {
        void *q;
        if (!r->declare_queue || !(q = r->declare_queue(vctx, &d->queue)))
            return -1;
        if (qidmap_put(&st->qids, d->queue.id, q) < 0)
            return -1;
        if (d->queue.id >= st->next_qid)
            st->next_qid = d->queue.id + 1;
        if (d->vhost.len && note_vhost_queue(st, d->vhost, d->queue.id) < 0)
            return -1;
        return 0;
    }
    case DEF_QUEUE_PURGED:
        return store_purge_replay(st, d);
    case DEF_QUEUE_GONE: {
        void *q;
        store_purge_forget(st, d->qid);
        q = qidmap_del(&st->qids, d->qid);
        if (q && r->delete_queue)
            r->delete_queue(r->ctx, q);
        return 0;
    }
    case DEF_EXCHANGE:
        return r->declare_exchange ? r->declare_exchange(vctx, &d->exchange) : -1;
    case DEF_EXCHANGE_GONE:
        if (r->delete_exchange)
            r->delete_exchange(vctx, d->name);
        return 0;
    case DEF_BIND:
    case DEF_UNBIND:
        return r->bind ? r->bind(vctx, &d->binding, d->kind == DEF_BIND) : -1;
    case DEF_VHOST_GONE:
        drop_vhost_queues(st, d->name);
        /* fall through */
    case DEF_VHOST:
        return r->vhost ? r->vhost(r->vhosts_ctx, d->name, d->kind == DEF_VHOST) : 0;
    case DEF_USER:
    case DEF_USER_GONE:
        return r->user ? r->user(r->auth_ctx, &d->user, d->kind == DEF_USER) : 0;
    case DEF_PERMISSION:
    case DEF_PERMISSION_GONE:
        return r->permission ? r->permission(r->auth_ctx, &d->perm, d->kind == DEF_PERMISSION) : 0;
    case DEF_LIMITS:
        return r->limits ? r->limits(r->limits_ctx, &d->limits) : 0;
    case DEF_NEXT_QID:
        if (d->qid > st->next_qid)
            st->next_qid = d->qid;
        return 0;
    default:
        /* kinds this version does not use yet are kept by ignoring them */
        return 0;
    }
}

static int emit(void *sink, const store_def *d)
{
    return defs_put(sink, d);
}

/* A vhost beyond "/": its record first (arg: the writer) ... */
static int emit_vhost(void *arg, amqp_str name, void *vctx)
{
    store_def d = {.kind = DEF_VHOST, .name = name};
    (void)vctx;
    return defs_put(arg, &d);
}

/* ... then, after the queues of "/", its own */
struct vhost_fill {
    store *st;
    defs_writer *w;
};

static int emit_vhost_defs(void *arg, amqp_str name, void *vctx)
{
    struct vhost_fill *f = arg;
    (void)name;
    return f->st->rec->each_def ? f->st->rec->each_def(vctx, emit, f->w) : 0;
}

/* The current definitions, in an order replay can follow: the next queue
 * id, then what the broker has (queues, exchanges, the bindings between
 * them). */
static int fill(void *ctx, defs_writer *w)
{
    store *st = ctx;
    store_def next = {.kind = DEF_NEXT_QID, .qid = st->next_qid};

    if (defs_put(w, &next) < 0)
        return -1;
    if (st->rec->each_auth_def && st->rec->each_auth_def(st->rec->auth_ctx, emit, w) < 0)
        return -1;
    if (st->rec->each_vhost && st->rec->each_vhost(st->rec->vhosts_ctx, emit_vhost, w) < 0)
        return -1;
    if (st->rec->each_def && st->rec->each_def(st->rec->ctx, emit, w) < 0)
        return -1;
    if (st->rec->each_vhost && st->rec->each_vhost(st->rec->vhosts_ctx, emit_vhost_defs, &(struct vhost_fill){st, w}) < 0)
        return -1;
    if (st->rec->each_limits && st->rec->each_limits(st->rec->limits_ctx, emit, w) < 0)
        return -1;
    return store_purge_emit(st, emit, w);
}

int store_rewrite_defs(store *st)
{
    return defs_rewrite(st->defs, fill, st);
}
