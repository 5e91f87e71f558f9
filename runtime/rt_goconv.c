// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>

#include "base/gs_mem.h"
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

int rt_goblock__init(struct rt_goblock *b, const struct rt_go_sink *sink)
{
	b->cv = NULL;
	b->sink = sink;
	b->ev = NULL;
	b->n = 0;
	if (!sink || !sink->conv || !sink->go_events)
		return 0;
	b->ev = gs_malloc(RT_GOCONV_BLOCK * sizeof(*b->ev));
	if (!b->ev)
		return -ENOMEM;
	b->cv = sink->conv;
	return 0;
}

void rt_goblock__release(struct rt_goblock *b)
{
	gs_free(b->ev);
	b->ev = NULL;
}

int rt_goblock__flush(struct rt_goblock *b)
{
	size_t n = b->n;

	b->n = 0;
	return n ? b->sink->go_events(b->sink->ctx, b->ev, n) : 0;
}
