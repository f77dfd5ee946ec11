/*
 * buf.c - see buf.h.
 */
#include "ev/buf.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#define CACHE_MAX 256
#define IOV_BATCH 64

static obuf_chunk *cache;
static int ncache;

static obuf_chunk *chunk_new(size_t n)
{
    obuf_chunk *c;
    if (n <= OBUF_CHUNK && cache) {
        c = cache;
        cache = c->next;
        ncache--;
    } else {
        size_t cap = n < OBUF_CHUNK ? OBUF_CHUNK : n;
        if (!(c = malloc(sizeof *c + cap)))
            return NULL;
        c->cap = (uint32_t)cap;
    }
    c->next = NULL;
    c->start = c->end = 0;
    return c;
}

static void chunk_free(obuf_chunk *c)
{
    if (c->cap == OBUF_CHUNK && ncache < CACHE_MAX) {
        c->next = cache;
        cache = c;
        ncache++;
    } else {
        free(c);
    }
}

void obuf_release_cache(void)
{
    while (cache) {
        obuf_chunk *c = cache;
        cache = c->next;
        free(c);
    }
    ncache = 0;
}

uint8_t *obuf_reserve(obuf *b, size_t n)
{
    obuf_chunk *t = b->tail;
    if (n > UINT32_MAX / 2)
        return NULL;
    if (!t || t->cap - t->end < n) {
        obuf_chunk *c = chunk_new(n);
        if (!c)
            return NULL;
        if (t)
            t->next = c;
        else
            b->head = c;
        b->tail = t = c;
    }
    return t->data + t->end;
}

void obuf_commit(obuf *b, size_t n)
{
    b->tail->end += (uint32_t)n;
    b->bytes += n;
}

int obuf_append(obuf *b, const void *p, size_t n)
{
    uint8_t *q = obuf_reserve(b, n);
    if (!q)
        return -1;
    memcpy(q, p, n);
    obuf_commit(b, n);
    return 0;
}

ssize_t obuf_flush(obuf *b, int fd)
{
    ssize_t total = 0;

    while (b->head) {
        struct iovec iov[IOV_BATCH];
        int n = 0;
        ssize_t w;
        obuf_chunk *c;

        for (c = b->head; c && n < IOV_BATCH; c = c->next) {
            if (c->end == c->start)
                continue;
            iov[n].iov_base = c->data + c->start;
            iov[n].iov_len = c->end - c->start;
            n++;
        }
        if (n == 0) {
            obuf_clear(b);
            break;
        }
        w = writev(fd, iov, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return total;
            return -1;
        }
        total += w;
        b->bytes -= (size_t)w;
        while (w > 0 && b->head) {
            c = b->head;
            size_t avail = c->end - c->start;
            if ((size_t)w < avail) {
                c->start += (uint32_t)w;
                w = 0;
                break;
            }
            w -= (ssize_t)avail;
            b->head = c->next;
            if (!b->head)
                b->tail = NULL;
            chunk_free(c);
        }
        /* drop fully written empty chunks at the head */
        while (b->head && b->head->start == b->head->end && b->head != b->tail) {
            c = b->head;
            b->head = c->next;
            chunk_free(c);
        }
        if (b->head && b->head == b->tail && b->head->start == b->head->end) {
            chunk_free(b->head);
            b->head = b->tail = NULL;
        }
    }
    return total;
}

ssize_t obuf_flush_with(obuf *b, obuf_writer *wr, void *ctx)
{
    ssize_t total = 0;

    while (b->head) {
        obuf_chunk *c = b->head;
        ssize_t w;
        if (c->end == c->start) {
            if (c == b->tail) {
                obuf_clear(b);
                break;
            }
            b->head = c->next;
            chunk_free(c);
            continue;
        }
        w = wr(ctx, c->data + c->start, c->end - c->start);
        if (w < 0)
            return -1;
        if (w == 0)
            break;
        total += w;
        b->bytes -= (size_t)w;
        c->start += (uint32_t)w;
        if (c->start == c->end) {
            b->head = c->next;
            if (!b->head)
                b->tail = NULL;
            chunk_free(c);
        }
    }
    return total;
}

void obuf_clear(obuf *b)
{
    while (b->head) {
        obuf_chunk *c = b->head;
        b->head = c->next;
        chunk_free(c);
    }
    b->tail = NULL;
    b->bytes = 0;
}
