/* SPDX-License-Identifier: BSD-2-Clause */
/* Strict number parsing for command-line values: whole string, in range. */
#ifndef GS_BASE_PARSE_H
#define GS_BASE_PARSE_H

#include <stdint.h>

/* Parse a decimal (or 0x hex) unsigned integer in [min, max]. 0 or -EINVAL/-ERANGE. */
int gs_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/*
 * Parse a duration such as "500ms", "2s", "1.5m", "100us", "30" (seconds)
 * into nanoseconds.  0 or -EINVAL/-ERANGE.
 */
int gs_parse_duration_ns(const char *s, uint64_t *out);

/* Parse a size such as "512K", "1M", "4096" (bytes) in [min, max]. */
int gs_parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out);

#endif
