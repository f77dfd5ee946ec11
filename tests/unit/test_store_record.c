/*
 * test_store_record.c - message records name any number of queues.
 *
 * The record once counted its queues in 16 bits: a persistent message
 * routed to 66,000 durable queues was confirmed, held by all of them, and
 * came back after a restart in only the first 65,535.  A record for
 * more than 65,535 queues is now of type 2 (a 32-bit count); up to that it
 * is still type 1, byte for byte as before, so stores written by older
 * versions read as they always did.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "amqp/wire.h"
#include "store/crc32c.h"
#include "store/segment.h"

static const uint8_t props[] = {0x10, 0x00, 0x02}; /* flags: delivery-mode; 2 */
static const char body[] = "a body for everyone";

/* Encode a record for nq queues (ids 1000 + i), check it and decode it. */
static uint8_t *roundtrip(uint32_t nq, size_t *size, seg_record *r)
{
    uint32_t *qids = malloc(nq * sizeof *qids), i;
    uint8_t *buf;
    size_t want = seg_record_size(nq, 3, 2, sizeof props, sizeof body - 1), got;

    assert_non_null(qids);
    for (i = 0; i < nq; i++)
        qids[i] = 1000 + i;
    assert_non_null(buf = malloc(want));
    assert_int_equal(seg_record_write(buf, 0, 42, 1700000000123ull, qids, nq, "fan", 3, "rk", 2, props,
                                      sizeof props, (const uint8_t *)body, sizeof body - 1),
                     want);
    free(qids);
    assert_int_equal(seg_record_check(buf, want, &got, r), SEG_OK);
    assert_int_equal(got, want);
    *size = want;
    return buf;
}

static void check_fields(const seg_record *r, uint32_t nq)
{
    uint32_t i;
    assert_int_equal(r->type, REC_MSG);
    assert_int_equal(r->nq, nq);
    assert_int_equal(r->seq, 42);
    assert_int_equal(r->timestamp, 1700000000123ull);
    for (i = 0; i < nq; i++)
        if (amqp_get32(r->qids + 4 * i) != 1000 + i)
            fail_msg("queue id %u is %u", i, amqp_get32(r->qids + 4 * i));
    assert_memory_equal(r->exchange, "fan", 3);
    assert_memory_equal(r->rk, "rk", 2);
    assert_int_equal(r->props_len, sizeof props);
    assert_int_equal(r->body_len, sizeof body - 1);
    assert_memory_equal(r->body, body, sizeof body - 1);
}

static void test_66000_queues(void **state)
{
    seg_record r, h;
    size_t size;
    uint8_t *buf = roundtrip(66000, &size, &r);
    (void)state;

    assert_int_equal(buf[REC_HEADER], REC_MSG_WIDE);
    assert_int_equal(amqp_get32(buf + REC_HEADER + 2), 66000);
    check_fields(&r, 66000);
    /* the head alone, as compaction and check-store read it */
    assert_int_equal(seg_payload_head(buf + REC_HEADER, size - REC_HEADER, &h), 22 + 4 * 66000);
    assert_int_equal(h.nq, 66000);
    assert_int_equal(h.seq, 42);
    assert_ptr_equal(h.qids, r.qids);
    /* a head cut short names nothing */
    assert_int_equal(seg_payload_head(buf + REC_HEADER, 22 + 4 * 65999, &h), 0);
    /* the scan for a valid record (torn tail or corruption?) knows type 2 */
    assert_int_equal(seg_find_valid(buf, size), 0);
    free(buf);
}

static void test_boundary(void **state)
{
    seg_record r;
    size_t size;
    uint8_t *buf;
    (void)state;

    /* 65,535 fit the old count: the old record, unchanged */
    buf = roundtrip(65535, &size, &r);
    assert_int_equal(buf[REC_HEADER], REC_MSG);
    assert_int_equal(amqp_get16(buf + REC_HEADER + 2), 65535);
    check_fields(&r, 65535);
    free(buf);
    /* one more does not */
    buf = roundtrip(65536, &size, &r);
    assert_int_equal(buf[REC_HEADER], REC_MSG_WIDE);
    check_fields(&r, 65536);
    free(buf);
}

/* A type 1 record built byte by byte as doc/store-format.md has always
 * described it (what every earlier warren wrote) still decodes. */
static void test_old_record_reads(void **state)
{
    uint8_t buf[256], *p = buf + REC_HEADER;
    seg_record r;
    size_t size;
    (void)state;

    *p++ = 1;                        /* type */
    *p++ = 0;                        /* flags */
    p = amqp_put16(p, 2);            /* nq */
    p = amqp_put64(p, 7);            /* seq */
    p = amqp_put64(p, 99);           /* timestamp */
    p = amqp_put32(p, 5);
    p = amqp_put32(p, 6);
    *p++ = 0;                        /* exchange "" */
    *p++ = 1;
    *p++ = 'q';                      /* routing key "q" */
    p = amqp_put32(p, 0);            /* no properties */
    p = amqp_put32(p, 2);
    *p++ = 'h';
    *p++ = 'i';
    amqp_put32(buf, (uint32_t)(p - buf - REC_HEADER));
    amqp_put32(buf + 4, crc32c(0, buf + REC_HEADER, (size_t)(p - buf - REC_HEADER)));
    assert_int_equal(seg_record_check(buf, (size_t)(p - buf), &size, &r), SEG_OK);
    assert_int_equal(size, (size_t)(p - buf));
    assert_int_equal(r.type, REC_MSG);
    assert_int_equal(r.nq, 2);
    assert_int_equal(amqp_get32(r.qids), 5);
    assert_int_equal(amqp_get32(r.qids + 4), 6);
    assert_int_equal(r.seq, 7);
    assert_int_equal(r.timestamp, 99);
    assert_int_equal(r.body_len, 2);
    assert_memory_equal(r.body, "hi", 2);
}

/* A type 2 record whose count runs past its payload is damage, not a
 * reason to read beyond it. */
static void test_wide_count_bounded(void **state)
{
    seg_record r;
    size_t size;
    uint8_t *buf = roundtrip(70000, &size, &r);
    (void)state;

    amqp_put32(buf + REC_HEADER + 2, 0x40000000u);
    amqp_put32(buf + 4, crc32c(0, buf + REC_HEADER, size - REC_HEADER));
    assert_int_equal(seg_record_check(buf, size, &size, &r), SEG_BAD_PAYLOAD);
    free(buf);
}

/* The "delivered" ack entry carries the delivery count in what were its
 * three zero bytes: an entry written before the count reads as count 0,
 * byte for byte the same entry; a count past 24 bits is kept at the most. */
static void test_ack_entry_returns(void **state)
{
    uint8_t e[ACK_ENTRY], old[ACK_ENTRY] = {0, 0, 0, 7, 0, 0, 0x10, 0, ACK_KIND_DELIVERED, 0, 0, 0};
    uint32_t qid, off;
    uint8_t kind;
    (void)state;

    seg_ack_write(e, 7, 0x1000, ACK_KIND_DELIVERED, 0x123456);
    assert_int_equal(seg_ack_check(e, &qid, &off, &kind), 0);
    assert_int_equal(qid, 7);
    assert_int_equal(off, 0x1000);
    assert_int_equal(kind, ACK_KIND_DELIVERED);
    assert_int_equal(seg_ack_returns(e), 0x123456);

    amqp_put32(old + 12, crc32c(0, old, 12));
    assert_int_equal(seg_ack_check(old, &qid, &off, &kind), 0);
    assert_int_equal(seg_ack_returns(old), 0);
    seg_ack_write(e, 7, 0x1000, ACK_KIND_DELIVERED, 0);
    assert_memory_equal(e, old, ACK_ENTRY);

    seg_ack_write(e, 7, 0x1000, ACK_KIND_DELIVERED, 0x7fffffff);
    assert_int_equal(seg_ack_returns(e), ACK_RETURNS_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_66000_queues),
        cmocka_unit_test(test_boundary),
        cmocka_unit_test(test_old_record_reads),
        cmocka_unit_test(test_wide_count_bounded),
        cmocka_unit_test(test_ack_entry_returns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
