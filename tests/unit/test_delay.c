/*
 * test_delay.c - delay.c without a broker: the back-off formula (initial,
 * multiplier, cap, jitter), the x-delay header as the delayed-message
 * plugin reads it, and the x-backoff-* arguments' checks and reading
 * (queue_args.c).  Timing end to end is tests/interop/test_backoff.py's
 * and test_delayed_exchange.py's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "amqp/spec.h"
#include "warren.h"

static queue_backoff backoff(int64_t initial, double mult, int64_t max, double jitter)
{
    queue_backoff s;
    queue_args_read_backoff(&s, (amqp_table){NULL, 0});
    s.initial = initial;
    s.multiplier = mult;
    s.max = max;
    s.jitter = jitter;
    return s;
}

static void test_backoff_grows_and_caps(void **state)
{
    queue_backoff s = backoff(100, 2, 1000, 0);
    (void)state;
    assert_int_equal(delay_backoff_ms(&s, 0, 0), 0);
    assert_int_equal(delay_backoff_ms(&s, 1, 0), 100);
    assert_int_equal(delay_backoff_ms(&s, 2, 0), 200);
    assert_int_equal(delay_backoff_ms(&s, 4, 0), 800);
    assert_int_equal(delay_backoff_ms(&s, 5, 0), 1000);
    assert_int_equal(delay_backoff_ms(&s, 60000, 0), 1000); /* no overflow however many returns */
    s = backoff(200, 1.5, -1, 0);
    assert_int_equal(delay_backoff_ms(&s, 3, 0), 450);
    s = backoff(0, 2, -1, 0);
    assert_int_equal(delay_backoff_ms(&s, 3, 0), 0); /* off */
    s = backoff(1000, 1000, -1, 0);
    assert_true(delay_backoff_ms(&s, 65535, 0) > 0); /* huge, never negative */
}

static void test_backoff_jitter_takes_off_up_to_its_part(void **state)
{
    queue_backoff s = backoff(1000, 1, -1, 0.25);
    (void)state;
    assert_int_equal(delay_backoff_ms(&s, 1, 0), 1000);            /* r = 0 */
    assert_int_equal(delay_backoff_ms(&s, 1, 1ull << 63), 875);    /* r = 1/2 */
    assert_true(delay_backoff_ms(&s, 1, UINT64_MAX) >= 750);       /* r < 1 */
}

/* The encoded properties of a message whose x-delay header is v. */
static uint32_t props_with(uint8_t *buf, const amqp_value *v)
{
    amqp_tbuf hb = {0};
    amqp_basic_properties p = {.flags = AMQP_BASIC_HEADERS_FLAG};
    uint32_t n;
    amqp_tbuf_value(&hb, "x-delay", v);
    p.headers = amqp_tbuf_done(&hb);
    n = (uint32_t)(amqp_basic_properties_encode(buf, &p) - buf);
    amqp_tbuf_free(&hb);
    return n;
}

static int64_t delay_of(amqp_value v)
{
    uint8_t buf[128];
    uint32_t n = props_with(buf, &v);
    return delay_header_ms(buf, n);
}

static void test_x_delay_as_the_plugin_reads_it(void **state)
{
    (void)state;
    assert_int_equal(delay_of((amqp_value){.type = 'I', .v.i = 5000}), 5000);
    assert_int_equal(delay_of((amqp_value){.type = 'l', .v.i = 7}), 7);
    assert_int_equal(delay_of((amqp_value){.type = 's', .v.i = 300}), 300);
    assert_int_equal(delay_of((amqp_value){.type = 'S', .v.s = {"1500", 4}}), 1500);
    assert_int_equal(delay_of((amqp_value){.type = 'd', .v.d = 250.9}), 250);
    assert_int_equal(delay_of((amqp_value){.type = 'D', .v.dec = {.scale = 1, .value = 12345}}), 1234);
    /* route at once: 0, negative, junk, a timestamp, past 2^32-1 ms */
    assert_int_equal(delay_of((amqp_value){.type = 'I', .v.i = 0}), 0);
    assert_int_equal(delay_of((amqp_value){.type = 'I', .v.i = -5}), 0);
    assert_int_equal(delay_of((amqp_value){.type = 'S', .v.s = {"12a", 3}}), 0);
    assert_int_equal(delay_of((amqp_value){.type = 'S', .v.s = {"", 0}}), 0);
    assert_int_equal(delay_of((amqp_value){.type = 'T', .v.u = 5000}), 0);
    assert_int_equal(delay_of((amqp_value){.type = 'l', .v.i = 4294967295ll}), 4294967295ll);
    assert_int_equal(delay_of((amqp_value){.type = 'l', .v.i = 4294967296ll}), 0);
    assert_int_equal(delay_of((amqp_value){.type = 't', .v.b = true}), 0);
    /* no headers at all */
    assert_int_equal(delay_header_ms((const uint8_t *)"\0\0", 2), 0);
}

static const char *validate(const char *k1, amqp_value v1, const char *k2, amqp_value v2)
{
    static amqp_error err;
    amqp_tbuf b = {0};
    int rc;
    amqp_tbuf_value(&b, k1, &v1);
    if (k2)
        amqp_tbuf_value(&b, k2, &v2);
    rc = queue_args_validate(amqp_tbuf_done(&b), "q", "/", &err);
    amqp_tbuf_free(&b);
    return rc == 0 ? "" : err.text;
}

#define INITIAL "x-backoff-initial", ((amqp_value){.type = 'I', .v.i = 100})
#define P(why, key) "PRECONDITION_FAILED - invalid arg '" key "' for queue 'q' in vhost '/': " why

static void test_backoff_arguments_checked(void **state)
{
    (void)state;
    assert_string_equal(validate(INITIAL, NULL, (amqp_value){0}), "");
    assert_string_equal(validate("x-backoff-initial", (amqp_value){.type = 'I', .v.i = -1}, NULL, (amqp_value){0}),
                        P("{value_negative,-1}", "x-backoff-initial"));
    assert_string_equal(validate(INITIAL, "x-backoff-multiplier", (amqp_value){.type = 'd', .v.d = 1.5}), "");
    assert_string_equal(validate(INITIAL, "x-backoff-multiplier", (amqp_value){.type = 'd', .v.d = 0.5}),
                        P("{value_too_small,0.5}", "x-backoff-multiplier"));
    assert_string_equal(validate(INITIAL, "x-backoff-multiplier", (amqp_value){.type = 'I', .v.i = 1001}),
                        P("{value_too_large,1001.0}", "x-backoff-multiplier"));
    assert_string_equal(validate(INITIAL, "x-backoff-jitter", (amqp_value){.type = 'D', .v.dec = {1, 5}}), "");
    assert_string_equal(validate(INITIAL, "x-backoff-jitter", (amqp_value){.type = 'd', .v.d = -0.1}),
                        P("{value_out_of_range,-0.1}", "x-backoff-jitter"));
    assert_string_equal(validate(INITIAL, "x-backoff-jitter", (amqp_value){.type = 'S', .v.s = {"a", 1}}),
                        P("\"expected number, got longstr\"", "x-backoff-jitter"));
    assert_string_equal(validate("x-backoff-max", (amqp_value){.type = 'I', .v.i = 5}, NULL, (amqp_value){0}),
                        P("backoff_but_no_initial_delay", "x-backoff-max"));
}

static void test_backoff_arguments_read(void **state)
{
    amqp_tbuf b = {0};
    queue_settings s;
    queue_backoff bo;
    amqp_table t;
    (void)state;
    queue_args_read(&s, (amqp_table){NULL, 0});
    queue_args_read_backoff(&bo, (amqp_table){NULL, 0});
    assert_false(s.backoff);
    assert_int_equal(bo.initial, 0);
    assert_true(bo.multiplier == 2);
    assert_int_equal(bo.max, -1);
    amqp_tbuf_long(&b, "x-backoff-initial", 250);
    amqp_tbuf_value(&b, "x-backoff-multiplier", &(amqp_value){.type = 'D', .v.dec = {1, 15}});
    amqp_tbuf_long(&b, "x-backoff-max", 9000);
    amqp_tbuf_value(&b, "x-backoff-jitter", &(amqp_value){.type = 'd', .v.d = 0.5});
    t = amqp_tbuf_done(&b);
    queue_args_read(&s, t);
    queue_args_read_backoff(&bo, t);
    amqp_tbuf_free(&b);
    assert_true(s.backoff);
    assert_int_equal(bo.initial, 250);
    assert_true(bo.multiplier == 1.5);
    assert_int_equal(bo.max, 9000);
    assert_true(bo.jitter == 0.5);
    /* an initial delay of 0 is none */
    memset(&b, 0, sizeof b);
    amqp_tbuf_long(&b, "x-backoff-initial", 0);
    queue_args_read(&s, amqp_tbuf_done(&b));
    amqp_tbuf_free(&b);
    assert_false(s.backoff);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backoff_grows_and_caps),
        cmocka_unit_test(test_backoff_jitter_takes_off_up_to_its_part),
        cmocka_unit_test(test_x_delay_as_the_plugin_reads_it),
        cmocka_unit_test(test_backoff_arguments_checked),
        cmocka_unit_test(test_backoff_arguments_read),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
