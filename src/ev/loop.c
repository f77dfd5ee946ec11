/*
 * loop.c - see loop.h.
 *
 * Timers live in a binary min-heap keyed on their deadline; an armed timer
 * knows its heap slot so it can be moved or removed in O(log n).  Each turn:
 * before-sleep hook, epoll_wait (up to 256 events, timeout = next deadline),
 * dispatch, then expired timers.
 */
#include "ev/loop.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define MAX_EVENTS 256

struct ev_loop {
    int epfd;
    bool stop, spin;
    uint64_t now;
    uint64_t now_us;            /* the same instant, in microseconds */
    int64_t wall;
    ev_timer **heap;
    int nheap, capheap;
    ev_hook *before_sleep;
    void *before_sleep_data;
};

uint64_t ev_clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t ev_now_update(ev_loop *loop)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    loop->wall = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    loop->now_us = ev_clock_ns() / 1000u;
    return loop->now = loop->now_us / 1000u;
}

uint64_t ev_now_us(const ev_loop *loop)
{
    return loop->now_us;
}

int64_t ev_wall_ms(const ev_loop *loop)
{
    return loop->wall;
}

uint64_t ev_now(const ev_loop *loop)
{
    return loop->now;
}

ev_loop *ev_loop_new(void)
{
    ev_loop *loop = calloc(1, sizeof *loop);
    if (!loop)
        return NULL;
    loop->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (loop->epfd < 0) {
        free(loop);
        return NULL;
    }
    ev_now_update(loop);
    return loop;
}

void ev_loop_free(ev_loop *loop)
{
    if (!loop)
        return;
    close(loop->epfd);
    free(loop->heap);
    free(loop);
}

void ev_loop_stop(ev_loop *loop)
{
    loop->stop = true;
}

void ev_loop_spin(ev_loop *loop)
{
    loop->spin = true;
}

void ev_loop_before_sleep(ev_loop *loop, ev_hook *hook, void *data)
{
    loop->before_sleep = hook;
    loop->before_sleep_data = data;
}

int ev_io_start(ev_loop *loop, ev_io *io, int fd, uint32_t events, ev_io_cb *cb)
{
    struct epoll_event ev = {.events = events, .data.ptr = io};
    io->fd = fd;
    io->cb = cb;
    io->events = events;
    return epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev);
}

int ev_io_set(ev_loop *loop, ev_io *io, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.ptr = io};
    if (io->events == events)
        return 0;
    io->events = events;
    return epoll_ctl(loop->epfd, EPOLL_CTL_MOD, io->fd, &ev);
}

void ev_io_stop(ev_loop *loop, ev_io *io)
{
    if (io->fd >= 0)
        epoll_ctl(loop->epfd, EPOLL_CTL_DEL, io->fd, NULL);
}

/* --- timer heap --- */

static void heap_swap(ev_loop *loop, int a, int b)
{
    ev_timer *t = loop->heap[a];
    loop->heap[a] = loop->heap[b];
    loop->heap[b] = t;
    loop->heap[a]->heap_index = a;
    loop->heap[b]->heap_index = b;
}

static void heap_up(ev_loop *loop, int i)
{
    while (i > 0) {
        int parent = (i - 1) / 2;
        if (loop->heap[parent]->when <= loop->heap[i]->when)
            break;
        heap_swap(loop, i, parent);
        i = parent;
    }
}

static void heap_down(ev_loop *loop, int i)
{
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < loop->nheap && loop->heap[l]->when < loop->heap[m]->when)
            m = l;
        if (r < loop->nheap && loop->heap[r]->when < loop->heap[m]->when)
            m = r;
        if (m == i)
            break;
        heap_swap(loop, i, m);
        i = m;
    }
}

void ev_timer_init(ev_timer *t, ev_timer_cb *cb)
{
    t->when = 0;
    t->heap_index = -1;
    t->cb = cb;
}

void ev_timer_stop(ev_loop *loop, ev_timer *t)
{
    int i = t->heap_index;
    if (i < 0)
        return;
    loop->nheap--;
    if (i != loop->nheap) {
        loop->heap[i] = loop->heap[loop->nheap];
        loop->heap[i]->heap_index = i;
        heap_down(loop, i);
        heap_up(loop, i);
    }
    t->heap_index = -1;
}

void ev_timer_start(ev_loop *loop, ev_timer *t, uint64_t ms)
{
    ev_timer_stop(loop, t);
    if (loop->nheap == loop->capheap) {
        int cap = loop->capheap ? loop->capheap * 2 : 64;
        ev_timer **h = realloc(loop->heap, (size_t)cap * sizeof *h);
        if (!h)
            abort(); /* a timer we cannot arm would silently stall the broker */
        loop->heap = h;
        loop->capheap = cap;
    }
    t->when = ev_clock_ns() / 1000000u + ms;
    t->heap_index = loop->nheap;
    loop->heap[loop->nheap++] = t;
    heap_up(loop, t->heap_index);
}

static void run_timers(ev_loop *loop)
{
    while (loop->nheap > 0 && loop->heap[0]->when <= loop->now) {
        ev_timer *t = loop->heap[0];
        ev_timer_stop(loop, t);
        t->cb(loop, t);
    }
}

/* One turn: before-sleep hook, epoll_wait (at most max_ms when max_ms >= 0),
 * the ready callbacks, the due timers. */
int ev_loop_turn(ev_loop *loop, int max_ms)
{
    struct epoll_event events[MAX_EVENTS];
    int n, i, timeout = -1;

    loop->spin = false;
    if (loop->before_sleep)
        loop->before_sleep(loop, loop->before_sleep_data);
    if (loop->stop)
        return 1;
    ev_now_update(loop);
    if (loop->spin)
        timeout = 0;
    else if (loop->nheap > 0)
        timeout = loop->heap[0]->when <= loop->now ? 0 : (int)(loop->heap[0]->when - loop->now);
    if (max_ms >= 0 && (timeout < 0 || timeout > max_ms))
        timeout = max_ms;
    n = epoll_wait(loop->epfd, events, MAX_EVENTS, timeout);
    if (n < 0)
        return errno == EINTR ? 0 : -1;
    ev_now_update(loop);
    for (i = 0; i < n; i++) {
        ev_io *io = events[i].data.ptr;
        io->cb(loop, io, events[i].events);
    }
    run_timers(loop);
    return 0;
}

int ev_loop_run(ev_loop *loop)
{
    while (!loop->stop) {
        int rc = ev_loop_turn(loop, -1);
        if (rc < 0)
            return -1;
        if (rc > 0)
            break;
    }
    return 0;
}
