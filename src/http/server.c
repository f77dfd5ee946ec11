/*
 * server.c - the HTTP API's server: libmicrohttpd (MHD) driven by
 * warren's event loop, so every handler runs on the loop thread, between
 * two AMQP events, and calls the domain with no lock.
 *
 * Two ways were open: MHD with its own listening socket and epoll set,
 * or warren's listener module (listener.c) accepting and handing each
 * socket to MHD_add_connection.  This uses both halves of the second:
 * the listener binds (host names, IPv6, bind before the store opens and
 * listen after, exactly as the AMQP ports; `--management-bind` takes
 * what `--bind` takes) and accepts, and MHD, started with MHD_USE_EPOLL
 * and MHD_USE_NO_LISTEN_SOCKET and no thread of its own, parses and
 * writes.  MHD's epoll descriptor sits in warren's epoll set as one
 * ev_io: when any HTTP socket is ready it becomes readable and MHD_run
 * (which never blocks) serves what is ready.  MHD's own deadlines (idle
 * connections, data it has buffered but not yet handled) come from
 * MHD_get_timeout into one ev_timer.
 *
 * A request: MHD's URI log callback sees the raw request target first
 * (before MHD unescapes anything, which would turn %2F into a path
 * separator) and allocates the request with it; the access handler then
 * matches the route (routes.c), answers 404/405/OPTIONS before asking
 * for credentials (as RabbitMQ's cowboy router does), checks HTTP basic
 * auth against auth.c, reads a body up to HTTP_BODY_MAX, and calls the
 * handler (api.c).  Bodies past the limit are read and dropped, never
 * held.
 *
 * The Prometheus endpoint (--prometheus-port) is a second http_server:
 * its own listener set and its own MHD daemon, with its own route table
 * (metrics.c) and no login.  A second daemon rather than one daemon with
 * a route table per port: each keeps its own connection limit and idle
 * timeout, so a scraper cannot take the connections an operator's
 * dashboard needs (or the reverse), and a request never has to ask which
 * port it came in on.  It costs one more epoll descriptor.
 *
 * A GET of a path no route has that names one of the dashboard's
 * files (dashboard.h: "/", "/app.js") is answered with the file, with no
 * login, on the API's server only: the page asks for credentials and sends
 * them to the API.
 *
 * The port's own limits (doc/limits.md), RabbitMQ's management listener's
 * (cowboy on ranch) where it has one: at most --management-max-connections
 * connections open (ranch's max_connections, 1024) and
 * --management-max-connections-per-address from one address (MHD's
 * per-IP limit; the https proxy passes the client's address, and counts
 * its own too); a request whose head has not all come within
 * --management-request-timeout of the connection's start or of the end of
 * its last answer is closed (cowboy's request_timeout, 5 s: it is not
 * reset by a byte, so a client that drips its headers is closed at it
 * too); inside a request, MHD's idle timeout (cowboy's idle_timeout,
 * 60 s) closes one that sends nothing more.  The deadlines of the
 * connections waiting for a request head sit on one list in deadline order
 * (each is now + the one timeout when it is armed, so appending keeps the
 * order) under one timer.
 */
#include "http/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http/api.h"
#include "http/metrics.h"
#include "http/dashboard.h"
#include "log.h"
#include "warren.h"

#define HTTP_REALM "RabbitMQ Management"

/* One per connection MHD serves (its socket context): the deadline for
 * the head of its next request, while one is awaited. */
typedef struct http_conn {
    struct http_conn *prev, *next;  /* on the server's waiting list */
    int fd;
    bool waiting;
    uint64_t deadline;          /* loop ms */
    /* the request on_uri made, until on_completed frees it: MHD calls
     * on_completed only for a request whose handler it called, so one it
     * refused itself (a malformed header after the request line) is freed
     * here, at the next request line or the connection's end */
    struct http_request *req;
} http_conn;

struct http_server {
    broker *b;
    ev_loop *loop;
    struct MHD_Daemon *d;
    listener_set ls;
    ev_io io;                   /* MHD's epoll descriptor */
    ev_timer timer;             /* MHD's next deadline */
    bool serving;
    uint64_t refused_logged;    /* loop ms of the last "cannot take" warning */
    int64_t started_ms;
    char node[300];             /* warren@host */
    const char *label;          /* "HTTP API", "Prometheus": for the log */
    const http_route *routes;   /* what this port serves */
    size_t nroutes;
    bool open;                  /* no login (Prometheus's endpoint, as RabbitMQ's) */
    unsigned max_conns, max_per_address;
    uint32_t request_timeout;   /* ms */
    http_conn *wait_head, *wait_tail;   /* awaiting a request head, soonest deadline first */
    ev_timer wait_timer;
    uint64_t timed_out;         /* connections closed at the request timeout */
};

typedef struct http_request {
    http_target t;
    int parse_rc;               /* http_target_parse's */
    bool started;               /* the headers were looked at */
    bool too_big;               /* the body passed HTTP_BODY_MAX: dropped */
    http_match m;
    http_reply early;           /* a refusal decided on the headers, sent at the end */
    const http_www_file *file;  /* a file of the dashboard, sent at the end */
    char user[256];
    char *body;
    size_t bodylen, bodycap;
} http_request;

/* ---------------------------------------------------- request deadlines */

static void wait_drop(http_server *s, http_conn *c)
{
    if (!c || !c->waiting)
        return;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->wait_head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        s->wait_tail = c->prev;
    c->prev = c->next = NULL;
    c->waiting = false;
}

/* c awaits a request head from now on, for at most the request timeout. */
static void wait_arm(http_server *s, http_conn *c)
{
    if (!c || !s->loop)
        return;
    wait_drop(s, c);
    c->deadline = ev_now(s->loop) + s->request_timeout;
    c->waiting = true;
    c->prev = s->wait_tail;
    if (s->wait_tail)
        s->wait_tail->next = c;
    else
        s->wait_head = c;
    s->wait_tail = c;
    if (!ev_timer_active(&s->wait_timer))
        ev_timer_start(s->loop, &s->wait_timer, s->request_timeout);
}

/* Close every connection past its deadline: shut down, so MHD finds its
 * socket at end of file on its next read and lets it go (its callbacks
 * free the rest). */
static void on_wait_timer(ev_loop *loop, ev_timer *t)
{
    http_server *s = (http_server *)((char *)t - offsetof(http_server, wait_timer));
    uint64_t now = ev_now(loop);
    unsigned n = 0;

    while (s->wait_head && s->wait_head->deadline <= now) {
        http_conn *c = s->wait_head;
        wait_drop(s, c);
        shutdown(c->fd, SHUT_RDWR);
        n++;
    }
    if (n) {
        s->timed_out += n;
        log_debug("%s: closed %u connection(s) that sent no whole request head within %u ms (%llu so far)",
                  s->label, n, (unsigned)s->request_timeout, (unsigned long long)s->timed_out);
    }
    if (s->wait_head)
        ev_timer_start(loop, &s->wait_timer, s->wait_head->deadline - now);
}

static http_conn *conn_of(struct MHD_Connection *mc)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

static void request_free(struct http_request *req);

static void on_connection(void *cls, struct MHD_Connection *mc, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    http_server *s = cls;
    http_conn *c = *socket_context;

    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (!ci || !(c = calloc(1, sizeof *c)))
            return; /* no deadline for this one: MHD's idle timeout still holds */
        c->fd = ci->connect_fd;
        *socket_context = c;
        wait_arm(s, c);
    } else if (c) {
        wait_drop(s, c);
        request_free(c->req);
        free(c);
        *socket_context = NULL;
    }
}

/* ------------------------------------------------------------ the loop */

static void run(http_server *s)
{
    MHD_UNSIGNED_LONG_LONG ms;

    MHD_run(s->d);
    if (MHD_get_timeout(s->d, &ms) == MHD_YES)
        ev_timer_start(s->loop, &s->timer, ms);
    else
        ev_timer_stop(s->loop, &s->timer);
}

static void on_ready(ev_loop *loop, ev_io *io, uint32_t events)
{
    (void)loop, (void)events;
    run((http_server *)((char *)io - offsetof(http_server, io)));
}

static void on_timer(ev_loop *loop, ev_timer *t)
{
    (void)loop;
    run((http_server *)((char *)t - offsetof(http_server, timer)));
}

static void on_accept(void *user, int fd, const struct sockaddr *peer, socklen_t peerlen)
{
    http_server_add_connection(user, fd, peer, peerlen);
}

void http_server_add_connection(http_server *s, int fd, const struct sockaddr *peer, socklen_t peerlen)
{
    if (s->b->stopping) {
        close(fd);
        return;
    }
    /* MHD owns the socket from here, and closes it if it cannot take it
     * (past the limits): said at most once a second, so that a flood of
     * connections does not become a flood of log lines */
    if (MHD_add_connection(s->d, fd, peer, peerlen) != MHD_YES && ev_now(s->loop) >= s->refused_logged + 1000) {
        s->refused_logged = ev_now(s->loop);
        log_warn("%s: refused a connection: at --management-max-connections (%u) or "
                 "--management-max-connections-per-address (%u), or out of descriptors", s->label, s->max_conns,
                 s->max_per_address);
    }
    run(s);
}

void http_server_adopt(http_server *s, int fd, const struct sockaddr *peer, socklen_t peerlen)
{
    on_accept(s, fd, peer, peerlen);
}

/* -------------------------------------------------------------- replies */

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    http_stream *st = cls;
    long n = st->next(st, buf, max);
    (void)pos;
    return n > 0 ? (ssize_t)n : n == 0 ? MHD_CONTENT_READER_END_OF_STREAM : MHD_CONTENT_READER_END_WITH_ERROR;
}

static void stream_free(void *cls)
{
    http_stream *st = cls;
    st->done(st);
}

/* A streamed body (lists.c's list of every queue, metrics.c's per-object
 * metrics): written 64 KB at a time, as the socket takes it, so the loop
 * is never held for the whole.  JSON unless the handler named a type. */
static enum MHD_Result send_stream(struct MHD_Connection *mc, http_reply *r)
{
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, stream_read, r->stream, stream_free);
    enum MHD_Result ret;

    if (!resp) {
        r->stream->done(r->stream);
        r->stream = NULL;
        return MHD_NO;
    }
    r->stream = NULL;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->raw_type ? r->raw_type : "application/json");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    ret = MHD_queue_response(mc, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result send_reply(struct MHD_Connection *mc, const http_request *req, http_reply *r)
{
    struct MHD_Response *resp;
    enum MHD_Result ret;
    char *text = NULL;
    size_t len = 0;

    if (r->stream)
        return send_stream(mc, r);
    if (r->body) {
        json_t *shown = r->body;
        const http_str *cols = req ? http_query(&req->t, "columns") : NULL;
        if (cols && r->status / 100 == 2 && !r->columns_done)
            shown = http_json_columns(r->body, cols);
        text = shown ? http_json_dump(shown, &len) : NULL;
        if (shown != r->body)
            json_decref(shown);
        if (!text) {
            r->status = 500;
            json_decref(r->body);
            r->body = NULL;
        }
    }
    if (r->raw && !text) {
        text = r->raw;
        len = r->rawlen;
        r->raw = NULL;
    }
    free(r->raw);
    r->raw = NULL;
    resp = text ? MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE)
                : MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        free(text);
        free(r->location);
        r->location = NULL;
        return MHD_NO;
    }
    if (text) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->body     ? "application/json"
                                                                   : r->raw_type ? r->raw_type : "text/plain");
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    }
    if (r->allow[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->allow);
    if (r->challenge)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Basic realm=\"" HTTP_REALM "\"");
    if (r->location)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, r->location);
    free(r->location);
    r->location = NULL;
    ret = MHD_queue_response(mc, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    json_decref(r->body);
    r->body = NULL;
    return ret;
}

/* A file of the dashboard (dashboard.h), from the binary's own bytes. */
static enum MHD_Result send_file(struct MHD_Connection *mc, const http_www_file *f)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(f->len, (void *)f->data, MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ret;

    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, f->type);
    /* the files change with the binary: always asked again */
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    MHD_add_response_header(resp, "Content-Security-Policy",
                            "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                            "object-src 'none'; frame-ancestors 'none'");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    ret = MHD_queue_response(mc, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result send_status(struct MHD_Connection *mc, const http_request *req, int status)
{
    http_reply r = {.status = status};
    return send_reply(mc, req, &r);
}

/* ------------------------------------------------------------- requests */

static void request_free(http_request *req)
{
    if (!req)
        return;
    json_decref(req->early.body);
    http_target_free(&req->t);
    free(req->body);
    free(req);
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *mc)
{
    http_request *req = calloc(1, sizeof *req);
    http_conn *c = conn_of(mc);
    (void)cls;

    if (req)
        req->parse_rc = http_target_parse(&req->t, uri, strlen(uri));
    if (c) {
        request_free(c->req); /* one MHD gave up on before its handler */
        c->req = req;
    }
    return req;
}

static void on_completed(void *cls, struct MHD_Connection *mc, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    http_request *req = *con_cls;
    http_conn *c = conn_of(mc);

    if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
        wait_arm(cls, c); /* kept alive: the next request's head is awaited */
    if (!req)
        return;
    if (c && c->req == req)
        c->req = NULL;
    request_free(req);
    *con_cls = NULL;
}

static bool peer_is_loopback(struct MHD_Connection *mc)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;

    if (!sa)
        return false;
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
    }
    return false;
}

/* Basic auth against auth.c: 0 logged in (req->user set), else -1 with
 * the refusal in *r. */
static int login(http_server *s, struct MHD_Connection *mc, http_request *req, http_reply *r)
{
    const char *hdr = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    char *user, *pass = NULL;
    amqp_error err;
    int rc;

    if (!hdr || strncasecmp(hdr, "Basic ", 6) != 0) {
        /* no credentials: RabbitMQ's empty 401 with the challenge */
        r->status = 401;
        r->challenge = true;
        return -1;
    }
    user = MHD_basic_auth_get_username_password(mc, &pass);
    if (!user || !pass) {
        /* not base64 of user:password: RabbitMQ answers 400 */
        MHD_free(user);
        MHD_free(pass);
        r->status = 400;
        return -1;
    }
    rc = auth_check(&s->b->auth, user, amqp_cstr(pass), peer_is_loopback(mc), &err);
    if (rc < 0) {
        log_info("HTTP API: login refused: %s", err.text);
        http_reply_login_failed(r);
    } else if (!(auth_find(&s->b->auth, user)->tagbits & (AUTH_TAG_ADMINISTRATOR | AUTH_TAG_MONITORING |
                                                          AUTH_TAG_POLICYMAKER | AUTH_TAG_MANAGEMENT))) {
        /* RabbitMQ: the API is for users with a management tag */
        log_info("HTTP API: user '%s' refused: not a management user", user);
        http_reply_error(r, 401, "not_authorised", "Not management user");
        rc = -1;
    } else {
        snprintf(req->user, sizeof req->user, "%s", user);
    }
    MHD_free(user);
    MHD_free(pass);
    return rc;
}

/* A reply decided on the headers waits for the request's last call, its
 * body (up to HTTP_BODY_MAX) read and dropped meanwhile: a client sends
 * its whole body before it reads an answer, and one answered and closed
 * in the middle of it lost the answer to a broken pipe or a reset (the
 * protocol walk found it over https, with a 250-byte body; RabbitMQ
 * 3.10 answers a 2 MB one).  The connection also stays open for the next
 * request.  A body larger than that, or of unknown length, is not read
 * for nothing: the reply goes at once and the connection closes. */
#define HTTP_SKIP_BODY_MAX HTTP_BODY_MAX
static enum MHD_Result refuse(struct MHD_Connection *mc, http_request *req, http_reply *r)
{
    const char *cl = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    const char *te = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);

    if (!te && (!cl || strtoull(cl, NULL, 10) <= HTTP_SKIP_BODY_MAX)) {
        req->early = *r;
        return MHD_YES;
    }
    return send_reply(mc, req, r);
}

/* The first call, on the headers: route, method, credentials, the size
 * of the body to come.  MHD_YES with nothing queued lets the request go
 * on to its body and its last call. */
static enum MHD_Result begin(http_server *s, struct MHD_Connection *mc, http_request *req, const char *method)
{
    unsigned m = http_method_parse(method);
    http_reply r = {0};
    const char *cl;

    req->started = true;
    wait_drop(s, conn_of(mc)); /* the head is in: MHD's idle timeout from here */
    if (req->parse_rc < 0) {
        r.status = 400;
        return refuse(mc, req, &r);
    }
    http_route_match(s->routes, s->nroutes, &req->t, m, &req->m);
    if (!req->m.allowed && s->routes == http_api_routes && (m == HTTP_GET || m == HTTP_HEAD) &&
        (req->file = http_dashboard_file(&req->t))) {
        /* no login: the page asks for one; a body is read and dropped */
        req->early.status = 200;
        return MHD_YES;
    }
    if (!req->m.allowed) {
        http_reply_not_found(&r);
        return refuse(mc, req, &r);
    }
    if (m == HTTP_OPTIONS || !req->m.route) {
        r.status = m == HTTP_OPTIONS ? 200 : 405;
        http_allow_header(req->m.allowed, r.allow, sizeof r.allow);
        return refuse(mc, req, &r);
    }
    if (!s->open && login(s, mc, req, &r) < 0)
        return refuse(mc, req, &r);
    cl = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (req->m.route->body && cl && strtoull(cl, NULL, 10) > HTTP_BODY_MAX) {
        /* refused before it is read */
        http_reply_too_big(&r);
        return send_reply(mc, req, &r);
    }
    return MHD_YES;
}

static void take_body(http_request *req, const char *data, size_t n)
{
    if (req->early.status || !req->m.route->body || req->too_big)
        return;
    if (n > HTTP_BODY_MAX - req->bodylen) {
        req->too_big = true;
        free(req->body);
        req->body = NULL;
        req->bodylen = req->bodycap = 0;
        return;
    }
    if (req->bodylen + n > req->bodycap) {
        size_t cap = req->bodycap ? req->bodycap : 4096;
        char *nb;
        while (cap < req->bodylen + n)
            cap *= 2;
        if (cap > HTTP_BODY_MAX)
            cap = HTTP_BODY_MAX;
        if (!(nb = realloc(req->body, cap))) {
            req->too_big = true; /* out of memory: refused as too big */
            return;
        }
        req->body = nb;
        req->bodycap = cap;
    }
    memcpy(req->body + req->bodylen, data, n);
    req->bodylen += n;
}

static const char *request_header(const http_ctx *x, const char *name)
{
    return MHD_lookup_connection_value(x->mhd, MHD_HEADER_KIND, name);
}

/* The last call: the whole body is in; run the handler. */
static enum MHD_Result finish(http_server *s, struct MHD_Connection *mc, http_request *req)
{
    http_reply r = {0};
    http_ctx x = {
        .b = s->b,
        .srv = s,
        .user = req->user,
        .t = &req->t,
        .params = req->m.params,
        .nparams = req->m.nparams,
        .header = request_header,
        .mhd = mc,
    };

    if (req->file)
        return send_file(mc, req->file);
    if (req->early.status)
        return send_reply(mc, req, &req->early);
    if (req->too_big) {
        http_reply_too_big(&r);
        return send_reply(mc, req, &r);
    }
    if (req->m.route->body && req->bodylen > 0 && !(x.body = http_json_body(req->body, req->bodylen))) {
        http_reply_not_json(&r);
        return send_reply(mc, req, &r);
    }
    req->m.route->handler(&x, &r);
    json_decref(x.body);
    if (!r.status)
        r.status = 500;
    /* what it declared or deleted is on disk before the reply (the AMQP
     * replies wait for the turn's one sync instead) */
    if (broker_sync_defs(s->b) < 0)
        http_reply_error(&r, 500, "internal_error", "the definitions could not be synced to disk");
    return send_reply(mc, req, &r);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *mc, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    http_server *s = cls;
    http_request *req = *con_cls;
    (void)url, (void)version;

    if (!req)
        return send_status(mc, NULL, 500); /* out of memory at on_uri */
    if (!req->started)
        return begin(s, mc, req, method);
    if (*upload_data_size) {
        take_body(req, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    return finish(s, mc, req);
}

/* MHD's messages are about clients (a malformed request, a reset): debug. */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char line[512];
    size_t n;
    (void)cls;

    vsnprintf(line, sizeof line, fmt, ap);
    n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = 0;
    log_debug("HTTP API: %s", line);
}

/* ---------------------------------------------------------- the server */

/* What differs between the two servers: the port and addresses, the
 * routes, and whether a login is asked for. */
typedef struct server_kind {
    const char *label;          /* for the log */
    const char *port_option;    /* for the warning when the default port is taken */
    int port;
    const char *const *binds;
    int nbinds;
    bool required;              /* given by the user: failing to bind stops the start */
    const http_route *routes;
    size_t nroutes;
    bool open;
    const config *cfg;          /* the limits */
} server_kind;

static int server_init(http_server **out, broker *b, const server_kind *k)
{
    static const char *defaults[] = {"127.0.0.1", "::1"};
    http_server *s;
    const union MHD_DaemonInfo *di;
    bool required = k->required;
    char host[256];
    int i;

    *out = NULL;
    if (k->port == 0)
        return 0;
    if (!(s = calloc(1, sizeof *s)))
        return log_error("out of memory"), -1;
    s->b = b;
    s->label = k->label;
    s->routes = k->routes;
    s->nroutes = k->nroutes;
    s->open = k->open;
    s->max_conns = k->cfg->http_max_connections;
    s->max_per_address = k->cfg->http_max_per_address;
    s->request_timeout = k->cfg->http_request_timeout;
    ev_timer_init(&s->timer, on_timer);
    ev_timer_init(&s->wait_timer, on_wait_timer);
    listeners_init(&s->ls, k->port, on_accept, s);
    s->ls.label = k->label;
    if (k->nbinds == 0) {
        if (listeners_bind(&s->ls, defaults[0], required) < 0)
            goto off;
        listeners_bind(&s->ls, defaults[1], false);
    } else {
        for (i = 0; i < k->nbinds; i++)
            if (listeners_bind(&s->ls, k->binds[i], required) < 0)
                goto off;
    }
    s->d = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request,
                            s, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s, MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_NOTIFY_CONNECTION,
                            on_connection, s, MHD_OPTION_CONNECTION_LIMIT, s->max_conns,
                            MHD_OPTION_PER_IP_CONNECTION_LIMIT, s->max_per_address,
                            /* whole seconds: the idle timeout rounded up */
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)((k->cfg->http_idle_timeout + 999) / 1000),
                            MHD_OPTION_END);
    di = s->d ? MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_EPOLL_FD) : NULL;
    if (!di) {
        log_error("%s: cannot start libmicrohttpd: %s", k->label, strerror(errno));
        http_server_free(s);
        return -1;
    }
    s->io.fd = di->epoll_fd;
    if (gethostname(host, sizeof host) < 0)
        snprintf(host, sizeof host, "localhost");
    host[sizeof host - 1] = 0;
    host[strcspn(host, ".")] = 0; /* RabbitMQ's node names use the short name */
    snprintf(s->node, sizeof s->node, "warren@%s", host);
    *out = s;
    return 0;

off:
    listeners_close(&s->ls, NULL);
    free(s);
    if (required)
        return -1;
    log_warn("%s off: its default port %d cannot be bound (give %s)", k->label, k->port, k->port_option);
    return 0;
}

int http_server_init(http_server **out, broker *b, const config *cfg)
{
    server_kind k = {
        .label = "HTTP API",
        .port_option = "--management-port",
        .port = cfg->mgmt_port,
        .binds = cfg->mgmt_binds,
        .nbinds = cfg->nmgmt_binds,
        .required = cfg->mgmt_explicit,
        .routes = http_api_routes,
        .nroutes = http_api_nroutes,
        .cfg = cfg,
    };
    return server_init(out, b, &k);
}

int http_server_init_metrics(http_server **out, broker *b, const config *cfg)
{
    server_kind k = {
        .label = "Prometheus",
        .port_option = "--prometheus-port",
        .port = cfg->prom_port,
        .binds = cfg->prom_binds,
        .nbinds = cfg->nprom_binds,
        .required = cfg->prom_explicit,
        .routes = http_metrics_routes,
        .nroutes = http_metrics_nroutes,
        .open = true,
        .cfg = cfg,
    };
    return server_init(out, b, &k);
}

int http_server_listen(http_server *s, ev_loop *loop)
{
    s->loop = loop;
    s->started_ms = ev_wall_ms(loop);
    if (ev_io_start(loop, &s->io, s->io.fd, EPOLLIN, on_ready) < 0) {
        log_error("%s: %s", s->label, strerror(errno));
        return -1;
    }
    s->serving = true;
    return listeners_listen(&s->ls, loop);
}

void http_server_close_listeners(http_server *s)
{
    if (s)
        listeners_close(&s->ls, s->loop);
}

void http_server_limits(const http_server *s, unsigned *max_conns, unsigned *max_per_address)
{
    *max_conns = s->max_conns;
    *max_per_address = s->max_per_address;
}

void http_server_free(http_server *s)
{
    if (!s)
        return;
    listeners_close(&s->ls, s->loop);
    if (s->serving) {
        ev_io_stop(s->loop, &s->io);
        ev_timer_stop(s->loop, &s->timer);
        ev_timer_stop(s->loop, &s->wait_timer);
    }
    if (s->d)
        MHD_stop_daemon(s->d);
    free(s);
}

const listener_set *http_server_listeners(const http_server *s)
{
    return &s->ls;
}

const char *http_server_node(const http_server *s)
{
    return s->node;
}

int64_t http_server_started_ms(const http_server *s)
{
    return s->started_ms;
}
