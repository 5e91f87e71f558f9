// SPDX-License-Identifier: BSD-2-Clause
/*
 * bench_format: write and read N synthetic events (scheduler switches and
 * wakeups, CPU samples with interned stacks) through the .gst writer and
 * reader, and print rates measured in thread CPU time:
 *
 *   write_events_per_s=...  read_events_per_s=...  bytes_per_event=...
 *   sched_bytes_per_event=...
 *
 * Events are generated up front (a block replayed with shifted
 * timestamps), so the write rate covers the writer only.  Each phase runs
 * -r times (default 3) and the median is printed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/gs_err.h"
#include "base/gs_parse.h"
#include "format/tf_reader.h"
#include "format/tf_writer.h"
#include "tests/lib/synth.h"

#define BLOCK (1u << 20)

enum ev_kind { EV_SWITCH, EV_WAKE, EV_SAMPLE };

struct ev {
	uint8_t kind;
	union {
		struct tf_sched_switch sw;
		struct tf_sched_wakeup wk;
		struct tf_cpu_sample cs;
	};
};

static uint64_t rng = 88172645463325252ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint32_t tid(void)
{
	return rnd() % 100 < 80 ? 1000 + (uint32_t)(rnd() % 30) :
				  1000 + (uint32_t)(rnd() % 300);
}

/* One block: 8 CPUs, ~2 us between events overall, 45/35/20 mix. */
static void gen_block(struct ev *evs, uint64_t *span)
{
	uint32_t cur[8];
	uint64_t now = 0;

	for (int i = 0; i < 8; i++)
		cur[i] = tid();
	for (uint32_t i = 0; i < BLOCK; i++) {
		int cpu = (int)(rnd() % 8);
		unsigned int k = (unsigned int)(rnd() % 100);
		struct ev *e = &evs[i];

		now += 1 + rnd() % 4000;
		if (k < 45) {
			e->kind = EV_SWITCH;
			e->sw = (struct tf_sched_switch){
				.ts = now, .cpu = cpu, .prev_tid = cur[cpu],
				.prev_state = rnd() % 10 < 3 ? 0 : 1,
				.next_tid = tid(), .next_prio = 120,
			};
			cur[cpu] = e->sw.next_tid;
		} else if (k < 80) {
			e->kind = EV_WAKE;
			e->wk = (struct tf_sched_wakeup){
				.ts = now, .cpu = cpu, .tid = tid(),
				.target_cpu = (int32_t)(rnd() % 8), .waker_tid = cur[cpu],
			};
		} else {
			e->kind = EV_SAMPLE;
			e->cs = (struct tf_cpu_sample){
				.ts = now, .cpu = cpu, .tid = cur[cpu],
				.stack_id = 1 + rnd() % 5000, .weight = 10101010,
			};
		}
	}
	*span = now;
}

static int intern_stacks(struct tf_writer *w)
{
	uint64_t frames[400], id;
	int err = 0;

	for (int i = 0; i < 400 && !err; i++) {
		struct tf_frame f = { .rel_pc = 0x1000 + (uint64_t)i * 16, .kind = 3 };
		char name[32];
		int n = snprintf(name, sizeof(name), "main.f%d", i);

		err = tf_writer__intern_string(w, name, (size_t)n, &f.function_sid);
		err = err ?: tf_writer__intern_frame(w, &f, &frames[i]);
	}
	/* 5000 stacks of depth 8..24: ids 1..N of leaves are not contiguous,
	 * but the samples only need valid ids; use the trie's leaf ids */
	for (int s = 0; s < 5000 && !err; s++) {
		uint64_t st[24];
		int d = 8 + (int)(rnd() % 17);

		for (int k = 0; k < d; k++)
			st[k] = frames[k == d - 1 ? 0 : rnd() % 400];
		err = tf_writer__intern_stack(w, st, (size_t)d, &id);
	}
	return err;
}

static int write_file(const char *path, const struct ev *evs, uint64_t span,
		      uint64_t n, double *secs)
{
	struct tf_writer *w;
	double t0;
	int err;

	err = tf_writer__open(path, NULL, synth_header(), &w);
	if (err)
		return err;
	err = intern_stacks(w);
	t0 = cpu_now();
	for (uint64_t i = 0; i < n && !err; i++) {
		const struct ev *e = &evs[i % BLOCK];
		uint64_t shift = (i / BLOCK) * (span + 1);

		switch (e->kind) {
		case EV_SWITCH: {
			struct tf_sched_switch s = e->sw;

			s.ts += shift;
			err = tf_writer__sched_switch(w, &s);
			break;
		}
		case EV_WAKE: {
			struct tf_sched_wakeup k = e->wk;

			k.ts += shift;
			err = tf_writer__sched_wakeup(w, &k);
			break;
		}
		default: {
			struct tf_cpu_sample c = e->cs;

			c.ts += shift;
			err = tf_writer__cpu_sample(w, &c);
			break;
		}
		}
	}
	if (err) {
		tf_writer__abort(w);
		return err;
	}
	err = tf_writer__close(w);
	*secs = cpu_now() - t0;
	return err;
}

static int read_file(const char *path, uint64_t *events, double *sched_bytes,
		     uint64_t *sched_events, double *secs)
{
	struct tf_reader *r;
	struct tf_packet pkt;
	uint64_t sum = 0;
	double t0 = cpu_now();
	int err;

	*events = *sched_events = 0;
	*sched_bytes = 0;
	err = tf_reader__open(path, &r);
	if (err)
		return err;
	while ((err = tf_reader__next(r, &pkt)) > 0) {
		if (!pkt.batch)
			continue;
		*events += pkt.batch->n[0] + pkt.batch->n[1];
		sum += pkt.batch->col[3][0];
		if (pkt.kind == TF_PKT_SCHED) {
			*sched_events += pkt.batch->n[0] + pkt.batch->n[1];
			*sched_bytes += (double)pkt.size * pkt.chunk_stored_len /
					pkt.chunk_raw_len;
		}
	}
	*secs = cpu_now() - t0;
	tf_reader__close(r);
	if (sum == 42)
		fputc(' ', stderr); /* keep the loop honest */
	return err;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void log_stderr(enum gs_log_level level, const char *msg)
{
	if (level <= GS_LOG_WARN)
		fprintf(stderr, "bench_format: %s\n", msg);
}

int main(int argc, char **argv)
{
	uint64_t n = 10000000, span, events = 0, sched_events = 0;
	const char *path = "build/bench/format.gst";
	double wt[15], rt[15], sched_bytes = 0;
	unsigned long reps = 3;
	struct ev *evs;
	FILE *f;
	long size;
	int opt, err = 0;

	gs_log__set_fn(log_stderr);
	while ((opt = getopt(argc, argv, "n:o:r:")) != -1) {
		uint64_t v;

		if (opt == '?' || gs_parse_u64(optarg, 1, UINT64_MAX, &v)) {
			if (opt != 'o') {
				fprintf(stderr, "usage: bench_format [-n EVENTS] [-r REPS] [-o FILE]\n");
				return 2;
			}
		}
		if (opt == 'n')
			n = v;
		else if (opt == 'r')
			reps = v > 15 ? 15 : (unsigned long)v;
		else if (opt == 'o')
			path = optarg;
	}
	evs = calloc(BLOCK, sizeof(*evs));
	if (!evs)
		return 1;
	gen_block(evs, &span);
	fprintf(stderr, "bench_format: %llu events, %lu runs per phase, file %s\n",
		(unsigned long long)n, reps, path);
	for (unsigned long i = 0; i < reps && !err; i++)
		err = write_file(path, evs, span, n, &wt[i]);
	for (unsigned long i = 0; i < reps && !err; i++)
		err = read_file(path, &events, &sched_bytes, &sched_events, &rt[i]);
	free(evs);
	if (err) {
		fprintf(stderr, "bench_format: failed: %s\n", gs_strerror(err));
		return 1;
	}
	if (events != n) {
		fprintf(stderr, "bench_format: read %llu events, wrote %llu\n",
			(unsigned long long)events, (unsigned long long)n);
		return 1;
	}
	f = fopen(path, "rb");
	if (!f || fseek(f, 0, SEEK_END) || (size = ftell(f)) < 0)
		return 1;
	fclose(f);
	qsort(wt, reps, sizeof(double), cmp_double);
	qsort(rt, reps, sizeof(double), cmp_double);
	printf("events=%llu\n", (unsigned long long)n);
	printf("write_events_per_s=%.0f\n", (double)n / wt[reps / 2]);
	printf("read_events_per_s=%.0f\n", (double)n / rt[reps / 2]);
	printf("bytes_per_event=%.3f\n", (double)size / (double)n);
	printf("sched_bytes_per_event=%.3f\n", sched_bytes / (double)sched_events);
	printf("file_bytes=%ld\n", size);
	return 0;
}
