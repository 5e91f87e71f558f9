/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Deterministic synthetic trace content for tests, benchmarks and the demo:
 * a realistic mix of scheduler switches/wakeups and CPU samples over a few
 * CPUs and a Zipf-like thread population, interned stacks, and optionally
 * Go events, allocation samples and metadata packets.
 */
#ifndef GS_TESTS_SYNTH_H
#define GS_TESTS_SYNTH_H

#include <stdbool.h>
#include <stdint.h>

#include "format/tf_writer.h"

struct synth_opts {
	uint64_t events;     /* hot events in total */
	uint64_t seed;
	int ncpu;            /* 0 = 8 */
	int nthreads;        /* 0 = 200 */
	bool go_and_alloc;   /* add Go events and allocation samples */
	bool meta;           /* add process/thread/clock/GC/loss packets */
	uint64_t gen_every;  /* start a generation every N events; 0 = never */
	bool small;          /* 10 functions and 20 stacks instead of 500 and 2000 */
};

struct synth_counts {
	uint64_t sched_switch, sched_wakeup, cpu_samples, go_events, allocs;
	uint64_t meta_packets;
	uint64_t first_ts, last_ts;
	uint64_t sum_ts;     /* sum of all hot-event timestamps (mod 2^64) */
	uint64_t sum_tid;    /* sum of tids / goids of hot events */
};

/* Write the content into w (not closing it). 0 or a negative error. */
int synth_write(struct tf_writer *w, const struct synth_opts *o,
		struct synth_counts *c);

/* A fixed TraceHeader for reproducible files (no host, no wall clock). */
const Gscope__V1__TraceHeader *synth_header(void);

#endif
