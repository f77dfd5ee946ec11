/*
 * utf8.c - the UTF-8 check RabbitMQ applies to shortstr arguments.
 *
 * RabbitMQ 3.10 closes a connection with 501 FRAME_ERROR "Malformed UTF-8
 * in shortstr" when a shortstr argument of a method without content
 * (queue and exchange names, routing keys of bindings, consumer tags, the
 * virtual host, reply texts...) is not UTF-8; basic.publish, whose
 * arguments it decodes on a fast path, and content properties are not
 * checked.  What it accepts, tried byte by byte on a 3.10 node, is UTF-8's
 * structure rather than Unicode's code points:
 *
 *   00-7F                      one byte (NUL and control characters too)
 *   C2-DF 80-BF                two bytes
 *   E0 A0-BF 80-BF             three bytes, not overlong
 *   E1-EF 80-BF 80-BF          three bytes (surrogates ED A0-BF .. accepted)
 *   F0 90-BF 80-BF 80-BF       four bytes, not overlong
 *   F1-F7 80-BF 80-BF 80-BF    four bytes (up to U+1FFFFF accepted)
 *
 * Refused: a continuation byte without a lead (80-BF), the overlong leads
 * C0 C1 and overlong E0/F0 forms, F8-FF (five and six byte forms), and a
 * sequence cut short by the end of the string or by a byte that is not a
 * continuation.
 */
#include "wire.h"

bool amqp_utf8_ok(const char *s, size_t n)
{
    const uint8_t *p = (const uint8_t *)s, *end = p + n;

    while (p < end) {
        uint8_t c = *p++, lowest = 0x80; /* of the first continuation byte */
        size_t more;

        if (c < 0x80)
            continue;
        if (c < 0xC2)
            return false;
        if (c < 0xE0) {
            more = 1;
        } else if (c < 0xF0) {
            more = 2;
            if (c == 0xE0)
                lowest = 0xA0;
        } else if (c < 0xF8) {
            more = 3;
            if (c == 0xF0)
                lowest = 0x90;
        } else {
            return false;
        }
        if ((size_t)(end - p) < more || p[0] < lowest || p[0] > 0xBF)
            return false;
        for (size_t i = 1; i < more; i++)
            if ((p[i] & 0xC0) != 0x80)
                return false;
        p += more;
    }
    return true;
}
