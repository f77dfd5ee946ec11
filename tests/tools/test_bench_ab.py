"""tools/bench/ab.py, the A/B mode of the benchmarks: one warren build (A,
the baseline) against another (B, the candidate), in its quick form: a few
thousand messages per run, so the whole file takes a few seconds.

A is an "old" build, a wrapper around bin/warren that, like a build from
before the HTTP API, neither lists nor accepts --management-port (it turns
the API off itself); B is a copy of bin/warren, which gets
--management-port 0 because its --help lists the option."""
import json
import os
import re
import shutil
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
AB = os.path.join(ROOT, 'tools', 'bench', 'ab.py')
WARREN = os.path.join(ROOT, 'bin', 'warren')
PERF = os.path.join(ROOT, 'bin', 'warren-perf')

SHAPES = {
    'Throughput': ['transient 16 B, 1 producer + 1 consumer, autoack', 'manual ack each message, prefetch 100',
                   'manual ack, prefetch 100, multi-ack every 10'],
    "The work-queue tutorial's shape": ['tutorial: persistent, durable, prefetch 1, ack each, 4 consumers'],
    'Persistent messages with publisher confirms': [
        'persistent %s, confirms window %d, prefetch 100' % (size, w)
        for size in ('16 B', '4 KiB') for w in (100, 1000)],
}
HEADER = ('| shape | A median | B median | B/A | A min–max | B min–max | A CPU s/M msgs | B CPU s/M msgs '
          '| runs A / B |')
RATE = r'[0-9][0-9 ]* msg/s'


@pytest.fixture(scope='module', autouse=True)
def built():
    for path in (WARREN, PERF):
        if not os.access(path, os.X_OK):
            pytest.fail('%s is missing: build it first with `make`' % path, pytrace=False)


@pytest.fixture
def binaries(tmp_path):
    old = tmp_path / 'warren-old'
    old.write_text('#!/bin/sh\n'
                   'case "$1" in --help) "%s" --help | grep -v -- --management-; exit 0;; esac\n'
                   'for a; do case "$a" in --management-*) echo "unknown option $a" >&2; exit 2;; esac; done\n'
                   'exec "%s" --management-port 0 "$@"\n' % (WARREN, WARREN))
    old.chmod(0o755)
    new = tmp_path / 'warren-new'
    shutil.copy(WARREN, new)
    return str(old), str(new)


def ab(tmp_path, binaries, *args):
    out = tmp_path / 'ab.json'
    p = subprocess.run(['/usr/bin/python3', AB, '--baseline-bin', binaries[0], '--candidate-bin', binaries[1],
                        '--perf-bin', PERF, '--count', '3000', '--duration', '1', '--json', str(out)] +
                       [str(a) for a in args], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    with open(out) as f:
        return p.stdout, json.load(f)


def test_quick_ab_run_gives_a_row_per_shape_with_both_builds(tmp_path, binaries):
    text, raw = ab(tmp_path, binaries, '--repeat', 1)
    assert '- A (baseline): `%s`' % binaries[0] in text
    assert '- B (candidate): `%s` (sha256 ' % binaries[1] in text
    assert 'run with `--management-port 0`' in text.split('- B (candidate)')[1].split('\n')[0]
    assert '--management-port' not in text.split('- A (baseline)')[1].split('\n')[0]
    assert 'Problems' not in text
    assert '| persistent 16 B, confirms window 100, prefetch 100 | ' in text.split('| A p50 / p99 | B p50 / p99 |')[1]
    for title, labels in SHAPES.items():
        section = text.split('### ' + title)[1]
        assert HEADER in section
        # the rate table; the confirms group has a confirm-latency table after it
        section = section.split(HEADER)[1].split('\n\n')[0]
        for label in labels:
            row = [line for line in section.splitlines() if line.startswith('| %s |' % label)]
            assert len(row) == 1, (label, section)
            cells = [c.strip() for c in row[0].strip('|').split('|')]
            assert re.fullmatch(RATE, cells[1]) and re.fullmatch(RATE, cells[2]), cells
            a = int(cells[1][:-6].replace(' ', ''))
            b = int(cells[2][:-6].replace(' ', ''))
            assert abs(float(cells[3]) - b / a) < 0.001, cells
            assert cells[8] == '1 / 1', cells
    # every run: a broker of its own, all 3000 messages through, a clean exit
    runs = raw['runs']
    assert len(runs) == 2 * 8 and {r['broker'] for r in runs} == {'A', 'B'}
    for r in runs:
        assert 'failed' not in r and r['warren_exit'] == 0, r
        assert r['result']['received'] == 3000 and r['result']['lost'] == 0
        assert '--count' in r['perf_args'] and r['perf_args'][r['perf_args'].index('--count') + 1] == 3000


def test_runs_alternate_abba(tmp_path, binaries):
    _, raw = ab(tmp_path, binaries, '--repeat', 3, '--only', 'tutorial')
    assert [r['broker'] for r in raw['runs']] == ['A', 'B', 'B', 'A', 'A', 'B']


def test_refuses_a_missing_or_sanitizer_build(tmp_path, binaries):
    asan = tmp_path / 'warren-asan'
    shutil.copy(WARREN, asan)
    for bad in (str(tmp_path / 'nonexistent'), str(asan)):
        p = subprocess.run(['/usr/bin/python3', AB, '--baseline-bin', bad, '--candidate-bin', binaries[1]],
                           capture_output=True, text=True, timeout=30)
        assert p.returncode == 2 and bad in p.stderr, p.stderr
