/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Latency histograms.
 *
 * an_hist is HDR-style: values below 256 are exact; above, each power of
 * two is split into 128 linear buckets, so a bucket spans at most 1/128 of
 * its lower bound and a percentile read from it (the bucket midpoint,
 * clamped to the exact min and max) is within 0.4% of the true value.
 * Count, sum, min and max are exact.  It also keeps the log2 buckets
 * shown as a BCC runqlat-style distribution.
 */
#ifndef AN_HIST_H
#define AN_HIST_H

#include <stdint.h>

#define AN_HIST_LINEAR 256
#define AN_HIST_SUB 128
#define AN_HIST_BUCKETS (AN_HIST_LINEAR + (64 - 8) * AN_HIST_SUB)
#define AN_HIST_LOG2 65

struct an_hist {
	uint64_t count;
	uint64_t sum;    /* saturates at UINT64_MAX */
	uint64_t min, max;
	uint64_t b[AN_HIST_BUCKETS];
};

void an_hist__init(struct an_hist *h);
void an_hist__merge(struct an_hist *dst, const struct an_hist *src);

/* Value at quantile q in [0, 1] (0 when empty). */
uint64_t an_hist__quantile(const struct an_hist *h, double q);

/*
 * The counts of the log2 slots: out[0] the value 0, out[k] [2^(k-1), 2^k).
 * Exact: the buckets split every power of two.
 */
void an_hist__log2(const struct an_hist *h, uint64_t out[AN_HIST_LOG2]);

static inline unsigned int an_hist__bucket(uint64_t v)
{
	unsigned int e;

	if (v < AN_HIST_LINEAR)
		return (unsigned int)v;
	e = 63 - (unsigned int)__builtin_clzll(v); /* >= 8 */
	return AN_HIST_LINEAR + (e - 8) * AN_HIST_SUB +
	       (unsigned int)((v >> (e - 7)) & (AN_HIST_SUB - 1));
}

/* Inline: analyses add a value per event. */
static inline void an_hist__add(struct an_hist *h, uint64_t v)
{
	h->count++;
	h->sum = h->sum + v < h->sum ? UINT64_MAX : h->sum + v;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
	h->b[an_hist__bucket(v)]++;
}
#endif
