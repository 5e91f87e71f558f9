/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Record a live Go service's execution trace over HTTP: GET
 * URL/debug/pprof/trace?seconds=N (net/http/pprof) and import the body.
 */
#ifndef COL_GOTRACE_H
#define COL_GOTRACE_H

#include <stdint.h>

#include "base/gs_mem.h"
#include "format/tf_writer.h"
#include "runtime/rt_gotrace.h"

#define COL_GOTRACE_MAX_BODY (2ull << 30) /* 2 GiB */

/*
 * The trace endpoint for url: url itself when it already names
 * /debug/pprof/trace, else url + "/debug/pprof/trace"; with seconds=N
 * added.  Returns a malloc()ed string or NULL.
 */
char *col_gotrace__url(const char *url, uint64_t duration_ns);

/*
 * Fetch the trace into body (bounded by COL_GOTRACE_MAX_BODY).  Connection
 * failures, HTTP errors and a body that is not a Go trace each get a clear
 * message.  0 or a negative error (-ECONNREFUSED, -EHOSTUNREACH, -ETIMEDOUT,
 * -EPROTO for HTTP errors, -GS_E_FORMAT for a body that is not a trace).
 */
int col_gotrace__fetch(const char *url, uint64_t duration_ns, struct gs_buf *body);

#endif
