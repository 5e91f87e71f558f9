/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Interning table: byte strings -> dense ids 1, 2, 3, ... in first-seen
 * order, and back.  Used for strings, frames, mappings and stack-trie nodes
 * (whose keys are their serialized fields).  Keys are copied into an arena.
 */
#ifndef GS_BASE_INTERN_H
#define GS_BASE_INTERN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/gs_mem.h"

struct gs_intern_slot;
struct gs_intern_entry;

struct gs_intern {
	struct gs_intern_slot *slots; /* open addressing, power of two */
	size_t nslots;
	struct gs_intern_entry *entries; /* by id - 1 */
	size_t n, cap;
	size_t max; /* most entries allowed; 0 = SIZE_MAX / 2 */
	struct gs_arena keys;
};

#define GS_INTERN_INIT { 0 }

uint64_t gs_hash(const void *key, size_t len);

/*
 * Look key up; add it when absent.  *id gets its id (>= 1); *added (may be
 * NULL) says whether it was new.  0, -ENOMEM or -E2BIG (over t->max).
 */
int gs_intern__get(struct gs_intern *t, const void *key, size_t len,
		   uint64_t *id, bool *added);

/* Id of key, or 0 when absent. */
uint64_t gs_intern__find(const struct gs_intern *t, const void *key, size_t len);

/* Key of id (borrowed; valid until clear/release), or NULL. */
const void *gs_intern__key(const struct gs_intern *t, uint64_t id, size_t *len);

static inline size_t gs_intern__count(const struct gs_intern *t) { return t->n; }

/* Forget every entry; ids restart at 1. */
void gs_intern__clear(struct gs_intern *t);
void gs_intern__release(struct gs_intern *t);

#endif
