/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Errors and logging shared by every gscope module.
 *
 * Fallible functions return 0 or a negative error: a negative errno, or a
 * negative gscope code from enum gs_errno (numbered above errno, like
 * libbpf's LIBBPF_ERRNO__*).  gs_strerror() knows both.
 *
 * Library code never writes to stdout/stderr: it reports through gs_log(),
 * whose sink the program installs with gs_log__set_fn().  The default sink
 * drops everything.  gs_errf() logs at GS_LOG_ERR and returns its code, so a
 * failure is reported where it is detected:
 *
 *	return gs_errf(-GS_E_FORMAT, "%s: bad magic at offset 0", path);
 */
#ifndef GS_BASE_ERR_H
#define GS_BASE_ERR_H

#include <stdarg.h>

enum gs_errno {
	GS_E_START = 4000,
	GS_E_FORMAT = GS_E_START, /* input is not what it claims to be */
	GS_E_VERSION,             /* unsupported format version */
	GS_E_TRUNCATED,           /* input ends early */
	GS_E_CORRUPT,             /* checksum mismatch */
	GS_E_LIMIT,               /* a size read from input is over its limit */
	GS_E_COMPRESS,            /* (de)compression failed */
	GS_E_USAGE,               /* bad arguments from the caller */
	GS_E_END
};

enum gs_log_level {
	GS_LOG_ERR,
	GS_LOG_WARN,
	GS_LOG_INFO,
	GS_LOG_DEBUG,
};

typedef void (*gs_log_fn)(enum gs_log_level level, const char *msg);

/* Install the log sink; NULL drops messages.  Returns the previous sink. */
gs_log_fn gs_log__set_fn(gs_log_fn fn);

void gs_log(enum gs_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void gs_vlog(enum gs_log_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* Log fmt at GS_LOG_ERR and return err (a negative code). */
int gs_errf(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Message for a negative errno or gscope code; never NULL. */
const char *gs_strerror(int err);

/* True for the codes that mean "the input is bad" rather than "we failed". */
int gs_err_is_input(int err);

#endif
