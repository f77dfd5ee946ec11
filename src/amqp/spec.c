/* generated — do not edit.
 * Made by codegen/amqp_codegen.py from amqp-rabbitmq-0.9.1.json
 * (RabbitMQ's AMQP 0-9-1 spec; see that file for its licence).
 * Regenerate with `make codegen`. */
#include "spec.h"

#include <stddef.h>

bool amqp_reply_is_hard(int code)
{
    switch (code) {
    case 320:
    case 402:
    case 501:
    case 502:
    case 503:
    case 504:
    case 505:
    case 506:
    case 530:
    case 540:
    case 541:
        return true;
    default:
        return false;
    }
}

bool amqp_reply_is_soft(int code)
{
    switch (code) {
    case 311:
    case 312:
    case 313:
    case 403:
    case 404:
    case 405:
    case 406:
        return true;
    default:
        return false;
    }
}

const char *amqp_reply_name(int code)
{
    switch (code) {
    case 200: return "REPLY_SUCCESS";
    case 311: return "CONTENT_TOO_LARGE";
    case 312: return "NO_ROUTE";
    case 313: return "NO_CONSUMERS";
    case 403: return "ACCESS_REFUSED";
    case 404: return "NOT_FOUND";
    case 405: return "RESOURCE_LOCKED";
    case 406: return "PRECONDITION_FAILED";
    case 320: return "CONNECTION_FORCED";
    case 402: return "INVALID_PATH";
    case 501: return "FRAME_ERROR";
    case 502: return "SYNTAX_ERROR";
    case 503: return "COMMAND_INVALID";
    case 504: return "CHANNEL_ERROR";
    case 505: return "UNEXPECTED_FRAME";
    case 506: return "RESOURCE_ERROR";
    case 530: return "NOT_ALLOWED";
    case 540: return "NOT_IMPLEMENTED";
    case 541: return "INTERNAL_ERROR";
    default: return NULL;
    }
}

int amqp_connection_start_decode(const uint8_t *p, size_t n, amqp_connection_start *m)
{
    const uint8_t *end = p + n;
    int rc;
    memset(m, 0, sizeof *m);
    if (end - p < 1) return AMQP_ETRUNC;
    m->version_major = *p++;
    if (end - p < 1) return AMQP_ETRUNC;
    m->version_minor = *p++;
    if (end - p < 4 || (size_t)(end - p - 4) < amqp_get32(p)) return AMQP_ETRUNC;
    m->server_properties.len = amqp_get32(p); m->server_properties.ptr = p + 4; p += 4;
    if ((rc = amqp_table_validate(p, m->server_properties.len, 0)) < 0) return rc;
    p += m->server_properties.len;
    if (end - p < 4 || (size_t)(end - p - 4) < amqp_get32(p)) return AMQP_ETRUNC;
    m->mechanisms.len = amqp_get32(p); m->mechanisms.ptr = (const char *)p + 4; p += 4 + m->mechanisms.len;
    if (end - p < 4 || (size_t)(end - p - 4) < amqp_get32(p)) return AMQP_ETRUNC;
    m->locales.len = amqp_get32(p); m->locales.ptr = (const char *)p + 4; p += 4 + m->locales.len;
    return p == end ? AMQP_OK : AMQP_ETRAILING;
}

size_t amqp_connection_start_size(const amqp_connection_start *m)
{
    size_t n = 0;
    n += 1;
    n += 1;
    n += 4 + (size_t)m->server_properties.len;
    n += 4 + (size_t)m->mechanisms.len;
    n += 4 + (size_t)m->locales.len;
    (void)m;
    return n;
}

uint8_t *amqp_connection_start_encode(uint8_t *p, const amqp_connection_start *m)
{
    p = amqp_put8(p, m->version_major);
    p = amqp_put8(p, m->version_minor);
    p = amqp_put_table(p, m->server_properties);
    p = amqp_put_longstr(p, m->mechanisms);
    p = amqp_put_longstr(p, m->locales);
    (void)m;
    return p;
}

int amqp_connection_start_ok_decode(const uint8_t *p, size_t n, amqp_connection_start_ok *m)
{
    const uint8_t *end = p + n;
    int rc;
    memset(m, 0, sizeof *m);
    if (end - p < 4 || (size_t)(end - p - 4) < amqp_get32(p)) return AMQP_ETRUNC;
    m->client_properties.len = amqp_get32(p); m->client_properties.ptr = p + 4; p += 4;
    if ((rc = amqp_table_validate(p, m->client_properties.len, 0)) < 0) return rc;
    p += m->client_properties.len;
    if (end - p < 1 || (size_t)(end - p - 1) < p[0]) return AMQP_ETRUNC;
    m->mechanism.len = p[0]; m->mechanism.ptr = (const char *)p + 1; p += 1 + p[0];
    if (end - p < 4 || (size_t)(end - p - 4) < amqp_get32(p)) return AMQP_ETRUNC;
    m->response.len = amqp_get32(p); m->response.ptr = (const char *)p + 4; p += 4 + m->response.len;
    if (end - p < 1 || (size_t)(end - p - 1) < p[0]) return AMQP_ETRUNC;
    m->locale.len = p[0]; m->locale.ptr = (const char *)p + 1; p += 1 + p[0];
    if (p != end) return AMQP_ETRAILING;
    if (!amqp_utf8_ok(m->mechanism.ptr, m->mechanism.len)) return AMQP_EUTF8;
    if (!amqp_utf8_ok(m->locale.ptr, m->locale.len)) return AMQP_EUTF8;
    return AMQP_OK;
}

size_t amqp_connection_start_ok_size(const amqp_connection_start_ok *m)
{
    size_t n = 0;
    n += 4 + (size_t)m->client_properties.len;
    n += 1 + m->mechanism.len;
    n += 4 + (size_t)m->response.len;
    n += 1 + m->locale.len;
    (void)m;
    return n;
}

uint8_t *amqp_connection_start_ok_encode(uint8_t *p, const amqp_connection_start_ok *m)
{
    p = amqp_put_table(p, m->client_properties);
    p = amqp_put_shortstr(p, m->mechanism);
    p = amqp_put_longstr(p, m->response);
    p = amqp_put_shortstr(p, m->locale);
    (void)m;
    return p;
}

int amqp_connection_secure_decode(const uint8_t *p, size_t n, amqp_connection_secure *m)
{
    const uint8_t *end = p + n;
    memset(m, 0, sizeof *m);
    if (end - p < 4 || (size_t)(end - p - 4) < amqp_get32(p)) return AMQP_ETRUNC;
    m->challenge.len = amqp_get32(p); m->challenge.ptr = (const char *)p + 4; p += 4 + m->challenge.len;
    return p == end ? AMQP_OK : AMQP_ETRAILING;
}

size_t amqp_connection_secure_size(const amqp_connection_secure *m)
{
    size_t n = 0;
    n += 4 + (size_t)m->challenge.len;
    (void)m;
    return n;
}

uint8_t *amqp_connection_secure_encode(uint8_t *p, const amqp_connection_secure *m)
{
    p = amqp_put_longstr(p, m->challenge);
    (void)m;
    return p;
}

int amqp_connection_secure_ok_decode(const uint8_t *p, size_t n, amqp_connection_secure_ok *m)
{
    const uint8_t *end = p + n;
    memset(m, 0, sizeof *m);
    if (end - p < 4 || (size_t)(end - p - 4) < amqp_get32(p)) return AMQP_ETRUNC;
    m->response.len = amqp_get32(p); m->response.ptr = (const char *)p + 4; p += 4 + m->response.len;
    return p == end ? AMQP_OK : AMQP_ETRAILING;
}

size_t amqp_connection_secure_ok_size(const amqp_connection_secure_ok *m)
{
    size_t n = 0;
    n += 4 + (size_t)m->response.len;
    (void)m;
    return n;
}

uint8_t *amqp_connection_secure_ok_encode(uint8_t *p, const amqp_connection_secure_ok *m)
{
    p = amqp_put_longstr(p, m->response);
    (void)m;
    return p;
}

int amqp_connection_tune_decode(const uint8_t *p, size_t n, amqp_connection_tune *m)
{
    const uint8_t *end = p + n;
    memset(m, 0, sizeof *m);
    if (end - p < 2) return AMQP_ETRUNC;
    m->channel_max = amqp_get16(p); p += 2;
    if (end - p < 4) return AMQP_ETRUNC;
    m->frame_max = amqp_get32(p); p += 4;
    if (end - p < 2) return AMQP_ETRUNC;
    m->heartbeat = amqp_get16(p); p += 2;
    return p == end ? AMQP_OK : AMQP_ETRAILING;
}

size_t amqp_connection_tune_size(const amqp_connection_tune *m)
{
    size_t n = 0;
    n += 2;
    n += 4;
    n += 2;
    (void)m;
    return n;
}

uint8_t *amqp_connection_tune_encode(uint8_t *p, const amqp_connection_tune *m)
{
    p = amqp_put16(p, m->channel_max);
    p = amqp_put32(p, m->frame_max);
    p = amqp_put16(p, m->heartbeat);
    (void)m;
    return p;
}

int amqp_connection_tune_ok_decode(const uint8_t *p, size_t n, amqp_connection_tune_ok *m)
{
    const uint8_t *end = p + n;
    memset(m, 0, sizeof *m);
    if (end - p < 2) return AMQP_ETRUNC;
    m->channel_max = amqp_get16(p); p += 2;
    if (end - p < 4) return AMQP_ETRUNC;
    m->frame_max = amqp_get32(p); p += 4;
    if (end - p < 2) return AMQP_ETRUNC;
    m->heartbeat = amqp_get16(p); p += 2;
    return p == end ? AMQP_OK : AMQP_ETRAILING;
}

size_t amqp_connection_tune_ok_size(const amqp_connection_tune_ok *m)
{
    size_t n = 0;
    n += 2;
    n += 4;
    n += 2;
    (void)m;
    return n;
}

uint8_t *amqp_connection_tune_ok_encode(uint8_t *p, const amqp_connection_tune_ok *m)
{
    p = amqp_put16(p, m->channel_max);
    p = amqp_put32(p, m->frame_max);
    p = amqp_put16(p, m->heartbeat);
    (void)m;
    return p;
}

int amqp_connection_open_decode(const uint8_t *p, size_t n, amqp_connection_open *m)
{
    const uint8_t *end = p + n;
    uint8_t bits = 0;
    memset(m, 0, sizeof *m);
    if (end - p < 1 || (size_t)(end - p - 1) < p[0]) return AMQP_ETRUNC;
    m->virtual_host.len = p[0]; m->virtual_host.ptr = (const char *)p + 1; p += 1 + p[0];
    if (end - p < 1 || (size_t)(end - p - 1) < p[0]) return AMQP_ETRUNC;
    m->capabilities.len = p[0]; m->capabilities.ptr = (const char *)p + 1; p += 1 + p[0];
    if (end - p < 1) return AMQP_ETRUNC;
    bits = *p++;
    m->insist = (bits >> 0) & 1;
    (void)bits;
    if (p != end) return AMQP_ETRAILING;
    if (!amqp_utf8_ok(m->virtual_host.ptr, m->virtual_host.len)) return AMQP_EUTF8;
    if (!amqp_utf8_ok(m->capabilities.ptr, m->capabilities.len)) return AMQP_EUTF8;
    return AMQP_OK;
}

size_t amqp_connection_open_size(const amqp_connection_open *m)
{
    size_t n = 0;
    n += 1 + m->virtual_host.len;
    n += 1 + m->capabilities.len;
    n += 1;
    (void)m;
    return n;
}

uint8_t *amqp_connection_open_encode(uint8_t *p, const amqp_connection_open *m)
{
    p = amqp_put_shortstr(p, m->virtual_host);
    p = amqp_put_shortstr(p, m->capabilities);
    *p++ = (uint8_t)((m->insist ? 1 : 0));
    (void)m;
    return p;
}

int amqp_connection_open_ok_decode(const uint8_t *p, size_t n, amqp_connection_open_ok *m)
{
    const uint8_t *end = p + n;
    memset(m, 0, sizeof *m);
    if (end - p < 1 || (size_t)(end - p - 1) < p[0]) return AMQP_ETRUNC;
    m->known_hosts.len = p[0]; m->known_hosts.ptr = (const char *)p + 1; p += 1 + p[0];
    if (p != end) return AMQP_ETRAILING;
    if (!amqp_utf8_ok(m->known_hosts.ptr, m->known_hosts.len)) return AMQP_EUTF8;
    return AMQP_OK;
}

size_t amqp_connection_open_ok_size(const amqp_connection_open_ok *m)
{
    size_t n = 0;
    n += 1 + m->known_hosts.len;
    (void)m;
    return n;
}

uint8_t *amqp_connection_open_ok_encode(uint8_t *p, const amqp_connection_open_ok *m)
{
    p = amqp_put_shortstr(p, m->known_hosts);
    (void)m;
    return p;
}

int amqp_connection_close_decode(const uint8_t *p, size_t n, amqp_connection_close *m)
{
    const uint8_t *end = p + n;
    memset(m, 0, sizeof *m);
    if (end - p < 2) return AMQP_ETRUNC;
    m->reply_code = amqp_get16(p); p += 2;
    if (end - p < 1 || (size_t)(end - p - 1) < p[0]) return AMQP_ETRUNC;
    m->reply_text.len = p[0]; m->reply_text.ptr = (const char *)p + 1; p += 1 + p[0];
    if (end - p < 2) return AMQP_ETRUNC;
    m->class_id = amqp_get16(p); p += 2;
    if (end - p < 2) return AMQP_ETRUNC;
    m->method_id = amqp_get16(p); p += 2;
    if (p != end) return AMQP_ETRAILING;
    if (!amqp_utf8_ok(m->reply_text.ptr, m->reply_text.len)) return AMQP_EUTF8;
    return AMQP_OK;
}

size_t amqp_connection_close_size(const amqp_connection_close *m)
{
    size_t n = 0;
    n += 2;
    n += 1 + m->reply_text.len;
    n += 2;
    n += 2;
    (void)m;
    return n;
}

uint8_t *amqp_connection_close_encode(uint8_t *p, const amqp_connection_close *m)
{
    p = amqp_put16(p, m->reply_code);
    p = amqp_put_shortstr(p, m->reply_text);
    p = amqp_put16(p, m->class_id);
    p = amqp_put16(p, m->method_id);
    (void)m;
    return p;
}

int amqp_connection_close_ok_decode(const uint8_t *p, size_t n, amqp_connection_close_ok *m)
{
    const uint8_t *end = p + n;
    memset(m, 0, sizeof *m);
    return p == end ? AMQP_OK : AMQP_ETRAILING;
}

size_t amqp_connection_close_ok_size(const amqp_connection_close_ok *m)
{
    size_t n = 0;
    (void)m;
    return n;
}

uint8_t *amqp_connection_close_ok_encode(uint8_t *p, const amqp_connection_close_ok *m)
{
    (void)m;
    return p;
}

int amqp_connection_blocked_decode(const uint8_t *p, size_t n, amqp_connection_blocked *m)
{
    const uint8_t *end = p + n;
    memset(m, 0, sizeof *m);
    if (end - p < 1 || (size_t)(end - p - 1) < p[0]) return AMQP_ETRUNC;
    m->reason.len = p[0]; m->reason.ptr = (const char *)p + 1; p += 1 + p[0];
    if (p != end) return AMQP_ETRAILING;
    if (!amqp_utf8_ok(m->reason.ptr, m->reason.len)) return AMQP_EUTF8;
    return AMQP_OK;
}

size_t amqp_connection_blocked_size(const amqp_connection_blocked *m)
{
    size_t n = 0;
    n += 1 + m->reason.len;
    (void)m;
    return n;
}

uint8_t *amqp_connection_blocked_encode(uint8_t *p, const amqp_connection_blocked *m)
{
    p = amqp_put_shortstr(p, m->reason);
    (void)m;
    return p;
}

int amqp_connection_unblocked_decode(const uint8_t *p, size_t n, amqp_connection_unblocked *m)
{
    const uint8_t *end = p + n;
    memset(m, 0, sizeof *m);
    return p == end ? AMQP_OK : AMQP_ETRAILING;
}

size_t amqp_connection_unblocked_size(const amqp_connection_unblocked *m)
{
    size_t n = 0;
    (void)m;
    return n;
}

uint8_t *amqp_connection_unblocked_encode(uint8_t *p, const amqp_connection_unblocked *m)
{
    (void)m;
    return p;
}

int amqp_connection_update_secret_decode(const uint8_t *p, size_t n, amqp_connection_update_secret *m)
{
    const uint8_t *end = p + n;
    memset(m, 0, sizeof *m);
    if (end - p < 4 || (size_t)(end - p - 4) < amqp_get32(p)) return AMQP_ETRUNC;
    m->new_secret.len = amqp_get32(p); m->new_secret.ptr = (const char *)p + 4; p += 4 + m->new_secret.len;
    if (end - p < 1 || (size_t)(end - p - 1) < p[0]) return AMQP_ETRUNC;
    m->reason.len = p[0]; m->reason.ptr = (const char *)p + 1; p += 1 + p[0];
    if (p != end) return AMQP_ETRAILING;
    if (!amqp_utf8_ok(m->reason.ptr, m->reason.len)) return AMQP_EUTF8;
    return AMQP_OK;
}

size_t amqp_connection_update_secret_size(const amqp_connection_update_secret *m)
{
    size_t n = 0;
    n += 4 + (size_t)m->new_secret.len;
    n += 1 + m->reason.len;
    (void)m;
    return n;
}

uint8_t *amqp_connection_update_secret_encode(uint8_t *p, const amqp_connection_update_secret *m)
{
    p = amqp_put_longstr(p, m->new_secret);
    p = amqp_put_shortstr(p, m->reason);
    (void)m;
    return p;
}

int amqp_connection_update_secret_ok_decode(const uint8_t *p, size_t n, amqp_connection_update_secret_ok *m)
{
    const uint8_t *end = p + n;
    memset(m, 0, sizeof *m);
    return p == end ? AMQP_OK : AMQP_ETRAILING;
}

size_t amqp_connection_update_secret_ok_size(const amqp_connection_update_secret_ok *m)
{
    size_t n = 0;
    (void)m;
    return n;
}

uint8_t *amqp_connection_update_secret_ok_encode(uint8_t *p, const amqp_connection_update_secret_ok *m)
{
    (void)m;
    return p;
}

int amqp_channel_open_decode(const uint8_t *p, size_t n, amqp_channel_open *m)
{
    const uint8_t *end = p + n;
    memset(m, 0, sizeof *m);
    if (end - p < 1 || (size_t)(end - p - 1) < p[0]) return AMQP_ETRUNC;
    m->out_of_band.len = p[0]; m->out_of_band.ptr = (const char *)p + 1; p += 1 + p[0];
    if (p != end) return AMQP_ETRAILING;
    if (!amqp_utf8_ok(m->out_of_band.ptr, m->out_of_band.len)) return AMQP_EUTF8;
    return AMQP_OK;
}

size_t amqp_channel_open_size(const amqp_channel_open *m)
{
    size_t n = 0;
    n += 1 + m->out_of_band.len;
    (void)m;
    return n;
}

uint8_t *amqp_channel_open_encode(uint8_t *p, const amqp_channel_open *m)
{
    p = amqp_put_shortstr(p, m->out_of_band);
    (void)m;
    return p;
}

int amqp_channel_open_ok_decode(const uint8_t *p, size_t n, amqp_channel_open_ok *m)
{
    const uint8_t *end = p + n;
    memset(m, 0, sizeof *m);
    if (end - p < 4 || (size_t)(end - p - 4) < amqp_get32(p)) return AMQP_ETRUNC;
    m->channel_id.len = amqp_get32(p); m->channel_id.ptr = (const char *)p + 4; p += 4 + m->channel_id.len;
    return p == end ? AMQP_OK : AMQP_ETRAILING;
}

size_t amqp_channel_open_ok_size(const amqp_channel_open_ok *m)
{
    size_t n = 0;
    n += 4 + (size_t)m->channel_id.len;
    (void)m;
    return n;
}

uint8_t *amqp_channel_open_ok_encode(uint8_t *p, const amqp_channel_open_ok *m)
{
    p = amqp_put_longstr(p, m->channel_id);
    (void)m;
    return p;
}

int amqp_channel_flow_decode(const uint8_t *p, size_t n, amqp_channel_flow *m)
{
    const uint8_t *end = p + n;
    uint8_t bits = 0;
    memset(m, 0, sizeof *m);
    if (end - p < 1) return AMQP_ETRUNC;
    bits = *p++;
    m->active = (bits >> 0) & 1;
    (void)bits;
    return p == end ? AMQP_OK : AMQP_ETRAILING;
}

size_t amqp_channel_flow_size(const amqp_channel_flow *m)
{
    size_t n = 0;
    n += 1;
    (void)m;
    return n;
}

uint8_t *amqp_channel_flow_encode(uint8_t *p, const amqp_channel_flow *m)
{
    *p++ = (uint8_t)((m->active ? 1 : 0));
    (void)m;
    return p;
}

int amqp_channel_flow_ok_decode(const uint8_t *p, size_t n, amqp_channel_flow_ok *m)
{
    const uint8_t *end = p + n;
    uint8_t bits = 0;
    memset(m, 0, sizeof *m);
    if (end - p < 1) return AMQP_ETRUNC;
    bits = *p++;
    m->active = (bits >> 0) & 1;
    (void)bits;
    return p == end ? AMQP_OK : AMQP_ETRAILING;
}

size_t amqp_channel_flow_ok_size(const amqp_channel_flow_ok *m)
{
    size_t n = 0;
    n += 1;
    (void)m;
    return n;
}

uint8_t *amqp_channel_flow_ok_encode(uint8_t *p, const amqp_channel_flow_ok *m)
{
    *p++ = (uint8_t)((m->active ? 1 : 0));
    (void)m;
    return p;
}

int amqp_channel_close_decode(const uint8_t *p, size_t n, amqp_channel_close *m)
{
    const uint8_t *end = p + n;
    memset(m, 0, sizeof *m);
    if (end - p < 2) return AMQP_ETRUNC;
    m->reply_code = amqp_get16(p); p += 2;
    if (end - p < 1 || (size_t)(end - p - 1) < p[0]) return AMQP_ETRUNC;
    m->reply_text.len = p[0]; m->reply_text.ptr = (const char *)p + 1; p += 1 + p[0];
    if (end - p < 2) return AMQP_ETRUNC;
    m->class_id = amqp_get16(p); p += 2;
    if (end - p < 2) return AMQP_ETRUNC;
    m->method_id = amqp_get16(p); p += 2;
    if (p != end) return AMQP_ETRAILING;
    if (!amqp_utf8_ok(m->reply_text.ptr, m->reply_text.len)) return AMQP_EUTF8;
    return AMQP_OK;
}

size_t amqp_channel_close_size(const amqp_channel_close *m)
{
    size_t n = 0;
    n += 2;
    n += 1 + m->reply_text.len;
    n += 2;
    n += 2;
    (void)m;
    return n;
}

uint8_t *amqp_channel_close_encode(uint8_t *p, const amqp_channel_close *m)
{
    p = amqp_put16(p, m->reply_code);
    p = amqp_put_shortstr(p, m->reply_text);
    p = amqp_put16(p, m->class_id);
    p = amqp_put16(p, m->method_id);
    (void)m;
    return p;
}

int amqp_channel_close_ok_decode(const uint8_t *p, size_t n, amqp_channel_close_ok *m)
{
    const uint8_t *end = p + n;
    memset(m, 0, sizeof *m);
    return p == end ? AMQP_OK : AMQP_ETRAILING;
}

size_t amqp_channel_close_ok_size(const amqp_channel_close_ok *m)
{
    size_t n = 0;
    (void)m;
    return n;
}

uint8_t *amqp_channel_close_ok_encode(uint8_t *p, const amqp_channel_close_ok *m)
{
    (void)m;
    return p;
}

int amqp_access_request_decode(const uint8_t *p, size_t n, amqp_access_request *m)
{
    const uint8_t *end = p + n;
    uint8_t bits = 0;
    memset(m, 0, sizeof *m);
    if (end - p < 1 || (size_t)(end - p - 1) < p[0]) return AMQP_ETRUNC;
    m->realm.len = p[0]; m->realm.ptr = (const char *)p + 1; p += 1 + p[0];
    if (end - p < 1) return AMQP_ETRUNC;
    bits = *p++;
    m->exclusive = (bits >> 0) & 1;
    m->passive = (bits >> 1) & 1;
    m->active = (bits >> 2) & 1;
    m->write = (bits >> 3) & 1;
    m->read = (bits >> 4) & 1;
    (void)bits;
    if (p != end) return AMQP_ETRAILING;
    if (!amqp_utf8_ok(m->realm.ptr, m->realm.len)) return AMQP_EUTF8;
    return AMQP_OK;
}

size_t amqp_access_request_size(const amqp_access_request *m)
{
    size_t n = 0;
    n += 1 + m->realm.len;
    n += 1;
    (void)m;
    return n;
}

uint8_t *amqp_access_request_encode(uint8_t *p, const amqp_access_request *m)
{
    p = amqp_put_shortstr(p, m->realm);
    *p++ = (uint8_t)((m->exclusive ? 1 : 0) | (m->passive ? 2 : 0) | (m->active ? 4 : 0) | (m->write ? 8 : 0) | (m->read ? 16 : 0));
    (void)m;
    return p;
}

int amqp_access_request_ok_decode(const uint8_t *p, size_t n, amqp_access_request_ok *m)
{
    const uint8_t *end = p + n;
    memset(m, 0, sizeof *m);
    if (end - p < 2) return AMQP_ETRUNC;
    m->ticket = amqp_get16(p); p += 2;
    return p == end ? AMQP_OK : AMQP_ETRAILING;
}

size_t amqp_access_request_ok_size(const amqp_access_request_ok *m)
{
    size_t n = 0;
    n += 2;
    (void)m;
    return n;
}

uint8_t *amqp_access_request_ok_encode(uint8_t *p, const amqp_access_request_ok *m)
{
    p = amqp_put16(p, m->ticket);
    (void)m;
    return p;
}

int amqp_exchange_declare_decode(const uint8_t *p, size_t n, amqp_exchange_declare *m)
{
    const uint8_t *end = p + n;
    uint8_t bits = 0;
    int rc;
    memset(m, 0, sizeof *m);
    if (end - p < 2) return AMQP_ETRUNC;
    m->ticket = amqp_get16(p); p += 2;
    if (end - p < 1 || (size_t)(end - p - 1) < p[0]) return AMQP_ETRUNC;
    m->exchange.len = p[0]; m->exchange.ptr = (const char *)p + 1; p += 1 + p[0];
    if (end - p < 1 || (size_t)(end - p - 1) < p[0]) return AMQP_ETRUNC;
    m->type.len = p[0]; m->type.ptr = (const char *)p + 1; p += 1 + p[0];
    if (end - p < 1) return AMQP_ETRUNC;
    bits = *p++;
    m->passive = (bits >> 0) & 1;
    m->durable = (bits >> 1) & 1;
    m->auto_delete = (bits >> 2) & 1;
    m->internal = (bits >> 3) & 1;
    m->nowait = (bits >> 4) & 1;
    if (end - p < 4 || (size_t)(end - p - 4) < amqp_get32(p)) return AMQP_ETRUNC;
    m->arguments.len = amqp_get32(p); m->arguments.ptr = p + 4; p += 4;
    if ((rc = amqp_table_validate(p, m->arguments.len, 0)) < 0) return rc;
    p += m->arguments.len;
    (void)bits;
    if (p != end) return AMQP_ETRAILING;
    if (!amqp_utf8_ok(m->exchange.ptr, m->exchange.len)) return AMQP_EUTF8;
    if (!amqp_utf8_ok(m->type.ptr, m->type.len)) return AMQP_EUTF8;
    return AMQP_OK;
}

size_t amqp_exchange_declare_size(const amqp_exchange_declare *m)
{
    size_t n = 0;
    n += 2;
    n += 1 + m->exchange.len;
    n += 1 + m->type.len;
    n += 1;
    n += 4 + (size_t)m->arguments.len;
    (void)m;
    return n;
}

uint8_t *amqp_exchange_declare_encode(uint8_t *p, const amqp_exchange_declare *m)
{
    p = amqp_put16(p, m->ticket);
    p = amqp_put_shortstr(p, m->exchange);
    p = amqp_put_shortstr(p, m->type);
    *p++ = (uint8_t)((m->passive ? 1 : 0) | (m->durable ? 2 : 0) | (m->auto_delete ? 4 : 0) | (m->internal ? 8 : 0) | (m->nowait ? 16 : 0));
    p = amqp_put_table(p, m->arguments);
    (void)m;
    return p;
}

int amqp_exchange_declare_ok_decode(const uint8_t *p, size_t n, amqp_exchange_declare_ok *m)
{
    const uint8_t *end = p + n;
    memset(m, 0, sizeof *m);
    return p == end ? AMQP_OK : AMQP_ETRAILING;
}

size_t amqp_exchange_declare_ok_size(const amqp_exchange_declare_ok *m)
{
    size_t n = 0;
    (void)m;
    return n;
}

uint8_t *amqp_exchange_declare_ok_encode(uint8_t *p, const amqp_exchange_declare_ok *m)
{
    (void)m;
    return p;
}

int amqp_exchange_delete_decode(const uint8_t *p, size_t n, amqp_exchange_delete *m)
{
    const uint8_t *end = p + n;
    uint8_t bits = 0;
    memset(m, 0, sizeof *m);
    if (end - p < 2) return AMQP_ETRUNC;
    m->ticket = amqp_get16(p); p += 2;
    if (end - p < 1 || (size_t)(end - p - 1) < p[0]) return AMQP_ETRUNC;
    m->exchange.len = p[0]; m->exchange.ptr = (const char *)p + 1; p += 1 + p[0];
    if (end - p < 1) return AMQP_ETRUNC;
    bits = *p++;
    m->if_unused = (bits >> 0) & 1;
    m->nowait = (bits >> 1) & 1;
    (void)bits;
    if (p != end) return AMQP_ETRAILING;
    if (!amqp_utf8_ok(m->exchange.ptr, m->exchange.len)) return AMQP_EUTF8;
    return AMQP_OK;
}

size_t amqp_exchange_delete_size(const amqp_exchange_delete *m)
{
    size_t n = 0;
    n += 2;
    n += 1 + m->exchange.len;
    n += 1;
    (void)m;
    return n;
}

uint8_t *amqp_exchange_delete_encode(uint8_t *p, const amqp_exchange_delete *m)
{
    p = amqp_put16(p, m->ticket);
    p = amqp_put_shortstr(p, m->exchange);
    *p++ = (uint8_t)((m->if_unused ? 1 : 0) | (m->nowait ? 2 : 0));
    (void)m;
    return p;
}

int amqp_exchange_delete_ok_decode(const uint8_t *p, size_t n, amqp_exchange_delete_ok *m)
{
    const uint8_t *end = p + n;
    memset(m, 0, sizeof *m);
    return p == end ? AMQP_OK : AMQP_ETRAILING;
}

size_t amqp_exchange_delete_ok_size(const amqp_exchange_delete_ok *m)
{
    size_t n = 0;
    (void)m;
    return n;
}

uint8_t *amqp_exchange_delete_ok_encode(uint8_t *p, const amqp_exchange_delete_ok *m)
{
    (void)m;
    return p;
}

int amqp_exchange_bind_decode(const uint8_t *p, size_t n, amqp_exchange_bind *m)
{
    const uint8_t *end = p + n;
    uint8_t bits = 0;
    int rc;
    memset(m, 0, sizeof *m);
    if (end - p < 2) return AMQP_ETRUNC;
    m->ticket = amqp_get16(p); p += 2;
    if (end - p < 1 || (size_t)(end - p - 1) < p[0]) return AMQP_ETRUNC;
    m->destination.len = p[0]; m->destination.ptr = (const char *)p + 1; p += 1 + p[0];
    if (end - p < 1 || (size_t)(end - p - 1) < p[0]) return AMQP_ETRUNC;
    m->source.len = p[0]; m->source.ptr = (const char *)p + 1; p += 1 + p[0];
    if (end - p < 1 || (size_t)(end - p - 1) < p[0]) return AMQP_ETRUNC;
    m->routing_key.len = p[0]; m->routing_key.ptr = (const char *)p + 1; p += 1 + p[0];
    if (end - p < 1) return AMQP_ETRUNC;
    bits = *p++;
    m->nowait = (bits >> 0) & 1;
    if (end - p < 4 || (size_t)(end - p - 4) < amqp_get32(p)) return AMQP_ETRUNC;
    m->arguments.len = amqp_get32(p); m->arguments.ptr = p + 4; p += 4;
    if ((rc = amqp_table_validate(p, m->arguments.len, 0)) < 0) return rc;
    p += m->arguments.len;
    (void)bits;
    if (p != end) return AMQP_ETRAILING;
    if (!amqp_utf8_ok(m->destination.ptr, m->destination.len)) return AMQP_EUTF8;
    if (!amqp_utf8_ok(m->source.ptr, m->source.len)) return AMQP_EUTF8;
    if (!amqp_utf8_ok(m->routing_key.ptr, m->routing_key.len)) return AMQP_EUTF8;
    return AMQP_OK;
}

size_t amqp_exchange_bind_size(const amqp_exchange_bind *m)
{
    size_t n = 0;
    n += 2;
    n += 1 + m->destination.len;
    n += 1 + m->source.len;
    n += 1 + m->routing_key.len;
    n += 1;
    n += 4 + (size_t)m->arguments.len;
    (void)m;
    return n;
}

uint8_t *amqp_exchange_bind_encode(uint8_t *p, const amqp_exchange_bind *m)
{
    p = amqp_put16(p, m->ticket);
    p = amqp_put_shortstr(p, m->destination);
    p = amqp_put_shortstr(p, m->source);
    p = amqp_put_shortstr(p, m->routing_key);
    *p++ = (uint8_t)((m->nowait ? 1 : 0));
    p = amqp_put_table(p, m->arguments);
    (void)m;
    return p;
}

int amqp_exchange_bind_ok_decode(const uint8_t *p, size_t n, amqp_exchange_bind_ok *m)
{
    const uint8_t *end = p + n;
    memset(m, 0, sizeof *m);
    return p == end ? AMQP_OK : AMQP_ETRAILING;
}

size_t amqp_exchange_bind_ok_size(const amqp_exchange_bind_ok *m)
{
    size_t n = 0;
    (void)m;
    return n;
}

uint8_t *amqp_exchange_bind_ok_encode(uint8_t *p, const amqp_exchange_bind_ok *m)
{
    (void)m;
    return p;
}

int amqp_exchange_unbind_decode(const uint8_t *p, size_t n, amqp_exchange_unbind *m)
{
    const uint8_t *end = p + n;
    uint8_t bits = 0;
    int rc;
    memset(m, 0, sizeof *m);
    if (end - p < 2) return AMQP_ETRUNC;
    m->ticket = amqp_get16(p); p += 2;
    if (end - p < 1 || (size_t)(end - p - 1) < p[0]) return AMQP_ETRUNC;
    m->destination.len = p[0]; m->destination.ptr = (const char *)p + 1; p += 1 + p[0];
    if (end - p < 1 || (size_t)(end - p - 1) < p[0]) return AMQP_ETRUNC;
    m->source.len = p[0]; m->source.ptr = (const char *)p + 1; p += 1 + p[0];
    if (end - p < 1 || (size_t)(end - p - 1) < p[0]) return AMQP_ETRUNC;
    m->routing_key.len = p[0]; m->routing_key.ptr = (const char *)p + 1; p += 1 + p[0];
    if (end - p < 1) return AMQP_ETRUNC;
    bits = *p++;
    m->nowait = (bits >> 0) & 1;
    if (end - p < 4 || (size_t)(end - p - 4) < amqp_get32(p)) return AMQP_ETRUNC;
    m->arguments.len = amqp_get32(p); m->arguments.ptr = p + 4; p += 4;
    if ((rc = amqp_table_validate(p, m->arguments.len, 0)) < 0) return rc;
    p += m->arguments.len;
    (void)bits;
    if (p != end) return AMQP_ETRAILING;
    if (!amqp_utf8_ok(m->destination.ptr, m->destination.len)) return AMQP_EUTF8;
    if (!amqp_utf8_ok(m->source.ptr, m->source.len)) return AMQP_EUTF8;
    if (!amqp_utf8_ok(m->routing_key.ptr, m->routing_key.len)) return AMQP_EUTF8;
    return AMQP_OK;
}

size_t amqp_exchange_unbind_size(const amqp_exchange_unbind *m)
{
    size_t n = 0;
    n += 2;
    n += 1 + m->destination.len;
    n += 1 + m->source.len;
    n += 1 + m->routing_key.len;
    n += 1;
    n += 4 + (size_t)m->arguments.len;
    (void)m;
    return n;
}

uint8_t *amqp_exchange_unbind_encode(uint8_t *p, const amqp_exchange_unbind *m)
{
    p = amqp_put16(p, m->ticket);
    p = amqp_put_shortstr(p, m->destination);
    p = amqp_put_shortstr(p, m->source);
    p = amqp_put_shortstr(p, m->routing_key);
    *p++ = (uint8_t)((m->nowait ? 1 : 0));
    p = amqp_put_table(p, m->arguments);
    (void)m;
    return p;
}

int amqp_exchange_unbind_ok_decode(const uint8_t *p, size_t n, amqp_exchange_unbind_ok *m)
{
    const uint8_t *end = p + n;
    memset(m, 0, sizeof *m);
    return p == end ? AMQP_OK : AMQP_ETRAILING;
}

size_t amqp_exchange_unbind_ok_size(const amqp_exchange_unbind_ok *m)
{
    size_t n = 0;
    (void)m;
    return n;
}

uint8_t *amqp_exchange_unbind_ok_encode(uint8_t *p, const amqp_exchange_unbind_ok *m)
{
    (void)m;
    return p;
}

int amqp_queue_declare_decode(const uint8_t *p, size_t n, amqp_queue_declare *m)
{
    const uint8_t *end = p + n;
    uint8_t bits = 0;
    int rc;
    memset(m, 0, sizeof *m);
    if (end - p < 2) return AMQP_ETRUNC;
    m->ticket = amqp_get16(p); p += 2;
    if (end - p < 1 || (size_t)(end - p - 1) < p[0]) return AMQP_ETRUNC;
    m->queue.len = p[0]; m->queue.ptr = (const char *)p + 1; p += 1 + p[0];
    if (end - p < 1) return AMQP_ETRUNC;
    bits = *p++;
    m->passive = (bits >> 0) & 1;
    m->durable = (bits >> 1) & 1;
    m->exclusive = (bits >> 2) & 1;
    m->auto_delete = (bits >> 3) & 1;
    m->nowait = (bits >> 4) & 1;
    if (end - p < 4 || (size_t)(end - p - 4) < amqp_get32(p)) return AMQP_ETRUNC;
    m->arguments.len = amqp_get32(p); m->arguments.ptr = p + 4; p += 4;
    if ((rc = amqp_table_validate(p, m->arguments.len, 0)) < 0) return rc;
    p += m->arguments.len;
    (void)bits;
    if (p != end) return AMQP_ETRAILING;
    if (!amqp_utf8_ok(m->queue.ptr, m->queue.len)) return AMQP_EUTF8;
    return AMQP_OK;
}

size_t amqp_queue_declare_size(const amqp_queue_declare *m)
{
    size_t n = 0;
    n += 2;
    n += 1 + m->queue.len;
    n += 1;
    n += 4 + (size_t)m->arguments.len;
    (void)m;
    return n;
}

uint8_t *amqp_queue_declare_encode(uint8_t *p, const amqp_queue_declare *m)
{
    p = amqp_put16(p, m->ticket);
    p = amqp_put_shortstr(p, m->queue);
    *p++ = (uint8_t)((m->passive ? 1 : 0) | (m->durable ? 2 : 0) | (m->exclusive ? 4 : 0) | (m->auto_delete ? 8 : 0) | (m->nowait ? 16 : 0));
    p = amqp_put_table(p, m->arguments);
    (void)m;
    return p;
}

int amqp_queue_declare_ok_decode(const uint8_t *p, size_t n, amqp_queue_declare_ok *m)
{
    const uint8_t *end = p + n;
    memset(m, 0, sizeof *m);
    if (end - p < 1 || (size_t)(end - p - 1) < p[0]) return AMQP_ETRUNC;
    m->queue.len = p[0]; m->queue.ptr = (const char *)p + 1; p += 1 + p[0];
    if (end - p < 4) return AMQP_ETRUNC;
    m->message_count = amqp_get32(p); p += 4;
    if (end - p < 4) return AMQP_ETRUNC;
    m->consumer_count = amqp_get32(p); p += 4;
    if (p != end) return AMQP_ETRAILING;
    if (!amqp_utf8_ok(m->queue.ptr, m->queue.len)) return AMQP_EUTF8;
    return AMQP_OK;
}

size_t amqp_queue_declare_ok_size(const amqp_queue_declare_ok *m)
{
    size_t n = 0;
    n += 1 + m->queue.len;
    n += 4;
    n += 4;
    (void)m;
    return n;
}

uint8_t *amqp_queue_declare_ok_encode(uint8_t *p, const amqp_queue_declare_ok *m)
{
    p = amqp_put_shortstr(p, m->queue);
    p = amqp_put32(p, m->message_count);
    p = amqp_put32(p, m->consumer_count);
    (void)m;
    return p;
}

int amqp_queue_bind_decode(const uint8_t *p, size_t n, amqp_queue_bind *m)
{
    const uint8_t *end = p + n;
    uint8_t bits = 0;
    int rc;
    memset(m, 0, sizeof *m);
    if (end - p < 2) return AMQP_ETRUNC;
    m->ticket = amqp_get16(p); p += 2;
    if (end - p < 1 || (size_t)(end - p - 1) < p[0]) return AMQP_ETRUNC;
    m->queue.len = p[0]; m->queue.ptr = (const char *)p + 1; p += 1 + p[0];
    if (end - p < 1 || (size_t)(end - p - 1) < p[0]) return AMQP_ETRUNC;
    m->exchange.len = p[0]; m->exchange.ptr = (const char *)p + 1; p += 1 + p[0];
    if (end - p < 1 || (size_t)(end - p - 1) < p[0]) return AMQP_ETRUNC;
    m->routing_key.len = p[0]; m->routing_key.ptr = (const char *)p + 1; p += 1 + p[0];
    if (end - p < 1) return AMQP_ETRUNC;
    bits = *p++;
    m->nowait = (bits >> 0) & 1;
    if (end - p < 4 || (size_t)(end - p - 4) < amqp_get32(p)) return AMQP_ETRUNC;
    m->arguments.len = amqp_get32(p); m->arguments.ptr = p + 4; p += 4;
    if ((rc = amqp_table_validate(p, m->arguments.len, 0)) < 0) return rc;
    p += m->arguments.len;
    (void)bits;
    if (p != end) return AMQP_ETRAILING;
    if (!amqp_utf8_ok(m->queue.ptr, m->queue.len)) return AMQP_EUTF8;
    if (!amqp_utf8_ok(m->exchange.ptr, m->exchange.len)) return AMQP_EUTF8;
    if (!amqp_utf8_ok(m->routing_key.ptr, m->routing_key.len)) return AMQP_EUTF8;
    return AMQP_OK;
}

size_t amqp_queue_bind_size(const amqp_queue_bind *m)
{
    size_t n = 0;
    n += 2;
    n += 1 + m->queue.len;
    n += 1 + m->exchange.len;
    n += 1 + m->routing_key.len;
    n += 1;
    n += 4 + (size_t)m->arguments.len;
    (void)m;
    return n;
}

uint8_t *amqp_queue_bind_encode(uint8_t *p, const amqp_queue_bind *m)
{
    p = amqp_put16(p, m->ticket);
    p = amqp_put_shortstr(p, m->queue);
    p = amqp_put_shortstr(p, m->exchange);
    p = amqp_put_shortstr(p, m->routing_key);
    *p++ = (uint8_t)((m->nowait ? 1 : 0));
    p = amqp_put_table(p, m->arguments);
    (void)m;
    return p;
}

int amqp_queue_bind_ok_decode(const uint8_t *p, size_t n, amqp_queue_bind_ok *m)
{
    const uint8_t *end = p + n;
    memset(m, 0, sizeof *m);
    return p == end ? AMQP_OK : AMQP_ETRAILING;
}

size_t amqp_queue_bind_ok_size(const amqp_queue_bind_ok *m)
{
    size_t n = 0;
    (void)m;
    return n;
}

uint8_t *amqp_queue_bind_ok_encode(uint8_t *p, const amqp_queue_bind_ok *m)
{
    (void)m;
    return p;
}

int amqp_queue_purge_decode(const uint8_t *p, size_t n, amqp_queue_purge *m)
{
    const uint8_t *end = p + n;
    uint8_t bits = 0;
    memset(m, 0, sizeof *m);
    if (end - p < 2) return AMQP_ETRUNC;
    m->ticket = amqp_get16(p); p += 2;
    if (end - p < 1 || (size_t)(end - p - 1) < p[0]) return AMQP_ETRUNC;
    m->queue.len = p[0]; m->queue.ptr = (const char *)p + 1; p += 1 + p[0];
    if (end - p < 1) return AMQP_ETRUNC;
    bits = *p++;
    m->nowait = (bits >> 0) & 1;
    (void)bits;
    if (p != end) return AMQP_ETRAILING;
    if (!amqp_utf8_ok(m->queue.ptr, m->queue.len)) return AMQP_EUTF8;
    return AMQP_OK;
}

size_t amqp_queue_purge_size(const amqp_queue_purge *m)
{
    size_t n = 0;
    n += 2;
    n += 1 + m->queue.len;
    n += 1;
    (void)m;
    return n;
}

uint8_t *amqp_queue_purge_encode(uint8_t *p, const amqp_queue_purge *m)
{
    p = amqp_put16(p, m->ticket);
    p = amqp_put_shortstr(p, m->queue);
    *p++ = (uint8_t)((m->nowait ? 1 : 0));
    (void)m;
    return p;
}

int amqp_queue_purge_ok_decode(const uint8_t *p, size_t n, amqp_queue_purge_ok *m)
{
    const uint8_t *end = p + n;
    memset(m, 0, sizeof *m);
    if (end - p < 4) return AMQP_ETRUNC;
    m->message_count = amqp_get32(p); p += 4;
    return p == end ? AMQP_OK : AMQP_ETRAILING;
}

size_t amqp_queue_purge_ok_size(const amqp_queue_purge_ok *m)
{
    size_t n = 0;
    n += 4;
    (void)m;
    return n;
}

uint8_t *amqp_queue_purge_ok_encode(uint8_t *p, const amqp_queue_purge_ok *m)
{
    p = amqp_put32(p, m->message_count);
    (void)m;
    return p;
}

int amqp_queue_delete_decode(const uint8_t *p, size_t n, amqp_queue_delete *m)
{
    const uint8_t *end = p + n;
    uint8_t bits = 0;
    memset(m, 0, sizeof *m);
    if (end - p < 2) return AMQP_ETRUNC;
    m->ticket = amqp_get16(p); p += 2;
    if (end - p < 1 || (size_t)(end - p - 1) < p[0]) return AMQP_ETRUNC;
    m->queue.len = p[0]; m->queue.ptr = (const char *)p + 1; p += 1 + p[0];
    if (end - p < 1) return AMQP_ETRUNC;
    bits = *p++;
    m->if_unused = (bits >> 0) & 1;
    m->if_empty = (bits >> 1) & 1;
    m->nowait = (bits >> 2) & 1;
    (void)bits;
    if (p != end) return AMQP_ETRAILING;
    if (!amqp_utf8_ok(m->queue.ptr, m->queue.len)) return AMQP_EUTF8;
    return AMQP_OK;
}

size_t amqp_queue_delete_size(const amqp_queue_delete *m)
{
    size_t n = 0;
    n += 2;
    n += 1 + m->queue.len;
    n += 1;
    (void)m;
    return n;
}

uint8_t *amqp_queue_delete_encode(uint8_t *p, const amqp_queue_delete *m)
{
    p = amqp_put16(p, m->ticket);
    p = amqp_put_shortstr(p, m->queue);
    *p++ = (uint8_t)((m->if_unused ? 1 : 0) | (m->if_empty ? 2 : 0) | (m->nowait ? 4 : 0));
    (void)m;
    return p;
}

int amqp_queue_delete_ok_decode(const uint8_t *p, size_t n, amqp_queue_delete_ok *m)
{
    const uint8_t *end = p + n;
    memset(m, 0, sizeof *m);
    if (end - p < 4) return AMQP_ETRUNC;
    m->message_count = amqp_get32(p); p += 4;
    return p == end ? AMQP_OK : AMQP_ETRAILING;
}

size_t amqp_queue_delete_ok_size(const amqp_queue_delete_ok *m)
{
    size_t n = 0;
    n += 4;
    (void)m;
    return n;
}

uint8_t *amqp_queue_delete_ok_encode(uint8_t *p, const amqp_queue_delete_ok *m)
{
    p = amqp_put32(p, m->message_count);
    (void)m;
    return p;
}

int amqp_queue_unbind_decode(const uint8_t *p, size_t n, amqp_queue_unbind *m)
{
    const uint8_t *end = p + n;
    int rc;
    memset(m, 0, sizeof *m);
    if (end - p < 2) return AMQP_ETRUNC;
    m->ticket = amqp_get16(p); p += 2;
    if (end - p < 1 || (size_t)(end - p - 1) < p[0]) return AMQP_ETRUNC;
    m->queue.len = p[0]; m->queue.ptr = (const char *)p + 1; p += 1 + p[0];
    if (end - p < 1 || (size_t)(end - p - 1) < p[0]) return AMQP_ETRUNC;
    m->exchange.len = p[0]; m->exchange.ptr = (const char *)p + 1; p += 1 + p[0];
    if (end - p < 1 || (size_t)(end - p - 1) < p[0]) return AMQP_ETRUNC;
    m->routing_key.len = p[0]; m->routing_key.ptr = (const char *)p + 1; p += 1 + p[0];
    if (end - p < 4 || (size_t)(end - p - 4) < amqp_get32(p)) return AMQP_ETRUNC;
    m->arguments.len = amqp_get32(p); m->arguments.ptr = p + 4; p += 4;
    if ((rc = amqp_table_validate(p, m->arguments.len, 0)) < 0) return rc;
    p += m->arguments.len;
    if (p != end) return AMQP_ETRAILING;
    if (!amqp_utf8_ok(m->queue.ptr, m->queue.len)) return AMQP_EUTF8;
    if (!amqp_utf8_ok(m->exchange.ptr, m->exchange.len)) return AMQP_EUTF8;
    if (!amqp_utf8_ok(m->routing_key.ptr, m->routing_key.len)) return AMQP_EUTF8;
    return AMQP_OK;
}

size_t amqp_queue_unbind_size(const amqp_queue_unbind *m)
{
    size_t n = 0;
    n += 2;
    n += 1 + m->queue.len;
    n += 1 + m->exchange.len;
    n += 1 + m->routing_key.len;
    n += 4 + (size_t)m->arguments.len;
    (void)m;
    return n;
}

uint8_t *amqp_queue_unbind_encode(uint8_t *p, const amqp_queue_unbind *m)
{
    p = amqp_put16(p, m->ticket);
    p = amqp_put_shortstr(p, m->queue);
    p = amqp_put_shortstr(p, m->exchange);
    p = amqp_put_shortstr(p, m->routing_key);
    p = amqp_put_table(p, m->arguments);
    (void)m;
    return p;
}

int amqp_queue_unbind_ok_decode(const uint8_t *p, size_t n, amqp_queue_unbind_ok *m)
{
    const uint8_t *end = p + n;
    memset(m, 0, sizeof *m);
    return p == end ? AMQP_OK : AMQP_ETRAILING;
}

size_t amqp_queue_unbind_ok_size(const amqp_queue_unbind_ok *m)
{
    size_t n = 0;
    (void)m;
    return n;
}

uint8_t *amqp_queue_unbind_ok_encode(uint8_t *p, const amqp_queue_unbind_ok *m)
{
    (void)m;
    return p;
}

int amqp_basic_qos_decode(const uint8_t *p, size_t n, amqp_basic_qos *m)
{
    const uint8_t *end = p + n;
    uint8_t bits = 0;
    memset(m, 0, sizeof *m);
    if (end - p < 4) return AMQP_ETRUNC;
    m->prefetch_size = amqp_get32(p); p += 4;
    if (end - p < 2) return AMQP_ETRUNC;
    m->prefetch_count = amqp_get16(p); p += 2;
    if (end - p < 1) return AMQP_ETRUNC;
    bits = *p++;
    m->global = (bits >> 0) & 1;
    (void)bits;
    return p == end ? AMQP_OK : AMQP_ETRAILING;
}

size_t amqp_basic_qos_size(const amqp_basic_qos *m)
{
    size_t n = 0;
    n += 4;
    n += 2;
    n += 1;
    (void)m;
    return n;
}

uint8_t *amqp_basic_qos_encode(uint8_t *p, const amqp_basic_qos *m)
{
    p = amqp_put32(p, m->prefetch_size);
    p = amqp_put16(p, m->prefetch_count);
    *p++ = (uint8_t)((m->global ? 1 : 0));
    (void)m;
    return p;
}

int amqp_basic_qos_ok_decode(const uint8_t *p, size_t n, amqp_basic_qos_ok *m)
{
    const uint8_t *end = p + n;
    memset(m, 0, sizeof *m);
    return p == end ? AMQP_OK : AMQP_ETRAILING;
}

size_t amqp_basic_qos_ok_size(const amqp_basic_qos_ok *m)
{
    size_t n = 0;
    (void)m;
    return n;
}

uint8_t *amqp_basic_qos_ok_encode(uint8_t *p, const amqp_basic_qos_ok *m)
{
    (void)m;
    return p;
}

int amqp_basic_consume_decode(const uint8_t *p, size_t n, amqp_basic_consume *m)
{
    const uint8_t *end = p + n;
    uint8_t bits = 0;
    int rc;
    memset(m, 0, sizeof *m);
    if (end - p < 2) return AMQP_ETRUNC;
    m->ticket = amqp_get16(p); p += 2;
    if (end - p < 1 || (size_t)(end - p - 1) < p[0]) return AMQP_ETRUNC;
    m->queue.len = p[0]; m->queue.ptr = (const char *)p + 1; p += 1 + p[0];
    if (end - p < 1 || (size_t)(end - p - 1) < p[0]) return AMQP_ETRUNC;
    m->consumer_tag.len = p[0]; m->consumer_tag.ptr = (const char *)p + 1; p += 1 + p[0];
    if (end - p < 1) return AMQP_ETRUNC;
    bits = *p++;
    m->no_local = (bits >> 0) & 1;
    m->no_ack = (bits >> 1) & 1;
    m->exclusive = (bits >> 2) & 1;
    m->nowait = (bits >> 3) & 1;
    if (end - p < 4 || (size_t)(end - p - 4) < amqp_get32(p)) return AMQP_ETRUNC;
    m->arguments.len = amqp_get32(p); m->arguments.ptr = p + 4; p += 4;
    if ((rc = amqp_table_validate(p, m->arguments.len, 0)) < 0) return rc;
    p += m->arguments.len;
    (void)bits;
    if (p != end) return AMQP_ETRAILING;
    if (!amqp_utf8_ok(m->queue.ptr, m->queue.len)) return AMQP_EUTF8;
    if (!amqp_utf8_ok(m->consumer_tag.ptr, m->consumer_tag.len)) return AMQP_EUTF8;
    return AMQP_OK;
}

size_t amqp_basic_consume_size(const amqp_basic_consume *m)
{
    size_t n = 0;
    n += 2;
    n += 1 + m->queue.len;
    n += 1 + m->consumer_tag.len;
    n += 1;
    n += 4 + (size_t)m->arguments.len;
    (void)m;
    return n;
}

uint8_t *amqp_basic_consume_encode(uint8_t *p, const amqp_basic_consume *m)
{
    p = amqp_put16(p, m->ticket);
    p = amqp_put_shortstr(p, m->queue);
    p = amqp_put_shortstr(p, m->consumer_tag);
    *p++ = (uint8_t)((m->no_local ? 1 : 0) | (m->no_ack ? 2 : 0) | (m->exclusive ? 4 : 0) | (m->nowait ? 8 : 0));
    p = amqp_put_table(p, m->arguments);
    (void)m;
    return p;
}

int amqp_basic_consume_ok_decode(const uint8_t *p, size_t n, amqp_basic_consume_ok *m)
{
    const uint8_t *end = p + n;
    memset(m, 0, sizeof *m);
    if (end - p < 1 || (size_t)(end - p - 1) < p[0]) return AMQP_ETRUNC;
    m->consumer_tag.len = p[0]; m->consumer_tag.ptr = (const char *)p + 1; p += 1 + p[0];
    if (p != end) return AMQP_ETRAILING;
    if (!amqp_utf8_ok(m->consumer_tag.ptr, m->consumer_tag.len)) return AMQP_EUTF8;
    return AMQP_OK;
}

size_t amqp_basic_consume_ok_size(const amqp_basic_consume_ok *m)
{
    size_t n = 0;
    n += 1 + m->consumer_tag.len;
    (void)m;
    return n;
}

uint8_t *amqp_basic_consume_ok_encode(uint8_t *p, const amqp_basic_consume_ok *m)
{
    p = amqp_put_shortstr(p, m->consumer_tag);
    (void)m;
    return p;
}

int amqp_basic_cancel_decode(const uint8_t *p, size_t n, amqp_basic_cancel *m)
{
    const uint8_t *end = p + n;
    uint8_t bits = 0;
    memset(m, 0, sizeof *m);
    if (end - p < 1 || (size_t)(end - p - 1) < p[0]) return AMQP_ETRUNC;
    m->consumer_tag.len = p[0]; m->consumer_tag.ptr = (const char *)p + 1; p += 1 + p[0];
    if (end - p < 1) return AMQP_ETRUNC;
    bits = *p++;
    m->nowait = (bits >> 0) & 1;
    (void)bits;
    if (p != end) return AMQP_ETRAILING;
    if (!amqp_utf8_ok(m->consumer_tag.ptr, m->consumer_tag.len)) return AMQP_EUTF8;
    return AMQP_OK;
}

size_t amqp_basic_cancel_size(const amqp_basic_cancel *m)
{
    size_t n = 0;
    n += 1 + m->consumer_tag.len;
    n += 1;
    (void)m;
    return n;
}

uint8_t *amqp_basic_cancel_encode(uint8_t *p, const amqp_basic_cancel *m)
{
    p = amqp_put_shortstr(p, m->consumer_tag);
    *p++ = (uint8_t)((m->nowait ? 1 : 0));
    (void)m;
    return p;
}

int amqp_basic_cancel_ok_decode(const uint8_t *p, size_t n, amqp_basic_cancel_ok *m)
{
    const uint8_t *end = p + n;
    memset(m, 0, sizeof *m);
    if (end - p < 1 || (size_t)(end - p - 1) < p[0]) return AMQP_ETRUNC;
    m->consumer_tag.len = p[0]; m->consumer_tag.ptr = (const char *)p + 1; p += 1 + p[0];
    if (p != end) return AMQP_ETRAILING;
    if (!amqp_utf8_ok(m->consumer_tag.ptr, m->consumer_tag.len)) return AMQP_EUTF8;
    return AMQP_OK;
}

size_t amqp_basic_cancel_ok_size(const amqp_basic_cancel_ok *m)
{
    size_t n = 0;
    n += 1 + m->consumer_tag.len;
    (void)m;
    return n;
}

uint8_t *amqp_basic_cancel_ok_encode(uint8_t *p, const amqp_basic_cancel_ok *m)
{
    p = amqp_put_shortstr(p, m->consumer_tag);
    (void)m;
    return p;
}

int amqp_basic_publish_decode(const uint8_t *p, size_t n, amqp_basic_publish *m)
{
    const uint8_t *end = p + n;
    uint8_t bits = 0;
    memset(m, 0, sizeof *m);
    if (end - p < 2) return AMQP_ETRUNC;
    m->ticket = amqp_get16(p); p += 2;
    if (end - p < 1 || (size_t)(end - p - 1) < p[0]) return AMQP_ETRUNC;
    m->exchange.len = p[0]; m->exchange.ptr = (const char *)p + 1; p += 1 + p[0];
    if (end - p < 1 || (size_t)(end - p - 1) < p[0]) return AMQP_ETRUNC;
    m->routing_key.len = p[0]; m->routing_key.ptr = (const char *)p + 1; p += 1 + p[0];
    if (end - p < 1) return AMQP_ETRUNC;
    bits = *p++;
    m->mandatory = (bits >> 0) & 1;
    m->immediate = (bits >> 1) & 1;
    (void)bits;
    return p == end ? AMQP_OK : AMQP_ETRAILING;
}

size_t amqp_basic_publish_size(const amqp_basic_publish *m)
{
    size_t n = 0;
    n += 2;
    n += 1 + m->exchange.len;
    n += 1 + m->routing_key.len;
    n += 1;
    (void)m;
    return n;
}

uint8_t *amqp_basic_publish_encode(uint8_t *p, const amqp_basic_publish *m)
{
    p = amqp_put16(p, m->ticket);
    p = amqp_put_shortstr(p, m->exchange);
    p = amqp_put_shortstr(p, m->routing_key);
    *p++ = (uint8_t)((m->mandatory ? 1 : 0) | (m->immediate ? 2 : 0));
    (void)m;
    return p;
}

int amqp_basic_return_decode(const uint8_t *p, size_t n, amqp_basic_return *m)
{
    const uint8_t *end = p + n;
    memset(m, 0, sizeof *m);
    if (end - p < 2) return AMQP_ETRUNC;
    m->reply_code = amqp_get16(p); p += 2;
    if (end - p < 1 || (size_t)(end - p - 1) < p[0]) return AMQP_ETRUNC;
    m->reply_text.len = p[0]; m->reply_text.ptr = (const char *)p + 1; p += 1 + p[0];
    if (end - p < 1 || (size_t)(end - p - 1) < p[0]) return AMQP_ETRUNC;
    m->exchange.len = p[0]; m->exchange.ptr = (const char *)p + 1; p += 1 + p[0];
    if (end - p < 1 || (size_t)(end - p - 1) < p[0]) return AMQP_ETRUNC;
    m->routing_key.len = p[0]; m->routing_key.ptr = (const char *)p + 1; p += 1 + p[0];
    return p == end ? AMQP_OK : AMQP_ETRAILING;
}

size_t amqp_basic_return_size(const amqp_basic_return *m)
{
    size_t n = 0;
    n += 2;
    n += 1 + m->reply_text.len;
    n += 1 + m->exchange.len;
    n += 1 + m->routing_key.len;
    (void)m;
    return n;
}

uint8_t *amqp_basic_return_encode(uint8_t *p, const amqp_basic_return *m)
{
    p = amqp_put16(p, m->reply_code);
    p = amqp_put_shortstr(p, m->reply_text);
    p = amqp_put_shortstr(p, m->exchange);
    p = amqp_put_shortstr(p, m->routing_key);
    (void)m;
    return p;
}

int amqp_basic_deliver_decode(const uint8_t *p, size_t n, amqp_basic_deliver *m)
{
    const uint8_t *end = p + n;
    uint8_t bits = 0;
    memset(m, 0, sizeof *m);
    if (end - p < 1 || (size_t)(end - p - 1) < p[0]) return AMQP_ETRUNC;
    m->consumer_tag.len = p[0]; m->consumer_tag.ptr = (const char *)p + 1; p += 1 + p[0];
    if (end - p < 8) return AMQP_ETRUNC;
    m->delivery_tag = amqp_get64(p); p += 8;
    if (end - p < 1) return AMQP_ETRUNC;
    bits = *p++;
    m->redelivered = (bits >> 0) & 1;
    if (end - p < 1 || (size_t)(end - p - 1) < p[0]) return AMQP_ETRUNC;
    m->exchange.len = p[0]; m->exchange.ptr = (const char *)p + 1; p += 1 + p[0];
    if (end - p < 1 || (size_t)(end - p - 1) < p[0]) return AMQP_ETRUNC;
    m->routing_key.len = p[0]; m->routing_key.ptr = (const char *)p + 1; p += 1 + p[0];
    (void)bits;
    return p == end ? AMQP_OK : AMQP_ETRAILING;
}

size_t amqp_basic_deliver_size(const amqp_basic_deliver *m)
{
    size_t n = 0;
    n += 1 + m->consumer_tag.len;
    n += 8;
    n += 1;
    n += 1 + m->exchange.len;
    n += 1 + m->routing_key.len;
    (void)m;
    return n;
}

uint8_t *amqp_basic_deliver_encode(uint8_t *p, const amqp_basic_deliver *m)
{
    p = amqp_put_shortstr(p, m->consumer_tag);
    p = amqp_put64(p, m->delivery_tag);
    *p++ = (uint8_t)((m->redelivered ? 1 : 0));
    p = amqp_put_shortstr(p, m->exchange);
    p = amqp_put_shortstr(p, m->routing_key);
    (void)m;
    return p;
}

int amqp_basic_get_decode(const uint8_t *p, size_t n, amqp_basic_get *m)
{
    const uint8_t *end = p + n;
    uint8_t bits = 0;
    memset(m, 0, sizeof *m);
    if (end - p < 2) return AMQP_ETRUNC;
    m->ticket = amqp_get16(p); p += 2;
    if (end - p < 1 || (size_t)(end - p - 1) < p[0]) return AMQP_ETRUNC;
    m->queue.len = p[0]; m->queue.ptr = (const char *)p + 1; p += 1 + p[0];
    if (end - p < 1) return AMQP_ETRUNC;
    bits = *p++;
    m->no_ack = (bits >> 0) & 1;
    (void)bits;
    if (p != end) return AMQP_ETRAILING;
    if (!amqp_utf8_ok(m->queue.ptr, m->queue.len)) return AMQP_EUTF8;
    return AMQP_OK;
}

size_t amqp_basic_get_size(const amqp_basic_get *m)
{
    size_t n = 0;
    n += 2;
    n += 1 + m->queue.len;
    n += 1;
    (void)m;
    return n;
}

uint8_t *amqp_basic_get_encode(uint8_t *p, const amqp_basic_get *m)
{
    p = amqp_put16(p, m->ticket);
    p = amqp_put_shortstr(p, m->queue);
    *p++ = (uint8_t)((m->no_ack ? 1 : 0));
    (void)m;
    return p;
}

int amqp_basic_get_ok_decode(const uint8_t *p, size_t n, amqp_basic_get_ok *m)
{
    const uint8_t *end = p + n;
    uint8_t bits = 0;
    memset(m, 0, sizeof *m);
    if (end - p < 8) return AMQP_ETRUNC;
    m->delivery_tag = amqp_get64(p); p += 8;
    if (end - p < 1) return AMQP_ETRUNC;
    bits = *p++;
    m->redelivered = (bits >> 0) & 1;
    if (end - p < 1 || (size_t)(end - p - 1) < p[0]) return AMQP_ETRUNC;
    m->exchange.len = p[0]; m->exchange.ptr = (const char *)p + 1; p += 1 + p[0];
    if (end - p < 1 || (size_t)(end - p - 1) < p[0]) return AMQP_ETRUNC;
    m->routing_key.len = p[0]; m->routing_key.ptr = (const char *)p + 1; p += 1 + p[0];
    if (end - p < 4) return AMQP_ETRUNC;
    m->message_count = amqp_get32(p); p += 4;
    (void)bits;
    return p == end ? AMQP_OK : AMQP_ETRAILING;
}

size_t amqp_basic_get_ok_size(const amqp_basic_get_ok *m)
{
    size_t n = 0;
    n += 8;
    n += 1;
    n += 1 + m->exchange.len;
    n += 1 + m->routing_key.len;
    n += 4;
    (void)m;
    return n;
}

uint8_t *amqp_basic_get_ok_encode(uint8_t *p, const amqp_basic_get_ok *m)
{
    p = amqp_put64(p, m->delivery_tag);
    *p++ = (uint8_t)((m->redelivered ? 1 : 0));
    p = amqp_put_shortstr(p, m->exchange);
    p = amqp_put_shortstr(p, m->routing_key);
    p = amqp_put32(p, m->message_count);
    (void)m;
    return p;
}

int amqp_basic_get_empty_decode(const uint8_t *p, size_t n, amqp_basic_get_empty *m)
{
    const uint8_t *end = p + n;
    memset(m, 0, sizeof *m);
    if (end - p < 1 || (size_t)(end - p - 1) < p[0]) return AMQP_ETRUNC;
    m->cluster_id.len = p[0]; m->cluster_id.ptr = (const char *)p + 1; p += 1 + p[0];
    if (p != end) return AMQP_ETRAILING;
    if (!amqp_utf8_ok(m->cluster_id.ptr, m->cluster_id.len)) return AMQP_EUTF8;
    return AMQP_OK;
}

size_t amqp_basic_get_empty_size(const amqp_basic_get_empty *m)
{
    size_t n = 0;
    n += 1 + m->cluster_id.len;
    (void)m;
    return n;
}

uint8_t *amqp_basic_get_empty_encode(uint8_t *p, const amqp_basic_get_empty *m)
{
    p = amqp_put_shortstr(p, m->cluster_id);
    (void)m;
    return p;
}

int amqp_basic_ack_decode(const uint8_t *p, size_t n, amqp_basic_ack *m)
{
    const uint8_t *end = p + n;
    uint8_t bits = 0;
    memset(m, 0, sizeof *m);
    if (end - p < 8) return AMQP_ETRUNC;
    m->delivery_tag = amqp_get64(p); p += 8;
    if (end - p < 1) return AMQP_ETRUNC;
    bits = *p++;
    m->multiple = (bits >> 0) & 1;
    (void)bits;
    return p == end ? AMQP_OK : AMQP_ETRAILING;
}

size_t amqp_basic_ack_size(const amqp_basic_ack *m)
{
    size_t n = 0;
    n += 8;
    n += 1;
    (void)m;
    return n;
}

uint8_t *amqp_basic_ack_encode(uint8_t *p, const amqp_basic_ack *m)
{
    p = amqp_put64(p, m->delivery_tag);
    *p++ = (uint8_t)((m->multiple ? 1 : 0));
    (void)m;
    return p;
}

int amqp_basic_reject_decode(const uint8_t *p, size_t n, amqp_basic_reject *m)
{
    const uint8_t *end = p + n;
    uint8_t bits = 0;
    memset(m, 0, sizeof *m);
    if (end - p < 8) return AMQP_ETRUNC;
    m->delivery_tag = amqp_get64(p); p += 8;
    if (end - p < 1) return AMQP_ETRUNC;
    bits = *p++;
    m->requeue = (bits >> 0) & 1;
    (void)bits;
    return p == end ? AMQP_OK : AMQP_ETRAILING;
}

size_t amqp_basic_reject_size(const amqp_basic_reject *m)
{
    size_t n = 0;
    n += 8;
    n += 1;
    (void)m;
    return n;
}

uint8_t *amqp_basic_reject_encode(uint8_t *p, const amqp_basic_reject *m)
{
    p = amqp_put64(p, m->delivery_tag);
    *p++ = (uint8_t)((m->requeue ? 1 : 0));
    (void)m;
    return p;
}

int amqp_basic_recover_async_decode(const uint8_t *p, size_t n, amqp_basic_recover_async *m)
{
    const uint8_t *end = p + n;
    uint8_t bits = 0;
    memset(m, 0, sizeof *m);
    if (end - p < 1) return AMQP_ETRUNC;
    bits = *p++;
    m->requeue = (bits >> 0) & 1;
    (void)bits;
    return p == end ? AMQP_OK : AMQP_ETRAILING;
}

size_t amqp_basic_recover_async_size(const amqp_basic_recover_async *m)
{
    size_t n = 0;
    n += 1;
    (void)m;
    return n;
}

uint8_t *amqp_basic_recover_async_encode(uint8_t *p, const amqp_basic_recover_async *m)
{
    *p++ = (uint8_t)((m->requeue ? 1 : 0));
    (void)m;
    return p;
}

int amqp_basic_recover_decode(const uint8_t *p, size_t n, amqp_basic_recover *m)
{
    const uint8_t *end = p + n;
    uint8_t bits = 0;
    memset(m, 0, sizeof *m);
    if (end - p < 1) return AMQP_ETRUNC;
    bits = *p++;
    m->requeue = (bits >> 0) & 1;
    (void)bits;
    return p == end ? AMQP_OK : AMQP_ETRAILING;
}

size_t amqp_basic_recover_size(const amqp_basic_recover *m)
{
    size_t n = 0;
    n += 1;
    (void)m;
    return n;
}

uint8_t *amqp_basic_recover_encode(uint8_t *p, const amqp_basic_recover *m)
{
    *p++ = (uint8_t)((m->requeue ? 1 : 0));
    (void)m;
    return p;
}

int amqp_basic_recover_ok_decode(const uint8_t *p, size_t n, amqp_basic_recover_ok *m)
{
    const uint8_t *end = p + n;
    memset(m, 0, sizeof *m);
    return p == end ? AMQP_OK : AMQP_ETRAILING;
}

size_t amqp_basic_recover_ok_size(const amqp_basic_recover_ok *m)
{
    size_t n = 0;
    (void)m;
    return n;
}

uint8_t *amqp_basic_recover_ok_encode(uint8_t *p, const amqp_basic_recover_ok *m)
{
    (void)m;
    return p;
}

int amqp_basic_nack_decode(const uint8_t *p, size_t n, amqp_basic_nack *m)
{
    const uint8_t *end = p + n;
    uint8_t bits = 0;
    memset(m, 0, sizeof *m);
    if (end - p < 8) return AMQP_ETRUNC;
    m->delivery_tag = amqp_get64(p); p += 8;
    if (end - p < 1) return AMQP_ETRUNC;
    bits = *p++;
    m->multiple = (bits >> 0) & 1;
    m->requeue = (bits >> 1) & 1;
    (void)bits;
    return p == end ? AMQP_OK : AMQP_ETRAILING;
}

size_t amqp_basic_nack_size(const amqp_basic_nack *m)
{
    size_t n = 0;
    n += 8;
    n += 1;
    (void)m;
    return n;
}

uint8_t *amqp_basic_nack_encode(uint8_t *p, const amqp_basic_nack *m)
{
    p = amqp_put64(p, m->delivery_tag);
    *p++ = (uint8_t)((m->multiple ? 1 : 0) | (m->requeue ? 2 : 0));
    (void)m;
    return p;
}

int amqp_tx_select_decode(const uint8_t *p, size_t n, amqp_tx_select *m)
{
    const uint8_t *end = p + n;
    memset(m, 0, sizeof *m);
    return p == end ? AMQP_OK : AMQP_ETRAILING;
}

size_t amqp_tx_select_size(const amqp_tx_select *m)
{
    size_t n = 0;
    (void)m;
    return n;
}

uint8_t *amqp_tx_select_encode(uint8_t *p, const amqp_tx_select *m)
{
    (void)m;
    return p;
}

int amqp_tx_select_ok_decode(const uint8_t *p, size_t n, amqp_tx_select_ok *m)
{
    const uint8_t *end = p + n;
    memset(m, 0, sizeof *m);
    return p == end ? AMQP_OK : AMQP_ETRAILING;
}

size_t amqp_tx_select_ok_size(const amqp_tx_select_ok *m)
{
    size_t n = 0;
    (void)m;
    return n;
}

uint8_t *amqp_tx_select_ok_encode(uint8_t *p, const amqp_tx_select_ok *m)
{
    (void)m;
    return p;
}

int amqp_tx_commit_decode(const uint8_t *p, size_t n, amqp_tx_commit *m)
{
    const uint8_t *end = p + n;
    memset(m, 0, sizeof *m);
    return p == end ? AMQP_OK : AMQP_ETRAILING;
}

size_t amqp_tx_commit_size(const amqp_tx_commit *m)
{
    size_t n = 0;
    (void)m;
    return n;
}

uint8_t *amqp_tx_commit_encode(uint8_t *p, const amqp_tx_commit *m)
{
    (void)m;
    return p;
}

int amqp_tx_commit_ok_decode(const uint8_t *p, size_t n, amqp_tx_commit_ok *m)
{
    const uint8_t *end = p + n;
    memset(m, 0, sizeof *m);
    return p == end ? AMQP_OK : AMQP_ETRAILING;
}

size_t amqp_tx_commit_ok_size(const amqp_tx_commit_ok *m)
{
    size_t n = 0;
    (void)m;
    return n;
}

uint8_t *amqp_tx_commit_ok_encode(uint8_t *p, const amqp_tx_commit_ok *m)
{
    (void)m;
    return p;
}

int amqp_tx_rollback_decode(const uint8_t *p, size_t n, amqp_tx_rollback *m)
{
    const uint8_t *end = p + n;
    memset(m, 0, sizeof *m);
    return p == end ? AMQP_OK : AMQP_ETRAILING;
}

size_t amqp_tx_rollback_size(const amqp_tx_rollback *m)
{
    size_t n = 0;
    (void)m;
    return n;
}

uint8_t *amqp_tx_rollback_encode(uint8_t *p, const amqp_tx_rollback *m)
{
    (void)m;
    return p;
}

int amqp_tx_rollback_ok_decode(const uint8_t *p, size_t n, amqp_tx_rollback_ok *m)
{
    const uint8_t *end = p + n;
    memset(m, 0, sizeof *m);
    return p == end ? AMQP_OK : AMQP_ETRAILING;
}

size_t amqp_tx_rollback_ok_size(const amqp_tx_rollback_ok *m)
{
    size_t n = 0;
    (void)m;
    return n;
}

uint8_t *amqp_tx_rollback_ok_encode(uint8_t *p, const amqp_tx_rollback_ok *m)
{
    (void)m;
    return p;
}

int amqp_confirm_select_decode(const uint8_t *p, size_t n, amqp_confirm_select *m)
{
    const uint8_t *end = p + n;
    uint8_t bits = 0;
    memset(m, 0, sizeof *m);
    if (end - p < 1) return AMQP_ETRUNC;
    bits = *p++;
    m->nowait = (bits >> 0) & 1;
    (void)bits;
    return p == end ? AMQP_OK : AMQP_ETRAILING;
}

size_t amqp_confirm_select_size(const amqp_confirm_select *m)
{
    size_t n = 0;
    n += 1;
    (void)m;
    return n;
}

uint8_t *amqp_confirm_select_encode(uint8_t *p, const amqp_confirm_select *m)
{
    *p++ = (uint8_t)((m->nowait ? 1 : 0));
    (void)m;
    return p;
}

int amqp_confirm_select_ok_decode(const uint8_t *p, size_t n, amqp_confirm_select_ok *m)
{
    const uint8_t *end = p + n;
    memset(m, 0, sizeof *m);
    return p == end ? AMQP_OK : AMQP_ETRAILING;
}

size_t amqp_confirm_select_ok_size(const amqp_confirm_select_ok *m)
{
    size_t n = 0;
    (void)m;
    return n;
}

uint8_t *amqp_confirm_select_ok_encode(uint8_t *p, const amqp_confirm_select_ok *m)
{
    (void)m;
    return p;
}

int amqp_method_decode(uint32_t id, const uint8_t *p, size_t n, amqp_method_args *out)
{
    switch (id) {
    case AMQP_CONNECTION_START: return amqp_connection_start_decode(p, n, &out->connection_start);
    case AMQP_CONNECTION_START_OK: return amqp_connection_start_ok_decode(p, n, &out->connection_start_ok);
    case AMQP_CONNECTION_SECURE: return amqp_connection_secure_decode(p, n, &out->connection_secure);
    case AMQP_CONNECTION_SECURE_OK: return amqp_connection_secure_ok_decode(p, n, &out->connection_secure_ok);
    case AMQP_CONNECTION_TUNE: return amqp_connection_tune_decode(p, n, &out->connection_tune);
    case AMQP_CONNECTION_TUNE_OK: return amqp_connection_tune_ok_decode(p, n, &out->connection_tune_ok);
    case AMQP_CONNECTION_OPEN: return amqp_connection_open_decode(p, n, &out->connection_open);
    case AMQP_CONNECTION_OPEN_OK: return amqp_connection_open_ok_decode(p, n, &out->connection_open_ok);
    case AMQP_CONNECTION_CLOSE: return amqp_connection_close_decode(p, n, &out->connection_close);
    case AMQP_CONNECTION_CLOSE_OK: return amqp_connection_close_ok_decode(p, n, &out->connection_close_ok);
    case AMQP_CONNECTION_BLOCKED: return amqp_connection_blocked_decode(p, n, &out->connection_blocked);
    case AMQP_CONNECTION_UNBLOCKED: return amqp_connection_unblocked_decode(p, n, &out->connection_unblocked);
    case AMQP_CONNECTION_UPDATE_SECRET: return amqp_connection_update_secret_decode(p, n, &out->connection_update_secret);
    case AMQP_CONNECTION_UPDATE_SECRET_OK: return amqp_connection_update_secret_ok_decode(p, n, &out->connection_update_secret_ok);
    case AMQP_CHANNEL_OPEN: return amqp_channel_open_decode(p, n, &out->channel_open);
    case AMQP_CHANNEL_OPEN_OK: return amqp_channel_open_ok_decode(p, n, &out->channel_open_ok);
    case AMQP_CHANNEL_FLOW: return amqp_channel_flow_decode(p, n, &out->channel_flow);
    case AMQP_CHANNEL_FLOW_OK: return amqp_channel_flow_ok_decode(p, n, &out->channel_flow_ok);
    case AMQP_CHANNEL_CLOSE: return amqp_channel_close_decode(p, n, &out->channel_close);
    case AMQP_CHANNEL_CLOSE_OK: return amqp_channel_close_ok_decode(p, n, &out->channel_close_ok);
    case AMQP_ACCESS_REQUEST: return amqp_access_request_decode(p, n, &out->access_request);
    case AMQP_ACCESS_REQUEST_OK: return amqp_access_request_ok_decode(p, n, &out->access_request_ok);
    case AMQP_EXCHANGE_DECLARE: return amqp_exchange_declare_decode(p, n, &out->exchange_declare);
    case AMQP_EXCHANGE_DECLARE_OK: return amqp_exchange_declare_ok_decode(p, n, &out->exchange_declare_ok);
    case AMQP_EXCHANGE_DELETE: return amqp_exchange_delete_decode(p, n, &out->exchange_delete);
    case AMQP_EXCHANGE_DELETE_OK: return amqp_exchange_delete_ok_decode(p, n, &out->exchange_delete_ok);
    case AMQP_EXCHANGE_BIND: return amqp_exchange_bind_decode(p, n, &out->exchange_bind);
    case AMQP_EXCHANGE_BIND_OK: return amqp_exchange_bind_ok_decode(p, n, &out->exchange_bind_ok);
    case AMQP_EXCHANGE_UNBIND: return amqp_exchange_unbind_decode(p, n, &out->exchange_unbind);
    case AMQP_EXCHANGE_UNBIND_OK: return amqp_exchange_unbind_ok_decode(p, n, &out->exchange_unbind_ok);
    case AMQP_QUEUE_DECLARE: return amqp_queue_declare_decode(p, n, &out->queue_declare);
    case AMQP_QUEUE_DECLARE_OK: return amqp_queue_declare_ok_decode(p, n, &out->queue_declare_ok);
    case AMQP_QUEUE_BIND: return amqp_queue_bind_decode(p, n, &out->queue_bind);
    case AMQP_QUEUE_BIND_OK: return amqp_queue_bind_ok_decode(p, n, &out->queue_bind_ok);
    case AMQP_QUEUE_PURGE: return amqp_queue_purge_decode(p, n, &out->queue_purge);
    case AMQP_QUEUE_PURGE_OK: return amqp_queue_purge_ok_decode(p, n, &out->queue_purge_ok);
    case AMQP_QUEUE_DELETE: return amqp_queue_delete_decode(p, n, &out->queue_delete);
    case AMQP_QUEUE_DELETE_OK: return amqp_queue_delete_ok_decode(p, n, &out->queue_delete_ok);
    case AMQP_QUEUE_UNBIND: return amqp_queue_unbind_decode(p, n, &out->queue_unbind);
    case AMQP_QUEUE_UNBIND_OK: return amqp_queue_unbind_ok_decode(p, n, &out->queue_unbind_ok);
    case AMQP_BASIC_QOS: return amqp_basic_qos_decode(p, n, &out->basic_qos);
    case AMQP_BASIC_QOS_OK: return amqp_basic_qos_ok_decode(p, n, &out->basic_qos_ok);
    case AMQP_BASIC_CONSUME: return amqp_basic_consume_decode(p, n, &out->basic_consume);
    case AMQP_BASIC_CONSUME_OK: return amqp_basic_consume_ok_decode(p, n, &out->basic_consume_ok);
    case AMQP_BASIC_CANCEL: return amqp_basic_cancel_decode(p, n, &out->basic_cancel);
    case AMQP_BASIC_CANCEL_OK: return amqp_basic_cancel_ok_decode(p, n, &out->basic_cancel_ok);
    case AMQP_BASIC_PUBLISH: return amqp_basic_publish_decode(p, n, &out->basic_publish);
    case AMQP_BASIC_RETURN: return amqp_basic_return_decode(p, n, &out->basic_return);
    case AMQP_BASIC_DELIVER: return amqp_basic_deliver_decode(p, n, &out->basic_deliver);
    case AMQP_BASIC_GET: return amqp_basic_get_decode(p, n, &out->basic_get);
    case AMQP_BASIC_GET_OK: return amqp_basic_get_ok_decode(p, n, &out->basic_get_ok);
    case AMQP_BASIC_GET_EMPTY: return amqp_basic_get_empty_decode(p, n, &out->basic_get_empty);
    case AMQP_BASIC_ACK: return amqp_basic_ack_decode(p, n, &out->basic_ack);
    case AMQP_BASIC_REJECT: return amqp_basic_reject_decode(p, n, &out->basic_reject);
    case AMQP_BASIC_RECOVER_ASYNC: return amqp_basic_recover_async_decode(p, n, &out->basic_recover_async);
    case AMQP_BASIC_RECOVER: return amqp_basic_recover_decode(p, n, &out->basic_recover);
    case AMQP_BASIC_RECOVER_OK: return amqp_basic_recover_ok_decode(p, n, &out->basic_recover_ok);
    case AMQP_BASIC_NACK: return amqp_basic_nack_decode(p, n, &out->basic_nack);
    case AMQP_TX_SELECT: return amqp_tx_select_decode(p, n, &out->tx_select);
    case AMQP_TX_SELECT_OK: return amqp_tx_select_ok_decode(p, n, &out->tx_select_ok);
    case AMQP_TX_COMMIT: return amqp_tx_commit_decode(p, n, &out->tx_commit);
    case AMQP_TX_COMMIT_OK: return amqp_tx_commit_ok_decode(p, n, &out->tx_commit_ok);
    case AMQP_TX_ROLLBACK: return amqp_tx_rollback_decode(p, n, &out->tx_rollback);
    case AMQP_TX_ROLLBACK_OK: return amqp_tx_rollback_ok_decode(p, n, &out->tx_rollback_ok);
    case AMQP_CONFIRM_SELECT: return amqp_confirm_select_decode(p, n, &out->confirm_select);
    case AMQP_CONFIRM_SELECT_OK: return amqp_confirm_select_ok_decode(p, n, &out->confirm_select_ok);
    default: return AMQP_EMETHOD;
    }
}

size_t amqp_method_size(uint32_t id, const void *args)
{
    switch (id) {
    case AMQP_CONNECTION_START: return amqp_connection_start_size(args);
    case AMQP_CONNECTION_START_OK: return amqp_connection_start_ok_size(args);
    case AMQP_CONNECTION_SECURE: return amqp_connection_secure_size(args);
    case AMQP_CONNECTION_SECURE_OK: return amqp_connection_secure_ok_size(args);
    case AMQP_CONNECTION_TUNE: return amqp_connection_tune_size(args);
    case AMQP_CONNECTION_TUNE_OK: return amqp_connection_tune_ok_size(args);
    case AMQP_CONNECTION_OPEN: return amqp_connection_open_size(args);
    case AMQP_CONNECTION_OPEN_OK: return amqp_connection_open_ok_size(args);
    case AMQP_CONNECTION_CLOSE: return amqp_connection_close_size(args);
    case AMQP_CONNECTION_CLOSE_OK: return amqp_connection_close_ok_size(args);
    case AMQP_CONNECTION_BLOCKED: return amqp_connection_blocked_size(args);
    case AMQP_CONNECTION_UNBLOCKED: return amqp_connection_unblocked_size(args);
    case AMQP_CONNECTION_UPDATE_SECRET: return amqp_connection_update_secret_size(args);
    case AMQP_CONNECTION_UPDATE_SECRET_OK: return amqp_connection_update_secret_ok_size(args);
    case AMQP_CHANNEL_OPEN: return amqp_channel_open_size(args);
    case AMQP_CHANNEL_OPEN_OK: return amqp_channel_open_ok_size(args);
    case AMQP_CHANNEL_FLOW: return amqp_channel_flow_size(args);
    case AMQP_CHANNEL_FLOW_OK: return amqp_channel_flow_ok_size(args);
    case AMQP_CHANNEL_CLOSE: return amqp_channel_close_size(args);
    case AMQP_CHANNEL_CLOSE_OK: return amqp_channel_close_ok_size(args);
    case AMQP_ACCESS_REQUEST: return amqp_access_request_size(args);
    case AMQP_ACCESS_REQUEST_OK: return amqp_access_request_ok_size(args);
    case AMQP_EXCHANGE_DECLARE: return amqp_exchange_declare_size(args);
    case AMQP_EXCHANGE_DECLARE_OK: return amqp_exchange_declare_ok_size(args);
    case AMQP_EXCHANGE_DELETE: return amqp_exchange_delete_size(args);
    case AMQP_EXCHANGE_DELETE_OK: return amqp_exchange_delete_ok_size(args);
    case AMQP_EXCHANGE_BIND: return amqp_exchange_bind_size(args);
    case AMQP_EXCHANGE_BIND_OK: return amqp_exchange_bind_ok_size(args);
    case AMQP_EXCHANGE_UNBIND: return amqp_exchange_unbind_size(args);
    case AMQP_EXCHANGE_UNBIND_OK: return amqp_exchange_unbind_ok_size(args);
    case AMQP_QUEUE_DECLARE: return amqp_queue_declare_size(args);
    case AMQP_QUEUE_DECLARE_OK: return amqp_queue_declare_ok_size(args);
    case AMQP_QUEUE_BIND: return amqp_queue_bind_size(args);
    case AMQP_QUEUE_BIND_OK: return amqp_queue_bind_ok_size(args);
    case AMQP_QUEUE_PURGE: return amqp_queue_purge_size(args);
    case AMQP_QUEUE_PURGE_OK: return amqp_queue_purge_ok_size(args);
    case AMQP_QUEUE_DELETE: return amqp_queue_delete_size(args);
    case AMQP_QUEUE_DELETE_OK: return amqp_queue_delete_ok_size(args);
    case AMQP_QUEUE_UNBIND: return amqp_queue_unbind_size(args);
    case AMQP_QUEUE_UNBIND_OK: return amqp_queue_unbind_ok_size(args);
    case AMQP_BASIC_QOS: return amqp_basic_qos_size(args);
    case AMQP_BASIC_QOS_OK: return amqp_basic_qos_ok_size(args);
    case AMQP_BASIC_CONSUME: return amqp_basic_consume_size(args);
    case AMQP_BASIC_CONSUME_OK: return amqp_basic_consume_ok_size(args);
    case AMQP_BASIC_CANCEL: return amqp_basic_cancel_size(args);
    case AMQP_BASIC_CANCEL_OK: return amqp_basic_cancel_ok_size(args);
    case AMQP_BASIC_PUBLISH: return amqp_basic_publish_size(args);
    case AMQP_BASIC_RETURN: return amqp_basic_return_size(args);
    case AMQP_BASIC_DELIVER: return amqp_basic_deliver_size(args);
    case AMQP_BASIC_GET: return amqp_basic_get_size(args);
    case AMQP_BASIC_GET_OK: return amqp_basic_get_ok_size(args);
    case AMQP_BASIC_GET_EMPTY: return amqp_basic_get_empty_size(args);
    case AMQP_BASIC_ACK: return amqp_basic_ack_size(args);
    case AMQP_BASIC_REJECT: return amqp_basic_reject_size(args);
    case AMQP_BASIC_RECOVER_ASYNC: return amqp_basic_recover_async_size(args);
    case AMQP_BASIC_RECOVER: return amqp_basic_recover_size(args);
    case AMQP_BASIC_RECOVER_OK: return amqp_basic_recover_ok_size(args);
    case AMQP_BASIC_NACK: return amqp_basic_nack_size(args);
    case AMQP_TX_SELECT: return amqp_tx_select_size(args);
    case AMQP_TX_SELECT_OK: return amqp_tx_select_ok_size(args);
    case AMQP_TX_COMMIT: return amqp_tx_commit_size(args);
    case AMQP_TX_COMMIT_OK: return amqp_tx_commit_ok_size(args);
    case AMQP_TX_ROLLBACK: return amqp_tx_rollback_size(args);
    case AMQP_TX_ROLLBACK_OK: return amqp_tx_rollback_ok_size(args);
    case AMQP_CONFIRM_SELECT: return amqp_confirm_select_size(args);
    case AMQP_CONFIRM_SELECT_OK: return amqp_confirm_select_ok_size(args);
    default: return 0;
    }
}

uint8_t *amqp_method_encode(uint32_t id, const void *args, uint8_t *p)
{
    switch (id) {
    case AMQP_CONNECTION_START: return amqp_connection_start_encode(p, args);
    case AMQP_CONNECTION_START_OK: return amqp_connection_start_ok_encode(p, args);
    case AMQP_CONNECTION_SECURE: return amqp_connection_secure_encode(p, args);
    case AMQP_CONNECTION_SECURE_OK: return amqp_connection_secure_ok_encode(p, args);
    case AMQP_CONNECTION_TUNE: return amqp_connection_tune_encode(p, args);
    case AMQP_CONNECTION_TUNE_OK: return amqp_connection_tune_ok_encode(p, args);
    case AMQP_CONNECTION_OPEN: return amqp_connection_open_encode(p, args);
    case AMQP_CONNECTION_OPEN_OK: return amqp_connection_open_ok_encode(p, args);
    case AMQP_CONNECTION_CLOSE: return amqp_connection_close_encode(p, args);
    case AMQP_CONNECTION_CLOSE_OK: return amqp_connection_close_ok_encode(p, args);
    case AMQP_CONNECTION_BLOCKED: return amqp_connection_blocked_encode(p, args);
    case AMQP_CONNECTION_UNBLOCKED: return amqp_connection_unblocked_encode(p, args);
    case AMQP_CONNECTION_UPDATE_SECRET: return amqp_connection_update_secret_encode(p, args);
    case AMQP_CONNECTION_UPDATE_SECRET_OK: return amqp_connection_update_secret_ok_encode(p, args);
    case AMQP_CHANNEL_OPEN: return amqp_channel_open_encode(p, args);
    case AMQP_CHANNEL_OPEN_OK: return amqp_channel_open_ok_encode(p, args);
    case AMQP_CHANNEL_FLOW: return amqp_channel_flow_encode(p, args);
    case AMQP_CHANNEL_FLOW_OK: return amqp_channel_flow_ok_encode(p, args);
    case AMQP_CHANNEL_CLOSE: return amqp_channel_close_encode(p, args);
    case AMQP_CHANNEL_CLOSE_OK: return amqp_channel_close_ok_encode(p, args);
    case AMQP_ACCESS_REQUEST: return amqp_access_request_encode(p, args);
    case AMQP_ACCESS_REQUEST_OK: return amqp_access_request_ok_encode(p, args);
    case AMQP_EXCHANGE_DECLARE: return amqp_exchange_declare_encode(p, args);
    case AMQP_EXCHANGE_DECLARE_OK: return amqp_exchange_declare_ok_encode(p, args);
    case AMQP_EXCHANGE_DELETE: return amqp_exchange_delete_encode(p, args);
    case AMQP_EXCHANGE_DELETE_OK: return amqp_exchange_delete_ok_encode(p, args);
    case AMQP_EXCHANGE_BIND: return amqp_exchange_bind_encode(p, args);
    case AMQP_EXCHANGE_BIND_OK: return amqp_exchange_bind_ok_encode(p, args);
    case AMQP_EXCHANGE_UNBIND: return amqp_exchange_unbind_encode(p, args);
    case AMQP_EXCHANGE_UNBIND_OK: return amqp_exchange_unbind_ok_encode(p, args);
    case AMQP_QUEUE_DECLARE: return amqp_queue_declare_encode(p, args);
    case AMQP_QUEUE_DECLARE_OK: return amqp_queue_declare_ok_encode(p, args);
    case AMQP_QUEUE_BIND: return amqp_queue_bind_encode(p, args);
    case AMQP_QUEUE_BIND_OK: return amqp_queue_bind_ok_encode(p, args);
    case AMQP_QUEUE_PURGE: return amqp_queue_purge_encode(p, args);
    case AMQP_QUEUE_PURGE_OK: return amqp_queue_purge_ok_encode(p, args);
    case AMQP_QUEUE_DELETE: return amqp_queue_delete_encode(p, args);
    case AMQP_QUEUE_DELETE_OK: return amqp_queue_delete_ok_encode(p, args);
    case AMQP_QUEUE_UNBIND: return amqp_queue_unbind_encode(p, args);
    case AMQP_QUEUE_UNBIND_OK: return amqp_queue_unbind_ok_encode(p, args);
    case AMQP_BASIC_QOS: return amqp_basic_qos_encode(p, args);
    case AMQP_BASIC_QOS_OK: return amqp_basic_qos_ok_encode(p, args);
    case AMQP_BASIC_CONSUME: return amqp_basic_consume_encode(p, args);
    case AMQP_BASIC_CONSUME_OK: return amqp_basic_consume_ok_encode(p, args);
    case AMQP_BASIC_CANCEL: return amqp_basic_cancel_encode(p, args);
    case AMQP_BASIC_CANCEL_OK: return amqp_basic_cancel_ok_encode(p, args);
    case AMQP_BASIC_PUBLISH: return amqp_basic_publish_encode(p, args);
    case AMQP_BASIC_RETURN: return amqp_basic_return_encode(p, args);
    case AMQP_BASIC_DELIVER: return amqp_basic_deliver_encode(p, args);
    case AMQP_BASIC_GET: return amqp_basic_get_encode(p, args);
    case AMQP_BASIC_GET_OK: return amqp_basic_get_ok_encode(p, args);
    case AMQP_BASIC_GET_EMPTY: return amqp_basic_get_empty_encode(p, args);
    case AMQP_BASIC_ACK: return amqp_basic_ack_encode(p, args);
    case AMQP_BASIC_REJECT: return amqp_basic_reject_encode(p, args);
    case AMQP_BASIC_RECOVER_ASYNC: return amqp_basic_recover_async_encode(p, args);
    case AMQP_BASIC_RECOVER: return amqp_basic_recover_encode(p, args);
    case AMQP_BASIC_RECOVER_OK: return amqp_basic_recover_ok_encode(p, args);
    case AMQP_BASIC_NACK: return amqp_basic_nack_encode(p, args);
    case AMQP_TX_SELECT: return amqp_tx_select_encode(p, args);
    case AMQP_TX_SELECT_OK: return amqp_tx_select_ok_encode(p, args);
    case AMQP_TX_COMMIT: return amqp_tx_commit_encode(p, args);
    case AMQP_TX_COMMIT_OK: return amqp_tx_commit_ok_encode(p, args);
    case AMQP_TX_ROLLBACK: return amqp_tx_rollback_encode(p, args);
    case AMQP_TX_ROLLBACK_OK: return amqp_tx_rollback_ok_encode(p, args);
    case AMQP_CONFIRM_SELECT: return amqp_confirm_select_encode(p, args);
    case AMQP_CONFIRM_SELECT_OK: return amqp_confirm_select_ok_encode(p, args);
    default: return p;
    }
}

const char *amqp_method_name(uint32_t id)
{
    switch (id) {
    case AMQP_CONNECTION_START: return "connection.start";
    case AMQP_CONNECTION_START_OK: return "connection.start-ok";
    case AMQP_CONNECTION_SECURE: return "connection.secure";
    case AMQP_CONNECTION_SECURE_OK: return "connection.secure-ok";
    case AMQP_CONNECTION_TUNE: return "connection.tune";
    case AMQP_CONNECTION_TUNE_OK: return "connection.tune-ok";
    case AMQP_CONNECTION_OPEN: return "connection.open";
    case AMQP_CONNECTION_OPEN_OK: return "connection.open-ok";
    case AMQP_CONNECTION_CLOSE: return "connection.close";
    case AMQP_CONNECTION_CLOSE_OK: return "connection.close-ok";
    case AMQP_CONNECTION_BLOCKED: return "connection.blocked";
    case AMQP_CONNECTION_UNBLOCKED: return "connection.unblocked";
    case AMQP_CONNECTION_UPDATE_SECRET: return "connection.update-secret";
    case AMQP_CONNECTION_UPDATE_SECRET_OK: return "connection.update-secret-ok";
    case AMQP_CHANNEL_OPEN: return "channel.open";
    case AMQP_CHANNEL_OPEN_OK: return "channel.open-ok";
    case AMQP_CHANNEL_FLOW: return "channel.flow";
    case AMQP_CHANNEL_FLOW_OK: return "channel.flow-ok";
    case AMQP_CHANNEL_CLOSE: return "channel.close";
    case AMQP_CHANNEL_CLOSE_OK: return "channel.close-ok";
    case AMQP_ACCESS_REQUEST: return "access.request";
    case AMQP_ACCESS_REQUEST_OK: return "access.request-ok";
    case AMQP_EXCHANGE_DECLARE: return "exchange.declare";
    case AMQP_EXCHANGE_DECLARE_OK: return "exchange.declare-ok";
    case AMQP_EXCHANGE_DELETE: return "exchange.delete";
    case AMQP_EXCHANGE_DELETE_OK: return "exchange.delete-ok";
    case AMQP_EXCHANGE_BIND: return "exchange.bind";
    case AMQP_EXCHANGE_BIND_OK: return "exchange.bind-ok";
    case AMQP_EXCHANGE_UNBIND: return "exchange.unbind";
    case AMQP_EXCHANGE_UNBIND_OK: return "exchange.unbind-ok";
    case AMQP_QUEUE_DECLARE: return "queue.declare";
    case AMQP_QUEUE_DECLARE_OK: return "queue.declare-ok";
    case AMQP_QUEUE_BIND: return "queue.bind";
    case AMQP_QUEUE_BIND_OK: return "queue.bind-ok";
    case AMQP_QUEUE_PURGE: return "queue.purge";
    case AMQP_QUEUE_PURGE_OK: return "queue.purge-ok";
    case AMQP_QUEUE_DELETE: return "queue.delete";
    case AMQP_QUEUE_DELETE_OK: return "queue.delete-ok";
    case AMQP_QUEUE_UNBIND: return "queue.unbind";
    case AMQP_QUEUE_UNBIND_OK: return "queue.unbind-ok";
    case AMQP_BASIC_QOS: return "basic.qos";
    case AMQP_BASIC_QOS_OK: return "basic.qos-ok";
    case AMQP_BASIC_CONSUME: return "basic.consume";
    case AMQP_BASIC_CONSUME_OK: return "basic.consume-ok";
    case AMQP_BASIC_CANCEL: return "basic.cancel";
    case AMQP_BASIC_CANCEL_OK: return "basic.cancel-ok";
    case AMQP_BASIC_PUBLISH: return "basic.publish";
    case AMQP_BASIC_RETURN: return "basic.return";
    case AMQP_BASIC_DELIVER: return "basic.deliver";
    case AMQP_BASIC_GET: return "basic.get";
    case AMQP_BASIC_GET_OK: return "basic.get-ok";
    case AMQP_BASIC_GET_EMPTY: return "basic.get-empty";
    case AMQP_BASIC_ACK: return "basic.ack";
    case AMQP_BASIC_REJECT: return "basic.reject";
    case AMQP_BASIC_RECOVER_ASYNC: return "basic.recover-async";
    case AMQP_BASIC_RECOVER: return "basic.recover";
    case AMQP_BASIC_RECOVER_OK: return "basic.recover-ok";
    case AMQP_BASIC_NACK: return "basic.nack";
    case AMQP_TX_SELECT: return "tx.select";
    case AMQP_TX_SELECT_OK: return "tx.select-ok";
    case AMQP_TX_COMMIT: return "tx.commit";
    case AMQP_TX_COMMIT_OK: return "tx.commit-ok";
    case AMQP_TX_ROLLBACK: return "tx.rollback";
    case AMQP_TX_ROLLBACK_OK: return "tx.rollback-ok";
    case AMQP_CONFIRM_SELECT: return "confirm.select";
    case AMQP_CONFIRM_SELECT_OK: return "confirm.select-ok";
    default: return NULL;
    }
}

static const amqp_field_info fields_connection_start[] = {
    {"version_major", "octet", offsetof(amqp_connection_start, version_major)},
    {"version_minor", "octet", offsetof(amqp_connection_start, version_minor)},
    {"server_properties", "table", offsetof(amqp_connection_start, server_properties)},
    {"mechanisms", "longstr", offsetof(amqp_connection_start, mechanisms)},
    {"locales", "longstr", offsetof(amqp_connection_start, locales)},
};
static const amqp_field_info fields_connection_start_ok[] = {
    {"client_properties", "table", offsetof(amqp_connection_start_ok, client_properties)},
    {"mechanism", "shortstr", offsetof(amqp_connection_start_ok, mechanism)},
    {"response", "longstr", offsetof(amqp_connection_start_ok, response)},
    {"locale", "shortstr", offsetof(amqp_connection_start_ok, locale)},
};
static const amqp_field_info fields_connection_secure[] = {
    {"challenge", "longstr", offsetof(amqp_connection_secure, challenge)},
};
static const amqp_field_info fields_connection_secure_ok[] = {
    {"response", "longstr", offsetof(amqp_connection_secure_ok, response)},
};
static const amqp_field_info fields_connection_tune[] = {
    {"channel_max", "short", offsetof(amqp_connection_tune, channel_max)},
    {"frame_max", "long", offsetof(amqp_connection_tune, frame_max)},
    {"heartbeat", "short", offsetof(amqp_connection_tune, heartbeat)},
};
static const amqp_field_info fields_connection_tune_ok[] = {
    {"channel_max", "short", offsetof(amqp_connection_tune_ok, channel_max)},
    {"frame_max", "long", offsetof(amqp_connection_tune_ok, frame_max)},
    {"heartbeat", "short", offsetof(amqp_connection_tune_ok, heartbeat)},
};
static const amqp_field_info fields_connection_open[] = {
    {"virtual_host", "shortstr", offsetof(amqp_connection_open, virtual_host)},
    {"capabilities", "shortstr", offsetof(amqp_connection_open, capabilities)},
    {"insist", "bit", offsetof(amqp_connection_open, insist)},
};
static const amqp_field_info fields_connection_open_ok[] = {
    {"known_hosts", "shortstr", offsetof(amqp_connection_open_ok, known_hosts)},
};
static const amqp_field_info fields_connection_close[] = {
    {"reply_code", "short", offsetof(amqp_connection_close, reply_code)},
    {"reply_text", "shortstr", offsetof(amqp_connection_close, reply_text)},
    {"class_id", "short", offsetof(amqp_connection_close, class_id)},
    {"method_id", "short", offsetof(amqp_connection_close, method_id)},
};
static const amqp_field_info fields_connection_blocked[] = {
    {"reason", "shortstr", offsetof(amqp_connection_blocked, reason)},
};
static const amqp_field_info fields_connection_update_secret[] = {
    {"new_secret", "longstr", offsetof(amqp_connection_update_secret, new_secret)},
    {"reason", "shortstr", offsetof(amqp_connection_update_secret, reason)},
};
static const amqp_field_info fields_channel_open[] = {
    {"out_of_band", "shortstr", offsetof(amqp_channel_open, out_of_band)},
};
static const amqp_field_info fields_channel_open_ok[] = {
    {"channel_id", "longstr", offsetof(amqp_channel_open_ok, channel_id)},
};
static const amqp_field_info fields_channel_flow[] = {
    {"active", "bit", offsetof(amqp_channel_flow, active)},
};
static const amqp_field_info fields_channel_flow_ok[] = {
    {"active", "bit", offsetof(amqp_channel_flow_ok, active)},
};
static const amqp_field_info fields_channel_close[] = {
    {"reply_code", "short", offsetof(amqp_channel_close, reply_code)},
    {"reply_text", "shortstr", offsetof(amqp_channel_close, reply_text)},
    {"class_id", "short", offsetof(amqp_channel_close, class_id)},
    {"method_id", "short", offsetof(amqp_channel_close, method_id)},
};
static const amqp_field_info fields_access_request[] = {
    {"realm", "shortstr", offsetof(amqp_access_request, realm)},
    {"exclusive", "bit", offsetof(amqp_access_request, exclusive)},
    {"passive", "bit", offsetof(amqp_access_request, passive)},
    {"active", "bit", offsetof(amqp_access_request, active)},
    {"write", "bit", offsetof(amqp_access_request, write)},
    {"read", "bit", offsetof(amqp_access_request, read)},
};
static const amqp_field_info fields_access_request_ok[] = {
    {"ticket", "short", offsetof(amqp_access_request_ok, ticket)},
};
static const amqp_field_info fields_exchange_declare[] = {
    {"ticket", "short", offsetof(amqp_exchange_declare, ticket)},
    {"exchange", "shortstr", offsetof(amqp_exchange_declare, exchange)},
    {"type", "shortstr", offsetof(amqp_exchange_declare, type)},
    {"passive", "bit", offsetof(amqp_exchange_declare, passive)},
    {"durable", "bit", offsetof(amqp_exchange_declare, durable)},
    {"auto_delete", "bit", offsetof(amqp_exchange_declare, auto_delete)},
    {"internal", "bit", offsetof(amqp_exchange_declare, internal)},
    {"nowait", "bit", offsetof(amqp_exchange_declare, nowait)},
    {"arguments", "table", offsetof(amqp_exchange_declare, arguments)},
};
static const amqp_field_info fields_exchange_delete[] = {
    {"ticket", "short", offsetof(amqp_exchange_delete, ticket)},
    {"exchange", "shortstr", offsetof(amqp_exchange_delete, exchange)},
    {"if_unused", "bit", offsetof(amqp_exchange_delete, if_unused)},
    {"nowait", "bit", offsetof(amqp_exchange_delete, nowait)},
};
static const amqp_field_info fields_exchange_bind[] = {
    {"ticket", "short", offsetof(amqp_exchange_bind, ticket)},
    {"destination", "shortstr", offsetof(amqp_exchange_bind, destination)},
    {"source", "shortstr", offsetof(amqp_exchange_bind, source)},
    {"routing_key", "shortstr", offsetof(amqp_exchange_bind, routing_key)},
    {"nowait", "bit", offsetof(amqp_exchange_bind, nowait)},
    {"arguments", "table", offsetof(amqp_exchange_bind, arguments)},
};
static const amqp_field_info fields_exchange_unbind[] = {
    {"ticket", "short", offsetof(amqp_exchange_unbind, ticket)},
    {"destination", "shortstr", offsetof(amqp_exchange_unbind, destination)},
    {"source", "shortstr", offsetof(amqp_exchange_unbind, source)},
    {"routing_key", "shortstr", offsetof(amqp_exchange_unbind, routing_key)},
    {"nowait", "bit", offsetof(amqp_exchange_unbind, nowait)},
    {"arguments", "table", offsetof(amqp_exchange_unbind, arguments)},
};
static const amqp_field_info fields_queue_declare[] = {
    {"ticket", "short", offsetof(amqp_queue_declare, ticket)},
    {"queue", "shortstr", offsetof(amqp_queue_declare, queue)},
    {"passive", "bit", offsetof(amqp_queue_declare, passive)},
    {"durable", "bit", offsetof(amqp_queue_declare, durable)},
    {"exclusive", "bit", offsetof(amqp_queue_declare, exclusive)},
    {"auto_delete", "bit", offsetof(amqp_queue_declare, auto_delete)},
    {"nowait", "bit", offsetof(amqp_queue_declare, nowait)},
    {"arguments", "table", offsetof(amqp_queue_declare, arguments)},
};
static const amqp_field_info fields_queue_declare_ok[] = {
    {"queue", "shortstr", offsetof(amqp_queue_declare_ok, queue)},
    {"message_count", "long", offsetof(amqp_queue_declare_ok, message_count)},
    {"consumer_count", "long", offsetof(amqp_queue_declare_ok, consumer_count)},
};
static const amqp_field_info fields_queue_bind[] = {
    {"ticket", "short", offsetof(amqp_queue_bind, ticket)},
    {"queue", "shortstr", offsetof(amqp_queue_bind, queue)},
    {"exchange", "shortstr", offsetof(amqp_queue_bind, exchange)},
    {"routing_key", "shortstr", offsetof(amqp_queue_bind, routing_key)},
    {"nowait", "bit", offsetof(amqp_queue_bind, nowait)},
    {"arguments", "table", offsetof(amqp_queue_bind, arguments)},
};
static const amqp_field_info fields_queue_purge[] = {
    {"ticket", "short", offsetof(amqp_queue_purge, ticket)},
    {"queue", "shortstr", offsetof(amqp_queue_purge, queue)},
    {"nowait", "bit", offsetof(amqp_queue_purge, nowait)},
};
static const amqp_field_info fields_queue_purge_ok[] = {
    {"message_count", "long", offsetof(amqp_queue_purge_ok, message_count)},
};
static const amqp_field_info fields_queue_delete[] = {
    {"ticket", "short", offsetof(amqp_queue_delete, ticket)},
    {"queue", "shortstr", offsetof(amqp_queue_delete, queue)},
    {"if_unused", "bit", offsetof(amqp_queue_delete, if_unused)},
    {"if_empty", "bit", offsetof(amqp_queue_delete, if_empty)},
    {"nowait", "bit", offsetof(amqp_queue_delete, nowait)},
};
static const amqp_field_info fields_queue_delete_ok[] = {
    {"message_count", "long", offsetof(amqp_queue_delete_ok, message_count)},
};
static const amqp_field_info fields_queue_unbind[] = {
    {"ticket", "short", offsetof(amqp_queue_unbind, ticket)},
    {"queue", "shortstr", offsetof(amqp_queue_unbind, queue)},
    {"exchange", "shortstr", offsetof(amqp_queue_unbind, exchange)},
    {"routing_key", "shortstr", offsetof(amqp_queue_unbind, routing_key)},
    {"arguments", "table", offsetof(amqp_queue_unbind, arguments)},
};
static const amqp_field_info fields_basic_qos[] = {
    {"prefetch_size", "long", offsetof(amqp_basic_qos, prefetch_size)},
    {"prefetch_count", "short", offsetof(amqp_basic_qos, prefetch_count)},
    {"global", "bit", offsetof(amqp_basic_qos, global)},
};
static const amqp_field_info fields_basic_consume[] = {
    {"ticket", "short", offsetof(amqp_basic_consume, ticket)},
    {"queue", "shortstr", offsetof(amqp_basic_consume, queue)},
    {"consumer_tag", "shortstr", offsetof(amqp_basic_consume, consumer_tag)},
    {"no_local", "bit", offsetof(amqp_basic_consume, no_local)},
    {"no_ack", "bit", offsetof(amqp_basic_consume, no_ack)},
    {"exclusive", "bit", offsetof(amqp_basic_consume, exclusive)},
    {"nowait", "bit", offsetof(amqp_basic_consume, nowait)},
    {"arguments", "table", offsetof(amqp_basic_consume, arguments)},
};
static const amqp_field_info fields_basic_consume_ok[] = {
    {"consumer_tag", "shortstr", offsetof(amqp_basic_consume_ok, consumer_tag)},
};
static const amqp_field_info fields_basic_cancel[] = {
    {"consumer_tag", "shortstr", offsetof(amqp_basic_cancel, consumer_tag)},
    {"nowait", "bit", offsetof(amqp_basic_cancel, nowait)},
};
static const amqp_field_info fields_basic_cancel_ok[] = {
    {"consumer_tag", "shortstr", offsetof(amqp_basic_cancel_ok, consumer_tag)},
};
static const amqp_field_info fields_basic_publish[] = {
    {"ticket", "short", offsetof(amqp_basic_publish, ticket)},
    {"exchange", "shortstr", offsetof(amqp_basic_publish, exchange)},
    {"routing_key", "shortstr", offsetof(amqp_basic_publish, routing_key)},
    {"mandatory", "bit", offsetof(amqp_basic_publish, mandatory)},
    {"immediate", "bit", offsetof(amqp_basic_publish, immediate)},
};
static const amqp_field_info fields_basic_return[] = {
    {"reply_code", "short", offsetof(amqp_basic_return, reply_code)},
    {"reply_text", "shortstr", offsetof(amqp_basic_return, reply_text)},
    {"exchange", "shortstr", offsetof(amqp_basic_return, exchange)},
    {"routing_key", "shortstr", offsetof(amqp_basic_return, routing_key)},
};
static const amqp_field_info fields_basic_deliver[] = {
    {"consumer_tag", "shortstr", offsetof(amqp_basic_deliver, consumer_tag)},
    {"delivery_tag", "longlong", offsetof(amqp_basic_deliver, delivery_tag)},
    {"redelivered", "bit", offsetof(amqp_basic_deliver, redelivered)},
    {"exchange", "shortstr", offsetof(amqp_basic_deliver, exchange)},
    {"routing_key", "shortstr", offsetof(amqp_basic_deliver, routing_key)},
};
static const amqp_field_info fields_basic_get[] = {
    {"ticket", "short", offsetof(amqp_basic_get, ticket)},
    {"queue", "shortstr", offsetof(amqp_basic_get, queue)},
    {"no_ack", "bit", offsetof(amqp_basic_get, no_ack)},
};
static const amqp_field_info fields_basic_get_ok[] = {
    {"delivery_tag", "longlong", offsetof(amqp_basic_get_ok, delivery_tag)},
    {"redelivered", "bit", offsetof(amqp_basic_get_ok, redelivered)},
    {"exchange", "shortstr", offsetof(amqp_basic_get_ok, exchange)},
    {"routing_key", "shortstr", offsetof(amqp_basic_get_ok, routing_key)},
    {"message_count", "long", offsetof(amqp_basic_get_ok, message_count)},
};
static const amqp_field_info fields_basic_get_empty[] = {
    {"cluster_id", "shortstr", offsetof(amqp_basic_get_empty, cluster_id)},
};
static const amqp_field_info fields_basic_ack[] = {
    {"delivery_tag", "longlong", offsetof(amqp_basic_ack, delivery_tag)},
    {"multiple", "bit", offsetof(amqp_basic_ack, multiple)},
};
static const amqp_field_info fields_basic_reject[] = {
    {"delivery_tag", "longlong", offsetof(amqp_basic_reject, delivery_tag)},
    {"requeue", "bit", offsetof(amqp_basic_reject, requeue)},
};
static const amqp_field_info fields_basic_recover_async[] = {
    {"requeue", "bit", offsetof(amqp_basic_recover_async, requeue)},
};
static const amqp_field_info fields_basic_recover[] = {
    {"requeue", "bit", offsetof(amqp_basic_recover, requeue)},
};
static const amqp_field_info fields_basic_nack[] = {
    {"delivery_tag", "longlong", offsetof(amqp_basic_nack, delivery_tag)},
    {"multiple", "bit", offsetof(amqp_basic_nack, multiple)},
    {"requeue", "bit", offsetof(amqp_basic_nack, requeue)},
};
static const amqp_field_info fields_confirm_select[] = {
    {"nowait", "bit", offsetof(amqp_confirm_select, nowait)},
};

const amqp_method_info amqp_methods[] = {
    {AMQP_CONNECTION_START, "connection.start", sizeof(amqp_connection_start), 5, fields_connection_start},
    {AMQP_CONNECTION_START_OK, "connection.start-ok", sizeof(amqp_connection_start_ok), 4, fields_connection_start_ok},
    {AMQP_CONNECTION_SECURE, "connection.secure", sizeof(amqp_connection_secure), 1, fields_connection_secure},
    {AMQP_CONNECTION_SECURE_OK, "connection.secure-ok", sizeof(amqp_connection_secure_ok), 1, fields_connection_secure_ok},
    {AMQP_CONNECTION_TUNE, "connection.tune", sizeof(amqp_connection_tune), 3, fields_connection_tune},
    {AMQP_CONNECTION_TUNE_OK, "connection.tune-ok", sizeof(amqp_connection_tune_ok), 3, fields_connection_tune_ok},
    {AMQP_CONNECTION_OPEN, "connection.open", sizeof(amqp_connection_open), 3, fields_connection_open},
    {AMQP_CONNECTION_OPEN_OK, "connection.open-ok", sizeof(amqp_connection_open_ok), 1, fields_connection_open_ok},
    {AMQP_CONNECTION_CLOSE, "connection.close", sizeof(amqp_connection_close), 4, fields_connection_close},
    {AMQP_CONNECTION_CLOSE_OK, "connection.close-ok", sizeof(amqp_connection_close_ok), 0, NULL},
    {AMQP_CONNECTION_BLOCKED, "connection.blocked", sizeof(amqp_connection_blocked), 1, fields_connection_blocked},
    {AMQP_CONNECTION_UNBLOCKED, "connection.unblocked", sizeof(amqp_connection_unblocked), 0, NULL},
    {AMQP_CONNECTION_UPDATE_SECRET, "connection.update-secret", sizeof(amqp_connection_update_secret), 2, fields_connection_update_secret},
    {AMQP_CONNECTION_UPDATE_SECRET_OK, "connection.update-secret-ok", sizeof(amqp_connection_update_secret_ok), 0, NULL},
    {AMQP_CHANNEL_OPEN, "channel.open", sizeof(amqp_channel_open), 1, fields_channel_open},
    {AMQP_CHANNEL_OPEN_OK, "channel.open-ok", sizeof(amqp_channel_open_ok), 1, fields_channel_open_ok},
    {AMQP_CHANNEL_FLOW, "channel.flow", sizeof(amqp_channel_flow), 1, fields_channel_flow},
    {AMQP_CHANNEL_FLOW_OK, "channel.flow-ok", sizeof(amqp_channel_flow_ok), 1, fields_channel_flow_ok},
    {AMQP_CHANNEL_CLOSE, "channel.close", sizeof(amqp_channel_close), 4, fields_channel_close},
    {AMQP_CHANNEL_CLOSE_OK, "channel.close-ok", sizeof(amqp_channel_close_ok), 0, NULL},
    {AMQP_ACCESS_REQUEST, "access.request", sizeof(amqp_access_request), 6, fields_access_request},
    {AMQP_ACCESS_REQUEST_OK, "access.request-ok", sizeof(amqp_access_request_ok), 1, fields_access_request_ok},
    {AMQP_EXCHANGE_DECLARE, "exchange.declare", sizeof(amqp_exchange_declare), 9, fields_exchange_declare},
    {AMQP_EXCHANGE_DECLARE_OK, "exchange.declare-ok", sizeof(amqp_exchange_declare_ok), 0, NULL},
    {AMQP_EXCHANGE_DELETE, "exchange.delete", sizeof(amqp_exchange_delete), 4, fields_exchange_delete},
    {AMQP_EXCHANGE_DELETE_OK, "exchange.delete-ok", sizeof(amqp_exchange_delete_ok), 0, NULL},
    {AMQP_EXCHANGE_BIND, "exchange.bind", sizeof(amqp_exchange_bind), 6, fields_exchange_bind},
    {AMQP_EXCHANGE_BIND_OK, "exchange.bind-ok", sizeof(amqp_exchange_bind_ok), 0, NULL},
    {AMQP_EXCHANGE_UNBIND, "exchange.unbind", sizeof(amqp_exchange_unbind), 6, fields_exchange_unbind},
    {AMQP_EXCHANGE_UNBIND_OK, "exchange.unbind-ok", sizeof(amqp_exchange_unbind_ok), 0, NULL},
    {AMQP_QUEUE_DECLARE, "queue.declare", sizeof(amqp_queue_declare), 8, fields_queue_declare},
    {AMQP_QUEUE_DECLARE_OK, "queue.declare-ok", sizeof(amqp_queue_declare_ok), 3, fields_queue_declare_ok},
    {AMQP_QUEUE_BIND, "queue.bind", sizeof(amqp_queue_bind), 6, fields_queue_bind},
    {AMQP_QUEUE_BIND_OK, "queue.bind-ok", sizeof(amqp_queue_bind_ok), 0, NULL},
    {AMQP_QUEUE_PURGE, "queue.purge", sizeof(amqp_queue_purge), 3, fields_queue_purge},
    {AMQP_QUEUE_PURGE_OK, "queue.purge-ok", sizeof(amqp_queue_purge_ok), 1, fields_queue_purge_ok},
    {AMQP_QUEUE_DELETE, "queue.delete", sizeof(amqp_queue_delete), 5, fields_queue_delete},
    {AMQP_QUEUE_DELETE_OK, "queue.delete-ok", sizeof(amqp_queue_delete_ok), 1, fields_queue_delete_ok},
    {AMQP_QUEUE_UNBIND, "queue.unbind", sizeof(amqp_queue_unbind), 5, fields_queue_unbind},
    {AMQP_QUEUE_UNBIND_OK, "queue.unbind-ok", sizeof(amqp_queue_unbind_ok), 0, NULL},
    {AMQP_BASIC_QOS, "basic.qos", sizeof(amqp_basic_qos), 3, fields_basic_qos},
    {AMQP_BASIC_QOS_OK, "basic.qos-ok", sizeof(amqp_basic_qos_ok), 0, NULL},
    {AMQP_BASIC_CONSUME, "basic.consume", sizeof(amqp_basic_consume), 8, fields_basic_consume},
    {AMQP_BASIC_CONSUME_OK, "basic.consume-ok", sizeof(amqp_basic_consume_ok), 1, fields_basic_consume_ok},
    {AMQP_BASIC_CANCEL, "basic.cancel", sizeof(amqp_basic_cancel), 2, fields_basic_cancel},
    {AMQP_BASIC_CANCEL_OK, "basic.cancel-ok", sizeof(amqp_basic_cancel_ok), 1, fields_basic_cancel_ok},
    {AMQP_BASIC_PUBLISH, "basic.publish", sizeof(amqp_basic_publish), 5, fields_basic_publish},
    {AMQP_BASIC_RETURN, "basic.return", sizeof(amqp_basic_return), 4, fields_basic_return},
    {AMQP_BASIC_DELIVER, "basic.deliver", sizeof(amqp_basic_deliver), 5, fields_basic_deliver},
    {AMQP_BASIC_GET, "basic.get", sizeof(amqp_basic_get), 3, fields_basic_get},
    {AMQP_BASIC_GET_OK, "basic.get-ok", sizeof(amqp_basic_get_ok), 5, fields_basic_get_ok},
    {AMQP_BASIC_GET_EMPTY, "basic.get-empty", sizeof(amqp_basic_get_empty), 1, fields_basic_get_empty},
    {AMQP_BASIC_ACK, "basic.ack", sizeof(amqp_basic_ack), 2, fields_basic_ack},
    {AMQP_BASIC_REJECT, "basic.reject", sizeof(amqp_basic_reject), 2, fields_basic_reject},
    {AMQP_BASIC_RECOVER_ASYNC, "basic.recover-async", sizeof(amqp_basic_recover_async), 1, fields_basic_recover_async},
    {AMQP_BASIC_RECOVER, "basic.recover", sizeof(amqp_basic_recover), 1, fields_basic_recover},
    {AMQP_BASIC_RECOVER_OK, "basic.recover-ok", sizeof(amqp_basic_recover_ok), 0, NULL},
    {AMQP_BASIC_NACK, "basic.nack", sizeof(amqp_basic_nack), 3, fields_basic_nack},
    {AMQP_TX_SELECT, "tx.select", sizeof(amqp_tx_select), 0, NULL},
    {AMQP_TX_SELECT_OK, "tx.select-ok", sizeof(amqp_tx_select_ok), 0, NULL},
    {AMQP_TX_COMMIT, "tx.commit", sizeof(amqp_tx_commit), 0, NULL},
    {AMQP_TX_COMMIT_OK, "tx.commit-ok", sizeof(amqp_tx_commit_ok), 0, NULL},
    {AMQP_TX_ROLLBACK, "tx.rollback", sizeof(amqp_tx_rollback), 0, NULL},
    {AMQP_TX_ROLLBACK_OK, "tx.rollback-ok", sizeof(amqp_tx_rollback_ok), 0, NULL},
    {AMQP_CONFIRM_SELECT, "confirm.select", sizeof(amqp_confirm_select), 1, fields_confirm_select},
    {AMQP_CONFIRM_SELECT_OK, "confirm.select-ok", sizeof(amqp_confirm_select_ok), 0, NULL},
};
const size_t amqp_method_count = 66;

const amqp_field_info amqp_basic_property_fields[] = {
    {"content_type", "shortstr", offsetof(amqp_basic_properties, content_type)},
    {"content_encoding", "shortstr", offsetof(amqp_basic_properties, content_encoding)},
    {"headers", "table", offsetof(amqp_basic_properties, headers)},
    {"delivery_mode", "octet", offsetof(amqp_basic_properties, delivery_mode)},
    {"priority", "octet", offsetof(amqp_basic_properties, priority)},
    {"correlation_id", "shortstr", offsetof(amqp_basic_properties, correlation_id)},
    {"reply_to", "shortstr", offsetof(amqp_basic_properties, reply_to)},
    {"expiration", "shortstr", offsetof(amqp_basic_properties, expiration)},
    {"message_id", "shortstr", offsetof(amqp_basic_properties, message_id)},
    {"timestamp", "timestamp", offsetof(amqp_basic_properties, timestamp)},
    {"type", "shortstr", offsetof(amqp_basic_properties, type)},
    {"user_id", "shortstr", offsetof(amqp_basic_properties, user_id)},
    {"app_id", "shortstr", offsetof(amqp_basic_properties, app_id)},
    {"cluster_id", "shortstr", offsetof(amqp_basic_properties, cluster_id)},
};
const size_t amqp_basic_property_count = 14;

bool amqp_method_known(uint32_t id)
{
    return amqp_method_name(id) != NULL;
}

bool amqp_method_has_content(uint32_t id)
{
    switch (id) {
    case AMQP_BASIC_PUBLISH:
    case AMQP_BASIC_RETURN:
    case AMQP_BASIC_DELIVER:
    case AMQP_BASIC_GET_OK:
        return true;
    default:
        return false;
    }
}

bool amqp_method_synchronous(uint32_t id)
{
    switch (id) {
    case AMQP_CONNECTION_START:
    case AMQP_CONNECTION_SECURE:
    case AMQP_CONNECTION_TUNE:
    case AMQP_CONNECTION_OPEN:
    case AMQP_CONNECTION_CLOSE:
    case AMQP_CONNECTION_UPDATE_SECRET:
    case AMQP_CHANNEL_OPEN:
    case AMQP_CHANNEL_FLOW:
    case AMQP_CHANNEL_CLOSE:
    case AMQP_ACCESS_REQUEST:
    case AMQP_EXCHANGE_DECLARE:
    case AMQP_EXCHANGE_DELETE:
    case AMQP_EXCHANGE_BIND:
    case AMQP_EXCHANGE_UNBIND:
    case AMQP_QUEUE_DECLARE:
    case AMQP_QUEUE_BIND:
    case AMQP_QUEUE_PURGE:
    case AMQP_QUEUE_DELETE:
    case AMQP_QUEUE_UNBIND:
    case AMQP_BASIC_QOS:
    case AMQP_BASIC_CONSUME:
    case AMQP_BASIC_CANCEL:
    case AMQP_BASIC_GET:
    case AMQP_BASIC_RECOVER:
    case AMQP_TX_SELECT:
    case AMQP_TX_COMMIT:
    case AMQP_TX_ROLLBACK:
    case AMQP_CONFIRM_SELECT:
        return true;
    default:
        return false;
    }
}

int amqp_basic_properties_decode(const uint8_t *p, size_t n, amqp_basic_properties *m)
{
    const uint8_t *end = p + n;
    uint16_t more;
    int rc;
    memset(m, 0, sizeof *m);
    if (end - p < 2) return AMQP_ETRUNC;
    m->flags = amqp_get16(p); p += 2;
    if (m->flags & 0x0003 & ~1u) return AMQP_EPROPFLAGS;
    /* further flag words are legal but may name no property */
    for (more = m->flags & 1; more; ) {
        if (end - p < 2) return AMQP_ETRUNC;
        if (amqp_get16(p) & ~1u) return AMQP_EPROPFLAGS;
        more = amqp_get16(p) & 1; p += 2;
    }
    m->flags &= (uint16_t)~1u;
    if (m->flags & AMQP_BASIC_CONTENT_TYPE_FLAG) {
        if (end - p < 1 || (size_t)(end - p - 1) < p[0]) return AMQP_ETRUNC;
        m->content_type.len = p[0]; m->content_type.ptr = (const char *)p + 1; p += 1 + p[0];
    }
    if (m->flags & AMQP_BASIC_CONTENT_ENCODING_FLAG) {
        if (end - p < 1 || (size_t)(end - p - 1) < p[0]) return AMQP_ETRUNC;
        m->content_encoding.len = p[0]; m->content_encoding.ptr = (const char *)p + 1; p += 1 + p[0];
    }
    if (m->flags & AMQP_BASIC_HEADERS_FLAG) {
        if (end - p < 4 || (size_t)(end - p - 4) < amqp_get32(p)) return AMQP_ETRUNC;
        m->headers.len = amqp_get32(p); m->headers.ptr = p + 4; p += 4;
        if ((rc = amqp_table_validate(p, m->headers.len, 0)) < 0) return rc;
        p += m->headers.len;
    }
    if (m->flags & AMQP_BASIC_DELIVERY_MODE_FLAG) {
        if (end - p < 1) return AMQP_ETRUNC;
        m->delivery_mode = *p++;
    }
    if (m->flags & AMQP_BASIC_PRIORITY_FLAG) {
        if (end - p < 1) return AMQP_ETRUNC;
        m->priority = *p++;
    }
    if (m->flags & AMQP_BASIC_CORRELATION_ID_FLAG) {
        if (end - p < 1 || (size_t)(end - p - 1) < p[0]) return AMQP_ETRUNC;
        m->correlation_id.len = p[0]; m->correlation_id.ptr = (const char *)p + 1; p += 1 + p[0];
    }
    if (m->flags & AMQP_BASIC_REPLY_TO_FLAG) {
        if (end - p < 1 || (size_t)(end - p - 1) < p[0]) return AMQP_ETRUNC;
        m->reply_to.len = p[0]; m->reply_to.ptr = (const char *)p + 1; p += 1 + p[0];
    }
    if (m->flags & AMQP_BASIC_EXPIRATION_FLAG) {
        if (end - p < 1 || (size_t)(end - p - 1) < p[0]) return AMQP_ETRUNC;
        m->expiration.len = p[0]; m->expiration.ptr = (const char *)p + 1; p += 1 + p[0];
    }
    if (m->flags & AMQP_BASIC_MESSAGE_ID_FLAG) {
        if (end - p < 1 || (size_t)(end - p - 1) < p[0]) return AMQP_ETRUNC;
        m->message_id.len = p[0]; m->message_id.ptr = (const char *)p + 1; p += 1 + p[0];
    }
    if (m->flags & AMQP_BASIC_TIMESTAMP_FLAG) {
        if (end - p < 8) return AMQP_ETRUNC;
        m->timestamp = amqp_get64(p); p += 8;
    }
    if (m->flags & AMQP_BASIC_TYPE_FLAG) {
        if (end - p < 1 || (size_t)(end - p - 1) < p[0]) return AMQP_ETRUNC;
        m->type.len = p[0]; m->type.ptr = (const char *)p + 1; p += 1 + p[0];
    }
    if (m->flags & AMQP_BASIC_USER_ID_FLAG) {
        if (end - p < 1 || (size_t)(end - p - 1) < p[0]) return AMQP_ETRUNC;
        m->user_id.len = p[0]; m->user_id.ptr = (const char *)p + 1; p += 1 + p[0];
    }
    if (m->flags & AMQP_BASIC_APP_ID_FLAG) {
        if (end - p < 1 || (size_t)(end - p - 1) < p[0]) return AMQP_ETRUNC;
        m->app_id.len = p[0]; m->app_id.ptr = (const char *)p + 1; p += 1 + p[0];
    }
    if (m->flags & AMQP_BASIC_CLUSTER_ID_FLAG) {
        if (end - p < 1 || (size_t)(end - p - 1) < p[0]) return AMQP_ETRUNC;
        m->cluster_id.len = p[0]; m->cluster_id.ptr = (const char *)p + 1; p += 1 + p[0];
    }
    return p == end ? AMQP_OK : AMQP_ETRAILING;
}

size_t amqp_basic_properties_size(const amqp_basic_properties *m)
{
    size_t n = 2;
    if (m->flags & AMQP_BASIC_CONTENT_TYPE_FLAG) n += 1 + m->content_type.len;
    if (m->flags & AMQP_BASIC_CONTENT_ENCODING_FLAG) n += 1 + m->content_encoding.len;
    if (m->flags & AMQP_BASIC_HEADERS_FLAG) n += 4 + (size_t)m->headers.len;
    if (m->flags & AMQP_BASIC_DELIVERY_MODE_FLAG) n += 1;
    if (m->flags & AMQP_BASIC_PRIORITY_FLAG) n += 1;
    if (m->flags & AMQP_BASIC_CORRELATION_ID_FLAG) n += 1 + m->correlation_id.len;
    if (m->flags & AMQP_BASIC_REPLY_TO_FLAG) n += 1 + m->reply_to.len;
    if (m->flags & AMQP_BASIC_EXPIRATION_FLAG) n += 1 + m->expiration.len;
    if (m->flags & AMQP_BASIC_MESSAGE_ID_FLAG) n += 1 + m->message_id.len;
    if (m->flags & AMQP_BASIC_TIMESTAMP_FLAG) n += 8;
    if (m->flags & AMQP_BASIC_TYPE_FLAG) n += 1 + m->type.len;
    if (m->flags & AMQP_BASIC_USER_ID_FLAG) n += 1 + m->user_id.len;
    if (m->flags & AMQP_BASIC_APP_ID_FLAG) n += 1 + m->app_id.len;
    if (m->flags & AMQP_BASIC_CLUSTER_ID_FLAG) n += 1 + m->cluster_id.len;
    return n;
}

uint8_t *amqp_basic_properties_encode(uint8_t *p, const amqp_basic_properties *m)
{
    p = amqp_put16(p, m->flags & (uint16_t)~1u);
    if (m->flags & AMQP_BASIC_CONTENT_TYPE_FLAG)
        p = amqp_put_shortstr(p, m->content_type);
    if (m->flags & AMQP_BASIC_CONTENT_ENCODING_FLAG)
        p = amqp_put_shortstr(p, m->content_encoding);
    if (m->flags & AMQP_BASIC_HEADERS_FLAG)
        p = amqp_put_table(p, m->headers);
    if (m->flags & AMQP_BASIC_DELIVERY_MODE_FLAG)
        p = amqp_put8(p, m->delivery_mode);
    if (m->flags & AMQP_BASIC_PRIORITY_FLAG)
        p = amqp_put8(p, m->priority);
    if (m->flags & AMQP_BASIC_CORRELATION_ID_FLAG)
        p = amqp_put_shortstr(p, m->correlation_id);
    if (m->flags & AMQP_BASIC_REPLY_TO_FLAG)
        p = amqp_put_shortstr(p, m->reply_to);
    if (m->flags & AMQP_BASIC_EXPIRATION_FLAG)
        p = amqp_put_shortstr(p, m->expiration);
    if (m->flags & AMQP_BASIC_MESSAGE_ID_FLAG)
        p = amqp_put_shortstr(p, m->message_id);
    if (m->flags & AMQP_BASIC_TIMESTAMP_FLAG)
        p = amqp_put64(p, m->timestamp);
    if (m->flags & AMQP_BASIC_TYPE_FLAG)
        p = amqp_put_shortstr(p, m->type);
    if (m->flags & AMQP_BASIC_USER_ID_FLAG)
        p = amqp_put_shortstr(p, m->user_id);
    if (m->flags & AMQP_BASIC_APP_ID_FLAG)
        p = amqp_put_shortstr(p, m->app_id);
    if (m->flags & AMQP_BASIC_CLUSTER_ID_FLAG)
        p = amqp_put_shortstr(p, m->cluster_id);
    return p;
}
