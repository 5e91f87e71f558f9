// SPDX-License-Identifier: BSD-2-Clause
/*
 * libFuzzer harness for the Go execution trace decoders: arbitrary bytes
 * through rt_gotrace__decode() with a counting sink.  Seed it with the v1
 * traces in ../shared/corpus/gotrace/v1-public.
 *
 * For v1 inputs (headers up to "go 1.21") the sink also checks the decoder's
 * contract and abort()s on a violation: generation(1) comes first, every
 * stack id is announced once and before its first use, every goroutine
 * transition starts from the state the goroutine is in, and on success the
 * statistics agree with what was delivered.  Inputs of odd size go to a
 * sink with a converter (rt_goconv.h) instead: the events arrive in blocks,
 * converted, and on success their count is the decoder's.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/gs_err.h"
#include "format/tf_format.h"
#include "runtime/rt_goconv.h"
#include "runtime/rt_gotrace.h"
#include "tests/fuzz/fuzz_conv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ST_RUNNABLE GSCOPE__V1__GO_STATE__GO_STATE_RUNNABLE
#define KIND(x) GSCOPE__V1__GO_EVENT_KIND__GO_EV_##x

struct slot {
	uint64_t key;
	bool used;
	uint8_t val; /* goroutine: state; stack: 1 */
};

struct set {
	struct slot *s;
	size_t cap, n;
};

struct fz {
	bool check;
	int gens;
	uint64_t events, samples;
	struct set gs, stacks;
};

static struct slot *set_get(struct set *t, uint64_t key, bool add)
{
	size_t i;

	if (add && (t->n + 1) * 2 > t->cap) {
		struct set nt = { calloc(t->cap ? t->cap * 2 : 64, sizeof(struct slot)),
				  t->cap ? t->cap * 2 : 64, 0 };

		if (!nt.s)
			abort();
		for (i = 0; i < t->cap; i++)
			if (t->s[i].used)
				*set_get(&nt, t->s[i].key, true) = t->s[i];
		free(t->s);
		*t = nt;
	}
	if (!t->cap)
		return NULL;
	for (i = (key * 0x9e3779b97f4a7c15ull) >> 17 & (t->cap - 1); t->s[i].used;
	     i = (i + 1) & (t->cap - 1))
		if (t->s[i].key == key)
			return &t->s[i];
	if (!add)
		return NULL;
	t->s[i].used = true;
	t->s[i].key = key;
	t->s[i].val = 0;
	t->n++;
	return &t->s[i];
}

static void need_stack(struct fz *f, uint64_t id)
{
	if (id && !set_get(&f->stacks, id, false))
		abort(); /* used before announced */
}

static int on_stack(void *ctx, uint64_t id, const struct rt_go_frame *fr, size_t n)
{
	struct fz *f = ctx;

	if (!f->check)
		return 0;
	if (f->gens != 1 || !id || set_get(&f->stacks, id, false))
		abort();
	for (size_t i = 0; i < n; i++)
		if (!fr[i].func || !fr[i].file)
			abort();
	set_get(&f->stacks, id, true)->val = 1;
	return 0;
}

static int on_generation(void *ctx, uint64_t gen)
{
	struct fz *f = ctx;

	if (f->check && (gen != 1 || f->gens || f->events || f->samples))
		abort();
	f->gens++;
	return 0;
}

static int on_event(void *ctx, const struct rt_go_event *e)
{
	struct fz *f = ctx;
	struct slot *g;

	f->events++;
	if (!f->check)
		return 0;
	if (f->gens != 1 || (e->str_len && !e->str) || (e->str2_len && !e->str2))
		abort();
	need_stack(f, e->stack);
	if (e->kind == KIND(CREATE))
		need_stack(f, e->arg2);
	if (!e->from && !e->to)
		return 0;
	g = set_get(&f->gs, e->g, true);
	if (e->kind == KIND(CREATE) ? g->val != 0 :
	    e->kind == KIND(STATUS) ? e->from != 0 : g->val != e->from)
		abort(); /* the state machine went wrong */
	g->val = e->kind == KIND(DESTROY) ? 0 : e->to;
	return 0;
}

static int on_go_events(void *ctx, const struct tf_go_event *ev, size_t n)
{
	struct fz *f = ctx;

	if (!n || n > RT_GOCONV_BLOCK || !ev)
		abort();
	f->events += n;
	return 0;
}

static int on_sample(void *ctx, uint64_t ts, uint64_t g, int32_t p, uint64_t m, uint64_t stack)
{
	struct fz *f = ctx;

	f->samples++;
	if (f->check) {
		if (f->gens != 1)
			abort();
		need_stack(f, stack);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { 0 };
	struct rt_go_sink sink = {
		.ctx = &f, .stack = on_stack, .generation = on_generation,
		.event = on_event, .cpu_sample = on_sample,
	};
	struct rt_gotrace_stats st;
	struct rt_goconv cv = { .intern = fuzz_intern }; /* stacks not mapped: 0 */
	int version = 0, err;

	gs_log__set_fn(NULL);
	f.check = size >= 16 && !memcmp(data, "go 1.", 5) &&
		  rt_gotrace__version(data, size, &version) == 0 && version <= 1021;
	if (size & 1) {
		sink.conv = &cv;
		sink.go_events = on_go_events;
		f.check = false; /* (the checks are of struct rt_go_event) */
	}
	err = rt_gotrace__decode(data, size, "fuzz", &sink, &st);
	if (err > 0)
		abort();
	if (f.check && !err &&
	    (st.events != f.events || st.cpu_samples != f.samples || st.bytes != size))
		abort();
	if (sink.conv && !err && st.events != f.events)
		abort(); /* an event converted but not handed over */
	free(f.gs.s);
	free(f.stacks.s);
	return 0;
}
