// SPDX-License-Identifier: BSD-2-Clause
/*
 * analyze/an_hist: exact count, sum, min and max; log2 slots derived from
 * the buckets; quantiles within the documented relative error.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>

#include "analyze/an_hist.h"
#include "tests/unit/tutil.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Every power-of-two boundary lands in its BCC runqlat slot. */
Test(hist, log2_slots_at_the_boundaries)
{
	static struct an_hist h;
	uint64_t l2[AN_HIST_LOG2], total = 0;

	an_hist__init(&h);
	an_hist__add(&h, 0);
	for (unsigned int k = 1; k < AN_HIST_LOG2; k++) {
		uint64_t lo = (uint64_t)1 << (k - 1);

		an_hist__add(&h, lo);          /* first value of slot k */
		an_hist__add(&h, lo - 1 + lo); /* last: 2^k - 1 */
		if (k >= 3)
			an_hist__add(&h, lo + lo / 3); /* one inside */
	}
	an_hist__log2(&h, l2);
	cr_assert_eq(l2[0], 1);
	cr_assert_eq(l2[1], 2); /* 1 twice: [1, 1] */
	cr_assert_eq(l2[2], 2); /* 2, 3 */
	for (unsigned int k = 3; k < AN_HIST_LOG2; k++)
		cr_assert_eq(l2[k], 3, "slot %u: %llu", k, (ull)l2[k]);
	for (unsigned int k = 0; k < AN_HIST_LOG2; k++)
		total += l2[k];
	cr_assert_eq(total, h.count);
	cr_assert_eq(h.min, 0);
	cr_assert_eq(h.max, UINT64_MAX);
	cr_assert_eq(h.sum, UINT64_MAX, "the sum saturates");
}

/*
 * 200000 values spread over nine decades: count, sum, min and max exact,
 * and p50/p90/p99/p99.9 within 1% of the exact order statistics.
 */
Test(hist, quantiles_within_one_percent)
{
	enum { N = 200000 };
	static struct an_hist h;
	uint64_t *v = calloc(N, sizeof(*v)), sum = 0;
	static const double qs[] = { 0.5, 0.9, 0.99, 0.999 };
	struct rng r = { 3 };

	cr_assert_not_null(v);
	an_hist__init(&h);
	for (size_t i = 0; i < N; i++) {
		v[i] = (rnd(&r) >> (64 - 30)) >> below(&r, 30); /* 0 .. 2^30, log-spread */
		sum += v[i];
		an_hist__add(&h, v[i]);
	}
	qsort(v, N, sizeof(*v), cmp_u64);
	cr_assert_eq(h.count, N);
	cr_assert_eq(h.sum, sum);
	cr_assert_eq(h.min, v[0]);
	cr_assert_eq(h.max, v[N - 1]);
	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		uint64_t exact = v[(size_t)(qs[i] * N + 0.999999) - 1];
		uint64_t got = an_hist__quantile(&h, qs[i]);
		double err = exact ? ((double)got - (double)exact) / (double)exact : (double)got;

		cr_assert(err <= 0.01 && err >= -0.01, "q %.3f: %llu, exact %llu",
			  qs[i], (ull)got, (ull)exact);
	}
	cr_assert_eq(an_hist__quantile(&h, 0), v[0]);
	cr_assert_eq(an_hist__quantile(&h, 1), v[N - 1]);
	free(v);
}
