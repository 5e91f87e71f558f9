// SPDX-License-Identifier: BSD-2-Clause
/*
 * pprof profile.proto reader.
 *
 * Decoding runs in passes over the (inflated) message, each a cheap walk of
 * the top-level fields:
 *   1. count: validates the top-level wire format and counts everything
 *      (samples, their location ids, values and labels, locations and
 *      their lines, strings, ...), so that every array is allocated once,
 *      exactly, in the arena, after the counts are checked against limits;
 *   2. the string table (other fields refer to it, in any order);
 *   3. mappings and functions, then sorted by id;
 *   4. locations, whose lines resolve function ids, then sorted by id;
 *   5. samples (resolving location ids) and the scalar fields.
 * Counts taken in pass 1 bound what later passes store; a later pass that
 * would exceed them fails instead of writing past an array.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "base/gs_err.h"
#include "base/gs_mem.h"
#include "base/gs_varint.h"
#include "runtime/rt_pprof.h"

enum {
	WT_VARINT = 0,
	WT_I64 = 1,
	WT_LEN = 2,
	WT_SGROUP = 3,
	WT_EGROUP = 4,
	WT_I32 = 5,
};

/* Profile field numbers */
enum {
	PF_SAMPLE_TYPE = 1,
	PF_SAMPLE = 2,
	PF_MAPPING = 3,
	PF_LOCATION = 4,
	PF_FUNCTION = 5,
	PF_STRING_TABLE = 6,
	PF_DROP_FRAMES = 7,
	PF_KEEP_FRAMES = 8,
	PF_TIME_NANOS = 9,
	PF_DURATION_NANOS = 10,
	PF_PERIOD_TYPE = 11,
	PF_PERIOD = 12,
	PF_COMMENT = 13,
	PF_DEFAULT_SAMPLE_TYPE = 14,
};

/* one decoded field */
struct pbf {
	uint32_t num, wt;
	uint64_t v;          /* WT_VARINT, WT_I64, WT_I32 */
	const uint8_t *data; /* WT_LEN */
	size_t len;
	const uint8_t *at;   /* where the tag starts */
};

/* totals counted by pass 1 */
struct counts {
	size_t st, samples, maps, locs, fns, strs, comments;
	size_t ids, vals, labels, lines;
};

struct rd {
	const char *name;
	const uint8_t *base, *end; /* the whole message */
	bool gz;
	struct rt_pprof *p;
	struct counts n;
	/* fill positions in the pools of pass 5 / 4 */
	uint64_t *ids;
	int64_t *vals;
	struct rt_pprof_label *labels;
	struct rt_pprof_line *lines;
	size_t ids_used, vals_used, labels_used, lines_used;
	/* mutable views of p's arrays while building */
	struct rt_pprof_value_type *st;
	struct rt_pprof_sample *samples;
	struct rt_pprof_location *locs;
	struct rt_pprof_function *fns;
	struct rt_pprof_mapping *maps;
	const char **strs;
	const char **comments;
	size_t st_used, samples_used, locs_used, fns_used, maps_used;
	size_t comments_used;
	size_t *offs; /* scratch: offset of each mapping/function/location */
};

static int perr(struct rd *rd, int err, const uint8_t *at, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Log "<name>: offset N[ of the inflated profile]: <message>", return err. */
static int perr(struct rd *rd, int err, const uint8_t *at, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return gs_errf(err, "%s: offset %zu%s: %s", rd->name,
		       (size_t)(at - rd->base),
		       rd->gz ? " of the inflated profile" : "", msg);
}

/* ------------------------------------------------------------ wire format */

static int get_varint(struct rd *rd, const uint8_t **pp, const uint8_t *end,
		      uint64_t *v)
{
	const uint8_t *p = *pp, *q = gs_varint_get(p, end, v);

	if (q) {
		*pp = q;
		return 0;
	}
	/* shorter than 10 bytes and no end byte: it runs off the end */
	if (end - p < GS_VARINT_MAX && end == rd->end)
		return perr(rd, -GS_E_TRUNCATED, p, "input ends inside a varint");
	return perr(rd, -GS_E_FORMAT, p, "malformed varint");
}

/*
 * Next field of the message [*pp, end): 1 and *f filled, 0 at the end, or
 * a negative error.  Length-delimited contents are checked to fit.
 */
static int pb_next(struct rd *rd, const uint8_t **pp, const uint8_t *end,
		   struct pbf *f)
{
	const uint8_t *p = *pp;
	uint64_t tag, len;
	int err;

	if (p >= end)
		return 0;
	f->at = p;
	err = get_varint(rd, &p, end, &tag);
	if (err)
		return err;
	if (tag >> 3 == 0 || tag >> 3 > 0x1fffffff)
		return perr(rd, -GS_E_FORMAT, f->at, "bad field number %llu",
			    (unsigned long long)(tag >> 3));
	f->num = (uint32_t)(tag >> 3);
	f->wt = (uint32_t)(tag & 7);
	f->data = NULL;
	f->len = 0;
	f->v = 0;
	switch (f->wt) {
	case WT_VARINT:
		err = get_varint(rd, &p, end, &f->v);
		if (err)
			return err;
		break;
	case WT_I64:
	case WT_I32: {
		size_t n = f->wt == WT_I64 ? 8 : 4;

		if ((size_t)(end - p) < n)
			return perr(rd, end == rd->end ? -GS_E_TRUNCATED : -GS_E_FORMAT,
				    f->at, "field %u: fixed%zu runs past the end%s",
				    f->num, n * 8, end == rd->end ? " of input" : " of its message");
		f->v = 0;
		for (size_t i = 0; i < n; i++)
			f->v |= (uint64_t)p[i] << (8 * i);
		p += n;
		break;
	}
	case WT_LEN:
		err = get_varint(rd, &p, end, &len);
		if (err)
			return err;
		if (len > (uint64_t)(end - p))
			return perr(rd, end == rd->end ? -GS_E_TRUNCATED : -GS_E_FORMAT,
				    f->at, "field %u: length %llu runs past the end%s",
				    f->num, (unsigned long long)len,
				    end == rd->end ? " of input" : " of its message");
		f->data = p;
		f->len = (size_t)len;
		p += len;
		break;
	default:
		return perr(rd, -GS_E_FORMAT, f->at,
			    "field %u: unsupported wire type %u", f->num, f->wt);
	}
	*pp = p;
	return 1;
}

static int want_wt(struct rd *rd, const struct pbf *f, uint32_t wt,
		   const char *what)
{
	if (f->wt == wt)
		return 0;
	return perr(rd, -GS_E_FORMAT, f->at, "%s (field %u): wire type %u, want %u",
		    what, f->num, f->wt, wt);
}

/* A scalar field that may be repeated: varint, or packed varints. */
static int want_scalar(struct rd *rd, const struct pbf *f, const char *what)
{
	if (f->wt == WT_VARINT || f->wt == WT_LEN)
		return 0;
	return perr(rd, -GS_E_FORMAT, f->at,
		    "%s (field %u): wire type %u, want a varint or packed varints",
		    what, f->num, f->wt);
}

/* Number of values in a repeated varint field (1, or the packed count). */
static int count_scalars(struct rd *rd, const struct pbf *f, const char *what,
			 size_t *n)
{
	size_t k = 0;

	if (f->wt == WT_VARINT) {
		*n = 1;
		return 0;
	}
	if (f->len && (f->data[f->len - 1] & 0x80))
		return perr(rd, -GS_E_FORMAT, f->at,
			    "%s (field %u): packed values end inside a varint",
			    what, f->num);
	for (size_t i = 0; i < f->len; i++)
		k += !(f->data[i] & 0x80);
	*n = k;
	return 0;
}

/* ------------------------------------------------------------ pass 1: count */

static int add_count(struct rd *rd, const struct pbf *f, size_t *total,
		     size_t n, const char *what)
{
	if (n > RT_PPROF_MAX_ITEMS - *total)
		return perr(rd, -GS_E_LIMIT, f->at, "more than %u %s",
			    RT_PPROF_MAX_ITEMS, what);
	*total += n;
	return 0;
}

static int count_sample(struct rd *rd, const struct pbf *sf)
{
	const uint8_t *p = sf->data, *end = p + sf->len;
	size_t nids = 0, nvals = 0, nlabels = 0, k = 0;
	struct pbf f;
	int err;

	while ((err = pb_next(rd, &p, end, &f)) > 0) {
		if (f.num == 1 || f.num == 2) {
			const char *what = f.num == 1 ? "sample location_id" : "sample value";

			err = want_scalar(rd, &f, what);
			if (!err)
				err = count_scalars(rd, &f, what, &k);
			if (err)
				return err;
			if (f.num == 1)
				nids += k;
			else
				nvals += k;
			if (nids > RT_PPROF_MAX_DEPTH)
				return perr(rd, -GS_E_LIMIT, f.at,
					    "sample has more than %u locations",
					    RT_PPROF_MAX_DEPTH);
			if (nvals > RT_PPROF_MAX_SAMPLE_TYPES)
				return perr(rd, -GS_E_LIMIT, f.at,
					    "sample has more than %u values",
					    RT_PPROF_MAX_SAMPLE_TYPES);
		} else if (f.num == 3) {
			err = want_wt(rd, &f, WT_LEN, "sample label");
			if (err)
				return err;
			if (++nlabels > RT_PPROF_MAX_LABELS)
				return perr(rd, -GS_E_LIMIT, f.at,
					    "sample has more than %u labels",
					    RT_PPROF_MAX_LABELS);
		}
	}
	if (err)
		return err;
	return add_count(rd, sf, &rd->n.ids, nids, "location ids in samples") ?:
	       add_count(rd, sf, &rd->n.vals, nvals, "sample values") ?:
	       add_count(rd, sf, &rd->n.labels, nlabels, "labels");
}

static int count_location(struct rd *rd, const struct pbf *lf)
{
	const uint8_t *p = lf->data, *end = p + lf->len;
	size_t nlines = 0;
	struct pbf f;
	int err;

	while ((err = pb_next(rd, &p, end, &f)) > 0) {
		if (f.num != 4)
			continue;
		err = want_wt(rd, &f, WT_LEN, "location line");
		if (err)
			return err;
		if (++nlines > RT_PPROF_MAX_LINES)
			return perr(rd, -GS_E_LIMIT, f.at,
				    "location has more than %u lines",
				    RT_PPROF_MAX_LINES);
	}
	if (err)
		return err;
	return add_count(rd, lf, &rd->n.lines, nlines, "lines");
}

static int count_field(struct rd *rd, const struct pbf *f)
{
	struct counts *n = &rd->n;
	size_t k = 0;
	int err;

	switch (f->num) {
	case PF_SAMPLE_TYPE:
		err = want_wt(rd, f, WT_LEN, "sample_type");
		if (!err && n->st >= RT_PPROF_MAX_SAMPLE_TYPES)
			err = perr(rd, -GS_E_LIMIT, f->at, "more than %u sample types",
				   RT_PPROF_MAX_SAMPLE_TYPES);
		if (!err)
			n->st++;
		return err;
	case PF_SAMPLE:
		return want_wt(rd, f, WT_LEN, "sample") ?:
		       add_count(rd, f, &n->samples, 1, "samples") ?:
		       count_sample(rd, f);
	case PF_MAPPING:
		return want_wt(rd, f, WT_LEN, "mapping") ?:
		       add_count(rd, f, &n->maps, 1, "mappings");
	case PF_LOCATION:
		return want_wt(rd, f, WT_LEN, "location") ?:
		       add_count(rd, f, &n->locs, 1, "locations") ?:
		       count_location(rd, f);
	case PF_FUNCTION:
		return want_wt(rd, f, WT_LEN, "function") ?:
		       add_count(rd, f, &n->fns, 1, "functions");
	case PF_STRING_TABLE:
		return want_wt(rd, f, WT_LEN, "string_table") ?:
		       add_count(rd, f, &n->strs, 1, "strings");
	case PF_PERIOD_TYPE:
		return want_wt(rd, f, WT_LEN, "period_type");
	case PF_COMMENT:
		return want_scalar(rd, f, "comment") ?:
		       count_scalars(rd, f, "comment", &k) ?:
		       add_count(rd, f, &n->comments, k, "comments");
	case PF_DROP_FRAMES:
	case PF_KEEP_FRAMES:
	case PF_TIME_NANOS:
	case PF_DURATION_NANOS:
	case PF_PERIOD:
	case PF_DEFAULT_SAMPLE_TYPE:
		return want_wt(rd, f, WT_VARINT, "profile scalar");
	default:
		return 0; /* unknown: skipped */
	}
}

typedef int (*field_fn)(struct rd *rd, const struct pbf *f);

/* Call fn for every top-level field. */
static int walk(struct rd *rd, field_fn fn)
{
	const uint8_t *p = rd->base;
	struct pbf f;
	int err;

	while ((err = pb_next(rd, &p, rd->end, &f)) > 0) {
		err = fn(rd, &f);
		if (err)
			return err;
	}
	return err;
}

/* ------------------------------------------------------------ allocation */

static void *alloc_array(struct rd *rd, size_t n, size_t esz)
{
	void *a;

	if (esz && n > SIZE_MAX / esz)
		return NULL;
	a = gs_arena__alloc(&rd->p->arena, n * esz);
	if (a)
		memset(a, 0, n * esz);
	return a;
}

static int alloc_all(struct rd *rd)
{
	struct counts *n = &rd->n;
	size_t nmax;

	rd->st = alloc_array(rd, n->st, sizeof(*rd->st));
	rd->samples = alloc_array(rd, n->samples, sizeof(*rd->samples));
	rd->maps = alloc_array(rd, n->maps, sizeof(*rd->maps));
	rd->locs = alloc_array(rd, n->locs, sizeof(*rd->locs));
	rd->fns = alloc_array(rd, n->fns, sizeof(*rd->fns));
	rd->strs = alloc_array(rd, n->strs, sizeof(*rd->strs));
	rd->comments = alloc_array(rd, n->comments, sizeof(*rd->comments));
	rd->ids = alloc_array(rd, n->ids, sizeof(*rd->ids));
	rd->vals = alloc_array(rd, n->vals, sizeof(*rd->vals));
	rd->labels = alloc_array(rd, n->labels, sizeof(*rd->labels));
	rd->lines = alloc_array(rd, n->lines, sizeof(*rd->lines));
	nmax = n->maps;
	if (n->fns > nmax)
		nmax = n->fns;
	if (n->locs > nmax)
		nmax = n->locs;
	rd->offs = gs_calloc(nmax ? nmax : 1, sizeof(*rd->offs));
	if (!rd->st || !rd->samples || !rd->maps || !rd->locs || !rd->fns ||
	    !rd->strs || !rd->comments || !rd->ids || !rd->vals || !rd->labels ||
	    !rd->lines || !rd->offs)
		return -ENOMEM;
	return 0;
}

/* ------------------------------------------------------------ pass 2: strings */

static int string_field(struct rd *rd, const struct pbf *f)
{
	char *s;

	if (f->num != PF_STRING_TABLE)
		return 0;
	if (rd->p->nstrings >= rd->n.strs)
		return perr(rd, -GS_E_FORMAT, f->at, "string count changed");
	s = gs_arena__strndup(&rd->p->arena, (const char *)f->data, f->len);
	if (!s)
		return -ENOMEM;
	if (rd->p->nstrings == 0 && f->len != 0)
		return perr(rd, -GS_E_FORMAT, f->at,
			    "string_table[0] is not empty");
	rd->strs[rd->p->nstrings++] = s;
	return 0;
}

static int str_at(struct rd *rd, const struct pbf *f, const char *what,
		  const char **out)
{
	if (f->wt != WT_VARINT)
		return want_wt(rd, f, WT_VARINT, what);
	if (f->v >= rd->p->nstrings)
		return perr(rd, -GS_E_FORMAT, f->at,
			    "%s: string index %lld out of range (%zu strings)",
			    what, (long long)f->v, rd->p->nstrings);
	*out = rd->strs[f->v];
	return 0;
}

static int get_u64(struct rd *rd, const struct pbf *f, const char *what,
		   uint64_t *out)
{
	int err = want_wt(rd, f, WT_VARINT, what);

	if (!err)
		*out = f->v;
	return err;
}

static int get_i64(struct rd *rd, const struct pbf *f, const char *what,
		   int64_t *out)
{
	int err = want_wt(rd, f, WT_VARINT, what);

	if (!err)
		*out = (int64_t)f->v;
	return err;
}

static int get_bool(struct rd *rd, const struct pbf *f, const char *what,
		    bool *out)
{
	int err = want_wt(rd, f, WT_VARINT, what);

	if (!err)
		*out = f->v != 0;
	return err;
}

/* ------------------------------------------------------------ sorting by id */

struct idx {
	uint64_t id;
	size_t i;
};

static int cmp_idx(const void *a, const void *b)
{
	const struct idx *x = a, *y = b;

	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

static uint64_t id_of(const void *arr, size_t esz, size_t i)
{
	uint64_t id;

	/* every table's struct starts with its uint64_t id */
	memcpy(&id, (const uint8_t *)arr + i * esz, sizeof(id));
	return id;
}

/*
 * Sort n elements of arr (file order, offsets in rd->offs) by id; fail on a
 * duplicate id.  *dense says whether the ids are exactly 1..n.
 */
static int sort_by_id(struct rd *rd, void *arr, size_t n, size_t esz,
		      const char *what, bool *dense)
{
	struct idx *ix;
	uint8_t *tmp;
	bool sorted = true;

	for (size_t i = 1; i < n && sorted; i++)
		sorted = id_of(arr, esz, i - 1) < id_of(arr, esz, i);
	if (!sorted) {
		ix = gs_malloc(n * sizeof(*ix));
		if (!ix)
			return -ENOMEM;
		for (size_t i = 0; i < n; i++) {
			ix[i].id = id_of(arr, esz, i);
			ix[i].i = i;
		}
		qsort(ix, n, sizeof(*ix), cmp_idx);
		for (size_t i = 1; i < n; i++) {
			if (ix[i].id == ix[i - 1].id) {
				int err = perr(rd, -GS_E_FORMAT,
					       rd->base + rd->offs[ix[i].i],
					       "duplicate %s id %llu", what,
					       (unsigned long long)ix[i].id);

				gs_free(ix);
				return err;
			}
		}
		tmp = gs_malloc(n * esz);
		if (!tmp) {
			gs_free(ix);
			return -ENOMEM;
		}
		for (size_t i = 0; i < n; i++)
			memcpy(tmp + i * esz, (uint8_t *)arr + ix[i].i * esz, esz);
		memcpy(arr, tmp, n * esz);
		gs_free(tmp);
		gs_free(ix);
	}
	*dense = n == 0 || id_of(arr, esz, n - 1) == n;
	return 0;
}

static const void *find_by_id(const void *arr, size_t n, size_t esz,
			      bool dense, uint64_t id)
{
	size_t lo = 0, hi = n;

	if (dense)
		return id - 1 < n ? (const uint8_t *)arr + (id - 1) * esz : NULL;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint64_t m = id_of(arr, esz, mid);

		if (m == id)
			return (const uint8_t *)arr + mid * esz;
		if (m < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* ------------------------------------------------------------ pass 3: mappings, functions */

static int dec_mapping(struct rd *rd, const struct pbf *mf,
		       struct rt_pprof_mapping *m)
{
	const uint8_t *p = mf->data, *end = p + mf->len;
	struct pbf f;
	int more, err;

	m->filename = m->build_id = rd->strs[0];
	while ((more = pb_next(rd, &p, end, &f)) > 0) {
		err = 0;
		switch (f.num) {
		case 1: err = get_u64(rd, &f, "mapping id", &m->id); break;
		case 2: err = get_u64(rd, &f, "mapping memory_start", &m->memory_start); break;
		case 3: err = get_u64(rd, &f, "mapping memory_limit", &m->memory_limit); break;
		case 4: err = get_u64(rd, &f, "mapping file_offset", &m->file_offset); break;
		case 5: err = str_at(rd, &f, "mapping filename", &m->filename); break;
		case 6: err = str_at(rd, &f, "mapping build_id", &m->build_id); break;
		case 7: err = get_bool(rd, &f, "mapping has_functions", &m->has_functions); break;
		case 8: err = get_bool(rd, &f, "mapping has_filenames", &m->has_filenames); break;
		case 9: err = get_bool(rd, &f, "mapping has_line_numbers", &m->has_line_numbers); break;
		case 10: err = get_bool(rd, &f, "mapping has_inline_frames", &m->has_inline_frames); break;
		default: break;
		}
		if (err)
			return err;
	}
	if (more)
		return more;
	if (m->id == 0)
		return perr(rd, -GS_E_FORMAT, mf->at, "mapping with reserved id 0");
	return 0;
}

static int dec_function(struct rd *rd, const struct pbf *ff,
			struct rt_pprof_function *fn)
{
	const uint8_t *p = ff->data, *end = p + ff->len;
	struct pbf f;
	int more, err;

	fn->name = fn->system_name = fn->filename = rd->strs[0];
	while ((more = pb_next(rd, &p, end, &f)) > 0) {
		err = 0;
		switch (f.num) {
		case 1: err = get_u64(rd, &f, "function id", &fn->id); break;
		case 2: err = str_at(rd, &f, "function name", &fn->name); break;
		case 3: err = str_at(rd, &f, "function system_name", &fn->system_name); break;
		case 4: err = str_at(rd, &f, "function filename", &fn->filename); break;
		case 5: err = get_i64(rd, &f, "function start_line", &fn->start_line); break;
		default: break;
		}
		if (err)
			return err;
	}
	if (more)
		return more;
	if (fn->id == 0)
		return perr(rd, -GS_E_FORMAT, ff->at, "function with reserved id 0");
	return 0;
}

static int map_fn_field(struct rd *rd, const struct pbf *f)
{
	if (f->num == PF_MAPPING) {
		if (rd->maps_used >= rd->n.maps)
			return perr(rd, -GS_E_FORMAT, f->at, "mapping count changed");
		rd->offs[rd->maps_used] = (size_t)(f->at - rd->base);
		return dec_mapping(rd, f, &rd->maps[rd->maps_used++]);
	}
	return 0;
}

static int fn_field(struct rd *rd, const struct pbf *f)
{
	if (f->num == PF_FUNCTION) {
		if (rd->fns_used >= rd->n.fns)
			return perr(rd, -GS_E_FORMAT, f->at, "function count changed");
		rd->offs[rd->fns_used] = (size_t)(f->at - rd->base);
		return dec_function(rd, f, &rd->fns[rd->fns_used++]);
	}
	return 0;
}

/* ------------------------------------------------------------ pass 4: locations */

static int dec_line(struct rd *rd, const struct pbf *lf,
		    struct rt_pprof_line *ln)
{
	const uint8_t *p = lf->data, *end = p + lf->len;
	uint64_t fid = 0;
	struct pbf f;
	int more, err;

	while ((more = pb_next(rd, &p, end, &f)) > 0) {
		err = 0;
		switch (f.num) {
		case 1: err = get_u64(rd, &f, "line function_id", &fid); break;
		case 2: err = get_i64(rd, &f, "line line", &ln->line); break;
		case 3: err = get_i64(rd, &f, "line column", &ln->column); break;
		default: break;
		}
		if (err)
			return err;
	}
	if (more)
		return more;
	ln->function = find_by_id(rd->fns, rd->fns_used, sizeof(*rd->fns),
				  rd->p->dense_fn, fid);
	if (!ln->function)
		return perr(rd, -GS_E_FORMAT, lf->at,
			    "line refers to unknown function id %llu",
			    (unsigned long long)fid);
	return 0;
}

static int dec_location(struct rd *rd, const struct pbf *lf,
			struct rt_pprof_location *l)
{
	const uint8_t *p = lf->data, *end = p + lf->len;
	struct rt_pprof_line *lines = rd->lines + rd->lines_used;
	struct pbf f;
	int more, err;

	l->lines = lines;
	while ((more = pb_next(rd, &p, end, &f)) > 0) {
		err = 0;
		switch (f.num) {
		case 1: err = get_u64(rd, &f, "location id", &l->id); break;
		case 2: err = get_u64(rd, &f, "location mapping_id", &l->mapping_id); break;
		case 3: err = get_u64(rd, &f, "location address", &l->address); break;
		case 4:
			/* the wire type was checked by pass 1 */
			if (rd->lines_used >= rd->n.lines)
				return perr(rd, -GS_E_FORMAT, f.at, "line count changed");
			err = dec_line(rd, &f, &lines[l->nlines]);
			rd->lines_used++;
			l->nlines++;
			break;
		case 5: err = get_bool(rd, &f, "location is_folded", &l->is_folded); break;
		default: break;
		}
		if (err)
			return err;
	}
	if (more)
		return more;
	if (l->id == 0)
		return perr(rd, -GS_E_FORMAT, lf->at, "location with reserved id 0");
	return 0;
}

static int loc_field(struct rd *rd, const struct pbf *f)
{
	if (f->num == PF_LOCATION) {
		if (rd->locs_used >= rd->n.locs)
			return perr(rd, -GS_E_FORMAT, f->at, "location count changed");
		rd->offs[rd->locs_used] = (size_t)(f->at - rd->base);
		return dec_location(rd, f, &rd->locs[rd->locs_used++]);
	}
	return 0;
}

/* ------------------------------------------------------------ pass 5: samples and the rest */

typedef int (*scalar_fn)(struct rd *rd, const struct pbf *f, uint64_t v,
			 void *ctx);

/* Call fn for each value of a varint or packed-varints field. */
static int each_scalar(struct rd *rd, const struct pbf *f, scalar_fn fn,
		       void *ctx)
{
	const uint8_t *p, *end;
	uint64_t v;
	int err;

	if (f->wt == WT_VARINT)
		return fn(rd, f, f->v, ctx);
	p = f->data;
	end = p + f->len;
	while (p < end) {
		const uint8_t *at = p;

		p = gs_varint_get(p, end, &v);
		if (!p)
			return perr(rd, -GS_E_FORMAT, at, "field %u: malformed packed varint",
				    f->num);
		err = fn(rd, f, v, ctx);
		if (err)
			return err;
	}
	return 0;
}

/* what dec_sample() fills */
struct sctx {
	struct rt_pprof_sample *s;
	size_t nvals;
};

static int push_loc_id(struct rd *rd, const struct pbf *f, uint64_t v, void *ctx)
{
	struct sctx *c = ctx;

	if (rd->ids_used >= rd->n.ids)
		return perr(rd, -GS_E_FORMAT, f->at, "location id count changed");
	if (!rt_pprof__location(rd->p, v))
		return perr(rd, -GS_E_FORMAT, f->at,
			    "sample %zu refers to unknown location id %llu",
			    rd->samples_used - 1, (unsigned long long)v);
	rd->ids[rd->ids_used++] = v;
	c->s->nlocations++;
	return 0;
}

static int push_value(struct rd *rd, const struct pbf *f, uint64_t v, void *ctx)
{
	struct sctx *c = ctx;

	if (rd->vals_used >= rd->n.vals)
		return perr(rd, -GS_E_FORMAT, f->at, "value count changed");
	rd->vals[rd->vals_used++] = (int64_t)v;
	c->nvals++;
	return 0;
}

static int dec_label(struct rd *rd, const struct pbf *lf,
		     struct rt_pprof_label *lb)
{
	const uint8_t *p = lf->data, *end = p + lf->len;
	struct pbf f;
	int more, err;

	lb->key = lb->str = lb->num_unit = rd->strs[0];
	while ((more = pb_next(rd, &p, end, &f)) > 0) {
		err = 0;
		switch (f.num) {
		case 1: err = str_at(rd, &f, "label key", &lb->key); break;
		case 2: err = str_at(rd, &f, "label str", &lb->str); break;
		case 3: err = get_i64(rd, &f, "label num", &lb->num); break;
		case 4: err = str_at(rd, &f, "label num_unit", &lb->num_unit); break;
		default: break;
		}
		if (err)
			return err;
	}
	return more;
}

static int dec_sample(struct rd *rd, const struct pbf *sf,
		      struct rt_pprof_sample *s)
{
	const uint8_t *p = sf->data, *end = p + sf->len;
	struct rt_pprof_label *labels = rd->labels + rd->labels_used;
	struct sctx c = { s, 0 };
	struct pbf f;
	int more, err;

	s->location_ids = rd->ids + rd->ids_used;
	s->values = rd->vals + rd->vals_used;
	s->labels = labels;
	while ((more = pb_next(rd, &p, end, &f)) > 0) {
		err = 0;
		switch (f.num) {
		case 1:
			err = each_scalar(rd, &f, push_loc_id, &c);
			break;
		case 2:
			err = each_scalar(rd, &f, push_value, &c);
			break;
		case 3:
			if (rd->labels_used >= rd->n.labels)
				return perr(rd, -GS_E_FORMAT, f.at, "label count changed");
			err = dec_label(rd, &f, &labels[s->nlabels]);
			rd->labels_used++;
			s->nlabels++;
			break;
		default:
			break;
		}
		if (err)
			return err;
	}
	if (more)
		return more;
	if (c.nvals != rd->n.st)
		return perr(rd, -GS_E_FORMAT, sf->at,
			    "sample %zu has %zu values for %zu sample types",
			    rd->samples_used - 1, c.nvals, rd->n.st);
	return 0;
}

static int dec_value_type(struct rd *rd, const struct pbf *vf,
			  struct rt_pprof_value_type *vt)
{
	const uint8_t *p = vf->data, *end = p + vf->len;
	struct pbf f;
	int more, err;

	vt->type = vt->unit = rd->strs[0];
	while ((more = pb_next(rd, &p, end, &f)) > 0) {
		err = 0;
		if (f.num == 1)
			err = str_at(rd, &f, "value type", &vt->type);
		else if (f.num == 2)
			err = str_at(rd, &f, "value unit", &vt->unit);
		if (err)
			return err;
	}
	return more;
}

static int push_comment(struct rd *rd, const struct pbf *f, uint64_t v, void *ctx)
{
	if (rd->comments_used >= rd->n.comments)
		return perr(rd, -GS_E_FORMAT, f->at, "comment count changed");
	if (v >= rd->p->nstrings)
		return perr(rd, -GS_E_FORMAT, f->at,
			    "comment: string index %lld out of range (%zu strings)",
			    (long long)v, rd->p->nstrings);
	rd->comments[rd->comments_used++] = rd->strs[v];
	return 0;
}

static int rest_field(struct rd *rd, const struct pbf *f)
{
	struct rt_pprof *p = rd->p;

	switch (f->num) {
	case PF_SAMPLE_TYPE:
		if (rd->st_used >= rd->n.st)
			return perr(rd, -GS_E_FORMAT, f->at, "sample type count changed");
		return dec_value_type(rd, f, &rd->st[rd->st_used++]);
	case PF_SAMPLE:
		if (rd->samples_used >= rd->n.samples)
			return perr(rd, -GS_E_FORMAT, f->at, "sample count changed");
		return dec_sample(rd, f, &rd->samples[rd->samples_used++]);
	case PF_DROP_FRAMES:
		return str_at(rd, f, "drop_frames", &p->drop_frames);
	case PF_KEEP_FRAMES:
		return str_at(rd, f, "keep_frames", &p->keep_frames);
	case PF_TIME_NANOS:
		return get_i64(rd, f, "time_nanos", &p->time_nanos);
	case PF_DURATION_NANOS:
		return get_i64(rd, f, "duration_nanos", &p->duration_nanos);
	case PF_PERIOD_TYPE:
		return dec_value_type(rd, f, &p->period_type);
	case PF_PERIOD:
		return get_i64(rd, f, "period", &p->period);
	case PF_COMMENT:
		return each_scalar(rd, f, push_comment, NULL);
	case PF_DEFAULT_SAMPLE_TYPE:
		return str_at(rd, f, "default_sample_type", &p->default_sample_type);
	default:
		return 0;
	}
}

/* ------------------------------------------------------------ decode */

static int decode(struct rd *rd)
{
	struct rt_pprof *p = rd->p;
	int err;

	if (rd->base == rd->end)
		return gs_errf(-GS_E_FORMAT, "%s: empty profile", rd->name);
	err = walk(rd, count_field);
	if (err)
		return err;
	if (rd->n.strs == 0)
		return gs_errf(-GS_E_FORMAT, "%s: not a pprof profile (no string table)",
			       rd->name);
	err = alloc_all(rd);
	if (err)
		return err;

	err = walk(rd, string_field);
	if (err)
		return err;
	p->strings = rd->strs;
	p->drop_frames = p->keep_frames = p->default_sample_type = rd->strs[0];
	p->period_type.type = p->period_type.unit = rd->strs[0];

	err = walk(rd, map_fn_field) ?:
	      sort_by_id(rd, rd->maps, rd->maps_used, sizeof(*rd->maps), "mapping",
			 &p->dense_map);
	if (err)
		return err;
	p->mappings = rd->maps;
	p->nmappings = rd->maps_used;

	err = walk(rd, fn_field) ?:
	      sort_by_id(rd, rd->fns, rd->fns_used, sizeof(*rd->fns), "function",
			 &p->dense_fn);
	if (err)
		return err;
	p->functions = rd->fns;
	p->nfunctions = rd->fns_used;

	err = walk(rd, loc_field) ?:
	      sort_by_id(rd, rd->locs, rd->locs_used, sizeof(*rd->locs), "location",
			 &p->dense_loc);
	if (err)
		return err;
	p->locations = rd->locs;
	p->nlocations = rd->locs_used;

	err = walk(rd, rest_field);
	if (err)
		return err;
	p->sample_types = rd->st;
	p->nsample_types = rd->st_used;
	p->samples = rd->samples;
	p->nsamples = rd->samples_used;
	p->comments = rd->comments;
	p->ncomments = rd->comments_used;
	return 0;
}

/* ------------------------------------------------------------ gzip */

static bool is_gzip(const uint8_t *p, size_t len)
{
	return len >= 2 && p[0] == 0x1f && p[1] == 0x8b;
}

/*
 * Inflate every gzip member of [data, data + len) into *out, at most max
 * bytes.  Bytes after a member must start another member.
 */
static int inflate_all(const char *name, const uint8_t *data, size_t len,
		       size_t max, uint8_t **out, size_t *out_len)
{
	z_stream zs;
	uint8_t *buf = NULL;
	size_t cap = 0, n = 0, in_off = 0;
	size_t first = len < max / 4 ? len * 4 + 4096 : max;
	int zr, err = 0;

	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
		return -ENOMEM;
	if (first > max)
		first = max;
	for (;;) {
		size_t before_out;

		if (n == cap) {
			/* one spare byte over max lets us see an overflow */
			err = gs_grow((void **)&buf, &cap, 1, cap ? cap + 1 : first + 1,
				      max + 1);
			if (err)
				goto out;
		}
		if (zs.avail_in == 0 && in_off < len) {
			size_t k = len - in_off < UINT_MAX ? len - in_off : UINT_MAX;

			zs.next_in = (Bytef *)(data + in_off);
			zs.avail_in = (uInt)k;
			in_off += k;
		}
		zs.next_out = buf + n;
		zs.avail_out = cap - n < UINT_MAX ? (uInt)(cap - n) : UINT_MAX;
		before_out = zs.avail_out;
		zr = inflate(&zs, Z_NO_FLUSH);
		n += before_out - zs.avail_out;
		if (n > max) {
			err = gs_errf(-GS_E_LIMIT,
				      "%s: gzip stream inflates to more than %zu bytes",
				      name, max);
			goto out;
		}
		if (zr == Z_STREAM_END) {
			size_t consumed = in_off - zs.avail_in;

			if (consumed == len)
				break;
			if (!is_gzip(data + consumed, len - consumed)) {
				err = gs_errf(-GS_E_FORMAT,
					      "%s: offset %zu: data after the gzip stream",
					      name, consumed);
				goto out;
			}
			if (inflateReset(&zs) != Z_OK) {
				err = -ENOMEM;
				goto out;
			}
			continue;
		}
		if (zr == Z_OK || zr == Z_BUF_ERROR) {
			if (zs.avail_out == 0 || (zs.avail_in == 0 && in_off < len))
				continue; /* grow the output, or feed more input */
			if (zr == Z_OK)
				continue;
			if (zs.avail_in == 0) {
				err = gs_errf(-GS_E_TRUNCATED,
					      "%s: gzip stream ends early at offset %zu",
					      name, len);
				goto out;
			}
		}
		if (zr == Z_MEM_ERROR) {
			err = -ENOMEM;
			goto out;
		}
		err = gs_errf(-GS_E_COMPRESS, "%s: offset %zu: corrupt gzip stream: %s",
			      name, in_off - zs.avail_in,
			      zs.msg ? zs.msg : "inflate failed");
		goto out;
	}
	*out = buf;
	*out_len = n;
	buf = NULL;
out:
	inflateEnd(&zs);
	gs_free(buf);
	return err;
}

/* ------------------------------------------------------------ API */

int rt_pprof__read_opts(const uint8_t *data, size_t len, const char *name,
			const struct rt_pprof_opts *opts, struct rt_pprof **out)
{
	size_t max = opts && opts->max_inflated ? opts->max_inflated
						 : RT_PPROF_MAX_INFLATED;
	struct rd rd;
	struct rt_pprof *p;
	uint8_t *raw = NULL;
	size_t raw_len = 0;
	int err;

	*out = NULL;
	if (max > SIZE_MAX / 2)
		max = SIZE_MAX / 2;
	if (!name)
		name = "<memory>";
	if (!data && len)
		return gs_errf(-GS_E_USAGE, "%s: no data", name);
	p = gs_calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	memset(&rd, 0, sizeof(rd));
	p->name = gs_arena__strndup(&p->arena, name, strlen(name));
	if (!p->name) {
		err = -ENOMEM;
		goto err_out;
	}
	rd.name = p->name;
	rd.p = p;
	if (is_gzip(data, len)) {
		err = inflate_all(name, data, len, max, &raw, &raw_len);
		if (err)
			goto err_out;
		rd.gz = p->gzipped = true;
		rd.base = raw;
		rd.end = raw + raw_len;
	} else {
		rd.base = data ? data : (const uint8_t *)"";
		rd.end = rd.base + len;
	}
	p->proto_size = (size_t)(rd.end - rd.base);
	err = decode(&rd);
	if (err)
		goto err_out;
	gs_free(rd.offs);
	gs_free(raw);
	*out = p;
	return 0;
err_out:
	gs_free(rd.offs);
	gs_free(raw);
	rt_pprof__free(p);
	return err;
}

int rt_pprof__read(const uint8_t *data, size_t len, const char *name,
		   struct rt_pprof **out)
{
	return rt_pprof__read_opts(data, len, name, NULL, out);
}

int rt_pprof__read_file(const char *path, struct rt_pprof **out)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t len, got = 0;
	int fd, err;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return gs_errf(-errno, "%s: cannot open: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0) {
		err = gs_errf(-errno, "%s: cannot stat: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		err = gs_errf(-GS_E_FORMAT, "%s: not a regular file", path);
		goto out;
	}
	if ((uint64_t)st.st_size > RT_PPROF_MAX_FILE) {
		err = gs_errf(-GS_E_LIMIT, "%s: %lld bytes, more than %llu", path,
			      (long long)st.st_size, (unsigned long long)RT_PPROF_MAX_FILE);
		goto out;
	}
	len = (size_t)st.st_size;
	buf = gs_malloc(len ? len : 1);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	while (got < len) {
		ssize_t k = read(fd, buf + got, len - got);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			err = gs_errf(-errno, "%s: read failed at offset %zu: %s", path,
				      got, strerror(errno));
			goto out;
		}
		if (k == 0)
			break; /* shrank meanwhile: decode what is there */
		got += (size_t)k;
	}
	err = rt_pprof__read(buf, got, path, out);
out:
	gs_free(buf);
	close(fd);
	return err;
}

void rt_pprof__free(struct rt_pprof *p)
{
	if (!p)
		return;
	gs_arena__release(&p->arena);
	gs_free(p);
}

const struct rt_pprof_location *rt_pprof__location(const struct rt_pprof *p,
						    uint64_t id)
{
	return find_by_id(p->locations, p->nlocations, sizeof(*p->locations),
			  p->dense_loc, id);
}

const struct rt_pprof_function *rt_pprof__function(const struct rt_pprof *p,
						    uint64_t id)
{
	return find_by_id(p->functions, p->nfunctions, sizeof(*p->functions),
			  p->dense_fn, id);
}

const struct rt_pprof_mapping *rt_pprof__mapping(const struct rt_pprof *p,
						  uint64_t id)
{
	return find_by_id(p->mappings, p->nmappings, sizeof(*p->mappings),
			  p->dense_map, id);
}

int rt_pprof__sample_type(const struct rt_pprof *p, const char *type,
			  const char *unit)
{
	for (size_t i = 0; i < p->nsample_types && i < INT_MAX; i++) {
		if (strcmp(p->sample_types[i].type, type) == 0 &&
		    (!unit || strcmp(p->sample_types[i].unit, unit) == 0))
			return (int)i;
	}
	return -1;
}

int rt_pprof__sum(const struct rt_pprof *p, size_t idx, int64_t *sum)
{
	int64_t s = 0;

	if (idx >= p->nsample_types)
		return -EINVAL;
	for (size_t i = 0; i < p->nsamples; i++) {
		if (__builtin_add_overflow(s, p->samples[i].values[idx], &s))
			return -ERANGE;
	}
	*sum = s;
	return 0;
}
