// SPDX-License-Identifier: BSD-2-Clause
/*
 * Exactness of the scheduler-latency analysis against Go's own tools:
 *  - the generated Go 1.19/1.21 traces of the shared corpus have the output
 *    of `go tool trace -pprof=sched` beside them (*.sched.pprof): import
 *    the trace, analyse it, and compare the total and the delay and count
 *    of every stack with the profile, to the nanosecond;
 *  - the public v1 traces: the total and count computed by Go 1.19's parser
 *    (EVSTATS.txt, "pprof-counted").
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyze/an_go.h"
#include "base/gs_crc32c.h"
#include "base/gs_err.h"
#include "base/gs_intern.h"
#include "format/tf_writer.h"
#include "runtime/rt_goimport.h"
#include "runtime/rt_pprof.h"
#include "tests/unit/tutil.h"

#define CORPUS "../shared/corpus/gotrace"

static char tmpdir[64];

static void setup(void)
{
	tmpdir_make(tmpdir, sizeof(tmpdir), "gosched");
}

static void teardown(void)
{
	tmpdir_remove(tmpdir);
}

TestSuite(gosched, .init = setup, .fini = teardown);

static void need_corpus(void)
{
	if (access(CORPUS, R_OK)) {
		fprintf(stderr, "test_gosched: skipped: %s not found\n", CORPUS);
		cr_skip_test("corpus %s not found", CORPUS);
	}
}

/* Import trace into a .gst and analyse its sched section. */
static struct an_go *analyse(const char *trace)
{
	char out[256];
	struct tf_writer *w;
	struct an_go *a;

	snprintf(out, sizeof(out), "%s/t.gst", tmpdir);
	cr_assert_eq(tf_writer__open(out, NULL, NULL, &w), 0);
	cr_assert_eq(rt_goimport__file(trace, NULL, w, NULL), 0, "import %s", trace);
	cr_assert_eq(tf_writer__close(w), 0);
	cr_assert_eq(an_go__compute(out, AN_GO_SCHED, &a), 0);
	return a;
}

struct agg {
	uint64_t count, delay;
};

/* Add (count, delay) under the pc sequence key into table/aggs. */
static void add(struct gs_intern *t, struct agg **aggs, size_t *cap,
		const uint64_t *pcs, size_t n, uint64_t count, uint64_t delay)
{
	uint64_t id;
	bool added;
	void *p = *aggs;

	cr_assert_eq(gs_intern__get(t, pcs, n * sizeof(uint64_t), &id, &added), 0);
	cr_assert_eq(gs_grow(&p, cap, sizeof(struct agg), id, 1u << 24), 0);
	*aggs = p;
	if (added)
		(*aggs)[id - 1] = (struct agg){ 0, 0 };
	(*aggs)[id - 1].count += count;
	(*aggs)[id - 1].delay += delay;
}

static void compare_with_pprof(const char *trace, const char *prof)
{
	struct gs_intern ours = GS_INTERN_INIT, theirs = GS_INTERN_INIT;
	struct agg *oa = NULL, *ta = NULL;
	size_t ocap = 0, tcap = 0;
	struct rt_pprof *p;
	struct an_go *a = analyse(trace);
	int ci, di;
	int64_t total;
	uint64_t pcs[1024];

	cr_assert_eq(rt_pprof__read_file(prof, &p), 0, "%s", prof);
	ci = rt_pprof__sample_type(p, "contentions", "count");
	di = rt_pprof__sample_type(p, "delay", "nanoseconds");
	cr_assert(ci >= 0 && di >= 0, "%s: sample types", prof);
	cr_assert_eq(rt_pprof__sum(p, (size_t)di, &total), 0);
	cr_assert_eq(a->pprof_delay_ns, (uint64_t)total,
		     "%s: total delay %llu ns, go tool trace says %lld ns", trace,
		     (unsigned long long)a->pprof_delay_ns, (long long)total);

	for (size_t i = 0; i < p->nsamples; i++) {
		const struct rt_pprof_sample *s = &p->samples[i];
		size_t n = s->nlocations < 1024 ? s->nlocations : 1024;

		for (size_t k = 0; k < n; k++)
			pcs[k] = rt_pprof__location(p, s->location_ids[k])->address;
		add(&theirs, &ta, &tcap, pcs, n, (uint64_t)s->values[ci],
		    (uint64_t)s->values[di]);
	}
	for (size_t i = 0; i < a->nstacks; i++)
		if (a->stacks[i].count)
			add(&ours, &oa, &ocap, a->stacks[i].pcs, a->stacks[i].nframes,
			    a->stacks[i].count, a->stacks[i].delay_ns);
	cr_assert_eq(gs_intern__count(&ours), gs_intern__count(&theirs),
		     "%s: %zu stacks, go tool trace has %zu", trace,
		     gs_intern__count(&ours), gs_intern__count(&theirs));
	for (uint64_t id = 1; id <= gs_intern__count(&theirs); id++) {
		size_t len;
		const void *key = gs_intern__key(&theirs, id, &len);
		uint64_t oid = gs_intern__find(&ours, key, len);

		cr_assert_neq(oid, 0, "%s: a stack of the profile is missing", trace);
		cr_assert_eq(oa[oid - 1].delay, ta[id - 1].delay,
			     "%s: stack %llu: delay %llu ns, go tool trace %llu ns", trace,
			     (unsigned long long)id, (unsigned long long)oa[oid - 1].delay,
			     (unsigned long long)ta[id - 1].delay);
		cr_assert_eq(oa[oid - 1].count, ta[id - 1].count, "%s: stack count", trace);
	}
	gs_intern__release(&ours);
	gs_intern__release(&theirs);
	free(oa);
	free(ta);
	rt_pprof__free(p);
	an_go__free(a);
}

Test(gosched, generated_v1_traces_match_go_tool_trace)
{
	static const char *const versions[] = { "go119", "go121" };
	static const char *const loads[] = {
		"annot", "gc", "mixed_cpuprof", "mutex", "pingpong", "spawn", "syscall",
	};
	int checked = 0;

	need_corpus();
	for (size_t v = 0; v < 2; v++) {
		for (size_t l = 0; l < sizeof(loads) / sizeof(loads[0]); l++) {
			char trace[256], prof[256];

			snprintf(trace, sizeof(trace), CORPUS "/generated/%s-%s.trace",
				 versions[v], loads[l]);
			snprintf(prof, sizeof(prof), CORPUS "/generated/%s-%s.sched.pprof",
				 versions[v], loads[l]);
			if (access(trace, R_OK) || access(prof, R_OK))
				continue;
			compare_with_pprof(trace, prof);
			checked++;
		}
	}
	cr_assert_eq(checked, 14);
}

/* EVSTATS.txt: "name: size=..." then "  sched(...): ... pprof-counted (stack!=0) n=N total=Tns" */
Test(gosched, public_v1_traces_match_go_parser)
{
	FILE *f = fopen(CORPUS "/v1-public/EVSTATS.txt", "r");
	char line[512], name[128] = "";
	int checked = 0;

	need_corpus();
	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned long long n, total;
		const char *p;
		char path[256];
		struct an_go *a;

		if (line[0] != ' ' && strchr(line, ':')) {
			snprintf(name, sizeof(name), "%.*s", (int)strcspn(line, ":"), line);
			continue;
		}
		p = strstr(line, "pprof-counted (stack!=0) n=");
		if (!p || sscanf(p, "pprof-counted (stack!=0) n=%llu total=%lluns", &n, &total) != 2)
			continue;
		snprintf(path, sizeof(path), CORPUS "/v1-public/%s", name);
		a = analyse(path);
		cr_expect_eq(a->pprof_count, n, "%s: %llu counted wakeups, Go: %llu", name,
			     (unsigned long long)a->pprof_count, n);
		cr_expect_eq(a->pprof_delay_ns, total, "%s: %llu ns, Go: %llu ns", name,
			     (unsigned long long)a->pprof_delay_ns, total);
		an_go__free(a);
		checked++;
	}
	fclose(f);
	cr_assert_eq(checked, 18);
}

/*
 * The sched section alone reads each event into the state machine as it
 * is decoded (an_go.c's go_batch_sched()); with any other section too, the
 * events go through blocks.  Both must find the same latencies.
 */
static void same_hist(const struct an_hist *x, const struct an_hist *y, const char *what,
		      const char *trace)
{
	cr_assert_eq(x->count, y->count, "%s: %s count", trace, what);
	cr_assert_eq(x->sum, y->sum, "%s: %s sum", trace, what);
	cr_assert_eq(x->min, y->min, "%s: %s min", trace, what);
	cr_assert_eq(x->max, y->max, "%s: %s max", trace, what);
	cr_assert(!memcmp(x->b, y->b, sizeof(x->b)), "%s: %s buckets", trace, what);
}

static uint64_t sched_alone_agrees(const char *trace)
{
	char out[256];
	struct tf_writer *w;
	struct an_go *one, *all;
	uint64_t n;

	snprintf(out, sizeof(out), "%s/t.gst", tmpdir);
	cr_assert_eq(tf_writer__open(out, NULL, NULL, &w), 0);
	cr_assert_eq(rt_goimport__file(trace, NULL, w, NULL), 0, "import %s", trace);
	cr_assert_eq(tf_writer__close(w), 0);
	cr_assert_eq(an_go__compute(out, AN_GO_SCHED, &one), 0);
	cr_assert_eq(an_go__compute(out, AN_GO_SCHED | AN_GO_STATES, &all), 0);
	cr_assert_eq(one->events, all->events, "%s: events", trace);
	cr_assert_eq(one->goroutines, all->goroutines, "%s: goroutines", trace);
	cr_assert_eq(one->first_ts, all->first_ts, "%s: first_ts", trace);
	cr_assert_eq(one->last_ts, all->last_ts, "%s: last_ts", trace);
	same_hist(one->sched, all->sched, "sched", trace);
	for (int i = 0; i < AN_CAUSE_MAX; i++)
		same_hist(one->sched_cause[i], all->sched_cause[i], an_go_cause_name(i), trace);
	cr_assert_eq(one->pprof_count, all->pprof_count, "%s: pprof count", trace);
	cr_assert_eq(one->pprof_delay_ns, all->pprof_delay_ns, "%s: pprof delay", trace);
	cr_assert_eq(one->nstacks, all->nstacks, "%s: stacks", trace);
	for (size_t i = 0; i < one->nstacks; i++) {
		cr_assert_eq(one->stacks[i].count, all->stacks[i].count, "%s: stack %zu", trace, i);
		cr_assert_eq(one->stacks[i].delay_ns, all->stacks[i].delay_ns, "%s: stack %zu",
			     trace, i);
	}
	n = one->sched->count;
	an_go__free(one);
	an_go__free(all);
	return n;
}

Test(gosched, sched_alone_agrees_with_the_block_path)
{
	DIR *d;
	struct dirent *de;
	int traces = 0;
	uint64_t wakeups = 0;

	need_corpus();
	d = opendir(CORPUS "/generated");
	cr_assert_not_null(d);
	while ((de = readdir(d))) {
		char path[512];
		size_t l = strlen(de->d_name);

		if (l < 7 || strcmp(de->d_name + l - 6, ".trace"))
			continue;
		snprintf(path, sizeof(path), CORPUS "/generated/%s", de->d_name);
		wakeups += sched_alone_agrees(path);
		traces++;
	}
	closedir(d);
	cr_assert_geq(traces, 28, "%d generated traces (v1 and v2)", traces);
	cr_assert_gt(wakeups, 100000);
	cr_log_info("sched alone: %d traces, %llu wakeups", traces, (unsigned long long)wakeups);
}

/*
 * Damaged batches: a trace whose data chunks are stored uncompressed, one
 * byte of a chunk changed and its checksums made right again, so that the
 * damage reaches the batch decoders.  The sched section alone (its own
 * loop) and with another section (the block path) must both fail, or both
 * succeed with the same latencies; never crash (ASan runs catch reads past
 * a column).
 */
static uint64_t lcg(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return *s >> 33;
}

Test(gosched, damaged_batches_fail_alike_in_both_paths)
{
	struct tf_writer_opts wo = { .chunk_bytes = 16384, .batch_events = 256,
				     .compress = TF_COMPRESS_NONE };
	char gst[256], bad[256];
	size_t chunks[512], nchunks = 0, len, off = 16;
	int failed = 0, passed = 0;
	uint64_t seed = 7;
	struct tf_writer *w;
	uint8_t *buf;

	need_corpus();
	gs_log__set_fn(log_capture_errors);
	snprintf(gst, sizeof(gst), "%s/clean.gst", tmpdir);
	snprintf(bad, sizeof(bad), "%s/bad.gst", tmpdir);
	cr_assert_eq(tf_writer__open(gst, &wo, NULL, &w), 0);
	cr_assert_eq(rt_goimport__file(CORPUS "/generated/go119-pingpong.trace", NULL, w, NULL), 0);
	cr_assert_eq(tf_writer__close(w), 0);
	buf = slurp(gst, &len);
	while (off + TF_CHUNK_HDR_SIZE <= len && !memcmp(buf + off, "GSCK", 4)) {
		size_t stored = tf_get_le32(buf + off + 8);

		if (buf[off + 4] == TF_CHUNK_DATA && buf[off + 5] == TF_CODEC_NONE && nchunks < 512)
			chunks[nchunks++] = off;
		off += tf_pad8(TF_CHUNK_HDR_SIZE + stored);
	}
	cr_assert_geq(nchunks, 4, "%zu uncompressed data chunks", nchunks);
	for (int i = 0; i < 400; i++) {
		uint8_t *b = malloc(len), *h;
		size_t stored, at;
		struct an_go *one = NULL, *all = NULL;
		int rc1, rc2;
		FILE *f;

		cr_assert_not_null(b);
		memcpy(b, buf, len);
		h = b + chunks[lcg(&seed) % nchunks];
		stored = tf_get_le32(h + 8);
		at = TF_CHUNK_HDR_SIZE + lcg(&seed) % stored;
		h[at] ^= (uint8_t)(1 + lcg(&seed) % 255);
		tf_put_le32(h + 24, gs_crc32c(0, h + TF_CHUNK_HDR_SIZE, stored));
		tf_put_le32(h + 28, gs_crc32c(0, h, 28));
		f = fopen(bad, "wb");
		cr_assert_not_null(f);
		cr_assert_eq(fwrite(b, 1, len, f), len);
		fclose(f);
		free(b);
		rc1 = an_go__compute(bad, AN_GO_SCHED, &one);
		rc2 = an_go__compute(bad, AN_GO_SCHED | AN_GO_STATES, &all);
		cr_assert_eq(rc1 < 0, rc2 < 0, "damage %d: sched alone %d, with states %d", i, rc1,
			     rc2);
		if (rc1 < 0) {
			failed++;
			continue;
		}
		passed++;
		cr_assert_eq(one->events, all->events, "damage %d: events", i);
		same_hist(one->sched, all->sched, "sched", "damaged");
		cr_assert_eq(one->pprof_delay_ns, all->pprof_delay_ns, "damage %d", i);
		cr_assert_eq(one->nstacks, all->nstacks, "damage %d", i);
		an_go__free(one);
		an_go__free(all);
	}
	free(buf);
	cr_log_info("damaged batches: %d rejected by both paths, %d read alike", failed, passed);
	cr_assert_gt(failed, 20);
	cr_assert_gt(passed, 20);
}
