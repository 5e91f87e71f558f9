// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <stdio.h>

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
