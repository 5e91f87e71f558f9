/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Go fixture programs (fixtures/go/<program>/) for tests, tools and
 * benchmarks: find a Go toolchain by version, build a fixture with it into
 * a cache, run it.  No Criterion dependency; errors are logged through
 * gs_log (base/gs_err.h) and returned as negative codes:
 *
 *   -ENOENT     no such toolchain, fixture source or binary
 *   -EIO        `go build` failed (its output is in the log message and in
 *               build/gofix/<version>/<program>.log)
 *   -ETIMEDOUT  a child ran past its timeout (it is killed)
 *   -errno      fork/exec/file errors
 *
 * Paths are relative to the source root: $GSCOPE_ROOT when set, else the
 * current directory (tests run from the repository root).  Builds use
 * GOPATH and GOCACHE under build/gofix/cache, GOFLAGS="-trimpath
 * -buildvcs=false", GO111MODULE=off, GOTOOLCHAIN=local, GOPROXY=off,
 * GOENV=off, CGO_ENABLED=0 and no GOROOT from the caller, so they need no
 * network and no C compiler.  Concurrent builds of the same binary (tests
 * run in parallel processes) are serialised with a lock file and the
 * binary appears atomically (rename).
 */
#ifndef GS_TESTS_GOFIX_H
#define GS_TESTS_GOFIX_H

#include <stddef.h>
#include <sys/types.h>

/*
 * The go command for version "1.19", "1.21", "1.22", "1.23", ...: the
 * first of /usr/lib/go-<version>/bin/go, /usr/local/go/bin/go and every
 * `go` on $PATH whose `go version` reports go<version> (go1.19, go1.19.8,
 * not go1.190).  NULL when there is none.  The string is static (cached
 * per version; not thread-safe).
 */
const char *gofix_go(const char *version);

/* The full `go version` word of that toolchain ("go1.19.8"), or NULL. */
const char *gofix_go_release(const char *version);

/*
 * Build fixtures/go/<program> with Go <version> into
 * build/gofix/<version>/<program> (path into out, size bytes), unless that
 * binary is newer than every .go file of the program and the go command.
 * 0 or a negative code above.
 */
int gofix_build(const char *version, const char *program, char *out,
		size_t size);

struct gofix_opts {
	const char *stdout_path;  /* NULL: /dev/null */
	const char *stderr_path;  /* NULL: inherited */
	unsigned int timeout_ms;  /* 0: 120 s */
	const char *const *env;   /* extra "NAME=value" entries, NULL-ended; may be NULL */
};

/*
 * Run bin with args (NULL-ended, not including argv[0]; may be NULL) and
 * wait.  *status gets the exit code, or 128 + signal number.  0 or a
 * negative code above (a non-zero exit status is not an error).
 */
int gofix_run(const char *bin, const char *const *args,
	      const struct gofix_opts *o, int *status);

/*
 * Start `<bin> http -http 127.0.0.1:0 [extra args]` (the workload fixture's
 * server mode: net/http/pprof plus a busy background), wait up to 30 s for
 * its "listening on" line and put the base URL ("http://127.0.0.1:PORT")
 * into url.  *pid gets the child; stop it with gofix_stop().
 */
int gofix_http_start(const char *bin, const char *const *extra_args, char *url,
		     size_t size, pid_t *pid);

/* SIGTERM, then SIGKILL after 5 s; reaps the child.  0 or -errno. */
int gofix_stop(pid_t pid);

#endif
