"""Node.js amqplib programs run unchanged against the broker.

new_task.js and worker.js are RabbitMQ tutorial two for amqplib's
callback_api, as published but for the broker URL (AMQP_URL).  Each runs as
its own node process on the queue the tutorial names, task_queue.  The tests
preload worker_hooks.js into the workers: WORKER_DOT_MS makes one dot of work
take that many milliseconds instead of a second, and WORKER_DEBUG prints each
delivery's redelivered flag; one test runs the plain worker at the
tutorial's one second per dot.

amqplib_checks.js holds the amqplib behaviours beyond the tutorial (confirm
channel, topic routing, a 406 on redeclare, redelivery after channel.close,
the server's basic.cancel, get); each test runs one subcommand and asserts
on the JSON it prints.  publish_close.js is a user's program that publishes
thousands of messages in one loop and closes the connection (issue 11).
Everything here passes against RabbitMQ 3.10 too.
"""
import time

import pika
import pytest

from node_helpers import TASK_QUEUE, wait_for

WAITING = ' [*] Waiting for messages in task_queue. To exit press CTRL+C'
RECEIVED = ' [x] Received '
DONE = ' [x] Done'


def start_workers(node, n, dot_ms=None, debug=False):
    """n tutorial workers with worker_hooks.js, started together."""
    env = {}
    if dot_ms is not None:
        env['WORKER_DOT_MS'] = dot_ms
    if debug:
        env['WORKER_DEBUG'] = 1
    workers = [node.start('worker.js', preload='worker_hooks.js', **env) for _ in range(n)]
    for w in workers:
        w.wait_line(WAITING)
    return workers


def wait_consumers(amqp, n):
    def have():
        try:
            return amqp.passive(TASK_QUEUE)[1] == n
        except pika.exceptions.ChannelClosedByBroker:      # not declared yet
            amqp.ch = amqp.conn.channel()
            return False
    wait_for(have, 10, what='%d consumers on task_queue' % n)


def received(worker):
    return [l[len(RECEIVED):] for l in worker.text() if l.startswith(RECEIVED)]


def done_count(workers):
    return sum(w.text().count(DONE) for w in workers)


def publish_at_once(node, tasks):
    """Run new_task.js once per task, all at the same time; the runs, for
    assert_sent.  The tasks reach the queue in no particular order."""
    return [node.start('new_task.js', *t.split()) for t in tasks]


def publish_in_order(node, amqp, workers, tasks):
    """Run new_task.js once per task, each after the previous one's message
    reached the queue (so they are queued in this order), without waiting
    for the tutorial's 500 ms exit.  Returns the time each was seen queued,
    and the runs, for assert_sent."""
    seen_at = []
    runs = []
    for i, t in enumerate(tasks, 1):
        runs.append(node.start('new_task.js', *t.split()))

        def queued(n=i):
            got = sum(len(received(w)) for w in workers)   # lines first, then the count
            return got + amqp.passive(TASK_QUEUE)[0] >= n
        wait_for(queued, 10, what='task %r queued' % t)
        seen_at.append(time.monotonic())
    return seen_at, runs


def assert_sent(runs, tasks):
    """Each new_task.js printed the tutorial's line and exited 0."""
    for r, t in zip(runs, tasks):
        assert r.proc.wait(10) == 0, r.text()
        r.thread.join(5)
        assert r.text() == [" [x] Sent '%s'" % t]


def tasks_done(worker):
    """[(task, received at, done at)] from a worker's output, in order."""
    out, lines = [], worker.timed()
    for i, (t, l) in enumerate(lines):
        if l.startswith(RECEIVED):
            done = next((t2 for t2, l2 in lines[i + 1:] if l2 == DONE), None)
            out.append((l[len(RECEIVED):], t, done))
    return out


def assert_one_at_a_time(worker):
    """prefetch 1: the worker's next Received comes only after its Done."""
    body = [l for l in worker.text() if l.startswith(RECEIVED) or l == DONE]
    expect = []
    for task in received(worker):
        expect += [RECEIVED + task, DONE]
    assert body == expect, worker.text()


# -- the tutorial --------------------------------------------------------------

def test_tutorial_as_published(node, amqp):
    """The plain worker (no hooks) at one second per dot, and new_task's output."""
    w = node.start('worker.js')
    w.wait_line(WAITING)
    wait_consumers(amqp, 1)
    r = node.run('new_task.js', 'One', 'second.')
    assert r.returncode == 0, r.stderr.decode()
    assert r.stdout.decode() == " [x] Sent 'One second.'\n"
    w.wait_line(DONE, timeout=10)
    assert w.text() == [WAITING, RECEIVED + 'One second.', DONE]
    (task, got, done), = tasks_done(w)
    assert 0.95 <= done - got < 3, done - got
    wait_for(lambda: amqp.passive(TASK_QUEUE) == (0, 1), what='task acked')
    # the queue new_task.js and worker.js declared is durable
    amqp.ch.queue_declare(TASK_QUEUE, durable=True, passive=False)


def test_new_task_message_is_persistent_on_durable_queue(node, amqp):
    r = node.run('new_task.js')
    assert r.stdout.decode() == " [x] Sent 'Hello World!'\n"
    m, props, body = amqp.ch.basic_get(TASK_QUEUE, auto_ack=True)
    assert body == b'Hello World!' and props.delivery_mode == 2
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as ei:
        amqp.ch.queue_declare(TASK_QUEUE, durable=False)
    assert ei.value.reply_code == 406


def test_two_workers_share_six_tasks(node, amqp):
    a, b = start_workers(node, 2, dot_ms=100)
    wait_consumers(amqp, 2)
    tasks = ['Task %d..' % i for i in range(1, 7)]        # 0.2 s each
    runs = publish_at_once(node, tasks)
    wait_for(lambda: done_count([a, b]) == 6, 10, what='six tasks done')
    assert_sent(runs, tasks)
    assert sorted(received(a) + received(b)) == sorted(tasks)
    assert len(received(a)) == 3 and len(received(b)) == 3, (a.text(), b.text())
    assert_one_at_a_time(a)
    assert_one_at_a_time(b)
    wait_for(lambda: amqp.passive(TASK_QUEUE) == (0, 2), what='every task acked')


def test_killed_worker_task_goes_to_the_other(node, amqp):
    a, b = start_workers(node, 2, dot_ms=100, debug=True)
    wait_consumers(amqp, 2)
    tasks = ['one.', 'long........', 'three.', 'four.']   # long: 0.8 s
    runs = publish_at_once(node, tasks)
    long = tasks[1]
    wait_for(lambda: long in received(a) + received(b), 10, what='long task started')
    victim, survivor = (a, b) if long in received(a) else (b, a)
    # the worker prints its debug line right after "Received": wait for it
    # too, or a loaded machine can kill it between the two lines
    wait_for(lambda: victim.text()[-2:] == [RECEIVED + long, ' [debug] redelivered=false'], 5,
             what='the victim working on the long task (%r)' % victim.text())
    victim.kill()
    assert victim.text()[-2:] == [RECEIVED + long, ' [debug] redelivered=false'], victim.text()
    survivor.wait_line(RECEIVED + long, timeout=10)
    wait_for(lambda: survivor.text().count(DONE) + victim.text().count(DONE) == len(tasks), 10,
             what='every task done (survivor %r)' % survivor.text())
    lines = survivor.text()
    i = lines.index(RECEIVED + long)
    assert lines[i + 1:i + 3] == [' [debug] redelivered=true', DONE]
    # every task done exactly once, the killed one by the survivor
    finished = [t for w in (a, b) for t, _got, done in tasks_done(w) if done is not None]
    assert sorted(finished) == sorted(tasks)
    assert long in [t for t, _got, done in tasks_done(survivor) if done is not None]
    assert_sent(runs, tasks)
    wait_for(lambda: amqp.passive(TASK_QUEUE) == (0, 1), what='nothing left, one consumer')


def test_fair_dispatch_prefetch_one(node, amqp):
    """Heavy and light tasks alternate.  With prefetch 1 no worker holds a task
    it cannot start, so the heavy work is shared, and a task never waits in
    the queue while a worker is idle."""
    a, b = start_workers(node, 2, dot_ms=100)
    wait_consumers(amqp, 2)
    tasks = []
    for i in range(1, 4):
        tasks += ['heavy%d..........' % i, 'light%d.' % i]   # 1 s and 0.1 s
    seen_at, runs = publish_in_order(node, amqp, [a, b], tasks)
    queued_at = dict(zip(tasks, seen_at))
    wait_for(lambda: done_count([a, b]) == len(tasks), 10, what='all tasks done')
    assert_sent(runs, tasks)
    assert sorted(received(a) + received(b)) == sorted(tasks)
    assert_one_at_a_time(a)
    assert_one_at_a_time(b)
    # round-robin without prefetch would give one worker every heavy task
    heavies = [[t for t in received(w) if t.startswith('heavy')] for w in (a, b)]
    assert sorted(map(len, heavies)) == [1, 2], (a.text(), b.text())
    # no task waited while a worker was idle (a 150 ms allowance for the
    # client's turn-around: ack, delivery, callback)
    slack = 0.15
    idle = {}
    for w in (a, b):
        spans, free_from = [], w.timed()[0][0]
        for _task, got, done in tasks_done(w):
            spans.append((free_from, got))
            free_from = done
        spans.append((free_from, float('inf')))
        idle[w] = spans
    for w in (a, b):
        for task, got, _done in tasks_done(w):
            start = queued_at[task]
            for other in (a, b):
                for lo, hi in idle[other]:
                    overlap = min(hi, got) - max(lo, start)
                    assert overlap < slack, (
                        '%r waited %.2fs in the queue while a worker was idle' % (task, overlap))


# -- amqplib behaviours --------------------------------------------------------

def test_confirm_channel_1000_publishes(node, amqp, qname):
    r = node.check('confirm', qname, '1000')
    assert r == {'atWait': {'acked': 1000, 'nacked': 0},
                 'messageCount': 1000, 'deletedCount': 1000}


def test_topic_exchange_routing(node, amqp, qname):
    exchange = 'x-' + qname
    amqp.exchanges.append(exchange)
    r = node.check('topic', exchange)

    def keys(q):
        assert all(m['exchange'] == exchange and m['body'] == m['routingKey'] for m in r[q])
        return [m['routingKey'] for m in r[q]]
    assert keys('q1') == ['quick.orange.rabbit', 'lazy.orange.elephant', 'quick.orange.fox',
                          'quick.orange.again']
    assert keys('q2') == ['quick.orange.rabbit', 'lazy.orange.elephant', 'lazy.brown.fox',
                          'lazy.pink.rabbit', 'lazy.orange.new.rabbit', 'lazy']
    # deleted by the script
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as ei:
        amqp.ch.exchange_declare(exchange, passive=True)
    assert ei.value.reply_code == 404


def test_redeclare_task_queue_non_durable_406(node, amqp):
    r = node.run('new_task.js', 'keep', 'me.')
    assert r.returncode == 0, r.stderr.decode()
    r = node.check('inequivalent', TASK_QUEUE)
    text = ("PRECONDITION_FAILED - inequivalent arg 'durable' for queue 'task_queue' "
            "in vhost '/': received 'false' but current is 'true'")
    assert r['emitted'] == {
        'code': 406, 'classId': 50, 'methodId': 10,
        'message': 'Channel closed by server: 406 (PRECONDITION-FAILED) with message "%s"' % text}
    assert r['rejected']['code'] == 406
    assert r['rejected']['message'] == (
        'Operation failed: QueueDeclare; 406 (PRECONDITION-FAILED) with message "%s"' % text)
    assert r['messageCount'] == 1
    assert amqp.passive(TASK_QUEUE) == (1, 0)


def test_unacked_redelivered_after_channel_close(node, amqp, qname):
    r = node.check('close-redeliver', qname)
    bodies = ['one', 'two', 'three']
    assert r['first'] == [{'body': b, 'redelivered': False} for b in bodies]
    assert r['early'] == []
    assert r['before'] == {'messageCount': 0, 'consumerCount': 2}
    assert r['second'] == [{'body': b, 'redelivered': True} for b in bodies]
    assert r['after'] == {'messageCount': 0, 'consumerCount': 1}


def test_queue_deleted_under_consumer_calls_back_with_null(node, amqp, qname):
    r = node.check('cancel', qname)
    assert r == {'consumerCountBefore': 1, 'deletedCount': 0, 'messages': ['before delete'],
                 'gotNull': True, 'channelClosedAtCancel': False, 'afterCancel': 'after cancel'}


def test_get_with_and_without_messages(node, amqp, qname):
    r = node.check('get', qname)
    assert r['empty'] is False
    first = {'body': 'first', 'messageCount': 1, 'redelivered': False, 'deliveryTag': 1,
             'routingKey': qname, 'exchange': '', 'contentType': 'text/plain',
             'deliveryMode': 2, 'messageId': 'id-1',
             'headers': {'x-attempt': 1, 'x-note': 'hello'}}
    assert r['first'] == first
    assert r['again'] == dict(first, redelivered=True, deliveryTag=2)
    assert r['second'] == {'body': 'second', 'messageCount': 0, 'redelivered': False,
                           'deliveryTag': 3, 'routingKey': qname, 'exchange': '', 'headers': {}}
    assert r['emptyAgain'] is False
    assert r['deletedCount'] == 0


def test_publish_burst_then_close_exits_cleanly(node, amqp, qname):
    """Issue 11: a program publishes 5000 messages in one synchronous loop and
    calls connection.close(); amqplib writes the close ahead of the buffered
    publishes.  The broker answers close-ok and must keep reading (and
    dropping) what follows until amqplib hangs up: closing the socket at once
    made the rest of amqplib's writes fail with EPIPE, an unhandled 'error'
    that killed node (exit 1, every time)."""
    for count in ('2000', '5000'):
        r = node.run('publish_close.js', qname, count)
        err = r.stderr.decode()
        assert r.returncode == 0, err
        assert "Unhandled 'error'" not in err and 'EPIPE' not in err, err
        assert r.stdout.decode() == 'published %s and closed\n' % count
    # the publishes amqplib wrote after its close were dropped, as the spec
    # says and RabbitMQ does (with amqplib 0.10 that is all of them, on
    # RabbitMQ too: its muxer puts channel 0 first); the queue the program
    # declared is there, and the broker serves on
    assert amqp.passive(qname)[1] == 0
