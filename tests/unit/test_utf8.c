/*
 * test_utf8.c - the shortstr UTF-8 check (src/amqp/utf8.c) and where the
 * generated decoders apply it, and the escaping of control characters in
 * log lines (src/log.c).
 *
 * The byte sequences below were each sent to a RabbitMQ 3.10 node as a
 * queue name (tests/interop/test_protocol_abuse.py sends them to both):
 * the "refused" ones got 501 "Malformed UTF-8 in shortstr", the others a
 * declare-ok.
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

#include "amqp/spec.h"
#include "log.h"

struct sample {
    const char *bytes;
    size_t len;
    bool ok;
};

#define S(lit, ok) {lit, sizeof lit - 1, ok}

static const struct sample samples[] = {
    S("", true),
    S("task_queue", true),
    S("a\nb\x00" "c\x1b\x7f", true),          /* control characters and NUL are UTF-8 */
    S("caf\xc3\xa9", true),                   /* U+00E9 */
    S("\xef\xbf\xbf", true),                  /* U+FFFF */
    S("\xf0\x90\x80\x80", true),              /* U+10000 */
    S("\xf4\x8f\xbf\xbf", true),              /* U+10FFFF */
    S("\xed\xa0\x80", true),                  /* a surrogate: RabbitMQ accepts it */
    S("\xed\xbf\xbf", true),
    S("\xf4\x90\x80\x80", true),              /* above U+10FFFF: accepted too */
    S("\xf5\x80\x80\x80", true),
    S("\xf7\xbf\xbf\xbf", true),
    S("\xff", false),
    S("\xfe", false),
    S("\x80", false),                         /* continuation without a lead */
    S("a\xbf" "b", false),
    S("\xc0\x80", false),                     /* overlong NUL */
    S("\xc0\xaf", false),                     /* overlong '/' */
    S("\xc1\xbf", false),
    S("\xe0\x80\x80", false),                 /* overlong three-byte forms */
    S("\xe0\x9f\xbf", false),
    S("\xf0\x80\x80\x80", false),             /* overlong four-byte forms */
    S("\xf0\x8f\xbf\xbf", false),
    S("\xf8\x88\x80\x80\x80", false),         /* five bytes */
    S("\xc2", false),                         /* cut short by the end */
    S("\xe2\x82", false),
    S("\xf0\x90\x80", false),
    S("\xc3" "a", false),                     /* cut short by a non-continuation */
    S("\xe2\x82" "a", false),
    S("\xf0\x90\x80" "a", false),
};

static void test_validator(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
        if (amqp_utf8_ok(samples[i].bytes, samples[i].len) != samples[i].ok)
            fail_msg("sample %zu: expected %s", i, samples[i].ok ? "valid" : "malformed");
    }
}

/* queue.declare's arguments: ticket, the name, five bits, an empty table. */
static size_t queue_declare_args(uint8_t *out, const char *name, size_t len)
{
    uint8_t *p = out;
    p = amqp_put16(p, 0);
    *p++ = (uint8_t)len;
    memcpy(p, name, len);
    p += len;
    *p++ = 0;
    p = amqp_put32(p, 0);
    return (size_t)(p - out);
}

static void test_decoder_checks_method_shortstrs(void **state)
{
    uint8_t buf[300];
    amqp_method_args a;
    size_t n;
    (void)state;
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
        n = queue_declare_args(buf, samples[i].bytes, samples[i].len);
        assert_int_equal(amqp_method_decode(AMQP_QUEUE_DECLARE, buf, n, &a),
                         samples[i].ok ? AMQP_OK : AMQP_EUTF8);
    }
    /* a truncated method is reported as truncated, as RabbitMQ's "cannot
     * decode" comes before its UTF-8 check */
    n = queue_declare_args(buf, "x\xff", 2);
    assert_int_equal(amqp_method_decode(AMQP_QUEUE_DECLARE, buf, n - 4, &a), AMQP_ETRUNC);
    /* the consumer tag of basic.consume, the vhost of connection.open */
    {
        amqp_basic_consume m = {.queue = amqp_cstr("q"), .consumer_tag = {"t\xff", 2}};
        n = amqp_method_size(AMQP_BASIC_CONSUME, &m);
        amqp_method_encode(AMQP_BASIC_CONSUME, &m, buf);
        assert_int_equal(amqp_method_decode(AMQP_BASIC_CONSUME, buf, n, &a), AMQP_EUTF8);
    }
    {
        amqp_connection_open m = {.virtual_host = {"/\xc0\xaf", 3}};
        n = amqp_method_size(AMQP_CONNECTION_OPEN, &m);
        amqp_method_encode(AMQP_CONNECTION_OPEN, &m, buf);
        assert_int_equal(amqp_method_decode(AMQP_CONNECTION_OPEN, buf, n, &a), AMQP_EUTF8);
    }
}

static void test_content_methods_and_tables_unchecked(void **state)
{
    uint8_t buf[300];
    amqp_method_args a;
    size_t n;
    (void)state;
    /* RabbitMQ decodes basic.publish on a fast path that checks nothing */
    amqp_basic_publish m = {.exchange = {"x\xff", 2}, .routing_key = {"\xc0\x80", 2}};
    n = amqp_method_size(AMQP_BASIC_PUBLISH, &m);
    amqp_method_encode(AMQP_BASIC_PUBLISH, &m, buf);
    assert_int_equal(amqp_method_decode(AMQP_BASIC_PUBLISH, buf, n, &a), AMQP_OK);
    /* nor the keys of a field table */
    uint8_t *p = buf;
    p = amqp_put16(p, 0);
    *p++ = 1;
    *p++ = 'q';
    *p++ = 0;
    p = amqp_put32(p, 2 + 1 + 4); /* key "\xff", then an int */
    *p++ = 1;
    *p++ = (uint8_t)'\xff';
    *p++ = 'I';
    p = amqp_put32(p, 7);
    assert_int_equal(amqp_method_decode(AMQP_QUEUE_DECLARE, buf, (size_t)(p - buf), &a), AMQP_OK);
}

static void test_log_escape(void **state)
{
    char out[64];
    (void)state;
    assert_int_equal(log_escape(out, sizeof out, "plain caf\xc3\xa9"), strlen("plain caf\xc3\xa9"));
    assert_string_equal(out, "plain caf\xc3\xa9");
    log_escape(out, sizeof out, "a\nFAKE\r\tz");
    assert_string_equal(out, "a\\nFAKE\\r\\tz");
    log_escape(out, sizeof out, "\x1b[31mred\x7f\x01");
    assert_string_equal(out, "\\x1b[31mred\\x7f\\x01");
    /* an escape that does not fit is left out whole */
    assert_int_equal(log_escape(out, 5, "abc\n"), 3);
    assert_string_equal(out, "abc");
    assert_int_equal(log_escape(out, 6, "abc\n"), 5);
    assert_string_equal(out, "abc\\n");
}

/* log_msg itself: a message with a newline in it is one line. */
static void test_log_line_is_one_line(void **state)
{
    int fds[2], saved;
    char got[4096];
    ssize_t n;
    (void)state;
    assert_int_equal(pipe(fds), 0);
    saved = dup(STDERR_FILENO);
    dup2(fds[1], STDERR_FILENO);
    log_msg(LOG_INFO, "queue '%s' declared", "a\nFAKE LOG LINE");
    dup2(saved, STDERR_FILENO);
    close(saved);
    close(fds[1]);
    n = read(fds[0], got, sizeof got - 1);
    close(fds[0]);
    assert_true(n > 0);
    got[n] = '\0';
    assert_non_null(strstr(got, " info  queue 'a\\nFAKE LOG LINE' declared\n"));
    assert_ptr_equal(strchr(got, '\n'), got + n - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_validator),
        cmocka_unit_test(test_decoder_checks_method_shortstrs),
        cmocka_unit_test(test_content_methods_and_tables_unchecked),
        cmocka_unit_test(test_log_escape),
        cmocka_unit_test(test_log_line_is_one_line),
    };
    return cmocka_run_group_tests_name("utf8", tests, NULL, NULL);
}
