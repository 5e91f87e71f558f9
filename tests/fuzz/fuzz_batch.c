// SPDX-License-Identifier: BSD-2-Clause
/*
 * libFuzzer harness for the hand-written batch codec: decode arbitrary
 * bytes as one of the four batch kinds; when that succeeds, re-encode and
 * decode again, and require the same values (a round-trip oracle).  Go
 * event batches also go through the cursor, which must read the same
 * events when the decoder accepts the bytes (and never crash otherwise),
 * and the sparse reader, which must read the same one by one and a block
 * at a time.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "format/tf_batch.h"
#include "tests/lib/gocursor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct tf_batch_buf a, b;
static struct gs_buf enc;

static void check_cursor(const uint8_t *p, size_t len, const struct tf_batch *d)
{
	struct tf_go_cursor c;
	struct tf_go_event e;
	size_t at, i = 0;
	char why[160];
	int rc = tf_go_cursor__init(&c, p, len, UINT32_MAX, &at);

	if (rc == -EAGAIN) {
		if (!d)
			return;
		tf_go_cursor__init_batch(&c, d, UINT32_MAX);
		rc = 0;
	}
	if (rc) {
		if (d)
			abort(); /* the decoder took it */
		return;
	}
	while ((rc = tf_go_cursor__next(&c, &e)) > 0) {
		if (!d)
			continue;
		if (i >= d->n[0] || e.ts != d->col[TF_GO_TS][i] ||
		    e.kind != (uint32_t)d->col[TF_GO_KIND][i] ||
		    e.goid != d->col[TF_GO_GOID][i] ||
		    e.from_state != (uint32_t)d->col[TF_GO_FROM][i] ||
		    e.to_state != (uint32_t)d->col[TF_GO_TO][i] ||
		    e.reason_sid != d->col[TF_GO_REASON][i] ||
		    e.p != (int32_t)d->col[TF_GO_P][i] || e.m != d->col[TF_GO_M][i] ||
		    e.stack_id != d->col[TF_GO_STACK][i] || e.arg != d->col[TF_GO_ARG][i] ||
		    e.arg2 != d->col[TF_GO_ARG2][i])
			abort();
		i++;
	}
	if (d && (rc != 0 || i != d->n[0]))
		abort();
	/* blocks of events: the same events and the same end or error */
	if (gocursor_read_agrees(p, len, d, UINT32_MAX, 1 + len % 64, why, sizeof(why)) ||
	    gocursor_read_agrees(p, len, d, 1u << TF_GO_STACK | 1u << TF_GO_P, 3, why,
				 sizeof(why)))
		abort();
	/* the sparse reader a block at a time (SIMD) as one by one */
	if (gocursor_block_agrees(p, len, UINT32_MAX, why, sizeof(why)) ||
	    gocursor_block_agrees(p, len, 1u << TF_GO_GOID | 1u << TF_GO_STACK | 1u << TF_GO_REASON,
				  why, sizeof(why)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum tf_packet_kind kind;
	size_t at;

	int derr;

	if (size < 1)
		return 0;
	kind = (enum tf_packet_kind)(TF_PKT_CPU_SAMPLES + data[0] % 4);
	derr = tf_batch__decode(&a, kind, data + 1, size - 1, &at);
	if (kind == TF_PKT_GO_EVENTS)
		check_cursor(data + 1, size - 1, derr ? NULL : &a.b);
	if (derr)
		return 0;
	enc.len = 0;
	if (tf_batch__encode(&a.b, &enc))
		abort();
	if (tf_batch__decode(&b, kind, enc.data, enc.len, &at))
		abort();
	for (int g = 0; g < 2; g++)
		if (a.b.n[g] != b.b.n[g])
			abort();
	for (unsigned int f = 1; f < TF_BATCH_MAX_FIELDS; f++) {
		int g = tf_batch_field_group(kind, f);

		if (g < 0)
			continue;
		if (a.b.n[g] && memcmp(a.b.col[f], b.b.col[f],
				       a.b.n[g] * sizeof(uint64_t)))
			abort();
	}
	return 0;
}
