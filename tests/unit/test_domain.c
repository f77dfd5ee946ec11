/*
 * test_domain.c - the domain API (vhost.h) without a channel or a socket,
 * as a front end other than AMQP (the HTTP API, warrenctl) calls it:
 * declare, the equivalence of a redeclare and its 406, the passive 404,
 * an exclusive queue refused to another owner with 405 (and to a caller
 * without one, as HTTP is), delete with if_unused / if_empty, purge
 * counts, bind and unbind with a missing exchange, get; and that a
 * durable declaration is on disk when the call returns (a store reopened
 * from the directory has it).  Every refusal is checked with RabbitMQ's
 * exact text, the one tests/interop and tests/routing pin over AMQP.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "broker.h"
#include "consumer.h"
#include "recovery.h"
#include "store/store.h"
#include "vhost.h"

static broker b;
static queue_owner alice, bob;

static int setup(void **state)
{
    (void)state;
    memset(&b, 0, sizeof b);
    memset(&alice, 0, sizeof alice);
    memset(&bob, 0, sizeof bob);
    config_defaults(&b.cfg);
    if (!(b.loop = ev_loop_new()) || !(b.vh = vhost_new(&b, "/")))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    vhost_free(b.vh);
    ev_loop_free(b.loop);
    return 0;
}

static amqp_table int_arg(amqp_tbuf *tb, const char *name, char type, int64_t v)
{
    amqp_value val = {.type = type, .v.i = v};
    amqp_tbuf_value(tb, name, &val);
    return amqp_tbuf_done(tb);
}

static int declare(const char *name, bool durable, bool exclusive, amqp_table args, queue_owner *owner,
                   queue_info *info, amqp_error *err)
{
    queue_spec s = {
        .name = amqp_cstr(name), .durable = durable, .exclusive = exclusive, .arguments = args};
    return vhost_declare_queue(b.vh, &s, owner, false, info, err);
}

static int passive(const char *name, queue_owner *owner, amqp_error *err)
{
    queue_spec s = {.name = amqp_cstr(name)};
    return vhost_declare_queue(b.vh, &s, owner, true, NULL, err);
}

/* A 5-byte message published to the default exchange with key rk. */
static void publish(const char *rk)
{
    msg *m = msg_new(amqp_cstr(""), amqp_cstr(rk), NULL, 0, 5);
    route_set rs;
    deliver_result res;

    assert_non_null(m);
    memcpy(msg_body(m), "hello", 5);
    m->body_have = 5;
    vhost_route(b.vh, m, false, &rs);
    assert_int_equal(vhost_publish_routed(b.vh, m, &rs, &res), 1);
    route_set_done(&rs);
    msg_unref(m);
}

static void test_declare_redeclare_equivalence(void **state)
{
    amqp_tbuf t1 = {0}, t2 = {0}, t3 = {0};
    amqp_table five;
    amqp_error err = {0};
    queue_info info = {99, 99};
    (void)state;

    /* x-max-length 5 as I; a redeclare with 5 as l is the same */
    five = int_arg(&t1, "x-max-length", 'I', 5);
    assert_int_equal(declare("q", true, false, five, NULL, &info, &err), 0);
    assert_int_equal(info.messages, 0);
    assert_int_equal(info.consumers, 0);
    assert_non_null(vhost_queue(b.vh, amqp_cstr("q")));
    publish("q");
    assert_int_equal(declare("q", true, false, int_arg(&t2, "x-max-length", 'l', 5), NULL, &info, &err), 0);
    assert_int_equal(info.messages, 1);

    assert_int_equal(declare("q", false, false, five, NULL, &info, &err), -1);
    assert_int_equal(err.code, AMQP_PRECONDITION_FAILED);
    assert_string_equal(err.text, "PRECONDITION_FAILED - inequivalent arg 'durable' for queue 'q' in vhost '/': "
                                  "received 'false' but current is 'true'");
    assert_int_equal(declare("q", true, false, int_arg(&t3, "x-max-length", 'I', 6), NULL, &info, &err), -1);
    assert_int_equal(err.code, AMQP_PRECONDITION_FAILED);
    assert_string_equal(err.text, "PRECONDITION_FAILED - inequivalent arg 'x-max-length' for queue 'q' in vhost "
                                  "'/': received '6' but current is '5'");
    /* nothing changed: the queue is as first declared, its message kept */
    assert_int_equal(queue_message_count(vhost_queue(b.vh, amqp_cstr("q"))), 1);
    amqp_tbuf_free(&t1);
    amqp_tbuf_free(&t2);
    amqp_tbuf_free(&t3);
}

static void test_declare_refusals(void **state)
{
    amqp_error err = {0};
    amqp_tbuf t = {0};
    queue_spec gen = {.name = amqp_cstr("amq.gen-abc"), .server_named = true};
    (void)state;

    assert_int_equal(declare("amq.q", false, false, (amqp_table){0}, NULL, NULL, &err), -1);
    assert_int_equal(err.code, AMQP_ACCESS_REFUSED);
    assert_string_equal(err.text, "ACCESS_REFUSED - queue name 'amq.q' contains reserved prefix 'amq.*'");
    /* a name the front end made may have the prefix */
    assert_int_equal(vhost_declare_queue(b.vh, &gen, NULL, false, NULL, &err), 0);

    assert_int_equal(declare("v", false, false, int_arg(&t, "x-max-length", 'I', -1), NULL, NULL, &err), -1);
    assert_int_equal(err.code, AMQP_PRECONDITION_FAILED);
    assert_string_equal(err.text, "PRECONDITION_FAILED - invalid arg 'x-max-length' for queue 'v' in vhost '/': "
                                  "{value_negative,-1}");
    assert_null(vhost_queue(b.vh, amqp_cstr("v")));
    amqp_tbuf_free(&t);
}

static void test_passive_404(void **state)
{
    amqp_error err = {0};
    (void)state;

    assert_int_equal(passive("nope", NULL, &err), -1);
    assert_int_equal(err.code, AMQP_NOT_FOUND);
    assert_string_equal(err.text, "NOT_FOUND - no queue 'nope' in vhost '/'");
    assert_int_equal(declare("here", false, false, (amqp_table){0}, NULL, NULL, &err), 0);
    assert_int_equal(passive("here", NULL, &err), 0);
}

#define LOCKED(q)                                                                                                     \
    "RESOURCE_LOCKED - cannot obtain exclusive access to locked queue '" q "' in vhost '/'. It could be originally " \
    "declared on another connection or the exclusive property value does not match that of the original "          \
    "declaration."

static void test_exclusive_owner_405(void **state)
{
    amqp_error err = {0};
    uint32_t n;
    binding_spec bs = {.source = amqp_cstr("amq.direct"), .destination = amqp_cstr("ex"), .to_queue = true,
                       .key = amqp_cstr("k")};
    vhost_got got;
    (void)state;

    /* asked durable, an exclusive queue is not */
    assert_int_equal(declare("ex", true, true, (amqp_table){0}, &alice, NULL, &err), 0);
    assert_false(vhost_queue(b.vh, amqp_cstr("ex"))->durable);
    assert_int_equal(alice.nqueues, 1);
    assert_int_equal(declare("ex", false, true, (amqp_table){0}, &alice, NULL, &err), 0);
    assert_int_equal(passive("ex", &alice, &err), 0);

    /* another owner, or none (HTTP), is refused everything */
    assert_int_equal(passive("ex", &bob, &err), -1);
    assert_int_equal(err.code, AMQP_RESOURCE_LOCKED);
    assert_string_equal(err.text, LOCKED("ex"));
    assert_int_equal(declare("ex", false, true, (amqp_table){0}, &bob, NULL, &err), -1);
    assert_string_equal(err.text, LOCKED("ex"));
    assert_int_equal(declare("ex", false, false, (amqp_table){0}, &alice, NULL, &err), -1); /* not exclusive */
    assert_string_equal(err.text, LOCKED("ex"));
    assert_int_equal(vhost_purge_queue(b.vh, amqp_cstr("ex"), NULL, &n, &err), -1);
    assert_string_equal(err.text, LOCKED("ex"));
    assert_int_equal(vhost_get(b.vh, amqp_cstr("ex"), &bob, &got, &err), -1);
    assert_string_equal(err.text, LOCKED("ex"));
    assert_int_equal(vhost_bind(b.vh, true, &bs, &bob, &err), -1);
    assert_string_equal(err.text, LOCKED("ex"));
    assert_int_equal(vhost_bind(b.vh, true, &bs, &alice, &err), 0);
    assert_int_equal(vhost_bind(b.vh, false, &bs, NULL, &err), -1);
    assert_string_equal(err.text, LOCKED("ex"));
    assert_int_equal(vhost_delete_queue(b.vh, amqp_cstr("ex"), &bob, false, false, &n, &err), -1);
    assert_string_equal(err.text, LOCKED("ex"));

    /* a caller without a connection cannot make one */
    assert_int_equal(declare("ex2", false, true, (amqp_table){0}, NULL, NULL, &err), -1);
    assert_null(vhost_queue(b.vh, amqp_cstr("ex2")));

    /* deletion by the owner settles its count */
    assert_int_equal(vhost_delete_queue(b.vh, amqp_cstr("ex"), &alice, false, false, &n, &err), 0);
    assert_int_equal(alice.nqueues, 0);
    assert_null(vhost_queue(b.vh, amqp_cstr("ex")));
}

static void test_delete_if_unused_if_empty(void **state)
{
    amqp_error err = {0};
    consumer c = {0};
    uint32_t n = 99;
    queue *q;
    (void)state;

    assert_int_equal(vhost_delete_queue(b.vh, amqp_cstr("missing"), NULL, true, true, &n, &err), 0);
    assert_int_equal(n, 0);

    assert_int_equal(declare("d", false, false, (amqp_table){0}, NULL, NULL, &err), 0);
    q = vhost_queue(b.vh, amqp_cstr("d"));
    publish("d");
    publish("d");
    assert_int_equal(vhost_delete_queue(b.vh, amqp_cstr("d"), NULL, false, true, &n, &err), -1);
    assert_int_equal(err.code, AMQP_PRECONDITION_FAILED);
    assert_string_equal(err.text, "PRECONDITION_FAILED - queue 'd' in vhost '/' not empty");
    assert_int_equal(consumer_attach(q, &c), 0);
    assert_int_equal(vhost_delete_queue(b.vh, amqp_cstr("d"), NULL, true, false, &n, &err), -1);
    assert_int_equal(err.code, AMQP_PRECONDITION_FAILED);
    assert_string_equal(err.text, "PRECONDITION_FAILED - queue 'd' in vhost '/' in use");
    consumer_detach(q, &c);
    assert_int_equal(vhost_delete_queue(b.vh, amqp_cstr("d"), NULL, true, false, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_null(vhost_queue(b.vh, amqp_cstr("d")));
}

static void test_purge_counts(void **state)
{
    amqp_error err = {0};
    uint32_t n = 99;
    int i;
    (void)state;

    assert_int_equal(vhost_purge_queue(b.vh, amqp_cstr("p"), NULL, &n, &err), -1);
    assert_int_equal(err.code, AMQP_NOT_FOUND);
    assert_string_equal(err.text, "NOT_FOUND - no queue 'p' in vhost '/'");
    assert_int_equal(declare("p", false, false, (amqp_table){0}, NULL, NULL, &err), 0);
    for (i = 0; i < 3; i++)
        publish("p");
    assert_int_equal(vhost_purge_queue(b.vh, amqp_cstr("p"), NULL, &n, &err), 0);
    assert_int_equal(n, 3);
    assert_int_equal(vhost_purge_queue(b.vh, amqp_cstr("p"), NULL, &n, &err), 0);
    assert_int_equal(n, 0);
}

static void test_bind_missing_exchange(void **state)
{
    amqp_error err = {0};
    binding_spec qb = {.source = amqp_cstr("nox"), .destination = amqp_cstr("bq"), .to_queue = true,
                       .key = amqp_cstr("k")};
    binding_spec xb = {.source = amqp_cstr("amq.topic"), .destination = amqp_cstr("nox"), .key = amqp_cstr("k")};
    binding_spec dflt = {.source = amqp_cstr(""), .destination = amqp_cstr("bq"), .to_queue = true};
    exchange_spec xs = {.name = amqp_cstr("x1"), .type = amqp_cstr("direct")};
    (void)state;

    assert_int_equal(declare("bq", false, false, (amqp_table){0}, NULL, NULL, &err), 0);
    assert_int_equal(vhost_bind(b.vh, true, &qb, NULL, &err), -1);
    assert_int_equal(err.code, AMQP_NOT_FOUND);
    assert_string_equal(err.text, "NOT_FOUND - no exchange 'nox' in vhost '/'");
    assert_int_equal(vhost_bind(b.vh, true, &xb, NULL, &err), -1);
    assert_string_equal(err.text, "NOT_FOUND - no exchange 'nox' in vhost '/'");
    /* removing what cannot exist succeeds, as in RabbitMQ */
    assert_int_equal(vhost_bind(b.vh, false, &qb, NULL, &err), 0);
    assert_int_equal(vhost_bind(b.vh, false, &xb, NULL, &err), 0);
    assert_int_equal(vhost_bind(b.vh, true, &dflt, NULL, &err), -1);
    assert_int_equal(err.code, AMQP_ACCESS_REFUSED);
    assert_string_equal(err.text, "ACCESS_REFUSED - operation not permitted on the default exchange");

    /* a real binding routes, and unbinding it stops that */
    assert_int_equal(vhost_declare_exchange(b.vh, &xs, false, &err), 0);
    qb.source = amqp_cstr("x1");
    assert_int_equal(vhost_bind(b.vh, true, &qb, NULL, &err), 0);
    assert_int_equal(vhost_bind(b.vh, true, &qb, NULL, &err), 0); /* again: nothing new */
    assert_int_equal(vhost_exchange(b.vh, amqp_cstr("x1"))->nbindings, 1);
    assert_int_equal(vhost_bind(b.vh, false, &qb, NULL, &err), 0);
    assert_int_equal(vhost_exchange(b.vh, amqp_cstr("x1"))->nbindings, 0);
}

static void test_exchange_declare_delete(void **state)
{
    amqp_error err = {0};
    exchange_spec xs = {.name = amqp_cstr("x"), .type = amqp_cstr("fanout"), .durable = true};
    exchange_spec other = xs;
    binding_spec bs = {.source = amqp_cstr("x"), .destination = amqp_cstr("amq.direct"), .key = amqp_cstr("")};
    (void)state;

    assert_int_equal(vhost_declare_exchange(b.vh, &xs, true, &err), -1);
    assert_string_equal(err.text, "NOT_FOUND - no exchange 'x' in vhost '/'");
    assert_int_equal(vhost_declare_exchange(b.vh, &xs, false, &err), 0);
    assert_int_equal(vhost_declare_exchange(b.vh, &xs, false, &err), 0);
    other.type = amqp_cstr("topic");
    assert_int_equal(vhost_declare_exchange(b.vh, &other, false, &err), -1);
    assert_int_equal(err.code, AMQP_PRECONDITION_FAILED);
    assert_string_equal(err.text, "PRECONDITION_FAILED - inequivalent arg 'type' for exchange 'x' in vhost '/': "
                                  "received 'topic' but current is 'fanout'");
    other.type = amqp_cstr("nonsense");
    assert_int_equal(vhost_declare_exchange(b.vh, &other, false, &err), -1);
    assert_int_equal(err.code, AMQP_COMMAND_INVALID);
    assert_string_equal(err.text, "COMMAND_INVALID - unknown exchange type 'nonsense'");

    assert_int_equal(vhost_bind(b.vh, true, &bs, NULL, &err), 0);
    assert_int_equal(vhost_delete_exchange(b.vh, amqp_cstr("x"), true, &err), -1);
    assert_string_equal(err.text, "PRECONDITION_FAILED - exchange 'x' in vhost '/' in use");
    assert_int_equal(vhost_delete_exchange(b.vh, amqp_cstr("amq.direct"), false, &err), -1);
    assert_string_equal(err.text,
                        "ACCESS_REFUSED - deletion of system exchange 'amq.direct' in vhost '/' not allowed");
    assert_int_equal(vhost_delete_exchange(b.vh, amqp_cstr("x"), false, &err), 0);
    assert_null(vhost_exchange(b.vh, amqp_cstr("x")));
    assert_int_equal(vhost_delete_exchange(b.vh, amqp_cstr("x"), true, &err), 0); /* gone already */
}

static void test_get(void **state)
{
    amqp_error err = {0};
    vhost_got got;
    (void)state;

    assert_int_equal(vhost_get(b.vh, amqp_cstr("g"), NULL, &got, &err), -1);
    assert_string_equal(err.text, "NOT_FOUND - no queue 'g' in vhost '/'");
    assert_int_equal(declare("g", false, false, (amqp_table){0}, NULL, NULL, &err), 0);
    assert_int_equal(vhost_get(b.vh, amqp_cstr("g"), NULL, &got, &err), VHOST_GET_EMPTY);
    publish("g");
    publish("g");
    assert_int_equal(vhost_get(b.vh, amqp_cstr("g"), NULL, &got, &err), VHOST_GET_OK);
    assert_int_equal(got.left, 1);
    assert_memory_equal(msg_body(got.m), "hello", 5);
    assert_int_equal(got.q->unacked, 1);
    msg_unref(got.m);
    /* put back: it is first again, and redelivered */
    queue_requeue(got.q, &got.e);
    assert_int_equal(vhost_get(b.vh, amqp_cstr("g"), NULL, &got, &err), VHOST_GET_OK);
    assert_true(got.e.flags & QE_REDELIVERED);
    msg_unref(got.m);
    queue_settle(got.q, &got.e);
    assert_int_equal(vhost_get(b.vh, amqp_cstr("g"), NULL, &got, &err), VHOST_GET_OK);
    assert_int_equal(got.left, 0);
    assert_false(got.e.flags & QE_REDELIVERED);
    msg_unref(got.m);
    queue_settle(got.q, &got.e);
    assert_int_equal(got.q->unacked, 0);
    assert_int_equal(vhost_get(b.vh, amqp_cstr("g"), NULL, &got, &err), VHOST_GET_EMPTY);
}

/* A durable queue, exchange and binding declared through the domain are on
 * disk when the calls return: a store reopened on the directory (after the
 * first is closed) recovers them into a fresh vhost. */
static void test_durable_declarations_recorded(void **state)
{
    char dir[] = "/tmp/warren-test-domain-XXXXXX";
    char cmd[128];
    amqp_error err = {0};
    store_options opt = {0};
    store_recovery rec;
    exchange_spec xs = {.name = amqp_cstr("dx"), .type = amqp_cstr("direct"), .durable = true};
    binding_spec bs = {.source = amqp_cstr("dx"), .destination = amqp_cstr("dq"), .to_queue = true,
                       .key = amqp_cstr("k")};
    exchange *x;
    (void)state;

    assert_non_null(mkdtemp(dir));
    rec = recovery_hooks(b.vh);
    assert_int_equal(store_open(&b.st, b.loop, dir, &opt, (store_hooks){0}, &rec), 0);
    vhost_set_store(b.vh, b.st);
    assert_int_equal(declare("dq", true, false, (amqp_table){0}, NULL, NULL, &err), 0);
    assert_int_equal(vhost_declare_exchange(b.vh, &xs, false, &err), 0);
    assert_int_equal(vhost_bind(b.vh, true, &bs, NULL, &err), 0);
    assert_int_equal(declare("transient", false, false, (amqp_table){0}, NULL, NULL, &err), 0);

    vhost_set_store(b.vh, NULL);
    store_close(b.st);
    b.st = NULL;
    vhost_free(b.vh);
    assert_non_null(b.vh = vhost_new(&b, "/"));
    rec = recovery_hooks(b.vh);
    assert_int_equal(store_open(&b.st, b.loop, dir, &opt, (store_hooks){0}, &rec), 0);
    vhost_set_store(b.vh, b.st);
    assert_non_null(vhost_queue(b.vh, amqp_cstr("dq")));
    assert_null(vhost_queue(b.vh, amqp_cstr("transient")));
    assert_non_null(x = vhost_exchange(b.vh, amqp_cstr("dx")));
    assert_int_equal(x->nbindings, 1);

    {
        store *st = b.st;
        b.st = NULL; /* freeing the queues must not look like acks */
        vhost_set_store(b.vh, NULL);
        vhost_free(b.vh);
        b.vh = NULL;
        store_close(st);
    }
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_declare_redeclare_equivalence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_declare_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_passive_404, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exclusive_owner_405, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_if_unused_if_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_purge_counts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bind_missing_exchange, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exchange_declare_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_durable_declarations_recorded, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
