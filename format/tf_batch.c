// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <float.h>
#include <limits.h>
#include <string.h>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

#include "base/gs_cpu.h"
#include "base/gs_err.h"
#include "base/gs_varint.h"
#include "format/tf_batch.h"

enum ftype {
	F_NONE = 0,
	S_KEY_I32, /* cpu */
	S_KEY_U32, /* pid */
	S_BASE,
	S_LOST,
	S_PERIOD,
	S_INTERVAL,
	S_TICK_NS, /* double (wire type 1) */
	S_BASE_TICK, /* sint64 */
	C_TS,      /* sint64 deltas -> absolute ts */
	C_TICK,    /* GoEventBatch.tick_delta: sint64 deltas -> ts (as C_TS) */
	C_U64,
	C_U32,
	C_I64,
	C_I32,
	C_S32,
};

struct fdesc {
	uint8_t type;
	uint8_t group;
	const char *name;
};

#define NF TF_BATCH_MAX_FIELDS

static const struct fdesc descs[TF_PKT_ALLOCS + 1][NF] = {
	[TF_PKT_CPU_SAMPLES] = {
		[1] = { S_KEY_I32, 0, "cpu" },
		[2] = { S_BASE, 0, "base_ts" },
		[3] = { C_TS, 0, "ts" },
		[4] = { C_U32, 0, "tid" },
		[5] = { C_U64, 0, "stack_id" },
		[6] = { C_U64, 0, "weight" },
		[7] = { C_U32, 0, "cpu" },
		[8] = { S_PERIOD, 0, "period" },
		[9] = { C_U64, 0, "goid" },
		[10] = { S_LOST, 0, "lost_events" },
	},
	[TF_PKT_SCHED] = {
		[1] = { S_KEY_I32, 0, "cpu" },
		[2] = { S_BASE, 0, "base_ts" },
		[3] = { C_TS, 0, "ts" },
		[4] = { C_U32, 0, "prev_tid" },
		[5] = { C_I64, 0, "prev_state" },
		[6] = { C_U32, 0, "next_tid" },
		[7] = { C_I32, 0, "next_prio" },
		[8] = { C_U64, 0, "prev_stack_id" },
		[9] = { C_TS, 1, "ts" },
		[10] = { C_U32, 1, "tid" },
		[11] = { C_I32, 1, "target_cpu" },
		[12] = { C_U32, 1, "waker_tid" },
		[13] = { C_U32, 1, "flags" },
		[14] = { S_LOST, 0, "lost_events" },
	},
	[TF_PKT_GO_EVENTS] = {
		[1] = { S_KEY_U32, 0, "pid" },
		[2] = { S_BASE, 0, "base_ts" },
		[3] = { C_TS, 0, "ts" },
		[4] = { C_U32, 0, "kind" },
		[5] = { C_U64, 0, "goid" },
		[6] = { C_U32, 0, "from_state" },
		[7] = { C_U32, 0, "to_state" },
		[8] = { C_U64, 0, "reason_sid" },
		[9] = { C_S32, 0, "p" },
		[10] = { C_U64, 0, "m" },
		[11] = { C_U64, 0, "stack_id" },
		[12] = { C_U64, 0, "arg" },
		[13] = { S_LOST, 0, "lost_events" },
		[14] = { C_U64, 0, "arg2" },
		[15] = { C_U32, 0, "kind_flags" }, /* sparse layout, not a column */
		[16] = { S_TICK_NS, 0, "tick_ns" },
		[17] = { S_BASE_TICK, 0, "base_tick" },
		[18] = { C_TICK, 0, "tick_delta" },
	},
	[TF_PKT_ALLOCS] = {
		[1] = { S_KEY_U32, 0, "pid" },
		[2] = { S_BASE, 0, "base_ts" },
		[3] = { C_TS, 0, "ts" },
		[4] = { C_U32, 0, "tid" },
		[5] = { C_U64, 0, "size" },
		[6] = { C_U64, 0, "type_sid" },
		[7] = { C_U64, 0, "stack_id" },
		[8] = { C_U32, 0, "kind" },
		[9] = { C_U64, 0, "addr" },
		[10] = { S_INTERVAL, 0, "sample_interval_bytes" },
		[11] = { C_U64, 0, "goid" },
	},
};

static const struct fdesc *desc(enum tf_packet_kind kind, unsigned int f)
{
	if (!tf_packet_kind_is_batch(kind) || f >= NF)
		return NULL;
	return descs[kind][f].type ? &descs[kind][f] : NULL;
}

static bool is_col(const struct fdesc *d)
{
	return d && d->type >= C_TS;
}

/* A field of the encoding, not a column of the decoded batch: the sparse
 * layout's kind_flags, the ticks (decoded into the ts column). */
static bool is_layout(enum tf_packet_kind kind, unsigned int f)
{
	return kind == TF_PKT_GO_EVENTS && (f == TF_GO_KIND_FLAGS || f == TF_GO_TICK);
}

/* Column f not wanted (bb->skip): the ticks go with the ts column. */
static bool skipped(const struct tf_batch_buf *bb, enum tf_packet_kind kind, unsigned int f)
{
	if (kind == TF_PKT_GO_EVENTS && f == TF_GO_TICK)
		f = TF_GO_TS;
	return bb->skip[kind] >> f & 1;
}

int tf_batch_field_group(enum tf_packet_kind kind, unsigned int f)
{
	const struct fdesc *d = desc(kind, f);

	return is_col(d) && !is_layout(kind, f) ? d->group : -1;
}

unsigned int tf_batch_ts_field(enum tf_packet_kind kind, int g)
{
	return kind == TF_PKT_SCHED && g == 1 ? TF_WK_TS : 3;
}

const char *tf_batch_field_name(enum tf_packet_kind kind, unsigned int f)
{
	const struct fdesc *d = desc(kind, f);

	return d ? d->name : NULL;
}

bool tf_batch_field_signed(enum tf_packet_kind kind, unsigned int f)
{
	const struct fdesc *d = desc(kind, f);

	return d && (d->type == C_I64 || d->type == C_I32 || d->type == C_S32);
}

static inline uint64_t convert(uint8_t type, uint64_t v)
{
	switch (type) {
	case C_U32:
		return (uint32_t)v;
	case C_I32:
		return (uint64_t)(int64_t)(int32_t)v;
	case C_S32:
		return (uint64_t)(int64_t)(int32_t)((uint32_t)v >> 1 ^
						    -((uint32_t)v & 1));
	default:
		return v;
	}
}

/* Make room for `more` values in column f. */
static int col_reserve(struct tf_batch_buf *bb, unsigned int f, size_t have,
		       size_t more)
{
	void *p = bb->b.col[f];
	int err;

	if (more > TF_MAX_BATCH_EVENTS || have + more > TF_MAX_BATCH_EVENTS)
		return -GS_E_LIMIT;
	err = gs_grow(&p, &bb->cap[f], sizeof(uint64_t), have + more,
		      TF_MAX_BATCH_EVENTS);
	bb->b.col[f] = p;
	return err;
}

/* Skip a field of wire type wt; return the new position or NULL. */
static const uint8_t *skip_field(const uint8_t *p, const uint8_t *end,
				 unsigned int wt)
{
	uint64_t v;

	switch (wt) {
	case 0:
		return gs_varint_get(p, end, &v);
	case 1:
		return end - p >= 8 ? p + 8 : NULL;
	case 2:
		p = gs_varint_get(p, end, &v);
		if (!p || v > (uint64_t)(end - p))
			return NULL;
		return p + v;
	case 5:
		return end - p >= 4 ? p + 4 : NULL;
	default:
		return NULL;
	}
}

/* Number of bytes below 0x80 (= varints ending) in [p, end), 8 at a time. */
static size_t count_varints(const uint8_t *p, const uint8_t *end)
{
	size_t n = 0;

	for (; end - p >= 8; p += 8) {
		uint64_t w;

		memcpy(&w, p, 8);
		/* high bits moved to bit 0 of each byte, summed by the multiply */
		w = (w & 0x8080808080808080ull) >> 7;
		n += 8 - (size_t)((w * 0x0101010101010101ull) >> 56);
	}
	for (; p < end; p++)
		n += *p < 0x80;
	return n;
}

/* A batch's scalar field of type t (key, base_ts...): set it and say so. */
static bool set_scalar(uint8_t t, uint64_t v, int64_t *key, uint64_t *base_ts,
		       uint64_t *lost, uint64_t *period, uint64_t *interval)
{
	switch (t) {
	case S_KEY_I32:
		*key = (int32_t)v;
		return true;
	case S_KEY_U32:
		*key = (uint32_t)v;
		return true;
	case S_BASE:
		*base_ts = v;
		return true;
	case S_LOST:
		*lost = v;
		return true;
	case S_PERIOD:
		*period = v;
		return true;
	case S_INTERVAL:
		*interval = v;
		return true;
	default:
		return false;
	}
}

/*
 * A GoEventBatch's clock field (tick_ns, base_tick) at *pp, of wire type
 * wt: 1 when read (*pp past it), 0 when d is not one, -GS_E_FORMAT when it
 * is malformed (*pp unchanged).  The last tick_ns counts: tick_ok() checks
 * it once all are read.
 */
static int get_clock(const struct fdesc *d, unsigned int wt, const uint8_t **pp,
		     const uint8_t *end, double *tick_ns, int64_t *base_tick)
{
	const uint8_t *p = *pp;
	uint64_t v;

	if (d->type == S_TICK_NS) {
		if (wt != 1 || end - p < 8)
			return -GS_E_FORMAT;
		v = tf_get_le64(p);
		memcpy(tick_ns, &v, sizeof(*tick_ns));
		*pp = p + 8;
		return 1;
	}
	if (d->type != S_BASE_TICK)
		return 0;
	if (wt != 0 || !(p = gs_varint_get(p, end, &v)))
		return -GS_E_FORMAT;
	*base_tick = gs_zigzag_dec(v);
	*pp = p;
	return 1;
}

/* tick_ns 0 (or absent): ts in ns; else finite and > 0 (gscope.proto). */
static bool tick_ok(double tick_ns)
{
	return tick_ns == 0 || (tick_ns > 0 && tick_ns <= DBL_MAX);
}

/* Decode packed varints [p, end) appended to column f. */
static int decode_packed(struct tf_batch_buf *bb, unsigned int f, uint8_t type,
			 size_t *cnt, const uint8_t *p, const uint8_t *end)
{
	size_t n = 0, have = *cnt;
	uint64_t *out;
	int err;

	n = count_varints(p, end);
	if (n == 0) /* empty, or one unterminated varint */
		return p == end ? 0 : -GS_E_FORMAT;
	err = col_reserve(bb, f, have, n);
	if (err)
		return err;
	out = bb->b.col[f] + have;
	if ((size_t)(end - p) == n) { /* every value fits one byte: widen */
		for (size_t i = 0; i < n; i++)
			out[i] = p[i];
		if (type != C_U64 && type != C_I64 && type != C_TS && type != C_TICK)
			for (size_t i = 0; i < n; i++)
				out[i] = convert(type, out[i]);
		*cnt = have + n;
		return 0;
	}
	if (type == C_U64 || type == C_I64 || type == C_TS || type == C_TICK) {
		for (size_t i = 0; i < n; i++) {
			p = gs_varint_get(p, end, &out[i]);
			if (!p)
				return -GS_E_FORMAT;
		}
	} else {
		for (size_t i = 0; i < n; i++) {
			uint64_t v;

			p = gs_varint_get(p, end, &v);
			if (!p)
				return -GS_E_FORMAT;
			out[i] = convert(type, v);
		}
	}
	if (p != end)
		return -GS_E_FORMAT;
	*cnt = have + n;
	return 0;
}

/* The sparse GoEventBatch columns and the flag that gives them a value. */
static const struct {
	uint8_t f;
	uint16_t flag;
} go_sparse[] = {
	{ TF_GO_FROM, TF_GOF_TRANS }, { TF_GO_TO, TF_GOF_TRANS },
	{ TF_GO_REASON, TF_GOF_REASON }, { TF_GO_P, TF_GOF_P },
	{ TF_GO_M, TF_GOF_M }, { TF_GO_STACK, TF_GOF_STACK },
	{ TF_GO_ARG, TF_GOF_ARG }, { TF_GO_ARG2, TF_GOF_ARG2 },
};

/*
 * Sparse GoEventBatch (gscope.proto): widen kind and every wanted sparse
 * column to one value per event, each column consuming exactly its values
 * in event order.  Afterwards cnt[] says n for them, as for a dense batch.
 */
static int go_expand(struct tf_batch_buf *bb, size_t *cnt)
{
	struct tf_batch *b = &bb->b;
	size_t n = b->n[0];
	const uint64_t *kw;
	uint32_t skip = bb->skip[TF_PKT_GO_EVENTS];
	uint64_t all = 0;
	int err;

	if (cnt[TF_GO_KIND_FLAGS] != n || cnt[TF_GO_KIND])
		return -GS_E_FORMAT;
	kw = b->col[TF_GO_KIND_FLAGS];
	for (size_t i = 0; i < n; i++)
		all |= kw[i];
	if (all > TF_GOF_ALL)
		return -GS_E_FORMAT; /* an unknown flag */
	if (!(skip >> TF_GO_KIND & 1)) {
		uint64_t *out, any = 0;

		err = col_reserve(bb, TF_GO_KIND, 0, n);
		if (err)
			return err;
		out = b->col[TF_GO_KIND];
		for (size_t i = 0; i < n; i++)
			any |= out[i] = kw[i] & TF_GOF_KIND_MASK;
		b->present[TF_GO_KIND] = any != 0;
		cnt[TF_GO_KIND] = n;
	}
	for (size_t j = 0; j < sizeof(go_sparse) / sizeof(go_sparse[0]); j++) {
		unsigned int f = go_sparse[j].f, sh = (unsigned int)__builtin_ctz(go_sparse[j].flag);
		uint64_t *out, *vals, any = 0, prev = 0;
		size_t c = 0, have = cnt[f];
		void *tp = bb->tmp;

		if (skip >> f & 1)
			continue;
		if (have > n)
			return -GS_E_FORMAT;
		/* the values move aside, zero-padded to n + 1, the column widens */
		err = gs_grow(&tp, &bb->tmp_cap, sizeof(uint64_t), n + 1,
			      TF_MAX_BATCH_EVENTS + 1);
		bb->tmp = tp;
		if (err)
			return err;
		vals = bb->tmp;
		if (have)
			memcpy(vals, b->col[f], have * sizeof(uint64_t));
		memset(vals + have, 0, (n + 1 - have) * sizeof(uint64_t));
		err = col_reserve(bb, f, 0, n);
		if (err)
			return err;
		out = b->col[f];
		switch (f) {
		case TF_GO_FROM:
		case TF_GO_TO: {
			unsigned int dsh = f == TF_GO_FROM ? 4 : 0;

			for (size_t i = 0; i < n; i++) {
				uint64_t w = kw[i], fl = w >> sh & 1;
				uint64_t d = tf_go_default_trans((uint32_t)w) >> dsh & 15;
				uint64_t v = fl ? vals[c] : d;

				out[i] = v;
				any |= v;
				c += fl;
			}
			break;
		}
		case TF_GO_P:
		case TF_GO_M: /* absent: the previous event's */
			for (size_t i = 0; i < n; i++) {
				uint64_t fl = kw[i] >> sh & 1;

				prev = fl ? vals[c] : prev;
				out[i] = prev;
				any |= prev;
				c += fl;
			}
			break;
		default:
			for (size_t i = 0; i < n; i++) {
				uint64_t fl = kw[i] >> sh & 1, v = vals[c] & -fl;

				out[i] = v;
				any |= v;
				c += fl;
			}
			break;
		}
		if (c != have)
			return -GS_E_FORMAT; /* more or fewer values than flags */
		b->present[f] = any != 0;
		cnt[f] = n;
	}
	b->present[TF_GO_KIND_FLAGS] = false;
	return 0;
}

int tf_batch__decode(struct tf_batch_buf *bb, enum tf_packet_kind kind,
		     const uint8_t *p, size_t len, size_t *err_at)
{
	struct tf_batch *b = &bb->b;
	const uint8_t *start = p, *end = p + len, *fstart = p;
	size_t cnt[NF] = { 0 };
	double tick_ns = 0; /* 0: ts in ns */
	int64_t base_tick = 0;
	size_t tick_at = 0; /* of the last tick_ns */
	bool ticks = false; /* the ts column holds tick deltas */
	int err = 0;

	b->kind = kind;
	b->n[0] = b->n[1] = 0;
	b->key = -1;
	b->base_ts = b->lost_events = b->period = b->sample_interval = 0;
	memset(b->present, 0, sizeof(b->present));
	while (p < end) {
		const struct fdesc *d;
		uint64_t tag, v;
		unsigned int f, wt;

		fstart = p;
		p = gs_varint_get(p, end, &tag);
		if (!p || tag >> 3 == 0 || tag >> 3 > 536870911u) {
			p = fstart;
			err = -GS_E_FORMAT;
			break;
		}
		f = tag >> 3 < NF ? (unsigned int)(tag >> 3) : 0;
		wt = tag & 7;
		d = f ? desc(kind, f) : NULL;
		if (!d || (is_col(d) && skipped(bb, kind, f))) {
			p = skip_field(p, end, wt);
			if (!p) {
				p = fstart;
				err = -GS_E_FORMAT;
				break;
			}
			continue;
		}
		if (is_col(d) && wt == 2) {
			const uint8_t *q = gs_varint_get(p, end, &v);

			if (!q || v > (uint64_t)(end - q)) {
				err = -GS_E_FORMAT;
				break;
			}
			err = decode_packed(bb, f, d->type, &cnt[f], q, q + v);
			if (err)
				break;
			p = q + v;
			b->present[f] = true;
			continue;
		}
		err = get_clock(d, wt, &p, end, &tick_ns, &base_tick);
		if (err) {
			if (err > 0) {
				if (d->type == S_TICK_NS)
					tick_at = (size_t)(fstart - start);
				err = 0;
				continue;
			}
			p = fstart;
			break;
		}
		if (wt != 0) {
			p = fstart;
			err = -GS_E_FORMAT;
			break;
		}
		p = gs_varint_get(p, end, &v);
		if (!p) {
			p = fstart;
			err = -GS_E_FORMAT;
			break;
		}
		if (set_scalar(d->type, v, &b->key, &b->base_ts, &b->lost_events,
			       &b->period, &b->sample_interval))
			continue;
		/* one unpacked element of a column */
		err = col_reserve(bb, f, cnt[f], 1);
		if (err)
			break;
		b->col[f][cnt[f]++] = d->type == C_TS ? v : convert(d->type, v);
		b->present[f] = true;
	}
	if (err) {
		*err_at = (size_t)(fstart - start); /* the malformed field */
		return err;
	}
	if (!tick_ok(tick_ns)) {
		*err_at = tick_at;
		return -GS_E_FORMAT;
	}
	if (kind == TF_PKT_GO_EVENTS && cnt[TF_GO_TICK]) {
		/* the ticks become the ts column; ts_delta must be empty */
		uint64_t *c = b->col[TF_GO_TS];
		size_t cap = bb->cap[TF_GO_TS];

		if (cnt[TF_GO_TS] || !tick_ns) {
			*err_at = len;
			return -GS_E_FORMAT;
		}
		b->col[TF_GO_TS] = b->col[TF_GO_TICK];
		bb->cap[TF_GO_TS] = bb->cap[TF_GO_TICK];
		b->col[TF_GO_TICK] = c;
		bb->cap[TF_GO_TICK] = cap;
		cnt[TF_GO_TS] = cnt[TF_GO_TICK];
		cnt[TF_GO_TICK] = 0;
		b->present[TF_GO_TS] = true;
		b->present[TF_GO_TICK] = false;
		ticks = true;
	}

	/* group sizes come from the ts columns; other columns match or are absent */
	for (int g = 0; g < 2; g++)
		b->n[g] = cnt[tf_batch_ts_field(kind, g)];
	if (kind != TF_PKT_SCHED)
		b->n[1] = 0;
	b->present[TF_GO_KIND_FLAGS] = cnt[TF_GO_KIND_FLAGS] > 0; /* empty: absent */
	if (kind == TF_PKT_GO_EVENTS && b->present[TF_GO_KIND_FLAGS]) {
		err = go_expand(bb, cnt);
		if (err) {
			*err_at = len;
			return err;
		}
	}
	for (unsigned int f = 1; f < NF; f++) {
		const struct fdesc *d = desc(kind, f);
		size_t n;
		uint64_t dflt;

		if (!is_col(d) || skipped(bb, kind, f) || is_layout(kind, f))
			continue;
		n = b->n[d->group];
		if (cnt[f] == n) {
			if (d->type == C_TS) { /* deltas (of ns or ticks) -> ns */
				uint64_t *c = b->col[f];
				uint64_t t = ticks ? (uint64_t)base_tick : b->base_ts;
				double k = ticks ? tick_ns : 0;

				for (size_t i = 0; i < n; i++) {
					t += (uint64_t)gs_zigzag_dec(c[i]);
					c[i] = tf_go_ts(t, k);
				}
			}
			continue;
		}
		if (cnt[f] != 0) {
			*err_at = len;
			return -GS_E_FORMAT;
		}
		err = col_reserve(bb, f, 0, n);
		if (err)
			return err;
		dflt = kind == TF_PKT_CPU_SAMPLES && f == TF_CPU_WEIGHT ? b->period : 0;
		for (size_t i = 0; i < n; i++)
			b->col[f][i] = dflt;
	}
	return 0;
}

void tf_batch_buf__release(struct tf_batch_buf *bb)
{
	for (int f = 0; f < NF; f++)
		gs_free(bb->b.col[f]);
	gs_free(bb->tmp);
	memset(bb, 0, sizeof(*bb));
}

/* ------------------------------------------------------------ encoder */

static inline uint8_t *put_tag(uint8_t *p, unsigned int f, unsigned int wt)
{
	return gs_varint_put(p, (uint64_t)f << 3 | wt);
}

static int encode_col(const struct tf_batch *b, unsigned int f,
		      const struct fdesc *d, struct gs_buf *out)
{
	size_t n = b->n[d->group];
	const uint64_t *c = b->col[f];
	uint64_t dflt = 0, prev = b->base_ts;
	uint8_t *start, *p;
	size_t hdr, len;
	bool all_dflt = true;
	int err;

	if (!n)
		return 0;
	if (b->kind == TF_PKT_CPU_SAMPLES && f == TF_CPU_WEIGHT)
		dflt = b->period;
	if (d->type != C_TS) {
		for (size_t i = 0; i < n && all_dflt; i++)
			all_dflt = c[i] == dflt;
		if (all_dflt)
			return 0;
	}
	err = gs_buf__reserve(out, 2 * GS_VARINT_MAX + n * GS_VARINT_MAX);
	if (err)
		return err;
	start = out->data + out->len;
	p = start + 1 + GS_VARINT_MAX; /* room for tag + worst-case length */
	switch (d->type) {
	case C_TS:
		for (size_t i = 0; i < n; i++) {
			p = gs_varint_put(p, gs_zigzag_enc((int64_t)(c[i] - prev)));
			prev = c[i];
		}
		break;
	case C_S32:
		for (size_t i = 0; i < n; i++) {
			int32_t v = (int32_t)c[i];

			p = gs_varint_put(p, (uint32_t)(((uint32_t)v << 1) ^
							 (uint32_t)(v >> 31)));
		}
		break;
	case C_U32:
		for (size_t i = 0; i < n; i++)
			p = gs_varint_put(p, (uint32_t)c[i]);
		break;
	case C_I32:
		for (size_t i = 0; i < n; i++)
			p = gs_varint_put(p, (uint64_t)(int64_t)(int32_t)c[i]);
		break;
	default:
		for (size_t i = 0; i < n; i++)
			p = gs_varint_put(p, c[i]);
		break;
	}
	len = (size_t)(p - (start + 1 + GS_VARINT_MAX));
	p = put_tag(start, f, 2);
	p = gs_varint_put(p, len);
	hdr = (size_t)(p - start);
	memmove(p, start + 1 + GS_VARINT_MAX, len);
	out->len += hdr + len;
	return 0;
}

int tf_batch__encode(const struct tf_batch *b, struct gs_buf *out)
{
	int err;

	for (unsigned int f = 1; f < NF; f++) {
		const struct fdesc *d = desc(b->kind, f);
		uint64_t v;
		uint8_t *p;

		if (!d)
			continue;
		if (is_col(d)) {
			if (is_layout(b->kind, f))
				continue; /* dense layout */
			err = encode_col(b, f, d, out);
			if (err)
				return err;
			continue;
		}
		switch (d->type) {
		case S_KEY_I32:
		case S_KEY_U32:
			if (b->key < 0)
				continue;
			v = d->type == S_KEY_I32 ? (uint64_t)(int64_t)(int32_t)b->key
						 : (uint32_t)b->key;
			break;
		case S_BASE:
			v = b->base_ts;
			break;
		case S_LOST:
			if (!b->lost_events)
				continue;
			v = b->lost_events;
			break;
		case S_PERIOD:
			if (!b->period)
				continue;
			v = b->period;
			break;
		case S_INTERVAL:
			if (!b->sample_interval)
				continue;
			v = b->sample_interval;
			break;
		default:
			continue;
		}
		err = gs_buf__reserve(out, 2 * GS_VARINT_MAX);
		if (err)
			return err;
		p = put_tag(out->data + out->len, f, 0);
		p = gs_varint_put(p, v);
		out->len = (size_t)(p - out->data);
	}
	return 0;
}

/* ------------------------------------------------------------ streaming */

void tf_batch_enc__init(struct tf_batch_enc *e, enum tf_packet_kind kind,
			int64_t key)
{
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->key = key;
}

int tf_batch_enc__grow(struct tf_batch_enc *e, int g, size_t max_events)
{
	size_t ncap = e->cap[g] ? e->cap[g] * 4 : 64;

	if (max_events > TF_MAX_BATCH_EVENTS)
		max_events = TF_MAX_BATCH_EVENTS;
	if (e->cap[g] >= max_events)
		return -GS_E_LIMIT;
	if (ncap > max_events)
		ncap = max_events;
	for (unsigned int f = 1; f < NF; f++) {
		const struct fdesc *d = desc(e->kind, f);
		size_t used;
		uint8_t *p;

		if (!is_col(d) || d->group != g)
			continue;
		used = (size_t)(e->wp[f] - e->col[f]);
		p = gs_realloc(e->col[f], ncap * GS_VARINT_MAX);
		if (!p)
			return -ENOMEM;
		e->col[f] = p;
		e->wp[f] = p + used;
	}
	e->cap[g] = ncap;
	return 0;
}

/* A GoEventBatch with a clock: tick_delta instead of ts_delta. */
static bool enc_ticks(const struct tf_batch_enc *e)
{
	return e->kind == TF_PKT_GO_EVENTS && e->tick_ns != 0;
}

void tf_batch_enc__put(struct tf_batch_enc *e, unsigned int f, uint64_t v)
{
	const struct fdesc *d = desc(e->kind, f);

	if (!is_col(d))
		return;
	switch (d->type) {
	case C_TS: /* with a clock the ticks go instead */
		if (!enc_ticks(e))
			tf_batch_enc_ts(e, f, d->group, v);
		break;
	case C_TICK:
		if (enc_ticks(e))
			tf_batch_enc_ts(e, f, d->group, v);
		break;
	case C_U32:
		e->nondefault |= tf_batch_enc_u32(e, f, (uint32_t)v);
		break;
	case C_I32:
		e->nondefault |= tf_batch_enc_i64(e, f, (int32_t)v);
		break;
	case C_S32:
		e->nondefault |= tf_batch_enc_s32(e, f, (int32_t)v);
		break;
	case C_I64:
		e->nondefault |= tf_batch_enc_i64(e, f, (int64_t)v);
		break;
	default:
		e->nondefault |= tf_batch_enc_u64(e, f, v, e->kind == TF_PKT_CPU_SAMPLES &&
						  f == TF_CPU_WEIGHT ? e->period : 0);
		break;
	}
}

/* Columns written, as a mask: ts columns of non-empty groups, the others
 * when they hold a non-default value. */
static uint32_t enc_columns(const struct tf_batch_enc *e)
{
	uint32_t m = 0;

	for (unsigned int f = 1; f < NF; f++) {
		const struct fdesc *d = desc(e->kind, f);

		if (!is_col(d) || !e->n[d->group])
			continue;
		if (d->type == C_TS ? !enc_ticks(e) : d->type == C_TICK ? enc_ticks(e) :
		    (e->nondefault >> f & 1))
			m |= 1u << f;
	}
	return m;
}

/* The scalar field f, if written: its value in *v. */
static bool enc_scalar(const struct tf_batch_enc *e, const struct fdesc *d,
		       uint64_t *v)
{
	switch (d->type) {
	case S_KEY_I32:
	case S_KEY_U32:
		if (e->key < 0)
			return false;
		*v = d->type == S_KEY_I32 ? (uint64_t)(int64_t)(int32_t)e->key
					  : (uint32_t)e->key;
		return true;
	case S_BASE:
		*v = e->base_ts;
		return true;
	case S_LOST:
		*v = e->lost_events;
		return *v != 0;
	case S_PERIOD:
		*v = e->period;
		return *v != 0;
	case S_INTERVAL:
		*v = e->sample_interval;
		return *v != 0;
	case S_BASE_TICK:
		*v = gs_zigzag_enc(e->base_tick);
		return enc_ticks(e);
	default:
		return false;
	}
}

/* tick_ns (wire type 1), when the batch counts ticks: its bytes at p. */
static uint8_t *put_tick_ns(uint8_t *p, unsigned int f, double tick_ns)
{
	uint64_t v;

	memcpy(&v, &tick_ns, sizeof(v));
	p = put_tag(p, f, 1);
	tf_put_le64(p, v);
	return p + 8;
}

size_t tf_batch_enc__size(const struct tf_batch_enc *e)
{
	uint32_t cols = enc_columns(e);
	size_t n = 0;

	for (unsigned int f = 1; f < NF; f++) {
		const struct fdesc *d = desc(e->kind, f);
		uint64_t v;

		if (!d)
			continue;
		if (is_col(d)) {
			if (cols >> f & 1) {
				size_t len = (size_t)(e->wp[f] - e->col[f]);

				n += gs_varint_size((uint64_t)f << 3) + gs_varint_size(len) + len;
			}
		} else if (d->type == S_TICK_NS) {
			if (enc_ticks(e))
				n += gs_varint_size((uint64_t)f << 3 | 1) + 8;
		} else if (enc_scalar(e, d, &v)) {
			n += gs_varint_size((uint64_t)f << 3) + gs_varint_size(v);
		}
	}
	return n;
}

uint8_t *tf_batch_enc__finish(struct tf_batch_enc *e, uint8_t *p)
{
	uint32_t cols = enc_columns(e);

	for (unsigned int f = 1; f < NF; f++) {
		const struct fdesc *d = desc(e->kind, f);
		uint64_t v;

		if (!d)
			continue;
		if (is_col(d)) {
			size_t len = (size_t)(e->wp[f] - e->col[f]);

			if (cols >> f & 1) {
				p = put_tag(p, f, 2);
				p = gs_varint_put(p, len);
				memcpy(p, e->col[f], len);
				p += len;
			}
			e->wp[f] = e->col[f];
		} else if (d->type == S_TICK_NS) {
			if (enc_ticks(e))
				p = put_tick_ns(p, f, e->tick_ns);
		} else if (enc_scalar(e, d, &v)) {
			p = put_tag(p, f, 0);
			p = gs_varint_put(p, v);
		}
	}
	e->n[0] = e->n[1] = 0;
	e->nondefault = 0;
	e->lost_events = 0;
	return p;
}

void tf_batch_enc__release(struct tf_batch_enc *e)
{
	for (unsigned int f = 0; f < NF; f++)
		gs_free(e->col[f]);
	memset(e, 0, sizeof(*e));
}

/* ------------------------------------------------------------ go cursor */

int tf_go_cursor__init(struct tf_go_cursor *c, const uint8_t *body, size_t len,
		       uint32_t want, size_t *err_at)
{
	const uint8_t *p = body, *end = body + len;
	const uint8_t *tick_at = body;
	uint64_t unused;
	int64_t base_tick = 0;

	memset(c, 0, sizeof(*c));
	c->key = -1;
	c->want = want | 1u << TF_GO_TS | 1u << TF_GO_KIND | 1u << TF_GO_KIND_FLAGS;
	while (p < end) {
		const uint8_t *fstart = p;
		const struct fdesc *d;
		uint64_t tag, v;
		unsigned int f, wt;

		p = gs_varint_get(p, end, &tag);
		if (!p || tag >> 3 == 0 || tag >> 3 > 536870911u)
			goto bad;
		f = tag >> 3 < NF ? (unsigned int)(tag >> 3) : 0;
		wt = tag & 7;
		d = f ? desc(TF_PKT_GO_EVENTS, f) : NULL;
		if (!d) {
			p = skip_field(p, end, wt);
			if (!p)
				goto bad;
			continue;
		}
		if (is_col(d)) {
			if (wt != 2 || c->s[f])
				return -EAGAIN; /* unpacked or in pieces */
			p = gs_varint_get(p, end, &v);
			if (!p || v > (uint64_t)(end - p))
				goto bad;
			c->s[f] = p;
			c->e[f] = p + v;
			p += v;
			continue;
		}
		switch (get_clock(d, wt, &p, end, &c->tick_ns, &base_tick)) {
		case 0:
			break;
		case 1:
			if (d->type == S_TICK_NS)
				tick_at = fstart;
			continue;
		default:
			goto bad;
		}
		if (wt != 0 || !(p = gs_varint_get(p, end, &v)))
			goto bad;
		set_scalar(d->type, v, &c->key, &c->base_ts, &c->lost_events, &unused,
			   &unused);
		continue;
bad:
		*err_at = (size_t)(fstart - body);
		return -GS_E_FORMAT;
	}
	if (!tick_ok(c->tick_ns)) {
		*err_at = (size_t)(tick_at - body);
		return -GS_E_FORMAT;
	}
	/* an empty packed column is an absent one */
	for (unsigned int f = 0; f < NF; f++)
		if (c->s[f] && c->s[f] == c->e[f] && f != TF_GO_TS)
			c->s[f] = c->e[f] = NULL;
	c->sparse = c->s[TF_GO_KIND_FLAGS] != NULL;
	if (c->sparse && c->s[TF_GO_KIND]) {
		*err_at = (size_t)(c->s[TF_GO_KIND] - body);
		return -GS_E_FORMAT; /* kind and kind_flags */
	}
	if (c->s[TF_GO_TICK]) { /* the ticks are read as the ts column */
		if ((c->s[TF_GO_TS] && c->s[TF_GO_TS] != c->e[TF_GO_TS]) || !c->tick_ns) {
			*err_at = (size_t)(c->s[TF_GO_TICK] - body);
			return -GS_E_FORMAT; /* ts_delta and tick_delta, or no clock */
		}
		c->s[TF_GO_TS] = c->s[TF_GO_TICK];
		c->e[TF_GO_TS] = c->e[TF_GO_TICK];
		c->s[TF_GO_TICK] = c->e[TF_GO_TICK] = NULL;
		c->ts = (uint64_t)base_tick;
	} else {
		c->tick_ns = 0; /* a clock without ticks: ts in ns */
		c->ts = c->base_ts;
	}
	if (!c->s[TF_GO_TS])
		c->s[TF_GO_TS] = c->e[TF_GO_TS] = body; /* no events */
	return 0;
}

void tf_go_cursor__init_batch(struct tf_go_cursor *c, const struct tf_batch *b,
			      uint32_t want)
{
	memset(c, 0, sizeof(*c));
	c->b = b;
	c->key = b->key;
	c->base_ts = b->base_ts;
	c->lost_events = b->lost_events;
	c->want = want | 1u << TF_GO_TS | 1u << TF_GO_KIND;
}

int tf_go_cursor__next_batch(struct tf_go_cursor *c, struct tf_go_event *ev)
{
	const struct tf_batch *b = c->b;
	size_t i = c->i;

#define COLV(f) ((c->want >> (f) & 1) ? b->col[f][i] : 0)
	if (i >= b->n[0])
		return 0;
	c->i++;
	ev->ts = b->col[TF_GO_TS][i];
	ev->tick = 0;
	ev->pid = (uint32_t)b->key;
	ev->kind = (uint32_t)b->col[TF_GO_KIND][i];
	ev->goid = COLV(TF_GO_GOID);
	ev->from_state = (uint32_t)COLV(TF_GO_FROM);
	ev->to_state = (uint32_t)COLV(TF_GO_TO);
	ev->reason_sid = COLV(TF_GO_REASON);
	ev->p = (int32_t)COLV(TF_GO_P);
	ev->m = COLV(TF_GO_M);
	ev->stack_id = COLV(TF_GO_STACK);
	ev->arg = COLV(TF_GO_ARG);
	ev->arg2 = COLV(TF_GO_ARG2);
#undef COLV
	return 1;
}

int tf_go_cursor__end(struct tf_go_cursor *c)
{
	for (unsigned int f = 0; f < NF; f++) {
		if ((c->want >> f & 1) && c->s[f] && c->s[f] != c->e[f]) {
			c->bad = c->s[f]; /* more values than events or flags */
			return -GS_E_FORMAT;
		}
	}
	return 0;
}

static int read_sparse(struct tf_go_cursor *c, struct tf_go_event *ev, size_t max)
{
	struct tf_go_sparse r;
	size_t n = 0, k;
	bool ok = true;

	tf_go_sparse__begin(&r, c);
	while (ok && n < max && (k = tf_go_sparse__safe(&r)) > 0) {
		if (k > max - n)
			k = max - n;
		for (size_t end = n + k; ok && n < end; n++)
			ok = tf_go_sparse__one(&r, &ev[n], true);
	}
	for (; ok && n < max && !tf_go_sparse__done(&r); n++)
		ok = tf_go_sparse__one(&r, &ev[n], false);
	tf_go_sparse__end(&r, c);
	if (!ok) {
		c->bad = r.s[r.bad];
		return -GS_E_FORMAT;
	}
	if (!n)
		return tf_go_cursor__end(c);
	return (int)n;
}

int tf_go_cursor__read(struct tf_go_cursor *c, struct tf_go_event *ev, size_t max)
{
	size_t n = 0;
	int rc;

	if (!max)
		return 0;
	if (max > INT_MAX)
		max = INT_MAX;
	if (!c->b && c->sparse)
		return read_sparse(c, ev, max);
	for (; n < max; n++) {
		rc = tf_go_cursor__next(c, &ev[n]);
		if (rc < 0)
			return rc;
		if (!rc)
			break;
	}
	return (int)n;
}

/* ------------------------------------------------- sparse blocks, SIMD */

#if defined(__x86_64__) && defined(__GNUC__)
#define SIMD_TARGET __attribute__((target("avx512f,avx512bw,avx512dq,avx512vbmi2,bmi,bmi2")))

/*
 * 32 varints of 1 or 2 bytes from p (avail bytes readable) into 16-bit
 * lanes; *used: the bytes they take.  False when one of them is longer
 * (or fewer than 32 end within 64 bytes).  The varint ends are the bytes
 * without a continuation bit (t); a value has two bytes where the byte
 * before its end continues: one bit per value (pext), which spreads the
 * bytes over the lanes (expand).
 */
static SIMD_TARGET inline bool var12x32(const uint8_t *p, size_t avail, __m512i *out,
					unsigned int *used)
{
	__mmask64 valid = avail >= 64 ? ~(__mmask64)0 : ((__mmask64)1 << avail) - 1;
	__m512i in = _mm512_maskz_loadu_epi8(valid, p), w;
	uint64_t c = _mm512_movepi8_mask(in) & valid;
	uint64_t t = ~c & valid, last, span, two;

	if (__builtin_popcountll(t) < 32)
		return false;
	last = _pdep_u64((uint64_t)1 << 31, t); /* the 32nd value's end */
	span = last | (last - 1);
	if (c & (c >> 1) & span)
		return false; /* a value of 3 bytes or more */
	two = _pext_u64(c << 1, t & span);
	w = _mm512_maskz_expand_epi8(0x5555555555555555ull | _pdep_u64(two, 0xaaaaaaaaaaaaaaaaull),
				     in);
	*out = _mm512_or_si512(_mm512_and_si512(w, _mm512_set1_epi16(0x7f)),
			       _mm512_and_si512(_mm512_srli_epi16(w, 1),
						_mm512_set1_epi16(0x3f80)));
	*used = (unsigned int)__builtin_ctzll(last) + 1;
	return true;
}

/* Running sum of 8 time deltas from carry (all lanes the last time). */
static SIMD_TARGET inline __m512i time8(__m128i d, __m512i *carry)
{
	__m512i z = _mm512_setzero_si512(), x = _mm512_cvtepi16_epi64(d);

	x = _mm512_add_epi64(x, _mm512_alignr_epi64(x, z, 7));
	x = _mm512_add_epi64(x, _mm512_alignr_epi64(x, z, 6));
	x = _mm512_add_epi64(x, _mm512_alignr_epi64(x, z, 4));
	x = _mm512_add_epi64(x, *carry);
	*carry = _mm512_permutexvar_epi64(_mm512_set1_epi64(7), x);
	return x;
}

/* tf_tick_ns() of 8 times; false where one is out of range (as it says). */
static SIMD_TARGET inline bool ns8(__m512i x, __m512d k, uint64_t *out)
{
	__m512i n = _mm512_cvttpd_epi64(_mm512_mul_pd(_mm512_cvtepi64_pd(x), k));

	_mm512_storeu_si512(out, n);
	return !_mm512_cmpeq_epi64_mask(n, _mm512_set1_epi64(INT64_MIN));
}

static SIMD_TARGET bool block_avx512(struct tf_go_sparse *r, uint64_t *ts, uint32_t *kw)
{
	const uint8_t *tp = r->s[TF_GO_TS], *kp = r->s[TF_GO_KIND_FLAGS];
	__m512i tv, kv, d, carry, x[4];
	__m512d k = _mm512_set1_pd(r->k);
	unsigned int tu, ku;
	bool ok = true;

	if (!var12x32(tp, (size_t)(r->e[TF_GO_TS] - tp), &tv, &tu) ||
	    !var12x32(kp, (size_t)(r->e[TF_GO_KIND_FLAGS] - kp), &kv, &ku) ||
	    _mm512_cmpgt_epu16_mask(kv, _mm512_set1_epi16(TF_GOF_ALL)))
		return false;
	/* zigzag: the deltas as int16, then summed from the last time */
	d = _mm512_xor_si512(_mm512_srli_epi16(tv, 1),
			     _mm512_sub_epi16(_mm512_setzero_si512(),
					      _mm512_and_si512(tv, _mm512_set1_epi16(1))));
	carry = _mm512_set1_epi64((int64_t)r->t);
	x[0] = time8(_mm512_extracti32x4_epi32(d, 0), &carry);
	x[1] = time8(_mm512_extracti32x4_epi32(d, 1), &carry);
	x[2] = time8(_mm512_extracti32x4_epi32(d, 2), &carry);
	x[3] = time8(_mm512_extracti32x4_epi32(d, 3), &carry);
	if (r->k != 0) {
		for (int i = 0; i < 4; i++)
			ok &= ns8(x[i], k, ts + 8 * i);
		if (!ok)
			return false;
	} else {
		for (int i = 0; i < 4; i++)
			_mm512_storeu_si512(ts + 8 * i, x[i]);
	}
	_mm512_storeu_si512(kw, _mm512_cvtepu16_epi32(_mm512_castsi512_si256(kv)));
	_mm512_storeu_si512(kw + 16, _mm512_cvtepu16_epi32(_mm512_extracti64x4_epi64(kv, 1)));
	r->t = (uint64_t)_mm_cvtsi128_si64(_mm512_castsi512_si128(carry));
	r->s[TF_GO_TS] = tp + tu;
	r->s[TF_GO_KIND_FLAGS] = kp + ku;
	return true;
}

bool tf_go_sparse__have_block(void)
{
	static int have = -1;

	if (have < 0)
		have = gs_cpu_has(GS_CPU_AVX512_VBMI2);
	return have;
}

bool tf_go_sparse__block(struct tf_go_sparse *r, uint64_t *ts, uint32_t *kw)
{
	return tf_go_sparse__have_block() && block_avx512(r, ts, kw);
}
#else
bool tf_go_sparse__have_block(void)
{
	return false;
}

bool tf_go_sparse__block(struct tf_go_sparse *r, uint64_t *ts, uint32_t *kw)
{
	(void)r, (void)ts, (void)kw;
	return false;
}
#endif
