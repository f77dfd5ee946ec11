/*
 * page.h - RabbitMQ's pagination, sorting and name filter of the list
 * endpoints (rabbit_mgmt_util's filter_and_paginate): the query
 * parameters parsed and checked, and a page cut out of a sorted index of
 * lightweight rows (page.c).
 *
 * Nothing here knows the broker: query strings in, a plan and the page's
 * bounds out (the fuzz target tests/fuzz/fuzz_http_route.c links this
 * file with routes.c alone).
 *
 * RabbitMQ's rules, as the 3.10 node answers them:
 * - without `page`, the list is a plain array, sorted (sort, sort_reverse)
 *   but not filtered: `name` is ignored (warren's one difference: a
 *   `page_size` alone asks for page 1, where RabbitMQ ignores it and
 *   answers every row);
 * - with `page` (>= 1), `page_size` (1..500, default 100) and `name` (a
 *   case-insensitive substring, or with use_regex=true a case-insensitive
 *   regular expression) give the paged object {filtered_count, item_count,
 *   items, page, page_count, page_size, total_count};
 * - a page or page_size that is not an integer, or a bad regular
 *   expression: 400 bad_request "Pagination parameters are invalid"; one
 *   out of its range: 400 invalid_pagination_parameters; a page past the
 *   last: 400 page_out_of_range.
 * - the default order is by name; ties of a sort key keep name order, and
 *   sort_reverse reverses the whole list.
 */
#ifndef WARREN_HTTP_PAGE_H
#define WARREN_HTTP_PAGE_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/routes.h"

#define HTTP_PAGE_SIZE_DEFAULT 100
#define HTTP_PAGE_SIZE_MAX 500

typedef struct http_page {
    bool paged;                 /* `page` was given: the paged object */
    long page, page_size;
    const char *sort;           /* NULL: by name */
    bool reverse;
    const char *name;           /* the filter (paged only), NULL none */
    size_t namelen;
    bool regex;
    regex_t re;                 /* compiled when regex */
} http_page;

/* Parse the query.  0, or -1 with *error and *reason (RabbitMQ's, written
 * into reason[0..cap)) for a 400.  http_page_free afterwards either way. */
int http_page_parse(http_page *p, const http_target *t, const char **error, char *reason, size_t cap);
void http_page_free(http_page *p);
/* Does a name pass the filter? */
bool http_page_match(const http_page *p, const char *name, size_t len);

/* One row of an index: a sort key (a number, or a string for string
 * columns) and the name that breaks ties and finds the object again. */
typedef struct http_row {
    double num;
    const char *str;            /* a string key, NULL for a number */
    char *name;                 /* owned by the index */
    size_t namelen;
    uint32_t extra;             /* the caller's (e.g. a channel number) */
} http_row;

/* Sort rows as the plan says (stable by name; reversed with sort_reverse). */
void http_rows_sort(const http_page *p, http_row *rows, size_t n);
/* As much of that order as a page needs: afterwards rows[0..upto) are the
 * first upto rows of the sorted list, in order (the rest in any order).
 * O(n log upto): page 1 of 100,000 rows is one pass and a heap of 100. */
void http_rows_select(const http_page *p, http_row *rows, size_t n, size_t upto);
/* How many leading rows the page needs (page * page_size, at most n). */
size_t http_page_upto(const http_page *p, size_t n);
/* The page's bounds in a sorted index of `filtered` rows: [*first, *end).
 * -1 with RabbitMQ's page_out_of_range reason when the page is past the
 * last. */
int http_page_bounds(const http_page *p, size_t filtered, size_t *first, size_t *end, char *reason, size_t cap);

#endif
