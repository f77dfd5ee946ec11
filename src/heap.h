/*
 * heap.h - bytes of heap in use, for the memory alarm.  How it is counted,
 * and what is left out, in heap.c.
 */
#ifndef WARREN_HEAP_H
#define WARREN_HEAP_H

#include <stdint.h>

/* Bytes of heap the process holds now (allocated, not freed).  O(1). */
uint64_t heap_in_use(void);
/* Where the figure comes from, for the log. */
const char *heap_source(void);

#endif
