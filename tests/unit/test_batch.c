// SPDX-License-Identifier: BSD-2-Clause
/*
 * The hand-written batch codec (format/tf_batch.c) against protobuf-c, in
 * both directions, for the four columnar kinds.
 *
 * Field roles come from the protobuf-c descriptors generated from
 * format/gscope.proto (by name), not from the codec's own tables, so the
 * two are checked against each other.  The oracle for any byte string is
 * protobuf-c itself: gscope__v1__<kind>__unpack() of the same bytes, plus
 * the container rules the codec adds on top (timestamps are zigzag deltas
 * from base_ts, an absent column is all default, the default weight is
 * period, and a present column must have its group's length).
 */
#include <errno.h>
#include <float.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "tests/unit/tutil.h"
#include "tests/lib/gocursor.h"
#include "base/gs_err.h"
#include "base/gs_mem.h"
#include "base/gs_varint.h"
#include "format/tf_batch.h"

static const enum tf_packet_kind kinds[] = {
	TF_PKT_CPU_SAMPLES, TF_PKT_SCHED, TF_PKT_GO_EVENTS, TF_PKT_ALLOCS,
};

/* ------------------------------------------------------------ rng */

/* A 64-bit value of a random magnitude, extremes included. */
static uint64_t rnd_u64(struct rng *r)
{
	switch (below(r, 8)) {
	case 0: return 0;
	case 1: return UINT64_MAX - below(r, 3);
	case 2: return (1ull << 63) + below(r, 3) - 1;
	case 3: return below(r, 128);
	default: return rnd(r) >> below(r, 64);
	}
}

static int64_t rnd_i64(struct rng *r)
{
	switch (below(r, 6)) {
	case 0: return INT64_MIN;
	case 1: return INT64_MAX;
	case 2: return -(int64_t)below(r, 1000) - 1;
	default: return (int64_t)rnd_u64(r);
	}
}

static int32_t rnd_i32(struct rng *r)
{
	switch (below(r, 6)) {
	case 0: return INT32_MIN;
	case 1: return INT32_MAX;
	case 2: return -1 - (int32_t)below(r, 200);
	default: return (int32_t)(uint32_t)rnd_u64(r);
	}
}

static uint32_t rnd_u32(struct rng *r)
{
	return below(r, 5) == 0 ? UINT32_MAX : (uint32_t)rnd_u64(r);
}

/* ------------------------------------------------------------ descriptors */

enum role { R_KEY, R_BASE, R_LOST, R_PERIOD, R_INTERVAL, R_TICK, R_BTICK, R_COL };

static const ProtobufCMessageDescriptor *kind_desc(enum tf_packet_kind k)
{
	switch (k) {
	case TF_PKT_CPU_SAMPLES: return &gscope__v1__cpu_sample_batch__descriptor;
	case TF_PKT_SCHED: return &gscope__v1__sched_batch__descriptor;
	case TF_PKT_GO_EVENTS: return &gscope__v1__go_event_batch__descriptor;
	case TF_PKT_ALLOCS: return &gscope__v1__alloc_batch__descriptor;
	default: return NULL;
	}
}

/* Unpack with the generated per-kind function (NULL allocator). */
static ProtobufCMessage *unpack_kind(enum tf_packet_kind k, const uint8_t *p,
				     size_t len)
{
	void *m = NULL;

	switch (k) {
	case TF_PKT_CPU_SAMPLES:
		m = gscope__v1__cpu_sample_batch__unpack(NULL, len, p);
		break;
	case TF_PKT_SCHED:
		m = gscope__v1__sched_batch__unpack(NULL, len, p);
		break;
	case TF_PKT_GO_EVENTS:
		m = gscope__v1__go_event_batch__unpack(NULL, len, p);
		break;
	case TF_PKT_ALLOCS:
		m = gscope__v1__alloc_batch__unpack(NULL, len, p);
		break;
	default:
		break;
	}
	return m;
}

/* The codec's short column name: no switch_/wake_ prefix, ts, cpu. */
static const char *short_name(const char *name)
{
	if (!strncmp(name, "switch_", 7))
		name += 7;
	else if (!strncmp(name, "wake_", 5))
		name += 5;
	if (!strcmp(name, "ts_delta"))
		return "ts";
	if (!strcmp(name, "cpu_col"))
		return "cpu";
	return name;
}

static enum role role_of(const ProtobufCFieldDescriptor *fd)
{
	if (fd->label == PROTOBUF_C_LABEL_REPEATED)
		return R_COL;
	if (!strcmp(fd->name, "cpu") || !strcmp(fd->name, "pid"))
		return R_KEY;
	if (!strcmp(fd->name, "base_ts"))
		return R_BASE;
	if (!strcmp(fd->name, "lost_events"))
		return R_LOST;
	if (!strcmp(fd->name, "period"))
		return R_PERIOD;
	if (!strcmp(fd->name, "sample_interval_bytes"))
		return R_INTERVAL;
	if (!strcmp(fd->name, "tick_ns"))
		return R_TICK;
	if (!strcmp(fd->name, "base_tick"))
		return R_BTICK;
	cr_assert_fail("unexpected batch field %s", fd->name);
	return R_COL;
}

/* GoEventBatch.kind_flags: the sparse layout's field, not a column */
static bool is_layout_fd(const ProtobufCFieldDescriptor *fd)
{
	return !strcmp(fd->name, "kind_flags");
}

/* GoEventBatch.tick_delta: decoded into the ts column, not a column */
static bool is_tick_fd(const ProtobufCFieldDescriptor *fd)
{
	return !strcmp(fd->name, "tick_delta");
}

/* Repeated fields of the encoding that are not columns of a tf_batch */
static bool is_enc_fd(const ProtobufCFieldDescriptor *fd)
{
	return is_layout_fd(fd) || is_tick_fd(fd);
}

static int group_of(enum tf_packet_kind k, const ProtobufCFieldDescriptor *fd)
{
	return k == TF_PKT_SCHED && !strncmp(fd->name, "wake_", 5);
}

static bool is_ts(const ProtobufCFieldDescriptor *fd)
{
	size_t n = strlen(fd->name);

	return n >= 8 && !strcmp(fd->name + n - 8, "ts_delta");
}

static bool is_weight(enum tf_packet_kind k, const ProtobufCFieldDescriptor *fd)
{
	return k == TF_PKT_CPU_SAMPLES && !strcmp(fd->name, "weight");
}

static size_t elem_size(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_UINT32:
		return 4;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_DOUBLE: /* handled as its bits */
		return 8;
	default:
		cr_assert_fail("unexpected field type %d", (int)t);
		return 8;
	}
}

static bool type_signed(ProtobufCType t)
{
	return t == PROTOBUF_C_TYPE_INT32 || t == PROTOBUF_C_TYPE_SINT32 ||
	       t == PROTOBUF_C_TYPE_INT64 || t == PROTOBUF_C_TYPE_SINT64;
}

/* Value i of an array of type t, as tf_batch holds it (sign-extended). */
static uint64_t get_elem(ProtobufCType t, const void *arr, size_t i)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
		return (uint64_t)(int64_t)((const int32_t *)arr)[i];
	case PROTOBUF_C_TYPE_UINT32:
		return ((const uint32_t *)arr)[i];
	default:
		return ((const uint64_t *)arr)[i];
	}
}

static void set_elem(ProtobufCType t, void *arr, size_t i, uint64_t v)
{
	if (elem_size(t) == 4)
		((uint32_t *)arr)[i] = (uint32_t)v;
	else
		((uint64_t *)arr)[i] = v;
}

/* The varint written on the wire for value v (tf_batch form) of type t. */
static uint64_t wire_val(ProtobufCType t, uint64_t v)
{
	switch (t) {
	case PROTOBUF_C_TYPE_SINT64:
		return gs_zigzag_enc((int64_t)v);
	case PROTOBUF_C_TYPE_SINT32: {
		int32_t s = (int32_t)v;

		return (uint32_t)(((uint32_t)s << 1) ^ (uint32_t)(s >> 31));
	}
	case PROTOBUF_C_TYPE_INT32:
		return (uint64_t)(int64_t)(int32_t)v;
	case PROTOBUF_C_TYPE_UINT32:
		return (uint32_t)v;
	default:
		return v;
	}
}

static size_t *qty(ProtobufCMessage *m, const ProtobufCFieldDescriptor *fd)
{
	return (size_t *)((char *)m + fd->quantifier_offset);
}

static protobuf_c_boolean *has(ProtobufCMessage *m,
			       const ProtobufCFieldDescriptor *fd)
{
	return (protobuf_c_boolean *)((char *)m + fd->quantifier_offset);
}

static void **arr_of(ProtobufCMessage *m, const ProtobufCFieldDescriptor *fd)
{
	return (void **)((char *)m + fd->offset);
}

static void *val_of(ProtobufCMessage *m, const ProtobufCFieldDescriptor *fd)
{
	return (char *)m + fd->offset;
}

static ProtobufCMessage *msg_new(enum tf_packet_kind k)
{
	const ProtobufCMessageDescriptor *d = kind_desc(k);
	ProtobufCMessage *m = calloc(1, d->sizeof_message);

	cr_assert_not_null(m);
	protobuf_c_message_init(d, m);
	return m;
}

/* Free a message built by msg_new (arrays from malloc). */
static void msg_free(ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;

	for (unsigned int i = 0; i < d->n_fields; i++)
		if (d->fields[i].label == PROTOBUF_C_LABEL_REPEATED)
			free(*arr_of(m, &d->fields[i]));
	free(m);
}

/* ------------------------------------------------------------ batches */

static void batch_free(struct tf_batch *b)
{
	for (int f = 0; f < TF_BATCH_MAX_FIELDS; f++) {
		free(b->col[f]);
		b->col[f] = NULL;
	}
}

/* oracle() said false for GoEventBatch.tick_ns (err_at: that field) */
static bool oracle_bad_clock;

/*
 * The expected decode of message m: what tf_batch__decode must produce for
 * bytes that protobuf-c unpacks to m.  False when m breaks the column
 * rules (then the decode must fail with -GS_E_FORMAT at the end), or has a
 * bad tick_ns (oracle_bad_clock; the failure is at that field).
 */
static bool oracle(enum tf_packet_kind k, ProtobufCMessage *m, struct tf_batch *e)
{
	const ProtobufCMessageDescriptor *d = kind_desc(k);
	double tick_ns = 0; /* GoEventBatch: tick_delta for ts_delta */
	int64_t base_tick = 0;
	size_t nticks = 0, nts = 0;
	void *ticks = NULL;

	memset(e, 0, sizeof(*e));
	e->kind = k;
	e->key = -1;
	oracle_bad_clock = false;
	for (unsigned int i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &d->fields[i];
		enum role ro = role_of(fd);
		uint64_t v;

		if (ro == R_COL) {
			if (is_ts(fd))
				e->n[group_of(k, fd)] = nts = *qty(m, fd);
			if (is_tick_fd(fd)) {
				nticks = *qty(m, fd);
				ticks = *arr_of(m, fd);
			}
			continue;
		}
		if (!*has(m, fd))
			continue;
		v = get_elem(fd->type, val_of(m, fd), 0);
		switch (ro) {
		case R_KEY: e->key = (int64_t)v; break;
		case R_BASE: e->base_ts = v; break;
		case R_LOST: e->lost_events = v; break;
		case R_PERIOD: e->period = v; break;
		case R_INTERVAL: e->sample_interval = v; break;
		case R_TICK:
			memcpy(&tick_ns, &v, sizeof(tick_ns));
			if (tick_ns != 0 && !(tick_ns > 0 && tick_ns <= DBL_MAX)) {
				oracle_bad_clock = true;
				return false; /* negative, infinite, NaN */
			}
			break;
		case R_BTICK: base_tick = (int64_t)v; break;
		default: break;
		}
	}
	if (nticks && (nts || !tick_ns))
		return false; /* ts_delta and tick_delta, or ticks without a clock */
	if (nticks)
		e->n[0] = nticks;
	for (unsigned int i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &d->fields[i];
		size_t n, nf;
		void *arr;

		if (role_of(fd) != R_COL || is_enc_fd(fd))
			continue;
		n = e->n[group_of(k, fd)];
		nf = *qty(m, fd);
		arr = *arr_of(m, fd);
		if (is_ts(fd) && nticks) {
			nf = nticks;
			arr = ticks;
		}
		if (nf != n && nf != 0) {
			batch_free(e);
			return false;
		}
		e->col[fd->id] = malloc((n ? n : 1) * sizeof(uint64_t));
		e->present[fd->id] = nf > 0;
		if (is_ts(fd) && nticks) {
			uint64_t t = (uint64_t)base_tick;

			for (size_t j = 0; j < n; j++) {
				t += get_elem(fd->type, arr, j);
				e->col[fd->id][j] = tf_tick_ns((int64_t)t, tick_ns);
			}
		} else if (is_ts(fd)) {
			uint64_t ts = e->base_ts;

			for (size_t j = 0; j < n; j++) {
				ts += get_elem(fd->type, arr, j);
				e->col[fd->id][j] = ts;
			}
		} else {
			for (size_t j = 0; j < n; j++)
				e->col[fd->id][j] = nf ? get_elem(fd->type, arr, j) :
						   is_weight(k, fd) ? e->period : 0;
		}
	}
	return true;
}

/* got == want for every value; present flags compared when check_present. */
static void req_batch_eq(const struct tf_batch *got, const struct tf_batch *want,
			 bool check_present, const char *ctx)
{
	const ProtobufCMessageDescriptor *d = kind_desc(want->kind);

	REQ(got->kind == want->kind, "%s: kind %d want %d", ctx, got->kind, want->kind);
	REQ(got->n[0] == want->n[0] && got->n[1] == want->n[1],
	    "%s: n %zu/%zu want %zu/%zu", ctx, got->n[0], got->n[1], want->n[0],
	    want->n[1]);
	REQ(got->key == want->key, "%s: key %lld want %lld", ctx,
	    (long long)got->key, (long long)want->key);
	REQ(got->base_ts == want->base_ts, "%s: base_ts %llu want %llu", ctx,
	    (ull)got->base_ts, (ull)want->base_ts);
	REQ(got->lost_events == want->lost_events, "%s: lost %llu want %llu", ctx,
	    (ull)got->lost_events, (ull)want->lost_events);
	REQ(got->period == want->period, "%s: period %llu want %llu", ctx,
	    (ull)got->period, (ull)want->period);
	REQ(got->sample_interval == want->sample_interval,
	    "%s: interval %llu want %llu", ctx, (ull)got->sample_interval,
	    (ull)want->sample_interval);
	for (unsigned int i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &d->fields[i];
		unsigned int f = fd->id;
		size_t n = want->n[group_of(want->kind, fd)];

		if (role_of(fd) != R_COL || is_enc_fd(fd))
			continue;
		if (check_present)
			REQ(got->present[f] == want->present[f],
			    "%s: %s present %d want %d", ctx, fd->name,
			    got->present[f], want->present[f]);
		else if (want->present[f])
			REQ(got->present[f], "%s: %s not present", ctx, fd->name);
		for (size_t j = 0; j < n; j++)
			REQ(got->col[f][j] == want->col[f][j],
			    "%s: %s[%zu] = %llu want %llu", ctx, fd->name, j,
			    (ull)got->col[f][j], (ull)want->col[f][j]);
	}
}

/* A random batch as the writer would hand it to tf_batch__encode. */
static void random_batch(enum tf_packet_kind k, struct rng *r, struct tf_batch *b)
{
	const ProtobufCMessageDescriptor *d = kind_desc(k);

	memset(b, 0, sizeof(*b));
	b->kind = k;
	for (int g = 0; g < (k == TF_PKT_SCHED ? 2 : 1); g++) {
		uint64_t sel = below(r, 10);

		b->n[g] = sel == 0 ? 0 : sel == 1 ? 1 : sel < 8 ? 1 + below(r, 64) :
			  1 + below(r, 300);
	}
	if (k == TF_PKT_CPU_SAMPLES || k == TF_PKT_SCHED)
		b->key = below(r, 4) == 0 ? -1 : below(r, 2) ? (int64_t)below(r, 256) :
				  (int64_t)INT32_MAX - (int64_t)below(r, 2);
	else
		b->key = below(r, 4) == 0 ? -1 : (int64_t)rnd_u32(r);
	b->base_ts = rnd_u64(r);
	if (k != TF_PKT_ALLOCS) /* AllocBatch has no lost_events */
		b->lost_events = below(r, 2) ? 0 : rnd_u64(r);
	if (k == TF_PKT_CPU_SAMPLES)
		b->period = below(r, 3) == 0 ? 0 : rnd_u64(r);
	if (k == TF_PKT_ALLOCS)
		b->sample_interval = below(r, 3) == 0 ? 0 : rnd_u64(r);
	for (unsigned int i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &d->fields[i];
		size_t n = b->n[group_of(k, fd)];
		uint64_t dflt = is_weight(k, fd) ? b->period : 0, *c;
		uint64_t mode = below(r, 4);     /* 0 all default, 1 sparse, else random */
		uint64_t ts = b->base_ts;

		if (role_of(fd) != R_COL || is_enc_fd(fd))
			continue;
		c = b->col[fd->id] = malloc((n ? n : 1) * sizeof(uint64_t));
		for (size_t j = 0; j < n; j++) {
			uint64_t v;

			if (is_ts(fd)) {
				/* mostly forward, sometimes backward, rarely anywhere */
				uint64_t s = below(r, 20);

				ts = s == 0 ? rnd_u64(r) : s < 5 ? ts - below(r, 5000) :
				     ts + below(r, 100000);
				c[j] = ts;
				continue;
			}
			if (mode == 0 || (mode == 1 && below(r, 8))) {
				c[j] = dflt;
				continue;
			}
			switch (fd->type) {
			case PROTOBUF_C_TYPE_UINT32: v = rnd_u32(r); break;
			case PROTOBUF_C_TYPE_INT32:
			case PROTOBUF_C_TYPE_SINT32:
				v = (uint64_t)(int64_t)rnd_i32(r);
				break;
			case PROTOBUF_C_TYPE_INT64: v = (uint64_t)rnd_i64(r); break;
			default: v = rnd_u64(r); break;
			}
			c[j] = v;
		}
		b->present[fd->id] = false;
		if (is_ts(fd)) {
			b->present[fd->id] = n > 0;
		} else {
			for (size_t j = 0; j < n; j++)
				if (c[j] != dflt)
					b->present[fd->id] = true;
		}
	}
}

/* ------------------------------------------------------------ bytes */

struct obuf {
	uint8_t *d;
	size_t n, cap;
};

static void ob_reserve(struct obuf *o, size_t more)
{
	if (o->n + more > o->cap) {
		o->cap = (o->n + more) * 2 + 64;
		o->d = realloc(o->d, o->cap);
		cr_assert_not_null(o->d);
	}
}

static void ob_varint(struct obuf *o, uint64_t v)
{
	ob_reserve(o, GS_VARINT_MAX);
	o->n = (size_t)(gs_varint_put(o->d + o->n, v) - o->d);
}

static void ob_bytes(struct obuf *o, const void *p, size_t n)
{
	ob_reserve(o, n);
	if (n)
		memcpy(o->d + o->n, p, n);
	o->n += n;
}

static void ob_tag(struct obuf *o, uint64_t f, unsigned int wt)
{
	ob_varint(o, f << 3 | wt);
}

/* Pack with protobuf-c. */
static void pb_pack(const ProtobufCMessage *m, struct obuf *o)
{
	size_t len = protobuf_c_message_get_packed_size(m);

	o->n = 0;
	ob_reserve(o, len + 1);
	o->n = protobuf_c_message_pack(m, o->d);
	cr_assert_eq(o->n, len);
}

/* Exact-size heap copy, so ASan flags any read past the end. */
static uint8_t *dup_exact(const uint8_t *p, size_t n)
{
	uint8_t *c = malloc(n ? n : 1);

	cr_assert_not_null(c);
	if (n)
		memcpy(c, p, n);
	return c;
}

/*
 * Decode bytes by hand and check the result against the oracle built from
 * protobuf-c's unpack of the same bytes.  Returns the decode's result.
 */
static int check_bytes(struct tf_batch_buf *bb, enum tf_packet_kind k,
		       const uint8_t *p, size_t len, const char *ctx)
{
	uint8_t *copy = dup_exact(p, len);
	ProtobufCMessage *m = unpack_kind(k, copy, len);
	size_t err_at = SIZE_MAX;
	struct tf_batch want;
	int rc;

	rc = tf_batch__decode(bb, k, copy, len, &err_at);
	if (!m) {
		REQ(rc == -GS_E_FORMAT, "%s: protobuf-c rejects %zu bytes, decode gave %d",
		    ctx, len, rc);
		REQ(err_at < len, "%s: err_at %zu of %zu", ctx, err_at, len);
	} else if (!oracle(k, m, &want)) {
		REQ(rc == -GS_E_FORMAT, "%s: column lengths differ, decode gave %d",
		    ctx, rc);
		if (oracle_bad_clock)
			REQ(err_at < len && copy[err_at] == (TF_GO_TICK_NS << 3 | 1),
			    "%s: err_at %zu: not a tick_ns", ctx, err_at);
		else
			REQ(err_at == len, "%s: err_at %zu, want %zu", ctx, err_at, len);
	} else {
		REQ(rc == 0, "%s: decode failed %d at %zu (%zu bytes)", ctx, rc,
		    err_at, len);
		req_batch_eq(&bb->b, &want, false, ctx);
		batch_free(&want);
	}
	if (m)
		protobuf_c_message_free_unpacked(m, NULL);
	free(copy);
	return rc;
}

/* ------------------------------------------------------------ tests */

Test(batch, field_numbers_match_proto)
{
	static const struct {
		enum tf_packet_kind k;
		unsigned int f;
		const char *name;
	} t[] = {
		{ TF_PKT_CPU_SAMPLES, TF_CPU_TS, "ts_delta" },
		{ TF_PKT_CPU_SAMPLES, TF_CPU_TID, "tid" },
		{ TF_PKT_CPU_SAMPLES, TF_CPU_STACK, "stack_id" },
		{ TF_PKT_CPU_SAMPLES, TF_CPU_WEIGHT, "weight" },
		{ TF_PKT_CPU_SAMPLES, TF_CPU_CPU, "cpu_col" },
		{ TF_PKT_CPU_SAMPLES, TF_CPU_GOID, "goid" },
		{ TF_PKT_SCHED, TF_SW_TS, "switch_ts_delta" },
		{ TF_PKT_SCHED, TF_SW_PREV_TID, "switch_prev_tid" },
		{ TF_PKT_SCHED, TF_SW_PREV_STATE, "switch_prev_state" },
		{ TF_PKT_SCHED, TF_SW_NEXT_TID, "switch_next_tid" },
		{ TF_PKT_SCHED, TF_SW_NEXT_PRIO, "switch_next_prio" },
		{ TF_PKT_SCHED, TF_SW_PREV_STACK, "switch_prev_stack_id" },
		{ TF_PKT_SCHED, TF_WK_TS, "wake_ts_delta" },
		{ TF_PKT_SCHED, TF_WK_TID, "wake_tid" },
		{ TF_PKT_SCHED, TF_WK_TARGET_CPU, "wake_target_cpu" },
		{ TF_PKT_SCHED, TF_WK_WAKER_TID, "wake_waker_tid" },
		{ TF_PKT_SCHED, TF_WK_FLAGS, "wake_flags" },
		{ TF_PKT_GO_EVENTS, TF_GO_TS, "ts_delta" },
		{ TF_PKT_GO_EVENTS, TF_GO_KIND, "kind" },
		{ TF_PKT_GO_EVENTS, TF_GO_GOID, "goid" },
		{ TF_PKT_GO_EVENTS, TF_GO_FROM, "from_state" },
		{ TF_PKT_GO_EVENTS, TF_GO_TO, "to_state" },
		{ TF_PKT_GO_EVENTS, TF_GO_REASON, "reason_sid" },
		{ TF_PKT_GO_EVENTS, TF_GO_P, "p" },
		{ TF_PKT_GO_EVENTS, TF_GO_M, "m" },
		{ TF_PKT_GO_EVENTS, TF_GO_STACK, "stack_id" },
		{ TF_PKT_GO_EVENTS, TF_GO_ARG, "arg" },
		{ TF_PKT_GO_EVENTS, TF_GO_ARG2, "arg2" },
		{ TF_PKT_GO_EVENTS, TF_GO_KIND_FLAGS, "kind_flags" },
		{ TF_PKT_GO_EVENTS, TF_GO_TICK, "tick_delta" },
		{ TF_PKT_ALLOCS, TF_AL_TS, "ts_delta" },
		{ TF_PKT_ALLOCS, TF_AL_TID, "tid" },
		{ TF_PKT_ALLOCS, TF_AL_SIZE, "size" },
		{ TF_PKT_ALLOCS, TF_AL_TYPE, "type_sid" },
		{ TF_PKT_ALLOCS, TF_AL_STACK, "stack_id" },
		{ TF_PKT_ALLOCS, TF_AL_KIND, "kind" },
		{ TF_PKT_ALLOCS, TF_AL_ADDR, "addr" },
		{ TF_PKT_ALLOCS, TF_AL_GOID, "goid" },
	};
	size_t ncols[5] = { 0 };

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const ProtobufCFieldDescriptor *fd =
			protobuf_c_message_descriptor_get_field(kind_desc(t[i].k), t[i].f);

		cr_assert_not_null(fd, "kind %d field %u", t[i].k, t[i].f);
		cr_assert_str_eq(fd->name, t[i].name);
		ncols[t[i].k]++;
	}
	/* the table above is every repeated field; the codec agrees on all */
	for (size_t ki = 0; ki < 4; ki++) {
		enum tf_packet_kind k = kinds[ki];
		const ProtobufCMessageDescriptor *d = kind_desc(k);
		size_t reps = 0;

		for (unsigned int f = 0; f < 40; f++) {
			const ProtobufCFieldDescriptor *fd =
				protobuf_c_message_descriptor_get_field(d, f);
			bool col = fd && fd->label == PROTOBUF_C_LABEL_REPEATED &&
				   !is_enc_fd(fd);

			cr_assert_eq(tf_batch_field_group(k, f), col ? group_of(k, fd) : -1,
				     "kind %d field %u", k, f);
			/* timestamps are sint64 deltas on the wire, absolute in tf_batch */
			cr_assert_eq(tf_batch_field_signed(k, f),
				     col && !is_ts(fd) && type_signed(fd->type),
				     "kind %d field %u", k, f);
			if (fd)
				cr_assert_str_eq(tf_batch_field_name(k, f), short_name(fd->name),
						 "kind %d field %u", k, f);
			else
				cr_assert_null(tf_batch_field_name(k, f));
			reps += fd && fd->label == PROTOBUF_C_LABEL_REPEATED;
		}
		cr_assert_eq(reps, ncols[k], "kind %d", k);
		cr_assert_eq(tf_batch_ts_field(k, 0), 3);
	}
	cr_assert_eq(tf_batch_ts_field(TF_PKT_SCHED, 1), TF_WK_TS);
	cr_assert_eq(tf_batch_field_group(TF_PKT_INTERN, 3), -1);
	cr_assert_null(tf_batch_field_name(TF_PKT_PROCESS, 1));
}

/* tf_go_cursor__read() in blocks of 1, 7 and 64 events reads what
 * tf_go_cursor__next() reads, and fails where it fails. */
static void read_agrees(const uint8_t *p, size_t len, const struct tf_batch *d,
			uint32_t want, const char *ctx)
{
	static const size_t maxes[] = { 1, 7, 64 };
	char why[160];

	for (size_t i = 0; i < sizeof(maxes) / sizeof(maxes[0]); i++)
		REQ(!gocursor_read_agrees(p, len, d, want, maxes[i], why, sizeof(why)),
		    "%s: read(%zu): %s", ctx, maxes[i], why);
}

/*
 * The Go event cursor over bytes reads what tf_batch__decode() reads, field
 * for field (all fields, then only some); -EAGAIN only for non-canonical
 * encodings, which the cursor then walks as a decoded batch.  Returns
 * whether the bytes were canonical.
 */
static bool cursor_matches_decode(const uint8_t *p, size_t len, const char *ctx)
{
	struct tf_batch_buf bb = { 0 };
	const struct tf_batch *b = &bb.b;
	bool canonical = false;
	size_t err_at = 0;

	cr_assert_eq(tf_batch__decode(&bb, TF_PKT_GO_EVENTS, p, len, &err_at), 0, "%s", ctx);
	for (int pass = 0; pass < 2; pass++) {
		uint32_t want = pass ? 1u << TF_GO_STACK | 1u << TF_GO_M : UINT32_MAX;
		struct tf_go_cursor c;
		struct tf_go_event e;
		size_t i = 0;
		int rc = tf_go_cursor__init(&c, p, len, want, &err_at);

		REQ(rc == 0 || rc == -EAGAIN, "%s: cursor init %d", ctx, rc);
		canonical = rc == 0;
		if (rc == -EAGAIN)
			tf_go_cursor__init_batch(&c, b, want);
		REQ(c.key == b->key && c.base_ts == b->base_ts, "%s: key/base", ctx);
		while ((rc = tf_go_cursor__next(&c, &e)) > 0) {
			REQ(i < b->n[0], "%s: more events than %zu", ctx, b->n[0]);
			REQ(e.ts == b->col[TF_GO_TS][i] && e.kind == (uint32_t)b->col[TF_GO_KIND][i] &&
			    e.stack_id == b->col[TF_GO_STACK][i] && e.m == b->col[TF_GO_M][i],
			    "%s: event %zu differs", ctx, i);
			if (!pass)
				REQ(e.goid == b->col[TF_GO_GOID][i] &&
				    e.from_state == (uint32_t)b->col[TF_GO_FROM][i] &&
				    e.to_state == (uint32_t)b->col[TF_GO_TO][i] &&
				    e.reason_sid == b->col[TF_GO_REASON][i] &&
				    e.p == (int32_t)b->col[TF_GO_P][i] &&
				    e.arg == b->col[TF_GO_ARG][i] && e.arg2 == b->col[TF_GO_ARG2][i],
				    "%s: event %zu differs", ctx, i);
			else
				REQ(e.goid == 0 && e.reason_sid == 0 && e.arg == 0,
				    "%s: unwanted field decoded", ctx);
			i++;
		}
		REQ(rc == 0 && i == b->n[0], "%s: %zu events, want %zu (rc %d)", ctx, i,
		    b->n[0], rc);
		read_agrees(p, len, b, want, ctx);
	}
	tf_batch_buf__release(&bb);
	return canonical;
}

/*
 * tf_go_cursor__read(): max 0 reads nothing and is not an error; a
 * kind_flags value with an unknown flag fails with c->bad at the value's
 * first byte, by read() and next() alike.
 */
Test(batch, go_cursor_read_edges)
{
	/* ts_delta [0, 5]; kind_flags [2, 16384 (three bytes)] */
	static const uint8_t body[] = { 0x1a, 0x02, 0x00, 0x05, 0x7a, 0x04, 0x02, 0x80, 0x80, 0x01 };
	struct tf_go_cursor c;
	struct tf_go_event e[4];
	size_t at;

	for (int pass = 0; pass < 2; pass++) {
		cr_assert_eq(tf_go_cursor__init(&c, body, sizeof(body), UINT32_MAX, &at), 0);
		cr_assert_eq(tf_go_cursor__read(&c, e, 0), 0);
		cr_assert_eq(pass ? tf_go_cursor__next(&c, e) : tf_go_cursor__read(&c, e, 1), 1);
		cr_assert_eq(e[0].kind, 2);
		cr_assert_eq(pass ? tf_go_cursor__next(&c, e) : tf_go_cursor__read(&c, e, 4),
			     -GS_E_FORMAT);
		cr_assert_eq(c.bad, body + 7, "bad at offset %td", c.bad - body);
	}
}

/* (a) hand encode -> protobuf-c unpack, value by value; canonical bytes. */
Test(batch, hand_encode_unpacks_with_protobuf_c)
{
	struct rng r = { 1 };
	struct tf_batch_buf bb = { 0 };
	struct obuf re = { 0 };
	size_t omitted = 0, negative_deltas = 0;

	for (size_t ki = 0; ki < 4; ki++) {
		enum tf_packet_kind k = kinds[ki];
		const ProtobufCMessageDescriptor *d = kind_desc(k);

		for (int it = 0; it < 300; it++) {
			struct gs_buf out = GS_BUF_INIT;
			struct tf_batch b;
			ProtobufCMessage *m;
			char ctx[64];
			size_t err_at = 0;
			uint8_t *copy;

			snprintf(ctx, sizeof(ctx), "kind %d iter %d", k, it);
			random_batch(k, &r, &b);
			/* encode appends: start from junk to check it */
			cr_assert_eq(gs_buf__append(&out, "junk", 4), 0);
			cr_assert_eq(tf_batch__encode(&b, &out), 0);
			cr_assert_arr_eq(out.data, "junk", 4);
			if (k == TF_PKT_GO_EVENTS)
				cr_assert(cursor_matches_decode(out.data + 4, out.len - 4, ctx),
					  "%s: canonical bytes not taken by the cursor", ctx);
			copy = dup_exact(out.data + 4, out.len - 4);
			m = unpack_kind(k, copy, out.len - 4);
			cr_assert_not_null(m, "%s: protobuf-c cannot unpack", ctx);

			for (unsigned int i = 0; i < d->n_fields; i++) {
				const ProtobufCFieldDescriptor *fd = &d->fields[i];
				enum role ro = role_of(fd);
				size_t n = b.n[group_of(k, fd)];
				uint64_t v, want = 0;
				protobuf_c_boolean h;

				if (is_layout_fd(fd))
					continue; /* dense layout only */
				if (ro == R_COL) {
					size_t nf = *qty(m, fd);
					void *arr = *arr_of(m, fd);

					if (!b.present[fd->id]) {
						REQ(nf == 0, "%s: all-default %s written (%zu)",
						    ctx, fd->name, nf);
						omitted += n > 0;
						continue;
					}
					REQ(nf == n, "%s: %s has %zu values, want %zu", ctx,
					    fd->name, nf, n);
					if (is_ts(fd)) {
						uint64_t ts = b.base_ts;

						for (size_t j = 0; j < n; j++) {
							int64_t delta = (int64_t)get_elem(fd->type, arr, j);

							ts += (uint64_t)delta;
							negative_deltas += delta < 0;
							REQ(ts == b.col[fd->id][j],
							    "%s: ts[%zu] %llu want %llu", ctx, j,
							    (ull)ts, (ull)b.col[fd->id][j]);
						}
					} else {
						for (size_t j = 0; j < n; j++)
							REQ(get_elem(fd->type, arr, j) == b.col[fd->id][j],
							    "%s: %s[%zu] %llu want %llu", ctx, fd->name, j,
							    (ull)get_elem(fd->type, arr, j),
							    (ull)b.col[fd->id][j]);
					}
					continue;
				}
				h = *has(m, fd);
				v = h ? get_elem(fd->type, val_of(m, fd), 0) : 0;
				switch (ro) {
				case R_KEY:
					REQ(h == (b.key >= 0), "%s: has key %d", ctx, h);
					REQ(!h || (int64_t)v == b.key, "%s: key %lld want %lld",
					    ctx, (long long)v, (long long)b.key);
					continue;
				case R_BASE: want = b.base_ts; break;
				case R_LOST: want = b.lost_events; break;
				case R_PERIOD: want = b.period; break;
				case R_INTERVAL: want = b.sample_interval; break;
				default: break; /* no clock: a tf_batch holds ns */
				}
				REQ(v == want, "%s: %s %llu want %llu", ctx, fd->name,
				    (ull)v, (ull)want);
				if (ro != R_BASE)
					REQ(h == (want != 0), "%s: %s written as %d", ctx,
					    fd->name, h);
			}
			/* canonical: protobuf-c re-packs the same message identically */
			pb_pack(m, &re);
			REQ(re.n == out.len - 4 && !memcmp(re.d, out.data + 4, re.n),
			    "%s: hand encoding (%zu B) is not canonical (%zu B)", ctx,
			    out.len - 4, re.n);
			/* and the hand decoder gives the batch back exactly */
			REQ(tf_batch__decode(&bb, k, copy, out.len - 4, &err_at) == 0,
			    "%s: decode at %zu", ctx, err_at);
			req_batch_eq(&bb.b, &b, true, ctx);
			protobuf_c_message_free_unpacked(m, NULL);
			free(copy);
			gs_buf__release(&out);
			batch_free(&b);
		}
	}
	cr_assert_gt(omitted, 100, "all-default columns were exercised");
	cr_assert_gt(negative_deltas, 1000, "negative deltas were exercised");
	tf_batch_buf__release(&bb);
	free(re.d);
}

/* A random message, possibly with things the encoder never writes. */
static ProtobufCMessage *random_msg(enum tf_packet_kind k, struct rng *r, size_t n0,
				    size_t n1)
{
	const ProtobufCMessageDescriptor *d = kind_desc(k);
	ProtobufCMessage *m = msg_new(k);
	/* GoEventBatch: a third count ticks (tick_delta, with a clock) */
	bool tick = k == TF_PKT_GO_EVENTS && below(r, 3) == 0;

	for (unsigned int i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &d->fields[i];
		size_t n = group_of(k, fd) ? n1 : n0;
		void *arr;

		if (is_layout_fd(fd))
			continue; /* dense layout only */
		if (is_ts(fd) ? tick : is_tick_fd(fd) && !tick)
			continue; /* one of ts_delta and tick_delta */
		if (role_of(fd) == R_TICK) {
			static const double ticks[] = {
				24.666666666666668, 1.0 / 3, 0.5, 1, 1e-3, 64, 1e6,
				DBL_MIN, DBL_MAX, 5e-324 /* subnormal */,
			};
			double x = ticks[below(r, sizeof(ticks) / sizeof(ticks[0]))];
			uint64_t v;

			*has(m, fd) = tick || below(r, 3) == 0; /* or a clock alone */
			memcpy(&v, &x, sizeof(v));
			set_elem(fd->type, val_of(m, fd), 0, v);
			continue;
		}
		if (role_of(fd) != R_COL) {
			uint64_t v;

			*has(m, fd) = below(r, 4) != 0;
			if (fd->type == PROTOBUF_C_TYPE_INT32)
				v = (uint64_t)(int64_t)(below(r, 3) ? (int32_t)below(r, 512) :
							rnd_i32(r));
			else if (fd->type == PROTOBUF_C_TYPE_UINT32)
				v = rnd_u32(r);
			else
				v = below(r, 5) == 0 ? 0 : rnd_u64(r);
			set_elem(fd->type, val_of(m, fd), 0, v);
			continue;
		}
		if (!is_ts(fd) && !is_tick_fd(fd) && below(r, 3) == 0)
			continue; /* absent column */
		*qty(m, fd) = n;
		arr = *arr_of(m, fd) = malloc((n ? n : 1) * elem_size(fd->type));
		for (size_t j = 0; j < n; j++) {
			uint64_t v;

			switch (fd->type) {
			case PROTOBUF_C_TYPE_SINT64:
				v = below(r, 10) == 0 ? (uint64_t)rnd_i64(r) :
				    (uint64_t)((int64_t)below(r, 20000) - 5000);
				break;
			case PROTOBUF_C_TYPE_UINT32: v = rnd_u32(r); break;
			case PROTOBUF_C_TYPE_INT32:
			case PROTOBUF_C_TYPE_SINT32:
				v = (uint64_t)(int64_t)rnd_i32(r);
				break;
			case PROTOBUF_C_TYPE_INT64: v = (uint64_t)rnd_i64(r); break;
			default: v = rnd_u64(r); break;
			}
			set_elem(fd->type, arr, j, v);
		}
	}
	return m;
}

static void random_sizes(struct rng *r, enum tf_packet_kind k, size_t *n0, size_t *n1)
{
	*n0 = below(r, 6) == 0 ? 0 : 1 + below(r, below(r, 2) ? 8 : 200);
	*n1 = k == TF_PKT_SCHED && below(r, 4) ? 1 + below(r, 100) : 0;
}

/* (b) protobuf-c pack -> hand decode. */
Test(batch, protobuf_c_pack_decodes_by_hand)
{
	struct rng r = { 2 };
	struct tf_batch_buf bb = { 0 };
	struct obuf o = { 0 };

	for (size_t ki = 0; ki < 4; ki++) {
		enum tf_packet_kind k = kinds[ki];

		for (int it = 0; it < 300; it++) {
			ProtobufCMessage *m;
			struct tf_batch want;
			size_t n0, n1, err_at = 0;
			uint8_t *copy;
			char ctx[64];

			snprintf(ctx, sizeof(ctx), "kind %d iter %d", k, it);
			random_sizes(&r, k, &n0, &n1);
			m = random_msg(k, &r, n0, n1);
			pb_pack(m, &o);
			cr_assert(oracle(k, m, &want));
			copy = dup_exact(o.d, o.n);
			REQ(tf_batch__decode(&bb, k, copy, o.n, &err_at) == 0,
			    "%s: decode failed at %zu", ctx, err_at);
			req_batch_eq(&bb.b, &want, true, ctx);
			/* the oracle over the same bytes agrees */
			cr_assert_eq(check_bytes(&bb, k, o.d, o.n, ctx), 0);
			batch_free(&want);
			free(copy);
			msg_free(m);
		}
	}
	tf_batch_buf__release(&bb);
	free(o.d);
}

/* Explicit examples of the container rules on top of protobuf. */
Test(batch, defaults_and_deltas_exact)
{
	Gscope__V1__CpuSampleBatch cs = GSCOPE__V1__CPU_SAMPLE_BATCH__INIT;
	Gscope__V1__SchedBatch sb = GSCOPE__V1__SCHED_BATCH__INIT;
	int64_t deltas[4] = { 5, -3, INT64_MIN, 7 };
	int64_t wdeltas[2] = { -10, 1 };
	uint32_t tids[4] = { 1, 2, 3, UINT32_MAX };
	int32_t prio[4] = { -1, 120, INT32_MIN, 0 };
	uint32_t wtid[2] = { 9, 8 };
	struct tf_batch_buf bb = { 0 };
	struct obuf o = { 0 };
	size_t err_at;

	cs.has_cpu = 1;
	cs.cpu = -7; /* not written by our writer, but a valid int32 */
	cs.has_base_ts = 1;
	cs.base_ts = 1000;
	cs.n_ts_delta = 4;
	cs.ts_delta = deltas;
	cs.n_tid = 4;
	cs.tid = tids;
	cs.has_period = 1;
	cs.period = 10101010;
	pb_pack(&cs.base, &o);
	cr_assert_eq(tf_batch__decode(&bb, TF_PKT_CPU_SAMPLES, o.d, o.n, &err_at), 0);
	cr_assert_eq(bb.b.n[0], 4);
	cr_assert_eq(bb.b.n[1], 0);
	cr_assert_eq(bb.b.key, -7);
	cr_assert_eq(bb.b.col[TF_CPU_TS][0], 1005);
	cr_assert_eq(bb.b.col[TF_CPU_TS][1], 1002);
	cr_assert_eq(bb.b.col[TF_CPU_TS][2], 1002 + (1ull << 63));
	cr_assert_eq(bb.b.col[TF_CPU_TS][3], 1009 + (1ull << 63));
	cr_assert_eq(bb.b.col[TF_CPU_TID][3], UINT32_MAX);
	for (int i = 0; i < 4; i++) {
		cr_assert_eq(bb.b.col[TF_CPU_WEIGHT][i], 10101010, "weight = period");
		cr_assert_eq(bb.b.col[TF_CPU_STACK][i], 0);
		cr_assert_eq(bb.b.col[TF_CPU_GOID][i], 0);
	}
	cr_assert(bb.b.present[TF_CPU_TID]);
	cr_assert_not(bb.b.present[TF_CPU_WEIGHT]);

	/* no base_ts: deltas start at 0; wakeups are group 1 */
	sb.n_switch_ts_delta = 4;
	sb.switch_ts_delta = deltas;
	sb.n_switch_next_prio = 4;
	sb.switch_next_prio = prio;
	sb.n_wake_ts_delta = 2;
	sb.wake_ts_delta = wdeltas;
	sb.n_wake_tid = 2;
	sb.wake_tid = wtid;
	sb.has_lost_events = 1;
	sb.lost_events = 3;
	pb_pack(&sb.base, &o);
	cr_assert_eq(tf_batch__decode(&bb, TF_PKT_SCHED, o.d, o.n, &err_at), 0);
	cr_assert_eq(bb.b.key, -1);
	cr_assert_eq(bb.b.base_ts, 0);
	cr_assert_eq(bb.b.lost_events, 3);
	cr_assert_eq(bb.b.n[0], 4);
	cr_assert_eq(bb.b.n[1], 2);
	cr_assert_eq(bb.b.col[TF_SW_TS][1], 2);
	cr_assert_eq(bb.b.col[TF_WK_TS][0], (uint64_t)-10);
	cr_assert_eq(bb.b.col[TF_WK_TS][1], (uint64_t)-9);
	cr_assert_eq((int64_t)bb.b.col[TF_SW_NEXT_PRIO][0], -1);
	cr_assert_eq((int64_t)bb.b.col[TF_SW_NEXT_PRIO][2], INT32_MIN);
	cr_assert_eq(bb.b.col[TF_WK_TID][1], 8);
	cr_assert_eq(bb.b.col[TF_WK_TARGET_CPU][1], 0);
	cr_assert_eq(bb.b.col[TF_SW_PREV_TID][3], 0);
	/* the same bytes decoded as another kind: the field meanings change */
	cr_assert_eq(tf_batch__decode(&bb, TF_PKT_ALLOCS, o.d, o.n, &err_at),
		     -GS_E_FORMAT, "fields 9 and 10 are addr and sample_interval_bytes in AllocBatch");
	tf_batch_buf__release(&bb);
	free(o.d);
}

/* Build bytes for message m in a non-canonical but equivalent layout. */
struct craft {
	bool unpacked;   /* every element its own field */
	bool mixed;      /* runs of random length, packed or not */
	bool shuffle;    /* interleave fields (keeping each field's order) */
	bool unknown;    /* unknown fields in between */
	bool decoys;     /* earlier values of scalars, overridden later */
	bool high_bits;  /* garbage above bit 31 in unpacked 32-bit varints */
};

struct piece {
	unsigned int field;
	size_t from, count;
	int how; /* 0 packed run, 1 unpacked elements, 2 scalar, 3 unknown, 4 decoy */
};

static void put_unknown(struct obuf *o, enum tf_packet_kind k, struct rng *r)
{
	static const uint64_t ids[] = { 11, 12, 13, 14, 15, 16, 17, 31, 100, 1000,
					536870911 };
	const ProtobufCMessageDescriptor *d = kind_desc(k);
	uint64_t f;

	do
		f = ids[below(r, sizeof(ids) / sizeof(ids[0]))];
	while (protobuf_c_message_descriptor_get_field(d, (unsigned int)f));
	switch (below(r, 4)) {
	case 0:
		ob_tag(o, f, 0);
		ob_varint(o, rnd_u64(r));
		break;
	case 1: {
		uint8_t b8[8];

		for (int i = 0; i < 8; i++)
			b8[i] = (uint8_t)rnd(r);
		ob_tag(o, f, 1);
		ob_bytes(o, b8, 8);
		break;
	}
	case 2: {
		uint8_t junk[40];
		size_t n = below(r, sizeof(junk));

		for (size_t i = 0; i < n; i++)
			junk[i] = (uint8_t)rnd(r);
		ob_tag(o, f, 2);
		ob_varint(o, n);
		ob_bytes(o, junk, n);
		break;
	}
	default: {
		uint8_t b4[4] = { 0xde, 0xad, 0xbe, 0xef };

		ob_tag(o, f, 5);
		ob_bytes(o, b4, 4);
		break;
	}
	}
}

static void craft_bytes(enum tf_packet_kind k, ProtobufCMessage *m,
			const struct craft *c, struct rng *r, struct obuf *o)
{
	const ProtobufCMessageDescriptor *d = kind_desc(k);
	struct piece *q[32];
	size_t nq[32] = { 0 }, pos[32] = { 0 }, nfields = d->n_fields, left = 0;

	cr_assert(nfields <= 30);
	for (unsigned int i = 0; i < nfields; i++) {
		const ProtobufCFieldDescriptor *fd = &d->fields[i];
		size_t n = role_of(fd) == R_COL ? *qty(m, fd) : 0;

		q[i] = calloc(2 * n + 4, sizeof(struct piece));
		if (role_of(fd) != R_COL) {
			if (!*has(m, fd))
				continue;
			if (c->decoys && below(r, 3) == 0)
				q[i][nq[i]++] = (struct piece){ fd->id, 0, 0, 4 };
			q[i][nq[i]++] = (struct piece){ fd->id, 0, 0, 2 };
			continue;
		}
		for (size_t j = 0; j < n;) {
			size_t run = c->unpacked ? 1 : c->mixed ? 1 + below(r, n - j) : n - j;
			int how = c->unpacked ? 1 : c->mixed ? (int)below(r, 2) : 0;

			q[i][nq[i]++] = (struct piece){ fd->id, j, run, how };
			if (c->mixed && below(r, 8) == 0) /* an empty packed run */
				q[i][nq[i]++] = (struct piece){ fd->id, j, 0, 0 };
			j += run;
		}
	}
	if (c->unknown) {
		q[nfields] = calloc(8, sizeof(struct piece));
		nq[nfields] = 1 + below(r, 6);
		for (size_t j = 0; j < nq[nfields]; j++)
			q[nfields][j] = (struct piece){ 0, 0, 0, 3 };
		nfields++;
	}
	for (size_t i = 0; i < nfields; i++)
		left += nq[i];
	o->n = 0;
	while (left) {
		size_t i = 0;
		const ProtobufCFieldDescriptor *fd;
		struct piece *p;

		if (c->shuffle) {
			size_t pick = below(r, left);

			for (i = 0; pick >= nq[i] - pos[i]; i++)
				pick -= nq[i] - pos[i];
		} else {
			while (pos[i] == nq[i])
				i++;
		}
		p = &q[i][pos[i]++];
		left--;
		if (p->how == 3) {
			put_unknown(o, k, r);
			continue;
		}
		fd = protobuf_c_message_descriptor_get_field(d, p->field);
		if ((p->how == 2 || p->how == 4) && fd->type == PROTOBUF_C_TYPE_DOUBLE) {
			uint64_t v = get_elem(fd->type, val_of(m, fd), 0);
			uint8_t b8[8];

			if (p->how == 4)
				v = ~v; /* a decoy: NaN or negative, overridden by the last */
			for (int j = 0; j < 8; j++)
				b8[j] = (uint8_t)(v >> (8 * j));
			ob_tag(o, fd->id, 1);
			ob_bytes(o, b8, 8);
			continue;
		}
		if (p->how == 2 || p->how == 4) {
			uint64_t v = get_elem(fd->type, val_of(m, fd), 0);

			ob_tag(o, fd->id, 0);
			ob_varint(o, wire_val(fd->type, p->how == 4 ? ~v : v));
			continue;
		}
		if (p->how == 1) {
			for (size_t j = p->from; j < p->from + p->count; j++) {
				uint64_t w = wire_val(fd->type, get_elem(fd->type, *arr_of(m, fd), j));

				if (c->high_bits && elem_size(fd->type) == 4 && below(r, 2))
					w = (uint32_t)w | (rnd(r) << 32);
				ob_tag(o, fd->id, 0);
				ob_varint(o, w);
			}
			continue;
		}
		{
			struct obuf body = { 0 };

			for (size_t j = p->from; j < p->from + p->count; j++)
				ob_varint(&body, wire_val(fd->type,
							  get_elem(fd->type, *arr_of(m, fd), j)));
			ob_tag(o, fd->id, 2);
			ob_varint(o, body.n);
			ob_bytes(o, body.d, body.n);
			free(body.d);
		}
	}
	for (size_t i = 0; i < nfields; i++)
		free(q[i]);
}

/* (c) unpacked, split, interleaved and unknown-laden encodings. */
Test(batch, noncanonical_encodings_decode_the_same)
{
	static const struct craft modes[] = {
		{ .unpacked = true },
		{ .unpacked = true, .shuffle = true },
		{ .mixed = true },
		{ .mixed = true, .shuffle = true, .decoys = true },
		{ .unknown = true },
		{ .unknown = true, .shuffle = true, .mixed = true },
		{ .unpacked = true, .shuffle = true, .unknown = true, .decoys = true },
		{ .unpacked = true, .high_bits = true },
		{ .mixed = true, .high_bits = true, .unknown = true, .shuffle = true },
	};
	struct rng r = { 3 };
	struct tf_batch_buf bb = { 0 };
	struct obuf o = { 0 }, canon = { 0 }, re = { 0 };
	size_t noncanon = 0;

	for (size_t ki = 0; ki < 4; ki++) {
		enum tf_packet_kind k = kinds[ki];

		for (size_t mi = 0; mi < sizeof(modes) / sizeof(modes[0]); mi++) {
			for (int it = 0; it < 60; it++) {
				ProtobufCMessage *m, *um;
				struct tf_batch want;
				size_t n0, n1, err_at = 0;
				uint8_t *copy;
				char ctx[80];

				snprintf(ctx, sizeof(ctx), "kind %d mode %zu iter %d", k, mi, it);
				random_sizes(&r, k, &n0, &n1);
				m = random_msg(k, &r, n0, n1);
				craft_bytes(k, m, &modes[mi], &r, &o);
				copy = dup_exact(o.d, o.n);
				/* the crafted bytes are legal protobuf for the same message */
				um = unpack_kind(k, copy, o.n);
				REQ(um != NULL, "%s: protobuf-c rejects crafted bytes", ctx);
				if (!modes[mi].high_bits) {
					size_t nu = um->n_unknown_fields;

					pb_pack(m, &canon);
					um->n_unknown_fields = 0; /* kept by protobuf-c */
					pb_pack(um, &re);
					um->n_unknown_fields = nu;
					REQ(modes[mi].unknown ? nu > 0 : nu == 0,
					    "%s: %zu unknown fields", ctx, nu);
					REQ(re.n == canon.n && !memcmp(re.d, canon.d, re.n),
					    "%s: crafted bytes are not the same message", ctx);
				}
				/* the hand decoder reads them as protobuf-c does */
				cr_assert_eq(check_bytes(&bb, k, o.d, o.n, ctx), 0);
				if (k == TF_PKT_GO_EVENTS)
					noncanon += !cursor_matches_decode(o.d, o.n, ctx);
				if (!modes[mi].high_bits) {
					cr_assert(oracle(k, m, &want));
					REQ(tf_batch__decode(&bb, k, copy, o.n, &err_at) == 0,
					    "%s: at %zu", ctx, err_at);
					req_batch_eq(&bb.b, &want, false, ctx);
					batch_free(&want);
				}
				protobuf_c_message_free_unpacked(um, NULL);
				free(copy);
				msg_free(m);
			}
		}
	}
	cr_assert_gt(noncanon, 100); /* the cursor fell back, and read the same */
	tf_batch_buf__release(&bb);
	free(o.d);
	free(canon.d);
	free(re.d);
}

Test(batch, unknown_fields_skipped_exact)
{
	/* CpuSampleBatch: base_ts 100, ts_delta [1, 2]; unknowns of every type */
	static const uint8_t plain[] = { 0x10, 0x64, 0x1a, 0x02, 0x02, 0x04 };
	static const uint8_t with_unknown[] = {
		0x78, 0x05,                                     /* 15: varint */
		0x10, 0x64,                                     /* base_ts 100 */
		0x81, 0x01, 1, 2, 3, 4, 5, 6, 7, 8,             /* 16: fixed64 */
		0x1a, 0x02, 0x02, 0x04,                         /* ts_delta */
		0xa2, 0x06, 0x03, 0xff, 0xff, 0xff,             /* 100: bytes */
		0xfd, 0xff, 0xff, 0xff, 0x0f, 9, 9, 9, 9,       /* 536870911: fixed32 */
		0x72, 0x00,                                     /* 14: empty bytes */
	};
	struct tf_batch_buf bb = { 0 };
	size_t err_at;
	uint8_t *copy;

	copy = dup_exact(with_unknown, sizeof(with_unknown));
	cr_assert_eq(tf_batch__decode(&bb, TF_PKT_CPU_SAMPLES, copy,
				      sizeof(with_unknown), &err_at), 0);
	cr_assert_eq(bb.b.n[0], 2);
	cr_assert_eq(bb.b.base_ts, 100);
	cr_assert_eq(bb.b.col[TF_CPU_TS][0], 101);
	cr_assert_eq(bb.b.col[TF_CPU_TS][1], 103);
	cr_assert_eq(bb.b.key, -1);
	free(copy);
	cr_assert_eq(check_bytes(&bb, TF_PKT_CPU_SAMPLES, with_unknown,
				 sizeof(with_unknown), "unknown"), 0);
	cr_assert_eq(check_bytes(&bb, TF_PKT_CPU_SAMPLES, plain, sizeof(plain), "plain"),
		     0);
	cr_assert_eq(bb.b.col[TF_CPU_TS][1], 103);
	tf_batch_buf__release(&bb);
}

/* Exact errors and their offsets. */
Test(batch, malformed_inputs_exact_errors)
{
	static const struct {
		const char *what;
		uint8_t b[16];
		size_t len, err_at;
	} t[] = {
		{ "field number 0", { 0x10, 0x01, 0x00, 0x01 }, 4, 2 },
		{ "wire type 3 (group)", { 0x10, 0x01, 0x0b }, 3, 2 },
		{ "wire type 7", { 0x0f, 0x00 }, 2, 0 },
		{ "scalar as bytes", { 0x10, 0x01, 0x12, 0x01, 0x05 }, 5, 2 },
		{ "column as fixed64", { 0x19, 1, 2, 3, 4, 5, 6, 7, 8 }, 9, 0 },
		{ "truncated scalar", { 0x10, 0x01, 0x10, 0x80 }, 4, 2 },
		{ "truncated tag", { 0x10, 0x01, 0x80 }, 3, 2 },
		{ "packed run longer than input", { 0x10, 0x01, 0x1a, 0x05, 0x02 }, 5, 2 },
		{ "packed run ends mid-varint", { 0x10, 0x01, 0x1a, 0x02, 0x02, 0x80 }, 6, 2 },
		{ "11-byte varint in a run",
		  { 0x1a, 0x0b, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
		    0x80, 0x01 }, 13, 0 },
		{ "unknown bytes longer than input", { 0x72, 0x09, 0x00 }, 3, 0 },
		{ "unknown fixed32 truncated", { 0x7d, 0x00, 0x00 }, 3, 0 },
		/* protobuf-c 1.4 accepts this one as an unknown field; we do not */
		{ "tag over 2^29", { 0x80, 0x80, 0x80, 0x80, 0x20, 0x00 }, 6, 0 },
	};
	struct tf_batch_buf bb = { 0 };

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint8_t *copy = dup_exact(t[i].b, t[i].len);
		size_t err_at = SIZE_MAX;

		cr_assert_eq(tf_batch__decode(&bb, TF_PKT_CPU_SAMPLES, copy, t[i].len,
					      &err_at), -GS_E_FORMAT, "%s", t[i].what);
		cr_assert_eq(err_at, t[i].err_at, "%s: err_at %zu want %zu", t[i].what,
			     err_at, t[i].err_at);
		/* protobuf-c rejects them too */
		if (strcmp(t[i].what, "tag over 2^29"))
			cr_assert_eq(check_bytes(&bb, TF_PKT_CPU_SAMPLES, t[i].b, t[i].len,
						 t[i].what), -GS_E_FORMAT);
		free(copy);
	}
	tf_batch_buf__release(&bb);
}

/* Column lengths that differ from their group's give -GS_E_FORMAT. */
Test(batch, column_length_mismatch)
{
	struct rng r = { 5 };
	struct tf_batch_buf bb = { 0 };
	struct obuf o = { 0 };
	int cases = 0;

	for (size_t ki = 0; ki < 4; ki++) {
		enum tf_packet_kind k = kinds[ki];
		const ProtobufCMessageDescriptor *d = kind_desc(k);

		for (unsigned int i = 0; i < d->n_fields; i++) {
			const ProtobufCFieldDescriptor *fd = &d->fields[i];

			if (role_of(fd) != R_COL || is_enc_fd(fd))
				continue;
			for (int delta = -2; delta <= 2; delta++) {
				size_t n0 = 5, n1 = k == TF_PKT_SCHED ? 3 : 0;
				size_t n = group_of(k, fd) ? n1 : n0, want = n + (size_t)delta;
				ProtobufCMessage *m;
				size_t err_at = 0;
				void *arr;
				char ctx[96];
				int rc;

				if (delta == 0)
					continue;
				m = random_msg(k, &r, n0, n1);
				/* make the column `want` long, keeping the others */
				arr = realloc(*arr_of(m, fd), (want + 1) * elem_size(fd->type));
				for (size_t j = *qty(m, fd); j < want; j++)
					set_elem(fd->type, arr, j, j + 1);
				*arr_of(m, fd) = arr;
				*qty(m, fd) = want;
				pb_pack(m, &o);
				snprintf(ctx, sizeof(ctx), "kind %d %s: %zu values for %zu events",
					 k, fd->name, want, n);
				rc = tf_batch__decode(&bb, k, o.d, o.n, &err_at);
				if (is_ts(fd)) {
					/* the ts column sets n: others then mismatch, unless
					 * every other column of the group is absent */
					struct tf_batch e;
					bool ok = oracle(k, m, &e);

					if (ok) {
						REQ(rc == 0, "%s: %d", ctx, rc);
						REQ(bb.b.n[group_of(k, fd)] == want, "%s", ctx);
						batch_free(&e);
					} else {
						REQ(rc == -GS_E_FORMAT && err_at == o.n,
						    "%s: rc %d at %zu", ctx, rc, err_at);
					}
				} else if (want == 0) {
					REQ(rc == 0, "%s: an absent column is fine: %d", ctx, rc);
				} else {
					REQ(rc == -GS_E_FORMAT, "%s: rc %d", ctx, rc);
					REQ(err_at == o.n, "%s: err_at %zu want %zu", ctx, err_at,
					    o.n);
					cases++;
				}
				cr_assert_eq(check_bytes(&bb, k, o.d, o.n, ctx), rc);
				msg_free(m);
			}
		}
	}
	cr_assert_eq(cases, 4 * (5 + 9 + 10 + 7), "non-ts mismatches tried");
	/* a column with values while its group has no timestamps */
	{
		static const uint8_t b[] = { 0x10, 0x01, 0x22, 0x02, 0x07, 0x08 };

		size_t err_at = 0;

		cr_assert_eq(tf_batch__decode(&bb, TF_PKT_CPU_SAMPLES, b, sizeof(b),
					      &err_at), -GS_E_FORMAT);
		cr_assert_eq(err_at, sizeof(b));
	}
	tf_batch_buf__release(&bb);
	free(o.d);
}

Test(batch, event_limit)
{
	struct tf_batch_buf bb = { 0 };
	struct obuf o = { 0 };
	size_t n = TF_MAX_BATCH_EVENTS, err_at = 1;

	/* exactly the limit: fine */
	ob_tag(&o, TF_CPU_TS, 2);
	ob_varint(&o, n);
	ob_reserve(&o, n + 1);
	memset(o.d + o.n, 0, n);
	o.n += n;
	cr_assert_eq(tf_batch__decode(&bb, TF_PKT_CPU_SAMPLES, o.d, o.n, &err_at), 0);
	cr_assert_eq(bb.b.n[0], n);
	/* one more unpacked element: over */
	ob_tag(&o, TF_CPU_TS, 0);
	ob_varint(&o, 2);
	cr_assert_eq(tf_batch__decode(&bb, TF_PKT_CPU_SAMPLES, o.d, o.n, &err_at),
		     -GS_E_LIMIT);
	cr_assert_eq(err_at, o.n - 2);
	/* one packed run over the limit */
	o.n = 0;
	ob_tag(&o, TF_CPU_TS, 2);
	ob_varint(&o, n + 1);
	ob_reserve(&o, n + 1);
	memset(o.d + o.n, 0, n + 1);
	o.n += n + 1;
	cr_assert_eq(tf_batch__decode(&bb, TF_PKT_CPU_SAMPLES, o.d, o.n, &err_at),
		     -GS_E_LIMIT);
	cr_assert_eq(err_at, 0);
	tf_batch_buf__release(&bb);
	free(o.d);
}

/* Offsets where the fields of a well-formed message end (0 included). */
static size_t field_ends(const uint8_t *p, size_t len, size_t *ends)
{
	const uint8_t *s = p, *end = p + len;
	size_t n = 0;

	ends[n++] = 0;
	while (p < end) {
		uint64_t tag = 0, v = 0;

		p = gs_varint_get(p, end, &tag);
		cr_assert_not_null(p);
		switch (tag & 7) {
		case 0: p = gs_varint_get(p, end, &v); break;
		case 1: p += 8; break;
		case 5: p += 4; break;
		case 2:
			p = gs_varint_get(p, end, &v);
			p += v;
			break;
		default: cr_assert_fail("bad wire type");
		}
		cr_assert(p && p <= end);
		ends[n++] = (size_t)(p - s);
	}
	return n;
}

/* (f) every prefix: an error at the last complete field, or the oracle. */
Test(batch, truncated_at_every_prefix)
{
	static const struct craft modes[] = {
		{ 0 },
		{ .unpacked = true, .shuffle = true },
		{ .mixed = true, .unknown = true, .shuffle = true, .decoys = true },
	};
	struct rng r = { 6 };
	struct tf_batch_buf bb = { 0 };
	struct obuf o = { 0 };
	size_t *ends = malloc(100000 * sizeof(size_t));
	uint64_t ok = 0, fail_mid = 0, fail_cols = 0;

	for (size_t ki = 0; ki < 4; ki++) {
		enum tf_packet_kind k = kinds[ki];

		for (size_t mi = 0; mi < 3; mi++) {
			for (int it = 0; it < 12; it++) {
				size_t n0 = 1 + below(&r, 12), n1 = k == TF_PKT_SCHED ?
					    below(&r, 6) : 0, nends, e = 0;
				ProtobufCMessage *m = random_msg(k, &r, n0, n1);

				if (mi == 0) {
					/* canonical, from the hand encoder */
					struct tf_batch b;
					struct gs_buf out = GS_BUF_INIT;

					cr_assert(oracle(k, m, &b));
					cr_assert_eq(tf_batch__encode(&b, &out), 0);
					o.n = 0;
					ob_bytes(&o, out.data, out.len);
					gs_buf__release(&out);
					batch_free(&b);
				} else {
					craft_bytes(k, m, &modes[mi], &r, &o);
				}
				nends = field_ends(o.d, o.n, ends);
				for (size_t len = 0; len <= o.n; len++) {
					uint8_t *copy = dup_exact(o.d, len);
					size_t err_at = SIZE_MAX;
					char ctx[96];
					int rc;

					while (e + 1 < nends && ends[e + 1] <= len)
						e++;
					snprintf(ctx, sizeof(ctx), "kind %d mode %zu iter %d prefix %zu/%zu",
						 k, mi, it, len, o.n);
					rc = tf_batch__decode(&bb, k, copy, len, &err_at);
					if (ends[e] != len) {
						/* inside a field: must fail at its start */
						REQ(rc == -GS_E_FORMAT && err_at == ends[e],
						    "%s: rc %d err_at %zu want %zu", ctx, rc,
						    err_at, ends[e]);
						fail_mid++;
					} else if (rc) {
						fail_cols++;
					} else {
						ok++;
					}
					/* and whatever happened, it is what the oracle says */
					REQ(check_bytes(&bb, k, copy, len, ctx) == rc, "%s", ctx);
					free(copy);
				}
				msg_free(m);
			}
		}
	}
	cr_assert_gt(ok, 100);
	cr_assert_gt(fail_mid, 1000);
	cr_assert_gt(fail_cols, 100);
	tf_batch_buf__release(&bb);
	free(ends);
	free(o.d);
}

/*
 * The writers' streaming encoder writes, value by value, the bytes
 * tf_batch__encode() writes for the whole batch (base_ts being the first
 * event's time, as writers set it); the batch is empty afterwards and the
 * next one reuses the buffers.
 */
Test(batch, streaming_encoder_matches_batch_encoder)
{
	struct rng r = { 7 };
	size_t compared = 0, two_groups = 0;

	for (size_t ki = 0; ki < 4; ki++) {
		enum tf_packet_kind k = kinds[ki];
		struct tf_batch_enc e;

		tf_batch_enc__init(&e, k, -1);
		for (int it = 0; it < 300; it++) {
			struct gs_buf want = GS_BUF_INIT;
			uint8_t *got, *end;
			struct tf_batch b;
			size_t size;

			random_batch(k, &r, &b);
			if (!b.n[0] && !b.n[1]) {
				batch_free(&b);
				continue;
			}
			/* group 0 first, then group 1: base_ts is the first event's */
			b.base_ts = b.n[0] ? b.col[tf_batch_ts_field(k, 0)][0]
					   : b.col[tf_batch_ts_field(k, 1)][0];
			cr_assert_eq(tf_batch__encode(&b, &want), 0);
			e.key = b.key;
			e.lost_events = b.lost_events;
			e.period = b.period;
			e.sample_interval = b.sample_interval;
			for (int g = 0; g < 2; g++) {
				for (size_t j = 0; j < b.n[g]; j++) {
					unsigned int tsf = tf_batch_ts_field(k, g);

					cr_assert_eq(tf_batch_enc__event(&e, g, b.col[tsf][j],
									 TF_MAX_BATCH_EVENTS), 0);
					for (unsigned int f = 1; f < TF_BATCH_MAX_FIELDS; f++)
						if (tf_batch_field_group(k, f) == g)
							tf_batch_enc__put(&e, f, b.col[f][j]);
				}
			}
			two_groups += b.n[0] && b.n[1];
			size = tf_batch_enc__size(&e);
			cr_assert_eq(size, want.len, "kind %d iter %d: size %zu, want %zu",
				     k, it, size, want.len);
			got = malloc(size + 1);
			cr_assert_not_null(got);
			end = tf_batch_enc__finish(&e, got);
			cr_assert_eq((size_t)(end - got), want.len);
			cr_assert_arr_eq(got, want.data, want.len, "kind %d iter %d differs",
					 k, it);
			cr_assert_eq(e.n[0] + e.n[1], 0);
			compared++;
			free(got);
			gs_buf__release(&want);
			batch_free(&b);
		}
		tf_batch_enc__release(&e);
	}
	cr_assert_gt(compared, 1000);
	cr_assert_gt(two_groups, 50);
}

/*
 * Pack a GoEventBatch and decode it by hand: the error, batch in *bb.  The
 * cursor must agree: the same events, or an error at init, in an event or
 * at the end.
 */
static int sparse_decode(Gscope__V1__GoEventBatch *m, struct tf_batch_buf *bb)
{
	size_t len = gscope__v1__go_event_batch__get_packed_size(m), err_at = 0, i = 0;
	uint8_t *buf = malloc(len + 1);
	uint32_t want = ~bb->skip[TF_PKT_GO_EVENTS];
	struct tf_go_cursor c;
	struct tf_go_event e;
	int err, cerr;

	cr_assert_not_null(buf);
	gscope__v1__go_event_batch__pack(m, buf);
	err = tf_batch__decode(bb, TF_PKT_GO_EVENTS, buf, len, &err_at);
	cerr = tf_go_cursor__init(&c, buf, len, want, &err_at);
	while (!cerr && (cerr = tf_go_cursor__next(&c, &e)) > 0) {
		if (err) { /* the cursor finds the fault when it gets there */
			cerr = 0;
			continue;
		}
		cr_assert_lt(i, bb->b.n[0]);
		cr_assert_eq(e.ts, bb->b.col[TF_GO_TS][i]);
		cr_assert_eq(e.kind, bb->b.col[TF_GO_KIND][i]);
		cr_assert_eq(e.goid, bb->b.col[TF_GO_GOID][i]);
		if (want >> TF_GO_STACK & 1)
			cr_assert_eq(e.stack_id, bb->b.col[TF_GO_STACK][i]);
		cr_assert_eq(e.m, bb->b.col[TF_GO_M][i]);
		cr_assert_eq(e.p, (int32_t)bb->b.col[TF_GO_P][i]);
		cr_assert_eq(e.from_state, bb->b.col[TF_GO_FROM][i]);
		cr_assert_eq(e.arg, bb->b.col[TF_GO_ARG][i]);
		i++;
		cerr = 0;
	}
	if (cerr < 0)
		cr_assert(c.bad == NULL || (c.bad >= buf && c.bad <= buf + len));
	cr_assert_eq(cerr, err, "cursor %d, decoder %d", cerr, err);
	read_agrees(buf, len, NULL, want, "sparse");
	free(buf);
	return err;
}

/*
 * The sparse layout as gscope.proto states it, built with protobuf-c:
 * defaults, carried p and m, and every way the flags and the column
 * lengths can disagree.
 */
Test(batch, go_sparse_layout_exact)
{
	Gscope__V1__GoEventBatch m = GSCOPE__V1__GO_EVENT_BATCH__INIT;
	int64_t ts[4] = { 0, 10, 5, 7 };
	uint64_t goid[4] = { 1, 2, 3, 4 };
	uint32_t kf[4] = {
		2,                                   /* START, all defaults */
		4 | TF_GOF_STACK | TF_GOF_REASON | TF_GOF_P,
		9 | TF_GOF_TRANS | TF_GOF_M | TF_GOF_ARG,
		5 | TF_GOF_STACK | TF_GOF_ARG2,
	};
	uint64_t stack[2] = { 11, 12 }, reason[1] = { 7 }, mm[1] = { 42 };
	uint64_t arg[1] = { 99 }, arg2[1] = { 5 };
	int32_t p[1] = { -1 };
	uint32_t from[1] = { 0 }, to[1] = { 4 }, kind[4] = { 1, 1, 1, 1 };
	struct tf_batch_buf bb = { 0 };
	const struct tf_batch *b = &bb.b;
	static const uint64_t want_kind[4] = { 2, 4, 9, 5 },
		want_from[4] = { 1, 2, 0, 4 }, want_to[4] = { 2, 4, 4, 1 },
		want_stack[4] = { 0, 11, 0, 12 }, want_reason[4] = { 0, 7, 0, 0 },
		want_m[4] = { 0, 0, 42, 42 }, want_arg[4] = { 0, 0, 99, 0 },
		want_arg2[4] = { 0, 0, 0, 5 }, want_ts[4] = { 100, 110, 115, 122 };
	static const int64_t want_p[4] = { 0, -1, -1, -1 };

	m.has_pid = m.has_base_ts = 1;
	m.pid = 3;
	m.base_ts = 100;
	m.n_ts_delta = m.n_goid = m.n_kind_flags = 4;
	m.ts_delta = ts;
	m.goid = goid;
	m.kind_flags = kf;
	m.n_stack_id = 2, m.stack_id = stack;
	m.n_reason_sid = 1, m.reason_sid = reason;
	m.n_p = 1, m.p = p;
	m.n_m = 1, m.m = mm;
	m.n_from_state = m.n_to_state = 1, m.from_state = from, m.to_state = to;
	m.n_arg = 1, m.arg = arg;
	m.n_arg2 = 1, m.arg2 = arg2;
	cr_assert_eq(sparse_decode(&m, &bb), 0);
	cr_assert_eq(b->n[0], 4);
	cr_assert_eq(b->key, 3);
	for (int i = 0; i < 4; i++) {
		cr_assert_eq(b->col[TF_GO_TS][i], want_ts[i], "event %d", i);
		cr_assert_eq(b->col[TF_GO_KIND][i], want_kind[i], "event %d", i);
		cr_assert_eq(b->col[TF_GO_GOID][i], goid[i], "event %d", i);
		cr_assert_eq(b->col[TF_GO_FROM][i], want_from[i], "event %d", i);
		cr_assert_eq(b->col[TF_GO_TO][i], want_to[i], "event %d", i);
		cr_assert_eq(b->col[TF_GO_STACK][i], want_stack[i], "event %d", i);
		cr_assert_eq(b->col[TF_GO_REASON][i], want_reason[i], "event %d", i);
		cr_assert_eq((int64_t)b->col[TF_GO_P][i], want_p[i], "event %d", i);
		cr_assert_eq(b->col[TF_GO_M][i], want_m[i], "event %d", i);
		cr_assert_eq(b->col[TF_GO_ARG][i], want_arg[i], "event %d", i);
		cr_assert_eq(b->col[TF_GO_ARG2][i], want_arg2[i], "event %d", i);
	}
	cr_assert(b->present[TF_GO_KIND] && b->present[TF_GO_STACK]);
	cr_assert(!b->present[TF_GO_KIND_FLAGS]);

	/* one stack value short, one too many */
	m.n_stack_id = 1;
	cr_assert_eq(sparse_decode(&m, &bb), -GS_E_FORMAT);
	kf[0] |= TF_GOF_STACK;
	m.n_stack_id = 2;
	cr_assert_eq(sparse_decode(&m, &bb), -GS_E_FORMAT);
	kf[0] &= ~(uint32_t)TF_GOF_STACK;
	/* a transition flag with one of its two columns missing */
	m.n_to_state = 0;
	cr_assert_eq(sparse_decode(&m, &bb), -GS_E_FORMAT);
	m.n_to_state = 1;
	/* an unknown flag */
	kf[1] |= 1u << 13;
	cr_assert_eq(sparse_decode(&m, &bb), -GS_E_FORMAT);
	kf[1] &= ~(1u << 13);
	/* kind and kind_flags together */
	m.n_kind = 4, m.kind = kind;
	cr_assert_eq(sparse_decode(&m, &bb), -GS_E_FORMAT);
	m.n_kind = 0;
	/* kind_flags for fewer events than ts */
	m.n_kind_flags = 3;
	cr_assert_eq(sparse_decode(&m, &bb), -GS_E_FORMAT);
	m.n_kind_flags = 4;
	/* a skipped column is not checked; the others still are */
	bb.skip[TF_PKT_GO_EVENTS] = 1u << TF_GO_STACK;
	m.n_stack_id = 1;
	cr_assert_eq(sparse_decode(&m, &bb), 0);
	cr_assert_eq(b->col[TF_GO_ARG][2], 99);
	m.n_arg = 0;
	cr_assert_eq(sparse_decode(&m, &bb), -GS_E_FORMAT);
	tf_batch_buf__release(&bb);
}

/*
 * tick_delta with a clock (gscope.proto): ts = (int64)(t * tick_ns) from
 * base_tick, in either layout, by the decoder and the cursor alike
 * (sparse_decode() compares them); truncated, clamped at both ends of
 * int64; and every way the clock fields can be wrong.
 */
Test(batch, go_ticks_exact)
{
	Gscope__V1__GoEventBatch m = GSCOPE__V1__GO_EVENT_BATCH__INIT;
	int64_t ticks[5] = { 0, 3, 1, -16, 0 }, ts[5] = { 0, 1, 1, 1, 1 };
	uint64_t goid[5] = { 1, 2, 3, 4, 5 };
	uint32_t kf[5] = { 2, 2, 2, 2, 2 }, kind[5] = { 2, 2, 2, 2, 2 };
	struct tf_batch_buf bb = { 0 };
	const struct tf_batch *b = &bb.b;
	/* base_tick 10 at 2.5 ns: ticks 10, 13, 14, -2, -2 */
	static const int64_t want[5] = { 25, 32, 35, -5, -5 };
	size_t len, err_at;
	uint8_t buf[256];

	m.has_pid = m.has_base_ts = m.has_tick_ns = m.has_base_tick = 1;
	m.pid = 3;
	m.base_ts = 25;
	m.tick_ns = 2.5;
	m.base_tick = 10;
	m.n_tick_delta = m.n_goid = m.n_kind_flags = 5;
	m.tick_delta = ticks;
	m.goid = goid;
	m.kind_flags = kf;
	for (int layout = 0; layout < 2; layout++) {
		cr_assert_eq(sparse_decode(&m, &bb), 0, "layout %d", layout);
		cr_assert_eq(b->n[0], 5);
		for (int i = 0; i < 5; i++)
			cr_assert_eq((int64_t)b->col[TF_GO_TS][i], want[i],
				     "layout %d event %d: %lld", layout, i,
				     (long long)b->col[TF_GO_TS][i]);
		/* the dense layout the same */
		m.n_kind_flags = 0;
		m.n_kind = 5, m.kind = kind;
	}
	m.n_kind = 0;
	m.n_kind_flags = 5;

	/* far ticks clamp to the int64 range */
	m.base_tick = INT64_MAX / 2;
	cr_assert_eq(sparse_decode(&m, &bb), 0);
	cr_assert_eq(b->col[TF_GO_TS][0], (uint64_t)INT64_MAX);
	m.base_tick = INT64_MIN / 2;
	cr_assert_eq(sparse_decode(&m, &bb), 0);
	cr_assert_eq(b->col[TF_GO_TS][0], (uint64_t)INT64_MIN);
	m.base_tick = 10;
	/* an odd clock: 24.666... ns, truncated */
	m.tick_ns = 74.0 / 3;
	cr_assert_eq(sparse_decode(&m, &bb), 0);
	cr_assert_eq(b->col[TF_GO_TS][0], 246);
	cr_assert_eq(b->col[TF_GO_TS][1], 320);
	m.tick_ns = 2.5;

	/* a clock without ticks: ts_delta in ns, as before */
	m.n_tick_delta = 0;
	m.n_ts_delta = 5, m.ts_delta = ts;
	cr_assert_eq(sparse_decode(&m, &bb), 0);
	cr_assert_eq(b->col[TF_GO_TS][4], 29);
	/* ticks and ts_delta both */
	m.n_tick_delta = 5;
	cr_assert_eq(sparse_decode(&m, &bb), -GS_E_FORMAT);
	m.n_ts_delta = 0;
	/* ticks without a clock, or with a zero one */
	m.has_tick_ns = 0;
	cr_assert_eq(sparse_decode(&m, &bb), -GS_E_FORMAT);
	m.has_tick_ns = 1;
	m.tick_ns = 0;
	cr_assert_eq(sparse_decode(&m, &bb), -GS_E_FORMAT);
	/* bad clocks fail at the tick_ns field, in the decoder and the cursor */
	static const double bad[] = { -1, 1.0 / 0.0, -1.0 / 0.0, 0.0 / 0.0 };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct tf_go_cursor c;
		size_t at;

		m.tick_ns = bad[i];
		len = gscope__v1__go_event_batch__get_packed_size(&m);
		cr_assert_lt(len, sizeof(buf));
		gscope__v1__go_event_batch__pack(&m, buf);
		err_at = SIZE_MAX;
		cr_assert_eq(tf_batch__decode(&bb, TF_PKT_GO_EVENTS, buf, len, &err_at),
			     -GS_E_FORMAT, "clock %g", bad[i]);
		cr_assert_lt(err_at, len);
		cr_assert_eq(buf[err_at], TF_GO_TICK_NS << 3 | 1, "clock %g at %zu", bad[i],
			     err_at);
		at = SIZE_MAX;
		cr_assert_eq(tf_go_cursor__init(&c, buf, len, UINT32_MAX, &at), -GS_E_FORMAT);
		cr_assert_eq(at, err_at, "clock %g", bad[i]);
	}
	tf_batch_buf__release(&bb);
}

/*
 * The block reader gives what the one-by-one reader gives, on random
 * sparse batches: time deltas of one, two and three bytes (positive and
 * negative), kind_flags of one and two bytes, clocks in ns and in ticks
 * (one far enough to clamp), batches shorter than a block; and where a
 * value is malformed, the same error at the same byte.
 */
Test(batch, go_sparse_block_agrees)
{
	/* largest time delta (zigzag) per case: 1 byte, 2, mixed with 3 */
	static const uint64_t dmax[] = { 0x7f, 0x3fff, 0x1fffff };
	static const double clocks[] = { 0, 2.5, 74.0 / 3, 1e15 };
	enum { N = 700 };
	struct tf_go_event *a = calloc(N, sizeof(*a)), *b = calloc(N, sizeof(*b));
	int64_t *ts = calloc(N, sizeof(*ts));
	uint64_t *goid = calloc(N, sizeof(*goid)), *stack = calloc(N, sizeof(*stack));
	uint64_t *reason = calloc(N, sizeof(*reason));
	uint32_t *kf = calloc(N, sizeof(*kf));
	size_t blocks = 0, fallbacks = 0, errors = 0;
	struct rng r = { 7 };

	cr_assert(a && b && ts && goid && stack && reason && kf);
	for (int iter = 0; iter < 240; iter++) {
		Gscope__V1__GoEventBatch m = GSCOPE__V1__GO_EVENT_BATCH__INIT;
		size_t n = iter % 8 == 0 ? rnd(&r) % 40 + 1 : rnd(&r) % (N - 32) + 32;
		uint64_t dm = dmax[iter % 3];
		double clk = clocks[(iter / 3) % 4];
		size_t ns = 0, nr = 0, len, before;
		const uint8_t *bad_a = NULL, *bad_b = NULL;
		long na, nb;
		uint8_t *buf;

		for (size_t i = 0; i < n; i++) {
			/* mostly 1 byte, some 2; 3 only in the third case, rarely */
			uint64_t z = rnd(&r) % 4 ? rnd(&r) % 0x80 : rnd(&r) % 0x4000;

			if (dm > 0x3fff && rnd(&r) % 200 == 0)
				z = rnd(&r) % dm;
			ts[i] = gs_zigzag_dec(z & dm);
			goid[i] = rnd(&r) % 3 ? rnd(&r) % 100 : rnd(&r) % 100000;
			kf[i] = (uint32_t)(rnd(&r) % 64);
			if (rnd(&r) % 3 == 0) {
				kf[i] |= TF_GOF_STACK;
				stack[ns++] = rnd(&r) % 1000 + 1;
			}
			if (rnd(&r) % 4 == 0) { /* two bytes of kind_flags */
				kf[i] |= TF_GOF_REASON;
				reason[nr++] = rnd(&r) % 50 + 1;
			}
		}
		if (iter % 10 == 9) /* a kind_flags value past TF_GOF_ALL (2 bytes) */
			kf[rnd(&r) % n] = TF_GOF_ALL + 1 + (uint32_t)(rnd(&r) % 100);
		m.has_pid = m.has_base_ts = 1;
		m.pid = 1;
		m.base_ts = 1000;
		if (clk != 0) {
			m.has_tick_ns = m.has_base_tick = 1;
			m.tick_ns = clk;
			m.base_tick = 1000;
			m.n_tick_delta = n, m.tick_delta = ts;
		} else {
			m.n_ts_delta = n, m.ts_delta = ts;
		}
		m.n_goid = n, m.goid = goid;
		m.n_kind_flags = n, m.kind_flags = kf;
		m.n_stack_id = ns, m.stack_id = stack;
		m.n_reason_sid = nr, m.reason_sid = reason;
		len = gscope__v1__go_event_batch__get_packed_size(&m);
		buf = malloc(len);
		cr_assert_not_null(buf);
		gscope__v1__go_event_batch__pack(&m, buf);

		na = gocursor_sparse_read(buf, len, UINT32_MAX, false, a, N, &bad_a, &blocks);
		before = blocks;
		nb = gocursor_sparse_read(buf, len, UINT32_MAX, true, b, N, &bad_b, &blocks);
		cr_assert(na >= 0 || na == -1, "iter %d: %ld", iter, na);
		cr_assert_eq(na, nb, "iter %d: %ld events one by one, %ld by blocks", iter, na, nb);
		if (na < 0) {
			cr_assert_eq(bad_a, bad_b, "iter %d: bad at %td and %td", iter, bad_a - buf,
				     bad_b - buf);
			errors++;
		}
		for (long i = 0; i < na; i++)
			cr_assert(!memcmp(&a[i], &b[i], sizeof(a[i])),
				  "iter %d event %ld: ts %llu/%llu kind %u/%u goid %llu/%llu",
				  iter, i, (unsigned long long)a[i].ts, (unsigned long long)b[i].ts,
				  a[i].kind, b[i].kind, (unsigned long long)a[i].goid,
				  (unsigned long long)b[i].goid);
		if (na >= 0 && (size_t)na >= TF_GO_SPARSE_BLOCK + 10 && blocks == before)
			fallbacks++;
		free(buf);
	}
	if (tf_go_sparse__have_block()) {
		cr_assert_gt(blocks, 300, "%zu blocks read at once", blocks);
		cr_assert_gt(fallbacks, 5, "%zu batches read one by one", fallbacks);
		fprintf(stderr, "batch::go_sparse_block_agrees: %zu blocks, %zu batches without "
				"one, %zu malformed\n", blocks, fallbacks, errors);
	} else {
		fprintf(stderr, "batch::go_sparse_block_agrees: no AVX-512 VBMI2 here, "
				"only the one-by-one reader checked\n");
	}
	cr_assert_gt(errors, 10);
	free(a), free(b), free(ts), free(goid), free(stack), free(reason), free(kf);
}
