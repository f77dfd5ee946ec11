"""Celery (Debian's python3-celery 5.2) with the same application module
(tests/celery/warren_celery_tasks.py) against the RabbitMQ cluster: the
smoke checks of tests/celery/test_celery.py, which run against warren there,
run here unchanged against node c2 of the cluster.

The fixtures and the test functions are taken from tests/celery/ as they are
(loaded under other module names), with a `celery_run` whose broker is the
cluster node; the queues are deleted at the end, as on any external broker.
All four pass on the cluster as on warren.
"""
import importlib.util
import os

import pytest

CELERY_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'celery')


def load(name, filename):
    spec = importlib.util.spec_from_file_location(name, os.path.join(CELERY_DIR, filename))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


fixtures = load('cluster_celery_fixtures', 'conftest.py')
celery_tests = load('cluster_celery_tests', 'test_celery.py')


class NodeBroker:
    """A cluster node seen as the external broker CeleryRun expects."""

    external = True

    def __init__(self, node):
        self.host = '127.0.0.1'
        self.port = node.port
        self.url = node.url


@pytest.fixture
def celery_run(cluster, tmp_path):
    run = fixtures.CeleryRun(NodeBroker(cluster.nodes[1]), tmp_path)
    yield run
    run.stop_all()


test_200_tasks_prefork_rpc_results = celery_tests.test_200_tasks_prefork_rpc_results
test_acks_late_task_of_killed_worker_completed_by_another = \
    celery_tests.test_acks_late_task_of_killed_worker_completed_by_another
test_reject_on_worker_lost_prefork_child_killed = \
    celery_tests.test_reject_on_worker_lost_prefork_child_killed
test_countdown_tasks_do_not_stall_the_worker = \
    celery_tests.test_countdown_tasks_do_not_stall_the_worker
