// SPDX-License-Identifier: BSD-2-Clause
/*
 * Root-only: load and attach bpf/tpcount.bpf.c through col_tpcount and check
 * it counts exactly our getppid() calls.  Skips without root or kernel BTF.
 * Criterion runs each test in a forked worker; getpid() is that worker, and
 * mount namespace changes stay in it.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "base/gs_err.h"
#include "collect/col_tpcount.h"

#define NCALLS 1000
#define TRACEFS "/sys/kernel/tracing"

static bool used_raw_tp;

static void log_sink(enum gs_log_level level, const char *msg)
{
	if (strstr(msg, "tpcount: attaching to raw_tp"))
		used_raw_tp = true;
	if (level <= GS_LOG_WARN)
		fprintf(stderr, "test_bpf: %s\n", msg);
}

static void setup(void)
{
	const char *why = NULL;

	if (geteuid() != 0)
		why = "not root";
	else if (access("/sys/kernel/btf/vmlinux", R_OK) != 0)
		why = "no /sys/kernel/btf/vmlinux";
	if (why) {
		fprintf(stderr, "test_bpf: skipped: %s\n", why);
		cr_skip_test("%s", why);
	}
	gs_log__set_fn(log_sink);
}

static unsigned long long count_calls(unsigned int tgid)
{
	struct col_tpcount *t = NULL;
	unsigned long long hits = ~0ULL;
	int err;

	err = col_tpcount__open(tgid, &t);
	cr_assert_eq(err, 0, "col_tpcount__open: %s", gs_strerror(err));
	for (int i = 0; i < NCALLS; i++)
		syscall(SYS_getppid);
	err = col_tpcount__read(t, &hits);
	cr_assert_eq(err, 0, "col_tpcount__read: %s", gs_strerror(err));
	col_tpcount__free(t);
	return hits;
}

Test(bpf, tpcount_counts_own_calls)
{
	setup();
	cr_assert_eq(count_calls(getpid()), NCALLS);
}

Test(bpf, tpcount_ignores_other_tgid)
{
	unsigned long long hits;
	pid_t child;

	setup();
	child = fork();
	cr_assert_geq(child, 0, "fork: %s", strerror(errno));
	if (child == 0) {
		pause(); /* idle: makes no getppid() calls */
		_exit(0);
	}
	hits = count_calls(child);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	cr_assert_eq(hits, 0);
}

Test(bpf, tpcount_any_tgid)
{
	setup();
	cr_assert_geq(count_calls(0), NCALLS);
}

/* Force the tracepoint program: mount tracefs in a private mount namespace. */
Test(bpf, tpcount_tracepoint_program)
{
	setup();
	if (access(TRACEFS "/events", F_OK) != 0 &&
	    (unshare(CLONE_NEWNS) ||
	     mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	     mount("tracefs", TRACEFS, "tracefs", 0, NULL))) {
		fprintf(stderr, "test_bpf: skipped: mount tracefs: %s\n",
			strerror(errno));
		cr_skip_test("cannot mount tracefs");
	}
	cr_assert_eq(count_calls(getpid()), NCALLS);
	cr_assert_not(used_raw_tp, "raw_tp fallback used despite tracefs");
}

Test(bpf, tpcount_free_null)
{
	col_tpcount__free(NULL);
}
