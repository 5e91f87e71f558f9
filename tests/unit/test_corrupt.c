// SPDX-License-Identifier: BSD-2-Clause
/*
 * Damaged .gst files: truncation at every chunk boundary and at random
 * offsets, flipped bytes in every kind of chunk and in the footer, zeroed
 * holes, missing chunks, and a writer killed with SIGKILL.  The chunk
 * layout is parsed here independently of tf_reader (from the documented
 * container format), so every expectation is exact: which events survive,
 * and what struct tf_losses reports.
 *
 * Truncation, defined exactly (the reader's contract):
 *  - a cut at a chunk boundary loses nothing that was written completely:
 *    truncated = false, truncated_bytes = 0;
 *  - a cut inside a chunk's header or payload drops that chunk:
 *    truncated = true, truncated_bytes = cut - chunk offset;
 *  - a cut inside a chunk's zero padding keeps the chunk (its payload and
 *    CRC are complete): truncated = false;
 *  - a cut inside the footer: truncated = true, truncated_bytes = cut -
 *    footer offset, all chunks (the index included) read.
 * A byte flip inside padding, or in the footer's reserved word, is not
 * covered by any checksum and goes unnoticed by design.
 *
 * A lost chunk may hold interning definitions, so only event counts and
 * losses are asserted here, not stack resolution.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "tests/unit/tutil.h"
#include "base/gs_crc32c.h"
#include "base/gs_err.h"
#include "format/tf_reader.h"
#include "format/tf_writer.h"
#include "tests/lib/synth.h"

/* ------------------------------------------------------------ fixtures */

static char tmpdir[64];

static void setup(void)
{
	tmpdir_make(tmpdir, sizeof(tmpdir), "corrupt");
	gs_log__set_fn(log_capture_errors);
}

static void teardown(void)
{
	tmpdir_remove(tmpdir);
	gs_log__set_fn(NULL);
}

TestSuite(corrupt, .init = setup, .fini = teardown);

/* ------------------------------------------------------------ layout */

struct chunk {
	uint64_t off;      /* chunk header */
	uint64_t end;      /* end of the payload */
	uint64_t pend;     /* end of the padding: the next chunk */
	uint8_t type;
	uint32_t seq, stored;
	uint64_t events;   /* hot events read from it */
	uint64_t meta;     /* process/thread/gc/loss packets read from it */
};

struct layout {
	uint8_t *buf;
	size_t len;
	struct chunk c[256];
	size_t n;
	uint64_t footer;
	uint64_t events, meta;
	struct synth_counts counts;
};

struct result {
	int open_rc, rc;
	uint64_t events, meta, chunks_read, chunks_skipped, bytes_skipped;
	uint64_t truncated_bytes, intern_dropped;
	bool truncated, clean_close, header, index;
};

/* Read a whole trace; events are batch events, meta the other packets. */
static void read_reader(struct tf_reader *r, struct result *res)
{
	const struct tf_losses *l;
	struct tf_packet p;

	while ((res->rc = tf_reader__next(r, &p)) == 1) {
		if (p.batch)
			res->events += p.batch->n[0] + p.batch->n[1];
		else if (p.kind != TF_PKT_INTERN)
			res->meta++;
	}
	l = tf_reader__losses(r);
	res->chunks_read = l->chunks_read;
	res->chunks_skipped = l->chunks_skipped;
	res->bytes_skipped = l->bytes_skipped;
	res->truncated = l->truncated;
	res->truncated_bytes = l->truncated_bytes;
	res->intern_dropped = l->intern_dropped;
	res->clean_close = l->clean_close;
	res->header = tf_reader__header(r) != NULL;
	res->index = tf_reader__index(r) != NULL;
	tf_reader__close(r);
}

static void read_mem(const uint8_t *p, size_t len, struct result *res)
{
	uint8_t *copy = malloc(len ? len : 1); /* exact size: ASan sees over-reads */
	struct tf_reader *r = NULL;

	memcpy(copy, p, len);
	memset(res, 0, sizeof(*res));
	res->open_rc = tf_reader__open_mem(copy, len, "mem", &r);
	if (!res->open_rc)
		read_reader(r, res);
	free(copy);
}

static void read_file(const uint8_t *p, size_t len, struct result *res)
{
	char path[128];
	struct tf_reader *r = NULL;

	snprintf(path, sizeof(path), "%s/damaged.gst", tmpdir);
	spew(path, p, len);
	memset(res, 0, sizeof(*res));
	res->open_rc = tf_reader__open(path, &r);
	if (!res->open_rc)
		read_reader(r, res);
	unlink(path);
}

static void req_result_eq(const struct result *a, const struct result *b,
			  const char *ctx)
{
	REQ(a->open_rc == b->open_rc && a->rc == b->rc && a->events == b->events &&
	    a->meta == b->meta && a->chunks_read == b->chunks_read &&
	    a->chunks_skipped == b->chunks_skipped &&
	    a->bytes_skipped == b->bytes_skipped && a->truncated == b->truncated &&
	    a->truncated_bytes == b->truncated_bytes &&
	    a->intern_dropped == b->intern_dropped &&
	    a->clean_close == b->clean_close && a->header == b->header &&
	    a->index == b->index,
	    "%s:\n got:  open %d rc %d events %llu meta %llu read %llu skipped %llu/%lluB "
	    "trunc %d/%lluB dropped %llu clean %d header %d index %d\n"
	    " want: open %d rc %d events %llu meta %llu read %llu skipped %llu/%lluB "
	    "trunc %d/%lluB dropped %llu clean %d header %d index %d\n last error: %s",
	    ctx, a->open_rc, a->rc, (ull)a->events, (ull)a->meta, (ull)a->chunks_read,
	    (ull)a->chunks_skipped, (ull)a->bytes_skipped, a->truncated,
	    (ull)a->truncated_bytes, (ull)a->intern_dropped, a->clean_close,
	    a->header, a->index,
	    b->open_rc, b->rc, (ull)b->events, (ull)b->meta, (ull)b->chunks_read,
	    (ull)b->chunks_skipped, (ull)b->bytes_skipped, b->truncated,
	    (ull)b->truncated_bytes, (ull)b->intern_dropped, b->clean_close,
	    b->header, b->index, last_msg);
}

/* Read p from memory, and from a file when `file`; both must give want. */
static void check(const uint8_t *p, size_t len, const struct result *want,
		  bool file, const char *ctx)
{
	struct result got;

	read_mem(p, len, &got);
	req_result_eq(&got, want, ctx);
	if (file) {
		read_file(p, len, &got);
		req_result_eq(&got, want, ctx);
	}
}

#define SYNTH_EVENTS 50000

/*
 * Write the trace (~60 chunks of 8 KiB) and parse its layout by walking
 * the chunk headers from offset 16, then count each chunk's events.
 */
static void make_trace(struct layout *ly)
{
	struct synth_opts so = { .events = SYNTH_EVENTS, .seed = 11,
				 .go_and_alloc = true, .meta = true };
	struct tf_writer_opts wo = { .chunk_bytes = 8192, .batch_events = 512,
				     .flush_interval_ns = UINT64_MAX };
	struct tf_writer *w = NULL;
	char path[128];
	uint64_t off = 16;
	struct tf_reader *r = NULL;
	struct tf_packet p;
	const Gscope__V1__TraceIndex *ix;
	size_t ci = 0, ndata = 0;

	memset(ly, 0, sizeof(*ly));
	snprintf(path, sizeof(path), "%s/trace.gst", tmpdir);
	cr_assert_eq(tf_writer__open(path, &wo, synth_header(), &w), 0);
	cr_assert_eq(synth_write(w, &so, &ly->counts), 0);
	cr_assert_eq(tf_writer__close(w), 0);
	ly->buf = slurp(path, &ly->len);
	unlink(path);

	cr_assert_arr_eq(ly->buf, "\x89GST\r\n\x1a\n", 8);
	while (off + 32 <= ly->len) {
		const uint8_t *h = ly->buf + off;
		struct chunk *c;

		if (!memcmp(h + 24, "GSTEND\0\0", 8) && off + 32 == ly->len) {
			ly->footer = off;
			break;
		}
		cr_assert_arr_eq(h, "GSCK", 4, "chunk header at %llu", (ull)off);
		cr_assert_eq(tf_get_le32(h + 28), gs_crc32c(0, h, 28));
		cr_assert_lt(ly->n, 256);
		c = &ly->c[ly->n++];
		c->off = off;
		c->type = h[4];
		c->stored = tf_get_le32(h + 8);
		c->seq = tf_get_le32(h + 16);
		c->end = off + 32 + c->stored;
		c->pend = off + tf_pad8(32 + c->stored);
		cr_assert_eq(c->seq, ly->n - 1, "seq numbers are dense from 0");
		cr_assert_eq(tf_get_le32(h + 24), gs_crc32c(0, ly->buf + off + 32, c->stored));
		for (uint64_t z = c->end; z < c->pend; z++)
			cr_assert_eq(ly->buf[z], 0, "padding is zero");
		off = c->pend;
	}
	cr_assert_eq(ly->footer, off, "footer right after the last chunk");
	cr_assert_eq(ly->footer + 32, ly->len);
	cr_assert_eq(ly->c[0].type, TF_CHUNK_HEADER);
	cr_assert_eq(ly->c[ly->n - 1].type, TF_CHUNK_INDEX);
	cr_assert_eq(tf_get_le64(ly->buf + ly->footer), ly->c[ly->n - 1].off);
	cr_assert_eq(tf_get_le64(ly->buf + ly->footer + 8),
		     ly->c[ly->n - 1].pend - ly->c[ly->n - 1].off);
	cr_assert_eq(tf_get_le32(ly->buf + ly->footer + 16),
		     tf_get_le32(ly->buf + ly->c[ly->n - 1].off + 24));
	cr_assert(ly->n >= 50 && ly->n <= 80, "%zu chunks", ly->n);

	/* events per chunk, from a clean read */
	cr_assert_eq(tf_reader__open_mem(ly->buf, ly->len, "trace", &r), 0);
	while (tf_reader__next(r, &p) == 1) {
		while (ci < ly->n && ly->c[ci].off != p.chunk_offset)
			ci++;
		cr_assert_lt(ci, ly->n, "packet from an unknown chunk %llu",
			     (ull)p.chunk_offset);
		cr_assert_eq(ly->c[ci].type, TF_CHUNK_DATA);
		if (p.batch)
			ly->c[ci].events += p.batch->n[0] + p.batch->n[1];
		else if (p.kind != TF_PKT_INTERN)
			ly->c[ci].meta++;
	}
	/* and the index agrees, chunk by chunk */
	ix = tf_reader__index(r);
	cr_assert_not_null(ix);
	for (size_t i = 0; i < ly->n; i++) {
		const struct chunk *c = &ly->c[i];

		ly->events += c->events;
		ly->meta += c->meta;
		if (c->type != TF_CHUNK_DATA)
			continue;
		cr_assert_lt(ndata, ix->n_chunks);
		cr_assert_eq(ix->chunks[ndata]->offset, c->off);
		cr_assert_eq(ix->chunks[ndata]->seq, c->seq);
		cr_assert_eq(tf_pad8(32 + ix->chunks[ndata]->stored_len), c->pend - c->off);
		cr_assert_eq(ix->chunks[ndata]->num_events, c->events + c->meta,
			     "index entry %zu", ndata);
		ndata++;
	}
	cr_assert_eq(ndata, ix->n_chunks);
	cr_assert_eq(ndata, ly->n - 2);
	tf_reader__close(r);
	cr_assert_eq(ly->events, SYNTH_EVENTS);
	cr_assert_eq(ly->events, ly->counts.sched_switch + ly->counts.sched_wakeup +
				 ly->counts.cpu_samples + ly->counts.go_events +
				 ly->counts.allocs);
	cr_assert_eq(ly->meta, ly->counts.meta_packets);
}

/* What a clean read of the first k chunks (and maybe the footer) gives. */
static void want_prefix(const struct layout *ly, size_t k, struct result *w)
{
	memset(w, 0, sizeof(*w));
	for (size_t i = 0; i < k; i++) {
		w->events += ly->c[i].events;
		w->meta += ly->c[i].meta;
	}
	w->chunks_read = k;
	w->header = k >= 1;
	w->index = k == ly->n;
}

/* The full, clean read. */
static void want_all(const struct layout *ly, struct result *w)
{
	want_prefix(ly, ly->n, w);
	w->clean_close = true;
}

/* ------------------------------------------------------------ tests */

Test(corrupt, clean_file_reads_whole)
{
	struct layout ly;
	struct result want;

	make_trace(&ly);
	want_all(&ly, &want);
	check(ly.buf, ly.len, &want, true, "clean");
	free(ly.buf);
}

/* (a) */
Test(corrupt, truncated_at_every_chunk_boundary)
{
	struct layout ly;
	struct result want;
	char ctx[96];

	make_trace(&ly);
	for (size_t k = 0; k <= ly.n; k++) {
		uint64_t cut = k < ly.n ? ly.c[k].off : ly.footer;

		want_prefix(&ly, k, &want);
		snprintf(ctx, sizeof(ctx), "cut at %llu, after %zu whole chunks", (ull)cut, k);
		check(ly.buf, cut, &want, true, ctx);
	}
	free(ly.buf);
}

/* The expected read of the file cut at `cut` (16 <= cut < len). */
static void want_cut(const struct layout *ly, uint64_t cut, struct result *w)
{
	size_t i;

	if (cut >= ly->footer) {
		want_prefix(ly, ly->n, w);
		w->truncated = cut > ly->footer;
		w->truncated_bytes = cut - ly->footer;
		return;
	}
	for (i = 0; i < ly->n && ly->c[i].pend <= cut; i++)
		;
	cr_assert_lt(i, ly->n);
	if (cut == ly->c[i].off) {
		want_prefix(ly, i, w);
	} else if (cut >= ly->c[i].end) {
		want_prefix(ly, i + 1, w); /* only padding is missing */
	} else {
		want_prefix(ly, i, w);
		w->truncated = true;
		w->truncated_bytes = cut - ly->c[i].off;
	}
}

/* (b) */
Test(corrupt, truncated_at_random_offsets)
{
	struct layout ly;
	struct result want;
	struct rng r = { 2024 };
	uint64_t cuts[2000];
	size_t ncuts = 0, in_padding = 0, in_header = 0, in_footer = 0;
	char ctx[96];

	make_trace(&ly);
	for (int i = 0; i < 300; i++)
		cuts[ncuts++] = 16 + below(&r, ly.len - 16);
	/* and the interesting places of every chunk and of the footer */
	for (size_t i = 0; i < ly.n; i++) {
		const struct chunk *c = &ly.c[i];

		cuts[ncuts++] = c->off + 1;
		cuts[ncuts++] = c->off + 31;
		cuts[ncuts++] = c->off + 32;
		cuts[ncuts++] = c->end - 1;
		if (c->end < c->pend) {
			cuts[ncuts++] = c->end;
			cuts[ncuts++] = c->pend - 1;
		}
	}
	for (uint64_t k = 1; k < 32; k++)
		cuts[ncuts++] = ly.footer + k;
	for (size_t i = 0; i < ncuts; i++) {
		uint64_t cut = cuts[i];

		want_cut(&ly, cut, &want);
		for (size_t k = 0; k < ly.n; k++) {
			in_header += cut > ly.c[k].off && cut < ly.c[k].off + 32;
			in_padding += cut >= ly.c[k].end && cut < ly.c[k].pend;
		}
		in_footer += cut > ly.footer;
		snprintf(ctx, sizeof(ctx), "cut at %llu of %zu", (ull)cut, ly.len);
		check(ly.buf, cut, &want, i % 4 == 0, ctx);
	}
	cr_assert_gt(in_header, 2 * ly.n - 1);
	cr_assert_gt(in_padding, 10);
	cr_assert_geq(in_footer, 31);
	/* inside the preamble: not a trace */
	for (uint64_t cut = 0; cut < 16; cut++) {
		struct result got;

		read_mem(ly.buf, cut, &got);
		cr_assert_eq(got.open_rc, -GS_E_FORMAT, "cut at %llu", (ull)cut);
	}
	free(ly.buf);
}

/* The expected read when chunk i (one chunk) is lost in place. */
static void want_lost(const struct layout *ly, size_t i, struct result *w)
{
	want_all(ly, w);
	w->events -= ly->c[i].events;
	w->meta -= ly->c[i].meta;
	w->chunks_read--;
	w->chunks_skipped = 1;
	w->bytes_skipped = ly->c[i].pend - ly->c[i].off;
	if (ly->c[i].type == TF_CHUNK_HEADER)
		w->header = false;
	if (ly->c[i].type == TF_CHUNK_INDEX) {
		w->index = false;
		w->clean_close = false;
	}
}

/* (c) */
Test(corrupt, flipped_byte_in_data_chunk)
{
	struct layout ly;
	struct result want;
	struct rng r = { 77 };
	size_t hdr_flips = 0;
	char ctx[128];

	make_trace(&ly);
	for (int it = 0; it < 300; it++) {
		size_t i = 1 + below(&r, ly.n - 2); /* a DATA chunk */
		const struct chunk *c = &ly.c[i];
		uint64_t at = c->off + below(&r, c->end - c->off); /* header or payload */
		uint8_t x = (uint8_t)(1 + below(&r, 255));

		cr_assert_eq(c->type, TF_CHUNK_DATA);
		hdr_flips += at < c->off + 32;
		want_lost(&ly, i, &want);
		ly.buf[at] ^= x;
		snprintf(ctx, sizeof(ctx), "chunk %zu (seq %u, %llu events): byte %llu ^ %02x",
			 i, c->seq, (ull)c->events, (ull)(at - c->off), x);
		check(ly.buf, ly.len, &want, it % 4 == 0, ctx);
		ly.buf[at] ^= x;
	}
	cr_assert_gt(hdr_flips, 0);
	free(ly.buf);
}

Test(corrupt, flipped_padding_is_not_noticed)
{
	struct layout ly;
	struct result want;
	size_t flips = 0;
	char ctx[96];

	make_trace(&ly);
	want_all(&ly, &want);
	for (size_t i = 0; i < ly.n; i++) {
		for (uint64_t at = ly.c[i].end; at < ly.c[i].pend; at++) {
			ly.buf[at] ^= 0xff;
			snprintf(ctx, sizeof(ctx), "padding byte %llu of chunk %zu", (ull)at, i);
			check(ly.buf, ly.len, &want, false, ctx);
			ly.buf[at] ^= 0xff;
			flips++;
		}
	}
	cr_assert_gt(flips, 20);
	free(ly.buf);
}

/* (d) header chunk */
Test(corrupt, flipped_byte_in_header_chunk)
{
	struct layout ly;
	struct result want;
	const struct chunk *c;
	char ctx[96];

	make_trace(&ly);
	c = &ly.c[0];
	want_lost(&ly, 0, &want);
	cr_assert_not(want.header);
	cr_assert_eq(want.events, SYNTH_EVENTS);
	for (uint64_t at = c->off; at < c->end; at++) {
		ly.buf[at] ^= 0x41;
		snprintf(ctx, sizeof(ctx), "header chunk byte %llu", (ull)(at - c->off));
		check(ly.buf, ly.len, &want, at % 8 == 0, ctx);
		ly.buf[at] ^= 0x41;
	}
	free(ly.buf);
}

/* (d) index chunk */
Test(corrupt, flipped_byte_in_index_chunk)
{
	struct layout ly;
	struct result want;
	const struct chunk *c;
	struct rng r = { 5 };
	char ctx[96];

	make_trace(&ly);
	c = &ly.c[ly.n - 1];
	want_lost(&ly, ly.n - 1, &want);
	cr_assert(want.header);
	cr_assert_not(want.clean_close);
	cr_assert_eq(want.events, SYNTH_EVENTS);
	for (uint64_t at = c->off; at < c->end; at++) {
		uint8_t x = (uint8_t)(1 + below(&r, 255));

		/* every header byte, a sample of the payload */
		if (at >= c->off + 32 && below(&r, 4))
			continue;
		ly.buf[at] ^= x;
		snprintf(ctx, sizeof(ctx), "index chunk byte %llu ^ %02x",
			 (ull)(at - c->off), x);
		check(ly.buf, ly.len, &want, at % 8 == 0, ctx);
		ly.buf[at] ^= x;
	}
	free(ly.buf);
}

/* (d) footer */
Test(corrupt, flipped_byte_in_footer)
{
	struct layout ly;
	struct result want;
	char ctx[96];

	make_trace(&ly);
	for (uint64_t k = 0; k < 32; k++) {
		want_all(&ly, &want);
		if (k < 16 || k >= 24) {
			/* offset, length or magic: no footer there, 32 bytes of junk */
			want.clean_close = false;
			want.chunks_skipped = 1;
			want.bytes_skipped = 32;
		} else if (k < 20) {
			/* the index CRC no longer matches the index chunk */
			want.clean_close = false;
		} else {
			/* reserved: not checked (like padding) */
		}
		ly.buf[ly.footer + k] ^= 0x10;
		snprintf(ctx, sizeof(ctx), "footer byte %llu", (ull)k);
		check(ly.buf, ly.len, &want, true, ctx);
		ly.buf[ly.footer + k] ^= 0x10;
	}
	free(ly.buf);
}

/* (f) */
Test(corrupt, zero_filled_hole)
{
	struct layout ly;
	struct result want;
	char ctx[96];

	make_trace(&ly);
	for (size_t i = 0; i < ly.n; i++) {
		const struct chunk *c = &ly.c[i];
		uint8_t *save = malloc(c->pend - c->off);

		memcpy(save, ly.buf + c->off, c->pend - c->off);
		memset(ly.buf + c->off, 0, c->pend - c->off);
		want_lost(&ly, i, &want);
		snprintf(ctx, sizeof(ctx), "chunk %zu (type %u) zeroed", i, c->type);
		check(ly.buf, ly.len, &want, i % 4 == 0, ctx);
		/* two neighbours at once: both lost, one resync */
		if (i >= 1 && i + 2 < ly.n) {
			const struct chunk *d = &ly.c[i + 1];
			uint8_t *save2 = malloc(d->pend - d->off);

			memcpy(save2, ly.buf + d->off, d->pend - d->off);
			memset(ly.buf + d->off, 0, d->pend - d->off);
			want.events -= d->events;
			want.meta -= d->meta;
			want.chunks_read--;
			want.chunks_skipped = 2;
			want.bytes_skipped = d->pend - c->off;
			snprintf(ctx, sizeof(ctx), "chunks %zu and %zu zeroed", i, i + 1);
			check(ly.buf, ly.len, &want, false, ctx);
			memcpy(ly.buf + d->off, save2, d->pend - d->off);
			free(save2);
		}
		memcpy(ly.buf + c->off, save, c->pend - c->off);
		free(save);
	}
	free(ly.buf);
}

/* A chunk cut out of a file that has no index: missing by sequence number. */
Test(corrupt, missing_chunk_by_sequence)
{
	struct layout ly;
	struct result want;
	uint8_t *b;
	char ctx[96];

	make_trace(&ly);
	b = malloc(ly.len);
	for (size_t i = 1; i + 1 < ly.n; i++) {
		const struct chunk *c = &ly.c[i];
		uint64_t end = ly.c[ly.n - 1].off; /* drop index and footer */
		size_t len = 0;

		memcpy(b, ly.buf, c->off);
		len = c->off;
		memcpy(b + len, ly.buf + c->pend, end - c->pend);
		len += end - c->pend;
		want_prefix(&ly, ly.n - 1, &want);
		want.events -= c->events;
		want.meta -= c->meta;
		want.chunks_read--;
		want.chunks_skipped = i + 2 < ly.n ? 1 : 0; /* the last one is unnoticed */
		snprintf(ctx, sizeof(ctx), "chunk %zu removed", i);
		check(b, len, &want, i % 8 == 0, ctx);
	}
	free(b);
	free(ly.buf);
}

/* (e) */
Test(corrupt, sigkill_keeps_every_flushed_event)
{
	const char *out = getenv("OUTPUT");
	char bin[256], path[128], line[128];
	struct synth_opts so = { .events = 300000, .seed = 1 };
	struct tf_writer_opts wo = { .chunk_bytes = 16384 };
	struct synth_counts c;
	struct tf_writer *w = NULL;
	struct result want, got;
	size_t used = 0;
	unsigned long long n = 0;
	int fds[2], status;
	pid_t pid;

	snprintf(bin, sizeof(bin), "%s/tests/gst-synth", out && *out ? out : "build");
	snprintf(path, sizeof(path), "%s/killed.gst", tmpdir);
	cr_assert_eq(access(bin, X_OK), 0, "%s missing: make %s", bin, bin);
	cr_assert_eq(pipe(fds), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execl(bin, bin, "-k", "-n", "300000", "-b", "16384", "-o", path,
		      (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	for (;;) {
		struct pollfd pfd = { fds[0], POLLIN, 0 };
		ssize_t k;

		if (poll(&pfd, 1, 600 * 1000) <= 0)
			break;
		k = read(fds[0], line + used, sizeof(line) - 1 - used);
		if (k <= 0)
			break;
		used += (size_t)k;
		line[used] = 0;
		if (strchr(line, '\n') || used == sizeof(line) - 1)
			break;
	}
	close(fds[0]);
	kill(pid, SIGKILL);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
		  "gst-synth ended on its own (status %#x): '%s'", status, line);
	cr_assert_eq(sscanf(line, "ready %llu", &n), 1, "gst-synth said '%s'", line);
	cr_assert_eq(n, 300000);

	/* the same content written in-process, for the exact expectations */
	{
		char ref[128];

		snprintf(ref, sizeof(ref), "%s/ref.gst", tmpdir);
		cr_assert_eq(tf_writer__open(ref, &wo, synth_header(), &w), 0);
		cr_assert_eq(synth_write(w, &so, &c), 0);
		tf_writer__abort(w);
	}
	memset(&want, 0, sizeof(want));
	want.events = n;
	want.header = true;
	{
		struct tf_reader *r = NULL;
		struct tf_packet p;
		uint64_t sw = 0, wk = 0, cpu = 0, sum_ts = 0;

		cr_assert_eq(tf_reader__open(path, &r), 0, "%s", last_msg);
		while (tf_reader__next(r, &p) == 1) {
			const struct tf_batch *b = p.batch;

			if (!b)
				continue;
			if (b->kind == TF_PKT_SCHED) {
				sw += b->n[0];
				wk += b->n[1];
				for (size_t i = 0; i < b->n[0]; i++)
					sum_ts += b->col[TF_SW_TS][i];
				for (size_t i = 0; i < b->n[1]; i++)
					sum_ts += b->col[TF_WK_TS][i];
			} else if (b->kind == TF_PKT_CPU_SAMPLES) {
				cpu += b->n[0];
				for (size_t i = 0; i < b->n[0]; i++)
					sum_ts += b->col[TF_CPU_TS][i];
			}
		}
		want.chunks_read = tf_reader__losses(r)->chunks_read;
		cr_assert_gt(want.chunks_read, 10);
		tf_reader__close(r);
		cr_assert_eq(sw, c.sched_switch);
		cr_assert_eq(wk, c.sched_wakeup);
		cr_assert_eq(cpu, c.cpu_samples);
		cr_assert_eq(sum_ts, c.sum_ts);
	}
	{
		size_t len;
		uint8_t *b = slurp(path, &len);

		check(b, len, &want, true, "killed writer");
		read_file(b, len, &got);
		cr_assert_eq(got.events, 300000);
		cr_assert_not(got.truncated);
		cr_assert_not(got.clean_close);
		cr_assert_eq(got.chunks_skipped, 0);
		cr_assert_not(got.index);
		free(b);
	}
}

/*
 * A chunk whose checksums are right but whose compressed payload is not a
 * valid LZ4 or zstd block (a writer bug or a crafted file): the reader fails
 * with "decompression failed", naming the codec and the chunk's offset.
 */
Test(corrupt, bad_compressed_payload_with_valid_crc)
{
	static const uint8_t codecs[2] = { TF_CODEC_LZ4, TF_CODEC_ZSTD };

	for (int k = 0; k < 2; k++) {
		struct layout ly;
		struct tf_reader *r;
		struct tf_packet p;
		struct tf_chunk_hdr h;
		size_t i;
		int rc;
		char want[96];

		make_trace(&ly);
		for (i = 0; i < ly.n; i++)
			if (ly.c[i].type == TF_CHUNK_DATA)
				break;
		cr_assert_lt(i, ly.n);
		cr_assert_eq(tf_chunk_hdr__decode(ly.buf + ly.c[i].off, &h), 0);
		cr_assert_eq(h.codec, TF_CODEC_LZ4, "the writer's default codec");
		/* 0xff: LZ4 literal-length runs past the block; not a zstd frame */
		memset(ly.buf + ly.c[i].off + TF_CHUNK_HDR_SIZE, 0xff, h.stored_len);
		h.codec = codecs[k];
		h.payload_crc = gs_crc32c(0, ly.buf + ly.c[i].off + TF_CHUNK_HDR_SIZE,
					  h.stored_len);
		tf_chunk_hdr__encode(&h, ly.buf + ly.c[i].off);
		last_msg[0] = 0;
		cr_assert_eq(tf_reader__open_mem(ly.buf, ly.len, "bad.gst", &r), 0);
		while ((rc = tf_reader__next(r, &p)) > 0)
			;
		tf_reader__close(r);
		cr_assert_eq(rc, -GS_E_COMPRESS, "codec %u: rc %d", codecs[k], rc);
		snprintf(want, sizeof(want), "bad.gst: chunk %u at offset %llu: %s payload",
			 h.seq, (unsigned long long)ly.c[i].off, k ? "zstd" : "lz4");
		cr_assert(strstr(last_msg, want), "'%s' lacks '%s'", last_msg, want);
		free(ly.buf);
	}
}
