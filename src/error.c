/*
 * error.c - filling an amqp_error (error.h) with RabbitMQ's wording: the
 * reply code's name, " - ", then what went wrong.  Nothing here sends
 * anything: conn.c decides what an error closes.
 */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>

int amqp_fail(amqp_error *e, int code, const char *fmt, ...)
{
    const char *name = amqp_reply_name(code);
    int n;
    va_list ap;

    e->code = (uint16_t)code;
    n = snprintf(e->text, sizeof e->text, "%s - ", name ? name : "ERROR");
    if (n < 0 || (size_t)n >= sizeof e->text)
        n = 0;
    va_start(ap, fmt);
    vsnprintf(e->text + n, sizeof e->text - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

int amqp_fail_utf8(amqp_error *e)
{
    e->method = 0;
    return amqp_fail(e, AMQP_FRAME_ERROR, "%s", amqp_strerror(AMQP_EUTF8));
}
