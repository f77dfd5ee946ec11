/*
 * test_delay_index.c - delay_index.c without a broker: entries given in any
 * order come back bucket by bucket, each bucket's entries in a slice or
 * several, the browse walks them in due order, counts and bytes follow,
 * a write that fails gives its entries back, a fresh open wipes what an
 * earlier process left, and a drop takes everything and the files.
 * (WARREN_DELAY_* are read once: these tests set them first.)
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

#include "delay_index.h"

#define W 1000 /* bucket width of these tests */

static char dir[256];

typedef struct got {
    int64_t due[4096];
    uint64_t seq[4096];
    int n;
} got;

static void push(void *arg, int64_t due, qentry *e)
{
    got *g = arg;
    g->due[g->n] = due;
    g->seq[g->n++] = e->seq;
}

static qentry entry(uint64_t seq)
{
    return (qentry){.seq = seq, .seg = 7, .off = (uint32_t)seq * 100, .size = 16, .flags = QE_STORED, .returns = 3};
}

static int count_files(uint32_t qid)
{
    char p[512];
    int n = 0;
    snprintf(p, sizeof p, "%s/delay/%u", dir, qid);
    for (int64_t s = 0; s < 100 * W; s += W) {
        char f[600];
        snprintf(f, sizeof f, "%s/%lld.idx", p, (long long)s);
        n += access(f, F_OK) == 0;
    }
    return n;
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/test_delay_index.%d", (int)getpid());
    mkdir(dir, 0700);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    delay_index_reset(dir);
    rmdir(dir);
    return 0;
}

/* Given in a shuffled order past the horizon, read back one bucket at a
 * time, in bucket order, each wholly (in slices), then deleted. */
static void test_buckets_come_back_in_order(void **state)
{
    delay_index *ix = delay_index_open(dir, 1, 0);
    got g = {.n = 0};
    uint64_t i;
    int first = 0;
    (void)state;
    assert_non_null(ix);
    /* the horizon is 0: loaded is the end of the bucket holding now */
    assert_int_equal(delay_index_loaded(ix), W);
    for (i = 0; i < 1000; i++) {
        int64_t due = W + (int64_t)((i * 7919) % 5000); /* buckets 1..5 */
        qentry e = entry(i);
        assert_int_equal(delay_index_add(ix, due, &e, push, &g), 0);
        first += due < 2 * W;
    }
    assert_int_equal(delay_index_count(ix), 1000);
    assert_int_equal(delay_index_bytes(ix), 16000);
    assert_true(delay_index_buffered(ix));
    delay_index_flush(ix, push, &g);
    assert_false(delay_index_buffered(ix));
    assert_int_equal(g.n, 0); /* nothing given back */
    assert_int_equal(count_files(1), 5);
    assert_int_equal(delay_index_next_load(ix, 0), W); /* bucket 1's start less the horizon (0) */
    /* bucket 1, in slices of 64 */
    while (delay_index_load(ix, 64, push, &g) == 1)
        ;
    assert_true(first > 64);
    assert_int_equal(g.n, first);
    for (int k = 0; k < g.n; k++)
        assert_true(g.due[k] >= W && g.due[k] < 2 * W);
    assert_int_equal(delay_index_loaded(ix), 2 * W);
    assert_int_equal(delay_index_count(ix), 1000 - first);
    assert_int_equal(count_files(1), 4);
    /* the others, and what they gave back carries every field */
    while (delay_index_count(ix))
        delay_index_load(ix, 1000, push, &g);
    assert_int_equal(g.n, 1000);
    for (int k = 1; k < g.n; k++)
        assert_true(g.due[k] / W >= g.due[k - 1] / W);
    assert_int_equal(delay_index_next_load(ix, 0), INT64_MAX);
    assert_int_equal(count_files(1), 0);
    delay_index_close(ix, true);
}

typedef struct walk {
    int64_t last;
    uint64_t lastseq;
    int n, stop_at;
} walk;

static int each(void *arg, const qentry *e, int64_t due)
{
    walk *w = arg;
    assert_true(due > w->last || (due == w->last && e->seq > w->lastseq));
    assert_int_equal(e->off, e->seq * 100);
    assert_int_equal(e->returns, 3);
    w->last = due;
    w->lastseq = e->seq;
    return ++w->n == w->stop_at;
}

/* The browse sees written and buffered entries alike, in due order, and
 * stops when told. */
static void test_each_in_due_order(void **state)
{
    delay_index *ix = delay_index_open(dir, 2, 0);
    walk w = {.last = -1};
    got g = {.n = 0};
    (void)state;
    for (uint64_t i = 0; i < 600; i++) {
        qentry e = entry(i);
        assert_int_equal(delay_index_add(ix, W + (int64_t)((i * 31) % 3000), &e, push, &g), 0);
        if (i == 300)
            delay_index_flush(ix, push, &g);
    }
    assert_int_equal(delay_index_each(ix, each, &w), 0);
    assert_int_equal(w.n, 600);
    w = (walk){.last = -1, .stop_at = 250};
    assert_int_equal(delay_index_each(ix, each, &w), 1);
    assert_int_equal(w.n, 250);
    assert_int_equal(delay_index_count(ix), 600); /* a browse takes nothing */
    delay_index_close(ix, true);
}

static void drop(void *arg, qentry *e)
{
    (*(int *)arg)++;
    assert_int_equal(e->off, e->seq * 100);
}

/* Dropping takes every entry, written, buffered and half loaded, and
 * deletes the files and the directory. */
static void test_drop_all(void **state)
{
    delay_index *ix = delay_index_open(dir, 3, 0);
    got g = {.n = 0};
    char p[512];
    int dropped = 0;
    (void)state;
    for (uint64_t i = 0; i < 900; i++) {
        qentry e = entry(i);
        assert_int_equal(delay_index_add(ix, W + (int64_t)(i % 3) * W + (int64_t)i, &e, push, &g), 0);
    }
    delay_index_flush(ix, push, &g);
    for (uint64_t i = 900; i < 1000; i++) {
        qentry e = entry(i);
        assert_int_equal(delay_index_add(ix, 5 * W + (int64_t)i, &e, push, &g), 0);
    }
    assert_int_equal(delay_index_load(ix, 10, push, &g), 1); /* a bucket half read */
    assert_int_equal(g.n, 10);
    assert_int_equal(delay_index_drop_all(ix, drop, &dropped), 990);
    assert_int_equal(dropped, 990);
    assert_int_equal(delay_index_count(ix), 0);
    delay_index_close(ix, true);
    snprintf(p, sizeof p, "%s/delay/3", dir);
    assert_int_equal(access(p, F_OK), -1);
}

/* An index is a cache: opening it again wipes what was left. */
static void test_open_wipes_what_was_left(void **state)
{
    delay_index *ix = delay_index_open(dir, 4, 0);
    got g = {.n = 0};
    qentry e = entry(1);
    (void)state;
    assert_int_equal(delay_index_add(ix, 3 * W, &e, push, &g), 0);
    delay_index_flush(ix, push, &g);
    delay_index_close(ix, false); /* as at shutdown */
    assert_int_equal(count_files(4), 1);
    ix = delay_index_open(dir, 4, 0);
    assert_int_equal(count_files(4), 0);
    assert_int_equal(delay_index_count(ix), 0);
    assert_int_equal(delay_index_next_load(ix, 0), INT64_MAX);
    delay_index_close(ix, true);
}

/* A write that fails (the directory gone) gives the entries back and
 * counts them no more. */
static void test_failed_write_gives_back(void **state)
{
    delay_index *ix = delay_index_open(dir, 5, 0);
    got g = {.n = 0};
    char p[512];
    (void)state;
    for (uint64_t i = 0; i < 10; i++) {
        qentry e = entry(i);
        assert_int_equal(delay_index_add(ix, 2 * W + (int64_t)i, &e, push, &g), 0);
    }
    snprintf(p, sizeof p, "%s/delay/5", dir);
    assert_int_equal(rmdir(p), 0);
    delay_index_flush(ix, push, &g);
    assert_int_equal(g.n, 10);
    assert_int_equal(delay_index_count(ix), 0);
    assert_int_equal(delay_index_bytes(ix), 0);
    assert_int_equal(delay_index_next_load(ix, 0), INT64_MAX);
    delay_index_close(ix, false);
}

/* Nothing on disk: loaded follows the horizon, so entries due soon are
 * not written to be read back at once. */
static void test_loaded_follows_the_horizon(void **state)
{
    delay_index *ix = delay_index_open(dir, 6, 0);
    got g = {.n = 0};
    qentry e = entry(1);
    (void)state;
    delay_index_advance(ix, 10 * W + 5);
    assert_int_equal(delay_index_loaded(ix), 11 * W);
    assert_int_equal(delay_index_add(ix, 20 * W, &e, push, &g), 0);
    delay_index_advance(ix, 30 * W); /* a bucket in the way: it stays */
    assert_int_equal(delay_index_loaded(ix), 11 * W);
    delay_index_close(ix, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buckets_come_back_in_order),
        cmocka_unit_test(test_each_in_due_order),
        cmocka_unit_test(test_drop_all),
        cmocka_unit_test(test_open_wipes_what_was_left),
        cmocka_unit_test(test_failed_write_gives_back),
        cmocka_unit_test(test_loaded_follows_the_horizon),
    };
    setenv("WARREN_DELAY_HORIZON_MS", "0", 1);
    setenv("WARREN_DELAY_BUCKET_MS", "1000", 1);
    return cmocka_run_group_tests(tests, setup, teardown);
}
