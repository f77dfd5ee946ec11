/*
 * util.c - small helpers with no home of their own.
 */
#include "util.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/random.h>
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
