// SPDX-License-Identifier: BSD-2-Clause
/*
 * runtime/rt_pprof: the pprof reader against the `go tool trace -pprof=sched`
 * outputs of the shared corpus (exact facts from Go's own tools), against
 * hand-encoded profiles (packed and unpacked scalars, labels, mappings,
 * unsorted ids, unknown fields, every validation rule), and against
 * truncated, corrupted and oversized inputs and allocation failures.
 */
#include <errno.h>
#include <glob.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include <criterion/criterion.h>

#include "tests/unit/tutil.h"
#include "base/gs_err.h"
#include "base/gs_mem.h"
#include "runtime/rt_pprof.h"

#define CORPUS "../shared/corpus/gotrace/generated/"


static void setup(void)
{
	gs_log__set_fn(log_capture);
}

static void teardown(void)
{
	gs_log__set_fn(NULL);
}

TestSuite(pprof, .init = setup, .fini = teardown);

/* ------------------------------------------------------------ helpers */

/* The file's bytes, or NULL (and a printed reason) when it is missing. */
static uint8_t *corpus_file(const char *name, size_t *len)
{
	char path[512];

	snprintf(path, sizeof(path), CORPUS "%s", name);
	if (access(path, R_OK) != 0) {
		fprintf(stderr, "test_pprof: skipped %s: %s missing (run from the "
			"repository root, with the shared corpus beside it)\n",
			name, path);
		return NULL;
	}
	return slurp(path, len);
}

/* Inflate a gzip file with zlib, independently of the reader. */
static uint8_t *gunzip(const uint8_t *in, size_t len, size_t *out_len)
{
	size_t cap = 1 << 20;
	uint8_t *out = malloc(cap);
	z_stream zs;
	int zr;

	memset(&zs, 0, sizeof(zs));
	cr_assert_eq(inflateInit2(&zs, 16 + MAX_WBITS), Z_OK);
	zs.next_in = (Bytef *)in;
	zs.avail_in = (uInt)len;
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	zr = inflate(&zs, Z_FINISH);
	cr_assert_eq(zr, Z_STREAM_END, "gunzip: %d", zr);
	*out_len = zs.total_out;
	inflateEnd(&zs);
	return out;
}

/* gzip-compress with zlib (one member). */
static uint8_t *gzip(const uint8_t *in, size_t len, size_t *out_len)
{
	size_t cap = len + len / 2 + 1024;
	uint8_t *out = malloc(cap);
	z_stream zs;

	memset(&zs, 0, sizeof(zs));
	cr_assert_eq(deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8,
				  Z_DEFAULT_STRATEGY), Z_OK);
	zs.next_in = (Bytef *)in;
	zs.avail_in = (uInt)len;
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	cr_assert_eq(deflate(&zs, Z_FINISH), Z_STREAM_END);
	*out_len = zs.total_out;
	deflateEnd(&zs);
	return out;
}

static int64_t sum_values(const struct rt_pprof *p, size_t idx)
{
	int64_t s = 0;

	cr_assert_eq(rt_pprof__sum(p, idx, &s), 0);
	return s;
}

/* Distinct location-id sequences (pprof merges samples with equal stacks). */
static size_t distinct_stacks(const struct rt_pprof *p)
{
	size_t n = 0;

	for (size_t i = 0; i < p->nsamples; i++) {
		const struct rt_pprof_sample *a = &p->samples[i];
		bool seen = false;

		for (size_t j = 0; j < i && !seen; j++) {
			const struct rt_pprof_sample *b = &p->samples[j];

			seen = a->nlocations == b->nlocations &&
			       !memcmp(a->location_ids, b->location_ids,
				       a->nlocations * sizeof(*a->location_ids));
		}
		n += !seen;
	}
	return n;
}

/* ------------------------------------------------------------ corpus facts */

/*
 * Facts about the `go tool trace -pprof=sched` outputs of the shared corpus.
 * How they were obtained (Go 1.19.8, this machine):
 *   stacks, contentions, delay, locations:
 *     go tool pprof -raw FILE: the "Samples:" lines summed (count, ns) and
 *     counted, the "Locations" lines counted; the totals agree with the
 *     "of X total" line of `go tool pprof -top FILE` (e.g. 72.78s for
 *     go119-mixed_cpuprof, 59.62s for go121-mixed_cpuprof).
 *   samples, functions:
 *     pprof's own decoder (Go 1.19's vendored github.com/google/pprof/profile,
 *     copied out of cmd/vendor and run with profile.Parse): len(p.Sample),
 *     len(p.Function).  `pprof -raw` merges samples with the same stack, so
 *     its line count ("stacks") can be lower than the number of samples in
 *     the file (go121-mutex: 9 samples, two of them on stack [3 4]).
 * Every file: sample types contentions/count and delay/nanoseconds, period
 * type trace/count, period 1, no mappings, one line per location, no
 * time_nanos / duration_nanos / default_sample_type.
 */
static const struct corpus_fact {
	const char *file;
	size_t samples, stacks;
	int64_t contentions, delay_ns;
	size_t locations, functions;
} facts[] = {
	{ "go119-annot.sched.pprof", 4, 4, 13, 1287769, 7, 6 },
	{ "go119-gc.sched.pprof", 15, 15, 149, 151445438, 21, 14 },
	{ "go119-mixed_cpuprof.sched.pprof", 48, 48, 102223, 72779547810, 76, 52 },
	{ "go119-mutex.sched.pprof", 10, 10, 43891, 2162175060, 18, 10 },
	{ "go119-pingpong.sched.pprof", 10, 10, 80021, 419004380, 16, 10 },
	{ "go119-spawn.sched.pprof", 4, 4, 20022, 1050759794, 7, 6 },
	{ "go119-syscall.sched.pprof", 10, 10, 26, 50759328, 25, 19 },
	{ "go121-annot.sched.pprof", 4, 4, 13, 897842, 7, 6 },
	{ "go121-gc.sched.pprof", 17, 17, 139, 115036916, 24, 16 },
	{ "go121-mixed_cpuprof.sched.pprof", 51, 50, 101494, 59618879333, 92, 65 },
	{ "go121-mutex.sched.pprof", 9, 8, 3930, 83184407, 14, 9 },
	{ "go121-pingpong.sched.pprof", 10, 10, 80021, 124183752, 16, 10 },
	{ "go121-spawn.sched.pprof", 4, 4, 20022, 1383801733, 7, 6 },
	{ "go121-syscall.sched.pprof", 10, 10, 27, 24940121, 25, 19 },
};

static void check_invariants(const struct rt_pprof *p)
{
	for (size_t i = 0; i < p->nsamples; i++) {
		const struct rt_pprof_sample *s = &p->samples[i];

		for (uint32_t k = 0; k < s->nlocations; k++)
			REQ(rt_pprof__location(p, s->location_ids[k]),
			    "sample %zu: location %llu", i, (ull)s->location_ids[k]);
	}
	for (size_t i = 0; i < p->nlocations; i++) {
		const struct rt_pprof_location *l = &p->locations[i];

		REQ(i == 0 || p->locations[i - 1].id < l->id, "locations not sorted");
		REQ(rt_pprof__location(p, l->id) == l, "lookup of location %llu",
		    (ull)l->id);
		for (uint32_t k = 0; k < l->nlines; k++)
			REQ(rt_pprof__function(p, l->lines[k].function->id) ==
			    l->lines[k].function, "line function");
	}
	for (size_t i = 0; i < p->nfunctions; i++)
		REQ(rt_pprof__function(p, p->functions[i].id) == &p->functions[i],
		    "lookup of function %llu", (ull)p->functions[i].id);
}

Test(pprof, corpus_sched_profiles_exact)
{
	size_t done = 0;

	for (size_t i = 0; i < sizeof(facts) / sizeof(facts[0]); i++) {
		const struct corpus_fact *f = &facts[i];
		struct rt_pprof *p;
		uint8_t *buf;
		size_t len;
		int err;

		buf = corpus_file(f->file, &len);
		if (!buf)
			continue;
		err = rt_pprof__read(buf, len, f->file, &p);
		cr_assert_eq(err, 0, "%s: %s (%s)", f->file, gs_strerror(err), last_msg);
		cr_assert(p->gzipped);
		cr_assert_eq(p->nsample_types, 2, "%s", f->file);
		cr_assert_str_eq(p->sample_types[0].type, "contentions");
		cr_assert_str_eq(p->sample_types[0].unit, "count");
		cr_assert_str_eq(p->sample_types[1].type, "delay");
		cr_assert_str_eq(p->sample_types[1].unit, "nanoseconds");
		cr_assert_eq(rt_pprof__sample_type(p, "delay", "nanoseconds"), 1);
		cr_assert_eq(rt_pprof__sample_type(p, "delay", "seconds"), -1);
		cr_assert_str_eq(p->period_type.type, "trace");
		cr_assert_str_eq(p->period_type.unit, "count");
		cr_assert_eq(p->period, 1);
		cr_assert_eq(p->time_nanos, 0);
		cr_assert_eq(p->duration_nanos, 0);
		cr_assert_str_eq(p->default_sample_type, "");
		cr_assert_eq(p->nmappings, 0);
		cr_assert_eq(p->nsamples, f->samples, "%s: %zu samples", f->file,
			     p->nsamples);
		cr_assert_eq(distinct_stacks(p), f->stacks, "%s", f->file);
		cr_assert_eq(sum_values(p, 0), f->contentions, "%s: %lld contentions",
			     f->file, (long long)sum_values(p, 0));
		cr_assert_eq(sum_values(p, 1), f->delay_ns, "%s: %lld ns", f->file,
			     (long long)sum_values(p, 1));
		cr_assert_eq(p->nlocations, f->locations, "%s", f->file);
		cr_assert_eq(p->nfunctions, f->functions, "%s", f->file);
		for (size_t k = 0; k < p->nlocations; k++)
			REQ(p->locations[k].nlines == 1, "%s: location %zu", f->file, k);
		check_invariants(p);
		rt_pprof__free(p);
		free(buf);
		done++;
	}
	if (!done)
		cr_skip_test("no corpus file found under " CORPUS);
}

/* Every *.sched.pprof of the corpus decodes, and has its facts above. */
Test(pprof, corpus_every_sched_pprof)
{
	glob_t g;
	int rc = glob(CORPUS "*.sched.pprof", 0, NULL, &g);

	if (rc != 0) {
		fprintf(stderr, "test_pprof: skipped: no " CORPUS "*.sched.pprof\n");
		cr_skip_test("no corpus files");
	}
	for (size_t i = 0; i < g.gl_pathc; i++) {
		const char *base = strrchr(g.gl_pathv[i], '/') + 1;
		struct rt_pprof *p;
		bool known = false;
		int err;

		err = rt_pprof__read_file(g.gl_pathv[i], &p);
		cr_assert_eq(err, 0, "%s: %s (%s)", base, gs_strerror(err), last_msg);
		check_invariants(p);
		for (size_t k = 0; k < sizeof(facts) / sizeof(facts[0]); k++)
			known |= !strcmp(facts[k].file, base);
		cr_expect(known, "%s: no facts in the table (add them)", base);
		rt_pprof__free(p);
	}
	cr_assert_geq(g.gl_pathc, 14);
	globfree(&g);
}

/*
 * go119-mixed_cpuprof in detail.  Samples as printed by
 * `go tool pprof -raw go119-mixed_cpuprof.sched.pprof` (Go 1.19.8):
 *   "20000 66397543969: 63 2" with
 *   location 63: 0x4f1979 main.spawnStorm example.com/tracegen/main.go:81
 *   location  2: 0x4f17c7 main.main.func1 example.com/tracegen/main.go:63
 * and the first sample "4 26261918: 1 2", location 1: 0x4f2bd3
 * main.syscallHeavy example.com/tracegen/main.go:207.
 *
 * Note: shared/notes/go-trace-format.md §3.1 quotes a total of
 * 36 356 649 901 ns for this workload; the corpus file has 72 779 547 810 ns
 * (`go tool pprof -top`: "of 72.78s total"), and running Go 1.19.8's
 * `go tool trace -pprof=sched` on the corpus' go119-mixed_cpuprof.trace
 * gives the same 72.78s, so the note describes another run of the workload.
 */
Test(pprof, corpus_mixed_cpuprof_go119_detail)
{
	struct rt_pprof *p;
	const struct rt_pprof_location *l;
	const struct rt_pprof_sample *s;
	uint8_t *buf;
	size_t len, found = 0;

	buf = corpus_file("go119-mixed_cpuprof.sched.pprof", &len);
	if (!buf)
		cr_skip_test("corpus file missing");
	cr_assert_eq(rt_pprof__read(buf, len, "mixed", &p), 0, "%s", last_msg);
	cr_assert_eq(sum_values(p, 1), 72779547810LL);

	s = &p->samples[0];
	cr_assert_eq(s->values[0], 4);
	cr_assert_eq(s->values[1], 26261918);
	cr_assert_eq(s->nlocations, 2);
	cr_assert_eq(s->location_ids[0], 1);
	cr_assert_eq(s->location_ids[1], 2);
	l = rt_pprof__location(p, 1);
	cr_assert_eq(l->address, 0x4f2bd3);
	/* `pprof -raw` prints "M=1": a mapping pprof adds; the file has none */
	cr_assert_eq(l->mapping_id, 0);
	cr_assert_null(rt_pprof__mapping(p, 1));
	cr_assert_str_eq(l->lines[0].function->name, "main.syscallHeavy");
	cr_assert_str_eq(l->lines[0].function->filename, "example.com/tracegen/main.go");
	cr_assert_eq(l->lines[0].line, 207);

	for (size_t i = 0; i < p->nsamples; i++) {
		s = &p->samples[i];
		if (s->values[0] != 20000)
			continue;
		found++;
		cr_assert_eq(s->values[1], 66397543969LL);
		cr_assert_eq(s->nlocations, 2);
		cr_assert_eq(s->location_ids[0], 63);
		cr_assert_eq(s->location_ids[1], 2);
		l = rt_pprof__location(p, 63);
		cr_assert_eq(l->address, 0x4f1979);
		cr_assert_str_eq(l->lines[0].function->name, "main.spawnStorm");
		cr_assert_eq(l->lines[0].line, 81);
		l = rt_pprof__location(p, 2);
		cr_assert_eq(l->address, 0x4f17c7);
		cr_assert_str_eq(l->lines[0].function->name, "main.main.func1");
		cr_assert_eq(l->lines[0].line, 63);
		cr_assert_eq(l->lines[0].function->start_line, 0); /* Go 1.19 */
	}
	cr_assert_eq(found, 1);
	/* deepest stack: 9 frames ("28 29 30 ... 35" and "4 5 50 ... 56") */
	len = 0;
	for (size_t i = 0; i < p->nsamples; i++)
		if (p->samples[i].nlocations > len)
			len = p->samples[i].nlocations;
	cr_assert_eq(len, 9);
	cr_assert_null(rt_pprof__location(p, 0));
	cr_assert_null(rt_pprof__location(p, 77));
	cr_assert_null(rt_pprof__function(p, 53));
	rt_pprof__free(p);
	free(buf);
}

/* The raw (inflated) message decodes to the same profile as the gzip file. */
Test(pprof, corpus_raw_equals_gzip)
{
	struct rt_pprof *a, *b;
	uint8_t *gz, *raw;
	size_t gz_len, raw_len;

	gz = corpus_file("go121-mixed_cpuprof.sched.pprof", &gz_len);
	if (!gz)
		cr_skip_test("corpus file missing");
	raw = gunzip(gz, gz_len, &raw_len);
	cr_assert_eq(rt_pprof__read(gz, gz_len, "gz", &a), 0);
	cr_assert_eq(rt_pprof__read(raw, raw_len, "raw", &b), 0);
	cr_assert(!b->gzipped);
	cr_assert_eq(a->proto_size, raw_len);
	cr_assert_eq(b->proto_size, raw_len);
	cr_assert_eq(a->nsamples, b->nsamples);
	cr_assert_eq(a->nlocations, b->nlocations);
	cr_assert_eq(a->nfunctions, b->nfunctions);
	cr_assert_eq(a->nstrings, b->nstrings);
	for (size_t i = 0; i < a->nstrings; i++)
		REQ(!strcmp(a->strings[i], b->strings[i]), "string %zu", i);
	for (size_t i = 0; i < a->nsamples; i++) {
		const struct rt_pprof_sample *x = &a->samples[i], *y = &b->samples[i];

		REQ(x->nlocations == y->nlocations &&
		    !memcmp(x->location_ids, y->location_ids, x->nlocations * 8) &&
		    !memcmp(x->values, y->values, 2 * 8), "sample %zu", i);
	}
	for (size_t i = 0; i < a->nlocations; i++) {
		const struct rt_pprof_location *x = &a->locations[i], *y = &b->locations[i];

		REQ(x->id == y->id && x->address == y->address &&
		    x->nlines == y->nlines && x->lines[0].line == y->lines[0].line &&
		    !strcmp(x->lines[0].function->name, y->lines[0].function->name),
		    "location %zu", i);
	}
	/* cmd/trace writes no Function.start_line, even in 1.21 (pprof agrees) */
	for (size_t i = 0; i < a->nfunctions; i++)
		REQ(a->functions[i].start_line == 0, "function %zu", i);
	rt_pprof__free(a);
	rt_pprof__free(b);
	free(gz);
	free(raw);
}

/* ------------------------------------------------------------ damaged corpus files */

/* Every proper prefix of a gzip profile fails cleanly (the trailer is missing). */
Test(pprof, truncated_gzip_rejected)
{
	struct rt_pprof *p;
	uint8_t *buf;
	size_t len, n_trunc = 0;

	buf = corpus_file("go119-mixed_cpuprof.sched.pprof", &len);
	if (!buf)
		cr_skip_test("corpus file missing");
	for (size_t cut = 0; cut < len; cut++) {
		uint8_t *copy = malloc(cut ? cut : 1); /* exact size, for ASan */
		int err;

		memcpy(copy, buf, cut);
		p = (struct rt_pprof *)1;
		err = rt_pprof__read(copy, cut, "cut", &p);
		REQ(err < 0, "prefix of %zu bytes accepted", cut);
		REQ(p == NULL, "prefix %zu: *out not cleared", cut);
		REQ(gs_err_is_input(err), "prefix %zu: %s", cut, gs_strerror(err));
		n_trunc += err == -GS_E_TRUNCATED;
		free(copy);
	}
	/* from the 2-byte magic on, all are "truncated" */
	cr_assert_eq(n_trunc, len - 2, "%zu truncated of %zu", n_trunc, len);
	cr_assert_str_eq(last_msg, "cut: gzip stream ends early at offset 2487");
	free(buf);
}

/* Top-level field boundaries of a protobuf message (independent walker). */
static size_t field_ends(const uint8_t *p, size_t len, size_t *ends, size_t max)
{
	size_t off = 0, n = 0;

	while (off < len && n < max) {
		uint64_t tag = 0, v = 0;
		int sh = 0;

		do {
			tag |= (uint64_t)(p[off] & 0x7f) << sh;
			sh += 7;
		} while (p[off++] & 0x80);
		if ((tag & 7) == 0) {
			while (p[off++] & 0x80)
				;
		} else if ((tag & 7) == 2) {
			sh = 0;
			do {
				v |= (uint64_t)(p[off] & 0x7f) << sh;
				sh += 7;
			} while (p[off++] & 0x80);
			off += v;
		} else {
			cr_assert_fail("unexpected wire type");
		}
		ends[n++] = off;
	}
	return n;
}

/*
 * Every prefix of the raw message: decodes only when it ends on a top-level
 * field boundary, otherwise fails with "truncated" or (for a prefix whose
 * cut-off field leaves ids dangling) "format"; never crashes.
 */
Test(pprof, truncated_raw_rejected)
{
	static size_t ends[4096];
	struct rt_pprof *p;
	uint8_t *gz, *raw;
	size_t gz_len, raw_len, nends, nok = 0;

	gz = corpus_file("go119-syscall.sched.pprof", &gz_len);
	if (!gz)
		cr_skip_test("corpus file missing");
	raw = gunzip(gz, gz_len, &raw_len);
	nends = field_ends(raw, raw_len, ends, 4096);
	cr_assert_eq(ends[nends - 1], raw_len);
	for (size_t cut = 0; cut < raw_len; cut++) {
		uint8_t *copy = malloc(cut ? cut : 1);
		bool boundary = cut == 0;
		int err;

		memcpy(copy, raw, cut);
		for (size_t k = 0; k < nends; k++)
			boundary |= ends[k] == cut;
		err = rt_pprof__read(copy, cut, "raw", &p);
		if (!boundary)
			REQ(err == -GS_E_TRUNCATED, "cut %zu inside a field: %s", cut,
			    gs_strerror(err));
		else
			REQ(err == 0 || err == -GS_E_FORMAT, "cut %zu: %s", cut,
			    gs_strerror(err));
		if (!err) {
			nok++;
			rt_pprof__free(p);
		}
		free(copy);
	}
	/*
	 * cmd/trace's encoder writes sample types, samples, locations,
	 * functions, the string table, then period_type (11), period (12) and
	 * default_sample_type (14, explicitly 0): only the 4 cuts after the
	 * last string (before 11, 12, 14, and the whole) decode; an earlier
	 * cut leaves a string index or an id dangling.
	 */
	cr_assert_eq(nok, 4, "%zu prefixes decoded", nok);
	free(gz);
	free(raw);
}

/* Each byte of the file replaced by each of a few values: no crash. */
Test(pprof, corrupt_bytes_no_crash)
{
	static const uint8_t subst[] = { 0x00, 0x01, 0x7f, 0x80, 0xff };
	struct rt_pprof *p;
	uint8_t *gz, *raw;
	size_t gz_len, raw_len, nerr = 0, nruns = 0;

	gz = corpus_file("go119-annot.sched.pprof", &gz_len);
	if (!gz)
		cr_skip_test("corpus file missing");
	raw = gunzip(gz, gz_len, &raw_len);
	for (int which = 0; which < 2; which++) {
		uint8_t *src = which ? raw : gz;
		size_t len = which ? raw_len : gz_len;

		for (size_t i = 0; i < len; i++) {
			for (size_t k = 0; k < sizeof(subst); k++) {
				uint8_t *copy = malloc(len);
				int err;

				memcpy(copy, src, len);
				if (copy[i] == subst[k]) {
					free(copy);
					continue;
				}
				copy[i] = subst[k];
				err = rt_pprof__read(copy, len, "corrupt", &p);
				nruns++;
				if (err) {
					nerr++;
					REQ(p == NULL && gs_err_is_input(err),
					    "byte %zu = %#x: %s", i, subst[k],
					    gs_strerror(err));
				} else {
					check_invariants(p);
					rt_pprof__free(p);
				}
				free(copy);
			}
		}
	}
	cr_assert_gt(nerr, nruns / 2, "%zu of %zu rejected", nerr, nruns);
	free(gz);
	free(raw);
}

/* A gzip member corrupted in its deflate data or CRC is "decompression failed". */
Test(pprof, corrupt_gzip_crc)
{
	struct rt_pprof *p;
	uint8_t *gz;
	size_t len;
	int err;

	gz = corpus_file("go119-spawn.sched.pprof", &len);
	if (!gz)
		cr_skip_test("corpus file missing");
	gz[len - 6] ^= 0x01; /* CRC32 of the trailer */
	err = rt_pprof__read(gz, len, "crc", &p);
	cr_assert_eq(err, -GS_E_COMPRESS, "%s", gs_strerror(err));
	cr_assert(strstr(last_msg, "crc: offset ") == last_msg, "%s", last_msg);
	cr_assert(strstr(last_msg, "incorrect data check"), "%s", last_msg);
	free(gz);
}

/* ------------------------------------------------------------ hand-encoded profiles */

struct pb {
	uint8_t b[4096];
	size_t n;
};

static void pb_raw(struct pb *m, const void *p, size_t n)
{
	cr_assert_leq(m->n + n, sizeof(m->b));
	memcpy(m->b + m->n, p, n);
	m->n += n;
}

static void pb_varint(struct pb *m, uint64_t v)
{
	uint8_t t[10];
	size_t n = 0;

	do {
		t[n++] = (uint8_t)((v & 0x7f) | (v >= 0x80 ? 0x80 : 0));
		v >>= 7;
	} while (v);
	pb_raw(m, t, n);
}

static void pb_tag(struct pb *m, uint32_t num, uint32_t wt)
{
	pb_varint(m, (uint64_t)num << 3 | wt);
}

static void pb_u(struct pb *m, uint32_t num, uint64_t v)
{
	pb_tag(m, num, 0);
	pb_varint(m, v);
}

static void pb_bytes(struct pb *m, uint32_t num, const void *p, size_t n)
{
	pb_tag(m, num, 2);
	pb_varint(m, n);
	pb_raw(m, p, n);
}

static void pb_str(struct pb *m, uint32_t num, const char *s)
{
	pb_bytes(m, num, s, strlen(s));
}

static void pb_msg(struct pb *m, uint32_t num, const struct pb *sub)
{
	pb_bytes(m, num, sub->b, sub->n);
}

/* repeated varint field, packed or one field per value */
static void pb_rep(struct pb *m, uint32_t num, const uint64_t *v, size_t n,
		   bool packed)
{
	struct pb t = { .n = 0 };

	if (!packed) {
		for (size_t i = 0; i < n; i++)
			pb_u(m, num, v[i]);
		return;
	}
	for (size_t i = 0; i < n; i++)
		pb_varint(&t, v[i]);
	pb_msg(m, num, &t);
}

enum defect {
	D_NONE,
	D_DUP_LOC,      /* two locations with id 3 */
	D_UNKNOWN_LOC,  /* a sample refers to location 99 */
	D_UNKNOWN_FN,   /* a line refers to function 99 */
	D_NVALUES,      /* a sample with 3 values for 2 types */
	D_STR_RANGE,    /* a function name index past the table */
	D_STR0,         /* string_table[0] == "x" */
	D_LOC_ID0,      /* a location with id 0 */
	D_FN_ID0,       /* a function with id 0 */
	D_DUP_FN,       /* two functions with id 10 */
	D_WIRE,         /* sample.value as fixed32 */
	D_GROUP,        /* a start-group field */
	D_LEN_PAST,     /* a location whose line length runs past the location */
	D_PACKED_CUT,   /* packed location ids ending inside a varint */
	D_NO_STRINGS,   /* no string table at all */
	D_DUP_MAP,      /* two mappings with id 1 */
};

static const char *const strtab[] = {
	"", "samples", "count", "cpu", "nanoseconds", "main.a", "main.b",
	"a.go", "/bin/x", "key", "val", "bytes", "comment one", "runtime\\..*",
};

/*
 * A CPU-like profile: sample types samples/count, cpu/nanoseconds;
 * functions 10 main.a (a.go, start 3) and 20 main.b; mapping 1 /bin/x;
 * locations 7 (0x401000: main.b:5 inlined into main.a:12) and 3 (0x402000:
 * main.a:30), written in that order (ids not ascending); samples
 * [7 3] = {2, 20000000} with labels key=val and bytes=64 bytes, and
 * [3] = {1, 10000000}; unknown fields sprinkled in.
 */
static void build(struct pb *out, bool packed, enum defect d)
{
	struct pb t, u;
	uint64_t v[4];

	out->n = 0;
	/* unknown top-level fields of every wire type come first */
	pb_u(out, 100, 7);
	pb_tag(out, 101, 1);
	pb_raw(out, "\1\2\3\4\5\6\7\10", 8);
	pb_tag(out, 102, 5);
	pb_raw(out, "\1\2\3\4", 4);
	pb_str(out, 15, "https://example.com/doc"); /* doc_url, newer upstream */
	if (d == D_GROUP)
		pb_tag(out, 103, 3);

	/* sample_type */
	t.n = 0; pb_u(&t, 1, 1); pb_u(&t, 2, 2); pb_msg(out, 1, &t);
	t.n = 0; pb_u(&t, 1, 3); pb_u(&t, 2, 4); pb_msg(out, 1, &t);

	/* sample 1 */
	t.n = 0;
	v[0] = 7; v[1] = d == D_UNKNOWN_LOC ? 99 : 3;
	if (d == D_PACKED_CUT) {
		pb_tag(&t, 1, 2);
		pb_varint(&t, 2);
		pb_raw(&t, "\x07\x83", 2);
	} else {
		pb_rep(&t, 1, v, 2, packed);
	}
	v[0] = 2; v[1] = 20000000; v[2] = 5;
	if (d == D_WIRE) {
		pb_tag(&t, 2, 5);
		pb_raw(&t, "\2\0\0\0", 4);
	} else {
		pb_rep(&t, 2, v, d == D_NVALUES ? 3 : 2, packed);
	}
	u.n = 0; pb_u(&u, 1, 9); pb_u(&u, 2, 10); pb_msg(&t, 3, &u);
	u.n = 0; pb_u(&u, 1, 11); pb_u(&u, 3, 64); pb_u(&u, 4, 11); pb_msg(&t, 3, &u);
	pb_u(&t, 42, 1); /* unknown */
	pb_msg(out, 2, &t);
	/* sample 2: one location, values split over a packed and a plain field */
	t.n = 0;
	v[0] = 3;
	pb_rep(&t, 1, v, 1, packed);
	v[0] = 1;
	pb_rep(&t, 2, v, 1, true);
	v[0] = 10000000;
	pb_rep(&t, 2, v, 1, false);
	pb_msg(out, 2, &t);

	/* mapping */
	t.n = 0;
	pb_u(&t, 1, 1); pb_u(&t, 2, 0x400000); pb_u(&t, 3, 0x500000);
	pb_u(&t, 4, 0x1000); pb_u(&t, 5, 8); pb_u(&t, 7, 1); pb_u(&t, 9, 1);
	pb_msg(out, 3, &t);
	if (d == D_DUP_MAP)
		pb_msg(out, 3, &t);

	/* location 7: two lines (inlined) */
	t.n = 0;
	pb_u(&t, 1, 7); pb_u(&t, 2, 1); pb_u(&t, 3, 0x401000);
	u.n = 0; pb_u(&u, 1, 20); pb_u(&u, 2, 5); pb_u(&u, 3, 9); pb_msg(&t, 4, &u);
	u.n = 0; pb_u(&u, 1, d == D_UNKNOWN_FN ? 99 : 10); pb_u(&u, 2, 12);
	if (d == D_LEN_PAST) {
		pb_tag(&t, 4, 2);
		pb_varint(&t, u.n + 5);
		pb_raw(&t, u.b, u.n);
	} else {
		pb_msg(&t, 4, &u);
	}
	pb_msg(out, 4, &t);
	/* location 3 */
	t.n = 0;
	pb_u(&t, 1, d == D_LOC_ID0 ? 0 : 3); pb_u(&t, 2, 1); pb_u(&t, 3, 0x402000);
	u.n = 0; pb_u(&u, 1, 10); pb_u(&u, 2, 30); pb_msg(&t, 4, &u);
	pb_u(&t, 5, 1);
	pb_msg(out, 4, &t);
	if (d == D_DUP_LOC)
		pb_msg(out, 4, &t);

	/* functions 20 and 10 (not ascending) */
	t.n = 0;
	pb_u(&t, 1, 20); pb_u(&t, 2, 6); pb_u(&t, 3, 6); pb_u(&t, 4, 7);
	pb_msg(out, 5, &t);
	t.n = 0;
	pb_u(&t, 1, d == D_FN_ID0 ? 0 : 10);
	pb_u(&t, 2, d == D_STR_RANGE ? 99 : 5); pb_u(&t, 4, 7); pb_u(&t, 5, 3);
	pb_msg(out, 5, &t);
	if (d == D_DUP_FN)
		pb_msg(out, 5, &t);

	if (d != D_NO_STRINGS) {
		for (size_t i = 0; i < sizeof(strtab) / sizeof(strtab[0]); i++)
			pb_str(out, 6, i == 0 && d == D_STR0 ? "x" : strtab[i]);
	}
	pb_u(out, 7, 13);
	pb_u(out, 9, 1700000000000000000ULL);
	pb_u(out, 10, 1000000000);
	t.n = 0; pb_u(&t, 1, 3); pb_u(&t, 2, 4); pb_msg(out, 11, &t);
	pb_u(out, 12, 10000000);
	v[0] = 12;
	v[1] = 1;
	pb_rep(out, 13, v, 2, packed);
	pb_u(out, 14, 3);
}

static void check_synthetic(const struct rt_pprof *p)
{
	const struct rt_pprof_sample *s;
	const struct rt_pprof_location *l;
	const struct rt_pprof_function *f;
	const struct rt_pprof_mapping *m;

	cr_assert_eq(p->nsample_types, 2);
	cr_assert_str_eq(p->sample_types[0].type, "samples");
	cr_assert_str_eq(p->sample_types[1].unit, "nanoseconds");
	cr_assert_eq(p->nsamples, 2);
	s = &p->samples[0];
	cr_assert_eq(s->nlocations, 2);
	cr_assert_eq(s->location_ids[0], 7);
	cr_assert_eq(s->location_ids[1], 3);
	cr_assert_eq(s->values[0], 2);
	cr_assert_eq(s->values[1], 20000000);
	cr_assert_eq(s->nlabels, 2);
	cr_assert_str_eq(s->labels[0].key, "key");
	cr_assert_str_eq(s->labels[0].str, "val");
	cr_assert_str_eq(s->labels[0].num_unit, "");
	cr_assert_str_eq(s->labels[1].key, "bytes");
	cr_assert_str_eq(s->labels[1].str, "");
	cr_assert_eq(s->labels[1].num, 64);
	cr_assert_str_eq(s->labels[1].num_unit, "bytes");
	s = &p->samples[1];
	cr_assert_eq(s->nlocations, 1);
	cr_assert_eq(s->location_ids[0], 3);
	cr_assert_eq(s->values[0], 1);
	cr_assert_eq(s->values[1], 10000000);
	cr_assert_eq(s->nlabels, 0);
	cr_assert_eq(sum_values(p, 1), 30000000);

	/* sorted by id; lookups by binary search (ids are not 1..n) */
	cr_assert_eq(p->nlocations, 2);
	cr_assert_eq(p->locations[0].id, 3);
	cr_assert_eq(p->locations[1].id, 7);
	l = rt_pprof__location(p, 7);
	cr_assert_eq(l, &p->locations[1]);
	cr_assert_eq(l->address, 0x401000);
	cr_assert_eq(l->mapping_id, 1);
	cr_assert_eq(l->nlines, 2);
	cr_assert_str_eq(l->lines[0].function->name, "main.b");
	cr_assert_eq(l->lines[0].line, 5);
	cr_assert_eq(l->lines[0].column, 9);
	cr_assert_str_eq(l->lines[1].function->name, "main.a");
	cr_assert_eq(l->lines[1].line, 12);
	cr_assert(!l->is_folded);
	l = rt_pprof__location(p, 3);
	cr_assert(l->is_folded);
	cr_assert_eq(l->lines[0].line, 30);
	cr_assert_null(rt_pprof__location(p, 1));
	cr_assert_null(rt_pprof__location(p, 5));
	cr_assert_null(rt_pprof__location(p, 8));

	cr_assert_eq(p->nfunctions, 2);
	f = rt_pprof__function(p, 10);
	cr_assert_eq(f, &p->functions[0]);
	cr_assert_str_eq(f->name, "main.a");
	cr_assert_str_eq(f->system_name, "");
	cr_assert_str_eq(f->filename, "a.go");
	cr_assert_eq(f->start_line, 3);
	f = rt_pprof__function(p, 20);
	cr_assert_str_eq(f->system_name, "main.b");
	cr_assert_null(rt_pprof__function(p, 15));

	cr_assert_eq(p->nmappings, 1);
	m = rt_pprof__mapping(p, 1);
	cr_assert_not_null(m);
	cr_assert_eq(m->memory_start, 0x400000);
	cr_assert_eq(m->memory_limit, 0x500000);
	cr_assert_eq(m->file_offset, 0x1000);
	cr_assert_str_eq(m->filename, "/bin/x");
	cr_assert_str_eq(m->build_id, "");
	cr_assert(m->has_functions && !m->has_filenames && m->has_line_numbers &&
		  !m->has_inline_frames);
	cr_assert_null(rt_pprof__mapping(p, 2));

	cr_assert_eq(p->nstrings, sizeof(strtab) / sizeof(strtab[0]));
	cr_assert_str_eq(p->drop_frames, "runtime\\..*");
	cr_assert_str_eq(p->keep_frames, "");
	cr_assert_eq(p->time_nanos, 1700000000000000000LL);
	cr_assert_eq(p->duration_nanos, 1000000000);
	cr_assert_str_eq(p->period_type.type, "cpu");
	cr_assert_str_eq(p->period_type.unit, "nanoseconds");
	cr_assert_eq(p->period, 10000000);
	cr_assert_eq(p->ncomments, 2);
	cr_assert_str_eq(p->comments[0], "comment one");
	cr_assert_str_eq(p->comments[1], "samples");
	cr_assert_str_eq(p->default_sample_type, "cpu");
	cr_assert_eq(rt_pprof__sample_type(p, "cpu", NULL), 1);
	cr_assert_eq(rt_pprof__sum(p, 2, &(int64_t){ 0 }), -EINVAL);
}

Test(pprof, synthetic_packed_unpacked_gzip)
{
	struct pb m;
	struct rt_pprof *p;
	uint8_t *gz;
	size_t gz_len;

	for (int packed = 0; packed < 2; packed++) {
		build(&m, packed, D_NONE);
		cr_assert_eq(rt_pprof__read(m.b, m.n, "syn", &p), 0, "%s", last_msg);
		cr_assert(!p->gzipped);
		cr_assert_eq(p->proto_size, m.n);
		check_synthetic(p);
		rt_pprof__free(p);

		gz = gzip(m.b, m.n, &gz_len);
		cr_assert_eq(rt_pprof__read(gz, gz_len, "syn.gz", &p), 0, "%s", last_msg);
		cr_assert(p->gzipped);
		check_synthetic(p);
		rt_pprof__free(p);
		free(gz);
	}
}

/* Two gzip members (as `cat a.gz b.gz`) inflate to their concatenation. */
Test(pprof, gzip_multi_member)
{
	struct pb m;
	struct rt_pprof *p;
	uint8_t *a, *b, *cat;
	size_t alen, blen, half;
	char want[128];

	build(&m, true, D_NONE);
	half = 37;
	a = gzip(m.b, half, &alen);
	b = gzip(m.b + half, m.n - half, &blen);
	cat = malloc(alen + blen + 3);
	memcpy(cat, a, alen);
	memcpy(cat + alen, b, blen);
	cr_assert_eq(rt_pprof__read(cat, alen + blen, "two", &p), 0, "%s", last_msg);
	check_synthetic(p);
	rt_pprof__free(p);

	/* garbage after the last member is rejected, as Go's gzip reader does */
	memcpy(cat + alen + blen, "xyz", 3);
	cr_assert_eq(rt_pprof__read(cat, alen + blen + 3, "two", &p), -GS_E_FORMAT);
	snprintf(want, sizeof(want), "two: offset %zu: data after the gzip stream",
		 alen + blen);
	cr_assert_str_eq(last_msg, want);
	free(a);
	free(b);
	free(cat);
}

static const struct {
	enum defect d;
	int err;
	const char *msg; /* expected substring of the logged error */
} defects[] = {
	{ D_DUP_LOC, -GS_E_FORMAT, "duplicate location id 3" },
	{ D_UNKNOWN_LOC, -GS_E_FORMAT, "sample 0 refers to unknown location id 99" },
	{ D_UNKNOWN_FN, -GS_E_FORMAT, "line refers to unknown function id 99" },
	{ D_NVALUES, -GS_E_FORMAT, "sample 0 has 3 values for 2 sample types" },
	{ D_STR_RANGE, -GS_E_FORMAT, "function name: string index 99 out of range (14 strings)" },
	{ D_STR0, -GS_E_FORMAT, "string_table[0] is not empty" },
	{ D_LOC_ID0, -GS_E_FORMAT, "location with reserved id 0" },
	{ D_FN_ID0, -GS_E_FORMAT, "function with reserved id 0" },
	{ D_DUP_FN, -GS_E_FORMAT, "duplicate function id 10" },
	{ D_WIRE, -GS_E_FORMAT, "sample value (field 2): wire type 5, want a varint or packed varints" },
	{ D_GROUP, -GS_E_FORMAT, "field 103: unsupported wire type 3" },
	{ D_LEN_PAST, -GS_E_FORMAT, "field 4: length" },
	{ D_PACKED_CUT, -GS_E_FORMAT, "packed values end inside a varint" },
	{ D_NO_STRINGS, -GS_E_FORMAT, "not a pprof profile (no string table)" },
	{ D_DUP_MAP, -GS_E_FORMAT, "duplicate mapping id 1" },
};

/* Each rule violation fails with its message, naming the input and offset. */
Test(pprof, synthetic_defects_rejected)
{
	for (size_t i = 0; i < sizeof(defects) / sizeof(defects[0]); i++) {
		for (int packed = 0; packed < 2; packed++) {
			struct rt_pprof *p = NULL;
			struct pb m;
			int err;

			build(&m, packed, defects[i].d);
			last_msg[0] = 0;
			err = rt_pprof__read(m.b, m.n, "bad.pprof", &p);
			cr_assert_eq(err, defects[i].err, "defect %d: %d (%s)",
				     defects[i].d, err, last_msg);
			cr_assert_null(p);
			cr_assert(strstr(last_msg, defects[i].msg), "defect %d: '%s'",
				  defects[i].d, last_msg);
			cr_assert(!strncmp(last_msg, "bad.pprof: ", 11), "%s", last_msg);
			if (defects[i].d != D_NO_STRINGS)
				cr_assert(!strncmp(last_msg, "bad.pprof: offset ", 18),
					  "%s", last_msg);
		}
	}
}

/* Offsets are exact: a wrong wire type on the first field is at offset 0. */
Test(pprof, error_offsets)
{
	static const uint8_t a[] = { 0x0d, 1, 2, 3, 4 };        /* 1:fixed32 */
	static const uint8_t b[] = { 0x30, 0x00, 0x12, 0x05 };   /* 6:varint, then 2:len 5 */
	static const uint8_t c[] = { 0x08, 0x80, 0x80 };         /* 1: varint cut */
	static const uint8_t d[] = { 0x08, 0xff, 0xff, 0xff, 0xff, 0xff,
				     0xff, 0xff, 0xff, 0xff, 0xff, 0x01 }; /* 11-byte varint */
	struct rt_pprof *p;
	uint8_t *gz;
	size_t gz_len;

	cr_assert_eq(rt_pprof__read(a, sizeof(a), "a", &p), -GS_E_FORMAT);
	cr_assert_str_eq(last_msg, "a: offset 0: sample_type (field 1): wire type 5, want 2");
	cr_assert_eq(rt_pprof__read(b, sizeof(b), "b", &p), -GS_E_FORMAT);
	cr_assert_str_eq(last_msg, "b: offset 0: string_table (field 6): wire type 0, want 2");
	cr_assert_eq(rt_pprof__read(b + 2, 2, "b", &p), -GS_E_TRUNCATED);
	cr_assert_str_eq(last_msg, "b: offset 0: field 2: length 5 runs past the end of input");
	cr_assert_eq(rt_pprof__read(c, sizeof(c), "c", &p), -GS_E_TRUNCATED);
	cr_assert_str_eq(last_msg, "c: offset 1: input ends inside a varint");
	cr_assert_eq(rt_pprof__read(d, sizeof(d), "d", &p), -GS_E_FORMAT);
	cr_assert_str_eq(last_msg, "d: offset 1: malformed varint");
	gz = gzip(a, sizeof(a), &gz_len);
	cr_assert_eq(rt_pprof__read(gz, gz_len, "a.gz", &p), -GS_E_FORMAT);
	cr_assert_str_eq(last_msg, "a.gz: offset 0 of the inflated profile: "
			 "sample_type (field 1): wire type 5, want 2");
	free(gz);
	cr_assert_eq(rt_pprof__read(NULL, 0, NULL, &p), -GS_E_FORMAT);
	cr_assert_str_eq(last_msg, "<memory>: empty profile");
}

/* The inflated size is bounded: exactly at the limit passes, one byte less fails. */
Test(pprof, inflate_limit)
{
	struct rt_pprof_opts o = { 0 };
	struct rt_pprof *p;
	struct pb m;
	uint8_t *zeros, *gz;
	size_t gz_len;

	build(&m, true, D_NONE);
	gz = gzip(m.b, m.n, &gz_len);
	o.max_inflated = m.n;
	cr_assert_eq(rt_pprof__read_opts(gz, gz_len, "lim", &o, &p), 0, "%s", last_msg);
	rt_pprof__free(p);
	o.max_inflated = m.n - 1;
	cr_assert_eq(rt_pprof__read_opts(gz, gz_len, "lim", &o, &p), -GS_E_LIMIT);
	cr_assert_null(p);
	free(gz);

	/* a "bomb": 64 MiB of zeros in a ~64 KiB gzip, with a 1 MiB limit */
	zeros = calloc(1, 64 << 20);
	gz = gzip(zeros, 64 << 20, &gz_len);
	cr_assert_lt(gz_len, 100000);
	o.max_inflated = 1 << 20;
	cr_assert_eq(rt_pprof__read_opts(gz, gz_len, "bomb", &o, &p), -GS_E_LIMIT);
	cr_assert_str_eq(last_msg, "bomb: gzip stream inflates to more than 1048576 bytes");
	free(gz);
	free(zeros);
}

/* Every allocation failure is reported as -ENOMEM and leaks nothing (ASan). */
Test(pprof, allocation_failures)
{
	struct rt_pprof *p;
	struct pb m;
	uint8_t *gz;
	size_t gz_len;
	int err = -ENOMEM;
	long n;

	build(&m, true, D_NONE);
	gz = gzip(m.b, m.n, &gz_len);
	for (n = 1; n < 1000 && err; n++) {
		gs_mem__fail_at(n);
		err = rt_pprof__read(gz, gz_len, "fail", &p);
		gs_mem__fail_at(0);
		REQ(err == 0 || err == -ENOMEM, "fail at %ld: %s", n, gs_strerror(err));
	}
	cr_assert_eq(err, 0);
	cr_assert_gt(n, 3);
	check_synthetic(p);
	rt_pprof__free(p);
	free(gz);
}

Test(pprof, read_file)
{
	struct rt_pprof *p = (struct rt_pprof *)1;
	char path[] = "/tmp/gscope-pprof-XXXXXX";
	struct pb m;
	int fd;

	cr_assert_eq(rt_pprof__read_file("/nonexistent/x.pprof", &p), -ENOENT);
	cr_assert_null(p);
	cr_assert_eq(rt_pprof__read_file("/tmp", &p), -GS_E_FORMAT);
	build(&m, false, D_NONE);
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, m.b, m.n), (ssize_t)m.n);
	close(fd);
	cr_assert_eq(rt_pprof__read_file(path, &p), 0, "%s", last_msg);
	cr_assert_str_eq(p->name, path);
	check_synthetic(p);
	rt_pprof__free(p);
	unlink(path);
	rt_pprof__free(NULL);
}
