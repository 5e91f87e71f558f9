/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rt_goconv: a decoder's Go event (struct rt_go_event) in the writer's form
 * (struct tf_go_event), with the decoder's stack ids and strings turned
 * into .gst ids.
 *
 * The importer owns the tables; a decoder whose sink has a converter
 * (rt_go_sink.conv) calls rt_goconv__event() itself, inline, and hands the
 * converted events over in blocks, which spares a call per event.  The
 * importer's per-event callback uses the same function, so both paths
 * give the same events.
 */
#ifndef RT_GOCONV_H
#define RT_GOCONV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "format/tf_format.h"
#include "runtime/rt_gotrace.h"

/* events a decoder converts before it hands them over */
#define RT_GOCONV_BLOCK 128

struct rt_goconv {
	uint32_t pid;              /* of every event */
	const uint64_t *stacks;    /* decoder stack id -> .gst stack id (0: none) */
	size_t nstacks;
	/*
	 * Decoder strings keep their bytes within a generation (rt_gotrace.h):
	 * the pointer and length stand for them.  Cleared with the stacks at
	 * every generation.
	 */
	struct {
		const char *s;
		size_t len;
		uint64_t sid;
	} scache[256];
	/* the id of a string not in scache; 0 or a negative error */
	int (*intern)(void *ctx, const char *s, size_t len, uint64_t *id);
	void *ctx;
};

static inline uint64_t rt_goconv__stack(const struct rt_goconv *cv, uint64_t id)
{
	return id && id < cv->nstacks ? cv->stacks[id] : 0;
}

/* intern() for a string scache does not hold; remembers it */
int rt_goconv__str_miss(struct rt_goconv *cv, const char *s, size_t len, uint64_t *id);

/* The .gst string id of s (0 for NULL). */
static inline int rt_goconv__str(struct rt_goconv *cv, const char *s, size_t len, uint64_t *id)
{
	size_t h = ((uintptr_t)s >> 3) & 255;

	if (!s) {
		*id = 0;
		return 0;
	}
	if (cv->scache[h].s == s && cv->scache[h].len == len) {
		*id = cv->scache[h].sid;
		return 0;
	}
	return rt_goconv__str_miss(cv, s, len, id);
}

/*
 * *e as the writer takes it, into *g; 0 or a negative error.  plain: the
 * caller knows e is neither a CREATE nor a LOG (a constant where inlined).
 */
static inline __attribute__((always_inline)) int
rt_goconv__event_in(struct rt_goconv *cv, const struct rt_go_event *restrict e,
		    struct tf_go_event *restrict g, bool plain)
{
	int err;

	/* field by field: a compound literal is built aside, then copied */
	g->ts = e->ts;
	g->tick = e->tick;
	g->pid = cv->pid;
	g->kind = e->kind;
	g->goid = e->g;
	g->from_state = e->from;
	g->to_state = e->to;
	g->p = e->p;
	g->m = e->m;
	g->stack_id = rt_goconv__stack(cv, e->stack);
	g->arg = e->arg;
	g->arg2 = e->arg2;
	err = rt_goconv__str(cv, e->str, e->str_len, &g->reason_sid);
	if (__builtin_expect(err, 0) || plain)
		return err;
	if (e->kind == GSCOPE__V1__GO_EVENT_KIND__GO_EV_CREATE)
		g->arg2 = rt_goconv__stack(cv, e->arg2);
	else if (e->kind == GSCOPE__V1__GO_EVENT_KIND__GO_EV_LOG)
		err = rt_goconv__str(cv, e->str2, e->str2_len, &g->arg2);
	return err;
}

static inline __attribute__((always_inline)) int
rt_goconv__event(struct rt_goconv *cv, const struct rt_go_event *e, struct tf_go_event *g)
{
	return rt_goconv__event_in(cv, e, g, false);
}

/*
 * A decoder's block of converted events, for a sink with a converter
 * (rt_go_sink.conv and go_events); ev is NULL when the sink takes its
 * events one by one.
 */
struct rt_goblock {
	struct rt_goconv *cv;
	const struct rt_go_sink *sink;
	struct tf_go_event *ev;
	size_t n;
};

/* b for sink (which may be NULL): 0, or -ENOMEM (not logged). */
int rt_goblock__init(struct rt_goblock *b, const struct rt_go_sink *sink);
void rt_goblock__release(struct rt_goblock *b);

/* Hand the events converted so far to the sink (none: 0). */
int rt_goblock__flush(struct rt_goblock *b);

/* e converted into the block (plain as for rt_goconv__event_in()), which
 * goes to the sink when full.  0 or a negative error. */
static inline __attribute__((always_inline)) int
rt_goblock__add(struct rt_goblock *b, const struct rt_go_event *e, bool plain)
{
	int err = rt_goconv__event_in(b->cv, e, &b->ev[b->n], plain);

	if (__builtin_expect(err, 0))
		return err;
	if (++b->n < RT_GOCONV_BLOCK)
		return 0;
	return rt_goblock__flush(b);
}

#endif
