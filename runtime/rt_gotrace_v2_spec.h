/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Private to rt_gotrace_v2.c: the wire event types of the generational Go
 * execution trace format (headers "go 1.22" .. "go 1.26") and, per type,
 * how many uvarint arguments follow the type byte and which of them are
 * stack or string table ids.  Written from the format description in
 * Go's internal/trace/tracev2 (ids are stable across 1.22 .. 1.26).
 */
#ifndef RT_GOTRACE_V2_SPEC_H
#define RT_GOTRACE_V2_SPEC_H

#include <stdint.h>

enum rt_v2_ev {
	V2_EV_NONE = 0,
	V2_EV_BATCH = 1,          /* gen, m, time, size; then size bytes */
	V2_EV_STACKS = 2,         /* first byte of a stack table batch */
	V2_EV_STACK = 3,          /* id, nframes, {pc, func, file, line}... */
	V2_EV_STRINGS = 4,        /* first byte of a string table batch */
	V2_EV_STRING = 5,         /* id, len, bytes */
	V2_EV_CPU_SAMPLES = 6,    /* first byte of a CPU sample batch */
	V2_EV_CPU_SAMPLE = 7,     /* time, m, p, g, stack */
	V2_EV_FREQUENCY = 8,      /* ticks per second */
	V2_EV_PROCS_CHANGE = 9,
	V2_EV_PROC_START = 10,
	V2_EV_PROC_STOP = 11,
	V2_EV_PROC_STEAL = 12,
	V2_EV_PROC_STATUS = 13,
	V2_EV_GO_CREATE = 14,
	V2_EV_GO_CREATE_SYSCALL = 15,
	V2_EV_GO_START = 16,
	V2_EV_GO_DESTROY = 17,
	V2_EV_GO_DESTROY_SYSCALL = 18,
	V2_EV_GO_STOP = 19,
	V2_EV_GO_BLOCK = 20,
	V2_EV_GO_UNBLOCK = 21,
	V2_EV_GO_SYSCALL_BEGIN = 22,
	V2_EV_GO_SYSCALL_END = 23,
	V2_EV_GO_SYSCALL_END_BLOCKED = 24,
	V2_EV_GO_STATUS = 25,
	V2_EV_STW_BEGIN = 26,
	V2_EV_STW_END = 27,
	V2_EV_GC_ACTIVE = 28,
	V2_EV_GC_BEGIN = 29,
	V2_EV_GC_END = 30,
	V2_EV_GC_SWEEP_ACTIVE = 31,
	V2_EV_GC_SWEEP_BEGIN = 32,
	V2_EV_GC_SWEEP_END = 33,
	V2_EV_GC_MARK_ASSIST_ACTIVE = 34,
	V2_EV_GC_MARK_ASSIST_BEGIN = 35,
	V2_EV_GC_MARK_ASSIST_END = 36,
	V2_EV_HEAP_ALLOC = 37,
	V2_EV_HEAP_GOAL = 38,
	V2_EV_GO_LABEL = 39,
	V2_EV_USER_TASK_BEGIN = 40,
	V2_EV_USER_TASK_END = 41,
	V2_EV_USER_REGION_BEGIN = 42,
	V2_EV_USER_REGION_END = 43,
	V2_EV_USER_LOG = 44,
	V2_EV_GO_SWITCH = 45,             /* 1.23 */
	V2_EV_GO_SWITCH_DESTROY = 46,     /* 1.23 */
	V2_EV_GO_CREATE_BLOCKED = 47,     /* 1.23 */
	V2_EV_GO_STATUS_STACK = 48,       /* 1.23 */
	V2_EV_EXPERIMENTAL_BATCH = 49,    /* 1.23: exp byte, gen, m, time, size */
	V2_EV_SYNC = 50,                  /* 1.25: first byte of the sync batch */
	V2_EV_CLOCK_SNAPSHOT = 51,        /* 1.25: dt, mono, sec, nsec */
	V2_EV_END_OF_GENERATION = 52,     /* 1.26: lone byte */
	V2_EV_EXP_FIRST = 128,            /* AllocFree experiment events */
	V2_EV_EXP_LAST = 136,
	V2_NUM_SPECS = 137,
};

struct rt_v2_spec {
	const char *name;
	uint8_t nargs;  /* timed events: uvarints after dt */
	uint8_t timed;  /* may appear in an event batch */
	uint8_t stk[2]; /* 1-based index (after dt) of stack id args, 0 = none */
	uint8_t str[2]; /* 1-based index (after dt) of string id args */
};

#define V2_T(n, nm, a) [V2_EV_##n] = { nm, a, 1, { 0, 0 }, { 0, 0 } }
#define V2_TS(n, nm, a, s1, s2, t1, t2) [V2_EV_##n] = { nm, a, 1, { s1, s2 }, { t1, t2 } }

static const struct rt_v2_spec rt_v2_specs[V2_NUM_SPECS] = {
	[V2_EV_BATCH] = { "EventBatch", 4, 0, { 0, 0 }, { 0, 0 } },
	[V2_EV_STACKS] = { "Stacks", 0, 0, { 0, 0 }, { 0, 0 } },
	[V2_EV_STACK] = { "Stack", 2, 0, { 0, 0 }, { 0, 0 } },
	[V2_EV_STRINGS] = { "Strings", 0, 0, { 0, 0 }, { 0, 0 } },
	[V2_EV_STRING] = { "String", 1, 0, { 0, 0 }, { 0, 0 } },
	[V2_EV_CPU_SAMPLES] = { "CPUSamples", 0, 0, { 0, 0 }, { 0, 0 } },
	[V2_EV_CPU_SAMPLE] = { "CPUSample", 5, 0, { 0, 0 }, { 0, 0 } },
	[V2_EV_FREQUENCY] = { "Frequency", 1, 0, { 0, 0 }, { 0, 0 } },
	V2_TS(PROCS_CHANGE, "ProcsChange", 2, 2, 0, 0, 0),
	V2_T(PROC_START, "ProcStart", 2),
	V2_T(PROC_STOP, "ProcStop", 0),
	V2_T(PROC_STEAL, "ProcSteal", 3),
	V2_T(PROC_STATUS, "ProcStatus", 2),
	V2_TS(GO_CREATE, "GoCreate", 3, 3, 2, 0, 0),
	V2_T(GO_CREATE_SYSCALL, "GoCreateSyscall", 1),
	V2_T(GO_START, "GoStart", 2),
	V2_T(GO_DESTROY, "GoDestroy", 0),
	V2_T(GO_DESTROY_SYSCALL, "GoDestroySyscall", 0),
	V2_TS(GO_STOP, "GoStop", 2, 2, 0, 1, 0),
	V2_TS(GO_BLOCK, "GoBlock", 2, 2, 0, 1, 0),
	V2_TS(GO_UNBLOCK, "GoUnblock", 3, 3, 0, 0, 0),
	V2_TS(GO_SYSCALL_BEGIN, "GoSyscallBegin", 2, 2, 0, 0, 0),
	V2_T(GO_SYSCALL_END, "GoSyscallEnd", 0),
	V2_T(GO_SYSCALL_END_BLOCKED, "GoSyscallEndBlocked", 0),
	V2_T(GO_STATUS, "GoStatus", 3),
	V2_TS(STW_BEGIN, "STWBegin", 2, 2, 0, 1, 0),
	V2_T(STW_END, "STWEnd", 0),
	V2_T(GC_ACTIVE, "GCActive", 1),
	V2_TS(GC_BEGIN, "GCBegin", 2, 2, 0, 0, 0),
	V2_T(GC_END, "GCEnd", 1),
	V2_T(GC_SWEEP_ACTIVE, "GCSweepActive", 1),
	V2_TS(GC_SWEEP_BEGIN, "GCSweepBegin", 1, 1, 0, 0, 0),
	V2_T(GC_SWEEP_END, "GCSweepEnd", 2),
	V2_T(GC_MARK_ASSIST_ACTIVE, "GCMarkAssistActive", 1),
	V2_TS(GC_MARK_ASSIST_BEGIN, "GCMarkAssistBegin", 1, 1, 0, 0, 0),
	V2_T(GC_MARK_ASSIST_END, "GCMarkAssistEnd", 0),
	V2_T(HEAP_ALLOC, "HeapAlloc", 1),
	V2_T(HEAP_GOAL, "HeapGoal", 1),
	V2_TS(GO_LABEL, "GoLabel", 1, 0, 0, 1, 0),
	V2_TS(USER_TASK_BEGIN, "UserTaskBegin", 4, 4, 0, 3, 0),
	V2_TS(USER_TASK_END, "UserTaskEnd", 2, 2, 0, 0, 0),
	V2_TS(USER_REGION_BEGIN, "UserRegionBegin", 3, 3, 0, 2, 0),
	V2_TS(USER_REGION_END, "UserRegionEnd", 3, 3, 0, 2, 0),
	V2_TS(USER_LOG, "UserLog", 4, 4, 0, 2, 3),
	V2_T(GO_SWITCH, "GoSwitch", 2),
	V2_T(GO_SWITCH_DESTROY, "GoSwitchDestroy", 2),
	V2_TS(GO_CREATE_BLOCKED, "GoCreateBlocked", 3, 3, 2, 0, 0),
	V2_TS(GO_STATUS_STACK, "GoStatusStack", 4, 4, 0, 0, 0),
	[V2_EV_EXPERIMENTAL_BATCH] = { "ExperimentalBatch", 4, 0, { 0, 0 }, { 0, 0 } },
	[V2_EV_SYNC] = { "Sync", 0, 0, { 0, 0 }, { 0, 0 } },
	V2_T(CLOCK_SNAPSHOT, "ClockSnapshot", 3),
	[V2_EV_END_OF_GENERATION] = { "EndOfGeneration", 0, 0, { 0, 0 }, { 0, 0 } },
	[128] = { "Span", 3, 1, { 0, 0 }, { 0, 0 } },
	[129] = { "SpanAlloc", 3, 1, { 0, 0 }, { 0, 0 } },
	[130] = { "SpanFree", 1, 1, { 0, 0 }, { 0, 0 } },
	[131] = { "HeapObject", 2, 1, { 0, 0 }, { 0, 0 } },
	[132] = { "HeapObjectAlloc", 2, 1, { 0, 0 }, { 0, 0 } },
	[133] = { "HeapObjectFree", 1, 1, { 0, 0 }, { 0, 0 } },
	[134] = { "GoroutineStack", 2, 1, { 0, 0 }, { 0, 0 } },
	[135] = { "GoroutineStackAlloc", 2, 1, { 0, 0 }, { 0, 0 } },
	[136] = { "GoroutineStackFree", 1, 1, { 0, 0 }, { 0, 0 } },
};

#undef V2_T
#undef V2_TS

#endif
