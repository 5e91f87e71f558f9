// SPDX-License-Identifier: BSD-2-Clause
#include "runtime/rt_goconv.h"

int rt_goconv__str_miss(struct rt_goconv *cv, const char *s, size_t len, uint64_t *id)
{
	size_t h = ((uintptr_t)s >> 3) & 255;
	int err = cv->intern(cv->ctx, s, len, id);

	if (!err) {
		cv->scache[h].s = s;
		cv->scache[h].len = len;
		cv->scache[h].sid = *id;
	}
	return err;
}
