/*
 * crc32c.c - see crc32c.h.  The hardware path is chosen once, at first use.
 */
#include "store/crc32c.h"

#include <stdbool.h>
#include <string.h>

static uint32_t table[256];
static int mode; /* 0 unknown, 1 software, 2 hardware */

static void init(void)
{
    uint32_t i, j, c;
    for (i = 0; i < 256; i++) {
        c = i;
        for (j = 0; j < 8; j++)
            c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        table[i] = c;
    }
#if defined(__x86_64__)
    __builtin_cpu_init();
    mode = __builtin_cpu_supports("sse4.2") ? 2 : 1;
#else
    mode = 1;
#endif
}

static uint32_t sw(uint32_t crc, const uint8_t *p, size_t n)
{
    while (n--)
        crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t hw(uint32_t crc, const uint8_t *p, size_t n)
{
    uint64_t c = crc;
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        c = __builtin_ia32_crc32di(c, v);
        p += 8;
        n -= 8;
    }
    crc = (uint32_t)c;
    while (n--)
        crc = __builtin_ia32_crc32qi(crc, *p++);
    return crc;
}
#endif

uint32_t crc32c(uint32_t crc, const void *data, size_t n)
{
    if (!mode)
        init();
    crc = ~crc;
#if defined(__x86_64__)
    if (mode == 2)
        return ~hw(crc, data, n);
#endif
    return ~sw(crc, data, n);
}
