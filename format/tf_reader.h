/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Streaming .gst reader.
 *
 * Iterates packets chunk by chunk; memory holds one chunk and the current
 * generation's interning tables, never the file.  Both CRCs of every chunk
 * are checked.  A chunk with a bad payload CRC is skipped; a bad header
 * makes the reader resynchronise on the next valid header (8-byte aligned);
 * a file that ends inside a chunk stops at the last complete one.  All of
 * it is counted in struct tf_losses instead of failing.  What does fail
 * (returns a negative error, logged with file and offset): a file that is
 * not a .gst trace, an unsupported major version, and a CRC-valid chunk
 * whose contents do not parse (a writer bug or a crafted file).
 *
 * Interning tables are applied as INTERN packets go by and reset at each
 * generation; lookups answer for the current generation.
 */
#ifndef TF_READER_H
#define TF_READER_H

#include "format/tf_batch.h"
#include "format/tf_format.h"

struct tf_losses {
	uint64_t chunks_read;      /* valid chunks of every type */
	uint64_t chunks_skipped;   /* corrupt, or missing by sequence number */
	uint64_t bytes_skipped;    /* bytes passed over outside a truncated tail */
	bool truncated;            /* the file ends inside a chunk or footer */
	uint64_t truncated_bytes;  /* bytes of that incomplete tail */
	bool clean_close;          /* index and footer present and valid */
	uint64_t intern_dropped;   /* interned entries with unusable ids */
};

struct tf_packet {
	enum tf_packet_kind kind;  /* TF_PKT_NONE: a member this reader lacks */
	uint32_t field;            /* the Packet oneof field number */
	size_t size;               /* encoded bytes of the packet record */
	uint64_t chunk_offset;     /* file offset of its chunk header */
	uint32_t chunk_seq, generation;
	uint32_t chunk_raw_len, chunk_stored_len;
	uint8_t chunk_codec;       /* enum tf_codec */
	const struct tf_batch *batch;    /* batch kinds (but see go) */
	struct tf_go_cursor *go;         /* GoEventBatch, after tf_reader__go_cursor() */
	const Gscope__V1__Packet *msg;   /* other kinds */
};

struct tf_reader;

/* Open a file; checks the preamble and reads the HEADER chunk. */
int tf_reader__open(const char *path, struct tf_reader **out);

/* Same over memory (borrowed until close); name is used in messages. */
int tf_reader__open_mem(const void *data, size_t len, const char *name,
			struct tf_reader **out);

/*
 * Next packet: 1 and *pkt filled (pointers valid until the next call),
 * 0 at the end, or a negative error.
 */
int tf_reader__next(struct tf_reader *r, struct tf_packet *pkt);

/*
 * Do not decode the columns of batch kind whose field numbers are set in
 * mask (bit f = field f; the timestamp columns cannot be skipped): their
 * values in tf_batch are then not meaningful.  Saves time for analyses
 * that read a few columns.
 */
void tf_reader__skip_columns(struct tf_reader *r, enum tf_packet_kind kind,
			     uint32_t mask);

/*
 * Deliver GoEventBatch packets as a cursor (pkt->go, pkt->batch NULL) over
 * the fields in want (1 << TF_GO_*): the fastest way through every Go
 * event.  When tf_go_cursor__next() fails, tf_reader__go_failed() logs
 * where (file, chunk, offset) and returns the error.
 */
void tf_reader__go_cursor(struct tf_reader *r, uint32_t want);
int tf_reader__go_failed(struct tf_reader *r);

/* The trace header, or NULL if its chunk was lost. */
const Gscope__V1__TraceHeader *tf_reader__header(const struct tf_reader *r);

/* The index, once read (at the end of a cleanly closed file), or NULL. */
const Gscope__V1__TraceIndex *tf_reader__index(const struct tf_reader *r);

void tf_reader__version(const struct tf_reader *r, unsigned int *major,
			unsigned int *minor);
uint64_t tf_reader__file_size(const struct tf_reader *r);
const struct tf_losses *tf_reader__losses(const struct tf_reader *r);

/* Interned data of the current generation; NULL when unknown. */
const char *tf_reader__string(const struct tf_reader *r, uint64_t id, size_t *len);
const struct tf_frame *tf_reader__frame(const struct tf_reader *r, uint64_t id);
const struct tf_mapping *tf_reader__mapping(const struct tf_reader *r, uint64_t id);

/* Frame ids of stack id, leaf first, at most max; returns the count. */
size_t tf_reader__stack(const struct tf_reader *r, uint64_t stack_id,
			uint64_t *frames, size_t max);

/* NULL-safe. */
void tf_reader__close(struct tf_reader *r);

#endif
