/*
 * fuzz_store.c - libFuzzer target for the store's recovery
 * (src/store/: defs_log.c, recover.c, segment.c) from a data directory
 * whose files are the input: the definitions file, segments and ack files
 * as a crash, a bad disk or a hand edit may leave them.
 *
 * The input is a list of files, each as
 *
 *     kind:u8  index:u8  length:u32 (big-endian)  bytes
 *
 * kind 'd' definitions, 's' msgs/NNNNNNNNNN.seg, 'a' its .ack, 'n' its
 * .acn (a compaction's new ack file), 'c' its .cmp (a compaction's copy),
 * for segment index % 4 + 1, 'k' the checkpoint (store/checkpoint.c); a
 * short last file takes what is left.  An
 * upper-case kind ('D', 'S', 'A', 'N', 'C') has its checksums made right
 * before it is written (fix_checksums), so that mutations reach what the
 * records say past their CRC-32C.  The
 * files are written into an empty data directory (under /dev/shm, so the
 * syncs cost nothing) and the store is opened on it through the broker's
 * own recovery hooks (src/recovery.c, auth.c, vhosts as broker.c keeps
 * them), as the broker starts.
 *
 * Checked: opening either refuses the directory (saying why in the log) or
 * recovers; a directory recovered once (its torn tails cut, its
 * definitions rewritten) opens again to the same queues, the same number
 * of messages in each, the same exchanges, users and vhosts; and nothing
 * leaks or reads out of bounds on the way (ASan, UBSan).
 *
 * Built from this file, src/amqp and the Makefile's fuzz archive of the
 * broker (build/fz/libwarren.a).  tests/fuzz/store_seed.py packs a real
 * data directory into this format, for the seed corpus.
 */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sanitizer/common_interface_defs.h>

#include "fuzz_quiet.h"

#include "auth.h"
#include "broker.h"
#include "log.h"
#include "queue.h"
#include "recovery.h"
#include "store/crc32c.h"
#include "store/store.h"
#include "vhost.h"

static char root[128], dir[160];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char a[] = "/dev/shm/warren-fuzz-store-XXXXXX", b[] = "/tmp/warren-fuzz-store-XXXXXX";
    const char *d = mkdtemp(a);

    (void)argc, (void)argv;
    if (!d)
        d = mkdtemp(b);
    assert(d);
    snprintf(root, sizeof root, "%s", d);
    snprintf(dir, sizeof dir, "%s/data", d);
    /* refusals are logged at error level: every input would print some */
    log_level = getenv("WARREN_FUZZ_VERBOSE") ? LOG_DEBUG : (enum log_level)(LOG_ERROR + 1);
    quiet_init();
    return 0;
}

static void put_file(const char *path, const uint8_t *p, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert(fd >= 0);
    assert(write(fd, p, n) == (ssize_t)n);
    close(fd);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

/* An upper-case kind: the file's checksums are made right before it is
 * written, so that mutations reach what the records say, not only
 * whether their CRC-32C holds.  Segments and definitions: every whole
 * record after the 16-byte header; ack files: every entry not blank. */
static void fix_checksums(uint8_t kind, uint8_t *p, size_t n)
{
    size_t off = 16;

    if (kind == 'K') {
        /* the checkpoint: one checksum and the length of its body */
        if (n >= 16) {
            put32(p + 12, (uint32_t)(n - 16));
            put32(p + 8, crc32c(0, p + 16, n - 16));
        }
        return;
    }
    if (kind == 'A' || kind == 'N') {
        for (; off + 16 <= n; off += 16) {
            static const uint8_t zero[16];
            if (memcmp(p + off, zero, 16))
                put32(p + off + 12, crc32c(0, p + off, 12));
        }
        return;
    }
    while (off + 8 <= n) {
        uint32_t len = get32(p + off);
        if (len > n - off - 8)
            break;
        put32(p + off + 4, crc32c(0, p + off + 8, len));
        off += 8 + (size_t)len;
    }
}

/* The input's files into an empty dir. */
static void unpack(const uint8_t *data, size_t size)
{
    char path[300];
    size_t off = 0;

    rm_rf(dir);
    assert(mkdir(dir, 0700) == 0);
    snprintf(path, sizeof path, "%s/msgs", dir);
    assert(mkdir(path, 0700) == 0);
    while (size - off >= 2) {
        uint8_t kind = data[off], idx = data[off + 1] % 4 + 1;
        size_t len = 0;
        const char *ext = NULL;
        off += 2;
        if (size - off >= 4) {
            len = (size_t)data[off] << 24 | (size_t)data[off + 1] << 16 | (size_t)data[off + 2] << 8 | data[off + 3];
            off += 4;
        }
        if (len > size - off)
            len = size - off;
        switch (kind | 0x20) {
        case 'd': snprintf(path, sizeof path, "%s/definitions", dir); break;
        case 's': ext = "seg"; break;
        case 'a': ext = "ack"; break;
        case 'n': ext = "acn"; break;
        case 'c': ext = "cmp"; break;
        case 'k': snprintf(path, sizeof path, "%s/checkpoint", dir); break;
        default: off += len; continue;
        }
        if (ext)
            snprintf(path, sizeof path, "%s/msgs/%010u.%s", dir, idx, ext);
        if (kind & 0x20) {
            put_file(path, data + off, len);
        } else {
            uint8_t *copy = malloc(len ? len : 1);
            assert(copy);
            memcpy(copy, data + off, len);
            fix_checksums(kind, copy, len);
            put_file(path, copy, len);
            free(copy);
        }
        off += len;
    }
}

/* ------------------------------------------------ the broker's side, small */

static broker b;

static int replay_vhost(void *ctx, amqp_str name, bool add)
{
    char n[256];
    vhost *vh;

    (void)ctx;
    snprintf(n, sizeof n, "%.*s", (int)name.len, name.ptr);
    vh = broker_vhost(&b, n, strlen(n));
    if (add) {
        if (vh)
            return 0;
        if (!(vh = vhost_new(&b, n)))
            return -1;
        return map_put(&b.vhosts, n, strlen(n), vh);
    }
    if (!vh || vh == b.vh || map_count(&vh->queues))
        return 0;
    map_del(&b.vhosts, n, strlen(n));
    vhost_free(vh);
    return 0;
}

static void *replay_vhost_ctx(void *ctx, amqp_str name)
{
    (void)ctx;
    return broker_vhost(&b, name.ptr, name.len);
}

static int each_vhost(void *ctx, int (*fn)(void *arg, amqp_str name, void *vctx), void *arg)
{
    size_t i = 0;
    void *v;

    (void)ctx;
    while (map_next(&b.vhosts, &i, NULL, NULL, &v))
        if (v != b.vh && fn(arg, amqp_cstr(((vhost *)v)->name), v) < 0)
            return -1;
    return 0;
}

/* What a recovered broker holds, to compare two opens. */
typedef struct summary {
    size_t vhosts, queues, exchanges, users;
    uint64_t messages, hash;
} summary;

static int open_store(store **st, summary *s)
{
    store_options opt = {.disk_free_limit = 0};
    store_hooks hooks = {0};
    store_recovery rec;
    size_t i = 0, j;
    void *v, *q;
    int rc;

    memset(&b, 0, sizeof b);
    config_defaults(&b.cfg);
    b.cfg.data_dir = dir;
    assert((b.loop = ev_loop_new()));
    map_init(&b.vhosts);
    assert((b.vh = vhost_new(&b, "/")));
    assert(map_put(&b.vhosts, "/", 1, b.vh) == 0);
    assert(auth_db_init(&b.auth, &b.cfg) == 0);
    rec = recovery_hooks(b.vh);
    rec.auth_ctx = &b.auth;
    rec.user = auth_replay_user;
    rec.permission = auth_replay_permission;
    rec.each_auth_def = auth_each_def;
    rec.vhosts_ctx = &b;
    rec.vhost = replay_vhost;
    rec.ctx_of_vhost = replay_vhost_ctx;
    rec.each_vhost = each_vhost;
    rc = store_open(st, b.loop, dir, &opt, hooks, &rec);
    if (rc < 0)
        return rc;
    memset(s, 0, sizeof *s);
    while (map_next(&b.vhosts, &i, NULL, NULL, &v)) {
        vhost *vh = v;
        s->vhosts++;
        s->queues += map_count(&vh->queues);
        s->exchanges += map_count(&vh->exchanges);
        if (getenv("WARREN_FUZZ_VERBOSE")) {
            const char *k;
            size_t klen;
            j = 0;
            while (map_next(&vh->exchanges, &j, &k, &klen, NULL))
                fprintf(stderr, "fuzz_store: vhost '%s' exchange '%.*s'\n", vh->name, (int)klen, k);
            j = 0;
            while (map_next(&vh->queues, &j, &k, &klen, NULL))
                fprintf(stderr, "fuzz_store: vhost '%s' queue '%.*s'\n", vh->name, (int)klen, k);
        }
        j = 0;
        while (map_next(&vh->queues, &j, NULL, NULL, &q)) {
            uint32_t n = queue_message_count(q);
            s->messages += n;
            s->hash += (uint64_t)n * 1000003u + strlen(((queue *)q)->name);
        }
    }
    s->users = b.auth.nusers;
    return 0;
}

static void close_store(store *st)
{
    size_t i = 0;
    void *v;

    /* as broker_free: the store detached first, so freeing queues is no ack */
    while (map_next(&b.vhosts, &i, NULL, NULL, &v)) {
        vhost_set_store(v, NULL);
        vhost_free(v);
    }
    map_free(&b.vhosts);
    store_close(st);
    auth_db_free(&b.auth);
    ev_loop_free(b.loop);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    summary one, two;
    store *st = NULL;
    int rc;

    if (size > 1 << 20)
        return 0;
    unpack(data, size);
    quiet(true);
    if (open_store(&st, &one) < 0) {
        close_store(NULL);
        quiet(false);
        return 0;
    }
    close_store(st);
    /* recovered once, it opens again to the same */
    rc = open_store(&st, &two);
    quiet(false);
    if (rc < 0) {
        fprintf(stderr, "fuzz_store: a directory recovered once is refused the second time\n");
        abort();
    }
    quiet(true);
    close_store(st);
    quiet(false);
    if (memcmp(&one, &two, sizeof one)) {
        fprintf(stderr,
                "fuzz_store: recovered twice, different: vhosts %zu/%zu queues %zu/%zu exchanges %zu/%zu "
                "users %zu/%zu messages %llu/%llu\n",
                one.vhosts, two.vhosts, one.queues, two.queues, one.exchanges, two.exchanges, one.users, two.users,
                (unsigned long long)one.messages, (unsigned long long)two.messages);
        abort();
    }
    return 0;
}
