// SPDX-License-Identifier: BSD-2-Clause
/*
 * libFuzzer harness for rt_gotrace_v2__decode(): any input must be decoded
 * or rejected without a crash, hang, leak or out-of-bounds read, and what
 * reaches the sink must keep the decoder's promises: time strictly
 * increasing, stack ids announced (per generation) before an event or
 * sample names them, at most 128 frames, strings with their lengths.
 *
 * Inputs that start with "go 1." are taken as they are (seed with real
 * traces); otherwise the first byte picks the version (1.22, 1.23, 1.25,
 * 1.26) and the rest is the body after a generated header, so mutations
 * spend their time past the header.  Inputs of odd size go to a sink with
 * a converter (rt_goconv.h): the events arrive in blocks, converted.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "format/tf_format.h"
#include "runtime/rt_goconv.h"
#include "runtime/rt_gotrace.h"
#include "tests/fuzz/fuzz_conv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NDEF 4096

struct fz {
	uint64_t n, last_ts;
	uint8_t defined[NDEF];
};

static void check_stack(struct fz *f, uint64_t id)
{
	if (id && id < NDEF && !f->defined[id])
		abort();
}

/* Go's Time is int64: strictly increasing unless it wraps past INT64_MAX */
static void check_time(struct fz *f, uint64_t ts)
{
	if (f->n++ && (int64_t)ts <= (int64_t)f->last_ts && f->last_ts != INT64_MAX)
		abort();
	f->last_ts = ts;
}

static int on_stack(void *ctx, uint64_t id, const struct rt_go_frame *fr, size_t n)
{
	struct fz *f = ctx;
	volatile size_t sum = 0;

	if (!id || n > 128)
		abort();
	for (size_t i = 0; i < n; i++) {
		/* touch every byte: ASan checks the borrowed strings */
		for (size_t j = 0; j < fr[i].func_len; j++)
			sum += (unsigned char)fr[i].func[j];
		for (size_t j = 0; j < fr[i].file_len; j++)
			sum += (unsigned char)fr[i].file[j];
	}
	if (id < NDEF)
		f->defined[id] = 1;
	return 0;
}

static int on_gen(void *ctx, uint64_t gen)
{
	struct fz *f = ctx;

	memset(f->defined, 0, sizeof(f->defined));
	return 0;
}

static int on_event(void *ctx, const struct rt_go_event *e)
{
	struct fz *f = ctx;
	volatile size_t sum = 0;

	check_time(f, e->ts);
	check_stack(f, e->stack);
	if ((!e->str && e->str_len) || (!e->str2 && e->str2_len))
		abort();
	for (size_t j = 0; j < e->str_len; j++)
		sum += (unsigned char)e->str[j];
	for (size_t j = 0; j < e->str2_len; j++)
		sum += (unsigned char)e->str2[j];
	return 0;
}

static int on_go_events(void *ctx, const struct tf_go_event *ev, size_t n)
{
	struct fz *f = ctx;

	if (!n || n > RT_GOCONV_BLOCK)
		abort();
	for (size_t i = 0; i < n; i++)
		check_time(f, ev[i].ts);
	return 0;
}

static int on_sample(void *ctx, uint64_t ts, uint64_t g, int32_t p, uint64_t m,
		     uint64_t stack)
{
	struct fz *f = ctx;

	check_time(f, ts);
	check_stack(f, stack);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char vers[4][3] = { "22", "23", "25", "26" };
	static struct fz f;
	static struct rt_goconv cv;
	struct rt_go_sink sink = { &f, on_stack, on_gen, on_event, on_sample };
	struct rt_gotrace_stats st;
	uint8_t *buf;
	size_t len;

	if (size >= 5 && !memcmp(data, "go 1.", 5)) {
		buf = malloc(size ? size : 1);
		if (!buf)
			return 0;
		memcpy(buf, data, size);
		len = size;
	} else {
		if (size < 1)
			return 0;
		len = 16 + size - 1;
		buf = malloc(len);
		if (!buf)
			return 0;
		memcpy(buf, "go 1.22 trace\0\0\0", 16);
		memcpy(buf + 5, vers[data[0] & 3], 2);
		memcpy(buf + 16, data + 1, size - 1);
	}
	memset(&f, 0, sizeof(f));
	if (size & 1) { /* stack ids are not mapped: stack_id 0 */
		memset(&cv, 0, sizeof(cv));
		cv.intern = fuzz_intern;
		sink.conv = &cv;
		sink.go_events = on_go_events;
	}
	/* exact-size copy: any read past the end is an ASan report */
	if (rt_gotrace_v2__decode(buf, len, "fuzz", &sink, &st) == 0 && st.bytes != len)
		abort();
	free(buf);
	return 0;
}
