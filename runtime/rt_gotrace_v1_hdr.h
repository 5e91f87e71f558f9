/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Private to runtime/rt_gotrace*.c: the Go trace header parser shared by
 * rt_gotrace__version(), the dispatcher and the v1 decoder, which each log
 * its failure with their own context (the public rt_gotrace__version()
 * knows no input name).
 */
#ifndef RT_GOTRACE_V1_HDR_H
#define RT_GOTRACE_V1_HDR_H

#include <stddef.h>
#include <stdint.h>

/* Length of the header: "go 1.N trace" padded with NULs. */
#define RT_GOTRACE_HDR_LEN 16

/*
 * Parse "go M.N trace\0..." (M one digit 1-9, N one to three digits, the
 * first 1-9, NUL padding to 16 bytes) into *version = 1000 * M + N.
 * Returns 0, or -GS_E_FORMAT with *why set to a static explanation; does
 * not log.
 */
int rt_gotrace__parse_header(const uint8_t *data, size_t len, int *version,
			     const char **why);

#endif
