/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Streaming .gst writer with bounded memory.
 *
 * Events are added one at a time; the writer groups them into columnar
 * batches (sched and CPU samples per CPU, Go events and allocations per
 * pid), encodes full batches into the current chunk, and writes the chunk
 * with a single write() once it holds chunk_bytes of raw payload or
 * flush_interval_ns has passed.  A writer killed at any moment therefore
 * leaves a file whose every complete chunk reads back; only tf_writer__close
 * adds the index and footer.
 *
 * Interned ids (strings, mappings, frames, stacks) are valid until the next
 * tf_writer__new_generation(); the writer emits each definition before any
 * packet that can refer to it.
 *
 * All functions return 0 or a negative error, logged through gs_log.  After
 * a write error every later call returns the same error.
 */
#ifndef TF_WRITER_H
#define TF_WRITER_H

#include "format/tf_format.h"

enum tf_writer_flags {
	/* write PATH.tmp.PID and rename it to PATH on close; abort removes it */
	TF_WRITER_ATOMIC = 1 << 0,
};

/*
 * Chunk compression.  LZ4 (the default) compresses about twice and
 * decompresses about three times as fast as zstd level 1; zstd files are
 * about a third smaller.
 */
enum tf_writer_compress {
	TF_COMPRESS_LZ4 = 0,
	TF_COMPRESS_ZSTD,
	TF_COMPRESS_NONE,
};

struct tf_writer_opts {
	size_t chunk_bytes;         /* raw payload per chunk; 0 = 512 KiB */
	size_t batch_events;        /* events per batch packet; 0 = 4096 */
	enum tf_writer_compress compress;
	int zstd_level;             /* zstd: 0 = 1; < 0 = store uncompressed */
	uint64_t flush_interval_ns; /* 0 = 1 s; UINT64_MAX = never */
	unsigned int flags;         /* enum tf_writer_flags */
};

struct tf_writer_stats {
	uint64_t events[TF_PKT_MAX];       /* per packet kind */
	uint64_t packet_bytes[TF_PKT_MAX]; /* raw encoded bytes per kind */
	uint64_t chunks;
	uint64_t file_bytes;
	uint64_t raw_bytes;
};

struct tf_writer;

/*
 * Create path (truncating it) and write the preamble and a HEADER chunk
 * made from hdr (may be NULL; format_major/minor are filled in).
 */
int tf_writer__open(const char *path, const struct tf_writer_opts *opts,
		    const Gscope__V1__TraceHeader *hdr, struct tf_writer **out);

int tf_writer__sched_switch(struct tf_writer *w, const struct tf_sched_switch *e);
int tf_writer__sched_wakeup(struct tf_writer *w, const struct tf_sched_wakeup *e);
int tf_writer__cpu_sample(struct tf_writer *w, const struct tf_cpu_sample *e);
int tf_writer__go_event(struct tf_writer *w, const struct tf_go_event *e);
/* n Go events, as n tf_writer__go_event() calls (they may span processes). */
int tf_writer__go_events(struct tf_writer *w, const struct tf_go_event *ev, size_t n);
/*
 * From now on pid's Go events carry their source clock's time (.tick),
 * with ts == tf_tick_ns(tick, tick_ns): the file keeps the ticks, which
 * take fewer bytes than ns.  tick_ns 0 goes back to ns (a source without
 * such a clock).  A change ends pid's current batch.  0 or an error.
 */
int tf_writer__go_clock(struct tf_writer *w, uint32_t pid, double tick_ns);
int tf_writer__alloc(struct tf_writer *w, const struct tf_alloc *e);

/* Add a low-volume packet (process, thread, GC cycle, ...), packed as is. */
int tf_writer__add_packet(struct tf_writer *w, const Gscope__V1__Packet *pkt);

int tf_writer__intern_string(struct tf_writer *w, const void *s, size_t len,
			     uint64_t *id);
int tf_writer__intern_mapping(struct tf_writer *w, const struct tf_mapping *m,
			      uint64_t *id);
int tf_writer__intern_frame(struct tf_writer *w, const struct tf_frame *f,
			    uint64_t *id);
/* frames[0] is the leaf; n == 0 gives id 0; n <= TF_MAX_STACK_DEPTH. */
int tf_writer__intern_stack(struct tf_writer *w, const uint64_t *frames,
			    size_t n, uint64_t *id);

/* Flush everything and start a generation: ids restart at 1. */
int tf_writer__new_generation(struct tf_writer *w);

/* Encode every open batch and write the current chunk. */
int tf_writer__flush(struct tf_writer *w);

const struct tf_writer_stats *tf_writer__stats(const struct tf_writer *w);

/* Flush, write the index and footer, close (and rename), free w. */
int tf_writer__close(struct tf_writer *w);

/* Free w without an index; an ATOMIC writer removes its file. NULL-safe. */
void tf_writer__abort(struct tf_writer *w);

#endif
