// SPDX-License-Identifier: BSD-2-Clause
/*
 * Go execution traces, v1 format (headers "go 1.9" .. "go 1.21"): a
 * streaming decoder that orders events as Go's internal/trace (Go 1.19 and
 * 1.21, order1007) does and hands them to a struct rt_go_sink.
 *
 * The trace is a sequence of records after the 16-byte header.  Per-P
 * batches (EvBatch: pid, absolute ticks) hold events whose timestamps are
 * deltas within the batch; the batches of one P are in time order, but the
 * file as a whole is not.  Strings (EvString) are defined inline, the stack
 * table (EvStack) and the tick frequency (EvFrequency) come at the end.
 *
 * Pass 1 walks every record once: it validates the wire format as Go's
 * readTrace/parseEvents do, indexes batch offsets per P, and collects the
 * strings and stacks (as offsets into the input), the frequency and the CPU
 * samples (stable-sorted by their absolute timestamp).  Most records are
 * short events whose only check is the number of their values: those are
 * skipped with the varint ends of 64 bytes at a time in a bit mask
 * (skip_plain()), the others are read value by value.
 *
 * Pass 2 decodes each P's stream lazily, one event of look-ahead per P, and
 * merges the streams like order1007: an event is ready when its
 * goroutine's (seq, status) precondition holds; among the ready heads the
 * smallest timestamp wins.  Ready heads sit in a binary heap; a head that
 * is not ready is parked under its exact precondition (goroutine, status,
 * seq or any seq), so that a transition wakes exactly the heads it makes
 * ready: the merge costs O(log Ps) per event whatever the input (Go's
 * frontier scan is O(Ps)).  Most events come in runs from one P: while the
 * next head of the P just delivered is ready and below every other head,
 * it is delivered without touching the heap (steps()).  Pass 2 reads only
 * what pass 1 has checked, without bounds checks per value; it prepares
 * the delivered event of the common types as it decodes them.
 * Per-goroutine state is direct-indexed for goids below V1_GDIRECT (they
 * are dense from 1), in an open-addressing hash above, and dropped at GoEnd
 * (goids are never reused).  Memory is O(Ps + live goroutines + strings +
 * stacks + CPU samples), plus 4 bytes per goid up to the largest one below
 * V1_GDIRECT; no event is kept after it has been delivered.
 *
 * Go's later steps are applied on the fly: the merged stream must be sorted
 * by emission time (else "time stamps out of order"); GoSysExit takes its
 * real exit time when it has one (validated against the goroutine's
 * GoSysBlock/GoInSyscall, as order1007 does; the event is delivered at its
 * merged position, which keeps every goroutine's own order); ticks become
 * nanoseconds relative to the first merged event exactly as parseEvents
 * computes them.  Like Go 1.19/1.21, a GoSysExitLocal keeps its emission
 * time (Go reads the real time from an argument slot the local form lacks).
 *
 * Where this decoder differs from Go's parser, on inputs no Go runtime
 * writes: FutileWakeup events (not written since Go 1.6) take part in the
 * merge but are not delivered, and removeFutile's dropping of the wakeup
 * around them is not done; of postProcessTrace's checks only those that
 * keep the delivered goroutine states consistent are made (GoEnd, GoStop
 * and GoSysCall by a running, non-zero g; GoCreate by a running g or g 0;
 * user region mode 0 or 1), not the per-P, GC, STW and sweep nesting ones;
 * a goid created again after its GoEnd is accepted (Go finds no order);
 * where Go's single "waiting" state lets a goroutine leave a syscall by
 * GoUnblock or a GoBlock by GoSysExit, the event's from-state says where g
 * really was.  Ties in time between Ps go to the P seen first in the file
 * (Go's choice depends on map iteration order).
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "base/gs_cpu.h"
#include "base/gs_err.h"
#include "base/gs_mem.h"
#include "runtime/rt_goconv.h"
#include "runtime/rt_gotrace.h"
#include "runtime/rt_gotrace_v1_hdr.h"

/* Go's own limits (internal/trace) */
#define V1_MAX_STRING 1000000u /* bytes of an EvString or a UserLog value */
#define V1_MAX_FRAMES 1000u    /* frames of an EvStack */
/* ours: bounds on tables sized by the input */
#define V1_MAX_BATCHES (1u << 22)
#define V1_MAX_PS (1u << 16)
#define V1_MAX_STRINGS (1u << 22)
#define V1_MAX_STACKS (1u << 22)
#define V1_MAX_SAMPLES (1u << 24)
#define V1_MAX_GS (1u << 24) /* live goroutines */
#ifndef V1_GDIRECT
#define V1_GDIRECT (1u << 20) /* goids below are direct-indexed */
#endif
#define V1_NARG_KEEP 8       /* argument values kept per record */

enum {
	EV_NONE, EV_BATCH, EV_FREQUENCY, EV_STACK, EV_GOMAXPROCS,
	EV_PROC_START, EV_PROC_STOP, EV_GC_START, EV_GC_DONE, EV_STW_START,
	EV_STW_DONE, EV_SWEEP_START, EV_SWEEP_DONE, EV_GO_CREATE, EV_GO_START,
	EV_GO_END, EV_GO_STOP, EV_GO_SCHED, EV_GO_PREEMPT, EV_GO_SLEEP,
	EV_GO_BLOCK, EV_GO_UNBLOCK, EV_GO_BLOCK_SEND, EV_GO_BLOCK_RECV,
	EV_GO_BLOCK_SELECT, EV_GO_BLOCK_SYNC, EV_GO_BLOCK_COND,
	EV_GO_BLOCK_NET, EV_GO_SYSCALL, EV_GO_SYSEXIT, EV_GO_SYSBLOCK,
	EV_GO_WAITING, EV_GO_INSYSCALL, EV_HEAP_ALLOC, EV_HEAP_GOAL,
	EV_TIMER_GOROUTINE, EV_FUTILE_WAKEUP, EV_STRING, EV_GO_START_LOCAL,
	EV_GO_UNBLOCK_LOCAL, EV_GO_SYSEXIT_LOCAL, EV_GO_START_LABEL,
	EV_GO_BLOCK_GC, EV_MARK_ASSIST_START, EV_MARK_ASSIST_DONE,
	EV_USER_TASK_CREATE, EV_USER_TASK_END, EV_USER_REGION, EV_USER_LOG,
	EV_CPU_SAMPLE, EV_COUNT
};

#define K(x) GSCOPE__V1__GO_EVENT_KIND__GO_EV_##x
#define ST(x) GSCOPE__V1__GO_STATE__GO_STATE_##x

/*
 * Wire layout per type: arguments after the timestamp delta (the stack id,
 * when there is one, is the last), since which version, timed or not.
 */
struct v1_desc {
	const char *name;
	uint16_t minver;
	uint8_t nargs; /* excluding the timestamp, including the stack */
	bool stack;
	bool timed;
};

static const struct v1_desc descs[EV_COUNT] = {
	[EV_NONE] = { "None", 0, 0, false, false },
	[EV_BATCH] = { "Batch", 1007, 2, false, false },
	[EV_FREQUENCY] = { "Frequency", 1007, 1, false, false },
	[EV_STACK] = { "Stack", 1007, 2, false, false },
	[EV_GOMAXPROCS] = { "Gomaxprocs", 1007, 2, true, true },
	[EV_PROC_START] = { "ProcStart", 1007, 1, false, true },
	[EV_PROC_STOP] = { "ProcStop", 1007, 0, false, true },
	[EV_GC_START] = { "GCStart", 1007, 2, true, true },
	[EV_GC_DONE] = { "GCDone", 1007, 0, false, true },
	[EV_STW_START] = { "GCSTWStart", 1007, 1, false, true },
	[EV_STW_DONE] = { "GCSTWDone", 1007, 0, false, true },
	[EV_SWEEP_START] = { "GCSweepStart", 1007, 1, true, true },
	[EV_SWEEP_DONE] = { "GCSweepDone", 1007, 2, false, true },
	[EV_GO_CREATE] = { "GoCreate", 1007, 3, true, true },
	[EV_GO_START] = { "GoStart", 1007, 2, false, true },
	[EV_GO_END] = { "GoEnd", 1007, 0, false, true },
	[EV_GO_STOP] = { "GoStop", 1007, 1, true, true },
	[EV_GO_SCHED] = { "GoSched", 1007, 1, true, true },
	[EV_GO_PREEMPT] = { "GoPreempt", 1007, 1, true, true },
	[EV_GO_SLEEP] = { "GoSleep", 1007, 1, true, true },
	[EV_GO_BLOCK] = { "GoBlock", 1007, 1, true, true },
	[EV_GO_UNBLOCK] = { "GoUnblock", 1007, 3, true, true },
	[EV_GO_BLOCK_SEND] = { "GoBlockSend", 1007, 1, true, true },
	[EV_GO_BLOCK_RECV] = { "GoBlockRecv", 1007, 1, true, true },
	[EV_GO_BLOCK_SELECT] = { "GoBlockSelect", 1007, 1, true, true },
	[EV_GO_BLOCK_SYNC] = { "GoBlockSync", 1007, 1, true, true },
	[EV_GO_BLOCK_COND] = { "GoBlockCond", 1007, 1, true, true },
	[EV_GO_BLOCK_NET] = { "GoBlockNet", 1007, 1, true, true },
	[EV_GO_SYSCALL] = { "GoSysCall", 1007, 1, true, true },
	[EV_GO_SYSEXIT] = { "GoSysExit", 1007, 3, false, true },
	[EV_GO_SYSBLOCK] = { "GoSysBlock", 1007, 0, false, true },
	[EV_GO_WAITING] = { "GoWaiting", 1007, 1, false, true },
	[EV_GO_INSYSCALL] = { "GoInSyscall", 1007, 1, false, true },
	[EV_HEAP_ALLOC] = { "HeapAlloc", 1007, 1, false, true },
	[EV_HEAP_GOAL] = { "HeapGoal", 1007, 1, false, true },
	[EV_TIMER_GOROUTINE] = { "TimerGoroutine", 1007, 1, false, false },
	[EV_FUTILE_WAKEUP] = { "FutileWakeup", 1007, 0, false, true },
	[EV_STRING] = { "String", 1007, 0, false, false },
	[EV_GO_START_LOCAL] = { "GoStartLocal", 1007, 1, false, true },
	[EV_GO_UNBLOCK_LOCAL] = { "GoUnblockLocal", 1007, 2, true, true },
	[EV_GO_SYSEXIT_LOCAL] = { "GoSysExitLocal", 1007, 2, false, true },
	[EV_GO_START_LABEL] = { "GoStartLabel", 1008, 3, false, true },
	[EV_GO_BLOCK_GC] = { "GoBlockGC", 1008, 1, true, true },
	[EV_MARK_ASSIST_START] = { "GCMarkAssistStart", 1009, 1, true, true },
	[EV_MARK_ASSIST_DONE] = { "GCMarkAssistDone", 1009, 0, false, true },
	[EV_USER_TASK_CREATE] = { "UserTaskCreate", 1011, 4, true, true },
	[EV_USER_TASK_END] = { "UserTaskEnd", 1011, 2, true, true },
	[EV_USER_REGION] = { "UserRegion", 1011, 4, true, true },
	[EV_USER_LOG] = { "UserLog", 1011, 3, true, true },
	[EV_CPU_SAMPLE] = { "CPUSample", 1019, 4, true, true },
};

/* Go 1.21 runtime stwReason strings, by value */
static const char *const stw_reasons[] = {
	"unknown",
	"GC mark termination",
	"GC sweep termination",
	"write heap dump",
	"goroutine profile",
	"goroutine profile cleanup",
	"all goroutines stack trace",
	"read mem stats",
	"AllThreadsSyscall",
	"GOMAXPROCS",
	"start trace",
	"stop trace",
	"CountPagesInUse (test)",
	"ReadMetricsSlow (test)",
	"ReadMemStatsSlow (test)",
	"PageCachePagesLeaked (test)",
	"ResetDebugLog (test)",
};

/* order1007's goroutine states and sequence sentinels */
enum { G_DEAD, G_RUNNABLE, G_RUNNING, G_WAITING };
#define UNORDERED (~(uint64_t)0)
#define GARBAGE (~(uint64_t)0 - 1) /* the GC's pseudo goroutine */
#define NOSEQ (~(uint64_t)0)
#define SEQINC (~(uint64_t)0 - 1)

/* One record as read from the wire. */
struct v1_rec {
	size_t off;
	unsigned int type;
	size_t nargs;               /* values read, timestamp included */
	uint64_t a[V1_NARG_KEEP];   /* the first values */
	const uint8_t *frames;      /* EvStack: frame values, after id, n */
	const uint8_t *str;         /* EvString, EvUserLog: the bytes */
	uint64_t str_len;
};

struct v1_batch {
	size_t start, end; /* records after the EvBatch header */
	int64_t ticks;
	int32_t next;      /* next batch of the same P, -1 = none */
	uint32_t nev;      /* timed events other than CPU samples */
};

/*
 * order1007's stateTransition: g (or UNORDERED), precondition (iseq, ist),
 * result (nseq, nst), nseq as "seq = (seq & nmask) + nadd" (see SEQ_TO).
 */
struct v1_trans {
	uint64_t g, iseq, nmask, nadd;
	uint8_t ist, nst;
};

/* The result sequence nseq: NOSEQ keeps seq, SEQINC adds 1, else nseq. */
#define SEQ_TO(t, nseq)                                                        \
	do {                                                                   \
		uint64_t v_ = (nseq);                                          \
		(t)->nmask = v_ >= SEQINC ? ~(uint64_t)0 : 0;                  \
		(t)->nadd = v_ == NOSEQ ? 0 : v_ == SEQINC ? 1 : v_;           \
	} while (0)

/* One event of look-ahead. */
struct v1_ev {
	struct v1_trans tr;
	int64_t ts;         /* ticks */
	uint64_t g;         /* Go's Event.G */
	uint64_t a[4];      /* arguments after the timestamp, stack excluded */
	uint64_t stk;
	const uint8_t *str; /* UserLog value */
	size_t str_len;
	const uint8_t *rec; /* where the record is (CPU sample: its offset in data) */
	uint8_t type;
};

#define EV_OFF(d, e) ((size_t)((e)->rec - (d)->data))

struct v1_stream {
	uint64_t pid;
	int32_t first, last, cur; /* batches */
	const uint8_t *pos, *end;
	int64_t ts;               /* last timestamp in the current batch */
	uint64_t last_g, m;
	struct v1_ev head;
	struct rt_go_event out; /* deliver()'s */
	bool has_head, cpu;
	int32_t park_next; /* next stream parked under the same precondition */
};

struct v1_str {
	size_t off;
	uint32_t len;
};

struct v1_stk {
	size_t off;  /* frame values */
	uint32_t n;
	bool emitted;
};

struct v1_sample {
	int64_t ts;
	uint64_t p, g, stk;
	size_t off;
};

/* u64 -> index map; open addressing, 0 in vals = empty */
struct v1_map {
	uint64_t *keys;
	uint32_t *vals;
	size_t mask, n;
};

struct v1_g {
	uint64_t id, seq;
	int64_t sysblock;   /* ticks of the last GoSysBlock/GoInSyscall, 0 = none */
	uint64_t epoch;     /* tells this g from an earlier one of the same id */
	uint32_t nparked;   /* streams parked on this g */
	uint8_t status;     /* order1007's: G_DEAD .. G_WAITING */
	uint8_t state;      /* as delivered: Gscope__V1__GoState */
	bool used;
};

struct v1_gtab {
	struct v1_g *t;    /* ids >= V1_GDIRECT */
	size_t mask, n;
	uint32_t *di;      /* ids < dcap <= V1_GDIRECT: 1 + index in pool, 0 = none */
	size_t dcap;
	struct v1_g *pool; /* the entries of ids < V1_GDIRECT */
	size_t npool, cap_pool, dn;
	uint32_t pfree;    /* 1 + first free entry of pool (linked by seq), 0 = none */
};

/* Streams parked under one precondition: g (of an epoch) in (seq, status). */
struct v1_park {
	uint64_t g, epoch, seq; /* seq NOSEQ: any */
	int32_t head;
	uint8_t status;
	bool used;
};

struct v1_ptab {
	struct v1_park *t;
	size_t mask, n;
};

struct v1_dec {
	const uint8_t *data;
	size_t len;
	const char *name;
	int ver;
	uint8_t want[EV_COUNT]; /* want_args() by type */
	uint8_t tflags[256];    /* TF_* by a record's first byte */
	const struct rt_go_sink *sink;
	int (*ev)(void *ctx, const struct rt_go_event *e); /* sink->event */
	void *ev_ctx;
	struct rt_goblock blk;  /* blk.ev: the sink takes converted blocks */
	struct rt_gotrace_stats *st;

	struct v1_batch *batches;
	size_t nbatches, cap_batches;
	struct v1_stream *streams;
	size_t nstreams, cap_streams;
	struct v1_map pmap; /* pid -> stream */
	struct v1_str *strs;
	size_t nstrs, cap_strs;
	struct v1_map smap;
	struct v1_stk *stks;
	size_t nstks, cap_stks;
	struct v1_map kmap;
	uint64_t stk_max;    /* largest stack id defined */
	uint64_t *stk_seen;  /* bitmap of announced ids (and 0) < stk_lim */
	uint64_t stk_lim;    /* stk_max + 1 if dense, else 0 (no bitmap) */
	struct v1_sample *samples;
	size_t nsamples, cap_samples;
	int64_t freq;
	uint64_t ntimed;

	struct v1_gtab gt;
	struct v1_ptab pt;
	uint64_t epochs;
	int32_t *heap;
	size_t nheap;
	struct rt_go_frame *frames;
	bool have_min;
	int64_t min_ts, last_ts;
	double k;
	uint64_t gc_seq;
	const char *stw;
	size_t cpu_next;
};

static int v1_err(struct v1_dec *d, int err, size_t off, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int v1_err(struct v1_dec *d, int err, size_t off, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return gs_errf(err, "%s: offset %zu: %s", d->name, off, msg);
}

#define BAD(d, off, ...) v1_err(d, -GS_E_FORMAT, off, __VA_ARGS__)

static int grow(struct v1_dec *d, void **p, size_t *cap, size_t sz, size_t need,
		size_t max, size_t off, const char *what)
{
	int err;

	if (need <= *cap)
		return 0;
	err = gs_grow(p, cap, sz, need, max);
	if (err == -E2BIG)
		return v1_err(d, -GS_E_LIMIT, off, "more than %zu %s", max, what);
	if (err)
		return gs_errf(err, "%s: out of memory", d->name);
	return 0;
}

/* ------------------------------------------------------------ hashing */

/* goids and ids are mostly dense: an odd multiplier spreads them well */
static inline size_t hash64(uint64_t k)
{
	k *= 0x9e3779b97f4a7c15ull;
	return (size_t)(k ^ (k >> 32));
}

static int64_t map_get(const struct v1_map *m, uint64_t key)
{
	size_t i;

	if (!m->keys)
		return -1;
	for (i = hash64(key) & m->mask; m->vals[i]; i = (i + 1) & m->mask)
		if (m->keys[i] == key)
			return (int64_t)m->vals[i] - 1;
	return -1;
}

/* Insert or overwrite key -> val.  0 or -ENOMEM. */
static int map_put(struct v1_map *m, uint64_t key, uint32_t val)
{
	size_t i;

	if (!m->keys || (m->n + 1) * 2 > m->mask + 1) {
		size_t nsz = m->keys ? (m->mask + 1) * 2 : 64;
		uint64_t *nk = gs_malloc(nsz * sizeof(*nk));
		uint32_t *nv = gs_calloc(nsz, sizeof(*nv));

		if (!nk || !nv) {
			gs_free(nk);
			gs_free(nv);
			return -ENOMEM;
		}
		for (size_t j = 0; m->keys && j <= m->mask; j++) {
			if (!m->vals[j])
				continue;
			for (i = hash64(m->keys[j]) & (nsz - 1); nv[i]; i = (i + 1) & (nsz - 1))
				;
			nk[i] = m->keys[j];
			nv[i] = m->vals[j];
		}
		gs_free(m->keys);
		gs_free(m->vals);
		m->keys = nk;
		m->vals = nv;
		m->mask = nsz - 1;
	}
	for (i = hash64(key) & m->mask; m->vals[i]; i = (i + 1) & m->mask) {
		if (m->keys[i] == key) {
			m->vals[i] = val + 1;
			return 0;
		}
	}
	m->keys[i] = key;
	m->vals[i] = val + 1;
	m->n++;
	return 0;
}

static void map_release(struct v1_map *m)
{
	gs_free(m->keys);
	gs_free(m->vals);
	memset(m, 0, sizeof(*m));
}

/*
 * goroutine table: goids are handed out densely from 1, so small ones are
 * direct-indexed (di[id], grown to the largest seen, V1_GDIRECT at most)
 * into a pool of entries that only holds live goroutines; larger ones go
 * to an open-addressing hash with linear probing and backward-shift
 * deletion.  Adding a goroutine may move the entries (pool or hash grown).
 */

static inline struct v1_g *g_find(const struct v1_gtab *t, uint64_t id)
{
	size_t i;

	if (id < t->dcap) { /* dcap <= V1_GDIRECT */
		uint32_t k = t->di[id];

		return k ? &t->pool[k - 1] : NULL;
	}
	if (id < V1_GDIRECT || !t->t)
		return NULL;
	for (i = hash64(id) & t->mask; t->t[i].used; i = (i + 1) & t->mask)
		if (t->t[i].id == id)
			return &t->t[i];
	return NULL;
}

static int g_rehash(struct v1_gtab *t, size_t nsz)
{
	struct v1_g *nt = gs_calloc(nsz, sizeof(*nt));

	if (!nt)
		return -ENOMEM;
	for (size_t j = 0; t->t && j <= t->mask; j++) {
		size_t i;

		if (!t->t[j].used)
			continue;
		for (i = hash64(t->t[j].id) & (nsz - 1); nt[i].used; i = (i + 1) & (nsz - 1))
			;
		nt[i] = t->t[j];
	}
	gs_free(t->t);
	t->t = nt;
	t->mask = nsz - 1;
	return 0;
}

/* A pool entry for id (< V1_GDIRECT), not initialised; NULL on -ENOMEM. */
static struct v1_g *g_new_direct(struct v1_gtab *t, uint64_t id)
{
	uint32_t k;

	if (id >= t->dcap) {
		size_t nsz = t->dcap ? t->dcap : V1_GDIRECT < 1024 ? V1_GDIRECT : 1024;
		uint32_t *ndi;

		while (nsz <= id)
			nsz *= 2;
		ndi = gs_realloc(t->di, nsz * sizeof(*ndi));
		if (!ndi)
			return NULL;
		memset(ndi + t->dcap, 0, (nsz - t->dcap) * sizeof(*ndi));
		t->di = ndi;
		t->dcap = nsz;
	}
	if (t->pfree) {
		k = t->pfree;
		t->pfree = (uint32_t)t->pool[k - 1].seq;
	} else {
		if (gs_grow((void **)&t->pool, &t->cap_pool, sizeof(*t->pool), t->npool + 1,
			    V1_MAX_GS))
			return NULL;
		k = (uint32_t)++t->npool;
	}
	t->di[id] = k;
	t->dn++;
	return &t->pool[k - 1];
}

/* Find id or add it as (seq 0, dead); NULL on -ENOMEM or over the limit. */
static struct v1_g *g_get(struct v1_dec *d, uint64_t id, int *err)
{
	struct v1_gtab *t = &d->gt;
	struct v1_g *e = g_find(t, id);
	size_t i;

	if (e)
		return e;
	if (t->n + t->dn >= V1_MAX_GS) {
		*err = v1_err(d, -GS_E_LIMIT, 0, "more than %u live goroutines", V1_MAX_GS);
		return NULL;
	}
	if (id < V1_GDIRECT) {
		e = g_new_direct(t, id);
		if (!e) {
			*err = gs_errf(-ENOMEM, "%s: out of memory", d->name);
			return NULL;
		}
	} else {
		if (!t->t || (t->n + 1) * 2 > t->mask + 1) {
			if (g_rehash(t, t->t ? (t->mask + 1) * 2 : 1024)) {
				*err = gs_errf(-ENOMEM, "%s: out of memory", d->name);
				return NULL;
			}
		}
		for (i = hash64(id) & t->mask; t->t[i].used; i = (i + 1) & t->mask)
			;
		e = &t->t[i];
		t->n++;
	}
	memset(e, 0, sizeof(*e));
	e->id = id;
	e->used = true;
	e->epoch = ++d->epochs;
	e->status = G_DEAD;
	e->state = ST(DEAD);
	return e;
}

static void g_del(struct v1_gtab *t, struct v1_g *e)
{
	size_t i, j;

	if (e->id < V1_GDIRECT) {
		uint32_t k = t->di[e->id];

		t->di[e->id] = 0;
		e->used = false;
		e->seq = t->pfree;
		t->pfree = k;
		t->dn--;
		return;
	}
	i = j = (size_t)(e - t->t);
	for (;;) {
		size_t home;

		j = (j + 1) & t->mask;
		if (!t->t[j].used)
			break;
		home = hash64(t->t[j].id) & t->mask;
		/* move j into the hole when the hole lies on j's probe path */
		if (((j - home) & t->mask) >= ((j - i) & t->mask)) {
			t->t[i] = t->t[j];
			i = j;
		}
	}
	t->t[i].used = false;
	t->n--;
}

/* parked-stream table: same scheme */

static inline size_t park_hash(uint64_t g, uint64_t epoch, uint64_t seq, uint8_t status)
{
	return hash64(g ^ hash64(seq ^ (epoch << 2) ^ status));
}

static struct v1_park *park_find(const struct v1_ptab *t, uint64_t g, uint64_t epoch,
				 uint64_t seq, uint8_t status)
{
	size_t i;

	if (!t->t)
		return NULL;
	for (i = park_hash(g, epoch, seq, status) & t->mask; t->t[i].used; i = (i + 1) & t->mask) {
		const struct v1_park *k = &t->t[i];

		if (k->g == g && k->epoch == epoch && k->seq == seq && k->status == status)
			return &t->t[i];
	}
	return NULL;
}

/* Find or add the list for (g, epoch, seq, status); NULL on -ENOMEM. */
static struct v1_park *park_get(struct v1_ptab *t, uint64_t g, uint64_t epoch, uint64_t seq,
				uint8_t status)
{
	struct v1_park *k = park_find(t, g, epoch, seq, status);
	size_t i;

	if (k)
		return k;
	if (!t->t || (t->n + 1) * 2 > t->mask + 1) {
		size_t nsz = t->t ? (t->mask + 1) * 2 : 64;
		struct v1_park *nt = gs_calloc(nsz, sizeof(*nt));

		if (!nt)
			return NULL;
		for (size_t j = 0; t->t && j <= t->mask; j++) {
			const struct v1_park *o = &t->t[j];

			if (!o->used)
				continue;
			for (i = park_hash(o->g, o->epoch, o->seq, o->status) & (nsz - 1);
			     nt[i].used; i = (i + 1) & (nsz - 1))
				;
			nt[i] = *o;
		}
		gs_free(t->t);
		t->t = nt;
		t->mask = nsz - 1;
	}
	for (i = park_hash(g, epoch, seq, status) & t->mask; t->t[i].used; i = (i + 1) & t->mask)
		;
	k = &t->t[i];
	k->g = g;
	k->epoch = epoch;
	k->seq = seq;
	k->status = status;
	k->head = -1;
	k->used = true;
	t->n++;
	return k;
}

static void park_del(struct v1_ptab *t, struct v1_park *k)
{
	size_t i = (size_t)(k - t->t), j = i;

	for (;;) {
		const struct v1_park *o;
		size_t home;

		j = (j + 1) & t->mask;
		o = &t->t[j];
		if (!o->used)
			break;
		home = park_hash(o->g, o->epoch, o->seq, o->status) & t->mask;
		if (((j - home) & t->mask) >= ((j - i) & t->mask)) {
			t->t[i] = *o;
			i = j;
		}
	}
	t->t[i].used = false;
	t->n--;
}

/* ------------------------------------------------------------ wire */

/* Go's readVal: up to 10 bytes, overflowing bits dropped. */
static inline const uint8_t *uvar(const uint8_t *p, const uint8_t *end, uint64_t *out)
{
	uint64_t v = 0;

	if (p < end && *p < 0x80) {
		*out = *p;
		return p + 1;
	}
	if (end - p >= 10) { /* no bounds checks needed */
		for (unsigned int i = 0; i < 10; i++) {
			uint8_t b = p[i];

			v |= (uint64_t)(b & 0x7f) << (7 * i);
			if (!(b & 0x80)) {
				*out = v;
				return p + i + 1;
			}
		}
		return NULL;
	}
	for (unsigned int i = 0; i < 10; i++) {
		uint8_t b;

		if (p >= end)
			return NULL;
		b = *p++;
		v |= (uint64_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80)) {
			*out = v;
			return p;
		}
	}
	return NULL;
}

/* Read and check the record at *pp (pass 1): every value, stacks included. */
static int read_rec(struct v1_dec *d, const uint8_t **pp, struct v1_rec *r)
{
	const uint8_t *p = *pp, *end = d->data + d->len, *q;
	unsigned int narg;
	uint64_t v;

	r->off = (size_t)(p - d->data);
	r->type = *p & 0x3f;
	narg = (unsigned int)(*p >> 6) + 1;
	p++;
	r->nargs = 0;
	r->frames = NULL;
	r->str = NULL;
	r->str_len = 0;
	if (r->type == EV_NONE || r->type >= EV_COUNT || descs[r->type].minver > d->ver)
		return BAD(d, r->off, "unknown event type %u", r->type);
	if (r->type == EV_STRING) {
		uint64_t id, n;

		if (!(p = uvar(p, end, &id)) || !(p = uvar(p, end, &n)))
			return BAD(d, r->off, "truncated or bad string record");
		if (id == 0)
			return BAD(d, r->off, "string has invalid id 0");
		if (n == 0)
			return BAD(d, r->off, "string %" PRIu64 " has invalid length 0", id);
		if (n > V1_MAX_STRING)
			return BAD(d, r->off, "string length %" PRIu64 " over limit %u", n,
				   V1_MAX_STRING);
		if (n > (uint64_t)(end - p))
			return BAD(d, r->off,
				   "string %" PRIu64 " truncated: length %" PRIu64
				   ", %zu bytes left",
				   id, n, (size_t)(end - p));
		r->a[0] = id;
		r->nargs = 1;
		r->str = p;
		r->str_len = n;
		*pp = p + n;
		return 0;
	}
	if (narg < 4) {
		for (unsigned int i = 0; i < narg; i++) {
			if (!(p = uvar(p, end, &v)))
				return BAD(d, r->off, "%s: truncated or bad argument %u",
					   descs[r->type].name, i);
			r->a[i] = v;
		}
		r->nargs = narg;
	} else {
		const uint8_t *rend;

		if (!(p = uvar(p, end, &v)))
			return BAD(d, r->off, "%s: truncated or bad length", descs[r->type].name);
		if (v > (uint64_t)(end - p))
			return BAD(d, r->off, "%s: length %" PRIu64 " beyond the end of the input",
				   descs[r->type].name, v);
		rend = p + v;
		while (p < rend) {
			if (r->type == EV_STACK && r->nargs == 2)
				r->frames = p;
			if (!(q = uvar(p, rend, &v)))
				return BAD(d, r->off, "%s: event has wrong length",
					   descs[r->type].name);
			p = q;
			if (r->nargs < V1_NARG_KEEP)
				r->a[r->nargs] = v;
			r->nargs++;
		}
	}
	if (r->type == EV_USER_LOG) {
		uint64_t n;

		if (!(p = uvar(p, end, &n)))
			return BAD(d, r->off, "UserLog: truncated value string");
		if (n > V1_MAX_STRING)
			return BAD(d, r->off,
				   "UserLog value string length %" PRIu64 " over limit %u", n,
				   V1_MAX_STRING);
		if (n > (uint64_t)(end - p))
			return BAD(d, r->off, "UserLog value string truncated");
		r->str = p;
		r->str_len = n;
		p += n;
	}
	*pp = p;
	return 0;
}

/* Values Go's argNum expects for a record of this type and version. */
static size_t want_args(const struct v1_dec *d, unsigned int type)
{
	const struct v1_desc *ds = &descs[type];
	size_t n = ds->nargs + (ds->timed ? 1 : 0);

	if (type == EV_STW_START && d->ver < 1010)
		n--; /* 1.10 added the kind */
	return n;
}

/* ------------------------------------------------------------ pass 1 */

static int stream_of(struct v1_dec *d, uint64_t pid, size_t off, int32_t *idx)
{
	int64_t i = map_get(&d->pmap, pid);
	struct v1_stream *s;
	int err;

	if (i >= 0) {
		*idx = (int32_t)i;
		return 0;
	}
	err = grow(d, (void **)&d->streams, &d->cap_streams, sizeof(*d->streams),
		   d->nstreams + 2, V1_MAX_PS + 1, off, "Ps");
	if (err)
		return err;
	s = &d->streams[d->nstreams];
	memset(s, 0, sizeof(*s));
	s->pid = pid;
	s->first = s->last = s->cur = -1;
	if (map_put(&d->pmap, pid, (uint32_t)d->nstreams))
		return gs_errf(-ENOMEM, "%s: out of memory", d->name);
	*idx = (int32_t)d->nstreams++;
	return 0;
}

static int new_batch(struct v1_dec *d, uint64_t pid, int64_t ticks, size_t start, size_t off,
		     int32_t *cur)
{
	struct v1_batch *b;
	struct v1_stream *s;
	int32_t si = -1;
	int err;

	err = grow(d, (void **)&d->batches, &d->cap_batches, sizeof(*d->batches),
		   d->nbatches + 1, V1_MAX_BATCHES, off, "batches");
	err = err ?: stream_of(d, pid, off, &si);
	if (err)
		return err;
	if (*cur >= 0)
		d->batches[*cur].end = off;
	b = &d->batches[d->nbatches];
	b->start = start;
	b->end = d->len;
	b->ticks = ticks;
	b->next = -1;
	b->nev = 0;
	s = &d->streams[si];
	if (s->last >= 0)
		d->batches[s->last].next = (int32_t)d->nbatches;
	else
		s->first = (int32_t)d->nbatches;
	s->last = (int32_t)d->nbatches;
	*cur = (int32_t)d->nbatches++;
	return 0;
}

static int add_string(struct v1_dec *d, const struct v1_rec *r)
{
	int err;

	if (map_get(&d->smap, r->a[0]) >= 0)
		return BAD(d, r->off, "string has duplicate id %" PRIu64, r->a[0]);
	err = grow(d, (void **)&d->strs, &d->cap_strs, sizeof(*d->strs), d->nstrs + 1,
		   V1_MAX_STRINGS, r->off, "strings");
	if (err)
		return err;
	d->strs[d->nstrs].off = (size_t)(r->str - d->data);
	d->strs[d->nstrs].len = (uint32_t)r->str_len;
	if (map_put(&d->smap, r->a[0], (uint32_t)d->nstrs))
		return gs_errf(-ENOMEM, "%s: out of memory", d->name);
	d->nstrs++;
	return 0;
}

static int add_stack(struct v1_dec *d, const struct v1_rec *r)
{
	uint64_t id, n;
	int64_t i;
	int err;

	if (r->nargs < 2)
		return BAD(d, r->off,
			   "Stack has wrong number of arguments: want at least 2, got %zu",
			   r->nargs);
	id = r->a[0];
	n = r->a[1];
	if (n > V1_MAX_FRAMES)
		return BAD(d, r->off, "Stack has bad number of frames: %" PRIu64, n);
	if (r->nargs != 2 + 4 * n)
		return BAD(d, r->off,
			   "Stack has wrong number of arguments: want %" PRIu64 ", got %zu",
			   2 + 4 * n, r->nargs);
	if (id == 0 || n == 0)
		return 0; /* Go keeps neither */
	if (id > d->stk_max)
		d->stk_max = id;
	i = map_get(&d->kmap, id);
	if (i < 0) {
		err = grow(d, (void **)&d->stks, &d->cap_stks, sizeof(*d->stks),
			   d->nstks + 1, V1_MAX_STACKS, r->off, "stacks");
		if (err)
			return err;
		i = (int64_t)d->nstks++;
		if (map_put(&d->kmap, id, (uint32_t)i))
			return gs_errf(-ENOMEM, "%s: out of memory", d->name);
	}
	/* a later definition of the same id wins, as in Go */
	d->stks[i].off = (size_t)(r->frames - d->data);
	d->stks[i].n = (uint32_t)n;
	d->stks[i].emitted = false;
	return 0;
}

static int add_sample(struct v1_dec *d, const struct v1_rec *r)
{
	struct v1_sample *s;
	int err;

	err = grow(d, (void **)&d->samples, &d->cap_samples, sizeof(*d->samples),
		   d->nsamples + 1, V1_MAX_SAMPLES, r->off, "CPU samples");
	if (err)
		return err;
	s = &d->samples[d->nsamples++];
	s->ts = (int64_t)r->a[1];
	s->p = r->a[2];
	s->g = r->a[3];
	s->stk = r->a[4];
	s->off = r->off;
	return 0;
}

static int sample_cmp(const void *pa, const void *pb)
{
	const struct v1_sample *a = pa, *b = pb;

	if (a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	return a->off < b->off ? -1 : a->off > b->off; /* stable: file order */
}

/* Bit i set where p[i] ends a varint (has no continuation bit). */
static inline uint64_t last_bytes64(const uint8_t *p)
{
#ifdef __SSE2__
	uint64_t m = 0;

	for (unsigned int i = 0; i < 4; i++) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * i));

		m |= (uint64_t)(uint16_t)_mm_movemask_epi8(v) << (16 * i);
	}
	return ~m;
#else
	uint64_t m = 0;

	for (unsigned int i = 0; i < 8; i++) {
		uint64_t w = 0;

		for (unsigned int j = 0; j < 8; j++)
			w |= (uint64_t)p[8 * i + j] << (8 * j);
		/* the high bits of the 8 bytes, gathered into the top byte */
		w = ((w & 0x8080808080808080ull) >> 7) * 0x0102040810204080ull >> 56;
		m |= w << (8 * i);
	}
	return ~m;
#endif
}

/* x with its lowest set bit cleared, as a branch (no cmov) where used */
#define DROP_LOW(x) do { (x) &= (x) - 1; __asm__ volatile("" : "+r"(x)); } while (0)

/* plain[] of a record's first byte: values inline, or length-prefixed (PL_*) */
#define PL_LONG 0x80 /* | the number of values */
#define PL_LOG 0x40  /* UserLog: a value string follows */

/*
 * Pass 1's fast path: skip the "plain" records from p on (see pass1()),
 * while each has the number of values its type wants and is short enough:
 * inline values that fit in the 8 bytes after the type byte (so none is
 * longer than 10 bytes), or length-prefixed ones (one length byte) that fit
 * in 64 bytes.  Returns where it stopped: a record to read the long way.
 *
 * The ends of varints in 64 bytes are bits of a register, rem those not
 * yet passed: a record ends at the narg-th, after dropping the type byte's
 * own bit when it has none (narg <= 2).  From one record to the next is a
 * few bit clears (the branch on narg is predicted), no load.
 */
static inline __attribute__((always_inline)) const uint8_t *
skip_plain_in(const uint8_t *p, const uint8_t *end, const uint8_t *plain, uint64_t *raw,
	      uint64_t *n)
{
	uint64_t cnt = 0;
	unsigned int i = 0;

	while (end - p >= 64) {
		uint64_t rem = last_bytes64(p);

		__builtin_prefetch(p + 512); /* (it may be past the end: no fault) */

		i = 0;
		do {
			unsigned int k = plain[p[i]], e;

			if (__builtin_expect(k & PL_LONG, 0)) {
				unsigned int len = p[i + 1], rend = i + 2 + len, last = i + 1, nv = 0;
				uint64_t m;

				/* the ends of the values, at most 10 bytes apart */
				if (len >= 0x80 || rend > 64)
					goto out;
				m = rem >> (i + 2) << (i + 2);
				if (rend < 64)
					m &= ((uint64_t)1 << rend) - 1;
				for (; m; m &= m - 1, nv++) {
					e = (unsigned int)__builtin_ctzll(m);
					if (e - last > 10)
						goto out;
					last = e;
				}
				if (nv != (k & 0x3f) || last != rend - 1)
					goto out;
				if (k & PL_LOG) { /* the value string */
					if (rend >= 64 || p[rend] >= 0x80 ||
					    rend + 1 + p[rend] > (size_t)(end - p))
						goto out;
					rend += 1 + p[rend];
				}
				raw[p[i] & 0x3f]++;
				cnt++;
				i = rend;
				if (i <= 55)
					rem = rem >> i << i;
				continue;
			}
			if (!k)
				goto out;
			/*
			 * Drop the type byte's bit (narg <= 2: it has no
			 * continuation bit) and the ends of the values
			 * before the last: 1, 2 or 2 bits for 1, 2, 3 values.
			 */
			DROP_LOW(rem);
			if (k != 1)
				DROP_LOW(rem);
			if (!rem)
				goto out;
			e = (unsigned int)__builtin_ctzll(rem); /* the record's last byte */
			if (e - i > 8)
				goto out;
			DROP_LOW(rem);
			raw[p[i] & 0x3f]++;
			cnt++;
			i = e + 1;
		} while (i <= 55);
		p += i;
		i = 0;
	}
out:
	*n += cnt;
	return p + i;
}

static const uint8_t *skip_plain(const uint8_t *p, const uint8_t *end, const uint8_t *plain,
				 uint64_t *raw, uint64_t *n)
{
	return skip_plain_in(p, end, plain, raw, n);
}

#if defined(__x86_64__) && defined(__GNUC__)
/* The same for CPUs with BMI1, where a bit clear takes one instruction. */
#define V1_BMI 1
__attribute__((target("bmi"))) static const uint8_t *
skip_plain_bmi(const uint8_t *p, const uint8_t *end, const uint8_t *plain, uint64_t *raw,
	       uint64_t *n)
{
	return skip_plain_in(p, end, plain, raw, n);
}
#endif

static int pass1(struct v1_dec *d)
{
	const uint8_t *p = d->data + RT_GOTRACE_HDR_LEN, *end = d->data + d->len;
	int32_t cur = -1;
	struct v1_rec r;
	uint8_t plain[256] = { 0 }; /* by first byte */
	int err;
#ifdef V1_BMI
	bool bmi;

	bmi = gs_cpu_has(GS_CPU_BMI1);
#endif

	/*
	 * The values of a "plain" record need no check beyond their number
	 * (and a UserLog's value string its length): timed, not a CPU
	 * sample, none of the checks below.  By the record's first byte,
	 * plain[] is the number of values when inline and right, PL_LONG |
	 * the number wanted (| PL_LOG) when length-prefixed, else 0.
	 */
	for (unsigned int b = 0; b < 256; b++) {
		unsigned int i = b & 0x3f, narg = (b >> 6) + 1;

		if (i >= EV_COUNT || !descs[i].timed || descs[i].minver > d->ver ||
		    i == EV_CPU_SAMPLE || i == EV_STW_START || i == EV_USER_REGION)
			continue;
		if (narg == 4)
			plain[b] = (uint8_t)(PL_LONG | (i == EV_USER_LOG ? PL_LOG : 0) | d->want[i]);
		else if (narg == d->want[i] && i != EV_USER_LOG)
			plain[b] = (uint8_t)narg;
	}
	while (p < end) {
		if (cur >= 0) {
			uint64_t n = 0;

#ifdef V1_BMI
			if (bmi)
				p = skip_plain_bmi(p, end, plain, d->st->raw, &n);
			else
#endif
				p = skip_plain(p, end, plain, d->st->raw, &n);
			d->batches[cur].nev += (uint32_t)n;
			d->ntimed += n;
			if (p >= end)
				break;
		}
		err = read_rec(d, &p, &r);
		if (err)
			return err;
		d->st->raw[r.type]++;
		if (r.type == EV_STRING) {
			err = add_string(d, &r);
			if (err)
				return err;
			continue;
		}
		if (r.type != EV_STACK && r.nargs != want_args(d, r.type))
			return BAD(d, r.off, "%s has wrong number of arguments: want %zu, got %zu",
				   descs[r.type].name, want_args(d, r.type), r.nargs);
		switch (r.type) {
		case EV_BATCH:
			err = new_batch(d, r.a[0], (int64_t)r.a[1], (size_t)(p - d->data),
					r.off, &cur);
			break;
		case EV_FREQUENCY:
			if ((int64_t)r.a[0] <= 0)
				return BAD(d, r.off,
					   "invalid frequency %" PRId64
					   " (time stamps out of order)",
					   (int64_t)r.a[0]);
			d->freq = (int64_t)r.a[0];
			break;
		case EV_STACK:
			err = add_stack(d, &r);
			break;
		case EV_TIMER_GOROUTINE:
			break;
		default:
			if (r.type == EV_STW_START && d->ver < 1021 && r.nargs > 1 && r.a[1] > 1)
				return BAD(d, r.off, "unknown STW kind %" PRIu64, r.a[1]);
			if (r.type == EV_USER_REGION && r.a[2] > 1)
				return BAD(d, r.off, "invalid user region mode %" PRIu64, r.a[2]);
			if (r.type == EV_CPU_SAMPLE) {
				err = add_sample(d, &r);
				break;
			}
			/* events before any EvBatch belong to P 0 from tick 0, as in Go */
			if (cur < 0)
				err = new_batch(d, 0, 0, r.off, r.off, &cur);
			if (!err) {
				d->batches[cur].nev++;
				d->ntimed++;
			}
			break;
		}
		if (err)
			return err;
	}
	if (!d->ntimed && !d->nsamples)
		return BAD(d, d->len, "trace is empty");
	if (!d->freq)
		return BAD(d, d->len, "no EvFrequency event");
	if (d->nsamples)
		qsort(d->samples, d->nsamples, sizeof(*d->samples), sample_cmp);
	return 0;
}

/* ------------------------------------------------------------ pass 2 */

/*
 * stream_next()'s inline path takes TF_FAST records (timed, not a CPU
 * sample or UserLog, values inline); TF_STACK: the stack id comes last.
 */
enum { TF_FAST = 1, TF_STACK = 2 };

/*
 * Pass 2 reads only records pass 1 has read and checked, from the same
 * boundaries (batch starts are where pass 1 found EvBatch records end), so
 * every varint it reads ends within its record: no bounds checks.  Each
 * record still ends within its batch, which is checked once per record.
 */
static inline uint64_t rd(const uint8_t **pp)
{
	const uint8_t *p = *pp;
	uint64_t v = *p++;

	if (__builtin_expect(v >= 0x80, 0)) {
		unsigned int sh = 7;
		uint8_t b;

		v &= 0x7f;
		do { /* at most 10 bytes: pass 1 saw the end */
			b = *p++;
			v |= (uint64_t)(b & 0x7f) << sh;
			sh += 7;
		} while ((b & 0x80) && sh < 70);
	}
	*pp = p;
	return v;
}

/* Skip the untimed record at p (string, stack, frequency, timer goroutine). */
static const uint8_t *skip_rec(const uint8_t *p)
{
	unsigned int type = *p & 0x3f, narg = (unsigned int)(*p >> 6) + 1;
	uint64_t n;

	p++;
	if (type == EV_STRING) {
		rd(&p);
		n = rd(&p);
		return p + n;
	}
	if (narg < 4) {
		for (unsigned int i = 0; i < narg; i++)
			rd(&p);
		return p;
	}
	n = rd(&p);
	return p + n;
}

#define LIT(s) { s, sizeof(s) - 1 }

struct v1_lit {
	const char *s;
	size_t len;
};

/*
 * The delivered event of the common types, which head_finish() prepares
 * in the stream's out when it decodes them: kind, from, to and str, with
 * g the event's (D_G), the unblocked g (D_UNBLOCK: arg is the unblocker),
 * arg the first argument (D_ARG0), or arg and arg2 the first two (D_ARG01).
 * D_SWITCH (0): deliver_special() does it all at delivery.
 */
enum { D_SWITCH, D_G, D_UNBLOCK, D_ARG0, D_ARG01 };

/* kind, from, to as laid out in struct rt_go_event: copied as one */
struct v1_kft {
	uint32_t kind;
	uint8_t from, to;
	uint16_t pad;
};

_Static_assert(offsetof(struct rt_go_event, from) == offsetof(struct rt_go_event, kind) + 4 &&
	       offsetof(struct rt_go_event, to) == offsetof(struct rt_go_event, kind) + 5 &&
	       offsetof(struct rt_go_event, p) >= offsetof(struct rt_go_event, kind) + 8 &&
	       offsetof(struct rt_go_event, str_len) == offsetof(struct rt_go_event, str) + 8,
	       "struct rt_go_event layout");

static const struct v1_out {
	struct v1_kft kft;
	struct v1_lit str; /* str, str_len */
	uint8_t how;
} outs[EV_COUNT] = {
#define BLK(t) [t] = { { K(BLOCK), ST(RUNNING), ST(WAITING), 0 }, LIT_##t, D_G }
#define LIT_EV_GO_SLEEP LIT("sleep")
#define LIT_EV_GO_BLOCK LIT("unspecified")
#define LIT_EV_GO_BLOCK_SEND LIT("chan send")
#define LIT_EV_GO_BLOCK_RECV LIT("chan receive")
#define LIT_EV_GO_BLOCK_SELECT LIT("select")
#define LIT_EV_GO_BLOCK_SYNC LIT("sync")
#define LIT_EV_GO_BLOCK_COND LIT("sync.(*Cond).Wait")
#define LIT_EV_GO_BLOCK_NET LIT("network")
#define LIT_EV_GO_BLOCK_GC LIT("GC mark assist wait for work")
	BLK(EV_GO_SLEEP), BLK(EV_GO_BLOCK), BLK(EV_GO_BLOCK_SEND), BLK(EV_GO_BLOCK_RECV),
	BLK(EV_GO_BLOCK_SELECT), BLK(EV_GO_BLOCK_SYNC), BLK(EV_GO_BLOCK_COND),
	BLK(EV_GO_BLOCK_NET), BLK(EV_GO_BLOCK_GC),
#undef BLK
	[EV_GO_START] = { { K(START), ST(RUNNABLE), ST(RUNNING), 0 }, { NULL, 0 }, D_G },
	[EV_GO_START_LOCAL] = { { K(START), ST(RUNNABLE), ST(RUNNING), 0 }, { NULL, 0 }, D_G },
	[EV_GO_SCHED] = { { K(STOP), ST(RUNNING), ST(RUNNABLE), 0 }, LIT("runtime.Gosched"), D_G },
	[EV_GO_PREEMPT] = { { K(STOP), ST(RUNNING), ST(RUNNABLE), 0 }, LIT("preempted"), D_G },
	[EV_GO_UNBLOCK] = { { K(UNBLOCK), ST(WAITING), ST(RUNNABLE), 0 }, { NULL, 0 }, D_UNBLOCK },
	[EV_GO_UNBLOCK_LOCAL] = { { K(UNBLOCK), ST(WAITING), ST(RUNNABLE), 0 }, { NULL, 0 }, D_UNBLOCK },
	[EV_PROC_STOP] = { { K(PROC_STOP), 0, 0, 0 }, { NULL, 0 }, D_G },
	[EV_SWEEP_START] = { { K(SWEEP_BEGIN), 0, 0, 0 }, { NULL, 0 }, D_G },
	[EV_MARK_ASSIST_START] = { { K(MARK_ASSIST_BEGIN), 0, 0, 0 }, { NULL, 0 }, D_G },
	[EV_MARK_ASSIST_DONE] = { { K(MARK_ASSIST_END), 0, 0, 0 }, { NULL, 0 }, D_G },
	[EV_GOMAXPROCS] = { { K(PROCS), 0, 0, 0 }, { NULL, 0 }, D_ARG0 },
	[EV_HEAP_ALLOC] = { { K(HEAP_ALLOC), 0, 0, 0 }, { NULL, 0 }, D_ARG0 },
	[EV_HEAP_GOAL] = { { K(HEAP_GOAL), 0, 0, 0 }, { NULL, 0 }, D_ARG0 },
	[EV_SWEEP_DONE] = { { K(SWEEP_END), 0, 0, 0 }, { NULL, 0 }, D_ARG01 },
};

/*
 * s->out for a head of a type outs[] describes (and not D_SWITCH): all but
 * from (for a transition) and ts, which deliver() adds.
 */
static inline __attribute__((always_inline)) void out_set(struct v1_stream *s,
							  const struct v1_out *out, uint64_t g,
							  uint64_t arg, uint64_t stk)
{
	struct rt_go_event *o = &s->out;

	memcpy(&o->kind, &out->kft, sizeof(out->kft)); /* kind, from, to */
	memcpy(&o->str, &out->str, sizeof(out->str)); /* str, str_len */
	o->g = g;
	o->arg = arg;
	o->arg2 = 0;
	o->stack = stk;
}

/*
 * The head's type, time, goroutine and transition (order1007's
 * stateTransition), from its arguments in e->a; s->out for the common types.
 */
static inline __attribute__((always_inline)) void head_finish(struct v1_stream *s,
							       unsigned int type)
{
	struct v1_ev *e = &s->head;
	struct v1_trans *t = &e->tr;
	const uint64_t *a = e->a;

	e->type = (uint8_t)type;
	e->ts = s->ts;
	e->g = s->last_g;
	switch (type) {
	case EV_GO_CREATE:
		t->g = a[0];
		t->iseq = 0, t->ist = G_DEAD;
		SEQ_TO(t, 1);
		t->nst = G_RUNNABLE;
		break;
	case EV_GO_WAITING:
	case EV_GO_INSYSCALL:
		e->g = a[0];
		t->g = a[0];
		t->iseq = 1, t->ist = G_RUNNABLE;
		SEQ_TO(t, 2);
		t->nst = G_WAITING;
		break;
	case EV_GO_START:
		out_set(s, &outs[EV_GO_START], a[0], 0, 0);
		/* fall through */
	case EV_GO_START_LABEL:
		s->last_g = a[0];
		e->g = a[0];
		t->g = a[0];
		t->iseq = a[1], t->ist = G_RUNNABLE;
		SEQ_TO(t, a[1] + 1);
		t->nst = G_RUNNING;
		break;
	case EV_GO_START_LOCAL:
		out_set(s, &outs[EV_GO_START_LOCAL], a[0], 0, 0);
		s->last_g = a[0];
		e->g = a[0];
		t->g = a[0];
		t->iseq = NOSEQ, t->ist = G_RUNNABLE;
		SEQ_TO(t, SEQINC);
		t->nst = G_RUNNING;
		break;
	case EV_GO_BLOCK:
	case EV_GO_BLOCK_SEND:
	case EV_GO_BLOCK_RECV:
	case EV_GO_BLOCK_SELECT:
	case EV_GO_BLOCK_SYNC:
	case EV_GO_BLOCK_COND:
	case EV_GO_BLOCK_NET:
	case EV_GO_SLEEP:
	case EV_GO_SYSBLOCK:
	case EV_GO_BLOCK_GC:
		if (type != EV_GO_SYSBLOCK)
			out_set(s, &outs[type], e->g, 0, e->stk);
		s->last_g = 0;
		t->g = e->g;
		t->iseq = NOSEQ, t->ist = G_RUNNING;
		SEQ_TO(t, NOSEQ);
		t->nst = G_WAITING;
		break;
	case EV_GO_SCHED:
	case EV_GO_PREEMPT:
		out_set(s, &outs[type], e->g, 0, e->stk);
		s->last_g = 0;
		t->g = e->g;
		t->iseq = NOSEQ, t->ist = G_RUNNING;
		SEQ_TO(t, NOSEQ);
		t->nst = G_RUNNABLE;
		break;
	case EV_GO_END:
	case EV_GO_STOP:
		s->last_g = 0;
		t->g = UNORDERED;
		break;
	case EV_GO_UNBLOCK:
		out_set(s, &outs[EV_GO_UNBLOCK], a[0], e->g, e->stk);
		t->g = a[0];
		t->iseq = a[1], t->ist = G_WAITING;
		SEQ_TO(t, a[1] + 1);
		t->nst = G_RUNNABLE;
		break;
	case EV_GO_SYSEXIT:
		e->g = a[0];
		t->g = a[0];
		t->iseq = a[1], t->ist = G_WAITING;
		SEQ_TO(t, a[1] + 1);
		t->nst = G_RUNNABLE;
		break;
	case EV_GO_UNBLOCK_LOCAL:
		out_set(s, &outs[EV_GO_UNBLOCK_LOCAL], a[0], e->g, e->stk);
		t->g = a[0];
		t->iseq = NOSEQ, t->ist = G_WAITING;
		SEQ_TO(t, SEQINC);
		t->nst = G_RUNNABLE;
		break;
	case EV_GO_SYSEXIT_LOCAL:
		e->g = a[0];
		t->g = a[0];
		t->iseq = NOSEQ, t->ist = G_WAITING;
		SEQ_TO(t, SEQINC);
		t->nst = G_RUNNABLE;
		break;
	case EV_GC_START:
		e->g = 0;
		t->g = GARBAGE;
		t->iseq = a[0], t->ist = G_DEAD;
		SEQ_TO(t, a[0] + 1);
		t->nst = G_DEAD;
		break;
	case EV_GC_DONE:
	case EV_STW_START:
	case EV_STW_DONE:
		e->g = 0;
		t->g = UNORDERED;
		break;
	case EV_PROC_STOP:
	case EV_SWEEP_START:
	case EV_MARK_ASSIST_START:
	case EV_MARK_ASSIST_DONE:
		out_set(s, &outs[type], e->g, 0, e->stk);
		t->g = UNORDERED;
		break;
	case EV_GOMAXPROCS:
	case EV_HEAP_ALLOC:
	case EV_HEAP_GOAL:
		out_set(s, &outs[type], e->g, a[0], e->stk);
		t->g = UNORDERED;
		break;
	case EV_SWEEP_DONE:
		out_set(s, &outs[type], e->g, a[0], e->stk);
		s->out.arg2 = a[1];
		t->g = UNORDERED;
		break;
	default: /* no transition */
		t->g = UNORDERED;
		break;
	}
	s->has_head = true;
}

/* stream_next(), any record: batch ends, CPU samples, untimed records... */
static int stream_next_any(struct v1_dec *d, struct v1_stream *s)
{
	struct v1_ev *e = &s->head;

	if (__builtin_expect(s->cpu, 0)) {
		const struct v1_sample *sm;

		if (d->cpu_next >= d->nsamples) {
			s->has_head = false;
			return 0;
		}
		sm = &d->samples[d->cpu_next++];
		e->type = EV_CPU_SAMPLE;
		e->ts = sm->ts;
		e->g = sm->g;
		e->a[0] = sm->p;
		e->stk = sm->stk;
		e->rec = d->data + sm->off;
		e->tr.g = UNORDERED;
		s->has_head = true;
		return 0;
	}
	for (;;) {
		const uint8_t *p = s->pos, *rend;
		unsigned int type, narg, n;
		uint64_t *a = e->a;

		if (__builtin_expect(p >= s->end, 0)) {
			int32_t b = s->cur < 0 ? s->first : d->batches[s->cur].next;

			while (b >= 0 && !d->batches[b].nev)
				b = d->batches[b].next;
			if (b < 0) {
				s->has_head = false;
				return 0;
			}
			s->cur = b;
			s->pos = d->data + d->batches[b].start;
			s->end = d->data + d->batches[b].end;
			s->ts = d->batches[b].ticks;
			continue;
		}
		type = *p & 0x3f;
		narg = (unsigned int)(*p >> 6) + 1;
		if (__builtin_expect(!descs[type].timed, 0)) {
			s->pos = skip_rec(p);
			if (s->pos > s->end)
				return BAD(d, (size_t)(p - d->data), "bad record"); /* pass 1 read it */
			continue;
		}
		e->rec = p;
		p++;
		/* pass 1 checked that the record has want_args() values */
		n = d->want[type];
		rend = NULL;
		if (narg == 4) {
			uint64_t len = rd(&p);

			rend = p + len;
		}
		s->ts = (int64_t)((uint64_t)s->ts + rd(&p));
		/* the arguments, then the stack id when there is one */
		a[0] = a[1] = a[2] = a[3] = 0;
		if (descs[type].stack) {
			n -= 2;
			for (unsigned int i = 0; i < n; i++)
				a[i] = rd(&p);
			e->stk = rd(&p);
		} else {
			n -= 1;
			for (unsigned int i = 0; i < n; i++)
				a[i] = rd(&p);
			e->stk = 0;
		}
		if (rend)
			p = rend;
		e->str = NULL;
		e->str_len = 0;
		if (type == EV_USER_LOG) {
			uint64_t len = rd(&p);

			e->str = p;
			e->str_len = (size_t)len;
			p += len;
		}
		if (__builtin_expect(p > s->end, 0))
			return BAD(d, EV_OFF(d, e), "bad record"); /* pass 1 read it fine */
		s->pos = p;
		if (type == EV_CPU_SAMPLE)
			continue; /* delivered from the sorted sample list */
		head_finish(s, type);
		return 0;
	}
}

/*
 * Decode the next timed event of s into s->head (has_head false at the
 * end), with its transition.  Inline here: a record with its values
 * inline (at most 3) in the current batch.
 */
static inline __attribute__((always_inline)) int stream_next(struct v1_dec *d,
							     struct v1_stream *s)
{
	const uint8_t *p = s->pos;
	struct v1_ev *e = &s->head;
	unsigned int b, f;
	uint64_t x = 0, y = 0;

	if (__builtin_expect(p >= s->end, 0))
		return stream_next_any(d, s);
	b = *p;
	f = d->tflags[b];
	if (__builtin_expect(!(f & TF_FAST), 0))
		return stream_next_any(d, s);
	e->rec = p;
	p++;
	/* b >> 6: the values after the time stamp (pass 1 checked the number) */
	s->ts = (int64_t)((uint64_t)s->ts + rd(&p));
	if (b >= 0x40) {
		x = rd(&p);
		if (b >= 0x80)
			y = rd(&p);
	}
	if (__builtin_expect(p > s->end, 0))
		return BAD(d, EV_OFF(d, e), "bad record"); /* pass 1 read it fine */
	s->pos = p;
	/* the arguments, then the stack id when there is one */
	if (f & TF_STACK) {
		if (b >= 0x80) {
			e->a[0] = x;
			e->stk = y;
		} else {
			e->a[0] = 0;
			e->stk = x;
		}
		e->a[1] = 0;
	} else {
		e->a[0] = x;
		e->a[1] = y;
		e->stk = 0;
	}
	/* a[2], a[3]: read only for types with more values (stream_next_any()) */
	head_finish(s, b & 0x3f);
	return 0;
}

static inline bool trans_ready(const struct v1_trans *t, const struct v1_g *cur)
{
	uint64_t seq = cur ? cur->seq : 0;
	uint8_t status = cur ? cur->status : G_DEAD;

	return t->g == UNORDERED ||
	       ((t->iseq == NOSEQ || t->iseq == seq) && t->ist == status);
}

static inline bool heap_less(const struct v1_dec *d, int32_t a, int32_t b)
{
	int64_t ta = d->streams[a].head.ts, tb = d->streams[b].head.ts;

	return ta < tb || (ta == tb && a < b);
}

static void heap_down(struct v1_dec *d, size_t i)
{
	int32_t *h = d->heap, x = h[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= d->nheap)
			break;
		if (c + 1 < d->nheap && heap_less(d, h[c + 1], h[c]))
			c++;
		if (!heap_less(d, h[c], x))
			break;
		h[i] = h[c];
		i = c;
	}
	h[i] = x;
}

static void heap_push(struct v1_dec *d, int32_t si)
{
	int32_t *h = d->heap;
	size_t i = d->nheap++;

	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (!heap_less(d, si, h[parent]))
			break;
		h[i] = h[parent];
		i = parent;
	}
	h[i] = si;
}

static void heap_pop(struct v1_dec *d)
{
	d->heap[0] = d->heap[--d->nheap];
	if (d->nheap)
		heap_down(d, 0);
}

/* Put stream si, which has a head, in the heap or park it on its goroutine. */
static int place(struct v1_dec *d, int32_t si)
{
	struct v1_stream *s = &d->streams[si];
	const struct v1_trans *t = &s->head.tr;
	struct v1_park *pk;
	struct v1_g *ge;
	int err = 0;

	if (t->g == UNORDERED || trans_ready(t, g_find(&d->gt, t->g))) {
		heap_push(d, si);
		return 0;
	}
	ge = g_get(d, t->g, &err);
	if (!ge)
		return err;
	pk = park_get(&d->pt, t->g, ge->epoch, t->iseq, t->ist);
	if (!pk)
		return gs_errf(-ENOMEM, "%s: out of memory", d->name);
	s->park_next = pk->head;
	pk->head = si;
	ge->nparked++;
	return 0;
}

/*
 * g is now in (seq, status): the streams parked under exactly that, or
 * under (any seq, status), are ready.  Nothing else can have become ready.
 */
static void unpark(struct v1_dec *d, uint64_t g)
{
	struct v1_g *ge = g_find(&d->gt, g);

	for (int pass = 0; ge && ge->nparked && pass < 2; pass++) {
		uint64_t seq = pass ? NOSEQ : ge->seq;
		struct v1_park *pk;
		int32_t si;

		if (pass && ge->seq == NOSEQ)
			break; /* the same list */
		pk = park_find(&d->pt, g, ge->epoch, seq, ge->status);
		if (!pk)
			continue;
		si = pk->head;
		park_del(&d->pt, pk);
		while (si >= 0) {
			int32_t next = d->streams[si].park_next;

			ge->nparked--;
			heap_push(d, si);
			si = next;
		}
	}
}

/* The time of ts in ticks from the trace's first (the .gst's tick). */
static inline int64_t tick_of(const struct v1_dec *d, int64_t ts)
{
	return (int64_t)((uint64_t)ts - (uint64_t)d->min_ts);
}

/* ... in ns (tf_tick_ns(): the .gst reader gets the same from the tick) */
static inline uint64_t to_ns(const struct v1_dec *d, int64_t ts)
{
	return tf_tick_ns(tick_of(d, ts), d->k);
}

static const char *str_of(const struct v1_dec *d, uint64_t id, size_t *len)
{
	int64_t i = id ? map_get(&d->smap, id) : -1;

	if (i < 0) {
		*len = 0;
		return "";
	}
	*len = d->strs[i].len;
	return (const char *)d->data + d->strs[i].off;
}

/* Call sink->stack for id unless done; unknown ids get an empty stack. */
static int ensure_stack(struct v1_dec *d, uint64_t id)
{
	const uint8_t *p, *end = d->data + d->len;
	struct v1_stk *k;
	int64_t i;
	int err;

	if (!id)
		return 0;
	if (id < d->stk_lim && (d->stk_seen[id >> 6] >> (id & 63) & 1))
		return 0;
	i = map_get(&d->kmap, id);
	if (i >= 0 && d->stks[i].emitted)
		return 0;
	if (i < 0) {
		err = grow(d, (void **)&d->stks, &d->cap_stks, sizeof(*d->stks),
			   d->nstks + 1, V1_MAX_STACKS * 2, 0, "stack ids");
		if (err)
			return err;
		i = (int64_t)d->nstks++;
		d->stks[i].off = 0;
		d->stks[i].n = 0;
		if (map_put(&d->kmap, id, (uint32_t)i))
			return gs_errf(-ENOMEM, "%s: out of memory", d->name);
	}
	k = &d->stks[i];
	k->emitted = true;
	if (id < d->stk_lim)
		d->stk_seen[id >> 6] |= (uint64_t)1 << (id & 63);
	if (!d->sink->stack)
		return 0;
	p = d->data + k->off;
	for (uint32_t j = 0; j < k->n; j++) {
		struct rt_go_frame *f = &d->frames[j];
		uint64_t fn, file;

		if (!(p = uvar(p, end, &f->pc)) || !(p = uvar(p, end, &fn)) ||
		    !(p = uvar(p, end, &file)) || !(p = uvar(p, end, &f->line)))
			return BAD(d, k->off, "bad stack frame"); /* checked in pass 1 */
		f->func = str_of(d, fn, &f->func_len);
		f->file = str_of(d, file, &f->file_len);
	}
	return d->sink->stack(d->sink->ctx, id, d->frames, k->n);
}

/* ensure_stack() unless id is 0 or known to be announced */
static inline int need_stack(struct v1_dec *d, uint64_t id)
{
	if (!id || (id < d->stk_lim && (d->stk_seen[id >> 6] >> (id & 63) & 1)))
		return 0;
	return ensure_stack(d, id);
}

static const char *stw_kind(const struct v1_dec *d, uint64_t kind)
{
	if (d->ver < 1021)
		return kind ? "GC sweep termination" : "GC mark termination";
	if (kind < sizeof(stw_reasons) / sizeof(stw_reasons[0]))
		return stw_reasons[kind];
	return "unknown";
}

/*
 * deliver()'s part for the types outs[] does not describe: *o has p, g, m
 * and stack, the rest zero; *ts is the emission time.  0, 1 when the event
 * is not to be delivered, or an error.
 */
static int deliver_special(struct v1_dec *d, struct v1_stream *s, struct v1_g *ge,
			   struct rt_go_event *o, int64_t *ts)
{
	const struct v1_ev *e = &s->head;
	struct v1_g *cg;
	int err;

	switch (e->type) {
	case EV_PROC_START:
		o->kind = K(PROC_START);
		o->m = s->m = s->out.m = e->a[0];
		break;
	case EV_GC_START:
		o->kind = K(GC_BEGIN);
		o->arg = d->gc_seq = e->a[0];
		break;
	case EV_GC_DONE:
		o->kind = K(GC_END);
		o->arg = d->gc_seq;
		break;
	case EV_STW_START:
		o->kind = K(STW_BEGIN);
		d->stw = o->str = stw_kind(d, e->a[0]);
		o->str_len = strlen(o->str);
		break;
	case EV_STW_DONE:
		o->kind = K(STW_END);
		if (d->stw) {
			o->str = d->stw;
			o->str_len = strlen(o->str);
		}
		break;
	case EV_SWEEP_DONE:
		o->kind = K(SWEEP_END);
		o->arg = e->a[0];
		o->arg2 = e->a[1];
		break;
	case EV_GO_CREATE:
		if (e->g) {
			cg = g_find(&d->gt, e->g);
			if (!cg || cg->state != ST(RUNNING))
				return BAD(d, EV_OFF(d, e), "g %" PRIu64 " is not running while GoCreate",
					   e->g);
		}
		o->kind = K(CREATE);
		o->g = e->a[0];
		o->from = ST(DEAD);
		o->to = ST(RUNNABLE);
		o->arg = e->g;
		o->arg2 = e->a[1];
		err = need_stack(d, e->a[1]);
		if (err)
			return err;
		break;
	case EV_GO_START_LABEL:
		o->kind = K(START);
		o->from = ST(RUNNABLE);
		o->to = ST(RUNNING);
		o->str = str_of(d, e->a[2], &o->str_len);
		break;
	case EV_GO_END:
		cg = g_find(&d->gt, e->g);
		if (!e->g || !cg || cg->state != ST(RUNNING))
			return BAD(d, EV_OFF(d, e), "g %" PRIu64 " is not running while GoEnd", e->g);
		o->kind = K(DESTROY);
		o->from = ST(RUNNING);
		o->to = ST(DEAD);
		/*
		 * goids are never reused: forget g.  Streams parked on it
		 * stay parked (Go's g stays "running" for ever; a new g of
		 * the same id has another epoch) and end in "no consistent
		 * ordering".
		 */
		g_del(&d->gt, cg);
		break;
	case EV_GO_STOP:
	case EV_GO_SYSCALL:
		cg = g_find(&d->gt, e->g);
		if (!e->g || !cg || cg->state != ST(RUNNING))
			return BAD(d, EV_OFF(d, e), "g %" PRIu64 " is not running while %s", e->g,
				   descs[e->type].name);
		if (e->type == EV_GO_SYSCALL) {
			o->kind = K(SYSCALL_BEGIN);
			o->from = o->to = ST(RUNNING);
			break;
		}
		cg->state = ST(WAITING); /* GoStop: blocked forever */
		o->kind = K(BLOCK);
		o->str = "forever";
		o->str_len = sizeof("forever") - 1;
		o->from = ST(RUNNING);
		o->to = ST(WAITING);
		break;
	case EV_GO_SYSBLOCK:
		o->kind = K(SYSCALL_BLOCK);
		o->from = ST(RUNNING);
		o->to = ST(SYSCALL);
		if (ge)
			ge->sysblock = *ts;
		break;
	case EV_GO_SYSEXIT:
	case EV_GO_SYSEXIT_LOCAL:
		o->kind = K(SYSCALL_END);
		o->from = ST(SYSCALL);
		o->to = ST(RUNNABLE);
		/*
		 * The real exit time replaces the emission time.  Go 1.19/1.21
		 * read it from the third argument after rewriting
		 * GoSysExitLocal to GoSysExit, where a local exit has none:
		 * local exits keep their emission time there, and here.
		 */
		if (e->type == EV_GO_SYSEXIT && e->a[2]) {
			if (!ge || !ge->sysblock)
				return BAD(d, EV_OFF(d, e), "stray syscall exit of g %" PRIu64, e->g);
			if ((int64_t)e->a[2] < ge->sysblock)
				return BAD(d, EV_OFF(d, e),
					   "time stamps out of order (syscall exit of g %" PRIu64
					   " before its block)", e->g);
			*ts = (int64_t)e->a[2];
		}
		break;
	case EV_GO_WAITING:
	case EV_GO_INSYSCALL:
		o->kind = K(STATUS);
		o->to = e->type == EV_GO_WAITING ? ST(WAITING) : ST(SYSCALL);
		o->arg = s->m;
		if (e->type == EV_GO_INSYSCALL && ge)
			ge->sysblock = *ts;
		break;
	case EV_USER_TASK_CREATE:
		o->kind = K(TASK_BEGIN);
		o->arg = e->a[0];
		o->arg2 = e->a[1];
		o->str = str_of(d, e->a[2], &o->str_len);
		break;
	case EV_USER_TASK_END:
		o->kind = K(TASK_END);
		o->arg = e->a[0];
		break;
	case EV_USER_REGION:
		o->kind = e->a[1] ? K(REGION_END) : K(REGION_BEGIN);
		o->arg = e->a[0];
		o->str = str_of(d, e->a[2], &o->str_len);
		break;
	case EV_USER_LOG:
		o->kind = K(LOG);
		o->arg = e->a[0];
		o->str = str_of(d, e->a[1], &o->str_len);
		o->str2 = e->str_len ? (const char *)e->str : "";
		o->str2_len = e->str_len;
		break;
	case EV_FUTILE_WAKEUP:
		return 1; /* ordered, not delivered (see the file comment) */
	default:
		return BAD(d, EV_OFF(d, e), "unexpected %s", descs[e->type].name);
	}
	return 0;
}

/*
 * Event o to the sink: converted into the block (blk: d->blk.ev is set, a
 * constant where inlined), or one by one.  plain: o is neither a CREATE
 * nor a LOG.
 */
static inline __attribute__((always_inline)) int out(struct v1_dec *d,
						     const struct rt_go_event *o, bool plain,
						     bool blk)
{
	if (!blk)
		return d->ev(d->ev_ctx, o);
	return rt_goblock__add(&d->blk, o, plain);
}

/* The end of deliver(): g's state, the time, the stack, the sink. */
static inline __attribute__((always_inline)) int emit(struct v1_dec *d, struct v1_g *ge,
						      struct rt_go_event *o, unsigned int type,
						      int64_t ts)
{
	int err;

	/*
	 * order1007 (and Go's postProcessTrace) know one "waiting" state:
	 * g may leave a syscall by GoUnblock, or a GoBlock by GoSysExit.
	 * Deliver the state g really was in.  (g 2^64-1 is "unordered" to
	 * order1007, so it has no entry yet.)
	 */
	if (!ge && o->to && type != EV_GO_END && type != EV_GO_STOP && type != EV_GO_SYSCALL &&
	    !(ge = g_get(d, o->g, &err)))
		return err;
	if (ge && o->to) {
		if (o->kind != K(STATUS))
			o->from = ge->state;
		ge->state = o->to;
	}
	o->ts = to_ns(d, ts);
	o->tick = tick_of(d, ts);
	err = need_stack(d, o->stack);
	if (err)
		return err;
	d->st->events++;
	return out(d, o, false, d->blk.ev != NULL);
}

/* deliver() of the types outs[] leaves to deliver_special() */
static int deliver_any(struct v1_dec *d, struct v1_stream *s, struct v1_g *ge)
{
	const struct v1_ev *e = &s->head;
	struct rt_go_event o;
	int64_t ts = e->ts;
	int err;

	/* every field, one by one: an initializer would zero o first */
	o.kind = 0;
	o.from = o.to = 0;
	o.p = (int32_t)s->pid;
	o.g = e->g;
	o.m = s->m;
	o.stack = e->stk;
	o.arg = o.arg2 = 0;
	o.str = o.str2 = NULL;
	o.str_len = o.str2_len = 0;
	err = deliver_special(d, s, ge, &o, &ts);
	if (err)
		return err > 0 ? 0 : err;
	return emit(d, ge, &o, e->type, ts);
}

/*
 * The event at the frontier's head, its transition applied: check, deliver.
 * For the common types, head_finish() has filled in s->out but for from
 * and ts; its other fields stay as they are: p, m (s->m), no str2.
 */
static inline __attribute__((always_inline)) int deliver(struct v1_dec *d, struct v1_stream *s,
							 struct v1_g *ge, bool blk)
{
	const struct v1_ev *e = &s->head;
	struct rt_go_event *o = &s->out;
	int err;

	if (__builtin_expect(outs[e->type].how == D_SWITCH, 0))
		return deliver_any(d, s, ge);
	/* emit(), knowing that none of these is a GoEnd, GoStop or STATUS */
	if (o->to) {
		if (__builtin_expect(!ge, 0)) {
			int gerr; /* (its address is taken) */

			if (!(ge = g_get(d, o->g, &gerr)))
				return gerr;
		}
		o->from = ge->state;
		ge->state = o->to;
	}
	o->ts = to_ns(d, e->ts);
	o->tick = tick_of(d, e->ts);
	err = need_stack(d, o->stack);
	if (err)
		return err;
	d->st->events++;
	return out(d, o, true, blk); /* the types of outs[] */
}

static int deliver_sample(struct v1_dec *d, const struct v1_ev *e)
{
	int32_t p = e->a[0] == UINT64_MAX || e->a[0] > INT32_MAX ? -1 : (int32_t)e->a[0];
	uint64_t m = 0;
	int64_t si;
	int err;

	/* the M the sampled P had at that point of the merged stream */
	if (p >= 0 && (si = map_get(&d->pmap, e->a[0])) >= 0)
		m = d->streams[si].m;
	err = need_stack(d, e->stk);
	if (err)
		return err;
	d->st->cpu_samples++;
	if (!d->sink->cpu_sample)
		return 0;
	err = rt_goblock__flush(&d->blk);
	if (err)
		return err;
	return d->sink->cpu_sample(d->sink->ctx, to_ns(d, e->ts), e->g, p, m, e->stk);
}

/* (ts, stream) of a before b's: the merge order of two ready heads */
static inline bool key_less(const struct v1_dec *d, int32_t a, int64_t ta, int32_t b)
{
	int64_t tb = d->streams[b].head.ts;

	return ta < tb || (ta == tb && a < b);
}

/* Deliver the head of s (not the CPU samples), take its next. */
static inline __attribute__((always_inline)) int deliver_next(struct v1_dec *d,
							      struct v1_stream *s,
							      struct v1_g *ge, bool blk)
{
	int err = deliver(d, s, ge, blk);

	return err ?: stream_next(d, s);
}

/* steps() for the CPU samples' stream at the top: one sample. */
static __attribute__((noinline)) int step_cpu(struct v1_dec *d, int32_t si)
{
	struct v1_stream *s = &d->streams[si];
	int err;

	if (s->head.ts < d->last_ts)
		return BAD(d, EV_OFF(d, &s->head), "time stamps out of order");
	d->last_ts = s->head.ts;
	err = deliver_sample(d, &s->head);
	err = err ?: stream_next(d, s);
	if (err)
		return err;
	if (s->has_head)
		heap_down(d, 0); /* samples are unordered: ready */
	else
		heap_pop(d);
	return 0;
}

/*
 * steps() where streams are parked on g, whose head has just been applied:
 * one step, then wake them.
 */
static __attribute__((noinline)) int step_parked(struct v1_dec *d, int32_t si, struct v1_g *ge,
						 uint64_t g)
{
	struct v1_stream *s = &d->streams[si];
	const struct v1_trans *nt = &s->head.tr;
	int err = deliver_next(d, s, ge, d->blk.ev != NULL);

	if (err)
		return err;
	if (!s->has_head) {
		heap_pop(d);
	} else if (nt->g == UNORDERED || trans_ready(nt, g_find(&d->gt, nt->g))) {
		heap_down(d, 0); /* the new head replaces the old at the top */
	} else {
		heap_pop(d);
		err = place(d, si);
		if (err)
			return err;
	}
	unpark(d, g);
	return 0;
}

/*
 * Deliver the smallest ready head, advance its stream; repeat while that
 * stream's next head is ready and still the smallest (a run: the heap is
 * left alone, and the goroutine looked up for the readiness check is the
 * one the next step needs).  The events and their order are those of
 * stepping through the heap one event at a time.
 */
static inline __attribute__((always_inline)) int steps_in(struct v1_dec *d, bool blk)
{
	int32_t si = d->heap[0];
	struct v1_stream *s = &d->streams[si];
	struct v1_g *ge = NULL;
	int64_t lim_ts = INT64_MAX;
	int32_t lim_si = INT32_MAX;
	int err = 0;

	if (s->head.tr.g != UNORDERED) {
		ge = g_find(&d->gt, s->head.tr.g);
		if (!trans_ready(&s->head.tr, ge)) {
			/* another stream moved g on since this head was queued */
			heap_pop(d);
			return place(d, si);
		}
	}
	if (!d->have_min) {
		d->have_min = true;
		d->min_ts = d->last_ts = s->head.ts;
	}
	if (__builtin_expect(s->cpu, 0))
		return step_cpu(d, si);
	/* the smallest other head, which the run's heads must stay below */
	if (d->nheap > 1) {
		lim_si = d->heap[1];
		if (d->nheap > 2 && key_less(d, d->heap[2], d->streams[d->heap[2]].head.ts, lim_si))
			lim_si = d->heap[2];
		lim_ts = d->streams[lim_si].head.ts;
	}
	for (;;) {
		/* the head's; deliver_next() puts the next head in its place */
		const struct v1_trans *t = &s->head.tr;
		uint64_t tg = t->g;

		if (s->head.ts < d->last_ts)
			return BAD(d, EV_OFF(d, &s->head), "time stamps out of order");
		d->last_ts = s->head.ts;
		if (tg != UNORDERED) {
			int gerr; /* (its address is taken) */

			if (!ge && !(ge = g_get(d, tg, &gerr)))
				return gerr;
			ge->seq = (ge->seq & t->nmask) + t->nadd;
			ge->status = t->nst;
			if (__builtin_expect(ge->nparked != 0, 0))
				return step_parked(d, si, ge, tg);
		}
		err = deliver_next(d, s, ge, blk);
		if (err)
			return err;
		if (!s->has_head) {
			heap_pop(d);
			return 0;
		}
		ge = NULL;
		if (t->g != UNORDERED) {
			ge = g_find(&d->gt, t->g);
			if (!trans_ready(t, ge)) {
				heap_pop(d);
				return place(d, si);
			}
		}
		if (s->head.ts > lim_ts || (s->head.ts == lim_ts && si > lim_si)) {
			int32_t other = lim_si;

			if (d->nheap != 2) {
				heap_down(d, 0); /* the new head replaces the old at the top */
				return 0;
			}
			/*
			 * Two streams (two Ps ping-ponging: runs are short): the
			 * other one's run, as the next steps() would start it
			 * after heap_down()'s swap, without leaving the loop.
			 */
			d->heap[0] = other;
			d->heap[1] = si;
			lim_ts = s->head.ts;
			lim_si = si;
			si = other;
			s = &d->streams[si];
			if (s->cpu)
				return 0; /* step_cpu(), from the next steps() */
			ge = NULL;
			if (s->head.tr.g != UNORDERED) {
				ge = g_find(&d->gt, s->head.tr.g);
				if (!trans_ready(&s->head.tr, ge)) {
					heap_pop(d);
					return place(d, si);
				}
			}
		}
	}
}

/* steps() with the sink's mode a constant: block or event by event */
static int steps_blk(struct v1_dec *d)
{
	return steps_in(d, true);
}

static int steps_ev(struct v1_dec *d)
{
	return steps_in(d, false);
}

static int pass2(struct v1_dec *d)
{
	size_t n, i;
	int err;

	/* the CPU samples are one more stream (Go's ProfileP) */
	err = grow(d, (void **)&d->streams, &d->cap_streams, sizeof(*d->streams),
		   d->nstreams + 1, V1_MAX_PS + 1, 0, "Ps");
	if (err)
		return err;
	memset(&d->streams[d->nstreams], 0, sizeof(*d->streams));
	d->streams[d->nstreams].cpu = true;
	d->streams[d->nstreams].pid = UINT64_MAX;
	d->streams[d->nstreams].first = -1;
	n = d->nstreams + 1;
	d->heap = gs_malloc(n * sizeof(*d->heap));
	d->frames = gs_malloc(V1_MAX_FRAMES * sizeof(*d->frames));
	if (!d->heap || !d->frames)
		return gs_errf(-ENOMEM, "%s: out of memory", d->name);
	d->k = 1e9 / (double)d->freq;
	/* stack ids are dense from 1: a bitmap spares a lookup per event */
	if (d->stk_max / 64 < d->nstks + 1024) {
		d->stk_seen = gs_calloc((size_t)(d->stk_max / 64 + 1), sizeof(uint64_t));
		if (d->stk_seen) {
			d->stk_lim = d->stk_max + 1;
			d->stk_seen[0] = 1; /* id 0: no stack, nothing to announce */
		}
	}
	if (d->sink->generation) {
		err = d->sink->generation(d->sink->ctx, 1);
		if (err)
			return err;
	}
	if (d->sink->clock) {
		err = d->sink->clock(d->sink->ctx, d->k);
		if (err)
			return err;
	}
	for (i = 0; i < n; i++) {
		struct v1_stream *s = &d->streams[i];

		s->cur = -1;
		s->park_next = -1;
		memset(&s->out, 0, sizeof(s->out));
		s->out.p = (int32_t)s->pid;
		s->out.m = s->m;
		err = stream_next(d, s);
		if (!err && s->has_head)
			err = place(d, (int32_t)i);
		if (err)
			return err;
	}
	while (d->nheap) {
		err = d->blk.ev ? steps_blk(d) : steps_ev(d);
		if (err)
			return err;
	}
	err = rt_goblock__flush(&d->blk);
	if (err)
		return err;
	for (i = 0; i < n; i++) {
		if (d->streams[i].has_head)
			return BAD(d, EV_OFF(d, &d->streams[i].head),
				   "no consistent ordering of events possible (%s of P %" PRId64
				   " cannot proceed)",
				   descs[d->streams[i].head.type].name, (int64_t)d->streams[i].pid);
	}
	return 0;
}

static void release(struct v1_dec *d)
{
	rt_goblock__release(&d->blk);
	gs_free(d->batches);
	gs_free(d->streams);
	map_release(&d->pmap);
	gs_free(d->strs);
	map_release(&d->smap);
	gs_free(d->stks);
	map_release(&d->kmap);
	gs_free(d->samples);
	gs_free(d->gt.t);
	gs_free(d->gt.di);
	gs_free(d->gt.pool);
	gs_free(d->pt.t);
	gs_free(d->heap);
	gs_free(d->frames);
	gs_free(d->stk_seen);
}

static int no_event(void *ctx, const struct rt_go_event *e)
{
	return 0;
}

int rt_gotrace_v1__decode(const uint8_t *data, size_t len, const char *name,
			  const struct rt_go_sink *sink, struct rt_gotrace_stats *st)
{
	static const struct rt_go_sink no_sink;
	struct rt_gotrace_stats local;
	struct v1_dec d;
	const char *why;
	int err;

	memset(&d, 0, sizeof(d));
	d.name = name ? name : "go trace";
	d.sink = sink ? sink : &no_sink;
	d.ev = d.sink->event ? d.sink->event : no_event;
	d.ev_ctx = d.sink->ctx;
	d.st = st ? st : &local;
	memset(d.st, 0, sizeof(*d.st));
	err = rt_gotrace__parse_header(data, len, &d.ver, &why);
	if (err)
		return gs_errf(err, "%s: offset 0: %s", d.name, why);
	d.st->version = d.ver;
	switch (d.ver) {
	case 1009: case 1010: case 1011: case 1019: case 1021:
		break;
	default:
		return gs_errf(-GS_E_VERSION, "%s: offset 0: unsupported Go trace version go %d.%d",
			       d.name, d.ver / 1000, d.ver % 1000);
	}
	d.data = data;
	d.len = len;
	for (unsigned int i = 0; i < EV_COUNT; i++)
		d.want[i] = (uint8_t)want_args(&d, i);
	for (unsigned int b = 0; b < 0xc0; b++) { /* values inline */
		unsigned int i = b & 0x3f;

		if (i < EV_COUNT)
			d.tflags[b] = (descs[i].stack ? TF_STACK : 0) |
				      (descs[i].timed && i != EV_CPU_SAMPLE && i != EV_USER_LOG ?
				       TF_FAST : 0);
	}
	if (rt_goblock__init(&d.blk, d.sink))
		return gs_errf(-ENOMEM, "%s: out of memory", d.name);
	err = pass1(&d);
	if (!err) {
		d.st->freq = (uint64_t)d.freq;
		err = pass2(&d);
	}
	if (!err)
		d.st->bytes = len;
	release(&d);
	return err;
}
