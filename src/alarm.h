/*
 * alarm.h - the resource alarms (memory, disk) and who hears of them.
 *
 * The alarms know no connection.  The sources report to them (the store
 * its disk check through alarm_set, this module its own heap measure), and
 * one observer, registered by the protocol layer (broker.c), hears each
 * change through alarm_hooks and applies it to the connections it owns.
 * Who is blocked, and when, is the observer's business (RabbitMQ 3.10's
 * rule: a connection is blocked at its first publish during an alarm, and
 * unblocked when every alarm is off; conn.c); the observer asks
 * alarm_blocked/alarm_block_reason at each publish.
 */
#ifndef WARREN_ALARM_H
#define WARREN_ALARM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The sources: publishers are blocked while any is on. */
enum { ALARM_MEMORY = 1 << 0, ALARM_DISK = 1 << 1 };

typedef struct alarm_hooks {
    void *ctx;
    /* The set of alarms changed: `blocked` tells if any is on now, and
     * `reason` is RabbitMQ's connection.blocked text for those on (NULL
     * when none is).  Called once per change, after the state is updated:
     * when the block begins, when a second alarm joins or one of two
     * clears (blocked stays true, the reason changes), and when it ends. */
    void (*changed)(void *ctx, bool blocked, const char *reason);
} alarm_hooks;

typedef struct alarms {
    unsigned on;                /* ALARM_MEMORY | ALARM_DISK */
    const char *reason;         /* alarm_reason(on) */
    alarm_hooks hooks;
    /* the memory alarm's measure */
    uint64_t memory_limit;      /* bytes of heap in use; 0: no memory alarm */
    uint64_t mem_input;         /* bytes read since the heap was last measured */
    uint32_t mem_publishes;     /* publishes since then */
    uint64_t mem_check_bytes;   /* measure again after this much input */
} alarms;

/* 0.4 of the physical RAM, RabbitMQ's default vm_memory_high_watermark. */
uint64_t alarm_default_memory_limit(void);
/* RabbitMQ's connection.blocked reason for a set of alarms; NULL if none. */
const char *alarm_reason(unsigned on);

/* No alarm on; the memory alarm at memory_limit bytes of heap (0: none);
 * changes go to hooks (hooks.changed may be NULL).  Nothing is measured
 * yet: a source may report from now on (the store's disk check at open). */
void alarm_init(alarms *a, uint64_t memory_limit, alarm_hooks hooks);
/* Log the memory limit and take the first measure (after recovery, whose
 * memory counts). */
void alarm_start(alarms *a);
/* Turn one source on or off; the observer hears when the set changes. */
void alarm_set(alarms *a, unsigned source, bool on);
static inline bool alarm_blocked(const alarms *a) { return a->on != 0; }
static inline const char *alarm_block_reason(const alarms *a) { return a->reason; }

/* Measure the heap now and raise or clear the memory alarm. */
void alarm_check_memory(alarms *a);
/* Has enough input arrived since the last measure to measure again?  (Not
 * while the alarm is on: the tick alone clears it.) */
bool alarm_memory_due(const alarms *a);
static inline void alarm_note_input(alarms *a, size_t n) { a->mem_input += n; }
static inline void alarm_note_publish(alarms *a) { a->mem_publishes++; }

#endif
