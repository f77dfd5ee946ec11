#!/usr/bin/python3
"""ab.py - one build of warren against another: A/B, on this machine.

A refactor that must not cost speed is checked by running the same shapes
against a baseline binary (A) and the candidate (B).  The shapes, the
runner and the broker handling are bench.py's (throughput_shapes() and the
others, run_shapes(), run_once(), Warren); this file adds only the choice of
binaries and the A/B tables.  Every run starts a fresh warren of its own on
a free port with its own data directory, drives it with one warren-perf
(the same binary for A and B, so only the broker differs), reads the
broker's CPU time from /proc, and stops it by pid.  Runs alternate in ABBA
order (A B, B A, A B, ...) so a change in the machine's load hits both
builds alike.  The tables give, per shape, the median msg/s of A and B, the
ratio B/A, the min-max of each, and the broker's CPU per million messages.

doc/benchmarks.md ("A/B against a baseline build") has the commands.
"""
import argparse
import datetime
import hashlib
import json
import os
import signal
import sys
import time

import bench

# the groups whose shapes are rates of warren-perf runs
GROUPS = {'throughput': ('Throughput (consume rate, msg/s)', bench.throughput_shapes),
          'tutorial': ("The work-queue tutorial's shape (consume rate, msg/s)", bench.tutorial_shapes),
          'confirms': ('Persistent messages with publisher confirms (consume rate, msg/s)', bench.confirm_shapes),
          'routing': ('Routing (msg/s; CPU per million messages published)', bench.routing_shapes)}
DEFAULT_GROUPS = 'throughput,tutorial,confirms'


def resize(shape, count=None, duration=None):
    """Replace the shape's --count cap and --duration (for a quick check)."""
    args = list(shape.perf_args)
    for flag, value in (('--count', count), ('--duration', duration)):
        if value is not None and flag in args:
            args[args.index(flag) + 1] = value
    shape.perf_args = args
    return shape


def spread(recs, metric):
    xs = [r['result'].get(metric) for r in bench.good(recs)]
    xs = [x for x in xs if x is not None]
    if not xs:
        return 'n/a'
    return '%s–%s' % (bench.fmt_rate(min(xs)), bench.fmt_rate(max(xs)))


def ab_table(b, title, shapes, res):
    lines = ['### ' + title, '',
             '| shape | A median | B median | B/A | A min–max | B min–max | A CPU s/M msgs | B CPU s/M msgs '
             '| runs A / B |',
             '|---|---|---|---|---|---|---|---|---|']
    for s in shapes:
        recs = res[s.key]
        bench.failures(b, s.key, recs)
        for label, metric, _target, _ttext in s.rows or [(s.label, s.metric, None, '')]:
            av = bench.pick(recs['A'], lambda r: r['result'].get(metric))
            bv = bench.pick(recs['B'], lambda r: r['result'].get(metric))
            lines.append('| %s | %s msg/s | %s msg/s | %s | %s | %s | %s | %s | %d / %d |' % (
                label, bench.fmt_rate(av), bench.fmt_rate(bv),
                bench.fmt_num(bv / av if av and bv else None, '%.3f'),
                spread(recs['A'], metric), spread(recs['B'], metric),
                bench.fmt_num(bench.pick(recs['A'], lambda r: r.get('cpu_s_per_M'))),
                bench.fmt_num(bench.pick(recs['B'], lambda r: r.get('cpu_s_per_M'))),
                len(bench.good(recs['A'])), len(bench.good(recs['B']))))
    lines.append('')
    if any(s.key.startswith('confirm-') for s in shapes):
        lines += ['Confirm latency (publish to the confirm that covers it), medians of the runs:', '',
                  '| shape | A p50 / p99 | B p50 / p99 |', '|---|---|---|']
        for s in shapes:
            cells = [' / '.join(bench.fmt_us(bench.pick(res[s.key][x],
                                                        lambda r, k=k: bench.lat(r, k, 'confirm_latency_us')))
                                for k in ('p50', 'p99')) for x in ('A', 'B')]
            lines.append('| %s | %s | %s |' % (s.label, cells[0], cells[1]))
        lines.append('')
    return lines


def describe(path):
    with open(path, 'rb') as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:12]
    off = bench.off_options(path)
    return '`%s` (sha256 %s%s)' % (path, digest, ', run with `%s`' % ' '.join(off) if off else '')


def main():
    ap = argparse.ArgumentParser(description='Benchmark a candidate build of warren (B) against a baseline '
                                             'build (A) (see doc/benchmarks.md).')
    ap.add_argument('--baseline-bin', required=True, help='A: the warren binary to compare against')
    ap.add_argument('--candidate-bin', default=os.path.join(bench.ROOT, 'bin', 'warren'),
                    help='B: the warren binary under test (default %(default)s)')
    ap.add_argument('--perf-bin', default=os.path.join(bench.ROOT, 'bin', 'warren-perf'),
                    help='the load generator, the same for A and B (default %(default)s)')
    ap.add_argument('--only', default=DEFAULT_GROUPS,
                    help='comma-separated groups: %s (default %s)' % (','.join(GROUPS), DEFAULT_GROUPS))
    ap.add_argument('--repeat', type=int, default=5, help='runs per shape per binary (default 5)')
    ap.add_argument('--quick', action='store_true', help="bench.py's short runs (1 s of publishing, smaller caps)")
    ap.add_argument('--count', type=int, help="replace every shape's message cap (--count of warren-perf)")
    ap.add_argument('--duration', type=float, help="replace every shape's seconds of publishing")
    ap.add_argument('--topic-bindings', type=int, default=10000, help='for the routing group (%(default)s)')
    ap.add_argument('--out', help='also write the markdown tables to this file')
    ap.add_argument('--json', help='every run\'s raw record (default /tmp/warren-ab-TIME.json)')
    a = ap.parse_args()
    for path in (a.baseline_bin, a.candidate_bin, a.perf_bin):
        if not os.access(path, os.X_OK):
            ap.error('%s is missing or not executable' % path)
    for path in (a.baseline_bin, a.candidate_bin):
        if 'asan' in os.path.basename(path):
            ap.error('benchmark release builds, not %s' % path)
    if a.repeat < 1:
        ap.error('--repeat must be at least 1')
    groups = a.only.split(',')
    for g in groups:
        if g not in GROUPS:
            ap.error('unknown group %s (have %s)' % (g, ', '.join(GROUPS)))
    a.baseline_bin, a.candidate_bin = os.path.abspath(a.baseline_bin), os.path.abspath(a.candidate_bin)
    stamp = datetime.datetime.now().strftime('%Y%m%d-%H%M%S')
    if not a.json:
        a.json = '/tmp/warren-ab-%s.json' % stamp
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    b = bench.Bench(a, binaries={'A': a.baseline_bin, 'B': a.candidate_bin})
    head = ['## A/B run of %s' % datetime.datetime.now().strftime('%Y-%m-%d %H:%M'), '',
            '- A (baseline): %s' % describe(a.baseline_bin),
            '- B (candidate): %s' % describe(a.candidate_bin),
            '- load generator: `%s`' % a.perf_bin,
            '- %d runs per shape per binary in ABBA order%s%s%s; load average at start %s; %s CPUs.' % (
                a.repeat, '; `--quick`' if a.quick else '',
                '; `--count %d`' % a.count if a.count is not None else '',
                '; `--duration %g`' % a.duration if a.duration is not None else '',
                bench.loadavg(), os.cpu_count()), '']
    t_start = time.monotonic()
    try:
        for g in groups:
            print('== %s (load %s)' % (g, bench.loadavg()), file=sys.stderr, flush=True)
            title, make_shapes = GROUPS[g]
            shapes = [resize(s, a.count, a.duration) for s in make_shapes(b)]
            res = bench.run_shapes(b, shapes, brokers=('A', 'B'))
            b.tables.append(ab_table(b, title, shapes, res))
    except KeyboardInterrupt:
        b.problems.append('interrupted')
    finally:
        for w in list(bench.Warren.live):
            w.stop()
        bench.shutil_rmtree(b.workdir)
    head[-2] += ' Load average at the end %s; %.0f s in all.' % (bench.loadavg(), time.monotonic() - t_start)
    lines = head + [line for t in b.tables for line in t]
    if b.problems:
        lines += ['Problems seen in this run:', ''] + ['- ' + p for p in b.problems] + ['']
    text = '\n'.join(lines) + '\n'
    print(text)
    if a.out:
        with open(a.out, 'w') as f:
            f.write(text)
    with open(a.json, 'w') as f:
        json.dump({'started': stamp, 'args': vars(a), 'runs': b.raw, 'problems': b.problems}, f, indent=1)
    print('raw results: %s' % a.json, file=sys.stderr)
    sys.exit(1 if b.problems else 0)


if __name__ == '__main__':
    main()
