/*
 * test_publish.c - publish.c without a channel or a socket, as a front end
 * other than AMQP (the HTTP API's publish) calls it: vhost_route fills a
 * route set by the exchange, the routing key and the CC and BCC keys, each
 * queue once; vhost_publish_routed hands one copy, without its BCC header,
 * to every queue, and tells how many it was routed to and how many took
 * it; route_set_done frees a set that outgrew its own storage (ASan would
 * report the leak).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "warren.h"

static broker b;

static int setup(void **state)
{
    (void)state;
    memset(&b, 0, sizeof b);
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

static queue *declare(const char *name, amqp_table args)
{
    queue *q = queue_new(b.vh, amqp_cstr(name), false, false, false, args, NULL);
    assert_non_null(q);
    return q;
}

static void bind_key(const char *x, queue *q, const char *key)
{
    assert_non_null(binding_add(vhost_exchange(b.vh, amqp_cstr(x)), q, NULL, amqp_cstr(key), (amqp_table){0}));
}

/* A header whose value is the array of the one string s. */
static void put_keys(amqp_tbuf *hb, const char *name, const char *s)
{
    amqp_tbuf arr = {0};
    amqp_value v = {.type = 'S', .v.s = amqp_cstr(s)};
    amqp_tbuf_put_value(&arr, &v);
    amqp_tbuf_array(hb, name, (amqp_array){arr.buf, (uint32_t)arr.len});
    amqp_tbuf_free(&arr);
}

/* A 5-byte message published to exchange x with key rk, and with CC and
 * BCC headers when cc / bcc are not NULL. */
static msg *message(const char *x, const char *rk, const char *cc, const char *bcc)
{
    amqp_basic_properties p = {0};
    amqp_tbuf hb = {0};
    uint8_t enc[512];
    size_t plen;
    msg *m;

    amqp_tbuf_str(&hb, "other", amqp_cstr("kept"));
    if (cc)
        put_keys(&hb, "CC", cc);
    if (bcc)
        put_keys(&hb, "BCC", bcc);
    p.flags = AMQP_BASIC_HEADERS_FLAG;
    p.headers = amqp_tbuf_done(&hb);
    assert_true(amqp_basic_properties_size(&p) <= sizeof enc);
    plen = (size_t)(amqp_basic_properties_encode(enc, &p) - enc);
    amqp_tbuf_free(&hb);
    m = msg_new(amqp_cstr(x), amqp_cstr(rk), enc, (uint32_t)plen, 5);
    assert_non_null(m);
    memcpy(msg_body(m), "hello", 5);
    m->body_have = 5;
    return m;
}

/* Take q's next message (there must be one); the caller unrefs it. */
static msg *take(queue *q)
{
    qentry e;
    msg *m;
    assert_true(queue_take(q, &e));
    assert_non_null(e.m);
    m = msg_ref(e.m);
    queue_settle(q, &e);
    return m;
}

static bool has_header(const msg *m, const char *name)
{
    amqp_basic_properties p;
    amqp_value v;
    assert_int_equal(amqp_basic_properties_decode(msg_props(m), m->props_len, &p), 0);
    return (p.flags & AMQP_BASIC_HEADERS_FLAG) && amqp_table_get(p.headers, name, &v);
}

static void test_routes_by_key_cc_and_bcc_and_drops_bcc(void **state)
{
    queue *a = declare("a", (amqp_table){0}), *bq = declare("b", (amqp_table){0}), *c = declare("c", (amqp_table){0});
    msg *m = message("amq.direct", "ka", "kb", "kc"), *got[3];
    route_set rs;
    deliver_result res;
    int i;
    (void)state;

    bind_key("amq.direct", a, "ka");
    bind_key("amq.direct", bq, "kb");
    bind_key("amq.direct", c, "kc");
    vhost_route(b.vh, m, true, &rs);
    assert_int_equal(rs.n, 3);
    assert_int_equal(vhost_publish_routed(b.vh, m, &rs, &res), 3);
    route_set_done(&rs);
    assert_int_equal(res.routed, 3);
    assert_int_equal(res.queues, 3);
    assert_int_equal(res.refused, 0);
    assert_false(res.stored);
    got[0] = take(a);
    got[1] = take(bq);
    got[2] = take(c);
    /* one copy for all, without BCC; the other headers stay */
    assert_ptr_equal(got[0], got[1]);
    assert_ptr_equal(got[1], got[2]);
    assert_false(has_header(got[0], "BCC"));
    assert_true(has_header(got[0], "CC"));
    assert_true(has_header(got[0], "other"));
    assert_memory_equal(msg_cbody(got[0]), "hello", 5);
    /* the caller's message is untouched */
    assert_true(has_header(m, "BCC"));
    for (i = 0; i < 3; i++)
        msg_unref(got[i]);
    msg_unref(m);
}

static void test_without_cc_routes_by_its_key_only(void **state)
{
    queue *a = declare("a", (amqp_table){0}), *bq = declare("b", (amqp_table){0});
    msg *m = message("amq.direct", "ka", "kb", NULL), *got;
    route_set rs;
    deliver_result res;
    (void)state;

    bind_key("amq.direct", a, "ka");
    bind_key("amq.direct", bq, "kb");
    /* as dead-lettering with x-dead-letter-routing-key */
    vhost_route(b.vh, m, false, &rs);
    assert_int_equal(rs.n, 1);
    assert_ptr_equal(rs.q[0], a);
    assert_int_equal(vhost_publish_routed(b.vh, m, &rs, &res), 1);
    route_set_done(&rs);
    got = take(a);
    /* no BCC to drop: the queue holds the message itself */
    assert_ptr_equal(got, m);
    msg_unref(got);
    assert_int_equal(queue_message_count(bq), 0);
    msg_unref(m);
}

static void test_each_queue_once_however_many_bindings(void **state)
{
    queue *qs[20];
    char name[16];
    msg *m = message("amq.fanout", "k", NULL, NULL);
    route_set rs;
    deliver_result res;
    int i;
    (void)state;

    for (i = 0; i < 20; i++) {
        snprintf(name, sizeof name, "q%d", i);
        qs[i] = declare(name, (amqp_table){0});
        bind_key("amq.fanout", qs[i], "");
    }
    /* q0 is reached through the topic exchange twice, and the fanout */
    assert_non_null(binding_add(vhost_exchange(b.vh, amqp_cstr("amq.fanout")), NULL,
                                vhost_exchange(b.vh, amqp_cstr("amq.topic")), amqp_cstr(""), (amqp_table){0}));
    bind_key("amq.topic", qs[0], "#");
    bind_key("amq.topic", qs[0], "k");
    vhost_route(b.vh, m, true, &rs);
    assert_int_equal(rs.n, 20);
    assert_true(rs.q != rs.one); /* outgrew its own storage */
    assert_int_equal(vhost_publish_routed(b.vh, m, &rs, &res), 20);
    route_set_done(&rs);
    assert_int_equal(res.routed, 20);
    for (i = 0; i < 20; i++)
        assert_int_equal(queue_message_count(qs[i]), 1);
    msg_unref(m);
}

static void test_unknown_exchange_routes_nowhere(void **state)
{
    msg *m = message("no-such-exchange", "k", "kb", "kc");
    route_set rs;
    deliver_result res;
    uint64_t seq = b.vh->next_seq;
    (void)state;

    vhost_route(b.vh, m, true, &rs);
    assert_int_equal(rs.n, 0);
    assert_int_equal(vhost_publish_routed(b.vh, m, &rs, &res), 0);
    route_set_done(&rs);
    assert_int_equal(res.routed, 0);
    assert_int_equal(res.queues, 0);
    /* a publish takes a sequence number, routed or not */
    assert_int_equal(b.vh->next_seq, seq + 1);
    msg_unref(m);
}

static void test_full_queue_refuses(void **state)
{
    amqp_tbuf args = {0};
    queue *full, *open;
    msg *m = message("amq.direct", "k", NULL, NULL);
    route_set rs;
    deliver_result res;
    (void)state;

    amqp_tbuf_long(&args, "x-max-length", 0);
    amqp_tbuf_str(&args, "x-overflow", amqp_cstr("reject-publish"));
    full = declare("full", amqp_tbuf_done(&args));
    amqp_tbuf_free(&args);
    open = declare("open", (amqp_table){0});
    bind_key("amq.direct", full, "k");
    bind_key("amq.direct", open, "k");
    vhost_route(b.vh, m, true, &rs);
    /* routed to two, taken by one: a confirm is a nack, no basic.return */
    assert_int_equal(vhost_publish_routed(b.vh, m, &rs, &res), 1);
    route_set_done(&rs);
    assert_int_equal(res.routed, 2);
    assert_int_equal(res.queues, 1);
    assert_int_equal(res.refused, 1);
    assert_int_equal(queue_message_count(full), 0);
    assert_int_equal(queue_message_count(open), 1);
    msg_unref(m);
}

static void test_incomplete_set_is_refused_whole(void **state)
{
    queue *a, *c;
    msg *m = message("amq.direct", "k", NULL, NULL);
    route_set rs;
    deliver_result res;
    (void)state;

    a = declare("a", (amqp_table){0});
    c = declare("c", (amqp_table){0});
    bind_key("amq.direct", a, "k");
    bind_key("amq.direct", c, "k");
    vhost_route(b.vh, m, true, &rs);
    assert_false(rs.incomplete);
    /* as route_set_add leaves it when it cannot grow the set: a queue is
     * missing, so nothing may take the message (a confirm would promise
     * all of its queues) */
    rs.incomplete = true;
    assert_int_equal(vhost_publish_routed(b.vh, m, &rs, &res), -1);
    route_set_done(&rs);
    assert_int_equal(queue_message_count(a), 0);
    assert_int_equal(queue_message_count(c), 0);
    msg_unref(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_routes_by_key_cc_and_bcc_and_drops_bcc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_without_cc_routes_by_its_key_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_each_queue_once_however_many_bindings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_exchange_routes_nowhere, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_queue_refuses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_incomplete_set_is_refused_whole, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
