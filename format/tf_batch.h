/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Hand-written codec for the columnar batch packets (CpuSampleBatch,
 * SchedBatch, GoEventBatch, AllocBatch).  protobuf-c unpack allocates per
 * column and per message; this codec decodes packed varints straight into
 * reusable column arrays, and encodes from them.  It is wire-compatible
 * with protobuf-c in both directions (tests check it): it accepts packed
 * and unpacked repeated fields, skips unknown fields, and writes canonical
 * packed encoding in field-number order.
 */
#ifndef TF_BATCH_H
#define TF_BATCH_H

#include "base/gs_err.h"
#include "base/gs_mem.h"
#include "base/gs_varint.h"
#include "format/tf_format.h"

/* Column storage reused across decodes. */
struct tf_batch_buf {
	struct tf_batch b;
	size_t cap[TF_BATCH_MAX_FIELDS];
	/* per kind, columns (1 << field) the caller does not need: skipped
	 * without decoding; their col[] and present[] are not meaningful */
	uint32_t skip[TF_PKT_ALLOCS + 1];
	uint64_t *tmp;          /* sparse values while a column widens */
	size_t tmp_cap;
};

/*
 * Decode the body of a batch message of the given kind (the bytes inside
 * the Packet field, without its tag and length) into bb->b.  Returns 0, or
 * -GS_E_FORMAT / -GS_E_LIMIT / -ENOMEM; *err_at gets the offset within p
 * of a malformed field.
 */
int tf_batch__decode(struct tf_batch_buf *bb, enum tf_packet_kind kind,
		     const uint8_t *p, size_t len, size_t *err_at);

void tf_batch_buf__release(struct tf_batch_buf *bb);

/*
 * Encode batch b (all columns of each group hold b->n[g] values; ts
 * columns absolute) as the body of a batch message appended to out.
 * Columns whose values all equal their default are left out.
 * Returns 0 or -ENOMEM.
 */
int tf_batch__encode(const struct tf_batch *b, struct gs_buf *out);

/*
 * Streaming encoder, for writers: each value goes straight into its
 * column's varint buffer, so a batch is never held as 64-bit columns.
 * tf_batch_enc__finish() appends the bytes tf_batch__encode() would write
 * for the same values.  Per event: tf_batch_enc__event() for its group
 * (it makes room and keeps base_ts), then one tf_batch_enc_*() per column
 * of the group, with the column's declared type.
 */
struct tf_batch_enc {
	enum tf_packet_kind kind;
	int64_t key;               /* cpu or pid; -1: none */
	uint64_t base_ts, lost_events, period, sample_interval;
	uint64_t min_ts, max_ts;
	size_t n[2], cap[2];       /* events and room per group */
	uint64_t prev_ts[2];
	int32_t go_prev_p;         /* GoEventBatch sparse layout: last p, m */
	uint64_t go_prev_m;
	/*
	 * GoEventBatch: ns per tick of the events' tick, or 0 (ts in ns).
	 * With a clock, the ts column takes ticks (prev_ts[0] is the last
	 * event's tick) and base_tick is the first event's.
	 */
	double tick_ns;
	int64_t base_tick;
	uint32_t nondefault;       /* columns (1 << f) with a non-default value */
	uint8_t *col[TF_BATCH_MAX_FIELDS];  /* column bytes */
	uint8_t *wp[TF_BATCH_MAX_FIELDS];   /* write position in col[f] */
};

void tf_batch_enc__init(struct tf_batch_enc *e, enum tf_packet_kind kind,
			int64_t key);

/*
 * Start an event of group g at ts: room for it (at most max_events in a
 * batch), base_ts from the batch's first event.  0 or -ENOMEM / -GS_E_LIMIT.
 */
int tf_batch_enc__grow(struct tf_batch_enc *e, int g, size_t max_events);

static inline int tf_batch_enc__event(struct tf_batch_enc *e, int g, uint64_t ts,
				      size_t max_events)
{
	if (e->n[g] >= e->cap[g]) {
		int err = tf_batch_enc__grow(e, g, max_events);

		if (err)
			return err;
	}
	if (!e->n[0] && !e->n[1]) {
		e->go_prev_p = 0;
		e->go_prev_m = 0;
		e->base_ts = e->prev_ts[0] = e->prev_ts[1] = ts;
		e->min_ts = e->max_ts = ts;
	}
	if (ts < e->min_ts)
		e->min_ts = ts;
	if (ts > e->max_ts)
		e->max_ts = ts;
	e->n[g]++;
	return 0;
}

/*
 * The column writers return the column's bit when the value is not its
 * default: the caller ORs them into nondefault once per event (byte stores
 * may alias anything, so a running OR in memory would be a dependency
 * chain through the store buffer).
 */
static inline void tf_batch_enc_ts(struct tf_batch_enc *e, unsigned int f, int g,
				   uint64_t ts)
{
	e->wp[f] = gs_varint_put(e->wp[f], gs_zigzag_enc((int64_t)(ts - e->prev_ts[g])));
	e->prev_ts[g] = ts;
}

/* uint64 column whose default is dflt (0 but for CpuSampleBatch.weight) */
static inline uint32_t tf_batch_enc_u64(struct tf_batch_enc *e, unsigned int f,
					uint64_t v, uint64_t dflt)
{
	e->wp[f] = gs_varint_put(e->wp[f], v);
	return (uint32_t)(v != dflt) << f;
}

static inline uint32_t tf_batch_enc_u32(struct tf_batch_enc *e, unsigned int f,
					uint32_t v)
{
	e->wp[f] = gs_varint_put(e->wp[f], v);
	return (uint32_t)(v != 0) << f;
}

/* int32 and int64 columns: varint of the sign-extended value */
static inline uint32_t tf_batch_enc_i64(struct tf_batch_enc *e, unsigned int f,
					int64_t v)
{
	e->wp[f] = gs_varint_put(e->wp[f], (uint64_t)v);
	return (uint32_t)(v != 0) << f;
}

static inline uint32_t tf_batch_enc_s32(struct tf_batch_enc *e, unsigned int f,
					int32_t v)
{
	e->wp[f] = gs_varint_put(e->wp[f], ((uint32_t)v << 1) ^ (uint32_t)(v >> 31));
	return (uint32_t)(v != 0) << f;
}

/* Generic form of the above by the column's type (tests, slow paths). */
void tf_batch_enc__put(struct tf_batch_enc *e, unsigned int f, uint64_t v);

/* Bytes tf_batch_enc__finish() will append. */
size_t tf_batch_enc__size(const struct tf_batch_enc *e);

/*
 * Append the batch message body at p (room for tf_batch_enc__size()
 * bytes), return the end, and empty the batch.
 */
uint8_t *tf_batch_enc__finish(struct tf_batch_enc *e, uint8_t *p);

void tf_batch_enc__release(struct tf_batch_enc *e);

/*
 * A GoEventBatch read event by event straight from its bytes, in either
 * layout: no column is widened, and fields not in `want` (bits 1 << TF_GO_*;
 * ts and kind always) are not decoded and read as 0.  For analyses that walk
 * every event once.  tf_go_cursor__init() returns -EAGAIN for a valid
 * but non-canonical encoding (a column split in pieces or unpacked): then
 * decode with tf_batch__decode() and use tf_go_cursor__init_batch().
 */
struct tf_go_cursor {
	const uint8_t *s[TF_BATCH_MAX_FIELDS];  /* stream position; NULL absent */
	const uint8_t *e[TF_BATCH_MAX_FIELDS];  /* stream end */
	const uint8_t *bad;        /* where a malformed value starts */
	const struct tf_batch *b;  /* decoded batch (init_batch), else NULL */
	size_t i;                  /* next event of b */
	uint32_t want;
	bool sparse;
	int64_t key;               /* pid; -1 if unset */
	uint64_t base_ts, lost_events;
	uint64_t ts;               /* the last event's; in ticks when tick_ns */
	double tick_ns;            /* 0: ts in ns, else s[TF_GO_TS] has ticks */
	int32_t p;                 /* sparse layout: carried p and m */
	uint64_t m;
};

/* 0, -EAGAIN (see above) or -GS_E_FORMAT with *err_at in body. */
int tf_go_cursor__init(struct tf_go_cursor *c, const uint8_t *body, size_t len,
		       uint32_t want, size_t *err_at);

/* Over a batch decoded by tf_batch__decode() (borrowed). */
void tf_go_cursor__init_batch(struct tf_go_cursor *c, const struct tf_batch *b,
			      uint32_t want);

/*
 * Up to max events into ev[]: how many (> 0), 0 after the last (as
 * tf_go_cursor__next()) or when max is 0, or -GS_E_FORMAT (c->bad says
 * where; the events of this call are then lost).  The same events as
 * tf_go_cursor__next(), with less work per event: for loops that take a
 * block of events at a time.
 */
int tf_go_cursor__read(struct tf_go_cursor *c, struct tf_go_event *ev, size_t max);

/*
 * The sparse-layout reader of tf_go_cursor__read(), inline for loops that
 * take each event as it is decoded (into a local the compiler can keep in
 * registers) instead of a block of them:
 *
 *	tf_go_sparse__begin(&r, c);		(c sparse, not over a batch)
 *	while ((k = tf_go_sparse__safe(&r)) > 0)
 *		k times: ok = tf_go_sparse__one(&r, &ev, true);
 *	while (!tf_go_sparse__done(&r))
 *		ok = tf_go_sparse__one(&r, &ev, false);
 *	tf_go_sparse__end(&r, c);		(then tf_go_cursor__end(c))
 *
 * After a false from tf_go_sparse__one(), c->bad = r.s[r.bad].  The
 * stream positions are in the struct, not the cursor: event stores cannot
 * alias them, so they stay in registers across events.
 */
struct tf_go_sparse {
	const uint8_t *s[TF_BATCH_MAX_FIELDS];
	const uint8_t *const *e;
	uint64_t t, m;        /* t: the last event's time, in ticks when k */
	double k;             /* the cursor's tick_ns */
	int32_t p;
	uint32_t pid, rd;     /* TF_GOF_* values read: the wanted columns' */
	bool from, to;        /* columns wanted */
	bool goid;
	unsigned int bad;     /* the column of a malformed value */
};

static inline void tf_go_sparse__begin(struct tf_go_sparse *r, const struct tf_go_cursor *c)
{
	uint32_t w = c->want;

	r->e = c->e;
	r->t = c->ts;
	r->k = c->tick_ns;
	r->m = c->m;
	r->p = c->p;
	r->pid = (uint32_t)c->key;
	r->from = w >> TF_GO_FROM & 1;
	r->to = w >> TF_GO_TO & 1;
	r->bad = 0;
	/* the other columns are not touched */
	r->rd = (w >> TF_GO_STACK & 1 ? TF_GOF_STACK : 0) |
		(w >> TF_GO_REASON & 1 ? TF_GOF_REASON : 0) |
		(w >> TF_GO_P & 1 ? TF_GOF_P : 0) | (w >> TF_GO_M & 1 ? TF_GOF_M : 0) |
		(w >> TF_GO_ARG & 1 ? TF_GOF_ARG : 0) |
		(w >> TF_GO_ARG2 & 1 ? TF_GOF_ARG2 : 0);
	__builtin_memcpy(r->s, c->s, sizeof(r->s));
	r->goid = w >> TF_GO_GOID & 1;
	if (!r->goid)
		r->s[TF_GO_GOID] = NULL;
}

/* The positions back into the cursor. */
static inline void tf_go_sparse__end(struct tf_go_sparse *r, struct tf_go_cursor *c)
{
	if (!r->goid)
		r->s[TF_GO_GOID] = c->s[TF_GO_GOID];
	__builtin_memcpy(c->s, r->s, sizeof(r->s));
	c->ts = r->t;
	c->p = r->p;
	c->m = r->m;
}

static inline bool tf_go_sparse__done(const struct tf_go_sparse *r)
{
	return r->s[TF_GO_TS] == r->e[TF_GO_TS];
}

/* Events whose ts, kind_flags and goid values have GS_VARINT_MAX bytes
 * after them: each event takes one value, at most that long, of each. */
static inline size_t tf_go_sparse__safe(const struct tf_go_sparse *r)
{
	size_t k = (size_t)(r->e[TF_GO_TS] - r->s[TF_GO_TS]);
	size_t kf = (size_t)(r->e[TF_GO_KIND_FLAGS] - r->s[TF_GO_KIND_FLAGS]);

	if (kf < k)
		k = kf;
	if (r->s[TF_GO_GOID] && (size_t)(r->e[TF_GO_GOID] - r->s[TF_GO_GOID]) < k)
		k = (size_t)(r->e[TF_GO_GOID] - r->s[TF_GO_GOID]);
	return k / GS_VARINT_MAX;
}

/* One value of column f; "fast": GS_VARINT_MAX bytes known to follow. */
#define TF_GO_SPARSE_GET_(r, f, dst, fast)                                      \
	do {                                                                    \
		const uint8_t *q_ = (fast) ? gs_varint_get10((r)->s[f], &(dst)) \
					   : gs_varint_get((r)->s[f], (r)->e[f], &(dst)); \
		if (!q_) {                                                      \
			(r)->bad = f;                                           \
			return false;                                           \
		}                                                               \
		(r)->s[f] = q_;                                                 \
	} while (0)

/*
 * The rest of an event whose time ts (ns) and kind_flags kw (checked
 * against TF_GOF_ALL) have been read: its other columns, as
 * tf_go_sparse__one_rd() below.
 */
static inline __attribute__((always_inline)) bool
tf_go_sparse__rest(struct tf_go_sparse *r, struct tf_go_event *x, uint64_t ts, uint64_t kw,
		   bool fast, uint32_t rd, bool goid)
{
	uint64_t v;

	x->ts = ts;
	x->tick = 0;
	x->pid = r->pid;
	x->kind = (uint32_t)(kw & TF_GOF_KIND_MASK);
	x->goid = 0;
	if (goid)
		TF_GO_SPARSE_GET_(r, TF_GO_GOID, x->goid, fast);
	if (kw & TF_GOF_TRANS) {
		v = 0;
		if (r->from)
			TF_GO_SPARSE_GET_(r, TF_GO_FROM, v, false);
		x->from_state = (uint32_t)v;
		v = 0;
		if (r->to)
			TF_GO_SPARSE_GET_(r, TF_GO_TO, v, false);
		x->to_state = (uint32_t)v;
	} else {
		uint8_t dt = tf_go_default_trans(x->kind);

		x->from_state = dt >> 4;
		x->to_state = dt & 15;
	}
	kw &= rd;
	x->stack_id = x->reason_sid = x->arg = x->arg2 = 0;
	if (kw & TF_GOF_STACK)
		TF_GO_SPARSE_GET_(r, TF_GO_STACK, x->stack_id, false);
	if (kw & TF_GOF_REASON)
		TF_GO_SPARSE_GET_(r, TF_GO_REASON, x->reason_sid, false);
	if (kw & TF_GOF_P) {
		TF_GO_SPARSE_GET_(r, TF_GO_P, v, false);
		r->p = (int32_t)((uint32_t)v >> 1 ^ -((uint32_t)v & 1));
	}
	x->p = r->p;
	if (kw & TF_GOF_M)
		TF_GO_SPARSE_GET_(r, TF_GO_M, r->m, false);
	x->m = r->m;
	if (kw & TF_GOF_ARG)
		TF_GO_SPARSE_GET_(r, TF_GO_ARG, x->arg, false);
	if (kw & TF_GOF_ARG2)
		TF_GO_SPARSE_GET_(r, TF_GO_ARG2, x->arg2, false);
	return true;
}

/*
 * The next event into *x; false on a malformed value (r->bad: its column).
 * rd: r->rd, or the same as a constant where the caller knows it; goid:
 * whether the goid column is read, r->s[TF_GO_GOID] != NULL, or the same
 * as a constant.
 */
static inline __attribute__((always_inline)) bool
tf_go_sparse__one_rd(struct tf_go_sparse *r, struct tf_go_event *x, bool fast, uint32_t rd,
		     bool goid)
{
	uint64_t v, kw;
	const uint8_t *kf = r->s[TF_GO_KIND_FLAGS];

	TF_GO_SPARSE_GET_(r, TF_GO_TS, v, fast);
	r->t += (uint64_t)gs_zigzag_dec(v);
	TF_GO_SPARSE_GET_(r, TF_GO_KIND_FLAGS, kw, fast);
	if (kw > TF_GOF_ALL) {
		r->s[TF_GO_KIND_FLAGS] = kf; /* c->bad: where the value starts */
		r->bad = TF_GO_KIND_FLAGS;
		return false;
	}
	return tf_go_sparse__rest(r, x, tf_go_ts(r->t, r->k), kw, fast, rd, goid);
}

/*
 * TF_GO_SPARSE_BLOCK (32) events' times (ns) and kind_flags at once, into
 * ts[] and kw[], from the dense ts and kind_flags columns, for
 * tf_go_sparse__rest() to take one by one; with SIMD where the CPU has it.
 * Returns false, having read nothing, where those values need the
 * one-by-one reader: a longer varint, a kind_flags value out of range, a
 * time out of int64 range, fewer than 32 values left, or no SIMD.  Its
 * reads stay within the two columns; the other columns' values are the
 * caller's to read (with tf_go_sparse__rest(), fast only for events
 * tf_go_sparse__safe() counts).
 */
#define TF_GO_SPARSE_BLOCK 32
bool tf_go_sparse__block(struct tf_go_sparse *r, uint64_t *ts, uint32_t *kw);
bool tf_go_sparse__have_block(void);

#undef TF_GO_SPARSE_GET_

static inline __attribute__((always_inline)) bool
tf_go_sparse__one(struct tf_go_sparse *r, struct tf_go_event *x, bool fast)
{
	return tf_go_sparse__one_rd(r, x, fast, r->rd, r->s[TF_GO_GOID] != NULL);
}

/* The slow paths of tf_go_cursor__next(). */
int tf_go_cursor__next_batch(struct tf_go_cursor *c, struct tf_go_event *ev);
int tf_go_cursor__end(struct tf_go_cursor *c);

#define TF_GO_CURSOR_GET_(c, f, v)                                          \
	do {                                                                  \
		const uint8_t *q_ = gs_varint_get((c)->s[f], (c)->e[f], &(v)); \
		if (!q_) {                                                    \
			(c)->bad = (c)->s[f];                                 \
			return -GS_E_FORMAT;                                  \
		}                                                             \
		(c)->s[f] = q_;                                               \
	} while (0)

/* A column with one value per event, or none (all 0). */
#define TF_GO_CURSOR_DENSE_(c, f, dst, type)                                \
	do {                                                                  \
		uint64_t v_ = 0;                                              \
		if (((c)->want >> (f) & 1) && (c)->s[f])                      \
			TF_GO_CURSOR_GET_(c, f, v_);                          \
		(dst) = (type)v_;                                             \
	} while (0)

/* Next event into *ev: 1, 0 after the last (all wanted columns used up
 * exactly), or -GS_E_FORMAT (c->bad says where). */
static inline int tf_go_cursor__next(struct tf_go_cursor *c, struct tf_go_event *ev)
{
	uint64_t v;

	if (c->b)
		return tf_go_cursor__next_batch(c, ev);
	if (c->sparse) /* one reader of the sparse rules */
		return tf_go_cursor__read(c, ev, 1);
	if (c->s[TF_GO_TS] == c->e[TF_GO_TS])
		return tf_go_cursor__end(c);
	TF_GO_CURSOR_GET_(c, TF_GO_TS, v);
	c->ts += (uint64_t)gs_zigzag_dec(v);
	ev->ts = tf_go_ts(c->ts, c->tick_ns);
	ev->tick = 0;
	ev->pid = (uint32_t)c->key;
	TF_GO_CURSOR_DENSE_(c, TF_GO_KIND, ev->kind, uint32_t);
	TF_GO_CURSOR_DENSE_(c, TF_GO_GOID, ev->goid, uint64_t);
	TF_GO_CURSOR_DENSE_(c, TF_GO_FROM, ev->from_state, uint32_t);
	TF_GO_CURSOR_DENSE_(c, TF_GO_TO, ev->to_state, uint32_t);
	TF_GO_CURSOR_DENSE_(c, TF_GO_REASON, ev->reason_sid, uint64_t);
	TF_GO_CURSOR_DENSE_(c, TF_GO_P, v, uint64_t);
	ev->p = (int32_t)((uint32_t)v >> 1 ^ -((uint32_t)v & 1));
	TF_GO_CURSOR_DENSE_(c, TF_GO_M, ev->m, uint64_t);
	TF_GO_CURSOR_DENSE_(c, TF_GO_STACK, ev->stack_id, uint64_t);
	TF_GO_CURSOR_DENSE_(c, TF_GO_ARG, ev->arg, uint64_t);
	TF_GO_CURSOR_DENSE_(c, TF_GO_ARG2, ev->arg2, uint64_t);
	return 1;
}

/* Group (0 or 1) of field f of kind, or -1 when f is not a column. */
int tf_batch_field_group(enum tf_packet_kind kind, unsigned int f);

/* Field number of the timestamp column of group g of kind. */
unsigned int tf_batch_ts_field(enum tf_packet_kind kind, int g);

/* Name of column f of kind, for dumps ("prev_tid"), or NULL. */
const char *tf_batch_field_name(enum tf_packet_kind kind, unsigned int f);

/* True when column f holds signed values. */
bool tf_batch_field_signed(enum tf_packet_kind kind, unsigned int f);

#endif
