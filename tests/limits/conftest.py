"""Fixtures for the limits tests (issue 14, section 2): a broker with its
HTTP API on (to set vhost and user limits as an operator does), and the
helpers of tests/http and tests/interop on the path.

  lim     - a broker with the HTTP API on a free port, b.api an Api on it
  alarm_seconds: 90, so a broker that stops answering fails the test.
"""
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
for d in (HERE, os.path.join(HERE, '..', 'http'), os.path.join(HERE, '..', 'interop')):
    if d not in sys.path:
        sys.path.insert(0, d)

from http_helpers import Api  # noqa: E402 (after the path is set)


@pytest.fixture
def alarm_seconds():
    return 90


@pytest.fixture
def lim(broker_factory):
    b = broker_factory(management=True)
    if b.external:
        pytest.skip('needs a warren with its HTTP API on')
    b.api = Api(b.host, b.mgmt_port)
    return b
