/*
 * proto/sasl.c - the SASL responses warren offers in connection.start,
 * as RabbitMQ: PLAIN ("\0user\0password", RFC 4616) and AMQPLAIN (a field
 * table without its length prefix, with LOGIN and PASSWORD longstrs).
 *
 * A response that is not a login attempt is no ACCESS_REFUSED but a
 * protocol error, which (before tune) closes the socket, as RabbitMQ.
 * Every read is bounded by resp.len; the response comes straight from
 * the client, so tests/fuzz/fuzz_sasl.c feeds it random bytes.
 */
#include "proto/sasl.h"

#include <string.h>

int sasl_credentials(amqp_str mech, amqp_str resp, char *user, size_t usize, amqp_str *pass, amqp_error *err)
{
    amqp_str u = {0};

    if (amqp_str_eqc(mech, "PLAIN")) {
        const char *p = resp.ptr, *end = resp.ptr + resp.len;
        const char *z1 = memchr(p, 0, resp.len), *z2;
        if (!z1)
            return amqp_fail(err, AMQP_SYNTAX_ERROR, "PLAIN response malformed");
        z2 = memchr(z1 + 1, 0, (size_t)(end - z1 - 1));
        if (!z2)
            return amqp_fail(err, AMQP_SYNTAX_ERROR, "PLAIN response malformed");
        u.ptr = z1 + 1;
        u.len = (uint32_t)(z2 - z1 - 1);
        pass->ptr = z2 + 1;
        pass->len = (uint32_t)(end - z2 - 1);
    } else if (amqp_str_eqc(mech, "AMQPLAIN")) {
        amqp_table t = {(const uint8_t *)resp.ptr, resp.len};
        amqp_value lv, pv;
        if (amqp_table_validate(t.ptr, t.len, 0) < 0 || !amqp_table_get(t, "LOGIN", &lv) ||
            !amqp_table_get(t, "PASSWORD", &pv) || lv.type != 'S' || pv.type != 'S')
            return amqp_fail(err, AMQP_SYNTAX_ERROR, "AMQPLAIN auth info is missing LOGIN or PASSWORD field");
        u = lv.v.s;
        *pass = pv.v.s;
    } else {
        return amqp_fail(err, AMQP_COMMAND_INVALID, "unknown authentication mechanism '%.*s'", (int)mech.len,
                         mech.ptr);
    }
    if (u.len >= usize || memchr(u.ptr, 0, u.len))
        return amqp_fail(err, AMQP_ACCESS_REFUSED, "user name too long or malformed");
    memcpy(user, u.ptr, u.len);
    user[u.len] = 0;
    return 0;
}
