/*
 * test_auth.c - who may log in (auth.c): users from the configuration, and
 * guest only from a loopback address unless --guest-remote says otherwise
 * (as RabbitMQ's loopback_users default).  The interop tests can only
 * connect from loopback, so the remote case is checked here, on
 * auth_check itself, without a broker or a connection.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "auth.h"

static void setup_db(auth_db *db, bool guest_remote)
{
    config cfg;
    config_defaults(&cfg);
    cfg.users[0][0] = "guest";
    cfg.users[0][1] = "guest";
    cfg.users[1][0] = "alice";
    cfg.users[1][1] = "s3cret";
    cfg.nusers = 2;
    cfg.guest_remote = guest_remote;
    assert_int_equal(auth_db_init(db, &cfg), 0);
}

static void test_guest_loopback_only(void **state)
{
    auth_db db;
    amqp_error err = {0};
    (void)state;
    setup_db(&db, false);
    assert_int_equal(auth_check(&db, "guest", amqp_cstr("guest"), true, &err), 0);
    assert_int_equal(auth_check(&db, "guest", amqp_cstr("guest"), false, &err), -1);
    assert_int_equal(err.code, AMQP_ACCESS_REFUSED);
    assert_string_equal(err.text, "ACCESS_REFUSED - user 'guest' can only connect via localhost");
    /* a wrong password from afar is a wrong password, as in RabbitMQ */
    assert_int_equal(auth_check(&db, "guest", amqp_cstr("gues"), false, &err), -1);
    assert_string_equal(err.text, "ACCESS_REFUSED - user 'guest' - invalid credentials");
    auth_db_free(&db);
}

static void test_guest_remote_allowed_when_configured(void **state)
{
    auth_db db;
    amqp_error err = {0};
    (void)state;
    setup_db(&db, true);
    assert_int_equal(auth_check(&db, "guest", amqp_cstr("guest"), false, &err), 0);
    auth_db_free(&db);
}

static void test_other_users_from_anywhere(void **state)
{
    auth_db db;
    amqp_error err = {0};
    (void)state;
    setup_db(&db, false);
    assert_int_equal(auth_check(&db, "alice", amqp_cstr("s3cret"), false, &err), 0);
    assert_int_equal(auth_check(&db, "alice", amqp_cstr("s3cret"), true, &err), 0);
    auth_db_free(&db);
}

static void test_wrong_password_and_unknown_user(void **state)
{
    auth_db db;
    amqp_error err = {0};
    amqp_str nul = {"s3cret\0", 7};
    (void)state;
    setup_db(&db, false);
    assert_int_equal(auth_check(&db, "alice", amqp_cstr("s3cre"), true, &err), -1);
    assert_int_equal(err.code, AMQP_ACCESS_REFUSED);
    assert_string_equal(err.text, "ACCESS_REFUSED - user 'alice' - invalid credentials");
    assert_int_equal(auth_check(&db, "alice", amqp_cstr("s3cret!"), true, &err), -1);
    assert_int_equal(auth_check(&db, "alice", amqp_cstr("S3cret"), true, &err), -1);
    assert_int_equal(auth_check(&db, "alice", nul, true, &err), -1); /* a PLAIN password may hold a NUL */
    assert_int_equal(auth_check(&db, "bob", amqp_cstr("s3cret"), true, &err), -1);
    assert_string_equal(err.text, "ACCESS_REFUSED - user 'bob' - invalid credentials");
    assert_int_equal(auth_check(&db, "guest", amqp_cstr(""), true, &err), -1);
    assert_int_equal(auth_check(&db, "", amqp_cstr(""), true, &err), -1);
    auth_db_free(&db);
}

/* --user given twice for one name: the first password counts, as it did
 * when the configuration was searched directly. */
static void test_first_of_a_name_counts(void **state)
{
    config cfg;
    auth_db db;
    amqp_error err = {0};
    (void)state;
    config_defaults(&cfg);
    cfg.users[0][0] = "alice";
    cfg.users[0][1] = "one";
    cfg.users[1][0] = "alice";
    cfg.users[1][1] = "two";
    cfg.nusers = 2;
    assert_int_equal(auth_db_init(&db, &cfg), 0);
    assert_int_equal(auth_check(&db, "alice", amqp_cstr("one"), true, &err), 0);
    assert_int_equal(auth_check(&db, "alice", amqp_cstr("two"), true, &err), -1);
    errno = 0;
    assert_int_equal(auth_add_user(&db, "alice", "three", false), -1);
    assert_int_equal(errno, EEXIST);
    auth_db_free(&db);
}

/* The API the HTTP API's basic auth uses too: a user added to the
 * database, no configuration and no connection involved. */
static void test_added_user(void **state)
{
    auth_db db = {0};
    amqp_error err = {0};
    char pw[] = "pa55";
    (void)state;
    assert_int_equal(auth_add_user(&db, "carol", pw, true), 0);
    pw[0] = 'x'; /* copied: the caller's buffer may go */
    assert_int_equal(auth_check(&db, "carol", amqp_cstr("pa55"), true, &err), 0);
    assert_int_equal(auth_check(&db, "carol", amqp_cstr("pa55"), false, &err), -1);
    assert_string_equal(err.text, "ACCESS_REFUSED - user 'carol' can only connect via localhost");
    auth_db_free(&db);
    assert_int_equal(auth_check(&db, "carol", amqp_cstr("pa55"), true, &err), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_guest_loopback_only),
        cmocka_unit_test(test_guest_remote_allowed_when_configured),
        cmocka_unit_test(test_other_users_from_anywhere),
        cmocka_unit_test(test_wrong_password_and_unknown_user),
        cmocka_unit_test(test_first_of_a_name_counts),
        cmocka_unit_test(test_added_user),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
