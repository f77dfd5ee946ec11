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
/* The same through a writer of one contiguous piece (a TLS session):
 * it returns how many bytes it took, 0 when it would block, -1 on error
 * (errno set).  Returns as obuf_flush. */
typedef ssize_t obuf_writer(void *ctx, const void *p, size_t n);
ssize_t obuf_flush_with(obuf *b, obuf_writer *w, void *ctx);
void obuf_clear(obuf *b);
/* Return cached free chunks to malloc (at shutdown). */
void obuf_release_cache(void);

#endif
