// SPDX-License-Identifier: BSD-2-Clause
/*
 * GODEBUG schedtrace/scheddetail/gctrace: the line parser
 * (runtime/rt_godebug.c) on the real Go 1.19 corpus and on Go 1.21+
 * variants, with exact values and malformed inputs; the collector
 * (collect/col_godebug.c) on shell children (pass-through, partial lines,
 * exit status, signals, GODEBUG merging) and end to end on
 * fixtures/go/godebugload built with Go 1.19 and Go 1.23.
 *
 * Run from the repository root.  The corpus is ../shared/corpus/godebug
 * (GSCOPE_GODEBUG_CORPUS overrides); the Go tests need /usr/bin/go or
 * /usr/lib/go-1.23/bin/go (GSCOPE_GO119 / GSCOPE_GO123 override).  Each
 * skips with a reason when its input is missing.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "base/gs_err.h"
#include "base/gs_mem.h"
#include "collect/col_godebug.h"
#include "format/tf_reader.h"
#include "format/tf_writer.h"
#include "runtime/rt_godebug.h"
#include "tests/unit/tutil.h"

#define MB (1ull << 20)

static struct rt_godebug_rec rec;
static char tmpdir[64];

static void setup(void)
{
	tmpdir_make(tmpdir, sizeof(tmpdir), "godebug");
	gs_log__set_fn(log_capture);
}

static void teardown(void)
{
	tmpdir_remove(tmpdir);
}

TestSuite(godebug, .init = setup, .fini = teardown);

/* -Wwrite-strings: argv and envp arrays are char *const[], as for execve */
#define W(s) ((char *)(s))

static int parse(const char *s)
{
	return rt_godebug__parse_line(s, strlen(s), &rec);
}

static void skip(const char *why)
{
	fprintf(stderr, "test_godebug: skipped: %s\n", why);
	cr_skip_test("%s", why);
}

/* ------------------------------------------------------------ gctrace */

#define GC5 "gc 5 @0.068s 1%: 0.062+0.55+0.002 ms clock, " \
	"0.12+0.095/0.088/0+0.004 ms cpu, 27->29->17 MB, 31 MB goal, " \
	"0 MB stacks, 0 MB globals, 2 P (forced)"

Test(godebug, gc_note_example_exact)
{
	const struct rt_godebug_gc *g = &rec.gc;

	cr_assert_eq(parse(GC5), 1);
	cr_assert_eq(rec.kind, RT_GODEBUG_GC);
	cr_assert_eq(g->seq, 5);
	cr_assert_eq(g->wall_ts_ns, 68000000ull);
	cr_assert_eq(g->cpu_percent, 1);
	cr_assert_eq(g->clock_sweep_term_ns, 62000);
	cr_assert_eq(g->clock_mark_ns, 550000);
	cr_assert_eq(g->clock_mark_term_ns, 2000);
	cr_assert_eq(g->cpu_sweep_term_ns, 120000);
	cr_assert_eq(g->cpu_assist_ns, 95000);
	cr_assert_eq(g->cpu_background_ns, 88000);
	cr_assert_eq(g->cpu_idle_ns, 0);
	cr_assert_eq(g->cpu_mark_term_ns, 4000);
	cr_assert_eq(g->heap_live_start, 27 * MB);
	cr_assert_eq(g->heap_live_end, 29 * MB);
	cr_assert_eq(g->heap_marked, 17 * MB);
	cr_assert_eq(g->heap_goal, 31 * MB);
	cr_assert(g->has_stacks_globals);
	cr_assert_eq(g->stacks_bytes, 0);
	cr_assert_eq(g->globals_bytes, 0);
	cr_assert_eq(g->gomaxprocs, 2);
	cr_assert(g->forced);

	/* with its newline, and with CRLF */
	cr_assert_eq(parse(GC5 "\n"), 1);
	cr_assert(rec.gc.forced);
	cr_assert_eq(parse(GC5 "\r\n"), 1);
	cr_assert_eq(rec.gc.cpu_mark_term_ns, 4000);
}

Test(godebug, gc_value_formats)
{
	/* whole milliseconds (>= 10 ms), one decimal, big seconds */
	cr_assert_eq(parse("gc 1234 @12345.678s 12%: 15+120+1.5 ms clock, "
			   "30+0/240/7.25+3.0 ms cpu, 4096->4100->2048 MB, "
			   "4097 MB goal, 3 MB stacks, 1 MB globals, 64 P"), 1);
	cr_assert_eq(rec.gc.seq, 1234);
	cr_assert_eq(rec.gc.wall_ts_ns, 12345678000000ull);
	cr_assert_eq(rec.gc.cpu_percent, 12);
	cr_assert_eq(rec.gc.clock_sweep_term_ns, 15000000);
	cr_assert_eq(rec.gc.clock_mark_ns, 120000000);
	cr_assert_eq(rec.gc.clock_mark_term_ns, 1500000);
	cr_assert_eq(rec.gc.cpu_sweep_term_ns, 30000000);
	cr_assert_eq(rec.gc.cpu_assist_ns, 0);
	cr_assert_eq(rec.gc.cpu_background_ns, 240000000);
	cr_assert_eq(rec.gc.cpu_idle_ns, 7250000);
	cr_assert_eq(rec.gc.cpu_mark_term_ns, 3000000);
	cr_assert_eq(rec.gc.heap_live_start, 4096 * MB);
	cr_assert_eq(rec.gc.heap_live_end, 4100 * MB);
	cr_assert_eq(rec.gc.heap_marked, 2048 * MB);
	cr_assert_eq(rec.gc.heap_goal, 4097 * MB);
	cr_assert_eq(rec.gc.stacks_bytes, 3 * MB);
	cr_assert_eq(rec.gc.globals_bytes, 1 * MB);
	cr_assert_eq(rec.gc.gomaxprocs, 64);
	cr_assert(!rec.gc.forced);

	/* Go 1.17 and older: no stacks/globals */
	cr_assert_eq(parse("gc 1 @0.012s 2%: 0.019+0.87+0.003 ms clock, "
			   "0.078+0.12/0.87/0.39+0.013 ms cpu, 4->4->0 MB, "
			   "5 MB goal, 4 P"), 1);
	cr_assert(!rec.gc.has_stacks_globals);
	cr_assert_eq(rec.gc.heap_goal, 5 * MB);
	cr_assert_eq(rec.gc.gomaxprocs, 4);
	cr_assert_eq(rec.gc.cpu_idle_ns, 390000);

	/* extra fraction digits: exact up to ns, zeros beyond */
	cr_assert_eq(parse("gc 2 @1.5s 0%: 0.000001+0.0621+1.0000000 ms clock, "
			   "0+0/0/0+0 ms cpu, 0->0->0 MB, 4 MB goal, "
			   "0 MB stacks, 0 MB globals, 1 P"), 1);
	cr_assert_eq(rec.gc.wall_ts_ns, 1500000000ull);
	cr_assert_eq(rec.gc.clock_sweep_term_ns, 1);
	cr_assert_eq(rec.gc.clock_mark_ns, 62100);
	cr_assert_eq(rec.gc.clock_mark_term_ns, 1000000);

	/* the largest duration Go can print (uint64 ns / 1e6) */
	cr_assert_eq(parse("gc 3 @0.001s 0%: 18446744073709+0+0 ms clock, "
			   "0+0/0/0+0 ms cpu, 0->0->0 MB, 4 MB goal, "
			   "0 MB stacks, 0 MB globals, 1 P"), 1);
	cr_assert_eq(rec.gc.clock_sweep_term_ns, 18446744073709000000ull);
	cr_assert_eq(parse("GC forced"), 1);
	cr_assert_eq(rec.kind, RT_GODEBUG_GC_FORCED);
}

Test(godebug, gc_malformed)
{
	static const char *const bad[] = {
		"gc 5 @0.068s 1%: garbage",
		"gc 5 @",
		"gc 5 @0.068s",
		"gc 5 @0.068 1%: 0.062+0.55+0.002 ms clock, 0.12+0.095/0.088/0+0.004 ms cpu, 27->29->17 MB, 31 MB goal, 0 MB stacks, 0 MB globals, 2 P",
		"gc 5 @.068s 1%: 0.062+0.55+0.002 ms clock, 0.12+0.095/0.088/0+0.004 ms cpu, 27->29->17 MB, 31 MB goal, 0 MB stacks, 0 MB globals, 2 P",
		"gc 5 @0.068s -1%: 0.062+0.55+0.002 ms clock, 0.12+0.095/0.088/0+0.004 ms cpu, 27->29->17 MB, 31 MB goal, 0 MB stacks, 0 MB globals, 2 P",
		"gc 5 @0.068s 1%: 0.062+0.55 ms clock, 0.12+0.095/0.088/0+0.004 ms cpu, 27->29->17 MB, 31 MB goal, 0 MB stacks, 0 MB globals, 2 P",
		"gc 5 @0.068s 1%: 0.062+0.55+0.002 ms clock, 0.12+0.095/0.088+0.004 ms cpu, 27->29->17 MB, 31 MB goal, 0 MB stacks, 0 MB globals, 2 P",
		"gc 5 @0.068s 1%: 0.062+0.55+0.002 ms clock, 0.12+0.095/0.088/0+0.004 ms cpu, 27->29 MB, 31 MB goal, 0 MB stacks, 0 MB globals, 2 P",
		"gc 5 @0.068s 1%: 0.062+0.55+0.002 ms clock, 0.12+0.095/0.088/0+0.004 ms cpu, 27->29->17 MB, 31 MB goal, 0 MB stacks, 2 P",
		"gc 5 @0.068s 1%: 0.062+0.55+0.002 ms clock, 0.12+0.095/0.088/0+0.004 ms cpu, 27->29->17 MB, 31 MB goal, 0 MB stacks, 0 MB globals, 2 P (forced) x",
		"gc 5 @0.068s 1%: 0.062+0.55+0.002 ms clock, 0.12+0.095/0.088/0+0.004 ms cpu, 27->29->17 MB, 31 MB goal, 0 MB stacks, 0 MB globals, P",
		"gc 5 @0.068s 1%: 0.062+0.55+0.002 ms clock, 0.12+0.095/0.088/0+0.004 ms cpu, 27->29->17 MB, 31 MB goal, 0 MB stacks, 0 MB globals, 2 P  ",
		/* a sub-ns fraction cannot be exact */
		"gc 5 @0.068s 1%: 0.0000001+0.55+0.002 ms clock, 0.12+0.095/0.088/0+0.004 ms cpu, 27->29->17 MB, 31 MB goal, 0 MB stacks, 0 MB globals, 2 P",
		/* overflows: seq, ns, MB << 20, procs */
		"gc 4294967296 @0.068s 1%: 0.062+0.55+0.002 ms clock, 0.12+0.095/0.088/0+0.004 ms cpu, 27->29->17 MB, 31 MB goal, 0 MB stacks, 0 MB globals, 2 P",
		"gc 5 @0.068s 1%: 18446744073710+0.55+0.002 ms clock, 0.12+0.095/0.088/0+0.004 ms cpu, 27->29->17 MB, 31 MB goal, 0 MB stacks, 0 MB globals, 2 P",
		"gc 5 @0.068s 1%: 0.062+0.55+0.002 ms clock, 0.12+0.095/0.088/0+0.004 ms cpu, 17592186044416->29->17 MB, 31 MB goal, 0 MB stacks, 0 MB globals, 2 P",
		"gc 5 @0.068s 1%: 0.062+0.55+0.002 ms clock, 0.12+0.095/0.088/0+0.004 ms cpu, 27->29->17 MB, 31 MB goal, 0 MB stacks, 0 MB globals, 4294967296 P",
		/* a SCHED line's pieces around a gc line (interleaved prints) */
		"gc 7 @0.2s 1%: 0.1+0.1+0.1 ms clock, 0.1+0.1/0.1/0+0.1 ms cpu, 1->1->1 MB, 4 MB goal, 0 MB stacks, 0 MB globals, 2 PSCHED 200ms: gomaxprocs=2",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_expect_eq(parse(bad[i]), -GS_E_FORMAT, "%s", bad[i]);
		cr_expect_eq(rec.kind, RT_GODEBUG_NONE, "%s", bad[i]);
	}
}

/* Every prefix of a valid line: 0 before the commit point, else malformed. */
static void check_prefixes(const char *line, size_t commit, const char *also_ok)
{
	size_t n = strlen(line);

	for (size_t k = 0; k < n; k++) {
		int r = rt_godebug__parse_line(line, k, &rec);

		if (k < commit)
			cr_assert_eq(r, 0, "prefix %zu of %s", k, line);
		else if (also_ok && k == strlen(also_ok) &&
			 !strncmp(line, also_ok, k))
			cr_assert_eq(r, 1, "prefix %zu of %s", k, line);
		else
			cr_assert_eq(r, -GS_E_FORMAT, "prefix %zu: %.*s", k,
				     (int)k, line);
	}
	cr_assert_eq(rt_godebug__parse_line(line, n, &rec), 1);
}

Test(godebug, truncated_lines)
{
	static char no_forced[sizeof(GC5)];

	memcpy(no_forced, GC5, sizeof(GC5));
	*strstr(no_forced, " (forced)") = '\0';
	check_prefixes(GC5, strlen("gc 5 @"), no_forced);
	check_prefixes("SCHED 102ms: gomaxprocs=2 idleprocs=2 threads=5 "
		       "spinningthreads=0 idlethreads=3 runqueue=0 [0 0]",
		       strlen("SCHED 102ms:"), NULL);
	check_prefixes("  P1: status=0 schedtick=187739 syscalltick=3 m=-1 "
		       "runqsize=0 gfreecnt=52 timerslen=2",
		       strlen("  P1:"), NULL);
	check_prefixes("  M3: p=0 curg=4 mallocing=1 throwing=0 preemptoff= "
		       "locks=1 dying=0 spinning=false blocked=false lockedg=-1",
		       strlen("  M3:"), NULL);
	check_prefixes("  G2: status=4(force gc (idle)) m=-1 lockedm=-1",
		       strlen("  G2:"), NULL);
}

/* --------------------------------------------------------- schedtrace */

Test(godebug, sched_go119_exact)
{
	const struct rt_godebug_sched *s = &rec.sched;

	cr_assert_eq(parse("SCHED 102ms: gomaxprocs=2 idleprocs=2 threads=5 "
			   "spinningthreads=0 idlethreads=3 runqueue=0 [0 0]"), 1);
	cr_assert_eq(rec.kind, RT_GODEBUG_SCHED);
	cr_assert_eq(s->uptime_ms, 102);
	cr_assert_eq(s->gomaxprocs, 2);
	cr_assert_eq(s->idleprocs, 2);
	cr_assert_eq(s->threads, 5);
	cr_assert_eq(s->spinningthreads, 0);
	cr_assert_eq(s->needspinning, -1);
	cr_assert_eq(s->idlethreads, 3);
	cr_assert_eq(s->runqueue, 0);
	cr_assert(!s->detail);
	cr_assert_eq(s->nprocs, 2);
	cr_assert_eq(s->p_runq[0], 0);
	cr_assert_eq(s->p_runq[1], 0);

	/* Go 1.23 (real output of the fixture): needspinning, busy queues */
	cr_assert_eq(parse("SCHED 209ms: gomaxprocs=2 idleprocs=0 threads=5 "
			   "spinningthreads=0 needspinning=1 idlethreads=1 "
			   "runqueue=1 [4 1]\n"), 1);
	cr_assert_eq(s->uptime_ms, 209);
	cr_assert_eq(s->needspinning, 1);
	cr_assert_eq(s->runqueue, 1);
	cr_assert_eq(s->nprocs, 2);
	cr_assert_eq(s->p_runq[0], 4);
	cr_assert_eq(s->p_runq[1], 1);

	/* spaced list, one P, unknown trailing field of a newer runtime */
	cr_assert_eq(parse("SCHED 5ms: gomaxprocs=1 idleprocs=0 threads=3 "
			   "spinningthreads=1 needspinning=0 idlethreads=0 "
			   "runqueue=7 [ 12 ] schedticks=[ 100 ]"), 1);
	cr_assert_eq(s->nprocs, 1);
	cr_assert_eq(s->p_runq[0], 12);
	cr_assert_eq(s->runqueue, 7);
	cr_assert_eq(s->spinningthreads, 1);
	cr_assert_eq(s->needspinning, 0);
	cr_assert_eq(parse("SCHED 5ms: gomaxprocs=3 idleprocs=0 threads=3 "
			   "spinningthreads=0 idlethreads=0 runqueue=0 "
			   "[ 1 4294967295 3 ]"), 1);
	cr_assert_eq(s->nprocs, 3);
	cr_assert_eq(s->p_runq[1], 4294967295u);
}

Test(godebug, scheddetail_go119_and_go123)
{
	const struct rt_godebug_sched *s = &rec.sched;

	cr_assert_eq(parse("SCHED 0ms: gomaxprocs=2 idleprocs=0 threads=4 "
			   "spinningthreads=0 idlethreads=1 runqueue=0 "
			   "gcwaiting=0 nmidlelocked=-1 stopwait=0 sysmonwait=0"), 1);
	cr_assert(s->detail);
	cr_assert_eq(s->nprocs, 0);
	cr_assert_eq(s->nmidlelocked, -1);
	cr_assert(!s->gcwaiting);
	cr_assert(!s->sysmonwait);
	cr_assert_eq(parse("SCHED 1000ms: gomaxprocs=8 idleprocs=3 threads=12 "
			   "spinningthreads=1 needspinning=0 idlethreads=4 "
			   "runqueue=2 gcwaiting=true nmidlelocked=0 "
			   "stopwait=2147483647 sysmonwait=false"), 1);
	cr_assert(s->detail);
	cr_assert(s->gcwaiting);
	cr_assert(!s->sysmonwait);
	cr_assert_eq(s->stopwait, INT32_MAX);
	cr_assert_eq(s->needspinning, 0);
	cr_assert_eq(s->gomaxprocs, 8);

	cr_assert_eq(parse("  P0: status=1 schedtick=0 syscalltick=0 m=3 "
			   "runqsize=0 gfreecnt=0 timerslen=0"), 1);
	cr_assert_eq(rec.kind, RT_GODEBUG_SCHED_P);
	cr_assert_eq(rec.p.id, 0);
	cr_assert_eq(rec.p.status, 1);
	cr_assert_eq(rec.p.m, 3);
	cr_assert_eq(parse("  P1: status=0 schedtick=187739 syscalltick=3 m=-1 "
			   "runqsize=5 gfreecnt=52 timerslen=2"), 1);
	cr_assert_eq(rec.p.id, 1);
	cr_assert_eq(rec.p.schedtick, 187739);
	cr_assert_eq(rec.p.syscalltick, 3);
	cr_assert_eq(rec.p.m, -1);
	cr_assert_eq(rec.p.runqsize, 5);
	cr_assert_eq(rec.p.gfreecnt, 52);
	cr_assert_eq(rec.p.timerslen, 2);
	cr_assert_eq(parse("  P7: status=0 schedtick=9 syscalltick=1 m=nil "
			   "runqsize=0 gfreecnt=3 timerslen=0"), 1);
	cr_assert_eq(rec.p.id, 7);
	cr_assert_eq(rec.p.m, -1);

	cr_assert_eq(parse("  M3: p=0 curg=4 mallocing=1 throwing=0 preemptoff= "
			   "locks=1 dying=0 spinning=false blocked=false "
			   "lockedg=-1"), 1);
	cr_assert_eq(rec.kind, RT_GODEBUG_SCHED_M);
	cr_assert_eq(rec.m.id, 3);
	cr_assert_eq(rec.m.p, 0);
	cr_assert_eq(rec.m.curg, 4);
	cr_assert_eq(rec.m.mallocing, 1);
	cr_assert_eq(rec.m.preemptoff_len, 0);
	cr_assert_eq(rec.m.locks, 1);
	cr_assert(!rec.m.spinning);
	cr_assert(!rec.m.blocked);
	cr_assert_eq(rec.m.lockedg, -1);
	cr_assert_eq(parse("  M0: p=nil curg=nil mallocing=0 throwing=0 "
			   "preemptoff=GC worker init locks=3 dying=0 "
			   "spinning=true blocked=true lockedg=1"), 1);
	cr_assert_eq(rec.m.p, -1);
	cr_assert_eq(rec.m.curg, -1);
	cr_assert_eq(rec.m.preemptoff_len, strlen("GC worker init"));
	cr_assert(!memcmp(rec.m.preemptoff, "GC worker init", 14));
	cr_assert_eq(rec.m.locks, 3);
	cr_assert(rec.m.spinning);
	cr_assert(rec.m.blocked);
	cr_assert_eq(rec.m.lockedg, 1);

	cr_assert_eq(parse("  G2: status=4(force gc (idle)) m=-1 lockedm=-1"), 1);
	cr_assert_eq(rec.kind, RT_GODEBUG_SCHED_G);
	cr_assert_eq(rec.g.goid, 2);
	cr_assert_eq(rec.g.status, 4);
	cr_assert_eq(rec.g.waitreason_len, strlen("force gc (idle)"));
	cr_assert(!memcmp(rec.g.waitreason, "force gc (idle)", 15));
	cr_assert_eq(rec.g.m, -1);
	cr_assert_eq(rec.g.lockedm, -1);
	cr_assert_eq(parse("  G4: status=2() m=3 lockedm=-1"), 1);
	cr_assert_eq(rec.g.waitreason_len, 0);
	cr_assert_eq(rec.g.m, 3);
	cr_assert_eq(parse("  G1: status=1(chan receive) m=-1 lockedm=0"), 1);
	cr_assert_eq(rec.g.lockedm, 0);
	cr_assert_eq(parse("  G18446744073709551615: status=4100(GC worker "
			   "(idle)) m=nil lockedm=nil"), 1);
	cr_assert_eq(rec.g.goid, UINT64_MAX);
	cr_assert_eq(rec.g.status, 4100);
	cr_assert_eq(rec.g.m, -1);
	cr_assert_eq(rec.g.lockedm, -1);
}

Test(godebug, sched_malformed)
{
	static const char *const bad[] = {
		"SCHED 102ms:",
		"SCHED 102ms: garbage",
		"SCHED 102ms: gomaxprocs=2 idleprocs=2 threads=5 spinningthreads=0 idlethreads=3 runqueue=0",
		"SCHED 102ms: gomaxprocs=2 idleprocs=2 threads=5 spinningthreads=0 idlethreads=3 [0 0]",
		"SCHED 102ms: gomaxprocs=x idleprocs=2 threads=5 spinningthreads=0 idlethreads=3 runqueue=0 [0 0]",
		"SCHED 102ms: gomaxprocs=-1 idleprocs=2 threads=5 spinningthreads=0 idlethreads=3 runqueue=0 [0 0]",
		"SCHED 102ms: gomaxprocs=2 idleprocs=2 threads=4294967296 spinningthreads=0 idlethreads=3 runqueue=0 [0 0]",
		"SCHED 102ms: gomaxprocs=2 gomaxprocs=2 idleprocs=2 threads=5 spinningthreads=0 idlethreads=3 runqueue=0 [0 0]",
		"SCHED 102ms: gomaxprocs=2 idleprocs=2 threads=5 spinningthreads=0 idlethreads=3 runqueue=0 [0 0",
		"SCHED 102ms: gomaxprocs=2 idleprocs=2 threads=5 spinningthreads=0 idlethreads=3 runqueue=0 [0 x]",
		"SCHED 102ms: gomaxprocs=2 idleprocs=2 threads=5 spinningthreads=0 idlethreads=3 runqueue=0 []",
		"SCHED 102ms: gomaxprocs=2 idleprocs=2 threads=5 spinningthreads=0 idlethreads=3 runqueue=0 [0 0] [0 0]",
		"SCHED 102ms: gomaxprocs=2 idleprocs=2 threads=5 spinningthreads=0 idlethreads=3 runqueue=0 [0 0]x",
		"SCHED 102ms: gomaxprocs=2 idleprocs=2 threads=5 spinningthreads=0 needspinning=-1 idlethreads=3 runqueue=0 [0 0]",
		"SCHED 102ms: gomaxprocs=2 idleprocs=2 threads=5 spinningthreads=0 idlethreads=3 runqueue=0 [0 0] schedticks=[ 1 2",
		/* detail: partial detail fields, list with detail, bad bool */
		"SCHED 0ms: gomaxprocs=2 idleprocs=0 threads=4 spinningthreads=0 idlethreads=1 runqueue=0 gcwaiting=0 nmidlelocked=-1",
		"SCHED 0ms: gomaxprocs=2 idleprocs=0 threads=4 spinningthreads=0 idlethreads=1 runqueue=0 [0 0] gcwaiting=0 nmidlelocked=-1 stopwait=0 sysmonwait=0",
		"SCHED 0ms: gomaxprocs=2 idleprocs=0 threads=4 spinningthreads=0 idlethreads=1 runqueue=0 gcwaiting=2 nmidlelocked=-1 stopwait=0 sysmonwait=0",
		"SCHED 0ms: gomaxprocs=2 idleprocs=0 threads=4 spinningthreads=0 idlethreads=1 runqueue=0 gcwaiting=0 nmidlelocked=-2147483649 stopwait=0 sysmonwait=0",
		"  P0: status=1 schedtick=0 syscalltick=0 m=3 runqsize=0 gfreecnt=0",
		"  P0: status=1 schedtick=0 syscalltick=0 m=-2 runqsize=0 gfreecnt=0 timerslen=0",
		"  P0: status=1 schedtick=0 syscalltick=0 m=nul runqsize=0 gfreecnt=0 timerslen=0",
		"  P4096: status=1 schedtick=0 syscalltick=0 m=3 runqsize=0 gfreecnt=0 timerslen=0",
		"  P0:status=1 schedtick=0 syscalltick=0 m=3 runqsize=0 gfreecnt=0 timerslen=0",
		"  M3: p=0 curg=4 mallocing=1 throwing=0 preemptoff= lock=1 dying=0 spinning=false blocked=false lockedg=-1",
		"  M3: p=0 curg=4 mallocing=1 throwing=0 preemptoff= locks=1 dying=0 spinning=maybe blocked=false lockedg=-1",
		"  M3: p=0 curg=4 mallocing=1 throwing=0 preemptoff= locks=1 dying=0 spinning=false blocked=false lockedg=-1 x",
		"  G2: status=4 m=-1 lockedm=-1",
		"  G2: status=4(sleep m=-1 lockedm=-1",
		"  G2: status=4(sleep) m=-1",
		"  G2: status=4(sleep) m=-1 lockedm=",
		"  G18446744073709551616: status=4(sleep) m=-1 lockedm=-1",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_eq(parse(bad[i]), -GS_E_FORMAT, "%s", bad[i]);
}

Test(godebug, sched_p_list_bound)
{
	static char line[80000];
	size_t n = (size_t)sprintf(line, "SCHED 1ms: gomaxprocs=%d idleprocs=0 "
				   "threads=1 spinningthreads=0 idlethreads=0 "
				   "runqueue=0 [", RT_GODEBUG_MAX_P);

	for (int i = 0; i < RT_GODEBUG_MAX_P; i++)
		n += (size_t)sprintf(line + n, i ? " %d" : "%d", i);
	strcpy(line + n, "]");
	cr_assert_eq(parse(line), 1);
	cr_assert_eq(rec.sched.nprocs, RT_GODEBUG_MAX_P);
	cr_assert_eq(rec.sched.p_runq[RT_GODEBUG_MAX_P - 1],
		     RT_GODEBUG_MAX_P - 1);
	strcpy(line + n, " 7]");
	cr_assert_eq(parse(line), -GS_E_FORMAT);
}

Test(godebug, not_godebug_lines)
{
	static const char *const other[] = {
		"", "\n", "hello", "gc", "gc ", "gc is great", "gc 5", "gc 5 apples",
		"gc 5 @", /* committed: see below */
		"gcfoo 5 @0.1s", "GC forced twice", "GC forced\tx", "SCHED",
		"SCHED foo", "SCHED 5 ms: gomaxprocs=1", "SCHED 5s: gomaxprocs=1",
		"SCHED -5ms:", "sched 5ms: gomaxprocs=1", " SCHED 5ms:",
		"panic: runtime error", "goroutine 1 [running]:",
		"  P", "  Px: status=1", "  P1 status=1", " P1: status=1",
		"\tP1: status=1", "   P1: status=1", "  Q1: x", "  M", "  Mfoo:",
		"  G", "  G-1: status=4(sleep) m=-1 lockedm=-1",
		"main.main()", "\t/src/main.go:12 +0x1d", "fatal error: all goroutines are asleep",
	};

	for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
		int want = !strcmp(other[i], "gc 5 @") ? -GS_E_FORMAT : 0;

		cr_expect_eq(parse(other[i]), want, "'%s'", other[i]);
	}
	/* NUL bytes and length: only len bytes are looked at */
	cr_assert_eq(rt_godebug__parse_line("GC forced\0x", 11, &rec), 0);
	cr_assert_eq(rt_godebug__parse_line("GC forcedXYZ", 9, &rec), 1);
	cr_assert_eq(rt_godebug__parse_line("SCHED", 0, &rec), 0);
}

Test(godebug, may_be_prefix)
{
	static const char *const yes[] = {
		"S", "SCHED", "SCHED ", "SCHED 1", "SCHED 12m", "SCHED 12ms:",
		"SCHED 12ms: anything", "g", "gc", "gc 1", "gc 12 ", "gc 12 @",
		"gc 12 @x", " ", "  ", "  P", "  P1", "  P1:", "  M", "  M12",
		"  G", "  G9:", "G", "GC", "GC forced",
	};
	static const char *const no[] = {
		"x", "hello", "SCHEd", "SCHED x", "SCHED 1x", "SCHED 1ms;",
		"gc x", "gc 1x", "gc 1 x", "gcc", "   ", "  Px", "  P1x", "  X",
		"GC forced ", "GCx", "\t",
	};

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		cr_expect(rt_godebug__may_be_prefix(yes[i], strlen(yes[i])),
			  "'%s'", yes[i]);
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		cr_expect(!rt_godebug__may_be_prefix(no[i], strlen(no[i])),
			  "'%s'", no[i]);
}

/* ------------------------------------------------------------ corpus */

static const char *corpus_dir(void)
{
	const char *d = getenv("GSCOPE_GODEBUG_CORPUS");

	return d ? d : "../shared/corpus/godebug";
}

struct corpus_counts {
	const char *file;
	unsigned int lines, sched, detail_hdr, gc, forced, p, m, g;
};

Test(godebug, corpus_every_line)
{
	static const struct corpus_counts want[] = {
		{ "go119_gctrace1.txt", 70, 0, 0, 70, 25, 0, 0, 0 },
		{ "go119_gctrace1_schedtrace250_mixed.txt", 82, 6, 0, 76, 27, 0, 0, 0 },
		{ "go119_schedtrace100.txt", 15, 15, 0, 0, 0, 0, 0, 0 },
		{ "go119_schedtrace500_scheddetail.txt", 713, 3, 3, 0, 0, 6, 14, 690 },
	};
	char path[512], line[4096];
	DIR *d = opendir(corpus_dir());
	unsigned int files = 0;

	if (!d) {
		snprintf(line, sizeof(line), "no corpus at %s", corpus_dir());
		skip(line);
	}
	closedir(d);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct corpus_counts got = { want[i].file };
		uint32_t last_gc = 0;
		uint64_t last_ms = 0;
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s", corpus_dir(), want[i].file);
		f = fopen(path, "r");
		cr_assert_not_null(f, "%s", path);
		files++;
		while (fgets(line, sizeof(line), f)) {
			int r = parse(line);

			got.lines++;
			cr_assert_eq(r, 1, "%s:%u: %s", want[i].file, got.lines,
				     line);
			switch (rec.kind) {
			case RT_GODEBUG_SCHED:
				got.sched++;
				got.detail_hdr += rec.sched.detail;
				cr_assert_eq(rec.sched.gomaxprocs, 2);
				cr_assert_eq(rec.sched.nprocs,
					     rec.sched.detail ? 0 : 2);
				cr_assert_eq(rec.sched.needspinning, -1);
				cr_assert(got.sched == 1 ||
					  rec.sched.uptime_ms > last_ms);
				last_ms = rec.sched.uptime_ms;
				break;
			case RT_GODEBUG_GC:
				got.gc++;
				got.forced += rec.gc.forced;
				/* every cycle is printed: 1, 2, 3, ... */
				cr_assert_eq(rec.gc.seq, last_gc + 1);
				last_gc = rec.gc.seq;
				cr_assert_eq(rec.gc.gomaxprocs, 2);
				cr_assert(rec.gc.has_stacks_globals);
				cr_assert(rec.gc.heap_goal >= 4 * MB);
				break;
			case RT_GODEBUG_SCHED_P:
				got.p++;
				break;
			case RT_GODEBUG_SCHED_M:
				got.m++;
				break;
			case RT_GODEBUG_SCHED_G:
				got.g++;
				break;
			default:
				cr_assert_fail("kind %d", rec.kind);
			}
		}
		fclose(f);
		cr_expect_eq(got.lines, want[i].lines, "%s", want[i].file);
		cr_expect_eq(got.sched, want[i].sched, "%s", want[i].file);
		cr_expect_eq(got.detail_hdr, want[i].detail_hdr, "%s", want[i].file);
		cr_expect_eq(got.gc, want[i].gc, "%s", want[i].file);
		cr_expect_eq(got.forced, want[i].forced, "%s", want[i].file);
		cr_expect_eq(got.p, want[i].p, "%s", want[i].file);
		cr_expect_eq(got.m, want[i].m, "%s", want[i].file);
		cr_expect_eq(got.g, want[i].g, "%s", want[i].file);
	}
	cr_assert_eq(files, 4);
}

/* Find the line of a corpus file that starts with prefix; skip if absent. */
static void corpus_line(const char *file, const char *prefix, char *out,
			size_t cap)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", corpus_dir(), file);
	f = fopen(path, "r");
	if (!f) {
		snprintf(out, cap, "no corpus file %s", path);
		skip(out);
	}
	while (fgets(out, (int)cap, f))
		if (!strncmp(out, prefix, strlen(prefix))) {
			fclose(f);
			return;
		}
	fclose(f);
	cr_assert_fail("%s: no line starting with '%s'", file, prefix);
}

Test(godebug, corpus_exact_lines)
{
	char line[4096];

	/* the note's example is line 5 of the gctrace file */
	corpus_line("go119_gctrace1.txt", "gc 5 @", line, sizeof(line));
	cr_assert_str_eq(line, GC5 "\n");

	corpus_line("go119_gctrace1.txt", "gc 7 @", line, sizeof(line));
	cr_assert_eq(parse(line), 1);
	cr_assert_eq(rec.gc.wall_ts_ns, 141000000);
	cr_assert_eq(rec.gc.clock_sweep_term_ns, 1200000);
	cr_assert_eq(rec.gc.clock_mark_ns, 5100000);
	cr_assert_eq(rec.gc.clock_mark_term_ns, 2000);
	cr_assert_eq(rec.gc.cpu_sweep_term_ns, 2500000);
	cr_assert_eq(rec.gc.cpu_assist_ns, 46000);
	cr_assert_eq(rec.gc.cpu_background_ns, 270000);
	cr_assert_eq(rec.gc.cpu_idle_ns, 0);
	cr_assert_eq(rec.gc.cpu_mark_term_ns, 5000);
	cr_assert_eq(rec.gc.heap_live_start, 31 * MB);
	cr_assert_eq(rec.gc.heap_live_end, 32 * MB);
	cr_assert_eq(rec.gc.heap_marked, 16 * MB);
	cr_assert_eq(rec.gc.heap_goal, 32 * MB);
	cr_assert(rec.gc.forced);

	/* idle mark time and no "(forced)" */
	corpus_line("go119_gctrace1.txt", "gc 8 @", line, sizeof(line));
	cr_assert_eq(parse(line), 1);
	cr_assert_eq(rec.gc.cpu_assist_ns, 0);
	cr_assert_eq(rec.gc.cpu_background_ns, 39000);
	cr_assert_eq(rec.gc.cpu_idle_ns, 130000);
	corpus_line("go119_gctrace1.txt", "gc 9 @", line, sizeof(line));
	cr_assert_eq(parse(line), 1);
	cr_assert(!rec.gc.forced);
	cr_assert_eq(rec.gc.clock_mark_ns, 3300000);

	corpus_line("go119_schedtrace100.txt", "SCHED 208ms:", line, sizeof(line));
	cr_assert_eq(parse(line), 1);
	cr_assert_eq(rec.sched.uptime_ms, 208);
	cr_assert_eq(rec.sched.idleprocs, 1);
	cr_assert_eq(rec.sched.threads, 5);
	cr_assert_eq(rec.sched.idlethreads, 2);
	cr_assert_eq(rec.sched.runqueue, 1);
	cr_assert_eq(rec.sched.nprocs, 2);

	corpus_line("go119_schedtrace500_scheddetail.txt", "SCHED 0ms:", line,
		    sizeof(line));
	cr_assert_eq(parse(line), 1);
	cr_assert(rec.sched.detail);
	cr_assert_eq(rec.sched.nmidlelocked, -1);
	corpus_line("go119_schedtrace500_scheddetail.txt", "  P0: status=0 schedtick=203906",
		    line, sizeof(line));
	cr_assert_eq(parse(line), 1);
	cr_assert_eq(rec.p.schedtick, 203906);
	cr_assert_eq(rec.p.gfreecnt, 31);
	corpus_line("go119_schedtrace500_scheddetail.txt", "  M0:", line,
		    sizeof(line));
	cr_assert_eq(parse(line), 1);
	cr_assert_eq(rec.m.locks, 3);
	cr_assert_eq(rec.m.lockedg, 1);
}

/* ------------------------------------------------------- GODEBUG merge */

static void check_merge(const char *user, unsigned int ms, const char *want)
{
	char *s = col_godebug__merge_env(user, ms);

	cr_assert_not_null(s);
	cr_expect_str_eq(s, want, "user '%s'", user ? user : "(null)");
	gs_free(s);
}

Test(godebug, merge_env)
{
	check_merge(NULL, 0, "schedtrace=1000,gctrace=1");
	check_merge("", 250, "schedtrace=250,gctrace=1");
	check_merge("madvdontneed=1", 0, "madvdontneed=1,schedtrace=1000,gctrace=1");
	check_merge("a=1,", 10, "a=1,schedtrace=10,gctrace=1");
	check_merge("gctrace=2", 0, "gctrace=2,schedtrace=1000");
	check_merge("schedtrace=50", 0, "schedtrace=50,gctrace=1");
	check_merge("schedtrace=50,gctrace=0", 7, "schedtrace=50,gctrace=0");
	check_merge("scheddetail=1,schedtrace=300", 0,
		    "scheddetail=1,schedtrace=300,gctrace=1");
	check_merge("xschedtrace=1,gctracex=1", 0,
		    "xschedtrace=1,gctracex=1,schedtrace=1000,gctrace=1");
	check_merge("gctrace", 0, "gctrace,schedtrace=1000");
}

/* ---------------------------------------------- collector, shell children */

struct run_result {
	int rc, status;
	struct col_godebug_stats st;
	char *pass;            /* pass-through bytes, NUL-terminated */
	size_t pass_len;
	char *out;             /* child's stdout */
	unsigned int n_gc, n_sched, n_forced;
	uint32_t gc_seq[4096];
	bool gc_forced[4096];
	uint64_t gc_goal[4096];
	uint32_t sched_maxprocs[256], sched_np[256];
	int32_t sched_needspin[256];
	uint64_t first_ts, last_ts;
	uint32_t pid;
	uint64_t t0, t1;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Check ts is within the run and note pid. */
static void note_ts(struct run_result *res, uint64_t ts, uint32_t pid)
{
	cr_assert(ts >= res->t0 && ts <= res->t1, "ts %llu outside the run",
		  (unsigned long long)ts);
	if (!res->first_ts)
		res->first_ts = ts;
	cr_assert(ts >= res->last_ts, "ts goes back");
	res->last_ts = ts;
	cr_assert(pid > 0);
	if (!res->pid)
		res->pid = pid;
	cr_assert_eq(pid, res->pid);
}

static void read_back(const char *gst, struct run_result *res)
{
	struct tf_reader *r = NULL;
	struct tf_packet pkt;
	int rc;

	cr_assert_eq(tf_reader__open(gst, &r), 0, "%s", last_msg);
	while ((rc = tf_reader__next(r, &pkt)) == 1) {
		if (pkt.kind == TF_PKT_GC_CYCLE) {
			const Gscope__V1__GcCycle *g = pkt.msg->gc_cycle;

			cr_assert_lt(res->n_gc, 4096);
			cr_assert(g->has_seq && g->has_forced && g->has_heap_goal);
			note_ts(res, g->end_ts, g->pid);
			res->gc_seq[res->n_gc] = (uint32_t)g->seq;
			res->gc_forced[res->n_gc] = g->forced;
			res->gc_goal[res->n_gc] = g->heap_goal;
			res->n_forced += g->forced;
			res->n_gc++;
		} else if (pkt.kind == TF_PKT_SCHED_TRACE) {
			const Gscope__V1__SchedTraceSample *s = pkt.msg->sched_trace;

			cr_assert_lt(res->n_sched, 256);
			cr_assert(s->has_gomaxprocs && s->has_needspinning);
			note_ts(res, s->ts, s->pid);
			res->sched_maxprocs[res->n_sched] = s->gomaxprocs;
			res->sched_np[res->n_sched] = (uint32_t)s->n_p_runqueue;
			res->sched_needspin[res->n_sched] = s->needspinning;
			res->n_sched++;
		}
	}
	cr_assert_eq(rc, 0);
	cr_assert(tf_reader__losses(r)->clean_close);
	tf_reader__close(r);
}

/*
 * Run argv through col_godebug__run with a .gst writer, pass-through to a
 * file and the child's stdout redirected to a file; read everything back.
 */
static void run_child(char *const *argv, char *const *envp, unsigned int ms,
		      struct run_result *res)
{
	char gst[128], pass[128], out[128];
	struct col_godebug_opts o = {
		.argv = argv, .envp = envp, .schedtrace_ms = ms,
		.stats = &res->st,
	};
	struct tf_writer *w = NULL;
	int pfd, ofd, saved;

	memset(res, 0, sizeof(*res));
	snprintf(gst, sizeof(gst), "%s/out.gst", tmpdir);
	snprintf(pass, sizeof(pass), "%s/pass.txt", tmpdir);
	snprintf(out, sizeof(out), "%s/stdout.txt", tmpdir);
	pfd = open(pass, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ofd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	cr_assert(pfd >= 0 && ofd >= 0);
	o.passthrough_fd = pfd;
	cr_assert_eq(tf_writer__open(gst, NULL, NULL, &w), 0, "%s", last_msg);

	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	dup2(ofd, STDOUT_FILENO);
	res->t0 = mono_ns();
	res->rc = col_godebug__run(&o, w, &res->status);
	res->t1 = mono_ns();
	dup2(saved, STDOUT_FILENO);
	close(saved);
	close(ofd);
	close(pfd);
	cr_assert_eq(tf_writer__close(w), 0, "%s", last_msg);

	res->pass = (char *)slurp(pass, &res->pass_len);
	res->out = (char *)slurp(out, NULL);
	read_back(gst, res);
}

static void free_result(struct run_result *res)
{
	free(res->pass);
	free(res->out);
}

#define SCHED_LINE "SCHED 10ms: gomaxprocs=3 idleprocs=1 threads=6 " \
	"spinningthreads=0 idlethreads=2 runqueue=4 [1 2 3]"
#define GC_LINE "gc 1 @0.004s 3%: 0.010+0.20+0.003 ms clock, " \
	"0.020+0.1/0.2/0.3+0.006 ms cpu, 4->5->2 MB, 6 MB goal, " \
	"0 MB stacks, 0 MB globals, 3 P"

#define MALFORMED_LINE "gc 2 @0.068s 1%: garbage"
#define P_LINE "  P0: status=1 schedtick=0 syscalltick=0 m=3 runqsize=0 " \
	"gfreecnt=0 timerslen=0"

Test(godebug, shell_child_split_and_pass)
{
	static struct run_result res;
	char *env[] = { W("GODEBUG=madvdontneed=1"), W("PATH=/usr/bin:/bin"), NULL };
	char *argv[] = {
		W("sh"), W("-c"),
		W("echo \"GODEBUG=$GODEBUG\";"
		"printf '%s\\n' '" SCHED_LINE "' >&2;"
		"printf 'hello\\n\\nworld\\n' >&2;"
		/* a GODEBUG line and a user line split across writes */
		"printf 'gc 1 @0.0' >&2; sleep 0.05;"
		"printf '%s\\n' '" GC_LINE "' | cut -c10- >&2;"
		"printf 'par' >&2; sleep 0.05; printf 'tial\\n' >&2;"
		"printf '%s\\n' '" MALFORMED_LINE "' >&2;"
		"printf 'GC forced\\n' >&2;"
		"printf '%s\\n' '" P_LINE "' >&2;"
		"printf 'last line' >&2;"
		"exit 7"),
		NULL,
	};

	run_child(argv, env, 0, &res);
	cr_assert_eq(res.rc, 0, "%s", last_msg);
	cr_assert_eq(res.status, 7);
	cr_assert_str_eq(res.out,
			 "GODEBUG=madvdontneed=1,schedtrace=1000,gctrace=1\n");
	cr_assert_str_eq(res.pass, "hello\n\nworld\npartial\n"
			 MALFORMED_LINE "\nlast line");
	cr_assert_eq(res.st.lines_passed, 6);
	cr_assert_eq(res.st.malformed, 1);
	cr_assert_eq(res.st.sched_samples, 1);
	cr_assert_eq(res.st.gc_cycles, 1);
	cr_assert_eq(res.st.detail_lines, 2);
	cr_assert_eq(res.st.bytes, sizeof(SCHED_LINE) + sizeof("hello\n\nworld") +
		     sizeof(GC_LINE) + sizeof("partial") +
		     sizeof(MALFORMED_LINE) + sizeof("GC forced") +
		     sizeof(P_LINE) + strlen("last line"));
	cr_assert_eq(res.n_sched, 1);
	cr_assert_eq(res.sched_maxprocs[0], 3);
	cr_assert_eq(res.sched_np[0], 3);
	cr_assert_eq(res.sched_needspin[0], -1);
	cr_assert_eq(res.n_gc, 1);
	cr_assert_eq(res.gc_seq[0], 1);
	cr_assert_eq(res.gc_goal[0], 6 * MB);
	cr_assert(!res.gc_forced[0]);
	free_result(&res);
}

Test(godebug, shell_child_full_gc_packet)
{
	char gst[128];
	char *argv[] = { W("sh"), W("-c"), W("printf '%s\\n' '" GC5 "' >&2"), NULL };
	struct col_godebug_opts o = { .argv = argv, .passthrough_fd = -1 };
	struct tf_writer *w = NULL;
	struct tf_reader *r = NULL;
	struct tf_packet pkt;
	const Gscope__V1__GcCycle *g = NULL;
	int status = -1;

	snprintf(gst, sizeof(gst), "%s/gc.gst", tmpdir);
	cr_assert_eq(tf_writer__open(gst, NULL, NULL, &w), 0);
	cr_assert_eq(col_godebug__run(&o, w, &status), 0, "%s", last_msg);
	cr_assert_eq(status, 0);
	cr_assert_eq(tf_writer__close(w), 0);
	cr_assert_eq(tf_reader__open(gst, &r), 0);
	while (tf_reader__next(r, &pkt) == 1)
		if (pkt.kind == TF_PKT_GC_CYCLE)
			g = pkt.msg->gc_cycle;
		else
			cr_assert(pkt.kind != TF_PKT_SCHED_TRACE);
	cr_assert_not_null(g);
	cr_assert(g->has_pid && g->pid > 0);
	cr_assert_eq(g->seq, 5);
	cr_assert_eq(g->wall_ts_ns, 68000000);
	cr_assert_eq(g->cpu_percent, 1);
	cr_assert_eq(g->stw_sweep_term_ns, 62000);
	cr_assert_eq(g->mark_ns, 550000);
	cr_assert_eq(g->stw_mark_term_ns, 2000);
	cr_assert_eq(g->cpu_sweep_term_ns, 120000);
	cr_assert_eq(g->cpu_assist_ns, 95000);
	cr_assert_eq(g->cpu_background_ns, 88000);
	cr_assert(g->has_cpu_idle_ns);
	cr_assert_eq(g->cpu_idle_ns, 0);
	cr_assert_eq(g->cpu_mark_term_ns, 4000);
	cr_assert_eq(g->heap_live_start, 27 * MB);
	cr_assert_eq(g->heap_live_end, 29 * MB);
	cr_assert_eq(g->heap_marked, 17 * MB);
	cr_assert_eq(g->heap_goal, 31 * MB);
	cr_assert(g->has_stacks_bytes && g->has_globals_bytes);
	cr_assert_eq(g->stacks_bytes, 0);
	cr_assert_eq(g->globals_bytes, 0);
	cr_assert_eq(g->gomaxprocs, 2);
	cr_assert(g->has_forced && g->forced);
	cr_assert(g->has_end_ts && !g->has_start_ts && !g->has_assist_ns);
	tf_reader__close(r);
}

Test(godebug, shell_child_scheddetail_aggregates_p_lines)
{
	static struct run_result res;
	char *argv[] = {
		W("sh"), W("-c"),
		W("H='SCHED 5ms: gomaxprocs=2 idleprocs=0 threads=4 "
		"spinningthreads=0 needspinning=0 idlethreads=1 runqueue=0 "
		"gcwaiting=false nmidlelocked=0 stopwait=0 sysmonwait=false';"
		"P='status=1 schedtick=0 syscalltick=0 m=nil gfreecnt=0 timerslen=0';"
		"echo \"$H\" >&2;"
		"echo \"  P0: $P runqsize=5\" >&2;"
		"echo 'user line between' >&2;"
		"echo \"  P1: $P runqsize=6\" >&2;"
		"echo '  M0: p=nil curg=nil mallocing=0 throwing=0 preemptoff= "
		"locks=0 dying=0 spinning=false blocked=false lockedg=nil' >&2;"
		"echo '  G1: status=4(sleep) m=nil lockedm=nil' >&2;"
		/* a second header whose P list is incomplete */
		"echo \"$H\" >&2;"
		"echo \"  P0: $P runqsize=1\" >&2;"
		/* the third, last one, flushed at the end of the output */
		"echo \"$H\" | sed 's/5ms/7ms/' >&2;"
		"echo \"  P0: $P runqsize=8\" >&2;"
		"echo \"  P1: $P runqsize=9\" >&2;"),
		NULL,
	};

	run_child(argv, NULL, 0, &res);
	cr_assert_eq(res.rc, 0);
	cr_assert_eq(res.status, 0);
	cr_assert_str_eq(res.pass, "user line between\n");
	cr_assert_eq(res.st.malformed, 0);
	cr_assert_eq(res.st.detail_lines, 7);
	cr_assert_eq(res.n_sched, 3);
	cr_assert_eq(res.sched_np[0], 2);
	cr_assert_eq(res.sched_np[1], 0);
	cr_assert_eq(res.sched_np[2], 2);
	cr_assert_eq(res.sched_needspin[0], 0);
	free_result(&res);
}

Test(godebug, shell_child_partial_lines_not_held)
{
	static struct run_result res;
	char check[160], script[1024];
	char *argv[] = { W("sh"), W("-c"), script, NULL };
	char *got;

	/*
	 * The child reads the pass-through file itself while it runs: a
	 * prompt that cannot be GODEBUG output is there before its newline,
	 * a possible GODEBUG start ("SCHED 1") is held back.
	 */
	snprintf(check, sizeof(check), "%s/check.txt", tmpdir);
	snprintf(script, sizeof(script),
		 "printf 'prompt> ' >&2; sleep 0.3; cat %s/pass.txt > %s;"
		 "printf 'x\\nSCHED 1' >&2; sleep 0.3;"
		 "echo '|' >> %s; cat %s/pass.txt >> %s; printf 'ms: x\\n' >&2",
		 tmpdir, check, check, tmpdir, check);
	run_child(argv, NULL, 0, &res);
	cr_assert_eq(res.status, 0);
	got = (char *)slurp(check, NULL);
	cr_assert_str_eq(got, "prompt> |\nprompt> x\n");
	cr_assert_str_eq(res.pass, "prompt> x\nSCHED 1ms: x\n");
	cr_assert_eq(res.st.malformed, 1);
	cr_assert_eq(res.st.lines_passed, 2);
	free(got);
	free_result(&res);
}

Test(godebug, shell_child_long_line)
{
	static struct run_result res;
	/* 300 000 bytes of "gc 1 @" + 'a's: a GODEBUG start, far too long */
	char *argv[] = {
		W("sh"), W("-c"),
		W("{ printf 'gc 1 @'; head -c 299994 /dev/zero | tr '\\0' a;"
		"  printf '\\nok\\n'; } >&2"),
		NULL,
	};

	run_child(argv, NULL, 0, &res);
	cr_assert_eq(res.status, 0);
	cr_assert_eq(res.pass_len, 300000 + 4);
	cr_assert(!strncmp(res.pass, "gc 1 @aaa", 9));
	cr_assert_str_eq(res.pass + 300000, "\nok\n");
	cr_assert_eq(res.st.lines_passed, 2);
	cr_assert_eq(res.st.malformed, 1);
	free_result(&res);
}

Test(godebug, exit_status_and_spawn_errors)
{
	char *killed[] = { W("sh"), W("-c"), W("kill -TERM $$"), NULL };
	char *missing[] = { W("/nonexistent/gscope-no-such-program"), NULL };
	char *empty[] = { NULL };
	struct col_godebug_opts o = { .passthrough_fd = -1 };
	int status = -1;

	o.argv = killed;
	cr_assert_eq(col_godebug__run(&o, NULL, &status), 0);
	cr_assert_eq(status, 128 + SIGTERM);
	o.argv = missing;
	cr_assert_eq(col_godebug__run(&o, NULL, &status), -ENOENT);
	cr_assert_eq(status, 127);
	cr_assert(strstr(last_msg, "gscope-no-such-program"), "%s", last_msg);
	o.argv = empty;
	cr_assert_eq(col_godebug__run(&o, NULL, &status), -GS_E_USAGE);
	o.argv = NULL;
	cr_assert_eq(col_godebug__run(&o, NULL, &status), -GS_E_USAGE);
}

Test(godebug, grandchild_holding_stderr)
{
	char *argv[] = { W("sh"), W("-c"), W("sleep 3 & echo bye >&2; exit 4"), NULL };
	struct col_godebug_stats st;
	struct col_godebug_opts o = {
		.argv = argv, .passthrough_fd = -1, .stats = &st,
	};
	uint64_t t0 = mono_ns();
	int status = -1;

	cr_assert_eq(col_godebug__run(&o, NULL, &status), 0);
	cr_assert_eq(status, 4);
	cr_assert_lt(mono_ns() - t0, 2000000000ull, "waited for the grandchild");
	cr_assert_eq(st.lines_passed, 1);
}

Test(godebug, forwards_sigterm)
{
	char started[128], script[256];
	char *argv[] = { W("sh"), W("-c"), script, NULL };
	struct col_godebug_stats st;
	struct col_godebug_opts o = {
		.argv = argv, .passthrough_fd = -1, .stats = &st,
	};
	sigset_t mask;
	uint64_t t0 = mono_ns();
	pid_t killer, self = getpid();
	int status = -1, ks;

	/* the child exists only once SIGTERM is blocked and read by the run */
	snprintf(started, sizeof(started), "%s/started", tmpdir);
	snprintf(script, sizeof(script), "touch %s; exec sleep 10", started);
	killer = fork();
	cr_assert(killer >= 0);
	if (killer == 0) {
		for (int i = 0; i < 1000 && access(started, F_OK); i++)
			usleep(10000);
		kill(self, SIGTERM);
		_exit(0);
	}
	cr_assert_eq(col_godebug__run(&o, NULL, &status), 0);
	cr_assert_eq(status, 128 + SIGTERM);
	cr_assert_lt(mono_ns() - t0, 5000000000ull);
	cr_assert(strstr(last_msg, "forwarding signal 15"), "%s", last_msg);
	cr_assert_eq(waitpid(killer, &ks, 0), killer);
	/* the mask is restored and nothing is left pending */
	sigprocmask(SIG_BLOCK, NULL, &mask);
	cr_assert(!sigismember(&mask, SIGTERM));
	sigpending(&mask);
	cr_assert(!sigismember(&mask, SIGTERM));
}

struct tty_arg {
	const char *started;
	int master;
};

/* Types ^C on the terminal once the child runs. */
static void *type_ctrl_c(void *p)
{
	const struct tty_arg *a = p;
	sigset_t set;

	/* this thread must not take the process's SIGINT */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	for (int i = 0; i < 1000 && access(a->started, F_OK); i++)
		usleep(10000);
	if (write(a->master, "\x03", 1) != 1)
		return (void *)1;
	return NULL;
}

/*
 * In a fresh session with a pty as controlling terminal: run a child, type
 * ^C.  Returns 0 if the child died of SIGINT and the run did not forward
 * it, else a code saying what went wrong (77: no pty).
 */
static int tty_scenario(void)
{
	char started[128], script[256];
	char *argv[] = { W("sh"), W("-c"), script, NULL };
	struct col_godebug_opts o = { .argv = argv, .passthrough_fd = -1 };
	struct tty_arg a;
	sigset_t pend;
	pthread_t t;
	void *tr;
	int slave, status = -1;

	signal(SIGHUP, SIG_IGN);
	if (setsid() < 0)
		return 77;
	a.master = posix_openpt(O_RDWR | O_NOCTTY);
	if (a.master < 0 || grantpt(a.master) || unlockpt(a.master))
		return 77;
	slave = open(ptsname(a.master), O_RDWR); /* our terminal now */
	if (slave < 0)
		return 77;
	snprintf(started, sizeof(started), "%s/started", tmpdir);
	snprintf(script, sizeof(script), "touch %s; exec sleep 5", started);
	a.started = started;
	last_msg[0] = '\0';
	if (pthread_create(&t, NULL, type_ctrl_c, &a))
		return 2;
	if (col_godebug__run(&o, NULL, &status))
		return 3;
	pthread_join(t, &tr);
	if (tr)
		return 4;
	if (status != 128 + SIGINT)
		return 5; /* the child did not get ^C */
	if (strstr(last_msg, "forwarding"))
		return 6; /* we sent it a second one */
	sigpending(&pend);
	if (sigismember(&pend, SIGINT))
		return 7;
	close(slave);
	close(a.master);
	return 0;
}

Test(godebug, tty_signal_not_forwarded)
{
	pid_t pid;
	int st;

	/*
	 * ^C on a terminal reaches the whole foreground process group, the
	 * child included, with si_code SI_KERNEL: forwarding it would
	 * deliver it twice.  setsid() needs a process that is not a group
	 * leader, so the scenario runs in a forked process.
	 */
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0)
		_exit(tty_scenario());
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st), "status %#x", st);
	if (WEXITSTATUS(st) == 77)
		skip("cannot get a pty as controlling terminal");
	cr_assert_eq(WEXITSTATUS(st), 0, "tty scenario failed at step %d",
		     WEXITSTATUS(st));
}

Test(godebug, sigchld_ignored_by_caller)
{
	char *argv[] = { W("sh"), W("-c"), W("echo x >&2"), NULL };
	struct col_godebug_opts o = { .argv = argv, .passthrough_fd = -1 };
	uint64_t t0 = mono_ns();
	int status = -1, err;

	/* the kernel reaps the child itself: an error, not a hang or a kill */
	signal(SIGCHLD, SIG_IGN);
	err = col_godebug__run(&o, NULL, &status);
	signal(SIGCHLD, SIG_DFL);
	cr_assert_eq(err, -ECHILD, "%d", err);
	cr_assert_eq(status, 127);
	cr_assert_lt(mono_ns() - t0, 2000000000ull);
}

Test(godebug, allocation_failures)
{
	char path[128];
	char *argv[] = {
		W("sh"), W("-c"),
		W("printf 'SCH' >&2; sleep 0.02; printf 'ED 1ms: x\\nhi\\n' >&2"),
		NULL,
	};
	struct col_godebug_stats st;
	struct col_godebug_opts o = { .argv = argv, .stats = &st };
	int ok = 0;

	/* the Nth allocation and all later ones fail: clean error or degraded run */
	snprintf(path, sizeof(path), "%s/pass.txt", tmpdir);
	for (long n = 1; n <= 8; n++) {
		int status = -1, rc;
		char *got;

		o.passthrough_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		cr_assert(o.passthrough_fd >= 0);
		gs_mem__fail_at(n);
		rc = col_godebug__run(&o, NULL, &status);
		gs_mem__fail_at(0);
		close(o.passthrough_fd);
		cr_assert(rc == 0 || rc == -ENOMEM, "n=%ld: %d", n, rc);
		if (rc)
			continue;
		ok++;
		cr_assert_eq(status, 0);
		got = (char *)slurp(path, NULL);
		cr_assert_str_eq(got, "SCHED 1ms: x\nhi\n", "n=%ld", n);
		cr_assert_eq(st.malformed, 1);
		free(got);
	}
	cr_assert_gt(ok, 0);
}

/* --------------------------------------------------- end to end with Go */

static int run_wait(char *const *argv, char *const *envp, const char *log)
{
	pid_t pid = fork();
	int st;

	cr_assert(pid >= 0);
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		dup2(fd, 1);
		dup2(fd, 2);
		execve(argv[0], argv, envp);
		_exit(127);
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/*
 * Build the fixture with go into tmpdir/godebugload; skip without go.
 * Returns the minor version of go (19 for go1.19.8).
 */
static int build_fixture(const char *go, const char *env_override,
			 char *bin, size_t cap)
{
	char cache[128], gopath[128], home[128], log[128], why[256];
	char e_cache[160], e_path[160], e_home[160];
	const char *o = getenv(env_override);
	char *argv[] = { NULL, W("build"), W("-o"), bin,
			 W("fixtures/go/godebugload/main.go"), NULL };
	char *vargv[] = { NULL, W("env"), W("GOVERSION"), NULL };
	int minor = 0;
	char *v;
	char *envp[] = {
		e_cache, e_path, e_home, W("GOENV=off"), W("GOFLAGS="),
		W("GOTOOLCHAIN=local"), W("GOPROXY=off"), W("GOTELEMETRY=off"),
		W("GO111MODULE="), W("GOWORK=off"), W("CGO_ENABLED=0"),
		W("PATH=/usr/bin:/bin"), NULL,
	};
	int rc;

	if (o)
		go = o;
	if (access(go, X_OK)) {
		snprintf(why, sizeof(why), "no Go toolchain at %s", go);
		skip(why);
	}
	if (access("fixtures/go/godebugload/main.go", R_OK))
		skip("fixtures/go/godebugload/main.go not found (run from the repo root)");
	snprintf(cache, sizeof(cache), "%s/gocache", tmpdir);
	snprintf(gopath, sizeof(gopath), "%s/gopath", tmpdir);
	snprintf(home, sizeof(home), "%s/home", tmpdir);
	snprintf(log, sizeof(log), "%s/build.log", tmpdir);
	snprintf(bin, cap, "%s/godebugload", tmpdir);
	mkdir(home, 0700);
	snprintf(e_cache, sizeof(e_cache), "GOCACHE=%s", cache);
	snprintf(e_path, sizeof(e_path), "GOPATH=%s", gopath);
	snprintf(e_home, sizeof(e_home), "HOME=%s", home);
	argv[0] = (char *)go;
	rc = run_wait(argv, envp, log);
	if (rc) {
		char *l = (char *)slurp(log, NULL);

		fprintf(stderr, "test_godebug: %s build failed:\n%s\n", go, l);
		free(l);
		cr_assert_fail("%s build: exit %d", go, rc);
	}
	vargv[0] = (char *)go;
	cr_assert_eq(run_wait(vargv, envp, log), 0);
	v = (char *)slurp(log, NULL);
	cr_assert_eq(sscanf(v, "go1.%d", &minor), 1, "%s", v);
	fprintf(stderr, "test_godebug: fixture built with %s", v);
	free(v);
	return minor;
}

/* Parse "godebugload: forced gc N" lines of the fixture's stdout. */
static unsigned int forced_from_stdout(const char *out, uint32_t *seq)
{
	unsigned int n = 0;
	const char *p = out;

	while ((p = strstr(p, "godebugload: forced gc "))) {
		cr_assert_lt(n, 16);
		seq[n++] = (uint32_t)strtoul(p + 23, NULL, 10);
		p += 23;
	}
	return n;
}

/* No pass-through line may be one we should have taken. */
static void check_pass_clean(const struct run_result *res)
{
	const char *p = res->pass, *end = res->pass + res->pass_len;
	unsigned int bad = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p + 1) : (size_t)(end - p);
		int r = rt_godebug__parse_line(p, n, &rec);

		cr_assert_neq(r, 1, "passed through a GODEBUG line: %.*s",
			      (int)n, p);
		if (r < 0)
			fprintf(stderr, "test_godebug: malformed line passed "
				"through: %.*s%s", (int)n, p, nl ? "" : "\n");
		bad += r < 0;
		p += n;
	}
	cr_assert_eq(bad, res->st.malformed);
}

static void e2e(const char *go, const char *env_override)
{
	static struct run_result res;
	char bin[160];
	char *argv[] = { bin, NULL };
	char *env[] = { W("GOMAXPROCS=2"), W("GODEBUG=madvdontneed=1"), NULL };
	char *env_detail[] = {
		W("GOMAXPROCS=2"), W("GODEBUG=scheddetail=1,schedtrace=300,gctrace=0"),
		NULL,
	};
	uint32_t forced[16];
	unsigned int nforced, i, j, hits;
	const char *p;
	bool go121;

	go121 = build_fixture(go, env_override, bin, sizeof(bin)) >= 21;

	/* ------- schedtrace (default 1000 ms) + gctrace */
	run_child(argv, env, 0, &res);
	cr_assert_eq(res.rc, 0, "%s", last_msg);
	cr_assert_eq(res.status, 3);
	cr_assert(strstr(res.out, "godebugload: GODEBUG=madvdontneed=1,"
			 "schedtrace=1000,gctrace=1\n"), "%s", res.out);
	cr_assert(strstr(res.out, "godebugload: GOMAXPROCS=2\n"));
	cr_assert(strstr(res.pass, "godebugload: done\n"), "%s", res.pass);
	cr_assert(res.pass_len >= 19 &&
		  !strcmp(res.pass + res.pass_len - 19, "godebugload: exit 3"));
	p = res.pass;
	for (i = 0; i < 5; i++) {
		char want[64];

		snprintf(want, sizeof(want), "godebugload: round %u: ", i);
		p = strstr(p, want);
		cr_assert_not_null(p, "%s missing or out of order", want);
	}
	cr_assert_null(strstr(res.pass, "SCHED "));
	check_pass_clean(&res);
	/* interleaved runtime prints can break a line, rarely */
	cr_assert_leq(res.st.malformed, 2, "%s", res.pass);

	cr_assert_eq(res.n_gc, res.st.gc_cycles);
	cr_assert_eq(res.n_sched, res.st.sched_samples);
	cr_assert_geq(res.n_gc, 5);
	for (i = 1; i < res.n_gc; i++)
		cr_assert_gt(res.gc_seq[i], res.gc_seq[i - 1]);
	if (!res.st.malformed) {
		/* every cycle is there: 1, 2, 3, ... */
		cr_assert_eq(res.gc_seq[0], 1);
		cr_assert_eq(res.gc_seq[res.n_gc - 1], res.n_gc);
	}
	for (i = 0; i < res.n_gc; i++)
		cr_assert(res.gc_goal[i] >= 4 * MB &&
			  res.gc_goal[i] % MB == 0);

	/* forced exactly on the program's runtime.GC() cycles */
	nforced = forced_from_stdout(res.out, forced);
	cr_assert_eq(nforced, 5, "%s", res.out);
	for (i = 0, hits = 0; i < res.n_gc; i++) {
		bool want = false;

		for (j = 0; j < nforced; j++)
			want |= res.gc_seq[i] == forced[j];
		cr_assert_eq(res.gc_forced[i], want, "gc %u", res.gc_seq[i]);
		hits += want;
	}
	cr_assert_geq(hits, nforced - res.st.malformed);
	cr_assert_leq(res.n_forced, 5);

	cr_assert_geq(res.n_sched, 1);
	for (i = 0; i < res.n_sched; i++) {
		cr_assert_eq(res.sched_maxprocs[i], 2);
		cr_assert_eq(res.sched_np[i], 2);
		if (go121)
			cr_assert_geq(res.sched_needspin[i], 0);
		else
			cr_assert_eq(res.sched_needspin[i], -1);
	}
	cr_assert_eq(res.st.detail_lines, 0);
	fprintf(stderr, "test_godebug: %s: %u gc cycles (%u forced), %u sched "
		"samples, %llu lines passed, %llu malformed\n", go, res.n_gc,
		res.n_forced, res.n_sched, (unsigned long long)res.st.lines_passed,
		(unsigned long long)res.st.malformed);
	free_result(&res);

	/* ------- scheddetail; the user's gctrace=0 and schedtrace win */
	run_child(argv, env_detail, 0, &res);
	cr_assert_eq(res.status, 3);
	cr_assert(strstr(res.out, "godebugload: GODEBUG=scheddetail=1,"
			 "schedtrace=300,gctrace=0\n"), "%s", res.out);
	cr_assert(strstr(res.pass, "godebugload: done\n"));
	check_pass_clean(&res);
	cr_assert_leq(res.st.malformed, 2, "%s", res.pass);
	cr_assert_eq(res.n_gc, 0);
	cr_assert_geq(res.n_sched, 3);
	cr_assert_gt(res.st.detail_lines, res.n_sched * 2);
	for (i = 0, hits = 0; i < res.n_sched; i++) {
		cr_assert_eq(res.sched_maxprocs[i], 2);
		hits += res.sched_np[i] == 2;
	}
	cr_assert_geq(hits, 1);
	fprintf(stderr, "test_godebug: %s scheddetail: %u sched samples (%u with "
		"per-P queues), %llu P/M/G lines, %llu malformed\n", go,
		res.n_sched, hits, (unsigned long long)res.st.detail_lines,
		(unsigned long long)res.st.malformed);
	free_result(&res);
}

Test(godebug, e2e_go119, .timeout = 120)
{
	e2e("/usr/bin/go", "GSCOPE_GO119");
}

Test(godebug, e2e_go123, .timeout = 180)
{
	e2e("/usr/lib/go-1.23/bin/go", "GSCOPE_GO123");
}
