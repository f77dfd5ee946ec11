/*
 * store/dedup_log.c - a de-duplication exchange's window on disk.
 *
 * File DATA/dedup/<16 hex digits>.dedup, the digits an FNV-1a 64 hash of
 * vhost, a zero byte and the exchange name (names are up to 255 bytes
 * each, too long for a file name), which the header repeats so that a
 * file is never taken for another exchange's.  Big-endian throughout:
 *
 *   header   "WDEDUP01" (8 bytes), u8 vhost length, vhost, u8 name
 *            length, name, u32 CRC-32C of everything before it
 *   record   u32 payload length, u32 CRC-32C of the payload, payload:
 *            i64 expiry (wall clock ms since the epoch, 0 never), key
 *
 * A record that runs past the end of the file or fails its checksum ends
 * the replay; what follows is cut off (a torn tail after a crash; logged).
 * The window is a cache of what was seen: losing its tail means a
 * duplicate may pass once, never that a message is lost.  Records are
 * written with one write() each (so a kill -9 keeps them) and synced at
 * rewrite and close; the file is rewritten, through a temporary file and
 * a rename, when the records appended outnumber the live keys.
 */
#include "store/dedup_log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "store/crc32c.h"
#include "store/io.h"

#define MAGIC "WDEDUP01"
#define KEY_MAX 4096

struct dedup_log {
    int fd;
    char path[4400], dir[4300];
    uint8_t hdr[8 + 1 + 255 + 1 + 255 + 4];
    size_t hdrlen;
    uint64_t off;               /* end of the valid records */
    uint64_t records;           /* appended since open or the last rewrite */
};

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)(v >> 32));
    put32(p + 4, (uint32_t)v);
}

static uint64_t get64(const uint8_t *p)
{
    return (uint64_t)get32(p) << 32 | get32(p + 4);
}

static size_t make_header(uint8_t *h, amqp_str vhost, amqp_str name)
{
    size_t n = 0;
    memcpy(h, MAGIC, 8);
    n = 8;
    h[n++] = (uint8_t)vhost.len;
    memcpy(h + n, vhost.ptr, vhost.len);
    n += vhost.len;
    h[n++] = (uint8_t)name.len;
    memcpy(h + n, name.ptr, name.len);
    n += name.len;
    put32(h + n, crc32c(0, h, n));
    return n + 4;
}

/* One record into buf (room for 16 + klen); its length. */
static size_t make_record(uint8_t *buf, const uint8_t *key, size_t klen, int64_t expires)
{
    put64(buf + 8, (uint64_t)expires);
    memcpy(buf + 16, key, klen);
    put32(buf, (uint32_t)(8 + klen));
    put32(buf + 4, crc32c(0, buf + 8, 8 + klen));
    return 16 + klen;
}

/* Replay the records after the header; the offset where they end. */
static uint64_t replay(dedup_log *l, const uint8_t *data, size_t size, dedup_log_fn fn, void *arg)
{
    size_t pos = l->hdrlen;

    while (size - pos >= 8) {
        uint32_t len = get32(data + pos), crc = get32(data + pos + 4);
        if (len < 8 || len > 8 + KEY_MAX || len > size - pos - 8 || crc32c(0, data + pos + 8, len) != crc)
            break;
        fn(arg, data + pos + 16, len - 8, (int64_t)get64(data + pos + 8));
        pos += 8 + len;
    }
    if (pos != size)
        log_warn("dedup: %s: %zu bytes after offset %zu are torn or damaged; cut off (the window keeps "
                 "what came before)", l->path, size - pos, pos);
    return pos;
}

dedup_log *dedup_log_open(const char *dir, amqp_str vhost, amqp_str name, bool fresh, dedup_log_fn fn,
                          void *arg)
{
    dedup_log *l = calloc(1, sizeof *l);
    uint64_t h = 1469598103934665603ull;
    uint8_t *data = NULL;
    struct stat sb;
    size_t i;

    if (!l)
        return NULL;
    for (i = 0; i < vhost.len; i++)
        h = (h ^ (uint8_t)vhost.ptr[i]) * 1099511628211ull;
    h *= 1099511628211ull; /* the zero byte between */
    for (i = 0; i < name.len; i++)
        h = (h ^ (uint8_t)name.ptr[i]) * 1099511628211ull;
    snprintf(l->dir, sizeof l->dir, "%s/dedup", dir);
    snprintf(l->path, sizeof l->path, "%s/%016llx.dedup", l->dir, (unsigned long long)h);
    l->hdrlen = make_header(l->hdr, vhost, name);
    if (mkdir(l->dir, 0755) < 0 && errno != EEXIST)
        goto fail;
    if ((l->fd = open(l->path, O_RDWR | O_CREAT | O_CLOEXEC | (fresh ? O_TRUNC : 0), 0644)) < 0)
        goto fail;
    if (fstat(l->fd, &sb) < 0)
        goto fail_fd;
    if (sb.st_size > 0) {
        if (!(data = malloc((size_t)sb.st_size)) ||
            store_pread_full(l->fd, data, (size_t)sb.st_size, 0) != (ssize_t)sb.st_size)
            goto fail_fd;
        if ((size_t)sb.st_size < l->hdrlen || memcmp(data, l->hdr, l->hdrlen)) {
            log_error("dedup: %s is not the window of exchange '%.*s' in vhost '%.*s' (another's, or damaged); "
                      "the window is kept in memory only", l->path, (int)name.len, name.ptr, (int)vhost.len,
                      vhost.ptr);
            free(data);
            close(l->fd);
            free(l);
            return NULL;
        }
        l->off = replay(l, data, (size_t)sb.st_size, fn, arg);
        free(data);
        data = NULL;
        if (l->off != (uint64_t)sb.st_size && ftruncate(l->fd, (off_t)l->off) < 0)
            goto fail_fd;
    } else {
        if (store_pwrite_all(l->fd, l->hdr, l->hdrlen, 0) < 0 || fdatasync(l->fd) < 0)
            goto fail_fd;
        store_sync_dir(l->dir);
        l->off = l->hdrlen;
    }
    return l;
fail_fd:
    close(l->fd);
fail:
    log_error("dedup: cannot use %s (%s); the window of exchange '%.*s' is kept in memory only", l->path,
              strerror(errno), (int)name.len, name.ptr);
    free(data);
    free(l);
    return NULL;
}

int dedup_log_append(dedup_log *l, const uint8_t *key, size_t klen, int64_t expires)
{
    uint8_t buf[16 + KEY_MAX];
    size_t n;

    if (klen > KEY_MAX)
        return -1;
    n = make_record(buf, key, klen, expires);
    if (store_pwrite_all(l->fd, buf, n, l->off) < 0) {
        log_error("dedup: write to %s: %s", l->path, strerror(errno));
        return -1;
    }
    l->off += n;
    l->records++;
    return 0;
}

uint64_t dedup_log_records(const dedup_log *l)
{
    return l->records;
}

/* The rewrite's sink: records appended to a temporary file. */
typedef struct sink {
    int fd;
    uint64_t off;
    int err;
    uint64_t n;
} sink;

static int emit(void *arg, const uint8_t *key, size_t klen, int64_t expires)
{
    sink *s = arg;
    uint8_t buf[16 + KEY_MAX];
    size_t n;

    if (s->err || klen > KEY_MAX)
        return -1;
    n = make_record(buf, key, klen, expires);
    if (store_pwrite_all(s->fd, buf, n, s->off) < 0) {
        s->err = errno;
        return -1;
    }
    s->off += n;
    s->n++;
    return 0;
}

int dedup_log_rewrite(dedup_log *l, int (*each)(void *arg, dedup_log_fn fn, void *sink), void *arg)
{
    char tmp[4500];
    sink s = {-1, 0, 0, 0};

    snprintf(tmp, sizeof tmp, "%s.tmp", l->path);
    if ((s.fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) {
        s.err = errno;
        goto fail;
    }
    if (store_pwrite_all(s.fd, l->hdr, l->hdrlen, 0) < 0) {
        s.err = errno;
        goto fail;
    }
    s.off = l->hdrlen;
    if (each(arg, emit, &s) < 0 && !s.err)
        s.err = ENOMEM;
    if (s.err || fdatasync(s.fd) < 0 || rename(tmp, l->path) < 0) {
        if (!s.err)
            s.err = errno;
        goto fail;
    }
    store_sync_dir(l->dir);
    close(l->fd);
    l->fd = s.fd;
    l->off = s.off;
    l->records = 0;
    return 0;
fail:
    log_warn("dedup: rewrite of %s failed (%s); the old file stays", l->path, strerror(s.err));
    if (s.fd >= 0) {
        close(s.fd);
        unlink(tmp);
    }
    return -1;
}

void dedup_log_close(dedup_log *l, bool remove)
{
    if (!l)
        return;
    if (remove) {
        unlink(l->path);
        store_sync_dir(l->dir);
    } else if (fdatasync(l->fd) < 0) {
        log_warn("dedup: fdatasync of %s: %s", l->path, strerror(errno));
    }
    close(l->fd);
    free(l);
}
