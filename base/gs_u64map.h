/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Map from 64-bit keys to 64-bit values: open addressing with linear
 * probing and backward-shift deletion (no tombstones), so a table whose
 * entries come and go (live goroutines) stays as small as its live set.
 */
#ifndef GS_BASE_U64MAP_H
#define GS_BASE_U64MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gs_u64map_slot {
	uint64_t key;
	uint64_t val;
	bool used;
};

struct gs_u64map {
	struct gs_u64map_slot *slots;
	size_t n, cap; /* cap is a power of two or 0 */
};

#define GS_U64MAP_INIT { NULL, 0, 0 }

/* Pointer to the value of key, or NULL. */
uint64_t *gs_u64map__get(const struct gs_u64map *m, uint64_t key);

/* Pointer to the value of key, inserting val when absent; NULL on ENOMEM. */
uint64_t *gs_u64map__put(struct gs_u64map *m, uint64_t key, uint64_t val,
			 bool *added);

/* Remove key; returns whether it was there. */
bool gs_u64map__del(struct gs_u64map *m, uint64_t key);

void gs_u64map__release(struct gs_u64map *m);

#endif
