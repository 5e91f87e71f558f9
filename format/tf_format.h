/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The .gst container: constants, limits, and the decoded forms of packets
 * shared by tf_writer and tf_reader.
 *
 * File   = Preamble Chunk(HEADER) Chunk(DATA|ATTACHMENT)* [Chunk(INDEX) Footer]
 *
 * Preamble (16 B): "\x89GST\r\n\x1a\n", u16 major, u16 minor, u32 reserved.
 *
 * Chunk header (32 B, little-endian, every chunk starts 8-byte aligned):
 *    0 u32 sync "GSCK"     4 u8 type      5 u8 codec     6 u16 flags
 *    8 u32 stored_len     12 u32 raw_len 16 u32 seq     20 u32 generation
 *   24 u32 payload_crc32c 28 u32 header_crc32c (over bytes 0..27)
 * then stored_len payload bytes and zero padding to 8 bytes.
 *
 * Payloads (format/gscope.proto): HEADER = TraceHeader, DATA = ChunkBody
 * (a run of 0x0A <len> Packet records), INDEX = TraceIndex, ATTACHMENT =
 * Attachment.
 *
 * Footer (32 B): u64 index_offset, u64 index_len (bytes of the whole INDEX
 * chunk, header and padding included), u32 index payload crc32c,
 * u32 reserved, "GSTEND\0\0".  Written on clean close only.
 */
#ifndef TF_FORMAT_H
#define TF_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "format/gscope.pb-c.h"

#define TF_MAGIC "\x89GST\r\n\x1a\n"
#define TF_MAGIC_LEN 8
#define TF_FOOTER_MAGIC "GSTEND\0\0"
#define TF_FORMAT_MAJOR 1
#define TF_FORMAT_MINOR 1 /* 1.1: GoEventBatch tick_delta */
#define TF_PREAMBLE_SIZE 16
#define TF_CHUNK_HDR_SIZE 32
#define TF_FOOTER_SIZE 32
#define TF_SYNC 0x4b435347u /* "GSCK" read as little-endian u32 */

/*
 * Fuzz builds ignore CRC mismatches so that mutated inputs reach the
 * parsers behind the checksums (the libFuzzer convention).
 */
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#define TF_FUZZING 1
#else
#define TF_FUZZING 0
#endif

/* Limits on sizes read from input. */
#define TF_MAX_CHUNK_BYTES (64u << 20)   /* stored and raw payload */
#define TF_MAX_PACKET_BYTES (64u << 20)
#define TF_MAX_BATCH_EVENTS (1u << 20)   /* events in one batch packet */
#define TF_MAX_INTERN_IDS (1u << 24)     /* ids per table per generation */
#define TF_MAX_STACK_DEPTH 1024

enum tf_chunk_type {
	TF_CHUNK_HEADER = 1,
	TF_CHUNK_DATA = 2,
	TF_CHUNK_INDEX = 3,
	TF_CHUNK_ATTACHMENT = 4,
};

enum tf_codec {
	TF_CODEC_NONE = 0,
	TF_CODEC_ZSTD = 1,
	TF_CODEC_LZ4 = 2,  /* LZ4 block format, one block per payload */
};

enum tf_chunk_flags {
	TF_CHUNK_GEN_START = 1 << 0, /* interning tables restart here */
};

/* Packet kinds: the field numbers of Packet's oneof. */
enum tf_packet_kind {
	TF_PKT_NONE = 0,
	TF_PKT_CPU_SAMPLES = 1,
	TF_PKT_SCHED = 2,
	TF_PKT_GO_EVENTS = 3,
	TF_PKT_ALLOCS = 4,
	TF_PKT_INTERN = 5,
	TF_PKT_PROCESS = 6,
	TF_PKT_THREAD = 7,
	TF_PKT_CLOCK_SNAPSHOT = 8,
	TF_PKT_GC_CYCLE = 9,
	TF_PKT_LOSS = 10,
	TF_PKT_SYMBOLS = 11,
	TF_PKT_SCHED_TRACE = 12,
	TF_PKT_MAX = 13, /* kinds >= this are unknown to this reader */
};

/* Name of a packet kind ("sched", "cpu_samples", ...); "unknown" else. */
const char *tf_packet_kind_name(enum tf_packet_kind kind);

/* True for the columnar batch kinds (decoded by hand into tf_batch). */
static inline bool tf_packet_kind_is_batch(enum tf_packet_kind k)
{
	return k >= TF_PKT_CPU_SAMPLES && k <= TF_PKT_ALLOCS;
}

/*
 * A decoded columnar batch.  col[f] holds the values of field number f as
 * 64-bit words (signed fields sign-extended; cast to int64_t), one per
 * event of the field's group; timestamp columns hold absolute timestamps.
 * Columns absent from the packet are filled with their default (0, or
 * period for CPU-sample weights), so every column of a group has n[group]
 * values.  Group 0 is the family's events; SchedBatch has group 1 for
 * wakeups.
 */
#define TF_BATCH_MAX_FIELDS 19

struct tf_batch {
	enum tf_packet_kind kind;
	size_t n[2];         /* events per group */
	int64_t key;         /* cpu (cpu/sched) or pid (go/alloc); -1 if unset */
	uint64_t base_ts;
	uint64_t lost_events;
	uint64_t period;     /* CpuSampleBatch.period */
	uint64_t sample_interval; /* AllocBatch.sample_interval_bytes */
	uint64_t *col[TF_BATCH_MAX_FIELDS];
	bool present[TF_BATCH_MAX_FIELDS]; /* column was in the packet */
};

/* Field numbers of the columns, per family (see gscope.proto). */
enum {
	TF_CPU_TS = 3, TF_CPU_TID = 4, TF_CPU_STACK = 5, TF_CPU_WEIGHT = 6,
	TF_CPU_CPU = 7, TF_CPU_GOID = 9,
};
enum {
	TF_SW_TS = 3, TF_SW_PREV_TID = 4, TF_SW_PREV_STATE = 5,
	TF_SW_NEXT_TID = 6, TF_SW_NEXT_PRIO = 7, TF_SW_PREV_STACK = 8,
	TF_WK_TS = 9, TF_WK_TID = 10, TF_WK_TARGET_CPU = 11,
	TF_WK_WAKER_TID = 12, TF_WK_FLAGS = 13,
};
enum {
	TF_GO_TS = 3, TF_GO_KIND = 4, TF_GO_GOID = 5, TF_GO_FROM = 6,
	TF_GO_TO = 7, TF_GO_REASON = 8, TF_GO_P = 9, TF_GO_M = 10,
	TF_GO_STACK = 11, TF_GO_ARG = 12, TF_GO_ARG2 = 14, TF_GO_KIND_FLAGS = 15,
	TF_GO_TICK_NS = 16, TF_GO_BASE_TICK = 17, /* time in ticks: the clock */
	TF_GO_TICK = 18,    /* ... and the ticks, read as TF_GO_TS (ns) */
};

/*
 * Nanoseconds at tick t of a clock of tick_ns ns per tick (GoEventBatch
 * with tick_ns, gscope.proto): the product in double, truncated, clamped
 * to the int64 range.  The Go 1.11-1.21 decoder converts its times with
 * this too, so that a reader gets back exactly the decoder's nanoseconds.
 */
static inline uint64_t tf_tick_ns(int64_t t, double tick_ns)
{
	double v = (double)t * tick_ns;
#ifdef __SSE2__
	/* the instruction gives INT64_MIN for what is out of range (or NaN) */
	int64_t r = _mm_cvttsd_si64(_mm_set_sd(v));

	if (__builtin_expect(r != INT64_MIN, 1))
		return (uint64_t)r;
#else
	if (v >= -9223372036854775808.0 && v < 9223372036854775808.0)
		return (uint64_t)(int64_t)v;
#endif
	return v >= 9223372036854775808.0 ? (uint64_t)INT64_MAX : (uint64_t)INT64_MIN;
}

/* The ns of time t counted in ticks of tick_ns ns, or in ns when tick_ns is 0. */
static inline uint64_t tf_go_ts(uint64_t t, double tick_ns)
{
	return tick_ns ? tf_tick_ns((int64_t)t, tick_ns) : t;
}

/* GoEventBatch sparse layout: kind_flags = kind | TF_GOF_* (gscope.proto) */
enum {
	TF_GOF_KIND_MASK = 0x3f,
	TF_GOF_STACK = 1u << 6,
	TF_GOF_REASON = 1u << 7,
	TF_GOF_P = 1u << 8,
	TF_GOF_M = 1u << 9,
	TF_GOF_TRANS = 1u << 10,
	TF_GOF_ARG = 1u << 11,
	TF_GOF_ARG2 = 1u << 12,
	TF_GOF_ALL = (1u << 13) - 1,
};

/*
 * The usual transition of a Go event kind (the sparse layout's default):
 * from << 4 | to, in Gscope__V1__GoState values (1 runnable, 2 running,
 * 3 syscall, 4 waiting, 5 dead); 0 for the other kinds.
 */
#define TF_GO_DEFAULT_TRANS_(X)                                        \
	X(1, 5, 1)  /* CREATE: dead -> runnable */                    \
	X(2, 1, 2)  /* START: runnable -> running */                  \
	X(3, 2, 1)  /* STOP: running -> runnable */                   \
	X(4, 2, 4)  /* BLOCK: running -> waiting */                   \
	X(5, 4, 1)  /* UNBLOCK: waiting -> runnable */                \
	X(6, 2, 3)  /* SYSCALL_BEGIN: running -> syscall */           \
	X(7, 3, 1)  /* SYSCALL_END: syscall -> runnable */            \
	X(8, 2, 5)  /* DESTROY: running -> dead */                    \
	X(20, 2, 3) /* SYSCALL_BLOCK: running -> syscall */

static inline uint8_t tf_go_default_trans(uint32_t kind)
{
#define X(k, from, to) [k] = (from) << 4 | (to),
	static const uint8_t t[TF_GOF_KIND_MASK + 1] = { TF_GO_DEFAULT_TRANS_(X) };
#undef X

	return t[kind & TF_GOF_KIND_MASK];
}

/* The same as to << 32 | from, for one comparison of both. */
static inline uint64_t tf_go_default_ft(uint32_t kind)
{
#define X(k, from, to) [k] = (uint64_t)(to) << 32 | (from),
	static const uint64_t t[TF_GOF_KIND_MASK + 1] = { TF_GO_DEFAULT_TRANS_(X) };
#undef X

	return t[kind & TF_GOF_KIND_MASK];
}
enum {
	TF_AL_TS = 3, TF_AL_TID = 4, TF_AL_SIZE = 5, TF_AL_TYPE = 6,
	TF_AL_STACK = 7, TF_AL_KIND = 8, TF_AL_ADDR = 9, TF_AL_GOID = 11,
};

/* Events as the writer takes them. */
struct tf_sched_switch {
	uint64_t ts;
	int32_t cpu;
	uint32_t prev_tid;
	int64_t prev_state;
	uint32_t next_tid;
	int32_t next_prio;
	uint64_t prev_stack_id;
};

struct tf_sched_wakeup {
	uint64_t ts;
	int32_t cpu;        /* CPU the wakeup was recorded on */
	uint32_t tid;
	int32_t target_cpu;
	uint32_t waker_tid;
	uint32_t flags;
};

struct tf_cpu_sample {
	uint64_t ts;
	int32_t cpu;
	uint32_t tid;
	uint64_t stack_id;
	uint64_t weight;   /* ns or event count */
	uint64_t goid;
};

struct tf_go_event {
	uint64_t ts;
	uint32_t pid;
	uint32_t kind;      /* Gscope__V1__GoEventKind */
	uint64_t goid;
	uint32_t from_state, to_state; /* Gscope__V1__GoState */
	uint64_t reason_sid;
	int32_t p;          /* -1: no P */
	uint64_t m;
	uint64_t stack_id;
	uint64_t arg, arg2;
	/*
	 * The source clock's time when the writer has a clock for pid
	 * (tf_writer__go_clock()): ts == tf_tick_ns(tick, its tick_ns).
	 * Readers give 0.
	 */
	int64_t tick;
};

struct tf_alloc {
	uint64_t ts;
	uint32_t pid;
	uint32_t tid;
	uint64_t size;
	uint64_t type_sid;
	uint64_t stack_id;
	uint32_t kind;      /* 0 alloc, 1 free */
	uint64_t addr;
	uint64_t goid;
};

/* Interned objects. */
struct tf_mapping {
	uint32_t pid;
	uint64_t start, end, file_offset, load_bias;
	uint64_t path_sid, build_id_sid;
};

struct tf_frame {
	uint64_t mapping_id;
	uint64_t rel_pc;
	uint64_t function_sid;
	uint64_t file_sid;
	uint32_t line;
	uint32_t kind;      /* Gscope__V1__FrameKind */
	uint64_t inlined_into;
};

/* Little-endian helpers for the fixed headers. */
static inline uint32_t tf_get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline uint64_t tf_get_le64(const uint8_t *p)
{
	return (uint64_t)tf_get_le32(p) | (uint64_t)tf_get_le32(p + 4) << 32;
}

static inline void tf_put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void tf_put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void tf_put_le64(uint8_t *p, uint64_t v)
{
	tf_put_le32(p, (uint32_t)v);
	tf_put_le32(p + 4, (uint32_t)(v >> 32));
}

/* A parsed chunk header. */
struct tf_chunk_hdr {
	uint8_t type, codec;
	uint16_t flags;
	uint32_t stored_len, raw_len, seq, generation;
	uint32_t payload_crc, header_crc;
};

void tf_chunk_hdr__encode(const struct tf_chunk_hdr *h, uint8_t out[TF_CHUNK_HDR_SIZE]);

/* Parse and check sync word, header CRC and limits; 0 or -GS_E_CORRUPT. */
int tf_chunk_hdr__decode(const uint8_t in[TF_CHUNK_HDR_SIZE], struct tf_chunk_hdr *h);

static inline uint64_t tf_pad8(uint64_t n)
{
	return (n + 7) & ~(uint64_t)7;
}

#endif
