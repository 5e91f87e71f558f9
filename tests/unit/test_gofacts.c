// SPDX-License-Identifier: BSD-2-Clause
/*
 * Known facts of traces written by the project's own Go workloads
 * (fixtures/go/workload), built with real Go toolchains: Go 1.19 and 1.21
 * (v1 format) and Go 1.23 (v2).  Each workload's structure is
 * deterministic (fixtures/go/README.md); the decoders must see it exactly,
 * and the goroutine state machine must hold on every event.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyze/an_go.h"
#include "base/gs_u64map.h"
#include "format/tf_writer.h"
#include "runtime/rt_goimport.h"
#include "runtime/rt_gotrace.h"
#include "tests/lib/gofix.h"
#include "tests/unit/tutil.h"

static char tmpdir[64];

static void setup(void)
{
	tmpdir_make(tmpdir, sizeof(tmpdir), "gofacts");
}

static void teardown(void)
{
	tmpdir_remove(tmpdir);
}

TestSuite(gofacts, .init = setup, .fini = teardown, .timeout = 600);

enum {
	F_SPAWN_CHILD = 1 << 0, /* leaf function main.spawnChild */
	F_PINGPONG = 1 << 1,    /* main.pinger or main.ponger on the stack */
};

struct facts {
	struct gs_u64map stack_flags;   /* stack id -> F_* */
	struct gs_u64map gstate;        /* goroutine -> last state + 8 * last kind */
	struct gs_u64map spawned;       /* goroutines started in main.spawnChild */
	struct gs_u64map parked;        /* goroutines blocked on a ping-pong channel */
	uint64_t kinds[64];
	uint64_t spawn_created, spawn_ended, pingpong_blocks, pingpong_unblocks;
	uint64_t bad_start, unblock_not_started;
	uint64_t events;
};

static bool has(const struct rt_go_frame *f, const char *fn)
{
	return f->func_len == strlen(fn) && !memcmp(f->func, fn, f->func_len);
}

static int on_stack(void *ctx, uint64_t id, const struct rt_go_frame *f, size_t n)
{
	struct facts *x = ctx;
	uint64_t flags = 0;

	if (n && has(&f[0], "main.spawnChild"))
		flags |= F_SPAWN_CHILD;
	for (size_t i = 0; i < n; i++)
		if (has(&f[i], "main.pinger") || has(&f[i], "main.ponger"))
			flags |= F_PINGPONG;
	cr_assert_not_null(gs_u64map__put(&x->stack_flags, id, flags, NULL));
	*gs_u64map__get(&x->stack_flags, id) = flags;
	return 0;
}

static int on_generation(void *ctx, uint64_t gen)
{
	struct facts *x = ctx;

	gs_u64map__release(&x->stack_flags); /* stack ids are per generation */
	return 0;
}

static uint64_t flags_of(struct facts *x, uint64_t stack)
{
	uint64_t *v = stack ? gs_u64map__get(&x->stack_flags, stack) : NULL;

	return v ? *v : 0;
}

static int on_event(void *ctx, const struct rt_go_event *e)
{
	struct facts *x = ctx;
	uint64_t *st;

	x->events++;
	if (e->kind < 64)
		x->kinds[e->kind]++;
	if (!e->to || !e->g)
		return 0;
	st = gs_u64map__get(&x->gstate, e->g);
	/* every start follows a transition to runnable */
	if (e->kind == GSCOPE__V1__GO_EVENT_KIND__GO_EV_START && st &&
	    (*st & 7) != GSCOPE__V1__GO_STATE__GO_STATE_RUNNABLE)
		x->bad_start++;
	/* an unblocked goroutine's next transition is its start */
	if (st && *st >> 3 == GSCOPE__V1__GO_EVENT_KIND__GO_EV_UNBLOCK &&
	    e->kind != GSCOPE__V1__GO_EVENT_KIND__GO_EV_START)
		x->unblock_not_started++;
	cr_assert_not_null(gs_u64map__put(&x->gstate, e->g, 0, NULL));
	*gs_u64map__get(&x->gstate, e->g) = e->to | (uint64_t)e->kind << 3;

	switch (e->kind) {
	case GSCOPE__V1__GO_EVENT_KIND__GO_EV_CREATE:
		if (flags_of(x, e->arg2) & F_SPAWN_CHILD) {
			x->spawn_created++;
			gs_u64map__put(&x->spawned, e->g, 1, NULL);
		}
		break;
	case GSCOPE__V1__GO_EVENT_KIND__GO_EV_DESTROY:
		if (gs_u64map__del(&x->spawned, e->g))
			x->spawn_ended++;
		break;
	case GSCOPE__V1__GO_EVENT_KIND__GO_EV_BLOCK:
		if ((flags_of(x, e->stack) & F_PINGPONG) && e->str &&
		    ((e->str_len == 9 && !memcmp(e->str, "chan send", 9)) ||
		     (e->str_len == 12 && !memcmp(e->str, "chan receive", 12)))) {
			x->pingpong_blocks++;
			gs_u64map__put(&x->parked, e->g, 1, NULL);
		}
		break;
	case GSCOPE__V1__GO_EVENT_KIND__GO_EV_UNBLOCK:
		/* the parked side of every message is woken by the other side */
		if (gs_u64map__del(&x->parked, e->g) && (flags_of(x, e->stack) & F_PINGPONG))
			x->pingpong_unblocks++;
		break;
	default:
		break;
	}
	return 0;
}

static void facts_release(struct facts *x)
{
	gs_u64map__release(&x->stack_flags);
	gs_u64map__release(&x->gstate);
	gs_u64map__release(&x->spawned);
	gs_u64map__release(&x->parked);
}

/* Build the workload with Go version, run it, decode its trace into x. */
static bool run_workload(const char *version, const char *const *args,
			 struct facts *x, char *trace, size_t tsize)
{
	const struct rt_go_sink sink = {
		.ctx = x, .stack = on_stack, .generation = on_generation,
		.event = on_event,
	};
	const char *argv[32];
	char bin[512];
	uint8_t *data;
	size_t len, n = 0;
	int status;

	if (!gofix_go(version)) {
		fprintf(stderr, "test_gofacts: skipped Go %s: toolchain not installed\n",
			version);
		return false;
	}
	cr_assert_eq(gofix_build(version, "workload", bin, sizeof(bin)), 0);
	snprintf(trace, tsize, "%s/%s-%s.trace", tmpdir, args[0], version);
	for (; args[n]; n++)
		argv[n] = args[n];
	argv[n++] = "-procs";
	argv[n++] = "2";
	argv[n++] = "-o";
	argv[n++] = trace;
	argv[n] = NULL;
	cr_assert_eq(gofix_run(bin, argv, NULL, &status), 0);
	cr_assert_eq(status, 0, "workload %s with Go %s exited %d", args[0], version, status);
	memset(x, 0, sizeof(*x));
	data = slurp(trace, &len);
	cr_assert_eq(rt_gotrace__decode(data, len, trace, &sink, NULL), 0,
		     "decode %s", trace);
	free(data);
	cr_assert_eq(x->bad_start, 0, "%s: starts of non-runnable goroutines", trace);
	cr_assert_eq(x->unblock_not_started, 0, "%s: unblocks not followed by a start",
		     trace);
	return true;
}

static const char *const versions[] = { "1.19", "1.21", "1.23" };

Test(gofacts, spawn)
{
	static const char *const args[] = { "spawn", "-waves", "3", "-n", "200", NULL };
	char trace[256], gst[256];

	for (size_t v = 0; v < 3; v++) {
		struct facts x;
		struct tf_writer *w;
		struct an_go *a;
		uint64_t children = 0;

		if (!run_workload(versions[v], args, &x, trace, sizeof(trace)))
			continue;
		cr_expect_eq(x.spawn_created, 600, "Go %s: %llu created", versions[v],
			     (unsigned long long)x.spawn_created);
		cr_expect_eq(x.spawn_ended, 600, "Go %s: %llu ended", versions[v],
			     (unsigned long long)x.spawn_ended);
		facts_release(&x);

		/* the whole pipeline: import, then the goroutines analysis */
		snprintf(gst, sizeof(gst), "%s/spawn.gst", tmpdir);
		cr_assert_eq(tf_writer__open(gst, NULL, NULL, &w), 0);
		cr_assert_eq(rt_goimport__file(trace, NULL, w, NULL), 0);
		cr_assert_eq(tf_writer__close(w), 0);
		cr_assert_eq(an_go__compute(gst, AN_GO_GOROUTINES, &a), 0);
		for (size_t i = 0; i < a->ngroups; i++)
			if (!strcmp(a->groups[i].name, "main.spawnChild"))
				children = a->groups[i].count;
		cr_expect_eq(children, 600, "Go %s: group main.spawnChild has %llu",
			     versions[v], (unsigned long long)children);
		an_go__free(a);
	}
}

Test(gofacts, pingpong)
{
	static const char *const args[] = { "pingpong", "-pairs", "2", "-rounds", "500", NULL };
	char trace[256];

	for (size_t v = 0; v < 3; v++) {
		struct facts x;

		if (!run_workload(versions[v], args, &x, trace, sizeof(trace)))
			continue;
		cr_expect_eq(x.pingpong_blocks, 2000, "Go %s: %llu channel blocks",
			     versions[v], (unsigned long long)x.pingpong_blocks);
		cr_expect_eq(x.pingpong_unblocks, 2000, "Go %s: %llu unblocks",
			     versions[v], (unsigned long long)x.pingpong_unblocks);
		facts_release(&x);
	}
}

Test(gofacts, gc_and_annotations)
{
	static const char *const gc_args[] = { "gc", "-rounds", "4", NULL };
	static const char *const annot_args[] = { "annot", NULL };
	char trace[256];

	for (size_t v = 0; v < 3; v++) {
		struct facts x;

		if (!run_workload(versions[v], gc_args, &x, trace, sizeof(trace)))
			continue;
		cr_expect_eq(x.kinds[GSCOPE__V1__GO_EVENT_KIND__GO_EV_GC_BEGIN], 4,
			     "Go %s: %llu GC cycles", versions[v],
			     (unsigned long long)x.kinds[GSCOPE__V1__GO_EVENT_KIND__GO_EV_GC_BEGIN]);
		facts_release(&x);

		run_workload(versions[v], annot_args, &x, trace, sizeof(trace));
		cr_expect_eq(x.kinds[GSCOPE__V1__GO_EVENT_KIND__GO_EV_TASK_BEGIN], 10,
			     "Go %s: tasks", versions[v]);
		cr_expect_eq(x.kinds[GSCOPE__V1__GO_EVENT_KIND__GO_EV_REGION_BEGIN], 26,
			     "Go %s: regions", versions[v]);
		cr_expect_eq(x.kinds[GSCOPE__V1__GO_EVENT_KIND__GO_EV_LOG], 11,
			     "Go %s: logs", versions[v]);
		facts_release(&x);
	}
}
