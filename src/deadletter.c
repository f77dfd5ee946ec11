/*
 * deadletter.c - dead-lettering, as RabbitMQ 3.10 does it.
 *
 * A message rejected (or nacked) without requeue, expired, or pushed out
 * by x-max-length leaves its queue; if the queue has an
 * x-dead-letter-exchange it is republished there, with the routing key
 * x-dead-letter-routing-key (or its own), no `expiration` property, and an
 * `x-death` header telling what happened:
 *
 *   x-death: array of tables, the latest event first; one table per
 *     (queue, reason): count (long), reason, queue, time (timestamp, s),
 *     exchange, routing-keys (array), original-expiration (if it had one).
 *     An event already in the list has its count raised and moves first.
 *   x-first-death-reason / -queue / -exchange: set by the first event.
 *
 * It is published as any message is (publish.c): routed, then handed to
 * its queues; in between, a queue it would reach by a cycle with no
 * rejection in it (e.g. expiring back into the queue it expired from) is
 * taken out of the route set, so it does not loop forever.
 *
 * A message only on disk is read back to be republished; when that read
 * fails and may work later (EIO, EMFILE) the dead-lettering waits on the
 * queue and is retried (below), never dropped.
 */
#include "exchange.h"
#include "queue.h"
#include "vhost.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store/store.h"

/* Does headers' x-death make delivering to `target` a fully automatic
 * cycle (RabbitMQ's is_cycle)? */
static bool is_cycle(amqp_table headers, amqp_str target)
{
    amqp_value deaths, d, qv, rv;
    amqp_array_iter it;
    bool rejected = false;

    if (!amqp_table_get(headers, "x-death", &deaths) || deaths.type != 'A')
        return false;
    amqp_array_iter_init(&it, deaths.v.a);
    while (amqp_array_next(&it, &d)) {
        if (d.type != 'F')
            continue;
        if (amqp_table_get(d.v.t, "reason", &rv) && rv.type == 'S' && amqp_str_eqc(rv.v.s, "rejected"))
            rejected = true;
        if (amqp_table_get(d.v.t, "queue", &qv) && qv.type == 'S' && amqp_str_eq(qv.v.s, target))
            return !rejected;
    }
    return false;
}

static bool key_is(amqp_str k, const char *s)
{
    return amqp_str_eqc(k, s);
}

/* A copy of table t with the entry `key` set to v (or removed, v NULL),
 * entries sorted by key as RabbitMQ's set_table_value leaves them. */
typedef struct kv {
    amqp_str k;
    amqp_value v;
} kv;

static int cmp_kv(const void *a, const void *b)
{
    const kv *x = a, *y = b;
    uint32_t n = x->k.len < y->k.len ? x->k.len : y->k.len;
    int c = memcmp(x->k.ptr, y->k.ptr, n);
    return c ? c : (int)x->k.len - (int)y->k.len;
}

static void put_sorted(amqp_tbuf *out, kv *v, size_t n)
{
    size_t i;
    char key[256];
    qsort(v, n, sizeof *v, cmp_kv);
    for (i = 0; i < n; i++) {
        memcpy(key, v[i].k.ptr, v[i].k.len);
        key[v[i].k.len] = 0;
        amqp_tbuf_value(out, key, &v[i].v);
    }
}

/* The new x-death array: the event for (queue, reason) first. */
static void build_deaths(amqp_tbuf *arr, amqp_table headers, const queue *q, const char *reason,
                         amqp_str xname, amqp_str rk, amqp_str orig_exp, int64_t now_s)
{
    amqp_value deaths, d, qv, rv;
    amqp_array_iter it;
    bool found = false;

    if (amqp_table_get(headers, "x-death", &deaths) && deaths.type == 'A') {
        /* an earlier event of the same queue and reason: count + 1, first */
        amqp_array_iter_init(&it, deaths.v.a);
        while (amqp_array_next(&it, &d)) {
            if (d.type == 'F' && amqp_table_get(d.v.t, "queue", &qv) && qv.type == 'S' &&
                amqp_str_eq(qv.v.s, (amqp_str){q->name, q->namelen}) && amqp_table_get(d.v.t, "reason", &rv) &&
                rv.type == 'S' && amqp_str_eqc(rv.v.s, reason)) {
                amqp_tbuf entry = {0};
                amqp_table_iter ti;
                kv fields[32];
                size_t n = 0;
                amqp_str k;
                amqp_value v;
                bool counted = false;
                amqp_table_iter_init(&ti, d.v.t);
                while (n < 32 && amqp_table_next(&ti, &k, &v)) {
                    int64_t c;
                    if (key_is(k, "count") && amqp_value_int(&v, &c)) {
                        /* the client wrote this count: INT64_MAX + 1
                         * wraps to INT64_MIN, as RabbitMQ encodes it */
                        v.type = 'l';
                        v.v.i = (int64_t)((uint64_t)c + 1);
                        counted = true;
                    }
                    fields[n++] = (kv){k, v};
                }
                if (!counted && n < 32)
                    fields[n++] = (kv){amqp_cstr("count"), {.type = 'l', .v.i = 1}};
                put_sorted(&entry, fields, n);
                {
                    amqp_value t = {.type = 'F', .v.t = amqp_tbuf_done(&entry)};
                    amqp_tbuf_put_value(arr, &t);
                }
                amqp_tbuf_free(&entry);
                found = true;
                break;
            }
        }
    }
    if (!found) {
        amqp_tbuf entry = {0}, rks = {0};
        amqp_value rkv = {.type = 'S', .v.s = rk}, cc, t;
        kv fields[8];
        size_t n = 0;
        amqp_tbuf_put_value(&rks, &rkv);
        /* the routing keys it was published with: its own and the CC ones */
        if (amqp_table_get(headers, "CC", &cc) && cc.type == 'A') {
            amqp_array_iter ci;
            amqp_value k;
            amqp_array_iter_init(&ci, cc.v.a);
            while (amqp_array_next(&ci, &k))
                if (k.type == 'S')
                    amqp_tbuf_put_value(&rks, &k);
        }
        fields[n++] = (kv){amqp_cstr("count"), {.type = 'l', .v.i = 1}};
        fields[n++] = (kv){amqp_cstr("reason"), {.type = 'S', .v.s = amqp_cstr(reason)}};
        fields[n++] = (kv){amqp_cstr("queue"), {.type = 'S', .v.s = {q->name, q->namelen}}};
        fields[n++] = (kv){amqp_cstr("time"), {.type = 'T', .v.u = (uint64_t)now_s}};
        fields[n++] = (kv){amqp_cstr("exchange"), {.type = 'S', .v.s = xname}};
        fields[n++] = (kv){amqp_cstr("routing-keys"), {.type = 'A', .v.a = {rks.buf, (uint32_t)rks.len}}};
        if (orig_exp.ptr)
            fields[n++] = (kv){amqp_cstr("original-expiration"), {.type = 'S', .v.s = orig_exp}};
        if (amqp_table_get(headers, "x-death", &deaths)) {
            /* RabbitMQ sorts an entry it adds to an existing x-death */
            put_sorted(&entry, fields, n);
        } else {
            size_t i;
            for (i = 0; i < n; i++) {
                char key[32];
                memcpy(key, fields[i].k.ptr, fields[i].k.len);
                key[fields[i].k.len] = 0;
                amqp_tbuf_value(&entry, key, &fields[i].v);
            }
        }
        t.type = 'F';
        t.v.t = amqp_tbuf_done(&entry);
        amqp_tbuf_put_value(arr, &t);
        amqp_tbuf_free(&entry);
        amqp_tbuf_free(&rks);
    }
    /* then the other events, in their order */
    if (amqp_table_get(headers, "x-death", &deaths) && deaths.type == 'A') {
        amqp_array_iter_init(&it, deaths.v.a);
        while (amqp_array_next(&it, &d)) {
            if (d.type == 'F' && amqp_table_get(d.v.t, "queue", &qv) && qv.type == 'S' &&
                amqp_str_eq(qv.v.s, (amqp_str){q->name, q->namelen}) && amqp_table_get(d.v.t, "reason", &rv) &&
                rv.type == 'S' && amqp_str_eqc(rv.v.s, reason))
                continue;
            amqp_tbuf_put_value(arr, &d);
        }
    }
}

/* The dead-lettered copy of m: new headers, no expiration. */
static msg *make_dead(const queue *q, const msg *m, const char *reason, amqp_str dlx, amqp_str rk)
{
    amqp_basic_properties p;
    amqp_table headers = {0};
    amqp_tbuf arr = {0}, hb = {0}, pb = {0};
    amqp_str orig_exp = {0};
    amqp_table_iter it;
    amqp_str k;
    amqp_value v;
    kv fields[128];
    size_t n = 0;
    int64_t now_s = vhost_now_ms(q->vh) / 1000;
    msg *out = NULL;
    uint8_t *enc;

    if (amqp_basic_properties_decode(msg_props(m), m->props_len, &p) < 0)
        return NULL;
    if (p.flags & AMQP_BASIC_HEADERS_FLAG)
        headers = p.headers;
    if (p.flags & AMQP_BASIC_EXPIRATION_FLAG)
        orig_exp = p.expiration;
    build_deaths(&arr, headers, q, reason, (amqp_str){msg_exchange(m), m->exlen}, (amqp_str){msg_rk(m), m->rklen},
                 orig_exp, now_s);
    amqp_table_iter_init(&it, headers);
    while (n < 124 && amqp_table_next(&it, &k, &v)) {
        if (key_is(k, "x-death"))
            continue;
        if (q->set.dlrk.set && key_is(k, "CC"))
            continue;
        fields[n++] = (kv){k, v};
    }
    fields[n++] = (kv){amqp_cstr("x-death"), {.type = 'A', .v.a = {arr.buf, (uint32_t)arr.len}}};
    if (!amqp_table_get(headers, "x-death", &v)) {
        fields[n++] = (kv){amqp_cstr("x-first-death-reason"), {.type = 'S', .v.s = amqp_cstr(reason)}};
        fields[n++] = (kv){amqp_cstr("x-first-death-queue"), {.type = 'S', .v.s = {q->name, q->namelen}}};
        fields[n++] = (kv){amqp_cstr("x-first-death-exchange"),
                           {.type = 'S', .v.s = {msg_exchange(m), m->exlen}}};
    }
    put_sorted(&hb, fields, n);
    p.headers = amqp_tbuf_done(&hb);
    p.flags |= AMQP_BASIC_HEADERS_FLAG;
    p.flags &= (uint16_t)~AMQP_BASIC_EXPIRATION_FLAG;
    if (!arr.oom && !hb.oom && (enc = malloc(amqp_basic_properties_size(&p)))) {
        size_t plen = (size_t)(amqp_basic_properties_encode(enc, &p) - enc);
        out = msg_new(dlx, rk, enc, (uint32_t)plen, m->body_len);
        if (out) {
            memcpy(msg_body(out), msg_cbody(m), m->body_len);
            out->body_have = m->body_len;
            out->flags = m->flags;
            out->priority = m->priority;
            out->published = vhost_now_ms(q->vh);
            out->expiration = -1;
        }
        free(enc);
    }
    amqp_tbuf_free(&arr);
    amqp_tbuf_free(&hb);
    amqp_tbuf_free(&pb);
    return out;
}

/* e's message leaves q for good. */
static void let_go(queue *q, qentry *e)
{
    store *st = q->vh->st;
    queue_entry_gone(q, e);
    if ((e->flags & QE_STORED) && st)
        store_ack(st, q->id, e->seg, e->off, e->size);
    if (e->m)
        msg_unref(e->m);
    e->m = NULL;
}

/* Dead-letter e now.  STORE_READ_AGAIN when its message could not be read
 * back and may be later: e is untouched, still q's in the store.  Anything
 * else: e is done with (dead-lettered, dropped, or moved aside when its
 * record is damaged). */
static int dead_letter(queue *q, qentry *e, const char *reason)
{
    vhost *vh = q->vh;
    msg *m, *dead;
    route_set rs;
    deliver_result res;
    amqp_str rk;
    amqp_basic_properties p;
    uint32_t i, n = 0;
    int why;

    if (!q->set.dlx.set || !vhost_exchange(vh, (amqp_str){q->set.dlx.s, q->set.dlx.len})) {
        /* nowhere to go: dropped, as RabbitMQ does */
        let_go(q, e);
        return STORE_READ_OK;
    }
    why = queue_entry_msg(q, e, &m, "dead-lettered");
    if (why == STORE_READ_AGAIN)
        return why;
    let_go(q, e);
    if (!m)
        return why; /* damaged: moved aside, logged */
    rk = q->set.dlrk.set ? (amqp_str){q->set.dlrk.s, q->set.dlrk.len} : (amqp_str){msg_rk(m), m->rklen};
    dead = make_dead(q, m, reason, (amqp_str){q->set.dlx.s, q->set.dlx.len}, rk);
    msg_unref(m);
    if (!dead) {
        log_error("queue '%s': cannot dead-letter a message (out of memory or bad properties); dropped", q->name);
        return STORE_READ_OK;
    }
    /* dead names x and its key: by that key and, unless the queue sets
     * the key, by its CC keys too */
    vhost_route(vh, dead, !q->set.dlrk.set, &rs);
    /* no fully automatic cycles */
    if (strcmp(reason, "rejected") != 0 && amqp_basic_properties_decode(msg_props(dead), dead->props_len, &p) == 0) {
        for (i = 0; i < rs.n; i++)
            if (!is_cycle(p.headers, (amqp_str){rs.q[i]->name, rs.q[i]->namelen}))
                rs.q[n++] = rs.q[i];
        rs.n = n;
    }
    if (vhost_publish_routed(vh, dead, &rs, &res) < 0)
        log_error("queue '%s': could not store a dead-lettered message; dropped", q->name);
    route_set_done(&rs);
    msg_unref(dead);
    return STORE_READ_OK;
}

/* ------------------------------------------------------------ retries
 *
 * A dead-lettering whose message the store cannot read back (EIO, EMFILE)
 * must lose nothing.  The message has left its queue's ready list (it
 * expired, was rejected, or was pushed out by x-max-length), but it stays
 * the queue's in the store, and the dead-lettering waits on the queue's
 * list and is tried again every DL_RETRY_MS, in order; the ones that come
 * after it wait behind it.  A broker stopped meanwhile finds the message
 * back in its queue at the next start.  A record that fails its checksum
 * is moved aside at once, as a delivery would (queue_entry_msg).
 */
#define DL_RETRY_MS 1000

typedef struct dl_wait {
    struct dl_wait *next;
    qentry e;
    const char *reason;         /* a string constant */
} dl_wait;

static bool wait_push(queue *q, qentry *e, const char *reason)
{
    queue_rare *r = queue_rare_of(q);
    dl_wait *w = r ? malloc(sizeof *w) : NULL;
    if (!w)
        return false;
    w->next = NULL;
    w->e = *e;
    w->reason = reason;
    if (r->dl_tail)
        r->dl_tail->next = w;
    else
        r->dl_head = w;
    r->dl_tail = w;
    if (!ev_timer_active(&r->dl_timer))
        ev_timer_start(q->vh->loop, &r->dl_timer, DL_RETRY_MS);
    return true;
}

static void on_retry(ev_loop *loop, ev_timer *t)
{
    queue_rare *r = (queue_rare *)((char *)t - offsetof(queue_rare, dl_timer));
    queue *q = r->q;
    uint64_t done = 0;

    q->refs++;
    /* a dead-lettering from here (a cycle back into q) only appends */
    while (r->dl_head && !q->deleted) {
        dl_wait *w = r->dl_head;
        if (dead_letter(q, &w->e, w->reason) == STORE_READ_AGAIN)
            break;
        r->dl_head = w->next;
        if (!r->dl_head)
            r->dl_tail = NULL;
        free(w);
        done++;
    }
    if (r->dl_head && !q->deleted)
        ev_timer_start(loop, &r->dl_timer, DL_RETRY_MS);
    else if (done)
        log_info("queue '%s': the store reads again; %llu waiting dead-lettered messages sent on", q->name,
                 (unsigned long long)done);
    queue_unref(q);
}

void queue_deadletter_init(queue_rare *r)
{
    ev_timer_init(&r->dl_timer, on_retry);
}

void queue_deadletter_forget(queue *q, bool drop)
{
    queue_rare *r = q->rare;
    if (!r)
        return;
    ev_timer_stop(q->vh->loop, &r->dl_timer);
    while (r->dl_head) {
        dl_wait *w = r->dl_head;
        r->dl_head = w->next;
        if (drop)
            let_go(q, &w->e);
        else if (w->e.m)
            msg_unref(w->e.m);
        free(w);
    }
    r->dl_tail = NULL;
}

void queue_deadletter(queue *q, qentry *e, const char *reason)
{
    /* behind those waiting, in order; an in-memory one goes now if it
     * cannot wait (out of memory) */
    if (q->rare && q->rare->dl_head && wait_push(q, e, reason))
        return;
    if (dead_letter(q, e, reason) != STORE_READ_AGAIN)
        return;
    if (!wait_push(q, e, reason)) {
        log_error("queue '%s': cannot read message %llu from the store to dead-letter it, nor wait (out of "
                  "memory); it stays in the store and comes back at the next start",
                  q->name, (unsigned long long)e->seq);
        return;
    }
    log_error("queue '%s': cannot read message %llu from the store to dead-letter it (%s); it is kept, and "
              "tried again every %d ms",
              q->name, (unsigned long long)e->seq, reason, DL_RETRY_MS);
}
