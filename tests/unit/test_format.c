// SPDX-License-Identifier: BSD-2-Clause
/*
 * .gst round trips through tf_writer and tf_reader with the synthetic
 * generator (tests/lib/synth.h): exact per-family counts and checksums,
 * stack resolution, the index, chunking, codecs, atomic files,
 * reproducibility, and rejection of files that are not traces.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "tests/unit/tutil.h"
#include "base/gs_err.h"
#include "format/tf_batch.h"
#include "format/tf_reader.h"
#include "format/tf_writer.h"
#include "tests/lib/synth.h"

/* ------------------------------------------------------------ fixtures */

static char tmpdir[64];

static void setup(void)
{
	tmpdir_make(tmpdir, sizeof(tmpdir), "format");
	gs_log__set_fn(log_capture);
}

static void teardown(void)
{
	tmpdir_remove(tmpdir);
	gs_log__set_fn(NULL);
}

static const char *tmp_path(const char *name)
{
	static char paths[8][128];
	static int next;
	char *p = paths[next++ % 8];

	snprintf(p, 128, "%s/%s", tmpdir, name);
	return p;
}

static void write_synth(const char *path, const struct tf_writer_opts *wo,
			const struct synth_opts *so, struct synth_counts *c)
{
	struct tf_writer *w = NULL;

	cr_assert_eq(tf_writer__open(path, wo, synth_header(), &w), 0, "%s", last_msg);
	cr_assert_eq(synth_write(w, so, c), 0, "%s", last_msg);
	cr_assert_eq(tf_writer__close(w), 0, "%s", last_msg);
}

/* ------------------------------------------------------------ reading */

struct chunk_seen {
	uint64_t offset;
	uint32_t seq, generation, raw_len, stored_len;
	uint64_t events;     /* hot events + metadata packets (as the index counts) */
	uint64_t min_ts, max_ts;
	uint32_t kinds;
};

struct scan {
	uint64_t sw, wk, cpu, go, al;
	uint64_t pkts[TF_PKT_MAX + 1];
	uint64_t sum_ts, sum_tid;
	uint64_t stacks_checked;
	uint64_t digest;            /* of every decoded value, in order */
	uint32_t max_gen;
	bool all_uncompressed, any_compressed;
	unsigned int codecs;  /* 1 << codec of every data chunk */
	struct chunk_seen *chunks;
	size_t n_chunks;
	int rc;
};

static void mix(uint64_t *h, uint64_t v)
{
	*h = (*h ^ v) * 0x100000001b3ull;
	*h ^= *h >> 29;
}

/* frames resolve to the generator's names: main.funcNNN, fileNN.go, ... */
static void check_stack(struct tf_reader *r, uint64_t id, struct scan *s)
{
	uint64_t fr[64];
	size_t n = tf_reader__stack(r, id, fr, 64);

	REQ(n >= 4 && n <= 27, "stack %llu has %zu frames", (ull)id, n);
	for (size_t j = 0; j < n; j++) {
		const struct tf_frame *f = tf_reader__frame(r, fr[j]);
		const char *name, *file;
		size_t len, flen;
		char want[32];
		int num;

		REQ(f != NULL, "stack %llu frame %zu (id %llu) unknown", (ull)id, j,
		    (ull)fr[j]);
		name = tf_reader__string(r, f->function_sid, &len);
		REQ(name && len == 12 && !memcmp(name, "main.func", 9) &&
		    name[9] >= '0' && name[9] <= '9' && name[10] >= '0' &&
		    name[10] <= '9' && name[11] >= '0' && name[11] <= '9',
		    "stack %llu frame %zu: function '%.*s'", (ull)id, j,
		    name ? (int)len : 4, name ? name : "NULL");
		num = (name[9] - '0') * 100 + (name[10] - '0') * 10 + (name[11] - '0');
		REQ(num < 500, "function %d", num);
		REQ(f->line == 10u + (uint32_t)num && f->rel_pc == 0x1000u + (uint64_t)num * 0x40 &&
		    f->kind == 3 && f->inlined_into == 0,
		    "frame of %.12s: line %u rel_pc %llx kind %u", name, f->line,
		    (ull)f->rel_pc, f->kind);
		file = tf_reader__string(r, f->file_sid, &flen);
		snprintf(want, sizeof(want), "/src/synth/file%02d.go", num % 40);
		REQ(file && flen == strlen(want) && !memcmp(file, want, flen),
		    "file of %.12s", name);
		/* root first in the generator: main.func000, then dispatchers 1..8 */
		if (j == n - 1)
			REQ(num == 0, "root is main.func%03d", num);
		else if (j >= n - 3)
			REQ(num >= 1 && num <= 8, "dispatcher is main.func%03d", num);
		if (j == 0) {
			const struct tf_mapping *m = tf_reader__mapping(r, f->mapping_id);
			const char *path;

			REQ(m && m->pid == 4242 && m->start == 0x400000 && m->end == 0x800000,
			    "mapping %llu", (ull)f->mapping_id);
			path = tf_reader__string(r, m->path_sid, &flen);
			REQ(path && flen == 14 && !memcmp(path, "/usr/bin/synth", 14),
			    "mapping path");
		}
	}
	s->stacks_checked++;
}

static struct chunk_seen *chunk_for(struct scan *s, const struct tf_packet *p)
{
	struct chunk_seen *c;

	if (s->n_chunks && s->chunks[s->n_chunks - 1].offset == p->chunk_offset)
		return &s->chunks[s->n_chunks - 1];
	s->chunks = realloc(s->chunks, (s->n_chunks + 1) * sizeof(*s->chunks));
	c = &s->chunks[s->n_chunks++];
	memset(c, 0, sizeof(*c));
	c->offset = p->chunk_offset;
	c->seq = p->chunk_seq;
	c->generation = p->generation;
	c->raw_len = p->chunk_raw_len;
	c->stored_len = p->chunk_stored_len;
	c->min_ts = UINT64_MAX;
	return c;
}

static void chunk_ts(struct chunk_seen *c, uint64_t ts)
{
	if (ts < c->min_ts)
		c->min_ts = ts;
	if (ts > c->max_ts)
		c->max_ts = ts;
}

/* Read every packet; stacks are checked while their generation is current. */
static void scan_reader(struct tf_reader *r, struct scan *s, bool stacks)
{
	struct tf_packet p;

	memset(s, 0, sizeof(*s));
	s->digest = 14695981039346656037ull;
	s->all_uncompressed = true;
	while ((s->rc = tf_reader__next(r, &p)) == 1) {
		struct chunk_seen *c = chunk_for(s, &p);
		const struct tf_batch *b = p.batch;

		s->pkts[p.kind < TF_PKT_MAX ? p.kind : TF_PKT_MAX]++;
		c->kinds |= 1u << p.field;
		if (p.generation > s->max_gen)
			s->max_gen = p.generation;
		if (p.chunk_raw_len != p.chunk_stored_len)
			s->all_uncompressed = false, s->any_compressed = true;
		s->codecs |= 1u << p.chunk_codec;
		mix(&s->digest, p.kind);
		mix(&s->digest, p.size);
		if (!b) {
			if (p.kind != TF_PKT_INTERN)
				c->events++;
			continue;
		}
		c->events += b->n[0] + b->n[1];
		mix(&s->digest, b->n[0]);
		mix(&s->digest, b->n[1]);
		mix(&s->digest, (uint64_t)b->key);
		for (unsigned int f = 1; f < TF_BATCH_MAX_FIELDS; f++) {
			int g = tf_batch_field_group(b->kind, f);

			if (g < 0)
				continue;
			for (size_t i = 0; i < b->n[g]; i++)
				mix(&s->digest, b->col[f][i]);
		}
		switch (b->kind) {
		case TF_PKT_SCHED:
			s->sw += b->n[0];
			s->wk += b->n[1];
			for (size_t i = 0; i < b->n[0]; i++) {
				s->sum_ts += b->col[TF_SW_TS][i];
				s->sum_tid += b->col[TF_SW_NEXT_TID][i];
				chunk_ts(c, b->col[TF_SW_TS][i]);
			}
			for (size_t i = 0; i < b->n[1]; i++) {
				s->sum_ts += b->col[TF_WK_TS][i];
				s->sum_tid += b->col[TF_WK_TID][i];
				chunk_ts(c, b->col[TF_WK_TS][i]);
			}
			break;
		case TF_PKT_CPU_SAMPLES:
			s->cpu += b->n[0];
			for (size_t i = 0; i < b->n[0]; i++) {
				s->sum_ts += b->col[TF_CPU_TS][i];
				s->sum_tid += b->col[TF_CPU_TID][i];
				chunk_ts(c, b->col[TF_CPU_TS][i]);
				REQ(b->col[TF_CPU_WEIGHT][i] == 10101010, "weight");
				if (stacks)
					check_stack(r, b->col[TF_CPU_STACK][i], s);
			}
			break;
		case TF_PKT_GO_EVENTS:
			s->go += b->n[0];
			for (size_t i = 0; i < b->n[0]; i++) {
				s->sum_ts += b->col[TF_GO_TS][i];
				s->sum_tid += b->col[TF_GO_GOID][i];
				chunk_ts(c, b->col[TF_GO_TS][i]);
				if (stacks)
					check_stack(r, b->col[TF_GO_STACK][i], s);
			}
			break;
		case TF_PKT_ALLOCS:
			s->al += b->n[0];
			for (size_t i = 0; i < b->n[0]; i++) {
				s->sum_ts += b->col[TF_AL_TS][i];
				s->sum_tid += b->col[TF_AL_GOID][i];
				chunk_ts(c, b->col[TF_AL_TS][i]);
				if (stacks)
					check_stack(r, b->col[TF_AL_STACK][i], s);
			}
			break;
		default:
			break;
		}
	}
}

static void scan_free(struct scan *s)
{
	free(s->chunks);
	s->chunks = NULL;
}

/* Everything a clean synth trace must satisfy, exactly. */
static void verify_clean(const char *path, const struct synth_counts *c,
			 const struct synth_opts *so, struct scan *s)
{
	struct tf_reader *r = NULL;
	const struct tf_losses *l;
	const Gscope__V1__TraceHeader *h;
	const Gscope__V1__TraceIndex *ix;
	unsigned int major, minor;

	cr_assert_eq(tf_reader__open(path, &r), 0, "%s", last_msg);
	tf_reader__version(r, &major, &minor);
	cr_assert_eq(major, 1);
	cr_assert_eq(minor, TF_FORMAT_MINOR);
	h = tf_reader__header(r);
	cr_assert_not_null(h);
	cr_assert_str_eq(h->tool_name, "gscope");
	cr_assert_str_eq(h->tool_version, "synth");
	cr_assert(h->has_format_major && h->format_major == 1);
	cr_assert(h->has_start_ts && h->start_ts == c->first_ts);
	cr_assert_not_null(h->host);
	cr_assert_str_eq(h->host->hostname, "synth-host");
	cr_assert_eq(h->host->num_cpus, 8);
	cr_assert_null(tf_reader__index(r), "the index is at the end");

	scan_reader(r, s, true);
	cr_assert_eq(s->rc, 0, "tf_reader__next: %d (%s)", s->rc, last_msg);
	cr_assert_eq(s->sw, c->sched_switch);
	cr_assert_eq(s->wk, c->sched_wakeup);
	cr_assert_eq(s->cpu, c->cpu_samples);
	cr_assert_eq(s->go, c->go_events);
	cr_assert_eq(s->al, c->allocs);
	cr_assert_eq(s->sw + s->wk + s->cpu + s->go + s->al, so->events);
	cr_assert_eq(s->sum_ts, c->sum_ts, "sum_ts %llu want %llu", (ull)s->sum_ts,
		     (ull)c->sum_ts);
	cr_assert_eq(s->sum_tid, c->sum_tid, "sum_tid %llu want %llu",
		     (ull)s->sum_tid, (ull)c->sum_tid);
	cr_assert_eq(s->stacks_checked, c->cpu_samples + c->go_events + c->allocs);
	if (so->meta) {
		cr_assert_eq(s->pkts[TF_PKT_PROCESS], 1);
		cr_assert_eq(s->pkts[TF_PKT_THREAD], 16);
		cr_assert_eq(s->pkts[TF_PKT_GC_CYCLE], 1);
		cr_assert_eq(s->pkts[TF_PKT_LOSS], 1);
		cr_assert_eq(c->meta_packets, 19);
	} else {
		cr_assert_eq(s->pkts[TF_PKT_PROCESS] + s->pkts[TF_PKT_THREAD], 0);
	}
	cr_assert_eq(s->pkts[TF_PKT_NONE] + s->pkts[TF_PKT_MAX], 0);
	cr_assert_eq(s->max_gen, so->gen_every ? (so->events - 1) / so->gen_every : 0);

	l = tf_reader__losses(r);
	cr_assert_eq(l->chunks_skipped, 0);
	cr_assert_eq(l->bytes_skipped, 0);
	cr_assert_not(l->truncated);
	cr_assert_eq(l->truncated_bytes, 0);
	cr_assert_eq(l->intern_dropped, 0);
	cr_assert(l->clean_close);

	ix = tf_reader__index(r);
	cr_assert_not_null(ix);
	cr_assert(ix->has_clean_shutdown && ix->clean_shutdown);
	cr_assert_eq(ix->n_chunks, l->chunks_read - 2, "index %zu, chunks read %llu",
		     ix->n_chunks, (ull)l->chunks_read);
	cr_assert_eq(ix->n_chunks, s->n_chunks, "every data chunk has packets");
	for (size_t i = 0; i < ix->n_chunks; i++) {
		const Gscope__V1__ChunkIndexEntry *e = ix->chunks[i];
		const struct chunk_seen *cs = &s->chunks[i];

		REQ(e->offset == cs->offset && e->seq == cs->seq && e->seq == i + 1 &&
		    e->generation == cs->generation && e->raw_len == cs->raw_len &&
		    e->stored_len == cs->stored_len,
		    "index entry %zu: offset %llu/%llu seq %u/%u gen %u/%u raw %u/%u stored %u/%u",
		    i, (ull)e->offset, (ull)cs->offset, e->seq, cs->seq, e->generation,
		    cs->generation, e->raw_len, cs->raw_len, e->stored_len, cs->stored_len);
		REQ(e->num_events == cs->events, "entry %zu: %llu events, read %llu", i,
		    (ull)e->num_events, (ull)cs->events);
		REQ(e->packet_kinds == cs->kinds, "entry %zu: kinds %x read %x", i,
		    e->packet_kinds, cs->kinds);
		if (cs->min_ts <= cs->max_ts)
			REQ(e->has_min_ts && e->min_ts == cs->min_ts && e->max_ts == cs->max_ts,
			    "entry %zu: ts range", i);
		else
			REQ(!e->has_min_ts, "entry %zu has no events", i);
	}
	cr_assert_not_null(ix->stats);
	cr_assert_eq(ix->stats->cpu_samples, c->cpu_samples);
	cr_assert_eq(ix->stats->sched_events, c->sched_switch + c->sched_wakeup);
	cr_assert_eq(ix->stats->go_events, c->go_events);
	cr_assert_eq(ix->stats->alloc_events, c->allocs);
	cr_assert_eq(ix->stats->lost_events, 0);
	cr_assert_eq(ix->stats->end_ts, c->last_ts);
	tf_reader__close(r);
}

/* ------------------------------------------------------------ tests */

TestSuite(format, .init = setup, .fini = teardown);

Test(format, roundtrip_200k_go_alloc_meta_generations)
{
	struct synth_opts so = { .events = 200000, .seed = 1, .go_and_alloc = true,
				 .meta = true, .gen_every = 50000 };
	struct synth_counts c;
	struct scan s;
	const char *path = tmp_path("rt.gst");
	struct tf_writer *w = NULL;
	const struct tf_writer_stats *st;

	cr_assert_eq(tf_writer__open(path, NULL, synth_header(), &w), 0);
	cr_assert_eq(synth_write(w, &so, &c), 0);
	cr_assert_eq(tf_writer__flush(w), 0);
	st = tf_writer__stats(w);
	cr_assert_eq(st->events[TF_PKT_SCHED], c.sched_switch + c.sched_wakeup);
	cr_assert_eq(st->events[TF_PKT_CPU_SAMPLES], c.cpu_samples);
	cr_assert_eq(st->events[TF_PKT_GO_EVENTS], c.go_events);
	cr_assert_eq(st->events[TF_PKT_ALLOCS], c.allocs);
	cr_assert_eq(st->events[TF_PKT_PROCESS], 1);
	cr_assert_eq(st->events[TF_PKT_THREAD], 16);
	cr_assert_eq(st->events[TF_PKT_INTERN], 0);
	cr_assert_eq(tf_writer__close(w), 0);
	/* every family is represented */
	cr_assert_gt(c.sched_switch, 0);
	cr_assert_gt(c.sched_wakeup, 0);
	cr_assert_gt(c.cpu_samples, 0);
	cr_assert_gt(c.go_events, 0);
	cr_assert_gt(c.allocs, 0);
	verify_clean(path, &c, &so, &s);
	cr_assert_eq(s.max_gen, 3);
	cr_assert(s.any_compressed);
	scan_free(&s);
}

Test(format, many_small_chunks)
{
	struct synth_opts so = { .events = 60000, .seed = 2, .go_and_alloc = true,
				 .meta = true, .gen_every = 25000 };
	struct tf_writer_opts wo = { .chunk_bytes = 4096 };
	struct synth_counts c;
	struct scan s;
	const char *path = tmp_path("small.gst");

	write_synth(path, &wo, &so, &c);
	verify_clean(path, &c, &so, &s);
	cr_assert_gt(s.n_chunks, 100, "%zu chunks", s.n_chunks);
	scan_free(&s);
}

/* LZ4 (the default), zstd and no compression: the same packets, read
 * back the same; each chunk says its codec; zstd is the smallest. */
Test(format, every_codec_reads_the_same)
{
	struct synth_opts so = { .events = 80000, .seed = 3, .go_and_alloc = true,
				 .meta = true, .gen_every = 30000 };
	struct tf_writer_opts wo[3] = {
		{ .chunk_bytes = 16384, .flush_interval_ns = UINT64_MAX },
		{ .chunk_bytes = 16384, .flush_interval_ns = UINT64_MAX,
		  .compress = TF_COMPRESS_ZSTD, .zstd_level = 3 },
		{ .chunk_bytes = 16384, .flush_interval_ns = UINT64_MAX, .zstd_level = -1 },
	};
	static const unsigned int want_codecs[3] = {
		1u << TF_CODEC_LZ4, 1u << TF_CODEC_ZSTD, 1u << TF_CODEC_NONE,
	};
	const char *names[3] = { "lz4.gst", "zstd.gst", "raw.gst" };
	struct synth_counts c[3];
	struct scan s[3];
	size_t len[3];

	for (int i = 0; i < 3; i++) {
		const char *p = tmp_path(names[i]);

		write_synth(p, &wo[i], &so, &c[i]);
		verify_clean(p, &c[i], &so, &s[i]);
		free(slurp(p, &len[i]));
		cr_assert_eq(memcmp(&c[i], &c[0], sizeof(c[0])), 0);
		/* tiny or incompressible chunks are stored as they are */
		cr_assert_eq(s[i].codecs & ~(1u << TF_CODEC_NONE),
			     want_codecs[i] & ~(1u << TF_CODEC_NONE), "%s: codecs %#x",
			     names[i], s[i].codecs);
		cr_assert_eq(s[i].n_chunks, s[0].n_chunks);
		cr_assert_eq(s[i].digest, s[0].digest, "%s: same packets in the same order",
			     names[i]);
		for (size_t k = 0; k < s[0].n_chunks; k++)
			REQ(s[i].chunks[k].raw_len == s[0].chunks[k].raw_len &&
			    s[i].chunks[k].events == s[0].chunks[k].events, "chunk %zu", k);
	}
	cr_assert(s[0].any_compressed && s[1].any_compressed);
	cr_assert(s[2].all_uncompressed, "zstd_level -1 stores every chunk raw");
	cr_assert_lt(len[1], len[0], "zstd %zu, lz4 %zu", len[1], len[0]);
	cr_assert_lt(len[0], len[2], "lz4 %zu, raw %zu", len[0], len[2]);
	for (int i = 0; i < 3; i++)
		scan_free(&s[i]);
}

Test(format, atomic_abort_leaves_nothing)
{
	struct synth_opts so = { .events = 20000, .seed = 4, .meta = true };
	struct tf_writer_opts wo = { .flags = TF_WRITER_ATOMIC, .chunk_bytes = 4096 };
	struct synth_counts c;
	const char *path = tmp_path("atomic.gst");
	const char *keep = tmp_path("existing.gst");
	char tmp[160];
	struct tf_writer *w = NULL;
	struct stat st;
	size_t len;
	uint8_t *b;

	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	cr_assert_eq(tf_writer__open(path, &wo, synth_header(), &w), 0);
	cr_assert_eq(synth_write(w, &so, &c), 0);
	cr_assert_eq(tf_writer__flush(w), 0);
	cr_assert_eq(stat(path, &st), -1, "no file at the final path while writing");
	cr_assert_eq(errno, ENOENT);
	cr_assert_eq(stat(tmp, &st), 0, "writing goes to %s", tmp);
	cr_assert_gt(st.st_size, 4096);
	tf_writer__abort(w);
	cr_assert_eq(stat(path, &st), -1);
	cr_assert_eq(stat(tmp, &st), -1, "abort removes the temporary file");
	{
		/* the directory is empty again */
		DIR *d = opendir(tmpdir);
		struct dirent *de;
		int n = 0;

		cr_assert_not_null(d);
		while ((de = readdir(d)))
			n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
		closedir(d);
		cr_assert_eq(n, 0);
	}

	/* an existing file at the path survives an aborted atomic write */
	spew(keep, "precious", 8);
	cr_assert_eq(tf_writer__open(keep, &wo, synth_header(), &w), 0);
	cr_assert_eq(synth_write(w, &so, &c), 0);
	tf_writer__abort(w);
	b = slurp(keep, &len);
	cr_assert_eq(len, 8);
	cr_assert_arr_eq(b, "precious", 8);
	free(b);

	/* close renames: the final file appears only then, complete */
	cr_assert_eq(tf_writer__open(keep, &wo, synth_header(), &w), 0);
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", keep, (int)getpid());
	cr_assert_eq(synth_write(w, &so, &c), 0);
	cr_assert_eq(tf_writer__flush(w), 0);
	b = slurp(keep, &len);
	cr_assert_eq(len, 8, "the old file is still in place before close");
	free(b);
	cr_assert_eq(tf_writer__close(w), 0);
	cr_assert_eq(stat(tmp, &st), -1);
	{
		struct scan s;

		verify_clean(keep, &c, &so, &s);
		scan_free(&s);
	}
}

Test(format, same_seed_same_bytes)
{
	struct synth_opts so = { .events = 50000, .seed = 77, .go_and_alloc = true,
				 .meta = true, .gen_every = 20000 };
	/* chunk boundaries must not depend on the clock */
	struct tf_writer_opts wo = { .chunk_bytes = 8192,
				     .flush_interval_ns = UINT64_MAX };
	struct synth_counts c1, c2, c3;
	const char *p1 = tmp_path("a.gst"), *p2 = tmp_path("b.gst"),
		   *p3 = tmp_path("c.gst");
	size_t l1, l2, l3;
	uint8_t *b1, *b2, *b3;

	write_synth(p1, &wo, &so, &c1);
	write_synth(p2, &wo, &so, &c2);
	so.seed = 78;
	write_synth(p3, &wo, &so, &c3);
	b1 = slurp(p1, &l1);
	b2 = slurp(p2, &l2);
	b3 = slurp(p3, &l3);
	cr_assert_eq(l1, l2);
	cr_assert_eq(memcmp(b1, b2, l1), 0, "same seed, different bytes");
	cr_assert_eq(memcmp(&c1, &c2, sizeof(c1)), 0);
	cr_assert(l1 != l3 || memcmp(b1, b3, l1) != 0, "another seed, same bytes");
	cr_assert_neq(c1.sum_ts, c3.sum_ts);
	free(b1);
	free(b2);
	free(b3);
}

/* Open must fail with err and log exactly want. */
static void expect_open_fail(const char *path, int err, const char *want)
{
	struct tf_reader *r = NULL;
	int got;

	last_msg[0] = 0;
	n_msgs = 0;
	got = tf_reader__open(path, &r);
	cr_assert_eq(got, err, "%s: got %d (%s) want %d", path, got, gs_strerror(got),
		     err);
	cr_assert_null(r);
	cr_assert_eq(n_msgs, 1, "one message");
	cr_assert_str_eq(last_msg, want);
	cr_assert(gs_err_is_input(got));
}

static void expect_open_mem_fail(const void *p, size_t len, const char *name,
				 int err, const char *want)
{
	struct tf_reader *r = NULL;

	last_msg[0] = 0;
	cr_assert_eq(tf_reader__open_mem(p, len, name, &r), err);
	cr_assert_null(r);
	cr_assert_str_eq(last_msg, want);
}

Test(format, bad_preamble)
{
	struct synth_opts so = { .events = 1000, .seed = 5 };
	struct synth_counts c;
	const char *good = tmp_path("good.gst");
	char want[512], path[160];
	uint8_t *b;
	size_t len;

	write_synth(good, NULL, &so, &c);
	b = slurp(good, &len);

	/* bad magic */
	b[1] ^= 0x20; /* "GST" -> "gST" */
	snprintf(path, sizeof(path), "%s", tmp_path("magic.gst"));
	spew(path, b, len);
	snprintf(want, sizeof(want), "%s: not a gscope trace (bad magic at offset 0)", path);
	expect_open_fail(path, -GS_E_FORMAT, want);
	expect_open_mem_fail(b, len, "mem.gst", -GS_E_FORMAT,
			     "mem.gst: not a gscope trace (bad magic at offset 0)");
	b[1] ^= 0x20;

	/* wrong major version (2.0) */
	b[8] = 2;
	b[10] = 0;
	snprintf(path, sizeof(path), "%s", tmp_path("v2.gst"));
	spew(path, b, len);
	snprintf(want, sizeof(want),
		 "%s: format version 2.0 is not supported (offset 8; this gscope reads 1.x)",
		 path);
	expect_open_fail(path, -GS_E_VERSION, want);
	b[8] = 0;
	b[9] = 1; /* 256.0 */
	expect_open_mem_fail(b, len, "v256", -GS_E_VERSION,
			     "v256: format version 256.0 is not supported (offset 8; this gscope reads 1.x)");
	b[9] = 0;
	b[8] = 1;
	b[10] = TF_FORMAT_MINOR;

	/* a newer minor version is still readable */
	b[10] = 7;
	{
		struct tf_reader *r = NULL;
		unsigned int major, minor;
		struct scan s;

		cr_assert_eq(tf_reader__open_mem(b, len, "v1.7", &r), 0);
		tf_reader__version(r, &major, &minor);
		cr_assert_eq(major, 1);
		cr_assert_eq(minor, 7);
		scan_reader(r, &s, true);
		cr_assert_eq(s.rc, 0);
		cr_assert_eq(s.sw + s.wk + s.cpu, 1000);
		scan_free(&s);
		tf_reader__close(r);
	}
	b[10] = 0;

	/* 5 bytes, empty, 15 bytes (one short of the preamble) */
	snprintf(path, sizeof(path), "%s", tmp_path("five.gst"));
	spew(path, b, 5);
	snprintf(want, sizeof(want),
		 "%s: not a gscope trace (5 bytes, shorter than the 16-byte preamble)", path);
	expect_open_fail(path, -GS_E_FORMAT, want);
	snprintf(path, sizeof(path), "%s", tmp_path("empty.gst"));
	spew(path, b, 0);
	snprintf(want, sizeof(want),
		 "%s: not a gscope trace (0 bytes, shorter than the 16-byte preamble)", path);
	expect_open_fail(path, -GS_E_FORMAT, want);
	expect_open_mem_fail(NULL, 0, "nothing", -GS_E_FORMAT,
			     "nothing: not a gscope trace (0 bytes, shorter than the 16-byte preamble)");
	expect_open_mem_fail(b, 15, "fifteen", -GS_E_FORMAT,
			     "fifteen: not a gscope trace (15 bytes, shorter than the 16-byte preamble)");

	/* exactly the preamble: a valid, empty trace with no header */
	{
		struct tf_reader *r = NULL;
		struct tf_packet p;

		cr_assert_eq(tf_reader__open_mem(b, 16, "preamble-only", &r), 0);
		cr_assert_null(tf_reader__header(r));
		cr_assert_eq(tf_reader__next(r, &p), 0);
		cr_assert_not(tf_reader__losses(r)->truncated);
		cr_assert_not(tf_reader__losses(r)->clean_close);
		tf_reader__close(r);
	}

	/* a directory, and a missing file */
	snprintf(path, sizeof(path), "%s", tmp_path("dir.gst"));
	cr_assert_eq(mkdir(path, 0755), 0);
	snprintf(want, sizeof(want), "%s: not a regular file", path);
	expect_open_fail(path, -GS_E_FORMAT, want);
	snprintf(path, sizeof(path), "%s", tmp_path("missing.gst"));
	snprintf(want, sizeof(want), "%s: cannot open: No such file or directory", path);
	expect_open_fail(path, -ENOENT, want);
	free(b);
}
