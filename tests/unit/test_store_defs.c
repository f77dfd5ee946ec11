/*
 * test_store_defs.c - the definitions log's records and the store's
 * recovery through hooks, without a broker.
 *
 * The records moved from the broker's structs to plain ones
 * (store_queue_def, ...) encoded in defs.c; the bytes must stay what
 * doc/store-format.md says, byte for byte, or stores written before would
 * not read.  And the store now builds nothing itself: it hands what it
 * finds to a store_recovery table, so a table of fakes here sees exactly
 * what recovery finds, in order, with no queue, exchange or vhost.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "quota.h"
#include "store/store_int.h"

#define S(lit) ((amqp_str){lit, sizeof lit - 1})

/* A table {"x-max-length": long 5}, encoded. */
static const uint8_t args[] = {12, 'x', '-', 'm', 'a', 'x', '-', 'l', 'e', 'n', 'g', 't', 'h', 'l', 0, 0, 0, 0, 0, 0, 0, 5};

static void check_bytes(const store_def *d, const uint8_t *want, size_t n)
{
    uint8_t buf[256];
    assert_int_equal(defs_encoded_size(d), n);
    defs_encode(d, buf);
    assert_memory_equal(buf, want, n);
}

static void test_record_bytes(void **state)
{
    /* the layouts of defs.h: kind, then the fields; strings u8 length +
     * bytes, tables u32 length + bytes, integers big-endian */
    static const uint8_t queue[] = {1, 0, 0, 1, 2, 4, 'j', 'o', 'b', 's', 3, 0, 0, 0, sizeof args};
    static const uint8_t queue_gone[] = {2, 0, 0, 1, 2};
    static const uint8_t exchange[] = {3, 2, 'e', 'x', 5, 't', 'o', 'p', 'i', 'c', 5, 0, 0, 0, 0};
    static const uint8_t exchange_gone[] = {4, 2, 'e', 'x'};
    static const uint8_t bind[] = {5, 2, 'e', 'x', 0, 4, 'j', 'o', 'b', 's', 3, 'a', '.', '#', 0, 0, 0, 0};
    static const uint8_t unbind[] = {6, 2, 'e', 'x', 1, 1, 'y', 0, 0, 0, 0, 0};
    static const uint8_t next_qid[] = {7, 0, 0, 0, 9};
    uint8_t qrec[sizeof queue + sizeof args];
    store_def d, got;
    (void)state;

    memcpy(qrec, queue, sizeof queue);
    memcpy(qrec + sizeof queue, args, sizeof args);
    d = (store_def){.kind = DEF_QUEUE,
                    .queue = {.name = S("jobs"), .durable = true, .auto_delete = true,
                              .arguments = {args, sizeof args}, .id = 258}};
    check_bytes(&d, qrec, sizeof qrec);
    assert_int_equal(defs_decode(qrec, sizeof qrec, &got), 0);
    assert_int_equal(got.kind, DEF_QUEUE);
    assert_int_equal(got.queue.id, 258);
    assert_true(amqp_str_eqc(got.queue.name, "jobs"));
    assert_true(got.queue.durable && got.queue.auto_delete);
    assert_int_equal(got.queue.arguments.len, sizeof args);
    assert_memory_equal(got.queue.arguments.ptr, args, sizeof args);

    d = (store_def){.kind = DEF_QUEUE_GONE, .qid = 258};
    check_bytes(&d, queue_gone, sizeof queue_gone);

    d = (store_def){.kind = DEF_EXCHANGE,
                    .exchange = {.name = S("ex"), .type = S("topic"), .durable = true, .internal = true}};
    check_bytes(&d, exchange, sizeof exchange);
    assert_int_equal(defs_decode(exchange, sizeof exchange, &got), 0);
    assert_true(amqp_str_eqc(got.exchange.type, "topic"));
    assert_true(got.exchange.durable && !got.exchange.auto_delete && got.exchange.internal);

    d = (store_def){.kind = DEF_EXCHANGE_GONE, .name = S("ex")};
    check_bytes(&d, exchange_gone, sizeof exchange_gone);

    d = (store_def){.kind = DEF_BIND,
                    .binding = {.source = S("ex"), .destination = S("jobs"), .destination_type = DEF_DEST_QUEUE,
                                .routing_key = S("a.#")}};
    check_bytes(&d, bind, sizeof bind);
    d = (store_def){.kind = DEF_UNBIND,
                    .binding = {.source = S("ex"), .destination = S("y"), .destination_type = DEF_DEST_EXCHANGE}};
    check_bytes(&d, unbind, sizeof unbind);
    assert_int_equal(defs_decode(unbind, sizeof unbind, &got), 0);
    assert_int_equal(got.kind, DEF_UNBIND);
    assert_int_equal(got.binding.destination_type, DEF_DEST_EXCHANGE);
    assert_true(amqp_str_eqc(got.binding.destination, "y"));

    d = (store_def){.kind = DEF_NEXT_QID, .qid = 9};
    check_bytes(&d, next_qid, sizeof next_qid);
}

static void test_malformed_records(void **state)
{
    static const uint8_t short_queue[] = {1, 0, 0, 0, 1, 4, 'j', 'o'};
    static const uint8_t long_gone[] = {2, 0, 0, 0, 1, 0};
    static const uint8_t trailing[] = {4, 2, 'e', 'x', 0};
    static const uint8_t bad_table[] = {3, 1, 'x', 6, 'd', 'i', 'r', 'e', 'c', 't', 1, 0, 0, 0, 2, 1, 'a'};
    static const uint8_t unknown[] = {99, 1, 2, 3};
    char big[300];
    store_def d;
    (void)state;

    assert_int_equal(defs_decode(short_queue, sizeof short_queue, &d), -1);
    assert_int_equal(defs_decode(long_gone, sizeof long_gone, &d), -1);
    assert_int_equal(defs_decode(trailing, sizeof trailing, &d), -1);
    assert_int_equal(defs_decode(bad_table, sizeof bad_table, &d), -1);
    /* a kind from a later version is kept by ignoring it */
    assert_int_equal(defs_decode(unknown, sizeof unknown, &d), 0);
    assert_int_equal(d.kind, 99);
    /* a name no AMQP short string can hold is not written */
    memset(big, 'n', sizeof big);
    d = (store_def){.kind = DEF_EXCHANGE_GONE, .name = {big, sizeof big}};
    assert_int_equal(defs_encoded_size(&d), 0);
}

/* The users' records (kinds 8 to 11), byte for byte as
 * doc/store-format.md has them, and back. */
static void test_user_records(void **state)
{
    static const uint8_t user[] = {8, 3, 'b', 'o', 'b', 0, 2, 0xAA, 0xBB, 3, 'a', ',', 'b'};
    static const uint8_t gone[] = {9, 3, 'b', 'o', 'b'};
    static const uint8_t perm[] = {10, 3, 'b', 'o', 'b', 1, '/', 2, '.', '*', 0, 1, 'x'};
    static const uint8_t perm_gone[] = {11, 3, 'b', 'o', 'b', 1, '/'};
    static const uint8_t cut[] = {10, 3, 'b', 'o', 'b', 1, '/', 2, '.', '*', 0};
    static const uint8_t extra[] = {9, 3, 'b', 'o', 'b', 0};
    store_def d, got;
    (void)state;

    d = (store_def){.kind = DEF_USER, .user = {.name = S("bob"), .algo = 0, .hash = S("\xAA\xBB"), .tags = S("a,b")}};
    check_bytes(&d, user, sizeof user);
    assert_int_equal(defs_decode(user, sizeof user, &got), 0);
    assert_true(amqp_str_eqc(got.user.name, "bob"));
    assert_int_equal(got.user.hash.len, 2);
    assert_true(amqp_str_eqc(got.user.tags, "a,b"));
    d = (store_def){.kind = DEF_USER_GONE, .user = {.name = S("bob")}};
    check_bytes(&d, gone, sizeof gone);
    d = (store_def){.kind = DEF_PERMISSION,
                    .perm = {.user = S("bob"), .vhost = S("/"), .configure = S(".*"), .write = S(""), .read = S("x")}};
    check_bytes(&d, perm, sizeof perm);
    assert_int_equal(defs_decode(perm, sizeof perm, &got), 0);
    assert_true(amqp_str_eqc(got.perm.read, "x"));
    assert_int_equal(got.perm.write.len, 0);
    d = (store_def){.kind = DEF_PERMISSION_GONE, .perm = {.user = S("bob"), .vhost = S("/")}};
    check_bytes(&d, perm_gone, sizeof perm_gone);
    assert_int_equal(defs_decode(cut, sizeof cut, &got), -1);
    assert_int_equal(defs_decode(extra, sizeof extra, &got), -1);
}

/* The limits of a vhost or a user (kind 15), byte for byte as
 * doc/store-format.md has them, and back; a value of -1 (no limit) is
 * kept as given; a cut or padded record is refused. */
static void test_limits_records(void **state)
{
    static const uint8_t vh[] = {15, 0, 1, 'v', 2,
                                 15, 'm', 'a', 'x', '-', 'c', 'o', 'n', 'n', 'e', 'c', 't', 'i', 'o', 'n', 's',
                                 0, 0, 0, 0, 0, 0, 0, 5,
                                 10, 'm', 'a', 'x', '-', 'q', 'u', 'e', 'u', 'e', 's',
                                 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    static const uint8_t none[] = {15, 1, 3, 'b', 'o', 'b', 0};
    static const uint8_t cut[] = {15, 1, 3, 'b', 'o', 'b', 1, 1, 'x', 0, 0};
    static const uint8_t extra[] = {15, 1, 3, 'b', 'o', 'b', 0, 0};
    static const uint8_t bad_scope[] = {15, 2, 3, 'b', 'o', 'b', 0};
    store_def d = {.kind = DEF_LIMITS}, got;
    limits l;
    (void)state;

    limits_init(&l);
    l.v[LIMIT_MAX_CONNECTIONS] = 5;
    l.v[LIMIT_MAX_QUEUES] = -1;
    limits_def(&l, DEF_LIMITS_VHOST, "v", &d.limits);
    check_bytes(&d, vh, sizeof vh);
    assert_int_equal(defs_decode(vh, sizeof vh, &got), 0);
    assert_int_equal(got.limits.scope, DEF_LIMITS_VHOST);
    assert_true(amqp_str_eqc(got.limits.name, "v"));
    assert_int_equal(limits_from_def(&l, &got.limits), 0);
    assert_int_equal(l.v[LIMIT_MAX_CONNECTIONS], 5);
    assert_int_equal(l.v[LIMIT_MAX_QUEUES], -1);
    assert_true(l.v[LIMIT_MAX_CHANNELS] == LIMIT_UNSET);
    limits_init(&l);
    limits_def(&l, DEF_LIMITS_USER, "bob", &d.limits);
    check_bytes(&d, none, sizeof none);
    assert_int_equal(defs_decode(cut, sizeof cut, &got), -1);
    assert_int_equal(defs_decode(extra, sizeof extra, &got), -1);
    assert_int_equal(defs_decode(bad_scope, sizeof bad_scope, &got), -1);
}

/* A queue, exchange or binding of a vhost other than "/": the record of
 * kind 1..6 inside a kind-12 one; "/" stays unwrapped (old files are all
 * "/"); vhosts themselves are 13 and 14. */
static void test_vhost_records(void **state)
{
    static const uint8_t gone_in_v2[] = {12, 2, 'v', '2', 4, 2, 'e', 'x'};
    static const uint8_t gone_in_root[] = {4, 2, 'e', 'x'};
    static const uint8_t vhost[] = {13, 2, 'v', '2'};
    static const uint8_t vhost_gone[] = {14, 2, 'v', '2'};
    static const uint8_t nested[] = {12, 1, 'a', 12, 1, 'b', 4, 0};
    static const uint8_t empty_name[] = {12, 0, 4, 2, 'e', 'x'};
    static const uint8_t user_inside[] = {12, 1, 'a', 9, 1, 'u'};
    store_def d, got;
    (void)state;

    d = (store_def){.kind = DEF_EXCHANGE_GONE, .vhost = S("v2"), .name = S("ex")};
    check_bytes(&d, gone_in_v2, sizeof gone_in_v2);
    assert_int_equal(defs_decode(gone_in_v2, sizeof gone_in_v2, &got), 0);
    assert_int_equal(got.kind, DEF_EXCHANGE_GONE);
    assert_true(amqp_str_eqc(got.vhost, "v2"));
    assert_true(amqp_str_eqc(got.name, "ex"));
    d = (store_def){.kind = DEF_EXCHANGE_GONE, .name = S("ex")};
    check_bytes(&d, gone_in_root, sizeof gone_in_root);
    assert_int_equal(defs_decode(gone_in_root, sizeof gone_in_root, &got), 0);
    assert_int_equal(got.vhost.len, 0);
    d = (store_def){.kind = DEF_VHOST, .name = S("v2")};
    check_bytes(&d, vhost, sizeof vhost);
    d = (store_def){.kind = DEF_VHOST_GONE, .name = S("v2")};
    check_bytes(&d, vhost_gone, sizeof vhost_gone);
    assert_int_equal(defs_decode(nested, sizeof nested, &got), -1);
    assert_int_equal(defs_decode(empty_name, sizeof empty_name, &got), -1);
    assert_int_equal(defs_decode(user_inside, sizeof user_inside, &got), -1);
}

/* ------------------------------------------------- recovery through fakes */

typedef struct fake {
    char log[4096];             /* what the hooks were told, in order */
    int queues[8];              /* handles: an int per queue */
    int nqueues;
    uint64_t last_seq;
    int emitted;
} fake;

static void say(fake *f, const char *fmt, ...)
{
    va_list ap;
    size_t n = strlen(f->log);
    va_start(ap, fmt);
    vsnprintf(f->log + n, sizeof f->log - n, fmt, ap);
    va_end(ap);
}

static void *fake_queue(void *ctx, const store_queue_def *d)
{
    fake *f = ctx;
    say(f, "queue %.*s %u %d|", (int)d->name.len, d->name.ptr, d->id, (int)d->arguments.len);
    f->queues[f->nqueues] = (int)d->id;
    return &f->queues[f->nqueues++];
}

static void fake_queue_deleted(void *ctx, void *q)
{
    say(ctx, "queue-gone %d|", *(int *)q);
}

static int fake_exchange(void *ctx, const store_exchange_def *d)
{
    say(ctx, "exchange %.*s %.*s|", (int)d->name.len, d->name.ptr, (int)d->type.len, d->type.ptr);
    return 0;
}

static void fake_exchange_deleted(void *ctx, amqp_str name)
{
    say(ctx, "exchange-gone %.*s|", (int)name.len, name.ptr);
}

static int fake_bind(void *ctx, const store_binding_def *d, bool add)
{
    say(ctx, "%s %.*s>%.*s %.*s|", add ? "bind" : "unbind", (int)d->source.len, d->source.ptr,
        (int)d->destination.len, d->destination.ptr, (int)d->routing_key.len, d->routing_key.ptr);
    return 0;
}

static int fake_message(void *ctx, void *q, const store_entry *e)
{
    if (e->redelivered)
        say(ctx, "msg q%d seq%llu %u redelivered after %u returns|", *(int *)q, (unsigned long long)e->seq,
            e->body_len, e->returns);
    else
        say(ctx, "msg q%d seq%llu %u|", *(int *)q, (unsigned long long)e->seq, e->body_len);
    return 0;
}

static void fake_last_seq(void *ctx, uint64_t seq)
{
    ((fake *)ctx)->last_seq = seq;
}

/* What exists after the log below: queue 2 and the exchange, bound (and
 * nothing in a store that had nothing). */
static int fake_each_def(void *ctx, int (*emit)(void *sink, const store_def *d), void *sink)
{
    fake *f = ctx;
    store_def q = {.kind = DEF_QUEUE, .queue = {.name = S("b"), .durable = true, .id = 2}};
    store_def x = {.kind = DEF_EXCHANGE, .exchange = {.name = S("ex"), .type = S("fanout"), .durable = true}};
    store_def b = {.kind = DEF_BIND,
                   .binding = {.source = S("ex"), .destination = S("b"), .destination_type = DEF_DEST_QUEUE}};
    f->emitted++;
    if (f->nqueues == 0)
        return 0;
    return emit(sink, &q) < 0 || emit(sink, &x) < 0 || emit(sink, &b) < 0 ? -1 : 0;
}

static store *open_fake(const char *dir, ev_loop *loop, fake *f, store_recovery *r)
{
    store_options opt = {0};
    store *st = NULL;
    memset(f, 0, sizeof *f);
    *r = (store_recovery){.ctx = f,
                          .declare_queue = fake_queue,
                          .delete_queue = fake_queue_deleted,
                          .declare_exchange = fake_exchange,
                          .delete_exchange = fake_exchange_deleted,
                          .bind = fake_bind,
                          .message = fake_message,
                          .last_seq = fake_last_seq,
                          .each_def = fake_each_def};
    assert_int_equal(store_open(&st, loop, dir, &opt, (store_hooks){0}, r), 0);
    return st;
}

static void test_recovery_through_hooks(void **state)
{
    char dir[] = "/tmp/warren-unit-defsXXXXXX", cmd[256];
    ev_loop *loop;
    store_recovery r;
    fake f;
    store *st;
    uint32_t a, b, both[2];
    int ha = 0, hb = 0;
    store_pos pos;
    msg *m;
    (void)state;

    assert_non_null(mkdtemp(dir));
    assert_non_null(loop = ev_loop_new());

    /* a fresh store: nothing recovered; then what a broker would write */
    st = open_fake(dir, loop, &f, &r);
    assert_string_equal(f.log, "");
    assert_int_equal(store_queue_declared(st, &(store_queue_def){.name = S("a"), .durable = true}, &ha, &a), 0);
    assert_int_equal(store_queue_declared(st,
                                          &(store_queue_def){.name = S("b"), .durable = true,
                                                             .arguments = {args, sizeof args}},
                                          &hb, &b), 0);
    assert_int_equal(a, 1);
    assert_int_equal(b, 2);
    assert_int_equal(store_exchange_declared(st, &(store_exchange_def){.name = S("ex"), .type = S("fanout"),
                                                                       .durable = true}), 0);
    assert_int_equal(store_binding(st, &(store_binding_def){.source = S("ex"), .destination = S("a"),
                                                            .routing_key = S("k")}, true), 0);
    assert_int_equal(store_binding(st, &(store_binding_def){.source = S("ex"), .destination = S("b")}, true), 0);
    assert_int_equal(store_binding(st, &(store_binding_def){.source = S("ex"), .destination = S("a"),
                                                            .routing_key = S("k")}, false), 0);
    assert_non_null(m = msg_new(S("ex"), S("k"), NULL, 0, 5));
    memcpy(msg_body(m), "hello", 5);
    both[0] = a;
    both[1] = b;
    assert_int_equal(store_put(st, m, 41, both, 2, &pos), 0);
    msg_unref(m);
    /* delivered three times (twice come back): the highest count is kept */
    store_delivered(st, b, pos.seg, pos.off, 0);
    store_delivered(st, b, pos.seg, pos.off, 2);
    store_delivered(st, b, pos.seg, pos.off, 1);
    store_write_acks(st);
    store_queue_deleted(st, a);
    store_close(st);

    /* recovered: the log in order, then the messages of the queues left */
    st = open_fake(dir, loop, &f, &r);
    assert_string_equal(f.log, "queue a 1 0|queue b 2 22|exchange ex fanout|bind ex>a k|bind ex>b |unbind ex>a k|"
                               "queue-gone 1|msg q2 seq41 5 redelivered after 2 returns|");
    assert_int_equal(f.last_seq, 41);
    assert_int_equal(f.emitted, 1);
    store_close(st);

    /* the rewrite at that start wrote what each_def emitted, after the
     * next queue id: a new queue still gets a new id */
    st = open_fake(dir, loop, &f, &r);
    assert_string_equal(f.log, "queue b 2 0|exchange ex fanout|bind ex>b |msg q2 seq41 5 redelivered after 2 returns|");
    assert_int_equal(store_queue_declared(st, &(store_queue_def){.name = S("c"), .durable = true}, &ha, &a), 0);
    assert_int_equal(a, 3);
    store_close(st);

    ev_loop_free(loop);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_bytes),
        cmocka_unit_test(test_malformed_records),
        cmocka_unit_test(test_user_records),
        cmocka_unit_test(test_vhost_records),
        cmocka_unit_test(test_limits_records),
        cmocka_unit_test(test_recovery_through_hooks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
