// SPDX-License-Identifier: BSD-2-Clause
/*
 * libFuzzer harness: arbitrary bytes through the .gst reader; Go event
 * batches go through the event cursor when the input's size is odd.
 */
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
	if (size & 1)
		tf_reader__go_cursor(r, UINT32_MAX);
	while (tf_reader__next(r, &pkt) > 0) {
		const struct tf_batch *b = pkt.batch;

		if (pkt.go) {
			struct tf_go_event e[16];
			int rc;

			/* event by event, or in blocks as the analyses read */
			if (size & 2)
				while ((rc = tf_go_cursor__read(pkt.go, e, 1 + size % 16)) > 0)
					(void)tf_reader__string(r, e[rc - 1].reason_sid, &len);
			else
				while ((rc = tf_go_cursor__next(pkt.go, e)) > 0)
					(void)tf_reader__string(r, e[0].reason_sid, &len);
			if (rc < 0) {
				(void)tf_reader__go_failed(r);
				break;
			}
			continue;
		}

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
