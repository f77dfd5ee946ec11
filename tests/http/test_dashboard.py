"""The web dashboard (issue 13, section 5) in a real browser: headless
Chromium driven by Selenium (Debian's chromium, chromium-driver and
python3-selenium).

Each test starts warren with its HTTP API on a free port, opens
http://127.0.0.1:<port>/ in Chromium, logs in through the form, and does
what an operator does; pika does the AMQP side.  Every test reads the
browser's log at the end: no JavaScript error may be there, and the only
network errors allowed are those of API endpoints that the page showed a
"not served yet" note for (404, 405 when the path has other methods,
RabbitMQ's empty 400 for a path it cannot parse: the dashboard degrades
on a broker that lacks an endpoint; RabbitMQ has no browse endpoint, for
one).  Screenshots go
to each test's tmp dir (screenshots/*.png), kept as artifacts.

Against the reference RabbitMQ: WARREN_TEST_URL=amqp://guest:guest@127.0.0.1:5673/
WARREN_TEST_MGMT_URL=http://127.0.0.1:15673 runs the same tests with the
dashboard's files served by a small proxy here that forwards /api/ to
RabbitMQ's management (RabbitMQ cannot serve them itself), so the page is
checked against RabbitMQ's JSON too.
"""
import http.client
import http.server
import json
import os
import threading
import time
import urllib.parse
import uuid

import pika
import pytest

from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException, StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from http_helpers import Api, free_port

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WWW = os.path.join(ROOT, 'src', 'http', 'www')
CHROMIUM = os.environ.get('WARREN_CHROMIUM', '/usr/bin/chromium')
CHROMEDRIVER = os.environ.get('WARREN_CHROMEDRIVER', '/usr/bin/chromedriver')


@pytest.fixture
def alarm_seconds():
    return 90


# ------------------------------------------------------------ the broker

class RabbitProxy(http.server.ThreadingHTTPServer):
    """The dashboard's files from src/http/www, and /api/ forwarded to a
    RabbitMQ management listener: the dashboard pointed at RabbitMQ."""

    daemon_threads = True

    def __init__(self, target):
        self.target = urllib.parse.urlparse(target)
        super().__init__(('127.0.0.1', 0), ProxyHandler)


class ProxyHandler(http.server.BaseHTTPRequestHandler):
    TYPES = {'.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml'}

    def log_message(self, *args):
        pass

    def forward(self):
        t = self.server.target
        n = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(n) if n else None
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() in ('authorization', 'content-type', 'x-reason', 'accept')}
        c = http.client.HTTPConnection(t.hostname, t.port, timeout=30)
        c.request(self.command, self.path, body=body, headers=headers)
        r = c.getresponse()
        data = r.read()
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() in ('content-type', 'www-authenticate'):
                self.send_header(k, v)
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        c.close()

    def do_any(self):
        if self.path.startswith('/api/'):
            return self.forward()
        name = self.path.split('?')[0].lstrip('/') or 'index.html'
        path = os.path.join(WWW, os.path.basename(name))
        if self.command != 'GET' or not os.path.isfile(path):
            self.send_error(404)
            return
        data = open(path, 'rb').read()
        self.send_response(200)
        self.send_header('Content-Type', self.TYPES.get(os.path.splitext(path)[1], 'application/octet-stream'))
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_any


class Target:
    """Where the dashboard is (url), its API (api) and its AMQP side (amqp)."""

    def __init__(self, url, api, amqp, rabbitmq):
        self.url, self.api, self.amqp, self.rabbitmq = url, api, amqp, rabbitmq

    def connect(self):
        return pika.BlockingConnection(pika.URLParameters(self.amqp))


@pytest.fixture
def target(broker_factory):
    mgmt = os.environ.get('WARREN_TEST_MGMT_URL')
    external = os.environ.get('WARREN_TEST_URL')
    if external:
        if not mgmt:
            pytest.skip('WARREN_TEST_URL without WARREN_TEST_MGMT_URL: no management API to point the dashboard at')
        proxy = RabbitProxy(mgmt)
        th = threading.Thread(target=proxy.serve_forever, daemon=True)
        th.start()
        port = proxy.server_address[1]
        yield Target('http://127.0.0.1:%d/' % port, Api('127.0.0.1', port), external, rabbitmq=True)
        proxy.shutdown()
        proxy.server_close()
        return
    b = broker_factory(management=True)
    yield Target('http://127.0.0.1:%d/' % b.mgmt_port, Api(b.host, b.mgmt_port), b.url, rabbitmq=False)


@pytest.fixture
def qname_ui():
    return 'dash-' + uuid.uuid4().hex[:10]


@pytest.fixture
def cleanup(target):
    """Queues to delete at the end (they may be on the shared reference node)."""
    names = []
    yield names
    for n in names:
        target.api.request('DELETE', '/api/queues/%2F/' + urllib.parse.quote(n, safe=''))


# ----------------------------------------------------------- the browser

class Browser:
    def __init__(self, tmp_path):
        opts = webdriver.ChromeOptions()
        opts.binary_location = CHROMIUM
        for a in ('--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
                  '--window-size=1400,1000', '--user-data-dir=%s' % (tmp_path / 'chromium')):
            opts.add_argument(a)
        opts.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
        # chromedriver on a free port, stopped by pid when the driver quits
        self.service = Service(CHROMEDRIVER, port=free_port())
        self.d = webdriver.Chrome(service=self.service, options=opts)
        self.shots = tmp_path / 'screenshots'
        self.shots.mkdir(exist_ok=True)
        self.logs = []
        self.noted_missing = set()

    def quit(self):
        self.d.quit()

    def shot(self, name):
        path = self.shots / (name + '.png')
        self.d.save_screenshot(str(path))
        return path

    def wait(self, cond, timeout=10, what='condition'):
        def f(_):
            try:
                return cond()
            except StaleElementReferenceException:
                return False
        return WebDriverWait(self.d, timeout, poll_frequency=0.1).until(f, message='waiting for ' + what)

    def find(self, css):
        return self.d.find_element(By.CSS_SELECTOR, css)

    def finds(self, css):
        return self.d.find_elements(By.CSS_SELECTOR, css)

    def text(self, css):
        els = self.finds(css)
        return els[0].text if els else ''

    def note_missing(self):
        """The endpoints the page says this broker does not serve."""
        for e in self.finds('.missing-endpoint'):
            self.noted_missing.add(e.get_attribute('data-path').split('?')[0])
        return self.noted_missing

    def go(self, hash_path):
        self.note_missing()
        self.d.get(self.base + '#' + hash_path)

    def login(self, base, user='guest', password='guest'):
        self.base = base
        self.d.get(base)
        self.wait(lambda: self.find('#login-user').is_displayed(), what='the login form')
        self.find('#login-user').send_keys(user)
        self.find('#login-pass').send_keys(password)
        self.find('#login-submit').click()

    def accept_confirm(self):
        def alert():
            try:
                return self.d.switch_to.alert
            except NoAlertPresentException:
                return False
        self.wait(alert, what='the confirm dialog').accept()

    def read_log(self):
        self.note_missing()
        self.logs += self.d.get_log('browser')
        return self.logs

    def check_console(self, allow_login_failure=False):
        """No JavaScript errors; network errors only for what the page
        explained (a missing endpoint's 404, a failed login's 401)."""
        bad = []
        for e in self.read_log():
            if e['source'] != 'network':
                if e['level'] in ('SEVERE', 'WARNING'):
                    bad.append(e)
                continue
            url = e['message'].split(' ')[0]
            path = urllib.parse.urlparse(url).path
            if any(' %d ' % code in e['message'] for code in (400, 404, 405)) and path in self.noted_missing:
                continue
            if allow_login_failure and '401' in e['message'] and path == '/api/whoami':
                continue
            bad.append(e)
        assert not bad, 'browser log:\n' + '\n'.join(json.dumps(e) for e in bad)


@pytest.fixture
def browser(tmp_path):
    b = Browser(tmp_path)
    yield b
    b.quit()


def wait_api(target, path):
    """Fail loudly (never skip) when the broker lacks an endpoint a test
    needs: the dashboard's side of it is written; the endpoint comes with
    the listing endpoints (issue 13, section 2)."""
    r = target.api.get(path)
    if (r.status == 404 and b'Object Not Found' in r.body) or r.status == 405:
        pytest.fail('this broker does not serve %s (the listing/browse endpoints of issue 13 section 2): '
                    'the dashboard test needs it' % path.split('?')[0])
    return r


def canvas_ink(browser, css):
    """How many pixels of a canvas are drawn on."""
    return browser.d.execute_script(
        'const c = document.querySelector(arguments[0]);'
        'const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;'
        'let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n;', css)


# ----------------------------------------------------------------- tests

def test_login_form_refuses_wrong_password_then_logs_in(target, browser):
    browser.login(target.url, password='wrong-' + uuid.uuid4().hex[:6])
    browser.wait(lambda: 'Login failed' in browser.text('#login-error'), what='the login error')
    assert browser.find('#login').is_displayed()
    assert not browser.find('#top').is_displayed()
    browser.shot('login-failed')
    browser.find('#login-user').clear()
    browser.login(target.url)
    browser.wait(lambda: browser.text('#who') == 'guest', what='logged in as guest')
    assert not browser.find('#login').is_displayed()
    # the credentials live in sessionStorage: a reload stays logged in
    browser.d.refresh()
    browser.wait(lambda: browser.text('#who') == 'guest' and browser.finds('#tile-queues'), what='overview after reload')
    # and logging out forgets them
    browser.find('#logout').click()
    browser.wait(lambda: browser.find('#login').is_displayed(), what='the login form again')
    assert browser.d.execute_script('return sessionStorage.getItem("warren.auth")') is None
    browser.check_console(allow_login_failure=True)


def published_in_history(target):
    """The overview's history shows 20 publishes or more in its window."""
    o = target.api.get('/api/overview?msg_rates_age=600&msg_rates_incr=5').json()
    s = o.get('message_stats', {}).get('publish_details', {}).get('samples', [])
    return len(s) >= 3 and s[0]['sample'] >= s[-1]['sample'] + 20


def test_overview_draws_rate_charts_from_the_history(target, browser, qname_ui, cleanup):
    # traffic: publishes and acks over a few sampling intervals
    cleanup.append(qname_ui)
    conn = target.connect()
    ch = conn.channel()
    ch.queue_declare(qname_ui)
    browser.login(target.url)
    browser.wait(lambda: browser.finds('#tile-queues'), what='the overview tiles')

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for i in range(20):
            ch.basic_publish('', qname_ui, b'm%d' % i)
        for _ in range(10):
            m, _p, _b = ch.basic_get(qname_ui)
            if m:
                ch.basic_ack(m.delivery_tag)
        conn.process_data_events(0.3)
        if int(browser.find('#chart-rates').get_attribute('data-points') or 0) >= 2 and published_in_history(target):
            break
    conn.close()
    # two or more rate points: three samples of the history, drawn
    assert int(browser.find('#chart-rates').get_attribute('data-points')) >= 2
    assert int(browser.find('#chart-lengths').get_attribute('data-points')) >= 2
    assert canvas_ink(browser, '#chart-rates') > 2000
    assert canvas_ink(browser, '#chart-lengths') > 2000
    legend = browser.text('#chart-rates + .legend')
    for label in ('Publish', 'Deliver / get', 'Ack', 'Redeliver'):
        assert label in legend
    # the API gives the samples the charts draw (RabbitMQ's shape)
    o = target.api.get('/api/overview?msg_rates_age=600&msg_rates_incr=5&lengths_age=600&lengths_incr=5').json()
    samples = o['message_stats']['publish_details']['samples']
    assert len(samples) >= 3
    assert samples[0]['timestamp'] > samples[-1]['timestamp'] and samples[0]['timestamp'] % 5000 == 0
    assert samples[0]['sample'] >= samples[-1]['sample'] + 20
    assert 'samples' in o['queue_totals']['messages_ready_details']
    browser.shot('overview')
    browser.check_console()


def test_every_page_renders_or_says_what_is_missing(target, browser):
    browser.login(target.url)
    browser.wait(lambda: browser.finds('#tile-queues'), what='the overview')
    pages = [('/queues', '#queues-table'), ('/exchanges', '#exchanges-table'),
             ('/connections', '#connections-table'), ('/channels', '#channels-table'),
             ('/admin', '#users-table'), ('/admin', '#vhosts-table'), ('/admin', '#permissions-table')]
    for path, slot in pages:
        browser.go(path)
        browser.wait(lambda: browser.finds(slot + ' table') or browser.finds(slot + ' .missing-endpoint'),
                     what='%s on %s' % (slot, path))
        browser.shot(path.strip('/') + '-' + slot.strip('#'))
    browser.go('/exchanges/%2F/amq.direct')
    browser.wait(lambda: browser.finds('.card table') or browser.finds('.missing-endpoint'), what='the exchange page')
    browser.go('/no/such/page')
    browser.wait(lambda: browser.text('main h1') == 'Not found', what='the not-found page')
    # every 404 in the log is one the page explained
    browser.check_console()
    if not target.rabbitmq:
        # users and vhosts are served by warren today
        assert not {'/api/users', '/api/vhosts', '/api/overview', '/api/nodes'} & browser.noted_missing


def test_queue_appears_in_the_table_within_2s_and_counters_move(target, browser, qname_ui, cleanup):
    wait_api(target, '/api/queues')
    browser.login(target.url)
    browser.wait(lambda: browser.finds('#tile-queues'), what='the overview')
    Select(browser.find('#refresh')).select_by_value('1')
    browser.go('/queues')
    browser.wait(lambda: browser.finds('#queues-table table'), what='the queues table')
    browser.find('#queue-filter').send_keys(qname_ui[:9])
    cleanup.append(qname_ui)
    conn = target.connect()
    ch = conn.channel()
    t0 = time.monotonic()
    ch.queue_declare(qname_ui)
    link = '#queues-table a.queue-link'
    browser.wait(lambda: any(e.text == qname_ui for e in browser.finds(link)), timeout=2,
                 what='queue %s in the table within 2 s' % qname_ui)
    seen = time.monotonic() - t0
    assert seen <= 2.0
    # under load the counters move: 30 ready, then a consumer holds 5
    for i in range(30):
        ch.basic_publish('', qname_ui, b'x%d' % i)
    browser.wait(lambda: browser.text('#queues-table td.ready') == '30', timeout=12, what='30 ready')
    ch.basic_qos(prefetch_count=5)
    ch.basic_consume(qname_ui, lambda *a: None)
    conn.process_data_events(0.5)
    browser.wait(lambda: browser.text('#queues-table td.unacked') == '5' and browser.text('#queues-table td.ready') == '25'
                 and browser.text('#queues-table td.consumers') == '1', timeout=12, what='25 ready, 5 unacked, 1 consumer')
    # sorting on a click: the header says so
    browser.find('#queues-table th[data-key="messages_ready"]').click()
    browser.wait(lambda: 'sorted' in browser.find('#queues-table th[data-key="messages_ready"]').get_attribute('class'),
                 what='sorted by ready')
    browser.shot('queues')
    conn.close()
    browser.check_console()


def test_purge_from_the_queue_page(target, browser, qname_ui, cleanup):
    cleanup.append(qname_ui)
    conn = target.connect()
    ch = conn.channel()
    ch.queue_declare(qname_ui)
    ch.confirm_delivery()
    for i in range(7):
        ch.basic_publish('', qname_ui, b'p%d' % i)
    assert ch.queue_declare(qname_ui, passive=True).method.message_count == 7
    browser.login(target.url)
    browser.wait(lambda: browser.finds('#tile-queues'), what='the overview')
    browser.go('/queues/%2F/' + qname_ui)
    browser.wait(lambda: browser.text('#queue-name') == qname_ui, what='the queue page')
    browser.wait(lambda: browser.finds('#q-ready') or browser.finds('.missing-endpoint'), what='the queue details')
    browser.find('#purge').click()
    browser.accept_confirm()
    browser.wait(lambda: 'Purged' in browser.text('#toast'), what='the purge toast (%s)' % browser.text('#toast'))
    assert ch.queue_declare(qname_ui, passive=True).method.message_count == 0
    if browser.finds('#q-ready'):
        browser.wait(lambda: browser.text('#q-ready') == '0', timeout=12, what='0 ready on the page')
    # a test message published from the page lands in the queue
    browser.find('#publish-payload').clear()
    browser.find('#publish-payload').send_keys('from the browser')
    browser.find('#publish-form button[type=submit]').click()
    browser.wait(lambda: 'Published' in browser.text('#toast'), what='the publish toast')
    m, _props, body = ch.basic_get(qname_ui, auto_ack=True)
    assert body == b'from the browser'
    browser.shot('queue-purged')
    conn.close()
    browser.check_console()


def test_browse_an_unacked_message(target, browser, qname_ui, cleanup):
    cleanup.append(qname_ui)
    conn = target.connect()
    ch = conn.channel()
    ch.queue_declare(qname_ui)
    ch.basic_publish('', qname_ui, b'held by a worker', pika.BasicProperties(content_type='text/plain'))
    ch.basic_publish('', qname_ui, b'waiting', pika.BasicProperties(headers={'k': 'v'}))
    got = []
    ch.basic_qos(prefetch_count=1)
    tag = ch.basic_consume(qname_ui, lambda c, m, p, b: got.append(m.delivery_tag))
    while not got:
        conn.process_data_events(0.2)
    browser.login(target.url)
    browser.wait(lambda: browser.finds('#tile-queues'), what='the overview')
    browser.go('/queues/%2F/' + qname_ui)
    browser.wait(lambda: browser.text('#queue-name') == qname_ui, what='the queue page')
    browser.find('#browse-unacked').click()
    browser.wait(lambda: browser.finds('#browse table') or browser.finds('#browse .missing-endpoint'), what='browse')
    if target.rabbitmq:
        # RabbitMQ has no browse: the page says so, and nothing else breaks
        assert browser.finds('#browse .missing-endpoint')
        conn.close()
        browser.check_console()
        return
    wait_api(target, '/api/queues/%2F/' + qname_ui + '/messages?state=unacked&count=1')
    row = browser.text('#browse table tbody tr')
    assert 'held by a worker' in row
    assert tag in row
    assert browser.text('#browse-summary').startswith('1 unacked message')
    browser.shot('browse-unacked')
    browser.find('#browse-ready').click()
    browser.wait(lambda: 'waiting' in browser.text('#browse table tbody tr'), what='the ready message')
    # browsing took nothing: one ready, one unacked, as before
    q = ch.queue_declare(qname_ui, passive=True).method
    assert q.message_count == 1
    conn.close()
    browser.check_console()


def test_close_a_connection_from_the_page(target, browser):
    wait_api(target, '/api/connections')
    conn = target.connect()
    conn.channel()
    browser.login(target.url)
    browser.wait(lambda: browser.finds('#tile-queues'), what='the overview')
    browser.go('/connections')
    # pika's connection, by its client port
    port = conn._impl._transport._sock.getsockname()[1]
    rows = lambda: [r for r in browser.finds('#connections-table tbody tr') if ':%d' % port in r.text]  # noqa: E731
    browser.wait(rows, timeout=12, what='the connection in the table')
    rows()[0].find_element(By.CSS_SELECTOR, 'button.close-connection').click()
    browser.accept_confirm()
    browser.wait(lambda: 'closed' in browser.text('#toast'), what='the close toast')
    deadline = time.monotonic() + 10
    closed = None
    while time.monotonic() < deadline and closed is None:
        try:
            conn.process_data_events(0.2)
        except pika.exceptions.ConnectionClosedByBroker as e:
            closed = e
    assert closed is not None and closed.reply_code == 320
    assert 'Closed from the warren dashboard' in closed.reply_text
    browser.check_console()


# ------------------------------------------------- the files and the API

def test_files_are_served_without_login_and_api_paths_stay_the_apis(mgmt):
    api = mgmt.api
    r = api.get('/', auth=False)
    assert r.status == 200 and r.headers['content-type'] == 'text/html; charset=utf-8'
    assert b'<script type="module" src="app.js">' in r.body
    assert "script-src" not in r.headers['content-security-policy']  # default-src 'self': no inline script
    assert api.get('/index.html', auth=False).body == r.body
    for name, ctype in (('app.js', 'text/javascript'), ('lib.js', 'text/javascript'), ('pages.js', 'text/javascript'),
                        ('chart.js', 'text/javascript'), ('style.css', 'text/css'), ('favicon.svg', 'image/svg+xml')):
        r = api.get('/' + name, auth=False)
        assert r.status == 200 and r.headers['content-type'].startswith(ctype), (name, r)
        assert r.body == open(os.path.join(WWW, name), 'rb').read()
    assert api.request('HEAD', '/app.js', auth=False).status == 200
    # anything else is the API's 404, and /api/ is never a file
    for path in ('/nosuch.js', '/www/app.js', '/api/app.js', '/app.js/x'):
        r = api.get(path, auth=False)
        assert r.status == 404 and r.json() == {'error': 'Object Not Found', 'reason': 'Not Found'}, (path, r)
    assert api.request('POST', '/app.js', auth=False).status == 404
    # the API still asks for credentials
    assert api.get('/api/overview', auth=False).status == 401


def test_overview_samples_as_rabbitmq_gives_them(mgmt, qname):
    api = mgmt.api
    # without ?msg_rates_age or ?lengths_age: no samples (RabbitMQ's default)
    o = api.get('/api/overview').json()
    assert 'samples' not in json.dumps(o)
    c = pika.BlockingConnection(pika.URLParameters(mgmt.url))
    ch = c.channel()
    ch.queue_declare(qname)
    ch.confirm_delivery()
    deadline = time.monotonic() + 20
    while True:
        ch.basic_publish('', qname, b'x')
        o = api.get('/api/overview?msg_rates_age=60&msg_rates_incr=5&lengths_age=30').json()
        s = o['message_stats']['publish_details']['samples']
        if len(s) >= 3 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    c.close()
    assert len(s) >= 3, s
    ts = [x['timestamp'] for x in s]
    # newest first, 5 s apart, on multiples of 5 s
    assert ts == sorted(ts, reverse=True) and all(a - b == 5000 for a, b in zip(ts, ts[1:])) and ts[0] % 5000 == 0
    # published all along: every 5 s adds some (no instant shows a sample twice)
    assert all(a['sample'] > b['sample'] for a, b in zip(s, s[1:])), s
    d = o['message_stats']['publish_details']
    assert d['avg_rate'] > 0 and d['avg'] > 0 and o['message_stats']['publish'] >= s[0]['sample']
    lengths = o['queue_totals']['messages_ready_details']['samples']
    assert lengths and lengths[0]['sample'] > 0 and len(lengths) <= 30 // 5 + 1
    # the window is the 10 minutes there are; a bad age is RabbitMQ's 400
    assert api.get('/api/overview?msg_rates_age=86400&msg_rates_incr=60').status == 200
    for q in ('msg_rates_age=x', 'msg_rates_age=60&msg_rates_incr=0', 'lengths_age=-5'):
        r = api.get('/api/overview?' + q)
        assert r.status == 400 and r.json()['error'] == 'bad_request', (q, r)
