// SPDX-License-Identifier: BSD-2-Clause
/* libFuzzer harness: arbitrary bytes through the .gst reader. */
#include <stddef.h>
#include <stdint.h>

#include "format/tf_reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tf_reader *r;
	struct tf_packet pkt;
	uint64_t frames[TF_MAX_STACK_DEPTH];
	size_t len;

	if (tf_reader__open_mem(data, size, "fuzz", &r))
		return 0;
	while (tf_reader__next(r, &pkt) > 0) {
		const struct tf_batch *b = pkt.batch;

		if (!b || b->kind != TF_PKT_CPU_SAMPLES)
			continue;
		for (size_t i = 0; i < b->n[0] && i < 64; i++) {
			size_t n = tf_reader__stack(r, b->col[TF_CPU_STACK][i], frames,
						    TF_MAX_STACK_DEPTH);

			for (size_t k = 0; k < n; k++) {
				const struct tf_frame *f = tf_reader__frame(r, frames[k]);

				if (f)
					(void)tf_reader__string(r, f->function_sid, &len);
			}
		}
	}
	(void)tf_reader__losses(r);
	tf_reader__close(r);
	return 0;
}
