/*
 * test_store_qidmap.c - the store's map from durable queue id to the
 * broker's handle (src/store/qidmap.c): found, deleted, found again, and
 * a churn of queues made and deleted does not grow it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "store/store_int.h"

static int handles[100000];

static void test_put_get_del(void **state)
{
    qidmap m = {0};
    uint32_t i;
    (void)state;

    assert_null(qidmap_get(&m, 1));
    assert_int_equal(qidmap_put(&m, 0, &handles[0]), -1); /* ids start at 1 */
    for (i = 1; i < 100000; i++)
        assert_int_equal(qidmap_put(&m, i, &handles[i]), 0);
    for (i = 1; i < 100000; i++)
        assert_ptr_equal(qidmap_get(&m, i), &handles[i]);
    for (i = 1; i < 100000; i += 2)
        assert_ptr_equal(qidmap_del(&m, i), &handles[i]);
    assert_null(qidmap_del(&m, 1));
    for (i = 1; i < 100000; i++)
        assert_ptr_equal(qidmap_get(&m, i), i % 2 ? NULL : (void *)&handles[i]);
    assert_int_equal(m.live, 49999);
    /* a deleted id put again is found again */
    assert_int_equal(qidmap_put(&m, 3, &handles[3]), 0);
    assert_ptr_equal(qidmap_get(&m, 3), &handles[3]);
    qidmap_free(&m);
}

static void test_churn_does_not_grow(void **state)
{
    qidmap m = {0};
    uint32_t i;
    size_t cap;
    (void)state;

    for (i = 1; i <= 1000; i++)
        assert_int_equal(qidmap_put(&m, i, &handles[i]), 0);
    cap = m.cap;
    for (i = 1001; i < 500000; i++) {
        assert_int_equal(qidmap_put(&m, i, &handles[0]), 0);
        assert_ptr_equal(qidmap_del(&m, i), &handles[0]);
    }
    assert_true(m.cap <= cap * 2);
    for (i = 1; i <= 1000; i++)
        assert_ptr_equal(qidmap_get(&m, i), &handles[i]);
    qidmap_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_get_del),
        cmocka_unit_test(test_churn_does_not_grow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
