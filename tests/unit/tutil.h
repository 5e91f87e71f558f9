/* SPDX-License-Identifier: BSD-2-Clause */
/* Helpers shared by the Criterion unit tests (they assert on failure). */
#ifndef GS_TESTS_TUTIL_H
#define GS_TESTS_TUTIL_H

#include <stddef.h>
#include <stdint.h>

/* splitmix64: deterministic, seeded by s */
struct rng {
	uint64_t s;
};

uint64_t rnd(struct rng *r);
/* uniform in [0, n); 0 when n == 0 */
uint64_t below(struct rng *r, uint64_t n);

/* Whole file into a malloc()ed buffer. */
uint8_t *slurp(const char *path, size_t *len);
/* Write len bytes to path (truncating). */
void spew(const char *path, const void *p, size_t len);

/* Create a fresh directory /tmp/gscope-<tag>-XXXXXX into buf. */
void tmpdir_make(char *buf, size_t size, const char *tag);
/* Remove dir and everything below it (no-op for ""). */
void tmpdir_remove(const char *dir);

#endif
