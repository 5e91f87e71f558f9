// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <string.h>

#include "base/gs_intern.h"

struct gs_intern_slot {
	uint64_t hash;
	uint64_t id; /* 0 = empty */
};

struct gs_intern_entry {
	const void *key;
	size_t len;
};

static inline uint64_t mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

static inline uint64_t rotl(uint64_t x, unsigned int r)
{
	return x << r | x >> (64 - r);
}

/* One word into a lane: multiply, rotate, multiply (as xxHash's rounds). */
static inline uint64_t lane(uint64_t acc, uint64_t v)
{
	return rotl(acc + v * 0xc2b2ae3d27d4eb4full, 31) * 0x9e3779b185ebca87ull;
}

uint64_t gs_hash(const void *key, size_t len)
{
	const uint8_t *p = key;
	uint64_t h = 0x9e3779b97f4a7c15ull ^ len;

	/* long keys (log messages, paths): four independent lanes */
	if (len >= 32) {
		uint64_t a = h, b = ~h, c = h + 0x27d4eb2f165667c5ull, d = h - 1;

		do {
			uint64_t v[4];

			memcpy(v, p, 32);
			a = lane(a, v[0]);
			b = lane(b, v[1]);
			c = lane(c, v[2]);
			d = lane(d, v[3]);
			p += 32;
			len -= 32;
		} while (len >= 32);
		h = mix(a) ^ rotl(mix(b), 17) ^ rotl(mix(c), 31) ^ rotl(mix(d), 47);
	}
	while (len >= 8) {
		uint64_t v;

		memcpy(&v, p, 8);
		h = (h ^ mix(v)) * 0x100000001b3ull;
		p += 8;
		len -= 8;
	}
	if (len) {
		uint64_t v = 0;

		memcpy(&v, p, len);
		h = (h ^ mix(v)) * 0x100000001b3ull;
	}
	return mix(h);
}

static int rehash(struct gs_intern *t, size_t nslots)
{
	struct gs_intern_slot *s = gs_calloc(nslots, sizeof(*s));

	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < t->nslots; i++) {
		size_t j;

		if (!t->slots[i].id)
			continue;
		for (j = t->slots[i].hash & (nslots - 1); s[j].id;
		     j = (j + 1) & (nslots - 1))
			;
		s[j] = t->slots[i];
	}
	gs_free(t->slots);
	t->slots = s;
	t->nslots = nslots;
	return 0;
}

static size_t probe(const struct gs_intern *t, uint64_t h, const void *key,
		    size_t len)
{
	size_t j = h & (t->nslots - 1);

	for (;; j = (j + 1) & (t->nslots - 1)) {
		const struct gs_intern_slot *s = &t->slots[j];
		const struct gs_intern_entry *e;

		if (!s->id)
			return j;
		if (s->hash != h)
			continue;
		e = &t->entries[s->id - 1];
		if (e->len == len && !memcmp(e->key, key, len))
			return j;
	}
}

uint64_t gs_intern__find(const struct gs_intern *t, const void *key, size_t len)
{
	if (!t->nslots)
		return 0;
	return t->slots[probe(t, gs_hash(key, len), key, len)].id;
}

int gs_intern__get(struct gs_intern *t, const void *key, size_t len,
		   uint64_t *id, bool *added)
{
	size_t max = t->max ? t->max : SIZE_MAX / 2;
	uint64_t h = gs_hash(key, len);
	void *ents = t->entries;
	void *copy;
	size_t j;
	int err;

	if (t->nslots) {
		j = probe(t, h, key, len);
		if (t->slots[j].id) {
			*id = t->slots[j].id;
			if (added)
				*added = false;
			return 0;
		}
	}
	if (t->n >= max)
		return -E2BIG;
	if ((t->n + 1) * 2 > t->nslots) {
		err = rehash(t, t->nslots ? t->nslots * 2 : 64);
		if (err)
			return err;
	}
	err = gs_grow(&ents, &t->cap, sizeof(*t->entries), t->n + 1, max);
	t->entries = ents;
	if (err)
		return err;
	copy = gs_arena__alloc(&t->keys, len);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, key, len);
	t->entries[t->n].key = copy;
	t->entries[t->n].len = len;
	t->n++;
	j = probe(t, h, key, len);
	t->slots[j].hash = h;
	t->slots[j].id = t->n;
	*id = t->n;
	if (added)
		*added = true;
	return 0;
}

const void *gs_intern__key(const struct gs_intern *t, uint64_t id, size_t *len)
{
	if (id == 0 || id > t->n)
		return NULL;
	*len = t->entries[id - 1].len;
	return t->entries[id - 1].key;
}

void gs_intern__clear(struct gs_intern *t)
{
	if (t->slots)
		memset(t->slots, 0, t->nslots * sizeof(*t->slots));
	t->n = 0;
	gs_arena__reset(&t->keys);
}

void gs_intern__release(struct gs_intern *t)
{
	gs_free(t->slots);
	gs_free(t->entries);
	gs_arena__release(&t->keys);
	memset(t, 0, sizeof(*t));
}
