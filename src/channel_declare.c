/*
 * channel_declare.c - the declaring methods of a channel: exchange.* and
 * queue.*, with RabbitMQ's rules and its wording for every refusal
 * (clients and their test suites match on these texts).
 *
 * Equivalence: redeclaring an existing queue or exchange must match what
 * exists (durable, auto_delete, exclusive, type, and the arguments RabbitMQ
 * compares, by amqp_value_equiv: 5 as I, l or T alike, 5.0 not), else 406
 * PRECONDITION_FAILED and nothing changes.  For a queue
 * the owner is checked first (405 RESOURCE_LOCKED), as RabbitMQ's
 * assert_equivalence does; an exclusive queue is never durable.
 *
 * Persistence: a durable declaration or binding is recorded by the store
 * (as the plain record queue_def, exchange_def or binding_def of
 * recovery.c makes) and synced before the -ok goes out.
 */
#include "warren.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "recovery.h"
#include "store/store.h"

int channel_declare_method(channel *ch, uint32_t id, amqp_method_args *a, amqp_error *err);
int channel_queue_access(channel *ch, amqp_str name, queue **out, amqp_error *err);

static const char *bool_str(bool b)
{
    return b ? "true" : "false";
}

static bool reserved_name(amqp_str name)
{
    return name.len >= 4 && memcmp(name.ptr, "amq.", 4) == 0;
}

/* ------------------------------------------------------------- arguments */

/* Erlang's ~p of a float (io_lib_format:fwrite_g): the shortest digits
 * that read back as d, the point placed where it costs the fewest
 * characters: 1000.5 "1000.5", 1000.0 "1.0e3", 100.0 "100.0", 0.001
 * "0.001", 0.0001 "1.0e-4". */
static void erlang_float(char *out, size_t n, double d)
{
    static const char zeros[] = "0000000000000000000000000000";
    char e[40], digits[24], expl[8];
    const char *sign = d < 0 ? "-" : "", *p;
    int prec, place, len = 0, cost;

    if (d == 0 || !isfinite(d)) {
        snprintf(out, n, d == 0 ? "0.0" : isnan(d) ? "nan" : d > 0 ? "inf" : "-inf");
        return;
    }
    for (prec = 0; prec < 17; prec++) {
        snprintf(e, sizeof e, "%.*e", prec, fabs(d));
        if (strtod(e, NULL) == fabs(d))
            break;
    }
    for (p = e; *p && *p != 'e'; p++)
        if (*p != '.')
            digits[len++] = *p;
    while (len > 1 && digits[len - 1] == '0')
        len--;
    digits[len] = 0;
    place = atoi(p + 1) + 1; /* d = 0.DIGITS * 10^place */
    snprintf(expl, sizeof expl, "%d", place - 1);
    cost = (int)strlen(expl) + 1 + (len == 1 ? 2 : 1);
    if (place <= 0 && 2 - place <= cost)
        snprintf(out, n, "%s0.%.*s%s", sign, -place, zeros, digits);
    else if (place >= len && place - len + 2 <= cost)
        snprintf(out, n, "%s%s%.*s.0", sign, digits, place - len, zeros);
    else if (place <= 0 || place >= len)
        snprintf(out, n, "%s%c.%s%se%s", sign, digits[0], digits + 1, len == 1 ? "0" : "", expl);
    else
        snprintf(out, n, "%s%.*s.%s", sign, place, digits, digits + place);
}

/* RabbitMQ's val/1: 'V' when both sides have the key, "the value 'V' of
 * type 'T'" when only one does, "none" for the side without it. */
static void describe(char *out, size_t n, const amqp_value *v, bool present, bool both)
{
    char val[100];
    int64_t i;

    if (!present) {
        snprintf(out, n, "none");
        return;
    }
    if (amqp_value_int(v, &i))
        snprintf(val, sizeof val, "%" PRId64, i);
    else if (v->type == 'S' || v->type == 'x')
        snprintf(val, sizeof val, "%.*s", (int)(v->v.s.len > 100 ? 100 : v->v.s.len), v->v.s.ptr);
    else if (v->type == 't')
        snprintf(val, sizeof val, "%s", bool_str(v->v.b));
    else if (v->type == 'd')
        erlang_float(val, sizeof val, v->v.d);
    else if (v->type == 'f')
        erlang_float(val, sizeof val, (double)v->v.f);
    else
        snprintf(val, sizeof val, "...");
    if (both)
        snprintf(out, n, "'%s'", val);
    else
        snprintf(out, n, "the value '%s' of type '%s'", val, amqp_type_name(v->type));
}

/* The queue arguments RabbitMQ compares on redeclaration. */
static const char *queue_equiv_args[] = {
    "x-expires", "x-message-ttl", "x-dead-letter-exchange", "x-dead-letter-routing-key",
    "x-max-length", "x-max-length-bytes", "x-max-in-memory-length", "x-max-in-memory-bytes",
    "x-max-priority", "x-overflow", "x-queue-mode", "x-single-active-consumer", "x-queue-type",
    "x-queue-master-locator", "x-queue-version",
};

static int args_equivalent(amqp_table cur, amqp_table got, const char **keys, size_t nkeys, const char *what,
                           const char *name, const char *vhname, amqp_error *err)
{
    size_t i;
    for (i = 0; i < nkeys; i++) {
        amqp_value vc, vg;
        bool hc = amqp_table_get(cur, keys[i], &vc), hg = amqp_table_get(got, keys[i], &vg);
        char dc[200], dg[200];
        if (!hc && !hg)
            continue;
        if (hc && hg && amqp_value_equiv(&vc, &vg))
            continue;
        if (!strcmp(keys[i], "x-queue-type") && (!hc || (vc.type == 'S' && amqp_str_eqc(vc.v.s, "classic"))) &&
            (!hg || (vg.type == 'S' && amqp_str_eqc(vg.v.s, "classic"))))
            continue; /* no type is the classic type */
        describe(dc, sizeof dc, &vc, hc, hc && hg);
        describe(dg, sizeof dg, &vg, hg, hc && hg);
        return amqp_fail(err, AMQP_PRECONDITION_FAILED,
                         "inequivalent arg '%s' for %s '%s' in vhost '%s': received %s but current is %s", keys[i],
                         what, name, vhname, dg, dc);
    }
    return 0;
}

/* Check the queue arguments RabbitMQ checks, with its error terms. */
static int validate_queue_args(amqp_table args, const char *qname, const char *vhname, amqp_error *err)
{
    amqp_table_iter it;
    amqp_str k;
    amqp_value v;
    char why[160];
    int64_t i;

    amqp_table_iter_init(&it, args);
    while (amqp_table_next(&it, &k, &v)) {
        bool is_int = amqp_value_int(&v, &i) && v.type != 'T';
        int vl = (int)(v.type == 'S' && v.v.s.len > 60 ? 60 : v.v.s.len);
        why[0] = 0;
        if (amqp_str_eqc(k, "x-expires") || amqp_str_eqc(k, "x-message-ttl") || amqp_str_eqc(k, "x-max-length") ||
            amqp_str_eqc(k, "x-max-length-bytes") || amqp_str_eqc(k, "x-max-priority") ||
            amqp_str_eqc(k, "x-queue-version")) {
            if (!is_int)
                snprintf(why, sizeof why, "\"expected integer, got %s\"", amqp_type_name(v.type));
            else if (i < 0)
                snprintf(why, sizeof why, "{value_negative,%lld}", (long long)i);
            else if (i == 0 && amqp_str_eqc(k, "x-expires"))
                snprintf(why, sizeof why, "{value_zero,0}");
            else if (amqp_str_eqc(k, "x-max-priority") && i > 255)
                snprintf(why, sizeof why, "{max_value_exceeded,%lld}", (long long)i);
            else if ((amqp_str_eqc(k, "x-message-ttl") || amqp_str_eqc(k, "x-expires")) && i > 315360000000ll)
                snprintf(why, sizeof why, "{value_too_large,%lld}", (long long)i); /* ten years */
            else if (amqp_str_eqc(k, "x-queue-version") && i != 1 && i != 2)
                snprintf(why, sizeof why, "\"unsupported queue version '%lld'\"", (long long)i);
        } else if (amqp_str_eqc(k, "x-dead-letter-exchange") || amqp_str_eqc(k, "x-dead-letter-routing-key")) {
            if (v.type != 'S')
                return amqp_fail(err, AMQP_PRECONDITION_FAILED, "invalid type '%s' for arg '%.*s' in queue '%s' in vhost '%s'",
                                 amqp_type_name(v.type), (int)k.len, k.ptr, qname, vhname);
        } else if (amqp_str_eqc(k, "x-overflow")) {
            if (v.type != 'S')
                snprintf(why, sizeof why, "{unacceptable_type,%s}", amqp_type_name(v.type));
            else if (!amqp_str_eqc(v.v.s, "drop-head") && !amqp_str_eqc(v.v.s, "reject-publish") &&
                     !amqp_str_eqc(v.v.s, "reject-publish-dlx"))
                snprintf(why, sizeof why, "invalid_overflow");
        } else if (amqp_str_eqc(k, "x-single-active-consumer")) {
            if (v.type != 't')
                snprintf(why, sizeof why, "{unacceptable_type,%s}", amqp_type_name(v.type));
        } else if (amqp_str_eqc(k, "x-queue-mode")) {
            if (v.type != 'S')
                snprintf(why, sizeof why, "{unacceptable_type,%s}", amqp_type_name(v.type));
            else if (!amqp_str_eqc(v.v.s, "default") && !amqp_str_eqc(v.v.s, "lazy"))
                snprintf(why, sizeof why, "\"unsupported queue mode '%.*s'\"", vl, v.v.s.ptr);
        } else if (amqp_str_eqc(k, "x-queue-type")) {
            if (v.type != 'S')
                snprintf(why, sizeof why, "{unacceptable_type,%s}", amqp_type_name(v.type));
            else if (!amqp_str_eqc(v.v.s, "classic") && !amqp_str_eqc(v.v.s, "quorum") &&
                     !amqp_str_eqc(v.v.s, "stream"))
                snprintf(why, sizeof why, "\"unsupported queue type '%.*s'\"", vl, v.v.s.ptr);
        }
        if (why[0])
            return amqp_fail(err, AMQP_PRECONDITION_FAILED, "invalid arg '%.*s' for queue '%s' in vhost '%s': %s",
                             (int)k.len, k.ptr, qname, vhname, why);
    }
    if (amqp_table_get(args, "x-dead-letter-routing-key", &v) && !amqp_table_get(args, "x-dead-letter-exchange", &v))
        return amqp_fail(err, AMQP_PRECONDITION_FAILED,
                         "invalid arg 'x-dead-letter-routing-key' for queue '%s' in vhost '%s': "
                         "routing_key_but_no_dlx_defined",
                         qname, vhname);
    return 0;
}

/* -------------------------------------------------------------- exchanges */

static int no_exchange(vhost *vh, amqp_str name, amqp_error *err)
{
    return amqp_fail(err, AMQP_NOT_FOUND, "no exchange '%.*s' in vhost '%s'", (int)name.len, name.ptr, vh->name);
}

static int exchange_declare(channel *ch, const amqp_exchange_declare *m, amqp_error *err)
{
    vhost *vh = ch->c->vh;
    exchange *x = vhost_exchange(vh, m->exchange);
    const exchange_type *t = NULL;

    /* as RabbitMQ: the type is checked first (not for a passive declare) */
    if (!m->passive) {
        if (m->type.len == 0)
            return amqp_fail(err, AMQP_COMMAND_INVALID, "invalid exchange type ''");
        t = exchange_type_find(m->type);
        if (!t)
            return amqp_fail(err, AMQP_COMMAND_INVALID, "%s exchange type '%.*s'",
                             exchange_type_is_atom(m->type) ? "invalid" : "unknown", (int)m->type.len, m->type.ptr);
    }
    if (m->exchange.len == 0)
        return amqp_fail(err, AMQP_ACCESS_REFUSED, "operation not permitted on the default exchange");
    if (m->passive) {
        if (!x)
            return no_exchange(vh, m->exchange, err);
        goto ok;
    }
    if (reserved_name(m->exchange) && !x)
        return amqp_fail(err, AMQP_ACCESS_REFUSED, "exchange name '%.*s' contains reserved prefix 'amq.*'",
                         (int)m->exchange.len, m->exchange.ptr);
    {
        amqp_value ae;
        if (!x && amqp_table_get(m->arguments, "alternate-exchange", &ae) && ae.type != 'S')
            return amqp_fail(err, AMQP_PRECONDITION_FAILED,
                             "invalid type '%s' for arg 'alternate-exchange' in exchange '%.*s' in vhost '%s'",
                             amqp_type_name(ae.type), (int)m->exchange.len, m->exchange.ptr, vh->name);
    }
    if (x) {
        if (x->type != t)
            return amqp_fail(err, AMQP_PRECONDITION_FAILED,
                             "inequivalent arg 'type' for exchange '%s' in vhost '%s': received '%.*s' but current is '%s'",
                             x->name, vh->name, (int)m->type.len, m->type.ptr, x->type->name);
        if (x->durable != m->durable)
            return amqp_fail(err, AMQP_PRECONDITION_FAILED,
                             "inequivalent arg 'durable' for exchange '%s' in vhost '%s': received '%s' but current is '%s'",
                             x->name, vh->name, bool_str(m->durable), bool_str(x->durable));
        if (x->auto_delete != m->auto_delete)
            return amqp_fail(err, AMQP_PRECONDITION_FAILED,
                             "inequivalent arg 'auto_delete' for exchange '%s' in vhost '%s': received '%s' but current is '%s'",
                             x->name, vh->name, bool_str(m->auto_delete), bool_str(x->auto_delete));
        if (x->internal != m->internal)
            return amqp_fail(err, AMQP_PRECONDITION_FAILED,
                             "inequivalent arg 'internal' for exchange '%s' in vhost '%s': received '%s' but current is '%s'",
                             x->name, vh->name, bool_str(m->internal), bool_str(x->internal));
        {
            static const char *keys[] = {"alternate-exchange"};
            if (args_equivalent((amqp_table){x->args, x->argslen}, m->arguments, keys, 1, "exchange", x->name,
                                vh->name, err) < 0)
                return -1;
        }
        goto ok;
    }
    if (!(x = exchange_new(vh, m->exchange, t, m->durable, m->auto_delete, m->internal, m->arguments)))
        return amqp_fail(err, AMQP_INTERNAL_ERROR, "out of memory");
    if (x->durable && vh->b->st &&
        store_exchange_declared(vh->b->st, exchange_def(x, &(store_exchange_def){0})) < 0) {
        x->durable = false;
        exchange_delete(x);
        return amqp_fail(err, AMQP_INTERNAL_ERROR, "cannot record exchange '%.*s' on disk", (int)m->exchange.len,
                         m->exchange.ptr);
    }
ok:
    if (!m->nowait) {
        amqp_exchange_declare_ok ok = {0};
        conn_send_method(ch->c, ch->id, AMQP_EXCHANGE_DECLARE_OK, &ok);
    }
    return 0;
}

static int exchange_delete_method(channel *ch, const amqp_exchange_delete *m, amqp_error *err)
{
    vhost *vh = ch->c->vh;
    exchange *x;

    if (m->exchange.len == 0)
        return amqp_fail(err, AMQP_ACCESS_REFUSED, "operation not permitted on the default exchange");
    if (reserved_name(m->exchange))
        return amqp_fail(err, AMQP_ACCESS_REFUSED, "deletion of system exchange '%.*s' in vhost '%s' not allowed",
                         (int)m->exchange.len, m->exchange.ptr, vh->name);
    x = vhost_exchange(vh, m->exchange);
    if (x) {
        if (m->if_unused && x->bindings)
            return amqp_fail(err, AMQP_PRECONDITION_FAILED, "exchange '%s' in vhost '%s' in use", x->name,
                             vh->name);
        exchange_delete(x);
    }
    if (!m->nowait) {
        amqp_exchange_delete_ok ok = {0};
        conn_send_method(ch->c, ch->id, AMQP_EXCHANGE_DELETE_OK, &ok);
    }
    return 0;
}

/* ----------------------------------------------------------------- queues */

static int queue_locked(const queue *q, amqp_error *err)
{
    return amqp_fail(err, AMQP_RESOURCE_LOCKED,
                     "cannot obtain exclusive access to locked queue '%s' in vhost '%s'. It could be originally "
                     "declared on another connection or the exclusive property value does not match that of "
                     "the original declaration.",
                     q->name, q->vh->name);
}

/* RabbitMQ's expand_queue_name_shortcut: an empty queue name means the
 * channel's most recently declared queue, and is 404 before anything else
 * is looked at when there is none. */
static int expand_name(channel *ch, amqp_str *name, amqp_error *err)
{
    if (name->len)
        return 0;
    if (ch->last_queue_len == 0)
        return amqp_fail(err, AMQP_NOT_FOUND, "no previously declared queue");
    *name = (amqp_str){ch->last_queue, ch->last_queue_len};
    return 0;
}

int channel_queue_access(channel *ch, amqp_str name, queue **out, amqp_error *err)
{
    vhost *vh = ch->c->vh;
    queue *q;

    if (expand_name(ch, &name, err) < 0)
        return -1;
    q = vhost_queue(vh, name);
    if (!q)
        return amqp_fail(err, AMQP_NOT_FOUND, "no queue '%.*s' in vhost '%s'", (int)name.len, name.ptr, vh->name);
    if (q->exclusive && q->owner != ch->c)
        return queue_locked(q, err);
    *out = q;
    return 0;
}

static void remember_queue(channel *ch, amqp_str name)
{
    memcpy(ch->last_queue, name.ptr, name.len);
    ch->last_queue_len = (uint8_t)name.len;
}

static int queue_declare(channel *ch, const amqp_queue_declare *m, amqp_error *err)
{
    vhost *vh = ch->c->vh;
    amqp_str name = m->queue;
    /* as RabbitMQ: an exclusive queue is never durable, whatever was asked
     * (it cannot outlive its connection, so it is never on disk) */
    bool durable = m->durable && !m->exclusive;
    char genname[64];
    queue *q;
    int rc;

    if (reply_to_name(name)) {
        /* direct reply-to (reply_to.c): the pseudo-queue, passive or not,
         * is always there with its one consumer; a name made from it is
         * there while its consumer is (RPC servers check with a passive
         * declare that the client still waits) */
        if (reply_to_declare(vh, name, err) < 0)
            return -1;
        remember_queue(ch, name);
        if (!m->nowait) {
            amqp_queue_declare_ok ok = {.queue = name, .message_count = 0, .consumer_count = 1};
            conn_send_method(ch->c, ch->id, AMQP_QUEUE_DECLARE_OK, &ok);
        }
        return 0;
    }
    if (m->passive) {
        /* a lookup, of exactly the name given ("" is not the last queue) */
        q = vhost_queue(vh, name);
        if (!q)
            return amqp_fail(err, AMQP_NOT_FOUND, "no queue '%.*s' in vhost '%s'", (int)name.len, name.ptr,
                             vh->name);
        if (q->exclusive && q->owner != ch->c)
            return queue_locked(q, err);
        goto ok;
    }
    if (name.len == 0) {
        memcpy(genname, "amq.gen-", 8);
        random_name(genname + 8, 22);
        genname[30] = 0;
        name = amqp_cstr(genname);
    } else if (reserved_name(name)) {
        /* checked before the lookup, as RabbitMQ's check_name: even an
         * existing amq.gen-... queue cannot be redeclared by name */
        return amqp_fail(err, AMQP_ACCESS_REFUSED, "queue name '%.*s' contains reserved prefix 'amq.*'",
                         (int)name.len, name.ptr);
    }
    q = vhost_queue(vh, name);
    if (q) {
        /* RabbitMQ's assert_equivalence, in its order: the owner (strictly:
         * an exclusive declare needs our own exclusive queue, a plain one a
         * queue without owner), then durable, auto_delete, arguments */
        if (m->exclusive ? !(q->exclusive && q->owner == ch->c) : q->exclusive)
            return queue_locked(q, err);
        if (q->durable != durable)
            return amqp_fail(err, AMQP_PRECONDITION_FAILED,
                             "inequivalent arg 'durable' for queue '%s' in vhost '%s': received '%s' but current is '%s'",
                             q->name, vh->name, bool_str(durable), bool_str(q->durable));
        if (q->auto_delete != m->auto_delete)
            return amqp_fail(err, AMQP_PRECONDITION_FAILED,
                             "inequivalent arg 'auto_delete' for queue '%s' in vhost '%s': received '%s' but current is '%s'",
                             q->name, vh->name, bool_str(m->auto_delete), bool_str(q->auto_delete));
        if (args_equivalent((amqp_table){q->args, q->argslen}, m->arguments, queue_equiv_args,
                            sizeof queue_equiv_args / sizeof *queue_equiv_args, "queue", q->name, vh->name,
                            err) < 0)
            return -1;
        goto ok;
    }
    {
        char qn[256];
        memcpy(qn, name.ptr, name.len);
        qn[name.len] = 0;
        if (validate_queue_args(m->arguments, qn, vh->name, err) < 0 ||
            queue_check_type(m->arguments, m->durable, m->exclusive, m->auto_delete, qn, vh->name, err) < 0)
            return -1;
    }
    q = queue_new(vh, name, durable, m->exclusive, m->auto_delete, m->arguments, ch->c);
    if (!q)
        return amqp_fail(err, AMQP_INTERNAL_ERROR, "out of memory");
    if (q->durable && vh->b->st &&
        (rc = store_queue_declared(vh->b->st, queue_def(q, &(store_queue_def){0}), q, &q->id)) < 0) {
        queue_delete(q);
        return amqp_fail(err, AMQP_INTERNAL_ERROR, "cannot record queue '%.*s' on disk", (int)name.len, name.ptr);
    }
    log_debug("queue '%s' declared (durable=%d exclusive=%d auto_delete=%d)", q->name, q->durable, q->exclusive,
              q->auto_delete);
ok:
    remember_queue(ch, name);
    if (!m->nowait) {
        amqp_queue_declare_ok ok = {
            .queue = name,
            .message_count = queue_message_count(q),
            .consumer_count = q->ncons,
        };
        conn_send_method(ch->c, ch->id, AMQP_QUEUE_DECLARE_OK, &ok);
        /* as RabbitMQ: reading the queue's counts for the declare-ok counts
         * as using it (x-expires starts over); a nowait declare does not */
        queue_touch(q);
    }
    return 0;
}

static int queue_delete_method(channel *ch, const amqp_queue_delete *m, amqp_error *err)
{
    vhost *vh = ch->c->vh;
    amqp_str name = m->queue;
    uint32_t n = 0;
    queue *q;

    if (expand_name(ch, &name, err) < 0)
        return -1;
    q = vhost_queue(vh, name); /* a missing one is delete-ok 0 */
    if (q) {
        if (q->exclusive && q->owner != ch->c)
            return queue_locked(q, err);
        if (m->if_unused && q->ncons > 0)
            return amqp_fail(err, AMQP_PRECONDITION_FAILED, "queue '%s' in vhost '%s' in use", q->name, vh->name);
        if (m->if_empty && queue_message_count(q) > 0)
            return amqp_fail(err, AMQP_PRECONDITION_FAILED, "queue '%s' in vhost '%s' not empty", q->name,
                             vh->name);
        n = queue_delete(q);
    }
    if (!m->nowait) {
        amqp_queue_delete_ok ok = {.message_count = n};
        conn_send_method(ch->c, ch->id, AMQP_QUEUE_DELETE_OK, &ok);
    }
    return 0;
}

static int queue_purge_method(channel *ch, const amqp_queue_purge *m, amqp_error *err)
{
    queue *q;
    uint32_t n;

    if (channel_queue_access(ch, m->queue, &q, err) < 0)
        return -1;
    n = queue_purge(q);
    if (!m->nowait) {
        amqp_queue_purge_ok ok = {.message_count = n};
        conn_send_method(ch->c, ch->id, AMQP_QUEUE_PURGE_OK, &ok);
    }
    return 0;
}

/* Add (bind) or remove a binding from src to a queue or an exchange. */
static int do_bind(channel *ch, bool bind, exchange *src, queue *q, exchange *dst, amqp_str key, amqp_table args,
                   amqp_error *err)
{
    store *st = ch->c->vh->b->st;
    binding *b = binding_find(src, q, dst, key, args);

    if (bind) {
        if (b)
            return 0;
        if (src->type->validate && src->type->validate(args, err) < 0)
            return -1;
        if (!(b = binding_add(src, q, dst, key, args)))
            return amqp_fail(err, AMQP_INTERNAL_ERROR, "out of memory");
        if (binding_durable(b) && st && store_binding(st, binding_def(b, &(store_binding_def){0}), true) < 0) {
            binding_remove(b);
            return amqp_fail(err, AMQP_INTERNAL_ERROR, "cannot record the binding on disk");
        }
        return 0;
    }
    if (b) {
        if (binding_durable(b) && st)
            store_binding(st, binding_def(b, &(store_binding_def){0}), false);
        binding_remove(b);
    }
    return 0;
}

static int queue_bind_method(channel *ch, bool bind, amqp_str qname, amqp_str xname, amqp_str key,
                             amqp_table args, amqp_error *err)
{
    queue *q;
    exchange *x;
    vhost *vh = ch->c->vh;

    /* as RabbitMQ: the empty-name shortcuts first (an empty key with an
     * empty queue name is the queue's name), then the default exchange */
    if (qname.len == 0 && key.len == 0 && expand_name(ch, &key, err) < 0)
        return -1;
    if (expand_name(ch, &qname, err) < 0)
        return -1;
    if (xname.len == 0)
        return amqp_fail(err, AMQP_ACCESS_REFUSED, "operation not permitted on the default exchange");
    if (!bind) {
        /* unbinding what does not exist is fine, as in RabbitMQ; only an
         * existing binding of another connection's exclusive queue is 405 */
        x = vhost_exchange(vh, xname);
        q = vhost_queue(vh, qname);
        if (!x || !q)
            return 0;
        if (q->exclusive && q->owner != ch->c && binding_find(x, q, NULL, key, args))
            return queue_locked(q, err);
        return do_bind(ch, false, x, q, NULL, key, args, err);
    }
    /* the source is named first when both ends are missing */
    if (!(x = vhost_exchange(vh, xname)))
        return no_exchange(vh, xname, err);
    if (channel_queue_access(ch, qname, &q, err) < 0)
        return -1;
    return do_bind(ch, true, x, q, NULL, key, args, err);
}

static int exchange_bind_method(channel *ch, bool bind, amqp_str dname, amqp_str sname, amqp_str key,
                                amqp_table args, amqp_error *err)
{
    vhost *vh = ch->c->vh;
    exchange *src, *dst;

    if (dname.len == 0 || sname.len == 0)
        return amqp_fail(err, AMQP_ACCESS_REFUSED, "operation not permitted on the default exchange");
    src = vhost_exchange(vh, sname);
    dst = vhost_exchange(vh, dname);
    if (!bind && (!src || !dst))
        return 0;
    if (!src)
        return no_exchange(vh, sname, err);
    if (!dst)
        return no_exchange(vh, dname, err);
    return do_bind(ch, bind, src, NULL, dst, key, args, err);
}

int channel_declare_method(channel *ch, uint32_t id, amqp_method_args *a, amqp_error *err)
{
    switch (id) {
    case AMQP_EXCHANGE_DECLARE:
        return exchange_declare(ch, &a->exchange_declare, err);
    case AMQP_EXCHANGE_DELETE:
        return exchange_delete_method(ch, &a->exchange_delete, err);
    case AMQP_EXCHANGE_BIND: {
        amqp_exchange_bind *m = &a->exchange_bind;
        if (exchange_bind_method(ch, true, m->destination, m->source, m->routing_key, m->arguments, err) < 0)
            return -1;
        if (!m->nowait) {
            amqp_exchange_bind_ok ok = {0};
            conn_send_method(ch->c, ch->id, AMQP_EXCHANGE_BIND_OK, &ok);
        }
        return 0;
    }
    case AMQP_EXCHANGE_UNBIND: {
        amqp_exchange_unbind *m = &a->exchange_unbind;
        if (exchange_bind_method(ch, false, m->destination, m->source, m->routing_key, m->arguments, err) < 0)
            return -1;
        if (!m->nowait) {
            amqp_exchange_unbind_ok ok = {0};
            conn_send_method(ch->c, ch->id, AMQP_EXCHANGE_UNBIND_OK, &ok);
        }
        return 0;
    }
    case AMQP_QUEUE_DECLARE:
        return queue_declare(ch, &a->queue_declare, err);
    case AMQP_QUEUE_DELETE:
        return queue_delete_method(ch, &a->queue_delete, err);
    case AMQP_QUEUE_PURGE:
        return queue_purge_method(ch, &a->queue_purge, err);
    case AMQP_QUEUE_BIND: {
        amqp_queue_bind *m = &a->queue_bind;
        if (queue_bind_method(ch, true, m->queue, m->exchange, m->routing_key, m->arguments, err) < 0)
            return -1;
        if (!m->nowait) {
            amqp_queue_bind_ok ok = {0};
            conn_send_method(ch->c, ch->id, AMQP_QUEUE_BIND_OK, &ok);
        }
        return 0;
    }
    case AMQP_QUEUE_UNBIND: {
        amqp_queue_unbind *m = &a->queue_unbind;
        amqp_queue_unbind_ok ok = {0};
        if (queue_bind_method(ch, false, m->queue, m->exchange, m->routing_key, m->arguments, err) < 0)
            return -1;
        conn_send_method(ch->c, ch->id, AMQP_QUEUE_UNBIND_OK, &ok);
        return 0;
    }
    default:
        return amqp_fail(err, AMQP_COMMAND_INVALID, "unexpected method %s on a channel", amqp_method_name(id));
    }
}
