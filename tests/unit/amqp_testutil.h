/*
 * amqp_testutil.h - shared helpers for the codec's unit tests and fuzz targets.
 *
 * The generated codec describes itself (amqp_methods[], the field tables of
 * spec.h): these helpers use that reflection to fill any method's struct with
 * chosen values, and to compare two structs field by field, so one loop can
 * test every method the spec defines and a new method is tested for free.
 *
 * Nothing here uses cmocka, so the fuzz targets can include this module too
 * (they are each built from a single file plus src/amqp, see the Makefile).
 * Strings and tables placed in a struct point into static storage owned by
 * this module: they stay valid for the whole program.
 */
#ifndef WARREN_TESTS_AMQP_TESTUTIL_H
#define WARREN_TESTS_AMQP_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "amqp/frame.h"
#include "amqp/table.h"

/* Fill variants.  TU_ZERO: every number 0, every string and table empty.
 * TU_MAX: every number all ones, shortstrs of 255 bytes, longstrs of 300,
 * the table of every field type.  TU_HUGE: as TU_MAX with 70,000-byte
 * longstrs (lengths that do not fit 16 bits).  Any other value: numbers,
 * lengths and tables picked by a PRNG seeded with the variant. */
enum { TU_ZERO = 0, TU_MAX = 1, TU_HUGE = 2, TU_RANDOM = 3 };

/* Fill the `n` fields described by `f` in the struct at `s`.  The k-th bit
 * field (in declaration order) is set to bit k of `bits`. */
void tu_fill(const amqp_field_info *f, size_t n, void *s, unsigned variant, uint32_t bits);

/* Index of the first field that differs between the structs at a and b, or
 * -1 when all are equal (strings and tables compared byte for byte). */
int tu_diff(const amqp_field_info *f, size_t n, const void *a, const void *b);

/* Encoded size of one field of the given spec type, given the struct. */
size_t tu_field_size(const amqp_field_info *f, const void *s);

/* Number of "bit" fields in a field list. */
unsigned tu_bit_count(const amqp_field_info *f, size_t n);

/* Look a method up in amqp_methods[]; NULL if absent. */
const amqp_method_info *tu_method(uint32_t id);

/* A heap copy of exactly n bytes, so that AddressSanitizer reports any read
 * past its end.  Free with free(). */
uint8_t *tu_dup(const void *p, size_t n);

/* A table holding one entry of each field type (t b B s u I i l f d D S x A
 * T F V), with a nested table and an array of several types. */
amqp_table tu_all_types_table(void);

/* The bytes of a hex string such as "01 00 0a ce" (spaces ignored), in an
 * exact-size heap buffer (free with free()); *n is set to their number.
 * Aborts on a malformed string: it is a bug in the test. */
uint8_t *tu_hex(const char *hex, size_t *n);

/* Visit every entry of a validated table, and of every table and array in
 * it, with the iterators; returns the number of values seen.  Checks that
 * the iterators end exactly at the end of each table and array and agree
 * with amqp_table_count and amqp_table_get (TU_CHECK). */
size_t tu_walk_table(amqp_table t);

/* For the fuzz targets, which have no test framework: abort with a message
 * when a property that must hold does not. */
#define TU_CHECK(c) ((c) ? (void)0 : tu_fail(#c, __FILE__, __LINE__))
_Noreturn void tu_fail(const char *what, const char *file, int line);

#endif
