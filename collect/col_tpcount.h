/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * col_tpcount: count getppid() calls of one process with a BPF tracepoint
 * program (bpf/tpcount.bpf.c).  Proves the BPF build chain and serves as a
 * "can we load and attach BPF here?" probe for `gscope record`.
 */
#ifndef GS_COLLECT_COL_TPCOUNT_H
#define GS_COLLECT_COL_TPCOUNT_H

struct col_tpcount;

/*
 * Open, load and attach the tpcount program, counting only calls from
 * process tgid (as seen from the initial pid namespace; 0 counts every
 * process).  On success stores a new object in *out and returns 0; on
 * failure logs the reason via gs_errf(), leaves *out untouched and returns
 * a negative errno.  Needs root (or CAP_BPF + CAP_PERFMON); uses the
 * syscall tracepoint when tracefs is mounted, else raw_tp/sys_enter.
 */
int col_tpcount__open(unsigned int tgid, struct col_tpcount **out);

/* Store the number of counted calls so far in *hits.  Returns 0. */
int col_tpcount__read(const struct col_tpcount *t, unsigned long long *hits);

/* Detach and free everything; NULL-safe. */
void col_tpcount__free(struct col_tpcount *t);

#endif
