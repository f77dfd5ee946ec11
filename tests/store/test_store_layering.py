"""The store calls nothing above it (issue 12, step 1C).

src/store/ sits under the broker: recovery used to build queues, exchanges
and bindings itself (queue_new, exchange_new, binding_add, queue_recover
from store_defs.c and recover.c) and store.h included warren.h, so the
store could not be built, tested or reused without the whole broker.  Now
it hands what it finds to hooks the broker registers (store_recovery,
implemented in src/recovery.c), and its writers take plain records.  These
tests keep it so: the issue's grep finds no call of a broker function and
no warren.h under src/store/, and every header the store includes is its
own, the codec's, the event loop's, or one of the leaf headers (log.h,
map.h, message.h) that themselves include nothing of the broker.
"""
import os
import re
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STORE = os.path.join(ROOT, 'src', 'store')

# the headers under src/ (not in a subdirectory) the store may include
LEAF_HEADERS = {'log.h', 'map.h', 'message.h'}
LOWER_DIRS = ('amqp/', 'ev/', 'store/')


def test_store_calls_nothing_above_it():
    """The acceptance grep of issue 12: no queue_/exchange_/binding_/
    channel_/conn_/vhost_/broker_ call and no warren.h in src/store/."""
    r = subprocess.run(['grep', '-rnE', r'\b(queue|exchange|binding|channel|conn|vhost|broker)_[a-z_]+\(|warren\.h',
                        STORE], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert r.returncode == 1 and r.stdout == '', 'src/store/ reaches above itself:\n' + r.stdout + r.stderr


def includes(path):
    with open(path) as f:
        return re.findall(r'^\s*#\s*include\s+"([^"]+)"', f.read(), re.M)


def test_store_includes_nothing_above_it():
    bad = []
    for name in sorted(os.listdir(STORE)):
        if not name.endswith(('.c', '.h')):
            continue
        for inc in includes(os.path.join(STORE, name)):
            if inc.startswith(LOWER_DIRS) or inc in LEAF_HEADERS or '/' not in inc and \
                    os.path.exists(os.path.join(STORE, inc)):
                continue
            bad.append('%s includes "%s"' % (name, inc))
    assert not bad, '\n'.join(bad)


def test_leaf_headers_stay_leaves():
    """What the store may include from src/ includes nothing of the broker
    in turn (only system headers, the codec, or another leaf)."""
    bad = []
    for name in sorted(LEAF_HEADERS):
        for inc in includes(os.path.join(ROOT, 'src', name)):
            if inc.startswith('amqp/') or inc in LEAF_HEADERS:
                continue
            bad.append('%s includes "%s"' % (name, inc))
    assert not bad, '\n'.join(bad)
