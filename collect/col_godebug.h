/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * col_godebug: run a Go program with GODEBUG=schedtrace=N,gctrace=1 and
 * turn the runtime's stderr output into trace packets.
 *
 * The child's stderr goes through a pipe; GODEBUG lines recognised by
 * runtime/rt_godebug.h become SchedTraceSample and GcCycle packets, every
 * other line (including malformed GODEBUG lines) is written unchanged, in
 * order, to passthrough_fd as soon as it is complete, or earlier once its
 * start shows it cannot be GODEBUG output.  The child's stdin and stdout
 * are inherited untouched.
 */
#ifndef GS_COLLECT_COL_GODEBUG_H
#define GS_COLLECT_COL_GODEBUG_H

#include <stdint.h>

struct tf_writer;

struct col_godebug_stats {
	uint64_t lines_passed;   /* lines written to passthrough_fd (or dropped) */
	uint64_t sched_samples;  /* SchedTraceSample packets */
	uint64_t gc_cycles;      /* GcCycle packets */
	uint64_t detail_lines;   /* scheddetail P/M/G and "GC forced" lines */
	uint64_t malformed;      /* GODEBUG-like lines that did not parse (also passed) */
	uint64_t bytes;          /* stderr bytes read */
};

struct col_godebug_opts {
	char *const *argv;         /* NULL-terminated; argv[0] is looked up in PATH */
	char *const *envp;         /* child environment; NULL = environ */
	unsigned int schedtrace_ms; /* 0 = 1000 */
	int passthrough_fd;        /* other stderr lines go here; < 0 drops them */
	struct col_godebug_stats *stats; /* filled in if not NULL */
};

/*
 * Merge gscope's settings into a GODEBUG value: returns a malloc()ed
 * (gs_free) string "<user>,schedtrace=<ms>,gctrace=1" where a setting the
 * user already has (a key of user, which may be NULL or "") is kept and
 * ours is left out.  NULL when out of memory.
 */
char *col_godebug__merge_env(const char *user, unsigned int schedtrace_ms);

/*
 * Run o->argv to completion with the GODEBUG of o->envp (or environ)
 * merged as above, writing packets (pid = child pid, ts = CLOCK_MONOTONIC
 * when the line was read) to w, which may be NULL (then lines are only
 * parsed and counted).
 *
 * Packets: one SchedTraceSample per SCHED line (with scheddetail=1 the
 * per-P run queues come from the P lines that follow and are stored only
 * when all gomaxprocs of them were seen); one GcCycle per gctrace line
 * (end_ts = read time, an upper bound of the cycle's end; the other fields
 * from the line, exact).
 *
 * Signals: SIGINT and SIGTERM sent to this process (kill(2), timeout(1))
 * are forwarded to the child; ones the terminal generated are not,
 * because the child, in the same foreground process group, already got
 * them.  The calling thread blocks SIGINT, SIGTERM and SIGPIPE while the
 * child runs (reading them from a signalfd) and restores its mask before
 * returning; a multi-threaded caller should block them in other threads.
 *
 * *exit_status gets the child's exit code, or 128 + signal number if a
 * signal killed it (as a shell reports it).  Returns 0 once the child has
 * been waited for, even if it failed, or else:
 *   -GS_E_USAGE   no argv[0];
 *   -errno        the child could not be started (*exit_status = 127 for
 *                 ENOENT and when it never ran, 126 otherwise, as a
 *                 shell), or the pipe/poll/wait machinery failed (the
 *                 child is then killed and reaped; -ECHILD, with
 *                 *exit_status = 127, if someone else reaped it, e.g.
 *                 SIGCHLD is ignored);
 *   writer error  the first tf_writer__add_packet failure: it stops packet
 *                 output but not the child or the pass-through, and is
 *                 returned after the child has finished (*exit_status set).
 */
int col_godebug__run(const struct col_godebug_opts *o, struct tf_writer *w,
		     int *exit_status);

#endif
