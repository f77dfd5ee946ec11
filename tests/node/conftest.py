"""Fixtures for the Node.js amqplib tests: node programs as child processes.

Builds on tests/conftest.py (`broker`, `qname`); the classes are in
node_helpers.py.  Adds:
  node  - NodeRun: runs the .js files of this directory with AMQP_URL set to
          the test's broker, either to completion (run) or in the background
          (start: a NodeProc whose output lines are read, with times, by a
          thread); background processes are killed by pid at teardown.
  amqp  - a pika channel to look at the broker from outside; at teardown, and
          on an external broker (WARREN_TEST_URL) also at setup, it deletes
          task_queue (the tutorial's fixed queue name) and the names the test
          tracked, so runs can share one RabbitMQ.
  and alarm_seconds: NODE_TEST_TIMEOUT seconds (default 60) for the per-test alarm of
  tests/conftest.py.

amqplib comes from tests/node/node_modules, which scripts/install-deps.sh
fills from package-lock.json (`npm ci`); a missing or stale install fails the
tests with a message saying so.
"""
import json
import os
import shutil
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from node_helpers import Amqp, NodeRun  # noqa: E402

TEST_TIMEOUT = int(os.environ.get('NODE_TEST_TIMEOUT', '60'))


@pytest.fixture
def alarm_seconds():
    return TEST_TIMEOUT


@pytest.fixture(scope='session')
def node_bin():
    """The node binary, with amqplib installed as package-lock.json pins it."""
    node = shutil.which('node')
    if node is None:
        pytest.fail('node is not on PATH: run scripts/install-deps.sh')
    with open(os.path.join(HERE, 'package-lock.json')) as f:
        want = json.load(f)['packages']['node_modules/amqplib']['version']
    try:
        with open(os.path.join(HERE, 'node_modules', 'amqplib', 'package.json')) as f:
            have = json.load(f)['version']
    except OSError:
        have = None
    if have != want:
        pytest.fail('tests/node/node_modules has amqplib %s, package-lock.json wants %s: '
                    'run scripts/install-deps.sh' % (have, want))
    return node


@pytest.fixture
def node(node_bin, broker):
    n = NodeRun(node_bin, broker)
    yield n
    n.stop_all()


@pytest.fixture
def amqp(broker, qname):
    a = Amqp(broker)
    a.names.append(qname)
    a.cleanup()          # a task_queue left by an interrupted run on a shared RabbitMQ
    yield a
    a.close()
