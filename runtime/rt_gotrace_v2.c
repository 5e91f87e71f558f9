// SPDX-License-Identifier: BSD-2-Clause
/*
 * Decoder for the generational ("v2") Go execution trace format, headers
 * "go 1.22", "go 1.23" (also written by 1.24), "go 1.25" and "go 1.26".
 *
 * The input is a sequence of generations; each is a set of batches: event
 * batches of one thread (M) each, plus string table, stack table, CPU
 * sample and frequency/sync batches.  Strings and stacks are only valid
 * inside their generation.  We read every batch of a generation (in place,
 * nothing is copied), build its tables, then order its events the way Go's
 * own reader (internal/trace, golang.org/x/exp/trace) does:
 *
 *   - one cursor per M walks that M's batches in file order;
 *   - the cursors sit in a min-heap keyed by the time of their next event;
 *   - the head event is offered to the scheduler state machine (goroutine,
 *     P, M and GC state, per-generation sequence numbers); when it cannot
 *     happen yet, the other cursors are tried in time order; when none can,
 *     the trace is broken ("failed to advance");
 *   - CPU samples are merged in by time, not validated.
 *
 * Timestamps: ns = (int64)(ticks * (1e9 / freq)) in double precision, per
 * batch ts = batch time + sum of deltas; every value handed out (including
 * the virtual sync point at each generation start, as Go's reader emits a
 * Sync event there) is forced strictly above the previous one.
 *
 * Speed (the output is the same as without these short cuts): the M on top
 * of the heap keeps going while its next event is not later than the
 * heap's other candidates and the next CPU sample, so the heap is only
 * touched when the M changes (run_top); the common events of a healthy
 * trace are decided, checked and reported by fast_advance() and decoded by
 * cursor_next_hot(), anything else goes through the generic handlers,
 * queue and emit(); goroutines live in an open-addressing table keyed by
 * id (g_get), string, stack and P ids are looked up in direct arrays
 * while they are dense (idtab).
 *
 * Semantics follow Go's reader at golang.org/x/exp@ca536658 (Go 1.26 dev),
 * which reads 1.22 .. 1.26.  The differences are listed in rt_v2_deviations
 * below the state machine.  Nothing here prints; errors are logged once,
 * as "<name>: offset N: <what>", by rt_gotrace_v2__decode().
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/gs_err.h"
#include "base/gs_intern.h"
#include "base/gs_mem.h"
#include "base/gs_varint.h"
#include "runtime/rt_goconv.h"
#include "runtime/rt_gotrace.h"
#include "runtime/rt_gotrace_v2_spec.h"

/* ------------------------------------------------------------ limits */

#define V2_MAX_BATCH      (64u << 10) /* Go's MaxBatchSize */
#define V2_MAX_STRING     (1u << 10)  /* MaxEventTrailerDataSize */
#define V2_MAX_FRAMES     128u        /* MaxFramesPerStack */
#define V2_MAX_TABLE      (1u << 24)  /* strings, stacks, pcs per generation */
#define V2_MAX_BATCHES    (1u << 24)  /* batches per generation */
#define V2_MAX_SAMPLES    (1u << 26)  /* CPU samples per generation */
#define V2_MAX_G          (1u << 24)  /* live goroutines */
#define V2_MAX_M          (1u << 20)  /* threads ever seen */
#define V2_MAX_P          (1u << 20)  /* procs ever seen */
#define V2_MAX_PID        0x7fffffffull /* sink events carry int32 P ids */
#define V2_MAX_TASKS      (1u << 24)  /* active user tasks */
#define V2_MAX_NAMES      (1u << 20)  /* region / STW names kept across gens */
#define V2_MAX_NEST       (1u << 16)  /* regions or ranges open on one g */
#define V2_SLOW_WORK      (1ull << 26) /* slow-path ordering steps allowed, */
#define V2_SLOW_PER_EVENT 256u         /* plus this many per event */

#define NONE32 UINT32_MAX
#define NO_ID  UINT64_MAX /* Go's NoGoroutine / NoProc / NoThread (-1) */

/* Go statuses on the wire (tracev2.GoStatus / ProcStatus). */
enum { GS_BAD, GS_RUNNABLE, GS_RUNNING, GS_SYSCALL, GS_WAITING, GS_NUM };
enum { PS_BAD, PS_RUNNING, PS_IDLE, PS_SYSCALL, PS_ABANDONED, PS_NUM };
enum { GC_UNDETERMINED, GC_NOT_RUNNING, GC_RUNNING };
enum { MUST_NOT, MAY, MUST };

static const char *const g_status_name[GS_NUM] = {
	"Bad", "Runnable", "Running", "Syscall", "Waiting"
};
static const char *const p_status_name[PS_NUM] = {
	"Bad", "Running", "Idle", "Syscall", "Bad"
};

/* ------------------------------------------------------------ u64 map */

/*
 * Open addressing, linear probing, backward-shift deletion.  Maps a 64-bit
 * key to a 32-bit index into a side array; NONE32 marks an empty slot.
 * Key and value share a slot: one cache line per probe.
 */
struct v2_slot {
	uint64_t key;
	uint32_t val;
};

struct v2_map {
	struct v2_slot *slot;
	size_t mask; /* capacity - 1; 0 with no storage */
	size_t n;
	size_t max;
};

static inline size_t v2_hash(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	return (size_t)k;
}

static inline uint32_t map_get(const struct v2_map *m, uint64_t k)
{
	size_t i;

	if (!m->n)
		return NONE32;
	for (i = v2_hash(k) & m->mask;; i = (i + 1) & m->mask) {
		const struct v2_slot *e = &m->slot[i];

		if (e->val == NONE32)
			return NONE32;
		if (e->key == k)
			return e->val;
	}
}

static int map_rehash(struct v2_map *m, size_t cap)
{
	struct v2_slot *slot = gs_malloc(cap * sizeof(*slot));
	size_t mask = cap - 1;

	if (!slot)
		return -ENOMEM;
	memset(slot, 0xff, cap * sizeof(*slot));
	if (m->slot) {
		for (size_t i = 0; i <= m->mask; i++) {
			size_t j;

			if (m->slot[i].val == NONE32)
				continue;
			for (j = v2_hash(m->slot[i].key) & mask; slot[j].val != NONE32;
			     j = (j + 1) & mask)
				;
			slot[j] = m->slot[i];
		}
	}
	gs_free(m->slot);
	m->slot = slot;
	m->mask = mask;
	return 0;
}

/* Insert k (which must be absent).  0, -ENOMEM or -E2BIG (over m->max). */
static int map_put(struct v2_map *m, uint64_t k, uint32_t v)
{
	size_t i;

	if (m->n >= m->max)
		return -E2BIG;
	if (!m->slot || (m->n + 1) * 4 > (m->mask + 1) * 3) {
		int err = map_rehash(m, m->slot ? (m->mask + 1) * 2 : 16);

		if (err)
			return err;
	}
	for (i = v2_hash(k) & m->mask; m->slot[i].val != NONE32; i = (i + 1) & m->mask)
		;
	m->slot[i].key = k;
	m->slot[i].val = v;
	m->n++;
	return 0;
}

static void map_del(struct v2_map *m, uint64_t k)
{
	size_t i, j;

	if (!m->n)
		return;
	for (i = v2_hash(k) & m->mask;; i = (i + 1) & m->mask) {
		if (m->slot[i].val == NONE32)
			return;
		if (m->slot[i].key == k)
			break;
	}
	for (j = i;;) {
		size_t h;

		j = (j + 1) & m->mask;
		if (m->slot[j].val == NONE32)
			break;
		h = v2_hash(m->slot[j].key) & m->mask;
		/* leave j alone when its home slot lies cyclically in (i, j] */
		if (i <= j ? (i < h && h <= j) : (i < h || h <= j))
			continue;
		m->slot[i] = m->slot[j];
		i = j;
	}
	m->slot[i].val = NONE32;
	m->n--;
}

static void map_clear(struct v2_map *m)
{
	if (m->n)
		memset(m->slot, 0xff, (m->mask + 1) * sizeof(*m->slot));
	m->n = 0;
}

static void map_release(struct v2_map *m)
{
	gs_free(m->slot);
	m->slot = NULL;
	m->n = m->mask = 0;
}

/*
 * Table ids (strings, stacks) are small and dense in real traces: a direct
 * array dir[id] holds them while id < 4 * entries + 1024; other ids go to
 * the hash map.  An id lives in exactly one of the two.
 */
struct v2_idtab {
	uint32_t *dir; /* dir[id], NONE32 = absent, for id < ndir */
	size_t ndir, capdir;
	struct v2_map map;
};

static inline uint32_t idtab_get(const struct v2_idtab *t, uint64_t id)
{
	if (id < t->ndir) {
		uint32_t v = t->dir[id];

		if (v != NONE32 || !t->map.n)
			return v;
	}
	return map_get(&t->map, id);
}

/* Insert id (which must be absent): 0, -ENOMEM or -E2BIG. */
static int idtab_put(struct v2_idtab *t, uint64_t id, uint32_t v)
{
	/* v is the number of entries so far */
	if (id >= t->ndir && id < 4 * ((uint64_t)v + 1) + 1024) {
		size_t need = (size_t)id + 1;

		if (need > t->capdir) {
			size_t cap = t->capdir ? t->capdir : 1024;
			uint32_t *d;

			while (cap < need)
				cap *= 2;
			d = gs_realloc(t->dir, cap * sizeof(*d));
			if (!d)
				return -ENOMEM;
			t->dir = d;
			t->capdir = cap;
		}
		memset(t->dir + t->ndir, 0xff, (need - t->ndir) * sizeof(*t->dir));
		t->ndir = need;
	}
	if (id < t->ndir) {
		t->dir[id] = v;
		return 0;
	}
	return map_put(&t->map, id, v);
}

static void idtab_clear(struct v2_idtab *t)
{
	t->ndir = 0;
	map_clear(&t->map);
}

static void idtab_release(struct v2_idtab *t)
{
	gs_free(t->dir);
	t->dir = NULL;
	t->ndir = t->capdir = 0;
	map_release(&t->map);
}

/* ------------------------------------------------------------ state */

struct v2_ctx {
	uint64_t g, p, m; /* NO_ID = none */
};

struct v2_ev {
	int64_t time;
	uint64_t a[5]; /* arguments after dt */
	size_t off;    /* input offset of the type byte */
	uint8_t typ;
};

/* One event ready for the sink, as Go's ordering queues it. */
struct v2_out {
	int64_t time;
	struct v2_ctx ctx;
	uint64_t a[5];
	uint64_t desc; /* STWEnd: name id in r->names */
	size_t off;
	uint8_t typ;
	uint8_t self_steal; /* ProcSteal made up for GoDestroySyscall */
};

struct v2_batch {
	const uint8_t *data;
	uint64_t time;
	uint32_t size;
	uint32_t next; /* next batch of the same M */
};

/* The event batches of one M, and the cursor walking them. */
struct v2_cursor {
	uint64_t m;
	const uint8_t *p, *end; /* rest of the current batch */
	uint32_t head, tail; /* batch indices */
	uint32_t bidx;       /* current batch, NONE32 when done */
	uint32_t ms;         /* index of the M state, NONE32 = not looked up */
	int64_t last_ts;
	struct v2_ev ev;     /* the next event, valid while in the heap */
};

struct v2_str {
	const uint8_t *p;
	uint32_t len;
};

struct v2_stack {
	uint64_t id;
	uint32_t pc0, n; /* pcs[pc0 .. pc0 + n) */
};

struct v2_frame {
	uint64_t func, file, line;
};

struct v2_sample {
	int64_t time;
	uint64_t m, p, g, stack;
};

struct v2_range {
	uint64_t desc; /* STW: name id (or 1 << 63 | bad string id); else 0 */
	uint8_t typ;   /* V2_EV_STW_BEGIN or V2_EV_GC_MARK_ASSIST_BEGIN */
};

struct v2_region {
	uint64_t task, name; /* name: id in r->names */
};

/* What a goroutine rarely has: open ranges and user regions. */
struct v2_gext {
	struct v2_range *rng;
	size_t nrng, caprng;
	struct v2_region *reg;
	size_t nreg, capreg;
};

/* A slot of the goroutine table (open addressing, keyed by id). */
struct v2_g {
	uint64_t id;
	uint64_t seq_gen, seq;
	uint32_t ext; /* 1 + index into gext, 0 = none */
	uint8_t status;
	uint8_t used;
};

struct v2_gtab {
	struct v2_g *slot;
	size_t mask;    /* capacity - 1 (a power of two); 0 with no storage */
	unsigned shift; /* 64 - log2(capacity) */
	size_t n;
};

struct v2_p {
	uint64_t id;
	uint64_t seq_gen, seq;
	uint8_t status;
	uint8_t sweep; /* a GC sweep range is open */
};

struct v2_m {
	uint64_t id, g, p;
};

struct v2 {
	const uint8_t *data;
	size_t len, pos;
	int ver; /* minor version: 22, 23, 25, 26 */
	const struct rt_go_sink *sink;
	struct rt_gotrace_stats *st;
	struct rt_goblock blk;    /* blk.ev: the sink takes converted blocks */

	/* error message, logged once by the entry point */
	char msg[256];
	size_t msg_off;

	/* the generation being read or ordered */
	uint64_t gen;
	uint64_t min_ts;
	double freq; /* ns per tick */
	bool has_freq, has_snap;
	/*
	 * Time deltas below 2^32 ticks take a short cut: with 0 <= freq <
	 * 2^31, (double)dt * freq converts without a range check; when freq
	 * is moreover an integer <= 2^21 (64 ns per tick on most systems),
	 * the product is exact in double and is dt * ifreq.
	 */
	bool fast_time;
	int64_t ifreq; /* 0 = not an integer */
	uint8_t targs[256]; /* nargs of timed types < 64, 0xff for the rest */
	struct v2_batch *batches;
	size_t nbatches, capbatches;
	struct v2_cursor *cur;
	size_t ncur, capcur;
	struct v2_map curmap; /* m -> cursor */
	struct v2_str *strs;
	size_t nstrs, capstrs;
	struct v2_idtab strmap;
	struct v2_stack *stacks;
	size_t nstacks, capstacks;
	struct v2_idtab stkmap;
	uint64_t *pcs;
	uint32_t *pcf; /* pcf[i]: index in frames of pcs[i] */
	size_t npcs, cappcs, cappcf;
	struct v2_frame *frames;
	size_t nframes, capframes;
	struct v2_map pcmap; /* pc -> frame, first definition wins (as Go) */
	struct v2_sample *samples, *sample_tmp;
	size_t nsamples, capsamples, captmp, next_sample;
	/*
	 * The frontier: a min-heap of cursors, and beside it the times of
	 * their next events (htime[i] = heap[i]->ev.time, kept in step by
	 * whoever moves a cursor), in two arrays so that every access is a
	 * plain word.  Both have room for 2 * ncur: the top half is the
	 * scratch space of sort_frontier().
	 */
	struct v2_cursor **heap;
	int64_t *htime;
	size_t nheap, capheap, caphtime;

	/* the first batch of the next generation (< 1.26), or its error */
	bool have_gen, have_spill;
	struct v2_batch spill;
	uint64_t spill_gen, spill_m;
	uint8_t spill_exp;
	int spill_err;
	size_t spill_off;
	char spill_msg[256];

	/* scheduler state, kept across generations */
	uint64_t initial_gen;
	uint64_t gc_seq;
	int gc_state;
	struct v2_gtab gtab;
	struct v2_gext *gext;
	size_t ngext, capgext;
	uint32_t *xfree;
	size_t nxfree, capxfree;
	struct v2_p *ps;
	size_t nps, capps;
	struct v2_idtab pmap;
	struct v2_m *ms;
	size_t nms, capms;
	struct v2_map mmap;
	struct v2_map tasks;
	struct gs_intern names;

	struct v2_out q[3]; /* events made by one advance */
	int nq;
	int64_t last_ts;   /* last timestamp handed out */
	uint64_t slow_work; /* threads tried on the slow ordering path */
	struct rt_go_frame fbuf[V2_MAX_FRAMES];
};

/* ------------------------------------------------------------ errors */

static int fail_code(struct v2 *r, int err, size_t off, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail_code(struct v2 *r, int err, size_t off, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
	va_end(ap);
	r->msg_off = off;
	return err;
}

#define fail(r, off, ...) fail_code(r, -GS_E_FORMAT, off, __VA_ARGS__)

/* -ENOMEM stays, -E2BIG (a gs_grow/map bound) becomes -GS_E_LIMIT. */
static int fail_alloc(struct v2 *r, int err, size_t off, const char *what)
{
	if (err == -E2BIG)
		return fail_code(r, -GS_E_LIMIT, off, "too many %s", what);
	return fail_code(r, err, off, "out of memory (%s)", what);
}

/* Why a uvarint at p does not decode, in the words of Go's ReadUvarint. */
static const char *varint_why(const uint8_t *p, const uint8_t *end)
{
	if (p >= end)
		return "EOF";
	for (int i = 0; i < GS_VARINT_MAX && p + i < end; i++)
		if (p[i] < 0x80)
			return "binary: varint overflows a 64-bit integer";
	if (end - p >= GS_VARINT_MAX)
		return "binary: varint overflows a 64-bit integer";
	return "unexpected EOF";
}

static int grow(struct v2 *r, void *pp, size_t *cap, size_t esz, size_t need,
		size_t max, const char *what)
{
	int err = gs_grow(pp, cap, esz, need, max);

	return err ? fail_alloc(r, err, r->pos, what) : 0;
}

/* ------------------------------------------------------------ time */

/*
 * float64 -> int64 the way Go does it on amd64 (CVTTSD2SQ): values out of
 * range and NaN give INT64_MIN.  (C leaves the conversion undefined.)
 */
static inline int64_t f64_to_i64(double x)
{
	if (x >= -9223372036854775808.0 && x < 9223372036854775808.0)
		return (int64_t)x;
	return INT64_MIN;
}

static inline int64_t tmul(double freq, uint64_t t)
{
	return f64_to_i64((double)t * freq);
}

static inline int64_t tadd(int64_t a, int64_t b)
{
	return (int64_t)((uint64_t)a + (uint64_t)b);
}

/* Go's reader: output time is strictly increasing. */
static inline int64_t tfix(struct v2 *r, int64_t t)
{
	if (t <= r->last_ts)
		t = tadd(r->last_ts, 1);
	r->last_ts = t;
	return t;
}

/* ------------------------------------------------------------ tables */

static inline const struct v2_str *str_get(const struct v2 *r, uint64_t id)
{
	static const struct v2_str empty = { (const uint8_t *)"", 0 };
	uint32_t i;

	if (id == 0)
		return &empty;
	i = idtab_get(&r->strmap, id);
	return i == NONE32 ? NULL : &r->strs[i];
}

static inline bool stack_ok(const struct v2 *r, uint64_t id)
{
	return id == 0 || idtab_get(&r->stkmap, id) != NONE32;
}

static int add_strings(struct v2 *r, const struct v2_batch *b)
{
	const uint8_t *p = b->data + 1, *end = b->data + b->size;
	size_t pf = 0; /* prefetched up to b->data + pf */

	r->st->raw[V2_EV_STRINGS]++;
	while (p < end) {
		size_t off = (size_t)(p - r->data);
		const uint8_t *q;
		uint64_t id, n;
		int err;

		/*
		 * Only the headers are read, a string apart: the hardware
		 * does not see it coming.  Fetch the batch 2 KiB ahead.
		 */
		for (; pf < b->size && pf < (size_t)(p - b->data) + 2048; pf += 64)
			__builtin_prefetch(b->data + pf);

		if (*p != V2_EV_STRING)
			return fail(r, off, "expected string event, got %u", *p);
		q = gs_varint_get(p + 1, end, &id);
		if (!q)
			return fail(r, off, "string id: %s", varint_why(p + 1, end));
		p = gs_varint_get(q, end, &n);
		if (!p)
			return fail(r, off, "string length: %s", varint_why(q, end));
		if (n > V2_MAX_STRING)
			return fail(r, off, "invalid string size %" PRIu64
				    ", maximum is %u", n, V2_MAX_STRING);
		if (n > (uint64_t)(end - p))
			return fail(r, off, "failed to read full string: read %zu but wanted %" PRIu64,
				    (size_t)(end - p), n);
		if (id == 0 || idtab_get(&r->strmap, id) != NONE32)
			return fail(r, off, "multiple strings with the same ID: id=%" PRIu64, id);
		err = grow(r, &r->strs, &r->capstrs, sizeof(*r->strs),
			   r->nstrs + 1, V2_MAX_TABLE, "strings");
		if (err)
			return err;
		err = idtab_put(&r->strmap, id, (uint32_t)r->nstrs);
		if (err)
			return fail_alloc(r, err, off, "strings");
		r->strs[r->nstrs].p = p;
		r->strs[r->nstrs].len = (uint32_t)n;
		r->nstrs++;
		r->st->raw[V2_EV_STRING]++;
		p += n;
	}
	return 0;
}

static int add_stacks(struct v2 *r, const struct v2_batch *b)
{
	const uint8_t *p = b->data + 1, *end = b->data + b->size;

	r->st->raw[V2_EV_STACKS]++;
	while (p < end) {
		size_t off = (size_t)(p - r->data);
		uint64_t id, n;
		const uint8_t *q;
		int err;

		if (*p != V2_EV_STACK)
			return fail(r, off, "expected stack event, got %u", *p);
		q = gs_varint_get(p + 1, end, &id);
		if (!q)
			return fail(r, off, "stack id: %s", varint_why(p + 1, end));
		p = gs_varint_get(q, end, &n);
		if (!p)
			return fail(r, off, "stack size: %s", varint_why(q, end));
		if (n > V2_MAX_FRAMES)
			return fail(r, off, "invalid stack size %" PRIu64
				    ", maximum is %u", n, V2_MAX_FRAMES);
		err = grow(r, &r->pcs, &r->cappcs, sizeof(*r->pcs),
			   r->npcs + n, (size_t)V2_MAX_TABLE * V2_MAX_FRAMES, "stack frames");
		if (!err)
			err = grow(r, &r->pcf, &r->cappcf, sizeof(*r->pcf), r->npcs + n,
				   (size_t)V2_MAX_TABLE * V2_MAX_FRAMES, "stack frames");
		if (err)
			return err;
		for (uint64_t i = 0; i < n; i++) {
			uint64_t f[4];
			uint32_t fi;

			q = NULL;
			if (end - p >= 4 * GS_VARINT_MAX) {
				q = gs_varint_get10(p, &f[0]);
				for (int k = 1; k < 4 && q; k++)
					q = gs_varint_get10(q, &f[k]);
			}
			if (q) {
				p = q;
			} else {
				for (int k = 0; k < 4; k++) {
					q = gs_varint_get(p, end, &f[k]);
					if (!q)
						return fail(r, off, "reading frame %" PRIu64
							    " of stack %" PRIu64 ": %s",
							    i + 1, id, varint_why(p, end));
					p = q;
				}
			}
			fi = map_get(&r->pcmap, f[0]);
			if (fi == NONE32) {
				err = grow(r, &r->frames, &r->capframes, sizeof(*r->frames),
					   r->nframes + 1, V2_MAX_TABLE, "frames");
				if (err)
					return err;
				err = map_put(&r->pcmap, f[0], (uint32_t)r->nframes);
				if (err)
					return fail_alloc(r, err, off, "frames");
				fi = (uint32_t)r->nframes++;
				r->frames[fi].func = f[1];
				r->frames[fi].file = f[2];
				r->frames[fi].line = f[3];
			}
			r->pcs[r->npcs + i] = f[0];
			r->pcf[r->npcs + i] = fi;
		}
		if (id == 0 || idtab_get(&r->stkmap, id) != NONE32)
			return fail(r, off, "multiple stacks with the same ID: id=%" PRIu64, id);
		err = grow(r, &r->stacks, &r->capstacks, sizeof(*r->stacks),
			   r->nstacks + 1, V2_MAX_TABLE, "stacks");
		if (err)
			return err;
		err = idtab_put(&r->stkmap, id, (uint32_t)r->nstacks);
		if (err)
			return fail_alloc(r, err, off, "stacks");
		r->stacks[r->nstacks].id = id;
		r->stacks[r->nstacks].pc0 = (uint32_t)r->npcs;
		r->stacks[r->nstacks].n = (uint32_t)n;
		r->nstacks++;
		r->npcs += n;
		r->st->raw[V2_EV_STACK]++;
	}
	return 0;
}

static int add_samples(struct v2 *r, const struct v2_batch *b)
{
	const uint8_t *p = b->data + 1, *end = b->data + b->size;

	r->st->raw[V2_EV_CPU_SAMPLES]++;
	while (p < end) {
		size_t off = (size_t)(p - r->data);
		uint64_t v[5];
		struct v2_sample *s;
		int err;

		if (*p != V2_EV_CPU_SAMPLE)
			return fail(r, off, "expected CPU sample event, got %u", *p);
		p++;
		for (int k = 0; k < 5; k++) {
			const uint8_t *q = gs_varint_get(p, end, &v[k]);

			if (!q)
				return fail(r, off, "CPU sample: %s", varint_why(p, end));
			p = q;
		}
		err = grow(r, &r->samples, &r->capsamples, sizeof(*r->samples),
			   r->nsamples + 1, V2_MAX_SAMPLES, "CPU samples");
		if (err)
			return err;
		s = &r->samples[r->nsamples++];
		s->time = (int64_t)v[0]; /* ticks until the frequency is known */
		s->m = v[1];
		s->p = v[2];
		s->g = v[3];
		s->stack = v[4];
		r->st->raw[V2_EV_CPU_SAMPLE]++;
	}
	return 0;
}

/* Frequency batch (< 1.25) or sync batch (>= 1.25). */
static int set_sync(struct v2 *r, const struct v2_batch *b)
{
	const uint8_t *p = b->data, *end = b->data + b->size;

	if (r->ver >= 25) {
		r->st->raw[V2_EV_SYNC]++;
		p++;
	}
	while (p < end) {
		size_t off = (size_t)(p - r->data);
		uint8_t t = *p++;
		uint64_t v[4];
		int n;

		if (t == V2_EV_FREQUENCY) {
			if (r->has_freq)
				return fail(r, off, "found multiple frequency events");
			n = 1;
		} else if (t == V2_EV_CLOCK_SNAPSHOT && r->ver >= 25) {
			if (r->has_snap)
				return fail(r, off, "found multiple clock snapshot events");
			n = 4;
		} else {
			return fail(r, off, "expected frequency or clock snapshot event, got %u", t);
		}
		for (int k = 0; k < n; k++) {
			const uint8_t *q = gs_varint_get(p, end, &v[k]);

			if (!q)
				return fail(r, off, "%s: %s", rt_v2_specs[t].name,
					    varint_why(p, end));
			p = q;
		}
		if (t == V2_EV_FREQUENCY) {
			r->has_freq = true;
			r->freq = 1.0 / ((double)v[0] / 1e9);
			r->st->freq = v[0];
		} else {
			r->has_snap = true;
		}
		r->st->raw[t]++;
	}
	return 0;
}

static bool is_eog(const struct v2_batch *b, uint8_t exp)
{
	return exp == 0 && b->size > 0 && b->data[0] == V2_EV_END_OF_GENERATION;
}

static int add_event_batch(struct v2 *r, const struct v2_batch *b, uint64_t m)
{
	size_t off = (size_t)(b->data - r->data);
	uint32_t ci = map_get(&r->curmap, m), bi = (uint32_t)r->nbatches;
	int err;

	err = grow(r, &r->batches, &r->capbatches, sizeof(*r->batches),
		   r->nbatches + 1, V2_MAX_BATCHES, "batches");
	if (err)
		return err;
	r->batches[bi] = *b;
	r->batches[bi].next = NONE32;
	r->nbatches++;
	if (ci == NONE32) {
		struct v2_cursor *c;

		err = grow(r, &r->cur, &r->capcur, sizeof(*r->cur), r->ncur + 1,
			   V2_MAX_BATCHES, "threads");
		if (err)
			return err;
		ci = (uint32_t)r->ncur;
		err = map_put(&r->curmap, m, ci);
		if (err)
			return fail_alloc(r, err, off, "threads");
		c = &r->cur[r->ncur++];
		memset(c, 0, sizeof(*c));
		c->m = m;
		c->head = c->tail = c->bidx = bi;
		c->p = b->data;
		c->end = b->data + b->size;
		c->ms = NONE32;
		return 0;
	}
	r->batches[r->cur[ci].tail].next = bi;
	r->cur[ci].tail = bi;
	return 0;
}

static int process_batch(struct v2 *r, const struct v2_batch *b, uint64_t m,
			 uint8_t exp)
{
	uint8_t t = b->size ? b->data[0] : 0;

	if (exp == 0 && b->size) {
		if (t == V2_EV_STRINGS)
			return add_strings(r, b);
		if (t == V2_EV_STACKS)
			return add_stacks(r, b);
		if (t == V2_EV_CPU_SAMPLES)
			return add_samples(r, b);
		if ((t == V2_EV_FREQUENCY && r->ver < 25) ||
		    (t == V2_EV_SYNC && r->ver >= 25))
			return set_sync(r, b);
	}
	if (exp != 0)
		return 0; /* experimental data: opaque, skipped */
	if (is_eog(b, exp))
		return fail(r, (size_t)(b->data - r->data),
			    "unexpected end-of-generation batch");
	return add_event_batch(r, b, m);
}

/*
 * Read the batch at r->pos.  0: read (*eog set for a lone EndOfGeneration
 * byte), 1: clean end of input, < 0: error (message in r->msg).
 */
static int read_batch(struct v2 *r, struct v2_batch *b, uint64_t *gen,
		      uint64_t *m, uint8_t *exp)
{
	const uint8_t *end = r->data + r->len, *p = r->data + r->pos, *q;
	size_t start = r->pos;
	static const char *const what[4] = { "gen", "M ID", "timestamp", "size" };
	uint64_t v[4];
	uint8_t t;

	if (p >= end)
		return 1;
	t = *p++;
	*exp = 0;
	if (t == V2_EV_END_OF_GENERATION) {
		/* Go returns it as a one-byte batch of generation 0 */
		b->data = p - 1;
		b->size = 1;
		b->time = 0;
		*gen = 0;
		*m = NO_ID;
		r->pos++;
		r->st->raw[t]++;
		return 0;
	}
	if (t != V2_EV_BATCH && t != V2_EV_EXPERIMENTAL_BATCH)
		return fail(r, start, "expected batch event, got event %u", t);
	if (t == V2_EV_EXPERIMENTAL_BATCH) {
		if (p >= end) {
			r->pos = r->len;
			return 1; /* as Go: io.EOF reading the experiment id */
		}
		*exp = *p++;
	}
	for (int k = 0; k < 4; k++) {
		q = gs_varint_get(p, end, &v[k]);
		if (!q)
			return fail(r, start, "error reading batch %s: %s", what[k],
				    varint_why(p, end));
		p = q;
	}
	if (v[3] > V2_MAX_BATCH)
		return fail(r, start, "invalid batch size %" PRIu64 ", maximum is %u",
			    v[3], V2_MAX_BATCH);
	if (v[3] > (uint64_t)(end - p))
		return fail(r, start, "failed to read full batch: read %zu but wanted %" PRIu64,
			    (size_t)(end - p), v[3]);
	*gen = v[0];
	*m = v[1];
	b->time = v[2];
	b->size = (uint32_t)v[3];
	b->data = p;
	b->next = NONE32;
	r->pos = (size_t)(p - r->data) + b->size;
	r->st->raw[t]++;
	return 0;
}

static void gen_reset(struct v2 *r)
{
	r->gen = 0;
	r->min_ts = 0;
	r->freq = 0;
	r->has_freq = r->has_snap = false;
	r->nbatches = r->ncur = r->nstrs = r->nstacks = 0;
	r->npcs = r->nframes = r->nsamples = r->next_sample = 0;
	r->nheap = 0;
	map_clear(&r->curmap);
	idtab_clear(&r->strmap);
	idtab_clear(&r->stkmap);
	map_clear(&r->pcmap);
}

/* Stable merge sort of the CPU samples by time (Go sorts them too). */
static int sort_samples(struct v2 *r)
{
	struct v2_sample *a = r->samples, *t;
	size_t n = r->nsamples;
	int err;

	for (size_t i = 1; i < n; i++)
		if (a[i].time < a[i - 1].time)
			goto unsorted;
	return 0;
unsorted:
	err = grow(r, &r->sample_tmp, &r->captmp, sizeof(*t), n, V2_MAX_SAMPLES,
		   "CPU samples");
	if (err)
		return err;
	t = r->sample_tmp;
	for (size_t w = 1; w < n; w *= 2) {
		for (size_t lo = 0; lo < n; lo += 2 * w) {
			size_t mid = lo + w < n ? lo + w : n;
			size_t hi = lo + 2 * w < n ? lo + 2 * w : n;
			size_t i = lo, j = mid, k = lo;

			while (i < mid && j < hi)
				t[k++] = a[j].time < a[i].time ? a[j++] : a[i++];
			while (i < mid)
				t[k++] = a[i++];
			while (j < hi)
				t[k++] = a[j++];
		}
		memcpy(a, t, n * sizeof(*a));
	}
	return 0;
}

/* Checks Go's reader makes once a generation's batches are all in. */
static int finish_gen(struct v2 *r)
{
	const struct v2_stack *bad = NULL;
	const struct v2_frame *bad_f = NULL;

	if (!r->has_freq)
		return fail(r, r->pos, "no frequency event found");
	if (r->ver >= 25 && !r->has_snap)
		return fail(r, r->pos, "no clock snapshot event found");
	/*
	 * Every frame's strings must exist (every frame is in a stack).  On
	 * failure, as Go checks stacks by ascending id, frames leaf first:
	 * report the failure it would report.
	 */
	for (size_t i = 0; i < r->nframes; i++) {
		if (!str_get(r, r->frames[i].func) || !str_get(r, r->frames[i].file))
			break;
		if (i + 1 == r->nframes)
			goto frames_ok;
	}
	for (size_t i = 0; i < r->nstacks; i++) {
		const struct v2_stack *s = &r->stacks[i];

		if (bad && s->id > bad->id)
			continue;
		for (uint32_t j = 0; j < s->n; j++) {
			const struct v2_frame *f = &r->frames[r->pcf[s->pc0 + j]];

			if (!str_get(r, f->func) || !str_get(r, f->file)) {
				bad = s;
				bad_f = f;
				break;
			}
		}
	}
	if (bad && !str_get(r, bad_f->func))
		return fail(r, r->pos, "found invalid func string ID %" PRIu64
			    " for stack %" PRIu64, bad_f->func, bad->id);
	if (bad)
		return fail(r, r->pos, "found invalid file string ID %" PRIu64
			    " for stack %" PRIu64, bad_f->file, bad->id);
frames_ok:
	for (size_t i = 0; i < r->nsamples; i++)
		r->samples[i].time = tmul(r->freq, (uint64_t)r->samples[i].time);
	return sort_samples(r);
}

/*
 * Traces before 1.26 have no end-of-generation marker: a generation ends
 * where a batch of the next one starts (kept as the "spill"); an error
 * reading a later batch is held back until the batches read so far have
 * been ordered, as Go does.
 */
static int read_gen_spill(struct v2 *r)
{
	struct v2_batch b;
	uint64_t gen, m;
	uint8_t exp;
	int err;

	gen_reset(r);
	if (r->have_spill) {
		r->have_spill = false;
		r->gen = r->spill_gen;
		r->min_ts = r->spill.time;
		err = process_batch(r, &r->spill, r->spill_m, r->spill_exp);
		if (err)
			return err;
	}
	for (;;) {
		size_t start = r->pos;

		err = read_batch(r, &b, &gen, &m, &exp);
		if (err == 1)
			break;
		if (err < 0) {
			if (r->gen == 0)
				return err;
			r->spill_err = err;
			r->spill_off = r->msg_off;
			memcpy(r->spill_msg, r->msg, sizeof(r->msg));
			r->msg[0] = 0;
			break;
		}
		if (gen == 0)
			return fail(r, start, "invalid generation number 0");
		if (r->gen == 0)
			r->gen = gen;
		if (gen == r->gen + 1) {
			r->spill = b;
			r->spill_gen = gen;
			r->spill_m = m;
			r->spill_exp = exp;
			r->have_spill = true;
			break;
		}
		if (gen != r->gen)
			return fail(r, start, "generations out of order");
		if (r->min_ts == 0 || b.time < r->min_ts)
			r->min_ts = b.time;
		err = process_batch(r, &b, m, exp);
		if (err)
			return err;
	}
	return finish_gen(r);
}

/* Go 1.26: a generation ends with an EndOfGeneration byte. */
static int read_gen_eog(struct v2 *r)
{
	struct v2_batch b;
	uint64_t gen, m;
	uint8_t exp;
	int err;

	gen_reset(r);
	for (;;) {
		size_t start = r->pos;

		err = read_batch(r, &b, &gen, &m, &exp);
		if (err == 1) {
			if (r->ncur)
				return fail(r, start, "incomplete generation found; trace likely truncated");
			return 1;
		}
		if (err < 0)
			return err;
		if (r->gen == 0)
			r->gen = gen;
		if (is_eog(&b, exp))
			break;
		if (gen == 0)
			return fail(r, start, "invalid generation number 0");
		if (gen != r->gen)
			return fail(r, start, "broken trace: missing end-of-generation event, or generations are interleaved");
		if (r->min_ts == 0 || b.time < r->min_ts)
			r->min_ts = b.time;
		err = process_batch(r, &b, m, exp);
		if (err)
			return err;
	}
	return finish_gen(r);
}

/* ------------------------------------------------------------ cursors */

/* Bytes that always hold the dt and arguments of the events of the hot path. */
#define V2_EV_MAXLEN (5 * GS_VARINT_MAX)

/* Move c to its next non-empty batch.  0 when there is none. */
static int cursor_batch(struct v2 *r, struct v2_cursor *c)
{
	while (c->p == c->end) {
		const struct v2_batch *b;

		if (c->bidx == NONE32)
			return 0;
		c->bidx = r->batches[c->bidx].next;
		c->last_ts = 0;
		if (c->bidx == NONE32)
			return 0;
		b = &r->batches[c->bidx];
		c->p = b->data;
		c->end = b->data + b->size;
	}
	return 1;
}

static int __attribute__((noinline)) cursor_fail(struct v2 *r, struct v2_cursor *c, int what)
{
	uint8_t t = *c->p;

	if (what == 0)
		return fail(r, c->ev.off, "found invalid event type: %u", t);
	if (what == 1)
		return fail(r, c->ev.off, "found event without a timestamp: type=%u", t);
	if (what == 2)
		return fail(r, c->ev.off, "found invalid uvarint for timestamp");
	return fail(r, c->ev.off, "found invalid uvarint");
}

static int cursor_next(struct v2 *r, struct v2_cursor *c);

/*
 * cursor_next() for the common case, inline in the hot loop: a timed
 * event of type < 64, well inside its batch, with a time delta below 2^32
 * ticks (then (double)dt * freq is exact to convert, see fast_time).
 * Anything else is left to cursor_next(), which starts over.
 */
static inline __attribute__((always_inline)) int
cursor_next_hot(struct v2 *r, struct v2_cursor *c)
{
	const uint8_t *p = c->p, *q;
	uint64_t dt, *a = c->ev.a;
	int64_t time;
	unsigned n;
	uint8_t t;

	if (__builtin_expect(c->end - p <= V2_EV_MAXLEN || c->last_ts == 0 ||
			     !r->fast_time, 0))
		return cursor_next(r, c);
	t = *p;
	n = r->targs[t];
	q = gs_varint_get10(p + 1, &dt);
	if (__builtin_expect(n > 4 || !q || dt >> 32, 0))
		return cursor_next(r, c);
	if (n) {
		q = gs_varint_get10(q, &a[0]);
		if (n > 1 && q) {
			q = gs_varint_get10(q, &a[1]);
			if (n > 2 && q) {
				q = gs_varint_get10(q, &a[2]);
				if (n > 3 && q)
					q = gs_varint_get10(q, &a[3]);
			}
		}
		if (__builtin_expect(!q, 0))
			return cursor_next(r, c);
	}
	c->ev.off = (size_t)(p - r->data);
	c->ev.typ = t;
	if (__builtin_expect(r->ifreq != 0, 1))
		time = tadd((int64_t)dt * r->ifreq, c->last_ts);
	else
		time = tadd((int64_t)((double)(int64_t)dt * r->freq), c->last_ts);
	c->ev.time = time;
	c->last_ts = time;
	c->p = q;
	r->st->raw[t]++;
	return 1;
}

/* Load the next event of c's M.  1: loaded, 0: no more, < 0: error. */
static int cursor_next(struct v2 *r, struct v2_cursor *c)
{
	const struct rt_v2_spec *s;
	const uint8_t *p, *q, *end;
	uint64_t dt;
	uint8_t t;

	if (__builtin_expect(c->p == c->end, 0) && !cursor_batch(r, c))
		return 0;
	if (__builtin_expect(c->last_ts == 0, 0)) /* sic: Go re-bases whenever the clock reads 0 */
		c->last_ts = tmul(r->freq, r->batches[c->bidx].time);
	p = c->p;
	end = c->end;
	t = *p;
	c->ev.off = (size_t)(p - r->data);
	if (__builtin_expect(t >= V2_NUM_SPECS, 0))
		return cursor_fail(r, c, 0);
	s = &rt_v2_specs[t];
	if (__builtin_expect(!s->timed, 0))
		return cursor_fail(r, c, 1);
	if (__builtin_expect(end - p > (s->nargs + 1) * GS_VARINT_MAX, 1)) {
		q = gs_varint_get10(p + 1, &dt);
		if (!q)
			return cursor_fail(r, c, 2);
		for (int k = 0; k < s->nargs; k++) {
			q = gs_varint_get10(q, &c->ev.a[k]);
			if (!q)
				return cursor_fail(r, c, 3);
		}
	} else {
		q = gs_varint_get(p + 1, end, &dt);
		if (!q)
			return cursor_fail(r, c, 2);
		for (int k = 0; k < s->nargs; k++) {
			q = gs_varint_get(q, end, &c->ev.a[k]);
			if (!q)
				return cursor_fail(r, c, 3);
		}
	}
	c->ev.typ = t;
	c->ev.time = tadd(tmul(r->freq, dt), c->last_ts);
	c->last_ts = c->ev.time;
	c->p = q;
	if (t < RT_GOTRACE_MAX_TYPES)
		r->st->raw[t]++;
	return 1;
}

/*
 * Count, without judging, the events the cursors have not read (the
 * decoder stopped early): raw counts then cover the whole generation.
 */
static void count_rest(struct v2 *r)
{
	for (size_t i = 0; i < r->ncur; i++) {
		const struct v2_cursor *c = &r->cur[i];
		uint32_t off = c->bidx == NONE32 ? 0 :
			       (uint32_t)(c->p - r->batches[c->bidx].data);

		for (uint32_t bi = c->bidx; bi != NONE32; bi = r->batches[bi].next, off = 0) {
			const uint8_t *p = r->batches[bi].data + off;
			const uint8_t *end = r->batches[bi].data + r->batches[bi].size;

			while (p < end) {
				uint8_t t = *p++;
				uint64_t v;

				if (t >= V2_NUM_SPECS || !rt_v2_specs[t].timed)
					goto next_m;
				for (int k = 0; k <= rt_v2_specs[t].nargs; k++) {
					p = gs_varint_get(p, end, &v);
					if (!p)
						goto next_m;
				}
				if (t < RT_GOTRACE_MAX_TYPES)
					r->st->raw[t]++;
			}
		}
next_m:;
	}
}

/* --------------------------------------------- frontier (Go's min-heap) */

static inline void hswap(struct v2 *r, size_t i, size_t j)
{
	struct v2_cursor *c = r->heap[i];
	int64_t t = r->htime[i];

	r->heap[i] = r->heap[j];
	r->htime[i] = r->htime[j];
	r->heap[j] = c;
	r->htime[j] = t;
}

static size_t heap_up(struct v2 *r, size_t i)
{
	const int64_t *t = r->htime;

	while (i > 0 && t[(i - 1) / 2] > t[i]) {
		hswap(r, (i - 1) / 2, i);
		i = (i - 1) / 2;
	}
	return i;
}

/*
 * Sift down.  Of i and its children the earliest is taken, ties going to
 * i, then to the left child.
 */
static void heap_down(struct v2 *r, size_t i)
{
	const int64_t *t = r->htime;
	size_t n = r->nheap;

	for (;;) {
		size_t l = 2 * i + 1, m;

		if (l >= n)
			return;
		m = l + 1 < n && t[l + 1] < t[l] ? l + 1 : l;
		if (!(t[m] < t[i]))
			return;
		hswap(r, i, m);
		i = m;
	}
}

/*
 * heap_down(r, 0), moving a hole instead of swapping (the loads of a level
 * then do not wait for the stores of the one above); the same compares,
 * the same result.  Returns the new top.
 */
static inline struct v2_cursor *heap_down_top(struct v2 *r)
{
	struct v2_cursor **h = r->heap, *xc = h[0], *top = xc;
	int64_t *t = r->htime, x = t[0];
	size_t n = r->nheap, i = 0, l;

	while ((l = 2 * i + 1) < n) {
		size_t rc = l + 1 < n ? l + 1 : l;
		size_t m = t[rc] < t[l] ? rc : l;

		if (!(t[m] < x))
			break;
		if (!i)
			top = h[m];
		t[i] = t[m];
		h[i] = h[m];
		i = m;
	}
	t[i] = x;
	h[i] = xc;
	return top;
}

static void heap_update(struct v2 *r, size_t i)
{
	if (heap_up(r, i) == i)
		heap_down(r, i);
}

static void heap_remove(struct v2 *r, size_t i)
{
	for (; i > 0; i = (i - 1) / 2)
		hswap(r, (i - 1) / 2, i);
	hswap(r, 0, r->nheap - 1);
	r->nheap--;
	heap_down(r, 0);
}

/*
 * Sort the frontier by time before trying every M (the slow path).  Go
 * uses an unstable sort that is insertion sort up to 12 elements: same
 * result here; above that, a stable merge sort may order equal times
 * differently from Go.
 */
static int sort_frontier(struct v2 *r)
{
	struct v2_cursor **h = r->heap, **tc;
	int64_t *ht = r->htime, *tt;
	size_t n = r->nheap;

	if (n <= 12) {
		for (size_t i = 1; i < n; i++)
			for (size_t j = i; j > 0 && ht[j] < ht[j - 1]; j--)
				hswap(r, j, j - 1);
		return 0;
	}
	tc = h + r->ncur;
	tt = ht + r->ncur;
	for (size_t w = 1; w < n; w *= 2) {
		for (size_t lo = 0; lo < n; lo += 2 * w) {
			size_t mid = lo + w < n ? lo + w : n;
			size_t hi = lo + 2 * w < n ? lo + 2 * w : n;
			size_t i = lo, j = mid, k = lo;

			while (i < mid && j < hi) {
				size_t x = ht[j] < ht[i] ? j++ : i++;

				tc[k] = h[x];
				tt[k++] = ht[x];
			}
			for (; i < mid; i++, k++) {
				tc[k] = h[i];
				tt[k] = ht[i];
			}
			for (; j < hi; j++, k++) {
				tc[k] = h[j];
				tt[k] = ht[j];
			}
		}
		memcpy(h, tc, n * sizeof(*h));
		memcpy(ht, tt, n * sizeof(*ht));
	}
	return 0;
}

/* ------------------------------------------------------------ state */

/*
 * Goroutine ids are mostly consecutive: Fibonacci hashing spreads them
 * evenly, and the state sits in the slot (one cache line touched).
 */
static inline size_t g_home(const struct v2_gtab *t, uint64_t id)
{
	return (size_t)((id * 0x9e3779b97f4a7c15ull) >> t->shift);
}

static inline struct v2_g *g_get(struct v2 *r, uint64_t id)
{
	const struct v2_gtab *t = &r->gtab;
	size_t i;

	if (!t->n)
		return NULL;
	for (i = g_home(t, id);; i = (i + 1) & t->mask) {
		struct v2_g *g = &t->slot[i];

		if (!g->used)
			return NULL;
		if (g->id == id)
			return g;
	}
}

static int gtab_rehash(struct v2_gtab *t, unsigned bits)
{
	struct v2_gtab nt;

	nt.slot = gs_calloc((size_t)1 << bits, sizeof(*nt.slot));
	if (!nt.slot)
		return -ENOMEM;
	nt.mask = ((size_t)1 << bits) - 1;
	nt.shift = 64 - bits;
	nt.n = t->n;
	if (t->slot) {
		for (size_t i = 0; i <= t->mask; i++) {
			size_t j;

			if (!t->slot[i].used)
				continue;
			for (j = g_home(&nt, t->slot[i].id); nt.slot[j].used; j = (j + 1) & nt.mask)
				;
			nt.slot[j] = t->slot[i];
		}
	}
	gs_free(t->slot);
	*t = nt;
	return 0;
}

static inline struct v2_p *p_get(struct v2 *r, uint64_t id)
{
	uint32_t i = idtab_get(&r->pmap, id);

	return i == NONE32 ? NULL : &r->ps[i];
}

static inline struct v2_m *m_get(struct v2 *r, uint64_t id)
{
	uint32_t i = map_get(&r->mmap, id);

	return i == NONE32 ? NULL : &r->ms[i];
}

/* New goroutine state (the id must be absent).  Invalidates g pointers. */
static int g_new(struct v2 *r, size_t off, uint64_t id, uint8_t status)
{
	struct v2_gtab *t = &r->gtab;
	struct v2_g *g;
	size_t i;

	if (t->n >= V2_MAX_G)
		return fail_alloc(r, -E2BIG, r->pos, "goroutines");
	if (!t->slot || (t->n + 1) * 2 > t->mask + 1) {
		int err = gtab_rehash(t, t->slot ? 65 - t->shift : 4);

		if (err)
			return fail_alloc(r, err, r->pos, "goroutines");
	}
	for (i = g_home(t, id); t->slot[i].used; i = (i + 1) & t->mask)
		;
	g = &t->slot[i];
	g->id = id;
	g->seq_gen = r->gen;
	g->seq = 0;
	g->ext = 0;
	g->status = status;
	g->used = 1;
	t->n++;
	return 0;
}

/* Invalidates g pointers. */
static int g_del(struct v2 *r, uint64_t id)
{
	struct v2_gtab *t = &r->gtab;
	struct v2_g *g = g_get(r, id);
	uint32_t ext;
	size_t i, j;
	int err;

	if (!g)
		return 0;
	ext = g->ext;
	/* backward-shift deletion */
	i = (size_t)(g - t->slot);
	for (j = i;;) {
		size_t h;

		j = (j + 1) & t->mask;
		if (!t->slot[j].used)
			break;
		h = g_home(t, t->slot[j].id);
		/* leave j alone when its home slot lies cyclically in (i, j] */
		if (i <= j ? (i < h && h <= j) : (i < h || h <= j))
			continue;
		t->slot[i] = t->slot[j];
		i = j;
	}
	t->slot[i].used = 0;
	t->n--;
	if (ext) {
		struct v2_gext *x = &r->gext[ext - 1];

		x->nrng = x->nreg = 0;
		err = grow(r, &r->xfree, &r->capxfree, sizeof(*r->xfree),
			   r->nxfree + 1, V2_MAX_G, "goroutines");
		if (err)
			return err;
		r->xfree[r->nxfree++] = ext - 1;
	}
	return 0;
}

/* The rarely used part of the state of goroutine gid (which exists). */
static int g_ext(struct v2 *r, uint64_t gid, struct v2_gext **out)
{
	struct v2_g *g = g_get(r, gid);
	uint32_t x;
	int err;

	if (!g->ext) {
		if (r->nxfree) {
			x = r->xfree[--r->nxfree];
		} else {
			err = grow(r, &r->gext, &r->capgext, sizeof(*r->gext),
				   r->ngext + 1, V2_MAX_G, "goroutines");
			if (err)
				return err;
			x = (uint32_t)r->ngext++;
			memset(&r->gext[x], 0, sizeof(r->gext[x]));
		}
		g->ext = x + 1;
	}
	*out = &r->gext[g->ext - 1];
	return 0;
}

static int p_new(struct v2 *r, size_t off, uint64_t id, uint8_t status)
{
	int err;

	if (id > V2_MAX_PID)
		return fail_code(r, -GS_E_LIMIT, off, "proc id %" PRIu64 " over limit", id);
	err = grow(r, &r->ps, &r->capps, sizeof(*r->ps), r->nps + 1, V2_MAX_P, "procs");
	if (err)
		return err;
	err = idtab_put(&r->pmap, id, (uint32_t)r->nps);
	if (err)
		return fail_alloc(r, err, off, "procs");
	r->ps[r->nps].id = id;
	r->ps[r->nps].seq_gen = r->gen;
	r->ps[r->nps].seq = 0;
	r->ps[r->nps].status = status;
	r->ps[r->nps].sweep = 0;
	r->nps++;
	return 0;
}

/* Index of the state of M id, made when missing (g and p NO_ID). */
static int m_index(struct v2 *r, size_t off, uint64_t id, uint64_t g, uint32_t *out)
{
	uint32_t i = map_get(&r->mmap, id);
	int err;

	if (i == NONE32) {
		err = grow(r, &r->ms, &r->capms, sizeof(*r->ms), r->nms + 1,
			   V2_MAX_M, "threads");
		if (err)
			return err;
		i = (uint32_t)r->nms;
		err = map_put(&r->mmap, id, i);
		if (err)
			return fail_alloc(r, err, off, "threads");
		r->ms[i].id = id;
		r->ms[i].g = g;
		r->ms[i].p = NO_ID;
		r->nms++;
	}
	*out = i;
	return 0;
}

/* Go's seqCounter.succeeds: same generation, exactly one more. */
static inline bool seq_next(uint64_t gen, uint64_t seq, uint64_t sgen, uint64_t sseq)
{
	return gen == sgen && seq == sseq + 1;
}

static int check_ctx(struct v2 *r, size_t off, const struct v2_ctx *c, int m,
		     int p, int g)
{
	if (m == MUST && c->m == NO_ID)
		return fail(r, off, "expected a thread but didn't have one");
	if (p == MUST && c->p == NO_ID)
		return fail(r, off, "expected a proc but didn't have one");
	if (p == MUST_NOT && c->p != NO_ID)
		return fail(r, off, "expected no proc but had one");
	if (g == MUST && c->g == NO_ID)
		return fail(r, off, "expected a goroutine but didn't have one");
	if (g == MUST_NOT && c->g != NO_ID)
		return fail(r, off, "expected no goroutine but had one");
	return 0;
}

#define check_user(r, off, c) check_ctx(r, off, c, MUST, MUST, MUST)

static struct v2_out *push(struct v2 *r, const struct v2_ev *ev,
			   const struct v2_ctx *ctx)
{
	struct v2_out *o = &r->q[r->nq++];

	o->typ = ev->typ;
	o->time = ev->time;
	o->off = ev->off;
	o->ctx = *ctx;
	memcpy(o->a, ev->a, sizeof(o->a));
	o->desc = 0;
	o->self_steal = 0;
	return o;
}

static struct v2_out *push_made(struct v2 *r, const struct v2_ev *ev,
				const struct v2_ctx *ctx, uint8_t typ)
{
	struct v2_out *o = push(r, ev, ctx);

	o->typ = typ;
	memset(o->a, 0, sizeof(o->a));
	return o;
}

static const char *evname(uint8_t t)
{
	return t < V2_NUM_SPECS && rt_v2_specs[t].name ? rt_v2_specs[t].name : "?";
}

static const char *gsname(uint8_t s)
{
	return s < GS_NUM ? g_status_name[s] : "Bad";
}

static const char *psname(uint8_t s)
{
	return s < PS_NUM ? p_status_name[s] : "Bad";
}

/* Persistent id of a name (region names, STW kinds compare across gens). */
static int name_id(struct v2 *r, size_t off, const struct v2_str *s, uint64_t *id)
{
	int err = gs_intern__get(&r->names, s->p, s->len, id, NULL);

	return err ? fail_alloc(r, err, off, "region and STW names") : 0;
}

/* The "current goroutine must be running" checks shared by many events. */
static int running_g(struct v2 *r, const struct v2_ev *ev, const struct v2_ctx *c,
		     uint8_t want, struct v2_g **out)
{
	struct v2_g *g = g_get(r, c->g);

	if (!g)
		return fail(r, ev->off, "event %s for goroutine (%" PRId64 ") that doesn't exist",
			    evname(ev->typ), (int64_t)c->g);
	if (g->status != want)
		return fail(r, ev->off, "%s event for goroutine that's not %s",
			    evname(ev->typ), gsname(want));
	*out = g;
	return 0;
}

/* ---------------------------------------------- the scheduler machine */

/*
 * Each handler decides whether ev, from the M whose context is *c, can
 * happen now: 1 = yes (state updated, events queued in r->q, *nc is the
 * M's new context), 0 = not yet (nothing changed), < 0 = broken trace.
 * These are the rules of Go's internal/trace ordering, rewritten.
 */

static int on_proc_status(struct v2 *r, struct v2_ev *ev, struct v2_ctx *c,
			  struct v2_ctx *nc)
{
	uint64_t pid = ev->a[0], status = ev->a[1];
	struct v2_p *p;
	bool running_before = false;
	int err;

	if (status >= PS_NUM)
		return fail(r, ev->off, "invalid status for proc %" PRIu64 ": %" PRIu64,
			    pid, status);
	p = p_get(r, pid);
	if (p) {
		if (status == PS_ABANDONED && p->status == PS_SYSCALL) {
			/* not new information: the P is still in a syscall */
			running_before = true;
			ev->a[1] = PS_SYSCALL;
		} else if (status == PS_ABANDONED && p->status == PS_ABANDONED) {
			ev->a[1] = PS_ABANDONED;
		} else if (p->status != status) {
			return fail(r, ev->off, "inconsistent status for proc %" PRIu64
				    ": old %s vs. new %s", pid, psname(p->status),
				    psname((uint8_t)status));
		}
		p->seq_gen = r->gen;
		p->seq = 0;
	} else {
		err = p_new(r, ev->off, pid, (uint8_t)status);
		if (err)
			return err;
	}
	if (status == PS_RUNNING || status == PS_SYSCALL)
		nc->p = pid;
	if (running_before) {
		/* emit it in the context of the M that has the P */
		bool found = false;

		for (size_t i = 0; i < r->nms && !found; i++) {
			if (r->ms[i].p == pid) {
				c->m = r->ms[i].id;
				c->p = pid;
				c->g = r->ms[i].g;
				found = true;
			}
		}
		if (!found)
			return fail(r, ev->off, "failed to find sched context for proc %" PRIu64
				    " that's about to be stolen", pid);
	}
	push(r, ev, c);
	return 1;
}

static int on_proc_start(struct v2 *r, struct v2_ev *ev, struct v2_ctx *c,
			 struct v2_ctx *nc)
{
	struct v2_p *p = p_get(r, ev->a[0]);
	int err;

	if (!p || p->status != PS_IDLE || !seq_next(r->gen, ev->a[1], p->seq_gen, p->seq) ||
	    c->p != NO_ID)
		return 0;
	err = check_ctx(r, ev->off, c, MUST, MUST_NOT, MAY);
	if (err)
		return err;
	p->status = PS_RUNNING;
	p->seq_gen = r->gen;
	p->seq = ev->a[1];
	nc->p = ev->a[0];
	push(r, ev, c);
	return 1;
}

static int on_proc_stop(struct v2 *r, struct v2_ev *ev, struct v2_ctx *c,
			struct v2_ctx *nc)
{
	struct v2_p *p = p_get(r, c->p);
	int err;

	if (!p)
		return fail(r, ev->off, "event %s for proc (%" PRId64 ") that doesn't exist",
			    evname(ev->typ), (int64_t)c->p);
	if (p->status != PS_RUNNING && p->status != PS_SYSCALL)
		return fail(r, ev->off, "%s event for proc that's not Running or Syscall",
			    evname(ev->typ));
	err = check_ctx(r, ev->off, c, MUST, MUST, MAY);
	if (err)
		return err;
	p->status = PS_IDLE;
	nc->p = NO_ID;
	push(r, ev, c);
	return 1;
}

static int on_proc_steal(struct v2 *r, struct v2_ev *ev, struct v2_ctx *c,
			 struct v2_ctx *nc)
{
	uint64_t pid = ev->a[0], mid = ev->a[2];
	struct v2_p *p = p_get(r, pid);
	struct v2_m *m;
	uint8_t old;
	int err;

	if (!p || (p->status != PS_SYSCALL && p->status != PS_ABANDONED) ||
	    !seq_next(r->gen, ev->a[1], p->seq_gen, p->seq))
		return 0;
	err = check_ctx(r, ev->off, c, MUST, MAY, MAY);
	if (err)
		return err;
	old = p->status;
	p->status = PS_IDLE;
	p->seq_gen = r->gen;
	p->seq = ev->a[1];
	if (old == PS_ABANDONED) {
		/* the M it was taken from is unknown: leave every M alone */
		push(r, ev, c);
		return 1;
	}
	if (mid == c->m) {
		if (c->p != pid)
			return fail(r, ev->off, "tried to self-steal proc %" PRIu64
				    " (thread %" PRIu64 "), but got proc %" PRId64 " instead",
				    pid, mid, (int64_t)c->p);
		nc->p = NO_ID;
		push(r, ev, c);
		return 1;
	}
	m = m_get(r, mid);
	if (!m)
		return fail(r, ev->off, "stole proc from non-existent thread %" PRIu64, mid);
	if (m->p != pid)
		return fail(r, ev->off, "tried to steal proc %" PRIu64 " from thread %" PRIu64
			    ", but got proc %" PRId64 " instead", pid, mid, (int64_t)m->p);
	m->p = NO_ID; /* lets that M's GoSyscallEndBlocked advance */
	push(r, ev, c);
	return 1;
}

static int on_go_status(struct v2 *r, struct v2_ev *ev, struct v2_ctx *c,
			struct v2_ctx *nc)
{
	uint64_t gid = ev->a[0], mid = ev->a[1], status = ev->a[2];
	struct v2_g *g;
	struct v2_m *m;
	uint32_t mi;
	int err;

	if (status >= GS_NUM)
		return fail(r, ev->off, "invalid status for goroutine %" PRIu64 ": %" PRIu64,
			    gid, status);
	g = g_get(r, gid);
	if (g) {
		if (g->status != status)
			return fail(r, ev->off, "inconsistent status for goroutine %" PRIu64
				    ": old %s vs. new %s", gid, gsname(g->status),
				    gsname((uint8_t)status));
		g->seq_gen = r->gen;
		g->seq = 0;
	} else if (r->gen == r->initial_gen) {
		err = g_new(r, ev->off, gid, (uint8_t)status);
		if (err)
			return err;
	} else {
		return fail(r, ev->off, "found goroutine status for new goroutine after the first generation: id=%" PRIu64
			    " status=%s", gid, gsname((uint8_t)status));
	}
	if (status == GS_RUNNING) {
		nc->g = gid;
	} else if (status == GS_SYSCALL) {
		if (mid == NO_ID)
			return fail(r, ev->off, "found goroutine %" PRIu64 " in syscall without a thread", gid);
		if (mid == c->m) {
			if (r->gen != r->initial_gen && c->g != gid)
				return fail(r, ev->off, "inconsistent thread for syscalling goroutine %" PRIu64
					    ": thread has goroutine %" PRId64, gid, (int64_t)c->g);
			nc->g = gid;
		} else {
			/* a goroutine sitting in a syscall on another M */
			m = m_get(r, mid);
			if (m) {
				if (m->g != gid)
					return fail(r, ev->off, "inconsistent thread for syscalling goroutine %" PRIu64
						    ": thread has goroutine %" PRId64, gid, (int64_t)m->g);
				c->g = m->g;
			} else {
				err = m_index(r, ev->off, mid, gid, &mi);
				if (err)
					return err;
			}
			c->m = mid;
		}
	}
	push(r, ev, c);
	return 1;
}

static int on_go_create(struct v2 *r, struct v2_ev *ev, struct v2_ctx *c,
			struct v2_ctx *nc)
{
	struct v2_g *g;
	int err;

	err = check_ctx(r, ev->off, c, MUST, MUST, MAY);
	if (err)
		return err;
	g = g_get(r, c->g);
	if (g && g->status != GS_RUNNING)
		return fail(r, ev->off, "%s event for goroutine that's not Running",
			    evname(ev->typ));
	if (g_get(r, ev->a[0]))
		return fail(r, ev->off, "tried to create goroutine (%" PRIu64 ") that already exists",
			    ev->a[0]);
	err = g_new(r, ev->off, ev->a[0],
		    ev->typ == V2_EV_GO_CREATE_BLOCKED ? GS_WAITING : GS_RUNNABLE);
	if (err)
		return err;
	push(r, ev, c);
	return 1;
}

/* GoStop, GoBlock, GoDestroy */
static int on_go_stop(struct v2 *r, struct v2_ev *ev, struct v2_ctx *c,
		      struct v2_ctx *nc)
{
	struct v2_g *g;
	int err;

	err = check_user(r, ev->off, c);
	if (!err)
		err = running_g(r, ev, c, GS_RUNNING, &g);
	if (err)
		return err;
	if (ev->typ == V2_EV_GO_DESTROY) {
		err = g_del(r, c->g);
		if (err)
			return err;
	} else {
		g->status = ev->typ == V2_EV_GO_STOP ? GS_RUNNABLE : GS_WAITING;
	}
	nc->g = NO_ID;
	push(r, ev, c);
	return 1;
}

static int on_go_start(struct v2 *r, struct v2_ev *ev, struct v2_ctx *c,
		       struct v2_ctx *nc)
{
	struct v2_g *g = g_get(r, ev->a[0]);
	int err;

	if (!g || g->status != GS_RUNNABLE || !seq_next(r->gen, ev->a[1], g->seq_gen, g->seq))
		return 0;
	err = check_ctx(r, ev->off, c, MUST, MUST, MUST_NOT);
	if (err)
		return err;
	g->status = GS_RUNNING;
	g->seq_gen = r->gen;
	g->seq = ev->a[1];
	nc->g = ev->a[0];
	push(r, ev, c);
	return 1;
}

static int on_go_unblock(struct v2 *r, struct v2_ev *ev, struct v2_ctx *c,
			 struct v2_ctx *nc)
{
	struct v2_g *g = g_get(r, ev->a[0]);

	if (!g || g->status != GS_WAITING || !seq_next(r->gen, ev->a[1], g->seq_gen, g->seq))
		return 0;
	g->status = GS_RUNNABLE;
	g->seq_gen = r->gen;
	g->seq = ev->a[1];
	push(r, ev, c); /* anyone may unblock: no context to check */
	return 1;
}

/* Coroutine switch: unblock the target, block (or end) self, start target. */
static int on_go_switch(struct v2 *r, struct v2_ev *ev, struct v2_ctx *c,
			struct v2_ctx *nc)
{
	struct v2_g *self, *next;
	struct v2_ctx start = *c;
	int err;

	err = check_user(r, ev->off, c);
	if (!err)
		err = running_g(r, ev, c, GS_RUNNING, &self);
	if (err)
		return err;
	next = g_get(r, ev->a[0]);
	if (!next || next->status != GS_WAITING ||
	    !seq_next(r->gen, ev->a[1], next->seq_gen, next->seq))
		return 0;
	push(r, ev, c);
	next->status = GS_RUNNING;
	next->seq_gen = r->gen;
	next->seq = ev->a[1];
	if (ev->typ == V2_EV_GO_SWITCH) {
		self->status = GS_WAITING;
		push_made(r, ev, c, V2_EV_GO_BLOCK);
	} else {
		err = g_del(r, c->g);
		if (err)
			return err;
		push_made(r, ev, c, V2_EV_GO_DESTROY);
	}
	nc->g = ev->a[0];
	start.g = NO_ID;
	push_made(r, ev, &start, V2_EV_GO_START)->a[0] = ev->a[0];
	r->q[r->nq - 1].a[1] = ev->a[1];
	return 1;
}

static int on_syscall_begin(struct v2 *r, struct v2_ev *ev, struct v2_ctx *c,
			    struct v2_ctx *nc)
{
	struct v2_g *g;
	struct v2_p *p;
	int err;

	err = check_user(r, ev->off, c);
	if (!err)
		err = running_g(r, ev, c, GS_RUNNING, &g);
	if (err)
		return err;
	g->status = GS_SYSCALL;
	p = p_get(r, c->p);
	if (!p)
		return fail(r, ev->off, "uninitialized proc %" PRId64 " found during %s",
			    (int64_t)c->p, evname(ev->typ));
	p->status = PS_SYSCALL;
	if (!seq_next(r->gen, ev->a[0], p->seq_gen, p->seq))
		return fail(r, ev->off, "failed to advance %s: can't make sequence: %" PRIu64
			    " (gen=%" PRIu64 ") -> %" PRIu64 " (gen=%" PRIu64 ")",
			    evname(ev->typ), p->seq, p->seq_gen, ev->a[0], r->gen);
	p->seq_gen = r->gen;
	p->seq = ev->a[0];
	push(r, ev, c);
	return 1;
}

static int on_syscall_end(struct v2 *r, struct v2_ev *ev, struct v2_ctx *c,
			  struct v2_ctx *nc)
{
	struct v2_g *g;
	struct v2_p *p;
	int err;

	err = check_user(r, ev->off, c);
	if (err)
		return err;
	g = g_get(r, c->g);
	if (!g)
		return fail(r, ev->off, "event %s for goroutine (%" PRId64 ") that doesn't exist",
			    evname(ev->typ), (int64_t)c->g);
	if (g->status != GS_SYSCALL)
		return fail(r, ev->off, "%s event for goroutine that's not Syscall",
			    evname(ev->typ));
	g->status = GS_RUNNING;
	p = p_get(r, c->p);
	if (!p)
		return fail(r, ev->off, "uninitialized proc %" PRId64 " found during %s",
			    (int64_t)c->p, evname(ev->typ));
	if (p->status != PS_SYSCALL)
		return fail(r, ev->off, "expected proc %" PRIu64 " in state Syscall, but got %s instead",
			    c->p, psname(p->status));
	p->status = PS_RUNNING;
	push(r, ev, c);
	return 1;
}

/* Only once the M has lost its P (ProcSteal elsewhere, or ProcStop). */
static int on_syscall_end_blocked(struct v2 *r, struct v2_ev *ev, struct v2_ctx *c,
				  struct v2_ctx *nc)
{
	struct v2_g *g;
	int err;

	if (c->p != NO_ID) {
		struct v2_p *p = p_get(r, c->p);

		if (!p)
			return fail(r, ev->off, "uninitialized proc %" PRId64 " found during %s",
				    (int64_t)c->p, evname(ev->typ));
		if (p->status == PS_SYSCALL)
			return 0;
	}
	err = check_ctx(r, ev->off, c, MUST, MAY, MUST);
	if (err)
		return err;
	g = g_get(r, c->g);
	if (!g)
		return fail(r, ev->off, "event %s for goroutine (%" PRId64 ") that doesn't exist",
			    evname(ev->typ), (int64_t)c->g);
	if (g->status != GS_SYSCALL)
		return fail(r, ev->off, "%s event for goroutine that's not Syscall",
			    evname(ev->typ));
	g->status = GS_RUNNABLE;
	nc->g = NO_ID;
	push(r, ev, c);
	return 1;
}

static int on_create_syscall(struct v2 *r, struct v2_ev *ev, struct v2_ctx *c,
			     struct v2_ctx *nc)
{
	int err = check_ctx(r, ev->off, c, MUST, MAY, MUST_NOT);

	if (err)
		return err;
	if (g_get(r, ev->a[0]))
		return fail(r, ev->off, "tried to create goroutine (%" PRIu64
			    ") in syscall that already exists", ev->a[0]);
	err = g_new(r, ev->off, ev->a[0], GS_SYSCALL);
	if (err)
		return err;
	nc->g = ev->a[0];
	push(r, ev, c);
	return 1;
}

/*
 * A cgo callback goroutine ends.  A P it holds is given up as
 * "abandoned" and reported as a ProcSteal by the M itself.
 */
static int on_destroy_syscall(struct v2 *r, struct v2_ev *ev, struct v2_ctx *c,
			      struct v2_ctx *nc)
{
	struct v2_g *g;
	int err;

	err = check_ctx(r, ev->off, c, MUST, MAY, MUST);
	if (err)
		return err;
	g = g_get(r, c->g);
	if (!g)
		return fail(r, ev->off, "event %s for goroutine (%" PRId64 ") that doesn't exist",
			    evname(ev->typ), (int64_t)c->g);
	if (g->status != GS_SYSCALL)
		return fail(r, ev->off, "%s event for goroutine that's not Syscall",
			    evname(ev->typ));
	err = g_del(r, c->g);
	if (err)
		return err;
	nc->g = NO_ID;
	if (c->p != NO_ID) {
		struct v2_p *p = p_get(r, c->p);
		struct v2_out *o;

		if (!p)
			return fail(r, ev->off, "found invalid proc %" PRId64 " during %s",
				    (int64_t)c->p, evname(ev->typ));
		if (p->status != PS_SYSCALL)
			return fail(r, ev->off, "proc %" PRIu64 " in unexpected state %s during %s",
				    c->p, psname(p->status), evname(ev->typ));
		p->status = PS_ABANDONED;
		nc->p = NO_ID;
		o = push_made(r, ev, c, V2_EV_PROC_STEAL);
		o->a[0] = c->p;
		o->self_steal = 1;
	}
	push(r, ev, c);
	return 1;
}

static int on_task_begin(struct v2 *r, struct v2_ev *ev, struct v2_ctx *c,
			 struct v2_ctx *nc)
{
	int err;

	if (map_get(&r->tasks, ev->a[0]) != NONE32)
		return fail(r, ev->off, "task ID conflict: %" PRIu64, ev->a[0]);
	if (!str_get(r, ev->a[2]))
		return fail(r, ev->off, "invalid string ID %" PRIu64 " for %s event",
			    ev->a[2], evname(ev->typ));
	err = map_put(&r->tasks, ev->a[0], 0);
	if (err)
		return fail_alloc(r, err, ev->off, "tasks");
	err = check_user(r, ev->off, c);
	if (err)
		return err;
	push(r, ev, c);
	return 1;
}

static int on_task_end(struct v2 *r, struct v2_ev *ev, struct v2_ctx *c,
		       struct v2_ctx *nc)
{
	int err;

	map_del(&r->tasks, ev->a[0]);
	err = check_user(r, ev->off, c);
	if (err)
		return err;
	push(r, ev, c);
	return 1;
}

static int on_region(struct v2 *r, struct v2_ev *ev, struct v2_ctx *c,
		     struct v2_ctx *nc)
{
	const struct v2_str *s;
	struct v2_gext *x;
	uint64_t name;
	int err;

	err = check_user(r, ev->off, c);
	if (err)
		return err;
	s = str_get(r, ev->a[1]);
	if (!s)
		return fail(r, ev->off, "invalid string ID %" PRIu64 " for %s event",
			    ev->a[1], evname(ev->typ));
	if (!g_get(r, c->g))
		return fail(r, ev->off, "encountered Ev%s without known state for current goroutine %" PRIu64,
			    evname(ev->typ), c->g);
	err = name_id(r, ev->off, s, &name);
	if (!err)
		err = g_ext(r, c->g, &x);
	if (err)
		return err;
	if (ev->typ == V2_EV_USER_REGION_BEGIN) {
		err = grow(r, &x->reg, &x->capreg, sizeof(*x->reg), x->nreg + 1,
			   V2_MAX_NEST, "nested regions");
		if (err)
			return err;
		x->reg[x->nreg].task = ev->a[0];
		x->reg[x->nreg].name = name;
		x->nreg++;
	} else if (x->nreg) { /* regions begun before the trace are unknown */
		struct v2_region *top = &x->reg[x->nreg - 1];

		if (top->task != ev->a[0] || top->name != name)
			return fail(r, ev->off, "misuse of region in goroutine %" PRIu64
				    ": region end {%" PRIu64 " %.*s} when the inner-most active region start event is {%" PRIu64 "}",
				    c->g, ev->a[0], (int)s->len, (const char *)s->p, top->task);
		x->nreg--;
	}
	push(r, ev, c);
	return 1;
}

static int on_gc(struct v2 *r, struct v2_ev *ev, struct v2_ctx *c,
		 struct v2_ctx *nc)
{
	uint64_t seq = ev->a[0];
	int err;

	switch (ev->typ) {
	case V2_EV_GC_ACTIVE:
		if (r->gen == r->initial_gen) {
			if (r->gc_state != GC_UNDETERMINED)
				return fail(r, ev->off, "GCActive in the first generation isn't first GC event");
			r->gc_seq = seq;
			r->gc_state = GC_RUNNING;
			push(r, ev, c);
			return 1;
		}
		if (seq != r->gc_seq + 1)
			return 0;
		if (r->gc_state != GC_RUNNING)
			return fail(r, ev->off, "encountered GCActive while GC was not in progress");
		break;
	case V2_EV_GC_BEGIN:
		if (r->gc_state == GC_UNDETERMINED) {
			r->gc_seq = seq;
			r->gc_state = GC_RUNNING;
			push(r, ev, c);
			return 1;
		}
		if (seq != r->gc_seq + 1)
			return 0;
		if (r->gc_state == GC_RUNNING)
			return fail(r, ev->off, "encountered GCBegin while GC was already in progress");
		r->gc_state = GC_RUNNING;
		break;
	default: /* GCEnd */
		if (seq != r->gc_seq + 1)
			return 0;
		if (r->gc_state == GC_NOT_RUNNING)
			return fail(r, ev->off, "encountered GCEnd when GC was not in progress");
		if (r->gc_state == GC_UNDETERMINED)
			return fail(r, ev->off, "encountered GCEnd when GC was in an undetermined state");
		r->gc_state = GC_NOT_RUNNING;
		break;
	}
	r->gc_seq = seq;
	err = check_user(r, ev->off, c);
	if (err)
		return err;
	push(r, ev, c);
	return 1;
}

static int on_sweep(struct v2 *r, struct v2_ev *ev, struct v2_ctx *c,
		    struct v2_ctx *nc)
{
	struct v2_p *p;
	int err;

	if (ev->typ == V2_EV_GC_SWEEP_ACTIVE) {
		p = p_get(r, ev->a[0]);
		if (!p)
			return fail(r, ev->off, "encountered GCSweepActive for unknown proc %" PRIu64,
				    ev->a[0]);
		if (r->gen == r->initial_gen) {
			if (p->sweep)
				return fail(r, ev->off, "found named active range already in first gen: GCSweepBegin");
			p->sweep = 1;
		} else if (!p->sweep) {
			return fail(r, ev->off, "resource is missing active range: GCSweepBegin");
		}
		push(r, ev, c);
		return 1;
	}
	err = check_ctx(r, ev->off, c, MUST, MUST, MAY);
	if (err)
		return err;
	p = p_get(r, c->p);
	if (!p)
		return fail(r, ev->off, "uninitialized proc %" PRId64 " found during %s",
			    (int64_t)c->p, evname(ev->typ));
	if (ev->typ == V2_EV_GC_SWEEP_BEGIN) {
		if (p->sweep)
			return fail(r, ev->off, "discovered event already in-flight for when starting event GCSweepBegin");
		p->sweep = 1;
	} else {
		if (!p->sweep)
			return fail(r, ev->off, "tried to end event GCSweepBegin, but not in-flight");
		p->sweep = 0;
	}
	push(r, ev, c);
	return 1;
}

static bool has_range(const struct v2_gext *x, uint8_t typ, uint64_t desc)
{
	for (size_t i = 0; x && i < x->nrng; i++)
		if (x->rng[i].typ == typ && x->rng[i].desc == desc)
			return true;
	return false;
}

static int add_range(struct v2 *r, size_t off, struct v2_gext *x, uint8_t typ,
		     uint64_t desc)
{
	int err = grow(r, &x->rng, &x->caprng, sizeof(*x->rng), x->nrng + 1,
		       V2_MAX_NEST, "open ranges");

	if (err)
		return err;
	x->rng[x->nrng].typ = typ;
	x->rng[x->nrng].desc = desc;
	x->nrng++;
	return 0;
}

/* STW and mark assist ranges, bound to the goroutine. */
static int on_go_range(struct v2 *r, struct v2_ev *ev, struct v2_ctx *c,
		       struct v2_ctx *nc)
{
	uint8_t typ = ev->typ == V2_EV_STW_BEGIN || ev->typ == V2_EV_STW_END ?
		      V2_EV_STW_BEGIN : V2_EV_GC_MARK_ASSIST_BEGIN;
	uint64_t gid = c->g, desc = 0;
	struct v2_gext *x;
	struct v2_out *o;
	size_t i;
	int err;

	if (ev->typ == V2_EV_GC_MARK_ASSIST_ACTIVE) {
		gid = ev->a[0];
		if (!g_get(r, gid))
			return fail(r, ev->off, "uninitialized goroutine %" PRIu64 " found during %s",
				    gid, evname(ev->typ));
	} else {
		err = check_user(r, ev->off, c);
		if (err)
			return err;
		if (!g_get(r, gid))
			return fail(r, ev->off, "encountered event of type %u without known state for current goroutine %" PRIu64,
				    ev->typ, gid);
	}
	err = g_ext(r, gid, &x);
	if (err)
		return err;
	switch (ev->typ) {
	case V2_EV_GC_MARK_ASSIST_ACTIVE:
		if (r->gen == r->initial_gen) {
			if (has_range(x, typ, 0))
				return fail(r, ev->off, "found named active range already in first gen: GCMarkAssistBegin");
			err = add_range(r, ev->off, x, typ, 0);
			if (err)
				return err;
		} else if (!has_range(x, typ, 0)) {
			return fail(r, ev->off, "resource is missing active range: GCMarkAssistBegin");
		}
		break;
	case V2_EV_STW_BEGIN:
	case V2_EV_GC_MARK_ASSIST_BEGIN:
		if (ev->typ == V2_EV_STW_BEGIN) {
			const struct v2_str *s = str_get(r, ev->a[0]);

			desc = 1ull << 63 | ev->a[0]; /* unknown: emit will fail */
			if (s) {
				err = name_id(r, ev->off, s, &desc);
				if (err)
					return err;
			}
		}
		if (has_range(x, typ, desc))
			return fail(r, ev->off, "discovered event already in-flight for when starting event %s",
				    evname(typ));
		err = add_range(r, ev->off, x, typ, desc);
		if (err)
			return err;
		break;
	default: /* STWEnd, GCMarkAssistEnd: the first open range of the type */
		for (i = 0; i < x->nrng && x->rng[i].typ != typ; i++)
			;
		if (i == x->nrng)
			return fail(r, ev->off, "tried to end event %s, but not in-flight",
				    evname(typ));
		desc = x->rng[i].desc;
		x->rng[i] = x->rng[x->nrng - 1];
		x->nrng--;
		break;
	}
	o = push(r, ev, c);
	o->desc = desc;
	return 1;
}

/* ProcsChange, GoLabel, UserLog; HeapAlloc, HeapGoal; AllocFree events */
static int on_simple(struct v2 *r, struct v2_ev *ev, struct v2_ctx *c,
		     struct v2_ctx *nc)
{
	int err;

	if (ev->typ == V2_EV_HEAP_ALLOC || ev->typ == V2_EV_HEAP_GOAL)
		err = check_ctx(r, ev->off, c, MUST, MUST, MAY);
	else if (ev->typ >= V2_EV_EXP_FIRST)
		err = check_ctx(r, ev->off, c, MUST, MAY, MAY);
	else
		err = check_user(r, ev->off, c);
	if (err)
		return err;
	push(r, ev, c);
	return 1;
}

/*
 * rt_v2_deviations: where this decoder knowingly differs from Go's reader.
 *
 *  - Ties: when no M's head event can advance, Go sorts the frontier with
 *    an unstable sort that is an insertion sort up to 12 elements; we do the
 *    same up to 12 and use a stable merge sort above, so with more than 12
 *    threads, events with equal times may be tried in a different order.
 *    CPU samples with equal times keep their file order (Go: unspecified).
 *  - STW kinds and region names are compared by content, not by their
 *    per-generation string id, so a range begun in one generation and
 *    ended in the next is matched correctly (Go compares ids, and its
 *    STWEnd lookup then uses the wrong generation's table).
 *  - ProcStatus(SyscallAbandoned) for a P bound to several Ms (broken
 *    traces only) picks the M seen first; Go picks one at random.
 *  - Sizes: P ids above 2^31 - 1 (the sink's int32), and more than the
 *    V2_MAX_* goroutines, threads, procs, tasks, names, table entries or
 *    nested ranges, fail with -GS_E_LIMIT; Go has no bounds.  So does a
 *    trace whose ordering needs more than V2_SLOW_WORK + V2_SLOW_PER_EVENT
 *    per event steps of the slow path (Go: quadratic time; real traces
 *    take the slow path a few times in all).
 *  - Sink view: Go's Sync events are the generation() callback (their
 *    effect on timestamps is kept); GoStatus has from = 0 as rt_gotrace.h
 *    says (Go: Undetermined or the previous state); the ProcSteal made up
 *    for GoDestroySyscall names the M itself (Go: 0); a CPU sample whose
 *    stack id is not in the table reports stack 0; AllocFree experiment
 *    events and clock snapshots are read and ordered but not reported.
 *  - float64 -> int64 time conversion behaves as on amd64 (INT64_MIN when
 *    out of range); Go on other architectures may saturate instead.
 *  - Messages carry the input name and offset; a few name event types
 *    where Go prints their number.
 */

/* The handler of an event type (a switch, so that the hot ones inline). */
static inline int handle(struct v2 *r, struct v2_ev *ev, struct v2_ctx *c,
			 struct v2_ctx *nc)
{
	switch (ev->typ) {
	case V2_EV_GO_START:
		return on_go_start(r, ev, c, nc);
	case V2_EV_GO_BLOCK:
	case V2_EV_GO_STOP:
	case V2_EV_GO_DESTROY:
		return on_go_stop(r, ev, c, nc);
	case V2_EV_GO_UNBLOCK:
		return on_go_unblock(r, ev, c, nc);
	case V2_EV_PROCS_CHANGE:
	case V2_EV_HEAP_ALLOC:
	case V2_EV_HEAP_GOAL:
	case V2_EV_GO_LABEL:
	case V2_EV_USER_LOG:
		return on_simple(r, ev, c, nc);
	case V2_EV_PROC_START:
		return on_proc_start(r, ev, c, nc);
	case V2_EV_PROC_STOP:
		return on_proc_stop(r, ev, c, nc);
	case V2_EV_PROC_STEAL:
		return on_proc_steal(r, ev, c, nc);
	case V2_EV_PROC_STATUS:
		return on_proc_status(r, ev, c, nc);
	case V2_EV_GO_CREATE:
	case V2_EV_GO_CREATE_BLOCKED:
		return on_go_create(r, ev, c, nc);
	case V2_EV_GO_CREATE_SYSCALL:
		return on_create_syscall(r, ev, c, nc);
	case V2_EV_GO_DESTROY_SYSCALL:
		return on_destroy_syscall(r, ev, c, nc);
	case V2_EV_GO_SYSCALL_BEGIN:
		return on_syscall_begin(r, ev, c, nc);
	case V2_EV_GO_SYSCALL_END:
		return on_syscall_end(r, ev, c, nc);
	case V2_EV_GO_SYSCALL_END_BLOCKED:
		return on_syscall_end_blocked(r, ev, c, nc);
	case V2_EV_GO_STATUS:
	case V2_EV_GO_STATUS_STACK:
		return on_go_status(r, ev, c, nc);
	case V2_EV_STW_BEGIN:
	case V2_EV_STW_END:
	case V2_EV_GC_MARK_ASSIST_ACTIVE:
	case V2_EV_GC_MARK_ASSIST_BEGIN:
	case V2_EV_GC_MARK_ASSIST_END:
		return on_go_range(r, ev, c, nc);
	case V2_EV_GC_ACTIVE:
	case V2_EV_GC_BEGIN:
	case V2_EV_GC_END:
		return on_gc(r, ev, c, nc);
	case V2_EV_GC_SWEEP_ACTIVE:
	case V2_EV_GC_SWEEP_BEGIN:
	case V2_EV_GC_SWEEP_END:
		return on_sweep(r, ev, c, nc);
	case V2_EV_USER_TASK_BEGIN:
		return on_task_begin(r, ev, c, nc);
	case V2_EV_USER_TASK_END:
		return on_task_end(r, ev, c, nc);
	case V2_EV_USER_REGION_BEGIN:
	case V2_EV_USER_REGION_END:
		return on_region(r, ev, c, nc);
	case V2_EV_GO_SWITCH:
	case V2_EV_GO_SWITCH_DESTROY:
		return on_go_switch(r, ev, c, nc);
	default:
		if (ev->typ >= V2_EV_EXP_FIRST && ev->typ <= V2_EV_EXP_LAST)
			return on_simple(r, ev, c, nc);
		return fail(r, ev->off, "bad event type found while ordering: %u", ev->typ);
	}
}

/* Offer c's next event to the state machine (Go's ordering.Advance). */
static inline int advance(struct v2 *r, struct v2_cursor *c)
{
	struct v2_ev *ev = &c->ev;
	struct v2_ctx ctx, nc;
	struct v2_m *m = NULL;
	int ok;

	ctx.m = c->m;
	ctx.p = ctx.g = NO_ID;
	if (c->m != NO_ID) {
		if (__builtin_expect(c->ms == NONE32, 0)) {
			int err = m_index(r, ev->off, c->m, NO_ID, &c->ms);

			if (err)
				return err;
		}
		m = &r->ms[c->ms];
		ctx.p = m->p;
		ctx.g = m->g;
	}
	nc = ctx;
	r->nq = 0;
	ok = handle(r, ev, &ctx, &nc);
	if (ok == 1 && m) {
		/* handlers may add Ms: m may have moved */
		m = &r->ms[c->ms];
		m->p = nc.p;
		m->g = nc.g;
	}
	return ok;
}

/* ------------------------------------------------------------ output */

#define K(x) GSCOPE__V1__GO_EVENT_KIND__GO_EV_##x
#define S(x) GSCOPE__V1__GO_STATE__GO_STATE_##x

static inline int32_t sink_p(uint64_t p)
{
	return p <= V2_MAX_PID ? (int32_t)p : -1;
}

static inline uint64_t sink_g(uint64_t g)
{
	return g == NO_ID ? 0 : g;
}

static inline void set_str(const struct v2_str *s, const char **p, size_t *n)
{
	*p = (const char *)s->p;
	*n = s->len;
}

static void set_trans(struct rt_go_event *e, uint32_t kind, uint64_t g,
		      uint8_t from, uint8_t to)
{
	e->kind = kind;
	e->g = g;
	e->from = from;
	e->to = to;
}

/* Event e to the sink: converted into the block, or one by one. */
static inline __attribute__((always_inline)) int out_event(struct v2 *r,
							   const struct rt_go_event *e)
{
	const struct rt_go_sink *k = r->sink;

	if (!r->blk.ev)
		return k && k->event ? k->event(k->ctx, e) : 0;
	return rt_goblock__add(&r->blk, e, false);
}

/*
 * Validate the table ids of a queued event (as Go does when it hands the
 * event out), make its time strictly increasing, and give it to the sink.
 */
static int emit(struct v2 *r, struct v2_out *o)
{
	const struct rt_v2_spec *s = &rt_v2_specs[o->typ];
	const struct v2_str *str[2] = { NULL, NULL };
	const uint64_t *a = o->a;
	struct rt_go_event e;

	for (int i = 0; i < 2 && s->stk[i]; i++)
		if (!stack_ok(r, a[s->stk[i] - 1]))
			return fail(r, o->off, "found invalid stack ID %" PRIu64 " for event %s",
				    a[s->stk[i] - 1], s->name);
	for (int i = 0; i < 2 && s->str[i]; i++) {
		str[i] = str_get(r, a[s->str[i] - 1]);
		if (!str[i])
			return fail(r, o->off, "found invalid string ID %" PRIu64 " for event %s",
				    a[s->str[i] - 1], s->name);
	}
	o->time = tfix(r, o->time);
	if (o->typ >= V2_EV_EXP_FIRST)
		return 0; /* AllocFree experiment: ordered, not reported */

	/* field by field: a memset here is a measurable cost */
	e.ts = (uint64_t)o->time;
	e.tick = 0; /* no sink clock: ts is not a function of the tick alone */
	e.kind = 0;
	e.from = e.to = 0;
	e.p = sink_p(o->ctx.p);
	e.g = sink_g(o->ctx.g);
	e.m = o->ctx.m;
	e.stack = e.arg = e.arg2 = 0;
	e.str = e.str2 = NULL;
	e.str_len = e.str2_len = 0;
	switch (o->typ) {
	case V2_EV_PROCS_CHANGE:
		e.kind = K(PROCS);
		e.arg = a[0];
		e.stack = a[1];
		break;
	case V2_EV_PROC_START:
		e.kind = K(PROC_START);
		e.p = sink_p(a[0]);
		e.arg = a[1];
		break;
	case V2_EV_PROC_STOP:
		e.kind = K(PROC_STOP);
		break;
	case V2_EV_PROC_STEAL:
		e.kind = K(PROC_STEAL);
		e.p = sink_p(a[0]);
		e.arg = o->self_steal ? o->ctx.m : a[2];
		break;
	case V2_EV_PROC_STATUS:
		e.kind = K(PROC_STATUS);
		e.p = sink_p(a[0]);
		e.arg = a[1];
		break;
	case V2_EV_GO_CREATE:
	case V2_EV_GO_CREATE_BLOCKED:
		set_trans(&e, K(CREATE), a[0], S(DEAD),
			  o->typ == V2_EV_GO_CREATE ? S(RUNNABLE) : S(WAITING));
		e.stack = a[2];
		e.arg = sink_g(o->ctx.g);
		e.arg2 = a[1];
		break;
	case V2_EV_GO_CREATE_SYSCALL:
		set_trans(&e, K(CREATE), a[0], S(DEAD), S(SYSCALL));
		e.arg = sink_g(o->ctx.g);
		break;
	case V2_EV_GO_START:
		set_trans(&e, K(START), a[0], S(RUNNABLE), S(RUNNING));
		break;
	case V2_EV_GO_DESTROY:
		set_trans(&e, K(DESTROY), e.g, S(RUNNING), S(DEAD));
		break;
	case V2_EV_GO_DESTROY_SYSCALL:
		set_trans(&e, K(DESTROY), e.g, S(SYSCALL), S(DEAD));
		break;
	case V2_EV_GO_STOP:
		set_trans(&e, K(STOP), e.g, S(RUNNING), S(RUNNABLE));
		set_str(str[0], &e.str, &e.str_len);
		e.stack = a[1];
		break;
	case V2_EV_GO_BLOCK:
		set_trans(&e, K(BLOCK), e.g, S(RUNNING), S(WAITING));
		set_str(str[0], &e.str, &e.str_len);
		e.stack = a[1];
		break;
	case V2_EV_GO_UNBLOCK:
	case V2_EV_GO_SWITCH:
	case V2_EV_GO_SWITCH_DESTROY:
		set_trans(&e, K(UNBLOCK), a[0], S(WAITING), S(RUNNABLE));
		e.arg = sink_g(o->ctx.g);
		if (o->typ == V2_EV_GO_UNBLOCK)
			e.stack = a[2];
		break;
	case V2_EV_GO_SYSCALL_BEGIN:
		set_trans(&e, K(SYSCALL_BEGIN), e.g, S(RUNNING), S(SYSCALL));
		e.stack = a[1];
		break;
	case V2_EV_GO_SYSCALL_END:
		set_trans(&e, K(SYSCALL_END), e.g, S(SYSCALL), S(RUNNING));
		break;
	case V2_EV_GO_SYSCALL_END_BLOCKED:
		set_trans(&e, K(SYSCALL_END), e.g, S(SYSCALL), S(RUNNABLE));
		break;
	case V2_EV_GO_STATUS:
	case V2_EV_GO_STATUS_STACK:
		/* wire statuses 1..4 are the GoState values */
		set_trans(&e, K(STATUS), a[0], 0, (uint8_t)a[2]);
		e.arg = a[1];
		if (o->typ == V2_EV_GO_STATUS_STACK)
			e.stack = a[3];
		break;
	case V2_EV_STW_BEGIN:
		e.kind = K(STW_BEGIN);
		set_str(str[0], &e.str, &e.str_len);
		e.stack = a[1];
		break;
	case V2_EV_STW_END: {
		size_t n = 0;
		const char *p = o->desc >> 63 ? NULL :
				gs_intern__key(&r->names, o->desc, &n);

		e.kind = K(STW_END);
		e.str = p ? p : "";
		e.str_len = p ? n : 0;
		break;
	}
	case V2_EV_GC_ACTIVE:
		e.kind = K(GC_ACTIVE);
		e.arg = a[0];
		break;
	case V2_EV_GC_BEGIN:
		e.kind = K(GC_BEGIN);
		e.arg = a[0];
		e.stack = a[1];
		break;
	case V2_EV_GC_END:
		e.kind = K(GC_END);
		e.arg = a[0];
		break;
	case V2_EV_GC_SWEEP_ACTIVE:
		e.kind = K(SWEEP_ACTIVE);
		e.p = sink_p(a[0]);
		e.arg = a[0];
		break;
	case V2_EV_GC_SWEEP_BEGIN:
		e.kind = K(SWEEP_BEGIN);
		e.stack = a[0];
		break;
	case V2_EV_GC_SWEEP_END:
		e.kind = K(SWEEP_END);
		e.arg = a[0];
		e.arg2 = a[1];
		break;
	case V2_EV_GC_MARK_ASSIST_ACTIVE:
		e.kind = K(MARK_ASSIST_ACTIVE);
		e.g = a[0];
		break;
	case V2_EV_GC_MARK_ASSIST_BEGIN:
		e.kind = K(MARK_ASSIST_BEGIN);
		e.stack = a[0];
		break;
	case V2_EV_GC_MARK_ASSIST_END:
		e.kind = K(MARK_ASSIST_END);
		break;
	case V2_EV_HEAP_ALLOC:
		e.kind = K(HEAP_ALLOC);
		e.arg = a[0];
		break;
	case V2_EV_HEAP_GOAL:
		e.kind = K(HEAP_GOAL);
		e.arg = a[0];
		break;
	case V2_EV_GO_LABEL:
		e.kind = K(LABEL);
		set_str(str[0], &e.str, &e.str_len);
		break;
	case V2_EV_USER_TASK_BEGIN:
		e.kind = K(TASK_BEGIN);
		e.arg = a[0];
		e.arg2 = a[1];
		set_str(str[0], &e.str, &e.str_len);
		e.stack = a[3];
		break;
	case V2_EV_USER_TASK_END:
		e.kind = K(TASK_END);
		e.arg = a[0];
		e.stack = a[1];
		break;
	case V2_EV_USER_REGION_BEGIN:
	case V2_EV_USER_REGION_END:
		e.kind = o->typ == V2_EV_USER_REGION_BEGIN ? K(REGION_BEGIN) : K(REGION_END);
		e.arg = a[0];
		set_str(str[0], &e.str, &e.str_len);
		e.stack = a[2];
		break;
	case V2_EV_USER_LOG:
		e.kind = K(LOG);
		e.arg = a[0];
		set_str(str[0], &e.str, &e.str_len);
		set_str(str[1], &e.str2, &e.str2_len);
		e.stack = a[3];
		break;
	default:
		return 0;
	}
	r->st->events++;
	return out_event(r, &e);
}

static int emit_sample(struct v2 *r, const struct v2_sample *s)
{
	const struct rt_go_sink *k = r->sink;
	int64_t t = tfix(r, s->time);
	uint64_t stack = stack_ok(r, s->stack) ? s->stack : 0;
	int err;

	r->st->cpu_samples++;
	if (!k || !k->cpu_sample)
		return 0;
	err = rt_goblock__flush(&r->blk);
	if (err)
		return err;
	/* the runtime writes "no P" as -1 */
	return k->cpu_sample(k->ctx, (uint64_t)t, s->g, sink_p(s->p), s->m, stack);
}

/* A new generation's frontier, sync point, sink call and stacks. */
static int install_gen(struct v2 *r)
{
	const struct rt_go_sink *k = r->sink;
	int err;

	err = grow(r, &r->heap, &r->capheap, sizeof(*r->heap), 2 * r->ncur,
		   2 * (size_t)V2_MAX_BATCHES, "threads");
	if (!err)
		err = grow(r, &r->htime, &r->caphtime, sizeof(*r->htime), 2 * r->ncur,
			   2 * (size_t)V2_MAX_BATCHES, "threads");
	if (err)
		return err;
	r->fast_time = r->freq >= 0.0 && r->freq < 2147483648.0;
	r->ifreq = r->fast_time && r->freq >= 1.0 && r->freq <= 2097152.0 &&
		   r->freq == (double)(int64_t)r->freq ? (int64_t)r->freq : 0;
	for (size_t i = 0; i < r->ncur; i++) {
		err = cursor_next(r, &r->cur[i]);
		if (err < 0)
			return err;
		if (err) {
			r->heap[r->nheap] = &r->cur[i];
			r->htime[r->nheap] = r->cur[i].ev.time;
			r->nheap++;
			heap_up(r, r->nheap - 1);
		}
	}
	if (r->nheap && !r->initial_gen)
		r->initial_gen = r->gen; /* the first generation with events */
	tfix(r, tmul(r->freq, r->min_ts)); /* Go's Sync event */
	r->have_gen = true;
	r->st->generations++;
	err = rt_goblock__flush(&r->blk); /* converted with the last generation's ids */
	if (err)
		return err;
	if (k && k->generation) {
		err = k->generation(k->ctx, r->gen);
		if (err)
			return err;
	}
	if (!k || !k->stack)
		return 0;
	for (size_t i = 0; i < r->nstacks; i++) {
		const struct v2_stack *st = &r->stacks[i];

		for (uint32_t j = 0; j < st->n; j++) {
			uint64_t pc = r->pcs[st->pc0 + j];
			const struct v2_frame *f = &r->frames[r->pcf[st->pc0 + j]];
			const struct v2_str *fn = str_get(r, f->func);
			const struct v2_str *fl = str_get(r, f->file);
			struct rt_go_frame *o = &r->fbuf[j];

			o->pc = pc;
			o->func = (const char *)fn->p;
			o->func_len = fn->len;
			o->file = (const char *)fl->p;
			o->file_len = fl->len;
			o->line = f->line;
		}
		err = k->stack(k->ctx, st->id, r->fbuf, st->n);
		if (err)
			return err;
	}
	return 0;
}

/* Read and install the next generation.  0: ready, 1: end of trace. */
static int next_gen(struct v2 *r)
{
	int err;

	if (r->ver >= 26) {
		err = read_gen_eog(r);
		if (err)
			return err;
		return install_gen(r);
	}
	if (r->spill_err) {
		memcpy(r->msg, r->spill_msg, sizeof(r->msg));
		r->msg_off = r->spill_off;
		return r->spill_err;
	}
	if (r->have_gen && !r->have_spill)
		return 1;
	err = read_gen_spill(r);
	if (err)
		return err;
	return install_gen(r);
}

/*
 * The common events of a running program, decided and reported here
 * without the generic handler, queue and emit(): 1 when ev advanced (the
 * state, including the M's, is updated and *e is what emit() would report,
 * but for its time, still to be fixed), 0 when the generic path must
 * decide (nothing was changed), < 0 on error.  Only what the handler would
 * accept and emit() would not reject is taken here.
 */
static inline int fast_advance(struct v2 *r, struct v2_cursor *c, struct v2_m *m,
			       struct rt_go_event *e)
{
	const struct v2_ev *ev = &c->ev;
	const struct v2_str *s, *s2;
	struct v2_g *g;
	struct v2_p *p;
	int err;

	e->ts = (uint64_t)ev->time;
	e->tick = 0;
	e->p = sink_p(m->p);
	e->g = sink_g(m->g);
	e->m = c->m;
	e->stack = e->arg = e->arg2 = 0;
	e->str = e->str2 = NULL;
	e->str_len = e->str2_len = 0;
	switch (ev->typ) {
	case V2_EV_GO_START:
		g = g_get(r, ev->a[0]);
		if (!g || g->status != GS_RUNNABLE ||
		    !seq_next(r->gen, ev->a[1], g->seq_gen, g->seq) ||
		    m->p == NO_ID || m->g != NO_ID)
			return 0;
		g->status = GS_RUNNING;
		g->seq_gen = r->gen;
		g->seq = ev->a[1];
		m->g = ev->a[0];
		set_trans(e, K(START), ev->a[0], S(RUNNABLE), S(RUNNING));
		return 1;
	case V2_EV_GO_BLOCK:
	case V2_EV_GO_STOP:
		if (m->p == NO_ID || m->g == NO_ID || !stack_ok(r, ev->a[1]))
			return 0;
		s = str_get(r, ev->a[0]);
		g = g_get(r, m->g);
		if (!s || !g || g->status != GS_RUNNING)
			return 0;
		if (ev->typ == V2_EV_GO_BLOCK) {
			g->status = GS_WAITING;
			set_trans(e, K(BLOCK), e->g, S(RUNNING), S(WAITING));
		} else {
			g->status = GS_RUNNABLE;
			set_trans(e, K(STOP), e->g, S(RUNNING), S(RUNNABLE));
		}
		m->g = NO_ID;
		set_str(s, &e->str, &e->str_len);
		e->stack = ev->a[1];
		return 1;
	case V2_EV_GO_UNBLOCK:
		g = g_get(r, ev->a[0]);
		if (!g || g->status != GS_WAITING ||
		    !seq_next(r->gen, ev->a[1], g->seq_gen, g->seq) ||
		    !stack_ok(r, ev->a[2]))
			return 0;
		g->status = GS_RUNNABLE;
		g->seq_gen = r->gen;
		g->seq = ev->a[1];
		e->arg = e->g;
		set_trans(e, K(UNBLOCK), ev->a[0], S(WAITING), S(RUNNABLE));
		e->stack = ev->a[2];
		return 1;
	case V2_EV_GO_CREATE:
		if (m->p == NO_ID || !stack_ok(r, ev->a[2]) || !stack_ok(r, ev->a[1]))
			return 0;
		g = g_get(r, m->g);
		if ((g && g->status != GS_RUNNING) || g_get(r, ev->a[0]))
			return 0;
		err = g_new(r, ev->off, ev->a[0], GS_RUNNABLE);
		if (err)
			return err;
		e->arg = e->g;
		set_trans(e, K(CREATE), ev->a[0], S(DEAD), S(RUNNABLE));
		e->stack = ev->a[2];
		e->arg2 = ev->a[1];
		return 1;
	case V2_EV_GO_DESTROY:
		if (m->p == NO_ID || m->g == NO_ID)
			return 0;
		g = g_get(r, m->g);
		if (!g || g->status != GS_RUNNING)
			return 0;
		err = g_del(r, m->g);
		if (err)
			return err;
		m->g = NO_ID;
		set_trans(e, K(DESTROY), e->g, S(RUNNING), S(DEAD));
		return 1;
	case V2_EV_USER_LOG:
		if (m->p == NO_ID || m->g == NO_ID || !stack_ok(r, ev->a[3]))
			return 0;
		s = str_get(r, ev->a[1]);
		s2 = str_get(r, ev->a[2]);
		if (!s || !s2)
			return 0;
		e->kind = K(LOG);
		e->from = e->to = 0;
		e->arg = ev->a[0];
		set_str(s, &e->str, &e->str_len);
		set_str(s2, &e->str2, &e->str2_len);
		e->stack = ev->a[3];
		return 1;
	case V2_EV_HEAP_ALLOC:
		if (m->p == NO_ID)
			return 0;
		e->kind = K(HEAP_ALLOC);
		e->from = e->to = 0;
		e->arg = ev->a[0];
		return 1;
	case V2_EV_GC_SWEEP_BEGIN:
		if (m->p == NO_ID || !stack_ok(r, ev->a[0]))
			return 0;
		p = p_get(r, m->p);
		if (!p || p->sweep)
			return 0;
		p->sweep = 1;
		e->kind = K(SWEEP_BEGIN);
		e->from = e->to = 0;
		e->stack = ev->a[0];
		return 1;
	case V2_EV_GC_SWEEP_END:
		if (m->p == NO_ID)
			return 0;
		p = p_get(r, m->p);
		if (!p || !p->sweep)
			return 0;
		p->sweep = 0;
		e->kind = K(SWEEP_END);
		e->from = e->to = 0;
		e->arg = ev->a[0];
		e->arg2 = ev->a[1];
		return 1;
	case V2_EV_GO_SYSCALL_BEGIN:
		if (m->p == NO_ID || m->g == NO_ID || !stack_ok(r, ev->a[1]))
			return 0;
		g = g_get(r, m->g);
		p = p_get(r, m->p);
		if (!g || g->status != GS_RUNNING || !p ||
		    !seq_next(r->gen, ev->a[0], p->seq_gen, p->seq))
			return 0;
		g->status = GS_SYSCALL;
		p->status = PS_SYSCALL;
		p->seq_gen = r->gen;
		p->seq = ev->a[0];
		set_trans(e, K(SYSCALL_BEGIN), e->g, S(RUNNING), S(SYSCALL));
		e->stack = ev->a[1];
		return 1;
	case V2_EV_GO_SYSCALL_END:
		if (m->p == NO_ID || m->g == NO_ID)
			return 0;
		g = g_get(r, m->g);
		p = p_get(r, m->p);
		if (!g || g->status != GS_SYSCALL || !p || p->status != PS_SYSCALL)
			return 0;
		g->status = GS_RUNNING;
		p->status = PS_RUNNING;
		set_trans(e, K(SYSCALL_END), e->g, S(SYSCALL), S(RUNNING));
		return 1;
	case V2_EV_PROC_START:
		if (m->p != NO_ID)
			return 0;
		p = p_get(r, ev->a[0]);
		if (!p || p->status != PS_IDLE ||
		    !seq_next(r->gen, ev->a[1], p->seq_gen, p->seq))
			return 0;
		p->status = PS_RUNNING;
		p->seq_gen = r->gen;
		p->seq = ev->a[1];
		m->p = ev->a[0];
		e->kind = K(PROC_START);
		e->from = e->to = 0;
		e->p = sink_p(ev->a[0]);
		e->arg = ev->a[1];
		return 1;
	case V2_EV_PROC_STOP:
		if (m->p == NO_ID)
			return 0;
		p = p_get(r, m->p);
		if (!p || (p->status != PS_RUNNING && p->status != PS_SYSCALL))
			return 0;
		p->status = PS_IDLE;
		m->p = NO_ID;
		e->kind = K(PROC_STOP);
		e->from = e->to = 0;
		return 1;
	default:
		return 0;
	}
}

static int emit_queue(struct v2 *r)
{
	for (int j = 0; j < r->nq; j++) {
		int err = emit(r, &r->q[j]);

		if (err)
			return err;
	}
	return 0;
}

/* Try the event at heap position i: 1 advanced, 0 not yet, < 0 error. */
static int try_advance(struct v2 *r, size_t i)
{
	struct v2_cursor *c = r->heap[i];
	int ok = advance(r, c);

	if (ok <= 0)
		return ok;
	ok = cursor_next(r, c);
	if (ok < 0)
		return ok;
	r->htime[i] = c->ev.time;
	if (ok)
		heap_update(r, i);
	else
		heap_remove(r, i);
	ok = emit_queue(r);
	return ok ? ok : 1;
}

/*
 * Advance the M at the top of the heap for as long as it can and its next
 * event stays first: not later than its children in the heap (which do
 * not change meanwhile) nor than the next CPU sample; then go on with the
 * M that comes out on top, unless a CPU sample is due.  This is what
 * run() calling try_advance(r, 0) would do, without the heap work.
 * 1: progress made, 0: the top event cannot advance (nothing done since
 * the last switch of M), < 0: error.
 */
static int run_top(struct v2 *r)
{
	/* CPU samples are only taken by run(): the next one stays put */
	int64_t stime = r->next_sample < r->nsamples ?
			r->samples[r->next_sample].time : INT64_MAX;
	struct v2_cursor *c;
	int64_t limit;
	int ok, progress;

	c = r->heap[0];
top:
	limit = r->nheap > 1 ? r->htime[1] : INT64_MAX;
	if (r->nheap > 2 && r->htime[2] < limit)
		limit = r->htime[2];
	if (stime < limit)
		limit = stime;
	progress = 0;
	for (;;) {
		struct rt_go_event e;
		struct v2_cursor *next = c;
		int fast = 0, more;

		if (c->ms != NONE32) {
			fast = fast_advance(r, c, &r->ms[c->ms], &e);
			if (fast < 0)
				return fast;
		}
		if (!fast) {
			ok = advance(r, c);
			if (ok <= 0)
				return ok < 0 ? ok : progress;
		}
		more = cursor_next_hot(r, c);
		if (more < 0)
			return more;
		r->htime[0] = c->ev.time;
		if (!more)
			heap_remove(r, 0);
		else if (c->ev.time > limit)
			next = heap_down_top(r);
		if (fast) {
			e.ts = (uint64_t)tfix(r, (int64_t)e.ts);
			r->st->events++;
			ok = out_event(r, &e);
		} else {
			ok = emit_queue(r);
		}
		if (ok)
			return ok;
		if (!more)
			return 1;
		if (c->ev.time > limit) {
			if (stime < r->htime[0])
				return 1;
			c = next;
			goto top;
		}
		progress = 1;
	}
}

static int run(struct v2 *r)
{
	for (;;) {
		int ok;

		if (!r->nheap && r->next_sample == r->nsamples) {
			ok = next_gen(r);
			if (ok < 0)
				return ok;
			if (ok == 1)
				return rt_goblock__flush(&r->blk);
			continue;
		}
		if (r->next_sample < r->nsamples &&
		    (!r->nheap || r->samples[r->next_sample].time < r->htime[0])) {
			ok = emit_sample(r, &r->samples[r->next_sample++]);
			if (ok)
				return ok;
			continue;
		}
		ok = run_top(r);
		if (ok < 0)
			return ok;
		if (ok)
			continue;
		/*
		 * The slow path costs O(threads) per event: fine for real
		 * traces (they take it a handful of times), quadratic for a
		 * crafted one.  Bound the total so decoding cannot stall.
		 */
		r->slow_work += r->nheap;
		if (r->slow_work > V2_SLOW_WORK + V2_SLOW_PER_EVENT * r->st->events)
			return fail_code(r, -GS_E_LIMIT, r->heap[0]->ev.off,
					 "broken trace: too many events out of time order across %zu threads",
					 r->nheap);
		sort_frontier(r);
		for (size_t i = 1; i < r->nheap && !ok; i++) {
			ok = try_advance(r, i);
			if (ok < 0)
				return ok;
		}
		if (!ok) {
			const struct v2_cursor *c = r->heap[0];

			return fail(r, c->ev.off, "broken trace: failed to advance: gen %" PRIu64
				    ", %zu threads, earliest M %" PRId64 " at %s",
				    r->gen, r->nheap, (int64_t)c->m, evname(c->ev.typ));
		}
	}
}

/* ------------------------------------------------------------ entry */

static int parse_header(const uint8_t *data, size_t len, int *minor)
{
	static const char tail[] = " trace\0\0\0";

	if (len < 16 || memcmp(data, "go 1.", 5) ||
	    data[5] < '0' || data[5] > '9' || data[6] < '0' || data[6] > '9' ||
	    memcmp(data + 7, tail, 9))
		return -GS_E_FORMAT;
	*minor = (data[5] - '0') * 10 + (data[6] - '0');
	return 0;
}

static void release(struct v2 *r)
{
	rt_goblock__release(&r->blk);
	gs_free(r->batches);
	gs_free(r->cur);
	map_release(&r->curmap);
	gs_free(r->strs);
	idtab_release(&r->strmap);
	gs_free(r->stacks);
	idtab_release(&r->stkmap);
	gs_free(r->pcs);
	gs_free(r->pcf);
	gs_free(r->frames);
	map_release(&r->pcmap);
	gs_free(r->samples);
	gs_free(r->sample_tmp);
	gs_free(r->heap);
	gs_free(r->htime);
	gs_free(r->gtab.slot);
	for (size_t i = 0; i < r->ngext; i++) {
		gs_free(r->gext[i].rng);
		gs_free(r->gext[i].reg);
	}
	gs_free(r->gext);
	gs_free(r->xfree);
	gs_free(r->ps);
	idtab_release(&r->pmap);
	gs_free(r->ms);
	map_release(&r->mmap);
	map_release(&r->tasks);
	gs_intern__release(&r->names);
	gs_free(r);
}

int rt_gotrace_v2__decode(const uint8_t *data, size_t len, const char *name,
			  const struct rt_go_sink *sink, struct rt_gotrace_stats *st)
{
	struct rt_gotrace_stats local;
	struct v2 *r;
	int minor, err;

	if (!name)
		name = "go trace";
	if (!st)
		st = &local;
	memset(st, 0, sizeof(*st));
	if (!data || parse_header(data, len, &minor))
		return gs_errf(-GS_E_FORMAT, "%s: offset 0: not a Go execution trace", name);
	st->version = 1000 + minor;
	if (minor != 22 && minor != 23 && minor != 25 && minor != 26)
		return gs_errf(-GS_E_VERSION, "%s: offset 0: unsupported trace version go 1.%d",
			       name, minor);
	r = gs_calloc(1, sizeof(*r));
	if (!r)
		return gs_errf(-ENOMEM, "%s: out of memory", name);
	r->data = data;
	r->len = len;
	r->pos = 16;
	r->ver = minor;
	r->sink = sink;
	r->st = st;
	if (rt_goblock__init(&r->blk, sink)) {
		gs_free(r);
		return gs_errf(-ENOMEM, "%s: out of memory", name);
	}
	for (int t = 0; t < 256; t++)
		r->targs[t] = t < V2_NUM_SPECS && t < RT_GOTRACE_MAX_TYPES &&
			      rt_v2_specs[t].timed ? rt_v2_specs[t].nargs : 0xff;
	r->curmap.max = r->strmap.map.max = r->stkmap.map.max = r->pcmap.max = V2_MAX_TABLE;
	r->pmap.map.max = V2_MAX_P;
	r->mmap.max = V2_MAX_M;
	r->tasks.max = V2_MAX_TASKS;
	r->names.max = V2_MAX_NAMES;

	err = run(r);
	count_rest(r);
	st->bytes = r->pos;
	if (err && r->msg[0])
		gs_errf(err, "%s: offset %zu: %s", name, r->msg_off, r->msg);
	release(r);
	return err;
}
