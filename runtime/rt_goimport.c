// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/gs_err.h"
#include "base/gs_mem.h"
#include "runtime/rt_goconv.h"
#include "runtime/rt_goimport.h"

#define MAX_STACK_ID (1u << 24)

struct imp {
	struct tf_writer *w;
	struct rt_goconv cv;   /* pid, stacks, strings */
	uint64_t *stacks;      /* decoder stack id -> .gst stack id (cv.stacks) */
	size_t cap;
	uint64_t *frames;      /* scratch: frame ids of one stack */
	size_t frames_cap;
	uint64_t gen_bytes;    /* file bytes when the .gst generation began */
	uint64_t events;
	const struct rt_goimport_opts *o;
};

static int intern(void *ctx, const char *s, size_t len, uint64_t *id)
{
	struct imp *im = ctx;

	return tf_writer__intern_string(im->w, s, len, id);
}

static int on_stack(void *ctx, uint64_t id, const struct rt_go_frame *f, size_t n)
{
	struct imp *im = ctx;
	void *p = im->stacks;
	uint64_t sid;
	int err;

	if (id == 0 || id >= MAX_STACK_ID)
		return gs_errf(-GS_E_LIMIT, "go trace: stack id %llu over limit",
			       (unsigned long long)id);
	if (n > TF_MAX_STACK_DEPTH)
		n = TF_MAX_STACK_DEPTH; /* keep the leaf-most frames */
	if (id >= im->cv.nstacks) {
		size_t old = im->cv.nstacks;

		err = gs_grow(&p, &im->cap, sizeof(uint64_t), (size_t)id + 1,
			      MAX_STACK_ID);
		im->stacks = p;
		im->cv.stacks = p;
		if (err)
			return err;
		memset(im->stacks + old, 0, (im->cap - old) * sizeof(uint64_t));
		im->cv.nstacks = im->cap;
	}
	p = im->frames;
	err = gs_grow(&p, &im->frames_cap, sizeof(uint64_t), n ? n : 1,
		      TF_MAX_STACK_DEPTH);
	im->frames = p;
	if (err)
		return err;
	for (size_t i = 0; i < n; i++) {
		struct tf_frame fr = { .rel_pc = f[i].pc, .line = (uint32_t)f[i].line,
				       .kind = GSCOPE__V1__FRAME_KIND__FRAME_GO };

		err = rt_goconv__str(&im->cv, f[i].func, f[i].func_len, &fr.function_sid);
		err = err ?: rt_goconv__str(&im->cv, f[i].file, f[i].file_len, &fr.file_sid);
		err = err ?: tf_writer__intern_frame(im->w, &fr, &im->frames[i]);
		if (err)
			return err;
	}
	err = tf_writer__intern_stack(im->w, im->frames, n, &sid);
	if (err)
		return err;
	im->stacks[id] = sid;
	return 0;
}

/* Converted events to the writer (the sink's go_events). */
static int on_go_events(void *ctx, const struct tf_go_event *ev, size_t n)
{
	struct imp *im = ctx;
	uint64_t before = im->events;

	im->events += n;
	if ((before ^ im->events) >> 16 && im->o && im->o->progress)
		im->o->progress(im->o->progress_ctx, im->events); /* each 65536 */
	return tf_writer__go_events(im->w, ev, n);
}

/*
 * Decoder stack ids restart with every v2 generation.  The .gst interning
 * tables carry over (the same stacks recur), except that a new .gst
 * generation starts every 64 MiB to bound what a damaged chunk can cost.
 */
static int on_generation(void *ctx, uint64_t gen)
{
	struct imp *im = ctx;
	uint64_t written = tf_writer__stats(im->w)->file_bytes;

	if (im->stacks)
		memset(im->stacks, 0, im->cv.nstacks * sizeof(uint64_t));
	memset(im->cv.scache, 0, sizeof(im->cv.scache)); /* decoder strings change */
	if (written - im->gen_bytes >= (64u << 20)) {
		im->gen_bytes = written;
		return tf_writer__new_generation(im->w);
	}
	return 0;
}

/* v1: the events carry ticks, which the .gst keeps (smaller than ns) */
static int on_clock(void *ctx, double tick_ns)
{
	struct imp *im = ctx;

	return tf_writer__go_clock(im->w, im->cv.pid, tick_ns);
}

static int on_cpu_sample(void *ctx, uint64_t ts, uint64_t g, int32_t p,
			 uint64_t m, uint64_t stack)
{
	struct imp *im = ctx;
	struct tf_cpu_sample s = {
		.ts = ts, .cpu = -1, .tid = (uint32_t)m,
		.stack_id = rt_goconv__stack(&im->cv, stack), .goid = g,
	};

	return tf_writer__cpu_sample(im->w, &s);
}

static int write_process(struct imp *im, const char *source, int version)
{
	Gscope__V1__Packet pkt = GSCOPE__V1__PACKET__INIT;
	Gscope__V1__ProcessInfo pi = GSCOPE__V1__PROCESS_INFO__INIT;
	Gscope__V1__KeyValue kv = GSCOPE__V1__KEY_VALUE__INIT, *pkv = &kv;
	char ver[32];

	snprintf(ver, sizeof(ver), "go%d.%d", version / 1000, version % 1000);
	pi.has_pid = pi.has_runtime = 1;
	pi.pid = im->cv.pid;
	pi.runtime = GSCOPE__V1__RUNTIME__RUNTIME_GO;
	pi.runtime_version = ver;
	kv.key = (char *)"go_trace_source";
	kv.str_value = (char *)source;
	pi.n_attributes = 1;
	pi.attributes = &pkv;
	pkt.data_case = GSCOPE__V1__PACKET__DATA_PROCESS;
	pkt.process = &pi;
	return tf_writer__add_packet(im->w, &pkt);
}

int rt_goimport__mem(const uint8_t *data, size_t len, const char *name,
		     const struct rt_goimport_opts *o, struct tf_writer *w,
		     struct rt_gotrace_stats *st)
{
	struct imp im = { .w = w, .o = o };
	const struct rt_go_sink sink = {
		.ctx = &im, .stack = on_stack, .generation = on_generation,
		.cpu_sample = on_cpu_sample,
		/* the decoders convert the events and hand them over in blocks,
		 * before every generation and CPU sample and at the end */
		.conv = &im.cv, .go_events = on_go_events, .clock = on_clock,
	};
	int version, err;

	im.cv.pid = o ? o->pid : 0;
	im.cv.intern = intern;
	im.cv.ctx = &im;
	im.gen_bytes = tf_writer__stats(w)->file_bytes;
	err = rt_gotrace__version(data, len, &version);
	if (err)
		return err;
	err = write_process(&im, o && o->source ? o->source : name, version);
	err = err ?: rt_gotrace__decode(data, len, name, &sink, st);
	/* back to ns for whatever the writer gets next for this pid */
	if (!err)
		err = tf_writer__go_clock(w, im.cv.pid, 0);
	gs_free(im.stacks);
	gs_free(im.frames);
	return err;
}

int rt_goimport__file(const char *path, const struct rt_goimport_opts *o,
		      struct tf_writer *w, struct rt_gotrace_stats *st)
{
	struct stat sb;
	void *map = NULL;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return gs_errf(-errno, "%s: cannot open: %s", path, strerror(errno));
	if (fstat(fd, &sb) < 0) {
		err = gs_errf(-errno, "%s: cannot stat: %s", path, strerror(errno));
		close(fd);
		return err;
	}
	if (!S_ISREG(sb.st_mode)) {
		close(fd);
		return gs_errf(-GS_E_FORMAT, "%s: not a regular file", path);
	}
	if (sb.st_size > 0) {
		map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (map == MAP_FAILED) {
			err = gs_errf(-errno, "%s: cannot map: %s", path, strerror(errno));
			close(fd);
			return err;
		}
		madvise(map, (size_t)sb.st_size, MADV_SEQUENTIAL);
	}
	close(fd);
	err = rt_goimport__mem(map ? map : "", (size_t)sb.st_size, path, o, w, st);
	if (map)
		munmap(map, (size_t)sb.st_size);
	return err;
}
