// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <stdlib.h>

#include "base/gs_mem.h"

static long fail_at = -1; /* -1: not read yet, 0: off */
static long alloc_count;

static int alloc_should_fail(void)
{
	if (fail_at < 0) {
		const char *s = getenv("GSCOPE_FAIL_ALLOC_AT");

		fail_at = s ? strtol(s, NULL, 10) : 0;
		if (fail_at < 0)
			fail_at = 0;
	}
	return fail_at && ++alloc_count >= fail_at;
}

void gs_mem__fail_at(long n)
{
	fail_at = n > 0 ? n : 0;
	alloc_count = 0;
}

void *gs_malloc(size_t n)
{
	return alloc_should_fail() ? NULL : malloc(n ? n : 1);
}

void *gs_calloc(size_t nmemb, size_t size)
{
	return alloc_should_fail() ? NULL : calloc(nmemb ? nmemb : 1, size ? size : 1);
}

void *gs_realloc(void *p, size_t n)
{
	return alloc_should_fail() ? NULL : realloc(p, n ? n : 1);
}

void gs_free(void *p)
{
	free(p);
}

char *gs_strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = gs_malloc(n);

	if (d)
		memcpy(d, s, n);
	return d;
}

int gs_grow(void **data, size_t *cap, size_t elem_sz, size_t need, size_t max)
{
	size_t ncap;
	void *p;

	if (need <= *cap)
		return 0;
	if (need > max)
		return -E2BIG;
	ncap = *cap ? *cap : 16;
	while (ncap < need)
		ncap = ncap > max / 2 ? max : ncap * 2;
	if (ncap > max)
		ncap = max;
	if (ncap > SIZE_MAX / elem_sz)
		return -E2BIG;
	p = gs_realloc(*data, ncap * elem_sz);
	if (!p)
		return -ENOMEM;
	*data = p;
	*cap = ncap;
	return 0;
}

/* ------------------------------------------------------------ arena */

struct gs_arena_block {
	struct gs_arena_block *next;
	size_t size;
	size_t off;
	_Alignas(16) uint8_t mem[];
};

#define ARENA_MIN_BLOCK (64 * 1024)

void *gs_arena__alloc(struct gs_arena *a, size_t n)
{
	struct gs_arena_block *b = a->head;
	size_t sz;

	if (n > SIZE_MAX - 15 - sizeof(*b))
		return NULL; /* rounding up or the block header would overflow */
	n = (n + 15) & ~(size_t)15;
	if (n == 0)
		n = 16;
	if (!b || b->size - b->off < n) {
		sz = a->block_size ? a->block_size : ARENA_MIN_BLOCK;
		if (sz < n)
			sz = n;
		b = gs_malloc(sizeof(*b) + sz);
		if (!b)
			return NULL;
		b->size = sz;
		b->off = 0;
		b->next = a->head;
		a->head = b;
	}
	b->off += n;
	a->used += n;
	return b->mem + b->off - n;
}

char *gs_arena__strndup(struct gs_arena *a, const char *s, size_t n)
{
	char *d = gs_arena__alloc(a, n + 1);

	if (d) {
		if (n)
			memcpy(d, s, n);
		d[n] = 0;
	}
	return d;
}

void gs_arena__reset(struct gs_arena *a)
{
	struct gs_arena_block *b = a->head, *next;

	if (!b)
		return;
	/* keep the newest block: it is the one most likely to be large */
	for (next = b->next; next; next = b->next) {
		b->next = next->next;
		gs_free(next);
	}
	b->off = 0;
	a->used = 0;
}

void gs_arena__release(struct gs_arena *a)
{
	struct gs_arena_block *b = a->head, *next;

	for (; b; b = next) {
		next = b->next;
		gs_free(b);
	}
	a->head = NULL;
	a->used = 0;
}

/* ------------------------------------------------------------ buf */

int gs_buf__reserve(struct gs_buf *b, size_t n)
{
	void *p = b->data;
	int err;

	if (b->cap - b->len >= n)
		return 0;
	if (n > SIZE_MAX - b->len)
		return -E2BIG;
	err = gs_grow(&p, &b->cap, 1, b->len + n, SIZE_MAX / 2);
	b->data = p;
	return err;
}

int gs_buf__append(struct gs_buf *b, const void *p, size_t n)
{
	int err = gs_buf__reserve(b, n);

	if (err)
		return err;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

void gs_buf__release(struct gs_buf *b)
{
	gs_free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}
