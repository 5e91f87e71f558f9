/* SPDX-License-Identifier: BSD-2-Clause */
/* Helpers shared by the Criterion unit tests (they assert on failure). */
#ifndef GS_TESTS_TUTIL_H
#define GS_TESTS_TUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "base/gs_err.h"

/* cr_assert_fail() with a message, when cond does not hold */
#define REQ(cond, ...)                          \
	do {                                    \
		if (!(cond))                    \
			cr_assert_fail(__VA_ARGS__); \
	} while (0)

typedef unsigned long long ull;

/*
 * Library log sinks for gs_log__set_fn(): the last message (of any level,
 * or errors only) in last_msg, and the number of messages in n_msgs.
 */
extern char last_msg[1024];
extern int n_msgs;
void log_capture(enum gs_log_level level, const char *msg);
void log_capture_errors(enum gs_log_level level, const char *msg);

/* splitmix64: deterministic, seeded by s */
struct rng {
	uint64_t s;
};

uint64_t rnd(struct rng *r);
/* uniform in [0, n); 0 when n == 0 */
uint64_t below(struct rng *r, uint64_t n);

/* Whole file into a malloc()ed buffer, NUL-terminated; *len (if len)
 * gets its size. */
uint8_t *slurp(const char *path, size_t *len);
/* Write len bytes to path (truncating). */
void spew(const char *path, const void *p, size_t len);

/* Create a fresh directory /tmp/gscope-<tag>-XXXXXX into buf. */
void tmpdir_make(char *buf, size_t size, const char *tag);
/* Remove dir and everything below it, read-only parts too (no-op for ""). */
void tmpdir_remove(const char *dir);

#endif
