/*
 * test_ring.c - the ring buffer of ring.h, which a queue's ready messages,
 * a channel's unacked messages and its pending confirms sit in: order
 * kept across growth while wrapped, sorted insertion on either side of the
 * middle (where a requeued message goes back), dropping from the head,
 * giving memory back, and a zeroed ring being an empty one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ring.h"

typedef struct item {
    uint64_t seq;
    uint32_t tag;               /* tells apart items of equal seq */
} item;

RING_DEFINE(item_ring, item)
RING_DEFINE(int_ring, int)

static int by_seq(const item *a, const item *b)
{
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static void push_seq(item_ring *r, uint64_t seq)
{
    item it = {.seq = seq};
    assert_int_equal(item_ring_push(r, &it), 0);
}

static void insert_seq(item_ring *r, uint64_t seq, uint32_t tag)
{
    item it = {.seq = seq, .tag = tag};
    assert_int_equal(item_ring_insert_sorted(r, &it, by_seq), 0);
}

/* The ring holds exactly want[0..n), head first. */
static void assert_seqs(item_ring *r, const uint64_t *want, size_t n)
{
    size_t i;
    assert_int_equal(r->len, n);
    for (i = 0; i < n; i++)
        assert_int_equal(item_ring_at(r, i)->seq, want[i]);
}

static void test_zeroed_ring_is_empty(void **state)
{
    item_ring r = {0};
    item out;
    (void)state;
    assert_false(item_ring_pop(&r, &out));
    assert_int_equal(r.len, 0);
    item_ring_drop_front(&r, 0);
    item_ring_shrink(&r);
    assert_int_equal(r.cap, 0);
    item_ring_free(&r);
    assert_null(r.v);
}

static void test_fifo_order_across_growth_while_wrapped(void **state)
{
    int_ring r = {0};
    int i, v, next = 0, out;
    (void)state;
    /* wrap the head round the 16-slot array, then grow it twice */
    for (i = 0; i < 12; i++)
        assert_int_equal(int_ring_push(&r, &i), 0);
    for (i = 0; i < 10; i++) {
        assert_true(int_ring_pop(&r, &out));
        assert_int_equal(out, next++);
    }
    assert_int_equal(r.cap, 16);
    assert_int_equal(r.head, 10);
    for (v = 12; v < 60; v++)
        assert_int_equal(int_ring_push(&r, &v), 0);
    assert_int_equal(r.cap, 64);
    assert_int_equal(r.len, 50);
    for (i = 0; i < 50; i++)
        assert_int_equal(*int_ring_at(&r, (size_t)i), 10 + i);
    while (int_ring_pop(&r, &out))
        assert_int_equal(out, next++);
    assert_int_equal(next, 60);
    assert_int_equal(r.head, 0); /* an emptied ring starts again at slot 0 */
    int_ring_free(&r);
}

static void test_at_is_writable_in_place(void **state)
{
    item_ring r = {0};
    (void)state;
    push_seq(&r, 1);
    push_seq(&r, 2);
    item_ring_at(&r, 1)->tag = 7;
    assert_int_equal(item_ring_at(&r, 1)->tag, 7);
    item_ring_free(&r);
}

static void test_drop_front(void **state)
{
    item_ring r = {0};
    uint64_t s;
    (void)state;
    for (s = 1; s <= 20; s++)
        push_seq(&r, s);
    item_ring_drop_front(&r, 5);
    assert_int_equal(r.len, 15);
    assert_int_equal(item_ring_at(&r, 0)->seq, 6);
    assert_int_equal(item_ring_at(&r, 14)->seq, 20);
    item_ring_drop_front(&r, 15);
    assert_int_equal(r.len, 0);
    assert_int_equal(r.head, 0);
    assert_int_equal(r.cap, 32); /* dropping keeps the memory */
    item_ring_free(&r);
    assert_int_equal(r.cap, 0);
    assert_int_equal(r.len, 0);
}

static void test_insert_sorted_both_halves(void **state)
{
    item_ring r = {0};
    static const uint64_t want[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    (void)state;
    insert_seq(&r, 5, 0);           /* into an empty ring (which has no array yet) */
    push_seq(&r, 7);
    push_seq(&r, 9);
    push_seq(&r, 11);
    push_seq(&r, 12);
    insert_seq(&r, 1, 0);           /* at the head: the head moves back */
    assert_true(r.head + r.len > r.cap); /* the entries wrap round the array's end */
    insert_seq(&r, 3, 0);           /* front half */
    insert_seq(&r, 2, 0);
    insert_seq(&r, 10, 0);          /* back half */
    insert_seq(&r, 8, 0);
    insert_seq(&r, 6, 0);
    insert_seq(&r, 4, 0);
    assert_seqs(&r, want, 12);
    item_ring_free(&r);
}

static void test_insert_sorted_goes_before_equal_ones(void **state)
{
    item_ring r = {0};
    (void)state;
    insert_seq(&r, 1, 1);
    insert_seq(&r, 2, 1);
    insert_seq(&r, 3, 1);
    insert_seq(&r, 2, 2);
    assert_int_equal(item_ring_at(&r, 1)->seq, 2);
    assert_int_equal(item_ring_at(&r, 1)->tag, 2);
    assert_int_equal(item_ring_at(&r, 2)->tag, 1);
    item_ring_free(&r);
}

static void test_insert_sorted_grows_a_full_wrapped_ring(void **state)
{
    item_ring r = {0};
    uint64_t s, want[17];
    item out;
    size_t i;
    (void)state;
    /* 16 slots, full, head in the middle of the array */
    for (s = 1; s <= 8; s++)
        push_seq(&r, s);
    for (s = 1; s < 8; s++)
        assert_true(item_ring_pop(&r, &out));
    for (s = 10; s <= 38; s += 2)
        push_seq(&r, s);            /* 8, then 10, 12, .. 38 */
    assert_int_equal(r.len, 16);
    assert_int_equal(r.cap, 16);
    assert_int_equal(r.head, 7);
    insert_seq(&r, 21, 0);
    assert_int_equal(r.cap, 32);
    want[0] = 8;
    for (i = 1, s = 10; s <= 38; s += 2) {
        if (s == 22)
            want[i++] = 21;
        want[i++] = s;
    }
    assert_seqs(&r, want, 17);
    item_ring_free(&r);
}

static void test_shrink_gives_a_drained_backlog_back(void **state)
{
    int_ring r = {0};
    int i, out;
    (void)state;
    for (i = 0; i < RING_SHRINK_CAP; i++)
        assert_int_equal(int_ring_push(&r, &i), 0);
    assert_int_equal(r.cap, RING_SHRINK_CAP);
    int_ring_shrink(&r);
    assert_int_equal(r.cap, RING_SHRINK_CAP); /* full: kept */
    /* pop down to just under an eighth, as a queue does with each message */
    for (i = 0; (size_t)i < RING_SHRINK_CAP - RING_SHRINK_CAP / 8 + 1; i++) {
        assert_true(int_ring_pop(&r, &out));
        assert_int_equal(out, i);
        int_ring_shrink(&r);
        if (r.len >= RING_SHRINK_CAP / 8)
            assert_int_equal(r.cap, RING_SHRINK_CAP);
    }
    assert_int_equal(r.len, RING_SHRINK_CAP / 8 - 1);
    assert_int_equal(r.cap, RING_SHRINK_CAP / 2);
    /* what is left is intact and in order */
    for (i = 0; (size_t)i < r.len; i++)
        assert_int_equal(*int_ring_at(&r, (size_t)i), RING_SHRINK_CAP - RING_SHRINK_CAP / 8 + 1 + i);
    /* below RING_SHRINK_CAP a ring keeps its memory */
    while (int_ring_pop(&r, &out))
        int_ring_shrink(&r);
    assert_int_equal(r.cap, RING_SHRINK_CAP / 2);
    int_ring_free(&r);
}

static void test_free_then_reuse(void **state)
{
    item_ring r = {0};
    (void)state;
    push_seq(&r, 1);
    item_ring_free(&r);
    assert_null(r.v);
    assert_int_equal(r.len, 0);
    assert_int_equal(r.cap, 0);
    push_seq(&r, 2);
    assert_int_equal(item_ring_at(&r, 0)->seq, 2);
    assert_int_equal(r.cap, RING_MIN_CAP);
    item_ring_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zeroed_ring_is_empty),
        cmocka_unit_test(test_fifo_order_across_growth_while_wrapped),
        cmocka_unit_test(test_at_is_writable_in_place),
        cmocka_unit_test(test_drop_front),
        cmocka_unit_test(test_insert_sorted_both_halves),
        cmocka_unit_test(test_insert_sorted_goes_before_equal_ones),
        cmocka_unit_test(test_insert_sorted_grows_a_full_wrapped_ring),
        cmocka_unit_test(test_shrink_gives_a_drained_backlog_back),
        cmocka_unit_test(test_free_then_reuse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
