"""What tests/fuzz/fuzz_http_request.c found in the HTTP API, each
checked the way a client meets it.

  - A name in a path that is not UTF-8 (a client's `%F4`) in a request
    refused with that name in the reason (a binding to a queue or from an
    exchange that does not exist) got 500 {"reason": "out of memory"}:
    jansson refuses to make a JSON string of those bytes, and the reply
    was taken for out of memory.  RabbitMQ 3.10 answers 404 with the
    name in the reason, each such byte as U+FFFD; so does warren now.
    The same for bytes AMQP's UTF-8 check lets through (RabbitMQ's check
    is of UTF-8's structure) but JSON does not: a surrogate (ED A0 80),
    a code point past U+10FFFF (F5 B5 B5 B5).
"""
import json


def test_not_utf8_name_in_a_refusal_is_a_404_not_a_500(mgmt):
    api = mgmt.api
    body = json.dumps({'routing_key': 'a.#'})
    hdr = {'Content-Type': 'application/json'}
    assert api.request('PUT', '/api/queues/%2F/fz-ok', body='{}', headers=hdr).status == 201
    r = api.request('POST', '/api/bindings/%2F/e/amq.topic/q/%F4asks', body=body, headers=hdr)
    assert r.status == 404, r
    assert r.json() == {'error': 'not_found', 'reason': "no queue '\ufffdasks' in vhost '/'"}
    r = api.request('POST', '/api/bindings/%2F/e/%F4x/q/fz-ok', body=body, headers=hdr)
    assert r.status == 404, r
    assert r.json() == {'error': 'not_found', 'reason': "no exchange '\ufffdx' in vhost '/'"}
    # a valid multi-byte character is kept as it is, next to a bad byte
    r = api.request('POST', '/api/bindings/%2F/e/amq.topic/q/%C3%A9%FF', body=body, headers=hdr)
    assert r.status == 404, r
    assert r.json()['reason'] == "no queue '\u00e9\ufffd' in vhost '/'"


def test_surrogates_and_past_unicode_in_a_refusal_are_not_a_500(mgmt):
    api = mgmt.api
    hdr = {'Content-Type': 'application/json'}
    body = json.dumps({'durable': True, 'arguments': {'x-queue-type': 10}})
    # one U+FFFD for a lead byte and its continuation bytes, as RabbitMQ 3.10
    for raw, shown in (('%ED%A0%80', '\ufffd'), ('%F5%B5%B5%B5', '\ufffd'), ('%F5%B5%B5%B5%B5', '\ufffd' * 2)):
        r = api.request('PUT', '/api/queues/%2F/q' + raw, body=body, headers=hdr)
        assert r.status == 400, r
        assert r.json()['reason'] == ("invalid arg 'x-queue-type' for queue 'q%s' in vhost '/': "
                                      "{unacceptable_type,long}" % shown), r


def test_slow_regex_name_filter_and_permission_are_refused_at_once(mgmt):
    """tests/fuzz/fuzz_http_route found a name filter that held the loop:
    glibc compiled `\\`a` followed by a hundred stars in 1.6 s (more stars,
    minutes). Stacked repetition operators (PCRE, RabbitMQ's engine, calls
    them "nothing to repeat"), glibc's buffer anchors, more than 16
    operators or a count over 100 are refused before regcomp, in a list's
    name filter and in a permission; AMQP is served meanwhile."""
    import time
    import urllib.parse
    api = mgmt.api
    slow = '\\`a' + '*' * 100
    t0 = time.monotonic()
    r = api.request('GET', '/api/queues?page=1&use_regex=true&name=' + urllib.parse.quote(slow, safe=''))
    took = time.monotonic() - t0
    assert r.status == 400, r
    assert r.json() == {'error': 'bad_request', 'reason': 'Pagination parameters are invalid'}
    assert took < 1.0, 'the refusal took %.2f s' % took
    r = api.request('GET', '/api/queues?page=1&use_regex=true&name=' + urllib.parse.quote('^fz-[0-9]+$', safe=''))
    assert r.status == 200, r
    hdr = {'Content-Type': 'application/json'}
    body = json.dumps({'configure': 'a**', 'write': '.*', 'read': '.*'})
    r = api.request('PUT', '/api/permissions/%2F/guest', body=body, headers=hdr)
    assert r.status == 400, r
    assert 'nothing to repeat' in r.json()['reason']
    body = json.dumps({'configure': '^amq\\.gen.*', 'write': '.*', 'read': '.*'})
    assert api.request('PUT', '/api/permissions/%2F/guest', body=body, headers=hdr).status in (201, 204)
