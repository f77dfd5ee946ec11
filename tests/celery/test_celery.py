"""Celery (Debian python3-celery 5.2, kombu/py-amqp) against the broker, unchanged.

Workers are real `python3 -m celery worker` processes on a queue unique to
the test (conftest.py: celery_run); results come back through the rpc://
backend.  Settings are in warren_celery_tasks.py.  What each test proves:
  - 200 tasks sent with .delay() to a prefork worker (-c 2, Celery's default
    mingle/gossip/heartbeat steps on) all come back with the right result;
  - acks_late: a solo worker SIGKILLed in the middle of a task loses its
    connection, the broker requeues the unacked task and a second worker
    completes it (the task sees redelivered=True);
  - task_reject_on_worker_lost: a prefork pool child SIGKILLed mid-task makes
    the worker reject the message with requeue, and it runs again;
  - countdown (ETA) tasks held by a worker do not stall the tasks behind them:
    kombu raises the prefetch with basic.qos(global=false) for each ETA task
    it holds, and warren applies that to the worker's running consumer (as
    LavinMQ does; issue 11, point 4), so a plain task behind ten countdown=25
    tasks runs at once and a countdown=5 task runs at +5 s.
"""
import os
import signal
import time

from celery.result import ResultSet


def wait_file(path_glob_dir, prefix, timeout=30.0, worker=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [n for n in os.listdir(path_glob_dir) if n.startswith(prefix)]
        if found:
            return found
        if worker is not None and worker.proc.poll() is not None:
            raise AssertionError('worker exited:\n' + worker.log_text()[-4000:])
        time.sleep(0.05)
    raise AssertionError('no %s* in %s after %.0fs' % (prefix, path_glob_dir, timeout))


def test_200_tasks_prefork_rpc_results(celery_run):
    app = celery_run.app()
    add = app.tasks['warren_celery_tasks.add']
    w = celery_run.start_worker(pool='prefork', concurrency=2)
    w.wait_ready()
    results = [add.delay(i, 1000) for i in range(200)]
    # Collected with a native join, not r.get() one after another: Celery's
    # rpc:// get() drains one message from the socket before it looks at
    # what it already buffered, so every result that overtook an earlier one
    # costs its 1 s drain timeout at the end, whatever the broker (see
    # doc/clients.md).
    values = ResultSet(results, app=app).get(timeout=30)
    assert values == [i + 1000 for i in range(200)]
    assert all(r.successful() for r in results)
    assert [r.get(timeout=1) for r in results[:3]] == [1000, 1001, 1002]
    assert w.proc.poll() is None, w.log_text()[-4000:]


def test_acks_late_task_of_killed_worker_completed_by_another(celery_run, tmp_path):
    app = celery_run.app()
    where = app.tasks['warren_celery_tasks.where']
    markers = tmp_path / 'markers'
    markers.mkdir()
    first = celery_run.start_worker(pool='solo', extra=['--without-mingle', '--without-gossip'])
    first.wait_ready()
    r = where.delay(str(markers), 'payload-7')
    wait_file(str(markers), 'started-%d' % first.pid, worker=first)
    second = celery_run.start_worker(pool='solo', extra=['--without-mingle', '--without-gossip'])
    second.wait_ready()
    # the second worker is idle: the first holds the only task, unacked
    assert not [n for n in os.listdir(str(markers)) if n != 'started-%d' % first.pid]
    os.kill(first.pid, signal.SIGKILL)
    first.proc.wait(10)
    out = r.get(timeout=30)
    assert out == {'value': 'payload-7', 'pid': second.pid, 'redelivered': True}
    assert sorted(os.listdir(str(markers))) == sorted(['started-%d' % first.pid,
                                                       'started-%d' % second.pid])
    # and it ran exactly once more: nothing else left in the queue
    add = app.tasks['warren_celery_tasks.add']
    assert add.delay(2, 3).get(timeout=20) == 5


def test_reject_on_worker_lost_prefork_child_killed(celery_run, tmp_path):
    app = celery_run.app()
    where = app.tasks['warren_celery_tasks.where']
    markers = tmp_path / 'markers'
    markers.mkdir()
    w = celery_run.start_worker(pool='prefork', concurrency=2,
                                extra=['--without-mingle', '--without-gossip'])
    w.wait_ready()
    r = where.delay(str(markers), 'child')
    (marker,) = wait_file(str(markers), 'started-', worker=w)
    child = int(marker.split('-')[1])
    assert child != w.pid
    os.kill(child, signal.SIGKILL)
    out = r.get(timeout=30)
    assert out['value'] == 'child' and out['redelivered'] is True
    assert out['pid'] != child
    assert w.proc.poll() is None, w.log_text()[-4000:]



def test_countdown_tasks_do_not_stall_the_worker(celery_run):
    """The issue's reproducer, with Celery's default prefetch multiplier (4):
    before the fix the worker's consumer kept its first limit of 8, so the
    ten held countdown=25 tasks used it up and add() waited ~24 s for them."""
    app = celery_run.app()
    add = app.tasks['warren_celery_tasks.add']
    stamp = app.tasks['warren_celery_tasks.stamp']
    w = celery_run.start_worker(pool='prefork', concurrency=2,
                                extra=['--prefetch-multiplier', '4'])
    w.wait_ready()
    for _ in range(10):
        stamp.apply_async(countdown=25)
    t0 = time.monotonic()
    assert add.delay(1, 2).get(timeout=30) == 3
    took = time.monotonic() - t0
    # RabbitMQ: 0.0 s; warren before the fix: 24 s (the countdown)
    assert took < 10, 'add() behind ten countdown=25 tasks took %.1f s' % took
    sent = time.time()
    ran = stamp.apply_async(countdown=5).get(timeout=30)
    # before the fix: +21 s, when the countdown=25 tasks had freed the limit
    assert 4.5 <= ran - sent < 9, 'a countdown=5 task ran at %+.1f s' % (ran - sent)
    assert w.proc.poll() is None, w.log_text()[-4000:]
