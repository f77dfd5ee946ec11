"""Retry with delay, built from nothing but TTL and dead-lettering.

The classic recipe: a consumer rejects (requeue=false) a message it cannot
handle yet; the work queue dead-letters it to a wait exchange whose queue has
x-message-ttl and dead-letters back to the work exchange.  After the delay
the message is back in the work queue, with one more round counted in
x-death: (work queue, rejected) and (wait queue, expired), most recent first.
"""
import time

import pika

from routing_helpers import count, wait_for

DELAY_MS = 300


def build(ch, amqp, delay_ms=DELAY_MS, durable=False):
    work_x, wait_x = amqp.xname('work-x'), amqp.xname('wait-x')
    work_q, wait_q = amqp.name('work'), amqp.name('wait')
    ch.exchange_declare(work_x, 'direct', durable=durable)
    ch.exchange_declare(wait_x, 'direct', durable=durable)
    ch.queue_declare(work_q, durable=durable, arguments={'x-dead-letter-exchange': wait_x})
    ch.queue_declare(wait_q, durable=durable, arguments={'x-dead-letter-exchange': work_x,
                                                         'x-message-ttl': delay_ms})
    ch.queue_bind(work_q, work_x, 'task')
    ch.queue_bind(wait_q, wait_x, 'task')
    return work_x, work_q, wait_x, wait_q


def test_retry_with_delay(amqp):
    conn = amqp.connect()
    ch = conn.channel()
    work_x, work_q, wait_x, wait_q = build(ch, amqp)
    attempts = []          # (monotonic time, headers, body, exchange, routing key)
    rejected_at = []

    def on_message(c, method, props, body):
        attempts.append((time.monotonic(), props.headers or {}, body, method.exchange,
                         method.routing_key))
        if len(attempts) < 4:
            c.basic_reject(method.delivery_tag, requeue=False)
            rejected_at.append(time.monotonic())
        else:
            c.basic_ack(method.delivery_tag)

    ch.basic_qos(prefetch_count=1)
    ch.basic_consume(work_q, on_message)
    pub = conn.channel()
    pub.confirm_delivery()
    pub.basic_publish(work_x, 'task', b'do it', pika.BasicProperties(
        headers={'job': 42}, delivery_mode=2, message_id='job-42'))
    wait_for(lambda: len(attempts) == 4, 10, conn=conn, what='4 attempts')

    for i, (t, headers, body, exchange, rk) in enumerate(attempts):
        assert body == b'do it'
        assert headers.get('job') == 42
        assert rk == 'task'
        if i == 0:
            assert exchange == work_x and 'x-death' not in headers
            continue
        assert exchange == work_x
        # came back only after the delay
        assert t - rejected_at[i - 1] >= (DELAY_MS / 1000.0) * 0.9, (i, t - rejected_at[i - 1])
        deaths = headers['x-death']
        assert [(d['queue'], d['reason'], d['count']) for d in deaths] == \
            [(wait_q, 'expired', i), (work_q, 'rejected', i)]
        assert deaths[0]['exchange'] == wait_x and deaths[0]['routing-keys'] == ['task']
        assert deaths[1]['exchange'] == work_x and deaths[1]['routing-keys'] == ['task']
        assert (headers['x-first-death-queue'], headers['x-first-death-reason'],
                headers['x-first-death-exchange']) == (work_q, 'rejected', work_x)
    # acked on the 4th attempt: nothing anywhere
    assert (count(ch, work_q), count(ch, wait_q)) == (0, 0)


def test_retry_many_messages_keep_their_counts(amqp):
    """Several messages cycling at once: each carries its own count."""
    conn = amqp.connect()
    ch = conn.channel()
    work_x, work_q, _wait_x, wait_q = build(ch, amqp, delay_ms=200)
    rounds = {}            # body -> attempts seen
    done = []

    def on_message(c, method, props, body):
        n = rounds.get(body, 0) + 1
        rounds[body] = n
        seen = 0
        for d in (props.headers or {}).get('x-death', []):
            if d['queue'] == work_q and d['reason'] == 'rejected':
                seen = d['count']
        assert seen == n - 1, (body, n, props.headers)
        limit = int(body.split(b'-')[1])
        if n <= limit:
            c.basic_reject(method.delivery_tag, requeue=False)
        else:
            c.basic_ack(method.delivery_tag)
            done.append(body)

    ch.basic_consume(work_q, on_message)
    pub = conn.channel()
    pub.confirm_delivery()
    want = [b'm-0', b'm-1', b'm-2', b'm-3']
    for b in want:
        pub.basic_publish(work_x, 'task', b)
    wait_for(lambda: len(done) == len(want), 10, conn=conn, what='all messages done')
    assert sorted(done) == want
    assert rounds == {b'm-0': 1, b'm-1': 2, b'm-2': 3, b'm-3': 4}
    assert count(ch, wait_q) == 0
