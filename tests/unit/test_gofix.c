// SPDX-License-Identifier: BSD-2-Clause
/*
 * tests/lib/gofix and the Go workload fixture (fixtures/go/workload): find
 * toolchains, build the workload with Go 1.19 and Go 1.23 (skipped, with a
 * printed reason, when a toolchain is missing), run its commands with small
 * sizes and check the trace headers, the facts each command prints, the
 * annotation names in the traces, the size of the `big` trace, and the
 * net/http/pprof server mode.  Decoder-level checks of these traces live
 * with the decoders.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "tests/unit/tutil.h"
#include "base/gs_err.h"
#include "tests/lib/gofix.h"

static char tmpdir[64];
static bool expect_errors; /* do not print the errors a test provokes */

static void capture_log(enum gs_log_level level, const char *msg)
{
	log_capture(level, msg);
	if (level == GS_LOG_ERR && !expect_errors)
		fprintf(stderr, "test_gofix: %s\n", msg);
}

static void setup(void)
{
	tmpdir_make(tmpdir, sizeof(tmpdir), "gofix");
	gs_log__set_fn(capture_log);
}

static void teardown(void)
{
	tmpdir_remove(tmpdir);
	gs_log__set_fn(NULL);
}

TestSuite(gofix, .init = setup, .fini = teardown, .timeout = 600);

/* ------------------------------------------------------------ helpers */

/* Build the workload with Go version, or skip the test (printed reason). */
static void workload(const char *version, char *bin, size_t size)
{
	struct timespec t0, t1;
	int err;

	if (!gofix_go(version)) {
		fprintf(stderr, "test_gofix: skipped: no Go %s toolchain "
			"(/usr/lib/go-%s/bin/go or go%s on PATH)\n", version, version,
			version);
		cr_skip_test("no Go %s toolchain", version);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	err = gofix_build(version, "workload", bin, size);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cr_assert_eq(err, 0, "build with Go %s: %s (%s)", version, gs_strerror(err),
		     last_msg);
	cr_log_info("workload built with %s in %.1f s", gofix_go_release(version),
		    (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
}

/* The last line of a file (static buffer). */
static const char *last_line(const char *path)
{
	static char line[1024];
	char buf[1024];
	FILE *f = fopen(path, "r");

	line[0] = 0;
	cr_assert_not_null(f, "%s", path);
	while (fgets(buf, sizeof(buf), f))
		snprintf(line, sizeof(line), "%s", buf);
	fclose(f);
	line[strcspn(line, "\n")] = 0;
	return line;
}

/*
 * Run `workload <args...> -o <tmp>/<name>.trace`, expect exit 0 and the
 * stdout line want; return the trace bytes.
 */
static uint8_t *run_workload(const char *bin, const char *name,
			     const char *const *args, const char *want,
			     size_t *len)
{
	char trace[128], out[128];
	const char *argv[32];
	struct gofix_opts o = { 0 };
	size_t n = 0;
	int status, err;

	snprintf(trace, sizeof(trace), "%s/%s.trace", tmpdir, name);
	snprintf(out, sizeof(out), "%s/%s.out", tmpdir, name);
	for (; *args; args++)
		argv[n++] = *args;
	argv[n++] = "-o";
	argv[n++] = trace;
	argv[n] = NULL;
	o.stdout_path = out;
	o.timeout_ms = 120000;
	err = gofix_run(bin, argv, &o, &status);
	cr_assert_eq(err, 0, "%s: %s", name, gs_strerror(err));
	cr_assert_eq(status, 0, "%s: exit status %d", name, status);
	cr_assert_str_eq(last_line(out), want);
	return slurp(trace, len);
}

static void expect_header(const uint8_t *p, size_t len, const char *version)
{
	char want[16] = { 0 };

	snprintf(want, sizeof(want), "go %s trace", version);
	cr_assert_geq(len, 16);
	cr_assert(!memcmp(p, want, 16), "header '%.16s', want '%s' + NULs", p, want);
}

static size_t count(const uint8_t *p, size_t len, const char *s)
{
	size_t n = 0, k = strlen(s);
	const uint8_t *q = p, *end = p + len;

	while ((q = memmem(q, (size_t)(end - q), s, k))) {
		n++;
		q += k;
	}
	return n;
}

/* ------------------------------------------------------------ toolchains */

Test(gofix, toolchain_lookup)
{
	static const char *const versions[] = { "1.19", "1.21", "1.22", "1.23" };

	for (size_t i = 0; i < 4; i++) {
		const char *go = gofix_go(versions[i]);
		char want[16];

		if (!go) {
			fprintf(stderr, "test_gofix: no Go %s toolchain\n", versions[i]);
			continue;
		}
		snprintf(want, sizeof(want), "go%s", versions[i]);
		cr_assert(!strncmp(gofix_go_release(versions[i]), want, strlen(want)),
			  "%s: %s", go, gofix_go_release(versions[i]));
		cr_assert_eq(gofix_go(versions[i]), go); /* cached */
	}
	cr_assert_null(gofix_go("1.99"));
	cr_assert_null(gofix_go("1.1")); /* not a prefix match of 1.19 */
	cr_assert_null(gofix_go("1"));
	cr_assert_null(gofix_go(""));
	cr_assert_null(gofix_go(NULL));
	cr_assert_null(gofix_go("../1.19"));
}

/* ------------------------------------------------------------ workload traces */

static void spawn_and_annot(const char *version)
{
	static const char *const spawn[] = { "spawn", "-waves", "2", "-n", "50",
					     "-procs", "2", NULL };
	static const char *const annot[] = { "annot", "-procs", "2", NULL };
	char bin[4096];
	uint8_t *p;
	size_t len;

	workload(version, bin, sizeof(bin));
	p = run_workload(bin, "spawn", spawn,
			 "workload spawn: ok waves=2 n=50 created=100", &len);
	expect_header(p, len, version);
	free(p);

	p = run_workload(bin, "annot", annot,
			 "workload annot: ok tasks=5 subtasks=5 inner_regions=15 logs=11",
			 &len);
	expect_header(p, len, version);
	/* names are interned once; log values are inline, one per task */
	cr_assert_gt(count(p, len, "annot.task"), 0);
	cr_assert_gt(count(p, len, "annot.subtask"), 0);
	cr_assert_gt(count(p, len, "annot.inner"), 0);
	cr_assert_gt(count(p, len, "annot.background"), 0);
	cr_assert_eq(count(p, len, "annot.nocat"), 1);
	cr_assert_eq(count(p, len, "value-"), 5);
	cr_assert_eq(count(p, len, "hello"), 5);
	free(p);
}

Test(gofix, spawn_and_annot_go119)
{
	spawn_and_annot("1.19");
}

Test(gofix, spawn_and_annot_go123)
{
	spawn_and_annot("1.23");
}

/* Every command runs to completion with small sizes and prints its facts. */
static void all_commands(const char *version)
{
	static const struct {
		const char *name;
		const char *args[16];
		const char *want;
	} cmds[] = {
		{ "pingpong", { "pingpong", "-pairs", "2", "-rounds", "100", NULL },
		  "workload pingpong: ok pairs=2 rounds=100 goroutines=4 sends=400" },
		{ "mutex", { "mutex", "-workers", "4", "-iters", "10", "-waiters", "3",
			     "-broadcasts", "5", NULL },
		  "workload mutex: ok workers=4 iters=10 counter=40 writes=20 waiters=3 "
		  "broadcasts=5 cond_waits=15" },
		{ "syscall", { "syscall", "-sleeps", "5", "-getpids", "7", "-files", "2",
			       "-conns", "2", "-msgs", "3", NULL },
		  "workload syscall: ok sleeps=5 getpids=7 fsyncs=2 round_trips=6" },
		{ "gc", { "gc", "-workers", "2", "-rounds", "3", "-lists", "2",
			  "-nodes", "1000", NULL },
		  "workload gc: ok workers=2 forced_gcs=3 gcpercent=-1 lists=12 "
		  "goroutines=6" },
		{ "mixed", { "mixed", NULL }, "workload mixed: ok scale=1" },
	};
	char bin[4096];

	workload(version, bin, sizeof(bin));
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		uint8_t *p;
		size_t len;

		p = run_workload(bin, cmds[i].name, cmds[i].args, cmds[i].want, &len);
		expect_header(p, len, version);
		free(p);
	}
}

Test(gofix, all_commands_go119)
{
	all_commands("1.19");
}

Test(gofix, all_commands_go123)
{
	all_commands("1.23");
}

/* `big` writes at least 20 MB (used by the benchmarks). */
Test(gofix, big_trace_size)
{
	struct timespec t0, t1;
	char bin[4096], path[128];
	struct stat st;
	int status;
	const char *argv[] = { "big", "-procs", "2", "-o", path, NULL };

	workload("1.19", bin, sizeof(bin));
	snprintf(path, sizeof(path), "%s/big.trace", tmpdir);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_eq(gofix_run(bin, argv, NULL, &status), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cr_assert_eq(status, 0);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_geq(st.st_size, 20 << 20, "%lld bytes", (long long)st.st_size);
	cr_log_info("big (Go 1.19): %lld bytes in %.1f s", (long long)st.st_size,
		    (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
}

/* ------------------------------------------------------------ builds and runs */

Test(gofix, build_is_cached)
{
	char bin[4096], bin2[4096];
	struct stat a, b;

	workload("1.19", bin, sizeof(bin));
	cr_assert_eq(stat(bin, &a), 0);
	cr_assert_eq(gofix_build("1.19", "workload", bin2, sizeof(bin2)), 0);
	cr_assert_str_eq(bin, bin2);
	cr_assert_eq(stat(bin2, &b), 0);
	cr_assert(a.st_mtim.tv_sec == b.st_mtim.tv_sec &&
		  a.st_mtim.tv_nsec == b.st_mtim.tv_nsec && a.st_ino == b.st_ino,
		  "rebuilt although nothing changed");
	cr_assert(strstr(bin, "/build/gofix/1.19/workload"), "%s", bin);
}

Test(gofix, errors)
{
	const char *sh_exit[] = { "-c", "exit 3", NULL };
	const char *sh_env[] = { "-c", "test \"$GOFIX_T\" = bar", NULL };
	const char *sleep5[] = { "5", NULL };
	const char *env[] = { "GOFIX_T=bar", NULL };
	struct gofix_opts o = { 0 };
	char bin[256];
	int status;

	expect_errors = true;
	cr_assert_eq(gofix_build("9.99", "workload", bin, sizeof(bin)), -ENOENT);
	cr_assert_str_eq(last_msg, "gofix: no Go 9.99 toolchain");
	if (gofix_go("1.19")) {
		cr_assert_eq(gofix_build("1.19", "no-such-fixture", bin, sizeof(bin)),
			     -ENOENT);
		cr_assert_eq(gofix_build("1.19", "workload", bin, 8), -ENAMETOOLONG);
	}
	cr_assert_eq(gofix_build("1.19", "../x", bin, sizeof(bin)), -EINVAL);
	cr_assert_eq(gofix_run("/nonexistent/bin", NULL, NULL, &status), -ENOENT);

	cr_assert_eq(gofix_run("/bin/sh", sh_exit, NULL, &status), 0);
	cr_assert_eq(status, 3);
	o.env = env;
	cr_assert_eq(gofix_run("/bin/sh", sh_env, &o, &status), 0);
	cr_assert_eq(status, 0);
	cr_assert_eq(gofix_run("/bin/sh", sh_env, NULL, &status), 0);
	cr_assert_eq(status, 1);
	o.timeout_ms = 100;
	cr_assert_eq(gofix_run("/bin/sleep", sleep5, &o, &status), -ETIMEDOUT);
}

/* The usage errors of the workload program itself. */
Test(gofix, workload_usage)
{
	const char *none[] = { NULL };
	const char *bad[] = { "nope", NULL };
	const char *no_o[] = { "spawn", NULL };
	char bin[4096];
	int status;

	struct gofix_opts o = { 0 };
	char err_path[128];
	uint8_t *p;
	size_t len;

	workload("1.19", bin, sizeof(bin));
	snprintf(err_path, sizeof(err_path), "%s/stderr", tmpdir);
	o.stderr_path = err_path;
	cr_assert_eq(gofix_run(bin, none, &o, &status), 0);
	cr_assert_eq(status, 2);
	cr_assert_eq(gofix_run(bin, bad, &o, &status), 0);
	cr_assert_eq(status, 2);
	p = slurp(err_path, &len);
	cr_assert(memmem(p, len, "workload: unknown command \"nope\"", 32));
	free(p);
	cr_assert_eq(gofix_run(bin, no_o, &o, &status), 0);
	cr_assert_eq(status, 1);
	cr_assert_str_eq(last_line(err_path), "workload spawn: -o FILE is required");
}

/* ------------------------------------------------------------ http mode */

/* GET path from a "http://127.0.0.1:PORT" server; the whole response. */
static uint8_t *http_get(const char *url, const char *path, size_t *len)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	char req[256];
	uint8_t *buf = NULL;
	size_t cap = 0, n = 0;
	unsigned int port;
	int fd;

	cr_assert_eq(sscanf(url, "http://127.0.0.1:%u", &port), 1, "%s", url);
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(fd, 0);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "%s",
		     strerror(errno));
	snprintf(req, sizeof(req),
		 "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", path);
	cr_assert_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	for (;;) {
		ssize_t k;

		if (n == cap) {
			cap = cap ? 2 * cap : 1 << 20;
			buf = realloc(buf, cap);
			cr_assert_not_null(buf);
		}
		k = read(fd, buf + n, cap - n);
		if (k < 0 && errno == EINTR)
			continue;
		cr_assert_geq(k, 0, "%s", strerror(errno));
		if (k == 0)
			break;
		n += (size_t)k;
	}
	close(fd);
	*len = n;
	return buf;
}

Test(gofix, http_pprof_trace_go123)
{
	char bin[4096], url[128];
	const char *extra[] = { "-procs", "2", NULL };
	uint8_t *resp, *body;
	size_t len;
	pid_t pid;
	int err;

	workload("1.23", bin, sizeof(bin));
	err = gofix_http_start(bin, extra, url, sizeof(url), &pid);
	cr_assert_eq(err, 0, "%s", last_msg);
	cr_assert(!strncmp(url, "http://127.0.0.1:", 17), "%s", url);

	resp = http_get(url, "/healthz", &len);
	cr_assert(len > 12 && !memcmp(resp, "HTTP/1.0 200", 12), "%.*s", (int)len, resp);
	free(resp);

	resp = http_get(url, "/debug/pprof/trace?seconds=1", &len);
	cr_assert(len > 12 && !memcmp(resp, "HTTP/1.0 200", 12), "%.40s", resp);
	body = memmem(resp, len, "\r\n\r\n", 4);
	cr_assert_not_null(body);
	body += 4;
	expect_header(body, len - (size_t)(body - resp), "1.23");
	cr_assert_gt(len - (size_t)(body - resp), 10000);
	cr_log_info("1 s of /debug/pprof/trace: %zu bytes", len - (size_t)(body - resp));
	free(resp);
	cr_assert_eq(gofix_stop(pid), 0);
}
