/*
 * buf.h - output buffers: a chain of chunks written with writev.
 *
 * Replies and deliveries are appended to a connection's obuf during the
 * turn and written in one writev per connection before the loop sleeps.
 * Chunks come from a small free list, so a busy connection does not hit
 * malloc per turn, and an idle connection holds no chunk at all.
 */
#ifndef WARREN_EV_BUF_H
#define WARREN_EV_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define OBUF_CHUNK 16384

typedef struct obuf_chunk {
    struct obuf_chunk *next;
    uint32_t start, end, cap;
    uint8_t data[];
} obuf_chunk;

typedef struct obuf {
    obuf_chunk *head, *tail;
    size_t bytes;   /* queued, not yet written */
} obuf;

/* Room for n contiguous bytes at the end; NULL only if out of memory.  The
 * caller writes at most n bytes there and then calls obuf_commit. */
uint8_t *obuf_reserve(obuf *b, size_t n);
void obuf_commit(obuf *b, size_t n);
int obuf_append(obuf *b, const void *p, size_t n);
/* Write as much as the socket takes.  Returns bytes written (0 if it would
 * block) or -1 with errno set on a socket error. */
ssize_t obuf_flush(obuf *b, int fd);
void obuf_clear(obuf *b);
/* Return cached free chunks to malloc (at shutdown). */
void obuf_release_cache(void);

#endif
