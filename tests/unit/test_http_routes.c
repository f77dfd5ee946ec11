/*
 * test_http_routes.c - the HTTP API's request targets and route matching
 * (src/http/routes.c) without a server: RabbitMQ's per-segment decoding
 * (%2F stays inside its segment), '+' a space only in the query, one
 * trailing '/' ignored, "//" and bad escapes refused, 404 vs 405, and
 * the Allow header in RabbitMQ's order.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "http/routes.h"

static void h(http_ctx *x, http_reply *r)
{
    (void)x, (void)r;
}

static const http_route table[] = {
    {HTTP_GET, "/api/whoami", h, false},
    {HTTP_GET, "/api/vhosts/{vhost}", h, false},
    {HTTP_PUT, "/api/vhosts/{vhost}", h, true},
    {HTTP_DELETE, "/api/queues/{vhost}/{name}/contents", h, false},
};
#define NROUTES (sizeof table / sizeof *table)

static void parse(http_target *t, const char *uri)
{
    assert_int_equal(http_target_parse(t, uri, strlen(uri)), 0);
}

static void test_vhost_slash_is_one_segment(void **state)
{
    http_target t;
    http_match m;
    (void)state;
    parse(&t, "/api/vhosts/%2F");
    assert_int_equal(t.nseg, 3);
    assert_string_equal(t.seg[2].ptr, "/");
    http_route_match(table, NROUTES, &t, HTTP_GET, &m);
    assert_ptr_equal(m.route, &table[1]);
    assert_int_equal(m.nparams, 1);
    assert_string_equal(m.params[0].ptr, "/");
    http_target_free(&t);

    parse(&t, "/api/queues/%2f/a%2Fb+c/contents/");
    http_route_match(table, NROUTES, &t, HTTP_DELETE, &m);
    assert_ptr_equal(m.route, &table[3]);
    assert_string_equal(m.params[0].ptr, "/");
    assert_string_equal(m.params[1].ptr, "a/b+c");    /* '+' is a '+' in a path */
    http_target_free(&t);
}

static void test_query_string(void **state)
{
    http_target t;
    (void)state;
    parse(&t, "/api/whoami?columns=name,tags&x=a+b%26c&flag&&=v");
    assert_int_equal(t.nseg, 2);
    assert_string_equal(http_query(&t, "columns")->ptr, "name,tags");
    assert_string_equal(http_query(&t, "x")->ptr, "a b&c");
    assert_non_null(http_query(&t, "flag"));
    assert_int_equal(http_query(&t, "flag")->len, 0);
    assert_string_equal(http_query(&t, "")->ptr, "v");
    assert_null(http_query(&t, "nope"));
    http_target_free(&t);
}

static void test_malformed_targets_are_refused(void **state)
{
    static const char *bad[] = {"/api/vhosts/%2", "/api/vhosts/%zz", "/api/%00", "/api?x=%", "api/whoami", "",
                                "http://host"};
    http_target t;
    size_t i;
    (void)state;
    for (i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(http_target_parse(&t, bad[i], strlen(bad[i])), -1);
        http_target_free(&t);
    }
    parse(&t, "http://host:15672/api/whoami?x=1");
    assert_int_equal(t.nseg, 2);
    assert_string_equal(t.seg[1].ptr, "whoami");
    http_target_free(&t);
}

static void test_404_405_and_allow(void **state)
{
    http_target t;
    http_match m;
    char allow[64];
    (void)state;
    parse(&t, "/api//whoami");
    http_route_match(table, NROUTES, &t, HTTP_GET, &m);
    assert_int_equal(m.allowed, 0);
    http_target_free(&t);

    parse(&t, "/api/whoami/");
    http_route_match(table, NROUTES, &t, HTTP_HEAD, &m);
    assert_ptr_equal(m.route, &table[0]);               /* HEAD is GET's */
    http_route_match(table, NROUTES, &t, HTTP_POST, &m);
    assert_null(m.route);
    http_allow_header(m.allowed, allow, sizeof allow);
    assert_string_equal(allow, "HEAD, GET, OPTIONS");
    http_target_free(&t);

    parse(&t, "/api/vhosts/x");
    http_route_match(table, NROUTES, &t, HTTP_DELETE, &m);
    assert_null(m.route);
    http_allow_header(m.allowed, allow, sizeof allow);
    assert_string_equal(allow, "HEAD, GET, PUT, OPTIONS");
    http_target_free(&t);

    /* an empty placeholder matches nothing; a deep path matches nothing */
    parse(&t, "/api/vhosts//");
    http_route_match(table, NROUTES, &t, HTTP_GET, &m);
    assert_int_equal(m.allowed, 0);
    http_target_free(&t);
    parse(&t, "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/s");
    assert_true(t.too_deep);
    http_route_match(table, NROUTES, &t, HTTP_GET, &m);
    assert_int_equal(m.allowed, 0);
    http_target_free(&t);
}

static void test_methods(void **state)
{
    (void)state;
    assert_int_equal(http_method_parse("GET"), HTTP_GET);
    assert_int_equal(http_method_parse("OPTIONS"), HTTP_OPTIONS);
    assert_int_equal(http_method_parse("get"), HTTP_OTHER);
    assert_int_equal(http_method_parse("PATCH"), HTTP_OTHER);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vhost_slash_is_one_segment),
        cmocka_unit_test(test_query_string),
        cmocka_unit_test(test_malformed_targets_are_refused),
        cmocka_unit_test(test_404_405_and_allow),
        cmocka_unit_test(test_methods),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
