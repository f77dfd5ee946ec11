/*
 * fuzz_props.c - libFuzzer target for content properties: the basic
 * properties of a content header (amqp_basic_properties_decode), as a
 * publisher sends them and as the store and the HTTP API read them back.
 *
 * The input is the property bytes after the body size (flags, then the
 * fields the flags name).  When the decoder accepts them: the headers
 * table is walked in full; re-encoding gives bytes no longer than the
 * input that decode to the same values (extra flag words are dropped,
 * nothing else); and the HTTP API's JSON of them (http_props_json, what a
 * get or a browse shows) is made and, handed back as a publish's
 * "properties", is either taken or refused with a 400, never more.
 * When it refuses them, it says why with one of the codec's statuses.
 *
 * Built from this file, src/amqp, src/http/body.c and src/http/json.c
 * (the Makefile's fuzz_fuzz_props_SRC), with jansson.
 */
#include "../unit/amqp_testutil.c"

#include "http/body.h"

static void check_json(const uint8_t *data, size_t size)
{
    http_publish_req req = {0};
    http_reply r = {0};
    json_t *props = http_props_json(data, (uint32_t)size), *body;
    int rc;

    TU_CHECK(props != NULL);
    TU_CHECK(json_is_object(props) || (json_is_array(props) && json_array_size(props) == 0));
    body = json_pack("{s:s,s:o,s:s,s:s}", "routing_key", "k", "properties", props, "payload", "",
                     "payload_encoding", "string");
    TU_CHECK(body != NULL);
    rc = http_body_publish(&r, body, &req);
    if (rc < 0) {
        TU_CHECK(r.status == 400 && r.body != NULL);
        json_decref(r.body);
    } else {
        amqp_basic_properties q;
        TU_CHECK(amqp_basic_properties_decode(req.props, req.props_len, &q) == AMQP_OK);
    }
    http_publish_req_free(&req);
    json_decref(body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    amqp_basic_properties p, q;
    uint8_t *enc;
    size_t n;
    int rc;

    if (size > 1 << 20)
        return 0;
    rc = amqp_basic_properties_decode(data, (uint32_t)size, &p);
    if (rc != AMQP_OK) {
        TU_CHECK(rc == AMQP_ETRUNC || rc == AMQP_ETRAILING || rc == AMQP_EFIELDTYPE || rc == AMQP_ENESTING ||
                 rc == AMQP_EPROPFLAGS);
        return 0;
    }
    TU_CHECK((p.flags & 3) == 0);
    if (p.flags & AMQP_BASIC_HEADERS_FLAG)
        tu_walk_table(p.headers);
    n = amqp_basic_properties_size(&p);
    TU_CHECK(n <= size && (size - n) % 2 == 0);
    enc = malloc(n ? n : 1);
    TU_CHECK(enc != NULL);
    TU_CHECK(amqp_basic_properties_encode(enc, &p) == enc + n);
    TU_CHECK(amqp_basic_properties_decode(enc, (uint32_t)n, &q) == AMQP_OK);
    TU_CHECK(p.flags == q.flags);
    TU_CHECK(tu_diff(amqp_basic_property_fields, amqp_basic_property_count, &p, &q) == -1);
    free(enc);
    check_json(data, size);
    return 0;
}
