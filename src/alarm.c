/*
 * alarm.c - resource alarms: while memory or disk is low, publishers are
 * blocked and consumers drain, as RabbitMQ's vm_memory_high_watermark and
 * disk_free_limit do.
 *
 * Two sources, one block.  The store raises the disk alarm (free space
 * under --disk-free-limit, store.c check_disk, through the broker's store
 * hook); this file raises the memory alarm (heap in use over
 * --memory-limit, memstat.c).  While either is on, alarm_blocked() holds,
 * with RabbitMQ's reason: "low on memory", "low on disk", or with both on
 * "low on disk & memory" (rabbit_reader joins the set of alarms with
 * " & " in the order Erlang's sets:to_list gives, disk first).
 *
 * This module knows no connection: each change of the set goes to one
 * observer (alarm_hooks), which the protocol layer registers (broker.c).
 * There, as in RabbitMQ 3.10 (rabbit_reader's "blocking" and "blocked"
 * states), a connection is blocked when it publishes: conn.c stops
 * reading it after that content frame, and a client that announced the
 * connection.blocked capability hears why, with the reason of that
 * moment.  A connection that does not publish during the alarm is read on
 * and told nothing.  A client hears connection.blocked once: a second
 * alarm while it is blocked changes nothing it sees, clearing one of two
 * keeps it blocked, and connection.unblocked goes to those that heard
 * blocked when both are off.
 *
 * The memory is measured on the broker's 1 s tick and, because a fast
 * publisher fills a lot of memory in a second, also before the loop sleeps
 * once enough input has arrived since the last look (a 32nd of the limit,
 * or 2048 publishes: small messages cost more heap than their bytes on
 * the wire).  It clears on the tick only, within a second of the heap
 * falling below the limit (RabbitMQ's memory monitor looks every 2.5 s),
 * so that a consumer draining while a publisher refills does not flip it
 * every few turns.  Each look is O(1) (memstat.c).  There is no hysteresis,
 * as in RabbitMQ.
 */
#include "alarm.h"

#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "memstat.h"
#include "log.h"

/* Look at the heap again after this many publishes, whatever their size
 * (each costs a queue entry and a message header at least). */
#define MEM_CHECK_PUBLISHES 2048
/* ... or this share of the limit received, within these bounds. */
#define MEM_CHECK_DIV 32
#define MEM_CHECK_MIN (256u << 10)
#define MEM_CHECK_MAX (4u << 20)

uint64_t alarm_default_memory_limit(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGE_SIZE);
    if (pages <= 0 || size <= 0)
        return 0;
    /* RabbitMQ's default vm_memory_high_watermark, 0.4 of the RAM */
    return (uint64_t)pages * (uint64_t)size * 2 / 5;
}

const char *alarm_reason(unsigned on)
{
    switch (on & (ALARM_MEMORY | ALARM_DISK)) {
    case ALARM_MEMORY:
        return "low on memory";
    case ALARM_DISK:
        return "low on disk";
    case ALARM_MEMORY | ALARM_DISK:
        return "low on disk & memory";
    default:
        return NULL;
    }
}

void alarm_init(alarms *a, uint64_t memory_limit, alarm_hooks hooks)
{
    uint64_t step = memory_limit / MEM_CHECK_DIV;

    if (step < MEM_CHECK_MIN)
        step = MEM_CHECK_MIN;
    if (step > MEM_CHECK_MAX)
        step = MEM_CHECK_MAX;
    memset(a, 0, sizeof *a);
    a->hooks = hooks;
    a->memory_limit = memory_limit;
    a->mem_check_bytes = step;
}

void alarm_start(alarms *a)
{
    uint64_t limit = a->memory_limit;

    if (limit)
        log_info("memory: limit %" PRIu64 " bytes of heap in use, now %" PRIu64 " (counted by %s)", limit,
                 memstat_heap_in_use(), memstat_source());
    else
        log_info("memory: no limit, heap in use now %" PRIu64 " (counted by %s)", memstat_heap_in_use(), memstat_source());
    alarm_check_memory(a);
}

void alarm_set(alarms *a, unsigned source, bool on)
{
    unsigned was = a->on;

    a->on = on ? was | source : was & ~source;
    if (a->on == was)
        return;
    a->reason = alarm_reason(a->on);
    if (was && a->on && !on)
        log_info("publishers stay blocked: %s", a->reason);
    else if (!a->on)
        log_info("publishers unblocked");
    if (a->hooks.changed)
        a->hooks.changed(a->hooks.ctx, a->on != 0, a->reason);
}

void alarm_check_memory(alarms *a)
{
    uint64_t limit = a->memory_limit, used;
    bool on;

    a->mem_input = 0;
    a->mem_publishes = 0;
    if (!limit)
        return;
    used = memstat_heap_in_use();
    on = used > limit;
    if (on == !!(a->on & ALARM_MEMORY))
        return;
    if (on)
        log_warn("memory: heap in use %" PRIu64 " bytes is above the limit of %" PRIu64
                 " bytes: publishers are blocked",
                 used, limit);
    else
        log_info("memory: heap in use %" PRIu64 " bytes is below the limit of %" PRIu64 " bytes again", used,
                 limit);
    alarm_set(a, ALARM_MEMORY, on);
}

bool alarm_memory_due(const alarms *a)
{
    /* while the alarm is on, publishers are not read: only the tick looks
     * again, so the alarm changes state at most about once a second (a
     * consumer draining and a publisher refilling would otherwise flip it
     * every few turns, a blocked/unblocked pair to every client each time) */
    if (!a->memory_limit || (a->on & ALARM_MEMORY))
        return false;
    return a->mem_input >= a->mem_check_bytes || a->mem_publishes >= MEM_CHECK_PUBLISHES;
}
