// SPDX-License-Identifier: BSD-2-Clause
#include <stdio.h>
#include <errno.h>
#include <string.h>

#include "base/gs_err.h"

static gs_log_fn log_fn;

gs_log_fn gs_log__set_fn(gs_log_fn fn)
{
	gs_log_fn old = log_fn;

	log_fn = fn;
	return old;
}

void gs_vlog(enum gs_log_level level, const char *fmt, va_list ap)
{
	char msg[1024];

	if (!log_fn)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	log_fn(level, msg);
}

void gs_log(enum gs_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	gs_vlog(level, fmt, ap);
	va_end(ap);
}

int gs_errf(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	gs_vlog(GS_LOG_ERR, fmt, ap);
	va_end(ap);
	return err;
}

static const char *const gs_msgs[GS_E_END - GS_E_START] = {
	[GS_E_FORMAT - GS_E_START] = "bad input format",
	[GS_E_VERSION - GS_E_START] = "unsupported format version",
	[GS_E_TRUNCATED - GS_E_START] = "input is truncated",
	[GS_E_CORRUPT - GS_E_START] = "checksum mismatch",
	[GS_E_LIMIT - GS_E_START] = "size over limit",
	[GS_E_COMPRESS - GS_E_START] = "decompression failed",
	[GS_E_USAGE - GS_E_START] = "invalid argument",
};

const char *gs_strerror(int err)
{
	if (err < 0)
		err = -err;
	if (err >= GS_E_START && err < GS_E_END)
		return gs_msgs[err - GS_E_START];
	return strerror(err);
}

int gs_err_is_input(int err)
{
	if (err < 0)
		err = -err;
	return (err >= GS_E_START && err < GS_E_END) || err == ENOENT ||
	       err == EISDIR || err == EACCES;
}
