/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Go execution traces (runtime/trace, `go test -trace`, /debug/pprof/trace):
 * the normalised event model both decoders produce.
 *
 * rt_gotrace_v1__decode() reads the v1 format (headers "go 1.9" ..
 * "go 1.21"), rt_gotrace_v2__decode() the generational v2 format ("go 1.22",
 * "go 1.23", "go 1.25", "go 1.26").  Both resolve the implicit state of
 * the wire format (current G and P, sequence numbers, generations), order
 * the events as Go's own parser does, and call the sink for every event in
 * that order.  Decoders never print; errors are logged through gs_log with
 * the input name and byte offset, and returned as -GS_E_FORMAT (malformed
 * input), -GS_E_VERSION (unknown version), -GS_E_LIMIT (a size over its
 * bound) or -ENOMEM.
 *
 * Memory: a decoder keeps per-goroutine, per-P and per-M state, the stack
 * and string tables (v1: the whole trace's, v2: one generation's), and one
 * batch per P or M; it does not accumulate events.
 *
 * Event fields by kind (Gscope__V1__GoEventKind; g is the goroutine the
 * event is about, from/to are Gscope__V1__GoState, 0 when not a transition):
 *
 *   CREATE          g = new goroutine, to RUNNABLE (v2 GoCreateBlocked: WAITING,
 *                   GoCreateSyscall: SYSCALL), from DEAD; stack = creator's;
 *                   arg = creator goroutine; arg2 = stack id of the new
 *                   goroutine's start function (one frame)
 *   START           g, RUNNABLE -> RUNNING; str = label (v1 GoStartLabel) or NULL
 *   STOP            g, RUNNING -> RUNNABLE; str = "preempted" | "runtime.Gosched"
 *                   (v1 GoPreempt | GoSched); stack
 *   BLOCK           g, RUNNING -> WAITING; str = reason, v2 spelling: "chan send",
 *                   "chan receive", "select", "sync", "sync.(*Cond).Wait",
 *                   "network", "sleep", "forever" (v1 GoStop), "unspecified"
 *                   (v1 GoBlock), "GC mark assist wait for work" (v1 GoBlockGC),
 *                   ...; stack
 *   UNBLOCK         g = unblocked goroutine, WAITING -> RUNNABLE; stack = the
 *                   unblocker's (0 for netpoller/timer wakeups); arg = unblocker
 *                   goroutine (0 = none)
 *   SYSCALL_BEGIN   g; v2: RUNNING -> SYSCALL; v1 GoSysCall: RUNNING -> RUNNING
 *                   (v1 only knows the entry; see SYSCALL_BLOCK); stack
 *   SYSCALL_BLOCK   v1 GoSysBlock: g, RUNNING -> SYSCALL (the P is released)
 *   SYSCALL_END     g, SYSCALL -> RUNNING (v2 GoSyscallEnd) or SYSCALL ->
 *                   RUNNABLE (v2 GoSyscallEndBlocked, v1 GoSysExit, whose ts
 *                   is the real exit time when the trace has it)
 *   DESTROY         g, RUNNING -> DEAD (v2 GoDestroySyscall: SYSCALL -> DEAD)
 *   STATUS          g, 0 -> state at trace or generation start (v1 GoWaiting:
 *                   WAITING, GoInSyscall: SYSCALL; v2 GoStatus); arg = m
 *   PROC_START/STOP p (arg = p_seq in v2); PROC_STEAL p, arg = victim M;
 *   PROC_STATUS     p, arg = v2 status
 *   PROCS           arg = GOMAXPROCS; stack
 *   GC_BEGIN/END    arg = GC sequence number (v1: GCStart seq); GC_ACTIVE
 *   STW_BEGIN/END   str = kind ("GC mark termination", "GC sweep termination",
 *                   v2 strings; v1 kinds mapped to the same strings)
 *   SWEEP_BEGIN/END g (current); END: arg = swept, arg2 = reclaimed; SWEEP_ACTIVE
 *   MARK_ASSIST_*   g
 *   HEAP_ALLOC      arg = bytes; HEAP_GOAL arg = bytes
 *   TASK_BEGIN      arg = task, arg2 = parent task, str = name; TASK_END arg = task
 *   REGION_BEGIN/END arg = task, str = name
 *   LOG             arg = task, str = key, str2 = value
 *   LABEL           g, str = label
 *
 * Strings (str, str2, frame func and file) are not NUL-terminated: use the
 * lengths.  Their bytes stay the same until the next generation callback
 * or the end of the decode (they point into the input, static storage or
 * the decoder's own tables): a sink may cache them by pointer and length
 * within a generation.  START carries no stack; the new goroutine's start stack is in
 * CREATE's arg2.  STW_END repeats the kind of the STW it closes.  A stack
 * id referenced but never defined is announced once with 0 frames.
 *
 * Timestamps are nanoseconds.  v1: ns since the first event, converted from
 * ticks exactly as Go's parser does (int64(float64(ticks - min) * (1e9 /
 * float64(freq)))), so intervals match `go tool trace` to the nanosecond.
 * v2: ticks * (1e9 / freq) as Go's reader computes it (absolute trace clock).
 */
#ifndef RT_GOTRACE_H
#define RT_GOTRACE_H

#include <stddef.h>
#include <stdint.h>

#include "format/gscope.pb-c.h"

struct rt_goconv;
struct tf_go_event;

struct rt_go_event {
	uint64_t ts;
	int64_t tick;       /* v1: ts in ticks since the first (clock, below); v2: 0 */
	uint32_t kind;      /* Gscope__V1__GoEventKind */
	uint8_t from, to;   /* Gscope__V1__GoState */
	int32_t p;          /* -1: none */
	uint64_t g;
	uint64_t m;         /* v1: M id given by the P's ProcStart; v2: thread id */
	uint64_t stack;     /* decoder stack id, 0 = none */
	uint64_t arg, arg2;
	const char *str;    /* stable for the generation (above); NULL = none */
	size_t str_len;
	const char *str2;
	size_t str2_len;
};

struct rt_go_frame {
	uint64_t pc;
	const char *func, *file; /* borrowed; may be "" */
	size_t func_len, file_len;
	uint64_t line;
};

/*
 * Callbacks; each returns 0 or a negative error that aborts decoding and
 * is returned by the decoder.  Any callback may be NULL.
 */
struct rt_go_sink {
	void *ctx;
	/*
	 * Stack id (>= 1) with frames leaf first; called once per id per
	 * generation, before the first event or sample that refers to it.
	 */
	int (*stack)(void *ctx, uint64_t id, const struct rt_go_frame *frames,
		     size_t n);
	/* v2: generation gen begins; earlier stack ids are void.  v1: once, gen 1. */
	int (*generation)(void *ctx, uint64_t gen);
	int (*event)(void *ctx, const struct rt_go_event *e);
	/* A CPU profile sample (g 0 = none, p -1 = none), in time order with events. */
	int (*cpu_sample)(void *ctx, uint64_t ts, uint64_t g, int32_t p,
			  uint64_t m, uint64_t stack);
	/*
	 * Optional, both or neither: the decoders (v1 and v2) then convert
	 * their events with conv (rt_goconv.h) and hand them to go_events,
	 * up to RT_GOCONV_BLOCK at a time, instead of calling event.  The
	 * events converted so far are handed over before each generation or
	 * cpu_sample call and at the end.  (Stack callbacks may come between:
	 * an event is converted after its stack was announced.)
	 */
	struct rt_goconv *conv;
	int (*go_events)(void *ctx, const struct tf_go_event *ev, size_t n);
	/*
	 * Optional.  v1 calls it once, before its first event: every event
	 * then carries tick, the ticks since the trace's first, and ts ==
	 * tf_tick_ns(tick, tick_ns) (format/tf_format.h), so that a .gst can
	 * keep the ticks, which take fewer bytes.  v2 does not (its times are
	 * made strictly increasing after the conversion).
	 */
	int (*clock)(void *ctx, double tick_ns);
};

#define RT_GOTRACE_MAX_TYPES 64

struct rt_gotrace_stats {
	int version;            /* 1000 * major + minor: 1019, 1022, ... */
	uint64_t freq;          /* ticks per second */
	uint64_t events;        /* events delivered to the sink */
	uint64_t cpu_samples;
	uint64_t raw[RT_GOTRACE_MAX_TYPES]; /* wire events by type id, as read */
	uint64_t generations;   /* v2 */
	uint64_t bytes;         /* input bytes consumed */
};

/*
 * Parse the 16-byte header "go 1.N trace\0..." into *version (1000 + N).
 * 0, or -GS_E_FORMAT when it is not a Go trace header.
 */
int rt_gotrace__version(const uint8_t *data, size_t len, int *version);

/* Decode a whole trace held in memory (name is used in messages). */
int rt_gotrace_v1__decode(const uint8_t *data, size_t len, const char *name,
			  const struct rt_go_sink *sink, struct rt_gotrace_stats *st);
int rt_gotrace_v2__decode(const uint8_t *data, size_t len, const char *name,
			  const struct rt_go_sink *sink, struct rt_gotrace_stats *st);

/* Either decoder, chosen by the header. */
int rt_gotrace__decode(const uint8_t *data, size_t len, const char *name,
		       const struct rt_go_sink *sink, struct rt_gotrace_stats *st);

#endif
