/*
 * wire.h - the primitive types of the AMQP 0-9-1 wire format.
 *
 * Everything the codec reads or writes goes through the helpers here: the
 * integers are big-endian on the wire and are never copied as raw structs.
 * Strings and tables decoded from a frame are views (pointer + length) into
 * the caller's buffer: the codec never allocates and never copies, so a
 * decoded method is valid only while the bytes it was decoded from live.
 *
 * The status values are shared by the whole codec (frame reader, tables,
 * generated methods); amqp_strerror() names each of them.
 */
#ifndef WARREN_AMQP_WIRE_H
#define WARREN_AMQP_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* A view of bytes: a shortstr, longstr or byte array. Not NUL-terminated. */
typedef struct amqp_str {
    const char *ptr;
    uint32_t len;
} amqp_str;

/* A field table, kept encoded: the bytes after the 4-byte length prefix.
 * A decoded table has been validated (amqp_table_validate), so walking it
 * with the iterator in table.h cannot run past its end. */
typedef struct amqp_table {
    const uint8_t *ptr;
    uint32_t len;
} amqp_table;

/* Status codes: 0 is success, every error is negative. */
enum amqp_status {
    AMQP_OK = 0,
    AMQP_ETRUNC = -1,       /* fewer bytes than the field needs */
    AMQP_ETRAILING = -2,    /* bytes left over after the last field */
    AMQP_EFIELDTYPE = -3,   /* unknown field-value type octet in a table */
    AMQP_ENESTING = -4,     /* tables nested deeper than AMQP_TABLE_DEPTH */
    AMQP_EFRAMEEND = -5,    /* frame does not end with 0xCE */
    AMQP_EFRAMESIZE = -6,   /* frame larger than the negotiated frame_max */
    AMQP_EFRAMETYPE = -7,   /* unknown frame type */
    AMQP_EMETHOD = -8,      /* unknown class or method id */
    AMQP_ENOSPACE = -9,     /* output buffer too small */
    AMQP_EPROPFLAGS = -10,  /* property flags name a property that does not exist */
    AMQP_ECLASS = -11,      /* content header for a class that has no content */
    AMQP_EUTF8 = -12,       /* a method's shortstr argument is not UTF-8 */
};

const char *amqp_strerror(int status);

#define AMQP_TABLE_DEPTH 32

static inline uint16_t amqp_get16(const uint8_t *p)
{
    return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint32_t amqp_get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t amqp_get64(const uint8_t *p)
{
    return (uint64_t)amqp_get32(p) << 32 | amqp_get32(p + 4);
}

static inline uint8_t *amqp_put8(uint8_t *p, uint8_t v)
{
    *p = v;
    return p + 1;
}

static inline uint8_t *amqp_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
    return p + 2;
}

static inline uint8_t *amqp_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
    return p + 4;
}

static inline uint8_t *amqp_put64(uint8_t *p, uint64_t v)
{
    amqp_put32(p, (uint32_t)(v >> 32));
    return amqp_put32(p + 4, (uint32_t)v);
}

/* Short strings are at most 255 bytes; the encoder truncates nothing, so
 * callers must check lengths before encoding (amqp_shortstr_ok). */
static inline bool amqp_shortstr_ok(amqp_str s)
{
    return s.len <= 255;
}

static inline uint8_t *amqp_put_shortstr(uint8_t *p, amqp_str s)
{
    *p++ = (uint8_t)s.len;
    if (s.len)
        memcpy(p, s.ptr, s.len);
    return p + s.len;
}

static inline uint8_t *amqp_put_longstr(uint8_t *p, amqp_str s)
{
    p = amqp_put32(p, s.len);
    if (s.len)
        memcpy(p, s.ptr, s.len);
    return p + s.len;
}

static inline uint8_t *amqp_put_table(uint8_t *p, amqp_table t)
{
    p = amqp_put32(p, t.len);
    if (t.len)
        memcpy(p, t.ptr, t.len);
    return p + t.len;
}

static inline amqp_str amqp_cstr(const char *s)
{
    return (amqp_str){s, (uint32_t)strlen(s)};
}

static inline bool amqp_str_eq(amqp_str a, amqp_str b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static inline bool amqp_str_eqc(amqp_str a, const char *c)
{
    return amqp_str_eq(a, amqp_cstr(c));
}

static inline bool amqp_table_eq(amqp_table a, amqp_table b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

int amqp_table_validate(const uint8_t *p, size_t n, int depth);

/* Whether [p, p+n) is UTF-8 as RabbitMQ 3.10 judges a shortstr (utf8.c):
 * no stray or missing continuation bytes, no overlong forms, at most four
 * bytes a character.  The generated decoders check the shortstr arguments
 * of every method without content with it (AMQP_EUTF8). */
bool amqp_utf8_ok(const char *p, size_t n);

#endif
