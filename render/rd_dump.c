// SPDX-License-Identifier: BSD-2-Clause
#include <inttypes.h>

#include "base/gs_json.h"
#include "format/tf_batch.h"
#include "render/rd_dump.h"
#include "render/rd_pb.h"

static const char *const group_names[TF_PKT_ALLOCS + 1][2] = {
	[TF_PKT_CPU_SAMPLES] = { "sample", NULL },
	[TF_PKT_SCHED] = { "switch", "wakeup" },
	[TF_PKT_GO_EVENTS] = { "event", NULL },
	[TF_PKT_ALLOCS] = { "alloc", NULL },
};

static const char *key_name(enum tf_packet_kind k)
{
	return k == TF_PKT_GO_EVENTS || k == TF_PKT_ALLOCS ? "pid" : "cpu";
}

static void batch_text(FILE *f, const struct tf_batch *b)
{
	fprintf(f, "%s=%" PRId64 " base_ts=%" PRIu64, key_name(b->kind), b->key,
		b->base_ts);
	if (b->kind == TF_PKT_SCHED)
		fprintf(f, " switches=%zu wakeups=%zu", b->n[0], b->n[1]);
	else
		fprintf(f, " n=%zu", b->n[0]);
	if (b->kind == TF_PKT_CPU_SAMPLES)
		fprintf(f, " period=%" PRIu64, b->period);
	if (b->kind == TF_PKT_ALLOCS)
		fprintf(f, " sample_interval=%" PRIu64, b->sample_interval);
	fprintf(f, " lost=%" PRIu64 "\n", b->lost_events);
	for (int g = 0; g < 2; g++) {
		for (size_t i = 0; i < b->n[g]; i++) {
			fprintf(f, "  %s", group_names[b->kind][g]);
			for (unsigned int c = 1; c < TF_BATCH_MAX_FIELDS; c++) {
				/* absent columns hold defaults: keep lines short */
				if (tf_batch_field_group(b->kind, c) != g || !b->present[c])
					continue;
				if (tf_batch_field_signed(b->kind, c))
					fprintf(f, " %s=%" PRId64, tf_batch_field_name(b->kind, c),
						(int64_t)b->col[c][i]);
				else
					fprintf(f, " %s=%" PRIu64, tf_batch_field_name(b->kind, c),
						b->col[c][i]);
			}
			fputc('\n', f);
		}
	}
}

static void batch_json(struct gs_json *j, const struct tf_batch *b)
{
	gs_json__kv_int(j, key_name(b->kind), b->key);
	gs_json__kv_uint(j, "base_ts", b->base_ts);
	if (b->kind == TF_PKT_CPU_SAMPLES)
		gs_json__kv_uint(j, "period", b->period);
	if (b->kind == TF_PKT_ALLOCS)
		gs_json__kv_uint(j, "sample_interval", b->sample_interval);
	gs_json__kv_uint(j, "lost_events", b->lost_events);
	for (int g = 0; g < 2; g++) {
		if (!group_names[b->kind][g])
			continue;
		gs_json__key(j, g ? "wakeups" : "events");
		gs_json__begin_array(j);
		for (size_t i = 0; i < b->n[g]; i++) {
			gs_json__begin_object(j);
			for (unsigned int c = 1; c < TF_BATCH_MAX_FIELDS; c++) {
				if (tf_batch_field_group(b->kind, c) != g)
					continue;
				if (tf_batch_field_signed(b->kind, c))
					gs_json__kv_int(j, tf_batch_field_name(b->kind, c),
							(int64_t)b->col[c][i]);
				else
					gs_json__kv_uint(j, tf_batch_field_name(b->kind, c),
							 b->col[c][i]);
			}
			gs_json__end_object(j);
		}
		gs_json__end_array(j);
	}
}

/* One line per interned entry. */
static void intern_text(FILE *f, const Gscope__V1__InternBatch *ib)
{
	const Gscope__V1__StackNodes *sn = ib->stacks;
	size_t nodes = sn ? (sn->n_parent < sn->n_frame ? sn->n_parent : sn->n_frame) : 0;

	fprintf(f, "strings=%zu mappings=%zu frames=%zu stack_nodes=%zu\n",
		ib->n_strings, ib->n_mappings, ib->n_frames, nodes);
	for (size_t i = 0; i < ib->n_strings; i++) {
		fprintf(f, "  string id=%" PRIu64 " str=", ib->strings[i]->id);
		gs_json_quote(f, (const char *)ib->strings[i]->str.data,
			      ib->strings[i]->str.len);
		fputc('\n', f);
	}
	for (size_t i = 0; i < ib->n_mappings; i++) {
		fputs("  mapping ", f);
		rd_pb__text(f, &ib->mappings[i]->base);
		fputc('\n', f);
	}
	for (size_t i = 0; i < ib->n_frames; i++) {
		fputs("  frame ", f);
		rd_pb__text(f, &ib->frames[i]->base);
		fputc('\n', f);
	}
	for (size_t i = 0; i < nodes; i++)
		fprintf(f, "  stack_node id=%" PRIu64 " parent=%" PRIu64 " frame=%" PRIu64 "\n",
			sn->first_id + i, sn->parent[i], sn->frame[i]);
}

static void losses_json(struct gs_json *j, const struct tf_losses *l)
{
	gs_json__begin_object(j);
	gs_json__kv_uint(j, "chunks_skipped", l->chunks_skipped);
	gs_json__kv_uint(j, "bytes_skipped", l->bytes_skipped);
	gs_json__kv_bool(j, "truncated", l->truncated);
	gs_json__kv_uint(j, "truncated_bytes", l->truncated_bytes);
	gs_json__kv_bool(j, "clean_close", l->clean_close);
	gs_json__kv_uint(j, "intern_dropped", l->intern_dropped);
	gs_json__end_object(j);
}

int rd_dump(FILE *f, struct tf_reader *r, bool json)
{
	const Gscope__V1__TraceHeader *h = tf_reader__header(r);
	const struct tf_losses *l;
	struct tf_packet pkt;
	struct gs_json j;
	uint64_t last_chunk = UINT64_MAX;
	unsigned int major, minor;
	int err;

	tf_reader__version(r, &major, &minor);
	gs_json__init(&j, f, false);
	if (json) {
		gs_json__begin_object(&j);
		gs_json__kv_string(&j, "type", "header");
		char ver[32];

		snprintf(ver, sizeof(ver), "%u.%u", major, minor);
		gs_json__kv_string(&j, "format_version", ver);
		if (h) {
			gs_json__key(&j, "header");
			rd_pb__json(&j, &h->base);
		}
		gs_json__end_object(&j);
		fputc('\n', f);
	} else {
		fprintf(f, "format %u.%u\n", major, minor);
		if (h) {
			fputs("header ", f);
			rd_pb__text(f, &h->base);
			fputc('\n', f);
		}
	}
	while ((err = tf_reader__next(r, &pkt)) > 0) {
		const char *name = tf_packet_kind_name(pkt.kind);

		if (!json && pkt.chunk_offset != last_chunk) {
			fprintf(f, "chunk seq=%u generation=%u offset=%" PRIu64
				" raw=%u stored=%u\n", pkt.chunk_seq, pkt.generation,
				pkt.chunk_offset, pkt.chunk_raw_len, pkt.chunk_stored_len);
		}
		last_chunk = pkt.chunk_offset;
		if (json) {
			gs_json__begin_object(&j);
			gs_json__kv_string(&j, "type", name);
			gs_json__kv_uint(&j, "chunk", pkt.chunk_seq);
			gs_json__kv_uint(&j, "generation", pkt.generation);
			if (pkt.batch) {
				batch_json(&j, pkt.batch);
			} else if (pkt.msg) {
				gs_json__key(&j, name);
				rd_pb__json(&j, (const ProtobufCMessage *)pkt.msg->cpu_samples);
			} else {
				gs_json__kv_uint(&j, "field", pkt.field);
				gs_json__kv_uint(&j, "bytes", pkt.size);
			}
			gs_json__end_object(&j);
			fputc('\n', f);
			continue;
		}
		fprintf(f, "%s ", name);
		if (pkt.batch) {
			batch_text(f, pkt.batch);
		} else if (pkt.kind == TF_PKT_INTERN) {
			intern_text(f, pkt.msg->intern);
		} else if (pkt.msg) {
			rd_pb__text(f, (const ProtobufCMessage *)pkt.msg->cpu_samples);
			fputc('\n', f);
		} else {
			fprintf(f, "field=%u bytes=%zu\n", pkt.field, pkt.size);
		}
	}
	if (err < 0)
		return err;
	l = tf_reader__losses(r);
	if (json) {
		gs_json__begin_object(&j);
		gs_json__kv_string(&j, "type", "end");
		gs_json__key(&j, "losses");
		losses_json(&j, l);
		gs_json__end_object(&j);
		fputc('\n', f);
	} else {
		fprintf(f, "end chunks_skipped=%" PRIu64 " bytes_skipped=%" PRIu64
			" truncated=%s truncated_bytes=%" PRIu64 " clean_close=%s\n",
			l->chunks_skipped, l->bytes_skipped, l->truncated ? "yes" : "no",
			l->truncated_bytes, l->clean_close ? "yes" : "no");
	}
	return 0;
}
