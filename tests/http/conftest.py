"""Fixtures for the HTTP API tests (issue 13): a broker with its
management port on (tests/conftest.py's Broker with management=True), and
a small client for it on urllib / http.client.

  mgmt   - a broker with the HTTP API on a free port, and an Api on it
  alarm_seconds: 60, so a broker that stops answering fails the test.
"""
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from http_helpers import Api  # noqa: E402 (after the path is set)


@pytest.fixture
def alarm_seconds():
    return 60


@pytest.fixture
def mgmt(broker_factory):
    b = broker_factory(management=True)
    if b.external:
        pytest.skip('needs a warren with its HTTP API on (WARREN_TEST_URL names an AMQP port only)')
    b.api = Api(b.host, b.mgmt_port)
    return b
