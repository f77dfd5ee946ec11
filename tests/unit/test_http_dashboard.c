/*
 * test_http_dashboard.c - which dashboard file a request target names
 * (src/http/dashboard.c, over the files build/gen/www.c compiled in):
 * "/" is index.html, "/<name>" a file by its name, anything deeper or
 * unknown none, and nothing under /api/.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "http/dashboard.h"

static const http_www_file *lookup(const char *uri)
{
    http_target t;
    const http_www_file *f;

    assert_int_equal(http_target_parse(&t, uri, strlen(uri)), 0);
    f = http_dashboard_file(&t);
    http_target_free(&t);
    return f;
}

static void test_root_is_index(void **state)
{
    const http_www_file *f = lookup("/");
    (void)state;
    assert_non_null(f);
    assert_string_equal(f->path, "/index.html");
    assert_string_equal(f->type, "text/html; charset=utf-8");
    assert_ptr_equal(lookup("/?x=1"), f);
    assert_ptr_equal(lookup("/index.html"), f);
    assert_true(f->len > 0 && memmem(f->data, f->len, "app.js", 6));
}

static void test_files_by_name(void **state)
{
    const http_www_file *f;
    (void)state;
    assert_non_null(f = lookup("/app.js"));
    assert_string_equal(f->type, "text/javascript; charset=utf-8");
    assert_int_equal(f->data[f->len], 0); /* the arrays end with a NUL past the bytes */
    assert_non_null(f = lookup("/style.css"));
    assert_string_equal(f->type, "text/css; charset=utf-8");
    assert_non_null(lookup("/favicon.svg"));
    assert_non_null(lookup("/app%2Ejs")); /* decoded as the API's segments are */
}

static void test_everything_else_is_not_a_file(void **state)
{
    (void)state;
    assert_null(lookup("/nosuch.js"));
    assert_null(lookup("/app.j"));
    assert_null(lookup("/app.jsx"));
    assert_null(lookup("/api"));
    assert_null(lookup("/api/app.js"));
    assert_null(lookup("/www/app.js"));
    assert_null(lookup("/app.js/x"));
    assert_null(lookup("//app.js"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_root_is_index),
        cmocka_unit_test(test_files_by_name),
        cmocka_unit_test(test_everything_else_is_not_a_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
