// SPDX-License-Identifier: BSD-2-Clause
#include <criterion/criterion.h>
#include <stdio.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "tests/unit/tutil.h"

char last_msg[1024];
int n_msgs;

void log_capture(enum gs_log_level level, const char *msg)
{
	snprintf(last_msg, sizeof(last_msg), "%s", msg);
	n_msgs++;
}

void log_capture_errors(enum gs_log_level level, const char *msg)
{
	if (level == GS_LOG_ERR)
		log_capture(level, msg);
}

uint64_t rnd(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint64_t below(struct rng *r, uint64_t n)
{
	return n ? rnd(r) % n : 0;
}

uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	cr_assert_not_null(f, "%s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	cr_assert_not_null(buf);
	cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = 0;
	fclose(f);
	if (len)
		*len = (size_t)n;
	return buf;
}

void spew(const char *path, const void *p, size_t len)
{
	FILE *f = fopen(path, "wb");

	cr_assert_not_null(f, "%s", path);
	cr_assert_eq(fwrite(p, 1, len, f), len);
	cr_assert_eq(fclose(f), 0);
}

void tmpdir_make(char *buf, size_t size, const char *tag)
{
	snprintf(buf, size, "/tmp/gscope-%s-XXXXXX", tag);
	cr_assert_not_null(mkdtemp(buf), "%s", buf);
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	chmod(path, 0700); /* a Go module cache is read-only */
	return remove(path);
}

void tmpdir_remove(const char *dir)
{
	if (dir[0])
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}
