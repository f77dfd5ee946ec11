/*
 * checkpoint.c - DATA/checkpoint: what recovery need not read again.
 *
 * A segment is *cold* when every live message in it is a member of some
 * queue's region (segment.live == segment.region_refs): nothing of it is
 * in RAM, and its queues know its messages only as counts (a run: the
 * first member's offset, how many, their bytes, their seqs' range).  A
 * big backlog is almost all cold segments, so a restart that reads the
 * runs back instead of the records takes the same time for 10 M messages
 * as for 10 thousand.
 *
 * Every second when anything changed (WARREN_CHECKPOINT_MS, 1,000 by
 * default, 0: never), and after a compaction, at the end of a loop turn
 * (its records and ack entries written), the store makes one: the cold
 * segments (id, generation, size, where their ack file ended, live counts)
 * and, for each durable queue with a region, its runs in cold segments,
 * its members there that may expire while on disk, and those that come
 * back redelivered.  A thread of its own writes it to checkpoint.tmp,
 * fdatasyncs it, renames it over DATA/checkpoint and syncs the directory,
 * so a crash leaves the old one or the new one, whole.
 *
 * Recovery (recover.c) with a checkpoint that matches the files: a cold
 * segment's records are not read.  Its ack file is (it is small): the
 * entries written after the checkpoint are messages paged in since, acked
 * (their run loses them: their record is read for its seq and size) or
 * delivered (they come back redelivered).  A cold segment that is gone was
 * acked whole.  Every other segment is read as before, and a queue's
 * records there join its region as the same rule says (queue_recover).
 * Anything that does not match (the checksum, a segment's generation, a
 * file shorter than it was, an ack file cut shorter, a queue purged since)
 * and the checkpoint is not used at all: a full recovery, with a log line
 * saying why.  It is never trusted for more than it says.
 *
 * Format (all integers big-endian):
 *   "WCKP" | u32 version (1) | u32 CRC-32C of the body | u32 body length
 *   body: u64 highest seq | u32 segments | u32 queues
 *     segment: u32 id | u32 generation | u64 size | u64 ack file end |
 *              u64 live | u64 live bytes
 *     queue:   u32 id | u32 runs | u32 expiring | u32 redelivered
 *              runs:      u32 segment | u32 file offset | u64 count |
 *                         u64 bytes | u64 first seq | u64 last seq |
 *                         u8 flags (bit 0: some of them expire)
 *              expiring:  u64 seq | u64 expires (ms) | u32 segment |
 *                         u32 file offset | u32 body size
 *              redelivered: u64 seq
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "amqp/wire.h"
#include "store/crc32c.h"
#include "store/store_int.h"

#define CKPT_MAGIC "WCKP"
#define CKPT_VERSION 1
#define CKPT_HEADER 16
#define SEG_REC 40
#define RUN_REC 41
#define EXP_REC 28

typedef struct ckpt_seg {
    uint32_t id, gen;
    uint64_t size, ack_end, live, live_bytes;
} ckpt_seg;

typedef struct ckpt_queue {
    uint32_t qid;
    store_region_run *runs;
    store_region_exp *exp;
    uint64_t *red;
    uint32_t nruns, nexp, nred;
} ckpt_queue;

struct checkpoint {
    /* the one loaded at open */
    bool valid;
    uint64_t max_seq;
    ckpt_seg *segs;             /* by id, ascending */
    uint32_t nsegs;
    ckpt_queue *qs;
    uint32_t nq;
    uint8_t *file;              /* the runs etc. point into their own arrays */
    /* the one being written */
    pthread_t thread;
    bool running;
    atomic_bool done;
    uint8_t *buf;
    size_t len;
    int err;
    char path[4300], tmp[4300];
    const char *dir;
    uint64_t written;           /* how many, for the log */
};

/* ------------------------------------------------------------------ buffers */

typedef struct obuf {
    uint8_t *p;
    size_t len, cap;
    bool oom;
} obuf;

static uint8_t *room(obuf *b, size_t n)
{
    if (b->oom)
        return NULL;
    if (b->cap - b->len < n) {
        size_t cap = b->cap ? b->cap : 4096;
        uint8_t *p;
        while (cap - b->len < n)
            cap *= 2;
        if (!(p = realloc(b->p, cap))) {
            b->oom = true;
            return NULL;
        }
        b->p = p;
        b->cap = cap;
    }
    b->len += n;
    return b->p + b->len - n;
}

struct store_region_sink {
    store *st;
    bool bad;                   /* a run that does not match the files: no checkpoint */
    obuf runs, exp, red;        /* the queue's, encoded */
    uint32_t nruns, nexp, nred;
    /* the seq ranges of its cold runs, to keep only their redelivered */
    uint64_t (*ranges)[2];
    size_t nranges, capranges;
};

void store_sink_run(store_region_sink *k, const store_region_run *r)
{
    segment *s = store_seg_find(k->st, r->seg);
    uint64_t fpos;
    uint8_t *p;
    if (!s || !s->cold || !r->count)
        return;
    fpos = store_file_pos(s, r->off);
    if (fpos >= s->size) {
        k->bad = true;
        return;
    }
    if (k->nranges == k->capranges) {
        size_t cap = k->capranges ? k->capranges * 2 : 16;
        void *v = realloc(k->ranges, cap * sizeof *k->ranges);
        if (!v) {
            k->bad = true;
            return;
        }
        k->ranges = v;
        k->capranges = cap;
    }
    s->ckpt_members += r->count;
    k->ranges[k->nranges][0] = r->first_seq;
    k->ranges[k->nranges++][1] = r->last_seq;
    if (!(p = room(&k->runs, RUN_REC)))
        return;
    p = amqp_put32(p, r->seg);
    p = amqp_put32(p, (uint32_t)fpos);
    p = amqp_put64(p, r->count);
    p = amqp_put64(p, r->bytes);
    p = amqp_put64(p, r->first_seq);
    p = amqp_put64(p, r->last_seq);
    amqp_put8(p, r->expiring);
    k->nruns++;
}

void store_sink_exp(store_region_sink *k, const store_region_exp *x)
{
    segment *s = store_seg_find(k->st, x->seg);
    uint32_t foff;
    uint8_t *p;
    if (!s || !s->cold)
        return;
    if (!store_seg_off(s, x->off, &foff)) {
        k->bad = true;
        return;
    }
    if (!(p = room(&k->exp, EXP_REC)))
        return;
    p = amqp_put64(p, x->seq);
    p = amqp_put64(p, (uint64_t)x->expires);
    p = amqp_put32(p, x->seg);
    p = amqp_put32(p, foff);
    amqp_put32(p, x->size);
    k->nexp++;
}

void store_sink_redelivered(store_region_sink *k, uint64_t seq)
{
    size_t i;
    uint8_t *p;
    for (i = 0; i < k->nranges; i++)
        if (seq >= k->ranges[i][0] && seq <= k->ranges[i][1])
            break;
    if (i == k->nranges || !(p = room(&k->red, 8)))
        return;
    amqp_put64(p, seq);
    k->nred++;
}

/* ------------------------------------------------------------------ writing */

static void *write_main(void *arg)
{
    struct checkpoint *c = arg;
    int fd = open(c->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    c->err = 0;
    if (fd < 0 || store_pwrite_all(fd, c->buf, c->len, 0) < 0 || fdatasync(fd) < 0)
        c->err = errno ? errno : EIO;
    if (fd >= 0)
        close(fd);
    if (!c->err && (rename(c->tmp, c->path) < 0 || store_sync_dir(c->dir) < 0))
        c->err = errno ? errno : EIO;
    atomic_store(&c->done, true);
    return NULL;
}

static struct checkpoint *ckpt_of(store *st)
{
    if (!st->ckpt && (st->ckpt = calloc(1, sizeof *st->ckpt))) {
        snprintf(st->ckpt->path, sizeof st->ckpt->path, "%s/checkpoint", st->dir);
        snprintf(st->ckpt->tmp, sizeof st->ckpt->tmp, "%s/checkpoint.tmp", st->dir);
        st->ckpt->dir = st->dir;
    }
    return st->ckpt;
}

/* Wait for the thread writing one, if any. */
static void join_writer(struct checkpoint *c, bool wait)
{
    if (!c->running || (!wait && !atomic_load(&c->done)))
        return;
    pthread_join(c->thread, NULL);
    c->running = false;
    if (c->err)
        log_warn("store: cannot write %s: %s (recovery reads every segment until one is written)", c->path,
                 strerror(c->err));
    else
        c->written++;
    free(c->buf);
    c->buf = NULL;
}

static int build(store *st, obuf *out)
{
    store_region_sink k = {.st = st};
    obuf qs = {0};
    uint32_t nsegs = 0, nq = 0;
    size_t i;
    uint8_t *p;

    for (i = 0; i < st->nsegs; i++) {
        segment *s = st->segs[i];
        s->ckpt_members = 0;
        s->cold = s != st->cur && !s->broken && s->live && s->live == s->region_refs &&
                  !(st->cmp && store_compacting(st, s));
        if (s->cold && !s->ack_size && store_ack_attach(st, s) < 0)
            s->cold = false;
        nsegs += s->cold;
    }
    if (!nsegs)
        return 0; /* nothing to skip: the one there says no more than is true */
    for (i = 0; i < st->qids.cap; i++) {
        qidmap_slot *sl = &st->qids.slots[i];
        if (!sl->id || !sl->handle)
            continue;
        k.runs.len = k.exp.len = k.red.len = 0;
        k.nruns = k.nexp = k.nred = 0;
        k.nranges = 0;
        st->hooks.region(st->hooks.ctx, sl->handle, &k);
        if (!k.nruns)
            continue;
        if (!(p = room(&qs, 16)))
            break;
        p = amqp_put32(p, sl->id);
        p = amqp_put32(p, k.nruns);
        p = amqp_put32(p, k.nexp);
        amqp_put32(p, k.nred);
        if (k.runs.len && (p = room(&qs, k.runs.len)))
            memcpy(p, k.runs.p, k.runs.len);
        if (k.exp.len && (p = room(&qs, k.exp.len)))
            memcpy(p, k.exp.p, k.exp.len);
        if (k.red.len && (p = room(&qs, k.red.len)))
            memcpy(p, k.red.p, k.red.len);
        nq++;
    }
    for (i = 0; i < st->nsegs; i++)
        if (st->segs[i]->cold && st->segs[i]->ckpt_members != st->segs[i]->live)
            k.bad = true; /* the queues' runs and the segment's count differ: say nothing */
    if (!k.bad && !qs.oom && !k.runs.oom && !k.exp.oom && !k.red.oom && (p = room(out, CKPT_HEADER + 16))) {
        p += CKPT_HEADER;
        p = amqp_put64(p, st->max_seq);
        p = amqp_put32(p, nsegs);
        amqp_put32(p, nq);
        for (i = 0; i < st->nsegs; i++) {
            segment *s = st->segs[i];
            if (!s->cold || !(p = room(out, SEG_REC)))
                continue;
            p = amqp_put32(p, s->id);
            p = amqp_put32(p, s->gen);
            p = amqp_put64(p, s->size);
            p = amqp_put64(p, s->ack_size > SEG_HEADER ? s->ack_size : SEG_HEADER);
            p = amqp_put64(p, s->live);
            amqp_put64(p, s->live_bytes);
        }
        if (qs.len && (p = room(out, qs.len)))
            memcpy(p, qs.p, qs.len);
        if (!out->oom) {
            memcpy(out->p, CKPT_MAGIC, 4);
            amqp_put32(out->p + 4, CKPT_VERSION);
            amqp_put32(out->p + 8, crc32c(0, out->p + CKPT_HEADER, out->len - CKPT_HEADER));
            amqp_put32(out->p + 12, (uint32_t)(out->len - CKPT_HEADER));
        }
    } else if (k.bad) {
        log_debug("store: a checkpoint skipped: a region does not match its segment");
        out->oom = true;
    }
    free(qs.p);
    free(k.runs.p);
    free(k.exp.p);
    free(k.red.p);
    free(k.ranges);
    return out->oom ? -1 : (int)nsegs;
}

void store_checkpoint_tick(store *st)
{
    struct checkpoint *c;
    uint64_t now;
    obuf out = {0};

    if (!st->ckpt_interval_ms || !st->hooks.region || !(c = ckpt_of(st)))
        return;
    join_writer(c, false);
    if (c->running)
        return;
    now = now_ms();
    if (!st->ckpt_soon && now - st->ckpt_last < st->ckpt_interval_ms)
        return;
    if (!st->ckpt_soon && st->lsn == st->ckpt_lsn && st->acks_made == st->ckpt_acks)
        return; /* nothing happened since the last one */
    if (build(st, &out) <= 0) {
        free(out.p); /* nothing cold (yet), or out of memory: look again next turn */
        return;
    }
    st->ckpt_soon = false;
    st->ckpt_last = now;
    st->ckpt_lsn = st->lsn;
    st->ckpt_acks = st->acks_made;
    c->buf = out.p;
    c->len = out.len;
    atomic_store(&c->done, false);
    if (pthread_create(&c->thread, NULL, write_main, c) != 0) {
        free(c->buf);
        c->buf = NULL;
        return;
    }
    c->running = true;
}

/* ------------------------------------------------------------------ loading */

static int by_seg(const void *a, const void *b)
{
    const ckpt_seg *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

static const ckpt_seg *find_seg(const struct checkpoint *c, uint32_t id)
{
    ckpt_seg key = {.id = id};
    return c->nsegs ? bsearch(&key, c->segs, c->nsegs, sizeof *c->segs, by_seg) : NULL;
}

/* Parse and check against the files; a reason it cannot be used, or NULL. */
static const char *parse(store *st, struct checkpoint *c, const uint8_t *b, size_t n)
{
    const uint8_t *p, *end;
    uint32_t i, len;
    uint64_t total = 0;

    if (n < CKPT_HEADER || memcmp(b, CKPT_MAGIC, 4))
        return "not a checkpoint file";
    if (amqp_get32(b + 4) != CKPT_VERSION)
        return "an unknown version";
    len = amqp_get32(b + 12);
    if (len != n - CKPT_HEADER || len < 16)
        return "its length is wrong";
    if (crc32c(0, b + CKPT_HEADER, len) != amqp_get32(b + 8))
        return "its checksum is wrong";
    p = b + CKPT_HEADER;
    end = b + n;
    c->max_seq = amqp_get64(p);
    c->nsegs = amqp_get32(p + 8);
    c->nq = amqp_get32(p + 12);
    p += 16;
    if ((size_t)(end - p) / SEG_REC < c->nsegs ||
        ((size_t)(end - p) - (size_t)c->nsegs * SEG_REC) / 16 < c->nq) /* a queue takes 16 bytes or more */
        return "it is cut short";
    if (!(c->segs = calloc(c->nsegs ? c->nsegs : 1, sizeof *c->segs)) ||
        !(c->qs = calloc(c->nq ? c->nq : 1, sizeof *c->qs)))
        return "out of memory";
    for (i = 0; i < c->nsegs; i++, p += SEG_REC) {
        c->segs[i] = (ckpt_seg){amqp_get32(p), amqp_get32(p + 4), amqp_get64(p + 8), amqp_get64(p + 16),
                                amqp_get64(p + 24), amqp_get64(p + 32)};
        if (i && c->segs[i].id <= c->segs[i - 1].id)
            return "its segments are out of order";
    }
    for (i = 0; i < c->nq; i++) {
        ckpt_queue *q = &c->qs[i];
        uint32_t j;
        if (end - p < 16)
            return "it is cut short";
        q->qid = amqp_get32(p);
        q->nruns = amqp_get32(p + 4);
        q->nexp = amqp_get32(p + 8);
        q->nred = amqp_get32(p + 12);
        p += 16;
        if ((uint64_t)q->nruns * RUN_REC + (uint64_t)q->nexp * EXP_REC + (uint64_t)q->nred * 8 >
            (uint64_t)(end - p))
            return "it is cut short";
        if (!(q->runs = calloc(q->nruns + 1, sizeof *q->runs)) || !(q->exp = calloc(q->nexp + 1, sizeof *q->exp)) ||
            !(q->red = calloc(q->nred + 1, sizeof *q->red)))
            return "out of memory";
        for (j = 0; j < q->nruns; j++, p += RUN_REC) {
            q->runs[j] = (store_region_run){amqp_get32(p), amqp_get32(p + 4), amqp_get64(p + 8), amqp_get64(p + 16),
                                            amqp_get64(p + 24), amqp_get64(p + 32), p[40] & 1};
            if (!find_seg(c, q->runs[j].seg))
                return "a run is in no cold segment";
            total += q->runs[j].count;
        }
        for (j = 0; j < q->nexp; j++, p += EXP_REC)
            q->exp[j] = (store_region_exp){amqp_get64(p), (int64_t)amqp_get64(p + 8), amqp_get32(p + 16),
                                           amqp_get32(p + 20), amqp_get32(p + 24)};
        for (j = 0; j < q->nred; j++, p += 8)
            q->red[j] = amqp_get64(p);
        /* a purge since: its mark would have to be applied member by
         * member, which only reading them can do */
        if (store_queue_by_id(st, q->qid) && q->nruns && store_purge_covers(st, q->qid, q->runs[0].first_seq, false))
            return "a queue in it was purged since";
    }
    if (p != end)
        return "it has bytes after its end";
    /* the files must be what it saw, or more (ack entries) */
    for (i = 0; i < c->nsegs; i++) {
        const ckpt_seg *cs = &c->segs[i];
        char path[4300];
        uint8_t h[SEG_HEADER];
        struct stat sb;
        int fd;
        seg_path(path, sizeof path, st->dir, cs->id, "seg");
        if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
            if (errno == ENOENT)
                continue; /* acked whole since, and deleted */
            return "a segment cannot be opened";
        }
        if (fstat(fd, &sb) < 0 || store_pread_full(fd, h, SEG_HEADER, 0) != SEG_HEADER) {
            close(fd);
            return "a segment cannot be read";
        }
        close(fd);
        if (memcmp(h, SEG_MAGIC, 4) || seg_header_gen(h) != cs->gen)
            return "a segment was compacted since";
        if ((uint64_t)sb.st_size != cs->size)
            return "a segment's size changed";
        seg_path(path, sizeof path, st->dir, cs->id, "ack");
        if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
            if (errno == ENOENT && cs->ack_end <= SEG_HEADER)
                continue;
            return "an ack file is missing";
        }
        if (fstat(fd, &sb) < 0 || store_pread_full(fd, h, SEG_HEADER, 0) != SEG_HEADER ||
            seg_header_gen(h) != cs->gen || (uint64_t)sb.st_size < cs->ack_end) {
            close(fd);
            return "an ack file is shorter than it was, or of another generation";
        }
        {
            /* every entry it saw must still be there: a power cut can
             * leave the reserved tail zero where entries were */
            uint8_t *a = malloc(cs->ack_end + 1);
            uint64_t o;
            bool whole = a && store_pread_full(fd, a, cs->ack_end, 0) == (ssize_t)cs->ack_end;
            for (o = SEG_HEADER; whole && o + ACK_ENTRY <= cs->ack_end; o += ACK_ENTRY) {
                uint32_t eq, eoff;
                uint8_t kind;
                whole = !seg_ack_is_blank(a + o) && seg_ack_check(a + o, &eq, &eoff, &kind) == 0;
            }
            free(a);
            if (!whole) {
                close(fd);
                return "an ack file lost entries it had";
            }
        }
        close(fd);
    }
    (void)total;
    return NULL;
}

static void free_loaded(struct checkpoint *c)
{
    uint32_t i;
    for (i = 0; c->qs && i < c->nq; i++) {
        free(c->qs[i].runs);
        free(c->qs[i].exp);
        free(c->qs[i].red);
    }
    free(c->qs);
    free(c->segs);
    c->qs = NULL;
    c->segs = NULL;
    c->nq = c->nsegs = 0;
    c->valid = false;
}

void store_checkpoint_load(store *st)
{
    struct checkpoint *c = ckpt_of(st);
    uint8_t *buf = NULL;
    const char *why;
    struct stat sb;
    int fd;

    if (!c)
        return;
    unlink(c->tmp); /* one cut short by a crash */
    if (getenv("WARREN_TEST_NO_CHECKPOINT"))
        return; /* tests: a full recovery to compare with */
    if ((fd = open(c->path, O_RDONLY | O_CLOEXEC)) < 0) {
        if (errno != ENOENT)
            log_warn("store: cannot open %s: %s; every segment is read", c->path, strerror(errno));
        return; /* an older data directory: a full recovery */
    }
    if (fstat(fd, &sb) < 0 || !(buf = malloc((size_t)sb.st_size + 1)) ||
        store_pread_full(fd, buf, (size_t)sb.st_size, 0) != (ssize_t)sb.st_size) {
        log_warn("store: cannot read %s; every segment is read", c->path);
        close(fd);
        free(buf);
        return;
    }
    close(fd);
    why = parse(st, c, buf, (size_t)sb.st_size);
    free(buf);
    if (why) {
        log_warn("store: %s not used: %s; every segment is read", c->path, why);
        free_loaded(c);
        return;
    }
    c->valid = true;
    log_info("store: %s: %u cold segments are not read", c->path, c->nsegs);
}

bool store_checkpoint_cold(const store *st, uint32_t id)
{
    return st->ckpt && st->ckpt->valid && find_seg(st->ckpt, id);
}

uint64_t store_checkpoint_max_seq(const store *st)
{
    return st->ckpt && st->ckpt->valid ? st->ckpt->max_seq : 0;
}

/* ------------------------------------------------------------ recovering */

/* seq and body length of the record at off in s's file; -1 unreadable. */
static int record_at(segment *s, uint32_t off, uint64_t *seq, uint32_t *body_len)
{
    uint8_t h[REC_HEADER], *b;
    uint32_t len;
    size_t size;
    seg_record r;
    if (store_pread_full(s->fd, h, REC_HEADER, off) != REC_HEADER)
        return -1;
    len = amqp_get32(h);
    if (len > REC_MAX || !(b = malloc((size_t)len + REC_HEADER)))
        return -1;
    if (store_pread_full(s->fd, b, (size_t)len + REC_HEADER, off) != (ssize_t)len + REC_HEADER ||
        seg_record_check(b, (size_t)len + REC_HEADER, &size, &r) != SEG_OK || r.type != REC_MSG) {
        free(b);
        return -1;
    }
    *seq = r.seq;
    *body_len = r.body_len;
    free(b);
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int store_checkpoint_recover(store *st, segment *s)
{
    struct checkpoint *c = st->ckpt;
    const ckpt_seg *cs;
    char path[4300];
    ackset pre = {0}, post = {0};
    uint8_t *buf = NULL;
    size_t n = 0, off;
    uint32_t i, j;
    int rc = -1, fd;

    if (!c || !c->valid || !(cs = find_seg(c, s->id)))
        return 0;
    /* its ack file: the entries before the checkpoint's end, and after */
    seg_path(path, sizeof path, st->dir, s->id, "ack");
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
        struct stat sb;
        if (fstat(fd, &sb) < 0 || !(buf = malloc((size_t)sb.st_size + 1)) ||
            store_pread_full(fd, buf, (size_t)sb.st_size, 0) != (ssize_t)sb.st_size) {
            close(fd);
            log_error("store: cannot read %s", path);
            goto out;
        }
        close(fd);
        n = seg_ack_end(buf, (size_t)sb.st_size);
    }
    for (off = SEG_HEADER; buf && off + ACK_ENTRY <= n; off += ACK_ENTRY) {
        uint32_t qid, roff;
        uint8_t kind;
        if (seg_ack_is_blank(buf + off) || seg_ack_check(buf + off, &qid, &roff, &kind) < 0)
            continue; /* a torn last one: as a full recovery */
        if (store_ackset_add(off < cs->ack_end ? &pre : &post, (uint64_t)qid << 32 | roff, kind, 0) < 0)
            goto out;
    }
    for (i = 0; i < c->nq; i++) {
        ckpt_queue *q = &c->qs[i];
        void *h = store_queue_by_id(st, q->qid);
        if (!h)
            continue; /* deleted: its messages are nobody's */
        for (j = 0; j < q->nruns; j++) {
            store_region_run run = q->runs[j];
            store_region_exp *exp = NULL;
            uint64_t *red = NULL;
            size_t nexp = 0, nred = 0, k;
            if (run.seg != s->id)
                continue;
            if (!(exp = calloc(q->nexp + 1, sizeof *exp)) || !(red = calloc(q->nred + post.n + 1, sizeof *red))) {
                free(exp);
                goto out;
            }
            for (k = 0; k < q->nexp; k++)
                if (q->exp[k].seg == s->id)
                    exp[nexp++] = q->exp[k];
            for (k = 0; k < q->nred; k++)
                if (q->red[k] >= run.first_seq && q->red[k] <= run.last_seq)
                    red[nred++] = q->red[k];
            /* what happened to its members since: acked, or delivered */
            for (k = 0; k < post.cap; k++) {
                uint64_t key = post.keys[k], seq;
                uint32_t roff, body_len, dummy;
                size_t m;
                if (!key || (uint32_t)((key - 1) >> 32) != q->qid)
                    continue;
                roff = (uint32_t)(key - 1);
                if (roff < run.off || (store_ackset_get(&pre, key - 1, &dummy) & ACK_KIND_ACK))
                    continue; /* not a member at the checkpoint */
                if (record_at(s, roff, &seq, &body_len) < 0) {
                    log_error("store: segment %u: cannot read the record at %u an ack entry names", s->id, roff);
                    free(exp);
                    free(red);
                    goto out;
                }
                if (seq < run.first_seq || seq > run.last_seq)
                    continue;
                for (m = 0; m < nred && red[m] != seq; m++)
                    ;
                if (post.kinds[k] & ACK_KIND_ACK) {
                    run.count--;
                    run.bytes -= body_len;
                    if (m < nred)
                        red[m] = red[--nred];
                    for (m = 0; m < nexp && exp[m].seq != seq; m++)
                        ;
                    if (m < nexp)
                        exp[m] = exp[--nexp];
                } else if (m == nred) {
                    red[nred++] = seq; /* delivered since, not acked: comes back redelivered */
                }
            }
            qsort(red, nred, sizeof *red, cmp_u64);
            if (run.count && st->rec->region_run &&
                st->rec->region_run(st->rec->ctx, h, &run, exp, nexp, red, nred) < 0) {
                free(exp);
                free(red);
                log_error("store: out of memory recovering segment %u", s->id);
                goto out;
            }
            free(exp);
            free(red);
            s->live += run.count;
            s->region_refs += run.count;
            s->live_bytes += run.bytes + run.count * LIVE_OVERHEAD;
        }
    }
    rc = 1;
out:
    free(buf);
    store_ackset_free(&pre);
    store_ackset_free(&post);
    return rc;
}

void store_checkpoint_free(store *st)
{
    struct checkpoint *c = st->ckpt;
    if (!c)
        return;
    join_writer(c, true);
    free_loaded(c);
    free(c);
    st->ckpt = NULL;
}
