/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Memory helpers: allocation seams, a bump arena and a growable byte buffer.
 *
 * All gscope allocations go through gs_malloc()/gs_realloc()/gs_calloc() so
 * that tests can fail the Nth one: with GSCOPE_FAIL_ALLOC_AT=N in the
 * environment (read once, on first use), the Nth call and every later one
 * fail.
 */
#ifndef GS_BASE_MEM_H
#define GS_BASE_MEM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Fail allocation number n (counting from now) and all later ones; 0 = off. */
void gs_mem__fail_at(long n);

void *gs_malloc(size_t n);
void *gs_calloc(size_t nmemb, size_t size);
void *gs_realloc(void *p, size_t n);
void gs_free(void *p);
char *gs_strdup(const char *s);

/*
 * Grow *data (an array of elem_sz-byte elements with capacity *cap) so that
 * it holds at least need elements, at most max.  Returns 0 or -ENOMEM /
 * -E2BIG.  New memory is not cleared.
 */
int gs_grow(void **data, size_t *cap, size_t elem_sz, size_t need, size_t max);

/*
 * Bump arena: many small allocations, one release.  Memory is 16-byte
 * aligned.  gs_arena__reset() keeps the first block for reuse.
 */
struct gs_arena_block;
struct gs_arena {
	struct gs_arena_block *head;
	size_t block_size;
	size_t used; /* bytes handed out since the last reset */
};

#define GS_ARENA_INIT { NULL, 0, 0 }

void *gs_arena__alloc(struct gs_arena *a, size_t n);
char *gs_arena__strndup(struct gs_arena *a, const char *s, size_t n);
void gs_arena__reset(struct gs_arena *a);
void gs_arena__release(struct gs_arena *a);

/* Growable byte buffer. */
struct gs_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
};

#define GS_BUF_INIT { NULL, 0, 0 }

/* Make room for n more bytes; returns 0 or -ENOMEM. */
int gs_buf__reserve(struct gs_buf *b, size_t n);
int gs_buf__append(struct gs_buf *b, const void *p, size_t n);
void gs_buf__release(struct gs_buf *b);

#endif
