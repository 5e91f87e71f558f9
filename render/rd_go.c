// SPDX-License-Identifier: BSD-2-Clause
#include <inttypes.h>
#include <string.h>

#include "base/gs_json.h"
#include "render/rd_go.h"
#include "render/rd_table.h"

#define TOP_STACKS 10
#define TOP_GROUPS 20
#define TOP_CYCLES 20

static const double quantiles[] = { 0.50, 0.90, 0.99, 0.999 };
static const char *const qkeys[] = { "p50_ns", "p90_ns", "p99_ns", "p999_ns" };

/* ------------------------------------------------------------ text */

/* BCC runqlat-style log2 distribution (nanoseconds, exact power-of-two slots). */
static void log2_text(FILE *f, const struct an_hist *h)
{
	static const char stars[] = "****************************************";
	uint64_t maxc = 0, l2[AN_HIST_LOG2];
	int lo = -1, hi = -1;

	an_hist__log2(h, l2);
	for (int k = 0; k < AN_HIST_LOG2; k++) {
		if (!l2[k])
			continue;
		if (lo < 0)
			lo = k;
		hi = k;
		if (l2[k] > maxc)
			maxc = l2[k];
	}
	if (lo < 0)
		return;
	fprintf(f, "  %27s : %-10s distribution\n", "nsecs", "count");
	for (int k = lo; k <= hi; k++) {
		/* slot k holds [2^(k-1), 2^k - 1]; slot 0 holds 0 */
		uint64_t a = k ? (uint64_t)1 << (k - 1) : 0;
		uint64_t b = k ? (k == 64 ? UINT64_MAX : ((uint64_t)1 << k) - 1) : 0;
		int n = (int)(l2[k] * 40 / maxc);
		char range[48];

		snprintf(range, sizeof(range), "%" PRIu64 " -> %" PRIu64, a, b);
		fprintf(f, "  %27s : %-10" PRIu64 " |%-40.*s|\n", range, l2[k], n, stars);
	}
}

static void pct_row(struct rd_table *t, const char *name, const struct an_hist *h)
{
	char b[32];

	rd_table__cell(t, "%s", name);
	rd_table__cell(t, "%s", rd_fmt_count(b, sizeof(b), h->count));
	rd_table__cell(t, "%s", rd_fmt_ns(b, sizeof(b), (double)h->sum));
	for (int i = 0; i < 4; i++)
		rd_table__cell(t, "%s", rd_fmt_ns(b, sizeof(b),
						 (double)an_hist__quantile(h, quantiles[i])));
	rd_table__cell(t, "%s", rd_fmt_ns(b, sizeof(b), (double)(h->count ? h->max : 0)));
}

static void sched_text(FILE *f, const struct an_go *a)
{
	static const char *const heads[] = {
		"cause", ">count", ">total", ">p50", ">p90", ">p99", ">p99.9", ">max",
	};
	struct rd_table t;
	char b1[32], b2[32];

	fprintf(f, "== sched: goroutine scheduling latency (runnable -> running)\n\n");
	if (!a->events) {
		fprintf(f, "  no goroutine events in this trace (import or record a Go execution trace)\n");
		goto runqueues;
	}
	rd_table__init(&t, 8, heads);
	pct_row(&t, "all", a->sched);
	for (int c = 0; c < AN_CAUSE_MAX; c++)
		if (a->sched_cause[c]->count)
			pct_row(&t, an_go_cause_name((enum an_go_cause)c), a->sched_cause[c]);
	rd_table__print(&t, f, "  ");
	rd_table__release(&t);
	fputc('\n', f);
	log2_text(f, a->sched);
	fprintf(f, "\n  delay by unblocking stack (as go tool trace -pprof=sched): %s in %s wakeups\n",
		rd_fmt_ns(b1, sizeof(b1), (double)a->pprof_delay_ns),
		rd_fmt_count(b2, sizeof(b2), a->pprof_count));
	for (size_t i = 0; i < a->nstacks && i < TOP_STACKS; i++) {
		const struct an_go_stack *s = &a->stacks[i];

		if (!s->count)
			break;
		fprintf(f, "  %10s %6.2f%% %8s  ", rd_fmt_ns(b1, sizeof(b1), (double)s->delay_ns),
			a->pprof_delay_ns ? 100.0 * (double)s->delay_ns / (double)a->pprof_delay_ns : 0,
			rd_fmt_count(b2, sizeof(b2), s->count));
		for (uint32_t k = 0; k < s->nframes && k < 4; k++)
			fprintf(f, "%s%s", k ? " <- " : "", s->funcs[k]);
		fprintf(f, "%s\n", s->nframes > 4 ? " <- ..." : "");
	}
runqueues:
	if (a->rq_samples) {
		fprintf(f, "\n  run queues (GODEBUG=schedtrace, %" PRIu64 " samples, gomaxprocs=%u):"
			" global mean %.2f max %" PRIu64 "\n", a->rq_samples, a->rq_gomaxprocs,
			(double)a->rq_global_sum / (double)a->rq_samples, a->rq_global_max);
		for (size_t p = 0; p < a->rq_nprocs; p++)
			fprintf(f, "    P%-3zu mean %.2f max %" PRIu64 " goroutines\n", p,
				(double)a->rq_p_sum[p] / (double)a->rq_samples, a->rq_p_max[p]);
	}
	fputc('\n', f);
}

static uint64_t group_block(const struct an_go *a, const struct an_go_group *g,
			    const char *prefix_net)
{
	uint64_t sum = 0;

	for (size_t r = 0; r < a->nreasons; r++) {
		bool net = !strcmp(a->reasons[r], "network");

		if ((prefix_net != NULL) == net)
			sum += g->block_ns[r];
	}
	return sum;
}

static void goroutines_text(FILE *f, const struct an_go *a)
{
	static const char *const heads[] = {
		"start function", ">goroutines", ">execution", ">sched wait", ">syscall",
		">network", ">blocked", ">GC overlap",
	};
	struct rd_table t;
	char b[32];

	fprintf(f, "== goroutines: time by start function (%" PRIu64 " goroutines)\n\n",
		a->goroutines);
	rd_table__init(&t, 8, heads);
	for (size_t i = 0; i < a->ngroups && i < TOP_GROUPS; i++) {
		const struct an_go_group *g = &a->groups[i];

		rd_table__cell(&t, "%s", g->name);
		rd_table__cell(&t, "%s", rd_fmt_count(b, sizeof(b), g->count));
		rd_table__cell(&t, "%s", rd_fmt_ns(b, sizeof(b), (double)g->exec_ns));
		rd_table__cell(&t, "%s", rd_fmt_ns(b, sizeof(b), (double)g->sched_ns));
		rd_table__cell(&t, "%s", rd_fmt_ns(b, sizeof(b), (double)g->syscall_ns));
		rd_table__cell(&t, "%s", rd_fmt_ns(b, sizeof(b), (double)group_block(a, g, "net")));
		rd_table__cell(&t, "%s", rd_fmt_ns(b, sizeof(b), (double)group_block(a, g, NULL)));
		rd_table__cell(&t, "%s", rd_fmt_ns(b, sizeof(b), (double)g->gc_ns));
	}
	rd_table__print(&t, f, "  ");
	rd_table__release(&t);
	if (a->ngroups > TOP_GROUPS)
		fprintf(f, "  ... %zu more groups (see --json)\n", a->ngroups - TOP_GROUPS);
	fputc('\n', f);
}

static void states_text(FILE *f, const struct an_go *a)
{
	static const char *const heads[] = {
		"from", "to", ">transitions", ">time in from", ">mean",
	};
	struct rd_table t;
	char b[32];

	fprintf(f, "== states: goroutine state transitions\n\n");
	rd_table__init(&t, 5, heads);
	for (unsigned int i = 0; i < AN_GO_NSTATES; i++) {
		for (unsigned int j = 0; j < AN_GO_NSTATES; j++) {
			uint64_t n = a->trans_count[i][j];

			if (!n)
				continue;
			rd_table__cell(&t, "%s", an_go_state_name(i));
			rd_table__cell(&t, "%s", an_go_state_name(j));
			rd_table__cell(&t, "%s", rd_fmt_count(b, sizeof(b), n));
			rd_table__cell(&t, "%s", rd_fmt_ns(b, sizeof(b), (double)a->trans_ns[i][j]));
			rd_table__cell(&t, "%s", rd_fmt_ns(b, sizeof(b),
							  (double)a->trans_ns[i][j] / (double)n));
		}
	}
	rd_table__print(&t, f, "  ");
	rd_table__release(&t);
	fputc('\n', f);
}

static void gc_text(FILE *f, const struct an_go *a)
{
	static const char *const heads[] = {
		">cycle", ">start", ">duration", ">STW", ">assist", ">heap before",
		">heap after", ">goal",
	};
	struct rd_table t;
	char b[32];

	if (!a->events && a->ngctrace)
		fprintf(f, "== gc\n");
	else
		fprintf(f, "== gc: %zu cycles, %s of STW in %" PRIu64 " pauses (max %s), "
		"%" PRIu64 " mark assists (%s)\n\n", a->ncycles,
		rd_fmt_ns(b, sizeof(b), (double)a->stw->sum), a->stw->count,
		rd_fmt_ns((char[32]){ 0 }, 32, (double)(a->stw->count ? a->stw->max : 0)),
		a->assist_count, rd_fmt_ns((char[32]){ 0 }, 32, (double)a->assist_ns));
	if (a->ncycles) {
		rd_table__init(&t, 8, heads);
		for (size_t i = 0; i < a->ncycles && i < TOP_CYCLES; i++) {
			const struct an_go_cycle *c = &a->cycles[i];

			rd_table__cell(&t, "%" PRIu64, c->seq);
			rd_table__cell(&t, "%s", rd_fmt_ns(b, sizeof(b),
							  (double)(c->start_ts - a->first_ts)));
			rd_table__cell(&t, "%s", c->end_ts ? rd_fmt_ns(b, sizeof(b),
						  (double)(c->end_ts - c->start_ts)) : "-");
			rd_table__cell(&t, "%s", rd_fmt_ns(b, sizeof(b), (double)c->stw_ns));
			rd_table__cell(&t, "%s", rd_fmt_ns(b, sizeof(b), (double)c->assist_ns));
			rd_table__cell(&t, "%s", rd_fmt_bytes(b, sizeof(b), (double)c->heap_before));
			rd_table__cell(&t, "%s", rd_fmt_bytes(b, sizeof(b), (double)c->heap_after));
			rd_table__cell(&t, "%s", rd_fmt_bytes(b, sizeof(b), (double)c->heap_goal));
		}
		rd_table__print(&t, f, "  ");
		rd_table__release(&t);
		if (a->ncycles > TOP_CYCLES)
			fprintf(f, "  ... %zu more cycles (see --json)\n", a->ncycles - TOP_CYCLES);
		fputc('\n', f);
	}
	for (size_t i = 0; i < a->nstw_kinds; i++) {
		const struct an_hist *h = &a->stw_kinds[i].hist;

		fprintf(f, "  STW %-28s %6" PRIu64 " pauses, total %s, p99 %s, max %s\n",
			a->stw_kinds[i].kind, h->count, rd_fmt_ns(b, sizeof(b), (double)h->sum),
			rd_fmt_ns((char[32]){ 0 }, 32, (double)an_hist__quantile(h, 0.99)),
			rd_fmt_ns((char[32]){ 0 }, 32, (double)h->max));
	}
	if (a->ngctrace) {
		static const char *const gh[] = {
			">gc", ">at", ">STW sweep", ">mark", ">STW mark", ">heap start",
			">heap end", ">marked", ">goal", ">P", "forced",
		};

		fprintf(f, "\n  GODEBUG=gctrace cycles: %zu\n", a->ngctrace);
		rd_table__init(&t, 11, gh);
		for (size_t i = 0; i < a->ngctrace && i < TOP_CYCLES; i++) {
			const struct an_go_gctrace *g = &a->gctrace[i];

			rd_table__cell(&t, "%" PRIu64, g->seq);
			rd_table__cell(&t, "%s", rd_fmt_ns(b, sizeof(b), (double)g->wall_ts_ns));
			rd_table__cell(&t, "%s", rd_fmt_ns(b, sizeof(b), (double)g->stw_sweep_term_ns));
			rd_table__cell(&t, "%s", rd_fmt_ns(b, sizeof(b), (double)g->mark_ns));
			rd_table__cell(&t, "%s", rd_fmt_ns(b, sizeof(b), (double)g->stw_mark_term_ns));
			rd_table__cell(&t, "%s", rd_fmt_bytes(b, sizeof(b), (double)g->heap_live_start));
			rd_table__cell(&t, "%s", rd_fmt_bytes(b, sizeof(b), (double)g->heap_live_end));
			rd_table__cell(&t, "%s", rd_fmt_bytes(b, sizeof(b), (double)g->heap_marked));
			/* GOGC=off prints an "infinite" goal */
			rd_table__cell(&t, "%s", g->heap_goal >= (1ull << 60) ? "off" :
				       rd_fmt_bytes(b, sizeof(b), (double)g->heap_goal));
			rd_table__cell(&t, "%u", g->gomaxprocs);
			rd_table__cell(&t, "%s", g->forced ? "yes" : "no");
		}
		rd_table__print(&t, f, "  ");
		rd_table__release(&t);
	}
	fputc('\n', f);
}

void rd_go__text(FILE *f, const struct an_go *a)
{
	char b[32];

	fprintf(f, "%s Go events, %s goroutines, span %s\n\n",
		rd_fmt_count(b, sizeof(b), a->events),
		rd_fmt_count((char[32]){ 0 }, 32, a->goroutines),
		rd_fmt_ns((char[32]){ 0 }, 32, (double)(a->last_ts - a->first_ts)));
	if (a->sections & AN_GO_SCHED)
		sched_text(f, a);
	if (a->sections & AN_GO_GOROUTINES)
		goroutines_text(f, a);
	if (a->sections & AN_GO_STATES)
		states_text(f, a);
	if (a->sections & AN_GO_GC)
		gc_text(f, a);
}

/* ------------------------------------------------------------ json */

static void hist_json(struct gs_json *j, const struct an_hist *h)
{
	uint64_t l2[AN_HIST_LOG2];

	an_hist__log2(h, l2);
	gs_json__begin_object(j);
	gs_json__kv_uint(j, "count", h->count);
	gs_json__kv_uint(j, "total_ns", h->sum);
	for (int i = 0; i < 4; i++)
		gs_json__kv_uint(j, qkeys[i], an_hist__quantile(h, quantiles[i]));
	gs_json__kv_uint(j, "min_ns", h->count ? h->min : 0);
	gs_json__kv_uint(j, "max_ns", h->count ? h->max : 0);
	gs_json__key(j, "log2_ns");
	gs_json__begin_array(j);
	for (int k = 0; k < AN_HIST_LOG2; k++) {
		if (!l2[k])
			continue;
		gs_json__begin_object(j);
		gs_json__kv_uint(j, "from_ns", k ? (uint64_t)1 << (k - 1) : 0);
		gs_json__kv_uint(j, "to_ns", k == 64 ? UINT64_MAX : k ? ((uint64_t)1 << k) - 1 : 0);
		gs_json__kv_uint(j, "count", l2[k]);
		gs_json__end_object(j);
	}
	gs_json__end_array(j);
	gs_json__end_object(j);
}

static void sched_json(struct gs_json *j, const struct an_go *a)
{
	gs_json__key(j, "sched");
	gs_json__begin_object(j);
	gs_json__key(j, "goroutine");
	hist_json(j, a->sched);
	gs_json__key(j, "by_cause");
	gs_json__begin_object(j);
	for (int c = 0; c < AN_CAUSE_MAX; c++) {
		gs_json__key(j, an_go_cause_name((enum an_go_cause)c));
		hist_json(j, a->sched_cause[c]);
	}
	gs_json__end_object(j);
	gs_json__key(j, "by_stack");
	gs_json__begin_object(j);
	gs_json__kv_uint(j, "count", a->pprof_count);
	gs_json__kv_uint(j, "total_ns", a->pprof_delay_ns);
	gs_json__key(j, "stacks");
	gs_json__begin_array(j);
	for (size_t i = 0; i < a->nstacks; i++) {
		const struct an_go_stack *s = &a->stacks[i];

		if (!s->count)
			continue;
		gs_json__begin_object(j);
		gs_json__kv_uint(j, "count", s->count);
		gs_json__kv_uint(j, "delay_ns", s->delay_ns);
		gs_json__key(j, "frames");
		gs_json__begin_array(j);
		for (uint32_t k = 0; k < s->nframes; k++) {
			char pc[32];

			gs_json__begin_object(j);
			gs_json__kv_string(j, "func", s->funcs[k]);
			snprintf(pc, sizeof(pc), "0x%" PRIx64, s->pcs[k]);
			gs_json__kv_string(j, "pc", pc);
			gs_json__end_object(j);
		}
		gs_json__end_array(j);
		gs_json__end_object(j);
	}
	gs_json__end_array(j);
	gs_json__end_object(j);
	gs_json__key(j, "runqueue");
	gs_json__begin_object(j);
	gs_json__kv_uint(j, "samples", a->rq_samples);
	gs_json__kv_uint(j, "gomaxprocs", a->rq_gomaxprocs);
	gs_json__kv_double(j, "global_mean", a->rq_samples ?
			   (double)a->rq_global_sum / (double)a->rq_samples : 0);
	gs_json__kv_uint(j, "global_max", a->rq_global_max);
	gs_json__key(j, "per_p");
	gs_json__begin_array(j);
	for (size_t p = 0; p < a->rq_nprocs; p++) {
		gs_json__begin_object(j);
		gs_json__kv_uint(j, "p", p);
		gs_json__kv_double(j, "mean", (double)a->rq_p_sum[p] / (double)a->rq_samples);
		gs_json__kv_uint(j, "max", a->rq_p_max[p]);
		gs_json__end_object(j);
	}
	gs_json__end_array(j);
	gs_json__end_object(j);
	gs_json__end_object(j);
}

static void goroutines_json(struct gs_json *j, const struct an_go *a)
{
	gs_json__key(j, "goroutines");
	gs_json__begin_object(j);
	gs_json__kv_uint(j, "count", a->goroutines);
	gs_json__key(j, "groups");
	gs_json__begin_array(j);
	for (size_t i = 0; i < a->ngroups; i++) {
		const struct an_go_group *g = &a->groups[i];

		gs_json__begin_object(j);
		gs_json__kv_string(j, "start_function", g->name);
		gs_json__kv_uint(j, "count", g->count);
		gs_json__kv_uint(j, "exec_ns", g->exec_ns);
		gs_json__kv_uint(j, "sched_wait_ns", g->sched_ns);
		gs_json__kv_uint(j, "syscall_ns", g->syscall_ns);
		gs_json__kv_uint(j, "gc_overlap_ns", g->gc_ns);
		gs_json__key(j, "blocked_ns");
		gs_json__begin_object(j);
		for (size_t r = 0; r < a->nreasons; r++)
			if (g->block_ns[r])
				gs_json__kv_uint(j, a->reasons[r], g->block_ns[r]);
		gs_json__end_object(j);
		gs_json__end_object(j);
	}
	gs_json__end_array(j);
	gs_json__end_object(j);
}

static void states_json(struct gs_json *j, const struct an_go *a)
{
	gs_json__key(j, "states");
	gs_json__begin_object(j);
	gs_json__key(j, "time_ns");
	gs_json__begin_object(j);
	for (unsigned int i = 0; i < AN_GO_NSTATES; i++)
		gs_json__kv_uint(j, an_go_state_name(i), a->state_ns[i]);
	gs_json__end_object(j);
	gs_json__key(j, "transitions");
	gs_json__begin_array(j);
	for (unsigned int i = 0; i < AN_GO_NSTATES; i++) {
		for (unsigned int k = 0; k < AN_GO_NSTATES; k++) {
			uint64_t n = a->trans_count[i][k];

			if (!n)
				continue;
			gs_json__begin_object(j);
			gs_json__kv_string(j, "from", an_go_state_name(i));
			gs_json__kv_string(j, "to", an_go_state_name(k));
			gs_json__kv_uint(j, "count", n);
			gs_json__kv_uint(j, "time_ns", a->trans_ns[i][k]);
			gs_json__kv_uint(j, "mean_ns", a->trans_ns[i][k] / n);
			gs_json__end_object(j);
		}
	}
	gs_json__end_array(j);
	gs_json__end_object(j);
}

static void gc_json(struct gs_json *j, const struct an_go *a)
{
	gs_json__key(j, "gc");
	gs_json__begin_object(j);
	gs_json__kv_uint(j, "cycles", a->ncycles);
	gs_json__key(j, "stw");
	hist_json(j, a->stw);
	gs_json__key(j, "stw_by_kind");
	gs_json__begin_object(j);
	for (size_t i = 0; i < a->nstw_kinds; i++) {
		gs_json__key(j, a->stw_kinds[i].kind);
		hist_json(j, &a->stw_kinds[i].hist);
	}
	gs_json__end_object(j);
	gs_json__kv_uint(j, "mark_assists", a->assist_count);
	gs_json__kv_uint(j, "mark_assist_ns", a->assist_ns);
	gs_json__key(j, "cycle_list");
	gs_json__begin_array(j);
	for (size_t i = 0; i < a->ncycles; i++) {
		const struct an_go_cycle *c = &a->cycles[i];

		gs_json__begin_object(j);
		gs_json__kv_uint(j, "seq", c->seq);
		gs_json__kv_uint(j, "start_ns", c->start_ts);
		gs_json__kv_uint(j, "end_ns", c->end_ts);
		gs_json__kv_uint(j, "stw_ns", c->stw_ns);
		gs_json__kv_uint(j, "assist_ns", c->assist_ns);
		gs_json__kv_uint(j, "heap_before", c->heap_before);
		gs_json__kv_uint(j, "heap_after", c->heap_after);
		gs_json__kv_uint(j, "heap_goal", c->heap_goal);
		gs_json__end_object(j);
	}
	gs_json__end_array(j);
	gs_json__key(j, "gctrace");
	gs_json__begin_array(j);
	for (size_t i = 0; i < a->ngctrace; i++) {
		const struct an_go_gctrace *g = &a->gctrace[i];

		gs_json__begin_object(j);
		gs_json__kv_uint(j, "seq", g->seq);
		gs_json__kv_uint(j, "at_ns", g->wall_ts_ns);
		gs_json__kv_uint(j, "stw_sweep_term_ns", g->stw_sweep_term_ns);
		gs_json__kv_uint(j, "mark_ns", g->mark_ns);
		gs_json__kv_uint(j, "stw_mark_term_ns", g->stw_mark_term_ns);
		gs_json__kv_uint(j, "heap_live_start", g->heap_live_start);
		gs_json__kv_uint(j, "heap_live_end", g->heap_live_end);
		gs_json__kv_uint(j, "heap_marked", g->heap_marked);
		gs_json__kv_uint(j, "heap_goal", g->heap_goal);
		gs_json__kv_uint(j, "gomaxprocs", g->gomaxprocs);
		gs_json__kv_uint(j, "cpu_percent", g->cpu_percent);
		gs_json__kv_bool(j, "forced", g->forced);
		gs_json__end_object(j);
	}
	gs_json__end_array(j);
	gs_json__end_object(j);
}

void rd_go__json(FILE *f, const struct an_go *a)
{
	struct gs_json j;

	gs_json__init(&j, f, true);
	gs_json__begin_object(&j);
	gs_json__kv_uint(&j, "events", a->events);
	gs_json__kv_uint(&j, "goroutine_count", a->goroutines);
	gs_json__kv_uint(&j, "first_ts", a->first_ts);
	gs_json__kv_uint(&j, "last_ts", a->last_ts);
	if (a->sections & AN_GO_SCHED)
		sched_json(&j, a);
	if (a->sections & AN_GO_GOROUTINES)
		goroutines_json(&j, a);
	if (a->sections & AN_GO_STATES)
		states_json(&j, a);
	if (a->sections & AN_GO_GC)
		gc_json(&j, a);
	gs_json__end_object(&j);
}
