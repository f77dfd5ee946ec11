"""The config file (--config FILE): what its parser was fuzzed into
(tests/fuzz/fuzz_config.c).

A line longer than the parser's 1024-byte buffer used to be read as two
lines: the value cut at byte 1022, the rest taken as an option of its own,
so a long --data-dir or password silently became a shorter one, and the
tail could set another option.  Now such a line is refused, naming it.
warren's own program: skipped against WARREN_TEST_URL.
"""
import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WARREN = os.path.join(ROOT, 'bin', 'warren')


def test_overlong_config_line_is_refused_not_split(tmp_path):
    if os.environ.get('WARREN_TEST_URL'):
        pytest.skip("tests warren's own program")
    data = str(tmp_path / 'd')
    head = 'data-dir %s/' % data
    # the first 1023 bytes end inside the path; what follows looks like an option
    line = head + 'a' * (1023 - len(head)) + 'prometheus-port 0\n'
    conf = tmp_path / 'warren.conf'
    conf.write_text('# long line next\n' + line)
    r = subprocess.run([WARREN, '--config', str(conf), '--port', '1', '--management-port', '0'],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 2, (r.returncode, r.stderr[-2000:])
    assert '%s:2: line longer than 1022 bytes' % conf in r.stderr, r.stderr
    assert not os.path.exists(data)
