"""Idle connections held against a listener, and how the server treats
them: the flood tests of the HTTP API's limits, plain and over TLS
(tests/limits/test_http_limits.py, tests/tls/test_https_limits.py)."""
import socket
import time


def flood(port, n, src='127.0.0.2'):
    """n idle connections from src to 127.0.0.1:port; the sockets."""
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.bind((src, 0))
        s.connect(('127.0.0.1', port))
        socks.append(s)
    return socks


def still_open(socks, settle=0.5):
    """How many of socks the server has not closed (after settle s)."""
    time.sleep(settle)
    n = 0
    for s in socks:
        s.setblocking(False)
        try:
            n += s.recv(1) != b''
        except BlockingIOError:
            n += 1
        except OSError:
            pass
    return n


def closed_within(sock, seconds):
    """Seconds until the server closes sock (EOF or reset), or None if it
    has not within `seconds`."""
    t0 = time.monotonic()
    sock.settimeout(seconds)
    try:
        while sock.recv(4096):
            pass
    except (ConnectionResetError, BrokenPipeError):
        pass
    except socket.timeout:
        return None
    return time.monotonic() - t0
