/*
 * test_stats.c - the statistics API (src/stats.c) over broker objects built
 * without sockets: a vhost and its queues, and a connection and channel
 * that take real AMQP frames (channel_frame) and write their output into
 * a buffer nobody reads.  Time is never waited for: ages are set up by
 * publish times in the past, by marks of the seq clock, or by moving an
 * unacked slot's delivery time back; rates by samples at chosen instants.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "amqp/wire.h"
#include "stats.h"
#include "warren.h"

typedef struct fixture {
    broker b;
    vhost *vh;
    conn *c;
    channel *ch;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    config_defaults(&f->b.cfg);
    assert_non_null(f->b.loop = ev_loop_new());
    ev_now_update(f->b.loop);
    assert_non_null(f->vh = f->b.vh = vhost_new(&f->b, "/"));
    map_init(&f->b.vhosts); /* as broker_init does: "/" among the vhosts (the totals sum them) */
    assert_int_equal(map_put(&f->b.vhosts, "/", 1, f->vh), 0);
    stats_conn_register(&f->b); /* as broker_init does: the sessions' side of the statistics */
    /* as broker_init does: guest, with every permission on "/" (the
     * channel's operations are checked) */
    assert_int_equal(auth_add_user(&f->b.auth, "guest", "guest", true), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    if (f->c) {
        uint32_t i;
        for (i = 0; i < f->c->nchans; i++)
            channel_free(f->c->chans[i].ch);
        free(f->c->chans);
        obuf_clear(&f->c->out);
        free(f->c->stats.client_props);
        free(f->c);
    }
    map_free(&f->b.vhosts);
    vhost_free(f->vh);
    ev_loop_free(f->b.loop);
    auth_db_free(&f->b.auth);
    free(f);
    return 0;
}

/* A connection in the running state with channel 1 open, on the broker's
 * list, as conn.c leaves one after connection.open and channel.open. */
static channel *open_channel(fixture *f)
{
    conn *c = calloc(1, sizeof *c);
    assert_non_null(c);
    c->b = &f->b;
    c->state = CONN_OPEN;
    c->vh = f->vh;
    c->frame_max = 131072;
    c->channel_max = 2047;
    strcpy(c->peer, "127.0.0.1:40000");
    strcpy(c->user, "guest");
    c->stats.connected_at = vhost_now_ms(f->vh);
    assert_non_null(c->chans = calloc(1, sizeof *c->chans));
    c->capchans = 1;
    assert_non_null(f->ch = channel_new(c, 1));
    c->chans[0] = (struct conn_channel){f->ch, 1};
    c->nchans = 1;
    f->b.conns = c;
    f->b.nconns = 1;
    f->c = c;
    return f->ch;
}

static void method(channel *ch, uint32_t id, const void *args)
{
    uint8_t buf[1024], *p = amqp_put32(buf, id);
    amqp_frame fr = {.type = AMQP_FRAME_METHOD, .channel = ch->id};
    amqp_error err = {0};
    p = amqp_method_encode(id, args, p);
    fr.size = (uint32_t)(p - buf);
    fr.payload = buf;
    assert_int_equal(channel_frame(ch, &fr, &err), 0);
}

/* basic.publish to the default exchange, a header without properties, one
 * body frame. */
static void publish_to(channel *ch, const char *queue_name, const char *body, bool mandatory)
{
    amqp_basic_publish pub = {.exchange = amqp_cstr(""), .routing_key = amqp_cstr(queue_name), .mandatory = mandatory};
    uint8_t h[14], *p = h;
    size_t n = strlen(body);
    amqp_frame fr = {.type = AMQP_FRAME_HEADER, .channel = ch->id, .size = sizeof h, .payload = h};
    amqp_error err = {0};

    method(ch, AMQP_BASIC_PUBLISH, &pub);
    p = amqp_put16(p, AMQP_BASIC_CLASS);
    p = amqp_put16(p, 0);
    p = amqp_put64(p, n);
    amqp_put16(p, 0);
    assert_int_equal(channel_frame(ch, &fr, &err), 0);
    fr = (amqp_frame){.type = AMQP_FRAME_BODY, .channel = ch->id, .size = (uint32_t)n,
                      .payload = (const uint8_t *)body};
    assert_int_equal(channel_frame(ch, &fr, &err), 0);
}

static void publish(channel *ch, const char *queue_name, const char *body)
{
    publish_to(ch, queue_name, body, false);
}

static queue *declare(fixture *f, const char *name)
{
    queue *q = queue_new(f->vh, amqp_cstr(name), false, false, false, (amqp_table){0}, NULL);
    assert_non_null(q);
    return q;
}

/* A message published `ago` ms before now, appended to q as a publish does. */
static void publish_aged(fixture *f, queue *q, const char *body, int64_t ago)
{
    msg *m = msg_new(amqp_cstr(""), amqp_cstr(q->name), (const uint8_t *)"\0\0", 2, (uint32_t)strlen(body));
    assert_non_null(m);
    memcpy(msg_body(m), body, strlen(body));
    m->published = vhost_now_ms(f->vh) - ago;
    assert_int_equal(queue_publish(q, m, f->vh->next_seq++, NULL), QUEUE_OK);
}

static void test_queue_ready_counts_and_oldest_age(void **state)
{
    fixture *f = *state;
    queue *q = declare(f, "work");
    stats_queue s;

    assert_int_equal(stats_queue_get(f->vh, amqp_cstr("work"), &s), 0);
    assert_string_equal(s.name, "work");
    assert_string_equal(s.vhost, "/");
    assert_int_equal(s.ready, 0);
    assert_true(s.oldest_ready_ms == -1);
    assert_true(s.oldest_unacked_ms == -1);

    publish_aged(f, q, "first", 7000);
    publish_aged(f, q, "second!", 3000);
    assert_int_equal(stats_queue_get(f->vh, amqp_cstr("work"), &s), 0);
    assert_int_equal(s.ready, 2);
    assert_int_equal(s.ready_bytes, 5 + 7);
    assert_int_equal(s.counters.publish, 2);
    assert_int_equal(s.consumers, 0);
    /* the head's publish time, exactly (the loop's clock stands still) */
    assert_true(s.oldest_ready_ms == 7000);
    assert_true(s.memory >= sizeof *q + 2 * sizeof(qentry));
    assert_int_equal(stats_queue_get(f->vh, amqp_cstr("nothing"), &s), -1);
}

/* The oldest of each priority level's head: a message of a higher level
 * published later does not hide an older one below it. */
static void test_oldest_ready_over_priority_levels(void **state)
{
    fixture *f = *state;
    amqp_tbuf tb = {0};
    queue *q;
    msg *m;
    stats_queue s;

    amqp_tbuf_long(&tb, "x-max-priority", 5);
    q = queue_new(f->vh, amqp_cstr("prio"), false, false, false, amqp_tbuf_done(&tb), NULL);
    amqp_tbuf_free(&tb);
    assert_non_null(q);
    publish_aged(f, q, "low, old", 9000);
    m = msg_new(amqp_cstr(""), amqp_cstr("prio"), (const uint8_t *)"\0\0", 2, 1);
    m->priority = 5;
    m->published = vhost_now_ms(f->vh) - 10;
    assert_int_equal(queue_publish(q, m, f->vh->next_seq++, NULL), QUEUE_OK);
    assert_int_equal(stats_queue_get(f->vh, amqp_cstr("prio"), &s), 0);
    assert_int_equal(s.ready, 2);
    assert_true(s.oldest_ready_ms == 9000);
    assert_true(s.arguments.len > 0);
}

/* An entry whose body is only on disk (recovered, or paged out) has no
 * publish time: its age comes from the vhost's seq clock. */
static void test_age_of_a_body_on_disk_from_the_seq_clock(void **state)
{
    fixture *f = *state;
    queue *q = declare(f, "disk");
    int64_t now = vhost_now_ms(f->vh);
    qentry e = {.seq = 5, .size = 3, .flags = QE_STORED};
    stats_queue s;

    stats_seq_mark(f->vh, 1, now - 120000);
    stats_seq_mark(f->vh, 10, now - 60000);
    assert_int_equal(queue_recover(q, &e), 0);
    assert_int_equal(stats_queue_get(f->vh, amqp_cstr("disk"), &s), 0);
    assert_int_equal(s.ready, 1);
    /* seq 5 came after the mark of seq 1: at most that old */
    assert_true(s.oldest_ready_ms == 120000);
    assert_true(stats_seq_time(f->vh, 10) == now - 60000);
    assert_true(stats_seq_time(f->vh, 11) == now - 60000);
    /* a mark of an older or equal seq, or a second time in the same
     * second, changes nothing */
    stats_seq_mark(f->vh, 9, now - 1000);
    stats_seq_mark(f->vh, 12, now - 60000 + 10);
    assert_int_equal(f->vh->stats.clock.n, 2);
}

/* An hour without publishes: the tick moves the last mark forward, so the
 * next message (its body on disk) is not taken for an hour old. */
static void test_an_idle_mark_moves_forward(void **state)
{
    fixture *f = *state;
    queue *q = declare(f, "idle");
    qentry e = {.size = 1, .flags = QE_STORED};
    stats_queue s;

    stats_seq_mark(f->vh, f->vh->next_seq, vhost_now_ms(f->vh) - 3600000);
    stats_tick(f->vh);
    e.seq = f->vh->next_seq++;
    assert_int_equal(queue_recover(q, &e), 0);
    assert_int_equal(stats_queue_get(f->vh, amqp_cstr("idle"), &s), 0);
    assert_true(s.oldest_ready_ms == 0);
    assert_int_equal(f->vh->stats.clock.n, 1);
}

/* The clock holds a fixed number of marks: old ones are thinned, recent
 * ones stay exact, and a lookup never makes a message younger than it is. */
static void test_seq_clock_is_bounded_and_never_too_young(void **state)
{
    fixture *f = *state;
    int64_t t0 = 1700000000000;
    uint64_t i;

    for (i = 1; i <= 10000; i++)
        stats_seq_mark(f->vh, i * 10, t0 + (int64_t)i * 1000);
    assert_true(f->vh->stats.clock.n <= STATS_SEQCLOCK);
    for (i = 1; i <= 10000; i += 37) {
        int64_t truth = t0 + (int64_t)i * 1000, got = stats_seq_time(f->vh, i * 10 + 5);
        assert_true(got <= truth);
        /* the error stays within a fraction of the age */
        /* too old by at most about a 16th of the age, and 1 s */
        assert_true(truth - got <= (t0 + 10000 * 1000 - truth) / 12 + 1000);
    }
    /* the last seconds are exact */
    assert_true(stats_seq_time(f->vh, 9995 * 10 + 5) == t0 + 9995 * 1000);
}

static void test_rates_from_samples_and_the_history(void **state)
{
    fixture *f = *state;
    queue *q = declare(f, "rated");
    int64_t t = 1700000000000;
    stats_queue s;
    stats_totals tot;
    stats_sample h[STATS_HISTORY + 5];
    int i;

    stats_connection sc;

    open_channel(f);
    stats_sample_at(f->vh, t);
    for (i = 0; i < 10; i++)
        publish_aged(f, q, "x", 0);
    f->c->stats.recv_oct += 5000;
    stats_sample_at(f->vh, t + 5000);
    assert_int_equal(stats_connection_get(&f->b, "127.0.0.1:40000", &sc), 0);
    assert_true(sc.recv_oct_rate == 1000.0 && sc.send_oct_rate == 0.0);
    assert_int_equal(stats_connection_get(&f->b, "127.0.0.1:1", &sc), -1);
    assert_int_equal(stats_queue_get(f->vh, amqp_cstr("rated"), &s), 0);
    assert_true(s.rates.publish == 2.0);
    assert_true(s.rates.ack == 0.0);
    assert_true(s.idle_since == t + 5000);
    stats_totals_get(&f->b, &tot);
    assert_true(tot.rates.publish == 2.0);
    assert_int_equal(tot.counters.publish, 10);
    assert_int_equal(tot.ready, 10);
    assert_int_equal(tot.queues, 1);
    assert_int_equal(tot.exchanges, 7);

    /* nothing happens: the rate falls to 0, idle_since stays */
    stats_sample_at(f->vh, t + 10000);
    assert_int_equal(stats_queue_get(f->vh, amqp_cstr("rated"), &s), 0);
    assert_true(s.rates.publish == 0.0);
    assert_true(s.idle_since == t + 5000);

    assert_int_equal(stats_history(f->vh, h, STATS_HISTORY + 5), 3);
    assert_true(h[0].at == t && h[2].at == t + 10000);
    assert_int_equal(h[1].m.publish, 10);
    assert_int_equal(h[2].ready, 10);
    /* ten minutes of history, no more */
    for (i = 3; i < STATS_HISTORY + 10; i++)
        stats_sample_at(f->vh, t + i * 5000);
    assert_int_equal(stats_history(f->vh, h, STATS_HISTORY + 5), STATS_HISTORY);
    assert_true(h[STATS_HISTORY - 1].at == t + (STATS_HISTORY + 9) * 5000);
    assert_true(h[0].at == t + 10 * 5000);
    /* the newest ones when asked for fewer */
    assert_int_equal(stats_history(f->vh, h, 2), 2);
    assert_true(h[1].at == t + (STATS_HISTORY + 9) * 5000);
}

/* A consumer's delivery and its ack through real frames: the counters of
 * the queue, the channel, the exchange and the totals; the unacked bytes
 * and the oldest unacked delivery's age. */
static void test_deliver_and_ack_through_a_channel(void **state)
{
    fixture *f = *state;
    channel *ch = open_channel(f);
    queue *q = declare(f, "jobs");
    amqp_basic_consume bc = {.queue = amqp_cstr("jobs"), .consumer_tag = amqp_cstr("worker-1")};
    amqp_basic_ack ack = {.delivery_tag = 1};
    amqp_basic_qos qos = {.prefetch_count = 10};
    stats_queue s;
    stats_exchange x;
    stats_totals tot;

    method(ch, AMQP_BASIC_QOS, &qos);
    method(ch, AMQP_BASIC_CONSUME, &bc);
    publish(ch, "jobs", "hello");
    while (vhost_dispatch(f->vh))
        ;
    assert_int_equal(stats_queue_get(f->vh, amqp_cstr("jobs"), &s), 0);
    assert_int_equal(s.ready, 0);
    assert_int_equal(s.unacked, 1);
    assert_int_equal(s.unacked_bytes, 5);
    assert_int_equal(s.consumers, 1);
    assert_int_equal(s.counters.publish, 1);
    assert_int_equal(s.counters.deliver_get, 1);
    assert_int_equal(s.counters.deliver, 1);
    assert_int_equal(s.counters.deliver_no_ack, 0);
    assert_int_equal(s.counters.get, 0);
    assert_true(s.oldest_unacked_ms == 0);
    /* delivered 5 s ago, as far as the slot knows */
    unacked_ring_at(&ch->ua, 0)->at -= 5000;
    assert_int_equal(stats_queue_get(f->vh, amqp_cstr("jobs"), &s), 0);
    assert_true(s.oldest_unacked_ms == 5000);

    assert_int_equal(stats_exchange_get(f->vh, amqp_cstr(""), &x), 0);
    assert_string_equal(x.type, "direct");
    assert_int_equal(x.publish_in, 1);
    assert_int_equal(x.publish_out, 1);

    method(ch, AMQP_BASIC_ACK, &ack);
    assert_int_equal(stats_queue_get(f->vh, amqp_cstr("jobs"), &s), 0);
    assert_int_equal(s.unacked, 0);
    assert_int_equal(s.unacked_bytes, 0);
    assert_int_equal(s.counters.ack, 1);
    assert_true(s.oldest_unacked_ms == -1);

    stats_totals_get(&f->b, &tot);
    assert_int_equal(tot.connections, 1);
    assert_int_equal(tot.channels, 1);
    assert_int_equal(tot.consumers, 1);
    assert_int_equal(tot.received, 1);
    assert_int_equal(tot.routed, 1);
    assert_int_equal(tot.unroutable, 0);
    assert_int_equal(tot.counters.ack, 1);
    (void)q;
}

/* The oldest of several deliveries on two channels; one held by basic.get,
 * which no consumer accounts for, is found too. */
static void test_oldest_unacked_over_consumers_and_get(void **state)
{
    fixture *f = *state;
    channel *ch = open_channel(f);
    amqp_basic_get get = {.queue = amqp_cstr("q")};
    stats_queue s;

    declare(f, "q");
    publish(ch, "q", "a");
    publish(ch, "q", "b");
    method(ch, AMQP_BASIC_GET, &get);
    assert_int_equal(stats_queue_get(f->vh, amqp_cstr("q"), &s), 0);
    assert_int_equal(s.unacked, 1);
    assert_int_equal(s.counters.get, 1);
    assert_int_equal(s.counters.deliver_get, 1);
    unacked_ring_at(&ch->ua, 0)->at -= 2500;
    assert_int_equal(stats_queue_get(f->vh, amqp_cstr("q"), &s), 0);
    assert_true(s.oldest_unacked_ms == 2500);
    assert_int_equal(s.ready, 1);
}

/* A rejected and requeued message comes back marked redelivered, and its
 * next delivery counts as a redelivery. */
static void test_redelivery_is_counted(void **state)
{
    fixture *f = *state;
    channel *ch = open_channel(f);
    amqp_basic_get get = {.queue = amqp_cstr("r")};
    amqp_basic_reject rej = {.delivery_tag = 1, .requeue = true};
    stats_queue s;
    stats_totals tot;

    declare(f, "r");
    publish(ch, "r", "again");
    method(ch, AMQP_BASIC_GET, &get);
    method(ch, AMQP_BASIC_REJECT, &rej);
    method(ch, AMQP_BASIC_GET, &get);
    assert_int_equal(stats_queue_get(f->vh, amqp_cstr("r"), &s), 0);
    assert_int_equal(s.counters.deliver_get, 2);
    assert_int_equal(s.counters.get, 2);
    assert_int_equal(s.counters.redeliver, 1);
    assert_int_equal(s.counters.ack, 0);
    /* an empty get, and one without ack */
    method(ch, AMQP_BASIC_GET, &get);
    publish(ch, "r", "more");
    get.no_ack = true;
    method(ch, AMQP_BASIC_GET, &get);
    assert_int_equal(stats_queue_get(f->vh, amqp_cstr("r"), &s), 0);
    assert_int_equal(s.counters.get_empty, 1);
    assert_int_equal(s.counters.get_no_ack, 1);
    assert_int_equal(s.counters.get, 2);
    assert_int_equal(s.counters.deliver_get, 3);
    assert_int_equal(s.counters.deliver, 0);
    /* a deleted queue's counters stay in the totals */
    queue_delete(vhost_queue(f->vh, amqp_cstr("r")));
    stats_totals_get(&f->b, &tot);
    assert_int_equal(tot.queues, 0);
    assert_int_equal(tot.counters.deliver_get, 3);
    assert_int_equal(tot.counters.redeliver, 1);
    assert_int_equal(tot.counters.publish, 2);
    assert_int_equal(tot.counters.get_empty, 1);
    assert_int_equal(tot.counters.get_no_ack, 1);
}

/* A message acked after its queue was deleted still counts in the totals. */
static void test_ack_after_the_queue_is_deleted_counts(void **state)
{
    fixture *f = *state;
    channel *ch = open_channel(f);
    amqp_basic_get get = {.queue = amqp_cstr("gone")};
    amqp_basic_ack ack = {.delivery_tag = 1};
    stats_totals tot;

    declare(f, "gone");
    publish(ch, "gone", "held");
    method(ch, AMQP_BASIC_GET, &get);
    queue_delete(vhost_queue(f->vh, amqp_cstr("gone")));
    method(ch, AMQP_BASIC_ACK, &ack);
    stats_totals_get(&f->b, &tot);
    assert_int_equal(tot.queues, 0);
    assert_int_equal(tot.counters.publish, 1);
    assert_int_equal(tot.counters.get, 1);
    assert_int_equal(tot.counters.ack, 1);
}

static int count_channel(void *ctx, const stats_channel *s)
{
    stats_channel *out = ctx;
    *out = *s;
    return 0;
}

static int count_consumer(void *ctx, const stats_consumer *s)
{
    stats_consumer *out = ctx;
    *out = *s;
    return 0;
}

static int keep_connection(void *ctx, const stats_connection *s)
{
    amqp_value v;
    int *found = ctx;
    assert_string_equal(s->name, "127.0.0.1:40000");
    assert_string_equal(s->user, "guest");
    assert_string_equal(s->state, "running");
    assert_true(amqp_table_get(s->client_properties, "product", &v));
    assert_true(v.type == 'S' && v.v.s.len == 4 && !memcmp(v.v.s.ptr, "pika", 4));
    assert_true(amqp_table_get(s->client_properties, "capabilities", &v) && v.type == 'F');
    assert_true(amqp_table_get(s->client_properties, "information", &v)); /* RabbitMQ shows it */
    assert_false(amqp_table_get(s->client_properties, "x-private", &v));  /* what is not shown is not kept */
    (*found)++;
    return 0;
}

static int stop_at_first(void *ctx, const stats_queue *s)
{
    int *n = ctx;
    (*n)++;
    return 7;
}

static void test_channels_consumers_connections(void **state)
{
    fixture *f = *state;
    channel *ch = open_channel(f);
    amqp_basic_consume bc = {.queue = amqp_cstr("c"), .consumer_tag = amqp_cstr("tag-9"), .no_ack = true};
    amqp_confirm_select cs = {0};
    amqp_tbuf props = {0}, caps = {0};
    stats_channel sc;
    stats_consumer so;
    int found = 0, n = 0;

    declare(f, "c");
    declare(f, "d");
    method(ch, AMQP_BASIC_CONSUME, &bc);
    method(ch, AMQP_CONFIRM_SELECT, &cs);
    publish(ch, "c", "one");
    publish(ch, "nowhere", "lost");
    publish_to(ch, "nowhere", "back", true);
    while (vhost_dispatch(f->vh))
        ;
    assert_int_equal(stats_each_channel(&f->b, count_channel, &sc), 0);
    assert_int_equal(sc.unconfirmed, 3);
    assert_int_equal(sc.counters.confirm, 0);
    channel_flush_confirms(ch);
    assert_int_equal(stats_each_channel(&f->b, count_channel, &sc), 0);
    assert_int_equal(sc.unconfirmed, 0);
    assert_int_equal(sc.counters.confirm, 3);
    assert_int_equal(sc.counters.return_unroutable, 1);
    assert_string_equal(sc.state, "running");
    assert_int_equal(sc.number, 1);
    assert_string_equal(sc.connection, "127.0.0.1:40000");
    assert_int_equal(sc.consumers, 1);
    assert_true(sc.confirm);
    assert_false(sc.tx);
    assert_int_equal(sc.counters.publish, 3);
    assert_int_equal(sc.counters.deliver, 1);
    assert_int_equal(sc.unacked, 0);

    assert_int_equal(stats_each_consumer(&f->b, count_consumer, &so), 0);
    assert_string_equal(so.queue, "c");
    assert_string_equal(so.tag, "tag-9");
    assert_int_equal(so.channel, 1);
    assert_false(so.ack_required);
    assert_true(so.active);
    {
        stats_queue sq;
        assert_int_equal(stats_queue_get(f->vh, amqp_cstr("c"), &sq), 0);
        assert_int_equal(sq.counters.deliver_no_ack, 1);
        assert_int_equal(sq.counters.deliver, 0);
        assert_int_equal(sq.counters.deliver_get, 1);
        assert_int_equal(sq.counters.ack, 0);
    }

    amqp_tbuf_bool(&caps, "publisher_confirms", true);
    amqp_tbuf_str(&props, "product", amqp_cstr("pika"));
    amqp_tbuf_str(&props, "information", amqp_cstr("See http://pika.readthedocs.org"));
    amqp_tbuf_str(&props, "x-private", amqp_cstr("not shown"));
    amqp_tbuf_str(&props, "version", amqp_cstr("1.2.0"));
    amqp_tbuf_table(&props, "capabilities", amqp_tbuf_done(&caps));
    stats_conn_props(&f->c->stats, amqp_tbuf_done(&props));
    amqp_tbuf_free(&props);
    amqp_tbuf_free(&caps);
    assert_int_equal(stats_each_connection(&f->b, keep_connection, &found), 0);
    assert_int_equal(found, 1);

    {
        stats_totals tot;
        stats_totals_get(&f->b, &tot);
        assert_int_equal(tot.received, 3);
        assert_int_equal(tot.unroutable, 2);
        assert_int_equal(tot.returned, 1);
        assert_int_equal(tot.confirmed, 3);
    }
    /* an iterator stops when its callback says so, and says what it said */
    assert_int_equal(stats_each_queue(f->vh, stop_at_first, &n), 7);
    assert_int_equal(n, 1);
}

static int keep_consumers(void *ctx, const stats_consumer *s)
{
    stats_consumer *out = ctx;
    out[s->tag[1] - '1'] = *s;
    return 0;
}

/* x-single-active-consumer: the active consumer's tag on the queue, and
 * the other one waiting; an exclusive consumer's tag. */
static void test_single_active_and_exclusive_consumer_tags(void **state)
{
    fixture *f = *state;
    channel *ch = open_channel(f);
    amqp_tbuf tb = {0};
    amqp_basic_consume c1 = {.queue = amqp_cstr("sac"), .consumer_tag = amqp_cstr("c1")};
    amqp_basic_consume c2 = {.queue = amqp_cstr("sac"), .consumer_tag = amqp_cstr("c2")};
    amqp_basic_consume c3 = {.queue = amqp_cstr("ex"), .consumer_tag = amqp_cstr("c3"), .exclusive = true};
    stats_consumer cs[3];
    stats_queue s;

    amqp_tbuf_bool(&tb, "x-single-active-consumer", true);
    assert_non_null(queue_new(f->vh, amqp_cstr("sac"), false, false, false, amqp_tbuf_done(&tb), NULL));
    amqp_tbuf_free(&tb);
    declare(f, "ex");
    method(ch, AMQP_BASIC_CONSUME, &c1);
    method(ch, AMQP_BASIC_CONSUME, &c2);
    method(ch, AMQP_BASIC_CONSUME, &c3);
    assert_int_equal(stats_queue_get(f->vh, amqp_cstr("sac"), &s), 0);
    assert_string_equal(s.single_active_consumer_tag, "c1");
    assert_string_equal(s.exclusive_consumer_tag, "");
    assert_int_equal(s.consumers, 2);
    assert_int_equal(stats_queue_get(f->vh, amqp_cstr("ex"), &s), 0);
    assert_string_equal(s.single_active_consumer_tag, "");
    assert_string_equal(s.exclusive_consumer_tag, "c3");
    assert_int_equal(stats_each_consumer(&f->b, keep_consumers, cs), 0);
    assert_true(cs[0].active);
    assert_false(cs[1].active);
    assert_true(cs[2].active && cs[2].exclusive);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_queue_ready_counts_and_oldest_age, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oldest_ready_over_priority_levels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_age_of_a_body_on_disk_from_the_seq_clock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seq_clock_is_bounded_and_never_too_young, setup, teardown),
        cmocka_unit_test_setup_teardown(test_an_idle_mark_moves_forward, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rates_from_samples_and_the_history, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deliver_and_ack_through_a_channel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oldest_unacked_over_consumers_and_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_redelivery_is_counted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ack_after_the_queue_is_deleted_counts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_channels_consumers_connections, setup, teardown),
        cmocka_unit_test_setup_teardown(test_single_active_and_exclusive_consumer_tags, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
