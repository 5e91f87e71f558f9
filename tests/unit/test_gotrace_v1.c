// SPDX-License-Identifier: BSD-2-Clause
/*
 * Go execution traces, v1 format (runtime/rt_gotrace_v1.c) and the
 * header dispatcher (runtime/rt_gotrace.c).
 *
 * Reference numbers come from Go's own parser: EVSTATS.txt next to the
 * public v1 traces gives, per file, the events per type that Go 1.19's
 * internal/trace (patched to accept "go 1.21") returns and the scheduler
 * latency sums over its Link fields (GoCreate/GoUnblock -> next GoStart);
 * the generated traces come with `go tool trace -pprof=sched` profiles;
 * malformed/RESULTS.txt says which fuzz inputs Go's parser accepts.
 *
 * The recording sink checks the contract of struct rt_go_sink on every
 * event: generation(1) first, each stack id announced once and before its
 * first use, and every goroutine transition starting from the state the
 * goroutine is in (so a START always follows what made g runnable).  The
 * scheduler latency is computed from the delivered events only.
 *
 * The corpus lives in ../shared/corpus/gotrace (tests run from the repo
 * root); without it the corpus tests are skipped, the synthetic ones run.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <criterion/criterion.h>

#include "base/gs_err.h"
#include "base/gs_mem.h"
#include "runtime/rt_goconv.h"
#include "runtime/rt_gotrace.h"
#include "tests/unit/tutil.h"

#define CORPUS "../shared/corpus/gotrace"
#define K(x) GSCOPE__V1__GO_EVENT_KIND__GO_EV_##x
#define ST(x) GSCOPE__V1__GO_STATE__GO_STATE_##x
#define SINK_FAIL (-77777)


static void setup(void)
{
	gs_log__set_fn(log_capture_errors);
	last_msg[0] = 0;
}

TestSuite(gotrace_v1, .init = setup);

/* dir/name into buf, which must be large enough */
static void mkpath(char *buf, size_t size, const char *dir, const char *name)
{
	int n = snprintf(buf, size, "%s/%s", dir, name);

	cr_assert(n > 0 && (size_t)n < size, "path too long: %s/%s", dir, name);
}

static bool have_corpus(void)
{
	struct stat sb;

	return stat(CORPUS "/v1-public", &sb) == 0 && S_ISDIR(sb.st_mode);
}

#define NEED_CORPUS()                                                          \
	do {                                                                   \
		if (!have_corpus()) {                                          \
			printf("gotrace_v1: %s missing, test skipped\n", CORPUS); \
			cr_skip_test("corpus " CORPUS " missing");             \
		}                                                              \
	} while (0)

/* ------------------------------------------------------------ small table */

/* u64 -> entry, open addressing; test-only, grows at half load */
struct ent {
	uint64_t key;
	bool used;
	int state;        /* goroutine: GoState; stack: nframes */
	bool pending;     /* goroutine: a CREATE/UNBLOCK waits for its START */
	uint64_t pts, pstk;
};

struct tab {
	struct ent *e;
	size_t cap, n;
};

static struct ent *tab_get(struct tab *t, uint64_t key, bool add)
{
	size_t i;

	if (add && (t->n + 1) * 2 > t->cap) {
		struct tab nt = { calloc(t->cap ? t->cap * 2 : 256, sizeof(struct ent)),
				  t->cap ? t->cap * 2 : 256, 0 };

		cr_assert_not_null(nt.e);
		for (i = 0; i < t->cap; i++)
			if (t->e[i].used)
				*tab_get(&nt, t->e[i].key, true) = t->e[i];
		free(t->e);
		*t = nt;
	}
	if (!t->cap)
		return NULL;
	for (i = (key * 0x9e3779b97f4a7c15ull) >> 20 & (t->cap - 1); t->e[i].used;
	     i = (i + 1) & (t->cap - 1))
		if (t->e[i].key == key)
			return &t->e[i];
	if (!add)
		return NULL;
	memset(&t->e[i], 0, sizeof(t->e[i]));
	t->e[i].used = true;
	t->e[i].key = key;
	t->n++;
	return &t->e[i];
}

/* ------------------------------------------------------------ recorder */

struct sched {
	ull n, total;         /* every CREATE/UNBLOCK -> START */
	ull n_stk, total_stk; /* those whose stack is non-empty */
	ull n_pprof, total_pprof; /* ... and last > 0 ns (go tool trace -pprof) */
};

struct rec {
	ull by_type[64]; /* delivered events mapped back to v1 wire types */
	ull events, samples, stacks;
	int gens;
	uint64_t last_ts;
	bool any;
	struct tab gs, stks;
	struct sched sched;
	char err[512];
	bool keep_going; /* count only; no contract checks */
};

static int fail(struct rec *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct rec *r, const char *fmt, ...)
{
	va_list ap;

	if (!r->err[0]) {
		va_start(ap, fmt);
		vsnprintf(r->err, sizeof(r->err), fmt, ap);
		va_end(ap);
	}
	return SINK_FAIL;
}

static void rec_free(struct rec *r)
{
	free(r->gs.e);
	free(r->stks.e);
}

static int stack_frames(struct rec *r, uint64_t id)
{
	struct ent *e = tab_get(&r->stks, id, false);

	return e ? e->state : -1;
}

static int on_stack(void *ctx, uint64_t id, const struct rt_go_frame *f, size_t n)
{
	struct rec *r = ctx;
	struct ent *e;

	if (r->gens != 1)
		return fail(r, "stack %" PRIu64 " before generation(1)", id);
	if (id == 0)
		return fail(r, "stack id 0 announced");
	if (tab_get(&r->stks, id, false))
		return fail(r, "stack %" PRIu64 " announced twice", id);
	for (size_t i = 0; i < n; i++)
		if (!f[i].func || !f[i].file)
			return fail(r, "stack %" PRIu64 " frame %zu: NULL name", id, i);
	e = tab_get(&r->stks, id, true);
	e->state = (int)n;
	r->stacks++;
	return 0;
}

static int on_generation(void *ctx, uint64_t gen)
{
	struct rec *r = ctx;

	if (gen != 1 || r->gens++ || r->any)
		return fail(r, "generation(%" PRIu64 ") unexpected", gen);
	return 0;
}

/* The event's str (borrowed, not NUL-terminated) equals s. */
static bool str_is(const struct rt_go_event *e, const char *s)
{
	return e->str && e->str_len == strlen(s) && !memcmp(e->str, s, e->str_len);
}

static int wire_type(const struct rt_go_event *e)
{
	static const struct {
		const char *s;
		int t;
	} reasons[] = {
		{ "forever", 16 }, { "sleep", 19 }, { "unspecified", 20 },
		{ "chan send", 22 }, { "chan receive", 23 }, { "select", 24 },
		{ "sync", 25 }, { "sync.(*Cond).Wait", 26 }, { "network", 27 },
		{ "GC mark assist wait for work", 42 },
	};

	switch (e->kind) {
	case K(PROCS): return 4;
	case K(PROC_START): return 5;
	case K(PROC_STOP): return 6;
	case K(GC_BEGIN): return 7;
	case K(GC_END): return 8;
	case K(STW_BEGIN): return 9;
	case K(STW_END): return 10;
	case K(SWEEP_BEGIN): return 11;
	case K(SWEEP_END): return 12;
	case K(CREATE): return 13;
	case K(START): return e->str ? 41 : 14;
	case K(DESTROY): return 15;
	case K(STOP):
		if (str_is(e, "runtime.Gosched"))
			return 17;
		if (str_is(e, "preempted"))
			return 18;
		return -1;
	case K(BLOCK):
		for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
			if (str_is(e, reasons[i].s))
				return reasons[i].t;
		return -1;
	case K(UNBLOCK): return 21;
	case K(SYSCALL_BEGIN): return 28;
	case K(SYSCALL_END): return 29;
	case K(SYSCALL_BLOCK): return 30;
	case K(STATUS):
		return e->to == ST(WAITING) ? 31 : e->to == ST(SYSCALL) ? 32 : -1;
	case K(HEAP_ALLOC): return 33;
	case K(HEAP_GOAL): return 34;
	case K(MARK_ASSIST_BEGIN): return 43;
	case K(MARK_ASSIST_END): return 44;
	case K(TASK_BEGIN): return 45;
	case K(TASK_END): return 46;
	case K(REGION_BEGIN):
	case K(REGION_END): return 47;
	case K(LOG): return 48;
	}
	return -1;
}

static int check_stack(struct rec *r, uint64_t id, const char *what)
{
	if (id && stack_frames(r, id) < 0)
		return fail(r, "%s uses stack %" PRIu64 " before it was announced", what, id);
	return 0;
}

static void sched_end(struct rec *r, struct ent *g, uint64_t ts)
{
	uint64_t d = ts - g->pts;

	if (!g->pending)
		return;
	g->pending = false;
	r->sched.n++;
	r->sched.total += d;
	if (g->pstk && stack_frames(r, g->pstk) > 0) {
		r->sched.n_stk++;
		r->sched.total_stk += d;
		if (d > 0) {
			r->sched.n_pprof++;
			r->sched.total_pprof += d;
		}
	}
}

static int on_event(void *ctx, const struct rt_go_event *e)
{
	struct rec *r = ctx;
	int t = wire_type(e);
	struct ent *g;

	r->events++;
	if (t < 0)
		return fail(r, "event kind %u (str %.*s) has no v1 type", e->kind,
			    e->str ? (int)e->str_len : 4, e->str ? e->str : "NULL");
	r->by_type[t]++;
	if (r->keep_going)
		return 0;
	if (r->gens != 1)
		return fail(r, "event before generation(1)");
	if (check_stack(r, e->stack, "event") ||
	    (e->kind == K(CREATE) && check_stack(r, e->arg2, "CREATE arg2")))
		return SINK_FAIL;
	/* only a GoSysExit may carry an earlier (real) time */
	if (e->kind != K(SYSCALL_END)) {
		if (r->any && e->ts < r->last_ts)
			return fail(r, "event kind %u at %" PRIu64 " before %" PRIu64, e->kind,
				    e->ts, r->last_ts);
		r->last_ts = e->ts;
	}
	r->any = true;
	if (e->p < -1)
		return fail(r, "p %d", e->p);

	/* goroutine state machine */
	if (e->from || e->to) {
		g = tab_get(&r->gs, e->g, true);
		if (e->kind == K(CREATE)) {
			if (g->state)
				return fail(r, "CREATE of existing g %" PRIu64, e->g);
		} else if (e->kind == K(STATUS)) {
			if (e->from)
				return fail(r, "STATUS with from state");
		} else if (g->state != e->from) {
			return fail(r, "kind %u of g %" PRIu64 " from %u, but g is in %d", e->kind,
				    e->g, e->from, g->state);
		}
		g->state = e->to;
		switch (e->kind) {
		case K(CREATE):
		case K(UNBLOCK):
			g->pending = true;
			g->pts = e->ts;
			g->pstk = e->stack;
			break;
		case K(START):
			sched_end(r, g, e->ts);
			break;
		default:
			/* Go links GoCreate/GoUnblock to whatever g does next */
			g->pending = false;
			break;
		}
		if (e->kind == K(DESTROY))
			g->state = 0; /* goids are never reused; the slot stays */
	}
	return 0;
}

static int on_sample(void *ctx, uint64_t ts, uint64_t g, int32_t p, uint64_t m, uint64_t stack)
{
	struct rec *r = ctx;

	r->samples++;
	r->by_type[49]++;
	if (r->keep_going)
		return 0;
	if (r->any && ts < r->last_ts)
		return fail(r, "CPU sample at %" PRIu64 " before %" PRIu64, ts, r->last_ts);
	r->last_ts = ts;
	r->any = true;
	return check_stack(r, stack, "CPU sample");
}

static struct rt_go_sink sink_for(struct rec *r)
{
	struct rt_go_sink s = {
		.ctx = r, .stack = on_stack, .generation = on_generation,
		.event = on_event, .cpu_sample = on_sample,
	};

	return s;
}

static int decode(const uint8_t *b, size_t n, const char *name, struct rec *r,
		  struct rt_gotrace_stats *st)
{
	struct rt_go_sink s = sink_for(r);

	return rt_gotrace__decode(b, n, name, &s, st);
}

/* Raw wire counts folded as Go's parser reports them (Local -> non-local). */
static void fold_raw(const struct rt_gotrace_stats *st, ull out[64])
{
	for (int t = 0; t < 64; t++)
		out[t] = st->raw[t];
	out[14] += out[38];
	out[21] += out[39];
	out[29] += out[40];
	/* not events: Batch, Frequency, Stack, String, TimerGoroutine, Local */
	out[1] = out[2] = out[3] = out[37] = out[35] = 0;
	out[38] = out[39] = out[40] = 0;
}

/* ------------------------------------------------------------ EVSTATS */

struct evstats {
	char name[128];
	ull events;
	ull by_type[64];
	ull n, total, n_stk, total_stk;
};

static size_t read_evstats(const char *path, struct evstats *out, size_t max)
{
	FILE *f = fopen(path, "r");
	char line[512];
	size_t n = 0;
	struct evstats *cur = NULL;

	cr_assert_not_null(f, "%s", path);
	while (fgets(line, sizeof(line), f)) {
		char name[128], tname[64];
		ull a, b, c, d, ev;
		int t;

		if (line[0] != ' ' &&
		    sscanf(line, "%127[^:]: size=%*u events=%llu", name, &ev) == 2) {
			cr_assert_lt(n, max);
			cur = &out[n++];
			memset(cur, 0, sizeof(*cur));
			snprintf(cur->name, sizeof(cur->name), "%s", name);
			cur->events = ev;
		} else if (cur && sscanf(line, " sched(unblock|create -> start): "
					 "n=%llu total=%lluns | pprof-counted (stack!=0) "
					 "n=%llu total=%lluns", &a, &b, &c, &d) == 4) {
			cur->n = a, cur->total = b, cur->n_stk = c, cur->total_stk = d;
		} else if (cur && sscanf(line, " %d %63s %llu", &t, tname, &a) == 3 &&
			   t > 0 && t < 64) {
			cur->by_type[t] = a;
		}
	}
	fclose(f);
	return n;
}

Test(gotrace_v1, public_traces_match_go_parser)
{
	static struct evstats es[64];
	size_t n, i;

	NEED_CORPUS();
	n = read_evstats(CORPUS "/v1-public/EVSTATS.txt", es, 64);
	cr_assert_geq(n, 18, "EVSTATS.txt: %zu traces", n);
	for (i = 0; i < n; i++) {
		char path[512];
		struct rt_gotrace_stats st;
		struct rec r = { 0 };
		ull raw[64], sum = 0;
		uint8_t *b;
		size_t len;
		int rc;

		mkpath(path, sizeof(path), CORPUS "/v1-public", es[i].name);
		b = slurp(path, &len);
		rc = decode(b, len, es[i].name, &r, &st);
		cr_assert_eq(rc, 0, "%s: rc %d (%s) %s", es[i].name, rc, last_msg, r.err);
		cr_assert_eq(st.bytes, len);
		cr_assert_eq(st.events + st.cpu_samples, es[i].events, "%s: %llu events, Go %llu",
			     es[i].name, (ull)(st.events + st.cpu_samples), es[i].events);
		cr_assert_eq(r.events, st.events);
		cr_assert_eq(r.samples, st.cpu_samples);
		/*
		 * Per type, both from the delivered events and from the raw
		 * wire counts: exact.  (The 1.9-1.11 traces hold
		 * TimerGoroutine records, which Go's parser, like this one,
		 * does not count as events; none holds a FutileWakeup.)
		 */
		fold_raw(&st, raw);
		for (int t = 1; t < 64; t++) {
			cr_assert_eq(r.by_type[t], es[i].by_type[t],
				     "%s: type %d: %llu delivered, Go %llu", es[i].name, t,
				     r.by_type[t], es[i].by_type[t]);
			cr_assert_eq(raw[t], es[i].by_type[t], "%s: type %d: %llu read, Go %llu",
				     es[i].name, t, raw[t], es[i].by_type[t]);
			sum += raw[t];
		}
		cr_assert_eq(sum, es[i].events);
		cr_assert_eq(r.sched.n, es[i].n, "%s: sched n %llu, Go %llu", es[i].name,
			     r.sched.n, es[i].n);
		cr_assert_eq(r.sched.total, es[i].total, "%s: sched total %llu, Go %llu",
			     es[i].name, r.sched.total, es[i].total);
		cr_assert_eq(r.sched.n_stk, es[i].n_stk, "%s: sched(stack) n %llu, Go %llu",
			     es[i].name, r.sched.n_stk, es[i].n_stk);
		cr_assert_eq(r.sched.total_stk, es[i].total_stk,
			     "%s: sched(stack) total %llu, Go %llu", es[i].name,
			     r.sched.total_stk, es[i].total_stk);
		rec_free(&r);
		free(b);
	}
}

/* ------------------------------------------------------------ pprof */

static const uint8_t *pb_varint(const uint8_t *p, const uint8_t *end, uint64_t *v)
{
	*v = 0;
	for (unsigned int s = 0; p < end && s < 64; s += 7) {
		*v |= (uint64_t)(*p & 0x7f) << s;
		if (!(*p++ & 0x80))
			return p;
	}
	return NULL;
}

/* Sum value[0] (count) and value[1] (ns) over the samples of a .pb.gz profile. */
static void pprof_totals(const char *path, ull *count, ull *ns)
{
	size_t zlen, cap = 1 << 20;
	uint8_t *z = slurp(path, &zlen), *buf = malloc(cap);
	const uint8_t *p, *end;
	z_stream zs = { 0 };
	int zr;

	cr_assert_not_null(buf);
	cr_assert_eq(inflateInit2(&zs, 16 + MAX_WBITS), Z_OK);
	zs.next_in = z;
	zs.avail_in = (uInt)zlen;
	zs.next_out = buf;
	zs.avail_out = (uInt)cap;
	zr = inflate(&zs, Z_FINISH);
	cr_assert_eq(zr, Z_STREAM_END, "%s: inflate %d", path, zr);
	p = buf;
	end = buf + zs.total_out;
	inflateEnd(&zs);
	*count = *ns = 0;
	while (p && p < end) {
		uint64_t key, v;

		p = pb_varint(p, end, &key);
		cr_assert_not_null(p);
		switch (key & 7) {
		case 0:
			p = pb_varint(p, end, &v);
			break;
		case 1:
			p += 8;
			break;
		case 5:
			p += 4;
			break;
		case 2: {
			const uint8_t *q, *qend;
			uint64_t vals[2] = { 0, 0 };
			int nv = 0;

			p = pb_varint(p, end, &v);
			cr_assert(p && v <= (uint64_t)(end - p));
			if (key >> 3 != 2) { /* Profile.sample */
				p += v;
				break;
			}
			for (q = p, qend = p + v; q && q < qend;) {
				uint64_t k2, l2;

				q = pb_varint(q, qend, &k2);
				cr_assert_not_null(q);
				if ((k2 & 7) == 0) {
					q = pb_varint(q, qend, &l2);
					if (k2 >> 3 == 2 && nv < 2)
						vals[nv++] = l2;
					continue;
				}
				cr_assert_eq(k2 & 7, 2);
				q = pb_varint(q, qend, &l2);
				cr_assert(q && l2 <= (uint64_t)(qend - q));
				if (k2 >> 3 == 2) { /* packed values */
					const uint8_t *r = q;

					while (r < q + l2 && nv < 2)
						r = pb_varint(r, q + l2, &vals[nv++]);
				}
				q += l2;
			}
			*count += vals[0];
			*ns += vals[1];
			p += v;
			break;
		}
		default:
			cr_assert_fail("%s: wire type %d", path, (int)(key & 7));
		}
	}
	free(buf);
	free(z);
}

static bool is_generated_v1(const char *n)
{
	size_t l = strlen(n);

	return (!strncmp(n, "go119-", 6) || !strncmp(n, "go121-", 6)) && l > 6 &&
	       !strcmp(n + l - 6, ".trace");
}

Test(gotrace_v1, generated_traces)
{
	DIR *dir;
	struct dirent *de;
	int files = 0, profiles = 0;

	NEED_CORPUS();
	dir = opendir(CORPUS "/generated");
	cr_assert_not_null(dir);
	while ((de = readdir(dir))) {
		char path[512], pprof[512];
		struct rt_gotrace_stats st;
		struct rec r = { 0 };
		ull raw[64], sum = 0, sum_delivered = 0, cnt, ns;
		uint8_t *b;
		size_t len;
		int rc;

		if (!is_generated_v1(de->d_name))
			continue;
		files++;
		mkpath(path, sizeof(path), CORPUS "/generated", de->d_name);
		b = slurp(path, &len);
		rc = decode(b, len, de->d_name, &r, &st);
		cr_assert_eq(rc, 0, "%s: rc %d (%s) %s", de->d_name, rc, last_msg, r.err);
		cr_assert_eq(st.version, strncmp(de->d_name, "go119", 5) ? 1021 : 1019);
		fold_raw(&st, raw);
		for (int t = 1; t < 64; t++) {
			cr_assert_eq(r.by_type[t], raw[t], "%s: type %d: %llu delivered, %llu read",
				     de->d_name, t, r.by_type[t], raw[t]);
			sum += raw[t];
			sum_delivered += r.by_type[t];
		}
		cr_assert_eq(sum, st.events + st.cpu_samples);
		cr_assert_eq(sum_delivered, r.events + r.samples);
		cr_assert_gt(st.events, 100);

		/* `go tool trace -pprof=sched` of the same file: exact */
		snprintf(pprof, sizeof(pprof), "%.*s.sched.pprof", (int)(strlen(path) - 6), path);
		if (access(pprof, R_OK) == 0) {
			profiles++;
			pprof_totals(pprof, &cnt, &ns);
			cr_assert_eq(r.sched.n_pprof, cnt, "%s: sched n %llu, pprof %llu",
				     de->d_name, r.sched.n_pprof, cnt);
			cr_assert_eq(r.sched.total_pprof, ns, "%s: sched %llu ns, pprof %llu",
				     de->d_name, r.sched.total_pprof, ns);
		}
		rec_free(&r);
		free(b);
	}
	closedir(dir);
	cr_assert_geq(files, 14, "%d generated v1 traces", files);
	cr_assert_eq(profiles, files, "%d of %d traces have a sched profile", profiles, files);
}

/* ------------------------------------------------------------ block mode */

/*
 * A sink with a converter (rt_go_sink.conv): the decoder converts the
 * events itself and hands them over in blocks.  The same trace decoded
 * event by event, each event converted with rt_goconv__event(), must give
 * the same events, and each CPU sample must come after the same events.
 */
static bool is_generated_trace(const char *n)
{
	size_t l = strlen(n);

	return !strncmp(n, "go1", 3) && l > 6 && !strcmp(n + l - 6, ".trace");
}

struct conv_rec {
	struct rt_goconv cv;
	uint64_t *stacks;
	size_t cap;
	struct tf_go_event *ev;
	size_t n, ev_cap, blocks, big_blocks;
	uint64_t *sample_at; /* events before each CPU sample */
	size_t nsamples, samples_cap;
	uint64_t gen_at[64]; /* events before each of the first generations */
	size_t ngens;
};

static int conv_intern(void *ctx, const char *s, size_t len, uint64_t *id)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a: an id from the bytes */

	(void)ctx;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)s[i]) * 1099511628211ull;
	*id = h | 1;
	return 0;
}

static int conv_stack(void *ctx, uint64_t id, const struct rt_go_frame *f, size_t n)
{
	struct conv_rec *c = ctx;

	(void)f;
	if (id >= c->cap) {
		size_t old = c->cap, cap = (size_t)id * 2 + 16;

		c->stacks = realloc(c->stacks, cap * sizeof(*c->stacks));
		cr_assert_not_null(c->stacks);
		memset(c->stacks + old, 0, (cap - old) * sizeof(*c->stacks));
		c->cap = cap;
		c->cv.stacks = c->stacks;
		c->cv.nstacks = cap;
	}
	c->stacks[id] = id * 1000 + n + 1; /* any id that tells stacks apart */
	return 0;
}

static struct tf_go_event *conv_room(struct conv_rec *c, size_t n)
{
	if (c->n + n > c->ev_cap) {
		c->ev_cap = (c->n + n) * 2;
		c->ev = realloc(c->ev, c->ev_cap * sizeof(*c->ev));
		cr_assert_not_null(c->ev);
	}
	return &c->ev[c->n];
}

static int conv_event(void *ctx, const struct rt_go_event *e)
{
	struct conv_rec *c = ctx;
	int err = rt_goconv__event(&c->cv, e, conv_room(c, 1));

	c->n++;
	return err;
}

static int conv_block(void *ctx, const struct tf_go_event *ev, size_t n)
{
	struct conv_rec *c = ctx;

	cr_assert(n >= 1 && n <= RT_GOCONV_BLOCK, "block of %zu events", n);
	memcpy(conv_room(c, n), ev, n * sizeof(*ev));
	c->n += n;
	c->blocks++;
	c->big_blocks += n == RT_GOCONV_BLOCK;
	return 0;
}

static int conv_sample(void *ctx, uint64_t ts, uint64_t g, int32_t p, uint64_t m,
		       uint64_t stack)
{
	struct conv_rec *c = ctx;

	(void)ts, (void)g, (void)p, (void)m, (void)stack;
	if (c->nsamples == c->samples_cap) {
		c->samples_cap = c->samples_cap * 2 + 16;
		c->sample_at = realloc(c->sample_at, c->samples_cap * sizeof(uint64_t));
		cr_assert_not_null(c->sample_at);
	}
	c->sample_at[c->nsamples++] = c->n;
	return 0;
}

static int conv_generation(void *ctx, uint64_t gen)
{
	struct conv_rec *c = ctx;

	(void)gen;
	if (c->ngens < 64)
		c->gen_at[c->ngens] = c->n;
	c->ngens++;
	if (c->stacks)
		memset(c->stacks, 0, c->cap * sizeof(*c->stacks));
	memset(c->cv.scache, 0, sizeof(c->cv.scache));
	return 0;
}

static void conv_decode(const uint8_t *b, size_t len, const char *name, bool blocks,
			struct conv_rec *c)
{
	struct rt_go_sink s = {
		.ctx = c, .stack = conv_stack, .generation = conv_generation,
		.cpu_sample = conv_sample,
	};
	int rc;

	memset(c, 0, sizeof(*c));
	c->cv.pid = 7;
	c->cv.intern = conv_intern;
	if (blocks) {
		s.conv = &c->cv;
		s.go_events = conv_block;
	} else {
		s.event = conv_event;
	}
	rc = rt_gotrace__decode(b, len, name, &s, NULL);
	cr_assert_eq(rc, 0, "%s: rc %d (%s)", name, rc, last_msg);
}

/* field by field: the padding of struct tf_go_event is not written */
static bool same_event(const struct tf_go_event *a, const struct tf_go_event *b)
{
	return a->ts == b->ts && a->pid == b->pid && a->kind == b->kind && a->goid == b->goid &&
	       a->from_state == b->from_state && a->to_state == b->to_state &&
	       a->reason_sid == b->reason_sid && a->p == b->p && a->m == b->m &&
	       a->stack_id == b->stack_id && a->arg == b->arg && a->arg2 == b->arg2;
}

static void conv_free(struct conv_rec *c)
{
	free(c->stacks);
	free(c->ev);
	free(c->sample_at);
}

/* v1 and v2 (rt_gotrace__decode() dispatches), generations included */
Test(gotrace_v1, block_mode_gives_the_converted_events)
{
	static const char *const names[] = {
		"v1-public/http_1_19_good", "v1-public/stress_1_11_good",
		"v1-public/fmt_1_21_pprof_good", "v2-public/bin/go122-gc-stress.trace",
		"v2-public/bin/go122-annotations-stress.trace",
		"v2-public/bin/go122-task-across-generations.trace",
		"v2-public/bin/go123-sync.trace", "v2-public/bin/go125-sync.trace",
	};
	size_t events = 0, samples = 0, full = 0, gens = 0;
	DIR *dir;
	struct dirent *de;
	char path[512];
	int files = 0;

	NEED_CORPUS();
	dir = opendir(CORPUS "/generated");
	cr_assert_not_null(dir);
	for (size_t i = 0;; i++) {
		struct conv_rec one, blk;
		uint8_t *b;
		size_t len;

		if (i < sizeof(names) / sizeof(names[0])) {
			mkpath(path, sizeof(path), CORPUS, names[i]);
		} else {
			while ((de = readdir(dir)) && !is_generated_trace(de->d_name))
				;
			if (!de)
				break;
			mkpath(path, sizeof(path), CORPUS "/generated", de->d_name);
		}
		files++;
		b = slurp(path, &len);
		conv_decode(b, len, path, false, &one);
		conv_decode(b, len, path, true, &blk);
		cr_assert_eq(blk.n, one.n, "%s: %zu events in blocks, %zu one by one", path,
			     blk.n, one.n);
		for (size_t j = 0; j < one.n; j++)
			cr_assert(same_event(&blk.ev[j], &one.ev[j]), "%s: event %zu differs",
				  path, j);
		cr_assert_eq(blk.nsamples, one.nsamples);
		for (size_t j = 0; j < one.nsamples; j++)
			cr_assert_eq(blk.sample_at[j], one.sample_at[j],
				     "%s: sample %zu after %" PRIu64 " events, not %" PRIu64, path,
				     j, blk.sample_at[j], one.sample_at[j]);
		cr_assert_eq(blk.ngens, one.ngens);
		for (size_t j = 0; j < one.ngens && j < 64; j++)
			cr_assert_eq(blk.gen_at[j], one.gen_at[j],
				     "%s: generation %zu after %" PRIu64 " events, not %" PRIu64, path,
				     j, blk.gen_at[j], one.gen_at[j]);
		gens += one.ngens;
		cr_assert_geq(blk.blocks, (blk.n + RT_GOCONV_BLOCK - 1) / RT_GOCONV_BLOCK);
		events += one.n;
		samples += one.nsamples;
		full += blk.big_blocks;
		conv_free(&one);
		conv_free(&blk);
		free(b);
	}
	closedir(dir);
	cr_assert_geq(files, 36, "%d traces", files);
	cr_assert_gt(samples, 0, "no trace had CPU samples");
	cr_assert_gt(full, 0, "no full block");
	cr_assert_gt(gens, (size_t)files, "no trace of several generations");
	cr_log_info("block mode: %d traces, %zu events, %zu CPU samples, %zu generations, "
		    "%zu full blocks", files, events, samples, gens, full);
}

/* ------------------------------------------------------------ malformed */

Test(gotrace_v1, malformed_v1_match_go_verdict)
{
	FILE *f;
	char line[1024];
	int files = 0;

	NEED_CORPUS();
	f = fopen(CORPUS "/malformed/RESULTS.txt", "r");
	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f)) {
		char name[256], path[512];
		struct rt_gotrace_stats st;
		struct rec r = { .keep_going = true };
		ull events = 0;
		bool go_ok, go_err;
		uint8_t *b;
		size_t len;
		int rc;

		if (strncmp(line, "v1_fuzz_gotraceui/", 18) || sscanf(line, "%255[^:]:", name) != 1)
			continue;
		go_err = strstr(line, "PARSE ERROR") != NULL;
		go_ok = sscanf(strstr(line, ": ") ? strstr(line, ": ") : line,
			       ": size=%*u events=%llu", &events) == 1;
		mkpath(path, sizeof(path), CORPUS "/malformed", name);
		b = slurp(path, &len);
		rc = decode(b, len, name, &r, &st);
		files++;
		if (go_ok) {
			cr_assert_eq(rc, 0, "%s: Go accepts it, we say %d: %s", name, rc, last_msg);
			cr_assert_eq(st.events + st.cpu_samples, events, "%s: %llu events, Go %llu",
				     name, (ull)(st.events + st.cpu_samples), events);
		} else if (go_err) {
			cr_assert(rc < 0 && gs_err_is_input(rc), "%s: Go rejects it, we say %d",
				  name, rc);
		}
		rec_free(&r);
		free(b);
	}
	fclose(f);
	cr_assert_geq(files, 13);
}

Test(gotrace_v1, malformed_any_version_no_crash)
{
	static const char *const dirs[] = { CORPUS "/malformed/v1_fuzz_gotraceui",
					    CORPUS "/malformed/v2_fuzz_xexp" };
	int files = 0;

	NEED_CORPUS();
	for (size_t i = 0; i < 2; i++) {
		DIR *dir = opendir(dirs[i]);
		struct dirent *de;

		cr_assert_not_null(dir, "%s", dirs[i]);
		while ((de = readdir(dir))) {
			char path[768];
			struct rt_gotrace_stats st;
			struct rec r = { .keep_going = true };
			uint8_t *b;
			size_t len;
			int rc;

			if (de->d_name[0] == '.')
				continue;
			mkpath(path, sizeof(path), dirs[i], de->d_name);
			b = slurp(path, &len);
			rc = decode(b, len, de->d_name, &r, &st);
			cr_assert(rc == 0 || rc < 0, "%s", path);
			files++;
			rec_free(&r);
			free(b);
		}
		closedir(dir);
	}
	cr_assert_geq(files, 30);
}

/* Offset of the EvFrequency record, found by walking the records. */
static size_t freq_offset(const uint8_t *b, size_t len)
{
	const uint8_t *p = b + 16, *end = b + len;

	while (p < end) {
		unsigned int t = *p & 0x3f, narg = (*p >> 6) + 1;
		uint64_t v, n;

		if (t == 2)
			return (size_t)(p - b);
		p++;
		if (t == 37) {
			p = pb_varint(p, end, &v);
			p = pb_varint(p, end, &n);
			p += n;
			continue;
		}
		if (narg < 4) {
			for (unsigned int i = 0; i < narg; i++)
				p = pb_varint(p, end, &v);
		} else {
			p = pb_varint(p, end, &n);
			p += n;
		}
		if (t == 48) {
			p = pb_varint(p, end, &n);
			p += n;
		}
	}
	return len;
}

Test(gotrace_v1, truncated_every_97th_byte)
{
	static const char *const files[] = { "stress_1_19_good", "http_1_21_good",
					     "fmt_1_21_pprof_good", "stress_start_stop_1_11_good",
					     "user_task_region_1_21_good", "http_1_9_good" };
	int errors = 0, oks = 0;

	NEED_CORPUS();
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char path[512];
		struct rt_gotrace_stats full, st;
		struct rec r0 = { .keep_going = true };
		uint8_t *b;
		size_t len, fo;

		mkpath(path, sizeof(path), CORPUS "/v1-public", files[i]);
		b = slurp(path, &len);
		cr_assert_eq(decode(b, len, files[i], &r0, &full), 0);
		rec_free(&r0);
		fo = freq_offset(b, len);
		cr_assert_lt(fo, len);
		for (size_t cut = 0; cut < len; cut += 97) {
			/* a copy of exactly cut bytes, so ASan sees any over-read */
			uint8_t *c = malloc(cut ? cut : 1);
			struct rec r = { 0 };
			int rc;

			memcpy(c, b, cut);
			rc = decode(c, cut, files[i], &r, &st);
			if (rc) {
				cr_assert(rc < 0 && gs_err_is_input(rc), "%s cut %zu: %d", files[i],
					  cut, rc);
				cr_assert(!r.err[0], "%s cut %zu: %s", files[i], cut, r.err);
				errors++;
			} else {
				/*
				 * Only a cut at a record boundary after the
				 * frequency (in the stack table) leaves a trace
				 * Go accepts; it has every event.
				 */
				cr_assert_gt(cut, fo,
					     "%s cut %zu accepted before EvFrequency at %zu",
					     files[i], cut, fo);
				cr_assert_eq(st.events, full.events);
				oks++;
			}
			rec_free(&r);
			free(c);
		}
		free(b);
	}
	cr_assert_gt(errors, 100);
	printf("gotrace_v1: truncation: %d rejected, %d accepted (cut inside the stack table)\n",
	       errors, oks);
}

/* ------------------------------------------------------------ synthetic */

/* A hand-built v1 trace. */
struct tb {
	uint8_t b[4096];
	size_t n;
};

static void put(struct tb *t, uint64_t v)
{
	do {
		cr_assert_lt(t->n, sizeof(t->b));
		t->b[t->n++] = (uint8_t)((v & 0x7f) | (v >= 0x80 ? 0x80 : 0));
		v >>= 7;
	} while (v);
}

static void hdr(struct tb *t, const char *h)
{
	memset(t->b, 0, 16);
	memcpy(t->b, h, strlen(h));
	t->n = 16;
}

static void raw_byte(struct tb *t, uint8_t c)
{
	cr_assert_lt(t->n, sizeof(t->b));
	t->b[t->n++] = c;
}

/* Event type with n values (timestamp delta first, then the arguments). */
static void ev(struct tb *t, unsigned int type, int n, ...)
{
	uint64_t v[8];
	va_list ap;

	va_start(ap, n);
	for (int i = 0; i < n; i++)
		v[i] = va_arg(ap, uint64_t);
	va_end(ap);
	if (n <= 3) {
		raw_byte(t, (uint8_t)(type | (unsigned int)(n - 1) << 6));
		for (int i = 0; i < n; i++)
			put(t, v[i]);
	} else {
		struct tb tmp = { .n = 0 };

		for (int i = 0; i < n; i++)
			put(&tmp, v[i]);
		raw_byte(t, (uint8_t)(type | 3u << 6));
		put(t, tmp.n);
		memcpy(t->b + t->n, tmp.b, tmp.n);
		t->n += tmp.n;
	}
}

#define U(x) ((uint64_t)(x))
#define EV(t, type, ...) ev(t, type, (int)(sizeof((uint64_t[]){ __VA_ARGS__ }) / 8), __VA_ARGS__)

static void batch(struct tb *t, uint64_t p, uint64_t ticks)
{
	raw_byte(t, 0x41);
	put(t, p);
	put(t, ticks);
}

static void string(struct tb *t, uint64_t id, const char *s)
{
	raw_byte(t, 37);
	put(t, id);
	put(t, strlen(s));
	memcpy(t->b + t->n, s, strlen(s));
	t->n += strlen(s);
}

static void freq(struct tb *t, uint64_t f)
{
	raw_byte(t, 2);
	put(t, f);
}

/* One-frame stack: pc, func string id, file string id, line. */
static void stack1(struct tb *t, uint64_t id, uint64_t pc, uint64_t fn, uint64_t file,
		   uint64_t line)
{
	EV(t, 3, id, U(1), pc, fn, file, line);
}

/* A recording sink that keeps the delivered events. */
struct keep {
	struct rec r;
	struct rt_go_event ev[64];
	char str[64][32];
	int n;
	uint64_t stack_ids[16];
	size_t stack_n[16];
	char stack_fn[16][32];
	int nstacks;
	uint64_t sample_ts[8];
	int nsamples;
};

static int keep_event(void *ctx, const struct rt_go_event *e)
{
	struct keep *k = ctx;
	int rc = on_event(&k->r, e);

	if (k->n < 64) {
		k->ev[k->n] = *e;
		snprintf(k->str[k->n], sizeof(k->str[0]), "%.*s", e->str ? (int)e->str_len : 0,
			 e->str ? e->str : "");
		k->n++;
	}
	return rc;
}

static int keep_stack(void *ctx, uint64_t id, const struct rt_go_frame *f, size_t n)
{
	struct keep *k = ctx;

	if (k->nstacks < 16) {
		k->stack_ids[k->nstacks] = id;
		k->stack_n[k->nstacks] = n;
		snprintf(k->stack_fn[k->nstacks], 32, "%.*s", n ? (int)f[0].func_len : 0,
			 n ? f[0].func : "");
		k->nstacks++;
	}
	return on_stack(&k->r, id, f, n);
}

static int keep_sample(void *ctx, uint64_t ts, uint64_t g, int32_t p, uint64_t m, uint64_t stack)
{
	struct keep *k = ctx;

	if (k->nsamples < 8)
		k->sample_ts[k->nsamples++] = ts;
	return on_sample(&k->r, ts, g, p, m, stack);
}

static int run(struct tb *t, struct keep *k, struct rt_gotrace_stats *st)
{
	struct rt_go_sink s = {
		.ctx = k, .stack = keep_stack, .generation = on_generation,
		.event = keep_event, .cpu_sample = keep_sample,
	};
	int rc;

	memset(k, 0, sizeof(*k));
	last_msg[0] = 0;
	rc = rt_gotrace__decode(t->b, t->n, "synth", &s, st);
	rec_free(&k->r);
	return rc;
}

#define VER(s, n) rt_gotrace__version((const uint8_t *)(s), n, &v)

Test(gotrace_v1, header_and_dispatch)
{
	struct rt_gotrace_stats st;
	struct tb t;
	int v = 0;

	cr_assert_eq(rt_gotrace__version((const uint8_t *)"go 1.19 trace\0\0\0", 16, &v), 0);
	cr_assert_eq(v, 1019);
	cr_assert_eq(rt_gotrace__version((const uint8_t *)"go 1.9 trace\0\0\0\0", 16, &v), 0);
	cr_assert_eq(v, 1009);
	cr_assert_eq(rt_gotrace__version((const uint8_t *)"go 1.123 trace\0\0", 16, &v), 0);
	cr_assert_eq(v, 1123);
	cr_assert_eq(VER("go 1.19 trace\0\0", 15), -GS_E_FORMAT);
	cr_assert(strstr(last_msg, "offset 0"), "%s", last_msg);
	cr_assert_eq(VER("go 1.19 trace\0\0x", 16), -GS_E_FORMAT);
	cr_assert_eq(VER("go 1.0 trace\0\0\0\0", 16), -GS_E_FORMAT);
	cr_assert_eq(VER("PK\3\4 1.19 trace\0", 16), -GS_E_FORMAT);
	cr_assert_eq(rt_gotrace__version(NULL, 0, &v), -GS_E_FORMAT);

	hdr(&t, "go 1.7 trace");
	cr_assert_eq(rt_gotrace__decode(t.b, t.n, "old", NULL, &st), -GS_E_VERSION);
	cr_assert(strstr(last_msg, "old: offset 0: unsupported Go trace version go 1.7"), "%s",
		  last_msg);
	hdr(&t, "go 1.12 trace"); /* never written by Go; Go's parser refuses it */
	cr_assert_eq(rt_gotrace__decode(t.b, t.n, "x", NULL, &st), -GS_E_VERSION);
	cr_assert(strstr(last_msg, "unsupported Go trace version go 1.12"), "%s", last_msg);
	hdr(&t, "go 1.19 trace");
	cr_assert_eq(rt_gotrace__decode(t.b, t.n, "empty", NULL, &st), -GS_E_FORMAT);
	cr_assert(strstr(last_msg, "empty: offset 16: trace is empty"), "%s", last_msg);
	cr_assert_eq(rt_gotrace__decode(t.b, 10, "short", NULL, &st), -GS_E_FORMAT);
	cr_assert(strstr(last_msg, "short: offset 0:"), "%s", last_msg);
}

/*
 * P1's batch comes first in the file but must wait: its GoStart of g 5
 * (seq 1) needs the GoCreate on P0.  lastG survives P0's batch boundary.
 */
Test(gotrace_v1, orders_across_ps_and_batches)
{
	struct rt_gotrace_stats st;
	struct keep k;
	struct tb t;
	int rc;

	hdr(&t, "go 1.19 trace");
	batch(&t, 1, 1000);
	EV(&t, 5, U(10), U(7));              /* ProcStart M7 @1010 */
	EV(&t, 14, U(90), U(5), U(1));       /* GoStart g5 seq1 @1100 */
	EV(&t, 15, U(50));                   /* GoEnd @1150 */
	batch(&t, 0, 1000);
	EV(&t, 5, U(1), U(3));               /* ProcStart M3 @1001 */
	EV(&t, 13, U(4), U(4), U(0), U(0));  /* GoCreate g4 @1005 (by g0) */
	EV(&t, 38, U(4), U(4));              /* GoStartLocal g4 @1009 */
	EV(&t, 13, U(10), U(5), U(9), U(0)); /* GoCreate g5 @1019, start stack 9 */
	batch(&t, 2, 1030);                  /* another P in between */
	EV(&t, 33, U(1), U(4096));           /* HeapAlloc @1031 */
	batch(&t, 0, 1040);
	EV(&t, 19, U(2), U(0));              /* GoSleep @1042: g4 is still current */
	freq(&t, 1000000000);
	string(&t, 1, "main.f");
	stack1(&t, 9, 0x1234, 1, 99, 42);    /* file string 99 does not exist */

	rc = run(&t, &k, &st);
	cr_assert_eq(rc, 0, "%s %s", last_msg, k.r.err);
	cr_assert_eq(k.n, 9);
	cr_assert_eq(st.events, 9);
	/* merged by time where possible */
	cr_assert_eq(k.ev[0].kind, K(PROC_START));
	cr_assert_eq(k.ev[0].ts, 0);
	cr_assert_eq(k.ev[0].m, 3);
	cr_assert_eq(k.ev[1].kind, K(CREATE));
	cr_assert_eq(k.ev[1].g, 4);
	cr_assert_eq(k.ev[2].kind, K(START));
	cr_assert_eq(k.ev[2].g, 4);
	cr_assert_eq(k.ev[2].ts, 8);
	cr_assert_eq(k.ev[3].kind, K(PROC_START));
	cr_assert_eq(k.ev[3].p, 1);
	cr_assert_eq(k.ev[3].m, 7);
	cr_assert_eq(k.ev[4].kind, K(CREATE));
	cr_assert_eq(k.ev[4].g, 5);
	cr_assert_eq(k.ev[4].arg, 4);  /* creator: P0's current g */
	cr_assert_eq(k.ev[4].arg2, 9);
	cr_assert_eq(k.ev[5].kind, K(HEAP_ALLOC));
	cr_assert_eq(k.ev[5].arg, 4096);
	cr_assert_eq(k.ev[6].kind, K(BLOCK));
	cr_assert_eq(k.ev[6].g, 4);    /* lastG carried over P0's second batch */
	cr_assert_str_eq(k.str[6], "sleep");
	cr_assert_eq(k.ev[7].kind, K(START));
	cr_assert_eq(k.ev[7].g, 5);
	cr_assert_eq(k.ev[7].ts, 99);
	cr_assert_eq(k.ev[7].m, 7);
	cr_assert_eq(k.ev[8].kind, K(DESTROY));
	cr_assert_eq(k.ev[8].g, 5);
	/* the start stack of g5 was announced before the CREATE that names it */
	cr_assert_eq(k.nstacks, 1);
	cr_assert_eq(k.stack_ids[0], 9);
	cr_assert_eq(k.stack_n[0], 1);
	cr_assert_str_eq(k.stack_fn[0], "main.f");
	cr_assert_eq(k.r.sched.n, 2);
	cr_assert_eq(k.r.sched.total, (8 - 4) + (99 - 18));
	cr_assert_eq(st.raw[1], 4);
	cr_assert_eq(st.raw[38], 1);
	cr_assert_eq(st.freq, 1000000000);
}

Test(gotrace_v1, ticks_to_ns_like_go)
{
	struct rt_gotrace_stats st;
	struct keep k;
	struct tb t;

	/* 3 ticks per 1e9/7 ns: ns = int64(float64(d) * (1e9 / 7)) */
	hdr(&t, "go 1.19 trace");
	batch(&t, 0, 5);
	EV(&t, 33, U(0), U(1));
	EV(&t, 33, U(3), U(1));
	EV(&t, 33, U(1000000), U(1));
	freq(&t, 7);
	cr_assert_eq(run(&t, &k, &st), 0, "%s", last_msg);
	cr_assert_eq(k.ev[0].ts, 0);
	cr_assert_eq(k.ev[1].ts, (uint64_t)(int64_t)(3.0 * (1e9 / 7.0)));
	cr_assert_eq(k.ev[2].ts, (uint64_t)(int64_t)(1000003.0 * (1e9 / 7.0)));
}

/* A CPU sample earlier than every event sets the time origin. */
Test(gotrace_v1, cpu_samples_take_part_in_the_merge)
{
	struct rt_gotrace_stats st;
	struct keep k;
	struct tb t;

	hdr(&t, "go 1.19 trace");
	batch(&t, 0, 100);
	EV(&t, 33, U(0), U(1));                          /* @100 */
	EV(&t, 33, U(50), U(1));                         /* @150 */
	batch(&t, 0, 500);                               /* the sample buffer */
	EV(&t, 49, U(1), U(120), U(0), U(3), U(0));      /* @120 on P0, g3 */
	EV(&t, 49, U(1), U(40), UINT64_MAX, U(0), U(0)); /* @40, no P */
	freq(&t, 1000000000);
	cr_assert_eq(run(&t, &k, &st), 0, "%s %s", last_msg, k.r.err);
	cr_assert_eq(st.cpu_samples, 2);
	cr_assert_eq(k.nsamples, 2);
	cr_assert_eq(k.sample_ts[0], 0);
	cr_assert_eq(k.sample_ts[1], 80);
	cr_assert_eq(k.ev[0].ts, 60);
	cr_assert_eq(k.ev[1].ts, 110);
}

static void sys_trace(struct tb *t, uint64_t real)
{
	hdr(t, "go 1.19 trace");
	batch(t, 0, 100);
	EV(t, 13, U(0), U(8), U(0), U(0)); /* GoCreate g8 @100 */
	EV(t, 14, U(10), U(8), U(1));      /* GoStart g8 seq1 @110 */
	EV(t, 28, U(10), U(0));            /* GoSysCall @120 */
	EV(t, 30, U(10));                  /* GoSysBlock @130 */
	EV(t, 6, U(10));                   /* ProcStop @140 */
	batch(t, 1, 300);
	EV(t, 29, U(0), U(8), U(2), real); /* GoSysExit g8 seq2 @300, real ts */
	EV(t, 38, U(10), U(8));            /* GoStartLocal @310 */
	freq(t, 1000000000);
}

Test(gotrace_v1, syscall_exit_real_time)
{
	struct rt_gotrace_stats st;
	struct keep k;
	struct tb t;

	sys_trace(&t, 250);
	cr_assert_eq(run(&t, &k, &st), 0, "%s %s", last_msg, k.r.err);
	cr_assert_eq(k.n, 7);
	cr_assert_eq(k.ev[3].kind, K(SYSCALL_BLOCK));
	cr_assert_eq(k.ev[3].to, ST(SYSCALL));
	cr_assert_eq(k.ev[5].kind, K(SYSCALL_END));
	cr_assert_eq(k.ev[5].g, 8);
	cr_assert_eq(k.ev[5].ts, 150); /* 250 - 100, not 300 - 100 */
	cr_assert_eq(k.ev[6].ts, 210);

	sys_trace(&t, 0); /* no real time: the emission time stays */
	cr_assert_eq(run(&t, &k, &st), 0, "%s", last_msg);
	cr_assert_eq(k.ev[5].ts, 200);

	sys_trace(&t, 129); /* before its GoSysBlock */
	cr_assert_eq(run(&t, &k, &st), -GS_E_FORMAT);
	cr_assert(strstr(last_msg, "time stamps out of order"), "%s", last_msg);
}

Test(gotrace_v1, stray_syscall_exit)
{
	struct rt_gotrace_stats st;
	struct keep k;
	struct tb t;

	hdr(&t, "go 1.19 trace");
	batch(&t, 0, 100);
	EV(&t, 13, U(0), U(8), U(0), U(0)); /* GoCreate g8 */
	EV(&t, 14, U(10), U(8), U(1));      /* GoStart g8 */
	EV(&t, 20, U(10), U(0));            /* GoBlock (not a syscall) */
	EV(&t, 29, U(10), U(8), U(2), U(125));
	freq(&t, 1000000000);
	cr_assert_eq(run(&t, &k, &st), -GS_E_FORMAT);
	cr_assert(strstr(last_msg, "stray syscall exit"), "%s", last_msg);
}

Test(gotrace_v1, no_consistent_order)
{
	struct rt_gotrace_stats st;
	struct keep k;
	struct tb t;

	hdr(&t, "go 1.19 trace");
	batch(&t, 0, 100);
	EV(&t, 13, U(0), U(8), U(0), U(0)); /* GoCreate g8: seq 1 */
	EV(&t, 14, U(10), U(8), U(5));      /* GoStart g8 seq 5: never */
	freq(&t, 1000000000);
	cr_assert_eq(run(&t, &k, &st), -GS_E_FORMAT);
	cr_assert(strstr(last_msg, "synth: offset 25: no consistent ordering of events possible"),
		  "%s", last_msg);
	cr_assert_eq(k.n, 1);
}

/* Readiness wins over time; if that breaks time order, Go fails too. */
Test(gotrace_v1, skewed_clock_is_time_order_error)
{
	struct rt_gotrace_stats st;
	struct keep k;
	struct tb t;

	hdr(&t, "go 1.19 trace");
	batch(&t, 0, 100);
	EV(&t, 13, U(0), U(8), U(0), U(0)); /* GoCreate g8 @100 */
	EV(&t, 14, U(1), U(8), U(1));       /* GoStart @101 */
	EV(&t, 20, U(1), U(0));             /* GoBlock @102 */
	EV(&t, 21, U(100), U(8), U(2), U(0)); /* GoUnblock @202 */
	batch(&t, 1, 150);
	EV(&t, 14, U(0), U(8), U(3));       /* GoStart @150, needs the unblock */
	freq(&t, 1000000000);
	cr_assert_eq(run(&t, &k, &st), -GS_E_FORMAT);
	cr_assert(strstr(last_msg, "time stamps out of order"), "%s", last_msg);
}

Test(gotrace_v1, wire_errors)
{
	struct rt_gotrace_stats st;
	struct keep k;
	struct tb t;

	hdr(&t, "go 1.19 trace");
	batch(&t, 0, 100);
	raw_byte(&t, 63);
	cr_assert_eq(run(&t, &k, &st), -GS_E_FORMAT);
	cr_assert(strstr(last_msg, "synth: offset 19: unknown event type 63"), "%s", last_msg);

	hdr(&t, "go 1.11 trace"); /* CPUSample is 1.19+ */
	batch(&t, 0, 100);
	EV(&t, 49, U(1), U(120), U(0), U(3), U(0));
	cr_assert_eq(run(&t, &k, &st), -GS_E_FORMAT);
	cr_assert(strstr(last_msg, "unknown event type 49"), "%s", last_msg);

	hdr(&t, "go 1.19 trace");
	raw_byte(&t, 37);
	put(&t, 1);
	put(&t, 18446744073709551602ull);
	cr_assert_eq(run(&t, &k, &st), -GS_E_FORMAT);
	cr_assert(strstr(last_msg, "string length 18446744073709551602 over limit"), "%s",
		  last_msg);

	hdr(&t, "go 1.19 trace");
	string(&t, 1, "a");
	string(&t, 1, "b");
	cr_assert_eq(run(&t, &k, &st), -GS_E_FORMAT);
	cr_assert(strstr(last_msg, "duplicate id 1"), "%s", last_msg);

	hdr(&t, "go 1.19 trace");
	batch(&t, 0, 100);
	EV(&t, 33, U(1));                   /* HeapAlloc without its argument */
	freq(&t, 1);
	cr_assert_eq(run(&t, &k, &st), -GS_E_FORMAT);
	cr_assert(strstr(last_msg, "HeapAlloc has wrong number of arguments: want 2, got 1"), "%s",
		  last_msg);

	hdr(&t, "go 1.19 trace");
	batch(&t, 0, 100);
	EV(&t, 33, U(1), U(1));
	cr_assert_eq(run(&t, &k, &st), -GS_E_FORMAT);
	cr_assert(strstr(last_msg, "no EvFrequency event"), "%s", last_msg);

	hdr(&t, "go 1.19 trace");
	batch(&t, 0, 100);
	EV(&t, 33, U(1), U(1));
	EV(&t, 3, U(5), U(1001));           /* a stack of 1001 frames */
	cr_assert_eq(run(&t, &k, &st), -GS_E_FORMAT);
	cr_assert(strstr(last_msg, "bad number of frames: 1001"), "%s", last_msg);

	hdr(&t, "go 1.19 trace");
	batch(&t, 0, 100);
	raw_byte(&t, 0xc0 | 13);            /* GoCreate, length 200: past the end */
	put(&t, 200);
	cr_assert_eq(run(&t, &k, &st), -GS_E_FORMAT);
	cr_assert(strstr(last_msg, "beyond the end"), "%s", last_msg);

	hdr(&t, "go 1.19 trace");
	batch(&t, 0, 100);
	EV(&t, 9, U(1), U(2));              /* STW kind 2: 1.21 only */
	freq(&t, 1);
	cr_assert_eq(run(&t, &k, &st), -GS_E_FORMAT);
	cr_assert(strstr(last_msg, "unknown STW kind 2"), "%s", last_msg);
}

Test(gotrace_v1, strings_labels_logs_and_stw)
{
	struct rt_gotrace_stats st;
	struct keep k;
	struct tb t;

	hdr(&t, "go 1.21 trace");
	batch(&t, 0, 100);
	EV(&t, 13, U(0), U(8), U(0), U(0));        /* GoCreate g8 */
	string(&t, 3, "GC (dedicated)");
	EV(&t, 41, U(1), U(8), U(1), U(3));        /* GoStartLabel g8 */
	string(&t, 4, "task");
	EV(&t, 45, U(1), U(7), U(0), U(4), U(0));  /* UserTaskCreate 7 "task" */
	EV(&t, 47, U(1), U(7), U(0), U(4), U(0));  /* UserRegion start */
	EV(&t, 48, U(1), U(7), U(4), U(0));        /* UserLog key "task" ... */
	put(&t, 5);
	memcpy(t.b + t.n, "hello", 5);              /* ... value "hello" */
	t.n += 5;
	EV(&t, 9, U(1), U(9));                     /* STW GOMAXPROCS */
	EV(&t, 10, U(1));
	EV(&t, 7, U(1), U(0), U(0));               /* GCStart seq 0 */
	EV(&t, 8, U(1));
	freq(&t, 1000000000);
	cr_assert_eq(run(&t, &k, &st), 0, "%s %s", last_msg, k.r.err);
	cr_assert_eq(k.n, 9);
	cr_assert_str_eq(k.str[1], "GC (dedicated)");
	cr_assert_eq(k.ev[2].kind, K(TASK_BEGIN));
	cr_assert_str_eq(k.str[2], "task");
	cr_assert_eq(k.ev[2].arg, 7);
	cr_assert_eq(k.ev[2].g, 8);
	cr_assert_eq(k.ev[3].kind, K(REGION_BEGIN));
	cr_assert_eq(k.ev[4].kind, K(LOG));
	cr_assert_eq(k.ev[4].str2_len, 5);
	cr_assert_eq(memcmp(k.ev[4].str2, "hello", 5), 0, "borrowed from the input");
	cr_assert_eq(k.ev[5].kind, K(STW_BEGIN));
	cr_assert_str_eq(k.str[5], "GOMAXPROCS");
	cr_assert_eq(k.ev[7].kind, K(GC_BEGIN));
	cr_assert_eq(k.ev[8].kind, K(GC_END));
}

/* GCStart sequence numbers order GC starts across Ps. */
Test(gotrace_v1, gc_sequence)
{
	struct rt_gotrace_stats st;
	struct keep k;
	struct tb t;

	hdr(&t, "go 1.19 trace");
	batch(&t, 1, 100);
	EV(&t, 7, U(0), U(1), U(0));  /* GCStart seq 1 @100: after seq 0 */
	EV(&t, 8, U(5));
	batch(&t, 0, 100);
	EV(&t, 7, U(1), U(0), U(0));  /* GCStart seq 0 @101 */
	EV(&t, 8, U(1));
	freq(&t, 1000000000);
	/* seq 1 can only follow seq 0, which is later in time */
	cr_assert_eq(run(&t, &k, &st), -GS_E_FORMAT);
	cr_assert(strstr(last_msg, "time stamps out of order"), "%s", last_msg);
}

/* Returning an error from the sink stops decoding with that error. */
Test(gotrace_v1, sink_error_aborts)
{
	struct rt_gotrace_stats st;
	struct tb t;
	struct rec r = { 0 };
	struct rt_go_sink s = sink_for(&r);

	hdr(&t, "go 1.19 trace");
	batch(&t, 0, 100);
	EV(&t, 33, U(0), U(1));
	EV(&t, 13, U(0), U(8), U(0), U(0));
	EV(&t, 15, U(1));                      /* GoEnd of g 0 */
	freq(&t, 1);
	cr_assert_eq(rt_gotrace__decode(t.b, t.n, "synth", &s, &st), -GS_E_FORMAT);
	cr_assert(strstr(last_msg, "g 0 is not running while GoEnd"), "%s", last_msg);
	rec_free(&r);

	memset(&r, 0, sizeof(r));
	r.gens = 5; /* makes on_generation fail */
	cr_assert_eq(rt_gotrace__decode(t.b, t.n, "synth", &s, &st), SINK_FAIL);
	rec_free(&r);
}

/*
 * Fuzzer find: order1007 and Go's postProcessTrace have one "waiting"
 * state, so Go accepts a GoUnblock of a goroutine blocked in a syscall (and
 * a GoSysExit after a GoBlock).  The delivered from-state is the real one.
 */
Test(gotrace_v1, unblock_of_syscall_blocked_goroutine)
{
	struct rt_gotrace_stats st;
	struct keep k;
	struct tb t;

	hdr(&t, "go 1.19 trace");
	batch(&t, 0, 100);
	EV(&t, 13, U(0), U(8), U(0), U(0));     /* GoCreate g8 */
	EV(&t, 14, U(1), U(8), U(1));           /* GoStart g8 seq 1 */
	EV(&t, 30, U(1));                       /* GoSysBlock */
	EV(&t, 21, U(1), U(8), U(2), U(0));     /* GoUnblock g8 seq 2 */
	EV(&t, 14, U(1), U(8), U(3));           /* GoStart g8 seq 3 */
	EV(&t, 20, U(1), U(0));                 /* GoBlock */
	EV(&t, 29, U(1), U(8), U(4), U(0));     /* GoSysExit g8 seq 4, no real ts */
	freq(&t, 1000000000);
	cr_assert_eq(run(&t, &k, &st), 0, "%s %s", last_msg, k.r.err);
	cr_assert_eq(k.n, 7);
	cr_assert_eq(k.ev[3].kind, K(UNBLOCK));
	cr_assert_eq(k.ev[3].from, ST(SYSCALL));
	cr_assert_eq(k.ev[6].kind, K(SYSCALL_END));
	cr_assert_eq(k.ev[6].from, ST(WAITING));
}

/* Every allocation failing in turn: -ENOMEM, nothing leaked (LSan). */
Test(gotrace_v1, allocation_failures)
{
	struct rt_gotrace_stats st, full;
	struct rec r0 = { .keep_going = true };
	uint8_t *b;
	size_t len;
	long n;

	NEED_CORPUS();
	b = slurp(CORPUS "/v1-public/fmt_1_21_pprof_good", &len);
	cr_assert_eq(decode(b, len, "fmt", &r0, &full), 0);
	rec_free(&r0);
	for (n = 1; n < 1000; n++) {
		struct rec r = { .keep_going = true };
		int rc;

		gs_mem__fail_at(n);
		rc = decode(b, len, "fmt", &r, &st);
		gs_mem__fail_at(0);
		rec_free(&r);
		if (!rc)
			break;
		cr_assert_eq(rc, -ENOMEM, "allocation %ld: %d (%s)", n, rc, last_msg);
	}
	cr_assert_lt(n, 1000);
	cr_assert_gt(n, 5, "only %ld allocations", n);
	cr_assert_eq(st.events, full.events);
	free(b);
}

/*
 * Thousands of Ps whose heads wait for a goroutine that moves on and on
 * but never reaches what they need: a transition must wake only the heads
 * it makes ready (re-examining every waiter each time is quadratic: this
 * input took 23 CPU-seconds at 730 KB that way).
 */
Test(gotrace_v1, many_waiting_ps_stay_linear, .timeout = 10)
{
	enum { PS = 20000, ROUNDS = 50000 };
	struct rt_gotrace_stats st;
	struct rec r = { .keep_going = true };
	struct rt_go_sink s = sink_for(&r);
	size_t cap = 16 + 16 * PS + 8 * ROUNDS + 64, n;
	uint8_t *b = malloc(cap);
	struct tb *t = malloc(sizeof(*t));
	int rc;

	cr_assert(b && t);
	hdr(t, "go 1.19 trace");
	batch(t, 0, 100);
	EV(t, 13, U(0), U(1), U(0), U(0));     /* GoCreate g1 */
	EV(t, 14, U(1), U(1), U(1));           /* GoStart g1 seq 1 */
	memcpy(b, t->b, t->n);
	n = t->n;
	for (int i = 0; i < ROUNDS; i++) {
		t->n = 0;
		EV(t, 17, U(1), U(0));             /* GoSched */
		EV(t, 38, U(1), U(1));             /* GoStartLocal g1 */
		memcpy(b + n, t->b, t->n);
		n += t->n;
	}
	for (int p = 1; p <= PS; p++) {
		t->n = 0;
		batch(t, (uint64_t)p, 50);
		EV(t, 14, U(0), U(1), U(1000000000)); /* GoStart g1: never */
		memcpy(b + n, t->b, t->n);
		n += t->n;
	}
	t->n = 0;
	freq(t, 1000000000);
	memcpy(b + n, t->b, t->n);
	n += t->n;
	cr_assert_leq(n, cap);
	rc = rt_gotrace__decode(b, n, "waiters", &s, &st);
	cr_assert_eq(rc, -GS_E_FORMAT);
	cr_assert(strstr(last_msg, "no consistent ordering"), "%s", last_msg);
	cr_assert_eq(st.events, 2 + 2 * ROUNDS);
	rec_free(&r);
	free(t);
	free(b);
}
