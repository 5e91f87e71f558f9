// SPDX-License-Identifier: BSD-2-Clause
#include <inttypes.h>
#include <string.h>

#include "base/gs_json.h"
#include "render/rd_info.h"
#include "render/rd_table.h"

/* Rows of the per-family table, in this order. */
static const enum tf_packet_kind order[] = {
	TF_PKT_SCHED, TF_PKT_CPU_SAMPLES, TF_PKT_GO_EVENTS, TF_PKT_ALLOCS,
	TF_PKT_INTERN, TF_PKT_PROCESS, TF_PKT_THREAD, TF_PKT_CLOCK_SNAPSHOT,
	TF_PKT_GC_CYCLE, TF_PKT_LOSS, TF_PKT_SYMBOLS, TF_PKT_SCHED_TRACE, TF_PKT_MAX,
};

static const char *kind_name(enum tf_packet_kind k)
{
	return k == TF_PKT_MAX ? "unknown" : tf_packet_kind_name(k);
}

static const char *or_dash(const char *s)
{
	return s && *s ? s : "-";
}

static uint64_t span_ns(const struct an_info *in)
{
	return in->first_ts <= in->last_ts ? in->last_ts - in->first_ts : 0;
}

void rd_info__text(FILE *f, const char *path, const struct an_info *in)
{
	static const char *const heads[] = {
		"family", ">events", ">packets", ">raw bytes", ">stored bytes",
		">bytes/event",
	};
	const struct tf_losses *l = &in->losses;
	struct rd_table t;
	char b1[64], b2[64];

	fprintf(f, "file:            %s (%s)\n", path,
		rd_fmt_bytes(b1, sizeof(b1), (double)in->file_bytes));
	fprintf(f, "format version:  %u.%u\n", in->major, in->minor);
	if (in->has_header) {
		fprintf(f, "tool:            %s %s\n", or_dash(in->tool_name),
			or_dash(in->tool_version));
		fprintf(f, "host:            %s (kernel %s, %s, %u CPUs)\n",
			or_dash(in->hostname), or_dash(in->kernel),
			or_dash(in->machine), in->num_cpus);
		fprintf(f, "clock:           %s\n", an_clock_name(in->clock));
	} else {
		fprintf(f, "header:          lost\n");
	}
	if (in->first_ts <= in->last_ts)
		fprintf(f, "time span:       %s (%" PRIu64 " .. %" PRIu64 " ns)\n",
			rd_fmt_ns(b1, sizeof(b1), (double)span_ns(in)), in->first_ts,
			in->last_ts);
	else
		fprintf(f, "time span:       no events\n");
	fprintf(f, "chunks:          %" PRIu64 " data, %u generation%s, index %s\n",
		in->data_chunks, in->generations, in->generations == 1 ? "" : "s",
		in->has_index ? "present" : "absent");
	if (in->kinds[TF_PKT_SCHED].events)
		fprintf(f, "sched events:    %s switches, %s wakeups\n",
			rd_fmt_count(b1, sizeof(b1), in->sched_switch),
			rd_fmt_count(b2, sizeof(b2), in->sched_wakeup));
	fputc('\n', f);

	rd_table__init(&t, 6, heads);
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		const struct an_info_kind *k = &in->kinds[order[i]];

		if (!k->packets)
			continue;
		rd_table__cell(&t, "%s", kind_name(order[i]));
		rd_table__cell(&t, "%s", rd_fmt_count(b1, sizeof(b1), k->events));
		rd_table__cell(&t, "%s", rd_fmt_count(b1, sizeof(b1), k->packets));
		rd_table__cell(&t, "%s", rd_fmt_bytes(b1, sizeof(b1), (double)k->raw_bytes));
		rd_table__cell(&t, "%s", rd_fmt_bytes(b1, sizeof(b1), k->stored_bytes));
		rd_table__cell(&t, "%.2f B", k->events ? k->stored_bytes / (double)k->events : 0);
	}
	rd_table__print(&t, f, "");
	rd_table__release(&t);
	fputc('\n', f);
	fprintf(f, "losses:          %" PRIu64 " chunks skipped, %s skipped, %s%s\n",
		l->chunks_skipped, rd_fmt_bytes(b1, sizeof(b1), (double)l->bytes_skipped),
		l->truncated ? "truncated tail of " : "not truncated",
		l->truncated ? rd_fmt_bytes(b2, sizeof(b2), (double)l->truncated_bytes) : "");
	fprintf(f, "closed cleanly:  %s\n", l->clean_close ? "yes" : "no");
	if (in->lost_events)
		fprintf(f, "recorder losses: %" PRIu64 " events dropped while recording\n",
			in->lost_events);
}

void rd_info__json(FILE *f, const char *path, const struct an_info *in)
{
	const struct tf_losses *l = &in->losses;
	struct gs_json j;
	char ver[32];

	gs_json__init(&j, f, true);
	gs_json__begin_object(&j);
	gs_json__kv_string(&j, "file", path);
	gs_json__kv_uint(&j, "file_bytes", in->file_bytes);
	snprintf(ver, sizeof(ver), "%u.%u", in->major, in->minor);
	gs_json__kv_string(&j, "format_version", ver);
	gs_json__key(&j, "tool");
	gs_json__begin_object(&j);
	gs_json__kv_string(&j, "name", in->tool_name);
	gs_json__kv_string(&j, "version", in->tool_version);
	gs_json__end_object(&j);
	gs_json__key(&j, "host");
	gs_json__begin_object(&j);
	gs_json__kv_string(&j, "hostname", in->hostname);
	gs_json__kv_string(&j, "kernel", in->kernel);
	gs_json__kv_string(&j, "machine", in->machine);
	gs_json__kv_uint(&j, "num_cpus", in->num_cpus);
	gs_json__end_object(&j);
	gs_json__kv_string(&j, "clock", an_clock_name(in->clock));
	gs_json__key(&j, "time");
	gs_json__begin_object(&j);
	if (in->first_ts <= in->last_ts) {
		gs_json__kv_uint(&j, "first_ts", in->first_ts);
		gs_json__kv_uint(&j, "last_ts", in->last_ts);
	} else {
		gs_json__key(&j, "first_ts");
		gs_json__null(&j);
		gs_json__key(&j, "last_ts");
		gs_json__null(&j);
	}
	gs_json__kv_uint(&j, "span_ns", span_ns(in));
	gs_json__end_object(&j);
	gs_json__kv_uint(&j, "data_chunks", in->data_chunks);
	gs_json__kv_uint(&j, "generations", in->generations);
	gs_json__kv_bool(&j, "index", in->has_index);

	gs_json__key(&j, "events");
	gs_json__begin_object(&j);
	gs_json__kv_uint(&j, "sched_switch", in->sched_switch);
	gs_json__kv_uint(&j, "sched_wakeup", in->sched_wakeup);
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (order[i] != TF_PKT_SCHED)
			gs_json__kv_uint(&j, kind_name(order[i]), in->kinds[order[i]].events);
	gs_json__end_object(&j);

	gs_json__key(&j, "bytes");
	gs_json__begin_object(&j);
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		const struct an_info_kind *k = &in->kinds[order[i]];

		gs_json__key(&j, kind_name(order[i]));
		gs_json__begin_object(&j);
		gs_json__kv_uint(&j, "packets", k->packets);
		gs_json__kv_uint(&j, "raw", k->raw_bytes);
		gs_json__kv_uint(&j, "stored", (uint64_t)(k->stored_bytes + 0.5));
		gs_json__key(&j, "per_event");
		if (k->events)
			gs_json__double(&j, k->stored_bytes / (double)k->events);
		else
			gs_json__null(&j);
		gs_json__end_object(&j);
	}
	gs_json__end_object(&j);

	gs_json__key(&j, "losses");
	gs_json__begin_object(&j);
	gs_json__kv_uint(&j, "chunks_skipped", l->chunks_skipped);
	gs_json__kv_uint(&j, "bytes_skipped", l->bytes_skipped);
	gs_json__kv_bool(&j, "truncated", l->truncated);
	gs_json__kv_uint(&j, "truncated_bytes", l->truncated_bytes);
	gs_json__kv_bool(&j, "clean_close", l->clean_close);
	gs_json__kv_uint(&j, "intern_dropped", l->intern_dropped);
	gs_json__kv_uint(&j, "recorder_lost_events", in->lost_events);
	gs_json__end_object(&j);
	gs_json__end_object(&j);
}
