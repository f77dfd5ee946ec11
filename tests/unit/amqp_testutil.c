/*
 * amqp_testutil.c - reflection-driven fill/compare helpers; see amqp_testutil.h.
 */
#include "amqp_testutil.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TU_BIG 70000

/* Backing bytes for every string a fill produces: a pattern that contains
 * 0x00 and 0xFF, so a decoder that stops at a NUL or sign-extends shows. */
static uint8_t pattern[TU_BIG + 256];
static bool pattern_ready;
/* Shortstrs of methods must be UTF-8 (the decoders check, as RabbitMQ):
 * theirs are 7-bit, NUL and DEL included. */
static uint8_t text_pattern[512];

static const uint8_t *pattern_bytes(void)
{
    if (!pattern_ready) {
        for (size_t i = 0; i < sizeof pattern; i++)
            pattern[i] = (uint8_t)(i * 7 + 3);
        for (size_t i = 0; i < sizeof text_pattern; i++)
            text_pattern[i] = (uint8_t)(i * 7 + 3) & 0x7f;
        pattern_ready = true;
    }
    return pattern;
}

static uint32_t xorshift(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

/* --- tables --- */

static amqp_tbuf all_types, small_tables[4];
static bool tables_ready;

static void build_tables(void)
{
    amqp_tbuf deep = {0}, inner = {0}, arr = {0}, empty_arr = {0};
    amqp_value v;

    if (tables_ready)
        return;
    amqp_tbuf_str(&deep, "deep", amqp_cstr("y"));
    amqp_tbuf_bool(&inner, "x", false);
    amqp_tbuf_table(&inner, "nested", amqp_tbuf_done(&deep));

    v = (amqp_value){.type = 'S', .v.s = amqp_cstr("a")};
    amqp_tbuf_put_value(&arr, &v);
    v = (amqp_value){.type = 'l', .v.i = 1};
    amqp_tbuf_put_value(&arr, &v);
    v = (amqp_value){.type = 'F', .v.t = amqp_tbuf_done(&deep)};
    amqp_tbuf_put_value(&arr, &v);
    v = (amqp_value){.type = 'A', .v.a = {empty_arr.buf, 0}};
    amqp_tbuf_put_value(&arr, &v);
    v = (amqp_value){.type = 'V'};
    amqp_tbuf_put_value(&arr, &v);

    amqp_tbuf *b = &all_types;
    amqp_tbuf_bool(b, "bool", true);
    amqp_tbuf_value(b, "i8", &(amqp_value){.type = 'b', .v.i = -5});
    amqp_tbuf_value(b, "u8", &(amqp_value){.type = 'B', .v.u = 250});
    amqp_tbuf_value(b, "i16", &(amqp_value){.type = 's', .v.i = -2});
    amqp_tbuf_value(b, "u16", &(amqp_value){.type = 'u', .v.u = 65534});
    amqp_tbuf_value(b, "i32", &(amqp_value){.type = 'I', .v.i = -100000});
    amqp_tbuf_value(b, "u32", &(amqp_value){.type = 'i', .v.u = 4000000000u});
    amqp_tbuf_long(b, "i64", INT64_MIN + 1);
    amqp_tbuf_value(b, "f32", &(amqp_value){.type = 'f', .v.f = 1.5f});
    amqp_tbuf_value(b, "f64", &(amqp_value){.type = 'd', .v.d = -2.25});
    amqp_tbuf_value(b, "dec", &(amqp_value){.type = 'D', .v.dec = {2, 12345}});
    amqp_tbuf_str(b, "str", amqp_cstr("hello"));
    amqp_tbuf_value(b, "bytes", &(amqp_value){.type = 'x', .v.s = {"\x00\xff\x01", 3}});
    amqp_tbuf_array(b, "arr", (amqp_array){arr.buf, (uint32_t)arr.len});
    amqp_tbuf_timestamp(b, "ts", 1700000000u);
    amqp_tbuf_table(b, "tbl", amqp_tbuf_done(&inner));
    amqp_tbuf_value(b, "void", &(amqp_value){.type = 'V'});

    amqp_tbuf_long(&small_tables[1], "k", 42);
    amqp_tbuf_str(&small_tables[2], "x-queue-type", amqp_cstr("classic"));
    amqp_tbuf_long(&small_tables[2], "x-max-priority", 10);
    amqp_tbuf_table(&small_tables[3], "empty", (amqp_table){NULL, 0});

    /* the buffers referenced above were copied; the built tables own theirs */
    amqp_tbuf_free(&deep);
    amqp_tbuf_free(&inner);
    amqp_tbuf_free(&arr);
    if (all_types.oom || small_tables[1].oom || small_tables[2].oom || small_tables[3].oom) {
        fprintf(stderr, "amqp_testutil: out of memory building tables\n");
        abort();
    }
    tables_ready = true;
}

amqp_table tu_all_types_table(void)
{
    build_tables();
    return amqp_tbuf_done(&all_types);
}

/* --- fill and compare --- */

static amqp_str pick_str(uint32_t len, uint32_t off)
{
    return (amqp_str){(const char *)pattern_bytes() + off % 256, len};
}

void tu_fill(const amqp_field_info *f, size_t n, void *s, unsigned variant, uint32_t bits)
{
    uint32_t seed = variant * 2654435761u + 12345;
    unsigned bit = 0;

    build_tables();
    for (size_t i = 0; i < n; i++) {
        uint8_t *at = (uint8_t *)s + f[i].offset;
        const char *t = f[i].type;
        uint64_t r = (uint64_t)xorshift(&seed) << 32 | xorshift(&seed);
        uint64_t num = variant == TU_ZERO ? 0 : variant <= TU_HUGE ? UINT64_MAX : r;

        if (!strcmp(t, "bit")) {
            *(bool *)at = (bits >> bit++) & 1;
        } else if (!strcmp(t, "octet")) {
            *at = (uint8_t)num;
        } else if (!strcmp(t, "short")) {
            uint16_t v = (uint16_t)num;
            memcpy(at, &v, sizeof v);
        } else if (!strcmp(t, "long")) {
            uint32_t v = (uint32_t)num;
            memcpy(at, &v, sizeof v);
        } else if (!strcmp(t, "longlong") || !strcmp(t, "timestamp")) {
            memcpy(at, &num, sizeof num);
        } else if (!strcmp(t, "shortstr")) {
            uint32_t len = variant == TU_ZERO ? 0 : variant <= TU_HUGE ? 255 : (uint32_t)(r % 256);
            amqp_str v = {(const char *)text_pattern + (uint32_t)(r >> 40) % 256, len};
            memcpy(at, &v, sizeof v);
        } else if (!strcmp(t, "longstr")) {
            uint32_t len = variant == TU_ZERO ? 0 : variant == TU_MAX ? 300
                         : variant == TU_HUGE ? TU_BIG : (uint32_t)(r % 301);
            amqp_str v = pick_str(len, (uint32_t)(r >> 40));
            memcpy(at, &v, sizeof v);
        } else if (!strcmp(t, "table")) {
            amqp_table v;
            if (variant == TU_ZERO)
                v = (amqp_table){NULL, 0};
            else if (variant <= TU_HUGE || r % 5 == 4)
                v = amqp_tbuf_done(&all_types);
            else
                v = amqp_tbuf_done(&small_tables[r % 4]);
            memcpy(at, &v, sizeof v);
        } else {
            fprintf(stderr, "amqp_testutil: unknown field type %s\n", t);
            abort();
        }
    }
}

int tu_diff(const amqp_field_info *f, size_t n, const void *a, const void *b)
{
    for (size_t i = 0; i < n; i++) {
        const uint8_t *pa = (const uint8_t *)a + f[i].offset;
        const uint8_t *pb = (const uint8_t *)b + f[i].offset;
        const char *t = f[i].type;
        bool same;

        if (!strcmp(t, "bit")) {
            same = *(const bool *)pa == *(const bool *)pb;
        } else if (!strcmp(t, "octet")) {
            same = *pa == *pb;
        } else if (!strcmp(t, "short")) {
            same = memcmp(pa, pb, 2) == 0;
        } else if (!strcmp(t, "long")) {
            same = memcmp(pa, pb, 4) == 0;
        } else if (!strcmp(t, "longlong") || !strcmp(t, "timestamp")) {
            same = memcmp(pa, pb, 8) == 0;
        } else if (!strcmp(t, "shortstr") || !strcmp(t, "longstr")) {
            amqp_str sa, sb;
            memcpy(&sa, pa, sizeof sa);
            memcpy(&sb, pb, sizeof sb);
            same = amqp_str_eq(sa, sb);
        } else if (!strcmp(t, "table")) {
            amqp_table ta, tb;
            memcpy(&ta, pa, sizeof ta);
            memcpy(&tb, pb, sizeof tb);
            same = amqp_table_eq(ta, tb);
        } else {
            same = false;
        }
        if (!same)
            return (int)i;
    }
    return -1;
}

size_t tu_field_size(const amqp_field_info *f, const void *s)
{
    const uint8_t *at = (const uint8_t *)s + f->offset;
    const char *t = f->type;
    amqp_str str;

    if (!strcmp(t, "octet") || !strcmp(t, "bit"))
        return 1;
    if (!strcmp(t, "short"))
        return 2;
    if (!strcmp(t, "long"))
        return 4;
    if (!strcmp(t, "longlong") || !strcmp(t, "timestamp"))
        return 8;
    memcpy(&str, at, sizeof str); /* amqp_table has the same layout */
    if (!strcmp(t, "shortstr"))
        return 1 + (size_t)str.len;
    return 4 + (size_t)str.len;
}

unsigned tu_bit_count(const amqp_field_info *f, size_t n)
{
    unsigned k = 0;
    for (size_t i = 0; i < n; i++)
        k += !strcmp(f[i].type, "bit");
    return k;
}

const amqp_method_info *tu_method(uint32_t id)
{
    for (size_t i = 0; i < amqp_method_count; i++)
        if (amqp_methods[i].id == id)
            return &amqp_methods[i];
    return NULL;
}

uint8_t *tu_dup(const void *p, size_t n)
{
    /* malloc(0) gives a zero-byte region under ASan: any read is reported */
    uint8_t *q = malloc(n);
    if (!q && !(q = malloc(1))) {
        fprintf(stderr, "amqp_testutil: out of memory\n");
        abort();
    }
    if (n)
        memcpy(q, p, n);
    return q;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

uint8_t *tu_hex(const char *hex, size_t *n)
{
    size_t digits = 0, k = 0;
    uint8_t *out;

    for (const char *c = hex; *c; c++)
        if (*c != ' ' && *c != '\n')
            digits++;
    if (digits % 2) {
        fprintf(stderr, "amqp_testutil: odd hex string %s\n", hex);
        abort();
    }
    out = malloc(digits / 2 ? digits / 2 : 1);
    if (!out)
        abort();
    for (const char *c = hex; *c; c++) {
        int hi, lo;
        if (*c == ' ' || *c == '\n')
            continue;
        hi = hexval(c[0]);
        lo = c[1] ? hexval(c[1]) : -1;
        if (hi < 0 || lo < 0) {
            fprintf(stderr, "amqp_testutil: bad hex string %s\n", hex);
            abort();
        }
        out[k++] = (uint8_t)(hi << 4 | lo);
        c++;
    }
    *n = k;
    return out;
}

/* --- walking --- */

_Noreturn void tu_fail(const char *what, const char *file, int line)
{
    fprintf(stderr, "%s:%d: check failed: %s\n", file, line, what);
    abort();
}

static size_t walk_value(const amqp_value *v);

static size_t walk_array(amqp_array a)
{
    amqp_array_iter it;
    amqp_value v;
    size_t n = 0;

    amqp_array_iter_init(&it, a);
    while (amqp_array_next(&it, &v))
        n += walk_value(&v);
    TU_CHECK(it.p == a.ptr + a.len);
    return n;
}

static size_t walk_value(const amqp_value *v)
{
    int64_t i;
    bool is_int = strchr("bBsuIilT", v->type) != NULL;

    TU_CHECK(v->type != 0 && strchr("tbBsuIilfdDSxATFV", v->type) != NULL);
    TU_CHECK(amqp_value_int(v, &i) == is_int);
    TU_CHECK(amqp_value_eq(v, v));
    if (v->type == 'F')
        return 1 + tu_walk_table(v->v.t);
    if (v->type == 'A')
        return 1 + walk_array(v->v.a);
    return 1;
}

size_t tu_walk_table(amqp_table t)
{
    amqp_table_iter it;
    amqp_str key;
    amqp_value v, w;
    size_t n = 0, entries = 0;
    char name[256];

    amqp_table_iter_init(&it, t);
    while (amqp_table_next(&it, &key, &v)) {
        TU_CHECK(key.len <= 255);
        TU_CHECK((const uint8_t *)key.ptr > t.ptr && (const uint8_t *)key.ptr + key.len <= t.ptr + t.len);
        memcpy(name, key.ptr, key.len);
        name[key.len] = 0;
        /* get finds an entry of this name (the first, if the name repeats) */
        if (strlen(name) == key.len) {
            TU_CHECK(amqp_table_get(t, name, &w));
        }
        n += walk_value(&v);
        entries++;
    }
    TU_CHECK(it.p == t.ptr + t.len);
    TU_CHECK(amqp_table_count(t) == entries);
    TU_CHECK(amqp_table_equiv(t, t));
    return n;
}
