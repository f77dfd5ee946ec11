"""The protocol walk (tests/fuzz/protocol_walk.py), bounded, on fixed seeds.

A few seconds of random method sequences from several connections at once
against the fixture broker, with its checks after every round (broker
alive, no sanitizer report, every open connection answers, a fresh
connection's round trip) and restarts (SIGTERM and kill -9) on the same
data directory, so the suite keeps walking the broker's state machine;
with the management API on, users and a second vhost in the mix and a
step that calls the API.  A
failure names the seed and the saved trace; replay and shrink it with

  tests/fuzz/protocol_walk.py --replay TRACE --minimize

warren-only: it restarts and kills the broker and reads its log.
"""
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'fuzz'))

import protocol_walk as walk  # noqa: E402

SEEDS = [1, 2, 3, 4, 5, 6]
BUDGET_S = 14.0


class FixtureBroker:
    """The fixture's Broker as the walk drives one."""

    def __init__(self, b):
        self.b = b

    @property
    def port(self):
        return self.b.port

    @property
    def mgmt_port(self):
        return self.b.mgmt_port

    def start(self):
        if self.alive():
            return None
        try:
            self.b.start()
        except RuntimeError as e:
            return str(e)
        return None

    def alive(self):
        return self.b.proc is not None and self.b.proc.poll() is None

    def exit_status(self):
        return 'exit %s' % (self.b.proc.returncode if self.b.proc else 'unknown')

    def stop(self):
        try:
            rc = self.b.stop()
        except AssertionError as e:
            return str(e)
        return None if rc in (0, None) else 'broker exited with %s after SIGTERM' % rc

    def kill(self):
        self.b.kill()

    def log_text(self):
        return self.b.log_text()

    def sanitizer_report(self):
        text = self.log_text()
        for mark in walk.SANITIZER_MARKS:
            i = text.find(mark)
            if i >= 0:
                return text[i:i + 6000]
        return None


def test_protocol_walk(broker_factory, tmp_path):
    broker = broker_factory(management=True)    # the walk's users, vhost and API steps
    broker.require_control()
    args = walk.options(['--connections', '4', '--steps', '120', '--rounds', '4', '--restart-every', '2',
                         '--out', str(tmp_path / 'walk')])
    stats = {'ops': 0, 'rounds': 0, 'restarts': 0}
    t0 = time.monotonic()
    deadline = t0 + BUDGET_S
    for seed in SEEDS:
        res = walk.run_session(args, seed, deadline, FixtureBroker(broker), stats)
        assert res is None, 'seed %d: %s\ntrace: %s' % (seed, res[0][:3000], res[1])
        if time.monotonic() > deadline:
            break
    # the walk did walk: rounds of steps, each checked, and restarts
    assert stats['rounds'] >= 4 and stats['restarts'] >= 2, stats
    assert stats['ops'] >= 4 * 4 * 120, stats
    assert stats.get('api', 0) >= 20, stats
