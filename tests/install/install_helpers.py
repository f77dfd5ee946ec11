"""What the tests of tests/install share: a broker process started with
exactly the arguments a test gives (no --port or --bind added, unlike
tests/conftest.py's Broker, so a config file's listeners are what counts),
a notify-socket listener standing in for systemd, and small waits."""
import os
import socket
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.join(ROOT, 'bin')
WARREN_ASAN = os.environ.get('WARREN_BIN', os.path.join(BIN, 'warren-asan'))
SANITIZER_MARKS = ('ERROR: AddressSanitizer', 'runtime error:', 'ERROR: LeakSanitizer')


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def can_connect(port, host='127.0.0.1'):
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_for(cond, timeout=20.0, what='condition'):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.02)
    raise AssertionError('timed out waiting for ' + what)


class Proc:
    """A broker (or any program) whose stdout and stderr go to a file."""

    def __init__(self, cmd, log_path, env=None, preexec=None):
        self.log_path = str(log_path)
        full_env = dict(os.environ)
        full_env.setdefault('ASAN_OPTIONS', 'detect_leaks=1:abort_on_error=0')
        full_env.update(env or {})
        with open(self.log_path, 'w') as f:
            self.proc = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, env=full_env)
        self.pid = self.proc.pid

    def log(self):
        with open(self.log_path, errors='replace') as f:
            return f.read()

    def stop(self, timeout=20):
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError('did not stop within %ss of SIGTERM' % timeout)

    def assert_clean(self):
        text = self.log()
        for mark in SANITIZER_MARKS:
            assert mark not in text, 'sanitizer report:\n' + text[-6000:]


class NotifySocket:
    """What systemd does for Type=notify: a datagram socket named by
    $NOTIFY_SOCKET; messages() returns the datagrams received so far.
    abstract=True uses Linux's abstract namespace ('@name')."""

    def __init__(self, abstract=False, world=False):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.dir = None
        if abstract:
            name = 'warren-test-%d-%d' % (os.getpid(), time.monotonic_ns())
            self.sock.bind('\0' + name)
            self.env = '@' + name
        else:
            self.dir = tempfile.mkdtemp(prefix='warren-notify-')
            path = os.path.join(self.dir, 'notify')
            self.sock.bind(path)
            if world:
                # a broker running as another user must reach it
                os.chmod(self.dir, 0o755)
                os.chmod(path, 0o777)
            self.env = path
        self.sock.setblocking(False)
        self.got = []

    def messages(self):
        while True:
            try:
                self.got.append(self.sock.recv(4096).decode())
            except BlockingIOError:
                return list(self.got)

    def wait(self, assignment, timeout=30, proc=None):
        """The datagrams holding assignment; fails at once if proc (a
        Proc) exits meanwhile."""
        def seen():
            got = [m for m in self.messages() if assignment in m.split('\n')]
            if not got and proc is not None and proc.proc.poll() is not None:
                raise AssertionError('exited with %s before %s:\n%s' % (proc.proc.returncode, assignment,
                                                                      proc.log()[-4000:]))
            return got
        return wait_for(seen, timeout, what='%s on the notify socket (got %r)' % (assignment, self.got))

    def close(self):
        self.sock.close()
        if self.dir:
            try:
                os.unlink(os.path.join(self.dir, 'notify'))
            except OSError:
                pass
            os.rmdir(self.dir)
