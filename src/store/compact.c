/*
 * compact.c - giving back the space of old segments that are mostly acked.
 *
 * A segment stays on disk while any of its messages is live, so one
 * unacked message can pin 16 MiB.  Once a second the store looks for an
 * old segment (never the current one) whose live messages take under a
 * quarter of its bytes (segment.live_bytes, counted as messages are stored
 * and acked), that saw no ack since the last look (a segment still being
 * consumed will soon be deleted whole, copying it would be wasted), and
 * whose rewrite would free at least COMPACT_MIN_GAIN bytes, and rewrites
 * it in place:
 *
 *   1. acks     its ack file, as it is when the compaction starts, is read
 *               into a set (COMPACT_ACK_STEP bytes a turn); every ack entry
 *               written for the segment from then on is also noted here
 *   2. copy     its records are read in order (COMPACT_COPY_STEP bytes a
 *               turn) and each one still live for some queue is copied,
 *               byte for byte, into NNNN.cmp, a segment file with the same
 *               id and the next generation.  NNNN.acn, the ack file of that
 *               generation, gets an "acked" entry for each queue a copied
 *               record names but no longer matters to, and a "delivered"
 *               entry for each queue that had been handed it
 *   3. sync     both files go to the sync thread; the loop goes on
 *   4. swap     the noted ack entries, moved to the new offsets, are
 *               appended to NNNN.acn; NNNN.cmp is renamed over NNNN.seg,
 *               then NNNN.acn over NNNN.ack, and the directory is synced
 *               (on the sync thread).  The segment now reads from the new
 *               file, and keeps a table from the offsets the queues and
 *               channels know to the new ones (segment.remap), so nothing
 *               outside the store learns that anything moved.
 *
 * Why in place, not into the current segment: records keep their order, so
 * recovery still reads every queue back in publish order by reading the
 * files in order, and a record exists in exactly one file at any instant,
 * so a crash can never show a message twice.  A crash before the first
 * rename leaves the old files whole (the .cmp and .acn are removed at
 * start); after it, recovery finds a segment whose generation matches
 * NNNN.acn and renames that over the old ack file (recover.c).  Acks and
 * "delivered" marks made during the compaction are in the old ack file
 * (written every turn, as always) and, from the swap on, in the new one,
 * so a kill -9 at any point loses none of them.
 *
 * Liveness is read from the files (the ack entries, whether the queue still
 * exists), which can only say "live" for more than the broker's memory
 * does (an ack whose write failed); the copy is checked against the
 * segment's live count before the swap, and abandoned if it falls short.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "store/crc32c.h"
#include "store/store_int.h"

#define COMPACT_MIN_GAIN (4u << 20)     /* bytes a compaction must free to be worth it */
#define COMPACT_ACK_STEP (256u << 10)   /* ack file bytes read per loop turn */
#define COMPACT_COPY_STEP (1u << 20)    /* segment bytes read per loop turn */
#define COMPACT_BUF (1u << 20)

enum { CMP_ACKS, CMP_COPY, CMP_SYNC, CMP_SWAP };

struct compaction {
    segment *s;
    int phase;
    uint32_t gen;               /* of the new files */
    int fd, afd;                /* NNNN.cmp, NNNN.acn */
    int rfd;                    /* the old ack file, for reading */
    char path[4300], apath[4300];
    ackset acks;                /* the old ack file's entries */
    uint64_t ack_pos, ack_end;
    uint64_t src;               /* next record to look at, in the old file */
    uint64_t dst;               /* size of the new file */
    uint64_t live_refs;         /* (queue, record) references copied and live */
    uint32_t *moved;            /* pairs (old file offset, new offset) */
    size_t nmoved, capmoved;
    uint8_t *ents;              /* entries for the new ack file */
    size_t entlen, entcap;
    uint8_t *noted;             /* ack entries made during the compaction */
    size_t notedlen, notedcap;
    uint8_t *buf;               /* a window of the old file */
    uint64_t boff;
    size_t blen;
    uint64_t ticket;
    uint64_t started;
    uint64_t old_size;
    bool held;
};

static int grow(uint8_t **p, size_t *cap, size_t need)
{
    size_t c = *cap ? *cap : 4096;
    uint8_t *v;
    if (need <= *cap)
        return 0;
    while (c < need)
        c *= 2;
    if (!(v = realloc(*p, c)))
        return -1;
    *p = v;
    *cap = c;
    return 0;
}

static int add_entry(uint8_t **p, size_t *len, size_t *cap, uint32_t qid, uint32_t off, uint8_t kind,
                     uint32_t returns)
{
    if (grow(p, cap, *len + ACK_ENTRY) < 0)
        return -1;
    seg_ack_write(*p + *len, qid, off, kind, returns);
    *len += ACK_ENTRY;
    return 0;
}

static void cmp_free(store *st, bool unlink_files)
{
    compaction *c = st->cmp;
    if (!c)
        return;
    if (c->fd >= 0)
        close(c->fd);
    if (c->afd >= 0)
        close(c->afd);
    if (c->rfd >= 0)
        close(c->rfd);
    if (unlink_files) {
        unlink(c->path);
        unlink(c->apath);
    }
    store_ackset_free(&c->acks);
    free(c->moved);
    free(c->ents);
    free(c->noted);
    free(c->buf);
    free(c);
    st->cmp = NULL;
}

/* Give up: the old files stay as they are.  When is it worth another try? */
enum { RETRY_NEVER, RETRY_LATER, RETRY_FEWER };
#define COMPACT_RETRY_MS 60000

/* I/O errors: a full disk may empty again, other errors are for good. */
static int io_retry(int err)
{
    return err == ENOSPC || err == EDQUOT ? RETRY_LATER : RETRY_NEVER;
}

static void cmp_abandon(store *st, const char *why, int retry)
{
    compaction *c = st->cmp;
    segment *s = c->s;
    log_warn("store: compaction of segment %u abandoned: %s%s", s->id, why,
             retry == RETRY_NEVER ? " (not tried again)" : "");
    if (retry == RETRY_NEVER)
        s->no_compact = true;
    else if (retry == RETRY_FEWER)
        s->cmp_retry_live = s->live;
    else
        s->cmp_retry_at = now_ms() + COMPACT_RETRY_MS;
    cmp_free(st, true);
}

bool store_compacting(const store *st, const segment *s)
{
    return st->cmp && st->cmp->s == s;
}

void store_compact_abort(store *st, segment *s)
{
    if (st->cmp && (!s || st->cmp->s == s)) {
        log_debug("store: compaction of segment %u stopped", st->cmp->s->id);
        cmp_free(st, true);
    }
}

/* Worth it?  What a rewrite would free, or 0. */
static uint64_t gain(const store *st, const segment *s)
{
    uint64_t data = s->size - SEG_HEADER;
    if (s == st->cur || s->broken || s->no_compact || s->live == 0 || s->live_bytes * 4 >= data || !s->quiet)
        return 0;
    if ((s->cmp_retry_live && s->live >= s->cmp_retry_live) || now_ms() < s->cmp_retry_at)
        return 0;
    return data - s->live_bytes;
}

void store_compact_tick(store *st)
{
    segment *best = NULL;
    uint64_t best_gain = COMPACT_MIN_GAIN - 1;
    size_t i;
    compaction *c;

    /* a segment still being consumed will soon be empty and deleted
     * whole: only one left alone for a tick (pinned) is worth copying */
    for (i = 0; i < st->nsegs; i++) {
        segment *s = st->segs[i];
        s->quiet = s->live == s->live_at_tick;
        s->live_at_tick = s->live;
    }
    if (st->cmp)
        return;
    for (i = 0; i < st->nsegs; i++) {
        uint64_t g = gain(st, st->segs[i]);
        if (g > best_gain) {
            best_gain = g;
            best = st->segs[i];
        }
    }
    if (!best || !(c = calloc(1, sizeof *c)))
        return;
    c->s = best;
    c->fd = c->afd = c->rfd = -1;
    c->gen = best->gen + 1;
    c->phase = CMP_ACKS;
    c->src = SEG_HEADER;
    c->dst = SEG_HEADER;
    c->started = now_ms();
    c->old_size = best->size;
    seg_path(c->path, sizeof c->path, st->dir, best->id, "cmp");
    seg_path(c->apath, sizeof c->apath, st->dir, best->id, "acn");
    st->cmp = c;
    /* the ack file is opened and measured in the first step, after this
     * turn's ack entries were written: from then on they are noted */
    c->ack_end = UINT64_MAX;
    log_info("store: compacting segment %u (%" PRIu64 " live messages in %" PRIu64 " bytes)", best->id,
             best->live, best->size);
}

void store_compact_note(store *st, segment *s, uint32_t qid, uint32_t file_off, uint8_t kind, uint32_t returns)
{
    compaction *c = st->cmp;
    if (!c || c->s != s || c->ack_end == UINT64_MAX)
        return;
    if (add_entry(&c->noted, &c->notedlen, &c->notedcap, qid, file_off, kind, returns) < 0)
        cmp_abandon(st, "out of memory", RETRY_LATER);
}

static int cmp_open(store *st, compaction *c)
{
    char path[4300];
    uint8_t h[SEG_HEADER];
    struct stat sb;

    seg_path(path, sizeof path, st->dir, c->s->id, "ack");
    c->rfd = open(path, O_RDONLY | O_CLOEXEC);
    if (c->rfd < 0 && errno != ENOENT)
        return -1;
    c->ack_end = 0;
    if (c->rfd >= 0) {
        /* up to the last entry written (the file may have space reserved
         * past it); entries written from now on are noted instead */
        if (store_ack_attach(st, c->s) < 0 || fstat(c->rfd, &sb) < 0)
            return -1;
        c->ack_end = c->s->ack_size ? c->s->ack_size : (uint64_t)sb.st_size - (uint64_t)sb.st_size % ACK_ENTRY;
    }
    c->ack_pos = 0;
    unlink(c->path);
    unlink(c->apath);
    c->fd = open(c->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    c->afd = open(c->apath, O_RDWR | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
    if (c->fd < 0 || c->afd < 0 || !(c->buf = malloc(COMPACT_BUF)))
        return -1;
    seg_header_write(h, SEG_MAGIC, c->s->id, c->gen);
    if (store_pwrite_all(c->fd, h, sizeof h, 0) < 0)
        return -1;
    seg_header_write(h, ACK_MAGIC, c->s->id, c->gen);
    if (grow(&c->ents, &c->entcap, SEG_HEADER) < 0)
        return -1;
    memcpy(c->ents, h, SEG_HEADER);
    c->entlen = SEG_HEADER;
    return 0;
}

/* Read a bounded piece of the old ack file into the set. */
static int step_acks(store *st, compaction *c)
{
    uint8_t *p = c->buf;
    uint64_t end = c->ack_end - c->ack_pos > COMPACT_ACK_STEP ? c->ack_pos + COMPACT_ACK_STEP : c->ack_end;
    size_t n = (size_t)(end - c->ack_pos), off;
    (void)st;

    if (n == 0) {
        c->phase = CMP_COPY;
        return 0;
    }
    if (store_pread_full(c->rfd, p, n, c->ack_pos) != (ssize_t)n)
        return -1;
    for (off = 0; off + ACK_ENTRY <= n; off += ACK_ENTRY) {
        uint32_t qid, roff, ver, id;
        uint8_t kind;
        if (c->ack_pos + off == 0) {
            if (seg_header_check(p, n, ACK_MAGIC, &ver, &id) < 0 || seg_header_gen(p) != c->s->gen)
                return -1;
            continue;
        }
        if (seg_ack_is_blank(p + off))
            continue;
        if (seg_ack_check(p + off, &qid, &roff, &kind) < 0) {
            if (c->ack_pos + off + ACK_ENTRY == c->ack_end)
                break; /* torn last entry, as recovery reads it */
            return -1;
        }
        if (store_ackset_add(&c->acks, (uint64_t)qid << 32 | roff, kind, seg_ack_returns(p + off)) < 0)
            return -1;
    }
    c->ack_pos = end;
    if (c->ack_pos >= c->ack_end)
        c->phase = CMP_COPY;
    return 0;
}

/* The record at file offset `off`, decoded (prefix in p): should it be
 * copied?  Adds its entries for the new ack file at new_off. */
static int judge(store *st, compaction *c, const seg_record *r, uint32_t off, uint32_t new_off, bool *copy)
{
    size_t mark = c->entlen;
    uint64_t live = 0;
    uint32_t i;

    for (i = 0; i < r->nq; i++) {
        uint32_t qid = amqp_get32(r->qids + 4 * i);
        uint32_t returns;
        uint8_t kind = store_ackset_get(&c->acks, (uint64_t)qid << 32 | off, &returns);
        /* a paged transient message's queue has no store id to look up */
        bool dead = (kind & ACK_KIND_ACK) || (!(r->flags & REC_FLAG_PAGED) && !store_queue_by_id(st, qid));
        if (!dead)
            live++;
        if (dead || (kind & ACK_KIND_DELIVERED)) {
            if (add_entry(&c->ents, &c->entlen, &c->entcap, qid, new_off,
                          dead ? ACK_KIND_ACK : ACK_KIND_DELIVERED, dead ? 0 : returns) < 0)
                return -1;
        }
    }
    *copy = live > 0;
    if (!*copy) {
        c->entlen = mark;
        return 0;
    }
    c->live_refs += live;
    if (c->nmoved == c->capmoved) {
        size_t cap = c->capmoved ? c->capmoved * 2 : 256;
        uint32_t *v = realloc(c->moved, cap * 2 * sizeof *v);
        if (!v)
            return -1;
        c->moved = v;
        c->capmoved = cap;
    }
    c->moved[2 * c->nmoved] = off;
    c->moved[2 * c->nmoved + 1] = new_off;
    c->nmoved++;
    return 0;
}

/* A record bigger than the window: judged from its first bytes, copied
 * piece by piece, its checksum checked on the way. */
static int copy_big(store *st, compaction *c, uint32_t len)
{
    uint64_t off = c->src, done;
    size_t size = REC_HEADER + (size_t)len;
    uint32_t crc = 0, want;
    seg_record r;
    bool copy;
    const uint8_t *p;
    size_t head;

    if (store_pread_full(c->s->fd, c->buf, COMPACT_BUF, off) != COMPACT_BUF)
        return -1;
    want = amqp_get32(c->buf + 4);
    p = c->buf + REC_HEADER;
    /* decode just the head: type, flags, nq, queue ids */
    if (p[0] != REC_MSG && p[0] != REC_MSG_WIDE) {
        copy = false;
    } else {
        head = seg_payload_head(p, len < COMPACT_BUF - REC_HEADER ? len : COMPACT_BUF - REC_HEADER, &r);
        if (!head)
            return -1;
        if (judge(st, c, &r, (uint32_t)off, (uint32_t)c->dst, &copy) < 0)
            return -1;
    }
    if (!copy) {
        c->src += size;
        return 0;
    }
    for (done = 0; done < size;) {
        size_t k = size - done > COMPACT_BUF ? COMPACT_BUF : (size_t)(size - done);
        size_t skip = done == 0 ? REC_HEADER : 0;
        if (store_pread_full(c->s->fd, c->buf, k, off + done) != (ssize_t)k)
            return -1;
        crc = crc32c(crc, c->buf + skip, k - skip);
        if (store_pwrite_all(c->fd, c->buf, k, c->dst + done) < 0)
            return -1;
        done += k;
    }
    if (crc != want)
        return -2;
    c->src += size;
    c->dst += size;
    return 0;
}

/* Look at records for up to COMPACT_COPY_STEP bytes of the old file.
 * -1 I/O error, -2 a damaged record. */
static int step_copy(store *st, compaction *c)
{
    uint64_t budget = COMPACT_COPY_STEP;
    segment *s = c->s;

    while (c->src < s->size && budget > 0) {
        size_t at, size;
        uint32_t len;
        seg_record r;
        bool copy;
        int rc;

        if (c->src < c->boff || c->src + REC_HEADER > c->boff + c->blen ||
            c->src + REC_HEADER + amqp_get32(c->buf + (c->src - c->boff)) > c->boff + c->blen) {
            ssize_t got = store_pread_full(s->fd, c->buf, COMPACT_BUF, c->src);
            if (got < REC_HEADER)
                return -1;
            c->boff = c->src;
            c->blen = (size_t)got;
        }
        at = (size_t)(c->src - c->boff);
        len = amqp_get32(c->buf + at);
        if (len == 0 || len > REC_MAX || c->src + REC_HEADER + len > s->size)
            return -2;
        if (REC_HEADER + (size_t)len > COMPACT_BUF) {
            rc = copy_big(st, c, len);
            c->blen = 0; /* the window was used for the copy */
            if (rc < 0)
                return rc;
            budget = budget > REC_HEADER + (uint64_t)len ? budget - REC_HEADER - len : 0;
            continue;
        }
        if (seg_record_check(c->buf + at, c->blen - at, &size, &r) != SEG_OK)
            return -2;
        copy = false;
        if (r.type == REC_MSG && judge(st, c, &r, (uint32_t)c->src, (uint32_t)c->dst, &copy) < 0)
            return -1;
        if (copy) {
            if (store_pwrite_all(c->fd, c->buf + at, size, c->dst) < 0)
                return -1;
            c->dst += size;
        }
        c->src += size;
        budget = budget > size ? budget - size : 0;
    }
    if (c->src >= s->size) {
        if (c->live_refs < s->live) {
            /* the files know fewer live messages than the queues do:
             * leave the segment alone rather than lose one */
            log_warn("store: segment %u: %" PRIu64 " live references found on disk, %" PRIu64 " in memory",
                     s->id, c->live_refs, s->live);
            return -3;
        }
        if (store_pwrite_all(c->afd, c->ents, c->entlen, 0) < 0)
            return -1;
        c->ticket = ++st->next_cmp_ticket;
        if (store_request_sync(st, c->fd, s->id, SYNC_CMP, 0, c->ticket) < 0 ||
            store_request_sync(st, c->afd, s->id, SYNC_CMP, 0, c->ticket) < 0)
            return -1;
        c->phase = CMP_SYNC;
    }
    return 0;
}

void store_compact_synced(store *st, uint64_t ticket, int err)
{
    compaction *c = st->cmp;
    if (!c || c->phase != CMP_SYNC || ticket < c->ticket)
        return;
    if (err) {
        char why[128];
        snprintf(why, sizeof why, "fdatasync of the new files failed: %s", strerror(err));
        cmp_abandon(st, why, io_retry(err));
        return;
    }
    c->phase = CMP_SWAP; /* at the next step, when the turn's acks are out */
}

/* Where did the record at old file offset off go?  -1 if not copied. */
static int64_t moved_to(const compaction *c, uint32_t off)
{
    size_t lo = 0, hi = c->nmoved;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c->moved[2 * mid] < off)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < c->nmoved && c->moved[2 * lo] == off ? (int64_t)c->moved[2 * lo + 1] : -1;
}

static void step_swap(store *st, compaction *c)
{
    segment *s = c->s;
    char path[4300], apath[4300];
    uint32_t *remap;
    size_t nremap = 0, i, out = 0;
    int dfd;

    /* the acks and marks made meanwhile, at their records' new places */
    for (i = 0; i + ACK_ENTRY <= c->notedlen; i += ACK_ENTRY) {
        uint8_t *e = c->noted + i;
        int64_t to = moved_to(c, amqp_get32(e + 4));
        if (to < 0)
            continue;
        seg_ack_write(c->noted + out, amqp_get32(e), (uint32_t)to, e[8], seg_ack_returns(e));
        out += ACK_ENTRY;
    }
    if (out && write(c->afd, c->noted, out) != (ssize_t)out) {
        cmp_abandon(st, "cannot write the new ack file", io_retry(errno));
        return;
    }
    /* the new table: from what the broker knows to the new file */
    if (!s->remap && c->moved) {
        remap = c->moved;
        nremap = c->nmoved;
        c->moved = NULL;
    } else {
        /* (never empty-handed: a NULL table would mean "nothing moved") */
        if (!(remap = malloc((s->nremap ? s->nremap : 1) * 2 * sizeof *remap))) {
            cmp_abandon(st, "out of memory", RETRY_LATER);
            return;
        }
        for (i = 0; i < s->nremap; i++) {
            int64_t to = moved_to(c, s->remap[2 * i + 1]);
            if (to < 0)
                continue;
            remap[2 * nremap] = s->remap[2 * i];
            remap[2 * nremap + 1] = (uint32_t)to;
            nremap++;
        }
    }
    seg_path(path, sizeof path, st->dir, s->id, "seg");
    seg_path(apath, sizeof apath, st->dir, s->id, "ack");
    store_crash_point(st, "compact-swap");
    if (rename(c->path, path) < 0) {
        int err = errno;
        free(remap);
        cmp_abandon(st, strerror(err), io_retry(err));
        return;
    }
    /* from here on the new segment file is the one: no way back */
    store_crash_point(st, "compact-renamed");
    if (rename(c->apath, apath) < 0)
        log_error("store: cannot rename %s to %s: %s (recovery will finish it)", c->apath, apath,
                  strerror(errno));
    store_crash_point(st, "compact-done");
    dfd = open(st->msgdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || store_request_sync(st, dfd, 0, SYNC_DIR, 0, 0) < 0)
        log_error("store: cannot sync %s after compacting segment %u", st->msgdir, s->id);
    if (dfd >= 0)
        close(dfd);
    close(s->fd);
    s->fd = c->fd;
    c->fd = -1;
    store_ack_detach(s);
    s->ackfd = c->afd;
    c->afd = -1;
    if (store_request_sync(st, s->ackfd, s->id, SYNC_ACK, 0, 0) < 0)
        s->acks_unsynced = true;
    else
        s->acks_unsynced = false;
    s->size = c->dst;
    s->alloc = 0;
    s->gen = c->gen;
    free(s->remap);
    s->remap = remap;
    s->nremap = nremap;
    if (st->rseg == s->id)
        st->rlen = 0;
    log_info("store: segment %u compacted: %" PRIu64 " bytes -> %" PRIu64 " (%zu records kept) in %" PRIu64 " ms",
             s->id, c->old_size, c->dst, c->nmoved, now_ms() - c->started);
    c->path[0] = c->apath[0] = 0;
    cmp_free(st, false);
    st->ckpt_soon = true; /* the checkpoint before names the old generation */
}

bool store_compact_step(store *st)
{
    compaction *c = st->cmp;
    int rc = 0;

    if (!c)
        return false;
    if (c->ack_end == UINT64_MAX && cmp_open(st, c) < 0) {
        int err = errno;
        log_error("store: cannot start compacting segment %u (%s): %s", c->s->id, c->path, strerror(err));
        cmp_abandon(st, "cannot create its new files", io_retry(err));
        return false;
    }
    switch (c->phase) {
    case CMP_ACKS:
        if (step_acks(st, c) < 0) {
            cmp_abandon(st, "its ack file cannot be read (warren-check-store may tell why)", RETRY_NEVER);
            return false;
        }
        return true;
    case CMP_COPY:
        if (c->src == SEG_HEADER)
            store_crash_point(st, "compact-acks-read");
        else
            store_crash_point(st, "compact-copying");
        rc = step_copy(st, c);
        if (rc == -1) {
            char why[160];
            int err = errno;
            snprintf(why, sizeof why, "I/O error: %s", strerror(err));
            cmp_abandon(st, why, io_retry(err));
            return false;
        }
        if (rc == -2) {
            cmp_abandon(st, "a damaged record (warren-check-store may tell more)", RETRY_NEVER);
            return false;
        }
        if (rc == -3) {
            cmp_abandon(st, "not every live message was found", RETRY_FEWER);
            return false;
        }
        return c->phase == CMP_COPY;
    case CMP_SWAP:
        store_crash_point(st, "compact-synced");
        if (st->test_hold_file && access(st->test_hold_file, F_OK) == 0) {
            /* tests: hold the swap while this file exists */
            if (!c->held)
                log_info("store: compaction of segment %u held before its swap (WARREN_TEST_COMPACT_HOLD_FILE)",
                         c->s->id);
            c->held = true;
            return false;
        }
        step_swap(st, c);
        return false;
    default:
        return false; /* waiting for the sync thread */
    }
}
