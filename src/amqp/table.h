/*
 * table.h - AMQP field tables and arrays.
 *
 * A table stays in its encoded form (amqp_table: the bytes after the length
 * prefix); it is validated once, when decoded, and afterwards read with the
 * iterator or amqp_table_get(), which trust that validation.  Every type that
 * RabbitMQ's clients send is understood: t b B s u I i l f d D S x A T F V
 * (RabbitMQ's reading of the 0-9-1 errata: 's' is a signed short).
 *
 * Tables are built with amqp_tbuf, a growable buffer owned by the caller.
 */
#ifndef WARREN_AMQP_TABLE_H
#define WARREN_AMQP_TABLE_H

#include "wire.h"

typedef struct amqp_array {
    const uint8_t *ptr; /* the values after the array's length prefix */
    uint32_t len;
} amqp_array;

typedef struct amqp_value {
    uint8_t type; /* the field-value type octet, e.g. 'S' */
    union {
        bool b;          /* t */
        int64_t i;       /* b s I l  (signed) */
        uint64_t u;      /* B u i T  (unsigned, T = timestamp) */
        float f;         /* f */
        double d;        /* d */
        struct {
            uint8_t scale;
            uint32_t value;
        } dec;           /* D */
        amqp_str s;      /* S x */
        amqp_table t;    /* F */
        amqp_array a;    /* A */
    } v;
} amqp_value;

/* Walk a validated table entry by entry. */
typedef struct amqp_table_iter {
    const uint8_t *p, *end;
} amqp_table_iter;

void amqp_table_iter_init(amqp_table_iter *it, amqp_table t);
/* 1 with *key and *val set, 0 at the end. */
int amqp_table_next(amqp_table_iter *it, amqp_str *key, amqp_value *val);

typedef struct amqp_array_iter {
    const uint8_t *p, *end;
} amqp_array_iter;

void amqp_array_iter_init(amqp_array_iter *it, amqp_array a);
int amqp_array_next(amqp_array_iter *it, amqp_value *val);

/* Look a key up; false when absent. */
bool amqp_table_get(amqp_table t, const char *key, amqp_value *val);
/* Number of entries. */
size_t amqp_table_count(amqp_table t);

/* RabbitMQ's name of a field type ("longstr", "signedint", ...), as its
 * error messages print them. */
const char *amqp_type_name(uint8_t type);
/* Integer value of any integer type (b B s u I i l T), or false. */
bool amqp_value_int(const amqp_value *v, int64_t *out);
/* Two values equal in type and content (tables compared byte for byte). */
bool amqp_value_eq(const amqp_value *a, const amqp_value *b);

/* The class a field type compares in, as RabbitMQ compares decoded values:
 * every integer type (b B s u I i l, and the timestamp T, which RabbitMQ
 * decodes to a plain integer) is AMQP_CLASS_INT; f and d are
 * AMQP_CLASS_FLOAT; the strings S and x are AMQP_CLASS_STRING; any other
 * type (t D F A V) is a class of its own, its type octet. */
enum { AMQP_CLASS_INT = 0x100, AMQP_CLASS_FLOAT, AMQP_CLASS_STRING };
int amqp_type_class(uint8_t type);
/* Two values of one class and equal in it (Erlang's =:= on RabbitMQ's
 * decoded values): 5 as I, l, u or T are equivalent, 5 and 5.0 are not,
 * 'ab' as S and as x are.  queue.declare's argument equivalence. */
bool amqp_value_equiv(const amqp_value *a, const amqp_value *b);
/* amqp_value_equiv, except that an integer and a float of the same value
 * also match (Erlang's ==): the headers exchange's comparison. */
bool amqp_value_match(const amqp_value *a, const amqp_value *b);
/* Two tables equal as sets of key/value pairs, whatever their order. */
bool amqp_table_equiv(amqp_table a, amqp_table b);

/* Parse one value at p (type octet first); returns bytes used or a negative
 * status.  Used by validation and by the iterators. */
long amqp_value_parse(const uint8_t *p, size_t n, amqp_value *val, int depth);

/* A growable output buffer for building tables. */
typedef struct amqp_tbuf {
    uint8_t *buf;
    size_t len, cap;
    bool oom;
} amqp_tbuf;

void amqp_tbuf_free(amqp_tbuf *b);
/* The finished table (valid until the buffer changes or is freed). */
amqp_table amqp_tbuf_done(const amqp_tbuf *b);
void amqp_tbuf_raw(amqp_tbuf *b, const void *p, size_t n);
void amqp_tbuf_key(amqp_tbuf *b, const char *key);
void amqp_tbuf_bool(amqp_tbuf *b, const char *key, bool v);
void amqp_tbuf_long(amqp_tbuf *b, const char *key, int64_t v);      /* 'l' */
void amqp_tbuf_timestamp(amqp_tbuf *b, const char *key, uint64_t v); /* 'T' */
void amqp_tbuf_str(amqp_tbuf *b, const char *key, amqp_str v);      /* 'S' */
void amqp_tbuf_table(amqp_tbuf *b, const char *key, amqp_table v);  /* 'F' */
void amqp_tbuf_array(amqp_tbuf *b, const char *key, amqp_array v);  /* 'A' */
/* Append a whole decoded value under key (re-encodes it). */
void amqp_tbuf_value(amqp_tbuf *b, const char *key, const amqp_value *v);
/* Encode one value (type octet first) with no key: for building arrays. */
void amqp_tbuf_put_value(amqp_tbuf *b, const amqp_value *v);

#endif
