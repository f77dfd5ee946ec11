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
 * marked redelivered.  Ack files are written every turn, before the turn's
 * output leaves (store_write_acks: so a delivery, or a reply after an
 * ack, never runs ahead of its entry, and a crash of warren keeps them
 * all) - copied into a shared mapping of the file, so writing them costs
 * no system call (see flush_acks) - and fdatasync'ed every second (so at most the last second of acks
 * is lost to a power cut: those messages are delivered again - at least
 * once, never lost).
 *
 * Reclaiming.  Each segment counts its live (queue, message) references
 * and roughly their bytes; when a segment other than the one being
 * written has none left, its two files are deleted.  An idle current
 * segment with nothing live is deleted too, so a drained broker goes back
 * to (almost) no disk.  An old segment mostly acked is compacted in place
 * (compact.c); the queues keep the offsets they know, which the segment
 * translates (segment.remap).
 *
 * Memory.  Queues keep only the head of a long backlog in RAM; deeper
 * persistent messages are dropped from memory as soon as they are stored
 * and read back (through a 1 MiB read-ahead buffer) when their turn comes.
 * store_read_msg says why a read back failed: an I/O error may pass (the
 * broker keeps the message queued), a record that fails its checksum never
 * will (store_move_aside keeps its bytes in DATA/corrupt/ and pads over
 * it).
 *
 * Opening.  The caller holds the data directory's lock (dirlock.h) and has
 * bound its listening addresses: opening rewrites files (definitions,
 * torn tails, emptied segments), which must never happen under another
 * process using the directory.  msgs/ must be writable (else the start is
 * refused); a full disk is not refused (the alarm blocks publishers, the
 * consumers drain).
 *
 * Recovery.  Definitions first (defs_log.c), then every segment in order
 * (recover.c): its ack entries into a hash set, then its records, each
 * unacked (queue, record) pair appended to its queue, so queue order is
 * publish order.  The store builds nothing of the broker's: it hands each
 * definition and each message to the broker's store_recovery hooks
 * (src/recovery.c), and knows a queue by its id and the broker's opaque
 * handle for it.  A
 * record that fails its checksum is a torn tail if nothing valid follows
 * it in the newest segment (the file is truncated there) and corruption
 * anywhere else (start-up stops, naming the file and offset).
 */
#include "store/store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "store/crc32c.h"
#include "store/defs.h"
#include "store/segment.h"

/* ---------------------------------------------------------------- helpers */

void *store_queue_by_id(store *st, uint32_t qid)
{
    return qidmap_get(&st->qids, qid);
}

size_t store_seg_index(const store *st, uint32_t id)
{
    size_t lo = 0, hi = st->nsegs;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (st->segs[mid]->id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

segment *store_seg_find(store *st, uint32_t id)
{
    size_t i = store_seg_index(st, id);
    return i < st->nsegs && st->segs[i]->id == id ? st->segs[i] : NULL;
}

size_t store_remap_index(const segment *s, int col, uint64_t v)
{
    size_t lo = 0, hi = s->nremap;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s->remap[2 * mid + col] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

bool store_seg_off(const segment *s, uint32_t off, uint32_t *file_off)
{
    size_t i;
    if (!s->remap) {
        *file_off = off;
        return true;
    }
    i = store_remap_index(s, REMAP_KNOWN, off);
    if (i < s->nremap && s->remap[2 * i] == off) {
        *file_off = s->remap[2 * i + 1];
        return true;
    }
    return false;
}

int store_seg_add(store *st, segment *s)
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

void store_ack_detach(segment *s)
{
    if (s->ackmap)
        munmap(s->ackmap, s->ackmap_len);
    s->ackmap = NULL;
    s->ackmap_len = 0;
    s->ack_size = 0;
    if (s->ackfd >= 0)
        close(s->ackfd);
    s->ackfd = -1;
}

void store_seg_free(segment *s)
{
    if (s->fd >= 0)
        close(s->fd);
    store_ack_detach(s);
    free(s->ackbuf);
    free(s->remap);
    free(s);
}

/* Delete a segment's files and forget it. */
static void seg_delete(store *st, segment *s)
{
    char path[4300];
    size_t i;

    store_compact_abort(st, s);
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
    store_seg_free(s);
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
    if (hi <= lo)
        return;
    if (st->nfailed == (int)(sizeof st->failed / sizeof *st->failed)) {
        /* full: the two oldest become one range covering both (the lsns
         * between them are long decided; nothing is forgotten) */
        st->failed[1].lo = st->failed[0].lo < st->failed[1].lo ? st->failed[0].lo : st->failed[1].lo;
        st->failed[1].hi = st->failed[0].hi > st->failed[1].hi ? st->failed[0].hi : st->failed[1].hi;
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

/*
 * The loop hands the thread a job: a list of (dup'ed fd, segment, kind)
 * and the lsn that is on disk once they are all synced.  The list grows as
 * needed; nothing asked for is ever dropped.  The thread reports, under the
 * mutex and before it advances t_done_lsn, which segment files failed, so
 * the loop always learns of a failure no later than of a success that
 * came after it.  A failed fdatasync of a segment condemns every record
 * written to that segment since its last good sync, including records the
 * loop wrote while the failing call ran: the kernel reports a writeback
 * error once, and a later fdatasync of the same file returns 0 even though
 * those pages may never reach the disk.
 */
const uint32_t store_latency_bounds_us[STORE_LATENCY_NBOUNDS] = {
    100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000,
};

static uint64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void latency_add(store_latency *l, uint64_t us)
{
    int i = 0;
    while (i < STORE_LATENCY_NBOUNDS && us > store_latency_bounds_us[i])
        i++;
    l->bucket[i]++;
    l->count++;
    l->sum_us += us;
}

static void *sync_main(void *arg)
{
    store *st = arg;

    pthread_mutex_lock(&st->mu);
    for (;;) {
        uint32_t failed[MAX_FAILED_SEGS], ack_seg = 0;
        int nfailed = 0, seg_err = 0, ack_err = 0, cmp_err = 0, i;
        bool overflow = false;
        uint64_t lsn, lo, cmp, one = 1;
        size_t n, k;
        store_latency lat = {0};
        sync_item *items;

        while (!st->job_ready && !st->stop)
            pthread_cond_wait(&st->cv, &st->mu);
        if (!st->job_ready && st->stop)
            break;
        {
            /* take the job by swapping lists: the loop fills the other one */
            sync_item *t = st->t_job;
            size_t c = st->t_capjob;
            st->t_job = st->job;
            st->t_capjob = st->capjob;
            st->job = t;
            st->capjob = c;
        }
        items = st->t_job;
        n = st->njob;
        st->njob = 0;
        lsn = st->job_lsn;
        cmp = st->job_cmp;
        st->job_cmp = 0;
        lo = st->t_done_lsn;
        st->job_ready = false;
        pthread_mutex_unlock(&st->mu);

        for (k = 0; k < n; k++) {
            sync_item *it = &items[k];
            uint64_t t0 = mono_us();
            int rc = it->kind == SYNC_DIR ? fsync(it->fd) : fdatasync(it->fd);
            if (it->kind != SYNC_DIR)
                latency_add(&lat, mono_us() - t0);
            if (rc < 0) {
                int e = errno;
                if (it->kind == SYNC_SEG) {
                    if (!seg_err)
                        seg_err = e;
                    if (nfailed < MAX_FAILED_SEGS)
                        failed[nfailed++] = it->seg;
                    else
                        overflow = true;
                } else if (it->kind == SYNC_CMP) {
                    if (!cmp_err)
                        cmp_err = e;
                } else if (!ack_err) {
                    ack_err = e;
                    ack_seg = it->seg;
                }
            }
            close(it->fd);
        }

        pthread_mutex_lock(&st->mu);
        for (i = 0; i <= STORE_LATENCY_NBOUNDS; i++)
            st->t_latency.bucket[i] += lat.bucket[i];
        st->t_latency.count += lat.count;
        st->t_latency.sum_us += lat.sum_us;
        if (seg_err) {
            /* failures the loop has not seen yet are merged, never lost */
            if (!st->t_errno) {
                st->t_fail_lo = lo;
                st->t_nfail_segs = 0;
            } else if (lo < st->t_fail_lo) {
                st->t_fail_lo = lo;
            }
            if (overflow)
                st->t_nfail_segs = -1;
            for (i = 0; i < nfailed && st->t_nfail_segs >= 0; i++) {
                int j;
                for (j = 0; j < st->t_nfail_segs && st->t_fail_segs[j] != failed[i]; j++)
                    ;
                if (j < st->t_nfail_segs)
                    continue;
                if (st->t_nfail_segs == MAX_FAILED_SEGS)
                    st->t_nfail_segs = -1;
                else
                    st->t_fail_segs[st->t_nfail_segs++] = failed[i];
            }
            st->t_errno = seg_err;
        }
        if (ack_err && !st->t_ack_errno) {
            st->t_ack_errno = ack_err;
            st->t_ack_seg = ack_seg;
        }
        if (cmp) {
            st->t_cmp_done = cmp;
            st->t_cmp_errno = cmp_err;
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

int store_request_sync(store *st, int fd, uint32_t seg, uint8_t kind, uint64_t lsn, uint64_t cmp_ticket)
{
    size_t i;

    pthread_mutex_lock(&st->mu);
    /* the current segment is asked for every turn: once per job is enough
     * (ack files are asked for once a second, compactions once) */
    for (i = 0; kind == SYNC_SEG && i < st->njob; i++)
        if (st->job[i].seg == seg && st->job[i].kind == kind && st->job[i].ofd == fd)
            break;
    if (kind != SYNC_SEG)
        i = st->njob;
    if (i == st->njob) {
        int d;
        if (st->njob == st->capjob) {
            size_t cap = st->capjob ? st->capjob * 2 : 16;
            sync_item *v = realloc(st->job, cap * sizeof *v);
            if (!v) {
                pthread_mutex_unlock(&st->mu);
                log_error("store: out of memory asking for a sync");
                return -1;
            }
            st->job = v;
            st->capjob = cap;
        }
        d = fcntl(fd, F_DUPFD_CLOEXEC, 0);
        if (d < 0) {
            int e = errno;
            pthread_mutex_unlock(&st->mu);
            log_error("store: dup: %s", strerror(e));
            return -1;
        }
        st->job[st->njob++] = (sync_item){.fd = d, .ofd = fd, .seg = seg, .kind = kind};
    }
    if (lsn > st->job_lsn)
        st->job_lsn = lsn;
    if (cmp_ticket > st->job_cmp)
        st->job_cmp = cmp_ticket;
    st->job_ready = true;
    pthread_cond_signal(&st->cv);
    pthread_mutex_unlock(&st->mu);
    return 0;
}

/* A segment's sync failed (or could not be asked for): every record
 * written to it since lo is lost to its publishers, and it takes no more. */
static void seg_failed(store *st, segment *s, uint64_t lo)
{
    uint64_t hi = s == st->cur ? st->lsn : s->end_lsn;
    if (lo < s->first_lsn)
        lo = s->first_lsn;
    mark_failed(st, lo, hi);
    s->broken = true;
}

static void on_synced(ev_loop *loop, ev_io *io, uint32_t events)
{
    store *st = (store *)((char *)io - offsetof(store, efd_io));
    uint32_t segs[MAX_FAILED_SEGS], ack_seg;
    uint64_t v, done, lo = 0, cmp_done;
    int err, nsegs = 0, ack_err, cmp_err, i;
    (void)loop, (void)events;

    if (read(st->efd, &v, sizeof v) < 0 && errno != EAGAIN)
        log_warn("store: eventfd read: %s", strerror(errno));
    pthread_mutex_lock(&st->mu);
    done = st->t_done_lsn;
    err = st->t_errno;
    if (err) {
        lo = st->t_fail_lo;
        nsegs = st->t_nfail_segs;
        if (nsegs > 0)
            memcpy(segs, st->t_fail_segs, (size_t)nsegs * sizeof *segs);
        st->t_errno = 0;
        st->t_nfail_segs = 0;
    }
    ack_err = st->t_ack_errno;
    ack_seg = st->t_ack_seg;
    st->t_ack_errno = 0;
    cmp_done = st->t_cmp_done;
    cmp_err = st->t_cmp_errno;
    st->t_cmp_done = 0;
    pthread_mutex_unlock(&st->mu);

    if (err) {
        /* before synced_lsn moves: the failure outranks any later success */
        for (i = 0; i < nsegs; i++) {
            segment *s = store_seg_find(st, segs[i]);
            log_error("store: fdatasync of segment %u failed: %s; the messages written to it since its last "
                      "good sync are nacked, and it takes no more", segs[i], strerror(err));
            if (s) {
                seg_failed(st, s, lo);
            } else {
                /* gone already: which lsns it held is forgotten, so
                 * everything since lo counts as failed */
                mark_failed(st, lo, st->lsn);
                if (st->cur)
                    st->cur->broken = true;
            }
        }
        if (nsegs < 0) {
            log_error("store: fdatasync of many segments failed: %s; everything written since the last good "
                      "sync is nacked", strerror(err));
            mark_failed(st, lo, st->lsn);
            if (st->cur)
                st->cur->broken = true;
        }
    }
    if (ack_err) {
        if (ack_seg)
            log_error("store: fdatasync of the ack file of segment %u failed: %s (after a power failure its "
                      "messages may be delivered again)", ack_seg, strerror(ack_err));
        else
            log_error("store: fsync of %s failed: %s", st->msgdir, strerror(ack_err));
    }
    if (cmp_done)
        store_compact_synced(st, cmp_done, cmp_err);
    if (done > st->synced_lsn)
        st->synced_lsn = done;
    if (st->hooks.synced)
        st->hooks.synced(st->hooks.ctx);
}

/* ----------------------------------------------------------------- writing */

/* A disk that keeps failing would log once per publish, or once per loop
 * turn of acks (462 identical lines in one burst were seen): a kind of
 * failure is logged at most once a second, with a count of the lines not
 * logged since.  *last and *missed are that kind's state; false: do not
 * log now (counted). */
static bool log_now(uint64_t *last, uint64_t *missed, char *more, size_t n)
{
    uint64_t now = now_ms();
    if (*last && now - *last < 1000) {
        (*missed)++;
        return false;
    }
    if (*missed)
        snprintf(more, n, " (and %" PRIu64 " more failures like it since the last such line)", *missed);
    else
        more[0] = 0;
    *last = now;
    *missed = 0;
    return true;
}

static void create_error(store *st, const char *what, const char *path)
{
    char more[96];
    int e = errno;
    if (log_now(&st->create_failed, &st->create_failures, more, sizeof more))
        log_error("store: %s %s: %s%s", what, path, strerror(e), more);
}

/* A failed write to an ack file: its entries of this turn are lost (the
 * messages they acked may be delivered again after a restart).  e is the
 * errno; fmt and the rest say what failed. */
static void ack_error(store *st, int e, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void ack_error(store *st, int e, const char *fmt, ...)
{
    char more[96], what[4400];
    va_list ap;
    if (!log_now(&st->ack_failed, &st->ack_failures, more, sizeof more))
        return;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    log_error("store: %s: %s (acks will be redelivered after a restart)%s", what, strerror(e), more);
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
    s->fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
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
    seg_header_write(h, SEG_MAGIC, s->id, 0);
    if (store_pwrite_all(s->fd, h, sizeof h, 0) < 0 || fdatasync(s->fd) < 0 || store_sync_dir(st->msgdir) < 0) {
        create_error(st, "cannot initialise", path);
        close(s->fd);
        unlink(path);
        free(s);
        return NULL;
    }
    s->size = SEG_HEADER;
    s->first_lsn = s->end_lsn = st->lsn;
    if (store_seg_add(st, s) < 0) {
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
    if (store_pwrite_all(s->fd, st->wbuf, st->wlen, s->size) < 0) {
        log_error("store: write to segment %u failed: %s; %zu bytes of messages refused", s->id, strerror(errno),
                  st->wlen);
        /* cut off whatever part did get written, so the log stays whole */
        if (ftruncate(s->fd, (off_t)s->size) < 0)
            log_error("store: cannot truncate segment %u: %s", s->id, strerror(errno));
        goto failed;
    }
    s->size += st->wlen;
    st->written_lsn += st->wlen;
    st->written_since_check += st->wlen;
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
        /* finish the old segment: write it, and have the sync thread sync
         * it with the next job (never here: a failure must reach the loop
         * the one way, in order with the successes) */
        write_buffer(st);
        s->end_lsn = st->lsn;
        if (!s->broken && st->written_lsn > st->synced_lsn &&
            store_request_sync(st, s->fd, s->id, SYNC_SEG, st->written_lsn, 0) < 0)
            seg_failed(st, s, st->synced_lsn);
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

static int put_record(store *st, uint8_t flags, msg *m, uint64_t seq, const uint32_t *qids, uint32_t nq,
                      store_pos *pos);

int store_put(store *st, msg *m, uint64_t seq, const uint32_t *qids, uint32_t nq, store_pos *pos)
{
    return put_record(st, 0, m, seq, qids, nq, pos);
}

int store_page(store *st, msg *m, uint64_t seq, uint32_t qid, store_pos *pos)
{
    return put_record(st, REC_FLAG_PAGED, m, seq, &qid, 1, pos);
}

static int put_record(store *st, uint8_t flags, msg *m, uint64_t seq, const uint32_t *qids, uint32_t nq,
                      store_pos *pos)
{
    size_t size = seg_record_size(nq, m->exlen, m->rklen, m->props_len, m->body_len);

    if (size - REC_HEADER > REC_MAX) {
        /* recovery would take it for damage: refuse it (the publisher is
         * nacked) rather than confirm what cannot come back */
        log_error("store: a message of %u body bytes for %u queues makes a record of %zu bytes, over the limit of "
                  "%u; refused", m->body_len, nq, size, REC_MAX);
        return -1;
    }
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
    if (seq > st->max_seq)
        st->max_seq = seq;
    pos->lsn = st->lsn;
    st->cur->live += nq;
    st->cur->live_bytes += (uint64_t)nq * (m->body_len + LIVE_OVERHEAD);
    return 0;
}

static void ack_entry(store *st, uint32_t qid, uint32_t segid, uint32_t off, uint8_t kind, uint32_t body_len,
                      uint32_t returns)
{
    segment *s = store_seg_find(st, segid);
    if (!s || !store_seg_off(s, off, &off))
        return; /* gone, or compacted away: nothing to record */
    if (kind == ACK_KIND_ACK) {
        if (s->live > 0)
            s->live--;
        s->live_bytes = s->live_bytes > body_len + LIVE_OVERHEAD ? s->live_bytes - body_len - LIVE_OVERHEAD : 0;
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
    seg_ack_write(s->ackbuf + s->acklen, qid, off, kind, returns);
    s->acklen += ACK_ENTRY;
    st->acks_made++;
    if (kind == ACK_KIND_ACK)
        st->turn_acks++;
    else
        st->turn_delivered++;
    if (st->cmp)
        store_compact_note(st, s, qid, off, kind, returns);
    if (!s->on_ack_list) {
        s->on_ack_list = true;
        s->ack_next = st->ack_list;
        st->ack_list = s;
    }
}

void store_region_ref(store *st, uint32_t seg, int delta)
{
    segment *s = store_seg_find(st, seg);
    if (!s)
        return;
    if (delta > 0)
        s->region_refs++;
    else if (s->region_refs)
        s->region_refs--;
}

void store_checkpoint_soon(store *st)
{
    st->ckpt_soon = true;
}

void store_ack(store *st, uint32_t qid, uint32_t seg, uint32_t off, uint32_t body_len)
{
    ack_entry(st, qid, seg, off, ACK_KIND_ACK, body_len, 0);
}

void store_delivered(store *st, uint32_t qid, uint32_t seg, uint32_t off, uint32_t returns)
{
    ack_entry(st, qid, seg, off, ACK_KIND_DELIVERED, 0, returns);
}

void store_crash_point(const store *st, const char *name)
{
    if (st->test_crash_at && strcmp(st->test_crash_at, name) == 0) {
        log_warn("store: WARREN_TEST_CRASH_AT=%s: killing myself", name);
        raise(SIGKILL);
    }
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

/*
 * Ack files are written through a shared mapping.  A turn's entries are a
 * memcpy into it: the bytes are in the page cache the moment they are
 * copied, exactly as after a write(2), so a kill -9 right after loses
 * nothing, and the once-a-second fdatasync of the file covers them as it
 * covered written ones.  The mapping covers space reserved with fallocate
 * (ACK_MAP_MIN at first, doubling), so a store into it can never meet a
 * full disk (no SIGBUS): the disk says no at the fallocate, and then the
 * entries go out with pwrite as before.  The unused tail is zero, and
 * readers skip blank entries (segment.h); a clean stop cuts the file back
 * to its entries.
 */
#define ACK_MAP_MIN (64u << 10)
#define ACK_MAP_MAX (16u << 20)    /* past this, pwrite: bounds what a segment maps */

/* Find the end of the entries of an open ack file whose size is `size`. */
static int ack_find_end(segment *s, uint64_t size)
{
    uint8_t buf[4096];
    uint64_t end = size < SEG_HEADER ? SEG_HEADER : size - (size - SEG_HEADER) % ACK_ENTRY;

    while (end > SEG_HEADER) {
        uint64_t lo = end - SEG_HEADER > sizeof buf ? end - sizeof buf : SEG_HEADER;
        size_t n = (size_t)(end - lo), e;
        if (store_pread_full(s->ackfd, buf, n, lo) != (ssize_t)n)
            return -1;
        e = n;
        while (e >= ACK_ENTRY && seg_ack_is_blank(buf + e - ACK_ENTRY))
            e -= ACK_ENTRY;
        if (e > 0) {
            uint32_t qid, off;
            uint8_t kind;
            end = lo + e;
            if (seg_ack_check(buf + e - ACK_ENTRY, &qid, &off, &kind) < 0) {
                /* torn by a crash (recovery has dropped it): blank it, so
                 * the entries appended after it do not make it look like
                 * corruption in the middle of the file */
                static const uint8_t zero[ACK_ENTRY];
                if (pwrite(s->ackfd, zero, ACK_ENTRY, (off_t)(end - ACK_ENTRY)) != ACK_ENTRY)
                    return -1;
                end -= ACK_ENTRY;
                continue;
            }
            break;
        }
        end = lo;
    }
    s->ack_size = end;
    return 0;
}

int store_ack_attach(store *st, segment *s)
{
    struct stat sb;
    int fl;

    if (s->ack_size)
        return 0;
    if (s->ackfd < 0) {
        char path[4300];
        seg_path(path, sizeof path, st->dir, s->id, "ack");
        s->ackfd = open(path, O_RDWR | O_CLOEXEC);
        if (s->ackfd < 0)
            return errno == ENOENT ? 0 : -1;
    }
    /* an ack file handed over by a compaction was written with O_APPEND */
    if ((fl = fcntl(s->ackfd, F_GETFL)) < 0 || ((fl & O_APPEND) && fcntl(s->ackfd, F_SETFL, fl & ~O_APPEND) < 0))
        return -1;
    if (fstat(s->ackfd, &sb) < 0)
        return -1;
    if (sb.st_size < SEG_HEADER)
        return 0; /* cut short: flush_acks writes the header again */
    return ack_find_end(s, (uint64_t)sb.st_size);
}

/* Make the mapping cover `need` bytes; -1 when it cannot (then pwrite). */
static int ack_map(segment *s, uint64_t need)
{
    size_t len = s->ackmap_len ? s->ackmap_len : ACK_MAP_MIN;
    void *p;

    if (need > ACK_MAP_MAX)
        return -1;
    while (len < need)
        len *= 2;
    if (len > ACK_MAP_MAX)
        len = ACK_MAP_MAX;
    if (fallocate(s->ackfd, 0, 0, (off_t)len) < 0)
        return -1;
    p = s->ackmap ? mremap(s->ackmap, s->ackmap_len, len, MREMAP_MAYMOVE)
                  : mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, s->ackfd, 0);
    if (p == MAP_FAILED) {
        if (s->ackmap)
            munmap(s->ackmap, s->ackmap_len);
        s->ackmap = NULL;
        s->ackmap_len = 0;
        return -1;
    }
    s->ackmap = p;
    s->ackmap_len = len;
    return 0;
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
        if (store_ack_attach(st, s) < 0) {
            ack_error(st, errno, "cannot open the ack file of segment %u", s->id);
            store_ack_detach(s);
            s->acklen = 0;
            continue;
        }
        if (s->ackfd < 0 || s->ack_size < SEG_HEADER) {
            /* new, or its header was cut short: (re)write the header */
            char path[4300];
            uint8_t h[SEG_HEADER];
            seg_path(path, sizeof path, st->dir, s->id, "ack");
            if (s->ackfd < 0)
                s->ackfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
            seg_header_write(h, ACK_MAGIC, s->id, s->gen);
            if (s->ackfd < 0 || ftruncate(s->ackfd, 0) < 0 || pwrite(s->ackfd, h, sizeof h, 0) != (ssize_t)sizeof h) {
                ack_error(st, errno, "cannot write %s", path);
                store_ack_detach(s);
                s->acklen = 0;
                continue;
            }
            s->ack_size = SEG_HEADER;
        }
        if (s->ack_size + s->acklen <= s->ackmap_len || ack_map(s, s->ack_size + s->acklen) == 0) {
            memcpy(s->ackmap + s->ack_size, s->ackbuf, s->acklen);
            s->ack_size += s->acklen;
        } else if (pwrite(s->ackfd, s->ackbuf, s->acklen, (off_t)s->ack_size) == (ssize_t)s->acklen) {
            s->ack_size += s->acklen;
        } else {
            ack_error(st, errno, "cannot write acks of segment %u", s->id);
        }
        s->acks_unsynced = true;
        s->acklen = 0;
        if (s->ackcap > 65536) {
            free(s->ackbuf);
            s->ackbuf = NULL;
            s->ackcap = 0;
        }
    }
}

int store_sync_acks_now(store *st)
{
    size_t i;
    for (i = 0; i < st->nsegs; i++) {
        segment *s = st->segs[i];
        if (s->acks_unsynced && s->ackfd >= 0) {
            if (fdatasync(s->ackfd) < 0) {
                log_error("store: cannot sync the ack file of segment %u: %s", s->id, strerror(errno));
                return -1;
            }
            s->acks_unsynced = false;
        }
    }
    return 0;
}

void store_write_acks(store *st)
{
    flush_acks(st);
}

void store_write_early(store *st)
{
    flush_acks(st);
    if (st->cur && st->wlen)
        write_buffer(st);
}

void store_output_done(store *st)
{
    if (st->turn_acks)
        store_crash_point(st, "after-ack-reply");
    if (st->turn_delivered)
        store_crash_point(st, "after-delivery");
}

static void check_disk(store *st);

bool store_flush(store *st)
{
    if (st->cur && st->wlen)
        write_buffer(st);
    flush_acks(st);
    if (st->cur && st->written_lsn > st->synced_lsn && !lsn_failed(st, st->written_lsn) &&
        store_request_sync(st, st->cur->fd, st->cur->id, SYNC_SEG, st->written_lsn, 0) < 0)
        seg_failed(st, st->cur, st->synced_lsn);
    /* a fast publisher must meet the disk alarm before the disk is full,
     * not up to a second later: look again after every quarter of the
     * limit written */
    if (st->disk_free_limit && st->written_since_check >= st->disk_free_limit / 4)
        check_disk(st);
    st->turn_acks = st->turn_delivered = 0;
    store_checkpoint_tick(st);
    if (now_ms() - st->last_ack_sync >= ACK_SYNC_MS) {
        size_t i;
        st->last_ack_sync = now_ms();
        for (i = 0; i < st->nsegs; i++) {
            segment *s = st->segs[i];
            if (s->acks_unsynced && s->ackfd >= 0 &&
                store_request_sync(st, s->ackfd, s->id, SYNC_ACK, 0, 0) == 0)
                s->acks_unsynced = false;
        }
    }
    return store_compact_step(st);
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

/* A read that failed but may work later: counted, and said so. */
static int read_again(store *st, uint32_t segid, uint32_t off, const char *why)
{
    st->read_failures++;
    log_error("store: cannot read segment %u at offset %u: %s (%" PRIu64 " read failures so far)", segid, off, why,
              st->read_failures);
    return STORE_READ_AGAIN;
}

int store_read_msg(store *st, uint32_t segid, uint32_t off, msg **out)
{
    segment *s = store_seg_find(st, segid);
    const uint8_t *p;
    size_t avail, size;
    seg_record r;
    enum seg_check rc;
    uint8_t *big = NULL;
    uint32_t known = off;

    *out = NULL;
    if (!s || !store_seg_off(s, off, &off)) {
        log_error("store: message at segment %u offset %u: %s", segid, known,
                  s ? "compacted away" : "segment is gone");
        return STORE_READ_GONE;
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
            return read_again(st, segid, off, "out of memory");
        st->rlen = 0;
        got = store_pread_full(s->fd, st->rbuf, READ_AHEAD, off);
        if (got < 0)
            return read_again(st, segid, off, strerror(errno));
        if (got < REC_HEADER) {
            log_error("store: cannot read segment %u at offset %u: the file ends there", segid, off);
            return STORE_READ_DAMAGED;
        }
        st->rseg = segid;
        st->roff = off;
        st->rlen = (size_t)got;
        len = amqp_get32(st->rbuf);
        if ((size_t)len + REC_HEADER > (size_t)got && len <= REC_MAX && off + REC_HEADER + (uint64_t)len <= s->size) {
            /* bigger than the read-ahead: read it whole */
            ssize_t n;
            if (!(big = malloc((size_t)len + REC_HEADER)))
                return read_again(st, segid, off, "out of memory");
            n = store_pread_full(s->fd, big, (size_t)len + REC_HEADER, off);
            if (n != (ssize_t)len + REC_HEADER) {
                int e = errno;
                free(big);
                if (n < 0)
                    return read_again(st, segid, off, strerror(e));
                log_error("store: cannot read segment %u at offset %u: short read", segid, off);
                return STORE_READ_DAMAGED;
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
        return STORE_READ_DAMAGED;
    }
    *out = record_to_msg(&r);
    free(big);
    return *out ? STORE_READ_OK : read_again(st, segid, off, "out of memory");
}

/*
 * A record that fails its check where the broker wrote a good one: its
 * bytes are copied to DATA/corrupt/SSSSSSSSSS-OOOOOOOOOO.rec (segment id,
 * offset in the file) for inspection and warren-check-store's report, and,
 * when its length is sane, overwritten in the segment by a padding record
 * of the same size, so the segment still reads to its end and the next
 * start is not refused for it.  The caller takes the message out of its
 * queue.  Once per record: later calls for it (other queues) find it done.
 */
void store_move_aside(store *st, uint32_t segid, uint32_t off)
{
    char dir[4300], path[4400];
    segment *s = store_seg_find(st, segid);
    uint8_t head[REC_HEADER], *buf = NULL;
    uint32_t len;
    size_t n;
    int fd;

    st->moved_aside++;
    if (!s || !store_seg_off(s, off, &off))
        return;
    if (s == st->cur && off >= s->size)
        return; /* still in memory, never damaged by a disk */
    if (store_pread_full(s->fd, head, sizeof head, off) != (ssize_t)sizeof head) {
        log_error("store: cannot read segment %u at offset %u to move it aside: %s", segid, off, strerror(errno));
        return;
    }
    len = amqp_get32(head);
    if (head[0] == 0 && len > 0 && len <= REC_MAX && off + REC_HEADER + (uint64_t)len <= s->size) {
        /* maybe padded already (another queue's copy of it) */
        uint8_t t;
        if (store_pread_full(s->fd, &t, 1, off + REC_HEADER) == 1 && t == REC_PAD)
            return;
    }
    /* the bytes to keep: the record as long as its header says, if that
     * fits in the file, else up to the end of the file (at most 16 MiB) */
    if (len > 0 && len <= REC_MAX && off + REC_HEADER + (uint64_t)len <= s->size)
        n = REC_HEADER + (size_t)len;
    else
        n = s->size - off > SEG_SOFT_MAX ? SEG_SOFT_MAX : (size_t)(s->size - off);
    snprintf(dir, sizeof dir, "%s/corrupt", st->dir);
    snprintf(path, sizeof path, "%s/%010u-%010u.rec", dir, segid, off);
    if (!(buf = malloc(n)) || store_pread_full(s->fd, buf, n, off) != (ssize_t)n ||
        (mkdir(dir, 0700) < 0 && errno != EEXIST)) {
        log_error("store: cannot move the damaged record at segment %u offset %u aside: %s", segid, off,
                  strerror(errno));
        free(buf);
        return;
    }
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (errno != EEXIST)
            log_error("store: cannot create %s: %s", path, strerror(errno));
        free(buf);
        return;
    }
    if (store_pwrite_all(fd, buf, n, 0) < 0 || fdatasync(fd) < 0 || store_sync_dir(dir) < 0) {
        log_error("store: cannot write %s: %s", path, strerror(errno));
        close(fd);
        free(buf);
        return;
    }
    close(fd);
    if (n == REC_HEADER + (size_t)len && len >= 1) {
        /* the same bytes, as a padding record */
        memset(buf + REC_HEADER, 0, len);
        buf[REC_HEADER] = REC_PAD;
        amqp_put32(buf + 4, crc32c(0, buf + REC_HEADER, len));
        if (store_pwrite_all(s->fd, buf, n, off) < 0 || fdatasync(s->fd) < 0)
            log_error("store: cannot pad over the damaged record at segment %u offset %u: %s", segid, off,
                      strerror(errno));
        if (st->rseg == segid)
            st->rlen = 0;
    }
    free(buf);
    log_error("store: the damaged record at segment %u offset %u was moved aside to %s (%" PRIu64
              " so far); its message is lost",
              segid, off, path, st->moved_aside);
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

static void check_disk(store *st)
{
    uint64_t free_now = free_bytes(st);
    bool alarm = free_now < st->disk_free_limit;

    st->written_since_check = 0;
    if (alarm != st->alarm) {
        st->alarm = alarm;
        if (alarm)
            log_warn("store: free disk space %" PRIu64 " bytes is below the limit of %" PRIu64
                     " bytes: publishers are blocked",
                     free_now, st->disk_free_limit);
        else
            log_info("store: free disk space %" PRIu64 " bytes is above the limit of %" PRIu64 " bytes again",
                     free_now, st->disk_free_limit);
        if (st->hooks.disk_alarm)
            st->hooks.disk_alarm(st->hooks.ctx, alarm);
    }
}

void store_tick(store *st)
{
    uint64_t now = now_ms();
    check_disk(st);
    /* failures left out of the log in the last second are counted now,
     * even when no new one comes to carry the count */
    if (st->ack_failures && now - st->ack_failed >= 1000) {
        log_error("store: %" PRIu64 " more failures to write ack files since the last such line (acks will be "
                  "redelivered after a restart)", st->ack_failures);
        st->ack_failures = 0;
        st->ack_failed = 0;
    }
    if (st->create_failures && now - st->create_failed >= 1000) {
        log_error("store: %" PRIu64 " more failures to create a segment since the last such line",
                  st->create_failures);
        st->create_failures = 0;
        st->create_failed = 0;
    }
    /* an idle, drained current segment gives its space back */
    if (st->cur && st->cur->live == 0 && st->wlen == 0 && st->cur->size > SEG_HEADER &&
        st->synced_lsn >= st->written_lsn) {
        segment *s = st->cur;
        st->cur = NULL;
        seg_delete(st, s);
    }
    store_compact_tick(st);
}

/* Can files be created in dir?  A directory the broker cannot write in
 * would start "ready" and nack every persistent message: refuse it, before
 * anything is read.  No space is not refused (the disk alarm blocks the
 * publishers; consumers can still drain the queues). */
static int check_writable(const char *dir)
{
    char path[4300];
    int fd, e;

    snprintf(path, sizeof path, "%s/.write-test", dir);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd >= 0) {
        close(fd);
        if (unlink(path) == 0)
            return 0;
    }
    e = errno;
    if (e == ENOSPC || e == EDQUOT)
        return 0;
    log_error("store: cannot create files in %s: %s; not starting (no persistent message could be stored)", dir,
              strerror(e));
    return -1;
}

/* A store opened with nothing to recover into (the unit tests): any
 * definition it finds stops the start. */
static const store_recovery no_recovery;

int store_open(store **out, ev_loop *loop, const char *dir, const store_options *opt, store_hooks hooks,
               const store_recovery *rec)
{
    store *st = calloc(1, sizeof *st);
    uint64_t t0 = now_ms();
    size_t i;

    if (!st)
        return -1;
    st->hooks = hooks;
    st->rec = rec ? rec : &no_recovery;
    st->disk_free_limit = opt->disk_free_limit;
    st->next_qid = 1;
    st->efd = -1;
    map_init(&st->purges);
    map_init(&st->replay_vq);
    pthread_mutex_init(&st->mu, NULL);
    pthread_cond_init(&st->cv, NULL);
    snprintf(st->dir, sizeof st->dir, "%s", dir);
    snprintf(st->msgdir, sizeof st->msgdir, "%s/msgs", dir);
    st->test_crash_at = getenv("WARREN_TEST_CRASH_AT");
    st->test_hold_file = getenv("WARREN_TEST_COMPACT_HOLD_FILE");
    if (mkdir(st->msgdir, 0700) < 0 && errno != EEXIST) {
        log_error("store: cannot create %s: %s", st->msgdir, strerror(errno));
        goto fail;
    }
    if (check_writable(st->msgdir) < 0)
        goto fail;
    if (defs_open(&st->defs, dir, store_replay_def, st) < 0) {
        store_replay_done(st);
        goto fail;
    }
    store_replay_done(st);
    {
        const char *ck = getenv("WARREN_CHECKPOINT_MS");
        st->ckpt_interval_ms = ck ? strtoull(ck, NULL, 10) : 1000;
    }
    store_checkpoint_load(st);
    if (store_recover_messages(st) < 0)
        goto fail;
    st->boot_seg = st->next_seg_id;
    st->ckpt_soon = true; /* a checkpoint of what was just recovered, at the first turn */
    /* A compact copy of the log: welcome, not needed (the old file says
     * the same).  On a full disk it cannot be written, and the broker
     * starts anyway, so that consumers can drain what filled it. */
    if (store_rewrite_defs(st) < 0)
        log_warn("store: starting with %s/definitions as it was; it is compacted at a later start", dir);
    st->rec = NULL;
    st->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (st->efd < 0 || ev_io_start(loop, &st->efd_io, st->efd, EPOLLIN, on_synced) < 0) {
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
                 st->qids.live, msgs, st->nsegs, now_ms() - t0);
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
    store_compact_abort(st, NULL);
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
    for (i = 0; i < st->njob; i++)
        close(st->job[i].fd);
    free(st->job);
    free(st->t_job);
    for (i = 0; i < st->nsegs; i++) {
        segment *s = st->segs[i];
        if (fdatasync(s->fd) < 0)
            log_error("store: fdatasync of segment %u at shutdown: %s", s->id, strerror(errno));
        if (s->ackmap) {
            /* give back the space reserved past the entries */
            munmap(s->ackmap, s->ackmap_len);
            s->ackmap = NULL;
            if (s->ack_size >= SEG_HEADER && ftruncate(s->ackfd, (off_t)s->ack_size) < 0)
                log_warn("store: cannot trim the ack file of segment %u: %s", s->id, strerror(errno));
        }
        if (s->ackfd >= 0 && fdatasync(s->ackfd) < 0)
            log_error("store: fdatasync of acks of segment %u at shutdown: %s", s->id, strerror(errno));
        if (s->alloc > s->size)
            fallocate(s->fd, FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE, (off_t)s->size,
                      (off_t)(s->alloc - s->size));
        store_seg_free(s);
    }
    free(st->segs);
    if (st->efd >= 0)
        close(st->efd);
    defs_close(st->defs);
    qidmap_free(&st->qids);
    store_purge_free(st);
    pthread_mutex_destroy(&st->mu);
    pthread_cond_destroy(&st->cv);
    free(st->wbuf);
    free(st->rbuf);
    free(st->sbuf);
    store_checkpoint_free(st);
    free(st);
}

const char *store_dir(const store *st)
{
    return st->dir;
}

uint64_t store_disk_bytes(const store *st)
{
    size_t i;
    uint64_t n = 0;
    for (i = 0; i < st->nsegs; i++)
        n += st->segs[i]->size;
    return n;
}

void store_sync_latency(store *st, store_latency *out)
{
    pthread_mutex_lock(&st->mu);
    *out = st->t_latency;
    pthread_mutex_unlock(&st->mu);
}
