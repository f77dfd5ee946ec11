/*
 * failio.c - an LD_PRELOAD shim that makes the store's writes, syncs and
 * reads fail on demand, for the fault-injection tests (tests/store/).
 *
 *   LD_PRELOAD=build/failio.so FAILIO_TRIGGER=/tmp/x/fail \
 *       FAILIO_OPS=fdatasync,pwrite FAILIO_ERRNO=EIO bin/warren ...
 *
 * While the file named by FAILIO_TRIGGER exists, the selected calls on a
 * file descriptor whose path (readlink of /proc/self/fd/N) ends with
 * FAILIO_SUFFIX (default ".seg": warren's message segments) fail with
 * FAILIO_ERRNO (EIO, ENOSPC, EDQUOT, EMFILE or a number; default EIO) without
 * touching the file.  Everything else goes to the real libc function,
 * found with dlsym(RTLD_NEXT).  The trigger is a file rather than a
 * signal so a test can switch failures on and off from outside while the
 * broker runs, with no cooperation from it.
 *
 * FAILIO_OPS is a comma-separated list of: fdatasync, fsync, pwrite,
 * write, fallocate, pread, or "all" (every one but pread); default
 * "fdatasync,fsync,pwrite,write".  pwrite64, fallocate64 and pread64 count
 * as pwrite, fallocate and pread.
 *
 * FAILIO_SHORT=1 makes a failing write or pwrite of more than one byte
 * write the first half for real and return that short count, as a disk
 * that fills up does; a caller that goes on with the rest meets the
 * failure a few calls later, with all but the last byte written.
 *
 * FAILIO_DELAY_MS=N makes the first injected failure after each creation
 * of the trigger file (told apart by inode and change time) take N milliseconds before it
 * returns, as a slow failing disk would; the failures after it are quick.
 * That lets the broker queue more work behind a failing call, which opens
 * the races a test wants to see (a second failure reported before the
 * first one was).
 *
 * Each injected failure is counted and, when FAILIO_LOG names a file, a
 * line "failio: OP fd N PATH -> ERRNO" is appended to it, so a test can
 * tell that the failure really happened.  The shim must be the first
 * library loaded, which AddressSanitizer forbids: use it with the release
 * build (bin/warren).
 *
 * Power cuts.  When FAILIO_SYNCLOG names a file, every fdatasync or fsync
 * of a regular file that succeeds appends a line "INODE LENGTH PATH" to
 * it: LENGTH is how much of the file the sync covered, measured just
 * before the real call (whatever was in the page cache then is on the disk
 * when it returns; what came during the call may not be).  For a message
 * segment that is its size (its reservation does not change the size);
 * for an ack file (.ack, .acn), which is mapped over zeroed reserved
 * space, it is the end of its last entry that is not blank.  A test that
 * has killed the broker cuts each file back to its last LENGTH (or tears
 * the unsynced part at a random byte) to get what a power cut would have
 * left (tests/crash/crashloop.py --power-cut).  Inodes, not paths, name
 * the files, so a rename (compaction, definitions) keeps what was synced.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

enum {
    OP_FDATASYNC = 1 << 0,
    OP_FSYNC = 1 << 1,
    OP_PWRITE = 1 << 2,
    OP_WRITE = 1 << 3,
    OP_FALLOCATE = 1 << 4,
    OP_PREAD = 1 << 5,
};

static const struct {
    const char *name;
    int bit;
} op_names[] = {
    {"fdatasync", OP_FDATASYNC}, {"fsync", OP_FSYNC}, {"pwrite", OP_PWRITE},
    {"write", OP_WRITE},         {"fallocate", OP_FALLOCATE}, {"pread", OP_PREAD},
};

static int parse_ops(const char *s)
{
    int ops = 0;
    size_t i;

    if (!s || !*s)
        return OP_FDATASYNC | OP_FSYNC | OP_PWRITE | OP_WRITE;
    while (*s) {
        size_t n = strcspn(s, ",");
        if (n == 3 && !strncmp(s, "all", 3))
            ops |= OP_FDATASYNC | OP_FSYNC | OP_PWRITE | OP_WRITE | OP_FALLOCATE;
        for (i = 0; i < sizeof op_names / sizeof *op_names; i++)
            if (strlen(op_names[i].name) == n && !strncmp(s, op_names[i].name, n))
                ops |= op_names[i].bit;
        s += n;
        if (*s == ',')
            s++;
    }
    return ops;
}

static int parse_errno(const char *s)
{
    if (!s || !*s || !strcmp(s, "EIO"))
        return EIO;
    if (!strcmp(s, "ENOSPC"))
        return ENOSPC;
    if (!strcmp(s, "EDQUOT"))
        return EDQUOT;
    if (!strcmp(s, "EMFILE"))
        return EMFILE;
    if (atoi(s) > 0)
        return atoi(s);
    return EIO;
}

static unsigned long delayed_for; /* the trigger FAILIO_DELAY_MS was last applied for */

/* Does a call of kind `op` on fd fail now?  The environment is read on
 * every call (it is cheap next to the I/O) so nothing needs initialising
 * before main; the only state is which trigger was last delayed. */
static int should_fail(int op, int fd, const char *opname)
{
    const char *trigger = getenv("FAILIO_TRIGGER");
    const char *suffix = getenv("FAILIO_SUFFIX");
    const char *logpath = getenv("FAILIO_LOG");
    char link[64], path[4096];
    struct stat tst;
    unsigned long key;
    ssize_t n;
    size_t slen;
    int err;

    if (!trigger || !(parse_ops(getenv("FAILIO_OPS")) & op) || stat(trigger, &tst) != 0)
        return 0;
    if (!suffix || !*suffix)
        suffix = ".seg";
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    n = readlink(link, path, sizeof path - 1);
    if (n <= 0)
        return 0;
    path[n] = 0;
    slen = strlen(suffix);
    if ((size_t)n < slen || strcmp(path + n - slen, suffix) != 0)
        return 0;
    err = parse_errno(getenv("FAILIO_ERRNO"));
    key = (unsigned long)tst.st_ino * 1000003u ^ (unsigned long)tst.st_ctim.tv_sec << 30 ^
          (unsigned long)tst.st_ctim.tv_nsec;
    if (getenv("FAILIO_DELAY_MS") && __atomic_exchange_n(&delayed_for, key, __ATOMIC_SEQ_CST) != key) {
        long ms = atol(getenv("FAILIO_DELAY_MS"));
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
            ;
    }
    if (logpath) {
        /* the real open/write: this library does not wrap them for fds it
         * opens itself, and the log's name does not end with the suffix */
        char line[4300];
        int lfd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (lfd >= 0) {
            int len = snprintf(line, sizeof line, "failio: %s fd %d %s -> %s\n", opname, fd, path, strerror(err));
            ssize_t (*real_write)(int, const void *, size_t) =
                (ssize_t(*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
            if (len > 0 && real_write && real_write(lfd, line, (size_t)len) < 0) {
                /* nothing to do: the log is only a help */
            }
            close(lfd);
        }
    }
    return err;
}

/* How much of fd a sync now covers (see "Power cuts" above), or -1. */
static long long synced_length(int fd, const char *path, struct stat *st)
{
    static ssize_t (*real_pread)(int, void *, size_t, off_t);
    size_t plen = strlen(path);
    unsigned char buf[4096];
    long long end;

    if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode))
        return -1;
    if (plen < 4 || (strcmp(path + plen - 4, ".ack") != 0 && strcmp(path + plen - 4, ".acn") != 0))
        return (long long)st->st_size;
    if (!real_pread)
        real_pread = (ssize_t(*)(int, void *, size_t, off_t))dlsym(RTLD_NEXT, "pread");
    /* back from the end, to the last 16-byte entry that is not all zero */
    end = (long long)st->st_size / 16 * 16;
    while (end > 0) {
        long long from = end > (long long)sizeof buf ? end - (long long)sizeof buf : 0;
        ssize_t n = real_pread(fd, buf, (size_t)(end - from), (off_t)from);
        if (n != end - from)
            return (long long)st->st_size; /* unreadable: claim nothing unsynced */
        while (n >= 16) {
            int i, blank = 1;
            for (i = 1; i <= 16; i++)
                if (buf[n - i])
                    blank = 0;
            if (!blank)
                return from + n;
            n -= 16;
        }
        end = from;
    }
    return 0;
}

/* Run the real sync of fd and, when it succeeds and FAILIO_SYNCLOG is set,
 * log what it covered. */
static int logged_sync(int (*real)(int), int fd)
{
    const char *logpath = getenv("FAILIO_SYNCLOG");
    char link[64], path[4096], line[4200];
    struct stat st;
    long long len = -1;
    ssize_t n;
    int rc;

    if (!logpath || !*logpath)
        return real(fd);
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    n = readlink(link, path, sizeof path - 1);
    path[n > 0 ? n : 0] = 0;
    if (n > 0)
        len = synced_length(fd, path, &st);
    rc = real(fd);
    if (rc == 0 && len >= 0) {
        int saved = errno;
        int lfd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (lfd >= 0) {
            ssize_t (*real_write)(int, const void *, size_t) =
                (ssize_t(*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
            int l = snprintf(line, sizeof line, "%llu %lld %s\n", (unsigned long long)st.st_ino, len, path);
            if (l > 0 && real_write && real_write(lfd, line, (size_t)l) < 0) {
                /* nothing to do: the test then cuts more than it needed to */
            }
            close(lfd);
        }
        errno = saved;
    }
    return rc;
}

#define REAL(type, name, args) \
    static type(*real) args;   \
    if (!real)                 \
        real = (type(*) args)dlsym(RTLD_NEXT, name);

int fdatasync(int fd)
{
    REAL(int, "fdatasync", (int));
    int err = should_fail(OP_FDATASYNC, fd, "fdatasync");
    if (err) {
        errno = err;
        return -1;
    }
    return logged_sync(real, fd);
}

int fsync(int fd)
{
    REAL(int, "fsync", (int));
    int err = should_fail(OP_FSYNC, fd, "fsync");
    if (err) {
        errno = err;
        return -1;
    }
    return logged_sync(real, fd);
}

static int short_writes(void)
{
    const char *s = getenv("FAILIO_SHORT");
    return s && *s && strcmp(s, "0") != 0;
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
    REAL(ssize_t, "pwrite", (int, const void *, size_t, off_t));
    int err = should_fail(OP_PWRITE, fd, "pwrite");
    if (err && short_writes() && n > 1)
        return real(fd, buf, n / 2, off);
    if (err) {
        errno = err;
        return -1;
    }
    return real(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
    REAL(ssize_t, "pwrite64", (int, const void *, size_t, off_t));
    int err = should_fail(OP_PWRITE, fd, "pwrite64");
    if (err && short_writes() && n > 1)
        return real(fd, buf, n / 2, off);
    if (err) {
        errno = err;
        return -1;
    }
    return real(fd, buf, n, off);
}

ssize_t write(int fd, const void *buf, size_t n)
{
    REAL(ssize_t, "write", (int, const void *, size_t));
    int err = should_fail(OP_WRITE, fd, "write");
    if (err && short_writes() && n > 1)
        return real(fd, buf, n / 2);
    if (err) {
        errno = err;
        return -1;
    }
    return real(fd, buf, n);
}

int fallocate(int fd, int mode, off_t off, off_t len)
{
    REAL(int, "fallocate", (int, int, off_t, off_t));
    int err = should_fail(OP_FALLOCATE, fd, "fallocate");
    if (err) {
        errno = err;
        return -1;
    }
    return real(fd, mode, off, len);
}

int fallocate64(int fd, int mode, off_t off, off_t len)
{
    REAL(int, "fallocate64", (int, int, off_t, off_t));
    int err = should_fail(OP_FALLOCATE, fd, "fallocate64");
    if (err) {
        errno = err;
        return -1;
    }
    return real(fd, mode, off, len);
}

ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
    REAL(ssize_t, "pread", (int, void *, size_t, off_t));
    int err = should_fail(OP_PREAD, fd, "pread");
    if (err) {
        errno = err;
        return -1;
    }
    return real(fd, buf, n, off);
}

ssize_t pread64(int fd, void *buf, size_t n, off_t off)
{
    REAL(ssize_t, "pread64", (int, void *, size_t, off_t));
    int err = should_fail(OP_PREAD, fd, "pread64");
    if (err) {
        errno = err;
        return -1;
    }
    return real(fd, buf, n, off);
}
