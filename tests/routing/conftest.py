"""Fixtures for the routing, transaction and queue-feature tests.

Builds on tests/conftest.py (`broker`, `qname`).  Adds:
  amqp  - routing_helpers.RoutingAmqp: pika connections, unique queue and
          exchange names (amqp.name(), amqp.xname()), all closed and, on an
          external broker (WARREN_TEST_URL), deleted at teardown so runs can
          share one RabbitMQ;
  and a per-test alarm (ROUTING_TEST_TIMEOUT seconds, default 60) so a broker
  that never answers fails the test instead of hanging the run.
"""
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from routing_helpers import RoutingAmqp  # noqa: E402

TEST_TIMEOUT = int(os.environ.get('ROUTING_TEST_TIMEOUT', '60'))


@pytest.fixture
def alarm_seconds():
    return TEST_TIMEOUT


@pytest.fixture
def amqp(broker, qname):
    a = RoutingAmqp(broker)
    a.track(qname)
    yield a
    a.close()
