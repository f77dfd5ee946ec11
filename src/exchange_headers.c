/*
 * exchange_headers.c - the headers type: a binding's arguments are matched
 * against the message's headers table, as RabbitMQ does it:
 *
 *   x-match all (default)  every binding argument is in the headers, equal
 *   x-match any            at least one is
 *   all-with-x, any-with-x the same, counting arguments starting "x-" too
 *                          (otherwise those are ignored)
 *
 * A void binding value asks only that the header be present; otherwise the
 * values must be equal as amqp_value_match() compares them, as RabbitMQ
 * does: any integer type (a timestamp too) equals another of the same
 * value, an integer equals a float of the same value, S equals x.  Bindings are checked one by one: headers exchanges carry few.
 */
#include "exchange.h"

#include <string.h>

enum { ALL, ANY, ALL_WITH_X, ANY_WITH_X, BAD };

static int match_kind(amqp_table args)
{
    amqp_value v;
    if (!amqp_table_get(args, "x-match", &v))
        return ALL;
    if (v.type != 'S')
        return BAD;
    if (amqp_str_eqc(v.v.s, "all"))
        return ALL;
    if (amqp_str_eqc(v.v.s, "any"))
        return ANY;
    if (amqp_str_eqc(v.v.s, "all-with-x"))
        return ALL_WITH_X;
    if (amqp_str_eqc(v.v.s, "any-with-x"))
        return ANY_WITH_X;
    return BAD;
}

static bool headers_match(amqp_table args, amqp_table headers)
{
    int kind = match_kind(args);
    bool all = true, any = false, with_x = kind == ALL_WITH_X || kind == ANY_WITH_X;
    amqp_table_iter it;
    amqp_str k;
    amqp_value want, got;

    amqp_table_iter_init(&it, args);
    while (amqp_table_next(&it, &k, &want)) {
        char key[256];
        if (amqp_str_eqc(k, "x-match"))
            continue;
        if (!with_x && k.len >= 2 && memcmp(k.ptr, "x-", 2) == 0)
            continue;
        memcpy(key, k.ptr, k.len);
        key[k.len] = 0;
        if (memchr(k.ptr, 0, k.len) == NULL && amqp_table_get(headers, key, &got) && (want.type == 'V' || amqp_value_match(&want, &got)))
            any = true;
        else
            all = false;
    }
    return kind == ANY || kind == ANY_WITH_X ? any : all;
}

static void headers_route(exchange *x, amqp_str rk, const msg *m, route_set *rs)
{
    amqp_basic_properties props;
    amqp_table headers = {0};
    binding *b;

    if (amqp_basic_properties_decode(msg_props(m), m->props_len, &props) == AMQP_OK &&
        (props.flags & AMQP_BASIC_HEADERS_FLAG))
        headers = props.headers;
    for (b = x->bindings; b; b = b->src_next)
        if (headers_match((amqp_table){b->args, b->argslen}, headers))
            route_binding(b, rk, m, rs);
}

static int headers_validate(amqp_table args, amqp_error *err)
{
    amqp_value v;
    if (!amqp_table_get(args, "x-match", &v) || match_kind(args) != BAD)
        return 0;
    if (v.type != 'S') {
        int64_t i;
        if (amqp_value_int(&v, &i))
            return amqp_fail(err, AMQP_PRECONDITION_FAILED,
                             "Invalid x-match field type %s (value %lld); expected longstr", amqp_type_name(v.type),
                             (long long)i);
        return amqp_fail(err, AMQP_PRECONDITION_FAILED, "Invalid x-match field type %s; expected longstr",
                         amqp_type_name(v.type));
    }
    if (v.v.s.len == 0)
        return amqp_fail(err, AMQP_PRECONDITION_FAILED,
                         "Invalid x-match field value <<>>; expected all, any, all-with-x, or any-with-x");
    return amqp_fail(err, AMQP_PRECONDITION_FAILED,
                     "Invalid x-match field value <<\"%.*s\">>; expected all, any, all-with-x, or any-with-x",
                     (int)(v.v.s.len > 100 ? 100 : v.v.s.len), v.v.s.ptr);
}

const exchange_type exchange_headers = {
    .name = "headers",
    .route = headers_route,
    .validate = headers_validate,
};
