/*
 * test_amqp_props.c - basic-class content properties and content headers.
 *
 * Properties are present or absent by their bit in the property-flags word
 * (content_type is bit 15, cluster_id bit 2, bit 0 says another flag word
 * follows).  The tests set each flag alone, all of them and none, through
 * amqp_basic_property_fields[] so that each property's wire type is checked
 * against its position, and anchor the layout with hand-written headers.
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

#define NPROPS amqp_basic_property_count
#define ALL_FLAGS ((uint16_t)(0xFFFFu << (16 - amqp_basic_property_count)))

static uint16_t flag_of(size_t i)
{
    return (uint16_t)(1u << (15 - i));
}

/* Bytes a field of the given spec type takes in its struct. */
static size_t storage(const char *type)
{
    if (!strcmp(type, "octet"))
        return 1;
    if (!strcmp(type, "timestamp"))
        return 8;
    return sizeof(amqp_str); /* shortstr; a table has the same layout */
}

/* Fill the properties whose flag is in `flags`; leave the others zero. */
static void fill(amqp_basic_properties *m, uint16_t flags, unsigned variant)
{
    amqp_basic_properties all;

    memset(&all, 0, sizeof all);
    tu_fill(amqp_basic_property_fields, NPROPS, &all, variant, 0);
    memset(m, 0, sizeof *m);
    for (size_t i = 0; i < NPROPS; i++) {
        const amqp_field_info *f = &amqp_basic_property_fields[i];
        if (flags & flag_of(i))
            memcpy((uint8_t *)m + f->offset, (uint8_t *)&all + f->offset, storage(f->type));
    }
    m->flags = flags;
}

static uint8_t *encode(const amqp_basic_properties *m, size_t *len)
{
    size_t n = amqp_basic_properties_size(m);
    uint8_t *buf = malloc(n);
    assert_non_null(buf);
    assert_ptr_equal(amqp_basic_properties_encode(buf, m), buf + n);
    *len = n;
    return buf;
}

static void check_same(const amqp_basic_properties *a, const amqp_basic_properties *b)
{
    int d;
    assert_int_equal(a->flags, b->flags);
    d = tu_diff(amqp_basic_property_fields, NPROPS, a, b);
    if (d >= 0)
        fail_msg("flags 0x%04x: property %s differs", a->flags, amqp_basic_property_fields[d].name);
}

/* Round trip, size and truncation for one set of flags. */
static void roundtrip(uint16_t flags, unsigned variant)
{
    amqp_basic_properties in, out;
    uint8_t *buf;
    size_t len, want = 2;

    fill(&in, flags, variant);
    for (size_t i = 0; i < NPROPS; i++)
        if (flags & flag_of(i))
            want += tu_field_size(&amqp_basic_property_fields[i], &in);
    buf = encode(&in, &len);
    assert_int_equal(len, want);
    assert_int_equal(amqp_get16(buf), flags);
    memset(&out, 0x77, sizeof out);
    assert_int_equal(amqp_basic_properties_decode(buf, len, &out), AMQP_OK);
    check_same(&in, &out);

    for (size_t k = 0; k < len; k++) {
        uint8_t *cut;
        int rc;
        if (len > 2048 && k > 1024 && k < len - 1024 && k % 997)
            continue;
        cut = tu_dup(buf, k);
        rc = amqp_basic_properties_decode(cut, k, &out);
        if (rc != AMQP_ETRUNC)
            fail_msg("flags 0x%04x: %zu of %zu bytes gave %d", flags, k, len, rc);
        free(cut);
    }
    {
        uint8_t *longer = malloc(len + 1);
        assert_non_null(longer);
        memcpy(longer, buf, len);
        longer[len] = 0;
        assert_int_equal(amqp_basic_properties_decode(longer, len + 1, &out), AMQP_ETRAILING);
        free(longer);
    }
    free(buf);
}

static void test_property_table(void **state)
{
    static const char *names[] = {"content_type", "content_encoding", "headers", "delivery_mode",
                                  "priority", "correlation_id", "reply_to", "expiration",
                                  "message_id", "timestamp", "type", "user_id", "app_id",
                                  "cluster_id"};
    static const char *types[] = {"shortstr", "shortstr", "table", "octet", "octet", "shortstr",
                                  "shortstr", "shortstr", "shortstr", "timestamp", "shortstr",
                                  "shortstr", "shortstr", "shortstr"};
    (void)state;
    assert_int_equal(NPROPS, 14);
    for (size_t i = 0; i < NPROPS; i++) {
        assert_string_equal(amqp_basic_property_fields[i].name, names[i]);
        assert_string_equal(amqp_basic_property_fields[i].type, types[i]);
    }
    assert_int_equal(AMQP_BASIC_CONTENT_TYPE_FLAG, 0x8000);
    assert_int_equal(AMQP_BASIC_HEADERS_FLAG, 0x2000);
    assert_int_equal(AMQP_BASIC_DELIVERY_MODE_FLAG, 0x1000);
    assert_int_equal(AMQP_BASIC_TIMESTAMP_FLAG, 0x0040);
    assert_int_equal(AMQP_BASIC_CLUSTER_ID_FLAG, 0x0004);
}

static void test_no_properties(void **state)
{
    amqp_basic_properties in, out;
    uint8_t *buf;
    size_t len;
    (void)state;
    fill(&in, 0, TU_MAX);
    buf = encode(&in, &len);
    assert_int_equal(len, 2);
    assert_int_equal(buf[0], 0);
    assert_int_equal(buf[1], 0);
    assert_int_equal(amqp_basic_properties_decode(buf, len, &out), AMQP_OK);
    check_same(&in, &out);
    free(buf);
    roundtrip(0, TU_ZERO);
}

static void test_each_property_alone(void **state)
{
    (void)state;
    for (size_t i = 0; i < NPROPS; i++)
        for (unsigned v = TU_ZERO; v < TU_RANDOM + 4; v++)
            roundtrip(flag_of(i), v);
}

static void test_all_properties(void **state)
{
    (void)state;
    for (unsigned v = TU_ZERO; v < TU_RANDOM + 8; v++)
        roundtrip(ALL_FLAGS, v);
}

static void test_property_subsets(void **state)
{
    (void)state;
    for (unsigned v = 0; v < 64; v++) {
        uint16_t flags = (uint16_t)((v * 0x9E3779B9u) >> 16) & ALL_FLAGS;
        roundtrip(flags, TU_RANDOM + v);
    }
}

/* Unused flag bits are refused; bit 0 announces another flag word, which
 * may only carry a further continuation bit. */
static void test_flag_words(void **state)
{
    amqp_basic_properties out;
    size_t n;
    uint8_t *b;
    (void)state;

    b = tu_hex("0002", &n);
    assert_int_equal(amqp_basic_properties_decode(b, n, &out), AMQP_EPROPFLAGS);
    free(b);

    b = tu_hex("8001 0000 03 616263", &n);
    assert_int_equal(amqp_basic_properties_decode(b, n, &out), AMQP_OK);
    assert_int_equal(out.flags, AMQP_BASIC_CONTENT_TYPE_FLAG);
    assert_true(amqp_str_eqc(out.content_type, "abc"));
    free(b);

    b = tu_hex("0001 0001 0000", &n);
    assert_int_equal(amqp_basic_properties_decode(b, n, &out), AMQP_OK);
    assert_int_equal(out.flags, 0);
    free(b);

    b = tu_hex("0001 8000 03 616263", &n);
    assert_int_equal(amqp_basic_properties_decode(b, n, &out), AMQP_EPROPFLAGS);
    free(b);

    b = tu_hex("0001 0001", &n);
    assert_int_equal(amqp_basic_properties_decode(b, n, &out), AMQP_ETRUNC);
    free(b);

    b = tu_hex("0001 00", &n);
    assert_int_equal(amqp_basic_properties_decode(b, n, &out), AMQP_ETRUNC);
    free(b);

    b = tu_hex("00", &n);
    assert_int_equal(amqp_basic_properties_decode(b, n, &out), AMQP_ETRUNC);
    free(b);

    /* the encoder writes a single flag word whatever bit 0 of flags says */
    {
        amqp_basic_properties in;
        uint8_t *buf;
        size_t len;
        fill(&in, AMQP_BASIC_PRIORITY_FLAG, TU_MAX);
        in.flags |= 1;
        buf = encode(&in, &len);
        assert_int_equal(len, 3);
        assert_int_equal(amqp_get16(buf), AMQP_BASIC_PRIORITY_FLAG);
        assert_int_equal(buf[2], 0xFF);
        free(buf);
    }
}

static void test_bad_headers_table(void **state)
{
    static const struct {
        const char *hex;
        int status;
    } cases[] = {
        {"2000 00000003 01 6b 5a", AMQP_EFIELDTYPE},
        {"2000 00000004 01 6b 73 00", AMQP_ETRUNC},
        {"2000 00000009 01 6b 73 0001", AMQP_ETRUNC},
        {"2000 FFFFFFFF 01 6b 73 0001", AMQP_ETRUNC},
        {"2000 00000005 01 6b 73 0001 02", AMQP_ETRAILING},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        amqp_basic_properties out;
        size_t n;
        uint8_t *b = tu_hex(cases[i].hex, &n);
        assert_int_equal(amqp_basic_properties_decode(b, n, &out), cases[i].status);
        free(b);
    }
}

/* Hand-written properties, as pika sends them for a persistent message. */
static void test_golden_properties(void **state)
{
    (void)state;
    {
        amqp_basic_properties m = {0};
        uint8_t *want, *got;
        size_t n, len;
        m.flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG;
        m.content_type = amqp_cstr("text/plain");
        m.delivery_mode = 2;
        want = tu_hex("9000 0A 746578742f706c61696e 02", &n);
        got = encode(&m, &len);
        assert_int_equal(len, n);
        assert_memory_equal(got, want, n);
        free(got);
        free(want);
    }
    {
        amqp_basic_properties m = {0}, out;
        amqp_tbuf h = {0};
        amqp_value v = {.type = 'I', .v.i = 1};
        uint8_t *want, *got;
        size_t n, len;
        amqp_tbuf_value(&h, "a", &v);
        m.flags = AMQP_BASIC_HEADERS_FLAG | AMQP_BASIC_PRIORITY_FLAG |
                  AMQP_BASIC_TIMESTAMP_FLAG | AMQP_BASIC_CLUSTER_ID_FLAG;
        m.headers = amqp_tbuf_done(&h);
        m.priority = 9;
        m.timestamp = 0x65000000;
        m.cluster_id = amqp_cstr("c");
        want = tu_hex("2844 00000007 0161 49 00000001 09 0000000065000000 01 63", &n);
        got = encode(&m, &len);
        assert_int_equal(len, n);
        assert_memory_equal(got, want, n);
        assert_int_equal(amqp_basic_properties_decode(want, n, &out), AMQP_OK);
        check_same(&m, &out);
        assert_true(amqp_table_get(out.headers, "a", &v));
        assert_int_equal(v.type, 'I');
        assert_int_equal(v.v.i, 1);
        free(got);
        free(want);
        amqp_tbuf_free(&h);
    }
}

/* A whole content header frame: written, parsed, its properties decoded. */
static void test_content_header_frame(void **state)
{
    amqp_basic_properties m = {0}, out;
    uint8_t props[64], *end, frame[128], *want;
    size_t plen, n;
    amqp_frame f;
    amqp_content_header h;
    (void)state;

    m.flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG;
    m.content_type = amqp_cstr("text/plain");
    m.delivery_mode = 2;
    end = amqp_basic_properties_encode(props, &m);
    plen = (size_t)(end - props);
    want = tu_hex("02 0001 0000001A 003C 0000 0000000000000005 9000 0A 746578742f706c61696e 02 CE", &n);
    assert_int_equal(amqp_write_header(frame, n - 1, 1, AMQP_BASIC_CLASS, 5, props, plen), AMQP_ENOSPACE);
    assert_int_equal(amqp_write_header(frame, sizeof frame, 1, AMQP_BASIC_CLASS, 5, props, plen), (long)n);
    assert_memory_equal(frame, want, n);

    assert_int_equal(amqp_frame_parse(want, n, 4096, &f), (long)n);
    assert_int_equal(f.type, AMQP_FRAME_HEADER);
    assert_int_equal(amqp_content_header_parse(&f, &h), AMQP_OK);
    assert_int_equal(h.class_id, AMQP_BASIC_CLASS);
    assert_int_equal(h.body_size, 5);
    assert_int_equal(h.props_len, plen);
    assert_ptr_equal(h.props, want + 7 + 12);
    assert_int_equal(amqp_basic_properties_decode(h.props, h.props_len, &out), AMQP_OK);
    check_same(&m, &out);
    free(want);

    /* body sizes use all 64 bits */
    assert_int_equal(amqp_write_header(frame, sizeof frame, 3, AMQP_BASIC_CLASS,
                                       0xFEDCBA9876543210ull, props, plen), (long)n);
    assert_int_equal(amqp_frame_parse(frame, n, 0, &f), (long)n);
    assert_int_equal(amqp_content_header_parse(&f, &h), AMQP_OK);
    assert_true(h.body_size == 0xFEDCBA9876543210ull);
    assert_int_equal(f.channel, 3);
}

/* Header payloads shorter than class + weight + body size + flags. */
static void test_short_content_header(void **state)
{
    (void)state;
    for (uint32_t k = 0; k < 14; k++) {
        uint8_t *payload = tu_dup("\x00\x3c\x00\x00\x00\x00\x00\x00\x00\x00\x00\x05\x00\x00", k);
        amqp_frame f = {AMQP_FRAME_HEADER, 1, k, payload};
        amqp_content_header h;
        assert_int_equal(amqp_content_header_parse(&f, &h), AMQP_ETRUNC);
        free(payload);
    }
    {
        uint8_t *payload = tu_dup("\x00\x3c\x00\x00\x00\x00\x00\x00\x00\x00\x00\x05\x00\x00", 14);
        amqp_frame f = {AMQP_FRAME_HEADER, 1, 14, payload};
        amqp_content_header h;
        amqp_basic_properties p;
        assert_int_equal(amqp_content_header_parse(&f, &h), AMQP_OK);
        assert_int_equal(h.props_len, 2);
        assert_int_equal(amqp_basic_properties_decode(h.props, h.props_len, &p), AMQP_OK);
        assert_int_equal(p.flags, 0);
        free(payload);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_property_table),
        cmocka_unit_test(test_no_properties),
        cmocka_unit_test(test_each_property_alone),
        cmocka_unit_test(test_all_properties),
        cmocka_unit_test(test_property_subsets),
        cmocka_unit_test(test_flag_words),
        cmocka_unit_test(test_bad_headers_table),
        cmocka_unit_test(test_golden_properties),
        cmocka_unit_test(test_content_header_frame),
        cmocka_unit_test(test_short_content_header),
    };
    return cmocka_run_group_tests_name("amqp_props", tests, NULL, NULL);
}
