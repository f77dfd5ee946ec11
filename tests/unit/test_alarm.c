/*
 * test_alarm.c - the resource alarms of alarm.c without a broker or a
 * socket: the default memory limit (0.4 of the RAM, as RabbitMQ's
 * vm_memory_high_watermark), two sources making one block with RabbitMQ's
 * reason texts, what the observer (alarm_hooks, the protocol layer's in
 * the broker) hears of each change, and the heap measure the memory alarm
 * reads, which in this build (AddressSanitizer, like bin/warren-asan) is
 * ASan's own count.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "alarm.h"
#include "config.h"
#include "memstat.h"

/* where the test keeps its allocations, so the compiler cannot drop them */
static void *volatile keep[4];

static void test_default_limit_is_four_tenths_of_ram(void **state)
{
    config cfg;
    uint64_t ram = (uint64_t)sysconf(_SC_PHYS_PAGES) * (uint64_t)sysconf(_SC_PAGE_SIZE);
    (void)state;
    config_defaults(&cfg);
    assert_true(ram > 0);
    assert_true(cfg.memory_limit == ram * 2 / 5);
    assert_true(alarm_default_memory_limit() == cfg.memory_limit);
}

static void test_reason_texts_are_rabbitmqs(void **state)
{
    (void)state;
    assert_null(alarm_reason(0));
    assert_string_equal(alarm_reason(ALARM_MEMORY), "low on memory");
    assert_string_equal(alarm_reason(ALARM_DISK), "low on disk");
    /* rabbit_reader:blocked_by_message of {resource,memory} and
     * {resource,disk}: sets:to_list gives disk first */
    assert_string_equal(alarm_reason(ALARM_MEMORY | ALARM_DISK), "low on disk & memory");
}

static void test_two_sources_one_block(void **state)
{
    alarms a;
    (void)state;
    alarm_init(&a, 0, (alarm_hooks){0}); /* no observer: nothing to call */

    alarm_set(&a, ALARM_MEMORY, true);
    assert_true(alarm_blocked(&a));
    assert_string_equal(alarm_block_reason(&a), "low on memory");
    alarm_set(&a, ALARM_DISK, true);
    assert_true(alarm_blocked(&a));
    assert_string_equal(alarm_block_reason(&a), "low on disk & memory");
    alarm_set(&a, ALARM_MEMORY, false); /* the disk alarm holds */
    assert_true(alarm_blocked(&a));
    assert_string_equal(alarm_block_reason(&a), "low on disk");
    alarm_set(&a, ALARM_MEMORY, false); /* no change */
    assert_true(alarm_blocked(&a));
    alarm_set(&a, ALARM_DISK, false);
    assert_false(alarm_blocked(&a));
    assert_null(alarm_block_reason(&a));

    /* the other way round: the memory alarm holds */
    alarm_set(&a, ALARM_DISK, true);
    assert_string_equal(alarm_block_reason(&a), "low on disk");
    alarm_set(&a, ALARM_MEMORY, true);
    alarm_set(&a, ALARM_DISK, false);
    assert_true(alarm_blocked(&a));
    assert_string_equal(alarm_block_reason(&a), "low on memory");
    alarm_set(&a, ALARM_MEMORY, false);
    assert_false(alarm_blocked(&a));
    assert_int_equal(a.on, 0);
}

/* An observer that writes down what it hears, as the broker's walks its
 * connections. */
typedef struct heard {
    int calls;
    bool blocked[8];
    const char *reason[8];
    const alarms *a;            /* to check the state is updated first */
} heard;

static void on_changed(void *ctx, bool blocked, const char *reason)
{
    heard *h = ctx;
    assert_true(h->calls < 8);
    /* the state is the new one when the observer hears of it, so a
     * connection held from the observer sees the same */
    assert_int_equal(alarm_blocked(h->a), blocked);
    assert_ptr_equal(alarm_block_reason(h->a), reason);
    h->blocked[h->calls] = blocked;
    h->reason[h->calls] = reason;
    h->calls++;
}

static void test_observer_hears_each_change_once(void **state)
{
    alarms a;
    heard h = {.a = &a};
    (void)state;
    alarm_init(&a, 0, (alarm_hooks){.ctx = &h, .changed = on_changed});
    assert_int_equal(h.calls, 0);

    alarm_set(&a, ALARM_DISK, false); /* off already: nothing */
    assert_int_equal(h.calls, 0);
    alarm_set(&a, ALARM_DISK, true);
    assert_int_equal(h.calls, 1);
    assert_true(h.blocked[0]);
    assert_string_equal(h.reason[0], "low on disk");
    alarm_set(&a, ALARM_DISK, true); /* on already: nothing */
    assert_int_equal(h.calls, 1);
    alarm_set(&a, ALARM_MEMORY, true); /* a second source: the reason changes */
    assert_int_equal(h.calls, 2);
    assert_true(h.blocked[1]);
    assert_string_equal(h.reason[1], "low on disk & memory");
    alarm_set(&a, ALARM_DISK, false); /* one of two clears: still blocked */
    assert_int_equal(h.calls, 3);
    assert_true(h.blocked[2]);
    assert_string_equal(h.reason[2], "low on memory");
    alarm_set(&a, ALARM_MEMORY, false); /* both off: unblocked */
    assert_int_equal(h.calls, 4);
    assert_false(h.blocked[3]);
    assert_null(h.reason[3]);
    alarm_set(&a, ALARM_MEMORY, false);
    assert_int_equal(h.calls, 4);
}

/* The store reports its disk check while it opens, before the first
 * memory measure (alarm_start): the observer hears that too, and the
 * start keeps the block. */
static void test_disk_alarm_before_start(void **state)
{
    alarms a;
    heard h = {.a = &a};
    (void)state;
    alarm_init(&a, 0, (alarm_hooks){.ctx = &h, .changed = on_changed});
    alarm_set(&a, ALARM_DISK, true);
    assert_int_equal(h.calls, 1);
    alarm_start(&a);
    assert_int_equal(h.calls, 1);
    assert_true(alarm_blocked(&a));
    assert_string_equal(alarm_block_reason(&a), "low on disk");
}

static void test_heap_counts_allocations_and_frees(void **state)
{
    uint64_t before, grown, big;
    (void)state;
    before = memstat_heap_in_use();
    keep[0] = malloc(1u << 20);
    memset(keep[0], 1, 1u << 20);
    grown = memstat_heap_in_use();
    assert_true(grown >= before + (1u << 20));
    assert_true(grown < before + (1u << 20) + (64u << 10));
    keep[0] = realloc(keep[0], 3u << 20);
    big = memstat_heap_in_use();
    assert_true(big >= before + (3u << 20) && big < before + (3u << 20) + (64u << 10));
    keep[1] = calloc(1000, 1000);
    assert_true(memstat_heap_in_use() >= big + 1000000);
    free(keep[1]);
    free(keep[0]);
    keep[0] = keep[1] = NULL;
    /* freed memory counts as free at once (ASan's quarantine included),
     * or a drained backlog would never clear the alarm */
    assert_true(memstat_heap_in_use() < before + (64u << 10));
}

static void test_memory_alarm_follows_the_heap(void **state)
{
    alarms a;
    heard h = {.a = &a};
    (void)state;
    alarm_init(&a, memstat_heap_in_use() + (4u << 20), (alarm_hooks){.ctx = &h, .changed = on_changed});
    alarm_start(&a);
    assert_false(alarm_blocked(&a));
    assert_int_equal(h.calls, 0);

    keep[2] = malloc(8u << 20);
    memset(keep[2], 1, 8u << 20);
    alarm_check_memory(&a);
    assert_true(alarm_blocked(&a));
    assert_string_equal(alarm_block_reason(&a), "low on memory");
    assert_int_equal(h.calls, 1);
    assert_true(h.blocked[0]);
    assert_string_equal(h.reason[0], "low on memory");
    /* a second look above the limit changes nothing the observer hears */
    alarm_check_memory(&a);
    assert_int_equal(h.calls, 1);
    /* while it is on, only the tick (alarm_check_memory) looks again */
    alarm_note_input(&a, 64u << 20);
    assert_false(alarm_memory_due(&a));
    free(keep[2]);
    keep[2] = NULL;
    alarm_check_memory(&a);
    assert_false(alarm_blocked(&a));
    assert_int_equal(h.calls, 2);
    assert_false(h.blocked[1]);

    /* 0 turns the alarm off, whatever the heap */
    a.memory_limit = 0;
    keep[2] = malloc(8u << 20);
    alarm_check_memory(&a);
    assert_false(alarm_blocked(&a));
    assert_int_equal(h.calls, 2);
    free(keep[2]);
    keep[2] = NULL;
}

static void test_check_is_due_after_input_or_publishes(void **state)
{
    alarms a;
    (void)state;
    alarm_init(&a, 64u << 20, (alarm_hooks){0}); /* a step of 2 MiB (1/32) */
    alarm_start(&a);
    assert_false(alarm_memory_due(&a));
    alarm_note_input(&a, (2u << 20) - 1);
    assert_false(alarm_memory_due(&a));
    alarm_note_input(&a, 1);
    assert_true(alarm_memory_due(&a));
    alarm_check_memory(&a);
    assert_false(alarm_memory_due(&a));
    for (int i = 0; i < 2048; i++)
        alarm_note_publish(&a);
    assert_true(alarm_memory_due(&a));
    a.memory_limit = 0;
    assert_false(alarm_memory_due(&a));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_limit_is_four_tenths_of_ram),
        cmocka_unit_test(test_reason_texts_are_rabbitmqs),
        cmocka_unit_test(test_two_sources_one_block),
        cmocka_unit_test(test_observer_hears_each_change_once),
        cmocka_unit_test(test_disk_alarm_before_start),
        cmocka_unit_test(test_heap_counts_allocations_and_frees),
        cmocka_unit_test(test_memory_alarm_follows_the_heap),
        cmocka_unit_test(test_check_is_due_after_input_or_publishes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
