// SPDX-License-Identifier: BSD-2-Clause
/*
 * Writer behaviour that the round-trip tests do not cover: the flush
 * interval, write errors, and allocation failures at every allocation site
 * of the reader and the writer.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "base/gs_err.h"
#include "base/gs_mem.h"
#include "format/tf_header.h"
#include "format/tf_reader.h"
#include "format/tf_writer.h"
#include "tests/unit/tutil.h"
#include "tests/lib/synth.h"

static char dir[64];

static void setup(void)
{
	tmpdir_make(dir, sizeof(dir), "writer");
}

static void teardown(void)
{
	tmpdir_remove(dir);
}

/* Count batch events in path (without requiring a clean close). */
static uint64_t count_events(const char *path, struct tf_losses *loss)
{
	struct tf_reader *r;
	struct tf_packet pkt;
	uint64_t n = 0;
	int err;

	cr_assert_eq(tf_reader__open(path, &r), 0);
	while ((err = tf_reader__next(r, &pkt)) > 0)
		if (pkt.batch)
			n += pkt.batch->n[0] + pkt.batch->n[1];
	cr_assert_eq(err, 0);
	if (loss)
		*loss = *tf_reader__losses(r);
	tf_reader__close(r);
	return n;
}

static void switch_at(struct tf_writer *w, uint64_t ts)
{
	struct tf_sched_switch s = { .ts = ts, .cpu = (int32_t)(ts % 2),
				     .prev_tid = 1, .next_tid = 2 };

	cr_assert_eq(tf_writer__sched_switch(w, &s), 0);
}

Test(writer, flush_interval_writes_without_close, .init = setup, .fini = teardown)
{
	struct tf_writer_opts o = { .flush_interval_ns = 5 * 1000 * 1000,
				    .chunk_bytes = 1 << 20 };
	struct timespec nap = { 0, 30 * 1000 * 1000 };
	struct tf_losses loss;
	struct tf_writer *w;
	char path[128];

	snprintf(path, sizeof(path), "%s/t.gst", dir);
	cr_assert_eq(tf_writer__open(path, &o, NULL, &w), 0);
	for (uint64_t i = 0; i < 1000; i++)
		switch_at(w, 1000 + i);
	/* nothing written yet: batches of 4096 and a 1 MiB chunk are not full */
	cr_assert_eq(count_events(path, NULL), 0);
	nanosleep(&nap, NULL);
	/* the interval is checked every 1024 events: the 1024th flushes all */
	for (uint64_t i = 1000; i < 1024; i++)
		switch_at(w, 1000 + i);
	cr_assert_eq(count_events(path, &loss), 1024);
	cr_assert_eq(loss.truncated, false);
	cr_assert_eq(loss.clean_close, false);
	cr_assert_eq(tf_writer__close(w), 0);
	cr_assert_eq(count_events(path, &loss), 1024);
	cr_assert_eq(loss.clean_close, true);
}

Test(writer, full_disk_is_an_error)
{
	struct tf_writer *w = NULL;
	int err;

	if (access("/dev/full", W_OK))
		cr_skip_test("no /dev/full");
	err = tf_writer__open("/dev/full", NULL, NULL, &w);
	cr_assert_eq(err, -ENOSPC, "err=%d", err);
}

Test(writer, missing_directory_is_an_error)
{
	struct tf_writer *w = NULL;

	cr_assert_eq(tf_writer__open("/nonexistent-dir/x.gst", NULL, NULL, &w), -ENOENT);
}

/*
 * Fail the Nth allocation for every N until a run succeeds: each run must
 * fail cleanly with -ENOMEM (ASan reports any leak or bad access).
 */
Test(writer, allocation_failures_everywhere, .init = setup, .fini = teardown)
{
	struct synth_opts so = { .events = 3000, .seed = 7, .go_and_alloc = true,
				 .meta = true, .small = true, .gen_every = 1000 };
	struct tf_writer_opts wo = { .chunk_bytes = 4096 };
	struct synth_counts c;
	char path[128];
	int ok_write = 0, ok_read = 0;

	snprintf(path, sizeof(path), "%s/a.gst", dir);
	for (long n = 1; n < 5000 && !ok_write; n++) {
		struct tf_writer *w;
		int err;

		gs_mem__fail_at(n);
		err = tf_writer__open(path, &wo, synth_header(), &w);
		if (!err) {
			err = synth_write(w, &so, &c);
			if (err)
				tf_writer__abort(w);
			else
				err = tf_writer__close(w);
		}
		gs_mem__fail_at(0);
		if (!err)
			ok_write = 1;
		else
			cr_assert_eq(err, -ENOMEM, "alloc %ld: err=%d", n, err);
	}
	cr_assert(ok_write);
	for (long n = 1; n < 5000 && !ok_read; n++) {
		struct tf_reader *r;
		struct tf_packet pkt;
		uint64_t events = 0;
		int err;

		gs_mem__fail_at(n);
		err = tf_reader__open(path, &r);
		if (!err) {
			while ((err = tf_reader__next(r, &pkt)) > 0)
				if (pkt.batch)
					events += pkt.batch->n[0] + pkt.batch->n[1];
			tf_reader__close(r);
		}
		gs_mem__fail_at(0);
		if (!err) {
			ok_read = 1;
			cr_assert_eq(events, 3000);
		} else {
			cr_assert(err == -ENOMEM || err == -GS_E_FORMAT,
				  "alloc %ld: err=%d", n, err);
		}
	}
	cr_assert(ok_read);
}

Test(writer, host_header_round_trip, .init = setup, .fini = teardown)
{
	const Gscope__V1__TraceHeader *h;
	struct tf_header th;
	struct tf_writer *w;
	struct tf_reader *r;
	char path[128], host[256];

	snprintf(path, sizeof(path), "%s/h.gst", dir);
	cr_assert_eq(tf_header__init_host(&th, "1.2.3"), 0);
	cr_assert_eq(tf_header__add_attr(&th, "ci.job", "42"), 0);
	cr_assert_eq(tf_writer__open(path, NULL, &th.h, &w), 0);
	tf_header__release(&th);
	cr_assert_eq(tf_writer__close(w), 0);
	cr_assert_eq(tf_reader__open(path, &r), 0);
	h = tf_reader__header(r);
	cr_assert_not_null(h);
	cr_assert_str_eq(h->tool_name, "gscope");
	cr_assert_str_eq(h->tool_version, "1.2.3");
	cr_assert_eq(h->format_major, 1);
	cr_assert_eq(h->trace_clock, GSCOPE__V1__CLOCK_ID__CLOCK_MONOTONIC);
	cr_assert_eq(h->host->num_cpus, (uint32_t)sysconf(_SC_NPROCESSORS_ONLN));
	cr_assert_eq(gethostname(host, sizeof(host)), 0);
	cr_assert_str_eq(h->host->hostname, host);
	cr_assert_eq(h->n_attributes, 1);
	cr_assert_str_eq(h->attributes[0]->key, "ci.job");
	cr_assert_str_eq(h->attributes[0]->str_value, "42");
	cr_assert_eq(h->trace_uuid.len, 16);
	cr_assert_eq(h->clocks->n_clocks, 3);
	tf_reader__close(r);
}

Test(writer, skipped_columns_leave_the_others_intact, .init = setup, .fini = teardown)
{
	struct tf_writer *w;
	struct tf_reader *r;
	struct tf_packet pkt;
	char path[128];
	uint64_t n = 0, sum_next = 0;

	snprintf(path, sizeof(path), "%s/s.gst", dir);
	cr_assert_eq(tf_writer__open(path, NULL, NULL, &w), 0);
	for (uint32_t i = 0; i < 5000; i++) {
		struct tf_sched_switch s = { .ts = 100 + i, .cpu = 0, .prev_tid = i,
					     .prev_state = 1, .next_tid = 2 * i,
					     .next_prio = 120 };

		cr_assert_eq(tf_writer__sched_switch(w, &s), 0);
	}
	cr_assert_eq(tf_writer__close(w), 0);
	cr_assert_eq(tf_reader__open(path, &r), 0);
	tf_reader__skip_columns(r, TF_PKT_SCHED, 1u << TF_SW_PREV_TID |
				1u << TF_SW_PREV_STATE | 1u << TF_SW_TS);
	while (tf_reader__next(r, &pkt) > 0) {
		for (size_t i = 0; i < pkt.batch->n[0]; i++) {
			/* ts cannot be skipped; next_tid is decoded */
			cr_assert_eq(pkt.batch->col[TF_SW_TS][i], 100 + n);
			sum_next += pkt.batch->col[TF_SW_NEXT_TID][i];
			cr_assert_eq(pkt.batch->col[TF_SW_NEXT_PRIO][i], 120);
			n++;
		}
	}
	tf_reader__close(r);
	cr_assert_eq(n, 5000);
	cr_assert_eq(sum_next, 2ull * 4999 * 5000 / 2);
}

/* A random Go event exercising every column and every sparse-layout flag. */
static struct tf_go_event random_go_event(struct rng *r, uint64_t ts)
{
	struct tf_go_event e = {
		.ts = ts, .pid = 77, .kind = (uint32_t)below(r, 35),
		.goid = below(r, 8) ? 1 + below(r, 3000) : rnd(r),
		.p = (int32_t)below(r, 4) - 1, .m = 100 + below(r, 3),
	};
	uint8_t dt = tf_go_default_trans(e.kind);

	if (below(r, 5)) { /* mostly the kind's usual transition */
		e.from_state = dt >> 4;
		e.to_state = dt & 15;
	} else {
		e.from_state = (uint32_t)below(r, 6);
		e.to_state = (uint32_t)below(r, 6);
	}
	e.stack_id = below(r, 2) ? 1 + below(r, 200) : 0;
	e.reason_sid = below(r, 4) ? 0 : 1 + below(r, 20);
	e.arg = below(r, 3) ? 0 : rnd(r);
	e.arg2 = below(r, 4) ? 0 : 1 + below(r, 1000);
	if (below(r, 50) == 0)
		e.p = INT32_MIN;
	return e;
}

/*
 * The writer's sparse GoEventBatch layout reads back exactly, event for
 * event, with all columns and with some skipped; kinds past the layout's
 * six bits are refused.
 */
Test(writer, go_events_sparse_round_trip, .init = setup, .fini = teardown)
{
	enum { N = 30000 };
	struct tf_go_event *ev = calloc(N, sizeof(*ev));
	struct tf_go_event bad = { .ts = 1, .pid = 77, .kind = 64 };
	struct rng r = { 99 };
	struct tf_writer *w;
	char path[128];

	cr_assert_not_null(ev);
	snprintf(path, sizeof(path), "%s/go.gst", dir);
	cr_assert_eq(tf_writer__open(path, NULL, NULL, &w), 0);
	for (size_t i = 0; i < N; i++) {
		ev[i] = random_go_event(&r, 1000 + 37 * i + below(&r, 30));
		cr_assert_eq(tf_writer__go_event(w, &ev[i]), 0);
	}
	cr_assert_eq(tf_writer__go_event(w, &bad), -EINVAL);
	cr_assert_eq(tf_writer__close(w), 0);

	for (int pass = 0; pass < 2; pass++) {
		uint32_t skip = pass ? 1u << TF_GO_P | 1u << TF_GO_REASON |
				       1u << TF_GO_ARG2 | 1u << TF_GO_KIND : 0;
		struct tf_reader *rd;
		struct tf_packet pkt;
		size_t n = 0, batches = 0;

		cr_assert_eq(tf_reader__open(path, &rd), 0);
		tf_reader__skip_columns(rd, TF_PKT_GO_EVENTS, skip);
		while (tf_reader__next(rd, &pkt) > 0) {
			const struct tf_batch *b = pkt.batch;

			if (pkt.kind != TF_PKT_GO_EVENTS)
				continue;
			batches++;
			cr_assert_eq(b->key, 77);
			for (size_t i = 0; i < b->n[0]; i++, n++) {
				const struct tf_go_event *e = &ev[n];

				cr_assert_lt(n, N);
				cr_assert_eq(b->col[TF_GO_TS][i], e->ts, "event %zu", n);
				cr_assert_eq(b->col[TF_GO_GOID][i], e->goid, "event %zu", n);
				cr_assert_eq(b->col[TF_GO_FROM][i], e->from_state, "event %zu", n);
				cr_assert_eq(b->col[TF_GO_TO][i], e->to_state, "event %zu", n);
				cr_assert_eq(b->col[TF_GO_M][i], e->m, "event %zu", n);
				cr_assert_eq(b->col[TF_GO_STACK][i], e->stack_id, "event %zu", n);
				cr_assert_eq(b->col[TF_GO_ARG][i], e->arg, "event %zu", n);
				if (skip)
					continue;
				cr_assert_eq(b->col[TF_GO_KIND][i], e->kind, "event %zu", n);
				cr_assert_eq((int64_t)b->col[TF_GO_P][i], e->p, "event %zu", n);
				cr_assert_eq(b->col[TF_GO_REASON][i], e->reason_sid, "event %zu", n);
				cr_assert_eq(b->col[TF_GO_ARG2][i], e->arg2, "event %zu", n);
			}
		}
		tf_reader__close(rd);
		cr_assert_eq(n, N);
		cr_assert_gt(batches, 5);
	}
	free(ev);
}

/* Write ev[0..n) to path, one call per event or in blocks of random size. */
static void write_go(const char *path, const struct tf_go_event *ev, size_t n, bool blocks,
		     size_t bad_at)
{
	struct tf_writer_opts o = { .batch_events = 300, .flush_interval_ns = UINT64_MAX };
	struct rng r = { 5 };
	struct tf_writer *w;

	cr_assert_eq(tf_writer__open(path, &o, NULL, &w), 0);
	for (size_t i = 0; i < n;) {
		size_t k = blocks ? 1 + below(&r, 700) : 1;
		int err;

		if (k > n - i)
			k = n - i;
		err = blocks ? tf_writer__go_events(w, ev + i, k) : tf_writer__go_event(w, ev + i);
		if (bad_at >= i && bad_at < i + k) {
			cr_assert_eq(err, -EINVAL, "event %zu", bad_at);
			break;
		}
		cr_assert_eq(err, 0, "event %zu", i);
		i += k;
	}
	cr_assert_eq(tf_writer__close(w), 0);
}

/*
 * tf_writer__go_events() writes the bytes that one tf_writer__go_event()
 * per event writes: across batch boundaries, capacity growth and changes
 * of process; an event of a bad kind fails the call after the events
 * before it are written.
 */
Test(writer, go_events_in_blocks_write_the_same_bytes, .init = setup, .fini = teardown)
{
	enum { N = 20000 };
	struct tf_go_event *ev = calloc(N, sizeof(*ev));
	struct rng r = { 7 };
	char one[128], blk[128];
	uint32_t pid = 77;
	size_t len1, len2;
	uint8_t *a, *b;

	cr_assert_not_null(ev);
	for (size_t i = 0; i < N; i++) {
		if (below(&r, 200) == 0)
			pid = 70 + (uint32_t)below(&r, 4); /* runs of one process */
		ev[i] = random_go_event(&r, 100000 + 37 * i - below(&r, 3000)); /* out of order */
		ev[i].pid = pid;
	}
	snprintf(one, sizeof(one), "%s/one.gst", dir);
	snprintf(blk, sizeof(blk), "%s/blocks.gst", dir);
	for (int pass = 0; pass < 2; pass++) {
		size_t bad_at = pass ? N / 2 + 3 : SIZE_MAX;

		if (pass)
			ev[bad_at].kind = 64;
		write_go(one, ev, N, false, bad_at);
		write_go(blk, ev, N, true, bad_at);
		a = slurp(one, &len1);
		b = slurp(blk, &len2);
		cr_assert_gt(len1, 20000);
		cr_assert(len1 == len2 && !memcmp(a, b, len1), "pass %d: files differ", pass);
		free(a);
		free(b);
		cr_assert_eq(count_events(one, NULL), pass ? N / 2 + 3 : N);
	}
	free(ev);
}

/* pid's clock from event at on */
struct clk_change {
	size_t at;
	uint32_t pid;
	double tick_ns;
};

/* Write ev[0..n) with the clock changes clk, one call per event or in blocks. */
static void write_clocked(const char *path, const struct tf_go_event *ev, size_t n,
			  const struct clk_change *clk, size_t nclk, bool blocks)
{
	struct tf_writer_opts o = { .batch_events = 300, .flush_interval_ns = UINT64_MAX };
	struct rng r = { 11 };
	struct tf_writer *w;
	size_t c = 0;

	cr_assert_eq(tf_writer__open(path, &o, NULL, &w), 0);
	for (size_t i = 0; i < n;) {
		size_t k = blocks ? 1 + below(&r, 500) : 1;

		for (; c < nclk && clk[c].at <= i; c++)
			cr_assert_eq(tf_writer__go_clock(w, clk[c].pid, clk[c].tick_ns), 0);
		if (c < nclk && i + k > clk[c].at)
			k = clk[c].at - i; /* a block stops at a clock change */
		if (k > n - i)
			k = n - i;
		cr_assert_eq(blocks ? tf_writer__go_events(w, ev + i, k) :
				      tf_writer__go_event(w, ev + i), 0, "event %zu", i);
		i += k;
	}
	cr_assert_eq(tf_writer__close(w), 0);
}

/*
 * With a clock (tf_writer__go_clock()) the file keeps ticks, and every
 * event reads back at ts = tf_tick_ns(tick, tick_ns) to the nanosecond,
 * through decoded batches and through the cursor: ticks forward, backward,
 * negative and far enough to clamp; clocks that change, processes with
 * and without one, a clock dropped again.  One call per event and blocks
 * write the same bytes.
 */
Test(writer, go_clock_keeps_ticks_exactly, .init = setup, .fini = teardown)
{
	enum { N = 12000 };
	static const struct clk_change clk[] = {
		{ 0, 70, 24.666666666666668 }, { 0, 72, 1.0 / 3 },
		{ 4000, 70, 64 },   /* another clock: a new batch */
		{ 8000, 70, 0 },    /* back to ns */
		{ 9000, 73, 0.5 },
	};
	double k70a = clk[0].tick_ns, k70b = clk[2].tick_ns, k72 = clk[1].tick_ns,
	       k73 = clk[4].tick_ns;
	struct tf_go_event *ev = calloc(N, sizeof(*ev));
	int64_t tick[4] = { -50, 1000, 7, 123456789 };
	bool jumped[4] = { false };
	struct rng r = { 13 };
	char one[128], blk[128], ns[128];
	size_t len1, len2, len3, clamped = 0, negative = 0;
	uint8_t *a, *b;

	cr_assert_not_null(ev);
	for (size_t i = 0; i < N; i++) {
		uint32_t j = (uint32_t)below(&r, 4), s = (uint32_t)below(&r, 100);
		double k = j == 0 ? (i < 4000 ? k70a : i < 8000 ? k70b : 0) :
			   j == 2 ? k72 : j == 3 && i >= 9000 ? k73 : 0;

		if (i > N / 2 && !jumped[j]) { /* once: far enough to clamp at 64 ns */
			tick[j] += (int64_t)1 << 61;
			jumped[j] = true;
		}
		tick[j] += s == 0 ? -(int64_t)below(&r, 50) : (int64_t)below(&r, 60);
		ev[i] = random_go_event(&r, 0);
		ev[i].pid = 70 + j;
		if (k) {
			ev[i].tick = tick[j];
			ev[i].ts = tf_tick_ns(tick[j], k);
			clamped += ev[i].ts == (uint64_t)INT64_MAX;
			negative += tick[j] < 0;
		} else {
			ev[i].ts = (uint64_t)tick[j] * 17 + below(&r, 9);
		}
	}
	cr_assert_gt(clamped, 0);
	cr_assert_gt(negative, 0);
	snprintf(one, sizeof(one), "%s/one.gst", dir);
	snprintf(blk, sizeof(blk), "%s/blocks.gst", dir);
	snprintf(ns, sizeof(ns), "%s/ns.gst", dir);
	write_clocked(one, ev, N, clk, sizeof(clk) / sizeof(clk[0]), false);
	write_clocked(blk, ev, N, clk, sizeof(clk) / sizeof(clk[0]), true);
	write_clocked(ns, ev, N, NULL, 0, true);
	a = slurp(one, &len1);
	b = slurp(blk, &len2);
	free(slurp(ns, &len3));
	cr_assert(len1 == len2 && !memcmp(a, b, len1), "files differ");
	cr_assert_neq(len1, len3); /* the clocks were used */
	free(a);
	free(b);

	for (int cursor = 0; cursor < 2; cursor++) {
		struct tf_reader *rd;
		struct tf_packet pkt;
		size_t seen[4] = { 0 }, n = 0, cnt[4] = { 0 };
		size_t (*idx)[N] = calloc(4, sizeof(*idx));

		/* the events of each process, in order */
		cr_assert_not_null(idx);
		for (size_t i = 0; i < N; i++) {
			uint32_t j = ev[i].pid - 70;

			idx[j][cnt[j]++] = i;
		}
		cr_assert_eq(tf_reader__open(one, &rd), 0);
		if (cursor)
			tf_reader__go_cursor(rd, UINT32_MAX);
		while (tf_reader__next(rd, &pkt) > 0) {
			struct tf_go_event e;
			uint32_t j;

			if (pkt.kind != TF_PKT_GO_EVENTS)
				continue;
			j = (uint32_t)((cursor ? pkt.go->key : pkt.batch->key) - 70);
			cr_assert_lt(j, 4);
			for (size_t i = 0;; i++) {
				const struct tf_go_event *w;
				uint64_t ts;

				if (cursor) {
					int rc = tf_go_cursor__read(pkt.go, &e, 1);

					cr_assert_geq(rc, 0);
					if (!rc)
						break;
					ts = e.ts;
				} else {
					if (i >= pkt.batch->n[0])
						break;
					ts = pkt.batch->col[TF_GO_TS][i];
				}
				cr_assert_lt(seen[j], cnt[j]);
				w = &ev[idx[j][seen[j]++]];
				cr_assert_eq(ts, w->ts,
					     "pid %u event %zu: %llu want %llu (tick %lld)",
					     70 + j, seen[j] - 1, (unsigned long long)ts,
					     (unsigned long long)w->ts, (long long)w->tick);
				n++;
			}
		}
		tf_reader__close(rd);
		free(idx);
		cr_assert_eq(n, N);
	}
	free(ev);
}

/* A clock of NaN, infinity or a negative number is refused. */
Test(writer, go_clock_refuses_bad_clocks, .init = setup, .fini = teardown)
{
	struct tf_writer *w;
	char path[128];

	snprintf(path, sizeof(path), "%s/c.gst", dir);
	cr_assert_eq(tf_writer__open(path, NULL, NULL, &w), 0);
	cr_assert_eq(tf_writer__go_clock(w, 1, -1), -EINVAL);
	cr_assert_eq(tf_writer__go_clock(w, 1, 1.0 / 0.0), -EINVAL);
	cr_assert_eq(tf_writer__go_clock(w, 1, 0.0 / 0.0), -EINVAL);
	cr_assert_eq(tf_writer__go_clock(w, 1, 2.5), 0);
	cr_assert_eq(tf_writer__close(w), 0);
}
