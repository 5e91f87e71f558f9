// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <lz4.h>
#include <zstd.h>

#include "base/gs_crc32c.h"
#include "base/gs_err.h"
#include "base/gs_intern.h"
#include "base/gs_mem.h"
#include "base/gs_varint.h"
#include "format/tf_batch.h"
#include "format/tf_writer.h"

#define MAX_KEYED_CPU 65536 /* batches keyed by cpu: -1 .. 65534 */

struct wbatch {
	struct tf_batch_enc e;
};

struct index_entry {
	uint64_t offset;
	uint32_t stored_len, raw_len, seq, generation;
	uint64_t min_ts, max_ts, events;
	uint32_t kinds;
};

struct pending_frame {
	uint64_t id;
	struct tf_frame f;
};

struct pending_mapping {
	uint64_t id;
	struct tf_mapping m;
};

struct tf_writer {
	int fd;
	int err;                   /* sticky */
	char *path, *tmp_path;
	struct tf_writer_opts o;
	ZSTD_CCtx *cctx;

	uint64_t off;              /* file offset of the next chunk */
	uint32_t seq, generation;
	uint32_t last_payload_crc, last_stored_len;
	bool gen_start;            /* next DATA chunk starts a generation */

	struct gs_buf chunk;       /* raw payload being built */
	struct gs_buf scratch;     /* one encoded packet */
	struct gs_buf zbuf;        /* compressed payload */
	uint64_t chunk_min_ts, chunk_max_ts, chunk_events;
	uint32_t chunk_kinds;

	/* open batches */
	struct wbatch **by_cpu[TF_PKT_ALLOCS + 1]; /* sched, cpu samples */
	size_t by_cpu_cap[TF_PKT_ALLOCS + 1];
	struct wbatch **by_pid;    /* go events and allocs */
	struct wbatch *last_pid[TF_PKT_ALLOCS + 1];
	size_t n_by_pid, by_pid_cap;

	/* interning, per generation */
	struct gs_intern strings, mappings, frames, stacks;
	uint64_t *pend_strings;    /* ids of strings not yet emitted */
	size_t n_pend_strings, pend_strings_cap;
	struct pending_mapping *pend_mappings;
	size_t n_pend_mappings, pend_mappings_cap;
	struct pending_frame *pend_frames;
	size_t n_pend_frames, pend_frames_cap;
	uint64_t *pend_nodes;      /* (parent, frame) pairs */
	size_t n_pend_nodes, pend_nodes_cap;
	uint64_t pend_first_node;
	size_t pend_bytes;

	struct index_entry *index;
	size_t n_index, index_cap;

	unsigned int tick;
	uint64_t last_flush_ns;
	uint64_t max_ts, lost_events;
	struct tf_writer_stats st;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int fail(struct tf_writer *w, int err)
{
	if (!w->err)
		w->err = err;
	return err;
}

static int write_all(struct tf_writer *w, struct iovec *iov, int n)
{
	while (n > 0) {
		ssize_t r = writev(w->fd, iov, n);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return fail(w, gs_errf(-errno, "%s: write failed: %s",
					       w->path, strerror(errno)));
		}
		w->off += (uint64_t)r;
		w->st.file_bytes += (uint64_t)r;
		while (n > 0 && (size_t)r >= iov->iov_len) {
			r -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + r;
			iov->iov_len -= (size_t)r;
		}
	}
	return 0;
}

/* Compress (when it helps) and write one chunk with a single writev. */
static int write_chunk(struct tf_writer *w, uint8_t type, uint16_t flags,
		       const uint8_t *raw, size_t raw_len)
{
	static const uint8_t zeros[8];
	struct tf_chunk_hdr h = { .type = type, .flags = flags };
	uint8_t hdr[TF_CHUNK_HDR_SIZE];
	const uint8_t *payload = raw;
	size_t stored = raw_len;
	struct iovec iov[3];

	if (raw_len > TF_MAX_CHUNK_BYTES)
		return fail(w, gs_errf(-GS_E_LIMIT, "%s: chunk of %zu bytes over limit",
				       w->path, raw_len));
	if (w->o.compress != TF_COMPRESS_NONE && raw_len > 64) {
		bool zstd = w->o.compress == TF_COMPRESS_ZSTD;
		size_t bound = zstd ? ZSTD_compressBound(raw_len)
				    : (size_t)LZ4_compressBound((int)raw_len), z;
		int err = gs_buf__reserve(&w->zbuf, bound);

		if (err)
			return fail(w, err);
		if (zstd) {
			z = ZSTD_compressCCtx(w->cctx, w->zbuf.data, bound, raw, raw_len,
					      w->o.zstd_level);
			if (ZSTD_isError(z))
				return fail(w, gs_errf(-GS_E_COMPRESS, "%s: zstd: %s", w->path,
						       ZSTD_getErrorName(z)));
		} else {
			int k = LZ4_compress_default((const char *)raw, (char *)w->zbuf.data,
						     (int)raw_len, (int)bound);

			if (k <= 0)
				return fail(w, gs_errf(-GS_E_COMPRESS,
						       "%s: lz4 compression failed", w->path));
			z = (size_t)k;
		}
		if (z < raw_len) { /* else stored as it is */
			payload = w->zbuf.data;
			stored = z;
			h.codec = zstd ? TF_CODEC_ZSTD : TF_CODEC_LZ4;
		}
	}
	h.stored_len = (uint32_t)stored;
	h.raw_len = (uint32_t)raw_len;
	h.seq = w->seq++;
	h.generation = w->generation;
	h.payload_crc = gs_crc32c(0, payload, stored);
	w->last_payload_crc = h.payload_crc;
	w->last_stored_len = h.stored_len;
	tf_chunk_hdr__encode(&h, hdr);
	iov[0] = (struct iovec){ hdr, sizeof(hdr) };
	iov[1] = (struct iovec){ (void *)payload, stored };
	iov[2] = (struct iovec){ (void *)zeros, tf_pad8(stored) - stored };
	w->st.chunks++;
	w->st.raw_bytes += raw_len;
	return write_all(w, iov, 3);
}

static int flush_chunk(struct tf_writer *w)
{
	struct index_entry *e;
	void *p = w->index;
	uint64_t off = w->off;
	int err;

	if (w->err)
		return w->err;
	if (!w->chunk.len)
		return 0;
	err = write_chunk(w, TF_CHUNK_DATA, w->gen_start ? TF_CHUNK_GEN_START : 0,
			  w->chunk.data, w->chunk.len);
	if (err)
		return err;
	err = gs_grow(&p, &w->index_cap, sizeof(*w->index), w->n_index + 1,
		      SIZE_MAX / sizeof(*w->index));
	w->index = p;
	if (err)
		return fail(w, err);
	e = &w->index[w->n_index++];
	e->offset = off;
	e->stored_len = w->last_stored_len;
	e->raw_len = (uint32_t)w->chunk.len;
	e->seq = w->seq - 1;
	e->generation = w->generation;
	e->min_ts = w->chunk_min_ts;
	e->max_ts = w->chunk_max_ts;
	e->events = w->chunk_events;
	e->kinds = w->chunk_kinds;
	w->gen_start = false;
	w->chunk.len = 0;
	w->chunk_events = 0;
	w->chunk_kinds = 0;
	w->chunk_min_ts = UINT64_MAX;
	w->chunk_max_ts = 0;
	w->last_flush_ns = now_ns();
	return 0;
}

/*
 * Start a Packet record with oneof field `kind` whose body has `body`
 * bytes: room for it in the chunk; returns where the body goes, or NULL.
 */
static uint8_t *record_begin(struct tf_writer *w, enum tf_packet_kind kind,
			     size_t body)
{
	size_t pkt = gs_varint_size((uint64_t)kind << 3 | 2) +
		     gs_varint_size(body) + body;
	uint8_t *p;
	int err = gs_buf__reserve(&w->chunk, pkt + 2 * GS_VARINT_MAX);

	if (err) {
		fail(w, err);
		return NULL;
	}
	p = w->chunk.data + w->chunk.len;
	*p++ = 0x0a;
	p = gs_varint_put(p, pkt);
	p = gs_varint_put(p, (uint64_t)kind << 3 | 2);
	return gs_varint_put(p, body);
}

/* The record ends at end: account for it, flush a full chunk. */
static int record_end(struct tf_writer *w, enum tf_packet_kind kind,
		      uint64_t events, const uint8_t *end)
{
	w->st.packet_bytes[kind] += (uint64_t)(end - (w->chunk.data + w->chunk.len));
	w->st.events[kind] += events;
	w->chunk.len = (size_t)(end - w->chunk.data);
	w->chunk_events += events;
	w->chunk_kinds |= 1u << kind;
	if (w->chunk.len >= w->o.chunk_bytes)
		return flush_chunk(w);
	return 0;
}

/* Append scratch as one Packet record with oneof field `kind`. */
static int append_record(struct tf_writer *w, enum tf_packet_kind kind,
			 uint64_t events)
{
	uint8_t *p = record_begin(w, kind, w->scratch.len);

	if (!p)
		return w->err;
	memcpy(p, w->scratch.data, w->scratch.len);
	return record_end(w, kind, events, p + w->scratch.len);
}

/* ------------------------------------------------------------ interning */

static int emit_interns(struct tf_writer *w)
{
	Gscope__V1__InternBatch ib = GSCOPE__V1__INTERN_BATCH__INIT;
	Gscope__V1__StackNodes sn = GSCOPE__V1__STACK_NODES__INIT;
	Gscope__V1__InternedString *strs = NULL, **pstrs = NULL;
	Gscope__V1__Mapping *maps = NULL, **pmaps = NULL;
	Gscope__V1__Frame *frs = NULL, **pfrs = NULL;
	uint64_t *parents = NULL, *nframes = NULL;
	size_t i, len;
	int err = -ENOMEM;

	if (!w->n_pend_strings && !w->n_pend_mappings && !w->n_pend_frames &&
	    !w->n_pend_nodes)
		return 0;
	strs = gs_calloc(w->n_pend_strings, sizeof(*strs));
	pstrs = gs_calloc(w->n_pend_strings, sizeof(*pstrs));
	maps = gs_calloc(w->n_pend_mappings, sizeof(*maps));
	pmaps = gs_calloc(w->n_pend_mappings, sizeof(*pmaps));
	frs = gs_calloc(w->n_pend_frames, sizeof(*frs));
	pfrs = gs_calloc(w->n_pend_frames, sizeof(*pfrs));
	parents = gs_calloc(w->n_pend_nodes, sizeof(*parents));
	nframes = gs_calloc(w->n_pend_nodes, sizeof(*nframes));
	if (!strs || !pstrs || !maps || !pmaps || !frs || !pfrs || !parents ||
	    !nframes)
		goto out;
	for (i = 0; i < w->n_pend_strings; i++) {
		Gscope__V1__InternedString *s = &strs[i];

		gscope__v1__interned_string__init(s);
		s->has_id = s->has_str = 1;
		s->id = w->pend_strings[i];
		s->str.data = (uint8_t *)gs_intern__key(&w->strings, s->id, &len);
		s->str.len = len;
		pstrs[i] = s;
	}
	for (i = 0; i < w->n_pend_mappings; i++) {
		Gscope__V1__Mapping *m = &maps[i];
		const struct tf_mapping *src = &w->pend_mappings[i].m;

		gscope__v1__mapping__init(m);
		m->has_id = 1;
		m->id = w->pend_mappings[i].id;
		m->has_pid = m->has_start = m->has_end = m->has_file_offset = 1;
		m->pid = src->pid;
		m->start = src->start;
		m->end = src->end;
		m->file_offset = src->file_offset;
		m->has_path_sid = src->path_sid != 0;
		m->path_sid = src->path_sid;
		m->has_build_id_sid = src->build_id_sid != 0;
		m->build_id_sid = src->build_id_sid;
		m->has_load_bias = src->load_bias != 0;
		m->load_bias = src->load_bias;
		pmaps[i] = m;
	}
	for (i = 0; i < w->n_pend_frames; i++) {
		Gscope__V1__Frame *f = &frs[i];
		const struct tf_frame *src = &w->pend_frames[i].f;

		gscope__v1__frame__init(f);
		f->has_id = 1;
		f->id = w->pend_frames[i].id;
		f->has_mapping_id = src->mapping_id != 0;
		f->mapping_id = src->mapping_id;
		f->has_rel_pc = src->rel_pc != 0;
		f->rel_pc = src->rel_pc;
		f->has_function_sid = src->function_sid != 0;
		f->function_sid = src->function_sid;
		f->has_file_sid = src->file_sid != 0;
		f->file_sid = src->file_sid;
		f->has_line = src->line != 0;
		f->line = src->line;
		f->has_kind = src->kind != 0;
		f->kind = (Gscope__V1__FrameKind)src->kind;
		f->has_inlined_into = src->inlined_into != 0;
		f->inlined_into = src->inlined_into;
		pfrs[i] = f;
	}
	ib.n_strings = w->n_pend_strings;
	ib.strings = pstrs;
	ib.n_mappings = w->n_pend_mappings;
	ib.mappings = pmaps;
	ib.n_frames = w->n_pend_frames;
	ib.frames = pfrs;
	if (w->n_pend_nodes) {
		for (i = 0; i < w->n_pend_nodes; i++) {
			parents[i] = w->pend_nodes[2 * i];
			nframes[i] = w->pend_nodes[2 * i + 1];
		}
		sn.has_first_id = 1;
		sn.first_id = w->pend_first_node;
		sn.n_parent = sn.n_frame = w->n_pend_nodes;
		sn.parent = parents;
		sn.frame = nframes;
		ib.stacks = &sn;
	}
	len = gscope__v1__intern_batch__get_packed_size(&ib);
	w->scratch.len = 0;
	err = gs_buf__reserve(&w->scratch, len);
	if (err)
		goto out;
	w->scratch.len = gscope__v1__intern_batch__pack(&ib, w->scratch.data);
	w->n_pend_strings = w->n_pend_mappings = w->n_pend_frames = 0;
	w->n_pend_nodes = 0;
	w->pend_bytes = 0;
	err = append_record(w, TF_PKT_INTERN, 0);
out:
	gs_free(strs);
	gs_free(pstrs);
	gs_free(maps);
	gs_free(pmaps);
	gs_free(frs);
	gs_free(pfrs);
	gs_free(parents);
	gs_free(nframes);
	return err ? fail(w, err) : 0;
}

/* Definitions may pile up between batches; bound the pile. */
static int pending_added(struct tf_writer *w, size_t bytes)
{
	w->pend_bytes += bytes;
	if (w->pend_bytes >= w->o.chunk_bytes / 2)
		return emit_interns(w);
	return 0;
}

#define PEND_MAX (SIZE_MAX / 64)

int tf_writer__intern_string(struct tf_writer *w, const void *s, size_t len,
			     uint64_t *id)
{
	void *p = w->pend_strings;
	bool added;
	int err;

	if (w->err)
		return w->err;
	err = gs_intern__get(&w->strings, s, len, id, &added);
	if (err || !added)
		return err ? fail(w, err) : 0;
	err = gs_grow(&p, &w->pend_strings_cap, sizeof(uint64_t),
		      w->n_pend_strings + 1, PEND_MAX);
	w->pend_strings = p;
	if (err)
		return fail(w, err);
	w->pend_strings[w->n_pend_strings++] = *id;
	return pending_added(w, len + 8);
}

int tf_writer__intern_mapping(struct tf_writer *w, const struct tf_mapping *m,
			      uint64_t *id)
{
	uint64_t key[8] = { m->pid, m->start, m->end, m->file_offset,
			    m->load_bias, m->path_sid, m->build_id_sid, 0 };
	void *p = w->pend_mappings;
	bool added;
	int err;

	if (w->err)
		return w->err;
	err = gs_intern__get(&w->mappings, key, sizeof(key), id, &added);
	if (err || !added)
		return err ? fail(w, err) : 0;
	err = gs_grow(&p, &w->pend_mappings_cap, sizeof(*w->pend_mappings),
		      w->n_pend_mappings + 1, PEND_MAX);
	w->pend_mappings = p;
	if (err)
		return fail(w, err);
	w->pend_mappings[w->n_pend_mappings].id = *id;
	w->pend_mappings[w->n_pend_mappings++].m = *m;
	return pending_added(w, 48);
}

int tf_writer__intern_frame(struct tf_writer *w, const struct tf_frame *f,
			    uint64_t *id)
{
	uint64_t key[6] = { f->mapping_id, f->rel_pc, f->function_sid, f->file_sid,
			    (uint64_t)f->line | (uint64_t)f->kind << 32,
			    f->inlined_into };
	void *p = w->pend_frames;
	bool added;
	int err;

	if (w->err)
		return w->err;
	err = gs_intern__get(&w->frames, key, sizeof(key), id, &added);
	if (err || !added)
		return err ? fail(w, err) : 0;
	err = gs_grow(&p, &w->pend_frames_cap, sizeof(*w->pend_frames),
		      w->n_pend_frames + 1, PEND_MAX);
	w->pend_frames = p;
	if (err)
		return fail(w, err);
	w->pend_frames[w->n_pend_frames].id = *id;
	w->pend_frames[w->n_pend_frames++].f = *f;
	return pending_added(w, 24);
}

int tf_writer__intern_stack(struct tf_writer *w, const uint64_t *frames,
			    size_t n, uint64_t *id)
{
	uint64_t parent = 0;
	int err;

	if (w->err)
		return w->err;
	if (n > TF_MAX_STACK_DEPTH)
		return gs_errf(-E2BIG, "%s: stack of %zu frames over limit %d",
			       w->path, n, TF_MAX_STACK_DEPTH);
	for (size_t i = n; i-- > 0;) {
		uint64_t key[2] = { parent, frames[i] };
		void *p = w->pend_nodes;
		bool added;

		err = gs_intern__get(&w->stacks, key, sizeof(key), &parent, &added);
		if (err)
			return fail(w, err);
		if (!added)
			continue;
		if (!w->n_pend_nodes)
			w->pend_first_node = parent;
		err = gs_grow(&p, &w->pend_nodes_cap, 2 * sizeof(uint64_t),
			      w->n_pend_nodes + 1, PEND_MAX);
		w->pend_nodes = p;
		if (err)
			return fail(w, err);
		w->pend_nodes[2 * w->n_pend_nodes] = key[0];
		w->pend_nodes[2 * w->n_pend_nodes + 1] = key[1];
		w->n_pend_nodes++;
		err = pending_added(w, 4);
		if (err)
			return err;
	}
	*id = parent;
	return 0;
}

/* ------------------------------------------------------------ batches */

/* The batch's body goes straight from its column buffers into the chunk. */
static int emit_batch(struct tf_writer *w, struct wbatch *wb)
{
	struct tf_batch_enc *e = &wb->e;
	uint64_t n = e->n[0] + e->n[1];
	uint8_t *p;
	int err;

	if (!n)
		return 0;
	err = emit_interns(w);
	if (err)
		return err;
	if (e->min_ts < w->chunk_min_ts)
		w->chunk_min_ts = e->min_ts;
	if (e->max_ts > w->chunk_max_ts)
		w->chunk_max_ts = e->max_ts;
	if (e->max_ts > w->max_ts)
		w->max_ts = e->max_ts;
	w->lost_events += e->lost_events;
	p = record_begin(w, e->kind, tf_batch_enc__size(e));
	if (!p)
		return w->err;
	p = tf_batch_enc__finish(e, p);
	return record_end(w, e->kind, n, p);
}

static struct wbatch *new_batch(enum tf_packet_kind kind, int64_t key)
{
	struct wbatch *wb = gs_calloc(1, sizeof(*wb));

	if (wb)
		tf_batch_enc__init(&wb->e, kind, key);
	return wb;
}

static struct wbatch *new_cpu_batch(struct tf_writer *w, enum tf_packet_kind kind,
				    int32_t cpu)
{
	size_t i = (size_t)((int64_t)cpu + 1);
	void *p = w->by_cpu[kind];

	if (cpu < -1 || i >= MAX_KEYED_CPU) {
		fail(w, gs_errf(-EINVAL, "%s: cpu %d out of range", w->path, cpu));
		return NULL;
	}
	if (i >= w->by_cpu_cap[kind]) {
		size_t old = w->by_cpu_cap[kind];

		if (gs_grow(&p, &w->by_cpu_cap[kind], sizeof(struct wbatch *), i + 1,
			    MAX_KEYED_CPU)) {
			fail(w, -ENOMEM);
			return NULL;
		}
		w->by_cpu[kind] = p;
		memset(w->by_cpu[kind] + old, 0,
		       (w->by_cpu_cap[kind] - old) * sizeof(struct wbatch *));
	}
	if (!w->by_cpu[kind][i]) {
		w->by_cpu[kind][i] = new_batch(kind, cpu);
		if (!w->by_cpu[kind][i])
			fail(w, -ENOMEM);
	}
	return w->by_cpu[kind][i];
}

static inline struct wbatch *batch_by_cpu(struct tf_writer *w,
					  enum tf_packet_kind kind, int32_t cpu)
{
	size_t i = (size_t)((int64_t)cpu + 1);

	if (i < w->by_cpu_cap[kind] && w->by_cpu[kind][i])
		return w->by_cpu[kind][i];
	return new_cpu_batch(w, kind, cpu);
}

static struct wbatch *new_pid_batch(struct tf_writer *w, enum tf_packet_kind kind,
				    uint32_t pid)
{
	void *p = w->by_pid;
	struct wbatch *wb;

	for (size_t i = w->n_by_pid; i-- > 0;) {
		wb = w->by_pid[i];
		if (wb->e.kind == kind && wb->e.key == pid)
			return wb;
	}
	if (gs_grow(&p, &w->by_pid_cap, sizeof(*w->by_pid), w->n_by_pid + 1,
		    1u << 20)) {
		fail(w, -ENOMEM);
		return NULL;
	}
	w->by_pid = p;
	wb = new_batch(kind, pid);
	if (!wb) {
		fail(w, -ENOMEM);
		return NULL;
	}
	w->by_pid[w->n_by_pid++] = wb;
	return wb;
}

/* Events of one process come in runs: remember the last batch per kind. */
static inline struct wbatch *batch_by_pid(struct tf_writer *w,
					  enum tf_packet_kind kind, uint32_t pid)
{
	struct wbatch *wb = w->last_pid[kind];

	if (wb && wb->e.key == pid)
		return wb;
	wb = new_pid_batch(w, kind, pid);
	w->last_pid[kind] = wb;
	return wb;
}

/* Room for one more event of group g at ts; 0 or the (sticky) error. */
static inline int batch_event(struct tf_writer *w, struct wbatch *wb, int g,
			      uint64_t ts)
{
	int err = tf_batch_enc__event(&wb->e, g, ts, w->o.batch_events);

	return err ? fail(w, err) : 0;
}

static int flush_all(struct tf_writer *w)
{
	int err = 0;

	for (int k = 0; k <= TF_PKT_ALLOCS && !err; k++)
		for (size_t i = 0; i < w->by_cpu_cap[k] && !err; i++)
			if (w->by_cpu[k][i])
				err = emit_batch(w, w->by_cpu[k][i]);
	for (size_t i = 0; i < w->n_by_pid && !err; i++)
		err = emit_batch(w, w->by_pid[i]);
	err = err ?: emit_interns(w);
	err = err ?: flush_chunk(w);
	return err;
}

/* event_done()'s slow path: a full batch, or a time check due. */
static __attribute__((noinline)) int event_done_slow(struct tf_writer *w,
						     struct wbatch *wb)
{
	int err = 0;

	if (wb->e.n[0] + wb->e.n[1] >= w->o.batch_events)
		err = emit_batch(w, wb);
	if (!err && (w->tick & 1023) == 0 &&
	    w->o.flush_interval_ns != UINT64_MAX &&
	    now_ns() - w->last_flush_ns >= w->o.flush_interval_ns)
		err = flush_all(w);
	return err;
}

/* After an event: emit a full batch, and flush on the time interval. */
static inline int event_done(struct tf_writer *w, struct wbatch *wb)
{
	if (__builtin_expect(wb->e.n[0] + wb->e.n[1] >= w->o.batch_events, 0) ||
	    __builtin_expect((++w->tick & 1023) == 0, 0))
		return event_done_slow(w, wb);
	return 0;
}

int tf_writer__sched_switch(struct tf_writer *w, const struct tf_sched_switch *e)
{
	struct wbatch *wb;
	struct tf_batch_enc *b;

	if (w->err)
		return w->err;
	wb = batch_by_cpu(w, TF_PKT_SCHED, e->cpu);
	if (!wb || batch_event(w, wb, 0, e->ts))
		return w->err;
	b = &wb->e;
	tf_batch_enc_ts(b, TF_SW_TS, 0, e->ts);
	b->nondefault |= tf_batch_enc_u32(b, TF_SW_PREV_TID, e->prev_tid) |
			 tf_batch_enc_i64(b, TF_SW_PREV_STATE, e->prev_state) |
			 tf_batch_enc_u32(b, TF_SW_NEXT_TID, e->next_tid) |
			 tf_batch_enc_i64(b, TF_SW_NEXT_PRIO, e->next_prio) |
			 tf_batch_enc_u64(b, TF_SW_PREV_STACK, e->prev_stack_id, 0);
	return event_done(w, wb);
}

int tf_writer__sched_wakeup(struct tf_writer *w, const struct tf_sched_wakeup *e)
{
	struct wbatch *wb;
	struct tf_batch_enc *b;

	if (w->err)
		return w->err;
	wb = batch_by_cpu(w, TF_PKT_SCHED, e->cpu);
	if (!wb || batch_event(w, wb, 1, e->ts))
		return w->err;
	b = &wb->e;
	tf_batch_enc_ts(b, TF_WK_TS, 1, e->ts);
	b->nondefault |= tf_batch_enc_u32(b, TF_WK_TID, e->tid) |
			 tf_batch_enc_i64(b, TF_WK_TARGET_CPU, e->target_cpu) |
			 tf_batch_enc_u32(b, TF_WK_WAKER_TID, e->waker_tid) |
			 tf_batch_enc_u32(b, TF_WK_FLAGS, e->flags);
	return event_done(w, wb);
}

int tf_writer__cpu_sample(struct tf_writer *w, const struct tf_cpu_sample *e)
{
	struct wbatch *wb;
	struct tf_batch_enc *b;

	if (w->err)
		return w->err;
	wb = batch_by_cpu(w, TF_PKT_CPU_SAMPLES, e->cpu);
	if (!wb || batch_event(w, wb, 0, e->ts))
		return w->err;
	b = &wb->e;
	if (b->n[0] == 1)
		b->period = e->weight;
	tf_batch_enc_ts(b, TF_CPU_TS, 0, e->ts);
	b->nondefault |= tf_batch_enc_u32(b, TF_CPU_TID, e->tid) |
			 tf_batch_enc_u64(b, TF_CPU_STACK, e->stack_id, 0) |
			 tf_batch_enc_u64(b, TF_CPU_WEIGHT, e->weight, b->period) |
			 tf_batch_enc_u32(b, TF_CPU_CPU, 0) | /* the batch is per CPU */
			 tf_batch_enc_u64(b, TF_CPU_GOID, e->goid, 0);
	return event_done(w, wb);
}

/*
 * Sparse layout (gscope.proto): ts, goid and kind_flags for every event,
 * the other columns only where the event's value is not the default.  The
 * batch has room for the event; returns the columns with a non-default value.
 */
static inline __attribute__((always_inline)) uint32_t
go_encode(struct tf_batch_enc *b, const struct tf_go_event *e, bool tick)
{
	uint32_t kw = e->kind, nd = 1u << TF_GO_KIND_FLAGS;
	/* one 64-bit load where the compiler sees the adjacent fields */
	uint64_t ft = (uint64_t)e->to_state << 32 | e->from_state;

	/* tick: the batch counts ticks (b->tick_ns), in tick_delta */
	if (tick)
		tf_batch_enc_ts(b, TF_GO_TICK, 0, (uint64_t)e->tick);
	else
		tf_batch_enc_ts(b, TF_GO_TS, 0, e->ts);
	nd |= tf_batch_enc_u64(b, TF_GO_GOID, e->goid, 0);
	if (ft != tf_go_default_ft(e->kind)) {
		kw |= TF_GOF_TRANS;
		tf_batch_enc_u32(b, TF_GO_FROM, e->from_state);
		tf_batch_enc_u32(b, TF_GO_TO, e->to_state);
		nd |= 1u << TF_GO_FROM | 1u << TF_GO_TO;
	}
	if (e->stack_id) {
		kw |= TF_GOF_STACK;
		nd |= tf_batch_enc_u64(b, TF_GO_STACK, e->stack_id, 0);
	}
	if (e->reason_sid) {
		kw |= TF_GOF_REASON;
		nd |= tf_batch_enc_u64(b, TF_GO_REASON, e->reason_sid, 0);
	}
	if (e->p != b->go_prev_p) {
		kw |= TF_GOF_P;
		tf_batch_enc_s32(b, TF_GO_P, e->p);
		nd |= 1u << TF_GO_P;
		b->go_prev_p = e->p;
	}
	if (e->m != b->go_prev_m) {
		kw |= TF_GOF_M;
		tf_batch_enc_u64(b, TF_GO_M, e->m, 0);
		nd |= 1u << TF_GO_M;
		b->go_prev_m = e->m;
	}
	if (e->arg) {
		kw |= TF_GOF_ARG;
		nd |= tf_batch_enc_u64(b, TF_GO_ARG, e->arg, 0);
	}
	if (e->arg2) {
		kw |= TF_GOF_ARG2;
		nd |= tf_batch_enc_u64(b, TF_GO_ARG2, e->arg2, 0);
	}
	tf_batch_enc_u32(b, TF_GO_KIND_FLAGS, kw);
	return nd;
}

static int bad_go_kind(struct tf_writer *w, uint32_t kind)
{
	return gs_errf(-EINVAL, "%s: go event kind %u out of range", w->path, kind);
}

/* The first event of a batch that counts ticks starts them. */
static inline void go_first_tick(struct tf_batch_enc *b, const struct tf_go_event *e)
{
	if (b->tick_ns && b->n[0] == 1)
		b->prev_ts[0] = (uint64_t)(b->base_tick = e->tick);
}

int tf_writer__go_clock(struct tf_writer *w, uint32_t pid, double tick_ns)
{
	struct wbatch *wb;
	int err;

	if (w->err)
		return w->err;
	if (!(tick_ns >= 0 && tick_ns <= DBL_MAX))
		return gs_errf(-EINVAL, "%s: go clock of %g ns per tick", w->path, tick_ns);
	wb = batch_by_pid(w, TF_PKT_GO_EVENTS, pid);
	if (!wb)
		return w->err;
	if (wb->e.tick_ns == tick_ns)
		return 0;
	err = emit_batch(w, wb);
	if (err)
		return fail(w, err);
	wb->e.tick_ns = tick_ns;
	return 0;
}

int tf_writer__go_event(struct tf_writer *w, const struct tf_go_event *e)
{
	struct wbatch *wb;

	if (w->err)
		return w->err;
	if (e->kind > TF_GOF_KIND_MASK)
		return bad_go_kind(w, e->kind);
	wb = batch_by_pid(w, TF_PKT_GO_EVENTS, e->pid);
	if (!wb || batch_event(w, wb, 0, e->ts))
		return w->err;
	go_first_tick(&wb->e, e);
	wb->e.nondefault |= go_encode(&wb->e, e, wb->e.tick_ns != 0);
	return event_done(w, wb);
}

/*
 * tf_writer__go_events()'s run of events of one pid into batch b, at most
 * room of them (the first is counted in b already): how many.
 */
static inline __attribute__((always_inline)) size_t
go_run(struct tf_batch_enc *b, const struct tf_go_event *ev, size_t room, uint32_t pid,
       uint64_t *lo, uint64_t *hi, uint32_t *nd, bool tick)
{
	uint64_t l = *lo, h = *hi;
	uint32_t m = 0;
	size_t k = 0;

	do {
		const struct tf_go_event *e = &ev[k];

		if (e->ts < l)
			l = e->ts;
		if (e->ts > h)
			h = e->ts;
		m |= go_encode(b, e, tick);
	} while (++k < room && ev[k].pid == pid && ev[k].kind <= TF_GOF_KIND_MASK);
	*lo = l;
	*hi = h;
	*nd = m;
	return k;
}

int tf_writer__go_events(struct tf_writer *w, const struct tf_go_event *ev, size_t n)
{
	size_t i = 0;

	while (i < n) {
		struct wbatch *wb;
		struct tf_batch_enc *b;
		uint64_t lo, hi;
		uint32_t nd = 0, pid = ev[i].pid;
		size_t room, k;
		unsigned int tick;

		/* the first event as tf_writer__go_event(): room, base_ts */
		if (w->err)
			return w->err;
		if (ev[i].kind > TF_GOF_KIND_MASK)
			return bad_go_kind(w, ev[i].kind);
		wb = batch_by_pid(w, TF_PKT_GO_EVENTS, pid);
		if (!wb || batch_event(w, wb, 0, ev[i].ts))
			return w->err;
		b = &wb->e;
		/* then, with no checks but the kind and pid, as many as fit */
		room = b->cap[0] - b->n[0] + 1;
		if (room > w->o.batch_events - b->n[0] + 1)
			room = w->o.batch_events - b->n[0] + 1;
		if (room > n - i)
			room = n - i;
		go_first_tick(b, &ev[i]);
		lo = b->min_ts;
		hi = b->max_ts;
		if (b->tick_ns)
			k = go_run(b, ev + i, room, pid, &lo, &hi, &nd, true);
		else
			k = go_run(b, ev + i, room, pid, &lo, &hi, &nd, false);
		b->n[0] += k - 1;
		b->min_ts = lo;
		b->max_ts = hi;
		b->nondefault |= nd;
		i += k;
		/* event_done() for the k events */
		tick = w->tick;
		w->tick += (unsigned int)k;
		if ((tick ^ w->tick) & ~1023u) /* passed a multiple of 1024 */
			w->tick &= ~1023u;
		else if (b->n[0] + b->n[1] < w->o.batch_events)
			continue;
		if (event_done_slow(w, wb))
			return w->err;
	}
	return 0;
}

int tf_writer__alloc(struct tf_writer *w, const struct tf_alloc *e)
{
	struct wbatch *wb;
	struct tf_batch_enc *b;

	if (w->err)
		return w->err;
	wb = batch_by_pid(w, TF_PKT_ALLOCS, e->pid);
	if (!wb || batch_event(w, wb, 0, e->ts))
		return w->err;
	b = &wb->e;
	tf_batch_enc_ts(b, TF_AL_TS, 0, e->ts);
	b->nondefault |= tf_batch_enc_u32(b, TF_AL_TID, e->tid) |
			 tf_batch_enc_u64(b, TF_AL_SIZE, e->size, 0) |
			 tf_batch_enc_u64(b, TF_AL_TYPE, e->type_sid, 0) |
			 tf_batch_enc_u64(b, TF_AL_STACK, e->stack_id, 0) |
			 tf_batch_enc_u32(b, TF_AL_KIND, e->kind) |
			 tf_batch_enc_u64(b, TF_AL_ADDR, e->addr, 0) |
			 tf_batch_enc_u64(b, TF_AL_GOID, e->goid, 0);
	return event_done(w, wb);
}

int tf_writer__add_packet(struct tf_writer *w, const Gscope__V1__Packet *pkt)
{
	const ProtobufCMessage *body;
	enum tf_packet_kind kind = (enum tf_packet_kind)pkt->data_case;
	size_t len;
	int err;

	if (w->err)
		return w->err;
	if (kind <= TF_PKT_NONE || kind >= TF_PKT_MAX)
		return gs_errf(-EINVAL, "%s: packet has no payload", w->path);
	/* every oneof member is a message pointer at the same place */
	body = (const ProtobufCMessage *)pkt->cpu_samples;
	if (!body)
		return gs_errf(-EINVAL, "%s: packet payload is NULL", w->path);
	err = emit_interns(w);
	if (err)
		return err;
	len = protobuf_c_message_get_packed_size(body);
	if (len > TF_MAX_PACKET_BYTES)
		return gs_errf(-GS_E_LIMIT, "%s: packet of %zu bytes over limit",
			       w->path, len);
	w->scratch.len = 0;
	err = gs_buf__reserve(&w->scratch, len);
	if (err)
		return fail(w, err);
	w->scratch.len = protobuf_c_message_pack(body, w->scratch.data);
	return append_record(w, kind, 1);
}

int tf_writer__new_generation(struct tf_writer *w)
{
	int err = flush_all(w);

	if (err)
		return err;
	gs_intern__clear(&w->strings);
	gs_intern__clear(&w->mappings);
	gs_intern__clear(&w->frames);
	gs_intern__clear(&w->stacks);
	w->generation++;
	w->gen_start = true;
	return 0;
}

int tf_writer__flush(struct tf_writer *w)
{
	return w->err ? w->err : flush_all(w);
}

const struct tf_writer_stats *tf_writer__stats(const struct tf_writer *w)
{
	return &w->st;
}

/* ------------------------------------------------------------ open/close */

static int write_header(struct tf_writer *w, const Gscope__V1__TraceHeader *src)
{
	Gscope__V1__TraceHeader h = GSCOPE__V1__TRACE_HEADER__INIT;
	uint8_t pre[TF_PREAMBLE_SIZE] = { 0 };
	struct iovec iov = { pre, sizeof(pre) };
	size_t len;
	int err;

	if (src)
		h = *src;
	h.has_format_major = h.has_format_minor = 1;
	h.format_major = TF_FORMAT_MAJOR;
	h.format_minor = TF_FORMAT_MINOR;
	memcpy(pre, TF_MAGIC, TF_MAGIC_LEN);
	tf_put_le16(pre + 8, TF_FORMAT_MAJOR);
	tf_put_le16(pre + 10, TF_FORMAT_MINOR);
	err = write_all(w, &iov, 1);
	if (err)
		return err;
	len = gscope__v1__trace_header__get_packed_size(&h);
	w->scratch.len = 0;
	err = gs_buf__reserve(&w->scratch, len);
	if (err)
		return fail(w, err);
	w->scratch.len = gscope__v1__trace_header__pack(&h, w->scratch.data);
	return write_chunk(w, TF_CHUNK_HEADER, 0, w->scratch.data, w->scratch.len);
}

int tf_writer__open(const char *path, const struct tf_writer_opts *opts,
		    const Gscope__V1__TraceHeader *hdr, struct tf_writer **out)
{
	struct tf_writer *w = gs_calloc(1, sizeof(*w));
	const char *target;
	int err;

	if (!w)
		return -ENOMEM;
	w->fd = -1;
	if (opts)
		w->o = *opts;
	if (!w->o.chunk_bytes)
		w->o.chunk_bytes = 512 * 1024;
	if (w->o.chunk_bytes > TF_MAX_CHUNK_BYTES / 2)
		w->o.chunk_bytes = TF_MAX_CHUNK_BYTES / 2;
	if (!w->o.batch_events)
		w->o.batch_events = 4096;
	if (w->o.batch_events > TF_MAX_BATCH_EVENTS)
		w->o.batch_events = TF_MAX_BATCH_EVENTS;
	if (!w->o.zstd_level)
		w->o.zstd_level = 1;
	if (w->o.zstd_level < 0 || w->o.compress > TF_COMPRESS_NONE)
		w->o.compress = TF_COMPRESS_NONE;
	if (!w->o.flush_interval_ns)
		w->o.flush_interval_ns = 1000000000u;
	w->chunk_min_ts = UINT64_MAX;
	w->gen_start = true;
	w->strings.max = w->mappings.max = w->frames.max = w->stacks.max =
		TF_MAX_INTERN_IDS;
	w->path = gs_strdup(path);
	if (!w->path) {
		err = -ENOMEM;
		goto err_out;
	}
	target = path;
	if (w->o.flags & TF_WRITER_ATOMIC) {
		size_t n = strlen(path) + 32;

		w->tmp_path = gs_malloc(n);
		if (!w->tmp_path) {
			err = -ENOMEM;
			goto err_out;
		}
		snprintf(w->tmp_path, n, "%s.tmp.%d", path, (int)getpid());
		target = w->tmp_path;
	}
	if (w->o.compress == TF_COMPRESS_ZSTD) {
		w->cctx = ZSTD_createCCtx();
		if (!w->cctx) {
			err = -ENOMEM;
			goto err_out;
		}
	}
	w->fd = open(target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (w->fd < 0) {
		err = gs_errf(-errno, "%s: cannot create: %s", path, strerror(errno));
		goto err_out;
	}
	w->last_flush_ns = now_ns();
	err = write_header(w, hdr);
	if (err)
		goto err_out;
	*out = w;
	return 0;

err_out:
	tf_writer__abort(w);
	return err;
}

static int write_index(struct tf_writer *w)
{
	Gscope__V1__TraceIndex ix = GSCOPE__V1__TRACE_INDEX__INIT;
	Gscope__V1__TraceStats ts = GSCOPE__V1__TRACE_STATS__INIT;
	Gscope__V1__ChunkIndexEntry *ents, **pents;
	uint8_t footer[TF_FOOTER_SIZE] = { 0 };
	struct iovec iov = { footer, sizeof(footer) };
	uint64_t off;
	size_t len;
	int err = -ENOMEM;

	ents = gs_calloc(w->n_index, sizeof(*ents));
	pents = gs_calloc(w->n_index, sizeof(*pents));
	if (!ents || !pents)
		goto out;
	for (size_t i = 0; i < w->n_index; i++) {
		Gscope__V1__ChunkIndexEntry *e = &ents[i];
		const struct index_entry *s = &w->index[i];

		gscope__v1__chunk_index_entry__init(e);
		e->has_offset = e->has_stored_len = e->has_raw_len = 1;
		e->has_seq = e->has_generation = e->has_packet_kinds = 1;
		e->has_num_events = 1;
		e->offset = s->offset;
		e->stored_len = s->stored_len;
		e->raw_len = s->raw_len;
		e->seq = s->seq;
		e->generation = s->generation;
		e->packet_kinds = s->kinds;
		e->num_events = s->events;
		if (s->min_ts <= s->max_ts) {
			e->has_min_ts = e->has_max_ts = 1;
			e->min_ts = s->min_ts;
			e->max_ts = s->max_ts;
		}
		pents[i] = e;
	}
	ix.n_chunks = w->n_index;
	ix.chunks = pents;
	ts.has_cpu_samples = ts.has_sched_events = ts.has_go_events = 1;
	ts.has_alloc_events = ts.has_lost_events = ts.has_end_ts = 1;
	ts.cpu_samples = w->st.events[TF_PKT_CPU_SAMPLES];
	ts.sched_events = w->st.events[TF_PKT_SCHED];
	ts.go_events = w->st.events[TF_PKT_GO_EVENTS];
	ts.alloc_events = w->st.events[TF_PKT_ALLOCS];
	ts.lost_events = w->lost_events;
	ts.end_ts = w->max_ts;
	ix.stats = &ts;
	ix.has_clean_shutdown = 1;
	ix.clean_shutdown = 1;
	len = gscope__v1__trace_index__get_packed_size(&ix);
	w->scratch.len = 0;
	err = gs_buf__reserve(&w->scratch, len);
	if (err)
		goto out;
	w->scratch.len = gscope__v1__trace_index__pack(&ix, w->scratch.data);
	off = w->off;
	err = write_chunk(w, TF_CHUNK_INDEX, 0, w->scratch.data, w->scratch.len);
	if (err)
		goto out;
	tf_put_le64(footer, off);
	tf_put_le64(footer + 8, w->off - off);
	tf_put_le32(footer + 16, w->last_payload_crc);
	memcpy(footer + 24, TF_FOOTER_MAGIC, 8);
	err = write_all(w, &iov, 1);
out:
	gs_free(ents);
	gs_free(pents);
	return err ? fail(w, err) : 0;
}

int tf_writer__close(struct tf_writer *w)
{
	int err;

	if (!w)
		return 0;
	err = w->err ?: flush_all(w);
	err = err ?: write_index(w);
	if (!err && close(w->fd) < 0)
		err = gs_errf(-errno, "%s: close failed: %s", w->path, strerror(errno));
	if (!err) {
		w->fd = -1;
		if (w->tmp_path && rename(w->tmp_path, w->path) < 0)
			err = gs_errf(-errno, "%s: rename failed: %s", w->path,
				      strerror(errno));
		else if (w->tmp_path) {
			gs_free(w->tmp_path);
			w->tmp_path = NULL;
		}
	}
	tf_writer__abort(w);
	return err;
}

void tf_writer__abort(struct tf_writer *w)
{
	if (!w)
		return;
	if (w->fd >= 0)
		close(w->fd);
	if (w->tmp_path)
		unlink(w->tmp_path);
	for (int k = 0; k <= TF_PKT_ALLOCS; k++) {
		for (size_t i = 0; i < w->by_cpu_cap[k]; i++) {
			struct wbatch *wb = w->by_cpu[k][i];

			if (!wb)
				continue;
			tf_batch_enc__release(&wb->e);
			gs_free(wb);
		}
		gs_free(w->by_cpu[k]);
	}
	for (size_t i = 0; i < w->n_by_pid; i++) {
		tf_batch_enc__release(&w->by_pid[i]->e);
		gs_free(w->by_pid[i]);
	}
	gs_free(w->by_pid);
	gs_intern__release(&w->strings);
	gs_intern__release(&w->mappings);
	gs_intern__release(&w->frames);
	gs_intern__release(&w->stacks);
	gs_free(w->pend_strings);
	gs_free(w->pend_mappings);
	gs_free(w->pend_frames);
	gs_free(w->pend_nodes);
	gs_free(w->index);
	gs_buf__release(&w->chunk);
	gs_buf__release(&w->scratch);
	gs_buf__release(&w->zbuf);
	ZSTD_freeCCtx(w->cctx);
	gs_free(w->path);
	gs_free(w->tmp_path);
	gs_free(w);
}
