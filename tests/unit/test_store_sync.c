/*
 * test_store_sync.c - the store's sync thread takes every file it is asked
 * to sync, however many (it once kept the first 64 of a job and dropped the
 * rest, while still reporting the job's lsn as synced).
 *
 * A real store is opened on a temporary directory; 100 segments are made
 * up with an unsynced ack file each, the last one's "ack file" being a
 * pipe, on which fdatasync fails (EINVAL).  One store_flush asks for all
 * of them in one job; the thread must reach the 100th and report its
 * failure.  Each of those fdatasyncs is in the thread's latency
 * histogram.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/store_int.h"

#define NSEGS 100

static void test_job_grows_never_drops(void **state)
{
    char dir[] = "/tmp/warren-unit-syncXXXXXX", path[256];
    ev_loop *loop;
    store_options opt = {.disk_free_limit = 0};
    store *st = NULL;
    store_hooks hooks = {0};
    int pipefd[2], i, waited;
    uint32_t seg = 0;
    (void)state;

    assert_non_null(mkdtemp(dir));
    assert_non_null(loop = ev_loop_new());
    /* a new, empty store: nothing to recover, so no recovery hooks */
    assert_int_equal(store_open(&st, loop, dir, &opt, hooks, NULL), 0);

    assert_int_equal(pipe(pipefd), 0);
    for (i = 1; i <= NSEGS; i++) {
        segment *s = calloc(1, sizeof *s);
        assert_non_null(s);
        s->id = (uint32_t)i;
        snprintf(path, sizeof path, "%s/fake-%d", dir, i);
        assert_true((s->fd = open(path, O_RDWR | O_CREAT, 0644)) >= 0);
        unlink(path);
        if (i == NSEGS) {
            s->ackfd = pipefd[0];
        } else {
            snprintf(path, sizeof path, "%s/fake-%d.ack", dir, i);
            assert_true((s->ackfd = open(path, O_RDWR | O_CREAT, 0644)) >= 0);
            unlink(path);
        }
        s->acks_unsynced = true;
        assert_int_equal(store_seg_add(st, s), 0);
    }
    st->last_ack_sync = 0; /* the once-a-second ack sync is due */
    store_flush(st);
    for (i = 1; i <= NSEGS; i++)
        assert_false(st->segs[i - 1]->acks_unsynced);

    /* the thread reports the failure of the 100th */
    for (waited = 0; waited < 5000; waited++) {
        struct timespec ts = {0, 1000000};
        pthread_mutex_lock(&st->mu);
        if (st->t_ack_errno)
            seg = st->t_ack_seg;
        pthread_mutex_unlock(&st->mu);
        if (seg)
            break;
        nanosleep(&ts, NULL);
    }
    assert_int_equal(seg, NSEGS);
    {
        /* every fdatasync of the job was timed, the failed one too, and
         * counted in one bucket each (store_sync_latency, for /metrics) */
        store_latency l;
        uint64_t n = 0;
        store_sync_latency(st, &l);
        for (i = 0; i <= STORE_LATENCY_NBOUNDS; i++)
            n += l.bucket[i];
        assert_true(l.count >= NSEGS);
        assert_int_equal(n, l.count);
    }

    close(pipefd[1]);
    store_close(st);
    ev_loop_free(loop);
    snprintf(path, sizeof path, "rm -rf %s", dir);
    assert_int_equal(system(path), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_job_grows_never_drops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
