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
 * samples (stable-sorted by their absolute timestamp).
 *
 * Pass 2 decodes each P's stream lazily, one event of look-ahead per P, and
 * merges the streams like order1007: an event is ready when its
 * goroutine's (seq, status) precondition holds; among the ready heads the
 * smallest timestamp wins.  Ready heads sit in a binary heap; a head that
 * is not ready is parked under its exact precondition (goroutine, status,
 * seq or any seq), so that a transition wakes exactly the heads it makes
 * ready: the merge costs O(log Ps) per event whatever the input (Go's
 * frontier scan is O(Ps)).  Per-goroutine state lives in an
 * open-addressing hash and is dropped at GoEnd (goids are never reused).
 * Memory is O(Ps + live goroutines + strings + stacks + CPU samples); no
 * event is kept after it has been delivered.
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
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/gs_err.h"
#include "base/gs_mem.h"
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

/* order1007's stateTransition: g (or UNORDERED), precondition, result. */
struct v1_trans {
	uint64_t g, iseq, nseq;
	uint8_t ist, nst;
};

/* One event of look-ahead. */
struct v1_ev {
	struct v1_trans tr;
	int64_t ts;         /* ticks */
	uint64_t g;         /* Go's Event.G */
	uint64_t a[4];      /* arguments after the timestamp, stack excluded */
	uint64_t stk;
	const uint8_t *str; /* UserLog value */
	size_t str_len;
	size_t off;
	uint8_t type;
};

struct v1_stream {
	uint64_t pid;
	int32_t first, last, cur; /* batches */
	const uint8_t *pos, *end;
	int64_t ts;               /* last timestamp in the current batch */
	uint64_t last_g, m;
	struct v1_ev head;
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
	struct v1_g *t;
	size_t mask, n;
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
	const struct rt_go_sink *sink;
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
	uint64_t *stk_seen;  /* bitmap of announced ids <= stk_max, if dense */
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

/* goroutine table: linear probing, backward-shift deletion */

static struct v1_g *g_find(const struct v1_gtab *t, uint64_t id)
{
	size_t i;

	if (!t->t)
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

/* Find id or add it as (seq 0, dead); NULL on -ENOMEM or over the limit. */
static struct v1_g *g_get(struct v1_dec *d, uint64_t id, int *err)
{
	struct v1_gtab *t = &d->gt;
	struct v1_g *e = g_find(t, id);
	size_t i;

	if (e)
		return e;
	if (t->n >= V1_MAX_GS) {
		*err = v1_err(d, -GS_E_LIMIT, 0, "more than %u live goroutines", V1_MAX_GS);
		return NULL;
	}
	if (!t->t || (t->n + 1) * 2 > t->mask + 1) {
		if (g_rehash(t, t->t ? (t->mask + 1) * 2 : 1024)) {
			*err = gs_errf(-ENOMEM, "%s: out of memory", d->name);
			return NULL;
		}
	}
	for (i = hash64(id) & t->mask; t->t[i].used; i = (i + 1) & t->mask)
		;
	e = &t->t[i];
	memset(e, 0, sizeof(*e));
	e->id = id;
	e->used = true;
	e->epoch = ++d->epochs;
	e->status = G_DEAD;
	e->state = ST(DEAD);
	t->n++;
	return e;
}

static void g_del(struct v1_gtab *t, struct v1_g *e)
{
	size_t i = (size_t)(e - t->t), j = i;

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

static int pass1(struct v1_dec *d)
{
	const uint8_t *p = d->data + RT_GOTRACE_HDR_LEN, *end = d->data + d->len;
	int32_t cur = -1;
	struct v1_rec r;
	int err;

	while (p < end) {
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

static void transition_of(const struct v1_ev *e, struct v1_trans *t);

/*
 * Pass 2's reader: the record at *pp, which pass 1 has validated, is read
 * within [*pp, end); strings and stacks are skipped whole.  Still bounded:
 * NULL if the record does not fit.
 */
static const uint8_t *lean_rec(const uint8_t *p, const uint8_t *end, struct v1_rec *r)
{
	unsigned int narg = (unsigned int)(*p >> 6) + 1;
	uint64_t v;

	r->type = *p & 0x3f;
	r->nargs = 0;
	r->str = NULL;
	r->str_len = 0;
	p++;
	if (r->type == EV_STRING) {
		uint64_t n;

		if (!(p = uvar(p, end, &v)) || !(p = uvar(p, end, &n)) || n > (uint64_t)(end - p))
			return NULL;
		return p + n;
	}
	if (narg < 4) {
		for (unsigned int i = 0; i < narg; i++)
			if (!(p = uvar(p, end, &r->a[i])))
				return NULL;
		r->nargs = narg;
	} else {
		const uint8_t *rend;

		if (!(p = uvar(p, end, &v)) || v > (uint64_t)(end - p))
			return NULL;
		rend = p + v;
		if (r->type == EV_STACK)
			return rend;
		while (p < rend && r->nargs < V1_NARG_KEEP)
			if (!(p = uvar(p, rend, &r->a[r->nargs++])))
				return NULL;
		if (p != rend)
			return NULL;
	}
	if (r->type == EV_USER_LOG) {
		if (!(p = uvar(p, end, &v)) || v > (uint64_t)(end - p))
			return NULL;
		r->str = p;
		r->str_len = v;
		p += v;
	}
	return p;
}

/* Decode the next timed event of s into s->head (has_head false at the end). */
static int stream_next(struct v1_dec *d, struct v1_stream *s)
{
	struct v1_ev *e = &s->head;
	struct v1_rec r;

	if (s->cpu) {
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
		e->off = sm->off;
		e->tr.g = UNORDERED;
		s->has_head = true;
		return 0;
	}
	for (;;) {
		const struct v1_desc *ds;
		size_t na;

		if (s->pos >= s->end) {
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
		r.off = (size_t)(s->pos - d->data);
		s->pos = lean_rec(s->pos, s->end, &r);
		if (!s->pos)
			return BAD(d, r.off, "bad record"); /* pass 1 read it fine */
		ds = &descs[r.type];
		if (!ds->timed)
			continue; /* strings, stacks, frequency: read in pass 1 */
		if (r.nargs > V1_NARG_KEEP || r.nargs != want_args(d, r.type))
			return BAD(d, r.off, "%s has wrong number of arguments", ds->name);
		s->ts = (int64_t)((uint64_t)s->ts + r.a[0]);
		if (r.type == EV_CPU_SAMPLE)
			continue; /* delivered from the sorted sample list */
		e->type = (uint8_t)r.type;
		e->ts = s->ts;
		e->off = r.off;
		e->g = s->last_g;
		na = r.nargs - 1;
		if (ds->stack) {
			e->stk = r.a[na];
			na--;
		} else {
			e->stk = 0;
		}
		e->a[0] = e->a[1] = e->a[2] = e->a[3] = 0;
		for (size_t i = 0; i < na && i < 4; i++)
			e->a[i] = r.a[1 + i];
		e->str = r.str;
		e->str_len = (size_t)r.str_len;
		switch (r.type) {
		case EV_GO_START:
		case EV_GO_START_LOCAL:
		case EV_GO_START_LABEL:
			s->last_g = e->a[0];
			e->g = e->a[0];
			break;
		case EV_GC_START:
		case EV_GC_DONE:
		case EV_STW_START:
		case EV_STW_DONE:
			e->g = 0;
			break;
		case EV_GO_END:
		case EV_GO_STOP:
		case EV_GO_SCHED:
		case EV_GO_PREEMPT:
		case EV_GO_SLEEP:
		case EV_GO_BLOCK:
		case EV_GO_BLOCK_SEND:
		case EV_GO_BLOCK_RECV:
		case EV_GO_BLOCK_SELECT:
		case EV_GO_BLOCK_SYNC:
		case EV_GO_BLOCK_COND:
		case EV_GO_BLOCK_NET:
		case EV_GO_SYSBLOCK:
		case EV_GO_BLOCK_GC:
			s->last_g = 0;
			break;
		case EV_GO_SYSEXIT:
		case EV_GO_SYSEXIT_LOCAL:
		case EV_GO_WAITING:
		case EV_GO_INSYSCALL:
			e->g = e->a[0];
			break;
		}
		transition_of(e, &e->tr);
		s->has_head = true;
		return 0;
	}
}

static void transition_of(const struct v1_ev *e, struct v1_trans *t)
{
	t->g = UNORDERED;
	switch (e->type) {
	case EV_GO_CREATE:
		t->g = e->a[0];
		t->iseq = 0, t->ist = G_DEAD;
		t->nseq = 1, t->nst = G_RUNNABLE;
		break;
	case EV_GO_WAITING:
	case EV_GO_INSYSCALL:
		t->g = e->g;
		t->iseq = 1, t->ist = G_RUNNABLE;
		t->nseq = 2, t->nst = G_WAITING;
		break;
	case EV_GO_START:
	case EV_GO_START_LABEL:
		t->g = e->g;
		t->iseq = e->a[1], t->ist = G_RUNNABLE;
		t->nseq = e->a[1] + 1, t->nst = G_RUNNING;
		break;
	case EV_GO_START_LOCAL:
		t->g = e->g;
		t->iseq = NOSEQ, t->ist = G_RUNNABLE;
		t->nseq = SEQINC, t->nst = G_RUNNING;
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
		t->g = e->g;
		t->iseq = NOSEQ, t->ist = G_RUNNING;
		t->nseq = NOSEQ, t->nst = G_WAITING;
		break;
	case EV_GO_SCHED:
	case EV_GO_PREEMPT:
		t->g = e->g;
		t->iseq = NOSEQ, t->ist = G_RUNNING;
		t->nseq = NOSEQ, t->nst = G_RUNNABLE;
		break;
	case EV_GO_UNBLOCK:
	case EV_GO_SYSEXIT:
		t->g = e->a[0];
		t->iseq = e->a[1], t->ist = G_WAITING;
		t->nseq = e->a[1] + 1, t->nst = G_RUNNABLE;
		break;
	case EV_GO_UNBLOCK_LOCAL:
	case EV_GO_SYSEXIT_LOCAL:
		t->g = e->a[0];
		t->iseq = NOSEQ, t->ist = G_WAITING;
		t->nseq = SEQINC, t->nst = G_RUNNABLE;
		break;
	case EV_GC_START:
		t->g = GARBAGE;
		t->iseq = e->a[0], t->ist = G_DEAD;
		t->nseq = e->a[0] + 1, t->nst = G_DEAD;
		break;
	}
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

static uint64_t to_ns(const struct v1_dec *d, int64_t ts)
{
	int64_t dt = (int64_t)((uint64_t)ts - (uint64_t)d->min_ts);
	double v = (double)dt * d->k;

	if (v >= 9223372036854775807.0)
		return (uint64_t)INT64_MAX;
	if (v < -9223372036854775807.0)
		return (uint64_t)INT64_MIN;
	return (uint64_t)(int64_t)v;
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
	if (d->stk_seen && id <= d->stk_max && (d->stk_seen[id >> 6] >> (id & 63) & 1))
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
	if (d->stk_seen && id <= d->stk_max)
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

static const char *block_reason(unsigned int type)
{
	switch (type) {
	case EV_GO_STOP: return "forever";
	case EV_GO_SLEEP: return "sleep";
	case EV_GO_BLOCK: return "unspecified";
	case EV_GO_BLOCK_SEND: return "chan send";
	case EV_GO_BLOCK_RECV: return "chan receive";
	case EV_GO_BLOCK_SELECT: return "select";
	case EV_GO_BLOCK_SYNC: return "sync";
	case EV_GO_BLOCK_COND: return "sync.(*Cond).Wait";
	case EV_GO_BLOCK_NET: return "network";
	case EV_GO_BLOCK_GC: return "GC mark assist wait for work";
	}
	return "unspecified";
}

static const char *stw_kind(const struct v1_dec *d, uint64_t kind)
{
	if (d->ver < 1021)
		return kind ? "GC sweep termination" : "GC mark termination";
	if (kind < sizeof(stw_reasons) / sizeof(stw_reasons[0]))
		return stw_reasons[kind];
	return "unknown";
}

/* The event at the frontier's head, its transition applied: check, deliver. */
static int deliver(struct v1_dec *d, struct v1_stream *s, struct v1_g *ge)
{
	const struct v1_ev *e = &s->head;
	struct rt_go_event o = {
		.p = (int32_t)s->pid, .g = e->g, .m = s->m, .stack = e->stk,
	};
	int64_t ts = e->ts;
	struct v1_g *cg;
	int err;

	switch (e->type) {
	case EV_GOMAXPROCS:
		o.kind = K(PROCS);
		o.arg = e->a[0];
		break;
	case EV_PROC_START:
		o.kind = K(PROC_START);
		o.m = s->m = e->a[0];
		break;
	case EV_PROC_STOP:
		o.kind = K(PROC_STOP);
		break;
	case EV_GC_START:
		o.kind = K(GC_BEGIN);
		o.arg = d->gc_seq = e->a[0];
		break;
	case EV_GC_DONE:
		o.kind = K(GC_END);
		o.arg = d->gc_seq;
		break;
	case EV_STW_START:
		o.kind = K(STW_BEGIN);
		d->stw = o.str = stw_kind(d, e->a[0]);
		o.str_len = strlen(o.str);
		break;
	case EV_STW_DONE:
		o.kind = K(STW_END);
		if (d->stw) {
			o.str = d->stw;
			o.str_len = strlen(o.str);
		}
		break;
	case EV_SWEEP_START:
		o.kind = K(SWEEP_BEGIN);
		break;
	case EV_SWEEP_DONE:
		o.kind = K(SWEEP_END);
		o.arg = e->a[0];
		o.arg2 = e->a[1];
		break;
	case EV_GO_CREATE:
		if (e->g) {
			cg = g_find(&d->gt, e->g);
			if (!cg || cg->state != ST(RUNNING))
				return BAD(d, e->off, "g %" PRIu64 " is not running while GoCreate",
					   e->g);
		}
		o.kind = K(CREATE);
		o.g = e->a[0];
		o.from = ST(DEAD);
		o.to = ST(RUNNABLE);
		o.arg = e->g;
		o.arg2 = e->a[1];
		err = ensure_stack(d, e->a[1]);
		if (err)
			return err;
		break;
	case EV_GO_START:
	case EV_GO_START_LOCAL:
	case EV_GO_START_LABEL:
		o.kind = K(START);
		o.from = ST(RUNNABLE);
		o.to = ST(RUNNING);
		if (e->type == EV_GO_START_LABEL)
			o.str = str_of(d, e->a[2], &o.str_len);
		break;
	case EV_GO_END:
		cg = g_find(&d->gt, e->g);
		if (!e->g || !cg || cg->state != ST(RUNNING))
			return BAD(d, e->off, "g %" PRIu64 " is not running while GoEnd", e->g);
		o.kind = K(DESTROY);
		o.from = ST(RUNNING);
		o.to = ST(DEAD);
		/*
		 * goids are never reused: forget g.  Streams parked on it
		 * stay parked (Go's g stays "running" for ever; a new g of
		 * the same id has another epoch) and end in "no consistent
		 * ordering".
		 */
		g_del(&d->gt, cg);
		break;
	case EV_GO_SCHED:
	case EV_GO_PREEMPT:
		o.kind = K(STOP);
		o.str = e->type == EV_GO_SCHED ? "runtime.Gosched" : "preempted";
		o.str_len = strlen(o.str);
		o.from = ST(RUNNING);
		o.to = ST(RUNNABLE);
		break;
	case EV_GO_STOP:
	case EV_GO_SYSCALL:
		cg = g_find(&d->gt, e->g);
		if (!e->g || !cg || cg->state != ST(RUNNING))
			return BAD(d, e->off, "g %" PRIu64 " is not running while %s", e->g,
				   descs[e->type].name);
		if (e->type == EV_GO_SYSCALL) {
			o.kind = K(SYSCALL_BEGIN);
			o.from = o.to = ST(RUNNING);
			break;
		}
		cg->state = ST(WAITING); /* GoStop: blocked forever */
		/* fall through */
	case EV_GO_SLEEP:
	case EV_GO_BLOCK:
	case EV_GO_BLOCK_SEND:
	case EV_GO_BLOCK_RECV:
	case EV_GO_BLOCK_SELECT:
	case EV_GO_BLOCK_SYNC:
	case EV_GO_BLOCK_COND:
	case EV_GO_BLOCK_NET:
	case EV_GO_BLOCK_GC:
		o.kind = K(BLOCK);
		o.str = block_reason(e->type);
		o.str_len = strlen(o.str);
		o.from = ST(RUNNING);
		o.to = ST(WAITING);
		break;
	case EV_GO_UNBLOCK:
	case EV_GO_UNBLOCK_LOCAL:
		o.kind = K(UNBLOCK);
		o.g = e->a[0];
		o.arg = e->g;
		o.from = ST(WAITING);
		o.to = ST(RUNNABLE);
		break;
	case EV_GO_SYSBLOCK:
		o.kind = K(SYSCALL_BLOCK);
		o.from = ST(RUNNING);
		o.to = ST(SYSCALL);
		if (ge)
			ge->sysblock = ts;
		break;
	case EV_GO_SYSEXIT:
	case EV_GO_SYSEXIT_LOCAL:
		o.kind = K(SYSCALL_END);
		o.from = ST(SYSCALL);
		o.to = ST(RUNNABLE);
		/*
		 * The real exit time replaces the emission time.  Go 1.19/1.21
		 * read it from the third argument after rewriting
		 * GoSysExitLocal to GoSysExit, where a local exit has none:
		 * local exits keep their emission time there, and here.
		 */
		if (e->type == EV_GO_SYSEXIT && e->a[2]) {
			if (!ge || !ge->sysblock)
				return BAD(d, e->off, "stray syscall exit of g %" PRIu64, e->g);
			if ((int64_t)e->a[2] < ge->sysblock)
				return BAD(d, e->off,
					   "time stamps out of order (syscall exit of g %" PRIu64
					   " before its block)", e->g);
			ts = (int64_t)e->a[2];
		}
		break;
	case EV_GO_WAITING:
	case EV_GO_INSYSCALL:
		o.kind = K(STATUS);
		o.to = e->type == EV_GO_WAITING ? ST(WAITING) : ST(SYSCALL);
		o.arg = s->m;
		if (e->type == EV_GO_INSYSCALL && ge)
			ge->sysblock = ts;
		break;
	case EV_HEAP_ALLOC:
		o.kind = K(HEAP_ALLOC);
		o.arg = e->a[0];
		break;
	case EV_HEAP_GOAL:
		o.kind = K(HEAP_GOAL);
		o.arg = e->a[0];
		break;
	case EV_MARK_ASSIST_START:
		o.kind = K(MARK_ASSIST_BEGIN);
		break;
	case EV_MARK_ASSIST_DONE:
		o.kind = K(MARK_ASSIST_END);
		break;
	case EV_USER_TASK_CREATE:
		o.kind = K(TASK_BEGIN);
		o.arg = e->a[0];
		o.arg2 = e->a[1];
		o.str = str_of(d, e->a[2], &o.str_len);
		break;
	case EV_USER_TASK_END:
		o.kind = K(TASK_END);
		o.arg = e->a[0];
		break;
	case EV_USER_REGION:
		o.kind = e->a[1] ? K(REGION_END) : K(REGION_BEGIN);
		o.arg = e->a[0];
		o.str = str_of(d, e->a[2], &o.str_len);
		break;
	case EV_USER_LOG:
		o.kind = K(LOG);
		o.arg = e->a[0];
		o.str = str_of(d, e->a[1], &o.str_len);
		o.str2 = e->str_len ? (const char *)e->str : "";
		o.str2_len = e->str_len;
		break;
	case EV_FUTILE_WAKEUP:
		return 0; /* ordered, not delivered (see the file comment) */
	default:
		return BAD(d, e->off, "unexpected %s", descs[e->type].name);
	}
	/*
	 * order1007 (and Go's postProcessTrace) know one "waiting" state:
	 * g may leave a syscall by GoUnblock, or a GoBlock by GoSysExit.
	 * Deliver the state g really was in.  (g 2^64-1 is "unordered" to
	 * order1007, so it has no entry yet.)
	 */
	if (!ge && o.to && e->type != EV_GO_END && e->type != EV_GO_STOP &&
	    e->type != EV_GO_SYSCALL && !(ge = g_get(d, o.g, &err)))
		return err;
	if (ge && o.to) {
		if (o.kind != K(STATUS))
			o.from = ge->state;
		ge->state = o.to;
	}
	o.ts = to_ns(d, ts);
	err = ensure_stack(d, o.stack);
	if (err)
		return err;
	d->st->events++;
	return d->sink->event ? d->sink->event(d->sink->ctx, &o) : 0;
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
	err = ensure_stack(d, e->stk);
	if (err)
		return err;
	d->st->cpu_samples++;
	if (!d->sink->cpu_sample)
		return 0;
	return d->sink->cpu_sample(d->sink->ctx, to_ns(d, e->ts), e->g, p, m, e->stk);
}

/* One step: deliver the smallest ready head, advance its stream. */
static int step(struct v1_dec *d)
{
	int32_t si = d->heap[0];
	uint32_t parked = 0;
	struct v1_stream *s = &d->streams[si];
	const struct v1_trans t = s->head.tr;
	struct v1_g *ge = NULL;
	int err = 0;

	if (t.g != UNORDERED) {
		ge = g_find(&d->gt, t.g);
		if (!trans_ready(&t, ge)) {
			/* another stream moved g on since this head was queued */
			heap_pop(d);
			return place(d, si);
		}
	}
	if (d->have_min && s->head.ts < d->last_ts)
		return BAD(d, s->head.off, "time stamps out of order");
	if (!d->have_min) {
		d->have_min = true;
		d->min_ts = s->head.ts;
	}
	d->last_ts = s->head.ts;
	if (t.g != UNORDERED) {
		if (!ge && !(ge = g_get(d, t.g, &err)))
			return err;
		ge->seq = t.nseq == NOSEQ ? ge->seq : t.nseq == SEQINC ? ge->seq + 1 : t.nseq;
		ge->status = t.nst;
		parked = ge->nparked;
	}
	err = s->cpu ? deliver_sample(d, &s->head) : deliver(d, s, ge);
	if (err)
		return err;
	err = stream_next(d, s);
	if (err)
		return err;
	if (s->has_head) {
		const struct v1_trans *nt = &s->head.tr;

		if (nt->g == UNORDERED || trans_ready(nt, g_find(&d->gt, nt->g))) {
			heap_down(d, 0); /* the new head replaces the old at the top */
		} else {
			heap_pop(d);
			err = place(d, si);
		}
	} else {
		heap_pop(d);
	}
	if (!err && parked)
		unpark(d, t.g);
	return err;
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
	if (d->stk_max / 64 < d->nstks + 1024)
		d->stk_seen = gs_calloc((size_t)(d->stk_max / 64 + 1), sizeof(uint64_t));
	if (d->sink->generation) {
		err = d->sink->generation(d->sink->ctx, 1);
		if (err)
			return err;
	}
	for (i = 0; i < n; i++) {
		struct v1_stream *s = &d->streams[i];

		s->cur = -1;
		s->park_next = -1;
		err = stream_next(d, s);
		if (!err && s->has_head)
			err = place(d, (int32_t)i);
		if (err)
			return err;
	}
	while (d->nheap) {
		err = step(d);
		if (err)
			return err;
	}
	for (i = 0; i < n; i++) {
		if (d->streams[i].has_head)
			return BAD(d, d->streams[i].head.off,
				   "no consistent ordering of events possible (%s of P %" PRId64
				   " cannot proceed)",
				   descs[d->streams[i].head.type].name, (int64_t)d->streams[i].pid);
	}
	return 0;
}

static void release(struct v1_dec *d)
{
	gs_free(d->batches);
	gs_free(d->streams);
	map_release(&d->pmap);
	gs_free(d->strs);
	map_release(&d->smap);
	gs_free(d->stks);
	map_release(&d->kmap);
	gs_free(d->samples);
	gs_free(d->gt.t);
	gs_free(d->pt.t);
	gs_free(d->heap);
	gs_free(d->frames);
	gs_free(d->stk_seen);
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
