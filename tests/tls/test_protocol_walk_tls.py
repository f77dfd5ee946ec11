"""The protocol walk (tests/fuzz/protocol_walk.py) with TLS on, bounded:
every walker's AMQP connection over amqps (presenting guest's or alice's
client certificate, or none, to a broker with --tls-verify peer; some log
in with EXTERNAL), every API call over https through the TLS proxy, with
the walk's checks after each round and restarts on the way.  The long run
is `tests/fuzz/protocol_walk.py --tls --seconds 1800`
(doc/benchmarks.md#fuzzing)."""
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
for d in ('fuzz', 'interop'):
    p = os.path.join(os.path.dirname(HERE), d)
    if p not in sys.path:
        sys.path.insert(0, p)

import protocol_walk as walk  # noqa: E402
from test_protocol_walk import FixtureBroker  # noqa: E402
from tls_helpers import free_port  # noqa: E402

SEEDS = [1, 2, 3]
BUDGET_S = 10.0


class TlsFixtureBroker(FixtureBroker):
    """The walk's ports are the TLS ones."""

    @property
    def port(self):
        return self.b.tls_port

    @property
    def mgmt_port(self):
        return self.b.https_port


def test_protocol_walk_over_tls(tls_broker, pki, tmp_path):
    https_port = free_port()
    b = tls_broker('peer', '--management-tls-port', str(https_port), management=True)
    b.https_port = https_port
    b.require_control()
    walk.TLS = walk.Tls(str(tmp_path), paths=pki)
    try:
        args = walk.options(['--connections', '3', '--steps', '100', '--rounds', '2', '--restart-every', '1',
                             '--out', str(tmp_path / 'walk')])
        stats = {'ops': 0, 'rounds': 0, 'restarts': 0}
        deadline = time.monotonic() + BUDGET_S
        for seed in SEEDS:
            res = walk.run_session(args, seed, deadline, TlsFixtureBroker(b), stats)
            assert res is None, 'seed %d: %s\ntrace: %s' % (seed, res[0][:3000], res[1])
            if time.monotonic() > deadline:
                break
    finally:
        walk.TLS = None
    assert stats['rounds'] >= 2 and stats['restarts'] >= 1, stats
    assert stats['ops'] >= 2 * 3 * 100, stats
    assert stats.get('api', 0) >= 5, stats
    # the walk was over TLS: every connection that logged in had come in
    # on the amqps port
    import re
    log = b.log_text()
    tls_peers = set(re.findall(r'accepted TLS connection from (\S+)', log))
    opened = re.findall(r'connection (\S+) opened by user', log)
    assert len(opened) >= 10, log[-2000:]
    assert set(opened) <= tls_peers, sorted(set(opened) - tls_peers)[:5]
