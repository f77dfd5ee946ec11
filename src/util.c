/*
 * util.c - small helpers with no home of their own.
 */
#include "util.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/types.h>

void random_name(char *out, size_t n)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    uint8_t bytes[64];
    size_t i;

    if (n > sizeof bytes)
        n = sizeof bytes;
    if (getrandom(bytes, n, 0) != (ssize_t)n) {
        for (i = 0; i < n; i++)
            bytes[i] = (uint8_t)rand();
    }
    for (i = 0; i < n; i++)
        out[i] = alphabet[bytes[i] & 63];
}

static bool repeats(char c)
{
    return c == '*' || c == '+' || c == '?' || c == '{';
}

const char *regex_untamed(const char *pat, size_t len)
{
    bool after_repeat = false;  /* the last token was a repetition operator */
    unsigned nrepeats = 0;
    size_t i;

    if (len > REGEX_MAX)
        return "longer than 512 bytes";
    for (i = 0; i < len; i++) {
        char c = pat[i];
        if (c == '\\' && i + 1 < len) {
            char n = pat[++i];
            if (isdigit((unsigned char)n))
                return "a back-reference";
            if (n == '`' || n == '\'')
                return "a buffer anchor (\\` or \\')";
            after_repeat = false;
        } else if (c == '[') {
            /* a bracket expression: its characters are literals ("[]a]"
             * and "[^]a]" start with a literal "]") */
            size_t j = i + 1;
            if (j < len && pat[j] == '^')
                j++;
            if (j < len && pat[j] == ']')
                j++;
            while (j < len && pat[j] != ']')
                j++;
            i = j;
            after_repeat = false;
        } else if (repeats(c)) {
            if (after_repeat)
                return "nothing to repeat (a repetition operator after another)";
            if (++nrepeats > REGEX_MAX_REPEATS)
                return "more than 16 repetition operators";
            if (c == '{') {
                unsigned long bound = 0;
                while (++i < len && pat[i] != '}') {
                    if (isdigit((unsigned char)pat[i]) && (bound = bound * 10 + (unsigned)(pat[i] - '0')) > 100)
                        return "a repetition count over 100";
                    if (pat[i] == ',')
                        bound = 0;
                }
            }
            after_repeat = true;
        } else {
            after_repeat = false;
        }
    }
    return NULL;
}

size_t sockaddr_key(const struct sockaddr *sa, uint8_t key[16])
{
    if (sa->sa_family == AF_INET) {
        memcpy(key, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
        return 4;
    }
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a)) {
            memcpy(key, a->s6_addr + 12, 4);
            return 4;
        }
        memcpy(key, a->s6_addr, 16);
        return 16;
    }
    return 0;
}
