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
#include <stdlib.h>
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

/* RabbitMQ's rabbit_password_hashing_sha256: base64(salt ++ sha256(salt ++
 * password)).  The hash is the one the reference node (3.10.8) exported
 * for a user m4bob with password "bobpw". */
static void test_rabbitmq_hash(void **state)
{
    const char *b64 = "9MA96r/tE2MgRP3MQJiQOjK3zLaJ/b8I2yRurOsnAAgKyT+z";
    uint8_t want[36], got[AUTH_HASH_MAX];
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    unsigned acc = 0, bits = 0;
    size_t i, n = 0;
    auth_db db = {0};
    amqp_error err = {0};
    const char *why;
    char out[128];
    (void)state;

    for (i = 0; b64[i]; i++) {
        acc = acc << 6 | (unsigned)(strchr(alphabet, b64[i]) - alphabet);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            want[n++] = (uint8_t)(acc >> bits);
        }
    }
    assert_int_equal(n, 36);
    assert_int_equal(auth_hash_password(AUTH_SHA256, want, "bobpw", 5, got), 36);
    assert_memory_equal(got, want, 36);
    /* imported as it is, it logs in with the password and shows the same */
    assert_int_equal(auth_put_user(&db, "m4bob", want, 36, AUTH_SHA256, "", &why), 0);
    assert_int_equal(auth_check(&db, "m4bob", amqp_cstr("bobpw"), false, &err), 0);
    assert_int_equal(auth_check(&db, "m4bob", amqp_cstr("bobpx"), false, &err), -1);
    auth_hash_base64(auth_find(&db, "m4bob"), out, sizeof out);
    assert_string_equal(out, b64);
    /* a fresh salt each time */
    auth_hash_password(AUTH_SHA256, NULL, "bobpw", 5, got);
    n = auth_hash_password(AUTH_SHA256, NULL, "bobpw", 5, want);
    assert_int_equal(n, 36);
    assert_memory_not_equal(got, want, 36);
    assert_int_equal(auth_hash_password(AUTH_SHA512, NULL, "x", 1, got), 68);
    assert_int_equal(auth_hash_password(AUTH_MD5, NULL, "x", 1, got), 20);
    /* no hash: no password logs in, not even the empty one */
    assert_int_equal(auth_put_user(&db, "nopw", NULL, 0, AUTH_SHA256, "", &why), 0);
    assert_int_equal(auth_check(&db, "nopw", amqp_cstr(""), true, &err), -1);
    auth_db_free(&db);
}

static void test_tags(void **state)
{
    char out[64];
    (void)state;
    assert_int_equal(auth_tags_normalize("a, b", out, sizeof out), 0);
    assert_string_equal(out, "a,b");
    assert_int_equal(auth_tags_normalize(" administrator ,,monitoring", out, sizeof out),
                     AUTH_TAG_ADMINISTRATOR | AUTH_TAG_MONITORING);
    assert_string_equal(out, "administrator,monitoring");
    assert_int_equal(auth_tags_normalize("management,policymaker", out, sizeof out),
                     AUTH_TAG_MANAGEMENT | AUTH_TAG_POLICYMAKER);
    assert_int_equal(auth_tags_normalize("", out, sizeof out), 0);
    assert_string_equal(out, "");
    assert_int_equal(auth_tags_normalize("administratorx", out, sizeof out), 0);
}

/* The permission matcher: regular expressions found anywhere in the
 * name (re:run), an empty one matching nothing, the default exchange as
 * amq.default, and RabbitMQ's texts. */
static void test_permissions(void **state)
{
    auth_db db = {0};
    amqp_error err = {0};
    const char *why;
    char whyb[200];
    const char *re[3] = {"^m4ok.*", "^(m4ok.*|amq\\.default)$", ""};
    const char *bad[3] = {"(", ".*", ".*"};
    (void)state;

    assert_int_equal(auth_put_user(&db, "bob", NULL, 0, AUTH_SHA256, "", &why), 0);
    assert_int_equal(auth_vhost_access(&db, "bob", "/", &err), -1);
    assert_int_equal(err.code, AMQP_NOT_ALLOWED);
    assert_string_equal(err.text, "NOT_ALLOWED - access to vhost '/' refused for user 'bob'");
    assert_int_equal(auth_set_permission(&db, "bob", "/", re, whyb, sizeof whyb), 0);
    assert_int_equal(auth_vhost_access(&db, "bob", "/", &err), 0);
    assert_int_equal(auth_vhost_access(&db, "bob", "other", &err), -1);

    assert_int_equal(auth_permitted(&db, "bob", "/", AUTH_QUEUE, amqp_cstr("m4okq"), AUTH_CONFIGURE, &err), 0);
    assert_int_equal(auth_permitted(&db, "bob", "/", AUTH_QUEUE, amqp_cstr("xm4okq"), AUTH_CONFIGURE, &err), -1);
    assert_int_equal(err.code, AMQP_ACCESS_REFUSED);
    assert_string_equal(err.text, "ACCESS_REFUSED - access to queue 'xm4okq' in vhost '/' refused for user 'bob'");
    assert_int_equal(auth_permitted(&db, "bob", "/", AUTH_EXCHANGE, amqp_cstr(""), AUTH_WRITE, &err), 0);
    assert_int_equal(auth_permitted(&db, "bob", "/", AUTH_EXCHANGE, amqp_cstr("amq.direct"), AUTH_WRITE, &err), -1);
    assert_string_equal(err.text,
                        "ACCESS_REFUSED - access to exchange 'amq.direct' in vhost '/' refused for user 'bob'");
    /* anchored with $: no match on a longer name */
    assert_int_equal(auth_permitted(&db, "bob", "/", AUTH_EXCHANGE, amqp_cstr("amq.defaultx"), AUTH_WRITE, &err), -1);
    /* empty: nothing, not even the empty name */
    assert_int_equal(auth_permitted(&db, "bob", "/", AUTH_QUEUE, amqp_cstr("m4okq"), AUTH_READ, &err), -1);
    /* a NUL in the name is part of it, not its end */
    assert_int_equal(auth_permitted(&db, "bob", "/", AUTH_EXCHANGE, (amqp_str){"amq.default\0x", 13}, AUTH_WRITE,
                                    &err),
                     -1);
    /* unanchored: found anywhere, as re:run */
    re[2] = "ok";
    assert_int_equal(auth_set_permission(&db, "bob", "/", re, whyb, sizeof whyb), 0);
    assert_int_equal(auth_permitted(&db, "bob", "/", AUTH_QUEUE, amqp_cstr("xokx"), AUTH_READ, &err), 0);
    /* a bad expression is refused and changes nothing */
    assert_int_equal(auth_set_permission(&db, "bob", "/", bad, whyb, sizeof whyb), -1);
    assert_non_null(strstr(whyb, "invalid regular expression '('"));
    assert_int_equal(auth_permitted(&db, "bob", "/", AUTH_QUEUE, amqp_cstr("xokx"), AUTH_READ, &err), 0);
    /* other vhosts, unknown users: refused */
    assert_int_equal(auth_permitted(&db, "bob", "v2", AUTH_QUEUE, amqp_cstr("m4okq"), AUTH_CONFIGURE, &err), -1);
    assert_string_equal(err.text, "ACCESS_REFUSED - access to queue 'm4okq' in vhost 'v2' refused for user 'bob'");
    assert_int_equal(auth_permitted(&db, "eve", "/", AUTH_QUEUE, amqp_cstr("m4okq"), AUTH_CONFIGURE, &err), -1);
    /* cleared */
    assert_int_equal(auth_clear_permission(&db, "bob", "/"), 0);
    assert_int_equal(auth_clear_permission(&db, "bob", "/"), -1);
    assert_int_equal(auth_permitted(&db, "bob", "/", AUTH_QUEUE, amqp_cstr("m4okq"), AUTH_CONFIGURE, &err), -1);
    assert_int_equal(auth_delete_user(&db, "bob"), 0);
    assert_int_equal(auth_delete_user(&db, "bob"), -1);
    auth_db_free(&db);
}

/* A name as a frame holds it: its bytes and nothing after them (no NUL),
 * at the very end of an allocation.  The match reads none of what is not
 * the name (the sanitizers' regexec did, up to a NUL: found by the
 * protocol walk with users, tests/fuzz/protocol_walk.py); NULs inside a
 * name are bytes like the others; a name longer than a shortstr too. */
static void test_permission_match_reads_only_the_name(void **state)
{
    auth_db db = {0};
    amqp_error err = {0};
    char whyb[200];
    const char *why;
    const char *re[3] = {"^fz-(q|plain)", "ok$", "^a"};
    char *name = malloc(9), *longname = malloc(1000);
    (void)state;

    assert_int_equal(auth_put_user(&db, "bob", NULL, 0, AUTH_SHA256, "", &why), 0);
    assert_int_equal(auth_set_permission(&db, "bob", "/", re, whyb, sizeof whyb), 0);
    memcpy(name, "fz-plain1", 9);
    assert_int_equal(auth_permitted(&db, "bob", "/", AUTH_QUEUE, (amqp_str){name, 9}, AUTH_CONFIGURE, &err), 0);
    assert_int_equal(auth_permitted(&db, "bob", "/", AUTH_QUEUE, (amqp_str){name + 3, 6}, AUTH_CONFIGURE, &err), -1);
    memcpy(name, "x\0y-is-ok", 9);
    assert_int_equal(auth_permitted(&db, "bob", "/", AUTH_QUEUE, (amqp_str){name, 9}, AUTH_WRITE, &err), 0);
    assert_int_equal(auth_permitted(&db, "bob", "/", AUTH_QUEUE, (amqp_str){name, 8}, AUTH_WRITE, &err), -1);
    memset(longname, 'a', 1000);
    assert_int_equal(auth_permitted(&db, "bob", "/", AUTH_QUEUE, (amqp_str){longname, 1000}, AUTH_READ, &err), 0);
    free(name);
    free(longname);
    auth_db_free(&db);
}

/* The command line's users: administrators with everything on "/". */
static void test_config_users_are_administrators(void **state)
{
    auth_db db;
    amqp_error err = {0};
    const auth_user *u;
    (void)state;
    setup_db(&db, false);
    u = auth_find(&db, "alice");
    assert_non_null(u);
    assert_true(u->tagbits & AUTH_TAG_ADMINISTRATOR);
    assert_false(u->stored);
    assert_int_equal(auth_permitted(&db, "alice", "/", AUTH_QUEUE, amqp_cstr("any"), AUTH_CONFIGURE, &err), 0);
    assert_int_equal(auth_permitted(&db, "alice", "/", AUTH_EXCHANGE, amqp_cstr(""), AUTH_WRITE, &err), 0);
    auth_db_free(&db);
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
        cmocka_unit_test(test_rabbitmq_hash),
        cmocka_unit_test(test_tags),
        cmocka_unit_test(test_permissions),
        cmocka_unit_test(test_permission_match_reads_only_the_name),
        cmocka_unit_test(test_config_users_are_administrators),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
