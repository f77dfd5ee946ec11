/*
 * test_auth.c - who may log in: users from the configuration, and guest
 * only from a loopback address unless --guest-remote says otherwise (as
 * RabbitMQ's loopback_users default).  The interop tests can only connect
 * from loopback, so the remote case is checked here, on broker_auth itself.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "warren.h"

static void setup_broker(broker *b, bool guest_remote)
{
    memset(b, 0, sizeof *b);
    config_defaults(&b->cfg);
    b->cfg.users[0][0] = "guest";
    b->cfg.users[0][1] = "guest";
    b->cfg.users[1][0] = "alice";
    b->cfg.users[1][1] = "s3cret";
    b->cfg.nusers = 2;
    b->cfg.guest_remote = guest_remote;
}

static void test_guest_loopback_only(void **state)
{
    broker b;
    amqp_error err = {0};
    (void)state;
    setup_broker(&b, false);
    assert_true(broker_auth(&b, "guest", amqp_cstr("guest"), true, &err));
    assert_false(broker_auth(&b, "guest", amqp_cstr("guest"), false, &err));
    assert_int_equal(err.code, AMQP_ACCESS_REFUSED);
    assert_string_equal(err.text, "ACCESS_REFUSED - user 'guest' can only connect via localhost");
}

static void test_guest_remote_allowed_when_configured(void **state)
{
    broker b;
    amqp_error err = {0};
    (void)state;
    setup_broker(&b, true);
    assert_true(broker_auth(&b, "guest", amqp_cstr("guest"), false, &err));
}

static void test_other_users_from_anywhere(void **state)
{
    broker b;
    amqp_error err = {0};
    (void)state;
    setup_broker(&b, false);
    assert_true(broker_auth(&b, "alice", amqp_cstr("s3cret"), false, &err));
    assert_true(broker_auth(&b, "alice", amqp_cstr("s3cret"), true, &err));
}

static void test_wrong_password_and_unknown_user(void **state)
{
    broker b;
    amqp_error err = {0};
    (void)state;
    setup_broker(&b, false);
    assert_false(broker_auth(&b, "alice", amqp_cstr("s3cre"), true, &err));
    assert_int_equal(err.code, AMQP_ACCESS_REFUSED);
    assert_string_equal(err.text, "ACCESS_REFUSED - user 'alice' - invalid credentials");
    assert_false(broker_auth(&b, "alice", amqp_cstr("s3cret!"), true, &err));
    assert_false(broker_auth(&b, "bob", amqp_cstr("s3cret"), true, &err));
    assert_false(broker_auth(&b, "guest", amqp_cstr(""), true, &err));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_guest_loopback_only),
        cmocka_unit_test(test_guest_remote_allowed_when_configured),
        cmocka_unit_test(test_other_users_from_anywhere),
        cmocka_unit_test(test_wrong_password_and_unknown_user),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
