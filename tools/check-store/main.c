/*
 * warren-check-store - check (and repair) a warren data directory.
 *
 *   warren-check-store [--repair] [--verbose] DATA_DIR
 *
 * Reads the definitions file, every segment and every ack file the way the
 * broker's recovery does (doc/store-format.md), and reports each problem
 * with its file and offset.  With --repair it makes the directory
 * startable again: torn tails are truncated, a damaged record (or damaged
 * range, up to the next valid record) is overwritten with a padding record,
 * a damaged ack entry with a harmless one.  The messages lost that way are
 * listed.  Run it on a stopped broker only.
 *
 * Exit status: 0 no problems, 1 problems found (repaired or not), 2 could
 * not check (missing directory, I/O error).
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
#include "store/segment.h"

static bool repair, verbose;
static int problems;

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

static uint32_t *qids;
static size_t nqids;

static bool queue_exists(uint32_t id)
{
    size_t i;
    for (i = 0; i < nqids; i++)
        if (qids[i] == id)
            return true;
    return false;
}

static void queue_set(uint32_t id, bool exists)
{
    size_t i;
    for (i = 0; i < nqids; i++)
        if (qids[i] == id) {
            if (!exists)
                qids[i] = qids[--nqids];
            return;
        }
    if (exists) {
        qids = realloc(qids, (nqids + 1) * sizeof *qids);
        if (qids)
            qids[nqids++] = id;
    }
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
    for (off = SEG_HEADER; off < n;) {
        uint32_t len = n - off >= REC_HEADER ? amqp_get32(buf + off) : 0;
        const uint8_t *p = buf + off + REC_HEADER;
        if (n - off < REC_HEADER || len == 0 || len > n - off - REC_HEADER ||
            crc32c(0, p, len) != amqp_get32(buf + off + 4)) {
            bool tail = n - off < REC_HEADER || len > n - off - REC_HEADER || off + REC_HEADER + len == n;
            problem(path, off, "%s", tail ? "torn last record (a declaration never confirmed)" : "corrupt record");
            if (repair && cut(path, off) == 0)
                printf("REPAIRED %s: truncated at %zu%s\n", path, off,
                       tail ? "" : " (the definitions after it are lost)");
            break;
        }
        if (p[0] == 1 && len >= 5)
            queue_set(amqp_get32(p + 1), true);
        else if (p[0] == 2 && len == 5)
            queue_set(amqp_get32(p + 1), false);
        off += REC_HEADER + len;
    }
    printf("%s: %zu durable queues\n", path, nqids);
    free(buf);
    return 0;
}

/* -------------------------------------------------------------- segments */

typedef struct ack {
    uint32_t qid, off;
    uint8_t kind;
} ack;

static int check_acks(const char *dir, uint32_t segid, ack **out, size_t *nout)
{
    char path[4300];
    uint8_t *buf;
    size_t n, off;
    uint32_t version, id;
    ack *v = NULL;
    size_t nv = 0;

    *out = NULL;
    *nout = 0;
    seg_path(path, sizeof path, dir, segid, "ack");
    if (slurp(path, &buf, &n) < 0)
        return errno == ENOENT ? 0 : -1;
    if (n < SEG_HEADER) {
        free(buf);
        return 0;
    }
    if (seg_header_check(buf, n, ACK_MAGIC, &version, &id) < 0) {
        problem(path, 0, "bad header (magic or version %u)", version);
        free(buf);
        return 0;
    }
    for (off = SEG_HEADER; off + ACK_ENTRY <= n; off += ACK_ENTRY) {
        ack a;
        if (seg_ack_check(buf + off, &a.qid, &a.off, &a.kind) < 0) {
            if (off + ACK_ENTRY == n) {
                if (verbose)
                    printf("%s: torn last entry at %zu (harmless)\n", path, off);
                break;
            }
            problem(path, off, "corrupt ack entry");
            if (repair) {
                uint8_t e[ACK_ENTRY];
                seg_ack_write(e, 0, 0, ACK_KIND_ACK); /* queue 0 never exists */
                if (patch(path, off, e, sizeof e) == 0)
                    printf("REPAIRED %s: entry at %zu neutralised (its message may be delivered again)\n", path,
                           off);
            }
            continue;
        }
        v = realloc(v, (nv + 1) * sizeof *v);
        if (!v) {
            free(buf);
            return -1;
        }
        v[nv++] = a;
    }
    free(buf);
    *out = v;
    *nout = nv;
    return 0;
}

static uint8_t ack_kind(const ack *v, size_t n, uint32_t qid, uint32_t off)
{
    size_t i;
    uint8_t k = 0;
    for (i = 0; i < n; i++)
        if (v[i].qid == qid && v[i].off == off)
            k |= v[i].kind;
    return k;
}

static unsigned long long total_records, total_live;

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

static int check_segment(const char *dir, uint32_t segid, bool newest)
{
    char path[4300];
    uint8_t *buf;
    size_t n, off;
    uint32_t version, id;
    ack *acks;
    size_t nacks;
    unsigned long long records = 0, live = 0;

    seg_path(path, sizeof path, dir, segid, "seg");
    if (slurp(path, &buf, &n) < 0) {
        fprintf(stderr, "warren-check-store: cannot read %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (n < SEG_HEADER) {
        problem(path, 0, "shorter than its header%s", newest ? " (torn while being created)" : "");
        if (repair && newest && unlink(path) == 0)
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
    if (check_acks(dir, segid, &acks, &nacks) < 0) {
        free(buf);
        return -1;
    }
    for (off = SEG_HEADER; off < n;) {
        size_t size;
        seg_record r;
        enum seg_check c = seg_record_check(buf + off, n - off, &size, &r);
        uint16_t i;

        if (c != SEG_OK) {
            long next = seg_find_valid(buf + off + 1, n - off - 1);
            if (next < 0 && newest) {
                problem(path, off, "torn tail (%s), %zu bytes; never confirmed", seg_check_str(c), n - off);
                if (repair && cut(path, off) == 0)
                    printf("REPAIRED %s: truncated at %zu\n", path, off);
                break;
            }
            {
                size_t end = next < 0 ? n : off + 1 + (size_t)next;
                problem(path, off, "corrupt record (%s); %zu bytes up to %s", seg_check_str(c), end - off,
                        next < 0 ? "the end of the file" : "the next valid record");
                if (repair) {
                    if (pad(path, off, end) == 0)
                        printf("REPAIRED %s: bytes %zu..%zu replaced by a padding record; "
                               "the message(s) in them are lost\n",
                               path, off, end);
                    else if (cut(path, off) == 0)
                        printf("REPAIRED %s: truncated at %zu; the messages after it are lost\n", path, off);
                }
                if (next < 0)
                    break;
                off = end;
                continue;
            }
        }
        if (r.type == REC_MSG) {
            records++;
            for (i = 0; i < r.nq; i++) {
                uint32_t qid = amqp_get32(r.qids + 4 * i);
                if (queue_exists(qid) && !(ack_kind(acks, nacks, qid, (uint32_t)off) & ACK_KIND_ACK))
                    live++;
            }
            if (verbose)
                printf("  %zu: seq %llu, %u queue(s), %u body bytes\n", off, (unsigned long long)r.seq, r.nq,
                       r.body_len);
        }
        off += size;
    }
    printf("%s: %zu bytes, %llu message records, %llu live, %zu ack entries\n", path, n, records, live, nacks);
    total_records += records;
    total_live += live;
    free(acks);
    free(buf);
    return 0;
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
               "Checks a stopped warren's data directory record by record.\n"
               "  --repair   truncate torn tails, pad over corrupt records (their messages are lost)\n"
               "  --verbose  list every record\n"
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
    size_t n = 0, i;
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
    if (check_defs(dir) < 0)
        return 2;
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
        if (strlen(de->d_name) != 14 || sscanf(de->d_name, "%10u.%3s", &id, ext) != 2 || strcmp(ext, "seg"))
            continue;
        ids = realloc(ids, (n + 1) * sizeof *ids);
        if (!ids)
            return 2;
        ids[n++] = id;
    }
    closedir(d);
    if (n)
        qsort(ids, n, sizeof *ids, cmp_u32);
    for (i = 0; i < n; i++)
        if (check_segment(dir, ids[i], i == n - 1) < 0)
            return 2;
    printf("%zu segments, %llu message records, %llu live messages, %d problem%s%s\n", n, total_records, total_live,
           problems, problems == 1 ? "" : "s", problems && repair ? " (repaired)" : "");
    free(ids);
    free(qids);
    return problems ? 1 : 0;
}
