// SPDX-License-Identifier: BSD-2-Clause
/*
 * gst-synth: write a deterministic synthetic .gst trace (tests, demo).
 *
 *   gst-synth [-n EVENTS] [-s SEED] [-c NCPU] [-g] [-m] [-G EVERY]
 *             [-b CHUNK_BYTES] [-z LEVEL] [-k] [-o FILE]
 *
 * -H writes this host's details in the header instead of fixed ones,
 * -S uses 10 functions and 20 stacks (small files for fuzz seeds and goldens),
 * -g adds Go events and allocations, -m metadata packets, -G starts a
 * generation every EVERY events, -k never closes: after writing it flushes,
 * prints "ready" and sleeps until killed (SIGKILL tests).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/gs_err.h"
#include "base/gs_parse.h"
#include "format/tf_header.h"
#include "tests/lib/synth.h"

static void log_stderr(enum gs_log_level level, const char *msg)
{
	if (level <= GS_LOG_WARN)
		fprintf(stderr, "gst-synth: %s\n", msg);
}

static uint64_t num(const char *s, uint64_t max)
{
	uint64_t v;

	if (gs_parse_u64(s, 0, max, &v)) {
		fprintf(stderr, "gst-synth: bad number '%s'\n", s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	struct synth_opts so = { .events = 100000, .seed = 1 };
	struct tf_writer_opts wo = { 0 };
	struct synth_counts c;
	struct tf_writer *w;
	const char *out = "synth.gst";
	bool hang = false, host = false;
	struct tf_header th;
	int opt, err;

	gs_log__set_fn(log_stderr);
	while ((opt = getopt(argc, argv, "n:s:c:gmG:b:z:ko:B:SH")) != -1) {
		switch (opt) {
		case 'n': so.events = num(optarg, UINT64_MAX); break;
		case 's': so.seed = num(optarg, UINT64_MAX); break;
		case 'c': so.ncpu = (int)num(optarg, 256); break;
		case 'g': so.go_and_alloc = true; break;
		case 'm': so.meta = true; break;
		case 'G': so.gen_every = num(optarg, UINT64_MAX); break;
		case 'b': wo.chunk_bytes = num(optarg, 1 << 24); break;
		case 'B': wo.batch_events = num(optarg, 1 << 20); break;
		case 'z': /* zstd at LEVEL, -1: uncompressed (default: LZ4) */
			wo.zstd_level = !strcmp(optarg, "-1") ? -1 : (int)num(optarg, 22);
			wo.compress = TF_COMPRESS_ZSTD;
			break;
		case 'k': hang = true; break;
		case 'S': so.small = true; break;
		case 'H': host = true; break;
		case 'o': out = optarg; break;
		default:
			fprintf(stderr, "usage: gst-synth [-n N] [-s SEED] [-c NCPU] [-g] [-m] [-G N] [-b BYTES] [-B EVENTS] [-z LEVEL] [-S] [-H] [-k] [-o FILE]\n");
			return 2;
		}
	}
	if (host && tf_header__init_host(&th, GSCOPE_VERSION))
		return 1;
	err = tf_writer__open(out, &wo, host ? &th.h : synth_header(), &w);
	if (host)
		tf_header__release(&th);
	if (err)
		return 1;
	err = synth_write(w, &so, &c);
	if (err) {
		tf_writer__abort(w);
		return 1;
	}
	if (hang) {
		err = tf_writer__flush(w);
		printf("ready %llu\n", (unsigned long long)(c.sched_switch +
			c.sched_wakeup + c.cpu_samples + c.go_events + c.allocs));
		fflush(stdout);
		for (;;)
			pause();
	}
	err = tf_writer__close(w);
	if (err)
		return 1;
	printf("sched_switch=%llu sched_wakeup=%llu cpu_samples=%llu go_events=%llu allocs=%llu\n",
	       (unsigned long long)c.sched_switch, (unsigned long long)c.sched_wakeup,
	       (unsigned long long)c.cpu_samples, (unsigned long long)c.go_events,
	       (unsigned long long)c.allocs);
	return 0;
}
