"""The Makefile's user-facing targets (issue 11, points 10 and 11).

`make run` must build every program, not only the broker: the README goes
on with `bin/worker &` and `bin/new_task ...`.  Checked with a dry run
(`make -n -B run`: print what would be built, as if nothing were), which
builds and starts nothing.

`make codegen-check` must not pass silently without the spec JSON: in CI
(CI=true, as .ci/run is run) it fails, elsewhere it prints "SKIPPED: ...".
"""
import os
import re
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MISSING_SPEC = '/nonexistent/warren-test/amqp-rabbitmq-0.9.1.json'


def make(*args, env_ci=None):
    env = {k: v for k, v in os.environ.items() if k not in ('CI', 'MAKEFLAGS', 'MAKELEVEL', 'MFLAGS')}
    if env_ci is not None:
        env['CI'] = env_ci
    return subprocess.run(['make', '--no-print-directory', '-C', ROOT] + list(args), env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)


def test_make_run_builds_every_program_then_runs_the_broker():
    r = make('-n', '-B', 'run')
    assert r.returncode == 0, r.stderr
    built = re.findall(r' -o (bin/\S+)', r.stdout)
    for prog in ('bin/warren', 'bin/worker', 'bin/new_task'):
        assert prog in built, (prog, built)
    # every program `make all` builds, and only then the broker is started
    all_built = re.findall(r' -o (bin/\S+)', make('-n', '-B', 'all').stdout)
    assert sorted(built) == sorted(all_built)
    lines = r.stdout.splitlines()
    start = [i for i, line in enumerate(lines) if line.startswith('./bin/warren ')]
    assert start and all(' -o bin/' not in line for line in lines[start[0]:]), r.stdout[-2000:]


def test_codegen_check_without_the_spec_outside_ci_says_skipped():
    r = make('codegen-check', 'SPEC=' + MISSING_SPEC)
    assert r.returncode == 0, r.stdout + r.stderr
    assert 'codegen-check: SKIPPED: %s not found' % MISSING_SPEC in r.stdout
    # CI=false is not CI
    r = make('codegen-check', 'SPEC=' + MISSING_SPEC, env_ci='false')
    assert r.returncode == 0 and 'SKIPPED' in r.stdout, r.stdout + r.stderr


def test_codegen_check_without_the_spec_in_ci_fails():
    r = make('codegen-check', 'SPEC=' + MISSING_SPEC, env_ci='true')
    assert r.returncode != 0, r.stdout
    assert 'codegen-check: FAILED: the AMQP spec %s is missing' % MISSING_SPEC in r.stderr
    assert 'SKIPPED' not in r.stdout + r.stderr
    # as a make variable too
    r = make('codegen-check', 'SPEC=' + MISSING_SPEC, 'CI=true')
    assert r.returncode != 0 and 'FAILED' in r.stderr


def test_codegen_check_with_the_spec_compares():
    spec = os.path.join(ROOT, '..', 'shared', 'spec', 'amqp-rabbitmq-0.9.1.json')
    if not os.path.exists(spec):
        # as make codegen-check itself: only CI must have it
        assert os.environ.get('CI', '') in ('', 'false', '0'), 'CI without ../shared/spec/'
        pytest.skip('no ../shared/spec/amqp-rabbitmq-0.9.1.json outside CI')
    r = make('codegen-check', env_ci='true')
    assert r.returncode == 0, r.stdout + r.stderr
    assert 'codegen-check: generated codec is up to date' in r.stdout
