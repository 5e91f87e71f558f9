/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fill a TraceHeader with what the running system says: tool, host
 * (hostname, uname, os-release, CPUs, page size, memory, boot id), the
 * trace clock (CLOCK_MONOTONIC), start time, a clock snapshot and a random
 * trace uuid.  Strings and sub-messages are allocated in the caller's
 * arena, so the header lives as long as it.
 */
#ifndef TF_HEADER_H
#define TF_HEADER_H

#include "base/gs_mem.h"
#include "format/tf_format.h"

struct tf_header {
	Gscope__V1__TraceHeader h;
	Gscope__V1__HostInfo host;
	Gscope__V1__ClockSnapshot clocks;
	Gscope__V1__ClockSnapshot__Clock clock[3], *pclock[3];
	uint8_t uuid[16];
	struct gs_arena arena;
};

/* 0 or -ENOMEM; missing system files just leave fields unset. */
int tf_header__init_host(struct tf_header *th, const char *tool_version);

/* Add a "key" = "value" attribute (copied). */
int tf_header__add_attr(struct tf_header *th, const char *key, const char *value);

void tf_header__release(struct tf_header *th);

#endif
