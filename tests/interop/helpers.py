"""Helpers shared by the interop tests (imported by conftest.py and tests).

wait_for polls instead of sleeping, get_wait for a message; Amqp hands out pika connections and unique
queue names and cleans both up; Procs starts helper processes and kills them by
pid; broker_still_serves proves a broker survived some abuse.
"""
import os
import subprocess
import time
import uuid

import pika

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = '/usr/bin/python3'


def wait_for(predicate, timeout=5.0, interval=0.02, conn=None, what='condition'):
    """Poll predicate until true; with conn, pump pika events meanwhile."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            raise AssertionError('timed out after %.1fs waiting for %s' % (timeout, what))
        if conn is not None:
            conn.process_data_events(time_limit=interval)
        else:
            time.sleep(interval)


def get_wait(ch, q, timeout=5, interval=0.005):
    """basic.get from q until a message comes (method, properties, body), or
    (None, None, None) after timeout seconds."""
    end = time.time() + timeout
    while time.time() < end:
        m, props, body = ch.basic_get(q)
        if m:
            return m, props, body
        time.sleep(interval)
    return None, None, None


def url_params(url, **overrides):
    p = pika.URLParameters(url)
    p.socket_timeout = 5
    p.stack_timeout = 10
    p.blocked_connection_timeout = 10
    p.connection_attempts = 1
    for k, v in overrides.items():
        setattr(p, k, v)
    return p


class Amqp:
    """pika connections and unique queue names for one test."""

    def __init__(self, broker):
        self.broker = broker
        self.connections = []
        self.names = []

    def params(self, **overrides):
        return url_params(self.broker.url, **overrides)

    def connect(self, **overrides):
        c = pika.BlockingConnection(self.params(**overrides))
        self.connections.append(c)
        return c

    def channel(self, **overrides):
        """A channel on a fresh connection."""
        return self.connect(**overrides).channel()

    def name(self, prefix='test'):
        """A queue name unique to this test, deleted afterwards on an external broker."""
        n = '%s-%s' % (prefix, uuid.uuid4().hex[:12])
        self.names.append(n)
        return n

    def track(self, name):
        self.names.append(name)
        return name

    def close(self):
        for c in self.connections:
            try:
                if c.is_open:
                    c.close()
            except Exception:
                pass
        if not (self.broker.external and self.names):
            return
        try:
            c = pika.BlockingConnection(self.params())
            for n in self.names:
                if not c.is_open:
                    c = pika.BlockingConnection(self.params())
                try:
                    c.channel().queue_delete(n)
                except Exception:
                    pass
            c.close()
        except Exception:
            pass


class Procs:
    """Child processes of one test, killed by pid at teardown."""

    def __init__(self):
        self.procs = []

    def start(self, args, env=None, **kw):
        full_env = dict(os.environ)
        full_env['PYTHONUNBUFFERED'] = '1'
        full_env.update(env or {})
        p = subprocess.Popen(args, env=full_env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, **kw)
        self.procs.append(p)
        return p

    def stop_all(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                pass
            if p.stdout:
                p.stdout.close()


def broker_still_serves(broker, timeout=5.0):
    """A fresh pika connection can declare, publish and get: the broker kept serving."""
    c = pika.BlockingConnection(url_params(broker.url, socket_timeout=timeout))
    try:
        ch = c.channel()
        q = ch.queue_declare('', exclusive=True).method.queue
        body = uuid.uuid4().bytes
        ch.basic_publish('', q, body)
        deadline = time.monotonic() + timeout
        while True:
            m, _props, got = ch.basic_get(q, auto_ack=True)
            if m is not None:
                assert got == body
                return True
            assert time.monotonic() < deadline, 'broker accepted a publish but never delivered it'
            time.sleep(0.01)
    finally:
        c.close()
