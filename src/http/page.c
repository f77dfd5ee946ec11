/*
 * page.c - RabbitMQ's pagination, sorting and name filter (page.h).
 */
#include "http/page.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"

/* An integer as Erlang's list_to_integer takes it: an optional sign and
 * digits, nothing else.  false when it is not one (or is too long). */
static bool parse_int(const http_str *v, long *out)
{
    const char *p = v->ptr, *end = v->ptr + v->len;
    bool neg = false;
    long n = 0;

    if (p < end && (*p == '-' || *p == '+'))
        neg = *p++ == '-';
    if (p == end || end - p > 15)
        return false;
    for (; p < end; p++) {
        if (!isdigit((unsigned char)*p))
            return false;
        n = n * 10 + (*p - '0');
    }
    *out = neg ? -n : n;
    return true;
}

int http_page_parse(http_page *p, const http_target *t, const char **error, char *reason, size_t cap)
{
    const http_str *page = http_query(t, "page"), *size = http_query(t, "page_size");
    const http_str *sort = http_query(t, "sort"), *rev = http_query(t, "sort_reverse");
    const http_str *name = http_query(t, "name"), *re = http_query(t, "use_regex");
    char sizetext[24] = "undefined";

    memset(p, 0, sizeof *p);
    p->page_size = HTTP_PAGE_SIZE_DEFAULT;
    p->sort = sort && sort->len ? sort->ptr : NULL;
    p->reverse = rev && !strcmp(rev->ptr, "true");
    if ((page && !parse_int(page, &p->page)) || (size && !parse_int(size, &p->page_size))) {
        *error = "bad_request";
        snprintf(reason, cap, "Pagination parameters are invalid");
        return -1;
    }
    if (!page && !size)
        return 0; /* a plain list: name means nothing */
    if (!page)
        p->page = 1; /* warren's: a page size alone asks for the first page */
    p->paged = true;
    if (size)
        snprintf(sizetext, sizeof sizetext, "%ld", p->page_size);
    if (p->page < 1 || p->page_size < 1 || p->page_size > HTTP_PAGE_SIZE_MAX) {
        *error = "invalid_pagination_parameters";
        snprintf(reason, cap, "Invalid pagination parameters: page number %ld, page size %s", p->page, sizetext);
        return -1;
    }
    if (name && name->len) {
        p->name = name->ptr;
        p->namelen = name->len;
        if (re && !strcmp(re->ptr, "true")) {
            /* POSIX extended syntax, what glibc compiles and matches in
             * bounded time (util.h): a match runs on the loop once per
             * queue */
            if (regex_untamed(name->ptr, name->len) || regcomp(&p->re, name->ptr, REG_EXTENDED | REG_ICASE | REG_NOSUB)) {
                *error = "bad_request";
                snprintf(reason, cap, "Pagination parameters are invalid");
                return -1;
            }
            p->regex = true;
        }
    }
    return 0;
}

void http_page_free(http_page *p)
{
    if (p->regex)
        regfree(&p->re);
    p->regex = false;
}

bool http_page_match(const http_page *p, const char *name, size_t len)
{
    size_t i;

    if (!p->paged || !p->name)
        return true;
    if (p->regex)
        return regexec(&p->re, name, 0, NULL, 0) == 0; /* names are NUL-terminated */
    if (p->namelen > len)
        return false;
    if (!memchr(name, 0, len) && !memchr(p->name, 0, p->namelen) && !name[len])
        return strcasestr(name, p->name) != NULL; /* both NUL-terminated, no NUL inside */
    for (i = 0; i + p->namelen <= len; i++)
        if (!strncasecmp(name + i, p->name, p->namelen))
            return true;
    return false;
}

static int by_name(const http_row *a, const http_row *b)
{
    size_t n = a->namelen < b->namelen ? a->namelen : b->namelen;
    int c = memcmp(a->name, b->name, n);
    if (c)
        return c;
    if (a->namelen != b->namelen)
        return a->namelen < b->namelen ? -1 : 1;
    return a->extra < b->extra ? -1 : a->extra > b->extra;
}

static int by_key(const void *pa, const void *pb)
{
    const http_row *a = pa, *b = pb;
    if (a->str && b->str) {
        int c = strcmp(a->str, b->str);
        if (c)
            return c;
    } else if (a->num != b->num) {
        return a->num < b->num ? -1 : 1;
    }
    return by_name(a, b);
}

void http_rows_sort(const http_page *p, http_row *rows, size_t n)
{
    size_t i;

    if (n < 2)
        return;
    qsort(rows, n, sizeof *rows, by_key);
    if (p->reverse)
        for (i = 0; i < n / 2; i++) {
            http_row tmp = rows[i];
            rows[i] = rows[n - 1 - i];
            rows[n - 1 - i] = tmp;
        }
}

static int cmp_plan(const http_page *p, const http_row *a, const http_row *b)
{
    int c = by_key(a, b);
    return p->reverse ? -c : c;
}

/* The max-heap of rows[0..k) by the plan's order, sifting from i. */
static void sift_down(const http_page *p, http_row *h, size_t k, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, top = i;
        http_row tmp;
        if (l < k && cmp_plan(p, &h[l], &h[top]) > 0)
            top = l;
        if (r < k && cmp_plan(p, &h[r], &h[top]) > 0)
            top = r;
        if (top == i)
            return;
        tmp = h[i];
        h[i] = h[top];
        h[top] = tmp;
        i = top;
    }
}

void http_rows_select(const http_page *p, http_row *rows, size_t n, size_t upto)
{
    size_t i;

    if (upto >= n / 2) {
        http_rows_sort(p, rows, n);
        return;
    }
    if (!upto)
        return;
    /* keep the upto first in a max-heap: a row goes in only when it comes
     * before the heap's last */
    for (i = upto / 2; i-- > 0;)
        sift_down(p, rows, upto, i);
    for (i = upto; i < n; i++)
        if (cmp_plan(p, &rows[i], &rows[0]) < 0) {
            http_row tmp = rows[0];
            rows[0] = rows[i];
            rows[i] = tmp;
            sift_down(p, rows, upto, 0);
        }
    /* the heap in order: its last is at its top */
    for (i = upto; i-- > 1;) {
        http_row tmp = rows[0];
        rows[0] = rows[i];
        rows[i] = tmp;
        sift_down(p, rows, i, 0);
    }
}

size_t http_page_upto(const http_page *p, size_t n)
{
    size_t want;

    if (!p->paged)
        return n;
    want = (size_t)p->page * (size_t)p->page_size;
    return want < n ? want : n;
}

int http_page_bounds(const http_page *p, size_t filtered, size_t *first, size_t *end, char *reason, size_t cap)
{
    size_t start;

    if (!p->paged) {
        *first = 0;
        *end = filtered;
        return 0;
    }
    start = (size_t)(p->page - 1) * (size_t)p->page_size;
    if (p->page > 1 && start >= filtered) {
        snprintf(reason, cap, "Page out of range, page: %ld page size: %ld, len: %zu", p->page, p->page_size,
                 filtered);
        return -1;
    }
    *first = start < filtered ? start : filtered;
    *end = filtered - *first > (size_t)p->page_size ? *first + (size_t)p->page_size : filtered;
    return 0;
}
