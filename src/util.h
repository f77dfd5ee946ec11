/*
 * util.h - small helpers with no home of their own (util.c).
 */
#ifndef WARREN_UTIL_H
#define WARREN_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* A random string of n characters from [A-Za-z0-9_-] (for generated names:
 * amq.gen- queues, consumer tags, direct reply-to tokens). */
void random_name(char *out, size_t n);

/* The longest regular expression a client may give (a permission, a list's
 * name filter). */
#define REGEX_MAX 512
#define REGEX_MAX_REPEATS 16

/* Is the POSIX extended regular expression pat[0..len) one that glibc
 * compiles and matches in bounded time?  NULL when it is; else why not.
 * Refused: back-references (\1: matched by backtracking), a repetition
 * operator right after another (a** and the like: PCRE, RabbitMQ's
 * engine, calls it "nothing to repeat"; glibc takes it, and with its
 * buffer anchors compiles it in time that grows as the fourth power of
 * the count, 1.6 s for 100 stars), glibc's buffer anchors \` and \'
 * (not RabbitMQ's syntax), more than REGEX_MAX bytes, more than
 * REGEX_MAX_REPEATS repetition operators, and a {m,n} count over 100
 * (nested counts make glibc's automaton, and each match, grow as their
 * product).  Both front ends compile client patterns on the loop thread,
 * and a list's name filter is matched against every queue's name there:
 * this keeps one pattern from holding it for seconds. */
const char *regex_untamed(const char *pat, size_t len);

/* The address bytes of a peer, for counting connections per address (an
 * IPv4-mapped IPv6 address as its IPv4 one): their length, 4 or 16; 0 for
 * another family. */
struct sockaddr;
size_t sockaddr_key(const struct sockaddr *sa, uint8_t key[16]);

#endif
