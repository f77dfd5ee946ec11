/*
 * test_dedup_log.c - a de-duplication exchange's window on disk
 * (store/dedup_log.c, doc/store-format.md), without a broker: the bytes
 * of the header and a record, replay in order, a torn or damaged tail cut
 * off, the rewrite, a fresh open emptying the file, another exchange's
 * file refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/crc32c.h"
#include "store/dedup_log.h"

#define S(lit) ((amqp_str){lit, sizeof lit - 1})

typedef struct seen {
    char keys[16][32];
    int64_t exp[16];
    int n;
} seen;

static int collect(void *arg, const uint8_t *key, size_t klen, int64_t expires)
{
    seen *s = arg;
    assert_true(s->n < 16 && klen < 32);
    memcpy(s->keys[s->n], key, klen);
    s->keys[s->n][klen] = 0;
    s->exp[s->n++] = expires;
    return 0;
}

static char *tmpdir(void)
{
    char *d = strdup("/tmp/warren-dedup-XXXXXX");
    assert_non_null(mkdtemp(d));
    return d;
}

/* The one file under dir/dedup; its bytes in *buf. */
static size_t file_bytes(const char *dir, char *path, size_t pathlen, uint8_t *buf, size_t cap)
{
    char cmd[512];
    FILE *p, *f;
    size_t n;

    snprintf(cmd, sizeof cmd, "ls %s/dedup/*.dedup", dir);
    assert_non_null(p = popen(cmd, "r"));
    assert_non_null(fgets(path, (int)pathlen, p));
    pclose(p);
    path[strcspn(path, "\n")] = 0;
    assert_non_null(f = fopen(path, "rb"));
    n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

static void rm_rf(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_bytes_and_replay(void **state)
{
    char *dir = tmpdir(), path[512];
    seen s = {0};
    uint8_t buf[512];
    size_t n;
    dedup_log *l;
    (void)state;

    assert_non_null(l = dedup_log_open(dir, S(""), S("ex"), false, collect, &s));
    assert_int_equal(s.n, 0);
    assert_int_equal(dedup_log_append(l, (const uint8_t *)"Sk1", 3, 0), 0);
    assert_int_equal(dedup_log_append(l, (const uint8_t *)"Sk2", 3, 0x0102030405LL), 0);
    dedup_log_close(l, false);

    n = file_bytes(dir, path, sizeof path, buf, sizeof buf);
    /* header: magic, vhost "" (0), name "ex", CRC; then two records */
    static const uint8_t hdr[] = {'W', 'D', 'E', 'D', 'U', 'P', '0', '1', 0, 2, 'e', 'x'};
    assert_memory_equal(buf, hdr, sizeof hdr);
    uint32_t crc = crc32c(0, buf, sizeof hdr);
    assert_int_equal(buf[12], crc >> 24);
    assert_int_equal(buf[15], crc & 0xff);
    static const uint8_t rec2[] = {0, 0, 0, 11}; /* payload length: 8 + 3 */
    assert_int_equal(n, 16 + 2 * (8 + 11));
    assert_memory_equal(buf + 16, rec2, 4);
    static const uint8_t exp2[] = {0, 0, 0, 0x01, 0x02, 0x03, 0x04, 0x05, 'S', 'k', '2'};
    assert_memory_equal(buf + 16 + 19 + 8, exp2, sizeof exp2);

    assert_non_null(l = dedup_log_open(dir, S(""), S("ex"), false, collect, &s));
    assert_int_equal(s.n, 2);
    assert_string_equal(s.keys[0], "Sk1");
    assert_int_equal(s.exp[1], 0x0102030405LL);
    dedup_log_close(l, true);
    struct stat sb;
    assert_int_equal(stat(path, &sb), -1); /* removed with its exchange */
    rm_rf(dir);
    free(dir);
}

static void test_torn_and_damaged_tail_cut_off(void **state)
{
    char *dir = tmpdir(), path[512];
    seen s = {0};
    uint8_t buf[512];
    size_t n;
    dedup_log *l;
    FILE *f;
    (void)state;

    assert_non_null(l = dedup_log_open(dir, S("v"), S("ex"), false, collect, &s));
    for (int i = 0; i < 3; i++) {
        char k[4] = {'S', 'k', (char)('0' + i), 0};
        assert_int_equal(dedup_log_append(l, (const uint8_t *)k, 3, 0), 0);
    }
    dedup_log_close(l, false);
    n = file_bytes(dir, path, sizeof path, buf, sizeof buf);
    /* a torn last record: 5 bytes of it missing */
    assert_int_equal(truncate(path, (off_t)(n - 5)), 0);
    memset(&s, 0, sizeof s);
    assert_non_null(l = dedup_log_open(dir, S("v"), S("ex"), false, collect, &s));
    assert_int_equal(s.n, 2);
    /* appended after the cut, not after the torn bytes */
    assert_int_equal(dedup_log_append(l, (const uint8_t *)"Sk9", 3, 0), 0);
    dedup_log_close(l, false);
    /* a flipped byte in the second record's key: it and what follows go */
    n = file_bytes(dir, path, sizeof path, buf, sizeof buf);
    assert_non_null(f = fopen(path, "r+b"));
    /* records of 19 bytes (8 + 8 + 3) after the header: the last byte of the second */
    fseek(f, (long)(n - 3 * 19 + 2 * 19 - 1), SEEK_SET);
    fputc('X', f);
    fclose(f);
    memset(&s, 0, sizeof s);
    assert_non_null(l = dedup_log_open(dir, S("v"), S("ex"), false, collect, &s));
    assert_int_equal(s.n, 1);
    assert_string_equal(s.keys[0], "Sk0");
    dedup_log_close(l, false);
    rm_rf(dir);
    free(dir);
}

static int emit_two(void *arg, dedup_log_fn emit, void *sink)
{
    (void)arg;
    if (emit(sink, (const uint8_t *)"Sa", 2, 7) < 0 || emit(sink, (const uint8_t *)"Sb", 2, 0) < 0)
        return -1;
    return 0;
}

static void test_rewrite_fresh_and_foreign(void **state)
{
    char *dir = tmpdir();
    seen s = {0};
    dedup_log *l;
    (void)state;

    assert_non_null(l = dedup_log_open(dir, S(""), S("ex"), false, collect, &s));
    for (int i = 0; i < 5; i++)
        assert_int_equal(dedup_log_append(l, (const uint8_t *)"Sold", 4, 0), 0);
    assert_int_equal(dedup_log_records(l), 5);
    assert_int_equal(dedup_log_rewrite(l, emit_two, NULL), 0);
    assert_int_equal(dedup_log_records(l), 0);
    assert_int_equal(dedup_log_append(l, (const uint8_t *)"Sc", 2, 0), 0);
    dedup_log_close(l, false);
    memset(&s, 0, sizeof s);
    assert_non_null(l = dedup_log_open(dir, S(""), S("ex"), false, collect, &s));
    assert_int_equal(s.n, 3);
    assert_string_equal(s.keys[0], "Sa");
    assert_int_equal(s.exp[0], 7);
    assert_string_equal(s.keys[2], "Sc");
    dedup_log_close(l, false);
    /* fresh: a new exchange of that name starts empty */
    memset(&s, 0, sizeof s);
    assert_non_null(l = dedup_log_open(dir, S(""), S("ex"), true, collect, &s));
    dedup_log_close(l, false);
    assert_non_null(l = dedup_log_open(dir, S(""), S("ex"), false, collect, &s));
    assert_int_equal(s.n, 0);
    dedup_log_close(l, false);
    /* a file whose header names another exchange is not read (nor changed) */
    {
        char path[512];
        uint8_t buf[64];
        FILE *f;
        file_bytes(dir, path, sizeof path, buf, sizeof buf);
        assert_non_null(f = fopen(path, "r+b"));
        fseek(f, 11, SEEK_SET); /* "ex" -> "ey" */
        fputc('y', f);
        fclose(f);
        assert_null(dedup_log_open(dir, S(""), S("ex"), false, collect, &s));
        assert_int_equal(file_bytes(dir, path, sizeof path, buf, sizeof buf), 16);
        assert_int_equal(buf[11], 'y');
    }
    rm_rf(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bytes_and_replay),
        cmocka_unit_test(test_torn_and_damaged_tail_cut_off),
        cmocka_unit_test(test_rewrite_fresh_and_foreign),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
