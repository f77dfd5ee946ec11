/*
 * test_amqp_frame.c - the sans-IO frame reader and the frame writers.
 *
 * A frame is type (1), channel (2), payload size (4), payload, 0xCE.  The
 * reader is fed exact-size heap copies of every prefix of a buffer, as a
 * socket might deliver it, and must say "need more" (0) until the frame is
 * whole, learn the payload size as soon as the 7 header octets are in, and
 * refuse an oversized frame before its body arrives.  "Oversized" is
 * RabbitMQ's rule: a payload larger than frame_max (8 octets more lenient
 * than the spec's whole-frame count, its FRAME_SIZE_FUDGE).
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

/* parse an exact-size copy of the first n bytes of p */
static long parse(const void *p, size_t n, uint32_t frame_max, amqp_frame *f)
{
    uint8_t *copy = tu_dup(p, n);
    long rc;
    memset(f, 0xEE, sizeof *f);
    rc = amqp_frame_parse(copy, n, frame_max, f);
    free(copy);
    return rc;
}

static void test_heartbeat(void **state)
{
    uint8_t *small = malloc(7), *buf = malloc(8);
    size_t n;
    uint8_t *want = tu_hex("08 0000 00000000 CE", &n);
    amqp_frame f;
    (void)state;

    assert_int_equal(amqp_write_heartbeat(small, 7), AMQP_ENOSPACE);
    assert_int_equal(amqp_write_heartbeat(buf, 8), 8);
    assert_memory_equal(buf, want, n);
    assert_int_equal(amqp_frame_parse(want, n, 4096, &f), 8);
    assert_int_equal(f.type, AMQP_FRAME_HEARTBEAT);
    assert_int_equal(f.channel, 0);
    assert_int_equal(f.size, 0);
    free(small);
    free(buf);
    free(want);
}

static void test_bad_frame_end(void **state)
{
    static const char *frames[] = {
        "08 0000 00000000 00",
        "08 0000 00000000 CF",
        "03 0001 00000003 616263 00",
        "01 0000 00000004 000A 0033 CD",
        "02 0001 0000000E 003C 0000 0000000000000000 0000 FF",
    };
    (void)state;
    for (size_t i = 0; i < sizeof frames / sizeof frames[0]; i++) {
        size_t n;
        uint8_t *b = tu_hex(frames[i], &n);
        amqp_frame f;
        assert_int_equal(parse(b, n, 0, &f), AMQP_EFRAMEEND);
        assert_int_equal(parse(b, n, 4096, &f), AMQP_EFRAMEEND);
        /* with the right end octet the same bytes are a frame */
        b[n - 1] = AMQP_FRAME_END;
        assert_int_equal(parse(b, n, 4096, &f), (long)n);
        free(b);
    }
}

/* Only the 7 header octets are present: an oversized frame is refused now,
 * a frame that fits asks for the rest and says how big it is. */
static void test_frame_size_limit(void **state)
{
    static const struct {
        uint32_t frame_max, size;
        long want;
    } cases[] = {
        {4096, 4088, 0},
        {4096, 4089, 0},
        {4096, 4096, 0},                 /* payload = frame_max: RabbitMQ takes it */
        {4096, 4097, AMQP_EFRAMESIZE},   /* {frame_too_large,4097,4088} */
        {4096, 0xFFFFFFFF, AMQP_EFRAMESIZE},
        {131072, 131064, 0},
        {131072, 131072, 0},
        {131072, 131073, AMQP_EFRAMESIZE},
        {131072, 1000000, AMQP_EFRAMESIZE},
        {8, 0, 0},
        {8, 8, 0},
        {8, 9, AMQP_EFRAMESIZE},
        {1, 0, 0},
        {1, 2, AMQP_EFRAMESIZE},
        {0, 0xFFFFFFF7, 0},              /* no limit, but the size must fit 32 bits */
        {0, 0xFFFFFFF8, AMQP_EFRAMESIZE},
        {0, 0xFFFFFFFF, AMQP_EFRAMESIZE},
        {UINT32_MAX, 0xFFFFFFF7, 0},
        {UINT32_MAX, 0xFFFFFFF8, AMQP_EFRAMESIZE},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        static const uint8_t types[] = {AMQP_FRAME_METHOD, AMQP_FRAME_HEADER, AMQP_FRAME_BODY,
                                        AMQP_FRAME_HEARTBEAT};
        for (size_t t = 0; t < sizeof types; t++) {
            uint8_t hdr[7];
            amqp_frame f;
            long rc;
            amqp_put_frame_header(hdr, types[t], 5, cases[i].size);
            rc = parse(hdr, sizeof hdr, cases[i].frame_max, &f);
            if (rc != cases[i].want)
                fail_msg("frame_max %u, size %u: got %ld, want %ld", cases[i].frame_max,
                         cases[i].size, rc, cases[i].want);
            if (rc == 0)
                assert_int_equal(f.size, cases[i].size);
        }
    }
}

static void test_frame_type(void **state)
{
    amqp_frame f;
    (void)state;
    for (int type = 0; type < 256; type++) {
        uint8_t b[8];
        long rc;
        bool known = type == AMQP_FRAME_METHOD || type == AMQP_FRAME_HEADER ||
                     type == AMQP_FRAME_BODY || type == AMQP_FRAME_HEARTBEAT;
        amqp_put_frame_header(b, (uint8_t)type, 0, 0);
        b[7] = AMQP_FRAME_END;
        rc = parse(b, 7, 4096, &f);
        if (rc != (known ? 0 : AMQP_EFRAMETYPE))
            fail_msg("header of type %d: %ld", type, rc);
        rc = parse(b, 8, 4096, &f);
        if (rc != (known ? 8 : AMQP_EFRAMETYPE))
            fail_msg("frame of type %d: %ld", type, rc);
    }
    /* a client repeating the protocol header mid-stream */
    assert_int_equal(parse(AMQP_PROTOCOL_HEADER, AMQP_PROTOCOL_HEADER_SIZE, 4096, &f), AMQP_EFRAMETYPE);
}

/* amqp_frame_parse_any returns a frame of any type whole, with the same
 * size and frame-end checks, so a server can quote it in its error. */
static void test_frame_parse_any(void **state)
{
    amqp_frame f;
    (void)state;
    for (int type = 0; type < 256; type++) {
        uint8_t b[11];
        uint8_t *copy;
        amqp_put_frame_header(b, (uint8_t)type, 7, 3);
        memcpy(b + 7, "abc", 3);
        b[10] = AMQP_FRAME_END;
        for (size_t n = 0; n < sizeof b; n++) {
            copy = tu_dup(b, n);
            memset(&f, 0xEE, sizeof f);
            if (amqp_frame_parse_any(copy, n, 4096, &f) != 0)
                fail_msg("type %d, %zu bytes: not 'need more'", type, n);
            assert_int_equal(f.size, n < AMQP_FRAME_HEADER_SIZE ? 0 : 3);
            free(copy);
        }
        copy = tu_dup(b, sizeof b);
        assert_int_equal(amqp_frame_parse_any(copy, sizeof b, 4096, &f), (long)sizeof b);
        assert_int_equal(f.type, type);
        assert_int_equal(f.channel, 7);
        assert_int_equal(f.size, 3);
        assert_ptr_equal(f.payload, copy + 7);
        assert_int_equal(amqp_frame_parse_any(copy, sizeof b, 2, &f), AMQP_EFRAMESIZE);
        copy[10] = 0;
        assert_int_equal(amqp_frame_parse_any(copy, sizeof b, 4096, &f), AMQP_EFRAMEEND);
        free(copy);
    }
}

/* Every prefix of a frame: 0, with f->size known once the header is in. */
static void test_partial_frames(void **state)
{
    amqp_basic_deliver m = {amqp_cstr("ctag"), 77, true, amqp_cstr("ex"), amqp_cstr("rk")};
    uint8_t buf[256];
    long len;
    amqp_frame f;
    (void)state;

    len = amqp_write_method(buf, sizeof buf, 300, AMQP_BASIC_DELIVER, &m);
    assert_true(len > 0);
    for (size_t n = 0; n < (size_t)len; n++) {
        long rc = parse(buf, n, 4096, &f);
        if (rc != 0)
            fail_msg("%zu of %ld bytes: %ld", n, len, rc);
        assert_int_equal(f.size, n < AMQP_FRAME_HEADER_SIZE ? 0 : (uint32_t)len - 8);
    }
    assert_int_equal(parse(buf, (size_t)len, 4096, &f), len);
    assert_int_equal(f.channel, 300);
}

/* Several frames in one buffer, as one read() might return them. */
static void test_parse_loop(void **state)
{
    amqp_basic_publish pub = {0, amqp_cstr("amq.direct"), amqp_cstr("key"), true, false};
    amqp_basic_properties props = {0};
    amqp_basic_ack ack = {9, false};
    uint8_t buf[1024], pbuf[64], *p = buf, *end;
    static const char body[] = "hello, world";
    const uint8_t expect_types[] = {AMQP_FRAME_METHOD, AMQP_FRAME_HEADER, AMQP_FRAME_BODY,
                                    AMQP_FRAME_BODY, AMQP_FRAME_HEARTBEAT, AMQP_FRAME_METHOD};
    size_t total, off = 0, k = 0, plen;
    (void)state;

    props.flags = AMQP_BASIC_DELIVERY_MODE_FLAG;
    props.delivery_mode = 2;
    plen = (size_t)(amqp_basic_properties_encode(pbuf, &props) - pbuf);

    p += amqp_write_method(p, sizeof buf, 1, AMQP_BASIC_PUBLISH, &pub);
    p += amqp_write_header(p, sizeof buf, 1, AMQP_BASIC_CLASS, sizeof body - 1, pbuf, plen);
    p = amqp_put_frame_header(p, AMQP_FRAME_BODY, 1, 5);
    memcpy(p, body, 5);
    p += 5;
    *p++ = AMQP_FRAME_END;
    p = amqp_put_frame_header(p, AMQP_FRAME_BODY, 1, sizeof body - 1 - 5);
    memcpy(p, body + 5, sizeof body - 1 - 5);
    p += sizeof body - 1 - 5;
    *p++ = AMQP_FRAME_END;
    p += amqp_write_heartbeat(p, 8);
    p += amqp_write_method(p, sizeof buf, 1, AMQP_BASIC_ACK, &ack);
    total = (size_t)(p - buf);

    /* and half of another frame */
    end = p + amqp_write_method(p, sizeof buf - total, 1, AMQP_BASIC_ACK, &ack);
    end -= 4;

    uint8_t *copy = tu_dup(buf, (size_t)(end - buf));
    for (;;) {
        amqp_frame f;
        long rc = amqp_frame_parse(copy + off, (size_t)(end - buf) - off, 4096, &f);
        if (rc == 0) {
            assert_int_equal(off, total);
            assert_int_equal(f.size, 13);
            break;
        }
        assert_true(rc > 0);
        assert_true(k < sizeof expect_types);
        assert_int_equal(f.type, expect_types[k]);
        assert_int_equal(f.channel, k == 4 ? 0 : 1);
        if (f.type == AMQP_FRAME_METHOD) {
            uint32_t id;
            amqp_method_args a;
            assert_int_equal(amqp_method_frame_decode(&f, &id, &a), AMQP_OK);
            if (k == 0) {
                assert_int_equal(id, AMQP_BASIC_PUBLISH);
                assert_true(amqp_str_eqc(a.basic_publish.exchange, "amq.direct"));
                assert_true(a.basic_publish.mandatory);
            } else {
                assert_int_equal(id, AMQP_BASIC_ACK);
                assert_int_equal(a.basic_ack.delivery_tag, 9);
            }
        } else if (f.type == AMQP_FRAME_HEADER) {
            amqp_content_header h;
            amqp_basic_properties got;
            assert_int_equal(amqp_content_header_parse(&f, &h), AMQP_OK);
            assert_int_equal(h.body_size, sizeof body - 1);
            assert_int_equal(amqp_basic_properties_decode(h.props, h.props_len, &got), AMQP_OK);
            assert_int_equal(got.delivery_mode, 2);
        } else if (f.type == AMQP_FRAME_BODY) {
            assert_memory_equal(f.payload, k == 2 ? body : body + 5, f.size);
        }
        off += (size_t)rc;
        k++;
    }
    assert_int_equal(k, sizeof expect_types);
    free(copy);
}

/* The writers refuse a buffer one byte short, and write nothing past it. */
static void test_writers_need_room(void **state)
{
    amqp_connection_start m = {0, 9, tu_all_types_table(), amqp_cstr("PLAIN AMQPLAIN"), amqp_cstr("en_US")};
    size_t need = amqp_method_frame_size(AMQP_CONNECTION_START, &m);
    uint8_t props[3] = {0x10, 0x00, 0x02};
    (void)state;
    for (size_t cap = 0; cap < need; cap++) {
        uint8_t *b = malloc(cap);
        assert_int_equal(amqp_write_method(b, cap, 0, AMQP_CONNECTION_START, &m), AMQP_ENOSPACE);
        free(b);
    }
    for (size_t cap = 0; cap < 8 + 12 + sizeof props; cap++) {
        uint8_t *b = malloc(cap);
        assert_int_equal(amqp_write_header(b, cap, 1, AMQP_BASIC_CLASS, 1, props, sizeof props),
                         AMQP_ENOSPACE);
        free(b);
    }
    {
        uint8_t *b = malloc(need);
        assert_int_equal(amqp_write_method(b, need, 0, AMQP_CONNECTION_START, &m), (long)need);
        free(b);
    }
}

static void test_method_frame_errors(void **state)
{
    static const struct {
        const char *hex;
        int status;
    } cases[] = {
        {"01 0001 00000000 CE", AMQP_ETRUNC},
        {"01 0001 00000002 003C CE", AMQP_ETRUNC},
        {"01 0001 00000003 003C00 CE", AMQP_ETRUNC},
        {"01 0001 00000004 003C0029 CE", AMQP_EMETHOD},
        {"01 0001 00000004 00000000 CE", AMQP_EMETHOD},
        {"01 0001 00000005 FFFFFFFF 00 CE", AMQP_EMETHOD},
        {"01 0001 00000004 003C0050 CE", AMQP_ETRUNC},      /* basic.ack without arguments */
        {"01 0001 00000006 0014000A 0000 CE", AMQP_ETRAILING}, /* channel.open + 1 byte */
        {"01 0001 00000005 0014000A 00 CE", AMQP_OK},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n;
        uint8_t *b = tu_hex(cases[i].hex, &n);
        amqp_frame f;
        amqp_method_args a;
        uint32_t id;
        assert_int_equal(amqp_frame_parse(b, n, 4096, &f), (long)n);
        memset(&id, 0xA5, sizeof id);
        int rc = amqp_method_frame_decode(&f, &id, &a);
        if (rc != cases[i].status)
            fail_msg("%s: %d, want %d", cases[i].hex, rc, cases[i].status);
        /* the id is always set: 0 when there are not 4 octets for one (a
         * caller that names the method in its error must not read garbage) */
        if (f.size < 4)
            assert_int_equal(id, 0);
        else
            assert_int_equal(id, amqp_get32(f.payload));
        free(b);
    }
}

/* The largest frame frame_max allows, with a body frame of real bytes. */
static void test_body_at_frame_max(void **state)
{
    size_t fm = AMQP_FRAME_MIN_SIZE, n = fm;
    uint8_t *b = malloc(n), *p;
    amqp_frame f;
    (void)state;
    p = amqp_put_frame_header(b, AMQP_FRAME_BODY, 65535, (uint32_t)(fm - 8));
    memset(p, 0xCE, fm - 8); /* bodies may contain the frame-end octet */
    b[n - 1] = AMQP_FRAME_END;
    assert_int_equal(amqp_frame_parse(b, n, (uint32_t)fm, &f), (long)n);
    assert_int_equal(f.type, AMQP_FRAME_BODY);
    assert_int_equal(f.channel, 65535);
    assert_int_equal(f.size, fm - 8);
    assert_ptr_equal(f.payload, b + 7);
    /* the payload (fm - 8) may grow to fm before it is too large */
    assert_int_equal(amqp_frame_parse(b, n, (uint32_t)fm - 8, &f), (long)n);
    assert_int_equal(amqp_frame_parse(b, n, (uint32_t)fm - 9, &f), AMQP_EFRAMESIZE);
    b[n - 1] = 0xCD;
    assert_int_equal(amqp_frame_parse(b, n, (uint32_t)fm, &f), AMQP_EFRAMEEND);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_heartbeat),
        cmocka_unit_test(test_bad_frame_end),
        cmocka_unit_test(test_frame_size_limit),
        cmocka_unit_test(test_frame_type),
        cmocka_unit_test(test_frame_parse_any),
        cmocka_unit_test(test_partial_frames),
        cmocka_unit_test(test_parse_loop),
        cmocka_unit_test(test_writers_need_room),
        cmocka_unit_test(test_method_frame_errors),
        cmocka_unit_test(test_body_at_frame_max),
    };
    return cmocka_run_group_tests_name("amqp_frame", tests, NULL, NULL);
}
