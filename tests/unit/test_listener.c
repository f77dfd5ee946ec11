/*
 * test_listener.c - listener.c: bind, then listen, then each accepted
 * socket goes to its own set's callback with that set's user pointer (two
 * sets here, as the AMQP port and the HTTP API's will be).  Real sockets on
 * 127.0.0.1, ports chosen by the kernel (port 0 asks for one).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <unistd.h>

#include "listener.h"
#include "log.h"

struct seen {
    int accepted;
    void *user;                 /* the pointer the callback was given */
    struct sockaddr_in peer;
};

static struct seen *all_seen[2];
static ev_loop *test_loop;

static void on_accept(void *user, int fd, const struct sockaddr *peer, socklen_t peerlen)
{
    struct seen *s = user;
    s->accepted++;
    s->user = user;
    if (peerlen >= sizeof s->peer)
        memcpy(&s->peer, peer, sizeof s->peer);
    close(fd);
    if (all_seen[0]->accepted && all_seen[1]->accepted)
        ev_loop_stop(test_loop);
}

/* Guard only: the loop stops after a few seconds even if nothing came. */
static void on_guard(ev_loop *loop, ev_timer *t)
{
    (void)t;
    ev_loop_stop(loop);
}

static int bound_port(const listener *l)
{
    struct sockaddr_in sin;
    socklen_t sl = sizeof sin;
    assert_int_equal(getsockname(l->io.fd, (struct sockaddr *)&sin, &sl), 0);
    return ntohs(sin.sin_port);
}

/* A non-blocking connect's outcome is not known at once: a blocking one is. */
static int connect_to(int port)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
    if (connect(fd, (struct sockaddr *)&sin, sizeof sin) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

static void test_two_sets_each_with_its_callback(void **state)
{
    listener_set amqp, http;
    struct seen a = {0}, h = {0};
    ev_timer guard;
    int fa, fh, pa, ph;
    (void)state;

    log_level = LOG_ERROR;
    test_loop = ev_loop_new();
    assert_non_null(test_loop);
    all_seen[0] = &a;
    all_seen[1] = &h;
    listeners_init(&amqp, 0, on_accept, &a);
    listeners_init(&http, 0, on_accept, &h);
    assert_int_equal(listeners_bind(&amqp, "127.0.0.1", true), 0);
    assert_int_equal(listeners_bind(&http, "127.0.0.1", true), 0);
    assert_int_equal(amqp.n, 1);
    assert_string_equal(amqp.l[0].name, "127.0.0.1");
    pa = bound_port(&amqp.l[0]);
    ph = bound_port(&http.l[0]);
    assert_int_not_equal(pa, ph);

    /* bound but not listening: a client is refused, not queued */
    assert_int_equal(connect_to(pa), -1);
    assert_int_equal(errno, ECONNREFUSED);

    assert_int_equal(listeners_listen(&amqp, test_loop), 0);
    assert_int_equal(listeners_listen(&http, test_loop), 0);
    assert_true(amqp.l[0].listening);
    fa = connect_to(pa);
    fh = connect_to(ph);
    assert_true(fa >= 0 && fh >= 0);
    ev_timer_init(&guard, on_guard);
    ev_timer_start(test_loop, &guard, 5000);
    assert_int_equal(ev_loop_run(test_loop), 0);
    ev_timer_stop(test_loop, &guard);

    assert_int_equal(a.accepted, 1);
    assert_int_equal(h.accepted, 1);
    assert_ptr_equal(a.user, &a);
    assert_ptr_equal(h.user, &h);
    assert_int_equal(a.peer.sin_family, AF_INET);
    assert_int_equal(a.peer.sin_addr.s_addr, htonl(INADDR_LOOPBACK));
    close(fa);
    close(fh);

    listeners_close(&amqp, test_loop);
    listeners_close(&http, test_loop);
    assert_int_equal(amqp.n, 0);
    assert_int_equal(connect_to(pa), -1);
    ev_loop_free(test_loop);
}

/* A port in use is refused at bind time; "[::1]" is the IPv6 loopback. */
static void test_bind_errors_and_forms(void **state)
{
    listener_set first, second, v6;
    struct seen s = {0};
    int port;
    (void)state;

    log_level = LOG_ERROR;      /* (the expected refusals are logged all the same) */
    listeners_init(&first, 0, on_accept, &s);
    assert_int_equal(listeners_bind(&first, "127.0.0.1", true), 0);
    port = bound_port(&first.l[0]);
    test_loop = ev_loop_new();
    assert_int_equal(listeners_listen(&first, test_loop), 0);
    listeners_init(&second, port, on_accept, &s);
    assert_int_equal(listeners_bind(&second, "127.0.0.1", true), -1);
    assert_int_equal(second.n, 0);
    assert_int_equal(listeners_bind(&second, "no-such-host.invalid", false), -1);
    assert_int_equal(second.n, 0);

    listeners_init(&v6, 0, on_accept, &s);
    if (listeners_bind(&v6, "[::1]", false) == 0) {     /* a host without IPv6 may refuse */
        assert_int_equal(v6.n, 1);
        assert_string_equal(v6.l[0].name, "[::1]");
    }
    listeners_close(&v6, test_loop);
    listeners_close(&first, test_loop);
    ev_loop_free(test_loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_sets_each_with_its_callback),
        cmocka_unit_test(test_bind_errors_and_forms),
    };
    return cmocka_run_group_tests_name("listener", tests, NULL, NULL);
}
