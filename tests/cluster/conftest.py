"""Fixtures for the tests against a 3-node RabbitMQ cluster (rmq_cluster.py).

`cluster` is started once per session, by the first test that asks for it
(about 15 s), and stopped by pid at the end.  A test that kills a node
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


@pytest.fixture(scope='session')
def cluster(tmp_path_factory):
    why = rmq_cluster.available()
    if why:
        pytest.skip(why)
    c = rmq_cluster.Cluster(str(tmp_path_factory.mktemp('rmq-cluster')))
    c.start()
    print('\ncluster up in %.1f s: %s' % (c.start_seconds, ' '.join(c.urls)))
    yield c
    c.stop()


@pytest.fixture
def alarm_seconds():
    return 300
