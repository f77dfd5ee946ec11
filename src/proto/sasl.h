/*
 * proto/sasl.h - the SASL responses of connection.start-ok, decoded into
 * a user name and a password (proto/sasl.c): bytes in, no broker, so the
 * fuzz target (tests/fuzz/fuzz_sasl.c) calls the same code as conn.c.
 */
#ifndef WARREN_PROTO_SASL_H
#define WARREN_PROTO_SASL_H

#include <stddef.h>

#include "amqp/table.h"
#include "error.h"

/* The credentials in resp, sent with mechanism mech: the user name
 * copied NUL-terminated into user[usize], the password pointing into
 * resp.  0, or -1 with *err: AMQP_SYNTAX_ERROR for a malformed response,
 * AMQP_COMMAND_INVALID for a mechanism not offered, AMQP_ACCESS_REFUSED
 * for a user name that cannot be one (too long, or with a NUL). */
int sasl_credentials(amqp_str mech, amqp_str resp, char *user, size_t usize, amqp_str *pass, amqp_error *err);

#endif
