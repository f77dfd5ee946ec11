/*
 * test_amqp_methods.c - the generated method codec, every method of the spec.
 *
 * The loops walk amqp_methods[] (the reflection tables of spec.h), so every
 * method is encoded, decoded, truncated and padded without a line per method
 * here; a method added to the spec is covered by the same loops.  Buffers
 * handed to decoders are exact-size heap copies, so AddressSanitizer reports
 * a read one byte past the end.  The self-consistency checks are anchored by
 * hand-written frames (test_golden_*) taken from the AMQP 0-9-1 wire format,
 * so the encoder and decoder cannot agree on a wrong layout.
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

static const unsigned variants[] = {TU_ZERO, TU_MAX, TU_HUGE, TU_RANDOM, TU_RANDOM + 1,
                                    TU_RANDOM + 2, TU_RANDOM + 3, TU_RANDOM + 4,
                                    TU_RANDOM + 5, TU_RANDOM + 6, TU_RANDOM + 7};
#define NVARIANTS (sizeof variants / sizeof variants[0])

/* Size of the arguments as the spec lays them out: consecutive bits share
 * octets, eight to an octet. */
static size_t expected_size(const amqp_method_info *mi, const void *s)
{
    size_t n = 0;
    unsigned run = 8;

    for (size_t i = 0; i < mi->nfields; i++) {
        if (!strcmp(mi->fields[i].type, "bit")) {
            if (run == 8) {
                n++;
                run = 0;
            }
            run++;
            continue;
        }
        run = 8;
        n += tu_field_size(&mi->fields[i], s);
    }
    return n;
}

static uint32_t bits_for(unsigned variant)
{
    if (variant == TU_ZERO)
        return 0;
    if (variant <= TU_HUGE)
        return UINT32_MAX;
    return variant * 0x9E3779B9u;
}

/* Encode into an exact-size buffer; the caller frees it. */
static uint8_t *encode(const amqp_method_info *mi, const void *in, size_t *len)
{
    size_t n = amqp_method_size(mi->id, in);
    uint8_t *buf = malloc(n); /* exact: ASan catches an encoder overrun */

    assert_non_null(buf);
    if (amqp_method_encode(mi->id, in, buf) != buf + n)
        fail_msg("%s: encoder wrote a different number of bytes than amqp_method_size (%zu)",
                 mi->name, n);
    *len = n;
    return buf;
}

static void check_same(const amqp_method_info *mi, const void *a, const void *b, const char *how)
{
    int d = tu_diff(mi->fields, mi->nfields, a, b);
    if (d >= 0)
        fail_msg("%s (%s): field %s differs after decoding", mi->name, how, mi->fields[d].name);
}

/* Strings and tables of a decoded method point into the decoded buffer. */
static void check_views_inside(const amqp_method_info *mi, const void *s, const uint8_t *buf, size_t n)
{
    for (size_t i = 0; i < mi->nfields; i++) {
        const char *t = mi->fields[i].type;
        amqp_str v;
        if (strcmp(t, "shortstr") && strcmp(t, "longstr") && strcmp(t, "table"))
            continue;
        memcpy(&v, (const uint8_t *)s + mi->fields[i].offset, sizeof v);
        if (v.len == 0)
            continue;
        if ((const uint8_t *)v.ptr < buf || (const uint8_t *)v.ptr + v.len > buf + n)
            fail_msg("%s: field %s does not point into the decoded bytes", mi->name, mi->fields[i].name);
    }
}

static void roundtrip(const amqp_method_info *mi, unsigned variant, uint32_t bits)
{
    amqp_method_args in, out;
    uint8_t *buf, *frame, *small;
    size_t len, flen;
    amqp_frame f;
    uint32_t id = 0;
    uint16_t channel = (uint16_t)(variant * 4099 + 1);

    memset(&in, 0xA5, sizeof in);
    tu_fill(mi->fields, mi->nfields, &in, variant, bits);

    /* struct -> bytes -> struct */
    buf = encode(mi, &in, &len);
    if (len != expected_size(mi, &in))
        fail_msg("%s: amqp_method_size %zu, the spec's layout needs %zu",
                 mi->name, len, expected_size(mi, &in));
    memset(&out, 0x5A, sizeof out);
    assert_int_equal(amqp_method_decode(mi->id, buf, len, &out), AMQP_OK);
    check_same(mi, &in, &out, "method");
    check_views_inside(mi, &out, buf, len);

    /* struct -> frame -> parse -> struct */
    flen = amqp_method_frame_size(mi->id, &in);
    assert_int_equal(flen, len + 12);
    frame = malloc(flen);
    small = malloc(flen - 1);
    assert_non_null(frame);
    assert_non_null(small);
    assert_int_equal(amqp_write_method(small, flen - 1, channel, mi->id, &in), AMQP_ENOSPACE);
    assert_int_equal(amqp_write_method(frame, flen, channel, mi->id, &in), (long)flen);
    assert_int_equal(frame[0], AMQP_FRAME_METHOD);
    assert_int_equal(amqp_get16(frame + 1), channel);
    assert_int_equal(amqp_get32(frame + 3), len + 4);
    assert_int_equal(amqp_get32(frame + 7), mi->id);
    assert_memory_equal(frame + 11, buf, len);
    assert_int_equal(frame[flen - 1], AMQP_FRAME_END);

    assert_int_equal(amqp_frame_parse(frame, flen, (uint32_t)flen, &f), (long)flen);
    assert_int_equal(f.type, AMQP_FRAME_METHOD);
    assert_int_equal(f.channel, channel);
    assert_int_equal(f.size, len + 4);
    assert_ptr_equal(f.payload, frame + 7);
    memset(&out, 0x5A, sizeof out);
    assert_int_equal(amqp_method_frame_decode(&f, &id, &out), AMQP_OK);
    assert_int_equal(id, mi->id);
    check_same(mi, &in, &out, "frame");
    /* the payload may be as big as frame_max (RabbitMQ's fudge), not more */
    assert_int_equal(amqp_frame_parse(frame, flen, (uint32_t)flen - AMQP_FRAME_OVERHEAD, &f), (long)flen);
    assert_int_equal(amqp_frame_parse(frame, flen, (uint32_t)flen - AMQP_FRAME_OVERHEAD - 1, &f), AMQP_EFRAMESIZE);

    free(small);
    free(frame);
    free(buf);
}

static void test_reflection_tables(void **state)
{
    (void)state;
    assert_true(amqp_method_count >= 60);
    for (size_t i = 0; i < amqp_method_count; i++) {
        const amqp_method_info *mi = &amqp_methods[i];
        assert_non_null(mi->name);
        assert_true(amqp_method_known(mi->id));
        assert_string_equal(amqp_method_name(mi->id), mi->name);
        assert_true(mi->nfields == 0 || mi->fields != NULL);
        for (size_t j = 0; j < i; j++)
            if (amqp_methods[j].id == mi->id)
                fail_msg("method id 0x%08x listed twice", mi->id);
        for (size_t k = 0; k < mi->nfields; k++)
            assert_true(mi->fields[k].offset < mi->struct_size);
        assert_true(mi->struct_size <= sizeof(amqp_method_args));
    }
    /* the ids of spec.h are class << 16 | method */
    assert_int_equal(AMQP_BASIC_PUBLISH, 60u << 16 | 40u);
    assert_int_equal(AMQP_CONNECTION_TUNE_OK, 10u << 16 | 31u);
    assert_int_equal(AMQP_CONFIRM_SELECT, 85u << 16 | 10u);
    /* RabbitMQ numbers exchange.unbind-ok 51, not 41 */
    assert_int_equal(AMQP_EXCHANGE_UNBIND_OK, 40u << 16 | 51u);
    assert_string_equal(amqp_method_name(AMQP_BASIC_NACK), "basic.nack");
    assert_non_null(tu_method(AMQP_CONNECTION_UPDATE_SECRET));
}

static void test_method_flags(void **state)
{
    (void)state;
    for (size_t i = 0; i < amqp_method_count; i++) {
        uint32_t id = amqp_methods[i].id;
        bool content = id == AMQP_BASIC_PUBLISH || id == AMQP_BASIC_RETURN ||
                       id == AMQP_BASIC_DELIVER || id == AMQP_BASIC_GET_OK;
        if (amqp_method_has_content(id) != content)
            fail_msg("%s: has_content is wrong", amqp_methods[i].name);
    }
    assert_true(amqp_method_synchronous(AMQP_QUEUE_DECLARE));
    assert_true(amqp_method_synchronous(AMQP_BASIC_CONSUME));
    assert_true(amqp_method_synchronous(AMQP_CONFIRM_SELECT));
    assert_false(amqp_method_synchronous(AMQP_QUEUE_DECLARE_OK));
    assert_false(amqp_method_synchronous(AMQP_BASIC_PUBLISH));
    assert_false(amqp_method_synchronous(AMQP_BASIC_ACK));
}

/* Reply codes: which close the connection (hard) and which the channel. */
static void test_reply_codes(void **state)
{
    static const struct {
        int code;
        const char *name;
        int hard; /* 1 hard, 0 soft, -1 neither */
    } codes[] = {
        {200, "REPLY_SUCCESS", -1}, {311, "CONTENT_TOO_LARGE", 0}, {312, "NO_ROUTE", 0},
        {313, "NO_CONSUMERS", 0}, {320, "CONNECTION_FORCED", 1}, {402, "INVALID_PATH", 1},
        {403, "ACCESS_REFUSED", 0}, {404, "NOT_FOUND", 0}, {405, "RESOURCE_LOCKED", 0},
        {406, "PRECONDITION_FAILED", 0}, {501, "FRAME_ERROR", 1}, {502, "SYNTAX_ERROR", 1},
        {503, "COMMAND_INVALID", 1}, {504, "CHANNEL_ERROR", 1}, {505, "UNEXPECTED_FRAME", 1},
        {506, "RESOURCE_ERROR", 1}, {530, "NOT_ALLOWED", 1}, {540, "NOT_IMPLEMENTED", 1},
        {541, "INTERNAL_ERROR", 1},
    };
    (void)state;
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        assert_int_equal(amqp_reply_is_hard(codes[i].code), codes[i].hard == 1);
        assert_int_equal(amqp_reply_is_soft(codes[i].code), codes[i].hard == 0);
        assert_non_null(amqp_reply_name(codes[i].code));
        assert_string_equal(amqp_reply_name(codes[i].code), codes[i].name);
    }
    assert_null(amqp_reply_name(0));
    assert_null(amqp_reply_name(AMQP_FRAME_END));
    assert_null(amqp_reply_name(999));
    assert_false(amqp_reply_is_hard(200) || amqp_reply_is_soft(200));
}

static void test_unknown_method(void **state)
{
    static const uint32_t bad[] = {0, 0x000A0000, 0x000A000C, 0x003C0029, 0x00280029,
                                   0x00550014, 0xFFFF000A, 0xFFFFFFFF};
    amqp_method_args out;
    uint8_t byte = 0;
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_false(amqp_method_known(bad[i]));
        assert_null(amqp_method_name(bad[i]));
        assert_null(tu_method(bad[i]));
        assert_int_equal(amqp_method_decode(bad[i], &byte, 0, &out), AMQP_EMETHOD);
        assert_int_equal(amqp_method_decode(bad[i], &byte, 1, &out), AMQP_EMETHOD);
        assert_int_equal(amqp_method_size(bad[i], &out), 0);
    }
}

static void test_roundtrip_every_method(void **state)
{
    (void)state;
    for (size_t i = 0; i < amqp_method_count; i++)
        for (size_t v = 0; v < NVARIANTS; v++)
            roundtrip(&amqp_methods[i], variants[v], bits_for(variants[v]));
}

/* Every on/off pattern of every method's bits, checked on the wire too: the
 * first bit is the least significant bit of its octet, unused bits are 0. */
static void test_bit_patterns(void **state)
{
    (void)state;
    for (size_t i = 0; i < amqp_method_count; i++) {
        const amqp_method_info *mi = &amqp_methods[i];
        unsigned k = tu_bit_count(mi->fields, mi->nfields);
        if (k == 0)
            continue;
        assert_true(k <= 16);
        for (uint32_t bits = 0; bits < (1u << k); bits++) {
            amqp_method_args in;
            uint8_t *buf;
            size_t len, off = 0;
            unsigned run = 8, seen = 0;
            uint8_t octet = 0;

            roundtrip(mi, TU_MAX, bits);
            roundtrip(mi, TU_RANDOM + bits, bits);

            memset(&in, 0, sizeof in);
            tu_fill(mi->fields, mi->nfields, &in, TU_ZERO, bits);
            buf = encode(mi, &in, &len);
            for (size_t f = 0; f < mi->nfields; f++) {
                if (strcmp(mi->fields[f].type, "bit")) {
                    if (run != 8 && (octet >> run) != 0)
                        fail_msg("%s: unused bits set in 0x%02x", mi->name, octet);
                    run = 8;
                    off += tu_field_size(&mi->fields[f], &in);
                    continue;
                }
                if (run == 8) {
                    assert_true(off < len);
                    octet = buf[off++];
                    run = 0;
                }
                if (((octet >> run) & 1) != ((bits >> seen) & 1))
                    fail_msg("%s: bit %s is not bit %u of octet 0x%02x",
                             mi->name, mi->fields[f].name, run, octet);
                run++;
                seen++;
            }
            if (run != 8 && (octet >> run) != 0)
                fail_msg("%s: unused bits set in 0x%02x", mi->name, octet);
            assert_int_equal(off, len);
            free(buf);
        }
    }
}

/* Every strict prefix of a valid encoding is too short: AMQP_ETRUNC, and no
 * read past the prefix.  Long encodings are cut at both ends and sampled in
 * between, to keep the run short. */
static void test_truncation_every_method(void **state)
{
    static const unsigned tv[] = {TU_ZERO, TU_MAX, TU_HUGE, TU_RANDOM, TU_RANDOM + 1, TU_RANDOM + 2};
    (void)state;
    for (size_t i = 0; i < amqp_method_count; i++) {
        const amqp_method_info *mi = &amqp_methods[i];
        for (size_t v = 0; v < sizeof tv / sizeof tv[0]; v++) {
            amqp_method_args in, out;
            uint8_t *buf;
            size_t len;

            memset(&in, 0, sizeof in);
            tu_fill(mi->fields, mi->nfields, &in, tv[v], bits_for(tv[v]));
            buf = encode(mi, &in, &len);
            for (size_t k = 0; k < len; k++) {
                uint8_t *cut;
                int rc;
                if (len > 2048 && k > 1024 && k < len - 1024 && k % 997)
                    continue;
                cut = tu_dup(buf, k);
                rc = amqp_method_decode(mi->id, cut, k, &out);
                if (rc != AMQP_ETRUNC)
                    fail_msg("%s: %zu of %zu bytes decoded to %d (%s), want AMQP_ETRUNC",
                             mi->name, k, len, rc, amqp_strerror(rc));
                free(cut);
            }
            free(buf);
        }
    }
}

/* A frame whose payload holds the method id and a truncated argument list. */
static void test_truncated_frames(void **state)
{
    (void)state;
    for (size_t i = 0; i < amqp_method_count; i++) {
        const amqp_method_info *mi = &amqp_methods[i];
        amqp_method_args in, out;
        uint8_t *args;
        size_t len;

        memset(&in, 0, sizeof in);
        tu_fill(mi->fields, mi->nfields, &in, TU_RANDOM + 9, 0x15);
        args = encode(mi, &in, &len);
        for (size_t k = 0; k < len + 4; k++) {
            uint8_t *frame = malloc(k + AMQP_FRAME_OVERHEAD);
            uint8_t *p = frame;
            amqp_frame f;
            uint32_t id;
            int rc;
            assert_non_null(frame);
            p = amqp_put_frame_header(p, AMQP_FRAME_METHOD, 1, (uint32_t)k);
            if (k >= 4) {
                p = amqp_put32(p, mi->id);
                memcpy(p, args, k - 4);
                p += k - 4;
            } else {
                uint8_t idb[4];
                amqp_put32(idb, mi->id);
                memcpy(p, idb, k);
                p += k;
            }
            *p++ = AMQP_FRAME_END;
            assert_int_equal(amqp_frame_parse(frame, k + 8, 0, &f), (long)(k + 8));
            rc = amqp_method_frame_decode(&f, &id, &out);
            if (rc != AMQP_ETRUNC)
                fail_msg("%s: frame with %zu payload bytes decoded to %d", mi->name, k, rc);
            free(frame);
        }
        free(args);
    }
}

static void test_trailing_bytes(void **state)
{
    (void)state;
    for (size_t i = 0; i < amqp_method_count; i++) {
        const amqp_method_info *mi = &amqp_methods[i];
        for (unsigned v = TU_ZERO; v < TU_RANDOM + 3; v++) {
            amqp_method_args in, out;
            uint8_t *buf, *longer;
            size_t len;

            if (v == TU_HUGE)
                continue;
            memset(&in, 0, sizeof in);
            tu_fill(mi->fields, mi->nfields, &in, v, bits_for(v));
            buf = encode(mi, &in, &len);
            for (size_t extra = 1; extra <= 9; extra += 4) {
                longer = malloc(len + extra);
                assert_non_null(longer);
                memcpy(longer, buf, len);
                memset(longer + len, 0, extra);
                if (amqp_method_decode(mi->id, longer, len + extra, &out) != AMQP_ETRAILING)
                    fail_msg("%s: %zu trailing bytes not reported", mi->name, extra);
                free(longer);
            }
            free(buf);
        }
    }
}

/* Each string and table length in turn made to point past the end of the
 * arguments, including lengths that would overflow a 32-bit sum. */
static void test_lengths_past_end(void **state)
{
    static const uint32_t big[] = {0x7FFFFFFF, 0x80000000, 0xFFFFFFF0, 0xFFFFFFFC, 0xFFFFFFFF};
    (void)state;
    for (size_t i = 0; i < amqp_method_count; i++) {
        const amqp_method_info *mi = &amqp_methods[i];
        amqp_method_args in, out;
        uint8_t *buf;
        size_t len, off = 0;
        unsigned run = 8;

        memset(&in, 0, sizeof in);
        tu_fill(mi->fields, mi->nfields, &in, TU_RANDOM + 20, 0);
        buf = encode(mi, &in, &len);
        for (size_t f = 0; f < mi->nfields; f++) {
            const char *t = mi->fields[f].type;
            size_t fsize = tu_field_size(&mi->fields[f], &in);
            if (!strcmp(t, "bit")) {
                if (run == 8) {
                    off++;
                    run = 0;
                }
                run++;
                continue;
            }
            run = 8;
            if (!strcmp(t, "shortstr")) {
                uint8_t *bad = tu_dup(buf, len);
                size_t room = len - off - 1;  /* bytes after the length octet */
                if (room < 255) {
                    bad[off] = (uint8_t)(room + 1);
                    assert_int_equal(amqp_method_decode(mi->id, bad, len, &out), AMQP_ETRUNC);
                    bad[off] = 255;
                    assert_int_equal(amqp_method_decode(mi->id, bad, len, &out), AMQP_ETRUNC);
                }
                free(bad);
            } else if (!strcmp(t, "longstr") || !strcmp(t, "table")) {
                uint8_t *bad = tu_dup(buf, len);
                amqp_put32(bad + off, (uint32_t)(len - off - 4 + 1));
                assert_int_equal(amqp_method_decode(mi->id, bad, len, &out), AMQP_ETRUNC);
                for (size_t b = 0; b < sizeof big / sizeof big[0]; b++) {
                    amqp_put32(bad + off, big[b]);
                    assert_int_equal(amqp_method_decode(mi->id, bad, len, &out), AMQP_ETRUNC);
                }
                free(bad);
            }
            off += fsize;
        }
        assert_int_equal(off, len);
        free(buf);
    }
}

/* A table argument is validated: a bad table fails the whole method. */
static void test_bad_table_arguments(void **state)
{
    static const struct {
        const char *hex;
        int status;
    } cases[] = {
        {"01 6b 5a", AMQP_EFIELDTYPE},                 /* k: unknown type 'Z' */
        {"01 6b 4c 0000000000000001", AMQP_EFIELDTYPE}, /* 'L' is not RabbitMQ's */
        {"01 6b 53 00000009 6162", AMQP_ETRUNC},        /* S longer than the table */
        {"05 6b", AMQP_ETRUNC},                         /* key longer than the table */
        {"01 6b", AMQP_ETRUNC},                         /* key without a value */
        {"01 6b 49 0000", AMQP_ETRUNC},                 /* I cut short */
        {"01 6b 46 00000003 01 6b 5a", AMQP_EFIELDTYPE}, /* bad type in a nested table */
        {"01 6b 41 00000001 5a", AMQP_EFIELDTYPE},       /* bad type in an array */
    };
    (void)state;
    for (size_t i = 0; i < amqp_method_count; i++) {
        const amqp_method_info *mi = &amqp_methods[i];
        for (size_t f = 0; f < mi->nfields; f++) {
            if (strcmp(mi->fields[f].type, "table"))
                continue;
            for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
                amqp_method_args in, out;
                amqp_table t;
                uint8_t *raw, *buf;
                size_t rawlen, len;
                int rc;

                memset(&in, 0, sizeof in);
                tu_fill(mi->fields, mi->nfields, &in, TU_RANDOM + (unsigned)c, 0x3);
                raw = tu_hex(cases[c].hex, &rawlen);
                t = (amqp_table){raw, (uint32_t)rawlen};
                memcpy((uint8_t *)&in + mi->fields[f].offset, &t, sizeof t);
                buf = encode(mi, &in, &len);
                rc = amqp_method_decode(mi->id, buf, len, &out);
                if (rc != cases[c].status)
                    fail_msg("%s.%s = %s: got %d, want %d", mi->name, mi->fields[f].name,
                             cases[c].hex, rc, cases[c].status);
                free(buf);
                free(raw);
            }
        }
    }
}

/* --- hand-written frames (AMQP 0-9-1 section 4.2 and the class grammar) --- */

static void check_golden(uint16_t channel, uint32_t id, const void *args, const char *hex)
{
    size_t n;
    uint8_t *want = tu_hex(hex, &n);
    uint8_t *got = malloc(n);
    const amqp_method_info *mi = tu_method(id);
    amqp_method_args out;
    amqp_frame f;
    uint32_t gid;

    assert_non_null(got);
    assert_non_null(mi);
    assert_int_equal(amqp_method_frame_size(id, args), n);
    assert_int_equal(amqp_write_method(got, n, channel, id, args), (long)n);
    if (memcmp(got, want, n) != 0) {
        for (size_t i = 0; i < n; i++)
            if (got[i] != want[i]) {
                fail_msg("%s: byte %zu is 0x%02x, want 0x%02x", mi->name, i, got[i], want[i]);
            }
    }
    /* and the hand-written bytes decode to the same arguments */
    assert_int_equal(amqp_frame_parse(want, n, 131072, &f), (long)n);
    assert_int_equal(f.channel, channel);
    assert_int_equal(amqp_method_frame_decode(&f, &gid, &out), AMQP_OK);
    assert_int_equal(gid, id);
    check_same(mi, args, &out, "golden");
    free(got);
    free(want);
}

static void test_golden_connection(void **state)
{
    (void)state;
    {
        amqp_tbuf props = {0};
        amqp_tbuf_str(&props, "product", amqp_cstr("warren"));
        amqp_connection_start m = {0, 9, amqp_tbuf_done(&props), amqp_cstr("PLAIN"), amqp_cstr("en_US")};
        check_golden(0, AMQP_CONNECTION_START, &m,
                     "01 0000 0000002F 000A 000A 00 09"
                     " 00000013 07 70726f64756374 53 00000006 77617272656e"
                     " 00000005 504c41494e 00000005 656e5f5553 CE");
        amqp_tbuf_free(&props);
    }
    {
        amqp_connection_start_ok m = {{NULL, 0}, amqp_cstr("PLAIN"),
                                      {"\0guest\0guest", 12}, amqp_cstr("en_US")};
        check_golden(0, AMQP_CONNECTION_START_OK, &m,
                     "01 0000 00000024 000A 000B 00000000 05 504c41494e"
                     " 0000000C 006775657374006775657374 05 656e5f5553 CE");
    }
    {
        amqp_connection_tune m = {2047, 131072, 60};
        check_golden(0, AMQP_CONNECTION_TUNE, &m, "01 0000 0000000C 000A 001E 07FF 00020000 003C CE");
        amqp_connection_tune_ok ok = {0xFFFF, 0x00001000, 0};
        check_golden(0, AMQP_CONNECTION_TUNE_OK, &ok, "01 0000 0000000C 000A 001F FFFF 00001000 0000 CE");
    }
    {
        amqp_connection_open m = {amqp_cstr("/"), amqp_cstr(""), false};
        check_golden(0, AMQP_CONNECTION_OPEN, &m, "01 0000 00000008 000A 0028 01 2F 00 00 CE");
    }
    {
        amqp_connection_close m = {320, amqp_cstr("CONNECTION_FORCED"), 0, 0};
        check_golden(0, AMQP_CONNECTION_CLOSE, &m,
                     "01 0000 0000001C 000A 0032 0140 11 434f4e4e454354494f4e5f464f52434544 0000 0000 CE");
        amqp_connection_close_ok ok = {0};
        check_golden(0, AMQP_CONNECTION_CLOSE_OK, &ok, "01 0000 00000004 000A 0033 CE");
    }
}

static void test_golden_channel_queue(void **state)
{
    (void)state;
    {
        amqp_channel_open m = {amqp_cstr("")};
        check_golden(1, AMQP_CHANNEL_OPEN, &m, "01 0001 00000005 0014 000A 00 CE");
        amqp_channel_open_ok ok = {amqp_cstr("")};
        check_golden(1, AMQP_CHANNEL_OPEN_OK, &ok, "01 0001 00000008 0014 000B 00000000 CE");
    }
    {
        amqp_queue_declare m = {0};
        m.queue = amqp_cstr("task_queue");
        m.durable = true;
        check_golden(1, AMQP_QUEUE_DECLARE, &m,
                     "01 0001 00000016 0032 000A 0000 0A 7461736b5f7175657565 02 00000000 CE");
        m.durable = false;
        m.exclusive = m.auto_delete = true;
        check_golden(1, AMQP_QUEUE_DECLARE, &m,
                     "01 0001 00000016 0032 000A 0000 0A 7461736b5f7175657565 0C 00000000 CE");
        m.passive = m.durable = m.nowait = true;
        check_golden(1, AMQP_QUEUE_DECLARE, &m,
                     "01 0001 00000016 0032 000A 0000 0A 7461736b5f7175657565 1F 00000000 CE");
        amqp_queue_declare_ok ok = {amqp_cstr("task_queue"), 3, 1};
        check_golden(1, AMQP_QUEUE_DECLARE_OK, &ok,
                     "01 0001 00000017 0032 000B 0A 7461736b5f7175657565 00000003 00000001 CE");
    }
    {
        amqp_exchange_unbind_ok m = {0};
        check_golden(7, AMQP_EXCHANGE_UNBIND_OK, &m, "01 0007 00000004 0028 0033 CE");
    }
    {
        amqp_confirm_select m = {false};
        check_golden(1, AMQP_CONFIRM_SELECT, &m, "01 0001 00000005 0055 000A 00 CE");
    }
}

static void test_golden_basic(void **state)
{
    (void)state;
    {
        amqp_basic_publish m = {0, amqp_cstr(""), amqp_cstr("hello"), false, false};
        check_golden(1, AMQP_BASIC_PUBLISH, &m, "01 0001 0000000E 003C 0028 0000 00 05 68656c6c6f 00 CE");
        m.mandatory = true;
        check_golden(1, AMQP_BASIC_PUBLISH, &m, "01 0001 0000000E 003C 0028 0000 00 05 68656c6c6f 01 CE");
        m.mandatory = false;
        m.immediate = true;
        check_golden(1, AMQP_BASIC_PUBLISH, &m, "01 0001 0000000E 003C 0028 0000 00 05 68656c6c6f 02 CE");
    }
    {
        amqp_basic_qos m = {0, 1, false};
        check_golden(1, AMQP_BASIC_QOS, &m, "01 0001 0000000B 003C 000A 00000000 0001 00 CE");
    }
    {
        amqp_basic_deliver m = {amqp_cstr("ctag1"), 1, false, amqp_cstr(""), amqp_cstr("task_queue")};
        check_golden(1, AMQP_BASIC_DELIVER, &m,
                     "01 0001 0000001F 003C 003C 05 6374616731 0000000000000001 00 00"
                     " 0A 7461736b5f7175657565 CE");
    }
    {
        amqp_basic_ack m = {0x0102030405060708ull, true};
        check_golden(1, AMQP_BASIC_ACK, &m, "01 0001 0000000D 003C 0050 0102030405060708 01 CE");
        amqp_basic_nack n = {5, false, true};
        check_golden(1, AMQP_BASIC_NACK, &n, "01 0001 0000000D 003C 0078 0000000000000005 02 CE");
        amqp_basic_reject r = {UINT64_MAX, true};
        check_golden(2, AMQP_BASIC_REJECT, &r, "01 0002 0000000D 003C 005A FFFFFFFFFFFFFFFF 01 CE");
    }
    {
        amqp_basic_consume m = {0};
        m.queue = amqp_cstr("q");
        m.no_ack = true;
        m.exclusive = true;
        check_golden(1, AMQP_BASIC_CONSUME, &m,
                     "01 0001 0000000E 003C 0014 0000 01 71 00 06 00000000 CE");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reflection_tables),
        cmocka_unit_test(test_method_flags),
        cmocka_unit_test(test_reply_codes),
        cmocka_unit_test(test_unknown_method),
        cmocka_unit_test(test_roundtrip_every_method),
        cmocka_unit_test(test_bit_patterns),
        cmocka_unit_test(test_truncation_every_method),
        cmocka_unit_test(test_truncated_frames),
        cmocka_unit_test(test_trailing_bytes),
        cmocka_unit_test(test_lengths_past_end),
        cmocka_unit_test(test_bad_table_arguments),
        cmocka_unit_test(test_golden_connection),
        cmocka_unit_test(test_golden_channel_queue),
        cmocka_unit_test(test_golden_basic),
    };
    return cmocka_run_group_tests_name("amqp_methods", tests, NULL, NULL);
}
