"""Issue 15, points 5 and 6 with Node.js amqplib (tests/node/work_queue_checks.js):
de-duplication (the x-message-deduplication exchange and queue argument)
and the consumer timeout, as an amqplib program declares and uses them.

Warren-only: the reference RabbitMQ 3.10 has no de-duplication plugin and
no x-consumer-timeout (see tests/interop/test_dedup.py and
test_consumer_timeout.py, which test the same with pika, with restarts).
"""
import json
import os

import pytest

if os.environ.get('WARREN_TEST_URL'):
    pytest.skip('warren-only (see the module docstring)', allow_module_level=True)


def check(node, name, *args):
    r = node.run('work_queue_checks.js', name, *args)
    assert r.returncode == 0, r.stderr.decode()
    return json.loads(r.stdout.decode())


def test_dedup_exchange(node, qname):
    r = check(node, 'dedup', qname)
    assert r == {'routed': ['m0', 'm2', 'm3', 'm5'], 'badCode': 406}


def test_dedup_queue(node, qname):
    r = check(node, 'dedup-queue', qname)
    assert r == {'held': 2, 'first': 'a0', 'rest': ['b2', 'a-after-ack']}


def test_consumer_timeout_requeues_and_keeps_the_channel(node, qname):
    r = check(node, 'consumer-timeout', qname)
    assert r == {'bodies': ['hangs', 'hangs'], 'redelivered': [False, True], 'sameTag': True, 'left': 0,
                 'errors': []}
