/*
 * table.c - field tables: validation, reading, comparing and building.
 *
 * amqp_value_parse() is the one place that knows the size of each field type;
 * validation, the iterators and the comparisons all go through it, so a
 * table that validated can never be read past its end.
 */
#include "table.h"

#include <stdlib.h>

const char *amqp_strerror(int status)
{
    switch (status) {
    case AMQP_OK: return "ok";
    case AMQP_ETRUNC: return "truncated field";
    case AMQP_ETRAILING: return "unexpected bytes after the last field";
    case AMQP_EFIELDTYPE: return "unknown field type in table";
    case AMQP_ENESTING: return "tables nested too deeply";
    case AMQP_EFRAMEEND: return "frame does not end with frame-end octet";
    case AMQP_EFRAMESIZE: return "frame larger than frame_max";
    case AMQP_EFRAMETYPE: return "unknown frame type";
    case AMQP_EMETHOD: return "unknown method";
    case AMQP_ENOSPACE: return "output buffer too small";
    case AMQP_EPROPFLAGS: return "property flags name an unknown property";
    case AMQP_ECLASS: return "content header for a class without content";
    /* RabbitMQ's words, which the broker sends as they are */
    case AMQP_EUTF8: return "Malformed UTF-8 in shortstr";
    default: return "unknown status";
    }
}

long amqp_value_parse(const uint8_t *p, size_t n, amqp_value *val, int depth)
{
    uint32_t len;
    int rc;

    if (n < 1)
        return AMQP_ETRUNC;
    val->type = p[0];
    p++, n--;
    switch (val->type) {
    case 't':
        if (n < 1) return AMQP_ETRUNC;
        val->v.b = p[0] != 0;
        return 2;
    case 'b':
        if (n < 1) return AMQP_ETRUNC;
        val->v.i = (int8_t)p[0];
        return 2;
    case 'B':
        if (n < 1) return AMQP_ETRUNC;
        val->v.u = p[0];
        return 2;
    case 's':
        if (n < 2) return AMQP_ETRUNC;
        val->v.i = (int16_t)amqp_get16(p);
        return 3;
    case 'u':
        if (n < 2) return AMQP_ETRUNC;
        val->v.u = amqp_get16(p);
        return 3;
    case 'I':
        if (n < 4) return AMQP_ETRUNC;
        val->v.i = (int32_t)amqp_get32(p);
        return 5;
    case 'i':
        if (n < 4) return AMQP_ETRUNC;
        val->v.u = amqp_get32(p);
        return 5;
    case 'l':
        if (n < 8) return AMQP_ETRUNC;
        val->v.i = (int64_t)amqp_get64(p);
        return 9;
    case 'T':
        if (n < 8) return AMQP_ETRUNC;
        val->v.u = amqp_get64(p);
        return 9;
    case 'f': {
        uint32_t bits;
        if (n < 4) return AMQP_ETRUNC;
        bits = amqp_get32(p);
        memcpy(&val->v.f, &bits, 4);
        return 5;
    }
    case 'd': {
        uint64_t bits;
        if (n < 8) return AMQP_ETRUNC;
        bits = amqp_get64(p);
        memcpy(&val->v.d, &bits, 8);
        return 9;
    }
    case 'D':
        if (n < 5) return AMQP_ETRUNC;
        val->v.dec.scale = p[0];
        val->v.dec.value = amqp_get32(p + 1);
        return 6;
    case 'S':
    case 'x':
        if (n < 4) return AMQP_ETRUNC;
        len = amqp_get32(p);
        if (n - 4 < len) return AMQP_ETRUNC;
        val->v.s.ptr = (const char *)p + 4;
        val->v.s.len = len;
        return 5 + (long)len;
    case 'V':
        return 1;
    case 'F':
    case 'A':
        if (n < 4) return AMQP_ETRUNC;
        len = amqp_get32(p);
        if (n - 4 < len) return AMQP_ETRUNC;
        if (depth >= AMQP_TABLE_DEPTH) return AMQP_ENESTING;
        if (val->type == 'F') {
            if ((rc = amqp_table_validate(p + 4, len, depth + 1)) < 0)
                return rc;
            val->v.t.ptr = p + 4;
            val->v.t.len = len;
        } else {
            const uint8_t *q = p + 4, *end = p + 4 + len;
            amqp_value inner;
            while (q < end) {
                long used = amqp_value_parse(q, (size_t)(end - q), &inner, depth + 1);
                if (used < 0) return (int)used;
                q += used;
            }
            val->v.a.ptr = p + 4;
            val->v.a.len = len;
        }
        return 5 + (long)len;
    default:
        return AMQP_EFIELDTYPE;
    }
}

int amqp_table_validate(const uint8_t *p, size_t n, int depth)
{
    const uint8_t *end;
    amqp_value v;

    if (n == 0)
        return AMQP_OK;
    end = p + n;
    while (p < end) {
        size_t klen = p[0];
        long used;
        if ((size_t)(end - p - 1) < klen)
            return AMQP_ETRUNC;
        p += 1 + klen;
        used = amqp_value_parse(p, (size_t)(end - p), &v, depth);
        if (used < 0)
            return (int)used;
        p += used;
    }
    return AMQP_OK;
}

void amqp_table_iter_init(amqp_table_iter *it, amqp_table t)
{
    it->p = t.ptr;
    it->end = t.len ? t.ptr + t.len : t.ptr;
}

int amqp_table_next(amqp_table_iter *it, amqp_str *key, amqp_value *val)
{
    long used;

    if (it->p >= it->end)
        return 0;
    key->len = it->p[0];
    key->ptr = (const char *)it->p + 1;
    it->p += 1 + key->len;
    used = amqp_value_parse(it->p, (size_t)(it->end - it->p), val, 0);
    if (used < 0) { /* cannot happen on a validated table */
        it->p = it->end;
        return 0;
    }
    it->p += used;
    return 1;
}

void amqp_array_iter_init(amqp_array_iter *it, amqp_array a)
{
    it->p = a.ptr;
    it->end = a.len ? a.ptr + a.len : a.ptr;
}

int amqp_array_next(amqp_array_iter *it, amqp_value *val)
{
    long used;

    if (it->p >= it->end)
        return 0;
    used = amqp_value_parse(it->p, (size_t)(it->end - it->p), val, 0);
    if (used < 0) {
        it->p = it->end;
        return 0;
    }
    it->p += used;
    return 1;
}

static bool table_get_str(amqp_table t, amqp_str want, amqp_value *val)
{
    amqp_table_iter it;
    amqp_str k;

    amqp_table_iter_init(&it, t);
    while (amqp_table_next(&it, &k, val))
        if (amqp_str_eq(k, want))
            return true;
    return false;
}

bool amqp_table_get(amqp_table t, const char *key, amqp_value *val)
{
    return table_get_str(t, amqp_cstr(key), val);
}

size_t amqp_table_count(amqp_table t)
{
    amqp_table_iter it;
    amqp_str k;
    amqp_value v;
    size_t n = 0;

    amqp_table_iter_init(&it, t);
    while (amqp_table_next(&it, &k, &v))
        n++;
    return n;
}

const char *amqp_type_name(uint8_t t)
{
    switch (t) {
    case 'S': return "longstr";
    case 'I': return "signedint";
    case 'i': return "unsignedint";
    case 'l': return "long";
    case 's': return "short";
    case 'u': return "unsignedshort";
    case 'b': return "byte";
    case 'B': return "unsignedbyte";
    case 't': return "bool";
    case 'd': return "double";
    case 'f': return "float";
    case 'D': return "decimal";
    case 'T': return "timestamp";
    case 'F': return "table";
    case 'A': return "array";
    case 'x': return "binary";
    case 'V': return "void";
    default: return "unknown";
    }
}

bool amqp_value_int(const amqp_value *v, int64_t *out)
{
    switch (v->type) {
    case 'b': case 's': case 'I': case 'l':
        *out = v->v.i;
        return true;
    case 'B': case 'u': case 'i': case 'T':
        *out = (int64_t)v->v.u;
        return true;
    default:
        return false;
    }
}

bool amqp_value_eq(const amqp_value *a, const amqp_value *b)
{
    if (a->type != b->type)
        return false;
    switch (a->type) {
    case 't': return a->v.b == b->v.b;
    case 'b': case 's': case 'I': case 'l': return a->v.i == b->v.i;
    case 'B': case 'u': case 'i': case 'T': return a->v.u == b->v.u;
    case 'f': return memcmp(&a->v.f, &b->v.f, sizeof a->v.f) == 0;
    case 'd': return memcmp(&a->v.d, &b->v.d, sizeof a->v.d) == 0;
    case 'D': return a->v.dec.scale == b->v.dec.scale && a->v.dec.value == b->v.dec.value;
    case 'S': case 'x': return amqp_str_eq(a->v.s, b->v.s);
    case 'V': return true;
    case 'F': return amqp_table_equiv(a->v.t, b->v.t);
    case 'A': return a->v.a.len == b->v.a.len && (a->v.a.len == 0 || memcmp(a->v.a.ptr, b->v.a.ptr, a->v.a.len) == 0);
    default: return false;
    }
}

int amqp_type_class(uint8_t type)
{
    switch (type) {
    case 'b': case 'B': case 's': case 'u': case 'I': case 'i': case 'l': case 'T':
        return AMQP_CLASS_INT;
    case 'f': case 'd':
        return AMQP_CLASS_FLOAT;
    case 'S': case 'x':
        return AMQP_CLASS_STRING;
    default:
        return type;
    }
}

/* A timestamp above INT64_MAX is the one integer amqp_value_int cannot
 * hold: it equals only another such timestamp. */
static bool ints_equal(const amqp_value *a, const amqp_value *b)
{
    int64_t x = 0, y = 0;
    bool a_big = a->type == 'T' && a->v.u > INT64_MAX, b_big = b->type == 'T' && b->v.u > INT64_MAX;
    if (a_big || b_big)
        return a_big && b_big && a->v.u == b->v.u;
    amqp_value_int(a, &x);
    amqp_value_int(b, &y);
    return x == y;
}

static double float_of(const amqp_value *v)
{
    return v->type == 'f' ? v->v.f : v->v.d;
}

bool amqp_value_equiv(const amqp_value *a, const amqp_value *b)
{
    int class = amqp_type_class(a->type);
    if (class != amqp_type_class(b->type))
        return false;
    switch (class) {
    case AMQP_CLASS_INT: return ints_equal(a, b);
    case AMQP_CLASS_FLOAT: return float_of(a) == float_of(b);
    case AMQP_CLASS_STRING: return amqp_str_eq(a->v.s, b->v.s);
    default: return amqp_value_eq(a, b);
    }
}

/* An integer equal to a float exactly (2^53 + 1 is not 2^53 as a double). */
static bool int_equals_float(const amqp_value *i, double d)
{
    int64_t x = 0;
    if (i->type == 'T' && i->v.u > INT64_MAX)
        return d >= 0x1p63 && d < 0x1p64 && (uint64_t)d == i->v.u;
    amqp_value_int(i, &x);
    return d >= -0x1p63 && d < 0x1p63 && (int64_t)d == x && (double)(int64_t)d == d;
}

bool amqp_value_match(const amqp_value *a, const amqp_value *b)
{
    int ca = amqp_type_class(a->type), cb = amqp_type_class(b->type);
    if (ca == AMQP_CLASS_INT && cb == AMQP_CLASS_FLOAT)
        return int_equals_float(a, float_of(b));
    if (ca == AMQP_CLASS_FLOAT && cb == AMQP_CLASS_INT)
        return int_equals_float(b, float_of(a));
    return amqp_value_equiv(a, b);
}

/* Every key of a found in b with an equal value (first occurrence wins, as
 * in amqp_table_get). */
static bool table_subset(amqp_table a, amqp_table b)
{
    amqp_table_iter it;
    amqp_str k;
    amqp_value va, vb, first;

    amqp_table_iter_init(&it, a);
    while (amqp_table_next(&it, &k, &va)) {
        if (!table_get_str(a, k, &first) || !table_get_str(b, k, &vb) || !amqp_value_eq(&first, &vb))
            return false;
    }
    return true;
}

bool amqp_table_equiv(amqp_table a, amqp_table b)
{
    if (amqp_table_eq(a, b))
        return true;
    if (amqp_table_count(a) != amqp_table_count(b))
        return false;
    /* quadratic in the number of keys: refuse to spend long on tables far
     * bigger than any real argument table (they compare unequal) */
    if (amqp_table_count(a) > 256)
        return false;
    return table_subset(a, b) && table_subset(b, a);
}

/* --- building --- */

static uint8_t *reserve(amqp_tbuf *b, size_t n)
{
    if (b->oom)
        return NULL;
    if (b->cap - b->len < n) {
        size_t cap = b->cap ? b->cap : 64;
        uint8_t *nb;
        while (cap - b->len < n)
            cap *= 2;
        nb = realloc(b->buf, cap);
        if (!nb) {
            b->oom = true;
            return NULL;
        }
        b->buf = nb;
        b->cap = cap;
    }
    b->len += n;
    return b->buf + b->len - n;
}

void amqp_tbuf_free(amqp_tbuf *b)
{
    free(b->buf);
    memset(b, 0, sizeof *b);
}

amqp_table amqp_tbuf_done(const amqp_tbuf *b)
{
    return (amqp_table){b->buf, (uint32_t)b->len};
}

void amqp_tbuf_raw(amqp_tbuf *b, const void *p, size_t n)
{
    uint8_t *q = reserve(b, n);
    if (q && n)
        memcpy(q, p, n);
}

void amqp_tbuf_key(amqp_tbuf *b, const char *key)
{
    size_t n = strlen(key);
    uint8_t *q;
    if (n > 255)
        n = 255;
    if ((q = reserve(b, 1 + n))) {
        q[0] = (uint8_t)n;
        memcpy(q + 1, key, n);
    }
}

void amqp_tbuf_bool(amqp_tbuf *b, const char *key, bool v)
{
    amqp_value val = {.type = 't', .v.b = v};
    amqp_tbuf_value(b, key, &val);
}

void amqp_tbuf_long(amqp_tbuf *b, const char *key, int64_t v)
{
    amqp_value val = {.type = 'l', .v.i = v};
    amqp_tbuf_value(b, key, &val);
}

void amqp_tbuf_timestamp(amqp_tbuf *b, const char *key, uint64_t v)
{
    amqp_value val = {.type = 'T', .v.u = v};
    amqp_tbuf_value(b, key, &val);
}

void amqp_tbuf_str(amqp_tbuf *b, const char *key, amqp_str v)
{
    amqp_value val = {.type = 'S', .v.s = v};
    amqp_tbuf_value(b, key, &val);
}

void amqp_tbuf_table(amqp_tbuf *b, const char *key, amqp_table v)
{
    amqp_value val = {.type = 'F', .v.t = v};
    amqp_tbuf_value(b, key, &val);
}

void amqp_tbuf_array(amqp_tbuf *b, const char *key, amqp_array v)
{
    amqp_value val = {.type = 'A', .v.a = v};
    amqp_tbuf_value(b, key, &val);
}

void amqp_tbuf_value(amqp_tbuf *b, const char *key, const amqp_value *v)
{
    amqp_tbuf_key(b, key);
    amqp_tbuf_put_value(b, v);
}

void amqp_tbuf_put_value(amqp_tbuf *b, const amqp_value *v)
{
    uint8_t *q;
    uint32_t bits32;
    uint64_t bits64;

    switch (v->type) {
    case 't':
        if ((q = reserve(b, 2))) q[0] = 't', q[1] = v->v.b;
        break;
    case 'b':
        if ((q = reserve(b, 2))) q[0] = 'b', q[1] = (uint8_t)v->v.i;
        break;
    case 'B':
        if ((q = reserve(b, 2))) q[0] = 'B', q[1] = (uint8_t)v->v.u;
        break;
    case 's':
        if ((q = reserve(b, 3))) q[0] = 's', amqp_put16(q + 1, (uint16_t)v->v.i);
        break;
    case 'u':
        if ((q = reserve(b, 3))) q[0] = 'u', amqp_put16(q + 1, (uint16_t)v->v.u);
        break;
    case 'I':
        if ((q = reserve(b, 5))) q[0] = 'I', amqp_put32(q + 1, (uint32_t)v->v.i);
        break;
    case 'i':
        if ((q = reserve(b, 5))) q[0] = 'i', amqp_put32(q + 1, (uint32_t)v->v.u);
        break;
    case 'l':
        if ((q = reserve(b, 9))) q[0] = 'l', amqp_put64(q + 1, (uint64_t)v->v.i);
        break;
    case 'T':
        if ((q = reserve(b, 9))) q[0] = 'T', amqp_put64(q + 1, v->v.u);
        break;
    case 'f':
        memcpy(&bits32, &v->v.f, 4);
        if ((q = reserve(b, 5))) q[0] = 'f', amqp_put32(q + 1, bits32);
        break;
    case 'd':
        memcpy(&bits64, &v->v.d, 8);
        if ((q = reserve(b, 9))) q[0] = 'd', amqp_put64(q + 1, bits64);
        break;
    case 'D':
        if ((q = reserve(b, 6))) q[0] = 'D', q[1] = v->v.dec.scale, amqp_put32(q + 2, v->v.dec.value);
        break;
    case 'S':
    case 'x':
        if ((q = reserve(b, 5))) {
            q[0] = v->type;
            amqp_put32(q + 1, v->v.s.len);
            amqp_tbuf_raw(b, v->v.s.ptr, v->v.s.len);
        }
        break;
    case 'V':
        if ((q = reserve(b, 1))) q[0] = 'V';
        break;
    case 'F':
        if ((q = reserve(b, 5))) {
            q[0] = 'F';
            amqp_put32(q + 1, v->v.t.len);
            amqp_tbuf_raw(b, v->v.t.ptr, v->v.t.len);
        }
        break;
    case 'A':
        if ((q = reserve(b, 5))) {
            q[0] = 'A';
            amqp_put32(q + 1, v->v.a.len);
            amqp_tbuf_raw(b, v->v.a.ptr, v->v.a.len);
        }
        break;
    default:
        b->oom = true; /* refuse to write a type we cannot read back */
        break;
    }
}
