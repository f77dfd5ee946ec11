"""The HTTP API tests' client (tests/http/): a free port, and Api, small
requests on http.client.  A module of its own, not conftest.py: every test
directory has a conftest, and `from conftest import ...` would find
whichever was imported first when the whole suite runs.
"""
import base64
import http.client
import json
import socket


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class Reply:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = {k.lower(): v for k, v in headers}
        self.body = body

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return 'Reply(%d, %r, %r)' % (self.status, self.headers, self.body[:300])


class Api:
    """Requests to one broker's HTTP API (a new connection each, unless
    given one)."""

    def __init__(self, host, port, user='guest', password='guest'):
        self.host, self.port = host, port
        self.user, self.password = user, password

    def auth(self, user=None, password=None):
        token = '%s:%s' % (user or self.user, password if password is not None else self.password)
        return 'Basic ' + base64.b64encode(token.encode()).decode()

    def request(self, method, path, body=None, headers=None, auth=True, conn=None):
        h = dict(headers or {})
        if auth and 'Authorization' not in h:
            h['Authorization'] = self.auth()
        own = conn is None
        c = conn or http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            return Reply(r.status, r.getheaders(), r.read())
        finally:
            if own:
                c.close()

    def get(self, path, **kw):
        return self.request('GET', path, **kw)
