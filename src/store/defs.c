/*
 * defs.c - the definitions log; see defs.h.
 *
 * Damage is judged as in the message segments: a bad record is a torn
 * tail (a declaration cut short by a crash, never confirmed) only when no
 * valid checksummed record follows it; otherwise it is corruption and
 * start-up stops, naming the file and the offset.  A failed append is cut
 * off again at once, so the file always ends with a whole record and the
 * next declaration is not written behind half of one.
 */
#include "store/defs.h"

#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "amqp/wire.h"
#include "log.h"
#include "store/crc32c.h"
#include "store/io.h"
#include "store/segment.h"

#define DEFS_MAGIC "WDEF"

struct defs {
    char path[4096];
    char dir[4096];
    int fd;
    uint64_t size;              /* the end of the last whole record */
};

static int write_all(int fd, const void *p, size_t n)
{
    const uint8_t *q = p;
    while (n > 0) {
        ssize_t w = write(fd, q, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        q += w;
        n -= (size_t)w;
    }
    return 0;
}

static int read_file(int fd, uint8_t **out, size_t *n)
{
    struct stat st;
    uint8_t *buf;
    size_t got = 0;

    if (fstat(fd, &st) < 0)
        return -1;
    buf = malloc((size_t)st.st_size + 1);
    if (!buf)
        return -1;
    while (got < (size_t)st.st_size) {
        ssize_t r = pread(fd, buf + got, (size_t)st.st_size - got, (off_t)got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            free(buf);
            return -1;
        }
        got += (size_t)r;
    }
    *out = buf;
    *n = got;
    return 0;
}

int defs_open(defs **out, const char *dir, defs_replay_fn *fn, void *ctx)
{
    defs *d = calloc(1, sizeof *d);
    uint8_t *buf = NULL;
    size_t n = 0, off;
    uint32_t version, id;

    if (!d)
        return -1;
    snprintf(d->dir, sizeof d->dir, "%s", dir);
    snprintf(d->path, sizeof d->path, "%s/definitions", dir);
    d->fd = open(d->path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (d->fd < 0) {
        log_error("store: cannot open %s: %s", d->path, strerror(errno));
        free(d);
        return -1;
    }
    if (read_file(d->fd, &buf, &n) < 0) {
        log_error("store: cannot read %s: %s", d->path, strerror(errno));
        goto fail;
    }
    if (n == 0) {
        uint8_t h[SEG_HEADER];
        seg_header_write(h, DEFS_MAGIC, 0, 0);
        if (write_all(d->fd, h, sizeof h) < 0 || fdatasync(d->fd) < 0 || store_sync_dir(dir) < 0) {
            log_error("store: cannot initialise %s: %s", d->path, strerror(errno));
            goto fail;
        }
        free(buf);
        d->size = SEG_HEADER;
        *out = d;
        return 0;
    }
    switch (seg_header_check(buf, n, DEFS_MAGIC, &version, &id)) {
    case -1:
        log_error("store: %s is not a warren definitions file", d->path);
        goto fail;
    case -2:
        log_error("store: %s has format version %u; this warren understands version %u", d->path, version,
                  SEG_VERSION);
        goto fail;
    }
    for (off = SEG_HEADER; off < n;) {
        uint32_t len = n - off >= REC_HEADER ? amqp_get32(buf + off) : 0;
        const char *why = NULL;
        if (n - off < REC_HEADER)
            why = "record header cut short";
        else if (len == 0 || len > REC_MAX)
            why = "impossible record length";
        else if (len > n - off - REC_HEADER)
            why = "record runs past the end of the file";
        else if (crc32c(0, buf + off + REC_HEADER, len) != amqp_get32(buf + off + 4))
            why = "checksum mismatch";
        if (why) {
            long next = seg_find_checksummed(buf + off + 1, n - off - 1);
            if (next < 0) {
                log_warn("store: %s: dropping a torn last record at offset %zu (%s, %zu bytes; never confirmed)",
                         d->path, off, why, n - off);
                if (ftruncate(d->fd, (off_t)off) < 0) {
                    log_error("store: cannot truncate %s: %s", d->path, strerror(errno));
                    goto fail;
                }
                n = off;
                break;
            }
            log_error("store: %s: corrupt record at offset %zu (%s; a valid record follows at offset %zu, so it "
                      "is not a torn write); refusing to start. Run `warren-check-store %s` to inspect, "
                      "`--repair` to cut it out",
                      d->path, off, why, off + 1 + (size_t)next, dir);
            goto fail;
        }
        if (fn(ctx, buf + off + REC_HEADER, len) < 0) {
            log_error("store: %s: bad definition at offset %zu", d->path, off);
            goto fail;
        }
        off += REC_HEADER + len;
    }
    d->size = n;
    free(buf);
    *out = d;
    return 0;
fail:
    free(buf);
    close(d->fd);
    free(d);
    return -1;
}

static int put_record(uint8_t **buf, size_t *len, size_t *cap, const uint8_t *payload, uint32_t n)
{
    if (*cap - *len < n + REC_HEADER) {
        size_t c = (*cap ? *cap * 2 : 4096) + n + REC_HEADER;
        uint8_t *b = realloc(*buf, c);
        if (!b)
            return -1;
        *buf = b;
        *cap = c;
    }
    amqp_put32(*buf + *len, n);
    amqp_put32(*buf + *len + 4, crc32c(0, payload, n));
    memcpy(*buf + *len + REC_HEADER, payload, n);
    *len += REC_HEADER + n;
    return 0;
}

int defs_append(defs *d, const uint8_t *payload, size_t len)
{
    uint8_t *buf = NULL;
    size_t n = 0, cap = 0;
    int rc = -1;

    if (put_record(&buf, &n, &cap, payload, (uint32_t)len) < 0) {
        log_error("store: out of memory writing %s", d->path);
        return -1;
    }
    /* always at the end of the last whole record, never behind a part */
    if (store_pwrite_all(d->fd, buf, n, d->size) == 0 && fdatasync(d->fd) == 0) {
        d->size += n;
        rc = 0;
    } else {
        log_error("store: cannot write %s: %s", d->path, strerror(errno));
        /* cut off what part of it did get written (a full disk writes
         * some, then fails): the file must end with a whole record */
        if (ftruncate(d->fd, (off_t)d->size) < 0)
            log_error("store: cannot truncate %s back to %" PRIu64 " bytes: %s", d->path, d->size,
                      strerror(errno));
    }
    free(buf);
    return rc;
}

int defs_rewrite(defs *d, defs_next_fn *next, void *ctx)
{
    char tmp[4200];
    uint8_t *buf = NULL;
    size_t n = SEG_HEADER, cap = 4096;
    const uint8_t *p;
    uint32_t len;
    int fd;

    if (!(buf = malloc(cap)))
        return -1;
    seg_header_write(buf, DEFS_MAGIC, 0, 0);
    while (next(ctx, &p, &len)) {
        if (put_record(&buf, &n, &cap, p, len) < 0) {
            free(buf);
            return -1;
        }
    }
    snprintf(tmp, sizeof tmp, "%s.tmp", d->path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || write_all(fd, buf, n) < 0 || fdatasync(fd) < 0 || rename(tmp, d->path) < 0) {
        /* the old file is whole and stays in use */
        log_warn("store: cannot rewrite %s: %s", d->path, strerror(errno));
        if (fd >= 0)
            close(fd);
        unlink(tmp);
        free(buf);
        return -1;
    }
    free(buf);
    /* renamed: from now on the new file is the one (appending to the old,
     * unlinked one would lose what is appended) */
    close(d->fd);
    d->fd = fd;
    d->size = n;
    if (store_sync_dir(d->dir) < 0) {
        log_warn("store: cannot sync %s after rewriting %s: %s", d->dir, d->path, strerror(errno));
        return -1;
    }
    return 0;
}

void defs_close(defs *d)
{
    if (!d)
        return;
    close(d->fd);
    free(d);
}
