/*
 * defs.c - the definitions log; see defs.h.
 *
 * Damage is judged as in the message segments: a bad record is a torn
 * tail (a declaration cut short by a crash, never confirmed) only when no
 * valid checksummed record follows it; otherwise it is corruption and
 * start-up stops, naming the file and the offset.  A failed append is cut
 * off again at once, so the file always ends with a whole record and the
 * next declaration is not written behind half of one.
 *
 * The records' payloads are encoded and decoded here too (defs_encode,
 * defs_decode), so the rest of the store deals in store_*_def structs and
 * never in bytes.
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

#include "amqp/table.h"
#include "amqp/wire.h"
#include "log.h"
#include "store/crc32c.h"
#include "store/io.h"
#include "store/segment.h"

#define DEFS_MAGIC "WDEF"

/* ------------------------------------------------------------ the records */

static size_t str_size(amqp_str s, bool *bad)
{
    if (s.len > 255)
        *bad = true;
    return 1u + s.len;
}

static bool kind_in_vhost(uint8_t kind)
{
    return kind == DEF_QUEUE || kind == DEF_EXCHANGE || kind == DEF_EXCHANGE_GONE || kind == DEF_BIND ||
           kind == DEF_UNBIND;
}

static size_t plain_size(const store_def *d);

size_t defs_encoded_size(const store_def *d)
{
    size_t n = plain_size(d);

    if (n == 0 || d->vhost.len == 0 || !kind_in_vhost(d->kind))
        return n;
    if (d->vhost.len > 255)
        return 0;
    return 1 + 1 + d->vhost.len + n;
}

static size_t plain_size(const store_def *d)
{
    bool bad = false;
    size_t n;

    switch (d->kind) {
    case DEF_QUEUE:
        n = 1 + 4 + str_size(d->queue.name, &bad) + 1 + 4 + d->queue.arguments.len;
        break;
    case DEF_QUEUE_GONE:
    case DEF_NEXT_QID:
        n = 5;
        break;
    case DEF_QUEUE_PURGED:
        n = 1 + 4 + 8 + 4 + (size_t)d->purge.nalso * 8;
        break;
    case DEF_EXCHANGE:
        n = 1 + str_size(d->exchange.name, &bad) + str_size(d->exchange.type, &bad) + 1 + 4 +
            d->exchange.arguments.len;
        break;
    case DEF_EXCHANGE_GONE:
        n = 1 + str_size(d->name, &bad);
        break;
    case DEF_BIND:
    case DEF_UNBIND:
        n = 1 + str_size(d->binding.source, &bad) + 1 + str_size(d->binding.destination, &bad) +
            str_size(d->binding.routing_key, &bad) + 4 + d->binding.arguments.len;
        break;
    case DEF_USER:
        n = 1 + str_size(d->user.name, &bad) + 1 + str_size(d->user.hash, &bad) + str_size(d->user.tags, &bad);
        break;
    case DEF_USER_GONE:
        n = 1 + str_size(d->user.name, &bad);
        break;
    case DEF_PERMISSION:
        n = 1 + str_size(d->perm.user, &bad) + str_size(d->perm.vhost, &bad) + str_size(d->perm.configure, &bad) +
            str_size(d->perm.write, &bad) + str_size(d->perm.read, &bad);
        break;
    case DEF_PERMISSION_GONE:
        n = 1 + str_size(d->perm.user, &bad) + str_size(d->perm.vhost, &bad);
        break;
    case DEF_VHOST:
    case DEF_VHOST_GONE:
        n = 1 + str_size(d->name, &bad);
        break;
    case DEF_LIMITS: {
        uint8_t i;
        if (d->limits.n > DEF_LIMITS_MAX)
            return 0;
        n = 1 + 1 + str_size(d->limits.name, &bad) + 1;
        for (i = 0; i < d->limits.n; i++)
            n += str_size(d->limits.key[i], &bad) + 8;
        break;
    }
    default:
        return 0;
    }
    return bad ? 0 : n;
}

static uint8_t *put_str(uint8_t *w, amqp_str s)
{
    *w = (uint8_t)s.len;
    if (s.len)
        memcpy(w + 1, s.ptr, s.len);
    return w + 1 + s.len;
}

static uint8_t *put_table(uint8_t *w, amqp_table t)
{
    w = amqp_put32(w, t.len);
    if (t.len)
        memcpy(w, t.ptr, t.len);
    return w + t.len;
}

void defs_encode(const store_def *d, uint8_t *w)
{
    if (d->vhost.len && kind_in_vhost(d->kind)) {
        *w++ = DEF_IN_VHOST;
        w = put_str(w, d->vhost);
    }
    *w++ = d->kind;
    switch (d->kind) {
    case DEF_QUEUE:
        w = amqp_put32(w, d->queue.id);
        w = put_str(w, d->queue.name);
        *w++ = (uint8_t)((d->queue.durable ? 1 : 0) | (d->queue.auto_delete ? 2 : 0));
        put_table(w, d->queue.arguments);
        break;
    case DEF_QUEUE_GONE:
    case DEF_NEXT_QID:
        amqp_put32(w, d->qid);
        break;
    case DEF_QUEUE_PURGED:
        w = amqp_put32(w, d->purge.qid);
        w = amqp_put64(w, d->purge.seq);
        w = amqp_put32(w, d->purge.nalso);
        if (d->purge.nalso)
            memcpy(w, d->purge.also, (size_t)d->purge.nalso * 8);
        break;
    case DEF_EXCHANGE:
        w = put_str(w, d->exchange.name);
        w = put_str(w, d->exchange.type);
        *w++ = (uint8_t)((d->exchange.durable ? 1 : 0) | (d->exchange.auto_delete ? 2 : 0) |
                         (d->exchange.internal ? 4 : 0));
        put_table(w, d->exchange.arguments);
        break;
    case DEF_EXCHANGE_GONE:
    case DEF_VHOST:
    case DEF_VHOST_GONE:
        put_str(w, d->name);
        break;
    case DEF_BIND:
    case DEF_UNBIND:
        w = put_str(w, d->binding.source);
        *w++ = d->binding.destination_type;
        w = put_str(w, d->binding.destination);
        w = put_str(w, d->binding.routing_key);
        put_table(w, d->binding.arguments);
        break;
    case DEF_USER:
        w = put_str(w, d->user.name);
        *w++ = d->user.algo;
        w = put_str(w, d->user.hash);
        put_str(w, d->user.tags);
        break;
    case DEF_USER_GONE:
        put_str(w, d->user.name);
        break;
    case DEF_PERMISSION:
        w = put_str(w, d->perm.user);
        w = put_str(w, d->perm.vhost);
        w = put_str(w, d->perm.configure);
        w = put_str(w, d->perm.write);
        put_str(w, d->perm.read);
        break;
    case DEF_PERMISSION_GONE:
        w = put_str(w, d->perm.user);
        put_str(w, d->perm.vhost);
        break;
    case DEF_LIMITS: {
        uint8_t i;
        *w++ = d->limits.scope;
        w = put_str(w, d->limits.name);
        *w++ = d->limits.n;
        for (i = 0; i < d->limits.n; i++) {
            w = put_str(w, d->limits.key[i]);
            w = amqp_put64(w, (uint64_t)d->limits.value[i]);
        }
        break;
    }
    }
}

static int get_str(const uint8_t **p, const uint8_t *end, amqp_str *out)
{
    if (end - *p < 1 || (size_t)(end - *p - 1) < (*p)[0])
        return -1;
    out->len = (*p)[0];
    out->ptr = (const char *)*p + 1;
    *p += 1 + out->len;
    return 0;
}

/* The u32 length and the bytes of a table that must end the payload. */
static int get_last_table(const uint8_t *q, const uint8_t *end, amqp_table *out)
{
    uint32_t len;
    if (end - q < 4)
        return -1;
    len = amqp_get32(q);
    q += 4;
    if ((size_t)(end - q) != len || amqp_table_validate(q, len, 0) < 0)
        return -1;
    *out = (amqp_table){q, len};
    return 0;
}

int defs_decode(const uint8_t *p, uint32_t len, store_def *d)
{
    const uint8_t *end = p + len, *q = p + 1;

    memset(d, 0, sizeof *d);
    if (len < 1)
        return -1;
    d->kind = p[0];
    switch (p[0]) {
    case DEF_QUEUE:
        if (len < 1 + 4 + 1)
            return -1;
        d->queue.id = amqp_get32(q);
        q += 4;
        /* ids start at 1, and 0 means "no number" to the store: a queue
         * recovered with it would be left out of the rewrite that ends
         * recovery (found by tests/fuzz/fuzz_store.c) */
        if (d->queue.id == 0)
            return -1;
        if (get_str(&q, end, &d->queue.name) < 0 || end - q < 1)
            return -1;
        d->queue.durable = (*q & 1) != 0;
        d->queue.auto_delete = (*q & 2) != 0;
        return get_last_table(q + 1, end, &d->queue.arguments);
    case DEF_QUEUE_GONE:
    case DEF_NEXT_QID:
        if (len != 5)
            return -1;
        d->qid = amqp_get32(q);
        return 0;
    case DEF_QUEUE_PURGED:
        if (len < 1 + 4 + 8 + 4)
            return -1;
        d->purge.qid = amqp_get32(q);
        d->purge.seq = amqp_get64(q + 4);
        d->purge.nalso = amqp_get32(q + 12);
        if ((uint64_t)len != 1 + 4 + 8 + 4 + (uint64_t)d->purge.nalso * 8)
            return -1;
        d->purge.also = q + 16;
        return 0;
    case DEF_EXCHANGE:
        if (get_str(&q, end, &d->exchange.name) < 0 || get_str(&q, end, &d->exchange.type) < 0 || end - q < 1)
            return -1;
        d->exchange.durable = (*q & 1) != 0;
        d->exchange.auto_delete = (*q & 2) != 0;
        d->exchange.internal = (*q & 4) != 0;
        return get_last_table(q + 1, end, &d->exchange.arguments);
    case DEF_EXCHANGE_GONE:
    case DEF_VHOST:
    case DEF_VHOST_GONE:
        return get_str(&q, end, &d->name) < 0 || q != end ? -1 : 0;
    case DEF_IN_VHOST: {
        amqp_str vh;
        if (get_str(&q, end, &vh) < 0 || vh.len == 0 || q == end || !kind_in_vhost(*q) ||
            defs_decode(q, (uint32_t)(end - q), d) < 0)
            return -1;
        d->vhost = vh;
        return 0;
    }
    case DEF_BIND:
    case DEF_UNBIND:
        if (get_str(&q, end, &d->binding.source) < 0 || end - q < 1)
            return -1;
        d->binding.destination_type = *q++ == 0 ? DEF_DEST_QUEUE : DEF_DEST_EXCHANGE;
        if (get_str(&q, end, &d->binding.destination) < 0 || get_str(&q, end, &d->binding.routing_key) < 0)
            return -1;
        return get_last_table(q, end, &d->binding.arguments);
    case DEF_USER:
        if (get_str(&q, end, &d->user.name) < 0 || end - q < 1)
            return -1;
        d->user.algo = *q++;
        if (get_str(&q, end, &d->user.hash) < 0 || get_str(&q, end, &d->user.tags) < 0)
            return -1;
        return q == end ? 0 : -1;
    case DEF_USER_GONE:
        return get_str(&q, end, &d->user.name) < 0 || q != end ? -1 : 0;
    case DEF_PERMISSION:
        if (get_str(&q, end, &d->perm.user) < 0 || get_str(&q, end, &d->perm.vhost) < 0 ||
            get_str(&q, end, &d->perm.configure) < 0 || get_str(&q, end, &d->perm.write) < 0 ||
            get_str(&q, end, &d->perm.read) < 0)
            return -1;
        return q == end ? 0 : -1;
    case DEF_PERMISSION_GONE:
        if (get_str(&q, end, &d->perm.user) < 0 || get_str(&q, end, &d->perm.vhost) < 0)
            return -1;
        return q == end ? 0 : -1;
    case DEF_LIMITS: {
        uint8_t i;
        if (end - q < 1 || *q > DEF_LIMITS_USER)
            return -1;
        d->limits.scope = *q++;
        if (get_str(&q, end, &d->limits.name) < 0 || end - q < 1 || *q > DEF_LIMITS_MAX)
            return -1;
        d->limits.n = *q++;
        for (i = 0; i < d->limits.n; i++) {
            if (get_str(&q, end, &d->limits.key[i]) < 0 || end - q < 8)
                return -1;
            d->limits.value[i] = (int64_t)amqp_get64(q);
            q += 8;
        }
        return q == end ? 0 : -1;
    }
    default:
        return 0;
    }
}

/* ---------------------------------------------------------------- the file */

struct defs {
    char path[4096];
    char dir[4096];
    int fd;
    uint64_t size;              /* the end of the last whole record */
    bool group;                 /* appends are synced by defs_sync, once a turn */
    bool unsynced;              /* appended since the last sync */
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
    store_def def;

    if (!d)
        return -1;
    snprintf(d->dir, sizeof d->dir, "%s", dir);
    snprintf(d->path, sizeof d->path, "%s/definitions", dir);
    d->fd = open(d->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
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
        if (defs_decode(buf + off + REC_HEADER, len, &def) < 0 || fn(ctx, &def) < 0) {
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

/* Records being gathered: for one append, or a whole rewrite. */
struct defs_writer {
    uint8_t *buf;
    size_t len, cap;
};

int defs_put(defs_writer *w, const store_def *def)
{
    size_t n = defs_encoded_size(def);
    if (n == 0 || n > REC_MAX)
        return -1;
    if (w->cap - w->len < n + REC_HEADER) {
        size_t c = (w->cap ? w->cap * 2 : 4096) + n + REC_HEADER;
        uint8_t *b = realloc(w->buf, c);
        if (!b)
            return -1;
        w->buf = b;
        w->cap = c;
    }
    defs_encode(def, w->buf + w->len + REC_HEADER);
    amqp_put32(w->buf + w->len, (uint32_t)n);
    amqp_put32(w->buf + w->len + 4, crc32c(0, w->buf + w->len + REC_HEADER, n));
    w->len += REC_HEADER + n;
    return 0;
}

int defs_append(defs *d, const store_def *def)
{
    defs_writer w = {0};
    int rc = -1;

    if (defs_put(&w, def) < 0) {
        log_error("store: out of memory writing %s", d->path);
        free(w.buf);
        return -1;
    }
    /* always at the end of the last whole record, never behind a part */
    if (store_pwrite_all(d->fd, w.buf, w.len, d->size) == 0 && (d->group || fdatasync(d->fd) == 0)) {
        d->unsynced = d->group;
        d->size += w.len;
        rc = 0;
    } else {
        log_error("store: cannot write %s: %s", d->path, strerror(errno));
        /* cut off what part of it did get written (a full disk writes
         * some, then fails): the file must end with a whole record */
        if (ftruncate(d->fd, (off_t)d->size) < 0)
            log_error("store: cannot truncate %s back to %" PRIu64 " bytes: %s", d->path, d->size,
                      strerror(errno));
    }
    free(w.buf);
    return rc;
}

int defs_rewrite(defs *d, defs_fill_fn *fill, void *ctx)
{
    char tmp[4200];
    defs_writer w = {0};
    int fd;

    if (!(w.buf = malloc(4096)))
        return -1;
    w.cap = 4096;
    seg_header_write(w.buf, DEFS_MAGIC, 0, 0);
    w.len = SEG_HEADER;
    if (fill(ctx, &w) < 0) {
        log_warn("store: cannot rewrite %s: out of memory", d->path);
        free(w.buf);
        return -1;
    }
    snprintf(tmp, sizeof tmp, "%s.tmp", d->path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write_all(fd, w.buf, w.len) < 0 || fdatasync(fd) < 0 || rename(tmp, d->path) < 0) {
        /* the old file is whole and stays in use */
        log_warn("store: cannot rewrite %s: %s", d->path, strerror(errno));
        if (fd >= 0)
            close(fd);
        unlink(tmp);
        free(w.buf);
        return -1;
    }
    free(w.buf);
    /* renamed: from now on the new file is the one (appending to the old,
     * unlinked one would lose what is appended) */
    close(d->fd);
    d->fd = fd;
    d->size = w.len;
    if (store_sync_dir(d->dir) < 0) {
        log_warn("store: cannot sync %s after rewriting %s: %s", d->dir, d->path, strerror(errno));
        return -1;
    }
    return 0;
}

void defs_group_commit(defs *d, bool on)
{
    d->group = on;
}

int defs_sync(defs *d)
{
    if (!d->unsynced)
        return 0;
    if (fdatasync(d->fd) < 0) {
        log_error("store: cannot sync %s: %s", d->path, strerror(errno));
        return -1;
    }
    d->unsynced = false;
    return 0;
}

void defs_close(defs *d)
{
    if (!d)
        return;
    defs_sync(d);
    close(d->fd);
    free(d);
}
