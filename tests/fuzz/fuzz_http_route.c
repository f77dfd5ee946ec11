/*
 * fuzz_http_route.c - libFuzzer target for the HTTP API's request targets
 * and route matching (src/http/routes.c): percent-decoding, the split into
 * segments, the query string, the route table and the Allow header.
 *
 * The first input byte picks the method, the rest is the request target
 * as a client sent it.  Checked on every input: every decoded piece lies
 * in the target's buffer and is NUL-terminated with no NUL inside; a
 * matched route's placeholders are its segments; the Allow header fits;
 * and re-encoding the decoded segments and query gives a target that
 * parses back to the same pieces (the decoding loses nothing and splits
 * nothing it should not, "%2F" included).
 *
 * The query then goes through the list endpoints' pagination (page.c):
 * the plan is either refused with a reason that fits, or within RabbitMQ's
 * bounds; the name filter runs over the segments; a page's bounds lie in
 * a list of any length, sorting rows keeps every row, and a partial
 * selection (http_rows_select) gives the sorted list's prefix.
 *
 * Built from this file, src/amqp, src/http/routes.c and src/http/page.c
 * (the Makefile's fuzz_fuzz_http_route_SRC).
 */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/page.h"
#include "http/routes.h"

static void h(http_ctx *x, http_reply *r)
{
    (void)x, (void)r;
}

/* the API's patterns, and a few with more placeholders */
static const http_route table[] = {
    {HTTP_GET, "/api/overview", h, false},
    {HTTP_GET, "/api/vhosts/{vhost}", h, false},
    {HTTP_PUT, "/api/vhosts/{vhost}", h, true},
    {HTTP_GET, "/api/queues/{vhost}/{name}", h, false},
    {HTTP_DELETE, "/api/queues/{vhost}/{name}/contents", h, false},
    {HTTP_GET, "/api/bindings/{vhost}/e/{source}/q/{dest}", h, false},
    {HTTP_POST, "/api/bindings/{vhost}/e/{source}/q/{dest}", h, true},
    {HTTP_GET, "/{a}", h, false},
};

static void check_piece(const http_target *t, const http_str *s, size_t rawlen)
{
    assert(s->ptr >= t->buf && s->ptr + s->len < t->buf + 2 * rawlen + 2);
    assert(s->ptr[s->len] == 0);
    assert(memchr(s->ptr, 0, s->len) == NULL);
}

/* Percent-encode everything but unreserved characters. */
static size_t encode(char *out, const http_str *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t i, o = 0;
    for (i = 0; i < s->len; i++) {
        unsigned char c = (unsigned char)s->ptr[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
            c == '.' || c == '~') {
            out[o++] = (char)c;
        } else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    return o;
}

/* The pagination of the list endpoints over this query. */
static void check_page(const http_target *t, const uint8_t *data, size_t size)
{
    http_page p;
    const char *error = NULL;
    char reason[200];
    http_row rows[16], sel[16];
    size_t i, n, first, end, total, upto;

    if (http_page_parse(&p, t, &error, reason, sizeof reason) < 0) {
        assert(error && strlen(reason) < sizeof reason);
        http_page_free(&p);
        return;
    }
    if (p.paged)
        assert(p.page >= 1 && p.page_size >= 1 && p.page_size <= HTTP_PAGE_SIZE_MAX);
    for (i = 0; i < (size_t)t->nseg; i++)
        (void)http_page_match(&p, t->seg[i].ptr, t->seg[i].len);
    /* rows named by the segments, keyed by input bytes */
    n = (size_t)t->nseg < 16 ? (size_t)t->nseg : 16;
    for (i = 0; i < n; i++)
        rows[i] = (http_row){.num = data[i % size], .name = (char *)t->seg[i].ptr, .namelen = t->seg[i].len,
                             .extra = (uint32_t)i};
    memcpy(sel, rows, sizeof rows);
    http_rows_sort(&p, rows, n);
    for (i = 0, total = 0; i < n; i++)
        total += rows[i].extra;
    assert(total == n * (n ? n - 1 : 0) / 2);
    /* a partial selection agrees with the full sort on its prefix */
    upto = n ? data[size - 1] % (n + 1) : 0;
    http_rows_select(&p, sel, n, upto);
    for (i = 0; i < upto; i++)
        assert(sel[i].extra == rows[i].extra);
    for (total = 0; total < 2000; total += 97)
        if (http_page_bounds(&p, total, &first, &end, reason, sizeof reason) == 0)
            assert(first <= end && end <= total && (!p.paged || end - first <= (size_t)p.page_size));
    http_page_free(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned methods[] = {HTTP_GET, HTTP_HEAD, HTTP_PUT, HTTP_POST, HTTP_DELETE, HTTP_OPTIONS, HTTP_OTHER};
    http_target t, t2;
    http_match m;
    char allow[64], *re, *w;
    const char *uri;
    size_t len, i;
    unsigned method;
    int rc;

    if (size < 1 || size > 1 << 16)
        return 0;
    method = methods[data[0] % (sizeof methods / sizeof *methods)];
    uri = (const char *)data + 1;
    len = size - 1;
    rc = http_target_parse(&t, uri, len);
    if (rc < 0) {
        http_target_free(&t);
        return 0;
    }
    assert(t.nseg >= 1 && t.nseg <= HTTP_SEGS_MAX && t.nquery <= HTTP_QUERY_MAX);
    for (i = 0; i < (size_t)t.nseg; i++)
        check_piece(&t, &t.seg[i], len);
    for (i = 0; i < (size_t)t.nquery; i++) {
        check_piece(&t, &t.query[i].key, len);
        check_piece(&t, &t.query[i].value, len);
        assert(http_query(&t, t.query[i].key.ptr) != NULL);
    }

    http_route_match(table, sizeof table / sizeof *table, &t, method, &m);
    if (m.route) {
        assert(m.allowed & m.route->method);
        assert(m.nparams <= HTTP_PARAMS_MAX);
        for (i = 0; i < (size_t)m.nparams; i++) {
            size_t j;
            for (j = 0; j < (size_t)t.nseg; j++)
                if (t.seg[j].ptr == m.params[i].ptr && t.seg[j].len == m.params[i].len)
                    break;
            assert(j < (size_t)t.nseg && m.params[i].len > 0);
        }
    }
    http_allow_header(m.allowed, allow, sizeof allow);
    assert(strlen(allow) < sizeof allow);
    check_page(&t, data, size);

    /* round trip: encoded again, the pieces parse back the same */
    if (!t.too_deep) {
        re = malloc(3 * len + 16);
        assert(re);
        w = re;
        for (i = 0; i < (size_t)t.nseg; i++) {
            *w++ = '/';
            w += encode(w, &t.seg[i]);
        }
        for (i = 0; i < (size_t)t.nquery; i++) {
            *w++ = i ? '&' : '?';
            w += encode(w, &t.query[i].key);
            *w++ = '=';
            w += encode(w, &t.query[i].value);
        }
        rc = http_target_parse(&t2, re, (size_t)(w - re));
        assert(rc == 0);
        /* a last empty segment is the trailing '/' the parse drops */
        assert(t2.nseg == t.nseg || (t2.nseg == t.nseg - 1 && t.seg[t.nseg - 1].len == 0));
        for (i = 0; i < (size_t)t2.nseg; i++)
            assert(t2.seg[i].len == t.seg[i].len && !memcmp(t2.seg[i].ptr, t.seg[i].ptr, t.seg[i].len));
        assert(t2.nquery == t.nquery);
        for (i = 0; i < (size_t)t.nquery; i++)
            assert(t2.query[i].value.len == t.query[i].value.len &&
                   !memcmp(t2.query[i].value.ptr, t.query[i].value.ptr, t.query[i].value.len));
        http_target_free(&t2);
        free(re);
    }
    http_target_free(&t);
    return 0;
}
