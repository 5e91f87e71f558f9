/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libbpf glue for collect/: routes libbpf's own log output into gs_log().
 */
#ifndef GS_COLLECT_COL_LIBBPF_H
#define GS_COLLECT_COL_LIBBPF_H

/*
 * Make libbpf log through gs_log(): libbpf WARN/INFO/DEBUG become
 * GS_LOG_WARN/INFO/DEBUG, trailing newline removed.  Idempotent; call it
 * before the first libbpf call (every col_* constructor does).
 */
void col_libbpf__init(void);

#endif
