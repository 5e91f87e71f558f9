/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * CRC32C (Castagnoli), as used by iSCSI, ext4 and the .gst container.
 * Uses the SSE4.2 crc32 instruction when the CPU has it, a table otherwise.
 * gs_crc32c(0, "123456789", 9) == 0xe3069283.
 */
#ifndef GS_BASE_CRC32C_H
#define GS_BASE_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Continue crc over buf; start with crc = 0. */
uint32_t gs_crc32c(uint32_t crc, const void *buf, size_t len);

/* The portable implementation, exported for tests. */
uint32_t gs_crc32c_sw(uint32_t crc, const void *buf, size_t len);

#endif
