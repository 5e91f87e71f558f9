// SPDX-License-Identifier: BSD-2-Clause
#include "base/gs_crc32c.h"
#include "base/gs_err.h"
#include "format/tf_format.h"

static const char *const kind_names[TF_PKT_MAX] = {
	[TF_PKT_NONE] = "none",
	[TF_PKT_CPU_SAMPLES] = "cpu_samples",
	[TF_PKT_SCHED] = "sched",
	[TF_PKT_GO_EVENTS] = "go_events",
	[TF_PKT_ALLOCS] = "allocs",
	[TF_PKT_INTERN] = "intern",
	[TF_PKT_PROCESS] = "process",
	[TF_PKT_THREAD] = "thread",
	[TF_PKT_CLOCK_SNAPSHOT] = "clock_snapshot",
	[TF_PKT_GC_CYCLE] = "gc_cycle",
	[TF_PKT_LOSS] = "loss",
	[TF_PKT_SYMBOLS] = "symbols",
	[TF_PKT_SCHED_TRACE] = "sched_trace",
};

const char *tf_packet_kind_name(enum tf_packet_kind kind)
{
	if ((unsigned int)kind < TF_PKT_MAX)
		return kind_names[kind];
	return "unknown";
}

void tf_chunk_hdr__encode(const struct tf_chunk_hdr *h, uint8_t out[TF_CHUNK_HDR_SIZE])
{
	tf_put_le32(out, TF_SYNC);
	out[4] = h->type;
	out[5] = h->codec;
	tf_put_le16(out + 6, h->flags);
	tf_put_le32(out + 8, h->stored_len);
	tf_put_le32(out + 12, h->raw_len);
	tf_put_le32(out + 16, h->seq);
	tf_put_le32(out + 20, h->generation);
	tf_put_le32(out + 24, h->payload_crc);
	tf_put_le32(out + 28, gs_crc32c(0, out, 28));
}

int tf_chunk_hdr__decode(const uint8_t in[TF_CHUNK_HDR_SIZE], struct tf_chunk_hdr *h)
{
	if (tf_get_le32(in) != TF_SYNC)
		return -GS_E_CORRUPT;
	h->header_crc = tf_get_le32(in + 28);
	if (gs_crc32c(0, in, 28) != h->header_crc && !TF_FUZZING)
		return -GS_E_CORRUPT;
	h->type = in[4];
	h->codec = in[5];
	h->flags = (uint16_t)(in[6] | in[7] << 8);
	h->stored_len = tf_get_le32(in + 8);
	h->raw_len = tf_get_le32(in + 12);
	h->seq = tf_get_le32(in + 16);
	h->generation = tf_get_le32(in + 20);
	h->payload_crc = tf_get_le32(in + 24);
	if (h->stored_len > TF_MAX_CHUNK_BYTES || h->raw_len > TF_MAX_CHUNK_BYTES)
		return -GS_E_LIMIT;
	if (h->codec == TF_CODEC_NONE && h->raw_len != h->stored_len)
		return -GS_E_CORRUPT;
	return 0;
}
