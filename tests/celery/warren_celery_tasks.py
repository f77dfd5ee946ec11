"""Celery app and tasks for the Celery acceptance tests (tests/celery/test_celery.py).

make_app() builds an app on a given broker and task queue, so each test gets
its own queue (runs can share one RabbitMQ) and the test process and the
workers it starts agree.  A worker (`python3 -m celery -A warren_celery_tasks
worker`) builds its app from the environment:
  WARREN_CELERY_BROKER  amqp://guest:guest@127.0.0.1:PORT//
  WARREN_CELERY_QUEUE   the task queue (also the name of its direct exchange)

Settings, and why:
  result_backend='rpc://'        results come back as AMQP messages to the
                                 caller's own auto-delete reply queue
  task_acks_late=True            ack after the task ran, so a worker killed
                                 mid-task leaves the message unacked and the
                                 broker hands it to another worker
  task_reject_on_worker_lost     prefork: a pool child killed mid-task makes
                                 the worker reject (requeue) instead of ack
  worker_prefetch_multiplier=1   a worker holds no more unacked tasks than it
                                 has processes
  broker_heartbeat=10            AMQP heartbeats every 5 s (workers only;
                                 Celery clients never heartbeat)
"""
import os
import time

from celery import Celery


def make_app(broker_url, queue):
    app = Celery('warren_celery_tasks', broker=broker_url, backend='rpc://')
    app.conf.update(
        task_default_queue=queue,
        task_default_exchange=queue,
        task_default_routing_key=queue,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_heartbeat=10,
        broker_connection_timeout=5,
        task_serializer='json',
        result_serializer='json',
        accept_content=['json'],
        worker_hijack_root_logger=False,
    )

    @app.task(name='warren_celery_tasks.add')
    def add(x, y):
        return x + y

    @app.task(name='warren_celery_tasks.stamp')
    def stamp():
        """When it ran (wall clock seconds): for countdown/ETA tasks."""
        return time.time()

    @app.task(name='warren_celery_tasks.where', bind=True)
    def where(self, marker_dir, value, hold=60.0):
        """Leave a marker named after this process; on a first delivery wait
        (so the test can kill this process), on a redelivery return at once."""
        pid = os.getpid()
        redelivered = bool((self.request.delivery_info or {}).get('redelivered'))
        with open(os.path.join(marker_dir, 'started-%d' % pid), 'w') as f:
            f.write('redelivered=%s\n' % redelivered)
        if not redelivered:
            deadline = time.monotonic() + hold
            while time.monotonic() < deadline:
                time.sleep(0.05)
        return {'value': value, 'pid': pid, 'redelivered': redelivered}

    # test_celery_retries.py: tasks that write down every run, so a test
    # can count how many times each ran and when
    def note(marker_dir, key, what):
        with open(os.path.join(marker_dir, key), 'a') as f:
            f.write('%s %d %.3f\n' % (what, os.getpid(), time.time()))

    @app.task(name='warren_celery_tasks.job', bind=True)
    def job(self, marker_dir, key, hold=0.0):
        """Note 'start', work `hold` seconds, note 'done'."""
        note(marker_dir, key, 'start')
        deadline = time.monotonic() + hold
        while time.monotonic() < deadline:
            time.sleep(0.02)
        note(marker_dir, key, 'done')
        return key

    @app.task(name='warren_celery_tasks.flaky', bind=True, autoretry_for=(ValueError,),
              retry_backoff=1, retry_jitter=False, max_retries=5)
    def flaky(self, marker_dir, key, failures):
        """Fail (ValueError) the first `failures` runs: autoretry_for with
        retry_backoff retries it after 1 s, 2 s, 4 s, ..."""
        note(marker_dir, key, 'run')
        if self.request.retries < failures:
            raise ValueError('failure %d of %d' % (self.request.retries + 1, failures))
        return self.request.retries

    return app


app = make_app(os.environ.get('WARREN_CELERY_BROKER', 'amqp://guest:guest@127.0.0.1:5672//'),
               os.environ.get('WARREN_CELERY_QUEUE', 'celery'))
