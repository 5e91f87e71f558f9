// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/gs_err.h"
#include "bpf/tpcount.skel.h"
#include "collect/col_libbpf.h"
#include "collect/col_tpcount.h"

#define TP_ID_PATH "events/syscalls/sys_enter_getppid/id"

struct col_tpcount {
	struct tpcount_bpf *skel;
};

/* libbpf resolves "tracepoint/..." through tracefs, which may be unmounted. */
static bool have_tracepoint(void)
{
	return access("/sys/kernel/tracing/" TP_ID_PATH, F_OK) == 0 ||
	       access("/sys/kernel/debug/tracing/" TP_ID_PATH, F_OK) == 0;
}

/* Keep exactly one of the two programs: see bpf/tpcount.bpf.c. */
static void choose_program(struct tpcount_bpf *skel)
{
	bool tp = have_tracepoint();

	bpf_program__set_autoload(skel->progs.handle_sys_enter_getppid, tp);
	bpf_program__set_autoload(skel->progs.handle_raw_sys_enter, !tp);
	gs_log(GS_LOG_INFO, "tpcount: attaching to %s",
	       tp ? "tracepoint/syscalls/sys_enter_getppid" :
		    "raw_tp/sys_enter (tracefs not mounted)");
}

int col_tpcount__open(unsigned int tgid, struct col_tpcount **out)
{
	struct col_tpcount *t;
	int err;

	col_libbpf__init();
	t = calloc(1, sizeof(*t));
	if (!t)
		return gs_errf(-ENOMEM, "tpcount: out of memory");
	t->skel = tpcount_bpf__open();
	if (!t->skel) {
		err = errno ? -errno : -ENOMEM;
		gs_errf(err, "tpcount: failed to open BPF object: %s",
			gs_strerror(err));
		goto err_out;
	}
	t->skel->rodata->cfg_tgid = tgid;
	t->skel->rodata->cfg_getppid_nr = SYS_getppid;
	choose_program(t->skel);
	err = tpcount_bpf__load(t->skel);
	if (err) {
		gs_errf(err, "tpcount: failed to load BPF object: %s",
			gs_strerror(err));
		goto err_out;
	}
	err = tpcount_bpf__attach(t->skel);
	if (err) {
		gs_errf(err, "tpcount: failed to attach BPF program: %s",
			gs_strerror(err));
		goto err_out;
	}
	*out = t;
	return 0;

err_out:
	col_tpcount__free(t);
	return err;
}

int col_tpcount__read(const struct col_tpcount *t, unsigned long long *hits)
{
	/* .bss is mmap()ed; the BPF side updates it with atomic adds. */
	*hits = __atomic_load_n(&t->skel->bss->hits, __ATOMIC_RELAXED);
	return 0;
}

void col_tpcount__free(struct col_tpcount *t)
{
	if (!t)
		return;
	tpcount_bpf__destroy(t->skel);
	free(t);
}
