// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lz4.h>
#include <zstd.h>

#include "base/gs_crc32c.h"
#include "base/gs_err.h"
#include "base/gs_mem.h"
#include "base/gs_varint.h"
#include "format/tf_batch.h"
#include "format/tf_reader.h"

#define SCAN_WINDOW (64 * 1024)
#define MAX_ID_GAP (1u << 20) /* ids may skip this many (lost chunks) */

struct rstr {
	const char *s;
	size_t len;
};

struct tf_reader {
	int fd;
	const uint8_t *mem;
	uint64_t size;
	char *name;
	unsigned int major, minor;

	uint64_t pos;              /* next chunk header */
	uint64_t last_hdr_off;     /* last chunk whose header was valid */
	uint32_t expect_seq;
	bool gen_valid;
	uint32_t gen;

	/* current DATA chunk */
	struct tf_chunk_hdr ch;
	uint64_t ch_off;
	const uint8_t *payload;    /* raw (decompressed) payload */
	size_t payload_len, payload_pos;
	struct gs_buf stored_buf, raw_buf;
	ZSTD_DCtx *dctx;

	struct gs_arena pkt_arena; /* cold packets, reset per packet */
	ProtobufCAllocator pkt_alloc;
	struct tf_batch_buf batch;
	struct tf_go_cursor go;    /* Go event batches as a cursor */
	uint32_t go_want;
	bool go_cursor;

	struct gs_arena meta_arena; /* header and index */
	ProtobufCAllocator meta_alloc;
	Gscope__V1__TraceHeader *header;
	Gscope__V1__TraceIndex *index;
	uint32_t index_crc;        /* payload CRC of the index chunk read */

	/* interning, current generation */
	struct gs_arena str_arena;
	struct rstr *strs;
	size_t n_strs, strs_cap;
	struct tf_frame *frames;
	size_t n_frames, frames_cap;
	struct tf_mapping *maps;
	size_t n_maps, maps_cap;
	struct rnode {
		uint64_t parent, frame;
	} *nodes;
	size_t n_nodes, nodes_cap;

	struct tf_losses loss;
};

static void *arena_alloc(void *data, size_t size)
{
	return gs_arena__alloc(data, size);
}

static void arena_free(void *data, void *p)
{
}

/* ------------------------------------------------------------ input */

static int rd_read(struct tf_reader *r, uint64_t off, void *buf, size_t len)
{
	if (off > r->size || len > r->size - off)
		return -GS_E_TRUNCATED;
	if (r->mem) {
		memcpy(buf, r->mem + off, len);
		return 0;
	}
	while (len) {
		ssize_t n = pread(r->fd, buf, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return gs_errf(-errno, "%s: read failed at offset %llu: %s",
				       r->name, (unsigned long long)off,
				       strerror(errno));
		if (n == 0)
			return -GS_E_TRUNCATED;
		buf = (uint8_t *)buf + n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

/* Bytes [off, off+len): borrowed from memory, or read into b. */
static const uint8_t *rd_bytes(struct tf_reader *r, uint64_t off, size_t len,
			       struct gs_buf *b, int *err)
{
	if (r->mem) {
		*err = off + len <= r->size ? 0 : -GS_E_TRUNCATED;
		return *err ? NULL : r->mem + off;
	}
	b->len = 0;
	*err = gs_buf__reserve(b, len);
	if (!*err)
		*err = rd_read(r, off, b->data, len);
	return *err ? NULL : b->data;
}

/* ------------------------------------------------------------ chunks */

static bool footer_at(const uint8_t f[TF_FOOTER_SIZE], uint64_t off)
{
	uint64_t ioff = tf_get_le64(f), ilen = tf_get_le64(f + 8);

	return !memcmp(f + 24, TF_FOOTER_MAGIC, 8) && ioff >= TF_PREAMBLE_SIZE &&
	       ilen >= TF_CHUNK_HDR_SIZE && ioff < off && off - ioff == ilen;
}

/* Is there a valid chunk header or footer at off (8-aligned)? */
static bool valid_at(const uint8_t *p, uint64_t off)
{
	struct tf_chunk_hdr h;

	return tf_chunk_hdr__decode(p, &h) == 0 || footer_at(p, off);
}

/* First offset >= from (8-aligned) holding a valid header, or r->size. */
static uint64_t resync(struct tf_reader *r, uint64_t from)
{
	struct gs_buf win = GS_BUF_INIT;
	uint64_t off = from;

	while (off + TF_CHUNK_HDR_SIZE <= r->size) {
		size_t len = SCAN_WINDOW + TF_CHUNK_HDR_SIZE;
		const uint8_t *p;
		int err;

		if (len > r->size - off)
			len = (size_t)(r->size - off);
		p = rd_bytes(r, off, len, &win, &err);
		if (!p)
			break;
		for (size_t i = 0; i + TF_CHUNK_HDR_SIZE <= len; i += 8) {
			if (valid_at(p + i, off + i)) {
				gs_buf__release(&win);
				return off + i;
			}
		}
		off += SCAN_WINDOW;
	}
	gs_buf__release(&win);
	return r->size;
}

static void reset_interns(struct tf_reader *r)
{
	r->n_strs = r->n_frames = r->n_maps = r->n_nodes = 0;
	gs_arena__reset(&r->str_arena);
}

static int load_payload(struct tf_reader *r, const struct tf_chunk_hdr *h,
			uint64_t off, bool *corrupt)
{
	const uint8_t *stored;
	int err;

	*corrupt = false;
	stored = rd_bytes(r, off + TF_CHUNK_HDR_SIZE, h->stored_len, &r->stored_buf,
			  &err);
	if (!stored)
		return err;
	if (gs_crc32c(0, stored, h->stored_len) != h->payload_crc && !TF_FUZZING) {
		*corrupt = true;
		return 0;
	}
	if (h->codec == TF_CODEC_NONE) {
		r->payload = stored;
		r->payload_len = h->stored_len;
	} else if (h->codec == TF_CODEC_ZSTD || h->codec == TF_CODEC_LZ4) {
		size_t n;

		r->raw_buf.len = 0;
		err = gs_buf__reserve(&r->raw_buf, h->raw_len ? h->raw_len : 1);
		if (err)
			return err;
		if (h->codec == TF_CODEC_ZSTD) {
			n = ZSTD_decompressDCtx(r->dctx, r->raw_buf.data, h->raw_len, stored,
						h->stored_len);
			if (ZSTD_isError(n))
				n = SIZE_MAX;
		} else {
			int k = LZ4_decompress_safe((const char *)stored,
						    (char *)r->raw_buf.data,
						    (int)h->stored_len, (int)h->raw_len);

			n = k < 0 ? SIZE_MAX : (size_t)k;
		}
		if (n != h->raw_len)
			return gs_errf(-GS_E_COMPRESS,
				       "%s: chunk %u at offset %llu: %s payload does not decompress to %u bytes",
				       r->name, h->seq, (unsigned long long)off,
				       h->codec == TF_CODEC_ZSTD ? "zstd" : "lz4", h->raw_len);
		r->payload = r->raw_buf.data;
		r->payload_len = n;
	} else {
		return gs_errf(-GS_E_FORMAT, "%s: chunk %u at offset %llu: unknown codec %u",
			       r->name, h->seq, (unsigned long long)off, h->codec);
	}
	return 0;
}

static int read_meta(struct tf_reader *r, const struct tf_chunk_hdr *h,
		     uint64_t off)
{
	if (h->type == TF_CHUNK_HEADER && !r->header) {
		r->header = gscope__v1__trace_header__unpack(&r->meta_alloc,
							     r->payload_len,
							     r->payload);
		if (!r->header)
			return gs_errf(-GS_E_FORMAT,
				       "%s: header chunk at offset %llu does not parse",
				       r->name, (unsigned long long)off);
	} else if (h->type == TF_CHUNK_INDEX) {
		r->index_crc = h->payload_crc;
		r->index = gscope__v1__trace_index__unpack(&r->meta_alloc,
							   r->payload_len,
							   r->payload);
		if (!r->index)
			return gs_errf(-GS_E_FORMAT,
				       "%s: index chunk at offset %llu does not parse",
				       r->name, (unsigned long long)off);
	}
	return 0;
}

/*
 * Advance to the next DATA chunk and load its payload: 1 loaded, 0 at the
 * end, < 0 on error.  HEADER and INDEX chunks are consumed on the way.
 */
static int next_chunk(struct tf_reader *r)
{
	uint8_t hb[TF_CHUNK_HDR_SIZE];
	struct tf_chunk_hdr h;
	bool corrupt;
	int err;

	for (;;) {
		uint64_t off = r->pos, rem = r->size - r->pos, next, total;

		if (r->pos >= r->size)
			return 0;
		if (rem < TF_CHUNK_HDR_SIZE) {
			r->loss.truncated = true;
			r->loss.truncated_bytes += rem;
			r->pos = r->size;
			return 0;
		}
		err = rd_read(r, off, hb, sizeof(hb));
		if (err)
			return err;
		r->loss.clean_close = false;
		if (tf_chunk_hdr__decode(hb, &h) && footer_at(hb, off)) {
			/* an index chunk whose header was unreadable is a lost chunk */
			if (r->last_hdr_off != tf_get_le64(hb))
				r->loss.chunks_skipped++;
			r->pos += TF_FOOTER_SIZE;
			/* the footer names the index chunk by its payload CRC too */
			r->loss.clean_close = r->pos == r->size && r->index &&
					      tf_get_le32(hb + 16) == r->index_crc;
			continue;
		}
		if (tf_chunk_hdr__decode(hb, &h)) {
			next = resync(r, off + 8);
			r->loss.bytes_skipped += next - off;
			if (next == r->size)
				r->loss.chunks_skipped++; /* no later seq to tell */
			r->pos = next;
			continue;
		}
		total = TF_CHUNK_HDR_SIZE + (uint64_t)h.stored_len;
		if (total > rem) {
			r->loss.truncated = true;
			r->loss.truncated_bytes += rem;
			r->pos = r->size;
			return 0;
		}
		r->last_hdr_off = off;
		if (h.seq > r->expect_seq)
			r->loss.chunks_skipped += h.seq - r->expect_seq;
		r->expect_seq = h.seq + 1;
		r->pos = off + tf_pad8(total) < r->size ? off + tf_pad8(total) : r->size;
		err = load_payload(r, &h, off, &corrupt);
		if (err)
			return err;
		if (corrupt) {
			r->loss.chunks_skipped++;
			r->loss.bytes_skipped += r->pos - off;
			continue;
		}
		r->loss.chunks_read++;
		if (h.type != TF_CHUNK_DATA) {
			err = read_meta(r, &h, off);
			if (err)
				return err;
			continue;
		}
		if (!r->gen_valid || (h.flags & TF_CHUNK_GEN_START) ||
		    h.generation != r->gen) {
			reset_interns(r);
			r->gen = h.generation;
			r->gen_valid = true;
		}
		r->ch = h;
		r->ch_off = off;
		r->payload_pos = 0;
		return 1;
	}
}

/* ------------------------------------------------------------ interning */

static int grow_table(void **p, size_t *cap, size_t elem, size_t *n,
		      uint64_t id, struct tf_reader *r)
{
	size_t old = *n;

	if (id == 0 || id > TF_MAX_INTERN_IDS || id > *n + MAX_ID_GAP) {
		r->loss.intern_dropped++;
		return 1;
	}
	if (id <= *n)
		return 0;
	if (gs_grow(p, cap, elem, (size_t)id, TF_MAX_INTERN_IDS + 1))
		return -ENOMEM;
	memset((uint8_t *)*p + old * elem, 0, ((size_t)id - old) * elem);
	*n = (size_t)id;
	return 0;
}

static int apply_intern(struct tf_reader *r, const Gscope__V1__InternBatch *ib)
{
	void *p;
	int rc;

	for (size_t i = 0; i < ib->n_strings; i++) {
		const Gscope__V1__InternedString *s = ib->strings[i];
		char *copy;

		p = r->strs;
		rc = grow_table(&p, &r->strs_cap, sizeof(*r->strs), &r->n_strs,
				s->id, r);
		r->strs = p;
		if (rc < 0)
			return rc;
		if (rc)
			continue;
		copy = gs_arena__strndup(&r->str_arena, (const char *)s->str.data,
					 s->str.len);
		if (!copy)
			return -ENOMEM;
		r->strs[s->id - 1].s = copy;
		r->strs[s->id - 1].len = s->str.len;
	}
	for (size_t i = 0; i < ib->n_mappings; i++) {
		const Gscope__V1__Mapping *m = ib->mappings[i];
		struct tf_mapping *d;

		p = r->maps;
		rc = grow_table(&p, &r->maps_cap, sizeof(*r->maps), &r->n_maps,
				m->id, r);
		r->maps = p;
		if (rc < 0)
			return rc;
		if (rc)
			continue;
		d = &r->maps[m->id - 1];
		d->pid = m->pid;
		d->start = m->start;
		d->end = m->end;
		d->file_offset = m->file_offset;
		d->load_bias = m->load_bias;
		d->path_sid = m->path_sid;
		d->build_id_sid = m->build_id_sid;
	}
	for (size_t i = 0; i < ib->n_frames; i++) {
		const Gscope__V1__Frame *f = ib->frames[i];
		struct tf_frame *d;

		p = r->frames;
		rc = grow_table(&p, &r->frames_cap, sizeof(*r->frames), &r->n_frames,
				f->id, r);
		r->frames = p;
		if (rc < 0)
			return rc;
		if (rc)
			continue;
		d = &r->frames[f->id - 1];
		d->mapping_id = f->mapping_id;
		d->rel_pc = f->rel_pc;
		d->function_sid = f->function_sid;
		d->file_sid = f->file_sid;
		d->line = f->line;
		d->kind = (uint32_t)f->kind;
		d->inlined_into = f->inlined_into;
	}
	if (ib->stacks) {
		const Gscope__V1__StackNodes *sn = ib->stacks;
		size_t n = sn->n_parent < sn->n_frame ? sn->n_parent : sn->n_frame;

		for (size_t i = 0; i < n; i++) {
			uint64_t id = sn->first_id + i;

			if (id < sn->first_id) { /* wrapped */
				r->loss.intern_dropped += n - i;
				break;
			}
			p = r->nodes;
			rc = grow_table(&p, &r->nodes_cap, sizeof(*r->nodes),
					&r->n_nodes, id, r);
			r->nodes = p;
			if (rc < 0)
				return rc;
			if (rc)
				continue;
			/* parents are defined before children: anything else is a root */
			r->nodes[id - 1].parent = sn->parent[i] < id ? sn->parent[i] : 0;
			r->nodes[id - 1].frame = sn->frame[i];
		}
	}
	return 0;
}

const char *tf_reader__string(const struct tf_reader *r, uint64_t id, size_t *len)
{
	if (id == 0 || id > r->n_strs || !r->strs[id - 1].s)
		return NULL;
	if (len)
		*len = r->strs[id - 1].len;
	return r->strs[id - 1].s;
}

const struct tf_frame *tf_reader__frame(const struct tf_reader *r, uint64_t id)
{
	return id && id <= r->n_frames ? &r->frames[id - 1] : NULL;
}

const struct tf_mapping *tf_reader__mapping(const struct tf_reader *r, uint64_t id)
{
	return id && id <= r->n_maps ? &r->maps[id - 1] : NULL;
}

size_t tf_reader__stack(const struct tf_reader *r, uint64_t id, uint64_t *frames,
			size_t max)
{
	size_t n = 0;

	while (id && id <= r->n_nodes && n < max && n < TF_MAX_STACK_DEPTH) {
		frames[n++] = r->nodes[id - 1].frame;
		id = r->nodes[id - 1].parent;
	}
	return n;
}

/* ------------------------------------------------------------ packets */

static int bad_packet(struct tf_reader *r, size_t at, const char *what)
{
	return gs_errf(-GS_E_FORMAT,
		       "%s: chunk %u at offset %llu: payload offset %zu: %s",
		       r->name, r->ch.seq, (unsigned long long)r->ch_off, at, what);
}

/*
 * Find the oneof member of a Packet: the last field with wire type 2.
 * Returns 0 and the field/body, or an error for a malformed packet.
 */
static int packet_member(const uint8_t *p, size_t len, uint32_t *field,
			 const uint8_t **body, size_t *body_len)
{
	const uint8_t *end = p + len;

	*field = 0;
	while (p < end) {
		uint64_t tag, v;

		p = gs_varint_get(p, end, &tag);
		if (!p || tag >> 3 == 0 || tag >> 3 > 536870911u)
			return -GS_E_FORMAT;
		switch (tag & 7) {
		case 0:
			p = gs_varint_get(p, end, &v);
			break;
		case 1:
			p = end - p >= 8 ? p + 8 : NULL;
			break;
		case 5:
			p = end - p >= 4 ? p + 4 : NULL;
			break;
		case 2:
			p = gs_varint_get(p, end, &v);
			if (!p || v > (uint64_t)(end - p))
				return -GS_E_FORMAT;
			*field = (uint32_t)(tag >> 3);
			*body = p;
			*body_len = (size_t)v;
			p += v;
			break;
		default:
			return -GS_E_FORMAT;
		}
		if (!p)
			return -GS_E_FORMAT;
	}
	return 0;
}

int tf_reader__next(struct tf_reader *r, struct tf_packet *pkt)
{
	const uint8_t *p, *end, *body = NULL, *rec;
	size_t at, body_len = 0;
	uint64_t tag, len;
	uint32_t field;
	int err;

	gs_arena__reset(&r->pkt_arena);
	for (;;) {
		while (r->payload && r->payload_pos < r->payload_len) {
			at = r->payload_pos;
			p = r->payload + at;
			end = r->payload + r->payload_len;
			p = gs_varint_get(p, end, &tag);
			if (!p)
				return bad_packet(r, at, "bad record tag");
			if (tag != 0x0a) { /* not a Packet: skip the field */
				if ((tag & 7) == 2) {
					p = gs_varint_get(p, end, &len);
					if (!p || len > (uint64_t)(end - p))
						return bad_packet(r, at, "bad record length");
					r->payload_pos = (size_t)(p + len - r->payload);
					continue;
				}
				return bad_packet(r, at, "unexpected record");
			}
			p = gs_varint_get(p, end, &len);
			if (!p || len > (uint64_t)(end - p) || len > TF_MAX_PACKET_BYTES)
				return bad_packet(r, at, "bad packet length");
			rec = p;
			r->payload_pos = (size_t)(p + len - r->payload);
			if (packet_member(rec, (size_t)len, &field, &body, &body_len))
				return bad_packet(r, at, "malformed packet");
			memset(pkt, 0, sizeof(*pkt));
			pkt->field = field;
			pkt->kind = field < TF_PKT_MAX ? (enum tf_packet_kind)field : TF_PKT_NONE;
			pkt->size = r->payload_pos - at;
			pkt->chunk_offset = r->ch_off;
			pkt->chunk_seq = r->ch.seq;
			pkt->generation = r->ch.generation;
			pkt->chunk_raw_len = r->ch.raw_len;
			pkt->chunk_stored_len = r->ch.stored_len;
			pkt->chunk_codec = r->ch.codec;
			if (pkt->kind == TF_PKT_GO_EVENTS && r->go_cursor) {
				size_t err_at = 0;

				err = tf_go_cursor__init(&r->go, body, body_len, r->go_want,
							 &err_at);
				if (err == -GS_E_FORMAT)
					return bad_packet(r, (size_t)(body - r->payload) + err_at,
							  "malformed batch");
				if (!err) {
					pkt->go = &r->go;
					return 1;
				}
				/* not canonical: decode it, then walk the columns */
			}
			if (tf_packet_kind_is_batch(pkt->kind)) {
				size_t err_at = 0;

				err = tf_batch__decode(&r->batch, pkt->kind, body,
						       body_len, &err_at);
				if (err == -ENOMEM)
					return err;
				if (err)
					return bad_packet(r, (size_t)(body - r->payload) + err_at,
							  err == -GS_E_LIMIT ?
							  "batch over the event limit" :
							  "malformed batch");
				pkt->batch = &r->batch.b;
				if (pkt->kind == TF_PKT_GO_EVENTS && r->go_cursor) {
					tf_go_cursor__init_batch(&r->go, pkt->batch, r->go_want);
					pkt->go = &r->go;
					pkt->batch = NULL;
				}
				return 1;
			}
			if (pkt->kind == TF_PKT_NONE)
				return 1;
			pkt->msg = gscope__v1__packet__unpack(&r->pkt_alloc, (size_t)len, rec);
			if (!pkt->msg)
				return bad_packet(r, at, "packet does not parse");
			if (pkt->kind == TF_PKT_INTERN) {
				err = apply_intern(r, pkt->msg->intern);
				if (err)
					return err;
			}
			return 1;
		}
		r->payload = NULL;
		err = next_chunk(r);
		if (err <= 0)
			return err;
	}
}

/* ------------------------------------------------------------ open/close */

static int open_common(struct tf_reader *r)
{
	uint8_t pre[TF_PREAMBLE_SIZE];
	int err;

	if (r->size < TF_PREAMBLE_SIZE)
		return gs_errf(-GS_E_FORMAT,
			       "%s: not a gscope trace (%llu bytes, shorter than the %d-byte preamble)",
			       r->name, (unsigned long long)r->size, TF_PREAMBLE_SIZE);
	err = rd_read(r, 0, pre, sizeof(pre));
	if (err)
		return err;
	if (memcmp(pre, TF_MAGIC, TF_MAGIC_LEN))
		return gs_errf(-GS_E_FORMAT, "%s: not a gscope trace (bad magic at offset 0)",
			       r->name);
	r->major = pre[8] | pre[9] << 8;
	r->minor = pre[10] | pre[11] << 8;
	if (r->major != TF_FORMAT_MAJOR)
		return gs_errf(-GS_E_VERSION,
			       "%s: format version %u.%u is not supported (offset 8; this gscope reads %u.x)",
			       r->name, r->major, r->minor, TF_FORMAT_MAJOR);
	r->dctx = ZSTD_createDCtx();
	if (!r->dctx)
		return -ENOMEM;
	r->pkt_alloc = (ProtobufCAllocator){ arena_alloc, arena_free, &r->pkt_arena };
	r->meta_alloc = (ProtobufCAllocator){ arena_alloc, arena_free, &r->meta_arena };
	r->pos = TF_PREAMBLE_SIZE;
	/* read the header chunk now, if it is intact and first */
	if (r->size >= TF_PREAMBLE_SIZE + TF_CHUNK_HDR_SIZE) {
		uint8_t hb[TF_CHUNK_HDR_SIZE];
		struct tf_chunk_hdr h;
		bool corrupt;

		err = rd_read(r, r->pos, hb, sizeof(hb));
		if (err)
			return err;
		if (!tf_chunk_hdr__decode(hb, &h) && h.type == TF_CHUNK_HEADER &&
		    TF_CHUNK_HDR_SIZE + (uint64_t)h.stored_len <= r->size - r->pos) {
			err = load_payload(r, &h, r->pos, &corrupt);
			if (err)
				return err;
			if (!corrupt) {
				err = read_meta(r, &h, r->pos);
				if (err)
					return err;
				r->loss.chunks_read++;
				r->expect_seq = h.seq + 1;
				r->pos += tf_pad8(TF_CHUNK_HDR_SIZE + (uint64_t)h.stored_len);
				if (r->pos > r->size)
					r->pos = r->size;
			}
			r->payload = NULL;
		}
	}
	return 0;
}

int tf_reader__open(const char *path, struct tf_reader **out)
{
	struct tf_reader *r = gs_calloc(1, sizeof(*r));
	struct stat st;
	int err;

	if (!r)
		return -ENOMEM;
	r->fd = -1;
	r->name = gs_strdup(path);
	if (!r->name) {
		err = -ENOMEM;
		goto err_out;
	}
	r->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0) {
		err = gs_errf(-errno, "%s: cannot open: %s", path, strerror(errno));
		goto err_out;
	}
	if (fstat(r->fd, &st) < 0) {
		err = gs_errf(-errno, "%s: cannot stat: %s", path, strerror(errno));
		goto err_out;
	}
	if (!S_ISREG(st.st_mode)) {
		err = gs_errf(-GS_E_FORMAT, "%s: not a regular file", path);
		goto err_out;
	}
	r->size = (uint64_t)st.st_size;
	posix_fadvise(r->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	err = open_common(r);
	if (err)
		goto err_out;
	*out = r;
	return 0;
err_out:
	tf_reader__close(r);
	return err;
}

int tf_reader__open_mem(const void *data, size_t len, const char *name,
			struct tf_reader **out)
{
	struct tf_reader *r = gs_calloc(1, sizeof(*r));
	int err;

	if (!r)
		return -ENOMEM;
	r->fd = -1;
	r->mem = data ? data : (const uint8_t *)"";
	r->size = len;
	r->name = gs_strdup(name ? name : "<memory>");
	if (!r->name) {
		err = -ENOMEM;
		goto err_out;
	}
	err = open_common(r);
	if (err)
		goto err_out;
	*out = r;
	return 0;
err_out:
	tf_reader__close(r);
	return err;
}

void tf_reader__skip_columns(struct tf_reader *r, enum tf_packet_kind kind,
			     uint32_t mask)
{
	if (!tf_packet_kind_is_batch(kind))
		return;
	mask &= ~(1u << tf_batch_ts_field(kind, 0) | 1u << tf_batch_ts_field(kind, 1));
	r->batch.skip[kind] = mask;
}

void tf_reader__go_cursor(struct tf_reader *r, uint32_t want)
{
	r->go_cursor = true;
	r->go_want = want | 1u << TF_GO_TS | 1u << TF_GO_KIND;
	/* for the non-canonical batches decoded the slow way */
	r->batch.skip[TF_PKT_GO_EVENTS] = ~r->go_want & ~(1u << TF_GO_KIND_FLAGS);
}

int tf_reader__go_failed(struct tf_reader *r)
{
	return bad_packet(r, (size_t)(r->go.bad - r->payload), "malformed batch");
}

const Gscope__V1__TraceHeader *tf_reader__header(const struct tf_reader *r)
{
	return r->header;
}

const Gscope__V1__TraceIndex *tf_reader__index(const struct tf_reader *r)
{
	return r->index;
}

void tf_reader__version(const struct tf_reader *r, unsigned int *major,
			unsigned int *minor)
{
	*major = r->major;
	*minor = r->minor;
}

uint64_t tf_reader__file_size(const struct tf_reader *r)
{
	return r->size;
}

const struct tf_losses *tf_reader__losses(const struct tf_reader *r)
{
	return &r->loss;
}

void tf_reader__close(struct tf_reader *r)
{
	if (!r)
		return;
	if (r->fd >= 0)
		close(r->fd);
	ZSTD_freeDCtx(r->dctx);
	gs_buf__release(&r->stored_buf);
	gs_buf__release(&r->raw_buf);
	gs_arena__release(&r->pkt_arena);
	gs_arena__release(&r->meta_arena);
	gs_arena__release(&r->str_arena);
	tf_batch_buf__release(&r->batch);
	gs_free(r->strs);
	gs_free(r->frames);
	gs_free(r->maps);
	gs_free(r->nodes);
	gs_free(r->name);
	gs_free(r);
}
