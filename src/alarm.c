/*
 * alarm.c - resource alarms: while memory or disk is low, publishers are
 * blocked and consumers drain, as RabbitMQ's vm_memory_high_watermark and
 * disk_free_limit do.
 *
 * Two sources, one block.  The store raises the disk alarm (free space
 * under --disk-free-limit, store.c check_disk); this file raises the
 * memory alarm (heap in use over --memory-limit, memstat.c).  While either is
 * on, b->blocked holds, and as in RabbitMQ 3.10 (rabbit_reader's
 * "blocking" and "blocked" states) a connection is blocked when it
 * publishes: conn.c stops reading it after that content frame (held()),
 * and a client that announced the connection.blocked capability hears
 * why, in RabbitMQ's words: "low on memory", "low on disk", or with both
 * on "low on disk & memory" (rabbit_reader joins the set of alarms with
 * " & " in the order Erlang's sets:to_list gives, disk first).  A
 * connection that does not publish during the alarm is read on and told
 * nothing.  A client hears connection.blocked once: a second alarm while
 * it is blocked changes nothing it sees, clearing one of two keeps it
 * blocked, and connection.unblocked goes to those that heard blocked when
 * both are off.
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
#include "warren.h"

#include <inttypes.h>
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

const char *alarm_reason(unsigned alarms)
{
    switch (alarms & (ALARM_MEMORY | ALARM_DISK)) {
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

void alarm_set(broker *b, unsigned source, bool on)
{
    unsigned was = b->alarms;
    conn *c;

    b->alarms = on ? was | source : was & ~source;
    if (b->alarms == was)
        return;
    b->blocked = b->alarms != 0;
    b->block_reason = alarm_reason(b->alarms);
    if (was && b->alarms) {
        /* blocked before and still: the clients have heard already */
        if (!on)
            log_info("publishers stay blocked: %s", b->block_reason);
        return;
    }
    if (on)
        return; /* each publishing connection is held at its next publish */
    log_info("publishers unblocked");
    for (c = b->conns; c; c = c->next)
        conn_unblock(c);
}

void alarm_init(broker *b)
{
    uint64_t limit = b->cfg.memory_limit, step = limit / MEM_CHECK_DIV;

    if (step < MEM_CHECK_MIN)
        step = MEM_CHECK_MIN;
    if (step > MEM_CHECK_MAX)
        step = MEM_CHECK_MAX;
    b->mem_check_bytes = step;
    if (limit)
        log_info("memory: limit %" PRIu64 " bytes of heap in use, now %" PRIu64 " (counted by %s)", limit,
                 memstat_heap_in_use(), memstat_source());
    else
        log_info("memory: no limit, heap in use now %" PRIu64 " (counted by %s)", memstat_heap_in_use(), memstat_source());
    alarm_check_memory(b);
}

void alarm_check_memory(broker *b)
{
    uint64_t limit = b->cfg.memory_limit, used;
    bool on;

    b->mem_input = 0;
    b->mem_publishes = 0;
    if (!limit)
        return;
    used = memstat_heap_in_use();
    on = used > limit;
    if (on == !!(b->alarms & ALARM_MEMORY))
        return;
    if (on)
        log_warn("memory: heap in use %" PRIu64 " bytes is above the limit of %" PRIu64
                 " bytes: publishers are blocked",
                 used, limit);
    else
        log_info("memory: heap in use %" PRIu64 " bytes is below the limit of %" PRIu64 " bytes again", used,
                 limit);
    alarm_set(b, ALARM_MEMORY, on);
}

bool alarm_memory_due(const broker *b)
{
    /* while the alarm is on, publishers are not read: only the tick looks
     * again, so the alarm changes state at most about once a second (a
     * consumer draining and a publisher refilling would otherwise flip it
     * every few turns, a blocked/unblocked pair to every client each time) */
    if (!b->cfg.memory_limit || (b->alarms & ALARM_MEMORY))
        return false;
    return b->mem_input >= b->mem_check_bytes || b->mem_publishes >= MEM_CHECK_PUBLISHES;
}
