/*
 * memstat.h - bytes of heap in use (counted at malloc), for the memory
 * alarm.  How it is counted, and what is left out, in memstat.c.  (The
 * timer heap is another thing, in ev/loop.c.)
 */
#ifndef WARREN_MEMSTAT_H
#define WARREN_MEMSTAT_H

#include <stdint.h>

/* Bytes of heap the process holds now (allocated, not freed).  O(1). */
uint64_t memstat_heap_in_use(void);
/* Where the figure comes from, for the log. */
const char *memstat_source(void);

#endif
