/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pprof profile reader (google/pprof proto/profile.proto), as written by
 * runtime/pprof, net/http/pprof and `go tool trace -pprof=TYPE`.
 *
 * The input is gzip-compressed (detected by the magic 1f 8b; concatenated
 * members are accepted, as Go's gzip reader does) or a raw profile.proto
 * message.  The protobuf is decoded by hand; repeated scalars may be packed
 * or not (runtime/pprof packs them only when there are more than two).
 * Unknown fields are skipped.  The legacy text formats are not supported.
 *
 * The result is immutable and owns everything it points to (one arena):
 * every pointer in it is borrowed, valid until rt_pprof__free().  Strings
 * are NUL-terminated copies of the string table (index 0 is ""); a string
 * field that is absent reads as "".
 *
 * What is checked, beyond the wire format (as pprof's own CheckValid does):
 * string indices in range and string_table[0] == "", ids of mappings,
 * locations and functions non-zero and unique, every sample has one value
 * per sample type, every sample location id and every line's function id
 * exists.  A location's mapping_id is kept as is (0 = none; an unknown id
 * makes rt_pprof__mapping() return NULL).
 *
 * Errors (logged through gs_log with the input name and the byte offset,
 * in the inflated message when the input was gzip-compressed):
 *   -GS_E_FORMAT     not a profile, or a violated rule above
 *   -GS_E_TRUNCATED  the input (or the gzip stream) ends early
 *   -GS_E_COMPRESS   the gzip stream is corrupt
 *   -GS_E_LIMIT      over one of the limits below
 *   -ENOMEM          out of memory
 */
#ifndef RT_PPROF_H
#define RT_PPROF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/gs_mem.h"

/* Limits on sizes read from input. */
#define RT_PPROF_MAX_INFLATED (1ULL << 30) /* default bytes of profile.proto */
#define RT_PPROF_MAX_FILE (1ULL << 30)     /* rt_pprof__read_file() */
#define RT_PPROF_MAX_SAMPLE_TYPES 1024     /* values per sample */
#define RT_PPROF_MAX_DEPTH 65536           /* location ids per sample */
#define RT_PPROF_MAX_LINES 65536           /* lines per location */
#define RT_PPROF_MAX_LABELS 65536          /* labels per sample */
#define RT_PPROF_MAX_ITEMS (1U << 28)      /* samples, strings, ids, ... of each kind */

struct rt_pprof_value_type {
	const char *type; /* "contentions", "delay", "samples", "cpu", ... */
	const char *unit; /* "count", "nanoseconds", "bytes", ... */
};

struct rt_pprof_label {
	const char *key;
	const char *str;      /* "" for a numeric label */
	int64_t num;
	const char *num_unit; /* "" when not given */
};

struct rt_pprof_sample {
	const uint64_t *location_ids;          /* nlocations, leaf first */
	const int64_t *values;                 /* nsample_types of them */
	const struct rt_pprof_label *labels;   /* nlabels */
	uint32_t nlocations;
	uint32_t nlabels;
};

struct rt_pprof_mapping {
	uint64_t id;
	uint64_t memory_start, memory_limit, file_offset;
	const char *filename;
	const char *build_id;
	bool has_functions, has_filenames, has_line_numbers, has_inline_frames;
};

struct rt_pprof_function {
	uint64_t id;
	const char *name;        /* e.g. "main.main", "sync.(*Mutex).Lock" */
	const char *system_name;
	const char *filename;
	int64_t start_line;      /* 0 when not written (Go 1.19) */
};

struct rt_pprof_line {
	const struct rt_pprof_function *function; /* never NULL */
	int64_t line;
	int64_t column;                           /* 0 when not written */
};

struct rt_pprof_location {
	uint64_t id;
	uint64_t mapping_id; /* 0: none */
	uint64_t address;
	/*
	 * lines[0] is the innermost inlined call, lines[nlines - 1] the
	 * function that holds the address.
	 */
	const struct rt_pprof_line *lines;
	uint32_t nlines;
	bool is_folded;
};

struct rt_pprof {
	const char *name; /* as given to rt_pprof__read() */

	const struct rt_pprof_value_type *sample_types;
	size_t nsample_types;
	const struct rt_pprof_sample *samples; /* in file order */
	size_t nsamples;
	/* the three tables below are sorted by ascending id */
	const struct rt_pprof_location *locations;
	size_t nlocations;
	const struct rt_pprof_function *functions;
	size_t nfunctions;
	const struct rt_pprof_mapping *mappings;
	size_t nmappings;
	const char *const *strings; /* the string table */
	size_t nstrings;
	const char *const *comments;
	size_t ncomments;

	const char *drop_frames, *keep_frames;
	struct rt_pprof_value_type period_type;
	int64_t period;
	int64_t time_nanos, duration_nanos;
	const char *default_sample_type; /* "" when not set */

	bool gzipped;       /* the input was gzip-compressed */
	size_t proto_size;  /* bytes of the profile.proto message */

	/* private */
	struct gs_arena arena;
	bool dense_loc, dense_fn, dense_map; /* ids are exactly 1..n */
};

struct rt_pprof_opts {
	/* most bytes the gzip stream may inflate to; 0 = RT_PPROF_MAX_INFLATED */
	size_t max_inflated;
};

/*
 * Decode len bytes at data (borrowed for the call only); name is used in
 * messages (NULL: "<memory>").  On success *out owns a new profile.
 */
int rt_pprof__read(const uint8_t *data, size_t len, const char *name,
		   struct rt_pprof **out);
int rt_pprof__read_opts(const uint8_t *data, size_t len, const char *name,
			const struct rt_pprof_opts *opts, struct rt_pprof **out);

/* Read and decode a file of at most RT_PPROF_MAX_FILE bytes. */
int rt_pprof__read_file(const char *path, struct rt_pprof **out);

/* NULL-safe. */
void rt_pprof__free(struct rt_pprof *p);

/* Lookups by id: NULL when absent (O(1) when ids are 1..n, else O(log n)). */
const struct rt_pprof_location *rt_pprof__location(const struct rt_pprof *p,
						    uint64_t id);
const struct rt_pprof_function *rt_pprof__function(const struct rt_pprof *p,
						    uint64_t id);
const struct rt_pprof_mapping *rt_pprof__mapping(const struct rt_pprof *p,
						  uint64_t id);

/* Index of the sample type named type (and unit, unless NULL), or -1. */
int rt_pprof__sample_type(const struct rt_pprof *p, const char *type,
			  const char *unit);

/*
 * Sum of values[idx] over all samples into *sum: 0, -EINVAL (idx out of
 * range) or -ERANGE (the sum overflows int64).
 */
int rt_pprof__sum(const struct rt_pprof *p, size_t idx, int64_t *sum);

#endif
