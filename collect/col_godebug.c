// SPDX-License-Identifier: BSD-2-Clause
/*
 * Run a Go program under GODEBUG=schedtrace,gctrace and split its stderr:
 * runtime lines become packets, everything else is passed through.
 *
 * One thread, one poll loop over the stderr pipe, a signalfd (SIGINT,
 * SIGTERM to forward; SIGPIPE from a broken pass-through fd) and a pidfd
 * (or a 100 ms tick where pidfd_open is missing).  Once the child has been
 * reaped the pipe is drained without blocking: a grandchild that inherited
 * stderr cannot keep us waiting.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/gs_err.h"
#include "base/gs_mem.h"
#include "collect/col_godebug.h"
#include "format/tf_writer.h"
#include "runtime/rt_godebug.h"

extern char **environ;

#define GD_MAX_LINE (256u << 10) /* longer lines are streamed through */
#define GD_READ_SIZE (64u << 10)
#define GD_TICK_MS 100           /* child polling without a pidfd */

struct gd {
	const struct col_godebug_opts *o;
	struct tf_writer *w;
	struct col_godebug_stats st;
	pid_t pid;
	int pidfd;                /* -1 without pidfd_open */
	int werr;                 /* first writer error */
	bool out_broken;          /* pass-through fd failed */
	bool streaming;           /* the current line is being passed through */
	struct gs_buf line;       /* the incomplete current line */
	struct gs_buf out;        /* pass-through bytes of one read */
	bool pending;             /* scheddetail header waiting for its P lines */
	uint64_t pending_ts;
	struct rt_godebug_sched pend;
	struct rt_godebug_rec rec;
	char rbuf[GD_READ_SIZE];
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ------------------------------------------------------------ GODEBUG env */

/* Does the comma-separated GODEBUG list set key? */
static bool godebug_has(const char *list, const char *key)
{
	size_t kl = strlen(key);
	const char *p = list;

	while (*p) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		const char *eq = memchr(p, '=', n);
		size_t k = eq ? (size_t)(eq - p) : n;

		if (k == kl && !memcmp(p, key, kl))
			return true;
		if (!e)
			break;
		p = e + 1;
	}
	return false;
}

char *col_godebug__merge_env(const char *user, unsigned int schedtrace_ms)
{
	bool st, gt;
	size_t cap, len;
	char *s;

	if (!user)
		user = "";
	if (!schedtrace_ms)
		schedtrace_ms = 1000;
	st = godebug_has(user, "schedtrace");
	gt = godebug_has(user, "gctrace");
	cap = strlen(user) + 64;
	s = gs_malloc(cap);
	if (!s)
		return NULL;
	len = (size_t)snprintf(s, cap, "%s", user);
	if (!st)
		len += (size_t)snprintf(s + len, cap - len, "%sschedtrace=%u",
					len && s[len - 1] != ',' ? "," : "",
					schedtrace_ms);
	if (!gt)
		snprintf(s + len, cap - len, "%sgctrace=1",
			 len && s[len - 1] != ',' ? "," : "");
	return s;
}

/*
 * A copy of envp whose first GODEBUG entry (the one Go reads) is replaced
 * by the merged value, or which gets one.  Strings other than *godebug are
 * borrowed from envp; free the array and *godebug.
 */
static int build_env(char *const *envp, unsigned int ms, char ***out,
		     char **godebug)
{
	size_t n = 0, i, at, n_entry;
	char **env;
	char *merged, *entry;
	const char *user = NULL;

	while (envp[n])
		n++;
	for (at = 0; at < n; at++)
		if (!strncmp(envp[at], "GODEBUG=", 8)) {
			user = envp[at] + 8;
			break;
		}
	merged = col_godebug__merge_env(user, ms);
	env = gs_calloc(n + 2, sizeof(*env));
	n_entry = merged ? strlen(merged) + 9 : 0;
	entry = merged ? gs_malloc(n_entry) : NULL;
	if (!env || !entry) {
		gs_free(merged);
		gs_free(env);
		gs_free(entry);
		return gs_errf(-ENOMEM, "godebug: out of memory");
	}
	snprintf(entry, n_entry, "GODEBUG=%s", merged);
	gs_free(merged);
	for (i = 0; i < n; i++)
		env[i] = envp[i];
	env[at] = entry; /* at == n: appended */
	*out = env;
	*godebug = entry;
	return 0;
}

/* ------------------------------------------------------------- packets */

static void emit(struct gd *g, const Gscope__V1__Packet *pkt)
{
	int err;

	if (!g->w || g->werr)
		return;
	err = tf_writer__add_packet(g->w, pkt);
	if (err)
		g->werr = err;
}

static void emit_sched(struct gd *g, const struct rt_godebug_sched *s,
		       uint64_t ts)
{
	Gscope__V1__SchedTraceSample m = GSCOPE__V1__SCHED_TRACE_SAMPLE__INIT;
	Gscope__V1__Packet pkt = GSCOPE__V1__PACKET__INIT;

	m.has_pid = m.has_ts = m.has_uptime_ms = true;
	m.pid = (uint32_t)g->pid;
	m.ts = ts;
	m.uptime_ms = s->uptime_ms;
	m.has_gomaxprocs = m.has_idleprocs = m.has_threads = true;
	m.gomaxprocs = s->gomaxprocs;
	m.idleprocs = s->idleprocs;
	m.threads = s->threads;
	m.has_spinningthreads = m.has_idlethreads = m.has_runqueue = true;
	m.spinningthreads = s->spinningthreads;
	m.idlethreads = s->idlethreads;
	m.runqueue = s->runqueue;
	m.has_needspinning = true;
	m.needspinning = s->needspinning;
	/* scheddetail: only a complete set of P lines makes a list */
	if (s->nprocs && (!s->detail || s->nprocs == s->gomaxprocs)) {
		m.n_p_runqueue = s->nprocs;
		m.p_runqueue = (uint32_t *)s->p_runq;
	}
	pkt.data_case = GSCOPE__V1__PACKET__DATA_SCHED_TRACE;
	pkt.sched_trace = &m;
	emit(g, &pkt);
	g->st.sched_samples++;
}

static void emit_gc(struct gd *g, const struct rt_godebug_gc *c, uint64_t ts)
{
	Gscope__V1__GcCycle m = GSCOPE__V1__GC_CYCLE__INIT;
	Gscope__V1__Packet pkt = GSCOPE__V1__PACKET__INIT;

	m.has_pid = m.has_seq = m.has_end_ts = true;
	m.pid = (uint32_t)g->pid;
	m.seq = c->seq;
	m.end_ts = ts;
	m.has_wall_ts_ns = m.has_cpu_percent = true;
	m.wall_ts_ns = c->wall_ts_ns;
	m.cpu_percent = c->cpu_percent;
	m.has_stw_sweep_term_ns = m.has_mark_ns = m.has_stw_mark_term_ns = true;
	m.stw_sweep_term_ns = c->clock_sweep_term_ns;
	m.mark_ns = c->clock_mark_ns;
	m.stw_mark_term_ns = c->clock_mark_term_ns;
	m.has_cpu_sweep_term_ns = m.has_cpu_assist_ns = true;
	m.cpu_sweep_term_ns = c->cpu_sweep_term_ns;
	m.cpu_assist_ns = c->cpu_assist_ns;
	m.has_cpu_background_ns = m.has_cpu_idle_ns = true;
	m.cpu_background_ns = c->cpu_background_ns;
	m.cpu_idle_ns = c->cpu_idle_ns;
	m.has_cpu_mark_term_ns = true;
	m.cpu_mark_term_ns = c->cpu_mark_term_ns;
	m.has_heap_live_start = m.has_heap_live_end = m.has_heap_marked = true;
	m.heap_live_start = c->heap_live_start;
	m.heap_live_end = c->heap_live_end;
	m.heap_marked = c->heap_marked;
	m.has_heap_goal = true;
	m.heap_goal = c->heap_goal;
	if (c->has_stacks_globals) {
		m.has_stacks_bytes = m.has_globals_bytes = true;
		m.stacks_bytes = c->stacks_bytes;
		m.globals_bytes = c->globals_bytes;
	}
	m.has_gomaxprocs = m.has_forced = true;
	m.gomaxprocs = c->gomaxprocs;
	m.forced = c->forced;
	pkt.data_case = GSCOPE__V1__PACKET__DATA_GC_CYCLE;
	pkt.gc_cycle = &m;
	emit(g, &pkt);
	g->st.gc_cycles++;
}

static void flush_pending(struct gd *g)
{
	if (!g->pending)
		return;
	g->pending = false;
	emit_sched(g, &g->pend, g->pending_ts);
}

static void handle_rec(struct gd *g, uint64_t ts)
{
	const struct rt_godebug_rec *r = &g->rec;

	switch (r->kind) {
	case RT_GODEBUG_SCHED:
		flush_pending(g);
		if (!r->sched.detail) {
			emit_sched(g, &r->sched, ts);
			break;
		}
		/* the P lines that follow carry the run queues */
		memcpy(&g->pend, &r->sched,
		       offsetof(struct rt_godebug_sched, p_runq));
		g->pend.nprocs = 0;
		g->pending = true;
		g->pending_ts = ts;
		break;
	case RT_GODEBUG_GC:
		flush_pending(g);
		emit_gc(g, &r->gc, ts);
		break;
	case RT_GODEBUG_SCHED_P:
		g->st.detail_lines++;
		if (g->pending && r->p.id == g->pend.nprocs &&
		    g->pend.nprocs < RT_GODEBUG_MAX_P)
			g->pend.p_runq[g->pend.nprocs++] = r->p.runqsize;
		break;
	default:
		flush_pending(g);
		g->st.detail_lines++;
		break;
	}
}

/* --------------------------------------------------------- pass-through */

static void write_all(struct gd *g, const uint8_t *p, size_t len)
{
	int fd = g->o->passthrough_fd;
	size_t off = 0;

	while (off < len && !g->out_broken) {
		ssize_t n = write(fd, p + off, len - off);

		if (n > 0) {
			off += (size_t)n;
		} else if (n < 0 && errno == EAGAIN) {
			struct pollfd pf = { .fd = fd, .events = POLLOUT };

			poll(&pf, 1, -1);
		} else if (n < 0 && errno != EINTR) {
			g->out_broken = true;
			gs_log(GS_LOG_WARN,
			       "godebug: pass-through fd %d: %s; dropping output",
			       fd, strerror(errno));
		}
	}
}

static void flush_out(struct gd *g)
{
	write_all(g, g->out.data, g->out.len);
	g->out.len = 0;
}

/* Queue n bytes for the pass-through fd; flushed after every read. */
static void pass(struct gd *g, const void *p, size_t n)
{
	if (g->o->passthrough_fd < 0 || g->out_broken || !n)
		return;
	if (g->out.len + n > GD_READ_SIZE)
		flush_out(g);
	if (n > GD_READ_SIZE || gs_buf__append(&g->out, p, n)) {
		flush_out(g);
		write_all(g, p, n);
	}
}

/* A whole line (with its "\n", or the last one without). */
static void do_line(struct gd *g, const char *p, size_t n, uint64_t ts)
{
	int r = rt_godebug__parse_line(p, n, &g->rec);

	if (r > 0) {
		handle_rec(g, ts);
		return;
	}
	if (r < 0)
		g->st.malformed++;
	g->st.lines_passed++;
	pass(g, p, n);
}

/*
 * Pass the current line through as it arrives instead of holding it: the
 * buffered part, then the segment p (which may end the line).
 */
static void start_streaming(struct gd *g, const char *p, size_t n)
{
	const char *head = g->line.len ? (const char *)g->line.data : p;
	size_t hl = g->line.len ? g->line.len : n;

	/* a GODEBUG start we cannot hold (too long, no memory) */
	if (hl && rt_godebug__may_be_prefix(head, hl))
		g->st.malformed++;
	g->st.lines_passed++;
	pass(g, g->line.data, g->line.len);
	g->line.len = 0;
	pass(g, p, n);
	g->streaming = true;
}

/* Add a segment to the current line; false if it went to streaming. */
static bool stash(struct gd *g, const char *p, size_t n)
{
	if (g->line.len + n <= GD_MAX_LINE && !gs_buf__append(&g->line, p, n))
		return true;
	start_streaming(g, p, n);
	return false;
}

static void feed(struct gd *g, const char *p, size_t n, uint64_t ts)
{
	const char *end = p + n;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *seg_end = nl ? nl + 1 : end;
		size_t seg = (size_t)(seg_end - p);

		if (g->streaming) {
			pass(g, p, seg);
		} else if (nl && !g->line.len) {
			do_line(g, p, seg, ts);
		} else if (stash(g, p, seg)) {
			if (nl) {
				do_line(g, (const char *)g->line.data,
					g->line.len, ts);
				g->line.len = 0;
			} else if (!rt_godebug__may_be_prefix(
					   (const char *)g->line.data,
					   g->line.len)) {
				/* cannot be ours: do not hold it back */
				start_streaming(g, NULL, 0);
			}
		}
		if (nl)
			g->streaming = false;
		p = seg_end;
	}
}

/* End of stderr: the last line may lack its newline. */
static void feed_eof(struct gd *g)
{
	if (g->line.len && !g->streaming)
		do_line(g, (const char *)g->line.data, g->line.len, now_ns());
	g->line.len = 0;
	g->streaming = false;
	flush_pending(g);
	flush_out(g);
}

/* One read: bytes read, 0 at EOF, -EAGAIN or another negative errno. */
static ssize_t read_some(struct gd *g, int fd)
{
	ssize_t n;

	do
		n = read(fd, g->rbuf, sizeof(g->rbuf));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0) {
		feed_eof(g);
		return 0;
	}
	g->st.bytes += (uint64_t)n;
	feed(g, g->rbuf, (size_t)n, now_ns());
	flush_out(g);
	return n;
}

/* ---------------------------------------------------------------- run */

/* Signal the child; through its pidfd, the pid cannot have been reused. */
static void send_signal(struct gd *g, int sig)
{
#ifdef SYS_pidfd_send_signal
	if (g->pidfd >= 0 &&
	    (!syscall(SYS_pidfd_send_signal, g->pidfd, sig, NULL, 0) ||
	     errno != ENOSYS))
		return;
#endif
	kill(g->pid, sig);
}

static void forward_signals(struct gd *g, int sfd, bool reaped)
{
	struct signalfd_siginfo si;

	while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo != SIGINT && si.ssi_signo != SIGTERM)
			continue; /* SIGPIPE: flush_out saw EPIPE */
		/* a terminal's ^C reached the whole foreground group already */
		if (reaped || si.ssi_code == SI_KERNEL)
			continue;
		gs_log(GS_LOG_INFO, "godebug: forwarding signal %u to pid %d",
		       si.ssi_signo, (int)g->pid);
		send_signal(g, (int)si.ssi_signo);
	}
}

static int spawn_child(const struct col_godebug_opts *o, char **env, int wfd,
		       const sigset_t *mask, pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	int err;

	err = posix_spawn_file_actions_init(&fa);
	if (err)
		return -err;
	err = posix_spawnattr_init(&at);
	if (err) {
		posix_spawn_file_actions_destroy(&fa);
		return -err;
	}
	err = posix_spawn_file_actions_adddup2(&fa, wfd, STDERR_FILENO);
	if (!err)
		err = posix_spawnattr_setsigmask(&at, mask);
	if (!err)
		err = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK);
	if (!err)
		err = posix_spawnp(pid, o->argv[0], &fa, &at, o->argv, env);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	return -err;
}

static int open_pidfd(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	return -1;
#endif
}

static int wait_status(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 255;
}

/*
 * The poll loop: returns 0 once the child is reaped, with *status.  On an
 * error *reaped says whether the child is gone (-ECHILD: someone else
 * reaped it, e.g. SIGCHLD is ignored).
 */
static int supervise(struct gd *g, int rfd, int sfd, int *status,
		     bool *reaped_out)
{
	int pidfd = g->pidfd;
	bool eof = false, reaped = false;

	while (!eof || !reaped) {
		struct pollfd pf[3];
		int n = 0, ipipe = -1, ipid = -1, r;

		pf[n] = (struct pollfd){ .fd = sfd, .events = POLLIN };
		n++;
		if (!eof) {
			pf[n] = (struct pollfd){ .fd = rfd, .events = POLLIN };
			ipipe = n++;
		}
		if (!reaped && pidfd >= 0) {
			pf[n] = (struct pollfd){ .fd = pidfd, .events = POLLIN };
			ipid = n++;
		}
		r = poll(pf, (nfds_t)n,
			 !reaped && pidfd < 0 ? GD_TICK_MS : -1);
		if (r < 0 && errno != EINTR)
			return gs_errf(-errno, "godebug: poll: %s",
				       strerror(errno));
		if (r < 0)
			continue;
		if (pf[0].revents)
			forward_signals(g, sfd, reaped);
		if (ipipe >= 0 && pf[ipipe].revents) {
			ssize_t k = read_some(g, rfd);

			if (k == 0)
				eof = true;
			else if (k < 0 && k != -EAGAIN)
				return gs_errf((int)k, "godebug: read: %s",
					       strerror((int)-k));
		}
		if (!reaped && (pidfd < 0 || pf[ipid].revents)) {
			pid_t w = waitpid(g->pid, status, WNOHANG);

			if (w == g->pid) {
				reaped = true;
			} else if (w < 0 && errno != EINTR) {
				*reaped_out = errno == ECHILD;
				return gs_errf(-errno, "godebug: waitpid %d: %s",
					       (int)g->pid, strerror(errno));
			}
		}
		if (reaped && !eof) {
			/*
			 * Everything the child wrote is in the pipe now;
			 * stop at EAGAIN in case a descendant keeps it open.
			 */
			while (read_some(g, rfd) > 0)
				;
			feed_eof(g);
			eof = true;
		}
	}
	*reaped_out = true;
	return 0;
}

int col_godebug__run(const struct col_godebug_opts *o, struct tf_writer *w,
		     int *exit_status)
{
	char *const *envp = o->envp ? o->envp : environ;
	sigset_t set, old;
	int fds[2] = { -1, -1 }, sfd = -1, status = 0, err;
	char **env = NULL, *godebug = NULL;
	bool reaped = false;
	struct gd *g;

	*exit_status = 127;
	if (!o->argv || !o->argv[0])
		return gs_errf(-GS_E_USAGE, "godebug: no command to run");
	g = gs_calloc(1, sizeof(*g));
	if (!g)
		return gs_errf(-ENOMEM, "godebug: out of memory");
	g->o = o;
	g->w = w;
	g->pidfd = -1;
	err = build_env(envp, o->schedtrace_ms, &env, &godebug);
	if (err)
		goto out_free;
	if (pipe2(fds, O_CLOEXEC)) {
		err = gs_errf(-errno, "godebug: pipe: %s", strerror(errno));
		goto out_free;
	}
	fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd < 0) {
		err = gs_errf(-errno, "godebug: signalfd: %s", strerror(errno));
		goto out_mask;
	}
	gs_log(GS_LOG_DEBUG, "godebug: running %s with %s", o->argv[0],
	       godebug);
	err = spawn_child(o, env, fds[1], &old, &g->pid);
	close(fds[1]);
	fds[1] = -1;
	if (err) {
		*exit_status = err == -ENOENT ? 127 : 126;
		gs_errf(err, "godebug: cannot run '%s': %s", o->argv[0],
			strerror(-err));
		goto out_mask;
	}
	g->pidfd = open_pidfd(g->pid);

	err = supervise(g, fds[0], sfd, &status, &reaped);
	if (err && !reaped) {
		/* the machinery failed: do not leave the child behind */
		send_signal(g, SIGKILL);
		while (waitpid(g->pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	if (err != -ECHILD)
		*exit_status = wait_status(status);
	if (!err && g->werr)
		err = g->werr;
	if (g->pidfd >= 0)
		close(g->pidfd);

out_mask:
	if (sfd >= 0) {
		/* consume what arrived late (and SIGPIPE) before unblocking */
		forward_signals(g, sfd, true);
		close(sfd);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
out_free:
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	if (o->stats)
		*o->stats = g->st;
	gs_buf__release(&g->line);
	gs_buf__release(&g->out);
	gs_free(env);
	gs_free(godebug);
	gs_free(g);
	return err;
}
