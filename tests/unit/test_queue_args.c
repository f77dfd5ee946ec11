/*
 * test_queue_args.c - the table of x- queue arguments (queue_args.c)
 * without a broker: each check's refusal with RabbitMQ 3.10's text, which
 * argument a redeclare compares and how it renders the two values, which
 * queue types refuse which argument, and what a new queue's settings read.
 * The texts are the ones tests/routing/test_queue_args.py pins over AMQP
 * (and checks against RabbitMQ); here every row is reached directly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "warren.h"

#define I(x) ((amqp_value){.type = 'I', .v.i = (x)})
#define L(x) ((amqp_value){.type = 'l', .v.i = (x)})
#define TS(x) ((amqp_value){.type = 'T', .v.u = (x)})
#define S(x) ((amqp_value){.type = 'S', .v.s = {(x), (uint32_t)strlen(x)}})
#define BIN(x) ((amqp_value){.type = 'x', .v.s = {(x), (uint32_t)strlen(x)}})
#define BOOL(x) ((amqp_value){.type = 't', .v.b = (x)})
#define DBL(x) ((amqp_value){.type = 'd', .v.d = (x)})
#define FLT(x) ((amqp_value){.type = 'f', .v.f = (x)})

/* A table of key, value pairs ending with NULL, built in b (the caller
 * frees it). */
static amqp_table table(amqp_tbuf *b, ...)
{
    const char *k;
    va_list ap;
    va_start(ap, b);
    while ((k = va_arg(ap, const char *))) {
        amqp_value v = va_arg(ap, amqp_value);
        amqp_tbuf_value(b, k, &v);
    }
    va_end(ap);
    assert_false(b->oom);
    return amqp_tbuf_done(b);
}

/* The text of queue_args_validate's refusal of one argument, "" if none. */
static const char *validate_one(const char *key, amqp_value v)
{
    static amqp_error err;
    amqp_tbuf b = {0};
    int rc = queue_args_validate(table(&b, key, v, NULL), "q", "/", &err);
    amqp_tbuf_free(&b);
    if (rc == 0)
        return "";
    assert_int_equal(err.code, AMQP_PRECONDITION_FAILED);
    return err.text;
}

/* RabbitMQ's refusal of a bad value: "invalid arg ... : <why>". */
static void assert_invalid(const char *key, amqp_value v, const char *why)
{
    char want[256];
    snprintf(want, sizeof want, "PRECONDITION_FAILED - invalid arg '%s' for queue 'q' in vhost '/': %s", key, why);
    assert_string_equal(validate_one(key, v), want);
}

static void assert_valid(const char *key, amqp_value v)
{
    assert_string_equal(validate_one(key, v), "");
}

static void test_integer_arguments(void **state)
{
    static const char *const ints[] = {"x-expires", "x-message-ttl", "x-max-length", "x-max-length-bytes",
                                       "x-max-priority", "x-queue-version"};
    size_t i;
    (void)state;
    for (i = 0; i < sizeof ints / sizeof *ints; i++) {
        assert_invalid(ints[i], S("5"), "\"expected integer, got longstr\"");
        assert_invalid(ints[i], DBL(5.0), "\"expected integer, got double\"");
        assert_invalid(ints[i], BOOL(true), "\"expected integer, got bool\"");
        /* a timestamp is an integer to RabbitMQ's equivalence, not here */
        assert_invalid(ints[i], TS(5), "\"expected integer, got timestamp\"");
        assert_invalid(ints[i], L(-1), "{value_negative,-1}");
        assert_invalid(ints[i], I(-7), "{value_negative,-7}");
    }
    assert_valid("x-max-length", I(0));
    assert_valid("x-max-length-bytes", L(1ll << 40));
    assert_valid("x-message-ttl", I(0));
    assert_valid("x-message-ttl", L(315360000000ll)); /* ten years */
    assert_invalid("x-message-ttl", L(315360000001ll), "{value_too_large,315360000001}");
    assert_invalid("x-expires", I(0), "{value_zero,0}");
    assert_valid("x-expires", I(1));
    assert_valid("x-expires", L(315360000000ll));
    assert_invalid("x-expires", L(315360000001ll), "{value_too_large,315360000001}");
    assert_valid("x-max-priority", I(255));
    assert_invalid("x-max-priority", I(256), "{max_value_exceeded,256}");
    assert_valid("x-queue-version", I(1));
    assert_valid("x-queue-version", L(2));
    assert_invalid("x-queue-version", I(3), "\"unsupported queue version '3'\"");
    assert_invalid("x-queue-version", I(0), "\"unsupported queue version '0'\"");
}

static void test_string_and_bool_arguments(void **state)
{
    (void)state;
    /* a dead-letter name of another type is "invalid type", not "invalid arg" */
    assert_string_equal(validate_one("x-dead-letter-exchange", I(1)),
                        "PRECONDITION_FAILED - invalid type 'signedint' for arg 'x-dead-letter-exchange' in queue "
                        "'q' in vhost '/'");
    assert_string_equal(validate_one("x-dead-letter-exchange", BIN("dlx")),
                        "PRECONDITION_FAILED - invalid type 'binary' for arg 'x-dead-letter-exchange' in queue "
                        "'q' in vhost '/'");
    assert_valid("x-dead-letter-exchange", S("dlx"));
    assert_valid("x-dead-letter-exchange", S(""));

    assert_valid("x-overflow", S("drop-head"));
    assert_valid("x-overflow", S("reject-publish"));
    assert_valid("x-overflow", S("reject-publish-dlx"));
    assert_invalid("x-overflow", S("reject"), "invalid_overflow");
    assert_invalid("x-overflow", I(1), "{unacceptable_type,signedint}");

    assert_valid("x-single-active-consumer", BOOL(false));
    assert_invalid("x-single-active-consumer", S("true"), "{unacceptable_type,longstr}");
    assert_invalid("x-single-active-consumer", I(1), "{unacceptable_type,signedint}");

    assert_valid("x-queue-mode", S("default"));
    assert_valid("x-queue-mode", S("lazy"));
    assert_invalid("x-queue-mode", S("eager"), "\"unsupported queue mode 'eager'\"");
    assert_invalid("x-queue-mode", BOOL(true), "{unacceptable_type,bool}");

    assert_valid("x-queue-type", S("classic"));
    assert_valid("x-queue-type", S("quorum"));
    assert_valid("x-queue-type", S("stream"));
    assert_invalid("x-queue-type", S("fast"), "\"unsupported queue type 'fast'\"");
    assert_invalid("x-queue-type", BIN("classic"), "{unacceptable_type,binary}");
    /* a long value is quoted back to 60 characters */
    assert_invalid("x-queue-type", S("0123456789012345678901234567890123456789012345678901234567890123456789"),
                   "\"unsupported queue type '012345678901234567890123456789012345678901234567890123456789'\"");
}

static void test_unknown_and_unchecked_arguments_pass(void **state)
{
    (void)state;
    assert_null(queue_arg_find(amqp_cstr("x-no-such-argument")));
    assert_valid("x-no-such-argument", DBL(1.5));
    assert_valid("alternate-exchange", I(1));
    /* known, refused by the classic type, but any value passes validation */
    assert_valid("x-max-in-memory-length", S("many"));
}

/* RabbitMQ 3.10 takes any x-delivery-limit on a quorum queue; warren,
 * which acts on it on every queue, checks it as the other counts. */
static void test_delivery_limit_is_a_count(void **state)
{
    (void)state;
    assert_valid("x-delivery-limit", I(0));
    assert_valid("x-delivery-limit", I(5));
    assert_invalid("x-delivery-limit", S("many"), "\"expected integer, got longstr\"");
    assert_invalid("x-delivery-limit", I(-1), "{value_negative,-1}");
}

static void test_first_bad_argument_as_sent(void **state)
{
    amqp_tbuf b = {0};
    amqp_error err;
    amqp_table t;
    (void)state;

    /* the arguments' own order, not the table's */
    t = table(&b, "x-max-length", L(-1), "x-expires", I(0), NULL);
    assert_int_equal(queue_args_validate(t, "q", "/", &err), -1);
    assert_string_equal(err.text,
                        "PRECONDITION_FAILED - invalid arg 'x-max-length' for queue 'q' in vhost '/': "
                        "{value_negative,-1}");
    amqp_tbuf_free(&b);

    /* a routing key without an exchange is looked at after every value */
    memset(&b, 0, sizeof b);
    t = table(&b, "x-dead-letter-routing-key", S("rk"), "x-message-ttl", S("x"), NULL);
    assert_int_equal(queue_args_validate(t, "q", "/", &err), -1);
    assert_string_equal(err.text,
                        "PRECONDITION_FAILED - invalid arg 'x-message-ttl' for queue 'q' in vhost '/': "
                        "\"expected integer, got longstr\"");
    amqp_tbuf_free(&b);

    memset(&b, 0, sizeof b);
    t = table(&b, "x-dead-letter-routing-key", S("rk"), "x-message-ttl", I(5), NULL);
    assert_int_equal(queue_args_validate(t, "q", "/", &err), -1);
    assert_string_equal(err.text,
                        "PRECONDITION_FAILED - invalid arg 'x-dead-letter-routing-key' for queue 'q' in vhost '/': "
                        "routing_key_but_no_dlx_defined");
    amqp_tbuf_free(&b);

    memset(&b, 0, sizeof b);
    t = table(&b, "x-dead-letter-routing-key", S("rk"), "x-dead-letter-exchange", S(""), NULL);
    assert_int_equal(queue_args_validate(t, "q", "/", &err), 0);
    amqp_tbuf_free(&b);

    /* names with the queue's and the vhost's */
    memset(&b, 0, sizeof b);
    t = table(&b, "x-max-priority", I(300), NULL);
    assert_int_equal(queue_args_validate(t, "jobs", "prod", &err), -1);
    assert_string_equal(err.text,
                        "PRECONDITION_FAILED - invalid arg 'x-max-priority' for queue 'jobs' in vhost 'prod': "
                        "{max_value_exceeded,300}");
    amqp_tbuf_free(&b);
}

/* ---------------------------------------------------------- equivalence */

/* The text of queue_args_equivalent for the two tables, "" if equivalent. */
static const char *compare(amqp_table cur, amqp_table got)
{
    static amqp_error err;
    if (queue_args_equivalent(cur, got, "q", "/", &err) == 0)
        return "";
    assert_int_equal(err.code, AMQP_PRECONDITION_FAILED);
    return err.text;
}

/* Compare one key's values (NULL type 0: absent). */
static const char *compare_one(const char *key, const amqp_value *cur, const amqp_value *got)
{
    static char text[256];
    amqp_tbuf bc = {0}, bg = {0};
    if (cur)
        amqp_tbuf_value(&bc, key, cur);
    if (got)
        amqp_tbuf_value(&bg, key, got);
    snprintf(text, sizeof text, "%s", compare(amqp_tbuf_done(&bc), amqp_tbuf_done(&bg)));
    amqp_tbuf_free(&bc);
    amqp_tbuf_free(&bg);
    return text;
}

#define INEQ "PRECONDITION_FAILED - inequivalent arg "

static void test_equivalence_of_values(void **state)
{
    amqp_value five_I = I(5), five_l = L(5), five_T = TS(5), five_d = DBL(5.0), six = I(6);
    amqp_value a = S("a"), a_bin = BIN("a"), b = S("b"), yes = BOOL(true), no = BOOL(false);
    (void)state;

    /* 5 as I, l or T alike; 'a' as S or x alike */
    assert_string_equal(compare_one("x-max-length", &five_I, &five_l), "");
    assert_string_equal(compare_one("x-message-ttl", &five_l, &five_T), "");
    assert_string_equal(compare_one("x-dead-letter-exchange", &a, &a_bin), "");
    assert_string_equal(compare_one("x-max-length", NULL, NULL), "");

    assert_string_equal(compare_one("x-max-priority", &five_I, &six),
                        INEQ "'x-max-priority' for queue 'q' in vhost '/': received '6' but current is '5'");
    assert_string_equal(compare_one("x-max-length", &five_I, &five_d),
                        INEQ "'x-max-length' for queue 'q' in vhost '/': received '5.0' but current is '5'");
    assert_string_equal(compare_one("x-dead-letter-exchange", &a, &b),
                        INEQ "'x-dead-letter-exchange' for queue 'q' in vhost '/': received 'b' but current is 'a'");
    assert_string_equal(compare_one("x-single-active-consumer", &yes, &no),
                        INEQ "'x-single-active-consumer' for queue 'q' in vhost '/': received 'false' but "
                             "current is 'true'");
    /* one side absent: the other is "the value 'V' of type 'T'" */
    assert_string_equal(compare_one("x-single-active-consumer", &yes, NULL),
                        INEQ "'x-single-active-consumer' for queue 'q' in vhost '/': received none but current "
                             "is the value 'true' of type 'bool'");
    assert_string_equal(compare_one("x-expires", NULL, &five_l),
                        INEQ "'x-expires' for queue 'q' in vhost '/': received the value '5' of type 'long' but "
                             "current is none");
}

static void test_floats_print_as_erlang_does(void **state)
{
    static const struct {
        double d;
        const char *shown;
    } cases[] = {
        /* RabbitMQ 3.10's texts for these (checked on the reference node) */
        {1000.5, "1000.5"}, {1000.0, "1.0e3"}, {10000.0, "1.0e4"}, {100.0, "100.0"}, {0.5, "0.5"},
        {0.001, "0.001"}, {0.0001, "0.0001"}, {0.00012, "1.2e-4"}, {0.00001, "1.0e-5"},
        {123456789.0, "123456789.0"}, {1e16, "1.0e16"}, {1e21, "1.0e21"},
        /* and these by the same rule */
        {-2.5, "-2.5"}, {0.0, "0.0"},
    };
    amqp_value one = I(1);
    size_t i;
    (void)state;
    for (i = 0; i < sizeof cases / sizeof *cases; i++) {
        amqp_value d = DBL(cases[i].d);
        char want[256];
        snprintf(want, sizeof want, INEQ "'x-message-ttl' for queue 'q' in vhost '/': received '%s' but current is '1'",
                 cases[i].shown);
        assert_string_equal(compare_one("x-message-ttl", &one, &d), want);
    }
    {
        amqp_value f = FLT(0.5f);
        assert_string_equal(compare_one("x-message-ttl", &one, &f),
                            INEQ "'x-message-ttl' for queue 'q' in vhost '/': received '0.5' but current is '1'");
    }
}

static void test_which_arguments_are_compared(void **state)
{
    static const char *const compared[] = {
        "x-expires", "x-message-ttl", "x-dead-letter-exchange", "x-dead-letter-routing-key", "x-max-length",
        "x-max-length-bytes", "x-max-in-memory-length", "x-max-in-memory-bytes", "x-max-priority", "x-overflow",
        "x-queue-mode", "x-single-active-consumer", "x-queue-type", "x-queue-master-locator", "x-queue-version",
    };
    static const char *const not_compared[] = {"x-delivery-limit", "x-max-age", "x-queue-leader-locator",
                                                "x-no-such-argument", "alternate-exchange"};
    amqp_value one = I(1), two = I(2);
    size_t i;
    (void)state;

    for (i = 0; i < sizeof compared / sizeof *compared; i++) {
        assert_non_null(queue_arg_find(amqp_cstr(compared[i])));
        assert_true(queue_arg_find(amqp_cstr(compared[i]))->compared);
        assert_string_not_equal(compare_one(compared[i], &one, &two), "");
    }
    for (i = 0; i < sizeof not_compared / sizeof *not_compared; i++)
        assert_string_equal(compare_one(not_compared[i], &one, &two), "");
}

static void test_first_difference_in_rabbitmqs_order(void **state)
{
    amqp_tbuf bc = {0}, bg = {0};
    amqp_table cur, got;
    (void)state;
    /* x-expires comes before x-max-length in RabbitMQ's list, whatever the
     * order of the tables */
    cur = table(&bc, "x-max-length", I(1), "x-expires", I(1000), NULL);
    got = table(&bg, "x-max-length", I(2), "x-expires", I(2000), NULL);
    assert_string_equal(compare(cur, got),
                        INEQ "'x-expires' for queue 'q' in vhost '/': received '2000' but current is '1000'");
    amqp_tbuf_free(&bc);
    amqp_tbuf_free(&bg);
}

static void test_no_queue_type_is_classic(void **state)
{
    amqp_value classic = S("classic"), quorum = S("quorum"), classic_bin = BIN("classic");
    (void)state;
    assert_string_equal(compare_one("x-queue-type", NULL, &classic), "");
    assert_string_equal(compare_one("x-queue-type", &classic, NULL), "");
    assert_string_equal(compare_one("x-queue-type", &classic, &classic_bin), "");
    assert_string_equal(compare_one("x-queue-type", NULL, &quorum),
                        INEQ "'x-queue-type' for queue 'q' in vhost '/': received the value 'quorum' of type "
                             "'longstr' but current is none");
    /* only a longstr "classic" stands for no type */
    assert_string_not_equal(compare_one("x-queue-type", NULL, &classic_bin), "");
}

static void test_exchange_compares_one_argument(void **state)
{
    amqp_tbuf bc = {0}, bg = {0};
    amqp_error err;
    amqp_table cur, got;
    (void)state;
    cur = table(&bc, "alternate-exchange", S("ae"), NULL);
    got = table(&bg, NULL);
    assert_int_equal(queue_args_compare(cur, got, "alternate-exchange", NULL, "exchange", "x", "/", &err), -1);
    assert_string_equal(err.text, INEQ "'alternate-exchange' for exchange 'x' in vhost '/': received none but "
                                       "current is the value 'ae' of type 'longstr'");
    assert_int_equal(queue_args_compare(cur, cur, "alternate-exchange", NULL, "exchange", "x", "/", &err), 0);
    amqp_tbuf_free(&bc);
    amqp_tbuf_free(&bg);
}

/* ----------------------------------------------------------- queue types */

/* What each type refuses, as RabbitMQ 3.10 lists it (the lists queue.c
 * had before the table). */
static const char *const classic_refuses[] = {
    /* and x-delivery-limit, which warren takes on classic queues */
    "x-max-in-memory-length", "x-max-in-memory-bytes", "x-quorum-initial-group-size",
    "x-dead-letter-strategy", "x-max-age", "x-stream-max-segment-size-bytes", "x-initial-cluster-size",
    "x-queue-leader-locator", NULL,
};
static const char *const quorum_refuses[] = {
    "x-max-priority", "x-queue-mode", "x-queue-master-locator", "x-queue-version", "x-max-age",
    "x-stream-max-segment-size-bytes", "x-initial-cluster-size", NULL,
};
static const char *const stream_refuses[] = {
    "x-message-ttl", "x-max-priority", "x-queue-mode", "x-queue-master-locator", "x-queue-version",
    "x-expires", "x-overflow", "x-single-active-consumer", "x-max-in-memory-length", "x-max-in-memory-bytes",
    "x-delivery-limit", "x-dead-letter-strategy", "x-quorum-initial-group-size", "x-max-length",
    "x-dead-letter-exchange", "x-dead-letter-routing-key", NULL,
};

static bool listed(const char *const *list, const char *name)
{
    for (; *list; list++)
        if (!strcmp(*list, name))
            return true;
    return false;
}

/* The text of queue_args_check_type for a durable queue of type (NULL: no
 * x-queue-type) with one more argument, "" if accepted. */
static const char *check_type(const char *type, const char *key, bool durable, bool exclusive, bool auto_delete)
{
    static amqp_error err;
    amqp_tbuf b = {0};
    int rc;
    if (type)
        amqp_tbuf_str(&b, "x-queue-type", amqp_cstr(type));
    if (key)
        amqp_tbuf_long(&b, key, 1);
    rc = queue_args_check_type(amqp_tbuf_done(&b), durable, exclusive, auto_delete, "q", "/", &err);
    amqp_tbuf_free(&b);
    if (rc == 0)
        return "";
    assert_int_equal(err.code, AMQP_PRECONDITION_FAILED);
    return err.text;
}

static void test_type_refusals(void **state)
{
    static const char *const types[] = {"classic", "quorum", "stream"};
    const char *const *refuses[] = {classic_refuses, quorum_refuses, stream_refuses};
    const char *const *lists[] = {classic_refuses, quorum_refuses, stream_refuses};
    size_t t, l, i;
    (void)state;

    for (t = 0; t < 3; t++)
        for (l = 0; l < 3; l++)
            for (i = 0; lists[l][i]; i++) {
                const char *name = lists[l][i];
                const char *text = check_type(types[t], name, true, false, false);
                char want[256];
                snprintf(want, sizeof want,
                         "PRECONDITION_FAILED - invalid arg '%s' for queue 'q' in vhost '/' of queue type "
                         "rabbit_%s_queue",
                         name, types[t]);
                if (listed(refuses[t], name))
                    assert_string_equal(text, want);
                else
                    assert_string_not_equal(text, want);
                /* the row says the same */
                assert_int_equal(!!(queue_arg_find(amqp_cstr(name))->refused_by & (1u << t)),
                                 listed(refuses[t], name));
            }
    /* no type is classic */
    assert_string_equal(check_type(NULL, "x-max-age", true, false, false),
                        "PRECONDITION_FAILED - invalid arg 'x-max-age' for queue 'q' in vhost '/' of queue type "
                        "rabbit_classic_queue");
    assert_string_equal(check_type(NULL, "x-max-priority", false, true, true), "");
    assert_string_equal(check_type("classic", "x-message-ttl", false, true, true), "");
    /* an unknown argument is refused by no type */
    assert_string_equal(check_type(NULL, "x-no-such-argument", true, false, false), "");
}

static void test_quorum_and_stream_properties_then_refused(void **state)
{
    (void)state;
    assert_string_equal(check_type("quorum", NULL, true, true, true),
                        "PRECONDITION_FAILED - invalid property 'auto-delete' for queue 'q' in vhost '/'");
    assert_string_equal(check_type("stream", NULL, true, true, false),
                        "PRECONDITION_FAILED - invalid property 'exclusive-owner' for queue 'q' in vhost '/'");
    assert_string_equal(check_type("quorum", NULL, false, false, false),
                        "PRECONDITION_FAILED - invalid property 'non-durable' for queue 'q' in vhost '/'");
    /* a refused argument is named before the properties */
    assert_string_equal(check_type("quorum", "x-max-priority", false, false, false),
                        "PRECONDITION_FAILED - invalid arg 'x-max-priority' for queue 'q' in vhost '/' of queue "
                        "type rabbit_quorum_queue");
    /* a durable quorum queue is made; a stream is not */
    assert_string_equal(check_type("quorum", "x-delivery-limit", true, false, false), "");
    assert_string_equal(check_type("classic", "x-delivery-limit", true, false, false), "");
    assert_string_equal(check_type("stream", NULL, true, false, false),
                        "PRECONDITION_FAILED - invalid arg 'x-queue-type' for queue 'q' in vhost '/': warren has "
                        "classic and quorum queues, not stream queues");
}

/* -------------------------------------------------------------- reading */

static void test_read_defaults(void **state)
{
    queue_settings s;
    amqp_tbuf b = {0};
    (void)state;
    memset(&s, 0x5a, sizeof s);
    queue_args_read(&s, table(&b, "x-queue-mode", S("lazy"), "x-no-such-argument", I(3), NULL));
    assert_int_equal(s.msg_ttl, -1);
    assert_int_equal(s.expires, 0);
    assert_int_equal(s.max_length, -1);
    assert_int_equal(s.max_bytes, -1);
    assert_int_equal(s.max_priority, 0);
    assert_int_equal(s.overflow, OVERFLOW_DROP_HEAD);
    assert_false(s.single_active);
    assert_false(s.dlx.set);
    assert_false(s.dlrk.set);
    assert_false(s.quorum);
    assert_int_equal(s.delivery_limit, -1);
    amqp_tbuf_free(&b);
}

/* A quorum queue counts deliveries with RabbitMQ 4's default limit, 20,
 * unless the declaration gives one; a classic queue's limit is its own. */
static void test_read_quorum_and_delivery_limit(void **state)
{
    queue_settings s;
    amqp_tbuf b = {0};
    (void)state;
    queue_args_read(&s, table(&b, "x-queue-type", S("quorum"), NULL));
    assert_true(s.quorum);
    assert_int_equal(s.delivery_limit, 20);
    amqp_tbuf_free(&b);
    memset(&b, 0, sizeof b);
    queue_args_read(&s, table(&b, "x-queue-type", S("quorum"), "x-delivery-limit", I(3), NULL));
    assert_int_equal(s.delivery_limit, 3);
    amqp_tbuf_free(&b);
    memset(&b, 0, sizeof b);
    queue_args_read(&s, table(&b, "x-delivery-limit", L(0), NULL));
    assert_false(s.quorum);
    assert_int_equal(s.delivery_limit, 0);
    amqp_tbuf_free(&b);
    /* kept in 32 bits: a larger limit is never reached either */
    memset(&b, 0, sizeof b);
    queue_args_read(&s, table(&b, "x-delivery-limit", L(1ll << 40), NULL));
    assert_int_equal(s.delivery_limit, INT32_MAX);
    amqp_tbuf_free(&b);
}

static void test_read_every_setting(void **state)
{
    queue_settings s;
    amqp_tbuf b = {0};
    (void)state;
    queue_args_read(&s, table(&b, "x-message-ttl", I(60000), "x-expires", L(1800000), "x-max-length", I(10),
                              "x-max-length-bytes", L(1ll << 33), "x-max-priority", I(9), "x-overflow",
                              S("reject-publish-dlx"), "x-single-active-consumer", BOOL(true),
                              "x-dead-letter-exchange", S("dlx"), "x-dead-letter-routing-key", S("dead"), NULL));
    assert_int_equal(s.msg_ttl, 60000);
    assert_int_equal(s.expires, 1800000);
    assert_int_equal(s.max_length, 10);
    assert_int_equal(s.max_bytes, 1ll << 33);
    assert_int_equal(s.max_priority, 9);
    assert_int_equal(s.overflow, OVERFLOW_REJECT_DLX);
    assert_true(s.single_active);
    assert_true(s.dlx.set);
    assert_int_equal(s.dlx.len, 3);
    assert_memory_equal(s.dlx.s, "dlx", 3);
    assert_true(s.dlrk.set);
    assert_int_equal(s.dlrk.len, 4);
    assert_memory_equal(s.dlrk.s, "dead", 4);
    amqp_tbuf_free(&b);

    memset(&b, 0, sizeof b);
    queue_args_read(&s, table(&b, "x-overflow", S("reject-publish"), "x-dead-letter-exchange", S(""), NULL));
    assert_int_equal(s.overflow, OVERFLOW_REJECT);
    assert_true(s.dlx.set); /* the default exchange */
    assert_int_equal(s.dlx.len, 0);
    assert_false(s.dlrk.set);
    amqp_tbuf_free(&b);

    memset(&b, 0, sizeof b);
    queue_args_read(&s, table(&b, "x-overflow", S("drop-head"), "x-max-priority", L(255), NULL));
    assert_int_equal(s.overflow, OVERFLOW_DROP_HEAD);
    assert_int_equal(s.max_priority, 255);
    amqp_tbuf_free(&b);
}

static void test_read_leaves_what_it_cannot_use(void **state)
{
    static const char long_name[] =
        "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
        "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
        "01234567890123456789012345678901234567890123456789012345678901234567890123456789"; /* 280 */
    queue_settings s;
    amqp_tbuf b = {0};
    (void)state;
    /* an exchange name too long for a shortstr names no exchange */
    queue_args_read(&s, table(&b, "x-dead-letter-exchange", S(long_name), "x-message-ttl", S("5"), NULL));
    assert_false(s.dlx.set);
    assert_int_equal(s.msg_ttl, -1);
    amqp_tbuf_free(&b);
}

/* What the arguments set is kept in every queue: the string settings
 * point into the queue's copy of its arguments instead of holding 258
 * bytes each (issue 16: 100,000 idle queues were 50 MB bigger); and they
 * point into the table read, so they stay valid as long as it does. */
static void test_settings_are_small_and_point_into_the_table(void **state)
{
    queue_settings s;
    amqp_tbuf b = {0};
    amqp_table t;
    (void)state;
    /* 96 bytes before the back-off, consumer-timeout and de-duplication
     * settings came (issue 15), 128 with them; every queue holds one, so
     * the back-off's values went to the queues that have one (issue 16) */
    assert_true(sizeof(queue_settings) <= 80);
    t = table(&b, "x-dead-letter-exchange", S("dlx"), "x-dead-letter-routing-key", S("rk"), NULL);
    queue_args_read(&s, t);
    assert_true((const uint8_t *)s.dlx.s > t.ptr && (const uint8_t *)s.dlx.s + s.dlx.len <= t.ptr + t.len);
    assert_true((const uint8_t *)s.dlrk.s > t.ptr && (const uint8_t *)s.dlrk.s + s.dlrk.len <= t.ptr + t.len);
    amqp_tbuf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_integer_arguments),
        cmocka_unit_test(test_string_and_bool_arguments),
        cmocka_unit_test(test_settings_are_small_and_point_into_the_table),
        cmocka_unit_test(test_unknown_and_unchecked_arguments_pass),
        cmocka_unit_test(test_first_bad_argument_as_sent),
        cmocka_unit_test(test_delivery_limit_is_a_count),
        cmocka_unit_test(test_read_quorum_and_delivery_limit),
        cmocka_unit_test(test_equivalence_of_values),
        cmocka_unit_test(test_floats_print_as_erlang_does),
        cmocka_unit_test(test_which_arguments_are_compared),
        cmocka_unit_test(test_first_difference_in_rabbitmqs_order),
        cmocka_unit_test(test_no_queue_type_is_classic),
        cmocka_unit_test(test_exchange_compares_one_argument),
        cmocka_unit_test(test_type_refusals),
        cmocka_unit_test(test_quorum_and_stream_properties_then_refused),
        cmocka_unit_test(test_read_defaults),
        cmocka_unit_test(test_read_every_setting),
        cmocka_unit_test(test_read_leaves_what_it_cannot_use),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
