/*
 * util.h - small helpers with no home of their own (util.c).
 */
#ifndef WARREN_UTIL_H
#define WARREN_UTIL_H

#include <stddef.h>

/* A random string of n characters from [A-Za-z0-9_-] (for generated names:
 * amq.gen- queues, consumer tags, direct reply-to tokens). */
void random_name(char *out, size_t n);

#endif
