/*
 * ring.h - one ring buffer type: a growable deque of T in a power-of-two
 * array, head and length counted in slots.
 *
 * RING_DEFINE(name, T) defines the struct `name` and its functions as
 * static inline code typed for T, so the hot paths (a queue's ready
 * messages, a channel's unacked messages and pending confirms) compile to
 * the same index arithmetic as a hand-written ring: no void pointers, no
 * element size at run time, no call.  A zeroed struct is an empty ring.
 *
 *   int  name_push(r, const T *e)          append at the tail; -1 if out of memory
 *   T   *name_at(r, i)                     the i-th from the head (i < len)
 *   bool name_pop(r, T *out)               take the head; false if empty
 *   void name_drop_front(r, n)             forget n from the head (n <= len)
 *   int  name_insert_sorted(r, e, cmp)     insert before the first >= e, moving
 *                                          the shorter side; -1 if out of memory
 *   int  name_resize(r, cap)               cap: a power of two >= len; -1 if out of memory
 *   void name_shrink(r)                    halve a big ring that is mostly empty
 *   void name_free(r)                      give the memory back; r is empty
 *
 * Growth doubles from 16 slots; name_resize, the only code that copies
 * or allocates, stays out of line (cold), so the inlined paths stay small.
 * When the ring empties the head goes back to slot 0.  Giving memory back is the owner's policy: it calls
 * name_shrink or name_free where that suits it.
 */
#ifndef WARREN_RING_H
#define WARREN_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

#define RING_MIN_CAP 16
#define RING_SHRINK_CAP 4096    /* name_shrink leaves rings below this alone */

#define RING_DEFINE(name, T)                                                    \
    typedef struct name {                                                       \
        T *v;                                                                   \
        size_t head, len, cap;                                                  \
    } name;                                                                     \
                                                                                \
    static inline T *name##_at(name *r, size_t i)                               \
    {                                                                           \
        return &r->v[(r->head + i) & (r->cap - 1)];                             \
    }                                                                           \
                                                                                \
    __attribute__((cold, noinline, unused))                                     \
    static int name##_resize(name *r, size_t cap)                               \
    {                                                                           \
        size_t i;                                                               \
        T *v = malloc(cap * sizeof *v);                                         \
        if (!v)                                                                 \
            return -1;                                                          \
        for (i = 0; i < r->len; i++)                                            \
            v[i] = *name##_at(r, i);                                            \
        free(r->v);                                                             \
        r->v = v;                                                               \
        r->cap = cap;                                                           \
        r->head = 0;                                                            \
        return 0;                                                               \
    }                                                                           \
                                                                                \
    static inline int name##_push(name *r, const T *e)                          \
    {                                                                           \
        if (r->len == r->cap && name##_resize(r, r->cap ? r->cap * 2 : RING_MIN_CAP) < 0) \
            return -1;                                                          \
        r->v[(r->head + r->len) & (r->cap - 1)] = *e;                           \
        r->len++;                                                               \
        return 0;                                                               \
    }                                                                           \
                                                                                \
    static inline void name##_drop_front(name *r, size_t n)                     \
    {                                                                           \
        r->head = (r->head + n) & (r->cap - 1);                                 \
        r->len -= n;                                                            \
        if (r->len == 0)                                                        \
            r->head = 0;                                                        \
    }                                                                           \
                                                                                \
    static inline bool name##_pop(name *r, T *out)                              \
    {                                                                           \
        if (!r->len)                                                            \
            return false;                                                       \
        *out = r->v[r->head];                                                   \
        name##_drop_front(r, 1);                                                \
        return true;                                                            \
    }                                                                           \
                                                                                \
    static inline int name##_insert_sorted(name *r, const T *e,                 \
                                           int (*cmp)(const T *, const T *))    \
    {                                                                           \
        size_t lo = 0, hi = r->len, i;                                          \
        if (r->len == r->cap && name##_resize(r, r->cap ? r->cap * 2 : RING_MIN_CAP) < 0) \
            return -1;                                                          \
        while (lo < hi) {                                                       \
            size_t mid = (lo + hi) / 2;                                         \
            if (cmp(name##_at(r, mid), e) < 0)                                  \
                lo = mid + 1;                                                   \
            else                                                                \
                hi = mid;                                                       \
        }                                                                       \
        if (lo <= r->len / 2) {                                                 \
            /* shift the front part one slot towards the head */               \
            r->head = (r->head - 1) & (r->cap - 1);                             \
            for (i = 0; i < lo; i++)                                            \
                *name##_at(r, i) = *name##_at(r, i + 1);                        \
        } else {                                                                \
            for (i = r->len; i > lo; i--)                                       \
                *name##_at(r, i) = *name##_at(r, i - 1);                        \
        }                                                                       \
        r->len++;                                                               \
        *name##_at(r, lo) = *e;                                                 \
        return 0;                                                               \
    }                                                                           \
                                                                                \
    /* Take out the element at i, closing the gap from the nearer end. */     \
    static inline void name##_remove_at(name *r, size_t i)                      \
    {                                                                           \
        size_t j;                                                               \
        if (i < r->len / 2) {                                                   \
            for (j = i; j > 0; j--)                                             \
                *name##_at(r, j) = *name##_at(r, j - 1);                        \
            name##_drop_front(r, 1);                                            \
        } else {                                                                \
            for (j = i; j + 1 < r->len; j++)                                    \
                *name##_at(r, j) = *name##_at(r, j + 1);                        \
            r->len--;                                                           \
            if (r->len == 0)                                                    \
                r->head = 0;                                                    \
        }                                                                       \
    }                                                                           \
                                                                                \
    static inline void name##_shrink(name *r)                                   \
    {                                                                           \
        if (r->cap >= RING_SHRINK_CAP && r->len < r->cap / 8)                   \
            name##_resize(r, r->cap / 2); /* on failure it keeps its memory */  \
    }                                                                           \
                                                                                \
    static inline void name##_free(name *r)                                     \
    {                                                                           \
        free(r->v);                                                             \
        r->v = NULL;                                                            \
        r->head = r->len = r->cap = 0;                                          \
    }

#endif
