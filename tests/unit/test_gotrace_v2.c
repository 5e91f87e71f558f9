// SPDX-License-Identifier: BSD-2-Clause
/*
 * rt_gotrace_v2__decode(), the Go 1.22+ execution trace decoder:
 *  - the 22 public v2 test traces of the shared corpus: the verdict of each
 *    (`-- expect --` of the matching txtar: SUCCESS, or FAILURE with a
 *    regexp of Go's message that our message must match too) and the wire
 *    event counts per type of STATS.txt;
 *  - the generated Go 1.22 / 1.23 workload traces: goroutine state machine
 *    invariants seen from the sink, stacks announced before use, time order,
 *    the 20 x 1000 goroutines of the spawn workload;
 *  - the v2 fuzz inputs of Go's own parser: no crash, Go's verdict;
 *  - truncation at every 97th byte, failing allocations, and small traces
 *    written here for what the corpus lacks (Go 1.26 end-of-generation
 *    markers, 1.25 sync batches, experimental batches, size limits, equal
 *    timestamps, CPU samples, sink errors).
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/gs_err.h"
#include "base/gs_mem.h"
#include "runtime/rt_gotrace.h"
#include "tests/unit/tutil.h"

#define CORPUS "../shared/corpus/gotrace"
#define V2PUB CORPUS "/v2-public"
#define GENERATED CORPUS "/generated"
#define MALFORMED CORPUS "/malformed/v2_fuzz_xexp"

#define K(x) GSCOPE__V1__GO_EVENT_KIND__GO_EV_##x
#define S(x) GSCOPE__V1__GO_STATE__GO_STATE_##x

/* ------------------------------------------------------------ fixtures */


static void setup(void)
{
	last_msg[0] = 0;
	n_msgs = 0;
	gs_log__set_fn(log_capture);
}

static void teardown(void)
{
	gs_log__set_fn(NULL);
	gs_mem__fail_at(0);
}

TestSuite(gotrace_v2, .init = setup, .fini = teardown);

static void need(const char *path)
{
	if (access(path, R_OK)) {
		fprintf(stderr, "test_gotrace_v2: skipped: %s not found\n", path);
		cr_skip_test("corpus %s not found", path);
	}
}

/* ------------------------------------------------------------ checking sink */

/*
 * A sink that checks what every consumer relies on: stacks are announced
 * (per generation) before an event or sample names them, time never goes
 * back, and goroutine transitions chain (the from state of a transition is
 * the state the previous one left the goroutine in; START only from
 * RUNNABLE).
 */
struct chk {
	uint64_t gen, ngens;
	uint8_t *defined; /* stack ids announced in this generation */
	size_t ndefined;
	uint8_t *gstate; /* goroutine id -> GoState, 0 = unknown */
	size_t ngstate;
	uint64_t last_ts;
	uint64_t n, nsamples, nstacks;
	uint64_t kinds[64];
	uint64_t bad; /* first offending event index + 1 */
	char why[256];
	int stop_after; /* sink error after this many events (0 = never) */
	struct {        /* strings seen this generation, to check they stay */
		const char *p;
		size_t len;
		uint64_t h;
	} seen[64];
	size_t nseen;
};

static uint64_t fnv(const char *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)p[i]) * 1099511628211ull;
	return h;
}

/* rt_gotrace.h: a string's bytes do not change within a generation. */
static void chk_str(struct chk *c, const char *p, size_t len)
{
	if (!p)
		return;
	for (size_t i = 0; i < c->nseen; i++)
		if (c->seen[i].p == p && c->seen[i].len == len)
			return;
	if (c->nseen < 64)
		c->seen[c->nseen++] = (__typeof__(c->seen[0])){ p, len, fnv(p, len) };
}

static void chk_bad(struct chk *c, const char *fmt, ...)
{
	va_list ap;

	if (c->bad)
		return;
	c->bad = c->n + c->nsamples + 1;
	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
}

static int chk_stack(void *ctx, uint64_t id, const struct rt_go_frame *f, size_t n)
{
	struct chk *c = ctx;

	if (id == 0 || n > 128)
		chk_bad(c, "stack id %llu with %zu frames", (ull)id, n);
	for (size_t i = 0; i < n; i++)
		if (!f[i].func || !f[i].file)
			chk_bad(c, "stack %llu frame %zu without strings", (ull)id, i);
	if (id < (1u << 22)) {
		if (id >= c->ndefined) {
			size_t nn = (size_t)id * 2 + 64;

			c->defined = realloc(c->defined, nn);
			cr_assert_not_null(c->defined);
			memset(c->defined + c->ndefined, 0, nn - c->ndefined);
			c->ndefined = nn;
		}
		if (c->defined[id])
			chk_bad(c, "stack %llu announced twice in generation %llu",
				(ull)id, (ull)c->gen);
		c->defined[id] = 1;
	}
	c->nstacks++;
	return 0;
}

static void chk_seen_still(struct chk *c)
{
	for (size_t i = 0; i < c->nseen; i++)
		if (fnv(c->seen[i].p, c->seen[i].len) != c->seen[i].h)
			chk_bad(c, "string %zu changed within its generation", i);
}

static int chk_gen(void *ctx, uint64_t gen)
{
	struct chk *c = ctx;

	chk_seen_still(c);
	c->nseen = 0;
	if (c->ngens && gen <= c->gen)
		chk_bad(c, "generation %llu after %llu", (ull)gen, (ull)c->gen);
	c->gen = gen;
	c->ngens++;
	if (c->defined)
		memset(c->defined, 0, c->ndefined);
	return 0;
}

static bool chk_known(struct chk *c, uint64_t id)
{
	return id == 0 || (id < c->ndefined && c->defined[id]) || id >= (1u << 22);
}

static uint8_t *chk_g(struct chk *c, uint64_t g)
{
	static uint8_t dummy;

	if (g >= (1u << 22))
		return &dummy;
	if (g >= c->ngstate) {
		size_t nn = (size_t)g * 2 + 1024;

		c->gstate = realloc(c->gstate, nn);
		cr_assert_not_null(c->gstate);
		memset(c->gstate + c->ngstate, 0, nn - c->ngstate);
		c->ngstate = nn;
	}
	return &c->gstate[g];
}

static void chk_time(struct chk *c, uint64_t ts)
{
	if (c->n + c->nsamples && ts <= c->last_ts)
		chk_bad(c, "time %llu after %llu", (ull)ts, (ull)c->last_ts);
	c->last_ts = ts;
}

static int chk_event(void *ctx, const struct rt_go_event *e)
{
	struct chk *c = ctx;
	uint8_t *st;

	chk_time(c, e->ts);
	if (!chk_known(c, e->stack))
		chk_bad(c, "event kind %u names stack %llu before it is announced",
			e->kind, (ull)e->stack);
	if (e->kind == K(CREATE) && !chk_known(c, e->arg2))
		chk_bad(c, "CREATE names start stack %llu before it is announced",
			(ull)e->arg2);
	if (e->kind < 64)
		c->kinds[e->kind]++;
	if ((!e->str && e->str_len) || (!e->str2 && e->str2_len))
		chk_bad(c, "string length without a string");
	chk_str(c, e->str, e->str_len);
	chk_str(c, e->str2, e->str2_len);
	if ((c->n & 1023) == 0)
		chk_seen_still(c);
	st = chk_g(c, e->g);
	if (e->kind == K(STATUS)) {
		*st = e->to;
	} else if (e->to) {
		if (e->kind == K(START) && *st != S(RUNNABLE))
			chk_bad(c, "START of g %llu in state %u", (ull)e->g, *st);
		if (e->kind == K(CREATE) && *st && *st != S(DEAD))
			chk_bad(c, "CREATE of live g %llu", (ull)e->g);
		else if (e->kind != K(CREATE) && *st != e->from)
			chk_bad(c, "kind %u of g %llu from %u but it is in %u",
				e->kind, (ull)e->g, e->from, *st);
		*st = e->to;
	}
	c->n++;
	if (c->stop_after && c->n == (uint64_t)c->stop_after)
		return -ECANCELED;
	return 0;
}

static int chk_sample(void *ctx, uint64_t ts, uint64_t g, int32_t p, uint64_t m,
		      uint64_t stack)
{
	struct chk *c = ctx;

	chk_time(c, ts);
	if (!chk_known(c, stack))
		chk_bad(c, "sample names stack %llu before it is announced", (ull)stack);
	c->nsamples++;
	return 0;
}

static void chk_free(struct chk *c)
{
	free(c->defined);
	free(c->gstate);
	memset(c, 0, sizeof(*c));
}

static int decode(const uint8_t *data, size_t len, struct chk *c,
		  struct rt_gotrace_stats *st)
{
	struct rt_go_sink sink = { c, chk_stack, chk_gen, chk_event, chk_sample };

	last_msg[0] = 0;
	return rt_gotrace_v2__decode(data, len, "t", &sink, st);
}

/* ------------------------------------------------------------ corpus files */

/* Go's wire names of the event types (tracev2), for STATS.txt. */
static const char *const wire_names[64] = {
	[2] = "Stacks", [3] = "Stack", [4] = "Strings", [5] = "String",
	[6] = "CPUSamples", [7] = "CPUSample", [8] = "Frequency",
	[9] = "ProcsChange", [10] = "ProcStart", [11] = "ProcStop",
	[12] = "ProcSteal", [13] = "ProcStatus", [14] = "GoCreate",
	[15] = "GoCreateSyscall", [16] = "GoStart", [17] = "GoDestroy",
	[18] = "GoDestroySyscall", [19] = "GoStop", [20] = "GoBlock",
	[21] = "GoUnblock", [22] = "GoSyscallBegin", [23] = "GoSyscallEnd",
	[24] = "GoSyscallEndBlocked", [25] = "GoStatus", [26] = "STWBegin",
	[27] = "STWEnd", [28] = "GCActive", [29] = "GCBegin", [30] = "GCEnd",
	[31] = "GCSweepActive", [32] = "GCSweepBegin", [33] = "GCSweepEnd",
	[34] = "GCMarkAssistActive", [35] = "GCMarkAssistBegin",
	[36] = "GCMarkAssistEnd", [37] = "HeapAlloc", [38] = "HeapGoal",
	[39] = "GoLabel", [40] = "UserTaskBegin", [41] = "UserTaskEnd",
	[42] = "UserRegionBegin", [43] = "UserRegionEnd", [44] = "UserLog",
	[45] = "GoSwitch", [46] = "GoSwitchDestroy", [47] = "GoCreateBlocked",
	[48] = "GoStatusStack", [49] = "ExperimentalBatch", [50] = "Sync",
	[51] = "ClockSnapshot", [52] = "EndOfGeneration",
};

struct stats_entry {
	char name[128];
	uint64_t total;
	uint64_t raw[64];
};

/* STATS.txt: "<file>: ... events=N" then "   <Type>   <count>" lines. */
static size_t read_stats(struct stats_entry *out, size_t max)
{
	FILE *f = fopen(V2PUB "/STATS.txt", "r");
	char line[512];
	size_t n = 0;

	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f)) {
		char name[128], *p;
		ull cnt;

		if (line[0] != ' ' && (p = strstr(line, ": ")) && n < max) {
			struct stats_entry *e = &out[n++];

			memset(e, 0, sizeof(*e));
			snprintf(e->name, sizeof(e->name), "%.*s", (int)(p - line), line);
			p = strstr(line, " events=");
			cr_assert_not_null(p, "%s", line);
			e->total = strtoull(p + 8, NULL, 10);
		} else if (n && sscanf(line, " %127s %llu", name, &cnt) == 2) {
			int t;

			for (t = 0; t < 64; t++)
				if (wire_names[t] && !strcmp(wire_names[t], name))
					break;
			cr_assert_lt(t, 64, "STATS.txt: unknown type %s", name);
			out[n - 1].raw[t] = cnt;
		}
	}
	fclose(f);
	return n;
}

/* The `-- expect --` line of a txtar test; *re gets the FAILURE regexp. */
static bool read_expect(const char *path, char *re, size_t resz)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	bool ok = false, next = false;

	cr_assert_not_null(f, "%s", path);
	re[0] = 0;
	while (fgets(line, sizeof(line), f)) {
		if (next) {
			line[strcspn(line, "\n")] = 0;
			if (!strncmp(line, "SUCCESS", 7)) {
				ok = true;
			} else {
				/* FAILURE "<Go-quoted regexp>" */
				char *q = strchr(line, '"'), *w = re;

				cr_assert(q && !strncmp(line, "FAILURE", 7), "%s: %s", path, line);
				for (q++; *q && *q != '"' && w < re + resz - 1; q++) {
					if (*q == '\\' && q[1])
						q++;
					*w++ = *q;
				}
				*w = 0;
			}
			break;
		}
		next = !strncmp(line, "-- expect --", 12);
	}
	fclose(f);
	return ok;
}

Test(gotrace_v2, public_traces)
{
	static struct stats_entry stats[64];
	size_t nstats, nfiles = 0;
	DIR *d;
	struct dirent *de;

	need(V2PUB "/bin");
	nstats = read_stats(stats, 64);
	cr_assert_eq(nstats, 22);
	d = opendir(V2PUB "/bin");
	cr_assert_not_null(d);
	while ((de = readdir(d))) {
		char path[512], tpath[512], re[512], base[256];
		struct rt_gotrace_stats st;
		struct stats_entry *se = NULL;
		struct chk c = { 0 };
		uint64_t sum = 0;
		uint8_t *buf;
		size_t len;
		bool expect_ok;
		int err;

		if (!strstr(de->d_name, ".trace"))
			continue;
		snprintf(base, sizeof(base), "%.*s", (int)(strlen(de->d_name) - 6), de->d_name);
		snprintf(path, sizeof(path), V2PUB "/bin/%s", de->d_name);
		snprintf(tpath, sizeof(tpath), V2PUB "/text/%s.test", base);
		expect_ok = read_expect(tpath, re, sizeof(re));
		buf = slurp(path, &len);
		err = decode(buf, len, &c, &st);
		if (expect_ok) {
			cr_expect_eq(err, 0, "%s: %s", base, last_msg);
			cr_expect_eq(c.bad, 0, "%s: event %llu: %s", base, (ull)c.bad, c.why);
			cr_expect_eq(st.bytes, len, "%s", base);
		} else {
			regex_t rx;
			const char *msg = strstr(last_msg, ": offset ");

			cr_expect_eq(err, -GS_E_FORMAT, "%s: %d %s", base, err, last_msg);
			cr_assert_eq(regcomp(&rx, re, REG_EXTENDED | REG_NOSUB), 0, "%s", re);
			cr_assert_not_null(msg, "%s", last_msg);
			msg = strstr(msg + 9, ": "); /* past "offset N" */
			cr_assert_not_null(msg, "%s", last_msg);
			msg += 2;
			cr_expect_eq(regexec(&rx, msg, 0, NULL, 0), 0,
				     "%s: message \"%s\" does not match Go's \"%s\"", base, msg, re);
			regfree(&rx);
		}
		for (size_t i = 0; i < nstats; i++)
			if (!strcmp(stats[i].name, de->d_name))
				se = &stats[i];
		cr_assert_not_null(se, "%s not in STATS.txt", de->d_name);
		for (int t = 2; t < 64; t++) {
			cr_expect_eq(st.raw[t], se->raw[t], "%s: %s: %llu events, STATS.txt says %llu",
				     base, wire_names[t] ? wire_names[t] : "?", (ull)st.raw[t],
				     (ull)se->raw[t]);
			sum += st.raw[t];
		}
		cr_expect_eq(sum, se->total, "%s: %llu events in all, STATS.txt says %llu",
			     base, (ull)sum, (ull)se->total);
		cr_expect_eq(st.version, 1000 + atoi(base + 3), "%s", base);
		free(buf);
		chk_free(&c);
		nfiles++;
	}
	closedir(d);
	cr_expect_eq(nfiles, 22);
}

/* Decode one generated trace with the checking sink. */
static void generated(const char *name, struct chk *c, struct rt_gotrace_stats *st)
{
	char path[256];
	uint8_t *buf;
	size_t len;
	int err;

	snprintf(path, sizeof(path), GENERATED "/%s", name);
	need(path);
	buf = slurp(path, &len);
	err = decode(buf, len, c, st);
	cr_assert_eq(err, 0, "%s: %s", name, last_msg);
	cr_expect_eq(c->bad, 0, "%s: event %llu: %s", name, (ull)c->bad, c->why);
	cr_expect_eq(st->bytes, len);
	cr_expect_eq(st->events, c->n);
	cr_expect_eq(st->cpu_samples, c->nsamples);
	cr_expect_eq(st->generations, c->ngens);
	cr_expect_gt(c->n, 100, "%s", name);
	cr_expect_gt(c->nstacks, 10, "%s", name);
	cr_expect_eq(st->freq, 15625000, "%s", name);
	free(buf);
}

Test(gotrace_v2, generated_invariants)
{
	static const char *const wl[] = { "annot", "gc", "mixed_cpuprof", "mutex",
					  "pingpong", "spawn", "syscall" };

	for (int v = 22; v <= 23; v++) {
		for (size_t i = 0; i < sizeof(wl) / sizeof(wl[0]); i++) {
			struct rt_gotrace_stats st;
			struct chk c = { 0 };
			char name[64];

			snprintf(name, sizeof(name), "go1%d-%s.trace", v, wl[i]);
			generated(name, &c, &st);
			if (!strcmp(wl[i], "mixed_cpuprof"))
				cr_expect_gt(c.nsamples, 10, "%s: CPU samples", name);
			if (!strcmp(wl[i], "gc"))
				cr_expect_gt(c.kinds[K(GC_BEGIN)], 10, "%s", name);
			if (!strcmp(wl[i], "annot"))
				cr_expect(c.kinds[K(TASK_BEGIN)] && c.kinds[K(REGION_BEGIN)] &&
					  c.kinds[K(LOG)], "%s", name);
			if (!strcmp(wl[i], "syscall"))
				cr_expect_gt(c.kinds[K(SYSCALL_BEGIN)], 1000, "%s", name);
			chk_free(&c);
		}
	}
}

/* 20 waves of 1000 goroutines: each is created, runs and ends. */
Test(gotrace_v2, spawn_counts)
{
	for (int v = 22; v <= 23; v++) {
		struct rt_gotrace_stats st;
		struct chk c = { 0 };
		char name[64];

		snprintf(name, sizeof(name), "go1%d-spawn.trace", v);
		generated(name, &c, &st);
		cr_expect_geq(c.kinds[K(CREATE)], 20000, "%s: %llu CREATE", name,
			      (ull)c.kinds[K(CREATE)]);
		cr_expect_geq(c.kinds[K(DESTROY)], 20000, "%s: %llu DESTROY", name,
			      (ull)c.kinds[K(DESTROY)]);
		cr_expect_geq(c.kinds[K(START)], 20000, "%s", name);
		cr_expect_eq(st.raw[14], c.kinds[K(CREATE)], "%s: GoCreate on the wire", name);
		cr_expect_eq(st.raw[17], c.kinds[K(DESTROY)], "%s: GoDestroy on the wire", name);
		chk_free(&c);
	}
}

/*
 * Go's own fuzz corpus.  Expected verdicts are those of Go's reader
 * (golang.org/x/exp/trace at ca536658, which reads 1.22 .. 1.26).
 * RESULTS.txt only ran a structural decoder: where it already fails, we
 * must fail as well.
 */
static const struct {
	const char *file;
	int err;
	const char *why;
	uint64_t events;
} fuzz_verdicts[] = {
	{ "0cb1786dee0f090b", -GS_E_FORMAT, "expected frequency or clock snapshot event, got 48", 0 },
	{ "1e45307d5b2ec36d", -GS_E_FORMAT, "expected frequency or clock snapshot event, got 48", 0 },
	{ "2b05796f9b2fc48d", -GS_E_FORMAT, "expected frequency or clock snapshot event, got 48", 0 },
	{ "2b9be9aebe08d511", -GS_E_FORMAT, "expected frequency or clock snapshot event, got 48", 0 },
	{ "344331b314da0b08", -GS_E_FORMAT, "expected frequency or clock snapshot event, got 48", 0 },
	{ "365d7b5b633b3f97", -GS_E_FORMAT, "expected frequency or clock snapshot event, got 48", 0 },
	{ "4055b17cae1a3443", -GS_E_VERSION, "unsupported trace version go 1.11", 0 },
	{ "4d9ddc909984e871", -GS_E_FORMAT, "expected frequency or clock snapshot event, got 48", 0 },
	{ "56f073e57903588c", -GS_E_FORMAT, "expected frequency or clock snapshot event, got 48", 0 },
	{ "9d6ee7d3ddf8d566", -GS_E_FORMAT, "expected frequency or clock snapshot event, got 48", 0 },
	{ "aeb749b6bc317b66", -GS_E_FORMAT, "expected frequency or clock snapshot event, got 48", 0 },
	{ "closing-unknown-region", 0, NULL, 3 },
	{ "d478e18d2d6756b7", -GS_E_FORMAT, "expected frequency or clock snapshot event, got 48", 0 },
	{ "d91203cd397aa0bc", -GS_E_FORMAT, "expected frequency or clock snapshot event, got 48", 0 },
	{ "invalid-proc-state", -GS_E_FORMAT, "invalid status for proc 0: 69", 0 },
	{ "large-id", 0, NULL, 0 },
	{ "malformed-timestamp", -GS_E_FORMAT, "found invalid uvarint for timestamp", 0 },
};

Test(gotrace_v2, malformed_corpus)
{
	FILE *res;
	char line[512];
	size_t seen = 0;

	need(MALFORMED);
	for (size_t i = 0; i < sizeof(fuzz_verdicts) / sizeof(fuzz_verdicts[0]); i++) {
		struct rt_gotrace_stats st;
		struct chk c = { 0 };
		char path[256];
		uint8_t *buf;
		size_t len;
		int err;

		snprintf(path, sizeof(path), MALFORMED "/%s.bin", fuzz_verdicts[i].file);
		buf = slurp(path, &len);
		err = decode(buf, len, &c, &st);
		cr_expect_eq(err, fuzz_verdicts[i].err, "%s: %d (%s)", fuzz_verdicts[i].file,
			     err, last_msg);
		if (fuzz_verdicts[i].why)
			cr_expect(strstr(last_msg, fuzz_verdicts[i].why), "%s: \"%s\"",
				  fuzz_verdicts[i].file, last_msg);
		else
			cr_expect_eq(c.n, fuzz_verdicts[i].events, "%s", fuzz_verdicts[i].file);
		cr_expect_eq(c.bad, 0, "%s: %s", fuzz_verdicts[i].file, c.why);
		free(buf);
		chk_free(&c);
	}
	/* every file in the folder is covered; RESULTS.txt failures stay failures */
	res = fopen(CORPUS "/malformed/RESULTS.txt", "r");
	cr_assert_not_null(res);
	while (fgets(line, sizeof(line), res)) {
		char *p = strstr(line, "v2_fuzz_xexp/"), *dot;
		size_t i;

		if (!p)
			continue;
		p += strlen("v2_fuzz_xexp/");
		dot = strstr(p, ".bin");
		cr_assert_not_null(dot);
		for (i = 0; i < sizeof(fuzz_verdicts) / sizeof(fuzz_verdicts[0]); i++)
			if (strlen(fuzz_verdicts[i].file) == (size_t)(dot - p) &&
			    !strncmp(fuzz_verdicts[i].file, p, (size_t)(dot - p)))
				break;
		cr_assert_lt(i, sizeof(fuzz_verdicts) / sizeof(fuzz_verdicts[0]),
			     "no verdict for %s", p);
		if (strstr(dot, " ERROR "))
			cr_expect_neq(fuzz_verdicts[i].err, 0, "%s: RESULTS.txt rejects it", p);
		seen++;
	}
	fclose(res);
	cr_expect_eq(seen, sizeof(fuzz_verdicts) / sizeof(fuzz_verdicts[0]));
}

/* A cut trace is an error (or, cut between generations, a shorter trace). */
static void truncate_all(const char *path, size_t step)
{
	uint8_t *buf, *cut;
	size_t len, fails = 0, oks = 0;

	need(path);
	buf = slurp(path, &len);
	for (size_t n = 0; n < len; n += step) {
		struct rt_gotrace_stats st;
		struct chk c = { 0 };
		int err;

		cut = malloc(n ? n : 1); /* exact size: ASan sees any overread */
		cr_assert_not_null(cut);
		memcpy(cut, buf, n);
		err = decode(cut, n, &c, &st);
		cr_expect_eq(c.bad, 0, "%s cut at %zu: %s", path, n, c.why);
		if (err) {
			cr_expect(err == -GS_E_FORMAT, "%s cut at %zu: %d", path, n, err);
			cr_expect(last_msg[0], "%s cut at %zu: no message", path, n);
			fails++;
		} else {
			/* only possible where a batch ends and a new one begins */
			cr_expect_geq(n, 16);
			oks++;
		}
		free(cut);
		chk_free(&c);
	}
	cr_expect_gt(fails, oks * 10, "%s: %zu cuts decoded", path, oks);
	free(buf);
}

Test(gotrace_v2, truncation)
{
	truncate_all(V2PUB "/bin/go122-gc-stress.trace", 97);
	truncate_all(V2PUB "/bin/go125-sync.trace", 97);
	truncate_all(V2PUB "/bin/go122-annotations-stress.trace", 97);
	truncate_all(GENERATED "/go123-mutex.trace", 97);
}

/* Every allocation failure is reported as -ENOMEM and leaks nothing. */
Test(gotrace_v2, failing_allocations)
{
	struct rt_gotrace_stats st;
	uint8_t *buf;
	size_t len;
	int err = -ENOMEM, n;

	need(V2PUB "/bin/go122-gc-stress.trace");
	buf = slurp(V2PUB "/bin/go122-gc-stress.trace", &len);
	for (n = 1; n < 10000 && err; n++) {
		struct chk c = { 0 };

		gs_mem__fail_at(n);
		err = decode(buf, len, &c, &st);
		gs_mem__fail_at(0);
		cr_assert(err == 0 || err == -ENOMEM, "allocation %d: %d %s", n, err, last_msg);
		chk_free(&c);
	}
	cr_expect_eq(err, 0);
	cr_expect_gt(n, 10);
	free(buf);
}

/* ------------------------------------------------------------ written here */

struct tb {
	uint8_t b[1 << 20];
	size_t n;
};

static void tb_u8(struct tb *t, uint8_t v)
{
	cr_assert_lt(t->n, sizeof(t->b));
	t->b[t->n++] = v;
}

static void tb_uv(struct tb *t, uint64_t v)
{
	while (v >= 0x80) {
		tb_u8(t, (uint8_t)v | 0x80);
		v >>= 7;
	}
	tb_u8(t, (uint8_t)v);
}

static void tb_bytes(struct tb *t, const void *p, size_t n)
{
	cr_assert_leq(t->n + n, sizeof(t->b));
	memcpy(t->b + t->n, p, n);
	t->n += n;
}

static void tb_header(struct tb *t, int minor)
{
	char h[17];

	t->n = 0;
	snprintf(h, sizeof(h), "go 1.%d trace", minor);
	tb_bytes(t, h, 16);
}

/* An event: type, then n uvarint arguments. */
static void tb_ev(struct tb *t, uint8_t typ, int n, ...)
{
	va_list ap;

	tb_u8(t, typ);
	va_start(ap, n);
	for (int i = 0; i < n; i++)
		tb_uv(t, va_arg(ap, uint64_t));
	va_end(ap);
}

static void tb_string(struct tb *t, uint64_t id, const char *s, size_t n)
{
	tb_ev(t, 5, 2, id, (uint64_t)n);
	tb_bytes(t, s, n);
}

/* A batch of generation gen on thread m holding the bytes of d. */
static void tb_batch(struct tb *t, uint64_t gen, uint64_t m, uint64_t time,
		     const struct tb *d)
{
	tb_ev(t, 1, 4, gen, m, time, (uint64_t)d->n);
	tb_bytes(t, d->b, d->n);
}

#define U(x) ((uint64_t)(x))
#define NOM UINT64_MAX

static struct tb T, D;

/* Frequency (or sync) batch, strings 1 "main.f", 2 "f.go", stack 1. */
static void tb_tables(struct tb *t, int minor, uint64_t gen, uint64_t freq)
{
	D.n = 0;
	if (minor >= 25) {
		tb_u8(&D, 50);
		tb_ev(&D, 8, 1, freq);
		tb_ev(&D, 51, 4, U(1), U(123456), U(1700000000), U(5));
	} else {
		tb_ev(&D, 8, 1, freq);
	}
	tb_batch(t, gen, NOM, 10, &D);
	D.n = 0;
	tb_u8(&D, 4);
	tb_string(&D, 1, "main.f", 6);
	tb_string(&D, 2, "f.go", 4);
	tb_string(&D, 3, "chan receive", 12);
	tb_batch(t, gen, NOM, 11, &D);
	D.n = 0;
	tb_u8(&D, 2);
	tb_ev(&D, 3, 6, U(1), U(1), U(0x401000), U(1), U(2), U(42));
	tb_batch(t, gen, NOM, 12, &D);
}

/*
 * Go 1.26: two generations closed by EndOfGeneration bytes.  g 1 runs,
 * creates g 2 and blocks; in generation 2, g 2 starts and ends.
 */
static void tb_go126(struct tb *t)
{
	tb_header(t, 26);
	tb_tables(t, 26, 1, 1000000000);
	D.n = 0;
	tb_ev(&D, 13, 3, U(1), U(0), U(1));             /* ProcStatus p0 Running */
	tb_ev(&D, 25, 4, U(1), U(1), U(7), U(2));       /* GoStatus g1 m7 Running */
	tb_ev(&D, 14, 4, U(1), U(2), U(1), U(1));       /* GoCreate g2 */
	tb_ev(&D, 20, 3, U(1), U(3), U(1));             /* GoBlock "chan receive" */
	tb_batch(t, 1, 7, 100, &D);
	tb_u8(t, 52);
	tb_tables(t, 26, 2, 1000000000);
	D.n = 0;
	tb_ev(&D, 13, 3, U(1), U(0), U(1));             /* ProcStatus p0 Running */
	tb_ev(&D, 25, 4, U(1), U(2), NOM, U(1));        /* GoStatus g2 Runnable */
	tb_ev(&D, 16, 3, U(1), U(2), U(1));             /* GoStart g2 seq 1 */
	tb_ev(&D, 17, 1, U(1));                         /* GoDestroy */
	tb_batch(t, 2, 7, 200, &D);
	tb_u8(t, 52);
}

struct rec {
	struct rt_go_event ev[64];
	char str[64][32];
	int n, ngen, nstack;
	uint64_t sample_ts[8];
	int nsample;
	char func[32];
};

static int rec_event(void *ctx, const struct rt_go_event *e)
{
	struct rec *r = ctx;

	if (r->n < 64) {
		r->ev[r->n] = *e;
		snprintf(r->str[r->n], 32, "%.*s", (int)e->str_len, e->str ? e->str : "");
		r->n++;
	}
	return 0;
}

static int rec_gen(void *ctx, uint64_t gen)
{
	((struct rec *)ctx)->ngen++;
	return 0;
}

static int rec_stack(void *ctx, uint64_t id, const struct rt_go_frame *f, size_t n)
{
	struct rec *r = ctx;

	r->nstack++;
	if (n)
		snprintf(r->func, sizeof(r->func), "%.*s:%llu", (int)f[0].func_len, f[0].func,
			 (ull)f[0].line);
	return 0;
}

static int rec_sample(void *ctx, uint64_t ts, uint64_t g, int32_t p, uint64_t m,
		      uint64_t stack)
{
	struct rec *r = ctx;

	if (r->nsample < 8)
		r->sample_ts[r->nsample++] = ts;
	return 0;
}

static int rec_decode(const struct tb *t, struct rec *r, struct rt_gotrace_stats *st)
{
	struct rt_go_sink sink = { r, rec_stack, rec_gen, rec_event, rec_sample };

	memset(r, 0, sizeof(*r));
	last_msg[0] = 0;
	return rt_gotrace_v2__decode(t->b, t->n, "t", &sink, st);
}

Test(gotrace_v2, go126_end_of_generation)
{
	struct rt_gotrace_stats st;
	struct rec r;
	int err;

	tb_go126(&T);
	err = rec_decode(&T, &r, &st);
	cr_assert_eq(err, 0, "%s", last_msg);
	cr_expect_eq(st.version, 1026);
	cr_expect_eq(st.generations, 2);
	cr_expect_eq(st.raw[52], 2);
	cr_expect_eq(st.raw[50], 2);
	cr_expect_eq(st.raw[51], 2);
	cr_expect_eq(r.ngen, 2);
	cr_expect_eq(r.nstack, 2);
	cr_expect_str_eq(r.func, "main.f:42");
	cr_assert_eq(r.n, 8);
	cr_expect_eq(r.ev[2].kind, K(CREATE));
	cr_expect_eq(r.ev[2].g, 2);
	cr_expect_eq(r.ev[2].arg, 1);
	cr_expect_eq(r.ev[2].stack, 1);
	cr_expect_eq(r.ev[3].kind, K(BLOCK));
	cr_expect_str_eq(r.str[3], "chan receive");
	cr_expect_eq(r.ev[3].g, 1);
	cr_expect_eq(r.ev[6].kind, K(START));
	cr_expect_eq(r.ev[6].g, 2);
	cr_expect_eq(r.ev[6].p, 0);
	cr_expect_eq(r.ev[6].m, 7);
	cr_expect_eq(r.ev[7].kind, K(DESTROY));
	/* freq 1e9: ticks are ns; batch at 100, events 1 apart */
	cr_expect_eq(r.ev[0].ts, 101);
	cr_expect_eq(r.ev[3].ts, 104);
	cr_expect_eq(r.ev[4].ts, 201);

	/* without its last EndOfGeneration the trace is cut */
	T.n--;
	err = rec_decode(&T, &r, &st);
	cr_expect_eq(err, -GS_E_FORMAT);
	cr_expect(strstr(last_msg, "incomplete generation"), "%s", last_msg);
}

Test(gotrace_v2, go125_needs_clock_snapshot)
{
	struct rt_gotrace_stats st;
	struct rec r;

	tb_header(&T, 25);
	D.n = 0;
	tb_u8(&D, 50);
	tb_ev(&D, 8, 1, U(15625000));
	tb_batch(&T, 1, NOM, 10, &D);
	cr_expect_eq(rec_decode(&T, &r, &st), -GS_E_FORMAT);
	cr_expect(strstr(last_msg, "no clock snapshot event found"), "%s", last_msg);
	/* 1.22 has no sync batch: the Frequency batch is it */
	tb_header(&T, 22);
	tb_tables(&T, 22, 1, 15625000);
	cr_expect_eq(rec_decode(&T, &r, &st), 0, "%s", last_msg);
	cr_expect_eq(st.freq, 15625000);
	cr_expect_eq(st.generations, 1);
	/* no frequency at all */
	tb_header(&T, 23);
	D.n = 0;
	tb_ev(&D, 13, 3, U(1), U(0), U(1));
	tb_batch(&T, 1, 3, 10, &D);
	cr_expect_eq(rec_decode(&T, &r, &st), -GS_E_FORMAT);
	cr_expect(strstr(last_msg, "no frequency event found"), "%s", last_msg);
}

Test(gotrace_v2, experimental_batches_are_skipped)
{
	struct rt_gotrace_stats st;
	struct rec r;

	tb_header(&T, 23);
	tb_tables(&T, 23, 1, 1000000000);
	D.n = 0;
	tb_ev(&D, 13, 3, U(1), U(0), U(1));
	tb_batch(&T, 1, 3, 50, &D);
	/* ExperimentalBatch exp=1 with garbage that is no valid event */
	tb_ev(&T, 49, 0);
	tb_u8(&T, 1);
	tb_uv(&T, 1);
	tb_uv(&T, 3);
	tb_uv(&T, 60);
	tb_uv(&T, 5);
	tb_bytes(&T, "\xff\xff\xff\xff\x80", 5);
	cr_expect_eq(rec_decode(&T, &r, &st), 0, "%s", last_msg);
	cr_expect_eq(r.n, 1);
	cr_expect_eq(st.raw[49], 1);
}

Test(gotrace_v2, size_limits)
{
	struct rt_gotrace_stats st;
	struct rec r;
	char big[1025];

	/* batch over 64 KiB */
	tb_header(&T, 22);
	tb_ev(&T, 1, 4, U(1), U(1), U(1), U(65537));
	memset(T.b + T.n, 0, 65537);
	T.n += 65537;
	cr_expect_eq(rec_decode(&T, &r, &st), -GS_E_FORMAT);
	cr_expect(strstr(last_msg, "invalid batch size 65537"), "%s", last_msg);
	cr_expect(strstr(last_msg, "offset 16:"), "%s", last_msg);

	/* string over 1 KiB */
	memset(big, 'x', sizeof(big));
	tb_header(&T, 22);
	tb_tables(&T, 22, 1, 15625000);
	D.n = 0;
	tb_u8(&D, 4);
	tb_string(&D, 9, big, 1025);
	tb_batch(&T, 1, NOM, 11, &D);
	cr_expect_eq(rec_decode(&T, &r, &st), -GS_E_FORMAT);
	cr_expect(strstr(last_msg, "invalid string size 1025"), "%s", last_msg);

	/* stack over 128 frames */
	tb_header(&T, 22);
	tb_tables(&T, 22, 1, 15625000);
	D.n = 0;
	tb_u8(&D, 2);
	tb_ev(&D, 3, 2, U(2), U(129));
	for (int i = 0; i < 129; i++)
		tb_ev(&D, 0x40, 3, U(1), U(2), U(i)); /* pc 0x40, func 1, file 2, line */
	tb_batch(&T, 1, NOM, 11, &D);
	cr_expect_eq(rec_decode(&T, &r, &st), -GS_E_FORMAT);
	cr_expect(strstr(last_msg, "invalid stack size 129"), "%s", last_msg);

	/* batch length past the end of the input */
	tb_header(&T, 22);
	tb_ev(&T, 1, 4, U(1), U(1), U(1), U(100));
	tb_bytes(&T, "abc", 3);
	cr_expect_eq(rec_decode(&T, &r, &st), -GS_E_FORMAT);
	cr_expect(strstr(last_msg, "failed to read full batch"), "%s", last_msg);
}

Test(gotrace_v2, headers)
{
	struct rt_gotrace_stats st;
	struct rec r;
	static const struct {
		const char *h;
		int err;
	} cases[] = {
		{ "go 1.21 trace\0\0\0", -GS_E_VERSION },
		{ "go 1.24 trace\0\0\0", -GS_E_VERSION },
		{ "go 1.27 trace\0\0\0", -GS_E_VERSION },
		{ "go 1.2x trace\0\0\0", -GS_E_FORMAT },
		{ "go 1.22 trace\0\0\1", -GS_E_FORMAT },
		{ "not a trace at all", -GS_E_FORMAT },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memcpy(T.b, cases[i].h, 16);
		T.n = 16;
		cr_expect_eq(rec_decode(&T, &r, &st), cases[i].err, "case %zu: %s", i, last_msg);
		cr_expect(strstr(last_msg, "t: offset 0: "), "%s", last_msg);
	}
	T.n = 10;
	cr_expect_eq(rec_decode(&T, &r, &st), -GS_E_FORMAT);
	cr_expect_eq(rt_gotrace_v2__decode(NULL, 0, NULL, NULL, NULL), -GS_E_FORMAT);
	/* a header alone: no generation, so no frequency (as Go) ... */
	tb_header(&T, 23);
	cr_expect_eq(rec_decode(&T, &r, &st), -GS_E_FORMAT);
	/* ... but Go 1.26 traces end cleanly after any EndOfGeneration */
	tb_header(&T, 26);
	cr_expect_eq(rec_decode(&T, &r, &st), 0, "%s", last_msg);
}

/*
 * Two Ms with events at the same instant, and CPU samples: delivered time
 * is strictly increasing, samples merge in by time.
 */
Test(gotrace_v2, equal_times_and_samples)
{
	struct rt_gotrace_stats st;
	struct rec r;

	tb_header(&T, 23);
	tb_tables(&T, 23, 1, 1000000000);
	D.n = 0;
	tb_ev(&D, 13, 3, U(0), U(0), U(1)); /* ProcStatus p0 Running at 100 */
	tb_ev(&D, 37, 2, U(0), U(1000));    /* HeapAlloc at 100 */
	tb_batch(&T, 1, 1, 100, &D);
	D.n = 0;
	tb_ev(&D, 13, 3, U(0), U(1), U(1)); /* ProcStatus p1 Running at 100 */
	tb_ev(&D, 38, 2, U(0), U(2000));    /* HeapGoal at 100 */
	tb_batch(&T, 1, 2, 100, &D);
	D.n = 0;
	tb_u8(&D, 6); /* out of order: sorted by time */
	tb_ev(&D, 7, 5, U(300), U(2), U(-1), U(5), U(77)); /* unknown stack: 0 */
	tb_ev(&D, 7, 5, U(99), U(1), U(0), U(0), U(1));
	tb_batch(&T, 1, NOM, 5, &D);
	cr_assert_eq(rec_decode(&T, &r, &st), 0, "%s", last_msg);
	cr_assert_eq(r.n, 4);
	cr_assert_eq(r.nsample, 2);
	cr_expect_eq(st.cpu_samples, 2);
	cr_expect_eq(st.raw[7], 2);
	/* sync point at 5 (earliest batch), sample at 99, events at 100.. */
	cr_expect_eq(r.sample_ts[0], 99);
	for (int i = 0; i < 4; i++)
		cr_expect_eq(r.ev[i].ts, 100 + (uint64_t)i, "event %d: %llu", i, (ull)r.ev[i].ts);
	cr_expect_eq(r.sample_ts[1], 300);
}

/* A sink error stops decoding and is returned as is. */
Test(gotrace_v2, sink_error_stops)
{
	struct rt_gotrace_stats st;
	struct chk c = { 0 };
	uint8_t *buf;
	size_t len;

	need(V2PUB "/bin/go122-gc-stress.trace");
	buf = slurp(V2PUB "/bin/go122-gc-stress.trace", &len);
	c.stop_after = 100;
	cr_expect_eq(decode(buf, len, &c, &st), -ECANCELED);
	cr_expect_eq(c.n, 100);
	cr_expect_eq(st.events, 100);
	/* wire counts still cover the whole generation */
	cr_expect_eq(st.raw[16], 692);
	/* callbacks may be NULL */
	cr_expect_eq(rt_gotrace_v2__decode(buf, len, "t", NULL, &st), 0);
	cr_expect_eq(st.events, 3833 - 1); /* Go's reader also counts one Sync */
	free(buf);
	chk_free(&c);
}

/*
 * Thread i holds ProcStart(p0, seq N - i), ProcStop at time i: only the
 * latest thread can go next, every time.  Go's algorithm (and ours) is
 * quadratic on this; small cases decode, large ones are cut short.
 */
static void tb_reverse(struct tb *t, uint64_t n)
{
	tb_header(t, 22);
	D.n = 0;
	tb_ev(&D, 8, 1, U(1000000000));
	tb_batch(t, 1, NOM, 0, &D);
	D.n = 0;
	tb_ev(&D, 13, 3, U(0), U(0), U(2)); /* ProcStatus p0 Idle */
	tb_batch(t, 1, 1u << 30, 1, &D);
	for (uint64_t i = 0; i < n; i++) {
		D.n = 0;
		tb_ev(&D, 10, 3, U(0), U(0), n - i);
		tb_ev(&D, 11, 1, U(1));
		tb_batch(t, 1, i, 10 + i, &D);
	}
}

Test(gotrace_v2, reordering_is_bounded, .timeout = 60)
{
	struct rt_gotrace_stats st;
	struct rec r;

	tb_reverse(&T, 300);
	cr_expect_eq(rec_decode(&T, &r, &st), 0, "%s", last_msg);
	cr_expect_eq(st.events, 601);
	tb_reverse(&T, 60000);
	cr_expect_eq(rec_decode(&T, &r, &st), -GS_E_LIMIT);
	cr_expect(strstr(last_msg, "out of time order"), "%s", last_msg);
}
