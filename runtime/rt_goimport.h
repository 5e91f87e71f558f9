/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Import a Go execution trace (v1 or v2) into a .gst writer: decoded events
 * become GoEventBatch rows, stacks become interned frames and stack-trie
 * nodes, CPU samples become CpuSampleBatch rows, and a ProcessInfo packet
 * describes the source.
 */
#ifndef RT_GOIMPORT_H
#define RT_GOIMPORT_H

#include "format/tf_writer.h"
#include "runtime/rt_gotrace.h"

struct rt_goimport_opts {
	uint32_t pid;          /* process id to record the events under */
	const char *source;    /* shown in ProcessInfo; NULL = name */
	/* called every 65536 events with the count so far (may be NULL) */
	void (*progress)(void *ctx, uint64_t events);
	void *progress_ctx;
};

/* Decode data (a whole Go trace) into w.  0 or a negative error (logged). */
int rt_goimport__mem(const uint8_t *data, size_t len, const char *name,
		     const struct rt_goimport_opts *o, struct tf_writer *w,
		     struct rt_gotrace_stats *st);

/* Same for a file, mapped read-only. */
int rt_goimport__file(const char *path, const struct rt_goimport_opts *o,
		      struct tf_writer *w, struct rt_gotrace_stats *st);

#endif
