/*
 * test_http_page.c - RabbitMQ's pagination without a server
 * (src/http/page.c): the parameters and their 400s (texts from the
 * reference RabbitMQ 3.10.8), the name filter, the page's bounds, and the
 * partial selection against the full sort.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http/page.h"
#include "util.h"

static int plan(http_page *p, const char *uri, const char **error, char *reason)
{
    http_target t;
    int rc;
    assert_int_equal(http_target_parse(&t, uri, strlen(uri)), 0);
    *error = NULL;
    reason[0] = 0;
    rc = http_page_parse(p, &t, error, reason, 200);
    /* the plan's strings point into t: keep only what the test reads */
    p->sort = NULL;
    p->name = NULL;
    http_target_free(&t);
    return rc;
}

static void test_parameters(void **state)
{
    http_page p;
    const char *error;
    char reason[200];
    (void)state;

    assert_int_equal(plan(&p, "/api/queues", &error, reason), 0);
    assert_false(p.paged);
    http_page_free(&p);
    assert_int_equal(plan(&p, "/api/queues?page=2&page_size=7", &error, reason), 0);
    assert_true(p.paged);
    assert_int_equal(p.page, 2);
    assert_int_equal(p.page_size, 7);
    http_page_free(&p);
    assert_int_equal(plan(&p, "/api/queues?page=1", &error, reason), 0);
    assert_int_equal(p.page_size, 100);
    http_page_free(&p);
    /* warren's: a page size alone is page 1 */
    assert_int_equal(plan(&p, "/api/queues?page_size=5", &error, reason), 0);
    assert_true(p.paged);
    assert_int_equal(p.page, 1);
    http_page_free(&p);

    assert_int_equal(plan(&p, "/api/queues?page=0", &error, reason), -1);
    assert_string_equal(error, "invalid_pagination_parameters");
    assert_string_equal(reason, "Invalid pagination parameters: page number 0, page size undefined");
    http_page_free(&p);
    assert_int_equal(plan(&p, "/api/queues?page=1&page_size=501", &error, reason), -1);
    assert_string_equal(reason, "Invalid pagination parameters: page number 1, page size 501");
    http_page_free(&p);
    assert_int_equal(plan(&p, "/api/queues?page=x1", &error, reason), -1);
    assert_string_equal(error, "bad_request");
    assert_string_equal(reason, "Pagination parameters are invalid");
    http_page_free(&p);
    assert_int_equal(plan(&p, "/api/queues?page=1&name=(&use_regex=true", &error, reason), -1);
    assert_string_equal(reason, "Pagination parameters are invalid");
    http_page_free(&p);
    assert_int_equal(plan(&p, "/api/queues?page=1&name=(a)%5C1&use_regex=true", &error, reason), -1);
    http_page_free(&p);
}

/* Patterns glibc would take seconds to compile or match, on the loop, are
 * refused before regcomp (util.h): the fuzzer's slow input (a buffer
 * anchor and a hundred stars: 1.6 s in regcomp), stacked stars alone,
 * nested group stars past 16 operators, a count over 100, an over-long
 * one.  What RabbitMQ users write still compiles. */
static void test_untamed_regexes(void **state)
{
    char stars[600];
    char groups[200] = "^";
    int i;
    (void)state;

    memcpy(stars, "\\`a", 3);
    memset(stars + 3, '*', 100);
    stars[103] = 0;
    assert_non_null(regex_untamed(stars, strlen(stars)));
    assert_non_null(regex_untamed("a**", 3));
    assert_non_null(regex_untamed("a+*", 3));
    assert_non_null(regex_untamed("a*{2}", 5));
    assert_non_null(regex_untamed("\\`q", 3));
    assert_non_null(regex_untamed("(a)\\1", 6));
    for (i = 0; i < 9; i++)
        strcat(groups, "(a*)*");
    assert_non_null(regex_untamed(groups, strlen(groups)));  /* 18 operators */
    assert_non_null(regex_untamed("a{1,101}", 8));
    memset(stars, 'a', 600);
    assert_non_null(regex_untamed(stars, 513));

    assert_null(regex_untamed("^q-[0-9]+$", 10));
    assert_null(regex_untamed("amq\\.gen.*", 10));
    assert_null(regex_untamed("^(orders|payments)\\..*$", 23));
    assert_null(regex_untamed("[*+?]+x{1,100}", 14));  /* operators inside brackets are literals */
    assert_null(regex_untamed("\\**", 3));             /* an escaped star, then one */
    assert_null(regex_untamed(".*", 2));
}

static void test_name_filter(void **state)
{
    http_target t;
    http_page p;
    const char *error;
    char reason[200];
    const char *uri = "/api/queues?page=1&name=AbC";
    (void)state;

    assert_int_equal(http_target_parse(&t, uri, strlen(uri)), 0);
    assert_int_equal(http_page_parse(&p, &t, &error, reason, sizeof reason), 0);
    assert_true(http_page_match(&p, "xxabcxx", 7));
    assert_true(http_page_match(&p, "ABC", 3));
    assert_false(http_page_match(&p, "ab", 2));
    assert_false(http_page_match(&p, "a-bc", 4));
    http_page_free(&p);
    http_target_free(&t);

    uri = "/api/queues?page=1&use_regex=true&name=%5Eq-%5B0-9%5D%2B%24";
    assert_int_equal(http_target_parse(&t, uri, strlen(uri)), 0);
    assert_int_equal(http_page_parse(&p, &t, &error, reason, sizeof reason), 0);
    assert_true(http_page_match(&p, "Q-123", 5));
    assert_false(http_page_match(&p, "q-12a", 5));
    http_page_free(&p);
    http_target_free(&t);
}

static void test_bounds(void **state)
{
    http_page p = {.paged = true, .page = 2, .page_size = 2};
    size_t first, end;
    char reason[200];
    (void)state;

    assert_int_equal(http_page_bounds(&p, 3, &first, &end, reason, sizeof reason), 0);
    assert_int_equal(first, 2);
    assert_int_equal(end, 3);
    p.page = 3;
    assert_int_equal(http_page_bounds(&p, 3, &first, &end, reason, sizeof reason), -1);
    assert_string_equal(reason, "Page out of range, page: 3 page size: 2, len: 3");
    p.page = 1;
    assert_int_equal(http_page_bounds(&p, 0, &first, &end, reason, sizeof reason), 0);
    assert_int_equal(end, 0);
}

/* The selection of a page's leading rows agrees with the full sort, by
 * number and by name, both ways. */
static void test_select_matches_sort(void **state)
{
    enum { N = 2000 };
    http_row *a = calloc(N, sizeof *a), *b = calloc(N, sizeof *b);
    char (*names)[16] = calloc(N, 16);
    size_t upto[] = {0, 1, 3, 100, 999, N};
    int sortkey, rev, k;
    size_t i;
    (void)state;

    srand(7);
    for (i = 0; i < N; i++) {
        snprintf(names[i], 16, "q-%05d", rand() % 5000);
        a[i] = (http_row){.num = rand() % 13, .name = names[i], .namelen = strlen(names[i]), .extra = (uint32_t)i};
    }
    for (sortkey = 0; sortkey < 2; sortkey++)
        for (rev = 0; rev < 2; rev++)
            for (k = 0; k < (int)(sizeof upto / sizeof *upto); k++) {
                http_page p = {.paged = true, .reverse = rev, .sort = sortkey ? "messages" : NULL};
                http_row *full = malloc(N * sizeof *full);
                memcpy(full, a, N * sizeof *a);
                memcpy(b, a, N * sizeof *a);
                if (!sortkey)
                    for (i = 0; i < N; i++)
                        full[i].num = b[i].num = 0;
                http_rows_sort(&p, full, N);
                http_rows_select(&p, b, N, upto[k]);
                for (i = 0; i < upto[k]; i++)
                    assert_int_equal(b[i].extra, full[i].extra);
                free(full);
            }
    free(a);
    free(b);
    free(names);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parameters),
        cmocka_unit_test(test_name_filter),
        cmocka_unit_test(test_untamed_regexes),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_select_matches_sort),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
