"""The man pages keep up with the programs: every long option a program's
--help lists is in its man page, and every warrenctl verb is in
warrenctl(8).  (Options came with TLS, the limits, the consumer timeout and
the cluster work after the pages were written; this is what caught it.)
"""
import os
import re
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.join(ROOT, 'bin')
MAN = os.path.join(ROOT, 'man')

PAGES = [('warren', 'warren.8'), ('warrenctl', 'warrenctl.8'), ('new_task', 'new_task.1'),
         ('worker', 'worker.1'), ('warren-perf', 'warren-perf.1')]


def help_text(prog):
    cmd = [os.path.join(BIN, prog), 'help' if prog == 'warrenctl' else '--help']
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    return p.stdout + p.stderr


def page_text(page):
    with open(os.path.join(MAN, page)) as f:
        # roff's escaped hyphens read as plain ones
        return f.read().replace('\\-', '-')


@pytest.mark.parametrize('prog,page', PAGES)
def test_every_long_option_is_in_the_man_page(prog, page):
    options = set(re.findall(r'(?<![\w-])(--[a-z][a-z0-9-]*)', help_text(prog)))
    assert options, 'no options found in %s --help' % prog
    text = page_text(page)
    missing = sorted(o for o in options if o not in text)
    assert not missing, '%s lists options its man page (%s) does not: %s' % (prog, page, missing)


def test_every_warrenctl_verb_is_in_its_man_page():
    out = help_text('warrenctl')
    verbs = set(re.findall(r'^  ([a-z_]+) ', out, re.M))
    assert 'list_queues' in verbs and 'browse' in verbs
    text = page_text('warrenctl.8')
    missing = sorted(v for v in verbs if v not in text)
    assert not missing, 'warrenctl(8) lacks the verbs %s' % missing
