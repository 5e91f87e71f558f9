/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Hand-written codec for the columnar batch packets (CpuSampleBatch,
 * SchedBatch, GoEventBatch, AllocBatch).  protobuf-c unpack allocates per
 * column and per message; this codec decodes packed varints straight into
 * reusable column arrays, and encodes from them.  It is wire-compatible
 * with protobuf-c in both directions (tests check it): it accepts packed
 * and unpacked repeated fields, skips unknown fields, and writes canonical
 * packed encoding in field-number order.
 */
#ifndef TF_BATCH_H
#define TF_BATCH_H

#include "base/gs_mem.h"
#include "format/tf_format.h"

/* Column storage reused across decodes. */
struct tf_batch_buf {
	struct tf_batch b;
	size_t cap[TF_BATCH_MAX_FIELDS];
	/* per kind, columns (1 << field) the caller does not need: skipped
	 * without decoding; their col[] and present[] are not meaningful */
	uint32_t skip[TF_PKT_ALLOCS + 1];
};

/*
 * Decode the body of a batch message of the given kind (the bytes inside
 * the Packet field, without its tag and length) into bb->b.  Returns 0, or
 * -GS_E_FORMAT / -GS_E_LIMIT / -ENOMEM; *err_at gets the offset within p
 * of a malformed field.
 */
int tf_batch__decode(struct tf_batch_buf *bb, enum tf_packet_kind kind,
		     const uint8_t *p, size_t len, size_t *err_at);

void tf_batch_buf__release(struct tf_batch_buf *bb);

/*
 * Encode batch b (all columns of each group hold b->n[g] values; ts
 * columns absolute) as the body of a batch message appended to out.
 * Columns whose values all equal their default are left out.
 * Returns 0 or -ENOMEM.
 */
int tf_batch__encode(const struct tf_batch *b, struct gs_buf *out);

/* Group (0 or 1) of field f of kind, or -1 when f is not a column. */
int tf_batch_field_group(enum tf_packet_kind kind, unsigned int f);

/* Field number of the timestamp column of group g of kind. */
unsigned int tf_batch_ts_field(enum tf_packet_kind kind, int g);

/* Name of column f of kind, for dumps ("prev_tid"), or NULL. */
const char *tf_batch_field_name(enum tf_packet_kind kind, unsigned int f);

/* True when column f holds signed values. */
bool tf_batch_field_signed(enum tf_packet_kind kind, unsigned int f);

#endif
