// SPDX-License-Identifier: BSD-2-Clause
#include <string.h>

#include "base/gs_mem.h"
#include "base/gs_u64map.h"

static inline size_t slot_of(uint64_t key, size_t cap)
{
	key ^= key >> 33;
	key *= 0xff51afd7ed558ccdull;
	key ^= key >> 33;
	return (size_t)key & (cap - 1);
}

uint64_t *gs_u64map__get(const struct gs_u64map *m, uint64_t key)
{
	if (!m->cap)
		return NULL;
	for (size_t i = slot_of(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
		struct gs_u64map_slot *s = &m->slots[i];

		if (!s->used)
			return NULL;
		if (s->key == key)
			return &s->val;
	}
}

static int grow(struct gs_u64map *m)
{
	size_t ncap = m->cap ? m->cap * 2 : 64;
	struct gs_u64map_slot *ns = gs_calloc(ncap, sizeof(*ns));

	if (!ns)
		return -1;
	for (size_t i = 0; i < m->cap; i++) {
		size_t j;

		if (!m->slots[i].used)
			continue;
		for (j = slot_of(m->slots[i].key, ncap); ns[j].used;
		     j = (j + 1) & (ncap - 1))
			;
		ns[j] = m->slots[i];
	}
	gs_free(m->slots);
	m->slots = ns;
	m->cap = ncap;
	return 0;
}

uint64_t *gs_u64map__put(struct gs_u64map *m, uint64_t key, uint64_t val,
			 bool *added)
{
	size_t i;

	if ((m->n + 1) * 4 > m->cap * 3 && grow(m))
		return NULL;
	for (i = slot_of(key, m->cap); m->slots[i].used; i = (i + 1) & (m->cap - 1)) {
		if (m->slots[i].key == key) {
			if (added)
				*added = false;
			return &m->slots[i].val;
		}
	}
	m->slots[i] = (struct gs_u64map_slot){ key, val, true };
	m->n++;
	if (added)
		*added = true;
	return &m->slots[i].val;
}

bool gs_u64map__del(struct gs_u64map *m, uint64_t key)
{
	size_t i, j, mask = m->cap - 1;

	if (!m->cap)
		return false;
	for (i = slot_of(key, m->cap);; i = (i + 1) & mask) {
		if (!m->slots[i].used)
			return false;
		if (m->slots[i].key == key)
			break;
	}
	/* shift back the entries of the probe run that follows */
	for (j = (i + 1) & mask; m->slots[j].used; j = (j + 1) & mask) {
		size_t home = slot_of(m->slots[j].key, m->cap);

		/* move j into the hole at i unless its home lies in (i, j] */
		if ((j > i && (home <= i || home > j)) ||
		    (j < i && (home <= i && home > j))) {
			m->slots[i] = m->slots[j];
			i = j;
		}
	}
	m->slots[i].used = false;
	m->n--;
	return true;
}

void gs_u64map__release(struct gs_u64map *m)
{
	gs_free(m->slots);
	memset(m, 0, sizeof(*m));
}
