/*
 * fuzz_http_request.c - libFuzzer target for whole HTTP requests to the
 * management API, on a broker running in this process: request line,
 * path and query string, headers, basic auth, the JSON bodies of every
 * endpoint that takes one (queues, exchanges, bindings, publish, get,
 * users, permissions, vhosts, the definitions import), and the handlers
 * they reach.
 *
 * The broker is started once (broker_init, with its store in a directory
 * under /dev/shm, its AMQP and HTTP listeners on free loopback ports) and
 * restarted on a fresh directory every RESTART_EVERY inputs, so that what
 * the inputs declared does not pile up.  Each input is sent, as a client
 * would, down one end of a socketpair whose other end the HTTP server
 * adopts (http_server_adopt, as if accepted); the loop is turned
 * (ev_loop_turn) until the server has answered and closed, and the answer
 * is read.  The first input byte says whether the peer is loopback (guest
 * may log in) or not; the rest is the bytes on the wire.  Seeds:
 * tests/fuzz/corpus/fuzz_http_request/, real requests with guest's
 * credentials (Authorization: Basic Z3Vlc3Q6Z3Vlc3Q=).
 *
 * Checked: the broker neither crashes nor leaks nor reads out of bounds
 * (ASan, UBSan); every answer that begins is an HTTP/1.x status line with
 * a status from 100 to 599 (pipelined requests' answers walked by their
 * Content-Length, so state made by one request and read by the next is
 * checked in one input), never a 500 for what a client sent (a 500 is
 * for a disk that failed, and this one does not).  A connection the
 * server still holds MAX_TURNS turns after the client stopped sending is
 * counted (reported at exit), not a failure: a request cut short by a
 * client that half-closes is held until the request timeout (5 s, as
 * RabbitMQ's; doc/limits.md), longer than the harness waits.
 *
 * Built from this file, src/amqp and the Makefile's fuzz archive of the
 * broker (build/fz/libwarren.a), with libmicrohttpd, jansson, libcrypto.
 */
#include <arpa/inet.h>
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sanitizer/common_interface_defs.h>

#include "fuzz_quiet.h"

#include "broker.h"
#include "http/server.h"
#include "log.h"

#define RESTART_EVERY 2000
#define MAX_TURNS 400

static char root[128], dir[160];
static broker b;
static bool running;
static unsigned long inputs, held;
static char amqp_port[8], mgmt_port[8];

static int free_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0), port;

    assert(fd >= 0);
    assert(bind(fd, (struct sockaddr *)&a, sizeof a) == 0);
    assert(getsockname(fd, (struct sockaddr *)&a, &len) == 0);
    port = ntohs(a.sin_port);
    close(fd);
    return port;
}

/* A broker on two free ports; false when it did not start (a port taken
 * by another process between free_port and the bind: the suite's brokers
 * run beside the fuzzer). */
static bool try_start(config *cfg)
{
    static const char *binds[] = {"127.0.0.1"};

    rm_rf(dir);
    assert(mkdir(dir, 0700) == 0);
    config_defaults(cfg);
    cfg->data_dir = dir;
    cfg->nbinds = 1;
    cfg->binds[0] = binds[0];
    snprintf(amqp_port, sizeof amqp_port, "%d", free_port());
    snprintf(mgmt_port, sizeof mgmt_port, "%d", free_port());
    assert(config_apply(cfg, OPT_PORT, "port", amqp_port) == 0);
    assert(config_apply(cfg, OPT_MGMT_PORT, "management-port", mgmt_port) == 0);
    assert(config_apply(cfg, OPT_MGMT_BIND, "management-bind", binds[0]) == 0);
    cfg->prom_port = 0;
    cfg->disk_free_limit = 0;
    cfg->memory_limit = 0;
    config_finish(cfg);
    if (broker_init(&b, cfg) == 0)
        return true;
    broker_free(&b);
    memset(&b, 0, sizeof b);
    return false;
}

static void start(void)
{
    static config cfg;
    int tries;

    for (tries = 0; !try_start(&cfg); tries++) {
        if (tries == 8) {
            fprintf(stderr, "fuzz_http_request: the broker does not start (ports %s, %s)\n", amqp_port, mgmt_port);
            abort();
        }
    }
    assert(b.http);
    running = true;
}

static void stop(void)
{
    if (running)
        broker_free(&b);
    running = false;
}

static void report(void)
{
    if (inputs)
        fprintf(stderr, "fuzz_http_request: %lu inputs, %lu connections held open after the client stopped "
                        "sending\n", inputs, held);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char a[] = "/dev/shm/warren-fuzz-http-XXXXXX", t[] = "/tmp/warren-fuzz-http-XXXXXX";
    const char *d = mkdtemp(a);

    (void)argc, (void)argv;
    if (!d)
        d = mkdtemp(t);
    assert(d);
    snprintf(root, sizeof root, "%s", d);
    snprintf(dir, sizeof dir, "%s/data", d);
    log_level = getenv("WARREN_FUZZ_VERBOSE") ? LOG_DEBUG : (enum log_level)(LOG_ERROR + 1);
    atexit(stop);
    atexit(report);
    quiet_init();
    start();
    return 0;
}

/* The decimal number in [p, end), which need not end in a NUL (an answer
 * fills the buffer to its last byte): -1 when there is none. */
static long num_in(const char *p, const char *end)
{
    char tmp[24];
    size_t n = (size_t)(end - p) < sizeof tmp - 1 ? (size_t)(end - p) : sizeof tmp - 1;

    memcpy(tmp, p, n);
    tmp[n] = 0;
    return n ? strtol(tmp, NULL, 10) : -1;
}

/* The length of a header's value in the head [p, end) (case-blind
 * name), or -1. */
static long header_num(const char *p, const char *end, const char *name, bool *chunked)
{
    size_t nl = strlen(name);
    long v = -1;

    while (p < end) {
        const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
        if (!eol)
            eol = end;
        if ((size_t)(eol - p) > nl && !strncasecmp(p, name, nl) && p[nl] == ':')
            v = num_in(p + nl + 1, eol);
        if ((size_t)(eol - p) > 18 && !strncasecmp(p, "Transfer-Encoding:", 18) && memmem(p, (size_t)(eol - p), "chunked", 7))
            *chunked = true;
        p = eol + 2;
    }
    return v;
}

/* One answer's status (abort on a 500); its whole length, or 0 when it
 * has not all come (or cannot be walked: a chunked body). */
static size_t check_one(const char *buf, size_t n, bool first)
{
    const char *head_end;
    bool chunked = false;
    long len;
    int status;

    if (n < 12)
        return 0;
    /* past the first, an answer to a HEAD has a length and no body: the
     * walk stops where it lost its footing */
    if (!first && memcmp(buf, "HTTP/1.", 7))
        return 0;
    assert(!memcmp(buf, "HTTP/1.", 7));
    status = (int)num_in(buf + 9, buf + 12);
    assert(status >= 100 && status <= 599);
    if (status == 500) {
        fprintf(stderr, "fuzz_http_request: a 500 for a request:\n%.*s\n", (int)(n < 2000 ? n : 2000), buf);
        abort();
    }
    if (!(head_end = memmem(buf, n, "\r\n\r\n", 4)))
        return 0;
    len = header_num(buf, head_end, "Content-Length", &chunked);
    if (chunked || len < 0 || (size_t)(head_end + 4 - buf) + (size_t)len > n)
        return 0;
    return (size_t)(head_end + 4 - buf) + (size_t)len;
}

/* Every answer so far (pipelined requests get one each): each begins
 * with a status line, and none is a 500. */
static void check_answer(const char *buf, size_t n)
{
    size_t used;
    bool first = true;

    while (n && (used = check_one(buf, n, first)) > 0) {
        first = false;
        buf += used;
        n -= used;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sockaddr_in peer = {.sin_family = AF_INET};
    char answer[16384];
    size_t sent = 0, got = 0;
    bool shut = false, closed = false;
    int sv[2], turn;

    if (size < 1 || size > 1 << 16)
        return 0;
    quiet(true);
    if (++inputs % RESTART_EVERY == 0) {
        stop();
        start();
    }
    peer.sin_addr.s_addr = htonl(data[0] & 1 ? 0x0a000001 : INADDR_LOOPBACK);
    data++, size--;
    assert(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == 0);
    http_server_adopt(b.http, sv[0], (struct sockaddr *)&peer, sizeof peer);

    for (turn = 0; turn < MAX_TURNS && !closed; turn++) {
        ssize_t r;
        if (sent < size) {
            r = write(sv[1], data + sent, size - sent);
            if (r > 0)
                sent += (size_t)r;
            else if (r < 0 && errno != EAGAIN)
                sent = size; /* the server closed first */
        }
        if (sent == size && !shut) {
            shutdown(sv[1], SHUT_WR);
            shut = true;
        }
        assert(ev_loop_turn(b.loop, 0) >= 0);
        for (;;) {
            char tmp[4096];
            r = read(sv[1], tmp, sizeof tmp);
            if (r > 0) {
                size_t keep = got < sizeof answer ? sizeof answer - got : 0;
                memcpy(answer + got, tmp, (size_t)r < keep ? (size_t)r : keep);
                got += (size_t)r < keep ? (size_t)r : keep;
                continue;
            }
            if (r == 0 || (r < 0 && errno != EAGAIN))
                closed = true;
            break;
        }
    }
    quiet(false);
    if (getenv("WARREN_FUZZ_VERBOSE"))
        fprintf(stderr, "fuzz_http_request: %d turns, answer: %.*s\n", turn, (int)strcspn(answer, "\r\n") < (int)got ? (int)strcspn(answer, "\r\n") : (int)got, answer);
    check_answer(answer, got);
    /* An incomplete request the client stopped sending is held until the
     * request timeout (5 s): not a failure here, but counted.  Closing our
     * end lets the server go. */
    if (!closed)
        held++;
    close(sv[1]);
    /* a few turns for the server to let go of its side */
    quiet(true);
    for (turn = 0; turn < 3; turn++)
        assert(ev_loop_turn(b.loop, 0) >= 0);
    quiet(false);
    return 0;
}
