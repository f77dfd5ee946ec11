/*
 * test_http_body.c - the HTTP API's bodies without a server
 * (src/http/body.c): RabbitMQ's properties keys (taken from the reference
 * node's Location headers), base64 both ways, JSON arguments into AMQP
 * types, and a get's body.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "http/body.h"

static void test_props_key_forms(void **state)
{
    char out[HTTP_PROPS_KEY_MAX];
    uint8_t argsb[] = {1, 'x', 'S', 0, 0, 0, 1, 'y'};
    amqp_table args = {argsb, sizeof argsb};
    size_t n;
    (void)state;

    /* as RabbitMQ 3.10.8: "~", the key quote_plus'ed with ~ as %7E */
    assert_int_equal(http_props_key(amqp_cstr(""), (amqp_table){0}, out), 1);
    assert_string_equal(out, "~");
    http_props_key(amqp_cstr("k"), (amqp_table){0}, out);
    assert_string_equal(out, "k");
    http_props_key(amqp_cstr("a b/c%d~e"), (amqp_table){0}, out);
    assert_string_equal(out, "a+b%2Fc%25d%7Ee");
    /* with arguments: "~" and 6 base64url characters, after the key */
    n = http_props_key(amqp_cstr("k"), args, out);
    assert_int_equal(n, 8);
    assert_memory_equal(out, "k~", 2);
    assert_int_equal(strspn(out + 2, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), 6);
    n = http_props_key(amqp_cstr(""), args, out);
    assert_int_equal(n, 7);
    assert_int_equal(out[0], '~');
}

static void test_base64(void **state)
{
    char enc[16];
    uint8_t dec[16];
    (void)state;

    http_base64_encode(enc, (const uint8_t *)"\x00\x01\x02\xff", 4);
    assert_string_equal(enc, "AAEC/w==");
    http_base64_encode(enc, (const uint8_t *)"he", 2);
    assert_string_equal(enc, "aGU=");
    assert_int_equal(http_base64_decode(dec, "AAEC/w==", 8), 4);
    assert_memory_equal(dec, "\x00\x01\x02\xff", 4);
    assert_int_equal(http_base64_decode(dec, "aGU", 3), 2);     /* padding may be left off */
    assert_int_equal(http_base64_decode(dec, "", 0), 0);
    assert_int_equal(http_base64_decode(dec, "!!!", 3), -1);
    assert_int_equal(http_base64_decode(dec, "A", 1), -1);
    assert_int_equal(http_base64_decode(dec, "AA=A", 4), -1);
    assert_int_equal(http_base64_decode(dec, "AA===", 5), -1);
}

static void test_arguments_become_rabbitmqs_types(void **state)
{
    json_t *j = json_loads("{\"s\":\"x\",\"i\":5,\"d\":1.5,\"b\":true,\"t\":{\"k\":1},\"a\":[1,\"y\"]}", 0, NULL);
    http_reply r = {0};
    amqp_tbuf b = {0};
    amqp_value v;
    amqp_table t;
    (void)state;

    assert_non_null(j);
    assert_int_equal(http_json_table(&r, "arguments", j, &b), 0);
    t = amqp_tbuf_done(&b);
    assert_true(amqp_table_get(t, "s", &v) && v.type == 'S');
    assert_true(amqp_table_get(t, "i", &v) && v.type == 'l' && v.v.i == 5);
    assert_true(amqp_table_get(t, "d", &v) && v.type == 'd' && v.v.d == 1.5);
    assert_true(amqp_table_get(t, "b", &v) && v.type == 't' && v.v.b);
    assert_true(amqp_table_get(t, "t", &v) && v.type == 'F');
    assert_true(amqp_table_get(t, "a", &v) && v.type == 'A');
    amqp_tbuf_free(&b);
    json_decref(j);

    /* null is RabbitMQ's null_not_allowed, and nothing is kept */
    j = json_loads("{\"n\":null}", 0, NULL);
    assert_int_equal(http_json_table(&r, "arguments", j, &b), -1);
    assert_int_equal(r.status, 400);
    assert_string_equal(json_string_value(json_object_get(r.body, "reason")), "null_not_allowed");
    json_decref(r.body);
    amqp_tbuf_free(&b);
    json_decref(j);
}

static void test_get_body(void **state)
{
    json_t *j = json_loads("{\"count\":\"3\",\"ackmode\":\"reject_requeue_false\",\"encoding\":\"base64\","
                           "\"truncate\":10}", 0, NULL);
    http_reply r = {0};
    http_get_req g;
    (void)state;

    assert_int_equal(http_body_get(&r, j, &g), 0);
    assert_int_equal(g.count, 3);
    assert_int_equal(g.ackmode, REJECT_REQUEUE_FALSE);
    assert_true(g.base64);
    assert_int_equal(g.truncate, 10);
    json_decref(j);

    j = json_loads("{\"ackmode\":\"ack_requeue_true\",\"encoding\":\"auto\"}", 0, NULL);
    assert_int_equal(http_body_get(&r, j, &g), -1);
    assert_int_equal(r.status, 400);
    assert_string_equal(json_string_value(json_object_get(r.body, "reason")), "[{key_missing,count}]");
    json_decref(r.body);
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_props_key_forms),
        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_arguments_become_rabbitmqs_types),
        cmocka_unit_test(test_get_body),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
