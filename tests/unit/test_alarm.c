/*
 * test_alarm.c - the resource alarms of alarm.c without a socket: the
 * default memory limit (0.4 of the RAM, as RabbitMQ's
 * vm_memory_high_watermark), two sources making one block with RabbitMQ's
 * reason texts, and the heap measure the memory alarm reads, which in this
 * build (AddressSanitizer, like bin/warren-asan) is ASan's own count.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "memstat.h"
#include "warren.h"

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
    broker b;
    (void)state;
    memset(&b, 0, sizeof b);
    config_defaults(&b.cfg);

    alarm_set(&b, ALARM_MEMORY, true);
    assert_true(b.blocked);
    assert_string_equal(b.block_reason, "low on memory");
    alarm_set(&b, ALARM_DISK, true);
    assert_true(b.blocked);
    assert_string_equal(b.block_reason, "low on disk & memory");
    alarm_set(&b, ALARM_MEMORY, false); /* the disk alarm holds */
    assert_true(b.blocked);
    assert_string_equal(b.block_reason, "low on disk");
    alarm_set(&b, ALARM_MEMORY, false); /* no change */
    assert_true(b.blocked);
    alarm_set(&b, ALARM_DISK, false);
    assert_false(b.blocked);
    assert_null(b.block_reason);

    /* the other way round: the memory alarm holds */
    alarm_set(&b, ALARM_DISK, true);
    assert_string_equal(b.block_reason, "low on disk");
    alarm_set(&b, ALARM_MEMORY, true);
    alarm_set(&b, ALARM_DISK, false);
    assert_true(b.blocked);
    assert_string_equal(b.block_reason, "low on memory");
    alarm_set(&b, ALARM_MEMORY, false);
    assert_false(b.blocked);
    assert_int_equal(b.alarms, 0);
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
    broker b;
    (void)state;
    memset(&b, 0, sizeof b);
    config_defaults(&b.cfg);
    b.cfg.memory_limit = memstat_heap_in_use() + (4u << 20);
    alarm_init(&b);
    assert_false(b.blocked);

    keep[2] = malloc(8u << 20);
    memset(keep[2], 1, 8u << 20);
    alarm_check_memory(&b);
    assert_true(b.blocked);
    assert_string_equal(b.block_reason, "low on memory");
    /* while it is on, only the tick (alarm_check_memory) looks again */
    alarm_note_input(&b, 64u << 20);
    assert_false(alarm_memory_due(&b));
    free(keep[2]);
    keep[2] = NULL;
    alarm_check_memory(&b);
    assert_false(b.blocked);

    /* 0 turns the alarm off, whatever the heap */
    b.cfg.memory_limit = 0;
    keep[2] = malloc(8u << 20);
    alarm_check_memory(&b);
    assert_false(b.blocked);
    free(keep[2]);
    keep[2] = NULL;
}

static void test_check_is_due_after_input_or_publishes(void **state)
{
    broker b;
    (void)state;
    memset(&b, 0, sizeof b);
    config_defaults(&b.cfg);
    b.cfg.memory_limit = 64u << 20; /* a step of 2 MiB (1/32) */
    alarm_init(&b);
    assert_false(alarm_memory_due(&b));
    alarm_note_input(&b, (2u << 20) - 1);
    assert_false(alarm_memory_due(&b));
    alarm_note_input(&b, 1);
    assert_true(alarm_memory_due(&b));
    alarm_check_memory(&b);
    assert_false(alarm_memory_due(&b));
    for (int i = 0; i < 2048; i++)
        alarm_note_publish(&b);
    assert_true(alarm_memory_due(&b));
    b.cfg.memory_limit = 0;
    assert_false(alarm_memory_due(&b));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_limit_is_four_tenths_of_ram),
        cmocka_unit_test(test_reason_texts_are_rabbitmqs),
        cmocka_unit_test(test_two_sources_one_block),
        cmocka_unit_test(test_heap_counts_allocations_and_frees),
        cmocka_unit_test(test_memory_alarm_follows_the_heap),
        cmocka_unit_test(test_check_is_due_after_input_or_publishes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
