"""Fixtures for the tests against a 3-node RabbitMQ cluster (rmq_cluster.py).

`cluster` is started once, by the first test that asks for it (about 20 s),
and stopped by pid after the last test of this directory (not at the end of
the whole session: three idle Erlang VMs would weigh on the tests after).  A test that kills a node
starts it again before it ends (Cluster.restart_node), so the next test
finds three running nodes.  Without rabbitmq-server installed the tests
are skipped, saying why (the install script installs it for `make test`).

Against an external broker (WARREN_TEST_URL) the cluster tests are skipped:
they compare warren with a cluster they start themselves.
"""
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import rmq_cluster  # noqa: E402


_running = []


@pytest.fixture(scope='session')
def cluster(tmp_path_factory):
    if os.environ.get('WARREN_TEST_URL'):
        pytest.skip('the cluster tests start their own brokers (WARREN_TEST_URL is set)')
    why = rmq_cluster.available()
    if why:
        pytest.skip(why)
    c = rmq_cluster.Cluster(str(tmp_path_factory.mktemp('rmq-cluster')), amqp_base=None)
    c.start()
    print('\ncluster up in %.1f s: %s' % (c.start_seconds, ' '.join(c.urls)))
    _running.append(c)
    yield c
    if c in _running:
        _running.remove(c)
        c.stop()


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item, nextitem):
    """Stop the cluster once the run leaves this directory."""
    if nextitem is not None and os.path.dirname(str(nextitem.fspath)) == HERE:
        return
    while _running:
        _running.pop().stop()


@pytest.fixture
def alarm_seconds():
    return 300
