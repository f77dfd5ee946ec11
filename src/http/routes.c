/*
 * routes.c - request targets and route matching (routes.h).
 *
 * The target is taken raw from libmicrohttpd (its URI log callback sees
 * the request line's target before any unescaping) and decoded here, one
 * segment at a time, so that %2F inside a vhost name never splits the
 * path.  Everything decoded lands in one buffer per request: a segment or
 * a parameter never decodes to more bytes than it had, so len + one NUL
 * per piece is enough.
 */
#include "http/routes.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

long http_percent_decode(char *out, const char *in, size_t len, bool plus_space)
{
    size_t i, o = 0;

    for (i = 0; i < len; i++) {
        char c = in[i];
        if (c == '%') {
            int hi, lo;
            if (len - i < 3 || (hi = hexval(in[i + 1])) < 0 || (lo = hexval(in[i + 2])) < 0)
                return -1;
            c = (char)(hi << 4 | lo);
            if (c == 0)
                return -1;
            i += 2;
        } else if (c == '+' && plus_space) {
            c = ' ';
        } else if (c == 0) {
            return -1;
        }
        out[o++] = c;
    }
    return (long)o;
}

/* Decode in[0..len) to *w, NUL-terminate it, point s at it. */
static int decode_piece(char **w, const char *in, size_t len, bool plus_space, http_str *s)
{
    long n = http_percent_decode(*w, in, len, plus_space);
    if (n < 0)
        return -1;
    s->ptr = *w;
    s->len = (size_t)n;
    (*w)[n] = 0;
    *w += n + 1;
    return 0;
}

static int parse_query(http_target *t, char **w, const char *q, size_t len)
{
    const char *end = q + len;

    while (q < end) {
        const char *amp = memchr(q, '&', (size_t)(end - q));
        const char *stop = amp ? amp : end;
        const char *eq = memchr(q, '=', (size_t)(stop - q));
        if (stop > q) {
            /* past the cap a parameter is still decoded (a bad escape
             * anywhere is a 400), and then forgotten */
            struct http_param scratch, *p = t->nquery < HTTP_QUERY_MAX ? &t->query[t->nquery] : &scratch;
            const char *kend = eq ? eq : stop;
            if (decode_piece(w, q, (size_t)(kend - q), true, &p->key) < 0)
                return -1;
            if (decode_piece(w, eq ? eq + 1 : stop, eq ? (size_t)(stop - eq - 1) : 0, true, &p->value) < 0)
                return -1;
            if (p != &scratch)
                t->nquery++;
        }
        q = amp ? amp + 1 : end;
    }
    return 0;
}

int http_target_parse(http_target *t, const char *uri, size_t len)
{
    const char *qmark, *path_end, *p;
    char *w;

    memset(t, 0, sizeof *t);
    /* every piece decodes to at most its own length, plus its NUL; there
     * are fewer pieces than bytes + 2 */
    if (!(t->buf = malloc(2 * len + 2))) {
        errno = ENOMEM;
        return -1;
    }
    w = t->buf;
    /* the absolute form a client may send to a proxy
     * ("http://host:port/api/..."): its path */
    for (p = uri; p < uri + len && *p != '/' && *p != ':'; p++)
        ;
    if (p + 2 < uri + len && p[0] == ':' && p[1] == '/' && p[2] == '/') {
        const char *path = memchr(p + 3, '/', (size_t)(uri + len - p - 3));
        if (!path)
            return -1;
        len -= (size_t)(path - uri);
        uri = path;
    }
    if (len == 0 || uri[0] != '/')
        return -1;
    qmark = memchr(uri, '?', len);
    path_end = qmark ? qmark : uri + len;
    /* a fragment is not sent by clients; if one is, it is not the path */
    p = memchr(uri, '#', (size_t)(path_end - uri));
    if (p)
        path_end = p;
    p = uri + 1;
    for (;;) {
        const char *slash = memchr(p, '/', (size_t)(path_end - p));
        const char *stop = slash ? slash : path_end;
        /* one trailing '/' is ignored ("/api/vhosts/" is "/api/vhosts") */
        if (!slash && stop == p && t->nseg > 0)
            break;
        if (t->nseg == HTTP_SEGS_MAX) {
            t->too_deep = true;
            break;
        }
        if (decode_piece(&w, p, (size_t)(stop - p), false, &t->seg[t->nseg]) < 0)
            return -1;
        t->nseg++;
        if (!slash)
            break;
        p = slash + 1;
    }
    if (qmark) {
        const char *qend = uri + len;
        const char *hash = memchr(qmark + 1, '#', (size_t)(qend - qmark - 1));
        if (hash)
            qend = hash;
        if (parse_query(t, &w, qmark + 1, (size_t)(qend - qmark - 1)) < 0)
            return -1;
    }
    return 0;
}

void http_target_free(http_target *t)
{
    free(t->buf);
    t->buf = NULL;
}

const http_str *http_query(const http_target *t, const char *key)
{
    int i;

    for (i = 0; i < t->nquery; i++)
        if (!strcmp(t->query[i].key.ptr, key))
            return &t->query[i].value;
    return NULL;
}

unsigned http_method_parse(const char *m)
{
    static const struct {
        const char *name;
        unsigned bit;
    } methods[] = {
        {"GET", HTTP_GET},       {"HEAD", HTTP_HEAD},     {"PUT", HTTP_PUT},
        {"POST", HTTP_POST},     {"DELETE", HTTP_DELETE}, {"OPTIONS", HTTP_OPTIONS},
    };
    size_t i;

    for (i = 0; i < sizeof methods / sizeof *methods; i++)
        if (!strcmp(methods[i].name, m))
            return methods[i].bit;
    return HTTP_OTHER;
}

/* Does t's path match pattern?  Fills the placeholders. */
static bool match_pattern(const char *pattern, const http_target *t, http_str *params, int *nparams)
{
    const char *p = pattern;
    int i = 0;

    *nparams = 0;
    if (t->too_deep || *p != '/')
        return false;
    p++;
    for (;;) {
        const char *slash = strchr(p, '/');
        size_t plen = slash ? (size_t)(slash - p) : strlen(p);
        if (i == t->nseg)
            return false;
        if (plen >= 2 && p[0] == '{' && p[plen - 1] == '}') {
            if (t->seg[i].len == 0 || *nparams == HTTP_PARAMS_MAX)
                return false;
            params[(*nparams)++] = t->seg[i];
        } else if (t->seg[i].len != plen || memcmp(t->seg[i].ptr, p, plen) != 0) {
            return false;
        }
        i++;
        if (!slash)
            break;
        p = slash + 1;
    }
    return i == t->nseg;
}

void http_route_match(const http_route *table, size_t n, const http_target *t, unsigned method, http_match *m)
{
    size_t i;
    http_str params[HTTP_PARAMS_MAX];
    int np;

    memset(m, 0, sizeof *m);
    for (i = 0; i < n; i++) {
        if (!match_pattern(table[i].pattern, t, params, &np))
            continue;
        m->allowed |= table[i].method;
        if (!m->route && (table[i].method == method || (method == HTTP_HEAD && table[i].method == HTTP_GET))) {
            m->route = &table[i];
            memcpy(m->params, params, sizeof params);
            m->nparams = np;
        }
    }
}

void http_allow_header(unsigned allowed, char *out, size_t n)
{
    static const struct {
        unsigned bit;
        const char *name;
    } order[] = {
        {HTTP_GET, "HEAD, GET"}, {HTTP_PUT, "PUT"}, {HTTP_POST, "POST"}, {HTTP_DELETE, "DELETE"},
    };
    size_t i, used = 0;

    out[0] = 0;
    for (i = 0; i < sizeof order / sizeof *order; i++)
        if (allowed & order[i].bit)
            used += (size_t)snprintf(out + used, used < n ? n - used : 0, "%s, ", order[i].name);
    snprintf(out + (used < n ? used : n - 1), used < n ? n - used : 1, "OPTIONS");
}
