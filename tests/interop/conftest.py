"""Fixtures for the interop tests: real clients (pika, amqp-tools, raw sockets).

Builds on tests/conftest.py (`broker`, `qname`).  Adds:
  amqp   - pika BlockingConnections to the broker and unique queue names; at
           teardown closes every connection and, when the broker is external
           (WARREN_TEST_URL), deletes the queues the test named, so runs can
           share one RabbitMQ (helpers.Amqp).
  procs  - helper processes (tutorial workers, consumer processes), killed by
           pid at teardown (helpers.Procs).
  and alarm_seconds: INTEROP_TEST_TIMEOUT seconds (default 60) for the per-test alarm of
  tests/conftest.py so a broker
  that never answers fails the test instead of hanging the run.
"""
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from helpers import Amqp, Procs  # noqa: E402

TEST_TIMEOUT = int(os.environ.get('INTEROP_TEST_TIMEOUT', '60'))


@pytest.fixture
def alarm_seconds():
    return TEST_TIMEOUT


@pytest.fixture
def amqp(broker, qname):
    a = Amqp(broker)
    a.track(qname)
    yield a
    a.close()


@pytest.fixture
def procs():
    ps = Procs()
    yield ps
    ps.stop_all()
