// SPDX-License-Identifier: BSD-2-Clause
/*
 * `gscope record --go-trace URL` against a live Go service (the fixture
 * workload's http mode, net/http/pprof), its error cases, and
 * `gscope record --godebug -- CMD`, run as a user would run them.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "analyze/an_info.h"
#include "tests/lib/gofix.h"
#include "tests/unit/tutil.h"

static char tmpdir[64];
static char gscope[256];

static void setup(void)
{
	const char *out = getenv("OUTPUT");

	snprintf(gscope, sizeof(gscope), "%s/gscope", out ? out : "build");
	tmpdir_make(tmpdir, sizeof(tmpdir), "record");
}

static void teardown(void)
{
	tmpdir_remove(tmpdir);
}

TestSuite(record, .init = setup, .fini = teardown, .timeout = 300);

/* Run a shell command line; returns its exit status, stderr in *err. */
static int sh(char **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int sh(char **err, const char *fmt, ...)
{
	char cmd[2048], errpath[256];
	size_t len;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	snprintf(errpath, sizeof(errpath), "%s/stderr", tmpdir);
	strncat(cmd, " 2>", sizeof(cmd) - strlen(cmd) - 1);
	strncat(cmd, errpath, sizeof(cmd) - strlen(cmd) - 1);
	rc = system(cmd);
	cr_assert(WIFEXITED(rc), "%s", cmd);
	if (err) {
		*err = (char *)slurp(errpath, &len);
		*err = realloc(*err, len + 1);
		(*err)[len] = 0;
	}
	return WEXITSTATUS(rc);
}

static void need_binary(void)
{
	if (access(gscope, X_OK))
		cr_skip_test("%s not built", gscope);
}

Test(record, go_trace_from_live_service)
{
	static const char *const extra[] = { "-procs", "2", NULL };
	char bin[512], url[256], out[256], *err;
	struct an_info info;
	pid_t pid;

	need_binary();
	if (!gofix_go("1.23")) {
		fprintf(stderr, "test_record: skipped: Go 1.23 not installed\n");
		cr_skip_test("Go 1.23 not installed");
	}
	cr_assert_eq(gofix_build("1.23", "workload", bin, sizeof(bin)), 0);
	cr_assert_eq(gofix_http_start(bin, extra, url, sizeof(url), &pid), 0);
	snprintf(out, sizeof(out), "%s/live.gst", tmpdir);
	cr_assert_eq(sh(&err, "%s record --go-trace %s -d 1s -o %s", gscope, url, out), 0,
		     "%s", err);
	free(err);
	/* a second time with the full endpoint URL and a fractional duration */
	cr_assert_eq(sh(&err, "%s record --go-trace '%s/debug/pprof/trace' -d 500ms -o %s",
			gscope, url, out), 0, "%s", err);
	free(err);
	gofix_stop(pid);
	cr_assert_eq(an_info__compute(out, &info), 0);
	cr_assert_gt(info.kinds[TF_PKT_GO_EVENTS].events, 1000,
		     "%llu Go events", (unsigned long long)info.kinds[TF_PKT_GO_EVENTS].events);
	cr_assert_eq(info.kinds[TF_PKT_PROCESS].events, 1);
	cr_assert_eq(info.losses.clean_close, true);
	an_info__release(&info);
}

Test(record, go_trace_errors)
{
	static const char *const extra[] = { NULL };
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	char bin[512], url[256], out[256], *err;
	int s, port;
	pid_t pid;

	need_binary();
	snprintf(out, sizeof(out), "%s/err.gst", tmpdir);
	/* connection refused: a port that was free a moment ago */
	s = socket(AF_INET, SOCK_STREAM, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(getsockname(s, (struct sockaddr *)&sa, &sl), 0);
	port = ntohs(sa.sin_port);
	close(s);
	cr_assert_eq(sh(&err, "%s record --go-trace http://127.0.0.1:%d -d 1s -o %s",
			gscope, port, out), 1);
	cr_assert(strstr(err, "Couldn't connect to server"), "%s", err);
	cr_assert(strstr(err, "/debug/pprof/trace?seconds=1"), "%s", err);
	free(err);
	cr_assert_neq(access(out, F_OK), 0, "no output file after a failure");

	if (!gofix_go("1.23"))
		cr_skip_test("Go 1.23 not installed");
	cr_assert_eq(gofix_build("1.23", "workload", bin, sizeof(bin)), 0);
	cr_assert_eq(gofix_http_start(bin, extra, url, sizeof(url), &pid), 0);
	/* HTTP error */
	cr_assert_eq(sh(&err, "%s record --go-trace '%s/nothing/debug/pprof/trace' -d 1s -o %s",
			gscope, url, out), 1);
	cr_assert(strstr(err, "HTTP 404"), "%s", err);
	free(err);
	/* a body that is not a trace */
	cr_assert_eq(sh(&err, "%s record --go-trace '%s/healthz?/debug/pprof/trace' -d 1s -o %s",
			gscope, url, out), 2);
	cr_assert(strstr(err, "is not a Go execution trace"), "%s", err);
	free(err);
	gofix_stop(pid);
	cr_assert_neq(access(out, F_OK), 0, "no output file after a failure");
	/* usage errors */
	cr_assert_eq(sh(&err, "%s record -o %s", gscope, out), 2);
	free(err);
	cr_assert_eq(sh(&err, "%s record --go-trace http://x -d 0.0001ms", gscope), 2);
	cr_assert(strstr(err, "bad duration"), "%s", err);
	free(err);
}

Test(record, godebug_runs_the_program)
{
	char bin[512], out[256], *err;
	struct an_info info;
	int rc;

	need_binary();
	if (!gofix_go("1.19")) {
		fprintf(stderr, "test_record: skipped: Go 1.19 not installed\n");
		cr_skip_test("Go 1.19 not installed");
	}
	cr_assert_eq(gofix_build("1.19", "godebugload", bin, sizeof(bin)), 0);
	snprintf(out, sizeof(out), "%s/godebug.gst", tmpdir);
	rc = sh(&err, "GOMAXPROCS=2 %s record --godebug --schedtrace 100 -o %s -- %s >/dev/null",
		gscope, out, bin);
	cr_assert_eq(rc, 3, "exit status %d: %s", rc, err);
	cr_assert(strstr(err, "godebugload: done"), "%s", err);
	cr_assert_null(strstr(err, "SCHED "), "%s", err);
	cr_assert_null(strstr(err, "gc 1 @"), "%s", err);
	free(err);
	cr_assert_eq(an_info__compute(out, &info), 0);
	cr_assert_geq(info.kinds[TF_PKT_GC_CYCLE].events, 5);
	cr_assert_geq(info.kinds[TF_PKT_SCHED_TRACE].events, 5);
	an_info__release(&info);
	/* a command that does not exist: the shell's 127, no trace left */
	rc = sh(&err, "%s record --godebug -o %s/none.gst -- /nonexistent/prog", gscope, tmpdir);
	cr_assert_eq(rc, 127, "%s", err);
	free(err);
}
