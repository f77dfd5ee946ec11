/* warrenctl's shared helper (ctl.h): libcurl requests to the HTTP API,
 * the config file, the table and JSON output, the error exits.
 *
 * Requests are blocking and one at a time: a verb makes one to three.  A
 * new curl handle per request keeps no state between them (the cost is a
 * connect on loopback).
 */
#include "ctl.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

ctl_settings ctl;

_Noreturn void ctl_fail(int code, const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    fputs("Error: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(code);
}

char *ctl_fmt(const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;
    va_start(ap, fmt);
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0)
        ctl_fail(EXIT_SOFTWARE, "out of memory");
    return s;
}

void ctl_banner(const char *fmt, ...)
{
    if (ctl.quiet || ctl.silent || ctl.json)
        return;
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
}

/* ---- the config file ---- */

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

void ctl_load_config(void)
{
    const char *path = ctl.config;
    char *own = NULL;
    if (!path) {
        const char *home = getenv("HOME");
        if (!home || !*home)
            return;
        path = own = ctl_fmt("%s/.warrenctl", home);
    }
    FILE *f = fopen(path, "r");
    if (!f) {
        /* the default file is optional; one named with --config is not */
        if (ctl.config)
            ctl_fail(EXIT_CONFIG, "cannot read the config file %s: %s", path, strerror(errno));
        free(own);
        return;
    }
    char line[4096];
    int lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *s = trim(line);
        if (!*s || *s == '#')
            continue;
        char *v = s;
        while (*v && !isspace((unsigned char)*v) && *v != '=')
            v++;
        char *key_end = v;
        while (isspace((unsigned char)*v))
            v++;
        if (*v == '=')
            v++;
        *key_end = '\0';
        v = trim(v);
        const char **slot = NULL;
        if (!strcmp(s, "url"))
            slot = &ctl.url;
        else if (!strcmp(s, "username"))
            slot = &ctl.username;
        else if (!strcmp(s, "password"))
            slot = &ctl.password;
        else
            ctl_fail(EXIT_CONFIG, "%s:%d: unknown setting '%s' (known: url, username, password)", path, lineno, s);
        if (!*slot)
            *slot = strdup(v); /* the command line wins */
    }
    fclose(f);
    free(own);
}

/* ---- requests ---- */

typedef struct buf {
    char *data;
    size_t len, cap;
} buf;

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
    buf *b = arg;
    size_t add = size * n;
    if (b->len + add + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + add + 1)
            cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d)
            return 0; /* curl reports a write error */
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, add);
    b->len += add;
    b->data[b->len] = '\0';
    return add;
}

ctl_reply ctl_request(const char *method, const char *path, const char *body, const char *header)
{
    static bool inited;
    if (!inited) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        inited = true;
    }
    CURL *c = curl_easy_init();
    if (!c)
        ctl_fail(EXIT_SOFTWARE, "cannot start libcurl");
    size_t ulen = strlen(ctl.url);
    while (ulen && ctl.url[ulen - 1] == '/')
        ulen--;
    char *url = ctl_fmt("%.*s%s", (int)ulen, ctl.url, path);
    char errbuf[CURL_ERROR_SIZE] = "";
    buf b = {0};
    struct curl_slist *h = NULL;
    /* no "Accept: application/json": RabbitMQ answers a purge with 406 then */
    if (body)
        h = curl_slist_append(h, "Content-Type: application/json");
    if (header)
        h = curl_slist_append(h, header);

    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_USERNAME, ctl.username);
    curl_easy_setopt(c, CURLOPT_PASSWORD, ctl.password);
    curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, ctl.timeout);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    if (ctl.cacert)
        curl_easy_setopt(c, CURLOPT_CAINFO, ctl.cacert);
    if (ctl.cert)
        curl_easy_setopt(c, CURLOPT_SSLCERT, ctl.cert);
    if (ctl.key)
        curl_easy_setopt(c, CURLOPT_SSLKEY, ctl.key);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
    } else if (!strcmp(method, "HEAD")) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    }

    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK) {
        const char *why = errbuf[0] ? errbuf : curl_easy_strerror(rc);
        switch (rc) {
        case CURLE_OPERATION_TIMEDOUT:
            ctl_fail(EXIT_TEMPFAIL, "the broker at %.*s did not answer within %ld seconds (%s)", (int)ulen, ctl.url,
                     ctl.timeout, why);
        case CURLE_URL_MALFORMAT:
        case CURLE_UNSUPPORTED_PROTOCOL:
            ctl_fail(EXIT_USAGE, "bad --url '%s': %s", ctl.url, why);
        default:
            ctl_fail(EXIT_UNAVAILABLE,
                     "unable to reach the broker's HTTP API at %.*s: %s.\n"
                     "Is warren running, with its management API on that port (--management-port)?",
                     (int)ulen, ctl.url, why);
        }
    }
    ctl_reply r = {0};
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    r.body = b.data ? b.data : strdup("");
    r.len = b.len;
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    free(url);
    return r;
}

void ctl_reply_free(ctl_reply *r)
{
    free(r->body);
    r->body = NULL;
}

const char *ctl_reason(const ctl_reply *r)
{
    static char *last;
    json_t *j = json_loadb(r->body, r->len, 0, NULL);
    if (j) {
        json_t *reason = json_object_get(j, "reason");
        if (reason) {
            free(last);
            last = json_is_string(reason) ? strdup(json_string_value(reason)) : json_dumps(reason, JSON_COMPACT);
            json_decref(j);
            return last;
        }
        json_decref(j);
    }
    return r->len ? r->body : "no reason given";
}

void ctl_check(const ctl_reply *r, const char *what, const long *ok)
{
    if (r->status >= 200 && r->status < 300)
        return;
    for (; ok && *ok; ok++)
        if (*ok == r->status)
            return;
    switch (r->status) {
    case 401:
    case 403:
        ctl_fail(EXIT_NOPERM, "the broker refused %s for user '%s' (HTTP %ld: %s)", what,
                 ctl.username ? ctl.username : "", r->status, ctl_reason(r));
    case 404:
        ctl_fail(EXIT_DATAERR, "%s: not found (HTTP 404)", what);
    case 405:
    case 501:
        ctl_fail(EXIT_UNAVAILABLE, "this broker does not support %s (HTTP %ld: %s)", what, r->status, ctl_reason(r));
    case 400:
    case 409:
    case 412:
        ctl_fail(EXIT_DATAERR, "%s", ctl_reason(r));
    default:
        ctl_fail(EXIT_SOFTWARE, "%s failed: HTTP %ld: %s", what, r->status, ctl_reason(r));
    }
}

json_t *ctl_json(const ctl_reply *r, const char *what)
{
    json_error_t err;
    json_t *j = json_loadb(r->body, r->len, 0, &err);
    if (!j)
        ctl_fail(EXIT_SOFTWARE, "%s: the broker's answer is not JSON (%s)", what, err.text);
    return j;
}

json_t *ctl_get_json(const char *path, const char *what, const char *notfound_msg, int notfound_code)
{
    static const long nf[] = {404, 0};
    ctl_reply r = ctl_request("GET", path, NULL, NULL);
    ctl_check(&r, what, nf);
    if (r.status == 404)
        ctl_fail(notfound_code, "%s", notfound_msg);
    json_t *j = ctl_json(&r, what);
    ctl_reply_free(&r);
    return j;
}

char *ctl_escape(const char *segment)
{
    char *e = curl_easy_escape(NULL, segment, 0);
    if (!e)
        ctl_fail(EXIT_SOFTWARE, "out of memory");
    char *s = strdup(e);
    curl_free(e);
    return s;
}

/* ---- output ---- */

json_t *ctl_lookup(json_t *obj, const char *path)
{
    char *p = strdup(path), *save = NULL;
    json_t *v = obj;
    for (char *k = strtok_r(p, ".", &save); k && v; k = strtok_r(NULL, ".", &save))
        v = json_is_object(v) ? json_object_get(v, k) : NULL;
    free(p);
    return v;
}

/* Appends the rabbitmqctl form of V to *out (a malloc'd string). */
static void cell_append(char **out, const json_t *v, bool nested)
{
    char *s = NULL;
    switch (json_typeof(v)) {
    case JSON_STRING:
        s = nested ? ctl_fmt("%s\"%s\"", *out, json_string_value(v)) : ctl_fmt("%s%s", *out, json_string_value(v));
        break;
    case JSON_INTEGER:
        s = ctl_fmt("%s%" JSON_INTEGER_FORMAT, *out, json_integer_value(v));
        break;
    case JSON_REAL:
        s = ctl_fmt("%s%g", *out, json_real_value(v));
        break;
    case JSON_TRUE:
        s = ctl_fmt("%strue", *out);
        break;
    case JSON_FALSE:
        s = ctl_fmt("%sfalse", *out);
        break;
    case JSON_NULL:
        s = ctl_fmt("%s", *out);
        break;
    case JSON_ARRAY: {
        /* a list of names (tags) is [a, b]; anything else [x,y] */
        size_t i;
        json_t *e;
        bool names = true;
        json_array_foreach(v, i, e) if (!json_is_string(e)) names = false;
        s = ctl_fmt("%s[", *out);
        json_array_foreach(v, i, e)
        {
            if (i) {
                char *t = ctl_fmt("%s%s", s, names ? ", " : ",");
                free(s);
                s = t;
            }
            cell_append(&s, e, !names);
        }
        char *t = ctl_fmt("%s]", s);
        free(s);
        s = t;
        break;
    }
    case JSON_OBJECT: {
        /* a table, as rabbitmqctl shows arguments: [{"k",v},...] */
        const char *k;
        json_t *e;
        bool first = true;
        s = ctl_fmt("%s[", *out);
        json_object_foreach((json_t *)v, k, e)
        {
            char *t = ctl_fmt("%s%s{\"%s\",", s, first ? "" : ",", k);
            free(s);
            s = t;
            cell_append(&s, e, true);
            t = ctl_fmt("%s}", s);
            free(s);
            s = t;
            first = false;
        }
        char *t = ctl_fmt("%s]", s);
        free(s);
        s = t;
        break;
    }
    }
    free(*out);
    *out = s;
}

char *ctl_cell(const json_t *v)
{
    char *s = strdup("");
    if (v)
        cell_append(&s, v, false);
    return s;
}

static json_t *column_value(json_t *row, const ctl_column *c)
{
    if (c->path[0] == '=')
        return json_string(c->path + 1);
    json_t *v = ctl_lookup(row, c->path);
    return v ? json_incref(v) : json_null();
}

/* Rows printed so far in this table (for the header, and JSON's commas). */
static size_t printed;

void ctl_rows_begin(void)
{
    printed = 0;
    if (ctl.json)
        printf("[\n");
}

void ctl_rows_add(json_t *rows, const ctl_column *const *cols, size_t n)
{
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        if (ctl.json) {
            /* rabbitmqctl's form: one object a line, "," before all but the first */
            json_t *o = json_object();
            for (size_t k = 0; k < n; k++)
                json_object_set_new(o, cols[k]->name, column_value(row, cols[k]));
            char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
            printf("%s%s\n", printed ? "," : "", s);
            free(s);
            json_decref(o);
        } else {
            if (printed == 0 && !ctl.silent && !ctl.no_headers) {
                for (size_t k = 0; k < n; k++)
                    printf("%s%s", k ? "\t" : "", cols[k]->name);
                putchar('\n');
            }
            for (size_t k = 0; k < n; k++) {
                json_t *v = column_value(row, cols[k]);
                char *s = ctl_cell(v);
                printf("%s%s", k ? "\t" : "", s);
                free(s);
                json_decref(v);
            }
            putchar('\n');
        }
        printed++;
    }
}

void ctl_rows_end(void)
{
    if (ctl.json)
        printf("]\n");
}

void ctl_print_rows(json_t *rows, const ctl_column *const *cols, size_t n)
{
    ctl_rows_begin();
    ctl_rows_add(rows, cols, n);
    ctl_rows_end();
}

char *ctl_read_file(const char *path, size_t *len)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f)
        ctl_fail(EXIT_NOINPUT, "cannot read %s: %s", path, strerror(errno));
    buf b = {0};
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (on_data(chunk, 1, n, &b) != n)
            ctl_fail(EXIT_SOFTWARE, "out of memory reading %s", path);
    if (ferror(f))
        ctl_fail(EXIT_NOINPUT, "cannot read %s: %s", path, strerror(errno));
    if (f != stdin)
        fclose(f);
    *len = b.len;
    return b.data ? b.data : strdup("");
}
