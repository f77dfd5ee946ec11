/*
 * test_consumer.c - dispatch (consumer.c) without a socket: real queues in
 * a real vhost, consumers whose owner is a fake with its own consumer_ops
 * instead of an AMQP channel.  The fake records each delivery; an entry
 * that needs an ack is kept (with a reference on its queue, as a channel's
 * unacked ring holds one) until the test acks or requeues it.
 *
 * Covered: round-robin, per-consumer prefetch (and no-ack consumers
 * ignoring it), the owner holding its consumers back, x-priority, single
 * active consumer with its promotion when the active one leaves, a
 * global=false qos reaching existing consumers (consumer_set_prefetch, the
 * Celery fix), the dispatch budget, and a deleted queue's consumers going.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "consumer.h"
#include "warren.h"

/* ------------------------------------------------------------- the fake */

typedef struct fake_owner {
    bool open;                  /* what can_deliver answers */
    consumer *list;             /* its consumers, as a channel's */
    int gone;                   /* consumers told their queue went */
} fake_owner;

#define MAX_LOG 32768
#define MAX_KEPT 64

static struct delivery {
    consumer *c;
    uint64_t seq;
    bool redelivered;
} dlog[MAX_LOG];
static int ndlog;

/* entries kept for an ack, by owner and consumer id (the consumer may be
 * gone by the time it is settled, as in a channel) */
static struct kept {
    fake_owner *f;
    uint32_t id;
    queue *q;
    qentry e;
} kept[MAX_KEPT];
static int nkept;

static long can_calls;          /* can_deliver asked: the cost of whose turn */

static bool fake_can_deliver(void *owner, consumer *c)
{
    (void)c;
    can_calls++;
    return ((fake_owner *)owner)->open;
}

static void fake_deliver(void *owner, consumer *c, queue *q, qentry *e)
{
    assert_true(c->q == q);
    assert_true(ndlog < MAX_LOG);
    dlog[ndlog++] = (struct delivery){c, e->seq, (e->flags & QE_REDELIVERED) != 0};
    if (c->no_ack) {
        queue_settle(q, e);
        return;
    }
    assert_true(nkept < MAX_KEPT);
    kept[nkept++] = (struct kept){owner, c->id, q, *e};
    q->refs++;
    consumer_took(c);
}

static void fake_gone(void *owner, consumer *c)
{
    fake_owner *f = owner;
    f->gone++;
    consumer_unlink(&f->list, c);
}

static const consumer_ops fake_ops = {fake_can_deliver, fake_deliver, fake_gone};

/* ------------------------------------------------------------- fixture */

static broker b;
static vhost *vh;
static fake_owner F, G;         /* two channels */

static int setup(void **state)
{
    (void)state;
    memset(&b, 0, sizeof b);
    config_defaults(&b.cfg);
    b.loop = ev_loop_new();
    assert_non_null(b.loop);
    b.vh = vh = vhost_new(&b, "/");
    assert_non_null(vh);
    ndlog = nkept = 0;
    memset(&F, 0, sizeof F);
    memset(&G, 0, sizeof G);
    F.open = G.open = true;
    return 0;
}

static void cancel_all(fake_owner *f);

/* Settle what is still kept: an ack or, with requeue, a requeue. */
static void settle_kept(int i, bool requeue)
{
    struct kept k = kept[i];
    consumer *c;
    memmove(kept + i, kept + i + 1, (size_t)(nkept - i - 1) * sizeof *kept);
    nkept--;
    if (requeue)
        queue_requeue(k.q, &k.e);
    else
        queue_settle(k.q, &k.e);
    c = consumer_by_id(k.f->list, k.id);
    if (c)
        consumer_settled(c);
    queue_unref(k.q);
}

static int teardown(void **state)
{
    (void)state;
    while (nkept)
        settle_kept(0, false);
    cancel_all(&F);
    cancel_all(&G);
    vhost_dispatch(vh);
    vhost_free(vh);
    ev_loop_free(b.loop);
    return 0;
}

static queue *new_queue(const char *name, bool single_active)
{
    amqp_tbuf args = {0};
    queue *q;
    if (single_active)
        amqp_tbuf_bool(&args, "x-single-active-consumer", true);
    q = queue_new(vh, amqp_cstr(name), false, false, false, amqp_tbuf_done(&args), NULL);
    amqp_tbuf_free(&args);
    assert_non_null(q);
    return q;
}

static void publish(queue *q, int n)
{
    static const uint8_t noprops[1];
    int i;
    for (i = 0; i < n; i++) {
        msg *m = msg_new(amqp_cstr(""), amqp_cstr(q->name), noprops, 0, 4);
        assert_non_null(m);
        memcpy(msg_body(m), "body", 4);
        m->body_have = 4;
        assert_int_equal(queue_publish(q, m, vh->next_seq++, NULL), QUEUE_OK);
    }
}

/* A consumer of f on q, at the head of f's list (as basic.consume). */
static consumer *consume(fake_owner *f, queue *q, const char *tag, bool no_ack, uint16_t prefetch, int32_t prio)
{
    static uint32_t next_id = 1;
    consumer *c = consumer_new(&fake_ops, f, amqp_cstr(tag), next_id++, no_ack, false, prefetch, prio);
    assert_non_null(c);
    assert_int_equal(consumer_attach(q, c), 0);
    c->next = f->list;
    f->list = c;
    queue_mark_dirty(q);
    return c;
}

static void cancel_all(fake_owner *f)
{
    while (f->list)
        consumer_cancel(&f->list, f->list);
}

/* The loop's before-sleep dispatch, until no queue has work left. */
static void run_dispatch(void)
{
    while (vhost_dispatch(vh))
        ;
}

static int delivered_to(const consumer *c)
{
    int i, n = 0;
    for (i = 0; i < ndlog; i++)
        n += dlog[i].c == c;
    return n;
}

static int kept_index(const consumer *c)
{
    int i;
    for (i = 0; i < nkept; i++)
        if (kept[i].f == c->owner && kept[i].id == c->id)
            return i;
    return -1;
}

/* ---------------------------------------------------------------- tests */

static void test_round_robin(void **state)
{
    queue *q = new_queue("rr", false);
    consumer *c1 = consume(&F, q, "c1", true, 0, 0);
    consumer *c2 = consume(&F, q, "c2", true, 0, 0);
    consumer *c3 = consume(&F, q, "c3", true, 0, 0);
    consumer *order[] = {c1, c2, c3, c1, c2, c3, c1};
    int i;
    (void)state;

    publish(q, 7);
    run_dispatch();
    assert_int_equal(ndlog, 7);
    for (i = 0; i < 7; i++) {
        assert_ptr_equal(dlog[i].c, order[i]);
        assert_int_equal(dlog[i].seq, (uint64_t)i + 1); /* in publish order */
    }
    assert_int_equal(q->nready, 0);

    /* the turn goes on where it stopped, across dispatches */
    publish(q, 2);
    run_dispatch();
    assert_ptr_equal(dlog[7].c, c2);
    assert_ptr_equal(dlog[8].c, c3);

    /* a consumer that leaves is skipped; the others keep their turns */
    consumer_cancel(&F.list, c2);
    publish(q, 4);
    run_dispatch();
    assert_ptr_equal(dlog[9].c, c1);
    assert_ptr_equal(dlog[10].c, c3);
    assert_ptr_equal(dlog[11].c, c1);
    assert_ptr_equal(dlog[12].c, c3);
    cancel_all(&F);
}

/* 10,000 consumers of one priority: whose turn costs O(1) a message, not
 * a walk of them all (issue 16: before, every delivery asked each of the
 * 10,000, 14 us a message).  Counted in can_deliver calls, not timed. */
static void test_many_consumers_turn_is_o1(void **state)
{
    queue *q = new_queue("many", false);
    enum { N = 10000 };
    static consumer *cs[N];
    int i;
    long calls;
    (void)state;

    for (i = 0; i < N; i++) {
        char tag[16];
        snprintf(tag, sizeof tag, "c%d", i);
        cs[i] = consume(&F, q, tag, i >= 40, 1, 0); /* the first 40 ack, one at a time */
    }
    can_calls = 0;
    publish(q, 3000);
    run_dispatch();
    assert_int_equal(ndlog, 3000);
    assert_true(can_calls < 2 * 3000);
    /* round-robin in the order they came, the first 40 taking one each */
    for (i = 0; i < 3000; i++)
        assert_ptr_equal(dlog[i].c, cs[i]);
    assert_int_equal(nkept, 40);

    /* all 40 are full; the rest pass by them: each is asked once, then
     * left out of the turns until it acks */
    calls = can_calls;
    publish(q, N);
    run_dispatch();
    assert_int_equal(ndlog, 3000 + N);
    assert_true(can_calls - calls < 2 * N + 100);
    for (i = 0; i < 40; i++) {
        assert_int_equal(delivered_to(cs[i]), 1);
        assert_false(cs[i]->in_turns);
    }
    /* an ack brings its consumer back into the turns, and its turn comes */
    settle_kept(kept_index(cs[7]), false);
    assert_true(cs[7]->in_turns);
    publish(q, N - 40 + 1);
    run_dispatch();
    assert_int_equal(delivered_to(cs[7]), 2);
    assert_int_equal(delivered_to(cs[8]), 1);
    cancel_all(&F);
}

static void test_per_consumer_prefetch(void **state)
{
    queue *q = new_queue("prefetch", false);
    consumer *c1 = consume(&F, q, "c1", false, 2, 0);
    consumer *c2 = consume(&F, q, "c2", false, 1, 0);
    (void)state;

    publish(q, 5);
    run_dispatch();
    /* c1, c2, c1: then both are full and two messages stay ready */
    assert_int_equal(ndlog, 3);
    assert_int_equal(delivered_to(c1), 2);
    assert_int_equal(delivered_to(c2), 1);
    assert_int_equal(c1->unacked, 2);
    assert_int_equal(c2->unacked, 1);
    assert_int_equal(q->nready, 2);
    assert_int_equal(q->unacked, 3);
    assert_null(consumer_next(q));

    /* an ack frees one place, and only that consumer's */
    settle_kept(kept_index(c2), false);
    run_dispatch();
    assert_int_equal(ndlog, 4);
    assert_ptr_equal(dlog[3].c, c2);
    assert_int_equal(q->nready, 1);

    /* a no-ack consumer's prefetch holds nothing back */
    {
        consumer *n = consume(&G, q, "noack", true, 1, 0);
        publish(q, 3);
        run_dispatch();
        assert_int_equal(delivered_to(n), 4);
        assert_int_equal(q->nready, 0);
    }
    cancel_all(&F);
}

static void test_owner_holds_back(void **state)
{
    queue *q = new_queue("held", false);
    consumer *a = consume(&F, q, "a", true, 0, 0);
    consumer *b1 = consume(&G, q, "b", true, 0, 0);
    (void)state;

    F.open = false; /* e.g. its socket is congested */

    publish(q, 3);
    run_dispatch();
    assert_int_equal(delivered_to(a), 0);
    assert_int_equal(delivered_to(b1), 3);

    /* every owner closed: the messages wait */
    G.open = false;
    publish(q, 2);
    run_dispatch();
    assert_int_equal(ndlog, 3);
    assert_int_equal(q->nready, 2);

    /* one opens again (a drained socket): its queue is woken */
    F.open = true;
    consumer_wake_all(F.list);
    run_dispatch();
    assert_int_equal(delivered_to(a), 2);
    cancel_all(&G);
    cancel_all(&F);
}

static void test_priorities(void **state)
{
    queue *q = new_queue("prio", false);
    consumer *low = consume(&F, q, "low", false, 0, 0);
    consumer *neg = consume(&F, q, "neg", false, 0, -5);
    consumer *hi1 = consume(&F, q, "hi1", false, 1, 10);
    consumer *hi2 = consume(&F, q, "hi2", false, 1, 10);
    (void)state;

    /* the highest priority first, round-robin among them; when they are
     * full the next priority down, never a lower one while a higher can */
    publish(q, 4);
    run_dispatch();
    assert_int_equal(ndlog, 4);
    assert_ptr_equal(dlog[0].c, hi1);
    assert_ptr_equal(dlog[1].c, hi2);
    assert_ptr_equal(dlog[2].c, low);
    assert_ptr_equal(dlog[3].c, low);
    assert_int_equal(delivered_to(neg), 0);

    /* hi2 acks: the next message is its, not low's */
    settle_kept(kept_index(hi2), false);
    publish(q, 1);
    run_dispatch();
    assert_ptr_equal(dlog[4].c, hi2);

    /* the negative priority gets only what nobody above can take */
    consumer_cancel(&F.list, low);
    publish(q, 1);
    run_dispatch();
    assert_ptr_equal(dlog[5].c, neg);
    cancel_all(&F);
}

static void test_single_active_consumer(void **state)
{
    queue *q = new_queue("sac", true);
    consumer *c1 = consume(&F, q, "c1", false, 1, 0);
    consumer *c2 = consume(&F, q, "c2", false, 0, 0);
    consumer *c3 = consume(&F, q, "c3", false, 0, 5);
    consumer *c4 = consume(&F, q, "c4", false, 0, 5);
    int k;
    (void)state;

    assert_true(q->set.single_active);
    /* only the first consumer is served, even when it is full and others
     * are idle */
    publish(q, 3);
    run_dispatch();
    assert_int_equal(ndlog, 1);
    assert_ptr_equal(dlog[0].c, c1);
    assert_int_equal(q->nready, 2);

    /* it goes (basic.cancel): the oldest of the highest priority, c3, is
     * the active one now, but gets nothing until something can deliver */
    k = kept_index(c1);
    consumer_cancel(&F.list, c1);
    assert_ptr_equal(q->cons[0], c3);
    run_dispatch();
    assert_int_equal(ndlog, 1);

    /* c1's channel closes: its message comes back and goes first, to c3 */
    settle_kept(k, true);
    run_dispatch();
    assert_int_equal(ndlog, 4);
    assert_ptr_equal(dlog[1].c, c3);
    assert_int_equal(dlog[1].seq, dlog[0].seq);
    assert_true(dlog[1].redelivered);
    assert_ptr_equal(dlog[2].c, c3);
    assert_ptr_equal(dlog[3].c, c3);
    assert_int_equal(delivered_to(c4) + delivered_to(c2), 0);

    /* c3 goes: c4 (priority 5) before the older c2 (priority 0) */
    while ((k = kept_index(c3)) >= 0)
        settle_kept(k, false);
    consumer_cancel(&F.list, c3);
    assert_ptr_equal(q->cons[0], c4);
    consumer_cancel(&F.list, c4);
    assert_ptr_equal(q->cons[0], c2);
    assert_int_equal(q->ncons, 1);

    /* a consumer that is not the active one leaves: no change */
    {
        consumer *c5 = consume(&F, q, "c5", false, 0, 9);
        consumer_cancel(&F.list, c5);
        assert_ptr_equal(q->cons[0], c2);
    }
    cancel_all(&F);
}

static void test_qos_reaches_existing_consumers(void **state)
{
    queue *q = new_queue("qos", false);
    consumer *c = consume(&F, q, "worker", false, 1, 0);
    (void)state;

    publish(q, 6);
    run_dispatch();
    assert_int_equal(ndlog, 1);

    /* kombu raises the prefetch with global=false while Celery holds ETA
     * tasks: the consumer already there must get the new limit */
    consumer_set_prefetch(F.list, 3);
    assert_int_equal(c->prefetch, 3);
    consumer_wake_all(F.list);
    run_dispatch();
    assert_int_equal(ndlog, 3);
    assert_int_equal(c->unacked, 3);

    /* 0 lifts it */
    consumer_set_prefetch(F.list, 0);
    consumer_wake_all(F.list);
    run_dispatch();
    assert_int_equal(ndlog, 6);
    assert_int_equal(q->nready, 0);

    /* and lowering it holds back new deliveries until enough are acked */
    consumer_set_prefetch(F.list, 5);
    publish(q, 1);
    run_dispatch();
    assert_int_equal(ndlog, 6);
    settle_kept(0, false);
    settle_kept(0, false);
    run_dispatch();
    assert_int_equal(ndlog, 7);
    cancel_all(&F);
}

static void test_dispatch_budget(void **state)
{
    queue *q = new_queue("budget", false);
    (void)state;

    consume(&F, q, "c", true, 0, 0);
    run_dispatch();
    publish(q, 3000);
    /* publishing marked q dirty; one dispatch delivers a budget and puts
     * q back on the list for the next turn */
    assert_true(vhost_dispatch(vh));
    assert_int_equal(ndlog, 2048);
    assert_true(q->dirty);
    assert_false(vhost_dispatch(vh));
    assert_int_equal(ndlog, 3000);
    cancel_all(&F);
}

static void test_queue_deleted_consumers_gone(void **state)
{
    queue *q = new_queue("deleted", false);
    consumer *kept_c;
    (void)state;

    kept_c = consume(&F, q, "a", false, 0, 0);
    consume(&G, q, "b", true, 0, 0);
    consume(&F, q, "c", true, 0, 0);
    publish(q, 1);
    run_dispatch();
    assert_int_equal(delivered_to(kept_c), 1);
    queue_delete(q);
    assert_int_equal(F.gone, 2);
    assert_int_equal(G.gone, 1);
    assert_null(F.list);
    assert_null(G.list);
    /* the unacked message still holds the queue; its ack finds no
     * consumer (teardown settles it) */
    assert_int_equal(nkept, 1);
}

static void test_lookup_and_tags(void **state)
{
    queue *q = new_queue("tags", false);
    consumer *a = consume(&F, q, "alpha", true, 0, 0);
    consumer *b2 = consume(&F, q, "beta", true, 0, 0);
    char tag[64];
    size_t i;
    (void)state;

    assert_ptr_equal(consumer_by_tag(F.list, amqp_cstr("alpha")), a);
    assert_ptr_equal(consumer_by_tag(F.list, amqp_cstr("beta")), b2);
    assert_null(consumer_by_tag(F.list, amqp_cstr("alph")));
    assert_ptr_equal(consumer_by_id(F.list, b2->id), b2);
    assert_null(consumer_by_id(F.list, 0));

    consumer_gen_tag(tag, "amq.ctag-");
    assert_int_equal(strlen(tag), 9 + 22);
    assert_memory_equal(tag, "amq.ctag-", 9);
    for (i = 9; i < 31; i++)
        assert_non_null(strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-", tag[i]));

    /* exclusive use */
    assert_true(consumer_excluded(q, true));
    assert_false(consumer_excluded(q, false));
    cancel_all(&F);
    assert_false(consumer_excluded(q, true));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_robin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_consumers_turn_is_o1, setup, teardown),
        cmocka_unit_test_setup_teardown(test_per_consumer_prefetch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_owner_holds_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_priorities, setup, teardown),
        cmocka_unit_test_setup_teardown(test_single_active_consumer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_qos_reaches_existing_consumers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dispatch_budget, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queue_deleted_consumers_gone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lookup_and_tags, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
