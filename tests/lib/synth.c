// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/synth.h"

struct rng {
	uint64_t s;
};

static uint64_t next(struct rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545f4914f6cdd1dull;
}

static uint64_t below(struct rng *r, uint64_t n)
{
	return next(r) % n;
}

/* Exponential-ish gap with the given mean (ns), from a cheap log2. */
static uint64_t gap(struct rng *r, uint64_t mean)
{
	uint64_t u = next(r) >> 11; /* 53 bits */
	int lz = u ? __builtin_clzll(u) - 11 : 53;

	/* -ln(u) ~ lz * ln2 + fraction: a geometric mix, good enough here */
	return mean * (uint64_t)(lz * 69 + (int)below(r, 69)) / 100 + 1;
}

/* 80% of picks from the first 10% of threads. */
static uint32_t pick_tid(struct rng *r, int nthreads)
{
	int hot = nthreads / 10 ? nthreads / 10 : 1;

	if (below(r, 100) < 80)
		return 1000 + (uint32_t)below(r, (uint64_t)hot);
	return 1000 + (uint32_t)below(r, (uint64_t)nthreads);
}

#define NSTACKS 2000
#define NFUNCS 500

struct stacks {
	uint64_t ids[NSTACKS];
};

static int make_stacks(struct tf_writer *w, struct rng *r, struct stacks *st,
		       bool small)
{
	int nfuncs = small ? 10 : NFUNCS, nstacks = small ? 20 : NSTACKS;
	uint64_t fr[NFUNCS], map = 0, path;
	struct tf_mapping m = { .pid = 4242, .start = 0x400000, .end = 0x800000 };
	int err;

	err = tf_writer__intern_string(w, "/usr/bin/synth", 14, &path);
	if (err)
		return err;
	m.path_sid = path;
	err = tf_writer__intern_mapping(w, &m, &map);
	if (err)
		return err;
	for (int i = 0; i < nfuncs; i++) {
		char name[64], file[64];
		struct tf_frame f = { .mapping_id = map, .kind = 3 };
		int n = snprintf(name, sizeof(name), "main.func%03d", i);
		int k = snprintf(file, sizeof(file), "/src/synth/file%02d.go", i % 40);

		f.rel_pc = 0x1000 + (uint64_t)i * 0x40;
		f.line = 10 + (uint32_t)i;
		err = tf_writer__intern_string(w, name, (size_t)n, &f.function_sid);
		err = err ?: tf_writer__intern_string(w, file, (size_t)k, &f.file_sid);
		err = err ?: tf_writer__intern_frame(w, &f, &fr[i]);
		if (err)
			return err;
	}
	for (int s = 0; s < NSTACKS; s++) {
		if (s >= nstacks) {
			st->ids[s] = st->ids[s % nstacks];
			continue;
		}
		uint64_t frames[32];
		int depth = 4 + (int)below(r, 24);

		/* shared roots: main.func000 -> a few dispatchers -> leaves */
		for (int d = 0; d < depth; d++) {
			int lvl = depth - 1 - d; /* 0 = root */

			frames[d] = lvl == 0 ? fr[0] :
				    lvl < 3 ? fr[1 + below(r, small ? 4 : 8)] :
					      fr[below(r, (uint64_t)nfuncs)];
		}
		err = tf_writer__intern_stack(w, frames, (size_t)depth, &st->ids[s]);
		if (err)
			return err;
	}
	return 0;
}

static int write_meta(struct tf_writer *w, uint64_t ts, int nthreads,
		      struct synth_counts *c)
{
	Gscope__V1__Packet pkt = GSCOPE__V1__PACKET__INIT;
	Gscope__V1__ProcessInfo pi = GSCOPE__V1__PROCESS_INFO__INIT;
	Gscope__V1__ThreadInfo ti = GSCOPE__V1__THREAD_INFO__INIT;
	Gscope__V1__GcCycle gc = GSCOPE__V1__GC_CYCLE__INIT;
	Gscope__V1__LossReport lr = GSCOPE__V1__LOSS_REPORT__INIT;
	char *argv[] = { (char *)"synth", (char *)"--work" };
	char name[32];
	int err;

	pi.has_pid = pi.has_ppid = pi.has_start_ts = pi.has_runtime = 1;
	pi.pid = 4242;
	pi.ppid = 1;
	pi.start_ts = ts;
	pi.n_cmdline = 2;
	pi.cmdline = argv;
	pi.runtime = GSCOPE__V1__RUNTIME__RUNTIME_GO;
	pi.runtime_version = (char *)"go1.23.5";
	pkt.data_case = GSCOPE__V1__PACKET__DATA_PROCESS;
	pkt.process = &pi;
	err = tf_writer__add_packet(w, &pkt);
	if (err)
		return err;
	c->meta_packets++;
	for (int i = 0; i < nthreads && i < 16; i++) {
		snprintf(name, sizeof(name), "worker-%d", i);
		ti.has_tid = ti.has_pid = ti.has_ts = 1;
		ti.tid = 1000 + (uint32_t)i;
		ti.pid = 4242;
		ti.ts = ts;
		ti.name = name;
		pkt.data_case = GSCOPE__V1__PACKET__DATA_THREAD;
		pkt.thread = &ti;
		err = tf_writer__add_packet(w, &pkt);
		if (err)
			return err;
		c->meta_packets++;
	}
	gc.has_pid = gc.has_seq = gc.has_start_ts = gc.has_end_ts = 1;
	gc.has_heap_live_start = gc.has_heap_goal = 1;
	gc.pid = 4242;
	gc.seq = 1;
	gc.start_ts = ts + 1000;
	gc.end_ts = ts + 250000;
	gc.heap_live_start = 4 << 20;
	gc.heap_goal = 8 << 20;
	pkt.data_case = GSCOPE__V1__PACKET__DATA_GC_CYCLE;
	pkt.gc_cycle = &gc;
	err = tf_writer__add_packet(w, &pkt);
	if (err)
		return err;
	lr.has_ts = lr.has_source = lr.has_cpu = lr.has_lost_events = 1;
	lr.ts = ts + 5000;
	lr.source = GSCOPE__V1__LOSS_REPORT__SOURCE__BPF_RINGBUF;
	lr.cpu = 1;
	lr.lost_events = 7;
	pkt.data_case = GSCOPE__V1__PACKET__DATA_LOSS;
	pkt.loss = &lr;
	err = tf_writer__add_packet(w, &pkt);
	c->meta_packets += 2;
	return err;
}

int synth_write(struct tf_writer *w, const struct synth_opts *o,
		struct synth_counts *c)
{
	struct rng r = { o->seed * 0x9e3779b97f4a7c15ull + 0x1234567 };
	int ncpu = o->ncpu ? o->ncpu : 8, nthreads = o->nthreads ? o->nthreads : 200;
	uint32_t cur[256];
	uint64_t now = 3600ull * 1000000000ull * 24 * 41; /* ~41 days of uptime */
	struct stacks *st;
	int err;

	if (ncpu > 256)
		return -EINVAL;
	memset(c, 0, sizeof(*c));
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	err = make_stacks(w, &r, st, o->small);
	if (!err && o->meta)
		err = write_meta(w, now, nthreads, c);
	for (int i = 0; i < ncpu; i++)
		cur[i] = pick_tid(&r, nthreads);
	c->first_ts = now;
	for (uint64_t i = 0; i < o->events && !err; i++) {
		int cpu = (int)below(&r, (uint64_t)ncpu);
		uint64_t kind = below(&r, 100);

		if (o->gen_every && i && i % o->gen_every == 0) {
			err = tf_writer__new_generation(w);
			err = err ?: make_stacks(w, &r, st, o->small);
			if (err)
				break;
		}
		now += gap(&r, 1500);
		c->sum_ts += now;
		if (o->go_and_alloc && kind >= 90) {
			if (kind >= 96) {
				struct tf_alloc a = {
					.ts = now, .pid = 4242, .tid = cur[cpu],
					.size = 16u << below(&r, 10),
					.stack_id = st->ids[below(&r, NSTACKS)],
					.goid = 1 + below(&r, 500),
				};

				c->sum_tid += a.goid;
				c->allocs++;
				err = tf_writer__alloc(w, &a);
			} else {
				struct tf_go_event g = {
					.ts = now, .pid = 4242, .kind = 1 + (uint32_t)below(&r, 8),
					.goid = 1 + below(&r, 500), .p = (int32_t)below(&r, 3) - 1,
					.m = cur[cpu], .from_state = 1, .to_state = 2,
					.stack_id = st->ids[below(&r, NSTACKS)],
				};

				c->sum_tid += g.goid;
				c->go_events++;
				err = tf_writer__go_event(w, &g);
			}
		} else if (kind < 45) {
			struct tf_sched_switch s = {
				.ts = now, .cpu = cpu, .prev_tid = cur[cpu],
				.prev_state = below(&r, 10) < 3 ? 0 : 1,
				.next_tid = pick_tid(&r, nthreads),
				.next_prio = 120,
			};

			if (below(&r, 50) == 0)
				s.next_prio = 100 + (int32_t)below(&r, 40);
			cur[cpu] = s.next_tid;
			c->sum_tid += s.next_tid;
			c->sched_switch++;
			err = tf_writer__sched_switch(w, &s);
		} else if (kind < 80) {
			struct tf_sched_wakeup k = {
				.ts = now, .cpu = cpu, .tid = pick_tid(&r, nthreads),
				.target_cpu = (int32_t)below(&r, (uint64_t)ncpu),
				.waker_tid = cur[cpu],
			};

			c->sum_tid += k.tid;
			c->sched_wakeup++;
			err = tf_writer__sched_wakeup(w, &k);
		} else {
			struct tf_cpu_sample s = {
				.ts = now, .cpu = cpu, .tid = cur[cpu],
				.stack_id = st->ids[below(&r, NSTACKS)],
				.weight = 10101010, /* 99 Hz */
			};

			c->sum_tid += s.tid;
			c->cpu_samples++;
			err = tf_writer__cpu_sample(w, &s);
		}
	}
	c->last_ts = now;
	free(st);
	return err;
}

const Gscope__V1__TraceHeader *synth_header(void)
{
	static Gscope__V1__HostInfo host = GSCOPE__V1__HOST_INFO__INIT;
	static Gscope__V1__TraceHeader h = GSCOPE__V1__TRACE_HEADER__INIT;

	host.hostname = (char *)"synth-host";
	host.kernel_release = (char *)"6.1.0-synth";
	host.machine = (char *)"x86_64";
	host.has_num_cpus = 1;
	host.num_cpus = 8;
	h.tool_name = (char *)"gscope";
	h.tool_version = (char *)"synth";
	h.has_trace_clock = 1;
	h.trace_clock = GSCOPE__V1__CLOCK_ID__CLOCK_MONOTONIC;
	h.has_start_ts = 1;
	h.start_ts = 3600ull * 1000000000ull * 24 * 41;
	h.host = &host;
	return &h;
}
