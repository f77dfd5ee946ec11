/*
 * warren-check-store - check (and repair) a warren data directory.
 *
 *   warren-check-store [--repair] [--verbose] DATA_DIR
 *
 * Reads the definitions file, every segment and every ack file the way the
 * broker's recovery does (doc/store-format.md), and reports each problem
 * with its file and offset.  With --repair it makes the directory
 * startable again: torn tails are truncated; a damaged record (or damaged
 * range, up to the next valid record) is overwritten with a padding record
 * in a segment, cut out of the definitions file; a damaged ack entry is
 * made harmless.  Each message lost that way is listed on a LOST line
 * (queue, sequence number, offset), as far as the damaged bytes still
 * tell.
 *
 * A torn tail (the last record of the newest segment - or of an older one
 * when no newer segment holds a complete record - or of the definitions,
 * cut short by a crash) is not a problem: it was never
 * confirmed, and the broker drops it at start.  It is reported on a NOTE
 * line and leaves the exit status 0.
 *
 * The data directory's lock (src/store/dirlock.h): --repair takes it, and
 * refuses a directory a running broker holds; a check without --repair
 * goes on with a warning (the ends of the files it reads may be in
 * flight), and while it runs no broker can start on the directory.
 *
 * Exit status: 0 no problems, 1 problems found (repaired or not), 2 could
 * not check (missing directory, I/O error, --repair of a directory in use).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "amqp/wire.h"
#include "store/crc32c.h"
#include "store/dirlock.h"
#include "store/segment.h"

static bool repair, verbose;
static int problems, torn;

static void problem(const char *path, size_t off, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void problem(const char *path, size_t off, const char *fmt, ...)
{
    va_list ap;
    printf("PROBLEM %s at offset %zu: ", path, off);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    problems++;
}

/* A torn tail: what a kill -9 or a power cut leaves, never confirmed, and
 * dropped by the broker at start.  Not a problem. */
static void torn_tail(const char *path, size_t off, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void torn_tail(const char *path, size_t off, const char *fmt, ...)
{
    va_list ap;
    printf("NOTE %s at offset %zu: ", path, off);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf(" (harmless: the broker drops it at start)\n");
    torn++;
}

static int slurp(const char *path, uint8_t **buf, size_t *n)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    size_t got = 0;

    if (fd < 0)
        return -1;
    if (fstat(fd, &sb) < 0 || !(*buf = malloc((size_t)sb.st_size + 1))) {
        close(fd);
        return -1;
    }
    while (got < (size_t)sb.st_size) {
        ssize_t r = pread(fd, *buf + got, (size_t)sb.st_size - got, (off_t)got);
        if (r <= 0) {
            if (r < 0 && errno == EINTR)
                continue;
            break;
        }
        got += (size_t)r;
    }
    close(fd);
    *n = got;
    return 0;
}

static int patch(const char *path, size_t off, const void *p, size_t n)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    int rc = -1;
    if (fd >= 0 && pwrite(fd, p, n, (off_t)off) == (ssize_t)n && fdatasync(fd) == 0)
        rc = 0;
    if (fd >= 0)
        close(fd);
    if (rc < 0)
        fprintf(stderr, "warren-check-store: cannot write %s: %s\n", path, strerror(errno));
    return rc;
}

static int cut(const char *path, size_t off)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    int rc = -1;
    if (fd >= 0 && ftruncate(fd, (off_t)off) == 0 && fsync(fd) == 0)
        rc = 0;
    if (fd >= 0)
        close(fd);
    if (rc < 0)
        fprintf(stderr, "warren-check-store: cannot truncate %s: %s\n", path, strerror(errno));
    return rc;
}

/* --------------------------------------------------------------- queues */

typedef struct dq {
    uint32_t id;
    uint32_t order;             /* place in the definitions file */
    bool exists;
    char name[256];
    const uint8_t *vhost;       /* while the definitions are read: its vhost beyond "/" (a kind 14 */
    uint8_t vhostlen;           /* deletes the queues it still has), NULL for "/" */
} dq;

/* The durable queues: while the definitions are read, every declaration
 * and deletion is appended; queues_settle() then sorts them by id and keeps
 * each id's last word, so a lookup is a binary search (a record may name
 * tens of thousands of queues). */
static dq *queues;
static size_t nqids, capqids;

static int cmp_dq(const void *a, const void *b)
{
    const dq *x = a, *y = b;
    if (x->id != y->id)
        return x->id < y->id ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

static const dq *queue_find(uint32_t id)
{
    size_t lo = 0, hi = nqids;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (queues[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < nqids && queues[lo].id == id ? &queues[lo] : NULL;
}

static bool queue_exists(uint32_t id)
{
    return queue_find(id) != NULL;
}

static void queue_set(uint32_t id, bool exists, const uint8_t *name, size_t namelen)
{
    if (nqids == capqids) {
        size_t cap = capqids ? capqids * 2 : 64;
        dq *v = realloc(queues, cap * sizeof *v);
        if (!v)
            return;
        queues = v;
        capqids = cap;
    }
    queues[nqids].id = id;
    queues[nqids].order = (uint32_t)nqids;
    queues[nqids].exists = exists;
    queues[nqids].vhost = NULL;
    queues[nqids].vhostlen = 0;
    memcpy(queues[nqids].name, name, namelen);
    queues[nqids].name[namelen] = 0;
    nqids++;
}

/* Purge marks (definitions kind 16, src/store/purge.c): the last one of
 * each queue decides, as in the broker. */
typedef struct pmark {
    uint32_t qid;
    uint64_t seq;
    uint32_t nalso;
    uint64_t *also;
} pmark;
static pmark *marks;
static size_t nmarks;

static void mark_set(const uint8_t *q, uint32_t len)
{
    pmark m = {0}, *v;
    size_t i;
    if (len < 17)
        return;
    m.qid = amqp_get32(q + 1);
    m.seq = amqp_get64(q + 5);
    m.nalso = amqp_get32(q + 13);
    if ((uint64_t)len != 17 + (uint64_t)m.nalso * 8 || (m.nalso && !(m.also = malloc((size_t)m.nalso * 8))))
        return;
    for (i = 0; i < m.nalso; i++)
        m.also[i] = amqp_get64(q + 17 + 8 * i);
    for (i = 0; i < nmarks; i++)
        if (marks[i].qid == m.qid) {
            free(marks[i].also);
            marks[i] = m;
            return;
        }
    if (!(v = realloc(marks, (nmarks + 1) * sizeof *v))) {
        free(m.also);
        return;
    }
    marks = v;
    marks[nmarks++] = m;
}

/* Is message seq of queue qid gone by its queue's purge mark? */
static bool purged(uint32_t qid, uint64_t seq, uint8_t kind)
{
    size_t i;
    uint32_t j;
    for (i = 0; i < nmarks; i++) {
        if (marks[i].qid != qid)
            continue;
        if (seq > marks[i].seq)
            return false;
        if (!(kind & ACK_KIND_DELIVERED))
            return true;
        for (j = 0; j < marks[i].nalso; j++)
            if (marks[i].also[j] == seq)
                return true;
        return false;
    }
    return false;
}

static void queues_settle(void)
{
    size_t i, out = 0;
    if (nqids)
        qsort(queues, nqids, sizeof *queues, cmp_dq);
    for (i = 0; i < nqids; i++) {
        if (i + 1 < nqids && queues[i + 1].id == queues[i].id)
            continue; /* a later record about the same id decides */
        if (queues[i].exists)
            queues[out++] = queues[i];
    }
    nqids = out;
}

/* Write a new file in place of path: tmp, sync, rename, sync the directory. */
static int replace_file(const char *path, const char *dir, const uint8_t *p, size_t n)
{
    char tmp[4300];
    int fd, dfd, rc = -1;
    snprintf(tmp, sizeof tmp, "%s.repair", path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd >= 0 && write(fd, p, n) == (ssize_t)n && fdatasync(fd) == 0 && rename(tmp, path) == 0)
        rc = 0;
    if (fd >= 0)
        close(fd);
    if (rc < 0) {
        fprintf(stderr, "warren-check-store: cannot rewrite %s: %s\n", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
}

static int check_defs(const char *dir)
{
    char path[4200];
    uint8_t *buf;
    size_t n, off;
    uint32_t version, id;

    snprintf(path, sizeof path, "%s/definitions", dir);
    if (slurp(path, &buf, &n) < 0) {
        if (errno == ENOENT) {
            printf("%s: missing (no durable queues)\n", path);
            return 0;
        }
        fprintf(stderr, "warren-check-store: cannot read %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (n == 0) {
        printf("%s: empty\n", path);
        free(buf);
        return 0;
    }
    switch (seg_header_check(buf, n, "WDEF", &version, &id)) {
    case -1:
        problem(path, 0, "not a warren definitions file");
        free(buf);
        return 0;
    case -2:
        problem(path, 4, "format version %u, this tool understands %u", version, SEG_VERSION);
        free(buf);
        return 0;
    }
    /* as the broker reads it (src/store/defs.c): a bad record is a torn
     * tail only if no valid record follows; damaged ranges with valid
     * records after them are kept in `keep` order to be cut out */
    {
        uint8_t *keep = NULL;
        size_t keeplen = 0, damaged = 0;
        if (repair && !(keep = malloc(n))) {
            free(buf);
            return -1;
        }
        if (keep) {
            memcpy(keep, buf, SEG_HEADER);
            keeplen = SEG_HEADER;
        }
        for (off = SEG_HEADER; off < n;) {
            uint32_t len = n - off >= REC_HEADER ? amqp_get32(buf + off) : 0;
            const uint8_t *p = buf + off + REC_HEADER;
            if (n - off < REC_HEADER || len == 0 || len > REC_MAX || len > n - off - REC_HEADER ||
                crc32c(0, p, len) != amqp_get32(buf + off + 4)) {
                long next = seg_find_checksummed(buf + off + 1, n - off - 1);
                if (next < 0) {
                    torn_tail(path, off, "torn last record, %zu bytes, a declaration a crash cut short; never "
                              "confirmed", n - off);
                    if (repair) {
                        if (damaged) {
                            printf("REPAIRED %s: cut off at %zu\n", path, off);
                        } else if (cut(path, off) == 0) {
                            printf("REPAIRED %s: truncated at %zu\n", path, off);
                        }
                    }
                    break;
                }
                problem(path, off, "corrupt record; %ld bytes up to the next valid record", next + 1);
                if (repair)
                    printf("REPAIRED %s: bytes %zu..%zu cut out; the queues, exchanges or bindings declared "
                           "there are lost (declare them again)\n",
                           path, off, off + 1 + (size_t)next);
                damaged++;
                off += 1 + (size_t)next;
                continue;
            }
            if (keep) {
                memcpy(keep + keeplen, buf + off, REC_HEADER + (size_t)len);
                keeplen += REC_HEADER + (size_t)len;
            }
            {
                /* a record of a vhost other than "/" (kind 12) wraps the
                 * queue record after the vhost's name */
                const uint8_t *q = p, *vh = NULL;
                uint32_t qlen = len;
                uint8_t vhlen = 0;
                if (q[0] == 12 && qlen >= 2u + q[1] + 6) {
                    vh = q + 2;
                    vhlen = q[1];
                    qlen -= 2u + q[1];
                    q += 2u + q[1];
                }
                if (q[0] == 1 && qlen >= 6 && qlen >= 6u + q[5] && amqp_get32(q + 1) == 0) {
                    problem(path, off, "a queue record with id 0 (the broker refuses it: ids start at 1)");
                } else if (q[0] == 1 && qlen >= 6 && qlen >= 6u + q[5]) {
                    queue_set(amqp_get32(q + 1), true, q + 6, q[5]);
                    if (vh && nqids && queues[nqids - 1].id == amqp_get32(q + 1)) {
                        queues[nqids - 1].vhost = vh;
                        queues[nqids - 1].vhostlen = vhlen;
                    }
                } else if (q[0] == 14 && qlen >= 2 && qlen == 2u + q[1]) {
                    /* a vhost deleted: with every queue it still has */
                    size_t k, nq = nqids;
                    for (k = 0; k < nq; k++)
                        if (queues[k].exists && queues[k].vhost && queues[k].vhostlen == q[1] &&
                            memcmp(queues[k].vhost, q + 2, q[1]) == 0) {
                            queues[k].vhost = NULL; /* this word about it is the last */
                            queue_set(queues[k].id, false, NULL, 0);
                        }
                }
                else if (q[0] == 2 && qlen == 5)
                    queue_set(amqp_get32(q + 1), false, NULL, 0);
                else if (q[0] == 16) /* a purge mark (15 is a vhost's or user's limits) */
                    mark_set(q, qlen);
            }
            off += REC_HEADER + len;
        }
        if (repair && damaged && replace_file(path, dir, keep, keeplen) < 0) {
            free(keep);
            free(buf);
            return -1;
        }
        free(keep);
    }
    queues_settle();
    printf("%s: %zu durable queues\n", path, nqids);
    free(buf);
    return 0;
}

/* -------------------------------------------------------------- segments */

typedef struct ack {
    uint32_t qid, off;
    uint8_t kind;
} ack;

static int cmp_ack(const void *a, const void *b)
{
    const ack *x = a, *y = b;
    if (x->qid != y->qid)
        return x->qid < y->qid ? -1 : 1;
    return x->off < y->off ? -1 : x->off > y->off;
}

/* The ack entries of generation gen of segment segid, chosen as recovery
 * chooses them (src/store/recover.c): NNNN.ack if it is of that
 * generation, else NNNN.acn if that is (a compaction cut short between its
 * two renames; the broker renames it at start). */
static int check_acks(const char *dir, uint32_t segid, uint32_t gen, ack **out, size_t *nout)
{
    char path[4300], apath[4300];
    uint8_t *buf = NULL, *abuf = NULL;
    size_t n = 0, an = 0, off;
    uint32_t version, id;
    ack *v = NULL;
    size_t nv = 0, capv = 0;

    *out = NULL;
    *nout = 0;
    seg_path(path, sizeof path, dir, segid, "ack");
    seg_path(apath, sizeof apath, dir, segid, "acn");
    if (slurp(path, &buf, &n) < 0 && errno != ENOENT)
        return -1;
    if (slurp(apath, &abuf, &an) < 0 && errno != ENOENT) {
        free(buf);
        return -1;
    }
    if ((!buf || n < SEG_HEADER || seg_header_gen(buf) != gen) && abuf && an >= SEG_HEADER &&
        seg_header_check(abuf, an, ACK_MAGIC, &version, &id) == 0 && seg_header_gen(abuf) == gen) {
        printf("%s: the ack file of an interrupted compaction; used in place of %s (the broker renames it at "
               "start)\n", apath, path);
        if (repair && rename(apath, path) == 0)
            printf("REPAIRED %s: renamed to %s\n", apath, path);
        free(buf);
        buf = abuf;
        n = an;
        abuf = NULL;
        snprintf(path, sizeof path, "%s", apath);
    } else if (abuf) {
        printf("%s: left by an interrupted compaction, not needed (the broker removes it at start)\n", apath);
        if (repair && unlink(apath) == 0)
            printf("REPAIRED %s: removed\n", apath);
    }
    free(abuf);
    if (!buf)
        return 0;
    if (n < SEG_HEADER) {
        free(buf);
        return 0;
    }
    if (seg_header_check(buf, n, ACK_MAGIC, &version, &id) < 0) {
        problem(path, 0, "bad header (magic or version %u)", version);
        free(buf);
        return 0;
    }
    if (seg_header_gen(buf) != gen) {
        problem(path, 12, "describes generation %u of its segment, which is generation %u: its acks no longer "
                "apply (those messages will be delivered again)", seg_header_gen(buf), gen);
        if (repair && unlink(path) == 0)
            printf("REPAIRED %s: removed\n", path);
        free(buf);
        return 0;
    }
    n = seg_ack_end(buf, n); /* space reserved past the entries is blank */
    for (off = SEG_HEADER; off + ACK_ENTRY <= n; off += ACK_ENTRY) {
        ack a;
        if (seg_ack_is_blank(buf + off))
            continue;
        if (seg_ack_check(buf + off, &a.qid, &a.off, &a.kind) < 0) {
            if (off + ACK_ENTRY == n) {
                if (verbose)
                    printf("%s: torn last entry at %zu (harmless)\n", path, off);
                break;
            }
            problem(path, off, "corrupt ack entry");
            if (repair) {
                uint8_t e[ACK_ENTRY];
                seg_ack_write(e, 0, 0, ACK_KIND_ACK, 0); /* queue 0 never exists */
                if (patch(path, off, e, sizeof e) == 0)
                    printf("REPAIRED %s: entry at %zu neutralised (its message may be delivered again)\n", path,
                           off);
            }
            continue;
        }
        if (nv == capv) {
            ack *t = realloc(v, (capv = capv ? capv * 2 : 256) * sizeof *v);
            if (!t) {
                free(v);
                free(buf);
                return -1;
            }
            v = t;
        }
        v[nv++] = a;
    }
    free(buf);
    if (nv)
        qsort(v, nv, sizeof *v, cmp_ack); /* for ack_kind's binary search */
    *out = v;
    *nout = nv;
    return 0;
}

/* The kinds of the entries for (qid, off), in v sorted by cmp_ack. */
static uint8_t ack_kind(const ack *v, size_t n, uint32_t qid, uint32_t off)
{
    size_t lo = 0, hi = n;
    uint8_t k = 0;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (v[mid].qid < qid || (v[mid].qid == qid && v[mid].off < off))
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < n && v[lo].qid == qid && v[lo].off == off; lo++)
        k |= v[lo].kind;
    return k;
}

static unsigned long long total_records, total_live, total_paged, total_lost;

/* What a damaged range [off, end) of a segment held, as far as its bytes
 * tell: a LOST line per message and queue that had not been acked. */
static void list_lost(const char *path, const uint8_t *buf, size_t off, size_t end, const ack *acks, size_t nacks)
{
    seg_record r;
    uint32_t len = end - off >= REC_HEADER ? amqp_get32(buf + off) : 0;
    uint32_t i;
    bool ok = false;

    /* the length as written, if it is sane; else the whole range */
    if (len >= REC_MIN_MSG && len <= end - off - REC_HEADER)
        ok = seg_payload_parse(buf + off + REC_HEADER, len, &r) == SEG_OK;
    if (!ok && end - off > REC_HEADER + REC_MIN_MSG)
        ok = seg_payload_parse(buf + off + REC_HEADER, (uint32_t)(end - off - REC_HEADER), &r) == SEG_OK;
    if (!ok || r.type != REC_MSG) {
        /* the head may still be readable: flags, seq, queue ids */
        const uint8_t *p = buf + off + REC_HEADER;
        size_t avail = end - off > REC_HEADER ? end - off - REC_HEADER : 0;
        if (seg_payload_head(p, avail, &r)) {
            ok = true;
            printf("NOTE %s at offset %zu: only the head of the damaged record can be read; what it names is "
                   "a guess\n", path, off);
        }
    }
    if (!ok || r.type != REC_MSG) {
        printf("LOST %s at offset %zu: an unreadable record (its queues and sequence number cannot be read)\n",
               path, off);
        total_lost++;
        return;
    }
    if (r.flags & REC_FLAG_PAGED)
        return; /* a transient message: gone at any restart anyway */
    for (i = 0; i < r.nq; i++) {
        uint32_t qid = amqp_get32(r.qids + 4 * i);
        const dq *q = queue_find(qid);
        uint8_t kind = ack_kind(acks, nacks, qid, (uint32_t)off);
        if (!q || (kind & ACK_KIND_ACK) || purged(qid, r.seq, kind))
            continue;
        printf("LOST %s at offset %zu: message seq %llu of queue '%s' (id %u), %u body bytes\n", path, off,
               (unsigned long long)r.seq, q->name, qid, r.body_len);
        total_lost++;
    }
}

/* Overwrite bytes [off, end) with one padding record. */
static int pad(const char *path, size_t off, size_t end)
{
    size_t len = end - off;
    uint8_t *p;
    int rc;
    if (len < REC_HEADER + 1)
        return -1;
    if (!(p = calloc(1, len)))
        return -1;
    amqp_put32(p, (uint32_t)(len - REC_HEADER));
    p[REC_HEADER] = REC_PAD;
    amqp_put32(p + 4, crc32c(0, p + REC_HEADER, len - REC_HEADER));
    rc = patch(path, off, p, len);
    free(p);
    return rc;
}

/* tail: no newer segment holds a complete record (see the broker's
 * store_recover_messages): a torn tail here is harmless */
/* Does segment id hold a complete record?  (-1: cannot read it.) */
static int seg_has_record(const char *dir, uint32_t id)
{
    char path[4300];
    uint8_t *buf;
    size_t n;
    int has;

    seg_path(path, sizeof path, dir, id, "seg");
    if (slurp(path, &buf, &n) < 0)
        return -1;
    has = seg_file_has_record(buf, n);
    free(buf);
    return has;
}

static int check_segment(const char *dir, uint32_t segid, bool tail)
{
    char path[4300];
    uint8_t *buf;
    size_t n, off;
    uint32_t version, id;
    ack *acks;
    size_t nacks;
    unsigned long long records = 0, live = 0, paged = 0;

    seg_path(path, sizeof path, dir, segid, "seg");
    if (slurp(path, &buf, &n) < 0) {
        fprintf(stderr, "warren-check-store: cannot read %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (n < SEG_HEADER) {
        if (tail)
            torn_tail(path, 0, "shorter than its header, torn while being created");
        else
            problem(path, 0, "shorter than its header");
        if (repair && tail && unlink(path) == 0)
            printf("REPAIRED %s: removed\n", path);
        free(buf);
        return 0;
    }
    switch (seg_header_check(buf, n, SEG_MAGIC, &version, &id)) {
    case -1:
        problem(path, 0, "not a warren segment (bad magic)");
        free(buf);
        return 0;
    case -2:
        problem(path, 4, "store format version %u, this tool understands %u", version, SEG_VERSION);
        free(buf);
        return 0;
    }
    if (id != segid)
        problem(path, 8, "header says segment %u", id);
    if (check_acks(dir, segid, seg_header_gen(buf), &acks, &nacks) < 0) {
        free(buf);
        return -1;
    }
    for (off = SEG_HEADER; off < n;) {
        size_t size;
        seg_record r;
        enum seg_check c = seg_record_check(buf + off, n - off, &size, &r);
        uint32_t i;

        if (c != SEG_OK) {
            long next = seg_find_valid(buf + off + 1, n - off - 1);
            if (next < 0 && tail) {
                torn_tail(path, off, "torn tail (%s), %zu bytes, a write a crash cut short; never confirmed",
                          seg_check_str(c), n - off);
                if (repair && cut(path, off) == 0)
                    printf("REPAIRED %s: truncated at %zu\n", path, off);
                break;
            }
            {
                size_t end = next < 0 ? n : off + 1 + (size_t)next;
                problem(path, off, "corrupt record (%s); %zu bytes up to %s", seg_check_str(c), end - off,
                        next < 0 ? "the end of the file" : "the next valid record");
                if (repair) {
                    if (pad(path, off, end) == 0) {
                        printf("REPAIRED %s: bytes %zu..%zu replaced by a padding record\n", path, off, end);
                        list_lost(path, buf, off, end, acks, nacks);
                    } else if (cut(path, off) == 0) {
                        printf("REPAIRED %s: truncated at %zu; the messages after it are lost\n", path, off);
                        list_lost(path, buf, off, end, acks, nacks);
                        break;
                    }
                }
                if (next < 0)
                    break;
                off = end;
                continue;
            }
        }
        if (r.type == REC_MSG && (r.flags & REC_FLAG_PAGED)) {
            /* a transient message paged out of memory: never recovered */
            paged++;
            if (verbose)
                printf("  %zu: seq %llu, paged transient message (not recovered), %u body bytes\n", off,
                       (unsigned long long)r.seq, r.body_len);
        } else if (r.type == REC_MSG) {
            records++;
            for (i = 0; i < r.nq; i++) {
                uint32_t qid = amqp_get32(r.qids + 4 * i);
                uint8_t kind = ack_kind(acks, nacks, qid, (uint32_t)off);
                if (queue_exists(qid) && !(kind & ACK_KIND_ACK) && !purged(qid, r.seq, kind))
                    live++;
            }
            if (verbose)
                printf("  %zu: seq %llu, %u queue(s), %u body bytes\n", off, (unsigned long long)r.seq, r.nq,
                       r.body_len);
        }
        off += size;
    }
    printf("%s: generation %u, %zu bytes, %llu message records, %llu live, %llu paged transient, "
           "%zu ack entries\n", path, seg_header_gen(buf), n, records, live, paged, nacks);
    total_records += records;
    total_live += live;
    total_paged += paged;
    free(acks);
    free(buf);
    return 0;
}

/* Records the broker found damaged while it ran and moved aside
 * (DATA/corrupt/SSSSSSSSSS-OOOOOOOOOO.rec, see store_move_aside): each is a
 * lost message, reported as a problem with what its head still names.
 * --repair leaves them: remove them once inspected. */
static void check_moved_aside(const char *dir)
{
    char cdir[4200], path[4500];
    DIR *d;
    struct dirent *de;

    snprintf(cdir, sizeof cdir, "%s/corrupt", dir);
    if (!(d = opendir(cdir)))
        return;
    while ((de = readdir(d))) {
        unsigned segid, off;
        uint8_t *buf;
        size_t n;
        seg_record r;
        uint32_t i, len;
        if (sscanf(de->d_name, "%10u-%10u.rec", &segid, &off) != 2)
            continue;
        snprintf(path, sizeof path, "%s/%s", cdir, de->d_name);
        if (slurp(path, &buf, &n) < 0)
            continue;
        len = n >= REC_HEADER ? amqp_get32(buf) : 0;
        problem(path, 0, "a damaged record (%s) the broker moved aside from segment %u offset %u: its message "
                "is lost (remove this file once inspected)",
                n >= REC_HEADER && len == n - REC_HEADER && crc32c(0, buf + REC_HEADER, len) != amqp_get32(buf + 4)
                    ? "checksum mismatch" : "unreadable",
                segid, off);
        if (n > REC_HEADER && seg_payload_head(buf + REC_HEADER, n - REC_HEADER, &r) && !(r.flags & REC_FLAG_PAGED)) {
            for (i = 0; i < r.nq; i++) {
                const dq *q = queue_find(amqp_get32(r.qids + 4 * i));
                printf("LOST %s: message seq %llu of queue '%s' (id %u), as far as its damaged bytes tell\n", path,
                       (unsigned long long)r.seq, q ? q->name : "?", amqp_get32(r.qids + 4 * i));
            }
        }
        free(buf);
    }
    closedir(d);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: warren-check-store [--repair] [--verbose] DATA_DIR\n"
               "\n"
               "Checks a warren data directory record by record (best with the broker stopped).\n"
               "  --repair   truncate torn tails, pad over corrupt records (their messages are lost,\n"
               "             and listed on LOST lines: queue, sequence number, offset)\n"
               "             (refused while a broker holds the directory)\n"
               "  --verbose  list every record\n"
               "A torn tail left by a crash is a NOTE, not a problem: the broker drops it at start.\n"
               "Exit: 0 clean, 1 problems found, 2 could not check.\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"repair", no_argument, NULL, 'r'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    char msgdir[4200];
    DIR *d;
    struct dirent *de;
    uint32_t *ids = NULL;
    size_t n = 0, i, tail;
    int opt;
    const char *dir;

    while ((opt = getopt_long(argc, argv, "rvh", opts, NULL)) != -1) {
        switch (opt) {
        case 'r': repair = true; break;
        case 'v': verbose = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc - 1) {
        usage(stderr);
        return 2;
    }
    dir = argv[optind];
    {
        struct stat sb;
        if (stat(dir, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
            fprintf(stderr, "warren-check-store: %s: %s\n", dir, errno ? strerror(errno) : "not a directory");
            return 2;
        }
    }
    {
        pid_t holder;
        int lockfd = dirlock_take(dir, repair, &holder), e = errno;
        char pid[32] = "";
        if (holder > 0)
            snprintf(pid, sizeof pid, " (pid %ld)", (long)holder);
        if (lockfd < 0 && repair) {
            if (e == EAGAIN)
                fprintf(stderr, "warren-check-store: %s is in use by another process%s, a running warren or "
                        "a check: not repairing it (stop the broker first)\n", dir, pid);
            else
                fprintf(stderr, "warren-check-store: cannot lock %s/%s: %s: not repairing\n", dir, DIRLOCK_NAME,
                        strerror(e));
            return 2;
        }
        if (lockfd < 0 && e == EAGAIN)
            fprintf(stderr, "warren-check-store: warning: %s is in use by a running warren%s; checking it "
                    "anyway, but what it is writing may look torn (stop it for a definitive check)\n", dir, pid);
        /* held (if taken) until exit: no broker starts on it meanwhile */
    }
    if (check_defs(dir) < 0)
        return 2;
    check_moved_aside(dir);
    snprintf(msgdir, sizeof msgdir, "%s/msgs", dir);
    if (!(d = opendir(msgdir))) {
        if (errno == ENOENT) {
            printf("%s: missing (no messages)\n", msgdir);
            return problems ? 1 : 0;
        }
        fprintf(stderr, "warren-check-store: cannot open %s: %s\n", msgdir, strerror(errno));
        return 2;
    }
    while ((de = readdir(d))) {
        unsigned id;
        char ext[8];
        if (strlen(de->d_name) != 14 || sscanf(de->d_name, "%10u.%3s", &id, ext) != 2)
            continue;
        if (!strcmp(ext, "cmp")) {
            char path[4300];
            seg_path(path, sizeof path, dir, id, "cmp");
            printf("%s: left by an interrupted compaction, not needed (the broker removes it at start)\n", path);
            if (repair && unlink(path) == 0)
                printf("REPAIRED %s: removed\n", path);
            continue;
        }
        if (strcmp(ext, "seg"))
            continue;
        ids = realloc(ids, (n + 1) * sizeof *ids);
        if (!ids)
            return 2;
        ids[n++] = id;
    }
    closedir(d);
    if (n)
        qsort(ids, n, sizeof *ids, cmp_u32);
    tail = n ? n - 1 : 0;
    while (tail > 0 && seg_has_record(dir, ids[tail]) == 0)
        tail--;
    for (i = 0; i < n; i++)
        if (check_segment(dir, ids[i], i >= tail) < 0)
            return 2;
    printf("%zu segments, %llu message records, %llu live messages, %llu paged transient, %d problem%s%s",
           n, total_records, total_live, total_paged, problems, problems == 1 ? "" : "s",
           problems && repair ? " (repaired)" : "");
    if (repair && problems)
        printf(", %llu message%s lost", total_lost, total_lost == 1 ? "" : "s");
    if (torn)
        printf(", %d torn tail%s (harmless)", torn, torn == 1 ? "" : "s");
    printf("\n");
    free(ids);
    free(queues);
    return problems ? 1 : 0;
}
