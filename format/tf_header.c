// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "format/tf_header.h"

static char *sdup(struct tf_header *th, const char *s)
{
	return gs_arena__strndup(&th->arena, s, strlen(s));
}

/* First line of a small file, without the newline, or NULL. */
static char *read_line(struct tf_header *th, const char *path, const char *prefix)
{
	char buf[512];
	FILE *f = fopen(path, "r");
	char *res = NULL;
	size_t plen = prefix ? strlen(prefix) : 0;

	if (!f)
		return NULL;
	while (fgets(buf, sizeof(buf), f)) {
		if (prefix && strncmp(buf, prefix, plen))
			continue;
		buf[strcspn(buf, "\n")] = 0;
		res = buf + plen;
		if (*res == '"') { /* os-release values may be quoted */
			res++;
			res[strcspn(res, "\"")] = 0;
		}
		res = sdup(th, res);
		break;
	}
	fclose(f);
	return res;
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int tf_header__init_host(struct tf_header *th, const char *tool_version)
{
	static const struct {
		clockid_t id;
		Gscope__V1__ClockId gid;
	} clocks[3] = {
		{ CLOCK_MONOTONIC, GSCOPE__V1__CLOCK_ID__CLOCK_MONOTONIC },
		{ CLOCK_REALTIME, GSCOPE__V1__CLOCK_ID__CLOCK_REALTIME },
		{ CLOCK_BOOTTIME, GSCOPE__V1__CLOCK_ID__CLOCK_BOOTTIME },
	};
	Gscope__V1__HostInfo *host = &th->host;
	struct utsname u;
	char name[256];
	char *mem;
	long v;

	memset(th, 0, sizeof(*th));
	gscope__v1__trace_header__init(&th->h);
	gscope__v1__host_info__init(host);
	gscope__v1__clock_snapshot__init(&th->clocks);
	th->h.tool_name = sdup(th, "gscope");
	th->h.tool_version = sdup(th, tool_version ? tool_version : "unknown");
	if (gethostname(name, sizeof(name)) == 0) {
		name[sizeof(name) - 1] = 0;
		host->hostname = sdup(th, name);
	}
	if (uname(&u) == 0) {
		host->kernel_release = sdup(th, u.release);
		host->kernel_version = sdup(th, u.version);
		host->machine = sdup(th, u.machine);
	}
	host->os_release = read_line(th, "/etc/os-release", "PRETTY_NAME=");
	v = sysconf(_SC_NPROCESSORS_ONLN);
	if (v > 0) {
		host->has_num_cpus = 1;
		host->num_cpus = (uint32_t)v;
	}
	v = sysconf(_SC_PAGESIZE);
	if (v > 0) {
		host->has_page_size = 1;
		host->page_size = (uint32_t)v;
	}
	host->cpu_model = read_line(th, "/proc/cpuinfo", "model name\t: ");
	mem = read_line(th, "/proc/meminfo", "MemTotal:");
	if (mem) {
		unsigned long long kb;

		if (sscanf(mem, "%llu", &kb) == 1) {
			host->has_mem_total_bytes = 1;
			host->mem_total_bytes = kb * 1024;
		}
	}
	{
		char *boot = read_line(th, "/proc/sys/kernel/random/boot_id", NULL);

		if (boot) {
			host->has_boot_id = 1;
			host->boot_id.data = (uint8_t *)boot;
			host->boot_id.len = strlen(boot);
		}
	}
	for (int i = 0; i < 3; i++) {
		gscope__v1__clock_snapshot__clock__init(&th->clock[i]);
		th->clock[i].has_clock_id = th->clock[i].has_timestamp = 1;
		th->clock[i].clock_id = clocks[i].gid;
		th->clock[i].timestamp = clock_ns(clocks[i].id);
		th->pclock[i] = &th->clock[i];
	}
	th->clocks.n_clocks = 3;
	th->clocks.clocks = th->pclock;
	th->h.clocks = &th->clocks;
	th->h.has_trace_clock = 1;
	th->h.trace_clock = GSCOPE__V1__CLOCK_ID__CLOCK_MONOTONIC;
	th->h.has_start_ts = 1;
	th->h.start_ts = th->clock[0].timestamp;
	th->h.has_start_realtime_ns = 1;
	th->h.start_realtime_ns = (int64_t)th->clock[1].timestamp;
	if (getrandom(th->uuid, sizeof(th->uuid), GRND_NONBLOCK) == sizeof(th->uuid)) {
		th->uuid[6] = (th->uuid[6] & 0x0f) | 0x40; /* RFC 4122 v4 */
		th->uuid[8] = (th->uuid[8] & 0x3f) | 0x80;
		th->h.has_trace_uuid = 1;
		th->h.trace_uuid.data = th->uuid;
		th->h.trace_uuid.len = sizeof(th->uuid);
	}
	th->h.host = host;
	if (!th->h.tool_name || !th->h.tool_version)
		return -ENOMEM;
	return 0;
}

int tf_header__add_attr(struct tf_header *th, const char *key, const char *value)
{
	Gscope__V1__KeyValue *kv = gs_arena__alloc(&th->arena, sizeof(*kv));
	Gscope__V1__KeyValue **arr;

	if (!kv)
		return -ENOMEM;
	gscope__v1__key_value__init(kv);
	kv->key = sdup(th, key);
	kv->str_value = sdup(th, value);
	arr = gs_arena__alloc(&th->arena, (th->h.n_attributes + 1) * sizeof(*arr));
	if (!kv->key || !kv->str_value || !arr)
		return -ENOMEM;
	if (th->h.n_attributes)
		memcpy(arr, th->h.attributes, th->h.n_attributes * sizeof(*arr));
	arr[th->h.n_attributes++] = kv;
	th->h.attributes = arr;
	return 0;
}

void tf_header__release(struct tf_header *th)
{
	gs_arena__release(&th->arena);
}
