/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Go scheduling analysis over the Go events of a .gst trace: one streaming
 * pass, memory proportional to live goroutines, distinct stacks, goroutine
 * groups and GC cycles.
 *
 * sched:       runnable -> running latency of every goroutine (HDR and log2
 *              histograms, by cause), and the `go tool trace -pprof=sched`
 *              view: the delay from a create or an unblock that has a stack
 *              to the goroutine's next start, summed per unblocking stack.
 *              Also the run-queue lengths of GODEBUG=schedtrace samples.
 * goroutines:  per start function: count, execution, scheduler wait, syscall,
 *              blocked time by reason, overlap with GC cycles.
 * states:      goroutine state-transition matrix: counts and the time spent
 *              in the state being left.
 * gc:          GC cycles, STW pauses, mark assists, heap before/after/goal;
 *              and the cycles reported by GODEBUG=gctrace.
 */
#ifndef AN_GO_H
#define AN_GO_H

#include <stdbool.h>
#include <stdint.h>

#include "analyze/an_hist.h"
#include "base/gs_mem.h"

enum an_go_section {
	AN_GO_SCHED = 1 << 0,
	AN_GO_GOROUTINES = 1 << 1,
	AN_GO_STATES = 1 << 2,
	AN_GO_GC = 1 << 3,
	AN_GO_ALL = 0xf,
};

/* What made a goroutine runnable. */
enum an_go_cause {
	AN_CAUSE_CREATE,
	AN_CAUSE_UNBLOCK,
	AN_CAUSE_PREEMPT,
	AN_CAUSE_YIELD,     /* runtime.Gosched */
	AN_CAUSE_SYSCALL,   /* returned from a syscall without its P */
	AN_CAUSE_OTHER,     /* runnable at trace start, or unknown */
	AN_CAUSE_MAX,
};

#define AN_GO_NSTATES 6     /* Gscope__V1__GoState values 0..5 */
#define AN_GO_MAX_REASONS 32

struct an_go_stack {        /* one unblocking/creating stack */
	uint64_t count;
	uint64_t delay_ns;
	uint32_t nframes;
	uint64_t *pcs;          /* leaf first */
	const char **funcs;     /* leaf first; "?" when unknown */
};

struct an_go_group {        /* goroutines with one start function */
	const char *name;
	uint64_t count;
	uint64_t exec_ns, sched_ns, syscall_ns, gc_ns;
	uint64_t block_ns[AN_GO_MAX_REASONS]; /* by an_go.reasons index */
};

struct an_go_cycle {
	uint64_t seq;
	uint64_t start_ts, end_ts;  /* end 0: not seen */
	uint64_t heap_before, heap_after, heap_goal;
	uint64_t stw_ns, assist_ns;
};

struct an_go_stw_kind {
	const char *kind;
	struct an_hist hist;
};

struct an_go_gctrace {      /* a GcCycle packet (GODEBUG=gctrace=1) */
	uint64_t seq, wall_ts_ns;
	uint64_t stw_sweep_term_ns, mark_ns, stw_mark_term_ns;
	uint64_t heap_live_start, heap_live_end, heap_marked, heap_goal;
	uint32_t gomaxprocs, cpu_percent;
	bool forced;
};

struct an_go {
	unsigned int sections;
	uint64_t events, goroutines, first_ts, last_ts;

	/* sched */
	struct an_hist *sched;                  /* every runnable -> running */
	struct an_hist *sched_cause[AN_CAUSE_MAX];
	uint64_t pprof_count, pprof_delay_ns;   /* the -pprof=sched view */
	struct an_go_stack *stacks;             /* sorted by delay, then count */
	size_t nstacks;
	uint64_t rq_samples;                    /* GODEBUG schedtrace */
	uint32_t rq_gomaxprocs;
	uint64_t rq_global_sum, rq_global_max;
	uint64_t *rq_p_sum, *rq_p_max;          /* per P */
	size_t rq_nprocs;

	/* goroutines */
	struct an_go_group *groups;             /* sorted by exec time */
	size_t ngroups;
	const char *reasons[AN_GO_MAX_REASONS]; /* block reasons; [0] = "other" */
	size_t nreasons;

	/* states */
	uint64_t trans_count[AN_GO_NSTATES][AN_GO_NSTATES];
	uint64_t trans_ns[AN_GO_NSTATES][AN_GO_NSTATES];
	uint64_t state_ns[AN_GO_NSTATES];

	/* gc */
	struct an_go_cycle *cycles;
	size_t ncycles;
	struct an_hist *stw;
	struct an_go_stw_kind *stw_kinds;
	size_t nstw_kinds;
	uint64_t assist_count, assist_ns;
	struct an_go_gctrace *gctrace;
	size_t ngctrace;

	struct gs_arena arena;
};

/* Analyse the Go events of path.  0 or a negative error (logged). */
int an_go__compute(const char *path, unsigned int sections, struct an_go **out);
void an_go__free(struct an_go *a);

const char *an_go_cause_name(enum an_go_cause c);
const char *an_go_state_name(unsigned int state);

#endif
