// SPDX-License-Identifier: BSD-2-Clause
#include <math.h>
#include <string.h>

#include "analyze/an_hist.h"

void an_hist__init(struct an_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

/* [lo, hi) of bucket i */
static void bucket_range(unsigned int i, uint64_t *lo, uint64_t *hi)
{
	unsigned int e, sub;

	if (i < AN_HIST_LINEAR) {
		*lo = i;
		*hi = (uint64_t)i + 1;
		return;
	}
	e = (i - AN_HIST_LINEAR) / AN_HIST_SUB + 8;
	sub = (i - AN_HIST_LINEAR) % AN_HIST_SUB;
	*lo = (uint64_t)(AN_HIST_SUB + sub) << (e - 7);
	*hi = *lo + ((uint64_t)1 << (e - 7));
}

void an_hist__merge(struct an_hist *dst, const struct an_hist *src)
{
	if (!src->count)
		return;
	dst->count += src->count;
	dst->sum = dst->sum + src->sum < dst->sum ? UINT64_MAX : dst->sum + src->sum;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
	for (unsigned int i = 0; i < AN_HIST_BUCKETS; i++)
		dst->b[i] += src->b[i];
}

uint64_t an_hist__quantile(const struct an_hist *h, double q)
{
	uint64_t rank, seen = 0;

	if (!h->count)
		return 0;
	if (q <= 0)
		return h->min;
	if (q >= 1)
		return h->max;
	rank = (uint64_t)ceil(q * (double)h->count);
	if (rank == 0)
		rank = 1;
	for (unsigned int i = 0; i < AN_HIST_BUCKETS; i++) {
		uint64_t lo, hi, mid;

		seen += h->b[i];
		if (seen < rank)
			continue;
		bucket_range(i, &lo, &hi);
		mid = lo + (hi - lo - 1) / 2;
		if (mid < h->min)
			mid = h->min;
		if (mid > h->max)
			mid = h->max;
		return mid;
	}
	return h->max;
}

void an_hist__log2(const struct an_hist *h, uint64_t out[AN_HIST_LOG2])
{
	out[0] = h->b[0];
	for (unsigned int k = 1; k < AN_HIST_LOG2; k++) {
		uint64_t lo = (uint64_t)1 << (k - 1), hi = lo - 1 + lo; /* 2^k - 1 */

		out[k] = 0;
		for (unsigned int i = an_hist__bucket(lo); i <= an_hist__bucket(hi); i++)
			out[k] += h->b[i];
	}
}
