/*
 * store.c - persistent messages on disk: one shared log of segments, ack
 * files beside them, group commit on a sync thread, recovery at start.
 *
 * Writing.  store_put() serialises a message record into the turn's write
 * buffer (a message routed to several durable queues is one record naming
 * them all).  Before the loop sleeps, store_flush() writes the buffer with
 * one pwrite and hands "sync up to here" to the sync thread, which runs
 * fdatasync while the loop goes on; when it finishes, an eventfd wakes the
 * loop, and every publish whose record is now on disk gets its confirm.
 * One fdatasync covers everything written since the previous one (group
 * commit), so confirms keep up with the publishers, not with the disk's
 * fsync rate.  Space is reserved with fallocate ahead of the writes, so a
 * full disk is found before a record is half written.
 *
 * Positions.  A record is named by (segment id, offset); the log sequence
 * number (lsn) counts bytes appended since start and orders the syncs.
 *
 * Acks.  Acking a stored message appends a 16-byte entry to the ack file of
 * the segment that holds it; a "delivered" entry is written for messages
 * still unacked at the end of the turn, so after a restart they come back
 * marked redelivered.  Ack files are written every turn (so they survive a
 * crash of warren) and fdatasync'ed every second (so at most the last
 * second of acks is lost to a power cut: those messages are delivered
 * again - at least once, never lost).
 *
 * Reclaiming.  Each segment counts its live (queue, message) references;
 * when a segment other than the one being written has none left, its two
 * files are deleted.  An idle current segment with nothing live is
 * deleted too, so a drained broker goes back to (almost) no disk.
 *
 * Memory.  Queues keep only the head of a long backlog in RAM; deeper
 * persistent messages are dropped from memory as soon as they are stored
 * and read back (through a 1 MiB read-ahead buffer) when their turn comes.
 *
 * Recovery.  Definitions first (defs.c), then every segment in order: its
 * ack entries into a hash set, then its records, each unacked (queue,
 * record) pair appended to its queue, so queue order is publish order.  A
 * record that fails its checksum is a torn tail if nothing valid follows
 * it in the newest segment (the file is truncated there) and corruption
 * anywhere else (start-up stops, naming the file and offset).
 */
#include "store/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "log.h"
#include "store/crc32c.h"
#include "store/defs.h"
#include "store/segment.h"

#define SEG_SOFT_MAX (16u << 20)    /* a new segment starts past this size */
#define PREALLOC (4u << 20)         /* space reserved ahead of the writes */
#define READ_AHEAD (1u << 20)
#define ACK_SYNC_MS 1000

typedef struct segment {
    uint32_t id;
    int fd;
    int ackfd;                  /* -1 until the first ack entry */
    uint64_t size;              /* bytes written */
    uint64_t alloc;             /* bytes reserved with fallocate */
    uint64_t live;              /* unacked (queue, record) references */
    bool broken;                /* a write or sync failed on it */
    bool acks_unsynced;
    uint8_t *ackbuf;            /* this turn's ack entries */
    size_t acklen, ackcap;
    bool on_ack_list;
    struct segment *ack_next;
} segment;

typedef struct range {
    uint64_t lo, hi;            /* lsns in (lo, hi] */
} range;

struct store {
    vhost *vh;
    store_hooks hooks;
    char dir[4096];
    char msgdir[4200];
    uint64_t disk_free_limit;
    bool alarm;
    segment **segs;             /* by id, ascending */
    size_t nsegs, capsegs;
    segment *cur;               /* being written; NULL until needed */
    uint32_t next_seg_id;
    /* the turn's records */
    uint8_t *wbuf;
    size_t wlen, wcap;
    uint64_t lsn;               /* bytes appended since start */
    uint64_t written_lsn;
    uint64_t synced_lsn;
    range failed[32];           /* lsns whose write or sync failed */
    int nfailed;
    segment *ack_list;
    uint64_t last_ack_sync;
    uint64_t create_failed;     /* when a failure to make a segment was last logged */
    uint64_t create_failures;   /* failures since then */
    /* sync thread */
    pthread_t thread;
    bool thread_started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int efd;
    ev_io efd_io;
    int job_fds[64];
    int job_nfds;
    uint64_t job_lsn;
    bool job_ready, stop;
    uint64_t t_done_lsn;        /* written by the thread */
    uint64_t t_fail_lo, t_fail_hi;
    int t_errno;
    /* definitions */
    defs *defs;
    uint32_t next_qid;
    map qids;                   /* "qid" (4 bytes) -> queue */
    /* read-ahead */
    uint8_t *rbuf;
    uint32_t rseg;
    uint64_t roff;
    size_t rlen;
};

static uint64_t now_ms(void)
{
    return ev_clock_ns() / 1000000u;
}

/* ---------------------------------------------------------------- helpers */

static int pwrite_all(int fd, const void *p, size_t n, uint64_t off)
{
    const uint8_t *q = p;
    while (n > 0) {
        ssize_t w = pwrite(fd, q, n, (off_t)off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (w == 0) {
            errno = EIO;
            return -1;
        }
        q += w;
        n -= (size_t)w;
        off += (uint64_t)w;
    }
    return 0;
}

static ssize_t pread_full(int fd, void *p, size_t n, uint64_t off)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, (uint8_t *)p + got, n - got, (off_t)(off + got));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

static int sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc;
    if (fd < 0)
        return -1;
    rc = fsync(fd);
    close(fd);
    return rc;
}

static void qid_key(char key[4], uint32_t qid)
{
    memcpy(key, &qid, 4);
}

static queue *queue_by_id(store *st, uint32_t qid)
{
    char k[4];
    qid_key(k, qid);
    return map_get(&st->qids, k, 4);
}

static segment *seg_find(store *st, uint32_t id)
{
    size_t lo = 0, hi = st->nsegs;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (st->segs[mid]->id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < st->nsegs && st->segs[lo]->id == id ? st->segs[lo] : NULL;
}

static int seg_add(store *st, segment *s)
{
    if (st->nsegs == st->capsegs) {
        size_t cap = st->capsegs ? st->capsegs * 2 : 16;
        segment **v = realloc(st->segs, cap * sizeof *v);
        if (!v)
            return -1;
        st->segs = v;
        st->capsegs = cap;
    }
    st->segs[st->nsegs++] = s; /* ids only grow: stays sorted */
    return 0;
}

static void seg_free(segment *s)
{
    if (s->fd >= 0)
        close(s->fd);
    if (s->ackfd >= 0)
        close(s->ackfd);
    free(s->ackbuf);
    free(s);
}

/* Delete a segment's files and forget it. */
static void seg_delete(store *st, segment *s)
{
    char path[4300];
    size_t i;

    seg_path(path, sizeof path, st->dir, s->id, "seg");
    if (unlink(path) < 0 && errno != ENOENT)
        log_warn("store: cannot delete %s: %s", path, strerror(errno));
    seg_path(path, sizeof path, st->dir, s->id, "ack");
    if (unlink(path) < 0 && errno != ENOENT)
        log_warn("store: cannot delete %s: %s", path, strerror(errno));
    for (i = 0; i < st->nsegs; i++) {
        if (st->segs[i] == s) {
            memmove(st->segs + i, st->segs + i + 1, (st->nsegs - i - 1) * sizeof *st->segs);
            st->nsegs--;
            break;
        }
    }
    if (st->rseg == s->id)
        st->rlen = 0;
    if (st->cur == s)
        st->cur = NULL;
    if (s->on_ack_list) {
        segment **pp;
        for (pp = &st->ack_list; *pp; pp = &(*pp)->ack_next)
            if (*pp == s) {
                *pp = s->ack_next;
                break;
            }
    }
    log_debug("store: segment %u deleted", s->id);
    seg_free(s);
}

static bool lsn_failed(const store *st, uint64_t lsn)
{
    int i;
    for (i = 0; i < st->nfailed; i++)
        if (lsn > st->failed[i].lo && lsn <= st->failed[i].hi)
            return true;
    return false;
}

static void mark_failed(store *st, uint64_t lo, uint64_t hi)
{
    if (st->nfailed == (int)(sizeof st->failed / sizeof *st->failed)) {
        memmove(st->failed, st->failed + 1, sizeof st->failed - sizeof *st->failed);
        st->nfailed--;
    }
    st->failed[st->nfailed++] = (range){lo, hi};
}

int store_lsn_state(const store *st, uint64_t lsn)
{
    if (lsn_failed(st, lsn))
        return STORE_FAILED;
    return lsn <= st->synced_lsn ? STORE_SYNCED : STORE_PENDING;
}

/* ------------------------------------------------------------ sync thread */

static void *sync_main(void *arg)
{
    store *st = arg;
    pthread_mutex_lock(&st->mu);
    for (;;) {
        int fds[64], n, i, err = 0;
        uint64_t lsn, lo;
        uint64_t one = 1;

        while (!st->job_ready && !st->stop)
            pthread_cond_wait(&st->cv, &st->mu);
        if (!st->job_ready && st->stop)
            break;
        n = st->job_nfds;
        memcpy(fds, st->job_fds, (size_t)n * sizeof *fds);
        lsn = st->job_lsn;
        lo = st->t_done_lsn;
        st->job_nfds = 0;
        st->job_ready = false;
        pthread_mutex_unlock(&st->mu);

        for (i = 0; i < n; i++) {
            if (fdatasync(fds[i]) < 0 && !err)
                err = errno;
            close(fds[i]);
        }

        pthread_mutex_lock(&st->mu);
        if (err) {
            /* an earlier failure not yet seen by the loop must not be
             * forgotten: the range only widens */
            if (st->t_errno) {
                if (lo > st->t_fail_lo)
                    lo = st->t_fail_lo;
                if (lsn < st->t_fail_hi)
                    lsn = st->t_fail_hi;
            }
            st->t_fail_lo = lo;
            st->t_fail_hi = lsn;
            st->t_errno = err;
        }
        if (lsn > st->t_done_lsn)
            st->t_done_lsn = lsn;
        if (write(st->efd, &one, sizeof one) < 0) {
            /* the loop will still see t_done_lsn at its next sync request */
        }
    }
    pthread_mutex_unlock(&st->mu);
    return NULL;
}

/* Ask the thread to sync fd (a dup is handed over) up to lsn. */
static void request_sync(store *st, int fd, uint64_t lsn)
{
    int d = fcntl(fd, F_DUPFD_CLOEXEC, 0), i;
    if (d < 0) {
        log_error("store: dup: %s", strerror(errno));
        return;
    }
    pthread_mutex_lock(&st->mu);
    for (i = 0; i < st->job_nfds; i++) {
        struct stat a, b;
        if (fstat(st->job_fds[i], &a) == 0 && fstat(d, &b) == 0 && a.st_ino == b.st_ino) {
            close(d);
            d = -1;
            break;
        }
    }
    if (d >= 0) {
        if (st->job_nfds == 64) {
            close(d);
        } else {
            st->job_fds[st->job_nfds++] = d;
        }
    }
    if (lsn > st->job_lsn)
        st->job_lsn = lsn;
    st->job_ready = true;
    pthread_cond_signal(&st->cv);
    pthread_mutex_unlock(&st->mu);
}

static void on_synced(ev_loop *loop, ev_io *io, uint32_t events)
{
    store *st = (store *)((char *)io - offsetof(store, efd_io));
    uint64_t v, done;
    int err;
    (void)loop, (void)events;

    if (read(st->efd, &v, sizeof v) < 0 && errno != EAGAIN)
        log_warn("store: eventfd read: %s", strerror(errno));
    pthread_mutex_lock(&st->mu);
    done = st->t_done_lsn;
    err = st->t_errno;
    if (err) {
        mark_failed(st, st->t_fail_lo, st->t_fail_hi);
        st->t_errno = 0;
    }
    pthread_mutex_unlock(&st->mu);
    if (err) {
        log_error("store: fdatasync failed: %s; the messages it covered are nacked", strerror(err));
        if (st->cur)
            st->cur->broken = true;
    }
    if (done > st->synced_lsn)
        st->synced_lsn = done;
    if (st->hooks.synced)
        st->hooks.synced(st->hooks.ctx);
}

/* ----------------------------------------------------------------- writing */

/* A disk that keeps failing would log once per publish: once a second is
 * enough, with a count of what was not logged. */
static void create_error(store *st, const char *what, const char *path)
{
    uint64_t now = now_ms();
    if (st->create_failed && now - st->create_failed < 1000) {
        st->create_failures++;
        return;
    }
    log_error("store: %s %s: %s%s", what, path, strerror(errno),
              st->create_failures ? " (and more failures like it in the last second)" : "");
    st->create_failed = now;
    st->create_failures = 0;
}

static segment *seg_create(store *st)
{
    char path[4300];
    uint8_t h[SEG_HEADER];
    segment *s = calloc(1, sizeof *s);

    if (!s)
        return NULL;
    s->id = st->next_seg_id++;
    s->ackfd = -1;
    seg_path(path, sizeof path, st->dir, s->id, "seg");
    s->fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (s->fd < 0) {
        create_error(st, "cannot create", path);
        free(s);
        return NULL;
    }
    if (fallocate(s->fd, FALLOC_FL_KEEP_SIZE, 0, PREALLOC) == 0) {
        s->alloc = PREALLOC;
    } else if (errno != EOPNOTSUPP && errno != ENOSYS) {
        create_error(st, "cannot reserve space for", path);
        close(s->fd);
        unlink(path);
        free(s);
        return NULL;
    }
    seg_header_write(h, SEG_MAGIC, s->id);
    if (pwrite_all(s->fd, h, sizeof h, 0) < 0 || fdatasync(s->fd) < 0 || sync_dir(st->msgdir) < 0) {
        create_error(st, "cannot initialise", path);
        close(s->fd);
        unlink(path);
        free(s);
        return NULL;
    }
    s->size = SEG_HEADER;
    if (seg_add(st, s) < 0) {
        close(s->fd);
        unlink(path);
        free(s);
        return NULL;
    }
    log_debug("store: segment %u created", s->id);
    return s;
}

/* Write the turn's buffer to the current segment.  On failure the batch is
 * marked failed (its publishers are nacked) and the segment retired. */
static void write_buffer(store *st)
{
    segment *s = st->cur;
    uint64_t need;
    uint64_t lo = st->written_lsn;

    if (st->wlen == 0)
        return;
    need = s->size + st->wlen;
    if (s->alloc && need > s->alloc) {
        uint64_t more = need - s->alloc > PREALLOC ? need - s->alloc : PREALLOC;
        if (fallocate(s->fd, FALLOC_FL_KEEP_SIZE, (off_t)s->alloc, (off_t)more) == 0) {
            s->alloc += more;
        } else {
            log_error("store: cannot reserve disk space in segment %u: %s; %zu bytes of messages refused", s->id,
                      strerror(errno), st->wlen);
            goto failed;
        }
    }
    if (pwrite_all(s->fd, st->wbuf, st->wlen, s->size) < 0) {
        log_error("store: write to segment %u failed: %s; %zu bytes of messages refused", s->id, strerror(errno),
                  st->wlen);
        /* cut off whatever part did get written, so the log stays whole */
        if (ftruncate(s->fd, (off_t)s->size) < 0)
            log_error("store: cannot truncate segment %u: %s", s->id, strerror(errno));
        goto failed;
    }
    s->size += st->wlen;
    st->written_lsn += st->wlen;
    st->wlen = 0;
    return;
failed:
    s->broken = true;
    st->written_lsn += st->wlen;
    mark_failed(st, lo, st->written_lsn);
    st->wlen = 0;
    if (st->hooks.synced)
        st->hooks.synced(st->hooks.ctx);
}

/* Make sure the current segment can take `size` more bytes. */
static int ensure_segment(store *st, size_t size)
{
    segment *s = st->cur;
    if (s && !s->broken && (s->size + st->wlen + size <= SEG_SOFT_MAX || s->size + st->wlen == SEG_HEADER))
        return 0;
    if (s) {
        /* finish the old segment: write and sync it here, so the sync
         * thread only ever has the current one to think about */
        write_buffer(st);
        if (!s->broken) {
            if (fdatasync(s->fd) < 0) {
                log_error("store: fdatasync of segment %u failed: %s", s->id, strerror(errno));
                mark_failed(st, st->synced_lsn, st->written_lsn);
            } else if (st->written_lsn > st->synced_lsn) {
                st->synced_lsn = st->written_lsn;
            }
        }
        if (s->alloc > s->size)
            fallocate(s->fd, FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE, (off_t)s->size,
                      (off_t)(s->alloc - s->size));
        s->alloc = 0;
        st->cur = NULL;
        if (s->live == 0)
            seg_delete(st, s);
    }
    st->cur = seg_create(st);
    return st->cur ? 0 : -1;
}

static int put_record(store *st, uint8_t flags, msg *m, uint64_t seq, const uint32_t *qids, uint16_t nq,
                      store_pos *pos);

int store_put(store *st, msg *m, uint64_t seq, const uint32_t *qids, uint16_t nq, store_pos *pos)
{
    return put_record(st, 0, m, seq, qids, nq, pos);
}

int store_page(store *st, msg *m, uint64_t seq, uint32_t qid, store_pos *pos)
{
    return put_record(st, REC_FLAG_PAGED, m, seq, &qid, 1, pos);
}

static int put_record(store *st, uint8_t flags, msg *m, uint64_t seq, const uint32_t *qids, uint16_t nq,
                      store_pos *pos)
{
    size_t size = seg_record_size(nq, m->exlen, m->rklen, m->props_len, m->body_len);

    if (ensure_segment(st, size) < 0)
        return -1;
    if (st->wcap - st->wlen < size) {
        size_t cap = st->wcap ? st->wcap : 65536;
        uint8_t *b;
        while (cap - st->wlen < size)
            cap *= 2;
        if (!(b = realloc(st->wbuf, cap)))
            return -1;
        st->wbuf = b;
        st->wcap = cap;
    }
    pos->seg = st->cur->id;
    pos->off = (uint32_t)(st->cur->size + st->wlen);
    seg_record_write(st->wbuf + st->wlen, flags, seq, (uint64_t)m->published, qids, nq, msg_exchange(m), m->exlen,
                     msg_rk(m), m->rklen, msg_props(m), m->props_len, msg_cbody(m), m->body_len);
    st->wlen += size;
    st->lsn += size;
    pos->lsn = st->lsn;
    st->cur->live += nq;
    return 0;
}

static void ack_entry(store *st, uint32_t qid, uint32_t segid, uint32_t off, uint8_t kind)
{
    segment *s = seg_find(st, segid);
    if (!s)
        return;
    if (kind == ACK_KIND_ACK) {
        if (s->live > 0)
            s->live--;
        if (s->live == 0 && s != st->cur) {
            /* nothing in it matters any more: the whole segment goes, and
             * its pending ack entries with it */
            seg_delete(st, s);
            return;
        }
    }
    if (s->ackcap - s->acklen < ACK_ENTRY) {
        size_t cap = s->ackcap ? s->ackcap * 2 : 1024;
        uint8_t *b = realloc(s->ackbuf, cap);
        if (!b) {
            log_error("store: out of memory recording an ack (it will be redelivered after a restart)");
            return;
        }
        s->ackbuf = b;
        s->ackcap = cap;
    }
    seg_ack_write(s->ackbuf + s->acklen, qid, off, kind);
    s->acklen += ACK_ENTRY;
    if (!s->on_ack_list) {
        s->on_ack_list = true;
        s->ack_next = st->ack_list;
        st->ack_list = s;
    }
}

void store_ack(store *st, uint32_t qid, uint32_t seg, uint32_t off)
{
    ack_entry(st, qid, seg, off, ACK_KIND_ACK);
}

void store_delivered(store *st, uint32_t qid, uint32_t seg, uint32_t off)
{
    ack_entry(st, qid, seg, off, ACK_KIND_DELIVERED);
}

/* Drop "delivered" entries whose message was acked in the same batch: the
 * common deliver-then-ack needs only the ack on disk. */
static size_t squash_acks(uint8_t *buf, size_t len)
{
    size_t n = len / ACK_ENTRY, i, j, out = 0, cap = 16;
    uint64_t *set;
    bool any_dlv = false;

    for (i = 0; i < n; i++)
        if (buf[i * ACK_ENTRY + 8] == ACK_KIND_DELIVERED)
            any_dlv = true;
    if (!any_dlv)
        return len;
    while (cap < n * 2)
        cap *= 2;
    if (!(set = calloc(cap, sizeof *set)))
        return len;
    for (i = 0; i < n; i++) {
        const uint8_t *e = buf + i * ACK_ENTRY;
        if (e[8] == ACK_KIND_ACK) {
            uint64_t k = (uint64_t)amqp_get32(e) << 32 | amqp_get32(e + 4);
            for (j = (k * 0x9E3779B97F4A7C15ull) >> 40 & (cap - 1); set[j] && set[j] != k + 1; j = (j + 1) & (cap - 1))
                ;
            set[j] = k + 1;
        }
    }
    for (i = 0; i < n; i++) {
        uint8_t *e = buf + i * ACK_ENTRY;
        if (e[8] == ACK_KIND_DELIVERED) {
            uint64_t k = (uint64_t)amqp_get32(e) << 32 | amqp_get32(e + 4);
            for (j = (k * 0x9E3779B97F4A7C15ull) >> 40 & (cap - 1); set[j] && set[j] != k + 1; j = (j + 1) & (cap - 1))
                ;
            if (set[j] == k + 1)
                continue;
        }
        if (out != i)
            memmove(buf + out * ACK_ENTRY, e, ACK_ENTRY);
        out++;
    }
    free(set);
    return out * ACK_ENTRY;
}

static void flush_acks(store *st)
{
    while (st->ack_list) {
        segment *s = st->ack_list;
        st->ack_list = s->ack_next;
        s->on_ack_list = false;
        s->acklen = squash_acks(s->ackbuf, s->acklen);
        if (s->acklen == 0)
            continue;
        if (s->ackfd < 0) {
            char path[4300];
            struct stat sb;
            seg_path(path, sizeof path, st->dir, s->id, "ack");
            s->ackfd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
            if (s->ackfd < 0 || fstat(s->ackfd, &sb) < 0) {
                log_error("store: cannot open %s: %s (acks will be redelivered after a restart)", path,
                          strerror(errno));
                s->acklen = 0;
                continue;
            }
            if (sb.st_size < SEG_HEADER) {
                /* new, or its header was cut short: (re)write the header */
                uint8_t h[SEG_HEADER];
                seg_header_write(h, ACK_MAGIC, s->id);
                if (ftruncate(s->ackfd, 0) < 0 || write(s->ackfd, h, sizeof h) != (ssize_t)sizeof h) {
                    log_error("store: cannot write %s: %s (acks will be redelivered after a restart)", path,
                              strerror(errno));
                    close(s->ackfd);
                    s->ackfd = -1;
                    s->acklen = 0;
                    continue;
                }
            } else if (sb.st_size % ACK_ENTRY != 0) {
                /* a torn entry from a crash: cut it so entries stay aligned */
                if (ftruncate(s->ackfd, sb.st_size - sb.st_size % ACK_ENTRY) < 0)
                    log_error("store: cannot truncate %s: %s", path, strerror(errno));
            }
        }
        if (write(s->ackfd, s->ackbuf, s->acklen) != (ssize_t)s->acklen)
            log_error("store: cannot write acks of segment %u: %s (they will be redelivered after a restart)",
                      s->id, strerror(errno));
        s->acks_unsynced = true;
        s->acklen = 0;
        if (s->ackcap > 65536) {
            free(s->ackbuf);
            s->ackbuf = NULL;
            s->ackcap = 0;
        }
    }
}

void store_flush(store *st)
{
    if (st->cur && st->wlen)
        write_buffer(st);
    flush_acks(st);
    if (st->cur && st->written_lsn > st->synced_lsn && !lsn_failed(st, st->written_lsn))
        request_sync(st, st->cur->fd, st->written_lsn);
    if (now_ms() - st->last_ack_sync >= ACK_SYNC_MS) {
        size_t i;
        st->last_ack_sync = now_ms();
        for (i = 0; i < st->nsegs; i++) {
            segment *s = st->segs[i];
            if (s->acks_unsynced && s->ackfd >= 0) {
                request_sync(st, s->ackfd, st->written_lsn);
                s->acks_unsynced = false;
            }
        }
    }
}

/* ----------------------------------------------------------------- reading */

static msg *record_to_msg(const seg_record *r)
{
    msg *m = msg_new((amqp_str){r->exchange, r->exlen}, (amqp_str){r->rk, r->rklen}, r->props, r->props_len,
                     r->body_len);
    if (!m)
        return NULL;
    memcpy(msg_body(m), r->body, r->body_len);
    m->body_have = r->body_len;
    m->flags |= MSG_PERSISTENT;
    m->published = (int64_t)r->timestamp;
    {
        const char *why;
        msg_parse_props(m, &why);
    }
    return m;
}

msg *store_read(store *st, uint32_t segid, uint32_t off)
{
    segment *s = seg_find(st, segid);
    const uint8_t *p;
    size_t avail, size;
    seg_record r;
    enum seg_check rc;
    uint8_t *big = NULL;
    msg *m;

    if (!s) {
        log_error("store: message at segment %u offset %u: segment is gone", segid, off);
        return NULL;
    }
    if (s == st->cur && off >= s->size) {
        /* still in this turn's buffer */
        p = st->wbuf + (off - s->size);
        avail = st->wlen - (off - s->size);
    } else if (st->rseg == segid && off >= st->roff && off + REC_HEADER <= st->roff + st->rlen &&
               off - st->roff + REC_HEADER + amqp_get32(st->rbuf + (off - st->roff)) <= st->rlen) {
        p = st->rbuf + (off - st->roff);
        avail = st->rlen - (off - st->roff);
    } else {
        ssize_t got;
        uint32_t len;
        if (!st->rbuf && !(st->rbuf = malloc(READ_AHEAD)))
            return NULL;
        got = pread_full(s->fd, st->rbuf, READ_AHEAD, off);
        if (got < REC_HEADER) {
            log_error("store: cannot read segment %u at offset %u: %s", segid, off,
                      got < 0 ? strerror(errno) : "short read");
            st->rlen = 0;
            return NULL;
        }
        st->rseg = segid;
        st->roff = off;
        st->rlen = (size_t)got;
        len = amqp_get32(st->rbuf);
        if ((size_t)len + REC_HEADER > (size_t)got && len <= REC_MAX) {
            /* bigger than the read-ahead: read it whole */
            if (!(big = malloc((size_t)len + REC_HEADER)))
                return NULL;
            if (pread_full(s->fd, big, (size_t)len + REC_HEADER, off) != (ssize_t)len + REC_HEADER) {
                log_error("store: cannot read segment %u at offset %u", segid, off);
                free(big);
                return NULL;
            }
            p = big;
            avail = (size_t)len + REC_HEADER;
        } else {
            p = st->rbuf;
            avail = st->rlen;
        }
    }
    rc = seg_record_check(p, avail, &size, &r);
    if (rc != SEG_OK || r.type != REC_MSG) {
        log_error("store: segment %u offset %u: %s", segid, off, rc ? seg_check_str(rc) : "not a message");
        free(big);
        return NULL;
    }
    m = record_to_msg(&r);
    free(big);
    return m;
}

/* ------------------------------------------------------------- definitions */

static size_t put_str(uint8_t *p, const char *s, uint8_t n)
{
    p[0] = n;
    memcpy(p + 1, s, n);
    return 1u + n;
}

/* The definition record of a queue; caller frees. */
static uint8_t *queue_record(const queue *q, size_t *len)
{
    uint8_t *p = malloc(1 + 4 + 256 + 1 + 4 + q->argslen), *w;
    if (!p)
        return NULL;
    w = p;
    *w++ = DEF_QUEUE;
    w = amqp_put32(w, q->id);
    w += put_str(w, q->name, q->namelen);
    *w++ = (uint8_t)((q->durable ? 1 : 0) | (q->auto_delete ? 2 : 0));
    w = amqp_put32(w, q->argslen);
    memcpy(w, q->args, q->argslen);
    w += q->argslen;
    *len = (size_t)(w - p);
    return p;
}

static bool predeclared(const exchange *x)
{
    return x->namelen == 0 || (x->namelen >= 4 && memcmp(x->name, "amq.", 4) == 0);
}

static uint8_t *exchange_record(const exchange *x, size_t *len)
{
    size_t tl = strlen(x->type->name);
    uint8_t *p = malloc(1 + 256 + 256 + 1 + 4 + x->argslen), *w;
    if (!p)
        return NULL;
    w = p;
    *w++ = DEF_EXCHANGE;
    w += put_str(w, x->name, x->namelen);
    w += put_str(w, x->type->name, (uint8_t)tl);
    *w++ = (uint8_t)((x->durable ? 1 : 0) | (x->auto_delete ? 2 : 0) | (x->internal ? 4 : 0));
    w = amqp_put32(w, x->argslen);
    memcpy(w, x->args, x->argslen);
    w += x->argslen;
    *len = (size_t)(w - p);
    return p;
}

static uint8_t *binding_record(const binding *b, uint8_t kind, size_t *len)
{
    uint8_t *p = malloc(1 + 256 + 1 + 256 + 256 + 4 + b->argslen), *w;
    if (!p)
        return NULL;
    w = p;
    *w++ = kind;
    w += put_str(w, b->src->name, b->src->namelen);
    *w++ = b->q ? 0 : 1;
    if (b->q)
        w += put_str(w, b->q->name, b->q->namelen);
    else
        w += put_str(w, b->dst->name, b->dst->namelen);
    w += put_str(w, b->key, b->keylen);
    w = amqp_put32(w, b->argslen);
    memcpy(w, b->args, b->argslen);
    w += b->argslen;
    *len = (size_t)(w - p);
    return p;
}

int store_exchange_declared(store *st, const exchange *x)
{
    size_t len;
    uint8_t *rec = exchange_record(x, &len);
    int rc;
    if (!rec)
        return -1;
    rc = defs_append(st->defs, rec, len);
    free(rec);
    return rc;
}

void store_exchange_deleted(store *st, const exchange *x)
{
    uint8_t rec[1 + 256];
    size_t len = 1 + put_str(rec + 1, x->name, x->namelen);
    rec[0] = DEF_EXCHANGE_GONE;
    if (defs_append(st->defs, rec, len) < 0)
        log_error("store: could not record the deletion of exchange '%s'; it will come back after a restart",
                  x->name);
}

int store_binding(store *st, const binding *b, bool add)
{
    size_t len;
    uint8_t *rec = binding_record(b, add ? DEF_BIND : DEF_UNBIND, &len);
    int rc;
    if (!rec)
        return -1;
    rc = defs_append(st->defs, rec, len);
    free(rec);
    if (rc < 0 && !add)
        log_error("store: could not record an unbinding; the binding will come back after a restart");
    return rc;
}

int store_queue_declared(store *st, queue *q)
{
    size_t len;
    uint8_t *rec;
    char k[4];
    int rc;

    q->id = st->next_qid++;
    if (!(rec = queue_record(q, &len)))
        return -1;
    rc = defs_append(st->defs, rec, len);
    free(rec);
    if (rc < 0)
        return -1;
    qid_key(k, q->id);
    return map_put(&st->qids, k, 4, q);
}

void store_queue_deleted(store *st, uint32_t qid)
{
    uint8_t rec[5];
    char k[4];
    rec[0] = DEF_QUEUE_GONE;
    amqp_put32(rec + 1, qid);
    qid_key(k, qid);
    map_del(&st->qids, k, 4);
    if (defs_append(st->defs, rec, sizeof rec) < 0)
        log_error("store: could not record the deletion of queue %u; it will come back after a restart", qid);
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

typedef struct replay_ctx {
    store *st;
    vhost *vh;
} replay_ctx;

static int replay_def(void *ctx, const uint8_t *p, uint32_t len)
{
    replay_ctx *rc = ctx;
    store *st = rc->st;
    const uint8_t *end = p + len;
    char k[4];

    switch (p[0]) {
    case DEF_QUEUE: {
        uint32_t id, argslen;
        uint8_t nlen, flags;
        const char *name;
        queue *q;
        if (len < 1 + 4 + 1)
            return -1;
        id = amqp_get32(p + 1);
        nlen = p[5];
        if ((size_t)(end - p) < 6u + nlen + 1 + 4)
            return -1;
        name = (const char *)p + 6;
        flags = p[6 + nlen];
        argslen = amqp_get32(p + 7 + nlen);
        if ((size_t)(end - p) != 11u + nlen + argslen ||
            amqp_table_validate(p + 11 + nlen, argslen, 0) < 0)
            return -1;
        if (vhost_queue(rc->vh, (amqp_str){name, nlen}))
            return -1;
        q = queue_new(rc->vh, (amqp_str){name, nlen}, (flags & 1) != 0, false, (flags & 2) != 0,
                      (amqp_table){p + 11 + nlen, argslen}, NULL);
        if (!q)
            return -1;
        q->id = id;
        qid_key(k, id);
        if (map_put(&st->qids, k, 4, q) < 0)
            return -1;
        if (id >= st->next_qid)
            st->next_qid = id + 1;
        return 0;
    }
    case DEF_QUEUE_GONE: {
        queue *q;
        if (len != 5)
            return -1;
        qid_key(k, amqp_get32(p + 1));
        q = map_del(&st->qids, k, 4);
        if (q) {
            q->durable = false; /* no store bookkeeping for it now */
            queue_delete(q);
        }
        return 0;
    }
    case DEF_EXCHANGE: {
        amqp_str name, type;
        const uint8_t *q = p + 1;
        uint8_t flags;
        uint32_t argslen;
        const exchange_type *t;
        exchange *x;
        if (get_str(&q, end, &name) < 0 || get_str(&q, end, &type) < 0 || end - q < 5)
            return -1;
        flags = *q++;
        argslen = amqp_get32(q);
        q += 4;
        if ((size_t)(end - q) != argslen || amqp_table_validate(q, argslen, 0) < 0)
            return -1;
        if (!(t = exchange_type_find(type)) || type.len == 0)
            return -1;
        if ((x = vhost_exchange(rc->vh, name)))
            exchange_delete(x);
        if (!exchange_new(rc->vh, name, t, flags & 1, (flags & 2) != 0, (flags & 4) != 0, (amqp_table){q, argslen}))
            return -1;
        return 0;
    }
    case DEF_EXCHANGE_GONE: {
        amqp_str name;
        const uint8_t *q = p + 1;
        exchange *x;
        if (get_str(&q, end, &name) < 0 || q != end)
            return -1;
        if ((x = vhost_exchange(rc->vh, name))) {
            x->durable = false; /* no store bookkeeping during replay */
            exchange_delete(x);
        }
        return 0;
    }
    case DEF_BIND:
    case DEF_UNBIND: {
        amqp_str src, dst, key;
        const uint8_t *q = p + 1;
        uint8_t dkind;
        uint32_t argslen;
        exchange *sx, *dx = NULL;
        queue *dq = NULL;
        binding *b;
        if (get_str(&q, end, &src) < 0 || end - q < 1)
            return -1;
        dkind = *q++;
        if (get_str(&q, end, &dst) < 0 || get_str(&q, end, &key) < 0 || end - q < 4)
            return -1;
        argslen = amqp_get32(q);
        q += 4;
        if ((size_t)(end - q) != argslen || amqp_table_validate(q, argslen, 0) < 0)
            return -1;
        sx = vhost_exchange(rc->vh, src);
        if (dkind == 0)
            dq = vhost_queue(rc->vh, dst);
        else
            dx = vhost_exchange(rc->vh, dst);
        if (!sx || (!dq && !dx))
            return 0; /* an end that is gone took the binding with it */
        b = binding_find(sx, dq, dx, key, (amqp_table){q, argslen});
        if (p[0] == DEF_BIND && !b && !binding_add(sx, dq, dx, key, (amqp_table){q, argslen}))
            return -1;
        if (p[0] == DEF_UNBIND && b) {
            bool durable = sx->durable;
            sx->durable = false; /* an auto-delete cascade must not write */
            binding_remove(b);
            if (vhost_exchange(rc->vh, src) == sx)
                sx->durable = durable;
        }
        return 0;
    }
    case DEF_NEXT_QID:
        if (len != 5)
            return -1;
        if (amqp_get32(p + 1) > st->next_qid)
            st->next_qid = amqp_get32(p + 1);
        return 0;
    default:
        /* kinds this version does not use yet are kept by ignoring them */
        return 0;
    }
}

typedef struct rewrite_ctx {
    store *st;
    size_t i;
    int stage;
    uint8_t *cur;
    uint8_t nextq[5];
    exchange *x;                /* stage 3: the exchange whose bindings go out */
    binding *b;
} rewrite_ctx;

/* The current definitions, in an order replay can follow: the next queue
 * id, queues, exchanges, then the bindings between them. */
static int rewrite_next(void *ctx, const uint8_t **payload, uint32_t *len)
{
    rewrite_ctx *rc = ctx;
    void *v;
    size_t n;

    free(rc->cur);
    rc->cur = NULL;
    if (rc->stage == 0) {
        rc->stage = 1;
        rc->nextq[0] = DEF_NEXT_QID;
        amqp_put32(rc->nextq + 1, rc->st->next_qid);
        *payload = rc->nextq;
        *len = 5;
        return 1;
    }
    if (rc->stage == 1) {
        while (map_next(&rc->st->qids, &rc->i, NULL, NULL, &v)) {
            if (!(rc->cur = queue_record(v, &n)))
                return 0;
            goto out;
        }
        rc->stage = 2;
        rc->i = 0;
    }
    if (rc->stage == 2) {
        while (map_next(&rc->st->vh->exchanges, &rc->i, NULL, NULL, &v)) {
            exchange *x = v;
            if (!x->durable || predeclared(x))
                continue;
            if (!(rc->cur = exchange_record(x, &n)))
                return 0;
            goto out;
        }
        rc->stage = 3;
        rc->i = 0;
        rc->x = NULL;
    }
    for (;;) {
        while (rc->b) {
            binding *b = rc->b;
            rc->b = b->src_next;
            if (!binding_durable(b))
                continue;
            if (!(rc->cur = binding_record(b, DEF_BIND, &n)))
                return 0;
            goto out;
        }
        if (!map_next(&rc->st->vh->exchanges, &rc->i, NULL, NULL, &v))
            return 0;
        rc->x = v;
        rc->b = rc->x->bindings;
    }
out:
    *payload = rc->cur;
    *len = (uint32_t)n;
    return 1;
}

/* ---------------------------------------------------------------- recovery */

/* A set of (queue id, offset) -> kinds seen, for one segment's ack file. */
typedef struct ackset {
    uint64_t *keys;
    uint8_t *kinds;
    size_t cap, n;
} ackset;

static int ackset_add(ackset *a, uint64_t key, uint8_t kind)
{
    size_t i;
    if ((a->n + 1) * 2 > a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 1024, j;
        uint64_t *k = calloc(cap, sizeof *k);
        uint8_t *v = calloc(cap, 1);
        if (!k || !v) {
            free(k);
            free(v);
            return -1;
        }
        for (j = 0; j < a->cap; j++) {
            if (!a->keys[j])
                continue;
            for (i = (a->keys[j] * 0x9E3779B97F4A7C15ull >> 20) & (cap - 1); k[i]; i = (i + 1) & (cap - 1))
                ;
            k[i] = a->keys[j];
            v[i] = a->kinds[j];
        }
        free(a->keys);
        free(a->kinds);
        a->keys = k;
        a->kinds = v;
        a->cap = cap;
    }
    key++; /* 0 marks an empty slot */
    for (i = (key * 0x9E3779B97F4A7C15ull >> 20) & (a->cap - 1); a->keys[i] && a->keys[i] != key;
         i = (i + 1) & (a->cap - 1))
        ;
    if (!a->keys[i]) {
        a->keys[i] = key;
        a->n++;
    }
    a->kinds[i] |= kind;
    return 0;
}

static uint8_t ackset_get(const ackset *a, uint64_t key)
{
    size_t i;
    if (!a->cap)
        return 0;
    key++;
    for (i = (key * 0x9E3779B97F4A7C15ull >> 20) & (a->cap - 1); a->keys[i]; i = (i + 1) & (a->cap - 1))
        if (a->keys[i] == key)
            return a->kinds[i];
    return 0;
}

static int load_acks(store *st, uint32_t id, ackset *a)
{
    char path[4300];
    int fd;
    struct stat sb;
    uint8_t *buf;
    size_t n, off;
    uint32_t version, hid;

    seg_path(path, sizeof path, st->dir, id, "ack");
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : (log_error("store: cannot open %s: %s", path, strerror(errno)), -1);
    if (fstat(fd, &sb) < 0 || !(buf = malloc((size_t)sb.st_size + 1))) {
        close(fd);
        return -1;
    }
    n = (size_t)pread_full(fd, buf, (size_t)sb.st_size, 0);
    close(fd);
    if (n < SEG_HEADER) {
        free(buf);
        return 0; /* torn while being created: no entries */
    }
    if (seg_header_check(buf, n, ACK_MAGIC, &version, &hid) < 0) {
        log_error("store: %s: %s", path,
                  memcmp(buf, ACK_MAGIC, 4) ? "not a warren ack file" : "unknown format version");
        free(buf);
        return -1;
    }
    for (off = SEG_HEADER; off + ACK_ENTRY <= n; off += ACK_ENTRY) {
        uint32_t qid, roff;
        uint8_t kind;
        if (seg_ack_check(buf + off, &qid, &roff, &kind) < 0) {
            if (off + ACK_ENTRY == n)
                break; /* the last entry, torn */
            log_error("store: %s: corrupt ack entry at offset %zu; run warren-check-store to inspect or repair",
                      path, off);
            free(buf);
            return -1;
        }
        if (ackset_add(a, (uint64_t)qid << 32 | roff, kind) < 0) {
            free(buf);
            return -1;
        }
    }
    free(buf);
    return 0;
}

static int recover_segment(store *st, uint32_t id, bool newest, uint64_t *max_seq)
{
    char path[4300];
    segment *s = calloc(1, sizeof *s);
    ackset acks = {0};
    struct stat sb;
    uint8_t *mp = NULL;
    size_t n, off;
    uint32_t version, hid;
    uint64_t entries = 0;
    int rc = -1;

    if (!s)
        return -1;
    s->id = id;
    s->ackfd = -1;
    seg_path(path, sizeof path, st->dir, id, "seg");
    s->fd = open(path, O_RDWR | O_CLOEXEC);
    if (s->fd < 0 || fstat(s->fd, &sb) < 0) {
        log_error("store: cannot open %s: %s", path, strerror(errno));
        goto out;
    }
    n = (size_t)sb.st_size;
    if (n > 0) {
        mp = mmap(NULL, n, PROT_READ, MAP_PRIVATE, s->fd, 0);
        if (mp == MAP_FAILED) {
            mp = NULL;
            log_error("store: cannot map %s: %s", path, strerror(errno));
            goto out;
        }
        madvise(mp, n, MADV_SEQUENTIAL);
    }
    if (n < SEG_HEADER) {
        if (!newest) {
            log_error("store: %s: shorter than its header", path);
            goto out;
        }
        log_warn("store: %s: torn while being created; removed", path);
        s->size = SEG_HEADER;
        s->live = 0;
        rc = 0;
        goto out;
    }
    switch (seg_header_check(mp, n, SEG_MAGIC, &version, &hid)) {
    case -1:
        log_error("store: %s is not a warren segment file", path);
        goto out;
    case -2:
        log_error("store: %s has store format version %u; this warren understands version %u", path, version,
                  SEG_VERSION);
        goto out;
    }
    if (hid != id) {
        log_error("store: %s says it is segment %u", path, hid);
        goto out;
    }
    if (load_acks(st, id, &acks) < 0)
        goto out;
    for (off = SEG_HEADER; off < n;) {
        size_t size = 0;
        seg_record r;
        enum seg_check c = seg_record_check(mp + off, n - off, &size, &r);
        uint16_t i;

        if (c != SEG_OK) {
            long next = seg_find_valid(mp + off + 1, n - off - 1);
            if (newest && next < 0) {
                log_warn("store: %s: torn record at offset %zu (%s) discarded, %zu bytes", path, off,
                         seg_check_str(c), n - off);
                if (ftruncate(s->fd, (off_t)off) < 0) {
                    log_error("store: cannot truncate %s: %s", path, strerror(errno));
                    goto out;
                }
                n = off;
                break;
            }
            log_error("store: %s: corrupt record at offset %zu: %s; refusing to start. "
                      "Run `warren-check-store %s` to inspect, `--repair` to cut it out",
                      path, off, seg_check_str(c), st->dir);
            goto out;
        }
        if (r.type == REC_MSG && !(r.flags & REC_FLAG_PAGED)) {
            if (r.seq > *max_seq)
                *max_seq = r.seq;
            for (i = 0; i < r.nq; i++) {
                uint32_t qid = amqp_get32(r.qids + 4 * i);
                queue *q = queue_by_id(st, qid);
                uint8_t kind;
                qentry e;
                if (!q)
                    continue;
                kind = ackset_get(&acks, (uint64_t)qid << 32 | off);
                if (kind & ACK_KIND_ACK)
                    continue;
                memset(&e, 0, sizeof e);
                e.seq = r.seq;
                e.seg = id;
                e.off = (uint32_t)off;
                e.size = r.body_len;
                e.flags = QE_STORED | ((kind & ACK_KIND_DELIVERED) ? QE_REDELIVERED : 0);
                if (q->msg_ttl >= 0 || q->max_priority || (r.props_len >= 2 && (amqp_get16(r.props) &
                        (AMQP_BASIC_EXPIRATION_FLAG | AMQP_BASIC_PRIORITY_FLAG)))) {
                    queue_entry_times(q, &e, r.props, r.props_len, (int64_t)r.timestamp);
                }
                if (queue_recover(q, &e) < 0) {
                    log_error("store: out of memory recovering %s", path);
                    goto out;
                }
                s->live++;
                entries++;
            }
        }
        off += size;
    }
    s->size = n;
    rc = 0;
    log_debug("store: %s: %" PRIu64 " messages recovered", path, entries);
out:
    if (mp)
        munmap(mp, (size_t)sb.st_size);
    free(acks.keys);
    free(acks.kinds);
    if (rc == 0) {
        if (s->live == 0) {
            /* nothing left in it: gone (keeping ids increasing) */
            if (id >= st->next_seg_id)
                st->next_seg_id = id + 1;
            if (s->fd >= 0)
                close(s->fd);
            s->fd = -1;
            seg_path(path, sizeof path, st->dir, id, "seg");
            unlink(path);
            seg_path(path, sizeof path, st->dir, id, "ack");
            unlink(path);
            free(s);
            return 0;
        }
        if (seg_add(st, s) < 0)
            rc = -1;
        else if (id >= st->next_seg_id)
            st->next_seg_id = id + 1;
        if (rc == 0)
            return 0;
    }
    seg_free(s);
    return -1;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static int recover_messages(store *st)
{
    DIR *d = opendir(st->msgdir);
    struct dirent *de;
    uint32_t *ids = NULL;
    size_t n = 0, cap = 0, i;
    uint64_t max_seq = 0;
    int rc = 0;

    if (!d) {
        log_error("store: cannot open %s: %s", st->msgdir, strerror(errno));
        return -1;
    }
    while ((de = readdir(d))) {
        unsigned id;
        char ext[8];
        if (sscanf(de->d_name, "%10u.%3s", &id, ext) != 2 || strcmp(ext, "seg") != 0 || strlen(de->d_name) != 14)
            continue;
        if (n == cap) {
            uint32_t *v = realloc(ids, (cap = cap ? cap * 2 : 64) * sizeof *v);
            if (!v) {
                closedir(d);
                free(ids);
                return -1;
            }
            ids = v;
        }
        ids[n++] = id;
    }
    closedir(d);
    if (n)
        qsort(ids, n, sizeof *ids, cmp_u32);
    for (i = 0; i < n && rc == 0; i++)
        rc = recover_segment(st, ids[i], i == n - 1, &max_seq);
    free(ids);
    if (max_seq >= st->vh->next_seq)
        st->vh->next_seq = max_seq + 1;
    if (st->next_seg_id == 0)
        st->next_seg_id = 1;
    return rc;
}

/* ------------------------------------------------------------ open, close */

static uint64_t free_bytes(store *st)
{
    const char *override = getenv("WARREN_TEST_DISK_FREE_FILE");
    struct statvfs sv;

    if (override) {
        /* test hook: the free space is whatever number this file holds */
        FILE *f = fopen(override, "r");
        unsigned long long v;
        if (f) {
            int ok = fscanf(f, "%llu", &v) == 1;
            fclose(f);
            if (ok)
                return v;
        }
    }
    if (statvfs(st->dir, &sv) < 0)
        return UINT64_MAX;
    return (uint64_t)sv.f_bavail * sv.f_frsize;
}

void store_tick(store *st)
{
    uint64_t free_now = free_bytes(st);
    bool alarm = free_now < st->disk_free_limit;

    if (alarm != st->alarm) {
        st->alarm = alarm;
        if (alarm)
            log_warn("store: free disk space %" PRIu64 " bytes is below the limit of %" PRIu64
                     " bytes: publishers are blocked",
                     free_now, st->disk_free_limit);
        else
            log_info("store: free disk space %" PRIu64 " bytes is above the limit again: publishers unblocked",
                     free_now);
        if (st->hooks.disk_alarm)
            st->hooks.disk_alarm(st->hooks.ctx, alarm);
    }
    /* an idle, drained current segment gives its space back */
    if (st->cur && st->cur->live == 0 && st->wlen == 0 && st->cur->size > SEG_HEADER &&
        st->synced_lsn >= st->written_lsn) {
        segment *s = st->cur;
        st->cur = NULL;
        seg_delete(st, s);
    }
}

int store_open(store **out, vhost *vh, const char *dir, const config *cfg, store_hooks hooks)
{
    store *st = calloc(1, sizeof *st);
    replay_ctx rctx;
    rewrite_ctx wctx = {0};
    uint64_t t0 = now_ms();
    size_t i;

    if (!st)
        return -1;
    st->vh = vh;
    st->hooks = hooks;
    st->disk_free_limit = cfg->disk_free_limit;
    st->next_qid = 1;
    st->efd = -1;
    map_init(&st->qids);
    pthread_mutex_init(&st->mu, NULL);
    pthread_cond_init(&st->cv, NULL);
    snprintf(st->dir, sizeof st->dir, "%s", dir);
    snprintf(st->msgdir, sizeof st->msgdir, "%s/msgs", dir);
    if (mkdir(st->msgdir, 0755) < 0 && errno != EEXIST) {
        log_error("store: cannot create %s: %s", st->msgdir, strerror(errno));
        goto fail;
    }
    rctx.st = st;
    rctx.vh = vh;
    if (defs_open(&st->defs, dir, replay_def, &rctx) < 0)
        goto fail;
    if (recover_messages(st) < 0)
        goto fail;
    wctx.st = st;
    if (defs_rewrite(st->defs, rewrite_next, &wctx) < 0) {
        free(wctx.cur);
        goto fail;
    }
    free(wctx.cur);
    st->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (st->efd < 0 || ev_io_start(vh->b->loop, &st->efd_io, st->efd, EPOLLIN, on_synced) < 0) {
        log_error("store: eventfd: %s", strerror(errno));
        goto fail;
    }
    if (pthread_create(&st->thread, NULL, sync_main, st) != 0) {
        log_error("store: cannot start the sync thread");
        goto fail;
    }
    st->thread_started = true;
    st->last_ack_sync = now_ms();
    {
        uint64_t msgs = 0;
        for (i = 0; i < st->nsegs; i++)
            msgs += st->segs[i]->live;
        log_info("store: %zu durable queues, %" PRIu64 " messages in %zu segments recovered in %" PRIu64 " ms",
                 map_count(&st->qids), msgs, st->nsegs, now_ms() - t0);
    }
    *out = st;
    store_tick(st);
    return 0;
fail:
    store_close(st);
    return -1;
}

void store_close(store *st)
{
    size_t i;
    if (!st)
        return;
    if (st->cur)
        write_buffer(st);
    flush_acks(st);
    if (st->thread_started) {
        pthread_mutex_lock(&st->mu);
        st->stop = true;
        pthread_cond_signal(&st->cv);
        pthread_mutex_unlock(&st->mu);
        pthread_join(st->thread, NULL);
    }
    for (i = 0; i < (size_t)st->job_nfds; i++)
        close(st->job_fds[i]);
    for (i = 0; i < st->nsegs; i++) {
        segment *s = st->segs[i];
        if (fdatasync(s->fd) < 0)
            log_error("store: fdatasync of segment %u at shutdown: %s", s->id, strerror(errno));
        if (s->ackfd >= 0 && fdatasync(s->ackfd) < 0)
            log_error("store: fdatasync of acks of segment %u at shutdown: %s", s->id, strerror(errno));
        if (s->alloc > s->size)
            fallocate(s->fd, FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE, (off_t)s->size,
                      (off_t)(s->alloc - s->size));
        seg_free(s);
    }
    free(st->segs);
    if (st->efd >= 0)
        close(st->efd);
    defs_close(st->defs);
    map_free(&st->qids);
    pthread_mutex_destroy(&st->mu);
    pthread_cond_destroy(&st->cv);
    free(st->wbuf);
    free(st->rbuf);
    free(st);
}

uint64_t store_disk_bytes(const store *st)
{
    size_t i;
    uint64_t n = 0;
    for (i = 0; i < st->nsegs; i++)
        n += st->segs[i]->size;
    return n;
}
