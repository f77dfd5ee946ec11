/*
 * queue_args.c - the x- arguments of queue.declare: one table, read by
 * validation, the redeclare's equivalence, the queue type's refusals and
 * the reading of a new queue's settings.
 *
 * Every refusal is worded as RabbitMQ 3.10 words it (clients and their test
 * suites match on these texts): a bad value is "invalid arg 'K' for queue
 * 'Q' in vhost 'V': <term>", the term being what rabbit_amqqueue's check
 * returns ({value_negative,-1}, "expected integer, got longstr"); a
 * redeclare that differs is "inequivalent arg 'K' ...: received X but
 * current is Y", the values rendered as Erlang prints them (erlang_float).
 *
 * The table's order matters twice: the compared rows come first, in
 * RabbitMQ's order, which is the order a redeclare reports the first
 * difference in; validation and the type's refusals walk the declared
 * arguments instead, so the first bad one as the client sent them is
 * reported.
 *
 * Adding an argument: a row (its value's field in queue_settings, with its
 * default in queue_args_read when that is not 0), and a check function if
 * none of those below fits.
 */
#include "queue_args.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

#define TEN_YEARS_MS 315360000000ll /* the longest x-message-ttl, x-expires */

/* ------------------------------------------------------------- checks */

static int invalid(char *why, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int invalid(char *why, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, n, fmt, ap);
    va_end(ap);
    return ARG_INVALID;
}

/* An integer of any type but the timestamp, and not negative. */
static int want_count(const amqp_value *v, int64_t *i, char *why, size_t n)
{
    if (!amqp_value_int(v, i) || v->type == 'T')
        return invalid(why, n, "\"expected integer, got %s\"", amqp_type_name(v->type));
    if (*i < 0)
        return invalid(why, n, "{value_negative,%lld}", (long long)*i);
    return ARG_OK;
}

static int check_count(const amqp_value *v, char *why, size_t n)
{
    int64_t i;
    return want_count(v, &i, why, n);
}

static int check_message_ttl(const amqp_value *v, char *why, size_t n)
{
    int64_t i;
    if (want_count(v, &i, why, n) < 0)
        return ARG_INVALID;
    if (i > TEN_YEARS_MS)
        return invalid(why, n, "{value_too_large,%lld}", (long long)i);
    return ARG_OK;
}

static int check_expires(const amqp_value *v, char *why, size_t n)
{
    int64_t i;
    if (want_count(v, &i, why, n) < 0)
        return ARG_INVALID;
    if (i == 0)
        return invalid(why, n, "{value_zero,0}");
    if (i > TEN_YEARS_MS)
        return invalid(why, n, "{value_too_large,%lld}", (long long)i);
    return ARG_OK;
}

static int check_max_priority(const amqp_value *v, char *why, size_t n)
{
    int64_t i;
    if (want_count(v, &i, why, n) < 0)
        return ARG_INVALID;
    if (i > 255)
        return invalid(why, n, "{max_value_exceeded,%lld}", (long long)i);
    return ARG_OK;
}

static int check_queue_version(const amqp_value *v, char *why, size_t n)
{
    int64_t i;
    if (want_count(v, &i, why, n) < 0)
        return ARG_INVALID;
    if (i != 1 && i != 2)
        return invalid(why, n, "\"unsupported queue version '%lld'\"", (long long)i);
    return ARG_OK;
}

static int check_consumer_timeout(const amqp_value *v, char *why, size_t n)
{
    int64_t i;
    if (want_count(v, &i, why, n) < 0)
        return ARG_INVALID;
    if (i > CONSUMER_TIMEOUT_MAX)
        return invalid(why, n, "{value_too_large,%lld}", (long long)i);
    return ARG_OK;
}

/* An exchange or routing key name: RabbitMQ refuses any other type with
 * "invalid type", not "invalid arg". */
static int check_shortstr(const amqp_value *v, char *why, size_t n)
{
    return v->type == 'S' ? ARG_OK : ARG_WRONG_TYPE;
}

static int check_bool(const amqp_value *v, char *why, size_t n)
{
    if (v->type != 't')
        return invalid(why, n, "{unacceptable_type,%s}", amqp_type_name(v->type));
    return ARG_OK;
}

/* A longstr: ARG_OK when it is one of words (NULL-terminated), 1 when it
 * is another; ARG_INVALID with why set when it is no longstr. */
static int word_of(const amqp_value *v, const char *const *words, char *why, size_t n)
{
    if (v->type != 'S')
        return invalid(why, n, "{unacceptable_type,%s}", amqp_type_name(v->type));
    for (; *words; words++)
        if (amqp_str_eqc(v->v.s, *words))
            return ARG_OK;
    return 1;
}

/* At most 60 characters of a longstr, to quote it back. */
static int quoted_len(const amqp_value *v)
{
    return (int)(v->v.s.len > 60 ? 60 : v->v.s.len);
}

static int check_overflow(const amqp_value *v, char *why, size_t n)
{
    static const char *const words[] = {"drop-head", "reject-publish", "reject-publish-dlx", NULL};
    int rc = word_of(v, words, why, n);
    return rc == 1 ? invalid(why, n, "invalid_overflow") : rc;
}

static int check_queue_mode(const amqp_value *v, char *why, size_t n)
{
    static const char *const words[] = {"default", "lazy", NULL};
    int rc = word_of(v, words, why, n);
    return rc == 1 ? invalid(why, n, "\"unsupported queue mode '%.*s'\"", quoted_len(v), v->v.s.ptr) : rc;
}

static const char *const queue_types[] = {"classic", "quorum", "stream", NULL}; /* QUEUE_TYPE_* */

static int check_queue_type(const amqp_value *v, char *why, size_t n)
{
    int rc = word_of(v, queue_types, why, n);
    return rc == 1 ? invalid(why, n, "\"unsupported queue type '%.*s'\"", quoted_len(v), v->v.s.ptr) : rc;
}

static void erlang_float(char *out, size_t n, double d);

/* The double of a decimal (pika sends a Python Decimal so). */
static double decimal_value(const amqp_value *v)
{
    return (double)(int32_t)v->v.dec.value / pow(10, v->v.dec.scale);
}

/* An integer, a float or a decimal (not a timestamp), as a double. */
static int want_number(const amqp_value *v, double *d, char *why, size_t n)
{
    int64_t i;
    if (v->type == 'D') {
        *d = decimal_value(v);
        return ARG_OK;
    }
    if (v->type == 'd' || v->type == 'f') {
        *d = v->type == 'd' ? v->v.d : (double)v->v.f;
        if (!isfinite(*d))
            return invalid(why, n, "{value_not_finite,%s}", amqp_type_name(v->type));
        return ARG_OK;
    }
    if (!amqp_value_int(v, &i) || v->type == 'T')
        return invalid(why, n, "\"expected number, got %s\"", amqp_type_name(v->type));
    *d = (double)i;
    return ARG_OK;
}

/* x-backoff-multiplier: 1 (a fixed delay) to 1000. */
static int check_backoff_multiplier(const amqp_value *v, char *why, size_t n)
{
    char f[40];
    double d;
    if (want_number(v, &d, why, n) < 0)
        return ARG_INVALID;
    erlang_float(f, sizeof f, d);
    if (d < 1)
        return invalid(why, n, "{value_too_small,%s}", f);
    if (d > 1000)
        return invalid(why, n, "{value_too_large,%s}", f);
    return ARG_OK;
}

/* x-backoff-jitter: a fraction of the delay, 0 to 1. */
static int check_backoff_jitter(const amqp_value *v, char *why, size_t n)
{
    char f[40];
    double d;
    if (want_number(v, &d, why, n) < 0)
        return ARG_INVALID;
    erlang_float(f, sizeof f, d);
    if (d < 0 || d > 1)
        return invalid(why, n, "{value_out_of_range,%s}", f);
    return ARG_OK;
}

/* ------------------------------------------------------------- setters */

/* Each takes a validated value; one of another type leaves the default. */

static void set_int64(void *field, const amqp_value *v)
{
    int64_t i;
    if (amqp_value_int(v, &i))
        *(int64_t *)field = i;
}

/* A count kept in 32 bits: a larger one (checked, so not negative) is
 * as good as INT32_MAX. */
static void set_int32(void *field, const amqp_value *v)
{
    int64_t i;
    if (amqp_value_int(v, &i))
        *(int32_t *)field = i > INT32_MAX ? INT32_MAX : (int32_t)i;
}

static void set_double(void *field, const amqp_value *v)
{
    int64_t i;
    if (v->type == 'd')
        *(double *)field = v->v.d;
    else if (v->type == 'D')
        *(double *)field = decimal_value(v);
    else if (v->type == 'f')
        *(double *)field = (double)v->v.f;
    else if (amqp_value_int(v, &i))
        *(double *)field = (double)i;
}

static void set_uint8(void *field, const amqp_value *v)
{
    int64_t i;
    if (amqp_value_int(v, &i))
        *(uint8_t *)field = (uint8_t)i;
}

static void set_bool(void *field, const amqp_value *v)
{
    if (v->type == 't')
        *(bool *)field = v->v.b;
}

static void set_str(void *field, const amqp_value *v)
{
    queue_setting_str *s = field;
    if (v->type == 'S' && v->v.s.len < 256) {
        s->set = true;
        s->len = (uint8_t)v->v.s.len;
        s->s = (const char *)v->v.s.ptr;
    }
}

static void set_queue_type(void *field, const amqp_value *v)
{
    if (v->type == 'S' && amqp_str_eqc(v->v.s, "quorum"))
        *(bool *)field = true;
}

static void set_overflow(void *field, const amqp_value *v)
{
    if (v->type != 'S')
        return;
    if (amqp_str_eqc(v->v.s, "reject-publish"))
        *(uint8_t *)field = OVERFLOW_REJECT;
    else if (amqp_str_eqc(v->v.s, "reject-publish-dlx"))
        *(uint8_t *)field = OVERFLOW_REJECT_DLX;
}

/* --------------------------------------------------------------- table */

#define AT(f) offsetof(queue_settings, f)
#define BO(f) offsetof(queue_backoff, f)

/* The arguments RabbitMQ 3.10 knows, and which of its queue types refuse
 * which (rabbit_{classic,quorum,stream}_queue:capabilities); the compared
 * ones first, in rabbit_amqqueue's order. */
static const queue_arg args_table[] = {
    {.name = "x-expires", .check = check_expires, .compared = true, .refused_by = QT_STREAM,
     .apply = set_int64, .field = AT(expires)},
    {.name = "x-message-ttl", .check = check_message_ttl, .compared = true, .refused_by = QT_STREAM,
     .apply = set_int64, .field = AT(msg_ttl)},
    {.name = "x-dead-letter-exchange", .check = check_shortstr, .compared = true, .refused_by = QT_STREAM,
     .apply = set_str, .field = AT(dlx)},
    {.name = "x-dead-letter-routing-key", .check = check_shortstr, .compared = true, .refused_by = QT_STREAM,
     .apply = set_str, .field = AT(dlrk),
     .needs = "x-dead-letter-exchange", .needs_why = "routing_key_but_no_dlx_defined"},
    {.name = "x-max-length", .check = check_count, .compared = true, .refused_by = QT_STREAM,
     .apply = set_int64, .field = AT(max_length)},
    {.name = "x-max-length-bytes", .check = check_count, .compared = true, .apply = set_int64, .field = AT(max_bytes)},
    {.name = "x-max-in-memory-length", .compared = true, .refused_by = QT_CLASSIC | QT_STREAM},
    {.name = "x-max-in-memory-bytes", .compared = true, .refused_by = QT_CLASSIC | QT_STREAM},
    {.name = "x-max-priority", .check = check_max_priority, .compared = true, .refused_by = QT_QUORUM | QT_STREAM,
     .apply = set_uint8, .field = AT(max_priority)},
    {.name = "x-overflow", .check = check_overflow, .compared = true, .refused_by = QT_STREAM,
     .apply = set_overflow, .field = AT(overflow)},
    {.name = "x-queue-mode", .check = check_queue_mode, .compared = true, .refused_by = QT_QUORUM | QT_STREAM},
    {.name = "x-single-active-consumer", .check = check_bool, .compared = true, .refused_by = QT_STREAM,
     .apply = set_bool, .field = AT(single_active)},
    {.name = "x-queue-type", .check = check_queue_type, .compared = true, .absent_is = "classic",
     .apply = set_queue_type, .field = AT(quorum)},
    {.name = "x-queue-master-locator", .compared = true, .refused_by = QT_QUORUM | QT_STREAM},
    {.name = "x-queue-version", .check = check_queue_version, .compared = true, .refused_by = QT_QUORUM | QT_STREAM},
    /* not compared on a redeclare */
    /* RabbitMQ refuses it on classic queues; warren counts deliveries on
     * every queue (doc/work-queues.md). RabbitMQ 3.10 takes any value on a
     * quorum queue unchecked; warren checks it as the other counts. */
    {.name = "x-delivery-limit", .check = check_count, .refused_by = QT_STREAM,
     .apply = set_int32, .field = AT(delivery_limit)},
    /* warren's back-off on requeue (delay.c); RabbitMQ has none and takes
     * any x- argument it does not know, so these are new names */
    {.name = "x-backoff-initial", .check = check_message_ttl, .apply = set_int64, .field = BO(initial),
     .backoff = true},
    {.name = "x-backoff-multiplier", .check = check_backoff_multiplier, .apply = set_double, .field = BO(multiplier),
     .backoff = true, .needs = "x-backoff-initial", .needs_why = "backoff_but_no_initial_delay"},
    {.name = "x-backoff-max", .check = check_message_ttl, .apply = set_int64, .field = BO(max), .backoff = true,
     .needs = "x-backoff-initial", .needs_why = "backoff_but_no_initial_delay"},
    {.name = "x-backoff-jitter", .check = check_backoff_jitter, .apply = set_double, .field = BO(jitter),
     .backoff = true, .needs = "x-backoff-initial", .needs_why = "backoff_but_no_initial_delay"},
    /* RabbitMQ 3.12's (3.11.15's) per-queue consumer timeout; warren
     * requeues the overdue delivery instead of closing the channel */
    {.name = "x-consumer-timeout", .check = check_consumer_timeout, .apply = set_int32,
     .field = AT(consumer_timeout)},
    /* the rabbitmq-message-deduplication plugin's queue-level mode */
    {.name = "x-message-deduplication", .check = check_bool, .apply = set_bool, .field = AT(dedup)},
    {.name = "x-quorum-initial-group-size", .refused_by = QT_CLASSIC | QT_STREAM},
    {.name = "x-dead-letter-strategy", .refused_by = QT_CLASSIC | QT_STREAM},
    {.name = "x-max-age", .refused_by = QT_CLASSIC | QT_QUORUM},
    {.name = "x-stream-max-segment-size-bytes", .refused_by = QT_CLASSIC | QT_QUORUM},
    {.name = "x-initial-cluster-size", .refused_by = QT_CLASSIC | QT_QUORUM},
    {.name = "x-queue-leader-locator", .refused_by = QT_CLASSIC},
};

#define NARGS (sizeof args_table / sizeof *args_table)

const queue_arg *queue_arg_find(amqp_str name)
{
    size_t i;
    for (i = 0; i < NARGS; i++)
        if (amqp_str_eqc(name, args_table[i].name))
            return &args_table[i];
    return NULL;
}

/* ---------------------------------------------------------- validation */

int queue_args_validate(amqp_table args, const char *qname, const char *vhname, amqp_error *err)
{
    amqp_table_iter it;
    amqp_str k;
    amqp_value v;
    size_t i;

    amqp_table_iter_init(&it, args);
    while (amqp_table_next(&it, &k, &v)) {
        const queue_arg *a = queue_arg_find(k);
        char why[160];
        int rc = a && a->check ? a->check(&v, why, sizeof why) : ARG_OK;
        if (rc == ARG_WRONG_TYPE)
            return amqp_fail(err, AMQP_PRECONDITION_FAILED, "invalid type '%s' for arg '%.*s' in queue '%s' in vhost '%s'",
                             amqp_type_name(v.type), (int)k.len, k.ptr, qname, vhname);
        if (rc < 0)
            return amqp_fail(err, AMQP_PRECONDITION_FAILED, "invalid arg '%.*s' for queue '%s' in vhost '%s': %s",
                             (int)k.len, k.ptr, qname, vhname, why);
    }
    for (i = 0; i < NARGS; i++) {
        const queue_arg *a = &args_table[i];
        if (a->needs && amqp_table_get(args, a->name, &v) && !amqp_table_get(args, a->needs, &v))
            return amqp_fail(err, AMQP_PRECONDITION_FAILED, "invalid arg '%s' for queue '%s' in vhost '%s': %s",
                             a->name, qname, vhname, a->needs_why);
    }
    return 0;
}

/* --------------------------------------------------------- equivalence */

static const char *bool_str(bool b)
{
    return b ? "true" : "false";
}

/* Erlang's ~p of a float (io_lib_format:fwrite_g): the shortest digits
 * that read back as d, the point placed where it costs the fewest
 * characters: 1000.5 "1000.5", 1000.0 "1.0e3", 100.0 "100.0", 0.0001
 * "0.0001", 0.00012 "1.2e-4", 0.00001 "1.0e-5" (as RabbitMQ 3.10 prints
 * them). */
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

/* Absent, or the longstr that means absent. */
static bool no_value(bool present, const amqp_value *v, const char *absent_is)
{
    return !present || (v->type == 'S' && amqp_str_eqc(v->v.s, absent_is));
}

int queue_args_compare(amqp_table cur, amqp_table got, const char *key, const char *absent_is, const char *what,
                       const char *name, const char *vhname, amqp_error *err)
{
    amqp_value vc, vg;
    bool hc = amqp_table_get(cur, key, &vc), hg = amqp_table_get(got, key, &vg);
    char dc[200], dg[200];

    if (!hc && !hg)
        return 0;
    if (hc && hg && amqp_value_equiv(&vc, &vg))
        return 0;
    if (absent_is && no_value(hc, &vc, absent_is) && no_value(hg, &vg, absent_is))
        return 0;
    describe(dc, sizeof dc, &vc, hc, hc && hg);
    describe(dg, sizeof dg, &vg, hg, hc && hg);
    return amqp_fail(err, AMQP_PRECONDITION_FAILED,
                     "inequivalent arg '%s' for %s '%s' in vhost '%s': received %s but current is %s", key, what,
                     name, vhname, dg, dc);
}

int queue_args_equivalent(amqp_table cur, amqp_table got, const char *qname, const char *vhname, amqp_error *err)
{
    size_t i;
    for (i = 0; i < NARGS; i++)
        if (args_table[i].compared &&
            queue_args_compare(cur, got, args_table[i].name, args_table[i].absent_is, "queue", qname, vhname,
                               err) < 0)
            return -1;
    return 0;
}

/* ---------------------------------------------------------- queue type */

int queue_args_check_type(amqp_table args, bool durable, bool exclusive, bool auto_delete, const char *qname,
                          const char *vhname, amqp_error *err)
{
    amqp_table_iter it;
    amqp_value v;
    amqp_str k;
    int t = QUEUE_TYPE_CLASSIC;

    if (amqp_table_get(args, "x-queue-type", &v) && v.type == 'S')
        for (t = QUEUE_TYPE_STREAM; t > QUEUE_TYPE_CLASSIC && !amqp_str_eqc(v.v.s, queue_types[t]); t--)
            ;
    amqp_table_iter_init(&it, args);
    while (amqp_table_next(&it, &k, &v)) {
        const queue_arg *a = queue_arg_find(k);
        if (a && (a->refused_by & (1u << t)))
            return amqp_fail(err, AMQP_PRECONDITION_FAILED,
                             "invalid arg '%.*s' for queue '%s' in vhost '%s' of queue type rabbit_%s_queue",
                             (int)k.len, k.ptr, qname, vhname, queue_types[t]);
    }
    if (t == QUEUE_TYPE_CLASSIC)
        return 0;
    if (auto_delete || exclusive || !durable)
        return amqp_fail(err, AMQP_PRECONDITION_FAILED, "invalid property '%s' for queue '%s' in vhost '%s'",
                         auto_delete ? "auto-delete" : exclusive ? "exclusive-owner" : "non-durable", qname, vhname);
    if (t == QUEUE_TYPE_QUORUM)
        return 0; /* a durable queue with a delivery limit (doc/work-queues.md) */
    return amqp_fail(err, AMQP_PRECONDITION_FAILED,
                     "invalid arg 'x-queue-type' for queue '%s' in vhost '%s': warren has classic and quorum "
                     "queues, not %s queues",
                     qname, vhname, queue_types[t]);
}

/* ------------------------------------------------------------- reading */

void queue_args_read(queue_settings *s, amqp_table args)
{
    queue_backoff b;
    amqp_value v;
    size_t i;

    *s = (queue_settings){.msg_ttl = -1, .expires = 0, .max_length = -1, .max_bytes = -1, .delivery_limit = -1,
                          .consumer_timeout = -1};
    for (i = 0; i < NARGS; i++)
        if (args_table[i].apply && !args_table[i].backoff && amqp_table_get(args, args_table[i].name, &v))
            args_table[i].apply((char *)s + args_table[i].field, &v);
    if (s->quorum && s->delivery_limit < 0)
        s->delivery_limit = QUORUM_DELIVERY_LIMIT;
    queue_args_read_backoff(&b, args);
    s->backoff = b.initial > 0;
}

void queue_args_read_backoff(queue_backoff *b, amqp_table args)
{
    amqp_value v;
    size_t i;

    *b = (queue_backoff){.initial = 0, .multiplier = 2, .max = -1, .jitter = 0};
    for (i = 0; i < NARGS; i++)
        if (args_table[i].apply && args_table[i].backoff && amqp_table_get(args, args_table[i].name, &v))
            args_table[i].apply((char *)b + args_table[i].field, &v);
}
