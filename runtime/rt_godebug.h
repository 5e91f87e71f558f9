/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * GODEBUG text output of the Go runtime (Go 1.19 .. 1.23), one stderr line
 * at a time:
 *
 *   schedtrace=N   SCHED <ms>ms: gomaxprocs=2 idleprocs=2 threads=5
 *                  spinningthreads=0 [needspinning=0 ]idlethreads=3
 *                  runqueue=0 [0 0]
 *   scheddetail=1  the same header without the bracket list but with
 *                  gcwaiting= nmidlelocked= stopwait= sysmonwait=, then
 *                  "  P<i>: ...", "  M<id>: ...", "  G<goid>: ..." lines
 *   gctrace=1      gc 5 @0.068s 1%: 0.062+0.55+0.002 ms clock,
 *                  0.12+0.095/0.088/0+0.004 ms cpu, 27->29->17 MB,
 *                  31 MB goal, 0 MB stacks, 0 MB globals, 2 P (forced)
 *                  and "GC forced" (from the forcegc goroutine)
 *
 * (see shared notes go-trace-format.md section 5).  Version differences
 * accepted: needspinning= (1.21+) is optional; missing ids print as -1
 * (1.19) or nil (1.21+); gcwaiting/sysmonwait print as 0/1 (1.19) or
 * true/false (1.21+); "MB stacks, MB globals" (1.18+) are optional; the
 * per-P list may be written "[0 0]" or "[ 0 0 ]"; unknown key=value fields
 * of SCHED and P lines are skipped.
 *
 * Durations and sizes are converted exactly from their decimal text: the
 * gctrace "0.062" ms is 62000 ns, "@0.068s" is 68000000 ns, "27 MB" is
 * 27 << 20 bytes.  No floating point is involved.
 *
 * The parser is stateless and allocation-free; it never logs (malformed
 * lines are normal input: interleaved writes, truncated output).
 */
#ifndef RT_GODEBUG_H
#define RT_GODEBUG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest per-P run queue list accepted on a SCHED line. */
#define RT_GODEBUG_MAX_P 4096

enum rt_godebug_kind {
	RT_GODEBUG_NONE = 0,
	RT_GODEBUG_SCHED,     /* SCHED header (schedtrace or scheddetail) */
	RT_GODEBUG_GC,        /* gctrace line */
	RT_GODEBUG_SCHED_P,   /* scheddetail "  P<i>:" */
	RT_GODEBUG_SCHED_M,   /* scheddetail "  M<id>:" */
	RT_GODEBUG_SCHED_G,   /* scheddetail "  G<goid>:" */
	RT_GODEBUG_GC_FORCED, /* "GC forced" (gctrace > 0, 2 min without GC) */
};

struct rt_godebug_sched {
	uint64_t uptime_ms;       /* SCHED <ms>ms: since the first schedtrace */
	uint32_t gomaxprocs;
	uint32_t idleprocs;
	uint32_t threads;
	uint32_t spinningthreads;
	int32_t needspinning;     /* -1 when absent (Go < 1.21) */
	uint32_t idlethreads;
	uint32_t runqueue;        /* global run queue */
	bool detail;              /* scheddetail header; the fields below are set */
	bool gcwaiting;
	int32_t nmidlelocked;     /* can be negative */
	int32_t stopwait;
	bool sysmonwait;
	uint32_t nprocs;          /* entries in p_runq; 0 for a detail header */
	uint32_t p_runq[RT_GODEBUG_MAX_P]; /* local run queue length per P */
};

struct rt_godebug_gc {
	uint32_t seq;             /* gc N */
	uint64_t wall_ts_ns;      /* @S.SSSs: since program start */
	uint32_t cpu_percent;     /* P%: GC share of CPU since start */
	uint64_t clock_sweep_term_ns; /* wall clock: sweep termination STW */
	uint64_t clock_mark_ns;       /* concurrent mark */
	uint64_t clock_mark_term_ns;  /* mark termination STW */
	uint64_t cpu_sweep_term_ns;   /* CPU: sweep termination */
	uint64_t cpu_assist_ns;       /* mark assists */
	uint64_t cpu_background_ns;   /* dedicated + fractional mark workers */
	uint64_t cpu_idle_ns;         /* idle mark workers */
	uint64_t cpu_mark_term_ns;    /* mark termination */
	uint64_t heap_live_start;     /* bytes (MB << 20): live heap at start */
	uint64_t heap_live_end;       /* at end of mark */
	uint64_t heap_marked;         /* marked live */
	uint64_t heap_goal;
	bool has_stacks_globals;      /* "MB stacks, MB globals" present */
	uint64_t stacks_bytes;
	uint64_t globals_bytes;
	uint32_t gomaxprocs;          /* N P */
	bool forced;                  /* "(forced)": runtime.GC / debug.FreeOSMemory */
};

struct rt_godebug_p {
	uint32_t id;              /* P index */
	uint32_t status;          /* 0 idle, 1 running, 2 syscall, 3 gcstop, 4 dead */
	uint64_t schedtick;
	uint64_t syscalltick;
	int64_t m;                /* -1: none */
	uint32_t runqsize;
	int64_t gfreecnt;
	int64_t timerslen;
};

struct rt_godebug_m {
	int64_t id;
	int64_t p;                /* -1: none */
	int64_t curg;             /* -1: none */
	int64_t mallocing;
	int64_t throwing;
	const char *preemptoff;   /* borrowed from the line; not NUL-terminated */
	size_t preemptoff_len;
	int64_t locks;
	int64_t dying;
	bool spinning;
	bool blocked;
	int64_t lockedg;          /* -1: none */
};

struct rt_godebug_g {
	uint64_t goid;
	uint32_t status;          /* may carry the _Gscan bit 0x1000 */
	const char *waitreason;   /* borrowed from the line; may be empty */
	size_t waitreason_len;
	int64_t m;                /* -1: none */
	int64_t lockedm;          /* -1: none */
};

struct rt_godebug_rec {
	enum rt_godebug_kind kind;
	union {
		struct rt_godebug_sched sched;
		struct rt_godebug_gc gc;
		struct rt_godebug_p p;
		struct rt_godebug_m m;
		struct rt_godebug_g g;
	};
};

/*
 * Parse one line of len bytes (need not be NUL-terminated; one trailing
 * "\n" or "\r\n" is ignored).  Returns
 *    1   a GODEBUG line: *out is filled, out->kind says which;
 *    0   not a GODEBUG line (the caller passes it on); *out->kind = NONE;
 *   -GS_E_FORMAT  the line starts like one ("SCHED <n>ms:", "gc <n> @",
 *        "  P<n>: ", "  M<n>: ", "  G<n>: ") but the rest does not parse,
 *        or lists more than RT_GODEBUG_MAX_P Ps; *out is unspecified.
 * Strings in *out point into line.
 */
int rt_godebug__parse_line(const char *line, size_t len,
			   struct rt_godebug_rec *out);

/*
 * True if a line starting with these len bytes (a line not yet complete)
 * could still be a GODEBUG line (true for len 0); false means it will be
 * passed through whatever follows, so it can be forwarded before its
 * newline arrives.
 */
bool rt_godebug__may_be_prefix(const char *s, size_t len);

#endif
