// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/gocursor.h"

bool gocursor_event_eq(const struct tf_go_event *a, const struct tf_go_event *b)
{
	return a->ts == b->ts && a->pid == b->pid && a->kind == b->kind &&
	       a->goid == b->goid && a->from_state == b->from_state &&
	       a->to_state == b->to_state && a->reason_sid == b->reason_sid &&
	       a->p == b->p && a->m == b->m && a->stack_id == b->stack_id &&
	       a->arg == b->arg && a->arg2 == b->arg2;
}

static int init(struct tf_go_cursor *c, const uint8_t *p, size_t len,
		const struct tf_batch *d, uint32_t want)
{
	size_t at;
	int rc = tf_go_cursor__init(c, p, len, want, &at);

	if (rc == -EAGAIN && d) {
		tf_go_cursor__init_batch(c, d, want);
		rc = 0;
	}
	return rc;
}

int gocursor_read_agrees(const uint8_t *p, size_t len, const struct tf_batch *d,
			 uint32_t want, size_t max, char *why, size_t why_len)
{
	struct tf_go_cursor a, b;
	struct tf_go_event ea, eb[64];
	size_t seen = 0;
	int rc, n;

	if (max > 64)
		max = 64;
	if (init(&a, p, len, d, want) || init(&b, p, len, d, want))
		return 0; /* not walked */
	for (;;) {
		n = tf_go_cursor__read(&b, eb, max);
		if (n > (int)max) {
			snprintf(why, why_len, "read() returned %d for max %zu", n, max);
			return -1;
		}
		if (n < 0) { /* next() fails at the same place, maybe events later */
			while ((rc = tf_go_cursor__next(&a, &ea)) > 0)
				seen++;
			if (rc != n || a.bad != b.bad) {
				snprintf(why, why_len, "read() failed with %d, next() with %d "
					 "(after %zu events)", n, rc, seen);
				return -1;
			}
			return 0;
		}
		if (n == 0) {
			rc = tf_go_cursor__next(&a, &ea);
			if (rc != 0) {
				snprintf(why, why_len, "read() ended after %zu events, next() "
					 "gives %d", seen, rc);
				return -1;
			}
			return 0;
		}
		for (int i = 0; i < n; i++, seen++) {
			rc = tf_go_cursor__next(&a, &ea);
			if (rc <= 0 || !gocursor_event_eq(&ea, &eb[i])) {
				snprintf(why, why_len, "event %zu differs (next() %d)", seen, rc);
				return -1;
			}
		}
	}
}

long gocursor_sparse_read(const uint8_t *p, size_t len, uint32_t want, bool blocks_too,
			  struct tf_go_event *ev, size_t max, const uint8_t **bad,
			  size_t *blocks)
{
	uint64_t bts[TF_GO_SPARSE_BLOCK];
	uint32_t bkw[TF_GO_SPARSE_BLOCK];
	struct tf_go_cursor c;
	struct tf_go_sparse r;
	size_t n = 0, k, at;
	bool ok = true;

	if (tf_go_cursor__init(&c, p, len, want, &at) || !c.sparse)
		return -3;
	tf_go_sparse__begin(&r, &c);
	while (ok && (k = tf_go_sparse__safe(&r)) > 0) {
		while (blocks_too && k >= TF_GO_SPARSE_BLOCK && n + TF_GO_SPARSE_BLOCK <= max &&
		       tf_go_sparse__block(&r, bts, bkw)) {
			if (blocks)
				(*blocks)++;
			for (int i = 0; ok && i < TF_GO_SPARSE_BLOCK; i++)
				ok = tf_go_sparse__rest(&r, &ev[n++], bts[i], bkw[i], true, r.rd,
							r.s[TF_GO_GOID] != NULL);
			k -= TF_GO_SPARSE_BLOCK;
			if (!ok)
				break;
		}
		for (; ok && k; k--) {
			if (n == max)
				return -2;
			ok = tf_go_sparse__one(&r, &ev[n++], true);
		}
	}
	while (ok && !tf_go_sparse__done(&r)) {
		if (n == max)
			return -2;
		ok = tf_go_sparse__one(&r, &ev[n++], false);
	}
	tf_go_sparse__end(&r, &c);
	if (!ok) {
		*bad = r.s[r.bad];
		return -1;
	}
	return tf_go_cursor__end(&c) ? -2 : (long)n;
}

int gocursor_block_agrees(const uint8_t *p, size_t len, uint32_t want, char *why,
			  size_t why_len)
{
	/* a batch's events take at least one byte each in the ts column */
	size_t max = len + 1;
	struct tf_go_event *a = calloc(max, sizeof(*a)), *b = calloc(max, sizeof(*b));
	const uint8_t *bad_a = NULL, *bad_b = NULL;
	long na, nb;
	int rc = 0;

	if (!a || !b) {
		free(a), free(b);
		return 0;
	}
	na = gocursor_sparse_read(p, len, want, false, a, max, &bad_a, NULL);
	nb = gocursor_sparse_read(p, len, want, true, b, max, &bad_b, NULL);
	if (na != nb || bad_a != bad_b) {
		snprintf(why, why_len, "one by one %ld (bad at %td), by blocks %ld (bad at %td)",
			 na, bad_a ? bad_a - p : -1, nb, bad_b ? bad_b - p : -1);
		rc = -1;
	}
	for (long i = 0; !rc && i < na; i++)
		if (memcmp(&a[i], &b[i], sizeof(a[i]))) {
			snprintf(why, why_len, "event %ld differs", i);
			rc = -1;
		}
	free(a), free(b);
	return rc;
}
