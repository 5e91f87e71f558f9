/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Trace summary: what `gscope info` shows.  One streaming pass over a .gst
 * file: event and byte counts per packet kind, time span, and the losses
 * the reader met.
 */
#ifndef AN_INFO_H
#define AN_INFO_H

#include <stdbool.h>
#include <stdint.h>

#include "base/gs_mem.h"
#include "format/tf_reader.h"

struct an_info_kind {
	uint64_t packets;
	uint64_t events;        /* events (batches) or packets (others) */
	uint64_t raw_bytes;     /* encoded packet bytes */
	double stored_bytes;    /* share of the compressed chunk bytes */
};

struct an_info {
	uint64_t file_bytes;
	unsigned int major, minor;
	/* header fields, copied (NULL when absent) into arena */
	const char *tool_name, *tool_version;
	const char *hostname, *kernel, *machine;
	uint32_t num_cpus;
	int clock;              /* Gscope__V1__ClockId, -1 if unknown */
	uint64_t start_ts;
	int64_t start_realtime_ns;
	bool has_header;

	uint64_t first_ts, last_ts; /* over every event; first > last: none */
	uint64_t data_chunks;
	uint32_t generations;
	uint64_t sched_switch, sched_wakeup;
	uint64_t lost_events;   /* reported by the recorder (batches, loss packets) */
	struct an_info_kind kinds[TF_PKT_MAX + 1]; /* [TF_PKT_MAX] = unknown */
	struct tf_losses losses;
	bool has_index;
	struct gs_arena arena;
};

/* Summarise path; 0 or a negative error (already logged). */
int an_info__compute(const char *path, struct an_info *info);
void an_info__release(struct an_info *info);

/* Name of a Gscope__V1__ClockId value ("monotonic"); "unknown" else. */
const char *an_clock_name(int clock);

#endif
