// SPDX-License-Identifier: BSD-2-Clause
/*
 * Go fixture helpers: toolchain lookup, cached builds, running children.
 * Children are started with fork + execve; everything they need (argv, env,
 * file descriptors) is prepared before fork, so the child only calls
 * async-signal-safe functions.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/gs_err.h"
#include "base/gs_mem.h"
#include "tests/lib/gofix.h"

extern char **environ;

#define BUILD_TIMEOUT_MS (10 * 60 * 1000)
#define RUN_TIMEOUT_MS (120 * 1000)
#define VERSION_TIMEOUT_MS (30 * 1000)
#define MAX_ARGS 64
#define MAX_ENV 512

static const char *root(void)
{
	const char *r = getenv("GSCOPE_ROOT");

	return r && *r ? r : ".";
}

static int pathf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* snprintf for paths: -ENAMETOOLONG instead of a truncated path. */
static int pathf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------ environment */

static bool env_named(const char *entry, const char *name)
{
	size_t n = strlen(name);

	return !strncmp(entry, name, n) && entry[n] == '=';
}

/* "NAME=value" -> does list (NULL-ended) set NAME? */
static bool env_overridden(const char *entry, const char *const *list)
{
	const char *eq = strchr(entry, '=');
	size_t n = eq ? (size_t)(eq - entry) : strlen(entry);

	for (; list && *list; list++)
		if (!strncmp(*list, entry, n) && (*list)[n] == '=')
			return true;
	return false;
}

/*
 * environ without the names in drop (NULL-ended) and without what add
 * sets, then add.  The strings are borrowed; free only the array.
 */
static char **make_env(const char *const *drop, const char *const *add)
{
	char **env = gs_calloc(MAX_ENV + 1, sizeof(*env));
	size_t n = 0;

	if (!env)
		return NULL;
	for (char **e = environ; e && *e && n < MAX_ENV - 32; e++) {
		bool skip = env_overridden(*e, add);

		for (const char *const *d = drop; d && *d && !skip; d++)
			skip = env_named(*e, *d);
		if (!skip)
			env[n++] = *e;
	}
	for (; add && *add && n < MAX_ENV; add++)
		env[n++] = (char *)*add;
	env[n] = NULL;
	return env;
}

/* ------------------------------------------------------------ children */

/*
 * Start path with argv and envp; stdout to out_fd, stderr to err_fd (-1:
 * inherit), in directory cwd (NULL: ours).
 */
static int spawn(const char *path, char *const argv[], char *const envp[],
		 const char *cwd, int out_fd, int err_fd, pid_t *pid)
{
	pid_t p = fork();

	if (p < 0)
		return gs_errf(-errno, "gofix: fork: %s", strerror(errno));
	if (p == 0) {
		int null_fd = open("/dev/null", O_RDONLY);

		if (null_fd >= 0)
			dup2(null_fd, 0);
		if (cwd && chdir(cwd) != 0)
			_exit(126);
		if (out_fd >= 0)
			dup2(out_fd, 1);
		if (err_fd >= 0)
			dup2(err_fd, 2);
		execve(path, argv, envp);
		_exit(127);
	}
	*pid = p;
	return 0;
}

/* Wait for pid up to timeout_ms; kill it on timeout. */
static int wait_child(pid_t pid, unsigned int timeout_ms, const char *what,
		      int *status)
{
	long long deadline = now_ms() + timeout_ms;
	int st;

	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid)
			break;
		if (r < 0 && errno != EINTR)
			return gs_errf(-errno, "gofix: waitpid %s: %s", what, strerror(errno));
		if (now_ms() > deadline) {
			kill(pid, SIGKILL);
			while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
				;
			return gs_errf(-ETIMEDOUT, "gofix: %s: killed after %u ms", what,
				       timeout_ms);
		}
		usleep(2000);
	}
	if (WIFEXITED(st))
		*status = WEXITSTATUS(st);
	else if (WIFSIGNALED(st))
		*status = 128 + WTERMSIG(st);
	else
		*status = 255;
	return 0;
}

/* Read up to size - 1 bytes from fd until EOF or the deadline; NUL-ends. */
static size_t read_until(int fd, char *buf, size_t size, long long deadline,
			 const char *stop)
{
	size_t n = 0;

	buf[0] = 0;
	while (n + 1 < size) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		long long left = deadline - now_ms();
		ssize_t k;

		if (left <= 0)
			break;
		if (poll(&pfd, 1, (int)(left > 1000 ? 1000 : left)) <= 0)
			continue;
		k = read(fd, buf + n, size - 1 - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		n += (size_t)k;
		buf[n] = 0;
		if (stop && strstr(buf, stop) && strchr(strstr(buf, stop), '\n'))
			break;
	}
	return n;
}

/* ------------------------------------------------------------ toolchains */

struct go_entry {
	char version[16];
	bool looked;
	char path[PATH_MAX];
	char release[32];
};

static struct go_entry go_cache[8];

/* Does `go version` of path say go<version>?  The release into rel. */
static bool go_is(const char *path, const char *version, char *rel, size_t size)
{
	static const char *const add[] = { "GOTOOLCHAIN=local", "GOENV=off", NULL };
	static const char *const drop[] = { "GOROOT", NULL };
	char *argv[] = { (char *)path, (char *)"version", NULL };
	char out[256], want[32], *w;
	char **env;
	int fds[2], status = -1;
	pid_t pid;
	size_t n;
	bool ok = false;

	if (access(path, X_OK) != 0)
		return false;
	env = make_env(drop, add);
	if (!env)
		return false;
	if (pipe2(fds, O_CLOEXEC) != 0) {
		gs_free(env);
		return false;
	}
	if (spawn(path, argv, env, NULL, fds[1], -1, &pid) != 0) {
		close(fds[0]);
		close(fds[1]);
		gs_free(env);
		return false;
	}
	close(fds[1]);
	read_until(fds[0], out, sizeof(out), now_ms() + VERSION_TIMEOUT_MS, NULL);
	close(fds[0]);
	gs_free(env);
	if (wait_child(pid, VERSION_TIMEOUT_MS, "go version", &status) || status)
		return false;
	/* "go version go1.19.8 linux/amd64" */
	snprintf(want, sizeof(want), "go version go%s", version);
	n = strlen(want);
	if (strncmp(out, want, n) == 0 && !(out[n] >= '0' && out[n] <= '9')) {
		ok = true;
		w = out + strlen("go version ");
		n = strcspn(w, " \n");
		snprintf(rel, size, "%.*s", (int)n, w);
	}
	return ok;
}

/* "1.19", "1.23", "1.19.8": digits, one or two dots, no more than 15 bytes */
static bool valid_version(const char *v)
{
	int dots = 0;
	bool digit = false;

	if (!v || !*v || strlen(v) >= sizeof(go_cache[0].version))
		return false;
	for (; *v; v++) {
		if (*v >= '0' && *v <= '9') {
			digit = true;
		} else if (*v == '.' && digit) {
			dots++;
			digit = false;
		} else {
			return false;
		}
	}
	return digit && dots >= 1 && dots <= 2;
}

static struct go_entry *go_lookup(const char *version)
{
	struct go_entry *e = NULL;
	char cand[PATH_MAX];
	const char *path;

	if (!valid_version(version))
		return NULL;
	for (size_t i = 0; i < sizeof(go_cache) / sizeof(go_cache[0]); i++) {
		if (go_cache[i].looked && !strcmp(go_cache[i].version, version))
			return go_cache[i].path[0] ? &go_cache[i] : NULL;
		if (!e && !go_cache[i].looked)
			e = &go_cache[i];
	}
	if (!e)
		e = &go_cache[0]; /* full: forget the first */
	memset(e, 0, sizeof(*e));
	snprintf(e->version, sizeof(e->version), "%s", version);
	e->looked = true;

	if (!pathf(cand, sizeof(cand), "/usr/lib/go-%s/bin/go", version) &&
	    go_is(cand, version, e->release, sizeof(e->release)))
		goto found;
	snprintf(cand, sizeof(cand), "/usr/local/go/bin/go");
	if (go_is(cand, version, e->release, sizeof(e->release)))
		goto found;
	path = getenv("PATH");
	while (path && *path) {
		size_t n = strcspn(path, ":");

		if (n && n < sizeof(cand) - 4) {
			if (!pathf(cand, sizeof(cand), "%.*s/go", (int)n, path) &&
			    go_is(cand, version, e->release, sizeof(e->release)))
				goto found;
		}
		path += n + (path[n] == ':');
	}
	return NULL;
found:
	if (!realpath(cand, e->path))
		snprintf(e->path, sizeof(e->path), "%s", cand);
	return e;
}

const char *gofix_go(const char *version)
{
	struct go_entry *e = go_lookup(version);

	return e ? e->path : NULL;
}

const char *gofix_go_release(const char *version)
{
	struct go_entry *e = go_lookup(version);

	return e ? e->release : NULL;
}

/* ------------------------------------------------------------ builds */

static int mkdirs(const char *path)
{
	char tmp[PATH_MAX];

	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static bool ts_after(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec > b->tv_sec ||
	       (a->tv_sec == b->tv_sec && a->tv_nsec > b->tv_nsec);
}

/* Newest mtime of dir's *.go files into *newest; -ENOENT when none. */
static int newest_source(const char *dir, struct timespec *newest)
{
	char path[PATH_MAX];
	struct dirent *de;
	struct stat st;
	int found = 0;
	DIR *d = opendir(dir);

	if (!d)
		return -errno;
	memset(newest, 0, sizeof(*newest));
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);

		if (n < 4 || strcmp(de->d_name + n - 3, ".go"))
			continue;
		if (pathf(path, sizeof(path), "%s/%s", dir, de->d_name) ||
		    stat(path, &st) != 0)
			continue;
		found = 1;
		if (ts_after(&st.st_mtim, newest))
			*newest = st.st_mtim;
	}
	closedir(d);
	return found ? 0 : -ENOENT;
}

/* Is bin at least as new as src_newest and the go command? */
static bool fresh(const char *bin, const struct timespec *src_newest,
		  const char *go)
{
	struct stat st, gst;

	if (stat(bin, &st) != 0 || !S_ISREG(st.st_mode))
		return false;
	if (ts_after(src_newest, &st.st_mtim))
		return false;
	if (stat(go, &gst) == 0 && ts_after(&gst.st_mtim, &st.st_mtim))
		return false;
	return true;
}

/* First bytes of a build log, on one line, for the error message. */
static void log_head(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	size_t n = 0;

	buf[0] = 0;
	if (!f)
		return;
	n = fread(buf, 1, size - 1, f);
	buf[n] = 0;
	fclose(f);
	for (char *p = buf; *p; p++)
		if (*p == '\n' || *p == '\t')
			*p = ' ';
}

static int do_build(const char *go, const char *version, const char *srcdir,
		    const char *abs_out, const char *logpath, const char *cache)
{
	char gopath[PATH_MAX + 16], gocache[PATH_MAX + 16], tmp[PATH_MAX + 32];
	char head[400];
	static const char *const drop[] = {
		"GOROOT", "GOBIN", "GOOS", "GOARCH", "GOEXPERIMENT", "GOMODCACHE",
		"GOWORK", "GOFLAGS", "GOPATH", "GOCACHE", "GO111MODULE",
		"GOTOOLCHAIN", "GOPROXY", "GOENV", "CGO_ENABLED", NULL
	};
	const char *add[] = {
		gopath, gocache, "GOFLAGS=-trimpath -buildvcs=false",
		"GO111MODULE=off", "GOTOOLCHAIN=local", "GOPROXY=off", "GOENV=off",
		"CGO_ENABLED=0", NULL
	};
	char *argv[] = { (char *)go, (char *)"build", (char *)"-o", tmp, (char *)".", NULL };
	char **env;
	int log_fd, err, status = -1;
	pid_t pid;

	if (pathf(gopath, sizeof(gopath), "GOPATH=%s/gopath", cache) ||
	    pathf(gocache, sizeof(gocache), "GOCACHE=%s/gocache", cache) ||
	    pathf(tmp, sizeof(tmp), "%s.tmp.%ld", abs_out, (long)getpid()))
		return gs_errf(-ENAMETOOLONG, "gofix: %s: path too long", abs_out);
	log_fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (log_fd < 0)
		return gs_errf(-errno, "gofix: %s: %s", logpath, strerror(errno));
	env = make_env(drop, add);
	if (!env) {
		close(log_fd);
		return -ENOMEM;
	}
	err = spawn(go, argv, env, srcdir, log_fd, log_fd, &pid);
	close(log_fd);
	gs_free(env);
	if (!err)
		err = wait_child(pid, BUILD_TIMEOUT_MS, "go build", &status);
	if (!err && status != 0) {
		log_head(logpath, head, sizeof(head));
		err = gs_errf(-EIO, "gofix: go%s build of %s failed (status %d): %s",
			      version, srcdir, status, head);
	}
	if (!err && rename(tmp, abs_out) != 0)
		err = gs_errf(-errno, "gofix: rename %s: %s", tmp, strerror(errno));
	if (err)
		unlink(tmp);
	return err;
}

int gofix_build(const char *version, const char *program, char *out,
		size_t size)
{
	char srcdir[PATH_MAX], outdir[PATH_MAX], cache[PATH_MAX], abs[PATH_MAX];
	char abs_cache[PATH_MAX];
	char bin[PATH_MAX + 64], lock[PATH_MAX + 64], logpath[PATH_MAX + 64];
	struct timespec newest;
	const char *go;
	int err, lock_fd;

	if (!program || !*program || strchr(program, '/') || !version ||
	    strchr(version, '/'))
		return gs_errf(-EINVAL, "gofix: bad program or version");
	go = gofix_go(version);
	if (!go)
		return gs_errf(-ENOENT, "gofix: no Go %s toolchain", version);
	if (pathf(srcdir, sizeof(srcdir), "%s/fixtures/go/%s", root(), program) ||
	    pathf(outdir, sizeof(outdir), "%s/build/gofix/%s", root(), version) ||
	    pathf(cache, sizeof(cache), "%s/build/gofix/cache", root()))
		return gs_errf(-ENAMETOOLONG, "gofix: %s: path too long", root());
	err = newest_source(srcdir, &newest);
	if (err)
		return gs_errf(err, "gofix: %s: no Go source: %s", srcdir, strerror(-err));
	err = mkdirs(outdir);
	if (!err)
		err = mkdirs(cache);
	if (err)
		return gs_errf(err, "gofix: mkdir %s: %s", outdir, strerror(-err));
	if (!realpath(outdir, abs) || !realpath(cache, abs_cache))
		return gs_errf(-errno, "gofix: realpath %s: %s", outdir, strerror(errno));
	if (pathf(bin, sizeof(bin), "%s/%s", abs, program) ||
	    pathf(lock, sizeof(lock), "%s/%s.lock", abs, program) ||
	    pathf(logpath, sizeof(logpath), "%s/%s.log", abs, program) ||
	    pathf(out, size, "%s", bin))
		return gs_errf(-ENAMETOOLONG, "gofix: %s/%s: path too long", abs, program);

	lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (lock_fd < 0)
		return gs_errf(-errno, "gofix: %s: %s", lock, strerror(errno));
	while (flock(lock_fd, LOCK_EX) != 0) {
		if (errno != EINTR) {
			err = gs_errf(-errno, "gofix: flock %s: %s", lock, strerror(errno));
			goto out;
		}
	}
	if (!fresh(bin, &newest, go))
		err = do_build(go, version, srcdir, bin, logpath, abs_cache);
out:
	close(lock_fd); /* releases the lock */
	return err;
}

/* ------------------------------------------------------------ running */

static int build_argv(const char *bin, const char *first, const char *const *args,
		      char **argv)
{
	size_t n = 0;

	argv[n++] = (char *)bin;
	if (first)
		argv[n++] = (char *)first;
	for (; args && *args; args++) {
		if (n >= MAX_ARGS)
			return gs_errf(-E2BIG, "gofix: more than %d arguments", MAX_ARGS);
		argv[n++] = (char *)*args;
	}
	argv[n] = NULL;
	return 0;
}

int gofix_run(const char *bin, const char *const *args,
	      const struct gofix_opts *o, int *status)
{
	static const struct gofix_opts dflt;
	char *argv[MAX_ARGS + 2];
	char **env = NULL;
	int out_fd = -1, err_fd = -1, err;
	pid_t pid;

	if (!o)
		o = &dflt;
	*status = -1;
	if (access(bin, X_OK) != 0)
		return gs_errf(-errno, "gofix: %s: %s", bin, strerror(errno));
	err = build_argv(bin, NULL, args, argv);
	if (err)
		return err;
	out_fd = open(o->stdout_path ? o->stdout_path : "/dev/null",
		      O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out_fd < 0) {
		err = gs_errf(-errno, "gofix: %s: %s", o->stdout_path, strerror(errno));
		goto out;
	}
	if (o->stderr_path) {
		err_fd = open(o->stderr_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			      0644);
		if (err_fd < 0) {
			err = gs_errf(-errno, "gofix: %s: %s", o->stderr_path,
				      strerror(errno));
			goto out;
		}
	}
	env = make_env(NULL, o->env);
	if (!env) {
		err = -ENOMEM;
		goto out;
	}
	err = spawn(bin, argv, env, NULL, out_fd, err_fd, &pid);
	if (!err)
		err = wait_child(pid, o->timeout_ms ? o->timeout_ms : RUN_TIMEOUT_MS,
				 bin, status);
out:
	gs_free(env);
	if (out_fd >= 0)
		close(out_fd);
	if (err_fd >= 0)
		close(err_fd);
	return err;
}

int gofix_http_start(const char *bin, const char *const *extra_args, char *url,
		     size_t size, pid_t *pid)
{
	const char *args[MAX_ARGS + 1] = { "-http", "127.0.0.1:0" };
	char *argv[MAX_ARGS + 2];
	char line[512], *u;
	size_t n = 2;
	char **env;
	int fds[2], err;

	for (; extra_args && *extra_args && n < MAX_ARGS; extra_args++)
		args[n++] = *extra_args;
	args[n] = NULL;
	err = build_argv(bin, "http", args, argv);
	if (err)
		return err;
	if (pipe2(fds, O_CLOEXEC) != 0)
		return gs_errf(-errno, "gofix: pipe: %s", strerror(errno));
	env = make_env(NULL, NULL);
	if (!env) {
		close(fds[0]);
		close(fds[1]);
		return -ENOMEM;
	}
	err = spawn(bin, argv, env, NULL, fds[1], -1, pid);
	gs_free(env);
	close(fds[1]);
	if (err) {
		close(fds[0]);
		return err;
	}
	read_until(fds[0], line, sizeof(line), now_ms() + 30000, "listening on ");
	close(fds[0]);
	u = strstr(line, "listening on ");
	if (!u || !strchr(u, '\n')) {
		gofix_stop(*pid);
		return gs_errf(-ETIMEDOUT, "gofix: %s http: no \"listening on\" line: '%s'",
			       bin, line);
	}
	u += strlen("listening on ");
	u[strcspn(u, "\r\n")] = 0;
	if ((size_t)snprintf(url, size, "%s", u) >= size) {
		gofix_stop(*pid);
		return gs_errf(-ENAMETOOLONG, "gofix: url too long");
	}
	return 0;
}

int gofix_stop(pid_t pid)
{
	int status, err;

	if (pid <= 0)
		return -EINVAL;
	if (kill(pid, SIGTERM) != 0 && errno != ESRCH)
		return -errno;
	err = wait_child(pid, 5000, "stop", &status);
	if (err == -ETIMEDOUT)
		return 0; /* wait_child killed and reaped it */
	return err;
}
