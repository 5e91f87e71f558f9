// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * tpcount: count getppid() calls made by one process (or by anyone).
 *
 * The smallest real BPF program in gscope: it proves the build chain
 * (clang -> bpftool skeleton -> libbpf load/attach) and serves as a
 * capability probe.  Userspace reads the exact count from .bss.
 *
 * Userspace loads one of the two programs: the syscall tracepoint when
 * tracefs is mounted (libbpf needs it to find the tracepoint id), else the
 * raw sys_enter tracepoint, which needs no tracefs.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

/* Only count calls from this tgid (initial pid namespace); 0 = any. */
const volatile __u32 cfg_tgid = 0;
/* getppid's syscall number, for the raw_tp program; set by userspace. */
const volatile __s64 cfg_getppid_nr = -1;

__u64 hits = 0;

static __always_inline void count_call(void)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	if (cfg_tgid && tgid != cfg_tgid)
		return;
	__sync_fetch_and_add(&hits, 1);
}

SEC("tracepoint/syscalls/sys_enter_getppid")
int handle_sys_enter_getppid(void *ctx)
{
	count_call();
	return 0;
}

/* raw sys_enter(struct pt_regs *regs, long id): args[1] is the syscall nr. */
SEC("raw_tp/sys_enter")
int handle_raw_sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	if ((__s64)ctx->args[1] == cfg_getppid_nr)
		count_call();
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
