// SPDX-License-Identifier: BSD-2-Clause
/*
 * libFuzzer harness for the hand-written batch codec: decode arbitrary
 * bytes as one of the four batch kinds; when that succeeds, re-encode and
 * decode again, and require the same values (a round-trip oracle).
 */
#include <stdlib.h>
#include <string.h>

#include "format/tf_batch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct tf_batch_buf a, b;
static struct gs_buf enc;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum tf_packet_kind kind;
	size_t at;

	if (size < 1)
		return 0;
	kind = (enum tf_packet_kind)(TF_PKT_CPU_SAMPLES + data[0] % 4);
	if (tf_batch__decode(&a, kind, data + 1, size - 1, &at))
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
