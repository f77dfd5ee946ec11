"""A fake AMQP 0-9-1 broker that misbehaves on purpose, for new_task's
confirm paths that a real broker will not take on request.

It speaks just enough of the protocol for new_task: the handshake,
channel.open, queue.declare, confirm.select, basic.publish (counted), and
the closes.  What it does with a publish depends on `mode`:

  'silent'    never confirm anything (new_task must time out: exit 7)
  'nack:N,M'  nack the publishes with delivery tags N, M..., ack the rest

Each client connection is served by a thread; `published` counts the
basic.publish frames of all of them.
"""
import socket
import struct
import threading

FRAME_END = b'\xce'


def _frame(ftype, channel, payload):
    return struct.pack('>BHI', ftype, channel, len(payload)) + payload + FRAME_END


def _method(channel, cls, mth, args=b''):
    return _frame(1, channel, struct.pack('>HH', cls, mth) + args)


def _shortstr(s):
    return bytes([len(s)]) + s


def _longstr(s):
    return struct.pack('>I', len(s)) + s


class FakeBroker:
    def __init__(self, mode):
        self.mode = mode
        self.nack_tags = set()
        if mode.startswith('nack:'):
            self.nack_tags = {int(t) for t in mode[5:].split(',')}
        self.published = 0
        self.lock = threading.Lock()
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(('127.0.0.1', 0))
        self.listener.listen(8)
        self.port = self.listener.getsockname()[1]
        self.conns = []
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self):
        return 'amqp://guest:guest@127.0.0.1:%d/' % self.port

    def close(self):
        try:
            self.listener.close()
        except OSError:
            pass
        for c in list(self.conns):
            try:
                c.close()
            except OSError:
                pass

    def _accept(self):
        while True:
            try:
                c, _ = self.listener.accept()
            except OSError:
                return
            self.conns.append(c)
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, s):
        try:
            self._session(s)
        except OSError:
            pass
        finally:
            s.close()

    def _session(self, s):
        buf = b''

        def read_frame():
            nonlocal buf
            while True:
                if len(buf) >= 7:
                    ftype, ch, n = struct.unpack('>BHI', buf[:7])
                    if len(buf) >= 8 + n:
                        payload, buf = buf[7:7 + n], buf[8 + n:]
                        return ftype, ch, payload
                data = s.recv(65536)
                if not data:
                    return None
                buf += data

        header = b''
        while len(header) < 8:
            data = s.recv(8 - len(header))
            if not data:
                return
            header += data
        s.sendall(_method(0, 10, 10, b'\x00\x09' + struct.pack('>I', 0) +
                          _longstr(b'PLAIN') + _longstr(b'en_US')))
        tag = 0
        while True:
            f = read_frame()
            if f is None:
                return
            ftype, ch, p = f
            if ftype != 1:
                continue                       # content headers, bodies, heartbeats
            cls, mth = struct.unpack('>HH', p[:4])
            if (cls, mth) == (10, 11):         # start-ok
                s.sendall(_method(0, 10, 30, struct.pack('>HIH', 2047, 131072, 0)))
            elif (cls, mth) == (10, 40):       # open
                s.sendall(_method(0, 10, 41, _shortstr(b'')))
            elif (cls, mth) == (20, 10):       # channel.open
                s.sendall(_method(ch, 20, 11, _longstr(b'')))
            elif (cls, mth) == (50, 10):       # queue.declare: ticket, name, ...
                qlen = p[6]
                name = p[7:7 + qlen]
                s.sendall(_method(ch, 50, 11, _shortstr(name) + struct.pack('>II', 0, 0)))
            elif (cls, mth) == (85, 10):       # confirm.select
                s.sendall(_method(ch, 85, 11))
            elif (cls, mth) == (60, 40):       # basic.publish
                tag += 1
                with self.lock:
                    self.published += 1
                if self.mode == 'silent':
                    continue
                nack = tag in self.nack_tags
                s.sendall(_method(ch, 60, 120 if nack else 80, struct.pack('>QB', tag, 0)))
            elif (cls, mth) == (20, 40):       # channel.close
                s.sendall(_method(ch, 20, 41))
            elif (cls, mth) == (10, 50):       # connection.close
                s.sendall(_method(0, 10, 51))
                return
