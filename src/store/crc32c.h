/*
 * crc32c.h - CRC-32C (Castagnoli), the checksum of every store record.
 * Uses the SSE4.2 crc32 instruction when the CPU has it, a table otherwise.
 */
#ifndef WARREN_CRC32C_H
#define WARREN_CRC32C_H

#include <stddef.h>
#include <stdint.h>

uint32_t crc32c(uint32_t crc, const void *data, size_t n);

#endif
