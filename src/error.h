/*
 * error.h - errors as values: the amqp_error every module fills when it
 * refuses something, with RabbitMQ's reply code and text.
 *
 * A module that fails (a queue refusing a declare, the auth check, a
 * method handler) fills an amqp_error with amqp_fail() and returns -1; it
 * does not know who asked.  The protocol layer alone decides what a
 * failure becomes: conn.c turns soft codes into channel.close and hard
 * codes into connection.close (conn_error), and a second front end (the
 * HTTP API) maps the same codes to its own statuses.  The reply codes and
 * their names (AMQP_NOT_FOUND, amqp_reply_name, amqp_reply_is_hard) are
 * generated from the spec, in amqp/spec.h, which this header brings in.
 */
#ifndef WARREN_ERROR_H
#define WARREN_ERROR_H

#include <stdint.h>

#include "amqp/spec.h"

typedef struct amqp_error {
    uint16_t code;          /* AMQP reply code, e.g. AMQP_NOT_FOUND */
    uint32_t method;        /* the method that failed, 0 if none */
    char text[256];         /* "NOT_FOUND - no queue 'x' in vhost '/'" */
} amqp_error;

/* Record an error as RabbitMQ words it ("CODE_NAME - " + text); returns -1
 * so callers can `return amqp_fail(...)`.  e->method is left as it is (the
 * protocol layer sets it to the method being handled). */
int amqp_fail(amqp_error *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A method on a channel whose shortstr argument is not UTF-8 (AMQP_EUTF8):
 * RabbitMQ's 501 "Malformed UTF-8 in shortstr", naming no method. */
int amqp_fail_utf8(amqp_error *e);

#endif
