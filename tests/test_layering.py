"""The domain knows nothing of the protocol (issue 12, step 3).

The AMQP session (connections, channels, their handlers, direct reply-to,
the sessions' statistics) lives in src/proto/; the domain under it (queues,
consumers and dispatch, exchanges, the vhost and its API, publishing,
dead-lettering, the x- arguments, messages, recovery, the statistics of
queues and exchanges) is what every front end calls, AMQP today and HTTP
next.  Data flows one way, front end -> domain -> store, and what flows back
goes through callbacks the front end sets (consumer_ops, stats_session_ops).
These tests keep it so, by reading the sources:

* no domain file includes a src/proto/ header, or warren.h (the umbrella
  that holds them), directly or through another header;
* no domain file calls a conn_ or channel_ function or names the conn or
  channel types;
* the domain reads nothing through its vhost's broker (vh->b): the loop,
  the store and the settings it needs are the vhost's own (vh->loop,
  vh->st, vh->paging_threshold), and only the files that make a vhost
  (vhost.c) or answer for the whole broker (stats.c's totals) include
  broker.h;
* no .c file declares another file's functions: prototypes are in headers.

tests/store/test_store_layering.py does the same one level down.
"""
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, 'src')

DOMAIN_C = ['queue.c', 'consumer.c', 'exchange.c', 'exchange_direct.c', 'exchange_fanout.c',
            'exchange_headers.c', 'exchange_topic.c', 'vhost.c', 'publish.c', 'deadletter.c',
            'queue_args.c', 'message.c', 'recovery.c', 'stats.c', 'stats_node.c', 'redrive.c', 'dedup.c',
            'queue_dedup.c', 'exchange_dedup.c', 'delay.c', 'exchange_delayed.c', 'drain.c']
DOMAIN_H = ['queue.h', 'consumer.h', 'exchange.h', 'vhost.h', 'message.h', 'queue_args.h',
            'recovery.h', 'stats.h', 'redrive.h', 'dedup.h', 'queue_dedup.h', 'delay.h', 'drain.h']
DOMAIN = DOMAIN_C + DOMAIN_H

# The domain files that may include broker.h: vhost.c makes a vhost of
# the broker's (its loop, its settings), stats.c's stats_totals_get
# answers for the whole broker (its alarms), and stats_node.c for the
# process (its limits, its store).
BROKER_H_ALLOWED = {'vhost.c', 'stats.c', 'stats_node.c'}


def read(path):
    with open(path) as f:
        return f.read()


def code_only(text):
    """The source without comments and string literals."""
    text = re.sub(r'/\*.*?\*/', lambda m: '\n' * m.group(0).count('\n') or ' ', text, flags=re.S)
    text = re.sub(r'//[^\n]*', ' ', text)
    return re.sub(r'"(?:\\.|[^"\\\n])*"', '""', text)


def includes(path):
    return re.findall(r'^\s*#\s*include\s+"([^"]+)"', read(path), re.M)


def resolve(inc, from_path):
    for base in (os.path.dirname(from_path), SRC):
        p = os.path.normpath(os.path.join(base, inc))
        if os.path.exists(p):
            return p
    return None


def include_chain(path):
    """Every header path reaches, with the chain that reaches it."""
    seen = {}
    todo = [(path, [])]
    while todo:
        p, chain = todo.pop()
        for inc in includes(p):
            q = resolve(inc, p)
            if q is None or q in seen:
                continue
            seen[q] = chain + [inc]
            todo.append((q, chain + [inc]))
    return seen


def test_domain_files_exist():
    """The list above names real files (a rename must update it)."""
    missing = [n for n in DOMAIN if not os.path.exists(os.path.join(SRC, n))]
    assert not missing, missing


def test_domain_includes_nothing_of_the_protocol():
    bad = []
    for name in DOMAIN:
        for hdr, chain in include_chain(os.path.join(SRC, name)).items():
            rel = os.path.relpath(hdr, SRC)
            if rel.startswith('proto' + os.sep) or rel == 'warren.h':
                bad.append('%s includes %s (through %s)' % (name, rel, ' -> '.join(chain)))
    assert not bad, 'the domain sees the protocol layer:\n' + '\n'.join(bad)


def test_domain_calls_no_connection_or_channel():
    bad = []
    for name in DOMAIN:
        code = code_only(read(os.path.join(SRC, name)))
        for n, line in enumerate(code.split('\n'), 1):
            if re.search(r'\b(conn|channel)_[a-z_]+\s*\(|\b(conn|channel)\s*\*|\bstruct\s+(conn|channel)\b', line):
                bad.append('%s:%d: %s' % (name, n, line.strip()))
    assert not bad, 'the domain reaches up into the protocol layer:\n' + '\n'.join(bad)


def test_domain_reads_nothing_through_the_broker():
    bad = []
    for name in DOMAIN:
        code = code_only(read(os.path.join(SRC, name)))
        for n, line in enumerate(code.split('\n'), 1):
            if re.search(r'->b->', line):
                bad.append('%s:%d: %s' % (name, n, line.strip()))
        if name not in BROKER_H_ALLOWED and 'broker.h' in includes(os.path.join(SRC, name)):
            bad.append('%s includes broker.h' % name)
    assert not bad, 'the domain reaches into the broker:\n' + '\n'.join(bad)


# memstat.c declares what libc and the sanitizer runtime export, which have
# no header to include.
FOREIGN_PROTOTYPES = {'memstat.c'}


def test_no_prototypes_inside_c_files():
    """A function of another file is declared in that file's header, not
    repeated in the .c that calls it (declare.c's handlers were)."""
    proto = re.compile(r'^(?!static\b|typedef\b|return\b|extern\b|else\b)[A-Za-z_][\w \t\*]*?\b(\w+)\s*\([^;{}]*\)\s*;',
                       re.M)
    bad = []
    for dirpath, _, files in os.walk(SRC):
        for f in sorted(files):
            if not f.endswith('.c') or f in FOREIGN_PROTOTYPES:
                continue
            path = os.path.join(dirpath, f)
            for m in proto.finditer(code_only(read(path))):
                bad.append('%s: %s' % (os.path.relpath(path, SRC), m.group(0).strip()))
    assert not bad, 'prototypes declared inside .c files:\n' + '\n'.join(bad)
