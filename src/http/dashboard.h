/*
 * dashboard.h - the web dashboard's static files (src/http/www/), compiled
 * into the binary by scripts/embed_www.py (build/gen/www.c), and served
 * by server.c at / without a login: the page asks for the credentials and
 * sends them with each API request (doc/management.md, "The dashboard").
 */
#ifndef WARREN_HTTP_DASHBOARD_H
#define WARREN_HTTP_DASHBOARD_H

#include <stddef.h>

#include "http/routes.h"

typedef struct http_www_file {
    const char *path;           /* "/index.html" */
    const char *type;           /* Content-Type */
    const unsigned char *data;
    size_t len;
} http_www_file;

extern const http_www_file http_www_files[];   /* build/gen/www.c */
extern const size_t http_www_nfiles;

/* The file a GET of t's path asks for ("/" is /index.html), or NULL:
 * any path under /api/ is the API's, never a file. */
const http_www_file *http_dashboard_file(const http_target *t);

#endif
