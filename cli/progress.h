/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Progress on stderr for work that takes over a second: nothing is printed
 * before the first second; then one line per second (rewritten in place on
 * a terminal), and a final line when something was printed.
 */
#ifndef CLI_PROGRESS_H
#define CLI_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

struct cli_progress {
	const char *what;     /* "importing x.trace" */
	uint64_t start_ns, last_ns;
	bool printed, tty;
};

void cli_progress__start(struct cli_progress *p, const char *what);
/* Report count items done so far (cheap when called often). */
void cli_progress__update(struct cli_progress *p, uint64_t count, const char *unit);
void cli_progress__done(struct cli_progress *p, uint64_t count, const char *unit);

#endif
