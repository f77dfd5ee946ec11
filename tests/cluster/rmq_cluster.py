#!/usr/bin/python3
"""A 3-node RabbitMQ cluster on loopback, from Debian's rabbitmq-server.

Used by the tests in tests/cluster/ (conftest.py: the `cluster` fixture, one
per session) and as a script, to have a cluster to try things on:

    /usr/bin/python3 tests/cluster/rmq_cluster.py [--dir DIR] [--nodes 3]
        starts c1@localhost..c3@localhost, prints their URLs, waits for
        Ctrl-C, stops them.

Node i (1-based) is c<i>@localhost, AMQP on 127.0.0.1:<5680+i>,
distribution on 25680+i (the tests take the next free ten, 5690+i and
c<i>_5690@localhost, ..., when another run holds those), management off (the HTTP API is not needed: the
CLI does everything), the rabbitmq_shovel plugin enabled.  Each node has its
own directory under the harness's temp dir: mnesia/, log/, rabbitmq.conf,
enabled_plugins, a pid file, and a HOME with the cluster's shared
.erlang.cookie (0400); the CLI (rabbitmqctl) is run with the same HOME, so it
has the cookie too (RABBITMQ_ERLANG_COOKIE is deprecated).  Nodes 2 and 3
join node 1 with `rabbitmqctl stop_app / join_cluster c1@localhost /
start_app`.

Processes are stopped by pid: `rabbitmqctl stop` first (graceful), then
SIGKILL of the Erlang VM (beam.smp, whose pid the node writes to its pid
file) and of the rabbitmq-server shell that started it.  Nothing here looks
processes up by name, and the reference node ref@localhost (5673/25673),
which other tests share, is never touched: its ports and name are refused.
"""
import argparse
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SERVER = '/usr/lib/rabbitmq/bin/rabbitmq-server'
CTL = '/usr/lib/rabbitmq/bin/rabbitmqctl'
RESERVED_PORTS = {5672, 5673, 25672, 25673, 15672, 15673}


def available():
    """Why a cluster cannot be started here, or None when it can."""
    if not os.path.exists(SERVER) or not os.path.exists(CTL):
        return 'rabbitmq-server is not installed (apt-get install rabbitmq-server)'
    return None


def port_free(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(('127.0.0.1', port))
        except OSError:
            return False
    return True


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie child counts as gone
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().split(') ', 1)[1][0] != 'Z'
    except OSError:
        return False


class Node:
    def __init__(self, cluster, index):
        self.cluster = cluster
        self.index = index
        # c1@localhost...; a cluster on other ports (another run holds
        # these) has names of its own too, as epmd wants them unique
        self.name = ('c%d@localhost' % index if cluster.amqp_base == 5680
                     else 'c%d_%d@localhost' % (index, cluster.amqp_base))
        self.port = cluster.amqp_base + index
        self.dist_port = cluster.dist_base + index
        self.dir = os.path.join(cluster.dir, 'c%d' % index)
        self.home = os.path.join(self.dir, 'home')
        self.pid_file = os.path.join(self.dir, 'pid')
        self.log = os.path.join(self.dir, 'stdout.log')
        self.proc = None          # the rabbitmq-server shell script
        self.url = 'amqp://guest:guest@127.0.0.1:%d/' % self.port

    def env(self):
        env = dict(os.environ)
        # whatever the caller's environment says about another node
        for k in list(env):
            if k.startswith('RABBITMQ_') or k.startswith('ERL_'):
                del env[k]
        env.update(
            HOME=self.home,
            RABBITMQ_NODENAME=self.name,
            RABBITMQ_NODE_IP_ADDRESS='127.0.0.1',
            RABBITMQ_NODE_PORT=str(self.port),
            RABBITMQ_DIST_PORT=str(self.dist_port),
            RABBITMQ_MNESIA_BASE=os.path.join(self.dir, 'mnesia'),
            RABBITMQ_LOG_BASE=os.path.join(self.dir, 'log'),
            RABBITMQ_CONFIG_FILE=os.path.join(self.dir, 'rabbitmq.conf'),
            RABBITMQ_ADVANCED_CONFIG_FILE=os.path.join(self.dir, 'advanced.config'),
            RABBITMQ_ENABLED_PLUGINS_FILE=os.path.join(self.dir, 'enabled_plugins'),
            RABBITMQ_PID_FILE=self.pid_file,
            RABBITMQ_CONF_ENV_FILE=os.path.join(self.dir, 'rabbitmq-env.conf'),
            ERL_EPMD_ADDRESS='127.0.0.1',
            # the nodes' logs go to files; the console gets nothing
            RABBITMQ_LOGS=os.path.join(self.dir, 'log', 'node.log'),
        )
        return env

    def prepare(self):
        os.makedirs(self.home, exist_ok=True)
        os.makedirs(os.path.join(self.dir, 'log'), exist_ok=True)
        cookie = os.path.join(self.home, '.erlang.cookie')
        if not os.path.exists(cookie):
            with open(cookie, 'w') as f:
                f.write(self.cluster.cookie)
            os.chmod(cookie, 0o400)
        with open(os.path.join(self.dir, 'rabbitmq.conf'), 'w') as f:
            f.write('listeners.tcp.default = 127.0.0.1:%d\n' % self.port)
            f.write('loopback_users.guest = true\n')
            f.write('log.console = false\n')
            f.write('log.file.level = info\n')
            # a small machine shared with other work: no alarm from the
            # other nodes' and programs' memory or from a filling /tmp
            f.write('vm_memory_high_watermark.absolute = 1GB\n')
            f.write('disk_free_limit.absolute = 10MB\n')
        with open(os.path.join(self.dir, 'advanced.config'), 'w') as f:
            f.write('[].\n')
        with open(os.path.join(self.dir, 'rabbitmq-env.conf'), 'w') as f:
            f.write('# the harness sets everything in the environment\n')
        with open(os.path.join(self.dir, 'enabled_plugins'), 'w') as f:
            f.write('[%s].\n' % ','.join(self.cluster.plugins))

    def start(self):
        """Start the VM (not waiting for it)."""
        for p in (self.port, self.dist_port):
            if not port_free(p):
                raise RuntimeError('port %d (for %s) is in use' % (p, self.name))
        try:
            os.unlink(self.pid_file)
        except FileNotFoundError:
            pass
        with open(self.log, 'a') as f:
            self.proc = subprocess.Popen([SERVER], env=self.env(), stdout=f,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         start_new_session=True, cwd=self.dir)

    def beam_pid(self):
        """The Erlang VM's pid (beam.smp), from the node's pid file."""
        try:
            with open(self.pid_file) as f:
                text = f.read().strip()
        except FileNotFoundError:
            return None
        return int(text) if text.isdigit() else None

    def ctl(self, *args, timeout=120, check=True):
        """rabbitmqctl -n NODE ARGS; returns the CompletedProcess."""
        cmd = [CTL, '-n', self.name] + [str(a) for a in args]
        r = subprocess.run(cmd, env=self.env(), capture_output=True, text=True,
                           timeout=timeout)
        if check and r.returncode != 0:
            raise RuntimeError('%s failed (%d):\n%s%s' % (' '.join(cmd), r.returncode,
                                                           r.stdout, r.stderr))
        return r

    def wait_booted(self, timeout=120):
        deadline = time.monotonic() + timeout
        while self.beam_pid() is None:
            if self.proc.poll() is not None:
                raise RuntimeError('%s exited (%s) while starting:\n%s'
                                   % (self.name, self.proc.returncode, self.log_tail()))
            if time.monotonic() > deadline:
                raise RuntimeError('%s wrote no pid file in %ds:\n%s'
                                   % (self.name, timeout, self.log_tail()))
            time.sleep(0.1)
        left = max(5, int(deadline - time.monotonic()))
        self.ctl('wait', '--timeout', left, self.pid_file, timeout=left + 30)

    def log_tail(self, n=4000):
        out = []
        for path in (self.log, os.path.join(self.dir, 'log', 'node.log')):
            try:
                with open(path, errors='replace') as f:
                    out.append(f.read()[-n:])
            except OSError:
                pass
        return '\n'.join(out)

    def kill9(self):
        """SIGKILL the node's Erlang VM, as a crash of its host would;
        self.killed_at is when (time.monotonic())."""
        pid = self.beam_pid()
        if pid is None:
            raise RuntimeError('%s has no pid file' % self.name)
        os.kill(pid, signal.SIGKILL)
        self.killed_at = time.monotonic()
        if self.proc is not None:
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                pass
        return pid

    def stop(self):
        """Stop gracefully if it answers, then make sure by pid."""
        pid = self.beam_pid()
        if pid is not None and pid_alive(pid):
            try:
                self.ctl('stop', timeout=60, check=False)
            except subprocess.TimeoutExpired:
                pass
            deadline = time.monotonic() + 20
            while pid_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            if pid_alive(pid):
                os.kill(pid, signal.SIGKILL)
        if self.proc is not None:
            if self.proc.poll() is None:
                try:
                    self.proc.wait(10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            self.proc = None


def free_bases(nodes, first=5680, step=10, tries=20):
    """(amqp_base, dist_base) from 5680/25680 up in tens, the first where
    every port of the cluster is free now: two test runs at once (another
    checkout's) do not collide."""
    for k in range(tries):
        a, d = first + k * step, 20000 + first + k * step
        ports = [a + i for i in range(1, nodes + 1)] + [d + i for i in range(1, nodes + 1)]
        if not RESERVED_PORTS & set(ports) and all(port_free(p) for p in ports):
            return a, d
    raise RuntimeError('no free ports for a cluster from %d up' % first)


class Cluster:
    """Start with start(), stop with stop() (or use as a context manager).
    amqp_base=None: the first free bases from 5680/25680 (free_bases)."""

    def __init__(self, base_dir=None, nodes=3, amqp_base=5680, dist_base=25680,
                 plugins=('rabbitmq_shovel',)):
        if amqp_base is None:
            amqp_base, dist_base = free_bases(nodes)
        for i in range(1, nodes + 1):
            if amqp_base + i in RESERVED_PORTS or dist_base + i in RESERVED_PORTS:
                raise ValueError('ports %d/%d belong to another broker'
                                 % (amqp_base + i, dist_base + i))
        self.own_dir = base_dir is None
        self.dir = base_dir or tempfile.mkdtemp(prefix='warren-cluster-')
        self.amqp_base = amqp_base
        self.dist_base = dist_base
        self.plugins = list(plugins)
        self.cookie = secrets.token_hex(16).upper()
        self.nodes = [Node(self, i) for i in range(1, nodes + 1)]

    @property
    def urls(self):
        return [n.url for n in self.nodes]

    def node(self, name_or_port):
        for n in self.nodes:
            if name_or_port in (n.name, n.port):
                return n
        raise KeyError(name_or_port)

    def start(self, timeout=180):
        t0 = time.monotonic()
        try:
            for n in self.nodes:
                n.prepare()
                n.start()
            for n in self.nodes:
                n.wait_booted(timeout)
            first = self.nodes[0]
            for n in self.nodes[1:]:
                n.ctl('stop_app')
                n.ctl('join_cluster', first.name)
                n.ctl('start_app')
            self.wait_members(len(self.nodes), timeout=60)
        except BaseException:
            self.stop()
            raise
        self.start_seconds = time.monotonic() - t0
        return self

    def running_nodes(self, via=None):
        """Names of the running members, as node `via` (default: the first
        one that answers) sees them."""
        import json
        for n in ([via] if via else self.nodes):
            pid = n.beam_pid()
            if pid is None or not pid_alive(pid):
                continue
            r = n.ctl('cluster_status', '--formatter', 'json', check=False, timeout=60)
            if r.returncode == 0:
                return sorted(json.loads(r.stdout)['running_nodes'])
        return []

    def wait_members(self, count, timeout=60):
        deadline = time.monotonic() + timeout
        while True:
            running = self.running_nodes()
            if len(running) == count:
                return running
            if time.monotonic() > deadline:
                raise RuntimeError('cluster has %s running, wanted %d' % (running, count))
            time.sleep(0.5)

    def restart_node(self, node, timeout=120):
        """Start a stopped or killed node again; it rejoins by itself."""
        node.stop()
        node.start()
        node.wait_booted(timeout)
        self.wait_members(len(self.nodes), timeout=60)

    def stop(self):
        for n in reversed(self.nodes):
            try:
                n.stop()
            except Exception as e:   # stop the others all the same
                print('stopping %s: %s' % (n.name, e), file=sys.stderr)
        if self.own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--dir', help='where the nodes keep their data (default: a temp dir, removed)')
    ap.add_argument('--nodes', type=int, default=3)
    ap.add_argument('--amqp-base', type=int, default=5680)
    ap.add_argument('--dist-base', type=int, default=25680)
    a = ap.parse_args()
    why = available()
    if why:
        sys.exit(why)
    if a.dir:
        os.makedirs(a.dir, exist_ok=True)
    c = Cluster(a.dir, a.nodes, a.amqp_base, a.dist_base)
    c.start()
    print('cluster up in %.1f s: %s' % (c.start_seconds, ' '.join(c.running_nodes())))
    for n in c.nodes:
        print('  %s  %s  (beam.smp pid %s, dir %s)' % (n.name, n.url, n.beam_pid(), n.dir))
    print('Ctrl-C stops it.')
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        c.stop()


if __name__ == '__main__':
    main()
