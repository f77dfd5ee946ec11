/*
 * dashboard.c - which of the dashboard's files a path names.  The files
 * are flat (/index.html, /app.js, ...) and few, so a walk of the table
 * is all the lookup needs.
 */
#include "http/dashboard.h"

#include <string.h>

const http_www_file *http_dashboard_file(const http_target *t)
{
    const http_str *s = &t->seg[0];
    size_t i;

    /* "/" is one empty segment */
    if (t->nseg != 1 || t->too_deep)
        return NULL;
    for (i = 0; i < http_www_nfiles; i++) {
        const char *name = http_www_files[i].path + 1;
        if (s->len == 0 ? !strcmp(name, "index.html") : strlen(name) == s->len && !memcmp(name, s->ptr, s->len))
            return &http_www_files[i];
    }
    return NULL;
}
