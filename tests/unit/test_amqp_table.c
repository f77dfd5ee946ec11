/*
 * test_amqp_table.c - field tables and arrays (table.h).
 *
 * Every field type RabbitMQ understands (t b B s u I i l f d D S x A T F V,
 * 's' being a signed short as in RabbitMQ's errata) is written with
 * amqp_tbuf_*, compared byte for byte with its wire form, and read back with
 * the iterators and amqp_table_get.  The malformed cases check that
 * validation refuses every table the readers could run off the end of.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "amqp_testutil.h"

static const char known_types[] = "tbBsuIilfdDSxATFV";

/* One value, its wire form (type octet first). */
struct typed {
    amqp_value v;
    const char *hex;
};

static const struct typed every_type[] = {
    {{.type = 't', .v.b = true}, "74 01"},
    {{.type = 't', .v.b = false}, "74 00"},
    {{.type = 'b', .v.i = -128}, "62 80"},
    {{.type = 'b', .v.i = 127}, "62 7f"},
    {{.type = 'B', .v.u = 255}, "42 ff"},
    {{.type = 's', .v.i = -2}, "73 fffe"},
    {{.type = 's', .v.i = INT16_MIN}, "73 8000"},
    {{.type = 'u', .v.u = 65535}, "75 ffff"},
    {{.type = 'I', .v.i = -1}, "49 ffffffff"},
    {{.type = 'I', .v.i = INT32_MIN}, "49 80000000"},
    {{.type = 'i', .v.u = UINT32_MAX}, "69 ffffffff"},
    {{.type = 'l', .v.i = INT64_MIN}, "6c 8000000000000000"},
    {{.type = 'l', .v.i = -2}, "6c fffffffffffffffe"},
    {{.type = 'f', .v.f = 1.5f}, "66 3fc00000"},
    {{.type = 'd', .v.d = -2.25}, "64 c002000000000000"},
    {{.type = 'D', .v.dec = {2, 12345}}, "44 02 00003039"},
    {{.type = 'S', .v.s = {"hi", 2}}, "53 00000002 6869"},
    {{.type = 'S', .v.s = {"", 0}}, "53 00000000"},
    {{.type = 'x', .v.s = {"\0\xff", 2}}, "78 00000002 00ff"},
    {{.type = 'T', .v.u = 1700000000}, "54 000000006553f100"},
    {{.type = 'V'}, "56"},
    {{.type = 'F', .v.t = {NULL, 0}}, "46 00000000"},
    {{.type = 'F', .v.t = {(const uint8_t *)"\x01\x61\x74\x01", 4}}, "46 00000004 0161 7401"},
    /* not {NULL, 0}: amqp_value_eq passes the pointer to memcmp (see report) */
    {{.type = 'A', .v.a = {(const uint8_t *)"", 0}}, "41 00000000"},
    {{.type = 'A', .v.a = {(const uint8_t *)"\x62\x01\x56", 3}}, "41 00000003 6201 56"},
};
#define NTYPED (sizeof every_type / sizeof every_type[0])

/* Wrap one value as the table {"k": value}. */
static amqp_tbuf one_entry(const amqp_value *v)
{
    amqp_tbuf b = {0};
    amqp_tbuf_value(&b, "k", v);
    assert_false(b.oom);
    return b;
}

static void test_every_type_on_the_wire(void **state)
{
    (void)state;
    for (size_t i = 0; i < NTYPED; i++) {
        size_t n;
        uint8_t *want = tu_hex(every_type[i].hex, &n);
        amqp_tbuf b = one_entry(&every_type[i].v);
        amqp_table t = amqp_tbuf_done(&b);
        amqp_table_iter it;
        amqp_str key;
        amqp_value got;
        uint8_t *copy;

        /* key "k", then the value */
        assert_int_equal(t.len, 2 + n);
        assert_int_equal(t.ptr[0], 1);
        assert_int_equal(t.ptr[1], 'k');
        if (memcmp(t.ptr + 2, want, n) != 0)
            fail_msg("type %c: encoding differs from %s", every_type[i].v.type, every_type[i].hex);

        copy = tu_dup(t.ptr, t.len);
        t.ptr = copy;
        assert_int_equal(amqp_table_validate(copy, t.len, 0), AMQP_OK);
        assert_int_equal(amqp_table_count(t), 1);
        amqp_table_iter_init(&it, t);
        assert_int_equal(amqp_table_next(&it, &key, &got), 1);
        assert_true(amqp_str_eqc(key, "k"));
        assert_int_equal(got.type, every_type[i].v.type);
        if (!amqp_value_eq(&got, &every_type[i].v))
            fail_msg("type %c: value read back differs", got.type);
        assert_int_equal(amqp_table_next(&it, &key, &got), 0);
        assert_true(amqp_table_get(t, "k", &got));
        assert_true(amqp_value_eq(&got, &every_type[i].v));
        assert_false(amqp_table_get(t, "K", &got));

        /* the value alone */
        assert_int_equal(amqp_value_parse(want, n, &got, 0), (long)n);
        assert_true(amqp_value_eq(&got, &every_type[i].v));

        free(copy);
        free(want);
        amqp_tbuf_free(&b);
    }
}

/* Sign and width of each integer type as read from the wire. */
static void test_integer_types(void **state)
{
    static const struct {
        const char *hex;
        int64_t want;
    } cases[] = {
        {"62 ff", -1}, {"42 ff", 255}, {"73 fffe", -2}, {"75 fffe", 65534},
        {"49 ffffffff", -1}, {"69 ffffffff", 4294967295LL}, {"49 7fffffff", INT32_MAX},
        {"6c ffffffffffffffff", -1}, {"6c 7fffffffffffffff", INT64_MAX},
        {"54 000000006553f100", 1700000000}, {"73 8000", INT16_MIN}, {"75 8000", 32768},
    };
    static const char *not_ints[] = {"74 01", "66 3fc00000", "64 c002000000000000",
                                     "44 02 00003039", "53 00000001 31", "78 00000000",
                                     "41 00000000", "46 00000000", "56"};
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n;
        uint8_t *b = tu_hex(cases[i].hex, &n);
        amqp_value v;
        int64_t got = 0;
        assert_int_equal(amqp_value_parse(b, n, &v, 0), (long)n);
        assert_true(amqp_value_int(&v, &got));
        if (got != cases[i].want)
            fail_msg("%s read as %lld, want %lld", cases[i].hex, (long long)got, (long long)cases[i].want);
        free(b);
    }
    for (size_t i = 0; i < sizeof not_ints / sizeof not_ints[0]; i++) {
        size_t n;
        uint8_t *b = tu_hex(not_ints[i], &n);
        amqp_value v;
        int64_t got = 12345;
        assert_int_equal(amqp_value_parse(b, n, &v, 0), (long)n);
        assert_false(amqp_value_int(&v, &got));
        free(b);
    }
}

/* Exactly the 17 type octets are understood; all others are refused. */
static void test_type_octets(void **state)
{
    (void)state;
    for (int c = 0; c < 256; c++) {
        uint8_t buf[9] = {(uint8_t)c, 0, 0, 0, 0, 0, 0, 0, 0};
        uint8_t *copy = tu_dup(buf, sizeof buf);
        amqp_value v;
        long rc = amqp_value_parse(copy, sizeof buf, &v, 0);
        bool known = c != 0 && strchr(known_types, c) != NULL;
        if (known && rc <= 0)
            fail_msg("type '%c' refused: %ld", c, rc);
        if (!known && rc != AMQP_EFIELDTYPE)
            fail_msg("type octet 0x%02x accepted: %ld", c, rc);
        free(copy);
    }
}

static void test_all_types_table(void **state)
{
    static const char *keys[] = {"bool", "i8", "u8", "i16", "u16", "i32", "u32", "i64", "f32",
                                 "f64", "dec", "str", "bytes", "arr", "ts", "tbl", "void"};
    static const char types[] = "tbBsuIilfdDSxATFV";
    amqp_table t = tu_all_types_table();
    uint8_t *copy = tu_dup(t.ptr, t.len);
    amqp_table_iter it;
    amqp_array_iter ai;
    amqp_str key;
    amqp_value v, w;
    size_t i = 0;
    int64_t n;
    (void)state;

    t.ptr = copy;
    assert_int_equal(amqp_table_validate(t.ptr, t.len, 0), AMQP_OK);
    assert_int_equal(amqp_table_count(t), 17);
    amqp_table_iter_init(&it, t);
    while (amqp_table_next(&it, &key, &v)) {
        assert_true(i < 17);
        assert_true(amqp_str_eqc(key, keys[i]));
        assert_int_equal(v.type, types[i]);
        assert_true(amqp_table_get(t, keys[i], &w));
        assert_true(amqp_value_eq(&v, &w));
        i++;
    }
    assert_int_equal(i, 17);

    assert_true(amqp_table_get(t, "bool", &v) && v.v.b);
    assert_true(amqp_table_get(t, "i8", &v) && amqp_value_int(&v, &n) && n == -5);
    assert_true(amqp_table_get(t, "u8", &v) && amqp_value_int(&v, &n) && n == 250);
    assert_true(amqp_table_get(t, "i16", &v) && amqp_value_int(&v, &n) && n == -2);
    assert_true(amqp_table_get(t, "u16", &v) && amqp_value_int(&v, &n) && n == 65534);
    assert_true(amqp_table_get(t, "i32", &v) && amqp_value_int(&v, &n) && n == -100000);
    assert_true(amqp_table_get(t, "u32", &v) && amqp_value_int(&v, &n) && n == 4000000000LL);
    assert_true(amqp_table_get(t, "i64", &v) && amqp_value_int(&v, &n) && n == INT64_MIN + 1);
    assert_true(amqp_table_get(t, "f32", &v) && v.v.f == 1.5f);
    assert_true(amqp_table_get(t, "f64", &v) && v.v.d == -2.25);
    assert_true(amqp_table_get(t, "dec", &v) && v.v.dec.scale == 2 && v.v.dec.value == 12345);
    assert_true(amqp_table_get(t, "str", &v) && amqp_str_eqc(v.v.s, "hello"));
    assert_true(amqp_table_get(t, "bytes", &v) && v.v.s.len == 3 && !memcmp(v.v.s.ptr, "\0\xff\x01", 3));
    assert_true(amqp_table_get(t, "ts", &v) && amqp_value_int(&v, &n) && n == 1700000000);

    /* nested table: tbl = {x: false, nested: {deep: "y"}} */
    assert_true(amqp_table_get(t, "tbl", &v));
    assert_int_equal(amqp_table_count(v.v.t), 2);
    assert_true(amqp_table_get(v.v.t, "x", &w) && w.type == 't' && !w.v.b);
    assert_true(amqp_table_get(v.v.t, "nested", &w) && w.type == 'F');
    assert_true(amqp_table_get(w.v.t, "deep", &w) && amqp_str_eqc(w.v.s, "y"));

    /* array: ["a", 1, {deep: "y"}, [], void] */
    assert_true(amqp_table_get(t, "arr", &v));
    amqp_array_iter_init(&ai, v.v.a);
    assert_int_equal(amqp_array_next(&ai, &w), 1);
    assert_true(w.type == 'S' && amqp_str_eqc(w.v.s, "a"));
    assert_int_equal(amqp_array_next(&ai, &w), 1);
    assert_true(w.type == 'l' && w.v.i == 1);
    assert_int_equal(amqp_array_next(&ai, &w), 1);
    assert_true(w.type == 'F' && amqp_table_get(w.v.t, "deep", &v) && amqp_str_eqc(v.v.s, "y"));
    assert_int_equal(amqp_array_next(&ai, &w), 1);
    assert_true(w.type == 'A' && w.v.a.len == 0);
    {
        amqp_array_iter empty;
        amqp_value x;
        amqp_array_iter_init(&empty, w.v.a);
        assert_int_equal(amqp_array_next(&empty, &x), 0);
    }
    assert_int_equal(amqp_array_next(&ai, &w), 1);
    assert_int_equal(w.type, 'V');
    assert_int_equal(amqp_array_next(&ai, &w), 0);
    free(copy);
}

/* An array of one value of every type, read back in order. */
static void test_array_of_every_type(void **state)
{
    amqp_tbuf arr = {0}, tb = {0};
    amqp_array_iter it;
    amqp_value v;
    size_t i = 0;
    uint8_t *copy;
    (void)state;

    for (size_t k = 0; k < NTYPED; k++)
        amqp_tbuf_put_value(&arr, &every_type[k].v);
    assert_false(arr.oom);
    amqp_tbuf_array(&tb, "a", (amqp_array){arr.buf, (uint32_t)arr.len});
    copy = tu_dup(tb.buf, tb.len);
    assert_int_equal(amqp_table_validate(copy, tb.len, 0), AMQP_OK);
    assert_true(amqp_table_get((amqp_table){copy, (uint32_t)tb.len}, "a", &v));
    assert_int_equal(v.type, 'A');
    assert_int_equal(v.v.a.len, arr.len);
    amqp_array_iter_init(&it, v.v.a);
    while (amqp_array_next(&it, &v)) {
        assert_true(i < NTYPED);
        if (!amqp_value_eq(&v, &every_type[i].v))
            fail_msg("array element %zu (%c) differs", i, every_type[i].v.type);
        i++;
    }
    assert_int_equal(i, NTYPED);
    free(copy);
    amqp_tbuf_free(&arr);
    amqp_tbuf_free(&tb);
}

static void test_tbuf_helpers(void **state)
{
    amqp_tbuf b = {0}, inner = {0};
    size_t n;
    uint8_t *want;
    char longkey[300];
    amqp_value v;
    (void)state;

    assert_int_equal(amqp_tbuf_done(&b).len, 0);
    amqp_tbuf_bool(&inner, "t", true);
    amqp_tbuf_bool(&b, "b", false);
    amqp_tbuf_long(&b, "l", -3);
    amqp_tbuf_timestamp(&b, "T", 0x0102030405060708ull);
    amqp_tbuf_str(&b, "S", amqp_cstr("xy"));
    amqp_tbuf_table(&b, "F", amqp_tbuf_done(&inner));
    amqp_tbuf_array(&b, "A", (amqp_array){(const uint8_t *)"\x56", 1});
    amqp_tbuf_key(&b, "r");
    amqp_tbuf_raw(&b, "\x42\x07", 2);
    assert_false(b.oom);
    want = tu_hex("0162 7400"
                  " 016c 6c fffffffffffffffd"
                  " 0154 54 0102030405060708"
                  " 0153 53 00000002 7879"
                  " 0146 46 00000004 0174 7401"
                  " 0141 41 00000001 56"
                  " 0172 42 07", &n);
    assert_int_equal(b.len, n);
    assert_memory_equal(b.buf, want, n);
    assert_int_equal(amqp_table_validate(b.buf, b.len, 0), AMQP_OK);
    assert_int_equal(amqp_table_count(amqp_tbuf_done(&b)), 7);
    free(want);

    /* a key longer than a shortstr is cut to 255 bytes */
    memset(longkey, 'k', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = 0;
    amqp_tbuf_free(&b);
    amqp_tbuf_long(&b, longkey, 1);
    assert_int_equal(b.buf[0], 255);
    assert_int_equal(b.len, 1 + 255 + 9);
    assert_int_equal(amqp_table_validate(b.buf, b.len, 0), AMQP_OK);
    longkey[255] = 0;
    assert_true(amqp_table_get(amqp_tbuf_done(&b), longkey, &v));

    /* a value of unknown type is refused, and the buffer says so */
    amqp_tbuf_free(&b);
    assert_false(b.oom);
    v = (amqp_value){.type = 'L', .v.i = 1};
    amqp_tbuf_value(&b, "x", &v);
    assert_true(b.oom);
    amqp_tbuf_free(&b);
    assert_null(b.buf);
    assert_int_equal(b.len, 0);
    assert_false(b.oom);

    /* growth past the first allocation keeps earlier entries */
    for (int i = 0; i < 500; i++) {
        char k[16];
        snprintf(k, sizeof k, "key%d", i);
        amqp_tbuf_long(&b, k, i);
    }
    assert_false(b.oom);
    assert_int_equal(amqp_table_validate(b.buf, b.len, 0), AMQP_OK);
    assert_int_equal(amqp_table_count(amqp_tbuf_done(&b)), 500);
    assert_true(amqp_table_get(amqp_tbuf_done(&b), "key0", &v) && v.v.i == 0);
    assert_true(amqp_table_get(amqp_tbuf_done(&b), "key499", &v) && v.v.i == 499);
    amqp_tbuf_free(&b);
    amqp_tbuf_free(&inner);
}

static void test_equiv(void **state)
{
    amqp_tbuf a = {0}, b = {0}, za = {0}, zb = {0}, c = {0}, d = {0};
    amqp_table ta, tb;
    (void)state;

    amqp_tbuf_bool(&za, "p", true);
    amqp_tbuf_long(&za, "q", 2);
    amqp_tbuf_long(&zb, "q", 2);
    amqp_tbuf_bool(&zb, "p", true);

    amqp_tbuf_long(&a, "x", 1);
    amqp_tbuf_str(&a, "y", amqp_cstr("s"));
    amqp_tbuf_table(&a, "z", amqp_tbuf_done(&za));
    amqp_tbuf_table(&b, "z", amqp_tbuf_done(&zb)); /* nested, in another order */
    amqp_tbuf_long(&b, "x", 1);
    amqp_tbuf_str(&b, "y", amqp_cstr("s"));
    ta = amqp_tbuf_done(&a);
    tb = amqp_tbuf_done(&b);
    assert_false(amqp_table_eq(ta, tb));
    assert_true(amqp_table_equiv(ta, tb));
    assert_true(amqp_table_equiv(tb, ta));
    assert_true(amqp_table_equiv(ta, ta));
    assert_true(amqp_table_equiv((amqp_table){NULL, 0}, (amqp_table){NULL, 0}));
    assert_false(amqp_table_equiv(ta, (amqp_table){NULL, 0}));
    assert_false(amqp_table_equiv((amqp_table){NULL, 0}, ta));

    /* one more key */
    amqp_tbuf_raw(&c, a.buf, a.len);
    amqp_tbuf_bool(&c, "w", false);
    assert_false(amqp_table_equiv(ta, amqp_tbuf_done(&c)));
    assert_false(amqp_table_equiv(amqp_tbuf_done(&c), ta));

    /* same keys, one value differs */
    amqp_tbuf_long(&d, "x", 2);
    amqp_tbuf_str(&d, "y", amqp_cstr("s"));
    amqp_tbuf_table(&d, "z", amqp_tbuf_done(&za));
    assert_false(amqp_table_equiv(ta, amqp_tbuf_done(&d)));
    amqp_tbuf_free(&d);

    /* same number, other type */
    amqp_tbuf_value(&d, "x", &(amqp_value){.type = 'I', .v.i = 1});
    amqp_tbuf_str(&d, "y", amqp_cstr("s"));
    amqp_tbuf_table(&d, "z", amqp_tbuf_done(&za));
    assert_false(amqp_table_equiv(ta, amqp_tbuf_done(&d)));
    amqp_tbuf_free(&d);

    /* same keys, other names */
    amqp_tbuf_long(&d, "x", 1);
    amqp_tbuf_str(&d, "Y", amqp_cstr("s"));
    amqp_tbuf_table(&d, "z", amqp_tbuf_done(&za));
    assert_false(amqp_table_equiv(ta, amqp_tbuf_done(&d)));
    amqp_tbuf_free(&d);

    /* arrays are ordered */
    {
        amqp_tbuf e = {0}, f = {0};
        amqp_tbuf_array(&e, "a", (amqp_array){(const uint8_t *)"\x62\x01\x62\x02", 4});
        amqp_tbuf_array(&f, "a", (amqp_array){(const uint8_t *)"\x62\x02\x62\x01", 4});
        assert_false(amqp_table_equiv(amqp_tbuf_done(&e), amqp_tbuf_done(&f)));
        assert_true(amqp_table_equiv(amqp_tbuf_done(&e), amqp_tbuf_done(&e)));
        amqp_tbuf_free(&e);
        amqp_tbuf_free(&f);
    }

    /* every type, compared with itself and against every other value */
    for (size_t i = 0; i < NTYPED; i++)
        for (size_t j = 0; j < NTYPED; j++) {
            bool same = amqp_value_eq(&every_type[i].v, &every_type[j].v);
            if (same != (i == j))
                fail_msg("value_eq(%s, %s) is %d", every_type[i].hex, every_type[j].hex, same);
        }

    amqp_tbuf_free(&a);
    amqp_tbuf_free(&b);
    amqp_tbuf_free(&c);
    amqp_tbuf_free(&za);
    amqp_tbuf_free(&zb);
}

/* Duplicate keys: both are seen by the iterator, get finds the first. */
static void test_duplicate_keys(void **state)
{
    amqp_tbuf b = {0};
    amqp_table_iter it;
    amqp_str k;
    amqp_value v;
    (void)state;
    amqp_tbuf_long(&b, "k", 1);
    amqp_tbuf_long(&b, "k", 2);
    assert_int_equal(amqp_table_count(amqp_tbuf_done(&b)), 2);
    assert_true(amqp_table_get(amqp_tbuf_done(&b), "k", &v));
    assert_int_equal(v.v.i, 1);
    amqp_table_iter_init(&it, amqp_tbuf_done(&b));
    assert_int_equal(amqp_table_next(&it, &k, &v), 1);
    assert_int_equal(v.v.i, 1);
    assert_int_equal(amqp_table_next(&it, &k, &v), 1);
    assert_int_equal(v.v.i, 2);
    assert_int_equal(amqp_table_next(&it, &k, &v), 0);
    amqp_tbuf_free(&b);
}

static void expect_table(const char *hex, int status)
{
    size_t n;
    uint8_t *b = tu_hex(hex, &n);
    int rc = amqp_table_validate(b, n, 0);
    if (rc != status)
        fail_msg("table %s: got %d (%s), want %d", hex, rc, amqp_strerror(rc), status);
    free(b);
}

static void test_malformed_tables(void **state)
{
    (void)state;
    expect_table("", AMQP_OK);
    expect_table("00", AMQP_ETRUNC);                         /* empty key, no value */
    expect_table("00 56", AMQP_OK);                          /* empty key is legal */
    expect_table("01", AMQP_ETRUNC);
    expect_table("05 6162", AMQP_ETRUNC);                    /* key past the end */
    expect_table("ff 6162", AMQP_ETRUNC);
    expect_table("01 6b", AMQP_ETRUNC);                      /* no value */
    expect_table("01 6b 5a", AMQP_EFIELDTYPE);
    expect_table("01 6b 00", AMQP_EFIELDTYPE);
    expect_table("01 6b 4c 0000000000000001", AMQP_EFIELDTYPE);
    expect_table("01 6b 56 01 6c 5a", AMQP_EFIELDTYPE);      /* bad second entry */
    expect_table("01 6b 53 00000003 6162", AMQP_ETRUNC);     /* string past the end */
    expect_table("01 6b 53 ffffffff 6162", AMQP_ETRUNC);
    expect_table("01 6b 53 fffffffe", AMQP_ETRUNC);
    expect_table("01 6b 78 80000000 00", AMQP_ETRUNC);
    expect_table("01 6b 53 000000", AMQP_ETRUNC);            /* length cut short */
    expect_table("01 6b 46 00000010 0000", AMQP_ETRUNC);     /* nested table past the end */
    expect_table("01 6b 46 ffffffff", AMQP_ETRUNC);
    expect_table("01 6b 46 00000003 01 6b 5a", AMQP_EFIELDTYPE);
    expect_table("01 6b 46 00000002 05 6b", AMQP_ETRUNC);    /* key past the nested end */
    expect_table("01 6b 46 00000002 01 6b 56", AMQP_ETRUNC); /* nested value past its end */
    expect_table("01 6b 41 00000002 49 00", AMQP_ETRUNC);    /* array element cut short */
    expect_table("01 6b 41 00000001 5a", AMQP_EFIELDTYPE);
    expect_table("01 6b 41 00000009 56", AMQP_ETRUNC);
    expect_table("01 6b 41 00000005 53 00000005 41", AMQP_ETRUNC); /* string past array end */
    expect_table("01 6b 44 02 000030", AMQP_ETRUNC);
}

/* Every fixed-size and length-prefixed value cut at every length. */
static void test_truncated_values(void **state)
{
    (void)state;
    for (size_t i = 0; i < NTYPED; i++) {
        size_t n;
        uint8_t *b = tu_hex(every_type[i].hex, &n);
        for (size_t k = 0; k < n; k++) {
            uint8_t *cut = tu_dup(b, k);
            amqp_value v;
            long rc = amqp_value_parse(cut, k, &v, 0);
            if (rc != AMQP_ETRUNC)
                fail_msg("%s cut to %zu bytes: %ld", every_type[i].hex, k, rc);
            free(cut);
        }
        free(b);
    }
}

/* A prefix of a table validates only when it ends between two entries. */
static void test_table_prefixes(void **state)
{
    amqp_table t = tu_all_types_table();
    bool boundary[4096] = {false};
    amqp_table_iter it;
    amqp_str k;
    amqp_value v;
    (void)state;

    assert_true(t.len < sizeof boundary);
    boundary[0] = true;
    amqp_table_iter_init(&it, t);
    while (amqp_table_next(&it, &k, &v))
        boundary[it.p - t.ptr] = true;
    assert_true(boundary[t.len]);
    for (size_t n = 0; n <= t.len; n++) {
        uint8_t *cut = tu_dup(t.ptr, n);
        int rc = amqp_table_validate(cut, n, 0);
        if (rc != (boundary[n] ? AMQP_OK : AMQP_ETRUNC))
            fail_msg("prefix of %zu bytes: %d", n, rc);
        free(cut);
    }
}

/* {"n": C(C(...C(F{})...))} with `levels` containers, each an F table or
 * an A array as `pick` says. */
static amqp_tbuf nested(int levels, int pick)
{
    amqp_tbuf inner = {0}, out = {0};
    amqp_value v = {.type = 'F', .v.t = {NULL, 0}};

    for (int i = 1; i < levels; i++) {
        amqp_tbuf wrap = {0};
        bool array = (pick == 1) || (pick == 2 && i % 2);
        if (array) {
            amqp_tbuf_put_value(&wrap, &v);
            amqp_tbuf_free(&inner);
            inner = wrap;
            v = (amqp_value){.type = 'A', .v.a = {inner.buf, (uint32_t)inner.len}};
        } else {
            amqp_tbuf_value(&wrap, "n", &v);
            amqp_tbuf_free(&inner);
            inner = wrap;
            v = (amqp_value){.type = 'F', .v.t = {inner.buf, (uint32_t)inner.len}};
        }
        assert_false(wrap.oom);
    }
    amqp_tbuf_value(&out, "n", &v);
    amqp_tbuf_free(&inner);
    return out;
}

/* Walk every table and array below t; returns the deepest level seen. */
static int walk(amqp_value *v, int level)
{
    int deepest = level;
    if (v->type == 'F') {
        amqp_table_iter it;
        amqp_str k;
        amqp_value x;
        amqp_table_iter_init(&it, v->v.t);
        while (amqp_table_next(&it, &k, &x)) {
            int d = walk(&x, level + 1);
            deepest = d > deepest ? d : deepest;
        }
    } else if (v->type == 'A') {
        amqp_array_iter it;
        amqp_value x;
        amqp_array_iter_init(&it, v->v.a);
        while (amqp_array_next(&it, &x)) {
            int d = walk(&x, level + 1);
            deepest = d > deepest ? d : deepest;
        }
    }
    return deepest;
}

static void test_nesting_depth(void **state)
{
    (void)state;
    for (int pick = 0; pick < 3; pick++) {
        amqp_tbuf ok = nested(AMQP_TABLE_DEPTH, pick);
        amqp_tbuf deep = nested(AMQP_TABLE_DEPTH + 1, pick);
        amqp_tbuf very = nested(2000, pick);
        amqp_table t = amqp_tbuf_done(&ok);
        amqp_value top = {.type = 'F', .v.t = t};

        assert_int_equal(amqp_table_validate(ok.buf, ok.len, 0), AMQP_OK);
        assert_int_equal(walk(&top, 0), AMQP_TABLE_DEPTH);
        assert_true(amqp_table_equiv(t, t));
        assert_int_equal(amqp_table_validate(deep.buf, deep.len, 0), AMQP_ENESTING);
        assert_int_equal(amqp_table_validate(very.buf, very.len, 0), AMQP_ENESTING);
        /* a table that is itself nested starts deeper */
        assert_int_equal(amqp_table_validate(ok.buf, ok.len, 1), AMQP_ENESTING);
        amqp_tbuf_free(&ok);
        amqp_tbuf_free(&deep);
        amqp_tbuf_free(&very);
    }
    /* and a method refuses such a table */
    {
        amqp_tbuf deep = nested(AMQP_TABLE_DEPTH + 1, 0);
        amqp_queue_declare m = {0};
        amqp_method_args out;
        uint8_t *buf;
        size_t n;
        m.queue = amqp_cstr("q");
        m.arguments = amqp_tbuf_done(&deep);
        n = amqp_method_size(AMQP_QUEUE_DECLARE, &m);
        buf = malloc(n);
        assert_non_null(buf);
        amqp_method_encode(AMQP_QUEUE_DECLARE, &m, buf);
        assert_int_equal(amqp_method_decode(AMQP_QUEUE_DECLARE, buf, n, &out), AMQP_ENESTING);
        free(buf);
        amqp_tbuf_free(&deep);
    }
}

static void test_strerror(void **state)
{
    static const int all[] = {AMQP_OK, AMQP_ETRUNC, AMQP_ETRAILING, AMQP_EFIELDTYPE,
                              AMQP_ENESTING, AMQP_EFRAMEEND, AMQP_EFRAMESIZE, AMQP_EFRAMETYPE,
                              AMQP_EMETHOD, AMQP_ENOSPACE, AMQP_EPROPFLAGS, AMQP_ECLASS,
                              AMQP_EUTF8};
    const char *unknown = amqp_strerror(-1000);
    (void)state;
    assert_non_null(unknown);
    assert_string_equal(amqp_strerror(1), unknown);
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        const char *s = amqp_strerror(all[i]);
        assert_non_null(s);
        assert_string_not_equal(s, unknown);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(s, amqp_strerror(all[j]));
    }
}

/* amqp_type_class: the integers (a timestamp among them), the floats and
 * the strings each compare as one class; every other type is its own. */
static void test_type_class(void **state)
{
    (void)state;
    for (const char *t = "bBsuIilT"; *t; t++)
        assert_int_equal(amqp_type_class((uint8_t)*t), AMQP_CLASS_INT);
    assert_int_equal(amqp_type_class('f'), AMQP_CLASS_FLOAT);
    assert_int_equal(amqp_type_class('d'), AMQP_CLASS_FLOAT);
    assert_int_equal(amqp_type_class('S'), AMQP_CLASS_STRING);
    assert_int_equal(amqp_type_class('x'), AMQP_CLASS_STRING);
    for (const char *t = "tDFAV"; *t; t++)
        assert_int_equal(amqp_type_class((uint8_t)*t), (uint8_t)*t);
}

#define V_INT(t, n) ((amqp_value){.type = t, .v.i = (n)})
#define V_UNS(t, n) ((amqp_value){.type = t, .v.u = (n)})

/* Equivalence (queue.declare, checked on RabbitMQ 3.10): every integer type
 * with the same value, a timestamp included; f and d by value; S and x by
 * bytes; an integer never equals a float. */
static void test_value_equiv(void **state)
{
    amqp_value i5 = V_INT('I', 5), l5 = V_INT('l', 5), b5 = V_INT('b', 5), u5 = V_UNS('u', 5),
               t5 = V_UNS('T', 5), t6 = V_UNS('T', 6), lm1 = V_INT('l', -1), tmax = V_UNS('T', UINT64_MAX),
               d5 = {.type = 'd', .v.d = 5.0}, f5 = {.type = 'f', .v.f = 5.0f},
               s = {.type = 'S', .v.s = {"ab", 2}}, x = {.type = 'x', .v.s = {"ab", 2}},
               x2 = {.type = 'x', .v.s = {"ac", 2}}, yes = {.type = 't', .v.b = true},
               one = V_INT('b', 1), dec = {.type = 'D', .v.dec = {0, 5}};
    (void)state;
    assert_true(amqp_value_equiv(&i5, &l5));
    assert_true(amqp_value_equiv(&l5, &b5));
    assert_true(amqp_value_equiv(&i5, &u5));
    assert_true(amqp_value_equiv(&i5, &t5));
    assert_true(amqp_value_equiv(&t5, &l5));
    assert_false(amqp_value_equiv(&t6, &l5));
    assert_false(amqp_value_equiv(&tmax, &lm1));
    assert_false(amqp_value_equiv(&lm1, &tmax));
    assert_true(amqp_value_equiv(&tmax, &tmax));
    assert_true(amqp_value_equiv(&d5, &f5));
    assert_false(amqp_value_equiv(&i5, &d5));
    assert_false(amqp_value_equiv(&d5, &i5));
    assert_true(amqp_value_equiv(&s, &x));
    assert_false(amqp_value_equiv(&s, &x2));
    assert_false(amqp_value_equiv(&yes, &one));
    assert_false(amqp_value_equiv(&dec, &i5));
    assert_false(amqp_value_equiv(&s, &i5));
}

/* The headers exchange's match (RabbitMQ 3.10): equivalence, and besides
 * an integer equals a float of exactly its value. */
static void test_value_match(void **state)
{
    amqp_value i5 = V_INT('I', 5), t5 = V_UNS('T', 5), d5 = {.type = 'd', .v.d = 5.0},
               d55 = {.type = 'd', .v.d = 5.5}, f7 = {.type = 'f', .v.f = 7.0f}, i7 = V_INT('I', 7),
               big = V_INT('l', (1LL << 53) + 1), dbig = {.type = 'd', .v.d = 0x1p53},
               tmax = V_UNS('T', UINT64_MAX), d64 = {.type = 'd', .v.d = 0x1p64},
               t63 = V_UNS('T', 1ULL << 63), d63 = {.type = 'd', .v.d = 0x1p63},
               lmin = V_INT('l', INT64_MIN), dmin = {.type = 'd', .v.d = -0x1p63},
               s5 = {.type = 'S', .v.s = {"5", 1}}, yes = {.type = 't', .v.b = true}, one = V_INT('I', 1);
    (void)state;
    assert_true(amqp_value_match(&i5, &t5));
    assert_true(amqp_value_match(&t5, &i5));
    assert_true(amqp_value_match(&i5, &d5));
    assert_true(amqp_value_match(&d5, &i5));
    assert_true(amqp_value_match(&t5, &d5));
    assert_true(amqp_value_match(&i7, &f7));
    assert_false(amqp_value_match(&i5, &d55));
    assert_false(amqp_value_match(&d55, &i5));
    assert_false(amqp_value_match(&big, &dbig));
    assert_false(amqp_value_match(&tmax, &d64));
    assert_true(amqp_value_match(&t63, &d63));
    assert_true(amqp_value_match(&lmin, &dmin));
    assert_false(amqp_value_match(&s5, &i5));
    assert_false(amqp_value_match(&yes, &one));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_type_on_the_wire),
        cmocka_unit_test(test_integer_types),
        cmocka_unit_test(test_type_octets),
        cmocka_unit_test(test_all_types_table),
        cmocka_unit_test(test_array_of_every_type),
        cmocka_unit_test(test_tbuf_helpers),
        cmocka_unit_test(test_equiv),
        cmocka_unit_test(test_duplicate_keys),
        cmocka_unit_test(test_malformed_tables),
        cmocka_unit_test(test_truncated_values),
        cmocka_unit_test(test_table_prefixes),
        cmocka_unit_test(test_nesting_depth),
        cmocka_unit_test(test_strerror),
        cmocka_unit_test(test_type_class),
        cmocka_unit_test(test_value_equiv),
        cmocka_unit_test(test_value_match),
    };
    return cmocka_run_group_tests_name("amqp_table", tests, NULL, NULL);
}
