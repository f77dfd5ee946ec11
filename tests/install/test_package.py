"""Issue 17, section 3: warren installed the way operators install brokers.

  - `make install` honours PREFIX and DESTDIR, and the paths it writes
    into the unit and the config follow PREFIX.
  - `make deb` builds a Debian package; lintian finds no error in it; it
    holds the binaries, the man pages, /etc/warren/warren.conf (a
    conffile) and a hardened Type=notify systemd unit.
  - Installed on this machine (dpkg -i, purged at the end): the postinst
    made the warren system user and /var/lib/warren (0700, warren's); the
    unit passes `systemd-analyze verify`; the installed broker, run as the
    warren user with the packaged config (as the unit runs it), tells a
    notify socket READY=1 once it listens, serves the tutorial's new_task
    and worker and warrenctl, and says STOPPING=1 on SIGTERM.  systemd may
    not be PID 1 here, so the test stands in for it (install_helpers).

The install test needs root (dpkg); it removes the package it installed,
and the warren user if it made it.
"""
import io
import os
import pwd
import resource
import subprocess
import tarfile

import pytest

from install_helpers import ROOT, NotifySocket, Proc, can_connect, free_port, wait_for

PKG_BINARIES = ['usr/sbin/warren', 'usr/sbin/warrenctl', 'usr/sbin/warren-check-store',
                'usr/bin/new_task', 'usr/bin/worker', 'usr/bin/warren-perf']
PKG_MAN = ['usr/share/man/man8/warren.8.gz', 'usr/share/man/man8/warrenctl.8.gz',
           'usr/share/man/man1/new_task.1.gz', 'usr/share/man/man1/worker.1.gz',
           'usr/share/man/man1/warren-perf.1.gz']
UNIT = 'lib/systemd/system/warren.service'

# What the unit's User=, NoNewPrivileges=, CapabilityBoundingSet=,
# LimitNOFILE= and ProtectSystem=strict + ReadWritePaths=/var/lib/warren
# do, for a broker started without systemd: run by `unshare --mount` as
# `sh -ec SANDBOX sandbox PROGRAM ARGS...`; it execs, so the broker keeps
# the pid.  It checks its own read-only-ness before starting the broker.
SANDBOX = r'''
awk '{print $2}' /proc/self/mounts | while read -r m; do
    case "$m" in /proc|/proc/*|/sys|/sys/*|/dev|/dev/*) continue ;; esac
    mount -o remount,bind,ro "$m" 2>/dev/null || true
done
mount --bind /var/lib/warren /var/lib/warren
mount -o remount,bind,rw /var/lib/warren
for probe in /etc/.warren-probe /var/lib/.warren-probe /tmp/.warren-probe /usr/.warren-probe; do
    if touch "$probe" 2>/dev/null; then rm -f "$probe"; echo "sandbox: $probe is writable" >&2; exit 99; fi
done
# LimitNOFILE=65536, or this machine's hard limit if lower (a container's)
n=$(ulimit -Hn); [ "$n" = unlimited ] || [ "$n" -gt 65536 ] && n=65536
exec prlimit --nofile=$n:$n -- setpriv --reuid=warren --regid=warren --init-groups --no-new-privs \
    --bounding-set=-all --inh-caps=-all -- "$@"
'''


def run(cmd, **kw):
    kw.setdefault('timeout', 600)
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


@pytest.fixture(scope='module')
def deb():
    r = run(['make', '--no-print-directory', '-s', 'deb'], cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
    path = os.path.join(ROOT, r.stdout.strip().splitlines()[-1])
    assert os.path.isfile(path), r.stdout
    return path


def deb_files(deb):
    data = subprocess.run(['dpkg-deb', '--fsys-tarfile', deb], capture_output=True, check=True).stdout
    return tarfile.open(fileobj=io.BytesIO(data))


def test_make_install_follows_prefix_and_destdir(tmp_path):
    dest = tmp_path / 'stage'
    r = run(['make', '--no-print-directory', 'install', 'DESTDIR=%s' % dest, 'PREFIX=/opt/warren'], cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
    top = dest / 'opt' / 'warren'
    for rel in ['sbin/warren', 'sbin/warrenctl', 'bin/new_task', 'bin/worker', 'bin/warren-perf',
                'share/man/man8/warren.8', 'share/man/man1/worker.1', 'etc/warren/warren.conf',
                'lib/systemd/system/warren.service']:
        assert (top / rel).is_file(), rel
    unit = (top / 'lib/systemd/system/warren.service').read_text()
    assert 'ExecStart=/opt/warren/sbin/warren --config /opt/warren/etc/warren/warren.conf\n' in unit
    assert 'ReadWritePaths=/opt/warren/var/lib/warren\n' in unit
    assert 'data-dir /opt/warren/var/lib/warren\n' in (top / 'etc/warren/warren.conf').read_text()
    # the staged broker runs
    r = run([str(top / 'sbin/warren'), '--help'], timeout=30)
    assert r.returncode == 0 and '--log-format' in r.stdout
    # an operator's config is kept on a second install
    (top / 'etc/warren/warren.conf').write_text('port 5999\n')
    r = run(['make', '--no-print-directory', 'install', 'DESTDIR=%s' % dest, 'PREFIX=/opt/warren'], cwd=ROOT)
    assert r.returncode == 0
    assert (top / 'etc/warren/warren.conf').read_text() == 'port 5999\n'
    # PREFIX=/usr puts the config in /etc and the unit in /lib/systemd/system
    dest2 = tmp_path / 'usr-stage'
    r = run(['make', '--no-print-directory', 'install', 'DESTDIR=%s' % dest2, 'PREFIX=/usr'], cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert 'ExecStart=/usr/sbin/warren --config /etc/warren/warren.conf\n' in \
        (dest2 / 'lib/systemd/system/warren.service').read_text()


def test_lintian_finds_no_error(deb):
    r = run(['lintian', '--fail-on', 'error', '--display-info', deb])
    errors = [ln for ln in r.stdout.splitlines() if ln.startswith('E:')]
    assert not errors, r.stdout
    assert r.returncode == 0, r.stdout + r.stderr


def test_package_holds_what_a_broker_package_holds(deb):
    with deb_files(deb) as t:
        members = {m.name.lstrip('./'): m for m in t.getmembers()}
        for rel in PKG_BINARIES:
            m = members[rel]
            assert m.mode & 0o777 == 0o755 and m.uname == 'root', rel
        for rel in PKG_MAN + ['etc/warren/warren.conf', UNIT, 'usr/share/doc/warren/copyright']:
            assert rel in members, rel
        unit = t.extractfile(members[UNIT]).read().decode()
        conf = t.extractfile(members['etc/warren/warren.conf']).read().decode()
    lines = set(unit.splitlines())
    for want in ['Type=notify', 'User=warren', 'Group=warren',
                 'ExecStart=/usr/sbin/warren --config /etc/warren/warren.conf',
                 'LimitNOFILE=65536', 'ProtectSystem=strict', 'ReadWritePaths=/var/lib/warren',
                 'NoNewPrivileges=true', 'ProtectHome=true', 'PrivateTmp=true', 'CapabilityBoundingSet=']:
        assert want in lines, want
    assert 'data-dir /var/lib/warren' in conf.splitlines()
    fields = run(['dpkg-deb', '-f', deb, 'Package', 'Depends']).stdout
    assert 'Package: warren' in fields
    for dep in ['adduser', 'libc6', 'librabbitmq4', 'libmicrohttpd12', 'libjansson4']:
        assert dep in fields, fields
    conffiles = run(['dpkg-deb', '--info', deb, 'conffiles']).stdout
    assert conffiles.split() == ['/etc/warren/warren.conf']


def installed():
    r = run(['dpkg-query', '-W', '-f', '${Status}', 'warren'])
    return r.returncode == 0 and 'installed' in r.stdout and 'not-installed' not in r.stdout


def user_exists(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


@pytest.fixture
def installed_package(deb):
    if os.geteuid() != 0:
        pytest.skip('installing the package needs root (dpkg -i)')
    if installed():
        assert run(['dpkg', '--purge', 'warren']).returncode == 0
    had_user = user_exists('warren')
    # where systemd runs, the postinst would start the service on 5672:
    # policy-rc.d tells deb-systemd-invoke not to, as for rabbitmq-server
    # in scripts/install-deps.sh
    policy = '/usr/sbin/policy-rc.d'
    made_policy = False
    if os.path.isdir('/run/systemd/system') and not os.path.exists(policy):
        with open(policy, 'w') as f:
            f.write('#!/bin/sh\nexit 101\n')
        os.chmod(policy, 0o755)
        made_policy = True
    try:
        r = run(['dpkg', '-i', deb])
        assert r.returncode == 0, r.stdout + r.stderr
        yield
    finally:
        if made_policy:
            os.unlink(policy)
        r = run(['dpkg', '--purge', 'warren'])
        assert r.returncode == 0, r.stdout + r.stderr
        assert not os.path.exists('/var/lib/warren'), 'purge left the data directory'
        assert not os.path.exists('/usr/sbin/warren')
        if not had_user and user_exists('warren'):
            run(['deluser', '--system', '--quiet', 'warren'])
            run(['delgroup', '--system', '--quiet', 'warren'])


def test_installed_broker_runs_as_warren_and_serves_the_tutorial(installed_package, tmp_path):
    # what the postinst made
    pw = pwd.getpwnam('warren')
    assert pw.pw_uid < 1000 and pw.pw_shell in ('/usr/sbin/nologin', '/bin/false'), pw
    st = os.stat('/var/lib/warren')
    assert (st.st_mode & 0o777, st.st_uid) == (0o700, pw.pw_uid)
    st = os.stat('/etc/warren/warren.conf')
    assert (st.st_mode & 0o777, st.st_uid, st.st_gid) == (0o640, 0, pw.pw_gid)
    for page in ['warren', 'warrenctl', 'new_task', 'worker', 'warren-perf']:
        assert run(['man', '-w', page]).returncode == 0, page

    # the unit, as systemd reads it
    r = run(['systemd-analyze', 'verify', '/lib/systemd/system/warren.service'])
    assert r.returncode == 0 and 'warren' not in r.stdout + r.stderr, r.stdout + r.stderr

    # the installed broker as the unit runs it: user warren, no new
    # privileges, no capabilities, LimitNOFILE, and ProtectSystem=strict
    # with ReadWritePaths=/var/lib/warren played by a mount namespace in
    # which every file system is read-only but the data directory (so a
    # write anywhere else would fail here as under systemd); the packaged
    # config, with the ports moved off 5672 for the test
    port, mgmt = free_port(), free_port()
    notify = NotifySocket(world=True)
    b = None
    try:
        b = Proc(['unshare', '--mount', '--propagation', 'private', '--', 'sh', '-ec', SANDBOX,
                  'sandbox', '/usr/sbin/warren', '--config', '/etc/warren/warren.conf', '--port', str(port),
                  '--management-port', str(mgmt), '--prometheus-port', '0'],
                 tmp_path / 'warren.log', env={'NOTIFY_SOCKET': notify.env})
        notify.wait('READY=1', proc=b)
        assert can_connect(port), 'READY=1 before listening:\n' + b.log()
        with open('/proc/%d/status' % b.pid) as f:
            uids = [ln.split()[1:] for ln in f if ln.startswith(('Uid:', 'Gid:'))]
        assert uids == [[str(pw.pw_uid)] * 4, [str(pw.pw_gid)] * 4], uids
        with open('/proc/%d/status' % b.pid) as f:
            status = dict(ln.split(':', 1) for ln in f)
        assert int(status['CapBnd'].strip(), 16) == 0 and int(status['CapEff'].strip(), 16) == 0
        assert status['NoNewPrivs'].strip() == '1'
        want = str(min(65536, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
        with open('/proc/%d/limits' % b.pid) as f:
            assert [ln.split()[3:5] for ln in f if ln.startswith('Max open files')] == [[want, want]]
        assert 'data in /var/lib/warren' in b.log()

        # the tutorial, with the installed programs
        url = 'amqp://guest:guest@127.0.0.1:%d/' % port
        w = Proc(['/usr/bin/worker', '--url', url, '--dot-seconds', '0.01'], tmp_path / 'worker.log')
        try:
            wait_for(lambda: 'Waiting for messages' in w.log(), what='the worker')
            r = run(['/usr/bin/new_task', '--url', url, 'A very hard task....'], timeout=60)
            assert r.returncode == 0, r.stdout + r.stderr
            assert " [x] Sent 'A very hard task....'" in r.stdout
            wait_for(lambda: ' [x] Done' in w.log(), what='the worker to finish the task')
            assert " [x] Received 'A very hard task....'" in w.log()
        finally:
            assert w.stop() == 0
        r = run(['/usr/sbin/warrenctl', '--url', 'http://127.0.0.1:%d' % mgmt, '-s',
                 'list_queues', 'name', 'messages', 'consumers'], timeout=60)
        assert r.returncode == 0, r.stderr
        assert r.stdout.split('\n')[0].split('\t') == ['task_queue', '0', '0'], r.stdout

        # what it wrote is warren's, in the data directory only
        owners = {os.stat(os.path.join(d, n)).st_uid
                  for d, dirs, files in os.walk('/var/lib/warren') for n in dirs + files}
        assert owners == {pw.pw_uid}, owners

        b.proc.send_signal(15)
        notify.wait('STOPPING=1')
        assert b.proc.wait(30) == 0, b.log()
    finally:
        if b and b.proc.poll() is None:
            b.proc.kill()
        notify.close()
