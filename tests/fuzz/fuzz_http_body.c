/*
 * fuzz_http_body.c - libFuzzer target for the HTTP API's request bodies
 * (src/http/body.c): the JSON of a queue or exchange PUT, a binding POST,
 * a get and a publish, decoded into the domain's specs without a broker.
 *
 * The first input byte picks the decoder, the rest is the body as a
 * client sent it (parsed by json.c's http_json_body, as server.c does).
 * Checked on every input: a decoder either succeeds or leaves a 400 with
 * a JSON body (never a 500, never a crash); the arguments it made are a
 * valid AMQP table that turns into JSON and back into a table whose
 * JSON is the same; a publish's properties decode, and turn into JSON; a get's
 * count and truncate are in range; the binding's properties key fits.
 *
 * Built from this file, src/amqp, src/http/body.c and src/http/json.c
 * (the Makefile's fuzz_fuzz_http_body_SRC), with jansson.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/body.h"

static void check_refusal(const http_reply *r)
{
    assert(r->status == 400);
    assert(r->body && json_is_object(r->body) && json_object_get(r->body, "reason"));
}

/* The table turns into JSON (keys sorted, as RabbitMQ shows them) and
 * back into a table of as many keys, whose JSON is the same again. */
static void check_table(amqp_table t)
{
    http_reply r = {0};
    amqp_tbuf again = {0};
    json_t *j, *j2;

    assert(amqp_table_validate(t.ptr, t.len, 0) == 0);
    j = http_table_json(t);
    assert(j);
    assert(http_json_table(&r, "arguments", j, &again) == 0);
    assert(amqp_table_count(amqp_tbuf_done(&again)) == json_object_size(j));
    j2 = http_table_json(amqp_tbuf_done(&again));
    assert(j2 && json_equal(j, j2));
    amqp_tbuf_free(&again);
    json_decref(j);
    json_decref(j2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    http_reply r = {0};
    amqp_tbuf args = {0};
    json_t *body;
    int rc = 0;

    if (size < 1 || size > 1 << 16)
        return 0;
    body = http_json_body((const char *)data + 1, size - 1);
    if (!body && size > 1)
        return 0; /* not_json: server.c's answer */
    switch (data[0] % 5) {
    case 0: {
        queue_spec s;
        rc = http_body_queue(&r, body, amqp_cstr("q"), &s, &args);
        if (rc == 0)
            check_table(s.arguments);
        break;
    }
    case 1: {
        exchange_spec s;
        rc = http_body_exchange(&r, body, amqp_cstr("x"), &s, &args);
        if (rc == 0) {
            check_table(s.arguments);
            assert(s.type.ptr);
        }
        break;
    }
    case 2: {
        binding_spec s = {0};
        char key[HTTP_PROPS_KEY_MAX];
        rc = http_body_binding(&r, body, &s, &args);
        if (rc == 0) {
            check_table(s.arguments);
            if (s.key.len <= 255)
                assert(http_props_key(s.key, s.arguments, key) < sizeof key);
        }
        break;
    }
    case 3: {
        http_get_req g;
        rc = http_body_get(&r, body, &g);
        if (rc == 0)
            assert(g.count >= 0 && g.count <= HTTP_GET_MAX && g.truncate >= -1 && g.ackmode <= REJECT_REQUEUE_FALSE);
        break;
    }
    default: {
        http_publish_req p;
        rc = http_body_publish(&r, body, &p);
        if (rc == 0) {
            amqp_basic_properties props;
            json_t *j, *o = json_object();
            assert(p.routing_key.len <= 255);
            assert(amqp_basic_properties_decode(p.props, p.props_len, &props) == 0);
            if (props.flags & AMQP_BASIC_HEADERS_FLAG)
                check_table(props.headers);
            j = http_props_json(p.props, p.props_len);
            assert(j);
            json_decref(j);
            assert(http_payload_json(o, p.payload, p.payload_len, false, 8) == 0);
            json_decref(o);
            http_publish_req_free(&p);
        }
        break;
    }
    }
    if (rc < 0)
        check_refusal(&r);
    json_decref(r.body);
    amqp_tbuf_free(&args);
    json_decref(body);
    return 0;
}
