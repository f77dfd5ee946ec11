/*
 * delay_index.c - a delayed exchange's held entries past the horizon, in
 * time buckets on disk (delay_index.h).
 *
 * A bucket is one file, DATA/delay/<queue id>/<bucket start ms>.idx, of
 * fixed 32-byte entries appended in arrival order (not sorted: the heap
 * sorts them when the bucket is loaded), big-endian:
 *
 *     due i64 (wall ms) | seq u64 | seg u32 | off u32 | size u32 |
 *     flags u8 | priority u8 | returns u16
 *
 * No header, no checksum: the directory is a cache of what the store's
 * segments say (every entry is a stored message of the hold), rebuilt at
 * each start from the recovery (delay_index_open wipes it), so a torn or
 * stale file is never read.  Entries are buffered per bucket and written
 * with one write when the bucket's buffer fills or within
 * DELAY_INDEX_FLUSH_MS (delay.c's timer); a write that fails is undone
 * (the file cut back) and its entries given back to RAM, so nothing is
 * lost for a full disk, only RAM spent.
 *
 * Loading: when a bucket's start comes within the horizon (or, with RAM
 * holding ram_entries already, within lead_ms), `loaded` moves past it
 * (what arrives for it from then on stays in RAM) and its file is read a
 * slice at a time, each entry pushed into the heap, then deleted.
 */
#include "delay_index.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "amqp/wire.h"
#include "log.h"

#define REC 32                  /* bytes an entry */
#define BUF_MAX 256             /* entries buffered in a bucket before it is written */

typedef struct bucket {
    int64_t start;
    uint64_t n;                 /* entries, written and buffered */
    uint8_t *buf;               /* nbuf encoded entries, not written yet */
    uint32_t nbuf, capbuf;
} bucket;

struct delay_index {
    char *dir;                  /* data_dir/delay/<qid> */
    int64_t loaded;             /* entries due before it are the caller's */
    bucket *b;                  /* by start, the earliest first */
    uint32_t nb, capb;
    uint64_t count, bytes;
    int load_fd;                /* the bucket being loaded, -1 none */
    int64_t load_start;
    uint64_t load_left;         /* its entries not read yet */
};

/* ------------------------------------------------------------ settings */

static int64_t env_ms(const char *name, int64_t dflt, int64_t min)
{
    const char *s = getenv(name);
    char *end;
    long long v;
    if (!s || !*s)
        return dflt;
    v = strtoll(s, &end, 10);
    if (*end || v < min) {
        log_warn("%s=%s is not a number >= %lld: %lld is used", name, s, (long long)min, (long long)dflt);
        return dflt;
    }
    return v;
}

const delay_index_params *delay_index_params_get(void)
{
    static delay_index_params p;
    if (!p.bucket_ms) {
        p.horizon_ms = env_ms("WARREN_DELAY_HORIZON_MS", 60000, 0);
        p.bucket_ms = env_ms("WARREN_DELAY_BUCKET_MS", 60000, 1);
        p.ram_entries = (uint32_t)env_ms("WARREN_DELAY_RAM_ENTRIES", 65536, 1);
        p.lead_ms = p.horizon_ms < 1000 ? p.horizon_ms : 1000;
    }
    return &p;
}

static int64_t floor_to(int64_t t, int64_t w)
{
    int64_t r = t % w;
    return r < 0 ? t - r - w : t - r;
}

/* ---------------------------------------------------------- the entries */

static void encode(uint8_t *p, int64_t due, const qentry *e)
{
    p = amqp_put64(p, (uint64_t)due);
    p = amqp_put64(p, e->seq);
    p = amqp_put32(p, e->seg);
    p = amqp_put32(p, e->off);
    p = amqp_put32(p, e->size);
    p = amqp_put8(p, e->flags);
    p = amqp_put8(p, e->priority);
    amqp_put16(p, e->returns);
}

static int64_t decode(const uint8_t *p, qentry *e)
{
    memset(e, 0, sizeof *e);
    e->seq = amqp_get64(p + 8);
    e->seg = amqp_get32(p + 16);
    e->off = amqp_get32(p + 20);
    e->size = amqp_get32(p + 24);
    e->flags = p[28];
    e->priority = p[29];
    e->returns = amqp_get16(p + 30);
    return (int64_t)amqp_get64(p);
}

static void path_of(const delay_index *ix, int64_t start, char *out, size_t n)
{
    snprintf(out, n, "%s/%lld.idx", ix->dir, (long long)start);
}

/* --------------------------------------------------------- directories */

/* Delete the files in dir (not its subdirectories), and dir with rmdir. */
static void empty_dir(const char *dir, bool rmdir_too)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char p[4096];
    if (d) {
        while ((de = readdir(d)))
            if (de->d_name[0] != '.') {
                snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
                if (unlink(p) < 0 && errno == EISDIR)
                    empty_dir(p, true);
            }
        closedir(d);
    }
    if (rmdir_too)
        rmdir(dir);
}

void delay_index_reset(const char *data_dir)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/delay", data_dir);
    empty_dir(p, true);
}

delay_index *delay_index_open(const char *data_dir, uint32_t qid, int64_t now)
{
    const delay_index_params *pr = delay_index_params_get();
    delay_index *ix = calloc(1, sizeof *ix);
    char p[4096];
    int n = snprintf(p, sizeof p, "%s/delay", data_dir);

    if (!ix || n < 0 || (size_t)n >= sizeof p - 16)
        goto fail;
    if (mkdir(p, 0700) < 0 && errno != EEXIST) {
        log_error("cannot create %s for the index of delayed messages: %s; they are kept in RAM", p, strerror(errno));
        goto fail;
    }
    snprintf(p + n, sizeof p - (size_t)n, "/%u", qid);
    if (mkdir(p, 0700) < 0 && errno != EEXIST) {
        log_error("cannot create %s for the index of delayed messages: %s; they are kept in RAM", p, strerror(errno));
        goto fail;
    }
    empty_dir(p, false); /* a cache: what was there is stale */
    if (!(ix->dir = strdup(p)))
        goto fail;
    ix->loaded = floor_to(now + pr->horizon_ms, pr->bucket_ms) + pr->bucket_ms;
    ix->load_fd = -1;
    return ix;
fail:
    free(ix);
    return NULL;
}

void delay_index_close(delay_index *ix, bool remove)
{
    uint32_t i;
    if (!ix)
        return;
    if (ix->load_fd >= 0)
        close(ix->load_fd);
    for (i = 0; i < ix->nb; i++)
        free(ix->b[i].buf);
    free(ix->b);
    if (remove)
        empty_dir(ix->dir, true);
    free(ix->dir);
    free(ix);
}

/* ------------------------------------------------------------- buckets */

/* The index of the first bucket starting at or after start. */
static uint32_t find(const delay_index *ix, int64_t start)
{
    uint32_t lo = 0, hi = ix->nb;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (ix->b[mid].start < start)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void drop_bucket(delay_index *ix, uint32_t i)
{
    free(ix->b[i].buf);
    memmove(&ix->b[i], &ix->b[i + 1], (size_t)(ix->nb - i - 1) * sizeof *ix->b);
    ix->nb--;
}

/* Write bucket i's buffer; on failure its entries go back through back
 * (and the bucket, if it then holds none, goes).  True when bucket i was
 * dropped. */
static bool flush_bucket(delay_index *ix, uint32_t i, delay_index_back *back, void *arg)
{
    bucket *b = &ix->b[i];
    char p[4096];
    size_t len = (size_t)b->nbuf * REC, done = 0;
    struct stat sb;
    int fd;

    if (!b->nbuf)
        return false;
    path_of(ix, b->start, p, sizeof p);
    fd = open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd >= 0 && fstat(fd, &sb) == 0) {
        while (done < len) {
            ssize_t w = write(fd, b->buf + done, len - done);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                break;
            done += (size_t)w;
        }
        if (done < len && ftruncate(fd, sb.st_size) < 0)
            done = 0; /* cannot cut the part written back: cannot be, a duplicate at worst */
    }
    if (fd >= 0)
        close(fd);
    if (done == len) {
        /* no buffer kept: a bucket of a far day may wait weeks */
        b->nbuf = 0;
        free(b->buf);
        b->buf = NULL;
        b->capbuf = 0;
        return false;
    }
    log_error("cannot write %s (%s): %u delayed messages stay in RAM", p, strerror(errno), b->nbuf);
    for (uint32_t k = 0; k < b->nbuf; k++) {
        qentry e;
        int64_t due = decode(b->buf + (size_t)k * REC, &e);
        ix->count--;
        ix->bytes -= e.size;
        b->n--;
        back(arg, due, &e);
    }
    b->nbuf = 0;
    if (!b->n) {
        unlink(p);
        drop_bucket(ix, i);
        return true;
    }
    return false;
}

int64_t delay_index_loaded(const delay_index *ix)
{
    return ix->loaded;
}

void delay_index_advance(delay_index *ix, int64_t now)
{
    const delay_index_params *pr = delay_index_params_get();
    int64_t target = floor_to(now + pr->horizon_ms, pr->bucket_ms) + pr->bucket_ms;
    if (target > ix->loaded && ix->load_fd < 0 && (!ix->nb || ix->b[0].start >= target))
        ix->loaded = target;
}

int delay_index_add(delay_index *ix, int64_t due, const qentry *e, delay_index_back *back, void *arg)
{
    const delay_index_params *pr = delay_index_params_get();
    int64_t start = floor_to(due, pr->bucket_ms);
    uint32_t i = find(ix, start);
    bucket *b;

    if (i == ix->nb || ix->b[i].start != start) {
        if (ix->nb == ix->capb) {
            uint32_t cap = ix->capb ? ix->capb * 2 : 16;
            bucket *v = realloc(ix->b, (size_t)cap * sizeof *v);
            if (!v)
                return -1;
            ix->b = v;
            ix->capb = cap;
        }
        memmove(&ix->b[i + 1], &ix->b[i], (size_t)(ix->nb - i) * sizeof *ix->b);
        ix->b[i] = (bucket){.start = start};
        ix->nb++;
    }
    b = &ix->b[i];
    if (b->nbuf == b->capbuf) {
        uint32_t cap = b->capbuf ? b->capbuf * 2 : 8;
        uint8_t *v = realloc(b->buf, (size_t)cap * REC);
        if (!v) {
            if (!b->n)
                drop_bucket(ix, i);
            return -1;
        }
        b->buf = v;
        b->capbuf = cap;
    }
    encode(b->buf + (size_t)b->nbuf * REC, due, e);
    b->nbuf++;
    b->n++;
    ix->count++;
    ix->bytes += e->size;
    if (b->nbuf >= BUF_MAX)
        flush_bucket(ix, i, back, arg);
    return 0;
}

bool delay_index_buffered(const delay_index *ix)
{
    for (uint32_t i = 0; i < ix->nb; i++)
        if (ix->b[i].nbuf)
            return true;
    return false;
}

void delay_index_flush(delay_index *ix, delay_index_back *back, void *arg)
{
    uint32_t i = 0;
    while (i < ix->nb)
        if (!flush_bucket(ix, i, back, arg))
            i++;
}


/* ------------------------------------------------------------- loading */

int64_t delay_index_next_load(const delay_index *ix, uint32_t nheld)
{
    const delay_index_params *pr = delay_index_params_get();
    if (ix->load_fd >= 0)
        return INT64_MIN;
    if (!ix->nb)
        return INT64_MAX;
    return ix->b[0].start - (nheld < pr->ram_entries ? pr->horizon_ms : pr->lead_ms);
}

static void load_done(delay_index *ix)
{
    char p[4096];
    if (ix->load_fd >= 0)
        close(ix->load_fd);
    ix->load_fd = -1;
    if (ix->load_left) {
        log_error("index of delayed messages %s: %llu entries of bucket %lld could not be read; those messages "
                  "stay in the store and are held again at the next start",
                  ix->dir, (unsigned long long)ix->load_left, (long long)ix->load_start);
        ix->count -= ix->load_left;
        ix->load_left = 0; /* their bytes are not known: the count of bytes drifts, until the next start */
    }
    path_of(ix, ix->load_start, p, sizeof p);
    unlink(p);
}

/* Start loading bucket 0: its buffer written (or given back), loaded
 * past it, its file opened. */
static void load_start(delay_index *ix, delay_index_back *push, void *arg)
{
    const delay_index_params *pr = delay_index_params_get();
    char p[4096];
    bucket b;

    if (flush_bucket(ix, 0, push, arg))
        return; /* it was all in the buffer, and is in RAM now */
    b = ix->b[0];
    drop_bucket(ix, 0);
    if (b.start + pr->bucket_ms > ix->loaded)
        ix->loaded = b.start + pr->bucket_ms;
    ix->load_start = b.start;
    ix->load_left = b.n;
    path_of(ix, b.start, p, sizeof p);
    ix->load_fd = open(p, O_RDONLY | O_CLOEXEC);
    if (ix->load_fd < 0)
        log_error("cannot open %s: %s", p, strerror(errno));
}

int delay_index_load(delay_index *ix, uint32_t max, delay_index_back *push, void *arg)
{
    uint8_t *buf;
    ssize_t r;
    size_t want;

    if (ix->load_fd < 0) {
        if (!ix->nb)
            return 0;
        load_start(ix, push, arg);
        if (ix->load_fd < 0) {
            if (ix->load_left)
                load_done(ix);
            return 0;
        }
    }
    want = (size_t)(max < ix->load_left ? max : ix->load_left) * REC;
    if (!want) {
        load_done(ix);
        return 0;
    }
    if (!(buf = malloc(want)))
        return 1; /* again next time */
    do
        r = read(ix->load_fd, buf, want);
    while (r < 0 && errno == EINTR);
    if (r > 0) {
        size_t k, n = (size_t)r / REC;
        for (k = 0; k < n; k++) {
            qentry e;
            int64_t due = decode(buf + k * REC, &e);
            ix->count--;
            ix->bytes -= e.size;
            ix->load_left--;
            push(arg, due, &e);
        }
        if (n * REC != (size_t)r && lseek(ix->load_fd, (off_t)(n * REC) - r, SEEK_CUR) < 0)
            r = -1;
    }
    free(buf);
    if (r <= 0 || !ix->load_left) {
        if (r < 0)
            log_error("cannot read the index of delayed messages in %s: %s", ix->dir, strerror(errno));
        load_done(ix);
        return 0;
    }
    return 1;
}

void delay_index_load_all(delay_index *ix, delay_index_back *push, void *arg)
{
    while (ix->load_fd >= 0 && delay_index_load(ix, 65536, push, arg) == 1)
        ;
}

/* ------------------------------------------------------ counts, browse */

uint64_t delay_index_count(const delay_index *ix)
{
    return ix->count;
}

uint64_t delay_index_bytes(const delay_index *ix)
{
    return ix->bytes;
}

typedef struct timed {
    int64_t due;
    qentry e;
} timed;

static int by_due(const void *a, const void *b)
{
    const timed *x = a, *y = b;
    if (x->due != y->due)
        return x->due < y->due ? -1 : 1;
    return x->e.seq < y->e.seq ? -1 : x->e.seq > y->e.seq;
}

/* Bucket i's entries, written and buffered, into *out (the caller frees):
 * how many, or -1. */
static int64_t read_bucket(const delay_index *ix, uint32_t i, timed **out)
{
    const bucket *b = &ix->b[i];
    char p[4096];
    timed *v;
    uint8_t *raw = NULL;
    uint64_t k, n = 0;
    int fd;

    *out = NULL;
    if (!(v = malloc((size_t)(b->n ? b->n : 1) * sizeof *v)))
        return -1;
    path_of(ix, b->start, p, sizeof p);
    if (b->n > b->nbuf) {
        size_t len = (size_t)(b->n - b->nbuf) * REC, got = 0;
        if ((fd = open(p, O_RDONLY | O_CLOEXEC)) < 0 || !(raw = malloc(len))) {
            if (fd >= 0)
                close(fd);
            free(v);
            return -1;
        }
        while (got < len) {
            ssize_t r = read(fd, raw + got, len - got);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                break;
            got += (size_t)r;
        }
        close(fd);
        for (k = 0; k + REC <= got; k += REC, n++)
            v[n].due = decode(raw + k, &v[n].e);
        free(raw);
    }
    for (k = 0; k < b->nbuf && n < b->n; k++, n++)
        v[n].due = decode(b->buf + k * REC, &v[n].e);
    *out = v;
    return (int64_t)n;
}

int delay_index_each(delay_index *ix, int (*fn)(void *arg, const qentry *e, int64_t due), void *arg)
{
    uint32_t i;
    for (i = 0; i < ix->nb; i++) {
        timed *v;
        int64_t n = read_bucket(ix, i, &v), k;
        int rc = 0;
        if (n < 0)
            return -1;
        qsort(v, (size_t)n, sizeof *v, by_due);
        for (k = 0; k < n && !rc; k++)
            rc = fn(arg, &v[k].e, v[k].due);
        free(v);
        if (rc)
            return rc;
    }
    return 0;
}

uint64_t delay_index_drop_all(delay_index *ix, void (*drop)(void *arg, qentry *e), void *arg)
{
    uint64_t dropped = 0;
    char p[4096];

    if (ix->load_fd >= 0) {
        /* the rest of the bucket being loaded */
        uint8_t raw[REC * 256];
        ssize_t r;
        while ((r = read(ix->load_fd, raw, sizeof raw)) > 0)
            for (ssize_t k = 0; k + REC <= r; k += REC) {
                qentry e;
                decode(raw + k, &e);
                drop(arg, &e);
                dropped++;
            }
        ix->load_left = 0;
        load_done(ix);
    }
    while (ix->nb) {
        timed *v;
        int64_t n = read_bucket(ix, 0, &v), k;
        if (n < 0) {
            log_error("cannot read the index of delayed messages in %s: %llu of them stay in the store until the "
                      "next start",
                      ix->dir, (unsigned long long)ix->b[0].n);
            n = 0;
        }
        for (k = 0; k < n; k++)
            drop(arg, &v[k].e);
        dropped += (uint64_t)n;
        free(v);
        path_of(ix, ix->b[0].start, p, sizeof p);
        unlink(p);
        drop_bucket(ix, 0);
    }
    ix->count = 0;
    ix->bytes = 0;
    return dropped;
}
