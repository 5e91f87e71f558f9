// SPDX-License-Identifier: BSD-2-Clause
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "cli/progress.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void cli_progress__start(struct cli_progress *p, const char *what)
{
	p->what = what;
	p->start_ns = p->last_ns = now_ns();
	p->printed = false;
	p->tty = isatty(STDERR_FILENO);
}

static void line(struct cli_progress *p, uint64_t count, const char *unit,
		 uint64_t now, bool last)
{
	fprintf(stderr, "%sgscope: %s: %llu %s, %.1f s%s", p->tty ? "\r" : "",
		p->what, (unsigned long long)count, unit,
		(double)(now - p->start_ns) / 1e9,
		last ? ", done\n" : p->tty ? "  " : "\n");
	fflush(stderr);
}

void cli_progress__update(struct cli_progress *p, uint64_t count, const char *unit)
{
	uint64_t now = now_ns();

	if (now - p->last_ns < 1000000000u)
		return;
	p->last_ns = now;
	p->printed = true;
	line(p, count, unit, now, false);
}

void cli_progress__done(struct cli_progress *p, uint64_t count, const char *unit)
{
	if (p->printed)
		line(p, count, unit, now_ns(), true);
}
