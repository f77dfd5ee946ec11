/*
 * loop.h - the event loop: epoll, timers and a before-sleep hook.
 *
 * In the spirit of Redis's ae: one thread, many events per wake-up, and a
 * before-sleep hook where the broker does its batched work (write the store
 * log, flush every connection's output with writev) before epoll_wait.
 * Handles are embedded in their owners (no per-fd allocation), and the
 * epoll data pointer is the handle itself.
 */
#ifndef WARREN_EV_LOOP_H
#define WARREN_EV_LOOP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>

typedef struct ev_loop ev_loop;
typedef struct ev_io ev_io;
typedef struct ev_timer ev_timer;

/* Called with the epoll events that fired (EPOLLIN, EPOLLOUT, EPOLLERR...). */
typedef void ev_io_cb(ev_loop *loop, ev_io *io, uint32_t events);
typedef void ev_timer_cb(ev_loop *loop, ev_timer *t);
typedef void ev_hook(ev_loop *loop, void *data);

struct ev_io {
    int fd;
    uint32_t events;  /* what epoll watches now */
    ev_io_cb *cb;
};

struct ev_timer {
    uint64_t when;    /* loop time in ms */
    int heap_index;   /* -1 when not scheduled */
    ev_timer_cb *cb;
};

ev_loop *ev_loop_new(void);
void ev_loop_free(ev_loop *loop);
/* Run until ev_loop_stop(); returns 0, or -1 if epoll failed. */
int ev_loop_run(ev_loop *loop);
/* One turn of ev_loop_run, sleeping at most max_ms (-1: until an event or
 * timer): 0, 1 when stopped, -1 if epoll failed.  For in-process drivers
 * (tests/fuzz/fuzz_http_request.c). */
int ev_loop_turn(ev_loop *loop, int max_ms);
void ev_loop_stop(ev_loop *loop);
/* Monotonic milliseconds, refreshed on each wake-up. */
uint64_t ev_now(const ev_loop *loop);
uint64_t ev_now_update(ev_loop *loop);
/* ev_now in microseconds (when the loop woke up: a latency measured from
 * it includes the turn's work before the event). */
uint64_t ev_now_us(const ev_loop *loop);
/* Wall clock milliseconds since the epoch, refreshed with ev_now. */
int64_t ev_wall_ms(const ev_loop *loop);
/* Monotonic nanoseconds, read from the clock (not cached). */
uint64_t ev_clock_ns(void);

/* The hook runs before every epoll_wait.  It may ask for another turn without
 * sleeping (work left over) with ev_loop_spin(). */
void ev_loop_before_sleep(ev_loop *loop, ev_hook *hook, void *data);
void ev_loop_spin(ev_loop *loop);

/* Watch an fd: events are EPOLLIN / EPOLLOUT (level-triggered). */
int ev_io_start(ev_loop *loop, ev_io *io, int fd, uint32_t events, ev_io_cb *cb);
int ev_io_set(ev_loop *loop, ev_io *io, uint32_t events);
void ev_io_stop(ev_loop *loop, ev_io *io);

void ev_timer_init(ev_timer *t, ev_timer_cb *cb);
/* (Re)arm to fire after `ms` milliseconds. */
void ev_timer_start(ev_loop *loop, ev_timer *t, uint64_t ms);
void ev_timer_stop(ev_loop *loop, ev_timer *t);
static inline bool ev_timer_active(const ev_timer *t) { return t->heap_index >= 0; }

#endif
