/*
 * recover.c - reading the message segments back at start: each segment's
 * ack entries into a set, then its records, every unacked (queue, record)
 * pair handed to the broker's recovery hook (store_recovery.message) in
 * order, which appends it to its queue.  A bad record is a torn tail when
 * nothing valid follows it, neither in its segment nor in any newer one
 * (the file is cut there; a newer segment torn while being created is
 * removed), corruption anywhere else (start-up stops, naming file and
 * offset).  A compaction replaces a segment in place (same id, next
 * generation), so file order stays publish order; what a compaction cut
 * short by a crash leaves behind (NNNN.cmp, NNNN.acn) is finished or
 * removed here.  See doc/store-format.md.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "store/store_int.h"


int store_ackset_add(ackset *a, uint64_t key, uint8_t kind, uint32_t returns)
{
    size_t i;
    if ((a->n + 1) * 2 > a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 1024, j;
        uint64_t *k = calloc(cap, sizeof *k);
        uint8_t *v = calloc(cap, 1);
        uint32_t *r = calloc(cap, sizeof *r);
        if (!k || !v || !r) {
            free(k);
            free(v);
            free(r);
            return -1;
        }
        for (j = 0; j < a->cap; j++) {
            if (!a->keys[j])
                continue;
            for (i = (a->keys[j] * 0x9E3779B97F4A7C15ull >> 20) & (cap - 1); k[i]; i = (i + 1) & (cap - 1))
                ;
            k[i] = a->keys[j];
            v[i] = a->kinds[j];
            r[i] = a->returns[j];
        }
        free(a->keys);
        free(a->kinds);
        free(a->returns);
        a->keys = k;
        a->kinds = v;
        a->returns = r;
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
    if ((kind & ACK_KIND_DELIVERED) && returns > a->returns[i])
        a->returns[i] = returns;
    return 0;
}

uint8_t store_ackset_get(const ackset *a, uint64_t key, uint32_t *returns)
{
    size_t i;
    *returns = 0;
    if (!a->cap)
        return 0;
    key++;
    for (i = (key * 0x9E3779B97F4A7C15ull >> 20) & (a->cap - 1); a->keys[i]; i = (i + 1) & (a->cap - 1))
        if (a->keys[i] == key) {
            *returns = a->returns[i];
            return a->kinds[i];
        }
    return 0;
}

void store_ackset_free(ackset *a)
{
    free(a->keys);
    free(a->kinds);
    free(a->returns);
    memset(a, 0, sizeof *a);
}

/* Read an ack file whole; 0 and *buf NULL when it does not exist. */
store_entry store_entry_of(const seg_record *r, uint32_t seg, uint32_t off, uint8_t kind, uint32_t returns)
{
    return (store_entry){
        .seq = r->seq,
        .seg = seg,
        .off = off,
        .body_len = r->body_len,
        .redelivered = (kind & ACK_KIND_DELIVERED) != 0,
        .returns = returns,
        .props = r->props,
        .props_len = r->props_len,
        .published = (int64_t)r->timestamp,
        .paged = (r->flags & REC_FLAG_PAGED) != 0,
    };
}

static int read_ack_file(const char *path, uint8_t **buf, size_t *n)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat sb;

    *buf = NULL;
    *n = 0;
    if (fd < 0)
        return errno == ENOENT ? 0 : (log_error("store: cannot open %s: %s", path, strerror(errno)), -1);
    if (fstat(fd, &sb) < 0 || !(*buf = malloc((size_t)sb.st_size + 1))) {
        close(fd);
        return -1;
    }
    *n = (size_t)store_pread_full(fd, *buf, (size_t)sb.st_size, 0);
    close(fd);
    return 0;
}

/*
 * The ack entries of segment id, generation gen.  They are in NNNN.ack
 * when its header names that generation.  A compaction writes the next
 * generation's ack file as NNNN.acn and renames it over NNNN.ack just
 * after the new segment file: a crash between the two renames leaves the
 * right entries in NNNN.acn, which is then renamed here.  An ack file of
 * another generation with no NNNN.acn to replace it (the renames reached
 * the disk out of order) describes records that are gone: it is dropped
 * with a warning, and the messages it had acked are delivered again.
 */
static int load_acks(store *st, uint32_t id, uint32_t gen, ackset *a)
{
    char path[4300], apath[4300];
    uint8_t *buf;
    size_t n, off;
    uint32_t version, hid;

    seg_path(path, sizeof path, st->dir, id, "ack");
    seg_path(apath, sizeof apath, st->dir, id, "acn");
    if (read_ack_file(path, &buf, &n) < 0)
        return -1;
    if (!buf || n < SEG_HEADER || seg_header_gen(buf) != gen) {
        uint8_t *abuf;
        size_t an;
        if (read_ack_file(apath, &abuf, &an) < 0) {
            free(buf);
            return -1;
        }
        if (abuf && an >= SEG_HEADER && seg_header_check(abuf, an, ACK_MAGIC, &version, &hid) == 0 &&
            seg_header_gen(abuf) == gen) {
            if (rename(apath, path) < 0 || store_sync_dir(st->msgdir) < 0) {
                log_error("store: cannot rename %s to %s: %s", apath, path, strerror(errno));
                free(abuf);
                free(buf);
                return -1;
            }
            log_info("store: %s: finished the compaction of segment %u a crash interrupted", path, id);
            free(buf);
            buf = abuf;
            n = an;
        } else {
            free(abuf);
            if (buf && n >= SEG_HEADER && seg_header_check(buf, n, ACK_MAGIC, &version, &hid) == 0) {
                log_warn("store: %s describes generation %u of its segment, which is generation %u; ignored "
                         "(the messages it acked may be delivered again)",
                         path, seg_header_gen(buf), gen);
                if (unlink(path) < 0)
                    log_warn("store: cannot remove %s: %s", path, strerror(errno));
                free(buf);
                return 0;
            }
        }
    }
    unlink(apath); /* a compaction's leftover, if any; not needed now */
    if (!buf || n < SEG_HEADER) {
        free(buf);
        return 0; /* none, or torn while being created: no entries */
    }
    if (seg_header_check(buf, n, ACK_MAGIC, &version, &hid) < 0) {
        log_error("store: %s: %s", path,
                  memcmp(buf, ACK_MAGIC, 4) ? "not a warren ack file" : "unknown format version");
        free(buf);
        return -1;
    }
    n = seg_ack_end(buf, n);
    for (off = SEG_HEADER; off + ACK_ENTRY <= n; off += ACK_ENTRY) {
        uint32_t qid, roff;
        uint8_t kind;
        if (seg_ack_is_blank(buf + off))
            continue; /* reserved, never written (a power cut can leave such holes) */
        if (seg_ack_check(buf + off, &qid, &roff, &kind) < 0) {
            if (off + ACK_ENTRY == n)
                break; /* the last entry, torn */
            log_error("store: %s: corrupt ack entry at offset %zu; run warren-check-store to inspect or repair",
                      path, off);
            free(buf);
            return -1;
        }
        if (store_ackset_add(a, (uint64_t)qid << 32 | roff, kind, seg_ack_returns(buf + off)) < 0) {
            free(buf);
            return -1;
        }
    }
    free(buf);
    return 0;
}

/* tail: no newer segment holds a complete record, so a torn tail here was
 * never synced, never confirmed (doc/store-format.md). */
static int recover_segment(store *st, uint32_t id, bool tail, uint64_t *max_seq)
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
    if (store_checkpoint_cold(st, id)) {
        /* the checkpoint has its messages: only its header is read (a
         * mapping read ahead would read megabytes of it) */
        uint8_t h[SEG_HEADER];
        if (n < SEG_HEADER || store_pread_full(s->fd, h, SEG_HEADER, 0) != SEG_HEADER ||
            seg_header_check(h, SEG_HEADER, SEG_MAGIC, &version, &hid) != 0 || hid != id) {
            log_error("store: %s: its header cannot be read, or is not segment %u's", path, id);
            goto out;
        }
        s->gen = seg_header_gen(h);
        if (store_checkpoint_recover(st, s) != 1)
            goto out;
        s->size = n;
        rc = 0;
        goto out;
    }
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
        if (!tail) {
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
    s->gen = seg_header_gen(mp);
    switch (store_checkpoint_recover(st, s)) {
    case 1:
        /* cold: the checkpoint has its messages, none of it is read */
        s->size = n;
        rc = 0;
        goto out;
    case -1:
        goto out;
    }
    if (load_acks(st, id, s->gen, &acks) < 0)
        goto out;
    for (off = SEG_HEADER; off < n;) {
        size_t size = 0;
        seg_record r;
        enum seg_check c = seg_record_check(mp + off, n - off, &size, &r);
        uint32_t i;

        if (c != SEG_OK) {
            long next = seg_find_valid(mp + off + 1, n - off - 1);
            if (tail && next < 0) {
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
                void *q = store_queue_by_id(st, qid);
                uint8_t kind;
                uint32_t returns;
                store_entry e;
                if (!q)
                    continue;
                kind = store_ackset_get(&acks, (uint64_t)qid << 32 | off, &returns);
                if ((kind & ACK_KIND_ACK) || store_purge_covers(st, qid, r.seq, (kind & ACK_KIND_DELIVERED) != 0))
                    continue;
                e = store_entry_of(&r, id, (uint32_t)off, kind, returns);
                int joined;
                if (!st->rec->message || (joined = st->rec->message(st->rec->ctx, q, &e)) < 0) {
                    log_error("store: out of memory recovering %s", path);
                    goto out;
                }
                s->region_refs += joined == 1;
                s->live++;
                s->live_bytes += r.body_len + LIVE_OVERHEAD;
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
    store_ackset_free(&acks);
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
        if (store_seg_add(st, s) < 0)
            rc = -1;
        else if (id >= st->next_seg_id)
            st->next_seg_id = id + 1;
        if (rc == 0)
            return 0;
    }
    store_seg_free(s);
    return -1;
}

/* Does segment id hold a complete record?  (-1: cannot read it; the
 * segment's own recovery reports that.) */
static int seg_has_record(store *st, uint32_t id)
{
    char path[4300];
    struct stat sb;
    void *mp;
    int fd, has;

    seg_path(path, sizeof path, st->dir, id, "seg");
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &sb) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (sb.st_size <= SEG_HEADER) {
        close(fd);
        return 0;
    }
    mp = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (mp == MAP_FAILED)
        return -1;
    has = seg_file_has_record(mp, (size_t)sb.st_size);
    munmap(mp, (size_t)sb.st_size);
    return has;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

int store_recover_messages(store *st)
{
    DIR *d = opendir(st->msgdir);
    struct dirent *de;
    uint32_t *ids = NULL;
    size_t n = 0, cap = 0, i, tail;
    uint64_t max_seq = 0;
    int rc = 0;

    if (!d) {
        log_error("store: cannot open %s: %s", st->msgdir, strerror(errno));
        return -1;
    }
    while ((de = readdir(d))) {
        unsigned id;
        char ext[8];
        if (sscanf(de->d_name, "%10u.%3s", &id, ext) != 2 || strlen(de->d_name) != 14)
            continue;
        if (strcmp(ext, "cmp") == 0) {
            /* the new file of a compaction a crash cut short (the old
             * segment it was to replace is still whole) */
            char path[4300];
            seg_path(path, sizeof path, st->dir, id, "cmp");
            log_info("store: removing %s, left by an interrupted compaction", path);
            unlink(path);
            continue;
        }
        if (strcmp(ext, "seg") != 0)
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
    /* the tail of the log: the newest segment, and the ones before it as
     * long as every segment after them holds no complete record (a power
     * cut while a new segment was being started) */
    tail = n ? n - 1 : 0;
    while (tail > 0 && seg_has_record(st, ids[tail]) == 0)
        tail--;
    for (i = 0; i < n && rc == 0; i++)
        rc = recover_segment(st, ids[i], i >= tail, &max_seq);
    free(ids);
    if (store_checkpoint_max_seq(st) > max_seq)
        max_seq = store_checkpoint_max_seq(st);
    st->max_seq = max_seq;
    if (rc == 0 && st->rec->last_seq)
        st->rec->last_seq(st->rec->ctx, max_seq);
    if (st->next_seg_id == 0)
        st->next_seg_id = 1;
    return rc;
}
