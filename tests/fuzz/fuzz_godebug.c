// SPDX-License-Identifier: BSD-2-Clause
/*
 * libFuzzer harness for the GODEBUG line parser (runtime/rt_godebug.c).
 * The input is one line.  Oracles besides the sanitizers:
 *  - the result is 1, 0 or -GS_E_FORMAT, with a kind that matches;
 *  - borrowed strings lie inside the input; list lengths are in bounds;
 *  - a trailing "\n" does not change the result;
 *  - every prefix of a line the parser commits to (1 or -GS_E_FORMAT) is
 *    accepted by rt_godebug__may_be_prefix: otherwise the collector would
 *    pass such a line through before it is complete and never parse it.
 */
#include <stdlib.h>
#include <string.h>

#include "base/gs_err.h"
#include "runtime/rt_godebug.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct rt_godebug_rec rec;

static void check_span(const char *p, size_t n, const char *base, size_t size)
{
	if (n && (p < base || p + n > base + size))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	char *copy;
	int r, r2;

	if (size > 65536)
		return 0;
	r = rt_godebug__parse_line(s, size, &rec);
	if (r != 1 && r != 0 && r != -GS_E_FORMAT)
		abort();
	if (r != 1 && rec.kind != RT_GODEBUG_NONE)
		abort();
	if (r == 1) {
		switch (rec.kind) {
		case RT_GODEBUG_SCHED:
			if (rec.sched.nprocs > RT_GODEBUG_MAX_P ||
			    (!rec.sched.detail && !rec.sched.nprocs) ||
			    (rec.sched.detail && rec.sched.nprocs) ||
			    rec.sched.needspinning < -1)
				abort();
			break;
		case RT_GODEBUG_SCHED_P:
			if (rec.p.id >= RT_GODEBUG_MAX_P || rec.p.m < -1)
				abort();
			break;
		case RT_GODEBUG_SCHED_M:
			check_span(rec.m.preemptoff, rec.m.preemptoff_len, s, size);
			break;
		case RT_GODEBUG_SCHED_G:
			check_span(rec.g.waitreason, rec.g.waitreason_len, s, size);
			break;
		case RT_GODEBUG_GC:
			if (rec.gc.heap_goal % (1u << 20))
				abort();
			break;
		case RT_GODEBUG_GC_FORCED:
			break;
		default:
			abort();
		}
	}

	/* the same line with its newline */
	if (size && s[size - 1] != '\n' && s[size - 1] != '\r') {
		copy = malloc(size + 1);
		if (!copy)
			return 0;
		memcpy(copy, s, size);
		copy[size] = '\n';
		r2 = rt_godebug__parse_line(copy, size + 1, &rec);
		free(copy);
		if (r2 != r)
			abort();
	}

	/* prefixes of a committed line must be held back, not passed on */
	if (r != 0 && !memchr(s, '\n', size) && !memchr(s, '\r', size)) {
		size_t step = size <= 512 ? 1 : size / 256;

		for (size_t k = 1; k <= size; k += step)
			if (!rt_godebug__may_be_prefix(s, k))
				abort();
	}
	return 0;
}
