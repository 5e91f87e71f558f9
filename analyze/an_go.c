// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/an_go.h"
#include "base/gs_err.h"
#include "base/gs_intern.h"
#include "base/gs_u64map.h"
#include "format/tf_reader.h"

enum {
	ST_UNKNOWN = GSCOPE__V1__GO_STATE__GO_STATE_UNKNOWN,
	ST_RUNNABLE = GSCOPE__V1__GO_STATE__GO_STATE_RUNNABLE,
	ST_RUNNING = GSCOPE__V1__GO_STATE__GO_STATE_RUNNING,
	ST_SYSCALL = GSCOPE__V1__GO_STATE__GO_STATE_SYSCALL,
	ST_WAITING = GSCOPE__V1__GO_STATE__GO_STATE_WAITING,
	ST_DEAD = GSCOPE__V1__GO_STATE__GO_STATE_DEAD,
};

#define GBLOCKS 6 /* block reasons kept per goroutine before folding */
#define REASON_CACHE 4096

/* Per live goroutine: what every event needs (16 bytes, cache-friendly)... */
struct gstate {
	uint64_t since;         /* entered the current state */
	uint32_t agg;           /* pprof stack aggregate + 1; 0 = not counted */
	uint8_t state, cause, reason;
	bool known;             /* since is meaningful */
};

/* ... and, at the same index, what the goroutines and gc sections add. */
struct gcold {
	uint64_t created;
	uint64_t assist_since;  /* 0: not in a mark assist */
	uint64_t exec, sched, syscall;
	uint64_t block_ns[GBLOCKS];
	uint8_t block_reason[GBLOCKS];
	bool live;              /* not on the free list */
	uint32_t group;         /* index + 1; 0 = not known yet */
};

/* goids are small and dense (the runtime hands them out in order): the
 * first process's goids below this index an array, the rest a hash map */
#define DENSE_GOIDS (1u << 22)

struct ctx {
	struct an_go *a;
	struct tf_reader *r;
	uint32_t gen;
	bool gen_valid;

	uint32_t *dense;        /* goid -> index + 1 into gs, for dense_pid */
	size_t dense_cap;
	uint32_t dense_pid;
	bool dense_set;
	struct gs_u64map gmap;  /* other (pid, goid) -> index into gs */
	struct gstate *gs;
	struct gcold *gc;       /* same indexes as gs */
	int gerr;               /* gs_get()'s error */
	size_t ngs, gs_cap, gc_cap;
	uint32_t *free_gs;
	size_t nfree, free_cap;

	struct gs_intern aggs;  /* pc sequences -> stack aggregate ids */
	size_t stacks_cap;
	uint32_t *agg_cache;    /* .gst stack id -> agg + 1 (this generation) */
	size_t agg_cache_cap;

	struct gs_intern group_names;
	size_t groups_cap;
	size_t cycles_cap, stw_kinds_cap, gctrace_cap;
	uint64_t *cycle_prefix; /* prefix sums of cycle durations */

	uint64_t last_heap, stw_start;
	const char *stw_kind;
	long open_cycle, after_cycle, goal_cycle; /* -1: none */
	uint64_t scratch[TF_MAX_STACK_DEPTH];
	uint8_t reason_cache[REASON_CACHE]; /* string id -> reason index + 1 */
	uint8_t yield_cache[REASON_CACHE];  /* string id -> 1 other, 2 Gosched */
};

static inline struct gcold *cold(struct ctx *c, const struct gstate *g)
{
	return &c->gc[g - c->gs];
}

const char *an_go_cause_name(enum an_go_cause c)
{
	static const char *const names[AN_CAUSE_MAX] = {
		"create", "unblock", "preempt", "yield", "syscall", "other",
	};

	return (unsigned int)c < AN_CAUSE_MAX ? names[c] : "?";
}

const char *an_go_state_name(unsigned int s)
{
	static const char *const names[AN_GO_NSTATES] = {
		"unknown", "runnable", "running", "syscall", "waiting", "dead",
	};

	return s < AN_GO_NSTATES ? names[s] : "?";
}

static const char *str_of(struct ctx *c, uint64_t sid, size_t *len)
{
	const char *s = sid ? tf_reader__string(c->r, sid, len) : NULL;

	if (!s) {
		*len = 0;
		return NULL;
	}
	return s;
}

static const char *arena_str(struct ctx *c, const char *s, size_t len)
{
	return gs_arena__strndup(&c->a->arena, s ? s : "?", s ? len : 1);
}

/* Function name of frame id (borrowed from the reader), "?" if unknown. */
static const char *frame_func(struct ctx *c, uint64_t fid, size_t *len)
{
	const struct tf_frame *f = tf_reader__frame(c->r, fid);
	const char *s = f ? str_of(c, f->function_sid, len) : NULL;

	if (!s) {
		*len = 1;
		return "?";
	}
	return s;
}

/* ------------------------------------------------------------ groups */

static int group_of_name(struct ctx *c, const char *name, size_t len, uint32_t *out)
{
	struct an_go *a = c->a;
	uint64_t id;
	bool added;
	int err = gs_intern__get(&c->group_names, name, len, &id, &added);

	if (err)
		return err;
	if (added) {
		void *p = a->groups;

		err = gs_grow(&p, &c->groups_cap, sizeof(*a->groups), (size_t)id,
			      SIZE_MAX / sizeof(*a->groups));
		a->groups = p;
		if (err)
			return err;
		memset(&a->groups[id - 1], 0, sizeof(*a->groups));
		a->groups[id - 1].name = arena_str(c, name, len);
		if (!a->groups[id - 1].name)
			return -ENOMEM;
		a->ngroups = id;
	}
	*out = (uint32_t)id;
	return 0;
}

/* The goroutine's group from a stack: root frame (start function). */
static int group_from_stack(struct ctx *c, struct gstate *g, uint64_t stack,
			    bool leaf)
{
	size_t n, len;
	const char *name;

	if (cold(c, g)->group || !stack)
		return 0;
	n = tf_reader__stack(c->r, stack, c->scratch, TF_MAX_STACK_DEPTH);
	if (!n)
		return 0;
	name = frame_func(c, c->scratch[leaf ? 0 : n - 1], &len);
	return group_of_name(c, name, len, &cold(c, g)->group);
}

static int reason_lookup(struct ctx *c, uint64_t sid, uint8_t *out)
{
	struct an_go *a = c->a;
	size_t len;
	const char *s = str_of(c, sid, &len);

	*out = 0;
	if (!s)
		return 0;
	for (size_t i = 1; i < a->nreasons; i++) {
		if (strlen(a->reasons[i]) == len && !memcmp(a->reasons[i], s, len)) {
			*out = (uint8_t)i;
			return 0;
		}
	}
	if (a->nreasons >= AN_GO_MAX_REASONS)
		return 0; /* folded into "other" */
	a->reasons[a->nreasons] = arena_str(c, s, len);
	if (!a->reasons[a->nreasons])
		return -ENOMEM;
	*out = (uint8_t)a->nreasons++;
	return 0;
}

/* Reason index of string sid; cached per generation (sids are per generation). */
static int reason_of(struct ctx *c, uint64_t sid, uint8_t *out)
{
	int err;

	if (sid < REASON_CACHE && c->reason_cache[sid]) {
		*out = (uint8_t)(c->reason_cache[sid] - 1);
		return 0;
	}
	err = reason_lookup(c, sid, out);
	if (!err && sid < REASON_CACHE)
		c->reason_cache[sid] = (uint8_t)(*out + 1);
	return err;
}

/* ------------------------------------------------------------ stacks */

/* Aggregate id + 1 of the stack (by its pcs), 0 when it has no frames. */
static __attribute__((noinline)) int stack_agg_slow(struct ctx *c, uint64_t stack,
						   uint32_t *out)
{
	struct an_go *a = c->a;
	uint64_t pcs[TF_MAX_STACK_DEPTH], id;
	size_t n;
	bool added;
	int err;

	*out = 0;
	if (!stack)
		return 0;
	if (stack < c->agg_cache_cap && c->agg_cache[stack]) {
		*out = c->agg_cache[stack];
		return 0;
	}
	n = tf_reader__stack(c->r, stack, c->scratch, TF_MAX_STACK_DEPTH);
	if (!n)
		return 0;
	for (size_t i = 0; i < n; i++) {
		const struct tf_frame *f = tf_reader__frame(c->r, c->scratch[i]);

		pcs[i] = f ? f->rel_pc : 0;
	}
	err = gs_intern__get(&c->aggs, pcs, n * sizeof(uint64_t), &id, &added);
	if (err)
		return err;
	if (added) {
		struct an_go_stack *s;
		void *p = a->stacks;

		err = gs_grow(&p, &c->stacks_cap, sizeof(*a->stacks), (size_t)id,
			      SIZE_MAX / sizeof(*a->stacks));
		a->stacks = p;
		if (err)
			return err;
		s = &a->stacks[id - 1];
		memset(s, 0, sizeof(*s));
		s->nframes = (uint32_t)n;
		s->pcs = gs_arena__alloc(&a->arena, n * sizeof(uint64_t));
		s->funcs = gs_arena__alloc(&a->arena, n * sizeof(char *));
		if (!s->pcs || !s->funcs)
			return -ENOMEM;
		memcpy(s->pcs, pcs, n * sizeof(uint64_t));
		for (size_t i = 0; i < n; i++) {
			size_t len;
			const char *fn = frame_func(c, c->scratch[i], &len);

			s->funcs[i] = arena_str(c, fn, len);
			if (!s->funcs[i])
				return -ENOMEM;
		}
		a->nstacks = id;
	}
	if (stack < (1u << 24)) {
		void *p = c->agg_cache;
		size_t old = c->agg_cache_cap;

		if (stack >= old) {
			err = gs_grow(&p, &c->agg_cache_cap, sizeof(uint32_t),
				      (size_t)stack + 1, 1u << 24);
			c->agg_cache = p;
			if (err)
				return err;
			memset(c->agg_cache + old, 0,
			       (c->agg_cache_cap - old) * sizeof(uint32_t));
		}
		c->agg_cache[stack] = (uint32_t)id;
	}
	*out = (uint32_t)id;
	return 0;
}

static inline int stack_agg(struct ctx *c, uint64_t stack, uint32_t *out)
{
	if (stack < c->agg_cache_cap && c->agg_cache[stack]) {
		*out = c->agg_cache[stack];
		return 0;
	}
	return stack_agg_slow(c, stack, out);
}

/* ------------------------------------------------------------ goroutines */

static uint64_t gkey(uint32_t pid, uint64_t goid)
{
	return goid ^ ((uint64_t)pid << 48);
}

/* The dense array's slot for (pid, goid), grown to reach it, or NULL. */
static uint32_t *dense_slot(struct ctx *c, uint32_t pid, uint64_t goid, int *err)
{
	if (!c->dense_set) {
		c->dense_pid = pid;
		c->dense_set = true;
	}
	if (pid != c->dense_pid || goid >= DENSE_GOIDS)
		return NULL;
	if (goid >= c->dense_cap) {
		size_t old = c->dense_cap;
		void *p = c->dense;

		*err = gs_grow(&p, &c->dense_cap, sizeof(uint32_t), (size_t)goid + 1,
			       DENSE_GOIDS);
		c->dense = p;
		if (*err)
			return NULL;
		memset(c->dense + old, 0, (c->dense_cap - old) * sizeof(uint32_t));
	}
	return &c->dense[goid];
}

/* gs_get() past the dense array's known goroutines: look up or add. */
static __attribute__((noinline)) struct gstate *gs_get_slow(struct ctx *c, uint32_t pid,
							     uint64_t goid, int *err)
{
	uint32_t *dslot;
	uint64_t *slot;
	bool added;
	uint32_t idx;

	*err = 0;
	dslot = dense_slot(c, pid, goid, err);
	if (*err)
		return NULL;
	if (!dslot) {
		slot = gs_u64map__get(&c->gmap, gkey(pid, goid));
		if (slot)
			return &c->gs[*slot];
	}
	if (c->nfree) {
		idx = c->free_gs[c->nfree - 1];
	} else {
		void *p = c->gs;

		*err = gs_grow(&p, &c->gs_cap, sizeof(*c->gs), c->ngs + 1,
			       UINT32_MAX - 1);
		c->gs = p;
		if (*err)
			return NULL;
		p = c->gc;
		*err = gs_grow(&p, &c->gc_cap, sizeof(*c->gc), c->ngs + 1, UINT32_MAX - 1);
		c->gc = p;
		if (*err)
			return NULL;
		idx = (uint32_t)c->ngs;
	}
	if (dslot) {
		*dslot = idx + 1;
	} else if (!gs_u64map__put(&c->gmap, gkey(pid, goid), idx, &added)) {
		*err = -ENOMEM;
		return NULL;
	}
	if (c->nfree)
		c->nfree--;
	else
		c->ngs++;
	memset(&c->gs[idx], 0, sizeof(c->gs[idx]));
	memset(&c->gc[idx], 0, sizeof(c->gc[idx]));
	c->gc[idx].live = true;
	c->a->goroutines++;
	return &c->gs[idx];
}

/*
 * The goroutine (pid, goid), added when new; NULL and c->gerr on failure
 * (not a pointer to the caller's error: that would keep it in memory).
 */
static inline struct gstate *gs_get(struct ctx *c, uint32_t pid, uint64_t goid)
{
	uint32_t i;

	if (pid == c->dense_pid && goid < c->dense_cap && (i = c->dense[goid]) != 0)
		return &c->gs[i - 1];
	return gs_get_slow(c, pid, goid, &c->gerr);
}

static uint64_t clip(const struct an_go_cycle *cy, uint64_t from, uint64_t to,
		     uint64_t now)
{
	uint64_t s = cy->start_ts, e = cy->end_ts ? cy->end_ts : now;

	if (s < from)
		s = from;
	if (e > to)
		e = to;
	return e > s ? e - s : 0;
}

/*
 * GC time overlapping [from, to]: cycles are disjoint and sorted, so the
 * first and last overlapping cycles are clipped and the ones between come
 * whole from the prefix sums of cycle durations.
 */
static uint64_t gc_overlap(struct ctx *c, uint64_t from, uint64_t to, uint64_t now)
{
	const struct an_go *a = c->a;
	size_t lo = 0, hi = a->ncycles, first, last;

	if (!a->ncycles || to <= from)
		return 0;
	while (lo < hi) { /* first cycle ending after from */
		size_t mid = (lo + hi) / 2;
		uint64_t end = a->cycles[mid].end_ts ? a->cycles[mid].end_ts : now;

		if (end <= from)
			lo = mid + 1;
		else
			hi = mid;
	}
	first = lo;
	hi = a->ncycles;
	while (lo < hi) { /* first cycle starting at or after to */
		size_t mid = (lo + hi) / 2;

		if (a->cycles[mid].start_ts < to)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == first)
		return 0;
	last = lo - 1;
	if (last == first)
		return clip(&a->cycles[first], from, to, now);
	return clip(&a->cycles[first], from, to, now) +
	       (c->cycle_prefix[last] - c->cycle_prefix[first + 1]) +
	       clip(&a->cycles[last], from, to, now);
}

/* Add time spent in the current state to the goroutine's accumulators. */
static void account(struct ctx *c, struct gstate *g, uint64_t dur)
{
	struct gcold *k = cold(c, g);

	switch (g->state) {
	case ST_RUNNING:
		k->exec += dur;
		break;
	case ST_RUNNABLE:
		k->sched += dur;
		break;
	case ST_SYSCALL:
		k->syscall += dur;
		break;
	case ST_WAITING:
		for (int i = 0; i < GBLOCKS; i++) {
			if (k->block_ns[i] && k->block_reason[i] != g->reason)
				continue;
			k->block_reason[i] = g->reason;
			k->block_ns[i] += dur;
			return;
		}
		k->block_ns[GBLOCKS - 1] += dur; /* should not happen: folded */
		break;
	default:
		break;
	}
}

/* Move a goroutine's accumulators into its group. */
static int flush(struct ctx *c, struct gstate *g, uint64_t end)
{
	struct gcold *k = cold(c, g);
	struct an_go_group *grp;
	int err;

	if (!k->group) {
		err = group_of_name(c, "(unknown)", 9, &k->group);
		if (err)
			return err;
	}
	grp = &c->a->groups[k->group - 1];
	grp->count++;
	grp->exec_ns += k->exec;
	grp->sched_ns += k->sched;
	grp->syscall_ns += k->syscall;
	for (int i = 0; i < GBLOCKS; i++)
		grp->block_ns[k->block_reason[i]] += k->block_ns[i];
	grp->gc_ns += gc_overlap(c, k->created, end, end);
	return 0;
}

static void gs_del(struct ctx *c, uint32_t pid, uint64_t goid, struct gstate *g)
{
	void *p = c->free_gs;

	if (!gs_grow(&p, &c->free_cap, sizeof(uint32_t), c->nfree + 1, UINT32_MAX)) {
		c->free_gs = p;
		c->free_gs[c->nfree++] = (uint32_t)(g - c->gs);
	} else {
		c->free_gs = p;
	}
	cold(c, g)->live = false;
	if (pid == c->dense_pid && goid < c->dense_cap)
		c->dense[goid] = 0;
	else
		gs_u64map__del(&c->gmap, gkey(pid, goid));
}

/* STOP: a yield (runtime.Gosched) or a preemption, by its reason */
static __attribute__((noinline)) enum an_go_cause stop_cause(struct ctx *c, uint64_t sid)
{
	size_t len;
	const char *s;
	bool yield;

	if (sid < REASON_CACHE && c->yield_cache[sid])
		return c->yield_cache[sid] == 2 ? AN_CAUSE_YIELD : AN_CAUSE_PREEMPT;
	s = str_of(c, sid, &len);
	yield = s && len == 15 && !memcmp(s, "runtime.Gosched", 15);
	if (sid < REASON_CACHE)
		c->yield_cache[sid] = yield ? 2 : 1;
	return yield ? AN_CAUSE_YIELD : AN_CAUSE_PREEMPT;
}

/* What made a goroutine runnable, by the event's kind (and reason) */
static inline enum an_go_cause cause_of(struct ctx *c, uint64_t kind, uint64_t reason_sid)
{
	switch (kind) {
	case GSCOPE__V1__GO_EVENT_KIND__GO_EV_CREATE:
		return AN_CAUSE_CREATE;
	case GSCOPE__V1__GO_EVENT_KIND__GO_EV_UNBLOCK:
		return AN_CAUSE_UNBLOCK;
	case GSCOPE__V1__GO_EVENT_KIND__GO_EV_STOP:
		return stop_cause(c, reason_sid);
	case GSCOPE__V1__GO_EVENT_KIND__GO_EV_SYSCALL_END:
		return AN_CAUSE_SYSCALL;
	default:
		return AN_CAUSE_OTHER;
	}
}

/*
 * A goroutine state change.  sec is the sections asked for: a constant
 * where go_batch() inlines this for the sched section alone.
 */
static inline __attribute__((always_inline)) int
transition_in(struct ctx *c, const struct tf_go_event *e, unsigned int sec)
{
	struct an_go *a = c->a;
	uint32_t pid = e->pid;
	uint64_t ts = e->ts, goid = e->goid;
	uint64_t kind = e->kind, stack = e->stack_id;
	unsigned int from = e->from_state;
	unsigned int to = e->to_state;
	struct gstate *g;
	uint64_t dur = 0;
	int err = 0;

	if (to >= AN_GO_NSTATES || from >= AN_GO_NSTATES)
		return 0;
	g = gs_get(c, pid, goid);
	if (!g)
		return c->gerr;
	/* the special cases below all need one of these */
	if (__builtin_expect(!g->known | (kind == GSCOPE__V1__GO_EVENT_KIND__GO_EV_STATUS) |
			     (g->state == to), 0)) {
		if (!g->known && kind == GSCOPE__V1__GO_EVENT_KIND__GO_EV_STATUS) {
			/*
			 * First seen through a status event: it existed when the trace
			 * began, in that state (v2 writes the status of goroutines a
			 * generation did not mention when the generation ends, so the
			 * event's own time is late).  As Go's summary, count from the
			 * trace start.
			 */
			g->state = (uint8_t)to;
			g->since = cold(c, g)->created = a->first_ts;
			g->known = true;
			if (sec & AN_GO_GOROUTINES)
				return group_from_stack(c, g, stack, false);
			return 0;
		}
		if (!g->known) {
			g->state = (uint8_t)(kind == GSCOPE__V1__GO_EVENT_KIND__GO_EV_CREATE ?
					     ST_DEAD : from);
			g->since = cold(c, g)->created = ts;
			g->known = true;
		}
		if (kind == GSCOPE__V1__GO_EVENT_KIND__GO_EV_STATUS && g->state == to)
			return 0; /* generation-start status of a goroutine we follow */
		if (g->state == to && from == to)
			return 0; /* v1 syscall entry marker: no state change */
	}
	from = g->state;
	if (ts > g->since)
		dur = ts - g->since;
	if (sec & AN_GO_GOROUTINES)
		account(c, g, dur);
	if (sec & AN_GO_STATES) {
		a->trans_count[from][to]++;
		a->trans_ns[from][to] += dur;
		a->state_ns[from] += dur;
	}

	if ((sec & AN_GO_SCHED) && from == ST_RUNNABLE && to == ST_RUNNING) {
		an_hist__add(a->sched_cause[g->cause], dur); /* summed in finish() */
		if (g->agg) {
			a->stacks[g->agg - 1].count++;
			a->stacks[g->agg - 1].delay_ns += dur;
		}
	}
	g->agg = 0;
	if (to == ST_RUNNABLE) {
		g->cause = (uint8_t)cause_of(c, kind, e->reason_sid);
		if ((sec & AN_GO_SCHED) &&
		    (g->cause == AN_CAUSE_CREATE || g->cause == AN_CAUSE_UNBLOCK)) {
			err = stack_agg(c, stack, &g->agg);
			if (err)
				return err;
		}
	}
	if (to == ST_WAITING && (sec & AN_GO_GOROUTINES)) {
		err = reason_of(c, e->reason_sid, &g->reason);
		if (err)
			return err;
	}
	/* group: the start function, else the root of the goroutine's own stack */
	if (!(sec & AN_GO_GOROUTINES) || cold(c, g)->group)
		;
	else if (kind == GSCOPE__V1__GO_EVENT_KIND__GO_EV_CREATE)
		err = group_from_stack(c, g, e->arg2, true);
	else if (kind != GSCOPE__V1__GO_EVENT_KIND__GO_EV_UNBLOCK)
		err = group_from_stack(c, g, stack, false);
	if (err)
		return err;
	g->state = (uint8_t)to;
	g->since = ts;
	if (to == ST_DEAD) {
		if (sec & AN_GO_GOROUTINES)
			err = flush(c, g, ts);
		gs_del(c, pid, goid, g);
	}
	return err;
}

static int transition(struct ctx *c, const struct tf_go_event *e)
{
	return transition_in(c, e, c->a->sections);
}

/* ------------------------------------------------------------ gc */

static int new_cycle(struct ctx *c, uint64_t seq, uint64_t ts)
{
	struct an_go *a = c->a;
	void *p = a->cycles;
	int err = gs_grow(&p, &c->cycles_cap, sizeof(*a->cycles), a->ncycles + 1,
			  SIZE_MAX / 64);

	a->cycles = p;
	if (err)
		return err;
	p = c->cycle_prefix;
	/* prefix sums have ncycles + 1 entries; reuse the capacity rule */
	c->cycle_prefix = gs_realloc(p, (c->cycles_cap + 1) * sizeof(uint64_t));
	if (!c->cycle_prefix) {
		c->cycle_prefix = p;
		return -ENOMEM;
	}
	if (a->ncycles == 0)
		c->cycle_prefix[0] = 0;
	a->cycles[a->ncycles] = (struct an_go_cycle){
		.seq = seq, .start_ts = ts, .heap_before = c->last_heap,
	};
	c->cycle_prefix[a->ncycles + 1] = c->cycle_prefix[a->ncycles];
	c->open_cycle = (long)a->ncycles++;
	return 0;
}

static int stw_kind(struct ctx *c, const char *kind, uint64_t dur)
{
	struct an_go *a = c->a;
	void *p;
	size_t i;
	int err;

	for (i = 0; i < a->nstw_kinds; i++)
		if (!strcmp(a->stw_kinds[i].kind, kind))
			break;
	if (i == a->nstw_kinds) {
		p = a->stw_kinds;
		err = gs_grow(&p, &c->stw_kinds_cap, sizeof(*a->stw_kinds), i + 1, 64);
		a->stw_kinds = p;
		if (err)
			return err == -E2BIG ? 0 : err;
		a->stw_kinds[i].kind = kind;
		an_hist__init(&a->stw_kinds[i].hist);
		a->nstw_kinds++;
	}
	an_hist__add(&a->stw_kinds[i].hist, dur);
	return 0;
}

static int other_event(struct ctx *c, const struct tf_go_event *e)
{
	struct an_go *a = c->a;
	uint64_t ts = e->ts, arg = e->arg;
	struct gstate *g;
	size_t len;
	const char *s;
	int err = 0;

	switch (e->kind) {
	case GSCOPE__V1__GO_EVENT_KIND__GO_EV_GC_BEGIN:
		return new_cycle(c, arg, ts);
	case GSCOPE__V1__GO_EVENT_KIND__GO_EV_GC_END:
		if (c->open_cycle >= 0) {
			struct an_go_cycle *cy = &a->cycles[c->open_cycle];

			cy->end_ts = ts;
			c->cycle_prefix[c->open_cycle + 1] =
				c->cycle_prefix[c->open_cycle] + (ts - cy->start_ts);
			c->after_cycle = c->goal_cycle = c->open_cycle;
			c->open_cycle = -1;
		}
		return 0;
	case GSCOPE__V1__GO_EVENT_KIND__GO_EV_HEAP_ALLOC:
		c->last_heap = arg;
		if (c->after_cycle >= 0) {
			a->cycles[c->after_cycle].heap_after = arg;
			c->after_cycle = -1;
		}
		return 0;
	case GSCOPE__V1__GO_EVENT_KIND__GO_EV_HEAP_GOAL:
		if (c->goal_cycle >= 0) {
			a->cycles[c->goal_cycle].heap_goal = arg;
			c->goal_cycle = -1;
		}
		return 0;
	case GSCOPE__V1__GO_EVENT_KIND__GO_EV_STW_BEGIN:
		s = str_of(c, e->reason_sid, &len);
		c->stw_kind = arena_str(c, s ? s : "unknown", s ? len : 7);
		c->stw_start = ts;
		return c->stw_kind ? 0 : -ENOMEM;
	case GSCOPE__V1__GO_EVENT_KIND__GO_EV_STW_END:
		if (!c->stw_kind)
			return 0;
		an_hist__add(a->stw, ts - c->stw_start);
		if (a->ncycles) /* the cycle in progress, else the last one */
			a->cycles[c->open_cycle >= 0 ? (size_t)c->open_cycle :
				  a->ncycles - 1].stw_ns += ts - c->stw_start;
		err = stw_kind(c, c->stw_kind, ts - c->stw_start);
		c->stw_kind = NULL;
		return err;
	case GSCOPE__V1__GO_EVENT_KIND__GO_EV_MARK_ASSIST_BEGIN:
	case GSCOPE__V1__GO_EVENT_KIND__GO_EV_MARK_ASSIST_ACTIVE:
		g = gs_get(c, e->pid, e->goid);
		if (!g)
			return c->gerr;
		cold(c, g)->assist_since = ts ? ts : 1;
		return 0;
	case GSCOPE__V1__GO_EVENT_KIND__GO_EV_MARK_ASSIST_END:
		g = gs_get(c, e->pid, e->goid);
		if (!g)
			return c->gerr;
		if (!cold(c, g)->assist_since)
			return 0;
		a->assist_count++;
		a->assist_ns += ts - cold(c, g)->assist_since;
		if (c->open_cycle >= 0)
			a->cycles[c->open_cycle].assist_ns += ts - cold(c, g)->assist_since;
		cold(c, g)->assist_since = 0;
		return 0;
	default:
		return 0;
	}
}

/* ------------------------------------------------------------ packets */

#define EV_BLOCK 256 /* events read from the cursor at a time */

/*
 * other_event() of the fields it reads, passed by value: the caller's
 * event then need not be in memory.
 */
static __attribute__((noinline)) int other_event_of(struct ctx *c, uint64_t ts, uint32_t pid,
						    uint32_t kind, uint64_t goid, uint64_t arg,
						    uint64_t reason_sid)
{
	struct tf_go_event e = {
		.ts = ts, .pid = pid, .kind = kind, .goid = goid, .arg = arg,
		.reason_sid = reason_sid,
	};

	return other_event(c, &e);
}

/* One event; sec as in transition_in(), or 0: the sections asked for. */
static inline __attribute__((always_inline)) int
go_event(struct ctx *c, const struct tf_go_event *e, unsigned int sec)
{
	struct an_go *a = c->a;

	a->events++;
	/* transition() reads first_ts: kept up to date event by event */
	if (e->ts < a->first_ts)
		a->first_ts = e->ts;
	if (e->ts > a->last_ts)
		a->last_ts = e->ts;
	if (e->to_state && e->goid)
		return sec ? transition_in(c, e, sec) : transition(c, e);
	return other_event_of(c, e->ts, e->pid, e->kind, e->goid, e->arg, e->reason_sid);
}

/* The events of a block; sec as in go_event(). */
static inline __attribute__((always_inline)) int
go_events(struct ctx *c, const struct tf_go_event *ev, int n, unsigned int sec)
{
	int err = 0;

	for (int i = 0; i < n && !err; i++)
		err = go_event(c, &ev[i], sec);
	return err;
}

/* The optional columns the sched section reads (run()'s cursor) */
#define SCHED_RD (TF_GOF_STACK | TF_GOF_REASON)

/*
 * The sched section alone over a sparse batch: each event goes to the
 * state machine as it is decoded, in a local (no block of events).
 */
static int go_batch_sched(struct ctx *c, struct tf_go_cursor *cur)
{
	uint64_t bts[TF_GO_SPARSE_BLOCK];
	uint32_t bkw[TF_GO_SPARSE_BLOCK];
	struct tf_go_sparse r;
	struct tf_go_event x;
	size_t k;
	bool ok = true;
	int err = 0;

	tf_go_sparse__begin(&r, cur);
	if (r.rd != SCHED_RD || !r.s[TF_GO_GOID])
		return -EAGAIN; /* (no goid column: no transitions) */
	while (ok && !err && (k = tf_go_sparse__safe(&r)) > 0) {
		/* a block's times and kind_flags at once, where it can */
		while (k >= TF_GO_SPARSE_BLOCK && tf_go_sparse__block(&r, bts, bkw)) {
			for (int i = 0; i < TF_GO_SPARSE_BLOCK && ok && !err; i++) {
				ok = tf_go_sparse__rest(&r, &x, bts[i], bkw[i], true, SCHED_RD, true);
				if (ok)
					err = go_event(c, &x, AN_GO_SCHED);
			}
			if (!ok || err)
				break;
			k -= TF_GO_SPARSE_BLOCK;
		}
		while (ok && !err && k) {
			ok = tf_go_sparse__one_rd(&r, &x, true, SCHED_RD, true);
			if (ok)
				err = go_event(c, &x, AN_GO_SCHED);
			k--;
		}
	}
	while (ok && !err && !tf_go_sparse__done(&r)) {
		ok = tf_go_sparse__one_rd(&r, &x, false, SCHED_RD, true);
		if (ok)
			err = go_event(c, &x, AN_GO_SCHED);
	}
	tf_go_sparse__end(&r, cur);
	if (err)
		return err;
	if (!ok) {
		cur->bad = r.s[r.bad];
		return tf_reader__go_failed(c->r);
	}
	if (tf_go_cursor__end(cur))
		return tf_reader__go_failed(c->r);
	return 0;
}

static int go_batch(struct ctx *c, struct tf_go_cursor *cur)
{
	struct an_go *a = c->a;
	struct tf_go_event ev[EV_BLOCK];
	int err = 0, n;

	if (a->sections == AN_GO_SCHED && cur->sparse && !cur->b &&
	    (err = go_batch_sched(c, cur)) != -EAGAIN)
		return err;
	err = 0;

	while (!err && (n = tf_go_cursor__read(cur, ev, EV_BLOCK)) > 0) {
		/* the sched section alone (the common query) has its own loop */
		if (a->sections == AN_GO_SCHED)
			err = go_events(c, ev, n, AN_GO_SCHED);
		else
			err = go_events(c, ev, n, 0);
	}
	if (!err && n < 0)
		err = tf_reader__go_failed(c->r);
	return err;
}

static int sched_trace(struct ctx *c, const Gscope__V1__SchedTraceSample *s)
{
	struct an_go *a = c->a;
	size_t n = s->n_p_runqueue;

	if (n > 4096)
		n = 4096;
	if (n > a->rq_nprocs) {
		uint64_t *ps = gs_realloc(a->rq_p_sum, n * sizeof(uint64_t));
		uint64_t *pm;

		if (!ps)
			return -ENOMEM;
		a->rq_p_sum = ps;
		pm = gs_realloc(a->rq_p_max, n * sizeof(uint64_t));
		if (!pm)
			return -ENOMEM;
		a->rq_p_max = pm;
		memset(ps + a->rq_nprocs, 0, (n - a->rq_nprocs) * sizeof(uint64_t));
		memset(pm + a->rq_nprocs, 0, (n - a->rq_nprocs) * sizeof(uint64_t));
		a->rq_nprocs = n;
	}
	a->rq_samples++;
	a->rq_gomaxprocs = s->gomaxprocs;
	a->rq_global_sum += s->runqueue;
	if (s->runqueue > a->rq_global_max)
		a->rq_global_max = s->runqueue;
	for (size_t i = 0; i < n; i++) {
		a->rq_p_sum[i] += s->p_runqueue[i];
		if (s->p_runqueue[i] > a->rq_p_max[i])
			a->rq_p_max[i] = s->p_runqueue[i];
	}
	return 0;
}

static int gc_cycle_packet(struct ctx *c, const Gscope__V1__GcCycle *gc)
{
	struct an_go *a = c->a;
	void *p = a->gctrace;
	int err = gs_grow(&p, &c->gctrace_cap, sizeof(*a->gctrace), a->ngctrace + 1,
			  SIZE_MAX / 128);

	a->gctrace = p;
	if (err)
		return err;
	a->gctrace[a->ngctrace++] = (struct an_go_gctrace){
		.seq = gc->seq, .wall_ts_ns = gc->wall_ts_ns,
		.stw_sweep_term_ns = gc->stw_sweep_term_ns, .mark_ns = gc->mark_ns,
		.stw_mark_term_ns = gc->stw_mark_term_ns,
		.heap_live_start = gc->heap_live_start, .heap_live_end = gc->heap_live_end,
		.heap_marked = gc->heap_marked, .heap_goal = gc->heap_goal,
		.gomaxprocs = gc->gomaxprocs, .cpu_percent = gc->cpu_percent,
		.forced = gc->forced,
	};
	return 0;
}

static int cmp_stack(const void *x, const void *y)
{
	const struct an_go_stack *a = x, *b = y;

	if (a->delay_ns != b->delay_ns)
		return a->delay_ns > b->delay_ns ? -1 : 1;
	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	for (uint32_t i = 0; i < a->nframes && i < b->nframes; i++)
		if (a->pcs[i] != b->pcs[i])
			return a->pcs[i] < b->pcs[i] ? -1 : 1;
	return (int)a->nframes - (int)b->nframes;
}

static int cmp_group(const void *x, const void *y)
{
	const struct an_go_group *a = x, *b = y;

	if (a->exec_ns != b->exec_ns)
		return a->exec_ns > b->exec_ns ? -1 : 1;
	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	return strcmp(a->name, b->name);
}

static int finish(struct ctx *c)
{
	struct an_go *a = c->a;
	int err = 0;

	/* goroutines still alive: their current state lasts until the end */
	for (size_t i = 0; i < c->ngs && !err; i++) {
		struct gstate *g = &c->gs[i];

		if (!c->gc[i].live || !g->known)
			continue;
		if (a->last_ts > g->since) {
			account(c, g, a->last_ts - g->since);
			a->state_ns[g->state] += a->last_ts - g->since;
		}
		if (a->sections & AN_GO_GOROUTINES)
			err = flush(c, g, a->last_ts);
	}
	if (err)
		return err;
	/* all causes together: the sum of the per-cause histograms */
	for (int i = 0; i < AN_CAUSE_MAX; i++)
		an_hist__merge(a->sched, a->sched_cause[i]);
	for (size_t i = 0; i < a->nstacks; i++) {
		a->pprof_count += a->stacks[i].count;
		a->pprof_delay_ns += a->stacks[i].delay_ns;
	}
	/* groups that only hold goroutines with no time at all stay, sorted */
	if (a->nstacks)
		qsort(a->stacks, a->nstacks, sizeof(*a->stacks), cmp_stack);
	if (a->ngroups)
		qsort(a->groups, a->ngroups, sizeof(*a->groups), cmp_group);
	return 0;
}

static int run(struct ctx *c, const char *path)
{
	struct tf_packet pkt;
	int err;

	err = tf_reader__open(path, &c->r);
	if (err)
		return err;
	/* P and M are not used; the start stack (arg2) only by goroutines,
	 * arg (GC sequence, heap sizes) by gc and goroutines (GC overlap) */
	tf_reader__go_cursor(c->r, 1u << TF_GO_GOID | 1u << TF_GO_FROM | 1u << TF_GO_TO |
			     1u << TF_GO_STACK | 1u << TF_GO_REASON |
			     (c->a->sections & (AN_GO_GC | AN_GO_GOROUTINES) ?
			      1u << TF_GO_ARG : 0) |
			     (c->a->sections & AN_GO_GOROUTINES ? 1u << TF_GO_ARG2 : 0));
	while ((err = tf_reader__next(c->r, &pkt)) > 0) {
		if (!c->gen_valid || pkt.generation != c->gen) {
			c->gen = pkt.generation;
			c->gen_valid = true;
			if (c->agg_cache)
				memset(c->agg_cache, 0, c->agg_cache_cap * sizeof(uint32_t));
			memset(c->reason_cache, 0, sizeof(c->reason_cache));
			memset(c->yield_cache, 0, sizeof(c->yield_cache));
		}
		err = 0;
		if (pkt.kind == TF_PKT_GO_EVENTS)
			err = go_batch(c, pkt.go);
		else if (pkt.kind == TF_PKT_SCHED_TRACE)
			err = sched_trace(c, pkt.msg->sched_trace);
		else if (pkt.kind == TF_PKT_GC_CYCLE)
			err = gc_cycle_packet(c, pkt.msg->gc_cycle);
		if (err < 0)
			break;
	}
	if (!err)
		err = finish(c);
	tf_reader__close(c->r);
	return err;
}

int an_go__compute(const char *path, unsigned int sections, struct an_go **out)
{
	struct ctx c = { .open_cycle = -1, .after_cycle = -1, .goal_cycle = -1 };
	struct an_go *a = gs_calloc(1, sizeof(*a));
	int err = -ENOMEM;

	if (!a)
		return -ENOMEM;
	c.a = a;
	a->sections = sections ? sections : AN_GO_ALL;
	a->first_ts = UINT64_MAX;
	a->reasons[0] = "other";
	a->nreasons = 1;
	a->sched = gs_arena__alloc(&a->arena, sizeof(*a->sched));
	a->stw = gs_arena__alloc(&a->arena, sizeof(*a->stw));
	if (!a->sched || !a->stw)
		goto out;
	an_hist__init(a->sched);
	an_hist__init(a->stw);
	for (int i = 0; i < AN_CAUSE_MAX; i++) {
		a->sched_cause[i] = gs_arena__alloc(&a->arena, sizeof(struct an_hist));
		if (!a->sched_cause[i])
			goto out;
		an_hist__init(a->sched_cause[i]);
	}
	err = run(&c, path);
out:
	gs_u64map__release(&c.gmap);
	gs_free(c.dense);
	gs_free(c.gs);
	gs_free(c.gc);
	gs_free(c.free_gs);
	gs_intern__release(&c.aggs);
	gs_intern__release(&c.group_names);
	gs_free(c.agg_cache);
	gs_free(c.cycle_prefix);
	if (err) {
		an_go__free(a);
		return err;
	}
	if (a->first_ts == UINT64_MAX)
		a->first_ts = 0;
	*out = a;
	return 0;
}

void an_go__free(struct an_go *a)
{
	if (!a)
		return;
	gs_free(a->stacks);
	gs_free(a->groups);
	gs_free(a->cycles);
	gs_free(a->stw_kinds);
	gs_free(a->gctrace);
	gs_free(a->rq_p_sum);
	gs_free(a->rq_p_max);
	gs_arena__release(&a->arena);
	gs_free(a);
}
