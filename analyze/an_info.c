// SPDX-License-Identifier: BSD-2-Clause
#include <string.h>

#include "analyze/an_info.h"
#include "format/tf_batch.h"

const char *an_clock_name(int clock)
{
	static const char *const names[] = {
		"unknown", "realtime", "realtime_coarse", "monotonic",
		"monotonic_coarse", "monotonic_raw", "boottime", "tai",
	};

	if (clock < 0 || clock >= (int)(sizeof(names) / sizeof(names[0])))
		return "unknown";
	return names[clock];
}

static const char *copy(struct an_info *info, const char *s)
{
	return s ? gs_arena__strndup(&info->arena, s, strlen(s)) : NULL;
}

static void take_header(struct an_info *info, const Gscope__V1__TraceHeader *h)
{
	info->has_header = true;
	info->tool_name = copy(info, h->tool_name);
	info->tool_version = copy(info, h->tool_version);
	info->clock = h->has_trace_clock ? (int)h->trace_clock : -1;
	info->start_ts = h->start_ts;
	info->start_realtime_ns = h->start_realtime_ns;
	if (h->host) {
		info->hostname = copy(info, h->host->hostname);
		info->kernel = copy(info, h->host->kernel_release);
		info->machine = copy(info, h->host->machine);
		info->num_cpus = h->host->num_cpus;
	}
}

static void see_ts(struct an_info *info, uint64_t ts)
{
	if (ts < info->first_ts)
		info->first_ts = ts;
	if (ts > info->last_ts)
		info->last_ts = ts;
}

static void see_batch(struct an_info *info, const struct tf_batch *b)
{
	for (int g = 0; g < 2; g++) {
		const uint64_t *ts = b->col[tf_batch_ts_field(b->kind, g)];

		for (size_t i = 0; i < b->n[g]; i++)
			see_ts(info, ts[i]);
	}
	if (b->kind == TF_PKT_SCHED) {
		info->sched_switch += b->n[0];
		info->sched_wakeup += b->n[1];
	}
	info->lost_events += b->lost_events;
}

static void see_meta(struct an_info *info, const Gscope__V1__Packet *m)
{
	switch (m->data_case) {
	case GSCOPE__V1__PACKET__DATA_GC_CYCLE:
		if (m->gc_cycle->has_start_ts)
			see_ts(info, m->gc_cycle->start_ts);
		if (m->gc_cycle->has_end_ts)
			see_ts(info, m->gc_cycle->end_ts);
		break;
	case GSCOPE__V1__PACKET__DATA_LOSS:
		info->lost_events += m->loss->lost_events;
		break;
	default:
		break;
	}
}

int an_info__compute(const char *path, struct an_info *info)
{
	struct tf_reader *r;
	struct tf_packet pkt;
	uint64_t last_chunk = UINT64_MAX;
	uint32_t last_gen = UINT32_MAX;
	int err;

	memset(info, 0, sizeof(*info));
	info->clock = -1;
	info->first_ts = UINT64_MAX;
	err = tf_reader__open(path, &r);
	if (err)
		return err;
	info->file_bytes = tf_reader__file_size(r);
	tf_reader__version(r, &info->major, &info->minor);
	while ((err = tf_reader__next(r, &pkt)) > 0) {
		struct an_info_kind *k = &info->kinds[pkt.kind == TF_PKT_NONE ?
						      TF_PKT_MAX : pkt.kind];

		if (pkt.chunk_offset != last_chunk) {
			last_chunk = pkt.chunk_offset;
			info->data_chunks++;
			if (pkt.generation != last_gen) {
				last_gen = pkt.generation;
				info->generations++;
			}
		}
		k->packets++;
		k->raw_bytes += pkt.size;
		if (pkt.chunk_raw_len)
			k->stored_bytes += (double)pkt.size * pkt.chunk_stored_len /
					   pkt.chunk_raw_len;
		if (pkt.batch) {
			k->events += pkt.batch->n[0] + pkt.batch->n[1];
			see_batch(info, pkt.batch);
		} else if (pkt.kind == TF_PKT_INTERN) {
			const Gscope__V1__InternBatch *ib = pkt.msg->intern;

			k->events += ib->n_strings + ib->n_mappings + ib->n_frames +
				     (ib->stacks ? ib->stacks->n_frame : 0);
		} else {
			k->events++;
			if (pkt.msg)
				see_meta(info, pkt.msg);
		}
	}
	if (!err) {
		if (tf_reader__header(r))
			take_header(info, tf_reader__header(r));
		info->has_index = tf_reader__index(r) != NULL;
		info->losses = *tf_reader__losses(r);
	}
	tf_reader__close(r);
	return err;
}

void an_info__release(struct an_info *info)
{
	gs_arena__release(&info->arena);
}
